"""runner_client.aio: the same API with asyncio.

    from runner_client.aio import Runner
    async with await Runner.connect("unix:/run/runner.sock") as sb:
        r = await sb.exec("make test", timeout=60)
        results = await asyncio.gather(*(sb.exec("true", session=s) for s in names))

One connection, many concurrent awaits: a reader task dispatches frames
to per-stream queues.  Cancelling the task that awaits an operation sends
CANCEL for its stream (the command is interrupted, a foreground process
killed, a walk stopped).
"""
import asyncio
import collections
import os
from typing import (Any, AsyncIterator, Awaitable, Callable, Deque, Dict, Generic, Iterable,
                    List, Mapping, Optional, Sequence, Tuple, TypeVar, Union)

from . import _ops as ops
from . import _wire as w
from ._conn import _FATAL, MAX_FRAME, SOFTWARE, WINDOW
from ._dial import DialError, dial, parse, resolve_target, resolve_token
from .errors import ConnectionClosed, ProtocolError, RunnerError, Timeout, from_fields
from .types import (Entry, ExecResult, Info, Match, ProcessResult, ReadResult, SessionInfo,
                    Stat, Stats, Summary, WriteResult, session_infos)

T = TypeVar("T")
PathLike = Union[str, bytes, "os.PathLike[str]"]
Data = Union[bytes, bytearray, memoryview, str]


class _AStream:
    __slots__ = ("id", "conn", "items", "ready", "credit", "credit_ev", "done", "owed", "sent",
                 "session", "ended", "detached")

    def __init__(self, conn: "Connection", sid: int, credit: int):
        self.id = sid
        self.conn = conn
        self.items: Deque[tuple] = collections.deque()
        self.ready = asyncio.Event()
        self.credit = credit
        self.credit_ev = asyncio.Event()
        self.done = False
        self.owed = 0
        self.sent = 0
        self.session: Optional[str] = None  # EXEC: the session it runs in
        self.ended = asyncio.Event()         # set with the terminal frame
        self.detached = False                # DETACH: close() leaves it running

    def push(self, item: tuple) -> None:
        if item[0] in ("R", "X", "C"):
            self.done = True
            self.credit_ev.set()
            self.ended.set()
        self.items.append(item)
        self.ready.set()

    async def get(self) -> tuple:
        while not self.items:
            if self.done:
                raise ProtocolError("stream %d has already ended" % self.id)
            if self.owed:
                await self.conn._credit_back(self)
            self.ready.clear()
            try:
                await self.ready.wait()
            except asyncio.CancelledError:
                self.cancel()
                raise
        item = self.items.popleft()
        if item[0] == "D" and item[3]:
            self.owed += len(item[3])
            if self.owed >= WINDOW // 4:
                await self.conn._credit_back(self)
        return item

    async def send_data(self, data: bytes, fin: bool = False) -> None:
        view = memoryview(data)
        limit = min(self.conn.peer_max_frame - 9, 1 << 20)
        while True:
            while self.credit <= 0 and not self.done and view:
                self.credit_ev.clear()
                await self.credit_ev.wait()
            if self.done:
                return
            n = min(len(view), self.credit, limit)
            self.credit -= n
            last = n == len(view)
            await self.conn._send(w.data_frame(self.id, view[:n], self.sent, fin and last))
            self.sent += n
            view = view[n:]
            if last:
                return

    def cancel(self) -> None:
        """CANCEL without waiting (safe from a cancelled task).  The next
        EXEC in the same session waits for this one's end (the runner
        frees the session when the cancelled command has stopped)."""
        if not self.done:
            self.conn._send_nowait(w.cancel_frame(self.id))
            if self.session is not None:
                self.conn.cancelling[self.session] = self


def _terminal_error(item: tuple) -> RunnerError:
    if item[0] == "X":
        return from_fields(w.Fields(item[1]))
    if item[0] == "C":
        return item[1]
    return ProtocolError("unexpected item %r" % (item[0],))


async def _finish(s: _AStream, on_item: Optional[Callable[[tuple], None]] = None) -> w.Fields:
    """To the terminal frame; RESULT fields or raise.  Cancellation of the
    awaiting task sends CANCEL (in _AStream.get) and propagates."""
    while True:
        item = await s.get()
        if item[0] == "R":
            return w.Fields(item[1])
        if item[0] in ("X", "C"):
            raise _terminal_error(item)
        if on_item is not None:
            on_item(item)


