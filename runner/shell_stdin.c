/* shell_stdin.c - stdin for the running command: the exec stream's DATA
 * and SHELL_STDIN queued, and written as the PTY takes it. */
#include "shell_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void grant_owed(struct session *ss, size_t written)
{
	size_t g = written < ss->in_owed ? written : (size_t)ss->in_owed;

	ss->in_owed -= g;
	if (g && ss->ex.s)
		stream_grant(ss->ex.s, (uint32_t)g);
}

void stdin_flush(struct session *ss)
{
	ssize_t w;

	while (ss->in_len && ss->ptm >= 0) {
		w = write(ss->ptm, ss->in_q + ss->in_head, ss->in_len);
		if (w < 0) {
			if (errno == EAGAIN || errno == EINTR)
				break;
			/* The terminal is going away: the bytes have no reader.
			 */
			grant_owed(ss, ss->in_len);
			ss->in_len = 0;
			break;
		}
		ss->in_head += (size_t)w;
		ss->in_len -= (size_t)w;
		grant_owed(ss, (size_t)w);
	}
	if (!ss->in_len)
		ss->in_head = 0;
}

static int in_reserve(struct session *ss, size_t n)
{
	size_t need = ss->in_len + n, cap = ss->in_cap ? ss->in_cap : 4096;
	uint8_t *q;

	if (ss->in_head) {
		memmove(ss->in_q, ss->in_q + ss->in_head, ss->in_len);
		ss->in_head = 0;
	}
	if (need <= ss->in_cap)
		return 0;
	while (cap < need)
		cap *= 2;
	q = realloc(ss->in_q, cap);
	if (!q)
		return -ENOMEM;
	ss->in_q = q;
	ss->in_cap = cap;
	return 0;
}

/* Queue stdin for the PTY.  ^D ends input in canonical mode; after a
 * partial line the first ^D only pushes the line, so two are sent. */
int stdin_queue(struct session *ss, const uint8_t *p, size_t n, bool eof)
{
	size_t extra = eof ? 2 : 0;

	if (in_reserve(ss, n + extra) < 0)
		return -ENOMEM;
	if (n) {
		memcpy(ss->in_q + ss->in_len, p, n);
		ss->in_len += n;
		ss->in_line_open = p[n - 1] != '\n';
	}
	if (eof) {
		ss->in_q[ss->in_len++] = 0x04;
		if (ss->in_line_open)
			ss->in_q[ss->in_len++] = 0x04;
		ss->in_line_open = false;
	}
	stdin_flush(ss);
	session_set_reading(ss, ss->reading); /* EPOLLOUT if bytes remain */
	return 0;
}
