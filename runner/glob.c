/* glob.c - wildcard matching without musl's fnmatch, whose wide-character
 * tables would cost the static binary 16 KB.  Byte semantics: names are
 * bytes, not necessarily UTF-8. */
#include "glob.h"

#include <ctype.h>
#include <errno.h>
#include <string.h>

static const struct {
	const char *name;
	int (*fn)(int);
} classes[] = {
    {"alnum", isalnum}, {"alpha", isalpha}, {"blank", isblank},
    {"cntrl", iscntrl}, {"digit", isdigit}, {"graph", isgraph},
    {"lower", islower}, {"print", isprint}, {"punct", ispunct},
    {"space", isspace}, {"upper", isupper}, {"xdigit", isxdigit},
};

/* "[:name:]" at p: 1 and *end set if c is in the class, 0 if not,
 * -1 if p is not a class expression. */
static int class_match(const char *p, unsigned char c, const char **end)
{
	const char *close;
	size_t i, n;

	if (p[1] != ':' || !(close = strstr(p + 2, ":]")))
		return -1;
	n = (size_t)(close - (p + 2));
	for (i = 0; i < sizeof(classes) / sizeof(classes[0]); i++) {
		if (strlen(classes[i].name) == n &&
		    !memcmp(classes[i].name, p + 2, n)) {
			*end = close + 2;
			return classes[i].fn(c) != 0;
		}
	}
	return -1;
}

/* Bracket expression starting after '['.  Returns the byte after ']' and
 * sets *hit, or NULL when the bracket never closes. */
static const char *bracket(const char *p, unsigned char c, bool *hit)
{
	bool neg = false, in = false, first = true;
	const char *end;
	unsigned char lo, hi;
	int r;

	if (*p == '!' || *p == '^') {
		neg = true;
		p++;
	}
	for (; *p && (first || *p != ']'); first = false) {
		if (*p == '[' && (r = class_match(p, c, &end)) >= 0) {
			in |= r;
			p = end;
			continue;
		}
		if (*p == '\\' && p[1])
			p++;
		lo = (unsigned char)*p++;
		hi = lo;
		if (*p == '-' && p[1] && p[1] != ']') {
			p++;
			if (*p == '\\' && p[1])
				p++;
			hi = (unsigned char)*p++;
		}
		in |= c >= lo && c <= hi;
	}
	if (*p != ']')
		return NULL;
	*hit = in != neg;
	return p + 1;
}

/* One step: does the pattern element at *pp match byte c?  Advances *pp
 * past the element. */
static bool element(const char **pp, unsigned char c)
{
	const char *p = *pp, *next;
	bool hit;

	if (*p == '?') {
		*pp = p + 1;
		return true;
	}
	if (*p == '[' && (next = bracket(p + 1, c, &hit))) {
		*pp = next;
		return hit;
	}
	if (*p == '\\') {
		if (!p[1]) { /* a dangling escape matches nothing, as in fnmatch
			      */
			*pp = p + 1;
			return false;
		}
		p++;
	}
	*pp = p + 1;
	return (unsigned char)*p == c;
}

/* Classic greedy match with one backtrack point: the last '*'.  Any
 * earlier star's choice never needs revisiting, so this is O(n * m). */
bool glob_match(const char *pat, const char *name)
{
	const char *p = pat, *n = name, *star_p = NULL, *star_n = NULL;

	while (*n) {
		if (*p == '*') {
			while (*p == '*')
				p++;
			star_p = p;
			star_n = n;
			continue;
		}
		if (*p && element(&p, (unsigned char)*n)) {
			n++;
			continue;
		}
		if (!star_p)
			return false;
		p = star_p;
		n = ++star_n;
	}
	while (*p == '*')
		p++;
	return *p == 0;
}

/* ---- paths: '/' is special, as in git's wildmatch (WM_PATHNAME) ---- */

enum { WM_NO, WM_YES, WM_ABORT_ALL, WM_ABORT_TO_STARSTAR };

/* git's wildmatch: the ABORT answers prune the choices of earlier stars
 * that cannot help, which keeps this polynomial. */
