/* fs_path.c - confined path resolution.
 *
 * With --root every path is resolved as if the root were "/": absolute
 * paths and absolute symlink targets start at the root, and `..` at the
 * root stays there (RESOLVE_IN_ROOT).  A request path whose own `..`
 * components climb above the root is refused with EXDEV (E_ESCAPE) so a
 * client learns it asked for something outside, instead of silently
 * getting a file inside.  RESOLVE_NO_MAGICLINKS keeps /proc/self/fd/N
 * style links from teleporting anywhere.
 *
 * Where openat2 is missing (ENOSYS, kernels before 5.6) the same
 * semantics are walked by hand: one component at a time with O_NOFOLLOW,
 * symlinks read with readlinkat and spliced into the remaining path, `..`
 * popped from our own stack of directory fds (never the kernel's), so a
 * symlink or directory swapped mid-walk can only send us somewhere else
 * inside the root.  Every fd on the stack is itself inside the root.
 */
#include "fs_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#define MAX_SYMLINKS 40
#define WALK_DEPTH   256

int fs_path_copy(char *buf, const struct wire_field *f)
{
	if (!f->val || f->len == 0)
		return -EINVAL;
	if (f->len >= FS_PATH_MAX)
		return -ENAMETOOLONG;
	if (memchr(f->val, 0, f->len))
		return -EINVAL;
	memcpy(buf, f->val, f->len);
	buf[f->len] = 0;
	return 0;
}

/* Does path's own `..` climb above where it starts? */
static bool lexically_escapes(const char *path)
{
	long depth = 0;
	const char *p = path, *e;
	size_t n;

	while (*p) {
		while (*p == '/')
			p++;
		e = strchrnul(p, '/');
		n = (size_t)(e - p);
		if (n == 2 && p[0] == '.' && p[1] == '.') {
			if (--depth < 0)
				return true;
		} else if (n && !(n == 1 && p[0] == '.')) {
			depth++;
		}
		p = e;
	}
	return false;
}

static int openat2_in_root(int root, const char *rel, int flags, mode_t mode)
{
	struct open_how how = {
	    .flags = (uint64_t)(flags | O_CLOEXEC),
	    .mode = (flags & (O_CREAT | O_TMPFILE)) ? mode : 0,
	    .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
	};
	int fd, tries;

	/* EAGAIN: a concurrent rename raced a `..`; the kernel asks us to
	 * retry rather than risk a wrong answer. */
	for (tries = 0; tries < 8; tries++) {
		fd = (int)syscall(SYS_openat2, root, rel, &how, sizeof(how));
		if (fd >= 0)
			return fd;
		if (errno != EAGAIN)
			return -errno;
	}
	return -EAGAIN;
}

/* ---- the fallback walker ---- */

struct walk {
	int fds[WALK_DEPTH]; /* fds[0] is the root, not ours to close */
	int depth;
	int links;
	char last[NAME_MAX + 1];    /* the final name, for the caller */
	char rest[2 * FS_PATH_MAX]; /* what is left to resolve */
	char tmp[2 * FS_PATH_MAX];
};

static void walk_pop_to(struct walk *w, int depth)
{
	while (w->depth > depth)
		close(w->fds[w->depth--]);
}

/* Replace the component just taken with the link's target.  A '/'
 * joins them only when something follows or the component had a
 * trailing slash: "link/" must still name a directory after the splice,
 * and a plain "link" must not gain one. */
static int walk_splice(struct walk *w, int linkfd, const char *after,
		       bool dir_only)
{
	ssize_t n;
	size_t alen = strlen(after), sep = alen || dir_only;

	if (++w->links > MAX_SYMLINKS)
		return -ELOOP;
	n = readlinkat(linkfd, "", w->tmp, FS_PATH_MAX);
	if (n < 0)
		return -errno;
	if (n >= FS_PATH_MAX || (size_t)n + sep + alen >= sizeof(w->tmp))
		return -ENAMETOOLONG;
	if (w->tmp[0] == '/')
		walk_pop_to(w, 0);
	w->tmp[n] = '/';
	memcpy(w->tmp + n + sep, after, alen + 1);
	memcpy(w->rest, w->tmp, (size_t)n + sep + alen + 1);
	return 0;
}

/* One step: take the next component of w->rest.  Returns 1 to go on,
 * 0 when the path is used up, -errno. */
static int walk_step(struct walk *w, bool last_follow)
{
	char comp[NAME_MAX + 1];
	const char *p = w->rest, *e;
	struct stat st;
	bool dir_only;
	size_t n;
	int fd, r;

	while (*p == '/')
		p++;
	if (!*p)
		return 0;
	e = strchrnul(p, '/');
	n = (size_t)(e - p);
	if (n > NAME_MAX)
		return -ENAMETOOLONG;
	memcpy(comp, p, n);
	comp[n] = 0;
	dir_only = *e == '/'; /* "name/" must be a directory */
	while (*e == '/')
		e++;
	memmove(w->rest, e, strlen(e) + 1);
	if (!strcmp(comp, "."))
		return 1;
	if (!strcmp(comp, "..")) {
		walk_pop_to(w, w->depth ? w->depth - 1 : 0);
		return 1;
	}
	fd = openat(w->fds[w->depth], comp, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT && !w->rest[0]) {
		memcpy(w->last, comp, n + 1);
		return 2; /* absent last name: the caller may create it */
	}
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0) {
		r = -errno;
		close(fd);
		return r;
	}
	if (S_ISLNK(st.st_mode) && (w->rest[0] || last_follow || dir_only)) {
		r = walk_splice(w, fd, w->rest, dir_only);
		close(fd);
		return r < 0 ? r : 1;
	}
	if (!w->rest[0] && dir_only && !S_ISDIR(st.st_mode)) {
		close(fd);
		return -ENOTDIR;
	}
	if (!w->rest[0]) {
		/* The last component: the caller opens it by name. */
		close(fd);
		memcpy(w->last, comp, n + 1);
		return 2;
	}
	if (!S_ISDIR(st.st_mode) || w->depth + 1 >= WALK_DEPTH) {
		close(fd);
		return S_ISDIR(st.st_mode) ? -ENAMETOOLONG : -ENOTDIR;
	}
	w->fds[++w->depth] = fd;
	return 1;
}

