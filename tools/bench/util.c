/* util.c - clocks, progress lines, scratch files. */
#include "bench.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define FILL_CHUNK  (1u << 20)
#define GREP_NEEDLE "bench_needle"

uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

double since_us(uint64_t t0)
{
	return (double)(now_ns() - t0) / 1e3;
}

void progress(const char *fmt, ...)
{
	va_list ap;

	fputs("bench: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

bool suite_on(const struct bench *b, const char *name)
{
	const char *p = b->cfg.only;
	size_t n = strlen(name);

	if (!p || !*p)
		return true;
	while (*p) {
		if (!strncmp(p, name, n) && (p[n] == ',' || p[n] == 0))
			return true;
		p = strchr(p, ',');
		if (!p)
			break;
		p++;
	}
	return false;
}

/* Text: 63 printable bytes and a newline per line, so a PTY in raw mode
 * and line-oriented readers see an ordinary file. */
static void fill_chunk(uint8_t *p, size_t n, bool text)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (!text)
			p[i] = (uint8_t)(i * 2654435761u >> 13);
		else
			p[i] = (i & 63) == 63 ? '\n' : (uint8_t)('a' + i % 26);
	}
}

int make_file(const char *path, uint64_t bytes, bool text)
{
	uint8_t *chunk = malloc(FILL_CHUNK);
	uint64_t left = bytes;
	struct stat st;
	int fd, r = 0;

	if (!chunk)
		return -ENOMEM;
	/* Reuse a file of the right size from an earlier suite. */
	if (stat(path, &st) == 0 && (uint64_t)st.st_size == bytes) {
		free(chunk);
		return 0;
	}
	fill_chunk(chunk, FILL_CHUNK, text);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		free(chunk);
		return -errno;
	}
	while (left && r == 0) {
		size_t n = left < FILL_CHUNK ? (size_t)left : FILL_CHUNK;
		ssize_t w = write(fd, chunk, n);
		if (w < 0)
			r = errno == EINTR ? 0 : -errno;
		else
			left -= (uint64_t)w;
	}
	free(chunk);
	if (close(fd) < 0 && r == 0)
		r = -errno;
	return r;
}

/* A source-like tree: 100 files per directory, ~2 KiB each, one line in
 * every seventh file names the needle.  *matches gets the number of
 * matching lines, which GNU grep and the runner must both report. */
static int tree_file(const char *path, unsigned i, unsigned *matches)
{
	char buf[4096];
	size_t n = 0;
	unsigned line;
	int fd, r = 0;

	for (line = 0; line < 40; line++) {
		if (line == i % 40 && i % 7 == 0) {
			n += (size_t)snprintf(
			    buf + n, sizeof(buf) - n,
			    "\treturn " GREP_NEEDLE "(%u, ctx);\n", i);
			(*matches)++;
		} else {
			n += (size_t)snprintf(
			    buf + n, sizeof(buf) - n,
			    "\tstatic int value_%u_%u = %u; /* filler text */\n",
			    i, line, i * line);
		}
	}
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	if (write(fd, buf, n) != (ssize_t)n)
		r = -EIO;
	if (close(fd) < 0 && r == 0)
		r = -errno;
	return r;
}

int make_tree(const char *root, unsigned files, unsigned *matches)
{
	char path[512];
	unsigned i;
	int r;

	*matches = 0;
	if (mkdir(root, 0755) < 0 && errno != EEXIST)
		return -errno;
	for (i = 0; i < files; i++) {
		if (i % 100 == 0) {
			snprintf(path, sizeof(path), "%s/d%03u", root, i / 100);
			if (mkdir(path, 0755) < 0 && errno != EEXIST)
				return -errno;
		}
		snprintf(path, sizeof(path), "%s/d%03u/f%05u.c", root, i / 100,
			 i);
		if ((r = tree_file(path, i, matches)) < 0)
			return r;
	}
	return 0;
}

static int rm_one(const char *path, const struct stat *st, int flag,
		  struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	/* Best effort: a leftover scratch file is not worth failing for. */
	if (flag == FTW_DP)
		rmdir(path);
	else
		unlink(path);
	return 0;
}

int rm_tree(const char *path)
{
	return nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS) < 0 ? -errno : 0;
}
