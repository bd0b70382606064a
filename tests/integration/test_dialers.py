"""runnerctl's dialers against stand-ins for the hosts that are not here:
fc: against a fake Firecracker hybrid-vsock endpoint, kubectl: and
docker: against stub CLIs that run `runner attach` locally.  (vsock: is
exercised for real inside a QEMU guest, tests/e2e/test_vm.py.)
"""
import os
import shutil
import socket
import subprocess
import tempfile
import threading
import unittest

from harness import RUNNER, RUNNERCTL, RunnerTest

FC_PORT = 1024


class FakeFirecracker:
    """The host side of Firecracker's hybrid vsock: a unix socket where a
    client writes "CONNECT PORT\\n"; for a port a guest listens on the
    answer is "OK HOSTPORT\\n" and then bytes flow both ways (here: to a
    runner's unix socket).  Unknown ports are closed without an answer,
    as Firecracker does.  `reply` overrides the answer line."""

    def __init__(self, path, ports, reply=None):
        self.path, self.ports, self.reply = path, ports, reply
        self.lines = []
        self.srv = socket.socket(socket.AF_UNIX)
        self.srv.bind(path)
        self.srv.listen(8)
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def close(self):
        self.srv.close()

    def _serve(self):
        while True:
            try:
                conn, _ = self.srv.accept()
            except OSError:
                return
            threading.Thread(target=self._one, args=(conn,), daemon=True).start()

    def _one(self, conn):
        line = b""
        while not line.endswith(b"\n") and len(line) < 64:
            b = conn.recv(1)
            if not b:
                break
            line += b
        self.lines.append(line)
        parts = line.split()
        target = None
        if len(parts) == 2 and parts[0] == b"CONNECT" and parts[1].isdigit():
            target = self.ports.get(int(parts[1]))
        if self.reply is not None:
            conn.sendall(self.reply)
            conn.close()
            return
        if target is None:
            conn.close()
            return
        up = socket.socket(socket.AF_UNIX)
        up.connect(target)
        conn.sendall(b"OK 1073741824\n")
        pump = threading.Thread(target=_pump, args=(up, conn), daemon=True)
        pump.start()
        _pump(conn, up)
        pump.join(30)
        conn.close()
        up.close()


def _pump(src, dst):
    try:
        while True:
            b = src.recv(65536)
            if not b:
                dst.shutdown(socket.SHUT_WR)
                return
            dst.sendall(b)
    except OSError:
        return


class TestFirecrackerDialer(RunnerTest):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="runner-fc-")
        self.addCleanup(shutil.rmtree, self.tmp, True)
        self.uds = os.path.join(self.tmp, "v.sock")

    def fake(self, **kw):
        fc = FakeFirecracker(self.uds, {FC_PORT: self.r.sock}, **kw)
        self.addCleanup(fc.close)
        return fc

    def ctl(self, target, *args):
        return subprocess.run([RUNNERCTL, "--connect", target] + list(args),
                              capture_output=True, timeout=30)

    def test_connect_handshake_then_protocol(self):
        fc = self.fake()
        r = self.ctl("fc:%s:%d" % (self.uds, FC_PORT), "info")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn(b"pid1: 1", r.stdout)
        self.assertEqual(fc.lines, [b"CONNECT %d\n" % FC_PORT])
        r = self.ctl("fc:%s:%d" % (self.uds, FC_PORT), "ping", "-n", "20")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout.count(b"pong"), 20)

    def test_port_nobody_listens_on(self):
        self.fake()
        r = self.ctl("fc:%s:%d" % (self.uds, 9), "ping")
        self.assertEqual(r.returncode, 1)
        self.assertIn(b"no reply to CONNECT 9", r.stderr)
        self.assertAlive()

    def test_refused_answer(self):
        self.fake(reply=b"ERR no such port\n")
        r = self.ctl("fc:%s:%d" % (self.uds, FC_PORT), "ping")
        self.assertEqual(r.returncode, 1)
        self.assertIn(b"refused", r.stderr)

    def test_no_endpoint(self):
        r = self.ctl("fc:%s:%d" % (self.uds, FC_PORT), "ping")
        self.assertEqual(r.returncode, 1)
        self.assertIn(b"cannot connect", r.stderr)

    def test_malformed_targets(self):
        for t in ("fc:", "fc:nocolon", "fc:%s:notaport" % self.uds,
                  "fc:/" + "x" * 200 + ":5", "vsock:", "vsock:1", "vsock:a:b"):
            r = self.ctl(t, "ping")
            self.assertNotEqual(r.returncode, 0, t)
            self.assertTrue(r.stderr.startswith(b"runnerctl: "), (t, r.stderr))


