"""The sync API: Runner, Session, Process, Files.

    from runner_client import Runner
    with Runner.connect("docker:box") as sb:
        r = sb.exec("cd /workspace && make test", timeout=60)
        print(r.exit_code, r.cwd, r.output, r.truncated)

Every method is safe to call from several threads at once: each request
is its own stream on the one connection.
"""
import io
import os
from typing import (Any, Callable, Generic, Iterable, Iterator, List, Mapping, Optional,
                    Sequence, Tuple, TypeVar, Union)

from . import _ops as ops
from . import _wire as w
from ._conn import Connection, _Stream, item_end, terminal_error
from ._dial import dial, resolve_target, resolve_token
from .errors import ProtocolError, RunnerError
from .types import (Entry, ExecResult, Info, Match, ProcessResult, ReadResult, SessionInfo,
                    Stat, Stats, Summary, WriteResult, session_infos)

T = TypeVar("T")
PathLike = Union[str, bytes, "os.PathLike[str]"]
Data = Union[bytes, bytearray, memoryview, str]
CANCEL_GRACE = 10.0  # seconds to wait for the ERROR after a CANCEL


def _p(path: PathLike):
    return os.fspath(path)


def _finish(s: _Stream, on_item: Optional[Callable[[tuple], None]] = None,
            timeout: Optional[float] = None) -> w.Fields:
    """Consume a stream to its terminal frame; RESULT fields or raise.
    KeyboardInterrupt (Ctrl-C) cancels the request, then propagates."""
    try:
        while True:
            item = s.get(timeout)
            end = item_end(item)
            if end is not None:
                return end
            if on_item is not None:
                on_item(item)
    except KeyboardInterrupt:
        _cancel_and_drain(s)
        raise


def _cancel_and_drain(s: _Stream) -> None:
    if s.done:
        return  # the terminal frame is in (or through) the queue already
    s.cancel()
    try:
        while True:
            if s.get(CANCEL_GRACE)[0] in ("R", "X", "C"):
                return
    except (TimeoutError, RunnerError):
        return


class ExecStream:
    """Output of one EXEC in stream mode, as it arrives.

        with sb.exec_stream("make") as st:
            for chunk in st:          # bytes
                ...
        st.result                     # ExecResult (output_bytes empty)

    Leaving the ``with`` block (or close()) before the end cancels the
    command.  ``write()``/``close_stdin()`` feed its stdin."""

    def __init__(self, s: _Stream):
        self._s = s
        self.result: Optional[ExecResult] = None
        self.events: List[w.Fields] = []
        self.waiting_input = False  # EVENT WAITING_INPUT since the last output

    def __iter__(self) -> Iterator[bytes]:
        try:
            while self.result is None:
                item = self._s.get()
                kind = item[0]
                if kind == "D":
                    if item[3]:
                        self.waiting_input = False
                        yield item[3]
                elif kind == "E":
                    self.events.append(item[1])
                    if item[1].int("EVENT") == w.EV_WAITING_INPUT:
                        self.waiting_input = True
                        yield b""  # so a loop can look at .waiting_input now
                elif kind == "R":
                    self.result = ExecResult.from_fields(w.Fields(item[1]), output=b"")
                else:
                    raise terminal_error(item)
        except KeyboardInterrupt:
            _cancel_and_drain(self._s)
            raise

    def read(self) -> bytes:
        """Everything up to the end, as bytes."""
        return b"".join(self)

    def write(self, data: Data) -> None:
        self._s.send_data(w.to_bytes(data))

    def close_stdin(self) -> None:
        self._s.send_data(b"", fin=True)

    def cancel(self) -> None:
        self._s.cancel()

    def close(self) -> None:
        if self.result is None and not self._s.done:
            _cancel_and_drain(self._s)

    def __enter__(self) -> "ExecStream":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


