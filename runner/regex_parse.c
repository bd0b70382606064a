/* regex_parse.c - POSIX ERE as GNU grep -E reads it, compiled to a
 * program for the Pike VM of regex_vm.c (regex_internal.h).
 *
 * GNU grep checks a pattern with two parsers, gnulib's regex (for errors
 * only) and dfa.c (for errors and for the matching), and rejects it when
 * either does.  This parser follows dfa.c's grammar, so the meaning is
 * dfa's: a leading repetition operator applies to an empty atom (`*a` is
 * `a`), `^*` repeats the anchor, an unmatched `)` is literal, `{` that
 * does not open a valid interval is literal.  Alongside it the lexer tracks
 * the few places where regex's parser disagrees and errs (see struct gview),
 * so valid-vs-invalid agrees with grep too.  One exception to dfa's
 * meaning: a bracket holding [.x.] or [=x=] sends grep to regex for the
 * matching, so such a pattern is parsed a second time with regex's meaning
 * (struct parser.glibc).
 *
 * The AST keeps n-ary CAT/ALT nodes (children chained by .next) and knows
 * every node's program size as it is built, so {m,n} expansion is bounded
 * before any instruction is emitted and recursion depth is bounded by
 * parenthesis nesting (RX_NEST_MAX), not pattern length.
 */
#include "regex_internal.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RX_NEST_MAX 256
#define INF	    0xffff /* max of an unbounded repetition */
#define NONE	    UINT32_MAX

static const char *const class_names[] = {
    "alpha", "digit", "alnum", "upper", "lower", "space",
    "blank", "punct", "print", "graph", "cntrl", "xdigit",
};

static bool class_has(int k, int c)
{
	bool graph = c > 0x20 && c < 0x7f;

	switch (k) {
	case 0: return is_upper(c) || is_lower(c);
	case 1: return is_digit(c);
	case 2: return is_alnum(c);
	case 3: return is_upper(c);
	case 4: return is_lower(c);
	case 5: return c == ' ' || (c >= '\t' && c <= '\r');
	case 6: return c == ' ' || c == '\t';
	case 7: return graph && !is_alnum(c);
	case 8: return graph || c == ' ';
	case 9: return graph;
	case 10: return c < 0x20 || c == 0x7f;
	default: return is_digit(c) || (fold(c) >= 'a' && fold(c) <= 'f');
	}
}

/* ---- parser state ---- */

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

__attribute__((format(printf, 2, 3))) static void fail(struct parser *ps,
						       const char *fmt, ...)
{
	va_list ap;

	if (ps->failed)
		return;
	ps->failed = true;
	ps->tok = T_END;
	if (ps->errlen) {
		va_start(ap, fmt);
		vsnprintf(ps->err, ps->errlen, fmt, ap);
		va_end(ap);
	}
}

static void fail_nomem(struct parser *ps)
{
	if (ps->failed)
		return;
	fail(ps, "out of memory");
	ps->nomem = true;
}

/* arr with room for twice *cap elements (the caller stores it), or NULL
 * with arr untouched. */
static void *grow(struct parser *ps, void *arr, uint32_t *cap, size_t elem)
{
	uint32_t ncap = *cap ? 2 * *cap : 64;
	void *p = realloc(arr, (size_t)ncap * elem);

	if (!p) {
		fail_nomem(ps);
		return NULL;
	}
	*cap = ncap;
	return p;
}

/* A new set, all clear; its index, or NONE when out of memory. */
static uint32_t new_set(struct parser *ps)
{
	byteset *sets;

	if (ps->nsets == ps->capsets) {
		sets = grow(ps, ps->sets, &ps->capsets, sizeof(*sets));
		if (!sets)
			return NONE;
		ps->sets = sets;
	}
	memset(ps->sets[ps->nsets], 0, sizeof(byteset));
	return ps->nsets++;
}

/* ---- lexer: gnulib regex's view ---- */

static void g_start(struct parser *ps)
{
	ps->g.start = true;
	ps->g.skipped = false;
}

