/* cmd_proc.c - runnerctl spawn, ps, attach, kill. */
#include "cmds.h"

#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

/* stdin: bytes per PROC_STDIN request. */
#define STDIN_CHUNK 65536

struct follow {
	struct rc_conn *c;
	uint32_t id;
};

/* Output of a followed process (rc_follow): DATA to our stdout/stderr,
 * drop notices to stderr.  RC_CONTINUE while the stream is open, else the
 * exit status to pass through (the process's, or 1/126/127 for an
 * ERROR). */
static int follow_frame(void *ctx, const struct rc_frame *f)
{
	struct follow *x = ctx;
	const uint8_t *d;
	uint64_t off, ev;
	uint8_t ch;
	size_t n;
	int code;

	if (!f)
		cancel_poll(x->c, x->id);
	if (!f || f->h.stream != x->id)
		return RC_CONTINUE;
	switch (f->h.type) {
	case WT_DATA:
		if (wire_data_decode(f->p, f->h.len, &ch, &off, &d, &n) == 0)
			/* A failed write: our reader left; the process is
			 * theirs to finish. */
			(void)rc_write_all(ch == WCH_STDERR ? 2 : 1, d, n);
		return RC_CONTINUE;
	case WT_EVENT:
		ev = rc_field_uint(f, T_EVENT, 0);
		if (ev == EV_DROPPED)
			fprintf(stderr,
				"runnerctl: %" PRIu64
				" bytes of channel %" PRIu64
				" were dropped (ring buffer)\n",
				rc_field_uint(f, T_DROPPED, 0),
				rc_field_uint(f, T_CHANNEL, 0));
		return RC_CONTINUE;
	case WT_RESULT:
		if (rc_field_uint(f, T_STATE, WPS_EXITED) != WPS_EXITED)
			return 0;
		return (int)(rc_field_uint(f, T_EXIT_STATUS, 0) & 0xff);
	case WT_ERROR:
		code = rc_error_of(x->c, f);
		/* Our ^C became a CANCEL: end as a shell's ^C does. */
		if (code == E_CANCELLED && cancel_sent())
			return 130;
		cmd_fail(x->c);
		/* As a shell says it: not found 127, not executable 126. */
		if (code == E_EXEC)
			return rc_field_uint(f, T_ERRNO, 0) == ENOENT ? 127
								      : 126;
		return 1;
	}
	return RC_CONTINUE;
}

/* Frames until the stream ends, stdin forwarded when asked. */
static int follow(struct rc_conn *c, uint32_t id, bool with_stdin)
{
	struct follow x = {c, id};
	int r = rc_follow(c, id, with_stdin ? 0 : -1, follow_frame, &x);

	return r < 0 ? cmd_fail(c) : r;
}

/* A PTY process on our terminal: its size, and our terminal raw so keys
 * (^C included) reach the process, not us.  Restored by the caller. */
static bool tty_raw(struct wire_buf *b, struct termios *saved)
{
	struct winsize ws;
	struct termios raw;

	if (!isatty(0) || tcgetattr(0, saved) < 0)
		return false;
	if (ioctl(0, TIOCGWINSZ, &ws) == 0 && ws.ws_row && ws.ws_col) {
		wb_u16(b, T_ROWS, ws.ws_row);
		wb_u16(b, T_COLS, ws.ws_col);
	}
	raw = *saved;
	cfmakeraw(&raw);
	return tcsetattr(0, TCSADRAIN, &raw) == 0;
}

static int spawn_follow(struct rc_conn *c, struct wire_buf *b, bool pty)
{
	struct termios saved;
	bool raw = pty && tty_raw(b, &saved);
	uint32_t id = rc_new_stream(c);
	int r;

	if (!raw)
		cancel_arm(); /* raw: ^C is a byte for the process */
	if (rc_send_fields(c, id, WT_SPAWN, b) < 0)
		r = cmd_fail(c);
	else
		r = follow(c, id, true);
	if (raw)
		tcsetattr(0, TCSADRAIN, &saved);
	return r;
}

