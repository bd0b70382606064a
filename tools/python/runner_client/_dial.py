"""Dialers: the same targets as runnerctl (tools/runnerctl/client.c).

    unix:PATH (or a bare /PATH)   a unix stream socket
    docker:CTR                    ${DOCKER:-docker} exec -i CTR /sbin/runner attach
    kubectl:[NS/]POD[:CTR]        ${KUBECTL:-kubectl} [--context C] exec -i [-n NS] POD [-c CTR] -- /sbin/runner attach
    vsock:CID:PORT                AF_VSOCK
    fc:UDS:PORT                   Firecracker hybrid vsock ("CONNECT PORT\\n" -> "OK ...\\n")
    cmd:COMMAND                   sh -c COMMAND, speaking over its stdin/stdout

The target defaults to $RUNNER_CONNECT, then unix:/run/runner.sock.  The
token comes from the argument, a token file, or $RUNNER_TOKEN.
"""
import os
import shlex
import socket
import subprocess
from typing import List, Optional, Tuple, Union

DEFAULT_TARGET = "unix:/run/runner.sock"


class DialError(OSError):
    """The target could not be reached (before any protocol)."""


def resolve_target(target: Optional[str]) -> str:
    return target or os.environ.get("RUNNER_CONNECT") or DEFAULT_TARGET


TOKEN_MIN, TOKEN_MAX = 16, 256  # PROTOCOL.md §3


def read_token_file(path: str) -> bytes:
    """The token in path as the runner reads its own --token-file: every
    byte (a NUL or a newline in the middle belongs to it), one trailing
    newline removed.  ValueError if it is not TOKEN_MIN..TOKEN_MAX bytes:
    a cut token would only ever be refused."""
    with open(path, "rb") as f:
        data = f.read(TOKEN_MAX + 2)  # one byte more than the longest + newline
    tok = data[:-1] if data.endswith(b"\n") else data
    if not TOKEN_MIN <= len(tok) <= TOKEN_MAX:
        raise ValueError("token file %s: too %s (a token is %d to %d bytes, one trailing "
                         "newline not counted)" % (path, "short" if len(tok) < TOKEN_MIN
                                                   else "long", TOKEN_MIN, TOKEN_MAX))
    return tok


def resolve_token(token: Union[str, bytes, None], token_file: Optional[str]) -> Optional[bytes]:
    if token is not None:
        return token.encode() if isinstance(token, str) else bytes(token)
    if token_file:
        return read_token_file(token_file)
    env = os.environb.get(b"RUNNER_TOKEN")
    if env and env.endswith(b"\n"):  # the runner's rule: one trailing newline is not in it
        env = env[:-1]
    return env or None


def _tool(var: str, default: str) -> List[str]:
    return shlex.split(os.environ.get(var) or default)


def kubectl_argv(spec: str, context: Optional[str] = None) -> List[str]:
    ns = None
    if "/" in spec:
        ns, spec = spec.split("/", 1)
    pod, _, ctr = spec.partition(":")
    if not pod:
        raise DialError("want kubectl:[NS/]POD[:CONTAINER], got kubectl:%s" % spec)
    argv = _tool("KUBECTL", "kubectl")
    if context:
        argv += ["--context", context]
    argv += ["exec", "-i"]
    if ns:
        argv += ["-n", ns]
    argv.append(pod)
    if ctr:
        argv += ["-c", ctr]
    return argv + ["--", "/sbin/runner", "attach"]


