"""PID-1 duties: reaping, signals, graceful shutdown, the main command
(tini's scenarios), subreaper mode.  Real processes in real namespaces;
the probes are static programs from tests/integration/probes/."""
import os
import re
import shlex
import shutil
import signal
import subprocess
import tempfile
import time
import unittest

from harness import Runner, RUNNER, user_args
import rproto as rp
from pidtools import (have_probes, kv, probe, run_main, scratch, wait_file)

needs_probes = unittest.skipUnless(
    have_probes(), "SKIP: probes not built (make -f Makefile -f tests/integration/probes.mk probes)")


def nsenter(r, *cmd, timeout=60):
    """Run cmd inside the runner's PID and mount namespaces."""
    return subprocess.run(["nsenter", "-t", str(r.pid()), "-p", "-m", "--"] + list(cmd),
                          capture_output=True, timeout=timeout)


def alive(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


class TestMainCommandStatus(unittest.TestCase):
    """`runner -- CMD`: the runner's exit status is CMD's."""

    def test_exit_codes_pass_through(self):
        for code in (0, 1, 2, 42, 126, 127, 128, 255):
            p = run_main(["/bin/sh", "-c", "exit %d" % code])
            self.assertEqual(p.returncode, code, p.stderr[-2000:])

    def test_signalled_main_gives_128_plus_n(self):
        for sig in (signal.SIGKILL, signal.SIGTERM, signal.SIGSEGV):
            p = run_main(["/bin/sh", "-c", "kill -%d $$" % sig])
            self.assertEqual(p.returncode, 128 + sig, p.stderr[-2000:])

    def test_missing_program_is_127(self):
        p = run_main(["/nonexistent/program"])
        self.assertEqual(p.returncode, 127)
        self.assertIn(b"cannot run /nonexistent/program", p.stderr)

    def test_not_executable_is_126(self):
        d = scratch()
        path = os.path.join(d, "plain")
        with open(path, "w") as f:
            f.write("not a program\n")
        os.chmod(path, 0o644)
        p = run_main([path])
        self.assertEqual(p.returncode, 126, p.stderr[-2000:])

    def test_args_and_stdio_reach_main(self):
        p = run_main(["/bin/sh", "-c", 'printf "%s|" "$@"', "sh", "a b", "", "c"])
        self.assertEqual(p.returncode, 0)
        self.assertIn(b"a b||c|", p.stdout)

    def test_main_inherits_the_fds_the_runner_inherited(self):
        # As under tini: an fd a supervisor hands the runner reaches CMD.
        r, w = os.pipe()
        try:
            p = run_main(["/bin/sh", "-c", "echo through >&%d" % w],
                         pass_fds=(w,))
            os.close(w)
            w = -1
            self.assertEqual(p.returncode, 0, p.stderr[-2000:])
            self.assertEqual(os.read(r, 100), b"through\n")
        finally:
            os.close(r)
            if w >= 0:
                os.close(w)

    def test_main_under_listen_stdio_gets_devnull_and_stderr(self):
        # stdin and stdout carry the protocol: CMD reads /dev/null and
        # writes to the runner's stderr.
        p = run_main(["/bin/sh", "-c",
                      '[ -p /proc/self/fd/0 ] && echo in-pipe || echo in-null; '
                      'echo to-stdout'],
                     args=["--listen", "stdio"], input=b"")
        self.assertEqual(p.returncode, 0, p.stderr[-2000:])
        self.assertNotIn(b"to-stdout", p.stdout)
        self.assertIn(b"in-null", p.stderr)
        self.assertIn(b"to-stdout", p.stderr)

    def test_main_leads_its_own_process_group(self):
        p = run_main(["/bin/sh", "-c",
                      'set -- $(cut -d")" -f2 /proc/$$/stat); '
                      '[ "$3" = $$ ] && echo own-group || echo "group $3"'])
        self.assertEqual(p.returncode, 0, p.stderr[-2000:])
        self.assertIn(b"own-group", p.stdout)

    @unittest.skipUnless(shutil.which("script"), "SKIP: no script(1)")
    def test_main_takes_the_foreground_of_the_runners_terminal(self):
        # tini's rule (docker run -t): with a terminal on the runner's
        # stdin, CMD's group is the foreground one, or a read stops it.
        d = scratch()
        cmd = ["unshare", "--fork", "--pid", "--mount-proc", "--kill-child",
               RUNNER] + user_args([]) + [
               "--listen", "unix:" + os.path.join(d, "s"), "--", "/bin/sh",
               "-c", 'set -- $(cut -d")" -f2 /proc/$$/stat); '
               'echo "pg=$3 tpgid=$6"']
        try:
            p = subprocess.run(
                ["script", "-qec", " ".join(map(shlex.quote, cmd)),
                 "/dev/null"], capture_output=True, timeout=60,
                stdin=subprocess.DEVNULL, cwd=d)
        finally:
            shutil.rmtree(d, ignore_errors=True)
        m = re.search(rb"pg=(\d+) tpgid=(\d+)", p.stdout)
        self.assertTrue(m, p.stdout[-2000:])
        self.assertEqual(m.group(1), m.group(2), p.stdout[-2000:])

    def test_subreaper_mode_status(self):
        p = run_main(["/bin/sh", "-c", "exit 7"], pid1=False)
        self.assertEqual(p.returncode, 7, p.stderr[-2000:])


@needs_probes
class TestMainCommandSignals(unittest.TestCase):
    def test_signals_are_forwarded(self):
        d = scratch()
        out = os.path.join(d, "sigs")
        with Runner(args=["--", probe("sigprobe"), "echo", out]) as r:
            wait_file(out, "ready")
            expect = []
            for sig in (signal.SIGUSR1, signal.SIGHUP, signal.SIGWINCH,
                        signal.SIGINT, signal.SIGUSR2, signal.SIGQUIT,
                        signal.SIGCONT):
                os.kill(r.pid(), sig)
                expect.append("sig %d" % sig)
                wait_file(out, expect[-1])
            self.assertTrue(r.alive(), r.logtext())
            # SIGTERM is forwarded too: the probe exits 0, so does the runner.
            self.assertEqual(r.stop(), 0, r.logtext())
        with open(out) as f:
            lines = f.read().split("\n")
        self.assertEqual([l for l in lines if l.startswith("sig ")],
                         expect + ["sig %d" % signal.SIGTERM])

    def test_main_exit_stops_the_rest(self):
        # A detached process ignoring SIGTERM outlives the main command;
        # the runner (not PID 1: a subreaper, so the pid is visible here)
        # must SIGKILL it after the grace and only then exit, with the
        # main command's status.
        d = scratch()
        pidfile = os.path.join(d, "pid")
        script = '%s daemon ignore %s; while [ ! -s %s ]; do sleep 0.01; done; exit 5' % (
            probe("sigprobe"), pidfile, pidfile)
        t0 = time.monotonic()
        p = run_main(["/bin/sh", "-c", script], args=["--grace", "700"], pid1=False)
        elapsed = time.monotonic() - t0
        self.assertEqual(p.returncode, 5, p.stderr[-2000:])
        with open(pidfile) as f:
            pid = int(f.read())
        self.assertFalse(alive(pid), "detached child survived the runner")
        self.assertGreaterEqual(elapsed, 0.7)
        self.assertIn(b"grace period over", p.stderr)


@needs_probes
class TestReaping(unittest.TestCase):
    def test_1000_orphans_reaped_as_pid1(self):
        p = run_main([probe("orphans"), "1000"])
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr[-2000:])
        self.assertIn(b"orphans=1000 zombies_left=0", p.stdout)

    def test_1000_orphans_reaped_as_subreaper(self):
        p = run_main([probe("orphans"), "1000"], pid1=False)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr[-2000:])
        self.assertIn(b"orphans=1000 zombies_left=0", p.stdout)

    def test_orphans_from_outside_reaped_without_main(self):
        # Processes entering the namespace later (docker exec) leave
        # their orphans to PID 1 too.
        with Runner() as r:
            p = nsenter(r, probe("orphans"), "300", "1")
            self.assertEqual(p.returncode, 0, p.stdout + r.logtext().encode())
            self.assertIn(b"zombies_left=0", p.stdout)
            self.assertTrue(r.alive())
            res = r.client().call(rp.PING)
            self.assertTrue(res.ok, res)


