"""Conformance with protocol/PROTOCOL.md where a client written from the
spec alone found the runner differing (issue 15).

Timeouts here are hang guards only; speed is measured by `make bench`.
"""
import os
import random
import re
import select
import struct
import time
import unittest

from harness import ROOT, RunnerTest
import rproto as rp

HANG = 60


class TestRepeatedFields(RunnerTest):
    """§4: a single-valued field sent twice: the first one counts."""

    def call(self, type_, fields):
        return self.c.call(type_, fields, timeout=HANG)

    def test_exec_command(self):
        res = self.call(rp.EXEC, [("COMMAND", "echo first"),
                                  ("COMMAND", "echo second")])
        self.assertTrue(res.ok, res)
        self.assertEqual(res.fields.bytes("OUTPUT"), b"first\n")

    def test_exec_session(self):
        res = self.call(rp.EXEC, [("SESSION", "nosuch"), ("SESSION", "main"),
                                  ("COMMAND", "true")])
        self.assertEqual(res.code_name, "E_NOT_FOUND", res)

    def test_exec_format(self):
        cmd = r"printf '\033[1mX\033[0m\n'"
        res = self.call(rp.EXEC, [("COMMAND", cmd), ("FORMAT", 0),
                                  ("FORMAT", 1)])
        self.assertTrue(res.ok, res)
        self.assertIn(b"\x1b[1mX", res.fields.bytes("OUTPUT"))

    def test_exec_timeout(self):
        res = self.call(rp.EXEC, [("COMMAND", "sleep 30"),
                                  ("TIMEOUT_MS", 300), ("TIMEOUT_MS", 0)])
        self.assertTrue(res.ok, res)
        self.assertEqual(res.fields.int("TIMED_OUT"), 1, res)

    def test_shell_open_session(self):
        res = self.call(rp.SHELL_OPEN, [("SESSION", "rep1"),
                                        ("SESSION", "rep2")])
        self.assertTrue(res.ok, res)
        self.assertEqual(res.fields.str("SESSION"), "rep1")
        names = [e.str("SESSION") for e in
                 self.call(rp.SHELL_LIST, []).fields.records()]
        self.assertIn("rep1", names)
        self.assertNotIn("rep2", names)
        self.assertTrue(self.call(rp.SHELL_CLOSE, [("SESSION", "rep1")]).ok)

    def test_spawn_cwd(self):
        res = self.call(rp.SPAWN, [("ARGV", "/bin/sh"), ("ARGV", "-c"),
                                   ("ARGV", "pwd"), ("CWD", "/tmp"),
                                   ("CWD", "/")])
        self.assertTrue(res.ok, res)
        self.assertEqual(res.out(1), b"/tmp\n")

    def test_spawn_pty(self):
        res = self.call(rp.SPAWN, [("ARGV", "/bin/sh"), ("ARGV", "-c"),
                                   ("ARGV", "[ -t 1 ] && echo tty || echo no"),
                                   ("PTY", 0), ("PTY", 1)])
        self.assertTrue(res.ok, res)
        self.assertEqual(res.out(1), b"no\n")

    def test_ping_data(self):
        res = self.call(rp.PING, [("DATA", b"one"), ("DATA", b"two")])
        self.assertTrue(res.ok, res)
        self.assertEqual(res.fields.bytes("DATA"), b"one")

    def test_hello(self):
        c = rp.Client.unix(self.r.sock, hello=False)
        c.send(rp.HELLO, [("VERSION", 1), ("VERSION", 0),
                          ("MAX_FRAME", 65536), ("MAX_FRAME", 5),
                          ("WINDOW", 4096), ("WINDOW", 1)], stream=0)
        f = c.recv(HANG)
        self.assertEqual(f.type, rp.HELLO, f.fields())
        self.assertTrue(c.call(rp.PING).ok)
        c.close()

    def test_bad_first_field_fails(self):
        """The first counts even when it is the malformed one."""
        res = self.call(rp.EXEC, [("COMMAND", "true"), ("MODE", 7),
                                  ("MODE", 0)])
        self.assertEqual(res.code_name, "E_BAD_REQUEST", res)
        self.assertAlive()


