/* fs_read.c - READ: a regular file's bytes (a byte range or a line range)
 * as DATA on channel 1, then a RESULT with size, mode, mtime, truncated
 * and, for line ranges, the file's total line count.
 *
 * pread(2) goes straight into the connection's output buffer
 * (stream_data_buf): no copy in the runner for byte ranges, one memmove
 * inside the frame for line ranges.  A regular file never reports
 * readiness to epoll, so the pace is the client's credit: when it is used
 * up we wait for ops->writable.  Work that sends nothing (skipping to
 * line A, counting the lines after B) is cut into slices on a zero timer,
 * so a huge file never holds the loop for long.
 *
 * The common case — a small file that fits the window — completes inside
 * the request handler with its state on the stack: no allocation.
 */
#include "fs_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define READ_SLICE  (8u << 20) /* bytes read per turn of the loop */
#define COUNT_CHUNK 65536
#define FMT_CHUNK   16384 /* formatted: input bytes per frame */
#define FMT_SLACK   48	  /* room kept for a prefix or a cut mark */

struct fs_read {
	struct stream *s;
	struct loop *loop;
	int fd;
	uint64_t pos, end;  /* file offsets: next to read, stop before */
	uint64_t sent;	    /* DATA bytes, the offset of the next frame */
	uint64_t max_bytes; /* 0: no cap */
	bool lines;
	bool numbers;	   /* LINE_NUMBERS: "%6u\t" before each line */
	bool binary;	   /* BINARY asked and a NUL seen: nothing sent */
	uint32_t max_line; /* bytes of a line sent, 0 = all */
	uint64_t col, cut; /* of the line being formatted */
	bool truncated;
	struct line_slice ls;
	struct timer timer;
};

/* Outcomes of a turn; apart from read_chunk's 0 (end) and 1 (go on). */
enum read_state { READ_DONE = 10, READ_WAIT_WRITABLE, READ_WAIT_TIMER };

/* Small: it always goes, and ends the stream. */
static void read_result(struct fs_read *r, struct stream *s)
{
	uint8_t buf[128];
	struct wire_buf b;
	struct stat st;

	if (fstat(r->fd, &st) < 0) {
		stream_error_errno(s, errno, "read: fstat");
		return;
	}
	wb_init(&b, buf, sizeof(buf));
	wb_u64(&b, T_SIZE, (uint64_t)st.st_size);
	wb_u32(&b, T_FILE_MODE, st.st_mode);
	wb_i64(&b, T_MTIME_NS, fs_mtime_ns(&st));
	wb_u8(&b, T_TRUNCATED, r->truncated);
	wb_u64(&b, T_TOTAL_BYTES, r->sent);
	if (r->lines)
		wb_u64(&b, T_TOTAL_LINES, line_slice_total(&r->ls));
	if (r->binary)
		wb_u8(&b, T_BINARY, 1);
	stream_result(s, &b);
}

/* After line B: count the rest without sending.  Returns READ_DONE at
 * EOF, READ_WAIT_TIMER when the slice is used up, or -errno. */
static int read_count_rest(struct fs_read *r)
{
	uint8_t buf[COUNT_CHUNK];
	uint64_t budget = READ_SLICE;
	size_t start;
	ssize_t n;

	while (budget) {
		n = pread(r->fd, buf, sizeof(buf), (off_t)r->pos);
		if (n < 0)
			return errno == EINTR ? READ_WAIT_TIMER : -errno;
		if (n == 0)
			return READ_DONE;
		line_slice_feed(&r->ls, buf, (size_t)n, &start);
		r->pos += (uint64_t)n;
		budget -= (uint64_t)n < budget ? (uint64_t)n : budget;
	}
	return READ_WAIT_TIMER;
}

static bool eof_without_credit(struct fs_read *r)
{
	uint8_t b;

	return r->s->send_credit <= 0 &&
	       pread(r->fd, &b, 1, (off_t)r->pos) == 0;
}

/* Send one chunk.  Returns 1 to go on, 0 at the end of what is wanted,
 * READ_WAIT_* to suspend, or -errno. */
static int read_chunk(struct fs_read *r, uint64_t *budget)
{
	size_t room = stream_data_room(r->s), want, len, start = 0;
	uint8_t *buf;
	ssize_t n;

	if (r->pos >= r->end)
		return 0;
	/* Out of credit exactly at EOF: the client granted what the file
	 * holds and waits for the RESULT, so EOF must not need credit. */
	if (!room && eof_without_credit(r))
		return 0;
	if (!room)
		return READ_WAIT_WRITABLE;
	if (!*budget)
		return READ_WAIT_TIMER;
	want = room;
	if (!r->lines && r->max_bytes && r->max_bytes - r->sent < want)
		want = (size_t)(r->max_bytes - r->sent);
	if (r->end - r->pos < want)
		want = (size_t)(r->end - r->pos);
	buf = stream_data_buf(r->s);
	n = pread(r->fd, buf, want, (off_t)r->pos);
	if (n < 0)
		return errno == EINTR ? 1 : -errno;
	if (n == 0)
		return 0;
	r->pos += (uint64_t)n;
	*budget -= (uint64_t)n < *budget ? (uint64_t)n : *budget;
	len = (size_t)n;
	if (r->lines) {
		len = line_slice_feed(&r->ls, buf, len, &start);
		if (r->max_bytes && r->max_bytes - r->sent < len) {
			len = (size_t)(r->max_bytes - r->sent);
			r->truncated = true;
		}
		if (start && len)
			memmove(buf, buf + start, len);
	}
	if (len) {
		stream_data_commit(r->s, WCH_STDOUT, r->sent, len, 0);
		r->sent += len;
	}
	return 1;
}

