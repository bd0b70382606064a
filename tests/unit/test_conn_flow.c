/* link: runner/conn.c runner/stream.c runner/loop.c runner/sysops.c
 * runner/log.c runner/req.c runner/harden_token.c tests/fuzz/stub_modules.c
 * */
/* test_conn_flow.c - the connection layer (conn.c, stream.c) over a real
 * socketpair and the real epoll loop: HELLO, credit windows in both
 * directions, CANCEL, stream limits and the errors that close a
 * connection.  Request modules are the stubs of tests/fuzz/stub_modules.c:
 * WRITE is a DATA sink that grants credit back, PROC_ATTACH a source of
 * LENGTH bytes that sends only within the client's window.
 */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "runner.h"

#define RUNNER_WINDOW 8192
#define CLIENT_WINDOW 4096
#define MAX_STREAMS   8
#define IN_MAX	      (1u << 20)

struct client {
	struct runner rt;
	int fd;
	uint8_t in[IN_MAX]; /* received, not yet consumed */
	size_t in_len;
	bool eof;
};

struct frame {
	struct wire_hdr h;
	uint8_t p[WIRE_MAX_FRAME_MIN];
};

/* ---- the harness: serve until idle, read what came ---- */

static void serve(struct client *cl)
{
	ssize_t n;
	int round;

	for (round = 0; round < 64; round++) {
		conn_flush_all(&cl->rt);
		n = loop_run_once(&cl->rt.loop, 0);
		assert_true(n >= 0);
		if (n == 0)
			break;
	}
	while (!cl->eof && cl->in_len < IN_MAX) {
		n = read(cl->fd, cl->in + cl->in_len, IN_MAX - cl->in_len);
		if (n <= 0) {
			cl->eof = n == 0;
			break;
		}
		cl->in_len += (size_t)n;
	}
}

/* The next frame from the runner, left in place; false if none is
 * complete once the runner is idle. */
static bool peek_frame(struct client *cl, struct frame *f)
{
	serve(cl);
	if (wire_hdr_decode(cl->in, cl->in_len, WIRE_MAX_FRAME_MIN, &f->h))
		return false;
	if (cl->in_len < WIRE_HDR_SIZE + f->h.len)
		return false;
	memcpy(f->p, cl->in + WIRE_HDR_SIZE, f->h.len);
	return true;
}

static void consume_frame(struct client *cl, const struct frame *f)
{
	size_t total = WIRE_HDR_SIZE + f->h.len;

	memmove(cl->in, cl->in + total, cl->in_len - total);
	cl->in_len -= total;
}

static bool recv_frame(struct client *cl, struct frame *f)
{
	if (!peek_frame(cl, f))
		return false;
	consume_frame(cl, f);
	return true;
}

static void expect_frame(struct client *cl, struct frame *f, uint32_t stream,
			 uint8_t type)
{
	if (!recv_frame(cl, f))
		fail_msg("no frame, expected %s on stream %u",
			 wire_type_name(type), stream);
	if (f->h.stream != stream || f->h.type != type)
		fail_msg("got %s on stream %u, expected %s on stream %u",
			 wire_type_name(f->h.type), f->h.stream,
			 wire_type_name(type), stream);
}

static uint64_t field_uint(const struct frame *f, uint16_t tag)
{
	struct wire_field fl;
	uint64_t v;

	assert_int_equal(wire_find(f->p, f->h.len, tag, &fl), 1);
	assert_int_equal(wire_uint(&fl, &v), 0);
	return v;
}

static void expect_error(struct client *cl, uint32_t stream, int code)
{
	struct frame f;
	uint64_t got;

	expect_frame(cl, &f, stream, WT_ERROR);
	got = field_uint(&f, T_CODE);
	if (got != (uint64_t)code)
		fail_msg("ERROR %s on stream %u, expected %s",
			 wire_err_name((int)got), stream, wire_err_name(code));
}

