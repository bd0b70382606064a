/* link: runner/glob.c */
/* glob_match against glibc's fnmatch(3) with flags 0 in the C locale: a
 * table of the interesting cases, then random patterns and names over a
 * small alphabet, where the two must agree every time. */
#include <errno.h>
#include <fnmatch.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "glob.h"

static void agree(const char *pat, const char *name)
{
	bool want = fnmatch(pat, name, 0) == 0;

	if (glob_match(pat, name) != want) {
		print_error("pattern '%s' name '%s': fnmatch says %d\n", pat,
			    name, want);
		fail();
	}
}

static void test_table(void **state)
{
	static const char *const cases[][2] = {
	    {"*.c", "main.c"},
	    {"*.c", "main.h"},
	    {"*.c", ".c"},
	    {"a*b*c", "aXbYc"},
	    {"a*b*c", "abcb"},
	    {"?", ""},
	    {"?", "x"},
	    {"[abc]", "b"},
	    {"[!abc]", "b"},
	    {"[^abc]", "d"},
	    {"[a-c]x", "bx"},
	    {"[]]", "]"},
	    {"[]a]", "a"},
	    {"[a-]", "-"},
	    {"[[:digit:]]*", "7up"},
	    {"[[:alpha:]]", "7"},
	    {"\\*", "*"},
	    {"\\*", "x"},
	    {"[", "["},
	    {"[ab", "[ab"},
	    {"*", ""},
	    {"**a", "a"},
	    {"a/*", "a/b/c"},
	    {"*[0-9]", "file9"},
	    {"Makefile", "Makefile"},
	    {"", ""},
	    {"", "x"},
	    {"[z-a]", "m"},
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		agree(cases[i][0], cases[i][1]);
}

static void random_string(char *out, size_t max, const char *alpha)
{
	size_t n = (size_t)rand() % max, i, k = strlen(alpha);

	for (i = 0; i < n; i++)
		out[i] = alpha[(size_t)rand() % k];
	out[n] = 0;
}

/* Well-formed patterns only: fnmatch's handling of malformed brackets
 * ("[a-" at the end) varies between libcs; ours is documented in glob.h
 * and covered by the table above. */
static void random_pattern(char *out, size_t max)
{
	static const char *const bits[] = {
	    "a",    "b",    "-",     "*",    "?",	    "[ab]",
	    "[!a]", "[^b]", "[a-b]", "[]a]", "[[:alpha:]]", "[!-]",
	    "\\*",  "\\a",  "!",     "^",
	};
	size_t n = 0, k;

	out[0] = 0;
	while (n < max / 2 && rand() % 6) {
		const char *b =
		    bits[(size_t)rand() % (sizeof(bits) / sizeof(bits[0]))];
		k = strlen(b);
		if (n + k >= max)
			break;
		memcpy(out + n, b, k + 1);
		n += k;
	}
}

static void test_random_against_fnmatch(void **state)
{
	char pat[40], name[12];
	int i;

	(void)state;
	srand(12345);
	for (i = 0; i < 200000; i++) {
		random_pattern(pat, sizeof(pat));
		random_string(name, sizeof(name), "ab-]![*\\");
		agree(pat, name);
	}
}

/* A range whose end is a [:class:] is undefined in POSIX and glibc reads
 * it its own way; glob.h's reading: the range ends at the byte after '-'
 * (here '['), and ":alpha:" are literal bytes.  Found by fuzz_glob. */
static void test_range_to_class_is_bytes(void **state)
{
	static const char pat[] = "[*[1\xca-[:alpha:]]*";

	(void)state;
	assert_true(glob_match(pat, "*]"));
	assert_true(glob_match(pat, ":]x"));
	assert_false(glob_match(pat, "[:")); /* glibc: match */
	assert_false(glob_match(pat, "*"));  /* glibc: match */
	assert_false(glob_match(pat, "\xcb]"));
	assert_true(glob_match("[a-[:x:]]", "x]"));
	assert_false(glob_match("[a-[:x:]]", "b]"));
}

/* Without "**", glob_match_path is fnmatch(FNM_PATHNAME). */
static void test_path_random_against_fnmatch(void **state)
{
	static const char *const bits[] = {"a",	   "b",	   "/",	 "*",  "?",
					   "[ab]", "[!a]", "a/", "*/", "[/]"};
	char pat[40], name[16];
	size_t n, k;
	int i;

	(void)state;
	srand(777);
	for (i = 0; i < 200000; i++) {
		n = 0;
		pat[0] = 0;
		while (rand() % 6) {
			const char *b = bits[(size_t)rand() % 10];
			k = strlen(b);
			if (n + k >= sizeof(pat))
				break;
			memcpy(pat + n, b, k + 1);
			n += k;
		}
		random_string(name, sizeof(name), "ab/");
		if (strstr(pat, "**"))
			continue; /* fnmatch has no "**" */
		if (glob_match_path(pat, name) !=
		    (fnmatch(pat, name, FNM_PATHNAME) == 0)) {
			print_error("path '%s' name '%s'\n", pat, name);
			fail();
		}
	}
}

/* "**" as git's wildmatch reads it (git check-ignore agrees). */
static void test_path_starstar(void **state)
{
	static const struct {
		const char *pat, *path;
		bool want;
	} cases[] = {
	    {"**/*.py", "a.py", true},
	    {"**/*.py", "x/y/a.py", true},
	    {"**/*.py", "x/a.pyc", false},
	    {"src/**/*.c", "src/a.c", true},
	    {"src/**/*.c", "src/x/y/a.c", true},
	    {"src/**/*.c", "lib/a.c", false},
	    {"src/**", "src/x/y", true},
	    {"src/**", "src", false},
	    {"**", "a/b/c", true},
	    {"a/**/b", "a/b", true},
	    {"a/**/b", "a/x/y/b", true},
	    {"a/**/b", "a/xb", false},
	    {"a**b", "a/b", false},
	    {"a**b", "axxb", true},
	    {"*.c", "d/x.c", false},
	    {"d/*", "d/x/y", false},
	    {"**/test_*.py", "t/test_a.py", true},
	    {"x/**/**/y", "x/y", true},
	    {"x/**/**/y", "x/a/b/c/y", true},
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		if (glob_match_path(cases[i].pat, cases[i].path) !=
		    cases[i].want) {
			print_error("'%s' on '%s'\n", cases[i].pat,
				    cases[i].path);
			fail();
		}
}

static void test_set_braces(void **state)
{
	struct glob_set *s = calloc(1, sizeof(*s));
	static const char pat[] = "src/**/*.{py,{ts,tsx}}";

	(void)state;
	assert_int_equal(glob_set_add(s, pat, strlen(pat)), 0);
	assert_int_equal(s->n, 3);
	assert_true(glob_set_match(s, "a.tsx", "src/x/a.tsx"));
	assert_true(glob_set_match(s, "a.py", "src/a.py"));
	assert_false(glob_set_match(s, "a.js", "src/a.js"));
	assert_false(glob_set_match(s, "a.py", NULL));	/* the start */
	assert_int_equal(glob_set_add(s, "{a}", 3), 0); /* no comma: literal */
	assert_true(glob_set_match(s, "{a}", "x/{a}"));
	assert_int_equal(glob_set_add(s, "./*.md", 6), 0); /* anchored */
	assert_true(glob_set_match(s, "r.md", "r.md"));
	assert_false(glob_set_match(s, "r.md", "d/r.md"));
	/* a trailing '/' does not make a name pattern a path one */
	assert_int_equal(glob_set_add(s, "node_modules/", 13), 0);
	assert_true(glob_set_match(s, "node_modules", "a/b/node_modules"));
	assert_int_equal(glob_set_add(s, "", 0), -EINVAL);
	assert_int_equal(glob_set_add(s, "/", 1), -EINVAL);
	assert_int_equal(
	    glob_set_add(s, "{a,b}{c,d}{e,f}{g,h}{i,j}{k,l}{m,n}", 34), -E2BIG);
	free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_table),
	    cmocka_unit_test(test_random_against_fnmatch),
	    cmocka_unit_test(test_range_to_class_is_bytes),
	    cmocka_unit_test(test_path_random_against_fnmatch),
	    cmocka_unit_test(test_path_starstar),
	    cmocka_unit_test(test_set_braces),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
