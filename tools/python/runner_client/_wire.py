"""Frame and field codec of protocol v1 (protocol/PROTOCOL.md §2-§4, §11-§12).

No I/O here: the sync and asyncio connections share it.
"""
import builtins
import struct
from typing import Any, Dict, Iterable, Iterator, List, Optional, Tuple, Union

HDR = struct.Struct(">IIBB")  # length (bytes after itself), stream, type, flags
HDR_SIZE = 10
FIELD = struct.Struct(">HI")
DATA_PREFIX = struct.Struct(">BQ")
U32 = struct.Struct(">I")

VERSION = 1
FIN = 0x01
MAX_FRAME_MIN = 65536
WINDOW_MAX = (1 << 31) - 1

# frame types (§11)
HELLO, DATA, WINDOW, CANCEL, RESULT, ERROR, EVENT = 1, 2, 3, 4, 5, 6, 7
PING, INFO, STATS, SHUTDOWN = 0x10, 0x11, 0x12, 0x13
(SHELL_OPEN, SHELL_CLOSE, EXEC, SHELL_STDIN, SHELL_RESIZE, SHELL_SIGNAL,
 SHELL_LIST, EXEC_WAIT) = range(0x20, 0x28)
(SPAWN, PROC_STDIN, PROC_CLOSE_STDIN, PROC_SIGNAL, PROC_WAIT, PROC_ATTACH,
 PROC_LIST) = range(0x30, 0x37)
(READ, WRITE, EDIT, LS, STAT, MKDIR, REMOVE, MOVE, FIND, GREP,
 DIFF) = range(0x40, 0x4B)

# EVENT kinds
EV_STARTED, EV_RESPAWNED, EV_DROPPED, EV_WAITING_INPUT = 1, 2, 3, 4

