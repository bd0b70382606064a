"""Sessions an agent can rely on (issue 13): stdin that never outlives its
command, script options scoped to one EXEC with state that survives the
shell, respawns that are reliable and reported.

Real bash on a real PTY, the runner as PID 1.  Timeouts are hang guards;
speed is measured by `make bench`.
"""
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
        time.sleep(1.0)  # the session idles: the runner takes a snapshot
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


if __name__ == "__main__":
    unittest.main()
