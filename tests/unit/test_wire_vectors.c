/* test_wire_vectors.c - check protocol/vectors/wire.txt both ways: decode
 * each frame and compare with its expectation, then encode the
 * expectation with the wb_* writer and compare byte for byte.  The file's
 * header describes the format; one cmocka test per vector.
 *
 * Usage: test_wire_vectors [FILE]   (default $WIRE_VECTORS, then
 * protocol/vectors/wire.txt relative to the repository root)
 */
#include <ctype.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "wire.h"

#define MAX_VECTORS 256
#define MAX_FIELDS  32
#define MAX_BYTES   1024
#define WORD_MAX    64

/* clang-format off */
enum vkind { VK_U8, VK_U16, VK_U32, VK_U64, VK_I32, VK_I64, VK_STR,
	     VK_BYTES, VK_RECORD };

static const char *const kind_names[] = {
	[VK_U8] = "u8",   [VK_U16] = "u16", [VK_U32] = "u32",
	[VK_U64] = "u64", [VK_I32] = "i32", [VK_I64] = "i64",
	[VK_STR] = "str", [VK_BYTES] = "bytes", [VK_RECORD] = "record",
};
static const unsigned kind_width[] = { 1, 2, 4, 8, 4, 8 };
/* clang-format on */

struct vlist;

struct vfield {
	uint16_t tag;
	enum vkind kind;
	uint64_t num; /* integers; signed ones in two's complement */
	uint8_t bytes[MAX_BYTES];
	size_t len;
	struct vlist *rec;
};

struct vlist {
	struct vfield f[MAX_FIELDS];
	size_t n;
};

enum outcome { V_FRAME, V_INCOMPLETE, V_MALFORMED, V_HDR_ERROR };

struct vector {
	char name[WORD_MAX];
	int line;
	uint8_t frame[MAX_BYTES + 64];
	size_t frame_len;
	enum outcome outcome;
	int hdr_err;
	uint32_t stream;
	int type;
	uint8_t flags;
	uint8_t channel; /* DATA */
	uint64_t offset;
	uint8_t data[MAX_BYTES];
	size_t data_len;
	uint32_t increment; /* WINDOW */
	struct vlist fields;
};

/* ---- tag names: the T_ constants, so the file reads like the spec ---- */

/* clang-format off */
#define TAG(n) { #n, T_##n }
static const struct {
	const char *name;
	uint16_t tag;
} tags[] = {
	TAG(VERSION), TAG(SOFTWARE), TAG(FEATURE), TAG(MAX_FRAME),
	TAG(WINDOW), TAG(TOKEN), TAG(MAX_STREAMS), TAG(CODE), TAG(ERRNO),
	TAG(MESSAGE), TAG(COUNT), TAG(EVENT), TAG(PID), TAG(UID), TAG(GID),
	TAG(TIME_NS), TAG(GRACE_MS), TAG(SESSION), TAG(ENV), TAG(CWD),
	TAG(ROWS), TAG(COLS), TAG(COMMAND), TAG(TIMEOUT_MS),
	TAG(OUTPUT_LIMIT), TAG(MODE), TAG(EXIT_STATUS), TAG(DURATION_US),
	TAG(TIMED_OUT), TAG(OUTPUT), TAG(DATA), TAG(ARGV), TAG(PATH),
	TAG(OFFSET), TAG(LENGTH), TAG(SIZE), TAG(FILE_MODE), TAG(MTIME_NS),
	TAG(FILE_TYPE), TAG(NAME), TAG(ENTRY),
};
/* clang-format on */

/* ---- parsing ---- */

struct cursor {
	const char *p;
	char err[160];
};

static bool failf(struct cursor *c, const char *fmt, ...)
{
	va_list ap;

	if (c->err[0])
		return false; /* keep the first error */
	va_start(ap, fmt);
	vsnprintf(c->err, sizeof(c->err), fmt, ap);
	va_end(ap);
	return false;
}

static void skip_ws(struct cursor *c)
{
	while (isspace((unsigned char)*c->p))
		c->p++;
}

