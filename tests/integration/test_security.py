"""Issue 12: the deployment modes fail closed.  Each test attacks the
runner from inside the sandbox (or starts it the way a careless
deployment would) and checks the attack fails."""
import errno
import os
import shutil
import signal
import subprocess
import sys
import time
import unittest

from harness import RUNNER, RUNNERCTL, Runner
import rproto as rp
from pidtools import WrappedRunner, have_probes, run_main, scratch, wait_file

NON_ROOT = ["setpriv", "--reuid", "1000", "--regid", "1000", "--clear-groups",
            "--inh-caps=-all", "--bounding-set=-all"]
NO_SETID = ["setpriv", "--bounding-set=-setuid,-setgid", "--inh-caps=-all"]

UNSHARE = ["unshare", "--fork", "--pid", "--mount-proc", "--kill-child"]


def start(args, timeout=30):
    """Run the runner (PID 1 of fresh namespaces) to its end."""
    d = scratch()
    return subprocess.run(UNSHARE + [RUNNER, "--listen", "unix:" + os.path.join(d, "s")]
                          + list(args), capture_output=True, timeout=timeout,
                          stdin=subprocess.DEVNULL, cwd=d)


class TestNoUserNoRoot(unittest.TestCase):
    """Item 1: a root start without --user and without a `sandbox` user
    ran sandboxed code as uid 0, which could rewrite /sbin/runner."""

    def setUp(self):
        with open("/etc/passwd") as f:
            if any(l.startswith("sandbox:") for l in f):
                self.skipTest("SKIP: this host has a 'sandbox' user")

    def test_root_start_without_user_refuses(self):
        p = start(["--", "/bin/sh", "-c", "id -u > /dev/stderr"])
        self.assertEqual(p.returncode, 2, p.stderr)
        lines = p.stderr.decode().strip().splitlines()
        self.assertEqual(len(lines), 1, lines)
        self.assertIn("--user", lines[0])
        self.assertIn("--user root", lines[0])
        self.assertNotIn("0\n", p.stderr.decode().split(lines[0])[0])

    def test_root_by_name_warns_in_log_and_info(self):
        for spec in ("root", "0:0"):
            with Runner(user=spec) as r:
                info = r.client().call(rp.INFO)
                self.assertEqual(info.fields.int("UID"), 0)
                steps = [s.decode() for s in info.fields.all("HARDENING")]
                user = [s for s in steps if s.startswith("user=")][0]
                self.assertIn("WARNING", user)
                self.assertIn("root", user)
                self.assertIn("sandboxed code runs as root", r.logtext())

    def test_sandbox_cannot_replace_the_runner_binary(self):
        # The attack of item 1: sandboxed code rewrote the root-owned
        # binary that `docker exec ... runner attach` runs next as root.
        d = scratch()
        target = os.path.join(d, "runner")
        shutil.copy(RUNNER, target)
        os.chmod(target, 0o755)
        script = "echo 'echo pwned' > %s; echo rc=$?" % target
        p = run_main(["/bin/sh", "-c", script], args=["--user", "65534:65534"])
        self.assertIn(b"rc=", p.stdout, p.stderr[-2000:])
        self.assertNotIn(b"rc=0", p.stdout)
        with open(target, "rb") as f:
            self.assertEqual(f.read(4), b"\x7fELF")



def steps_of(info):
    return dict(s.decode().split("=", 1) for s in info.fields.all("HARDENING"))


def sh(c, cmd, timeout=60):
    """EXEC in the default session: (exit status, output bytes)."""
    res = c.call(rp.EXEC, [("COMMAND", cmd)], timeout=timeout)
    assert res.ok, res
    return res.fields.int("EXIT_STATUS"), res.fields.bytes("OUTPUT")


