/* fs_lines.c - which bytes of a stream belong to lines [from, to].
 * Pure: fed chunk by chunk, so READ never holds more than one buffer. */
#include "fs_internal.h"

#include <string.h>

void line_slice_init(struct line_slice *ls, uint64_t from, uint64_t to)
{
	ls->line = 1;
	ls->from = from ? from : 1;
	ls->to = to;
	ls->mid_line = false;
}

static bool in_range(const struct line_slice *ls)
{
	return ls->line >= ls->from && (!ls->to || ls->line <= ls->to);
}

size_t line_slice_feed(struct line_slice *ls, const uint8_t *p, size_t n,
		       size_t *start)
{
	size_t i = 0, first = n, end = n;
	const uint8_t *nl;

	*start = 0;
	while (i < n) {
		nl = memchr(p + i, '\n', n - i);
		if (in_range(ls)) {
			if (first == n)
				first = i;
			end = nl ? (size_t)(nl - p) + 1 : n;
		}
		if (!nl) {
			ls->mid_line = true;
			break;
		}
		ls->line++;
		ls->mid_line = false;
		i = (size_t)(nl - p) + 1;
	}
	if (first == n)
		return 0;
	*start = first;
	return end - first;
}

bool line_slice_done(const struct line_slice *ls)
{
	return ls->to && ls->line > ls->to;
}

uint64_t line_slice_total(const struct line_slice *ls)
{
	return ls->line - 1 + (ls->mid_line ? 1 : 0);
}