static int spawn_run(struct rc_conn *c, const struct rc_args *a)
{
	static uint8_t buf[1 << 20];
	bool bg = opt_flag(a, "bg"), pty = opt_flag(a, "pty");
	struct wire_buf b;
	struct rc_frame f;
	const char *v;
	int i, it = 0;

	wb_init(&b, buf, sizeof(buf));
	if ((v = opt_str(a, "cwd", NULL)))
		wb_str(&b, T_CWD, v);
	while ((v = opt_next(a, "env", &it)))
		wb_str(&b, T_ENV, v);
	if (opt_flag(a, "clean-env"))
		wb_u8(&b, T_ENV_MODE, 1);
	if (opt_flag(a, "timeout"))
		wb_u32(&b, T_TIMEOUT_MS, (uint32_t)opt_num(a, "timeout", 0));
	if (opt_flag(a, "output-limit"))
		wb_u64(&b, T_OUTPUT_LIMIT, opt_num(a, "output-limit", 0));
	for (i = 0; i < a->npos; i++)
		wb_str(&b, T_ARGV, a->pos[i]);
	wb_u8(&b, T_STDIN, !bg || opt_flag(a, "stdin"));
	wb_u8(&b, T_PTY, pty);
	if (bg) {
		wb_u8(&b, T_BACKGROUND, 1);
		wb_u8(&b, T_FOLLOW, 0);
		if (rc_call(c, WT_SPAWN, &b, &f))
			return cmd_fail(c);
		printf("%" PRIu64 "\n", rc_field_uint(&f, T_PID, 0));
		return 0;
	}
	return spawn_follow(c, &b, pty);
}

const struct rc_cmd rc_cmd_spawn = {
    .name = "spawn",
    .fn = spawn_run,
    .synopsis = "[--] PROGRAM [ARGS...]",
    .summary = "run a program directly, output as it comes",
    .details =
	"The program gets our stdin (end of file at its end); its stdout and\n"
	"stderr come back separately (one terminal with --pty).  Options end\n"
	"at PROGRAM: `spawn ls -la` passes -la to ls.  With --bg the runner\n"
	"keeps the process and its output (a ring per channel) after we\n"
	"leave: the pid is printed; see attach, wait, stdin, kill, ps.\n"
	"^C (without --pty) kills the process group and exits 130.\n"
	"\n"
	"exit status: the program's own (128+N for signal N); 127 not found,\n"
	"126 not executable; with --bg 0 once it started; 1 for any other\n"
	"protocol error.\n",
    .opts =
	(const struct rc_opt[]){
	    {"bg", 0, NULL, "a background process: print its pid, leave it", 0},
	    {"pty", 0, NULL, "on a terminal (our terminal's size, raw keys)",
	     0},
	    {"stdin", 0, NULL,
	     "with --bg: keep its stdin open for runnerctl stdin", 0},
	    {"cwd", 0, "DIR", "working directory (default the runner's)", 0},
	    {"env", 0, "K=V", "set a variable (repeat for more)", 0},
	    {"clean-env", 0, NULL, "only the --env variables, not the runner's",
	     0},
	    {"timeout", 0, "MS", "SIGKILL the process group after MS",
	     RC_OPT_NUM},
	    {"output-limit", 0, "BYTES",
	     "deliver at most BYTES of output, drop the rest", RC_OPT_NUM},
	    {0},
	},
    .min_pos = 1,
    .max_pos = -1,
    .flags = RC_CMD_OPTS_FIRST,
};

static void print_entry(const uint8_t *p, size_t n)
{
	struct wire_iter it;
	struct wire_field fl;
	uint64_t pid = 0, state = 0, status = 0, start = 0, bg = 0;
	char when[32] = "-", args[256] = "";
	size_t used = 0;
	time_t t;

	wire_iter_init(&it, p, n);
	while (wire_next(&it, &fl) > 0) {
		if (fl.tag == T_ARGV && used < sizeof(args) - 1) {
			used += (size_t)snprintf(
			    args + used, sizeof(args) - used, "%s%.*s",
			    used ? " " : "", (int)fl.len, (const char *)fl.val);
			continue;
		}
		if (fl.tag == T_PID)
			wire_uint(&fl, &pid);
		else if (fl.tag == T_STATE)
			wire_uint(&fl, &state);
		else if (fl.tag == T_EXIT_STATUS)
			wire_uint(&fl, &status);
		else if (fl.tag == T_START_MS)
			wire_uint(&fl, &start);
		else if (fl.tag == T_BACKGROUND)
			wire_uint(&fl, &bg);
	}
	t = (time_t)(start / 1000);
	strftime(when, sizeof(when), "%H:%M:%S", localtime(&t));
	if (state == WPS_EXITED)
		printf("%-7" PRIu64 " exit %-4" PRIu64 " %-3s %s  %s\n", pid,
		       status & 0xff, bg ? "bg" : "fg", when, args);
	else
		printf("%-7" PRIu64 " running   %-3s %s  %s\n", pid,
		       bg ? "bg" : "fg", when, args);
}

static int ps_run(struct rc_conn *c, const struct rc_args *a)
{
	char header[80];

	(void)a;
	snprintf(header, sizeof(header), "%-7s %-9s %-3s %-8s  %s\n", "PID",
		 "STATE", "", "STARTED", "ARGV");
	return cmd_list(c, WT_PROC_LIST, header, print_entry);
}

