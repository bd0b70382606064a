"""runnerctl, command by command, through the real runner (static, PID 1
of fresh namespaces): every operation of issue 15's list, the option
rules (before or after positionals, `--`, `--name=V`), help that names
every flag, and the exit statuses the help promises.
"""
import os
import re
import subprocess
import sys
import tempfile
import time
import unittest

from harness import ROOT, RUNNERCTL, PtyShell, Runner, RunnerTest
import rproto as rp

from test_proc import HANG, wait_until

PYDIR = os.path.join(ROOT, "tools", "python")


def offline(*args, input=None):
    """runnerctl with a target nobody listens on: help and usage errors
    must not need a runner."""
    return subprocess.run([RUNNERCTL, "--connect", "unix:/nonexistent.sock"] + list(args),
                          input=input, capture_output=True, timeout=HANG)


class CtlCase(RunnerTest):
    def ctl(self, *args, input=None, ok=None):
        p = self.r.ctl(*args, input=input, timeout=HANG)
        if ok is not None:
            self.assertEqual(p.returncode, ok, p)
        return p

    def session_state(self, name):
        """STATE column of `session list` for name, or None."""
        p = self.ctl("session", "list", ok=0)
        for line in p.stdout.decode().splitlines()[1:]:
            w = line.split()
            if w and w[0] == name:
                return w[2]
        return None

    def bg(self, *argv, stdin=False):
        p = self.ctl("spawn", "--bg", *(["--stdin"] if stdin else []), "--", *argv, ok=0)
        pid = p.stdout.strip().decode()
        self.assertTrue(pid.isdigit(), p)
        return pid


class TestHelp(unittest.TestCase):
    """Help and usage need no runner: the target does not exist."""

    COMMANDS = ["exec", "shell", "session open", "session list", "session close",
                "interrupt", "cancel", "resize", "spawn", "ps", "attach", "wait",
                "exec-wait",
                "stdin", "kill", "read", "write", "edit", "ls", "stat", "mkdir",
                "rm", "mv", "find", "grep", "diff", "ping", "info", "stats",
                "shutdown"]

    FLAGS = {
        "exec": ["--session", "--timeout", "--output-limit", "-f, --file",
                 "-i, --interactive", "--stream", "--raw", "--yield", "--cwd", "--env",
                 "--detach"],
        "exec-wait": ["--session", "--yield", "-i, --interactive"],
        "stdin": ["--session", "--eof", "--no-eof"],
        "session open": ["--cwd", "--env", "--login", "--shell"],
        "interrupt": ["--session"],
        "cancel": ["--session", "--grace"],
        "resize": ["--session"],
        "spawn": ["--bg", "--pty", "--cwd", "--env", "--timeout", "--stdin"],
        "attach": ["--from", "--no-follow"],
        "wait": ["--timeout"],
        "grep": ["-i, --ignore-case", "-F, --fixed-strings", "-C, --context",
                 "-m, --max-count", "--include", "-n, --line-number", "-e, --regexp"],
        "read": ["--lines", "--offset", "--length", "--max-bytes"],
        "ls": ["-a, --all", "--depth"],
        "find": ["--name", "--type", "--maxdepth", "--max"],
        "write": ["--append", "--exclusive", "-p, --parents", "--mode", "--no-atomic"],
        "rm": ["-r, --recursive", "-f, --force"],
        "mkdir": ["-p, --parents"],
        "ping": ["-n, --count"],
        "shutdown": ["--grace"],
    }

    def test_help_lists_every_command_and_exit_statuses(self):
        p = offline("help")
        self.assertEqual(p.returncode, 0, p)
        out = p.stdout.decode()
        for cmd in self.COMMANDS:
            self.assertRegex(out, r"\n  %s\b" % re.escape(cmd))
        self.assertIn("exit status", out)
        self.assertIn("E_CODE", out)
        self.assertEqual(offline("--help").stdout, p.stdout)

    def test_help_command_equals_command_help_and_names_each_flag(self):
        for cmd in self.COMMANDS:
            words = cmd.split()
            h = offline("help", *words)
            self.assertEqual(h.returncode, 0, (cmd, h))
            self.assertTrue(h.stdout.startswith(b"usage: runnerctl " + cmd.encode()), h)
            self.assertEqual(offline(*words, "--help").stdout, h.stdout, cmd)
            # -h after an argument, as a person types it
            for flag in self.FLAGS.get(cmd, []):
                self.assertIn(flag, h.stdout.decode(), cmd)
        self.assertIn(b"exit status", offline("help", "exec").stdout)
        self.assertIn(b"exit status", offline("help", "grep").stdout)

    def test_help_session_shows_its_subcommands(self):
        p = offline("help", "session")
        self.assertEqual(p.returncode, 0, p)
        for sub in ("open", "list", "close"):
            self.assertIn(b"usage: runnerctl session " + sub.encode(), p.stdout)
        p = offline("session")
        self.assertEqual(p.returncode, 2, p)
        self.assertIn(b"session open", p.stderr)

    def test_version(self):
        p = offline("--version")
        self.assertEqual(p.returncode, 0, p)
        self.assertRegex(p.stdout, rb"^runnerctl \d+\.\d+\.\d+ \(protocol 1\)\n$")

    def test_usage_errors_exit_2_without_connecting(self):
        for args in (["exec", "--bogus", "x"], ["grep"], ["wait"], ["wait", "x"],
                     ["resize", "0", "80"], ["exec", "--timeout", "soon", "--", "true"],
                     ["nosuchcommand"], ["read", "a", "b"], ["kill", "1", "NOSIG"]):
            p = offline(*args)
            self.assertEqual(p.returncode, 2, (args, p))
            self.assertTrue(p.stderr.startswith(b"runnerctl"), (args, p))
            self.assertNotIn(b"cannot connect", p.stderr, args)

    def test_unreachable_runner_is_1(self):
        p = offline("ping")
        self.assertEqual(p.returncode, 1, p)
        self.assertIn(b"cannot connect", p.stderr)


