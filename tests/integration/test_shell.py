"""Shell sessions: SHELL_OPEN/CLOSE/LIST, EXEC, STDIN, RESIZE, SIGNAL.

Real bash on a real PTY, the runner as PID 1.  Timeouts here are hang
guards only; speed is measured by `make bench`.
"""
import hashlib
import os
import threading
import time
import unittest

from harness import Runner, RunnerTest
import rproto as rp

WAIT, STREAM = 0, 1
RAW, PLAIN = 0, 1


def execute(c, cmd, session=None, **fields):
    f = [("COMMAND", cmd)]
    if session:
        f.append(("SESSION", session))
    f += list(fields.items())
    return c.call(rp.EXEC, f, timeout=fields.pop("guard", 60))


class ShellCase(RunnerTest):
    def ex(self, cmd, **kw):
        res = execute(self.c, cmd, **kw)
        self.assertTrue(res.ok, res)
        return res

    def out(self, cmd, **kw):
        return self.ex(cmd, **kw).fields.bytes("OUTPUT")

    def status(self, cmd, **kw):
        return self.ex(cmd, **kw).fields.int("EXIT_STATUS")

    def err(self, type_, fields, code):
        res = self.c.call(type_, fields)
        self.assertFalse(res.ok, res)
        self.assertEqual(res.code_name, code, res)
        self.assertTrue(res.message)
        self.assertAlive()
        return res

    def stream_digest(self, cmd, session=None):
        """Run cmd in stream mode; sha256 and length of channel 1, checking
        offsets are contiguous, without keeping the bytes."""
        f = [("COMMAND", cmd), ("MODE", STREAM), ("FORMAT", RAW)]
        if session:
            f.append(("SESSION", session))
        sid = self.c.send(rp.EXEC, f)
        h, n = hashlib.sha256(), 0
        while True:
            fr = self.c.recv(timeout=120)
            if fr.stream != sid:
                continue
            if fr.type == rp.DATA:
                ch, off, data = fr.data()
                self.assertEqual(ch, 1)
                self.assertEqual(off, n)
                h.update(data)
                n += len(data)
                self.c.pending[sid].data.clear()
            elif fr.type in (rp.RESULT, rp.ERROR):
                self.c._done.pop(sid, None)
                self.assertEqual(fr.type, rp.RESULT, fr.fields())
                return h.hexdigest(), n, fr.fields()