STUB = """#!/bin/sh
# stub %(name)s: record argv, then relay to the local runner like
# `%(name)s exec -i ... -- /sbin/runner attach` would inside the sandbox.
printf '%%s\\n' "$*" >>"%(log)s"
for last; do :; done
[ "$last" = attach ] || { echo "stub %(name)s: unexpected argv: $*" >&2; exit 64; }
exec "%(runner)s" attach --socket "%(sock)s"
"""


class TestStubCliDialers(RunnerTest):
    """kubectl:POD[:CONTAINER] and docker:CTR spawn a CLI; stubs stand in."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.bin = tempfile.mkdtemp(prefix="runner-stubs-")
        cls.log = os.path.join(cls.bin, "argv.log")
        for name in ("kubectl", "docker"):
            path = os.path.join(cls.bin, name)
            with open(path, "w") as f:
                f.write(STUB % {"name": name, "log": cls.log, "runner": RUNNER,
                                "sock": cls.r.sock})
            os.chmod(path, 0o755)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.bin, ignore_errors=True)
        super().tearDownClass()

    def ctl(self, target, *args, env=None):
        e = dict(os.environ, PATH=self.bin + ":" + os.environ["PATH"])
        e.pop("DOCKER", None)
        e.update(env or {})
        if os.path.exists(self.log):
            os.unlink(self.log)
        r = subprocess.run([RUNNERCTL, "--connect", target] + list(args),
                           capture_output=True, timeout=30, env=e)
        argv = []
        if os.path.exists(self.log):
            with open(self.log) as f:
                argv = f.read().splitlines()
        return r, argv

    def test_kubectl_pod(self):
        r, argv = self.ctl("kubectl:sandbox-0", "info")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn(b"pid1: 1", r.stdout)
        self.assertEqual(argv, ["exec -i sandbox-0 -- /sbin/runner attach"])

    def test_kubectl_pod_and_container(self):
        r, argv = self.ctl("kubectl:sandbox-0:agent", "ping")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(argv, ["exec -i sandbox-0 -c agent -- /sbin/runner attach"])

    def test_kubectl_namespace_context_and_KUBECTL(self):
        # kubectl:NS/POD[:C] and --context, as the Python SDK dials (issue 14)
        r, argv = self.ctl("kubectl:team-a/sandbox-0:agent", "ping", "--context", "prod")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(argv, ["--context prod exec -i -n team-a sandbox-0 -c agent "
                                "-- /sbin/runner attach"])
        stub = os.path.join(self.bin, "kubectl")
        r, argv = self.ctl("kubectl:sandbox-0", "ping",
                           env={"KUBECTL": stub, "PATH": "/usr/bin:/bin"})
        self.assertEqual(r.returncode, 0, r.stderr)
        r, _ = self.ctl("kubectl:/pod", "ping")
        self.assertEqual(r.returncode, 1)
        self.assertIn(b"kubectl:[NS/]POD", r.stderr)

    def test_names_are_quoted_not_shell_text(self):
        # A container name is one word for the CLI, whatever it holds.
        r, argv = self.ctl("docker:a'b $(touch /tmp/pwned-runner) c", "ping")
        self.assertEqual(argv, ["exec -i a'b $(touch /tmp/pwned-runner) c /sbin/runner attach"])
        self.assertFalse(os.path.exists("/tmp/pwned-runner"))

    def test_docker_ctr_honours_DOCKER(self):
        r, argv = self.ctl("docker:box", "ping")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(argv, ["exec -i box /sbin/runner attach"])
        stub = os.path.join(self.bin, "docker")
        r, argv = self.ctl("docker:box", "ping", env={"DOCKER": stub,
                                                     "PATH": "/usr/bin:/bin"})
        self.assertEqual(r.returncode, 0, r.stderr)

    def test_cli_that_fails(self):
        # The CLI exits before speaking (kubectl: pod not found): a clear
        # error, no hang, and the runner is unaffected.
        r = subprocess.run([RUNNERCTL, "--connect", "cmd:exit 3", "ping"],
                           capture_output=True, timeout=30)
        self.assertEqual(r.returncode, 1)
        self.assertIn(b"closed the connection during HELLO", r.stderr)
        self.assertAlive()


if __name__ == "__main__":
    unittest.main()
