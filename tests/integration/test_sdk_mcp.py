"""The MCP server (runner_client.mcp) driven by a real MCP client nobody
here wrote: the official TypeScript SDK (@modelcontextprotocol/sdk, put in
$BUILD_DIR/node by tools/deps) over stdio, against a real runner.  The
server runs as the `runner-mcp` console script of the package installed
offline the documented way (venv --system-site-packages, pip install
--no-build-isolation), so packaging is tested too.
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import unittest

from harness import ROOT, RunnerTest

# tools/deps puts it under build/deps (DEPS_ROOT), whatever BUILD_DIR is.
SDK_DIR = os.path.join(ROOT, os.environ.get("DEPS_ROOT", "build"), "deps", "node")
SDK_MARK = os.path.join(SDK_DIR, "node_modules", "@modelcontextprotocol", "sdk", "package.json")
CLIENT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "mcp", "client.mjs")
SYS_PY = "/usr/bin/python3"


def cannot_run(why):
    if os.environ.get("CI") == "true":
        raise AssertionError("MCP suite cannot run under CI=true: " + why)
    raise unittest.SkipTest("SKIP MCP: " + why)


def install_venv(dest):
    """The README's offline install; returns the venv's bin directory."""
    src = os.path.join(dest, "src")
    # A copy: pip's build leaves build/ and *.egg-info beside the sources.
    shutil.copytree(os.path.join(ROOT, "tools", "python"), src)
    venv = os.path.join(dest, "venv")
    subprocess.run([SYS_PY, "-m", "venv", "--system-site-packages", venv], check=True,
                   capture_output=True, timeout=120)
    r = subprocess.run([os.path.join(venv, "bin", "pip"), "install", "--no-build-isolation",
                        "--no-index", "--no-deps", src], capture_output=True, timeout=300)
    if r.returncode != 0:
        raise AssertionError("pip install ./tools/python failed:\n" +
                             r.stdout.decode(errors="replace")[-2000:] +
                             r.stderr.decode(errors="replace")[-2000:])
    return os.path.join(venv, "bin")


class TestMcpWithOfficialClient(RunnerTest):
    @classmethod
    def setUpClass(cls):
        if not shutil.which("node"):
            cannot_run("node is not installed (tools/deps test)")
        if not os.path.exists(SDK_MARK):
            cannot_run("%s is missing (tools/deps test installs it)" % SDK_MARK)
        if not os.path.exists(SYS_PY):
            cannot_run("%s is missing" % SYS_PY)
        super().setUpClass()
        cls.tmp = tempfile.mkdtemp(prefix="sdk-mcp-")
        try:
            cls.bin = install_venv(cls.tmp)
        except BaseException:
            shutil.rmtree(cls.tmp, ignore_errors=True)
            super().tearDownClass()
            raise

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)
        super().tearDownClass()

    def drive(self, *server):
        work = os.path.join(self.r.tmp, "mcp-work")
        r = subprocess.run(["node", CLIENT, SDK_DIR, work, "--"] + list(server),
                           capture_output=True, timeout=180,
                           env=dict(os.environ, PYTHONPATH=""))
        self.assertEqual(r.returncode, 0, r.stderr.decode(errors="replace")[-3000:])
        return json.loads(r.stdout), work

    def test_official_client_lists_and_calls_tools(self):
        out, work = self.drive(os.path.join(self.bin, "runner-mcp"),
                               "--connect", "unix:" + self.r.sock)
        self.assertEqual(out["server"]["name"], "runner-mcp")
        self.assertIn("tools", out["capabilities"])
        names = {t["name"] for t in out["tools"]}
        self.assertTrue({"sandbox_exec", "sandbox_read_file", "sandbox_write_file",
                         "sandbox_edit_file", "sandbox_process_start"} <= names)
        self.assertFalse(out["exec"]["isError"])
        self.assertIn("hello-mcp", out["exec"]["text"])
        self.assertIn("exit code: 0", out["exec"]["text"])
        self.assertIn("cwd: " + work, out["exec"]["text"])
        self.assertIn("Created", out["write"]["text"])
        self.assertIn("     2\tprint(x)", out["read"]["text"])
        self.assertTrue(out["editNotUnique"]["isError"])
        self.assertIn("occurs 2 times", out["editNotUnique"]["text"])
        self.assertFalse(out["edit"]["isError"], out["edit"])
        self.assertIn("     1\tx = 2", out["readAfter"]["text"])
        with open(os.path.join(work, "app.py")) as f:  # the runner's fs is ours here
            self.assertEqual(f.read(), "x = 2\nprint(x)\nx = 1\n")
        # notifications/cancelled reached the runner as CANCEL
        self.assertTrue(out["cancelled"].startswith("rejected"), out["cancelled"])
        self.assertFalse(out["afterCancel"]["isError"], out["afterCancel"])
        self.assertIn("free", out["afterCancel"]["text"])
        self.assertEqual(out["ping"], {})

    def test_module_form_and_older_protocol_version(self):
        # python3 -m runner_client.mcp, raw JSON-RPC as a 2024-11-05 client
        py = os.path.join(self.bin, "python3")
        msgs = [
            {"jsonrpc": "2.0", "id": 1, "method": "initialize",
             "params": {"protocolVersion": "2024-11-05", "capabilities": {},
                        "clientInfo": {"name": "old", "version": "0"}}},
            {"jsonrpc": "2.0", "method": "notifications/initialized"},
            {"jsonrpc": "2.0", "id": 2, "method": "tools/list"},
            {"jsonrpc": "2.0", "id": 3, "method": "no/such"},
            {"jsonrpc": "2.0", "id": 5, "method": "prompts/list"},
            {"jsonrpc": "2.0", "id": 4, "method": "tools/call",
             "params": {"name": "sandbox_exec", "arguments": {"command": "echo old"}}},
        ]
        inp = "".join(json.dumps(m) + "\n" for m in msgs) + "not json\n"
        r = subprocess.run([py, "-m", "runner_client.mcp", "--connect", "unix:" + self.r.sock],
                           input=inp.encode(), capture_output=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)  # EOF: a clean exit
        got = {}
        for line in r.stdout.decode().splitlines():
            m = json.loads(line)
            got[m.get("id")] = m
        self.assertEqual(got[1]["result"]["protocolVersion"], "2024-11-05")
        self.assertEqual(len(got[2]["result"]["tools"]), 14)
        self.assertEqual(got[3]["error"]["code"], -32601)
        self.assertEqual(got[5]["result"], {"prompts": []})
        self.assertIn("old", got[4]["result"]["content"][0]["text"])
        self.assertEqual(got[None]["error"]["code"], -32700)

    def test_cancel_that_overtakes_the_call_still_cancels_it(self):
        # notifications/cancelled right behind tools/call, before the call
        # has opened its stream: the EXEC is cancelled as soon as it is sent
        msgs = [{"jsonrpc": "2.0", "id": 1, "method": "tools/call",
                 "params": {"name": "sandbox_exec", "arguments": {"command": "sleep 100"}}},
                {"jsonrpc": "2.0", "method": "notifications/cancelled",
                 "params": {"requestId": 1, "reason": "test"}},
                {"jsonrpc": "2.0", "id": 2, "method": "ping"}]
        p = subprocess.Popen([os.path.join(self.bin, "runner-mcp"), "--connect",
                              "unix:" + self.r.sock], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE)
        p.stdin.write("".join(json.dumps(m) + "\n" for m in msgs).encode())
        p.stdin.flush()
        self.assertEqual(json.loads(p.stdout.readline())["id"], 2)
        # the session is free again well before the 100 s sleep would end
        sb_py = os.path.join(ROOT, "tools", "python")
        sys.path.insert(0, sb_py)
        import runner_client as rc
        with rc.Runner.connect("unix:" + self.r.sock) as sb:
            for _ in range(300):
                try:
                    self.assertEqual(sb.exec("echo free").output, "free\n")
                    break
                except rc.Busy:
                    time.sleep(0.1)
            else:
                self.fail("the cancelled call's command still runs")
        p.stdin.close()
        self.assertEqual(p.stdout.read(), b"")  # no answer for the cancelled call
        p.stdout.close()
        self.assertEqual(p.wait(30), 0)

    def test_unreachable_runner_is_a_tool_error_not_a_dead_server(self):
        msgs = [{"jsonrpc": "2.0", "id": 1, "method": "tools/call",
                 "params": {"name": "sandbox_exec", "arguments": {"command": "true"}}},
                {"jsonrpc": "2.0", "id": 2, "method": "ping"}]
        r = subprocess.run([os.path.join(self.bin, "runner-mcp"), "--connect",
                            "unix:" + os.path.join(self.tmp, "nobody.sock")],
                           input="".join(json.dumps(m) + "\n" for m in msgs).encode(),
                           capture_output=True, timeout=60)
        self.assertEqual(r.returncode, 0)
        got = {json.loads(l)["id"]: json.loads(l) for l in r.stdout.decode().splitlines()}
        self.assertTrue(got[1]["result"]["isError"])
        self.assertIn("cannot reach the sandbox", got[1]["result"]["content"][0]["text"])
        self.assertEqual(got[2]["result"], {})


if __name__ == "__main__":
    unittest.main()
