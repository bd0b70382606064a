/* fs.c - file operations: state, request plumbing, and the small
 * synchronous requests (STAT, MKDIR, REMOVE, MOVE).
 *
 * Where the rest lives: fs_path.c (confinement), fs_read.c, fs_write.c,
 * fs_edit.c, fs_job.c (forked helper for long walks), fs_walk.c (LS,
 * FIND, REMOVE -r), fs_grep.c, fs_diff.c + fs_diffreq.c, fs_lines.c.
 *
 * Everything runs with the runner's own (dropped) credentials, so the
 * kernel's permission checks apply exactly as they do for the shell.
 */
#include "fs_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int fs_init(struct runner *rt)
{
	struct fs_state *fs = calloc(1, sizeof(*fs));
	const char *force = getenv("RUNNER_FS_NO_OPENAT2");

	if (!fs)
		return -ENOMEM;
	fs->rt = rt;
	fs->root_fd = -1;
	/* Test knob: exercise the hand-walked resolution on new kernels. */
	fs->use_openat2 = !(force && *force == '1');
	if (rt->cfg.root) {
		fs->root_fd =
		    open(rt->cfg.root, O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (fs->root_fd < 0) {
			int err = errno;
			log_error("--root %s: %s", rt->cfg.root, strerror(err));
			free(fs);
			return -err;
		}
	}
	rt->fs = fs;
	return 0;
}

void fs_fini(struct runner *rt)
{
	struct fs_state *fs = rt->fs;

	if (!fs)
		return;
	fs_job_kill_all(fs);
	if (fs->root_fd >= 0)
		close(fs->root_fd);
	free(fs);
	rt->fs = NULL;
}

/* ---- helpers shared by every fs request ---- */

void fs_fail(struct stream *s, int err, const char *op, const char *path)
{
	/* EXDEV is E_ESCAPE and ELOOP E_BAD_REQUEST (wire.c): say why */
	stream_error(
	    s, wire_err_from_errno(err), err, "%s %s: %s", op, path,
	    err == EXDEV ? "resolves outside the root"
	    : err == ELOOP
		? "too many levels of symbolic links, or a symbolic link where none may be"
		: strerror(err));
}

int fs_req_path(struct stream *s, const uint8_t *p, size_t n, uint16_t tag,
		char *buf)
{
	struct wire_field f;
	int r = req_str(s, p, n, tag, FS_PATH_MAX - 1, &f);

	if (r > 0)
		return fs_path_copy(buf, &f);
	if (r == 0)
		stream_error(s, E_BAD_REQUEST, EINVAL, "%s is required",
			     tag == T_PATH2 ? "PATH2" : "PATH");
	return -1;
}

int fs_want_regular(struct stream *s, const struct stat *st, const char *op,
		    const char *path, uint64_t max)
{
	if (S_ISREG(st->st_mode) && (!max || (uint64_t)st->st_size <= max))
		return 0;
	if (S_ISDIR(st->st_mode))
		fs_fail(s, EISDIR, op, path);
	else if (S_ISREG(st->st_mode))
		stream_error(
		    s, E_LIMIT, 0,
		    "%s %s: %lld bytes, over the %llu MiB limit of EDIT and DIFF",
		    op, path, (long long)st->st_size,
		    (unsigned long long)(max >> 20));
	else
		stream_error(
		    s, E_UNSUPPORTED, 0,
		    "%s %s: not a regular file (a FIFO, socket or device)", op,
		    path);
	return -1;
}

int fs_open_file(struct stream *s, const char *op, const char *path,
		 uint64_t max, bool dir_ok)
{
	struct fs_state *fs = fs_of(s);
	struct stat st;
	int fd, rfd = -1, err = 0;

	/* Resolve and look first: opening a device can have effects, and a
	 * FIFO would wait for a writer.  O_NONBLOCK: if a FIFO was swapped
	 * in meanwhile, no hang; the second fstat catches it. */
	fd = fs_open(fs, path, O_PATH, 0);
	if (fd < 0 || fstat(fd, &st) < 0) {
		err = fd < 0 ? -fd : errno;
	} else if (dir_ok && S_ISDIR(st.st_mode)) {
		rfd = openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		err = rfd < 0 ? errno : 0;
	} else if (S_ISREG(st.st_mode)) {
		rfd = fs_open(fs, path, O_RDONLY | O_NONBLOCK | O_NOCTTY, 0);
		err = rfd < 0 ? -rfd : fstat(rfd, &st) < 0 ? errno : 0;
	}
	if (fd >= 0)
		close(fd);
	if (!err && (rfd < 0 || !(dir_ok && S_ISDIR(st.st_mode))) &&
	    fs_want_regular(s, &st, op, path, max) < 0)
		err = -1;
	if (err) {
		if (err > 0)
			fs_fail(s, err, op, path);
		if (rfd >= 0)
			close(rfd);
		return -1;
	}
	return rfd;
}

int fs_req_glob(struct stream *s, struct glob_set *set, const char *pat,
		size_t len)
{
	int r = glob_set_add(set, pat, len);

	if (r < 0)
		stream_error(s, E_BAD_PATTERN, -r, "glob %.*s: %s", (int)len,
			     pat,
			     r == -EINVAL ? "empty or holds a NUL byte"
					  : "too many patterns or too long");
	return r;
}

void fs_result(struct stream *s, const struct wire_buf *b)
{
	int r = stream_result(s, b);

	if (r < 0)
		stream_error(s, E_INTERNAL, -r, "RESULT could not be sent: %s",
			     strerror(-r));
}

uint8_t fs_file_type(mode_t mode)
{
	switch (mode & S_IFMT) {
	case S_IFREG: return WFT_FILE;
	case S_IFDIR: return WFT_DIR;
	case S_IFLNK: return WFT_SYMLINK;
	case S_IFIFO: return WFT_FIFO;
	case S_IFSOCK: return WFT_SOCKET;
	case S_IFCHR: return WFT_CHAR;
	case S_IFBLK: return WFT_BLOCK;
	}
	return WFT_UNKNOWN;
}

int64_t fs_mtime_ns(const struct stat *st)
{
	return (int64_t)st->st_mtim.tv_sec * 1000000000 + st->st_mtim.tv_nsec;
}

int fs_write_all(int fd, const void *p, size_t n)
{
	const uint8_t *b = p;
	ssize_t w;

	while (n) {
		w = write(fd, b, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (w == 0)
			return -ENOSPC;
		b += w;
		n -= (size_t)w;
	}
	return 0;
}

ssize_t fs_read_full(int fd, void *buf, size_t size)
{
	size_t got = 0;
	ssize_t k;

	while (got < size) {
		k = read(fd, (uint8_t *)buf + got, size - got);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			return -errno;
		if (k == 0)
			break;
		got += (size_t)k;
	}
	return (ssize_t)got;
}

/* ---- STAT ---- */

void fs_req_stat(struct stream *s, const uint8_t *p, size_t n)
{
	char path[FS_PATH_MAX], target[FS_PATH_MAX];
	uint8_t buf[FS_PATH_MAX + 256];
	struct wire_buf b;
	struct stat st;
	ssize_t tl;
	int fd;

	if (fs_req_path(s, p, n, T_PATH, path) < 0)
		return;
	/* O_PATH|O_NOFOLLOW: lstat semantics, and no open of a device. */
	fd = fs_open(fs_of(s), path, O_PATH | O_NOFOLLOW, 0);
	if (fd < 0 || fstat(fd, &st) < 0) {
		fs_fail(s, fd < 0 ? -fd : errno, "stat", path);
		if (fd >= 0)
			close(fd);
		return;
	}
	wb_init(&b, buf, sizeof(buf));
	wb_u8(&b, T_FILE_TYPE, fs_file_type(st.st_mode));
	wb_u64(&b, T_SIZE, (uint64_t)st.st_size);
	wb_u32(&b, T_FILE_MODE, st.st_mode);
	wb_i64(&b, T_MTIME_NS, fs_mtime_ns(&st));
	wb_u32(&b, T_UID_OWNER, st.st_uid);
	wb_u32(&b, T_GID, st.st_gid);
	wb_u64(&b, T_NLINK, st.st_nlink);
	if (S_ISLNK(st.st_mode)) {
		tl = readlinkat(fd, "", target, sizeof(target));
		if (tl >= 0)
			wb_bytes(&b, T_TARGET, target, (size_t)tl);
	}
	close(fd);
	fs_result(s, &b);
}

/* ---- MKDIR ---- */

static int mkdir_one(struct fs_state *fs, const char *path, mode_t mode,
		     bool ok_if_dir)
{
	char name[NAME_MAX + 1];
	int dirfd, r = 0;

	dirfd = fs_open_parent(fs, path, name, sizeof(name));
	if (dirfd < 0)
		return dirfd;
	if (mkdirat(dirfd, name, mode) < 0)
		r = -errno;
	close(dirfd);
	/* "Exists" is fine for -p if it is, or (a link) leads to, a
	 * directory: asked through the confined resolver, never fstatat,
	 * which would follow an absolute link on the host. */
	if (r == -EEXIST && ok_if_dir &&
	    (dirfd = fs_open(fs, path, O_PATH | O_DIRECTORY, 0)) >= 0) {
		close(dirfd);
		r = 1;
	}
	return r;
}

/* mkdir -p: every prefix in turn; the last one decides "created". */
int fs_mkdir_parents(struct fs_state *fs, char *path, mode_t mode)
{
	char *p = path;
	int r;

	while (*p == '/')
		p++;
	while ((p = strchr(p, '/'))) {
		*p = 0;
		r = mkdir_one(fs, path, mode, true);
		*p = '/';
		if (r < 0 && r != -EINVAL) /* EINVAL: a "." or ".." prefix */
			return r;
		while (*p == '/')
			p++;
		if (!*p)
			break;
	}
	return mkdir_one(fs, path, mode, true);
}

void fs_req_mkdir(struct stream *s, const uint8_t *p, size_t n)
{
	char path[FS_PATH_MAX];
	uint64_t parents, mode;
	mode_t old;
	uint8_t buf[32];
	struct wire_buf b;
	int r;

	if (fs_req_path(s, p, n, T_PATH, path) < 0 ||
	    req_uint(s, p, n, T_PARENTS, 0, 0, REQ_ANY, &parents) < 0 ||
	    req_uint(s, p, n, T_FILE_MODE, 0755, 0, REQ_ANY, &mode) < 0)
		return;
	mode &= 07777;
	/* FILE_MODE is exact, as for WRITE: no umask (PROTOCOL §17.8).  The
	 * loop is single-threaded; the old mask is back before it goes on. */
	old = umask(0);
	r = parents ? fs_mkdir_parents(fs_of(s), path, (mode_t)mode)
		    : mkdir_one(fs_of(s), path, (mode_t)mode, false);
	umask(old);
	if (r < 0) {
		fs_fail(s, -r, "mkdir", path);
		return;
	}
	wb_init(&b, buf, sizeof(buf));
	wb_u8(&b, T_CREATED, r == 0);
	fs_result(s, &b);
}

/* ---- REMOVE -r and MOVE across filesystems: helpers on names ---- */

struct name_job {
	int dirfd[2]; /* the second is -1 for REMOVE */
	char name[2][NAME_MAX + 1];
};

static void name_job_end(struct fs_summary *sum, int r, const char *op,
			 const char *name)
{
	if (r < 0) {
		sum->code = wire_err_from_errno(-r);
		sum->err = -r;
		snprintf(sum->msg, sizeof(sum->msg), "%s %.100s: %s", op, name,
			 strerror(-r));
	}
}

static void remove_work(void *arg, struct fs_out *out, struct fs_summary *sum)
{
	struct name_job *j = arg;

	(void)out;
	name_job_end(sum, fs_remove_tree(j->dirfd[0], j->name[0]), "remove",
		     j->name[0]);
}

static void name_job_free(void *arg)
{
	struct name_job *j = arg;

	close(j->dirfd[0]);
	if (j->dirfd[1] >= 0)
		close(j->dirfd[1]);
	free(j);
}

/* Hand the names to a helper running work; false (nothing done) when out
 * of memory. */
static bool name_job_start(struct stream *s, fs_work_fn work, int *dirfd,
			   char (*name)[NAME_MAX + 1])
{
	struct name_job *j = malloc(sizeof(*j));

	if (!j)
		return false;
	memcpy(j->dirfd, dirfd, sizeof(j->dirfd));
	memcpy(j->name, name, sizeof(j->name));
	fs_job_start_keep(s, work, j, name_job_free, dirfd,
			  1 + (dirfd[1] >= 0));
	return true;
}

void fs_req_remove(struct stream *s, const uint8_t *p, size_t n)
{
	char path[FS_PATH_MAX], name[2][NAME_MAX + 1];
	int dirfd[2] = {-1, -1}, r = 0;
	uint64_t recursive;
	uint8_t buf[16];
	struct wire_buf b;

	if (fs_req_path(s, p, n, T_PATH, path) < 0 ||
	    req_uint(s, p, n, T_RECURSIVE, 0, 0, REQ_ANY, &recursive) < 0)
		return;
	dirfd[0] = fs_open_parent(fs_of(s), path, name[0], sizeof(name[0]));
	if (dirfd[0] < 0) {
		fs_fail(s, -dirfd[0], "remove", path);
		return;
	}
	if (unlinkat(dirfd[0], name[0], 0) < 0) {
		r = errno;
		/* EISDIR on Linux; EPERM where unlink(2) of a dir is refused.
		 */
		if ((r == EISDIR || r == EPERM) && !recursive)
			r = unlinkat(dirfd[0], name[0], AT_REMOVEDIR) < 0
				? errno
				: 0;
		else if ((r == EISDIR || r == EPERM) && recursive &&
			 name_job_start(s, remove_work, dirfd, name))
			return;
	}
	close(dirfd[0]);
	if (r) {
		fs_fail(s, r, "remove", path);
		return;
	}
	wb_init(&b, buf, sizeof(buf));
	fs_result(s, &b);
}

/* ---- MOVE ---- */

/* rename(2) said EXDEV: copy the entry (a whole tree for a directory)
 * under a temp name beside the target, rename that over the target (atomic
 * there: a reader sees the old one or the whole new one), then remove the
 * source.  In the helper: a big tree takes a while. */
static void move_work(void *arg, struct fs_out *out, struct fs_summary *sum)
{
	struct name_job *j = arg;
	struct fs_temp t;
	int r;

	(void)out;
	/* a unique name: created as a file, then given to the copy */
	if (!(r = fs_temp_open(&t, j->dirfd[1], j->name[1], 0600))) {
		close(t.fd);
		(void)unlinkat(t.dirfd, t.tmp, 0);
		r = fs_copy_tree(j->dirfd[0], j->name[0], t.dirfd, t.tmp);
		if (!r && renameat(t.dirfd, t.tmp, t.dirfd, t.name) < 0)
			r = -errno;
		if (r)
			(void)fs_remove_tree(t.dirfd, t.tmp); /* best effort */
		else
			r = fs_remove_tree(j->dirfd[0], j->name[0]);
	}
	name_job_end(sum, r, "move", j->name[0]);
}

void fs_req_move(struct stream *s, const uint8_t *p, size_t n)
{
	char from[FS_PATH_MAX], to[FS_PATH_MAX], name[2][NAME_MAX + 1];
	struct fs_state *fs = fs_of(s);
	int dirfd[2], r = 0;
	uint8_t buf[16];
	struct wire_buf b;

	if (fs_req_path(s, p, n, T_PATH, from) < 0 ||
	    fs_req_path(s, p, n, T_PATH2, to) < 0)
		return;
	dirfd[0] = fs_open_parent(fs, from, name[0], sizeof(name[0]));
	if (dirfd[0] < 0) {
		fs_fail(s, -dirfd[0], "move", from);
		return;
	}
	dirfd[1] = fs_open_parent(fs, to, name[1], sizeof(name[1]));
	if (dirfd[1] < 0) {
		close(dirfd[0]);
		fs_fail(s, -dirfd[1], "move", to);
		return;
	}
	if (renameat(dirfd[0], name[0], dirfd[1], name[1]) < 0)
		r = errno;
	/* EXDEV from rename(2) is a mount boundary: copy instead */
	if (r == EXDEV && name_job_start(s, move_work, dirfd, name))
		return;
	close(dirfd[0]);
	close(dirfd[1]);
	if (r)
		fs_fail(s, r, "move", from);
	else
		fs_result(s, (wb_init(&b, buf, sizeof(buf)), &b));
}
