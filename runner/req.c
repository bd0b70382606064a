/* req.c - reading a request's fields: the one way every handler does it.
 *
 * PROTOCOL §4: a single-valued field sent more than once counts once, the
 * first time.  Every reader here looks the tag up with wire_find, which
 * stops at the first match, so no handler can let a later copy win.  Lists
 * (ARGV, ENV, FROM_OFFSET) are walked with wire_next by their owner.
 *
 * Each reader answers ERROR E_BAD_REQUEST on the stream itself, so a
 * handler's parse is a chain of calls that stops at the first -1.  The
 * payload was validated (every field well-formed) before dispatch. */
#include "stream.h"

#include <string.h>

int req_uint_in(struct stream *s, const uint8_t *p, size_t n, uint16_t tag,
		uint64_t def, uint64_t min, uint64_t max, uint64_t *v)
{
	struct wire_field f;

	*v = def;
	if (wire_find(p, n, tag, &f) <= 0)
		return 0;
	if (wire_uint(&f, v) == 0 && *v >= min && *v <= max)
		return 1;
	stream_error(s, E_BAD_REQUEST, 0,
		     "field 0x%04x must be an integer in %llu..%llu", tag,
		     (unsigned long long)min, (unsigned long long)max);
	return -1;
}

int req_uint_any(struct stream *s, const uint8_t *p, size_t n, uint16_t tag,
		 uint64_t def, uint64_t *v)
{
	return req_uint_in(s, p, n, tag, def, 0, REQ_ANY, v);
}

int req_bytes(struct stream *s, const uint8_t *p, size_t n, uint16_t tag,
	      size_t max, struct wire_field *f)
{
	if (wire_find(p, n, tag, f) <= 0)
		return 0;
	if (f->len <= max)
		return 1;
	stream_error(s, E_BAD_REQUEST, 0, "field 0x%04x is over %zu bytes", tag,
		     max);
	return -1;
}

int req_str(struct stream *s, const uint8_t *p, size_t n, uint16_t tag,
	    size_t max, struct wire_field *f)
{
	if (wire_find(p, n, tag, f) <= 0)
		return 0;
	if (f->len && f->len <= max && !memchr(f->val, 0, f->len))
		return 1;
	stream_error(s, E_BAD_REQUEST, 0,
		     "field 0x%04x must be 1..%zu bytes without NUL", tag, max);
	return -1;
}

int req_winsize(struct stream *s, const uint8_t *p, size_t n, uint16_t *rows,
		uint16_t *cols)
{
	uint64_t r, c;
	int hr, hc;

	if ((hr = req_uint(s, p, n, T_ROWS, *rows, 1, 65535, &r)) < 0 ||
	    (hc = req_uint(s, p, n, T_COLS, *cols, 1, 65535, &c)) < 0)
		return -1;
	if (!r || !c) {
		stream_error(s, E_BAD_REQUEST, 0,
			     "ROWS and COLS (1..65535) are required");
		return -1;
	}
	*rows = (uint16_t)r;
	*cols = (uint16_t)c;
	return hr || hc;
}
