/* fs_ignore.c - IGNORE and EXCLUDE for the walks (LS, FIND, GREP), in
 * the helper process: what `git ls-files --others --exclude-standard`
 * leaves out, plus ripgrep's .ignore.
 *
 * Every directory the walk enters pushes a level holding its rules: the
 * lines of .git/info/exclude (when the directory holds a .git
 * directory), .gitignore and .ignore, in that order.  An entry is
 * checked against the deepest level first, each level's rules last line
 * first; the first rule that matches decides (a `!` rule keeps the
 * entry).  That is git's precedence: a deeper .gitignore beats a
 * shallower one, a later line an earlier one, .gitignore beats
 * info/exclude, and .ignore beats both as in ripgrep.  An ignored
 * directory is not entered, so nothing below it can be re-included, as
 * in git.  Directories above the start count too, up to the first that
 * holds .git (the work tree's top).
 *
 * Files are opened O_NOFOLLOW relative to directories already inside the
 * root: a symlinked .gitignore is not read (git refuses it too).
 */
#include "fs_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define IGN_FILE_MAX (1 << 20) /* bigger ignore files are not read */

enum {
	IGN_NEG = 1,  /* "!pat": keep what matches */
	IGN_DIR = 2,  /* "pat/": directories only */
	IGN_PATH = 4, /* holds a '/': the path below the level's directory */
};

struct ign_rule {
	const char *pat;
	uint8_t flags;
};

/* Append the regular file dirfd/name (not followed) and a '\n'. */
static void slurp(int dirfd, const char *name, char **buf, size_t *len)
{
	int fd =
	    openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	struct stat st;
	ssize_t k;
	char *nb;

	if (fd < 0)
		return;
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
	    st.st_size < IGN_FILE_MAX &&
	    (nb = realloc(*buf, *len + (size_t)st.st_size + 1))) {
		*buf = nb;
		k = read(fd, nb + *len, (size_t)st.st_size);
		*len += k > 0 ? (size_t)k : 0;
		nb[(*len)++] = '\n';
	}
	close(fd);
}

/* dirfd/a/b, each step a directory, no symlink followed; -1 if not. */
static int open_dir2(int dirfd, const char *a, const char *b)
{
	int fd =
	    openat(dirfd, a, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	int fd2;

	if (fd < 0 || !b)
		return fd;
	fd2 = openat(fd, b, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	close(fd);
	return fd2;
}

/* One line of an ignore file into r; false for blanks and comments. */
static bool parse_rule(char *line, struct ign_rule *r)
{
	size_t n = strlen(line);

	r->flags = 0;
	/* trailing blanks go, unless quoted by a backslash */
	while (n && (line[n - 1] == ' ' || line[n - 1] == '\r') &&
	       !(n > 1 && line[n - 2] == '\\'))
		n--;
	if (*line == '!') {
		r->flags = IGN_NEG;
		line++;
		n -= n > 0;
	} else if (*line == '#') {
		return false;
	}
	if (n && line[n - 1] == '/') {
		r->flags |= IGN_DIR;
		n--;
	}
	if (memchr(line, '/', n)) {
		r->flags |= IGN_PATH;
		if (*line == '/')
			line++, n--;
	}
	line[n] = 0;
	r->pat = line;
	return n > 0;
}

static void push_level(struct walker *w, struct ign_level *lv, int dirfd,
		       size_t base)
{
	size_t len = 0, i;
	char *p, *nl;
	int gfd;

	memset(lv, 0, sizeof(*lv));
	lv->up = w->ign;
	lv->base = base;
	w->ign = lv;
	if ((gfd = open_dir2(dirfd, ".git", "info")) >= 0) {
		slurp(gfd, "exclude", &lv->text, &len);
		close(gfd);
	}
	slurp(dirfd, ".gitignore", &lv->text, &len);
	slurp(dirfd, ".ignore", &lv->text, &len);
	if (!len)
		return;
	for (i = 0, p = lv->text; p < lv->text + len; p++)
		i += *p == '\n';
	lv->rules = malloc(i * sizeof(*lv->rules));
	for (p = lv->text; lv->rules && p < lv->text + len; p = nl + 1) {
		nl = memchr(p, '\n', (size_t)(lv->text + len - p));
		*nl = 0;
		lv->n += parse_rule(p, &lv->rules[lv->n]);
	}
}

void ign_enter(struct walker *w, struct ign_level *lv, int dirfd)
{
	if (w->ignore)
		push_level(w, lv, dirfd,
			   w->plen + (w->plen && w->path[w->plen - 1] != '/'));
}

void ign_leave(struct walker *w, struct ign_level *lv)
{
	if (!w->ignore)
		return;
	w->ign = lv->up;
	free(lv->rules);
	free(lv->text);
}

static bool rule_matches(const struct ign_rule *r, const char *name,
			 const char *rel, bool dir)
{
	if ((r->flags & IGN_DIR) && !dir)
		return false;
	return r->flags & IGN_PATH ? glob_match_path(r->pat, rel)
				   : glob_match(r->pat, name);
}

bool ign_skip(struct walker *w, const char *name, bool dir)
{
	const struct ign_level *lv;
	size_t i;

	if (w->exclude.n &&
	    glob_set_match(&w->exclude, name, w->path + w->rel_off))
		return true;
	if (!w->ignore)
		return false;
	if (!strcmp(name, ".git"))
		return true;
	for (lv = w->ign; lv; lv = lv->up)
		for (i = lv->n; i--;)
			if (rule_matches(&lv->rules[i], name,
					 w->path + lv->base, dir))
				return !(lv->rules[i].flags & IGN_NEG);
	return false;
}

/* The levels of the directories above an absolute start path, up to
 * the one holding .git (or /), each opened inside the root. */
void ign_ancestors(struct walker *w, int startfd)
{
	char dir[FS_PATH_MAX];
	struct ign_level *lv, **tail = &w->ign;
	size_t k = w->plen;
	const char *q;
	int fd, top;

	if (!w->ignore || w->path[0] != '/')
		return;
	/* a "." or ".." component: the lexical parents are not the real
	 * ones */
	for (q = w->path; (q = strstr(q, "/.")); q++)
		if (!q[2 + (q[2] == '.')] || q[2 + (q[2] == '.')] == '/')
			return;
	if ((fd = open_dir2(startfd, ".git", NULL)) >= 0) {
		close(fd);
		return; /* the start is the top */
	}
	while (k > 1) {
		while (k && w->path[--k] != '/')
			;
		memcpy(dir, w->path, k + !k);
		dir[k + !k] = 0;
		fd = fs_open(w->fs, dir, O_RDONLY | O_DIRECTORY, 0);
		if (fd < 0 || !(lv = malloc(sizeof(*lv)))) {
			if (fd >= 0)
				close(fd);
			return;
		}
		/* push_level links the new level on top: move it under */
		push_level(w, lv, fd, k + 1);
		w->ign = lv->up;
		lv->up = NULL;
		*tail = lv;
		tail = &lv->up;
		top = open_dir2(fd, ".git", NULL);
		close(fd);
		if (top >= 0) {
			close(top);
			return;
		}
	}
}
