/* runnerctl - the host-side CLI of runner: global options, the command
 * table, help; and the system commands (ping, info, stats, shutdown). */
#include "cmds.h"

#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const struct rc_cmd *const commands[] = {
    &rc_cmd_exec,	  &rc_cmd_exec_wait,	&rc_cmd_shell,
    &rc_cmd_session_open, &rc_cmd_session_list, &rc_cmd_session_close,
    &rc_cmd_interrupt,	  &rc_cmd_cancel,	&rc_cmd_resize,
    &rc_cmd_spawn,	  &rc_cmd_ps,		&rc_cmd_attach,
    &rc_cmd_wait,	  &rc_cmd_stdin,	&rc_cmd_kill,
    &rc_cmd_read,	  &rc_cmd_write,	&rc_cmd_edit,
    &rc_cmd_ls,		  &rc_cmd_stat,		&rc_cmd_mkdir,
    &rc_cmd_rm,		  &rc_cmd_mv,		&rc_cmd_find,
    &rc_cmd_grep,	  &rc_cmd_diff,		&rc_cmd_ping,
    &rc_cmd_info,	  &rc_cmd_stats,	&rc_cmd_shutdown,
};
#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

static const char usage_head[] =
    "usage: runnerctl [--connect TARGET] [--token-file FILE] [--expect-pid PID]\n"
    "                 [--context CTX]\n"
    "                 COMMAND [ARGS]\n"
    "       runnerctl help [COMMAND]    runnerctl --version\n"
    "\n"
    "TARGET: unix:PATH (default $RUNNER_CONNECT, else " RC_DEFAULT_TARGET ")\n"
    "          --expect-pid: the socket's listener must be that pid\n"
    "        cmd:'COMMAND'   speak over a command's stdin/stdout\n"
    "        docker:CTR      = cmd:'${DOCKER:-docker} exec -i CTR /sbin/runner attach'\n"
    "        kubectl:[NS/]POD[:CONTAINER]  ${KUBECTL:-kubectl}, --context CTX\n"
    "        vsock:CID:PORT  fc:UDS_PATH:PORT\n"
    "--token-file FILE: the runner's token, all of FILE but one trailing newline\n"
    "                   (else $RUNNER_TOKEN)\n"
    "\n"
    "commands:\n";

static const char usage_tail[] =
    "\n"
    "Options may come before or after a command's arguments (exec and spawn:\n"
    "before the command line); '--' ends them.  runnerctl help COMMAND lists\n"
    "every option of a command.\n"
    "\n"
    "exit status:\n"
    "  0        success\n"
    "  N        exec, exec-wait, spawn, wait, attach: the command's own exit\n"
    "           status (128+N when signal N ended it)\n"
    "  124      exec --yield: the command is still running (exec-wait)\n"
    "  130      exec, exec-wait, spawn, attach: ^C cancelled the request\n"
    "  1        grep: no line matched; diff: the files differ; and any\n"
    "           protocol error, printed as 'runnerctl: E_CODE: message'\n"
    "  2        usage error; grep and diff: any error\n"
    "  126, 127 spawn: the program could not be executed / was not found\n";

static void print_usage(FILE *fp)
{
	unsigned i;
	int n;

	fputs(usage_head, fp);
	for (i = 0; i < NCOMMANDS; i++) {
		const struct rc_cmd *c = commands[i];
		n = fprintf(fp, "  %s %s", c->name, c->synopsis);
		if (n >= 34)
			n = fprintf(fp, "\n") - 1;
		fprintf(fp, "%*s%s\n", 34 - n, "", c->summary);
	}
	fputs(usage_tail, fp);
}

int cmd_fail(struct rc_conn *c)
{
	fprintf(stderr, "runnerctl: %s\n", c->err);
	return 1;
}

int cmd_usage(const char *msg)
{
	fprintf(stderr, "runnerctl: %s\n", msg);
	return 2;
}

