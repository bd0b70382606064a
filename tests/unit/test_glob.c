/* link: runner/glob.c */
/* glob_match against glibc's fnmatch(3) with flags 0 in the C locale: a
 * table of the interesting cases, then random patterns and names over a
 * small alphabet, where the two must agree every time. */
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
		{ "*.c", "main.c" },      { "*.c", "main.h" },
		{ "*.c", ".c" },          { "a*b*c", "aXbYc" },
		{ "a*b*c", "abcb" },      { "?", "" },
		{ "?", "x" },             { "[abc]", "b" },
		{ "[!abc]", "b" },        { "[^abc]", "d" },
		{ "[a-c]x", "bx" },       { "[]]", "]" },
		{ "[]a]", "a" },          { "[a-]", "-" },
		{ "[[:digit:]]*", "7up" }, { "[[:alpha:]]", "7" },
		{ "\\*", "*" },           { "\\*", "x" },
		{ "[", "[" },             { "[ab", "[ab" },
		{ "*", "" },              { "**a", "a" },
		{ "a/*", "a/b/c" },       { "*[0-9]", "file9" },
		{ "Makefile", "Makefile" }, { "", "" },
		{ "", "x" },              { "[z-a]", "m" },
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
		"a", "b", "-", "*", "?", "[ab]", "[!a]", "[^b]", "[a-b]",
		"[]a]", "[[:alpha:]]", "[!-]", "\\*", "\\a", "!", "^",
	};
	size_t n = 0, k;

	out[0] = 0;
	while (n < max / 2 && rand() % 6) {
		const char *b = bits[(size_t)rand() % (sizeof(bits) / sizeof(bits[0]))];
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_random_against_fnmatch),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
