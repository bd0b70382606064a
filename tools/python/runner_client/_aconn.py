"""The asyncio connection under runner_client.aio: a reader task
dispatching frames to per-stream queues, credit windows both ways, a
keepalive task.  The same invariants as the sync one (_conn.py): a stream
lives from its request to its terminal frame; credit goes back to the
runner only as the application consumes DATA.
"""
import asyncio
import collections
from typing import Deque, Dict, List, Optional, Tuple, Any

from . import _wire as w
from ._conn import (MAX_FRAME, WINDOW, check_frame_length, check_request_size, frame_item,
                    hello_payload, hello_reply, next_stream_id, stream0_error,
                    terminal_error)
from ._dial import DialError, dial, parse
from .errors import ConnectionClosed, ProtocolError, RunnerError


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
        check_frame_length(length)
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
        self._w.write(w.frame(0, w.HELLO, hello_payload(token)))
        try:
            sid, typ, _, payload = await asyncio.wait_for(self._read_frame(), timeout)
        except asyncio.IncompleteReadError:
            raise ConnectionClosed("the runner closed the connection during HELLO") from None
        except asyncio.TimeoutError:
            raise ConnectionClosed("no HELLO from the runner within %ss" % timeout) from None
        h = self.hello = hello_reply(sid, typ, payload)
        self._last_io = asyncio.get_running_loop().time()
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
                stream0_error(payload)  # raises when the runner closes after it
            return
        s = self._streams.get(sid)
        if s is None:
            return
        if typ == w.WINDOW:
            if len(payload) == 4:
                s.credit += w.U32.unpack(payload)[0]
                s.credit_ev.set()
            return
        item = frame_item(typ, flags, payload)
        if item is None:
            return
        if item[0] in ("R", "X"):
            del self._streams[sid]
        s.push(item)

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
        check_request_size(payload, self.peer_max_frame)
        sid = self._next = next_stream_id(self._next, self._streams)
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
