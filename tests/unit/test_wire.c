/* test_wire.c - the frame and field codec (protocol/wire.c) against its
 * contract in wire.h.  Byte-level examples live in protocol/vectors and
 * are checked by test_wire_vectors.c.
 *
 * Buffers handed to decoders are heap copies of exactly the bytes under
 * test, so ASan turns any read past the end into a failure.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "wire.h"

#define FIELD_HDR 6

static uint8_t *dup_exact(const void *p, size_t n)
{
	uint8_t *d = malloc(n ? n : 1);

	assert_non_null(d);
	if (n)
		memcpy(d, p, n);
	return d;
}

static int next_field(struct wire_iter *it, struct wire_field *f, uint16_t tag,
		      uint32_t len)
{
	int r = wire_next(it, f);

	assert_int_equal(r, 1);
	assert_int_equal(f->tag, tag);
	assert_int_equal(f->len, len);
	return r;
}

/* ---- scalars and every field type ---- */

static void test_scalars(void **state)
{
	uint8_t b[8];

	(void)state;
	wire_put16(b, 0xa1b2);
	assert_memory_equal(b, "\xa1\xb2", 2);
	assert_int_equal(wire_get16(b), 0xa1b2);
	wire_put32(b, 0xdeadbeef);
	assert_memory_equal(b, "\xde\xad\xbe\xef", 4);
	assert_int_equal(wire_get32(b), 0xdeadbeef);
	wire_put64(b, 0x0102030405060708ull);
	assert_memory_equal(b, "\x01\x02\x03\x04\x05\x06\x07\x08", 8);
	assert_true(wire_get64(b) == 0x0102030405060708ull);
	wire_put64(b, UINT64_MAX);
	assert_true(wire_get64(b) == UINT64_MAX);
}

static void test_every_field_type(void **state)
{
	/* clang-format off */
	static const uint8_t want[] = {
		0x00, 0x10, 0, 0, 0, 1, 0xfe,                   /* u8 */
		0x00, 0x11, 0, 0, 0, 2, 0xbe, 0xef,             /* u16 */
		0x00, 0x12, 0, 0, 0, 4, 0x80, 0, 0, 1,          /* u32 */
		0x00, 0x13, 0, 0, 0, 8, 0xff, 0xee, 0xdd, 0xcc, /* u64 */
		0xbb, 0xaa, 0x99, 0x88,
		0x00, 0x14, 0, 0, 0, 4, 0xff, 0xff, 0xff, 0x82, /* i32 -126 */
		0x00, 0x15, 0, 0, 0, 8, 0x80, 0, 0, 0, 0, 0, 0, 0, /* i64 min */
		0x00, 0x16, 0, 0, 0, 2, 'h', 'i',               /* str */
		0x00, 0x17, 0, 0, 0, 3, 0, 0xff, '\n',          /* bytes */
		0x00, 0x18, 0, 0, 0, 0,                         /* empty str */
		0x00, 0x19, 0, 0, 0, 0,                         /* empty bytes */
	};
	/* clang-format on */
	uint8_t mem[sizeof(want)], *p;
	struct wire_buf b;
	struct wire_iter it;
	struct wire_field f;
	uint64_t u;
	int64_t i;

	(void)state;
	wb_init(&b, mem, sizeof(mem));
	wb_u8(&b, 0x10, 0xfe);
	wb_u16(&b, 0x11, 0xbeef);
	wb_u32(&b, 0x12, 0x80000001u);
	wb_u64(&b, 0x13, 0xffeeddccbbaa9988ull);
	wb_i32(&b, 0x14, -126);
	wb_i64(&b, 0x15, INT64_MIN);
	wb_str(&b, 0x16, "hi");
	wb_bytes(&b, 0x17, "\0\xff\n", 3);
	wb_str(&b, 0x18, "");
	wb_bytes(&b, 0x19, NULL, 0);
	assert_false(b.overflow);
	assert_int_equal(b.len, sizeof(want));
	assert_memory_equal(mem, want, sizeof(want));

	p = dup_exact(want, sizeof(want));
	wire_iter_init(&it, p, sizeof(want));
	next_field(&it, &f, 0x10, 1);
	assert_int_equal(wire_uint(&f, &u), 0);
	assert_int_equal(u, 0xfe);
	assert_int_equal(wire_int(&f, &i), 0);
	assert_int_equal(i, -2); /* the same byte read signed */
	next_field(&it, &f, 0x11, 2);
	assert_int_equal(wire_uint(&f, &u), 0);
	assert_int_equal(u, 0xbeef);
	next_field(&it, &f, 0x12, 4);
	assert_int_equal(wire_uint(&f, &u), 0);
	assert_int_equal(u, 0x80000001u);
	next_field(&it, &f, 0x13, 8);
	assert_int_equal(wire_uint(&f, &u), 0);
	assert_true(u == 0xffeeddccbbaa9988ull);
	next_field(&it, &f, 0x14, 4);
	assert_int_equal(wire_int(&f, &i), 0);
	assert_int_equal(i, -126);
	next_field(&it, &f, 0x15, 8);
	assert_int_equal(wire_int(&f, &i), 0);
	assert_true(i == INT64_MIN);
	next_field(&it, &f, 0x16, 2);
	assert_memory_equal(f.val, "hi", 2);
	next_field(&it, &f, 0x17, 3);
	assert_memory_equal(f.val, "\0\xff\n", 3);
	next_field(&it, &f, 0x18, 0);
	next_field(&it, &f, 0x19, 0);
	assert_int_equal(wire_next(&it, &f), 0);
	assert_int_equal(wire_next(&it, &f), 0); /* the end stays the end */
	free(p);
}