/* A run of [A-Za-z0-9_-]; an empty word is allowed (e.g. "bytes="). */
static bool word(struct cursor *c, char *out)
{
	size_t n = 0;

	while (isalnum((unsigned char)*c->p) || *c->p == '_' || *c->p == '-') {
		if (n + 1 >= WORD_MAX)
			return failf(c, "word too long");
		out[n++] = *c->p++;
	}
	out[n] = 0;
	return true;
}

static bool expect_char(struct cursor *c, char ch)
{
	if (*c->p != ch)
		return failf(c, "expected '%c' at \"%.20s\"", ch, c->p);
	c->p++;
	return true;
}

static int hexval(int ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	ch = tolower(ch);
	return ch >= 'a' && ch <= 'f' ? ch - 'a' + 10 : -1;
}

/* Hex digits; ignore lists characters allowed in between. */
static bool hex_bytes(struct cursor *c, const char *ignore, uint8_t *out,
		      size_t cap, size_t *len)
{
	int hi = -1, v;

	for (*len = 0; *c->p; c->p++) {
		if (strchr(ignore, *c->p))
			continue;
		v = hexval((unsigned char)*c->p);
		if (v < 0)
			break;
		if (hi < 0) {
			hi = v;
			continue;
		}
		if (*len >= cap)
			return failf(c, "more than %zu bytes", cap);
		out[(*len)++] = (uint8_t)(hi << 4 | v);
		hi = -1;
	}
	if (hi >= 0)
		return failf(c, "odd number of hex digits");
	return true;
}

static bool quoted(struct cursor *c, uint8_t *out, size_t cap, size_t *len)
{
	static const char esc_from[] = "nrt0\\\"", esc_to[] = "\n\r\t\0\\\"";
	const char *e;
	int hi, lo;

	if (!expect_char(c, '"'))
		return false;
	for (*len = 0; *c->p != '"'; c->p++) {
		uint8_t ch = (uint8_t)*c->p;

		if (!ch)
			return failf(c, "unterminated string");
		if (ch == '\\') {
			c->p++;
			if (*c->p == 'x') {
				hi = hexval((unsigned char)c->p[1]);
				lo = hi < 0 ? -1
					    : hexval((unsigned char)c->p[2]);
				if (lo < 0)
					return failf(c, "bad \\x escape");
				ch = (uint8_t)(hi << 4 | lo);
				c->p += 2;
			} else if (*c->p && (e = strchr(esc_from, *c->p))) {
				ch = (uint8_t)esc_to[e - esc_from];
			} else {
				return failf(c, "bad escape \\%c", *c->p);
			}
		}
		if (*len >= cap)
			return failf(c, "string longer than %zu", cap);
		out[(*len)++] = ch;
	}
	c->p++;
	return true;
}

/* Decimal, -decimal, 0xhex, or an error code's name. */
static bool number(struct cursor *c, uint64_t *v)
{
	char w[WORD_MAX], *end;
	int code;

	if (!word(c, w) || !w[0])
		return failf(c, "expected a number at \"%.20s\"", c->p);
	if (!strncmp(w, "E_", 2)) {
		for (code = 0; code < E__COUNT; code++)
			if (!strcmp(wire_err_name(code), w))
				return *v = (uint64_t)code, true;
		return failf(c, "unknown error code %s", w);
	}
	errno = 0;
	if (w[0] == '-')
		*v = (uint64_t)strtoll(w, &end, 0);
	else
		*v = strtoull(w, &end, 0);
	if (errno || *end)
		return failf(c, "bad number %s", w);
	return true;
}

static bool number_max(struct cursor *c, uint64_t *v, uint64_t max)
{
	if (!number(c, v))
		return false;
	if (*v > max)
		return failf(c, "%llu is out of range", (unsigned long long)*v);
	return true;
}

static bool parse_fields(struct cursor *c, struct vlist *l, bool in_record);