# Field tags (§12, protocol/wire.h): name -> (number, type).
# Types: u8 u16 u32 u64 i32 i64 (big-endian integers), str, bytes, rec.
TAGS: Dict[str, Tuple[int, str]] = {
    "VERSION": (0x0001, "u16"), "SOFTWARE": (0x0002, "str"), "FEATURE": (0x0003, "str"),
    "MAX_FRAME": (0x0004, "u32"), "WINDOW": (0x0005, "u32"), "TOKEN": (0x0006, "bytes"),
    "MAX_STREAMS": (0x0007, "u32"),
    "CODE": (0x0010, "u16"), "ERRNO": (0x0011, "u32"), "MESSAGE": (0x0012, "str"),
    "COUNT": (0x0013, "u64"), "EVENT": (0x0018, "u16"),
    "PID": (0x0020, "u32"), "UID": (0x0021, "u32"), "GID": (0x0022, "u32"),
    "HARDENING": (0x0023, "str"), "LIMIT": (0x0024, "str"), "UPTIME_MS": (0x0025, "u64"),
    "RSS": (0x0026, "u64"), "CONNS": (0x0027, "u32"), "IS_PID1": (0x0028, "u8"),
    "STREAMS": (0x0029, "u32"), "FDS": (0x002a, "u32"), "CHILDREN": (0x002b, "u32"),
    "SESSIONS": (0x002c, "u32"), "PROCS": (0x002d, "u32"), "GRACE_MS": (0x002e, "u32"),
    "TIME_NS": (0x002f, "u64"),
    "SESSION": (0x0100, "str"), "SHELL": (0x0101, "str"), "ENV": (0x0102, "bytes"),
    "CWD": (0x0103, "bytes"), "LOGIN": (0x0104, "u8"), "ROWS": (0x0105, "u16"),
    "COLS": (0x0106, "u16"), "COMMAND": (0x0107, "bytes"), "TIMEOUT_MS": (0x0108, "u32"),
    "OUTPUT_LIMIT": (0x0109, "u64"), "MODE": (0x010a, "u8"), "FORMAT": (0x010b, "u8"),
    "EXIT_STATUS": (0x010c, "i32"), "DURATION_US": (0x010d, "u64"),
    "TIMED_OUT": (0x010e, "u8"), "TRUNCATED": (0x010f, "u8"),
    "TOTAL_BYTES": (0x0110, "u64"), "OUTPUT": (0x0111, "bytes"),
    "SIGNAL": (0x0112, "u32"), "RESPAWNED": (0x0113, "u8"), "DATA": (0x0114, "bytes"),
    "EOF": (0x0115, "u8"), "SHELL_PID": (0x0116, "u32"), "MAX_SESSIONS": (0x0117, "u32"),
    "BUSY": (0x0118, "u8"), "DETACH": (0x0119, "u8"), "YIELD_MS": (0x011a, "u32"),
    "RUNNING": (0x011b, "u8"), "WAITING_INPUT": (0x011c, "u8"), "RESTORED": (0x011d, "u8"),
    "KEEP_OPTIONS": (0x011e, "u8"), "CANCEL": (0x011f, "u8"),
    "ARGV": (0x0200, "bytes"), "ENV_MODE": (0x0201, "u8"), "PTY": (0x0202, "u8"),
    "STDIN": (0x0203, "u8"), "BACKGROUND": (0x0204, "u8"), "TERM_SIGNAL": (0x0205, "u32"),
    "FROM_OFFSET": (0x0206, "u64"), "DROPPED": (0x0207, "u64"), "STATE": (0x0208, "u8"),
    "START_MS": (0x0209, "u64"), "CHANNEL": (0x020a, "u8"), "RING_SIZE": (0x020b, "u64"),
    "FOLLOW": (0x020c, "u8"), "PTY_MODE": (0x020d, "u8"),
    "PATH": (0x0300, "bytes"), "PATH2": (0x0301, "bytes"), "OFFSET": (0x0302, "u64"),
    "LENGTH": (0x0303, "u64"), "LINE_FROM": (0x0304, "u64"), "LINE_TO": (0x0305, "u64"),
    "MAX_BYTES": (0x0306, "u64"), "SIZE": (0x0307, "u64"), "FILE_MODE": (0x0308, "u32"),
    "MTIME_NS": (0x0309, "i64"), "TOTAL_LINES": (0x030a, "u64"),
    "WRITE_MODE": (0x030b, "u8"), "PARENTS": (0x030c, "u8"), "ATOMIC": (0x030d, "u8"),
    "OLD": (0x030e, "bytes"), "NEW": (0x030f, "bytes"), "REPLACE_ALL": (0x0310, "u8"),
    "DEPTH": (0x0311, "u32"), "HIDDEN": (0x0312, "u8"), "FILE_TYPE": (0x0313, "u8"),
    "TARGET": (0x0314, "bytes"), "RECURSIVE": (0x0315, "u8"), "PATTERN": (0x0316, "bytes"),
    "GLOB": (0x0317, "bytes"), "FIXED": (0x0318, "u8"), "IGNORE_CASE": (0x0319, "u8"),
    "CONTEXT": (0x031a, "u32"), "MAX_RESULTS": (0x031b, "u32"), "LINE": (0x031c, "u64"),
    "TEXT": (0x031d, "bytes"), "NAME": (0x031e, "bytes"), "UID_OWNER": (0x031f, "u32"),
    "NLINK": (0x0320, "u64"), "MATCH": (0x0321, "u8"), "CREATED": (0x0322, "u8"),
    "REPLACED": (0x0323, "u64"), "CREATE": (0x0324, "u8"),
    "SORT": (0x0325, "u8"), "MORE": (0x0326, "u64"), "IGNORE": (0x0327, "u8"),
    "EXCLUDE": (0x0328, "bytes"), "GREP_MODE": (0x0329, "u8"), "WORD": (0x032a, "u8"),
    "MAX_LINE": (0x032b, "u32"), "SYNTAX": (0x032c, "u8"), "LINE_NUMBERS": (0x032d, "u8"),
    "BINARY": (0x032e, "u8"),
    "ENTRY": (0x0f00, "rec"),
}
TAG_NAMES = {num: name for name, (num, _) in TAGS.items()}
_NUM = {name: num for name, (num, _) in TAGS.items()}
_SIGNED = {name for name, (_, typ) in TAGS.items() if typ.startswith("i")}
_INT = {"u8": ">B", "u16": ">H", "u32": ">I", "u64": ">Q", "i32": ">i", "i64": ">q"}
_INT_STRUCT = {k: struct.Struct(v) for k, v in _INT.items()}

Value = Union[int, str, bytes, bytearray, memoryview, "list"]


def to_bytes(v: Union[str, bytes, bytearray, memoryview]) -> bytes:
    """str -> UTF-8 with surrogateescape (so os.fsdecode'd paths round-trip)."""
    if isinstance(v, str):
        return v.encode("utf-8", "surrogateescape")
    return bytes(v)


