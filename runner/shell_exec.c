/* shell_exec.c - one EXEC, from the request to its RESULT: the command
 * handed to the shell, output routed to the client as it arrives or kept
 * for the RESULT, the timeout ladder, cancel.  Stdin is shell_stdin.c's,
 * the CWD/ENV wrapper shell_wrap.c's. */
#include "shell_internal.h"
#include "procfs.h"

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#define RESULT_FIXED 512 /* every RESULT field but T_OUTPUT and T_CWD */
#define RESULT_STACK 8192

static void exec_marker(struct session *ss, int64_t status);

/* ---- the state machine ----
 *
 * Every change of ex->phase goes through exec_enter().  The events:
 *
 *   IDLE      -> QUEUED     EXEC while the shell still starts
 *   IDLE      -> RUNNING    EXEC on a ready shell (trigger written)
 *   QUEUED    -> RUNNING    the shell's bootstrap marker
 *   RUNNING   -> QUEUED     the shell died or lost fd 62 before it read
 *                           the line that runs the command: it runs on
 *                           the next shell
 *   QUEUED    -> FINISHING  a signal or CANCEL ends it unstarted
 *   RUNNING   -> FINISHING  the end marker, or the shell died
 *   DONE      -> FINISHING  EXEC_WAIT collects the kept RESULT
 *   FINISHING -> DONE       ended with no client, DETACH kept it
 *   any       -> IDLE       RESULT or ERROR sent, client gone, aborted,
 *                           session closed, DONE dropped by a new EXEC
 *
 * FINISHING lasts while stream output waits for credit.  Debug builds
 * (RUNNER_DEBUG: the ASan and glibc runners) stop on any other move. */
#define PH(p) (1u << (p))
#ifdef RUNNER_DEBUG
static const unsigned exec_from[] = {
    [EX_IDLE] = PH(EX_IDLE) | PH(EX_QUEUED) | PH(EX_RUNNING) |
		PH(EX_FINISHING) | PH(EX_DONE),
    [EX_QUEUED] = PH(EX_IDLE) | PH(EX_RUNNING),
    [EX_RUNNING] = PH(EX_IDLE) | PH(EX_QUEUED),
    [EX_FINISHING] = PH(EX_QUEUED) | PH(EX_RUNNING) | PH(EX_DONE),
    [EX_DONE] = PH(EX_FINISHING),
};
#endif

void exec_enter(struct session *ss, enum exec_phase to)
{
#ifdef RUNNER_DEBUG
	if (!(exec_from[to] & PH(ss->ex.phase))) {
		log_error("session %s: illegal EXEC phase change %d -> %d",
			  ss->name, (int)ss->ex.phase, (int)to);
		abort();
	}
#endif
	ss->ex.phase = to;
}

/* ---- output path: PTY bytes -> marker scanner -> filter -> client ---- */

static void pend_put(struct exec *ex, const uint8_t *p, size_t n)
{
	if (ex->pend_head + ex->pend_len + n > PEND_CAP && ex->pend_head) {
		memmove(ex->pend, ex->pend + ex->pend_head, ex->pend_len);
		ex->pend_head = 0;
	}
	/* exec_read_room admits a read only while its output fits, so this
	 * cuts nothing but a dying shell's final drain. */
	if (n > PEND_CAP - ex->pend_head - ex->pend_len)
		n = PEND_CAP - ex->pend_head - ex->pend_len;
	memcpy(ex->pend + ex->pend_head + ex->pend_len, p, n);
	ex->pend_len += n;
}

static void exec_sink_out(void *arg, const uint8_t *p, size_t n)
{
	struct exec *ex = &((struct session *)arg)->ex;

	ex->total += n;
	if (ex->mode == WM_STREAM) {
		if (ex->s)
			pend_put(ex, p, n);
	} else {
		collector_add(&ex->col, p, n);
	}
}

static void exec_sink_plain(void *arg, const uint8_t *p, size_t n)
{
	struct session *ss = arg;

	plain_feed(&ss->ex.plain, p, n, exec_sink_out, ss);
}

/* Plain output also reads bash's errors as a terminal shows them; raw
 * output stays byte-exact. */
