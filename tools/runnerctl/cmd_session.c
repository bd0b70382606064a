/* cmd_session.c - runnerctl session open/list/close, and interrupt,
 * cancel and resize of the command a session runs. */
#include "cmds.h"

#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define REQ_MAX 65536

static const struct rc_opt session_opt[] = {
    {"session", 0, "NAME", "the session (default main)", 0},
    {0},
};

static int session_call(struct rc_conn *c, uint8_t type, struct wire_buf *b)
{
	struct rc_frame f;

	return rc_call(c, type, b, &f) ? cmd_fail(c) : 0;
}

/* ---- session open ---- */

static int open_run(struct rc_conn *c, const struct rc_args *a)
{
	static uint8_t buf[REQ_MAX];
	struct wire_buf b;
	const char *v;
	int it = 0;

	wb_init(&b, buf, sizeof(buf));
	wb_str(&b, T_SESSION, a->pos[0]);
	if ((v = opt_str(a, "shell", NULL)))
		wb_str(&b, T_SHELL, v);
	if ((v = opt_str(a, "cwd", NULL)))
		wb_str(&b, T_CWD, v);
	while ((v = opt_next(a, "env", &it)))
		wb_str(&b, T_ENV, v);
	if (opt_flag(a, "login"))
		wb_u8(&b, T_LOGIN, 1);
	if (opt_flag(a, "rows"))
		wb_u16(&b, T_ROWS, (uint16_t)opt_num(a, "rows", 24));
	if (opt_flag(a, "cols"))
		wb_u16(&b, T_COLS, (uint16_t)opt_num(a, "cols", 80));
	return session_call(c, WT_SHELL_OPEN, &b);
}

const struct rc_cmd rc_cmd_session_open = {
    .name = "session open",
    .fn = open_run,
    .synopsis = "NAME",
    .summary = "start a new shell session NAME",
    .details =
	"NAME: 1..64 bytes, no spaces, controls or '/'.  Use it with exec --session\nNAME; it lives until session close or the runner stops.\n"
	"\nexit status: 0; 1 with E_EXISTS (the name is taken), E_LIMIT (too many\nsessions: the runner's --max-sessions), E_EXEC (the shell or the\ndirectory is missing).\n",
    .opts =
	(const struct rc_opt[]){
	    {"cwd", 0, "DIR", "starting directory (default $HOME)", 0},
	    {"env", 0, "K=V", "set a variable (repeat for more)", 0},
	    {"login", 0, NULL, "a login shell: read the profile files", 0},
	    {"shell", 0, "SHELL",
	     "the shell, words split at spaces\n"
	     "(default the runner's --shell, else bash, else sh)",
	     0},
	    {"rows", 0, "N", "terminal rows (default 24)", RC_OPT_NUM},
	    {"cols", 0, "N", "terminal columns (default 80)", RC_OPT_NUM},
	    {0},
	},
    .min_pos = 1,
    .max_pos = 1,
};

/* ---- session list ---- */

static void list_entry(const uint8_t *p, size_t n)
{
	struct wire_field name = {0}, cwd = {0}, shell = {0};
	struct wire_iter it;
	struct wire_field fl;
	uint64_t pid = 0, busy = 0;

	wire_iter_init(&it, p, n);
	while (wire_next(&it, &fl) > 0) {
		if (fl.tag == T_SESSION)
			name = fl;
		else if (fl.tag == T_CWD)
			cwd = fl;
		else if (fl.tag == T_SHELL)
			shell = fl;
		else if (fl.tag == T_SHELL_PID)
			wire_uint(&fl, &pid);
		else if (fl.tag == T_BUSY)
			wire_uint(&fl, &busy);
	}
	printf("%-16.*s %-7" PRIu64 " %-5s %.*s%s%.*s\n", (int)name.len,
	       (const char *)name.val, pid, busy ? "busy" : "idle",
	       (int)cwd.len, (const char *)cwd.val, shell.len ? "  " : "",
	       (int)shell.len, (const char *)shell.val);
}

static int list_run(struct rc_conn *c, const struct rc_args *a)
{
	char header[80];

	(void)a;
	snprintf(header, sizeof(header), "%-16s %-7s %-5s %s\n", "SESSION",
		 "PID", "STATE", "CWD");
	return cmd_list(c, WT_SHELL_LIST, header, list_entry);
}

