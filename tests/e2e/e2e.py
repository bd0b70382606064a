"""e2e.py - shared pieces of the e2e suites: paths, the CI rule, runnerctl.

The CI rule (DESIGN.md, "Tests are real"): a suite that cannot run here
says SKIP loudly with the reason; under CI=true the same situation is a
failure, so a CI run can never pass by skipping the Docker or VM suites.
"""
import os
import subprocess
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
import rproto as rp  # noqa: E402,F401  (re-exported for the suites)

BUILD = os.path.join(ROOT, os.environ.get("BUILD_DIR", "build"))
RUNNER = os.path.join(BUILD, "runner")
RUNNERCTL = os.path.join(BUILD, "runnerctl")
RUNNERCTL_STATIC = os.path.join(BUILD, "runnerctl-static")
IN_CI = os.environ.get("CI") == "true"

# What a runnerctl command prints when the request it needs is not in this
# runner yet (the request handlers land one area at a time).
NOT_BUILT = (b"not built", b"E_UNSUPPORTED", b"E_UNKNOWN_TYPE")


def cannot_run(suite, why):
    """Skip loudly, or fail under CI=true.  suite: a name for the message."""
    msg = "cannot run: " + why
    print("\n*** SKIP %s: %s" % (suite, why), file=sys.stderr)
    if IN_CI:
        raise AssertionError(msg + " (CI=true: a skip is a failure)")
    raise unittest.SkipTest(msg)


def need_built(suite):
    for f in (RUNNER, RUNNERCTL, RUNNERCTL_STATIC):
        if not os.path.exists(f):
            cannot_run(suite, "%s is missing: make BUILD_DIR=%s" % (
                f, os.path.relpath(BUILD, ROOT)))


def runnerctl(target, *args, env=None, input=None, timeout=60, binary=None):
    return subprocess.run([binary or RUNNERCTL, "--connect", target] + list(args),
                          input=input, capture_output=True, timeout=timeout, env=env)


def require_feature(test, res, what):
    """Skip (not fail) when `what` is answered with 'not built yet'; such a
    skip is about this build's contents, not the host, so CI sees it too."""
    if res.returncode != 0 and any(s in res.stderr for s in NOT_BUILT):
        raise unittest.SkipTest("%s not implemented in this runner yet: %s" % (
            what, res.stderr.decode(errors="replace").strip()))
