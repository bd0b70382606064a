/* suite_fs.c - file operations: a small read's round trip, big-file read
 * and write throughput beside dd, GREP over a tree of small files beside
 * GNU grep. */
#include "bench.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
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
	struct row *rw = row_tput(b, "write_tput", "fs", "dd_write",
				  "WRITE of a big file from the client "
				  "(ATOMIC=0, in place like dd)");
	struct row *rb = row_tput(b, "dd_write", "baseline", NULL,
				  "floor: `dd if=/dev/zero of=FILE bs=1M`");
	struct row *ra = row_tput(b, "write_atomic_tput", "fs", "dd_write",
				  "WRITE of a big file, default ATOMIC=1 "
				  "(temp file + rename)");
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

static void grep_rows(struct bench *b, struct target *t, struct rc_conn *c)
{
	struct grep_ctx g = {.c = c};
	struct row *rg = row_lat(b, "grep_tree", "fs", "gnu_grep",
				 "GREP a fixed word over a tree of small "
				 "files");
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
	rm_tree(g.root);
}

void suite_fs(struct bench *b)
{
	static const step_fn steps[] = {small_read_row, read_rows, write_rows,
					grep_rows, NULL};

	run_steps(b, "fs", NULL, steps);
}
