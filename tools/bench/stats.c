/* stats.c - sample sets and their order statistics. */
#include "bench.h"

#include <stdio.h>
#include <stdlib.h>

void samples_add(struct samples *s, double v)
{
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 1024;
		double *p = realloc(s->v, cap * sizeof(*p));
		if (!p) {
			/* A benchmark that cannot hold its samples has no
			 * figure worth printing. */
			fprintf(stderr, "bench: out of memory\n");
			exit(1);
		}
		s->v = p;
		s->cap = cap;
	}
	s->v[s->n++] = v;
}

void samples_free(struct samples *s)
{
	free(s->v);
	*s = (struct samples){0};
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Nearest-rank on the sorted set: every reported figure is a value that
 * was really observed, never an interpolation. */
double samples_quantile(struct samples *s, double q)
{
	size_t i;

	if (!s->n)
		return 0;
	qsort(s->v, s->n, sizeof(*s->v), cmp_double);
	i = (size_t)(q * (double)(s->n - 1) + 0.5);
	return s->v[i < s->n ? i : s->n - 1];
}

double samples_mean(const struct samples *s)
{
	double sum = 0;
	size_t i;

	for (i = 0; i < s->n; i++)
		sum += s->v[i];
	return s->n ? sum / (double)s->n : 0;
}
