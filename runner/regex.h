/* regex.h - a compact POSIX ERE matcher for GREP, in place of musl's TRE.
 *
 * Byte-oriented (the C locale), GNU `grep -E` syntax and semantics,
 * including \w \W \s \S \b \B \< \> \` \'.  The pattern is compiled to a
 * small instruction program run as a lazy DFA (regex_dfa.c: states built
 * while searching, one table lookup per byte) or, for word assertions and
 * when the DFA's cache gives out, as a Pike VM (Thompson NFA simulation):
 * O(program x text) for every pattern either way, no backtracking.
 * Back-references are not regular and are rejected.
 *
 * A compiled struct rx holds its own scratch space: one rx_search at a time
 * per rx (the helper process is single-threaded).
 */
#ifndef RUNNER_REGEX_H
#define RUNNER_REGEX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct rx;

enum {
	RX_ICASE = 1,
	RX_FIXED = 2, /* literal string, no metachars */
	/* the classes and flags Rust's regex and PCRE users write: \d \D,
	 * escapes inside brackets, \t \n \r \f \v, (?:...), a leading
	 * (?i), lazy quantifiers (as greedy: the same lines match) */
	RX_RUST = 4,
	RX_NODFA = 16, /* tests: the Pike VM alone, no lazy DFA */
};

/* Repetition counts above this are rejected (GNU allows 32767). */
#define RX_DUP_MAX 255
/* Larger programs (after expanding {m,n}) are rejected. */
#define RX_PROG_MAX 65535

/* 0, or -EINVAL with a one-line reason in err ("unmatched ( at offset 3"),
 * or -ENOMEM.  A newline in pat separates alternatives, as in grep. */
int rx_compile(struct rx **out, const char *pat, size_t len, int flags,
	       char *err, size_t errlen);

/* True when the pattern matches anywhere in s[0..n) (one line: ^ and $
 * match at 0 and n only, no '\n' inside). */
bool rx_search(const struct rx *rx, const uint8_t *s, size_t n);

void rx_free(struct rx *rx);

#endif