int cmd_list(struct rc_conn *c, uint8_t type, const char *header,
	     void (*row)(const uint8_t *p, size_t n))
{
	struct wire_iter it;
	struct wire_field fl;
	struct rc_frame f;
	struct wire_buf b;

	wb_init(&b, NULL, 0);
	if (rc_call(c, type, &b, &f))
		return cmd_fail(c);
	fputs(header, stdout);
	wire_iter_init(&it, f.p, f.h.len);
	while (wire_next(&it, &fl) > 0)
		if (fl.tag == T_ENTRY)
			row(fl.val, fl.len);
	return 0;
}

/* ---- ^C while following a request ---- */

static volatile sig_atomic_t sigint_seen;
static bool cancel_done;

static void on_sigint(int sig)
{
	(void)sig;
	sigint_seen = 1;
}

void cancel_arm(void)
{
	/* SA_RESETHAND: a second ^C ends runnerctl as usual. */
	struct sigaction sa = {.sa_handler = on_sigint,
			       .sa_flags = SA_RESETHAND};

	sigaction(SIGINT, &sa, NULL);
}

void cancel_poll(struct rc_conn *c, uint32_t id)
{
	if (!sigint_seen || cancel_done)
		return;
	cancel_done = true;
	/* A failed send shows as the connection's end in the next recv. */
	(void)rc_send(c, id, WT_CANCEL, 0, NULL, 0);
}

bool cancel_sent(void)
{
	return cancel_done;
}

/* ---- system commands ---- */

static int ping_run(struct rc_conn *c, const struct rc_args *a)
{
	uint64_t t0, count = opt_num(a, "count", 1), i;
	struct rc_frame f;
	struct wire_buf b;

	wb_init(&b, NULL, 0);
	for (i = 0; i < count; i++) {
		struct timespec x, z;
		clock_gettime(CLOCK_MONOTONIC, &x);
		if (rc_call(c, WT_PING, &b, &f))
			return cmd_fail(c);
		clock_gettime(CLOCK_MONOTONIC, &z);
		t0 = (uint64_t)(z.tv_sec - x.tv_sec) * 1000000000u +
		     (uint64_t)(z.tv_nsec - x.tv_nsec);
		printf("pong from %s: %.1f us\n", c->software,
		       (double)t0 / 1e3);
	}
	return 0;
}

const struct rc_cmd rc_cmd_ping = {
    .name = "ping",
    .fn = ping_run,
    .synopsis = "",
    .summary = "round trip to the runner (prints microseconds)",
    .opts =
	(const struct rc_opt[]){
	    {"count", 'n', "COUNT", "this many round trips (default 1)",
	     RC_OPT_NUM},
	    {0},
	},
    .max_pos = 0,
};

/* Print each field of a RESULT as "name: value"; numbers as decimals. */
static void print_fields(const struct rc_frame *f)
{
	static const struct {
		uint16_t tag;
		const char *name;
		bool str;
	} names[] = {
	    {T_SOFTWARE, "software", true},
	    {T_VERSION, "protocol", false},
	    {T_PID, "pid", false},
	    {T_UID, "uid", false},
	    {T_GID, "gid", false},
	    {T_IS_PID1, "pid1", false},
	    {T_UPTIME_MS, "uptime_ms", false},
	    {T_HARDENING, "hardening", true},
	    {T_LIMIT, "limit", true},
	    {T_PATH, "root", true},
	    {T_RSS, "rss_bytes", false},
	    {T_CONNS, "connections", false},
	    {T_STREAMS, "streams", false},
	    {T_FDS, "fds", false},
	    {T_CHILDREN, "children", false},
	    {T_SESSIONS, "sessions", false},
	    {T_PROCS, "processes", false},
	    {T_GRACE_MS, "grace_ms", false},
	    {T_FEATURE, "feature", true},
	};
	struct wire_iter it;
	struct wire_field fl;
	uint64_t v;
	unsigned i;

	wire_iter_init(&it, f->p, f->h.len);
	while (wire_next(&it, &fl) > 0) {
		for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
			if (names[i].tag == fl.tag)
				break;
		if (i == sizeof(names) / sizeof(names[0]))
			continue;
		if (names[i].str)
			printf("%s: %.*s\n", names[i].name, (int)fl.len,
			       (const char *)fl.val);
		else if (wire_uint(&fl, &v) == 0)
			printf("%s: %" PRIu64 "\n", names[i].name, v);
	}
}

