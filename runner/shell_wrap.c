/* shell_wrap.c - what one EXEC hands the shell besides the trigger: the
 * command text in the session's memfd, and the CWD/ENV wrapper around it.
 * Text building only; the state machine is shell_exec.c's. */
#include "shell_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* CWD and ENV for one command.
 * The trigger's first line saves what they change and sets them; the
 * second line puts it back before the marker, so RESULT's CWD (read when
 * the marker arrives) is the session's directory again:
 *   __runner="\builtin cd -- ${PWD@Q}"$'\n'"${K@A}"; \builtin export K='v';
 *   \builtin cd -- 'DIR' && \builtin . /proc/self/fd/62
 *   ... \builtin unset K; \builtin eval "$__runner"; \builtin unset __runner
 * (${K@A} is the declare that recreates K, empty if K was unset). */

/* Append s; false when the buffer is full. */
static bool put(char **o, const char *end, const void *s, size_t n)
{
	if ((size_t)(end - *o) < n)
		return false;
	memcpy(*o, s, n);
	*o += n;
	return true;
}

#define PUTS(o, end, lit) put(o, end, lit, sizeof(lit) - 1)

/* Append p as one shell word in single quotes. */
static bool put_quoted(char **o, const char *end, const uint8_t *p, size_t n)
{
	size_t i;
	bool ok = put(o, end, "'", 1);

	for (i = 0; i < n && ok; i++)
		ok = p[i] == '\'' ? put(o, end, "'\\''", 4)
				  : put(o, end, p + i, 1);
	return ok && put(o, end, "'", 1);
}

static bool env_name_ok(const uint8_t *p, size_t k)
{
	size_t i;

	for (i = 0; i < k; i++)
		if (!(p[i] == '_' || (unsigned)((p[i] | 0x20) - 'a') < 26 ||
		      (i && (unsigned)(p[i] - '0') < 10)))
			return false;
	return k > 0;
}

/* Every ENV entry as (0) "$'\\n'"${K@A} (a line of the saved state, empty
 * for an unset K), (1) "; \\builtin export K='V'", (2) " K". */
static int put_env(char **o, const char *end, const uint8_t *p, size_t n,
		   int form)
{
	static const char *const pre[] = {"\"$'\\n'\"${", "; \\builtin export ",
					  " "};
	struct wire_iter it;
	struct wire_field f;
	const uint8_t *eq;
	size_t k;

	wire_iter_init(&it, p, n);
	while (wire_next(&it, &f) > 0) {
		if (f.tag != T_ENV)
			continue;
		eq = memchr(f.val, '=', f.len);
		k = eq ? (size_t)(eq - f.val) : 0;
		if (!env_name_ok(f.val, k))
			return -EINVAL;
		if (!put(o, end, pre[form], strlen(pre[form])) ||
		    !put(o, end, f.val, k) ||
		    (form == 0 && !put(o, end, "@A}", 3)) ||
		    (form == 1 && (!put(o, end, "=", 1) ||
				   !put_quoted(o, end, eq + 1, f.len - k - 1))))
			return -E2BIG;
	}
	return 0;
}

/* ex->wrap from CWD and ENV: NULL when neither is given.  0, or -1
 * after answering the error on s. */
int wrap_build(struct stream *s, struct session *ss, const uint8_t *p, size_t n,
	       const struct wire_field *cwd)
{
	struct exec *ex = &ss->ex;
	struct wire_field env;
	char *o, *end;
	int r = 0;

	if (!cwd->val && wire_find(p, n, T_ENV, &env) <= 0)
		return 0;
	if (ss->flavor != FLAVOR_BASH) {
		stream_error(s, E_UNSUPPORTED, 0,
			     "CWD and ENV need a bash session");
		return -1;
	}
	if (!(ex->wrap = o = malloc(WRAP_MAX))) {
		stream_error_errno(s, ENOMEM, "EXEC");
		return -1;
	}
	end = o + WRAP_MAX - 1;
	if (!PUTS(&o, end, "__runner=\"\\builtin cd -- ${PWD@Q}") ||
	    (r = put_env(&o, end, p, n, 0)) || !PUTS(&o, end, "\"") ||
	    (r = put_env(&o, end, p, n, 1)) || !PUTS(&o, end, ";") ||
	    (cwd->val && (!PUTS(&o, end, " \\builtin cd -- ") ||
			  !put_quoted(&o, end, cwd->val, cwd->len) ||
			  !PUTS(&o, end, " &&"))) ||
	    !PUTS(&o, end, " \0 \\builtin unset") ||
	    (r = put_env(&o, end, p, n, 2)) ||
	    !PUTS(&o, end,
		  "; \\builtin eval \"$__runner\"; \\builtin unset __runner;"))
		r = r ? r : -E2BIG;
	*o = 0;
	if (r) {
		free(ex->wrap);
		ex->wrap = NULL;
	}
	if (r == -EINVAL)
		stream_error(
		    s, E_BAD_REQUEST, 0,
		    "ENV entries are NAME=VALUE, NAME a shell identifier");
	else if (r)
		stream_error(s, E_LIMIT, 0,
			     "CWD and ENV take at most 3 KiB quoted");
	return r ? -1 : 0;
}

int put_command(int fd, const uint8_t *p, size_t n)
{
	size_t off = 0;
	ssize_t w;

	while (off < n) {
		w = pwrite(fd, p + off, n - off, (off_t)off);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		off += (size_t)w;
	}
	return ftruncate(fd, (off_t)n) < 0 ? -errno : 0;
}