class TestWinsize(RunnerTest):
    """One ROWS/COLS rule for SHELL_OPEN, SHELL_RESIZE and SPAWN."""

    def test_zero_refused_everywhere(self):
        for type_, fields in (
                (rp.SHELL_OPEN, [("SESSION", "ws"), ("ROWS", 0)]),
                (rp.SHELL_RESIZE, [("ROWS", 0), ("COLS", 80)]),
                (rp.SHELL_RESIZE, [("ROWS", 24)]),
                (rp.SPAWN, [("ARGV", "true"), ("PTY", 1), ("COLS", 0)]),
                (rp.SPAWN, [("ARGV", "true"), ("PTY", 1)])):
            payload = rp.encode_fields(fields)
            if type_ == rp.SPAWN and len(fields) == 2:
                payload += rp.field("ROWS", 65536, "u32")
            res = self.c.call(type_, payload=payload, timeout=HANG)
            self.assertEqual(res.code_name, "E_BAD_REQUEST", (type_, res))
        self.assertAlive()

    def test_spawn_pty_size(self):
        res = self.c.call(rp.SPAWN, [("ARGV", "stty"), ("ARGV", "size"),
                                     ("PTY", 1), ("ROWS", 33),
                                     ("COLS", 101)], timeout=HANG)
        self.assertTrue(res.ok, res)
        self.assertEqual(res.out(1).strip(), b"33 101")


class TestReadLiveness(RunnerTest):
    """Issue 15 bug 1: a READ of several MiB sent its first ~1 MiB, then
    held the rest until an unrelated event woke the runner (the 10 s
    --io-timeout tick, another connection).  Many READs, a client that
    reads at varying speeds, nothing else on the runner.  --io-timeout is
    raised so a lost wakeup shows as no progress at all, and the bound is
    about liveness (no progress for STALL_S), not speed.

    RUNNER_STRESS_READS sets the count: 300 in make test, 1000 in
    make stress."""
    runner_args = ("--io-timeout", "600000")
    SIZE = 8 << 20
    STALL_S = 30

    def read_once(self, sock, sid, rng):
        c = self.c
        c.send(rp.READ, [("PATH", self.path)], stream=sid)
        mode = rng.randrange(3)  # 0 fast, 1 small reads, 2 small + pauses
        buf, got = bytearray(), 0
        while True:
            r, _, _ = select.select([sock], [], [], self.STALL_S)
            self.assertTrue(r, "READ %d stalled after %d of %d bytes: no "
                            "frame for %d s" % (sid, got, self.SIZE,
                                                self.STALL_S))
            chunk = sock.recv(1 << 20 if mode == 0 else rng.choice(
                (4096, 65536, 200000)))
            if not chunk:
                raise rp.ProtocolClosed("runner closed the connection")
            buf += chunk
            while len(buf) >= 10:
                length, stream, type_, _ = rp.HDR.unpack_from(buf)
                if len(buf) < 4 + length:
                    break
                self.assertEqual(stream, sid)
                if type_ == rp.DATA:
                    n = length - 6 - 9
                    got += n
                elif type_ == rp.RESULT:
                    del buf[:4 + length]
                    self.assertFalse(buf)
                    return got
                else:
                    self.fail("READ %d: frame type %d: %r" %
                              (sid, type_, bytes(buf[10:4 + length])))
                del buf[:4 + length]
            if mode == 2 and rng.random() < 0.3:
                time.sleep(rng.random() * 0.003)

    def test_many_big_reads(self):
        count = int(os.environ.get("RUNNER_STRESS_READS", "300"))
        self.path = os.path.join(self.r.tmp, "big")
        with open(self.path, "wb") as f:
            f.write(os.urandom(self.SIZE))
        # The whole file's credit up front: no WINDOW frames, so nothing
        # from the client wakes the runner while a READ is under way.
        self.c = rp.Client.unix(self.r.sock, hello=False)
        self.c.window = self.SIZE
        self.c.hello()
        self.c.sock.settimeout(None)
        rng = random.Random(15)
        sid = 1000
        for i in range(count):
            sid += 1
            self.assertEqual(self.read_once(self.c.sock, sid, rng), self.SIZE)
        self.assertAlive()


class TestCreditWhileFull(RunnerTest):
    """A client that returns credit (or cancels) before reading must not
    deadlock with a runner whose output buffer is full: WINDOW and CANCEL
    are taken while requests wait (PROTOCOL §6).  Found by TestBulk: a
    client blocked writing WINDOW frames, the runner waiting for it to
    read."""

    def test_windows_and_cancel_while_output_full(self):
        c = rp.Client.unix(self.r.sock, hello=False)
        c.auto_window = False
        c.window = 64 << 20
        c.hello()
        sid = c.send(rp.SPAWN, [("ARGV", "yes")])
        time.sleep(1)  # the runner fills its buffer; we read nothing
        # Many small frames: far more than the socket buffer holds, so
        # sendall blocks (then times out) unless the runner reads them.
        c.sock.settimeout(HANG)
        c.write_raw(b"".join(rp.HDR.pack(10, sid, rp.WINDOW, 0) +
                             struct.pack(">I", 1) for _ in range(50000)))
        c.cancel(sid)
        res = c.wait(sid, HANG)
        self.assertEqual(res.code_name, "E_CANCELLED", res)
        c.close()
        self.assertAlive()
