/* suite_fs.c - file operations: a small read's round trip, big-file read
 * and write throughput beside dd, GREP over a tree of small files beside
 * GNU grep, and FIND and GREP with IGNORE over a git work tree with
 * nested .gitignore files beside git ls-files, fdfind and rg. */
#include "bench.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define SMALL_BYTES 100
#define NEEDLE	    "bench_needle"

struct grep_ctx {
	struct rc_conn *c;
	char root[512];
	uint64_t matches;
};

static int do_read_small(void *ctx)
{
	struct file_xfer *x = ctx;
	uint64_t n = 0;
	int r = op_read(x->c, x->path, &n);

	if (r == 0 && n != x->bytes) {
		snprintf(x->c->err, sizeof(x->c->err),
			 "READ returned %llu bytes of %llu",
			 (unsigned long long)n, (unsigned long long)x->bytes);
		return -EBADMSG;
	}
	return r;
}

static int xfer_read(void *ctx, uint64_t *bytes)
{
	struct file_xfer *x = ctx;
	int r = op_read(x->c, x->path, bytes);

	return xfer_check(x, r, *bytes);
}

static int xfer_write(void *ctx, uint64_t *bytes)
{
	struct file_xfer *x = ctx;

	*bytes = x->bytes;
	return op_write(x->c, x->path, x->bytes, false);
}

static int xfer_write_atomic(void *ctx, uint64_t *bytes)
{
	struct file_xfer *x = ctx;

	*bytes = x->bytes;
	return op_write(x->c, x->path, x->bytes, true);
}

static int do_grep(void *ctx)
{
	struct grep_ctx *g = ctx;

	return op_grep(g->c, g->root, NEEDLE, &g->matches);
}

static int do_gnu_grep(void *ctx)
{
	struct grep_ctx *g = ctx;
	const char *argv[] = {"grep", "-rnI", NEEDLE, g->root, NULL};

	return local_run(argv, NULL);
}

/* No literal in it that every match holds: the regex engine does it all
 * (it matches the NEEDLE lines, NEEDLE being "bench_needle" + "("). */
#define NO_LITERAL "[a-z]+_[a-z]+\\("

static int do_grep_regex(void *ctx)
{
	struct grep_ctx *g = ctx;

	return op_grep(g->c, g->root, NO_LITERAL, &g->matches);
}

static int do_gnu_grep_regex(void *ctx)
{
	struct grep_ctx *g = ctx;
	const char *argv[] = {"grep", "-rnIE", NO_LITERAL, g->root, NULL};

	return local_run(argv, NULL);
}

static void work_path(struct bench *b, char *buf, size_t n, const char *name)
{
	snprintf(buf, n, "%s/%s", b->cfg.work, name);
}

static void small_read_row(struct bench *b, struct target *t, struct rc_conn *c)
{
	char path[512];
	struct file_xfer x = {.c = c, .path = path, .bytes = SMALL_BYTES};
	struct row *r = row_lat(b, "read_small", "fs", "ping",
				"READ of a 100-byte file, round trip");
	struct meas op = {.row = r, .fn = do_read_small, .ctx = &x, .conn = c};
	int e;

	work_path(b, path, sizeof(path), "small.txt");
	row_target(r, TM_MEDIAN, TC_LE, 100);
	if ((e = make_file(path, SMALL_BYTES, true)) < 0) {
		row_fail(r, "error (%s: %s)", path, strerror(-e));
		return;
	}
	measure_pair(b, &op, NULL, b->cfg.lat_n);
	row_print(b, r);
}

static void read_rows(struct bench *b, struct target *t, struct rc_conn *c)
{
	char big[512];
	struct file_xfer x = {.c = c, .path = big, .bytes = b->cfg.big_bytes};
	struct row *rr = row_tput(b, "read_tput", "fs", "dd_read",
				  "READ of a big file to the client");
	struct row *rb = row_tput(b, "dd_read", "baseline", NULL,
				  "floor: `dd if=FILE of=/dev/null bs=1M`");
	struct meas op = {.row = rr, .xfn = xfer_read, .ctx = &x, .conn = c};
	struct meas base = {.row = rb, .xfn = xfer_dd_read, .ctx = &x};
	int e;

	work_path(b, big, sizeof(big), "big.dat");
	row_target(rr, TM_MEDIAN, TC_GE, 1000);
	if ((e = make_file(big, x.bytes, false)) < 0) {
		row_fail(rr, "error (%s: %s)", big, strerror(-e));
		return;
	}
	measure_tput(b, &op, &base);
	row_print(b, rb);
	row_print(b, rr);
}

