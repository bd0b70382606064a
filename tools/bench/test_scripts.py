#!/usr/bin/env python3
"""test_scripts.py - the bench's Python side on a synthetic results.json.

    python3 tools/bench/test_scripts.py        (make bench-selftest)

No runner, no timing: report must turn every kind of row (latency,
throughput, value, refused, concurrency, soak) into a table and SVGs that
parse; readme-table must replace exactly the marked span, idempotently,
and refuse a README without markers; check's verdict must flag a ratio
that got much worse or a row that now fails, and nothing else.
"""
import importlib.machinery
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest
import xml.etree.ElementTree as ET

HERE = os.path.dirname(os.path.abspath(__file__))


def load_script(name):
    loader = importlib.machinery.SourceFileLoader(name.replace("-", "_"),
                                                  os.path.join(HERE, name))
    spec = importlib.util.spec_from_loader(loader.name, loader)
    mod = importlib.util.module_from_spec(spec)
    loader.exec_module(mod)
    return mod


def read(path):
    with open(path) as f:
        return f.read()


def lat(rid, group, median, base=None, ratio=None, **kw):
    r = {"id": rid, "group": group, "title": "%s | title" % rid,
         "kind": "latency", "unit": "us", "status": "ok", "ok": True, "n": 100,
         "median": median, "p90": median * 1.2, "p99": median * 2,
         "min": median * 0.8, "max": median * 3, "mean": median,
         "ops_per_s": 1e6 / median, "quantiles": [median] * 21,
         "round_medians": [median] * 3}
    if base:
        r["baseline"], r["ratio"] = base, ratio
    r.update(kw)
    return r


def sample_results():
    rows = [
        {"id": "binary_size", "group": "sys", "title": "size", "kind": "value",
         "unit": "bytes", "status": "ok", "ok": True, "value": 300000,
         "target": {"metric": "value", "op": "<=", "value": 256000,
                    "actual": 300000, "met": False}},
        lat("socket_echo", "baseline", 3.5),
        lat("ping", "sys", 4.0, "socket_echo", 1.14),
        lat("sh_c_true", "baseline", 800),
        lat("exec_true", "shell", 50, "sh_c_true", 0.0625,
            target={"metric": "median", "op": "<=", "value": 300,
                    "actual": 50, "met": True}),
        {"id": "spawn_true", "group": "proc", "title": "spawn", "kind": "latency",
         "unit": "us", "status": "n/a (E_UNSUPPORTED)", "ok": False,
         "baseline": "posix_spawn_true"},
        {"id": "cat_file", "group": "baseline", "title": "floor: cat",
         "kind": "throughput", "unit": "MB/s", "status": "ok", "ok": True,
         "n": 3, "median": 5000, "p90": 5000, "p99": 5000, "min": 4000,
         "max": 6000, "mean": 5000, "round_medians": [4000, 5000, 6000]},
        {"id": "spawn_pipe_tput", "group": "proc", "title": "pipes",
         "kind": "throughput", "unit": "MB/s", "status": "ok", "ok": True,
         "n": 3, "median": 2000, "p90": 2000, "p99": 2000, "min": 1900,
         "max": 2100, "mean": 2000, "round_medians": [1900, 2000, 2100],
         "baseline": "cat_file", "ratio": 2.5},
        {"id": "conc_ping", "group": "concurrency", "title": "PING: agg",
         "kind": "value", "unit": "ops/s", "status": "ok", "ok": True,
         "value": 2e5, "series": {"name": "s", "x": [1, 4, 16, 64],
                                  "y": [2e5, 1.8e5, 1.5e5, 1.4e5]}},
        lat("conc_ping_1", "concurrency", 4, extra={"clients": 1,
                                                    "agg_ops_per_s": 2e5}),
        lat("conc_ping_4", "concurrency", 16, extra={"clients": 4,
                                                     "agg_ops_per_s": 1.8e5}),
        {"id": "conc_exec", "group": "concurrency", "title": "EXEC: agg",
         "kind": "value", "unit": "ops/s", "status": "n/a (E_UNSUPPORTED)",
         "ok": False},
        {"id": "soak_ping", "group": "soak", "title": "soak", "kind": "value",
         "unit": "KiB", "status": "ok", "ok": True, "value": 0,
         "extra": {"requests": 1000, "rss_settled_kib": 400,
                   "rss_end_kib": 400, "fd_growth": 0, "seconds": 1},
         "series": {"name": "rss", "x": [0, 500, 1000], "y": [400, 400, 400]}},
    ]
    return {"schema": 1, "time": "2026-01-01T00:00:00Z", "quick": True,
            "host": {"kernel": "k", "machine": "m", "cpus": 2,
                     "workdir": "/w", "docker": False},
            "rows": rows}