class TestExec(ShellCase):
    def test_state_persists(self):
        self.ex("cd /tmp && export RX=exported && v=plain && "
                "f() { echo \"fn $1\"; } && alias al='echo aliased' && "
                "set -o noclobber")
        self.assertEqual(self.out("pwd; echo $RX $v; f x; al; "
                                  "[[ -o noclobber ]] && echo nc"),
                         b"/tmp\nexported plain\nfn x\naliased\nnc\n")
        res = self.ex("declare -g d=1; declare e=2; echo ok")
        self.assertEqual(self.out("echo $d $e"), b"1 2\n")
        self.assertEqual(res.fields.bytes("CWD"), b"/tmp")
        self.ex("cd /; set +o noclobber")

    def test_exit_statuses(self):
        for cmd, want in [("true", 0), ("false", 1), ("(exit 7)", 7),
                          ("no-such-command-x", 127),
                          ("sh -c 'kill -INT $$'", 130),
                          ("sh -c 'kill -KILL $$'", 137)]:
            with self.subTest(cmd=cmd):
                res = self.ex(cmd)
                self.assertEqual(res.fields.int("EXIT_STATUS"), want)
                self.assertEqual(res.fields.int("RESPAWNED"), 0)

    def test_result_fields(self):
        res = self.ex("true")
        f = res.fields
        self.assertEqual(f.bytes("OUTPUT"), b"")
        self.assertEqual(f.int("TOTAL_BYTES"), 0)
        self.assertEqual(f.int("TIMED_OUT"), 0)
        self.assertEqual(f.int("TRUNCATED"), 0)
        self.assertGreater(f.int("SHELL_PID"), 1)
        self.assertGreaterEqual(f.int("DURATION_US"), 0)

    def test_no_prompt_no_echo(self):
        self.assertEqual(self.out("echo exact"), b"exact\n")
        self.assertEqual(self.out("printf 'no newline'"), b"no newline")

    def test_every_byte_roundtrips(self):
        data = bytes(range(1, 256))
        quoted = data.replace(b"'", b"'\\''")
        res = self.ex(b"printf '%s' '" + quoted + b"'", FORMAT=RAW)
        self.assertEqual(res.fields.bytes("OUTPUT"), data)

    def test_command_sizes(self):
        self.assertEqual(self.status(":"), 0)   # 1 byte
        for size in (300 * 1000, (1 << 20)):
            with self.subTest(size=size):
                # A comment fills it to size; the command proves it ran whole.
                body = b"echo tail-ran #"
                cmd = b"x=1\n" + b"#" * (size - len(body) - 4) + b"\n" + body[:-2]
                self.assertLessEqual(len(cmd), size)
                self.assertEqual(self.out(cmd), b"tail-ran\n")

    def test_multiline_quotes_heredoc(self):
        cmd = (b"cat <<'EOF'\n$HOME `x` \\ ! \"q\" 'q'\nEOF\n"
               b"echo \"a  b\" 'c\"d' \\$e !x\n"
               b"printf '%s\\n' \xff\xfe")
        self.assertEqual(self.out(cmd, FORMAT=RAW),
                         b"$HOME `x` \\ ! \"q\" 'q'\na  b c\"d $e !x\n\xff\xfe\n")

    def test_plain_and_raw(self):
        cmd = "printf 'x\\rprogress 1\\rprogress 99\\n\\033[1;31mred\\033[0m \\033]0;title\\007ok\\n'"
        self.assertEqual(self.out(cmd), b"progress 99\nred ok\n")
        self.assertEqual(self.out(cmd, FORMAT=RAW),
                         b"x\rprogress 1\rprogress 99\n\x1b[1;31mred\x1b[0m \x1b]0;title\x07ok\n")

    def test_wait_mode_truncation(self):
        res = self.ex("seq 1 200000", OUTPUT_LIMIT=4096)
        f = res.fields
        out = f.bytes("OUTPUT")
        total = len(b"".join(b"%d\n" % i for i in range(1, 200001)))
        self.assertEqual(f.int("TRUNCATED"), 1)
        self.assertEqual(f.int("TOTAL_BYTES"), total)
        self.assertTrue(out.startswith(b"1\n2\n3\n"), out[:20])
        self.assertTrue(out.endswith(b"199999\n200000\n"), out[-20:])
        self.assertRegex(out.decode(), r"\n\u2026 \d+ bytes omitted \u2026\n")
        self.assertLessEqual(len(out), 4096 + 64)

    def test_stream_small_and_early(self):
        sid = self.c.send(rp.EXEC, [("COMMAND", "echo early; sleep 0.5; echo late"),
                                    ("MODE", STREAM)])
        first = None
        while True:
            f = self.c.recv(timeout=30)
            if f.stream != sid:
                continue
            if f.type == rp.DATA and first is None:
                first = f.data()
                # the first output arrives before the command finished
                self.assertNotIn(sid, getattr(self.c, "_done", {}))
                self.assertEqual(first[2], b"early\n")
            if f.type in (rp.RESULT, rp.ERROR):
                break
        res = self.c._done.pop(sid)
        self.assertTrue(res.ok, res)
        self.assertEqual(res.out(), b"early\nlate\n")
        self.assertIsNone(res.fields.bytes("OUTPUT"))

    def test_stream_empty(self):
        digest, n, f = self.stream_digest("true")
        self.assertEqual(n, 0)
        self.assertEqual(f.int("EXIT_STATUS"), 0)

    def test_stream_10mb_exact(self):
        path = "/tmp/shell-it-10mb"
        data = os.urandom(10 * 1000 * 1000)
        with open(path, "wb") as fp:
            fp.write(data)
        try:
            digest, n, f = self.stream_digest("cat " + path)
        finally:
            os.unlink(path)
        self.assertEqual(n, len(data))
        self.assertEqual(digest, hashlib.sha256(data).hexdigest())
        self.assertEqual(f.int("TOTAL_BYTES"), len(data))

    def test_stream_1gb_exact(self):
        # 1 MiB of random bytes, 1024 times: byte-exact and in order.
        # Under the runner's own temp dir: a fixed /tmp name collides
        # with another suite running on the same machine.
        path = os.path.join(self.r.tmp, "shell-it-1mb")
        block = os.urandom(1 << 20)
        with open(path, "wb") as fp:
            fp.write(block)
        try:
            digest, n, f = self.stream_digest(
                "for i in $(seq 1024); do cat %s; done" % path)
        finally:
            os.unlink(path)
        h = hashlib.sha256()
        for _ in range(1024):
            h.update(block)
        self.assertEqual(n, 1 << 30)
        self.assertEqual(digest, h.hexdigest())
        self.assertEqual(f.int("EXIT_STATUS"), 0)

    def test_stdin_via_request_and_data(self):
        sid = self.c.send(rp.EXEC, [("COMMAND", "read a; read b; echo \"got $a/$b\""),
                                    ("STDIN", 1)])
        r = self.c.call(rp.SHELL_STDIN, [("SESSION", "main"), ("DATA", b"one\n")])
        self.assertTrue(r.ok, r)
        self.c.send_data(sid, b"two\n")
        res = self.c.wait(sid, timeout=30)
        self.assertTrue(res.ok, res)
        self.assertEqual(res.fields.bytes("OUTPUT"), b"got one/two\n")

    def test_stdin_large_with_credit(self):
        line = b"y" * 99 + b"\n"
        data = line * 10486  # ~1 MiB, more than one window
        sid = self.c.send(rp.EXEC, [("COMMAND", "wc -c"), ("STDIN", 1)])
        sent = 0
        while sent < len(data):
            room = self.c.credit.get(sid, 0)
            if room <= 0:
                self.c.recv(timeout=30)  # a WINDOW frame
                continue
            chunk = data[sent:sent + min(room, 65536)]
            self.c.send_data(sid, chunk, offset=sent)
            sent += len(chunk)
        self.c.send_data(sid, b"", fin=True, offset=sent)
        res = self.c.wait(sid, timeout=60)
        self.assertEqual(res.fields.bytes("OUTPUT").strip(), str(len(data)).encode())

    def test_stream_backpressure(self):
        # A client that stops granting credit stops the command, not the
        # runner's memory.
        c2 = self.r.client()
        c2.auto_window = False
        base = self.r.rss()
        sid = c2.send(rp.EXEC, [("COMMAND", "head -c 200000000 /dev/zero; echo done"),
                                ("MODE", STREAM), ("SESSION", "main")])
        got = 0
        deadline = time.monotonic() + 1.0
        while time.monotonic() < deadline:
            try:
                f = c2.recv(timeout=0.2)
            except TimeoutError:
                continue
            # 200 MB unthrottled is done well within the second.
            self.assertNotIn(f.type, (rp.RESULT, rp.ERROR))
            if f.type == rp.DATA:
                got += len(f.data()[2])
                c2.pending[sid].data.clear()
        self.assertLessEqual(got, c2.window)
        self.assertLess(self.r.rss() - base, 16 << 20)
        c2.auto_window = True
        c2.grant(sid, 1 << 30)
        total = got
        while True:
            f = c2.recv(timeout=60)
            if f.type == rp.DATA:
                total += len(f.data()[2])
                c2.pending[sid].data.clear()
            elif f.type in (rp.RESULT, rp.ERROR):
                self.assertEqual(f.type, rp.RESULT)
                break
        self.assertEqual(total, 200000000 + 5)
        c2.close()

    def test_stdin_eof(self):
        sid = self.c.send(rp.EXEC, [("COMMAND", "cat; echo end"), ("STDIN", 1)])
        self.c.send_data(sid, b"partial line", fin=True)
        res = self.c.wait(sid, timeout=30)
        self.assertEqual(res.fields.bytes("OUTPUT"), b"partial lineend\n")

    def test_stdin_reader_does_not_eat_next_command(self):
        # `cat` reading stdin must not see the shell's next command text.
        sid = self.c.send(rp.EXEC, [("COMMAND", "cat >/dev/null; echo after"),
                                    ("STDIN", 1)])
        self.c.call(rp.SHELL_STDIN, [("DATA", b"x\n"), ("EOF", 1)])
        res = self.c.wait(sid, timeout=30)
        self.assertEqual(res.fields.bytes("OUTPUT"), b"after\n")
        self.assertEqual(self.out("echo next"), b"next\n")

    def test_timeout(self):
        t = time.monotonic()
        res = self.ex("sleep 100", TIMEOUT_MS=300)
        self.assertLess(time.monotonic() - t, 30)  # hang guard
        self.assertEqual(res.fields.int("TIMED_OUT"), 1)
        self.assertEqual(res.fields.int("EXIT_STATUS"), 130)
        self.assertEqual(res.fields.int("RESPAWNED"), 0)
        self.assertEqual(self.out("echo alive"), b"alive\n")

    def test_timeout_builtin_loop(self):
        res = self.ex("while :; do :; done", TIMEOUT_MS=200)
        self.assertEqual(res.fields.int("TIMED_OUT"), 1)
        self.assertEqual(self.out("echo alive"), b"alive\n")

    def test_timeout_ignoring_sigint(self):
        # SIGINT is ignored: the ladder's SIGKILL ends it; the shell stays.
        pid = self.ex("true").fields.int("SHELL_PID")
        res = self.ex("sh -c \"trap '' INT; sleep 100\"", TIMEOUT_MS=200)
        self.assertEqual(res.fields.int("TIMED_OUT"), 1)
        self.assertEqual(res.fields.int("EXIT_STATUS"), 137)
        self.assertEqual(res.fields.int("SHELL_PID"), pid)
        self.assertEqual(self.out("echo alive"), b"alive\n")

    def test_signal(self):
        sid = self.c.send(rp.EXEC, [("COMMAND", "sleep 100")])
        time.sleep(0.2)
        r = self.c.call(rp.SHELL_SIGNAL, [("SESSION", "main"), ("SIGNAL", 2)])
        self.assertTrue(r.ok, r)
        res = self.c.wait(sid, timeout=30)
        self.assertEqual(res.fields.int("EXIT_STATUS"), 130)
        self.assertEqual(res.fields.int("TIMED_OUT"), 0)

    def test_cancel(self):
        sid = self.c.send(rp.EXEC, [("COMMAND", "sleep 100")])
        time.sleep(0.1)
        self.c.cancel(sid)
        res = self.c.wait(sid, timeout=30)
        self.assertEqual(res.code_name, "E_CANCELLED", res)
        self.assertEqual(self.out("echo alive"), b"alive\n")

    def test_resize(self):
        r = self.c.call(rp.SHELL_RESIZE, [("ROWS", 33), ("COLS", 121)])
        self.assertTrue(r.ok, r)
        self.assertEqual(self.out("stty size", STDIN=1), b"33 121\n")

    def test_background_job_does_not_block(self):
        t = time.monotonic()
        res = self.ex("sleep 100 & echo started")
        self.assertEqual(res.fields.bytes("OUTPUT"), b"started\n")
        self.assertLess(time.monotonic() - t, 30)
        self.assertEqual(self.out("echo next"), b"next\n")
        self.ex("kill %1 2>/dev/null; true")

    def test_fake_markers(self):
        fake = ("printf '\\033]633;D;0123456789abcdef;0\\007\\033]633;D;;1\\007"
                "\\033]633;D;\\007\\033]633;Dx'; echo real")
        res = self.ex(fake, FORMAT=RAW)
        self.assertTrue(res.fields.bytes("OUTPUT").endswith(b"real\n"))
        self.assertEqual(self.out("echo next"), b"next\n")

    def test_user_prompt_settings(self):
        self.ex("PS1='$ '; PS2='> '; PROMPT_COMMAND='echo PC'; "
                "trap 'echo DEBUG' DEBUG 2>/dev/null; trap - DEBUG")
        self.assertEqual(self.out("echo clean"), b"clean\n")
        self.ex("unset PROMPT_COMMAND; PS1='\\$ '")

    def test_stdout_redirected_away(self):
        self.ex("exec 3>&1 >/dev/null")
        self.assertEqual(self.status("echo hidden"), 0)
        self.ex("exec 1>&3 3>&-")
        self.assertEqual(self.out("echo visible"), b"visible\n")


