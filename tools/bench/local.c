/* local.c - the floors: what the same work costs without a runner.
 *
 * `sh -c true` by fork+exec is the least a shell command can cost;
 * posix_spawn of /bin/true the least a process can; `cat`/`dd` to
 * /dev/null the least reading a file can.  Measured in the same run as
 * the runner's figures so both see the same machine.
 */
#include "bench.h"

#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

static int wait_ok(pid_t pid)
{
	int st;

	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return -errno;
	if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
		return 0;
	return -EBADMSG;
}

/* Run argv with stdin from /dev/null and stdout to out_path (NULL:
 * /dev/null); 0 when it exits 0. */
int local_run(const char *const *argv, const char *out_path)
{
	posix_spawn_file_actions_t fa;
	pid_t pid;
	int r;

	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null",
					 O_RDONLY, 0);
	posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO,
					 out_path ? out_path : "/dev/null",
					 O_WRONLY | O_CREAT | O_TRUNC, 0644);
	r = posix_spawnp(&pid, argv[0], &fa, NULL, (char *const *)argv,
			 environ);
	posix_spawn_file_actions_destroy(&fa);
	if (r != 0)
		return -r;
	return wait_ok(pid);
}

/* fork + execve, the way a shell user's `sh -c` is paid for. */
int local_sh_true(void)
{
	static char *const argv[] = {"sh", "-c", "true", NULL};
	pid_t pid = fork();

	if (pid < 0)
		return -errno;
	if (pid == 0) {
		execve("/bin/sh", argv, environ);
		_exit(127);
	}
	return wait_ok(pid);
}

int local_spawn_true(void)
{
	static char *const argv[] = {"true", NULL};
	pid_t pid;
	int r = posix_spawn(&pid, "/bin/true", NULL, NULL, argv, environ);

	return r ? -r : wait_ok(pid);
}

int xfer_cat(void *ctx, uint64_t *bytes)
{
	struct file_xfer *x = ctx;
	const char *argv[] = {"cat", x->path, NULL};
	int r = local_run(argv, NULL);

	*bytes = x->bytes;
	return r;
}

int xfer_dd_read(void *ctx, uint64_t *bytes)
{
	struct file_xfer *x = ctx;
	char in[600];
	const char *argv[] = {"dd",	     in,  "of=/dev/null", "bs=1M",
			      "status=none", NULL};
	int r;

	snprintf(in, sizeof(in), "if=%s", x->path);
	r = local_run(argv, NULL);
	*bytes = x->bytes;
	return r;
}

/* What the runner's WRITE does: replace a file's contents with bytes that
 * arrive from elsewhere (here /dev/zero). */
int xfer_dd_write(void *ctx, uint64_t *bytes)
{
	struct file_xfer *x = ctx;
	char out[600], count[32];
	const char *argv[] = {"dd",  "if=/dev/zero", out, "bs=1M",
			      count, "status=none",  NULL};
	int r;

	snprintf(out, sizeof(out), "of=%s", x->path);
	snprintf(count, sizeof(count), "count=%llu",
		 (unsigned long long)(x->bytes >> 20));
	r = local_run(argv, NULL);
	*bytes = x->bytes >> 20 << 20;
	return r;
}

int xfer_check(struct file_xfer *x, int r, uint64_t got)
{
	if (r || got >= x->bytes)
		return r;
	if (x->c)
		snprintf(x->c->err, sizeof(x->c->err),
			 "only %llu of %llu bytes arrived",
			 (unsigned long long)got, (unsigned long long)x->bytes);
	return -EBADMSG;
}
