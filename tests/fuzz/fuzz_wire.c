/* fuzz_wire.c - libFuzzer target for the frame and field decoder.
 *
 * The input is a byte stream as a peer would send it.  It is cut into
 * frames exactly as conn.c does, and every frame's payload is taken apart
 * with every decoder in wire.h.  Besides ASan/UBSan findings, the target
 * traps when a decoder breaks its contract:
 *  - a field that wire_next() returns lies inside its payload;
 *  - wire_validate() agrees with a full walk by wire_next();
 *  - re-encoding the decoded fields with wb_bytes() gives the payload back
 *    byte for byte, and an encoder with too little room reports overflow
 *    and never writes past its capacity;
 *  - an integer field decodes iff its width is 1, 2, 4 or 8.
 * libFuzzer hands us a heap copy of exactly size bytes, so any read past
 * the end is an ASan report.
 */
#include "wire.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define MAX_DEPTH 4
#define CHECK(cond)                                                            \
	do {                                                                   \
		if (!(cond))                                                   \
			__builtin_trap();                                      \
	} while (0)

static void check_int(const struct wire_field *f)
{
	bool valid = f->len == 1 || f->len == 2 || f->len == 4 || f->len == 8;
	uint64_t u;
	int64_t i;

	CHECK((wire_uint(f, &u) == 0) == valid);
	CHECK((wire_int(f, &i) == 0) == valid);
	if (valid)
		CHECK((uint64_t)i << (64 - 8 * f->len) ==
		      u << (64 - 8 * f->len));
}

/* Re-encode the fields of a well-formed payload: byte-exact, and with a
 * capacity one byte short, an overflow that writes nothing past it. */
static void check_reencode(const uint8_t *p, size_t n)
{
	struct wire_iter it;
	struct wire_field f;
	struct wire_buf b, s;
	uint8_t *full, *shrt;

	if (n == 0)
		return;
	full = malloc(n);
	shrt = malloc(n - 1 ? n - 1 : 1);
	CHECK(full && shrt);
	wb_init(&b, full, n);
	wb_init(&s, shrt, n - 1);
	wire_iter_init(&it, p, n);
	while (wire_next(&it, &f) > 0) {
		wb_bytes(&b, f.tag, f.val, f.len);
		wb_bytes(&s, f.tag, f.val, f.len);
	}
	CHECK(!b.overflow && b.len == n && memcmp(full, p, n) == 0);
	CHECK(s.overflow && s.len < n && wb_room(&s) == 0);
	free(full);
	free(shrt);
}

static void walk_fields(const uint8_t *p, size_t n, int depth)
{
	struct wire_iter it;
	struct wire_field f;
	int r, valid = wire_validate(p, n);

	wire_iter_init(&it, p, n);
	while ((r = wire_next(&it, &f)) > 0) {
		CHECK(f.val >= p && f.val + f.len <= p + n);
		check_int(&f);
		/* Any field may be a record: nested TLV gets the same walk. */
		if (depth < MAX_DEPTH)
			walk_fields(f.val, f.len, depth + 1);
	}
	CHECK(r == 0 || r == -EPROTO);
	CHECK(r == valid);
	if (r == 0)
		check_reencode(p, n);
	(void)wire_find(p, n, (uint16_t)(n ? p[0] << 8 | p[n - 1] : 0), &f);
}

static void check_frame(const struct wire_hdr *h, const uint8_t *p)
{
	const uint8_t *data;
	uint64_t off;
	uint8_t ch;
	size_t len;

	switch (h->type) {
	case WT_DATA:
		if (wire_data_decode(p, h->len, &ch, &off, &data, &len) == 0)
			CHECK(data + len == p + h->len);
		else
			CHECK(h->len < WIRE_DATA_PREFIX);
		break;
	case WT_WINDOW:
		if (h->len == 4)
			(void)wire_get32(p);
		break;
	default: walk_fields(p, h->len, 0);
	}
	(void)wire_type_name(h->type);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* A small maximum so the length checks are reached often. */
	uint32_t max = 4096;
	struct wire_hdr h;
	uint8_t again[WIRE_HDR_SIZE];
	size_t pos = 0;
	int r;

	while ((r = wire_hdr_decode(data + pos, size - pos, max, &h)) == 0) {
		wire_hdr_encode(again, &h);
		CHECK(memcmp(again, data + pos, WIRE_HDR_SIZE) == 0);
		if (size - pos - WIRE_HDR_SIZE < h.len)
			break; /* incomplete: a reader waits for more */
		check_frame(&h, data + pos + WIRE_HDR_SIZE);
		pos += WIRE_HDR_SIZE + h.len;
	}
	CHECK(r == 0 || r == -EAGAIN || r == -EPROTO || r == -EMSGSIZE);
	CHECK(r != -EAGAIN || size - pos < WIRE_HDR_SIZE);
	return 0;
}
