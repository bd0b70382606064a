/* proc_spawn.c - clone + exec with errors reported through a pipe.
 *
 * The child is created with CLONE_VM | CLONE_VFORK on a private stack, as
 * musl's posix_spawn does: no page tables are copied (the runner's
 * connection buffers are large), and the parent resumes only once the
 * child has exec'd or exited.  The child therefore shares our memory until
 * execve: it calls only async-signal-safe functions, writes nothing but
 * its own stack, and reports failure as (stage, errno) on a close-on-exec
 * pipe.  EOF on that pipe means execve succeeded.
 *
 * The runner has no signal handlers (signals arrive through signalfd), so
 * no handler can run on the child's side of the shared memory; the
 * signals the runner blocks stay blocked until just before execve.
 */
#include "proc_spawn.h"
#include "child.h"
#include "runner.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

/* Sanitizer builds (tests): the borrowed stack is unpoisoned after the
 * uninstrumented child (CHILD_CODE) used it. */
#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
#define UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION(p, n)
#else
#define UNPOISON(p, n) ((void)(p), (void)(n))
#endif

#define SPAWN_STACK (32u << 10)

struct spawn_ctx {
	const struct spawn_req *req;
	int errfd;
};

/* The runner's copies made for one spawn, closed once it is done. */
struct lifted {
	int fd[3 + SPAWN_MAPS_MAX + 1];
	unsigned n;
};

CHILD_CODE static _Noreturn void child_fail(int errfd, int stage, int err)
{
	int msg[2] = {stage, err};

	/* A short write is impossible for 8 bytes into an empty pipe; if it
	 * failed the parent sees EOF and a live child that exits 127 at once,
	 * which it reports as such. */
	if (write(errfd, msg, sizeof(msg)) < 0)
		(void)0;
	_exit(127);
}

CHILD_CODE static const char *env_path(char *const *envp)
{
	int i = env_index(envp, "PATH", 4);

	return i >= 0 ? envp[i] + 5 : DEFAULT_PATH;
}

/* execvpe semantics over the child's own PATH: ENOENT and ENOTDIR move on,
 * EACCES is remembered, anything else stops the search. */
CHILD_CODE static int child_exec(char *const *argv, char *const *envp)
{
	const char *file = argv[0], *p, *colon;
	char path[PATH_MAX];
	size_t flen = strlen(file), dlen;
	bool seen_eacces = false;

	if (strchr(file, '/')) {
		execve(file, argv, envp);
		return errno;
	}
	if (flen > NAME_MAX)
		return ENAMETOOLONG;
	for (p = env_path(envp);; p = colon + 1) {
		colon = strchrnul(p, ':');
		dlen = (size_t)(colon - p);
		if (dlen + 1 + flen < sizeof(path)) {
			memcpy(path, p, dlen);
			path[dlen] = '/';
			memcpy(path + dlen + (dlen ? 1 : 0), file, flen + 1);
			execve(path, argv, envp);
			if (errno == EACCES)
				seen_eacces = true;
			else if (errno != ENOENT && errno != ENOTDIR)
				return errno;
		}
		if (!*colon)
			break;
	}
	return seen_eacces ? EACCES : ENOENT;
}

CHILD_CODE static void child_session(const struct spawn_ctx *ctx)
{
	const struct spawn_req *req = ctx->req;

	if (req->ctty >= 0) {
		if (setsid() < 0 || ioctl(req->ctty, TIOCSCTTY, 0) < 0)
			child_fail(ctx->errfd, SPAWN_SETUP, errno);
	} else if (setpgid(0, 0) < 0) {
		child_fail(ctx->errfd, SPAWN_SETUP, errno);
	}
	/* A terminal the runner lost meanwhile leaves the program in the
	 * background, as a failed tcsetpgrp under tini does. */
	if (req->fg_tty)
		child_foreground(STDIN_FILENO);
}

/* No source is a target (spawn_start sees to it), so no dup2 overwrites
 * a source still to be copied, and each dup2 clears CLOEXEC. */
