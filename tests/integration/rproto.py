"""rproto.py - protocol v1 client written from protocol/PROTOCOL.md alone.

Independent of the C codec on purpose: if the spec and the runner
disagree, these tests notice.  Standard library only.
"""
import os
import select
import socket
import struct
import subprocess

HDR = struct.Struct(">IIBB")  # length (bytes after itself), stream, type, flags
FIELD = struct.Struct(">HI")
DATA_PREFIX = struct.Struct(">BQ")

# frame types
HELLO, DATA, WINDOW, CANCEL, RESULT, ERROR, EVENT = 1, 2, 3, 4, 5, 6, 7
PING, INFO, STATS, SHUTDOWN = 0x10, 0x11, 0x12, 0x13
SHELL_OPEN, SHELL_CLOSE, EXEC, SHELL_STDIN, SHELL_RESIZE, SHELL_SIGNAL, SHELL_LIST = range(0x20, 0x27)
EXEC_WAIT = 0x27
SPAWN, PROC_STDIN, PROC_CLOSE_STDIN, PROC_SIGNAL, PROC_WAIT, PROC_ATTACH, PROC_LIST = range(0x30, 0x37)
READ, WRITE, EDIT, LS, STAT, MKDIR, REMOVE, MOVE, FIND, GREP, DIFF = range(0x40, 0x4B)
FIN = 1

# error codes (stable)
ERRORS = ["E_OK", "E_BAD_FRAME", "E_TOO_LARGE", "E_UNKNOWN_TYPE", "E_HELLO_REQUIRED",
          "E_AUTH", "E_VERSION", "E_BAD_REQUEST", "E_STREAM_IN_USE", "E_FLOW", "E_LIMIT",
          "E_CANCELLED", "E_TIMEOUT", "E_NOT_FOUND", "E_EXISTS", "E_PERMISSION", "E_IO",
          "E_EXEC", "E_UNSUPPORTED", "E_NOT_UNIQUE", "E_BUSY", "E_SHUTTING_DOWN", "E_ESCAPE",
          "E_BAD_PATTERN", "E_IS_DIR", "E_NOT_DIR", "E_NO_SPACE", "E_NOT_EMPTY",
          "E_NOT_MATCHED", "E_INTERNAL"]
for _i, _n in enumerate(ERRORS):
    globals()[_n] = _i

# field tags: name -> (tag, type).  types: u8 u16 u32 u64 i32 i64 str bytes rec
TAGS = {
    "VERSION": (0x0001, "u16"), "SOFTWARE": (0x0002, "str"), "FEATURE": (0x0003, "str"),
    "MAX_FRAME": (0x0004, "u32"), "WINDOW": (0x0005, "u32"), "TOKEN": (0x0006, "bytes"),
    "MAX_STREAMS": (0x0007, "u32"),
    "CODE": (0x0010, "u16"), "ERRNO": (0x0011, "u32"), "MESSAGE": (0x0012, "str"),
    "COUNT": (0x0013, "u64"), "STREAM": (0x0014, "u32"), "EVENT": (0x0018, "u16"),
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
    "EXIT_STATUS": (0x010c, "i32"), "DURATION_US": (0x010d, "u64"), "TIMED_OUT": (0x010e, "u8"),
    "TRUNCATED": (0x010f, "u8"), "TOTAL_BYTES": (0x0110, "u64"), "OUTPUT": (0x0111, "bytes"),
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
    "MTIME_NS": (0x0309, "i64"), "TOTAL_LINES": (0x030a, "u64"), "WRITE_MODE": (0x030b, "u8"),
    "PARENTS": (0x030c, "u8"), "ATOMIC": (0x030d, "u8"), "OLD": (0x030e, "bytes"),
    "NEW": (0x030f, "bytes"), "REPLACE_ALL": (0x0310, "u8"), "DEPTH": (0x0311, "u32"),
    "HIDDEN": (0x0312, "u8"), "FILE_TYPE": (0x0313, "u8"), "TARGET": (0x0314, "bytes"),
    "RECURSIVE": (0x0315, "u8"), "PATTERN": (0x0316, "bytes"), "GLOB": (0x0317, "bytes"),
    "FIXED": (0x0318, "u8"), "IGNORE_CASE": (0x0319, "u8"), "CONTEXT": (0x031a, "u32"),
    "MAX_RESULTS": (0x031b, "u32"), "LINE": (0x031c, "u64"), "TEXT": (0x031d, "bytes"),
    "NAME": (0x031e, "bytes"), "UID_OWNER": (0x031f, "u32"), "NLINK": (0x0320, "u64"),
    "MATCH": (0x0321, "u8"), "CREATED": (0x0322, "u8"), "REPLACED": (0x0323, "u64"),
    "CREATE": (0x0324, "u8"), "SORT": (0x0325, "u8"), "MORE": (0x0326, "u64"),
    "IGNORE": (0x0327, "u8"), "EXCLUDE": (0x0328, "bytes"), "GREP_MODE": (0x0329, "u8"),
    "WORD": (0x032a, "u8"), "MAX_LINE": (0x032b, "u32"), "SYNTAX": (0x032c, "u8"),
    "LINE_NUMBERS": (0x032d, "u8"), "BINARY": (0x032e, "u8"),
    "ENTRY": (0x0f00, "rec"),
}
TAG_BY_NUM = {v[0]: (k, v[1]) for k, v in TAGS.items()}
INT_FMT = {"u8": ">B", "u16": ">H", "u32": ">I", "u64": ">Q", "i32": ">i", "i64": ">q"}


