/* results.c - the rows of a run and results.json.
 *
 * results.json is the only product of the C side; its schema is
 * documented in tools/bench/README.md and read by tools/bench/report,
 * readme-table and check.
 */
#include "bench.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

struct row *row_new(struct bench *b, const char *id, const char *group,
		    enum row_kind kind, const char *unit, const char *title)
{
	struct row *r;

	if (b->nrows == BENCH_MAX_ROWS) {
		fprintf(stderr,
			"bench: too many rows (raise BENCH_MAX_ROWS)\n");
		exit(1);
	}
	r = &b->rows[b->nrows++];
	memset(r, 0, sizeof(*r));
	snprintf(r->id, sizeof(r->id), "%s", id);
	snprintf(r->group, sizeof(r->group), "%s", group);
	snprintf(r->title, sizeof(r->title), "%s", title);
	r->kind = kind;
	r->unit = unit;
	snprintf(r->status, sizeof(r->status), "not run");
	return r;
}

static struct row *row_based(struct row *r, const char *base)
{
	if (base)
		snprintf(r->baseline, sizeof(r->baseline), "%s", base);
	return r;
}

struct row *row_lat(struct bench *b, const char *id, const char *group,
		    const char *base, const char *title)
{
	return row_based(row_new(b, id, group, RK_LATENCY, "us", title), base);
}

struct row *row_tput(struct bench *b, const char *id, const char *group,
		     const char *base, const char *title)
{
	return row_based(row_new(b, id, group, RK_THROUGHPUT, "MB/s", title),
			 base);
}

struct row *row_find(struct bench *b, const char *id)
{
	int i;

	for (i = 0; i < b->nrows; i++)
		if (!strcmp(b->rows[i].id, id))
			return &b->rows[i];
	return NULL;
}

void row_fail(struct row *r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(r->status, sizeof(r->status), fmt, ap);
	va_end(ap);
	r->ok = false;
}

void row_refused(struct row *r, int code, const char *err)
{
	if (code == E_UNSUPPORTED || code == E_UNKNOWN_TYPE)
		row_fail(r, "n/a (%s)", wire_err_name(code));
	else if (code > 0)
		row_fail(r, "error (%s)", err);
	else
		row_fail(r, "error (%s)", err && *err ? err : strerror(-code));
}

void row_extra(struct row *r, const char *key, double val)
{
	if (r->nextra < BENCH_MAX_EXTRA)
		r->extra[r->nextra++] = (struct extra){key, val};
}

void row_target(struct row *r, enum target_metric m, enum target_cmp c,
		double v)
{
	r->tmetric = m;
	r->tcmp = c;
	r->tval = v;
}

void row_stats(struct row *r, struct samples *s)
{
	int i;

	r->n = s->n;
	r->median = samples_quantile(s, 0.5);
	r->p90 = samples_quantile(s, 0.9);
	r->p99 = samples_quantile(s, 0.99);
	r->min = samples_quantile(s, 0);
	r->max = samples_quantile(s, 1);
	r->mean = samples_mean(s);
	for (i = 0; i < BENCH_QUANTILES; i++)
		r->quantiles[i] =
		    samples_quantile(s, (double)i / (BENCH_QUANTILES - 1));
	r->ok = s->n > 0;
	snprintf(r->status, sizeof(r->status), r->ok ? "ok" : "no samples");
}

void row_series(struct row *r, const char *name, const double *x,
		const double *y, size_t n)
{
	free(r->series_x);
	free(r->series_y);
	r->series_x = malloc(n * sizeof(double));
	r->series_y = malloc(n * sizeof(double));
	if (!r->series_x || !r->series_y) {
		free(r->series_x);
		free(r->series_y);
		r->series_x = r->series_y = NULL;
		r->nseries = 0;
		return;
	}
	memcpy(r->series_x, x, n * sizeof(double));
	memcpy(r->series_y, y, n * sizeof(double));
	r->nseries = n;
	r->series_name = name;
}

