"""The sync connection: one transport, frames dispatched to per-stream
queues by whichever waiting thread holds the reader role (see
Connection), credit windows honoured both ways, keepalive PING.

Invariants:
- A stream is in ``_streams`` from the request until its terminal frame
  (RESULT or ERROR) or the end of the connection; then it is gone and its
  id may be reused.
- Credit we grant: the runner may send WINDOW bytes of DATA per stream
  before we return credit; we return it only as the application consumes
  the bytes (``_Stream.get``), so a program whose output nobody reads
  blocks in the sandbox instead of filling this process's memory.
- Credit we hold: DATA we send never exceeds what the runner granted
  (HELLO WINDOW, plus WINDOW frames).
"""
import collections
import contextlib
import select
import threading
import time
from typing import Container, Deque, Dict, Iterator, List, Optional, Tuple

from . import _wire as w
from ._dial import Transport
from .errors import ConnectionClosed, ProtocolError, RunnerError, from_fields

SOFTWARE = "runner-client-python 0.1.0"
WINDOW = 4 << 20       # per-stream credit we grant the runner
MAX_FRAME = 8 << 20    # largest payload we accept
READ_CHUNK = 1 << 20
_FATAL = (1, 2, 4, 5, 6)  # stream-0 ERROR codes after which the runner closes

# queue items: (kind, a, b, c)
#   ("D", channel, offset, bytes, fin)   DATA
#   ("E", Fields)                        EVENT
#   ("R", payload)                       RESULT (terminal)
#   ("X", payload)                       ERROR (terminal)
#   ("C", exception)                     connection closed (terminal)


# ---- pure pieces of the protocol both connections use (_aconn.py too)

def hello_payload(token: Optional[bytes], software: str = SOFTWARE) -> bytes:
    """Our HELLO's fields (§3)."""
    return w.encode([("VERSION", w.VERSION), ("SOFTWARE", software), ("MAX_FRAME", MAX_FRAME),
                     ("WINDOW", WINDOW), ("TOKEN", token)])


def hello_reply(sid: int, typ: int, payload: bytes) -> w.Fields:
    """The fields of the runner's HELLO; raises the ERROR it sent instead,
    or ProtocolError for any other frame."""
    if typ == w.ERROR:
        raise from_fields(w.Fields(payload))
    if typ != w.HELLO or sid != 0:
        raise ProtocolError("expected HELLO, got frame type 0x%02x" % typ)
    return w.Fields(payload)


def check_frame_length(length: int) -> None:
    """A header's length field (bytes after itself) within what we accept."""
    if length < 6 or length - 6 > MAX_FRAME:
        raise ProtocolError("bad frame length %d from the runner" % length)


def check_request_size(payload: bytes, peer_max_frame: int) -> None:
    if len(payload) > peer_max_frame:
        raise ValueError("request of %d bytes exceeds the runner's frame limit %d"
                         % (len(payload), peer_max_frame))


def next_stream_id(last: int, in_use: Container[int]) -> int:
    """The first id after `last` (1 .. 2^32-1, wrapping) no open stream has."""
    sid = last
    while True:
        sid = sid % 0xFFFFFFFF + 1
        if sid not in in_use:
            return sid


def stream0_error(payload: bytes) -> RunnerError:
    """An ERROR on stream 0: raised as ConnectionClosed when the runner
    closes the connection after it, else returned (it concerns no stream
    of ours, e.g. E_STREAM_IN_USE)."""
    e = from_fields(w.Fields(payload))
    if e.code in _FATAL or e.code == 12:
        raise ConnectionClosed("runner closed the connection: %s" % e,
                               code=e.code, errno=e.errno)
    return e


def frame_item(typ: int, flags: int, payload: bytes) -> Optional[tuple]:
    """The queue item of a DATA, EVENT, RESULT or ERROR frame; None for a
    frame type this client does not know (ignored, §13)."""
    if typ == w.DATA:
        if len(payload) < 9:
            raise ProtocolError("DATA frame without its 9-byte prefix")
        ch, off = w.DATA_PREFIX.unpack_from(payload)
        return ("D", ch, off, payload[9:], bool(flags & w.FIN))
    if typ == w.EVENT:
        return ("E", w.Fields(payload))
    if typ == w.RESULT:
        return ("R", payload)
    if typ == w.ERROR:
        return ("X", payload)
    return None


