/* fs_walk.c - directory walks for the helper process: LS, FIND, and
 * REMOVE -r.
 *
 * Symlinks are never followed (every open is O_NOFOLLOW and relative to
 * a directory fd already inside the root), so a walk cannot leave the
 * start directory nor loop.  Entries are sorted by name per directory:
 * results are deterministic, and the memory that costs is the helper's.
 * LS and FIND results travel as T_ENTRY records on DATA channel 1.
 */
#include "fs_internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include "glob.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sendfile.h>
#include <sys/syscall.h>
#include <unistd.h>

struct names {
	char **v;
	unsigned char *t;
	size_t n, cap;
};

static int names_add(struct names *ns, const char *name, unsigned char type)
{
	if (ns->n == ns->cap) {
		size_t cap = ns->cap ? 2 * ns->cap : 64;
		char **v = realloc(ns->v, cap * sizeof(*v));
		if (!v)
			return -ENOMEM;
		ns->v = v;
		ns->cap = cap;
	}
	/* The type rides in the byte before the name: one allocation. */
	ns->v[ns->n] = malloc(strlen(name) + 2);
	if (!ns->v[ns->n])
		return -ENOMEM;
	ns->v[ns->n][0] = (char)type;
	strcpy(ns->v[ns->n] + 1, name);
	ns->n++;
	return 0;
}

static int cmp_entry(const void *a, const void *b)
{
	return strcmp(*(char *const *)a + 1, *(char *const *)b + 1);
}

/* Read a directory's names (without . and ..); dirfd is consumed. */
static int read_names(int dirfd, struct names *ns, bool hidden)
{
	struct dirent *d;
	DIR *dir = fdopendir(dirfd);

	memset(ns, 0, sizeof(*ns));
	if (!dir) {
		close(dirfd);
		return -errno;
	}
	while ((d = readdir(dir))) {
		if (d->d_name[0] == '.' &&
		    (!hidden || !d->d_name[1] ||
		     (d->d_name[1] == '.' && !d->d_name[2])))
			continue;
		if (names_add(ns, d->d_name, d->d_type) < 0)
			break;
	}
	closedir(dir);
	if (ns->n) /* an empty directory has no array: qsort(NULL) is UB */
		qsort(ns->v, ns->n, sizeof(*ns->v), cmp_entry);
	return 0;
}

static void names_free(struct names *ns)
{
	size_t i;

	for (i = 0; i < ns->n; i++)
		free(ns->v[i]);
	free(ns->v);
}

void walk_set_root(struct walker *w, const char *path)
{
	w->plen = strlen(path);
	memcpy(w->path, path, w->plen + 1);
	/* find prints "dir/x" for "dir/", "/x" for "/". */
	while (w->plen > 1 && w->path[w->plen - 1] == '/')
		w->path[--w->plen] = 0;
	w->rel_off = w->plen + (w->path[w->plen - 1] != '/');
}

void walk_tree(struct walker *w, int dirfd, uint32_t depth)
{
	struct ign_level lv;
	struct names ns;
	size_t i, nl, save = w->plen;
	int fd;

	fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || read_names(fd, &ns, w->hidden) < 0)
		return; /* unreadable: skipped, like find after its warning */
	ign_enter(w, &lv, dirfd);
	for (i = 0; i < ns.n && !w->stop; i++) {
		const char *name = ns.v[i] + 1;
		unsigned char type = (unsigned char)ns.v[i][0];
		struct stat st;

		/* d_type is DT_UNKNOWN on some filesystems: ask. */
		if (type == DT_UNKNOWN &&
		    fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0)
			type = (unsigned char)IFTODT(st.st_mode);

		nl = strlen(name);
		if (save + 1 + nl >= sizeof(w->path))
			continue;
		if (save && w->path[save - 1] != '/')
			w->path[w->plen++] = '/';
		memcpy(w->path + w->plen, name, nl + 1);
		w->plen += nl;
		if (!ign_skip(w, name, type == DT_DIR) &&
		    w->visit(w, dirfd, name, w->path, type, depth + 1) &&
		    !w->stop && depth + 1 < w->max_depth && type == DT_DIR) {
			fd = openat(dirfd, name,
				    O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
					O_CLOEXEC);
			if (fd >= 0) {
				walk_tree(w, fd, depth + 1);
				close(fd);
			}
		}
		w->plen = save;
		w->path[save] = 0;
	}
	ign_leave(w, &lv);
	names_free(&ns);
}