class Records(Generic[T]):
    """LS/FIND/GREP records as they arrive (§17.2).  Iterate once;
    ``summary`` (count, truncated) is set at the end; close() cancels."""

    def __init__(self, s: _Stream, make: Callable[[w.Fields], T]):
        self._s = s
        self._make = make
        self.summary: Optional[Summary] = None

    def __iter__(self) -> Iterator[T]:
        buf = bytearray()
        try:
            while self.summary is None:
                recs, self.summary = ops.records_step(buf, self._s.get(), self._make)
                yield from recs
        finally:
            if self.summary is None:
                _cancel_and_drain(self._s)

    def list(self) -> List[T]:
        return list(self)

    def close(self) -> None:
        if self.summary is None and not self._s.done:
            _cancel_and_drain(self._s)

    def __enter__(self) -> "Records[T]":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


class ProcessOutput:
    """Output of a process read with Process.output(): bytes per channel
    and where to continue (``next_offset`` for the next ``since``)."""

    def __init__(self, stdout: bytes, stderr: bytes, next_offset: Tuple[int, int],
                 dropped: int, result: Optional[ProcessResult]):
        self.stdout, self.stderr = stdout, stderr
        self.next_offset = next_offset
        self.dropped = dropped
        self.result = result

    @property
    def text(self) -> str:
        return (self.stdout + self.stderr).decode("utf-8", "replace")

    @property
    def running(self) -> bool:
        return self.result is None or self.result.running

    def __repr__(self) -> str:
        return "ProcessOutput(stdout=%r, stderr=%r, next_offset=%r, running=%r)" % (
            self.stdout[:60], self.stderr[:60], self.next_offset, self.running)


class Process:
    """A process started with Runner.spawn(), or a handle from
    Runner.process(pid) to a background one."""

    def __init__(self, runner: "Runner", pid: int, background: bool,
                 stream: Optional[_Stream] = None):
        self._r = runner
        self.pid = pid
        self.background = background
        self._s = stream           # foreground: the SPAWN stream owns the process
        self._out = {1: bytearray(), 2: bytearray()}
        self._base = {1: 0, 2: 0}  # absolute offset of _out[ch][0]
        self.result: Optional[ProcessResult] = None

    # -- output
    def _take(self, item: tuple) -> None:
        if item[0] == "D" and item[1] in self._out:
            ch, off, data = item[1], item[2], item[3]
            if not self._out[ch] and off > self._base[ch]:
                self._base[ch] = off
            self._out[ch] += data

    def _drain(self, block: bool, timeout: Optional[float] = None) -> None:
        s = self._s
        if s is None or self.result is not None:
            return
        while True:
            item = s.get(timeout) if block else s.poll()
            if item is None:
                return
            end = item_end(item)
            if end is not None:
                self.result = ProcessResult.from_fields(end)
                return
            self._take(item)

    def output(self, since: Union[int, Tuple[int, int]] = 0) -> ProcessOutput:
        """What the process printed from offset ``since`` (one offset for
        both channels, or (stdout, stderr)) up to now; does not wait."""
        s1, s2 = since if isinstance(since, tuple) else (since, since)
        if not self.background:
            self._drain(block=False)
            out = []
            for ch, start in ((1, s1), (2, s2)):
                b = self._out[ch]
                out.append(bytes(b[max(0, start - self._base[ch]):]))
            nxt = (self._base[1] + len(self._out[1]), self._base[2] + len(self._out[2]))
            return ProcessOutput(out[0], out[1], nxt, 0, self.result)
        return self._r._attach_once(self.pid, (s1, s2))

    def __iter__(self) -> Iterator[Tuple[int, bytes]]:
        """(channel, bytes) as the process prints them, until it exits.
        Background processes: attach from offset 0 and follow."""
        if self.background:
            yield from self._r.attach(self.pid)
            return
        s = self._s
        assert s is not None
        try:
            while self.result is None:
                item = s.get()
                end = item_end(item)
                if end is not None:
                    self.result = ProcessResult.from_fields(end)
                elif item[0] == "D":
                    self._take(item)
                    if item[3]:
                        yield item[1], item[3]
        except KeyboardInterrupt:
            _cancel_and_drain(s)
            raise

    @property
    def stdout(self) -> bytes:
        self._drain(block=False)
        return bytes(self._out[1])

    @property
    def stderr(self) -> bytes:
        self._drain(block=False)
        return bytes(self._out[2])

    # -- control
    def wait(self, timeout: Optional[float] = None) -> ProcessResult:
        """Until the process exits (foreground: its output is collected,
        see .stdout/.stderr).  A timeout raises errors.Timeout and leaves
        the process running."""
        if self.result is not None:
            return self.result
        if not self.background:
            try:
                self._drain(block=True, timeout=timeout)
            except TimeoutError:
                from .errors import Timeout
                raise Timeout("process %d still runs after %ss" % (self.pid, timeout)) from None
            except KeyboardInterrupt:
                assert self._s is not None
                _cancel_and_drain(self._s)
                raise
            assert self.result is not None
            return self.result
        f = self._r._call(w.PROC_WAIT, [("PID", self.pid), ("TIMEOUT_MS", ops._ms(timeout))])
        self.result = ProcessResult.from_fields(f)
        return self.result

    def signal(self, sig: Union[int, str] = "TERM") -> None:
        """Signal the process group: 15, "TERM", "SIGKILL", signal.SIGINT..."""
        self._r._call(w.PROC_SIGNAL, [("PID", self.pid), ("SIGNAL", ops.signum(sig))])

    def kill(self) -> None:
        self.signal(9)

    def write(self, data: Data) -> None:
        """Send to stdin (spawned with stdin=True)."""
        if self._s is not None and self.result is None:
            self._s.send_data(w.to_bytes(data))
        else:
            self._r._call(w.PROC_STDIN, [("PID", self.pid), ("DATA", w.to_bytes(data))])

    def close_stdin(self) -> None:
        if self._s is not None and self.result is None:
            self._s.send_data(b"", fin=True)
        else:
            self._r._call(w.PROC_CLOSE_STDIN, [("PID", self.pid)])

    def cancel(self) -> None:
        """Foreground: kill the process group (CANCEL of its stream)."""
        if self._s is not None and self.result is None:
            _cancel_and_drain(self._s)

    def __enter__(self) -> "Process":
        return self

    def __exit__(self, *exc: Any) -> None:
        if not self.background:
            self.cancel()

    def __repr__(self) -> str:
        return "Process(pid=%d, background=%r, result=%r)" % (self.pid, self.background,
                                                              self.result)