class _Stream:
    __slots__ = ("id", "conn", "cond", "items", "credit", "done", "owed", "sent",
                 "discard", "detached")

    def __init__(self, conn: "Connection", sid: int, credit: int):
        self.id = sid
        self.conn = conn
        self.cond = threading.Condition(threading.Lock())
        self.items: Deque[tuple] = collections.deque()
        self.credit = credit   # DATA bytes we may still send
        self.done = False      # terminal seen (by the reader)
        self.owed = 0          # consumed bytes not yet credited back
        self.sent = 0          # DATA bytes sent (the offset of the next)
        self.discard = False   # nobody waits: drop everything (keepalive)
        self.detached = False  # EXEC with DETACH: close() leaves it running

    def get(self, timeout: Optional[float] = None) -> tuple:
        """Next item; blocks.  DATA consumed here is credited back."""
        if not self.items:
            if self.owed:
                self.conn._credit_back(self)
            with self.cond:  # done and items change together under cond
                ended = self.done and not self.items
            if ended:
                raise ProtocolError("stream %d has already ended" % self.id)
            end = None if timeout is None else time.monotonic() + timeout
            if not self.conn._await(self, lambda: bool(self.items), end):
                raise TimeoutError("no answer on stream %d within %ss" % (self.id, timeout))
        with self.cond:
            if not self.items:  # the connection ended while we waited
                return ("C", self.conn._closed or ConnectionClosed("connection closed"))
            item = self.items.popleft()
        if item[0] == "D" and item[3]:
            self.owed += len(item[3])
            if self.owed >= WINDOW // 4:
                self.conn._credit_back(self)
        return item

    def poll(self) -> Optional[tuple]:
        """Next item if one is queued or readable now, else None."""
        if not self.items:
            if self.done:
                return None
            self.conn._await(self, lambda: bool(self.items), time.monotonic())
            if not self.items:
                return None
        return self.get()

    def send_data(self, data, fin: bool = False, timeout: Optional[float] = None) -> None:
        """Upload/stdin within the runner's credit; waits for WINDOW frames."""
        view = memoryview(bytes(data) if not isinstance(data, (bytes, bytearray)) else data)
        limit = min(self.conn.peer_max_frame - 9, 1 << 20)
        end = None if timeout is None else time.monotonic() + timeout
        while True:
            if self.credit <= 0 and not self.done and view:
                if not self.conn._await(self, lambda: self.credit > 0 or self.done, end):
                    raise TimeoutError("no credit from the runner within %ss" % timeout)
            if self.done:
                return  # the terminal frame says why; the caller reads it
            with self.cond:
                n = min(len(view), self.credit, limit)
                self.credit -= n
            last = n == len(view)
            self.conn._send(w.data_frame(self.id, view[:n], self.sent, fin and last))
            self.sent += n
            view = view[n:]
            if last:
                return

    def cancel(self) -> None:
        if not self.done:
            self.conn._send_quiet(w.cancel_frame(self.id))


