"""The agent tool catalog: tool definitions an LLM tool-calling API takes
as they are, and dispatch() that runs one and returns model-ready text.

    from runner_client import Runner, tools
    sb = Runner.connect("docker:box")
    defs = tools.definitions()          # [{"name", "description", "input_schema"}]
    text = tools.dispatch(sb, "sandbox_exec", {"command": "ls"})

Shapes for the common APIs: ``definitions()`` (Anthropic: input_schema),
``openai_tools()`` (OpenAI: {"type": "function", "function": {... "parameters"}}),
``mcp_tools()`` (MCP: inputSchema).

Every result is text for a model: ANSI escapes stripped, at most
``budget`` characters (head and tail kept, the cut said in words), exit
code and working directory stated.  A failure is text too, starting with
"Error:" and saying what to do next; dispatch_result() also returns a flag.
"""
import re
import threading
import weakref
from typing import Any, Callable, Dict, List, Optional, Tuple

from . import errors as E

DEFAULT_BUDGET = 20000          # characters per result
EXEC_TIMEOUT = 120.0            # seconds, when the model gives none
READ_LINES = 2000               # lines per read, when the model gives no limit
MAX_LINE = 2000                 # characters per line shown by read_file
LIST_MAX = 1000                 # entries shown by list_dir / find
GREP_MAX = 300                  # matching lines shown by grep

_ANSI = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)"
                   r"|\x1b[PX^_][^\x1b]*\x1b\\|\x1b[@-Z\\-_]")
_CTRL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def strip_ansi(text: str) -> str:
    """Remove escape sequences and control characters but \\t and \\n;
    a \\r keeps only what was printed after it on its line (progress bars)."""
    text = _ANSI.sub("", text).replace("\r\n", "\n")
    if "\r" in text:
        text = "\n".join(line.rsplit("\r", 1)[-1] if "\r" in line.rstrip("\r")
                         else line.rstrip("\r") for line in text.split("\n"))
    return _CTRL.sub("", text)


def clip(text: str, budget: int = DEFAULT_BUDGET, what: str = "output") -> str:
    """At most ``budget`` characters: the head and the tail, with the cut
    said in words in the middle."""
    if len(text) <= budget:
        return text
    head = budget * 2 // 5
    tail = budget - head
    # cut at line boundaries when one is near, so lines are not split
    h = text.rfind("\n", head - 200, head)
    head = h + 1 if h > 0 else head
    t = text.find("\n", len(text) - tail, len(text) - tail + 200)
    start = t + 1 if t > 0 else len(text) - tail
    omitted = start - head
    lines = text.count("\n", head, start)
    return ("%s\n[... %d characters (%d lines) of %s omitted here; the %s was %d characters "
            "in all. Narrow the command (grep, head, tail, a line range) to see that part ...]\n%s"
            % (text[:head].rstrip("\n"), omitted, lines, what, what, len(text), text[start:]))


# ---------------------------------------------------------------- definitions

def _schema(props: Dict[str, Any], required: List[str]) -> Dict[str, Any]:
    return {"type": "object", "properties": props, "required": required,
            "additionalProperties": False}


_S = {"type": "string"}
_I = {"type": "integer"}
_B = {"type": "boolean"}

