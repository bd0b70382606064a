/* cmd_shell.c - runnerctl exec and shell: commands in a shell session. */
#include "cmds.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#define CMD_MAX (16u << 20)
/* Wait mode output for a model's context: head and tail 16 KiB each. */
#define OUTPUT_LIMIT_DEFAULT (32u << 10)
/* A COMMAND up to this is sent without asking the runner's --max-command
 * first (one round trip saved; a runner set below it says E_LIMIT). */
#define SCRIPT_DIRECT 4096
/* exec --yield: the command was still running when the output came back. */
#define EXIT_STILL_RUNNING 124
/* Room for the EXEC fields beside COMMAND (the runner takes CWD and ENV
 * up to 3 KiB; more is its E_LIMIT to say). */
#define EXEC_FIELDS_MAX (64u << 10)

/* An interactive shell nested in the session: it starts where the
 * session is, with its exported environment, on a sane terminal.  The
 * runner puts the session's own terminal modes back afterwards. */
#define INTERACTIVE_CMD "stty sane 2>/dev/null; \"${SHELL:-/bin/sh}\" -i"

static volatile sig_atomic_t winch;

static void on_winch(int sig)
{
	(void)sig;
	winch = 1;
}

/* The RESULT of an EXEC: output (wait mode), notes, the exit status. */
static int exec_result(const struct rc_frame *f)
{
	struct wire_field fl;
	int64_t status = 0;

	if (wire_find(f->p, f->h.len, T_OUTPUT, &fl) > 0 && fl.len)
		rc_write_all(1, fl.val, fl.len);
	if (rc_field_uint(f, T_RUNNING, 0)) {
		fprintf(
		    stderr,
		    "runnerctl: the command is still running%s; runnerctl exec-wait collects the rest\n",
		    rc_field_uint(f, T_WAITING_INPUT, 0)
			? " and waits for input (runnerctl stdin --session)"
			: "");
		return EXIT_STILL_RUNNING;
	}
	if (wire_find(f->p, f->h.len, T_EXIT_STATUS, &fl) > 0)
		wire_int(&fl, &status);
	if (rc_field_uint(f, T_TIMED_OUT, 0))
		fprintf(stderr, "runnerctl: the command timed out\n");
	if (rc_field_uint(f, T_TRUNCATED, 0))
		fprintf(stderr,
			"runnerctl: output truncated (%" PRIu64
			" bytes in all)\n",
			rc_field_uint(f, T_TOTAL_BYTES, 0));
	if (rc_field_uint(f, T_RESPAWNED, 0))
		fprintf(stderr,
			"runnerctl: the session's shell was restarted; %s\n",
			rc_field_uint(f, T_RESTORED, 0)
			    ? "its directory, variables and functions came back"
			    : "its state is reset");
	return (int)(status & 0xff);
}

struct exec_follow {
	struct rc_conn *c;
	uint32_t id;
	const char *session;
};

static void send_resize(struct rc_conn *c, const char *session)
{
	struct winsize ws;
	uint8_t buf[128];
	struct wire_buf b;

	if (ioctl(0, TIOCGWINSZ, &ws) < 0 || !ws.ws_row || !ws.ws_col)
		return;
	wb_init(&b, buf, sizeof(buf));
	wb_str(&b, T_SESSION, session);
	wb_u16(&b, T_ROWS, ws.ws_row);
	wb_u16(&b, T_COLS, ws.ws_col);
	rc_send_fields(c, rc_new_stream(c), WT_SHELL_RESIZE, &b);
}

/* One frame of the EXEC stream (rc_follow): RC_CONTINUE, else the exit
 * status.  Between frames, a terminal resize is passed on. */
static int exec_frame(void *ctx, const struct rc_frame *f)
{
	struct exec_follow *x = ctx;
	const uint8_t *d;
	uint64_t off;
	uint8_t ch;
	size_t n;

	if (!f) {
		if (winch) {
			winch = 0;
			send_resize(x->c, x->session);
		}
		cancel_poll(x->c, x->id);
		return RC_CONTINUE;
	}
	if (f->h.stream != x->id)
		return RC_CONTINUE; /* RESIZE answers */
	switch (f->h.type) {
	case WT_DATA:
		if (wire_data_decode(f->p, f->h.len, &ch, &off, &d, &n) == 0)
			rc_write_all(ch == WCH_STDERR ? 2 : 1, d, n);
		return RC_CONTINUE;
	case WT_EVENT:
		if (rc_field_uint(f, T_EVENT, 0) == EV_RESPAWNED)
			fprintf(
			    stderr,
			    "\nrunnerctl: the session's shell was restarted\n");
		return RC_CONTINUE;
	case WT_RESULT: return exec_result(f);
	case WT_ERROR:
		/* Our ^C became a CANCEL: end as a shell's ^C does. */
		if (rc_error_of(x->c, f) == E_CANCELLED && cancel_sent())
			return 130;
		return cmd_fail(x->c);
	}
	return RC_CONTINUE;
}

