/* fs_job.c - long walks (LS, FIND, GREP, DIFF, REMOVE -r) run in a forked
 * helper process; its output comes back through a pipe that the loop
 * forwards as DATA.
 *
 * Why a process and not slices on a timer: a walk is a chain of blocking
 * syscalls (getdents, open, read on a cold disk or a slow network mount)
 * whose cost we cannot bound in advance; a helper may block as long as it
 * likes while the loop serves everyone else, the kernel gives it its own
 * CPU on a multi-core machine, and CANCEL or a dead client is a SIGKILL.
 * Backpressure is the pipe itself: when the client's window is used up
 * we stop reading, the pipe fills and the helper blocks in write(2).  The
 * runner holds no result memory at all; the helper's is its own.
 *
 * The helper is a fork() without exec: it inherits the runner's
 * credentials, seccomp filter and the fds the request opened (the
 * confined dirfd).  Every other fd is closed at once in the child, so it
 * never keeps a client socket or another job's pipe open.
 */
#include "child.h"
#include "fs_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#define JOB_PIPE_SIZE (1 << 20)

struct fs_job {
	struct fs_state *fs;
	struct stream *s; /* NULL once answered, cancelled or detached */
	struct watch w;	  /* read end of the data pipe */
	struct child child;
	struct deferred free_d;
	struct fs_job *prev, *next;
	int data_fd, status_fd;
	uint64_t offset; /* DATA bytes forwarded */
	bool exited;
};

/* ---- the child side ---- */

void fs_out_flush(struct fs_out *o)
{
	if (o->len && !o->failed && fs_write_all(o->fd, o->buf, o->len) < 0)
		o->failed = true; /* EPIPE: the runner stopped listening */
	o->len = 0;
}

void fs_out_write(struct fs_out *o, const void *p, size_t n)
{
	const uint8_t *b = p;
	size_t k;

	while (n && !o->failed) {
		if (o->len == sizeof(o->buf))
			fs_out_flush(o);
		k = sizeof(o->buf) - o->len;
		if (k > n)
			k = n;
		memcpy(o->buf + o->len, b, k);
		o->len += k;
		b += k;
		n -= k;
	}
}

void fs_out_record(struct fs_out *o, const struct wire_buf *b)
{
	if (!b->overflow)
		fs_out_write(o, b->p, b->len);
}

bool fs_cap(struct fs_summary *sum, uint64_t max, bool *stop)
{
	if (!max || sum->count < max)
		return true;
	sum->truncated = ++sum->more < FS_MORE_MAX ? 1 : 2;
	*stop |= sum->truncated == 2;
	return false;
}

static void __attribute__((noreturn))
child_main(fs_work_fn work, void *arg, int data_w, int status_w, int *keep,
	   size_t nkeep)
{
	struct fs_summary sum;
	struct fs_out *out;
	sigset_t none;

	/* The runner's mask blocks the signals its signalfd reads: a helper
	 * must die of SIGTERM at shutdown like any process. */
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	/* A walk needs no capability (a VM's runner holds CAP_SYS_BOOT). */
	harden_helper();
	keep[nkeep++] = data_w;
	keep[nkeep++] = status_w;
	fd_close_from(3, keep, nkeep, false);
	memset(&sum, 0, sizeof(sum));
	out = malloc(sizeof(*out));
	if (!out) {
		sum.code = E_IO;
		sum.err = ENOMEM;
		strcpy(sum.msg, "helper: out of memory");
	} else {
		out->fd = data_w;
		out->len = 0;
		out->failed = false;
		work(arg, out, &sum);
		fs_out_flush(out);
	}
	/* Under PIPE_BUF: one atomic write, readable once data hits EOF. */
	if (write(status_w, &sum, sizeof(sum)) < 0)
		_exit(1);
	_exit(0);
}

/* ---- the runner side ---- */

static void job_maybe_free(struct fs_job *j);

static void job_free(struct deferred *d)
{
	free(container_of(d, struct fs_job, free_d));
}

static void job_close_data(struct fs_job *j)
{
	if (j->data_fd < 0)
		return;
	loop_unwatch(&j->fs->rt->loop, &j->w);
	close(j->data_fd);
	j->data_fd = -1;
}

static void job_finish(struct fs_job *j)
{
	struct fs_summary sum;
	struct stream *s = j->s;
	uint8_t buf[64];
	struct wire_buf b;
	ssize_t n;

	n = read(j->status_fd, &sum, sizeof(sum));
	if (n != (ssize_t)sizeof(sum)) {
		stream_error(s, E_INTERNAL, 0,
			     "the helper process ended without a summary");
	} else if (sum.code) {
		sum.msg[sizeof(sum.msg) - 1] = 0;
		stream_error(s, sum.code, sum.err, "%s", sum.msg);
	} else {
		wb_init(&b, buf, sizeof(buf));
		wb_u64(&b, T_COUNT, sum.count);
		wb_u8(&b, T_TRUNCATED, (uint8_t)sum.truncated);
		if (sum.truncated)
			wb_u64(&b, T_MORE, sum.more);
		wb_u64(&b, T_TOTAL_BYTES, j->offset);
		stream_result(s, &b); /* small: it always goes */
	}
	j->s = NULL;
}

