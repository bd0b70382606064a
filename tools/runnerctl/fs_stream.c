/* fs_stream.c - the request/stream/RESULT round trip and the record
 * reassembly the file commands share (fs_stream.h). */
#include "fs_stream.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int write_out(const void *p, size_t n)
{
	const uint8_t *b = p;
	ssize_t w;

	while (n) {
		w = write(STDOUT_FILENO, b, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		b += w;
		n -= (size_t)w;
	}
	return 0;
}

uint64_t field_u(const struct wire_field *f)
{
	uint64_t v = 0;

	wire_uint(f, &v);
	return v;
}

/* Find tag in a payload as an integer, def when absent. */
uint64_t find_u(const uint8_t *p, size_t n, uint16_t tag, uint64_t def)
{
	struct wire_field f;

	if (wire_find(p, n, tag, &f) < 0 || !f.val)
		return def;
	return field_u(&f);
}

int data_to_stdout(void *ctx, const uint8_t *p, size_t n)
{
	(void)ctx;
	return write_out(p, n);
}

/* T_ENTRY records arrive as a byte stream that DATA frames cut
 * anywhere: reassemble, hand each whole record to fn. */
struct records {
	uint8_t *buf;
	size_t len, cap;
	void (*fn)(void *ctx, const uint8_t *rec, size_t n);
	void *ctx;
};

static int records_feed(void *ctx, const uint8_t *p, size_t n)
{
	struct records *rs = ctx;
	size_t pos = 0, need;

	if (rs->len + n > rs->cap) {
		size_t cap = (rs->len + n) * 2;
		uint8_t *b = realloc(rs->buf, cap);
		if (!b)
			return -1;
		rs->buf = b;
		rs->cap = cap;
	}
	memcpy(rs->buf + rs->len, p, n);
	rs->len += n;
	while (rs->len - pos >= 6) {
		need = 6 + wire_get32(rs->buf + pos + 2);
		if (rs->len - pos < need)
			break;
		if (wire_get16(rs->buf + pos) == T_ENTRY)
			rs->fn(rs->ctx, rs->buf + pos + 6, need - 6);
		pos += need;
	}
	memmove(rs->buf, rs->buf + pos, rs->len - pos);
	rs->len -= pos;
	return 0;
}

int records_call(struct rc_conn *c, uint8_t type, const struct wire_buf *req,
		 void (*fn)(void *, const uint8_t *, size_t), void *ctx,
		 struct rc_frame *res)
{
	struct records rs = {.fn = fn, .ctx = ctx};
	int r = rc_call_data(c, type, req, records_feed, &rs, res);

	free(rs.buf);
	return r;
}

void wb_path(struct wire_buf *b, uint16_t tag, const char *path)
{
	wb_bytes(b, tag, path, strlen(path));
}
