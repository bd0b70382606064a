/* stream.c - the stream API modules answer through (runner.h), and the
 * connection's output buffer it writes into.
 *
 * Frames are built in place at the tail of the output buffer: DATA bytes
 * are read by the producer straight into it (stream_data_buf), so bulk
 * output costs one copy in and one out of the kernel.  See conn.c for the
 * bounds that keep the buffer from growing.
 */
#include "runner.h"
#include "conn_internal.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

/* ---- output buffer ---- */

size_t out_used(const struct conn *c)
{
	return c->out_tail - c->out_head;
}

/* Contiguous space for need bytes at the tail, or NULL.  Compacts only
 * when the tail would run past the end: a drained buffer resets to 0. */
static uint8_t *out_reserve(struct conn *c, size_t need)
{
	if (c->dead || out_used(c) + need > c->out_cap)
		return NULL;
	if (c->out_tail + need > c->out_cap) {
		memmove(c->out, c->out + c->out_head, out_used(c));
		c->out_tail -= c->out_head;
		c->out_head = 0;
	}
	return c->out + c->out_tail;
}

static void out_commit(struct conn *c, uint32_t stream, uint8_t type,
		       uint8_t flags, size_t payload)
{
	struct wire_hdr h = {(uint32_t)payload, stream, type, flags};

	wire_hdr_encode(c->out + c->out_tail, &h);
	c->out_tail += WIRE_HDR_SIZE + payload;
}

/* Queue a whole frame; -EAGAIN if it does not fit below limit. */
int out_frame(struct conn *c, uint32_t stream, uint8_t type, uint8_t flags,
	      const void *p, size_t n, size_t limit)
{
	uint8_t *dst;

	if (out_used(c) + WIRE_HDR_SIZE + n > limit)
		return -EAGAIN;
	dst = out_reserve(c, WIRE_HDR_SIZE + n);
	if (!dst)
		return -EAGAIN;
	if (n)
		memcpy(dst + WIRE_HDR_SIZE, p, n);
	out_commit(c, stream, type, flags, n);
	return 0;
}

/* Connection-level ERROR on stream 0 (or on a stream id the runner does
 * not track); failure to queue it means the peer stopped reading long ago. */
void conn_send_error(struct conn *c, uint32_t stream, int code, const char *msg)
{
	uint8_t buf[ERR_MSG_MAX + 64];
	struct wire_buf b;

	wb_init(&b, buf, sizeof(buf));
	wb_u16(&b, T_CODE, (uint16_t)code);
	wb_u32(&b, T_ERRNO, 0);
	wb_bytes(&b, T_MESSAGE, msg, strnlen(msg, ERR_MSG_MAX));
	if (out_frame(c, stream, WT_ERROR, 0, b.p, b.len, c->out_cap) < 0)
		c->broken = true;
}

/* ---- streams ---- */

struct runner *stream_runner(const struct stream *s)
{
	return s->conn->rt;
}

struct stream *stream_find(struct conn *c, uint32_t id)
{
	struct stream *s;

	for (s = c->streams; s; s = s->next)
		if (s->id == id)
			return s;
	return NULL;
}

struct stream *stream_new(struct conn *c, uint32_t id, uint8_t type)
{
	struct stream *s = c->free_streams;

	if (!s)
		return NULL;
	c->free_streams = s->next;
	*s = (struct stream){
	    .conn = c,
	    .id = id,
	    .type = type,
	    .send_credit = c->peer_window,
	    .recv_credit = c->rt->cfg.window,
	    .next = c->streams,
	};
	c->streams = s;
	c->nstreams++;
	c->rt->nstreams++;
	return s;
}

static void stream_free(struct stream *s)
{
	struct conn *c = s->conn;
	struct stream **pp;

	for (pp = &c->streams; *pp; pp = &(*pp)->next) {
		if (*pp == s) {
			*pp = s->next;
			break;
		}
	}
	s->ops = NULL;
	s->owner = NULL;
	s->next = c->free_streams;
	c->free_streams = s;
	c->nstreams--;
	c->rt->nstreams--;
}

/* End a stream from the conn side: the module is told first, so it never
 * holds a freed stream. */
void stream_abort(struct stream *s, int code, const char *msg)
{
	if (s->ops && s->ops->detach)
		s->ops->detach(s);
	if (code)
		conn_send_error(s->conn, s->id, code, msg);
	stream_free(s);
}

size_t stream_max_payload(const struct stream *s)
{
	return s->conn->peer_max_frame;
}

size_t stream_data_room(const struct stream *s)
{
	const struct conn *c = s->conn;
	size_t used = out_used(c), room;

	if (c->dead || s->send_credit <= 0 ||
	    used + WIRE_HDR_SIZE + WIRE_DATA_PREFIX >= OUT_SOFT)
		return 0;
	room = OUT_SOFT - used - WIRE_HDR_SIZE - WIRE_DATA_PREFIX;
	if (room > (uint64_t)s->send_credit)
		room = (size_t)s->send_credit;
	if (room > c->peer_max_frame - WIRE_DATA_PREFIX)
		room = c->peer_max_frame - WIRE_DATA_PREFIX;
	return room;
}

uint8_t *stream_data_buf(struct stream *s)
{
	size_t room = stream_data_room(s);
	uint8_t *p;

	if (!room)
		return NULL;
	p = out_reserve(s->conn, WIRE_HDR_SIZE + WIRE_DATA_PREFIX + room);
	return p ? p + WIRE_HDR_SIZE + WIRE_DATA_PREFIX : NULL;
}

