"""Sessions an agent can rely on (issue 13): stdin that never outlives its
command, script options scoped to one EXEC with state that survives the
shell, respawns that are reliable and reported.

Real bash on a real PTY, the runner as PID 1.  Timeouts are hang guards;
speed is measured by `make bench`.
"""
import os
import shutil
import time
import unittest

from harness import RunnerTest
import rproto as rp


class SessionCase(RunnerTest):
    def ex(self, cmd, **kw):
        f = [("COMMAND", cmd)] + list(kw.items())
        res = self.c.call(rp.EXEC, f, timeout=60)
        self.assertTrue(res.ok, res)
        return res

    def out(self, cmd, **kw):
        return self.ex(cmd, **kw).fields.bytes("OUTPUT")

    def wait_snapshot(self, needle):
        """Until the session's state snapshot (fd 63 of its shell) holds
        needle: the runner takes it once the session idles."""
        pid = self.ex("true").fields.int("SHELL_PID")
        deadline = time.monotonic() + 30  # a hang guard, not a speed test
        while time.monotonic() < deadline:
            res = self.c.call(rp.SPAWN, [("ARGV", "grep"), ("ARGV", "-q"), ("ARGV", needle),
                                         ("ARGV", "/proc/%d/fd/63" % pid)])
            if res.ok and res.fields.int("EXIT_STATUS") == 0:
                return
            time.sleep(0.1)
        self.fail("no snapshot holding %r" % needle)

    def exec_wait(self, **kw):
        """EXEC_WAIT, again while another client still follows (its close
        may not have reached the runner yet)."""
        deadline = time.monotonic() + 30
        while True:
            res = self.c.call(rp.EXEC_WAIT, list(kw.items()), timeout=60)
            if res.ok or res.code_name != "E_BUSY" or time.monotonic() > deadline:
                return res
            time.sleep(0.05)

    def until_done(self, res):
        """Output of a yielded EXEC to its end (EXEC_WAIT after each
        RUNNING=1), and the final RESULT."""
        out = res.fields.bytes("OUTPUT")
        while res.fields.int("RUNNING", 0):
            res = self.exec_wait()
            self.assertTrue(res.ok, res)
            out += res.fields.bytes("OUTPUT")
        return out, res

    def shell_pid(self, session="main"):
        res = self.c.call(rp.SHELL_LIST)
        for e in res.fields.records():
            if e.str("SESSION") == session:
                return e.int("SHELL_PID")
        return None


class TestStdinDiscarded(SessionCase):
    def test_unread_stdin_never_reaches_the_next_command(self):
        # Issue 13 item 1, through runnerctl exactly as reported.
        p = self.r.ctl("exec", "-i", "--", "echo did-not-read-stdin",
                       input=b"rm -rf /workspace/important\n")
        self.assertEqual(p.stdout, b"did-not-read-stdin\n", p.stderr)
        p = self.r.ctl("exec", "--", 'read -t 1 x; echo "[$x]"')
        self.assertEqual(p.stdout, b"[]\n", p.stderr)
        # The same while the command surely runs when the bytes arrive.
        p = self.r.ctl("exec", "-i", "--", "sleep 0.5; echo did-not-read-stdin",
                       input=b"rm -rf /workspace/important\n")
        self.assertEqual(p.stdout, b"did-not-read-stdin\n", p.stderr)
        p = self.r.ctl("exec", "--", 'read -t 1 x; echo "[$x]"')
        self.assertEqual(p.stdout, b"[]\n", p.stderr)

    def test_unread_stdin_flushed_from_the_terminal(self):
        # Through the protocol: stdin the command did not read is gone.
        sid = self.c.send(rp.EXEC, [("COMMAND", "sleep 0.3; echo done"), ("STDIN", 1)])
        self.c.send_data(sid, b"leak\n")
        res = self.c.wait(sid, timeout=30)
        self.assertEqual(res.fields.bytes("OUTPUT"), b"done\n")
        sid = self.c.send(rp.EXEC, [("COMMAND", 'read -t 1 x; echo "[$x]"'), ("STDIN", 1)])
        res = self.c.wait(sid, timeout=30)
        self.assertEqual(res.fields.bytes("OUTPUT"), b"[]\n")


