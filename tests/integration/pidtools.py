"""pidtools.py - helpers shared by test_pid1.py and test_harden.py:
run the runner with a main command, read probe output files, find the
static probes ($BUILD_DIR/probes, built by tests/integration/probes.mk).
"""
import atexit
import os
import shutil
import subprocess
import tempfile
import time

from harness import BUILD, RUNNER, Runner, user_args

PROBES = os.path.join(BUILD, "probes")


def probe(name):
    return os.path.join(PROBES, name)


def have_probes():
    return all(os.path.exists(probe(n)) for n in ("hprobe", "sigprobe", "orphans"))


def scratch():
    """A temp dir anyone may write to (probes run as other users)."""
    d = tempfile.mkdtemp(prefix="runner-pid1-")
    os.chmod(d, 0o1777)
    atexit.register(shutil.rmtree, d, True)
    return d


def run_main(cmd, args=(), pid1=True, timeout=60, wrap=(), **kw):
    """Run `runner ARGS -- CMD` to its end; CompletedProcess (bytes).
    kw goes to subprocess.run (stdin is /dev/null unless input is given)."""
    d = scratch()
    try:
        argv = list(wrap) + [RUNNER, "--listen", "unix:" + os.path.join(d, "s")]
        if not wrap:
            argv += user_args(args)
        argv += list(args) + ["--"] + list(cmd)
        if pid1:
            argv = ["unshare", "--fork", "--pid", "--mount-proc", "--kill-child"] + argv
        if "input" not in kw:
            kw.setdefault("stdin", subprocess.DEVNULL)
        return subprocess.run(argv, capture_output=True, timeout=timeout,
                              cwd=d, **kw)
    finally:
        shutil.rmtree(d, ignore_errors=True)


def wait_file(path, needle, timeout=30):
    """Contents of path once it holds needle (a hang guard, not a clock)."""
    end = time.time() + timeout
    text = ""
    while time.time() < end:
        try:
            with open(path) as f:
                text = f.read()
        except OSError:
            text = ""
        if needle in text:
            return text
        time.sleep(0.02)
    raise AssertionError("%s never contained %r: %r" % (path, needle, text))


def kv(text):
    """name=value lines as a dict (values keep inner '=')."""
    out = {}
    for line in text.splitlines():
        if "=" in line:
            k, v = line.split("=", 1)
            out[k] = v.strip()
    return out


def host_status(pid):
    out = {}
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            k, _, v = line.partition(":")
            out[k] = v.strip()
    return out


class WrappedRunner(Runner):
    """A Runner (PID 1 of fresh namespaces) started through a wrapper that
    drops privileges first (setpriv): the socket directory is writable by
    anyone.  Reuses Runner's client, pid, stop and log handling."""

    def __init__(self, wrap, args=()):
        self.tmp = scratch()
        self.sock = os.path.join(self.tmp, "runner.sock")
        self.log_path = os.path.join(self.tmp, "runner.log")
        self.stdio = False
        self.argv = (["unshare", "--fork", "--pid", "--mount-proc", "--kill-child"]
                     + list(wrap) + [RUNNER, "--log-level", "debug",
                                     "--listen", "unix:" + self.sock] + list(args))
        self.log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(self.argv, stdout=self.log, stderr=self.log,
                                     stdin=subprocess.DEVNULL, cwd=self.tmp)
        self._wait_socket()
