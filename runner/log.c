/* log.c - one line per event on stderr, prefixed so a container log
 * shows who spoke.  Never allocates. */
#include "log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

static int log_level = LOG_INFO; /* set once by main before the loop */

void log_set_level(int level)
{
	log_level = level;
}

int log_parse_level(const char *s)
{
	static const char *const names[] = {"error", "warn", "info", "debug"};
	unsigned i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (!strcasecmp(s, names[i]))
			return (int)i;
	return -EINVAL;
}

void log_msg(int level, const char *fmt, ...)
{
	static const char tag[] = "EWID";
	char line[512];
	int saved = errno, n, m;
	va_list ap;

	if (level > log_level)
		return;
	n = snprintf(line, sizeof(line), "runner[%d] %c: ", (int)getpid(),
		     tag[level & 3]);
	errno = saved; /* keep %m meaningful */
	va_start(ap, fmt);
	m = vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
	va_end(ap);
	if (m < 0)
		m = 0;
	n += m;
	if ((size_t)n > sizeof(line) - 2)
		n = sizeof(line) - 2;
	line[n++] = '\n';
	/* One write so lines from concurrent children do not interleave; a
	 * failing stderr has nowhere to report to. */
	if (write(STDERR_FILENO, line, (size_t)n) < 0)
		(void)0;
	errno = saved;
}
