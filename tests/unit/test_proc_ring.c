/* link: runner/proc_ring.c */
/* test_proc_ring.c - the background-output ring (runner/proc_ring.h):
 * absolute offsets, overwrite of the oldest bytes, drop accounting, and
 * in-place writes across the wrap, checked against a plain model. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "proc_ring.h"

/* Everything readable from off, gathered across the wrap. */
static size_t read_all(const struct ring *r, uint64_t off, uint8_t *out,
                       size_t cap, uint64_t *dropped)
{
	const uint8_t *p;
	uint64_t d;
	size_t len, n = 0;

	*dropped = 0;
	while ((p = ring_peek(r, &off, &len, &d))) {
		*dropped += d;
		assert_true(n + len <= cap);
		memcpy(out + n, p, len);
		n += len;
		off += len;
	}
	*dropped += d;
	return n;
}

static void test_empty(void **state)
{
	struct ring r;
	uint64_t off = 0, d;
	size_t len = 99;

	(void)state;
	ring_init(&r, 16);
	assert_int_equal(ring_start(&r), 0);
	assert_null(ring_peek(&r, &off, &len, &d));
	assert_int_equal(len, 0);
	assert_int_equal(d, 0);
	ring_free(&r);
}

static void test_below_capacity(void **state)
{
	struct ring r;
	uint8_t out[16];
	uint64_t d;

	(void)state;
	ring_init(&r, 16);
	ring_write(&r, "hello", 5);
	ring_write(&r, " world", 6);
	assert_int_equal(r.end, 11);
	assert_int_equal(read_all(&r, 0, out, sizeof(out), &d), 11);
	assert_memory_equal(out, "hello world", 11);
	assert_int_equal(d, 0);
	assert_int_equal(read_all(&r, 6, out, sizeof(out), &d), 5);
	assert_memory_equal(out, "world", 5);
	ring_free(&r);
}

static void test_overwrite_reports_dropped(void **state)
{
	struct ring r;
	uint8_t out[8];
	uint64_t off = 0, d;
	size_t len;

	(void)state;
	ring_init(&r, 8);
	ring_write(&r, "0123456789AB", 12);
	assert_int_equal(ring_start(&r), 4);
	assert_non_null(ring_peek(&r, &off, &len, &d));
	assert_int_equal(d, 4);
	assert_int_equal(off, 4);
	assert_int_equal(read_all(&r, 0, out, sizeof(out), &d), 8);
	assert_memory_equal(out, "456789AB", 8);
	assert_int_equal(d, 4);
	ring_free(&r);
}

static void test_write_larger_than_ring(void **state)
{
	struct ring r;
	uint8_t out[4];
	uint64_t d;

	(void)state;
	ring_init(&r, 4);
	ring_write(&r, "ab", 2);
	ring_write(&r, "cdefghij", 8);
	assert_int_equal(r.end, 10);
	assert_int_equal(read_all(&r, 0, out, sizeof(out), &d), 4);
	assert_memory_equal(out, "ghij", 4);
	assert_int_equal(d, 6);
	ring_free(&r);
}

static void test_offset_past_end_clamps(void **state)
{
	struct ring r;
	uint64_t off = 100, d;
	size_t len;

	(void)state;
	ring_init(&r, 8);
	ring_write(&r, "abc", 3);
	assert_null(ring_peek(&r, &off, &len, &d));
	assert_int_equal(off, 3);
	assert_int_equal(len, 0);
	ring_free(&r);
}

/* In-place writes (what read(2) into ring_space does), of sizes that wrap
 * at every position, against a model that keeps every byte. */
static void test_in_place_matches_model(void **state)
{
	enum { CAP = 61, TOTAL = 20000 };
	static uint8_t model[TOTAL], out[CAP];
	struct ring r;
	uint64_t d, off;
	size_t room, n, want, total = 0, i;
	uint8_t *dst;

	(void)state;
	srand(7);
	for (i = 0; i < TOTAL; i++)
		model[i] = (uint8_t)rand();
	ring_init(&r, CAP);
	while (total < TOTAL) {
		dst = ring_space(&r, &room);
		assert_non_null(dst);
		assert_true(room > 0 && room <= CAP);
		n = (size_t)rand() % 90 + 1;
		if (n > room)
			n = room;
		if (n > TOTAL - total)
			n = TOTAL - total;
		memcpy(dst, model + total, n);
		ring_commit(&r, n);
		total += n;
		off = total > 200 ? total - 200 : 0;
		want = total - (total > CAP ? total - CAP : 0);
		assert_int_equal(read_all(&r, off, out, sizeof(out), &d), want);
		assert_memory_equal(out, model + total - want, want);
		assert_int_equal(d, total - want > off ? total - want - off
		                                       : 0);
	}
	ring_free(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_below_capacity),
		cmocka_unit_test(test_overwrite_reports_dropped),
		cmocka_unit_test(test_write_larger_than_ring),
		cmocka_unit_test(test_offset_past_end_clamps),
		cmocka_unit_test(test_in_place_matches_model),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
