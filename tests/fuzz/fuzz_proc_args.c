/* link: runner/proc_args.c runner/req.c runner/child.c */
/* fuzz_proc_args.c - libFuzzer target for SPAWN's field parser
 * (runner/proc_args.c): any payload a client can send.
 *
 * The input is the request payload (TLV).  stream_error is replaced here
 * by a recorder, so a refusal is seen without a connection.
 *
 * Checks, beyond ASan/UBSan/LSan:
 *  - a refusal is answered exactly once and leaves no block;
 *  - an acceptance answers nothing, and argv, env and cwd are exactly the
 *    ARGV and ENV fields in order and the first CWD (PROTOCOL §4),
 *    NUL-terminated, with ENV entries KEY=VALUE and ROWS/COLS 1..65535;
 *  - proc_build_env with ENV_MODE replace is the request's env alone;
 *    with inherit it holds every request entry once and no inherited
 *    entry of a key the request sets.
 */
#include "proc_internal.h"

#include <stdlib.h>
#include <string.h>

#define CHECK(cond)                                                            \
	do {                                                                   \
		if (!(cond))                                                   \
			__builtin_trap();                                      \
	} while (0)

static int answered;

void stream_error(struct stream *s, int code, int err, const char *fmt, ...)
{
	(void)s;
	(void)err;
	(void)fmt;
	CHECK(code == E_BAD_REQUEST || code == E_LIMIT || code == E_IO);
	answered++;
}

void stream_error_errno(struct stream *s, int err, const char *what)
{
	(void)s;
	(void)err;
	(void)what;
	answered++;
}

static bool same(const char *s, const struct wire_field *f)
{
	return strlen(s) == f->len && !memcmp(s, f->val, f->len);
}

static void check_fields(const struct spawn_args *a, const uint8_t *p, size_t n)
{
	const struct wire_field *cwd = NULL;
	struct wire_iter it;
	struct wire_field f, first;
	size_t ia = 0, ie = 0;

	wire_iter_init(&it, p, n);
	while (wire_next(&it, &f) > 0) {
		if (f.tag == T_ARGV)
			CHECK(ia < a->argc && same(a->argv[ia++], &f));
		else if (f.tag == T_ENV)
			CHECK(ie < a->nenv && same(a->env[ie++], &f));
		else if (f.tag == T_CWD && !cwd)
			first = f, cwd = &first;
	}
	CHECK(ia == a->argc && a->argv[ia] == NULL);
	CHECK(ie == a->nenv && a->env[ie] == NULL);
	CHECK(cwd ? a->cwd && same(a->cwd, cwd) : !a->cwd);
	for (ie = 0; ie < a->nenv; ie++)
		CHECK(strchr(a->env[ie], '=') > a->env[ie]);
	CHECK(a->rows >= 1 && a->cols >= 1);
}

static size_t key_len(const char *e)
{
	return strcspn(e, "=");
}

static void check_env(const struct spawn_args *a)
{
	char **env = proc_build_env(a), **e;
	size_t i, mine = 0;

	CHECK(env);
	for (e = env; *e; e++) {
		for (i = 0; i < a->nenv; i++)
			if (*e == a->env[i])
				break;
		if (i < a->nenv) {
			mine++;
			continue;
		}
		CHECK(a->env_mode == WENV_INHERIT);
		/* An inherited entry: the request must not set its key. */
		for (i = 0; i < a->nenv; i++)
			CHECK(key_len(*e) != key_len(a->env[i]) ||
			      memcmp(*e, a->env[i], key_len(*e)));
	}
	CHECK(mine == a->nenv);
	free(env);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool ready;
	struct spawn_args a;
	int r;

	if (!ready) {
		/* Something to inherit, and to override. */
		setenv("PATH", "/usr/bin:/bin", 1);
		setenv("A", "1", 1);
		ready = true;
	}
	answered = 0;
	r = proc_parse_spawn(NULL, data, size, &a);
	if (r < 0) {
		CHECK(r == -1 && answered == 1);
		CHECK(a.block == NULL);
		return 0;
	}
	CHECK(r == 0 && answered == 0 && a.block);
	check_fields(&a, data, size);
	check_env(&a);
	free(a.block);
	return 0;
}
