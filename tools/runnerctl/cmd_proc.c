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


/* Output of a followed process: DATA to our stdout/stderr, drop notices
 * to stderr.  Returns 1 while the stream is open, else the exit status to
 * pass through (the process's, or 1/126/127 for an ERROR). */
static int follow_frame(struct rc_conn *c, uint32_t id,
			const struct rc_frame *f)
{
	const uint8_t *d;
	uint64_t off, ev;
	uint8_t ch;
	size_t n;
	int code;

	if (f->h.stream == 0 && f->h.type == WT_ERROR)
		return rc_error_of(c, f), cmd_fail(c);
	if (f->h.stream != id)
		return 1;
	switch (f->h.type) {
	case WT_DATA:
		if (wire_data_decode(f->p, f->h.len, &ch, &off, &d, &n) < 0)
			return 1;
		if (rc_write_all(ch == WCH_STDERR ? 2 : 1, d, n) < 0)
			return 1; /* our reader left; the process is theirs */
		return 1;
	case WT_EVENT:
		ev = rc_field_uint(f, T_EVENT, 0);
		if (ev == EV_DROPPED)
			fprintf(stderr,
				"runnerctl: %" PRIu64 " bytes of channel "
				"%" PRIu64 " were dropped (ring buffer)\n",
				rc_field_uint(f, T_DROPPED, 0),
				rc_field_uint(f, T_CHANNEL, 0));
		return 1;
	case WT_RESULT:
		if (rc_field_uint(f, T_STATE, WPS_EXITED) != WPS_EXITED)
			return 0;
		return (int)(rc_field_uint(f, T_EXIT_STATUS, 0) & 0xff);
	case WT_ERROR:
		code = rc_error_of(c, f);
		cmd_fail(c);
		/* As a shell says it: not found 127, not executable 126. */
		if (code == E_EXEC)
			return rc_field_uint(f, T_ERRNO, 0) == ENOENT ? 127
								      : 126;
		return code == E_NOT_FOUND ? 127 : 1;
	}
	return 1;
}

/* Frames until the stream ends, stdin forwarded when asked. */
static int follow(struct rc_conn *c, uint32_t id, bool with_stdin)
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
			if ((r = follow_frame(c, id, &f)) != 1)
				return r;
		if (r != -EAGAIN)
			return cmd_fail(c);
		pfd[1].fd = with_stdin && rc_credit(c, id) > 0 ? 0 : -1;
		if (poll(pfd, 2, -1) < 0 && errno != EINTR)
			return cmd_fail(c);
		if (pfd[1].fd == 0 && (pfd[1].revents & (POLLIN | POLLHUP)))
			with_stdin = rc_pump(c, id, 0, &off);
	}
}

static int usage_spawn(void)
{
	return cmd_usage("usage: spawn [--bg] [--pty] [--cwd D] [--env K=V] "
			 "[--timeout MS] -- ARGV...");
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

	if (rc_send_fields(c, id, WT_SPAWN, b) < 0)
		r = cmd_fail(c);
	else
		r = follow(c, id, true);
	if (raw)
		tcsetattr(0, TCSADRAIN, &saved);
	return r;
}

int cmd_spawn(struct rc_conn *c, int argc, char **argv)
{
	static uint8_t buf[1 << 20];
	struct wire_buf b;
	struct rc_frame f;
	bool bg = false, pty = false;
	int i;

	wb_init(&b, buf, sizeof(buf));
	for (i = 1; i < argc && strcmp(argv[i], "--"); i++) {
		if (!strcmp(argv[i], "--bg"))
			bg = true;
		else if (!strcmp(argv[i], "--pty"))
			pty = true;
		else if (!strcmp(argv[i], "--cwd") && i + 1 < argc)
			wb_str(&b, T_CWD, argv[++i]);
		else if (!strcmp(argv[i], "--env") && i + 1 < argc)
			wb_str(&b, T_ENV, argv[++i]);
		else if (!strcmp(argv[i], "--timeout") && i + 1 < argc)
			wb_u32(&b, T_TIMEOUT_MS,
			       (uint32_t)strtoul(argv[++i], NULL, 10));
		else
			return usage_spawn();
	}
	if (++i >= argc)
		return usage_spawn();
	for (; i < argc; i++)
		wb_str(&b, T_ARGV, argv[i]);
	wb_u8(&b, T_STDIN, !bg);
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

int cmd_ps(struct rc_conn *c, int argc, char **argv)
{
	struct wire_iter it;
	struct wire_field fl;
	struct rc_frame f;
	struct wire_buf b;

	(void)argv;
	if (argc != 1)
		return cmd_usage("usage: ps");
	wb_init(&b, NULL, 0);
	if (rc_call(c, WT_PROC_LIST, &b, &f))
		return cmd_fail(c);
	printf("%-7s %-9s %-3s %-8s  %s\n", "PID", "STATE", "", "STARTED",
	       "ARGV");
	wire_iter_init(&it, f.p, f.h.len);
	while (wire_next(&it, &fl) > 0)
		if (fl.tag == T_ENTRY)
			print_entry(fl.val, fl.len);
	return 0;
}

int cmd_attach(struct rc_conn *c, int argc, char **argv)
{
	uint8_t buf[64];
	struct wire_buf b;
	uint32_t id;
	char *end;
	unsigned long pid;

	if (argc != 2 && !(argc == 4 && !strcmp(argv[2], "--from")))
		return cmd_usage("usage: attach PID [--from OFFSET]");
	pid = strtoul(argv[1], &end, 10);
	if (*end || !pid)
		return cmd_usage("attach: PID must be a number");
	wb_init(&b, buf, sizeof(buf));
	wb_u32(&b, T_PID, (uint32_t)pid);
	wb_u8(&b, T_FOLLOW, 1);
	if (argc == 4)
		wb_u64(&b, T_FROM_OFFSET, strtoull(argv[3], NULL, 10));
	id = rc_new_stream(c);
	if (rc_send_fields(c, id, WT_PROC_ATTACH, &b) < 0)
		return cmd_fail(c);
	return follow(c, id, false);
}

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

int cmd_kill(struct rc_conn *c, int argc, char **argv)
{
	uint8_t buf[32];
	struct wire_buf b;
	struct rc_frame f;
	int sig = SIGTERM;

	if (argc != 2 && argc != 3)
		return cmd_usage("usage: kill PID [SIGNAL]");
	if (argc == 3 && (sig = parse_signal(argv[2])) < 0)
		return cmd_usage("kill: SIGNAL is a number or a name (TERM)");
	wb_init(&b, buf, sizeof(buf));
	wb_u32(&b, T_PID, (uint32_t)strtoul(argv[1], NULL, 10));
	wb_u32(&b, T_SIGNAL, (uint32_t)sig);
	if (rc_call(c, WT_PROC_SIGNAL, &b, &f))
		return cmd_fail(c);
	return 0;
}