static void g_atom(struct parser *ps)
{
	ps->g.start = ps->g.skipped = false;
}

static void g_open(struct parser *ps)
{
	if (ps->g.depth == RX_NEST_MAX) {
		fail(ps, "parentheses nested deeper than %d", RX_NEST_MAX);
		return;
	}
	ps->g.open[ps->g.depth++] = ps->off;
	g_start(ps);
}

static void g_close(struct parser *ps)
{
	if (!ps->g.skipped && ps->g.depth)
		ps->g.depth--;
	g_atom(ps);
}

/* One token as gnulib's fetch_number sees it: the byte (the escaped one
 * after a backslash), whether it is a plain character, and its length.
 * Only digits, ',' and '}' matter to the caller. */
static int g_token(const uint8_t *p, const uint8_t *end, int *c, bool *plain)
{
	if (p == end)
		return 0;
	if (*p != '\\') {
		*c = *p;
		*plain = !strchr("[]()*+?{}|^$.\n", *c);
		return 1;
	}
	if (p + 1 == end) {
		*c = '\\';
		*plain = false;
		return 1;
	}
	*c = p[1];
	*plain = !strchr("123456789<>bB`'wWsS", *c);
	return 2;
}

/* gnulib's fetch_number: -1 no digits, -2 invalid; *term is the token that
 * ended it: 0 end of pattern, '}' or ','. */
static long g_number(const uint8_t **pp, const uint8_t *end, int *term)
{
	long num = -1;
	bool plain;
	int c, len;

	for (;;) {
		len = g_token(*pp, end, &c, &plain);
		if (!len) {
			*term = 0;
			return -2;
		}
		*pp += len;
		if ((c == '}' && len == 1) || c == ',') {
			*term = c == ',' ? ',' : '}';
			return num;
		}
		if (!plain || !is_digit(c) || num == -2)
			num = -2;
		else
			num = num < 0 ? c - '0' : num * 10 + c - '0';
		if (num > 32768)
			num = 32768;
	}
}

/* After an atom, a `{` that dfa.c takes as a literal: does gnulib's
 * parse_dup_op reject it rather than take it literally too? */
static bool g_bad_interval(const uint8_t *p, const uint8_t *end)
{
	long lo, hi;
	int term, term2 = 0;

	lo = g_number(&p, end, &term);
	if (lo == -1) {
		if (term != ',')
			return true; /* {} */
		lo = 0;
	}
	if (lo == -2)
		return false;
	if (term == '}') {
		hi = lo;
		term2 = '}';
	} else {
		hi = g_number(&p, end, &term2);
	}
	if (hi == -2)
		return false;
	return (hi != -1 && lo > hi) || term2 != '}' || lo > 32767 ||
	       hi > 32767;
}

/* ---- lexer: dfa.c's tokens ---- */

/* A decimal number at p into *num (left alone when there is none),
 * saturated above GNU's RE_DUP_MAX; returns the end. */
static const uint8_t *digits(const uint8_t *p, const uint8_t *end, long *num)
{
	for (; p < end && is_digit(*p); p++) {
		*num = *num < 0 ? *p - '0' : *num * 10 + *p - '0';
		if (*num > 32768)
			*num = 32768;
	}
	return p;
}

static void lex_interval(struct parser *ps)
{
	const uint8_t *q = ps->p;
	long lo = -1, hi = -1;

	if (ps->glibc && ps->g.start) {
		ps->tok = T_REP; /* skipped by next(), the rest is literal */
		ps->g.skipped = true;
		return;
	}

	q = digits(q, ps->end, &lo);
	if (q < ps->end && *q != ',') {
		hi = lo;
	} else if (q < ps->end) {
		if (lo < 0)
			lo = 0;
		q = digits(q + 1, ps->end, &hi);
	}
	if (q < ps->end && *q == '}' && lo >= 0 && (hi < 0 || lo <= hi)) {
		if (lo > RX_DUP_MAX || hi > RX_DUP_MAX) {
			fail(ps, "repetition count over %d at offset %zu",
			     RX_DUP_MAX, ps->off);
			return;
		}
		ps->p = q + 1;
		ps->tok = T_REP;
		ps->min = (uint16_t)lo;
		ps->max = hi < 0 ? INF : (uint16_t)hi;
		g_atom(ps); /* regex skips the {, the rest is literal */
		return;
	}
	ps->tok = T_CHAR; /* GNU: an invalid interval is a literal { */
	ps->arg = '{';
	if (ps->g.start)
		ps->g.skipped = true;
	else if (g_bad_interval(ps->p, ps->end))
		fail(ps, "invalid interval at offset %zu", ps->off);
	else
		g_atom(ps);
}

