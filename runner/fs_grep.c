/* fs_grep.c - GREP in the helper process: an extended regular expression
 * (GNU grep -E syntax, runner/regex.h) or a fixed string over a file or a
 * tree, like `grep -rn` with binary files skipped (-I).
 *
 * The pattern is compiled in the runner before the fork, so a bad one is
 * E_BAD_PATTERN at once.  A pattern without metacharacters is searched
 * with memmem(3), the common case for agents; a regex with a literal that
 * every match must contain (fs_literal.c) runs only on the lines that
 * hold it.  Each file is read whole into one reused buffer, and line
 * numbers are counted only up to the hits.
 *
 * Results are T_ENTRY records (T_PATH, T_LINE, T_TEXT, T_MATCH 1 for a
 * match, 0 for a context line) on DATA channel 1.
 */
#include "fs_internal.h"
#include "regex.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include "glob.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define GREP_TEXT_MAX 65536	     /* bytes of one line in a record */
#define GREP_FILE_MAX (512ull << 20) /* larger files are skipped */

struct grep_job {
	struct walker w; /* first: the visit callback finds us from it */
	bool use_regex;
	struct rx *rx;
	size_t nlit;  /* a string every match holds: lines without it are */
	char lit[64]; /* skipped before the regex runs */
	uint8_t *pat;
	size_t npat;
	uint32_t context;
	uint32_t max_line;     /* bytes of a line sent, at most GREP_TEXT_MAX */
	uint8_t mode;	       /* enum wire_grep_mode */
	size_t rel_off;	       /* where the path below the start begins */
	struct glob_set globs; /* --include: n == 0 is every file */
	/* per file */
	uint8_t *buf;
	size_t cap;
	const char *path;
	size_t emitted_end; /* offset past the last line sent */
	uint64_t emitted_line;
	size_t count_pos; /* line numbers are counted up to here */
	uint64_t count_line;
	uint8_t rec[2 * FS_PATH_MAX + GREP_TEXT_MAX + 128];
};

/* ---- matching ---- */

static size_t line_end(struct grep_job *g, size_t off, size_t n)
{
	const uint8_t *nl = memchr(g->buf + off, '\n', n - off);

	return nl ? (size_t)(nl - g->buf) : n;
}

/* Offset of the next matching line's start at or after pos (a line
 * start), or SIZE_MAX.  With a required literal, only lines holding it
 * go to the regex. */
static size_t grep_next_regex(struct grep_job *g, size_t pos, size_t n)
{
	const uint8_t *hit, *nl;
	size_t ls, le;

	while (pos < n) {
		ls = pos;
		if (g->nlit) {
			hit = memmem(g->buf + pos, n - pos, g->lit, g->nlit);
			if (!hit)
				return SIZE_MAX;
			nl = memrchr(g->buf + pos, '\n',
				     (size_t)(hit - g->buf) - pos);
			ls = nl ? (size_t)(nl - g->buf) + 1 : pos;
		}
		le = line_end(g, ls, n);
		if (rx_search(g->rx, g->buf + ls, le - ls))
			return ls;
		pos = le + 1;
	}
	return SIZE_MAX;
}

/* Offset of the next match at or after pos (a line start), or SIZE_MAX. */
static size_t grep_next(struct grep_job *g, size_t pos, size_t n)
{
	const uint8_t *hit;

	if (g->use_regex)
		return grep_next_regex(g, pos, n);
	hit = memmem(g->buf + pos, n - pos, g->pat, g->npat);
	return hit ? (size_t)(hit - g->buf) : SIZE_MAX;
}

static uint64_t line_number(struct grep_job *g, size_t off)
{
	const uint8_t *p = g->buf + g->count_pos, *end = g->buf + off;

	while (p < end && (p = memchr(p, '\n', (size_t)(end - p)))) {
		g->count_line++;
		p++;
	}
	g->count_pos = off;
	return g->count_line;
}