static void exec_sink_raw(void *arg, const uint8_t *p, size_t n)
{
	struct session *ss = arg;

	if (ss->ex.phase != EX_RUNNING && ss->ex.phase != EX_FINISHING)
		return; /* bootstrap noise, or a detached command */
	if (ss->ex.format == WFMT_PLAIN)
		errname_feed(&ss->ex.errname, p, n, exec_sink_plain, ss);
	else
		exec_sink_out(ss, p, n);
}

/* Send pending stream output; false while credit is short. */
static bool pend_flush(struct exec *ex)
{
	size_t room, k;

	while (ex->pend_len && ex->s) {
		room = stream_data_room(ex->s);
		if (!room) {
			stream_want_writable(ex->s);
			return false;
		}
		k = room < ex->pend_len ? room : ex->pend_len;
		stream_data(ex->s, WCH_STDOUT, ex->out_off,
			    ex->pend + ex->pend_head, k, 0);
		ex->out_off += k;
		ex->pend_head += k;
		ex->pend_len -= k;
	}
	ex->pend_head = 0;
	ex->pend_len = 0;
	return true;
}

static bool exec_streaming(const struct session *ss)
{
	const struct exec *ex = &ss->ex;

	return ex->s && ex->mode == WM_STREAM &&
	       (ex->phase == EX_RUNNING || ex->phase == EX_FINISHING);
}

/* How much the next PTY read may take: 0 means stop reading until the
 * client grants credit (backpressure reaches the command through the
 * PTY's own buffer). */
static size_t exec_read_room(struct session *ss)
{
	struct exec *ex = &ss->ex;
	size_t room;

	if (!exec_streaming(ss))
		return PTY_READ_CHUNK;
	room = PEND_CAP - PEND_SLACK - ex->pend_len;
	if (room < PTY_READ_MIN) {
		pend_flush(ex);
		room = PEND_CAP - PEND_SLACK - ex->pend_len;
	}
	if (room < PTY_READ_MIN)
		return 0;
	return room < PTY_READ_CHUNK ? room : PTY_READ_CHUNK;
}

static void exec_flush(struct session *ss)
{
	if (exec_streaming(ss))
		pend_flush(&ss->ex);
}

static void exec_consume(struct session *ss, const uint8_t *p, size_t n)
{
	if (!ss->scanning)
		return; /* idle: background jobs' chatter goes nowhere */
	ss->ex.raw += n;
	marker_feed(&ss->scan, p, n, exec_sink_raw, ss);
	if (!ss->scan.found)
		return;
	ss->scanning = false;
	if (!ss->ready) {
		/* Booted, or a snapshot taken.  A dead shell's last words do
		 * not start a command: its replacement will. */
		ss->ready = true;
		ss->snapping = false;
		ss->quick_deaths = 0;
		if (ss->ex.phase == EX_QUEUED && ss->pid > 0)
			exec_begin(ss);
		return;
	}
	/* What follows the marker in this chunk came after the command. */
	exec_marker(ss, ss->scan.status);
}

/* Read what the PTY has and carry it to the client: each chunk through
 * the marker scanner and the filter, then the output flushed as credit
 * allows and reading switched off while it does not.  Bounded per event
 * so one chatty session cannot starve the loop; level-triggered epoll
 * brings us back. */
void exec_pump(struct session *ss, int rounds)
{
	uint8_t *buf = ss->sh->rbuf;
	size_t room;
	ssize_t n;

	while (rounds-- > 0 && ss->ptm >= 0) {
		room = exec_read_room(ss);
		if (!room)
			break;
		n = read(ss->ptm, buf, room);
		if (n <= 0)
			break; /* EAGAIN; EIO cannot happen while we hold pts */
		exec_consume(ss, buf, (size_t)n);
	}
	exec_flush(ss);
	if (ss->ptm >= 0 && ss->reading != (exec_read_room(ss) > 0))
		session_set_reading(ss, !ss->reading);
}

/* ---- lifecycle ---- */

/* The command is over or abandoned: what must not outlive it. */
static void exec_ended(struct session *ss)
{
	struct exec *ex = &ss->ex;

	timer_cancel(&ss->rt->loop, &ex->timer);
	timer_cancel(&ss->rt->loop, &ex->tick);
	timer_cancel(&ss->rt->loop, &ex->sig_timer);
	free(ex->wrap);
	ex->wrap = NULL;
	ex->pend_head = ex->pend_len = 0;
	/* Stdin the command did not read is not the next command's: neither
	 * what waits here nor what waits in the terminal. */
	ss->in_head = ss->in_len = 0;
	ss->in_owed = 0;
	ss->in_line_open = false;
	if (ss->pts >= 0)
		tcflush(ss->pts, TCIFLUSH);
	if (ss->ptm >= 0 && !ss->reading)
		session_set_reading(ss, true);
	session_snap_later(ss);
}