static void job_readable(struct watch *w, uint32_t events)
{
	struct fs_job *j = container_of(w, struct fs_job, w);
	size_t room;
	uint8_t *buf;
	ssize_t n;

	(void)events;
	for (;;) {
		room = stream_data_room(j->s);
		if (!room) {
			loop_modify(&j->fs->rt->loop, &j->w, 0);
			stream_want_writable(j->s);
			return;
		}
		buf = stream_data_buf(j->s);
		n = read(j->data_fd, buf, room);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		if (n <= 0)
			break;
		stream_data_commit(j->s, WCH_STDOUT, j->offset, (size_t)n, 0);
		j->offset += (uint64_t)n;
	}
	job_close_data(j);
	job_finish(j);
	job_maybe_free(j);
}

static void job_writable(struct stream *s)
{
	struct fs_job *j = s->owner;

	loop_modify(&j->fs->rt->loop, &j->w, EPOLLIN);
}

static void job_stop(struct fs_job *j)
{
	if (!j->exited)
		kill(j->child.pid, SIGKILL);
	job_close_data(j);
	j->s = NULL;
	job_maybe_free(j);
}

/* CANCEL needs no op: conn_on_cancel's default detaches (stops the
 * helper) and answers E_CANCELLED. */
static void job_detach(struct stream *s)
{
	job_stop(s->owner);
}

static const struct stream_ops job_ops = {
    .writable = job_writable,
    .detach = job_detach,
};

static void job_exited(struct child *c, int wstatus)
{
	struct fs_job *j = container_of(c, struct fs_job, child);

	(void)wstatus; /* the summary, or its absence, tells the client */
	j->exited = true;
	job_maybe_free(j);
}

static void job_maybe_free(struct fs_job *j)
{
	if (!j->exited || j->s || j->data_fd >= 0)
		return;
	if (j->prev)
		j->prev->next = j->next;
	else
		j->fs->jobs = j->next;
	if (j->next)
		j->next->prev = j->prev;
	close(j->status_fd);
	loop_defer(&j->fs->rt->loop, &j->free_d, job_free);
}

static int job_spawn(struct fs_job *j, fs_work_fn work, void *arg,
		     const int *keep, size_t nkeep)
{
	int data[2], status[2], ck[8];
	pid_t pid;

	if (pipe2(data, O_CLOEXEC) < 0)
		return -errno;
	if (pipe2(status, O_CLOEXEC | O_NONBLOCK) < 0) {
		int err = errno;
		close(data[0]);
		close(data[1]);
		return -err;
	}
	/* Bigger pipe, fewer wakeups; the default 64 KiB still works. */
	(void)fcntl(data[0], F_SETPIPE_SZ, JOB_PIPE_SIZE);
	(void)fcntl(data[0], F_SETFL, O_NONBLOCK);
	memcpy(ck, keep, nkeep * sizeof(*keep));
	pid = fork();
	if (pid == 0) {
		close(data[0]);
		close(status[0]);
		child_main(work, arg, data[1], status[1], ck, nkeep);
	}
	close(data[1]);
	close(status[1]);
	if (pid < 0) {
		int err = errno;
		close(data[0]);
		close(status[0]);
		return -err;
	}
	j->data_fd = data[0];
	j->status_fd = status[0];
	child_watch(j->fs->rt, &j->child, pid, job_exited);
	return 0;
}

void fs_job_start_keep(struct stream *s, fs_work_fn work, void *arg,
		       void (*free_arg)(void *), const int *keep, size_t nkeep)
{
	struct fs_state *fs = fs_of(s);
	struct fs_job *j = calloc(1, sizeof(*j));
	int r = j ? 0 : -ENOMEM;

	if (j) {
		j->fs = fs;
		j->s = s;
		r = job_spawn(j, work, arg, keep, nkeep);
	}
	free_arg(arg);
	if (r < 0) {
		free(j);
		stream_error(s, wire_err_from_errno(-r), -r,
			     "cannot start the helper process: %s",
			     strerror(-r));
		return;
	}
	loop_watch(&fs->rt->loop, &j->w, j->data_fd, EPOLLIN, job_readable);
	j->next = fs->jobs;
	if (fs->jobs)
		fs->jobs->prev = j;
	fs->jobs = j;
	s->ops = &job_ops;
	s->owner = j;
}

void fs_job_kill_all(struct fs_state *fs)
{
	struct fs_job *j;

	for (j = fs->jobs; j; j = j->next)
		if (!j->exited)
			kill(j->child.pid, SIGKILL);
}
