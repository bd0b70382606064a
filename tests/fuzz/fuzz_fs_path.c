/* link: runner/fs_path.c */
/* fuzz_fs_path.c - libFuzzer target for confined path resolution
 * (runner/fs_path.c): every path a client names goes through it.
 *
 * A fixed tree is built once in a fresh directory under $TMPDIR (or
 * /tmp), with the root one level down and a file beside it that must
 * stay out of reach:
 *
 *     T/outside/secret
 *     T/root/file  dir/sub/deep  dir/up -> ..  dir/upup -> ../..
 *            abs -> /dir/sub  etc -> /etc  esc -> ../outside/secret
 *            loop1 <-> loop2  self -> .  dlink -> dir  dangling -> nowhere
 *
 * Input: byte 0 selects the mode (bit 0: raw bytes, else each byte picks
 * a component from a list of the tree's names plus ".", "..", "" and a
 * long one; bit 1: leading '/').  Only O_PATH opens: nothing is created
 * or written, so the fuzzer is safe to run anywhere.
 *
 * Invariants:
 *  - whatever fs_open returns lies inside the root (its /proc/self/fd
 *    link starts with the root's path);
 *  - the openat2 path and the hand-walked fallback agree: both fail, or
 *    both open the same inode;
 *  - fs_open_parent gives a directory inside the root and a name without
 *    '/', never "." or "..".
 */
#include "fs_internal.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define CHECK(cond)                                                            \
	do {                                                                   \
		if (!(cond))                                                   \
			__builtin_trap();                                      \
	} while (0)

/* The tree's names and more; tests/fuzz/make-seeds lists them too. */
/* clang-format off */
static const char *const components[] = {
	"file", "dir", "sub", "deep", "up", "upup", "abs", "etc", "esc",
	"loop1", "loop2", "self", "dlink", "dangling", "..", ".", "", "root",
	"outside", "secret", "nope", "passwd",
	"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
};
/* clang-format on */

static char top[PATH_MAX];
static char root_path[PATH_MAX + 8];
static size_t root_len;
static struct fs_state fs2, fsw; /* openat2, and the fallback walker */

static void build_tree(void)
{
	static const char *const links[][2] = {
	    {"dir/up", ".."},
	    {"dir/upup", "../.."},
	    {"abs", "/dir/sub"},
	    {"etc", "/etc"},
	    {"esc", "../outside/secret"},
	    {"loop1", "loop2"},
	    {"loop2", "loop1"},
	    {"self", "."},
	    {"dlink", "dir"},
	    {"dangling", "nowhere"},
	};
	static const char *const dirs[] = {"outside", "root", "root/dir",
					   "root/dir/sub"};
	char p[PATH_MAX + 64];
	size_t i;
	int fd;

	/* tools/fuzz-run points TMPDIR into the build directory, so a crashed
	 * run (atexit does not run) leaves its tree there, not in /tmp. */
	const char *tmp = getenv("TMPDIR");

	snprintf(top, sizeof(top), "%s/fuzz_fs_path.XXXXXX",
		 tmp && *tmp ? tmp : "/tmp");
	CHECK(mkdtemp(top));
	/* Absolute and without symlinks: /proc/self/fd links are compared
	 * against it. */
	CHECK(realpath(top, p));
	snprintf(top, sizeof(top), "%s", p);
	snprintf(root_path, sizeof(root_path), "%s/root", top);
	root_len = strlen(root_path);
	for (i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		snprintf(p, sizeof(p), "%s/%s", top, dirs[i]);
		CHECK(mkdir(p, 0700) == 0);
	}
	snprintf(p, sizeof(p), "%s/outside/secret", top);
	CHECK((fd = open(p, O_CREAT | O_WRONLY, 0600)) >= 0 && !close(fd));
	snprintf(p, sizeof(p), "%s/file", root_path);
	CHECK((fd = open(p, O_CREAT | O_WRONLY, 0600)) >= 0 && !close(fd));
	snprintf(p, sizeof(p), "%s/dir/sub/deep", root_path);
	CHECK((fd = open(p, O_CREAT | O_WRONLY, 0600)) >= 0 && !close(fd));
	for (i = 0; i < sizeof(links) / sizeof(links[0]); i++) {
		snprintf(p, sizeof(p), "%s/%s", root_path, links[i][0]);
		CHECK(symlink(links[i][1], p) == 0);
	}
}

static void remove_tree(void)
{
	char cmd[PATH_MAX + 16];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", top);
	if (system(cmd) != 0)
		fprintf(stderr, "fuzz_fs_path: could not remove %s\n", top);
}

static int harness_init(void)
{
	build_tree();
	atexit(remove_tree);
	fs2.root_fd = open(root_path, O_PATH | O_DIRECTORY | O_CLOEXEC);
	CHECK(fs2.root_fd >= 0);
	fs2.use_openat2 = true;
	fsw = fs2;
	fsw.use_openat2 = false;
	return 0;
}

static void check_inside(int fd)
{
	char link[64], target[PATH_MAX];
	ssize_t n;

	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = readlink(link, target, sizeof(target) - 1);
	CHECK(n > 0);
	target[n] = 0;
	CHECK(!strncmp(target, root_path, root_len) &&
	      (target[root_len] == '/' || target[root_len] == 0));
}

static void check_open(const char *path)
{
	int a = fs_open(&fs2, path, O_PATH, 0);
	int w = fs_open(&fsw, path, O_PATH, 0);
	struct stat sa, sw;

	if (getenv("FUZZ_TRACE"))
		fprintf(stderr, "%s: openat2 %d, walk %d\n", path, a, w);
	if (a >= 0)
		check_inside(a);
	if (w >= 0)
		check_inside(w);
	CHECK((a >= 0) == (w >= 0));
	if (a >= 0) {
		CHECK(fstat(a, &sa) == 0 && fstat(w, &sw) == 0);
		CHECK(sa.st_dev == sw.st_dev && sa.st_ino == sw.st_ino);
		close(a);
		close(w);
	}
}

static void check_parent(const char *path)
{
	char name[NAME_MAX + 1];
	int fd = fs_open_parent(&fs2, path, name, sizeof(name));

	if (fd < 0)
		return;
	check_inside(fd);
	CHECK(!strchr(name, '/') && strcmp(name, ".") && strcmp(name, ".."));
	close(fd);
	fd = fs_open_parent_follow(&fs2, path, name, sizeof(name));
	if (fd >= 0) {
		check_inside(fd);
		close(fd);
	}
}

/* Build the path into out (FS_PATH_MAX); false if it cannot be one. */
static bool make_path(const uint8_t *data, size_t size, char *out)
{
	const size_t ncomp = sizeof(components) / sizeof(components[0]);
	size_t len = 0, i, n;

	if (data[0] & 1) {
		if (size - 1 >= FS_PATH_MAX || memchr(data + 1, 0, size - 1))
			return false;
		memcpy(out, data + 1, size - 1);
		out[size - 1] = 0;
		return size > 1;
	}
	if (data[0] & 2)
		out[len++] = '/';
	for (i = 1; i < size; i++) {
		const char *c = components[data[i] % ncomp];

		n = strlen(c);
		if (len + n + 2 >= FS_PATH_MAX)
			return false;
		memcpy(out + len, c, n);
		len += n;
		if (i + 1 < size || data[i] >= 128)
			out[len++] = '/';
	}
	out[len] = 0;
	return len > 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int ready = -1;
	static char path[FS_PATH_MAX];

	if (ready < 0)
		ready = harness_init();
	if (size < 1 || !make_path(data, size, path))
		return 0;
	check_open(path);
	check_parent(path);
	return 0;
}