void stream_data_commit(struct stream *s, uint8_t channel, uint64_t offset,
			size_t n, uint8_t flags)
{
	struct conn *c = s->conn;

	wire_data_prefix(c->out + c->out_tail + WIRE_HDR_SIZE, channel, offset);
	out_commit(c, s->id, WT_DATA, flags, WIRE_DATA_PREFIX + n);
	s->send_credit -= (int64_t)n;
}

void stream_data(struct stream *s, uint8_t channel, uint64_t offset,
		 const void *p, size_t n, uint8_t flags)
{
	uint8_t *dst = stream_data_buf(s);

	if (!dst) {
		/* Zero-length FIN still needs a frame: credit is not charged.
		 */
		if (n ||
		    !out_reserve(s->conn, WIRE_HDR_SIZE + WIRE_DATA_PREFIX))
			return;
		dst = s->conn->out + s->conn->out_tail + WIRE_HDR_SIZE +
		      WIRE_DATA_PREFIX;
	}
	if (n)
		memcpy(dst, p, n);
	stream_data_commit(s, channel, offset, n, flags);
}

static int stream_frame(struct stream *s, uint8_t type,
			const struct wire_buf *b)
{
	struct conn *c = s->conn;

	if (b->overflow)
		return -ENOBUFS;
	if (b->len > c->peer_max_frame)
		return -EMSGSIZE;
	/* Keep OUT_SLACK/2 free so every open stream can still be ended. */
	if (out_frame(c, s->id, type, 0, b->p, b->len,
		      c->out_cap - OUT_SLACK / 2) < 0) {
		stream_want_writable(s);
		s->frame_waits = true;
		return -EAGAIN;
	}
	return 0;
}

int stream_event(struct stream *s, const struct wire_buf *fields)
{
	return stream_frame(s, WT_EVENT, fields);
}

int stream_result(struct stream *s, const struct wire_buf *fields)
{
	struct conn *c = s->conn;
	int r = 0;

	/* A small RESULT is the stream's one final frame, as an ERROR is,
	 * and uses the room OUT_SLACK keeps for those: it never waits. */
	if (!fields->overflow && fields->len <= RESULT_SMALL) {
		if (out_frame(c, s->id, WT_RESULT, 0, fields->p, fields->len,
			      c->out_cap) < 0)
			c->broken = true;
	} else if ((r = stream_frame(s, WT_RESULT, fields)) < 0) {
		return r;
	}
	stream_free(s);
	return 0;
}

static void stream_error_send(struct stream *s, int code, int err,
			      const char *msg)
{
	uint8_t buf[ERR_MSG_MAX + 64];
	struct wire_buf b;

	wb_init(&b, buf, sizeof(buf));
	wb_u16(&b, T_CODE, (uint16_t)code);
	wb_u32(&b, T_ERRNO, (uint32_t)err);
	wb_bytes(&b, T_MESSAGE, msg, strnlen(msg, ERR_MSG_MAX));
	if (out_frame(s->conn, s->id, WT_ERROR, 0, b.p, b.len,
		      s->conn->out_cap) < 0)
		s->conn->broken = true;
	stream_free(s);
}

void stream_error(struct stream *s, int code, int err, const char *fmt, ...)
{
	char msg[ERR_MSG_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	stream_error_send(s, code, err, msg);
}

void stream_error_errno(struct stream *s, int err, const char *what)
{
	stream_error(s, wire_err_from_errno(err), err, "%s: %s", what,
		     strerror(err));
}

void stream_error_fields(struct stream *s, const struct wire_buf *fields)
{
	if (fields->overflow ||
	    out_frame(s->conn, s->id, WT_ERROR, 0, fields->p, fields->len,
		      s->conn->out_cap) < 0)
		s->conn->broken = true;
	stream_free(s);
}

void stream_want_writable(struct stream *s)
{
	s->want_writable = true;
	s->conn->want_writable = true;
}

void stream_grant(struct stream *s, uint32_t n)
{
	uint8_t p[4];

	if (!n)
		return;
	wire_put32(p, n);
	s->recv_credit += n;
	if (out_frame(s->conn, s->id, WT_WINDOW, 0, p, 4, s->conn->out_cap) < 0)
		s->conn->broken = true;
}

/* Room a stream waits for is there: buffer space below OUT_SOFT/2 and,
 * unless what waits is an EVENT or RESULT, DATA credit.  A stream without
 * credit waits for WINDOW instead. */
static bool stream_due(const struct stream *s)
{
	return s->want_writable && (s->send_credit > 0 || s->frame_waits);
}

bool conn_writable_due(const struct conn *c)
{
	const struct stream *s;

	if (!c->want_writable || out_used(c) >= OUT_SOFT / 2)
		return false;
	for (s = c->streams; s; s = s->next)
		if (stream_due(s))
			return true;
	return false;
}

/* Tell streams waiting for room that some appeared.  A callback may end
 * its own stream, so the next pointer is read first. */
void conn_notify_writable(struct conn *c)
{
	struct stream *s, *next;

	if (!c->want_writable || out_used(c) >= OUT_SOFT / 2)
		return;
	c->want_writable = false;
	for (s = c->streams; s; s = next) {
		next = s->next;
		if (!stream_due(s))
			continue;
		s->want_writable = s->frame_waits = false;
		if (s->ops && s->ops->writable)
			s->ops->writable(s);
	}
	/* A stream still without credit keeps waiting for WINDOW. */
	for (s = c->streams; s; s = s->next)
		if (s->want_writable)
			c->want_writable = true;
}