class TestStdinDefault(SessionCase):
    def test_exec_without_stdin_sees_eof(self):
        res = self.ex("read x; echo rc=$?")
        self.assertEqual(res.fields.bytes("OUTPUT"), b"rc=1\n")
        self.assertEqual(self.out("cat; echo after"), b"after\n")
        # stdout and stderr stay the terminal
        self.assertEqual(self.out("[ -t 1 ] && [ -t 2 ] && echo tty; [ -t 0 ] || echo notty"),
                         b"tty\nnotty\n")

    def test_runnerctl_exec_without_i(self):
        p = self.r.ctl("exec", "--", "read x; echo rc=$?")
        self.assertEqual(p.stdout, b"rc=1\n", p.stderr)
        p = self.r.ctl("exec", "-i", "--", "read x; echo got=$x", input=b"fed\n")
        self.assertEqual(p.stdout, b"got=fed\n", p.stderr)


class TestClientGone(SessionCase):
    def wait_free(self, c, guard=20):
        deadline = time.monotonic() + guard  # a hang guard, not a speed test
        while True:
            res = c.call(rp.EXEC, [("COMMAND", "echo free")], timeout=30)
            if res.ok or res.code_name != "E_BUSY" or time.monotonic() > deadline:
                return res
            time.sleep(0.05)

    def test_vanished_client_cancels_its_command(self):
        c2 = self.r.client()
        sid = c2.send(rp.EXEC, [("COMMAND", "sleep 1000")])
        time.sleep(0.2)
        c2.close()
        res = self.wait_free(self.c)
        self.assertTrue(res.ok, res)
        self.assertEqual(res.fields.bytes("OUTPUT"), b"free\n")
        self.assertEqual(res.fields.int("RESPAWNED"), 0)

    def test_killed_runnerctl_frees_the_session(self):
        # Issue 13 item 3, as reported.
        import subprocess
        from harness import RUNNERCTL
        subprocess.run(["timeout", "-s", "KILL", "1", RUNNERCTL, "--connect",
                        "unix:" + self.r.sock, "exec", "--", "sleep 1000"])
        res = self.wait_free(self.c)
        self.assertTrue(res.ok, res)
        p = self.r.ctl("exec", "--", "echo free")
        self.assertEqual(p.stdout, b"free\n", p.stderr)

    def test_detached_command_survives_and_is_collected(self):
        mark = os.path.join(self.r.tmp, "detached-started")
        c2 = self.r.client()
        c2.send(rp.EXEC, [("COMMAND", "touch %s; sleep 0.5; echo detached-out; exit 3" % mark),
                          ("MODE", 1), ("DETACH", 1)])
        deadline = time.monotonic() + 30  # a hang guard
        while not os.path.exists(mark) and time.monotonic() < deadline:
            time.sleep(0.02)
        c2.close()
        res = self.exec_wait()
        self.assertTrue(res.ok, res)
        self.assertEqual(res.fields.bytes("OUTPUT"), b"detached-out\n")
        self.assertEqual(res.fields.int("EXIT_STATUS"), 3)
        # collected once; nothing left to wait for
        self.assertEqual(self.c.call(rp.EXEC_WAIT, []).code_name, "E_NOT_FOUND")

    def test_finished_detached_result_kept_until_next_exec(self):
        # Two connections are not ordered: the command has run (its file
        # exists) before an idle session means "it ended".
        mark = os.path.join(self.r.tmp, "detached-ran")
        c2 = self.r.client()
        c2.send(rp.EXEC, [("COMMAND", "touch %s; echo early" % mark), ("DETACH", 1),
                          ("COMMAND", "ignored")])
        c2.close()
        deadline = time.monotonic() + 30  # a hang guard
        while not os.path.exists(mark) and time.monotonic() < deadline:
            time.sleep(0.02)
        while time.monotonic() < deadline:
            lst = self.c.call(rp.SHELL_LIST)
            main = [e for e in lst.fields.records() if e.str("SESSION") == "main"][0]
            if main.int("BUSY") == 0:
                break
            time.sleep(0.05)
        self.assertEqual(main.int("BUSY"), 0)  # ended: the session is free
        res = self.exec_wait(SESSION="main")
        self.assertTrue(res.ok, res)
        self.assertEqual(res.fields.bytes("OUTPUT"), b"early\n")
        self.assertEqual(res.fields.int("EXIT_STATUS"), 0)


