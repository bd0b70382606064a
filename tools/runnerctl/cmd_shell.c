/* cmd_shell.c - runnerctl exec and shell: commands in a shell session. */
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
#include <unistd.h>

#define CMD_MAX	    (16u << 20)

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
			"runnerctl: the session's shell was restarted\n");
	return (int)(status & 0xff);
}

#define STREAM_OPEN (-1) /* not an exit status: 0..255 are */

/* One frame of the EXEC stream: STREAM_OPEN, else the exit status. */
static int exec_frame(struct rc_conn *c, uint32_t id, const struct rc_frame *f)
{
	const uint8_t *d;
	uint64_t off;
	uint8_t ch;
	size_t n;

	if (f->h.stream == 0 && f->h.type == WT_ERROR)
		return rc_error_of(c, f), cmd_fail(c);
	if (f->h.stream != id)
		return STREAM_OPEN; /* RESIZE answers */
	switch (f->h.type) {
	case WT_DATA:
		if (wire_data_decode(f->p, f->h.len, &ch, &off, &d, &n) == 0)
			rc_write_all(ch == WCH_STDERR ? 2 : 1, d, n);
		return STREAM_OPEN;
	case WT_RESULT: return exec_result(f);
	case WT_ERROR: rc_error_of(c, f); return cmd_fail(c);
	}
	return STREAM_OPEN;
}

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

/* Frames until the EXEC ends; stdin forwarded, resizes sent. */
static int exec_follow(struct rc_conn *c, uint32_t id, bool with_stdin,
		       const char *session)
{
	struct pollfd pfd[2] = {{.fd = c->rfd, .events = POLLIN},
				{.fd = 0, .events = POLLIN}};
	struct rc_frame f;
	uint64_t off = 0;
	int r;

	if (with_stdin)
		rc_track(c, id);
	for (;;) {
		while ((r = rc_recv_timeout(c, &f, 0)) == 0)
			if ((r = exec_frame(c, id, &f)) != STREAM_OPEN)
				return r;
		if (r != -EAGAIN)
			return cmd_fail(c);
		if (winch) {
			winch = 0;
			send_resize(c, session);
		}
		pfd[1].fd = with_stdin && rc_credit(c, id) > 0 ? 0 : -1;
		if (poll(pfd, 2, -1) < 0 && errno != EINTR)
			return cmd_fail(c);
		if (pfd[1].fd == 0 && (pfd[1].revents & (POLLIN | POLLHUP)))
			with_stdin = rc_pump(c, id, 0, &off);
	}
}

static int usage_exec(void)
{
	return cmd_usage("usage: exec [--session S] [--timeout MS] [--raw] "
			 "[--stream] [-i] [--] 'COMMAND' [MORE WORDS...]");
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

int cmd_exec(struct rc_conn *c, int argc, char **argv)
{
	const char *session = "main";
	bool raw = false, stream = false, with_stdin = false;
	uint32_t timeout = 0, id;
	struct wire_buf b;
	uint8_t *cmd, *buf;
	size_t len;
	int i, r;

	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		if (!strcmp(argv[i], "--")) {
			i++;
			break;
		}
		if (!strcmp(argv[i], "--session") && i + 1 < argc)
			session = argv[++i];
		else if (!strcmp(argv[i], "--timeout") && i + 1 < argc)
			timeout = (uint32_t)strtoul(argv[++i], NULL, 10);
		else if (!strcmp(argv[i], "--raw"))
			raw = true;
		else if (!strcmp(argv[i], "--stream"))
			stream = true;
		else if (!strcmp(argv[i], "-i"))
			with_stdin = true;
		else
			return usage_exec();
	}
	if (i >= argc)
		return usage_exec();
	if (!(cmd = join_words(argv + i, argc - i, &len)))
		return cmd_usage("exec: command too long");
	if (!(buf = malloc(len + 1024))) {
		free(cmd);
		return cmd_usage("exec: out of memory");
	}
	wb_init(&b, buf, len + 1024);
	wb_str(&b, T_SESSION, session);
	wb_bytes(&b, T_COMMAND, cmd, len);
	free(cmd);
	if (timeout)
		wb_u32(&b, T_TIMEOUT_MS, timeout);
	wb_u8(&b, T_MODE, stream ? WM_STREAM : WM_WAIT);
	wb_u8(&b, T_FORMAT, raw || stream ? WFMT_RAW : WFMT_PLAIN);
	id = rc_new_stream(c);
	r = rc_send_fields(c, id, WT_EXEC, &b);
	free(buf);
	if (r < 0)
		return cmd_fail(c);
	return exec_follow(c, id, with_stdin, session);
}

static struct termios saved_tty;

static void tty_restore(void)
{
	tcsetattr(0, TCSAFLUSH, &saved_tty);
}

int cmd_shell(struct rc_conn *c, int argc, char **argv)
{
	struct sigaction sa = {.sa_handler = on_winch};
	const char *session = "main";
	struct termios raw;
	uint8_t buf[256];
	struct wire_buf b;
	uint32_t id;
	int r;

	if (argc == 3 && !strcmp(argv[1], "--session"))
		session = argv[2];
	else if (argc != 1)
		return cmd_usage("usage: shell [--session S]");
	if (!isatty(0) || tcgetattr(0, &saved_tty) < 0)
		return cmd_usage("shell: stdin is not a terminal (use exec)");
	sigaction(SIGWINCH, &sa, NULL);
	send_resize(c, session);
	wb_init(&b, buf, sizeof(buf));
	wb_str(&b, T_SESSION, session);
	wb_str(&b, T_COMMAND, INTERACTIVE_CMD);
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
