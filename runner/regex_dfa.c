/* regex_dfa.c - a lazy DFA over the Pike VM's program (regex_internal.h),
 * built state by state while lines are searched, as RE2 and GNU grep's
 * dfa.c do: a state is the set of program counters live after some
 * input, each transition is computed once and then costs one table
 * lookup per byte.  Still linear: a state holds at most every pc once,
 * and when the cache is full it is dropped and the line goes to the Pike
 * VM (regex_vm.c), which never needs memory it does not have.
 *
 * Only ^ and $ among the assertions: a word boundary depends on the byte
 * after the position, which a DFA state does not see; such programs stay
 * on the VM.  ^ holds at position 0 only (the start state); $ is kept
 * pending in a state and decided at the line's end (dfa_state.end).
 */
#include "regex_internal.h"

#include <stdlib.h>
#include <string.h>

#define DFA_STATES 2048	     /* cached states; then the cache is dropped */
#define DFA_HASH   4096	     /* power of two, > DFA_STATES */
#define DFA_POOL   (1 << 18) /* pcs stored over all states */
#define DFA_RESETS 8

struct dfa_state {
	uint32_t off, len; /* its pcs: pool[off..off+len) */
	bool match;	   /* MATCH reached: the line matches */
	bool end;	   /* MATCH reached if the line ends here ($) */
	int32_t next[256]; /* the state after a byte; -1 not known yet */
};

struct dfa {
	struct dfa_state *st; /* st[0] is the start state, at position 0 */
	uint32_t nst, capst;
	uint16_t *pool;
	uint32_t npool;
	uint32_t resets; /* cache drops: past DFA_RESETS the VM does it all */
	int32_t hash[DFA_HASH]; /* state + 1, 0 empty */
};

bool rx_dfa_eligible(const struct rx *rx)
{
	uint32_t pc;

	for (pc = 0; pc < rx->nprog; pc++)
		if (rx->prog[pc].op == OP_ASSERT && rx->prog[pc].arg != A_BOL &&
		    rx->prog[pc].arg != A_EOL)
			return false;
	return true;
}

struct dfa *rx_dfa_new(void)
{
	return calloc(1, sizeof(struct dfa));
}

void rx_dfa_free(struct dfa *d)
{
	if (d) {
		free(d->st);
		free(d->pool);
		free(d);
	}
}

static int dfa_cmp_pc(const void *a, const void *b)
{
	return *(const uint16_t *)a - *(const uint16_t *)b;
}

/* The empty moves from seeds: consuming pcs and pending $ asserts into
 * out (sorted), true when MATCH is reached.  With eol the $ asserts hold
 * (the end of the line) and nothing is kept. */
static bool dfa_closure(const struct rx *rx, const uint16_t *seeds, size_t n,
			bool bol, bool eol, uint16_t *out, uint32_t *nout)
{
	uint32_t *mark = rx->marks, *gen = &rx->marks[rx->nprog], pc;
	uint16_t *stack = rx->stack;
	const struct inst *in;
	bool match = false;
	size_t sp = 0;

	if (++*gen == 0) {
		memset(mark, 0, rx->nprog * sizeof(*mark));
		*gen = 1;
	}
#define PUSH(t)                                                                \
	do {                                                                   \
		if (mark[t] != *gen)                                           \
			mark[t] = *gen, stack[sp++] = (uint16_t)(t);           \
	} while (0)
	while (n--)
		PUSH(seeds[n]);
	*nout = 0;
	while (sp) {
		in = &rx->prog[pc = stack[--sp]];
		switch (in->op) {
		case OP_MATCH: match = true; break;
		case OP_JMP: PUSH(in->x); break;
		case OP_SPLIT:
			PUSH(in->y);
			PUSH(in->x);
			break;
		case OP_ASSERT:
			if (in->arg == A_BOL ? bol : eol)
				PUSH(pc + 1);
			else if (in->arg == A_EOL)
				out[(*nout)++] = (uint16_t)pc;
			break;
		default: out[(*nout)++] = (uint16_t)pc;
		}
	}
#undef PUSH
	if (*nout > 1)
		qsort(out, *nout, sizeof(*out), dfa_cmp_pc);
	return match;
}

static uint32_t dfa_hash_pcs(const uint16_t *p, uint32_t n, bool match)
{
	uint32_t h = 2166136261u ^ match;

	while (n--)
		h = (h ^ *p++) * 16777619u;
	return h;
}

static void dfa_reset(struct dfa *d)
{
	d->resets++;
	d->nst = 0;
	d->npool = 0;
	memset(d->hash, 0, sizeof(d->hash));
}