class Scripts(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="bench-selftest-")
        self.addCleanup(shutil.rmtree, self.tmp, True)
        self.results = os.path.join(self.tmp, "results.json")
        with open(self.results, "w") as f:
            json.dump(sample_results(), f)

    def run_script(self, *argv):
        return subprocess.run([sys.executable] + list(argv),
                              capture_output=True, text=True)

    def test_report_writes_table_and_parseable_svgs(self):
        out = os.path.join(self.tmp, "out")
        r = self.run_script(os.path.join(HERE, "report"), self.results, out)
        self.assertEqual(r.returncode, 0, r.stderr)
        table = read(os.path.join(out, "table.md"))
        self.assertIn("n/a (E_UNSUPPORTED)", table)
        self.assertIn("**16× faster**", table)       # exec vs sh -c true
        self.assertIn("≤ 300 µs ✅", table)
        self.assertIn("❌", table)                      # binary size
        self.assertIn("ping \\| title", table)          # cell separator escaped
        for name in ("latency", "latency-cdf", "throughput", "concurrency",
                     "soak"):
            ET.parse(os.path.join(out, name + ".svg"))

    def test_readme_span_replaced_idempotently(self):
        readme = os.path.join(self.tmp, "README.md")
        with open(readme, "w") as f:
            f.write("# t\n\nbefore\n<!-- bench:begin -->\nstale\n"
                    "<!-- bench:end -->\nafter\n")
        argv = [os.path.join(HERE, "readme-table"), "--readme", readme,
                "--snapshot", os.path.join(self.tmp, "snap"), self.results]
        r = self.run_script(*argv)
        self.assertEqual(r.returncode, 0, r.stderr)
        first = read(readme)
        self.assertNotIn("stale", first)
        self.assertTrue(first.startswith("# t\n\nbefore\n<!-- bench:begin -->\n"))
        self.assertTrue(first.endswith("<!-- bench:end -->\nafter\n"))
        self.assertIn("](snap/table.md)", first)
        self.assertTrue(os.path.exists(os.path.join(self.tmp, "snap", "latency.svg")))
        self.run_script(*argv)
        self.assertEqual(read(readme), first)

    def test_readme_without_markers_is_refused_untouched(self):
        readme = os.path.join(self.tmp, "README.md")
        with open(readme, "w") as f:
            f.write("no markers\n")
        r = self.run_script(os.path.join(HERE, "readme-table"), "--readme", readme,
                            "--snapshot", os.path.join(self.tmp, "snap"),
                            self.results)
        self.assertEqual(r.returncode, 1)
        self.assertIn("bench:begin", r.stderr)
        self.assertEqual(read(readme), "no markers\n")

    def test_check_verdict(self):
        check = load_script("check")
        ref = {"ratio": 1.0, "ok": True, "status": "ok"}
        self.assertIsNone(check.verdict(ref, {"ok": True, "ratio": 1.9}, 2.0))
        self.assertIsNone(check.verdict(ref, {"ok": True, "ratio": 0.2}, 2.0))
        self.assertIn("x2.50", check.verdict(ref, {"ok": True, "ratio": 2.5}, 2.0))
        self.assertIn("now: error",
                      check.verdict(ref, {"ok": False, "status": "error (x)"}, 2.0))
        # A feature this build lacks is not a slowdown.
        self.assertIsNone(check.verdict(
            ref, {"ok": False, "status": "n/a (E_UNSUPPORTED)"}, 2.0))
        # Rows without a ratio are never judged.
        self.assertIsNone(check.verdict({"ok": True}, {"ok": False,
                                                      "status": "error"}, 2.0))


if __name__ == "__main__":
    unittest.main(verbosity=2)