class TestSystem(CtlCase):
    def test_ping_info_stats(self):
        p = self.ctl("ping", "-n", "3", ok=0)
        self.assertEqual(p.stdout.count(b"pong from runner"), 3, p)
        p = self.ctl("ping", "--count=2", ok=0)
        self.assertEqual(p.stdout.count(b"pong"), 2, p)
        p = self.ctl("info", ok=0)
        self.assertIn(b"pid1: 1", p.stdout)
        p = self.ctl("stats", ok=0)
        self.assertIn(b"sessions: ", p.stdout)

    def test_global_options_after_the_command(self):
        p = subprocess.run([RUNNERCTL, "ping", "--connect", "unix:" + self.r.sock],
                           capture_output=True, timeout=HANG)
        self.assertEqual(p.returncode, 0, p)
        p = subprocess.run([RUNNERCTL, "exec", "--connect=unix:" + self.r.sock, "--",
                            "echo late"], capture_output=True, timeout=HANG)
        self.assertEqual(p.stdout, b"late\n", p)
        p = self.ctl("ping", "--expect-pid", str(self.r.pid()), ok=0)
        p = self.ctl("ping", "--expect-pid=1", ok=1)
        self.assertIn(b"not the expected", p.stderr)


# A binary token (PROTOCOL.md §3): a newline and a NUL in the middle, so
# a client that sends the first line (or a C string) sends a prefix.
BINARY_TOKEN = b"0123456789\nabcdefghij\0KLMNOPQRST"
assert len(BINARY_TOKEN) == 32


def write_file(d, name, data):
    path = os.path.join(d, name)
    with open(path, "wb") as f:
        f.write(data)
    return path


class TestTokenFile(unittest.TestCase):
    def test_binary_token_is_sent_whole(self):
        with tempfile.TemporaryDirectory() as d:
            tok = write_file(d, "tok", BINARY_TOKEN)
            with Runner(args=("--token-file", tok)) as r:
                def ping(path, after=False):
                    opt = ["--token-file", path]
                    argv = ["ping"] + opt if after else opt + ["ping"]
                    return r.ctl(*argv, timeout=HANG)
                for after in (False, True):
                    p = ping(tok, after)
                    self.assertEqual(p.returncode, 0, p)
                p = ping(write_file(d, "tok-nl", BINARY_TOKEN + b"\n"))
                self.assertEqual(p.returncode, 0, p)
                # Same first line, one byte different after the NUL.
                p = ping(write_file(d, "wrong", BINARY_TOKEN[:-1] + b"X"))
                self.assertEqual(p.returncode, 1, p)
                self.assertIn(b"E_AUTH", p.stderr)
                # Only one trailing newline is not the token's.
                p = ping(write_file(d, "two-nl", BINARY_TOKEN + b"\n\n"))
                self.assertEqual(p.returncode, 1, p)
                self.assertIn(b"E_AUTH", p.stderr)

    def test_env_token_with_a_trailing_newline(self):
        # $RUNNER_TOKEN read from a file by a shell keeps its newline; the
        # runner drops one, and so do runnerctl and the SDK.
        tok = "0123456789abcdef-env"
        env = dict(os.environ, RUNNER_TOKEN=tok + "\n")
        with Runner(env={"RUNNER_TOKEN": tok + "\n"}) as r:
            p = subprocess.run([RUNNERCTL, "--connect", "unix:" + r.sock, "ping"],
                               capture_output=True, timeout=HANG, env=env)
            self.assertEqual(p.returncode, 0, p)
            p = subprocess.run([RUNNERCTL, "--connect", "unix:" + r.sock, "ping"],
                               capture_output=True, timeout=HANG,
                               env=dict(os.environ, RUNNER_TOKEN=tok + "X"))
            self.assertEqual(p.returncode, 1, p)
            code = ("import runner_client as rc; "
                    "rc.Runner.connect('unix:%s').ping()" % r.sock)
            p = subprocess.run([sys.executable, "-c", code], capture_output=True,
                               timeout=HANG, env=dict(env, PYTHONPATH=PYDIR))
            self.assertEqual(p.returncode, 0, p)

    def test_bad_length_is_refused_before_connecting(self):
        with tempfile.TemporaryDirectory() as d:
            for name, data, why in [("short", b"0123456789abcde\n", b"too short"),
                                    ("empty", b"", b"too short"),
                                    ("long", b"x" * 257, b"too long"),
                                    ("long-nl", b"x" * 257 + b"\n", b"too long")]:
                p = offline("--token-file", write_file(d, name, data), "ping")
                self.assertEqual(p.returncode, 2, (name, p))
                self.assertIn(why, p.stderr, name)
                self.assertNotIn(b"cannot connect", p.stderr, name)
            p = offline("--token-file", write_file(d, "max", b"x" * 256 + b"\n"), "ping")
            self.assertEqual(p.returncode, 1, p)  # accepted: fails only to connect
            self.assertIn(b"cannot connect", p.stderr)
            p = offline("--token-file", os.path.join(d, "absent"), "ping")
            self.assertEqual(p.returncode, 2, p)
            self.assertIn(b"cannot read token file", p.stderr)