class Connection:
    def __init__(self, reader: asyncio.StreamReader, writer: Any, proc: Any = None):
        self._r = reader
        self._w = writer
        self._proc = proc
        self._streams: Dict[int, _AStream] = {}
        self._next = 0
        self._closed: Optional[RunnerError] = None
        self._task: Optional["asyncio.Task[None]"] = None
        self.cancelling: Dict[str, _AStream] = {}
        self.keepalive: Optional[float] = None
        self._pinger: "Optional[asyncio.Future[None]]" = None
        self._last_io = 0.0
        self._wlock = asyncio.Lock()
        self.peer_max_frame = w.MAX_FRAME_MIN
        self.peer_window = 262144
        self.features: List[str] = []
        self.software = ""
        self.hello: Optional[w.Fields] = None

    async def _read_frame(self) -> Tuple[int, int, int, bytes]:
        hdr = await self._r.readexactly(10)
        length, sid, typ, flags = w.HDR.unpack(hdr)
        if length < 6 or length - 6 > MAX_FRAME:
            raise ProtocolError("bad frame length %d from the runner" % length)
        payload = await self._r.readexactly(length - 6) if length > 6 else b""
        return sid, typ, flags, payload

    async def _keepalive(self, every: float) -> None:
        """PING a connection silent for `every` seconds; no answer within
        another `every` closes it (every waiter gets ConnectionClosed)."""
        loop = asyncio.get_running_loop()
        while self._closed is None:
            await asyncio.sleep(every / 2)
            if loop.time() - self._last_io < every or self._closed is not None:
                continue
            try:
                s = await self.open(w.PING, b"")
                await asyncio.wait_for(s.ended.wait(), every)
            except asyncio.TimeoutError:
                self._fail(ConnectionClosed("no answer to a keepalive PING within %ss" % every))
                try:
                    self._w.close()
                except (OSError, RuntimeError):
                    pass  # already closed
                return
            except RunnerError:
                return

    async def handshake(self, token: Optional[bytes], timeout: float) -> None:
        fields = [("VERSION", w.VERSION), ("SOFTWARE", SOFTWARE), ("MAX_FRAME", MAX_FRAME),
                  ("WINDOW", WINDOW), ("TOKEN", token)]
        self._w.write(w.frame(0, w.HELLO, w.encode(fields)))
        try:
            sid, typ, _, payload = await asyncio.wait_for(self._read_frame(), timeout)
        except asyncio.IncompleteReadError:
            raise ConnectionClosed("the runner closed the connection during HELLO") from None
        except asyncio.TimeoutError:
            raise ConnectionClosed("no HELLO from the runner within %ss" % timeout) from None
        if typ == w.ERROR:
            raise from_fields(w.Fields(payload))
        if typ != w.HELLO or sid != 0:
            raise ProtocolError("expected HELLO, got frame type 0x%02x" % typ)
        self._last_io = asyncio.get_running_loop().time()
        h = self.hello = w.Fields(payload)
        self.peer_max_frame = h.int("MAX_FRAME", w.MAX_FRAME_MIN)
        self.peer_window = h.int("WINDOW", 262144)
        self.software = h.str("SOFTWARE", "")
        self.features = h.strs("FEATURE")
        self._task = asyncio.ensure_future(self._read_loop())
        if self.keepalive:
            self._pinger = asyncio.ensure_future(self._keepalive(self.keepalive))

    async def _read_loop(self) -> None:
        err: RunnerError = ConnectionClosed("the runner closed the connection")
        loop = asyncio.get_running_loop()
        try:
            while True:
                f = await self._read_frame()
                self._last_io = loop.time()
                self._dispatch(*f)
        except asyncio.IncompleteReadError:
            pass
        except asyncio.CancelledError:
            err = ConnectionClosed("connection closed by the client")
        except RunnerError as e:
            err = e
        except OSError as e:
            err = ConnectionClosed("receive failed: %s" % (e.strerror or e))
        self._fail(err)

    def _dispatch(self, sid: int, typ: int, flags: int, payload: bytes) -> None:
        if sid == 0:
            if typ == w.ERROR:
                e = from_fields(w.Fields(payload))
                if e.code in _FATAL or e.code == 12:
                    raise ConnectionClosed("runner closed the connection: %s" % e,
                                           code=e.code, errno=e.errno)
            return
        s = self._streams.get(sid)
        if s is None:
            return
        if typ == w.WINDOW:
            if len(payload) == 4:
                s.credit += w.U32.unpack(payload)[0]
                s.credit_ev.set()
        elif typ == w.DATA:
            if len(payload) < 9:
                raise ProtocolError("DATA frame without its 9-byte prefix")
            ch, off = w.DATA_PREFIX.unpack_from(payload)
            s.push(("D", ch, off, payload[9:], bool(flags & w.FIN)))
        elif typ == w.EVENT:
            s.push(("E", w.Fields(payload)))
        elif typ in (w.RESULT, w.ERROR):
            del self._streams[sid]
            s.push(("R" if typ == w.RESULT else "X", payload))

    def _fail(self, err: RunnerError) -> None:
        if self._closed is None:
            self._closed = err
        streams = list(self._streams.values())
        self._streams.clear()
        for s in streams:
            s.push(("C", self._closed))

    async def _send(self, b: bytes) -> None:
        if self._closed is not None:
            raise self._closed
        try:
            self._w.write(b)
            await self._w.drain()
            self._last_io = asyncio.get_running_loop().time()
        except (OSError, RuntimeError) as e:
            self._fail(ConnectionClosed("send failed: %s" % (e,)))
            raise self._closed from None  # type: ignore[misc]

    def _send_nowait(self, b: bytes) -> None:
        if self._closed is None:
            try:
                self._w.write(b)
            except (OSError, RuntimeError):
                pass  # gone: the stream ends with ConnectionClosed anyway

    async def _credit_back(self, s: _AStream) -> None:
        n, s.owed = s.owed, 0
        if n and not s.done:
            self._send_nowait(w.window_frame(s.id, n))

    async def open(self, type_: int, payload: bytes, extra_credit: int = 0) -> _AStream:
        if self._closed is not None:
            raise self._closed
        if len(payload) > self.peer_max_frame:
            raise ValueError("request of %d bytes exceeds the runner's frame limit %d"
                             % (len(payload), self.peer_max_frame))
        sid = self._next
        while True:
            sid = sid % 0xFFFFFFFF + 1
            if sid not in self._streams:
                break
        self._next = sid
        s = _AStream(self, sid, self.peer_window + extra_credit)
        self._streams[sid] = s
        await self._send(w.frame(sid, type_, payload))
        return s

    @property
    def closed(self) -> bool:
        return self._closed is not None

    async def close(self) -> None:
        if self._closed is None:
            for sid, st in list(self._streams.items()):
                if not st.detached:
                    self._send_nowait(w.cancel_frame(sid))
        self._fail(ConnectionClosed("connection closed by the client"))
        try:
            if self._w.can_write_eof():
                self._w.write_eof()
            self._w.close()
        except (OSError, RuntimeError):
            pass  # already closed
        if self._pinger is not None:
            self._pinger.cancel()
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass  # we cancelled it
        if self._proc is not None:
            try:
                await asyncio.wait_for(self._proc.wait(), 10)
            except asyncio.TimeoutError:
                self._proc.kill()
                await self._proc.wait()