void exec_reset(struct session *ss)
{
	struct exec *ex = &ss->ex;

	exec_ended(ss);
	collector_free(&ex->col);
	ex->s = NULL; /* ended or detached by now: never touched again */
	ex->keep = false;
	exec_enter(ss, EX_IDLE);
}

/* Release the plain filter's line in progress (a prompt has no newline). */
void exec_plain_flush(struct session *ss)
{
	if (ss->ex.format != WFMT_PLAIN)
		return;
	errname_flush(&ss->ex.errname, exec_sink_plain, ss);
	plain_flush(&ss->ex.plain, exec_sink_out, ss);
}

static void exec_prepare_finish(struct session *ss)
{
	struct exec *ex = &ss->ex;

	exec_enter(ss, EX_FINISHING);
	ex->end_ns = now_ns();
	timer_cancel(&ss->rt->loop, &ex->timer);
	exec_plain_flush(ss);
	exec_try_finish(ss);
}

static void exec_marker(struct session *ss, int64_t status)
{
	ss->ex.status = (int32_t)status;
	exec_prepare_finish(ss);
}

/* An EVENT on a stream-mode EXEC.  Dropped if the connection's buffer is
 * full: the RESULT tells the same. */
void exec_event(struct session *ss, uint16_t ev)
{
	uint8_t buf[32];
	struct wire_buf b;

	if (!ss->ex.s || ss->ex.mode != WM_STREAM)
		return;
	wb_init(&b, buf, sizeof(buf));
	wb_u16(&b, T_EVENT, ev);
	wb_u32(&b, T_SHELL_PID, (uint32_t)(ss->pid > 0 ? ss->pid : 0));
	(void)stream_event(ss->ex.s, &b);
}

void exec_shell_died(struct session *ss, int32_t status, bool respawned)
{
	struct exec *ex = &ss->ex;

	ex->respawned = respawned;
	if (respawned)
		exec_event(ss, EV_RESPAWNED);
	ex->restored = ss->restore;
	if (ex->phase == EX_FINISHING)
		return; /* the marker made it out before the shell died */
	if (ex->phase == EX_QUEUED) {
		/* Died while starting: the command never ran.  Run it on the
		 * new shell, unless shells keep dying at birth. */
		if (respawned && ss->quick_deaths < QUICK_DEATHS_MAX)
			return;
		exec_abort(ss, E_EXEC, "the shell exits during startup");
		return;
	}
	marker_flush(&ss->scan, exec_sink_raw, ss);
	ex->status = status;
	exec_prepare_finish(ss);
}

/* Restore the terminal modes a command (an interactive program, `stty`)
 * may have changed, so the next command's output is byte-exact again. */
static void restore_termios(struct session *ss)
{
	struct termios t;

	if (tcgetattr(ss->ptm, &t) < 0)
		return;
	if (t.c_oflag == 0 &&
	    (t.c_lflag & (ECHO | ICANON | ISIG)) == (ICANON | ISIG) &&
	    !(t.c_iflag & ~IUTF8))
		return;
	t.c_iflag = IUTF8;
	t.c_oflag = 0;
	t.c_lflag = ISIG | ICANON;
	tcsetattr(ss->ptm, TCSANOW, &t);
}

void exec_begin(struct session *ss)
{
	struct exec *ex = &ss->ex;
	int r;

	restore_termios(ss);
	session_random_token(ss, ex->token);
	marker_init(&ss->scan, ex->token);
	ss->scanning = true;
	exec_enter(ss, EX_RUNNING);
	r = session_holds_cmd(ss) ? session_write_trigger(ss, ex->token)
				  : -EPIPE;
	if (r == -EPIPE && ss->pid > 0) {
		/* The shell died and we have not heard yet, or it lost fd 62:
		 * the command never reached it.  Requeue; the death respawns
		 * the shell, whose bootstrap marker starts the command. */
		ss->scanning = ss->ready = false;
		exec_enter(ss, EX_QUEUED);
		kill(ss->pid, SIGKILL);
	} else if (r < 0) {
		ss->scanning = false;
		exec_abort(ss, E_IO, "cannot hand the command to the shell");
	}
}

