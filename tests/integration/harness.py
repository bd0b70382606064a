"""harness.py - start the static runner as PID 1 of fresh namespaces.

    with Runner() as r:            # unshare --fork --pid --mount-proc
        c = r.client()             # connected, HELLO done
        res = c.call(rp.PING)

Every Runner gets its own temp dir (socket, logs); on exit the runner is
shut down and the test fails if it does not go.
"""
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import rproto as rp  # noqa: E402

ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
BUILD = os.path.join(ROOT, os.environ.get("BUILD_DIR", "build"))
RUNNER = os.path.join(ROOT, os.environ.get("RUNNER_BIN") or os.path.join(BUILD, "runner"))
RUNNERCTL = os.path.join(BUILD, "runnerctl")
# What a runner started by the tests runs sandboxed code as, unless the
# test says otherwise (see Runner).
DEFAULT_USER = "root"


def user_args(args):
    """--user DEFAULT_USER unless args name a user: for tests that start
    the runner binary themselves, as root."""
    return [] if "--user" in args else ["--user", DEFAULT_USER]


class PtyShell:
    """`runnerctl shell ARGS` on a fresh terminal, driven as a person would:
    read until a text shows, type, then finish() for its exit status."""

    def __init__(self, sock, *args):
        import pty
        self.pid, self.fd = pty.fork()
        if self.pid == 0:
            os.execv(RUNNERCTL, [RUNNERCTL, "--connect", "unix:" + sock, "shell"]
                     + list(args))
        self.out = b""

    def read_until(self, needle, guard=20):
        import select
        end = time.monotonic() + guard
        while needle not in self.out and time.monotonic() < end:
            if select.select([self.fd], [], [], 0.2)[0]:
                try:
                    self.out += os.read(self.fd, 65536)
                except OSError:
                    break
        return needle in self.out

    def type(self, text):
        os.write(self.fd, text)

    def finish(self, guard=10):
        """Until runnerctl exits (killed after guard seconds): its status."""
        try:
            self.read_until(b"\x00never", guard)
        finally:
            done, st = os.waitpid(self.pid, os.WNOHANG)
            if not done:
                os.kill(self.pid, 9)
                _, st = os.waitpid(self.pid, 0)
            os.close(self.fd)
        return os.waitstatus_to_exitcode(st)


