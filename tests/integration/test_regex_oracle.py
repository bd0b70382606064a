"""test_regex_oracle.py - the matcher of runner/regex.h against GNU grep -E (LC_ALL=C).

Thousands of random patterns, some from a small ERE grammar and some raw
strings over "ab.()|*+?{}[]^$\\", each run over a set of subjects by a tiny
driver (tests/integration/probes/rx_oracle.c, built here with gcc and the
sanitizers) and by `grep -E -n`.  Both must agree on whether the pattern
is valid and, when it is, on which subjects match.  Any disagreement fails
with the pattern, the subject and both answers.

Known, deliberate differences are kept out of the generator: repetition
counts stay below RX_DUP_MAX (255), back-references (\\1) are never formed.
A bracket holding [.x.] or [=x=] makes grep match with gnulib regex, but
only on lines its dfa.c pre-filter lets through; rx takes regex's
meaning alone, so for those patterns only validity is compared.
RX_ORACLE_SEED and RX_ORACLE_N change the seed and the number of patterns.
"""
import os
import random
import subprocess
import unittest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BUILD = os.path.join(ROOT, os.environ.get("BUILD_DIR", "build"))
SEED = int(os.environ.get("RX_ORACLE_SEED", "20261122"))
COUNT = int(os.environ.get("RX_ORACLE_N", "3000"))
ALPHABET = "ab.()|*+?{}[]^$\\"
ENV = dict(os.environ, LC_ALL="C")

BASE_SUBJECTS = [
    "", "a", "b", "ab", "ba", "aab", "abab", "bbb", "a b", " a", "b ",
    "A", "AB", "aB", "x", "_a_", "a1", "1b", "-", "a-b", "]", "[", "[]",
    "\\", "a\\b", "*", "a*", "+", "?", "{", "}", "{}", "a{1}", "a{,}",
    "(", ")", "()", "(a)", "a|b", "|", "^", "$", "^a$", ".", "a.b", ":",
    "[:alpha:]", "ab ab", "aaaaaaaaab", "abababababa", "\t", "b.a",
]


class Gen:
    """Random patterns: grammar-shaped (mostly valid) or raw bytes."""

    def __init__(self, rnd):
        self.r = rnd

    def bracket_item(self):
        r = self.r
        return r.choice([
            lambda: r.choice("ab.-]^[$\\*:(|"),
            lambda: r.choice("ab-.[") + "-" + r.choice("ab-.]^"),
            lambda: "[:" + r.choice(["alpha", "digit", "alnum", "upper",
                                     "lower", "space", "blank", "punct",
                                     "print", "graph", "cntrl", "xdigit",
                                     "foo", ""]) + ":]",
            lambda: "[." + r.choice(["a", "b", ".", "-", "ab", "]"]) + ".]",
            lambda: "[=" + r.choice(["a", "b", "ab"]) + "=]",
        ])()

    def bracket(self):
        r = self.r
        s = "[" + ("^" if r.random() < 0.3 else "")
        s += "".join(self.bracket_item() for _ in range(r.randint(1, 3)))
        return s + ("]" if r.random() < 0.93 else "")

    def rep(self):
        r = self.r
        m, n = r.randint(0, 3), r.randint(0, 4)
        return r.choice(["*", "+", "?", "{%d}" % m, "{%d,}" % m,
                         "{%d,%d}" % (m, n), "{,%d}" % n, "{,}", "{}", "{",
                         "{%d" % m, "{%d,%d,}" % (m, n), "**", "+?"])

    def atom(self, depth):
        r = self.r
        x = r.random()
        if x < 0.35:
            return r.choice("ab")
        if x < 0.45:
            return r.choice([".", "^", "$"])
        if x < 0.55:
            return "\\" + r.choice(ALPHABET + "wWsS<>bB`'")
        if x < 0.65:
            return self.bracket()
        if x < 0.8 and depth < 3:
            close = ")" if r.random() < 0.92 else ""
            return "(" + self.regex(depth + 1) + close
        return r.choice(ALPHABET)

    def branch(self, depth):
        r = self.r
        s = ""
        for _ in range(r.randint(0, 4)):
            s += self.atom(depth)
            if r.random() < 0.35:
                s += self.rep()
        return s

    def regex(self, depth=0):
        return "|".join(self.branch(depth)
                        for _ in range(1 + (self.r.random() < 0.3)))

    def pattern(self):
        if self.r.random() < 0.3:
            n = self.r.randint(1, 8)
            return "".join(self.r.choice(ALPHABET) for _ in range(n))
        return self.regex()

    def subjects(self, pat):
        """The base set plus strings made of the pattern's own bytes, so
        that more of them match."""
        r = self.r
        plain = "".join(c for c in pat if c not in "()|*+?{}^$\\[]")
        chars = pat + "ab AB_1"
        extra = [plain, plain + plain, " " + plain + " "]
        extra += ["".join(r.choice(chars) for _ in range(r.randint(0, 10)))
                  for _ in range(12)]
        return BASE_SUBJECTS + extra


