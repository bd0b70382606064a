"""An MCP server over stdio exposing the tool catalog (runner_client.tools).

    python3 -m runner_client.mcp --connect docker:box      (or: runner-mcp ...)

Model Context Protocol, JSON-RPC 2.0, one message per line on stdin and
stdout (stderr is for logs).  Protocol version 2025-06-18; clients that
speak 2024-11-05 or 2025-03-26 get their own version back.  Methods:
initialize, ping, tools/list, tools/call; notifications/initialized and
notifications/cancelled (which cancels the running call's requests in the
sandbox).  EOF on stdin ends the server cleanly.

The sandbox connection is made at the first tools/call (and again if it
was lost), so a runner that is not up yet is a tool error the model can
read, not a dead server.
"""
import argparse
import json
import sys
import threading
import time
from typing import Any, Dict, List, Optional

from . import __version__
from . import tools as T
from .client import Runner
from .errors import ConnectionClosed, RunnerError

LATEST = "2025-06-18"
SUPPORTED = ("2025-06-18", "2025-03-26", "2024-11-05")

EMPTY_LISTS = {"resources/list": "resources", "resources/templates/list": "resourceTemplates",
               "prompts/list": "prompts"}

PARSE_ERROR, INVALID_REQUEST, METHOD_NOT_FOUND, INVALID_PARAMS, INTERNAL = (
    -32700, -32600, -32601, -32602, -32603)


class _Track(list):
    """The streams one tool call opens; one opened after the call was
    cancelled is cancelled at once (the notification can overtake it)."""

    def __init__(self, server: "Server", rid: Any):
        super().__init__()
        self.server, self.rid = server, rid

    def append(self, s: Any) -> None:
        super().append(s)
        with self.server._lock:
            cancelled = self.rid in self.server._cancelled
        if cancelled:
            s.cancel()


