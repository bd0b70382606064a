"""The Python SDK (tools/python, runner_client) against the real static
runner as PID 1: every area of the protocol through the public API, typed
errors, credit windows both ways, many threads on one connection,
keepalive, close() and Ctrl-C cancelling what runs, and the dialers.
"""
import hashlib
import os
import shutil
import signal
import socket
import sys
import tempfile
import threading
import time
import unittest

from harness import ROOT, RUNNER, Runner, RunnerTest
from test_runnerctl import BINARY_TOKEN, write_file

sys.path.insert(0, os.path.join(ROOT, "tools", "python"))
import runner_client as rc  # noqa: E402
from runner_client import _dial  # noqa: E402
from runner_client._conn import WINDOW  # noqa: E402
from runner_client import _wire as w  # noqa: E402


class SdkTest(RunnerTest):
    """One runner per class; self.sb is an SDK connection to it."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.sb = rc.Runner.connect("unix:" + cls.r.sock)
        cls.work = tempfile.mkdtemp(prefix="sdk-", dir=cls.r.tmp)

    @classmethod
    def tearDownClass(cls):
        cls.sb.close()
        super().tearDownClass()

    def connect(self, **kw):
        sb = rc.Runner.connect("unix:" + self.r.sock, **kw)
        self.addCleanup(sb.close)
        return sb

    def path(self, name):
        return os.path.join(self.work, name)

    def wait_free(self, session="main", deadline=20):
        """The session answers a new EXEC (not E_BUSY) within deadline s."""
        end = time.monotonic() + deadline
        while True:
            try:
                return self.sb.exec("echo free", session=session)
            except rc.Busy:
                if time.monotonic() > end:
                    raise
                time.sleep(0.05)


class TestShell(SdkTest):
    def test_exec_keeps_state_and_reports_cwd(self):
        r = self.sb.exec("cd %s && export SDK_X=41 && echo hi" % self.work)
        self.assertEqual((r.exit_code, r.output, r.cwd), (0, "hi\n", self.work))
        r = self.sb.exec("echo $((SDK_X+1)); pwd; (exit 3)")
        self.assertEqual(r.exit_code, 3)
        self.assertEqual(r.output, "42\n%s\n" % self.work)
        self.assertFalse(r.truncated)
        self.assertFalse(r.respawned)

    def test_respawn_is_reported_and_state_restored(self):
        s = self.sb.open_session("sdk-respawn")
        s.exec("cd /tmp && export KEEP=kept")
        r = s.exec("exit 7")
        self.assertTrue(r.respawned)
        self.assertEqual(r.exit_code, 7)
        self.assertTrue(r.restored)
        self.assertEqual(s.exec("pwd; echo $KEEP").output, "/tmp\nkept\n")
        s.close()

    def test_yield_then_exec_wait(self):
        r = self.sb.exec("echo part1; sleep 3; echo part2", yield_after=0.2)
        self.assertTrue(r.running)
        self.assertIsNone(r.exit_code)
        self.assertFalse(r.ok)
        with self.assertRaises(rc.Busy):
            self.sb.exec("true")
        r2 = self.sb.exec_wait(yield_after=30)
        self.assertEqual((r2.running, r2.exit_code), (False, 0))
        self.assertEqual(r.output + r2.output, "part1\npart2\n")
        with self.assertRaises(rc.NotFound):
            self.sb.exec_wait()

    def test_waiting_for_input_is_reported(self):
        r = self.sb.exec("read -p 'name? ' n; echo hi $n", stdin=None, yield_after=30)
        self.assertEqual(r.output, "hi\n")   # no stdin: end of file at once
        st = self.sb.exec_stream("read -p 'name? ' n; echo hi $n", stdin=True, timeout=60)
        got = b""
        for chunk in st:
            got += chunk
            if st.waiting_input:
                st.write(b"ann\n")
        self.assertIn(b"hi ann", got)

    def test_keep_options_session(self):
        s = self.sb.open_session("sdk-keepopt", keep_options=True)
        s.exec("set -u")
        r = s.exec("echo ${UNSET_VAR_X}")  # -u still set: the command fails
        self.assertNotEqual(r.exit_code, 0)
        s.close()
        s = self.sb.open_session("sdk-scoped")
        s.exec("set -u")
        self.assertEqual(s.exec("echo ${UNSET_VAR_X}x").output, "x\n")  # -u was scoped
        s.close()

    def test_cwd_and_env_for_one_command(self):
        self.sb.exec("cd /")
        r = self.sb.exec("pwd; echo $ONE", cwd="/tmp", env={"ONE": "1"})
        self.assertEqual(r.output, "/tmp\n1\n")
        self.assertEqual(self.sb.exec("pwd; echo ${ONE-unset}").output, "/\nunset\n")

    def test_detached_command_outlives_its_connection(self):
        sb = rc.Runner.connect("unix:" + self.r.sock)
        s = self.sb.open_session("sdk-detach")
        st = sb.exec_stream("echo started; sleep 0.5; echo done-detached",
                            session="sdk-detach", detach=True)
        self.assertIn(b"started", next(iter(st)))  # it runs (connections are not ordered)
        sb.close()  # close() cancels what runs, but not a detached command
        end = time.monotonic() + 20
        while True:
            try:  # E_BUSY until the runner has seen that connection go
                r = self.sb.exec_wait(session="sdk-detach", yield_after=30)
                break
            except rc.Busy:
                self.assertLess(time.monotonic(), end)
                time.sleep(0.02)
        self.assertEqual(r.exit_code, 0)
        self.assertTrue(r.output.endswith("done-detached\n"), r.output)
        s.close()
        del st

    def test_output_limit_truncates_head_and_tail(self):
        r = self.sb.exec("seq 1 20000", output_limit=4096)
        self.assertTrue(r.truncated)
        self.assertTrue(r.output.startswith("1\n2\n3\n"))
        self.assertTrue(r.output.endswith("19999\n20000\n"))
        self.assertIn("bytes omitted", r.output)
        self.assertGreater(r.total_bytes, 100000)

    def test_timeout_interrupts_and_session_survives(self):
        r = self.sb.exec("sleep 30", timeout=0.3)
        self.assertTrue(r.timed_out)
        self.assertEqual(self.sb.exec("echo after").output, "after\n")

    def test_stdin_bytes_then_eof(self):
        r = self.sb.exec("cat | tr a-z A-Z", stdin=b"abc\n")
        self.assertEqual(r.output, "ABC\n")

    def test_raw_keeps_escape_sequences_plain_strips_them(self):
        cmd = r"printf '\033[31mred\033[0m\n'"
        self.assertEqual(self.sb.exec(cmd).output, "red\n")
        self.assertIn(b"\x1b[31m", self.sb.exec(cmd, raw=True).output_bytes)

    def test_exec_stream_yields_chunks_then_result(self):
        with self.sb.exec_stream("for i in 1 2 3; do echo $i; sleep 0.05; done; exit 4") as st:
            data = b"".join(st)
        self.assertEqual(data, b"1\n2\n3\n")
        self.assertEqual(st.result.exit_code, 4)

    def test_exec_stream_interactive_stdin(self):
        with self.sb.exec_stream("read a; echo got:$a", stdin=True) as st:
            st.write(b"xyz\n")
            out = st.read()
        self.assertIn(b"got:xyz", out)
        self.assertEqual(st.result.exit_code, 0)

    def test_leaving_exec_stream_early_cancels_the_command(self):
        with self.sb.exec_stream("echo start; sleep 60; echo never") as st:
            first = next(iter(st))
            self.assertIn(b"start", first)
        t0 = time.monotonic()
        self.assertEqual(self.sb.exec("echo ok").output, "ok\n")  # not E_BUSY
        self.assertLess(time.monotonic() - t0, 20)

    def test_sessions_open_list_signal_resize_close(self):
        s = self.sb.open_session("sdk-s1", env={"SDK_E": "v"}, cwd="/")
        self.assertEqual(s.exec("echo $SDK_E; pwd").output, "v\n/\n")
        names = {i.name: i for i in self.sb.sessions()}
        self.assertIn("sdk-s1", names)
        self.assertFalse(names["sdk-s1"].busy)
        s.resize(40, 100)
        self.assertEqual(s.exec("stty size </dev/tty").output, "40 100\n")
        mark = self.path("interrupt-started")
        st = s.exec_stream("touch %s; sleep 30; echo not-interrupted" % mark)
        end = time.monotonic() + 30
        while not os.path.exists(mark) and time.monotonic() < end:
            time.sleep(0.02)
        s.interrupt()
        self.assertNotIn(b"not-interrupted", st.read())
        self.assertEqual(st.result.exit_code, 130)
        with self.assertRaises(rc.Exists):
            self.sb.open_session("sdk-s1")
        s.close()
        with self.assertRaises(rc.NotFound) as cm:
            s.exec("true")
        self.assertEqual(cm.exception.code, 13)
        self.assertEqual(cm.exception.name, "E_NOT_FOUND")

    def test_cancel_from_another_connection(self):
        # Session.cancel runs the runner's CANCEL ladder on a command another
        # client started (SHELL_SIGNAL CANCEL); idle, it signals nothing.
        s = self.sb.open_session("sdk-cancel")
        other = rc.Runner.connect("unix:" + self.r.sock)
        try:
            self.assertFalse(s.cancel())
            st = other.exec_stream("echo started; sleep 30; echo not-cancelled",
                                   session="sdk-cancel")
            self.assertIn(b"started", next(iter(st)))
            self.assertTrue(s.cancel(grace=0.5))
            self.assertNotIn(b"not-cancelled", st.read())
            self.assertEqual(st.result.exit_code, 130)
            self.assertEqual(s.exec("echo alive").output, "alive\n")
        finally:
            other.close()
            s.close()

    def test_busy_is_typed(self):
        st = self.sb.exec_stream("sleep 30")
        try:
            with self.assertRaises(rc.Busy) as cm:
                self.sb.exec("true")
            self.assertEqual(cm.exception.code, 20)
            self.assertTrue(cm.exception.message)
        finally:
            st.close()
        self.wait_free()

    def test_session_stdin_from_another_stream(self):
        st = self.sb.exec_stream("read l; echo line=$l", stdin=True)
        self.sb.main.write_stdin(b"hello\n")
        self.assertIn(b"line=hello", st.read())


class TestProcesses(SdkTest):
    def test_background_output_since_offsets_signal_wait(self):
        p = self.sb.spawn(["sh", "-c", "echo one; echo err >&2; sleep 60"], background=True)
        self.assertTrue(p.pid > 0)
        end = time.monotonic() + 20
        out = p.output()
        while (not out.stdout or not out.stderr) and time.monotonic() < end:
            time.sleep(0.05)
            out = p.output()
        self.assertEqual((out.stdout, out.stderr), (b"one\n", b"err\n"))
        self.assertEqual(out.next_offset, (4, 4))
        self.assertTrue(out.running)
        self.assertEqual(p.output(since=out.next_offset).stdout, b"")
        self.assertIn(p.pid, [x.pid for x in self.sb.processes()])
        p.signal("TERM")
        res = p.wait(timeout=20)
        self.assertEqual((res.running, res.term_signal, res.exit_code), (False, 15, 143))

    def test_background_process_outlives_the_connection(self):
        sb = rc.Runner.connect("unix:" + self.r.sock)
        p = sb.spawn(["sh", "-c", "sleep 0.5; echo survived"], background=True)
        sb.close()
        res = self.sb.process(p.pid).wait(timeout=20)
        self.assertEqual(res.exit_code, 0)
        self.assertEqual(self.sb.process(p.pid).output().stdout, b"survived\n")

    def test_foreground_stdin_stdout_stderr(self):
        p = self.sb.spawn(["sh", "-c", "tr a-z A-Z; echo e >&2; exit 5"], stdin=True)
        p.write("hello ")
        p.write(b"world")
        p.close_stdin()
        res = p.wait(timeout=20)
        self.assertEqual(res.exit_code, 5)
        self.assertEqual((p.stdout, p.stderr), (b"HELLO WORLD", b"e\n"))

    def test_iterate_foreground_output(self):
        p = self.sb.spawn(["sh", "-c", "echo a; echo b >&2"])
        got = {1: b"", 2: b""}
        for ch, data in p:
            got[ch] += data
        self.assertEqual(got, {1: b"a\n", 2: b"b\n"})
        self.assertEqual(p.result.exit_code, 0)

    def test_pty_process(self):
        p = self.sb.spawn(["sh", "-c", "test -t 1 && echo tty"], pty=True)
        p.wait(timeout=20)
        self.assertEqual(p.stdout, b"tty\r\n")   # a terminal's defaults: ONLCR
        p = self.sb.spawn(["sh", "-c", "test -t 1 && echo tty"], pty=True, pty_raw=True)
        p.wait(timeout=20)
        self.assertEqual(p.stdout, b"tty\n")      # exact bytes, as the sessions

    def test_exec_failure_is_typed_with_errno(self):
        with self.assertRaises(rc.ExecFailed) as cm:
            self.sb.spawn(["/nonexistent/prog"])
        self.assertEqual(cm.exception.errno, 2)
        self.assertEqual(cm.exception.code, 17)

    def test_attach_from_offset_follows_to_the_end(self):
        p = self.sb.spawn(["sh", "-c", "echo 0123456789; sleep 0.3; echo tail"], background=True)
        got = b"".join(d for ch, d in self.sb.attach(p.pid, since=5) if ch == 1)
        self.assertEqual(got, b"56789\ntail\n")

    def test_wait_timeout_leaves_it_running(self):
        p = self.sb.spawn(["sleep", "30"], background=True)
        with self.assertRaises(rc.Timeout):
            p.wait(timeout=0.2)
        p.kill()
        self.assertEqual(p.wait(timeout=20).term_signal, 9)

    def test_signal_unknown_pid_is_not_found(self):
        with self.assertRaises(rc.NotFound):
            self.sb.process(999999).signal("TERM")


class TestFiles(SdkTest):
    def test_write_read_edit(self):
        f = self.path("a.py")
        r = self.sb.files.write(f, b"print(1)\nprint(1)\n")
        self.assertTrue(r.created)
        self.assertEqual(r.size, 18)
        with self.assertRaises(rc.NotUnique) as cm:
            self.sb.files.edit(f, "print(1)", "print(2)")
        self.assertEqual(cm.exception.count, 2)
        self.assertEqual(cm.exception.code, 19)
        self.assertEqual(self.sb.files.edit(f, "print(1)\nprint(1)", "print(2)"), 1)
        self.assertEqual(self.sb.files.read(f), b"print(2)\n")
        with self.assertRaises(rc.NotMatched):
            self.sb.files.edit(f, "nope", "x")
        self.assertEqual(self.sb.files.edit(f, "2", "3", replace_all=True), 1)

    def test_read_ranges_and_lines(self):
        f = self.path("lines.txt")
        self.sb.files.write(f, "one\ntwo\nthree\nfour\n")
        self.assertEqual(self.sb.files.read(f, offset=4, length=3), b"two")
        rr = self.sb.files.read_full(f, line_from=2, line_to=3)
        self.assertEqual((rr.data, rr.total_lines, rr.size), (b"two\nthree\n", 4, 19))
        self.assertEqual(self.sb.files.read_text(f, max_bytes=5), "one\nt")
        rr = self.sb.files.read_full(f, line_from=3, line_numbers=True)
        self.assertEqual(rr.text, "     3\tthree\n     4\tfour\n")
        self.sb.files.write(self.path("bin"), b"ab\x00cd")
        rr = self.sb.files.read_full(self.path("bin"), binary_check=True)
        self.assertEqual((rr.binary, rr.data), (True, b""))

    def test_write_modes(self):
        f = self.path("modes.txt")
        self.sb.files.write(f, "a")
        self.sb.files.write(f, "b", mode="append")
        self.assertEqual(self.sb.files.read(f), b"ab")
        with self.assertRaises(rc.Exists):
            self.sb.files.write(f, "c", mode="exclusive")
        with self.assertRaises(rc.NotFound):
            self.sb.files.write(self.path("absent"), "x", create=False)
        self.sb.files.write(self.path("deep/er/f"), "x", parents=True, file_mode=0o600)
        self.assertEqual(self.sb.files.stat(self.path("deep/er/f")).mode & 0o777, 0o600)

    def test_failing_data_source_cancels_the_upload(self):
        f = self.path("kept.txt")
        self.sb.files.write(f, "old")

        def chunks():
            yield b"new data"
            raise ValueError("source broke")
        with self.assertRaises(ValueError):
            self.sb.files.write(f, chunks())
        self.assertEqual(self.sb.files.read(f), b"old")   # not replaced
        leftovers = [e.path for e in self.sb.files.ls(self.work, hidden=True)
                     if ".rnr-" in e.path]
        self.assertEqual(leftovers, [])

    def test_not_found_carries_errno(self):
        with self.assertRaises(rc.NotFound) as cm:
            self.sb.files.read(self.path("missing"))
        self.assertEqual(cm.exception.errno, 2)
        self.assertIn("missing", str(cm.exception))
        self.assertFalse(self.sb.files.exists(self.path("missing")))

    def test_big_upload_and_download_through_the_windows(self):
        # 40 MiB up: more than WRITE's 16 MiB extra credit plus the window,
        # so the upload must wait for WINDOW frames; 20 MiB down: five times
        # the window this client grants.
        block = hashlib.sha256(b"seed").digest() * 32768  # 1 MiB
        f = self.path("big.bin")
        r = self.sb.files.write(f, (block for _ in range(40)))
        self.assertEqual(r.size, 40 << 20)
        h = self.sb.exec("sha256sum < %s" % f).output.split()[0]
        self.assertEqual(h, hashlib.sha256(block * 40).hexdigest())
        got = hashlib.sha256()
        n = 0
        for chunk in self.sb.files.read_stream(f, length=20 << 20):
            got.update(chunk)
            n += len(chunk)
        self.assertEqual(n, 20 << 20)
        self.assertEqual(got.hexdigest(), hashlib.sha256(block * 20).hexdigest())

    def test_ls_find_grep_records(self):
        d = self.path("tree")
        for p in ("src/a.py", "src/b.txt", "src/sub/c.py", ".hidden/d.py"):
            self.sb.files.write(os.path.join(d, p), "needle %s\nhay\n" % p, parents=True)
        names = sorted(e.path for e in self.sb.files.ls(d, depth=2))
        self.assertEqual(names, ["src", "src/a.py", "src/b.txt", "src/sub"])
        self.assertIn(".hidden", [e.path for e in self.sb.files.ls(d, hidden=True)])
        recs = self.sb.files.find(d, "*.py")
        found = sorted(os.path.relpath(e.path, d) for e in recs)
        self.assertEqual(found, [".hidden/d.py", "src/a.py", "src/sub/c.py"])
        self.assertEqual(recs.summary.count, 3)
        dirs = [e.path for e in self.sb.files.find(d, type="dir")]
        self.assertIn(os.path.join(d, "src", "sub"), dirs)
        ms = self.sb.files.grep("need+le", d, include="*.py", hidden=False).list()
        self.assertEqual(sorted(os.path.relpath(m.path, d) for m in ms),
                         ["src/a.py", "src/sub/c.py"])
        self.assertTrue(all(m.line == 1 and m.match for m in ms))
        ctx = self.sb.files.grep("hay", os.path.join(d, "src", "a.py"), context=1).list()
        self.assertEqual([(m.line, m.match) for m in ctx], [(1, False), (2, True)])
        with self.assertRaises(rc.BadPattern):
            self.sb.files.grep("(", d).list()

    def test_agent_shaped_walks(self):
        # path globs, braces, mtime order, ignore files, caps that say MORE,
        # grep modes, -w and several patterns (PROTOCOL.md §17.11, §17.12)
        d = self.path("agent")
        files = {"src/a.py": "import os\nfoo = 1\n", "src/deep/b.py": "foo_bar = 2\n",
                 "src/c.ts": "foo()\n", "build/out.py": "foo = 3\n",
                 ".gitignore": "build/\n", "docs/x.md": "long " * 100 + "\n"}
        for p, body in files.items():
            self.sb.files.write(os.path.join(d, p), body, parents=True)
        self.sb.exec("cd %s && git init -q . 2>/dev/null || mkdir -p .git; touch -d '2001-01-01' "
                     "src/a.py" % d)
        rel = lambda recs: sorted(os.path.relpath(e.path, d) for e in recs)  # noqa: E731
        self.assertEqual(rel(self.sb.files.find(d, "src/**/*.py")),
                         ["src/a.py", "src/deep/b.py"])
        self.assertEqual(rel(self.sb.files.find(d, "*.{py,ts}", ignore=True)),
                         ["src/a.py", "src/c.ts", "src/deep/b.py"])
        self.assertIn("build/out.py", rel(self.sb.files.find(d, "*.py")))
        newest = [os.path.relpath(e.path, d)
                  for e in self.sb.files.find(d, "src/**/*.py", sort="mtime")]
        self.assertEqual(newest[-1], "src/a.py")
        self.assertEqual(rel(self.sb.files.find(d, "*.py", exclude="deep", ignore=True)),
                         ["src/a.py"])
        recs = self.sb.files.ls(d, depth=3, max_results=2)
        self.assertEqual(len(recs.list()), 2)
        self.assertTrue(recs.summary.truncated)
        self.assertGreater(recs.summary.more, 0)
        self.assertNotIn("build", [e.path for e in self.sb.files.ls(d, ignore=True)])
        files_mode = self.sb.files.grep("foo", d, mode="files", ignore=True).list()
        self.assertEqual(sorted(os.path.relpath(m.path, d) for m in files_mode),
                         ["src/a.py", "src/c.ts", "src/deep/b.py"])
        counts = {os.path.relpath(m.path, d): m.count
                  for m in self.sb.files.grep(["foo", "import"], d + "/src", mode="count")}
        self.assertEqual(counts, {"src/a.py": 2, "src/c.ts": 1, "src/deep/b.py": 1})
        words = self.sb.files.grep("foo", d + "/src", word=True).list()
        self.assertEqual(sorted(os.path.relpath(m.path, d) for m in words),
                         ["src/a.py", "src/c.ts"])
        digits = self.sb.files.grep(r"\w+ = \d", d + "/src", syntax="rust").list()
        self.assertEqual(sorted(m.text for m in digits), ["foo = 1", "foo_bar = 2"])
        self.assertEqual(self.sb.files.grep(r"\d", d + "/src").list(), [])  # ERE: \d is d
        cut = self.sb.files.grep("long", d + "/docs", max_line=20).list()
        self.assertEqual((cut[0].truncated, cut[0].size, len(cut[0].text)), (True, 500, 20))

    def test_stat_mkdir_move_remove_diff(self):
        d = self.path("ops")
        self.assertTrue(self.sb.files.mkdir(d + "/x/y", parents=True))
        self.assertFalse(self.sb.files.mkdir(d + "/x/y", parents=True))
        with self.assertRaises(rc.Exists):
            self.sb.files.mkdir(d + "/x")
        self.assertEqual(self.sb.files.stat(d + "/x").type, "dir")
        self.sb.files.write(d + "/a", "1\n2\n3\n")
        self.sb.files.write(d + "/b", "1\ntwo\n3\n")
        diff = self.sb.files.diff(d + "/a", d + "/b")
        self.assertIn("-2\n+two\n", diff)
        self.assertEqual(self.sb.files.diff(d + "/a", d + "/a"), "")
        self.assertIn("-3\n+three\n", self.sb.files.diff(d + "/a", text="1\n2\nthree\n"))
        self.sb.files.move(d + "/b", d + "/x/b")
        self.assertEqual(self.sb.files.read(d + "/x/b"), b"1\ntwo\n3\n")
        with self.assertRaises(rc.NotEmpty):
            self.sb.files.remove(d + "/x")
        with self.assertRaises(rc.NotADirectory):
            self.sb.files.ls(d + "/a").list()
        with self.assertRaises(rc.IsADirectory):
            self.sb.files.read(d + "/x")
        self.sb.files.remove(d, recursive=True)
        self.assertFalse(self.sb.files.exists(d))

    def test_non_utf8_paths_round_trip(self):
        name = os.fsdecode(b"\xff\xfe-bytes")
        f = os.path.join(self.work, name)
        self.sb.files.write(f, "x")
        listed = [e.path for e in self.sb.files.ls(self.work)]
        self.assertIn(name, listed)
        self.assertEqual(self.sb.files.read(f), b"x")


class TestSystem(SdkTest):
    def test_info_stats_ping(self):
        i = self.sb.info()
        self.assertTrue(i.software.startswith("runner "))
        self.assertTrue(i.is_pid1)
        self.assertIn("max_streams", i.limits)
        st = self.sb.stats()
        self.assertGreaterEqual(st.conns, 1)
        self.assertGreater(self.sb.ping(b"x" * 100), 0)
        self.assertIn("shell", self.sb.features)

    def test_unknown_error_code_is_a_runner_error(self):
        e = rc.errors.from_fields(w.Fields(w.encode([("CODE", 999), ("MESSAGE", "new")])))
        self.assertIs(type(e), rc.RunnerError)
        self.assertEqual((e.code, e.message), (999, "new"))


class TestConcurrency(SdkTest):
    def test_threads_on_sessions_and_files_share_one_connection(self):
        for i in range(4):
            try:
                self.sb.open_session("conc%d" % i)
            except rc.Exists:
                pass
        errors = []

        def shell(i):
            try:
                for k in range(15):
                    r = self.sb.exec("echo %d-%d" % (i, k), session="conc%d" % i)
                    assert r.output == "%d-%d\n" % (i, k), r
            except Exception as e:  # reported below
                errors.append(e)

        def files(i):
            try:
                for k in range(15):
                    f = self.path("c%d-%d" % (i, k))
                    self.sb.files.write(f, b"%d" % k * 1000)
                    assert self.sb.files.read(f) == b"%d" % k * 1000
            except Exception as e:  # reported below
                errors.append(e)

        ts = [threading.Thread(target=shell, args=(i,)) for i in range(4)]
        ts += [threading.Thread(target=files, args=(i,)) for i in range(4)]
        for t in ts:
            t.start()
        for t in ts:
            t.join(120)
        self.assertEqual(errors, [])
        self.assertEqual(self.sb.connection.open_streams(), 0)

    def test_unread_output_stays_within_the_granted_window(self):
        # The runner may send at most WINDOW bytes before we return credit,
        # and we return it only as the application reads: 60 MB of zeros
        # nobody reads stay in the sandbox, not in this process.
        p = self.sb.spawn(["head", "-c", "60000000", "/dev/zero"])

        def queued():
            self.sb.ping()  # this thread reads the socket: all that came is queued
            return sum(len(it[3]) for it in list(p._s.items) if it[0] == "D")
        end = time.monotonic() + 30
        while queued() < WINDOW // 2:
            self.assertLess(time.monotonic(), end, "the runner never filled the window")
            time.sleep(0.05)
        time.sleep(0.5)  # more time to overrun it, if it could
        self.assertLessEqual(queued(), WINDOW)
        n = 0
        for ch, data in p:
            n += len(data)
        self.assertEqual(n, 60000000)


class TestCancel(SdkTest):
    def test_close_cancels_exec_and_kills_foreground_processes(self):
        sb = rc.Runner.connect("unix:" + self.r.sock)
        try:
            sb.open_session("victim")
        except rc.Exists:
            pass
        st = sb.exec_stream("echo go; sleep 100", session="victim")
        self.assertIn(b"go", next(iter(st)))
        p = sb.spawn(["sleep", "100"])
        sb.close()
        with self.assertRaises(rc.ConnectionClosed):
            sb.exec("true")
        self.wait_free("victim")
        end = time.monotonic() + 20
        while p.pid in [x.pid for x in self.sb.processes() if x.running]:
            self.assertLess(time.monotonic(), end, "foreground process survived close()")
            time.sleep(0.05)

    def test_ctrl_c_cancels_the_current_exec(self):
        sb = self.connect()
        mark = self.path("ctrl-c-started")

        def ctrl_c_once_it_runs():
            end = time.monotonic() + 60
            while not os.path.exists(mark) and time.monotonic() < end:
                time.sleep(0.02)
            os.kill(os.getpid(), signal.SIGINT)
        timer = threading.Thread(target=ctrl_c_once_it_runs)
        t0 = time.monotonic()
        timer.start()
        with self.assertRaises(KeyboardInterrupt):
            sb.exec("touch %s; sleep 100" % mark)
        timer.join()
        self.assertLess(time.monotonic() - t0, 30)
        # cancelled, not merely abandoned: the session is free at once
        self.assertEqual(sb.exec("echo ok").output, "ok\n")

    def test_keepalive_pings_an_idle_connection(self):
        sb = self.connect(keepalive=0.2)
        sent = []
        orig = sb.connection._t.write

        def spy(b):
            sent.append(bytes(b[8:9]))
            orig(b)
        sb.connection._t.write = spy
        time.sleep(1.5)
        self.assertIn(bytes([w.PING]), sent)
        self.assertEqual(sb.exec("echo alive").output, "alive\n")

    def test_keepalive_closes_a_dead_connection(self):
        # A relay that stops forwarding after HELLO (a hung kubectl exec):
        # the keepalive PING gets no answer and every waiter is released.
        tmp = tempfile.mkdtemp(prefix="sdk-relay-")
        self.addCleanup(shutil.rmtree, tmp, True)
        path = os.path.join(tmp, "r.sock")
        srv = socket.socket(socket.AF_UNIX)
        srv.bind(path)
        srv.listen(1)
        self.addCleanup(srv.close)
        frozen = threading.Event()

        def relay():
            c, _ = srv.accept()
            up = socket.socket(socket.AF_UNIX)
            up.connect(self.r.sock)
            up.sendall(c.recv(65536))       # HELLO
            c.sendall(up.recv(65536))       # its answer
            frozen.set()
            time.sleep(30)
            c.close()
            up.close()
        threading.Thread(target=relay, daemon=True).start()
        sb = rc.Runner.connect("unix:" + path, keepalive=0.3)
        self.addCleanup(sb.close)
        frozen.wait(10)
        with self.assertRaises(rc.ConnectionClosed) as cm:
            sb.exec("true")
        self.assertIn("keepalive", str(cm.exception))


class TestPackage(unittest.TestCase):
    def test_type_checks_for_python_3_9(self):
        # The package ships py.typed: its annotations must hold.
        import subprocess
        r = subprocess.run(["/usr/bin/python3", "-c", "import mypy"], capture_output=True)
        if r.returncode != 0:
            if os.environ.get("CI") == "true":
                self.fail("mypy is missing under CI=true (tools/deps test installs python3-mypy)")
            self.skipTest("SKIP: no mypy (tools/deps test installs python3-mypy)")
        with tempfile.TemporaryDirectory() as cache:
            r = subprocess.run(["/usr/bin/python3", "-m", "mypy", "--python-version", "3.9",
                                "--cache-dir", cache, "runner_client"],
                               cwd=os.path.join(ROOT, "tools", "python"),
                               capture_output=True, timeout=600)
        self.assertEqual(r.returncode, 0, r.stdout.decode(errors="replace"))


class TestAuthAndLimits(unittest.TestCase):
    def test_token_from_argument_env_and_file(self):
        with Runner(env={"RUNNER_TOKEN": "s3cret-0123456789"}) as r:
            with self.assertRaises(rc.AuthFailed) as cm:
                rc.Runner.connect("unix:" + r.sock, token="wrong")
            self.assertEqual(cm.exception.code, 5)
            rc.Runner.connect("unix:" + r.sock, token="s3cret-0123456789").close()
            tf = os.path.join(r.tmp, "tok")
            with open(tf, "w") as f:
                f.write("s3cret-0123456789\n")
            rc.Runner.connect("unix:" + r.sock, token_file=tf).close()
            old = os.environ.get("RUNNER_TOKEN")
            os.environ["RUNNER_TOKEN"] = "s3cret-0123456789"
            try:
                with rc.Runner.connect("unix:" + r.sock) as sb:
                    self.assertGreater(sb.ping(), 0)
            finally:
                if old is None:
                    del os.environ["RUNNER_TOKEN"]
                else:
                    os.environ["RUNNER_TOKEN"] = old

    def test_binary_token_file_is_sent_whole(self):
        tok = BINARY_TOKEN
        with tempfile.TemporaryDirectory() as d:
            def tfile(name, data):
                return write_file(d, name, data)
            good = tfile("tok", tok)
            with Runner(args=["--token-file", good]) as r:
                for path in (good, tfile("tok-nl", tok + b"\n")):
                    with rc.Runner.connect("unix:" + r.sock, token_file=path) as sb:
                        self.assertGreater(sb.ping(), 0)
                with self.assertRaises(rc.AuthFailed):
                    rc.Runner.connect("unix:" + r.sock, token_file=tfile("wrong", tok[:-1] + b"X"))
                for data, why in [(b"x" * 257, "too long"), (b"short\n", "too short")]:
                    with self.assertRaises(ValueError) as cm:
                        rc.Runner.connect("unix:" + r.sock, token_file=tfile("bad", data))
                    self.assertIn(why, str(cm.exception))

    def test_escape_and_limit_are_typed(self):
        with Runner(args=["--root", "/tmp", "--max-sessions", "2"]) as r:
            with rc.Runner.connect("unix:" + r.sock) as sb:
                with self.assertRaises(rc.Escape) as cm:
                    sb.files.read("../etc/passwd")
                self.assertEqual(cm.exception.errno, 18)  # EXDEV
                sb.open_session("two")
                with self.assertRaises(rc.LimitExceeded):
                    sb.open_session("three")

    def test_runner_connect_env_is_the_default_target(self):
        with Runner() as r:
            old = os.environ.get("RUNNER_CONNECT")
            os.environ["RUNNER_CONNECT"] = "unix:" + r.sock
            try:
                with rc.connect() as sb:
                    self.assertEqual(sb.exec("echo env").output, "env\n")
            finally:
                if old is None:
                    del os.environ["RUNNER_CONNECT"]
                else:
                    os.environ["RUNNER_CONNECT"] = old

    def test_shutdown(self):
        with Runner() as r:
            sb = rc.Runner.connect("unix:" + r.sock)
            self.assertEqual(sb.shutdown(grace=1.5), 1500)
            r.proc.wait(30)
            with self.assertRaises(rc.ConnectionClosed):
                for _ in range(100):
                    sb.ping()
                    time.sleep(0.05)
            sb.close()


STUB = """#!/bin/sh
printf '%%s\\n' "$*" >>"%(log)s"
for last; do :; done
[ "$last" = attach ] || exit 64
exec "%(runner)s" attach --socket "%(sock)s"
"""


class TestDialers(SdkTest):
    def test_kubectl_argv(self):
        self.assertEqual(_dial.kubectl_argv("ns1/pod-0:agent", context="prod")[1:],
                         ["--context", "prod", "exec", "-i", "-n", "ns1", "pod-0", "-c",
                          "agent", "--", "/sbin/runner", "attach"])
        self.assertEqual(_dial.kubectl_argv("pod-0")[1:],
                         ["exec", "-i", "pod-0", "--", "/sbin/runner", "attach"])
        for bad in ("nope", "vsock:1", "fc:nopath", "docker:"):
            with self.assertRaises(_dial.DialError):
                _dial.parse(bad)

    def stub(self, name):
        d = tempfile.mkdtemp(prefix="sdk-stub-")
        self.addCleanup(shutil.rmtree, d, True)
        log = os.path.join(d, "argv.log")
        path = os.path.join(d, name)
        with open(path, "w") as f:
            f.write(STUB % {"log": log, "runner": RUNNER, "sock": self.r.sock})
        os.chmod(path, 0o755)
        return path, log

    def test_docker_and_kubectl_through_stub_clis(self):
        for var, target, want in (
                ("DOCKER", "docker:box", "exec -i box /sbin/runner attach"),
                ("KUBECTL", "kubectl:ns/pod:c",
                 "--context k exec -i -n ns pod -c c -- /sbin/runner attach")):
            path, log = self.stub(var.lower())
            old = os.environ.get(var)
            os.environ[var] = path
            try:
                with rc.Runner.connect(target, context="k") as sb:
                    self.assertEqual(sb.exec("echo via-%s" % var).output, "via-%s\n" % var)
            finally:
                if old is None:
                    del os.environ[var]
                else:
                    os.environ[var] = old
            with open(log) as f:
                self.assertEqual(f.read().splitlines(), [want])

    def test_cmd_target_and_a_cli_that_fails(self):
        with rc.Runner.connect("cmd:exec %s attach --socket %s" % (RUNNER, self.r.sock)) as sb:
            self.assertEqual(sb.exec("echo cmd").output, "cmd\n")
        with self.assertRaises(rc.ConnectionClosed) as cm:
            rc.Runner.connect("cmd:exit 3")
        self.assertIn("HELLO", str(cm.exception))

    def test_firecracker_hybrid_vsock(self):
        from test_dialers import FakeFirecracker
        tmp = tempfile.mkdtemp(prefix="sdk-fc-")
        self.addCleanup(shutil.rmtree, tmp, True)
        uds = os.path.join(tmp, "v.sock")
        fc = FakeFirecracker(uds, {1024: self.r.sock})
        self.addCleanup(fc.close)
        with rc.Runner.connect("fc:%s:1024" % uds) as sb:
            self.assertTrue(sb.info().is_pid1)
        self.assertEqual(fc.lines, [b"CONNECT 1024\n"])
        with self.assertRaises(_dial.DialError):
            rc.Runner.connect("fc:%s:9" % uds)

    def test_unreachable_socket_is_a_dial_error(self):
        with self.assertRaises(rc.DialError):
            rc.Runner.connect("unix:" + self.path("nobody.sock"))


if __name__ == "__main__":
    unittest.main()