void exec_abort(struct session *ss, int code, const char *why)
{
	struct exec *ex = &ss->ex;

	if (ex->s)
		stream_error(ex->s, code, 0, "session %s: %s", ss->name, why);
	ex->s = NULL;
	exec_reset(ss);
}

/* ---- RESULT ---- */

void session_put_cwd(const struct session *ss, struct wire_buf *b)
{
	char cwd[PATH_MAX];
	ssize_t n;

	if (ss->pid > 0 &&
	    (n = proc_readlink(ss->pid, "cwd", cwd, sizeof(cwd))) > 0)
		wb_bytes(b, T_CWD, cwd, (size_t)n);
}

/* running: a yield (RUNNING=1, no EXIT_STATUS), the command goes on. */
int exec_send_result(struct session *ss, bool running)
{
	struct exec *ex = &ss->ex;
	uint64_t end = running ? now_ns() : ex->end_ns;
	size_t out = ex->mode == WM_WAIT ? collector_size(&ex->col) : 0;
	size_t cap = RESULT_FIXED + PATH_MAX + out, mark, n;
	uint8_t small[RESULT_STACK], *buf = small;
	struct wire_buf b;
	int r;

	if (cap > sizeof(small) && !(buf = malloc(cap)))
		return -ENOMEM;
	wb_init(&b, buf, cap);
	if (running) {
		wb_u8(&b, T_RUNNING, 1);
		wb_u8(&b, T_WAITING_INPUT, ex->waiting);
	} else {
		wb_i32(&b, T_EXIT_STATUS, ex->status);
	}
	session_put_cwd(ss, &b);
	wb_u64(&b, T_DURATION_US, (end - ex->start_ns) / 1000);
	wb_u8(&b, T_TIMED_OUT, ex->timed_out);
	wb_u8(&b, T_RESPAWNED, ex->respawned);
	if (ex->respawned)
		wb_u8(&b, T_RESTORED, ex->restored);
	wb_u64(&b, T_TOTAL_BYTES, ex->total);
	if (ss->pid > 0)
		wb_u32(&b, T_SHELL_PID, (uint32_t)ss->pid);
	if (ex->mode == WM_WAIT) {
		wb_u8(&b, T_TRUNCATED, collector_truncated(&ex->col));
		mark = wb_open(&b, T_OUTPUT);
		if (wb_room(&b) >= out) {
			n = collector_emit(&ex->col, b.p + b.len,
					   ex->format == WFMT_PLAIN);
			wb_advance(&b, n);
		}
		wb_close(&b, mark);
	}
	r = stream_result(ex->s, &b);
	if (buf != small)
		free(buf);
	return r;
}

void exec_try_finish(struct session *ss)
{
	struct exec *ex = &ss->ex;
	int r;

	if (!ex->s) {
		if (!ex->keep) {
			exec_reset(ss);
			return;
		}
		exec_ended(ss); /* the session is free; EXEC_WAIT collects */
		exec_enter(ss, EX_DONE);
		return;
	}
	if (ex->mode == WM_STREAM && !pend_flush(ex))
		return; /* writable brings us back */
	if (ex->cancelled) {
		stream_error(ex->s, E_CANCELLED, 0,
			     "cancelled; the command ended with status %d",
			     (int)ex->status);
		ex->s = NULL;
		exec_reset(ss);
		return;
	}
	r = exec_send_result(ss, false);
	if (r == -EAGAIN)
		return;
	if (r < 0) {
		stream_error(ex->s, E_INTERNAL, -r,
			     "cannot build the RESULT: %s", strerror(-r));
		ex->s = NULL;
	} else {
		ex->s = NULL; /* stream_result freed it */
	}
	exec_reset(ss);
}

/* ---- signals: the timeout and CANCEL ladder, SHELL_SIGNAL ---- */

/* The shell has not read all of the line that runs the command (it
 * reads its script a byte at a time): the command has not begun. */
static bool command_unread(const struct session *ss)
{
	int unread = 0;

	return ss->script_fd >= 0 &&
	       ioctl(ss->script_fd, FIONREAD, &unread) == 0 &&
	       unread > ss->trigger_len - ss->trigger_line1;
}

static void exec_sig_timer(struct timer *t);

