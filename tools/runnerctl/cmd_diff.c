/* cmd_diff.c - runnerctl diff: a unified diff (as diff -u) the runner
 * computes, of two files or of a file and a text sent along.  Exit
 * status as diff: 0 equal, 1 different, 2 an error.
 */
#include "fs_stream.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* DIFF --text travels in the request: under the runner's 4 MiB frame */
#define DIFF_TEXT_MAX ((4u << 20) - 2 * REQ_MAX)

/* ---- diff ---- */

/* The whole of FILE ("-": stdin), under a frame's size; NULL when it is
 * bigger or unreadable (errno). */
static uint8_t *read_text(const char *path, size_t *len)
{
	int fd = strcmp(path, "-") ? open(path, O_RDONLY | O_CLOEXEC) : 0;
	size_t cap = DIFF_TEXT_MAX + 1, n = 0;
	uint8_t *buf = fd < 0 ? NULL : malloc(cap);
	ssize_t r = 1;

	while (buf && n < cap && r) {
		r = read(fd, buf + n, cap - n);
		if (r < 0 && errno != EINTR)
			break;
		n += r > 0 ? (size_t)r : 0;
	}
	if (fd > 0)
		close(fd);
	if (!buf || r < 0 || n == cap) {
		if (n == cap)
			errno = E2BIG;
		free(buf);
		return NULL;
	}
	*len = n;
	return buf;
}

static int diff_check(const struct rc_args *a)
{
	if ((a->npos == 2) == opt_flag(a, "text"))
		return rc_cmd_usage(a->cmd, "give B or --text FILE");
	return 0;
}

static int diff_run(struct rc_conn *c, const struct rc_args *a)
{
	const char *text = opt_str(a, "text", NULL);
	uint8_t *buf, *t = NULL;
	size_t nt = 0;
	struct rc_frame f;
	struct wire_buf b;
	int r;

	if (text && !(t = read_text(text, &nt))) {
		fprintf(stderr, "runnerctl: diff --text %s: %s\n", text,
			strerror(errno));
		return 2;
	}
	if (!(buf = malloc(2 * REQ_MAX + nt))) {
		free(t);
		return 2;
	}
	wb_init(&b, buf, 2 * REQ_MAX + nt);
	wb_path(&b, T_PATH, a->pos[0]);
	if (t)
		wb_bytes(&b, T_TEXT, t, nt);
	else
		wb_path(&b, T_PATH2, a->pos[1]);
	r = rc_call_data(c, WT_DIFF, &b, data_to_stdout, NULL, &f);
	free(buf);
	free(t);
	if (r) {
		cmd_fail(c);
		return 2;
	}
	return find_u(f.p, f.h.len, T_COUNT, 0) ? 1 : 0;
}

const struct rc_cmd rc_cmd_diff = {
    .name = "diff",
    .fn = diff_run,
    .synopsis = "A [B]",
    .summary =
	"unified diff of two files (as diff -u), or of a file and a text",
    .details =
	"With --text, B is the text in FILE ('-': stdin): what A would become\n(both header lines name A).\n"
	"\nexit status: 0 equal, 1 different, 2 an error.\n",
    .opts =
	(const struct rc_opt[]){
	    {"text", 0, "FILE",
	     "compare A with the contents of FILE ('-': stdin),\n"
	     "up to 4 MiB",
	     0},
	    {0},
	},
    .check = diff_check,
    .min_pos = 1,
    .max_pos = 2,
};
