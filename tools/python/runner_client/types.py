"""Result types of the SDK (plain dataclasses; shared by sync and asyncio)."""
import os
from dataclasses import dataclass, field
from typing import Dict, List, Optional

from ._wire import Fields

FILE_TYPES = {0: "unknown", 1: "file", 2: "dir", 3: "symlink", 4: "fifo", 5: "socket",
              6: "char", 7: "block"}
FILE_TYPE_CODES = {v: k for k, v in FILE_TYPES.items()}


def _path(b: Optional[bytes]) -> Optional[str]:
    return None if b is None else os.fsdecode(b)


def _text(b: Optional[bytes]) -> str:
    return "" if b is None else b.decode("utf-8", "replace")


@dataclass
class ExecResult:
    """What EXEC (or EXEC_WAIT) returned.  ``output`` is text (UTF-8,
    invalid bytes replaced); ``output_bytes`` the exact bytes.  A yielded
    result (``running``: the command goes on, see Runner.exec_wait) has
    ``exit_code`` None and says whether it ``waiting_input``."""
    exit_code: Optional[int]
    cwd: Optional[str]
    output_bytes: bytes = b""
    truncated: bool = False
    timed_out: bool = False
    respawned: bool = False
    restored: bool = False   # respawned, and the new shell got cwd/env/functions back
    duration_us: int = 0
    total_bytes: int = 0
    shell_pid: int = 0
    running: bool = False
    waiting_input: bool = False
    fields: Optional[Fields] = field(default=None, repr=False)

    @property
    def output(self) -> str:
        return _text(self.output_bytes)

    @property
    def ok(self) -> bool:
        return self.exit_code == 0 and not self.timed_out and not self.running

    @classmethod
    def from_fields(cls, f: Fields, output: Optional[bytes] = None) -> "ExecResult":
        running = f.bool("RUNNING")
        return cls(exit_code=None if running else f.int("EXIT_STATUS", -1),
                   cwd=_path(f.bytes("CWD")),
                   output_bytes=f.bytes("OUTPUT", b"") if output is None else output,
                   truncated=f.bool("TRUNCATED"), timed_out=f.bool("TIMED_OUT"),
                   respawned=f.bool("RESPAWNED"), restored=f.bool("RESTORED"),
                   duration_us=f.int("DURATION_US", 0),
                   total_bytes=f.int("TOTAL_BYTES", 0), shell_pid=f.int("SHELL_PID", 0),
                   running=running, waiting_input=f.bool("WAITING_INPUT"), fields=f)


@dataclass
class ProcessResult:
    """The process fields (PROTOCOL.md §16.1)."""
    pid: int
    running: bool
    exit_code: Optional[int] = None
    term_signal: int = 0
    start_ms: int = 0
    duration_us: int = 0
    timed_out: bool = False
    total_bytes: int = 0
    truncated: bool = False
    dropped: int = 0
    background: Optional[bool] = None
    pty: Optional[bool] = None
    argv: List[str] = field(default_factory=list)

    @classmethod
    def from_fields(cls, f: Fields) -> "ProcessResult":
        running = f.int("STATE", 0) == 0
        return cls(pid=f.int("PID", 0), running=running,
                   exit_code=None if running else f.int("EXIT_STATUS"),
                   term_signal=f.int("TERM_SIGNAL", 0), start_ms=f.int("START_MS", 0),
                   duration_us=f.int("DURATION_US", 0), timed_out=f.bool("TIMED_OUT"),
                   total_bytes=f.int("TOTAL_BYTES", 0), truncated=f.bool("TRUNCATED"),
                   dropped=f.int("DROPPED", 0),
                   background=f.bool("BACKGROUND") if f.has("BACKGROUND") else None,
                   pty=f.bool("PTY") if f.has("PTY") else None,
                   argv=[os.fsdecode(a) for a in f.all("ARGV")])


@dataclass
class SessionInfo:
    name: str
    shell_pid: int
    busy: bool
    shell: Optional[str]
    cwd: Optional[str]


@dataclass
class Entry:
    """One LS record (``path`` relative to the listed directory) or FIND
    record (``path`` as find prints it)."""
    path: str
    type: str
    size: Optional[int] = None
    mode: Optional[int] = None
    mtime_ns: Optional[int] = None
    target: Optional[str] = None

    @property
    def is_dir(self) -> bool:
        return self.type == "dir"

    @classmethod
    def from_fields(cls, f: Fields) -> "Entry":
        p = f.bytes("NAME")
        if p is None:
            p = f.bytes("PATH", b"")
        return cls(path=os.fsdecode(p), type=FILE_TYPES.get(f.int("FILE_TYPE", 0), "unknown"),
                   size=f.int("SIZE"), mode=f.int("FILE_MODE"), mtime_ns=f.int("MTIME_NS"),
                   target=_path(f.bytes("TARGET")))


