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
	int r = op_exec(x->c, NULL, x->cmd, bytes);

	return xfer_check(x, r, *bytes);
}

static void exec_rows(struct bench *b, struct target *t, struct rc_conn *c)
{
	struct row *re = row_lat(b, "exec_true", "shell", "sh_c_true",
				 "EXEC `true` in session main (wait mode)");
	struct row *rb = row_lat(b, "sh_c_true", "baseline", NULL,
				 "floor: fork+exec `sh -c true` locally");
	struct meas op = {.row = re, .fn = do_exec_true, .ctx = c, .conn = c};
	struct meas base = {.row = rb, .fn = do_sh_true};

	row_target(re, TM_MEDIAN, TC_LE, 300);
	measure_pair(b, &op, &base, b->cfg.lat_n);
	row_print(b, rb);
	row_print(b, re);
}

static void pty_rows(struct bench *b, struct target *t, struct rc_conn *c)
{
	char path[512];
	struct file_xfer x = {.c = c, .path = path, .bytes = b->cfg.pty_bytes};
	struct row *rp = row_tput(
	    b, "exec_pty_tput", "shell", "cat_pty_file",
	    "EXEC `cat FILE`: output through the PTY (stream mode, raw)");
	struct row *rb = row_tput(
	    b, "cat_pty_file", "baseline", NULL,
	    "floor: `cat FILE > /dev/null` locally (the PTY rows' file)");
	struct meas op = {
	    .row = rp, .xfn = xfer_exec_cat, .ctx = &x, .conn = c};
	struct meas base = {.row = rb, .xfn = xfer_cat, .ctx = &x};
	int e;

	snprintf(path, sizeof(path), "%s/pty.dat", b->cfg.work);
	snprintf(x.cmd, sizeof(x.cmd), "cat '%s'", path);
	row_target(rp, TM_MEDIAN, TC_GE, 200);
	if ((e = make_file(path, x.bytes, true)) < 0) {
		row_fail(rp, "error (%s: %s)", path, strerror(-e));
		return;
	}
	measure_tput(b, &op, &base);
	row_print(b, rb);
	row_print(b, rp);
}

void suite_shell(struct bench *b)
{
	static const step_fn steps[] = {exec_rows, pty_rows, NULL};

	run_steps(b, "shell", NULL, steps);
}
