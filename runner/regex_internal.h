/* regex_internal.h - the program regex_parse.c compiles and regex_vm.c
 * runs; private to those two files (the API is regex.h).
 *
 * A program is an array of struct inst ending in OP_MATCH, run as a Pike
 * VM: SPLIT forks a thread to x and y, JMP moves it to x, ASSERT lets it
 * on to pc + 1 when the assertion holds at the current position, and the
 * consuming ops let it on to pc + 1 past a byte they accept.  Programs are
 * under RX_PROG_MAX instructions, so every pc fits a uint16_t.
 */
#ifndef RUNNER_REGEX_INTERNAL_H
#define RUNNER_REGEX_INTERNAL_H

#include "regex.h"

enum op {
	/* the consuming ones first: op <= OP_ANY */
	OP_CHAR,
	OP_FOLD,
	OP_SET,
	OP_ANY,
	OP_SPLIT,
	OP_JMP,
	OP_ASSERT,
	OP_MATCH
};
enum assertion { A_BOL, A_EOL, A_WORDB, A_NWORDB, A_BOW, A_EOW };

struct inst {
	uint8_t op, arg; /* arg: the byte (lower case for FOLD), assertion */
	uint16_t x, y;	 /* jump targets; x is the set index for OP_SET */
};

typedef uint8_t byteset[32];

struct rx {
	struct inst *prog;
	uint32_t nprog;
	byteset *sets;
	uint8_t *lit; /* occurs in every match; lower case under RX_ICASE */
	size_t nlit;
	bool icase, pure; /* pure: the pattern is lit, no VM needed */
	bool anchored;	  /* starts with ^: threads start at 0 only */
	bool skip;	  /* no match starts at a byte outside first */
	int first1;	  /* the only byte in first, or -1 */
	byteset first;
	/* rx_search's scratch, written through a const rx: marks[nprog] and
	 * the generation in marks[nprog]; two thread lists and a stack. */
	uint32_t *marks;
	uint16_t *lists[2], *stack;
	struct dfa *dfa; /* regex_dfa.c's cache, NULL: the VM only */
};

/* ---- byte classes (C locale) ---- */

static inline bool is_upper(int c)
{
	return c >= 'A' && c <= 'Z';
}

static inline bool is_lower(int c)
{
	return c >= 'a' && c <= 'z';
}

static inline bool is_digit(int c)
{
	return c >= '0' && c <= '9';
}

static inline bool is_alnum(int c)
{
	return is_upper(c) || is_lower(c) || is_digit(c);
}

static inline bool is_word(int c)
{
	return is_alnum(c) || c == '_';
}

static inline int fold(int c)
{
	return is_upper(c) ? c + 32 : c;
}

static inline void set_add(uint8_t *s, int c)
{
	s[c >> 3] |= (uint8_t)(1u << (c & 7));
}

static inline bool set_has(const uint8_t *s, int c)
{
	return s[c >> 3] >> (c & 7) & 1;
}

/* Fills rx->first, first1 and skip from the program (regex_vm.c): prog,
 * nprog, sets and the scratch must be in place.  Leaves the marks at
 * generation 0, as rx_search expects of a fresh rx. */
void rx_find_first(struct rx *rx);

/* ---- regex_dfa.c ---- */

/* Can the lazy DFA run this program (no word assertions)? */
bool rx_dfa_eligible(const struct rx *rx);
/* An empty cache, or NULL. */
struct dfa *rx_dfa_new(void);
void rx_dfa_free(struct dfa *d);
/* 1 match, 0 none, -1 the cache gave out: ask the VM. */
int rx_dfa_search(const struct rx *rx, const uint8_t *s, size_t n);

#endif