class TestRespawn(ShellCase):
    def assertRespawned(self, res, status=None):
        self.assertEqual(res.fields.int("RESPAWNED"), 1, res)
        if status is not None:
            self.assertEqual(res.fields.int("EXIT_STATUS"), status)
        self.assertEqual(self.out("echo works"), b"works\n")

    def test_exit(self):
        self.assertRespawned(self.ex("exit 3"), 3)

    def test_exec_bash(self):
        self.assertRespawned(self.ex("exec bash"))

    def test_set_e_then_failure(self):
        # set -e scopes to its EXEC: a later failure is just a status ...
        self.ex("set -e")
        self.assertEqual(self.ex("false").fields.int("RESPAWNED"), 0)
        # ... and a failure under it ends the EXEC (and the shell, whose
        # replacement gets the state back).
        res = self.ex("set -e; false; echo after")
        self.assertEqual(res.fields.bytes("OUTPUT"), b"")
        self.assertRespawned(res, 1)

    def test_kill_9_self(self):
        self.assertRespawned(self.ex("kill -9 $$"), 137)

    def test_exit_trap(self):
        res = self.ex("trap 'echo bye' EXIT; exit 4")
        self.assertEqual(res.fields.bytes("OUTPUT"), b"bye\n")
        self.assertRespawned(res, 4)

    def test_exit_with_background_job_holding_the_pty(self):
        self.assertRespawned(self.ex("sleep 100 & exit 0"), 0)

    def test_command_fd_closed(self):
        # The shell loses the fd its commands arrive on: the next EXEC
        # notices, restarts it and runs there.
        for lose in ("exec 62<&-", "exec 62>/dev/null"):
            with self.subTest(lose=lose):
                self.assertEqual(self.status(lose), 0)
                self.assertRespawned(self.ex("echo ran"))

    def test_state_restored_after_exit(self):
        res = self.ex("export KEPT=1; exit")
        self.assertEqual(res.fields.int("RESTORED"), 1)
        self.assertEqual(self.out("echo \"[$KEPT]\"; unset KEPT"), b"[1]\n")

    def test_shell_killed_from_outside(self):
        pid = self.ex("true").fields.int("SHELL_PID")
        self.assertTrue(self.c.call(rp.SHELL_OPEN, [("SESSION", "killer")]).ok)
        try:
            self.assertEqual(self.status("kill -9 %d" % pid, session="killer"), 0)
            res = self.ex("echo x")
            self.assertEqual(res.fields.bytes("OUTPUT"), b"x\n")
            self.assertNotEqual(res.fields.int("SHELL_PID"), pid)
        finally:
            self.c.call(rp.SHELL_CLOSE, [("SESSION", "killer")])


