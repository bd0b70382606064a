/* wire.c - frame and TLV codec for protocol v1 (see PROTOCOL.md). */
#include "wire.h"

#include <errno.h>
#include <string.h>

#define FIELD_HDR 6 /* u16 tag | u32 len */

int wire_hdr_decode(const uint8_t *buf, size_t n, uint32_t max_payload,
		    struct wire_hdr *h)
{
	uint32_t len;

	if (n < WIRE_HDR_SIZE)
		return -EAGAIN;
	len = wire_get32(buf);
	if (len < WIRE_LEN_MIN)
		return -EPROTO;
	if (len - WIRE_LEN_MIN > max_payload)
		return -EMSGSIZE;
	h->len = len - WIRE_LEN_MIN;
	h->stream = wire_get32(buf + 4);
	h->type = buf[8];
	h->flags = buf[9];
	return 0;
}

void wire_hdr_encode(uint8_t out[WIRE_HDR_SIZE], const struct wire_hdr *h)
{
	wire_put32(out, h->len + WIRE_LEN_MIN);
	wire_put32(out + 4, h->stream);
	out[8] = h->type;
	out[9] = h->flags;
}

void wb_init(struct wire_buf *b, void *mem, size_t cap)
{
	b->p = mem;
	b->len = 0;
	b->cap = cap;
	b->overflow = false;
}

/* Reserve a field of n value bytes; NULL (and sticky overflow) if it does
 * not fit, so callers may write a whole message and check once. */
static uint8_t *wb_field(struct wire_buf *b, uint16_t tag, size_t n)
{
	uint8_t *p;

	if (b->overflow || n > UINT32_MAX || b->cap - b->len < FIELD_HDR + n) {
		b->overflow = true;
		return NULL;
	}
	p = b->p + b->len;
	wire_put16(p, tag);
	wire_put32(p + 2, (uint32_t)n);
	b->len += FIELD_HDR + n;
	return p + FIELD_HDR;
}

void wb_u8(struct wire_buf *b, uint16_t tag, uint8_t v)
{
	uint8_t *p = wb_field(b, tag, 1);
	if (p)
		*p = v;
}

void wb_u16(struct wire_buf *b, uint16_t tag, uint16_t v)
{
	uint8_t *p = wb_field(b, tag, 2);
	if (p)
		wire_put16(p, v);
}

void wb_u32(struct wire_buf *b, uint16_t tag, uint32_t v)
{
	uint8_t *p = wb_field(b, tag, 4);
	if (p)
		wire_put32(p, v);
}

void wb_u64(struct wire_buf *b, uint16_t tag, uint64_t v)
{
	uint8_t *p = wb_field(b, tag, 8);
	if (p)
		wire_put64(p, v);
}

void wb_i32(struct wire_buf *b, uint16_t tag, int32_t v)
{
	wb_u32(b, tag, (uint32_t)v);
}

void wb_i64(struct wire_buf *b, uint16_t tag, int64_t v)
{
	wb_u64(b, tag, (uint64_t)v);
}

void wb_bytes(struct wire_buf *b, uint16_t tag, const void *v, size_t n)
{
	uint8_t *p = wb_field(b, tag, n);
	if (p && n)
		memcpy(p, v, n);
}

void wb_str(struct wire_buf *b, uint16_t tag, const char *s)
{
	wb_bytes(b, tag, s, strlen(s));
}

size_t wb_open(struct wire_buf *b, uint16_t tag)
{
	size_t mark = b->len;

	wb_field(b, tag, 0);
	return mark;
}

void wb_close(struct wire_buf *b, size_t mark)
{
	size_t n;

	if (b->overflow)
		return;
	n = b->len - mark - FIELD_HDR;
	if (n > UINT32_MAX) {
		b->overflow = true;
		return;
	}
	wire_put32(b->p + mark + 2, (uint32_t)n);
}

void wb_advance(struct wire_buf *b, size_t n)
{
	if (b->overflow || b->cap - b->len < n) {
		b->overflow = true;
		return;
	}
	b->len += n;
}