static void expect_nothing(struct client *cl)
{
	struct frame f;

	if (recv_frame(cl, &f))
		fail_msg("unexpected %s on stream %u", wire_type_name(f.h.type),
			 f.h.stream);
}

/* The runner closed the connection (after what it had to say). */
static void expect_closed(struct client *cl)
{
	serve(cl);
	assert_true(cl->eof);
	assert_int_equal(cl->rt.nconns, 0);
}

static void send_raw(struct client *cl, const void *p, size_t n)
{
	assert_int_equal(write(cl->fd, p, n), (ssize_t)n);
}

/* Frames are built whole, then written: several may go in one write. */
struct out {
	uint8_t buf[2 * WIRE_MAX_FRAME_MIN];
	size_t len;
};

static struct wire_buf *frame_begin(struct out *o, struct wire_buf *b)
{
	wb_init(b, o->buf + o->len + WIRE_HDR_SIZE,
		sizeof(o->buf) - o->len - WIRE_HDR_SIZE);
	return b;
}

static void frame_end(struct out *o, const struct wire_buf *b, uint32_t stream,
		      uint8_t type, uint8_t flags)
{
	struct wire_hdr h = {(uint32_t)b->len, stream, type, flags};

	assert_false(b->overflow);
	wire_hdr_encode(o->buf + o->len, &h);
	o->len += WIRE_HDR_SIZE + b->len;
}

static void send_out(struct client *cl, struct out *o)
{
	send_raw(cl, o->buf, o->len);
	o->len = 0;
}

static void send_frame(struct client *cl, uint32_t stream, uint8_t type,
		       uint16_t tag, uint64_t v)
{
	struct out o = {.len = 0};
	struct wire_buf b;

	frame_begin(&o, &b);
	if (tag)
		wb_u64(&b, tag, v);
	frame_end(&o, &b, stream, type, 0);
	send_out(cl, &o);
}

static void add_window(struct out *o, uint32_t stream, uint32_t n)
{
	struct wire_buf b;

	frame_begin(o, &b);
	wire_put32(b.p, n);
	b.len = 4;
	frame_end(o, &b, stream, WT_WINDOW, 0);
}

static void send_window(struct client *cl, uint32_t stream, uint32_t n)
{
	struct out o = {.len = 0};

	add_window(&o, stream, n);
	send_out(cl, &o);
}

static void send_data(struct client *cl, uint32_t stream, uint64_t off,
		      size_t n, uint8_t flags)
{
	static struct out o;
	struct wire_buf b;

	o.len = 0;
	frame_begin(&o, &b);
	assert_true(n + WIRE_DATA_PREFIX <= wb_room(&b));
	wire_data_prefix(b.p, WCH_STDIN, off);
	memset(b.p + WIRE_DATA_PREFIX, 'd', n);
	b.len = WIRE_DATA_PREFIX + n;
	frame_end(&o, &b, stream, WT_DATA, flags);
	send_out(cl, &o);
}

static void send_hello(struct client *cl)
{
	struct out o = {.len = 0};
	struct wire_buf b;

	frame_begin(&o, &b);
	wb_u16(&b, T_VERSION, WIRE_VERSION);
	wb_u32(&b, T_WINDOW, CLIENT_WINDOW);
	frame_end(&o, &b, 0, WT_HELLO, 0);
	send_out(cl, &o);
}

/* ---- fixtures ---- */

static int client_setup(void **state)
{
	struct client *cl = calloc(1, sizeof(*cl));
	int sv[2];

	if (!cl)
		return -1;
	cl->rt.cfg = (struct config){
	    .max_frame = WIRE_MAX_FRAME_MIN,
	    .window = RUNNER_WINDOW,
	    .max_streams = MAX_STREAMS,
	    .max_conns = 4,
	    .grace_ms = 0,
	    .io_timeout_ms = 3600000, /* no timer may fire mid-test */
	};
	if (loop_init(&cl->rt.loop) < 0 ||
	    socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0,
		       sv) < 0)
		return -1;
	cl->fd = sv[1];
	if (conn_open(&cl->rt, sv[0], sv[0], "test", false) < 0)
		return -1;
	*state = cl;
	return 0;
}