const struct rc_cmd rc_cmd_ps = {
    .name = "ps",
    .fn = ps_run,
    .synopsis = "",
    .summary = "processes: running, and exited bg ones",
    .details =
	"Columns: PID, STATE (running, or exit and the status), fg or bg, the\nstart time, the argument list.\n",
    .max_pos = 0,
};

/* A PID argument: a positive number, else 0. */
static uint32_t pid_of(const char *s)
{
	char *end;
	unsigned long v = strtoul(s, &end, 10);

	return *end || !v || v > 0x7fffffff ? 0 : (uint32_t)v;
}

static int check_pid(const struct rc_args *a)
{
	if (!pid_of(a->pos[0]))
		return rc_cmd_usage(a->cmd, "PID must be a number, not '%s'",
				    a->pos[0]);
	return 0;
}

static int attach_run(struct rc_conn *c, const struct rc_args *a)
{
	uint32_t pid = pid_of(a->pos[0]), id;
	uint8_t buf[64];
	struct wire_buf b;

	wb_init(&b, buf, sizeof(buf));
	wb_u32(&b, T_PID, pid);
	wb_u8(&b, T_FOLLOW, !opt_flag(a, "no-follow"));
	if (opt_flag(a, "from"))
		wb_u64(&b, T_FROM_OFFSET, opt_num(a, "from", 0));
	id = rc_new_stream(c);
	if (rc_send_fields(c, id, WT_PROC_ATTACH, &b) < 0)
		return cmd_fail(c);
	cancel_arm(); /* ^C ends the attach; the process runs on */
	return follow(c, id, false);
}

const struct rc_cmd rc_cmd_attach = {
    .name = "attach",
    .fn = attach_run,
    .synopsis = "PID",
    .summary = "a bg process's output: replay, then follow",
    .details =
	"Prints what the process wrote from --from on (what its ring still holds),\nthen follows until it exits.  Bytes the ring lost are reported on stderr.\n"
	"\nexit status: the process's, once it exited; 0 with --no-follow while it\nruns; 1 for a protocol error (E_NOT_FOUND: no such process).\n",
    .opts =
	(const struct rc_opt[]){
	    {"from", 0, "OFFSET",
	     "start at this byte of its output (default 0)", RC_OPT_NUM},
	    {"no-follow", 0, NULL,
	     "print what is buffered now and return at once", 0},
	    {0},
	},
    .check = check_pid,
    .min_pos = 1,
    .max_pos = 1,
};

static int wait_run(struct rc_conn *c, const struct rc_args *a)
{
	uint32_t pid = pid_of(a->pos[0]);
	uint8_t buf[32];
	struct wire_buf b;
	struct rc_frame f;

	wb_init(&b, buf, sizeof(buf));
	wb_u32(&b, T_PID, pid);
	if (opt_flag(a, "timeout"))
		wb_u32(&b, T_TIMEOUT_MS, (uint32_t)opt_num(a, "timeout", 0));
	if (rc_call(c, WT_PROC_WAIT, &b, &f))
		return cmd_fail(c);
	return (int)(rc_field_uint(&f, T_EXIT_STATUS, 0) & 0xff);
}

const struct rc_cmd rc_cmd_wait = {
    .name = "wait",
    .fn = wait_run,
    .synopsis = "PID",
    .summary = "wait until a process exits; its status is ours",
    .details =
	"exit status: the process's own (128+N for signal N); 1 with E_TIMEOUT\nwhen it still runs after --timeout (it is not signalled), E_NOT_FOUND\nwhen the runner knows no such process.\n",
    .opts =
	(const struct rc_opt[]){
	    {"timeout", 0, "MS", "give up after MS milliseconds", RC_OPT_NUM},
	    {0},
	},
    .check = check_pid,
    .min_pos = 1,
    .max_pos = 1,
};

/* One PROC_STDIN (PID) or SHELL_STDIN (--session) request: n bytes of
 * p, then end of file when eof. */
static int stdin_send(struct rc_conn *c, const struct rc_args *a,
		      const uint8_t *p, size_t n, bool eof)
{
	static uint8_t buf[STDIN_CHUNK + 512];
	const char *session = opt_str(a, "session", NULL);
	struct wire_buf b;
	struct rc_frame f;

	wb_init(&b, buf, sizeof(buf));
	if (session)
		wb_str(&b, T_SESSION, session);
	else
		wb_u32(&b, T_PID, pid_of(a->pos[0]));
	wb_bytes(&b, T_DATA, p, n);
	if (eof)
		wb_u8(&b, T_EOF, 1);
	if (rc_call(c, session ? WT_SHELL_STDIN : WT_PROC_STDIN, &b, &f))
		return cmd_fail(c);
	return 0;
}