/* sig to the terminal's foreground group: 1, or -errno.  Until the shell
 * has read the line that runs the command it is the foreground outside
 * the command, where its INT trap cannot end what has not begun: the
 * signal waits for the command to be under way. */
static int exec_kill_fg(struct session *ss, int sig)
{
	struct exec *ex = &ss->ex;
	int pg = session_fg_pgrp(ss);

	if (pg < 0)
		return 1; /* the shell is gone; its death ends the exec */
	if (pg == ss->pid && command_unread(ss)) {
		ex->pending_sig = sig;
		if (!ex->sig_timer.armed)
			timer_arm(&ss->rt->loop, &ex->sig_timer, 1,
				  exec_sig_timer);
		return 1;
	}
	return kill(-pg, sig) < 0 ? -errno : 1;
}

static void exec_sig_timer(struct timer *t)
{
	struct exec *ex = container_of(t, struct exec, sig_timer);
	struct session *ss = container_of(ex, struct session, ex);

	/* Requeued meanwhile (the shell died): the queued command takes it. */
	if (ex->phase == EX_RUNNING || ex->phase == EX_QUEUED)
		exec_signal(ss, ex->pending_sig);
}

static void exec_escalate(struct session *ss)
{
	struct exec *ex = &ss->ex;
	struct loop *l = &ss->rt->loop;
	int pg = session_fg_pgrp(ss);

	if (pg < 0 || ss->pid <= 0)
		return; /* the shell is gone; its death finishes the exec */
	switch (++ex->escalation) {
	case 1:
		/* The shell's own INT trap ends a builtin loop too. */
		exec_kill_fg(ss, SIGINT);
		timer_arm(l, &ex->timer, ex->grace_ms, ex->timer.fn);
		return;
	case 2:
		if (pg != ss->pid) {
			kill(-pg, SIGKILL);
			timer_arm(l, &ex->timer, EXEC_KILL_GRACE_MS,
				  ex->timer.fn);
			return;
		}
		/* The shell itself is the foreground and ignores us. */
		/* fallthrough */
	default:
		log_warn("session %s: command does not stop; killing the shell",
			 ss->name);
		kill(ss->pid, SIGKILL);
	}
}

static void exec_timer(struct timer *t)
{
	struct exec *ex = container_of(t, struct exec, timer);
	struct session *ss = container_of(ex, struct session, ex);

	if (ex->escalation == 0 && !ex->cancelled)
		ex->timed_out = true;
	exec_escalate(ss);
}

/* CANCEL's ladder, once: a TIMEOUT_MS not yet due gives way to it. */
static void exec_ladder(struct session *ss)
{
	struct exec *ex = &ss->ex;

	if (ex->escalation)
		return;
	timer_cancel(&ss->rt->loop, &ex->timer);
	ex->timer.fn = exec_timer;
	exec_escalate(ss);
}

/* A command the shell has not started (it is still starting) ends
 * unstarted, as the signal would have ended it. */
static void exec_end_unstarted(struct session *ss, int sig)
{
	ss->ex.status = 128 + sig;
	exec_prepare_finish(ss);
}

/* Signals whose default action ignores or stops: no reason to drop a
 * command that has not started. */
#define SIG_KEEPS_QUEUED                                                       \
	((1ull << SIGCHLD) | (1ull << SIGCONT) | (1ull << SIGURG) |            \
	 (1ull << SIGWINCH) | (1ull << SIGSTOP) | (1ull << SIGTSTP) |          \
	 (1ull << SIGTTIN) | (1ull << SIGTTOU))

/* SHELL_SIGNAL: sig to the command the session runs.  1 if one runs, 0
 * if none (nothing is sent: the idle shell is never signalled), or
 * -errno.  Before the shell is ready its INT trap may not be set yet, so
 * a signal would kill the shell; the command it waits for takes it. */
int exec_signal(struct session *ss, int sig)
{
	if (ss->ex.phase == EX_QUEUED) {
		if (sig >= 64 || !(SIG_KEEPS_QUEUED >> sig & 1))
			exec_end_unstarted(ss, sig);
		return 1;
	}
	return ss->ex.phase == EX_RUNNING ? exec_kill_fg(ss, sig) : 0;
}

/* SHELL_SIGNAL CANCEL: the ladder the EXEC's own CANCEL runs, from any
 * client, decided here so that a command ending meanwhile cannot turn a
 * SIGKILL against the idle shell.  1 if a command runs, else 0. */
