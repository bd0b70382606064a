/* link: runner/shell_output.c */
/* test_shell_output.c - the marker scanner, the plain filter and the
 * head/tail collector, fed every split of their input. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "shell_output.h"

#define TOKEN "0123456789abcdef"
#define MARK  "\033]633;D;" TOKEN ";"

struct sink {
	uint8_t buf[65536];
	size_t len;
};

static void sink_add(void *arg, const uint8_t *p, size_t n)
{
	struct sink *s = arg;

	assert_true(s->len + n <= sizeof(s->buf));
	memcpy(s->buf + s->len, p, n);
	s->len += n;
}

/* Feed in in pieces of size step; returns bytes consumed in all. */
static size_t scan_split(struct marker_scan *m, const char *in, size_t n,
			 size_t step, struct sink *out)
{
	size_t off = 0, used = 0, k, c;

	while (off < n && !m->found) {
		k = n - off < step ? n - off : step;
		c = marker_feed(m, (const uint8_t *)in + off, k, sink_add, out);
		used += c;
		off += k;
	}
	return used;
}

static void check_scan(const char *in, size_t n, const char *want_out,
		       size_t want_len, long status, size_t consumed)
{
	struct marker_scan m;
	struct sink out;
	size_t step, used;

	for (step = 1; step <= n; step++) {
		memset(&out, 0, sizeof(out));
		marker_init(&m, TOKEN);
		used = scan_split(&m, in, n, step, &out);
		if (status < 0) {
			assert_false(m.found);
			marker_flush(&m, sink_add, &out);
		} else {
			assert_true(m.found);
			assert_int_equal(m.status, status);
			assert_int_equal(used, consumed);
		}
		assert_int_equal(out.len, want_len);
		assert_memory_equal(out.buf, want_out, want_len);
	}
}

static void test_marker_plain(void **state)
{
	static const char in[] = "hello\n" MARK "0\007after";
	(void)state;
	check_scan(in, sizeof(in) - 1, "hello\n", 6, 0, sizeof(in) - 1 - 5);
}

static void test_marker_status_and_escapes_before(void **state)
{
	static const char in[] =
	    "\033[31mred\033]633;D;x\007\033" MARK "130\007";
	static const char want[] = "\033[31mred\033]633;D;x\007\033";
	(void)state;
	check_scan(in, sizeof(in) - 1, want, sizeof(want) - 1, 130,
		   sizeof(in) - 1);
}

static void test_marker_wrong_token_is_output(void **state)
{
	static const char in[] = "\033]633;D;0123456789abcdeX;0\007"
				 "\033]633;D;" TOKEN ";\007" /* no digits */
				 "\033]633;D;" TOKEN ";12x\007";
	(void)state;
	check_scan(in, sizeof(in) - 1, in, sizeof(in) - 1, -1, 0);
}

static void test_marker_prefix_at_end_is_released(void **state)
{
	static const char in[] = "data\033]633;D;0123";
	(void)state;
	check_scan(in, sizeof(in) - 1, in, sizeof(in) - 1, -1, 0);
}

static void test_marker_all_bytes(void **state)
{
	char in[600];
	size_t i, n = 0;
	(void)state;
	for (i = 1; i < 256; i++)
		in[n++] = (char)i;
	for (i = 1; i < 256; i++)
		in[n++] = (char)(256 - i);
	memcpy(in + n, MARK "7\007", sizeof(MARK) + 1);
	check_scan(in, n + sizeof(MARK) + 1, in, n, 7, n + sizeof(MARK) + 1);
}

static void plain_check(const char *in, const char *want)
{
	struct plain_filter *f = malloc(sizeof(*f));
	struct sink out;
	size_t n = strlen(in), step, off, k;

	assert_non_null(f);
	for (step = 1; step <= n; step++) {
		memset(&out, 0, sizeof(out));
		plain_init(f);
		for (off = 0; off < n; off += k) {
			k = n - off < step ? n - off : step;
			plain_feed(f, (const uint8_t *)in + off, k, sink_add,
				   &out);
		}
		plain_flush(f, sink_add, &out);
		assert_int_equal(out.len, strlen(want));
		assert_memory_equal(out.buf, want, out.len);
	}
	free(f);
}

/* Every split of in through errname_feed gives want. */
static void errname_check(const char *in, const char *want)
{
	struct errname e;
	struct sink out;
	size_t n = strlen(in), step, off, k;

	for (step = 1; step <= n; step++) {
		memset(&out, 0, sizeof(out));
		e.held = 0;
		for (off = 0; off < n; off += k) {
			k = n - off < step ? n - off : step;
			errname_feed(&e, (const uint8_t *)in + off, k, sink_add,
				     &out);
		}
		errname_flush(&e, sink_add, &out);
		assert_int_equal(out.len, strlen(want));
		assert_memory_equal(out.buf, want, out.len);
	}
}

static void test_errname(void **state)
{
	(void)state;
	errname_check("/proc/self/fd/62: line 1: x: command not found\n",
		      "bash: line 1: x: command not found\n");
	errname_check(
	    "a/proc/self/fd/62: line 2: y\n/proc/self/fd/62: line 3: z",
	    "abash: line 2: y\nbash: line 3: z");
	errname_check("/proc/self/fd/62: linx /proc/self/fd/6 /usr/bin /",
		      "/proc/self/fd/62: linx /proc/self/fd/6 /usr/bin /");
	errname_check("//proc/self/fd/62: line 1:", "/bash: line 1:");
	errname_check("/proc/self/fd/62: line", "/proc/self/fd/62: line");
	errname_check("", "");
	errname_check("/proc/proc/self/fd/62: line 1", "/procbash: line 1");
	errname_check("/proc/self/fd/6/proc/self/fd/62: line ",
		      "/proc/self/fd/6bash: line ");
}