class TestShutdown(unittest.TestCase):
    def test_shutdown(self):
        with Runner() as r:
            p = r.ctl("shutdown", "--grace", "100", timeout=HANG)
            self.assertEqual(p.returncode, 0, p)
            self.assertTrue(wait_until(lambda: not r.alive()), r.logtext())


class TestExec(CtlCase):
    def test_status_and_protocol_errors(self):
        p = self.ctl("exec", "--", "echo hello; exit 3", ok=3)
        self.assertEqual(p.stdout, b"hello\n")
        p = self.ctl("exec", "--session", "nope", "--", "true", ok=1)
        self.assertRegex(p.stderr, rb"^runnerctl: E_NOT_FOUND: ")

    def test_words_join_and_options_end_at_the_command(self):
        p = self.ctl("exec", "echo", "a", "--timeout", "b", ok=0)
        self.assertEqual(p.stdout, b"a --timeout b\n")
        p = self.ctl("exec", "--timeout=5000", "printf", "%s-", "x", ok=0)
        self.assertEqual(p.stdout, b"x-")

    def test_output_limit(self):
        p = self.ctl("exec", "--output-limit", "1000", "--", "seq 1 100000", ok=0)
        self.assertLess(len(p.stdout), 1200, p.stdout[-300:])
        self.assertTrue(p.stdout.startswith(b"1\n2\n3\n"), p.stdout[:50])
        self.assertTrue(p.stdout.endswith(b"99999\n100000\n"), p.stdout[-50:])
        self.assertIn("bytes omitted".encode(), p.stdout)
        self.assertIn(b"truncated", p.stderr)
        p = self.ctl("exec", "--output-limit=1K", "--", "seq 1 100000", ok=0)
        self.assertLess(len(p.stdout), 1250)

    def test_default_output_limit_is_32k(self):
        p = self.ctl("exec", "--", "head -c 200000 /dev/zero | tr '\\0' a; echo", ok=0)
        self.assertGreater(len(p.stdout), 30000)
        self.assertLess(len(p.stdout), 32 * 1024 + 200)
        self.assertIn(b"truncated", p.stderr)
        p = self.ctl("exec", "--output-limit", "1M", "--",
                     "head -c 200000 /dev/zero | tr '\\0' a; echo", ok=0)
        self.assertEqual(len(p.stdout), 200001)

    def test_file_of_any_size(self):
        # 300 KiB: past the 128 KiB a single argv word may have.
        body = "echo start\n" + "x=1 # padding padding padding\n" * 10000 + \
               "cd /tmp\nf() { echo fn-$x; }\necho end\n"
        self.assertGreater(len(body), 128 * 1024)
        self.ctl("session", "open", "file", ok=0)
        with tempfile.NamedTemporaryFile("w", suffix=".sh") as f:
            f.write(body)
            f.flush()
            p = self.ctl("exec", "--session", "file", "-f", f.name)
        self.assertEqual(p.returncode, 0, p)
        self.assertEqual(p.stdout, b"start\nend\n")
        # state of the script stays in the session
        p = self.ctl("exec", "--session", "file", "--", "pwd; f", ok=0)
        self.assertEqual(p.stdout, b"/tmp\nfn-1\n")
        p = self.ctl("exec", "--session", "file", "-f", "-", input=body.encode(), ok=0)
        self.assertEqual(p.stdout, b"start\nend\n")
        p = self.ctl("exec", "-f", "/nonexistent/script", ok=2)
        self.assertIn(b"No such file", p.stderr)
        p = self.ctl("exec", "-f", "-", "--", "echo", ok=2)

    def test_interactive_stdin(self):
        p = self.ctl("exec", "-i", "--", "tr a-z A-Z", input=b"shout\n", ok=0)
        self.assertEqual(p.stdout, b"SHOUT\n")

    def test_shell_on_a_terminal(self):
        # shell --session S on a pty: the nested shell starts where the
        # session is and passes its exit status through.
        self.ctl("session", "open", "tty", "--cwd", "/usr", ok=0)
        sh = PtyShell(self.r.sock, "--session", "tty")
        try:
            self.assertTrue(sh.read_until(b"#", HANG) or sh.read_until(b"$", HANG), sh.out)
            sh.type(b"echo at-$(pwd)\r")
            self.assertTrue(sh.read_until(b"at-/usr", HANG), sh.out)
            sh.type(b"exit 6\r")
        finally:
            status = sh.finish(HANG)
        self.assertEqual(status, 6)
        self.ctl("session", "close", "tty", ok=0)

    def test_shell_wants_a_terminal(self):
        p = self.ctl("shell", input=b"", ok=2)
        self.assertIn(b"not a terminal", p.stderr)