int exec_cancel_any(struct session *ss, uint32_t grace_ms)
{
	if (ss->ex.phase == EX_QUEUED) {
		exec_end_unstarted(ss, SIGINT);
		return 1;
	}
	if (ss->ex.phase != EX_RUNNING)
		return 0;
	if (!ss->ex.escalation)
		ss->ex.grace_ms = grace_ms;
	exec_ladder(ss);
	return 1;
}

/* ---- stream ops ---- */

static void exec_data(struct stream *s, uint8_t channel, const uint8_t *p,
		      size_t n, bool fin)
{
	struct session *ss = s->owner;

	if (channel != WCH_STDIN) {
		stream_grant(s, (uint32_t)n);
		return;
	}
	/* The conn layer bounds what is unacknowledged by the window we
	 * granted, so the queue cannot grow past it. */
	ss->in_owed += n;
	if (stdin_queue(ss, p, n, fin) < 0) {
		ss->in_owed -= n;
		stream_grant(s, (uint32_t)n);
	}
}

static void exec_writable(struct stream *s)
{
	struct session *ss = s->owner;

	if (ss->ex.phase == EX_FINISHING) {
		exec_try_finish(ss);
		return;
	}
	pend_flush(&ss->ex);
	if (!ss->reading && ss->ptm >= 0 && exec_read_room(ss))
		session_set_reading(ss, true);
}

static void exec_cancel(struct stream *s)
{
	struct session *ss = s->owner;
	struct exec *ex = &ss->ex;

	if (ex->phase == EX_FINISHING)
		return; /* it has ended: the RESULT is on its way */
	ex->cancelled = true;
	if (ex->phase == EX_QUEUED) {
		exec_abort(ss, E_CANCELLED, "cancelled before it started");
		return;
	}
	if (ex->phase == EX_RUNNING)
		exec_ladder(ss);
}

/* The client is gone.  A DETACH command goes on, its output kept (wait
 * mode from now) for EXEC_WAIT; any other is stopped by the CANCEL
 * ladder, so a vanished client never leaves the session busy. */
static void exec_detach(struct stream *s)
{
	struct session *ss = s->owner;
	struct exec *ex = &ss->ex;

	ex->s = NULL;
	ex->pend_head = ex->pend_len = 0;
	ss->in_owed = 0;
	ex->keep = ex->detach;
	ex->mode = WM_WAIT;
	if (ex->phase == EX_FINISHING || (ex->phase == EX_QUEUED && !ex->keep))
		exec_try_finish(ss);
	else if (ex->phase == EX_RUNNING && !ex->keep && !ex->escalation)
		exec_escalate(ss);
	if (!ss->reading && ss->ptm >= 0)
		session_set_reading(ss, true);
}

const struct stream_ops exec_ops = {
    .data = exec_data,
    .writable = exec_writable,
    .cancel = exec_cancel,
    .detach = exec_detach,
};

/* ---- the request ---- */

struct exec_req {
	struct wire_field session, cmd, cwd;
	uint64_t timeout_ms, limit, mode, format, with_stdin, detach, yield;
};

/* 0, or -1 after answering the error. */
static int exec_parse(struct stream *s, const uint8_t *p, size_t n,
		      struct exec_req *q)
{
	size_t max_cmd = stream_runner(s)->cfg.max_command;
	int has_session, has_cmd, has_format;