/* The figure a row is judged by. */
static double row_figure(const struct row *r)
{
	return r->kind == RK_VALUE ? r->value : r->median;
}

double row_ratio(struct bench *b, const struct row *r, bool *have)
{
	struct row *base = r->baseline[0] ? row_find(b, r->baseline) : NULL;
	double ours = row_figure(r), theirs;

	*have = false;
	if (!base || !base->ok || !r->ok)
		return 0;
	theirs = row_figure(base);
	if (ours <= 0 || theirs <= 0)
		return 0;
	*have = true;
	return r->kind == RK_THROUGHPUT ? theirs / ours : ours / theirs;
}

static double target_metric_value(struct bench *b, const struct row *r,
				  bool *have)
{
	struct row *base;

	*have = r->ok;
	switch (r->tmetric) {
	case TM_MEDIAN: return r->median;
	case TM_VALUE: return r->value;
	case TM_RATIO: return row_ratio(b, r, have);
	case TM_DELTA:
		base = row_find(b, r->baseline);
		*have = r->ok && base && base->ok;
		return *have ? row_figure(r) - row_figure(base) : 0;
	}
	*have = false;
	return 0;
}

/* ---- JSON ---- */

static void json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;
		if (ch == '"' || ch == '\\')
			fprintf(f, "\\%c", ch);
		else if (ch < 0x20)
			fprintf(f, "\\u%04x", ch);
		else
			fputc(ch, f);
	}
	fputc('"', f);
}

/* JSON has no NaN or infinity; a figure that is not finite is null. */
static void json_num(FILE *f, double v)
{
	if (isfinite(v))
		fprintf(f, "%.6g", v);
	else
		fputs("null", f);
}

static void json_key_num(FILE *f, const char *k, double v)
{
	fprintf(f, ", \"%s\": ", k);
	json_num(f, v);
}

static void json_array(FILE *f, const char *k, const double *v, size_t n)
{
	size_t i;

	fprintf(f, ", \"%s\": [", k);
	for (i = 0; i < n; i++) {
		if (i)
			fputs(", ", f);
		json_num(f, v[i]);
	}
	fputc(']', f);
}

static const char *kind_name[] = {"latency", "throughput", "value"};
static const char *metric_name[] = {"median", "value", "delta", "ratio"};

static void json_target(FILE *f, struct bench *b, const struct row *r)
{
	bool have;
	double v = target_metric_value(b, r, &have);

	fprintf(
	    f, ", \"target\": {\"metric\": \"%s\", \"op\": \"%s\", \"value\": ",
	    metric_name[r->tmetric], r->tcmp == TC_LE ? "<=" : ">=");
	json_num(f, r->tval);
	fputs(", \"actual\": ", f);
	if (have)
		json_num(f, v);
	else
		fputs("null", f);
	fputs(", \"met\": ", f);
	if (!have)
		fputs("null", f);
	else
		fputs((r->tcmp == TC_LE ? v <= r->tval : v >= r->tval)
			  ? "true"
			  : "false",
		      f);
	fputc('}', f);
}

