/* suite_soak.c - memory soak: many execs, reads and pings against one
 * runner, its RSS and fd count sampled along the way.  Flat is the only
 * acceptable shape: growth here is a leak per request. */
#include "bench.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SOAK_SAMPLES 100
/* The allocator settles during the first requests; growth is measured
 * from this fraction of the run onward. */
#define SOAK_SETTLE	0.05
#define SOAK_GROWTH_KIB 512

struct soak_op {
	const char *id, *title;
	int (*fn)(struct rc_conn *c, const char *small);
};

static int soak_exec(struct rc_conn *c, const char *small)
{
	(void)small;
	return op_exec(c, NULL, "true", NULL);
}

static int soak_read(struct rc_conn *c, const char *small)
{
	return op_read(c, small, NULL);
}

static int soak_ping(struct rc_conn *c, const char *small)
{
	(void)small;
	return op_ping(c);
}

static const struct soak_op soak_ops[] = {
    {"soak_exec", "RSS growth over EXEC `true` x N", soak_exec},
    {"soak_read", "RSS growth over READ (100 bytes) x N", soak_read},
    {"soak_ping", "RSS growth over PING x N", soak_ping},
};

static void soak_one(struct bench *b, struct target *t, struct rc_conn *c,
		     const struct soak_op *so, const char *small)
{
	struct row *r = row_new(b, so->id, "soak", RK_VALUE, "KiB", so->title);
	unsigned n = b->cfg.soak_n,
		 every = n / SOAK_SAMPLES ? n / SOAK_SAMPLES : 1;
	double x[SOAK_SAMPLES + 1], y[SOAK_SAMPLES + 1], settled = -1;
	int fds0 = -1, fds1 = -1, err;
	size_t k = 0;
	unsigned i;
	uint64_t t0 = now_ns();

	row_target(r, TM_VALUE, TC_LE, SOAK_GROWTH_KIB);
	for (i = 0; i < n; i++) {
		if ((err = so->fn(c, small)) != 0) {
			row_refused(r, err, c->err);
			row_print(b, r);
			return;
		}
		if (i % every == 0 && k < SOAK_SAMPLES + 1) {
			x[k] = i;
			y[k++] = (double)target_rss_kib(t, "VmRSS:");
		}
		if (settled < 0 && i >= n * SOAK_SETTLE) {
			settled = (double)target_rss_kib(t, "VmRSS:");
			fds0 = target_fds(t);
		}
	}
	fds1 = target_fds(t);
	r->value = (double)target_rss_kib(t, "VmRSS:") - settled;
	r->ok = true;
	snprintf(r->status, sizeof(r->status), "ok");
	row_extra(r, "requests", n);
	row_extra(r, "rss_settled_kib", settled);
	row_extra(r, "rss_end_kib", settled + r->value);
	row_extra(r, "fd_growth", fds1 - fds0);
	row_extra(r, "seconds", since_us(t0) / 1e6);
	row_series(r, "requests vs runner RSS (KiB)", x, y, k);
	row_print(b, r);
}

static void soak_step(struct bench *b, struct target *t, struct rc_conn *c,
		      int which)
{
	char small[512];

	snprintf(small, sizeof(small), "%s/small.txt", b->cfg.work);
	soak_one(b, t, c, &soak_ops[which], small);
}

static void soak_exec_step(struct bench *b, struct target *t, struct rc_conn *c)
{
	soak_step(b, t, c, 0);
}

static void soak_read_step(struct bench *b, struct target *t, struct rc_conn *c)
{
	soak_step(b, t, c, 1);
}

static void soak_ping_step(struct bench *b, struct target *t, struct rc_conn *c)
{
	soak_step(b, t, c, 2);
}

void suite_soak(struct bench *b)
{
	static const step_fn steps[] = {soak_exec_step, soak_read_step,
					soak_ping_step, NULL};
	char small[512];
	int r;

	snprintf(small, sizeof(small), "%s/small.txt", b->cfg.work);
	if ((r = make_file(small, 100, true)) < 0) {
		progress("soak: %s: %s", small, strerror(-r));
		return;
	}
	run_steps(b, "soak", NULL, steps);
}
