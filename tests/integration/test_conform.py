"""Conformance with protocol/PROTOCOL.md where a client written from the
spec alone found the runner differing (issue 15).

Timeouts here are hang guards only; speed is measured by `make bench`.
"""
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


if __name__ == "__main__":
    unittest.main()