static int wild(const char *p, const char *t, const char *pat0)
{
	const char *q;
	bool any;
	int r;

	for (; *p; p++, t++) {
		if (*p != '*') {
			if (!*t)
				return WM_ABORT_ALL;
			q = p;
			if (*t == '/' ? *p != '/'
				      : !element(&q, (unsigned char)*t))
				return WM_NO;
			if (*t != '/')
				p = q - 1;
			continue;
		}
		for (q = p; *q == '*'; q++)
			;
		/* "**" as a whole component also crosses '/'; "**" followed
		 * by '/' also matches no directory at all. */
		any = q - p > 1 && (p == pat0 || p[-1] == '/') &&
		      (!*q || *q == '/');
		if (any && *q == '/' && wild(q + 1, t, pat0) == WM_YES)
			return WM_YES;
		p = q;
		if (!*p)
			return any || !strchr(t, '/') ? WM_YES : WM_NO;
		for (; *t; t++) {
			r = wild(p, t, pat0);
			if (r != WM_NO) {
				if (!any || r != WM_ABORT_TO_STARSTAR)
					return r;
			} else if (!any && *t == '/') {
				return WM_ABORT_TO_STARSTAR;
			}
		}
		return WM_ABORT_ALL;
	}
	return *t ? WM_NO : WM_YES;
}

bool glob_match_path(const char *pat, const char *path)
{
	return wild(pat, path, pat) == WM_YES;
}

/* ---- sets of patterns, braces expanded ---- */

static int set_append(struct glob_set *s, const char *p, size_t n)
{
	char kind;
	size_t k;

	/* a trailing '/' (as in .gitignore's "build/") says nothing here */
	while (n > 1 && p[n - 1] == '/')
		n--;
	/* any other '/' makes it a path pattern; a leading "/" or "./" only
	 * anchors it at the start, which a path pattern is anyway */
	kind = memchr(p, '/', n) ? 'p' : 'n';
	while ((k = n && *p == '/'		   ? 1
		    : n > 1 && !memcmp(p, "./", 2) ? 2
						   : 0)) {
		p += k;
		n -= k;
	}
	if (!n || memchr(p, 0, n))
		return -EINVAL;
	if (s->n >= GLOB_SET_PATTERNS || s->len + n + 2 > sizeof(s->buf))
		return -E2BIG;
	s->buf[s->len++] = kind;
	memcpy(s->buf + s->len, p, n);
	s->len += n;
	s->buf[s->len++] = 0;
	s->n++;
	return 0;
}

/* The first {a,b,...} group of p (a comma at its top level), or NULL. */
static const char *brace_group(const char *p, size_t n, const char **close)
{
	const char *open = NULL;
	unsigned depth = 0;
	bool comma = false;
	size_t i;

	for (i = 0; i < n; i++) {
		if (p[i] == '\\') {
			i++;
		} else if (p[i] == '{') {
			if (!depth++)
				open = p + i, comma = false;
		} else if (p[i] == ',' && depth == 1) {
			comma = true;
		} else if (p[i] == '}' && depth && !--depth && comma) {
			*close = p + i;
			return open;
		}
	}
	return NULL;
}

static int expand(struct glob_set *s, const char *p, size_t n, unsigned lvl)
{
	const char *open, *close, *a, *e;
	char buf[GLOB_SET_PATTERN_MAX];
	unsigned depth = 0;
	size_t pre, post;
	int r;

	open = brace_group(p, n, &close);
	if (!open || lvl > 8)
		return set_append(s, p, n);
	pre = (size_t)(open - p);
	post = n - (size_t)(close + 1 - p);
	for (a = e = open + 1; e <= close; e++) {
		if (*e == '\\' && e < close) {
			e++;
			continue;
		}
		depth += *e == '{';
		if ((*e != ',' || depth) && e != close) {
			depth -= *e == '}';
			continue;
		}
		if (pre + (size_t)(e - a) + post > sizeof(buf))
			return -E2BIG;
		memcpy(buf, p, pre);
		memcpy(buf + pre, a, (size_t)(e - a));
		memcpy(buf + pre + (e - a), close + 1, post);
		r = expand(s, buf, pre + (size_t)(e - a) + post, lvl + 1);
		if (r < 0)
			return r;
		a = e + 1;
	}
	return 0;
}

int glob_set_add(struct glob_set *s, const char *pat, size_t len)
{
	if (len > GLOB_SET_PATTERN_MAX)
		return -E2BIG;
	return expand(s, pat, len, 0);
}

bool glob_set_match(const struct glob_set *s, const char *name, const char *rel)
{
	const char *p = s->buf, *end = s->buf + s->len;

	for (; p < end; p += strlen(p) + 1) {
		if (*p == 'n' ? glob_match(p + 1, name)
			      : rel && glob_match_path(p + 1, rel))
			return true;
	}
	return false;
}
