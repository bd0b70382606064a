/* conn.c - one client connection: framing, HELLO, dispatch of requests to
 * streams, flow control.
 *
 * Memory per connection is fixed at accept time: an input buffer that holds
 * one maximal frame, an output buffer, and a pool of max_streams streams.
 * Two invariants keep it bounded whatever the client does:
 *  - requests are parsed only while the output buffer is below OUT_SOFT, so
 *    a client that never reads stops being read at its next request (its
 *    kernel socket buffer fills, then its writes block) instead of making
 *    us queue replies; WINDOW and CANCEL before it are still taken;
 *  - DATA is sent only against the stream's credit and below OUT_SOFT.
 * Above OUT_SOFT there is always room for one maximal RESULT plus the
 * small frames (ERROR or a small RESULT, WINDOW) of every open stream.
 */
#include "runner.h"
#include "conn_internal.h"
#include "dispatch.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

static void conn_close(struct conn *c, const char *why);
static void conn_update_interest(struct conn *c);

/* ---- frames from the client ---- */

static int hello_check_token(struct conn *c, const struct wire_field *tok)
{
	const struct config *cfg = &c->rt->cfg;

	if (!cfg->token_len)
		return 0;
	return token_matches(cfg, tok->val, tok->val ? tok->len : 0) ? 0
								     : -EACCES;
}

static void conn_send_hello(struct conn *c)
{
	const struct config *cfg = &c->rt->cfg;
	uint8_t buf[512];
	struct wire_buf b;

	wb_init(&b, buf, sizeof(buf));
	wb_u16(&b, T_VERSION, WIRE_VERSION);
	wb_str(&b, T_SOFTWARE, "runner " RUNNER_VERSION);
	wb_str(&b, T_FEATURE, "shell");
	wb_str(&b, T_FEATURE, "proc");
	wb_str(&b, T_FEATURE, "fs");
	wb_u32(&b, T_MAX_FRAME, cfg->max_frame);
	wb_u32(&b, T_WINDOW, cfg->window);
	wb_u32(&b, T_MAX_STREAMS, cfg->max_streams);
	out_frame(c, 0, WT_HELLO, 0, b.p, b.len, c->out_cap);
}

/* A HELLO integer: the first field with tag counts (PROTOCOL §4).  1 and
 * *v when present and in [min, max], 0 when absent, -1 otherwise. */
static int hello_uint(const uint8_t *p, size_t n, uint16_t tag, uint64_t min,
		      uint64_t max, uint64_t *v)
{
	struct wire_field f;

	if (wire_find(p, n, tag, &f) <= 0)
		return 0;
	return wire_uint(&f, v) == 0 && *v >= min && *v <= max ? 1 : -1;
}

/* 0: accepted; otherwise the error code, message in why. */
static int hello_parse(struct conn *c, const uint8_t *p, size_t n,
		       const char **why)
{
	struct wire_field tok;
	uint64_t v, version = 0;
	int r;

	if (wire_validate(p, n) < 0)
		return *why = "HELLO fields are malformed", E_BAD_FRAME;
	if (hello_uint(p, n, T_VERSION, 0, UINT64_MAX, &version) < 0)
		return *why = "bad VERSION field", E_BAD_REQUEST;
	if ((r = hello_uint(p, n, T_MAX_FRAME, WIRE_MAX_FRAME_MIN, UINT64_MAX,
			    &v)) < 0)
		return *why = "MAX_FRAME below 65536", E_BAD_REQUEST;
	if (r)
		c->peer_max_frame = v > c->rt->cfg.max_frame
					? c->rt->cfg.max_frame
					: (uint32_t)v;
	if ((r = hello_uint(p, n, T_WINDOW, 1024, WIRE_WINDOW_MAX, &v)) < 0)
		return *why = "WINDOW outside 1024..2^31-1", E_BAD_REQUEST;
	if (r)
		c->peer_window = (uint32_t)v;
	if (version < WIRE_VERSION)
		return *why = "no common protocol version (runner speaks 1)",
		       E_VERSION;
	wire_find(p, n, T_TOKEN, &tok);
	if (hello_check_token(c, &tok) < 0)
		return *why = "token missing or wrong", E_AUTH;
	return 0;
}

