/* fs_edit.c - EDIT: exact string replacement as coding agents use it.
 *
 * The file is read whole (up to FS_WHOLE_FILE_MAX), the occurrences of
 * OLD counted (non-overlapping, left to right), and the new contents
 * written to a temp file in the same directory that is renamed over the
 * original: atomic, mode and (for root) owner kept.  Without REPLACE_ALL,
 * OLD must occur exactly once; E_NOT_UNIQUE reports the count in T_COUNT
 * so the agent can widen its context.  Runs inside the loop: bounded by
 * the size cap, a few milliseconds at worst.
 */
#include "fs_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct edit {
	const uint8_t *old, *new;
	size_t nold, nnew;
	bool all;
	char path[FS_PATH_MAX];
};

static uint64_t count_matches(const uint8_t *buf, size_t n,
			      const struct edit *e)
{
	const uint8_t *p = buf, *end = buf + n, *m;
	uint64_t count = 0;

	while ((m = memmem(p, (size_t)(end - p), e->old, e->nold))) {
		count++;
		p = m + e->nold;
	}
	return count;
}

/* Write buf with every OLD replaced by NEW. */
static int write_replaced(int fd, const uint8_t *buf, size_t n,
			  const struct edit *e)
{
	const uint8_t *p = buf, *end = buf + n, *m;
	int r;

	while ((m = memmem(p, (size_t)(end - p), e->old, e->nold))) {
		if ((r = fs_write_all(fd, p, (size_t)(m - p))) < 0 ||
		    (r = fs_write_all(fd, e->new, e->nnew)) < 0)
			return r;
		p = m + e->nold;
	}
	return fs_write_all(fd, p, (size_t)(end - p));
}

static void edit_not_unique(struct stream *s, const struct edit *e,
			    uint64_t count)
{
	uint8_t buf[FS_PATH_MAX + 256];
	struct wire_buf b;
	char msg[FS_PATH_MAX + 128];
	int len;

	len = snprintf(
	    msg, sizeof(msg),
	    "edit %s: the old text occurs %llu times; give more context to make it unique, or set REPLACE_ALL",
	    e->path, (unsigned long long)count);
	wb_init(&b, buf, sizeof(buf));
	wb_u16(&b, T_CODE, E_NOT_UNIQUE);
	wb_u32(&b, T_ERRNO, 0);
	wb_bytes(&b, T_MESSAGE, msg, len < 0 ? 0 : (size_t)len);
	wb_u64(&b, T_COUNT, count);
	stream_error_fields(s, &b);
}

/* Open the file to edit: stat first, so a FIFO or device is never
 * opened.  Returns an fd, or -1 with s failed. */
static int edit_open(struct stream *s, int dirfd, const char *name,
		     const char *path, struct stat *st)
{
	int fd;

	if (fstatat(dirfd, name, st, AT_SYMLINK_NOFOLLOW) < 0) {
		fs_fail(s, errno, "edit", path);
		return -1;
	}
	if (fs_want_regular(s, st, "edit", path, FS_WHOLE_FILE_MAX) < 0)
		return -1;
	fd =
	    openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0 || fstat(fd, st) < 0 || !S_ISREG(st->st_mode)) {
		fs_fail(s, fd < 0 ? errno : EINVAL, "edit", path);
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

static int edit_apply(struct stream *s, int dirfd, const char *name,
		      struct edit *e, uint64_t *count, uint64_t *size)
{
	struct fs_temp t;
	struct stat st;
	uint8_t *buf;
	int fd, r;

	if ((fd = edit_open(s, dirfd, name, e->path, &st)) < 0)
		return 1;
	buf = malloc((size_t)st.st_size + 1);
	/* a file that shrank under us: refuse to guess */
	r = !buf						      ? -ENOMEM
	    : fs_read_full(fd, buf, (size_t)st.st_size) == st.st_size ? 0
								      : -EIO;
	close(fd);
	if (r == 0) {
		*count = count_matches(buf, (size_t)st.st_size, e);
		if (*count == 0 || (*count > 1 && !e->all)) {
			free(buf);
			return 2;
		}
		r = fs_temp_open(&t, dirfd, name, st.st_mode & 07777);
	}
	if (r == 0) {
		if (fchown(t.fd, st.st_uid, st.st_gid) < 0)
			(void)0; /* not root: the file becomes ours, as with sed
				    -i */
		r = write_replaced(t.fd, buf, (size_t)st.st_size, e);
		*size =
		    (uint64_t)st.st_size + *count * e->nnew - *count * e->nold;
		if (r < 0)
			fs_temp_abort(&t);
		else
			r = fs_temp_commit(&t);
	}
	free(buf);
	return r;
}

void fs_req_edit(struct stream *s, const uint8_t *p, size_t n)
{
	struct wire_field fo, fn;
	char name[NAME_MAX + 1];
	uint64_t all, count = 0, size = 0;
	uint8_t buf[64];
	struct wire_buf b;
	struct edit e;
	int dirfd, r;

	if (fs_req_path(s, p, n, T_PATH, e.path) < 0 ||
	    req_uint(s, p, n, T_REPLACE_ALL, 0, 0, REQ_ANY, &all) < 0)
		return;
	wire_find(p, n, T_OLD, &fo);
	wire_find(p, n, T_NEW, &fn);
	if (!fo.val || !fo.len || !fn.val) {
		stream_error(
		    s, E_BAD_REQUEST, 0,
		    "EDIT needs a non-empty OLD and a NEW (which may be empty)");
		return;
	}
	e.old = fo.val;
	e.nold = fo.len;
	e.new = fn.val;
	e.nnew = fn.len;
	e.all = all != 0;
	dirfd = fs_open_parent_follow(fs_of(s), e.path, name, sizeof(name));
	if (dirfd < 0) {
		fs_fail(s, -dirfd, "edit", e.path);
		return;
	}
	r = edit_apply(s, dirfd, name, &e, &count, &size);
	close(dirfd);
	if (r == 1)
		return;
	if (r == 2 && count == 0)
		stream_error(s, E_NOT_MATCHED, 0,
			     "edit %s: the old text does not occur", e.path);
	else if (r == 2)
		edit_not_unique(s, &e, count);
	else if (r < 0)
		fs_fail(s, -r, "edit", e.path);
	else {
		wb_init(&b, buf, sizeof(buf));
		wb_u64(&b, T_REPLACED, count);
		wb_u64(&b, T_SIZE, size);
		fs_result(s, &b);
	}
}