# A wrapper that installs a seccomp filter refusing seccomp() and
# prctl(PR_SET_SECCOMP) with EINVAL, then execs its arguments: a kernel
# that will not take the runner's filter.
NO_FILTER = r"""
import ctypes, os, struct, sys
libc = ctypes.CDLL(None, use_errno=True)
def ins(code, jt, jf, k): return struct.pack("HBBI", code, jt, jf, k)
LD, JEQ, RET = 0x20, 0x15, 0x06
ERR = 0x00050000 | 22
prog = b"".join([
    ins(LD, 0, 0, 0),           # nr
    ins(JEQ, 0, 1, 317), ins(RET, 0, 0, ERR),
    ins(JEQ, 0, 3, 157),        # prctl
    ins(LD, 0, 0, 16),          # arg0 (low)
    ins(JEQ, 0, 1, 22), ins(RET, 0, 0, ERR),
    ins(RET, 0, 0, 0x7fff0000),
])
buf = ctypes.create_string_buffer(prog)
fprog = struct.pack("HxxxxxxQ", len(prog) // 8, ctypes.addressof(buf))
fp = ctypes.create_string_buffer(fprog)
u = ctypes.c_ulong
assert libc.prctl(38, u(1), u(0), u(0), u(0)) == 0
assert libc.prctl(22, u(2), u(ctypes.addressof(fp)), u(0), u(0)) == 0, ctypes.get_errno()
os.execvp(sys.argv[1], sys.argv[1:])
"""


class TestExplicitStepsFailClosed(unittest.TestCase):
    """Item 2: a hardening step asked for by flag that cannot be applied
    was skipped, and the runner served (as uid 0)."""

    def assertRefuses(self, p, what):
        self.assertEqual(p.returncode, 1, p.stderr[-2000:])
        self.assertIn(b"not starting", p.stderr)
        self.assertIn(what, p.stderr)
        self.assertNotIn(b" ready (pid", p.stderr)
        self.assertNotIn(b"main command", p.stderr)

    def test_user_without_setuid_capability(self):
        # Root without CAP_SETUID/CAP_SETGID (k8s drop ALL, root pod).
        p = run_main(["/bin/sh", "-c", "id -u >&2"], wrap=NO_SETID,
                     args=["--user", "65534:65534"])
        self.assertRefuses(p, b"--user 65534:65534")

    def test_user_from_a_non_root_start(self):
        p = run_main(["/bin/true"], wrap=NON_ROOT, args=["--user", "65534:65534"])
        self.assertRefuses(p, b"--user")

    def test_keep_caps_not_held(self):
        p = run_main(["/bin/true"], wrap=NON_ROOT, args=["--keep-caps", "cap_sys_admin"])
        self.assertRefuses(p, b"--keep-caps")
        p = run_main(["/bin/true"], args=["--keep-caps", "cap_no_such_thing"])
        self.assertRefuses(p, b"--keep-caps")

    def test_explicit_seccomp_that_cannot_load(self):
        wrap = [sys.executable, "-c", NO_FILTER]
        for mode in ("default", "strict"):
            p = run_main(["/bin/true"], wrap=wrap,
                         args=["--user", "65534:65534", "--seccomp", mode])
            self.assertRefuses(p, b"--seccomp")

    def test_default_seccomp_degrades_and_says_so(self):
        wrap = [sys.executable, "-c", NO_FILTER]
        r = WrappedRunner(wrap, args=["--user", "65534:65534"])
        try:
            steps = steps_of(r.client().call(rp.INFO))
            self.assertTrue(steps["seccomp"].startswith("skipped"), steps)
            self.assertIn("seccomp", steps["degraded"].split(","))
        finally:
            r.stop()
            r.__exit__(None, None, None)

    def test_nothing_degraded_in_the_safe_mode(self):
        with Runner(user="65534:65534") as r:
            steps = steps_of(r.client().call(rp.INFO))
            self.assertNotIn("degraded", steps)


# Reads /proc/1/mem and /proc/1/environ (of the runner when it is PID 1,
# else of $RPID) from inside: what a sandbox process can learn of the
# token in the runner's memory.
PEEK = r"""
import os, sys
pid = int(sys.argv[1])
for name in ("environ", "mem"):
    try:
        with open("/proc/%d/%s" % (pid, name), "rb") as f:
            f.seek(0x400000 if name == "mem" else 0)
            f.read(16)
        print(name, "readable")
    except OSError as e:
        print(name, "errno", e.errno)
"""

TOKEN = b"T0ken-0123456789-abcdef"