class TestSessions(ShellCase):
    runner_args = ("--max-sessions", "6")

    def test_open_list_close(self):
        r = self.c.call(rp.SHELL_OPEN, [("SESSION", "s1"), ("CWD", "/tmp"),
                                        ("ENV", "FOO=bar baz"), ("ROWS", 10),
                                        ("COLS", 50)])
        self.assertTrue(r.ok, r)
        self.assertEqual(r.fields.str("SESSION"), "s1")
        self.assertEqual(self.out("pwd; echo $FOO; stty size", session="s1", STDIN=1),
                         b"/tmp\nbar baz\n10 50\n")
        lst = self.c.call(rp.SHELL_LIST)
        names = {e.str("SESSION"): e for e in lst.fields.records()}
        self.assertIn("main", names)
        self.assertEqual(names["s1"].bytes("CWD"), b"/tmp")
        self.assertEqual(names["s1"].int("BUSY"), 0)
        self.assertTrue(self.c.call(rp.SHELL_CLOSE, [("SESSION", "s1")]).ok)
        self.err(rp.EXEC, [("SESSION", "s1"), ("COMMAND", "true")], "E_NOT_FOUND")

    def test_sessions_are_independent_and_parallel(self):
        names = ["p%d" % i for i in range(4)]
        for n in names:
            self.assertTrue(self.c.call(rp.SHELL_OPEN, [("SESSION", n)]).ok)
        try:
            t = time.monotonic()
            sids = [self.c.send(rp.EXEC, [("SESSION", n), ("COMMAND",
                    "cd /tmp; V=%s; sleep 1; echo $V $PWD" % n)]) for n in names]
            for n, sid in zip(names, sids):
                res = self.c.wait(sid, timeout=30)
                self.assertEqual(res.fields.bytes("OUTPUT"),
                                 ("%s /tmp\n" % n).encode())
            # Four one-second sleeps at once: far less than four seconds.
            self.assertLess(time.monotonic() - t, 3.5)
            self.assertEqual(self.out("echo ${V:-unset}"), b"unset\n")
        finally:
            for n in names:
                self.c.call(rp.SHELL_CLOSE, [("SESSION", n)])

    def test_login_profile(self):
        r = self.c.call(rp.SHELL_OPEN, [("SESSION", "lg"), ("LOGIN", 1),
                                        ("ENV", "HOME=/nonexistent-home")])
        self.assertTrue(r.ok, r)
        self.assertEqual(self.status("true", session="lg"), 0)
        self.c.call(rp.SHELL_CLOSE, [("SESSION", "lg")])

    def test_session_limit(self):
        opened = []
        try:
            for i in range(10):
                r = self.c.call(rp.SHELL_OPEN, [("SESSION", "lim%d" % i)])
                if not r.ok:
                    self.assertEqual(r.code_name, "E_LIMIT", r)
                    break
                opened.append("lim%d" % i)
            self.assertEqual(len(opened), 5)  # main + 5 = 6
            self.assertAlive()
        finally:
            for n in opened:
                self.c.call(rp.SHELL_CLOSE, [("SESSION", n)])

    def test_close_while_running(self):
        self.assertTrue(self.c.call(rp.SHELL_OPEN, [("SESSION", "cl")]).ok)
        sid = self.c.send(rp.EXEC, [("SESSION", "cl"), ("COMMAND", "sleep 100")])
        time.sleep(0.1)
        self.assertTrue(self.c.call(rp.SHELL_CLOSE, [("SESSION", "cl")]).ok)
        res = self.c.wait(sid, timeout=30)
        self.assertEqual(res.code_name, "E_CANCELLED", res)
        self.assertAlive()


