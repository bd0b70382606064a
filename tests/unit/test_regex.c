/* link: runner/regex_lex.c runner/regex_parse.c runner/regex_vm.c runner/regex_dfa.c */
/* test_regex.c - the ERE matcher (runner/regex.h): a table of patterns and
 * subjects whose answers were taken from GNU grep -E in the C locale, every
 * kind of invalid pattern, RX_ICASE, RX_FIXED, and patterns that make a
 * backtracking matcher explode (they must simply finish). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "regex.h"

struct rx_case {
	const char *pat, *subject;
	bool match;
};

static bool matches(const char *pat, int flags, const char *s, size_t n)
{
	struct rx *rx;
	char err[128];
	bool r;

	if (rx_compile(&rx, pat, strlen(pat), flags, err, sizeof(err))) {
		print_error("pattern %s: %s\n", pat, err);
		fail();
	}
	r = rx_search(rx, (const uint8_t *)s, n);
	rx_free(rx);
	return r;
}

static void check_table(const struct rx_case *t, size_t n, int flags)
{
	size_t i;

	for (i = 0; i < n; i++) {
		bool got = matches(t[i].pat, flags, t[i].subject,
				   strlen(t[i].subject));

		if (got != t[i].match) {
			print_error("/%s/ on \"%s\": want %d, got %d\n",
				    t[i].pat, t[i].subject, t[i].match, got);
			fail();
		}
	}
}

static const struct rx_case syntax_cases[] = {
    {"", "", true},
    {"", "abc", true},
    {"abc", "xxabcxx", true},
    {"abc", "abx", false},
    {"a.c", "a-c", true},
    {"a.c", "ac", false},
    {"foo.*bar", "foo and bar", true},
    {"foo.*bar", "bar and foo", false},
    {"^abc", "abcd", true},
    {"^abc", "xabc", false},
    {"abc$", "xabc", true},
    {"abc$", "abcx", false},
    {"^$", "", true},
    {"^$", "a", false},
    {"a^b", "a^b", false}, /* ^ is always an anchor in ERE */
    {"a$b", "a$b", false},
    {"(^a)", "ab", true},
    {"b|^a", "ba", true},
    {"x*^a", "a", true},
    {"a|b", "b", true},
    {"a|b", "c", false},
    {"a||b", "c", true}, /* an empty alternative */
    {"(|a)", "c", true},
    {"()", "x", true},
    {"gr(a|e)y", "grey", true},
    {"gr(a|e)y", "groy", false},
    {"ab*c", "ac", true},
    {"ab+c", "ac", false},
    {"ab+c", "abbbc", true},
    {"ab?c", "abbc", false},
    {"a{3}", "aa", false},
    {"a{3}", "aaa", true},
    {"^a{2,3}$", "aaaa", false},
    {"^a{2,3}$", "aaa", true},
    {"^a{2,}$", "aaaaaaa", true},
    {"^a{,2}$", "aa", true},
    {"^a{,2}$", "aaa", false},
    {"^a{,}$", "aaaa", true},
    {"^a{0}b$", "b", true},
    {"^(ab){2}$", "abab", true},
    {"^(ab){2}$", "ab", false},
    {"a{1}{2}", "aa", true},
    {"a**", "b", true},
    {"a+?", "b", true}, /* (a+)? */
    {"^a+?$", "b", false},
    /* GNU: a leading repetition operator repeats nothing */
    {"*a", "a", true},
    {"*a", "b", false},
    {"+a", "a", true},
    {"(*a)", "a", true},
    {"b|*a", "a", true},
    {"{1}a", "a", true},
    {"^*", "x", true},
    {"^*a", "a", true},
    {"^+$", "", true},
    {"^+$", "x", false},
    {"a^*b", "ab", true}, /* (^)* */
    {"a$*", "a", true},
    {"a$+", "a", true},
    {"a$+b", "ab", false},
    /* GNU: what is not a valid interval is a literal { */
    {"a{", "a{", true},
    {"a{1", "a{1", true},
    {"a{x}", "a{x}", true},
    {"a{1,x}", "a{1,x}", true},
    {"{", "{", true},
    {"{}", "{}", true},
    {"{}", "x", false},
    /* GNU: an unmatched ) is literal */
    {")", ")", true},
    {"a)", "a)", true},
    {"(a))", "a)", true},
    {"(*))", ")", true},
    {"(*)x)", "x)", true},
    /* brackets */
    {"[abc]", "xbx", true},
    {"[abc]", "xyz", false},
    {"[^abc]", "abc", false},
    {"[^abc]", "abcd", true},
    {"[a-c]", "b", true},
    {"[a-c]", "d", false},
    {"[]a]", "]", true},
    {"[]a]", "b", false},
    {"[^]a]", "]", false},
    {"[a-]", "-", true},
    {"[-a]", "-", true},
    {"[--a]", "\\", true},
    {"[!--]", ")", true},
    {"[]-a]", "_", true},
    {"[\\]", "\\", true}, /* no escapes inside brackets */
    {"[\\]]", "\\]", true},
    {"[\\]]", "]", false},
    {"[.]", "x", false},
    {"[*]", "*", true},
    {"[[]", "[", true},
    {"[a[]", "[", true},
    {"[::]", ":", true},
    {"[[:alpha:]]", "_", false},
    {"[[:alpha:]]", "Q", true},
    {"[[:digit:]]", "7", true},
    {"[[:alnum:]]", "-", false},
    {"[[:upper:]]", "a", false},
    {"[[:lower:]]", "a", true},
    {"[[:space:]]", "\t", true},
    {"[[:blank:]]", "\r", false},
    {"[[:punct:]]", "!", true},
    {"[[:punct:]]", "a", false},
    {"[[:print:]]", " ", true},
    {"[[:graph:]]", " ", false},
    {"[[:cntrl:]]", "\x7f", true},
    {"[[:xdigit:]]", "F", true},
    {"[[:xdigit:]]", "g", false},
    {"[^[:alpha:]]", "a1", true},
    {"[[.a.]]", "a", true},
    {"[[.].]]", "]", true},
    {"[[=a=]]", "a", true},
    {"[a-[.z.]]", "q", true},
    /* escapes */
    {"a\\.c", "abc", false},
    {"a\\.c", "a.c", true},
    {"\\(\\)\\|\\*\\+\\?\\{\\}\\[\\]\\^\\$\\\\", "()|*+?{}[]^$\\", true},
    {"\\d", "d", true}, /* GNU: \d is d */
    {"\\d", "1", false},
    {"\\w+", "--_--", true},
    {"^\\w+$", "ab_9", true},
    {"^\\w+$", "ab-9", false},
    {"\\W", "abc", false},
    {"\\s", "a b", true},
    {"\\S", "   ", false},
    {"\\bfoo\\b", "a foo b", true},
    {"\\bfoo\\b", "afoo", false},
    {"\\Boo\\B", "foox", true},
    {"\\Boo\\B", "oo", false},
    {"\\<foo", "x foo", true},
    {"\\<foo", "xfoo", false},
    {"foo\\>", "foo.", true},
    {"foo\\>", "foox", false},
    {"\\`a", "a", true},
    {"\\`a", "ba", false},
    {"a\\'", "ba", true},
    {"a\\'", "ab", false},
    /* the newline: one alternative per line, as grep -e 'a<NL>b' */
    {"xyz\nb", "abc", true},
    {"xyz\nq", "abc", false},
    /* literal prefilter corner cases */
    {"ab(c|d)", "abd", true},
    {"x(ab)+y", "xababy", true},
    {"x(ab)+y", "xy", false},
    {"a.*b.*c", "a b", false},
    {"(foo)?bar", "bar", true},
};

