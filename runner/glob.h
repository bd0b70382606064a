/* glob.h - shell wildcard matching for names (fnmatch(3) with flags 0,
 * in the C locale). */
#ifndef RUNNER_GLOB_H
#define RUNNER_GLOB_H

#include <stdbool.h>

/* '*' and '?' match any bytes ('/' included, as fnmatch without
 * FNM_PATHNAME); "[...]" with '!' or '^' negation, ranges and [:class:];
 * '\\' quotes the next byte.  A malformed bracket matches itself
 * literally, as fnmatch does. */
bool glob_match(const char *pat, const char *name);

#endif