/* After a HELLO exchange: most tests start here. */
static int hello_setup(void **state)
{
	struct client *cl;
	struct frame f;

	if (client_setup(state) < 0)
		return -1;
	cl = *state;
	send_hello(cl);
	if (!recv_frame(cl, &f) || f.h.type != WT_HELLO)
		return -1;
	return 0;
}

/* The client goes away: the connection and every stream must follow. */
static int client_teardown(void **state)
{
	struct client *cl = *state;
	int ok;

	close(cl->fd);
	cl->fd = -1;
	serve(cl);
	ok = cl->rt.nconns == 0 && cl->rt.nstreams == 0;
	loop_fini(&cl->rt.loop);
	free(cl);
	return ok ? 0 : -1;
}

/* ---- HELLO ---- */

static void test_hello_exchange(void **state)
{
	struct client *cl = *state;
	struct frame f;

	send_hello(cl);
	expect_frame(cl, &f, 0, WT_HELLO);
	assert_int_equal(field_uint(&f, T_VERSION), WIRE_VERSION);
	assert_int_equal(field_uint(&f, T_MAX_FRAME), WIRE_MAX_FRAME_MIN);
	assert_int_equal(field_uint(&f, T_WINDOW), RUNNER_WINDOW);
	assert_int_equal(field_uint(&f, T_MAX_STREAMS), MAX_STREAMS);
	send_frame(cl, 1, WT_PING, 0, 0);
	expect_frame(cl, &f, 1, WT_RESULT);
}

static void test_request_before_hello(void **state)
{
	struct client *cl = *state;

	send_frame(cl, 1, WT_PING, 0, 0);
	expect_error(cl, 0, E_HELLO_REQUIRED);
	expect_closed(cl);
}

static void test_hello_twice(void **state)
{
	struct client *cl = *state;
	struct frame f;

	send_hello(cl);
	expect_error(cl, 0, E_BAD_REQUEST);
	send_frame(cl, 1, WT_PING, 0, 0); /* still served */
	expect_frame(cl, &f, 1, WT_RESULT);
}

/* ---- runner -> client: DATA only within the client's credit ---- */

/* Read DATA frames of one stream until none comes; returns the bytes,
 * checking offsets are contiguous from *next. */
static size_t take_data(struct client *cl, uint32_t stream, uint64_t *next,
			bool *fin)
{
	struct frame f;
	const uint8_t *d;
	uint64_t off;
	uint8_t ch;
	size_t n, total = 0;

	while (peek_frame(cl, &f) && f.h.type == WT_DATA) {
		consume_frame(cl, &f);
		assert_int_equal(f.h.stream, stream);
		assert_int_equal(
		    wire_data_decode(f.p, f.h.len, &ch, &off, &d, &n), 0);
		assert_int_equal(ch, WCH_STDOUT);
		assert_true(off == *next);
		*next += n;
		total += n;
		*fin = f.h.flags & WF_FIN;
	}
	return total;
}

static void test_source_respects_window(void **state)
{
	struct client *cl = *state;
	uint64_t next = 0;
	struct frame f;
	bool fin = false;

	send_frame(cl, 3, WT_PROC_ATTACH, T_LENGTH, 10000);
	assert_int_equal(take_data(cl, 3, &next, &fin), CLIENT_WINDOW);
	assert_false(fin);
	expect_nothing(cl); /* credit spent: the source waits */

	send_window(cl, 3, 1000);
	assert_int_equal(take_data(cl, 3, &next, &fin), 1000);
	expect_nothing(cl);

	send_window(cl, 3, 100000);
	assert_int_equal(take_data(cl, 3, &next, &fin), 10000 - 5096);
	assert_true(fin);
	expect_frame(cl, &f, 3, WT_RESULT);
	assert_int_equal(field_uint(&f, T_TOTAL_BYTES), 10000);
}

