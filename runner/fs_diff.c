/* fs_diff.c - unified diff of two buffers.  Pure: no I/O, the output
 * goes to a callback (the helper's pipe, or a unit test's buffer).
 *
 * Myers' O((N+M)D) algorithm in its linear-space form: strip the common
 * prefix and suffix, find the middle snake of an optimal path by running
 * the search from both ends, recurse on the two halves.  After stripping,
 * both halves hold at least one edit, so the recursion always shrinks.
 * Lines compare with their '\n' (a last line without one differs from
 * the same text with one, as in diff(1)), by hash first.
 */
#include "fs_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DIFF_CONTEXT 3

struct line {
	const char *p;
	size_t len; /* with the '\n' when there is one */
	uint64_t hash;
};

struct diff {
	struct line *a, *b;
	size_t na, nb;
	uint8_t *del, *add; /* per line: removed from a, added in b */
	long *vf, *vb;	    /* furthest x per diagonal, offset by voff */
	long voff;
};

static size_t split_lines(const char *p, size_t n, struct line *out)
{
	size_t count = 0, i = 0;
	const char *nl;
	uint64_t h;
	size_t k;

	while (i < n) {
		nl = memchr(p + i, '\n', n - i);
		k = nl ? (size_t)(nl - p) + 1 - i : n - i;
		if (out) {
			h = 1469598103934665603ull; /* FNV-1a */
			for (size_t j = 0; j < k; j++)
				h = (h ^ (uint8_t)p[i + j]) * 1099511628211ull;
			out[count] = (struct line){p + i, k, h};
		}
		count++;
		i += k;
	}
	return count;
}

static bool line_eq(const struct diff *d, long x, long y)
{
	const struct line *a = &d->a[x], *b = &d->b[y];

	return a->hash == b->hash && a->len == b->len &&
	       memcmp(a->p, b->p, a->len) == 0;
}

struct snake {
	long x0, y0, x1, y1;
};

/* Reverse-direction helper: a[a0+n-1-xr] vs b[b0+m-1-yr]. */
static bool rev_eq(const struct diff *d, long a0, long n, long b0, long m,
		   long xr, long yr)
{
	return line_eq(d, a0 + n - 1 - xr, b0 + m - 1 - yr);
}

static void middle_snake(struct diff *d, long a0, long n, long b0, long m,
			 struct snake *sn)
{
	long delta = n - m, dmax = (n + m + 1) / 2, D, k, x, y, x0;
	long *vf = d->vf + d->voff, *vb = d->vb + d->voff;
	bool odd = delta & 1;

	vf[1] = 0;
	vb[1] = 0;
	for (D = 0; D <= dmax; D++) {
		for (k = -D; k <= D; k += 2) {
			x = (k == -D || (k != D && vf[k - 1] < vf[k + 1]))
				? vf[k + 1]
				: vf[k - 1] + 1;
			x0 = x;
			y = x - k;
			while (x < n && y < m && line_eq(d, a0 + x, b0 + y))
				x++, y++;
			vf[k] = x;
			if (odd && delta - k >= -(D - 1) &&
			    delta - k <= D - 1 && vf[k] + vb[delta - k] >= n) {
				*sn = (struct snake){x0, x0 - k, x, y};
				return;
			}
		}
		for (k = -D; k <= D; k += 2) {
			x = (k == -D || (k != D && vb[k - 1] < vb[k + 1]))
				? vb[k + 1]
				: vb[k - 1] + 1;
			x0 = x;
			y = x - k;
			while (x < n && y < m && rev_eq(d, a0, n, b0, m, x, y))
				x++, y++;
			vb[k] = x;
			if (!odd && delta - k >= -D && delta - k <= D &&
			    vf[delta - k] + vb[k] >= n) {
				*sn = (struct snake){n - x, m - y, n - x0,
						     m - (x0 - k)};
				return;
			}
		}
	}
	/* Unreachable: an overlap exists by D = ceil((n+m)/2). */
	*sn = (struct snake){0, 0, 0, 0};
}

static void compare(struct diff *d, long a0, long a1, long b0, long b1)
{
	struct snake sn;

	while (a0 < a1 && b0 < b1 && line_eq(d, a0, b0))
		a0++, b0++;
	while (a0 < a1 && b0 < b1 && line_eq(d, a1 - 1, b1 - 1))
		a1--, b1--;
	if (a0 == a1 || b0 == b1) {
		memset(d->del + a0, 1, (size_t)(a1 - a0));
		memset(d->add + b0, 1, (size_t)(b1 - b0));
		return;
	}
	middle_snake(d, a0, a1 - a0, b0, b1 - b0, &sn);
	compare(d, a0, a0 + sn.x0, b0, b0 + sn.y0);
	compare(d, a0 + sn.x1, a1, b0 + sn.y1, b1);
}

/* ---- output ---- */

enum { OP_EQ, OP_DEL, OP_ADD };

struct out {
	diff_emit_fn emit;
	void *ctx;
};

static void emit_line(struct out *o, char mark, const struct line *l)
{
	static const char nonl[] = "\n\\ No newline at end of file\n";

	o->emit(o->ctx, &mark, 1);
	o->emit(o->ctx, l->p, l->len);
	if (!l->len || l->p[l->len - 1] != '\n')
		o->emit(o->ctx, nonl, sizeof(nonl) - 1);
}

