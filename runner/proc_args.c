/* proc_args.c - SPAWN's request: fields checked in one pass without
 * allocating, then argv, env and cwd copied into one block of C strings;
 * and the environment the child gets. */
#include "proc_internal.h"

#include <stdlib.h>
#include <string.h>

extern char **environ;

static int bad(struct stream *s, int code, const char *msg)
{
	stream_error(s, code, 0, "%s", msg);
	return -1;
}

static bool is_flag(uint16_t tag)
{
	switch (tag) {
	case T_ENV_MODE:
	case T_PTY:
	case T_STDIN:
	case T_BACKGROUND:
	case T_FOLLOW:
	case T_TIMEOUT_MS:
	case T_OUTPUT_LIMIT:
	case T_ROWS:
	case T_COLS: return true;
	}
	return false;
}

static int parse_flag(const struct wire_field *f, struct spawn_args *a)
{
	uint64_t v;

	if (wire_uint(f, &v) < 0)
		return -1;
	switch (f->tag) {
	case T_ENV_MODE: a->env_mode = v; break;
	case T_PTY: a->pty = v != 0; break;
	case T_STDIN: a->stdin_open = v != 0; break;
	case T_BACKGROUND: a->background = v != 0; break;
	case T_FOLLOW: a->follow = v != 0; break;
	case T_TIMEOUT_MS: a->timeout_ms = v; break;
	case T_OUTPUT_LIMIT: a->output_limit = v; break;
	case T_ROWS: a->rows = v; break;
	case T_COLS: a->cols = v; break;
	}
	return 0;
}

/* ARGV, ENV or CWD: counted and checked; NULL or why it is refused. */
static const char *scan_string(const struct wire_field *f, struct spawn_args *a,
			       size_t *bytes)
{
	const uint8_t *eq;

	if (memchr(f->val, 0, f->len))
		return "ARGV, ENV and CWD may not contain NUL";
	*bytes += f->len + 1;
	if (f->tag == T_ARGV) {
		if (a->argc == 0 && f->len == 0)
			return "ARGV[0] (the program) is empty";
		a->argc++;
		a->argv_bytes += f->len + 1;
	} else if (f->tag == T_ENV) {
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
	const char *why;

	wire_iter_init(&it, p, n);
	while (wire_next(&it, &f) > 0) {
		if (f.tag == T_ARGV || f.tag == T_ENV || f.tag == T_CWD) {
			if ((why = scan_string(&f, a, bytes)))
				return bad(s, E_BAD_REQUEST, why);
		} else if (is_flag(f.tag) && parse_flag(&f, a) < 0) {
			return bad(s, E_BAD_REQUEST, "malformed integer field");
		}
	}
	if (a->argc == 0)
		return bad(s, E_BAD_REQUEST,
			   "ARGV is required: the program and its arguments");
	if (a->argc > PROC_ARGV_MAX || a->nenv > PROC_ENV_MAX)
		return bad(s, E_LIMIT, "more than 4096 ARGV or ENV entries");
	if (a->env_mode > WENV_REPLACE)
		return bad(s, E_BAD_REQUEST, "ENV_MODE must be 0 or 1");
	if (a->rows > 0xffff || a->cols > 0xffff)
		return bad(s, E_BAD_REQUEST, "ROWS and COLS are u16");
	return 0;
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
	size_t bytes = 0, ia = 0, ie = 0;
	char *argstr, *str;

	*a = (struct spawn_args){.follow = true};
	if (parse_scan(s, p, n, a, &bytes) < 0)
		return -1;
	a->block = malloc((a->argc + a->nenv + 2) * sizeof(char *) + bytes);
	if (!a->block)
		return bad(s, E_IO, "out of memory");
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
		else if (f.tag == T_CWD)
			a->cwd = copy_str(&str, &f);
	}
	a->argv[ia] = NULL;
	a->env[ie] = NULL;
	return 0;
}

static bool env_overridden(const char *e, char **env)
{
	size_t klen = strcspn(e, "=");

	for (; *env; env++)
		if (!strncmp(*env, e, klen) && (*env)[klen] == '=')
			return true;
	return false;
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
			if (!env_overridden(*e, a->env))
				out[i++] = *e;
	for (e = a->env; *e; e++)
		out[i++] = *e;
	out[i] = NULL;
	return out;
}