CHILD_CODE static void child_fds(const struct spawn_ctx *ctx)
{
	const struct spawn_req *req = ctx->req;
	int keep[SPAWN_MAPS_MAX];
	unsigned i;

	for (i = 0; i < 3; i++)
		if (req->fd[i] >= 0 && dup2(req->fd[i], (int)i) < 0)
			child_fail(ctx->errfd, SPAWN_SETUP, errno);
	for (i = 0; i < req->nmap; i++) {
		keep[i] = req->map[i].to;
		if (dup2(req->map[i].from, keep[i]) < 0)
			child_fail(ctx->errfd, SPAWN_SETUP, errno);
	}
	/* Everything else (the error pipe too) must disappear at execve,
	 * whatever another part of the runner forgot to mark close-on-exec. */
	if (!req->keep_fds)
		fd_close_from(3, keep, req->nmap, true);
}

CHILD_CODE static int child_main(void *arg)
{
	const struct spawn_ctx *ctx = arg;
	const struct spawn_req *req = ctx->req;

	child_session(ctx);
	child_fds(ctx);
	if (req->cwd && chdir(req->cwd) < 0)
		child_fail(ctx->errfd, SPAWN_CHDIR, errno);
	if (!req->cwd && req->cwd_try && chdir(req->cwd_try) < 0)
		(void)0; /* documented: the inherited directory stays */
	child_reset_signals();
	child_fail(ctx->errfd, SPAWN_EXEC, child_exec(req->argv, req->envp));
}

/* Is fd one the child's dup2 sequence writes over? */
static bool is_target(const struct spawn_req *r, int fd)
{
	unsigned i;

	for (i = 0; i < r->nmap; i++)
		if (r->map[i].to == fd)
			return true;
	return fd < 3;
}

/* Move every source (and the error pipe) that is also a target above all
 * targets, so the child's dup2 sequence is safe: the runner's own 0..2
 * may be closed and pipes then land there, and a mapped target such as
 * 62 may be any fd of the runner's. */
static int lift(const struct spawn_req *r, int *fd, int floor, struct lifted *l)
{
	int to;

	if (*fd < 0 || !is_target(r, *fd))
		return 0;
	to = fcntl(*fd, F_DUPFD_CLOEXEC, floor);
	if (to < 0)
		return -errno;
	*fd = l->fd[l->n++] = to;
	return 0;
}

static int lift_fds(struct spawn_req *r, int *errfd, struct lifted *l)
{
	int floor = 3, err = 0;
	unsigned i;

	l->n = 0;
	for (i = 0; i < r->nmap; i++)
		floor = r->map[i].to >= floor ? r->map[i].to + 1 : floor;
	for (i = 0; i < 3 && !err; i++)
		err = lift(r, &r->fd[i], floor, l);
	for (i = 0; i < r->nmap && !err; i++)
		err = lift(r, &r->map[i].from, floor, l);
	return err ? err : lift(r, errfd, floor, l);
}

static void close_lifted(const struct lifted *l)
{
	unsigned i;

	for (i = 0; i < l->n; i++)
		close(l->fd[i]);
}

static int read_report(int fd, enum spawn_stage *stage)
{
	int msg[2];
	ssize_t n;

	do
		n = read(fd, msg, sizeof(msg));
	while (n < 0 && errno == EINTR);
	if (n == 0)
		return 0; /* close-on-exec fired: the program runs */
	if (n != (ssize_t)sizeof(msg))
		return *stage = SPAWN_SETUP, -EIO;
	*stage = (enum spawn_stage)msg[0];
	return -(msg[1] ? msg[1] : EIO);
}

int spawn_start(const struct spawn_req *req, pid_t *pid,
		enum spawn_stage *stage)
{
	_Alignas(16) char stack[SPAWN_STACK];
	struct spawn_req r = *req;
	struct spawn_ctx ctx = {.req = &r};
	struct lifted lifted;
	int errpipe[2], err;

	*stage = SPAWN_SETUP;
	if (r.nmap > SPAWN_MAPS_MAX)
		return -EINVAL;
	if (pipe2(errpipe, O_CLOEXEC) < 0)
		return -errno;
	ctx.errfd = errpipe[1];
	err = lift_fds(&r, &ctx.errfd, &lifted);
	if (err == 0) {
		*pid = clone(child_main, stack + sizeof(stack),
			     CLONE_VM | CLONE_VFORK | SIGCHLD, &ctx);
		err = *pid < 0 ? -errno : 0;
	}
	UNPOISON(stack, sizeof(stack));
	close(errpipe[1]);
	close_lifted(&lifted);
	if (err == 0)
		err = read_report(errpipe[0], stage);
	close(errpipe[0]);
	return err;
}