class TestNotDumpable(unittest.TestCase):
    """Item 4: the runner was dumpable when its uid did not change, and
    sandbox code of the same uid read the token from /proc/1/mem."""

    def check(self, r, pid_expr):
        c = r.client(token=TOKEN)
        st, out = sh(c, "python3 -c '%s' %s" % (PEEK.replace("'", "'\\''"), pid_expr))
        self.assertEqual(st, 0, out)
        self.assertIn(b"environ errno %d" % errno.EACCES, out)
        self.assertIn(b"mem errno %d" % errno.EACCES, out)
        # From the host: a non-dumpable process's /proc entries are root's.
        st = os.stat("/proc/%d/environ" % r.pid())
        self.assertEqual(st.st_uid, 0)
        c.close()

    def token_file(self):
        d = scratch()
        path = os.path.join(d, "tok")
        with open(path, "wb") as f:
            f.write(TOKEN)
        os.chmod(path, 0o644)
        return path

    def test_same_uid_start_as_pid1(self):
        # docker run --user 1000: runner and sandbox are both uid 1000.
        r = WrappedRunner(NON_ROOT, args=["--token-file", self.token_file()])
        try:
            self.check(r, "1")
        finally:
            r.stop()
            r.__exit__(None, None, None)

    def test_root_start_as_root(self):
        with Runner(user="root", args=["--token-file", self.token_file()]) as r:
            c = r.client(token=TOKEN)
            # Root in the sandbox keeps no CAP_SYS_PTRACE: still refused.
            st, out = sh(c, "python3 -c '%s' 1" % PEEK.replace("'", "'\\''"))
            self.assertIn(b"mem errno %d" % errno.EACCES, out)
            self.assertIn(b"environ errno %d" % errno.EACCES, out)

    def test_helpers_are_not_dumpable_and_hold_no_caps(self):
        # A walk runs in a forked helper: GREP a file whose matches
        # outrun the window and the pipe, so the helper blocks in write
        # while this client reads nothing; look at it from the host.
        # The runner holds a capability of its own here (kept: as a VM's
        # runner holds CAP_SYS_BOOT); its helper must hold none.
        with Runner(user="65534:65534", args=["--keep-caps", "cap_sys_admin"]) as r:
            # HELLO first: the runner answers only once it is hardened (its
            # socket exists before; under ASan the status was read there)
            c = r.client()
            with open("/proc/%d/status" % r.pid()) as f:
                self.assertIn("CapEff:\t0000000000200000", f.read())
            d = scratch()
            with open(os.path.join(d, "big"), "wb") as f:
                f.write(b"x\n" * 400000)
            c.send(rp.GREP, [("PATTERN", "x"), ("PATH", d + "/big")])
            helper = None
            end = time.time() + 30
            while helper is None and time.time() < end:
                with open("/proc/%d/task/%d/children" % (r.pid(), r.pid())) as f:
                    for pid in f.read().split():
                        try:
                            with open("/proc/%s/comm" % pid) as g:
                                if g.read().startswith("runner"):
                                    helper = int(pid)
                        except OSError:
                            pass
                time.sleep(0.02)
            self.assertIsNotNone(helper, "no helper seen")
            # Until it has settled (blocked writing): caught right after
            # fork it may not have dropped anything yet.
            end = time.time() + 10
            while True:
                with open("/proc/%d/status" % helper) as f:
                    status = dict(l.split(":", 1) for l in f)
                if status["CapEff"].strip() == "0" * 16 or time.time() > end:
                    break
                time.sleep(0.05)
            self.assertEqual(status["CapEff"].strip(), "0000000000000000")
            self.assertEqual(status["CapPrm"].strip(), "0000000000000000")
            self.assertEqual(status["Uid"].split()[0], "65534")
            self.assertEqual(os.stat("/proc/%d/environ" % helper).st_uid, 0)
            c.close()


