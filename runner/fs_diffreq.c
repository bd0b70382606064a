/* fs_diffreq.c - DIFF: the unified diff of two files, computed in the
 * helper process (Myers is O((N+M)D): two large, unrelated files can take
 * a while, and the memory is the helper's), streamed as text on DATA
 * channel 1.  RESULT: T_COUNT changed lines, 0 when the files are equal. */
#include "fs_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct diff_job {
	int fd[2];
	char path[2][FS_PATH_MAX];
};

static int read_all(int fd, char **out, size_t *n)
{
	struct stat st;
	ssize_t k;
	char *buf;

	if (fstat(fd, &st) < 0)
		return -errno;
	buf = malloc((size_t)st.st_size + 1);
	if (!buf)
		return -ENOMEM;
	*n = 0;
	while (*n < (size_t)st.st_size) {
		k = read(fd, buf + *n, (size_t)st.st_size - *n);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			break;
		*n += (size_t)k;
	}
	*out = buf;
	return 0;
}

static void diff_emit(void *ctx, const char *p, size_t n)
{
	fs_out_write(ctx, p, n);
}

static void diff_work(void *arg, struct fs_out *out, struct fs_summary *sum)
{
	struct diff_job *j = arg;
	char *a = NULL, *b = NULL;
	size_t na = 0, nb = 0;
	long r;

	r = read_all(j->fd[0], &a, &na);
	if (r == 0)
		r = read_all(j->fd[1], &b, &nb);
	if (r == 0)
		r = diff_unified(a, na, b, nb, j->path[0], j->path[1],
				 diff_emit, out);
	if (r < 0) {
		sum->code = wire_err_from_errno((int)-r);
		sum->err = (int32_t)-r;
		snprintf(sum->msg, sizeof(sum->msg), "diff: %s",
			 strerror((int)-r));
	} else {
		sum->count = (uint64_t)r;
	}
	free(a);
	free(b);
}

static void diff_free(void *arg)
{
	struct diff_job *j = arg;

	if (j->fd[0] >= 0)
		close(j->fd[0]);
	if (j->fd[1] >= 0)
		close(j->fd[1]);
	free(j);
}

void fs_req_diff(struct stream *s, const uint8_t *p, size_t n)
{
	struct diff_job *j = calloc(1, sizeof(*j));

	if (!j) {
		stream_error_errno(s, ENOMEM, "diff");
		return;
	}
	j->fd[0] = j->fd[1] = -1;
	if (fs_req_path(s, p, n, T_PATH, j->path[0]) < 0 ||
	    fs_req_path(s, p, n, T_PATH2, j->path[1]) < 0 ||
	    (j->fd[0] = fs_open_file(s, "diff", j->path[0], FS_WHOLE_FILE_MAX,
				     false)) < 0 ||
	    (j->fd[1] = fs_open_file(s, "diff", j->path[1], FS_WHOLE_FILE_MAX,
				     false)) < 0) {
		diff_free(j);
		return;
	}
	fs_job_start_keep(s, diff_work, j, diff_free, j->fd, 2);
}
