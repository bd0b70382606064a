/* measure.c - the loops every suite shares.
 *
 * Noise on a shared 2-core machine comes in bursts of seconds, so an
 * operation and its baseline are measured in alternating rounds rather
 * than one after the other: a burst then lands on both.  Every round's
 * median is kept so the spread is visible in results.json.
 */
#include "bench.h"

#include <errno.h>
#include <string.h>

#define WARMUP_MIN 5

static void refuse(struct meas *m, int r)
{
	const char *why = m->conn ? m->conn->err : NULL;

	/* Local baselines have no connection to explain them. */
	if (!why && r == -EBADMSG)
		why = "the command exited non-zero";
	row_refused(m->row, r, why);
}

/* Untimed calls, to learn whether the op works at all and to warm
 * caches.  false (and the row marked) when it does not. */
static bool probe(struct meas *m, unsigned warm, int *err)
{
	unsigned i;
	int r;

	*err = 0;
	if (!m || !m->row)
		return false;
	for (i = 0; i < warm; i++) {
		if ((r = m->fn(m->ctx)) != 0) {
			refuse(m, r);
			*err = r;
			return false;
		}
	}
	return true;
}

static int one_round(struct meas *m, struct samples *all, unsigned n,
		     double *round_median)
{
	struct samples rs = {0};
	unsigned i;
	int r = 0;

	for (i = 0; i < n && r == 0; i++) {
		uint64_t t0 = now_ns();
		r = m->fn(m->ctx);
		if (r == 0) {
			double us = since_us(t0);
			samples_add(all, us);
			samples_add(&rs, us);
		}
	}
	*round_median = samples_quantile(&rs, 0.5);
	samples_free(&rs);
	return r;
}

int measure_pair(struct bench *b, struct meas *op, struct meas *base,
		 unsigned n)
{
	unsigned rounds = b->cfg.rounds, per, warm, k;
	struct samples so = {0}, sb = {0};
	int eo = 0, eb = 0;
	bool do_op, do_base;

	if (rounds > BENCH_MAX_ROUNDS)
		rounds = BENCH_MAX_ROUNDS;
	per = n / rounds ? n / rounds : 1;
	warm = per / 10 > WARMUP_MIN ? per / 10 : WARMUP_MIN;
	do_op = probe(op, op && op->warm ? op->warm : warm, &eo);
	do_base = probe(base, base && base->warm ? base->warm : warm, &eb);
	for (k = 0; k < rounds && (do_op || do_base); k++) {
		if (do_base &&
		    (eb = one_round(base, &sb, per,
				    &base->row->round_median[k])) != 0) {
			refuse(base, eb);
			do_base = false;
		}
		if (do_op && (eo = one_round(op, &so, per,
					     &op->row->round_median[k])) != 0) {
			refuse(op, eo);
			do_op = false;
		}
	}
	if (do_op) {
		op->row->rounds = (int)rounds;
		row_stats(op->row, &so);
	}
	if (do_base) {
		base->row->rounds = (int)rounds;
		row_stats(base->row, &sb);
	}
	samples_free(&so);
	samples_free(&sb);
	return eo;
}

/* One transfer; MB/s into s.  MB/s is bytes per microsecond. */
static int one_xfer(struct meas *m, struct samples *s)
{
	uint64_t bytes = 0, t0 = now_ns();
	int r = m->xfn(m->ctx, &bytes);
	double us = since_us(t0);

	if (r == 0) {
		samples_add(s, us > 0 ? (double)bytes / us : 0);
		if (m->row->nextra == 0)
			row_extra(m->row, "bytes", (double)bytes);
	}
	return r;
}

static void tput_done(struct meas *m, struct samples *s, unsigned reps)
{
	unsigned k;

	m->row->rounds =
	    (int)(reps < BENCH_MAX_ROUNDS ? reps : BENCH_MAX_ROUNDS);
	for (k = 0; k < (unsigned)m->row->rounds && k < s->n; k++)
		m->row->round_median[k] = s->v[k];
	row_stats(m->row, s);
}

/* Untimed transfers first where the first ones pay for something the
 * rest do not (fresh page-cache pages: in a VM, the first touch of guest
 * memory is several times slower). */
static int xfer_warm(struct meas *m)
{
	uint64_t bytes;
	unsigned i;
	int r = 0;

	for (i = 0; m && m->row && i < m->warm && r == 0; i++)
		r = m->xfn(m->ctx, &bytes);
	if (r)
		refuse(m, r);
	return r;
}

int measure_tput(struct bench *b, struct meas *op, struct meas *base)
{
	struct samples so = {0}, sb = {0};
	unsigned k, reps = b->cfg.tput_reps;
	bool do_op = op && op->row, do_base = base && base->row;
	int eo = 0, eb;

	if (do_base && xfer_warm(base) != 0)
		do_base = false;
	if (do_op && (eo = xfer_warm(op)) != 0)
		do_op = false;
	for (k = 0; k < reps && (do_op || do_base); k++) {
		if (do_base && (eb = one_xfer(base, &sb)) != 0) {
			refuse(base, eb);
			do_base = false;
		}
		if (do_op && (eo = one_xfer(op, &so)) != 0) {
			refuse(op, eo);
			do_op = false;
		}
	}
	/* round_median holds each repeat's figure in the order measured,
	 * before row_stats sorts the samples. */
	if (do_op)
		tput_done(op, &so, reps);
	if (do_base)
		tput_done(base, &sb, reps);
	samples_free(&so);
	samples_free(&sb);
	return eo;
}