/* LINE_NUMBERS or MAX_LINE: the wanted lines, reformatted into the
 * frame; input is consumed only as far as its output fits. */
static size_t fmt_lines(struct fs_read *r, const uint8_t *in, size_t n,
			uint8_t *out, size_t room, size_t *used)
{
	struct line_slice *ls = &r->ls;
	size_t i = 0, o = 0, seg, take, keep;
	const uint8_t *nl;

	while (i < n && !line_slice_done(ls) && o + FMT_SLACK <= room) {
		nl = memchr(in + i, '\n', n - i);
		take = seg = (nl ? (size_t)(nl - in) : n) - i;
		if (ls->line >= ls->from) {
			if (!ls->mid_line && r->numbers)
				o += (size_t)sprintf(
				    (char *)out + o, "%6llu\t",
				    (unsigned long long)ls->line);
			keep = seg;
			if (r->max_line && keep + r->col > r->max_line)
				keep = r->col < r->max_line
					   ? (size_t)(r->max_line - r->col)
					   : 0;
			if (keep > room - FMT_SLACK - o)
				take = keep = room - FMT_SLACK - o;
			memcpy(out + o, in + i, keep);
			o += keep;
			r->col += keep;
			r->cut += take - keep;
		}
		i += take;
		ls->mid_line = true;
		if (take < seg || !nl)
			break;
		if (r->cut && ls->line >= ls->from)
			o += (size_t)sprintf((char *)out + o,
					     " [%llu bytes cut]",
					     (unsigned long long)r->cut);
		if (ls->line++ >= ls->from)
			out[o++] = '\n';
		ls->mid_line = false;
		r->col = r->cut = 0;
		i++;
	}
	*used = i;
	return o;
}

static int read_chunk_fmt(struct fs_read *r, uint64_t *budget)
{
	size_t room = stream_data_room(r->s), len, used;
	uint8_t in[FMT_CHUNK];
	ssize_t n;

	if (line_slice_done(&r->ls) || r->pos >= r->end)
		return 0;
	if (room < 2 * FMT_SLACK)
		return READ_WAIT_WRITABLE;
	if (!*budget)
		return READ_WAIT_TIMER;
	n = pread(r->fd, in, sizeof(in), (off_t)r->pos);
	if (n < 0)
		return errno == EINTR ? 1 : -errno;
	if (n == 0)
		return 0;
	len = fmt_lines(r, in, (size_t)n, stream_data_buf(r->s), room, &used);
	r->pos += used;
	*budget -= used < *budget ? used : *budget;
	if (r->max_bytes && r->max_bytes - r->sent < len) {
		len = (size_t)(r->max_bytes - r->sent);
		r->truncated = true;
		r->end = r->pos;
	}
	if (len) {
		stream_data_commit(r->s, WCH_STDOUT, r->sent, len, 0);
		r->sent += len;
	}
	return 1;
}

/* Is anything left that the cap stopped us from sending? */
static bool read_capped(struct fs_read *r)
{
	struct stat st;

	if (r->lines)
		return r->truncated || !line_slice_done(&r->ls);
	return fstat(r->fd, &st) == 0 && r->pos < (uint64_t)st.st_size &&
	       r->pos < r->end;
}

static int read_run(struct fs_read *r)
{
	uint64_t budget = READ_SLICE;
	int k;

	for (;;) {
		if (r->max_bytes && r->sent >= r->max_bytes) {
			r->truncated = read_capped(r);
			r->end = r->pos; /* nothing more to send */
		}
		if (r->lines && line_slice_done(&r->ls))
			r->end = r->pos;
		k = r->numbers || r->max_line ? read_chunk_fmt(r, &budget)
					      : read_chunk(r, &budget);
		if (k == 1)
			continue;
		if (k != 0)
			return k;
		break;
	}
	if (r->lines && (k = read_count_rest(r)) != READ_DONE)
		return k;
	read_result(r, r->s);
	return READ_DONE;
}

static void read_free(struct fs_read *r)
{
	timer_cancel(r->loop, &r->timer);
	close(r->fd);
	free(r);
}

static void read_continue(struct fs_read *r);

static void read_timer(struct timer *t)
{
	read_continue(container_of(t, struct fs_read, timer));
}

