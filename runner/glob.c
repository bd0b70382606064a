/* glob.c - wildcard matching without musl's fnmatch, whose wide-character
 * tables would cost the static binary 16 KB.  Byte semantics: names are
 * bytes, not necessarily UTF-8. */
#include "glob.h"

#include <ctype.h>
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
