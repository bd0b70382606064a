/* stream.h - what a request handler sees: its stream (stream_ops, the
 * send API, flow control), the readers of its fields, and the connection
 * entry points listeners call.
 *
 * A stream belongs to its connection.  A module that answers a request
 * asynchronously sets stream->ops/owner and keeps the pointer until it
 * sends the terminal frame (stream_result/stream_error) or until
 * ops->detach tells it the connection is gone — after either, the pointer
 * is dead.
 */
#ifndef RUNNER_STREAM_H
#define RUNNER_STREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "../protocol/wire.h"

struct runner;
struct conn;
struct stream;

/* ---- stream.c: a stream's frames and flow control ---- */

struct stream_ops {
	/* Client DATA on this stream (stdin, upload).  The conn layer has
	 * already charged it against the window the runner granted; the module
	 * returns credit with stream_grant() once it has consumed the bytes. */
	void (*data)(struct stream *s, uint8_t channel, const uint8_t *p,
		     size_t n, bool fin);
	/* Room to send appeared (window update or connection buffer drained)
	 * after the module called stream_want_writable(). */
	void (*writable)(struct stream *s);
	/* CANCEL arrived; the module ends the stream (now or soon). */
	void (*cancel)(struct stream *s);
	/* The connection is gone.  Drop every pointer to s; do not send.  The
	 * stream is freed when this returns. */
	void (*detach)(struct stream *s);
};

struct stream {
	struct conn *conn;
	uint32_t id;
	uint8_t type;
	bool want_writable;
	bool frame_waits; /* an EVENT or RESULT, which need no credit */
	bool cancelled;
	const struct stream_ops *ops;
	void *owner;
	int64_t send_credit;  /* DATA bytes the client still accepts */
	uint64_t recv_credit; /* DATA bytes the client may still send */
	struct stream *next;  /* connection's list */
};

/* Bytes of DATA the stream may send now (0: wait for writable). */
size_t stream_data_room(const struct stream *s);
/* Where the next DATA frame's bytes go: write up to room bytes there,
 * then commit.  Zero-copy path for fd readers. */
uint8_t *stream_data_buf(struct stream *s);
void stream_data_commit(struct stream *s, uint8_t channel, uint64_t offset,
			size_t n, uint8_t flags);
/* Copying variant; n must not exceed stream_data_room(). */
void stream_data(struct stream *s, uint8_t channel, uint64_t offset,
		 const void *p, size_t n, uint8_t flags);
/* EVENT and RESULT: -EAGAIN when the connection buffer is full (the
 * stream stays open; retry from ops->writable).  A RESULT of at most
 * RESULT_SMALL bytes always goes (0): like ERROR it is the stream's one
 * final frame, with room kept for it. */
#define RESULT_SMALL 512
int stream_event(struct stream *s, const struct wire_buf *fields);
int stream_result(struct stream *s, const struct wire_buf *fields);
/* Terminal ERROR; always ends the stream. */
void stream_error(struct stream *s, int code, int err, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Errno-shaped shorthand: code from wire_err_from_errno(err). */
void stream_error_errno(struct stream *s, int err, const char *what);
/* Terminal ERROR whose fields the caller built: T_CODE, T_ERRNO,
 * T_MESSAGE and what qualifies them (E_NOT_UNIQUE's T_COUNT).  Small
 * frames only: it is queued like stream_error, past the soft limit. */
void stream_error_fields(struct stream *s, const struct wire_buf *fields);
void stream_want_writable(struct stream *s);
/* Give the client n more bytes of DATA credit on this stream. */
void stream_grant(struct stream *s, uint32_t n);
/* Largest payload the client accepts in one frame. */
size_t stream_max_payload(const struct stream *s);
struct runner *stream_runner(const struct stream *s);

/* ---- req.c: a request's fields (PROTOCOL §4: the first of a repeated
 * single-valued field counts).  Each returns 1 (present), 0 (absent: *v
 * is def, f->val NULL), or -1 after answering ERROR E_BAD_REQUEST on s. ---- */

#define REQ_ANY UINT64_MAX /* req_uint's max for "any integer", bools */
#define req_uint(s, p, n, tag, def, min, max, v)                               \
	((min) == 0 && (max) == REQ_ANY                                        \
	     ? req_uint_any(s, p, n, tag, def, v)                              \
	     : req_uint_in(s, p, n, tag, def, min, max, v))
int req_uint_in(struct stream *s, const uint8_t *p, size_t n, uint16_t tag,
		uint64_t def, uint64_t min, uint64_t max, uint64_t *v);
/* The common case in six arguments: every call passes them in registers
 * (the binary's size budget counts each call). */
int req_uint_any(struct stream *s, const uint8_t *p, size_t n, uint16_t tag,
		 uint64_t def, uint64_t *v);
/* Any bytes, at most max. */
int req_bytes(struct stream *s, const uint8_t *p, size_t n, uint16_t tag,
	      size_t max, struct wire_field *f);
/* 1..max bytes without NUL. */
int req_str(struct stream *s, const uint8_t *p, size_t n, uint16_t tag,
	    size_t max, struct wire_field *f);
/* ROWS and COLS, 1..65535 each; an absent one keeps the value passed in,
 * must then be nonzero (pass 0 to require it). */
int req_winsize(struct stream *s, const uint8_t *p, size_t n, uint16_t *rows,
		uint16_t *cols);

/* ---- conn.c ---- */

/* Connections: created by listeners (listen.c) from accepted fds. */
int conn_open(struct runner *rt, int rfd, int wfd, const char *peer,
	      bool is_stdio);
/* Best-effort ERROR on stream 0 to a peer we will not serve; closes fd. */
void conn_refuse(int fd, int code, const char *msg);
void conn_flush_all(struct runner *rt);
void conn_close_all(struct runner *rt);
unsigned conn_count(const struct runner *rt);
/* Unix connections whose peer has this uid (SO_PEERCRED). */
unsigned conn_count_uid(const struct runner *rt, uid_t uid);
unsigned stream_count(const struct runner *rt);

#endif
