/* ops.c - one request each, driven to its terminal frame.
 *
 * Every function returns 0 on RESULT, the positive wire error code on
 * ERROR (c->err says what), or -errno when the connection failed.  The
 * bench drives one request at a time per connection, so frames of other
 * streams cannot occur; they are skipped all the same.
 */
#include "bench.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define REQ_BUF	     4096
#define UPLOAD_CHUNK (256u << 10)
/* No frame for this long: the runner is stuck.  Bulk transfers reset it
 * with every frame, so it bounds silence, not duration. */
#define SILENCE_MS_DEFAULT 30000

static int silence_ms(void)
{
	const char *e = getenv("BENCH_TIMEOUT_MS");

	return e && atoi(e) > 0 ? atoi(e) : SILENCE_MS_DEFAULT;
}

/* After a transport error or a stuck runner the stream of frames is no
 * longer in step with our requests: close the connection so that every
 * later request fails at once (and run_steps starts afresh) instead of
 * waiting again or reading a stale answer. */
static int conn_broken(struct rc_conn *c, int r)
{
	if (r == -EAGAIN) {
		snprintf(c->err, sizeof(c->err),
			 "no answer within %d ms: runner stuck?", silence_ms());
		r = -ETIMEDOUT;
	}
	if (c->wfd >= 0 && c->wfd != c->rfd)
		close(c->wfd);
	if (c->rfd >= 0)
		close(c->rfd);
	c->rfd = c->wfd = -1;
	return r;
}

int op_recv(struct rc_conn *c, struct rc_frame *f)
{
	int r;

	if (c->rfd < 0)
		return -ENOTCONN;
	r = rc_recv_timeout(c, f, silence_ms());
	return r < 0 ? conn_broken(c, r) : 0;
}

static int send_fields(struct rc_conn *c, uint32_t id, uint8_t type,
		       const struct wire_buf *b)
{
	int r;

	if (c->wfd < 0) {
		snprintf(c->err, sizeof(c->err), "connection closed earlier");
		return -ENOTCONN;
	}
	r = rc_send_fields(c, id, type, b);
	return r == -EMSGSIZE ? r : r < 0 ? conn_broken(c, r) : 0;
}

struct reply {
	uint64_t data_bytes; /* DATA payload bytes, every channel */
	uint64_t entries;    /* T_ENTRY records seen in EVENT/RESULT */
	int64_t exit_status; /* T_EXIT_STATUS of the RESULT, or -1 */
	uint64_t count;	     /* T_COUNT of the RESULT, or 0 */
};

static void scan_result(const struct rc_frame *f, struct reply *rp)
{
	struct wire_iter it;
	struct wire_field fl;
	uint64_t v;

	wire_iter_init(&it, f->p, f->h.len);
	while (wire_next(&it, &fl) > 0) {
		if (fl.tag == T_EXIT_STATUS)
			wire_int(&fl, &rp->exit_status);
		else if (fl.tag == T_COUNT && wire_uint(&fl, &v) == 0)
			rp->count = v;
		else if (fl.tag == T_ENTRY)
			rp->entries++;
		else if (fl.tag == T_OUTPUT)
			rp->data_bytes += fl.len;
	}
}

/* Read frames of stream id until its RESULT or ERROR. */
static int drain(struct rc_conn *c, uint32_t id, struct reply *rp)
{
	struct rc_frame f;
	int r;

	for (;;) {
		if ((r = op_recv(c, &f)) < 0)
			return r;
		if (f.h.stream == 0 && f.h.type == WT_ERROR)
			return rc_error_of(c, &f);
		if (f.h.stream != id)
			continue;
		switch (f.h.type) {
		case WT_DATA:
			if (f.h.len > WIRE_DATA_PREFIX)
				rp->data_bytes += f.h.len - WIRE_DATA_PREFIX;
			break;
		case WT_EVENT: scan_result(&f, rp); break;
		case WT_RESULT: scan_result(&f, rp); return 0;
		case WT_ERROR: return rc_error_of(c, &f);
		}
	}
}

static int call(struct rc_conn *c, uint8_t type, const struct wire_buf *b,
		struct reply *rp)
{
	uint32_t id = rc_new_stream(c);
	int r;

	*rp = (struct reply){.exit_status = -1};
	if ((r = send_fields(c, id, type, b)) < 0)
		return r;
	return drain(c, id, rp);
}

static int want_exit_zero(struct rc_conn *c, const struct reply *rp)
{
	if (rp->exit_status == 0)
		return 0;
	snprintf(c->err, sizeof(c->err), "command exited with status %lld",
		 (long long)rp->exit_status);
	return -EBADMSG;
}

int op_ping(struct rc_conn *c)
{
	struct wire_buf b;
	struct reply rp;

	wb_init(&b, NULL, 0);
	return call(c, WT_PING, &b, &rp);
}

int op_shell_open(struct rc_conn *c, const char *session)
{
	uint8_t buf[REQ_BUF];
	struct wire_buf b;
	struct reply rp;

	wb_init(&b, buf, sizeof(buf));
	wb_str(&b, T_SESSION, session);
	return call(c, WT_SHELL_OPEN, &b, &rp);
}

/* out_bytes NULL: wait mode, the output rides in the RESULT.  Otherwise
 * stream mode, raw: every byte crosses the PTY and the socket as DATA. */