class TestYield(SessionCase):
    def test_prompt_comes_back_and_is_answered(self):
        # Issue 13 item 4, as specified.
        res = self.ex("read -p 'name? ' n; echo hi $n", STDIN=1, YIELD_MS=500)
        self.assertEqual(res.fields.int("RUNNING"), 1)
        self.assertFalse(res.fields.has("EXIT_STATUS"))
        out = res.fields.bytes("OUTPUT")
        # On a loaded machine the prompt may come after YIELD_MS: ask again
        # until the runner sees the command wait (a hang guard bounds it).
        deadline = time.monotonic() + 30
        while not res.fields.int("WAITING_INPUT") and time.monotonic() < deadline:
            res = self.exec_wait(YIELD_MS=500)
            self.assertEqual(res.fields.int("RUNNING"), 1, res)
            out += res.fields.bytes("OUTPUT")
        self.assertEqual(res.fields.int("WAITING_INPUT"), 1)
        self.assertEqual(out, b"name? ")
        self.assertTrue(self.c.call(rp.SHELL_STDIN, [("DATA", b"bob\n")]).ok)
        res = self.c.call(rp.EXEC_WAIT, [], timeout=30)
        self.assertTrue(res.ok, res)
        self.assertEqual(res.fields.bytes("OUTPUT"), b"hi bob\n")
        self.assertEqual(res.fields.int("EXIT_STATUS"), 0)

    def test_long_command_yields_then_finishes(self):
        res = self.ex("sleep 2; echo done", YIELD_MS=300)
        self.assertEqual(res.fields.int("RUNNING"), 1)
        self.assertEqual(res.fields.int("WAITING_INPUT"), 0)
        busy = self.c.call(rp.EXEC, [("COMMAND", "true")])
        self.assertEqual(busy.code_name, "E_BUSY", busy)
        res = self.c.call(rp.EXEC_WAIT, [], timeout=30)
        self.assertEqual(res.fields.bytes("OUTPUT"), b"done\n")
        self.assertEqual(res.fields.int("EXIT_STATUS"), 0)

    def test_output_continues_where_the_last_result_stopped(self):
        # Each RESULT carries what came since the previous one: together
        # they are the whole output, each byte once.
        res = self.ex("echo one; sleep 1; echo two; sleep 1; echo three", YIELD_MS=300)
        self.assertEqual(res.fields.int("RUNNING"), 1)
        out, parts = res.fields.bytes("OUTPUT"), 1
        while res.fields.int("RUNNING", 0):
            res = self.exec_wait(YIELD_MS=300)
            out += res.fields.bytes("OUTPUT")
            parts += 1
        self.assertEqual(out, b"one\ntwo\nthree\n")
        self.assertGreaterEqual(parts, 3)
        self.assertEqual(res.fields.int("EXIT_STATUS"), 0)

    def test_stream_mode_event_waiting_input(self):
        sid = self.c.send(rp.EXEC, [("COMMAND", "read -p 'name? ' n; echo hi $n"),
                                    ("STDIN", 1), ("MODE", 1)])
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            self.c.recv(timeout=30)
            res = self.c.pending.get(sid)
            if res and any(e.int("EVENT") == 4 for e in res.events):
                break
        self.assertTrue(any(e.int("EVENT") == 4 for e in res.events), res.events)
        self.c.send_data(sid, b"ann\n")
        res = self.c.wait(sid, timeout=30)
        self.assertTrue(res.ok, res)
        self.assertEqual(res.out(), b"name? hi ann\n")

    def test_no_event_for_a_sleeping_command(self):
        res = self.c.call(rp.EXEC, [("COMMAND", "sleep 1; echo ok"), ("MODE", 1)],
                          timeout=30)
        self.assertEqual([e for e in res.events if e.int("EVENT") == 4], [])

    def test_runnerctl_yield(self):
        p = self.r.ctl("exec", "--yield", "300", "--", "echo started; sleep 3; echo done")
        self.assertEqual(p.returncode, 124, p.stderr)
        self.assertIn(b"still running", p.stderr)
        res = self.exec_wait()
        self.assertEqual(p.stdout + res.fields.bytes("OUTPUT"), b"started\ndone\n")