@needs_probes
class TestShutdown(unittest.TestCase):
    def start_daemon(self, r, mode, d, name):
        out = os.path.join(d, name)
        p = nsenter(r, probe("sigprobe"), "daemon", mode, out)
        self.assertEqual(p.returncode, 0, p.stderr)
        wait_file(out, "\n")

    def test_sigterm_stops_children_without_waiting_for_grace(self):
        d = scratch()
        r = Runner(args=["--grace", "20000"])
        try:
            for i in range(3):
                self.start_daemon(r, "term", d, "d%d" % i)
            t0 = time.monotonic()
            code = r.stop(timeout=30)
            elapsed = time.monotonic() - t0
        finally:
            r.__exit__(None, None, None)
        self.assertEqual(code, 0)
        # Everything obeyed SIGTERM: no reason to sit out the 20 s grace.
        self.assertLess(elapsed, 20)

    def test_sigterm_ignorer_is_killed_after_grace(self):
        d = scratch()
        r = Runner(args=["--grace", "800"])
        try:
            self.start_daemon(r, "ignore", d, "d")
            t0 = time.monotonic()
            code = r.stop(timeout=30)
            elapsed = time.monotonic() - t0
            log = r.logtext()
        finally:
            r.__exit__(None, None, None)
        self.assertEqual(code, 0, log)
        self.assertGreaterEqual(elapsed, 0.8)
        self.assertIn("grace period over", log)

    def test_sigint_and_sighup_also_stop(self):
        for sig in (signal.SIGINT, signal.SIGHUP):
            r = Runner()
            try:
                os.kill(r.pid(), sig)
                r.proc.wait(30)
                self.assertEqual(r.proc.returncode, 0, r.logtext())
            finally:
                r.__exit__(None, None, None)

    def test_shutdown_request(self):
        d = scratch()
        r = Runner(args=["--grace", "20000"])
        try:
            self.start_daemon(r, "term", d, "d")
            c = r.client()
            res = c.call(rp.SHUTDOWN, [("GRACE_MS", 1500)])
            self.assertTrue(res.ok, res)
            self.assertEqual(res.fields.int("GRACE_MS"), 1500)
            r.proc.wait(30)
            self.assertEqual(r.proc.returncode, 0, r.logtext())
        finally:
            r.__exit__(None, None, None)

    def test_shutdown_bad_grace_is_an_error(self):
        with Runner() as r:
            c = r.client()
            res = c.call(rp.SHUTDOWN, [("GRACE_MS", 3600001)])
            self.assertFalse(res.ok)
            self.assertEqual(res.code, rp.E_BAD_REQUEST)
            self.assertTrue(r.alive())
            self.assertTrue(r.client().call(rp.PING).ok)

    def test_subreaper_sigterm_reaches_detached_descendants(self):
        d = scratch()
        pidfile = os.path.join(d, "pid")
        r = Runner(pid1=False, args=["--grace", "20000", "--",
                                     "/bin/sh", "-c", "%s daemon term %s; exec sleep 1000" % (
                                         probe("sigprobe"), pidfile)])
        try:
            pid = int(wait_file(pidfile, "\n"))
            self.assertTrue(alive(pid))
            r.proc.send_signal(signal.SIGTERM)  # forwarded to the main
            r.proc.wait(30)
            # sleep dies of SIGTERM: 143; the setsid'd daemon, in no group
            # the runner knows, was found through /proc.
            self.assertEqual(r.proc.returncode, 128 + signal.SIGTERM, r.logtext())
            self.assertFalse(alive(pid))
        finally:
            r.__exit__(None, None, None)