class TestStopSignalsFromInside(unittest.TestCase):
    """Item 5: `kill -TERM 1` from inside shut the sandbox down."""

    STOP = ("TERM", "HUP", "INT", "QUIT", "PWR")

    def test_pid1_ignores_the_sandbox(self):
        with Runner(user="65534:65534") as r:
            c = r.client()
            st, out = sh(c, " ; ".join("kill -%s 1" % s for s in self.STOP) + "; echo sent")
            self.assertIn(b"sent", out)
            # still serving after the signals were taken (a PING after the
            # EXEC went through the loop that read them)
            time.sleep(0.3)
            self.assertTrue(r.client().call(rp.PING).ok)
            self.assertTrue(r.alive())
            self.assertIn("inside the sandbox) ignored", r.logtext())
        # and the host's SIGTERM (outside the namespace) still stops it:
        # Runner.__exit__ would have failed otherwise.
        self.assertEqual(r.proc.returncode, 0)

    def test_not_pid1_ignores_the_sandbox_but_not_its_parent(self):
        r = Runner(pid1=False, user="65534:65534")
        try:
            c = r.client()
            pid = r.client().call(rp.INFO).fields.int("PID")
            self.assertEqual(pid, r.proc.pid)
            st, out = sh(c, " ; ".join("kill -%s %d" % (s, pid) for s in self.STOP)
                         + "; echo sent")
            self.assertIn(b"sent", out)
            time.sleep(0.3)
            self.assertTrue(r.client().call(rp.PING).ok)
        finally:
            # the parent (this test) may stop it
            self.assertEqual(r.stop(), 0, r.logtext())
            r.__exit__(None, None, None)


    def test_not_pid1_root_outside_may_stop_a_non_root_sandbox(self):
        r = Runner(pid1=False, user="65534:65534")
        try:
            pid = r.client().call(rp.INFO).fields.int("PID")
            # the sandbox's uid from outside: not the parent, not root
            subprocess.run(["setpriv", "--reuid", "65534", "--regid", "65534",
                            "--clear-groups", "kill", "-TERM", str(pid)], check=True)
            time.sleep(0.3)
            self.assertTrue(r.client().call(rp.PING).ok)
            # root that is not the parent (a child of this test)
            subprocess.run(["kill", "-TERM", str(pid)], check=True)
            self.assertEqual(r.proc.wait(30), 0, r.logtext())
        finally:
            r.stop()
            r.__exit__(None, None, None)


class TestTokenIsBytes(unittest.TestCase):
    """Item 6: the token was a C string (a NUL ended it, over 256 bytes
    was cut, the compare returned early on a length mismatch)."""

    def token_runner(self, data):
        d = scratch()
        path = os.path.join(d, "tok")
        with open(path, "wb") as f:
            f.write(data)
        return path

    def refused(self, data):
        p = run_main(["/bin/true"], args=["--token-file", self.token_runner(data)])
        self.assertEqual(p.returncode, 2, (data, p.stderr[-500:]))
        self.assertIn(b"--token-file", p.stderr)
        self.assertNotIn(b" ready (pid", p.stderr)

    def accepts_only(self, data, good, bad):
        with Runner(args=["--token-file", self.token_runner(data)]) as r:
            for t in bad:
                with self.assertRaises(rp.ProtocolClosed, msg=t):
                    r.client(token=t)
            self.assertTrue(r.client(token=good).call(rp.PING).ok)

    def test_short_empty_and_long_tokens_refuse_to_start(self):
        for data in (b"", b"\n", b"\0" + b"x" * 10, b"x" * 15, b"x" * 15 + b"\n",
                     b"x" * 257, b"x" * 4096):
            self.refused(data)

    def test_nul_and_binary_bytes_count(self):
        self.accepts_only(b"\0" + b"A" * 20, b"\0" + b"A" * 20,
                          [b"", b"\0", b"A" * 20, b"\0" + b"A" * 19])
        self.accepts_only(b"abc\0def-0123456789", b"abc\0def-0123456789",
                          [b"abc", b"abc\0def", b"abc\0def-012345678"])
        blob = bytes(range(256))
        self.accepts_only(blob, blob, [blob[:255], blob[:128], blob + b"x"])

    def test_one_trailing_newline_is_stripped(self):
        self.accepts_only(b"y" * 16 + b"\n", b"y" * 16, [b"y" * 16 + b"\n"])
        self.accepts_only(b"y" * 16 + b"\n\n", b"y" * 16 + b"\n",
                          [b"y" * 16, b"y" * 16 + b"\n\n"])
        self.accepts_only(b"z" * 256 + b"\n", b"z" * 256, [b"z" * 255])

    def test_env_token_rules(self):
        with Runner(env={"RUNNER_TOKEN": "e" * 16}) as r:
            with self.assertRaises(rp.ProtocolClosed):
                r.client(token=b"e" * 15)
            self.assertTrue(r.client(token=b"e" * 16).call(rp.PING).ok)
        d = scratch()
        p = subprocess.run(UNSHARE + [RUNNER, "--user", "root", "--listen",
                                      "unix:" + os.path.join(d, "s"), "--", "/bin/true"],
                           env=dict(os.environ, RUNNER_TOKEN="short"),
                           capture_output=True, timeout=30)
        self.assertEqual(p.returncode, 2, p.stderr)
        self.assertIn(b"RUNNER_TOKEN", p.stderr)