class TestBadInput(ShellCase):
    runner_args = ("--max-command", "1000")

    def test_unknown_session(self):
        for t, extra in [(rp.EXEC, [("COMMAND", "true")]), (rp.SHELL_STDIN, []),
                         (rp.SHELL_RESIZE, [("ROWS", 1), ("COLS", 1)]),
                         (rp.SHELL_SIGNAL, [("SIGNAL", 2)]), (rp.SHELL_CLOSE, [])]:
            self.err(t, [("SESSION", "nope")] + extra, "E_NOT_FOUND")

    def test_missing_command(self):
        self.err(rp.EXEC, [], "E_BAD_REQUEST")

    def test_nul_in_command(self):
        self.err(rp.EXEC, [("COMMAND", b"echo a\x00b")], "E_BAD_REQUEST")

    def test_command_over_limit(self):
        self.err(rp.EXEC, [("COMMAND", b"#" * 1001)], "E_LIMIT")
        self.assertEqual(self.out(b"#" * 1000), b"")

    def test_bad_mode_format(self):
        self.err(rp.EXEC, [("COMMAND", "true"), ("MODE", 9)], "E_BAD_REQUEST")
        self.err(rp.EXEC, [("COMMAND", "true"), ("FORMAT", 9)], "E_BAD_REQUEST")
        self.err(rp.EXEC, [("COMMAND", "true"), (0x0108, b"\x01\x02\x03")],
                 "E_BAD_REQUEST")

    def test_busy_session(self):
        sid = self.c.send(rp.EXEC, [("COMMAND", "sleep 0.5")])
        self.err(rp.EXEC, [("COMMAND", "true")], "E_BUSY")
        self.assertTrue(self.c.wait(sid, timeout=30).ok)

    def test_bad_signal(self):
        for sig in (0, 65, 1 << 20):
            self.err(rp.SHELL_SIGNAL, [("SIGNAL", sig, )], "E_BAD_REQUEST")
        self.err(rp.SHELL_SIGNAL, [], "E_BAD_REQUEST")

    def test_bad_resize(self):
        self.err(rp.SHELL_RESIZE, [("ROWS", 0), ("COLS", 80)], "E_BAD_REQUEST")
        self.err(rp.SHELL_RESIZE, [("ROWS", 10)], "E_BAD_REQUEST")

    def test_stdin_without_command(self):
        self.err(rp.SHELL_STDIN, [("DATA", b"x")], "E_BAD_REQUEST")

    def test_bad_open(self):
        self.err(rp.SHELL_OPEN, [], "E_BAD_REQUEST")
        self.err(rp.SHELL_OPEN, [("SESSION", "a b")], "E_BAD_REQUEST")
        self.err(rp.SHELL_OPEN, [("SESSION", "x" * 65)], "E_BAD_REQUEST")
        self.err(rp.SHELL_OPEN, [("SESSION", "main")], "E_EXISTS")
        self.err(rp.SHELL_OPEN, [("SESSION", "e"), ("ENV", "NOEQUALS")],
                 "E_BAD_REQUEST")
        self.err(rp.SHELL_OPEN, [("SESSION", "e"), ("SHELL", "/no/such/shell")],
                 "E_EXEC")
        self.err(rp.SHELL_OPEN, [("SESSION", "e"), ("CWD", "/no/such/dir")],
                 "E_EXEC")

    def test_data_on_other_channel_is_ignored(self):
        sid = self.c.send(rp.EXEC, [("COMMAND", "echo ok")])
        self.c.send_data(sid, b"junk", channel=7)
        self.assertTrue(self.c.wait(sid, timeout=30).ok)

    def test_client_vanishes_mid_exec(self):
        c2 = self.r.client()
        c2.send(rp.EXEC, [("COMMAND", "sleep 0.3; echo gone")])
        c2.close()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            res = execute(self.c, "echo back")
            if res.ok:
                break
            self.assertEqual(res.code_name, "E_BUSY")
            time.sleep(0.1)
        self.assertEqual(res.fields.bytes("OUTPUT"), b"back\n")


