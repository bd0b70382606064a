/* fs_literal.c - a string every match of a POSIX ERE must contain.
 *
 * GREP searches for it with memmem first and runs the regex only on the
 * lines that hold it: most files of a tree are rejected at memchr speed.
 * Deliberately conservative: anything it does not fully understand (an
 * alternation, a group, an escape class) ends the current run of literal
 * characters or, for '|', disables the filter.  Pure, unit tested.
 */
#include "fs_internal.h"

#include <string.h>

/* Skip a bracket expression starting at p[0] == '['; returns the index
 * after its ']' or 0 when unterminated. */
static size_t skip_bracket(const char *p)
{
	size_t i = 1;

	if (p[i] == '^')
		i++;
	if (p[i] == ']')
		i++;
	for (; p[i]; i++) {
		if (p[i] == '[' &&
		    (p[i + 1] == ':' || p[i + 1] == '.' || p[i + 1] == '=')) {
			const char *e = strchr(p + i + 2, ']');
			if (!e)
				return 0;
			i = (size_t)(e - p);
		} else if (p[i] == ']') {
			return i + 1;
		}
	}
	return 0;
}

static size_t skip_group(const char *p)
{
	size_t i, depth = 0;

	for (i = 0; p[i]; i++) {
		if (p[i] == '\\' && p[i + 1])
			i++;
		else if (p[i] == '[' && skip_bracket(p + i))
			i += skip_bracket(p + i) - 1;
		else if (p[i] == '(')
			depth++;
		else if (p[i] == ')' && --depth == 0)
			return i + 1;
	}
	return 0;
}

struct run {
	char *best;
	size_t nbest, cap, n;
	char cur[256];
};

static void run_end(struct run *r)
{
	if (r->n > r->nbest && r->n <= r->cap) {
		memcpy(r->best, r->cur, r->n);
		r->nbest = r->n;
	}
	r->n = 0;
}

static void run_add(struct run *r, char c)
{
	if (r->n < sizeof(r->cur))
		r->cur[r->n++] = c;
}

size_t ere_required_literal(const char *re, char *out, size_t cap)
{
	struct run r = {.best = out, .cap = cap};
	const char *p = re;
	size_t k;

	if (strchr(re, '|') || strchr(re, '\n'))
		return 0; /* alternatives: no single required string */
	while (*p) {
		switch (*p) {
		case '\\':
			if (p[1] && strchr(".[]()*+?{}|^$\\", p[1])) {
				run_add(&r, p[1]);
				p += 2;
			} else {
				run_end(&r); /* \w, \b, \1 ...: not a literal */
				p += p[1] ? 2 : 1;
			}
			continue;
		case '[':
			k = skip_bracket(p);
			run_end(&r);
			if (!k)
				return 0;
			p += k;
			continue;
		case '(':
			k = skip_group(p);
			run_end(&r);
			if (!k)
				return 0;
			p += k;
			continue;
		case '*':
		case '?':
		case '{':
			/* The atom before may be absent: drop it from the run.
			 */
			if (r.n)
				r.n--;
			run_end(&r);
			if (*p == '{') {
				const char *e = strchr(p, '}');
				p = e ? e + 1 : p + strlen(p);
			} else {
				p++;
			}
			continue;
		case '+':
			run_end(&r); /* once is required, the repeat is not */
			p++;
			continue;
		case '\n': /* never inside the line GREP checks */
		case '.':
		case '^':
		case '$':
		case ')':
			run_end(&r);
			p++;
			continue;
		default: run_add(&r, *p++);
		}
	}
	run_end(&r);
	return r.nbest >= 2 ? r.nbest : 0;
}
