/* conn_internal.h - struct conn, private to conn.c and its tests. */
#ifndef RUNNER_CONN_INTERNAL_H
#define RUNNER_CONN_INTERNAL_H

#include "runner.h"

struct conn {
	struct runner *rt;
	struct conn *prev, *next;
	struct watch rw, ww; /* ww unused when rfd == wfd */
	int rfd, wfd;
	char peer[64];
	uint8_t *in; /* one maximal frame */
	size_t in_len, in_cap;
	uint8_t *out; /* [out_head, out_tail) is pending */
	size_t out_head, out_tail, out_cap;
	struct stream *streams, *free_streams, *pool;
	unsigned nstreams;
	uint32_t peer_max_frame; /* payload bytes the client accepts */
	uint32_t peer_window;	 /* initial credit the client grants */
	struct timer idle_timer; /* HELLO deadline, then partial frames */
	struct deferred free_d;
	bool hello_done;
	bool is_stdio;
	bool want_writable; /* some stream waits for room */
	bool peer_eof;	    /* client finished sending */
	bool rw_gone;	    /* read side unwatched after EOF */
	bool closing;	    /* flush the last ERROR, then close */
	bool held;	    /* a request waits in `in` for output room */
	bool broken;	    /* I/O failed: close now */
	bool dead;
};

/* Output buffer bounds (see conn.c for why they hold):
 * DATA and request intake stop at OUT_SOFT; a RESULT may use the space
 * up to out_cap - OUT_SLACK/2; ERROR, WINDOW and a RESULT of at most
 * RESULT_SMALL bytes may use all of it. */
#define OUT_SOFT    (1u << 20)
#define OUT_SLACK   (256u << 10)
#define ERR_MSG_MAX 400

void conn_flush(struct conn *c);
size_t out_used(const struct conn *c);
int out_frame(struct conn *c, uint32_t stream, uint8_t type, uint8_t flags,
	      const void *p, size_t n, size_t limit);
void conn_send_error(struct conn *c, uint32_t stream, int code,
		     const char *msg);
struct stream *stream_find(struct conn *c, uint32_t id);
struct stream *stream_new(struct conn *c, uint32_t id, uint8_t type);
/* End a stream from the connection side; module told first via detach. */
void stream_abort(struct stream *s, int code, const char *msg);
void conn_notify_writable(struct conn *c);
/* A stream waits for room that is there now: the loop must come back
 * even with nothing queued to write. */
bool conn_writable_due(const struct conn *c);

#endif
