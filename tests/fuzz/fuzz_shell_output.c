/* link: runner/shell_output.c */
/* fuzz_shell_output.c - libFuzzer target for the shell output path: the
 * end-marker scanner, the plain-text filter and the head/tail collector
 * (runner/shell_output.c), fed the input in chunks of a size the input
 * chooses.
 *
 * Input: byte 0 picks the chunk size (1 + byte), byte 1 the collector
 * limit (byte * 37), the rest is what the PTY delivered.
 *
 * Each is checked against a reference written from shell_output.h:
 *  - marker: the earliest ESC ] 633 ; D ; TOKEN ; DIGITS{1,10} BEL in the
 *    input ends the command; the scanner's output is exactly the bytes
 *    before it, and it consumes exactly through the BEL.  Without one,
 *    output plus flush is the input unchanged;
 *  - plain: no ESC and no C0 control but \t and \n ever comes out, and
 *    never more bytes than went in plus one newline per line;
 *  - collector: collector_size bounds collector_emit; below the limit the
 *    output is the input itself;
 *  - errname: the output is the input with every ERRNAME_FROM replaced
 *    by ERRNAME_TO, left to right, whatever the chunks.
 */
#include "shell_output.h"

#include <stdlib.h>
#include <string.h>

#define TOKEN "0123456789abcdef"
#define CHECK(cond)                                                            \
	do {                                                                   \
		if (!(cond))                                                   \
			__builtin_trap();                                      \
	} while (0)

struct sinkbuf {
	uint8_t *p;
	size_t len, cap;
};

static void sink(void *arg, const uint8_t *p, size_t n)
{
	struct sinkbuf *b = arg;

	CHECK(b->len + n <= b->cap);
	if (n)
		memcpy(b->p + b->len, p, n);
	b->len += n;
}

/* Reference: where the first marker starts and ends, or false. */
static bool ref_marker(const uint8_t *p, size_t n, size_t *start, size_t *end)
{
	static const char prefix[] = "\033]633;D;" TOKEN ";";
	const size_t plen = sizeof(prefix) - 1;
	size_t i, d;

	for (i = 0; i + plen < n; i++) {
		if (memcmp(p + i, prefix, plen))
			continue;
		for (d = 0; d < MARKER_STATUS_MAX && i + plen + d < n &&
			    p[i + plen + d] >= '0' && p[i + plen + d] <= '9';
		     d++)
			;
		if (d && i + plen + d < n && p[i + plen + d] == 0x07) {
			*start = i;
			*end = i + plen + d + 1;
			return true;
		}
	}
	return false;
}

static void check_marker(const uint8_t *p, size_t n, size_t chunk)
{
	struct sinkbuf out = {malloc(n + 1), 0, n};
	struct marker_scan m;
	size_t off = 0, used = 0, k, start, end;
	bool want = ref_marker(p, n, &start, &end);

	CHECK(out.p);
	marker_init(&m, TOKEN);
	while (off < n && !m.found) {
		k = n - off < chunk ? n - off : chunk;
		used = marker_feed(&m, p + off, k, sink, &out);
		CHECK(used == k || m.found);
		off += used;
	}
	CHECK(m.found == want);
	if (want) {
		CHECK(off == end);
		CHECK(out.len == start && !memcmp(out.p, p, start));
	} else {
		marker_flush(&m, sink, &out);
		CHECK(out.len == n && !memcmp(out.p, p, n));
	}
	free(out.p);
}

static void check_plain(const uint8_t *p, size_t n, size_t chunk)
{
	struct plain_filter *f = malloc(sizeof(*f));
	size_t cap = 2 * n + 1, off, k, i;
	struct sinkbuf out = {malloc(cap), 0, cap};

	CHECK(f && out.p);
	plain_init(f);
	for (off = 0; off < n; off += k) {
		k = n - off < chunk ? n - off : chunk;
		plain_feed(f, p + off, k, sink, &out);
	}
	plain_flush(f, sink, &out);
	CHECK(out.len <= n);
	for (i = 0; i < out.len; i++)
		CHECK(out.p[i] == '\t' || out.p[i] == '\n' ||
		      (out.p[i] >= 0x20 && out.p[i] != 0x7f));
	free(out.p);
	free(f);
}

static void check_collector(const uint8_t *p, size_t n, size_t chunk,
			    size_t limit)
{
	struct collector c;
	size_t off, k, size, got;
	uint8_t *out;
	int utf8;

	collector_init(&c, limit);
	for (off = 0; off < n; off += k) {
		k = n - off < chunk ? n - off : chunk;
		collector_add(&c, p + off, k);
	}
	CHECK(collector_truncated(&c) == (n > limit));
	size = collector_size(&c);
	for (utf8 = 0; utf8 <= 1; utf8++) {
		out = malloc(size ? size : 1);
		CHECK(out);
		got = collector_emit(&c, out, utf8);
		CHECK(got <= size);
		if (n <= limit)
			CHECK(got == n && !memcmp(out, p, n));
		free(out);
	}
	collector_free(&c);
}

/* Reference: replace every ERRNAME_FROM, scanning left to right. */
static size_t ref_errname(const uint8_t *p, size_t n, uint8_t *out)
{
	const size_t fl = sizeof(ERRNAME_FROM) - 1, tl = sizeof(ERRNAME_TO) - 1;
	size_t i = 0, o = 0;

	while (i < n) {
		if (n - i >= fl && !memcmp(p + i, ERRNAME_FROM, fl)) {
			memcpy(out + o, ERRNAME_TO, tl);
			o += tl;
			i += fl;
		} else {
			out[o++] = p[i++];
		}
	}
	return o;
}

static void check_errname(const uint8_t *p, size_t n, size_t chunk)
{
	struct sinkbuf out = {malloc(n + 1), 0, n};
	uint8_t *want = malloc(n + 1);
	struct errname e = {0};
	size_t off, k, wn;

	CHECK(out.p && want);
	for (off = 0; off < n; off += k) {
		k = n - off < chunk ? n - off : chunk;
		errname_feed(&e, p + off, k, sink, &out);
	}
	errname_flush(&e, sink, &out);
	wn = ref_errname(p, n, want);
	CHECK(out.len == wn && !memcmp(out.p, want, wn));
	free(out.p);
	free(want);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t chunk, limit;

	if (size < 2)
		return 0;
	chunk = 1 + (size_t)data[0];
	limit = (size_t)data[1] * 37;
	check_marker(data + 2, size - 2, chunk);
	check_plain(data + 2, size - 2, chunk);
	check_collector(data + 2, size - 2, chunk, limit);
	check_errname(data + 2, size - 2, chunk);
	return 0;
}