static void grep_emit(struct grep_job *g, size_t start, size_t end,
		      uint64_t line, bool match)
{
	struct wire_buf b;
	size_t mark, len = end - start;

	wb_init(&b, g->rec, sizeof(g->rec));
	mark = wb_open(&b, T_ENTRY);
	wb_str(&b, T_PATH, g->path);
	wb_u64(&b, T_LINE, line);
	wb_bytes(&b, T_TEXT, g->buf + start,
		 len > g->max_line ? g->max_line : len);
	if (len > g->max_line) { /* cut: say so, and how long it was */
		wb_u8(&b, T_TRUNCATED, 1);
		wb_u64(&b, T_SIZE, len);
	}
	wb_u8(&b, T_MATCH, match);
	wb_close(&b, mark);
	fs_out_record(g->w.out, &b);
	g->emitted_end = end + 1;
	g->emitted_line = line;
	if (g->w.out->failed)
		g->w.stop = true;
}

/* Context lines after the last match, up to (not into) offset limit. */
static void grep_after(struct grep_job *g, size_t limit, size_t n)
{
	uint64_t last = g->emitted_line;
	size_t off = g->emitted_end, e;

	while (g->context && g->emitted_line && off < limit && off < n &&
	       g->emitted_line - last < g->context) {
		e = line_end(g, off, n);
		grep_emit(g, off, e, g->emitted_line + 1, false);
		off = e + 1;
	}
}

/* Context lines before the match line starting at ls (line number l). */
static void grep_before(struct grep_job *g, size_t ls, uint64_t l, size_t n)
{
	size_t starts[64], off = ls;
	uint32_t k = 0, want = g->context < 64 ? g->context : 64;

	while (k < want && off > g->emitted_end && off > 0) {
		const uint8_t *nl =
		    off >= 2 ? memrchr(g->buf, '\n', off - 1) : NULL;
		off = nl ? (size_t)(nl - g->buf) + 1 : 0;
		if (off < g->emitted_end)
			break;
		starts[k++] = off;
	}
	while (k--)
		grep_emit(g, starts[k], line_end(g, starts[k], n), l - k - 1,
			  false);
}

/* GREP_MODE files or count: one record for a file with hits. */
static void grep_file_record(struct grep_job *g, uint64_t hits)
{
	struct wire_buf b;
	size_t mark;

	wb_init(&b, g->rec, sizeof(g->rec));
	mark = wb_open(&b, T_ENTRY);
	wb_str(&b, T_PATH, g->path);
	if (g->mode == WGM_COUNT)
		wb_u64(&b, T_COUNT, hits);
	wb_close(&b, mark);
	walk_record(&g->w, &b);
}

static void grep_buffer(struct grep_job *g, size_t n)
{
	const uint8_t *nl;
	size_t pos = 0, m, ls, le;
	uint64_t l, hits = 0;

	g->emitted_end = 0;
	g->emitted_line = 0;
	g->count_pos = 0;
	g->count_line = 1;
	while (pos < n && !g->w.stop) {
		m = grep_next(g, pos, n);
		/* A match at n is an empty one ("$") on a last line that has
		 * no '\n'; after a final '\n' there is no line at all. */
		if (m > n || (m == n && g->buf[n - 1] == '\n'))
			break;
		nl = m > pos ? memrchr(g->buf + pos, '\n', m - pos) : NULL;
		ls = nl ? (size_t)(nl - g->buf) + 1 : pos;
		le = line_end(g, ls, n);
		pos = le + 1;
		if (g->mode) { /* files or count: no lines */
			hits++;
			if (g->mode == WGM_FILES)
				break;
			continue;
		}
		if (!fs_cap(g->w.sum, g->w.max, &g->w.stop))
			continue; /* past the cap: counted, not sent */
		grep_after(g, ls, n);
		l = line_number(g, ls);
		grep_before(g, ls, l, n);
		grep_emit(g, ls, le, l, true);
		g->w.sum->count++;
	}
	if (hits)
		grep_file_record(g, hits);
	grep_after(g, n, n);
}

/* ---- files ---- */

static int grep_read(struct grep_job *g, int fd, size_t size, size_t *n)
{
	ssize_t k;

	if (size + 1 > g->cap) {
		uint8_t *nb = realloc(g->buf, size + 1);
		if (!nb)
			return -ENOMEM;
		g->buf = nb;
		g->cap = size + 1;
	}
	k = fs_read_full(fd, g->buf, size); /* shrank: search what is there */
	*n = k > 0 ? (size_t)k : 0;
	return 0;
}

