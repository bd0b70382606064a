"""test_vm.py - the runner as /init of a QEMU guest, reached over AF_VSOCK.

One boot per run (software emulation, about 10 s): Debian's kernel
(tools/deps vm), an initramfs from tools/vm/mkinitramfs whose /init is
the static runner.  The runner mounts the world, loads the vsock loopback
modules (--modules), listens on vsock:PORT and runs tools/vm/guest-test as
its main command; that script drives the runner with the static runnerctl
over vsock CID 1 and prints one E2E-CHECK line per check on the serial
console, then sends SHUTDOWN, and the runner powers the guest off.
"""
import os
import re
import shutil
import subprocess
import tempfile
import time
import unittest

import e2e

SUITE = "e2e vm"
DEPS_ROOT = os.path.join(e2e.ROOT, "build")


def vm_env():
    env = {}
    path = os.path.join(DEPS_ROOT, "vm", "kernel.env")
    if os.path.exists(path):
        with open(path) as f:
            for ln in f:
                m = re.match(r'^(\w+)="?([^"]*)"?$', ln.strip())
                if m:
                    env[m.group(1)] = m.group(2)
    return env


class VmTest(unittest.TestCase):
    console = ""
    checks = {}

    @classmethod
    def setUpClass(cls):
        e2e.need_built(SUITE)
        if not shutil.which("qemu-system-x86_64"):
            e2e.cannot_run(SUITE, "qemu-system-x86_64 not installed (tools/deps vm)")
        env = vm_env()
        kernel = os.path.join(e2e.ROOT, env.get("VM_KERNEL", "build/vm/vmlinuz"))
        mods = [os.path.join(e2e.ROOT, m) for m in env.get("VM_MODULES", "").split()]
        if not os.path.exists(kernel) or len(mods) != 3 or not all(map(os.path.exists, mods)):
            e2e.cannot_run(SUITE, "no guest kernel or vsock modules in build/vm (tools/deps vm)")
        helptext = subprocess.run([e2e.RUNNER, "--help"], capture_output=True).stdout
        if b"--modules" not in helptext:
            e2e.cannot_run(SUITE, "this runner has no --modules flag (VM-init mode not built)")
        tmp = tempfile.mkdtemp(prefix="runner-vm-")
        try:
            cls.boot(tmp)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)

    @classmethod
    def boot(cls, tmp):
        env = dict(os.environ, BUILD_DIR=os.path.relpath(e2e.BUILD, e2e.ROOT),
                   VM_TIMEOUT="120", VM_PORT="1024")
        initrd = os.path.join(tmp, "initramfs.cpio.gz")
        r = subprocess.run([os.path.join(e2e.ROOT, "tools", "vm", "mkinitramfs"), initrd],
                           env=env, capture_output=True, timeout=120)
        if r.returncode != 0:
            raise AssertionError("mkinitramfs failed: " + r.stderr.decode(errors="replace"))
        t0 = time.monotonic()
        r = subprocess.run([os.path.join(e2e.ROOT, "tools", "vm", "boot"), initrd],
                           env=env, capture_output=True, timeout=300)
        cls.seconds = time.monotonic() - t0
        cls.qemu_status = r.returncode
        cls.console = (r.stdout + r.stderr).decode(errors="replace").replace("\r", "")
        print("\ne2e vm: boot, test and power-off took %.1f s" % cls.seconds)
        cls.checks = {}
        for m in re.finditer(r"^E2E-CHECK (\S+) (ok|fail|unsupported) ?(.*)$",
                             cls.console, re.M):
            cls.checks[m.group(1)] = (m.group(2), m.group(3))

    def tail(self):
        return "\n--- console (last 3000 chars) ---\n" + self.console[-3000:]

    def expect(self, *names):
        for name in names:
            with self.subTest(check=name):
                self.assertIn(name, self.checks, "guest never ran check %s%s" % (
                    name, self.tail()))
                state, detail = self.checks[name]
                if state == "unsupported":
                    self.skipTest("%s: not implemented in this runner yet: %s" % (name, detail))
                self.assertEqual(state, "ok", "%s: %s%s" % (name, detail, self.tail()))

    def test_guest_powered_off_cleanly(self):
        self.assertNotIn("Kernel panic", self.console, self.tail())
        self.assertIn("reboot: Power down", self.console, self.tail())
        self.assertEqual(self.qemu_status, 0, self.tail())

    def test_shutdown_request_over_vsock_powers_off(self):
        self.assertIn("shutdown requested by a client", self.console, self.tail())
        self.assertIn("reboot: Power down", self.console, self.tail())

    def test_shutdown_needed_no_sigkill(self):
        # The main command exited; everything left (the session's shell)
        # honours the runner's stop without the grace period running out.
        self.assertIn("E2E-VERDICT", self.console, self.tail())
        self.assertNotIn("grace period over", self.console, self.tail())

    def test_verdict(self):
        m = re.search(r"^E2E-VERDICT (PASS|FAIL)$", self.console, re.M)
        self.assertTrue(m, "no verdict on the console" + self.tail())
        self.assertEqual(m.group(1), "PASS", self.tail())

    def test_vm_init_mounts_modules_and_lo(self):
        self.expect("vsock-modules", "lo-up", *[n for n in self.checks if n.startswith("mount:")])
        self.assertEqual(len([n for n in self.checks if n.startswith("mount:")]), 7)

    def test_protocol_over_vsock(self):
        self.expect("ping", "info-pid1", "bad-target")

    def test_vsock_requires_the_token(self):
        # the runner serves vsock only with --token-file; without it: E_AUTH
        self.expect("vsock-needs-token")

    def test_proc_mounted_with_hidepid(self):
        self.expect("proc-hidepid")

    def test_dropped_to_the_sandbox_user(self):
        self.expect("info-user", "runs-as-sandbox")

    def test_exec_over_vsock(self):
        self.expect("exec", "exec-state", "exec-status")

    def test_spawn_over_vsock(self):
        self.expect("spawn")

    def test_files_over_vsock(self):
        self.expect("write", "read", "ls", "missing-file")


if __name__ == "__main__":
    unittest.main()
