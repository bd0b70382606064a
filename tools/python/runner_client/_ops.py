"""Request builders: arguments -> (frame type, fields), and the readers
of answers that do not wait.  Shared by the sync and asyncio APIs so both
send exactly the same requests and read answers the same way."""
import signal as _signal
from typing import (Any, Callable, Iterable, List, Mapping, Optional, Sequence, Tuple, TypeVar,
                    Union)

from . import _wire as w
from ._conn import item_end
from .types import FILE_TYPE_CODES, ProcessResult, Summary

T = TypeVar("T")

Req = Tuple[int, List[Tuple[str, object]]]
PathLike = Union[str, bytes]

WRITE_MODES = {"truncate": 0, "append": 1, "exclusive": 2}


def _ms(seconds: Optional[float]) -> Optional[int]:
    if seconds is None or seconds <= 0:
        return None
    return max(1, int(seconds * 1000))


def _b(v: Optional[bool]) -> Optional[int]:
    return None if v is None else int(bool(v))


def env_list(env: Optional[Mapping[str, str]]) -> Optional[List[str]]:
    if not env:
        return None
    return ["%s=%s" % (k, v) for k, v in env.items()]


def signum(sig: Union[int, str]) -> int:
    """15, "TERM", "SIGTERM", signal.SIGTERM -> 15."""
    if isinstance(sig, str):
        name = sig.upper()
        if not name.startswith("SIG"):
            name = "SIG" + name
        return int(getattr(_signal, name))
    return int(sig)


def cancel_fields(session: str, grace: Optional[float]) -> List[Tuple[str, object]]:
    """SHELL_SIGNAL with CANCEL=1 (PROTOCOL §15.7): the runner's ladder."""
    f: List[Tuple[str, object]] = [("SESSION", session), ("CANCEL", 1)]
    if grace is not None:
        f.append(("GRACE_MS", max(0, int(grace * 1000))))
    return f


def exec_req(command: Union[str, bytes], session: str, timeout: Optional[float],
             output_limit: Optional[int], stream: bool, raw: Optional[bool],
             stdin: bool, cwd: Optional[PathLike], env: Optional[Mapping[str, str]],
             yield_after: Optional[float] = None, detach: bool = False) -> Req:
    fmt = None if raw is None else (0 if raw else 1)
    fields: List[Tuple[str, object]] = [
        ("SESSION", session if session != "main" else None),
        ("COMMAND", command),
        ("TIMEOUT_MS", _ms(timeout)),
        ("OUTPUT_LIMIT", output_limit),
        ("MODE", 1 if stream else None),
        ("FORMAT", fmt),
        # STDIN 1: the client sends stdin on this stream; without it the
        # command reads /dev/null (runners before issue 13 ignore it).
        ("STDIN", 1 if stdin else None),
        ("CWD", cwd),
        ("ENV", env_list(env)),
        ("DETACH", 1 if detach else None),
        ("YIELD_MS", _ms(yield_after)),
    ]
    return w.EXEC, fields


def shell_open_req(name: str, shell: Optional[str], env: Optional[Mapping[str, str]],
                   cwd: Optional[PathLike], login: bool, rows: Optional[int],
                   cols: Optional[int], keep_options: bool = False) -> Req:
    return w.SHELL_OPEN, [("SESSION", name), ("SHELL", shell), ("ENV", env_list(env)),
                          ("CWD", cwd), ("LOGIN", 1 if login else None), ("ROWS", rows),
                          ("COLS", cols), ("KEEP_OPTIONS", 1 if keep_options else None)]