void wire_iter_init(struct wire_iter *it, const void *payload, size_t n)
{
	it->p = payload;
	it->left = n;
}

int wire_next(struct wire_iter *it, struct wire_field *f)
{
	uint32_t len;

	if (it->left == 0)
		return 0;
	if (it->left < FIELD_HDR)
		return -EPROTO;
	len = wire_get32(it->p + 2);
	if (len > it->left - FIELD_HDR)
		return -EPROTO;
	f->tag = wire_get16(it->p);
	f->len = len;
	f->val = it->p + FIELD_HDR;
	it->p += FIELD_HDR + len;
	it->left -= FIELD_HDR + len;
	return 1;
}

int wire_uint(const struct wire_field *f, uint64_t *v)
{
	switch (f->len) {
	case 1: *v = f->val[0]; return 0;
	case 2: *v = wire_get16(f->val); return 0;
	case 4: *v = wire_get32(f->val); return 0;
	case 8: *v = wire_get64(f->val); return 0;
	}
	return -EPROTO;
}

int wire_int(const struct wire_field *f, int64_t *v)
{
	switch (f->len) {
	case 1: *v = (int8_t)f->val[0]; return 0;
	case 2: *v = (int16_t)wire_get16(f->val); return 0;
	case 4: *v = (int32_t)wire_get32(f->val); return 0;
	case 8: *v = (int64_t)wire_get64(f->val); return 0;
	}
	return -EPROTO;
}

int wire_validate(const void *payload, size_t n)
{
	struct wire_iter it;
	struct wire_field f;
	int r;

	wire_iter_init(&it, payload, n);
	while ((r = wire_next(&it, &f)) > 0)
		;
	return r;
}

int wire_find(const void *payload, size_t n, uint16_t tag, struct wire_field *f)
{
	struct wire_iter it;
	int r;

	wire_iter_init(&it, payload, n);
	while ((r = wire_next(&it, f)) > 0)
		if (f->tag == tag)
			return 1;
	f->val = NULL;
	f->len = 0;
	return r;
}

void wire_data_prefix(uint8_t out[WIRE_DATA_PREFIX], uint8_t channel,
		      uint64_t offset)
{
	out[0] = channel;
	wire_put64(out + 1, offset);
}

int wire_data_decode(const uint8_t *payload, size_t n, uint8_t *channel,
		     uint64_t *offset, const uint8_t **data, size_t *len)
{
	if (n < WIRE_DATA_PREFIX)
		return -EPROTO;
	*channel = payload[0];
	*offset = wire_get64(payload + 1);
	*data = payload + WIRE_DATA_PREFIX;
	*len = n - WIRE_DATA_PREFIX;
	return 0;
}

static const char *const err_names[E__COUNT] = {
    [E_OK] = "E_OK",
    [E_BAD_FRAME] = "E_BAD_FRAME",
    [E_TOO_LARGE] = "E_TOO_LARGE",
    [E_UNKNOWN_TYPE] = "E_UNKNOWN_TYPE",
    [E_HELLO_REQUIRED] = "E_HELLO_REQUIRED",
    [E_AUTH] = "E_AUTH",
    [E_VERSION] = "E_VERSION",
    [E_BAD_REQUEST] = "E_BAD_REQUEST",
    [E_STREAM_IN_USE] = "E_STREAM_IN_USE",
    [E_FLOW] = "E_FLOW",
    [E_LIMIT] = "E_LIMIT",
    [E_CANCELLED] = "E_CANCELLED",
    [E_TIMEOUT] = "E_TIMEOUT",
    [E_NOT_FOUND] = "E_NOT_FOUND",
    [E_EXISTS] = "E_EXISTS",
    [E_PERMISSION] = "E_PERMISSION",
    [E_IO] = "E_IO",
    [E_EXEC] = "E_EXEC",
    [E_UNSUPPORTED] = "E_UNSUPPORTED",
    [E_NOT_UNIQUE] = "E_NOT_UNIQUE",
    [E_BUSY] = "E_BUSY",
    [E_SHUTTING_DOWN] = "E_SHUTTING_DOWN",
    [E_ESCAPE] = "E_ESCAPE",
    [E_BAD_PATTERN] = "E_BAD_PATTERN",
    [E_IS_DIR] = "E_IS_DIR",
    [E_NOT_DIR] = "E_NOT_DIR",
    [E_NO_SPACE] = "E_NO_SPACE",
    [E_NOT_EMPTY] = "E_NOT_EMPTY",
    [E_NOT_MATCHED] = "E_NOT_MATCHED",
    [E_INTERNAL] = "E_INTERNAL",
};

