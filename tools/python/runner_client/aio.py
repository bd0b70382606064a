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
import os
from typing import (Any, AsyncIterator, Awaitable, Callable, Dict, Generic, Iterable,
                    List, Mapping, Optional, Sequence, Tuple, TypeVar, Union)

from . import _ops as ops
from . import _wire as w
from ._aconn import Connection, _AStream, _dial, terminal_error
from ._conn import item_end
from ._dial import resolve_target, resolve_token
from .errors import Timeout
from .types import (Entry, ExecResult, Info, Match, ProcessResult, ReadResult, SessionInfo,
                    Stat, Stats, Summary, WriteResult, session_infos)

T = TypeVar("T")
PathLike = Union[str, bytes, "os.PathLike[str]"]
Data = Union[bytes, bytearray, memoryview, str]


async def _finish(s: _AStream, on_item: Optional[Callable[[tuple], None]] = None) -> w.Fields:
    """To the terminal frame; RESULT fields or raise.  Cancellation of the
    awaiting task sends CANCEL (in _AStream.get) and propagates."""
    while True:
        item = await s.get()
        end = item_end(item)
        if end is not None:
            return end
        if on_item is not None:
            on_item(item)


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
                raise terminal_error(item)

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
                recs, self.summary = ops.records_step(buf, await s.get(), self._make)
                for rec in recs:
                    yield rec
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

    async def interrupt(self) -> None:
        await self.signal("INT")

    async def cancel(self, grace: Optional[float] = None) -> bool:
        """As Session.cancel: the runner's CANCEL ladder on the running
        command; False when none runs."""
        f = await self._r._call(w.SHELL_SIGNAL, ops.cancel_fields(self.name, grace))
        return bool(f.int("BUSY", 0))

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
        return ReadResult.from_fields(bytes(data), r)

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
                if item_end(item) is not None:
                    return
                if item[0] == "D" and item[3]:
                    yield item[3]
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
        return WriteResult.from_fields(await _finish(s))

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
        return Stat.from_fields(await self._r._call(*ops.stat_req(os.fspath(path))))

    async def mkdir(self, path: PathLike, parents: bool = False,
                    mode: Optional[int] = None) -> bool:
        return (await self._r._call(*ops.mkdir_req(os.fspath(path), parents,
                                                   mode))).bool("CREATED")

    async def remove(self, path: PathLike, recursive: bool = False) -> None:
        await self._r._call(*ops.remove_req(os.fspath(path), recursive))

    async def move(self, src: PathLike, dst: PathLike) -> None:
        await self._r._call(*ops.move_req(os.fspath(src), os.fspath(dst)))

    async def diff(self, a: PathLike, b: Optional[PathLike] = None, *,
                   text: Union[None, str, bytes] = None) -> str:
        t, f = ops.diff_req(os.fspath(a), None if b is None else os.fspath(b), text)
        out = bytearray()
        await _finish(await self._r._open(t, f),
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
        while not ops.spawn_started(p, await s.get()):
            pass
        return p

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
                if item_end(item) is not None:
                    return
                if item[0] == "D" and item[3]:
                    yield item[1], item[3]
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