class TestInitMounts(unittest.TestCase):
    """--init-mounts as PID 1 of fresh mount, UTS and network namespaces:
    what is missing gets mounted, the hostname is set, lo comes up, and
    the host's /dev (devtmpfs is one filesystem kernel-wide) is not
    changed.  The VM path proper (no /proc at all) is tests/e2e/test_vm.py."""

    def test_container_init_mounts(self):
        before = os.lstat("/dev/ptmx")
        # /tmp and /run get fresh tmpfs mounts: the socket lives elsewhere
        # (not beside the build either: a checkout may itself be in /tmp).
        d = tempfile.mkdtemp(prefix="runner-initmounts-", dir="/var/tmp")
        try:
            script = ("hostname; grep -E ' /(tmp|run) tmpfs ' /proc/mounts | wc -l;"
                      " cat /sys/class/net/lo/flags 2>/dev/null || ip -o link show lo")
            p = subprocess.run(
                ["unshare", "--fork", "--pid", "--mount", "--uts", "--net",
                 "--mount-proc", RUNNER, "--user", "root",
                 "--listen", "unix:" + os.path.join(d, "s"),
                 "--init-mounts", "--hostname", "initbox", "--", "/bin/sh", "-c", script],
                capture_output=True, timeout=60, stdin=subprocess.DEVNULL)
        finally:
            shutil.rmtree(d, ignore_errors=True)
        self.assertEqual(p.returncode, 0, p.stderr[-2000:])
        lines = p.stdout.decode().split("\n")
        self.assertEqual(lines[0], "initbox")
        self.assertEqual(lines[1], "2")
        self.assertTrue(lines[2].startswith("0x") and int(lines[2], 16) & 1 or "UP" in lines[2],
                        lines[2])
        after = os.lstat("/dev/ptmx")
        self.assertEqual((before.st_mode, before.st_rdev, before.st_ino),
                         (after.st_mode, after.st_rdev, after.st_ino))
        self.assertIn(b"vm init: filesystems mounted", p.stderr)


class TestInfo(unittest.TestCase):
    def test_info_reports_hardening_steps(self):
        with Runner() as r:
            res = r.client().call(rp.INFO)
            self.assertTrue(res.ok, res)
            steps = [s.decode() for s in res.fields.all("HARDENING")]
            names = [s.split("=", 1)[0] for s in steps]
            self.assertEqual(names, ["caps_bounding", "securebits", "user", "caps",
                                     "not_dumpable", "no_new_privs", "seccomp"], steps)
            for s in steps:
                self.assertRegex(s, r"^\w+=(applied|skipped: .+)")


if __name__ == "__main__":
    unittest.main()
