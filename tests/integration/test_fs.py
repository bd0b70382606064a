"""test_fs.py - file operations (issue 5) against the real runner.

GNU tools are the oracle: grep -rn, find, diff -u + patch, sed -n.  Every
bad input gets a typed ERROR and the runner keeps serving.
"""
import hashlib
import os
import random
import shutil
import socket
import stat
import struct
import subprocess
import tempfile
import threading
import time
import unittest

from harness import Runner, RunnerTest, RUNNERCTL
import rproto as rp

BIG_MB = int(os.environ.get("FS_BIG_MB", "256"))


def records(res):
    return rp.Fields(res.out()).records()


def blocking(c):
    """rproto's sockets have a timeout, which makes big sends fail with
    EAGAIN; receiving is guarded by select() anyway."""
    if c.sock:
        c.sock.settimeout(None)


def no_temps(d):
    return [n for n in os.listdir(d) if ".rnr-" in n]


class FsCase(RunnerTest):
    """Shared helpers; each subclass gets its own runner."""

    def call(self, type_, *fields, c=None):
        return (c or self.c).call(type_, list(fields), timeout=60)

    def assertErr(self, res, code):
        self.assertFalse(res.ok, res)
        self.assertEqual(res.code_name, code, res)
        self.assertTrue(res.message, res)

    def mkdtemp(self):
        d = tempfile.mkdtemp(prefix="fs-", dir=self.r.tmp)
        os.chmod(d, 0o755)
        return d

    def write(self, path, data, *fields, chunk=65536, c=None):
        c = c or self.c
        blocking(c)
        sid = c.send(rp.WRITE, [("PATH", path)] + list(fields))
        view = memoryview(data)
        while True:
            while c.credit.get(sid, 0) <= 0 and sid in c.pending:
                c.recv(30)
            if sid not in c.pending:
                break  # answered early: an ERROR
            n = min(chunk, c.credit[sid], len(view))
            c.send_data(sid, bytes(view[:n]), fin=n == len(view))
            view = view[n:]
            if not view:
                break
        return c.wait(sid, 60)


class TestReadWrite(FsCase):
    def test_read_whole_binary_exact(self):
        d = self.mkdtemp()
        blob = bytes(random.Random(1).getrandbits(8) for _ in range(300000))
        open(d + "/b", "wb").write(blob)
        res = self.call(rp.READ, ("PATH", d + "/b"))
        self.assertTrue(res.ok, res)
        self.assertEqual(res.out(), blob)
        f = res.fields
        self.assertEqual(f.int("SIZE"), len(blob))
        self.assertTrue(stat.S_ISREG(f.int("FILE_MODE")))
        self.assertEqual(f.int("MTIME_NS"), os.stat(d + "/b").st_mtime_ns)
        self.assertEqual(f.int("TRUNCATED"), 0)

    def test_read_byte_range_and_cap(self):
        d = self.mkdtemp()
        open(d + "/f", "wb").write(bytes(range(256)) * 10)
        res = self.call(rp.READ, ("PATH", d + "/f"), ("OFFSET", 100), ("LENGTH", 50))
        self.assertEqual(res.out(), (bytes(range(256)) * 10)[100:150])
        res = self.call(rp.READ, ("PATH", d + "/f"), ("MAX_BYTES", 10))
        self.assertEqual(res.out(), bytes(range(10)))
        self.assertEqual(res.fields.int("TRUNCATED"), 1)
        res = self.call(rp.READ, ("PATH", d + "/f"), ("OFFSET", 5000))
        self.assertTrue(res.ok, res)
        self.assertEqual(res.out(), b"")
        res = self.call(rp.READ, ("PATH", d + "/f"), ("OFFSET", 1), ("LINE_FROM", 1))
        self.assertErr(res, "E_BAD_REQUEST")

    def test_line_ranges_vs_sed(self):
        d = self.mkdtemp()
        rnd = random.Random(2)
        for name, tail in (("nl", b"\n"), ("nonl", b"")):
            lines = [bytes(rnd.choice(b"abc xyz") for _ in range(rnd.randrange(0, 40)))
                     for _ in range(200)]
            data = b"\n".join(lines) + tail
            p = "%s/%s" % (d, name)
            open(p, "wb").write(data)
            total = data.count(b"\n") + (0 if data.endswith(b"\n") else 1)
            for a, b in ((1, 1), (1, 10), (5, 5), (17, 123), (190, 200), (199, 500),
                         (250, 260), (1, 200)):
                want = subprocess.run(["sed", "-n", "%d,%dp" % (a, b), p],
                                      capture_output=True).stdout
                res = self.call(rp.READ, ("PATH", p), ("LINE_FROM", a), ("LINE_TO", b))
                self.assertTrue(res.ok, res)
                self.assertEqual(res.out(), want, (name, a, b))
                self.assertEqual(res.fields.int("TOTAL_LINES"), total)
            res = self.call(rp.READ, ("PATH", p), ("LINE_FROM", 150))
            want = subprocess.run(["sed", "-n", "150,$p", p], capture_output=True).stdout
            self.assertEqual(res.out(), want)
        res = self.call(rp.READ, ("PATH", p), ("LINE_FROM", 9), ("LINE_TO", 3))
        self.assertErr(res, "E_BAD_REQUEST")

    def test_read_line_numbers_vs_cat_n(self):
        d = self.mkdtemp()
        rnd = random.Random(3)
        for name, tail in (("nl", b"\n"), ("nonl", b""), ("big", b"\n")):
            count = 60000 if name == "big" else 300
            lines = [bytes(rnd.choice(b"abc \txyz") for _ in range(rnd.randrange(0, 60)))
                     for _ in range(count)]
            data = b"\n".join(lines) + tail
            p = "%s/%s" % (d, name)
            open(p, "wb").write(data)
            numbered = subprocess.run(["cat", "-n", p], capture_output=True).stdout
            res = self.call(rp.READ, ("PATH", p), ("LINE_NUMBERS", 1))
            self.assertTrue(res.ok, res)
            self.assertEqual(res.out(), numbered, name)
            self.assertEqual(res.fields.int("TOTAL_LINES"), count)
            for a, b in ((1, 1), (5, 17), (count - 3, count + 10)):
                want = subprocess.run("cat -n %s | sed -n %d,%dp" % (p, a, b), shell=True,
                                      capture_output=True).stdout
                res = self.call(rp.READ, ("PATH", p), ("LINE_NUMBERS", 1),
                                ("LINE_FROM", a), ("LINE_TO", b))
                self.assertEqual(res.out(), want, (name, a, b))
                self.assertEqual(res.fields.int("TOTAL_LINES"), count)
        res = self.call(rp.READ, ("PATH", d + "/nl"), ("LINE_NUMBERS", 1), ("MAX_BYTES", 20))
        self.assertEqual(len(res.out()), 20)
        self.assertEqual(res.fields.int("TRUNCATED"), 1)
        self.assertErr(self.call(rp.READ, ("PATH", d + "/nl"), ("LINE_NUMBERS", 1),
                                 ("OFFSET", 3)), "E_BAD_REQUEST")

    def test_read_max_line_and_binary(self):
        d = self.mkdtemp()
        open(d + "/t", "wb").write(b"short\n" + b"x" * 100 + b"\n" + b"y" * 30 + b"\nend")
        res = self.call(rp.READ, ("PATH", d + "/t"), ("MAX_LINE", 10))
        self.assertEqual(res.out(), b"short\n" + b"x" * 10 + b" [90 bytes cut]\n" +
                         b"y" * 10 + b" [20 bytes cut]\nend")
        res = self.call(rp.READ, ("PATH", d + "/t"), ("MAX_LINE", 10), ("LINE_NUMBERS", 1),
                        ("LINE_FROM", 2), ("LINE_TO", 2))
        self.assertEqual(res.out(), b"     2\t" + b"x" * 10 + b" [90 bytes cut]\n")
        # a cut line longer than the client's window
        open(d + "/huge", "wb").write(b"z" * 3000000 + b"\nafter\n")
        res = self.call(rp.READ, ("PATH", d + "/huge"), ("MAX_LINE", 2000000))
        self.assertEqual(res.out(), b"z" * 2000000 + b" [1000000 bytes cut]\nafter\n")
        open(d + "/bin", "wb").write(b"text" * 1000 + b"\0" + b"more")
        res = self.call(rp.READ, ("PATH", d + "/bin"), ("BINARY", 1))
        self.assertTrue(res.ok, res)
        self.assertEqual(res.out(), b"")
        self.assertEqual(res.fields.int("BINARY"), 1)
        self.assertEqual(res.fields.int("SIZE"), 4005)
        # default: exact bytes, binary or not; text with BINARY 1 is sent
        self.assertEqual(self.call(rp.READ, ("PATH", d + "/bin")).out()[4000:], b"\0more")
        res = self.call(rp.READ, ("PATH", d + "/t"), ("BINARY", 1))
        self.assertEqual(res.out()[:6], b"short\n")
        self.assertFalse(res.fields.has("BINARY"))
        # a NUL after the first 8 KiB does not count
        open(d + "/late", "wb").write(b"a" * 9000 + b"\0")
        self.assertEqual(len(self.call(rp.READ, ("PATH", d + "/late"), ("BINARY", 1)).out()),
                         9001)

    def test_line_range_bigger_than_window(self):
        # Lines that cross DATA frames and the credit window.
        d = self.mkdtemp()
        data = b"".join(b"%07d %s\n" % (i, b"x" * (i % 300)) for i in range(20000))
        open(d + "/big", "wb").write(data)
        res = self.call(rp.READ, ("PATH", d + "/big"), ("LINE_FROM", 3000), ("LINE_TO", 19000))
        want = subprocess.run(["sed", "-n", "3000,19000p", d + "/big"], capture_output=True).stdout
        self.assertEqual(res.out(), want)
        self.assertEqual(res.fields.int("TOTAL_LINES"), 20000)

    def test_write_modes(self):
        d = self.mkdtemp()
        p = d + "/w"
        res = self.write(p, b"first")
        self.assertTrue(res.ok, res)
        self.assertEqual(res.fields.int("CREATED"), 1)
        self.assertEqual(open(p, "rb").read(), b"first")
        os.chmod(p, 0o640)
        res = self.write(p, b"second")
        self.assertTrue(res.ok, res)
        self.assertEqual(res.fields.int("CREATED"), 0)
        self.assertEqual(open(p, "rb").read(), b"second")
        self.assertEqual(stat.S_IMODE(os.stat(p).st_mode), 0o640, "mode kept")
        res = self.write(p, b"+more", ("WRITE_MODE", 1))
        self.assertEqual(open(p, "rb").read(), b"second+more")
        res = self.write(p, b"x", ("WRITE_MODE", 2))
        self.assertErr(res, "E_EXISTS")
        self.assertEqual(open(p, "rb").read(), b"second+more")
        res = self.write(d + "/excl", b"x", ("WRITE_MODE", 2), ("FILE_MODE", 0o600))
        self.assertTrue(res.ok, res)
        self.assertEqual(stat.S_IMODE(os.stat(d + "/excl").st_mode), 0o600)
        res = self.write(d + "/nocreate", b"x", ("CREATE", 0))
        self.assertErr(res, "E_NOT_FOUND")
        res = self.write(d + "/a/b/c/deep", b"deep", ("PARENTS", 1))
        self.assertTrue(res.ok, res)
        self.assertEqual(open(d + "/a/b/c/deep", "rb").read(), b"deep")
        res = self.write(d + "/x/y", b"x")
        self.assertErr(res, "E_NOT_FOUND")
        res = self.write(d + "/empty", b"")
        self.assertTrue(res.ok, res)
        self.assertEqual(os.path.getsize(d + "/empty"), 0)
        res = self.write(p, b"nonatomic", ("ATOMIC", 0))
        self.assertEqual(open(p, "rb").read(), b"nonatomic")
        self.assertEqual(stat.S_IMODE(os.stat(p).st_mode), 0o640, "mode kept")
        for atomic in (0, 1):
            q = "%s/mode%d" % (d, atomic)
            res = self.write(q, b"m", ("ATOMIC", atomic), ("FILE_MODE", 0o666))
            self.assertTrue(res.ok, res)
            self.assertEqual(stat.S_IMODE(os.stat(q).st_mode), 0o666, "no umask")
        self.assertEqual(no_temps(d), [])

    def test_write_through_symlink_replaces_target(self):
        d = self.mkdtemp()
        open(d + "/real", "w").write("old")
        os.symlink("real", d + "/link")
        res = self.write(d + "/link", b"new")
        self.assertTrue(res.ok, res)
        self.assertTrue(os.path.islink(d + "/link"))
        self.assertEqual(open(d + "/real").read(), "new")

    def test_disconnect_mid_upload_leaves_old_file(self):
        d = self.mkdtemp()
        p = d + "/keep"
        open(p, "wb").write(b"old contents")
        c = self.r.client()
        sid = c.send(rp.WRITE, [("PATH", p)])
        c.send_data(sid, b"half of the new contents")
        c.call(rp.PING)  # the DATA above has been processed
        self.assertTrue(no_temps(d), "a temp file exists while uploading")
        c.close()
        deadline = time.time() + 10
        while no_temps(d) and time.time() < deadline:
            time.sleep(0.02)
        self.assertEqual(no_temps(d), [])
        self.assertEqual(open(p, "rb").read(), b"old contents")
        self.assertAlive()

    def test_cancel_mid_upload(self):
        d = self.mkdtemp()
        p = d + "/keep"
        open(p, "wb").write(b"old")
        sid = self.c.send(rp.WRITE, [("PATH", p)])
        self.c.send_data(sid, b"new stuff")
        self.c.cancel(sid)
        res = self.c.wait(sid)
        self.assertErr(res, "E_CANCELLED")
        self.assertEqual(open(p, "rb").read(), b"old")
        self.assertEqual(no_temps(d), [])

    def test_write_wrong_channel(self):
        d = self.mkdtemp()
        sid = self.c.send(rp.WRITE, [("PATH", d + "/ch")])
        self.c.send_data(sid, b"x", fin=True, channel=1)
        self.assertErr(self.c.wait(sid), "E_BAD_REQUEST")
        self.assertFalse(os.path.exists(d + "/ch"))
        self.assertEqual(no_temps(d), [])


