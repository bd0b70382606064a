/* child.c - what every child needs between fork (or clone) and exec. */
#include "child.h"

#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

#define FALLBACK_FD_MAX 65536

/* The kernel's struct sigaction on x86-64 and friends (not libc's). */
struct ksigaction {
	void (*handler)(int);
	unsigned long flags;
	void (*restorer)(void);
	uint64_t mask;
};

/* Raw syscalls on purpose: musl's sigaction() refuses its internal
 * signals 32-34, which an ancestor may have left ignored (and an ignored
 * disposition survives exec), and it updates libc globals that a
 * CLONE_VM child shares with the runner. */
CHILD_CODE void child_reset_signals(void)
{
	struct ksigaction dfl = {.handler = SIG_DFL};
	uint64_t none = 0;
	int sig;

	for (sig = 1; sig < _NSIG; sig++)
		if (sig != SIGKILL && sig != SIGSTOP)
			syscall(SYS_rt_sigaction, sig, &dfl, NULL,
				sizeof(dfl.mask));
	syscall(SYS_rt_sigprocmask, SIG_SETMASK, &none, NULL, sizeof(none));
}

CHILD_CODE int child_foreground(int fd)
{
	struct ksigaction ign = {.handler = SIG_IGN};
	pid_t pg = getpid();

	syscall(SYS_rt_sigaction, SIGTTOU, &ign, NULL, sizeof(ign.mask));
	return ioctl(fd, TIOCSPGRP, &pg);
}

CHILD_CODE static void fd_drop(int fd, bool cloexec)
{
	/* EBADF for a hole is the common case and costs nothing. */
	if (cloexec)
		fcntl(fd, F_SETFD, FD_CLOEXEC);
	else
		close(fd);
}

/* One by one up to the highest kept fd, the rest with close_range. */
CHILD_CODE void fd_close_from(int from, const int *keep, size_t nkeep,
			      bool cloexec)
{
	struct rlimit rl;
	long fd, top = from - 1, max = FALLBACK_FD_MAX;
	size_t i;

	for (i = 0; i < nkeep; i++)
		top = keep[i] > top ? keep[i] : top;
	for (fd = from; fd < top; fd++) {
		for (i = 0; i < nkeep && keep[i] != fd; i++)
			;
		if (i == nkeep)
			fd_drop((int)fd, cloexec);
	}
	if (syscall(SYS_close_range, (unsigned)top + 1, ~0u,
		    cloexec ? CLOSE_RANGE_CLOEXEC : 0) == 0)
		return;
	/* Kernels before 5.9 (5.11 for CLOEXEC), or a seccomp filter that
	 * refuses it. */
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < (rlim_t)max)
		max = (long)rl.rlim_cur;
	for (fd = top + 1; fd < max; fd++)
		fd_drop((int)fd, cloexec);
}

CHILD_CODE int env_index(char *const *env, const char *key, size_t klen)
{
	int i;

	for (i = 0; env && env[i]; i++)
		if (!strncmp(env[i], key, klen) && env[i][klen] == '=')
			return i;
	return -1;
}
