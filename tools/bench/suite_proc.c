/* suite_proc.c - spawned processes: spawn latency, output through pipes
 * and through a PTY. */
#include "bench.h"

#include <stdio.h>
#include <string.h>

static int do_spawn_true(void *ctx)
{
	static const char *const argv[] = {"/bin/true", NULL};

	return op_spawn(ctx, argv, false, NULL);
}

static int do_local_spawn(void *ctx)
{
	(void)ctx;
	return local_spawn_true();
}

static int xfer_spawn_cat(void *ctx, uint64_t *bytes)
{
	struct file_xfer *x = ctx;
	const char *argv[] = {"cat", x->path, NULL};

	return op_spawn(x->c, argv, false, bytes);
}

static int xfer_spawn_cat_pty(void *ctx, uint64_t *bytes)
{
	struct file_xfer *x = ctx;
	const char *argv[] = {"cat", x->path, NULL};

	return op_spawn(x->c, argv, true, bytes);
}

static void spawn_rows(struct bench *b, struct rc_conn *c)
{
	struct meas op = {.row =
			      row_new(b, "spawn_true", "proc", RK_LATENCY, "us",
				      "SPAWN /bin/true, pipes, to its RESULT"),
			  .fn = do_spawn_true,
			  .ctx = c,
			  .conn = c};
	struct meas base = {
	    .row = row_new(b, "posix_spawn_true", "baseline", RK_LATENCY, "us",
			   "floor: posix_spawn /bin/true + waitpid "
			   "locally"),
	    .fn = do_local_spawn};

	strcpy(op.row->baseline, "posix_spawn_true");
	row_target(op.row, TM_MEDIAN, TC_LE, 500);
	measure_pair(b, &op, &base, b->cfg.lat_n);
	row_print(b, base.row);
	row_print(b, op.row);
}

static void tput_row(struct bench *b, struct meas *op, struct meas *base,
		     const char *base_id)
{
	strcpy(op->row->baseline, base_id);
	measure_tput(b, op, base);
	if (base)
		row_print(b, base->row);
	row_print(b, op->row);
}

static void pipe_rows(struct bench *b, struct rc_conn *c)
{
	char big[512], small[512];
	struct file_xfer xb = {.c = c, .path = big},
			 xs = {.c = c, .path = small};
	struct meas op = {
	    .row = row_new(b, "spawn_pipe_tput", "proc", RK_THROUGHPUT, "MB/s",
			   "SPAWN `cat FILE`: stdout through a pipe "
			   "to the client"),
	    .xfn = xfer_spawn_cat,
	    .ctx = &xb,
	    .conn = c};
	struct meas base = {
	    .row = row_new(b, "cat_file", "baseline", RK_THROUGHPUT, "MB/s",
			   "floor: `cat FILE > /dev/null` locally"),
	    .xfn = xfer_cat,
	    .ctx = &xb};
	struct meas pty = {
	    .row = row_new(b, "spawn_pty_tput", "proc", RK_THROUGHPUT, "MB/s",
			   "SPAWN `cat FILE` on a PTY to the client"),
	    .xfn = xfer_spawn_cat_pty,
	    .ctx = &xs,
	    .conn = c};
	int r;

	snprintf(big, sizeof(big), "%s/big.dat", b->cfg.work);
	snprintf(small, sizeof(small), "%s/pty.dat", b->cfg.work);
	xb.bytes = b->cfg.big_bytes;
	xs.bytes = b->cfg.pty_bytes;
	row_target(op.row, TM_MEDIAN, TC_GE, 1000);
	if ((r = make_file(big, xb.bytes, false)) < 0 ||
	    (r = make_file(small, xs.bytes, true)) < 0) {
		row_fail(op.row, "error (scratch file: %s)", strerror(-r));
		return;
	}
	tput_row(b, &op, &base, "cat_file");
	/* Same floor as the shell's PTY row, measured there. */
	tput_row(b, &pty, NULL, "cat_pty_file");
}

void suite_proc(struct bench *b)
{
	static const char *const args[] = {NULL};
	struct target t;
	struct rc_conn c;
	int r;

	if ((r = target_start(b, &t, args)) < 0) {
		progress("proc: cannot start the runner: %s", strerror(-r));
		return;
	}
	if (target_connect(&t, &c) == 0) {
		spawn_rows(b, &c);
		pipe_rows(b, &c);
	} else {
		progress("proc: cannot connect: %s", c.err);
	}
	rc_close(&c);
	target_stop(b, &t);
}
