/* fs_write.c - WRITE: file contents streamed in DATA frames (channel 0,
 * FIN on the last), written to the file as they arrive, credit returned
 * with stream_grant() only after each write(2): memory stays one frame
 * whatever the size.
 *
 * Modes: truncate (default) goes to a temp file in the same directory and
 * is renamed over the target at FIN, so readers see the old file or the
 * new one, never a half; exclusive does the same and publishes with
 * link(2), which fails if the name appeared meanwhile; append writes in
 * place and on failure truncates back to the old length.  Any failure,
 * CANCEL or disconnect before FIN removes the temp file and leaves the
 * old contents as they were.  No fsync: durability is the filesystem's
 * usual (documented in the spec).
 */
#include "fs_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define TEMP_TRIES	   16
#define WRITE_EXTRA_WINDOW (16u << 20)

int fs_temp_open(struct fs_temp *t, int dirfd, const char *name, mode_t mode)
{
	static const char hex[] = "0123456789abcdef";
	uint64_t x = now_ns() ^ ((uint64_t)getpid() << 32);
	int i, k;

	t->dirfd = dirfd;
	t->fd = -1;
	snprintf(t->name, sizeof(t->name), "%s", name);
	for (i = 0; i < TEMP_TRIES; i++) {
		char suffix[13];
		for (k = 0; k < 12; k++, x = x * 6364136223846793005ull + 1)
			suffix[k] = hex[(x >> 60) & 15];
		suffix[12] = 0;
		/* ".NAME.rnr-XXXXXXXXXXXX", the name cut to fit NAME_MAX. */
		snprintf(t->tmp, sizeof(t->tmp), ".%.*s.rnr-%s", NAME_MAX - 19,
			 name, suffix);
		t->fd = openat(
		    dirfd, t->tmp,
		    O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (t->fd >= 0)
			break;
		if (errno != EEXIST)
			return -errno;
	}
	if (t->fd < 0)
		return -EEXIST;
	/* The exact mode, not filtered by the runner's umask. */
	if (fchmod(t->fd, mode) < 0) {
		int err = errno;
		fs_temp_abort(t);
		return -err;
	}
	return 0;
}

static void temp_close(struct fs_temp *t)
{
	if (t->fd >= 0)
		close(t->fd);
	t->fd = -1;
	t->tmp[0] = 0;
}

int fs_temp_commit_mode(struct fs_temp *t, bool exclusive)
{
	int r = 0;

	if (close(t->fd) < 0) /* NFS reports a late ENOSPC here */
		r = -errno;
	t->fd = -1;
	if (!r && exclusive) {
		if (linkat(t->dirfd, t->tmp, t->dirfd, t->name, 0) < 0)
			r = -errno;
	} else if (!r && renameat(t->dirfd, t->tmp, t->dirfd, t->name) < 0) {
		r = -errno;
	}
	if (r || exclusive)
		(void)unlinkat(t->dirfd, t->tmp, 0); /* best effort, reported */
	t->tmp[0] = 0;
	return r;
}

int fs_temp_commit(struct fs_temp *t)
{
	return fs_temp_commit_mode(t, false);
}

void fs_temp_abort(struct fs_temp *t)
{
	if (t->tmp[0])
		(void)unlinkat(t->dirfd, t->tmp, 0);
	temp_close(t);
}

/* ---- WRITE ---- */

struct fs_write {
	struct stream *s;
	struct fs_temp t; /* t.tmp[0]: atomic; else t.fd is the file */
	uint64_t written;
	off_t old_size; /* append: where to cut back to on failure */
	uint8_t mode;	/* enum wire_write_mode */
	bool created;	/* the name did not exist before */
	char path[FS_PATH_MAX];
};

static void write_free(struct fs_write *w)
{
	close(w->t.dirfd);
	free(w);
}

/* Undo: the temp goes; a file we created in place goes; an append is cut
 * back.  Nothing half-written stays. */
static void write_undo(struct fs_write *w)
{
	if (w->t.tmp[0]) {
		fs_temp_abort(&w->t);
		return;
	}
	if (w->created)
		(void)unlinkat(w->t.dirfd, w->t.name, 0);
	else if (w->mode == WW_APPEND && ftruncate(w->t.fd, w->old_size) < 0)
		log_warn("write %s: cannot cut back a failed append: %s",
			 w->path, strerror(errno));
	temp_close(&w->t);
}

static void write_fail(struct fs_write *w, int err)
{
	write_undo(w);
	if (err == EEXIST)
		stream_error(w->s, E_EXISTS, err, "write %s: already exists",
			     w->path);
	else
		fs_fail(w->s, err, "write", w->path);
	write_free(w);
}

static void write_finish(struct fs_write *w)
{
	struct stat st;
	uint8_t buf[64];
	struct wire_buf b;
	int r = 0;

	if (fstat(w->t.fd, &st) < 0)
		r = -errno;
	if (!r && w->t.tmp[0])
		r = fs_temp_commit_mode(&w->t, w->mode == WW_EXCLUSIVE);
	else if (!r)
		temp_close(&w->t);
	if (r < 0) {
		write_fail(w, -r);
		return;
	}
	wb_init(&b, buf, sizeof(buf));
	wb_u64(&b, T_SIZE, (uint64_t)st.st_size);
	wb_u64(&b, T_TOTAL_BYTES, w->written);
	wb_u8(&b, T_CREATED, w->created);
	stream_result(w->s, &b); /* small: it always goes */
	write_free(w);
}

static void write_data(struct stream *s, uint8_t channel, const uint8_t *p,
		       size_t n, bool fin)
{
	struct fs_write *w = s->owner;
	int r;

	if (channel != WCH_STDIN) {
		write_undo(w);
		stream_error(s, E_BAD_REQUEST, 0,
			     "WRITE takes its contents on DATA channel 0");
		write_free(w);
		return;
	}
	if (n && (r = fs_write_all(w->t.fd, p, n)) < 0) {
		write_fail(w, -r);
		return;
	}
	w->written += n;
	if (fin)
		write_finish(w);
	else
		stream_grant(s, (uint32_t)n);
}

static void write_cancel(struct stream *s)
{
	struct fs_write *w = s->owner;

	write_undo(w);
	stream_error(s, E_CANCELLED, 0, "cancelled; %s left as it was",
		     w->path);
	write_free(w);
}

static void write_detach(struct stream *s)
{
	struct fs_write *w = s->owner;

	write_undo(w);
	write_free(w);
}

static const struct stream_ops write_ops = {
    .data = write_data,
    .cancel = write_cancel,
    .detach = write_detach,
};

/* Open the target (or its temp).  -errno; -EOPNOTSUPP for an existing
 * entry that is not a regular file. */
static int write_open(struct fs_write *w, const char *name, bool create,
		      bool atomic, int64_t fmode)
{
	int flags = O_WRONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK;
	struct stat st;
	bool exists;
	mode_t mode;

	exists = fstatat(w->t.dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0;
	if (!exists && errno != ENOENT)
		return -errno;
	if (exists && S_ISDIR(st.st_mode))
		return -EISDIR;
	if (exists && !S_ISREG(st.st_mode))
		return -EOPNOTSUPP;
	if (!exists && !create)
		return -ENOENT;
	if (exists && w->mode == WW_EXCLUSIVE)
		return -EEXIST;
	mode = fmode >= 0 ? (mode_t)fmode : exists ? st.st_mode & 07777 : 0644;
	snprintf(w->t.name, sizeof(w->t.name), "%s", name);
	if (atomic && w->mode != WW_APPEND) {
		int r = fs_temp_open(&w->t, w->t.dirfd, name, mode);
		w->created = !exists;
		/* Keep the owner when root replaces someone's file. */
		if (r == 0 && exists &&
		    fchown(w->t.fd, st.st_uid, st.st_gid) < 0)
			(void)0; /* not root: the file becomes ours, as with mv
				  */
		return r;
	}
	if (w->mode == WW_APPEND)
		flags |= O_APPEND | (create ? O_CREAT : 0);
	else if (w->mode == WW_EXCLUSIVE)
		flags |= O_CREAT | O_EXCL;
	else
		flags |= O_CREAT | O_TRUNC;
	w->t.tmp[0] = 0;
	w->t.fd = openat(w->t.dirfd, name, flags, mode);
	if (w->t.fd < 0)
		return -errno;
	/* Only now: undo must never unlink a name someone else made. */
	w->created = !exists;
	/* The exact mode, as for the temp file: open(2) applied the umask. */
	if ((fmode >= 0 || !exists) && fchmod(w->t.fd, mode) < 0)
		return -errno;
	w->old_size = exists ? st.st_size : 0;
	return 0;
}

static int write_parents(struct fs_state *fs, const char *path)
{
	char dir[FS_PATH_MAX];
	char *slash;

	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (!slash || slash == dir)
		return 0;
	*slash = 0;
	return fs_mkdir_parents(fs, dir, 0755);
}

void fs_req_write(struct stream *s, const uint8_t *p, size_t n)
{
	uint64_t wmode, create, parents, atomic, fmode;
	char name[NAME_MAX + 1];
	struct fs_write *w;
	struct wire_field f;
	int r;

	w = calloc(1, sizeof(*w));
	if (!w) {
		stream_error_errno(s, ENOMEM, "write");
		return;
	}
	w->t.fd = -1;
	if (fs_req_path(s, p, n, T_PATH, w->path) < 0 ||
	    req_uint(s, p, n, T_WRITE_MODE, WW_TRUNCATE, 0, REQ_ANY, &wmode) <
		0 ||
	    req_uint(s, p, n, T_CREATE, 1, 0, REQ_ANY, &create) < 0 ||
	    req_uint(s, p, n, T_PARENTS, 0, 0, REQ_ANY, &parents) < 0 ||
	    req_uint(s, p, n, T_ATOMIC, 1, 0, REQ_ANY, &atomic) < 0 ||
	    req_uint(s, p, n, T_FILE_MODE, 0, 0, REQ_ANY, &fmode) < 0)
		goto out_free;
	if (wmode > WW_EXCLUSIVE) {
		stream_error(s, E_BAD_REQUEST, 0, "WRITE_MODE %llu is not 0-2",
			     (unsigned long long)wmode);
		goto out_free;
	}
	w->s = s;
	w->mode = (uint8_t)wmode;
	if (parents && (r = write_parents(fs_of(s), w->path)) < 0) {
		fs_fail(s, -r, "write: mkdir -p for", w->path);
		goto out_free;
	}
	w->t.dirfd =
	    fs_open_parent_follow(fs_of(s), w->path, name, sizeof(name));
	if (w->t.dirfd < 0) {
		fs_fail(s, -w->t.dirfd, "write", w->path);
		goto out_free;
	}
	wire_find(p, n, T_FILE_MODE, &f);
	r = write_open(w, name, create != 0, atomic != 0,
		       f.val ? (int64_t)(fmode & 07777) : -1);
	if (r == -EOPNOTSUPP) {
		stream_error(
		    s, E_UNSUPPORTED, 0,
		    "write %s: exists and is not a regular file (FIFO, socket or device)",
		    w->path);
		write_free(w);
		return;
	}
	if (r < 0) {
		write_fail(w, -r);
		return;
	}
	s->ops = &write_ops;
	s->owner = w;
	/* Bytes go to the file as each frame arrives, so a wider window costs
	 * no memory here (the connection holds one frame at a time); it only
	 * keeps an upload from being bound by window / round trip. */
	stream_grant(s, WRITE_EXTRA_WINDOW);
	return;
out_free:
	free(w);
}
