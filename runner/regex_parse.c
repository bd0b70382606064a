/* regex_parse.c - POSIX ERE as GNU grep -E reads it, compiled to a
 * program for the Pike VM of regex_vm.c (regex_internal.h).
 *
 * GNU grep checks a pattern with two parsers, gnulib's regex (for errors
 * only) and dfa.c (for errors and for the matching), and rejects it when
 * either does.  This parser follows dfa.c's grammar, so the meaning is
 * dfa's: a leading repetition operator applies to an empty atom (`*a` is
 * `a`), `^*` repeats the anchor, an unmatched `)` is literal, `{` that
 * does not open a valid interval is literal.  Alongside it the lexer
 * (regex_lex.c) tracks the few places where regex's parser disagrees and
 * errs (struct gview), so valid-vs-invalid agrees with grep too.  One
 * exception to dfa's meaning: a bracket holding [.x.] or [=x=] sends grep
 * to regex for the matching, so such a pattern is parsed a second time
 * with regex's meaning (struct parser.glibc).
 *
 * The AST keeps n-ary CAT/ALT nodes (children chained by .next) and knows
 * every node's program size as it is built, so {m,n} expansion is bounded
 * before any instruction is emitted and recursion depth is bounded by
 * parenthesis nesting (RX_NEST_MAX), not pattern length.
 */
#include "regex_lex.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* ---- parser: dfa.c's grammar ---- */

static uint32_t new_node(struct parser *ps, enum ntype type, uint32_t size)
{
	struct node *n;

	if (ps->nnodes == ps->capnodes) {
		n = rx_grow(ps, ps->nodes, &ps->capnodes, sizeof(*n));
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
		rx_fail(
		    ps,
		    "pattern too large: over %d instructions after expanding repetitions",
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
		rx_next(ps);
		return n;
	case T_LPAREN:
		rx_next(ps);
		n = regexp(ps);
		if (ps->tok != T_RPAREN)
			rx_fail(ps, "unmatched ( at offset %zu", off);
		rx_next(ps);
		return n;
	default: return new_node(ps, N_EMPTY, 0);
	}
}

static uint32_t closure(struct parser *ps)
{
	uint32_t a = atom(ps);

	while (ps->tok == T_REP && !ps->failed) {
		a = repeat(ps, a, ps->min, ps->max);
		rx_next(ps);
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
			rx_next(ps);
		k = part(ps);
		if (ps->failed)
			return 0;
		ps->nodes[tail].next = k;
		tail = k;
		size += ps->nodes[k].size + (type == N_ALT ? 2 : 0);
		if (size >= RX_PROG_MAX)
			rx_fail(ps, "pattern too large: over %d instructions",
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
	rx_g_start(ps);
	rx_next(ps);
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
	if (flags & ~(RX_ICASE | RX_FIXED | RX_RUST | RX_NODFA)) {
		rx_fail(&ps, "unknown flags %#x", (unsigned)flags);
		return -EINVAL;
	}
	ps.rust = flags & RX_RUST;
	if (ps.rust && len >= 4 && !memcmp(pat, "(?i)", 4)) {
		ps.icase = true;
		ps.pat = ps.p += 4;
	}
	rx = calloc(1, sizeof(*rx));
	if (rx)
		rx->lit = malloc(len + 1);
	if (!rx || !rx->lit) {
		free(rx);
		rx_fail_nomem(&ps);
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
				     .rust = ps.rust,
				     .err = err,
				     .errlen = errlen,
				     .glibc = true};
		root = parse(&ps);
	}
	r = ps.failed ? (ps.nomem ? -ENOMEM : -EINVAL) : build(rx, &ps, root);
	if (r == -ENOMEM)
		rx_fail_nomem(&ps);
	free(ps.nodes);
	free(ps.sets);
	if (r) {
		rx_free(rx);
		return r;
	}
	if (!(flags & RX_NODFA) && !rx->pure && rx_dfa_eligible(rx))
		rx->dfa = rx_dfa_new(); /* NULL: the VM alone, still right */
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
	rx_dfa_free(rx->dfa);
	free(rx);
}
