/* shell_wait.c - a running command seen from outside: whether it waits
 * to read the terminal, answering early (YIELD_MS), and EXEC_WAIT, which
 * picks up a command that no client follows (yielded or DETACH). */
#include "shell_internal.h"
#include "procfs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

/* ---- does the foreground wait for input? ---- */

/* A small /proc file, NUL-terminated; its length, or -1. */
/* Is pid asleep reading the terminal (tty: its path)?  /proc/PID/syscall
 * names the call a sleeping task is in and its arguments: a read of a
 * descriptor of the terminal, or a select/poll while its stdin is the
 * terminal (readline, REPLs). */
static bool reads_terminal(int pid, const char *tty)
{
	char name[32], buf[128], link[64], *p;
	unsigned long fd = 0;
	long nr;
	ssize_t k;

	if (proc_read(pid, "syscall", buf, sizeof(buf)) <= 0)
		return false;
	nr = strtol(buf, &p, 10);
	if (nr == SYS_read || nr == SYS_readv)
		fd = strtoul(p, NULL, 16);
	else if (nr != SYS_pselect6 && nr != SYS_ppoll
#ifdef SYS_select
		 && nr != SYS_select && nr != SYS_poll
#endif
	)
		return false;
	snprintf(name, sizeof(name), "fd/%lu", fd);
	k = proc_readlink(pid, name, link, sizeof(link) - 1);
	if (k <= 0)
		return false;
	link[k] = 0;
	return !strcmp(link, tty) || !strcmp(link, "/dev/tty");
}

/* Process group of pid: field 5 of /proc/PID/stat. */
static int stat_pgrp(int pid)
{
	char buf[256], *p;
	const char *f = proc_stat_fields(pid, buf, sizeof(buf));

	if (!f || strlen(f) < 2)
		return -1;
	strtol(f + 2, &p, 10); /* "S ppid pgrp": skip ppid */
	return (int)strtol(p, NULL, 10);
}

/* Any member of the terminal's foreground group: its leader (a REPL,
 * `read`) or another (an editor that git started). */
bool session_waits_input(const struct session *ss)
{
	char path[32], tty[64];
	struct dirent *e;
	bool found;
	int pg, pid;
	ssize_t k;
	DIR *d;

	if (ss->ptm < 0 || (pg = tcgetpgrp(ss->ptm)) <= 0)
		return false;
	snprintf(path, sizeof(path), "/proc/self/fd/%d", ss->pts);
	if ((k = readlink(path, tty, sizeof(tty) - 1)) <= 0)
		return false;
	tty[k] = 0;
	if (!(d = opendir("/proc")))
		return false;
	for (found = false; !found && (e = readdir(d));)
		if ((pid = atoi(e->d_name)) > 0 && stat_pgrp(pid) == pg)
			found = reads_terminal(pid, tty);
	closedir(d);
	return found;
}

/* ---- the tick: probe, EVENT WAITING_INPUT, yield ---- */

static void exec_tick(struct timer *t);

static void tick_arm(struct session *ss, uint64_t ms)
{
	struct exec *ex = &ss->ex;
	uint64_t now = now_ns(), left;

	if (ex->yield_ms && ex->mode == WM_WAIT) {
		left = ex->yield_at > now ? (ex->yield_at - now) / 1000000 : 0;
		if (left < ms)
			ms = left ? left : 1;
	}
	timer_arm(&ss->rt->loop, &ex->tick, ms, exec_tick);
}

/* Only commands someone can be told about are probed: stream mode (the
 * EVENT) and YIELD_MS; a plain wait-mode EXEC costs no timer. */
void exec_tick_start(struct session *ss)
{
	struct exec *ex = &ss->ex;

	ex->yield_at = now_ns() + (uint64_t)ex->yield_ms * 1000000;
	if (ex->yield_ms || ex->mode == WM_STREAM)
		tick_arm(ss, TICK_FIRST_MS);
}

/* Answer now with the output so far and RUNNING=1.  The command goes on
 * with no client; EXEC_WAIT continues from here.  false: the connection
 * is full, try again later. */
static bool exec_yield(struct session *ss)
{
	struct exec *ex = &ss->ex;
	int r;

	exec_plain_flush(ss);
	if ((r = exec_send_result(ss, true)) == -EAGAIN)
		return false;
	if (r < 0)
		stream_error(ex->s, E_INTERNAL, -r, "cannot build the RESULT");
	ex->s = NULL;
	ex->keep = ex->detach = true;
	collector_free(&ex->col);
	collector_init(&ex->col, ex->limit);
	return true;
}

static void exec_tick(struct timer *t)
{
	struct exec *ex = container_of(t, struct exec, tick);
	struct session *ss = container_of(ex, struct session, ex);
	bool quiet = ex->raw == ex->raw_seen;

	ex->raw_seen = ex->raw;
	ex->waiting =
	    ex->phase == EX_RUNNING && quiet && session_waits_input(ss);
	if (!ex->waiting)
		ex->waiting_told = false;
	else if (!ex->waiting_told && ex->mode == WM_STREAM && ex->s) {
		exec_event(ss, EV_WAITING_INPUT);
		ex->waiting_told = true;
	}
	if (!ex->s || ex->phase > EX_RUNNING)
		return; /* nobody to tell, or it has ended */
	if (ex->mode == WM_WAIT && ex->yield_ms &&
	    (ex->waiting || now_ns() >= ex->yield_at) && exec_yield(ss))
		return;
	tick_arm(ss, TICK_MS);
}

/* ---- EXEC_WAIT ---- */

void shell_req_exec_wait(struct stream *s, const uint8_t *p, size_t n)
{
	struct session *ss = req_session(s, p, n);
	struct exec *ex;
	uint64_t y;

	if (!ss || req_uint(s, p, n, T_YIELD_MS, 0, 0, UINT32_MAX, &y) < 0)
		return;
	ex = &ss->ex;
	if (ex->s || !ex->keep) {
		stream_error(s, ex->s ? E_BUSY : E_NOT_FOUND, 0,
			     ex->s ? "session %s: a client follows its command"
				   : "session %s has no command to wait for",
			     ss->name);
		return;
	}
	ex->s = s;
	s->ops = &exec_ops;
	s->owner = ss;
	ex->mode = WM_WAIT;
	ex->yield_ms = (uint32_t)y;
	if (ex->phase == EX_DONE) {
		exec_enter(ss, EX_FINISHING);
		exec_try_finish(ss);
		return;
	}
	exec_tick_start(ss);
}