class TestLifecycle(FsCase):
    def test_cancel_and_disconnect_mid_read_no_leaks(self):
        d = self.mkdtemp()
        open(d + "/big", "wb").write(os.urandom(8 << 20))
        base = self.r.fd_count()
        c = self.r.client()
        c.auto_window = False  # hold the credit: the READ must wait
        sid = c.send(rp.READ, [("PATH", d + "/big")])
        c.recv(10)
        c.cancel(sid)
        res = c.wait(sid, 20)
        self.assertErr(res, "E_CANCELLED")
        sid = c.send(rp.READ, [("PATH", d + "/big")])
        c.recv(10)
        c.close()  # gone mid-read
        for typ, fields in [(rp.READ, [("PATH", d + "/none")]), (rp.LS, [("PATH", d)]),
                            (rp.GREP, [("PATH", d), ("PATTERN", "zzz")]),
                            (rp.FIND, [("PATH", d)]), (rp.STAT, [("PATH", d + "/big")])]:
            self.call(typ, *fields)
        deadline = time.time() + 10
        while self.r.fd_count() > base and time.time() < deadline:
            time.sleep(0.05)
        self.assertLessEqual(self.r.fd_count(), base, "no fd leaked")
        self.assertAlive()


class TestEdit(FsCase):
    def test_edit(self):
        d = self.mkdtemp()
        p = d + "/e.py"
        open(p, "w").write("a = 1\nb = 1\nc = 2\n")
        os.chmod(p, 0o751)
        res = self.call(rp.EDIT, ("PATH", p), ("OLD", "= 1"), ("NEW", "= 3"))
        self.assertErr(res, "E_NOT_UNIQUE")
        self.assertEqual(res.fields.int("COUNT"), 2)
        res = self.call(rp.EDIT, ("PATH", p), ("OLD", "zzz"), ("NEW", "y"))
        self.assertErr(res, "E_NOT_MATCHED")
        self.assertEqual(open(p).read(), "a = 1\nb = 1\nc = 2\n")
        res = self.call(rp.EDIT, ("PATH", p), ("OLD", "c = 2"), ("NEW", "c = 22"))
        self.assertTrue(res.ok, res)
        self.assertEqual(res.fields.int("REPLACED"), 1)
        res = self.call(rp.EDIT, ("PATH", p), ("OLD", "= 1"), ("NEW", ""), ("REPLACE_ALL", 1))
        self.assertEqual(res.fields.int("REPLACED"), 2)
        self.assertEqual(open(p).read(), "a \nb \nc = 22\n")
        self.assertEqual(res.fields.int("SIZE"), os.path.getsize(p))
        self.assertEqual(stat.S_IMODE(os.stat(p).st_mode), 0o751)
        self.assertEqual(no_temps(d), [])
        self.assertErr(self.call(rp.EDIT, ("PATH", p), ("OLD", ""), ("NEW", "x")),
                       "E_BAD_REQUEST")
        self.assertErr(self.call(rp.EDIT, ("PATH", d), ("OLD", "a"), ("NEW", "x")),
                       "E_IS_DIR")
        self.assertErr(self.call(rp.EDIT, ("PATH", d + "/none"), ("OLD", "a"), ("NEW", "x")),
                       "E_NOT_FOUND")
        os.mkfifo(d + "/fifo")
        self.assertErr(self.call(rp.EDIT, ("PATH", d + "/fifo"), ("OLD", "a"), ("NEW", "x")),
                       "E_UNSUPPORTED")
        self.assertAlive()


