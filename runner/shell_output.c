/* shell_output.c - marker scanner, plain filter, head/tail collector. */
#include "shell_output.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- marker scanner ---- */

void marker_init(struct marker_scan *m, const char *token)
{
	memset(m, 0, sizeof(*m));
	m->plen = (size_t)snprintf(m->prefix, sizeof(m->prefix),
				   "\033]633;D;%.*s;", MARKER_TOKEN_LEN, token);
}

/* Advance the partial match by byte c.  Returns 1 if c extends it, 2 if
 * it completes the marker, 0 if the held bytes are not a marker. */
static int marker_step(struct marker_scan *m, uint8_t c)
{
	size_t digits;

	if (m->nheld < m->plen)
		return c == (uint8_t)m->prefix[m->nheld] ? 1 : 0;
	digits = m->nheld - m->plen;
	if (c >= '0' && c <= '9' && digits < MARKER_STATUS_MAX) {
		m->status = m->status * 10 + (c - '0');
		return 1;
	}
	return c == 0x07 && digits > 0 ? 2 : 0;
}

size_t marker_feed(struct marker_scan *m, const uint8_t *p, size_t n,
		   out_sink sink, void *arg)
{
	size_t i = 0, start = 0;
	const uint8_t *esc;
	int r;

	if (m->found)
		return 0;
	while (i < n) {
		if (!m->nheld) {
			/* Fast path: nothing held, skip to the next ESC. */
			esc = memchr(p + i, 0x1b, n - i);
			if (!esc)
				break;
			i = (size_t)(esc - p);
			if (i > start)
				sink(arg, p + start, i - start);
			start = i;
		}
		r = marker_step(m, p[i]);
		if (r == 2) {
			m->found = true;
			m->nheld = 0;
			return i + 1;
		}
		if (r == 1) {
			m->held[m->nheld++] = p[i++];
			start = i;
			continue;
		}
		/* Not a marker.  The prefix has a single ESC, at its start, so
		 * the failing byte itself may begin the next candidate. */
		sink(arg, m->held, m->nheld);
		m->nheld = 0;
		m->status = 0;
		start = i;
		if (p[i] != 0x1b)
			i++;
	}
	if (n > start && !m->nheld)
		sink(arg, p + start, n - start);
	return n;
}

void marker_flush(struct marker_scan *m, out_sink sink, void *arg)
{
	if (m->nheld)
		sink(arg, m->held, m->nheld);
	m->nheld = 0;
	m->status = 0;
}

/* ---- plain filter ---- */

enum { PS_TEXT, PS_ESC, PS_CSI, PS_STRING, PS_STRING_ESC, PS_ESC_INTER };

void plain_init(struct plain_filter *f)
{
	f->len = f->cursor = 0;
	f->state = PS_TEXT;
	f->alt = false;
}

static void plain_put(struct plain_filter *f, uint8_t c, out_sink sink,
		      void *arg)
{
	if (f->cursor == PLAIN_LINE_MAX) {
		/* An endless line: give up on rewrites and pass it on. */
		sink(arg, f->line, f->len);
		f->len = f->cursor = 0;
	}
	f->line[f->cursor++] = c;
	if (f->cursor > f->len)
		f->len = f->cursor;
}

static void plain_text(struct plain_filter *f, uint8_t c, out_sink sink,
		       void *arg)
{
	switch (c) {
	case 0x1b: f->state = PS_ESC; return;
	case '\n':
		if (f->alt)
			return;
		/* The line keeps what lies right of the cursor: "abc\r\n" is
		 * still "abc".  line has one byte beyond PLAIN_LINE_MAX for it.
		 */
		f->line[f->len] = '\n';
		sink(arg, f->line, f->len + 1);
		f->len = f->cursor = 0;
		return;
	case '\r': f->cursor = 0; return;
	case '\b':
		if (f->cursor)
			f->cursor--;
		return;
	case '\t': plain_put(f, c, sink, arg); return;
	}
	if (c < 0x20 || c == 0x7f || f->alt)
		return; /* BEL, SI/SO and friends: nothing to read */
	plain_put(f, c, sink, arg);
}

