"""Processes: SPAWN, stdin, background rings, ATTACH, WAIT, SIGNAL, LIST,
and runnerctl spawn/ps/attach/kill.  Real processes in the runner's
PID namespace; pids in fields are that namespace's."""
import hashlib
import os
import shutil
import subprocess
import tempfile
import time
import unittest

from harness import RUNNERCTL, RunnerTest
import rproto as rp

HANG = 30  # seconds: only a guard against hangs, never a speed assertion


def spawn_fields(argv, **kw):
    fields = [("ARGV", a) for a in argv]
    for env in kw.pop("env", []):
        fields.append(("ENV", env))
    for k, v in kw.items():
        fields.append((k.upper(), v))
    return fields


def spawn(c, argv, **kw):
    return c.call(rp.SPAWN, spawn_fields(argv, **kw), timeout=HANG)


def started_pid(c, sid):
    """Wait for EVENT started on stream sid; return its pid."""
    res = c.pending[sid]
    end = time.time() + HANG
    while not res.events and time.time() < end:
        c.recv(HANG)
    assert res.events, "no EVENT started"
    ev = res.events[0]
    assert ev.int("EVENT") == 1, ev
    return ev.int("PID")


def wait_until(pred, timeout=HANG, step=0.05):
    end = time.time() + timeout
    while time.time() < end:
        if pred():
            return True
        time.sleep(step)
    return False


def sh(c, script, **kw):
    return spawn(c, ["sh", "-c", script], **kw)