class TestSpecGaps(RunnerTest):
    """Issue 15's spec gaps where the runner's answer is observable."""

    def client(self, max_frame=8 << 20):
        c = rp.Client.unix(self.r.sock, hello=False)
        c.send(rp.HELLO, [("VERSION", 1), ("MAX_FRAME", max_frame),
                          ("WINDOW", c.window)], stream=0)
        f = c.recv(HANG)
        self.assertEqual(f.type, rp.HELLO, f)
        c.peer_window = f.fields().int("WINDOW")
        c.max_frame = f.fields().int("MAX_FRAME")
        return c

    def test_stream_in_use_names_the_stream(self):
        sid = self.c.send(rp.SPAWN, [("ARGV", "sleep"), ("ARGV", "30")])
        self.c.send(rp.PING, stream=sid)
        f = self.c.recv(HANG)
        while f.stream != 0:
            f = self.c.recv(HANG)
        self.assertEqual(f.type, rp.ERROR)
        self.assertEqual(f.fields().int("CODE"), rp.E_STREAM_IN_USE)
        self.assertEqual(f.fields().int("STREAM"), sid)
        self.c.cancel(sid)
        self.assertEqual(self.c.wait(sid, HANG).code_name, "E_CANCELLED")

    def test_flow_violation_stops_an_exec(self):
        """E_FLOW ends the stream and stops the command as CANCEL does:
        the session is free again (it stayed busy forever with cat)."""
        c = self.client()
        sid = c.send(rp.EXEC, [("COMMAND", "cat"), ("MODE", 1),
                               ("STDIN", 1)])
        time.sleep(0.5)
        c.send_data(sid, b"x" * (c.peer_window + 1))
        self.assertEqual(c.wait(sid, HANG).code_name, "E_FLOW")
        deadline = time.time() + HANG
        while True:
            res = c.call(rp.EXEC, [("COMMAND", "echo free")], timeout=HANG)
            if res.ok or res.code_name != "E_BUSY" or time.time() > deadline:
                break
            time.sleep(0.1)
        self.assertTrue(res.ok, res)
        self.assertEqual(res.fields.bytes("OUTPUT"), b"free\n")
        c.close()

    def test_mkdir_mode_is_exact(self):
        d = os.path.join(self.r.tmp, "m1", "m2")
        res = self.c.call(rp.MKDIR, [("PATH", d), ("PARENTS", 1),
                                     ("FILE_MODE", 0o777)])
        self.assertTrue(res.ok, res)
        old = os.umask(0)
        os.umask(old)
        self.assertNotEqual(old & 0o022, 0, "the test needs a umask")
        self.assertEqual(os.stat(d).st_mode & 0o7777, 0o777)
        self.assertEqual(os.stat(os.path.dirname(d)).st_mode & 0o7777, 0o777)

    def test_stats_count_is_u64(self):
        res = self.c.call(rp.STATS)
        self.assertTrue(res.ok, res)
        raw = [v for t, v in rp.decode_fields(res.terminal.payload)
               if t == rp.TAGS["COUNT"][0]]
        self.assertEqual([len(v) for v in raw], [8])

    def test_ping_data_limit(self):
        self.assertTrue(self.c.call(rp.PING, [("DATA", b"x" * 65536)]).ok)
        res = self.c.call(rp.PING, [("DATA", b"x" * 65537)])
        self.assertEqual(res.code_name, "E_BAD_REQUEST", res)

    def test_hello_refusal_closes(self):
        c = rp.Client.unix(self.r.sock, hello=False)
        c.send(rp.HELLO, [("VERSION", 1), ("MAX_FRAME", 1000)], stream=0)
        f = c.recv(HANG)
        self.assertEqual((f.type, f.fields().int("CODE")),
                         (rp.ERROR, rp.E_BAD_REQUEST))
        self.assertRaises(rp.ProtocolClosed, c.recv, HANG)

    def test_output_limit_formula(self):
        """Wait mode keeps min(OUTPUT_LIMIT, client MAX_FRAME - 4672)
        bytes, plus the omission line."""
        c = self.client(max_frame=65536)
        res = c.call(rp.EXEC, [("COMMAND", "head -c 200000 /dev/zero | "
                                "tr '\\0' x"), ("FORMAT", 0)], timeout=HANG)
        self.assertTrue(res.ok, res)
        out = res.fields.bytes("OUTPUT")
        self.assertEqual(out.count(b"x"), 65536 - 4672)
        self.assertEqual(res.fields.int("TRUNCATED"), 1)
        c.close()

    def test_spawn_pty_modes(self):
        """PTY_MODE 0: a terminal's defaults (echo, \\n as \\r\\n); 1: the
        sessions' modes, bytes exact."""
        for mode, want in ((0, b"abc\r\nabc\r\n"), (1, b"abc\n")):
            sid = self.c.send(rp.SPAWN, [("ARGV", "cat"), ("PTY", 1),
                                         ("STDIN", 1), ("PTY_MODE", mode)])
            self.c.send_data(sid, b"abc\n", fin=True)
            res = self.c.wait(sid, HANG)
            self.assertTrue(res.ok, res)
            self.assertEqual(res.out(1), want, mode)

    def test_attach_past_end_of_exited(self):
        sid = self.c.send(rp.SPAWN, [("ARGV", "echo"), ("ARGV", "hi"),
                                     ("BACKGROUND", 1), ("FOLLOW", 0)])
        res = self.c.wait(sid, HANG)
        pid = res.fields.int("PID")
        self.c.call(rp.PROC_WAIT, [("PID", pid)], timeout=HANG)
        res = self.c.call(rp.PROC_ATTACH, [("PID", pid),
                                           ("FROM_OFFSET", 1000)],
                          timeout=HANG)
        self.assertTrue(res.ok, res)
        self.assertEqual(res.out(1), b"")
        self.assertEqual(res.fields.int("STATE"), 1)


