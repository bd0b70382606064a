/* link: runner/fs_literal.c runner/regex_lex.c runner/regex_parse.c runner/regex_vm.c runner/regex_dfa.c */
/* test_fs_literal.c - the literal GREP looks for before running a regex:
 * it must occur in every match (checked with runner/regex.h, GREP's
 * matcher, on generated lines), and the obvious cases must find the longest
 * run. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fs_internal.h"
#include "regex.h"

static const char *lit(const char *re)
{
	static char out[64];
	size_t n = ere_required_literal(re, out, sizeof(out) - 1);

	out[n] = 0;
	return out;
}

static void test_known(void **state)
{
	(void)state;
	assert_string_equal(lit("needle"), "needle");
	assert_string_equal(lit("ne+dle [0-9]+"), "dle ");
	assert_string_equal(lit("foo.*barbaz"), "barbaz");
	assert_string_equal(lit("abcd?"), "abc");
	assert_string_equal(lit("x{2,3}yz"), "yz");
	assert_string_equal(lit("a\\.b\\(c"), "a.b(c");
	assert_string_equal(lit("(abc)?def"), "def");
	assert_string_equal(lit("foo|bar"), "");
	assert_string_equal(lit("[abc]xy[d]"), "xy");
	assert_string_equal(lit("[]x]yy"), "yy");
	assert_string_equal(lit("^start"), "start");
	assert_string_equal(lit("a"), "");
	assert_string_equal(lit("\\wabc"), "abc");
	assert_string_equal(lit("[unterminated"), "");
	assert_string_equal(lit("abc\ndef"), "");
}

/* Every line a pattern matches holds its literal. */
static void test_sound(void **state)
{
	static const char *pats[] = {
	    "ab+c",  "a?bc",	  "x*yz",      "(ab)+cd", "[ab]cd?e",
	    "a.b.c", "ab{0,2}cd", "\\(x\\)y+", "^ab$",	  "ba*b",
	};
	unsigned seed = 1, i, k, len;
	char line[16];

	(void)state;
	for (i = 0; i < sizeof(pats) / sizeof(pats[0]); i++) {
		struct rx *rx;
		const char *l = lit(pats[i]);
		char l2[64], err[128];

		strcpy(l2, l);
		assert_int_equal(rx_compile(&rx, pats[i], strlen(pats[i]), 0,
					    err, sizeof(err)),
				 0);
		for (k = 0; k < 20000; k++) {
			len = (unsigned)rand_r(&seed) % 10;
			for (unsigned j = 0; j < len; j++)
				line[j] = "abcdexy()"[rand_r(&seed) % 9];
			line[len] = 0;
			if (rx_search(rx, (const uint8_t *)line, len) && l2[0])
				assert_non_null(strstr(line, l2));
		}
		rx_free(rx);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_known),
	    cmocka_unit_test(test_sound),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