static bool field_tag(struct cursor *c, const char *w, uint16_t *tag)
{
	char *end;
	unsigned k;

	if (!strncmp(w, "0x", 2)) {
		unsigned long v = strtoul(w, &end, 16);

		if (*end || v > 0xffff)
			return failf(c, "bad tag %s", w);
		*tag = (uint16_t)v;
		return true;
	}
	for (k = 0; k < sizeof(tags) / sizeof(tags[0]); k++)
		if (!strcmp(tags[k].name, w))
			return *tag = tags[k].tag, true;
	return failf(c, "unknown tag %s (add it to tags[])", w);
}

static bool field_value(struct cursor *c, struct vfield *f)
{
	uint64_t max;

	switch (f->kind) {
	case VK_STR: return quoted(c, f->bytes, MAX_BYTES, &f->len);
	case VK_BYTES: return hex_bytes(c, "", f->bytes, MAX_BYTES, &f->len);
	case VK_RECORD:
		f->rec = calloc(1, sizeof(*f->rec));
		if (!f->rec)
			return failf(c, "out of memory");
		return expect_char(c, '{') && parse_fields(c, f->rec, true) &&
		       expect_char(c, '}');
	case VK_I32:
	case VK_I64:
		if (!number(c, &f->num))
			return false;
		if (f->kind == VK_I32 && (int64_t)f->num != (int32_t)f->num)
			return failf(c, "out of i32 range");
		return true;
	default:
		max = kind_width[f->kind] == 8
			  ? UINT64_MAX
			  : (1ull << (8 * kind_width[f->kind])) - 1;
		return number_max(c, &f->num, max);
	}
}

/* TAG:KIND=VALUE or TAG:record{...}, the tag word already read. */
static bool parse_field(struct cursor *c, const char *tagw, struct vfield *f)
{
	char kw[WORD_MAX];
	unsigned k;

	if (!field_tag(c, tagw, &f->tag) || !expect_char(c, ':') ||
	    !word(c, kw))
		return false;
	for (k = 0; k < sizeof(kind_names) / sizeof(kind_names[0]); k++)
		if (!strcmp(kind_names[k], kw))
			break;
	if (k == sizeof(kind_names) / sizeof(kind_names[0]))
		return failf(c, "unknown kind %s", kw);
	f->kind = (enum vkind)k;
	/* ENTRY:record{ ... } has no '=' */
	if (f->kind != VK_RECORD && !expect_char(c, '='))
		return false;
	return field_value(c, f);
}

static bool parse_fields(struct cursor *c, struct vlist *l, bool in_record)
{
	char w[WORD_MAX];

	for (;;) {
		skip_ws(c);
		if (!*c->p || (in_record && *c->p == '}'))
			return true;
		if (l->n == MAX_FIELDS)
			return failf(c, "more than %d fields", MAX_FIELDS);
		if (!word(c, w) || !parse_field(c, w, &l->f[l->n++]))
			return false;
	}
}

static bool parse_type(struct cursor *c, int *type)
{
	char w[WORD_MAX];
	uint64_t v;
	int t;

	if (!strncmp(c->p, "0x", 2))
		return number_max(c, &v, 255) && (*type = (int)v, true);
	if (!word(c, w))
		return false;
	for (t = 0; t < 256; t++)
		if (wire_type_name(t) && !strcmp(wire_type_name(t), w))
			return *type = t, true;
	return failf(c, "unknown frame type %s", w);
}

static bool parse_hdr_error(struct cursor *c, struct vector *v)
{
	char w[WORD_MAX];

	if (!word(c, w))
		return false;
	v->outcome = V_HDR_ERROR;
	if (!strcmp(w, "EAGAIN"))
		v->hdr_err = -EAGAIN;
	else if (!strcmp(w, "EPROTO"))
		v->hdr_err = -EPROTO;
	else if (!strcmp(w, "EMSGSIZE"))
		v->hdr_err = -EMSGSIZE;
	else
		return failf(c, "unknown error %s", w);
	return true;
}

