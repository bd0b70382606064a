/* opts.c - the one option parser of runnerctl, and help from the same
 * tables (see opts.h for the rules). */
#include "opts.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HELP_COL 28 /* where option help text starts */

const struct rc_opt rc_global_opts[] = {
    {"connect", 0, "TARGET", "where the runner is (see runnerctl help)", 0},
    {"token-file", 0, "FILE", "the token: all of FILE but one trailing newline",
     0},
    {"expect-pid", 0, "PID", "unix: the socket's listener must be PID", 0},
    {"context", 0, "CTX", "kubectl: targets: the kubectl context", 0},
    {0},
};

/* The declared option called name (long, or one letter for short). */
static const struct rc_opt *opt_find(const struct rc_cmd *cmd, const char *name,
				     size_t len)
{
	const struct rc_opt *tabs[2] = {cmd->opts, rc_global_opts};
	const struct rc_opt *o;
	int t;

	for (t = 0; t < 2; t++) {
		for (o = tabs[t]; o && (o->name || o->short_name); o++) {
			if (o->name && strlen(o->name) == len &&
			    !strncmp(o->name, name, len))
				return o;
			if (len == 1 && o->short_name == name[0])
				return o;
		}
	}
	return NULL;
}

/* Decimal, with an optional K, M or G (powers of 1024). */
static int parse_num(const char *s, uint64_t *v)
{
	char *end;
	unsigned shift = 0;

	if (*s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	*v = strtoull(s, &end, 10);
	if (errno)
		return -ERANGE;
	if (*end == 'k' || *end == 'K')
		shift = 10, end++;
	else if (*end == 'm' || *end == 'M')
		shift = 20, end++;
	else if (*end == 'g' || *end == 'G')
		shift = 30, end++;
	if (*end == 'i' && shift)
		end++; /* KiB, MiB: the same powers */
	if (*end == 'B' && shift)
		end++;
	if (*end)
		return -EINVAL;
	if (shift && *v > (UINT64_MAX >> shift))
		return -ERANGE;
	*v <<= shift;
	return 0;
}

int rc_cmd_usage(const struct rc_cmd *cmd, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "runnerctl %s: ", cmd->name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr,
		"\nusage: runnerctl %s%s%s%s\nTry 'runnerctl help %s'.\n",
		cmd->name, cmd->opts ? " [OPTIONS]" : "",
		cmd->synopsis && *cmd->synopsis ? " " : "",
		cmd->synopsis ? cmd->synopsis : "", cmd->name);
	return 2;
}

static int add_value(struct rc_args *a, const struct rc_opt *o, const char *val)
{
	struct rc_optval *v = &a->v[a->nv++];

	v->opt = o;
	v->val = val;
	v->num = 0;
	if ((o->flags & RC_OPT_NUM) && parse_num(val, &v->num) < 0)
		return o->name ? rc_cmd_usage(a->cmd,
					      "--%s wants a number, not '%s'",
					      o->name, val)
			       : rc_cmd_usage(a->cmd,
					      "-%c wants a number, not '%s'",
					      o->short_name, val);
	return 0;
}

/* "--name", "--name=value", "--name value". */
static int parse_long(struct rc_args *a, int argc, char **argv, int *i)
{
	const char *s = argv[*i] + 2, *eq = strchr(s, '=');
	size_t len = eq ? (size_t)(eq - s) : strlen(s);
	const struct rc_opt *o = opt_find(a->cmd, s, len);

	if (len == 4 && !strncmp(s, "help", 4) && (!o || !o->arg)) {
		a->help = true;
		return 0;
	}
	if (!o || len == 1)
		return rc_cmd_usage(a->cmd, "unknown option '--%.*s'", (int)len,
				    s);
	if (!o->arg) {
		if (eq)
			return rc_cmd_usage(a->cmd, "--%s takes no value",
					    o->name);
		return add_value(a, o, NULL);
	}
	if (eq)
		return add_value(a, o, eq + 1);
	if (*i + 1 >= argc)
		return rc_cmd_usage(a->cmd, "--%s wants a value (%s)", o->name,
				    o->arg);
	return add_value(a, o, argv[++*i]);
}

/* "-x", "-xVALUE", "-x VALUE", "-abc" (flags bundled). */
static int parse_short(struct rc_args *a, int argc, char **argv, int *i)
{
	const char *s = argv[*i] + 1;
	const struct rc_opt *o;

	for (; *s; s++) {
		o = opt_find(a->cmd, s, 1);
		if (!o && *s == 'h') {
			a->help = true;
			continue;
		}
		if (!o)
			return rc_cmd_usage(
			    a->cmd,
			    "unknown option '-%c' in '%s' (an argument that starts with '-' goes after --)",
			    *s, argv[*i]);
		if (!o->arg) {
			if (add_value(a, o, NULL))
				return 2;
			continue;
		}
		if (s[1])
			return add_value(a, o, s + 1);
		if (*i + 1 >= argc)
			return rc_cmd_usage(a->cmd, "-%c wants a value (%s)",
					    *s, o->arg);
		return add_value(a, o, argv[++*i]);
	}
	return 0;
}