class TestScriptPastMaxCommand(unittest.TestCase):
    """exec -f of a script longer than the runner's --max-command goes
    through a temp file in the sandbox; the session keeps its state and
    no file is left."""

    def test_script_larger_than_max_command(self):
        tmp = tempfile.mkdtemp()
        self.addCleanup(lambda: os.rmdir(tmp))
        body = ("echo start\n" + "x=1 # padding padding padding\n" * 70000 +
                "cd /usr\nf() { echo fn-$x; }\necho end\n").encode()
        self.assertGreater(len(body), 2 << 20)
        with Runner(args=["--max-command", "65536"], env={"TMPDIR": tmp}) as r:
            with tempfile.NamedTemporaryFile(suffix=".sh") as f:
                f.write(body)
                f.flush()
                p = r.ctl("exec", "-f", f.name, timeout=HANG)
            self.assertEqual((p.returncode, p.stdout), (0, b"start\nend\n"), p.stderr)
            p = r.ctl("exec", "--", "pwd; f", timeout=HANG)
            self.assertEqual(p.stdout, b"/usr\nfn-1\n", p)
            p = r.ctl("exec", "-f", "-", input=body + b"exit 4\n", timeout=HANG)
            self.assertEqual((p.returncode, p.stdout), (4, b"start\nend\n"), p.stderr)
            self.assertEqual(os.listdir(tmp), [])
            # long words on the command line take the same way
            p = r.ctl("exec", "--", "#" * 70000 + "\necho words", timeout=HANG)
            self.assertEqual((p.returncode, p.stdout), (0, b"words\n"), p.stderr[:200])
            self.assertEqual(os.listdir(tmp), [])
            # the limit is real: the same length as one COMMAND is refused
            c = r.client()
            res = c.call(rp.EXEC, [("COMMAND", b"#" * 70000)])
            c.close()
            self.assertEqual(res.code_name, "E_LIMIT", res)