struct elem {
	char kind; /* 'c' a byte, '.' collating symbol, '=' equivalence class,
		      ':' character class */
	int c;	   /* the byte, or the class index */
};

/* [.x.] [=x=] [:name:] at p (p[0] == '[', p[1] the delimiter), the way
 * gnulib reads them (names under 32 bytes, x a single byte). */
static bool parse_symbol(struct parser *ps, const uint8_t **pp,
			 const uint8_t *lim, struct elem *e)
{
	const uint8_t *p = *pp + 2, *name = p;
	int delim = (*pp)[1];
	char buf[32];
	size_t n, k;

	for (;; p++) {
		if (p + 1 >= lim || p - name >= 32)
			return false; /* unmatched [ */
		if (*p == delim && p[1] == ']')
			break;
	}
	n = (size_t)(p - name);
	*pp = p + 2;
	e->kind = (char)delim;
	ps->collating |= delim != ':';
	if (delim != ':') {
		if (n != 1) {
			fail(ps, "invalid collating element at offset %zu",
			     (size_t)(name - ps->pat));
			return true;
		}
		e->c = *name;
		return true;
	}
	memcpy(buf, name, n);
	buf[n] = 0;
	for (k = 0; k < sizeof(class_names) / sizeof(*class_names); k++)
		if (!strcmp(buf, class_names[k])) {
			e->c = (int)k;
			return true;
		}
	fail(ps, "invalid character class [:%s:] at offset %zu", buf,
	     (size_t)(name - ps->pat));
	return true;
}

/* One bracket element; false when the bracket is unterminated. */
static bool parse_elem(struct parser *ps, const uint8_t **pp,
		       const uint8_t *lim, struct elem *e, bool hyphen_ok)
{
	const uint8_t *p = *pp;

	if (*p == '[' && p + 1 < lim && strchr(".=:", p[1]) && p[1])
		return parse_symbol(ps, pp, lim, e);
	/* gnulib: a - that neither starts the list, ends it nor sits
	 * between range ends is an error ([a-z-9]). */
	if (*p == '-' && !hyphen_ok && !(p + 1 < lim && p[1] == ']'))
		fail(ps, "invalid range end at offset %zu",
		     (size_t)(p - ps->pat));
	e->kind = 'c';
	e->c = *p;
	*pp = p + 1;
	return true;
}

static void elem_add(uint8_t *set, const struct elem *e)
{
	int c;

	if (e->kind != ':') {
		set_add(set, e->c);
		return;
	}
	for (c = 0; c < 256; c++)
		if (class_has(e->c, c))
			set_add(set, c);
}

static int upper(const struct parser *ps, int c)
{
	return ps->icase && is_lower(c) ? c - 32 : c;
}

/* A range from a whose end is at *pp (past the -). */
static void parse_range(struct parser *ps, const uint8_t **pp,
			const uint8_t *lim, const struct elem *a, uint8_t *set)
{
	struct elem b;
	size_t off = (size_t)(*pp - ps->pat);
	int c;

	if (!parse_elem(ps, pp, lim, &b, true) || ps->failed)
		return;
	/* gnulib checks the order after upper-casing (RX_ICASE); dfa.c
	 * builds the set from the bytes as written, so [b-^] is empty. */
	if (b.kind == ':' || b.kind == '=' ||
	    upper(ps, a->c) > upper(ps, b.c)) {
		fail(ps, "invalid range end at offset %zu", off);
		return;
	}
	for (c = a->c; c <= b.c; c++)
		set_add(set, c);
}

