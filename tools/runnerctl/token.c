/* token.c - read a token file the way the runner does (PROTOCOL.md §3).
 *
 * The token is bytes: a NUL or a newline in the middle belongs to it, so
 * reading a line would send a prefix the runner refuses.  Only a single
 * trailing newline (a file written by echo) is not part of it. */
#include "token.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* Up to n bytes of fd; the count, or -errno. */
static ssize_t read_upto(int fd, uint8_t *buf, size_t n)
{
	size_t got = 0;
	ssize_t k;

	while (got < n) {
		k = read(fd, buf + got, n - got);
		if (k == 0)
			break;
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			return -errno;
		got += (size_t)k;
	}
	return (ssize_t)got;
}

int rc_token_load(struct rc_token *t, const char *path)
{
	/* Room for the longest token, its newline and one byte more: a file
	 * that fills it is too long rather than silently cut. */
	uint8_t buf[RC_TOKEN_MAX + 2];
	ssize_t n;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		n = -errno;
		fprintf(stderr, "runnerctl: cannot read token file %s: %s\n",
			path, strerror(errno));
		return (int)n;
	}
	n = read_upto(fd, buf, sizeof(buf));
	close(fd); /* read-only: nothing to lose on a close error */
	if (n < 0) {
		fprintf(stderr, "runnerctl: cannot read token file %s: %s\n",
			path, strerror((int)-n));
		return (int)n;
	}
	if (n > 0 && buf[n - 1] == '\n')
		n--;
	if (n < RC_TOKEN_MIN || n > RC_TOKEN_MAX) {
		fprintf(
		    stderr,
		    "runnerctl: token file %s: %s (a token is %d to %d bytes, one trailing newline not counted)\n",
		    path, n < RC_TOKEN_MIN ? "too short" : "too long",
		    RC_TOKEN_MIN, RC_TOKEN_MAX);
		explicit_bzero(buf, sizeof(buf));
		return n < RC_TOKEN_MIN ? -EINVAL : -E2BIG;
	}
	memcpy(t->bytes, buf, (size_t)n);
	t->len = (size_t)n;
	explicit_bzero(buf, sizeof(buf));
	return 0;
}
