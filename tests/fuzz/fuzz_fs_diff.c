/* link: runner/fs_diff.c */
/* fuzz_fs_diff.c - libFuzzer target for DIFF's unified diff
 * (runner/fs_diff.c) on arbitrary bytes: NULs, '\r', no final newline.
 *
 * Input: byte 0 bit 0 maps every byte onto "ab\n" (many short, often
 * equal lines, so the edit scripts get interesting); bytes 1-2 (BE) give
 * the length of the first text; the rest is both texts.
 *
 * Checks, beyond ASan/UBSan/LSan:
 *  - no difference gives no output and 0; a difference gives the
 *    "--- a" / "+++ b" headers and a count equal to the -/+ lines shown;
 *  - applying the hunks to the first text, byte for byte (the
 *    "\ No newline at end of file" markers included), gives the second,
 *    and every context and removed line matches the first text;
 *  - the script is minimal: changed lines = na + nb - 2 LCS (checked
 *    when the texts are small enough for the quadratic LCS).
 */
#include "fs_internal.h"

#include <stdlib.h>
#include <string.h>

#define LCS_MAX 40000 /* na * nb cells */
#define CHECK(cond)                                                            \
	do {                                                                   \
		if (!(cond))                                                   \
			__builtin_trap();                                      \
	} while (0)

struct text {
	char *p;
	size_t len, cap;
};

static void append(void *ctx, const char *p, size_t n)
{
	struct text *t = ctx;

	if (t->len + n > t->cap) {
		t->cap = (t->len + n) * 2;
		t->p = realloc(t->p, t->cap);
		CHECK(t->p);
	}
	memcpy(t->p + t->len, p, n);
	t->len += n;
}

struct lines {
	const char **p;
	size_t *len, n;
};

/* Lines with their '\n' (the last may lack one). */
static void split(const char *p, size_t n, struct lines *l)
{
	size_t i = 0, k;
	const char *nl;

	l->p = malloc((n + 1) * sizeof(*l->p));
	l->len = malloc((n + 1) * sizeof(*l->len));
	CHECK(l->p && l->len);
	for (l->n = 0; i < n; l->n++, i += k) {
		nl = memchr(p + i, '\n', n - i);
		k = nl ? (size_t)(nl - p) + 1 - i : n - i;
		l->p[l->n] = p + i;
		l->len[l->n] = k;
	}
}

static bool line_is(const struct lines *l, size_t i, const char *p, size_t n)
{
	return i < l->n && l->len[i] == n && !memcmp(l->p[i], p, n);
}

/* Apply diff to a's lines; returns the -/+ lines seen. */
static long apply(const struct text *diff, const struct lines *a,
		  struct text *out)
{
	static const char nonl[] = "\\ No newline at end of file\n";
	struct lines d;
	size_t i, ai = 0, n;
	long start, count, changed = 0;
	const char *s, *comma;

	split(diff->p, diff->len, &d);
	CHECK(d.n >= 3);
	CHECK(line_is(&d, 0, "--- a\n", 6) && line_is(&d, 1, "+++ b\n", 6));
	for (i = 2; i < d.n; i++) {
		s = d.p[i];
		n = d.len[i];
		CHECK(n >= 1 && s[n - 1] == '\n');
		/* A line without its newline is followed by the marker. */
		if (i + 1 < d.n && d.p[i + 1][0] == '\\') {
			CHECK(line_is(&d, i + 1, nonl, sizeof(nonl) - 1));
			n--;
		}
		switch (s[0]) {
		case '@':
			CHECK(!strncmp(s, "@@ -", 4));
			start = strtol(s + 4, (char **)&comma, 10);
			count = *comma == ',' ? strtol(comma + 1, NULL, 10) : 1;
			if (count)
				start--; /* 1-based; an empty range names the
					    line before it */
			CHECK(start >= (long)ai);
			while ((long)ai < start)
				append(out, a->p[ai], a->len[ai]), ai++;
			break;
		case ' ':
		case '-':
			CHECK(line_is(a, ai, s + 1, n - 1));
			if (s[0] == ' ')
				append(out, a->p[ai], a->len[ai]);
			else
				changed++;
			ai++;
			break;
		case '+':
			append(out, s + 1, n - 1);
			changed++;
			break;
		case '\\': break;
		default: CHECK(!"unknown diff line");
		}
	}
	while (ai < a->n)
		append(out, a->p[ai], a->len[ai]), ai++;
	free(d.p);
	free(d.len);
	return changed;
}

static long lcs(const struct lines *a, const struct lines *b)
{
	size_t i, j, w = b->n + 1;
	long *t = calloc((a->n + 1) * w, sizeof(long)), r;

	CHECK(t);
	for (i = a->n; i-- > 0;)
		for (j = b->n; j-- > 0;)
			t[i * w + j] = line_is(b, j, a->p[i], a->len[i])
					   ? t[(i + 1) * w + j + 1] + 1
				       : t[(i + 1) * w + j] > t[i * w + j + 1]
					   ? t[(i + 1) * w + j]
					   : t[i * w + j + 1];
	r = t[0];
	free(t);
	return r;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct text diff = {0}, out = {0};
	struct lines la, lb;
	size_t na, i, n;
	char *buf;
	long r;

	if (size < 3)
		return 0;
	n = size - 3;
	buf = malloc(n ? n : 1);
	CHECK(buf);
	for (i = 0; i < n; i++)
		buf[i] =
		    data[0] & 1 ? "ab\n"[data[3 + i] % 3] : (char)data[3 + i];
	na = ((size_t)data[1] << 8 | data[2]) % (n + 1);
	r = diff_unified(buf, na, buf + na, n - na, "a", "b", append, &diff);
	CHECK(r >= 0);
	split(buf, na, &la);
	split(buf + na, n - na, &lb);
	if (na == n - na && !memcmp(buf, buf + na, na)) {
		CHECK(r == 0 && diff.len == 0);
	} else {
		CHECK(r > 0);
		CHECK(apply(&diff, &la, &out) == r);
		CHECK(out.len == n - na &&
		      (!out.len || !memcmp(out.p, buf + na, out.len)));
		if (la.n * lb.n <= LCS_MAX)
			CHECK(r == (long)(la.n + lb.n) - 2 * lcs(&la, &lb));
	}
	free(la.p), free(la.len), free(lb.p), free(lb.len);
	free(diff.p), free(out.p), free(buf);
	return 0;
}