class TestExecAgent(CtlCase):
    """exec's per-command options and the yield / detach / exec-wait
    round trip an agent makes (issue 13 items 3, 4, 6) through the CLI."""

    def test_cwd_and_env_for_one_command(self):
        self.ctl("session", "open", "once", "--cwd", "/tmp", ok=0)
        p = self.ctl("exec", "--session", "once", "--cwd", "/usr", "--env", "A=1",
                     "--env", "B=two words", "--", 'pwd; echo "$A|$B"', ok=0)
        self.assertEqual(p.stdout, b"/usr\n1|two words\n")
        p = self.ctl("exec", "--session", "once", "--", 'pwd; echo "[$A]"', ok=0)
        self.assertEqual(p.stdout, b"/tmp\n[]\n")
        self.ctl("session", "close", "once", ok=0)

    def test_yield_answer_prompt_then_exec_wait(self):
        self.ctl("session", "open", "ask", ok=0)
        # -i with a stdin that stays open (no end of file): the prompt
        # waits, and the runner sees it long before the yield's timer
        rfd, wfd = os.pipe()
        self.addCleanup(os.close, wfd)
        proc = subprocess.Popen([RUNNERCTL, "--connect", "unix:" + self.r.sock, "exec",
                                 "--session", "ask", "-i", "--yield", "20000", "--",
                                 "read -p 'name? ' n; echo hi $n"],
                                stdin=rfd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        os.close(rfd)
        self.addCleanup(lambda: proc.poll() is None and proc.kill())
        out, err = proc.communicate(timeout=HANG)
        self.assertEqual(proc.returncode, 124, err)
        self.assertEqual(out, b"name? ")
        self.assertIn(b"waits for input", err)
        self.assertIn(b"exec-wait", err)
        self.ctl("stdin", "--session", "ask", input=b"bob\n", ok=0)
        p = self.ctl("exec-wait", "--session", "ask", ok=0)
        self.assertEqual(p.stdout, b"hi bob\n")
        p = self.ctl("exec-wait", "--session", "ask", ok=1)  # nothing left
        self.assertIn(b"E_NOT_FOUND", p.stderr)
        self.ctl("stdin", "--session", "ask", input=b"x", ok=1)  # no command runs
        self.ctl("session", "close", "ask", ok=0)

    def test_yield_while_running(self):
        self.ctl("session", "open", "slow", ok=0)
        # The timer fires at 300 ms, before the 2 s sleep can end.  What
        # came before and after the yield is the whole output, however
        # slow the machine is.
        p = self.ctl("exec", "--session", "slow", "--yield", "300", "--",
                     "echo started; sleep 2; echo done", ok=124)
        self.assertIn(b"still running", p.stderr)
        q = self.ctl("exec-wait", "--session", "slow", ok=0)
        self.assertEqual(p.stdout + q.stdout, b"started\ndone\n")
        self.assertTrue(q.stdout.endswith(b"done\n"), q)
        self.ctl("session", "close", "slow", ok=0)

    def test_detach_outlives_a_killed_client(self):
        self.ctl("session", "open", "det", ok=0)
        mark = os.path.join(self.r.tmp, "det-started")
        proc = subprocess.Popen([RUNNERCTL, "--connect", "unix:" + self.r.sock, "exec",
                                 "--session", "det", "--detach", "--",
                                 "touch %s; sleep 1; echo later; exit 3" % mark],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.assertTrue(wait_until(lambda: os.path.exists(mark)))
        proc.kill()
        proc.communicate(timeout=HANG)
        # E_BUSY until the runner has seen that client go
        res = []
        self.assertTrue(wait_until(lambda: res.append(self.ctl("exec-wait", "--session", "det"))
                                   or b"E_BUSY" not in res[-1].stderr))
        self.assertEqual((res[-1].returncode, res[-1].stdout), (3, b"later\n"), res[-1])
        self.ctl("session", "close", "det", ok=0)


class TestSessions(CtlCase):
    def test_open_list_close(self):
        self.ctl("session", "open", "work", "--cwd", "/tmp", "--env", "K=v",
                 "--env", "L=w", ok=0)
        p = self.ctl("exec", "--session", "work", "--", 'pwd; echo "$K$L"', ok=0)
        self.assertEqual(p.stdout, b"/tmp\nvw\n")
        self.assertEqual(self.session_state("work"), "idle")
        p = self.ctl("session", "list", ok=0)
        self.assertTrue(p.stdout.startswith(b"SESSION"), p)
        row = [l for l in p.stdout.decode().splitlines() if l.startswith("work ")][0]
        self.assertTrue(row.split()[1].isdigit() and int(row.split()[1]) > 0, row)
        self.assertIn("/tmp", row)
        p = self.ctl("session", "open", "work", ok=1)
        self.assertIn(b"E_EXISTS", p.stderr)
        self.ctl("session", "close", "work", ok=0)
        self.assertIsNone(self.session_state("work"))
        p = self.ctl("session", "close", "work", ok=1)
        self.assertIn(b"E_NOT_FOUND", p.stderr)

    def test_open_login_and_shell(self):
        # options after the name, as a person types them
        home = tempfile.mkdtemp(dir=self.r.tmp)
        with open(home + "/.bash_profile", "w") as f:
            f.write("export FROM_PROFILE=yes\n")
        self.ctl("session", "open", "login", "--login", "--env", "HOME=" + home, ok=0)
        p = self.ctl("exec", "--session", "login", "--", 'echo "[$FROM_PROFILE]"', ok=0)
        self.assertEqual(p.stdout, b"[yes]\n")
        self.ctl("session", "open", "nologin", "--env", "HOME=" + home, ok=0)
        p = self.ctl("exec", "--session", "nologin", "--", 'echo "[$FROM_PROFILE]"', ok=0)
        self.assertEqual(p.stdout, b"[]\n")
        self.ctl("session", "close", "nologin", ok=0)
        self.ctl("session", "close", "login", ok=0)
        self.ctl("session", "open", "plain", "--shell", "/bin/sh", ok=0)
        p = self.ctl("session", "list", ok=0)
        row = [l for l in p.stdout.decode().splitlines() if l.startswith("plain ")][0]
        self.assertIn("/bin/sh", row)
        p = self.ctl("exec", "--session", "plain", "--", "echo from-sh", ok=0)
        self.assertEqual(p.stdout, b"from-sh\n")
        self.ctl("session", "close", "plain", ok=0)
        p = self.ctl("session", "open", "bad", "--cwd", "/nonexistent", ok=1)
        self.assertIn(b"E_", p.stderr)

    def start_busy(self, session, command):
        self.ctl("session", "open", session, ok=0)
        proc = subprocess.Popen([RUNNERCTL, "--connect", "unix:" + self.r.sock, "exec",
                                 "--session", session, "--", command],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.addCleanup(lambda: proc.poll() is None and proc.kill())
        self.assertTrue(wait_until(lambda: self.session_state(session) == "busy"))
        return proc

    def test_interrupt(self):
        # SIGINT once the command runs (the session's shell may still be
        # starting when the EXEC is accepted).
        mark = os.path.join(self.r.tmp, "intr-started")
        proc = self.start_busy("intr", "touch %s; sleep 100; echo not-reached" % mark)
        self.assertTrue(wait_until(lambda: os.path.exists(mark)))
        self.ctl("interrupt", "--session", "intr", ok=0)
        out, err = proc.communicate(timeout=HANG)
        self.assertEqual(proc.returncode, 130, err)
        self.assertNotIn(b"not-reached", out)
        p = self.ctl("exec", "--session", "intr", "--", "echo alive", ok=0)
        self.assertEqual(p.stdout, b"alive\n")
        p = self.ctl("interrupt", "--session", "nosuch", ok=1)
        self.assertIn(b"E_NOT_FOUND", p.stderr)
        self.ctl("session", "close", "intr", ok=0)

    def test_cancel_escalates_to_kill(self):
        # The command ignores SIGINT: cancel must go on to SIGKILL.
        mark = os.path.join(self.r.tmp, "canc-started")
        proc = self.start_busy("canc", "sh -c 'trap \"\" INT; touch %s; sleep 100'" % mark)
        self.assertTrue(wait_until(lambda: os.path.exists(mark)))
        self.ctl("cancel", "--session", "canc", "--grace", "300", ok=0)
        self.assertEqual(self.session_state("canc"), "idle")
        out, err = proc.communicate(timeout=HANG)
        self.assertEqual(proc.returncode, 137, err)
        p = self.ctl("exec", "--session", "canc", "--", "echo free", ok=0)
        self.assertEqual(p.stdout, b"free\n")
        self.ctl("cancel", "--session", "canc", ok=0)  # idle: nothing to do
        self.ctl("session", "close", "canc", ok=0)

    def test_resize(self):
        self.ctl("session", "open", "size", ok=0)
        self.ctl("resize", "--session", "size", "33", "101", ok=0)
        p = self.ctl("exec", "--session", "size", "--", "stty size </dev/tty", ok=0)
        self.assertEqual(p.stdout, b"33 101\n")
        self.ctl("resize", "40", "120", "--session=size", ok=0)
        p = self.ctl("exec", "--session", "size", "--", "stty size </dev/tty", ok=0)
        self.assertEqual(p.stdout, b"40 120\n")
        self.ctl("resize", "--session", "size", "--rows", "50", "--cols", "132", ok=0)
        p = self.ctl("exec", "--session", "size", "--", "stty size </dev/tty", ok=0)
        self.assertEqual(p.stdout, b"50 132\n")
        self.ctl("resize", "--rows", "50", ok=2)
        self.ctl("session", "close", "size", ok=0)


class TestCtrlC(CtlCase):
    """^C to runnerctl while it follows a request becomes a CANCEL: the
    runner stops the work, runnerctl exits 130."""

    def popen(self, *args):
        proc = subprocess.Popen([RUNNERCTL, "--connect", "unix:" + self.r.sock] + list(args),
                                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE)
        self.addCleanup(lambda: proc.poll() is None and proc.kill())
        return proc

    def test_exec(self):
        mark = os.path.join(self.r.tmp, "ctrlc-exec")
        proc = self.popen("exec", "--", "touch %s; sleep 100; echo not-reached" % mark)
        self.assertTrue(wait_until(lambda: os.path.exists(mark)))
        proc.send_signal(2)
        out, err = proc.communicate(timeout=HANG)
        self.assertEqual(proc.returncode, 130, err)
        self.assertNotIn(b"not-reached", out)
        self.assertEqual(self.session_state("main"), "idle")
        p = self.ctl("exec", "--", "echo free", ok=0)
        self.assertEqual(p.stdout, b"free\n")

    def test_spawn(self):
        mark = os.path.join(self.r.tmp, "ctrlc-spawn")
        proc = self.popen("spawn", "--", "sh", "-c", "touch %s; exec sleep 100" % mark)
        self.assertTrue(wait_until(lambda: os.path.exists(mark)))
        proc.send_signal(2)
        out, err = proc.communicate(timeout=HANG)
        self.assertEqual(proc.returncode, 130, err)
        # The runner answers the CANCEL once it has sent SIGKILL; ps on
        # another connection may still see the process until it is reaped.
        self.assertTrue(wait_until(
            lambda: b"sleep 100" not in self.ctl("ps", ok=0).stdout))


class TestProcesses(CtlCase):
    def test_spawn_status_and_streams(self):
        p = self.ctl("spawn", "sh", "-c", "cat; echo err >&2; exit 7", input=b"in\n", ok=7)
        self.assertEqual((p.stdout, p.stderr), (b"in\n", b"err\n"))
        p = self.ctl("spawn", "--", "/no/such/program", input=b"", ok=127)
        self.assertIn(b"E_EXEC", p.stderr)
        p = self.ctl("spawn", "--cwd", "/nonexistent", "--", "true", input=b"", ok=1)
        self.assertIn(b"E_NOT_FOUND", p.stderr)

    def test_ps_kill_attach_no_follow(self):
        pid = self.bg("sh", "-c", "echo hello; exec sleep 300")
        self.assertTrue(wait_until(lambda: self.ctl("attach", "--no-follow", pid).stdout
                                   == b"hello\n"))
        p = self.ctl("attach", pid, "--no-follow", ok=0)  # still running: 0
        self.assertEqual(p.stdout, b"hello\n")
        p = self.ctl("attach", "--no-follow", "--from", "2", pid, ok=0)
        self.assertEqual(p.stdout, b"llo\n")
        p = self.ctl("ps", ok=0)
        row = [l for l in p.stdout.decode().splitlines() if l.split()[0] == pid][0]
        self.assertIn("running", row)
        self.ctl("kill", "-s", "KILL", pid, ok=0)
        p = self.ctl("attach", pid, ok=137)
        self.assertEqual(p.stdout, b"hello\n")
        p = self.ctl("kill", "99999", ok=1)
        self.assertIn(b"E_NOT_FOUND", p.stderr)
        p = self.ctl("attach", "99999", ok=1)
        self.assertIn(b"E_NOT_FOUND", p.stderr)

    def test_wait(self):
        pid = self.bg("sh", "-c", "sleep 0.3; exit 7")
        self.ctl("wait", pid, ok=7)
        self.ctl("wait", pid, ok=7)  # exited and remembered: at once
        pid = self.bg("sleep", "300")
        p = self.ctl("wait", "--timeout", "100", pid, ok=1)
        self.assertIn(b"E_TIMEOUT", p.stderr)
        self.ctl("kill", pid, "9", ok=0)
        self.ctl("wait", pid, ok=137)

    def test_stdin(self):
        pid = self.bg("sh", "-c", "cat; echo done", stdin=True)
        body = os.urandom(200000).hex().encode()  # several requests' worth
        self.ctl("stdin", pid, input=body, ok=0)
        self.ctl("wait", pid, ok=0)
        p = self.ctl("attach", "--no-follow", pid, ok=0)
        self.assertEqual(p.stdout, body + b"done\n")
        p = self.ctl("stdin", pid, input=b"late", ok=1)
        self.assertIn(b"E_", p.stderr)
        # --no-eof keeps it open for a second writer
        pid = self.bg("sh", "-c", "cat; echo done", stdin=True)
        self.ctl("stdin", "--no-eof", pid, input=b"one ", ok=0)
        self.ctl("stdin", pid, input=b"two", ok=0)
        self.ctl("wait", pid, ok=0)
        p = self.ctl("attach", "--no-follow", pid, ok=0)
        self.assertEqual(p.stdout, b"one twodone\n")


class TestFiles(CtlCase):
    def setUp(self):
        self.d = tempfile.mkdtemp(dir=self.r.tmp)

    def test_write_read_stat(self):
        f = self.d + "/f"
        self.ctl("write", f, input=b"one\ntwo\nthree\n", ok=0)
        self.assertEqual(self.ctl("read", f, ok=0).stdout, b"one\ntwo\nthree\n")
        self.assertEqual(self.ctl("read", f, "--lines", "2:3", ok=0).stdout, b"two\nthree\n")
        self.assertEqual(self.ctl("read", "--lines=2:", f, ok=0).stdout, b"two\nthree\n")
        self.assertEqual(self.ctl("read", f, "--offset", "4", "--length", "3", ok=0).stdout,
                         b"two")
        p = self.ctl("read", f, "--max-bytes", "2", ok=0)
        self.assertEqual(p.stdout, b"on")
        self.assertIn(b"truncated", p.stderr)
        self.ctl("write", "--append", f, input=b"four\n", ok=0)
        self.assertEqual(self.ctl("read", f, "--lines", "4:4", ok=0).stdout, b"four\n")
        p = self.ctl("write", f, "--exclusive", input=b"x", ok=1)
        self.assertIn(b"E_EXISTS", p.stderr)
        self.ctl("write", "-p", self.d + "/new/dir/g", "--mode", "600", input=b"g", ok=0)
        p = self.ctl("stat", self.d + "/new/dir/g", ok=0)
        self.assertIn(b"type: file", p.stdout)
        self.assertIn(b"mode: 0600", p.stdout)
        self.assertIn(b"size: 1", p.stdout)
        p = self.ctl("read", self.d + "/none", ok=1)
        self.assertIn(b"E_NOT_FOUND", p.stderr)

    def test_edit(self):
        f = self.d + "/e"
        self.ctl("write", f, input=b"a-b a-b\n", ok=0)
        p = self.ctl("edit", f, "a-b", "X", ok=1)
        self.assertIn(b"E_NOT_UNIQUE", p.stderr)
        p = self.ctl("edit", f, "a-b", "X", "--all", ok=0)
        self.assertEqual(p.stdout, b"replaced 2\n")
        self.ctl("edit", "--", f, "X X", "-y", ok=0)  # a text starting with '-'
        self.assertEqual(self.ctl("read", f, ok=0).stdout, b"-y\n")

    def test_ls_mkdir_mv_rm_find(self):
        self.ctl("mkdir", "-p", self.d + "/x/y", ok=0)
        self.ctl("mkdir", self.d + "/x/y", ok=1)
        self.ctl("write", self.d + "/x/y/a.txt", input=b"a", ok=0)
        self.ctl("write", self.d + "/x/.hidden", input=b"h", ok=0)
        p = self.ctl("ls", self.d + "/x", ok=0)
        self.assertIn(b" y\n", p.stdout)
        self.assertNotIn(b".hidden", p.stdout)
        self.assertIn(b".hidden", self.ctl("ls", self.d + "/x", "-a", ok=0).stdout)
        self.assertIn(b"y/a.txt", self.ctl("ls", "--depth", "2", self.d + "/x", ok=0).stdout)
        self.ctl("mv", self.d + "/x", self.d + "/z", ok=0)
        p = self.ctl("find", self.d, "--type", "f", "--name", "*.txt", ok=0)
        self.assertEqual(p.stdout, (self.d + "/z/y/a.txt\n").encode())
        p = self.ctl("find", "--maxdepth", "1", self.d, ok=0)
        self.assertEqual(p.stdout, ("%s\n%s/z\n" % (self.d, self.d)).encode())
        p = self.ctl("find", self.d, "--max", "1", ok=0)
        self.assertEqual(len(p.stdout.splitlines()), 1)
        p = self.ctl("rm", self.d + "/z", ok=1)
        self.assertIn(b"E_NOT_EMPTY", p.stderr)
        self.ctl("rm", "-rf", self.d + "/z", ok=0)
        self.ctl("rm", "-f", self.d + "/z", ok=0)
        self.ctl("rm", "-" + "rf" * 40, self.d + "/z", ok=0)  # a bundle of 80 flags
        self.ctl("rm", self.d + "/z", ok=1)

    def test_grep_options_anywhere(self):
        self.ctl("write", self.d + "/a.py", input=b"alpha\nBeta\n-x flag\n", ok=0)
        self.ctl("write", self.d + "/b.txt", input=b"alpha\n", ok=0)
        # PATTERN DIR --include G, and -n: issue 15's failing forms
        p = self.ctl("grep", "alpha", self.d, "--include", "*.py", "-n", ok=0)
        self.assertEqual(p.stdout, ("%s/a.py:1:alpha\n" % self.d).encode())
        p = self.ctl("grep", "-i", "beta", self.d, "--include=*.py", ok=0)
        self.assertEqual(p.stdout, ("%s/a.py:2:Beta\n" % self.d).encode())
        p = self.ctl("grep", "alpha", self.d, "--include", "*.py", "--include", "*.txt", ok=0)
        self.assertEqual(len(p.stdout.splitlines()), 2)
        p = self.ctl("grep", "-C", "1", "Beta", self.d + "/a.py", ok=0)
        self.assertEqual(len(p.stdout.splitlines()), 3)
        p = self.ctl("grep", "-m1", "alpha", self.d, ok=0)
        self.assertEqual(len(p.stdout.splitlines()), 1)
        p = self.ctl("grep", "-F", "-e", "-x", self.d, ok=0)
        self.assertIn(b"-x flag", p.stdout)
        p = self.ctl("grep", "--", "-x", self.d, ok=0)
        self.assertIn(b"-x flag", p.stdout)
        self.ctl("grep", "nomatch", self.d, ok=1)
        p = self.ctl("grep", "a(", self.d, ok=2)
        self.assertIn(b"E_BAD_PATTERN", p.stderr)

    def test_diff(self):
        self.ctl("write", self.d + "/a", input=b"one\ntwo\n", ok=0)
        self.ctl("write", self.d + "/b", input=b"one\nTWO\n", ok=0)
        p = self.ctl("diff", self.d + "/a", self.d + "/b", ok=1)
        self.assertIn(b"-two\n+TWO\n", p.stdout)
        self.ctl("diff", self.d + "/a", self.d + "/a", ok=0)
        self.ctl("diff", self.d + "/a", self.d + "/none", ok=2)


if __name__ == "__main__":
    unittest.main()