class TestDirOps(FsCase):
    def test_ls_stat(self):
        d = self.mkdtemp()
        open(d + "/f", "w").write("12345")
        os.mkdir(d + "/sub")
        open(d + "/sub/inner", "w").write("x")
        open(d + "/.hidden", "w").write("")
        os.symlink("/nowhere", d + "/ln")
        res = self.call(rp.LS, ("PATH", d))
        self.assertTrue(res.ok, res)
        ents = {e.bytes("NAME"): e for e in records(res)}
        self.assertEqual(sorted(ents), [b"f", b"ln", b"sub"])
        self.assertEqual(ents[b"f"].int("SIZE"), 5)
        self.assertEqual(ents[b"f"].int("FILE_TYPE"), 1)
        self.assertEqual(ents[b"sub"].int("FILE_TYPE"), 2)
        self.assertEqual(ents[b"ln"].int("FILE_TYPE"), 3)
        self.assertEqual(ents[b"ln"].bytes("TARGET"), b"/nowhere")
        self.assertEqual(res.fields.int("COUNT"), 3)
        res = self.call(rp.LS, ("PATH", d), ("HIDDEN", 1), ("DEPTH", 2))
        names = [e.bytes("NAME") for e in records(res)]
        self.assertEqual(names, [b".hidden", b"f", b"ln", b"sub", b"sub/inner"])
        res = self.call(rp.STAT, ("PATH", d + "/ln"))
        self.assertEqual(res.fields.int("FILE_TYPE"), 3)
        self.assertEqual(res.fields.bytes("TARGET"), b"/nowhere")
        res = self.call(rp.STAT, ("PATH", d + "/f"))
        st = os.stat(d + "/f")
        self.assertEqual(res.fields.int("SIZE"), 5)
        self.assertEqual(res.fields.int("FILE_MODE"), st.st_mode)
        self.assertEqual(res.fields.int("NLINK"), 1)
        self.assertErr(self.call(rp.LS, ("PATH", d + "/f")), "E_NOT_DIR")
        self.assertErr(self.call(rp.LS, ("PATH", d + "/none")), "E_NOT_FOUND")
        self.assertErr(self.call(rp.STAT, ("PATH", d + "/none")), "E_NOT_FOUND")
        self.assertErr(self.call(rp.STAT, ("PATH", d + "/f/x")), "E_NOT_DIR")

    def test_mkdir_remove_move(self):
        d = self.mkdtemp()
        res = self.call(rp.MKDIR, ("PATH", d + "/m"))
        self.assertEqual(res.fields.int("CREATED"), 1)
        self.assertTrue(os.path.isdir(d + "/m"))
        self.assertErr(self.call(rp.MKDIR, ("PATH", d + "/m")), "E_EXISTS")
        res = self.call(rp.MKDIR, ("PATH", d + "/m"), ("PARENTS", 1))
        self.assertTrue(res.ok, res)
        self.assertEqual(res.fields.int("CREATED"), 0)
        self.assertErr(self.call(rp.MKDIR, ("PATH", d + "/p/q")), "E_NOT_FOUND")
        self.assertTrue(self.call(rp.MKDIR, ("PATH", d + "/p/q/r"), ("PARENTS", 1)).ok)
        open(d + "/p/q/r/f", "w").write("x")
        self.assertErr(self.call(rp.REMOVE, ("PATH", d + "/p")), "E_NOT_EMPTY")
        self.assertTrue(self.call(rp.MOVE, ("PATH", d + "/p"), ("PATH2", d + "/P")).ok)
        self.assertTrue(os.path.exists(d + "/P/q/r/f"))
        self.assertErr(self.call(rp.MOVE, ("PATH", d + "/none"), ("PATH2", d + "/x")),
                       "E_NOT_FOUND")
        # a tree with a symlink out: removed, the target untouched
        outside = self.mkdtemp()
        open(outside + "/precious", "w").write("keep")
        os.symlink(outside, d + "/P/q/link")
        res = self.call(rp.REMOVE, ("PATH", d + "/P"), ("RECURSIVE", 1))
        self.assertTrue(res.ok, res)
        self.assertFalse(os.path.exists(d + "/P"))
        self.assertEqual(open(outside + "/precious").read(), "keep")
        open(d + "/file", "w").write("x")
        self.assertTrue(self.call(rp.REMOVE, ("PATH", d + "/file")).ok)
        self.assertTrue(self.call(rp.REMOVE, ("PATH", d + "/m")).ok)
        self.assertErr(self.call(rp.REMOVE, ("PATH", d + "/m")), "E_NOT_FOUND")


    def test_move_across_filesystems(self):
        # issue 16.7: /dev/shm is a tmpfs, the runner's temp dir is not
        if os.stat("/dev/shm").st_dev == os.stat(self.r.tmp).st_dev:
            self.skipTest("/dev/shm is on the same filesystem as " + self.r.tmp)
        d = self.mkdtemp()
        dst = tempfile.mkdtemp(prefix="fs-move-", dir="/dev/shm")
        self.addCleanup(shutil.rmtree, dst, True)
        blob = random.Random(4).randbytes(3 << 20)
        open(d + "/big", "wb").write(blob)
        os.chmod(d + "/big", 0o741)
        os.utime(d + "/big", ns=(1500000000123456789, 1600000000987654321))
        open(dst + "/big", "w").write("replaced")
        res = self.call(rp.MOVE, ("PATH", d + "/big"), ("PATH2", dst + "/big"))
        self.assertTrue(res.ok, res)
        self.assertFalse(os.path.exists(d + "/big"))
        self.assertEqual(open(dst + "/big", "rb").read(), blob)
        st = os.stat(dst + "/big")
        self.assertEqual(stat.S_IMODE(st.st_mode), 0o741)
        self.assertEqual(st.st_mtime_ns, 1600000000987654321)
        self.assertEqual(os.listdir(dst), ["big"])  # no temp file left
        # a directory: the whole tree, with links, modes and times
        os.makedirs(d + "/dir/sub/deep")
        open(d + "/dir/sub/deep/f", "w").write("deep\n")
        os.chmod(d + "/dir/sub/deep/f", 0o604)
        os.symlink("../outside-target", d + "/dir/sub/link")
        os.mkfifo(d + "/dir/fifo")
        os.chmod(d + "/dir/sub/deep", 0o750)
        for p in ("/dir/sub/deep", "/dir/sub", "/dir"):
            os.utime(d + p, ns=(1, 1234567890123456789))
        res = self.call(rp.MOVE, ("PATH", d + "/dir"), ("PATH2", dst + "/dir"))
        self.assertTrue(res.ok, res)
        self.assertFalse(os.path.exists(d + "/dir"))
        self.assertEqual(open(dst + "/dir/sub/deep/f").read(), "deep\n")
        self.assertEqual(stat.S_IMODE(os.stat(dst + "/dir/sub/deep/f").st_mode), 0o604)
        self.assertEqual(os.readlink(dst + "/dir/sub/link"), "../outside-target")
        self.assertTrue(stat.S_ISFIFO(os.lstat(dst + "/dir/fifo").st_mode))
        self.assertEqual(stat.S_IMODE(os.stat(dst + "/dir/sub/deep").st_mode), 0o750)
        for p in ("/dir/sub/deep", "/dir/sub", "/dir"):
            self.assertEqual(os.stat(dst + p).st_mtime_ns, 1234567890123456789, p)
        self.assertEqual(sorted(os.listdir(dst)), ["big", "dir"])
        # a symlink itself
        os.symlink("big", d + "/ln")
        self.assertTrue(self.call(rp.MOVE, ("PATH", d + "/ln"), ("PATH2", dst + "/ln")).ok)
        self.assertEqual(os.readlink(dst + "/ln"), "big")
        # rename(2)'s rules at the target: a non-empty directory stays, and
        # so do the source and no temp entry
        os.makedirs(d + "/d2/x")
        res = self.call(rp.MOVE, ("PATH", d + "/d2"), ("PATH2", dst + "/dir"))
        self.assertErr(res, "E_NOT_EMPTY")
        self.assertTrue(os.path.isdir(d + "/d2/x"))
        self.assertEqual(sorted(os.listdir(dst)), ["big", "dir", "ln"])
        # no room for the parent of the target: the source stays
        open(d + "/f", "w").write("x")
        self.assertErr(self.call(rp.MOVE, ("PATH", d + "/f"), ("PATH2", dst + "/no/f")),
                       "E_NOT_FOUND")
        self.assertTrue(os.path.exists(d + "/f"))

class TestBadInput(FsCase):
    def test_bad_paths(self):
        d = self.mkdtemp()
        os.mkfifo(d + "/fifo")
        for typ, fields, code in [
            (rp.READ, [("PATH", d + "/missing")], "E_NOT_FOUND"),
            (rp.READ, [("PATH", d)], "E_IS_DIR"),
            (rp.READ, [("PATH", d + "/fifo")], "E_UNSUPPORTED"),
            (rp.READ, [("PATH", "/dev/zero")], "E_UNSUPPORTED"),
            (rp.READ, [("PATH", "")], "E_BAD_REQUEST"),
            (rp.READ, [], "E_BAD_REQUEST"),
            (rp.READ, [("PATH", b"a\0b")], "E_BAD_REQUEST"),
            (rp.READ, [("PATH", "x" * 5000)], "E_BAD_REQUEST"),
            (rp.READ, [("PATH", d), (0x0302, b"\x01\x02\x03")], "E_BAD_REQUEST"),
            (rp.LS, [("PATH", d + "/fifo")], "E_NOT_DIR"),
            (rp.GREP, [("PATH", d), ("PATTERN", "a(")], "E_BAD_PATTERN"),
            (rp.GREP, [("PATH", d), ("PATTERN", "[z-a]")], "E_BAD_PATTERN"),
            (rp.GREP, [("PATH", d)], "E_BAD_REQUEST"),
            (rp.GREP, [("PATH", d + "/missing"), ("PATTERN", "a")], "E_NOT_FOUND"),
            (rp.GREP, [("PATH", d + "/fifo"), ("PATTERN", "a")], "E_UNSUPPORTED"),
            (rp.FIND, [("PATH", d + "/missing")], "E_NOT_FOUND"),
            (rp.DIFF, [("PATH", d), ("PATH2", d)], "E_IS_DIR"),
            (rp.DIFF, [("PATH", d + "/fifo"), ("PATH2", d + "/fifo")], "E_UNSUPPORTED"),
            (rp.DIFF, [("PATH", d + "/missing")], "E_BAD_REQUEST"),
            (rp.MKDIR, [("PATH", "/")], "E_BAD_REQUEST"),
            (rp.REMOVE, [("PATH", d + "/..")], "E_BAD_REQUEST"),
            (rp.WRITE, [("PATH", d)], "E_IS_DIR"),
            (rp.WRITE, [("PATH", d + "/fifo")], "E_UNSUPPORTED"),
            (rp.WRITE, [("PATH", d + "/x"), ("WRITE_MODE", 9)], "E_BAD_REQUEST"),
            (rp.EDIT, [("PATH", d + "/fifo"), ("OLD", "a"), ("NEW", "")], "E_UNSUPPORTED"),
            (rp.EDIT, [("PATH", d), ("OLD", "a"), ("NEW", "")], "E_IS_DIR"),
            (rp.EDIT, [("PATH", d + "/huge"), ("OLD", "a"), ("NEW", "")], "E_LIMIT"),
            (rp.DIFF, [("PATH", d + "/huge"), ("PATH2", d + "/huge")], "E_LIMIT"),
            (rp.GREP, [("PATH", d), ("PATTERN", "a"), ("GREP_MODE", 3)], "E_BAD_REQUEST"),
        ]:
            if not os.path.exists(d + "/huge"):  # sparse: 64 MiB + 1
                with open(d + "/huge", "wb") as f:
                    f.truncate((64 << 20) + 1)
            res = self.c.call(typ, fields, timeout=20)
            self.assertErr(res, code)
        self.assertAlive()

    def test_no_permission(self):
        # Root bypasses DAC: a runner switched to nobody sees the kernel's
        # answer, exactly as its shell would.
        d = self.mkdtemp()
        open(d + "/secret", "w").write("s")
        os.chmod(d + "/secret", 0o600)
        os.mkdir(d + "/ro", 0o755)
        with Runner(user="65534:65534") as r:
            c = r.client()
            res = c.call(rp.READ, [("PATH", d + "/secret")])
            self.assertErr(res, "E_PERMISSION")
            self.assertNotEqual(res.errno, 0)
            sid = c.send(rp.WRITE, [("PATH", d + "/ro/new")])
            c.send_data(sid, b"x", fin=True)
            self.assertErr(c.wait(sid), "E_PERMISSION")
            self.assertErr(c.call(rp.EDIT, [("PATH", d + "/secret"), ("OLD", "s"), ("NEW", "t")]),
                           "E_PERMISSION")
            self.assertErr(c.call(rp.MKDIR, [("PATH", d + "/ro/x")]), "E_PERMISSION")
            self.assertErr(c.call(rp.REMOVE, [("PATH", d + "/secret")]), "E_PERMISSION")
            self.assertTrue(c.call(rp.PING).ok)
        self.assertEqual(open(d + "/secret").read(), "s")
        self.assertEqual(os.listdir(d + "/ro"), [])