/* dfa.c's complaint about [:space:]: the list starts and ends with ':',
 * holds something else too, and no [: ] [. ] [= ] or range (bit 8). */
enum { COLON_FIRST = 1, COLON_LAST = 2, COLON_OTHER = 4, COLON_NONE = 8 };

static void lex_bracket(struct parser *ps)
{
	const uint8_t *p = ps->p, *lim;
	uint32_t idx = new_set(ps);
	uint8_t *set;
	bool neg = false, first = true;
	struct elem a;
	int colon, c;

	if (idx == NONE)
		return;
	set = ps->sets[idx];
	lim = memchr(p, '\n', (size_t)(ps->end - p));
	lim = lim ? lim : ps->end;
	if (p < lim && *p == '^')
		neg = true, p++;
	colon = p < lim && *p == ':' ? COLON_FIRST : 0;
	for (;;) {
		colon &= ~COLON_LAST;
		if (p >= lim || !parse_elem(ps, &p, lim, &a, first) || p >= lim)
			goto unmatched;
		if (ps->failed)
			return;
		first = false;
		if ((a.kind == 'c' || a.kind == '.') && *p == '-') {
			if (p + 1 >= lim)
				goto unmatched;
			if (p[1] != ']') {
				p++;
				parse_range(ps, &p, lim, &a, set);
				colon |= COLON_NONE;
				if (p >= lim)
					goto unmatched;
				goto next;
			}
		}
		elem_add(set, &a);
		if (a.kind != 'c')
			colon |= COLON_NONE;
		else
			colon |= a.c == ':' ? COLON_LAST : COLON_OTHER;
	next:
		if (ps->failed)
			return;
		if (*p == ']')
			break;
	}
	if (colon == (COLON_FIRST | COLON_LAST | COLON_OTHER)) {
		fail(ps,
		     "character class syntax is [[:space:]], not "
		     "[:space:] (offset %zu)",
		     ps->off);
		return;
	}
	ps->p = p + 1;
	for (c = 0; ps->icase && c < 256; c++)
		if (set_has(set, c) && (is_upper(c) || is_lower(c)))
			set_add(set, c ^ 0x20);
	for (c = 0; neg && c < 32; c++)
		set[c] = (uint8_t)~set[c];
	if (neg)
		set[1] &= (uint8_t) ~(1u << 2); /* never '\n' */
	ps->tok = T_SET;
	ps->set = idx;
	g_atom(ps);
	return;
unmatched:
	fail(ps, "unmatched [ at offset %zu", ps->off);
}

/* \w \W \s \S as sets. */
static void lex_class_escape(struct parser *ps, int c)
{
	uint32_t idx = new_set(ps);
	int b;

	if (idx == NONE)
		return;
	for (b = 0; b < 256; b++)
		if ((fold(c) == 'w' ? is_word(b) : class_has(5, b)) ==
		    is_lower(c))
			set_add(ps->sets[idx], b);
	ps->tok = T_SET;
	ps->set = idx;
	g_atom(ps);
}

static void lex_assert(struct parser *ps, enum assertion a)
{
	ps->tok = T_ASSERT;
	ps->arg = a;
	g_start(ps); /* regex: no repetition of an anchor */
}

static void lex_escape(struct parser *ps)
{
	static const char asserts[] = "`'bB<>";
	static const uint8_t kinds[] = {A_BOL,	  A_EOL, A_WORDB,
					A_NWORDB, A_BOW, A_EOW};
	const char *a;
	int c;

	if (ps->p == ps->end || *ps->p == '\n') {
		fail(ps, "trailing backslash at offset %zu", ps->off);
		return;
	}
	c = *ps->p++;
	if (c >= '1' && c <= '9') {
		fail(ps, "back-reference \\%c at offset %zu is not supported",
		     c, ps->off);
	} else if (c && (a = strchr(asserts, c))) {
		lex_assert(ps, kinds[a - asserts]);
	} else if (c && strchr("wWsS", c)) {
		lex_class_escape(ps, c);
	} else {
		ps->tok = T_CHAR; /* GNU: \d is d */
		ps->arg = (uint8_t)c;
		g_atom(ps);
	}
}