int walk_parse(struct stream *s, const uint8_t *p, size_t n, struct walker *w,
	       uint64_t hidden, struct glob_set *globs)
{
	uint64_t ignore;
	struct wire_iter it;
	struct wire_field f;

	if (req_uint(s, p, n, T_HIDDEN, hidden, 0, REQ_ANY, &hidden) < 0 ||
	    req_uint(s, p, n, T_MAX_RESULTS, 0, 0, REQ_ANY, &w->max) < 0 ||
	    req_uint(s, p, n, T_IGNORE, 0, 0, REQ_ANY, &ignore) < 0)
		return -1;
	w->hidden = hidden != 0;
	w->ignore = ignore != 0;
	w->fs = fs_of(s);
	w->fd = -1;
	wire_iter_init(&it, p, n);
	while (wire_next(&it, &f) > 0)
		if ((f.tag == T_EXCLUDE || (f.tag == T_GLOB && globs)) &&
		    fs_req_glob(s, f.tag == T_GLOB ? globs : &w->exclude,
				(const char *)f.val, f.len) < 0)
			return -1;
	return 0;
}

void walk_start(struct stream *s, struct walker *w, fs_work_fn work,
		void (*free_arg)(void *))
{
	/* IGNORE reads the ignore files above the start through the root */
	int keep[2] = {w->fd, w->fs->root_fd};

	fs_job_start_keep(s, work, w, free_arg, keep,
			  1 + (w->ignore && keep[1] >= 0));
}

void walk_record(struct walker *w, const struct wire_buf *b)
{
	if (!fs_cap(w->sum, w->max, &w->stop))
		return;
	fs_out_record(w->out, b);
	w->sum->count++;
	if (w->out->failed)
		w->stop = true;
}

/* Close the start and free a job that owns nothing else. */
static void walk_free(void *arg)
{
	struct walker *w = arg;

	if (w->fd >= 0)
		close(w->fd);
	free(w);
}

static uint8_t wire_type_of_dt(unsigned char dt)
{
	return fs_file_type((mode_t)DTTOIF(dt));
}

/* ---- LS ---- */

static bool ls_visit(struct walker *w, int dirfd, const char *name,
		     const char *path, unsigned char dtype, uint32_t depth)
{
	uint8_t rec[FS_PATH_MAX * 2 + 128];
	char target[FS_PATH_MAX];
	struct wire_buf b;
	struct stat st;
	size_t mark;
	ssize_t tl;

	(void)depth;
	wb_init(&b, rec, sizeof(rec));
	mark = wb_open(&b, T_ENTRY);
	wb_str(&b, T_NAME, path + w->rel_off);
	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0) {
		wb_u8(&b, T_FILE_TYPE, fs_file_type(st.st_mode));
		wb_u64(&b, T_SIZE, (uint64_t)st.st_size);
		wb_u32(&b, T_FILE_MODE, st.st_mode);
		wb_i64(&b, T_MTIME_NS, fs_mtime_ns(&st));
		if (S_ISLNK(st.st_mode) &&
		    (tl = readlinkat(dirfd, name, target, sizeof(target))) >= 0)
			wb_bytes(&b, T_TARGET, target, (size_t)tl);
	} else {
		wb_u8(&b, T_FILE_TYPE, wire_type_of_dt(dtype));
	}
	wb_close(&b, mark);
	walk_record(w, &b);
	return true;
}

static void ls_work(void *arg, struct fs_out *out, struct fs_summary *sum)
{
	struct walker *w = arg;

	w->out = out;
	w->sum = sum;
	ign_ancestors(w, w->fd);
	walk_tree(w, w->fd, 0);
}

