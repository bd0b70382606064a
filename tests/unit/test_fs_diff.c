/* link: runner/fs_diff.c */
/* test_fs_diff.c - the unified diff: exact output for the edge cases
 * diff(1) and patch(1) care about (empty files, a missing final newline),
 * and on random inputs: minimal (as many changed lines as an LCS table
 * says) and correct (applying the hunks to a reproduces b). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fs_internal.h"

struct sink {
	char *p;
	size_t len, cap;
};

static void sink_emit(void *ctx, const char *p, size_t n)
{
	struct sink *s = ctx;

	if (s->len + n + 1 > s->cap) {
		s->cap = (s->len + n + 1) * 2;
		s->p = realloc(s->p, s->cap);
		assert_non_null(s->p);
	}
	memcpy(s->p + s->len, p, n);
	s->len += n;
	s->p[s->len] = 0;
}

static long run(const char *a, const char *b, struct sink *out)
{
	memset(out, 0, sizeof(*out));
	sink_emit(out, "", 0);
	return diff_unified(a, strlen(a), b, strlen(b), "a", "b", sink_emit,
			    out);
}

static void test_identical(void **state)
{
	struct sink s;

	(void)state;
	assert_int_equal(run("x\ny\n", "x\ny\n", &s), 0);
	assert_string_equal(s.p, "");
	free(s.p);
	assert_int_equal(run("", "", &s), 0);
	free(s.p);
}

static void test_exact_shapes(void **state)
{
	struct sink s;

	(void)state;
	assert_int_equal(run("", "x\n", &s), 1);
	assert_string_equal(s.p, "--- a\n+++ b\n@@ -0,0 +1 @@\n+x\n");
	free(s.p);
	assert_int_equal(run("x\n", "x", &s), 2);
	assert_string_equal(s.p, "--- a\n+++ b\n@@ -1 +1 @@\n-x\n+x\n"
				 "\\ No newline at end of file\n");
	free(s.p);
	assert_int_equal(run("1\n2\n3\n4\n5\n6\n7\n8\n9\n",
			     "1\n2\n3\n4\nFIVE\n6\n7\n8\n9\n", &s),
			 2);
	assert_string_equal(s.p, "--- a\n+++ b\n@@ -2,7 +2,7 @@\n 2\n 3\n 4\n"
				 "-5\n+FIVE\n 6\n 7\n 8\n");
	free(s.p);
}

/* ---- random inputs ---- */

static size_t split(char *t, char **lines)
{
	size_t n = 0;
	char *p = t;

	while (*p) {
		lines[n++] = p;
		p = strchr(p, '\n');
		if (!p)
			break;
		*p++ = 0;
	}
	return n;
}

static size_t lcs(char **a, size_t na, char **b, size_t nb)
{
	size_t *t = calloc((na + 1) * (nb + 1), sizeof(*t)), i, j, r;

	for (i = na; i-- > 0;)
		for (j = nb; j-- > 0;)
			t[i * (nb + 1) + j] =
			    !strcmp(a[i], b[j])
				? t[(i + 1) * (nb + 1) + j + 1] + 1
			    : t[(i + 1) * (nb + 1) + j] >
				    t[i * (nb + 1) + j + 1]
				? t[(i + 1) * (nb + 1) + j]
				: t[i * (nb + 1) + j + 1];
	r = t[0];
	free(t);
	return r;
}

/* Apply a unified diff of newline-terminated texts to a's lines. */
static void apply(char *diff, char **a, size_t na, char **out, size_t *nout)
{
	char *lines[4096];
	size_t n = split(diff, lines), i, ai = 0;
	long start;

	*nout = 0;
	for (i = 2; i < n; i++) {
		if (lines[i][0] == '@') {
			assert_int_equal(sscanf(lines[i], "@@ -%ld", &start),
					 1);
			if (!strchr(lines[i], ',') ||
			    strchr(lines[i], ',') > strchr(lines[i] + 4, ' ') ||
			    strncmp(strchr(lines[i], ','), ",0 ", 3))
				start--; /* count > 0: 1-based start */
			while ((long)ai < start)
				out[(*nout)++] = a[ai++];
		} else if (lines[i][0] == ' ') {
			assert_string_equal(lines[i] + 1, a[ai]);
			out[(*nout)++] = a[ai++];
		} else if (lines[i][0] == '-') {
			assert_string_equal(lines[i] + 1, a[ai]);
			ai++;
		} else if (lines[i][0] == '+') {
			out[(*nout)++] = lines[i] + 1;
		}
	}
	while (ai < na)
		out[(*nout)++] = a[ai++];
}

static void gen(char *buf, unsigned *seed, int lines)
{
	int i;

	buf[0] = 0;
	for (i = 0; i < lines; i++)
		sprintf(buf + strlen(buf), "%c\n", 'a' + rand_r(seed) % 4);
}

static void test_random_minimal_and_applies(void **state)
{
	static char a[4096], b[4096], ac[4096], bc[4096];
	char *la[1024], *lb[1024], *lo[2048];
	unsigned seed = 7;
	int trial;

	(void)state;
	for (trial = 0; trial < 400; trial++) {
		struct sink s;
		size_t na, nb, no, common, i;
		long changed;

		gen(a, &seed, rand_r(&seed) % 40);
		gen(b, &seed, rand_r(&seed) % 40);
		changed = run(a, b, &s);
		strcpy(ac, a);
		strcpy(bc, b);
		na = split(ac, la);
		nb = split(bc, lb);
		common = lcs(la, na, lb, nb);
		assert_int_equal(changed, (long)(na - common + nb - common));
		if (changed) {
			apply(s.p, la, na, lo, &no);
			assert_int_equal(no, nb);
			for (i = 0; i < nb; i++)
				assert_string_equal(lo[i], lb[i]);
		}
		free(s.p);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_identical),
	    cmocka_unit_test(test_exact_shapes),
	    cmocka_unit_test(test_random_minimal_and_applies),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
