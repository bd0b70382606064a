/* regex_lex.h - the parser state the ERE lexer (regex_lex.c) and the
 * parser and compiler (regex_parse.c) share.  Private to those two. */
#ifndef RUNNER_REGEX_LEX_H
#define RUNNER_REGEX_LEX_H

#include "regex_internal.h"

#define RX_NEST_MAX 256
#define INF	    0xffff /* max of an unbounded repetition */
#define NONE	    UINT32_MAX

enum tok {
	T_END,
	T_CHAR,
	T_SET,
	T_ANY,
	T_ASSERT,
	T_LPAREN,
	T_RPAREN,
	T_OR,
	T_REP
};
enum ntype { N_EMPTY, N_CHAR, N_SET, N_ANY, N_ASSERT, N_CAT, N_ALT, N_REP };

struct node {
	uint8_t type, arg;
	uint16_t min, max;
	uint32_t size; /* instructions it emits, at most RX_PROG_MAX */
	uint32_t kid;  /* first child; the set index for N_SET */
	uint32_t next; /* next sibling under a CAT or ALT */
};

/* gnulib regex's view of the same tokens, where it differs from dfa.c:
 * at the start of an expression (after ( | an anchor, or the pattern's
 * start) it skips repetition operators, and a `)` right after skipped ones
 * is a literal, so `(*)` is an unmatched ( to it; and a `{` after an atom
 * that is not a valid interval may still be an error ({} {2,1} {1,2,}).
 * depth >= the parser's own count of open ( (regex closes less often). */
struct gview {
	bool start, skipped;
	unsigned depth;
	size_t open[RX_NEST_MAX]; /* offsets of the ( it holds open */
};

struct parser {
	const uint8_t *pat, *p, *end;
	bool icase, failed, nomem;
	bool collating; /* a [. .] or [= =] was seen */
	bool glibc;	/* parse with gnulib regex's meaning, see rx_compile */
	bool rust;	/* RX_RUST */
	char *err;
	size_t errlen;
	/* the current token */
	enum tok tok;
	uint8_t arg;
	uint16_t min, max;
	uint32_t set;
	size_t off;
	unsigned parens; /* open ( as dfa.c counts them */
	struct gview g;
	struct node *nodes;
	uint32_t nnodes, capnodes;
	byteset *sets;
	uint32_t nsets, capsets;
};

__attribute__((format(printf, 2, 3))) void rx_fail(struct parser *ps,
						   const char *fmt, ...);
void rx_fail_nomem(struct parser *ps);
/* arr with room for twice *cap elements (the caller stores it), or NULL
 * with arr untouched. */
void *rx_grow(struct parser *ps, void *arr, uint32_t *cap, size_t elem);
/* gnulib regex's view restarts: the start of an expression. */
void rx_g_start(struct parser *ps);
/* The next token into ps->tok (T_END at the end or after a failure). */
void rx_next(struct parser *ps);

#endif