/* ---- integers: widths 1, 2, 4, 8 only ---- */

static void test_int_widths(void **state)
{
	static const uint8_t ones[9] = {0xff, 0xff, 0xff, 0xff, 0xff,
					0xff, 0xff, 0xff, 0xff};
	struct wire_field f = {.tag = 1, .val = ones};
	uint64_t u;
	int64_t i;
	uint32_t w;

	(void)state;
	for (w = 0; w <= 9; w++) {
		bool ok = w == 1 || w == 2 || w == 4 || w == 8;

		f.len = w;
		u = 12345;
		i = 12345;
		assert_int_equal(wire_uint(&f, &u), ok ? 0 : -EPROTO);
		assert_int_equal(wire_int(&f, &i), ok ? 0 : -EPROTO);
		if (!ok) {
			/* A rejected field leaves the output alone. */
			assert_int_equal(u, 12345);
			assert_int_equal(i, 12345);
			continue;
		}
		assert_true(u == (w == 8 ? UINT64_MAX : (1ull << (8 * w)) - 1));
		assert_int_equal(i, -1);
	}
}

static void test_int_small_width_values(void **state)
{
	static const uint8_t v[] = {0x00, 0x00, 0x01, 0x2c};
	struct wire_field f = {.tag = T_TIMEOUT_MS, .len = 4, .val = v};
	uint64_t u;
	int64_t i;

	(void)state;
	assert_int_equal(wire_uint(&f, &u), 0);
	assert_int_equal(u, 300);
	f.len = 2;
	f.val = v + 2;
	assert_int_equal(wire_uint(&f, &u), 0);
	assert_int_equal(u, 300);
	assert_int_equal(wire_int(&f, &i), 0);
	assert_int_equal(i, 300);
	f.len = 1;
	f.val = v + 3;
	assert_int_equal(wire_int(&f, &i), 0);
	assert_int_equal(i, 44);
}

/* ---- frame header ---- */

