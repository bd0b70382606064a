/* link: runner/conn.c runner/stream.c runner/loop.c runner/sysops.c
 * runner/log.c runner/req.c runner/harden_token.c tests/fuzz/stub_modules.c
 * */
/* fuzz_conn.c - libFuzzer target for the runner's real connection code:
 * framing, HELLO, dispatch, streams, credit windows, CANCEL, errors.
 *
 * Each input is one client session over a socketpair, served by conn.c
 * and stream.c through the real epoll loop; request modules are the stubs
 * in stub_modules.c (PING/INFO/STATS/SHUTDOWN are the real sysops.c).
 *
 * Input: byte 0 steers the harness, the rest is what the client sends.
 *   bit 7      prepend a valid client HELLO (so mutations reach requests)
 *   bits 0-6   write the bytes in chunks of 1 + 8*n bytes, running the
 *              loop between chunks (frames split at arbitrary points)
 * After the last chunk the client half-closes, then closes.
 *
 * Invariants, beyond ASan/UBSan/LSan:
 *  - everything the runner sends is a well-formed frame stream: headers
 *    decode within the negotiated maximum, RESULT/ERROR/EVENT/HELLO
 *    payloads are valid TLV, DATA has its prefix, WINDOW is 4 bytes, and
 *    no other type is ever sent;
 *  - the runner never sends a stream more DATA than the client allowed:
 *    bytes since the stream id's last RESULT/ERROR stay within the
 *    largest initial window any HELLO asked for plus every WINDOW the
 *    client sent for that id (an over-estimate, so the check is sound);
 *  - when the client has gone, the connection and all its streams are
 *    gone too (no leaked connection, stream or module state).
 */
#include "runner.h"
#include "conn_internal.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_FRAME     WIRE_MAX_FRAME_MIN
#define PEER_BUF      (4u << 20)
#define MAX_ROUNDS    64
#define LEDGER	      64
#define CLIENT_WINDOW 4096 /* the harness HELLO's */
#define CHECK(cond)                                                            \
	do {                                                                   \
		if (!(cond))                                                   \
			__builtin_trap();                                      \
	} while (0)

/* clang-format off */
static const uint8_t client_hello[] = {
	0x00, 0x00, 0x00, 0x18, 0, 0, 0, 0, WT_HELLO, 0,
	0x00, 0x01, 0, 0, 0, 2, 0x00, 0x01,             /* VERSION 1 */
	0x00, 0x05, 0, 0, 0, 4, 0x00, 0x00, 0x10, 0x00, /* WINDOW 4096 */
	/* keep CLIENT_WINDOW in step */
};
/* clang-format on */

static struct runner rt;
static bool trace; /* FUZZ_CONN_TRACE=1: print what the runner sends */

/* Credit per stream id, as far as the client's bytes tell. */
static struct {
	struct credit {
		uint32_t id;
		uint64_t granted; /* every WINDOW the client sent for id */
		uint64_t sent;	  /* runner DATA since id's last terminal */
	} ids[LEDGER];
	size_t n;
	uint64_t initial; /* the largest initial window asked for */
} ledger;

/* What the runner has sent and the client has not yet checked. */
static struct {
	uint8_t *buf;
	size_t len;
} peer;

static int harness_init(void)
{
	rt.cfg = (struct config){
	    .max_frame = MAX_FRAME,
	    .window = 8192,
	    .max_streams = 8,
	    .max_conns = 4,
	    .max_sessions = 1,
	    .max_procs = 1,
	    .max_command = 4096,
	    .grace_ms = 0,
	    /* Timers must never fire during an input: they would make
	     * runs depend on the machine's speed. */
	    .io_timeout_ms = 3600000,
	};
	/* As in the runner (pid1.c): a vanished peer is EPIPE, not death. */
	signal(SIGPIPE, SIG_IGN);
	trace = getenv("FUZZ_CONN_TRACE") != NULL;
	log_set_level(trace ? LOG_DEBUG : -1);
	peer.buf = malloc(PEER_BUF);
	CHECK(peer.buf);
	CHECK(loop_init(&rt.loop) == 0);
	return 0;
}

static void trace_frame(const struct wire_hdr *h, const uint8_t *p)
{
	struct wire_field f;
	uint64_t code = 0;

	if (h->type == WT_ERROR && wire_find(p, h->len, T_CODE, &f) > 0)
		wire_uint(&f, &code);
	fprintf(stderr, "<- stream %u %s flags %u len %u%s%s\n", h->stream,
		wire_type_name(h->type), h->flags, h->len,
		h->type == WT_ERROR ? " " : "",
		h->type == WT_ERROR ? wire_err_name((int)code) : "");
}

/* NULL once the ledger is full: the check is then skipped. */
static struct credit *credit_of(uint32_t id)
{
	size_t i;

	for (i = 0; i < ledger.n; i++)
		if (ledger.ids[i].id == id)
			return &ledger.ids[i];
	if (ledger.n == LEDGER)
		return NULL;
	ledger.ids[ledger.n] = (struct credit){.id = id};
	return &ledger.ids[ledger.n++];
}

/* The initial window: the first frame is the HELLO that counts, and its
 * (largest, if repeated) T_WINDOW applies; later HELLOs are refused. */