static int simple_call(struct rc_conn *c, uint8_t type, struct wire_buf *b)
{
	struct rc_frame f;

	if (rc_call(c, type, b, &f))
		return cmd_fail(c);
	print_fields(&f);
	return 0;
}

static int info_run(struct rc_conn *c, const struct rc_args *a)
{
	struct wire_buf b;

	(void)a;
	wb_init(&b, NULL, 0);
	return simple_call(c, WT_INFO, &b);
}

const struct rc_cmd rc_cmd_info = {
    .name = "info",
    .fn = info_run,
    .synopsis = "",
    .summary = "the runner's version, limits, hardening",
    .max_pos = 0,
};

static int stats_run(struct rc_conn *c, const struct rc_args *a)
{
	struct wire_buf b;

	(void)a;
	wb_init(&b, NULL, 0);
	return simple_call(c, WT_STATS, &b);
}

const struct rc_cmd rc_cmd_stats = {
    .name = "stats",
    .fn = stats_run,
    .synopsis = "",
    .summary = "memory, connections, streams, fds, children",
    .max_pos = 0,
};

static int shutdown_run(struct rc_conn *c, const struct rc_args *a)
{
	uint8_t buf[16];
	struct wire_buf b;

	wb_init(&b, buf, sizeof(buf));
	if (opt_flag(a, "grace"))
		wb_u32(&b, T_GRACE_MS, (uint32_t)opt_num(a, "grace", 0));
	return simple_call(c, WT_SHUTDOWN, &b);
}

const struct rc_cmd rc_cmd_shutdown = {
    .name = "shutdown",
    .fn = shutdown_run,
    .synopsis = "",
    .summary = "stop the runner (and with it the sandbox)",
    .opts =
	(const struct rc_opt[]){
	    {"grace", 0, "MS",
	     "how long processes get between SIGTERM and SIGKILL", RC_OPT_NUM},
	    {0},
	},
    .max_pos = 0,
};

/* ---- main ---- */

/* How many words of argv name cmd ("session open" is two), else 0. */
static int cmd_words(const struct rc_cmd *cmd, int argc, char **argv)
{
	const char *name = cmd->name, *sp;
	int w = 0;

	for (;;) {
		size_t len = (sp = strchr(name, ' ')) ? (size_t)(sp - name)
						      : strlen(name);
		if (w >= argc || strlen(argv[w]) != len ||
		    strncmp(argv[w], name, len))
			return 0;
		w++;
		if (!sp)
			return w;
		name = sp + 1;
	}
}

static const struct rc_cmd *cmd_lookup(int argc, char **argv, int *words)
{
	unsigned i;

	for (i = 0; i < NCOMMANDS; i++)
		if ((*words = cmd_words(commands[i], argc, argv)) > 0)
			return commands[i];
	return NULL;
}

/* A group word alone ("session"): the commands it starts.  0 if none. */
static int group_list(const char *word, FILE *fp, bool full)
{
	size_t len = strlen(word);
	unsigned i;
	int n = 0;

	for (i = 0; i < NCOMMANDS; i++) {
		const char *name = commands[i]->name;
		if (strncmp(name, word, len) || name[len] != ' ')
			continue;
		if (full) {
			if (n)
				putchar('\n');
			rc_cmd_help(commands[i]);
		} else {
			fprintf(fp, "  runnerctl %s %s\n", name,
				commands[i]->synopsis);
		}
		n++;
	}
	return n;
}

