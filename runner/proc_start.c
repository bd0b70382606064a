/* proc_start.c - SPAWN: make the pipes or PTY, start the program, wire
 * its fds into the loop; the foreground SPAWN stream. */
#include "proc_internal.h"
#include "proc_spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

/* The fds of one spawn: ours (kept) and the child's (closed after). */
struct spawn_fds {
	int ours[3]; /* stdin writer, stdout reader, stderr reader */
	int theirs[3];
};

/* ---- fds ---- */

static void fds_close(struct spawn_fds *f, bool ours)
{
	int i, *fd = ours ? f->ours : f->theirs;

	for (i = 0; i < 3; i++) {
		/* The PTY slave stands in all three child slots. */
		if (fd[i] >= 0 && (i == 0 || fd[i] != fd[i - 1]))
			close(fd[i]);
		fd[i] = -1;
	}
}

/* A pipe: `ours` end non-blocking for the loop, theirs blocking. */
static int pipe_pair(int *ours, int *theirs, bool we_read)
{
	int fd[2];

	if (pipe2(fd, O_CLOEXEC) < 0)
		return -errno;
	*ours = we_read ? fd[0] : fd[1];
	*theirs = we_read ? fd[1] : fd[0];
	if (fcntl(*ours, F_SETFL, O_NONBLOCK) < 0)
		return -errno;
	return 0;
}

static int fds_pipes(struct spawn_fds *f, const struct spawn_args *a,
		     int devnull)
{
	int r;

	if ((r = pipe_pair(&f->ours[1], &f->theirs[1], true)) < 0 ||
	    (r = pipe_pair(&f->ours[2], &f->theirs[2], true)) < 0)
		return r;
	if (a->stdin_open)
		return pipe_pair(&f->ours[0], &f->theirs[0], false);
	if (devnull >= 0) {
		f->theirs[0] = fcntl(devnull, F_DUPFD_CLOEXEC, 3);
		return f->theirs[0] < 0 ? -errno : 0;
	}
	/* No /dev/null: an empty pipe whose writer is gone reads as EOF. */
	if ((r = pipe_pair(&f->ours[0], &f->theirs[0], false)) < 0)
		return r;
	close(f->ours[0]);
	f->ours[0] = -1;
	return 0;
}

static int fds_pty(struct spawn_fds *f, const struct spawn_args *a)
{
	int sl, r;

	if ((r = pty_open(a->rows, a->cols, &f->ours[1], &sl)) < 0)
		return r;
	f->theirs[0] = f->theirs[1] = f->theirs[2] = sl;
	if (a->pty_mode && (r = pty_exact_modes(sl)) < 0)
		return r;
	/* Writes go through a duplicate: one epoll set cannot hold the same
	 * fd twice (reader and writer watches). */
	if (a->stdin_open &&
	    (f->ours[0] = fcntl(f->ours[1], F_DUPFD_CLOEXEC, 3)) < 0)
		return -errno;
	return 0;
}

/* ---- the foreground SPAWN stream ---- */

static void fg_data(struct stream *s, uint8_t ch, const uint8_t *d, size_t n,
		    bool fin)
{
	struct proc *p = s->owner;

	(void)ch;
	/* With stdin closed the bytes are dropped, credit returned. */
	if (n && proc_in_push(p, s, d, n, false) < 0)
		stream_grant(s, (uint32_t)n);
	if (fin)
		proc_in_eof(p);
}

static void fg_writable(struct stream *s)
{
	struct proc *p = s->owner;
	unsigned i;

	for (i = 0; i < p->nout; i++)
		proc_out_resume(&p->out[i]);
}

/* Nobody will read the output any more: the process group goes, its
 * pipes are closed, and it is freed once reaped. */
static void fg_drop(struct proc *p, struct stream *s)
{
	unsigned i;

	proc_in_forget(p, s);
	p->fg = NULL;
	if (!p->finished)
		proc_kill_group(p, SIGKILL);
	for (i = 0; i < p->nout; i++) {
		proc_out_close(&p->out[i]);
		proc_out_eof(&p->out[i]);
	}
	proc_maybe_free(p);
}

static void fg_cancel(struct stream *s)
{
	struct proc *p = s->owner;

	stream_error(s, E_CANCELLED, 0, "cancelled: process group %d killed",
		     (int)p->pid);
	fg_drop(p, s);
}

static void fg_detach(struct stream *s)
{
	fg_drop(s->owner, s);
}

const struct stream_ops proc_fg_ops = {
    .data = fg_data,
    .writable = fg_writable,
    .cancel = fg_cancel,
    .detach = fg_detach,
};

/* ---- start ---- */

static void proc_timeout(struct timer *t)
{
	struct proc *p = container_of(t, struct proc, timeout);

	p->timed_out = true;
	proc_kill_group(p, SIGKILL);
}

static struct proc *proc_new(struct proc_state *ps, const struct spawn_args *a)
{
	struct proc *p = calloc(1, sizeof(*p));
	unsigned i;