class TestSpawn(RunnerTest):
    def test_exit_status_and_channels(self):
        res = sh(self.c, "echo out; echo err >&2; exit 3")
        self.assertTrue(res.ok, res)
        self.assertEqual(res.out(1), b"out\n")
        self.assertEqual(res.out(2), b"err\n")
        self.assertEqual(res.fields.int("EXIT_STATUS"), 3)
        self.assertEqual(res.fields.int("TERM_SIGNAL"), 0)
        self.assertEqual(res.fields.int("TIMED_OUT"), 0)
        self.assertEqual(res.events[0].int("PID"), res.fields.int("PID"))
        self.assertGreater(res.fields.int("DURATION_US"), 0)

    def test_signal_exit_is_128_plus_n(self):
        res = sh(self.c, "kill -TERM $$")
        self.assertEqual(res.fields.int("EXIT_STATUS"), 128 + 15)
        self.assertEqual(res.fields.int("TERM_SIGNAL"), 15)

    def test_order_within_each_channel(self):
        n = 2000
        res = sh(self.c, "i=0; while [ $i -lt %d ]; do echo o$i; echo e$i >&2;"
                 " i=$((i+1)); done" % n)
        self.assertTrue(res.ok, res)
        self.assertEqual(res.out(1), b"".join(b"o%d\n" % i for i in range(n)))
        self.assertEqual(res.out(2), b"".join(b"e%d\n" % i for i in range(n)))
        self.assertEqual(res.offsets.get(1), 0)
        self.assertEqual(res.offsets.get(2), 0)

    def test_offsets_are_contiguous(self):
        sid = self.c.send(rp.SPAWN, spawn_fields(
            ["sh", "-c", "head -c 3000000 /dev/urandom; echo x >&2"]))
        self.c.pending.pop(sid)
        want = {1: 0, 2: 0}
        while True:
            f = self.c.recv(HANG)
            if f.stream != sid:
                continue
            if f.type == rp.DATA:
                ch, off, data = f.data()
                self.assertEqual(off, want[ch])
                want[ch] += len(data)
                self.c.grant(sid, len(data))
            elif f.type in (rp.RESULT, rp.ERROR):
                self.assertEqual(f.type, rp.RESULT, f.fields())
                break
        self.assertEqual(want, {1: 3000000, 2: 2})

    def test_cat_ends_when_stdin_closes(self):
        sid = self.c.send(rp.SPAWN, spawn_fields(["cat"], stdin=1))
        self.c.send_data(sid, b"hello ", offset=0)
        self.c.send_data(sid, b"world", fin=True, offset=6)
        res = self.c.wait(sid, HANG)
        self.assertTrue(res.ok, res)
        self.assertEqual(res.out(1), b"hello world")
        self.assertEqual(res.fields.int("EXIT_STATUS"), 0)

    def test_stdin_larger_than_window(self):
        """More stdin than the runner's window: credit comes back as the
        pipe takes it."""
        blob = os.urandom(3 << 20)
        sid = self.c.send(rp.SPAWN, spawn_fields(["sha256sum"], stdin=1))
        sent = 0
        self.c.sock.settimeout(None)  # whole frames, however slow the runner
        try:
            while sent < len(blob):
                room = self.c.credit.get(sid, 0)
                if room <= 0:
                    self.c.recv(HANG)
                    continue
                n = min(room, 65536, len(blob) - sent)
                self.c.send_data(sid, blob[sent:sent + n], offset=sent,
                                 fin=sent + n == len(blob))
                sent += n
        finally:
            self.c.sock.settimeout(HANG)
        res = self.c.wait(sid, HANG)
        self.assertTrue(res.ok, res)
        self.assertEqual(res.out(1).split()[0],
                         hashlib.sha256(blob).hexdigest().encode())

    def test_stdin_closed_by_default(self):
        res = spawn(self.c, ["cat"])
        self.assertTrue(res.ok, res)
        self.assertEqual(res.out(1), b"")

    def test_grandchild_holding_pipe_does_not_hang(self):
        t = time.time()
        res = sh(self.c, "sleep 300 & echo done")
        self.assertTrue(res.ok, res)
        self.assertEqual(res.out(1), b"done\n")
        self.assertEqual(res.fields.int("EXIT_STATUS"), 0)
        self.assertLess(time.time() - t, 10)  # hang guard, not a speed test

    def test_env_replace_and_inherit(self):
        res = spawn(self.c, ["/usr/bin/env"], env=["FOO=bar", "X=1=2"],
                    env_mode=1)
        self.assertEqual(sorted(res.out(1).split()), [b"FOO=bar", b"X=1=2"])
        res = sh(self.c, 'echo "$PATH|$FOO"', env=["FOO=baz"])
        path, foo = res.out(1).rstrip(b"\n").split(b"|")
        self.assertEqual(foo, b"baz")
        self.assertIn(b"/bin", path)

    def test_path_search_uses_child_path(self):
        res = spawn(self.c, ["sh", "-c", "echo ok"],
                    env=["PATH=/nonexistent:/bin:/usr/bin"], env_mode=1)
        self.assertEqual(res.out(1), b"ok\n")

    def test_unknown_tags_ignored(self):
        res = self.c.call(rp.SPAWN, [("ARGV", "echo"), ("ARGV", "x"),
                                     (0x7777, b"\x01\x02\x03")])
        self.assertTrue(res.ok, res)
        self.assertEqual(res.out(1), b"x\n")

    def test_cwd(self):
        res = spawn(self.c, ["pwd"], cwd="/tmp")
        self.assertEqual(res.out(1), b"/tmp\n")

    def test_only_fds_012_clean_signals(self):
        sid = self.c.send(rp.SPAWN, spawn_fields(["sleep", "30"]))
        pid = started_pid(self.c, sid)
        # The program may hold a file briefly while it starts (a locale
        # archive): a leaked descriptor would stay.
        fds = lambda: sorted(spawn(self.c, ["ls", "/proc/%d/fd" % pid])
                             .out(1).split())
        self.assertTrue(wait_until(lambda: fds() == [b"0", b"1", b"2"]),
                        fds())
        st = spawn(self.c, ["cat", "/proc/%d/status" % pid]).out(1)
        lines = dict(l.split(b":\t", 1) for l in st.splitlines() if b":\t" in l)
        self.assertEqual(int(lines[b"SigBlk"], 16), 0, st)
        self.assertEqual(int(lines[b"SigIgn"], 16), 0, st)
        pgrp = spawn(self.c, ["cat", "/proc/%d/stat" % pid]).out(1)
        fields = pgrp.rsplit(b")", 1)[1].split()
        self.assertEqual(int(fields[2]), pid)  # leads its own group
        self.c.cancel(sid)
        res = self.c.wait(sid, HANG)
        self.assertEqual(res.code, rp.E_CANCELLED)

    def test_pty(self):
        res = sh(self.c, "test -t 0 && test -t 1 && stty size; tty", pty=1,
                 rows=30, cols=100)
        self.assertTrue(res.ok, res)
        lines = res.out(1).replace(b"\r\n", b"\n").split(b"\n")
        self.assertEqual(lines[0], b"30 100")
        self.assertTrue(lines[1].startswith(b"/dev/pts/"), lines)
        self.assertNotIn(2, res.data)

    def test_pty_stdin(self):
        sid = self.c.send(rp.SPAWN, spawn_fields(
            ["sh", "-c", "read x; echo got $x"], pty=1, stdin=1))
        self.c.send_data(sid, b"abc\n")
        res = self.c.wait(sid, HANG)
        self.assertIn(b"got abc", res.out(1))

    def test_pty_fin_never_hangs_up(self):
        """§16.2: FIN on a PTY sends ^D; the terminal is never hung up
        while the process runs (it was SIGHUP in ~1 of 3 tries)."""
        for i in range(25):
            sid = self.c.send(rp.SPAWN, spawn_fields(["cat"], pty=1,
                                                     stdin=1))
            self.c.send_data(sid, b"abc\n", fin=True)
            res = self.c.wait(sid, HANG)
            self.assertTrue(res.ok, res)
            self.assertEqual((res.fields.int("EXIT_STATUS"),
                              res.fields.int("TERM_SIGNAL")), (0, 0),
                             "try %d: %r" % (i, res.out(1)))

    def test_pty_close_stdin_never_hangs_up(self):
        for i in range(20):
            sid = self.c.send(rp.SPAWN, spawn_fields(
                ["cat"], pty=1, stdin=1, background=1))
            pid = started_pid(self.c, sid)
            st = self.c.call(rp.PROC_STDIN, [("PID", pid),
                                             ("DATA", b"abc\n")])
            self.assertTrue(st.ok, st)
            self.assertTrue(self.c.call(rp.PROC_CLOSE_STDIN,
                                        [("PID", pid)]).ok)
            res = self.c.wait(sid, HANG)
            self.assertTrue(res.ok, res)
            self.assertEqual((res.fields.int("EXIT_STATUS"),
                              res.fields.int("TERM_SIGNAL")), (0, 0),
                             "try %d" % i)

    def test_timeout_kills_group(self):
        t = time.time()
        res = sh(self.c, "sleep 300 & sleep 300", timeout_ms=300)
        self.assertTrue(res.ok, res)
        self.assertEqual(res.fields.int("TIMED_OUT"), 1)
        self.assertEqual(res.fields.int("EXIT_STATUS"), 128 + 9)
        self.assertLess(time.time() - t, 10)

    def test_output_limit(self):
        res = spawn(self.c, ["head", "-c", "1000000", "/dev/zero"],
                    output_limit=1000)
        self.assertTrue(res.ok, res)
        self.assertEqual(len(res.out(1)), 1000)
        self.assertEqual(res.fields.int("TRUNCATED"), 1)
        self.assertEqual(res.fields.int("TOTAL_BYTES"), 1000000)
        self.assertEqual(res.fields.int("EXIT_STATUS"), 0)

    def test_cancel_kills_foreground_group(self):
        sid = self.c.send(rp.SPAWN, spawn_fields(
            ["sh", "-c", "sleep 300 & echo $!; wait"]))
        pid = started_pid(self.c, sid)
        while not self.c.pending[sid].out(1).endswith(b"\n"):
            self.c.recv(HANG)
        grandchild = int(self.c.pending[sid].out(1))
        self.c.cancel(sid)
        res = self.c.wait(sid, HANG)
        self.assertEqual(res.code, rp.E_CANCELLED)
        self.assertTrue(wait_until(lambda: sh(
            self.c, "kill -0 %d" % grandchild).fields.int("EXIT_STATUS") != 0))
        self.assertTrue(wait_until(lambda: sh(
            self.c, "kill -0 %d" % pid).fields.int("EXIT_STATUS") != 0))

    def test_hundred_concurrent_spawns(self):
        conns = [self.r.client() for _ in range(4)]
        sids = []
        for i in range(100):
            c = conns[i % 4]
            sids.append((c, i, c.send(rp.SPAWN, spawn_fields(
                ["sh", "-c", "echo start $0; sleep 0.2; echo end $0 >&2",
                 str(i)]))))
        for c, i, sid in sids:
            res = c.wait(sid, HANG)
            self.assertTrue(res.ok, res)
            self.assertEqual(res.out(1), b"start %d\n" % i)
            self.assertEqual(res.out(2), b"end %d\n" % i)
        for c in conns:
            c.close()

    def test_client_disconnect_kills_foreground(self):
        c = self.r.client()
        sid = c.send(rp.SPAWN, spawn_fields(["sleep", "300"]))
        pid = started_pid(c, sid)
        c.close()
        self.assertTrue(wait_until(lambda: sh(
            self.c, "kill -0 %d" % pid).fields.int("EXIT_STATUS") != 0))