def field(name: str, value) -> bytes:
    num, typ = TAGS[name]
    if typ in _INT_STRUCT:
        val = _INT_STRUCT[typ].pack(int(value))
    elif typ == "rec":
        val = encode(value)
    else:
        val = to_bytes(value)
    return FIELD.pack(num, len(val)) + val


def encode(fields: Iterable[Tuple[str, object]]) -> bytes:
    """[(name, value)] -> TLV bytes.  A None value is left out; a list or
    tuple value repeats the tag (ARGV, ENV, GLOB)."""
    out: List[bytes] = []
    for name, value in fields:
        if value is None:
            continue
        if isinstance(value, (list, tuple)):
            out.extend(field(name, v) for v in value)
        else:
            out.append(field(name, value))
    return b"".join(out)


def decode(payload: bytes) -> List[Tuple[int, bytes]]:
    """TLV bytes -> [(tag, value)].  ValueError when a field runs past the end."""
    out: List[Tuple[int, bytes]] = []
    pos, n = 0, len(payload)
    while pos < n:
        if n - pos < 6:
            raise ValueError("truncated field header")
        tag, ln = FIELD.unpack_from(payload, pos)
        pos += 6
        if ln > n - pos:
            raise ValueError("truncated field value")
        out.append((tag, payload[pos:pos + ln]))
        pos += ln
    return out


def split_records(buf: bytearray) -> Iterator[bytes]:
    """Cut complete ENTRY fields off the front of buf (LS/FIND/GREP DATA
    stream, §17.2); what is incomplete stays in buf for the next DATA."""
    pos, n = 0, len(buf)
    while n - pos >= 6:
        tag, ln = FIELD.unpack_from(buf, pos)
        if n - pos - 6 < ln:
            break
        if tag == TAGS["ENTRY"][0]:
            yield bytes(buf[pos + 6:pos + 6 + ln])
        pos += 6 + ln
    del buf[:pos]


# The accessors of Fields are named after the types they return: its
# annotations name the builtins through the builtins module.


class Fields:
    """Decoded fields with typed accessors by tag name."""

    __slots__ = ("raw", "_first")

    def __init__(self, payload: builtins.bytes = b""):
        self.raw = decode(payload)
        first: Dict[int, builtins.bytes] = {}
        for t, v in self.raw:
            first.setdefault(t, v)  # a single-valued field sent twice: the first counts
        self._first = first

    def all(self, name: builtins.str) -> List[builtins.bytes]:
        num = TAGS[name][0]
        return [v for t, v in self.raw if t == num]

    def get(self, name: builtins.str) -> Optional[builtins.bytes]:
        return self._first.get(_NUM[name])

    def has(self, name: builtins.str) -> builtins.bool:
        return self.get(name) is not None

    def int(self, name: builtins.str, default: Any = None) -> Any:
        v = self.get(name)
        if v is None or len(v) not in (1, 2, 4, 8):
            return default
        return int.from_bytes(v, "big", signed=name in _SIGNED)

    def bool(self, name: builtins.str, default: builtins.bool = False) -> builtins.bool:
        v = self.int(name)
        return default if v is None else v != 0

    def bytes(self, name: builtins.str, default: Any = None) -> Any:
        v = self.get(name)
        return default if v is None else v

    def str(self, name: builtins.str, default: Any = None) -> Any:
        v = self.get(name)
        return default if v is None else v.decode("utf-8", "surrogateescape")

    def strs(self, name: builtins.str) -> List[builtins.str]:
        return [v.decode("utf-8", "surrogateescape") for v in self.all(name)]

    def records(self, name: builtins.str = "ENTRY") -> List["Fields"]:
        return [Fields(v) for v in self.all(name)]

    def __repr__(self) -> builtins.str:
        return "Fields(%s)" % ", ".join(
            "%s=%r" % (TAG_NAMES.get(t, "0x%04x" % t), v[:40]) for t, v in self.raw)


def frame(stream: int, type_: int, payload: bytes = b"", flags: int = 0) -> bytes:
    return HDR.pack(6 + len(payload), stream, type_, flags) + payload


def data_frame(stream: int, data, offset: int, fin: bool, channel: int = 0) -> bytes:
    return (HDR.pack(6 + 9 + len(data), stream, DATA, FIN if fin else 0)
            + DATA_PREFIX.pack(channel, offset) + bytes(data))


def window_frame(stream: int, n: int) -> bytes:
    return HDR.pack(10, stream, WINDOW, 0) + U32.pack(n)


def cancel_frame(stream: int) -> bytes:
    return HDR.pack(6, stream, CANCEL, 0)