class Session:
    """A named shell session (``main`` always exists unless the runner
    was started with --no-default-session)."""

    def __init__(self, runner: "Runner", name: str):
        self._r = runner
        self.name = name

    def exec(self, command: Union[str, bytes], **kw: Any) -> ExecResult:
        return self._r.exec(command, session=self.name, **kw)

    def exec_stream(self, command: Union[str, bytes], **kw: Any) -> ExecStream:
        return self._r.exec_stream(command, session=self.name, **kw)

    def exec_wait(self, yield_after: Optional[float] = None) -> ExecResult:
        return self._r.exec_wait(self.name, yield_after)

    def write_stdin(self, data: Data, eof: bool = False) -> None:
        """Input for the command running in this session (SHELL_STDIN)."""
        self._r._call(w.SHELL_STDIN, [("SESSION", self.name), ("DATA", w.to_bytes(data)),
                                      ("EOF", 1 if eof else None)])

    def resize(self, rows: int, cols: int) -> None:
        self._r._call(w.SHELL_RESIZE, [("SESSION", self.name), ("ROWS", rows), ("COLS", cols)])

    def signal(self, sig: Union[int, str] = "INT") -> None:
        """To the terminal's foreground process group (the running command)."""
        self._r._call(w.SHELL_SIGNAL, [("SESSION", self.name), ("SIGNAL", ops.signum(sig))])

    def interrupt(self) -> None:
        self.signal("INT")

    def cancel(self, grace: Optional[float] = None) -> bool:
        """Stop the command running in this session, whoever started it: the
        runner's CANCEL ladder (SIGINT, then SIGKILL to its process group
        after ``grace`` seconds; the shell survives).  False when the
        session was running no command (nothing is signalled)."""
        f = self._r._call(w.SHELL_SIGNAL, ops.cancel_fields(self.name, grace))
        return bool(f.int("BUSY", 0))

    def close(self) -> None:
        self._r._call(w.SHELL_CLOSE, [("SESSION", self.name)])

    def __enter__(self) -> "Session":
        return self

    def __exit__(self, *exc: Any) -> None:
        try:
            self.close()
        except RunnerError:
            pass  # already closed or the connection is gone: nothing to undo

    def __repr__(self) -> str:
        return "Session(%r)" % self.name