/* key=value of the header and of DATA/WINDOW payloads. */
static bool parse_key(struct cursor *c, const char *key, struct vector *v)
{
	uint64_t n;

	if (!strcmp(key, "type"))
		return parse_type(c, &v->type);
	if (!strcmp(key, "error"))
		return parse_hdr_error(c, v);
	if (!strcmp(key, "data")) {
		if (*c->p == '"')
			return quoted(c, v->data, MAX_BYTES, &v->data_len);
		return hex_bytes(c, "", v->data, MAX_BYTES, &v->data_len);
	}
	if (!strcmp(key, "flags") && !strncmp(c->p, "FIN", 3)) {
		c->p += 3;
		v->flags = WF_FIN;
		return true;
	}
	if (!strcmp(key, "offset"))
		return number(c, &v->offset);
	if (!strcmp(key, "stream") && number_max(c, &n, UINT32_MAX))
		return v->stream = (uint32_t)n, true;
	if (!strcmp(key, "flags") && number_max(c, &n, 255))
		return v->flags = (uint8_t)n, true;
	if (!strcmp(key, "channel") && number_max(c, &n, 255))
		return v->channel = (uint8_t)n, true;
	if (!strcmp(key, "increment") && number_max(c, &n, UINT32_MAX))
		return v->increment = (uint32_t)n, true;
	return failf(c, "unknown key %s", key);
}

static bool parse_expectation(struct cursor *c, struct vector *v)
{
	char w[WORD_MAX];

	v->type = -1;
	for (;;) {
		skip_ws(c);
		if (!*c->p)
			break;
		if (!word(c, w))
			return false;
		if (!strcmp(w, "incomplete")) {
			v->outcome = V_INCOMPLETE;
		} else if (!strcmp(w, "malformed")) {
			v->outcome = V_MALFORMED;
		} else if (*c->p == '=') {
			c->p++;
			if (!parse_key(c, w, v))
				return false;
		} else if (*c->p == ':') {
			if (v->fields.n == MAX_FIELDS)
				return failf(c, "too many fields");
			if (!parse_field(c, w, &v->fields.f[v->fields.n++]))
				return false;
		} else {
			return failf(c, "stray \"%s\"", w);
		}
	}
	if (v->outcome != V_HDR_ERROR && v->type < 0)
		return failf(c, "no type=");
	return true;
}

/* name | hex | expectation.  Returns false with c->err set on error. */
static bool parse_line(struct cursor *c, struct vector *v)
{
	skip_ws(c);
	if (!word(c, v->name) || !v->name[0])
		return failf(c, "expected a vector name");
	skip_ws(c);
	if (!expect_char(c, '|') ||
	    !hex_bytes(c, " \t[]", v->frame, sizeof(v->frame), &v->frame_len))
		return false;
	skip_ws(c);
	return expect_char(c, '|') && parse_expectation(c, v);
}

static void vlist_free(struct vlist *l)
{
	size_t k;

	for (k = 0; k < l->n; k++) {
		if (l->f[k].rec) {
			vlist_free(l->f[k].rec);
			free(l->f[k].rec);
		}
	}
}

/* ---- checking ---- */

static uint8_t *dup_exact(const void *p, size_t n)
{
	uint8_t *d = malloc(n ? n : 1);

	assert_non_null(d);
	memcpy(d, p, n);
	return d;
}

static void check_fields(const struct vector *v, const uint8_t *p, size_t n,
			 const struct vlist *want);

static void check_value(const struct vector *v, const struct wire_field *f,
			const struct vfield *w)
{
	uint64_t u;
	int64_t i;

	if (w->kind == VK_RECORD) {
		check_fields(v, f->val, f->len, w->rec);
		return;
	}
	if (w->kind == VK_STR || w->kind == VK_BYTES) {
		if (f->len != w->len || memcmp(f->val, w->bytes, w->len))
			fail_msg("%s: tag 0x%04x: value differs", v->name,
				 f->tag);
		return;
	}
	if (f->len != kind_width[w->kind])
		fail_msg("%s: tag 0x%04x: width %u, want %s", v->name, f->tag,
			 f->len, kind_names[w->kind]);
	if (w->kind == VK_I32 || w->kind == VK_I64) {
		assert_int_equal(wire_int(f, &i), 0);
		if (i != (int64_t)w->num)
			fail_msg("%s: tag 0x%04x: %lld, want %lld", v->name,
				 f->tag, (long long)i, (long long)w->num);
		return;
	}
	assert_int_equal(wire_uint(f, &u), 0);
	if (u != w->num)
		fail_msg("%s: tag 0x%04x: %llu, want %llu", v->name, f->tag,
			 (unsigned long long)u, (unsigned long long)w->num);
}