def grep(pat, subjects, icase):
    """(valid, set of matching 0-based subject indexes) per GNU grep, or
    None when grep itself is too slow (its regex fallback backtracks)."""
    args = ["grep", "-E", "-n"] + (["-i"] if icase else []) + ["-e", pat]
    try:
        p = subprocess.run(args, input="\n".join(subjects).encode() + b"\n",
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           env=ENV, timeout=10)
    except subprocess.TimeoutExpired:
        return None
    if p.returncode == 2:
        return False, set()
    hits = {int(l.split(b":", 1)[0]) - 1 for l in p.stdout.splitlines()}
    return True, hits


class RustGen(Gen):
    """Patterns in GREP's SYNTAX=rust, from the part of the language that
    Rust's regex and PCRE read the same way (\\v, \\a, {,n} differ)."""

    def bracket_item(self):
        r = self.r
        return r.choice([
            lambda: r.choice("ab.-^$*:(|1 _"),
            lambda: "\\" + r.choice("dDwWsS]\\-.[^t"),
            lambda: r.choice("ab") + "-" + r.choice("bz"),
            lambda: "0-5",
            lambda: "[:" + r.choice(["alpha", "digit", "space", "upper"]) + ":]",
        ])()

    def bracket(self):
        r = self.r
        s = "[" + ("^" if r.random() < 0.3 else "")
        return s + "".join(self.bracket_item() for _ in range(r.randint(1, 3))) + "]"

    def rep(self):
        r = self.r
        m, n = r.randint(0, 3), r.randint(3, 5)
        return r.choice(["*", "+", "?", "{%d}" % m, "{%d,}" % m, "{%d,%d}" % (m, n)]) + \
            r.choice(["", "", "?"])

    def atom(self, depth):
        r = self.r
        x = r.random()
        if x < 0.3:
            return r.choice(["a", "b", "1", " ", "_", "A"])
        if x < 0.4:
            return r.choice([".", "^", "$"])
        if x < 0.6:
            return "\\" + r.choice("dDwWsSbBtn.()[]{}|*+?^$\\/-")
        if x < 0.72:
            return self.bracket()
        if x < 0.85 and depth < 3:
            return r.choice(["(", "(?:"]) + self.regex(depth + 1) + ")"
        return r.choice("ab")

    def branch(self, depth):
        r = self.r
        s = ""
        for _ in range(r.randint(1, 4)):
            s += self.atom(depth)
            if r.random() < 0.35:
                s += self.rep()
        return s

    def pattern(self):
        return ("(?i)" if self.r.random() < 0.15 else "") + self.regex()

    def subjects(self, pat):
        r = self.r
        chars = "ab AB_1 9\t.-[]\\"
        return BASE_SUBJECTS + ["".join(r.choice(chars) for _ in range(r.randint(0, 10)))
                                for _ in range(16)]


def grep_p(pat, subjects, icase):
    args = ["grep", "-P", "-n"] + (["-i"] if icase else []) + ["-e", pat]
    p = subprocess.run(args, input="\n".join(subjects).encode() + b"\n",
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=ENV,
                       timeout=10)
    if p.returncode == 2:
        return False, set()
    return True, {int(l.split(b":", 1)[0]) - 1 for l in p.stdout.splitlines()}


class RegexOracleTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        out = os.path.join(BUILD, "regex-oracle")
        os.makedirs(out, exist_ok=True)
        cls.driver = os.path.join(out, "rx_oracle")
        src = os.path.join(ROOT, "tests/integration/probes/rx_oracle.c")
        subprocess.run(["gcc", "-std=c11", "-D_GNU_SOURCE", "-O1", "-g",
                        "-Wall", "-Wextra", "-Werror",
                        "-fsanitize=address,undefined",
                        "-fno-sanitize-recover=all", "-o", cls.driver, src],
                       check=True)

    def run_driver(self, cases):
        """cases: [(pattern, icase, subjects)] -> one answer per case."""
        lines = []
        for pat, icase, subjects in cases:
            lines.append(("I" if icase else "P") + pat)
            lines += ["S" + s for s in subjects]
            lines.append("=")
        p = subprocess.run([self.driver], input="\n".join(lines).encode()
                           + b"\n", stdout=subprocess.PIPE, timeout=600,
                           check=True)
        out = p.stdout.decode("latin-1").splitlines()
        self.assertEqual(len(out), len(cases))
        return out

    def test_agrees_with_grep(self):
        rnd = random.Random(SEED)
        gen = Gen(rnd)
        cases = []
        for _ in range(COUNT):
            pat = gen.pattern()
            cases.append((pat, rnd.random() < 0.2, gen.subjects(pat)))
        answers = self.run_driver(cases)
        bad, slow = [], []
        nvalid = nmatch = 0
        for (pat, icase, subjects), ans in zip(cases, answers):
            answer = grep(pat, subjects, icase)
            if answer is None:
                slow.append(pat)
                continue
            valid, hits = answer
            flag = " (icase)" if icase else ""
            if valid != (not ans.startswith("E ")):
                bad.append("%r%s: grep says %s, rx says %s" %
                           (pat, flag, "valid" if valid else "invalid",
                            ans))
                continue
            if not valid or "[." in pat or "[=" in pat:
                continue
            nvalid += 1
            for i, s in enumerate(subjects):
                mine = ans[i] == "1"
                nmatch += mine
                if mine != (i in hits):
                    bad.append("%r%s on %r: grep %s, rx %s" %
                               (pat, flag, s, i in hits, mine))
                    break
        print("\n%d patterns (%d valid), %d matching lines, %d mismatches"
              % (len(cases), nvalid, nmatch, len(bad)))
        if slow:
            print("grep gave up (timeout) on: %r" % slow)
        self.assertFalse(bad, "\n".join(bad[:30]))

    def test_rust_syntax_agrees_with_grep_P(self):
        """SYNTAX=rust against PCRE (grep -P) on the patterns both accept;
        a pattern PCRE accepts and rx refuses is a failure too."""
        rnd = random.Random(SEED + 1)
        gen = RustGen(rnd)
        cases = []
        for _ in range(COUNT):
            pat = gen.pattern()
            cases.append((pat, rnd.random() < 0.2, gen.subjects(pat)))
        lines = []
        for pat, icase, subjects in cases:
            lines.append(("Q" if icase else "R") + pat)
            lines += ["S" + x for x in subjects]
            lines.append("=")
        out = subprocess.run([self.driver], input="\n".join(lines).encode() + b"\n",
                             stdout=subprocess.PIPE, timeout=600,
                             check=True).stdout.decode("latin-1").splitlines()
        bad, nboth = [], 0
        for (pat, icase, subjects), ans in zip(cases, out):
            valid, hits = grep_p(pat, subjects, icase)
            if not valid:
                continue
            if ans.startswith("E "):
                bad.append("%r: PCRE accepts, rx says %s" % (pat, ans))
                continue
            nboth += 1
            for i, x in enumerate(subjects):
                if (ans[i] == "1") != (i in hits):
                    bad.append("%r%s on %r: grep -P %s" % (pat, " (icase)" if icase
                                                           else "", x, i in hits))
                    break
        print("\nrust: %d patterns, %d valid for both, %d mismatches"
              % (len(cases), nboth, len(bad)))
        self.assertGreater(nboth, len(cases) // 2)
        self.assertFalse(bad, "\n".join(bad[:30]))


if __name__ == "__main__":
    unittest.main()
