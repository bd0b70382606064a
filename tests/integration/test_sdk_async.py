"""runner_client.aio against the real runner: many concurrent awaits on
one connection, task cancellation sending CANCEL, files, processes and
typed errors through asyncio."""
import asyncio
import hashlib
import os
import sys
import time

from harness import ROOT, RunnerTest

sys.path.insert(0, os.path.join(ROOT, "tools", "python"))
import runner_client as rc  # noqa: E402
from runner_client import aio  # noqa: E402


class AioTest(RunnerTest):
    def run_async(self, fn, timeout=120):
        async def main():
            sb = await aio.Runner.connect("unix:" + self.r.sock)
            try:
                return await asyncio.wait_for(fn(sb), timeout)
            finally:
                await sb.close()
        return asyncio.run(main())

    def test_exec_state_and_typed_errors(self):
        async def go(sb):
            r = await sb.exec("cd /tmp && export A=1")
            self.assertEqual((r.exit_code, r.cwd), (0, "/tmp"))
            r = await sb.exec("echo $A; (exit 7)")
            self.assertEqual((r.exit_code, r.output), (7, "1\n"))
            with self.assertRaises(rc.NotFound) as cm:
                await sb.files.read("/nonexistent/file")
            self.assertEqual(cm.exception.errno, 2)
            with self.assertRaises(rc.NotFound):
                await sb.exec("true", session="no-such-session")
        self.run_async(go)

    def test_four_sessions_concurrently_on_one_connection(self):
        async def go(sb):
            names = ["main", "a1", "a2", "a3"]
            for n in names[1:]:
                await sb.open_session(n)
            # A barrier: each command waits until all four have started.
            # Serialised, the first would wait alone and time out.
            bar = "/tmp/aio-barrier"
            await sb.exec("rm -rf %s; mkdir -p %s" % (bar, bar))
            cmd = ("touch %s/%%s; for i in $(seq 300); do [ $(ls %s | wc -l) = 4 ] && break;"
                   " sleep 0.1; done; echo %%s $(ls %s | wc -l)" % (bar, bar, bar))
            rs = await asyncio.gather(*(sb.exec(cmd % (n, n), session=n, timeout=60)
                                        for n in names))
            self.assertEqual([r.output for r in rs], ["%s 4\n" % n for n in names])
            sess = {s.name for s in await sb.sessions()}
            self.assertTrue(set(names) <= sess)
            for n in names[1:]:
                await sb.session(n).close()
        self.run_async(go)

    def test_task_cancellation_sends_cancel(self):
        async def go(sb):
            task = asyncio.ensure_future(sb.exec("sleep 100"))
            await asyncio.sleep(0.3)
            task.cancel()
            with self.assertRaises(asyncio.CancelledError):
                await task
            t0 = time.monotonic()
            r = await sb.exec("echo free")  # the session was freed by CANCEL
            self.assertEqual(r.output, "free\n")
            self.assertLess(time.monotonic() - t0, 20)
            p = await sb.spawn(["sleep", "100"])
            waiter = asyncio.ensure_future(p.wait())
            await asyncio.sleep(0.2)
            waiter.cancel()
            with self.assertRaises(asyncio.CancelledError):
                await waiter
            end = time.monotonic() + 20
            while any(x.pid == p.pid and x.running for x in await sb.processes()):
                self.assertLess(time.monotonic(), end, "cancelled foreground process lives")
                await asyncio.sleep(0.05)
        self.run_async(go)

    def test_stream_files_and_processes(self):
        async def go(sb):
            st = await sb.exec_stream("for i in 1 2 3; do echo $i; done")
            self.assertEqual(b"".join([c async for c in st]), b"1\n2\n3\n")
            self.assertEqual(st.result.exit_code, 0)
            blob = hashlib.sha256(b"x").digest() * 200000  # 6.4 MB: past the window
            w = await sb.files.write("/tmp/aio.bin", blob)
            self.assertEqual(w.size, len(blob))
            self.assertEqual(await sb.files.read("/tmp/aio.bin"), blob)
            got = b"".join([c async for c in sb.files.read_stream("/tmp/aio.bin")])
            self.assertEqual(got, blob)
            self.assertTrue(await sb.files.exists("/tmp/aio.bin"))
            self.assertFalse(await sb.files.exists("/tmp/aio.none"))
            await sb.files.write("/tmp/aio.txt", "a\nb\na\n")
            with self.assertRaises(rc.NotUnique) as cm:
                await sb.files.edit("/tmp/aio.txt", "a", "c")
            self.assertEqual(cm.exception.count, 2)
            ms = await sb.files.grep("a", "/tmp/aio.txt").list()
            self.assertEqual([m.line for m in ms], [1, 3])
            names = [e.path async for e in sb.files.find("/tmp", "aio.*", depth=1)]
            self.assertEqual(sorted(names), ["/tmp/aio.bin", "/tmp/aio.txt"])
            p = await sb.spawn(["sh", "-c", "cat; echo e >&2"], stdin=True)
            await p.write("in")
            await p.close_stdin()
            res = await p.wait()
            self.assertEqual((res.exit_code, p.stdout, p.stderr), (0, b"in", b"e\n"))
            bg = await sb.spawn(["sh", "-c", "echo bg"], background=True)
            self.assertEqual((await bg.wait()).exit_code, 0)
            self.assertEqual(await bg.output(), (b"bg\n", b""))
            await sb.files.remove("/tmp/aio.bin")
            await sb.files.remove("/tmp/aio.txt")
        self.run_async(go)

    def test_aggregate_throughput_is_counted_not_asserted(self):
        # 4 tasks x EXEC on 4 sessions: correctness under interleaving
        # (speed is measured by make bench, never asserted here).
        async def go(sb):
            for n in ("t1", "t2", "t3"):
                await sb.open_session(n)

            async def worker(n):
                for k in range(30):
                    r = await sb.exec("echo %s-%d" % (n, k), session=n)
                    self.assertEqual(r.output, "%s-%d\n" % (n, k))
            await asyncio.gather(*(worker(n) for n in ("main", "t1", "t2", "t3")))
            for n in ("t1", "t2", "t3"):
                await sb.session(n).close()
        self.run_async(go)

    def test_wait_timeout_attach_and_keepalive(self):
        async def go(sb):
            p = await sb.spawn(["sh", "-c", "echo early; sleep 0.5; echo late"])
            with self.assertRaises(rc.Timeout):
                await p.wait(timeout=0.1)   # leaves it running
            res = await p.wait(timeout=30)
            self.assertEqual((res.exit_code, p.stdout), (0, b"early\nlate\n"))
            bg = await sb.spawn(["sh", "-c", "echo 0123456789; sleep 0.2; echo end"],
                                background=True)
            got = b"".join([d async for ch, d in sb.attach(bg.pid, since=3) if ch == 1])
            self.assertEqual(got, b"3456789\nend\n")
            sent = []
            orig = sb._c._w.write

            def spy(b):
                sent.append(bytes(b[8:9]))
                return orig(b)
            sb._c._w.write = spy
            await asyncio.sleep(1.5)
            self.assertIn(bytes([0x10]), sent)  # PING
            self.assertEqual((await sb.exec("echo alive")).output, "alive\n")

        async def main():
            sb = await aio.Runner.connect("unix:" + self.r.sock, keepalive=0.2)
            try:
                await asyncio.wait_for(go(sb), 60)
            finally:
                await sb.close()
        asyncio.run(main())

    def test_yield_wait_and_input(self):
        async def go(sb):
            r = await sb.exec("echo a; sleep 3; echo b", yield_after=0.1)
            self.assertTrue(r.running)
            r2 = await sb.exec_wait(yield_after=30)
            self.assertEqual((r2.exit_code, r.output + r2.output), (0, "a\nb\n"))
            st = await sb.exec_stream("read -p '? ' x; echo got $x", stdin=True, timeout=60)
            out = b""
            async for chunk in st:
                out += chunk
                if st.waiting_input:
                    await st.write("it\n")
            self.assertIn(b"got it", out)
        self.run_async(go)

    def test_cancel_and_interrupt(self):
        async def go(sb):
            s = await sb.open_session("aio-cancel")
            self.assertFalse(await s.cancel())
            st = await sb.exec_stream("echo started; sleep 30; echo no", session="aio-cancel")
            out = b""
            async for chunk in st:
                out += chunk
                if b"started" in out:
                    break
            self.assertTrue(await s.cancel(grace=0.5))
            async for chunk in st:
                out += chunk
            self.assertNotIn(b"no\n", out)
            self.assertEqual(st.result.exit_code, 130)
            self.assertEqual((await s.exec("echo alive")).output, "alive\n")
            await s.close()
        self.run_async(go)

    def test_connection_closed_releases_waiters(self):
        async def go(sb):
            task = asyncio.ensure_future(sb.exec("sleep 100"))
            await asyncio.sleep(0.2)
            await sb.close()
            with self.assertRaises(rc.ConnectionClosed):
                await task
        self.run_async(go)
        sb = rc.Runner.connect("unix:" + self.r.sock)
        try:
            end = time.monotonic() + 20
            while True:
                try:
                    self.assertEqual(sb.exec("echo ok").output, "ok\n")
                    break
                except rc.Busy:
                    self.assertLess(time.monotonic(), end)
                    time.sleep(0.05)
        finally:
            sb.close()


if __name__ == "__main__":
    import unittest
    unittest.main()