const struct rc_cmd rc_cmd_session_list = {
    .name = "session list",
    .fn = list_run,
    .synopsis = "",
    .summary = "the sessions: pid, idle or busy, directory",
    .details =
	"PID is 0 while a session has no shell (it starts at the next exec).\nThe shell is shown after the directory when one was chosen.\n",
    .max_pos = 0,
};

/* ---- session close ---- */

static int close_run(struct rc_conn *c, const struct rc_args *a)
{
	uint8_t buf[256];
	struct wire_buf b;

	wb_init(&b, buf, sizeof(buf));
	wb_str(&b, T_SESSION, a->pos[0]);
	return session_call(c, WT_SHELL_CLOSE, &b);
}

const struct rc_cmd rc_cmd_session_close = {
    .name = "session close",
    .fn = close_run,
    .synopsis = "NAME",
    .summary = "end a session (its shell and jobs killed)",
    .details =
	"A command running there ends with E_CANCELLED.\n"
	"\nexit status: 0; 1 with E_NOT_FOUND when there is no such session.\n",
    .min_pos = 1,
    .max_pos = 1,
};

/* ---- interrupt, cancel ---- */

/* --grace as GRACE_MS: at most UINT32_MAX. */
static uint32_t grace_ms(const struct rc_args *a)
{
	uint64_t v = opt_num(a, "grace", 1000);

	return v > UINT32_MAX ? UINT32_MAX : (uint32_t)v;
}

/* SHELL_SIGNAL: 1 if a command took it, 0 if the session runs none
 * (the runner then sends nothing), or a negated exit status. */
static int send_signal(struct rc_conn *c, const char *session, int sig,
		       const struct rc_args *cancel)
{
	uint8_t buf[256];
	struct wire_field fl;
	struct rc_frame f;
	struct wire_buf b;
	uint64_t busy = 0;

	wb_init(&b, buf, sizeof(buf));
	wb_str(&b, T_SESSION, session);
	if (cancel) {
		wb_u8(&b, T_CANCEL, 1);
		if (opt_flag(cancel, "grace"))
			wb_u32(&b, T_GRACE_MS, grace_ms(cancel));
	} else {
		wb_u32(&b, T_SIGNAL, (uint32_t)sig);
	}
	if (rc_call(c, WT_SHELL_SIGNAL, &b, &f))
		return -cmd_fail(c);
	if (wire_find(f.p, f.h.len, T_BUSY, &fl) > 0)
		wire_uint(&fl, &busy);
	if (!busy)
		fprintf(stderr, "runnerctl: session %s runs no command\n",
			session);
	return busy != 0;
}

static int interrupt_run(struct rc_conn *c, const struct rc_args *a)
{
	int r = send_signal(c, opt_str(a, "session", "main"), SIGINT, NULL);

	return r < 0 ? -r : 0;
}

const struct rc_cmd rc_cmd_interrupt = {
    .name = "interrupt",
    .fn = interrupt_run,
    .synopsis = "",
    .summary = "^C for the command a session runs (SIGINT)",
    .details =
	"SIGINT goes to the foreground process group of the session's terminal:\nthe running command, from any client.  When the session runs none,\nnothing is signalled (a note on stderr).\n"
	"\nexit status: 0; 1 with E_NOT_FOUND when there is no such session.\n",
    .opts = session_opt,
    .max_pos = 0,
};

/* Whether session runs a command now: 1 busy, 0 idle, else exit status
 * (negated) of a failed SHELL_LIST. */
static int session_busy(struct rc_conn *c, const char *session)
{
	struct wire_iter it;
	struct wire_field fl, nf;
	struct rc_frame f;
	struct wire_buf b;
	uint64_t busy = 0;

	wb_init(&b, NULL, 0);
	if (rc_call(c, WT_SHELL_LIST, &b, &f))
		return -cmd_fail(c);
	wire_iter_init(&it, f.p, f.h.len);
	while (wire_next(&it, &fl) > 0) {
		if (fl.tag != T_ENTRY ||
		    wire_find(fl.val, fl.len, T_SESSION, &nf) <= 0 ||
		    nf.len != strlen(session) ||
		    memcmp(nf.val, session, nf.len))
			continue;
		if (wire_find(fl.val, fl.len, T_BUSY, &nf) > 0)
			wire_uint(&nf, &busy);
		return busy != 0;
	}
	snprintf(c->err, sizeof(c->err), "%s: no session %s",
		 wire_err_name(E_NOT_FOUND), session);
	return -cmd_fail(c);
}