TOOLS: List[Dict[str, Any]] = [
    {"name": "sandbox_exec",
     "description": (
         "Run a shell command (bash) in the sandbox's persistent shell session and return its "
         "output (stdout and stderr interleaved), exit code and the working directory "
         "afterwards. State persists between calls: `cd`, exported variables and functions "
         "stay. Use for builds, tests, git, package managers and anything a terminal does. "
         "The command's stdin is empty unless you pass `stdin`. If it is still running after "
         "`timeout` seconds, or stops to wait for keyboard input (a password or y/N prompt), "
         "you get its output so far and it keeps running: then use sandbox_exec_continue to "
         "wait for it, answer the prompt, or interrupt it. For servers and jobs that should "
         "run in the background use sandbox_process_start instead. Prefer sandbox_read_file "
         "/ sandbox_grep / sandbox_find over cat / grep / find."),
     "input_schema": _schema({
         "command": dict(_S, description="The command line or script (multi-line is fine)."),
         "timeout": dict(_I, description="Seconds to wait before returning with the output "
                         "so far (default %d); the command is not stopped." % EXEC_TIMEOUT,
                         minimum=1),
         "cwd": dict(_S, description="Directory to run this command in (the session's own "
                     "directory stays as it was)."),
         "stdin": dict(_S, description="Text given to the command on its standard input."),
     }, ["command"])},
    {"name": "sandbox_exec_continue",
     "description": (
         "Continue with the command that sandbox_exec left running (it was still running at "
         "its timeout, or waits for input): optionally type `input` into its terminal (end "
         "a line with \\n) or `interrupt` it (Ctrl-C), then wait up to `wait` seconds and "
         "return the output since last time, and its exit code if it ended."),
     "input_schema": _schema({
         "input": dict(_S, description="Text to type into the command's terminal, e.g. "
                       "\"y\\n\"."),
         "interrupt": dict(_B, description="Send Ctrl-C (SIGINT) to the command first."),
         "wait": dict(_I, description="Seconds to wait (default 30).", minimum=0,
                      maximum=3600),
     }, [])},
    {"name": "sandbox_read_file",
     "description": (
         "Read a text file from the sandbox. Returns the lines with line numbers "
         "(`  12\\tcode`), %d lines at most per call unless `limit` says otherwise, and says "
         "how many lines the file has so you can page with `offset`. Read a file before "
         "editing it." % READ_LINES),
     "input_schema": _schema({
         "path": dict(_S, description="Absolute path of the file."),
         "offset": dict(_I, description="First line to read, 1-based (default 1).", minimum=1),
         "limit": dict(_I, description="Number of lines to read (default %d)." % READ_LINES,
                       minimum=1),
     }, ["path"])},
    {"name": "sandbox_write_file",
     "description": (
         "Create or overwrite a file in the sandbox with the given content (atomically: "
         "readers see the old or the new file). Missing parent directories are created. "
         "To change part of an existing file prefer sandbox_edit_file."),
     "input_schema": _schema({
         "path": dict(_S, description="Absolute path of the file."),
         "content": dict(_S, description="The complete new content of the file."),
     }, ["path", "content"])},
    {"name": "sandbox_edit_file",
     "description": (
         "Replace an exact piece of text in a file. `old_string` must match the file "
         "exactly (whitespace and indentation included) and occur exactly once, unless "
         "`replace_all` is true; if it occurs several times you are told how many, so add "
         "surrounding lines to make it unique. Use sandbox_read_file first to see the "
         "exact text."),
     "input_schema": _schema({
         "path": dict(_S, description="Absolute path of the file."),
         "old_string": dict(_S, description="The exact text to replace (non-empty)."),
         "new_string": dict(_S, description="The text to put in its place."),
         "replace_all": dict(_B, description="Replace every occurrence (default false)."),
     }, ["path", "old_string", "new_string"])},
    {"name": "sandbox_list_dir",
     "description": ("List a directory of the sandbox: names, types and sizes (what "
                     ".gitignore excludes, and .git, left out)."),
     "input_schema": _schema({
         "path": dict(_S, description="Absolute path of the directory."),
         "depth": dict(_I, description="Levels to list (default 1).", minimum=1, maximum=10),
         "hidden": dict(_B, description="Include names starting with '.' (default false)."),
         "include_ignored": dict(_B, description="Also list what .gitignore excludes."),
     }, ["path"])},
    {"name": "sandbox_find",
     "description": (
         "Find files by glob pattern under a directory, e.g. `*.py`, `test_*.py`, "
         "`src/**/*.ts`, `*.{js,ts}` (a pattern with '/' is matched against the path "
         "relative to `path`; `**` spans directories). Files that .gitignore excludes, and "
         ".git, are skipped unless include_ignored is true. Returns matching paths, sorted "
         "by path or, with sort=mtime, newest first."),
     "input_schema": _schema({
         "pattern": dict(_S, description="Glob pattern."),
         "path": dict(_S, description="Directory to search (default /)."),
         "type": dict(_S, enum=["file", "dir", "symlink"],
                      description="Only entries of this type."),
         "sort": dict(_S, enum=["path", "mtime"],
                      description="path (default) or mtime: most recently modified first."),
         "include_ignored": dict(_B, description="Also list what .gitignore excludes."),
         "max_results": dict(_I, description="At most this many (default %d)." % LIST_MAX,
                             minimum=1),
     }, ["pattern"])},
    {"name": "sandbox_grep",
     "description": (
         "Search file contents with a regular expression (ripgrep/Rust syntax: \\d \\w "
         "\\s \\b, (?i), [^...], alternation; no look-around or back-references) under a "
         "file or directory, recursively; binary files, .git and what .gitignore excludes "
         "are skipped. output_mode `content` (default) gives `path:line:text` per matching "
         "line; `files_with_matches` only the file paths; `count` matches per file."),
     "input_schema": _schema({
         "pattern": dict(_S, description="Regular expression (or a literal string with "
                         "fixed=true)."),
         "path": dict(_S, description="File or directory to search (default /)."),
         "include": dict(_S, description="Only files matching this glob, e.g. `*.py`, "
                         "`*.{ts,tsx}` or `src/**/*.go`."),
         "output_mode": dict(_S, enum=["content", "files_with_matches", "count"],
                             description="What to return (default content)."),
         "ignore_case": dict(_B, description="Case-insensitive (default false)."),
         "word": dict(_B, description="Match whole words only."),
         "fixed": dict(_B, description="Treat the pattern as a literal string."),
         "context": dict(_I, description="Lines of context before and after each match.",
                         minimum=0, maximum=20),
         "include_ignored": dict(_B, description="Also search what .gitignore excludes."),
         "max_results": dict(_I, description="At most this many results (default %d)."
                             % GREP_MAX, minimum=1),
     }, ["pattern"])},
    {"name": "sandbox_delete",
     "description": "Delete a file, a symlink, or a directory (recursive=true for a non-empty one).",
     "input_schema": _schema({
         "path": dict(_S, description="Absolute path."),
         "recursive": dict(_B, description="Delete a directory and everything in it."),
     }, ["path"])},
    {"name": "sandbox_move",
     "description": "Move or rename a file or directory (an existing file at the destination is replaced).",
     "input_schema": _schema({
         "source": dict(_S, description="Absolute path to move."),
         "destination": dict(_S, description="Absolute new path."),
     }, ["source", "destination"])},
    {"name": "sandbox_diff",
     "description": (
         "Show a unified diff: between two files of the sandbox (path_a, path_b), or between "
         "a file and the content it would get (path_a, new_content) to check a change "
         "before writing it."),
     "input_schema": _schema({
         "path_a": dict(_S, description="The old file."),
         "path_b": dict(_S, description="The new file."),
         "new_content": dict(_S, description="Instead of path_b: the text path_a would have."),
     }, ["path_a"])},
    {"name": "sandbox_process_start",
     "description": (
         "Start a long-running command in the background (a dev server, a watcher, a long "
         "build) and return at once with its pid. It keeps running between calls; read its "
         "output with sandbox_process_output and stop it with sandbox_process_stop."),
     "input_schema": _schema({
         "command": dict(_S, description="Shell command line to run (bash -c)."),
         "cwd": dict(_S, description="Working directory."),
     }, ["command"])},
    {"name": "sandbox_process_output",
     "description": (
         "Read what a background process printed since the last call for this pid (or "
         "from the start with from_start=true), and whether it still runs or its exit code."),
     "input_schema": _schema({
         "pid": dict(_I, description="The pid sandbox_process_start returned."),
         "from_start": dict(_B, description="Everything from the beginning (default false)."),
         "wait": dict(_I, description="Seconds to wait for the process to exit first "
                      "(default 0).", minimum=0, maximum=600),
     }, ["pid"])},
    {"name": "sandbox_process_stop",
     "description": (
         "Stop a background process: SIGTERM to it and what it started, SIGKILL after a "
         "few seconds if it is still running. Returns its last output and exit code."),
     "input_schema": _schema({
         "pid": dict(_I, description="The pid sandbox_process_start returned."),
         "signal": dict(_S, description="Signal to send first (default TERM)."),
     }, ["pid"])},
]