void fs_req_ls(struct stream *s, const uint8_t *p, size_t n)
{
	char path[FS_PATH_MAX];
	struct walker *w;
	uint64_t depth;

	if (fs_req_path(s, p, n, T_PATH, path) < 0 ||
	    req_uint(s, p, n, T_DEPTH, 1, 0, REQ_ANY, &depth) < 0)
		return;
	if (!(w = calloc(1, sizeof(*w)))) {
		stream_error_errno(s, ENOMEM, "ls");
		return;
	}
	if (walk_parse(s, p, n, w, 0, NULL) < 0) {
		walk_free(w);
		return;
	}
	w->fd = fs_open(fs_of(s), path, O_RDONLY | O_DIRECTORY, 0);
	if (w->fd < 0) {
		fs_fail(s, -w->fd, "ls", path);
		walk_free(w);
		return;
	}
	w->max_depth = depth ? (uint32_t)(depth > 1000 ? 1000 : depth) : 1;
	w->visit = ls_visit;
	walk_set_root(w, path); /* NAMEs are relative to it */
	walk_start(s, w, ls_work, walk_free);
}

/* ---- FIND ---- */

struct found {
	int64_t mtime;
	uint8_t type;
	char path[]; /* as find prints it */
};

struct find_job {
	struct walker w; /* first: the walk's callbacks find us from it */
	int type;	 /* WFT_*, 0 = any */
	bool by_mtime;
	struct found **v; /* by_mtime: the newest (all, or MAX_RESULTS) */
	size_t n, cap;
	uint64_t total;		 /* by_mtime: matches found */
	struct glob_set globs;	 /* n == 0: all */
	char name[NAME_MAX + 1]; /* NAME: find -name, "" none */
};

static void find_send(struct walker *w, const char *path, uint8_t type,
		      const int64_t *mtime)
{
	uint8_t rec[FS_PATH_MAX * 2 + 64];
	struct wire_buf b;
	size_t mark;

	wb_init(&b, rec, sizeof(rec));
	mark = wb_open(&b, T_ENTRY);
	wb_str(&b, T_PATH, path);
	wb_u8(&b, T_FILE_TYPE, type);
	if (mtime)
		wb_i64(&b, T_MTIME_NS, *mtime);
	wb_close(&b, mark);
	walk_record(w, &b);
}

/* A match: sent now, or kept to be sorted by mtime (name "" is dirfd). */
/* Order of SORT 1: newer first, then by path. */
static int cmp_newest(const void *a, const void *b)
{
	const struct found *x = *(struct found *const *)a;
	const struct found *y = *(struct found *const *)b;

	if (x->mtime != y->mtime)
		return x->mtime < y->mtime ? 1 : -1;
	return strcmp(x->path, y->path);
}

/* With MAX_RESULTS the kept matches are a heap of the newest max, the
 * one that would be sent last on top: memory bounded by the cap, not by
 * the tree.  Sift the entry at i down, or up. */
static void heap_down(struct found **v, size_t n, size_t i)
{
	struct found *t;
	size_t c;

	while ((c = 2 * i + 1) < n) {
		if (c + 1 < n && cmp_newest(&v[c + 1], &v[c]) > 0)
			c++;
		if (cmp_newest(&v[c], &v[i]) <= 0)
			break;
		t = v[c], v[c] = v[i], v[i] = t;
		i = c;
	}
}

static void heap_up(struct found **v, size_t i)
{
	struct found *t;

	for (; i && cmp_newest(&v[i], &v[(i - 1) / 2]) > 0; i = (i - 1) / 2)
		t = v[i], v[i] = v[(i - 1) / 2], v[(i - 1) / 2] = t;
}

/* A match: sent now, or kept to be sorted by mtime (name "" is dirfd). */
static void find_found(struct find_job *j, const char *path, uint8_t type,
		       int dirfd, const char *name)
{
	struct found *f, **v;
	struct stat st;
	size_t len;

	if (!j->by_mtime) {
		find_send(&j->w, path, type, NULL);
		return;
	}
	if (j->n == j->cap && (!j->w.max || j->n < j->w.max)) {
		v = realloc(j->v,
			    (j->cap = j->cap ? 2 * j->cap : 256) * sizeof(*v));
		if (!v) {
			j->w.stop = true;
			return;
		}
		j->v = v;
	}
	len = strlen(path);
	if (!(f = malloc(sizeof(*f) + len + 1))) {
		j->w.stop = true;
		return;
	}
	f->mtime =
	    fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH) == 0
		? fs_mtime_ns(&st)
		: 0;
	f->type = type;
	memcpy(f->path, path, len + 1);
	j->total++;
	if (!j->w.max || j->n < j->w.max) {
		j->v[j->n] = f;
		heap_up(j->v, j->n++);
	} else if (cmp_newest(&f, &j->v[0]) < 0) { /* newer than the last */
		free(j->v[0]);
		j->v[0] = f;
		heap_down(j->v, j->n, 0);
	} else {
		free(f);
	}
}