/* Frames until the EXEC ends; stdin forwarded when asked. */
static int exec_follow(struct rc_conn *c, uint32_t id, bool with_stdin,
		       const char *session)
{
	struct exec_follow x = {c, id, session};
	int r = rc_follow(c, id, with_stdin ? 0 : -1, exec_frame, &x);

	return r < 0 ? cmd_fail(c) : r;
}

/* The words after the options, joined by spaces as ssh does.  NULL if
 * too long. */
static uint8_t *join_words(char **w, int n, size_t *len)
{
	size_t total = 0, off = 0, k;
	uint8_t *buf;
	int i;

	for (i = 0; i < n; i++)
		total += strlen(w[i]) + 1;
	if (total > CMD_MAX || !(buf = malloc(total)))
		return NULL;
	for (i = 0; i < n; i++) {
		if (i)
			buf[off++] = ' ';
		k = strlen(w[i]);
		memcpy(buf + off, w[i], k);
		off += k;
	}
	*len = off;
	return buf;
}

/* The whole of a file ("-": stdin), up to CMD_MAX.  NULL with errno. */
static uint8_t *slurp(const char *path, size_t *len)
{
	int fd = strcmp(path, "-") ? open(path, O_RDONLY | O_CLOEXEC) : 0;
	size_t cap = 65536, n = 0;
	uint8_t *buf = NULL, *nb;
	ssize_t r;

	if (fd < 0)
		return NULL;
	for (;;) {
		if (n == cap || !buf) {
			if (n >= CMD_MAX) {
				errno = E2BIG;
				break;
			}
			cap = buf ? cap * 2 : cap;
			if (!(nb = realloc(buf, cap)))
				break;
			buf = nb;
		}
		r = read(fd, buf + n, cap - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			if (r == 0) {
				*len = n;
				if (fd)
					close(fd);
				return buf;
			}
			break;
		}
		n += (size_t)r;
	}
	free(buf);
	if (fd) {
		int e = errno;
		close(fd);
		errno = e;
	}
	return NULL;
}

static int exec_check(const struct rc_args *a)
{
	const char *file = opt_str(a, "file", NULL);

	if (file && a->npos)
		return rc_cmd_usage(a->cmd,
				    "-f and a COMMAND exclude each other");
	if (!file && !a->npos)
		return rc_cmd_usage(a->cmd, "missing COMMAND (or -f FILE)");
	if (file && !strcmp(file, "-") && opt_flag(a, "interactive"))
		return rc_cmd_usage(a->cmd, "-f - reads stdin: no -i with it");
	return 0;
}

/* The command text: -f FILE, else the words joined.  NULL: status in *r. */
static uint8_t *exec_command(const struct rc_args *a, size_t *len, int *r)
{
	const char *file = opt_str(a, "file", NULL);
	uint8_t *cmd;

	*r = 0;
	if (!file) {
		if (!(cmd = join_words(a->pos, a->npos, len)))
			*r = cmd_usage("exec: command too long");
		return cmd;
	}
	if (!(cmd = slurp(file, len))) {
		fprintf(stderr, "runnerctl: exec: %s: %s\n", file,
			strerror(errno));
		*r = 2;
	}
	return cmd;
}

