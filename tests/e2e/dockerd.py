"""dockerd.py - a Docker engine for the e2e tests: the one that answers, or
a private dockerd started here and stopped afterwards.

    d = Engine.get()            # reuse $DOCKER_HOST / the system socket, or start one
    d.docker("run", "-d", ...)  # /usr/bin/docker with the right DOCKER_HOST
    d.close()                   # stops the daemon only if we started it

Also a command line for scripts (the bench) that want the same daemon:

    eval "$(python3 tests/e2e/dockerd.py start)"   # prints DOCKER=... DOCKER_HOST=...
    python3 tests/e2e/dockerd.py stop              # stops what `start` started

(`start` records its daemon in $BUILD_DIR/dockerd.json; a second `start`
with the same BUILD_DIR reuses it; `stop` stops only that one.)

The private daemon never touches the host's network: --bridge=none
--iptables=false --ip-masq=false, and every container runs --network none.
Its data-root and exec-root live in one temp dir, removed on stop.
"""
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

# docker.io's own client speaks to its 20.10 dockerd; a newer client found
# first on PATH may refuse the old API.
DOCKER_BIN = os.environ.get("DOCKER") or (
    "/usr/bin/docker" if os.path.exists("/usr/bin/docker") else "docker")
# What `start` started, for `stop`: one per build dir, so two users of the
# machine (the bench, a person) never stop each other's daemon.
_ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
STATE_FILE = os.path.join(_ROOT, os.environ.get("BUILD_DIR", "build"), "dockerd.json")


class Unavailable(Exception):
    """No engine can be used here; str() says why."""