def spawn_req(argv: Sequence[Union[str, bytes]], env: Optional[Mapping[str, str]],
              clear_env: bool, cwd: Optional[PathLike], pty: bool, rows: Optional[int],
              cols: Optional[int], stdin: bool, timeout: Optional[float],
              output_limit: Optional[int], background: bool, follow: bool,
              pty_raw: bool = False) -> Req:
    if isinstance(argv, (str, bytes)):
        raise TypeError("argv is a list of arguments, e.g. ['python3', '-m', 'http.server']")
    return w.SPAWN, [("ARGV", list(argv)), ("ENV", env_list(env)),
                     ("ENV_MODE", 1 if clear_env else None), ("CWD", cwd),
                     ("PTY", 1 if pty else None), ("PTY_MODE", 1 if pty_raw else None),
                     ("ROWS", rows), ("COLS", cols),
                     ("STDIN", 1 if stdin else None), ("TIMEOUT_MS", _ms(timeout)),
                     ("OUTPUT_LIMIT", output_limit),
                     ("BACKGROUND", 1 if background else None),
                     ("FOLLOW", None if not background or follow else 0)]


def attach_req(pid: int, since: Union[int, Tuple[int, int], None], follow: bool) -> Req:
    if isinstance(since, tuple):
        offs: Optional[List[int]] = [since[0], since[1]]
    else:
        offs = None if not since else [since]
    return w.PROC_ATTACH, [("PID", pid), ("FROM_OFFSET", offs), ("FOLLOW", 0 if not follow else None)]


def read_req(path: PathLike, offset: Optional[int], length: Optional[int],
             line_from: Optional[int], line_to: Optional[int],
             max_bytes: Optional[int], line_numbers: bool = False,
             max_line: Optional[int] = None, binary_check: bool = False) -> Req:
    return w.READ, [("PATH", path), ("OFFSET", offset), ("LENGTH", length),
                    ("LINE_FROM", line_from), ("LINE_TO", line_to), ("MAX_BYTES", max_bytes),
                    ("LINE_NUMBERS", 1 if line_numbers else None), ("MAX_LINE", max_line),
                    ("BINARY", 1 if binary_check else None)]


def write_req(path: PathLike, mode: str, create: bool, parents: bool, atomic: Optional[bool],
              file_mode: Optional[int]) -> Req:
    if mode not in WRITE_MODES:
        raise ValueError("mode is one of %s" % ", ".join(WRITE_MODES))
    return w.WRITE, [("PATH", path), ("WRITE_MODE", WRITE_MODES[mode] or None),
                     ("CREATE", None if create else 0), ("PARENTS", 1 if parents else None),
                     ("ATOMIC", _b(atomic)), ("FILE_MODE", file_mode)]


def edit_req(path: PathLike, old: Union[str, bytes], new: Union[str, bytes],
             replace_all: bool) -> Req:
    return w.EDIT, [("PATH", path), ("OLD", old), ("NEW", new),
                    ("REPLACE_ALL", 1 if replace_all else None)]


def stat_req(path: PathLike) -> Req:
    return w.STAT, [("PATH", path)]


def mkdir_req(path: PathLike, parents: bool, mode: Optional[int]) -> Req:
    return w.MKDIR, [("PATH", path), ("PARENTS", 1 if parents else None), ("FILE_MODE", mode)]


def remove_req(path: PathLike, recursive: bool) -> Req:
    return w.REMOVE, [("PATH", path), ("RECURSIVE", 1 if recursive else None)]


def move_req(src: PathLike, dst: PathLike) -> Req:
    return w.MOVE, [("PATH", src), ("PATH2", dst)]


def diff_req(a: PathLike, b: Optional[PathLike], text: Union[None, str, bytes]) -> Req:
    if (b is None) == (text is None):
        raise TypeError("diff(a, b) or diff(a, text=...)")
    return w.DIFF, [("PATH", a), ("PATH2", b), ("TEXT", text)]


SORTS = {"path": 0, "mtime": 1}
GREP_MODES = {"lines": 0, "files": 1, "count": 2}
SYNTAXES = {"ere": 0, "rust": 1}


def _list(v: Union[None, str, bytes, Iterable[Union[str, bytes]]]) -> Optional[list]:
    if v is None:
        return None
    if isinstance(v, (str, bytes)):
        return [v]
    return list(v) or None


def ls_req(path: PathLike, depth: Optional[int], hidden: bool,
           max_results: Optional[int] = None, ignore: bool = False,
           exclude: Union[None, str, Iterable[str]] = None) -> Req:
    return w.LS, [("PATH", path), ("DEPTH", depth), ("HIDDEN", 1 if hidden else None),
                  ("MAX_RESULTS", max_results), ("IGNORE", 1 if ignore else None),
                  ("EXCLUDE", _list(exclude))]