class Server:
    def __init__(self, target: Optional[str], token_file: Optional[str] = None,
                 context: Optional[str] = None, budget: int = T.DEFAULT_BUDGET,
                 out: Any = None):
        self.target = target
        self.token_file = token_file
        self.context = context
        self.budget = budget
        self.out = out or sys.stdout
        self._wlock = threading.Lock()
        self._lock = threading.Lock()
        self._sb: Optional[Runner] = None
        self._box: Optional[T.Toolbox] = None
        self._calls: Dict[Any, List[Any]] = {}    # request id -> streams it opened
        self._cancelled: set = set()
        self._threads: List[threading.Thread] = []

    # -- output
    def send(self, msg: Dict[str, Any]) -> None:
        line = json.dumps(msg, ensure_ascii=False, separators=(",", ":"))
        with self._wlock:
            self.out.write(line + "\n")
            self.out.flush()

    def reply(self, rid: Any, result: Dict[str, Any]) -> None:
        self.send({"jsonrpc": "2.0", "id": rid, "result": result})

    def error(self, rid: Any, code: int, message: str) -> None:
        self.send({"jsonrpc": "2.0", "id": rid, "error": {"code": code, "message": message}})

    # -- the sandbox
    def toolbox(self) -> T.Toolbox:
        with self._lock:
            if self._sb is None or self._sb.closed:
                self._sb = Runner.connect(self.target, token_file=self.token_file,
                                          context=self.context)
                self._box = T.Toolbox(self._sb, self.budget)
                # The runner's own processes outlive a reconnect; offsets too.
            assert self._box is not None
            return self._box

    # -- dispatch
    def handle(self, msg: Any) -> None:
        if not isinstance(msg, dict) or msg.get("jsonrpc") != "2.0":
            self.error(msg.get("id") if isinstance(msg, dict) else None, INVALID_REQUEST,
                       "not a JSON-RPC 2.0 message")
            return
        method = msg.get("method")
        rid = msg.get("id")
        params = msg.get("params") or {}
        if method is None:
            return  # a response to something we never ask: ignore
        if rid is None:
            self.notification(method, params)
            return
        if method == "initialize":
            want = params.get("protocolVersion")
            self.reply(rid, {
                "protocolVersion": want if want in SUPPORTED else LATEST,
                "capabilities": {"tools": {"listChanged": False}},
                "serverInfo": {"name": "runner-mcp", "title": "runner sandbox",
                               "version": __version__},
                "instructions": ("Tools act inside one sandbox: a persistent bash session "
                                 "(sandbox_exec), its files and background processes."),
            })
        elif method == "ping":
            self.reply(rid, {})
        elif method in EMPTY_LISTS:
            # Some clients ask for these whatever the capabilities say: an
            # empty list reads better in their logs than an error.
            self.reply(rid, {EMPTY_LISTS[method]: []})
        elif method == "tools/list":
            self.reply(rid, {"tools": T.mcp_tools()})
        elif method == "tools/call":
            name = params.get("name")
            args = params.get("arguments") or {}
            if not isinstance(name, str) or not isinstance(args, dict):
                self.error(rid, INVALID_PARAMS, "tools/call needs a name and an arguments object")
                return
            if name not in {t["name"] for t in T.TOOLS}:
                self.error(rid, INVALID_PARAMS, "unknown tool: %s" % name)
                return
            th = threading.Thread(target=self.call, args=(rid, name, args), daemon=True)
            with self._lock:
                self._calls[rid] = []
                self._threads = [t for t in self._threads if t.is_alive()] + [th]
            th.start()
        else:
            self.error(rid, METHOD_NOT_FOUND, "method not found: %s" % method)

    def notification(self, method: str, params: Dict[str, Any]) -> None:
        if method == "notifications/cancelled":
            rid = params.get("requestId")
            with self._lock:
                streams = self._calls.get(rid)
                if streams is None:
                    return  # finished already, or never ours
                self._cancelled.add(rid)
                streams = list(streams)
            for s in streams:
                s.cancel()
        # notifications/initialized and anything else: nothing to do

    def call(self, rid: Any, name: str, args: Dict[str, Any]) -> None:
        streams = _Track(self, rid)
        with self._lock:
            self._calls[rid] = streams
        try:
            try:
                box = self.toolbox()
                with box.sb.connection.tracking(streams):
                    text, is_error = box.dispatch_result(name, args)
            except ConnectionClosed as e:
                text, is_error = "Error: the sandbox connection was lost (%s); the next call " \
                                 "reconnects." % e, True
            except (RunnerError, OSError) as e:
                text, is_error = "Error: cannot reach the sandbox at %s: %s" % (
                    self.target or "$RUNNER_CONNECT", e), True
        except Exception as e:  # a bug must not take the server down
            text, is_error = "Error: internal error in the tool server: %r" % (e,), True
        with self._lock:
            self._calls.pop(rid, None)
            cancelled = rid in self._cancelled
            self._cancelled.discard(rid)
        if not cancelled:  # a cancelled request gets no response (MCP spec)
            self.reply(rid, {"content": [{"type": "text", "text": text}], "isError": is_error})

    def serve(self, inp: Any = None) -> int:
        inp = inp or sys.stdin
        for line in inp:
            line = line.strip()
            if not line:
                continue
            try:
                msg = json.loads(line)
            except ValueError:
                self.error(None, PARSE_ERROR, "parse error: not JSON")
                continue
            if isinstance(msg, list):  # a batch (2024-11-05/2025-03-26 clients)
                for m in msg:
                    self.handle(m)
            else:
                self.handle(msg)
        self.shutdown()
        return 0

    def shutdown(self, grace: float = 5.0) -> None:
        """EOF: calls under way get `grace` seconds to answer (a client
        may close its end and still read); then what still runs is
        cancelled in the sandbox, and the connection closed."""
        with self._lock:
            threads = list(self._threads)
        end = time.monotonic() + grace
        for th in threads:
            th.join(max(0.0, end - time.monotonic()))
        with self._lock:
            pending = [s for lst in self._calls.values() for s in lst]
        for s in pending:
            s.cancel()
        for th in threads:
            th.join(15)
        with self._lock:
            sb, self._sb = self._sb, None
        if sb is not None:
            sb.close()


def main(argv: Optional[List[str]] = None) -> int:
    ap = argparse.ArgumentParser(prog="runner-mcp",
                                 description="MCP server (stdio) for a runner sandbox")
    ap.add_argument("--connect", metavar="TARGET",
                    help="unix:PATH, docker:CTR, kubectl:[NS/]POD[:C], vsock:CID:PORT, "
                         "fc:UDS:PORT, cmd:'...' (default $RUNNER_CONNECT)")
    ap.add_argument("--token-file", help="file holding the runner's token ($RUNNER_TOKEN)")
    ap.add_argument("--context", help="kubectl context for kubectl: targets")
    ap.add_argument("--budget", type=int, default=T.DEFAULT_BUDGET,
                    help="characters per tool result (default %(default)s)")
    a = ap.parse_args(argv)
    # stdout carries the protocol only; line-buffered text both ways
    out = open(sys.stdout.fileno(), "w", encoding="utf-8", buffering=1, closefd=False)
    inp = open(sys.stdin.fileno(), "r", encoding="utf-8", closefd=False)
    return Server(a.connect, a.token_file, a.context, a.budget, out=out).serve(inp)


if __name__ == "__main__":
    sys.exit(main())