static void test_hdr_roundtrip(void **state)
{
	struct wire_hdr h = {1234, 0xfedcba98u, WT_EXEC, WF_FIN}, g;
	uint8_t out[WIRE_HDR_SIZE], *p;

	(void)state;
	wire_hdr_encode(out, &h);
	assert_memory_equal(out, "\x00\x00\x04\xd8\xfe\xdc\xba\x98\x22\x01",
			    WIRE_HDR_SIZE);
	p = dup_exact(out, sizeof(out));
	assert_int_equal(wire_hdr_decode(p, sizeof(out), 4096, &g), 0);
	assert_int_equal(g.len, 1234);
	assert_int_equal(g.stream, 0xfedcba98u);
	assert_int_equal(g.type, WT_EXEC);
	assert_int_equal(g.flags, WF_FIN);
	free(p);
}

static uint8_t *hdr_with_len(uint32_t len)
{
	uint8_t h[WIRE_HDR_SIZE] = {0, 0, 0, 0, 0, 0, 0, 1, WT_PING, 0};

	wire_put32(h, len);
	return dup_exact(h, sizeof(h));
}

/* -EMSGSIZE is decided from the 10 header bytes alone: the reader knows
 * before it allocates or waits for anything. */
static void test_hdr_oversize(void **state)
{
	/* clang-format off */
	static const uint32_t too_big[] = { 4096 + 7, 4096 + 100, 0x7fffffff,
		                            0x80000000u, 0xfffffff9u,
		                            0xffffffffu };
	/* clang-format on */
	struct wire_hdr h;
	uint8_t *p;
	unsigned k;

	(void)state;
	for (k = 0; k < sizeof(too_big) / sizeof(too_big[0]); k++) {
		p = hdr_with_len(too_big[k]);
		assert_int_equal(wire_hdr_decode(p, WIRE_HDR_SIZE, 4096, &h),
				 -EMSGSIZE);
		free(p);
	}
	p = hdr_with_len(4096 + 6); /* exactly the maximum payload */
	assert_int_equal(wire_hdr_decode(p, WIRE_HDR_SIZE, 4096, &h), 0);
	assert_int_equal(h.len, 4096);
	free(p);
	p = hdr_with_len(0xffffffffu); /* max_payload itself at the limit */
	assert_int_equal(wire_hdr_decode(p, WIRE_HDR_SIZE, 0xfffffff9u, &h), 0);
	assert_int_equal(h.len, 0xfffffff9u);
	free(p);
}

static void test_hdr_len_below_min(void **state)
{
	struct wire_hdr h;
	uint8_t *p;
	uint32_t len;

	(void)state;
	for (len = 0; len < WIRE_LEN_MIN; len++) {
		p = hdr_with_len(len);
		assert_int_equal(wire_hdr_decode(p, WIRE_HDR_SIZE, 4096, &h),
				 -EPROTO);
		free(p);
	}
	p = hdr_with_len(WIRE_LEN_MIN);
	assert_int_equal(wire_hdr_decode(p, WIRE_HDR_SIZE, 0, &h), 0);
	assert_int_equal(h.len, 0);
	free(p);
}

/* The header decoder classifies types only by number: an unknown type is
 * the dispatcher's business (E_UNKNOWN_TYPE), not a malformed frame. */
static void test_unknown_types(void **state)
{
	struct wire_hdr h = {0, 9, 0, 0}, g;
	uint8_t out[WIRE_HDR_SIZE];
	int t;

	(void)state;
	for (t = 0; t < 256; t++) {
		h.type = (uint8_t)t;
		wire_hdr_encode(out, &h);
		assert_int_equal(wire_hdr_decode(out, sizeof(out), 0, &g), 0);
		assert_int_equal(g.type, t);
	}
	assert_null(wire_type_name(0x00));
	assert_null(wire_type_name(0x7f));
	assert_null(wire_type_name(0xff));
	assert_null(wire_type_name(-1));
	assert_null(wire_type_name(256));
	assert_string_equal(wire_type_name(WT_HELLO), "HELLO");
	assert_string_equal(wire_type_name(WT_EXEC), "EXEC");
	assert_string_equal(wire_type_name(WT_DIFF), "DIFF");
}

/* ---- a frame cut at every byte ---- */