static void check_fields(const struct vector *v, const uint8_t *p, size_t n,
			 const struct vlist *want)
{
	struct wire_iter it;
	struct wire_field f;
	size_t k;

	wire_iter_init(&it, p, n);
	for (k = 0; k < want->n; k++) {
		if (wire_next(&it, &f) != 1)
			fail_msg("%s: field %zu missing or truncated", v->name,
				 k);
		if (f.tag != want->f[k].tag)
			fail_msg("%s: field %zu has tag 0x%04x, want 0x%04x",
				 v->name, k, f.tag, want->f[k].tag);
		check_value(v, &f, &want->f[k]);
	}
	if (wire_next(&it, &f) != 0)
		fail_msg("%s: more fields than expected", v->name);
}

static void check_payload(const struct vector *v, const uint8_t *p, size_t n)
{
	const uint8_t *data;
	uint64_t off;
	uint8_t ch;
	size_t len;
	int r;

	if (v->type == WT_DATA) {
		r = wire_data_decode(p, n, &ch, &off, &data, &len);
		assert_int_equal(r, v->outcome == V_MALFORMED ? -EPROTO : 0);
		if (r == 0) {
			assert_int_equal(ch, v->channel);
			assert_true(off == v->offset);
			assert_int_equal(len, v->data_len);
			assert_memory_equal(data, v->data, len);
		}
	} else if (v->type == WT_WINDOW) {
		assert_int_equal(n != 4, v->outcome == V_MALFORMED);
		if (n == 4)
			assert_int_equal(wire_get32(p), v->increment);
	} else if (v->outcome == V_MALFORMED) {
		assert_int_equal(wire_validate(p, n), -EPROTO);
	} else {
		assert_int_equal(wire_validate(p, n), 0);
		check_fields(v, p, n, &v->fields);
	}
}

static void encode_fields(struct wire_buf *b, const struct vlist *l)
{
	const struct vfield *f;
	size_t k, mark;

	for (k = 0; k < l->n; k++) {
		f = &l->f[k];
		switch (f->kind) {
		case VK_U8: wb_u8(b, f->tag, (uint8_t)f->num); break;
		case VK_U16: wb_u16(b, f->tag, (uint16_t)f->num); break;
		case VK_U32: wb_u32(b, f->tag, (uint32_t)f->num); break;
		case VK_U64: wb_u64(b, f->tag, f->num); break;
		case VK_I32: wb_i32(b, f->tag, (int32_t)f->num); break;
		case VK_I64: wb_i64(b, f->tag, (int64_t)f->num); break;
		case VK_STR:
		case VK_BYTES: wb_bytes(b, f->tag, f->bytes, f->len); break;
		case VK_RECORD:
			mark = wb_open(b, f->tag);
			encode_fields(b, f->rec);
			wb_close(b, mark);
			break;
		}
	}
}

/* Encode the expectation into a buffer of exactly the vector's size: it
 * must fill it without overflow and match every byte. */
static void check_reencode(const struct vector *v, uint8_t *out)
{
	struct wire_hdr h = {0, v->stream, (uint8_t)v->type, v->flags};
	size_t room = v->frame_len - WIRE_HDR_SIZE;
	struct wire_buf b;

	wb_init(&b, out + WIRE_HDR_SIZE, room);
	if (v->type == WT_DATA) {
		assert_int_equal(room, WIRE_DATA_PREFIX + v->data_len);
		wire_data_prefix(b.p, v->channel, v->offset);
		memcpy(b.p + WIRE_DATA_PREFIX, v->data, v->data_len);
		b.len = room;
	} else if (v->type == WT_WINDOW) {
		assert_int_equal(room, 4);
		wire_put32(b.p, v->increment);
		b.len = 4;
	} else {
		encode_fields(&b, &v->fields);
	}
	assert_false(b.overflow);
	assert_int_equal(b.len, room);
	h.len = (uint32_t)b.len;
	wire_hdr_encode(out, &h);
	if (memcmp(out, v->frame, v->frame_len))
		fail_msg("%s: re-encoding differs from the vector's bytes",
			 v->name);
}