static void conn_on_hello(struct conn *c, const struct wire_hdr *h,
			  const uint8_t *p)
{
	const char *why = NULL;
	int code;

	if (h->type != WT_HELLO || h->stream != 0) {
		conn_send_error(c, 0, E_HELLO_REQUIRED,
				"the first frame must be HELLO on stream 0");
		c->closing = true;
		return;
	}
	code = hello_parse(c, p, h->len, &why);
	if (code) {
		conn_send_error(c, 0, code, why);
		c->closing = true;
		return;
	}
	timer_cancel(&c->rt->loop, &c->idle_timer);
	c->hello_done = true;
	conn_send_hello(c);
}

static void conn_on_data(struct conn *c, const struct wire_hdr *h,
			 const uint8_t *p)
{
	struct stream *s = stream_find(c, h->stream);
	const uint8_t *data;
	uint64_t off;
	uint8_t ch;
	size_t n;

	if (wire_data_decode(p, h->len, &ch, &off, &data, &n) < 0) {
		conn_send_error(c, 0, E_BAD_FRAME,
				"DATA shorter than its prefix");
		c->closing = true;
		return;
	}
	if (!s)
		return; /* the stream just ended: late bytes are dropped */
	if (!s->ops || !s->ops->data) {
		stream_abort(s, E_BAD_REQUEST, "this request takes no DATA");
		return;
	}
	if (n > s->recv_credit) {
		stream_abort(s, E_FLOW, "DATA beyond the granted window");
		return;
	}
	s->recv_credit -= n;
	s->ops->data(s, ch, data, n, h->flags & WF_FIN);
}

static void conn_on_window(struct conn *c, const struct wire_hdr *h,
			   const uint8_t *p)
{
	struct stream *s;

	if (h->len != 4) {
		conn_send_error(c, 0, E_BAD_FRAME,
				"WINDOW payload must be 4 bytes");
		c->closing = true;
		return;
	}
	s = stream_find(c, h->stream);
	if (!s)
		return;
	s->send_credit += wire_get32(p);
	if (s->send_credit > (int64_t)WIRE_WINDOW_MAX) {
		stream_abort(s, E_FLOW, "window grew past 2^31-1");
		return;
	}
	if (s->want_writable)
		c->want_writable = true;
}

static void conn_on_cancel(struct conn *c, const struct wire_hdr *h)
{
	struct stream *s = stream_find(c, h->stream);

	if (!s || s->cancelled)
		return; /* already ended: CANCEL races the terminal frame */
	s->cancelled = true;
	if (s->ops && s->ops->cancel)
		s->ops->cancel(s);
	else
		stream_abort(s, E_CANCELLED, "cancelled");
}

/* On stream 0, which is not the stream at fault: STREAM names it. */
static void conn_stream_in_use(struct conn *c, uint32_t id)
{
	uint8_t buf[64];
	struct wire_buf b;

	wb_init(&b, buf, sizeof(buf));
	wb_u16(&b, T_CODE, E_STREAM_IN_USE);
	wb_u32(&b, T_ERRNO, 0);
	wb_str(&b, T_MESSAGE, "stream already open");
	wb_u32(&b, T_STREAM, id);
	if (out_frame(c, 0, WT_ERROR, 0, b.p, b.len, c->out_cap) < 0)
		c->broken = true;
}

static void conn_on_request(struct conn *c, const struct wire_hdr *h,
			    const uint8_t *p)
{
	request_fn fn = dispatch_handler(h->type);
	char msg[96];
	struct stream *s;

	if (h->stream == 0) {
		conn_send_error(c, 0, E_BAD_REQUEST,
				"requests need a non-zero stream id");
		return;
	}
	if (stream_find(c, h->stream)) {
		conn_stream_in_use(c, h->stream);
		return;
	}
	if (!fn) {
		snprintf(msg, sizeof(msg), "unknown request type 0x%02x",
			 h->type);
		conn_send_error(c, h->stream, E_UNKNOWN_TYPE, msg);
		return;
	}
	if (wire_validate(p, h->len) < 0) {
		conn_send_error(c, h->stream, E_BAD_REQUEST,
				"request fields are malformed (truncated TLV)");
		return;
	}
	if (c->rt->shutting_down && h->type != WT_PING && h->type != WT_INFO) {
		conn_send_error(c, h->stream, E_SHUTTING_DOWN,
				"the runner is shutting down");
		return;
	}
	s = stream_new(c, h->stream, h->type);
	if (!s) {
		snprintf(msg, sizeof(msg), "too many open streams (limit %u)",
			 c->rt->cfg.max_streams);
		conn_send_error(c, h->stream, E_LIMIT, msg);
		return;
	}
	fn(s, p, h->len);
}