static size_t build_frame(uint8_t *out, size_t cap, size_t *payload_at)
{
	struct wire_hdr h = {0, 7, WT_EXEC, 0};
	struct wire_buf b;
	size_t rec;

	wb_init(&b, out + WIRE_HDR_SIZE, cap - WIRE_HDR_SIZE);
	wb_str(&b, T_SESSION, "main");
	wb_bytes(&b, T_COMMAND, "echo hi; ls -la /", 17);
	wb_u32(&b, T_TIMEOUT_MS, 30000);
	wb_u64(&b, T_OUTPUT_LIMIT, 1ull << 40);
	rec = wb_open(&b, T_ENTRY);
	wb_str(&b, T_NAME, "x");
	wb_i64(&b, T_MTIME_NS, -1);
	wb_close(&b, rec);
	wb_u8(&b, T_MODE, WM_STREAM);
	assert_false(b.overflow);
	h.len = (uint32_t)b.len;
	wire_hdr_encode(out, &h);
	*payload_at = WIRE_HDR_SIZE;
	return WIRE_HDR_SIZE + b.len;
}

/* Offsets in the payload where one field ends and the next begins. */
static bool is_field_boundary(const uint8_t *payload, size_t n, size_t cut)
{
	size_t at = 0;

	while (at < cut && at + FIELD_HDR <= n)
		at += FIELD_HDR + wire_get32(payload + at + 2);
	return at == cut;
}

static void test_cut_at_every_byte(void **state)
{
	uint8_t frame[256], *p;
	size_t total, pay, n;
	struct wire_hdr h;
	int r;

	(void)state;
	total = build_frame(frame, sizeof(frame), &pay);
	for (n = 0; n <= total; n++) {
		p = dup_exact(frame, n);
		r = wire_hdr_decode(p, n, WIRE_MAX_FRAME_DEFAULT, &h);
		if (n < WIRE_HDR_SIZE) {
			assert_int_equal(r, -EAGAIN); /* "need more" */
		} else {
			assert_int_equal(r, 0);
			/* The reader waits until all h.len bytes are there. */
			assert_int_equal(n >= WIRE_HDR_SIZE + h.len,
					 n == total);
		}
		free(p);
	}
	/* The payload cut short: wire_validate fails unless the cut falls
	 * between two fields, which is a shorter well-formed payload. */
	for (n = 0; n <= total - pay; n++) {
		p = dup_exact(frame + pay, n);
		r = wire_validate(p, n);
		if (is_field_boundary(frame + pay, total - pay, n))
			assert_int_equal(r, 0);
		else
			assert_int_equal(r, -EPROTO);
		free(p);
	}
}

/* ---- TLV reader ---- */

static void test_truncated_tlv(void **state)
{
	/* clang-format off */
	static const struct {
		const char *bytes;
		size_t n;
	} bad[] = {
		{ "\x00", 1 },
		{ "\x00\x01\x00\x00\x00", 5 },                 /* half header */
		{ "\x00\x01\x00\x00\x00\x01", 6 },             /* value missing */
		{ "\x00\x01\x00\x00\x00\x04\xaa\xbb\xcc", 9 }, /* one short */
		{ "\x00\x01\xff\xff\xff\xff\xaa", 7 },         /* len 2^32-1 */
		{ "\x00\x01\x00\x00\x00\x00\x00\x02", 8 },     /* 2nd field cut */
		{ "\x00\x01\x00\x00\x00\x01\x05\x00\x02\x80\x00\x00\x00", 13 },
	};
	/* clang-format on */
	struct wire_field f;
	struct wire_iter it;
	unsigned k;
	uint8_t *p;

	(void)state;
	for (k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
		p = dup_exact(bad[k].bytes, bad[k].n);
		assert_int_equal(wire_validate(p, bad[k].n), -EPROTO);
		/* wire_find reports it too rather than a clean "absent" */
		assert_int_equal(wire_find(p, bad[k].n, 0x7777, &f), -EPROTO);
		/* The iterator stops at the bad field and stays stopped. */
		wire_iter_init(&it, p, bad[k].n);
		while (wire_next(&it, &f) > 0)
			;
		assert_int_equal(wire_next(&it, &f), -EPROTO);
		free(p);
	}
	assert_int_equal(wire_validate(NULL, 0), 0);
}

