"""Hardening, checked from inside: a static probe started by the runner
(as its main command, so after harden_apply, like every session and
process) reports /proc/self/status and what each denied syscall did;
INFO reports the steps; the runner's own status is read from the host."""
import errno
import os
import shutil
import signal
import subprocess
import unittest

from harness import Runner
import rproto as rp
from pidtools import (WrappedRunner, have_probes, host_status, kv, probe,
                      run_main, scratch, wait_file)

needs_probes = unittest.skipUnless(
    have_probes(), "SKIP: probes not built (make -f Makefile -f tests/integration/probes.mk probes)")

EPERM = "errno=%d" % errno.EPERM
SIGSYS = "signal=%d" % signal.SIGSYS
ZERO_CAPS = "0000000000000000"
DENIED = ("unshare_user", "unshare_mount", "mount_tmpfs", "ptrace_attach",
          "kexec_load", "reboot", "clone_newns", "bpf", "keyctl", "io_uring",
          "userfaultfd", "tiocsti", "personality_norandom")
NON_ROOT = ["setpriv", "--reuid", "1000", "--regid", "1000", "--clear-groups",
            "--inh-caps=-all", "--bounding-set=-all"]


def run_checks(args=(), user=None, wrap=None):
    """Start a runner whose main command is `hprobe checks OUT wait`;
    return (runner, probe results, INFO fields).  The caller stops it."""
    d = scratch()
    out = os.path.join(d, "checks")
    main = ["--", probe("hprobe"), "checks", out, "wait"]
    if wrap:
        r = WrappedRunner(wrap, args=list(args) + main)
    else:
        r = Runner(args=list(args) + main, user=user)
    res = kv(wait_file(out, "done=1", timeout=60))
    info = r.client().call(rp.INFO)
    return r, res, info


def steps_of(info):
    return dict(s.decode().split("=", 1) for s in info.fields.all("HARDENING"))


@needs_probes

def setUpModule():
    if os.environ.get("RUNNER_VALGRIND"):
        # valgrind runs the runner's syscalls for it: a seccomp filter the
        # runner loads is valgrind's problem, not enforced on the guest.
        raise unittest.SkipTest("SKIP: seccomp is not enforced under valgrind")

class TestDefault(unittest.TestCase):
    """Root start, --user 65534:65534, --seccomp default."""

    @classmethod
    def setUpClass(cls):
        cls.r, cls.res, cls.info = run_checks(user="65534:65534")

    @classmethod
    def tearDownClass(cls):
        code = cls.r.stop()
        cls.r.__exit__(None, None, None)
        assert code == 0, code  # SIGTERM forwarded, probe exits 0

    def test_status_inside(self):
        s = self.res
        for cap in ("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"):
            self.assertEqual(s["status." + cap], ZERO_CAPS, cap)
        self.assertEqual(s["status.NoNewPrivs"], "1")
        self.assertEqual(s["status.Seccomp"], "2")
        self.assertEqual(s["status.Uid"].split(), ["65534"] * 4)
        self.assertEqual(s["status.Gid"].split(), ["65534"] * 4)

    def test_runner_itself_is_hardened(self):
        s = host_status(self.r.pid())
        for cap in ("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"):
            self.assertEqual(s[cap], ZERO_CAPS, cap)
        self.assertEqual(s["NoNewPrivs"], "1")
        self.assertEqual(s["Seccomp"], "2")
        self.assertEqual(s["Uid"].split(), ["65534"] * 4)

    def test_denied_syscalls_get_eperm(self):
        for name in DENIED:
            self.assertEqual(self.res[name], EPERM, name)

    def test_foreign_abis_are_killed(self):
        if os.uname().machine != "x86_64":
            self.skipTest("SKIP: i386/x32 are x86-64 ABIs")
        self.assertEqual(self.res["int80"], SIGSYS)
        self.assertEqual(self.res["x32"], SIGSYS)

    def test_clone3_says_enosys(self):
        self.assertEqual(self.res["clone3"], "errno=%d" % errno.ENOSYS)

    def test_what_programs_need_still_works(self):
        for name in ("fork", "socket_inet", "setsid_pty", "personality_query",
                     "personality_linux32"):
            self.assertEqual(self.res[name], "ok", name)
        # AF_VSOCK is the runner's transport, not the sandbox's: EPERM
        # unless --allow-vsock (TestModes.test_allow_vsock).
        self.assertEqual(self.res["socket_vsock"], EPERM)

    def test_info_reports_every_step(self):
        info = self.info.fields
        self.assertEqual(info.int("UID"), 65534)
        self.assertEqual(info.int("GID"), 65534)
        steps = steps_of(self.info)
        for step in ("caps_bounding", "securebits", "user", "caps",
                     "not_dumpable", "no_new_privs", "seccomp"):
            self.assertTrue(steps[step].startswith("applied"), (step, steps))
        self.assertIn("uid 65534", steps["user"])
        self.assertIn("default", steps["seccomp"])


