"""runner_client.tools: the catalog's definitions and dispatch() results,
shaped for a model, against the real runner."""
import json
import os
import re
import sys
import time

from harness import ROOT, RunnerTest

sys.path.insert(0, os.path.join(ROOT, "tools", "python"))
import runner_client as rc  # noqa: E402
from runner_client import tools  # noqa: E402

REQUIRED = {"sandbox_exec", "sandbox_read_file", "sandbox_write_file", "sandbox_edit_file",
            "sandbox_list_dir", "sandbox_find", "sandbox_grep", "sandbox_delete",
            "sandbox_move", "sandbox_diff", "sandbox_process_start",
            "sandbox_process_output", "sandbox_process_stop", "sandbox_exec_continue"}


class TestDefinitions(RunnerTest):
    def test_catalog_is_complete_and_valid_json_schema(self):
        defs = tools.definitions()
        self.assertEqual({d["name"] for d in defs}, REQUIRED)
        for d in defs:
            json.dumps(d)  # as an API takes it
            self.assertRegex(d["name"], r"^[a-zA-Z0-9_-]{1,64}$")
            self.assertGreater(len(d["description"]), 40, d["name"])
            s = d["input_schema"]
            self.assertEqual(s["type"], "object")
            self.assertTrue(set(s["required"]) <= set(s["properties"]), d["name"])
            for name, p in s["properties"].items():
                self.assertIn(p["type"], ("string", "integer", "boolean"), name)
                self.assertTrue(p.get("description"), (d["name"], name))
        oa = tools.openai_tools()
        self.assertEqual(oa[0]["type"], "function")
        self.assertIn("parameters", oa[0]["function"])
        self.assertIn("inputSchema", tools.mcp_tools()[0])

    def test_clip_keeps_head_and_tail_and_says_so(self):
        text = "".join("line %d\n" % i for i in range(10000))
        out = tools.clip(text, 2000)
        self.assertLessEqual(len(out), 2000 + 300)
        self.assertTrue(out.startswith("line 0\n"))
        self.assertTrue(out.endswith("line 9999\n"))
        self.assertRegex(out, r"\[\.\.\. \d+ characters \(\d+ lines\) of output omitted")

    def test_strip_ansi(self):
        self.assertEqual(tools.strip_ansi("\x1b[1;31mred\x1b[0m \x1b]0;title\x07ok"), "red ok")
        self.assertEqual(tools.strip_ansi("10%\r50%\r100%\ndone\n"), "100%\ndone\n")