static void lex_rep(struct parser *ps, uint16_t min, uint16_t max)
{
	ps->tok = T_REP;
	ps->min = min;
	ps->max = max;
	if (ps->g.start)
		ps->g.skipped = true;
}

static void lex_one(struct parser *ps)
{
	bool closes;
	int c;

	if (ps->failed)
		return;
	ps->off = (size_t)(ps->p - ps->pat);
	if (ps->p == ps->end) {
		ps->tok = T_END;
		if (ps->g.depth)
			fail(ps, "unmatched ( at offset %zu",
			     ps->g.open[ps->g.depth - 1]);
		return;
	}
	c = *ps->p++;
	switch (c) {
	case '\\': lex_escape(ps); break;
	case '^': lex_assert(ps, A_BOL); break;
	case '$': lex_assert(ps, A_EOL); break;
	case '[': lex_bracket(ps); break;
	case '{': lex_interval(ps); break;
	case '*': lex_rep(ps, 0, INF); break;
	case '+': lex_rep(ps, 1, INF); break;
	case '?': lex_rep(ps, 0, 1); break;
	case '.':
		ps->tok = T_ANY;
		g_atom(ps);
		break;
	case '(':
		ps->tok = T_LPAREN;
		ps->parens++;
		g_open(ps);
		break;
	case ')':
		/* gnulib: a ) after skipped operators is literal */
		closes = ps->parens && !(ps->glibc && ps->g.skipped);
		ps->tok = closes ? T_RPAREN : T_CHAR;
		ps->arg = ')';
		ps->parens -= closes;
		g_close(ps);
		break;
	case '\n': /* grep: one pattern per line, i.e. alternatives */
		if (ps->g.depth)
			fail(ps, "unmatched ( at offset %zu",
			     ps->g.open[ps->g.depth - 1]);
		/* fall through */
	case '|':
		ps->tok = T_OR;
		g_start(ps);
		break;
	default:
		ps->tok = T_CHAR;
		ps->arg = (uint8_t)c;
		g_atom(ps);
	}
}

/* The next token.  GNU grep matches with gnulib regex instead of dfa.c
 * when a bracket holds [. .] or [= =]; regex skips repetition operators
 * at the start of an expression rather than repeat an empty atom. */
static void next(struct parser *ps)
{
	bool start;

	do {
		start = ps->g.start;
		lex_one(ps);
	} while (ps->glibc && start && ps->tok == T_REP && !ps->failed);
}

/* ---- parser: dfa.c's grammar ---- */

static uint32_t new_node(struct parser *ps, enum ntype type, uint32_t size)
{
	struct node *n;

	if (ps->nnodes == ps->capnodes) {
		n = grow(ps, ps->nodes, &ps->capnodes, sizeof(*n));
		if (!n)
			return 0;
		ps->nodes = n;
	}
	n = &ps->nodes[ps->nnodes];
	memset(n, 0, sizeof(*n));
	n->type = (uint8_t)type;
	n->size = size;
	n->kid = n->next = NONE;
	return ps->nnodes++;
}

/* Program size of e{min,max} when e is size instructions. */
static uint64_t rep_size(uint64_t size, unsigned min, unsigned max)
{
	if (max == INF)
		return min * size + size + 2;
	return min * size + (max - min) * (size + 1);
}

static bool small_rep(unsigned min, unsigned max)
{
	return min <= 1 && (max == 1 || max == INF);
}

