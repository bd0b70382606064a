/* rx_oracle.c - runs runner/regex.h's matcher over records on stdin for
 * test_regex_oracle.py, which compares the answers with GNU grep -E.
 *
 * Input, one item a line:  P<pattern> (I<pattern> for RX_ICASE, R for
 * RX_RUST, Q for both), then
 * S<subject> lines, then a line "=".  Output, one line per record: "E " and
 * the compile error, or one '1'/'0' per subject (matches or not).
 *
 * The matcher is included, not linked, so probes.mk can build this like
 * every other probe: one source file, static musl.
 */
#include "../../../runner/regex_lex.c"
#include "../../../runner/regex_parse.c"
#include "../../../runner/regex_vm.c"
#include "../../../runner/regex_dfa.c"

#include <stdio.h>

#define LINE_MAX_LEN 65536

int main(void)
{
	static char line[LINE_MAX_LEN], pat[LINE_MAX_LEN], res[LINE_MAX_LEN];
	char err[256];
	struct rx *rx = NULL;
	size_t len, npat = 0, nres = 0;
	int flags = 0, r = 0;

	while (fgets(line, sizeof(line), stdin)) {
		len = strlen(line);
		if (len && line[len - 1] == '\n')
			line[--len] = 0;
		if (len && strchr("PIRQ", line[0])) {
			/* R and Q: RX_RUST, Q and I: RX_ICASE */
			flags = (strchr("IQ", line[0]) ? RX_ICASE : 0) |
				(strchr("RQ", line[0]) ? RX_RUST : 0);
			npat = len - 1;
			memcpy(pat, line + 1, npat);
			r = rx_compile(&rx, pat, npat, flags, err, sizeof(err));
			nres = 0;
		} else if (len && line[0] == 'S') {
			if (!r && nres < sizeof(res) - 1)
				res[nres++] =
				    rx_search(rx, (uint8_t *)line + 1, len - 1)
					? '1'
					: '0';
		} else if (len == 1 && line[0] == '=') {
			if (r)
				printf("E %s\n", err);
			else
				printf("%.*s\n", (int)nres, res);
			rx_free(rx);
			rx = NULL;
			r = 0;
			fflush(stdout);
		}
	}
	rx_free(rx);
	return 0;
}