const char *wire_err_name(int code)
{
	if (code < 0 || code >= E__COUNT || !err_names[code])
		return "E_?";
	return err_names[code];
}

static const char *const type_names[256] = {
    [WT_HELLO] = "HELLO",
    [WT_DATA] = "DATA",
    [WT_WINDOW] = "WINDOW",
    [WT_CANCEL] = "CANCEL",
    [WT_RESULT] = "RESULT",
    [WT_ERROR] = "ERROR",
    [WT_EVENT] = "EVENT",
    [WT_PING] = "PING",
    [WT_INFO] = "INFO",
    [WT_STATS] = "STATS",
    [WT_SHUTDOWN] = "SHUTDOWN",
    [WT_SHELL_OPEN] = "SHELL_OPEN",
    [WT_SHELL_CLOSE] = "SHELL_CLOSE",
    [WT_EXEC] = "EXEC",
    [WT_SHELL_STDIN] = "SHELL_STDIN",
    [WT_SHELL_RESIZE] = "SHELL_RESIZE",
    [WT_SHELL_SIGNAL] = "SHELL_SIGNAL",
    [WT_SHELL_LIST] = "SHELL_LIST",
    [WT_EXEC_WAIT] = "EXEC_WAIT",
    [WT_SPAWN] = "SPAWN",
    [WT_PROC_STDIN] = "PROC_STDIN",
    [WT_PROC_CLOSE_STDIN] = "PROC_CLOSE_STDIN",
    [WT_PROC_SIGNAL] = "PROC_SIGNAL",
    [WT_PROC_WAIT] = "PROC_WAIT",
    [WT_PROC_ATTACH] = "PROC_ATTACH",
    [WT_PROC_LIST] = "PROC_LIST",
    [WT_READ] = "READ",
    [WT_WRITE] = "WRITE",
    [WT_EDIT] = "EDIT",
    [WT_LS] = "LS",
    [WT_STAT] = "STAT",
    [WT_MKDIR] = "MKDIR",
    [WT_REMOVE] = "REMOVE",
    [WT_MOVE] = "MOVE",
    [WT_FIND] = "FIND",
    [WT_GREP] = "GREP",
    [WT_DIFF] = "DIFF",
};

const char *wire_type_name(int type)
{
	if (type < 0 || type > 255)
		return NULL;
	return type_names[type];
}

int wire_err_from_errno(int err)
{
	switch (err) {
	case ENOENT:
	case ESRCH: return E_NOT_FOUND;
	case EEXIST: return E_EXISTS;
	case EACCES:
	case EPERM:
	case EROFS: return E_PERMISSION;
	case EISDIR: return E_IS_DIR;
	case ENOTDIR: return E_NOT_DIR;
	case ENOSPC:
	case EDQUOT: return E_NO_SPACE;
	case ENOTEMPTY: return E_NOT_EMPTY;
	case EXDEV: return E_ESCAPE;
	case ETIMEDOUT: return E_TIMEOUT;
	case ECANCELED: return E_CANCELLED;
	case EMFILE:
	case ENFILE:
	case EAGAIN: return E_LIMIT;
	case EINVAL:
	case ENAMETOOLONG:
	case ELOOP: return E_BAD_REQUEST;
	case ENOSYS:
	case EOPNOTSUPP:
	case EAFNOSUPPORT: return E_UNSUPPORTED;
	}
	return E_IO;
}