static int stdin_check(const struct rc_args *a)
{
	bool session = opt_flag(a, "session");

	if (session && a->npos)
		return rc_cmd_usage(a->cmd, "a PID or --session, not both");
	if (!session && !a->npos)
		return rc_cmd_usage(a->cmd, "missing PID (or --session S)");
	return session ? 0 : check_pid(a);
}

static int stdin_run(struct rc_conn *c, const struct rc_args *a)
{
	static uint8_t chunk[STDIN_CHUNK];
	bool eof = opt_flag(a, "session") ? opt_flag(a, "eof")
					  : !opt_flag(a, "no-eof");
	ssize_t n;
	int r;

	for (;;) {
		n = read(STDIN_FILENO, chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			fprintf(stderr, "runnerctl: stdin: %s\n",
				strerror(errno));
			return 1;
		}
		if (n == 0)
			return eof ? stdin_send(c, a, chunk, 0, true) : 0;
		if ((r = stdin_send(c, a, chunk, (size_t)n, false)))
			return r;
	}
}

const struct rc_cmd rc_cmd_stdin = {
    .name = "stdin",
    .fn = stdin_run,
    .synopsis = "PID | --session S",
    .summary = "our stdin to a process or a session's command",
    .details =
	"PID: a process spawned with stdin open (spawn --bg --stdin, or another\nclient's foreground spawn); end of file follows unless --no-eof.  Each\nchunk returns once the process's pipe took it.\n"
	"\n--session S: typed into the terminal of the command session S runs (an\nanswer to a prompt after exec --yield; then exec-wait); no end of file\nunless --eof.  The terminal's line discipline applies (^C interrupts).\n"
	"\nexit status: 0; 1 with E_IO (EPIPE) when the process's stdin is closed,\nE_BAD_REQUEST when the session runs no command.\n",
    .opts =
	(const struct rc_opt[]){
	    {"session", 0, "NAME", "type into this session's command", 0},
	    {"no-eof", 0, NULL, "PID: leave its stdin open afterwards", 0},
	    {"eof", 0, NULL, "--session: send end of file (^D) at the end", 0},
	    {0},
	},
    .check = stdin_check,
    .max_pos = 1,
};

/* A signal by number or name (TERM, SIGTERM, 15); -1 if neither. */
static int parse_signal(const char *s)
{
	static const struct {
		const char *name;
		int sig;
	} names[] = {
	    {"HUP", SIGHUP},   {"INT", SIGINT},	    {"QUIT", SIGQUIT},
	    {"KILL", SIGKILL}, {"USR1", SIGUSR1},   {"USR2", SIGUSR2},
	    {"TERM", SIGTERM}, {"CONT", SIGCONT},   {"STOP", SIGSTOP},
	    {"ALRM", SIGALRM}, {"WINCH", SIGWINCH},
	};
	char *end;
	long v;
	unsigned i;

	if (!strncmp(s, "SIG", 3))
		s += 3;
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (!strcmp(s, names[i].name))
			return names[i].sig;
	v = strtol(s, &end, 10);
	return *end || v < 0 || v > 1024 ? -1 : (int)v;
}

static const char *kill_signal(const struct rc_args *a)
{
	return a->npos > 1 ? a->pos[1] : opt_str(a, "signal", "TERM");
}

static int kill_check(const struct rc_args *a)
{
	if (parse_signal(kill_signal(a)) < 0)
		return rc_cmd_usage(
		    a->cmd, "SIGNAL is a number or a name (TERM), not '%s'",
		    kill_signal(a));
	return check_pid(a);
}

static int kill_run(struct rc_conn *c, const struct rc_args *a)
{
	uint8_t buf[32];
	struct wire_buf b;
	struct rc_frame f;

	wb_init(&b, buf, sizeof(buf));
	wb_u32(&b, T_PID, pid_of(a->pos[0]));
	wb_u32(&b, T_SIGNAL, (uint32_t)parse_signal(kill_signal(a)));
	if (rc_call(c, WT_PROC_SIGNAL, &b, &f))
		return cmd_fail(c);
	return 0;
}

const struct rc_cmd rc_cmd_kill = {
    .name = "kill",
    .fn = kill_run,
    .synopsis = "PID [SIGNAL]",
    .summary = "signal a process's group (default TERM)",
    .details =
	"SIGNAL: a number or a name, with or without SIG (KILL, SIGINT, 9).\n",
    .opts =
	(const struct rc_opt[]){
	    {"signal", 's', "SIGNAL", "the signal (as the second argument)", 0},
	    {0},
	},
    .check = kill_check,
    .min_pos = 1,
    .max_pos = 2,
};