async def _dial(target: str, context: Optional[str], timeout: float) -> Connection:
    spec = parse(target, context)
    if spec[0] == "cmd":
        try:
            proc = await asyncio.create_subprocess_exec(
                *spec[1], stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
                start_new_session=True)
        except OSError as e:
            raise DialError(e.errno, "cannot connect to %s: %s" % (target, e.strerror)) from None
        assert proc.stdout is not None
        return Connection(proc.stdout, proc.stdin, proc)
    t = await asyncio.get_running_loop().run_in_executor(None, dial, target, context, timeout)
    sock = t.sock
    t.sock = None  # asyncio owns it now
    if spec[0] in ("unix", "fc"):
        r, wr = await asyncio.open_unix_connection(sock=sock, limit=MAX_FRAME + 64)
    else:
        r, wr = await asyncio.open_connection(sock=sock, limit=MAX_FRAME + 64)
    return Connection(r, wr)


class ExecStream:
    """``async for chunk in st``; ``st.result`` at the end."""

    def __init__(self, s: _AStream):
        self._s = s
        self.result: Optional[ExecResult] = None
        self.waiting_input = False  # EVENT WAITING_INPUT since the last output

    def __aiter__(self) -> AsyncIterator[bytes]:
        return self._gen()

    async def _gen(self) -> AsyncIterator[bytes]:
        while self.result is None:
            item = await self._s.get()
            if item[0] == "E" and item[1].int("EVENT") == w.EV_WAITING_INPUT:
                self.waiting_input = True
                yield b""  # so a loop can look at .waiting_input now
            elif item[0] == "D":
                if item[3]:
                    self.waiting_input = False
                    yield item[3]
            elif item[0] == "R":
                self.result = ExecResult.from_fields(w.Fields(item[1]), output=b"")
            elif item[0] in ("X", "C"):
                raise _terminal_error(item)

    async def read(self) -> bytes:
        return b"".join([c async for c in self])

    async def write(self, data: Data) -> None:
        await self._s.send_data(w.to_bytes(data))

    async def close_stdin(self) -> None:
        await self._s.send_data(b"", fin=True)

    def cancel(self) -> None:
        self._s.cancel()

    async def __aenter__(self) -> "ExecStream":
        return self

    async def __aexit__(self, *exc: Any) -> None:
        if self.result is None:
            self._s.cancel()


