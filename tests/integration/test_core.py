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

    def test_stats(self):
        f = self.c.call(rp.STATS).fields
        self.assertGreater(f.int("RSS"), 0)
        self.assertGreaterEqual(f.int("CONNS"), 1)
        self.assertGreaterEqual(f.int("STREAMS"), 1)   # this STATS itself
        self.assertGreater(f.int("FDS"), 3)
        self.assertEqual(f.int("SESSIONS"), 1)         # the default "main"
        self.assertEqual(f.int("PROCS"), 0)

    def test_hello_reply(self):
        h = self.c.server_hello
        self.assertEqual(h.int("VERSION"), 1)
        self.assertGreaterEqual(h.int("MAX_FRAME"), 65536)
        self.assertIn(b"shell", h.all("FEATURE"))


def raw_conn(r):
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(10)
    s.connect(r.sock)
    return rp.Client(sock=s)


def expect_closed(c, timeout=10):
    """Read until the runner closes; return the frames seen."""
    frames = []
    try:
        while True:
            frames.append(c.recv(timeout))
    except rp.ProtocolClosed:
        return frames


def conn_error_codes(frames):
    return [f.fields().int("CODE") for f in frames if f.type == rp.ERROR and f.stream == 0]


class TestBadInput(RunnerTest):
    runner_args = ("--io-timeout", "500", "--max-conns", "40", "--max-streams", "8")

    def test_request_before_hello(self):
        c = raw_conn(self.r)
        c.send(rp.PING, stream=1)
        self.assertEqual(conn_error_codes(expect_closed(c)), [rp.E_HELLO_REQUIRED])
        self.assertAlive()

    def test_version_zero(self):
        c = raw_conn(self.r)
        c.send(rp.HELLO, [("VERSION", 0)], stream=0)
        self.assertEqual(conn_error_codes(expect_closed(c)), [rp.E_VERSION])
        self.assertAlive()

    def test_hello_small_max_frame(self):
        c = raw_conn(self.r)
        c.send(rp.HELLO, [("VERSION", 1), ("MAX_FRAME", 100)], stream=0)
        self.assertEqual(conn_error_codes(expect_closed(c)), [rp.E_BAD_REQUEST])

    def test_hello_malformed_fields(self):
        c = raw_conn(self.r)
        c.send(rp.HELLO, payload=b"\x00\x01\x00\x00\x00\x09\x00", stream=0)
        self.assertEqual(conn_error_codes(expect_closed(c)), [rp.E_BAD_FRAME])

    def test_oversize_length(self):
        c = self.r.client()
        c.write_raw(struct.pack(">IIBB", 0x7FFFFFF0, 1, rp.PING, 0))
        self.assertEqual(conn_error_codes(expect_closed(c)), [rp.E_TOO_LARGE])
        self.assertAlive()

    def test_length_below_six(self):
        c = self.r.client()
        c.write_raw(struct.pack(">IIBB", 3, 1, rp.PING, 0))
        self.assertEqual(conn_error_codes(expect_closed(c)), [rp.E_BAD_FRAME])
        self.assertAlive()

    def test_unknown_type_keeps_connection(self):
        c = self.r.client()
        res = c.call(0x7e)
        self.assertEqual(res.code, rp.E_UNKNOWN_TYPE)
        self.assertTrue(c.call(rp.PING).ok)

    def test_client_types_as_requests(self):
        c = self.r.client()
        for t in (rp.RESULT, rp.ERROR, rp.EVENT):
            self.assertEqual(c.call(t).code, rp.E_UNKNOWN_TYPE)
        self.assertTrue(c.call(rp.PING).ok)

    def test_truncated_tlv_fails_request_only(self):
        c = self.r.client()
        res = c.call(rp.PING, payload=b"\x01\x14\x00\x00\x00\x10abc")
        self.assertEqual(res.code, rp.E_BAD_REQUEST)
        self.assertTrue(c.call(rp.PING).ok)

    def test_request_on_stream_zero(self):
        c = self.r.client()
        c.send(rp.PING, stream=0)
        f = c.recv()
        self.assertEqual((f.stream, f.type, f.fields().int("CODE")), (0, rp.ERROR, rp.E_BAD_REQUEST))
        self.assertTrue(c.call(rp.PING).ok)

    def test_second_hello(self):
        c = self.r.client()
        c.send(rp.HELLO, [("VERSION", 1)], stream=0)
        f = c.recv()
        self.assertEqual(f.fields().int("CODE"), rp.E_BAD_REQUEST)
        self.assertTrue(c.call(rp.PING).ok)

    def test_bad_window_frame_closes(self):
        c = self.r.client()
        c.write_raw(struct.pack(">IIBB", 6 + 3, 1, rp.WINDOW, 0) + b"abc")
        self.assertEqual(conn_error_codes(expect_closed(c)), [rp.E_BAD_FRAME])
        self.assertAlive()

    def test_short_data_prefix_closes(self):
        c = self.r.client()
        c.write_raw(struct.pack(">IIBB", 6 + 4, 1, rp.DATA, 0) + b"abcd")
        self.assertEqual(conn_error_codes(expect_closed(c)), [rp.E_BAD_FRAME])

    def test_stray_data_window_cancel_ignored(self):
        c = self.r.client()
        c.send_data(99, b"late bytes")
        c.grant(99, 100)
        c.cancel(99)
        self.assertTrue(c.call(rp.PING).ok)
        self.assertEqual(c.conn_errors, [])

    def test_disconnect_mid_frame(self):
        for cut in (1, 5, 9, 12):
            c = self.r.client()
            frame = struct.pack(">IIBB", 6 + 8, 1, rp.PING, 0) + b"\x01\x14\x00\x00\x00\x02hi"
            c.write_raw(frame[:cut])
            c.close()
        self.assertAlive()

    def test_slowloris_half_header(self):
        c = self.r.client()
        c.write_raw(b"\x00\x00\x00")
        other = self.r.client()
        t0 = time.time()
        self.assertTrue(other.call(rp.PING).ok)   # served meanwhile
        frames = expect_closed(c, timeout=10)
        self.assertEqual(conn_error_codes(frames), [rp.E_TIMEOUT])
        self.assertLess(time.time() - t0, 9)

    def test_no_hello_times_out(self):
        c = raw_conn(self.r)
        self.assertEqual(conn_error_codes(expect_closed(c)), [rp.E_TIMEOUT])

    def test_random_garbage(self):
        rnd = os.urandom(100 * 1024)
        c = self.r.client()
        try:
            c.write_raw(rnd)
        except (BrokenPipeError, ConnectionResetError):
            pass
        expect_closed(c)
        self.assertAlive()

    def test_many_invalid_requests(self):
        c = self.r.client()
        c.auto_window = False
        n = 10000
        batch = b"".join(struct.pack(">IIBB", 6, i + 1, 0x7d, 0) for i in range(n))
        c.write_raw(batch)
        seen = 0
        while seen < n:
            f = c.recv()
            self.assertEqual(f.type, rp.ERROR)
            self.assertEqual(f.fields().int("CODE"), rp.E_UNKNOWN_TYPE)
            seen += 1
        self.assertTrue(c.call(rp.PING).ok)

    def test_connection_limit(self):
        conns = []
        try:
            while True:
                s = socket.socket(socket.AF_UNIX)
                s.settimeout(5)
                s.connect(self.r.sock)
                cl = rp.Client(sock=s)
                conns.append(cl)
                try:
                    cl.send(rp.HELLO, [("VERSION", 1)], stream=0)
                except (BrokenPipeError, ConnectionResetError):
                    pass   # refused at accept: the ERROR is already queued
                f = cl.recv()
                if f.type == rp.ERROR:
                    self.assertEqual(f.fields().int("CODE"), rp.E_LIMIT)
                    break
                self.assertLess(len(conns), 60, "limit never enforced")
        finally:
            for cl in conns:
                cl.close()
        time.sleep(0.2)
        self.assertAlive()

    def test_fd_count_returns_to_baseline(self):
        self.r.client().call(rp.PING)   # answered: startup (the shell) is done
        base = self.r.fd_count()
        for _ in range(1000):
            c = self.r.client()
            c.close()
        c = self.r.client()
        self.assertTrue(c.call(rp.PING).ok)
        c.close()
        deadline = time.time() + 5
        while self.r.fd_count() > base and time.time() < deadline:
            time.sleep(0.05)
        self.assertLessEqual(self.r.fd_count(), base)

    def test_client_that_never_reads(self):
        # 2M PINGs (20 MB; each answered with 24 bytes) and no read at all:
        # the runner stops parsing once its output queue is full and stops
        # reading once its one-frame input buffer is, so its memory stays
        # bounded and everyone else is served meanwhile.
        base = self.r.rss()
        c = self.r.client()
        c.sock.settimeout(2)
        sent = 0
        batch = b"".join(rp.HDR.pack(6, i + 1, rp.PING, 0) for i in range(1000))
        try:
            for _ in range(2000):
                c.write_raw(batch)
                sent += 1000
        except (TimeoutError, OSError):
            pass    # our send buffer filled: the runner stopped reading us
        self.assertLess(sent, 2000000, "the runner kept reading a client that never reads")
        for _ in range(20):
            self.assertTrue(self.r.client().call(rp.PING, timeout=5).ok)
        if not os.environ.get("RUNNER_BIN"):
            # the static runner: one input frame (4 MiB) plus the output
            # queue, nothing more (sanitizer builds add shadow memory)
            self.assertLess(self.r.rss() - base, 16 << 20)
        c.close()

    def test_interleaved_streams_and_connections(self):
        clients = [self.r.client() for _ in range(20)]
        ids = []
        for cl in clients:
            ids.append([cl.send(rp.PING, [("DATA", b"x%d" % i)]) for i in range(5)])
        for cl, sids in zip(clients, ids):
            for i, sid in enumerate(sids):
                res = cl.wait(sid)
                self.assertEqual(res.fields.bytes("DATA"), b"x%d" % i)
            cl.close()