class TestBusybox(ShellCase):
    runner_args = ("--shell", "/bin/busybox sh")

    @classmethod
    def setUpClass(cls):
        if not os.access("/bin/busybox", os.X_OK):
            raise unittest.SkipTest("SKIP: /bin/busybox not installed")
        super().setUpClass()

    def test_basics(self):
        self.ex("cd /tmp; X=1; f() { echo f$X; }")
        self.assertEqual(self.out("pwd; f"), b"/tmp\nf1\n")
        self.assertEqual(self.status("exit 5"), 5)
        self.assertEqual(self.out("echo $X"), b"\n")
        res = self.ex("sleep 100", TIMEOUT_MS=300)
        self.assertEqual(res.fields.int("TIMED_OUT"), 1)
        self.assertEqual(self.out("echo alive"), b"alive\n")


class TestAsUnprivilegedUser(ShellCase):
    runner_args = ("--user", "65534:65534")

    def test_exec_as_nobody(self):
        self.assertEqual(self.out("id -u; cd /tmp && pwd"), b"65534\n/tmp\n")
        self.assertEqual(self.ex("exit 2").fields.int("RESPAWNED"), 1)
        self.assertEqual(self.out("echo again"), b"again\n")


class TestNoDefaultSession(RunnerTest):
    runner_args = ("--no-default-session",)

    def test_no_main(self):
        res = execute(self.c, "true")
        self.assertEqual(res.code_name, "E_NOT_FOUND", res)
        self.assertAlive()