/* In place first, like dd, for a fair ratio; then WRITE's default, a
 * temp file renamed over the target, which needs a second file's worth of
 * fresh pages each time (slow to first touch in a VM). */
static void write_rows(struct bench *b, struct target *t, struct rc_conn *c)
{
	char out[512], dd_out[512];
	struct file_xfer xw = {.c = c, .path = out, .bytes = b->cfg.big_bytes},
			 xd = {.path = dd_out, .bytes = b->cfg.big_bytes};
	struct row *rw = row_tput(
	    b, "write_tput", "fs", "dd_write",
	    "WRITE of a big file from the client (ATOMIC=0, in place like dd)");
	struct row *rb = row_tput(b, "dd_write", "baseline", NULL,
				  "floor: `dd if=/dev/zero of=FILE bs=1M`");
	struct row *ra = row_tput(
	    b, "write_atomic_tput", "fs", "dd_write",
	    "WRITE of a big file, default ATOMIC=1 (temp file + rename)");
	/* One untimed write each: see xfer_warm. */
	struct meas op = {
	    .row = rw, .xfn = xfer_write, .ctx = &xw, .conn = c, .warm = 1};
	struct meas base = {
	    .row = rb, .xfn = xfer_dd_write, .ctx = &xd, .warm = 1};
	struct meas atomic = {.row = ra,
			      .xfn = xfer_write_atomic,
			      .ctx = &xw,
			      .conn = c,
			      .warm = 1};

	work_path(b, out, sizeof(out), "written.dat");
	work_path(b, dd_out, sizeof(dd_out), "written-dd.dat");
	row_target(rw, TM_MEDIAN, TC_GE, 1000);
	row_target(ra, TM_MEDIAN, TC_GE, 1000);
	measure_tput(b, &op, &base);
	row_print(b, rb);
	row_print(b, rw);
	/* Two more copies of a big file in RAM help no one. */
	unlink(dd_out);
	measure_tput(b, &atomic, NULL);
	row_print(b, ra);
	unlink(out);
}

static void grep_regex_rows(struct bench *b, struct grep_ctx *g,
			    unsigned expect)
{
	struct row *rg =
	    row_lat(b, "grep_regex", "fs", "gnu_grep_regex",
		    "GREP a regex with no required literal, same tree");
	struct row *rb = row_lat(b, "gnu_grep_regex", "baseline", NULL,
				 "GNU `grep -rnIE '" NO_LITERAL "' TREE`");
	struct meas op = {
	    .row = rg, .fn = do_grep_regex, .ctx = g, .conn = g->c, .warm = 2};
	struct meas base = {
	    .row = rb, .fn = do_gnu_grep_regex, .ctx = g, .warm = 2};

	row_target(rg, TM_RATIO, TC_LE, 3);
	measure_pair(b, &op, &base, b->cfg.quick ? 3 : 10);
	if (rg->ok && g->matches != expect)
		snprintf(rg->status, sizeof(rg->status),
			 "ok, but %llu matches reported, %u expected",
			 (unsigned long long)g->matches, expect);
	row_print(b, rb);
	row_print(b, rg);
}

static void grep_rows(struct bench *b, struct target *t, struct rc_conn *c)
{
	struct grep_ctx g = {.c = c};
	struct row *rg =
	    row_lat(b, "grep_tree", "fs", "gnu_grep",
		    "GREP a fixed word over a tree of small files");
	struct row *rb = row_lat(b, "gnu_grep", "baseline", NULL,
				 "GNU `grep -rnI WORD TREE` locally");
	struct meas op = {
	    .row = rg, .fn = do_grep, .ctx = &g, .conn = c, .warm = 2};
	struct meas base = {.row = rb, .fn = do_gnu_grep, .ctx = &g, .warm = 2};
	unsigned expect = 0;
	int e;

	work_path(b, g.root, sizeof(g.root), "tree");
	row_target(rg, TM_RATIO, TC_LE, 2);
	if ((e = make_tree(g.root, b->cfg.grep_files, &expect)) < 0) {
		row_fail(rg, "error (tree: %s)", strerror(-e));
		return;
	}
	measure_pair(b, &op, &base, b->cfg.quick ? 3 : 10);
	row_extra(rg, "files", b->cfg.grep_files);
	row_extra(rg, "expected_matches", expect);
	if (rg->ok) {
		row_extra(rg, "matches", (double)g.matches);
		if (g.matches != expect)
			snprintf(rg->status, sizeof(rg->status),
				 "ok, but %llu matches reported, %u expected",
				 (unsigned long long)g.matches, expect);
	}
	row_print(b, rb);
	row_print(b, rg);
	grep_regex_rows(b, &g, expect);
	rm_tree(g.root);
}

