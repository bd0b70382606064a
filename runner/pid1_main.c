/* pid1_main.c - `runner [flags] -- CMD ARGS`: CMD is the container's main
 * process, as under tini.  It runs as the hardened user in its own
 * process group; signals sent to the runner go to it; when it exits the
 * runner stops everything else and exits with its status. */
#include "pid1_internal.h"
#include "proc_spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

struct main_cmd {
	struct child child;
	struct runner *rt;
};

static int wait_status_code(int wstatus)
{
	if (WIFSIGNALED(wstatus))
		return 128 + WTERMSIG(wstatus);
	return WEXITSTATUS(wstatus);
}

static void main_exited(struct child *c, int wstatus)
{
	struct main_cmd *m = container_of(c, struct main_cmd, child);
	struct runner *rt = m->rt;
	int code = wait_status_code(wstatus);

	log_info("main command %d %s %d: stopping the rest", (int)c->pid,
		 WIFSIGNALED(wstatus) ? "killed by signal" : "exited with",
		 WIFSIGNALED(wstatus) ? WTERMSIG(wstatus) : code);
	rt->main_pid = 0;
	/* The reaper unlinked c before calling us: nothing points at m. */
	free(m);
	runner_shutdown(rt, code);
}

bool main_forward_signal(struct runner *rt, int sig)
{
	if (!rt->cfg.main_argv)
		return false;
	/* Between the main command's exit and ours the signal has nobody to
	 * go to; the shutdown already under way is the answer to it. */
	if (rt->main_pid > 0 && kill(rt->main_pid, sig) < 0)
		log_debug("forwarding signal %d: %m", sig);
	return true;
}

static bool stdio_listened(const struct runner *rt)
{
	unsigned i;

	for (i = 0; i < rt->cfg.nlisten; i++)
		if (rt->cfg.listen[i].kind == LISTEN_STDIO)
			return true;
	return false;
}

static bool controls_stdin_tty(void)
{
	return isatty(STDIN_FILENO) && tcgetpgrp(STDIN_FILENO) == getpgrp();
}

/* In its own group: a forwarded signal or a shutdown reaches it and its
 * pipeline, and nothing it does to its group reaches us.  stdin/stdout
 * carry the protocol under --listen stdio: it gets /dev/null and our
 * stderr instead.  Otherwise it inherits our fds, as under tini. */
static int spawn_main(struct runner *rt, pid_t *pid, enum spawn_stage *stage)
{
	extern char **environ;
	struct spawn_req req = {
	    .argv = rt->cfg.main_argv,
	    .envp = environ,
	    .fd = {-1, -1, -1},
	    .ctty = -1,
	    .fg_tty = controls_stdin_tty(),
	    .keep_fds = true,
	};
	int devnull = -1, r;

	if (stdio_listened(rt)) {
		/* Without /dev/null it keeps our stdin, as it always did. */
		devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
		req.fd[0] = devnull;
		req.fd[1] = STDERR_FILENO;
	}
	r = spawn_start(&req, pid, stage);
	if (devnull >= 0)
		close(devnull);
	return r;
}

int pid1_start_main(struct runner *rt)
{
	enum spawn_stage stage;
	struct main_cmd *m;
	pid_t pid;
	int r;

	m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	m->rt = rt;
	r = spawn_main(rt, &pid, &stage);
	if (r < 0) {
		free(m);
		if (stage != SPAWN_EXEC)
			return r;
		/* The shell's convention, which Docker follows too.  The
		 * child exited; the reaper collects it as an orphan. */
		log_error("cannot run %s: %s", rt->cfg.main_argv[0],
			  strerror(-r));
		runner_shutdown(rt, r == -ENOENT ? 127 : 126);
		return 0;
	}
	rt->main_pid = pid;
	child_watch(rt, &m->child, pid, main_exited);
	log_info("main command %s started (pid %d)", rt->cfg.main_argv[0],
		 (int)pid);
	return 0;
}