@unittest.skipUnless(os.geteuid() == 0, "mounting a tmpfs needs root")
class TestDiskFull(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.mnt = tempfile.mkdtemp(prefix="fs-full-")
        subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", cls.mnt], check=True)
        # Mounted before the runner starts: its private mount namespace
        # copies the table.
        cls.r = Runner()
        cls.c = cls.r.client()

    @classmethod
    def tearDownClass(cls):
        cls.c.close()
        cls.r.__exit__(None, None, None)
        subprocess.run(["umount", cls.mnt])
        os.rmdir(cls.mnt)

    def test_enospc_atomic_and_append(self):
        p = self.mnt + "/f"
        open(p, "wb").write(b"old")
        big = b"z" * (2 << 20)
        for fields in ([], [("WRITE_MODE", 1)], [("ATOMIC", 0), ("CREATE", 1)]):
            if fields and fields[0][0] == "ATOMIC":
                p = self.mnt + "/fresh"
            res = FsCase.write(self, p, big, *fields, chunk=256 << 10)
            self.assertFalse(res.ok, res)
            self.assertEqual(res.code_name, "E_NO_SPACE", res)
            if p.endswith("/f"):
                self.assertEqual(open(p, "rb").read(), b"old")
            else:
                self.assertFalse(os.path.exists(p), "a failed create is removed")
            self.assertEqual(no_temps(self.mnt), [])
        self.assertTrue(self.c.call(rp.PING).ok)


class TestTrees(FsCase):
    """Differential tests on a generated tree: GNU tools are the oracle."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.tree = tempfile.mkdtemp(prefix="tree-", dir=cls.r.tmp)
        rnd = random.Random(5)
        words = ["alpha", "beta", "Gamma", "delta", "foo", "bar", "baz(x)", "a.b", "TODO", "[x]"]
        for i in range(120):
            sub = os.path.join(cls.tree, *["d%d" % rnd.randrange(4) for _ in range(rnd.randrange(0, 4))])
            os.makedirs(sub, exist_ok=True)
            ext = rnd.choice([".py", ".c", ".txt", ""])
            name = ("." if rnd.random() < 0.05 else "") + "f%d%s" % (i, ext)
            lines = [" ".join(rnd.choice(words) for _ in range(rnd.randrange(0, 8)))
                     for _ in range(rnd.randrange(0, 60))]
            data = "\n".join(lines) + ("\n" if rnd.random() < 0.8 else "")
            open(os.path.join(sub, name), "w").write(data)
        open(cls.tree + "/binary.bin", "wb").write(b"alpha\0beta\n")
        os.symlink("/etc", cls.tree + "/etc-link")
        os.symlink("d0", cls.tree + "/d-link")

    def run_grep_oracle(self, args):
        out = subprocess.run(["grep", "-rnI", "--null"] + args + [self.tree],
                             capture_output=True).stdout
        recs = set()
        for line in out.splitlines():
            if line == b"--":
                continue
            path, rest = line.split(b"\0", 1)
            sep = 1
            while rest[sep:sep + 1].isdigit():
                sep += 1
            num, mark, text = rest[:sep], rest[sep:sep + 1], rest[sep + 1:]
            recs.add((path, int(num), text, 1 if mark == b":" else 0))
        return recs

    def run_grep(self, fields):
        res = self.call(rp.GREP, ("PATH", self.tree), *fields)
        self.assertTrue(res.ok, res)
        recs = [(e.bytes("PATH"), e.int("LINE"), e.bytes("TEXT"), e.int("MATCH"))
                for e in records(res)]
        self.assertEqual(len(recs), len(set(recs)), "no line twice")
        self.assertEqual(res.fields.int("COUNT"), sum(r[3] for r in recs))
        return set(recs)

    def test_grep_vs_gnu(self):
        cases = [
            (["-E", "alpha"], [("PATTERN", "alpha")]),
            (["-E", "ba[rz]"], [("PATTERN", "ba[rz]")]),
            (["-E", "^foo"], [("PATTERN", "^foo")]),
            (["-E", "delta$"], [("PATTERN", "delta$")]),
            (["-E", "-i", "gamma"], [("PATTERN", "gamma"), ("IGNORE_CASE", 1)]),
            (["-F", "baz(x)"], [("PATTERN", "baz(x)"), ("FIXED", 1)]),
            (["-F", "-i", "a.B"], [("PATTERN", "a.B"), ("FIXED", 1), ("IGNORE_CASE", 1)]),
            (["-F", "[x]"], [("PATTERN", "[x]"), ("FIXED", 1)]),
            (["-E", "x"], [("PATTERN", "x"), ("GLOB", "*.py")], ),
            (["-E", "TODO", "-C", "2"], [("PATTERN", "TODO"), ("CONTEXT", 2)]),
            (["-E", "(foo|bar) beta"], [("PATTERN", "(foo|bar) beta")]),
            (["-E", ""], [("PATTERN", "")]),
            (["-E", "\\bbar\\b"], [("PATTERN", "\\bbar\\b")]),
            (["-E", "\\w+\\(x"], [("PATTERN", "\\w+\\(x")]),
            (["-E", "-i", "a\\.b [a-z]+"], [("PATTERN", "a\\.b [a-z]+"), ("IGNORE_CASE", 1)]),
            (["-E", "o{2}"], [("PATTERN", "o{2}")]),
            # a newline separates patterns, fixed or not
            (["-F", "baz(x)\nalpha"], [("PATTERN", "baz(x)\nalpha"), ("FIXED", 1)]),
            (["-F", "-i", "A.b\nGAMMA"], [("PATTERN", "A.b\nGAMMA"), ("FIXED", 1),
                                           ("IGNORE_CASE", 1)]),
            (["-E", "^foo\ndelta$"], [("PATTERN", "^foo\ndelta$")]),
        ]
        cases.append((["-E", "x", "--include", "*.c"],
                      [("PATTERN", "x"), ("GLOB", "**/*.{c,h}")]))
        for gnu, ours in cases:
            if ("GLOB", "*.py") in ours:
                gnu = gnu + ["--include", "*.py"]
            self.assertEqual(self.run_grep(ours), self.run_grep_oracle(gnu), gnu)

    def test_grep_word_and_multiple_patterns_vs_gnu(self):
        cases = [
            (["-E", "-w", "ba."], [("PATTERN", "ba."), ("WORD", 1)]),
            (["-E", "-w", "a"], [("PATTERN", "a"), ("WORD", 1)]),
            (["-E", "-w", "b"], [("PATTERN", "b"), ("WORD", 1)]),
            (["-E", "-w", "-i", "gamma|x"], [("PATTERN", "gamma|x"), ("WORD", 1),
                                              ("IGNORE_CASE", 1)]),
            (["-E", "-w", "\(x"], [("PATTERN", "\(x"), ("WORD", 1)]),
            (["-F", "-w", "baz(x)"], [("PATTERN", "baz(x)"), ("FIXED", 1), ("WORD", 1)]),
            (["-F", "-w", "a.b\nfoo"], [("PATTERN", "a.b\nfoo"), ("FIXED", 1), ("WORD", 1)]),
            (["-E", "-w", ""], [("PATTERN", ""), ("WORD", 1)]),
            (["-E", "-w", "-C", "1", "TODO"], [("PATTERN", "TODO"), ("WORD", 1),
                                               ("CONTEXT", 1)]),
            (["-E", "-e", "^foo", "-e", "delta$"], [("PATTERN", "^foo"),
                                                    ("PATTERN", "delta$")]),
            (["-F", "-e", "[x]", "-e", "a.b"], [("PATTERN", "[x]"), ("PATTERN", "a.b"),
                                                ("FIXED", 1)]),
            (["-E", "-w", "-e", "bar", "-e", "al.ha"], [("PATTERN", "bar"), ("WORD", 1),
                                                       ("PATTERN", "al.ha")]),
        ]
        for gnu, ours in cases:
            self.assertEqual(self.run_grep(ours), self.run_grep_oracle(gnu), gnu)

    def test_grep_rust_syntax_vs_grep_P(self):
        # issue 16.6: the classes and flags models write, as PCRE reads them
        extra = self.tree + "/d1/digits.txt"
        open(extra, "w").write("x = 42\nTODO: fix 7 things\ntab\there\n[x]\t\nf123\n")
        self.addCleanup(os.unlink, extra)
        self.assertTrue(self.run_grep_oracle(["-P", "\\d+"]))
        for pat in ("\\d+", "(?i)todo", "ba(?:r|z)\\b", "[\\w.]+\\(x\\)", "\\bGamma\\s+\\S",
                    "^\\D*$", "al.*?ha", "(?i)A\\.B\\s", "\\[x\\]\\t?", "f\\d{1,3}?"):
            self.assertEqual(self.run_grep([("PATTERN", pat), ("SYNTAX", 1)]),
                             self.run_grep_oracle(["-P", pat]), pat)
        # ERE stays GNU's: \d is a d there
        self.assertEqual(self.run_grep([("PATTERN", "\\d")]),
                         self.run_grep_oracle(["-E", "\\d"]))
        self.assertNotEqual(self.run_grep([("PATTERN", "\\d")]), set())
        for bad in ("(?=a)", "a(?i)b", "(?P<n>x)"):
            self.assertErr(self.call(rp.GREP, ("PATH", self.tree), ("PATTERN", bad),
                                     ("SYNTAX", 1)), "E_BAD_PATTERN")
        self.assertErr(self.call(rp.GREP, ("PATH", self.tree), ("PATTERN", "a"),
                                 ("SYNTAX", 2)), "E_BAD_REQUEST")

    def test_grep_files_and_count_modes_vs_gnu(self):
        for pat, fields in (("alpha", []), ("ba[rz]", [("IGNORE_CASE", 1)]),
                            ("TODO", [("WORD", 1)])):
            flags = (["-i"] if fields == [("IGNORE_CASE", 1)] else []) + \
                    (["-w"] if fields == [("WORD", 1)] else [])
            out = subprocess.run(["grep", "-rlIE", "--null"] + flags + [pat, self.tree],
                                 capture_output=True).stdout
            want = sorted(p for p in out.split(b"\0") if p)
            res = self.call(rp.GREP, ("PATH", self.tree), ("PATTERN", pat),
                            ("GREP_MODE", 1), *fields)
            self.assertEqual(sorted(e.bytes("PATH") for e in records(res)), want, pat)
            self.assertTrue(all(not e.has("LINE") for e in records(res)))
            self.assertEqual(res.fields.int("COUNT"), len(want))
            out = subprocess.run(["grep", "-rcIE", "--null"] + flags + [pat, self.tree],
                                 capture_output=True).stdout
            want = {}
            for line in out.splitlines():
                path, count = line.split(b"\0")
                if int(count):
                    want[path] = int(count)
            res = self.call(rp.GREP, ("PATH", self.tree), ("PATTERN", pat),
                            ("GREP_MODE", 2), *fields)
            self.assertEqual({e.bytes("PATH"): e.int("COUNT") for e in records(res)},
                             want, pat)
        # the cap counts files in these modes
        res = self.call(rp.GREP, ("PATH", self.tree), ("PATTERN", "a"), ("GREP_MODE", 1),
                        ("MAX_RESULTS", 3))
        self.assertEqual(len(records(res)), 3)
        self.assertEqual(res.fields.int("TRUNCATED"), 1)
        self.assertEqual(3 + res.fields.int("MORE"), len(records(self.call(
            rp.GREP, ("PATH", self.tree), ("PATTERN", "a"), ("GREP_MODE", 1)))))

    def test_grep_max_line_and_more(self):
        d = self.mkdtemp()
        open(d + "/long", "w").write("x" * 100 + "needle" + "y" * 50 + "\nshort needle\n")
        res = self.call(rp.GREP, ("PATH", d), ("PATTERN", "needle"), ("MAX_LINE", 40))
        recs = records(res)
        self.assertEqual([e.bytes("TEXT") for e in recs], [b"x" * 40, b"short needle"])
        self.assertEqual([e.int("TRUNCATED", 0) for e in recs], [1, 0])
        self.assertEqual(recs[0].int("SIZE"), 156)
        self.assertFalse(recs[1].has("SIZE"))
        res = self.call(rp.GREP, ("PATH", self.tree), ("PATTERN", "a"))
        total = res.fields.int("COUNT")
        res = self.call(rp.GREP, ("PATH", self.tree), ("PATTERN", "a"), ("MAX_RESULTS", 7))
        self.assertEqual(res.fields.int("COUNT"), 7)
        self.assertEqual(res.fields.int("MORE"), total - 7)

    def test_grep_max_results(self):
        res = self.call(rp.GREP, ("PATH", self.tree), ("PATTERN", "a"), ("MAX_RESULTS", 7))
        self.assertEqual(len(records(res)), 7)
        self.assertEqual(res.fields.int("TRUNCATED"), 1)

    def test_grep_single_file(self):
        p = self.tree + "/one.txt"
        open(p, "w").write("x\nyes\nno\nyes")
        res = self.call(rp.GREP, ("PATH", p), ("PATTERN", "yes"))
        self.assertEqual([(e.int("LINE"), e.bytes("TEXT")) for e in records(res)],
                         [(2, b"yes"), (4, b"yes")])
        os.unlink(p)

    def find_oracle(self, args):
        out = subprocess.run(["find", self.tree] + args, capture_output=True).stdout
        return sorted(out.splitlines())

    def run_find(self, fields):
        res = self.call(rp.FIND, ("PATH", self.tree), *fields)
        self.assertTrue(res.ok, res)
        return sorted(e.bytes("PATH") for e in records(res))

    def test_find_vs_gnu(self):
        for gnu, ours in [
            ([], []),
            (["-name", "*.py"], [("GLOB", "*.py")]),
            (["-type", "d"], [("FILE_TYPE", 2)]),
            (["-type", "f", "-name", "f1*"], [("FILE_TYPE", 1), ("GLOB", "f1*")]),
            (["-type", "l"], [("FILE_TYPE", 3)]),
            (["-maxdepth", "1"], [("DEPTH", 1)]),
            (["-maxdepth", "0"], [("DEPTH", 0)]),
            (["-maxdepth", "2", "-name", "d*"], [("DEPTH", 2), ("GLOB", "d*")]),
        ]:
            self.assertEqual(self.run_find(ours), self.find_oracle(gnu), gnu)
        res = self.call(rp.FIND, ("PATH", self.tree), ("MAX_RESULTS", 3))
        self.assertEqual(len(records(res)), 3)
        self.assertEqual(res.fields.int("TRUNCATED"), 1)

    def rel_paths(self, fields):
        n = len(self.tree) + 1
        return sorted(p[n:].decode() for p in self.run_find(fields) if len(p) > n)

    def walk_rel(self):
        out = []
        for dirpath, dirs, files in os.walk(self.tree):
            for name in dirs + files:
                out.append(os.path.relpath(os.path.join(dirpath, name), self.tree))
        return out

    def test_find_path_globs(self):
        # issue 16: GLOB with a '/' matches the path below PATH, "**" crosses
        # directories, braces expand; without '/' it is find's -name
        every = self.walk_rel()
        parts = lambda p: p.split("/")
        cases = [
            ("**/*.py", lambda p: p.endswith(".py")),
            ("*.py", lambda p: p.endswith(".py")),
            ("d0/**/*.c", lambda p: p.startswith("d0/") and p.endswith(".c")),
            ("d1/*.txt", lambda p: len(parts(p)) == 2 and p.startswith("d1/")
             and p.endswith(".txt")),
            ("/d1/*", lambda p: len(parts(p)) == 2 and p.startswith("d1/")),
            ("./d2/**", lambda p: p.startswith("d2/")),
            ("**/d1/*", lambda p: len(parts(p)) > 1 and parts(p)[-2] == "d1"),
            ("*.{py,c}", lambda p: p.endswith((".py", ".c"))),
            ("{d0,d3}/**/f{1,2}*.{txt,c}",
             lambda p: parts(p)[0] in ("d0", "d3") and len(parts(p)) > 1
             and parts(p)[-1][:2] in ("f1", "f2") and p.endswith((".txt", ".c"))),
        ]
        for glob, want in cases:
            self.assertEqual(self.rel_paths([("GLOB", glob)]),
                             sorted(p for p in every if want(p)), glob)
        self.assertTrue(self.rel_paths([("GLOB", "**/*.py")]))
        # NAME is find -name: the name alone, and with GLOB both count
        self.assertEqual(self.rel_paths([("NAME", "f1*")]),
                         sorted(p for p in every if parts(p)[-1].startswith("f1")))
        self.assertErr(self.call(rp.FIND, ("PATH", self.tree), ("NAME", "d1/*")),
                       "E_BAD_PATTERN")
        self.assertEqual(self.rel_paths([("NAME", "*.py"), ("GLOB", "d0/**")]),
                         sorted(p for p in every if p.startswith("d0/") and p.endswith(".py")))
        # two GLOB fields: either matches
        self.assertEqual(self.rel_paths([("GLOB", "*.py"), ("GLOB", "*.c")]),
                         self.rel_paths([("GLOB", "*.{c,py}")]))
        for bad in ("", "/", "{a,b}{c,d}{e,f}{g,h}{i,j}{k,l}{m,n}"):
            self.assertErr(self.call(rp.FIND, ("PATH", self.tree), ("GLOB", bad)),
                           "E_BAD_PATTERN")

    def test_find_sort_mtime_and_more(self):
        files = sorted(p for p in self.walk_rel()
                       if os.path.isfile(os.path.join(self.tree, p))
                       and not os.path.islink(os.path.join(self.tree, p)))
        newest = files[7:12]
        for i, p in enumerate(newest):  # the last one newest
            os.utime(os.path.join(self.tree, p), ns=(0, 4102444800 * 10**9 + i))
        res = self.call(rp.FIND, ("PATH", self.tree), ("FILE_TYPE", 1), ("SORT", 1),
                        ("MAX_RESULTS", 4))
        self.assertTrue(res.ok, res)
        recs = records(res)
        n = len(self.tree) + 1
        self.assertEqual([e.bytes("PATH")[n:].decode() for e in recs], newest[::-1][:4])
        self.assertEqual([e.int("MTIME_NS") for e in recs],
                         [4102444800 * 10**9 + i for i in (4, 3, 2, 1)])
        self.assertEqual(res.fields.int("TRUNCATED"), 1)
        self.assertEqual(res.fields.int("MORE"), len(files) - 4)
        self.assertEqual(res.fields.int("COUNT"), 4)
        # not capped: no MORE; sorted by path is the default
        res = self.call(rp.FIND, ("PATH", self.tree), ("FILE_TYPE", 1))
        self.assertEqual(res.fields.int("TRUNCATED"), 0)
        self.assertFalse(res.fields.has("MORE"))
        # random times with ties: the newest k are the first k of the
        # whole order (newer first, then path), whatever k
        d = self.mkdtemp()
        rnd = random.Random(8)
        want = []
        for i in range(60):
            p = "%s/s%d/f%02d" % (d, i % 3, i)
            os.makedirs(os.path.dirname(p), exist_ok=True)
            open(p, "w").close()
            t = rnd.randrange(5) * 10**9
            os.utime(p, ns=(t, t))
            want.append((-t, p))
        want = [p.encode() for _, p in sorted(want)]
        for k in (1, 2, 7, 59, 60, 61):
            res = self.call(rp.FIND, ("PATH", d), ("FILE_TYPE", 1), ("SORT", 1),
                            ("MAX_RESULTS", k))
            self.assertEqual([e.bytes("PATH") for e in records(res)], want[:k], k)
            self.assertEqual(res.fields.int("MORE", 0), max(0, 60 - k))
            self.assertEqual(res.fields.int("TRUNCATED"), int(k < 60))
        # capped by path: the rest is counted, exactly
        res = self.call(rp.FIND, ("PATH", self.tree), ("FILE_TYPE", 1), ("MAX_RESULTS", 10))
        self.assertEqual(res.fields.int("MORE"), len(files) - 10)

    def test_diff_vs_gnu_and_patch(self):
        rnd = random.Random(9)
        d = self.mkdtemp()
        for trial in range(25):
            base = ["line %d %s" % (i, rnd.choice("abc")) for i in range(rnd.randrange(0, 80))]
            new = list(base)
            for _ in range(rnd.randrange(0, 12)):
                op = rnd.random()
                k = rnd.randrange(0, len(new) + 1)
                if op < 0.4 and new and k < len(new):
                    del new[k]
                elif op < 0.8:
                    new.insert(k, "new %d" % rnd.randrange(1000))
                elif new and k < len(new):
                    new[k] = new[k] + " changed"
            a, b = d + "/a%d" % trial, d + "/b%d" % trial
            ta = "\n".join(base) + ("\n" if rnd.random() < 0.7 else "")
            tb = "\n".join(new) + ("\n" if rnd.random() < 0.7 else "")
            if trial == 0:
                ta, tb = "", "x\n"
            open(a, "w").write(ta)
            open(b, "w").write(tb)
            res = self.call(rp.DIFF, ("PATH", a), ("PATH2", b))
            self.assertTrue(res.ok, res)
            ours = res.out()
            gnu = subprocess.run(["diff", "-u", a, b], capture_output=True).stdout
            self.assertEqual(ours == b"", gnu == b"", (ta, tb))
            self.assertEqual(res.fields.int("COUNT") == 0, ta == tb)
            if ta == tb:
                continue
            # Same changed lines as GNU diff (hunk layout may differ).
            def changes(t):
                return sorted(l for l in t.splitlines()[2:] if l[:1] in (b"+", b"-"))
            self.assertEqual(len(changes(ours)), len(changes(gnu)), (ours, gnu))
            c = d + "/patched"
            shutil.copy(a, c)
            p = subprocess.run(["patch", "-s", c], input=ours, capture_output=True)
            self.assertEqual(p.returncode, 0, (p.stderr, ours))
            self.assertEqual(open(c).read(), tb, ours)

    def test_diff_against_text(self):
        # issue 16.7: "what would this edit change": PATH against TEXT
        rnd = random.Random(11)
        d = self.mkdtemp()
        for trial in range(10):
            base = ["line %d %s" % (i, rnd.choice("abc")) for i in range(rnd.randrange(0, 50))]
            new = [l if rnd.random() < 0.8 else l.upper() for l in base]
            if rnd.random() < 0.5:
                new.insert(rnd.randrange(0, len(new) + 1), "inserted")
            a = ("\n".join(base) + "\n") if base else ""
            b = "\n".join(new) + ("\n" if rnd.random() < 0.7 else "")
            open(d + "/a", "w").write(a)
            open(d + "/b", "w").write(b)
            res = self.call(rp.DIFF, ("PATH", d + "/a"), ("TEXT", b))
            self.assertTrue(res.ok, res)
            want = subprocess.run(["diff", "-u", "--label", d + "/a", "--label", d + "/a",
                                   d + "/a", d + "/b"], capture_output=True).stdout
            self.assertEqual(res.out(), want, trial)
            self.assertEqual(res.fields.int("COUNT") == 0, a == b)
        res = self.call(rp.DIFF, ("PATH", d + "/a"), ("TEXT", open(d + "/a").read()))
        self.assertEqual((res.out(), res.fields.int("COUNT")), (b"", 0))
        res = self.call(rp.DIFF, ("PATH", d + "/a"), ("TEXT", ""))
        self.assertTrue(res.out().startswith(("--- %s\n+++ %s\n" % (d + "/a", d + "/a")).encode())
                        or open(d + "/a").read() == "")
        self.assertErr(self.call(rp.DIFF, ("PATH", d + "/none"), ("TEXT", "x")), "E_NOT_FOUND")
        self.assertErr(self.call(rp.DIFF, ("PATH", d + "/a")), "E_BAD_REQUEST")

    def test_walk_does_not_stall_the_loop(self):
        # A GREP whose output the client does not read: the helper blocks
        # on its pipe, the loop keeps answering, CANCEL kills the helper.
        c = self.r.client()
        c.auto_window = False
        big = self.mkdtemp()
        for i in range(40):
            open("%s/f%d" % (big, i), "w").write("match me\n" * 20000)
        sid = c.send(rp.GREP, [("PATH", big), ("PATTERN", "match")])
        time.sleep(0.3)
        self.assertTrue(self.helpers(), "the helper runs")
        for _ in range(20):
            self.assertTrue(self.r.client().call(rp.PING, timeout=5).ok)
        c.cancel(sid)
        res = c.wait(sid, 20)
        self.assertEqual(res.code_name, "E_CANCELLED")
        self.wait_no_helpers()
        # disconnect mid-walk kills it as well
        c2 = self.r.client()
        c2.auto_window = False
        c2.send(rp.GREP, [("PATH", big), ("PATTERN", "match")])
        time.sleep(0.2)
        c2.close()
        c.close()
        self.wait_no_helpers()
        self.assertAlive()

    def helpers(self):
        """The runner's children that are forks of it (not shells)."""
        pid = self.r.pid()
        out = []
        for k in open("/proc/%d/task/%d/children" % (pid, pid)).read().split():
            try:
                if open("/proc/%s/comm" % k).read().strip().startswith(("runner", "memcheck")):
                    out.append(k)
            except OSError:
                pass
        return out

    def wait_no_helpers(self):
        deadline = time.time() + 10
        while self.helpers() and time.time() < deadline:
            time.sleep(0.05)
        self.assertEqual(self.helpers(), [], "the helper was killed")


class TestIgnore(FsCase):
    """IGNORE against git itself: FIND with IGNORE lists exactly what
    `git ls-files --others --cached --exclude-standard` lists, on random
    trees with nested .gitignore files (negation, directory-only and
    anchored rules, **), .git/info/exclude, and from a subdirectory."""

    RULES = ["*.pyc", "*.log", "!keep.log", "build/", "/build", "node_modules",
             "*.tmp", "!important.tmp", "doc/*.txt", "**/gen/*.c", "a/**/z",
             "sub*/", "/top.txt", "\\#hash", "*.o", "[ab]*.txt", "x?.py",
             "cache/**", "**/deep", "!deep", "# a comment", "", "notes.txt   ",
             "!/a.txt", "src/*/", "z", "!z/", ".env", "!.keep"]
    DIRS = ["build", "node_modules", "src", "doc", "gen", "a", "b", "sub1",
            "subx", "cache", "deep", "z", "logs", ".hidden"]
    FILES = ["a.py", "b.pyc", "x1.py", "keep.log", "err.log", "important.tmp",
             "junk.tmp", "#hash", "top.txt", "notes.txt", "a.txt", "b.txt",
             "m.o", "z", "deep", "lib.c", ".env", ".keep"]

    def git_env(self, home):
        env = dict(os.environ, HOME=home, XDG_CONFIG_HOME=home,
                   GIT_CONFIG_NOSYSTEM="1")
        env.pop("GIT_DIR", None)
        return env

    def make_tree(self, seed):
        rnd = random.Random(seed)
        top = self.mkdtemp()
        home = self.mkdtemp()
        subprocess.run(["git", "init", "-q", top], check=True, env=self.git_env(home))
        dirs = [top]
        for _ in range(rnd.randrange(10, 30)):
            d = os.path.join(rnd.choice(dirs), rnd.choice(self.DIRS))
            os.makedirs(d, exist_ok=True)
            if d not in dirs and d.count("/") - top.count("/") < 5:
                dirs.append(d)
        for d in dirs:
            for name in rnd.sample(self.FILES, rnd.randrange(1, 8)):
                p = os.path.join(d, name)
                if not os.path.isdir(p):
                    open(p, "w").write("x\n")
            if rnd.random() < 0.6:
                rules = rnd.sample(self.RULES, rnd.randrange(1, 10))
                open(os.path.join(d, ".gitignore"), "w").write("\n".join(rules) + "\n")
        open(top + "/.git/info/exclude", "a").write("\n".join(
            rnd.sample(self.RULES, 3)) + "\n")
        return top, home

    def git_files(self, top, home, sub=""):
        out = subprocess.run(["git", "ls-files", "-z", "--others", "--cached",
                              "--exclude-standard", "--", sub or "."],
                             cwd=top, capture_output=True, check=True,
                             env=self.git_env(home)).stdout
        return sorted(p.decode() for p in out.split(b"\0") if p)

    def our_files(self, top, sub="", op=rp.FIND, *extra):
        path = top + ("/" + sub if sub else "")
        res = self.call(op, ("PATH", path), ("IGNORE", 1), ("HIDDEN", 1), *extra)
        self.assertTrue(res.ok, res)
        if op == rp.LS:
            return sorted((sub + "/" if sub else "") + e.bytes("NAME").decode()
                          for e in records(res) if e.int("FILE_TYPE") != 2)
        n = len(top) + 1
        return sorted(e.bytes("PATH")[n:].decode() for e in records(res)
                      if e.int("FILE_TYPE") != 2)

    def test_same_set_as_git(self):
        for seed in range(12):
            top, home = self.make_tree(seed)
            want = self.git_files(top, home)
            self.assertEqual(self.our_files(top), want, "seed %d" % seed)
            self.assertEqual(self.our_files(top, "", rp.LS, ("DEPTH", 100)), want)
            # from below the top: the .gitignore files above still count
            for sub in sorted(set(p.split("/")[0] for p in want if "/" in p))[:3]:
                self.assertEqual(self.our_files(top, sub),
                                 self.git_files(top, home, sub), (seed, sub))

    def test_grep_ls_ignore_hidden_exclude(self):
        top = self.mkdtemp()
        for d in ("src", "build", ".git", "node_modules/m", ".hidden"):
            os.makedirs(top + "/" + d)
        for p in ("src/a.py", "src/b.log", "build/out.py", ".git/config",
                  "node_modules/m/i.js", ".hidden/h.py", "top.py", ".ignored.py"):
            open(top + "/" + p, "w").write("needle\n")
        open(top + "/.gitignore", "w").write("build/\n*.log\n")
        open(top + "/.ignore", "w").write("node_modules\n.ignored.py\n")
        def grep(*extra):
            res = self.call(rp.GREP, ("PATH", top), ("PATTERN", "needle"), *extra)
            self.assertTrue(res.ok, res)
            return sorted(e.bytes("PATH")[len(top) + 1:].decode() for e in records(res))
        self.assertEqual(len(grep()), 8)  # IGNORE is off by default
        self.assertEqual(grep(("IGNORE", 1)), [".hidden/h.py", "src/a.py", "top.py"])
        self.assertEqual(grep(("IGNORE", 1), ("HIDDEN", 0)), ["src/a.py", "top.py"])
        self.assertEqual(grep(("IGNORE", 1), ("EXCLUDE", "src/**"), ("EXCLUDE", ".h*")),
                         ["top.py"])
        self.assertEqual(grep(("EXCLUDE", "*.py")), [".git/config", "node_modules/m/i.js",
                                                      "src/b.log"])
        res = self.call(rp.LS, ("PATH", top), ("IGNORE", 1))
        self.assertEqual(sorted(e.bytes("NAME") for e in records(res)),
                         [b"src", b"top.py"])
        self.assertErr(self.call(rp.LS, ("PATH", top), ("EXCLUDE", "")), "E_BAD_PATTERN")

    def test_ls_max_results_says_more(self):
        d = self.mkdtemp()
        for i in range(30):
            open("%s/f%02d" % (d, i), "w").close()
        res = self.call(rp.LS, ("PATH", d), ("MAX_RESULTS", 10))
        self.assertEqual([e.bytes("NAME") for e in records(res)],
                         [b"f%02d" % i for i in range(10)])
        self.assertEqual(res.fields.int("TRUNCATED"), 1)
        self.assertEqual(res.fields.int("MORE"), 20)
        self.assertEqual(res.fields.int("COUNT"), 10)
        res = self.call(rp.LS, ("PATH", d), ("MAX_RESULTS", 30))
        self.assertEqual(res.fields.int("TRUNCATED"), 0)
        self.assertFalse(res.fields.has("MORE"))


class TestConfined(FsCase):
    """--root: nothing a client names resolves outside."""
    runner_kw = {}

    @classmethod
    def setUpClass(cls):
        cls.base = tempfile.mkdtemp(prefix="fs-root-")
        os.chmod(cls.base, 0o755)
        cls.root = cls.base + "/root"
        cls.outside = cls.base + "/outside"
        os.makedirs(cls.root + "/etc")
        os.makedirs(cls.root + "/work/deep")
        os.makedirs(cls.outside)
        open(cls.root + "/etc/passwd", "w").write("inside\n")
        open(cls.outside + "/secret", "w").write("outside\n")
        open(cls.root + "/work/file", "w").write("hello\n")
        os.symlink("/etc", cls.root + "/work/abs-etc")
        os.symlink("../../../../../../" + cls.outside.lstrip("/") + "/secret",
                   cls.root + "/work/rel-escape")
        os.symlink("hop2", cls.root + "/work/hop1")
        os.symlink("deep/../../../../etc/passwd", cls.root + "/work/hop2")
        os.symlink(cls.outside, cls.root + "/work/abs-out")
        cls.runner_args = ("--root", cls.root)
        super().setUpClass()

    @classmethod
    def tearDownClass(cls):
        super().tearDownClass()
        shutil.rmtree(cls.base, ignore_errors=True)

    def test_paths_are_root_relative(self):
        res = self.call(rp.READ, ("PATH", "/work/file"))
        self.assertEqual(res.out(), b"hello\n")
        res = self.call(rp.READ, ("PATH", "work/file"))
        self.assertEqual(res.out(), b"hello\n")
        res = self.call(rp.LS, ("PATH", "/"))
        self.assertEqual(sorted(e.bytes("NAME") for e in records(res)), [b"etc", b"work"])

    def test_dotdot_is_escape(self):
        for p in ("../outside/secret", "/../outside/secret", "/work/../../outside/secret",
                  "work/deep/../../../x"):
            self.assertErr(self.call(rp.READ, ("PATH", p)), "E_ESCAPE")
        self.assertErr(self.call(rp.MKDIR, ("PATH", "../evil")), "E_ESCAPE")
        self.assertErr(self.call(rp.MOVE, ("PATH", "/work/file"), ("PATH2", "../stolen")),
                       "E_ESCAPE")
        self.assertErr(self.write("../evil", b"x"), "E_ESCAPE")
        self.assertFalse(os.path.exists(self.base + "/evil"))

    def test_symlinks_stay_inside(self):
        # absolute symlink: resolved against the root, not the host
        self.assertEqual(self.call(rp.READ, ("PATH", "/work/abs-etc/passwd")).out(), b"inside\n")
        # relative chain climbing far above: clamped at the root
        for p in ("/work/rel-escape", "/work/abs-out/secret"):
            res = self.call(rp.READ, ("PATH", p))
            self.assertErr(res, "E_NOT_FOUND")
        self.assertEqual(self.call(rp.READ, ("PATH", "/work/hop1")).out(), b"inside\n")
        # writing through an absolute link lands inside the root
        self.assertErr(self.write("/work/abs-out/secret", b"pwned"), "E_NOT_FOUND")
        os.makedirs(self.root + self.outside, exist_ok=True)
        self.assertTrue(self.write("/work/abs-out/secret", b"pwned").ok)
        self.assertEqual(open(self.outside + "/secret").read(), "outside\n")
        self.assertEqual(open(self.root + self.outside + "/secret").read(), "pwned")
        # walks never follow links out
        res = self.call(rp.GREP, ("PATH", "/"), ("PATTERN", "outside"))
        self.assertEqual(records(res), [])
        res = self.call(rp.FIND, ("PATH", "/"), ("GLOB", "secret"))
        self.assertTrue(all(e.bytes("PATH").startswith(b"/") for e in records(res)))
        self.assertEqual(open(self.outside + "/secret").read(), "outside\n")
        self.assertErr(self.call(rp.REMOVE, ("PATH", "/")), "E_BAD_REQUEST")

    def test_relative_link_climbing_above_root_is_clamped_for_every_op(self):
        # Issue 15.3: `..` in a link target stops at the root for WRITE and
        # EDIT exactly as for READ (they used to answer E_ESCAPE).
        os.makedirs(self.root + "/work/deep/er", exist_ok=True)
        open(self.root + "/etc/climbed", "w").write("before\n")
        os.symlink("../../../../../../etc/climbed", self.root + "/work/deep/er/up")
        self.assertEqual(self.call(rp.READ, ("PATH", "/work/deep/er/up")).out(), b"before\n")
        res = self.write("/work/deep/er/up", b"after\n")
        self.assertTrue(res.ok, res)
        self.assertTrue(os.path.islink(self.root + "/work/deep/er/up"))
        self.assertEqual(open(self.root + "/etc/climbed").read(), "after\n")
        res = self.call(rp.EDIT, ("PATH", "/work/deep/er/up"), ("OLD", "after"),
                        ("NEW", "edited"))
        self.assertTrue(res.ok, res)
        self.assertEqual(open(self.root + "/etc/climbed").read(), "edited\n")
        # a link to a directory that climbs, then a name below it
        os.symlink("../../../../../etc", self.root + "/work/deep/er/updir")
        res = self.write("/work/deep/er/updir/fresh", b"new\n")
        self.assertTrue(res.ok, res)
        self.assertEqual(open(self.root + "/etc/fresh").read(), "new\n")
        self.assertFalse(os.path.exists(self.base + "/etc"))

    def test_ignore_files_above_the_start_inside_the_root(self):
        top = self.root + "/repo-ign"
        os.makedirs(top + "/.git")
        os.makedirs(top + "/sub/deeper")
        try:
            open(top + "/.gitignore", "w").write("*.log\n")
            open(top + "/sub/.gitignore", "w").write("deeper/\n")
            for p in ("sub/x.log", "sub/y.txt", "sub/deeper/z.txt"):
                open(top + "/" + p, "w").write("x\n")
            res = self.call(rp.FIND, ("PATH", "/repo-ign/sub"), ("IGNORE", 1),
                            ("FILE_TYPE", 1))
            self.assertEqual([e.bytes("PATH") for e in records(res)],
                             [b"/repo-ign/sub/.gitignore", b"/repo-ign/sub/y.txt"])
        finally:
            shutil.rmtree(top)

    def test_symlink_swapped_mid_call(self):
        # A thread flips a link between a dir inside and the host's outside
        # dir; no read may ever return the outside file.
        os.makedirs(self.root + "/swap/in", exist_ok=True)
        open(self.root + "/swap/in/secret", "w").write("fine\n")
        link = self.root + "/swap/cur"
        stop = threading.Event()

        def flip():
            targets = ["in", self.outside]
            i = 0
            while not stop.is_set():
                tmp = link + ".tmp"
                try:
                    os.symlink(targets[i % 2], tmp)
                    os.rename(tmp, link)
                except OSError:
                    pass
                i += 1

        t = threading.Thread(target=flip)
        t.start()
        try:
            for _ in range(300):
                res = self.call(rp.READ, ("PATH", "/swap/cur/secret"))
                self.assertNotEqual(res.out(), b"outside\n")
                if res.ok:
                    self.assertEqual(res.out(), b"fine\n")
        finally:
            stop.set()
            t.join()
        self.assertAlive()


class TestConfinedFallback(TestConfined):
    """The same escapes with openat2 disabled: the hand-walked resolver."""
    runner_kw = {"env": {"RUNNER_FS_NO_OPENAT2": "1"}}

    @classmethod
    def setUpClass(cls):
        super().setUpClass()


class TestBigFile(FsCase):
    """BIG_MB (default 256; FS_BIG_MB=1024 for the full 1 GB) up and down,
    byte-exact, with the runner's RSS bounded throughout."""

    def test_big_roundtrip(self):
        d = self.mkdtemp()
        p = d + "/big"
        size = BIG_MB << 20
        chunk = bytes(random.Random(3).getrandbits(8) for _ in range(1 << 20))
        c = self.r.client()
        blocking(c)
        base_rss = self.r.rss()
        peak = [0]
        stop = threading.Event()

        def sample():
            while not stop.is_set():
                peak[0] = max(peak[0], self.r.rss())
                time.sleep(0.05)

        th = threading.Thread(target=sample)
        th.start()
        try:
            # upload: frames as large as credit and frame size allow
            sid = c.send(rp.WRITE, [("PATH", p)])
            h = hashlib.sha256()
            sent = 0
            while sent < size:
                while c.credit.get(sid, 0) <= 0:
                    c.recv(30)
                    self.assertIn(sid, c.pending)
                n = min(c.credit[sid], size - sent, (c.max_frame or 65536) - 9, 1 << 20)
                off = sent % len(chunk)
                piece = (chunk[off:] + chunk)[:n]
                h.update(piece)
                c.send_data(sid, piece, fin=sent + n == size, offset=sent)
                sent += n
            res = c.wait(sid, 120)
            self.assertTrue(res.ok, res)
            self.assertEqual(os.path.getsize(p), size)
            # download: frames hashed as they come, credit returned by hand
            sid2 = c.next_stream
            c.next_stream += 1
            req = rp.encode_fields([("PATH", p)])
            c.write_raw(rp.HDR.pack(6 + len(req), sid2, rp.READ, 0) + req)
            h2 = hashlib.sha256()
            got = 0
            while True:
                f = c.recv(60)
                if f.stream != sid2:
                    continue
                if f.type == rp.DATA:
                    ch, off, data = f.data()
                    self.assertEqual(off, got)
                    h2.update(data)
                    got += len(data)
                    c.grant(sid2, len(data))
                elif f.type == rp.RESULT:
                    break
                else:
                    self.fail("READ failed: %r" % f.fields())
        finally:
            stop.set()
            th.join()
        self.assertEqual(got, size)
        self.assertEqual(h2.hexdigest(), h.hexdigest())
        self.assertLess(peak[0] - base_rss, 48 << 20,
                        "runner RSS grew %d bytes" % (peak[0] - base_rss))
        os.unlink(p)


class TestRunnerctl(FsCase):
    def ctl(self, *args, input=None):
        return self.r.ctl(*args, input=input)

    def test_cli(self):
        d = self.mkdtemp()
        r = self.ctl("write", d + "/f", input=b"one\ntwo\nthree\n")
        self.assertEqual(r.returncode, 0, r.stderr)
        r = self.ctl("read", d + "/f", "--lines", "2:3")
        self.assertEqual(r.stdout, b"two\nthree\n")
        r = self.ctl("edit", d + "/f", "two", "TWO")
        self.assertEqual(r.returncode, 0, r.stderr)
        r = self.ctl("grep", "TWO|three", d)
        self.assertEqual(r.stdout, ("%s/f:2:TWO\n%s/f:3:three\n" % (d, d)).encode())
        r = self.ctl("grep", "nomatch", d)
        self.assertEqual(r.returncode, 1)
        r = self.ctl("grep", "a(", d)
        self.assertEqual(r.returncode, 2)
        self.assertIn(b"E_BAD_PATTERN", r.stderr)
        self.assertEqual(len(r.stderr.splitlines()), 1)
        r = self.ctl("read", d + "/none")
        self.assertNotEqual(r.returncode, 0)
        self.assertEqual(r.stderr.count(b"\n"), 1)
        self.assertIn(b"E_NOT_FOUND", r.stderr)
        r = self.ctl("edit", d + "/f", "e", "E")
        self.assertNotEqual(r.returncode, 0)
        self.assertIn(b"E_NOT_UNIQUE", r.stderr)
        self.assertEqual(self.ctl("mkdir", "-p", d + "/x/y").returncode, 0)
        self.assertEqual(self.ctl("mv", d + "/x", d + "/z").returncode, 0)
        r = self.ctl("find", d, "--type", "d")
        self.assertEqual(sorted(r.stdout.splitlines()),
                         sorted(x.encode() for x in (d, d + "/z", d + "/z/y")))
        r = self.ctl("ls", d)
        self.assertIn(b" f\n", r.stdout)
        self.assertEqual(self.ctl("rm", "-r", d + "/z").returncode, 0)
        open(d + "/g", "w").write("one\nTWO\n")
        r = self.ctl("diff", d + "/f", d + "/g")
        self.assertEqual(r.returncode, 1)
        self.assertIn(b"-three\n", r.stdout)
        r = self.ctl("stat", d + "/g")
        self.assertIn(b"size: 8\n", r.stdout)

    def test_cli_agent_flags(self):
        # issue 16: find --glob --ignore --sort mtime, grep -l -c -w
        # --syntax rust, read --numbers, and what a cap left out
        d = self.mkdtemp()
        os.makedirs(d + "/src/pkg")
        os.makedirs(d + "/build")
        files = {"src/a.py": "x = 1\nfoo_bar = 2\n", "src/pkg/b.py": "foo = 3\n",
                 "src/c.txt": "foo\n", "build/gen.py": "foo = 9\n",
                 ".gitignore": "build/\n"}
        for i, (p, text) in enumerate(sorted(files.items())):
            open(d + "/" + p, "w").write(text)
            os.utime(d + "/" + p, ns=(0, (1000 + i) * 10**9))
        r = self.ctl("find", d, "--glob", "src/**/*.py")
        self.assertEqual(r.stdout, ("%s/src/a.py\n%s/src/pkg/b.py\n" % (d, d)).encode())
        # the complaint: --name with a '/' used to find nothing
        r = self.ctl("find", d, "--name", "src/*.py")
        self.assertEqual(r.stdout, ("%s/src/a.py\n" % d).encode())
        r = self.ctl("find", d, "--name", "**/*.py", "--type", "f")
        self.assertEqual(len(r.stdout.splitlines()), 3)
        r = self.ctl("find", d, "--glob", "*.py", "--ignore", "--sort", "mtime")
        self.assertEqual(r.stdout, ("%s/src/pkg/b.py\n%s/src/a.py\n" % (d, d)).encode())
        r = self.ctl("find", d, "--type", "f", "--max", "2")
        self.assertEqual(len(r.stdout.splitlines()), 2)
        self.assertIn(b"3 more not shown", r.stderr)
        self.assertEqual(self.ctl("find", d, "--sort", "size").returncode, 2)
        r = self.ctl("grep", "-l", "foo", d, "--ignore")
        self.assertEqual(sorted(r.stdout.splitlines()),
                         sorted(("%s/%s" % (d, p)).encode()
                                for p in ("src/a.py", "src/pkg/b.py", "src/c.txt")))
        r = self.ctl("grep", "-c", "-w", "foo", d)
        self.assertEqual(sorted(r.stdout.splitlines()),
                         sorted(("%s/%s:1" % (d, p)).encode()
                                for p in ("build/gen.py", "src/pkg/b.py", "src/c.txt")))
        r = self.ctl("grep", "--syntax", "rust", "(?i)FOO\\w* = \\d", d + "/src")
        self.assertEqual(r.stdout, ("%s/src/a.py:2:foo_bar = 2\n%s/src/pkg/b.py:1:foo = 3\n"
                                    % (d, d)).encode())
        r = self.ctl("grep", "-e", "x =", "-e", "foo =", d + "/src")
        self.assertEqual(len(r.stdout.splitlines()), 2)
        r = self.ctl("read", "--numbers", d + "/src/a.py")
        self.assertEqual(r.stdout, b"     1\tx = 1\n     2\tfoo_bar = 2\n")
        r = self.ctl("grep", "-P", "-E", "\\d = \\d", d + "/src")
        self.assertEqual(len(r.stdout.splitlines()), 0)
        r = self.ctl("grep", "-P", "x = \\d", d + "/src")
        self.assertEqual(r.stdout, ("%s/src/a.py:1:x = 1\n" % d).encode())
        r = self.ctl("diff", d + "/src/a.py", "--text", "-", input=b"x = 1\nfoo_bar = 3\n")
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertEqual(r.stdout, ("--- {0}\n+++ {0}\n@@ -1,2 +1,2 @@\n x = 1\n-foo_bar = 2\n"
                                    "+foo_bar = 3\n").format(d + "/src/a.py").encode())
        r = self.ctl("diff", d + "/src/a.py", "--text", "-", input=open(d + "/src/a.py", "rb").read())
        self.assertEqual((r.returncode, r.stdout), (0, b""))
        self.assertEqual(self.ctl("diff", d + "/src/a.py").returncode, 2)
        r = self.ctl("ls", d, "--ignore", "-a")
        self.assertEqual([l.split()[-1] for l in r.stdout.splitlines()],
                         [b".gitignore", b"src"])


if __name__ == "__main__":
    unittest.main()