static void test_window_past_max(void **state)
{
	struct client *cl = *state;
	struct out o = {.len = 0};
	uint64_t next = 0;
	struct frame f;
	bool fin;

	send_frame(cl, 3, WT_PROC_ATTACH, T_LENGTH, 1u << 20);
	assert_int_equal(take_data(cl, 3, &next, &fin), CLIENT_WINDOW);
	/* Credit 0 + (2^31-1) is the maximum; one more byte is a flow
	 * error.  Both in one write: the source cannot spend in between. */
	add_window(&o, 3, WIRE_WINDOW_MAX);
	add_window(&o, 3, 1);
	send_out(cl, &o);
	take_data(cl, 3, &next, &fin);
	expect_error(cl, 3, E_FLOW);
	send_frame(cl, 4, WT_PING, 0, 0);
	expect_frame(cl, &f, 4, WT_RESULT);
}

/* ---- client -> runner: DATA charged against the runner's grant ---- */

static void test_upload_gets_credit_back(void **state)
{
	struct client *cl = *state;
	uint32_t granted = 0;
	struct frame f;

	send_frame(cl, 5, WT_WRITE, 0, 0);
	send_data(cl, 5, 0, RUNNER_WINDOW / 2, 0);
	send_data(cl, 5, RUNNER_WINDOW / 2, RUNNER_WINDOW / 2, 0);
	/* The whole window is spent; the sink consumed it and gave it back. */
	while (recv_frame(cl, &f) && f.h.type == WT_WINDOW) {
		assert_int_equal(f.h.stream, 5);
		granted += wire_get32(f.p);
	}
	assert_int_equal(granted, RUNNER_WINDOW);
	send_data(cl, 5, RUNNER_WINDOW, RUNNER_WINDOW, WF_FIN);
	expect_frame(cl, &f, 5, WT_WINDOW);
	expect_frame(cl, &f, 5, WT_RESULT);
	assert_int_equal(field_uint(&f, T_SIZE), 2 * RUNNER_WINDOW);
}

static void test_upload_beyond_window(void **state)
{
	struct client *cl = *state;
	struct frame f;

	send_frame(cl, 5, WT_WRITE, 0, 0);
	send_data(cl, 5, 0, RUNNER_WINDOW + 1, 0);
	expect_error(cl, 5, E_FLOW);
	send_data(cl, 5, 0, 10, 0); /* late DATA of an ended stream: dropped */
	expect_nothing(cl);
	send_frame(cl, 6, WT_PING, 0, 0);
	expect_frame(cl, &f, 6, WT_RESULT);
}

static void test_data_to_request_without_data(void **state)
{
	struct client *cl = *state;
	uint64_t next = 0;
	bool fin;

	send_frame(cl, 3, WT_PROC_ATTACH, T_LENGTH, 1u << 20);
	take_data(cl, 3, &next, &fin);
	send_data(cl, 3, 0, 1, 0);
	expect_error(cl, 3, E_BAD_REQUEST);
}

/* ---- CANCEL ---- */

static void test_cancel(void **state)
{
	struct client *cl = *state;
	uint64_t next = 0;
	struct frame f;
	bool fin;

	send_frame(cl, 3, WT_PROC_ATTACH, T_LENGTH, 1u << 20);
	take_data(cl, 3, &next, &fin);
	send_frame(cl, 3, WT_CANCEL, 0, 0);
	expect_error(cl, 3, E_CANCELLED);
	send_frame(cl, 3, WT_CANCEL, 0, 0); /* races the end: ignored */
	send_window(cl, 3, 4096);	    /* likewise */
	expect_nothing(cl);
	send_frame(cl, 3, WT_PING, 0, 0); /* the id is free again */
	expect_frame(cl, &f, 3, WT_RESULT);
}

/* ---- stream ids and limits ---- */