static int walk_open(int root, const char *rel, int flags, mode_t mode)
{
	struct walk *w = malloc(sizeof(*w));
	bool follow = !(flags & O_NOFOLLOW);
	int r, fd;

	if (!w)
		return -ENOMEM;
	w->fds[0] = root;
	w->depth = 0;
	w->links = 0;
	snprintf(w->rest, sizeof(w->rest), "%s", rel);
	while ((r = walk_step(w, follow)) == 1)
		;
	if (r == 0) {
		/* Used up on a directory ("", ".", ".."): open it. */
		fd = openat(w->fds[w->depth], ".", flags | O_CLOEXEC, mode);
		r = fd < 0 ? -errno : fd;
	} else if (r == 2) {
		/* O_NOFOLLOW: a link swapped in since the check fails with
		 * ELOOP instead of being followed out of the root. */
		fd = openat(w->fds[w->depth], w->last,
			    flags | O_NOFOLLOW | O_CLOEXEC, mode);
		r = fd < 0 ? -errno : fd;
	}
	walk_pop_to(w, 0);
	free(w);
	return r;
}

/* Resolve path inside the root with no lexical check: also for the paths
 * fs_open_parent_follow builds from link targets, whose `..` stop at the
 * root (§17.1) instead of being an escape. */
static int open_in_root(struct fs_state *fs, const char *path, int flags,
			mode_t mode)
{
	const char *rel = path;
	int fd;

	if (fs->root_fd < 0) {
		fd = openat(AT_FDCWD, path, flags | O_CLOEXEC, mode);
		return fd < 0 ? -errno : fd;
	}
	while (*rel == '/')
		rel++;
	if (!*rel)
		rel = ".";
	if (fs->use_openat2) {
		fd = openat2_in_root(fs->root_fd, rel, flags, mode);
		if (fd != -ENOSYS)
			return fd;
		fs->use_openat2 = false;
	}
	return walk_open(fs->root_fd, rel, flags, mode);
}

int fs_open(struct fs_state *fs, const char *path, int flags, mode_t mode)
{
	if (fs->root_fd >= 0 && lexically_escapes(path))
		return -EXDEV;
	return open_in_root(fs, path, flags, mode);
}

/* Split path into its directory (in dir) and last name. */
static int split_parent(const char *path, char *dir, char *name, size_t cap)
{
	size_t len = strlen(path);
	const char *slash;
	size_t n;

	while (len > 1 && path[len - 1] == '/')
		len--;
	memcpy(dir, path, len);
	dir[len] = 0;
	slash = strrchr(dir, '/');
	n = slash ? strlen(slash + 1) : len;
	if (n == 0 || n >= cap || n > NAME_MAX)
		return n ? -ENAMETOOLONG : -EINVAL;
	memcpy(name, slash ? slash + 1 : dir, n + 1);
	if (!strcmp(name, ".") || !strcmp(name, ".."))
		return -EINVAL;
	if (!slash)
		strcpy(dir, ".");
	else if (slash == dir)
		dir[1] = 0; /* "/name" */
	else
		dir[slash - dir] = 0;
	return 0;
}

/* The directory holding path's last name; a client's own `..` above the
 * root is an escape (checked), a link target's is not. */
static int open_parent(struct fs_state *fs, const char *path, char *name,
		       size_t cap, bool checked)
{
	char dir[FS_PATH_MAX];
	int r;

	if ((r = split_parent(path, dir, name, cap)) < 0)
		return r;
	if (checked && fs->root_fd >= 0 && lexically_escapes(path))
		return -EXDEV;
	return open_in_root(fs, dir, O_PATH | O_DIRECTORY, 0);
}

int fs_open_parent(struct fs_state *fs, const char *path, char *name,
		   size_t cap)
{
	return open_parent(fs, path, name, cap, true);
}

int fs_open_parent_follow(struct fs_state *fs, const char *path, char *name,
			  size_t cap)
{
	char cur[FS_PATH_MAX], tgt[FS_PATH_MAX], dir[FS_PATH_MAX];
	int links, dirfd, r;
	ssize_t n;

	snprintf(cur, sizeof(cur), "%s", path);
	for (links = 0; links <= MAX_SYMLINKS; links++) {
		dirfd = open_parent(fs, cur, name, cap, links == 0);
		if (dirfd < 0)
			return dirfd;
		n = readlinkat(dirfd, name, tgt, sizeof(tgt) - 1);
		if (n < 0)
			return dirfd; /* not a link, or not there yet */
		close(dirfd);
		tgt[n] = 0;
		if (tgt[0] == '/') {
			snprintf(cur, sizeof(cur), "%s", tgt);
			continue;
		}
		if ((r = split_parent(cur, dir, name, cap)) < 0)
			return r;
		if ((size_t)snprintf(cur, sizeof(cur), "%s/%s", dir, tgt) >=
		    sizeof(cur))
			return -ENAMETOOLONG;
	}
	return -ELOOP;
}
