/* regex_lex.c - the tokens of a POSIX ERE as GNU grep -E reads them:
 * dfa.c's tokens, bracket expressions and escapes, and alongside them
 * gnulib regex's view of the same tokens (struct gview), where it errs
 * and dfa.c does not.  The grammar is regex_parse.c's. */
#include "regex_lex.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
	case 11: return is_digit(c) || (fold(c) >= 'a' && fold(c) <= 'f');
	default: return is_word(c); /* 12: \w */
	}
}

void rx_fail(struct parser *ps, const char *fmt, ...)
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

void rx_fail_nomem(struct parser *ps)
{
	if (ps->failed)
		return;
	rx_fail(ps, "out of memory");
	ps->nomem = true;
}

/* arr with room for twice *cap elements (the caller stores it), or NULL
 * with arr untouched. */
void *rx_grow(struct parser *ps, void *arr, uint32_t *cap, size_t elem)
{
	uint32_t ncap = *cap ? 2 * *cap : 64;
	void *p = realloc(arr, (size_t)ncap * elem);

	if (!p) {
		rx_fail_nomem(ps);
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
		sets = rx_grow(ps, ps->sets, &ps->capsets, sizeof(*sets));
		if (!sets)
			return NONE;
		ps->sets = sets;
	}
	memset(ps->sets[ps->nsets], 0, sizeof(byteset));
	return ps->nsets++;
}

/* ---- lexer: gnulib regex's view ---- */

void rx_g_start(struct parser *ps)
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
		rx_fail(ps, "parentheses nested deeper than %d", RX_NEST_MAX);
		return;
	}
	ps->g.open[ps->g.depth++] = ps->off;
	rx_g_start(ps);
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
		ps->tok = T_REP; /* skipped by rx_next(), the rest is literal */
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
			rx_fail(ps, "repetition count over %d at offset %zu",
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
		rx_fail(ps, "invalid interval at offset %zu", ps->off);
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
			rx_fail(ps, "invalid collating element at offset %zu",
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
	rx_fail(ps, "invalid character class [:%s:] at offset %zu", buf,
		(size_t)(name - ps->pat));
	return true;
}

/* What \c means in RX_RUST: a class (kind ':', negated '!'), a control
 * character, or c itself. */
static void rust_escape(struct elem *e, int c)
{
	static const char cls[] = "dwsDWS", ctl[] = "tnrfv";
	static const uint8_t idx[] = {1, 12, 5}, val[] = "\t\n\r\f\v";
	const char *k;

	e->kind = 'c';
	e->c = c;
	if (c && (k = strchr(cls, c))) {
		e->kind = k - cls < 3 ? ':' : '!';
		e->c = idx[(k - cls) % 3];
	} else if (c && (k = strchr(ctl, c))) {
		e->c = val[k - ctl];
	}
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
	if (*p == '-' && !hyphen_ok && !ps->rust &&
	    !(p + 1 < lim && p[1] == ']'))
		rx_fail(ps, "invalid range end at offset %zu",
			(size_t)(p - ps->pat));
	e->kind = 'c';
	e->c = *p;
	*pp = p + 1;
	if (ps->rust && *p == '\\' && p + 1 < lim) /* [\d\]\t...] */
		rust_escape(e, p[1]), *pp = p + 2;
	return true;
}

static void elem_add(uint8_t *set, const struct elem *e)
{
	int c;

	if (e->kind != ':' && e->kind != '!') {
		set_add(set, e->c);
		return;
	}
	for (c = 0; c < 256; c++)
		if (class_has(e->c, c) != (e->kind == '!'))
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
		rx_fail(ps, "invalid range end at offset %zu", off);
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
		rx_fail(
		    ps,
		    "character class syntax is [[:space:]], not [:space:] (offset %zu)",
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
	rx_fail(ps, "unmatched [ at offset %zu", ps->off);
}

/* \w \W \s \S (and RX_RUST's \d \D) as sets. */
static void lex_class_escape(struct parser *ps, const struct elem *e)
{
	uint32_t idx = new_set(ps);

	if (idx == NONE)
		return;
	elem_add(ps->sets[idx], e);
	ps->tok = T_SET;
	ps->set = idx;
	g_atom(ps);
}

static void lex_assert(struct parser *ps, enum assertion a)
{
	ps->tok = T_ASSERT;
	ps->arg = a;
	rx_g_start(ps); /* regex: no repetition of an anchor */
}

static void lex_escape(struct parser *ps)
{
	static const char asserts[] = "`'bB<>";
	static const uint8_t kinds[] = {A_BOL,	  A_EOL, A_WORDB,
					A_NWORDB, A_BOW, A_EOW};
	struct elem e;
	const char *a;
	int c;

	if (ps->p == ps->end || *ps->p == '\n') {
		rx_fail(ps, "trailing backslash at offset %zu", ps->off);
		return;
	}
	c = *ps->p++;
	if (c >= '1' && c <= '9') {
		rx_fail(ps,
			"back-reference \\%c at offset %zu is not supported", c,
			ps->off);
	} else if (c && (a = strchr(asserts, c))) {
		lex_assert(ps, kinds[a - asserts]);
	} else {
		rust_escape(&e, ps->rust || !strchr("dD", c) ? c : 0);
		if (e.kind != 'c') {
			lex_class_escape(ps, &e);
			return;
		}
		ps->tok = T_CHAR; /* GNU: \d is d */
		ps->arg = (uint8_t)(ps->rust ? e.c : c);
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
			rx_fail(ps, "unmatched ( at offset %zu",
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
		/* RX_RUST: (?:...) is a group; other (?...) are refused */
		if (ps->rust && ps->p < ps->end && *ps->p == '?' &&
		    !(ps->p + 1 < ps->end && ps->p[1] == ':' && (ps->p += 2))) {
			rx_fail(ps, "(? group at offset %zu is not supported",
				ps->off);
			return;
		}
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
			rx_fail(ps, "unmatched ( at offset %zu",
				ps->g.open[ps->g.depth - 1]);
		/* fall through */
	case '|':
		ps->tok = T_OR;
		rx_g_start(ps);
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
void rx_next(struct parser *ps)
{
	bool start;

	do {
		start = ps->g.start;
		lex_one(ps);
	} while (ps->glibc && start && ps->tok == T_REP && !ps->failed);
	/* RX_RUST: a lazy x*? matches where x* does (only the length of a
	 * match differs, and GREP wants lines) */
	if (ps->rust && ps->tok == T_REP && ps->p < ps->end && *ps->p == '?')
		ps->p++;
}