static void test_unknown_tags_skipped(void **state)
{
	uint8_t mem[128], *p;
	struct wire_buf b;
	struct wire_field f;
	struct wire_iter it;
	uint64_t v;
	int seen = 0;

	(void)state;
	wb_init(&b, mem, sizeof(mem));
	/* An unknown field whose value looks like TLV itself. */
	wb_bytes(&b, 0x7777, "\x00\x00\x00\x00\x00\x10", 6);
	wb_u32(&b, T_TIMEOUT_MS, 5);
	wb_u64(&b, 0xffff, 1);
	wb_u8(&b, T_MODE, 1);
	p = dup_exact(mem, b.len);
	assert_int_equal(wire_validate(p, b.len), 0);
	assert_int_equal(wire_find(p, b.len, T_MODE, &f), 1);
	assert_int_equal(wire_uint(&f, &v), 0);
	assert_int_equal(v, 1);
	/* Absent: 0 and an empty field, not an error. */
	assert_int_equal(wire_find(p, b.len, T_SESSION, &f), 0);
	assert_null(f.val);
	assert_int_equal(f.len, 0);
	/* A receiver's switch simply has no case for the unknown tags; the
	 * walk goes on past them and sees every known one. */
	wire_iter_init(&it, p, b.len);
	while (wire_next(&it, &f) > 0)
		if (f.tag == T_TIMEOUT_MS || f.tag == T_MODE)
			seen++;
	assert_int_equal(seen, 2);
	free(p);
}

static void test_repeated_tags_are_lists(void **state)
{
	static const char *const argv[] = {"ls", "-l", "", "/tmp"};
	uint8_t mem[128];
	struct wire_buf b;
	struct wire_field f;
	struct wire_iter it;
	unsigned k = 0;

	(void)state;
	wb_init(&b, mem, sizeof(mem));
	for (k = 0; k < 4; k++)
		wb_str(&b, T_ARGV, argv[k]);
	k = 0;
	wire_iter_init(&it, mem, b.len);
	while (wire_next(&it, &f) > 0) {
		assert_int_equal(f.tag, T_ARGV);
		assert_int_equal(f.len, strlen(argv[k]));
		assert_memory_equal(f.val, argv[k], f.len);
		k++;
	}
	assert_int_equal(k, 4);
	/* wire_find gives the first of them. */
	assert_int_equal(wire_find(mem, b.len, T_ARGV, &f), 1);
	assert_int_equal(f.len, 2);
}

/* ---- TLV writer ---- */

#define CANARY 0xa5

/* Each writer alone into a buffer one byte too small: overflow, nothing
 * written past cap, and every later write refused although it would fit. */
static void test_wb_overflow_sticky(void **state)
{
	uint8_t mem[64];
	struct wire_buf b;
	size_t cap, k;

	(void)state;
	for (cap = 0; cap < FIELD_HDR + 8; cap++) {
		memset(mem, CANARY, sizeof(mem));
		wb_init(&b, mem, cap);
		wb_u64(&b, 1, UINT64_MAX);
		assert_true(b.overflow);
		assert_int_equal(wb_room(&b), 0);
		wb_u8(&b, 2, 0); /* fits in cap >= 7, refused anyway */
		wb_bytes(&b, 3, NULL, 0);
		wb_str(&b, 4, "");
		wb_advance(&b, 0);
		assert_true(b.overflow);
		assert_int_equal(b.len, 0);
		for (k = cap; k < sizeof(mem); k++)
			assert_int_equal(mem[k], CANARY);
	}
}

static void test_wb_exact_fit(void **state)
{
	uint8_t *mem = malloc(FIELD_HDR + 4 + FIELD_HDR + 3);
	struct wire_buf b;

	(void)state;
	assert_non_null(mem);
	wb_init(&b, mem, FIELD_HDR + 4 + FIELD_HDR + 3);
	wb_u32(&b, 1, 7);
	wb_bytes(&b, 2, "abc", 3);
	assert_false(b.overflow);
	assert_int_equal(wb_room(&b), 0);
	wb_bytes(&b, 3, NULL, 0); /* even an empty field needs 6 bytes */
	assert_true(b.overflow);
	assert_int_equal(b.len, FIELD_HDR + 4 + FIELD_HDR + 3);
	free(mem);
}

