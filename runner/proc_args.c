/* proc_args.c - SPAWN's request: fields checked in one pass without
 * allocating, then argv, env and cwd copied into one block of C strings;
 * and the environment the child gets. */
#include "child.h"
#include "proc_internal.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

extern char **environ;

/* Single-valued fields; the first of each counts. */
static int parse_flags(struct stream *s, const uint8_t *p, size_t n,
		       struct spawn_args *a)
{
	uint64_t pty, in, bg, follow;
	struct wire_field cwd;
	int r;

	a->rows = 24;
	a->cols = 80;
	if (req_uint(s, p, n, T_ENV_MODE, WENV_INHERIT, 0, WENV_REPLACE,
		     &a->env_mode) < 0 ||
	    req_uint(s, p, n, T_PTY, 0, 0, REQ_ANY, &pty) < 0 ||
	    req_uint(s, p, n, T_PTY_MODE, 0, 0, 1, &a->pty_mode) < 0 ||
	    req_uint(s, p, n, T_STDIN, 0, 0, REQ_ANY, &in) < 0 ||
	    req_uint(s, p, n, T_BACKGROUND, 0, 0, REQ_ANY, &bg) < 0 ||
	    req_uint(s, p, n, T_FOLLOW, 1, 0, REQ_ANY, &follow) < 0 ||
	    req_uint(s, p, n, T_TIMEOUT_MS, 0, 0, UINT32_MAX, &a->timeout_ms) <
		0 ||
	    req_uint(s, p, n, T_OUTPUT_LIMIT, 0, 0, REQ_ANY, &a->output_limit) <
		0 ||
	    req_winsize(s, p, n, &a->rows, &a->cols) < 0 ||
	    (r = req_str(s, p, n, T_CWD, PATH_MAX, &cwd)) < 0)
		return -1;
	a->pty = pty != 0;
	a->stdin_open = in != 0;
	a->background = bg != 0;
	a->follow = follow != 0;
	a->cwd_len = r ? cwd.len + 1 : 0;
	return 0;
}

/* ARGV or ENV: counted and checked; NULL or why it is refused. */
static const char *scan_string(const struct wire_field *f, struct spawn_args *a,
			       size_t *bytes)
{
	const uint8_t *eq;

	if (memchr(f->val, 0, f->len))
		return "ARGV and ENV may not contain NUL";
	*bytes += f->len + 1;
	if (f->tag == T_ARGV) {
		if (a->argc == 0 && f->len == 0)
			return "ARGV[0] (the program) is empty";
		a->argc++;
		a->argv_bytes += f->len + 1;
	} else {
		eq = memchr(f->val, '=', f->len);
		if (!eq || eq == f->val)
			return "ENV entries must be KEY=VALUE, KEY not empty";
		a->nenv++;
	}
	return NULL;
}

/* First pass: counts, sizes and every check that needs no allocation.
 * Unknown tags are ignored. */
static int parse_scan(struct stream *s, const uint8_t *p, size_t n,
		      struct spawn_args *a, size_t *bytes)
{
	struct wire_iter it;
	struct wire_field f;
	const char *why = NULL;
	int code = E_BAD_REQUEST;

	if (parse_flags(s, p, n, a) < 0)
		return -1;
	*bytes = a->cwd_len;
	wire_iter_init(&it, p, n);
	while (!why && wire_next(&it, &f) > 0)
		if (f.tag == T_ARGV || f.tag == T_ENV)
			why = scan_string(&f, a, bytes);
	if (!why && a->argc == 0)
		why = "ARGV is required: the program and its arguments";
	if (!why && (a->argc > PROC_ARGV_MAX || a->nenv > PROC_ENV_MAX)) {
		why = "more than 4096 ARGV or ENV entries";
		code = E_LIMIT;
	}
	if (!why)
		return 0;
	stream_error(s, code, 0, "%s", why);
	return -1;
}

static char *copy_str(char **dst, const struct wire_field *f)
{
	char *s = *dst;

	memcpy(s, f->val, f->len);
	s[f->len] = 0;
	*dst += f->len + 1;
	return s;
}

/* Second pass: argv strings first and contiguous (LIST shows them). */
int proc_parse_spawn(struct stream *s, const uint8_t *p, size_t n,
		     struct spawn_args *a)
{
	struct wire_iter it;
	struct wire_field f;
	size_t bytes, ia = 0, ie = 0;
	char *argstr, *str;

	*a = (struct spawn_args){.follow = true};
	if (parse_scan(s, p, n, a, &bytes) < 0)
		return -1;
	a->block = malloc((a->argc + a->nenv + 2) * sizeof(char *) + bytes);
	if (!a->block) {
		stream_error_errno(s, ENOMEM, "SPAWN");
		return -1;
	}
	a->argv = a->block;
	a->env = a->argv + a->argc + 1;
	argstr = (char *)(a->env + a->nenv + 1);
	str = argstr + a->argv_bytes;
	wire_iter_init(&it, p, n);
	while (wire_next(&it, &f) > 0) {
		if (f.tag == T_ARGV)
			a->argv[ia++] = copy_str(&argstr, &f);
		else if (f.tag == T_ENV)
			a->env[ie++] = copy_str(&str, &f);
	}
	if (a->cwd_len && wire_find(p, n, T_CWD, &f) > 0)
		a->cwd = copy_str(&str, &f);
	a->argv[ia] = NULL;
	a->env[ie] = NULL;
	return 0;
}

/* The child's environment: ours minus what the request overrides, then
 * the request's; or the request's alone.  Points into both, no copies. */
char **proc_build_env(const struct spawn_args *a)
{
	size_t n = 0, i = 0;
	char **out, **e;

	if (a->env_mode == WENV_INHERIT)
		for (e = environ; e && *e; e++)
			n++;
	out = malloc((n + a->nenv + 1) * sizeof(char *));
	if (!out)
		return NULL;
	if (a->env_mode == WENV_INHERIT)
		for (e = environ; e && *e; e++)
			if (env_index(a->env, *e, strcspn(*e, "=")) < 0)
				out[i++] = *e;
	for (e = a->env; *e; e++)
		out[i++] = *e;
	out[i] = NULL;
	return out;
}