class Files:
    """The eleven file operations (PROTOCOL.md §17).  Paths are str or
    bytes; returned paths are str (os.fsdecode, so they round-trip)."""

    def __init__(self, runner: "Runner"):
        self._r = runner

    def read_stream(self, path: PathLike, *, offset: Optional[int] = None,
                    length: Optional[int] = None, line_from: Optional[int] = None,
                    line_to: Optional[int] = None, max_bytes: Optional[int] = None,
                    line_numbers: bool = False, max_line: Optional[int] = None,
                    binary_check: bool = False) -> "FileReader":
        """READ as chunks.  line_numbers: `cat -n` format; max_line: cut
        longer lines (said in the line); binary_check: no data for a file
        with a NUL in its first 8 KiB (ReadResult.binary)."""
        t, f = ops.read_req(_p(path), offset, length, line_from, line_to, max_bytes,
                            line_numbers, max_line, binary_check)
        return FileReader(self._r._open(t, f))

    def read_full(self, path: PathLike, **kw: Any) -> ReadResult:
        rd = self.read_stream(path, **kw)
        data = b"".join(rd)
        assert rd.fields is not None
        return ReadResult.from_fields(data, rd.fields)

    def read(self, path: PathLike, **kw: Any) -> bytes:
        """The file's bytes (or a byte range, or lines line_from..line_to)."""
        return self.read_full(path, **kw).data

    def read_text(self, path: PathLike, **kw: Any) -> str:
        return self.read(path, **kw).decode("utf-8", "replace")

    def write(self, path: PathLike, data: Union[Data, Iterable[bytes], io.IOBase], *,
              mode: str = "truncate", create: bool = True, parents: bool = False,
              atomic: Optional[bool] = None, file_mode: Optional[int] = None) -> WriteResult:
        """Write bytes, str (UTF-8), a binary file object or an iterable of
        chunks, streamed within the runner's credit.  mode: truncate,
        append, exclusive."""
        t, f = ops.write_req(_p(path), mode, create, parents, atomic, file_mode)
        s = self._r._open(t, f)
        try:
            for chunk in _chunks(data):
                s.send_data(chunk)
                if s.done:
                    break
            s.send_data(b"", fin=True)
        except BaseException:
            # Ctrl-C, or the data source failed: the runner removes the
            # temp file (or truncates an append back) on CANCEL.
            _cancel_and_drain(s)
            raise
        return WriteResult.from_fields(_finish(s))

    def edit(self, path: PathLike, old: Union[str, bytes], new: Union[str, bytes],
             replace_all: bool = False) -> int:
        """Replace ``old`` (must occur exactly once unless replace_all);
        returns the number of replacements.  NotUnique(count)/NotMatched."""
        t, f = ops.edit_req(_p(path), old, new, replace_all)
        return self._r._call(t, f).int("REPLACED", 0)

    def ls(self, path: PathLike, depth: Optional[int] = None, hidden: bool = False, *,
           max_results: Optional[int] = None, ignore: bool = False,
           exclude: Union[None, str, Iterable[str]] = None) -> Records[Entry]:
        """Directory entries (paths relative to ``path``); ignore=True skips
        what .gitignore/.ignore exclude, and .git."""
        t, f = ops.ls_req(_p(path), depth, hidden, max_results, ignore, exclude)
        return Records(self._r._open(t, f), Entry.from_fields)

    def find(self, path: PathLike, glob: Union[None, str, Iterable[str]] = None, *,
             type: Optional[str] = None, depth: Optional[int] = None,
             max_results: Optional[int] = None, hidden: Optional[bool] = None,
             sort: str = "path", ignore: bool = False,
             exclude: Union[None, str, Iterable[str]] = None) -> Records[Entry]:
        """Entries under ``path`` matching a glob: a name (``*.py``) or a
        path below ``path`` (``src/**/*.py``); sort="mtime": newest first."""
        t, f = ops.find_req(_p(path), glob, type, depth, max_results, hidden, sort, ignore,
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
        t, f = ops.grep_req(pattern, _p(path), fixed, ignore_case, context, include,
                            max_results, hidden, word, mode, max_line, ignore, exclude,
                            syntax)
        return Records(self._r._open(t, f), Match.from_fields)

    def stat(self, path: PathLike) -> Stat:
        return Stat.from_fields(self._r._call(*ops.stat_req(_p(path))))

    def exists(self, path: PathLike) -> bool:
        from .errors import NotFound
        try:
            self.stat(path)
            return True
        except NotFound:
            return False

    def mkdir(self, path: PathLike, parents: bool = False,
              mode: Optional[int] = None) -> bool:
        """True if created (False: it existed, with parents=True)."""
        return self._r._call(*ops.mkdir_req(_p(path), parents, mode)).bool("CREATED")

    def remove(self, path: PathLike, recursive: bool = False) -> None:
        self._r._call(*ops.remove_req(_p(path), recursive))

    def move(self, src: PathLike, dst: PathLike) -> None:
        self._r._call(*ops.move_req(_p(src), _p(dst)))

    def diff(self, a: PathLike, b: Optional[PathLike] = None, *,
             text: Union[None, str, bytes] = None) -> str:
        """Unified diff a -> b ("" when equal); with ``text`` instead of b:
        what a would become ("what would this edit change")."""
        s = self._r._open(*ops.diff_req(_p(a), None if b is None else _p(b), text))
        out = bytearray()
        _finish(s, lambda it: out.extend(it[3]) if it[0] == "D" else None)
        return out.decode("utf-8", "replace")


class FileReader:
    """READ as a stream of byte chunks; ``fields`` holds the RESULT."""

    def __init__(self, s: _Stream):
        self._s = s
        self.fields: Optional[w.Fields] = None

    def __iter__(self) -> Iterator[bytes]:
        try:
            while self.fields is None:
                item = self._s.get()
                self.fields = item_end(item)
                if item[0] == "D" and item[3]:
                    yield item[3]
        finally:
            if self.fields is None:
                _cancel_and_drain(self._s)


def _chunks(data: Any) -> Iterator[bytes]:
    if isinstance(data, str):
        yield data.encode()
    elif isinstance(data, (bytes, bytearray, memoryview)):
        yield bytes(data)
    elif hasattr(data, "read"):
        while True:
            b = data.read(1 << 20)
            if not b:
                return
            yield w.to_bytes(b)
    else:
        for b in data:
            yield w.to_bytes(b)


class Runner:
    """One connection to a runner.  ``Runner.connect(target)``; use as a
    context manager, or call close().  Closing cancels what still runs on
    this connection (commands are interrupted, foreground processes
    killed; background processes, sessions and commands started with
    detach=True stay)."""

    def __init__(self, conn: Connection, target: str = ""):
        self._c = conn
        self.target = target
        self.files = Files(self)
        self.main = Session(self, "main")

    @classmethod
    def connect(cls, target: Optional[str] = None, *, token: Union[str, bytes, None] = None,
                token_file: Optional[str] = None, context: Optional[str] = None,
                keepalive: Optional[float] = 30.0, timeout: float = 30.0) -> "Runner":
        """Dial ``target`` (default $RUNNER_CONNECT, then unix:/run/runner.sock)
        and do HELLO.  ``context``: the kubectl context for kubectl: targets.
        ``keepalive``: seconds of silence before a PING (None: off)."""
        target = resolve_target(target)
        tok = resolve_token(token, token_file)
        t = dial(target, context=context, timeout=timeout)
        return cls(Connection(t, token=tok, keepalive=keepalive, timeout=timeout), target)

    # -- plumbing
    def _open(self, type_: int, fields: Sequence[Tuple[str, object]]) -> _Stream:
        return self._c.open(type_, w.encode(fields), ops.extra_window(type_))

    def _call(self, type_: int, fields: Sequence[Tuple[str, object]] = (),
              timeout: Optional[float] = None) -> w.Fields:
        return _finish(self._open(type_, fields), timeout=timeout)

    @property
    def connection(self) -> Connection:
        return self._c

    @property
    def features(self) -> List[str]:
        return self._c.features

    @property
    def software(self) -> str:
        return self._c.software

    # -- shell
    def exec(self, command: Union[str, bytes], *, session: str = "main",
             timeout: Optional[float] = None, output_limit: Optional[int] = None,
             raw: bool = False, stdin: Optional[Data] = None, cwd: Optional[PathLike] = None,
             env: Optional[Mapping[str, str]] = None, yield_after: Optional[float] = None,
             detach: bool = False) -> ExecResult:
        """Run ``command`` in the session's shell and wait (cd, export...
        persist).  ``timeout`` seconds: SIGINT, then SIGKILL (timed_out).
        ``stdin``: bytes for the command, then end-of-file (without it the
        command reads /dev/null).  ``cwd``/``env``: for this command only.
        ``yield_after`` seconds: come back then, or as soon as the command
        waits for input, with ``running`` set while it goes on (continue
        with exec_wait).  ``detach``: the command survives this
        connection.  Ctrl-C cancels the command.  Output is plain text
        (escape sequences removed) unless raw=True."""
        t, f = ops.exec_req(command, session, timeout, output_limit, False,
                            True if raw else None, stdin is not None,
                            None if cwd is None else _p(cwd), env, yield_after, detach)
        s = self._open(t, f)
        s.detached = detach
        if stdin is not None:
            s.send_data(w.to_bytes(stdin), fin=True)
        return ExecResult.from_fields(_finish(s))

    def exec_wait(self, session: str = "main",
                  yield_after: Optional[float] = None) -> ExecResult:
        """Continue the session's yielded (or detached) command: its output
        since the last result, and the exit code once it ended (or another
        yield, ``running``).  NotFound when there is nothing to wait for."""
        s = self._open(w.EXEC_WAIT, [("SESSION", session if session != "main" else None),
                                     ("YIELD_MS", ops._ms(yield_after))])
        return ExecResult.from_fields(_finish(s))

    def exec_stream(self, command: Union[str, bytes], *, session: str = "main",
                    timeout: Optional[float] = None, raw: bool = True,
                    stdin: Union[None, bool, Data] = None, cwd: Optional[PathLike] = None,
                    env: Optional[Mapping[str, str]] = None,
                    detach: bool = False) -> ExecStream:
        """Run ``command`` and get its output as it arrives (ExecStream).
        stdin=True: write it with .write()/.close_stdin(); bytes: sent now.
        An empty chunk means the command now waits for input
        (``.waiting_input``)."""
        t, f = ops.exec_req(command, session, timeout, None, True, None if raw else False,
                            stdin is not None and stdin is not False,
                            None if cwd is None else _p(cwd), env, None, detach)
        s = self._open(t, f)
        s.detached = detach
        if stdin is not None and not isinstance(stdin, bool):
            s.send_data(w.to_bytes(stdin), fin=True)
        return ExecStream(s)

    def session(self, name: str = "main") -> Session:
        """A handle to an existing session (no request is sent)."""
        return Session(self, name)

    def open_session(self, name: str, *, shell: Optional[str] = None,
                     env: Optional[Mapping[str, str]] = None, cwd: Optional[PathLike] = None,
                     login: bool = False, rows: Optional[int] = None,
                     cols: Optional[int] = None, keep_options: bool = False) -> Session:
        """A new shell session.  keep_options=True: set -e/-u/-x/pipefail
        stay set from one exec to the next, as in a terminal (by default
        they apply to the exec that sets them)."""
        t, f = ops.shell_open_req(name, shell, env, None if cwd is None else _p(cwd), login,
                                  rows, cols, keep_options)
        self._call(t, f)
        return Session(self, name)

    def sessions(self) -> List[SessionInfo]:
        return session_infos(self._call(w.SHELL_LIST))

    # -- processes
    def spawn(self, argv: Sequence[Union[str, bytes]], *, background: bool = False,
              env: Optional[Mapping[str, str]] = None, clear_env: bool = False,
              cwd: Optional[PathLike] = None, pty: bool = False, rows: Optional[int] = None,
              cols: Optional[int] = None, stdin: bool = False, timeout: Optional[float] = None,
              output_limit: Optional[int] = None, pty_raw: bool = False) -> Process:
        """Start a program directly (no shell).  Returns once it runs
        (ExecFailed if it cannot).  pty=True: on a terminal (echo, \\r\\n,
        ^C as a terminal has them; pty_raw=True: exact bytes, no echo, as
        the sessions).  Foreground: this connection owns it
        (close() kills it); background=True: it outlives the connection
        and its output goes to ring buffers (Process.output(since))."""
        t, f = ops.spawn_req(argv, env, clear_env, None if cwd is None else _p(cwd), pty, rows,
                             cols, stdin, timeout, output_limit, background, False, pty_raw)
        s = self._open(t, f)
        if background:
            res = ProcessResult.from_fields(_finish(s))
            return Process(self, res.pid, True)
        p = Process(self, 0, False, s)
        try:
            while not ops.spawn_started(p, s.get()):
                pass
            return p
        except KeyboardInterrupt:
            _cancel_and_drain(s)
            raise

    def process(self, pid: int) -> Process:
        """A handle to a background process by pid (no request is sent)."""
        return Process(self, pid, True)

    def processes(self) -> List[ProcessResult]:
        return [ProcessResult.from_fields(r) for r in self._call(w.PROC_LIST).records()]

    def attach(self, pid: int, since: Union[int, Tuple[int, int]] = 0,
               follow: bool = True) -> Iterator[Tuple[int, bytes]]:
        """(channel, bytes) of a background process from offset ``since``;
        follow=True until it exits."""
        t, f = ops.attach_req(pid, since, follow)
        s = self._open(t, f)
        try:
            while True:
                item = s.get()
                if item_end(item) is not None:
                    return
                if item[0] == "D" and item[3]:
                    yield item[1], item[3]
        finally:
            if not s.done:
                _cancel_and_drain(s)

    def _attach_once(self, pid: int, since: Tuple[int, int]) -> ProcessOutput:
        t, f = ops.attach_req(pid, since, False)
        out = {1: bytearray(), 2: bytearray()}
        nxt = list(since)

        def take(item: tuple) -> None:
            if item[0] == "D" and item[1] in out:
                out[item[1]] += item[3]
                nxt[item[1] - 1] = item[2] + len(item[3])
            elif item[0] == "E" and item[1].int("EVENT") == w.EV_DROPPED:
                ch = item[1].int("CHANNEL", 1)
                if ch in out and not out[ch]:
                    nxt[ch - 1] = item[1].int("FROM_OFFSET", nxt[ch - 1])

        res = _finish(self._open(t, f), take)
        pr = ProcessResult.from_fields(res)
        return ProcessOutput(bytes(out[1]), bytes(out[2]), (nxt[0], nxt[1]), pr.dropped, pr)

    # -- system
    def ping(self, data: bytes = b"") -> int:
        """Round trip; returns the runner's monotonic clock (ns)."""
        return self._call(w.PING, [("DATA", data or None)]).int("TIME_NS", 0)

    def info(self) -> Info:
        return Info.from_fields(self._call(w.INFO))

    def stats(self) -> Stats:
        return Stats.from_fields(self._call(w.STATS))

    def shutdown(self, grace: Optional[float] = None) -> int:
        """Stop the runner (and its sandbox); returns the grace in ms."""
        f = self._call(w.SHUTDOWN, [("GRACE_MS", None if grace is None else int(grace * 1000))])
        return f.int("GRACE_MS", 0)

    def close(self) -> None:
        self._c.close()

    @property
    def closed(self) -> bool:
        return self._c.closed

    def __enter__(self) -> "Runner":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __repr__(self) -> str:
        return "Runner(%r, %s)" % (self.target, "closed" if self.closed else "open")


__all__ = ["Runner", "Session", "Process", "Files", "ExecStream", "Records", "FileReader",
           "ProcessOutput", "ProtocolError"]