class TestToken(unittest.TestCase):
    def test_token(self):
        with Runner(env={"RUNNER_TOKEN": "s3cret-s3cret-s3cret"}) as r:
            with self.assertRaises(rp.ProtocolClosed):
                r.client(token=b"wrong")
            with self.assertRaises(rp.ProtocolClosed):
                r.client()
            c = r.client(token=b"s3cret-s3cret-s3cret")
            self.assertTrue(c.call(rp.PING).ok)
            # Wiped from the runner's own environment block too (valgrind
            # keeps a copy of its own: nothing to learn under it).
            if not os.environ.get("RUNNER_VALGRIND"):
                with open("/proc/%d/environ" % r.pid(), "rb") as f:
                    self.assertNotIn(b"s3cret", f.read())
            c.close()

    def test_token_file(self):
        with Runner() as r0:
            path = os.path.join(r0.tmp, "tok")
            with open(path, "w") as f:
                f.write("filetoken-filetoken\n")
            with Runner(args=("--token-file", path)) as r:
                with self.assertRaises(rp.ProtocolClosed):
                    r.client(token=b"nope")
                self.assertTrue(r.client(token=b"filetoken-filetoken").call(rp.PING).ok)
                p = subprocess.run([RUNNERCTL, "--connect", "unix:" + r.sock,
                                    "--token-file", path, "ping"], capture_output=True)
                self.assertEqual(p.returncode, 0, p.stderr)
                p = r.ctl("ping")   # no token: one line naming the error code
                self.assertEqual(p.returncode, 1)
                self.assertIn(b"E_AUTH", p.stderr)


