"""Conformance with protocol/PROTOCOL.md where a client written from the
spec alone found the runner differing (issue 15).

Timeouts here are hang guards only; speed is measured by `make bench`.
"""
import os
import random
import select
import struct
import time
import unittest

from harness import RunnerTest
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


if __name__ == "__main__":
    unittest.main()