class TestDispatch(RunnerTest):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.sb = rc.Runner.connect("unix:" + cls.r.sock)
        cls.d = os.path.join(cls.r.tmp, "ws")

    @classmethod
    def tearDownClass(cls):
        cls.sb.close()
        super().tearDownClass()

    def call(self, name, **args):
        text, err = tools.dispatch_result(self.sb, name, args)
        self.assertIsInstance(text, str)
        return text, err

    def ok(self, name, **args):
        text, err = self.call(name, **args)
        self.assertFalse(err, text)
        return text

    def test_exec_states_exit_code_and_cwd_without_ansi(self):
        t = self.ok("sandbox_exec", command="mkdir -p %s && cd %s && printf '\\033[32mgreen\\033[0m\\n'; false"
                    % (self.d, self.d))
        self.assertIn("exit code: 1", t)
        self.assertIn("cwd: %s" % self.d, t)
        self.assertIn("green", t)
        self.assertNotIn("\x1b", t)
        t = self.ok("sandbox_exec", command="pwd", cwd="/")
        self.assertIn("--- output ---\n/\n", t)

    def test_exec_budget_and_timeout_said_in_words(self):
        t = self.ok("sandbox_exec", command="seq 1 200000")
        self.assertLessEqual(len(t), tools.DEFAULT_BUDGET + 500)
        self.assertIn("omitted", t)
        self.assertIn("\n200000\n", t + "\n")
        t = self.ok("sandbox_exec", command="echo begun; sleep 30; echo never", timeout=1)
        self.assertIn("still running after 1 s", t)
        t, err = self.call("sandbox_exec", command="true")
        self.assertTrue(err)
        self.assertIn("sandbox_exec_continue", t)   # busy: says the way out
        t = self.ok("sandbox_exec_continue", interrupt=True, wait=20)
        self.assertIn("exit code: 130", t)
        self.assertNotIn("never", t)
        t = self.ok("sandbox_exec_continue")
        self.assertIn("No command is waiting", t)

    def test_prompt_comes_back_and_is_answered(self):
        t = self.ok("sandbox_exec", command="read -p 'name? ' n < /dev/tty; echo hi $n",
                    timeout=60)
        self.assertIn("waits for input", t)
        self.assertIn("name? ", t)
        t = self.ok("sandbox_exec_continue", input="bob\n", wait=30)
        self.assertIn("exit code: 0", t)
        self.assertIn("hi bob", t)

    def test_exec_stdin_and_cwd_for_one_command(self):
        t = self.ok("sandbox_exec", command="tr a-z A-Z", stdin="shout\n")
        self.assertIn("SHOUT", t)
        t = self.ok("sandbox_exec", command="cd /; pwd")
        t = self.ok("sandbox_exec", command="pwd", cwd="/tmp")
        self.assertIn("\n/tmp\n", t)
        self.assertIn("ran in: /tmp", t)
        t = self.ok("sandbox_exec", command="pwd")
        self.assertIn("cwd: /\n", t)  # the session's own directory stayed

    def test_write_read_with_line_numbers_and_paging(self):
        f = os.path.join(self.d, "pkg", "m.py")
        t = self.ok("sandbox_write_file", path=f,
                    content="".join("v%d = %d\n" % (i, i) for i in range(1, 31)))
        self.assertIn("Created", t)
        t = self.ok("sandbox_read_file", path=f, offset=10, limit=3)
        self.assertEqual(t.splitlines()[:3], ["    10\tv10 = 10", "    11\tv11 = 11",
                                              "    12\tv12 = 12"])
        self.assertIn("of 30", t)
        self.assertIn("offset=13", t)
        self.sb.files.write(f + ".bin", b"\x7fELF\x00\x01")
        t = self.ok("sandbox_read_file", path=f + ".bin")
        self.assertIn("binary file", t)
        self.sb.files.write(f + ".long", "x" * 5000 + "\nend\n")
        t = self.ok("sandbox_read_file", path=f + ".long")
        self.assertIn("bytes cut]", t)
        self.assertIn("     2\tend", t)
        self.assertLess(len(t), 3000)

    def test_edit_unique_not_unique_not_found(self):
        f = os.path.join(self.d, "e.txt")
        self.ok("sandbox_write_file", path=f, content="a = 1\nb = 1\na = 1\n")
        t, err = self.call("sandbox_edit_file", path=f, old_string="a = 1", new_string="a = 2")
        self.assertTrue(err)
        self.assertIn("occurs 2 times", t)
        self.assertIn("more surrounding", t)
        t = self.ok("sandbox_edit_file", path=f, old_string="a = 1\nb", new_string="a = 2\nb")
        self.assertIn("replaced 1 occurrence", t)
        t, err = self.call("sandbox_edit_file", path=f, old_string="zzz", new_string="y")
        self.assertTrue(err)
        self.assertIn("not found", t)
        self.assertEqual(self.sb.files.read(f), b"a = 2\nb = 1\na = 1\n")

    def test_list_find_grep_diff_move_delete(self):
        base = os.path.join(self.d, "tree")
        for p in ("src/app.py", "src/lib/util.py", "src/lib/x.txt", "README"):
            self.sb.files.write(os.path.join(base, p), "def main():\n    pass\n", parents=True)
        t = self.ok("sandbox_list_dir", path=base)
        self.assertIn("src/", t)
        self.assertRegex(t, r"README  \(\d+ B\)")
        t = self.ok("sandbox_find", pattern="src/**/*.py", path=base)
        self.assertIn(os.path.join(base, "src/app.py"), t)
        self.assertIn(os.path.join(base, "src/lib/util.py"), t)
        self.assertNotIn("x.txt", t)
        t = self.ok("sandbox_find", pattern="*.txt", path=base)
        self.assertIn("1 match", t)
        t = self.ok("sandbox_grep", pattern=r"(?i)DEF\s+ma\w+", path=base, include="*.py")
        self.assertIn("2 matching lines in 2 files", t)
        self.assertIn(os.path.join(base, "src/app.py") + ":1:def main():", t)
        self.ok("sandbox_write_file", path=base + "/README2", content="def main():\n    run()\n")
        t = self.ok("sandbox_diff", path_a=base + "/README", path_b=base + "/README2")
        self.assertIn("-    pass\n+    run()", t)
        t = self.ok("sandbox_diff", path_a=base + "/README", new_content="def main():\n    go()\n")
        self.assertIn("+    go()", t)
        self.ok("sandbox_move", source=base + "/README2", destination=base + "/R3")
        t, err = self.call("sandbox_delete", path=base + "/src")
        self.assertTrue(err)
        self.assertIn("recursive=true", t)
        self.ok("sandbox_delete", path=base + "/src", recursive=True)
        t, err = self.call("sandbox_read_file", path=base + "/src/app.py")
        self.assertTrue(err)
        self.assertIn("does not exist", t)

    def test_walks_skip_what_gitignore_excludes_unless_asked(self):
        base = os.path.join(self.d, "ign")
        for p in ("src/m.py", "node_modules/dep/i.py", "src/n.py"):
            self.sb.files.write(os.path.join(base, p), "token\n", parents=True)
        self.sb.files.write(os.path.join(base, ".gitignore"), "node_modules/\n")
        self.sb.files.mkdir(os.path.join(base, ".git"))
        t = self.ok("sandbox_find", pattern="**/*.py", path=base)
        self.assertIn("2 matches", t)
        self.assertNotIn("node_modules", t)
        t = self.ok("sandbox_find", pattern="**/*.py", path=base, include_ignored=True)
        self.assertIn("node_modules/dep/i.py", t)
        t = self.ok("sandbox_grep", pattern="token", path=base, output_mode="files_with_matches")
        self.assertIn("2 files with matches", t)
        self.assertNotIn("node_modules", t)
        t = self.ok("sandbox_grep", pattern="token", path=base, output_mode="count")
        self.assertIn(os.path.join(base, "src/m.py") + ":1", t)
        t = self.ok("sandbox_list_dir", path=base)
        self.assertNotIn("node_modules", t)
        t = self.ok("sandbox_find", pattern="*.py", path=base, max_results=1,
                    include_ignored=True)
        self.assertIn("2 more matches not shown", t)

    def test_process_start_output_stop(self):
        t = self.ok("sandbox_process_start",
                    command="echo ready; while :; do sleep 0.1; done")
        pid = int(re.search(r"pid (\d+)", t).group(1))
        t = ""
        for _ in range(200):
            t = self.ok("sandbox_process_output", pid=pid)
            if "ready" in t:
                break
            time.sleep(0.1)
        self.assertIn("still running", t)
        self.assertIn("ready", t)
        t = self.ok("sandbox_process_output", pid=pid)
        self.assertIn("(no new output)", t)  # the offset moved on
        t = self.ok("sandbox_process_stop", pid=pid)
        self.assertIn("signal 15", t)
        t = self.ok("sandbox_process_output", pid=pid, from_start=True)
        self.assertIn("ready", t)

    def test_bad_arguments_and_unknown_tool_are_text(self):
        t, err = self.call("sandbox_exec")
        self.assertTrue(err)
        self.assertIn("missing required argument `command`", t)
        t, err = self.call("sandbox_nope")
        self.assertTrue(err)
        self.assertIn("unknown tool", t)
        t, err = self.call("sandbox_process_output", pid=999999)
        self.assertTrue(err)
        self.assertIn("no such process", t)


if __name__ == "__main__":
    import unittest
    unittest.main()
