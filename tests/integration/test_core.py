"""Core protocol: HELLO, PING, INFO, STATS, transports, bad frames."""
import os
import socket
import struct
import subprocess
import time
import unittest

from harness import Runner, RunnerTest, RUNNER, RUNNERCTL
import rproto as rp


class TestBasics(RunnerTest):
    def test_ping(self):
        res = self.c.call(rp.PING)
        self.assertTrue(res.ok, res)
        self.assertGreater(res.fields.int("TIME_NS"), 0)

    def test_ping_echo(self):
        res = self.c.call(rp.PING, [("DATA", b"\x00\xffhello")])
        self.assertEqual(res.fields.bytes("DATA"), b"\x00\xffhello")

    def test_info_as_pid1(self):
        res = self.c.call(rp.INFO)
        self.assertTrue(res.ok, res)
        f = res.fields
        self.assertEqual(f.int("PID"), 1)
        self.assertEqual(f.int("IS_PID1"), 1)
        self.assertTrue(f.str("SOFTWARE").startswith("runner "))
        limits = dict(s.decode().split("=", 1) for s in f.all("LIMIT"))
        self.assertIn("max_frame", limits)

    def test_hello_reply(self):
        h = self.c.server_hello
        self.assertEqual(h.int("VERSION"), 1)
        self.assertGreaterEqual(h.int("MAX_FRAME"), 65536)
        self.assertIn(b"shell", h.all("FEATURE"))


if __name__ == "__main__":
    unittest.main()
