/* stub_modules.c - stand-ins for the request modules (shell, proc, fs,
 * pid1 shutdown), so fuzz targets and unit tests can drive the real
 * connection code (conn.c, stream.c, sysops.c) without bash, children or
 * files.
 *
 * Every request answers E_UNSUPPORTED except two that use the stream API
 * the way the real modules do:
 *  - WRITE is a sink: it consumes client DATA, returns the credit with
 *    stream_grant(), and after a FIN answers RESULT{SIZE = bytes taken};
 *  - PROC_ATTACH is a source: it sends LENGTH bytes of DATA (default
 *    STUB_SOURCE_DEFAULT) on channel 1 within the client's window, waits
 *    for ops->writable when the window or the buffer is full, then answers
 *    RESULT{TOTAL_BYTES}.
 * Both end on CANCEL and free their state on every path (result, error,
 * detach), so LeakSanitizer catches a stream the conn layer forgets.
 */
#include "runner.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define STUB_SOURCE_DEFAULT (1u << 20)
#define STUB_SOURCE_MAX	    (4u << 20)

struct stub_stream {
	uint64_t total; /* sink: bytes taken; source: bytes to send */
	uint64_t sent;
	bool done; /* source: all DATA sent, RESULT pending */
};

/* The terminal frame frees the stream (and clears s->owner): the state
 * pointer is taken first and freed after. */
static void stub_cancel(struct stream *s)
{
	struct stub_stream *st = s->owner;

	stream_error(s, E_CANCELLED, 0, "cancelled");
	free(st);
}

static void stub_detach(struct stream *s)
{
	free(s->owner);
}

static void stub_finish(struct stream *s, uint16_t tag, uint64_t v)
{
	struct stub_stream *st = s->owner;
	uint8_t buf[32];
	struct wire_buf b;
	int r;

	wb_init(&b, buf, sizeof(buf));
	wb_u64(&b, tag, v);
	r = stream_result(s, &b);
	if (r == -EAGAIN)
		return; /* stream_result asked for writable: retried there */
	if (r < 0)
		stream_error(s, E_INTERNAL, -r, "stub RESULT failed");
	free(st);
}

/* ---- sink ---- */

static void sink_data(struct stream *s, uint8_t channel, const uint8_t *p,
		      size_t n, bool fin)
{
	struct stub_stream *st = s->owner;

	(void)channel;
	(void)p;
	st->total += n;
	stream_grant(s, (uint32_t)n);
	if (fin)
		stub_finish(s, T_SIZE, st->total);
}

static void sink_writable(struct stream *s)
{
	struct stub_stream *st = s->owner;

	stub_finish(s, T_SIZE, st->total);
}

static const struct stream_ops sink_ops = {
    .data = sink_data,
    .writable = sink_writable,
    .cancel = stub_cancel,
    .detach = stub_detach,
};

/* ---- source ---- */

static void source_pump(struct stream *s)
{
	struct stub_stream *st = s->owner;
	uint64_t left;
	size_t room;
	uint8_t *dst;

	while (!st->done) {
		left = st->total - st->sent;
		room = stream_data_room(s);
		dst = room ? stream_data_buf(s) : NULL;
		if (!dst) {
			stream_want_writable(s);
			return;
		}
		if (room > left)
			room = (size_t)left;
		memset(dst, 'x', room);
		stream_data_commit(s, WCH_STDOUT, st->sent, room,
				   room == left ? WF_FIN : 0);
		st->sent += room;
		st->done = st->sent == st->total;
	}
	stub_finish(s, T_TOTAL_BYTES, st->sent);
}

static const struct stream_ops source_ops = {
    .writable = source_pump,
    .cancel = stub_cancel,
    .detach = stub_detach,
};

static struct stub_stream *stub_attach(struct stream *s,
				       const struct stream_ops *ops)
{
	struct stub_stream *st = calloc(1, sizeof(*st));

	if (!st) {
		stream_error(s, E_LIMIT, ENOMEM, "out of memory");
		return NULL;
	}
	s->owner = st;
	s->ops = ops;
	return st;
}

void fs_req_write(struct stream *s, const uint8_t *p, size_t n)
{
	(void)p;
	(void)n;
	stub_attach(s, &sink_ops);
}

void proc_req_attach(struct stream *s, const uint8_t *p, size_t n)
{
	struct stub_stream *st;
	struct wire_field f;
	uint64_t len = STUB_SOURCE_DEFAULT;

	if (wire_find(p, n, T_LENGTH, &f) > 0 &&
	    (wire_uint(&f, &len) < 0 || len > STUB_SOURCE_MAX)) {
		stream_error(s, E_BAD_REQUEST, 0, "LENGTH up to 4 MiB");
		return;
	}
	st = stub_attach(s, &source_ops);
	if (!st)
		return;
	st->total = len;
	st->done = len == 0;
	source_pump(s);
}

/* ---- everything else ---- */

#define UNSUPPORTED(fn)                                                        \
	void fn(struct stream *s, const uint8_t *p, size_t n)                  \
	{                                                                      \
		(void)p;                                                       \
		(void)n;                                                       \
		stream_error(s, E_UNSUPPORTED, 0, #fn " is a stub here");      \
	}

UNSUPPORTED(shell_req_open)
UNSUPPORTED(shell_req_close)
UNSUPPORTED(shell_req_exec)
UNSUPPORTED(shell_req_stdin)
UNSUPPORTED(shell_req_resize)
UNSUPPORTED(shell_req_signal)
UNSUPPORTED(shell_req_list)
UNSUPPORTED(shell_req_exec_wait)
UNSUPPORTED(proc_req_spawn)
UNSUPPORTED(proc_req_stdin)
UNSUPPORTED(proc_req_close_stdin)
UNSUPPORTED(proc_req_signal)
UNSUPPORTED(proc_req_wait)
UNSUPPORTED(proc_req_list)
UNSUPPORTED(fs_req_read)
UNSUPPORTED(fs_req_edit)
UNSUPPORTED(fs_req_ls)
UNSUPPORTED(fs_req_stat)
UNSUPPORTED(fs_req_mkdir)
UNSUPPORTED(fs_req_remove)
UNSUPPORTED(fs_req_move)
UNSUPPORTED(fs_req_find)
UNSUPPORTED(fs_req_grep)
UNSUPPORTED(fs_req_diff)

/* STATS counts sessions and processes: there are none here. */
unsigned shell_count(const struct runner *rt)
{
	(void)rt;
	return 0;
}

unsigned proc_count(const struct runner *rt, unsigned *kept)
{
	(void)rt;
	if (kept)
		*kept = 0;
	return 0;
}

/* SHUTDOWN's effect as far as connections see it: new requests other than
 * PING and INFO are refused. */
void runner_shutdown(struct runner *rt, int status)
{
	rt->shutting_down = true;
	rt->exit_status = status;
}