int op_exec(struct rc_conn *c, const char *session, const char *command,
	    uint64_t *out_bytes)
{
	uint8_t buf[REQ_BUF];
	struct wire_buf b;
	struct reply rp;
	int r;

	wb_init(&b, buf, sizeof(buf));
	if (session)
		wb_str(&b, T_SESSION, session);
	wb_str(&b, T_COMMAND, command);
	wb_u8(&b, T_MODE, out_bytes ? WM_STREAM : WM_WAIT);
	wb_u8(&b, T_FORMAT, WFMT_RAW);
	if ((r = call(c, WT_EXEC, &b, &rp)) != 0)
		return r;
	if (out_bytes)
		*out_bytes = rp.data_bytes;
	return want_exit_zero(c, &rp);
}

static void spawn_fields(struct wire_buf *b, const char *const *argv, bool pty)
{
	for (; *argv; argv++)
		wb_str(b, T_ARGV, *argv);
	wb_u8(b, T_STDIN, 0);
	wb_u8(b, T_PTY, pty);
}

int op_spawn_start(struct rc_conn *c, const char *const *argv, uint32_t *id)
{
	uint8_t buf[REQ_BUF];
	struct wire_buf b;

	wb_init(&b, buf, sizeof(buf));
	spawn_fields(&b, argv, false);
	*id = rc_new_stream(c);
	return send_fields(c, *id, WT_SPAWN, &b);
}

int op_spawn(struct rc_conn *c, const char *const *argv, bool pty,
	     uint64_t *out_bytes)
{
	uint8_t buf[REQ_BUF];
	struct wire_buf b;
	struct reply rp;
	int r;

	wb_init(&b, buf, sizeof(buf));
	spawn_fields(&b, argv, pty);
	if ((r = call(c, WT_SPAWN, &b, &rp)) != 0)
		return r;
	if (out_bytes)
		*out_bytes = rp.data_bytes;
	return want_exit_zero(c, &rp);
}

int op_read(struct rc_conn *c, const char *path, uint64_t *bytes)
{
	uint8_t buf[REQ_BUF];
	struct wire_buf b;
	struct reply rp;
	int r;

	wb_init(&b, buf, sizeof(buf));
	wb_str(&b, T_PATH, path);
	if ((r = call(c, WT_READ, &b, &rp)) != 0)
		return r;
	if (bytes)
		*bytes = rp.data_bytes;
	return 0;
}

/* Wait for credit on stream id; an early ERROR ends the upload. */
static int await_credit(struct rc_conn *c, uint32_t id, struct reply *rp)
{
	struct rc_frame f;
	int r;

	while (rc_credit(c, id) <= 0) {
		if ((r = op_recv(c, &f)) < 0)
			return r;
		if (f.h.stream == 0 && f.h.type == WT_ERROR)
			return rc_error_of(c, &f);
		if (f.h.stream != id)
			continue;
		if (f.h.type == WT_ERROR)
			return rc_error_of(c, &f);
		if (f.h.type == WT_RESULT) {
			scan_result(&f, rp);
			snprintf(c->err, sizeof(c->err),
				 "RESULT before the upload ended");
			return -EBADMSG;
		}
	}
	return 0;
}

/* Upload bytes of a fixed pattern: the client's own cost stays a memcpy
 * into the socket, so the figure is the runner's. */
int op_write(struct rc_conn *c, const char *path, uint64_t bytes, bool atomic)
{
	static uint8_t chunk[UPLOAD_CHUNK];
	uint8_t buf[REQ_BUF];
	struct wire_buf b;
	struct reply rp = {.exit_status = -1};
	uint32_t id = rc_new_stream(c);
	uint64_t off = 0;
	int r;

	memset(chunk, 'w', sizeof(chunk));
	wb_init(&b, buf, sizeof(buf));
	wb_str(&b, T_PATH, path);
	wb_u8(&b, T_WRITE_MODE, WW_TRUNCATE);
	wb_u8(&b, T_ATOMIC, atomic);
	rc_track(c, id);
	if ((r = send_fields(c, id, WT_WRITE, &b)) < 0)
		return r;
	do {
		uint64_t n = bytes - off;
		int64_t credit;
		if ((r = await_credit(c, id, &rp)) != 0)
			return r;
		credit = rc_credit(c, id);
		if (n > (uint64_t)credit)
			n = (uint64_t)credit;
		if (n > sizeof(chunk))
			n = sizeof(chunk);
		if ((r = rc_send_data(c, id, off, chunk, n, off + n == bytes)) <
		    0)
			return r;
		off += n;
	} while (off < bytes);
	return drain(c, id, &rp);
}

int op_fields(struct rc_conn *c, uint8_t type, const struct wire_buf *b,
	      uint64_t *count)
{
	struct reply rp;
	int r;

	if ((r = call(c, type, b, &rp)) != 0)
		return r;
	if (count)
		*count = rp.count ? rp.count : rp.entries;
	return 0;
}

int op_grep(struct rc_conn *c, const char *root, const char *pattern,
	    uint64_t *matches)
{
	uint8_t buf[REQ_BUF];
	struct wire_buf b;
	struct reply rp;
	int r;

	wb_init(&b, buf, sizeof(buf));
	wb_str(&b, T_PATH, root);
	wb_str(&b, T_PATTERN, pattern);
	wb_u32(&b, T_MAX_RESULTS, 0x7fffffff);
	if ((r = call(c, WT_GREP, &b, &rp)) != 0)
		return r;
	if (matches)
		*matches = rp.count ? rp.count : rp.entries;
	return 0;
}