/* Poll until the session is idle or ms pass: 0 idle, 1 still busy, or
 * a negated exit status.  Only observes: the runner runs the ladder. */
static int wait_idle(struct rc_conn *c, const char *session, uint64_t ms)
{
	struct timespec pause = {0, 20 * 1000000};
	uint64_t waited = 0;
	int r;

	while ((r = session_busy(c, session)) == 1 && waited < ms) {
		nanosleep(&pause, NULL);
		waited += 20;
	}
	return r;
}

static int cancel_run(struct rc_conn *c, const struct rc_args *a)
{
	const char *session = opt_str(a, "session", "main");
	int r = send_signal(c, session, 0, a);

	if (r <= 0)
		return -r;
	/* The ladder takes the grace, then up to 2 s (SIGKILL to the
	 * command, then to a shell that still does not stop). */
	if ((r = wait_idle(c, session, grace_ms(a) + 5000ull)) < 0)
		return -r;
	if (r) {
		fprintf(stderr, "runnerctl: session %s is still busy\n",
			session);
		return 1;
	}
	return 0;
}

const struct rc_cmd rc_cmd_cancel = {
    .name = "cancel",
    .fn = cancel_run,
    .synopsis = "",
    .summary = "stop a session's command: SIGINT, then SIGKILL",
    .details =
	"The runner runs the CANCEL ladder on the command, from any client: SIGINT,\nthen after --grace SIGKILL to its foreground process group; the shell\nsurvives.  Returns once the session is idle.  When the session runs no\ncommand nothing is signalled (a note on stderr).\n"
	"\nexit status: 0 the session is idle; 1 with E_NOT_FOUND (no such session),\nor when it is still busy 5 s after the grace.\n",
    .opts =
	(const struct rc_opt[]){
	    {"session", 0, "NAME", "the session (default main)", 0},
	    {"grace", 0, "MS", "between SIGINT and SIGKILL (default 1000)",
	     RC_OPT_NUM},
	    {0},
	},
    .max_pos = 0,
};

/* ---- resize ---- */

/* ROWS or COLS: 1..65535, else 0. */
static uint16_t dim_of(const char *s)
{
	char *end;
	unsigned long v = strtoul(s, &end, 10);

	return *end || v > 65535 ? 0 : (uint16_t)v;
}

/* The size as given: ROWS COLS, or --rows/--cols ("" when absent). */
static const char *dim_arg(const struct rc_args *a, int i)
{
	if (a->npos == 2)
		return a->pos[i];
	return opt_str(a, i ? "cols" : "rows", "");
}

static int resize_check(const struct rc_args *a)
{
	int i;

	if (a->npos == 1)
		return rc_cmd_usage(a->cmd,
				    "ROWS and COLS, or --rows and --cols");
	for (i = 0; i < 2; i++)
		if (!dim_of(dim_arg(a, i)))
			return rc_cmd_usage(
			    a->cmd, "ROWS and COLS are 1..65535, not '%s'",
			    dim_arg(a, i));
	return 0;
}

static int resize_run(struct rc_conn *c, const struct rc_args *a)
{
	uint8_t buf[256];
	struct wire_buf b;

	wb_init(&b, buf, sizeof(buf));
	wb_str(&b, T_SESSION, opt_str(a, "session", "main"));
	wb_u16(&b, T_ROWS, dim_of(dim_arg(a, 0)));
	wb_u16(&b, T_COLS, dim_of(dim_arg(a, 1)));
	return session_call(c, WT_SHELL_RESIZE, &b);
}

const struct rc_cmd rc_cmd_resize = {
    .name = "resize",
    .fn = resize_run,
    .synopsis = "ROWS COLS",
    .summary = "set the size of a session's terminal",
    .details =
	"The command running there gets SIGWINCH; the size stays for later commands.\n",
    .opts =
	(const struct rc_opt[]){
	    {"session", 0, "NAME", "the session (default main)", 0},
	    {"rows", 0, "N", "rows (instead of the ROWS argument)", 0},
	    {"cols", 0, "N", "columns (instead of the COLS argument)", 0},
	    {0},
	},
    .check = resize_check,
    .max_pos = 2,
};