static void grep_file(struct grep_job *g, int fd, const char *path)
{
	struct stat st;
	size_t n;

	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) ||
	    (uint64_t)st.st_size > GREP_FILE_MAX)
		return;
	if (grep_read(g, fd, (size_t)st.st_size, &n) < 0)
		return;
	if (memchr(g->buf, 0, n))
		return; /* binary: skipped, as grep -I */
	g->path = path;
	grep_buffer(g, n);
}

static bool grep_visit(struct walker *w, int dirfd, const char *name,
		       const char *path, unsigned char dtype, uint32_t depth)
{
	struct grep_job *g = (struct grep_job *)w;
	int fd;

	(void)depth;
	if (dtype == DT_DIR)
		return true;
	if ((dtype != DT_REG && dtype != DT_UNKNOWN) ||
	    (g->globs.n && !glob_set_match(&g->globs, name, path + w->rel_off)))
		return false;
	fd = openat(dirfd, name,
		    O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (fd < 0)
		return false; /* unreadable: skipped, like grep -s */
	grep_file(g, fd, path);
	close(fd);
	return false;
}

static void grep_work(void *arg, struct fs_out *out, struct fs_summary *sum)
{
	struct grep_job *g = arg;
	struct stat st;

	g->w.out = out;
	g->w.sum = sum;
	if (fstat(g->w.fd, &st) < 0)
		return;
	if (S_ISDIR(st.st_mode)) {
		ign_ancestors(&g->w, g->w.fd);
		walk_tree(&g->w, g->w.fd, 0);
	} else {
		grep_file(g, g->w.fd, g->w.path);
	}
}

/* ---- the request ---- */

static void grep_free(void *arg)
{
	struct grep_job *g = arg;
	if (g->rx)
		rx_free(g->rx);
	free(g->pat);
	free(g->buf);
	if (g->w.fd >= 0)
		close(g->w.fd);
	free(g);
}

static bool plain_string(const uint8_t *p, size_t n, bool fixed)
{
	if (!n || memchr(p, '\n', n)) /* a newline separates patterns */
		return false;
	return fixed || strcspn((const char *)p, ".[]()*+?{}|^$\\") >= n;
}

/* The ERE the matcher gets when it is not PATTERN itself: fixed strings
 * escaped (grep -F's newline-separated lines become alternatives), and
 * for -w the whole wrapped so a match is a whole word, as grep -w tests
 * it: at the line's start or after a non-word byte, and at its end or
 * before one.  Returns a malloc'd pattern of *len bytes, or NULL. */
static char *grep_ere(const uint8_t *p, size_t n, bool fixed, bool word,
		      size_t *len)
{
	char *out = malloc(2 * n + 16), *o = out;
	size_t i;

	if (!out)
		return NULL;
	if (word)
		o = stpcpy(o, "(^|\\W)(");
	for (i = 0; i < n; i++) {
		if (fixed && p[i] && strchr(".[]()*+?{}|^$\\", p[i]))
			*o++ = '\\';
		*o++ = word && p[i] == '\n' ? '|' : (char)p[i];
	}
	if (word)
		o = stpcpy(o, ")(\\W|$)");
	*len = (size_t)(o - out);
	return out;
}

/* The matcher of runner/regex.h: GNU grep -E syntax and semantics, linear
 * time whatever the pattern.  Plain strings skip it for memmem. */
static int grep_compile(struct stream *s, struct grep_job *g, bool fixed,
			bool icase, bool word, bool rust)
{
	char err[160], *ere = NULL;
	bool nul = memchr(g->pat, 0, g->npat) != NULL;
	size_t elen = 0;
	int r;

	if (!icase && !word && !nul && plain_string(g->pat, g->npat, fixed))
		return 0;
	if (word || (fixed && memchr(g->pat, '\n', g->npat))) {
		ere = grep_ere(g->pat, g->npat, fixed, word, &elen);
		if (!ere) {
			stream_error_errno(s, ENOMEM, "grep");
			return -1;
		}
	}
	r = rx_compile(&g->rx, ere ? ere : (const char *)g->pat,
		       ere ? elen : g->npat,
		       (icase ? RX_ICASE : 0) | (fixed && !ere ? RX_FIXED : 0) |
			   (rust && !fixed ? RX_RUST : 0),
		       err, sizeof(err));
	free(ere);
	if (r == -EINVAL) {
		stream_error(s, E_BAD_PATTERN, 0,
			     "invalid regular expression: %s", err);
		return -1;
	}
	if (r < 0) {
		stream_error(s, E_IO, -r, "grep: %s", strerror(-r));
		return -1;
	}
	g->use_regex = true;
	/* A string every match holds, to skip lines without it; the one of
	 * PATTERN is also one of its -w wrapping. */
	/* fs_literal.c reads ERE: a Rust-style bracket may hold "\\]" */
	if (icase || nul || (rust && memchr(g->pat, '\\', g->npat)) ||
	    (rust && !strncmp((char *)g->pat, "(?i)", 4)))
		return 0;
	if (!fixed)
		g->nlit = ere_required_literal((char *)g->pat, g->lit,
					       sizeof(g->lit));
	else if (g->npat < sizeof(g->lit) && !memchr(g->pat, '\n', g->npat))
		memcpy(g->lit, g->pat, g->nlit = g->npat);
	return 0;
}

static int grep_parse(struct stream *s, const uint8_t *p, size_t n,
		      struct grep_job *g)
{
	uint64_t fixed, icase, ctx, word, mode, max_line, syntax;
	struct wire_iter it;
	struct wire_field f;
	uint8_t *np;

	if (walk_parse(s, p, n, &g->w, 1, &g->globs) < 0 ||
	    req_uint(s, p, n, T_FIXED, 0, 0, REQ_ANY, &fixed) < 0 ||
	    req_uint(s, p, n, T_IGNORE_CASE, 0, 0, REQ_ANY, &icase) < 0 ||
	    req_uint(s, p, n, T_CONTEXT, 0, 0, REQ_ANY, &ctx) < 0 ||
	    req_uint(s, p, n, T_WORD, 0, 0, REQ_ANY, &word) < 0 ||
	    req_uint(s, p, n, T_GREP_MODE, 0, 0, WGM_COUNT, &mode) < 0 ||
	    req_uint(s, p, n, T_MAX_LINE, 0, 0, REQ_ANY, &max_line) < 0 ||
	    req_uint(s, p, n, T_SYNTAX, 0, 0, WSYN_RUST, &syntax) < 0)
		return -1;
	g->context = ctx > 64 ? 64 : (uint32_t)ctx;
	g->mode = (uint8_t)mode;
	g->max_line = max_line && max_line < GREP_TEXT_MAX ? (uint32_t)max_line
							   : GREP_TEXT_MAX;
	g->w.max_depth = UINT32_MAX;
	wire_iter_init(&it, p, n);
	while (wire_next(&it, &f) > 0) {
		if (f.tag != T_PATTERN)
			continue;
		/* repeated: alternatives, as lines of one pattern */
		np = realloc(g->pat, g->npat + f.len + 2);
		if (!np)
			break;
		if (g->pat)
			np[g->npat++] = '\n';
		memcpy(np + g->npat, f.val, f.len);
		g->npat += f.len;
		np[g->npat] = 0;
		g->pat = np;
	}
	if (!g->pat) {
		stream_error(s, E_BAD_REQUEST, 0, "GREP needs a PATTERN");
		return -1;
	}
	return grep_compile(s, g, fixed != 0, icase != 0, word != 0,
			    syntax == WSYN_RUST);
}

void fs_req_grep(struct stream *s, const uint8_t *p, size_t n)
{
	char path[FS_PATH_MAX];
	struct grep_job *g;
	int fd;

	if (fs_req_path(s, p, n, T_PATH, path) < 0)
		return;
	g = calloc(1, sizeof(*g));
	if (!g) {
		stream_error_errno(s, ENOMEM, "grep");
		return;
	}
	g->w.fd = -1;
	if (grep_parse(s, p, n, g) < 0) {
		grep_free(g);
		return;
	}
	fd = fs_open_file(s, "grep", path, 0, true);
	if (fd < 0) {
		grep_free(g);
		return;
	}
	g->w.fd = fd;
	g->w.visit = grep_visit;
	walk_set_root(&g->w, path);
	walk_start(s, &g->w, grep_work, grep_free);
}
