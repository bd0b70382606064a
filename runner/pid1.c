/* pid1.c - init duties: reap every child, turn signals into shutdown,
 * stop everything within the grace period.
 *
 * Exit statuses of the runner (protocol/PROTOCOL.md §18.3):
 *   0        stopped by SIGTERM/SIGINT/SIGHUP/SIGQUIT/SIGPWR or SHUTDOWN
 *   N        main command mode: the main command's exit status, 128+N
 *            when a signal N ended it; 126/127 when it could not be run
 *   1        startup failed (cannot listen, no event loop)
 *   2        bad command line
 */
#include "pid1_internal.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

/* After the SIGKILL, how long to wait for the last exits to be reaped
 * (a process in uninterruptible sleep dies late) before exiting anyway. */
#define KILL_REAP_MS 2000

/* Taken through the signalfd: what a terminal, an orchestrator or a
 * hypervisor may send to PID 1, all forwarded to a main command (tini's
 * set).  Never the synchronous faults, SIGKILL/SIGSTOP, SIGTTIN/SIGTTOU,
 * nor SIGXCPU/SIGXFSZ/SIGPROF, which are about the runner itself. */
static const int taken_signals[] = {
    SIGCHLD,  SIGTERM, SIGINT,	SIGHUP,	 SIGQUIT, SIGUSR1, SIGUSR2,
    SIGWINCH, SIGALRM, SIGCONT, SIGTSTP, SIGURG,  SIGIO,   SIGPWR,
};

static unsigned child_bucket(pid_t pid)
{
	return (unsigned)pid % CHILD_BUCKETS;
}

void child_watch(struct runner *rt, struct child *c, pid_t pid,
		 void (*exited)(struct child *, int))
{
	unsigned b = child_bucket(pid);

	c->pid = pid;
	c->exited = exited;
	c->next = rt->children[b];
	rt->children[b] = c;
	rt->nchildren++;
	/* Nothing new may outlive a shutdown (a shell respawned after the
	 * SIGTERM broadcast would otherwise sit out the whole grace). */
	if (rt->shutting_down) {
		log_debug("child %d started during shutdown: killed", (int)pid);
		kill(pid, SIGKILL);
	}
}

void child_unwatch(struct runner *rt, struct child *c)
{
	struct child **pp = &rt->children[child_bucket(c->pid)];

	for (; *pp; pp = &(*pp)->next) {
		if (*pp == c) {
			*pp = c->next;
			rt->nchildren--;
			return;
		}
	}
}

static struct child *child_take(struct runner *rt, pid_t pid)
{
	struct child **pp = &rt->children[child_bucket(pid)], *c;

	for (; (c = *pp); pp = &c->next) {
		if (c->pid == pid) {
			*pp = c->next;
			rt->nchildren--;
			return c;
		}
	}
	return NULL;
}

/* Reap until nothing is left: one SIGCHLD may stand for many exits (the
 * kernel does not queue a second SIGCHLD while one is pending). */
static void reap_all(struct runner *rt)
{
	struct child *c;
	int status;
	pid_t pid;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		c = child_take(rt, pid);
		if (c)
			c->exited(c, status);
		else
			log_debug("reaped orphan %d", (int)pid);
	}
}

/* Whether any child exists, exited or not.  WNOWAIT leaves a zombie for
 * reap_all, so its owner still hears of it.  A grandchild whose parent
 * lives is not counted, but its parent is; when the parent dies the
 * grandchild is reparented to us before the parent becomes a zombie. */
static bool anything_left(void)
{
	siginfo_t si = {0};

	if (waitid(P_ALL, 0, &si, WEXITED | WNOHANG | WNOWAIT) < 0)
		return errno != ECHILD;
	return true;
}

static void check_done(struct runner *rt)
{
	if (rt->shutting_down && !anything_left())
		rt->loop.stop = true;
}

static void kill_reap_expired(struct timer *t)
{
	struct runner *rt = container_of(t, struct runner, grace_timer);

	log_warn("processes still unreaped %d ms after SIGKILL: exiting anyway",
		 KILL_REAP_MS);
	rt->loop.stop = true;
}

static void grace_expired(struct timer *t)
{
	struct runner *rt = container_of(t, struct runner, grace_timer);

	log_warn("grace period over: SIGKILL to everything left");
	signal_everything(rt, SIGKILL);
	timer_arm(&rt->loop, &rt->grace_timer, KILL_REAP_MS, kill_reap_expired);
}