def definitions() -> List[Dict[str, Any]]:
    """Anthropic-style definitions: name, description, input_schema."""
    return [dict(t) for t in TOOLS]


def openai_tools() -> List[Dict[str, Any]]:
    return [{"type": "function", "function": {"name": t["name"], "description": t["description"],
                                              "parameters": t["input_schema"]}} for t in TOOLS]


def mcp_tools() -> List[Dict[str, Any]]:
    return [{"name": t["name"], "description": t["description"],
             "inputSchema": t["input_schema"]} for t in TOOLS]


# ---------------------------------------------------------------- dispatch

class ToolError(Exception):
    """A mistake in the arguments: reported to the model as text."""


def _arg(args: Dict[str, Any], name: str, kind: type, default: Any = None,
         required: bool = False) -> Any:
    v = args.get(name)
    if v is None:
        if required:
            raise ToolError("missing required argument `%s`" % name)
        return default
    if kind is int and isinstance(v, str) and v.strip().lstrip("-").isdigit():
        v = int(v)
    if kind is int and isinstance(v, float) and v.is_integer():
        v = int(v)
    if kind is bool and isinstance(v, str):
        v = v.lower() in ("1", "true", "yes")
    if not isinstance(v, kind) or (kind is int and isinstance(v, bool)):
        raise ToolError("argument `%s` must be a %s" % (name, kind.__name__))
    return v