/* A new state from a closure in pcs; its index, or -1 when the cache is
 * full (then it is dropped).  pcs may be rx->lists[1]: it is copied
 * before the scratch lists are used again. */
static int32_t dfa_add_state(const struct rx *rx, struct dfa *d,
			     const uint16_t *pcs, uint32_t n, bool match,
			     bool bol)
{
	uint16_t *seeds = rx->lists[0], *tmp = rx->lists[1], *p;
	struct dfa_state *s;
	uint32_t k, ns = 0, nt;

	if (d->nst == d->capst) {
		k = d->capst ? 2 * d->capst : 16;
		if (k > DFA_STATES || !(s = realloc(d->st, k * sizeof(*s))))
			goto full;
		d->st = s;
		d->capst = k;
	}
	if (d->npool + n > DFA_POOL)
		goto full;
	s = &d->st[d->nst];
	s->off = d->npool;
	s->len = n;
	s->match = match;
	p = memcpy(d->pool + d->npool, pcs, n * sizeof(*pcs));
	d->npool += n;
	memset(s->next, 0xff, sizeof(s->next));
	/* $ at the end: past each pending assert with eol true */
	for (k = 0; k < n; k++)
		if (rx->prog[p[k]].op == OP_ASSERT)
			seeds[ns++] = (uint16_t)(p[k] + 1);
	s->end =
	    match || (ns && dfa_closure(rx, seeds, ns, bol, true, tmp, &nt));
	return (int32_t)d->nst++;
full:
	dfa_reset(d);
	return -1;
}

/* The state after byte c from state from; -1 when the cache is full. */
static int32_t dfa_step(const struct rx *rx, struct dfa *d, int32_t from, int c)
{
	uint16_t *seeds = rx->lists[0], *out = rx->lists[1], *p;
	const struct dfa_state *s = &d->st[from];
	uint32_t k, ns = 0, n, h, slot;
	const struct inst *in;
	int32_t to;
	bool match;

	for (k = 0; k < s->len; k++) {
		in = &rx->prog[d->pool[s->off + k]];
		if (in->op <= OP_ANY &&
		    (in->op == OP_CHAR	 ? c == in->arg
		     : in->op == OP_FOLD ? fold(c) == in->arg
		     : in->op == OP_SET	 ? set_has(rx->sets[in->x], c)
					 : c != '\n'))
			seeds[ns++] = (uint16_t)(d->pool[s->off + k] + 1);
	}
	if (!rx->anchored) /* a match may start at every position */
		seeds[ns++] = 0;
	match = dfa_closure(rx, seeds, ns, false, false, out, &n);
	h = dfa_hash_pcs(out, n, match);
	for (slot = h & (DFA_HASH - 1); d->hash[slot];
	     slot = (slot + 1) & (DFA_HASH - 1)) {
		to = d->hash[slot] - 1;
		p = d->pool + d->st[to].off;
		if (d->st[to].len == n && d->st[to].match == match &&
		    !memcmp(p, out, n * sizeof(*out)))
			goto found;
	}
	if ((to = dfa_add_state(rx, d, out, n, match, false)) < 0)
		return -1;
	d->hash[slot] = to + 1;
found:
	d->st[from].next[c] = to;
	return to;
}

int rx_dfa_search(const struct rx *rx, const uint8_t *s, size_t n)
{
	struct dfa *d = rx->dfa;
	uint16_t zero = 0, *out = rx->lists[1];
	int32_t cur = 0, nx;
	uint32_t nout;
	bool match;
	size_t i;

	/* a program whose states keep overflowing the cache (a huge {m,n}
	 * expansion) pays the building for nothing: the VM alone then */
	if (d->resets > DFA_RESETS ||
	    (!d->pool && !(d->pool = malloc((DFA_POOL) * sizeof(*d->pool)))))
		return -1;
	if (!d->nst) {
		match = dfa_closure(rx, &zero, 1, true, false, out, &nout);
		if (dfa_add_state(rx, d, out, nout, match, true) < 0)
			return -1;
	}
	for (i = 0; i < n && !d->st[cur].match; i++) {
		nx = d->st[cur].next[s[i]];
		if (nx < 0 && (nx = dfa_step(rx, d, cur, s[i])) < 0)
			return -1;
		cur = nx;
		if (rx->anchored && !d->st[cur].len && !d->st[cur].match)
			return 0; /* no thread left and none will start */
	}
	return d->st[cur].match || (i == n && d->st[cur].end);
}