def _answers(env):
    try:
        r = subprocess.run([DOCKER_BIN, "version", "--format", "{{.Server.Version}}"],
                           env=env, capture_output=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return r.returncode == 0


class Engine:
    def __init__(self, host, proc=None, root=None):
        self.host = host
        self.proc = proc    # our dockerd, or None when reusing one
        self.root = root    # our temp dir, or None
        self.env = dict(os.environ, DOCKER=DOCKER_BIN, DOCKER_HOST=host)

    # -- finding or starting a daemon
    @classmethod
    def get(cls, log=sys.stderr):
        for host in (os.environ.get("DOCKER_HOST"), "unix:///var/run/docker.sock"):
            if host and _answers(dict(os.environ, DOCKER_HOST=host)):
                return cls(host)
        return cls.start(log)

    @classmethod
    def start(cls, log=sys.stderr):
        dockerd = shutil.which("dockerd")
        if not dockerd:
            raise Unavailable("dockerd not installed (tools/deps docker)")
        if os.geteuid() != 0:
            raise Unavailable("starting a private dockerd needs root")
        if not os.path.exists(DOCKER_BIN) and not shutil.which(DOCKER_BIN):
            raise Unavailable("no docker client (%s)" % DOCKER_BIN)
        root = tempfile.mkdtemp(prefix="runner-dockerd-")
        host = "unix://%s/docker.sock" % root
        argv = [dockerd, "--host", host, "--data-root", root + "/data",
                "--exec-root", root + "/exec", "--pidfile", root + "/dockerd.pid",
                "--bridge=none", "--iptables=false", "--ip-masq=false"]
        logf = open(root + "/dockerd.log", "wb")
        proc = subprocess.Popen(argv, stdout=logf, stderr=logf,
                                stdin=subprocess.DEVNULL, start_new_session=True)
        logf.close()
        eng = cls(host, proc, root)
        end = time.time() + 60
        while time.time() < end:
            if proc.poll() is not None:
                text = eng.log_tail()
                eng.close()
                raise Unavailable("private dockerd exited %s: %s" % (proc.returncode, text))
            if _answers(eng.env):
                print("e2e: started a private dockerd (pid %d) at %s" % (proc.pid, host),
                      file=log)
                return eng
            time.sleep(0.2)
        text = eng.log_tail()
        eng.close()
        raise Unavailable("private dockerd did not answer within 60 s: " + text)

    def log_tail(self, n=2000):
        try:
            with open(self.root + "/dockerd.log", "rb") as f:
                return f.read().decode(errors="replace")[-n:]
        except (OSError, TypeError):
            return ""

    # -- using it
    def docker(self, *args, check=True, timeout=120, input=None):
        r = subprocess.run([DOCKER_BIN] + list(args), env=self.env, input=input,
                           capture_output=True, timeout=timeout)
        if check and r.returncode != 0:
            raise AssertionError("docker %s failed (%d): %s" % (
                " ".join(args), r.returncode, r.stderr.decode(errors="replace")))
        return r

    def inspect(self, ctr):
        return json.loads(self.docker("inspect", ctr).stdout)[0]

    # -- stopping it
    def close(self):
        if self.proc is None:
            return
        if self.proc.poll() is None:
            # Leave no container behind: their mounts live under our root.
            ids = self.docker("ps", "-aq", check=False, timeout=30).stdout.split()
            if ids:
                self.docker("rm", "-f", *[i.decode() for i in ids], check=False, timeout=60)
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None
        _remove_tree(self.root)


def _remove_tree(root):
    """rm -rf root, unless something is still mounted below it (then the
    tree is left for a human rather than deleting through a mount)."""
    if not root:
        return
    with open("/proc/self/mounts") as f:
        busy = [ln.split()[1] for ln in f if ln.split()[1].startswith(root + "/")]
    for m in sorted(busy, reverse=True):
        subprocess.run(["umount", "-l", m], capture_output=True)
    with open("/proc/self/mounts") as f:
        if any(ln.split()[1].startswith(root + "/") for ln in f):
            print("e2e: mounts remain under %s; not removing it" % root, file=sys.stderr)
            return
    shutil.rmtree(root, ignore_errors=True)


def _read_state():
    try:
        with open(STATE_FILE) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def _is_our_dockerd(st):
    """The recorded pid is still the dockerd we started (pids get reused)."""
    try:
        with open("/proc/%d/cmdline" % st["pid"], "rb") as f:
            argv = [a.decode(errors="replace") for a in f.read().split(b"\0")]
    except OSError:
        return False
    return (os.path.basename(argv[0]) == "dockerd" and
            "--data-root" in argv[:-1] and
            argv[argv.index("--data-root") + 1] == st["root"] + "/data")


def _main(argv):
    if argv[1:] == ["start"]:
        st = _read_state()
        if st and _is_our_dockerd(st) and _answers(dict(os.environ, DOCKER_HOST=st["host"])):
            eng = Engine(st["host"])     # started by an earlier `start`
        else:
            eng = Engine.get()
            if eng.proc:
                with open(STATE_FILE, "w") as f:
                    json.dump({"pid": eng.proc.pid, "root": eng.root, "host": eng.host}, f)
        print("export DOCKER=%s DOCKER_HOST=%s" % (DOCKER_BIN, eng.host))
        # The daemon runs in its own session and outlives this process.
        return 0
    if argv[1:] == ["stop"]:
        st = _read_state()
        if not st:
            return 0
        if _is_our_dockerd(st):
            env = dict(os.environ, DOCKER_HOST=st["host"])
            ids = subprocess.run([DOCKER_BIN, "ps", "-aq"], env=env, capture_output=True,
                                 timeout=30).stdout.split()
            if ids:
                subprocess.run([DOCKER_BIN, "rm", "-f"] + [i.decode() for i in ids],
                               env=env, capture_output=True, timeout=60)
            try:
                os.kill(st["pid"], signal.SIGTERM)
                for _ in range(300):
                    os.kill(st["pid"], 0)
                    time.sleep(0.1)
            except ProcessLookupError:
                pass
            _remove_tree(st["root"])
        os.unlink(STATE_FILE)
        return 0
    print("usage: dockerd.py start|stop", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(_main(sys.argv))