static void json_row(FILE *f, struct bench *b, const struct row *r)
{
	bool have;
	double ratio = row_ratio(b, r, &have);
	int i;

	fputs("    {\"id\": ", f);
	json_str(f, r->id);
	fputs(", \"group\": ", f);
	json_str(f, r->group);
	fputs(", \"title\": ", f);
	json_str(f, r->title);
	fprintf(f, ", \"kind\": \"%s\", \"unit\": ", kind_name[r->kind]);
	json_str(f, r->unit);
	fputs(", \"status\": ", f);
	json_str(f, r->status);
	fprintf(f, ", \"ok\": %s", r->ok ? "true" : "false");
	if (r->ok && r->kind != RK_VALUE) {
		fprintf(f, ", \"n\": %zu", r->n);
		json_key_num(f, "median", r->median);
		json_key_num(f, "p90", r->p90);
		json_key_num(f, "p99", r->p99);
		json_key_num(f, "min", r->min);
		json_key_num(f, "max", r->max);
		json_key_num(f, "mean", r->mean);
		if (r->kind == RK_LATENCY) {
			json_key_num(f, "ops_per_s",
				     r->mean > 0 ? 1e6 / r->mean : 0);
			json_array(f, "quantiles", r->quantiles,
				   BENCH_QUANTILES);
		}
		json_array(f, "round_medians", r->round_median,
			   (size_t)r->rounds);
	}
	if (r->ok && r->kind == RK_VALUE)
		json_key_num(f, "value", r->value);
	if (r->baseline[0]) {
		fputs(", \"baseline\": ", f);
		json_str(f, r->baseline);
		if (have)
			json_key_num(f, "ratio", ratio);
	}
	if (r->tcmp != TC_NONE)
		json_target(f, b, r);
	if (r->nextra) {
		fputs(", \"extra\": {", f);
		for (i = 0; i < r->nextra; i++) {
			fprintf(f, "%s\"%s\": ", i ? ", " : "",
				r->extra[i].key);
			json_num(f, r->extra[i].val);
		}
		fputc('}', f);
	}
	if (r->nseries) {
		fputs(", \"series\": {\"name\": ", f);
		json_str(f, r->series_name ? r->series_name : "");
		json_array(f, "x", r->series_x, r->nseries);
		json_array(f, "y", r->series_y, r->nseries);
		fputc('}', f);
	}
	fputc('}', f);
}

static void json_host(FILE *f, struct bench *b)
{
	struct utsname u;
	char stamp[32];
	time_t now = time(NULL);

	strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
	if (uname(&u) < 0)
		memset(&u, 0, sizeof(u));
	fprintf(f, "  \"schema\": 1,\n  \"time\": \"%s\",\n", stamp);
	fprintf(f, "  \"quick\": %s,\n", b->cfg.quick ? "true" : "false");
	fputs("  \"host\": {\"kernel\": ", f);
	json_str(f, u.release);
	fputs(", \"machine\": ", f);
	json_str(f, u.machine);
	fprintf(
	    f, ", \"cpus\": %ld, \"workdir\": ", sysconf(_SC_NPROCESSORS_ONLN));
	json_str(f, b->cfg.work);
	fputs(", \"label\": ", f);
	json_str(f, b->cfg.label ? b->cfg.label : "");
	fputs(", \"docker\": ", f);
	fputs(b->cfg.docker ? "true" : "false", f);
	fputs("},\n", f);
}

int results_write(struct bench *b, const char *path)
{
	char tmp[512];
	FILE *f;
	int i;

	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	f = fopen(tmp, "w");
	if (!f)
		return -errno;
	fputs("{\n", f);
	json_host(f, b);
	fputs("  \"rows\": [\n", f);
	for (i = 0; i < b->nrows; i++) {
		json_row(f, b, &b->rows[i]);
		fputs(i + 1 < b->nrows ? ",\n" : "\n", f);
	}
	fputs("  ]\n}\n", f);
	if (fclose(f) != 0)
		return -EIO;
	/* Readers never see a half-written file. */
	return rename(tmp, path) < 0 ? -errno : 0;
}

void row_print(struct bench *b, const struct row *r)
{
	bool have = false;
	double ratio = b ? row_ratio(b, r, &have) : 0;
	char rs[80] = "";

	if (have)
		snprintf(rs, sizeof(rs), "  (%.3gx %s)", ratio, r->baseline);
	if (!r->ok)
		progress("%-28s %s", r->id, r->status);
	else if (r->kind == RK_VALUE)
		progress("%-28s %.1f %s%s", r->id, r->value, r->unit, rs);
	else if (r->kind == RK_THROUGHPUT)
		progress("%-28s %.0f %s%s", r->id, r->median, r->unit, rs);
	else
		progress("%-28s median %.1f  p90 %.1f  p99 %.1f %s%s", r->id,
			 r->median, r->p90, r->p99, r->unit, rs);
}
