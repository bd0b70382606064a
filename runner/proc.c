/* proc.c - spawned processes: registry, exit, drain, result, teardown.
 * The life cycle is described in proc_internal.h. */
#include "proc_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <unistd.h>

int proc_init(struct runner *rt)
{
	struct proc_state *ps = calloc(1, sizeof(*ps));

	if (!ps)
		return -ENOMEM;
	ps->rt = rt;
	/* Without /dev/null (a VM before its mounts) stdin falls back to an
	 * empty pipe, see proc_start.c. */
	ps->devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
	rt->proc = ps;
	return 0;
}

/* Memory only: fds, timers, the child and streams are already gone. */
void proc_release(struct proc *p)
{
	unsigned i;

	for (i = 0; i < p->nout; i++)
		ring_free(&p->out[i].ring);
	free(p->argv);
	free(p);
}

static void proc_free_deferred(struct deferred *d)
{
	proc_release(container_of(d, struct proc, free_d));
}

static void proc_unlink(struct proc *p)
{
	struct proc_state *ps = p->ps;

	if (p->prev)
		p->prev->next = p->next;
	else
		ps->procs = p->next;
	if (p->next)
		p->next->prev = p->prev;
	if (p->finished && p->background)
		ps->nkept--;
}

/* Unlinked now, freed after the current batch (it embeds watches). */
static void proc_free_later(struct proc *p)
{
	if (p->unlinked)
		return;
	p->unlinked = true;
	proc_unlink(p);
	loop_defer(&p->ps->rt->loop, &p->free_d, proc_free_deferred);
}

/* Free once nothing refers to it: the result is out, no reader is left,
 * and a background process is only dropped to make room (proc_trim). */
void proc_maybe_free(struct proc *p)
{
	if (!p->finished || p->fg || p->atts || p->background)
		return;
	proc_free_later(p);
}

/* Forget the oldest finished background processes until at most keep
 * are left; one that still has readers stays until they leave. */
void proc_trim(struct proc_state *ps, unsigned keep)
{
	struct proc *p, *oldest;

	while (ps->nkept > keep) {
		oldest = NULL;
		for (p = ps->procs; p; p = p->next)
			if (p->finished && p->background && !p->atts &&
			    !p->unlinked)
				oldest = p;
		if (!oldest)
			return;
		proc_free_later(oldest);
	}
}

void proc_fini(struct runner *rt)
{
	struct proc_state *ps = rt->proc;
	struct proc *p;
	unsigned i;

	if (!ps)
		return;
	while ((p = ps->procs)) {
		ps->procs = p->next;
		if (!p->exited) {
			proc_kill_group(p, SIGKILL);
			child_unwatch(rt, &p->child);
		}
		timer_cancel(&rt->loop, &p->timeout);
		timer_cancel(&rt->loop, &p->drain);
		for (i = 0; i < p->nout; i++)
			proc_out_close(&p->out[i]);
		proc_in_close(p, 0);
		/* Streams were detached when the connections closed. */
		proc_release(p);
	}
	if (ps->devnull >= 0)
		close(ps->devnull);
	free(ps);
	rt->proc = NULL;
}

struct proc *proc_find(struct proc_state *ps, pid_t pid)
{
	struct proc *p;

	for (p = ps->procs; p; p = p->next)
		if (p->pid == pid)
			return p;
	return NULL;
}

/* The whole group: what the process started goes too.  ESRCH (the group
 * is already empty) is the expected race with exit. */
void proc_kill_group(struct proc *p, int sig)
{
	if (kill(-p->pid, sig) < 0 && errno == ESRCH && !p->exited)
		kill(p->pid, sig);
}

void proc_result_fields(const struct proc *p, struct wire_buf *b)
{
	int st = p->wstatus;

	wb_u32(b, T_PID, (uint32_t)p->pid);
	wb_u8(b, T_STATE, p->exited ? WPS_EXITED : WPS_RUNNING);
	wb_u64(b, T_START_MS, p->start_ms);
	if (p->exited) {
		if (WIFSIGNALED(st)) {
			wb_i32(b, T_EXIT_STATUS, 128 + WTERMSIG(st));
			wb_u32(b, T_TERM_SIGNAL, (uint32_t)WTERMSIG(st));
		} else {
			wb_i32(b, T_EXIT_STATUS, WEXITSTATUS(st));
			wb_u32(b, T_TERM_SIGNAL, 0);
		}
		wb_u64(b, T_DURATION_US, p->duration_us);
		wb_u8(b, T_TIMED_OUT, p->timed_out);
	}
	wb_u64(b, T_TOTAL_BYTES, p->total_out);
	wb_u8(b, T_TRUNCATED, p->truncated);
}

/* The foreground RESULT: small, so it always goes and ends the stream. */
static void proc_fg_result(struct proc *p)
{
	uint8_t buf[256];
	struct wire_buf b;

	if (!p->fg)
		return;
	wb_init(&b, buf, sizeof(buf));
	proc_result_fields(p, &b);
	stream_result(p->fg, &b);
	p->fg = NULL;
}

static void proc_finish(struct proc *p)
{
	struct proc_state *ps = p->ps;

	if (p->finished)
		return;
	p->finished = true;
	timer_cancel(&ps->rt->loop, &p->drain);
	proc_in_close(p, EPIPE);
	ps->nlive--;
	if (p->background)
		ps->nkept++;
	proc_fg_result(p);
	proc_att_pump_all(p);
	if (p->background)
		proc_trim(ps, PROC_KEEP_EXITED);
	else
		proc_maybe_free(p);
}

static bool proc_outputs_done(const struct proc *p)
{
	unsigned i;

	for (i = 0; i < p->nout; i++)
		if (p->out[i].fd >= 0)
			return false;
	return true;
}

void proc_out_eof(struct proc_out *o)
{
	struct proc *p = o->p;

	if (p->exited && proc_outputs_done(p))
		proc_finish(p);
}

/* Deadline after the exit: what is in the pipe now is still delivered,
 * nothing written later (by a grandchild that kept the fd) is waited for. */
static void proc_drain_expired(struct timer *t)
{
	struct proc *p = container_of(t, struct proc, drain);
	struct proc_out *o;
	unsigned i;
	int pending;

	for (i = 0; i < p->nout; i++) {
		o = &p->out[i];
		if (o->fd < 0)
			continue;
		if (ioctl(o->fd, FIONREAD, &pending) < 0 || pending <= 0) {
			proc_out_close(o);
			continue;
		}
		o->drain_left = pending;
		if (o->watched)
			proc_out_readable(&o->w, EPOLLIN);
	}
	if (proc_outputs_done(p))
		proc_finish(p);
}

void proc_exited(struct child *c, int wstatus)
{
	struct proc *p = container_of(c, struct proc, child);
	struct loop *l = &p->ps->rt->loop;

	p->exited = true;
	p->wstatus = wstatus;
	p->duration_us = (now_ns() - p->start_ns) / 1000u;
	timer_cancel(l, &p->timeout);
	if (proc_outputs_done(p)) {
		proc_finish(p);
		return;
	}
	timer_arm(l, &p->drain, PROC_DRAIN_MS, proc_drain_expired);
}

unsigned proc_count(const struct runner *rt, unsigned *kept)
{
	*kept = rt->proc ? rt->proc->nkept : 0;
	return rt->proc ? rt->proc->nlive : 0;
}