class TestRunnerctl(RunnerTest):
    def test_exec_status_and_output(self):
        p = self.r.ctl("exec", "--", "echo hello; exit 3")
        self.assertEqual(p.returncode, 3, p.stderr)
        self.assertEqual(p.stdout, b"hello\n")
        p = self.r.ctl("exec", "--stream", "--", "printf 'a\\rb\\n'; true")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(p.stdout, b"a\rb\n")
        p = self.r.ctl("exec", "-i", "--", "tr a-z A-Z", input=b"shout\n")
        self.assertEqual(p.stdout, b"SHOUT\n")
        p = self.r.ctl("exec", "--timeout", "200", "--", "sleep 50")
        self.assertEqual(p.returncode, 130)
        self.assertIn(b"timed out", p.stderr)
        p = self.r.ctl("exec", "--session", "nope", "--", "true")
        self.assertNotEqual(p.returncode, 0)
        self.assertIn(b"E_NOT_FOUND", p.stderr)

    def test_interactive_shell(self):
        # runnerctl shell on a terminal: a shell that echoes, answers and
        # passes its exit status through; the session stays byte-exact.
        from harness import PtyShell
        sh = PtyShell(self.r.sock)
        try:
            # Type only once the shell shows its prompt, as a person would.
            self.assertTrue(sh.read_until(b"#") or sh.read_until(b"$"), sh.out)
            sh.type(b"echo answer-$((6*7))\r")
            self.assertTrue(sh.read_until(b"answer-42"), sh.out)
            sh.type(b"exit 5\r")
        finally:
            status = sh.finish()
        self.assertEqual(status, 5)
        self.assertEqual(execute(self.c, "echo after").fields.bytes("OUTPUT"),
                         b"after\n")


if __name__ == "__main__":
    unittest.main()
