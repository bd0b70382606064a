/* stub_modules.c - the request table of fuzz targets and unit tests that
 * drive the real connection code (conn.c, stream.c, sysops.c) without
 * bash, children or files: its own dispatch_handler() in place of
 * runner/dispatch.c, and stand-ins for what sysops.c asks of the modules.
 *
 * PING, INFO, STATS and SHUTDOWN are the real sysops.  Every other type
 * runner/dispatch.c knows answers E_UNSUPPORTED, except two that use the
 * stream API the way the real modules do:
 *  - WRITE is a sink: it consumes client DATA, returns the credit with
 *    stream_grant(), and after a FIN answers RESULT{SIZE = bytes taken};
 *  - PROC_ATTACH is a source: it sends LENGTH bytes of DATA (default
 *    STUB_SOURCE_DEFAULT) on channel 1 within the client's window, waits
 *    for ops->writable when the window or the buffer is full, then answers
 *    RESULT{TOTAL_BYTES}.
 * Both end on CANCEL and free their state on every path (result, error,
 * detach), so LeakSanitizer catches a stream the conn layer forgets.
 * A type dispatch.c does not know is NULL here too: E_UNKNOWN_TYPE.
 */
#include "runner.h"
#include "dispatch.h"

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

static void stub_sink(struct stream *s, const uint8_t *p, size_t n)
{
	(void)p;
	(void)n;
	stub_attach(s, &sink_ops);
}

static void stub_source(struct stream *s, const uint8_t *p, size_t n)
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

static void stub_unsupported(struct stream *s, const uint8_t *p, size_t n)
{
	(void)p;
	(void)n;
	stream_error(s, E_UNSUPPORTED, 0, "request type 0x%02x is a stub here",
		     s->type);
}

/* The types runner/dispatch.c knows, each answered as described above. */
static const request_fn handlers[256] = {
    [WT_PING] = sys_ping,
    [WT_INFO] = sys_info,
    [WT_STATS] = sys_stats,
    [WT_SHUTDOWN] = sys_shutdown,
    [WT_SHELL_OPEN] = stub_unsupported,
    [WT_SHELL_CLOSE] = stub_unsupported,
    [WT_EXEC] = stub_unsupported,
    [WT_SHELL_STDIN] = stub_unsupported,
    [WT_SHELL_RESIZE] = stub_unsupported,
    [WT_SHELL_SIGNAL] = stub_unsupported,
    [WT_SHELL_LIST] = stub_unsupported,
    [WT_EXEC_WAIT] = stub_unsupported,
    [WT_SPAWN] = stub_unsupported,
    [WT_PROC_STDIN] = stub_unsupported,
    [WT_PROC_CLOSE_STDIN] = stub_unsupported,
    [WT_PROC_SIGNAL] = stub_unsupported,
    [WT_PROC_WAIT] = stub_unsupported,
    [WT_PROC_ATTACH] = stub_source,
    [WT_PROC_LIST] = stub_unsupported,
    [WT_READ] = stub_unsupported,
    [WT_WRITE] = stub_sink,
    [WT_EDIT] = stub_unsupported,
    [WT_LS] = stub_unsupported,
    [WT_STAT] = stub_unsupported,
    [WT_MKDIR] = stub_unsupported,
    [WT_REMOVE] = stub_unsupported,
    [WT_MOVE] = stub_unsupported,
    [WT_FIND] = stub_unsupported,
    [WT_GREP] = stub_unsupported,
    [WT_DIFF] = stub_unsupported,
};

request_fn dispatch_handler(uint8_t type)
{
	return handlers[type];
}

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