class Records(Generic[T]):
    def __init__(self, s: Awaitable[_AStream], make: Callable[[w.Fields], T]):
        self._open = s
        self._make = make
        self.summary: Optional[Summary] = None

    def __aiter__(self) -> AsyncIterator[T]:
        return self._gen()

    async def _gen(self) -> AsyncIterator[T]:
        s = await self._open
        buf = bytearray()
        try:
            while self.summary is None:
                item = await s.get()
                if item[0] == "D":
                    buf += item[3]
                    for rec in w.split_records(buf):
                        yield self._make(w.Fields(rec))
                elif item[0] == "R":
                    self.summary = Summary.from_fields(w.Fields(item[1]))
                elif item[0] in ("X", "C"):
                    raise _terminal_error(item)
        finally:
            if self.summary is None:
                s.cancel()

    async def list(self) -> List[T]:
        return [x async for x in self]


class Process:
    def __init__(self, runner: "Runner", pid: int, background: bool,
                 stream: Optional[_AStream] = None):
        self._r = runner
        self.pid = pid
        self.background = background
        self._s = stream
        self.stdout = b""
        self.stderr = b""
        self.result: Optional[ProcessResult] = None
        self._waiter: "Optional[asyncio.Future[w.Fields]]" = None

    def _take(self, item: tuple) -> None:
        if item[0] == "D":
            if item[1] == 1:
                self.stdout += item[3]
            elif item[1] == 2:
                self.stderr += item[3]

    async def wait(self, timeout: Optional[float] = None) -> ProcessResult:
        """Until it exits.  A timeout raises errors.Timeout and leaves the
        process running; cancelling the awaiting task kills a foreground
        process (CANCEL of its stream)."""
        if self.result is not None:
            return self.result
        if self._s is not None:
            if self._waiter is None:
                self._waiter = asyncio.ensure_future(_finish(self._s, self._take))
            try:
                done, _ = await asyncio.wait({self._waiter}, timeout=timeout)
            except asyncio.CancelledError:
                self._waiter.cancel()  # its stream's get() sends CANCEL
                raise
            if not done:
                raise Timeout("process %d still runs after %ss" % (self.pid, timeout))
            f = self._waiter.result()
        else:
            f = await self._r._call(w.PROC_WAIT, [("PID", self.pid),
                                                  ("TIMEOUT_MS", ops._ms(timeout))])
        self.result = ProcessResult.from_fields(f)
        return self.result

    async def output(self, since: Union[int, Tuple[int, int]] = 0) -> "Tuple[bytes, bytes]":
        """Background: (stdout, stderr) buffered from ``since`` (no follow)."""
        t, f = ops.attach_req(self.pid, since, False)
        out: Dict[int, bytearray] = {1: bytearray(), 2: bytearray()}
        await _finish(await self._r._open(t, f),
                      lambda it: out[it[1]].extend(it[3]) if it[0] == "D" and it[1] in out
                      else None)
        return bytes(out[1]), bytes(out[2])

    async def signal(self, sig: Union[int, str] = "TERM") -> None:
        await self._r._call(w.PROC_SIGNAL, [("PID", self.pid), ("SIGNAL", ops.signum(sig))])

    async def kill(self) -> None:
        await self.signal(9)

    async def write(self, data: Data) -> None:
        if self._s is not None and not self._s.done:
            await self._s.send_data(w.to_bytes(data))
        else:
            await self._r._call(w.PROC_STDIN, [("PID", self.pid), ("DATA", w.to_bytes(data))])

    async def close_stdin(self) -> None:
        if self._s is not None and not self._s.done:
            await self._s.send_data(b"", fin=True)
        else:
            await self._r._call(w.PROC_CLOSE_STDIN, [("PID", self.pid)])