void runner_shutdown(struct runner *rt, int status)
{
	unsigned i;

	if (rt->shutting_down)
		return;
	rt->shutting_down = true;
	rt->exit_status = status;
	for (i = 0; i < rt->nlisteners; i++)
		listen_close(rt, &rt->listeners[i]);
	log_info("stopping: SIGTERM to every process, SIGKILL after %u ms",
		 rt->cfg.grace_ms);
	signal_everything(rt, SIGTERM);
	hangup_terminal_sessions(rt);
	/* Exits are reaped from the SIGCHLD that follows, not here: this may
	 * run inside a module's request handler or exit callback, which must
	 * not see other children's callbacks re-entered under it. */
	if (!anything_left()) {
		rt->loop.stop = true;
		return;
	}
	timer_arm(&rt->loop, &rt->grace_timer, rt->cfg.grace_ms, grace_expired);
}

/* Whether a stop signal comes from someone allowed to stop the sandbox.
 * ssi_pid is 0 for the kernel (a terminal's ^C, Ctrl-Alt-Del) and for a
 * sender outside our PID namespace (docker stop, the kubelet): as PID 1
 * nothing else counts, since everything inside is the sandbox.  Not PID
 * 1, the sandbox shares our namespace: our parent counts, and uid 0 when
 * the sandbox is not root. */
static bool stop_allowed(const struct signalfd_siginfo *si, bool is_pid1)
{
	if (si->ssi_pid == 0)
		return true;
	if (is_pid1)
		return false;
	return (pid_t)si->ssi_pid == getppid() ||
	       (si->ssi_uid == 0 && geteuid() != 0);
}

static void on_signal(struct runner *rt, const struct signalfd_siginfo *si)
{
	int sig = (int)si->ssi_signo;

	if (sig == SIGCHLD) {
		reap_all(rt);
		return;
	}
	if (main_forward_signal(rt, sig))
		return;
	switch (sig) {
	case SIGTERM:
	case SIGINT:
	case SIGHUP:
	case SIGQUIT:
	case SIGPWR:
		if (!stop_allowed(si, rt->is_pid1)) {
			log_debug(
			    "signal %d from pid %u uid %u (inside the sandbox) ignored",
			    sig, si->ssi_pid, si->ssi_uid);
			break;
		}
		log_info("signal %d (%s): shutting down", sig, strsignal(sig));
		runner_shutdown(rt, 0);
		break;
	default:
		log_debug("signal %d (%s) ignored", sig, strsignal(sig));
		break;
	}
}

static void signal_event(struct watch *w, uint32_t events)
{
	struct runner *rt = container_of(w, struct runner, sig_watch);
	struct signalfd_siginfo si[16];
	ssize_t n;
	size_t i;

	(void)events;
	while ((n = read(rt->sigfd, si, sizeof(si))) > 0)
		for (i = 0; i < (size_t)n / sizeof(si[0]); i++)
			on_signal(rt, &si[i]);
	check_done(rt);
}

int pid1_init(struct runner *rt)
{
	sigset_t set;
	unsigned i;

	rt->is_pid1 = getpid() == 1;
	/* Orphans of our descendants come to us, not to the outer init. */
	if (!rt->is_pid1 && prctl(PR_SET_CHILD_SUBREAPER, 1) < 0)
		log_warn("cannot become a child subreaper: %m");
	sigemptyset(&set);
	for (i = 0; i < ARRAY_LEN(taken_signals); i++)
		sigaddset(&set, taken_signals[i]);
	/* Blocked before the signalfd exists, so nothing is lost between.
	 * Children must restore the mask before exec (proc/shell do). */
	if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
		return -errno;
	rt->sigfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (rt->sigfd < 0)
		return -errno;
	/* Writes to a vanished client must be errors, not deaths. */
	signal(SIGPIPE, SIG_IGN);
	return loop_watch(&rt->loop, &rt->sig_watch, rt->sigfd, EPOLLIN,
			  signal_event);
}

void pid1_finish(struct runner *rt)
{
	/* The kernel panics when a VM's init exits: power off instead. */
	if (rt->vm_init)
		vm_power_off();
}