static bool find_visit(struct walker *w, int dirfd, const char *name,
		       const char *path, unsigned char dtype, uint32_t depth)
{
	struct find_job *j = (struct find_job *)w;
	uint8_t type = wire_type_of_dt(dtype);

	if ((!j->type || j->type == type) &&
	    (!*j->name || glob_match(j->name, name)) &&
	    (!j->globs.n ||
	     glob_set_match(&j->globs, name, depth ? path + w->rel_off : NULL)))
		find_found(j, path, type, dirfd, depth ? name : "");
	return true;
}

static void find_work(void *arg, struct fs_out *out, struct fs_summary *sum)
{
	struct find_job *j = arg;
	const char *base = strrchr(j->w.path, '/');
	struct stat st;
	size_t i;

	j->w.out = out;
	j->w.sum = sum;
	if (fstat(j->w.fd, &st) < 0)
		return;
	/* The start itself is depth 0, as in find(1). */
	base = base && base[1] ? base + 1 : j->w.path;
	find_visit(&j->w, j->w.fd, base, j->w.path,
		   (unsigned char)IFTODT(st.st_mode), 0);
	if (S_ISDIR(st.st_mode) && j->w.max_depth > 0 && !j->w.stop) {
		ign_ancestors(&j->w, j->w.fd);
		walk_tree(&j->w, j->w.fd, 0);
	}
	if (j->n) /* qsort(NULL, 0) is UB */
		qsort(j->v, j->n, sizeof(*j->v), cmp_newest);
	for (i = 0; i < j->n; i++)
		find_send(&j->w, j->v[i]->path, j->v[i]->type, &j->v[i]->mtime);
	if (j->total > j->n) { /* the heap let these go: an exact count */
		sum->truncated = 1;
		sum->more = j->total - j->n;
	}
}

static int find_parse(struct stream *s, const uint8_t *p, size_t n,
		      struct find_job *j)
{
	uint64_t depth, type, sort;
	struct wire_field f;

	if (walk_parse(s, p, n, &j->w, 1, &j->globs) < 0 ||
	    req_str(s, p, n, T_NAME, NAME_MAX, &f) < 0 ||
	    req_uint(s, p, n, T_DEPTH, UINT32_MAX, 0, REQ_ANY, &depth) < 0 ||
	    req_uint(s, p, n, T_FILE_TYPE, 0, 0, REQ_ANY, &type) < 0 ||
	    req_uint(s, p, n, T_SORT, WSORT_PATH, 0, WSORT_MTIME, &sort) < 0)
		return -1;
	j->w.max_depth = depth > UINT32_MAX ? UINT32_MAX : (uint32_t)depth;
	j->type = (int)type;
	j->by_mtime = sort == WSORT_MTIME;
	if (f.val && memchr(f.val, '/', f.len)) { /* never silently nothing */
		stream_error(
		    s, E_BAD_PATTERN, 0,
		    "NAME matches a name, which has no '/': a path pattern goes in GLOB");
		return -1;
	}
	if (f.val)
		memcpy(j->name, f.val, f.len);
	return 0;
}