class TestCwdEnv(SessionCase):
    def test_cwd_and_env_for_one_command(self):
        self.ex("cd /tmp; export K=orig; unset NEWV")
        res = self.ex("pwd; echo $K $NEWV; env | grep -E '^(K|NEWV)=' | sort",
                      CWD="/usr", ENV="K=it's new")
        self.assertEqual(res.fields.bytes("OUTPUT"), b"/usr\nit's new\nK=it's new\n")
        f = [("COMMAND", "echo $NEWV; cd /"), ("ENV", "NEWV=a b"), ("ENV", "K=2"),
             ("CWD", "/usr")]
        res = self.c.call(rp.EXEC, f)
        self.assertEqual(res.fields.bytes("OUTPUT"), b"a b\n")
        self.assertEqual(self.out("pwd; echo \"[$K] [${NEWV-unset}]\""),
                         b"/tmp\n[orig] [unset]\n")

    def test_result_cwd_is_the_sessions_directory(self):
        # RESULT's CWD is the shell's directory afterwards (§15.3): the
        # per-command CWD is put back before the marker, every time (the
        # SDK saw the per-command directory in 33 of 200 runs).
        self.ex("cd /tmp")
        seen = set()
        for _ in range(100):
            res = self.ex("true", CWD="/usr", ENV="K=v")
            self.assertEqual(res.fields.int("EXIT_STATUS"), 0)
            seen.add(res.fields.bytes("CWD"))
        self.assertEqual(seen, {b"/tmp"})
        res = self.ex("(exit 7)", CWD="/usr")
        self.assertEqual((res.fields.int("EXIT_STATUS"), res.fields.bytes("CWD")),
                         (7, b"/tmp"))
        self.assertEqual(self.out("echo ${__runner_st-none}"), b"none\n")

    def test_bad_cwd_and_env(self):
        res = self.ex("echo ran", CWD="/nonexistent")
        self.assertNotEqual(res.fields.int("EXIT_STATUS"), 0)
        self.assertNotIn(b"ran", res.fields.bytes("OUTPUT"))
        bad = self.c.call(rp.EXEC, [("COMMAND", "true"), ("ENV", "1X=y")])
        self.assertEqual(bad.code_name, "E_BAD_REQUEST")
        bad = self.c.call(rp.EXEC, [("COMMAND", "true"), ("ENV", "K=" + "x" * 5000)])
        self.assertEqual(bad.code_name, "E_LIMIT")
        self.assertEqual(self.out("echo ok"), b"ok\n")


class TestStartDirectory(unittest.TestCase):
    """Where a session starts (issue 13 item 6): --cwd, else the runner's
    directory (an image's WORKDIR), else $HOME when that is /; a HOME the
    environment gives is kept."""

    def pwd_home(self, **kw):
        from harness import Runner
        with Runner(**kw) as r:
            res = r.client().call(rp.EXEC, [("COMMAND", 'pwd; echo "$HOME"')])
            self.assertTrue(res.ok, res)
            return res.fields.bytes("OUTPUT").decode().split("\n")[:2], r.tmp

    def test_runner_directory_is_the_start(self):
        (pwd, _), tmp = self.pwd_home()
        self.assertEqual(pwd, tmp)

    def test_cwd_flag(self):
        (pwd, _), _ = self.pwd_home(args=("--cwd", "/usr"))
        self.assertEqual(pwd, "/usr")

    def test_root_directory_means_home_and_home_is_kept(self):
        import tempfile
        home = tempfile.mkdtemp(prefix="runner-home-")
        try:
            (pwd, h), _ = self.pwd_home(wrap=("env", "-C", "/"), env={"HOME": home})
            self.assertEqual((pwd, h), (home, home))
        finally:
            shutil.rmtree(home)

    @unittest.skipUnless(shutil.which("git"), "SKIP: git not installed")
    def test_git_config_global_in_a_writable_home(self):
        import tempfile
        from harness import Runner
        home = tempfile.mkdtemp(prefix="runner-home-")
        try:
            with Runner(env={"HOME": home}) as r:
                res = r.client().call(rp.EXEC, [("COMMAND", "git config --global user.name agent "
                                                 "&& git config --global user.name")])
                self.assertEqual(res.fields.bytes("OUTPUT"), b"agent\n", res)
            self.assertTrue(os.path.exists(os.path.join(home, ".gitconfig")))
        finally:
            shutil.rmtree(home)