class Session:
    def __init__(self, runner: "Runner", name: str):
        self._r = runner
        self.name = name

    async def exec(self, command: Union[str, bytes], **kw: Any) -> ExecResult:
        return await self._r.exec(command, session=self.name, **kw)

    async def exec_stream(self, command: Union[str, bytes], **kw: Any) -> ExecStream:
        return await self._r.exec_stream(command, session=self.name, **kw)

    async def exec_wait(self, yield_after: Optional[float] = None) -> ExecResult:
        return await self._r.exec_wait(self.name, yield_after)

    async def write_stdin(self, data: Data, eof: bool = False) -> None:
        await self._r._call(w.SHELL_STDIN, [("SESSION", self.name), ("DATA", w.to_bytes(data)),
                                            ("EOF", 1 if eof else None)])

    async def resize(self, rows: int, cols: int) -> None:
        await self._r._call(w.SHELL_RESIZE, [("SESSION", self.name), ("ROWS", rows),
                                             ("COLS", cols)])

    async def signal(self, sig: Union[int, str] = "INT") -> None:
        await self._r._call(w.SHELL_SIGNAL, [("SESSION", self.name),
                                             ("SIGNAL", ops.signum(sig))])

    async def close(self) -> None:
        await self._r._call(w.SHELL_CLOSE, [("SESSION", self.name)])