static void test_syntax_table(void **state)
{
	(void)state;
	check_table(syntax_cases, sizeof(syntax_cases) / sizeof(*syntax_cases),
		    0);
}

static void test_bytes(void **state)
{
	(void)state;
	/* NUL and high bytes are ordinary (the C locale) */
	assert_true(matches("a.c", 0, "a\0c", 3));
	assert_true(matches("^.$", 0, "\xff", 1));
	assert_true(matches("[^a]", 0, "\x80", 1));
	assert_false(matches("[[:alpha:]]", 0, "\xe9", 1));
	assert_true(matches("\xe9t\xe9", 0, "\xe9t\xe9", 3));
	assert_false(matches("\\w", 0, "\xe9", 1));
	/* a pattern holding a NUL byte */
	{
		struct rx *rx;

		assert_int_equal(rx_compile(&rx, "a\0b", 3, 0, NULL, 0), 0);
		assert_true(rx_search(rx, (const uint8_t *)"xa\0b", 4));
		assert_false(rx_search(rx, (const uint8_t *)"ab", 2));
		rx_free(rx);
	}
}

static const struct rx_case icase_cases[] = {
    {"foo", "FoO", true},
    {"FOO", "foo", true},
    {"f.o", "F-O", true},
    {"[a-c]x", "BX", true},
    {"[^a-c]", "B", false},
    {"[[:upper:]]", "a", true},
    {"[[:lower:]]", "A", true},
    {"\\bword\\b", "a WORD b", true},
    {"foo.*BAR", "FOO and bar", true},
    {"^ab+$", "ABbB", true},
    {"[b-^]", "c", false}, /* valid under ICASE (B-^), but empty */
    {"x", "y", false},
};