class Runner:
    def __init__(self, args=(), pid1=True, listen=None, env=None, user=None,
                 default_args=True, stdio=False, wrap=()):
        self.tmp = tempfile.mkdtemp(prefix="runner-it-")
        os.chmod(self.tmp, 0o755)
        self.sock = os.path.join(self.tmp, "runner.sock")
        self.log_path = os.path.join(self.tmp, "runner.log")
        argv = [RUNNER]
        if default_args:
            argv += ["--log-level", "debug"]
        if user is None and "--user" not in args:
            # Tests run as root and the host has no "sandbox" user: a root
            # start then needs a user by name.  --user root keeps the
            # suites' semantics; security tests pass non-root users.
            user = DEFAULT_USER  # user="" starts without --user
        if stdio:
            argv += ["--listen", "stdio"]
        else:
            argv += ["--listen", listen or "unix:" + self.sock]
        if user:
            argv += ["--user", user]
        argv += list(args)
        if os.environ.get("RUNNER_VALGRIND"):
            # memcheck on the runner only (not its children); any error or
            # definite leak makes it exit 99, which stop() reports.
            argv = ["valgrind", "-q", "--vgdb=no", "--error-exitcode=99", "--leak-check=full",
                    "--child-silent-after-fork=yes",
                    "--errors-for-leak-kinds=definite", "--trace-children=no"] + argv
        if pid1:
            argv = ["unshare", "--fork", "--pid", "--mount-proc", "--kill-child"] + argv
        self.argv = argv = list(wrap) + argv
        self.log = open(self.log_path, "wb")
        e = dict(os.environ)
        e.update(env or {})
        self.stdio = stdio
        self.proc = subprocess.Popen(
            argv, stdout=subprocess.PIPE if stdio else self.log,
            stdin=subprocess.PIPE if stdio else subprocess.DEVNULL,
            stderr=self.log, env=e, cwd=self.tmp)
        if not stdio and not listen:
            self._wait_socket()

    def _wait_socket(self, timeout=10):
        end = time.time() + timeout
        while time.time() < end:
            if self.proc.poll() is not None:
                raise RuntimeError("runner exited %s: %s" % (self.proc.returncode, self.logtext()))
            if os.path.exists(self.sock):
                s = socket.socket(socket.AF_UNIX)
                try:
                    s.connect(self.sock)
                    return
                except OSError:
                    pass
                finally:
                    s.close()
            time.sleep(0.01)
        raise RuntimeError("runner socket never appeared: " + self.logtext())

    def client(self, hello=True, token=None):
        if self.stdio:
            c = rp.Client(rfile=self.proc.stdout.fileno(), wfile=self.proc.stdin.fileno())
            if hello:
                c.hello(token=token)
            return c
        return rp.Client.unix(self.sock, hello=hello, token=token)

    def ctl(self, *args, input=None, timeout=60, check=False):
        """Run runnerctl against this runner; returns CompletedProcess."""
        return subprocess.run([RUNNERCTL, "--connect", "unix:" + self.sock] + list(args),
                              input=input, capture_output=True, timeout=timeout, check=check)

    def pid(self):
        """Host pid of the runner process (the namespace's PID 1): follow
        first children through wrappers (prlimit execs, unshare forks)."""
        pid = self.proc.pid
        for _ in range(5):
            with open("/proc/%d/comm" % pid) as f:
                if f.read().startswith(("runner", "memcheck")):
                    return pid
            with open("/proc/%d/task/%d/children" % (pid, pid)) as f:
                pid = int(f.read().split()[0])
        raise RuntimeError("runner process not found under %d" % self.proc.pid)

    def fd_count(self):
        """Open fds of the runner; under valgrind, only those below its
        own reserved range (valgrind's fds sit at the top of the table)."""
        fds = [int(x) for x in os.listdir("/proc/%d/fd" % self.pid())]
        if os.environ.get("RUNNER_VALGRIND"):
            fds = [x for x in fds if x < 1000]
        return len(fds)

    def rss(self):
        for line in open("/proc/%d/status" % self.pid()):
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
        return 0

    def logtext(self):
        self.log.flush()
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode(errors="replace")[-4000:]
        except OSError:
            return ""

    def alive(self):
        return self.proc.poll() is None

    def stop(self, timeout=15):
        """SIGTERM the namespace's init; return its exit status."""
        if self.proc.poll() is None:
            try:
                os.kill(self.pid(), signal.SIGTERM)
            except (OSError, IndexError, ValueError):
                self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                raise AssertionError("runner did not stop within %ss: %s" % (timeout, self.logtext()))
        return self.proc.returncode

    def __enter__(self):
        return self

    def sanitizer_reports(self):
        """ASan/UBSan reports in the runner's log (runner-asan builds),
        including those of forked helpers that died of them."""
        text = self.logtext_full()
        return [l for l in text.splitlines()
                if "AddressSanitizer" in l or "runtime error:" in l
                or (re.match(r"==\d+== ", l) and os.environ.get("RUNNER_VALGRIND"))]

    def logtext_full(self):
        self.log.flush()
        with open(self.log_path, "rb") as f:
            return f.read().decode(errors="replace")

    def __exit__(self, *exc):
        try:
            self.stop()
            reports = self.sanitizer_reports()
            if reports:
                raise AssertionError("sanitizer reports from the runner:\n" +
                                     "\n".join(reports[:20]))
        finally:
            self.log.close()
            if self.stdio:
                for f in (self.proc.stdin, self.proc.stdout):
                    try:
                        f.close()
                    except OSError:
                        pass
            shutil.rmtree(self.tmp, ignore_errors=True)


class RunnerTest(unittest.TestCase):
    """One runner per test class (fast); self.r, self.c ready."""
    runner_args = ()
    runner_kw = {}

    @classmethod
    def setUpClass(cls):
        cls.r = Runner(args=cls.runner_args, **cls.runner_kw)
        cls.c = cls.r.client()

    @classmethod
    def tearDownClass(cls):
        try:
            cls.c.close()
        finally:
            cls.r.__exit__(None, None, None)

    def assertAlive(self):
        self.assertTrue(self.r.alive(), self.r.logtext())
        res = self.r.client().call(rp.PING)
        self.assertTrue(res.ok, res)