# Calls syscalls by number from inside and prints what each returned.
SYSCALLS = r"""
import ctypes, os, sys
libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
u = ctypes.c_ulong
def call(nr, *a):
    r = libc.syscall(u(nr), *[u(x) for x in a])
    return "ok" if r >= 0 else "errno=%d" % ctypes.get_errno()
AT_FDCWD = (1 << 64) - 100
b = ctypes.create_string_buffer(b"/")
checks = {
    "past_table": call(1000),
    "past_table_511": call(511),
    "statmount": call(457, 0, 0, 0, 0),
    "cachestat": call(451, 0, 0, 0, 0),
    "open_tree_attr": call(467, AT_FDCWD, ctypes.addressof(b), 1, 0, 0),
    "open_tree": call(428, AT_FDCWD, ctypes.addressof(b), 1),
    "process_madvise": call(440, 0, 0, 0, 0, 0),
    "set_mempolicy_home_node": call(450, 0, 0, 0, 0),
    "socket_vsock": call(41, 40, 1, 0),
    "socket_unix": call(41, 1, 1, 0),
    "getpid": call(39),
}
for k, v in sorted(checks.items()):
    print("%s=%s" % (k, v))
"""

ENOSYS = "errno=%d" % errno.ENOSYS
EPERM = "errno=%d" % errno.EPERM


class TestAllowlist(unittest.TestCase):
    """Item 7: the filter was a deny list, so open_tree_attr returned an
    fd, process_madvise passed, and every future syscall was allowed."""

    def results(self, args=(), user="65534:65534"):
        with Runner(user=user, args=list(args)) as r:
            st, out = sh(r.client(), "python3 -c '%s'" % SYSCALLS.replace("'", "'\\''"))
            self.assertEqual(st, 0, out)
            return dict(l.split("=", 1) for l in out.decode().split())

    def test_unknown_numbers_get_enosys(self):
        res = self.results()
        self.assertEqual(res["past_table"], ENOSYS)
        self.assertEqual(res["past_table_511"], ENOSYS)
        # real syscalls of a recent kernel that are not in the table
        self.assertEqual(res["statmount"], ENOSYS)
        self.assertEqual(res["cachestat"], ENOSYS)
        self.assertEqual(res["getpid"], "ok")
        self.assertEqual(res["socket_unix"], "ok")

    def test_known_dangerous_get_eperm(self):
        res = self.results()
        for name in ("open_tree_attr", "open_tree", "process_madvise",
                     "set_mempolicy_home_node", "socket_vsock"):
            self.assertEqual(res[name], EPERM, name)

    def test_even_root_with_caps_is_filtered(self):
        # --keep-caps cap_sys_admin as root: only the filter stands
        # between open_tree_attr and an fd.
        res = self.results(args=["--keep-caps", "cap_sys_admin"], user="root")
        self.assertEqual(res["open_tree_attr"], EPERM)
        self.assertEqual(res["open_tree"], EPERM)
        self.assertEqual(res["statmount"], ENOSYS)

    def test_allow_vsock(self):
        res = self.results(args=["--allow-vsock"])
        self.assertIn(res["socket_vsock"], ("ok", "errno=%d" % errno.EAFNOSUPPORT))

    def test_workload_under_the_allowlist(self):
        # bash, coreutils, gcc (compile, link, run), a static busybox, git
        # and python3 as the sandbox user.
        d = scratch()
        os.chown(d, 65534, 65534)
        script = " && ".join([
            "cd %s" % d, "export HOME=%s" % d,
            "printf 'int main(void){return 42;}' > t.c",
            "gcc -O1 -o t t.c", "{ ./t; echo gcc=$?; }",
            "busybox sh -c 'echo bb=$((6*7))'", "busybox ls / >/dev/null",
            "busybox wget --help >/dev/null 2>&1; busybox tar --help >/dev/null 2>&1; true",
            "git init -q r && cd r && echo x > f && git add f",
            "git -c user.email=a@b -c user.name=n commit -q -m x && cd ..",
            "bash -c 'for i in 1 2 3; do :; done; echo bash=$BASH_VERSINFO'",
            "python3 -c 'import subprocess,threading; print(\"py=\", subprocess.run([\"true\"]).returncode)'",
            "sort -u /etc/passwd | wc -l >/dev/null", "find . -name f | head -1",
            "tar czf a.tgz r && tar tzf a.tgz >/dev/null && echo tar=ok",
        ])
        with Runner(user="65534:65534") as r:
            st, out = sh(r.client(), script, timeout=120)
            self.assertEqual(st, 0, out)
            for want in (b"gcc=42", b"bb=42", b"bash=", b"py= 0", b"tar=ok"):
                self.assertIn(want, out)


