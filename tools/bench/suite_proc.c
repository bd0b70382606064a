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

static void spawn_rows(struct bench *b, struct target *t, struct rc_conn *c)
{
	struct row *rs = row_lat(b, "spawn_true", "proc", "posix_spawn_true",
				 "SPAWN /bin/true (pipes) to its RESULT");
	struct row *rb = row_lat(b, "posix_spawn_true", "baseline", NULL,
				 "floor: posix_spawn /bin/true + waitpid "
				 "locally");
	struct meas op = {.row = rs, .fn = do_spawn_true, .ctx = c, .conn = c};
	struct meas base = {.row = rb, .fn = do_local_spawn};

	row_target(rs, TM_MEDIAN, TC_LE, 500);
	measure_pair(b, &op, &base, b->cfg.lat_n);
	row_print(b, rb);
	row_print(b, rs);
}

static void pipe_rows(struct bench *b, struct target *t, struct rc_conn *c)
{
	char big[512];
	struct file_xfer x = {.c = c, .path = big, .bytes = b->cfg.big_bytes};
	struct row *rp = row_tput(b, "spawn_pipe_tput", "proc", "cat_file",
				  "SPAWN `cat FILE`: stdout through a pipe "
				  "to the client");
	struct row *rb = row_tput(b, "cat_file", "baseline", NULL,
				  "floor: `cat FILE > /dev/null` locally");
	struct meas op = {
	    .row = rp, .xfn = xfer_spawn_cat, .ctx = &x, .conn = c};
	struct meas base = {.row = rb, .xfn = xfer_cat, .ctx = &x};
	int e;

	snprintf(big, sizeof(big), "%s/big.dat", b->cfg.work);
	row_target(rp, TM_MEDIAN, TC_GE, 1000);
	if ((e = make_file(big, x.bytes, false)) < 0) {
		row_fail(rp, "error (%s: %s)", big, strerror(-e));
		return;
	}
	measure_tput(b, &op, &base);
	row_print(b, rb);
	row_print(b, rp);
}

/* Same file and floor as the shell's PTY row (cat_pty_file). */
static void pty_rows(struct bench *b, struct target *t, struct rc_conn *c)
{
	char path[512];
	struct file_xfer x = {.c = c, .path = path, .bytes = b->cfg.pty_bytes};
	struct row *rp = row_tput(b, "spawn_pty_tput", "proc", "cat_pty_file",
				  "SPAWN `cat FILE` on a PTY to the client");
	struct meas op = {
	    .row = rp, .xfn = xfer_spawn_cat_pty, .ctx = &x, .conn = c};
	int e;

	snprintf(path, sizeof(path), "%s/pty.dat", b->cfg.work);
	if ((e = make_file(path, x.bytes, true)) < 0) {
		row_fail(rp, "error (%s: %s)", path, strerror(-e));
		return;
	}
	measure_tput(b, &op, NULL);
	row_print(b, rp);
}

void suite_proc(struct bench *b)
{
	static const step_fn steps[] = {spawn_rows, pipe_rows, pty_rows, NULL};

	run_steps(b, "proc", NULL, steps);
}