class Files:
    def __init__(self, runner: "Runner"):
        self._r = runner

    async def read_full(self, path: PathLike, *, offset: Optional[int] = None,
                        length: Optional[int] = None, line_from: Optional[int] = None,
                        line_to: Optional[int] = None, max_bytes: Optional[int] = None,
                        line_numbers: bool = False, max_line: Optional[int] = None,
                        binary_check: bool = False) -> ReadResult:
        t, f = ops.read_req(os.fspath(path), offset, length, line_from, line_to, max_bytes,
                            line_numbers, max_line, binary_check)
        data = bytearray()
        r = await _finish(await self._r._open(t, f),
                          lambda it: data.extend(it[3]) if it[0] == "D" else None)
        return ReadResult(data=bytes(data), size=r.int("SIZE", 0), mode=r.int("FILE_MODE", 0),
                          mtime_ns=r.int("MTIME_NS", 0), truncated=r.bool("TRUNCATED"),
                          total_lines=r.int("TOTAL_LINES"), binary=r.bool("BINARY"))

    async def read(self, path: PathLike, **kw: Any) -> bytes:
        return (await self.read_full(path, **kw)).data

    async def read_stream(self, path: PathLike, *, offset: Optional[int] = None,
                          length: Optional[int] = None, line_from: Optional[int] = None,
                          line_to: Optional[int] = None,
                          max_bytes: Optional[int] = None) -> AsyncIterator[bytes]:
        """``async for chunk in sb.files.read_stream(path)``: a file of any
        size, credited back to the runner as it is consumed."""
        t, f = ops.read_req(os.fspath(path), offset, length, line_from, line_to, max_bytes)
        s = await self._r._open(t, f)
        try:
            while True:
                item = await s.get()
                if item[0] == "D":
                    if item[3]:
                        yield item[3]
                elif item[0] == "R":
                    return
                elif item[0] in ("X", "C"):
                    raise _terminal_error(item)
        finally:
            s.cancel()

    async def exists(self, path: PathLike) -> bool:
        from .errors import NotFound
        try:
            await self.stat(path)
            return True
        except NotFound:
            return False

    async def read_text(self, path: PathLike, **kw: Any) -> str:
        return (await self.read(path, **kw)).decode("utf-8", "replace")

    async def write(self, path: PathLike, data: Union[Data, Iterable[bytes]], *,
                    mode: str = "truncate", create: bool = True, parents: bool = False,
                    atomic: Optional[bool] = None,
                    file_mode: Optional[int] = None) -> WriteResult:
        t, f = ops.write_req(os.fspath(path), mode, create, parents, atomic, file_mode)
        s = await self._r._open(t, f)
        try:
            chunks = [w.to_bytes(data)] if isinstance(data, (str, bytes, bytearray,
                                                             memoryview)) else data
            for chunk in chunks:
                await s.send_data(w.to_bytes(chunk))
                if s.done:
                    break
            await s.send_data(b"", fin=True)
        except BaseException:  # cancelled, or the data source failed: undo
            s.cancel()
            raise
        r = await _finish(s)
        return WriteResult(size=r.int("SIZE", 0), total_bytes=r.int("TOTAL_BYTES", 0),
                           created=r.bool("CREATED"))

    async def edit(self, path: PathLike, old: Union[str, bytes], new: Union[str, bytes],
                   replace_all: bool = False) -> int:
        t, f = ops.edit_req(os.fspath(path), old, new, replace_all)
        return (await self._r._call(t, f)).int("REPLACED", 0)

    def ls(self, path: PathLike, depth: Optional[int] = None, hidden: bool = False, *,
           max_results: Optional[int] = None, ignore: bool = False,
           exclude: Union[None, str, Iterable[str]] = None) -> Records[Entry]:
        """Directory entries (paths relative to ``path``); ignore=True skips
        what .gitignore/.ignore exclude, and .git."""
        t, f = ops.ls_req(os.fspath(path), depth, hidden, max_results, ignore, exclude)
        return Records(self._r._open(t, f), Entry.from_fields)

    def find(self, path: PathLike, glob: Union[None, str, Iterable[str]] = None, *,
             type: Optional[str] = None, depth: Optional[int] = None,
             max_results: Optional[int] = None, hidden: Optional[bool] = None,
             sort: str = "path", ignore: bool = False,
             exclude: Union[None, str, Iterable[str]] = None) -> Records[Entry]:
        """Entries under ``path`` matching a glob: a name (``*.py``) or a
        path below ``path`` (``src/**/*.py``); sort="mtime": newest first."""
        t, f = ops.find_req(os.fspath(path), glob, type, depth, max_results, hidden, sort, ignore,
                            exclude)
        return Records(self._r._open(t, f), Entry.from_fields)

    def grep(self, pattern: Union[str, bytes, Iterable[Union[str, bytes]]], path: PathLike, *,
             fixed: bool = False, ignore_case: bool = False, word: bool = False,
             context: Optional[int] = None, include: Union[None, str, Iterable[str]] = None,
             max_results: Optional[int] = None, hidden: Optional[bool] = None,
             mode: str = "lines", max_line: Optional[int] = None, ignore: bool = False,
             exclude: Union[None, str, Iterable[str]] = None,
             syntax: str = "ere") -> Records[Match]:
        """Lines matching an ERE (several patterns: alternatives) under a
        file or directory; mode="files" (-l) or "count" (-c); syntax="rust"
        adds \\d \\w \\s \\b, (?i) and friends."""
        t, f = ops.grep_req(pattern, os.fspath(path), fixed, ignore_case, context, include,
                            max_results, hidden, word, mode, max_line, ignore, exclude,
                            syntax)
        return Records(self._r._open(t, f), Match.from_fields)

    async def stat(self, path: PathLike) -> Stat:
        return Stat.from_fields(await self._r._call(w.STAT, [("PATH", os.fspath(path))]))

    async def mkdir(self, path: PathLike, parents: bool = False,
                    mode: Optional[int] = None) -> bool:
        f = await self._r._call(w.MKDIR, [("PATH", os.fspath(path)),
                                          ("PARENTS", 1 if parents else None),
                                          ("FILE_MODE", mode)])
        return f.bool("CREATED")

    async def remove(self, path: PathLike, recursive: bool = False) -> None:
        await self._r._call(w.REMOVE, [("PATH", os.fspath(path)),
                                       ("RECURSIVE", 1 if recursive else None)])

    async def move(self, src: PathLike, dst: PathLike) -> None:
        await self._r._call(w.MOVE, [("PATH", os.fspath(src)), ("PATH2", os.fspath(dst))])

    async def diff(self, a: PathLike, b: Optional[PathLike] = None, *,
                   text: Union[None, str, bytes] = None) -> str:
        if (b is None) == (text is None):
            raise TypeError("diff(a, b) or diff(a, text=...)")
        out = bytearray()
        await _finish(await self._r._open(w.DIFF, [("PATH", os.fspath(a)),
                                                   ("PATH2", None if b is None
                                                    else os.fspath(b)),
                                                   ("TEXT", text)]),
                      lambda it: out.extend(it[3]) if it[0] == "D" else None)
        return out.decode("utf-8", "replace")


