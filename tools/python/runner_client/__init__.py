"""runner_client: the Python SDK of runner (see README "Python").

    from runner_client import Runner
    with Runner.connect("docker:box") as sb:
        r = sb.exec("cd /workspace && make test", timeout=60)
        print(r.exit_code, r.cwd, r.output, r.truncated)

Modules: ``runner_client.aio`` (the same API with asyncio),
``runner_client.tools`` (tool definitions for LLM tool calling and
dispatch()), ``runner_client.mcp`` (an MCP server over stdio).
"""
from .client import (ExecStream, FileReader, Files, Process, ProcessOutput, Records, Runner,
                     Session)
from .errors import *  # noqa: F401,F403  (the typed exceptions)
from .errors import __all__ as _errors_all
from .types import (Entry, ExecResult, Info, Match, ProcessResult, ReadResult, SessionInfo,
                    Stat, Stats, Summary, WriteResult)
from ._dial import DialError

__version__ = "0.1.0"

connect = Runner.connect

__all__ = ["Runner", "connect", "Session", "Process", "Files", "ExecStream", "Records",
           "FileReader", "ProcessOutput", "Entry", "ExecResult", "Info", "Match",
           "ProcessResult", "ReadResult", "SessionInfo", "Stat", "Stats", "Summary",
           "WriteResult", "DialError"] + list(_errors_all)