static void conn_on_frame(struct conn *c, const struct wire_hdr *h,
			  const uint8_t *p)
{
	if (!c->hello_done) {
		conn_on_hello(c, h, p);
		return;
	}
	switch (h->type) {
	case WT_HELLO:
		conn_send_error(c, 0, E_BAD_REQUEST,
				"HELLO was already exchanged");
		break;
	case WT_DATA: conn_on_data(c, h, p); break;
	case WT_WINDOW: conn_on_window(c, h, p); break;
	case WT_CANCEL: conn_on_cancel(c, h); break;
	default: conn_on_request(c, h, p); break;
	}
}

/* WINDOW and CANCEL are taken even with the output buffer full: they
 * answer with at most one small frame per stream, within OUT_SLACK, and a
 * client blocked writing credit back while we wait for it to read would
 * otherwise deadlock with us. */
static bool frame_is_control(const struct wire_hdr *h)
{
	return h->type == WT_WINDOW || h->type == WT_CANCEL;
}

/* Parse every complete frame in the input buffer while there is room to
 * answer.  Returns false when the connection must close. */
static bool conn_parse(struct conn *c)
{
	size_t pos = 0;
	struct wire_hdr h;
	int r;

	c->held = false;
	while (!c->closing) {
		r = wire_hdr_decode(c->in + pos, c->in_len - pos,
				    c->rt->cfg.max_frame, &h);
		if (r == -EAGAIN)
			break;
		if (r == -EMSGSIZE) {
			conn_send_error(
			    c, 0, E_TOO_LARGE,
			    "frame longer than the negotiated maximum");
			return false;
		}
		if (r < 0) {
			conn_send_error(c, 0, E_BAD_FRAME,
					"frame length below 6");
			return false;
		}
		if (c->in_len - pos < WIRE_HDR_SIZE + h.len)
			break;
		if (out_used(c) >= OUT_SOFT && c->hello_done &&
		    !frame_is_control(&h)) {
			c->held = true;
			break;
		}
		conn_on_frame(c, &h, c->in + pos + WIRE_HDR_SIZE);
		pos += WIRE_HDR_SIZE + h.len;
	}
	if (pos) {
		memmove(c->in, c->in + pos, c->in_len - pos);
		c->in_len -= pos;
	}
	return !c->closing;
}

/* ---- I/O ---- */

static void conn_idle_timeout(struct timer *t)
{
	struct conn *c = container_of(t, struct conn, idle_timer);

	conn_send_error(c, 0, E_TIMEOUT,
			c->hello_done ? "frame stalled: no progress in time"
				      : "no HELLO in time");
	c->closing = true;
	conn_flush(c);
	conn_close(c, "idle timeout");
}

static void conn_read(struct conn *c)
{
	ssize_t n;

	n = read(c->rfd, c->in + c->in_len, c->in_cap - c->in_len);
	if (n < 0) {
		if (errno != EAGAIN && errno != EINTR)
			c->broken = true;
		return;
	}
	if (n == 0) {
		c->peer_eof = true;
		return;
	}
	c->in_len += (size_t)n;
	if (!conn_parse(c))
		c->closing = true;
	/* Slowloris guard: a partial frame must keep making progress. */
	if (c->in_len && c->hello_done)
		timer_arm(&c->rt->loop, &c->idle_timer,
			  c->rt->cfg.io_timeout_ms, conn_idle_timeout);
	else if (c->hello_done)
		timer_cancel(&c->rt->loop, &c->idle_timer);
}

void conn_flush(struct conn *c)
{
	ssize_t n;

	while (!c->dead && out_used(c)) {
		n = write(c->wfd, c->out + c->out_head, out_used(c));
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN)
				c->broken = true;
			break;
		}
		c->out_head += (size_t)n;
	}
	if (!out_used(c))
		c->out_head = c->out_tail = 0;
}

/* Resume parsing frames held back while the output buffer was full. */
static void conn_resume(struct conn *c)
{
	if (c->in_len && c->hello_done && !c->closing &&
	    (out_used(c) < OUT_SOFT || !c->held) && !conn_parse(c))
		c->closing = true;
}

