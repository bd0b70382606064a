"""test_docker_security.py - issue 12, items 1 and 3, in real containers.

The image here is the careless one: FROM scratch with busybox and the
static runner, an /etc/passwd without a `sandbox` user, ENTRYPOINT the
runner.  Item 1: started as root without --user it must not run
sandboxed code as uid 0.  Item 3: started with `docker run --user 1000`
(runner and sandbox share a uid), sandbox code that replaces the socket
with its own runner must not be reached by `runner attach` (docker:CTR)
nor by `runnerctl --expect-pid` on a bind-mounted socket.
"""
import io
import os
import shutil
import subprocess
import tarfile
import tempfile
import time
import unittest
import uuid

import e2e
from dockerd import DOCKER_BIN, Engine, Unavailable

IMAGE = "runner-e2e-nosandbox:test"
SUITE = "e2e docker security"
APPLETS = ("sh", "id", "rm", "cat", "ls", "echo", "setsid", "sleep", "test", "cp",
           "cmp", "stat", "chmod")


def scratch_image_tar():
    """A rootfs tarball: busybox, the runner, root and nobody only."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as t:
        def add_dir(name, mode):
            ti = tarfile.TarInfo(name)
            ti.type, ti.mode = tarfile.DIRTYPE, mode
            t.addfile(ti)

        def add_file(name, data, mode):
            ti = tarfile.TarInfo(name)
            ti.size, ti.mode = len(data), mode
            t.addfile(ti, io.BytesIO(data))

        for d, mode in (("bin", 0o755), ("sbin", 0o755), ("etc", 0o755), ("tmp", 0o1777),
                        ("run", 0o755), ("proc", 0o555), ("dev", 0o755), ("sys", 0o555),
                        ("root", 0o700)):
            add_dir(d, mode)
        with open("/bin/busybox", "rb") as f:
            add_file("bin/busybox", f.read(), 0o755)
        for a in APPLETS:
            ti = tarfile.TarInfo("bin/" + a)
            ti.type, ti.linkname, ti.mode = tarfile.SYMTYPE, "busybox", 0o777
            t.addfile(ti)
        with open(e2e.RUNNER, "rb") as f:
            add_file("sbin/runner", f.read(), 0o755)
        add_file("etc/passwd", b"root:x:0:0:root:/root:/bin/sh\n"
                 b"nobody:x:65534:65534:nobody:/:/bin/sh\n", 0o644)
        add_file("etc/group", b"root:x:0:\nnogroup:x:65534:\n", 0o644)
    return buf.getvalue()


class DockerSecurity(unittest.TestCase):
    eng = None

    @classmethod
    def setUpClass(cls):
        e2e.need_built(SUITE)
        if not os.path.exists("/bin/busybox"):
            e2e.cannot_run(SUITE, "no static /bin/busybox (busybox-static)")
        try:
            cls.eng = Engine.get()
        except Unavailable as e:
            e2e.cannot_run(SUITE, str(e))
        cls.saved_env = {k: os.environ.get(k) for k in ("DOCKER", "DOCKER_HOST")}
        os.environ.update(DOCKER=DOCKER_BIN, DOCKER_HOST=cls.eng.host)
        cls.eng.docker("import", "--change", 'ENTRYPOINT ["/sbin/runner"]',
                       "--change", "ENV PATH=/bin:/sbin", "-", IMAGE,
                       input=scratch_image_tar(), timeout=120)

    @classmethod
    def tearDownClass(cls):
        for k, v in getattr(cls, "saved_env", {}).items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        if cls.eng:
            cls.eng.close()

    def docker(self, *args, **kw):
        return self.eng.docker(*args, **kw)

    def run_ctr(self, *opts, args=()):
        name = "runner-e2e-sec-" + uuid.uuid4().hex[:10]
        self.docker("run", "-d", "--network", "none", "--name", name, *opts, IMAGE, *args)
        self.addCleanup(self.docker, "rm", "-f", name, check=False)
        return name

    def logs(self, ctr):
        r = self.docker("logs", ctr, check=False)
        return (r.stdout + r.stderr).decode(errors="replace")

    def wait_ready(self, ctr, timeout=30):
        end = time.time() + timeout
        while True:
            r = e2e.runnerctl("docker:" + ctr, "ping", timeout=30)
            if r.returncode == 0:
                return
            if time.time() > end or not self.eng.inspect(ctr)["State"]["Running"]:
                self.fail("runner in %s never answered: %s\nlogs:\n%s" % (
                    ctr, r.stderr.decode(errors="replace"), self.logs(ctr)))
            time.sleep(0.1)

    def exec_out(self, target, cmd):
        r = e2e.runnerctl(target, "exec", "--", cmd)
        return r.returncode, r.stdout.decode(errors="replace"), r.stderr.decode(errors="replace")

    # -- item 1
    def test_root_without_user_refuses_to_start(self):
        ctr = self.run_ctr()
        end = time.time() + 30
        while self.eng.inspect(ctr)["State"]["Running"] and time.time() < end:
            time.sleep(0.1)
        st = self.eng.inspect(ctr)["State"]
        self.assertFalse(st["Running"], self.logs(ctr))
        self.assertEqual(st["ExitCode"], 2, self.logs(ctr))
        lines = self.logs(ctr).strip().splitlines()
        self.assertEqual(len(lines), 1, lines)
        self.assertIn("--user", lines[0])

    def test_named_user_cannot_touch_the_runner(self):
        ctr = self.run_ctr(args=("--user", "65534:65534"))
        self.wait_ready(ctr)
        t = "docker:" + ctr
        rc, out, err = self.exec_out(t, "id -u")
        self.assertEqual(out.strip(), "65534", err)
        rc, out, err = self.exec_out(t, "echo 'echo pwned' > /sbin/runner; echo rc=$?")
        self.assertNotIn("rc=0", out)
        # the binary `docker exec ... runner attach` runs next is intact
        r = self.docker("exec", ctr, "/sbin/runner", "--version")
        self.assertIn(b"runner ", r.stdout)
        rc, out, err = self.exec_out(t, "grep -E '^(Uid|CapEff)' /proc/self/status")
        self.assertIn("65534", out)
        self.assertIn("0000000000000000", out)

    def test_root_by_name_is_said(self):
        ctr = self.run_ctr(args=("--user", "root"))
        self.wait_ready(ctr)
        r = e2e.runnerctl("docker:" + ctr, "info")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn(b"WARNING", r.stdout)
        self.assertIn("sandboxed code runs as root", self.logs(ctr))

    # -- item 3
    IMPOSTOR = ("rm -f {sock} && {{ setsid /sbin/runner --listen unix:{sock} --seccomp off "
                "--no-default-session </dev/null >/tmp/impostor.log 2>&1 & }}; "
                "i=0; while [ ! -S {sock} ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done; "
                "sleep 0.3; echo planted")

    def test_same_uid_socket_takeover_is_refused_by_attach(self):
        ctr = self.run_ctr("--user", "1000", "--cap-drop", "ALL")
        self.wait_ready(ctr)
        t = "docker:" + ctr
        rc, out, err = self.exec_out(t, "id -u; ls -l /tmp/runner.sock")
        self.assertIn("1000", out, err)
        rc, out, err = self.exec_out(t, self.IMPOSTOR.format(sock="/tmp/runner.sock"))
        self.assertIn("planted", out, err)
        r = e2e.runnerctl(t, "ping")
        self.assertNotEqual(r.returncode, 0, "attach reached the impostor")
        self.assertIn(b"refusing", r.stderr)
        # Control: the impostor is there and answers when trusted.
        r = e2e.runnerctl("cmd:%s exec -i %s /sbin/runner attach --trust-socket"
                          % (DOCKER_BIN, ctr), "info")
        self.assertEqual(r.returncode, 0, r.stderr)

    def test_expect_pid_on_a_bind_mounted_socket(self):
        d = tempfile.mkdtemp(prefix="runner-e2e-sec-")
        self.addCleanup(shutil.rmtree, d, True)
        os.chmod(d, 0o1777)
        ctr = self.run_ctr("--user", "1000", "--cap-drop", "ALL", "-v", d + ":/run/runner",
                           args=("--listen", "unix:/run/runner/runner.sock"))
        sock = os.path.join(d, "runner.sock")
        end = time.time() + 30
        while not os.path.exists(sock) and time.time() < end:
            time.sleep(0.05)
        pid = str(self.eng.inspect(ctr)["State"]["Pid"])
        target = "unix:" + sock
        ok = [e2e.RUNNERCTL, "--connect", target, "--expect-pid", pid, "ping"]
        r = subprocess.run(ok, capture_output=True, timeout=30)
        self.assertEqual(r.returncode, 0, r.stderr)
        rc, out, err = self.exec_out(target, self.IMPOSTOR.format(sock="/run/runner/runner.sock"))
        self.assertIn("planted", out, err)
        r = subprocess.run(ok, capture_output=True, timeout=30)
        self.assertNotEqual(r.returncode, 0, "runnerctl reached the impostor")
        self.assertIn(b"not the expected runner pid", r.stderr)


if __name__ == "__main__":
    unittest.main()