/* A CSI's bytes after ESC [: only two finals matter as plain text. */
static void plain_csi(struct plain_filter *f, uint8_t c)
{
	if (c == '?')
		f->priv = true;
	else if (c >= '0' && c <= '9')
		f->param = (uint16_t)(f->param * 10 + (c - '0'));
	else if (c == ';')
		f->param = 0;
	if (c < 0x40 || c > 0x7e)
		return;
	f->state = PS_TEXT;
	/* K, 0K, 2K: the line ends at the cursor (the usual \r\e[K redraw) */
	if (c == 'K' && !f->priv && f->param != 1)
		f->len = f->cursor;
	/* 1049, 1047, 47: the alternate screen; 'h' enters, 'l' leaves */
	if ((c == 'h' || c == 'l') && f->priv &&
	    (f->param == 1049 || f->param == 1047 || f->param == 47))
		f->alt = c == 'h';
}

void plain_feed(struct plain_filter *f, const uint8_t *p, size_t n,
		out_sink sink, void *arg)
{
	size_t i;
	uint8_t c;

	for (i = 0; i < n; i++) {
		c = p[i];
		switch (f->state) {
		case PS_TEXT: plain_text(f, c, sink, arg); break;
		case PS_ESC:
			if (c == '[') {
				f->state = PS_CSI;
				f->priv = false;
				f->param = 0;
			} else if (c == ']' || c == 'P' || c == 'X' ||
				   c == '^' || c == '_')
				f->state =
				    PS_STRING; /* OSC, DCS, SOS, PM, APC */
			else if (c >= 0x20 && c <= 0x2f)
				f->state = PS_ESC_INTER; /* ESC ( B and kin */
			else
				f->state = PS_TEXT;
			break;
		case PS_CSI: plain_csi(f, c); break;
		case PS_STRING:
			if (c == 0x07)
				f->state = PS_TEXT;
			else if (c == 0x1b)
				f->state = PS_STRING_ESC;
			break;
		case PS_STRING_ESC:
			f->state = c == '\\' ? PS_TEXT : PS_STRING;
			break;
		case PS_ESC_INTER:
			if (c >= 0x30 && c <= 0x7e)
				f->state = PS_TEXT;
			break;
		}
	}
}

void plain_flush(struct plain_filter *f, out_sink sink, void *arg)
{
	if (f->len)
		sink(arg, f->line, f->len);
	f->len = f->cursor = 0;
	f->state = PS_TEXT;
}

/* ---- error names ---- */

#define FROM_LEN (sizeof(ERRNAME_FROM) - 1)

/* How many bytes of ERRNAME_FROM, from its k-th, p begins with. */
static size_t from_match(size_t k, const uint8_t *p, size_t n)
{
	size_t i = 0;

	while (k + i < FROM_LEN && i < n &&
	       p[i] == (uint8_t)ERRNAME_FROM[k + i])
		i++;
	return i;
}

void errname_feed(struct errname *e, const uint8_t *p, size_t n, out_sink sink,
		  void *arg)
{
	const uint8_t *slash;
	size_t i = 0, start = 0, h = e->held, k;

	if (h) {
		k = from_match(h, p, n);
		if (h + k < FROM_LEN && k == n) {
			e->held += k;
			return;
		}
		e->held = 0;
		if (h + k < FROM_LEN) {
			/* Not it.  Its first byte is text; a match may start at
			 * a later '/' of the held bytes
			 * ("/proc/proc/self/..."). */
			sink(arg, (const uint8_t *)ERRNAME_FROM, 1);
			errname_feed(e, (const uint8_t *)ERRNAME_FROM + 1,
				     h - 1, sink, arg);
			errname_feed(e, p, n, sink, arg);
			return;
		}
		sink(arg, (const uint8_t *)ERRNAME_TO, sizeof(ERRNAME_TO) - 1);
		i = start = k;
	}
	while (i < n && (slash = memchr(p + i, '/', n - i))) {
		i = (size_t)(slash - p);
		k = from_match(0, p + i, n - i);
		if (k < FROM_LEN && i + k < n) {
			i++; /* a later '/' may still begin one */
			continue;
		}
		sink(arg, p + start, i - start);
		if (k < FROM_LEN) {
			e->held =
			    k; /* the chunk ends inside a possible match */
			return;
		}
		sink(arg, (const uint8_t *)ERRNAME_TO, sizeof(ERRNAME_TO) - 1);
		i = start = i + k;
	}
	sink(arg, p + start, n - start);
}

void errname_flush(struct errname *e, out_sink sink, void *arg)
{
	if (e->held)
		sink(arg, (const uint8_t *)ERRNAME_FROM, e->held);
	e->held = 0;
}