class TestPlainTerminal(SessionCase):
    def test_errors_read_as_in_a_terminal(self):
        res = self.ex("nonexistent_cmd")
        self.assertEqual(res.fields.bytes("OUTPUT"),
                         b"bash: line 1: nonexistent_cmd: command not found\n")
        self.assertEqual(res.fields.int("EXIT_STATUS"), 127)
        p = self.r.ctl("exec", "--", "true\nnonexistent_cmd")
        self.assertEqual(p.stdout, b"bash: line 2: nonexistent_cmd: command not found\n")
        # raw output stays byte-exact
        raw = self.ex("nonexistent_cmd", FORMAT=0).fields.bytes("OUTPUT")
        self.assertIn(b"/proc/self/fd/62: line 1: nonexistent_cmd", raw)

    def test_message_names_in_each_format(self):
        # PROTOCOL.md 15.3 "Names in bash's messages": plain reads as from
        # bash -c in stream mode too; raw keeps what bash printed.
        for cmd, n in (("nonexistent_cmd", 1), ("true\ncd /nonexistent", 2),
                       ("echo (", 1)):
            plain = self.c.call(rp.EXEC, [("COMMAND", cmd), ("MODE", 1), ("FORMAT", 1)]).out()
            raw = self.c.call(rp.EXEC, [("COMMAND", cmd), ("MODE", 1)]).out()
            self.assertTrue(plain.startswith(b"bash: line %d: " % n), plain)
            self.assertEqual(raw, plain.replace(b"bash: line ", b"/proc/self/fd/62: line "))
        self.ex("f(){ nonexistent_in_f; }")
        self.assertEqual(self.out("true\nf"),
                         b"bash: line 1: nonexistent_in_f: command not found\n")
        p = self.r.ctl("exec", "--stream", "--", "nonexistent_cmd")
        self.assertEqual(p.stdout, b"/proc/self/fd/62: line 1: nonexistent_cmd: command not found\n")
        self.ex("unset -f f")

    def test_erase_in_line_and_alternate_screen(self):
        self.assertEqual(self.out("printf 'hello world\\r\\033[Kbye\\n'"), b"bye\n")
        self.assertEqual(
            self.out("printf 'a\\n\\033[?1049hPAGER SCREEN\\n\\033[?1049lb\\n'"),
            b"a\nb\n")


class TestScriptOptions(SessionCase):
    def test_options_do_not_outlive_the_exec(self):
        self.assertEqual(self.out("set -euo pipefail; echo ok"), b"ok\n")
        res = self.ex("ls /nonexistent-dir 2>/dev/null; echo status=$?")
        self.assertEqual(res.fields.bytes("OUTPUT"), b"status=2\n")
        self.assertEqual(res.fields.int("RESPAWNED"), 0)
        self.assertEqual(self.out("echo $-; [[ -o pipefail ]] || echo nopf"),
                         self.out("echo $-; echo nopf"))
        self.assertIn(b"+ echo traced\ntraced\n", self.out("set -x; echo traced"))
        self.assertEqual(self.out("echo untraced"), b"untraced\n")

    def test_set_e_ends_the_exec_and_the_state_comes_back(self):
        self.ex("cd /tmp; export K=v; plain=p; f(){ echo fn; }; alias al='echo aliased'")
        res = self.ex("set -e; false; echo after")
        self.assertEqual(res.fields.bytes("OUTPUT"), b"")
        self.assertEqual(res.fields.int("EXIT_STATUS"), 1)
        self.assertEqual(res.fields.int("RESPAWNED"), 1)
        self.assertEqual(res.fields.int("RESTORED"), 1)
        self.assertEqual(self.out("pwd; echo $K $plain; f; al"),
                         b"/tmp\nv p\nfn\naliased\n")
        self.ex("cd; unset K plain; unset -f f; unalias al")

    def test_exit_restores_state(self):
        self.ex("cd /tmp; export E1=x")
        res = self.ex("exit 3")
        self.assertEqual(res.fields.int("EXIT_STATUS"), 3)
        self.assertEqual(res.fields.int("RESTORED"), 1)
        self.assertEqual(self.out("pwd; echo $E1"), b"/tmp\nx\n")
        self.ex("cd; unset E1")

    def test_killed_shell_restores_state_after_idle_snapshot(self):
        self.ex("cd /usr; export KS=1; g(){ echo gee; }")
        self.wait_snapshot("declare -x KS=")
        res = self.ex("kill -9 $$")
        self.assertEqual(res.fields.int("RESPAWNED"), 1)
        self.assertEqual(res.fields.int("RESTORED"), 1)
        self.assertEqual(self.out("pwd; echo $KS; g"), b"/usr\n1\ngee\n")
        self.ex("cd; unset KS; unset -f g")


