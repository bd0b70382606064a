/* pid1.c - init duties: reap every child, turn signals into shutdown,
 * stop everything within the grace period. */
#include "runner.h"

#include <errno.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

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

/* Reap until nothing is left: one SIGCHLD may stand for many exits. */
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

static bool anything_left(struct runner *rt)
{
	/* As PID 1 every process in the namespace is ours to wait for; as a
	 * subreaper, only our descendants: waitpid(-1) tells both. */
	siginfo_t si = { 0 };

	if (waitid(P_ALL, 0, &si, WEXITED | WNOHANG | WNOWAIT) < 0)
		return errno != ECHILD;
	(void)rt;
	return true;
}

static void grace_expired(struct timer *t)
{
	struct runner *rt = container_of(t, struct runner, grace_timer);

	log_warn("grace period over: SIGKILL to everything left");
	if (rt->is_pid1)
		kill(-1, SIGKILL);
	rt->loop.stop = true;
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
	/* kill(-1) from PID 1 reaches everything in the namespace, including
	 * what escaped its process group with setsid. */
	if (rt->is_pid1)
		kill(-1, SIGTERM);
	reap_all(rt);
	if (!anything_left(rt)) {
		rt->loop.stop = true;
		return;
	}
	timer_arm(&rt->loop, &rt->grace_timer, rt->cfg.grace_ms, grace_expired);
}

static void signal_event(struct watch *w, uint32_t events)
{
	struct runner *rt = container_of(w, struct runner, sig_watch);
	struct signalfd_siginfo si;

	(void)events;
	while (read(rt->sigfd, &si, sizeof(si)) == sizeof(si)) {
		switch (si.ssi_signo) {
		case SIGCHLD:
			reap_all(rt);
			break;
		case SIGTERM:
		case SIGINT:
		case SIGHUP:
		case SIGQUIT:
			log_info("signal %u: shutting down", si.ssi_signo);
			runner_shutdown(rt, 0);
			break;
		default:
			break;
		}
	}
	if (rt->shutting_down && !anything_left(rt))
		rt->loop.stop = true;
}

int pid1_init(struct runner *rt)
{
	sigset_t set;

	rt->is_pid1 = getpid() == 1;
	if (!rt->is_pid1 && prctl(PR_SET_CHILD_SUBREAPER, 1) < 0)
		log_warn("cannot become a child subreaper: %m");
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGQUIT);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGUSR2);
	/* Blocked before the signalfd exists, so nothing is lost between. */
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

int pid1_vm_init(struct runner *rt)
{
	(void)rt;
	return 0;
}

int pid1_start_main(struct runner *rt)
{
	(void)rt;
	return -ENOSYS;
}

void pid1_finish(struct runner *rt)
{
	(void)rt;
}