static void test_icase(void **state)
{
	(void)state;
	check_table(icase_cases, sizeof(icase_cases) / sizeof(*icase_cases),
		    RX_ICASE);
	assert_false(matches("foo", 0, "FOO", 3));
}

static void test_fixed(void **state)
{
	struct rx *rx;

	(void)state;
	assert_true(matches("a.*(b", RX_FIXED, "xa.*(by", 7));
	assert_false(matches("a.*(b", RX_FIXED, "ab", 2));
	assert_true(matches("[x]", RX_FIXED, "[x]", 3));
	assert_false(matches("[x]", RX_FIXED, "x", 1));
	assert_true(matches("\\", RX_FIXED, "a\\b", 3));
	assert_true(matches("", RX_FIXED, "", 0));
	assert_true(matches("", RX_FIXED, "abc", 3));
	assert_true(matches("HeLLo.", RX_FIXED | RX_ICASE, "say hello.", 10));
	assert_false(matches("HeLLo.", RX_FIXED | RX_ICASE, "say hello!", 10));
	assert_false(matches("abc", RX_FIXED, "ab", 2));
	assert_true(matches("^$", RX_FIXED, "x^$", 3));
	/* an unmatched ( is no error as a fixed string */
	assert_int_equal(rx_compile(&rx, "(", 1, RX_FIXED, NULL, 0), 0);
	rx_free(rx);
}

struct err_case {
	const char *pat;
	const char *reason; /* a substring of the message */
};

/* Every one of these is also an error to GNU grep -E. */
static const struct err_case err_cases[] = {
    {"(", "unmatched ("},
    {"a(b", "unmatched ( at offset 1"},
    {"((a)", "unmatched ("},
    {"(*)", "unmatched ("}, /* gnulib: ) after * is literal */
    {"(a|+)", "unmatched ("},
    {"(^*)", "unmatched ("},
    {"b|(*)", "unmatched ("},
    {"(a\nb)", "unmatched ("},
    {"[", "unmatched ["},
    {"[a", "unmatched ["},
    {"[]", "unmatched ["},
    {"[^]", "unmatched ["},
    {"[[:alpha:]", "unmatched ["},
    {"[[:alpha", "unmatched ["},
    {"[[.a", "unmatched ["},
    {"[a\n]", "unmatched ["},
    {"[[:foo:]]", "invalid character class [:foo:]"},
    {"[[::]]", "invalid character class"},
    {"[[.ab.]]", "invalid collating element"},
    {"[[=ab=]]", "invalid collating element"},
    {"[z-a]", "invalid range end"},
    {"[b-^]", "invalid range end"},
    {"[a-z-9]", "invalid range end"},
    {"[a--]", "invalid range end"},
    {"[[:alpha:]-z]", "invalid range end"},
    {"[a-[:alpha:]]", "invalid range end"},
    {"[:alpha:]", "[[:space:]]"},
    {"[:a:]", "[[:space:]]"},
    {"\\", "trailing backslash"},
    {"a\\", "trailing backslash at offset 1"},
    {"a\\\nb", "trailing backslash"},
    {"(a)\\1", "back-reference"},
    {"a{}", "invalid interval"},
    {"a{2,1}", "invalid interval"},
    {"a{1,2,}", "invalid interval"},
    {"a{,,}", "invalid interval"},
    {"a{1}{}", "invalid interval"},
    {"a{256}", "repetition count over 255"},
    {"a{1,256}", "repetition count over 255"},
    {"a{99999999999999999999}", "repetition count over 255"},
    {"((a{255}){255}){2}", "pattern too large"},
    {"(((a{1,200}){1,200}){1,200}){1,200}", "pattern too large"},
};

static void test_errors(void **state)
{
	struct rx *rx = (struct rx *)1;
	char err[160];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(err_cases) / sizeof(*err_cases); i++) {
		const char *p = err_cases[i].pat;

		memset(err, 'x', sizeof(err));
		assert_int_equal(
		    rx_compile(&rx, p, strlen(p), 0, err, sizeof(err)),
		    -EINVAL);
		assert_null(rx);
		assert_non_null(memchr(err, 0, sizeof(err)));
		assert_null(strchr(err, '\n'));
		if (!strstr(err, err_cases[i].reason)) {
			print_error("/%s/: \"%s\" lacks \"%s\"\n", p, err,
				    err_cases[i].reason);
			fail();
		}
	}
	/* bad flags; no room for a message */
	assert_int_equal(rx_compile(&rx, "a", 1, 8, err, sizeof(err)), -EINVAL);
	assert_int_equal(rx_compile(&rx, "(", 1, 0, NULL, 0), -EINVAL);
	/* a short buffer truncates, still terminated */
	assert_int_equal(rx_compile(&rx, "(", 1, 0, err, 5), -EINVAL);
	assert_string_equal(err, "unma");
	rx_free(NULL);
}

