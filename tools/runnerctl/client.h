/* client.h - the host side of protocol v1: dial, HELLO, frames.
 *
 * Blocking and single-threaded by design: a CLI, a benchmark or a test
 * drives one connection.  Received DATA is credited back to the runner
 * automatically once the caller asks for the next frame, so a caller that
 * stops reading exerts backpressure all the way to the producing process.
 */
#ifndef RUNNER_CLIENT_H
#define RUNNER_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "../../protocol/wire.h"
#include "token.h"

#define RC_DEFAULT_TARGET "unix:/run/runner.sock"
#define RC_MAX_FRAME	  (8u << 20) /* what we accept from the runner */
#define RC_WINDOW	  (4u << 20) /* per-stream credit we grant */
#define RC_CREDIT_SLOTS	  32

struct rc_frame {
	struct wire_hdr h;
	const uint8_t *p; /* valid until the next rc_recv */
};

struct rc_conn {
	int rfd, wfd;
	pid_t child; /* cmd: dialer's helper process, or 0 */
	uint32_t next_stream;
	uint32_t max_frame;   /* runner accepts frames up to this payload */
	uint32_t peer_window; /* initial credit the runner grants per stream */
	char software[64];
	uint8_t *buf;
	size_t len, cap;
	size_t consumed;      /* bytes of buf handed out last time */
	uint32_t owed_stream; /* DATA credit to return on next recv */
	uint32_t owed;
	struct {
		uint32_t stream;
		int64_t credit;
	} slots[RC_CREDIT_SLOTS];
	char err[256];
};

/* Dial target and exchange HELLO, sending token's bytes as they are
 * (token.h).  token may be NULL: then $RUNNER_TOKEN is used if set.  On
 * failure returns -errno or -EPROTO and c->err says why in one line. */
int rc_connect(struct rc_conn *c, const char *target,
	       const struct rc_token *token);
void rc_close(struct rc_conn *c);

uint32_t rc_new_stream(struct rc_conn *c);
int rc_send(struct rc_conn *c, uint32_t stream, uint8_t type, uint8_t flags,
	    const void *payload, size_t n);
int rc_send_fields(struct rc_conn *c, uint32_t stream, uint8_t type,
		   const struct wire_buf *b);
/* Next frame (blocking).  WINDOW frames are absorbed into the credit
 * table and returned too.  -EPIPE when the runner closed. */
int rc_recv(struct rc_conn *c, struct rc_frame *f);
/* As rc_recv, but returns -EAGAIN when nothing arrives within ms. */
int rc_recv_timeout(struct rc_conn *c, struct rc_frame *f, int ms);

/* Upload: begin tracking credit for stream (initial = peer_window). */
void rc_track(struct rc_conn *c, uint32_t stream);
int64_t rc_credit(const struct rc_conn *c, uint32_t stream);
/* Send one DATA frame on channel 0 of at most credit bytes. */
int rc_send_data(struct rc_conn *c, uint32_t stream, uint64_t offset,
		 const void *p, size_t n, bool fin);

/* write(2) until done; 0 or -errno. */
int rc_write_all(int fd, const void *p, size_t n);
/* Integer field tag of a frame's TLV payload, or dflt when absent. */
uint64_t rc_field_uint(const struct rc_frame *f, uint16_t tag, uint64_t dflt);
/* Forward what fd has, within stream id's credit (rc_track first), as
 * DATA on channel 0 at *off.  false once fd hit EOF (a FIN was sent). */
bool rc_pump(struct rc_conn *c, uint32_t id, int fd, uint64_t *off);
/* rc_follow's callback: RC_CONTINUE while the stream goes on, else the
 * value rc_follow returns.  f is NULL once before each wait, so the
 * caller can act on a signal (a terminal resize) between frames. */
#define RC_CONTINUE (-1)
typedef int (*rc_frame_fn)(void *ctx, const struct rc_frame *f);
/* Follow a stream to its end: every frame that arrives (of any stream;
 * the callback filters) goes to fn; with in_fd >= 0 what in_fd has is
 * forwarded as stdin (rc_pump, FIN at its EOF).  Returns fn's value, or
 * -errno with c->err set when the connection failed or the runner sent
 * ERROR on stream 0. */
int rc_follow(struct rc_conn *c, uint32_t id, int in_fd, rc_frame_fn fn,
	      void *ctx);
/* Fill in c->err from an ERROR frame and return its code. */
int rc_error_of(struct rc_conn *c, const struct rc_frame *f);
/* Convenience: one request, wait for its terminal frame, skipping other
 * streams.  Returns 0 on RESULT (*out set, valid until next recv), or the
 * positive error code (c->err set), or -errno. */
int rc_call(struct rc_conn *c, uint8_t type, const struct wire_buf *req,
	    struct rc_frame *out);
/* As rc_call, handing the DATA of channel 1 (stdout) to on_data on the
 * way; on_data failing ends the call with -EPIPE ("cannot write
 * output"). */
typedef int (*rc_data_fn)(void *ctx, const uint8_t *p, size_t n);
int rc_call_data(struct rc_conn *c, uint8_t type, const struct wire_buf *req,
		 rc_data_fn on_data, void *ctx, struct rc_frame *out);

#endif
