/* suite_proc.c - spawned processes: spawn latency, output through pipes
 * and through a PTY. */
#include "bench.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

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
	int r = op_spawn(x->c, argv, false, bytes);

	return xfer_check(x, r, *bytes);
}

static int xfer_spawn_cat_pty(void *ctx, uint64_t *bytes)
{
	struct file_xfer *x = ctx;
	const char *argv[] = {"cat", x->path, NULL};
	int r = op_spawn(x->c, argv, true, bytes);

	return xfer_check(x, r, *bytes);
}

static void spawn_rows(struct bench *b, struct target *t, struct rc_conn *c)
{
	struct row *rs = row_lat(b, "spawn_true", "proc", "posix_spawn_true",
				 "SPAWN /bin/true (pipes) to its RESULT");
	struct row *rb =
	    row_lat(b, "posix_spawn_true", "baseline", NULL,
		    "floor: posix_spawn /bin/true + waitpid locally");
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
	struct row *rp =
	    row_tput(b, "spawn_pipe_tput", "proc", "cat_file",
		     "SPAWN `cat FILE`: stdout through a pipe to the client");
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

/* Issue 4: memory stays bounded while many processes write to a client
 * that reads slowly.  The runner may only buffer a window per stream; the
 * rest must wait in the pipes, i.e. the writers block. */
#define SLOW_PROCS	   100
#define SLOW_MS		   2000
#define SLOW_READ_EVERY_MS 10

struct slow {
	uint32_t first, last; /* stream ids of the spawns */
	int err;
	char msg[sizeof(((struct rc_conn *)0)->err)];
	long peak_kib;
	unsigned frames;
};

static void slow_frame(struct rc_conn *c, const struct rc_frame *f,
		       struct slow *s)
{
	if (f->h.stream < s->first || f->h.stream > s->last)
		return;
	if (f->h.type == WT_DATA)
		s->frames++;
	else if (f->h.type == WT_ERROR && !s->err) {
		s->err = rc_error_of(c, f);
		snprintf(s->msg, sizeof(s->msg), "%s", c->err);
	}
}

static void slow_read(struct bench *b, struct target *t, struct rc_conn *c,
		      struct slow *s)
{
	struct timespec pause = {0, SLOW_READ_EVERY_MS * 1000000L};
	uint64_t t0 = now_ns();
	struct rc_frame f;
	long kib;

	while (!s->err && since_us(t0) < SLOW_MS * 1000.0) {
		if (op_recv(c, &f) < 0) {
			s->err = -EPIPE;
			snprintf(s->msg, sizeof(s->msg), "%s", c->err);
			return;
		}
		slow_frame(c, &f, s);
		if ((kib = target_rss_kib(t, "VmRSS:")) > s->peak_kib)
			s->peak_kib = kib;
		nanosleep(&pause, NULL);
	}
}

static void slow_reader_row(struct bench *b, struct target *t,
			    struct rc_conn *c)
{
	static const char *const argv[] = {"cat", "/dev/zero", NULL};
	struct row *r = row_new(
	    b, "slow_reader_rss", "proc", RK_VALUE, "KiB",
	    "runner RSS growth: 100 processes writing to a client that reads slowly");
	long before = target_rss_kib(t, "VmRSS:");
	struct slow s = {0};
	unsigned i;
	uint32_t id;

	for (i = 0; i < SLOW_PROCS && !s.err; i++) {
		if ((s.err = op_spawn_start(c, argv, &id)) != 0)
			snprintf(s.msg, sizeof(s.msg), "%s", c->err);
		s.first = i ? s.first : id;
		s.last = id;
	}
	slow_read(b, t, c, &s);
	if (s.err) {
		row_refused(r, s.err, s.msg);
	} else {
		r->value = (double)(s.peak_kib - before);
		r->ok = true;
		snprintf(r->status, sizeof(r->status), "ok");
		row_extra(r, "processes", SLOW_PROCS);
		row_extra(r, "rss_before_kib", (double)before);
		row_extra(r, "rss_peak_kib", (double)s.peak_kib);
		row_extra(r, "frames_read", s.frames);
	}
	row_print(b, r);
}

void suite_proc(struct bench *b)
{
	/* slow_reader_row leaves 100 writers behind: it goes last. */
	static const step_fn steps[] = {spawn_rows, pipe_rows, pty_rows,
					slow_reader_row, NULL};

	run_steps(b, "proc", NULL, steps);
}