void fs_req_find(struct stream *s, const uint8_t *p, size_t n)
{
	char path[FS_PATH_MAX];
	struct find_job *j;
	int fd, dfd;

	if (fs_req_path(s, p, n, T_PATH, path) < 0)
		return;
	if (!(j = calloc(1, sizeof(*j)))) {
		stream_error_errno(s, ENOMEM, "find");
		return;
	}
	if (find_parse(s, p, n, j) < 0) {
		walk_free(j);
		return;
	}
	fd = fs_open(fs_of(s), path, O_PATH | O_NOFOLLOW, 0);
	/* A directory needs a readable fd for getdents. */
	if (fd >= 0 &&
	    (dfd = openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0) {
		close(fd);
		fd = dfd;
	}
	if (fd < 0) {
		walk_free(j);
		fs_fail(s, -fd, "find", path);
		return;
	}
	j->w.fd = fd;
	j->w.visit = find_visit;
	walk_set_root(&j->w, path);
	walk_start(s, &j->w, find_work, walk_free);
}

/* ---- REMOVE -r ---- */

int fs_remove_tree(int dirfd, const char *name)
{
	struct names ns;
	int fd, r = 0;
	size_t i;

	if (unlinkat(dirfd, name, 0) == 0)
		return 0;
	if (errno != EISDIR && errno != EPERM)
		return -errno;
	fd = openat(dirfd, name,
		    O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if ((r = read_names(dup(fd), &ns, true)) < 0) {
		close(fd);
		return r;
	}
	for (i = 0; i < ns.n && r == 0; i++)
		r = fs_remove_tree(fd, ns.v[i] + 1);
	names_free(&ns);
	close(fd);
	if (r == 0 && unlinkat(dirfd, name, AT_REMOVEDIR) < 0)
		r = -errno;
	return r;
}

/* ---- MOVE across filesystems: a copy of a tree ---- */

/* Owner (best effort: not root, the copy is ours, as with mv), then mode,
 * then times, the order that keeps each: chown can clear set-id bits and
 * chmod does not touch the mtime.  utimensat(2) itself: musl's wrapper
 * carries 400 bytes of fallbacks for kernels before 2.6.22.  name "" is
 * dfd itself. */
static int copy_meta(int dfd, const char *name, const struct stat *st)
{
	int at = AT_SYMLINK_NOFOLLOW | (*name ? 0 : AT_EMPTY_PATH), r = 0;

	(void)fchownat(dfd, name, st->st_uid, st->st_gid, at);
	if (!S_ISLNK(st->st_mode) &&
	    (*name ? fchmodat(dfd, name, st->st_mode & 07777, 0)
		   : fchmod(dfd, st->st_mode & 07777)) < 0)
		r = -errno;
	(void)syscall(SYS_utimensat, dfd, name,
		      (struct timespec[2]){st->st_atim, st->st_mtim}, at);
	return r;
}

static int copy_file(int sfd, const char *sname, int dfd, const char *dname,
		     const struct stat *st)
{
	int in = openat(sfd, sname, O_RDONLY | O_NOFOLLOW | O_CLOEXEC), out;
	ssize_t k = 0;
	int r = 0;

	if (in < 0)
		return -errno;
	out =
	    openat(dfd, dname,
		   O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (out < 0) {
		r = -errno;
	} else {
		while ((k = sendfile(out, in, NULL, 1 << 30)) > 0)
			;
		r = k < 0 ? -errno : copy_meta(out, "", st);
		if (close(out) < 0 && !r) /* NFS reports a late ENOSPC here */
			r = -errno;
	}
	close(in);
	return r;
}

int fs_copy_tree(int sfd, const char *sname, int dfd, const char *dname)
{
	char target[FS_PATH_MAX];
	struct names ns;
	struct stat st;
	int s, d, r = 0;
	ssize_t n;
	size_t i;

	if (fstatat(sfd, sname, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return -errno;
	if (S_ISREG(st.st_mode))
		return copy_file(sfd, sname, dfd, dname, &st);
	if (S_ISLNK(st.st_mode)) {
		n = readlinkat(sfd, sname, target, sizeof(target) - 1);
		if (n < 0)
			return -errno;
		target[n] = 0;
		if (symlinkat(target, dfd, dname) < 0)
			return -errno;
		return copy_meta(dfd, dname, &st);
	}
	if (!S_ISDIR(st.st_mode)) /* a FIFO, socket or device */
		return mknodat(dfd, dname, st.st_mode, st.st_rdev) < 0
			   ? -errno
			   : copy_meta(dfd, dname, &st);
	if (mkdirat(dfd, dname, 0700) < 0)
		return -errno;
	s = openat(sfd, sname, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	d = openat(dfd, dname, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (s < 0 || d < 0 || (r = read_names(dup(s), &ns, true)) < 0) {
		r = r ? r : -errno;
	} else {
		for (i = 0; i < ns.n && !r; i++)
			r = fs_copy_tree(s, ns.v[i] + 1, d, ns.v[i] + 1);
		names_free(&ns);
		/* the mode and times last: a read-only directory still
		 * took its entries, and they did not touch its mtime */
		if (!r)
			r = copy_meta(d, "", &st);
	}
	if (s >= 0)
		close(s);
	if (d >= 0)
		close(d);
	return r;
}
