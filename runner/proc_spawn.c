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

CHILD_CODE static int child_main(void *arg)
{
	const struct spawn_ctx *ctx = arg;
	const struct spawn_req *req = ctx->req;
	int i;

	if (req->ctty >= 0) {
		if (setsid() < 0 || ioctl(req->ctty, TIOCSCTTY, 0) < 0)
			child_fail(ctx->errfd, SPAWN_SETUP, errno);
	} else if (setpgid(0, 0) < 0) {
		child_fail(ctx->errfd, SPAWN_SETUP, errno);
	}
	/* The sources are all >= 3 (spawn_start sees to it), so no dup2
	 * overwrites a source still to be copied; dup2 clears CLOEXEC. */
	for (i = 0; i < 3; i++)
		if (dup2(req->fd[i], i) < 0)
			child_fail(ctx->errfd, SPAWN_SETUP, errno);
	if (req->cwd && chdir(req->cwd) < 0)
		child_fail(ctx->errfd, SPAWN_CHDIR, errno);
	/* Everything but 0, 1, 2 (and the error pipe) must disappear at
	 * execve, whatever another part of the runner forgot to mark
	 * close-on-exec. */
	fd_close_from(3, NULL, 0, true);
	child_reset_signals();
	child_fail(ctx->errfd, SPAWN_EXEC, child_exec(req->argv, req->envp));
}

/* Move fds 0..2 out of the way so the child's dup2 sequence is safe (the
 * runner's own 0..2 may be closed, and pipes then land there). */
static int lift_fds(struct spawn_req *r, int lifted[3])
{
	int i;

	for (i = 0; i < 3; i++)
		lifted[i] = -1;
	for (i = 0; i < 3; i++) {
		if (r->fd[i] >= 3)
			continue;
		lifted[i] = fcntl(r->fd[i], F_DUPFD_CLOEXEC, 3);
		if (lifted[i] < 0)
			return -errno;
		r->fd[i] = lifted[i];
	}
	return 0;
}

static void close_lifted(const int lifted[3])
{
	int i;

	for (i = 0; i < 3; i++)
		if (lifted[i] >= 0)
			close(lifted[i]);
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
	int errpipe[2], lifted[3], err;

	*stage = SPAWN_SETUP;
	if (pipe2(errpipe, O_CLOEXEC) < 0)
		return -errno;
	ctx.errfd = errpipe[1];
	err = lift_fds(&r, lifted);
	if (err == 0) {
		*pid = clone(child_main, stack + sizeof(stack),
			     CLONE_VM | CLONE_VFORK | SIGCHLD, &ctx);
		err = *pid < 0 ? -errno : 0;
	}
	UNPOISON(stack, sizeof(stack));
	close(errpipe[1]);
	close_lifted(lifted);
	if (err == 0)
		err = read_report(errpipe[0], stage);
	close(errpipe[0]);
	return err;
}
