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
	uint8_t *in;  /* one maximal frame */
	size_t in_len, in_cap;
	uint8_t *out; /* [out_head, out_tail) is pending */
	size_t out_head, out_tail, out_cap;
	struct stream *streams, *free_streams, *pool;
	unsigned nstreams;
	uint32_t peer_max_frame; /* payload bytes the client accepts */
	uint32_t peer_window;    /* initial credit the client grants */
	struct timer idle_timer; /* HELLO deadline, then partial frames */
	struct deferred free_d;
	bool hello_done;
	bool is_stdio;
	bool want_writable; /* some stream waits for room */
	bool peer_eof;      /* client finished sending */
	bool rw_gone;       /* read side unwatched after EOF */
	bool closing;       /* flush the last ERROR, then close */
	bool broken;        /* I/O failed: close now */
	bool dead;
};

void conn_flush(struct conn *c);

#endif