class TestBulk(RunnerTest):
    # 1 GiB through a pipe, the unix socket and a Python client on a
    # shared 2-core machine: a few seconds.  BULK_MB lowers it.
    SIZE = int(os.environ.get("BULK_MB", "1024")) << 20

    def test_bulk_byte_exact(self):
        line = b"".join(b"%d " % i for i in range(1, 200)) + b"\n"
        sid = self.c.send(rp.SPAWN, spawn_fields(
            ["sh", "-c", "yes \"$0\" | head -c %d" % self.SIZE,
             line[:-1].decode()]))
        self.c.pending.pop(sid)
        got, h = 0, hashlib.sha256()
        while True:
            f = self.c.recv(HANG)
            if f.stream != sid:
                continue
            if f.type == rp.DATA:
                ch, off, data = f.data()
                self.assertEqual((ch, off), (1, got))
                h.update(data)
                got += len(data)
                self.c.grant(sid, len(data))
            elif f.type in (rp.RESULT, rp.ERROR):
                self.assertEqual(f.type, rp.RESULT, f.fields())
                self.assertEqual(f.fields().int("EXIT_STATUS"), 0)
                break
        self.assertEqual(got, self.SIZE)
        want = hashlib.sha256()
        reps, rest = divmod(self.SIZE, len(line))
        block = line * 4096
        for _ in range(reps // 4096):
            want.update(block)
        want.update(line * (reps % 4096) + line[:rest])
        self.assertEqual(h.hexdigest(), want.hexdigest())

    def test_slow_client_memory_bounded(self):
        """100 producers to a client that never returns credit: the
        producers block, the runner's memory stays put."""
        c = rp.Client.unix(self.r.sock, hello=False)
        c.auto_window = False
        c.window = 65536
        c.hello()
        rss0 = self.r.rss()
        sids = [c.send(rp.SPAWN, spawn_fields(["yes"])) for _ in range(100)]
        for sid in sids:
            started_pid(c, sid)
        time.sleep(1.0)
        grown = self.r.rss() - rss0
        self.assertLess(grown, 64 << 20, "runner grew by %d bytes" % grown)
        c.close()
        self.assertTrue(wait_until(lambda: not [
            e for e in self.c.call(rp.PROC_LIST).fields.records()
            if e.int("STATE") == 0]))


class TestBackground(RunnerTest):
    def bg(self, c, argv, **kw):
        res = spawn(c, argv, background=1, follow=0, **kw)
        self.assertTrue(res.ok, res)
        self.assertEqual(res.fields.int("STATE"), 0)
        return res.fields.int("PID")

    def attach(self, c, pid, **kw):
        return c.call(rp.PROC_ATTACH, [("PID", pid)] +
                      [(k.upper(), v) for k, v in kw.items()], timeout=HANG)

    def test_server_outlives_client_and_replays(self):
        c1 = self.r.client()
        sid = c1.send(rp.SPAWN, spawn_fields(
            ["sh", "-c", "echo ready; while read l; do echo got $l; done"],
            background=1, stdin=1))
        pid = started_pid(c1, sid)
        while c1.pending[sid].out(1) != b"ready\n":
            c1.recv(HANG)
        c1.close()
        time.sleep(0.2)
        entry = [e for e in self.c.call(rp.PROC_LIST).fields.records()
                 if e.int("PID") == pid]
        self.assertEqual(entry[0].int("STATE"), 0, "died with its client")
        self.assertEqual(entry[0].all("ARGV")[0], b"sh")
        # Replay of what it printed while nobody listened, then live output.
        c2 = self.r.client()
        asid = c2.send(rp.PROC_ATTACH, [("PID", pid)])
        res = c2.pending[asid]
        while res.out(1) != b"ready\n":
            c2.recv(HANG)
        self.assertEqual(res.offsets[1], 0)
        st = self.c.call(rp.PROC_STDIN, [("PID", pid), ("DATA", b"one\n")])
        self.assertTrue(st.ok, st)
        while res.out(1) != b"ready\ngot one\n":
            c2.recv(HANG)
        # A second attacher from an offset sees only the tail.
        tail = self.attach(self.c, pid, from_offset=6, follow=0)
        self.assertTrue(tail.ok, tail)
        self.assertEqual(tail.out(1), b"got one\n")
        self.assertEqual(tail.offsets[1], 6)
        self.assertTrue(self.c.call(rp.PROC_CLOSE_STDIN, [("PID", pid)]).ok)
        fin = c2.wait(asid, HANG)
        self.assertTrue(fin.ok, fin)
        self.assertEqual(fin.fields.int("EXIT_STATUS"), 0)
        self.assertEqual(fin.fields.int("STATE"), 1)
        # Exited, still queryable.
        w = self.c.call(rp.PROC_WAIT, [("PID", pid)], timeout=HANG)
        self.assertEqual(w.fields.int("EXIT_STATUS"), 0)
        again = self.attach(self.c, pid)
        self.assertEqual(again.out(1), b"ready\ngot one\n")
        c2.close()

    def test_group_killed_with_grandchildren(self):
        pid = self.bg(self.c, ["sh", "-c", "sleep 300 & echo $!; wait"])
        self.assertTrue(wait_until(lambda: self.attach(
            self.c, pid, follow=0).out(1).endswith(b"\n")))
        grandchild = int(self.attach(self.c, pid, follow=0).out(1))
        wsid = self.c.send(rp.PROC_WAIT, [("PID", pid)])
        sig = self.c.call(rp.PROC_SIGNAL, [("PID", pid), ("SIGNAL", 9)])
        self.assertTrue(sig.ok, sig)
        w = self.c.wait(wsid, HANG)
        self.assertEqual(w.fields.int("EXIT_STATUS"), 137)
        self.assertTrue(wait_until(lambda: sh(
            self.c, "kill -0 %d" % grandchild).fields.int("EXIT_STATUS") != 0))

    def test_wait_timeout(self):
        pid = self.bg(self.c, ["sleep", "300"])
        res = self.c.call(rp.PROC_WAIT, [("PID", pid), ("TIMEOUT_MS", 100)],
                          timeout=HANG)
        self.assertEqual(res.code_name, "E_TIMEOUT", res)
        self.assertTrue(self.c.call(rp.PROC_SIGNAL, [("PID", pid)]).ok)
        res = self.c.call(rp.PROC_WAIT, [("PID", pid), ("TIMEOUT_MS", 20000)],
                          timeout=HANG)
        self.assertEqual(res.fields.int("EXIT_STATUS"), 143, res)

    def test_wait_and_list(self):
        pid = self.bg(self.c, ["sh", "-c", "sleep 0.3; exit 5"])
        w = self.c.call(rp.PROC_WAIT, [("PID", pid)], timeout=HANG)
        self.assertEqual(w.fields.int("EXIT_STATUS"), 5)
        entries = {e.int("PID"): e for e in
                   self.c.call(rp.PROC_LIST).fields.records()}
        self.assertEqual(entries[pid].int("STATE"), 1)
        self.assertEqual(entries[pid].int("EXIT_STATUS"), 5)
        self.assertEqual(entries[pid].int("BACKGROUND"), 1)
        self.assertGreater(entries[pid].int("START_MS"), 1600000000000)
        self.assertEqual(entries[pid].all("ARGV"),
                         [b"sh", b"-c", b"sleep 0.3; exit 5"])

    def test_several_attachers_slow_one_does_not_stall(self):
        pid = self.bg(self.c, ["sh", "-c", "read x; head -c 20000000 /dev/zero;"
                               " echo end"], stdin=1)
        slow = rp.Client.unix(self.r.sock, hello=False)
        slow.auto_window = False
        slow.window = 1024
        slow.hello()
        ssid = slow.send(rp.PROC_ATTACH, [("PID", pid)])
        fast = self.r.client()
        fsid = fast.send(rp.PROC_ATTACH, [("PID", pid)])
        self.assertTrue(self.c.call(rp.PROC_STDIN, [("PID", pid),
                                                    ("DATA", b"go\n")]).ok)
        w = self.c.call(rp.PROC_WAIT, [("PID", pid)], timeout=HANG)
        self.assertEqual(w.fields.int("EXIT_STATUS"), 0)
        res = fast.wait(fsid, HANG)
        self.assertTrue(res.ok, res)
        self.assertTrue(res.out(1).endswith(b"end\n"))
        # The slow reader got its first 1024 bytes, then waited; now it
        # learns what it lost and gets the tail.
        slow.auto_window = True
        slow.grant(ssid, 1 << 30)
        res = slow.wait(ssid, HANG)
        self.assertTrue(res.ok, res)
        dropped = [e for e in res.events if e.int("EVENT") == 3]
        self.assertTrue(dropped, res.events)
        self.assertGreater(res.fields.int("DROPPED"), 0)
        self.assertTrue(res.out(1).endswith(b"end\n"))
        slow.close()
        fast.close()


class TestRing(RunnerTest):
    runner_args = ("--ring-size", "4096")

    def test_dropped_reported_and_tail_kept(self):
        data = b"".join(b"%07d\n" % i for i in range(10000))  # 80000 bytes
        res = spawn(self.c, ["sh", "-c", "cat"], background=1, follow=0,
                    stdin=1)
        pid = res.fields.int("PID")
        self.c.sock.settimeout(None)  # one 80 kB frame, written whole
        sid = self.c.send(rp.PROC_STDIN, [("PID", pid), ("DATA", data),
                                          ("EOF", 1)])
        self.c.sock.settimeout(HANG)
        self.assertTrue(self.c.wait(sid, HANG).ok)
        self.assertEqual(self.c.call(rp.PROC_WAIT, [("PID", pid)],
                                     timeout=HANG).fields.int("EXIT_STATUS"), 0)
        res = self.c.call(rp.PROC_ATTACH, [("PID", pid)], timeout=HANG)
        self.assertTrue(res.ok, res)
        self.assertEqual(res.events[0].int("EVENT"), 3)
        self.assertEqual(res.events[0].int("DROPPED"), len(data) - 4096)
        self.assertEqual(res.events[0].int("CHANNEL"), 1)
        self.assertEqual(res.out(1), data[-4096:])
        self.assertEqual(res.offsets[1], len(data) - 4096)
        self.assertEqual(res.fields.int("DROPPED"), len(data) - 4096)


class TestMaxProcs(RunnerTest):
    runner_args = ("--max-procs", "3")

    def test_limit_then_room_from_exited(self):
        pids = [spawn(self.c, ["sleep", "300"], background=1,
                      follow=0).fields.int("PID") for _ in range(3)]
        res = spawn(self.c, ["true"])
        self.assertEqual(res.code_name, "E_LIMIT", res)
        self.assertAlive()
        self.c.call(rp.PROC_SIGNAL, [("PID", pids[0]), ("SIGNAL", 9)])
        self.c.call(rp.PROC_WAIT, [("PID", pids[0])], timeout=HANG)
        # The exited one is remembered, but gives way to a new process.
        res = spawn(self.c, ["true"])
        self.assertTrue(res.ok, res)
        listed = [e.int("PID") for e in
                  self.c.call(rp.PROC_LIST).fields.records()]
        self.assertNotIn(pids[0], listed)
        for pid in pids[1:]:
            self.c.call(rp.PROC_SIGNAL, [("PID", pid), ("SIGNAL", 9)])


class TestBadInput(RunnerTest):
    def check(self, res, code, errno=None):
        self.assertFalse(res.ok, res)
        self.assertEqual(res.code_name, rp.ERRORS[code], res)
        if errno is not None:
            self.assertEqual(res.errno, errno, res)
        self.assertTrue(res.message)
        self.assertAlive()

    def test_empty_argv(self):
        self.check(self.c.call(rp.SPAWN, []), rp.E_BAD_REQUEST)
        self.check(spawn(self.c, [""]), rp.E_BAD_REQUEST)

    def test_nonexistent_program(self):
        self.check(spawn(self.c, ["/no/such/program"]), rp.E_EXEC, 2)
        self.check(spawn(self.c, ["no-such-program-anywhere"]), rp.E_EXEC, 2)

    def test_not_executable(self):
        with tempfile.NamedTemporaryFile(dir="/tmp") as f:
            os.chmod(f.name, 0o644)
            self.check(spawn(self.c, [f.name]), rp.E_EXEC, 13)

    def test_cwd_missing(self):
        self.check(spawn(self.c, ["true"], cwd="/no/such/dir"),
                   rp.E_NOT_FOUND, 2)

    def test_env_without_equals(self):
        self.check(spawn(self.c, ["true"], env=["NOEQUALS"]), rp.E_BAD_REQUEST)
        self.check(spawn(self.c, ["true"], env=["=v"]), rp.E_BAD_REQUEST)

    def test_argv_over_limit(self):
        self.check(spawn(self.c, ["true"] + ["x"] * 5000), rp.E_LIMIT)

    def test_malformed_integer(self):
        payload = rp.field("ARGV", "true") + rp.field(0x0202, b"\x01\x02\x03")
        self.check(self.c.call(rp.SPAWN, payload=payload), rp.E_BAD_REQUEST)

    def test_nul_in_argv_and_bad_env_mode(self):
        self.check(spawn(self.c, ["echo", "a\0b"]), rp.E_BAD_REQUEST)
        self.check(spawn(self.c, ["true"], env_mode=7), rp.E_BAD_REQUEST)

    def test_pid_not_ours(self):
        for t in (rp.PROC_SIGNAL, rp.PROC_WAIT, rp.PROC_ATTACH, rp.PROC_STDIN,
                  rp.PROC_CLOSE_STDIN):
            self.check(self.c.call(t, [("PID", 1)]), rp.E_NOT_FOUND)
            self.check(self.c.call(t, [("PID", 99999)]), rp.E_NOT_FOUND)
        self.check(self.c.call(rp.PROC_SIGNAL, []), rp.E_BAD_REQUEST)

    def test_bad_signal(self):
        pid = spawn(self.c, ["sleep", "30"], background=1,
                    follow=0).fields.int("PID")
        for sig in (0, 65, 1 << 31):
            self.check(self.c.call(rp.PROC_SIGNAL, [("PID", pid),
                                                    ("SIGNAL", sig)]),
                       rp.E_BAD_REQUEST)
        self.assertTrue(self.c.call(rp.PROC_SIGNAL, [("PID", pid)]).ok)

    def test_attach_to_foreground(self):
        sid = self.c.send(rp.SPAWN, spawn_fields(["sleep", "30"]))
        pid = started_pid(self.c, sid)
        self.check(self.c.call(rp.PROC_ATTACH, [("PID", pid)]),
                   rp.E_BAD_REQUEST)
        self.c.cancel(sid)
        self.c.wait(sid, HANG)

    def test_stdin_to_closed_stdin(self):
        pid = spawn(self.c, ["sleep", "30"], background=1,
                    follow=0).fields.int("PID")
        self.check(self.c.call(rp.PROC_STDIN, [("PID", pid),
                                               ("DATA", b"x")]), rp.E_IO, 32)
        self.c.call(rp.PROC_SIGNAL, [("PID", pid), ("SIGNAL", 9)])


class TestRunnerctl(RunnerTest):
    def test_spawn_passes_status_and_streams(self):
        p = self.r.ctl("spawn", "--", "sh", "-c",
                       "cat; echo err >&2; exit 7", input=b"in\n")
        self.assertEqual(p.returncode, 7, p)
        self.assertEqual(p.stdout, b"in\n")
        self.assertEqual(p.stderr, b"err\n")

    def test_spawn_options(self):
        p = self.r.ctl("spawn", "--cwd", "/tmp", "--env", "A=b", "--", "sh",
                       "-c", 'echo "$PWD $A"', input=b"")
        self.assertEqual(p.stdout, b"/tmp b\n", p)
        p = self.r.ctl("spawn", "--pty", "--", "sh", "-c",
                       "test -t 1 && echo tty", input=b"")
        self.assertIn(b"tty", p.stdout, p)

    @unittest.skipUnless(shutil.which("script"), "needs script(1) for a tty")
    def test_spawn_pty_takes_terminal_size(self):
        cmd = ("stty cols 123 rows 45; %s --connect unix:%s spawn --pty -- "
               "sh -c 'stty size; exit 3'" % (RUNNERCTL, self.r.sock))
        p = subprocess.run(["script", "-qec", cmd, "/dev/null"],
                           capture_output=True, timeout=HANG,
                           stdin=subprocess.DEVNULL)
        self.assertEqual(p.returncode, 3, p)
        self.assertIn(b"45 123\r\n", p.stdout)

    def test_spawn_errors(self):
        p = self.r.ctl("spawn", "--", "/no/such/program", input=b"")
        self.assertEqual(p.returncode, 127, p)
        self.assertIn(b"E_EXEC", p.stderr)
        p = self.r.ctl("spawn", "--", "sh", "-c", "kill -KILL $$", input=b"")
        self.assertEqual(p.returncode, 137, p)

    def test_bg_ps_attach_kill(self):
        p = self.r.ctl("spawn", "--bg", "--", "sh", "-c",
                       "echo hello; exec sleep 300")
        self.assertEqual(p.returncode, 0, p)
        pid = p.stdout.strip().decode()
        self.assertTrue(pid.isdigit(), p)
        ps = self.r.ctl("ps")
        self.assertEqual(ps.returncode, 0, ps)
        row = [l for l in ps.stdout.decode().splitlines()
               if l.split()[0] == pid]
        self.assertIn("running", row[0])
        self.assertIn("sh -c echo hello", row[0])
        self.assertTrue(wait_until(lambda: self.c.call(rp.PROC_ATTACH, [
            ("PID", int(pid)), ("FOLLOW", 0)]).out(1) == b"hello\n"))
        k = self.r.ctl("kill", pid, "KILL")
        self.assertEqual(k.returncode, 0, k)
        a = self.r.ctl("attach", pid)
        self.assertEqual(a.stdout, b"hello\n", a)
        self.assertEqual(a.returncode, 137, a)
        a = self.r.ctl("attach", pid, "--from", "2")
        self.assertEqual(a.stdout, b"llo\n", a)
        k = self.r.ctl("kill", "99999")
        self.assertEqual(k.returncode, 1, k)
        self.assertIn(b"E_NOT_FOUND", k.stderr)


if __name__ == "__main__":
    unittest.main()