class Connection:
    """A protocol connection over a Transport.  Thread-safe.

    Nobody owns the read side: a thread that needs a frame (a reply, credit)
    and finds nobody reading becomes the reader until what it waits for has
    arrived, dispatching every other stream's frames on the way, then hands
    the role to another waiter.  A reply thus reaches its caller without a
    thread switch (a dedicated reader thread cost ~80 us per request).  A
    keepalive thread PINGs a connection that has been silent for
    `keepalive` seconds and closes it when the PING gets no answer.
    """

    def __init__(self, transport: Transport, token: Optional[bytes] = None,
                 keepalive: Optional[float] = 30.0, software: str = SOFTWARE,
                 timeout: float = 30.0):
        self._t = transport
        self._wlock = threading.Lock()
        self._lock = threading.Lock()       # _streams, _next, _waiters
        self._role = threading.Lock()       # held by the thread reading the transport
        self._streams: Dict[int, _Stream] = {}
        self._waiters: Dict[int, _Stream] = {}
        self._next = 0
        self._closed: Optional[RunnerError] = None
        self._buf = bytearray()
        self.last_error: Optional[RunnerError] = None
        self.keepalive = keepalive
        self._last_io = time.monotonic()
        self.hello = self._handshake(token, software, timeout)
        self.peer_max_frame = self.hello.int("MAX_FRAME", w.MAX_FRAME_MIN)
        self.peer_window = self.hello.int("WINDOW", 262144)
        self.max_streams = self.hello.int("MAX_STREAMS", 256)
        self.software = self.hello.str("SOFTWARE", "")
        self.features = self.hello.strs("FEATURE")
        self._track = threading.local()
        self._stop = threading.Event()
        self._pinger: Optional[threading.Thread] = None
        if keepalive:
            self._pinger = threading.Thread(target=self._keepalive_loop, daemon=True,
                                            name="runner-client-keepalive")
            self._pinger.start()

    # ---- HELLO (before anyone else can use the connection)
    def _handshake(self, token: Optional[bytes], software: str, timeout: float) -> w.Fields:
        try:
            self._t.write(w.frame(0, w.HELLO, hello_payload(token, software)))
            return hello_reply(*self._hello_frame(time.monotonic() + timeout))
        except OSError as e:
            self._t.close()
            raise ConnectionClosed("HELLO failed: %s" % (e.strerror or e)) from None
        except RunnerError:
            self._t.close()
            raise

    def _hello_frame(self, end: float) -> Tuple[int, int, bytes]:
        while True:
            f = self._cut_frame()
            if f is not None:
                return f[0], f[1], f[3]
            if not self._fill(end):
                raise ConnectionClosed("no HELLO from the runner within the timeout")
            if self._closed is not None:
                raise ConnectionClosed("the runner closed the connection during HELLO")

    # ---- the transport's read side
    def _cut_frame(self) -> Optional[Tuple[int, int, int, bytes]]:
        buf = self._buf
        if len(buf) < 10:
            return None
        length, sid, typ, flags = w.HDR.unpack_from(buf)
        check_frame_length(length)
        if len(buf) < 4 + length:
            return None
        payload = bytes(buf[10:4 + length])
        del buf[:4 + length]
        return sid, typ, flags, payload

    def _fill(self, end: Optional[float]) -> bool:
        """Read what the transport has; False on timeout.  EOF closes."""
        if end is not None:
            left = end - time.monotonic()
            r, _, _ = select.select([self._t.rfd], [], [], max(0.0, left))
            if not r:
                return False
        chunk = self._t.read(READ_CHUNK)
        if not chunk:
            self._fail(ConnectionClosed("the runner closed the connection"))
            return True
        self._last_io = time.monotonic()
        self._buf += chunk
        return True

    def _await(self, s: _Stream, ready, end: Optional[float]) -> bool:
        """Until ready() or the connection ends; False when `end` passed."""
        while not ready():
            if self._closed is not None:
                return True
            lead = self._role.acquire(blocking=False)  # the common case: nobody reads
            try:
                if not lead:
                    with s.cond:
                        if ready():
                            return True
                        with self._lock:
                            self._waiters[s.id] = s
                        # Registered first, then tried again: a reader that
                        # let go meanwhile either left the role free for us
                        # or finds us in _waiters and wakes us (_wake_all).
                        lead = self._role.acquire(blocking=False)
                        if not lead:
                            left = None if end is None else end - time.monotonic()
                            if left is None or left > 0:
                                s.cond.wait(left)
                    self._unwait(s)
                if lead and not self._lead(ready, end):
                    return ready()
            finally:  # also when Ctrl-C interrupts: never keep the role
                if not lead:
                    self._unwait(s)
                else:
                    self._role.release()
                    self._wake_all()
            if not lead and end is not None and time.monotonic() >= end:
                return ready()
        return True

    def _unwait(self, s: _Stream) -> None:
        with self._lock:
            self._waiters.pop(s.id, None)

    def _wake_all(self) -> None:
        """The reader role is free: every waiter re-checks; one takes it."""
        if not self._waiters:
            # A waiter registers before it tries the role, and the role was
            # released before this check: an empty dict means nobody waits.
            return
        with self._lock:
            waiters = list(self._waiters.values())
        for s in waiters:
            with s.cond:
                s.cond.notify_all()

    def _lead(self, ready, end: Optional[float]) -> bool:
        """As the reader: dispatch frames until ready(); False on timeout."""
        try:
            while not ready():
                f = self._cut_frame()
                if f is not None:
                    self._dispatch(*f)
                    continue
                if self._closed is not None:
                    return True
                if not self._fill(end):
                    return False
        except RunnerError as e:
            self._fail(e)
        except OSError as e:
            self._fail(ConnectionClosed("receive failed: %s" % (e.strerror or e)))
        return True

    def _keepalive_loop(self) -> None:
        assert self.keepalive
        while not self._stop.wait(self.keepalive / 2):
            if self._closed is not None:
                return
            if time.monotonic() - self._last_io < self.keepalive:
                continue
            try:
                s = self.open(w.PING, b"")
                end = time.monotonic() + self.keepalive
                if not self._await(s, lambda: bool(s.items), end):
                    self._fail(ConnectionClosed("no answer to a keepalive PING within %ss"
                                                % self.keepalive))
                    self._t.shutdown()
                    return
                s.items.clear()
            except RunnerError:
                return

    # ---- writing
    def _send(self, b) -> None:
        if self._closed is not None:
            raise self._closed
        try:
            with self._wlock:
                self._t.write(b)
        except OSError as e:
            self._fail(ConnectionClosed("send failed: %s" % (e.strerror or e)))
            raise self._closed from None  # type: ignore[misc]
        self._last_io = time.monotonic()

    def _send_quiet(self, b) -> None:
        try:
            self._send(b)
        except RunnerError:
            pass  # the connection is gone: the stream ends with ConnectionClosed anyway

    def _credit_back(self, s: _Stream) -> None:
        n, s.owed = s.owed, 0
        if n and not s.done:
            self._send_quiet(w.window_frame(s.id, n))

    # ---- streams
    def open(self, type_: int, payload: bytes, extra_credit: int = 0) -> _Stream:
        """Send a request on a fresh stream; returns the stream."""
        check_request_size(payload, self.peer_max_frame)
        with self._lock:
            if self._closed is not None:
                raise self._closed
            sid = self._next = next_stream_id(self._next, self._streams)
            s = _Stream(self, sid, self.peer_window + extra_credit)
            self._streams[sid] = s
        try:
            self._send(w.frame(sid, type_, payload))
        except BaseException:
            with self._lock:
                self._streams.pop(sid, None)
            raise
        track = getattr(self._track, "streams", None)
        if track is not None:
            track.append(s)  # after the request: a CANCEL must not overtake it
        return s

    @contextlib.contextmanager
    def tracking(self, streams: List[_Stream]) -> Iterator[None]:
        """Streams this thread opens meanwhile are appended to `streams`
        (so another thread can cancel a whole tool call)."""
        prev = getattr(self._track, "streams", None)
        self._track.streams = streams
        try:
            yield
        finally:
            self._track.streams = prev

    @property
    def closed(self) -> bool:
        return self._closed is not None

    def open_streams(self) -> int:
        with self._lock:
            return len(self._streams)

    def _dispatch(self, sid: int, typ: int, flags: int, payload: bytes) -> None:
        if sid == 0:
            if typ == w.ERROR:
                self.last_error = stream0_error(payload)
            return
        with self._lock:
            s = self._streams.get(sid)
            if s is not None and typ in (w.RESULT, w.ERROR):
                del self._streams[sid]
        if s is None:
            return  # a WINDOW/DATA crossing a terminal frame
        if typ == w.WINDOW:
            if len(payload) == 4:
                with s.cond:
                    s.credit += w.U32.unpack(payload)[0]
                    s.cond.notify_all()
            return
        item = frame_item(typ, flags, payload)
        if item is None:
            return
        with s.cond:
            if item[0] in ("R", "X"):
                s.done = True
            s.items.append(item)
            s.cond.notify_all()

    def _fail(self, err: RunnerError) -> None:
        with self._lock:
            if self._closed is None:
                self._closed = err
            streams = list(self._streams.values())
            self._streams.clear()
            waiters = list(self._waiters.values())
        for s in streams:
            with s.cond:
                s.done = True
                s.items.append(("C", self._closed))
                s.cond.notify_all()
        for s in waiters:
            with s.cond:
                s.cond.notify_all()

    # ---- closing
    def close(self, cancel: bool = True) -> None:
        """Cancel what still runs (CANCEL per open stream), then close."""
        if self._closed is None and cancel:
            with self._lock:
                open_ids = [i for i, s in self._streams.items() if not s.detached]
            for sid in open_ids:
                self._send_quiet(w.cancel_frame(sid))
        self._stop.set()
        self._fail(ConnectionClosed("connection closed by the client"))
        self._t.shutdown()
        # A thread may still be reading: it sees EOF (socket shut down, or
        # the relay exits on EOF of its stdin) and lets go of the role.
        if self._role.acquire(timeout=5):
            self._role.release()
        else:
            self._t.kill()  # a relay that ignores EOF on its stdin
            if self._role.acquire(timeout=5):
                self._role.release()
        self._t.close()
        if self._pinger is not None and self._pinger is not threading.current_thread():
            self._pinger.join(5)


def item_end(item: tuple) -> Optional[w.Fields]:
    """The RESULT's fields when item ends the stream with one; raises what
    a terminal ERROR or the closed connection stands for; None for the
    items in between (DATA, EVENT)."""
    if item[0] == "R":
        return w.Fields(item[1])
    if item[0] in ("X", "C"):
        raise terminal_error(item)
    return None


def terminal_error(item: tuple) -> RunnerError:
    """The exception a terminal ERROR or connection-closed item stands for."""
    if item[0] == "X":
        return from_fields(w.Fields(item[1]))
    if item[0] == "C":
        return item[1]
    return ProtocolError("unexpected item %r" % (item[0],))

