/* link: runner/glob.c */
/* fuzz_glob.c - libFuzzer target for GREP/FIND's name matching
 * (runner/glob.c), differential against glibc's fnmatch(3) with flags 0
 * in the C locale, as tests/unit/test_glob.c checks it; glob_match_path
 * against fnmatch(FNM_PATHNAME) where that has the same reading (no
 * "**"), and glob_set_add's brace expansion under the sanitizers.
 *
 * Malformed brackets ("[a-" with no ']', an unknown [:class:]) are where
 * libcs disagree and glob.h defines its own reading (the '[' matches
 * itself); there only glob_match runs, under the sanitizers.  Every other
 * pattern must get fnmatch's answer.
 *
 * Input: byte 0 selects the alphabet (bit 0: map every byte onto
 * wildcard characters and class-name letters, so mutations build real
 * patterns), byte 1 the pattern length, then pattern, then name.  NUL
 * bytes end the strings, as they would in C.
 */
#include "glob.h"

#include <fnmatch.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define CHECK(cond)                                                            \
	do {                                                                   \
		if (!(cond))                                                   \
			__builtin_trap();                                      \
	} while (0)

static char *cstr(const uint8_t *p, size_t n, bool small)
{
	static const char abc[] = "ab*?[]!^-\\:alphdigt=./{},";
	char *s = malloc(n + 1);
	size_t i;

	CHECK(s);
	for (i = 0; i < n; i++)
		s[i] = small ? abc[p[i] % (sizeof(abc) - 1)] : (char)p[i];
	s[n] = 0;
	return s;
}

static bool known_class(const char *name, size_t n)
{
	static const char *const classes[] = {
	    "alnum", "alpha", "blank", "cntrl", "digit", "graph",
	    "lower", "print", "punct", "space", "upper", "xdigit",
	};
	size_t i;

	for (i = 0; i < sizeof(classes) / sizeof(classes[0]); i++)
		if (strlen(classes[i]) == n && !memcmp(classes[i], name, n))
			return true;
	return false;
}

/* Is the bracket element at p a [:class:], [.sym.] or [=e=]? */
static bool bracket_expr(const char *p)
{
	return p[0] == '[' && (p[1] == ':' || p[1] == '.' || p[1] == '=');
}

/* Where the bracket opened at p ends (its ']'), or NULL if it does not
 * or holds what POSIX leaves open: an unknown [:class:], [.sym.], [=e=],
 * or a range with a class at either end ("a-[:alpha:]", "[:alpha:]-z"):
 * glob.h reads the byte after '-' as the range's end, glibc otherwise. */
static const char *bracket_end(const char *p)
{
	const char *q;

	p++;
	if (*p == '!' || *p == '^')
		p++;
	if (*p == ']')
		p++;
	for (; *p && *p != ']'; p++) {
		if (*p == '\\' && p[1]) {
			p++;
		} else if (*p == '-' && bracket_expr(p + 1)) {
			return NULL;
		} else if (*p == '[' && (p[1] == '.' || p[1] == '=')) {
			return NULL;
		} else if (*p == '[' && p[1] == ':') {
			q = strstr(p + 2, ":]");
			if (!q || !known_class(p + 2, (size_t)(q - p - 2)) ||
			    (q[2] == '-' && q[3] != ']'))
				return NULL;
			p = q + 1;
		}
	}
	return *p ? p : NULL;
}

static bool well_formed(const char *p)
{
	for (; *p; p++) {
		if (*p == '\\' && p[1])
			p++;
		else if (*p == '[' && !(p = bracket_end(p)))
			return false;
	}
	return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct glob_set *set;
	size_t plen;
	char *pat, *name;
	bool got;

	if (size < 2)
		return 0;
	plen = data[1] < size - 2 ? data[1] : size - 2;
	pat = cstr(data + 2, plen, data[0] & 1);
	name = cstr(data + 2 + plen, size - 2 - plen, data[0] & 1);
	got = glob_match(pat, name);
	if (well_formed(pat))
		CHECK(got == (fnmatch(pat, name, 0) == 0));
	/* paths: fnmatch(FNM_PATHNAME) has no "**", and reads "\/" as '/'
	 * where wildmatch keeps '/' for the separators it writes itself */
	if (well_formed(pat) && !strstr(pat, "**") && !strstr(pat, "\\/"))
		CHECK(glob_match_path(pat, name) ==
		      (fnmatch(pat, name, FNM_PATHNAME) == 0));
	set = calloc(1, sizeof(*set)); /* braces: the sanitizers watch */
	CHECK(set);
	if (glob_set_add(set, pat, strlen(pat)) == 0)
		(void)glob_set_match(set, name, name);
	free(set);
	free(pat);
	free(name);
	return 0;
}