static int exec_run(struct rc_conn *c, const struct rc_args *a)
{
	const char *session = opt_str(a, "session", "main"), *v;
	bool stream = opt_flag(a, "stream");
	struct wire_buf b;
	uint8_t *cmd, *buf;
	int r, it = 0;
	size_t len;
	uint32_t id;

	if (!(cmd = exec_command(a, &len, &r)))
		return r;
	if (len > SCRIPT_DIRECT && len > script_max_command(c)) {
		uint8_t *staged = script_stage(c, cmd, len, &len);
		free(cmd);
		if (!(cmd = staged))
			return cmd_fail(c);
	}
	if (!(buf = malloc(len + EXEC_FIELDS_MAX))) {
		free(cmd);
		return cmd_usage("exec: out of memory");
	}
	wb_init(&b, buf, len + EXEC_FIELDS_MAX);
	wb_str(&b, T_SESSION, session);
	wb_bytes(&b, T_COMMAND, cmd, len);
	free(cmd);
	if (opt_flag(a, "timeout"))
		wb_u32(&b, T_TIMEOUT_MS, (uint32_t)opt_num(a, "timeout", 0));
	if (!stream)
		wb_u64(&b, T_OUTPUT_LIMIT,
		       opt_num(a, "output-limit", OUTPUT_LIMIT_DEFAULT));
	if (opt_flag(a, "interactive"))
		wb_u8(&b, T_STDIN, 1);
	if (opt_flag(a, "yield") && !stream)
		wb_u32(&b, T_YIELD_MS, (uint32_t)opt_num(a, "yield", 0));
	if (opt_flag(a, "detach"))
		wb_u8(&b, T_DETACH, 1);
	if ((v = opt_str(a, "cwd", NULL)))
		wb_str(&b, T_CWD, v);
	while ((v = opt_next(a, "env", &it)))
		wb_str(&b, T_ENV, v);
	wb_u8(&b, T_MODE, stream ? WM_STREAM : WM_WAIT);
	wb_u8(&b, T_FORMAT,
	      opt_flag(a, "raw") || stream ? WFMT_RAW : WFMT_PLAIN);
	id = rc_new_stream(c);
	r = rc_send_fields(c, id, WT_EXEC, &b);
	free(buf);
	if (r < 0)
		return cmd_fail(c);
	cancel_arm();
	return exec_follow(c, id, opt_flag(a, "interactive"), session);
}

const struct rc_cmd rc_cmd_exec = {
    .name = "exec",
    .fn = exec_run,
    .synopsis = "[--] 'COMMAND' [WORDS...] | -f FILE",
    .summary = "run a command in a session's shell",
    .details =
	"The words of the command line are joined by spaces (as ssh does)\n"
	"and run by the session's shell: cd, export, functions carry over to\n"
	"the next exec.  Options end at the first word of the command line.\n"
	"\n"
	"Wait mode (the default) prints the output once the command ends,\n"
	"escape sequences removed and progress bars collapsed (plain), at\n"
	"most --output-limit bytes: the first and last halves are kept and\n"
	"the middle replaced by one line saying how much was left out.\n"
	"--stream prints the terminal's bytes as they come.\n"
	"\n"
	"^C asks the runner to stop the command (SIGINT, then SIGKILL to it;\n"
	"the session survives) and exits 130; a second ^C leaves at once.\n"
	"Without -i the command's stdin is /dev/null (end of file at once).\n"
	"--yield MS returns after MS milliseconds, or as soon as the command\n"
	"waits to read the terminal, with the output so far; the command\n"
	"goes on in the session (exit status 124).\n"
	"\n"
	"exit status: the command's own ($?; 128+N for signal N); 1 with\n"
	"'runnerctl: E_CODE: message' when the request failed (E_BUSY: the\n"
	"session runs another command); 2 usage.\n",
    .opts =
	(const struct rc_opt[]){
	    {"session", 0, "NAME", "the session (default main)", 0},
	    {"timeout", 0, "MS",
	     "interrupt the command after MS milliseconds\n"
	     "(SIGINT, then SIGKILL; the session survives)",
	     RC_OPT_NUM},
	    {"output-limit", 0, "BYTES",
	     "wait mode: keep at most BYTES of output (default\n"
	     "32K: head and tail halves); K, M suffixes",
	     RC_OPT_NUM},
	    {"file", 'f', "FILE",
	     "the command is the contents of FILE ('-': stdin),\n"
	     "any size (past the runner's --max-command it goes\n"
	     "through a temp file in the sandbox, removed at once)",
	     0},
	    {"interactive", 'i', NULL,
	     "forward our stdin to the command (end of file at\n"
	     "its end)",
	     0},
	    {"yield", 0, "MS",
	     "wait mode: come back after MS ms (or when the\n"
	     "command waits for input) while it goes on",
	     RC_OPT_NUM},
	    {"stream", 0, NULL, "print output as it arrives (raw bytes)", 0},
	    {"raw", 0, NULL, "wait mode: the terminal's bytes, exact", 0},
	    {"cwd", 0, "DIR",
	     "run this command in DIR; the session's directory\n"
	     "is put back afterwards (bash sessions)",
	     0},
	    {"env", 0, "K=V", "export K=V for this command only (repeat; bash)",
	     0},
	    {"detach", 0, NULL,
	     "the command goes on if we vanish (killed, dropped);\n"
	     "exec-wait collects it from any client",
	     0},
	    {0},
	},
    .check = exec_check,
    .min_pos = 0,
    .max_pos = -1,
    .flags = RC_CMD_OPTS_FIRST,
};