class TestTransports(unittest.TestCase):
    def test_socket_mode(self):
        with Runner() as r:
            mode = os.stat(r.sock).st_mode & 0o777
            self.assertEqual(mode, 0o600)

    def test_allow_uid(self):
        with Runner(args=("--allow-uid", "4242")) as r:
            s = socket.socket(socket.AF_UNIX)
            s.connect(r.sock)
            c = rp.Client(sock=s)
            self.assertEqual(conn_error_codes(expect_closed(c)), [rp.E_AUTH])
            c.close()
        with Runner(args=("--allow-uid", "0")) as r:
            self.assertTrue(r.client().call(rp.PING).ok)

    def test_stdio(self):
        with Runner(stdio=True) as r:
            c = r.client()
            self.assertTrue(c.call(rp.PING).ok)
            self.assertEqual(c.call(rp.INFO).fields.int("PID"), 1)
            # EOF on stdin with only the stdio door: the runner exits 0.
            r.proc.stdin.close()
            self.assertEqual(r.proc.wait(15), 0)

    def test_stdio_pipelined_then_eof(self):
        hello = rp.HDR.pack(6 + 8, 0, rp.HELLO, 0) + rp.field("VERSION", 1)
        pings = b"".join(rp.HDR.pack(6, i, rp.PING, 0) for i in range(1, 51))
        p = subprocess.run(["unshare", "--fork", "--pid", "--mount-proc", RUNNER,
                            "--user", "root", "--listen", "stdio"], input=hello + pings,
                           capture_output=True, timeout=30)
        self.assertEqual(p.returncode, 0, p.stderr)
        c = rp.Client(rfile=None, wfile=None)
        c.buf = bytearray(p.stdout)
        frames = []
        while c.buf:
            frames.append(c.recv())
        self.assertEqual(frames[0].type, rp.HELLO)
        self.assertEqual(sorted(f.stream for f in frames[1:] if f.type == rp.RESULT),
                         list(range(1, 51)))

    def test_attach_relay(self):
        with Runner() as r:
            c = rp.Client.command([RUNNER, "attach", "--socket", r.sock])
            for i in range(20):
                res = c.call(rp.PING, [("DATA", os.urandom(1000))])
                self.assertTrue(res.ok)
            big = os.urandom(60000)
            self.assertEqual(c.call(rp.PING, [("DATA", big)]).fields.bytes("DATA"), big)
            c.close()   # EOF on the relay's stdin: it exits cleanly
            self.assertEqual(c.proc.returncode if c.proc else 0, 0)

    def test_attach_relay_exit_status(self):
        with Runner() as r:
            p = subprocess.Popen([RUNNER, "attach", "--socket", r.sock],
                                 stdin=subprocess.PIPE, stdout=subprocess.PIPE)
            p.stdin.close()
            self.assertEqual(p.wait(10), 0)
            p.stdout.close()
        p = subprocess.run([RUNNER, "attach", "--socket", "/nonexistent/sock"],
                           capture_output=True, timeout=10)
        self.assertEqual(p.returncode, 1)
        self.assertIn(b"cannot connect", p.stderr)

    def test_runner_side_close_ends_relay(self):
        r = Runner()
        try:
            p = subprocess.Popen([RUNNER, "attach", "--socket", r.sock],
                                 stdin=subprocess.PIPE, stdout=subprocess.PIPE)
            time.sleep(0.2)
            r.stop()
            self.assertEqual(p.wait(10), 0)   # stdin still open: relay ends anyway
            p.stdin.close()
            p.stdout.close()
        finally:
            r.__exit__(None, None, None)

    def test_attach_peer_vanishes(self):
        with Runner() as r:
            r.client().call(rp.PING)   # answered: startup (the shell) is done
            base = r.fd_count()
            c = rp.Client.command([RUNNER, "attach", "--socket", r.sock])
            self.assertTrue(c.call(rp.PING).ok)
            c.proc.kill()           # the relay dies mid-connection
            c.proc.wait(5)
            c.proc.stdin.close()
            c.proc.stdout.close()
            deadline = time.time() + 20
            while r.fd_count() > base and time.time() < deadline:
                time.sleep(0.05)
            self.assertLessEqual(r.fd_count(), base,
                                 os.listdir("/proc/%d/fd" % r.pid()))
            self.assertTrue(r.client().call(rp.PING).ok)

    def test_attach_client_stops_reading(self):
        with Runner() as r:
            p = subprocess.Popen([RUNNER, "attach", "--socket", r.sock],
                                 stdin=subprocess.PIPE, stdout=subprocess.PIPE)
            hello = rp.HDR.pack(6 + 8, 0, rp.HELLO, 0) + rp.field("VERSION", 1)
            p.stdin.write(hello)
            p.stdin.flush()
            p.stdout.close()        # our read end is gone: the relay gets EPIPE
            try:
                p.stdin.write(rp.HDR.pack(6, 1, rp.PING, 0))
                p.stdin.flush()
            except BrokenPipeError:
                pass  # it already met EPIPE relaying the runner's HELLO
            self.assertEqual(p.wait(10), 0)
            try:
                p.stdin.close()
            except BrokenPipeError:
                pass
            self.assertTrue(r.client().call(rp.PING).ok)

    def test_runnerctl_ping_info(self):
        with Runner() as r:
            p = r.ctl("ping")
            self.assertEqual(p.returncode, 0, p.stderr)
            self.assertIn(b"pong from runner", p.stdout)
            p = r.ctl("info")
            self.assertIn(b"pid: 1\n", p.stdout)
            p = subprocess.run([RUNNERCTL, "--connect", "cmd:%s attach --socket %s" % (RUNNER, r.sock),
                                "ping"], capture_output=True, timeout=10)
            self.assertEqual(p.returncode, 0, p.stderr)
        p = subprocess.run([RUNNERCTL, "--connect", "unix:/nonexistent.sock", "ping"],
                           capture_output=True, timeout=10)
        self.assertEqual(p.returncode, 1)
        self.assertEqual(len(p.stderr.splitlines()), 1)
        self.assertIn(b"cannot connect", p.stderr)

    def test_vsock_requires_a_token(self):
        p = subprocess.run([RUNNER, "--user", "root", "--listen", "vsock:4242"], capture_output=True,
                           timeout=10, env={k: v for k, v in os.environ.items()
                                            if k != "RUNNER_TOKEN"})
        self.assertNotEqual(p.returncode, 0)
        self.assertIn(b"needs a token", p.stderr)

    def test_socket_group(self):
        with Runner(args=("--socket-group", "5")) as r:
            st = os.stat(r.sock)
            self.assertEqual((st.st_mode & 0o777, st.st_gid), (0o660, 5))

    def test_version_and_help(self):
        p = subprocess.run([RUNNER, "--version"], capture_output=True)
        self.assertEqual(p.returncode, 0)
        self.assertIn(b"runner 0.1.0", p.stdout)
        p = subprocess.run([RUNNER, "--help"], capture_output=True)
        self.assertIn(b"--listen", p.stdout)
        p = subprocess.run([RUNNER, "--listen", "tcp:1"], capture_output=True)
        self.assertEqual(p.returncode, 2)



class TestFdExhaustion(unittest.TestCase):
    def test_emfile_pauses_accept_and_recovers(self):
        # 24 fds: the runner needs ~8 for itself; the rest run out fast.
        with Runner(wrap=["prlimit", "--nofile=24:24"]) as r:
            held = []
            try:
                for _ in range(30):
                    s = socket.socket(socket.AF_UNIX)
                    s.settimeout(5)
                    s.connect(r.sock)       # queued in the backlog when over
                    held.append(s)
                time.sleep(0.3)
                self.assertTrue(r.alive(), r.logtext())
                self.assertIn("pausing", r.logtext())
            finally:
                for s in held:
                    s.close()
            deadline = time.time() + 10
            while True:   # queued-then-closed connections drain away
                try:
                    c = r.client()
                    self.assertTrue(c.call(rp.PING).ok)
                    c.close()
                    break
                except (rp.ProtocolClosed, OSError, TimeoutError):
                    self.assertLess(time.time(), deadline, r.logtext())
                    time.sleep(0.1)


if __name__ == "__main__":
    unittest.main()