static uint32_t repeat(struct parser *ps, uint32_t a, unsigned min,
		       unsigned max)
{
	struct node *n = &ps->nodes[a];
	uint32_t r, size = n->size;
	uint64_t total;

	if (size == 0 || (min == 1 && max == 1))
		return a; /* only the empty string, or once */
	if (max == 0)
		return new_node(ps, N_EMPTY, 0);
	if (n->type == N_REP && small_rep(n->min, n->max) &&
	    small_rep(min, max)) {
		/* (e{a,A}){b,B} is e{ab,AB} here: keeps `a****` shallow */
		n->min = (uint16_t)(n->min * min);
		n->max = n->max == INF || max == INF ? INF : 1;
		n->size =
		    (uint32_t)rep_size(ps->nodes[n->kid].size, n->min, n->max);
		return a;
	}
	total = rep_size(size, min, max);
	if (total >= RX_PROG_MAX) {
		fail(ps,
		     "pattern too large: over %d instructions after "
		     "expanding repetitions",
		     RX_PROG_MAX);
		return 0;
	}
	r = new_node(ps, N_REP, (uint32_t)total);
	if (ps->failed)
		return 0;
	ps->nodes[r].kid = a;
	ps->nodes[r].min = (uint16_t)min;
	ps->nodes[r].max = (uint16_t)max;
	return r;
}

static uint32_t regexp(struct parser *ps);

static uint32_t atom(struct parser *ps)
{
	uint32_t n;
	size_t off = ps->off;

	switch (ps->tok) {
	case T_CHAR:
	case T_ANY:
	case T_SET:
	case T_ASSERT:
		n = new_node(ps,
			     ps->tok == T_CHAR	? N_CHAR
			     : ps->tok == T_ANY ? N_ANY
			     : ps->tok == T_SET ? N_SET
						: N_ASSERT,
			     1);
		if (ps->failed)
			return 0;
		ps->nodes[n].arg = ps->arg;
		ps->nodes[n].kid = ps->set;
		next(ps);
		return n;
	case T_LPAREN:
		next(ps);
		n = regexp(ps);
		if (ps->tok != T_RPAREN)
			fail(ps, "unmatched ( at offset %zu", off);
		next(ps);
		return n;
	default: return new_node(ps, N_EMPTY, 0);
	}
}

static uint32_t closure(struct parser *ps)
{
	uint32_t a = atom(ps);

	while (ps->tok == T_REP && !ps->failed) {
		a = repeat(ps, a, ps->min, ps->max);
		next(ps);
	}
	return a;
}

static bool ends_branch(enum tok t)
{
	return t == T_END || t == T_OR || t == T_RPAREN;
}

/* A CAT (sep = 0) or ALT (sep = T_OR) of what part() parses, or the only
 * part itself. */
static uint32_t list(struct parser *ps, enum ntype type,
		     uint32_t (*part)(struct parser *))
{
	uint32_t first = part(ps), list, tail, k;
	uint64_t size;

	if (type == N_CAT ? ends_branch(ps->tok) : ps->tok != T_OR)
		return first;
	list = new_node(ps, type, 0);
	if (ps->failed)
		return 0;
	ps->nodes[list].kid = tail = first;
	size = ps->nodes[first].size;
	while (!ps->failed &&
	       (type == N_CAT ? !ends_branch(ps->tok) : ps->tok == T_OR)) {
		if (type == N_ALT)
			next(ps);
		k = part(ps);
		if (ps->failed)
			return 0;
		ps->nodes[tail].next = k;
		tail = k;
		size += ps->nodes[k].size + (type == N_ALT ? 2 : 0);
		if (size >= RX_PROG_MAX)
			fail(ps, "pattern too large: over %d instructions",
			     RX_PROG_MAX);
	}
	ps->nodes[list].size = (uint32_t)size;
	return list;
}

static uint32_t branch(struct parser *ps)
{
	return list(ps, N_CAT, closure);
}

static uint32_t regexp(struct parser *ps)
{
	return list(ps, N_ALT, branch);
}

/* ---- code generation ---- */

struct gen {
	const struct parser *ps;
	struct inst *prog;
	uint32_t pc;
};

static uint32_t put(struct gen *g, enum op op, uint8_t arg, uint32_t x)
{
	struct inst *in = &g->prog[g->pc];

	in->op = (uint8_t)op;
	in->arg = arg;
	in->x = (uint16_t)x;
	in->y = 0;
	return g->pc++;
}