static void test_wb_bytes_too_long(void **state)
{
	uint8_t mem[16];
	struct wire_buf b;

	(void)state;
	/* A length that does not fit u32 must not wrap into a short field. */
	wb_init(&b, mem, sizeof(mem));
	wb_bytes(&b, 1, mem, (size_t)UINT32_MAX + 1);
	assert_true(b.overflow);
	wb_init(&b, mem, sizeof(mem));
	wb_bytes(&b, 1, mem, SIZE_MAX);
	assert_true(b.overflow);
	assert_int_equal(b.len, 0);
}

static void test_records(void **state)
{
	uint8_t mem[128];
	struct wire_buf b;
	struct wire_iter it, rit, iit;
	struct wire_field f, r, g;
	size_t outer, inner;
	uint64_t v;

	(void)state;
	wb_init(&b, mem, sizeof(mem));
	wb_u8(&b, T_MODE, 1);
	outer = wb_open(&b, T_ENTRY);
	wb_str(&b, T_NAME, "a");
	inner = wb_open(&b, T_ENTRY); /* a record inside a record */
	wb_u16(&b, T_ROWS, 24);
	wb_close(&b, inner);
	wb_close(&b, outer);
	outer = wb_open(&b, T_ENTRY); /* an empty record */
	wb_close(&b, outer);
	assert_false(b.overflow);
	assert_int_equal(b.len, 7 + 6 + (7 + (6 + 8)) + 6);

	wire_iter_init(&it, mem, b.len);
	next_field(&it, &f, T_MODE, 1);
	next_field(&it, &f, T_ENTRY, 7 + 6 + 8);
	wire_iter_init(&rit, f.val, f.len);
	next_field(&rit, &r, T_NAME, 1);
	assert_int_equal(r.val[0], 'a');
	next_field(&rit, &r, T_ENTRY, 8);
	wire_iter_init(&iit, r.val, r.len);
	next_field(&iit, &g, T_ROWS, 2);
	assert_int_equal(wire_uint(&g, &v), 0);
	assert_int_equal(v, 24);
	assert_int_equal(wire_next(&iit, &g), 0);
	assert_int_equal(wire_next(&rit, &r), 0);
	next_field(&it, &f, T_ENTRY, 0);
	assert_int_equal(wire_next(&it, &f), 0);
}

/* A record whose contents overflow: the writer stays overflowed and the
 * close writes nothing (the mark may point past what was written). */
static void test_record_overflow(void **state)
{
	uint8_t mem[32];
	struct wire_buf b;
	size_t m;

	(void)state;
	memset(mem, CANARY, sizeof(mem));
	wb_init(&b, mem, 20);
	m = wb_open(&b, T_ENTRY);
	wb_bytes(&b, T_NAME, "0123456789abcdef", 16);
	assert_true(b.overflow);
	wb_close(&b, m);
	assert_int_equal(wire_get32(mem + 2), 0); /* the open length stays */
	assert_int_equal(mem[20], CANARY);

	memset(mem, CANARY, sizeof(mem));
	wb_init(&b, mem, 4); /* the record header itself does not fit */
	m = wb_open(&b, T_ENTRY);
	assert_true(b.overflow);
	wb_close(&b, m);
	assert_int_equal(mem[0], CANARY);
}