@needs_probes
class TestFilterNotCaps(unittest.TestCase):
    """With CAP_SYS_ADMIN kept, only the filter stands between a program
    and mount/unshare: the control run without it shows they work."""

    def run_with(self, seccomp):
        r, res, info = run_checks(args=["--keep-caps", "cap_sys_admin",
                                        "--seccomp", seccomp])
        try:
            return res, steps_of(info)
        finally:
            r.stop()
            r.__exit__(None, None, None)

    def test_filter_denies_what_caps_allow(self):
        res, steps = self.run_with("default")
        self.assertEqual(res["status.CapEff"], "0000000000200000")
        self.assertEqual(res["status.CapAmb"], "0000000000200000")
        self.assertEqual(res["status.CapBnd"], "0000000000200000")
        for name in ("mount_tmpfs", "unshare_mount", "unshare_user", "clone_newns"):
            self.assertEqual(res[name], EPERM, name)
        self.assertIn("kept 0x200000", steps["caps"])

    def test_control_without_filter(self):
        res, steps = self.run_with("off")
        self.assertEqual(res["status.Seccomp"], "0")
        self.assertEqual(steps["seccomp"], "skipped: --seccomp off")
        for name in ("mount_tmpfs", "unshare_mount", "clone_newns", "int80"):
            self.assertEqual(res[name], "ok", name)


@needs_probes
class TestModes(unittest.TestCase):
    def test_allow_ptrace(self):
        r, res, info = run_checks(args=["--allow-ptrace"], user="65534:65534")
        try:
            self.assertEqual(res["ptrace_attach"], "ok")
            self.assertEqual(res["unshare_user"], EPERM)
        finally:
            r.stop()
            r.__exit__(None, None, None)

    def test_strict(self):
        r, res, info = run_checks(args=["--seccomp", "strict"], user="65534:65534")
        try:
            self.assertIn("strict", steps_of(info)["seccomp"])
            # AF_ALG: unprivileged, not in strict's families.
            self.assertEqual(res["socket_alg"], EPERM)
            self.assertEqual(res["personality_linux32"], EPERM)
            self.assertEqual(res["personality_query"], "ok")
            self.assertEqual(res["socket_inet"], "ok")
            self.assertEqual(res["socket_vsock"], EPERM)
            self.assertEqual(res["int80"], SIGSYS)
        finally:
            r.stop()
            r.__exit__(None, None, None)

    def test_allow_vsock(self):
        for mode in ("default", "strict"):
            r, res, info = run_checks(args=["--allow-vsock", "--seccomp", mode],
                                      user="65534:65534")
            try:
                # allowed: created, or the host lacks the family
                self.assertIn(res["socket_vsock"], ("ok", "errno=%d" % errno.EAFNOSUPPORT))
            finally:
                r.stop()
                r.__exit__(None, None, None)

    def test_allow_vsock_absent_means_eperm(self):
        r, res, info = run_checks(args=["--seccomp", "default"], user="65534:65534")
        try:
            self.assertEqual(res["socket_vsock"], EPERM)
        finally:
            r.stop()
            r.__exit__(None, None, None)


@needs_probes
class TestNonRootStart(unittest.TestCase):
    """docker run --user 1000 --cap-drop ALL: what cannot be done is
    skipped and said; the rest still applies."""

    def test_starts_and_reports_skips(self):
        r, res, info = run_checks(wrap=NON_ROOT)
        try:
            steps = steps_of(info)
            self.assertEqual(steps["caps_bounding"], "applied: already empty")
            self.assertTrue(steps["securebits"].startswith("skipped: "), steps)
            self.assertIn("CAP_SETPCAP", steps["securebits"])
            self.assertTrue(steps["user"].startswith("skipped: "), steps)
            self.assertTrue(steps["caps"].startswith("applied"), steps)
            self.assertEqual(steps["no_new_privs"], "applied")
            self.assertTrue(steps["seccomp"].startswith("applied"), steps)
            self.assertIn("hardening: securebits=skipped", r.logtext())
            self.assertEqual(res["status.Seccomp"], "2")
            self.assertEqual(res["status.NoNewPrivs"], "1")
            self.assertEqual(res["status.Uid"].split(), ["1000"] * 4)
            self.assertEqual(res["unshare_user"], EPERM)
            self.assertEqual(res["int80"], SIGSYS)
            self.assertEqual(host_status(r.pid())["CapEff"], ZERO_CAPS)
        finally:
            self.assertEqual(r.stop(), 0, r.logtext())
            r.__exit__(None, None, None)

    def test_explicit_user_it_cannot_become(self):
        # Asked for and impossible: the runner must not serve as 1000.
        p = run_main(["/bin/true"], wrap=NON_ROOT, args=["--user", "65534:65534"])
        self.assertEqual(p.returncode, 1, p.stderr[-2000:])
        self.assertIn(b"not starting", p.stderr)
        self.assertNotIn(b" ready (pid", p.stderr)