/* ---- collector ---- */

#define COLLECT_MIN_ALLOC 4096
#define OMIT_FMT	  "\n\xe2\x80\xa6 %llu bytes omitted \xe2\x80\xa6\n"
#define OMIT_MAX	  64

void collector_init(struct collector *c, size_t limit)
{
	memset(c, 0, sizeof(*c));
	c->hmax = limit / 2;
	c->tmax = limit - c->hmax;
}

static void collector_head(struct collector *c, const uint8_t *p, size_t n)
{
	size_t want = c->hlen + n, cap = c->hcap;
	uint8_t *np;

	if (want > cap) {
		if (!cap)
			cap = COLLECT_MIN_ALLOC;
		while (cap < want)
			cap *= 2;
		if (cap > c->hmax)
			cap = c->hmax;
		np = realloc(c->head, cap);
		if (!np) {
			c->alloc_failed = true;
			return;
		}
		c->head = np;
		c->hcap = cap;
	}
	memcpy(c->head + c->hlen, p, n);
	c->hlen += n;
}

void collector_add(struct collector *c, const uint8_t *p, size_t n)
{
	size_t k;

	c->total += n;
	k = c->hmax - c->hlen;
	if (k > n)
		k = n;
	if (k)
		collector_head(c, p, k);
	p += k;
	n -= k;
	if (!n || !c->tmax)
		return;
	if (!c->tail && !(c->tail = malloc(c->tmax))) {
		c->alloc_failed = true;
		return;
	}
	if (n > c->tmax) {
		p += n - c->tmax;
		n = c->tmax;
	}
	k = c->tmax - c->tpos;
	if (k > n)
		k = n;
	memcpy(c->tail + c->tpos, p, k);
	memcpy(c->tail, p + k, n - k);
	c->tpos = (c->tpos + n) % c->tmax;
}

bool collector_truncated(const struct collector *c)
{
	return c->total > (uint64_t)c->hmax + c->tmax || c->alloc_failed;
}

static size_t tail_len(const struct collector *c)
{
	uint64_t t = c->total - c->hlen;

	return t > c->tmax ? c->tmax : (size_t)t;
}

size_t collector_size(const struct collector *c)
{
	return c->hlen + tail_len(c) + (collector_truncated(c) ? OMIT_MAX : 0);
}

/* Copy the last n bytes of the ring to out, oldest first. */
static void tail_copy(const struct collector *c, uint8_t *out, size_t n)
{
	size_t start = (c->tpos + c->tmax - n) % c->tmax, k;

	k = c->tmax - start;
	if (k > n)
		k = n;
	memcpy(out, c->tail + start, k);
	memcpy(out + k, c->tail, n - k);
}

static bool utf8_cont(uint8_t b)
{
	return (b & 0xc0) == 0x80;
}

/* Length of the sequence a lead byte starts (1 for ASCII and strays). */
static size_t utf8_len(uint8_t b)
{
	return b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : b >= 0xc0 ? 2 : 1;
}

size_t collector_emit(const struct collector *c, uint8_t *out, bool utf8)
{
	size_t h = c->hlen, t = tail_len(c), skip = 0, omit, i;
	char mark[OMIT_MAX];

	if (!collector_truncated(c)) {
		if (h)
			memcpy(out, c->head, h);
		if (t)
			tail_copy(c, out + h, t);
		return h + t;
	}
	if (!c->tail)
		t = 0;
	if (utf8) {
		/* Drop a character split by the cut at either end. */
		for (i = 0; i < 3 && h > i && utf8_cont(c->head[h - 1 - i]);
		     i++)
			;
		if (h > i && utf8_len(c->head[h - 1 - i]) > i + 1)
			h -= i + 1;
		if (t) {
			tail_copy(c, out, t);
			while (skip < 3 && skip < t && utf8_cont(out[skip]))
				skip++;
		}
	}
	omit =
	    (size_t)snprintf(mark, sizeof(mark), OMIT_FMT,
			     (unsigned long long)(c->total - h - (t - skip)));
	if (t)
		tail_copy(c, out + h + omit, t);
	memmove(out + h + omit, out + h + omit + skip, t - skip);
	if (h)
		memcpy(out, c->head, h);
	memcpy(out + h, mark, omit);
	return h + omit + t - skip;
}

void collector_free(struct collector *c)
{
	free(c->head);
	free(c->tail);
	c->head = c->tail = NULL;
}
