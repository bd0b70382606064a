/* proc_ring.h - a bounded byte ring addressed by absolute stream offsets.
 *
 * Pure (no I/O): the output of a background process channel is written
 * into it in place (read(2) straight into ring_space) and read back by any
 * number of attachers, each at its own offset.  The ring keeps the last
 * cap bytes; older ones are overwritten and an attacher that asks for them
 * learns how many are gone.
 *
 * Invariant: bytes [ring_start(r), r->end) are held; r->end is the total
 * ever written, so offsets are stable for the life of the process.
 */
#ifndef RUNNER_PROC_RING_H
#define RUNNER_PROC_RING_H

#include <stddef.h>
#include <stdint.h>

struct ring {
	uint8_t *buf; /* NULL until the first byte arrives */
	size_t cap;
	uint64_t end; /* offset one past the newest byte */
};

void ring_init(struct ring *r, size_t cap);
void ring_free(struct ring *r);
/* Oldest offset still held. */
uint64_t ring_start(const struct ring *r);
/* Contiguous free space to write into at the end (overwrites the oldest
 * bytes); *len > 0 unless the buffer cannot be allocated (NULL). */
uint8_t *ring_space(struct ring *r, size_t *len);
void ring_commit(struct ring *r, size_t n);
/* Copying write, for tests and small inputs. */
void ring_write(struct ring *r, const void *p, size_t n);
/* Contiguous bytes from off onwards: returns a pointer and sets *len, or
 * NULL with *len 0 when off == end.  off below ring_start() is clamped
 * there and *dropped says by how much; off above end is clamped to end. */
const uint8_t *ring_peek(const struct ring *r, uint64_t *off, size_t *len,
			 uint64_t *dropped);

#endif