/* Point the chain of jumps linked through field x (or y) at the end. */
static void patch(struct gen *g, uint32_t chain, bool via_y)
{
	uint32_t k;

	while (chain != NONE) {
		uint16_t *f = via_y ? &g->prog[chain].y : &g->prog[chain].x;

		k = *f == UINT16_MAX ? NONE : *f;
		*f = (uint16_t)g->pc;
		chain = k;
	}
}

static void emit(struct gen *g, uint32_t i);

static void emit_alt(struct gen *g, const struct node *n)
{
	uint32_t k, split, jumps = NONE;

	for (k = n->kid; g->ps->nodes[k].next != NONE;
	     k = g->ps->nodes[k].next) {
		split = put(g, OP_SPLIT, 0, g->pc + 1);
		emit(g, k);
		jumps = put(g, OP_JMP, 0, jumps == NONE ? UINT16_MAX : jumps);
		g->prog[split].y = (uint16_t)g->pc;
	}
	emit(g, k);
	patch(g, jumps, false);
}

static void emit_rep(struct gen *g, const struct node *n)
{
	uint32_t k, loop, exits = NONE;

	for (k = 0; k < n->min; k++)
		emit(g, n->kid);
	if (n->max == INF) {
		loop = put(g, OP_SPLIT, 0, g->pc + 1);
		emit(g, n->kid);
		put(g, OP_JMP, 0, loop);
		g->prog[loop].y = (uint16_t)g->pc;
		return;
	}
	/* e{0,k} as nested options, each exit straight to the end: fewer
	 * threads than k independent e? */
	for (; k < n->max; k++) {
		loop = put(g, OP_SPLIT, 0, g->pc + 1);
		g->prog[loop].y = exits == NONE ? UINT16_MAX : (uint16_t)exits;
		exits = loop;
		emit(g, n->kid);
	}
	patch(g, exits, true);
}

static void emit(struct gen *g, uint32_t i)
{
	const struct node *n = &g->ps->nodes[i];
	uint32_t k;

	switch (n->type) {
	case N_EMPTY: break;
	case N_CHAR:
		if (g->ps->icase && (is_upper(n->arg) || is_lower(n->arg)))
			put(g, OP_FOLD, (uint8_t)fold(n->arg), 0);
		else
			put(g, OP_CHAR, n->arg, 0);
		break;
	case N_SET: put(g, OP_SET, 0, n->kid); break;
	case N_ANY: put(g, OP_ANY, 0, 0); break;
	case N_ASSERT: put(g, OP_ASSERT, n->arg, 0); break;
	case N_CAT:
		for (k = n->kid; k != NONE; k = g->ps->nodes[k].next)
			emit(g, k);
		break;
	case N_ALT: emit_alt(g, n); break;
	default: emit_rep(g, n); break;
	}
}

/* ---- prefilters ---- */

struct lits {
	uint8_t *best, *cur;
	size_t nbest, ncur;
	bool pure; /* nothing but literal bytes so far */
};

static void lits_flush(struct lits *l)
{
	if (l->ncur > l->nbest) {
		memcpy(l->best, l->cur, l->ncur);
		l->nbest = l->ncur;
	}
	l->ncur = 0;
}

/* The longest run of literal bytes in the top-level concatenation: every
 * match contains it. */
static void find_lits(const struct parser *ps, uint32_t i, struct lits *l)
{
	const struct node *n = &ps->nodes[i];
	uint32_t k;

	if (n->type == N_CHAR) {
		l->cur[l->ncur++] = ps->icase ? (uint8_t)fold(n->arg) : n->arg;
	} else if (n->type == N_CAT) {
		for (k = n->kid; k != NONE; k = ps->nodes[k].next)
			find_lits(ps, k, l);
	} else if (n->type != N_EMPTY) {
		lits_flush(l);
		l->pure = false;
	}
}