class TestRespawnEvent(SessionCase):
    def test_stream_exec_gets_event_respawned(self):
        res = self.c.call(rp.EXEC, [("COMMAND", "echo bye; exit 4"), ("MODE", 1)])
        self.assertTrue(res.ok, res)
        self.assertEqual(res.fields.int("EXIT_STATUS"), 4)
        self.assertEqual(res.out(), b"bye\n")
        evs = [e for e in res.events if e.int("EVENT") == 2]
        self.assertEqual(len(evs), 1, res.events)
        self.assertEqual(evs[0].int("SHELL_PID"), res.fields.int("SHELL_PID"))


class TestExecBashRestores(SessionCase):
    def test_exec_bash_gets_the_idle_snapshot_back(self):
        self.ex("cd /usr; export EB=1; h(){ echo aitch; }")
        self.wait_snapshot("declare -x EB=")
        res = self.ex("exec bash")
        self.assertEqual(res.fields.int("RESPAWNED"), 1)
        self.assertEqual(res.fields.int("RESTORED"), 1)
        self.assertEqual(self.out("pwd; echo $EB; h"), b"/usr\n1\naitch\n")
        self.ex("cd; unset EB; unset -f h")


class TestKeepOptions(SessionCase):
    def test_terminal_semantics_on_request(self):
        r = self.c.call(rp.SHELL_OPEN, [("SESSION", "term"), ("KEEP_OPTIONS", 1)])
        self.assertTrue(r.ok, r)
        try:
            f = [("SESSION", "term")]
            self.assertTrue(self.c.call(rp.EXEC, f + [("COMMAND", "set -u; cd /tmp")]).ok)
            res = self.c.call(rp.EXEC, f + [("COMMAND", "[[ -o nounset ]] && echo kept")])
            self.assertEqual(res.fields.bytes("OUTPUT"), b"kept\n")
            self.c.call(rp.EXEC, f + [("COMMAND", "set -e")])
            res = self.c.call(rp.EXEC, f + [("COMMAND", "false")])
            self.assertEqual(res.fields.int("RESPAWNED"), 1)
            res = self.c.call(rp.EXEC, f + [("COMMAND", "pwd")])
            self.assertEqual(res.fields.bytes("OUTPUT"), b"/tmp\n")
        finally:
            self.c.call(rp.SHELL_CLOSE, [("SESSION", "term")])


class TestIdleRespawn(SessionCase):
    def test_idle_shell_replaced_every_time(self):
        # Issue 13 item 7: 50 kills of an idle shell, each replaced at once.
        for i in range(50):
            pid = None
            deadline = time.monotonic() + 10
            while not pid and time.monotonic() < deadline:
                pid = self.shell_pid()
            self.assertTrue(pid, "no shell after kill %d" % i)
            kill = self.c.call(rp.SPAWN, [("ARGV", "kill"), ("ARGV", "-9"),
                                          ("ARGV", str(pid))])
            self.assertTrue(kill.ok, kill)
            deadline = time.monotonic() + 10  # hang guard, not a timing test
            new = None
            while time.monotonic() < deadline:
                new = self.shell_pid()
                if new and new != pid:
                    break
                time.sleep(0.01)
            self.assertTrue(new and new != pid, "kill %d: shell %s not replaced" % (i, pid))
        self.assertEqual(self.out("echo alive"), b"alive\n")

    def test_idle_respawn_reported_by_next_exec(self):
        pid = self.ex("true").fields.int("SHELL_PID")
        self.assertTrue(self.c.call(rp.SPAWN, [("ARGV", "kill"), ("ARGV", "-9"),
                                               ("ARGV", str(pid))]).ok)
        deadline = time.monotonic() + 10
        while self.shell_pid() in (pid, 0, None) and time.monotonic() < deadline:
            time.sleep(0.01)
        self.assertNotIn(self.shell_pid(), (pid, 0, None), "not replaced while idle")
        res = self.ex("echo hi")
        self.assertEqual(res.fields.bytes("OUTPUT"), b"hi\n")
        self.assertEqual(res.fields.int("RESPAWNED"), 1)
        self.assertEqual(self.ex("true").fields.int("RESPAWNED"), 0)


