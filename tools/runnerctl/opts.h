/* opts.h - one command-line parser for every runnerctl command.
 *
 * A command is described once, as data: its name, a one-line summary,
 * its positional arguments and a table of options with their help.  The
 * same table drives parsing, validation of numbers and the text of
 * `runnerctl help COMMAND` / `COMMAND --help`, so a flag cannot exist
 * without being documented.
 *
 * Parsing rules (GNU style): options may come before or after the
 * positional arguments; `--` ends them; `--name=VALUE`, `--name VALUE`,
 * `-x VALUE`, `-xVALUE` and bundled flags (`-rf`) are accepted; a lone
 * `-` is a positional (stdin).  Commands whose positionals are a command
 * line (exec, spawn) set RC_CMD_OPTS_FIRST: the first positional ends
 * the options, so `spawn ls -la` passes -la to ls.
 */
#ifndef RUNNERCTL_OPTS_H
#define RUNNERCTL_OPTS_H

#include <stdbool.h>
#include <stdint.h>

struct rc_conn;
struct rc_args;

/* Returns the process exit status. */
typedef int (*cmd_fn)(struct rc_conn *c, const struct rc_args *a);

/* rc_opt.flags */
#define RC_OPT_NUM 0x1 /* VALUE is an unsigned number; K, M, G suffixes */

struct rc_opt {
	const char *name; /* long name without "--"; NULL: short only */
	char short_name;  /* 0: long only */
	const char *arg;  /* metavar of the value; NULL: a flag */
	const char *help;
	unsigned flags;
};

/* rc_cmd.flags */
#define RC_CMD_OPTS_FIRST 0x1 /* the first positional ends the options */

struct rc_cmd {
	const char *name; /* "exec", "session open" */
	cmd_fn fn;
	const char *synopsis; /* positionals for the usage line */
	const char *summary;  /* one line for the command list */
	const char *details;  /* more paragraphs for help COMMAND, or NULL */
	const struct rc_opt *opts; /* ends with {0}; NULL: none */
	/* Checks the arguments before anything is dialled: 0, or the
	 * usage status (2) after a message (rc_cmd_usage).  May be NULL. */
	int (*check)(const struct rc_args *a);
	int min_pos, max_pos; /* max_pos < 0: no upper bound */
	unsigned flags;
};

struct rc_optval {
	const struct rc_opt *opt;
	const char *val; /* NULL for a flag */
	uint64_t num;	 /* the value, for RC_OPT_NUM */
};

struct rc_args {
	const struct rc_cmd *cmd;
	char **pos; /* positionals, in order */
	int npos;
	struct rc_optval *v; /* options as given, in order */
	int nv;
	bool help; /* --help or -h was given */
};

/* Options every command accepts (where the connection goes). */
extern const struct rc_opt rc_global_opts[];

/* Parse argv (argv[0] is the first word after the command name).
 * 0 on success (a->help set when help was asked for), else prints
 * "runnerctl CMD: why" and a pointer to help on stderr and returns 2.
 * Free a->pos/a->v with rc_args_free. */
int rc_args_parse(const struct rc_cmd *cmd, int argc, char **argv,
		  struct rc_args *a);
void rc_args_free(struct rc_args *a);

/* Whether option NAME (long name, or the one-letter short name) was
 * given.  Naming an option the command does not declare aborts: a typo
 * in a command's code must not pass silently. */
bool opt_flag(const struct rc_args *a, const char *name);
/* The last value given, or def. */
const char *opt_str(const struct rc_args *a, const char *name, const char *def);
uint64_t opt_num(const struct rc_args *a, const char *name, uint64_t def);
/* Repeated options: each value in order.  *it starts at 0; NULL at the
 * end. */
const char *opt_next(const struct rc_args *a, const char *name, int *it);

/* Help for one command (the usage line, options, details) to stdout. */
void rc_cmd_help(const struct rc_cmd *cmd);
/* "usage: runnerctl CMD ..." plus why on stderr; returns 2. */
int rc_cmd_usage(const struct rc_cmd *cmd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif
