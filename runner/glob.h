/* glob.h - shell wildcard matching for names (fnmatch(3) with flags 0,
 * in the C locale). */
#ifndef RUNNER_GLOB_H
#define RUNNER_GLOB_H

#include <stdbool.h>
#include <stddef.h>

/* '*' and '?' match any bytes ('/' included, as fnmatch without
 * FNM_PATHNAME); "[...]" with '!' or '^' negation, ranges and [:class:];
 * '\\' quotes the next byte.  A malformed bracket matches itself
 * literally, as fnmatch does.  A range's ends are single bytes: in
 * "[a-[:x:]]" the range is 'a' to '[' (POSIX leaves a class there
 * undefined; glibc differs). */
bool glob_match(const char *pat, const char *name);

/* A path relative to a start directory, as git's wildmatch reads it
 * (WM_PATHNAME): '*', '?' and brackets never match '/'; a "**" that is
 * a whole component matches any number of directories (src/ then ** is
 * everything below src; ** then /x is an x at any depth; a/ ** /b, without
 * the blanks, also matches a/b). */
bool glob_match_path(const char *pat, const char *path);

/* Patterns as FIND's GLOB, GREP's GLOB and EXCLUDE take them: braces
 * {a,b} are expanded first (nested, at most 9 groups deep); then a
 * pattern holding '/' matches the path relative to the start (a leading
 * "/" or "./" only anchors it there), one without matches the name. */
#define GLOB_SET_PATTERNS    64
#define GLOB_SET_PATTERN_MAX 1024
struct glob_set {
	unsigned n;
	size_t len;
	char buf[8192]; /* per pattern: 'p' (path) or 'n' (name), text, NUL */
};

/* 0; -EINVAL for an empty pattern or one holding a NUL; -E2BIG past
 * GLOB_SET_PATTERNS expansions, GLOB_SET_PATTERN_MAX bytes or the
 * buffer. */
int glob_set_add(struct glob_set *s, const char *pat, size_t len);
/* Does any pattern match?  rel is NULL for the start itself, which only
 * name patterns can match. */
bool glob_set_match(const struct glob_set *s, const char *name,
		    const char *rel);

#endif