static void conn_after_io(struct conn *c)
{
	conn_flush(c);
	conn_notify_writable(c);
	conn_resume(c);
	conn_flush(c);
	if (c->broken) {
		conn_close(c, "write failed or peer vanished");
		return;
	}
	if (c->closing && !out_used(c)) {
		conn_close(c, "protocol error");
		return;
	}
	if (c->peer_eof && !c->nstreams && !out_used(c)) {
		conn_close(c, "peer closed");
		return;
	}
	if (c->closing) {
		/* Give the final ERROR a bounded chance to leave. */
		timer_arm(&c->rt->loop, &c->idle_timer, 1000,
			  conn_idle_timeout);
	}
	conn_update_interest(c);
}

static void conn_update_interest(struct conn *c)
{
	uint32_t rev = 0, wev = 0;

	if (!c->peer_eof && !c->closing &&
	    (out_used(c) < OUT_SOFT || !c->held) && c->in_len < c->in_cap)
		rev |= EPOLLIN;
	/* Streams served in conn_after_io can leave it with an empty buffer
	 * (the second flush sent everything) yet still wanting room: an
	 * EPOLLOUT on a writable fd fires at once and serves them next. */
	if (out_used(c) || conn_writable_due(c))
		wev |= EPOLLOUT;
	if (c->rfd == c->wfd) {
		loop_modify(&c->rt->loop, &c->rw,
			    rev | wev | (c->peer_eof ? 0 : EPOLLRDHUP));
		return;
	}
	/* A pipe whose writer is gone reports EPOLLHUP whatever we ask for:
	 * after EOF the read side leaves the loop for good. */
	if (c->peer_eof && !c->rw_gone) {
		loop_unwatch(&c->rt->loop, &c->rw);
		c->rw_gone = true;
	}
	if (!c->rw_gone)
		loop_modify(&c->rt->loop, &c->rw, rev);
	loop_modify(&c->rt->loop, &c->ww, wev);
}

static void conn_event(struct conn *c, uint32_t ev, bool readable_side)
{
	if (c->dead)
		return;
	if (readable_side && (ev & (EPOLLIN | EPOLLRDHUP)))
		conn_read(c);
	/* Full hangup of a socket: nothing we send will be read. */
	if (c->rfd == c->wfd && (ev & EPOLLHUP))
		c->broken = true;
	if (!readable_side && (ev & (EPOLLERR | EPOLLHUP)))
		c->broken = true;
	if (readable_side && c->rfd != c->wfd && (ev & EPOLLHUP) &&
	    !(ev & EPOLLIN))
		c->peer_eof = true;
	conn_after_io(c);
}

static void conn_rw_event(struct watch *w, uint32_t ev)
{
	conn_event(container_of(w, struct conn, rw), ev, true);
}

static void conn_ww_event(struct watch *w, uint32_t ev)
{
	conn_event(container_of(w, struct conn, ww), ev, false);
}

/* ---- lifecycle ---- */

static void conn_free(struct deferred *d)
{
	struct conn *c = container_of(d, struct conn, free_d);

	free(c->in);
	free(c->out);
	free(c->pool);
	free(c);
}

static void conn_close(struct conn *c, const char *why)
{
	struct runner *rt = c->rt;

	if (c->dead)
		return;
	log_debug("connection %s closed: %s", c->peer, why);
	while (c->streams)
		stream_abort(c->streams, 0, NULL);
	c->dead = true;
	timer_cancel(&rt->loop, &c->idle_timer);
	loop_unwatch(&rt->loop, &c->rw);
	if (c->wfd != c->rfd)
		loop_unwatch(&rt->loop, &c->ww);
	close(c->rfd);
	if (c->wfd != c->rfd)
		close(c->wfd);
	if (c->prev)
		c->prev->next = c->next;
	else
		rt->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	rt->nconns--;
	if (c->is_stdio && rt->stdio_only)
		runner_shutdown(rt, 0);
	loop_defer(&rt->loop, &c->free_d, conn_free);
}

static struct conn *conn_alloc(const struct config *cfg)
{
	struct conn *c = calloc(1, sizeof(*c));
	uint32_t i;

