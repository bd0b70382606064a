#!/usr/bin/env python3
"""tools/bench/python_sdk.py - the Python SDK's rows of `make bench`.

    python_sdk.py --runner build/runner --results build/bench/results.json [--quick]

Run by tools/bench/run after the C bench of the same run; adds to
results.json (group "python"):

  py_exec_true     EXEC `true` through runner_client on an open connection
                   (latency; baseline: the C client's exec_true row of this
                   run, so the ratio is the SDK's overhead; target <= 150 us)
  py_aio_exec_4x4  4 asyncio tasks, each EXEC `true` in its own session, over
                   one connection: aggregate ops/s (baseline: the serial
                   SDK figure above, as ops/s)

The runner is started as the C bench starts it (tools/bench/target.c).
Samples are taken in rounds after an untimed warm-up; the quantiles are
nearest-rank, as the C side reports them.
"""
import argparse
import asyncio
import json
import os
import signal
import subprocess
import sys
import tempfile
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tools", "python"))
import runner_client as rc  # noqa: E402
from runner_client import aio  # noqa: E402


class Target:
    def __init__(self, runner):
        self.tmp = tempfile.mkdtemp(prefix="runner-bench-py-")
        self.sock = os.path.join(self.tmp, "runner.sock")
        self.log = open(os.path.join(self.tmp, "runner.log"), "wb")
        self.proc = subprocess.Popen(
            ["unshare", "--fork", "--pid", "--mount-proc", "--kill-child", os.path.abspath(runner),
             "--listen", "unix:" + self.sock, "--log-level", "warn", "--user", "root",
             "--grace", "500"], stdout=self.log, stderr=self.log, cwd=self.tmp)
        end = time.monotonic() + 20
        while not os.path.exists(self.sock):
            if self.proc.poll() is not None or time.monotonic() > end:
                raise RuntimeError("runner did not start (log: %s)" % self.log.name)
            time.sleep(0.01)

    def stop(self):
        # unshare --fork ignores SIGTERM while it waits: signal the runner
        try:
            with open("/proc/%d/task/%d/children" % (self.proc.pid, self.proc.pid)) as f:
                for pid in f.read().split():
                    os.kill(int(pid), signal.SIGTERM)
        except OSError:
            self.proc.terminate()
        try:
            self.proc.wait(15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()
        subprocess.run(["rm", "-rf", self.tmp])


def quantiles(sorted_us):
    n = len(sorted_us)
    return [sorted_us[min(n - 1, max(0, -(-q * n // 20) - 1))] for q in range(21)]


def latency_row(rid, title, samples, round_medians, baseline=None, base_row=None,
                target=None):
    s = sorted(samples)
    n = len(s)
    q = quantiles(s)
    row = {"id": rid, "group": "python", "title": title, "kind": "latency", "unit": "us",
           "status": "ok", "ok": True, "n": n, "median": q[10], "p90": q[18],
           "p99": s[min(n - 1, -(-99 * n // 100) - 1)], "min": s[0], "max": s[-1],
           "mean": sum(s) / n, "ops_per_s": 1e6 / (sum(s) / n), "quantiles": q,
           "round_medians": round_medians}
    if baseline and base_row and base_row.get("ok"):
        row["baseline"] = baseline
        row["ratio"] = row["median"] / base_row["median"]
    if target is not None:
        row["target"] = {"metric": "median", "op": "<=", "value": target,
                         "actual": row["median"], "met": row["median"] <= target}
    return row


def measure_exec(sock, n, rounds):
    with rc.Runner.connect("unix:" + sock, keepalive=None) as sb:
        for _ in range(max(50, n // rounds // 10)):
            sb.exec("true")
        samples, medians = [], []
        per = max(1, n // rounds)
        clock = time.perf_counter_ns
        for _ in range(rounds):
            rs = []
            for _ in range(per):
                t0 = clock()
                sb.exec("true")
                rs.append((clock() - t0) / 1000.0)
            samples += rs
            medians.append(sorted(rs)[len(rs) // 2])
        return samples, medians


async def measure_aio(sock, seconds):
    sb = await aio.Runner.connect("unix:" + sock)
    names = ["main", "b1", "b2", "b3"]
    try:
        for s in names[1:]:
            await sb.open_session(s)
        for s in names:
            await sb.exec("true", session=s)  # warm: every shell has started
        count = [0]
        end = time.monotonic() + seconds

        async def worker(s):
            while time.monotonic() < end:
                await sb.exec("true", session=s)
                count[0] += 1
        t0 = time.monotonic()
        await asyncio.gather(*(worker(s) for s in names))
        return count[0] / (time.monotonic() - t0)
    finally:
        await sb.close()


def main(argv):
    ap = argparse.ArgumentParser()
    ap.add_argument("--runner", required=True)
    ap.add_argument("--results", required=True)
    ap.add_argument("--quick", action="store_true")
    a = ap.parse_args(argv)
    with open(a.results) as f:
        res = json.load(f)
    rows = {r["id"]: r for r in res["rows"]}
    n, rounds, secs = (300, 3, 1.0) if a.quick else (2000, 5, 3.0)
    t = Target(a.runner)
    new = []
    try:
        samples, medians = measure_exec(t.sock, n, rounds)
        lat = latency_row("py_exec_true", "Python SDK: EXEC `true` on an open connection",
                          samples, medians, "exec_true", rows.get("exec_true"), target=150)
        new.append(lat)
        ops = asyncio.run(measure_aio(t.sock, secs))
        new.append({"id": "py_aio_exec_4x4", "group": "python",
                    "title": "Python SDK (asyncio): 4 tasks × EXEC `true` on 4 sessions, "
                             "one connection", "kind": "value", "unit": "ops/s",
                    "status": "ok", "ok": True, "value": ops,
                    "extra": {"serial_ops_per_s": lat["ops_per_s"],
                              "speedup_over_serial": ops / lat["ops_per_s"]}})
    finally:
        t.stop()
    res["rows"] = [r for r in res["rows"] if r["group"] != "python"] + new
    with open(a.results + ".tmp", "w") as f:
        json.dump(res, f, indent=1)
    os.replace(a.results + ".tmp", a.results)
    for r in new:
        if r["kind"] == "latency":
            print("bench: %-16s median %.1f us  p90 %.1f  p99 %.1f%s" % (
                r["id"], r["median"], r["p90"], r["p99"],
                ("  (C client %.1f us: %.2fx)" % (rows["exec_true"]["median"], r["ratio"])
                 if "ratio" in r else "")), file=sys.stderr)
        else:
            print("bench: %-16s %.0f ops/s" % (r["id"], r["value"]), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
