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
	char *text; /* TEXT: b's contents, instead of a second file */
	size_t ntext;
	char path[2][FS_PATH_MAX];
};

static int read_all(int fd, char **out, size_t *n)
{
	struct stat st;
	ssize_t k;

	if (fstat(fd, &st) < 0)
		return -errno;
	if (!(*out = malloc((size_t)st.st_size + 1)))
		return -ENOMEM;
	k = fs_read_full(fd, *out, (size_t)st.st_size);
	*n = k > 0 ? (size_t)k : 0;
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
	b = j->text; /* the helper's own copy: freed below like a file's */
	nb = j->ntext;
	if (r == 0 && !b)
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
	free(j->text);
	free(j);
}

void fs_req_diff(struct stream *s, const uint8_t *p, size_t n)
{
	struct diff_job *j = calloc(1, sizeof(*j));
	struct wire_field f;

	if (!j) {
		stream_error_errno(s, ENOMEM, "diff");
		return;
	}
	j->fd[1] = -1;
	if (fs_req_path(s, p, n, T_PATH, j->path[0]) < 0 ||
	    (!wire_find(p, n, T_TEXT, &f) &&
	     fs_req_path(s, p, n, T_PATH2, j->path[1]) < 0) ||
	    (j->fd[0] = fs_open_file(s, "diff", j->path[0], FS_WHOLE_FILE_MAX,
				     false)) < 0)
		goto fail;
	if (f.val) { /* TEXT: what PATH would become, "+++ PATH" */
		strcpy(j->path[1], j->path[0]);
		if (!(j->text = malloc(f.len + 1))) {
			stream_error_errno(s, ENOMEM, "diff");
			goto fail;
		}
		memcpy(j->text, f.val, j->ntext = f.len);
	} else if ((j->fd[1] = fs_open_file(s, "diff", j->path[1],
					    FS_WHOLE_FILE_MAX, false)) < 0) {
		goto fail;
	}
	fs_job_start_keep(s, diff_work, j, diff_free, j->fd, 1 + !f.val);
	return;
fail:
	diff_free(j);
}