/* ---- IGNORE: a work tree with nested ignore files ---- */

struct ign_ctx {
	struct rc_conn *c;
	char root[512];
	uint64_t count;
	bool grep; /* GREP NEEDLE, else FIND files */
};

static int do_walk_ignore(void *ctx)
{
	struct ign_ctx *g = ctx;
	uint8_t buf[1024];
	struct wire_buf b;

	wb_init(&b, buf, sizeof(buf));
	wb_str(&b, T_PATH, g->root);
	wb_u8(&b, T_IGNORE, 1);
	if (g->grep)
		wb_str(&b, T_PATTERN, NEEDLE);
	else
		wb_u8(&b, T_FILE_TYPE, WFT_FILE);
	return op_fields(g->c, g->grep ? WT_GREP : WT_FIND, &b, &g->count);
}

/* Baselines list what they find to /dev/null, as FIND and GREP answer;
 * hidden files count (FIND's default), .git does not. */
static int do_git_ls_files(void *ctx)
{
	struct ign_ctx *g = ctx;
	const char *argv[] = {"git",
			      "-C",
			      g->root,
			      "ls-files",
			      "--others",
			      "--cached",
			      "--exclude-standard",
			      NULL};

	return local_run(argv, NULL);
}

static int do_fdfind(void *ctx)
{
	struct ign_ctx *g = ctx;
	const char *argv[] = {"fdfind", "-t", "f",     "-H", "-E",
			      ".git",	".",  g->root, NULL};

	return local_run(argv, NULL);
}

static int do_rg_files(void *ctx)
{
	struct ign_ctx *g = ctx;
	const char *argv[] = {"rg",    "--files", "--hidden", "-g",
			      "!.git", g->root,	  NULL};

	return local_run(argv, NULL);
}

static int do_rg_grep(void *ctx)
{
	struct ign_ctx *g = ctx;
	const char *argv[] = {"rg",    "-n",   "--hidden", "-g",
			      "!.git", NEEDLE, g->root,	   NULL};
	int r = local_run(argv, NULL);

	return r == -EBADMSG ? 0 : r;
}

static int put_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	size_t n = strlen(text);
	int r = 0;

	if (fd < 0)
		return -errno;
	if (write(fd, text, n) != (ssize_t)n)
		r = -EIO;
	if (close(fd) < 0 && r == 0)
		r = -errno;
	return r;
}

/* files spread over 20 top directories of 25 each; *.log ignored by the
 * top .gitignore, *.tmp by each top directory's (with a `!` rule), and
 * every tenth directory is a build/ the top one ignores.  *visible:
 * files git lists, ignore files included; *matches: lines of NEEDLE in
 * them. */