def field(tag, value, typ=None):
    """Encode one TLV field.  tag: name or number."""
    if isinstance(tag, str):
        num, t = TAGS[tag]
    else:
        num, t = tag, typ or "bytes"
    typ = typ or t
    if typ in INT_FMT:
        val = struct.pack(INT_FMT[typ], int(value))
    elif typ == "rec":
        val = encode_fields(value)
    elif isinstance(value, str):
        val = value.encode()
    else:
        val = bytes(value)
    return FIELD.pack(num, len(val)) + val


def encode_fields(fields):
    """fields: list of (tag, value) or dict tag->value|list."""
    if isinstance(fields, dict):
        items = []
        for k, v in fields.items():
            if isinstance(v, list):
                items += [(k, x) for x in v]
            else:
                items.append((k, v))
        fields = items
    return b"".join(field(k, v) for k, v in fields)


def decode_fields(payload):
    """-> list of (tag number, raw bytes).  Raises ValueError if truncated."""
    out, pos = [], 0
    while pos < len(payload):
        if len(payload) - pos < 6:
            raise ValueError("truncated field header")
        tag, n = FIELD.unpack_from(payload, pos)
        pos += 6
        if n > len(payload) - pos:
            raise ValueError("truncated field value")
        out.append((tag, payload[pos:pos + n]))
        pos += n
    return out


def as_int(raw, signed=False):
    if len(raw) not in (1, 2, 4, 8):
        raise ValueError("integer of width %d" % len(raw))
    return int.from_bytes(raw, "big", signed=signed)


class Fields:
    """Decoded TLV fields with typed accessors by tag name."""

    def __init__(self, payload):
        self.raw = decode_fields(payload)

    def all(self, name):
        num = TAGS[name][0]
        return [v for t, v in self.raw if t == num]

    def has(self, name):
        return bool(self.all(name))

    def int(self, name, default=None):
        vals = self.all(name)
        if not vals:
            return default
        return as_int(vals[0], TAGS[name][1].startswith("i"))

    def bytes(self, name, default=None):
        vals = self.all(name)
        return vals[0] if vals else default

    def str(self, name, default=None):
        v = self.bytes(name)
        return v.decode() if v is not None else default

    def records(self, name="ENTRY"):
        return [Fields(v) for v in self.all(name)]

    def __repr__(self):
        return "Fields(%s)" % ", ".join(
            "%s=%r" % (TAG_BY_NUM.get(t, ("0x%x" % t,))[0], v[:40]) for t, v in self.raw)


class Frame:
    def __init__(self, stream, type_, flags, payload):
        self.stream, self.type, self.flags, self.payload = stream, type_, flags, payload

    def fields(self):
        return Fields(self.payload)

    def data(self):
        ch, off = DATA_PREFIX.unpack_from(self.payload)
        return ch, off, self.payload[DATA_PREFIX.size:]

    def __repr__(self):
        return "Frame(stream=%d type=0x%02x flags=%d len=%d)" % (
            self.stream, self.type, self.flags, len(self.payload))


class Result:
    """What came back on one stream: events, DATA per channel, terminal."""

    def __init__(self, stream):
        self.stream = stream
        self.events = []
        self.data = {}
        self.offsets = {}
        self.data_frames = 0
        self.terminal = None

    @property
    def ok(self):
        return self.terminal is not None and self.terminal.type == RESULT

    @property
    def fields(self):
        return self.terminal.fields()

    @property
    def code(self):
        if self.terminal.type != ERROR:
            return 0
        return self.fields.int("CODE")

    @property
    def code_name(self):
        return ERRORS[self.code] if self.code < len(ERRORS) else str(self.code)

    @property
    def errno(self):
        return self.fields.int("ERRNO", 0)

    @property
    def message(self):
        return self.fields.str("MESSAGE", "")

    def out(self, channel=1):
        return self.data.get(channel, b"")

    def __repr__(self):
        if self.terminal is None:
            return "Result(open)"
        if self.ok:
            return "Result(ok %r)" % self.fields
        return "Result(%s %r)" % (self.code_name, self.message)


class ProtocolClosed(Exception):
    pass