@dataclass
class Match:
    """One GREP record: a matching line, or a context line (match False).
    mode="files": only ``path``; mode="count": ``path`` and ``count``.
    A line cut at MAX_LINE has ``truncated`` and its full ``size``."""
    path: str
    line: int = 0
    text: str = ""
    match: bool = True
    truncated: bool = False
    size: Optional[int] = None
    count: Optional[int] = None

    @classmethod
    def from_fields(cls, f: Fields) -> "Match":
        return cls(path=os.fsdecode(f.bytes("PATH", b"")), line=f.int("LINE", 0),
                   text=_text(f.bytes("TEXT")), match=f.bool("MATCH", True),
                   truncated=f.bool("TRUNCATED"), size=f.int("SIZE"), count=f.int("COUNT"))


@dataclass
class Stat:
    type: str
    size: int
    mode: int
    mtime_ns: int
    uid: int
    gid: int
    nlink: int
    target: Optional[str] = None

    @classmethod
    def from_fields(cls, f: Fields) -> "Stat":
        return cls(type=FILE_TYPES.get(f.int("FILE_TYPE", 0), "unknown"),
                   size=f.int("SIZE", 0), mode=f.int("FILE_MODE", 0),
                   mtime_ns=f.int("MTIME_NS", 0), uid=f.int("UID_OWNER", 0),
                   gid=f.int("GID", 0), nlink=f.int("NLINK", 0),
                   target=_path(f.bytes("TARGET")))


@dataclass
class ReadResult:
    """READ: the bytes plus what the RESULT said."""
    data: bytes
    size: int
    mode: int
    mtime_ns: int
    truncated: bool
    total_lines: Optional[int]
    binary: bool = False   # binary_check=True and the file has a NUL: no data

    @property
    def text(self) -> str:
        return _text(self.data)

    @classmethod
    def from_fields(cls, data: bytes, f: Fields) -> "ReadResult":
        return cls(data=data, size=f.int("SIZE", 0), mode=f.int("FILE_MODE", 0),
                   mtime_ns=f.int("MTIME_NS", 0), truncated=f.bool("TRUNCATED"),
                   total_lines=f.int("TOTAL_LINES"), binary=f.bool("BINARY"))


@dataclass
class WriteResult:
    size: int
    total_bytes: int
    created: bool

    @classmethod
    def from_fields(cls, f: Fields) -> "WriteResult":
        return cls(size=f.int("SIZE", 0), total_bytes=f.int("TOTAL_BYTES", 0),
                   created=f.bool("CREATED"))


@dataclass
class Summary:
    """RESULT of LS, FIND, GREP, DIFF (PROTOCOL.md §17.2).  ``more``: results
    past MAX_RESULTS not sent (exact unless ``more_is_lower_bound``)."""
    count: int
    truncated: bool
    total_bytes: int
    more: int = 0
    more_is_lower_bound: bool = False

    @classmethod
    def from_fields(cls, f: Fields) -> "Summary":
        return cls(count=f.int("COUNT", 0), truncated=f.bool("TRUNCATED"),
                   total_bytes=f.int("TOTAL_BYTES", 0), more=f.int("MORE", 0),
                   more_is_lower_bound=f.int("TRUNCATED", 0) == 2)


@dataclass
class Info:
    software: str
    version: int
    pid: int
    uid: int
    gid: int
    is_pid1: bool
    uptime_ms: int
    hardening: List[str]
    limits: Dict[str, str]
    root: Optional[str]

    @classmethod
    def from_fields(cls, f: Fields) -> "Info":
        limits = {}
        for s in f.strs("LIMIT"):
            k, _, v = s.partition("=")
            limits[k] = v
        return cls(software=f.str("SOFTWARE", ""), version=f.int("VERSION", 0),
                   pid=f.int("PID", 0), uid=f.int("UID", 0), gid=f.int("GID", 0),
                   is_pid1=f.bool("IS_PID1"), uptime_ms=f.int("UPTIME_MS", 0),
                   hardening=f.strs("HARDENING"), limits=limits, root=_path(f.bytes("PATH")))


@dataclass
class Stats:
    rss: int
    conns: int
    streams: int
    fds: int
    children: int
    sessions: int
    procs: int
    remembered: int
    uptime_ms: int

    @classmethod
    def from_fields(cls, f: Fields) -> "Stats":
        return cls(rss=f.int("RSS", 0), conns=f.int("CONNS", 0), streams=f.int("STREAMS", 0),
                   fds=f.int("FDS", 0), children=f.int("CHILDREN", 0),
                   sessions=f.int("SESSIONS", 0), procs=f.int("PROCS", 0),
                   remembered=f.int("COUNT", 0), uptime_ms=f.int("UPTIME_MS", 0))


def session_infos(f: Fields) -> List[SessionInfo]:
    return [SessionInfo(name=r.str("SESSION", ""), shell_pid=r.int("SHELL_PID", 0),
                        busy=r.bool("BUSY"), shell=r.str("SHELL"), cwd=_path(r.bytes("CWD")))
            for r in f.records()]