static void read_writable(struct stream *s)
{
	read_continue(s->owner);
}

/* CANCEL needs no op: conn_on_cancel's default detaches (frees) and
 * answers E_CANCELLED. */
static void read_detach(struct stream *s)
{
	read_free(s->owner);
}

static const struct stream_ops read_ops = {
    .writable = read_writable,
    .detach = read_detach,
};

/* Run r; returns true when it finished (the stream is answered). */
static bool read_step(struct fs_read *r)
{
	int k = read_run(r);

	if (k < 0) {
		stream_error(r->s, wire_err_from_errno(-k), -k, "read: %s",
			     strerror(-k));
		return true;
	}
	if (k == READ_DONE)
		return true;
	if (k == READ_WAIT_WRITABLE)
		stream_want_writable(r->s);
	else
		timer_arm(r->loop, &r->timer, 0, read_timer);
	return false;
}

static void read_continue(struct fs_read *r)
{
	if (read_step(r))
		read_free(r);
}

/* Parse the range fields into r; -1 when s was failed. */
static int read_parse(struct stream *s, const uint8_t *p, size_t n,
		      struct fs_read *r)
{
	uint64_t off, len, from, to, numbers, max_line;
	struct wire_field f;

	if (req_uint(s, p, n, T_OFFSET, 0, 0, REQ_ANY, &off) < 0 ||
	    req_uint(s, p, n, T_LENGTH, UINT64_MAX, 0, REQ_ANY, &len) < 0 ||
	    req_uint(s, p, n, T_LINE_FROM, 0, 0, REQ_ANY, &from) < 0 ||
	    req_uint(s, p, n, T_LINE_TO, 0, 0, REQ_ANY, &to) < 0 ||
	    req_uint(s, p, n, T_MAX_BYTES, 0, 0, REQ_ANY, &r->max_bytes) < 0 ||
	    req_uint(s, p, n, T_LINE_NUMBERS, 0, 0, REQ_ANY, &numbers) < 0 ||
	    req_uint(s, p, n, T_MAX_LINE, 0, 0, UINT32_MAX, &max_line) < 0)
		return -1;
	r->numbers = numbers != 0;
	r->max_line = (uint32_t)max_line;
	/* formatting works on lines: a line range, the whole file by default */
	r->lines = (wire_find(p, n, T_LINE_FROM, &f), f.val) ||
		   (wire_find(p, n, T_LINE_TO, &f), f.val) || numbers ||
		   max_line;
	if (r->lines && (off || len != UINT64_MAX)) {
		stream_error(
		    s, E_BAD_REQUEST, 0,
		    "a byte range and a line range exclude each other");
		return -1;
	}
	if (r->lines && to && to < (from ? from : 1)) {
		stream_error(s, E_BAD_REQUEST, 0,
			     "LINE_TO %llu is before LINE_FROM %llu",
			     (unsigned long long)to, (unsigned long long)from);
		return -1;
	}
	line_slice_init(&r->ls, from, to);
	r->pos = off;
	r->end = len > UINT64_MAX - off ? UINT64_MAX : off + len;
	return 0;
}

/* BINARY: a NUL in the first 8 KiB means nothing is sent but the
 * RESULT, which says BINARY 1. */
static int read_binary(struct stream *s, const uint8_t *p, size_t n,
		       struct fs_read *r)
{
	uint8_t head[8192];
	uint64_t want;
	ssize_t k;

	if (req_uint(s, p, n, T_BINARY, 0, 0, REQ_ANY, &want) < 0)
		return -1;
	k = want ? pread(r->fd, head, sizeof(head), 0) : 0;
	if (k > 0 && memchr(head, 0, (size_t)k)) {
		r->binary = true;
		r->lines = false;
		r->end = r->pos;
	}
	return 0;
}

void fs_req_read(struct stream *s, const uint8_t *p, size_t n)
{
	char path[FS_PATH_MAX];
	struct fs_read r0 = {0}, *r;

	if (fs_req_path(s, p, n, T_PATH, path) < 0 ||
	    read_parse(s, p, n, &r0) < 0)
		return;
	r0.fd = fs_open_file(s, "read", path, 0, false);
	if (r0.fd < 0)
		return;
	r0.s = s;
	r0.loop = &stream_runner(s)->loop;
	if (read_binary(s, p, n, &r0) < 0) {
		close(r0.fd);
		return;
	}
	if (read_step(&r0)) {
		close(r0.fd);
		return;
	}
	/* It has to wait: move the state off the stack.  Nothing points
	 * into r0 yet but the armed timer, which is re-armed on the copy. */
	timer_cancel(r0.loop, &r0.timer);
	r = malloc(sizeof(*r));
	if (!r) {
		close(r0.fd);
		stream_error_errno(s, ENOMEM, "read");
		return;
	}
	*r = r0;
	s->ops = &read_ops;
	s->owner = r;
	if (!s->want_writable)
		timer_arm(r->loop, &r->timer, 0, read_timer);
}