class Client:
    def __init__(self, sock=None, rfile=None, wfile=None, proc=None):
        self.sock, self.proc = sock, proc
        self.rfd = sock.fileno() if sock else rfile
        self.wfd = sock.fileno() if sock else wfile
        self.buf = bytearray()
        self.next_stream = 1
        self.pending = {}      # stream -> Result
        self.credit = {}       # stream -> DATA bytes we may send
        self.peer_window = 262144
        self.max_frame = 65536
        self.window = 4 << 20  # we grant this per stream
        self.auto_window = True
        self.conn_errors = []  # ERROR frames on stream 0

    # -- transport
    @classmethod
    def unix(cls, path, hello=True, token=None, timeout=30):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(timeout)
        s.connect(path)
        c = cls(sock=s)
        if hello:
            c.hello(token=token)
        return c

    @classmethod
    def command(cls, argv, hello=True, token=None):
        p = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        c = cls(rfile=p.stdout.fileno(), wfile=p.stdin.fileno(), proc=p)
        if hello:
            c.hello(token=token)
        return c

    def __del__(self):
        if self.sock:
            self.sock.close()

    def close(self):
        if self.sock:
            self.sock.close()
        if self.proc:
            self.proc.stdin.close()
            try:
                self.proc.wait(10)
            finally:
                self.proc.stdout.close()
        self.sock = self.proc = None

    def write_raw(self, b):
        if self.sock:
            self.sock.sendall(b)  # honours the socket timeout; os.write would not
            return
        view = memoryview(b)
        while view:
            n = os.write(self.wfd, view)
            view = view[n:]

    def read_some(self, timeout):
        r, _, _ = select.select([self.rfd], [], [], timeout)
        if not r:
            raise TimeoutError("no frame within %ss" % timeout)
        chunk = os.read(self.rfd, 1 << 20)
        if not chunk:
            raise ProtocolClosed("runner closed the connection")
        self.buf += chunk

    # -- frames
    def send(self, type_, fields=(), stream=None, flags=0, payload=None):
        if stream is None:
            stream = self.next_stream
            self.next_stream += 1
        if payload is None:
            payload = encode_fields(fields)
        self.write_raw(HDR.pack(6 + len(payload), stream, type_, flags) + payload)
        if type_ not in (DATA, WINDOW, CANCEL, HELLO):
            self.pending[stream] = Result(stream)
            self.credit[stream] = self.peer_window
        return stream

    def send_data(self, stream, data, fin=False, channel=0, offset=0):
        self.write_raw(HDR.pack(6 + 9 + len(data), stream, DATA, FIN if fin else 0)
                       + DATA_PREFIX.pack(channel, offset) + data)
        self.credit[stream] = self.credit.get(stream, 0) - len(data)

    def cancel(self, stream):
        self.write_raw(HDR.pack(6, stream, CANCEL, 0))

    def grant(self, stream, n):
        self.write_raw(HDR.pack(10, stream, WINDOW, 0) + struct.pack(">I", n))

    def recv(self, timeout=30):
        while True:
            if len(self.buf) >= 10:
                length, stream, type_, flags = HDR.unpack_from(self.buf)
                if length < 6:
                    raise ValueError("bad frame length %d" % length)
                total = 4 + length
                if len(self.buf) >= total:
                    payload = bytes(self.buf[10:total])
                    del self.buf[:total]
                    f = Frame(stream, type_, flags, payload)
                    self._account(f)
                    return f
            self.read_some(timeout)

    def _account(self, f):
        if f.type == WINDOW and len(f.payload) == 4:
            self.credit[f.stream] = self.credit.get(f.stream, 0) + struct.unpack(">I", f.payload)[0]
        if f.type == ERROR and f.stream == 0:
            self.conn_errors.append(f)
        res = self.pending.get(f.stream)
        if res is None:
            return
        if f.type == DATA:
            ch, off, data = f.data()
            res.offsets.setdefault(ch, off)
            res.data[ch] = res.data.get(ch, b"") + data
            res.data_frames += 1
            if self.auto_window and data:
                self.grant(f.stream, len(data))
        elif f.type == EVENT:
            res.events.append(f.fields())
        elif f.type in (RESULT, ERROR):
            res.terminal = f
            del self.pending[f.stream]
            self._done = getattr(self, "_done", {})
            self._done[f.stream] = res

    def wait(self, stream, timeout=30):
        done = getattr(self, "_done", {})
        while stream not in done:
            self.recv(timeout)
            done = self._done if hasattr(self, "_done") else {}
        return done.pop(stream)

    def call(self, type_, fields=(), timeout=30, payload=None):
        return self.wait(self.send(type_, fields, payload=payload), timeout)

    def hello(self, token=None, version=1, extra=()):
        fields = [("VERSION", version), ("SOFTWARE", "rproto"),
                  ("MAX_FRAME", 8 << 20), ("WINDOW", self.window)] + list(extra)
        if token is not None:
            fields.append(("TOKEN", token))
        self.send(HELLO, fields, stream=0)
        f = self.recv()
        if f.type == ERROR:
            raise ProtocolClosed("HELLO refused: %r" % f.fields())
        assert f.type == HELLO and f.stream == 0, f
        h = f.fields()
        self.max_frame = h.int("MAX_FRAME", 65536)
        self.peer_window = h.int("WINDOW", 262144)
        self.server_hello = h
        return h