class TestSignalFromAnyClient(SessionCase):
    """Issue 13 item 3: any client interrupts or cancels the command a
    session runs; the runner runs the ladder, so a command that ends
    meanwhile never lets a signal reach the idle shell."""

    def start(self, command, **kw):
        mark = os.path.join(self.r.tmp, "started-%d" % time.monotonic_ns())
        fields = [("COMMAND", "touch %s; %s" % (mark, command))] + list(kw.items())
        sid = self.c.send(rp.EXEC, fields)
        deadline = time.monotonic() + 30  # a hang guard
        while not os.path.exists(mark) and time.monotonic() < deadline:
            time.sleep(0.02)
        self.assertTrue(os.path.exists(mark), "the command did not start")
        return sid

    def test_cancel_from_another_client_runs_the_ladder(self):
        pid = self.ex("true").fields.int("SHELL_PID")
        sid = self.start("sh -c 'trap \"\" INT; sleep 100; echo not-reached'")
        c2 = self.r.client()
        res = c2.call(rp.SHELL_SIGNAL, [("CANCEL", 1), ("GRACE_MS", 200)])
        self.assertTrue(res.ok, res)
        self.assertEqual(res.fields.int("BUSY"), 1)
        res = self.c.wait(sid, timeout=60)
        self.assertTrue(res.ok, res)  # the EXEC's own client gets its RESULT
        self.assertEqual(res.fields.int("EXIT_STATUS"), 137)
        self.assertEqual(res.fields.int("TIMED_OUT"), 0)
        self.assertEqual(res.fields.int("SHELL_PID"), pid)  # the shell survived
        self.assertNotIn(b"\nnot-reached", b"\n" + res.fields.bytes("OUTPUT"))
        res = self.ex("echo free")
        self.assertEqual(res.fields.bytes("OUTPUT"), b"free\n")
        self.assertEqual(res.fields.int("RESPAWNED"), 0)

    def test_cancel_interrupts_first(self):
        sid = self.start("sleep 100")
        res = self.r.client().call(rp.SHELL_SIGNAL, [("CANCEL", 1)])
        self.assertEqual(res.fields.int("BUSY"), 1)
        self.assertEqual(self.c.wait(sid, timeout=60).fields.int("EXIT_STATUS"), 130)

    def test_idle_shell_is_never_signalled(self):
        pid = self.ex("true").fields.int("SHELL_PID")
        res = self.c.call(rp.SHELL_SIGNAL, [("CANCEL", 1)])
        self.assertTrue(res.ok, res)
        self.assertEqual(res.fields.int("BUSY"), 0)
        # A signal for a command that has just ended reaches nobody.
        for sig in (2, 15, 9):
            res = self.c.call(rp.SHELL_SIGNAL, [("SIGNAL", sig)])
            self.assertTrue(res.ok, res)
            self.assertEqual(res.fields.int("BUSY"), 0)
        res = self.ex("echo alive")
        self.assertEqual(res.fields.int("SHELL_PID"), pid)
        self.assertEqual(res.fields.int("RESPAWNED"), 0)

    def test_cancel_a_yielded_command(self):
        res = self.ex("sleep 100", YIELD_MS=200)
        self.assertEqual(res.fields.int("RUNNING"), 1)
        res = self.r.client().call(rp.SHELL_SIGNAL, [("CANCEL", 1)])
        self.assertEqual(res.fields.int("BUSY"), 1)
        res = self.exec_wait()
        self.assertTrue(res.ok, res)
        self.assertEqual(res.fields.int("EXIT_STATUS"), 130)

    def test_runnerctl_cancel_and_interrupt_say_when_idle(self):
        for cmd in ("cancel", "interrupt"):
            p = self.r.ctl(cmd)
            self.assertEqual(p.returncode, 0, p.stderr)
            self.assertIn(b"runs no command", p.stderr)