static int wait_run(struct rc_conn *c, const struct rc_args *a)
{
	const char *session = opt_str(a, "session", "main");
	uint8_t buf[256];
	struct wire_buf b;
	uint32_t id;

	wb_init(&b, buf, sizeof(buf));
	wb_str(&b, T_SESSION, session);
	if (opt_flag(a, "yield"))
		wb_u32(&b, T_YIELD_MS, (uint32_t)opt_num(a, "yield", 0));
	id = rc_new_stream(c);
	if (rc_send_fields(c, id, WT_EXEC_WAIT, &b) < 0)
		return cmd_fail(c);
	cancel_arm();
	return exec_follow(c, id, opt_flag(a, "interactive"), session);
}

const struct rc_cmd rc_cmd_exec_wait = {
    .name = "exec-wait",
    .fn = wait_run,
    .synopsis = "",
    .summary = "the rest of a yielded or detached exec",
    .details =
	"Continues the command of a session that no client follows (after exec\n--yield, or exec --detach whose client went away): prints the output\nsince the last exec or exec-wait returned, once it ends (or yields again).\n"
	"\nexit status: as exec (124 if it yielded again); 1 with E_NOT_FOUND when\nthere is nothing to wait for, E_BUSY when another client follows it.\n",
    .opts =
	(const struct rc_opt[]){
	    {"session", 0, "NAME", "the session (default main)", 0},
	    {"yield", 0, "MS",
	     "come back after MS ms (or when the command waits\n"
	     "for input) while it goes on",
	     RC_OPT_NUM},
	    {"interactive", 'i', NULL, "forward our stdin to the command", 0},
	    {0},
	},
    .max_pos = 0,
};

static struct termios saved_tty;

static void tty_restore(void)
{
	tcsetattr(0, TCSAFLUSH, &saved_tty);
}

static int shell_run(struct rc_conn *c, const struct rc_args *a)
{
	struct sigaction sa = {.sa_handler = on_winch};
	const char *session = opt_str(a, "session", "main");
	struct termios raw;
	uint8_t buf[256];
	struct wire_buf b;
	uint32_t id;
	int r;

	if (!isatty(0) || tcgetattr(0, &saved_tty) < 0)
		return cmd_usage("shell: stdin is not a terminal (use exec)");
	sigaction(SIGWINCH, &sa, NULL);
	send_resize(c, session);
	wb_init(&b, buf, sizeof(buf));
	wb_str(&b, T_SESSION, session);
	wb_str(&b, T_COMMAND, INTERACTIVE_CMD);
	wb_u8(&b, T_STDIN, 1);
	wb_u8(&b, T_MODE, WM_STREAM);
	wb_u8(&b, T_FORMAT, WFMT_RAW);
	id = rc_new_stream(c);
	if (rc_send_fields(c, id, WT_EXEC, &b) < 0)
		return cmd_fail(c);
	raw = saved_tty;
	cfmakeraw(&raw);
	tcsetattr(0, TCSAFLUSH, &raw);
	atexit(tty_restore);
	r = exec_follow(c, id, true, session);
	tty_restore();
	return r;
}

const struct rc_cmd rc_cmd_shell = {
    .name = "shell",
    .fn = shell_run,
    .synopsis = "",
    .summary = "interactive terminal into a session",
    .details =
	"An interactive shell nested in the session: it starts in the session's\ndirectory with its exported environment; what you type goes to it\nraw.  Leaving it (exit, ^D) leaves the session as it was.  stdin must be\na terminal.\n"
	"\nexit status: the nested shell's.\n",
    .opts =
	(const struct rc_opt[]){
	    {"session", 0, "NAME", "the session (default main)", 0},
	    {0},
	},
    .max_pos = 0,
};
