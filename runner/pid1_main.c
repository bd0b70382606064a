/* pid1_main.c - `runner [flags] -- CMD ARGS`: CMD is the container's main
 * process, as under tini.  It runs as the hardened user in its own
 * process group; signals sent to the runner go to it; when it exits the
 * runner stops everything else and exits with its status. */
#include "child.h"
#include "pid1_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <termios.h>
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

/* In the child, between fork and exec: only async-signal-safe calls. */
static void child_setup(bool stdio_taken, bool take_tty)
{
	int fd;

	/* The runner's blocked mask and ignored SIGPIPE survive exec. */
	child_reset_signals();
	/* Its own group: a forwarded signal or a shutdown reaches it and
	 * its pipeline, and nothing it does to its group reaches us. */
	setpgid(0, 0);
	/* tini's rule: with a terminal as the runner's stdin (docker run
	 * -t), the main command must be the foreground group or its reads
	 * stop it with SIGTTIN. */
	if (take_tty) {
		signal(SIGTTOU, SIG_IGN);
		tcsetpgrp(STDIN_FILENO, getpid());
		signal(SIGTTOU, SIG_DFL);
	}
	/* stdin/stdout carry the protocol under --listen stdio. */
	if (stdio_taken) {
		fd = open("/dev/null", O_RDONLY);
		if (fd >= 0 && fd != STDIN_FILENO) {
			dup2(fd, STDIN_FILENO);
			close(fd);
		}
		dup2(STDERR_FILENO, STDOUT_FILENO);
	}
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

/* fork + exec with the exec errno reported through a close-on-exec
 * pipe, so "cannot run CMD" is an error and not a guessed status. */
static pid_t spawn_main(struct runner *rt, int *exec_err)
{
	bool stdio_taken = stdio_listened(rt), take_tty = controls_stdin_tty();
	char **argv = rt->cfg.main_argv;
	int pfd[2], err = 0;
	ssize_t n;
	pid_t pid;

	if (pipe2(pfd, O_CLOEXEC) < 0)
		return -errno;
	pid = fork();
	if (pid < 0) {
		err = errno;
		close(pfd[0]);
		close(pfd[1]);
		return -err;
	}
	if (pid == 0) {
		close(pfd[0]);
		child_setup(stdio_taken, take_tty);
		execvp(argv[0], argv);
		err = errno;
		if (write(pfd[1], &err, sizeof(err)) < 0)
			(void)0; /* the parent then sees a plain exit */
		_exit(127);
	}
	close(pfd[1]);
	/* Blocking, once, before the loop serves: it returns at exec. */
	while ((n = read(pfd[0], &err, sizeof(err))) < 0 && errno == EINTR)
		;
	close(pfd[0]);
	*exec_err = n == sizeof(err) ? err : 0;
	return pid;
}

int pid1_start_main(struct runner *rt)
{
	struct main_cmd *m;
	int exec_err = 0;
	pid_t pid;

	m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	m->rt = rt;
	pid = spawn_main(rt, &exec_err);
	if (pid < 0) {
		free(m);
		return (int)pid;
	}
	rt->main_pid = pid;
	child_watch(rt, &m->child, pid, main_exited);
	if (exec_err) {
		/* The shell's convention, which Docker follows too. */
		log_error("cannot run %s: %s", rt->cfg.main_argv[0],
			  strerror(exec_err));
		rt->main_pid = 0;
		runner_shutdown(rt, exec_err == ENOENT ? 127 : 126);
		return 0;
	}
	log_info("main command %s started (pid %d)", rt->cfg.main_argv[0],
		 (int)pid);
	return 0;
}
