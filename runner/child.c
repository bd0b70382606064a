/* child.c - what every child needs between fork (or clone) and exec. */
#include "runner.h"

#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

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
 * CLONE_VM child shares with the runner.  Only async-signal-safe work. */
#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define CHILD_CODE __attribute__((no_sanitize("address", "undefined")))
#endif
#elif defined(__SANITIZE_ADDRESS__)
#define CHILD_CODE __attribute__((no_sanitize("address", "undefined")))
#endif
#ifndef CHILD_CODE
#define CHILD_CODE
#endif

/* Not instrumented under the sanitizers: a CLONE_VM child shares the
 * runner's shadow memory. */
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
