"""Issue 12: the deployment modes fail closed.  Each test attacks the
runner from inside the sandbox (or starts it the way a careless
deployment would) and checks the attack fails."""
import os
import shutil
import subprocess
import unittest

from harness import RUNNER, Runner
import rproto as rp
from pidtools import run_main, scratch

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


if __name__ == "__main__":
    unittest.main()