static uint64_t hello_window(const uint8_t *p, size_t len)
{
	struct wire_iter it;
	struct wire_field f;
	uint64_t v, w = 0;

	wire_iter_init(&it, p, len);
	while (wire_next(&it, &f) > 0)
		if (f.tag == T_WINDOW && wire_uint(&f, &v) == 0 && v > w)
			w = v;
	return w ? w : WIRE_WINDOW_DEFAULT;
}

/* Walk the frames the client will send and note every grant. */
static void ledger_client(const uint8_t *p, size_t n, bool harness_hello)
{
	struct wire_hdr h;
	struct credit *c;
	bool first = !harness_hello;

	ledger.n = 0;
	ledger.initial = harness_hello ? CLIENT_WINDOW : WIRE_WINDOW_DEFAULT;
	while (wire_hdr_decode(p, n, MAX_FRAME, &h) == 0 &&
	       n - WIRE_HDR_SIZE >= h.len) {
		const uint8_t *pay = p + WIRE_HDR_SIZE;

		if (first && h.type == WT_HELLO)
			ledger.initial = hello_window(pay, h.len);
		if (h.type == WT_WINDOW && h.len == 4 &&
		    (c = credit_of(h.stream)))
			c->granted += wire_get32(pay);
		first = false;
		p += WIRE_HDR_SIZE + h.len;
		n -= WIRE_HDR_SIZE + h.len;
	}
}

static void ledger_runner(const struct wire_hdr *h)
{
	struct credit *c = credit_of(h->stream);

	if (!c)
		return;
	if (h->type == WT_RESULT || h->type == WT_ERROR) {
		c->sent = 0;
	} else if (h->type == WT_DATA) {
		c->sent += h->len - WIRE_DATA_PREFIX;
		CHECK(c->sent <= ledger.initial + c->granted);
	}
}

static void check_frame(const struct wire_hdr *h, const uint8_t *p)
{
	if (trace)
		trace_frame(h, p);
	switch (h->type) {
	case WT_HELLO:
	case WT_RESULT:
	case WT_ERROR:
	case WT_EVENT: CHECK(wire_validate(p, h->len) == 0); break;
	case WT_DATA: CHECK(h->len >= WIRE_DATA_PREFIX); break;
	case WT_WINDOW: CHECK(h->len == 4); break;
	default: CHECK(!"the runner sent a frame type it must not send");
	}
	ledger_runner(h);
}

/* Read what the runner sent and check every complete frame. */
static void drain(int fd)
{
	struct wire_hdr h;
	size_t pos = 0;
	ssize_t n;

	while ((n = read(fd, peer.buf + peer.len, PEER_BUF - peer.len)) > 0) {
		peer.len += (size_t)n;
		while (wire_hdr_decode(peer.buf + pos, peer.len - pos,
				       MAX_FRAME, &h) == 0 &&
		       peer.len - pos >= WIRE_HDR_SIZE + h.len) {
			check_frame(&h, peer.buf + pos + WIRE_HDR_SIZE);
			pos += WIRE_HDR_SIZE + h.len;
		}
		/* Anything else than a frame in progress is garbage. */
		CHECK(peer.len - pos < WIRE_HDR_SIZE ||
		      wire_hdr_decode(peer.buf + pos, peer.len - pos, MAX_FRAME,
				      &h) == 0);
		memmove(peer.buf, peer.buf + pos, peer.len - pos);
		peer.len -= pos;
		pos = 0;
	}
}

/* Serve until the loop is idle, as runner_serve() does. */
static void serve(int fd)
{
	int round;

	for (round = 0; round < MAX_ROUNDS; round++) {
		conn_flush_all(&rt);
		drain(fd);
		if (loop_run_once(&rt.loop, 0) <= 0)
			break;
	}
	drain(fd);
}

static void send_all(int fd, const uint8_t *p, size_t n, size_t chunk)
{
	size_t off = 0;
	ssize_t w;

	while (off < n) {
		w = write(fd, p + off, n - off < chunk ? n - off : chunk);
		if (w < 0) {
			/* EAGAIN: the runner stopped reading (its output is
			 * full); EPIPE/ECONNRESET: it closed on us. */
			if (errno != EAGAIN || !rt.nconns)
				return;
			serve(fd);
			continue;
		}
		off += (size_t)w;
		serve(fd);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int ready = -1;
	size_t chunk;
	int sv[2];

	if (ready < 0)
		ready = harness_init();
	if (size < 1)
		return 0;
	chunk = 1 + 8 * (size_t)(data[0] & 0x7f);
	ledger_client(data + 1, size - 1, data[0] & 0x80);
	rt.shutting_down = false;
	peer.len = 0;
	CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0,
			 sv) == 0);
	CHECK(conn_open(&rt, sv[0], sv[0], "fuzz", false) == 0);
	if (data[0] & 0x80)
		send_all(sv[1], client_hello, sizeof(client_hello), chunk);
	send_all(sv[1], data + 1, size - 1, chunk);
	shutdown(sv[1], SHUT_WR);
	serve(sv[1]);
	close(sv[1]);
	serve(-1);
	/* The client is gone: so must be the connection and its streams. */
	CHECK(rt.nconns == 0 && rt.conns == NULL);
	CHECK(rt.nstreams == 0);
	return 0;
}
