"""Typed exceptions: one class per protocol error code (PROTOCOL.md §8).

Every RunnerError carries ``code`` (the stable number), ``name``
(``E_NOT_FOUND``...), ``errno`` (the Linux errno behind it, 0 if none) and
``message`` (one line for a person).  Codes this SDK does not know map to
RunnerError itself, as the spec says a client should treat them (like E_IO).
"""
from typing import Dict, Optional, Type

CODE_NAMES = [
    "E_OK", "E_BAD_FRAME", "E_TOO_LARGE", "E_UNKNOWN_TYPE", "E_HELLO_REQUIRED",
    "E_AUTH", "E_VERSION", "E_BAD_REQUEST", "E_STREAM_IN_USE", "E_FLOW", "E_LIMIT",
    "E_CANCELLED", "E_TIMEOUT", "E_NOT_FOUND", "E_EXISTS", "E_PERMISSION", "E_IO",
    "E_EXEC", "E_UNSUPPORTED", "E_NOT_UNIQUE", "E_BUSY", "E_SHUTTING_DOWN", "E_ESCAPE",
    "E_BAD_PATTERN", "E_IS_DIR", "E_NOT_DIR", "E_NO_SPACE", "E_NOT_EMPTY",
    "E_NOT_MATCHED", "E_INTERNAL",
]


class RunnerError(Exception):
    """An ERROR frame from the runner, or a failure of the connection."""

    code = 0

    def __init__(self, message: str = "", code: Optional[int] = None, errno: int = 0,
                 count: Optional[int] = None):
        if code is not None:
            self.code = code
        self.message = message
        self.errno = errno
        self.count = count
        super().__init__(message)

    @property
    def name(self) -> str:
        if 0 <= self.code < len(CODE_NAMES):
            return CODE_NAMES[self.code]
        return "E_%d" % self.code

    def __str__(self) -> str:
        s = "%s: %s" % (self.name, self.message) if self.code else self.message
        if self.errno:
            s += " (errno %d)" % self.errno
        return s


class ConnectionClosed(RunnerError):
    """The connection ended (runner gone, closed locally, or a fatal
    connection-level ERROR); every operation still open gets this."""


class ProtocolError(RunnerError):
    """The runner sent something this client cannot parse."""


def _cls(name: str, code: int, doc: str, base: Type[RunnerError] = RunnerError):
    return type(name, (base,), {"code": code, "__doc__": doc})


BadFrame = _cls("BadFrame", 1, "A malformed frame; the runner closed the connection.")
TooLarge = _cls("TooLarge", 2, "A frame over the announced MAX_FRAME.")
UnknownType = _cls("UnknownType", 3, "The runner does not serve this request type.")
HelloRequired = _cls("HelloRequired", 4, "A request came before HELLO.")
AuthFailed = _cls("AuthFailed", 5, "Token missing or wrong; peer not allowed.")
VersionMismatch = _cls("VersionMismatch", 6, "No common protocol version.")
BadRequest = _cls("BadRequest", 7, "A missing, malformed or contradictory field.")
StreamInUse = _cls("StreamInUse", 8, "The stream id is already open.")
FlowError = _cls("FlowError", 9, "DATA beyond the granted credit.")
LimitExceeded = _cls("LimitExceeded", 10, "A configured limit of the runner was reached.")
Cancelled = _cls("Cancelled", 11, "The request was cancelled.")
Timeout = _cls("Timeout", 12, "A deadline passed.")
NotFound = _cls("NotFound", 13, "No such file, session or process.")
Exists = _cls("Exists", 14, "Already exists.")
PermissionDenied = _cls("PermissionDenied", 15, "EACCES, EPERM or EROFS.")
IOFailure = _cls("IOFailure", 16, "Another system error: see errno.")
ExecFailed = _cls("ExecFailed", 17, "A program could not be executed: see errno.")
Unsupported = _cls("Unsupported", 18, "Not available in this build or on this system.")
NotUnique = _cls("NotUnique", 19, "EDIT: the old text occurs `count` times.")
Busy = _cls("Busy", 20, "The session already runs a command.")
ShuttingDown = _cls("ShuttingDown", 21, "The runner is stopping.")
Escape = _cls("Escape", 22, "The path resolves outside the configured root.")
BadPattern = _cls("BadPattern", 23, "Invalid regular expression or glob.")
IsADirectory = _cls("IsADirectory", 24, "A directory where a file is needed.")
NotADirectory = _cls("NotADirectory", 25, "A file where a directory is needed.")
NoSpace = _cls("NoSpace", 26, "ENOSPC or EDQUOT.")
NotEmpty = _cls("NotEmpty", 27, "Directory not empty.")
NotMatched = _cls("NotMatched", 28, "EDIT: the old text does not occur.")
InternalError = _cls("InternalError", 29, "A bug in the runner.")

BY_CODE: Dict[int, Type[RunnerError]] = {
    c.code: c for c in (
        BadFrame, TooLarge, UnknownType, HelloRequired, AuthFailed, VersionMismatch,
        BadRequest, StreamInUse, FlowError, LimitExceeded, Cancelled, Timeout, NotFound,
        Exists, PermissionDenied, IOFailure, ExecFailed, Unsupported, NotUnique, Busy,
        ShuttingDown, Escape, BadPattern, IsADirectory, NotADirectory, NoSpace, NotEmpty,
        NotMatched, InternalError)
}


def from_fields(f) -> RunnerError:
    """An ERROR frame's fields -> the typed exception (not raised)."""
    code = f.int("CODE", 29) or 29
    cls = BY_CODE.get(code, RunnerError)
    return cls(f.str("MESSAGE", "") or "", code=code, errno=f.int("ERRNO", 0) or 0,
               count=f.int("COUNT"))


__all__ = ["RunnerError", "ConnectionClosed", "ProtocolError", "CODE_NAMES", "BY_CODE",
           "from_fields"] + [c.__name__ for c in BY_CODE.values()]