/* In-place production: reserve a field, write into wb_room(), advance. */
static void test_wb_in_place(void **state)
{
	uint8_t mem[32];
	struct wire_buf b;
	struct wire_field f;
	size_t m;

	(void)state;
	memset(mem, CANARY, sizeof(mem));
	wb_init(&b, mem, 20);
	m = wb_open(&b, T_OUTPUT);
	assert_int_equal(wb_room(&b), 14);
	memcpy(b.p + b.len, "hello", 5);
	wb_advance(&b, 5);
	wb_close(&b, m);
	assert_false(b.overflow);
	assert_int_equal(wire_find(mem, b.len, T_OUTPUT, &f), 1);
	assert_int_equal(f.len, 5);
	assert_memory_equal(f.val, "hello", 5);
	wb_advance(&b, wb_room(&b) + 1);
	assert_true(b.overflow);
	assert_int_equal(b.len, 11);
	assert_int_equal(mem[20], CANARY);
}

/* ---- DATA and WINDOW payloads ---- */

static void test_data_prefix(void **state)
{
	uint8_t frame[WIRE_DATA_PREFIX + 3], *p;
	const uint8_t *data;
	uint64_t off;
	uint8_t ch;
	size_t len, n;

	(void)state;
	wire_data_prefix(frame, WCH_STDERR, 0x0102030405060708ull);
	memcpy(frame + WIRE_DATA_PREFIX, "abc", 3);
	assert_memory_equal(frame,
			    "\x02\x01\x02\x03\x04\x05\x06\x07\x08"
			    "abc",
			    sizeof(frame));
	for (n = 0; n <= sizeof(frame); n++) {
		p = dup_exact(frame, n);
		if (n < WIRE_DATA_PREFIX) {
			assert_int_equal(
			    wire_data_decode(p, n, &ch, &off, &data, &len),
			    -EPROTO);
			free(p);
			continue;
		}
		assert_int_equal(wire_data_decode(p, n, &ch, &off, &data, &len),
				 0);
		assert_int_equal(ch, WCH_STDERR);
		assert_true(off == 0x0102030405060708ull);
		assert_ptr_equal(data, p + WIRE_DATA_PREFIX);
		assert_int_equal(len, n - WIRE_DATA_PREFIX);
		free(p);
	}
}

/* The constants a peer negotiates against must stay consistent: credit
 * fits a signed 32-bit window, the default frame and window are within
 * their bounds, and one maximal DATA frame fits the default maximum. */
static void test_window_limits(void **state)
{
	uint8_t p[4];

	(void)state;
	assert_true(WIRE_MAX_FRAME_MIN <= WIRE_MAX_FRAME_DEFAULT);
	assert_true(WIRE_WINDOW_DEFAULT <= WIRE_WINDOW_MAX);
	assert_true(WIRE_WINDOW_MAX == (uint32_t)INT32_MAX);
	assert_true(WIRE_DATA_PREFIX < WIRE_MAX_FRAME_MIN);
	/* WINDOW's payload is a bare u32 increment. */
	wire_put32(p, WIRE_WINDOW_MAX);
	assert_int_equal(wire_get32(p), WIRE_WINDOW_MAX);
	assert_memory_equal(p, "\x7f\xff\xff\xff", 4);
}

/* ---- names and errno mapping ---- */

static void test_err_names(void **state)
{
	/* The numbers are part of the protocol: never renumbered. */
	/* clang-format off */
	static const char *const stable[E__COUNT] = {
		"E_OK",           "E_BAD_FRAME",     "E_TOO_LARGE",
		"E_UNKNOWN_TYPE", "E_HELLO_REQUIRED", "E_AUTH",
		"E_VERSION",      "E_BAD_REQUEST",   "E_STREAM_IN_USE",
		"E_FLOW",         "E_LIMIT",         "E_CANCELLED",
		"E_TIMEOUT",      "E_NOT_FOUND",     "E_EXISTS",
		"E_PERMISSION",   "E_IO",            "E_EXEC",
		"E_UNSUPPORTED",  "E_NOT_UNIQUE",    "E_BUSY",
		"E_SHUTTING_DOWN", "E_ESCAPE",       "E_BAD_PATTERN",
		"E_IS_DIR",       "E_NOT_DIR",       "E_NO_SPACE",
		"E_NOT_EMPTY",    "E_NOT_MATCHED",   "E_INTERNAL",
	};
	/* clang-format on */
	int code;

	(void)state;
	for (code = 0; code < E__COUNT; code++) {
		/* A new code needs its name added above. */
		assert_non_null(stable[code]);
		assert_string_equal(wire_err_name(code), stable[code]);
	}
	assert_int_equal(E_NOT_FOUND, 13);
	assert_int_equal(E_INTERNAL, 29);
	assert_string_equal(wire_err_name(-1), "E_?");
	assert_string_equal(wire_err_name(E__COUNT), "E_?");
	assert_string_equal(wire_err_name(65535), "E_?");
}

