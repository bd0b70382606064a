/* proc_ring.c - bounded output ring with absolute offsets (proc_ring.h). */
#include "proc_ring.h"

#include <stdlib.h>
#include <string.h>

void ring_init(struct ring *r, size_t cap)
{
	r->buf = NULL;
	r->cap = cap ? cap : 1;
	r->end = 0;
}

void ring_free(struct ring *r)
{
	free(r->buf);
	r->buf = NULL;
}

uint64_t ring_start(const struct ring *r)
{
	return r->end > r->cap ? r->end - r->cap : 0;
}

/* Allocated on the first write: most background processes print little
 * or nothing, and cap may be large. */
uint8_t *ring_space(struct ring *r, size_t *len)
{
	size_t pos;

	if (!r->buf && !(r->buf = malloc(r->cap))) {
		*len = 0;
		return NULL;
	}
	pos = (size_t)(r->end % r->cap);
	*len = r->cap - pos;
	return r->buf + pos;
}

void ring_commit(struct ring *r, size_t n)
{
	r->end += n;
}

void ring_write(struct ring *r, const void *p, size_t n)
{
	const uint8_t *src = p;
	uint8_t *dst;
	size_t room;

	/* Only the last cap bytes can survive. */
	if (n > r->cap) {
		r->end += n - r->cap;
		src += n - r->cap;
		n = r->cap;
	}
	while (n) {
		dst = ring_space(r, &room);
		if (!dst)
			return;
		if (room > n)
			room = n;
		memcpy(dst, src, room);
		ring_commit(r, room);
		src += room;
		n -= room;
	}
}

const uint8_t *ring_peek(const struct ring *r, uint64_t *off, size_t *len,
			 uint64_t *dropped)
{
	uint64_t start = ring_start(r);
	size_t pos, n;

	*dropped = 0;
	if (*off < start) {
		*dropped = start - *off;
		*off = start;
	}
	if (*off > r->end)
		*off = r->end;
	if (*off == r->end || !r->buf) {
		*len = 0;
		return NULL;
	}
	pos = (size_t)(*off % r->cap);
	n = r->cap - pos;
	if (n > r->end - *off)
		n = (size_t)(r->end - *off);
	*len = n;
	return r->buf + pos;
}