static void test_nesting_limit(void **state)
{
	char pat[2 * 300 + 2];
	struct rx *rx;
	char err[128];

	(void)state;
	memset(pat, '(', 300);
	pat[300] = 'a';
	memset(pat + 301, ')', 300);
	assert_int_equal(rx_compile(&rx, pat, 601, 0, err, sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "nested"));
	/* 200 deep is fine */
	assert_int_equal(rx_compile(&rx, pat + 100, 401, 0, err, sizeof(err)),
			 0);
	assert_true(rx_search(rx, (const uint8_t *)"xax", 3));
	rx_free(rx);
}

/* Exponential for a backtracking matcher; linear here.  Nothing is timed:
 * the test only has to finish (ctest-style hang guards catch the rest). */
static void test_pathological(void **state)
{
	static const struct {
		const char *pat;
		bool match; /* on the long run of 'a's (and x's) */
	} cases[] = {
	    {"(a*)*b", false},		 {"(a|aa)*c", false},
	    {"(x+x+)+y", false},	 {"(a?){200}a{200}", true},
	    {"(a|a)*$", true},		 {"^(a+)+$", false},
	    {"(.*a){20}", true},	 {"((a*)*|b)*c", false},
	    {"(a{1,20}){1,20}b", false},
	};
	size_t n = 100000, i;
	uint8_t *s = malloc(n);

	(void)state;
	assert_non_null(s);
	for (i = 0; i < n; i++)
		s[i] = i % 1000 == 999 ? 'x' : 'a';
	for (i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		struct rx *rx;
		char err[128];

		if (rx_compile(&rx, cases[i].pat, strlen(cases[i].pat), 0, err,
			       sizeof(err))) {
			print_error("%s: %s\n", cases[i].pat, err);
			fail();
		}
		if (rx_search(rx, s, n) != cases[i].match) {
			print_error("%s: want %d\n", cases[i].pat,
				    cases[i].match);
			fail();
		}
		rx_free(rx);
	}
	free(s);
}

/* One compiled pattern over many subjects: the scratch state left by one
 * search never leaks into the next. */
static void test_reuse(void **state)
{
	static const char *const subjects[] = {"",	"b",  "ab", "aab",
					       "xyzab", "ba", ""};
	static const bool want[] = {false, false, true, true,
				    true,  false, false};
	struct rx *rx;
	int round;
	size_t i;

	(void)state;
	assert_int_equal(rx_compile(&rx, "a+b", 3, 0, NULL, 0), 0);
	for (round = 0; round < 1000; round++)
		for (i = 0; i < sizeof(want) / sizeof(*want); i++)
			assert_int_equal(rx_search(rx,
						   (const uint8_t *)subjects[i],
						   strlen(subjects[i])),
					 want[i]);
	rx_free(rx);
}

/* (a|b)*a(a|b){13}: the textbook DFA blow-up, 2^14 states, far past the
 * lazy DFA's cache.  It drops the cache, falls back to the VM line by
 * line, and past a few drops leaves the program to the VM: answers equal
 * the VM's alone (RX_NODFA) all along. */
static void test_dfa_cache_overflow(void **state)
{
	static const char pat[] = "(a|b)*a(a|b){13}$|^x[ab]*y";
	struct rx *dfa, *vm;
	uint8_t line[300];
	char err[128];
	size_t i, n;
	int k;

	(void)state;
	assert_int_equal(rx_compile(&dfa, pat, strlen(pat), 0, err, sizeof(err)),
			 0);
	assert_int_equal(
	    rx_compile(&vm, pat, strlen(pat), RX_NODFA, err, sizeof(err)), 0);
	srand(99);
	for (k = 0; k < 400; k++) {
		n = (size_t)rand() % sizeof(line);
		for (i = 0; i < n; i++)
			line[i] = "abxy"[rand() % (k % 3 ? 2 : 4)];
		assert_int_equal(rx_search(dfa, line, n), rx_search(vm, line, n));
	}
	rx_free(dfa);
	rx_free(vm);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_syntax_table),
	    cmocka_unit_test(test_bytes),
	    cmocka_unit_test(test_icase),
	    cmocka_unit_test(test_fixed),
	    cmocka_unit_test(test_errors),
	    cmocka_unit_test(test_nesting_limit),
	    cmocka_unit_test(test_pathological),
	    cmocka_unit_test(test_reuse),
	    cmocka_unit_test(test_dfa_cache_overflow),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