class TestSignalWhileShellStarts(SessionCase):
    def test_interrupt_before_the_shell_is_ready(self):
        # Issue 13 item 3: a signal sent while a fresh session's shell
        # still starts applies to the queued command, never to the shell.
        for i in range(30):
            name = "fresh%d" % i
            res = self.c.call(rp.SHELL_OPEN, [("SESSION", name)])
            self.assertTrue(res.ok, res)
            pid = res.fields.int("SHELL_PID")
            sid = self.c.send(rp.EXEC, [("SESSION", name), ("COMMAND", "sleep 5; echo ran")])
            sig = self.c.call(rp.SHELL_SIGNAL, [("SESSION", name), ("SIGNAL", 2)])
            self.assertTrue(sig.ok, sig)
            res = self.c.wait(sid, timeout=60)
            self.assertTrue(res.ok, res)
            self.assertEqual(res.fields.int("EXIT_STATUS"), 130, i)
            self.assertEqual(res.fields.bytes("OUTPUT"), b"", i)
            self.assertEqual(res.fields.int("RESPAWNED"), 0, i)
            self.assertEqual(res.fields.int("SHELL_PID"), pid, i)
            out = self.c.call(rp.EXEC, [("SESSION", name), ("COMMAND", "echo ok")])
            self.assertEqual(out.fields.bytes("OUTPUT"), b"ok\n", i)
            self.assertEqual(out.fields.int("SHELL_PID"), pid, i)
            self.assertTrue(self.c.call(rp.SHELL_CLOSE, [("SESSION", name)]).ok)


class TestJobsShowTheCommand(SessionCase):
    """Issue 13 item 6: `jobs -l` names the job's command, never the line
    that sources it (`\\builtin . /proc/self/fd/62`), in every output
    format, with stdin or CWD, and in a login session."""

    def jobs(self, session, **kw):
        f = [("SESSION", session)] + list(kw.items())
        res = self.c.call(rp.EXEC, f + [("COMMAND", "sleep 100 &")])
        self.assertTrue(res.ok, res)
        res = self.c.call(rp.EXEC, f + [("COMMAND", "jobs -l")])
        self.assertTrue(res.ok, res)
        out = res.out() if kw.get("MODE") else res.fields.bytes("OUTPUT")
        # Every job, not %1: bash may still list the previous round's
        # killed job (it drops it at its next notification), and then
        # this round's sleep is %2 and a `wait` for all would hang.
        self.assertTrue(self.c.call(rp.EXEC, [("SESSION", session),
                                              ("COMMAND", "kill $(jobs -p) 2>/dev/null; wait")]).ok)
        return out

    def test_jobs_l_in_every_format(self):
        for login in (0, 1):
            name = "jobs%d" % login
            res = self.c.call(rp.SHELL_OPEN, [("SESSION", name), ("LOGIN", login)])
            self.assertTrue(res.ok, res)
            try:
                for kw in ({"MODE": 0, "FORMAT": 1}, {"MODE": 0, "FORMAT": 0},
                           {"MODE": 1, "FORMAT": 0}, {"MODE": 1, "FORMAT": 1},
                           {"STDIN": 1}, {"CWD": "/"}):
                    out = self.jobs(name, **kw)
                    self.assertRegex(out, rb"(?m)^\[\d+\]\+ +\d+ Running +sleep 100 &", (login, kw))
                    self.assertNotIn(b"/proc/self/fd", out, (login, kw))
            finally:
                self.c.call(rp.SHELL_CLOSE, [("SESSION", name)])

    def test_jobs_l_through_runnerctl(self):
        for extra in ((), ("--stream",), ("--raw",)):
            p = self.r.ctl("exec", *extra, "--", "sleep 100 &")
            self.assertEqual(p.returncode, 0, p.stderr)
            p = self.r.ctl("exec", *extra, "--", "jobs -l; kill $(jobs -p)")
            self.assertRegex(p.stdout, rb"(?m)^\[\d+\]\+ +\d+ Running +sleep 100 &", extra)
            self.r.ctl("exec", "--", "wait")


if __name__ == "__main__":
    unittest.main()
