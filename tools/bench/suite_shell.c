/* suite_shell.c - the persistent shell: exec latency and PTY output. */
#include "bench.h"

#include <stdio.h>
#include <string.h>

static int do_exec_true(void *ctx)
{
	return op_exec(ctx, NULL, "true", NULL);
}

static int do_sh_true(void *ctx)
{
	(void)ctx;
	return local_sh_true();
}

static int xfer_exec_cat(void *ctx, uint64_t *bytes)
{
	struct file_xfer *x = ctx;

	return op_exec(x->c, NULL, x->cmd, bytes);
}

static void exec_rows(struct bench *b, struct rc_conn *c)
{
	struct meas op = {
	    .row = row_new(b, "exec_true", "shell", RK_LATENCY, "us",
			   "EXEC `true` in session main (wait mode)"),
	    .fn = do_exec_true,
	    .ctx = c,
	    .conn = c};
	struct meas base = {
	    .row = row_new(b, "sh_c_true", "baseline", RK_LATENCY, "us",
			   "floor: fork+exec `sh -c true` locally"),
	    .fn = do_sh_true};

	strcpy(op.row->baseline, "sh_c_true");
	row_target(op.row, TM_MEDIAN, TC_LE, 300);
	measure_pair(b, &op, &base, b->cfg.lat_n);
	row_print(b, base.row);
	row_print(b, op.row);
}

static void pty_rows(struct bench *b, struct rc_conn *c)
{
	struct file_xfer x = {.c = c};
	char path[512];
	struct meas op = {
	    .row = row_new(b, "exec_pty_tput", "shell", RK_THROUGHPUT, "MB/s",
			   "EXEC `cat FILE` output through the PTY "
			   "(stream mode, raw)"),
	    .xfn = xfer_exec_cat,
	    .ctx = &x,
	    .conn = c};
	struct meas base = {
	    .row = row_new(b, "cat_pty_file", "baseline", RK_THROUGHPUT, "MB/s",
			   "floor: `cat FILE > /dev/null` locally "
			   "(same file)"),
	    .xfn = xfer_cat,
	    .ctx = &x};
	int r;

	snprintf(path, sizeof(path), "%s/pty.dat", b->cfg.work);
	x.path = path;
	x.bytes = b->cfg.pty_bytes;
	snprintf(x.cmd, sizeof(x.cmd), "cat '%s'", path);
	strcpy(op.row->baseline, "cat_pty_file");
	row_target(op.row, TM_MEDIAN, TC_GE, 200);
	if ((r = make_file(path, b->cfg.pty_bytes, true)) < 0) {
		row_fail(op.row, "error (%s: %s)", path, strerror(-r));
		return;
	}
	measure_tput(b, &op, &base);
	row_print(b, base.row);
	row_print(b, op.row);
}

void suite_shell(struct bench *b)
{
	static const char *const args[] = {NULL};
	struct target t;
	struct rc_conn c;
	int r;

	if ((r = target_start(b, &t, args)) < 0) {
		progress("shell: cannot start the runner: %s", strerror(-r));
		return;
	}
	if (target_connect(&t, &c) == 0) {
		exec_rows(b, &c);
		pty_rows(b, &c);
	} else {
		progress("shell: cannot connect: %s", c.err);
	}
	rc_close(&c);
	target_stop(b, &t);
}
