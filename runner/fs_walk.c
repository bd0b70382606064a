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
}

void walk_tree(struct walker *w, int dirfd, uint32_t depth)
{
	struct names ns;
	size_t i, nl, save = w->plen;
	int fd;

	fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || read_names(fd, &ns, w->hidden) < 0)
		return; /* unreadable: skipped, like find after its warning */
	for (i = 0; i < ns.n && !w->stop; i++) {
		const char *name = ns.v[i] + 1;
		unsigned char type = (unsigned char)ns.v[i][0];
		struct stat st;
		bool descend;

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
		descend = w->visit(w, dirfd, name, w->path, type, depth + 1);
		if (descend && !w->stop && depth + 1 < w->max_depth &&
		    type == DT_DIR) {
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
	names_free(&ns);
}

static uint8_t wire_type_of_dt(unsigned char dt)
{
	return fs_file_type((mode_t)DTTOIF(dt));
}

/* ---- LS ---- */

struct ls_job {
	struct walker w; /* first: the visit callback finds us from it */
	struct fs_out *out;
	struct fs_summary *sum;
	int dirfd;
	size_t root_len; /* names are relative to the listed directory */
};

static bool ls_visit(struct walker *w, int dirfd, const char *name,
		     const char *path, unsigned char dtype, uint32_t depth)
{
	struct ls_job *j = (struct ls_job *)w;
	uint8_t rec[FS_PATH_MAX * 2 + 128];
	char target[FS_PATH_MAX];
	struct wire_buf b;
	struct stat st;
	size_t mark;
	ssize_t tl;

	(void)depth;
	wb_init(&b, rec, sizeof(rec));
	mark = wb_open(&b, T_ENTRY);
	wb_str(&b, T_NAME, path + j->root_len);
	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0) {
		dtype = (unsigned char)IFTODT(st.st_mode);
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
	fs_out_record(j->out, &b);
	j->sum->count++;
	if (j->out->failed)
		w->stop = true;
	return true;
}

static void ls_work(void *arg, struct fs_out *out, struct fs_summary *sum)
{
	struct ls_job *j = arg;

	j->out = out;
	j->sum = sum;
	walk_tree(&j->w, j->dirfd, 0);
}

static void ls_free(void *arg)
{
	struct ls_job *j = arg;

	close(j->dirfd);
	free(j);
}

void fs_req_ls(struct stream *s, const uint8_t *p, size_t n)
{
	char path[FS_PATH_MAX];
	uint64_t depth, hidden;
	struct ls_job *j;
	int fd;

	if (fs_req_path(s, p, n, T_PATH, path) < 0 ||
	    fs_req_uint(s, p, n, T_DEPTH, 1, &depth) < 0 ||
	    fs_req_uint(s, p, n, T_HIDDEN, 0, &hidden) < 0)
		return;
	fd = fs_open(fs_of(s), path, O_RDONLY | O_DIRECTORY, 0);
	if (fd < 0) {
		fs_fail(s, -fd, "ls", path);
		return;
	}
	j = calloc(1, sizeof(*j));
	if (!j) {
		close(fd);
		stream_error(s, E_IO, ENOMEM, "ls: out of memory");
		return;
	}
	j->dirfd = fd;
	j->w.max_depth = depth ? (uint32_t)(depth > 1000 ? 1000 : depth) : 1;
	j->w.hidden = hidden != 0;
	j->w.visit = ls_visit;
	/* Names relative to the listed dir: walk from an empty path. */
	walk_set_root(&j->w, "");
	j->root_len = 0;
	fs_job_start_keep(s, ls_work, j, ls_free, &fd, 1);
}

/* ---- FIND ---- */

struct found {
	int64_t mtime;
	uint8_t type;
	char path[]; /* as find prints it */
};

struct find_job {
	struct walker w;
	struct fs_out *out;
	struct fs_summary *sum;
	int fd;
	int type; /* WFT_*, 0 = any */
	bool by_mtime;
	uint64_t max;
	size_t rel_off;	  /* where the path below the start begins */
	struct found **v; /* by_mtime: everything found, sorted at the end */
	size_t n, cap;
	struct glob_set globs; /* n == 0: all */
};

static void find_send(struct find_job *j, const char *path, uint8_t type,
		      const int64_t *mtime)
{
	uint8_t rec[FS_PATH_MAX * 2 + 64];
	struct wire_buf b;
	size_t mark;

	if (!fs_cap(j->sum, j->max, &j->w.stop))
		return;
	wb_init(&b, rec, sizeof(rec));
	mark = wb_open(&b, T_ENTRY);
	wb_str(&b, T_PATH, path);
	wb_u8(&b, T_FILE_TYPE, type);
	if (mtime)
		wb_i64(&b, T_MTIME_NS, *mtime);
	wb_close(&b, mark);
	fs_out_record(j->out, &b);
	j->sum->count++;
	if (j->out->failed)
		j->w.stop = true;
}

/* A match: sent now, or kept to be sorted by mtime (name "" is dirfd). */
static void find_found(struct find_job *j, const char *path, uint8_t type,
		       int dirfd, const char *name)
{
	struct found *f, **v;
	struct stat st;
	size_t len;

	if (!j->by_mtime) {
		find_send(j, path, type, NULL);
		return;
	}
	if (j->n == j->cap) {
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
	j->v[j->n++] = f;
}

static int cmp_newest(const void *a, const void *b)
{
	const struct found *x = *(struct found *const *)a;
	const struct found *y = *(struct found *const *)b;

	if (x->mtime != y->mtime)
		return x->mtime < y->mtime ? 1 : -1;
	return strcmp(x->path, y->path);
}

static bool find_visit(struct walker *w, int dirfd, const char *name,
		       const char *path, unsigned char dtype, uint32_t depth)
{
	struct find_job *j = (struct find_job *)w;
	uint8_t type = wire_type_of_dt(dtype);

	if ((!j->type || j->type == type) &&
	    (!j->globs.n ||
	     glob_set_match(&j->globs, name, depth ? path + j->rel_off : NULL)))
		find_found(j, path, type, dirfd, depth ? name : "");
	return true;
}

static void find_work(void *arg, struct fs_out *out, struct fs_summary *sum)
{
	struct find_job *j = arg;
	const char *base = strrchr(j->w.path, '/');
	struct stat st;
	size_t i;

	j->out = out;
	j->sum = sum;
	if (fstat(j->fd, &st) < 0)
		return;
	/* The start itself is depth 0, as in find(1). */
	base = base && base[1] ? base + 1 : j->w.path;
	find_visit(&j->w, j->fd, base, j->w.path,
		   (unsigned char)IFTODT(st.st_mode), 0);
	if (S_ISDIR(st.st_mode) && j->w.max_depth > 0 && !j->w.stop)
		walk_tree(&j->w, j->fd, 0);
	if (j->n) /* qsort(NULL, 0) is UB */
		qsort(j->v, j->n, sizeof(*j->v), cmp_newest);
	for (i = 0; i < j->n; i++) {
		j->w.stop = false; /* an exact count of the rest */
		find_send(j, j->v[i]->path, j->v[i]->type, &j->v[i]->mtime);
	}
}

static void find_free(void *arg)
{
	struct find_job *j = arg;

	close(j->fd);
	free(j);
}

static int find_parse(struct stream *s, const uint8_t *p, size_t n,
		      struct find_job *j)
{
	uint64_t depth, type, max, hidden, sort;
	struct wire_iter it;
	struct wire_field f;

	if (fs_req_uint(s, p, n, T_DEPTH, UINT32_MAX, &depth) < 0 ||
	    fs_req_uint(s, p, n, T_FILE_TYPE, 0, &type) < 0 ||
	    fs_req_uint(s, p, n, T_MAX_RESULTS, 0, &max) < 0 ||
	    fs_req_uint(s, p, n, T_HIDDEN, 1, &hidden) < 0 ||
	    fs_req_uint(s, p, n, T_SORT, WSORT_PATH, &sort) < 0)
		return -1;
	j->w.max_depth = depth > UINT32_MAX ? UINT32_MAX : (uint32_t)depth;
	j->w.hidden = hidden != 0;
	j->type = (int)type;
	j->max = max;
	j->by_mtime = sort == WSORT_MTIME;
	wire_iter_init(&it, p, n);
	while (wire_next(&it, &f) > 0)
		if (f.tag == T_GLOB &&
		    fs_req_glob(s, &j->globs, (const char *)f.val, f.len) < 0)
			return -1;
	return 0;
}

void fs_req_find(struct stream *s, const uint8_t *p, size_t n)
{
	char path[FS_PATH_MAX];
	struct find_job *j;
	int fd;

	if (fs_req_path(s, p, n, T_PATH, path) < 0)
		return;
	j = calloc(1, sizeof(*j));
	if (!j) {
		stream_error(s, E_IO, ENOMEM, "find: out of memory");
		return;
	}
	if (find_parse(s, p, n, j) < 0) {
		free(j);
		return;
	}
	fd = fs_open(fs_of(s), path, O_PATH | O_NOFOLLOW, 0);
	if (fd >= 0) {
		/* A directory needs a readable fd for getdents. */
		int dfd = openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (dfd >= 0) {
			close(fd);
			fd = dfd;
		}
	}
	if (fd < 0) {
		free(j);
		fs_fail(s, -fd, "find", path);
		return;
	}
	j->fd = fd;
	j->w.visit = find_visit;
	walk_set_root(&j->w, path);
	j->rel_off = j->w.plen + (j->w.path[j->w.plen - 1] != '/');
	fs_job_start_keep(s, find_work, j, find_free, &fd, 1);
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