static bool starts_with_bol(const struct parser *ps, uint32_t i)
{
	const struct node *n = &ps->nodes[i];

	while (n->type == N_CAT)
		n = &ps->nodes[n->kid];
	return n->type == N_ASSERT && n->arg == A_BOL;
}

/* ---- compile ---- */

static uint32_t parse(struct parser *ps)
{
	ps->p = ps->pat;
	g_start(ps);
	next(ps);
	return regexp(ps);
}

static int build(struct rx *rx, struct parser *ps, uint32_t root)
{
	struct gen g = {ps, NULL, 0};
	struct lits l = {rx->lit, NULL, 0, 0, true};
	size_t nprog = ps->nodes[root].size + 1u;

	l.cur = malloc((size_t)(ps->end - ps->pat) + 1);
	rx->prog = g.prog = calloc(nprog, sizeof(*g.prog));
	rx->marks = calloc(nprog + 1, sizeof(*rx->marks));
	rx->lists[0] = calloc(3 * nprog, sizeof(uint16_t));
	if (!l.cur || !g.prog || !rx->marks || !rx->lists[0]) {
		free(l.cur);
		return -ENOMEM;
	}
	rx->lists[1] = rx->lists[0] + nprog;
	rx->stack = rx->lists[1] + nprog;
	emit(&g, root);
	put(&g, OP_MATCH, 0, 0);
	rx->nprog = g.pc;
	find_lits(ps, root, &l);
	lits_flush(&l);
	free(l.cur);
	rx->nlit = l.nbest;
	rx->pure = l.pure;
	rx->anchored = starts_with_bol(ps, root);
	rx->sets = ps->sets;
	ps->sets = NULL;
	rx_find_first(rx);
	return 0;
}

static int compile_fixed(struct rx *rx, const char *pat, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		rx->lit[i] = rx->icase ? (uint8_t)fold((uint8_t)pat[i])
				       : (uint8_t)pat[i];
	rx->nlit = len;
	rx->pure = true;
	return 0;
}

int rx_compile(struct rx **out, const char *pat, size_t len, int flags,
	       char *err, size_t errlen)
{
	struct parser ps = {.pat = (const uint8_t *)pat,
			    .p = (const uint8_t *)pat,
			    .end = (const uint8_t *)pat + len,
			    .icase = flags & RX_ICASE,
			    .err = err,
			    .errlen = errlen};
	struct rx *rx;
	uint32_t root;
	int r;

	*out = NULL;
	if (errlen)
		err[0] = 0;
	if (flags & ~(RX_ICASE | RX_FIXED)) {
		fail(&ps, "unknown flags %#x", (unsigned)flags);
		return -EINVAL;
	}
	rx = calloc(1, sizeof(*rx));
	if (rx)
		rx->lit = malloc(len + 1);
	if (!rx || !rx->lit) {
		free(rx);
		fail_nomem(&ps);
		return -ENOMEM;
	}
	rx->icase = ps.icase;
	if (flags & RX_FIXED) {
		*out = rx;
		return compile_fixed(rx, pat, len);
	}
	root = parse(&ps);
	if (!ps.failed && ps.collating) {
		/* Valid by both parsers; now for gnulib's meaning. */
		free(ps.nodes);
		free(ps.sets);
		ps = (struct parser){.pat = ps.pat,
				     .end = ps.end,
				     .icase = ps.icase,
				     .err = err,
				     .errlen = errlen,
				     .glibc = true};
		root = parse(&ps);
	}
	r = ps.failed ? (ps.nomem ? -ENOMEM : -EINVAL) : build(rx, &ps, root);
	if (r == -ENOMEM)
		fail_nomem(&ps);
	free(ps.nodes);
	free(ps.sets);
	if (r) {
		rx_free(rx);
		return r;
	}
	*out = rx;
	return 0;
}

void rx_free(struct rx *rx)
{
	if (!rx)
		return;
	free(rx->prog);
	free(rx->sets);
	free(rx->lit);
	free(rx->marks);
	free(rx->lists[0]);
	free(rx);
}