/* Per-test heap copies of exactly the vector's size, so ASan sees any
 * access past the end; freed in teardown even when a check fails. */
struct vcase {
	const struct vector *v;
	uint8_t *frame, *out;
};

static int vcase_setup(void **state)
{
	struct vcase *vc = calloc(1, sizeof(*vc));

	if (!vc)
		return -1;
	vc->v = *state;
	vc->frame = dup_exact(vc->v->frame, vc->v->frame_len);
	vc->out = malloc(vc->v->frame_len);
	*state = vc;
	return vc->out ? 0 : -1;
}

static int vcase_teardown(void **state)
{
	struct vcase *vc = *state;

	free(vc->frame);
	free(vc->out);
	free(vc);
	return 0;
}

static void test_vector(void **state)
{
	const struct vcase *vc = *state;
	const struct vector *v = vc->v;
	struct wire_hdr h;
	int r;

	r = wire_hdr_decode(vc->frame, v->frame_len, WIRE_MAX_FRAME_DEFAULT,
			    &h);
	if (v->outcome == V_HDR_ERROR) {
		assert_int_equal(r, v->hdr_err);
		return;
	}
	assert_int_equal(r, 0);
	assert_int_equal(h.stream, v->stream);
	assert_int_equal(h.type, v->type);
	assert_int_equal(h.flags, v->flags);
	if (v->outcome == V_INCOMPLETE) {
		assert_true(v->frame_len < WIRE_HDR_SIZE + (size_t)h.len);
		return;
	}
	/* One frame exactly: no bytes missing, none left over. */
	assert_int_equal(v->frame_len, WIRE_HDR_SIZE + (size_t)h.len);
	check_payload(v, vc->frame + WIRE_HDR_SIZE, h.len);
	if (v->outcome == V_FRAME)
		check_reencode(v, vc->out);
}

/* ---- the file ---- */

static size_t load_vectors(const char *path, struct vector **out)
{
	char line[4096];
	struct cursor c;
	size_t n = 0;
	int lineno = 0;
	FILE *f = fopen(path, "r");

	if (!f) {
		fprintf(stderr, "test_wire_vectors: %s: %s\n", path,
			strerror(errno));
		exit(1);
	}
	while (fgets(line, sizeof(line), f)) {
		lineno++;
		c = (struct cursor){.p = line};
		skip_ws(&c);
		if (!*c.p || *c.p == '#')
			continue;
		if (n == MAX_VECTORS || !strchr(line, '\n')) {
			fprintf(stderr,
				"%s:%d: too many vectors or line too long\n",
				path, lineno);
			exit(1);
		}
		out[n] = calloc(1, sizeof(*out[n]));
		if (!out[n] || !parse_line(&c, out[n])) {
			fprintf(stderr, "%s:%d: %s\n", path, lineno, c.err);
			exit(1);
		}
		out[n++]->line = lineno;
	}
	fclose(f);
	return n;
}

int main(int argc, char **argv)
{
	static struct vector *vectors[MAX_VECTORS];
	static struct CMUnitTest tests[MAX_VECTORS];
	const char *path = getenv("WIRE_VECTORS");
	size_t n, k;
	int failed;

	if (argc > 1)
		path = argv[1];
	if (!path)
		path = "protocol/vectors/wire.txt";
	n = load_vectors(path, vectors);
	if (n == 0) {
		fprintf(stderr, "%s: no vectors\n", path);
		return 1;
	}
	for (k = 0; k < n; k++)
		tests[k] = (struct CMUnitTest){.name = vectors[k]->name,
					       .test_func = test_vector,
					       .setup_func = vcase_setup,
					       .teardown_func = vcase_teardown,
					       .initial_state = vectors[k]};
	failed = _cmocka_run_group_tests("wire_vectors", tests, n, NULL, NULL);
	for (k = 0; k < n; k++) {
		vlist_free(&vectors[k]->fields);
		free(vectors[k]);
	}
	return failed;
}
