"""test_docker.py - the runner as PID 1 of real Docker containers.

The image is built here by image/mkrootfs (FROM scratch: busybox-static,
bash-static, the static runner).  A private dockerd is started when none
answers (tests/e2e/dockerd.py).  Every container runs --network none.
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import unittest
import uuid

import e2e
from e2e import rp
from dockerd import DOCKER_BIN, Engine, Unavailable

IMAGE = "runner-e2e:test"
SUITE = "e2e docker"


class DockerTest(unittest.TestCase):
    eng = None

    @classmethod
    def setUpClass(cls):
        e2e.need_built(SUITE)
        try:
            cls.eng = Engine.get()
        except Unavailable as e:
            e2e.cannot_run(SUITE, str(e))
        # Clients below (runnerctl docker:CTR, rproto over `docker exec`)
        # inherit the environment: point them at this daemon.
        cls.saved_env = {k: os.environ.get(k) for k in ("DOCKER", "DOCKER_HOST")}
        os.environ.update(DOCKER=DOCKER_BIN, DOCKER_HOST=cls.eng.host)
        r = subprocess.run([os.path.join(e2e.ROOT, "image", "mkrootfs"), IMAGE],
                           env=dict(cls.eng.env, BUILD_DIR=os.path.relpath(e2e.BUILD, e2e.ROOT)),
                           capture_output=True, timeout=300)
        if r.returncode != 0:
            cls.tearDownClass()
            raise AssertionError("image/mkrootfs failed: " + r.stderr.decode(errors="replace"))

    @classmethod
    def tearDownClass(cls):
        for k, v in getattr(cls, "saved_env", {}).items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        if cls.eng:
            cls.eng.close()

    # -- helpers
    def docker(self, *args, **kw):
        return self.eng.docker(*args, **kw)

    def start(self, *opts, args=(), wait=True):
        """docker run -d the image; returns the container name."""
        name = "runner-e2e-" + uuid.uuid4().hex[:10]
        self.docker("run", "-d", "--network", "none", "--name", name, *opts,
                    IMAGE, *args)
        self.addCleanup(self.docker, "rm", "-f", name, check=False)
        if wait:
            self.wait_ready(name)
        return name

    def wait_ready(self, ctr, timeout=30):
        """Until `runner attach` gets through (the socket exists)."""
        end = time.time() + timeout
        while True:
            r = e2e.runnerctl("docker:" + ctr, "ping", timeout=30)
            if r.returncode == 0:
                return
            if time.time() > end or not self.eng.inspect(ctr)["State"]["Running"]:
                self.fail("runner in %s never answered: %s\nlogs:\n%s" % (
                    ctr, r.stderr.decode(errors="replace"), self.logs(ctr)))
            time.sleep(0.1)

    def logs(self, ctr):
        r = self.docker("logs", ctr, check=False)
        return (r.stdout + r.stderr).decode(errors="replace")

    def ctl(self, ctr, *args, input=None, feature=None):
        r = e2e.runnerctl("docker:" + ctr, *args, input=input)
        if feature:
            e2e.require_feature(self, r, feature)
        return r

    def client(self, ctr):
        c = rp.Client.command([DOCKER_BIN, "exec", "-i", ctr, "/sbin/runner", "attach"])
        self.addCleanup(c.close)
        return c

    def processes(self, ctr):
        """(pid, comm, state) of every process in the container, read
        from /proc by a busybox shell: no ps needed in the image."""
        out = self.docker("exec", ctr, "sh", "-c",
                          "cat /proc/[0-9]*/stat 2>/dev/null").stdout.decode()
        procs = []
        for m in re.finditer(r"^(\d+) \((.*)\) (\S)", out, re.M):
            procs.append((int(m.group(1)), m.group(2), m.group(3)))
        return procs

    def stop(self, ctr, timeout=30):
        """docker stop; returns (seconds, exit code).  The docker-side
        timeout is generous: passing it would show up as exit 137."""
        t0 = time.monotonic()
        self.docker("stop", "-t", str(timeout), ctr, timeout=timeout + 60)
        took = time.monotonic() - t0
        return took, self.eng.inspect(ctr)["State"]["ExitCode"]

    # -- the runner is PID 1 and answers through docker exec
    def test_pid1_answers_through_docker_exec(self):
        ctr = self.start()
        c = self.client(ctr)
        res = c.call(rp.INFO)
        self.assertTrue(res.ok, res)
        f = res.fields
        self.assertEqual(f.int("PID"), 1)
        self.assertEqual(f.int("IS_PID1"), 1)
        # started as root, it dropped to the image's sandbox user
        self.assertEqual(f.int("UID"), 1000)
        self.assertTrue(c.call(rp.PING).ok)
        # runnerctl's docker: shorthand, same path
        r = self.ctl(ctr, "info")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn(b"pid1: 1", r.stdout)
        # a bad request fails only itself, through the relay too
        res = c.call(0x7e)
        self.assertFalse(res.ok)
        self.assertEqual(res.code, rp.E_UNKNOWN_TYPE)
        self.assertTrue(c.call(rp.PING).ok)

    def test_hardening_visible_from_inside(self):
        ctr = self.start()
        status = self.docker("exec", ctr, "cat", "/proc/1/status").stdout.decode()
        fields = dict(ln.split(":", 1) for ln in status.splitlines() if ":" in ln)
        self.assertEqual(fields["Uid"].split(), ["1000"] * 4)
        for cap in ("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"):
            self.assertEqual(int(fields[cap], 16), 0, cap)
        self.assertEqual(fields["NoNewPrivs"].strip(), "1")
        self.assertEqual(fields["Seccomp"].strip(), "2")   # filter mode

    def test_no_such_container_is_a_clear_error(self):
        r = e2e.runnerctl("docker:runner-e2e-does-not-exist", "ping")
        self.assertEqual(r.returncode, 1)
        self.assertIn(b"No such container", r.stderr)
        self.assertIn(b"runnerctl: ", r.stderr)

    def test_several_attach_clients_at_once(self):
        ctr = self.start()
        clients = [self.client(ctr) for _ in range(4)]
        streams = [(c, c.send(rp.PING)) for c in clients]
        for c, s in streams:
            self.assertTrue(c.wait(s).ok)

    def test_exec_through_docker(self):
        ctr = self.start()
        r = self.ctl(ctr, "exec", "--", "cd /tmp && echo hello-$((6*7)) && pwd",
                     feature="exec")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn(b"hello-42", r.stdout)
        self.assertIn(b"/tmp", r.stdout)
        # the session is stateful: cwd persists between execs
        r = self.ctl(ctr, "exec", "--", "pwd")
        self.assertEqual(r.stdout.strip().splitlines()[-1], b"/tmp")
        r = self.ctl(ctr, "exec", "--", "exit 3")
        self.assertEqual(r.returncode, 3, r.stderr)

    def test_spawn_through_docker(self):
        ctr = self.start()
        r = self.ctl(ctr, "spawn", "--", "/bin/sh", "-c", "echo spawned-$$; echo err >&2",
                     feature="spawn")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertRegex(r.stdout, rb"spawned-\d+")

    def test_file_ops_through_docker(self):
        ctr = self.start()
        body = b"line one\nline two\n" + bytes(range(256)) * 64
        r = self.ctl(ctr, "write", "/workspace/f.bin", input=body, feature="write")
        self.assertEqual(r.returncode, 0, r.stderr)
        # the bytes are really in the container's filesystem
        out = self.docker("exec", ctr, "cat", "/workspace/f.bin").stdout
        self.assertEqual(out, body)
        r = self.ctl(ctr, "read", "/workspace/f.bin", feature="read")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout, body)
        r = self.ctl(ctr, "ls", "/workspace", feature="ls")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn(b"f.bin", r.stdout)
        r = self.ctl(ctr, "read", "/workspace/missing")
        self.assertNotEqual(r.returncode, 0)
        self.assertIn(b"E_NOT_FOUND", r.stderr)

    def start_with_socket_dir(self, *opts):
        """A container whose runner listens in a directory bind-mounted
        from the host; returns (container, host path of the socket)."""
        d = tempfile.mkdtemp(prefix="runner-e2e-sock-")
        self.addCleanup(shutil.rmtree, d, True)
        ctr = self.start("-v", d + ":/run/runner", *opts, wait=False,
                         args=("--listen", "unix:/run/runner/runner.sock"))
        sock = os.path.join(d, "runner.sock")
        end = time.time() + 30
        while not os.path.exists(sock):
            self.assertLess(time.time(), end, "no socket in %s: %s" % (d, self.logs(ctr)))
            time.sleep(0.05)
        return ctr, sock

    def test_bind_mounted_socket_dir_from_the_host(self):
        ctr, sock = self.start_with_socket_dir()
        c = rp.Client.unix(sock)
        self.addCleanup(c.close)
        res = c.call(rp.INFO)
        self.assertTrue(res.ok, res)
        self.assertEqual(res.fields.int("PID"), 1)  # the container's PID 1
        r = e2e.runnerctl("unix:" + sock, "ping")
        self.assertEqual(r.returncode, 0, r.stderr)
        # docker exec still works: attach is told where the socket is
        r = e2e.runnerctl("cmd:%s exec -i -e RUNNER_SOCKET=/run/runner/runner.sock %s "
                          "/sbin/runner attach" % (DOCKER_BIN, ctr), "ping")
        self.assertEqual(r.returncode, 0, r.stderr)

    def test_fork_bomb_under_pids_limit(self):
        # A fork bomb fills the container's pids cgroup; the runner (which
        # forks nothing on its own) keeps answering, and once the bomb is
        # stopped the session works again.  Reached through a bind-mounted
        # socket: `docker exec` itself needs a free pid.
        ctr, sock = self.start_with_socket_dir("--pids-limit", "64")
        c = rp.Client.unix(sock)
        self.addCleanup(c.close)
        res = c.call(rp.SPAWN, [("ARGV", "/bin/sh"), ("ARGV", "-c"),
                                ("ARGV", "b() { b | b & }; b"), ("BACKGROUND", 1),
                                ("FOLLOW", 0)])
        self.assertTrue(res.ok, res)
        bomb = res.fields.int("PID")
        time.sleep(2)     # the cgroup is full by now
        for _ in range(20):
            self.assertTrue(c.call(rp.PING, timeout=10).ok)
            self.assertTrue(c.call(rp.INFO, timeout=10).ok)
        # a spawn now fails cleanly (EAGAIN from fork), it does not hang
        res = c.call(rp.SPAWN, [("ARGV", "/bin/true")], timeout=30)
        self.assertIn(res.code_name, ("E_LIMIT", "E_IO", "E_EXEC", "E_OK"), res)
        # stop the bomb's whole group (its leader may be gone already: then
        # a shell builtin, which needs no fork, signals the group); the
        # runner reaps everything
        res = c.call(rp.PROC_SIGNAL, [("PID", bomb), ("SIGNAL", 9)])
        if not res.ok:
            res = c.call(rp.EXEC, [("COMMAND", "kill -9 -- -%d" % bomb)], timeout=30)
            self.assertTrue(res.ok, res)
        end = time.time() + 30
        while True:
            res = c.call(rp.EXEC, [("COMMAND", "echo alive")], timeout=30)
            if res.ok and res.fields.bytes("OUTPUT") == b"alive\n":
                break
            self.assertLess(time.time(), end, res)
            time.sleep(0.5)

    def test_serve_on_stdio_of_docker_run(self):
        # One connection per container, no socket at all: the runner
        # speaks on the stdin/stdout `docker run -i` gives it.
        name = "runner-e2e-" + uuid.uuid4().hex[:10]
        self.addCleanup(self.docker, "rm", "-f", name, check=False)
        p = subprocess.Popen([DOCKER_BIN, "run", "-i", "--network", "none", "--name", name,
                              IMAGE, "serve"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                             stderr=subprocess.DEVNULL)    # the runner's log: docker logs
        c = rp.Client(rfile=p.stdout.fileno(), wfile=p.stdin.fileno(), proc=p)
        try:
            c.hello()
            res = c.call(rp.INFO)
            self.assertTrue(res.ok, res)
            self.assertEqual(res.fields.int("PID"), 1)
        finally:
            c.close()       # EOF on stdin: the only client is gone
        r = self.docker("wait", name, timeout=60)
        self.assertEqual(r.stdout.strip(), b"0", self.logs(name))

    def test_docker_stop_is_prompt_clean_and_leaves_no_zombie(self):
        ctr = self.start()
        # As the sandbox user, like anything the sandbox runs: a runner
        # that has dropped to uid 1000 cannot signal what `docker exec`
        # starts as root (it would then only die with the namespace).
        # An orphan: its parent (the exec'd sh) exits at once, so it is
        # reparented to PID 1, which must reap it when it exits.
        self.docker("exec", "--user", "1000", ctr, "sh", "-c", "sleep 0.2 & exit 0")
        # A long-lived process that escaped into its own session: only
        # PID 1's kill(-1) reaches it at shutdown.
        self.docker("exec", "-d", "--user", "1000", ctr, "setsid", "sleep", "1000")
        end = time.time() + 20
        while True:
            procs = self.processes(ctr)
            zombies = [p for p in procs if p[2] == "Z"]
            orphan = [p for p in procs if p[1] == "sleep" and p[2] != "Z"]
            if not zombies and len(orphan) == 1:
                break   # the short sleep is gone and reaped
            self.assertLess(time.time(), end, "zombies or orphans remain: %r" % procs)
            time.sleep(0.1)
        # A host client stays attached through the stop, as a sandbox
        # daemon's would: its root-owned relay must go when the runner
        # closes the connection, not hold the stop up.
        c = self.client(ctr)
        self.assertTrue(c.call(rp.PING).ok)
        took, code = self.stop(ctr, timeout=30)
        self.assertEqual(code, 0, "exit %s (137 = docker had to SIGKILL):\n%s" % (
            code, self.logs(ctr)))
        with self.assertRaises((rp.ProtocolClosed, OSError)):
            c.call(rp.PING, timeout=10)
        # Everything here honours SIGTERM (the session's shell included:
        # the runner must stop it, not respawn it), so the grace period
        # never runs out.  A log line, not a stopwatch, tells.
        self.assertNotIn("grace period over", self.logs(ctr))
        # Hang guard only: well inside docker's 30 s.
        self.assertLess(took, 20, self.logs(ctr))

    def test_nonroot_readonly_no_caps(self):
        ctr = self.start("--user", "1000", "--cap-drop", "ALL", "--read-only",
                         "--tmpfs", "/tmp")
        c = self.client(ctr)     # attach found /tmp/runner.sock by itself
        res = c.call(rp.INFO)
        self.assertTrue(res.ok, res)
        f = res.fields
        self.assertEqual(f.int("PID"), 1)
        self.assertEqual(f.int("UID"), 1000)
        self.assertIn("unix:/tmp/runner.sock", self.logs(ctr))
        r = self.ctl(ctr, "exec", "--", "id -u; touch /tmp/ok && echo tmp-writable")
        took, code = self.stop(ctr)
        self.assertEqual(code, 0, self.logs(ctr))
        e2e.require_feature(self, r, "exec")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn(b"1000", r.stdout)
        self.assertIn(b"tmp-writable", r.stdout)

    def test_docker_exec_bash_for_humans(self):
        ctr = self.start()
        r = self.docker("exec", ctr, "bash", "-c", "echo ok")
        self.assertEqual(r.stdout, b"ok\n")
        # with a terminal, as `docker exec -it CTR bash` gives a person
        if not shutil.which("script"):
            self.skipTest("no script(1) to provide a terminal")
        cmd = "%s exec -it %s bash -c 'tty; echo ok-tty'" % (DOCKER_BIN, ctr)
        r = subprocess.run(["script", "-qec", cmd, "/dev/null"], capture_output=True,
                           timeout=60, stdin=subprocess.DEVNULL)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn(b"/dev/pts/", r.stdout)
        self.assertIn(b"ok-tty", r.stdout)

    def need_main_command_mode(self, ctr):
        """Skip while the runner says main-command mode is not built."""
        self.docker("wait", ctr, check=False, timeout=5)
        if "Function not implemented" in self.logs(ctr):
            self.skipTest("main-command mode not implemented in this runner yet")

    def test_main_command_mode(self):
        ctr = self.start(args=("--", "sleep", "infinity"), wait=False)
        try:
            self.wait_ready(ctr)
        except AssertionError:
            self.need_main_command_mode(ctr)
            raise
        procs = self.processes(ctr)
        self.assertTrue(any(p[1] == "sleep" for p in procs), procs)
        self.assertEqual([p for p in procs if p[0] == 1][0][1], "runner")
        r = self.ctl(ctr, "ping")
        self.assertEqual(r.returncode, 0, r.stderr)
        took, code = self.stop(ctr)
        # the main command died of the forwarded SIGTERM: 0 (clean
        # shutdown) or 128+15 (its status passed on) are both honest
        self.assertIn(code, (0, 143), self.logs(ctr))
        self.assertLess(took, 20)

    def test_main_command_exit_status_is_the_containers(self):
        ctr = self.start(args=("--", "sh", "-c", "sleep 0.3; exit 7"), wait=False)
        r = self.docker("wait", ctr, timeout=60)
        if r.stdout.strip() == b"1":
            self.need_main_command_mode(ctr)
        self.assertEqual(r.stdout.strip(), b"7", self.logs(ctr))

    # -- the Python SDK (tools/python) through docker:CTR
    def test_python_sdk_through_docker(self):
        sys.path.insert(0, os.path.join(e2e.ROOT, "tools", "python"))
        import asyncio
        import runner_client as rc
        from runner_client import aio, tools
        ctr = self.start()
        with rc.Runner.connect("docker:" + ctr) as sb:   # $DOCKER, as runnerctl
            self.assertEqual(sb.info().uid, 1000)
            r = sb.exec("cd /workspace && echo hi-$((6*7))")
            self.assertEqual((r.exit_code, r.cwd, r.output), (0, "/workspace", "hi-42\n"))
            sb.files.write("/workspace/a.py", b"print(1)\n")
            self.assertEqual(sb.files.edit("/workspace/a.py", "print(1)", "print(2)"), 1)
            with self.assertRaises(rc.NotFound):
                sb.files.read("/workspace/missing")
            p = sb.spawn(["sh", "-c", "echo bg; sleep 30"], background=True)
            end = time.monotonic() + 20
            while not p.output().stdout and time.monotonic() < end:
                time.sleep(0.05)
            self.assertEqual(p.output().stdout, b"bg\n")
            p.signal("TERM")
            self.assertEqual(p.wait(timeout=20).term_signal, 15)
            text = tools.dispatch(sb, "sandbox_read_file", {"path": "/workspace/a.py"})
            self.assertIn("     1\tprint(2)", text)
        out = self.docker("exec", ctr, "cat", "/workspace/a.py").stdout
        self.assertEqual(out, b"print(2)\n")

        async def concurrent():
            async with await aio.Runner.connect("docker:" + ctr) as a:
                await a.open_session("s2")
                rs = await asyncio.gather(a.exec("echo one"), a.exec("echo two", session="s2"))
                return [x.output for x in rs]
        self.assertEqual(asyncio.run(concurrent()), ["one\n", "two\n"])


if __name__ == "__main__":
    unittest.main()