class Runner:
    """``sb = await Runner.connect(target)``; ``async with sb: ...``"""

    def __init__(self, conn: Connection, target: str = ""):
        self._c = conn
        self.target = target
        self.files = Files(self)
        self.main = Session(self, "main")

    @classmethod
    async def connect(cls, target: Optional[str] = None, *,
                      token: Union[str, bytes, None] = None, token_file: Optional[str] = None,
                      context: Optional[str] = None, keepalive: Optional[float] = 30.0,
                      timeout: float = 30.0) -> "Runner":
        """As runner_client.Runner.connect, awaited."""
        target = resolve_target(target)
        tok = resolve_token(token, token_file)
        c = await _dial(target, context, timeout)
        c.keepalive = keepalive
        try:
            await c.handshake(tok, timeout)
        except BaseException:
            await c.close()
            raise
        return cls(c, target)

    async def _open(self, type_: int, fields: Sequence[Tuple[str, object]]) -> _AStream:
        return await self._c.open(type_, w.encode(fields), ops.extra_window(type_))

    async def _call(self, type_: int, fields: Sequence[Tuple[str, object]] = ()) -> w.Fields:
        return await _finish(await self._open(type_, fields))

    @property
    def features(self) -> List[str]:
        return self._c.features

    @property
    def software(self) -> str:
        return self._c.software

    async def exec(self, command: Union[str, bytes], *, session: str = "main",
                   timeout: Optional[float] = None, output_limit: Optional[int] = None,
                   raw: bool = False, stdin: Optional[Data] = None,
                   cwd: Optional[PathLike] = None,
                   env: Optional[Mapping[str, str]] = None,
                   yield_after: Optional[float] = None, detach: bool = False) -> ExecResult:
        t, f = ops.exec_req(command, session, timeout, output_limit, False,
                            True if raw else None, stdin is not None,
                            None if cwd is None else os.fspath(cwd), env, yield_after, detach)
        s = await self._open_exec(session, t, f)
        s.detached = detach
        if stdin is not None:
            await s.send_data(w.to_bytes(stdin), fin=True)
        return ExecResult.from_fields(await _finish(s))

    async def exec_wait(self, session: str = "main",
                        yield_after: Optional[float] = None) -> ExecResult:
        s = await self._open_exec(session, w.EXEC_WAIT,
                                  [("SESSION", session if session != "main" else None),
                                   ("YIELD_MS", ops._ms(yield_after))])
        return ExecResult.from_fields(await _finish(s))

    async def _open_exec(self, session: str, t: int,
                         f: Sequence[Tuple[str, object]]) -> _AStream:
        prev = self._c.cancelling.pop(session, None)
        if prev is not None and not prev.done:
            try:
                await asyncio.wait_for(prev.ended.wait(), 10)
            except asyncio.TimeoutError:
                pass  # the EXEC below then says E_BUSY: the truth
        s = await self._open(t, f)
        s.session = session
        return s

    async def exec_stream(self, command: Union[str, bytes], *, session: str = "main",
                          timeout: Optional[float] = None, raw: bool = True,
                          stdin: Union[None, bool, Data] = None,
                          cwd: Optional[PathLike] = None,
                          env: Optional[Mapping[str, str]] = None,
                          detach: bool = False) -> ExecStream:
        t, f = ops.exec_req(command, session, timeout, None, True, None if raw else False,
                            stdin is not None and stdin is not False,
                            None if cwd is None else os.fspath(cwd), env, None, detach)
        s = await self._open_exec(session, t, f)
        s.detached = detach
        if stdin is not None and not isinstance(stdin, bool):
            await s.send_data(w.to_bytes(stdin), fin=True)
        return ExecStream(s)

    def session(self, name: str = "main") -> Session:
        return Session(self, name)

    async def open_session(self, name: str, *, shell: Optional[str] = None,
                           env: Optional[Mapping[str, str]] = None,
                           cwd: Optional[PathLike] = None, login: bool = False,
                           rows: Optional[int] = None, cols: Optional[int] = None,
                           keep_options: bool = False) -> Session:
        t, f = ops.shell_open_req(name, shell, env, None if cwd is None else os.fspath(cwd),
                                  login, rows, cols, keep_options)
        await self._call(t, f)
        return Session(self, name)

    async def sessions(self) -> List[SessionInfo]:
        return session_infos(await self._call(w.SHELL_LIST))

    async def spawn(self, argv: Sequence[Union[str, bytes]], *, background: bool = False,
                    env: Optional[Mapping[str, str]] = None, clear_env: bool = False,
                    cwd: Optional[PathLike] = None, pty: bool = False,
                    stdin: bool = False, timeout: Optional[float] = None,
                    output_limit: Optional[int] = None) -> Process:
        t, f = ops.spawn_req(argv, env, clear_env, None if cwd is None else os.fspath(cwd),
                             pty, None, None, stdin, timeout, output_limit, background, False)
        s = await self._open(t, f)
        if background:
            return Process(self, ProcessResult.from_fields(await _finish(s)).pid, True)
        p = Process(self, 0, False, s)
        while True:
            item = await s.get()
            if item[0] == "E" and item[1].int("EVENT") == w.EV_STARTED:
                p.pid = item[1].int("PID", 0)
                return p
            if item[0] == "R":
                p.result = ProcessResult.from_fields(w.Fields(item[1]))
                p.pid = p.result.pid
                return p
            if item[0] in ("X", "C"):
                raise _terminal_error(item)
            p._take(item)

    def process(self, pid: int) -> Process:
        return Process(self, pid, True)

    async def attach(self, pid: int, since: Union[int, Tuple[int, int]] = 0,
                     follow: bool = True) -> AsyncIterator[Tuple[int, bytes]]:
        """``async for channel, data in sb.attach(pid)``: a background
        process's output from offset ``since``, following it to its end."""
        t, f = ops.attach_req(pid, since, follow)
        s = await self._open(t, f)
        try:
            while True:
                item = await s.get()
                if item[0] == "D" and item[3]:
                    yield item[1], item[3]
                elif item[0] == "R":
                    return
                elif item[0] in ("X", "C"):
                    raise _terminal_error(item)
        finally:
            s.cancel()

    async def processes(self) -> List[ProcessResult]:
        return [ProcessResult.from_fields(r) for r in (await self._call(w.PROC_LIST)).records()]

    async def ping(self, data: bytes = b"") -> int:
        return (await self._call(w.PING, [("DATA", data or None)])).int("TIME_NS", 0)

    async def info(self) -> Info:
        return Info.from_fields(await self._call(w.INFO))

    async def stats(self) -> Stats:
        return Stats.from_fields(await self._call(w.STATS))

    async def shutdown(self, grace: Optional[float] = None) -> int:
        f = await self._call(w.SHUTDOWN,
                             [("GRACE_MS", None if grace is None else int(grace * 1000))])
        return f.int("GRACE_MS", 0)

    async def close(self) -> None:
        await self._c.close()

    @property
    def closed(self) -> bool:
        return self._c.closed

    async def __aenter__(self) -> "Runner":
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.close()


connect = Runner.connect

__all__ = ["Runner", "connect", "Session", "Process", "Files", "ExecStream", "Records"]