static void test_plain(void **state)
{
	(void)state;
	plain_check("plain text\n", "plain text\n");
	plain_check("10%\r50%\r100%\n", "100%\n");
	plain_check("abcdef\rXY\n", "XYcdef\n");
	plain_check("line\r\n", "line\n");
	plain_check("ab\bc\n", "ac\n");
	plain_check("\033[1;31mred\033[0m \033]0;title\007t\033]8;;u\033\\l\n",
		    "red tl\n");
	plain_check("\033(Bx\033=y\033Pdcs\033\\z", "xyz");
	plain_check("bell\007\x0e\x0f\ttab\n", "bell\ttab\n");
	plain_check("caf\xc3\xa9\n", "caf\xc3\xa9\n");
	plain_check("no newline\rNO", "NO newline");
	/* erase in line: the redraw idiom of progress bars */
	plain_check("hello world\r\033[Kbye", "bye");
	plain_check("hello world\r\033[0Kbye\n", "bye\n");
	plain_check("hello world\r\033[2Kbye\n", "bye\n");
	plain_check("abc\033[1Kd\n", "abcd\n");
	/* a pager or editor on the alternate screen leaves nothing */
	plain_check("before\n\033[?1049h\033[Hscreen\ndump\033[?1049lafter\n",
		    "before\nafter\n");
	plain_check("a\033[?47hx\033[?47lb\033[?1047hy\nz\033[?1047lc\n",
		    "abc\n");
	plain_check("\033[1049hkept\n", "kept\n"); /* not private: no mode */
}

static void test_plain_long_line(void **state)
{
	struct plain_filter *f = malloc(sizeof(*f));
	static uint8_t in[PLAIN_LINE_MAX * 3];
	struct sink *out = calloc(1, sizeof(*out));
	(void)state;
	assert_non_null(f);
	assert_non_null(out);
	memset(in, 'a', sizeof(in));
	plain_init(f);
	plain_feed(f, in, sizeof(in), sink_add, out);
	plain_flush(f, sink_add, out);
	assert_int_equal(out->len, sizeof(in));
	free(out);
	free(f);
}

static size_t collect(size_t limit, const uint8_t *p, size_t n, size_t step,
		      uint8_t *out, bool utf8, bool *trunc)
{
	struct collector c;
	size_t off, k, len;

	collector_init(&c, limit);
	for (off = 0; off < n; off += k) {
		k = n - off < step ? n - off : step;
		collector_add(&c, p + off, k);
	}
	assert_int_equal(c.total, n);
	*trunc = collector_truncated(&c);
	len = collector_emit(&c, out, utf8);
	assert_true(len <= collector_size(&c));
	collector_free(&c);
	return len;
}

static void test_collector_fits(void **state)
{
	uint8_t in[1000], out[2000];
	bool trunc;
	size_t i, len;
	(void)state;
	for (i = 0; i < sizeof(in); i++)
		in[i] = (uint8_t)i;
	for (i = 1; i < 300; i += 37) {
		len = collect(1000, in, sizeof(in), i, out, false, &trunc);
		assert_false(trunc);
		assert_int_equal(len, sizeof(in));
		assert_memory_equal(out, in, sizeof(in));
	}
	len = collect(1000, in, 0, 1, out, false, &trunc);
	assert_int_equal(len, 0);
}

static void test_collector_head_tail(void **state)
{
	uint8_t in[10000], out[2000];
	char mark[64];
	bool trunc;
	size_t i, len, step;
	(void)state;
	for (i = 0; i < sizeof(in); i++)
		in[i] = (uint8_t)('a' + i % 26);
	for (step = 1; step < 5000; step = step * 3 + 1) {
		len = collect(1000, in, sizeof(in), step, out, false, &trunc);
		assert_true(trunc);
		assert_memory_equal(out, in, 500);
		snprintf(mark, sizeof(mark),
			 "\n\xe2\x80\xa6 %d bytes omitted "
			 "\xe2\x80\xa6\n",
			 9000);
		assert_memory_equal(out + 500, mark, strlen(mark));
		assert_int_equal(len, 1000 + strlen(mark));
		assert_memory_equal(out + 500 + strlen(mark),
				    in + sizeof(in) - 500, 500);
	}
}

static void test_collector_utf8_cut(void **state)
{
	/* "é" is 2 bytes; 333 of them: every cut splits one. */
	uint8_t in[666], out[1000];
	bool trunc;
	size_t i, len;
	(void)state;
	for (i = 0; i < sizeof(in); i += 2) {
		in[i] = 0xc3;
		in[i + 1] = 0xa9;
	}
	len = collect(101, in, sizeof(in), 7, out, true, &trunc);
	assert_true(trunc);
	assert_true(len > 0);
	assert_int_equal(out[0], 0xc3);
	/* Each side holds whole characters: head ends before a lead byte
	 * that lost its continuation, tail starts at a lead byte. */
	for (i = 0; i < len; i++)
		if (out[i] == 0xc3)
			assert_int_equal(out[i + 1], 0xa9);
	assert_int_equal(out[len - 1], 0xa9);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_marker_plain),
	    cmocka_unit_test(test_marker_status_and_escapes_before),
	    cmocka_unit_test(test_marker_wrong_token_is_output),
	    cmocka_unit_test(test_marker_prefix_at_end_is_released),
	    cmocka_unit_test(test_marker_all_bytes),
	    cmocka_unit_test(test_plain),
	    cmocka_unit_test(test_errname),
	    cmocka_unit_test(test_plain_long_line),
	    cmocka_unit_test(test_collector_fits),
	    cmocka_unit_test(test_collector_head_tail),
	    cmocka_unit_test(test_collector_utf8_cut),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