static void test_stream_ids(void **state)
{
	struct client *cl = *state;
	struct frame f;

	send_frame(cl, 0, WT_PING, 0, 0);
	expect_error(cl, 0, E_BAD_REQUEST);
	send_frame(cl, 5, WT_WRITE, 0, 0);
	send_frame(cl, 5, WT_PING, 0, 0);
	expect_error(cl, 0, E_STREAM_IN_USE);
	send_frame(cl, 9, 0x7f, 0, 0);
	expect_error(cl, 9, E_UNKNOWN_TYPE);
	send_frame(cl, 9, WT_PING, 0, 0);
	expect_frame(cl, &f, 9, WT_RESULT);
}

static void test_stream_limit(void **state)
{
	struct client *cl = *state;
	struct frame f;
	uint32_t id;

	for (id = 1; id <= MAX_STREAMS; id++)
		send_frame(cl, id, WT_WRITE, 0, 0);
	expect_nothing(cl);
	send_frame(cl, 100, WT_WRITE, 0, 0);
	expect_error(cl, 100, E_LIMIT);
	send_data(cl, 1, 0, 0, WF_FIN); /* one ends: room for another */
	expect_frame(cl, &f, 1, WT_RESULT);
	send_frame(cl, 100, WT_PING, 0, 0);
	expect_frame(cl, &f, 100, WT_RESULT);
}

/* ---- errors that end the connection ---- */

static void test_frame_too_large(void **state)
{
	struct client *cl = *state;
	uint8_t h[WIRE_HDR_SIZE];
	struct wire_hdr hdr = {WIRE_MAX_FRAME_MIN + 1, 1, WT_WRITE, 0};

	wire_hdr_encode(h, &hdr);
	send_raw(cl, h, sizeof(h)); /* the header alone is enough */
	expect_error(cl, 0, E_TOO_LARGE);
	expect_closed(cl);
}

static void test_length_below_minimum(void **state)
{
	struct client *cl = *state;

	send_raw(cl, "\x00\x00\x00\x05\x00\x00\x00\x01\x10\x00", 10);
	expect_error(cl, 0, E_BAD_FRAME);
	expect_closed(cl);
}

static void test_truncated_fields(void **state)
{
	struct client *cl = *state;
	struct frame f;

	/* PING with one field that claims 9 bytes and has 2 */
	send_raw(cl,
		 "\x00\x00\x00\x0e\x00\x00\x00\x01\x10\x00"
		 "\x01\x14\x00\x00\x00\x09"
		 "ab",
		 18);
	expect_error(cl, 1, E_BAD_REQUEST);
	send_frame(cl, 2, WT_PING, 0, 0); /* a bad request fails only itself */
	expect_frame(cl, &f, 2, WT_RESULT);
}

/* Half a frame, then the client is gone: nothing leaks (teardown). */
static void test_disconnect_mid_frame(void **state)
{
	struct client *cl = *state;

	send_frame(cl, 5, WT_WRITE, 0, 0);
	send_raw(cl, "\x00\x00\x01\x00\x00\x00\x00\x05\x02", 9);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_hello_exchange, client_setup,
					    client_teardown),
	    cmocka_unit_test_setup_teardown(test_request_before_hello,
					    client_setup, client_teardown),
#define T(fn) cmocka_unit_test_setup_teardown(fn, hello_setup, client_teardown)
	    T(test_hello_twice),
	    T(test_source_respects_window),
	    T(test_window_past_max),
	    T(test_upload_gets_credit_back),
	    T(test_upload_beyond_window),
	    T(test_data_to_request_without_data),
	    T(test_cancel),
	    T(test_stream_ids),
	    T(test_stream_limit),
	    T(test_frame_too_large),
	    T(test_length_below_minimum),
	    T(test_truncated_fields),
	    T(test_disconnect_mid_frame),
#undef T
	};

	/* As in the runner: a vanished peer is EPIPE, not death. */
	signal(SIGPIPE, SIG_IGN);
	log_set_level(-1);
	return cmocka_run_group_tests_name("conn_flow", tests, NULL, NULL);
}