def find_req(path: PathLike, glob: Union[None, str, Iterable[str]], type_: Optional[str],
             depth: Optional[int], max_results: Optional[int], hidden: Optional[bool],
             sort: str = "path", ignore: bool = False,
             exclude: Union[None, str, Iterable[str]] = None) -> Req:
    t = None
    if type_ is not None:
        if type_ in ("f", "d", "l"):
            type_ = {"f": "file", "d": "dir", "l": "symlink"}[type_]
        t = FILE_TYPE_CODES[type_]
    if sort not in SORTS:
        raise ValueError("sort is one of %s" % ", ".join(SORTS))
    return w.FIND, [("PATH", path), ("GLOB", _list(glob)), ("FILE_TYPE", t), ("DEPTH", depth),
                    ("MAX_RESULTS", max_results), ("HIDDEN", _b(hidden)),
                    ("SORT", SORTS[sort] or None), ("IGNORE", 1 if ignore else None),
                    ("EXCLUDE", _list(exclude))]


def grep_req(pattern: Union[str, bytes, Iterable[Union[str, bytes]]], path: PathLike,
             fixed: bool, ignore_case: bool, context: Optional[int],
             include: Union[None, str, Iterable[str]], max_results: Optional[int],
             hidden: Optional[bool], word: bool = False, mode: str = "lines",
             max_line: Optional[int] = None, ignore: bool = False,
             exclude: Union[None, str, Iterable[str]] = None, syntax: str = "ere") -> Req:
    if mode not in GREP_MODES:
        raise ValueError("mode is one of %s" % ", ".join(GREP_MODES))
    if syntax not in SYNTAXES:
        raise ValueError("syntax is one of %s" % ", ".join(SYNTAXES))
    return w.GREP, [("PATTERN", _list(pattern)), ("PATH", path),
                    ("FIXED", 1 if fixed else None),
                    ("IGNORE_CASE", 1 if ignore_case else None), ("WORD", 1 if word else None),
                    ("CONTEXT", context or None), ("GREP_MODE", GREP_MODES[mode] or None),
                    ("MAX_LINE", max_line), ("GLOB", _list(include)),
                    ("MAX_RESULTS", max_results), ("HIDDEN", _b(hidden)),
                    ("IGNORE", 1 if ignore else None), ("EXCLUDE", _list(exclude)),
                    ("SYNTAX", SYNTAXES[syntax] or None)]


def records_step(buf: bytearray, item: tuple,
                 make: Callable[[w.Fields], T]) -> Tuple[List[T], Optional[Summary]]:
    """One item of an LS/FIND/GREP stream: the records it completes (DATA
    cuts them anywhere; buf keeps the incomplete rest) and, at the end,
    the Summary.  Raises for a terminal ERROR or a closed connection."""
    end = item_end(item)
    if end is not None:
        return [], Summary.from_fields(end)
    if item[0] != "D":
        return [], None
    buf += item[3]
    return [make(w.Fields(rec)) for rec in w.split_records(buf)], None


def spawn_started(p: Any, item: tuple) -> bool:
    """One item of a foreground SPAWN's stream into Process p (sync or
    asyncio): True once p.pid is known, from EVENT STARTED or from the
    RESULT (which can only follow the EVENT)."""
    if item[0] == "E" and item[1].int("EVENT") == w.EV_STARTED:
        p.pid = item[1].int("PID", 0)
        return True
    end = item_end(item)
    if end is not None:
        p.result = ProcessResult.from_fields(end)
        p.pid = p.result.pid
        return True
    p._take(item)
    return False


def fields_of(req_fields: Iterable[Tuple[str, object]]) -> bytes:
    return w.encode(req_fields)


def extra_window(type_: int) -> int:
    """WRITE adds 16 MiB to the stream's initial credit (§17.4)."""
    return 16 << 20 if type_ == w.WRITE else 0