class Toolbox:
    """dispatch() with state: where each background process's output was
    last read.  One per sandbox (tools.dispatch keeps one for you)."""

    def __init__(self, sandbox: Any, budget: int = DEFAULT_BUDGET):
        self.sb = sandbox
        self.budget = budget
        self.offsets: Dict[int, Tuple[int, int]] = {}
        self._handlers: Dict[str, Callable[[Dict[str, Any]], str]] = {
            t["name"]: getattr(self, "_" + t["name"][len("sandbox_"):]) for t in TOOLS}

    def dispatch_result(self, name: str, arguments: Optional[Dict[str, Any]]) -> Tuple[str, bool]:
        """(text, is_error)."""
        h = self._handlers.get(name)
        if h is None:
            return ("Error: unknown tool %r; the tools are: %s"
                    % (name, ", ".join(self._handlers)), True)
        try:
            return clip(h(dict(arguments or {})), self.budget), False
        except ToolError as e:
            return "Error: %s." % e, True
        except E.RunnerError as e:
            return "Error: %s" % _explain(name, arguments or {}, e), True

    def dispatch(self, name: str, arguments: Optional[Dict[str, Any]]) -> str:
        return self.dispatch_result(name, arguments)[0]

    # -- handlers
    def _exec(self, a: Dict[str, Any]) -> str:
        cmd = _arg(a, "command", str, required=True)
        timeout = _arg(a, "timeout", int, int(EXEC_TIMEOUT))
        stdin = _arg(a, "stdin", str)
        cwd = _arg(a, "cwd", str)
        r = self.sb.exec(cmd, yield_after=timeout, output_limit=256 << 10, cwd=cwd,
                         stdin=stdin)
        if cwd:
            # The RESULT's CWD may be read before the runner puts the
            # session's directory back: say where the command ran instead.
            r.cwd = None
            return self._exec_report(r, timeout).replace(
                "\n--- output ---\n", "\nran in: %s (the session's directory is unchanged)"
                "\n--- output ---\n" % cwd, 1)
        return self._exec_report(r, timeout)

    def _exec_continue(self, a: Dict[str, Any]) -> str:
        wait = _arg(a, "wait", int, 30)
        sess = self.sb.session("main")
        if _arg(a, "interrupt", bool, False):
            sess.signal("INT")
        text = _arg(a, "input", str)
        if text:
            sess.write_stdin(text)
        try:
            r = self.sb.exec_wait(yield_after=max(wait, 0.001))
        except E.NotFound:
            return ("No command is waiting: it ended and its result was already returned, "
                    "or none was left running. Start one with sandbox_exec.")
        return self._exec_report(r, wait)

    def _exec_report(self, r: Any, waited: int) -> str:
        out = strip_ansi(r.output)
        if r.running:
            state = ("still running: it waits for input (use sandbox_exec_continue with "
                     "`input`, or `interrupt` it)" if r.waiting_input else
                     "still running after %d s; it goes on (sandbox_exec_continue waits for "
                     "it, or interrupts it)" % waited)
            head = ["status: " + state]
        else:
            head = ["exit code: %d" % r.exit_code]
            if r.timed_out:
                head[0] += " (interrupted by its timeout)"
        if r.respawned and r.restored:
            head.append("note: the shell was restarted during this command (exit, exec or a "
                        "kill); its cwd, variables and functions were restored")
        elif r.respawned:
            head.append("note: the shell was restarted during this command (exit, exec or a "
                        "kill): variables and cwd were reset")
        if r.cwd:
            head.append("cwd: %s" % r.cwd)
        if r.truncated:
            head.append("note: the runner kept only the start and the end of %d bytes of output"
                        % r.total_bytes)
        body = clip(out, self.budget - 400) if out else "(no output)"
        return "\n".join(head) + "\n--- output ---\n" + body

    def _read_file(self, a: Dict[str, Any]) -> str:
        path = _arg(a, "path", str, required=True)
        first = max(1, _arg(a, "offset", int, 1))
        limit = max(1, _arg(a, "limit", int, READ_LINES))
        rr = self.sb.files.read_full(path, line_from=first, line_to=first + limit - 1,
                                     line_numbers=True, max_line=MAX_LINE, binary_check=True,
                                     max_bytes=self.budget)
        if rr.binary:
            return "%s is a binary file (%s); not shown." % (path, _size(rr.size))
        body = rr.data.decode("utf-8", "replace").rstrip("\n")
        total = rr.total_lines or 0
        if not body:
            if total == 0:
                return "%s is empty." % path
            return "%s has %d lines; offset %d is past the end." % (path, total, first)
        if rr.truncated and "\n" in body:
            body = body.rsplit("\n", 1)[0]  # MAX_BYTES may cut the last line mid-way
        shown = body.count("\n") + 1
        last = first + shown - 1
        note = "(lines %d-%d of %d" % (first, last, total)
        if rr.truncated:
            note += "; the output reached %d characters, so it stops at line %d" % (
                self.budget, last)
        note += "; read on with offset=%d)" % (last + 1) if last < total else ")"
        return body + "\n" + note

    def _write_file(self, a: Dict[str, Any]) -> str:
        path = _arg(a, "path", str, required=True)
        content = _arg(a, "content", str, required=True)
        r = self.sb.files.write(path, content, parents=True)
        return "%s %s (%d bytes, %d lines)." % ("Created" if r.created else "Overwrote", path,
                                               r.size, content.count("\n"))

    def _edit_file(self, a: Dict[str, Any]) -> str:
        path = _arg(a, "path", str, required=True)
        old = _arg(a, "old_string", str, required=True)
        new = _arg(a, "new_string", str, required=True)
        if not old:
            raise ToolError("`old_string` is empty; to create a file use sandbox_write_file")
        if old == new:
            raise ToolError("`old_string` and `new_string` are the same; nothing would change")
        n = self.sb.files.edit(path, old, new, replace_all=_arg(a, "replace_all", bool, False))
        return "Edited %s: replaced %d occurrence%s." % (path, n, "" if n == 1 else "s")

    def _list_dir(self, a: Dict[str, Any]) -> str:
        path = _arg(a, "path", str, required=True)
        depth = _arg(a, "depth", int, 1)
        recs = self.sb.files.ls(path, depth=depth, hidden=_arg(a, "hidden", bool, False),
                                max_results=LIST_MAX,
                                ignore=not _arg(a, "include_ignored", bool, False))
        lines = []
        for e in recs:
            if e.type == "dir":
                lines.append(e.path + "/")
            elif e.type == "symlink":
                lines.append("%s -> %s" % (e.path, e.target))
            elif e.type == "file":
                lines.append("%s  (%s)" % (e.path, _size(e.size or 0)))
            else:
                lines.append("%s  (%s)" % (e.path, e.type))
        if not lines:
            return "%s is empty." % path
        if recs.summary is not None and recs.summary.truncated:
            lines.append("[... %s more entries not shown: list a subdirectory or use "
                         "sandbox_find]" % _more(recs.summary))
        return "%s:\n%s" % (path, "\n".join(lines))

    def _find(self, a: Dict[str, Any]) -> str:
        pattern = _arg(a, "pattern", str, required=True)
        root = _arg(a, "path", str, "/")
        cap = _arg(a, "max_results", int, LIST_MAX)
        recs = self.sb.files.find(root, pattern, type=_arg(a, "type", str), max_results=cap,
                                  sort=_arg(a, "sort", str, "path"),
                                  ignore=not _arg(a, "include_ignored", bool, False))
        found = [e.path + ("/" if e.type == "dir" else "") for e in recs]
        if not found:
            return "No entries under %s match %s." % (root, pattern)
        tail = ""
        if recs.summary is not None and recs.summary.truncated:
            tail = ("\n[... %s more matches not shown: narrow the pattern or the path]"
                    % _more(recs.summary))
        return "%d match%s:\n%s%s" % (len(found), "" if len(found) == 1 else "es",
                                     "\n".join(found), tail)

    def _grep(self, a: Dict[str, Any]) -> str:
        pattern = _arg(a, "pattern", str, required=True)
        path = _arg(a, "path", str, "/")
        cap = _arg(a, "max_results", int, GREP_MAX)
        mode = {"content": "lines", "files_with_matches": "files", "count": "count"}.get(
            _arg(a, "output_mode", str, "content"))
        if mode is None:
            raise ToolError("output_mode is one of content, files_with_matches, count")
        recs = self.sb.files.grep(pattern, path, include=_arg(a, "include", str),
                                  ignore_case=_arg(a, "ignore_case", bool, False),
                                  word=_arg(a, "word", bool, False),
                                  fixed=_arg(a, "fixed", bool, False),
                                  context=_arg(a, "context", int, 0), max_results=cap,
                                  mode=mode, max_line=500, syntax="rust",
                                  ignore=not _arg(a, "include_ignored", bool, False))
        lines, files, nmatch = [], set(), 0
        for m in recs:
            files.add(m.path)
            if mode == "files":
                lines.append(m.path)
                continue
            if mode == "count":
                lines.append("%s:%d" % (m.path, m.count or 0))
                nmatch += m.count or 0
                continue
            text = strip_ansi(m.text)
            if m.truncated:
                text += " [... line cut: %d characters in all]" % (m.size or 0)
            sep = ":" if m.match else "-"
            lines.append("%s%s%d%s%s" % (m.path, sep, m.line, sep, text))
            nmatch += 1 if m.match else 0
        if not lines:
            return "No matches for %s under %s." % (pattern, path)
        if mode == "files":
            head = "%d file%s with matches" % (len(files), "" if len(files) == 1 else "s")
        else:
            head = "%d matching line%s in %d file%s" % (
                nmatch, "" if nmatch == 1 else "s", len(files), "" if len(files) == 1 else "s")
        if recs.summary is not None and recs.summary.truncated:
            head += " (stopped at %d, %s more not shown: narrow the pattern, path or include)" \
                % (cap, _more(recs.summary))
        return head + ":\n" + "\n".join(lines)

    def _delete(self, a: Dict[str, Any]) -> str:
        path = _arg(a, "path", str, required=True)
        self.sb.files.remove(path, recursive=_arg(a, "recursive", bool, False))
        return "Deleted %s." % path

    def _move(self, a: Dict[str, Any]) -> str:
        src = _arg(a, "source", str, required=True)
        dst = _arg(a, "destination", str, required=True)
        self.sb.files.move(src, dst)
        return "Moved %s to %s." % (src, dst)

    def _diff(self, a: Dict[str, Any]) -> str:
        pa = _arg(a, "path_a", str, required=True)
        pb = _arg(a, "path_b", str)
        text = _arg(a, "new_content", str)
        if (pb is None) == (text is None):
            raise ToolError("give either `path_b` or `new_content`")
        d = self.sb.files.diff(pa, pb, text=text) if text is not None else \
            self.sb.files.diff(pa, pb)
        if d:
            return d
        return "The files are identical." if pb else "No change: the content is the same."

    def _process_start(self, a: Dict[str, Any]) -> str:
        cmd = _arg(a, "command", str, required=True)
        p = self.sb.spawn(["/bin/sh", "-c", cmd], background=True, cwd=_arg(a, "cwd", str))
        self.offsets[p.pid] = (0, 0)
        return ("Started pid %d: %s\nIt runs in the background; read its output with "
                "sandbox_process_output (pid %d), stop it with sandbox_process_stop."
                % (p.pid, cmd, p.pid))

    def _process_output(self, a: Dict[str, Any]) -> str:
        pid = _arg(a, "pid", int, required=True)
        wait = _arg(a, "wait", int, 0)
        p = self.sb.process(pid)
        if wait:
            try:
                p.wait(timeout=wait)
            except E.Timeout:
                pass  # still running: say so below
        since = (0, 0) if _arg(a, "from_start", bool, False) else self.offsets.get(pid, (0, 0))
        out = p.output(since)
        self.offsets[pid] = out.next_offset
        return _proc_report(pid, out, self.budget)

    def _process_stop(self, a: Dict[str, Any]) -> str:
        pid = _arg(a, "pid", int, required=True)
        sig = _arg(a, "signal", str, "TERM")
        p = self.sb.process(pid)
        try:
            p.signal(sig)
        except E.NotFound:
            pass  # exited already (its group is gone): report what it left
        try:
            p.wait(timeout=5)
        except E.Timeout:
            p.signal("KILL")
            p.wait(timeout=10)
        out = p.output(self.offsets.get(pid, (0, 0)))
        self.offsets.pop(pid, None)
        return _proc_report(pid, out, self.budget)