@needs_probes
class TestSetuidGainsNothing(unittest.TestCase):
    def setUp(self):
        self.d = scratch()
        self.bin = os.path.join(self.d, "suid-hprobe")
        shutil.copy(probe("hprobe"), self.bin)
        os.chown(self.bin, 0, 0)
        os.chmod(self.bin, 0o4755)

    def test_setuid_root_binary(self):
        out = os.path.join(self.d, "id")
        # Control: outside the sandbox the bit works on this filesystem.
        subprocess.run(["setpriv", "--reuid", "65534", "--regid", "65534",
                        "--clear-groups", self.bin, "id", out], check=True)
        with open(out) as f:
            self.assertIn("uid=65534 euid=0", f.read())
        os.unlink(out)
        p = run_main([self.bin, "id", out], args=["--user", "65534:65534"])
        self.assertEqual(p.returncode, 0, p.stderr[-2000:])
        with open(out) as f:
            text = f.read()
        self.assertIn("uid=65534 euid=65534", text)
        self.assertEqual(kv(text)["status.CapEff"], ZERO_CAPS)


class TestProgramsStillWork(unittest.TestCase):
    """The filter is an allowlist: git, python (subprocess, multiprocessing,
    asyncio, getaddrinfo), coreutils, gcc and busybox run under it as the
    sandbox user."""

    def test_git_python_coreutils(self):
        py = "/usr/bin/python3"
        if not (shutil.which("git") and os.path.exists(py)):
            self.skipTest("SKIP: needs git and /usr/bin/python3")
        d = scratch()
        os.chown(d, 65534, 65534)
        script = (
            "cd %s && export HOME=%s && git init -q && echo hi > f && git add f"
            " && git -c user.email=a@b -c user.name=n commit -q -m x"
            " && git log --oneline | wc -l && sort -u /etc/passwd >/dev/null"
            " && timeout 1 sleep 5; echo timeout=$? && %s -c '%s' && echo ALL-OK"
        ) % (d, d, py, "\n".join([
            "import subprocess, multiprocessing, asyncio, socket",
            "assert subprocess.run([\"ls\", \"/\"], capture_output=True).returncode == 0",
            "with multiprocessing.Pool(2) as p: assert sum(p.map(abs, [-1, 2])) == 3",
            "socket.getaddrinfo(\"localhost\", 80)",
            "async def m():",
            "    p = await asyncio.create_subprocess_exec(\"true\"); return await p.wait()",
            "assert asyncio.run(m()) == 0",
        ]))
        p = run_main(["/bin/sh", "-c", script], args=["--user", "65534:65534"])
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr[-3000:])
        self.assertIn(b"timeout=124", p.stdout)
        self.assertIn(b"ALL-OK", p.stdout, p.stderr[-3000:])


class TestUserFlag(unittest.TestCase):
    def test_unknown_user_refuses_to_start(self):
        for spec in ("no-such-user-xyz", "12:x"):
            p = run_main(["/bin/true"], args=["--user", spec])
            self.assertEqual(p.returncode, 1, p.stderr[-2000:])
            self.assertIn(b"not starting", p.stderr)

    def test_numeric_uid_without_passwd_entry(self):
        p = run_main(["/bin/sh", "-c", "id -u; id -g"], args=["--user", "4242:4343"])
        self.assertEqual(p.returncode, 0, p.stderr[-2000:])
        self.assertEqual(p.stdout.split(), [b"4242", b"4343"])


class TestUnshareBinary(unittest.TestCase):
    def test_unshare_user_namespace_refused(self):
        if not shutil.which("unshare"):
            self.skipTest("SKIP: no unshare(1)")
        p = run_main(["/bin/sh", "-c", "unshare -U true; echo status=$?"],
                     args=["--user", "65534:65534"])
        self.assertEqual(p.returncode, 0, p.stderr[-2000:])
        self.assertIn(b"status=1", p.stdout)
        self.assertIn(b"Operation not permitted", p.stderr)


if __name__ == "__main__":
    unittest.main()