	if (!p || !(p->argv = malloc(a->argv_bytes))) {
		free(p);
		return NULL;
	}
	memcpy(p->argv, a->argv[0], a->argv_bytes);
	p->argv_len = a->argv_bytes;
	p->ps = ps;
	p->background = a->background;
	p->pty = a->pty;
	p->output_limit = a->output_limit;
	p->nout = a->pty ? 1 : 2;
	p->in_fd = -1;
	for (i = 0; i < 2; i++) {
		p->out[i].p = p;
		p->out[i].fd = -1;
		p->out[i].channel = (uint8_t)(WCH_STDOUT + i);
		p->out[i].drain_left = -1;
		ring_init(&p->out[i].ring, (size_t)ps->rt->cfg.ring_size);
	}
	return p;
}

static int spawn_error(struct stream *s, int err, enum spawn_stage stage,
		       const struct spawn_args *a)
{
	if (stage == SPAWN_EXEC)
		stream_error(s, E_EXEC, err, "cannot execute %s: %s",
			     a->argv[0], strerror(err));
	else if (stage == SPAWN_CHDIR)
		stream_error(s, wire_err_from_errno(err), err, "cwd %s: %s",
			     a->cwd, strerror(err));
	else
		stream_error_errno(s, err, "cannot start the process");
	return -1;
}

static int proc_launch(struct stream *s, struct proc *p,
		       const struct spawn_args *a, struct spawn_fds *f)
{
	struct spawn_req req = {.argv = a->argv, .cwd = a->cwd, .ctty = -1};
	enum spawn_stage stage = SPAWN_SETUP;
	char **envp;
	int r, i;

	r = a->pty ? fds_pty(f, a) : fds_pipes(f, a, p->ps->devnull);
	if (r < 0)
		return spawn_error(s, -r, SPAWN_SETUP, a);
	if (!(envp = proc_build_env(a)))
		return spawn_error(s, ENOMEM, SPAWN_SETUP, a);
	req.envp = envp;
	for (i = 0; i < 3; i++)
		req.fd[i] = f->theirs[i];
	if (a->pty)
		req.ctty = f->theirs[0];
	p->start_ns = now_ns();
	p->start_ms = now_wall_ms();
	r = spawn_start(&req, &p->pid, &stage);
	free(envp);
	fds_close(f, false);
	if (r < 0)
		return spawn_error(s, -r, stage, a);
	child_watch(p->ps->rt, &p->child, p->pid, proc_exited);
	return 0;
}

static void proc_wire(struct proc *p, struct spawn_fds *f)
{
	struct proc_state *ps = p->ps;
	unsigned i;

	p->in_fd = f->ours[0];
	for (i = 0; i < p->nout; i++) {
		p->out[i].fd = f->ours[1 + i];
		proc_out_resume(&p->out[i]);
	}
	p->next = ps->procs;
	if (ps->procs)
		ps->procs->prev = p;
	ps->procs = p;
	ps->nlive++;
}

/* EVENT started, then: the stream follows the process (foreground, or a
 * background one followed until the client leaves), or RESULT at once. */
static void proc_answer_start(struct stream *s, struct proc *p,
			      const struct spawn_args *a)
{
	uint8_t buf[128];
	struct wire_buf b;

	wb_init(&b, buf, sizeof(buf));
	wb_u16(&b, T_EVENT, EV_STARTED);
	wb_u32(&b, T_PID, (uint32_t)p->pid);
	wb_u64(&b, T_START_MS, p->start_ms);
	/* Requests are parsed only with room in the output buffer for this
	 * small frame; were it refused, the RESULT still carries the pid. */
	(void)stream_event(s, &b);
	if (!p->background) {
		p->fg = s;
		s->ops = &proc_fg_ops;
		s->owner = p;
	} else if (a->follow) {
		if (!proc_att_add(p, s, ATT_FOLLOW, NULL))
			stream_error_errno(s, ENOMEM, "started, cannot follow");
	} else {
		wb_init(&b, buf, sizeof(buf));
		proc_result_fields(p, &b);
		stream_result(s, &b); /* small: it always goes */
	}
}

void proc_req_spawn(struct stream *s, const uint8_t *payload, size_t n)
{
	struct proc_state *ps = stream_runner(s)->proc;
	struct spawn_fds f = {{-1, -1, -1}, {-1, -1, -1}};
	struct spawn_args a;
	struct proc *p;

	if (proc_parse_spawn(s, payload, n, &a) < 0)
		return;
	/* Remembered exits make room for a new process first. */
	if (ps->nlive + ps->nkept >= ps->rt->cfg.max_procs &&
	    ps->nlive < ps->rt->cfg.max_procs)
		proc_trim(ps, ps->rt->cfg.max_procs - ps->nlive - 1);
	if (ps->nlive + ps->nkept >= ps->rt->cfg.max_procs) {
		stream_error(s, E_LIMIT, 0,
			     "%u processes running or remembered (--max-procs)",
			     ps->nlive + ps->nkept);
		goto out;
	}
	if (!(p = proc_new(ps, &a))) {
		stream_error_errno(s, ENOMEM, "SPAWN");
		goto out;
	}
	if (proc_launch(s, p, &a, &f) < 0) {
		fds_close(&f, true);
		fds_close(&f, false);
		proc_release(p);
		goto out;
	}
	proc_wire(p, &f);
	if (a.timeout_ms)
		timer_arm(&ps->rt->loop, &p->timeout, a.timeout_ms,
			  proc_timeout);
	proc_answer_start(s, p, &a);
out:
	free(a.block);
}