static int make_ignore_tree(const char *root, unsigned files, unsigned *visible,
			    unsigned *matches)
{
	static const char *const ext[] = {"c", "log", "tmp", "py", "c"};
	const char *init[] = {"git", "init", "-q", root, NULL};
	char path[600], text[256];
	unsigned i, per = files / 500 ? files / 500 : 1, d, q;
	bool build, hidden;
	int r;

	*visible = *matches = 0;
	if (mkdir(root, 0755) < 0 && errno != EEXIST)
		return -errno;
	if ((r = local_run(init, NULL)) < 0)
		return r;
	snprintf(path, sizeof(path), "%s/.gitignore", root);
	if ((r = put_file(path, "*.log\nbuild/\n")) < 0)
		return r;
	++*visible;
	for (i = 0; i < files; i++) {
		d = i / per / 25 % 20;
		q = i / per % 25;
		build = q % 10 == 9;
		snprintf(path, sizeof(path), "%s/p%02u", root, d);
		if (i % (per * 25) == 0 && i < per * 500) {
			if (mkdir(path, 0755) < 0 && errno != EEXIST)
				return -errno;
			strcat(path, "/.gitignore");
			if ((r = put_file(path, "*.tmp\n!keep*.tmp\n")) < 0)
				return r;
			++*visible;
			path[strlen(path) - 11] = 0;
		}
		snprintf(path + strlen(path), sizeof(path) - strlen(path),
			 build ? "/build" : "/q%02u", q);
		if (i % per == 0 && mkdir(path, 0755) < 0 && errno != EEXIST)
			return -errno;
		hidden = i % 97 == 0;
		snprintf(path + strlen(path), sizeof(path) - strlen(path),
			 "/%sf%05u.%s", hidden ? "." : "", i, ext[i % 5]);
		snprintf(text, sizeof(text),
			 "int value_%u = %u;\n%s\nstatic int other_%u;\n", i,
			 i * 7, i % 7 ? "/* filler */" : "call(" NEEDLE ");",
			 i);
		if ((r = put_file(path, text)) < 0)
			return r;
		if (!build && ext[i % 5][0] != 'l' && ext[i % 5][0] != 't') {
			++*visible;
			*matches += i % 7 == 0;
		}
	}
	return 0;
}

/* op against base, alternated; base's row printed first. */
static void ignore_pair(struct bench *b, struct ign_ctx *g, const char *id,
			unsigned expect, const char *what, const char *base_id,
			op_fn base_fn, const char *base_what)
{
	struct row *r = row_lat(b, id, "fs", base_id, what);
	struct row *rb = row_lat(b, base_id, "baseline", NULL, base_what);
	struct meas op = {
	    .row = r, .fn = do_walk_ignore, .ctx = g, .conn = g->c, .warm = 2};
	struct meas base = {.row = rb, .fn = base_fn, .ctx = g, .warm = 2};

	row_target(r, TM_RATIO, TC_LE, 1.5);
	measure_pair(b, &op, &base, b->cfg.quick ? 3 : 10);
	row_extra(r, "files", b->cfg.ignore_files);
	if (r->ok) {
		row_extra(r, "results", (double)g->count);
		if (g->count != expect)
			snprintf(r->status, sizeof(r->status),
				 "ok, but %llu results, %u expected",
				 (unsigned long long)g->count, expect);
	}
	row_print(b, rb);
	row_print(b, r);
}

static void base_row(struct bench *b, struct ign_ctx *g, const char *id,
		     op_fn fn, const char *what)
{
	struct row *r = row_lat(b, id, "baseline", NULL, what);
	struct meas m = {.row = r, .fn = fn, .ctx = g, .warm = 2};

	measure_pair(b, &m, NULL, b->cfg.quick ? 3 : 10);
	row_print(b, r);
}

static void ignore_rows(struct bench *b, struct target *t, struct rc_conn *c)
{
	struct ign_ctx g = {.c = c};
	unsigned visible, matches;
	struct row *r;
	int e;

	work_path(b, g.root, sizeof(g.root), "worktree");
	if ((e = make_ignore_tree(g.root, b->cfg.ignore_files, &visible,
				  &matches)) < 0) {
		r = row_lat(b, "find_ignore", "fs", "rg_files", "FIND IGNORE");
		row_fail(r, "error (tree: %s)", strerror(-e));
		row_print(b, r);
		rm_tree(g.root);
		return;
	}
	base_row(b, &g, "git_ls_files", do_git_ls_files,
		 "`git ls-files --others --cached --exclude-standard`");
	base_row(b, &g, "fdfind_files", do_fdfind,
		 "`fdfind -t f -H -E .git . TREE` (Debian's fd-find)");
	ignore_pair(b, &g, "find_ignore", visible,
		    "FIND files, IGNORE, a work tree with nested .gitignore",
		    "rg_files", do_rg_files,
		    "`rg --files --hidden -g '!.git' TREE`");
	g.grep = true;
	ignore_pair(b, &g, "grep_ignore", matches,
		    "GREP a fixed word with IGNORE, the same tree", "rg_grep",
		    do_rg_grep, "`rg -n --hidden -g '!.git' WORD TREE`");
	rm_tree(g.root);
}

void suite_fs(struct bench *b)
{
	static const step_fn steps[] = {small_read_row, read_rows,   write_rows,
					grep_rows,	ignore_rows, NULL};

	run_steps(b, "fs", NULL, steps);
}
