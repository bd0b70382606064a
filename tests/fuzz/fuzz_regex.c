/* link: runner/regex_lex.c runner/regex_parse.c runner/regex_vm.c runner/regex_dfa.c */
/* fuzz_regex.c - libFuzzer target for the ERE matcher (runner/regex.h).
 *
 * Input: one flags byte (RX_ICASE | RX_FIXED in the low bits, 8 for
 * RX_RUST, and SMALL:
 * map every byte into a small ERE alphabet, so that random bytes make
 * dense regular expressions), one pattern length byte, the pattern, then
 * subject lines separated by '\n' (tests/fuzz/make-seeds).  Besides
 * ASan/UBSan/LeakSanitizer findings and hangs, the target traps when:
 *  - rx_compile fails without -EINVAL/-ENOMEM, an unterminated or
 *    multi-line message, or with *out left set; or succeeds with a message;
 *  - a fixed string (RX_FIXED, or a pattern with no metacharacter at all)
 *    disagrees with a plain substring search;
 *  - the same search twice gives two answers (scratch state leaking);
 *  - the lazy DFA and the Pike VM alone (RX_NODFA) disagree.
 * Subjects are capped so a 64k-instruction program stays quick per input.
 */
#include "regex.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define SUBJECT_MAX 512
#define SMALL	    4
#define PAT_ABC	    "ab.()|*+?{}[]^$\\-:"
#define TEXT_ABC    "abAB_ -\n"
#define CHECK(cond)                                                            \
	do {                                                                   \
		if (!(cond))                                                   \
			__builtin_trap();                                      \
	} while (0)

static int fold(int c)
{
	return c >= 'A' && c <= 'Z' ? c + 32 : c;
}

static bool contains(const uint8_t *s, size_t n, const uint8_t *lit, size_t k,
		     bool icase)
{
	size_t i, j;

	if (k == 0)
		return true;
	for (i = 0; i + k <= n; i++) {
		for (j = 0; j < k; j++)
			if (icase ? fold(s[i + j]) != fold(lit[j])
				  : s[i + j] != lit[j])
				break;
		if (j == k)
			return true;
	}
	return false;
}

/* No ERE metacharacter and no newline: the pattern means itself. */
static bool plain(const uint8_t *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strchr(".[]()*+?{}|^$\\\n", p[i]) && p[i])
			return false;
	return n > 0;
}

static void check_compile(int r, const struct rx *rx, const char *err,
			  size_t errlen)
{
	const char *nul = memchr(err, 0, errlen);

	CHECK(nul);
	CHECK(!memchr(err, '\n', (size_t)(nul - err)));
	if (r == 0) {
		CHECK(rx && err[0] == 0);
	} else {
		CHECK(r == -EINVAL || r == -ENOMEM);
		CHECK(!rx && err[0]);
	}
}

/* A copy of data with each byte mapped into SMALL's alphabets. */
static uint8_t *small_copy(const uint8_t *data, size_t size, size_t npat)
{
	uint8_t *out = malloc(size);
	size_t i;

	if (!out)
		abort();
	memcpy(out, data, 2);
	for (i = 2; i < size; i++)
		out[i] =
		    i < 2 + npat
			? (uint8_t)PAT_ABC[data[i] % (sizeof(PAT_ABC) - 1)]
			: (uint8_t)TEXT_ABC[data[i] % (sizeof(TEXT_ABC) - 1)];
	return out;
}

static void run(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *copy;

	if (size < 2)
		return 0;
	if (!(data[0] & SMALL)) {
		run(data, size);
		return 0;
	}
	copy = small_copy(data, size, data[1] < size - 2 ? data[1] : size - 2);
	run(copy, size);
	free(copy);
	return 0;
}

static void run(const uint8_t *data, size_t size)
{
	const uint8_t *pat, *s, *end, *nl;
	struct rx *rx, *vm;
	char err[200];
	size_t npat, n;
	int flags, r;
	bool literal, got;

	flags = (data[0] & (RX_ICASE | RX_FIXED)) | (data[0] & 8 ? RX_RUST : 0);
	npat = data[1] < size - 2 ? data[1] : size - 2;
	pat = data + 2;
	memset(err, 'x', sizeof(err));
	r = rx_compile(&rx, (const char *)pat, npat, flags, err, sizeof(err));
	check_compile(r, rx, err, sizeof(err));
	if (r)
		return;
	if (rx_compile(&vm, (const char *)pat, npat, flags | RX_NODFA, err,
		       sizeof(err)) < 0)
		vm = NULL; /* out of memory: nothing to compare */
	literal = (flags & RX_FIXED) || plain(pat, npat);
	for (s = pat + npat, end = data + size; s <= end; s = nl + 1) {
		nl = memchr(s, '\n', (size_t)(end - s));
		nl = nl ? nl : end;
		n = (size_t)(nl - s) < SUBJECT_MAX ? (size_t)(nl - s)
						   : SUBJECT_MAX;
		got = rx_search(rx, s, n);
		CHECK(got == rx_search(rx, s, n));
		if (vm) /* the lazy DFA and the Pike VM agree */
			CHECK(got == rx_search(vm, s, n));
		if (literal)
			CHECK(got ==
			      contains(s, n, pat, npat, flags & RX_ICASE));
	}
	rx_free(rx);
	rx_free(vm);
}
