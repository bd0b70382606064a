/* link: runner/fs_lines.c */
/* test_fs_lines.c - READ's line slicer: fed in chunks cut anywhere, it
 * must pick exactly the bytes `sed -n A,Bp` prints and count lines as a
 * reader would (a last line without '\n' counts). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fs_internal.h"

/* The reference: whole lines from..to (to 0 = to the end). */
static size_t reference(const char *t, size_t n, uint64_t from, uint64_t to,
			char *out, uint64_t *total)
{
	uint64_t line = 1;
	size_t i, o = 0;

	for (i = 0; i < n; i++) {
		if (line >= from && (!to || line <= to))
			out[o++] = t[i];
		if (t[i] == '\n')
			line++;
	}
	*total = line - 1 + (n && t[n - 1] != '\n');
	return o;
}

static void check(const char *t, uint64_t from, uint64_t to, unsigned seed)
{
	char want[512], got[512];
	size_t n = strlen(t), wn, gn = 0, pos = 0, start, k, step;
	uint64_t total;
	struct line_slice ls;

	wn = reference(t, n, from ? from : 1, to, want, &total);
	line_slice_init(&ls, from, to);
	while (pos < n) {
		step = 1 + rand_r(&seed) % 7;
		if (step > n - pos)
			step = n - pos;
		k = line_slice_feed(&ls, (const uint8_t *)t + pos, step,
				    &start);
		assert_true(start + k <= step);
		memcpy(got + gn, t + pos + start, k);
		gn += k;
		pos += step;
	}
	assert_int_equal(gn, wn);
	assert_memory_equal(got, want, wn);
	assert_int_equal(line_slice_total(&ls), total);
}

static void test_ranges(void **state)
{
	static const char *texts[] = {
	    "",
	    "\n",
	    "a",
	    "a\n",
	    "a\nb",
	    "a\nb\n",
	    "\n\n\n",
	    "one\ntwo\nthree\nfour\nfive\n",
	    "x\n\ny\n\n\nz",
	};
	static const uint64_t ranges[][2] = {
	    {1, 1}, {1, 2}, {2, 3}, {3, 0},   {0, 0},
	    {5, 5}, {6, 9}, {2, 2}, {4, 100},
	};
	unsigned i, j, seed;

	(void)state;
	for (i = 0; i < sizeof(texts) / sizeof(texts[0]); i++)
		for (j = 0; j < sizeof(ranges) / sizeof(ranges[0]); j++)
			for (seed = 0; seed < 20; seed++)
				check(texts[i], ranges[j][0], ranges[j][1],
				      seed);
}

static void test_done(void **state)
{
	struct line_slice ls;
	size_t start;

	(void)state;
	line_slice_init(&ls, 2, 3);
	assert_int_equal(
	    line_slice_feed(&ls, (const uint8_t *)"a\nb\nc\nd\n", 8, &start),
	    4);
	assert_int_equal(start, 2);
	assert_true(line_slice_done(&ls));
	line_slice_init(&ls, 2, 0);
	line_slice_feed(&ls, (const uint8_t *)"a\nb\n", 4, &start);
	assert_false(line_slice_done(&ls));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_ranges),
	    cmocka_unit_test(test_done),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