def ctl(target, *args, env=None):
    return subprocess.run([RUNNERCTL, "--connect", target] + list(args),
                          capture_output=True, timeout=60, stdin=subprocess.DEVNULL,
                          env=dict(os.environ, **(env or {})))


def wait_path(path, present=True, timeout=30):
    end = time.time() + timeout
    while time.time() < end:
        if os.path.exists(path) == present:
            return
        time.sleep(0.02)
    raise AssertionError("%s never %s" % (path, "appeared" if present else "went"))


class TestSocketTakeover(unittest.TestCase):
    """Item 3: with runner and sandbox under one uid (docker run --user
    1000, the k8s manifest), sandbox code replaced the socket with its
    own runner, and `runner attach` talked to the impostor."""

    def impostor(self, c, sock):
        """From inside: remove the socket, listen there ourselves."""
        st, out = sh(c, "rm -f %s && { setsid %s --listen unix:%s --seccomp off "
                        "--no-default-session </dev/null >%s.log 2>&1 & } ; echo started"
                     % (sock, RUNNER, sock, sock))
        self.assertIn(b"started", out)
        wait_path(sock)
        time.sleep(0.2)  # listening, not just bound

    def test_same_uid_pid1_attach_refuses_the_impostor(self):
        r = WrappedRunner(NON_ROOT)
        try:
            pid = r.pid()
            inside = "cmd:nsenter -t %d -p -- %s attach --socket %s" % (pid, RUNNER, r.sock)
            # control: inside the PID namespace (as `docker exec`) the real
            # runner is pid 1 and attach talks to it
            p = ctl(inside, "ping")
            self.assertEqual(p.returncode, 0, p.stderr)
            self.impostor(r.client(), r.sock)
            p = ctl(inside, "ping")
            self.assertNotEqual(p.returncode, 0)
            self.assertIn(b"refusing", p.stderr)
            self.assertIn(b"not pid 1", p.stderr)
            # the impostor is really there: told to trust the socket,
            # attach reaches it
            p = ctl(inside.replace(" attach ", " attach --trust-socket "), "info")
            self.assertEqual(p.returncode, 0, p.stderr)
            # from outside the namespace too: no root-owned record, refuse
            p = ctl("cmd:%s attach --socket %s" % (RUNNER, r.sock), "ping")
            self.assertNotEqual(p.returncode, 0)
            self.assertIn(b"refusing", p.stderr)
        finally:
            r.stop()
            r.__exit__(None, None, None)

    def test_not_pid1_root_start_checks_the_record(self):
        r = Runner(pid1=False, user="65534:65534")
        try:
            rec = r.sock + ".pid"
            st = os.stat(rec)
            self.assertEqual((st.st_uid, st.st_mode & 0o777), (0, 0o644))
            p = ctl("cmd:%s attach --socket %s" % (RUNNER, r.sock), "ping")
            self.assertEqual(p.returncode, 0, p.stderr)
            # Another listener beside a copy of the real record (the
            # sandbox could not write one: root owns the directory).
            d = scratch()
            other = os.path.join(d, "s")
            imp = subprocess.Popen(NON_ROOT + [RUNNER, "--listen", "unix:" + other,
                                              "--no-default-session"],
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            try:
                wait_path(other)
                shutil.copy(rec, other + ".pid")
                time.sleep(0.2)
                p = ctl("cmd:%s attach --socket %s" % (RUNNER, other), "ping")
                self.assertNotEqual(p.returncode, 0)
                self.assertIn(b"is not the runner recorded", p.stderr)
                # a record the sandbox user could have written counts for nothing
                os.chown(other + ".pid", 1000, 1000)
                p = ctl("cmd:%s attach --socket %s" % (RUNNER, other), "ping")
                self.assertIn(b"refusing", p.stderr)
            finally:
                imp.terminate()
                imp.wait(10)
        finally:
            self.assertEqual(r.stop(), 0)
            r.__exit__(None, None, None)

    def test_runnerctl_expect_pid(self):
        with Runner(user="65534:65534") as r:
            p = subprocess.run([RUNNERCTL, "--connect", "unix:" + r.sock, "--expect-pid",
                                str(r.pid()), "ping"], capture_output=True, timeout=30)
            self.assertEqual(p.returncode, 0, p.stderr)
            p = subprocess.run([RUNNERCTL, "--connect", "unix:" + r.sock, "--expect-pid",
                                str(r.pid() + 1), "ping"], capture_output=True, timeout=30)
            self.assertNotEqual(p.returncode, 0)
            self.assertIn(b"not the expected runner pid", p.stderr)


PING_AS = r"""
import sys
sys.path.insert(0, %r)
import rproto as rp
c = rp.Client.unix(sys.argv[1])
print("ping", c.call(rp.PING).ok)
"""


class TestConnectionSlots(unittest.TestCase):
    """Item 8: a connection past HELLO never times out, so one peer could
    pin every --max-conns slot; --max-conns-per-uid keeps one uid from
    holding them all."""

    def test_one_uid_cannot_take_every_slot(self):
        with Runner(args=["--max-conns", "8", "--max-conns-per-uid", "3",
                          "--socket-group", "65534"]) as r:
            held = [r.client() for _ in range(3)]
            # refused with E_LIMIT, which may beat our HELLO to the socket
            with self.assertRaises((rp.ProtocolClosed, OSError)):
                r.client()
            self.assertIn("--max-conns-per-uid 3", r.logtext())
            limits = [l.decode() for l in held[0].call(rp.INFO).fields.all("LIMIT")]
            self.assertIn("max_conns_per_uid=3", limits)
            # another uid still gets in
            here = os.path.dirname(os.path.abspath(__file__))
            p = subprocess.run(["setpriv", "--reuid", "65534", "--regid", "65534",
                                "--clear-groups", sys.executable, "-c", PING_AS % here,
                                r.sock], capture_output=True, timeout=30)
            self.assertIn(b"ping True", p.stdout, p.stderr)
            held.pop().close()
            end = time.time() + 30  # until the runner has seen the close
            while True:
                try:
                    c = r.client()
                    break
                except (rp.ProtocolClosed, OSError):
                    self.assertLess(time.time(), end)
                    time.sleep(0.05)
            self.assertTrue(c.call(rp.PING).ok)
            c.close()
            for c in held:
                c.close()


if __name__ == "__main__":
    unittest.main()


class TestInheritedFdsStayWithTheRunner(unittest.TestCase):
    """An fd the runner inherited without close-on-exec (a supervisor's
    socket) is not the sandbox's: neither a session's shell nor a SPAWN
    child sees it, and the shell holds just its terminal, its script,
    the command and the snapshot."""

    def test_shell_and_spawn_see_no_inherited_fd(self):
        d = scratch()
        marker = os.path.join(d, "supervisor-secret")
        with open(marker, "w") as f:
            f.write("x")
        listing = 'for f in /proc/$$/fd/*; do readlink "$f"; done'
        wrap = ("sh", "-c", 'exec 9<"$0"; exec "$@"', marker)
        with Runner(wrap=wrap) as r:
            c = r.client()
            res = c.call(rp.EXEC, [("COMMAND", listing)], timeout=60)
            self.assertTrue(res.ok, res)
            shell = res.fields.bytes("OUTPUT").decode()
            res = c.call(rp.SPAWN, [("ARGV", "/bin/sh"), ("ARGV", "-c"),
                                    ("ARGV", listing)], timeout=60)
            self.assertTrue(res.ok, res)
            spawned = res.out().decode()
        self.assertNotIn(marker, shell)
        self.assertIn("runner-command", shell)
        self.assertIn("/dev/pts/", spawned + shell)
        self.assertNotIn(marker, spawned)