static int help_cmd(int argc, char **argv)
{
	const struct rc_cmd *cmd;
	int words;

	if (argc == 0) {
		print_usage(stdout);
		return 0;
	}
	if ((cmd = cmd_lookup(argc, argv, &words)) && words == argc) {
		rc_cmd_help(cmd);
		return 0;
	}
	if (argc == 1 && group_list(argv[0], stdout, true))
		return 0;
	fprintf(stderr, "runnerctl: no command '%s' (runnerctl help)\n",
		argv[0]);
	return 2;
}

static int run(const struct rc_cmd *cmd, const char *target,
	       const struct rc_token *token, int argc, char **argv)
{
	struct rc_token tokbuf;
	struct rc_args a;
	struct rc_conn c;
	const char *tf;
	int r;

	if ((r = rc_args_parse(cmd, argc, argv, &a)) != 0 || a.help) {
		if (!r)
			rc_cmd_help(cmd);
		rc_args_free(&a);
		return r;
	}
	target = opt_str(&a, "connect", target);
	if ((tf = opt_str(&a, "expect-pid", NULL)))
		setenv("RUNNER_EXPECT_PID", tf, 1); /* as main's --expect-pid */
	if ((tf = opt_str(&a, "context", NULL)))
		setenv("RUNNER_KUBE_CONTEXT", tf, 1); /* as main's --context */
	if ((tf = opt_str(&a, "token-file", NULL))) {
		if (rc_token_load(&tokbuf, tf) < 0) {
			rc_args_free(&a);
			return 2;
		}
		token = &tokbuf;
	}
	if (rc_connect(&c, target, token) < 0) {
		r = cmd_fail(&c);
		rc_close(&c);
		rc_args_free(&a);
		return r;
	}
	r = cmd->fn(&c, &a);
	rc_close(&c);
	rc_args_free(&a);
	return r;
}

int main(int argc, char **argv)
{
	const char *target = getenv("RUNNER_CONNECT");
	struct rc_token tokbuf, *token = NULL;
	const struct rc_cmd *cmd;
	int argi = 1, words;

	if (!target || !*target)
		target = RC_DEFAULT_TARGET;
	for (; argi < argc && argv[argi][0] == '-'; argi++) {
		const char *a = argv[argi];
		if (!strcmp(a, "--connect") && argi + 1 < argc)
			target = argv[++argi];
		else if (!strncmp(a, "--connect=", 10))
			target = a + 10;
		else if (!strcmp(a, "--expect-pid") && argi + 1 < argc)
			setenv("RUNNER_EXPECT_PID", argv[++argi], 1);
		else if (!strcmp(a, "--context") && argi + 1 < argc)
			setenv("RUNNER_KUBE_CONTEXT", argv[++argi], 1);
		else if (!strcmp(a, "--token-file") && argi + 1 < argc) {
			if (rc_token_load(&tokbuf, argv[++argi]) < 0)
				return 2;
			token = &tokbuf;
		} else if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			print_usage(stdout);
			return 0;
		} else if (!strcmp(a, "--version") || !strcmp(a, "-V")) {
			printf("runnerctl " RUNNERCTL_VERSION
			       " (protocol %d)\n",
			       WIRE_VERSION);
			return 0;
		} else {
			fprintf(stderr, "runnerctl: unknown option %s\n", a);
			print_usage(stderr);
			return 2;
		}
	}
	if (argi >= argc) {
		print_usage(stderr);
		return 2;
	}
	if (!strcmp(argv[argi], "help"))
		return help_cmd(argc - argi - 1, argv + argi + 1);
	if (!(cmd = cmd_lookup(argc - argi, argv + argi, &words))) {
		if (group_list(argv[argi], stderr, false)) {
			fprintf(
			    stderr,
			    "runnerctl: '%s' wants one of the commands above\n",
			    argv[argi]);
			return 2;
		}
		fprintf(stderr,
			"runnerctl: unknown command '%s' (runnerctl help)\n",
			argv[argi]);
		return 2;
	}
	return run(cmd, target, token, argc - argi - words,
		   argv + argi + words);
}
