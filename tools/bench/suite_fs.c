/* suite_fs.c - file operations: a small read's round trip, 1 GB read and
 * write throughput beside dd, grep over a 10k-file tree beside GNU grep. */
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

	return r ? r : n == x->bytes ? 0 : -EBADMSG;
}

static int xfer_read(void *ctx, uint64_t *bytes)
{
	struct file_xfer *x = ctx;

	return op_read(x->c, x->path, bytes);
}

static int xfer_write(void *ctx, uint64_t *bytes)
{
	struct file_xfer *x = ctx;
	int r = op_write(x->c, x->path, x->bytes);

	*bytes = x->bytes;
	return r;
}

static int do_grep(void *ctx)
{
	struct grep_ctx *g = ctx;

	return op_grep(g->c, g->root, NEEDLE, &g->matches);
}

static int do_gnu_grep(void *ctx)
{
	struct grep_ctx *g = ctx;
	const char *argv[] = {"grep", "-rn", NEEDLE, g->root, NULL};

	return local_run(argv, NULL);
}

static void small_read_row(struct bench *b, struct rc_conn *c)
{
	char path[512];
	struct file_xfer x = {.c = c, .path = path, .bytes = SMALL_BYTES};
	struct meas op = {.row =
			      row_new(b, "read_small", "fs", RK_LATENCY, "us",
				      "READ of a 100-byte file, round trip"),
			  .fn = do_read_small,
			  .ctx = &x,
			  .conn = c};
	int r;

	snprintf(path, sizeof(path), "%s/small.txt", b->cfg.work);
	strcpy(op.row->baseline, "ping");
	row_target(op.row, TM_MEDIAN, TC_LE, 100);
	if ((r = make_file(path, SMALL_BYTES, true)) < 0) {
		row_fail(op.row, "error (%s: %s)", path, strerror(-r));
		return;
	}
	measure_pair(b, &op, NULL, b->cfg.lat_n);
	row_print(b, op.row);
}

static void big_rows(struct bench *b, struct rc_conn *c)
{
	char big[512], out[512], dd_out[512];
	struct file_xfer xr = {.c = c, .path = big, .bytes = b->cfg.big_bytes},
			 xw = {.c = c, .path = out, .bytes = b->cfg.big_bytes},
			 xd = {.path = dd_out, .bytes = b->cfg.big_bytes};
	struct meas rd = {.row = row_new(b, "read_tput", "fs", RK_THROUGHPUT,
					 "MB/s",
					 "READ of a big file to the client"),
			  .xfn = xfer_read,
			  .ctx = &xr,
			  .conn = c};
	struct meas dd_rd = {
	    .row = row_new(b, "dd_read", "baseline", RK_THROUGHPUT, "MB/s",
			   "floor: `dd if=FILE of=/dev/null bs=1M`"),
	    .xfn = xfer_dd_read,
	    .ctx = &xr};
	struct meas wr = {.row = row_new(b, "write_tput", "fs", RK_THROUGHPUT,
					 "MB/s",
					 "WRITE of a big file from the client"),
			  .xfn = xfer_write,
			  .ctx = &xw,
			  .conn = c};
	struct meas dd_wr = {
	    .row = row_new(b, "dd_write", "baseline", RK_THROUGHPUT, "MB/s",
			   "floor: `dd if=/dev/zero of=FILE bs=1M`"),
	    .xfn = xfer_dd_write,
	    .ctx = &xd};
	int r;

	snprintf(big, sizeof(big), "%s/big.dat", b->cfg.work);
	snprintf(out, sizeof(out), "%s/written.dat", b->cfg.work);
	snprintf(dd_out, sizeof(dd_out), "%s/written-dd.dat", b->cfg.work);
	strcpy(rd.row->baseline, "dd_read");
	strcpy(wr.row->baseline, "dd_write");
	row_target(rd.row, TM_MEDIAN, TC_GE, 1000);
	row_target(wr.row, TM_MEDIAN, TC_GE, 1000);
	if ((r = make_file(big, b->cfg.big_bytes, false)) < 0) {
		row_fail(rd.row, "error (%s: %s)", big, strerror(-r));
		return;
	}
	measure_tput(b, &rd, &dd_rd);
	row_print(b, dd_rd.row);
	row_print(b, rd.row);
	measure_tput(b, &wr, &dd_wr);
	row_print(b, dd_wr.row);
	row_print(b, wr.row);
	/* Two more copies of a big file in RAM help no one. */
	unlink(out);
	unlink(dd_out);
}

static void grep_rows(struct bench *b, struct rc_conn *c)
{
	struct grep_ctx g = {.c = c};
	struct meas op = {.row =
			      row_new(b, "grep_tree", "fs", RK_LATENCY, "us",
				      "GREP a fixed word over a tree of small "
				      "files"),
			  .fn = do_grep,
			  .ctx = &g,
			  .conn = c};
	struct meas base = {.row = row_new(b, "gnu_grep", "baseline",
					   RK_LATENCY, "us",
					   "GNU `grep -rn WORD TREE` locally"),
			    .fn = do_gnu_grep,
			    .ctx = &g};
	unsigned expect = 0;
	int r;

	snprintf(g.root, sizeof(g.root), "%s/tree", b->cfg.work);
	strcpy(op.row->baseline, "gnu_grep");
	row_target(op.row, TM_RATIO, TC_LE, 2);
	if ((r = make_tree(g.root, b->cfg.grep_files, &expect)) < 0) {
		row_fail(op.row, "error (tree: %s)", strerror(-r));
		return;
	}
	op.warm = base.warm = 2;
	measure_pair(b, &op, &base, b->cfg.quick ? 3 : 10);
	row_extra(op.row, "files", b->cfg.grep_files);
	row_extra(op.row, "expected_matches", expect);
	if (op.row->ok) {
		row_extra(op.row, "matches", (double)g.matches);
		if (g.matches != expect)
			snprintf(op.row->status, sizeof(op.row->status),
				 "ok, but %llu matches reported, %u expected",
				 (unsigned long long)g.matches, expect);
	}
	row_print(b, base.row);
	row_print(b, op.row);
	rm_tree(g.root);
}

void suite_fs(struct bench *b)
{
	static const char *const args[] = {NULL};
	struct target t;
	struct rc_conn c;
	int r;

	if ((r = target_start(b, &t, args)) < 0) {
		progress("fs: cannot start the runner: %s", strerror(-r));
		return;
	}
	if (target_connect(&t, &c) == 0) {
		small_read_row(b, &c);
		big_rows(b, &c);
		grep_rows(b, &c);
	} else {
		progress("fs: cannot connect: %s", c.err);
	}
	rc_close(&c);
	target_stop(b, &t);
}