def parse(target: str, context: Optional[str] = None) -> Tuple:
    """target -> ("unix", path) | ("vsock", cid, port) | ("fc", path, port)
    | ("cmd", argv)."""
    if target.startswith("unix:"):
        return ("unix", target[5:])
    if target.startswith("/"):
        return ("unix", target)
    if target.startswith("vsock:"):
        try:
            cid, port = target[6:].split(":")
            return ("vsock", int(cid), int(port))
        except ValueError:
            raise DialError("want vsock:CID:PORT, got %s" % target) from None
    if target.startswith("fc:"):
        path, _, port = target[3:].rpartition(":")
        if not path or not port.isdigit():
            raise DialError("want fc:UDS_PATH:PORT, got %s" % target)
        return ("fc", path, int(port))
    if target.startswith("cmd:"):
        return ("cmd", ["/bin/sh", "-c", target[4:]])
    if target.startswith("docker:"):
        ctr = target[7:]
        if not ctr:
            raise DialError("want docker:CONTAINER")
        return ("cmd", _tool("DOCKER", "docker") + ["exec", "-i", ctr, "/sbin/runner", "attach"])
    if target.startswith("kubectl:"):
        return ("cmd", kubectl_argv(target[8:], context))
    raise DialError("unknown target %r (unix:PATH, cmd:COMMAND, docker:CTR, "
                    "kubectl:[NS/]POD[:CTR], vsock:CID:PORT, fc:UDS:PORT)" % target)


def fc_handshake_line(port: int) -> bytes:
    return b"CONNECT %d\n" % port


def fc_check_reply(line: bytes, port: int) -> None:
    if not line.startswith(b"OK "):
        raise DialError("fc: CONNECT %d refused: %r" % (port, line[:40]))


class Transport:
    """A blocking byte stream: a socket, or a child's stdin/stdout."""

    def __init__(self, sock: Optional[socket.socket] = None,
                 proc: Optional[subprocess.Popen] = None):
        self.sock, self.proc = sock, proc
        if sock is not None:
            self.rfd = self.wfd = sock.fileno()
        else:
            assert proc is not None and proc.stdin and proc.stdout
            self.rfd, self.wfd = proc.stdout.fileno(), proc.stdin.fileno()

    def read(self, n: int) -> bytes:
        if self.sock is not None:
            return self.sock.recv(n)
        return os.read(self.rfd, n)

    def write(self, b) -> None:
        if self.sock is not None:
            self.sock.sendall(b)
            return
        view = memoryview(b)
        while view:
            view = view[os.write(self.wfd, view):]

    def shutdown(self) -> None:
        """End the conversation so a reader blocked on it wakes up: a
        socket is shut down both ways; a relay gets EOF on its stdin and
        exits, which ends its stdout."""
        try:
            if self.sock is not None:
                self.sock.shutdown(socket.SHUT_RDWR)
            elif self.proc is not None and self.proc.stdin:
                self.proc.stdin.close()
        except OSError:
            pass  # already gone: nothing left to tell it

    def kill(self) -> None:
        if self.proc is not None:
            try:
                self.proc.kill()
            except OSError:
                pass  # already reaped

    def close(self) -> None:
        if self.sock is not None:
            self.sock.close()
            self.sock = None
        if self.proc is not None:
            p, self.proc = self.proc, None
            for f in (p.stdin, p.stdout):
                try:
                    if f is not None:
                        f.close()
                except OSError:
                    pass  # a broken pipe on close changes nothing
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()


def _read_line(sock: socket.socket, limit: int = 64) -> bytes:
    # byte by byte: nothing after '\n' is ours to eat
    line = b""
    while len(line) < limit:
        c = sock.recv(1)
        if not c:
            break
        line += c
        if c == b"\n":
            break
    return line


def dial(target: str, context: Optional[str] = None, timeout: float = 30.0) -> Transport:
    spec = parse(target, context)
    kind = spec[0]
    try:
        if kind in ("unix", "fc"):
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.settimeout(timeout)
            try:
                s.connect(spec[1])
                if kind == "fc":
                    s.sendall(fc_handshake_line(spec[2]))
                    fc_check_reply(_read_line(s), spec[2])
            except BaseException:
                s.close()
                raise
            s.settimeout(None)
            return Transport(sock=s)
        if kind == "vsock":
            s = socket.socket(socket.AF_VSOCK, socket.SOCK_STREAM)
            s.settimeout(timeout)
            try:
                s.connect((spec[1], spec[2]))
            except BaseException:
                s.close()
                raise
            s.settimeout(None)
            return Transport(sock=s)
        proc = subprocess.Popen(spec[1], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                bufsize=0, start_new_session=True)
        return Transport(proc=proc)
    except DialError:
        raise
    except OSError as e:
        raise DialError(e.errno, "cannot connect to %s: %s" % (target, e.strerror or e)) from None
