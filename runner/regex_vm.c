/* regex_vm.c - runs a program of regex_parse.c (regex_internal.h) as a
 * Pike VM: all live threads advance together over the text, a pc at most
 * once per position, so a search is O(program x text) and allocates
 * nothing (the scratch lives in struct rx).  Two prefilters come first:
 * the literal every match contains, and the bytes a match can start with.
 */
#include "regex_internal.h"

#include <string.h>

/* ---- prefilters ---- */

/* The bytes a match can start with, from the program; no skipping when
 * the empty string matches or nearly any byte may start one. */
void rx_find_first(struct rx *rx)
{
	uint16_t *stack = rx->stack;
	uint32_t *seen = rx->marks, sp = 0, pc, c, count = 0;
	const struct inst *in;

	memset(seen, 0, rx->nprog * sizeof(*seen));
	seen[0] = 1;
	stack[sp++] = 0;
	while (sp) {
		in = &rx->prog[pc = stack[--sp]];
		switch (in->op) {
		case OP_MATCH:
		case OP_ANY: goto done;
		case OP_CHAR: set_add(rx->first, in->arg); continue;
		case OP_FOLD:
			set_add(rx->first, in->arg);
			set_add(rx->first, in->arg ^ 0x20);
			continue;
		case OP_SET:
			for (c = 0; c < 32; c++)
				rx->first[c] |= rx->sets[in->x][c];
			continue;
		case OP_SPLIT:
			if (!seen[in->y])
				seen[in->y] = 1, stack[sp++] = in->y;
			pc = in->x - 1u;
			break;
		case OP_JMP: pc = in->x - 1u; break;
		}
		if (!seen[pc + 1])
			seen[pc + 1] = 1, stack[sp++] = (uint16_t)(pc + 1);
	}
	for (c = 0; c < 256; c++)
		if (set_has(rx->first, (int)c))
			count++, rx->first1 = (int)c;
	rx->skip = count < 128;
	if (count != 1)
		rx->first1 = -1;
done:
	memset(seen, 0, rx->nprog * sizeof(*seen)); /* generation 0 */
}

/* ---- search ---- */

static bool has_lit(const struct rx *rx, const uint8_t *s, size_t n)
{
	const uint8_t *lit = rx->lit;
	size_t k = rx->nlit, i, j;
	int c0 = lit[0], c1 = is_lower(c0) ? c0 - 32 : c0;

	if (!rx->icase)
		return memmem(s, n, lit, k) != NULL;
	for (i = 0; i + k <= n; i++) {
		if (s[i] != c0 && s[i] != c1)
			continue;
		for (j = 1; j < k && fold(s[i + j]) == lit[j]; j++)
			;
		if (j == k)
			return true;
	}
	return false;
}

static bool assertion_holds(int a, const uint8_t *s, size_t n, size_t i)
{
	bool before = i > 0 && is_word(s[i - 1]),
	     after = i < n && is_word(s[i]);

	switch (a) {
	case A_BOL: return i == 0;
	case A_EOL: return i == n;
	case A_WORDB: return before != after;
	case A_NWORDB: return before == after;
	case A_BOW: return !before && after;
	default: return before && !after;
	}
}

/* Add the thread at pc and everything its empty moves reach at position i;
 * true when that reaches MATCH.  A pc is marked when pushed, so the stack
 * and the list each hold a pc at most once per generation. */
static bool add_thread(const struct rx *rx, uint16_t *list, size_t *nlist,
		       uint32_t pc, const uint8_t *s, size_t n, size_t i)
{
	uint32_t *mark = rx->marks, gen = rx->marks[rx->nprog];
	uint16_t *stack = rx->stack;
	size_t sp = 0;
	const struct inst *in;

#define PUSH(t)                                                                \
	do {                                                                   \
		if (mark[t] != gen)                                            \
			mark[t] = gen, stack[sp++] = (uint16_t)(t);            \
	} while (0)
	PUSH(pc);
	while (sp) {
		pc = stack[--sp];
		in = &rx->prog[pc];
		switch (in->op) {
		case OP_MATCH: return true;
		case OP_JMP: PUSH(in->x); break;
		case OP_SPLIT:
			PUSH(in->y);
			PUSH(in->x);
			break;
		case OP_ASSERT:
			if (assertion_holds(in->arg, s, n, i))
				PUSH(pc + 1);
			break;
		default: list[(*nlist)++] = (uint16_t)pc;
		}
	}
#undef PUSH
	return false;
}

static bool consumes(const struct rx *rx, const struct inst *in, int c)
{
	switch (in->op) {
	case OP_CHAR: return c == in->arg;
	case OP_FOLD: return fold(c) == in->arg;
	case OP_SET: return set_has(rx->sets[in->x], c);
	default: return c != '\n'; /* OP_ANY */
	}
}

static void next_generation(const struct rx *rx)
{
	uint32_t *gen = &rx->marks[rx->nprog];

	if (++*gen == 0) {
		memset(rx->marks, 0, rx->nprog * sizeof(*rx->marks));
		*gen = 1;
	}
}

/* The next position at or after i where a match may start. */
static size_t skip_to(const struct rx *rx, const uint8_t *s, size_t n, size_t i)
{
	const uint8_t *p;

	if (rx->first1 >= 0) {
		p = memchr(s + i, rx->first1, n - i);
		return p ? (size_t)(p - s) : n;
	}
	while (i < n && !set_has(rx->first, s[i]))
		i++;
	return i;
}

/* Advance the threads in cur over s[i] into nxt; true on a match. */
static bool step(const struct rx *rx, const uint16_t *cur, size_t ncur,
		 uint16_t *nxt, size_t *nnxt, const uint8_t *s, size_t n,
		 size_t i)
{
	uint32_t *mark = rx->marks, gen = rx->marks[rx->nprog], pc;
	size_t k;

	for (k = 0; k < ncur; k++) {
		if (!consumes(rx, &rx->prog[cur[k]], s[i]))
			continue;
		pc = cur[k] + 1u;
		if (rx->prog[pc].op > OP_ANY) {
			if (add_thread(rx, nxt, nnxt, pc, s, n, i + 1))
				return true;
		} else if (mark[pc] != gen) {
			/* the common case: no empty moves to follow */
			mark[pc] = gen;
			nxt[(*nnxt)++] = (uint16_t)pc;
		}
	}
	return false;
}

static bool pike(const struct rx *rx, const uint8_t *s, size_t n)
{
	uint16_t *cur = rx->lists[0], *nxt = rx->lists[1], *t;
	size_t ncur = 0, nnxt = 0, i;

	next_generation(rx);
	for (i = 0;; i++) {
		if (ncur == 0 && rx->anchored && i > 0)
			return false;
		if (ncur == 0 && rx->skip && (i = skip_to(rx, s, n, i)) == n)
			return false;
		if ((!rx->anchored || i == 0) &&
		    add_thread(rx, cur, &ncur, 0, s, n, i))
			return true;
		if (i == n)
			return false;
		next_generation(rx);
		nnxt = 0;
		if (step(rx, cur, ncur, nxt, &nnxt, s, n, i))
			return true;
		t = cur, cur = nxt, nxt = t;
		ncur = nnxt;
	}
}

bool rx_search(const struct rx *rx, const uint8_t *s, size_t n)
{
	int r;

	if (rx->nlit && !has_lit(rx, s, n))
		return false;
	if (rx->pure)
		return true;
	if (rx->dfa && (r = rx_dfa_search(rx, s, n)) >= 0)
		return r;
	return pike(rx, s, n);
}