static void emit_range(struct out *o, char c, long start, long count)
{
	char buf[64];
	int n;

	if (count == 1)
		n = snprintf(buf, sizeof(buf), "%c%ld", c, start + 1);
	else
		n = snprintf(buf, sizeof(buf), "%c%ld,%ld", c,
			     count ? start + 1 : start, count);
	o->emit(o->ctx, buf, (size_t)n);
}

/* ops[s..e) with a/b line indices ai[], bi[] at each op. */
static void emit_hunk(struct diff *d, struct out *o, const uint8_t *ops,
		      const long *ai, const long *bi, long s, long e)
{
	long na = 0, nb = 0, k;

	for (k = s; k < e; k++) {
		na += ops[k] != OP_ADD;
		nb += ops[k] != OP_DEL;
	}
	o->emit(o->ctx, "@@ ", 3);
	emit_range(o, '-', ai[s], na);
	o->emit(o->ctx, " ", 1);
	emit_range(o, '+', bi[s], nb);
	o->emit(o->ctx, " @@\n", 4);
	for (k = s; k < e; k++) {
		if (ops[k] == OP_EQ)
			emit_line(o, ' ', &d->a[ai[k]]);
		else if (ops[k] == OP_DEL)
			emit_line(o, '-', &d->a[ai[k]]);
		else
			emit_line(o, '+', &d->b[bi[k]]);
	}
}

static void emit_hunks(struct diff *d, struct out *o, const uint8_t *ops,
		       const long *ai, const long *bi, long nops)
{
	long k = 0, c, e, r, start;

	while (k < nops) {
		for (c = k; c < nops && ops[c] == OP_EQ; c++)
			;
		if (c == nops)
			break;
		start = c - DIFF_CONTEXT > k ? c - DIFF_CONTEXT : k;
		e = c;
		for (;;) {
			while (e < nops && ops[e] != OP_EQ)
				e++;
			for (r = 0; e + r < nops && ops[e + r] == OP_EQ; r++)
				;
			if (e + r == nops || r > 2 * DIFF_CONTEXT) {
				e += r < DIFF_CONTEXT ? r : DIFF_CONTEXT;
				break;
			}
			e += r;
		}
		emit_hunk(d, o, ops, ai, bi, start, e);
		k = e;
	}
}

/* Turn the del/add marks into one op sequence, then into hunks. */
static long script(struct diff *d, struct out *o)
{
	long n = (long)(d->na + d->nb), nops = 0, i = 0, j = 0, changed = 0;
	uint8_t *ops = malloc((size_t)n + 1);
	long *ai = malloc(((size_t)n + 1) * sizeof(long));
	long *bi = malloc(((size_t)n + 1) * sizeof(long));

	if (!ops || !ai || !bi) {
		free(ops), free(ai), free(bi);
		return -ENOMEM;
	}
	while (i < (long)d->na || j < (long)d->nb) {
		ai[nops] = i;
		bi[nops] = j;
		if (i < (long)d->na && d->del[i])
			ops[nops++] = OP_DEL, i++, changed++;
		else if (j < (long)d->nb && d->add[j])
			ops[nops++] = OP_ADD, j++, changed++;
		else
			ops[nops++] = OP_EQ, i++, j++;
	}
	emit_hunks(d, o, ops, ai, bi, nops);
	free(ops), free(ai), free(bi);
	return changed;
}

static void emit_headers(struct out *o, const char *name_a, const char *name_b)
{
	o->emit(o->ctx, "--- ", 4);
	o->emit(o->ctx, name_a, strlen(name_a));
	o->emit(o->ctx, "\n+++ ", 5);
	o->emit(o->ctx, name_b, strlen(name_b));
	o->emit(o->ctx, "\n", 1);
}

long diff_unified(const char *a, size_t na, const char *b, size_t nb,
		  const char *name_a, const char *name_b, diff_emit_fn emit,
		  void *ctx)
{
	struct out o = {emit, ctx};
	struct diff d = {0};
	long r = -ENOMEM, v;

	d.na = split_lines(a, na, NULL);
	d.nb = split_lines(b, nb, NULL);
	v = (long)(d.na + d.nb) + 3;
	d.a = malloc((d.na + 1) * sizeof(*d.a));
	d.b = malloc((d.nb + 1) * sizeof(*d.b));
	d.del = calloc(d.na + 1, 1);
	d.add = calloc(d.nb + 1, 1);
	d.vf = malloc(2 * (size_t)v * sizeof(long));
	d.vb = malloc(2 * (size_t)v * sizeof(long));
	d.voff = v;
	if (d.a && d.b && d.del && d.add && d.vf && d.vb) {
		split_lines(a, na, d.a);
		split_lines(b, nb, d.b);
		compare(&d, 0, (long)d.na, 0, (long)d.nb);
		/* Headers only when there is a difference, as diff(1). */
		if (memchr(d.del, 1, d.na) || memchr(d.add, 1, d.nb))
			emit_headers(&o, name_a, name_b);
		r = script(&d, &o);
	}
	free(d.a), free(d.b), free(d.del), free(d.add), free(d.vf), free(d.vb);
	return r;
}