	if (!c)
		return NULL;
	c->in_cap = WIRE_HDR_SIZE + cfg->max_frame;
	c->out_cap = OUT_SOFT + WIRE_HDR_SIZE + cfg->max_frame + OUT_SLACK;
	c->in = malloc(c->in_cap);
	c->out = malloc(c->out_cap);
	c->pool = calloc(cfg->max_streams, sizeof(*c->pool));
	if (!c->in || !c->out || !c->pool) {
		free(c->in);
		free(c->out);
		free(c->pool);
		free(c);
		return NULL;
	}
	for (i = 0; i < cfg->max_streams; i++) {
		c->pool[i].next = c->free_streams;
		c->free_streams = &c->pool[i];
	}
	return c;
}

int conn_open(struct runner *rt, int rfd, int wfd, const char *peer,
	      bool is_stdio)
{
	struct conn *c;
	int r;

	if (rt->nconns >= rt->cfg.max_conns) {
		log_warn("connection from %s refused: limit %u", peer,
			 rt->cfg.max_conns);
		return -EMFILE;
	}
	c = conn_alloc(&rt->cfg);
	if (!c)
		return -ENOMEM;
	c->rt = rt;
	c->rfd = rfd;
	c->wfd = wfd;
	c->is_stdio = is_stdio;
	c->peer_max_frame = 1u << 20;
	if (c->peer_max_frame > rt->cfg.max_frame)
		c->peer_max_frame = rt->cfg.max_frame;
	c->peer_window = WIRE_WINDOW_DEFAULT;
	snprintf(c->peer, sizeof(c->peer), "%s", peer);
	r = loop_watch(&rt->loop, &c->rw, rfd,
		       EPOLLIN | (rfd == wfd ? EPOLLRDHUP : 0), conn_rw_event);
	if (r == 0 && wfd != rfd)
		r = loop_watch(&rt->loop, &c->ww, wfd, 0, conn_ww_event);
	if (r < 0) {
		loop_unwatch(&rt->loop, &c->rw);
		conn_free(&c->free_d);
		return r;
	}
	c->next = rt->conns;
	if (rt->conns)
		rt->conns->prev = c;
	rt->conns = c;
	rt->nconns++;
	timer_arm(&rt->loop, &c->idle_timer, rt->cfg.io_timeout_ms,
		  conn_idle_timeout);
	log_debug("connection from %s", peer);
	return 0;
}

void conn_refuse(int fd, int code, const char *msg)
{
	uint8_t buf[WIRE_HDR_SIZE + ERR_MSG_MAX + 64];
	struct wire_hdr h = {0, 0, WT_ERROR, 0};
	struct wire_buf b;

	wb_init(&b, buf + WIRE_HDR_SIZE, sizeof(buf) - WIRE_HDR_SIZE);
	wb_u16(&b, T_CODE, (uint16_t)code);
	wb_u32(&b, T_ERRNO, 0);
	wb_bytes(&b, T_MESSAGE, msg, strnlen(msg, ERR_MSG_MAX));
	h.len = (uint32_t)b.len;
	wire_hdr_encode(buf, &h);
	/* A fresh socket's buffer takes this at once; if it does not, the
	 * peer learns from the close alone. */
	if (write(fd, buf, WIRE_HDR_SIZE + b.len) < 0)
		(void)0;
	/* Closing with unread input makes the peer's read fail with
	 * ECONNRESET before it sees our ERROR: discard what already came. */
	while (read(fd, buf, sizeof(buf)) > 0)
		;
	close(fd);
}

void conn_flush_all(struct runner *rt)
{
	struct conn *c, *next;

	for (c = rt->conns; c; c = next) {
		next = c->next;
		if (out_used(c) || c->want_writable || c->broken)
			conn_after_io(c);
	}
}

void conn_close_all(struct runner *rt)
{
	while (rt->conns) {
		conn_flush(rt->conns);
		conn_close(rt->conns, "runner exiting");
	}
}

unsigned conn_count(const struct runner *rt)
{
	return rt->nconns;
}

unsigned conn_count_uid(const struct runner *rt, uid_t uid)
{
	const struct conn *c;
	struct ucred cr;
	socklen_t sl;
	unsigned n = 0;

	/* Asked once per accepted unix connection, at most max_conns
	 * getsockopt calls: cheaper than keeping a uid in every conn. */
	for (c = rt->conns; c; c = c->next) {
		sl = sizeof(cr);
		if (!c->is_stdio &&
		    getsockopt(c->rfd, SOL_SOCKET, SO_PEERCRED, &cr, &sl) ==
			0 &&
		    cr.uid == uid)
			n++;
	}
	return n;
}

unsigned stream_count(const struct runner *rt)
{
	return rt->nstreams;
}