	if ((has_session =
		 req_bytes(s, p, n, T_SESSION, SIZE_MAX, &q->session)) < 0 ||
	    (has_cmd = req_bytes(s, p, n, T_COMMAND, SIZE_MAX, &q->cmd)) < 0 ||
	    req_uint(s, p, n, T_TIMEOUT_MS, 0, 0, UINT32_MAX, &q->timeout_ms) <
		0 ||
	    req_uint(s, p, n, T_OUTPUT_LIMIT, EXEC_OUTPUT_DEFAULT, 0, REQ_ANY,
		     &q->limit) < 0 ||
	    req_uint(s, p, n, T_MODE, WM_WAIT, 0, WM_STREAM, &q->mode) < 0 ||
	    (has_format = req_uint(s, p, n, T_FORMAT, 0, 0, WFMT_PLAIN,
				   &q->format)) < 0 ||
	    req_uint(s, p, n, T_STDIN, 0, 0, REQ_ANY, &q->with_stdin) < 0 ||
	    req_uint(s, p, n, T_DETACH, 0, 0, REQ_ANY, &q->detach) < 0 ||
	    req_uint(s, p, n, T_YIELD_MS, 0, 0, UINT32_MAX, &q->yield) < 0 ||
	    req_str(s, p, n, T_CWD, WRAP_MAX, &q->cwd) < 0)
		return -1;
	if (!has_session) {
		q->session.val = (const uint8_t *)"main";
		q->session.len = 4;
	}
	if (!has_cmd || memchr(q->cmd.val, 0, q->cmd.len)) {
		stream_error(s, E_BAD_REQUEST, 0,
			     "COMMAND is required, without NUL bytes");
		return -1;
	}
	if (q->cmd.len > max_cmd) {
		stream_error(
		    s, E_LIMIT, 0,
		    "COMMAND is longer than the runner's --max-command (%zu bytes)",
		    max_cmd);
		return -1;
	}
	if (!has_format)
		q->format = q->mode == WM_WAIT ? WFMT_PLAIN : WFMT_RAW;
	return 0;
}

static void exec_init(struct session *ss, struct stream *s,
		      const struct exec_req *q, bool respawned)
{
	struct exec *ex = &ss->ex;
	size_t max = stream_max_payload(s) - RESULT_FIXED - PATH_MAX - 64;

	ex->s = s;
	ex->with_stdin = q->with_stdin != 0;
	ex->detach = q->detach != 0;
	ex->yield_ms = (uint32_t)q->yield;
	ex->keep = ex->waiting = ex->waiting_told = false;
	ex->raw = ex->raw_seen = 0;
	ex->limit = q->limit < max ? (size_t)q->limit : max;
	ex->mode = (uint8_t)q->mode;
	ex->format = (uint8_t)q->format;
	ex->timed_out = ex->cancelled = false;
	ex->respawned = respawned || ss->idle_respawned;
	ex->restored = respawned ? ss->restore : ss->idle_restored;
	ss->idle_respawned = ss->idle_restored = false;
	ex->escalation = 0;
	ex->grace_ms = EXEC_INT_GRACE_MS;
	ex->status = 0;
	ex->start_ns = now_ns();
	ex->total = ex->out_off = 0;
	ex->pend_head = ex->pend_len = 0;
	plain_init(&ex->plain);
	ex->errname.held = 0;
	collector_init(&ex->col, ex->limit);
	ex->timer.fn = exec_timer;
	s->ops = &exec_ops;
	s->owner = ss;
	exec_tick_start(ss);
}

void shell_req_exec(struct stream *s, const uint8_t *p, size_t n)
{
	struct runner *rt = stream_runner(s);
	struct exec_req q;
	struct session *ss;
	bool respawned = false;
	int r;

	if (exec_parse(s, p, n, &q) < 0)
		return;
	ss = session_find(rt, (const char *)q.session.val, q.session.len);
	if (!ss) {
		stream_error(s, E_NOT_FOUND, 0, "no session named '%.*s'",
			     (int)(q.session.len > 64 ? 64 : q.session.len),
			     q.session.val);
		return;
	}
	if (ss->ex.phase != EX_IDLE && ss->ex.phase != EX_DONE) {
		stream_error(s, E_BUSY, 0, "session %s is running a command",
			     ss->name);
		return;
	}
	if (ss->ex.phase == EX_DONE)
		exec_reset(ss); /* a RESULT nobody collected is dropped */
	if (ss->pid <= 0) {
		if ((r = session_spawn(ss)) < 0) {
			stream_error(s, E_EXEC, -r,
				     "session %s: cannot start the shell: %s",
				     ss->name, strerror(-r));
			return;
		}
		respawned = true;
	}
	if ((r = put_command(ss->cmd_fd, q.cmd.val, q.cmd.len)) < 0) {
		stream_error_errno(s, -r, "cannot store the command text");
		return;
	}
	if (wrap_build(s, ss, p, n, &q.cwd) < 0)
		return;
	exec_init(ss, s, &q, respawned);
	if (q.timeout_ms)
		timer_arm(&rt->loop, &ss->ex.timer, q.timeout_ms, exec_timer);
	if (ss->ready)
		exec_begin(ss);
	else
		exec_enter(ss, EX_QUEUED);
}