int rc_args_parse(const struct rc_cmd *cmd, int argc, char **argv,
		  struct rc_args *a)
{
	bool opts_done = false;
	size_t nv = 1;
	int i, r;

	memset(a, 0, sizeof(*a));
	a->cmd = cmd;
	/* A word yields one positional, or one value per letter of a
	 * bundle (-rf): at most its length. */
	for (i = 0; i < argc; i++)
		nv += strlen(argv[i]) + 1;
	a->pos = calloc((size_t)argc + 1, sizeof(*a->pos));
	a->v = calloc(nv, sizeof(*a->v));
	if (!a->pos || !a->v) {
		fprintf(stderr, "runnerctl: out of memory\n");
		return 2;
	}
	for (i = 0; i < argc; i++) {
		const char *w = argv[i];

		if (opts_done || w[0] != '-' || !w[1]) {
			a->pos[a->npos++] = argv[i];
			if (cmd->flags & RC_CMD_OPTS_FIRST)
				opts_done = true;
			continue;
		}
		if (!strcmp(w, "--")) {
			opts_done = true;
			continue;
		}
		r = w[1] == '-' ? parse_long(a, argc, argv, &i)
				: parse_short(a, argc, argv, &i);
		if (r)
			return r;
	}
	if (a->help)
		return 0;
	if (a->npos < cmd->min_pos)
		return rc_cmd_usage(cmd, "missing argument");
	if (cmd->max_pos >= 0 && a->npos > cmd->max_pos)
		return rc_cmd_usage(cmd, "unexpected argument '%s'",
				    a->pos[cmd->max_pos]);
	return cmd->check ? cmd->check(a) : 0;
}

void rc_args_free(struct rc_args *a)
{
	free(a->pos);
	free(a->v);
	a->pos = NULL;
	a->v = NULL;
}

static const struct rc_opt *opt_declared(const struct rc_args *a,
					 const char *name)
{
	const struct rc_opt *o = opt_find(a->cmd, name, strlen(name));

	if (!o) {
		fprintf(stderr, "runnerctl: bug: %s has no option %s\n",
			a->cmd->name, name);
		abort();
	}
	return o;
}

/* The index of the last value of name, or -1. */
static int opt_last(const struct rc_args *a, const char *name)
{
	const struct rc_opt *o = opt_declared(a, name);
	int i;

	for (i = a->nv - 1; i >= 0; i--)
		if (a->v[i].opt == o)
			return i;
	return -1;
}

bool opt_flag(const struct rc_args *a, const char *name)
{
	return opt_last(a, name) >= 0;
}

const char *opt_str(const struct rc_args *a, const char *name, const char *def)
{
	int i = opt_last(a, name);

	return i < 0 ? def : a->v[i].val;
}

uint64_t opt_num(const struct rc_args *a, const char *name, uint64_t def)
{
	int i = opt_last(a, name);

	return i < 0 ? def : a->v[i].num;
}

const char *opt_next(const struct rc_args *a, const char *name, int *it)
{
	const struct rc_opt *o = opt_declared(a, name);

	for (; *it < a->nv; ++*it)
		if (a->v[*it].opt == o)
			return a->v[(*it)++].val;
	return NULL;
}

/* ---- help ---- */

/* Text, each line after the first indented to col. */
static void print_indented(const char *text, int col)
{
	for (; *text; text++) {
		putchar(*text);
		if (*text == '\n' && text[1])
			printf("%*s", col, "");
	}
	putchar('\n');
}

static void print_opt(const struct rc_opt *o)
{
	char left[96];
	int n;

	n = snprintf(
	    left, sizeof(left), "  %c%c%s%s%s%s%s", o->short_name ? '-' : ' ',
	    o->short_name ? o->short_name : ' ',
	    o->short_name && o->name ? ", " : "  ", o->name ? "--" : "",
	    o->name ? o->name : "", o->arg ? " " : "", o->arg ? o->arg : "");
	if (n >= HELP_COL - 1)
		printf("%s\n%*s", left, HELP_COL, "");
	else
		printf("%-*s", HELP_COL, left);
	print_indented(o->help, HELP_COL);
}

void rc_cmd_help(const struct rc_cmd *cmd)
{
	const struct rc_opt *o;

	printf("usage: runnerctl %s%s%s%s\n\n%s\n", cmd->name,
	       cmd->opts ? " [OPTIONS]" : "",
	       cmd->synopsis && *cmd->synopsis ? " " : "",
	       cmd->synopsis ? cmd->synopsis : "", cmd->summary);
	if (cmd->opts) {
		printf("\noptions:\n");
		for (o = cmd->opts; o->name || o->short_name; o++)
			print_opt(o);
	}
	if (cmd->details)
		printf("\n%s", cmd->details);
	printf(
	    "\n%s; '--' ends them.\nEvery command also takes --connect, --token-file, --expect-pid and --context.\n",
	    cmd->flags & RC_CMD_OPTS_FIRST
		? "Options come before the command line"
		: "Options may come before or after the arguments");
}