static void test_err_from_errno(void **state)
{
	/* clang-format off */
	static const struct {
		int err, code;
	} map[] = {
		{ ENOENT, E_NOT_FOUND },      { ESRCH, E_NOT_FOUND },
		{ EEXIST, E_EXISTS },         { EACCES, E_PERMISSION },
		{ EPERM, E_PERMISSION },      { EROFS, E_PERMISSION },
		{ EISDIR, E_IS_DIR },         { ENOTDIR, E_NOT_DIR },
		{ ENOSPC, E_NO_SPACE },       { EDQUOT, E_NO_SPACE },
		{ ENOTEMPTY, E_NOT_EMPTY },   { EXDEV, E_ESCAPE },
		{ ETIMEDOUT, E_TIMEOUT },     { ECANCELED, E_CANCELLED },
		{ EMFILE, E_LIMIT },          { ENFILE, E_LIMIT },
		{ EAGAIN, E_LIMIT },          { EINVAL, E_BAD_REQUEST },
		{ ENAMETOOLONG, E_BAD_REQUEST }, { ELOOP, E_BAD_REQUEST },
		{ ENOSYS, E_UNSUPPORTED },    { EOPNOTSUPP, E_UNSUPPORTED },
		{ EAFNOSUPPORT, E_UNSUPPORTED },
		/* everything else is E_IO, the errno says the rest */
		{ EIO, E_IO },                { EBADF, E_IO },
		{ EPIPE, E_IO },              { 0, E_IO },
		{ -1, E_IO },                 { 100000, E_IO },
	};
	/* clang-format on */
	unsigned k;

	(void)state;
	for (k = 0; k < sizeof(map) / sizeof(map[0]); k++) {
		int got = wire_err_from_errno(map[k].err);

		if (got != map[k].code)
			fail_msg("errno %d -> %s, want %s", map[k].err,
				 wire_err_name(got),
				 wire_err_name(map[k].code));
	}
	/* Every errno maps to a code that has a name. */
	for (k = 0; k < 4096; k++)
		assert_string_not_equal(
		    wire_err_name(wire_err_from_errno((int)k)), "E_?");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_scalars),
	    cmocka_unit_test(test_every_field_type),
	    cmocka_unit_test(test_int_widths),
	    cmocka_unit_test(test_int_small_width_values),
	    cmocka_unit_test(test_hdr_roundtrip),
	    cmocka_unit_test(test_hdr_oversize),
	    cmocka_unit_test(test_hdr_len_below_min),
	    cmocka_unit_test(test_unknown_types),
	    cmocka_unit_test(test_cut_at_every_byte),
	    cmocka_unit_test(test_truncated_tlv),
	    cmocka_unit_test(test_unknown_tags_skipped),
	    cmocka_unit_test(test_repeated_tags_are_lists),
	    cmocka_unit_test(test_wb_overflow_sticky),
	    cmocka_unit_test(test_wb_exact_fit),
	    cmocka_unit_test(test_wb_bytes_too_long),
	    cmocka_unit_test(test_records),
	    cmocka_unit_test(test_record_overflow),
	    cmocka_unit_test(test_wb_in_place),
	    cmocka_unit_test(test_data_prefix),
	    cmocka_unit_test(test_window_limits),
	    cmocka_unit_test(test_err_names),
	    cmocka_unit_test(test_err_from_errno),
	};

	return cmocka_run_group_tests_name("wire", tests, NULL, NULL);
}