class TestSpecTables(unittest.TestCase):
    """PROTOCOL.md's tag and error tables against protocol/wire.h (issue
    15 gap 1): a tag added to one and not the other fails here."""
    TYPE = re.compile(r"^(u8|u16|u32|u64|i32|i64|str|bytes|record)( bool)?"
                      r"(, repeated)?[,:]?\s*(.*)$")

    @classmethod
    def setUpClass(cls):
        with open(os.path.join(ROOT, "protocol", "wire.h")) as f:
            cls.wire = f.read()
        with open(os.path.join(ROOT, "protocol", "PROTOCOL.md")) as f:
            cls.spec = f.read()

    def enum(self, name):
        body = self.wire[self.wire.index("enum %s {" % name):]
        return body[:body.index("};")]

    def section(self, title):
        start = self.spec.index("\n## " + title)
        end = self.spec.index("\n## ", start + 1)
        return self.spec[start:end]

    def test_tags(self):
        wire = set()
        for m in re.finditer(r"T_(\w+)\s*=\s*(0x[0-9a-fA-F]+),?\s*"
                             r"(?:/\*(.*?)\*/)?", self.enum("wire_tag"), re.S):
            com = " ".join((m.group(3) or "").split())
            if com.startswith("not used"):
                continue
            t = self.TYPE.match(com)
            self.assertTrue(t, "wire.h: T_%s: comment must start with its "
                            "type: %r" % (m.group(1), com))
            typ = t.group(1) + (t.group(2) or "") + (t.group(3) or "")
            wire.add((int(m.group(2), 16), m.group(1), typ))
        spec = {(int(n, 16), name, typ.strip()) for n, name, typ in
                re.findall(r"^\| (0x[0-9a-f]{4}) \| (\w+) \| ([^|]+) \|",
                           self.section("12. Field tags"), re.M)}
        self.assertEqual(sorted(wire - spec), [],
                         "in wire.h, missing from PROTOCOL.md §12")
        self.assertEqual(sorted(spec - wire), [],
                         "in PROTOCOL.md §12, missing from wire.h")
        for name, (num, _) in rp.TAGS.items():
            self.assertIn(num, {n for n, _, _ in wire}, name)

    def test_error_codes(self):
        wire = {(int(n), name) for name, n in re.findall(
            r"(E_\w+) = (\d+)", self.enum("wire_err")) if name != "E_OK"}
        spec = set((int(n), name) for n, name in re.findall(
            r"^\| (\d+) \| (E_\w+) \|", self.section("8. Errors"), re.M))
        self.assertEqual(wire, spec)
        self.assertEqual(rp.ERRORS[1:], [n for _, n in sorted(wire)])


if __name__ == "__main__":
    unittest.main()