def _proc_report(pid: int, out: Any, budget: int) -> str:
    res = out.result
    if res is None or res.running:
        state = "pid %d is still running" % pid
    elif res.term_signal:
        state = "pid %d was ended by signal %d (exit code %d)" % (pid, res.term_signal,
                                                                  res.exit_code)
    else:
        state = "pid %d exited with code %d" % (pid, res.exit_code)
    text = strip_ansi((out.stdout + out.stderr).decode("utf-8", "replace"))
    parts = [state]
    if out.dropped:
        parts.append("note: %d bytes of older output were no longer buffered" % out.dropped)
    parts.append("--- new output ---" if text else "(no new output)")
    if text:
        parts.append(clip(text, budget - 300))
    if out.stderr and out.stdout:
        parts.append("(stdout shown first, then stderr)")
    return "\n".join(parts)


def _more(summary: Any) -> str:
    return ("at least %d" if summary.more_is_lower_bound else "%d") % summary.more


def _size(n: int) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return ("%d %s" % (n, unit)) if unit == "B" else ("%.1f %s" % (n, unit))
        n /= 1024  # type: ignore[assignment]
    return str(n)


def _explain(tool: str, args: Dict[str, Any], e: E.RunnerError) -> str:
    path = args.get("path") or args.get("source") or args.get("path_a") or ""
    if isinstance(e, E.NotUnique):
        return ("`old_string` occurs %s times in %s. Include more surrounding lines in "
                "`old_string` so it matches exactly one place, or set replace_all=true to "
                "change every occurrence." % (e.count if e.count is not None else "several",
                                              path))
    if isinstance(e, E.NotMatched):
        return ("`old_string` was not found in %s. It must match exactly, whitespace and "
                "indentation included: read the file with sandbox_read_file and copy the text."
                % path)
    if isinstance(e, E.NotFound):
        if tool.startswith("sandbox_process"):
            return "no such process (pid %s): it was never started here or is forgotten." % (
                args.get("pid"),)
        return "%s does not exist (%s)." % (path or "the target", e.message)
    if isinstance(e, E.Busy):
        return ("the shell session is still running an earlier command. Use "
                "sandbox_exec_continue to wait for it, answer it, or interrupt it "
                "(interrupt=true); use sandbox_process_start for long-running jobs.")
    if isinstance(e, E.IsADirectory):
        return "%s is a directory; use sandbox_list_dir." % path
    if isinstance(e, E.NotADirectory):
        return "%s is not a directory." % path
    if isinstance(e, E.NotEmpty):
        return "%s is not empty; pass recursive=true to delete it with its contents." % path
    if isinstance(e, E.BadPattern):
        return "invalid pattern: %s" % e.message
    if isinstance(e, E.PermissionDenied):
        return "permission denied: %s" % e.message
    if isinstance(e, E.ExecFailed):
        return "could not execute: %s" % e.message
    return str(e)


_boxes: "weakref.WeakKeyDictionary[Any, Toolbox]" = weakref.WeakKeyDictionary()
_boxes_lock = threading.Lock()


def toolbox(sandbox: Any) -> Toolbox:
    with _boxes_lock:
        tb = _boxes.get(sandbox)
        if tb is None:
            tb = _boxes[sandbox] = Toolbox(sandbox)
        return tb


def dispatch(sandbox: Any, name: str, arguments: Optional[Dict[str, Any]] = None) -> str:
    """Run tool ``name`` with ``arguments`` (a dict, as the model sent it)
    on ``sandbox`` (a runner_client.Runner); returns text for the model."""
    return toolbox(sandbox).dispatch(name, arguments)


def dispatch_result(sandbox: Any, name: str,
                    arguments: Optional[Dict[str, Any]] = None) -> Tuple[str, bool]:
    """(text, is_error): for protocols that flag errors (MCP's isError)."""
    return toolbox(sandbox).dispatch_result(name, arguments)


__all__ = ["TOOLS", "definitions", "openai_tools", "mcp_tools", "dispatch", "dispatch_result",
           "Toolbox", "toolbox", "strip_ansi", "clip"]
