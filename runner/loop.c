/* loop.c - one epoll loop; timers multiplexed onto one timerfd. */
#include "log.h"
#include "loop.h"

#include <errno.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#define MAX_EVENTS 64

uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

uint64_t now_wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* Point the timerfd at the soonest timer.  Absolute time, so a late
 * rearm cannot push a deadline further out. */
static void timerfd_sync(struct loop *l)
{
	struct itimerspec its = {0};
	uint64_t want = l->timers ? l->timers->deadline : 0;

	if (want == l->armed_for)
		return;
	if (want) {
		its.it_value.tv_sec = (time_t)(want / 1000000000u);
		its.it_value.tv_nsec = (long)(want % 1000000000u);
	}
	/* Cannot fail with a valid fd and a normalised value. */
	timerfd_settime(l->timerfd, TFD_TIMER_ABSTIME, &its, NULL);
	l->armed_for = want;
}

static void timers_expire(struct loop *l)
{
	uint64_t now = now_ns();
	struct timer *t;

	while ((t = l->timers) && t->deadline <= now) {
		timer_cancel(l, t);
		t->fn(t);
	}
	timerfd_sync(l);
}

static void timer_readable(struct watch *w, uint32_t events)
{
	struct loop *l = container_of(w, struct loop, timer_watch);
	uint64_t ticks;

	(void)events;
	/* EAGAIN when a rearm raced the expiry: harmless, we recheck. */
	if (read(l->timerfd, &ticks, sizeof(ticks)) < 0 && errno != EAGAIN)
		log_warn("timerfd read: %m");
	l->armed_for = 0;
	timers_expire(l);
}

int loop_init(struct loop *l)
{
	*l = (struct loop){.epfd = -1, .timerfd = -1};
	l->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (l->epfd < 0)
		return -errno;
	l->timerfd =
	    timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	if (l->timerfd < 0) {
		int e = -errno;
		close(l->epfd);
		return e;
	}
	return loop_watch(l, &l->timer_watch, l->timerfd, EPOLLIN,
			  timer_readable);
}

static void loop_run_deferred(struct loop *l)
{
	while (l->deferred) {
		struct deferred *d = l->deferred;
		l->deferred = d->next;
		d->fn(d);
	}
}

void loop_fini(struct loop *l)
{
	loop_run_deferred(l);
	if (l->timerfd >= 0)
		close(l->timerfd);
	if (l->epfd >= 0)
		close(l->epfd);
	l->timerfd = l->epfd = -1;
}

int loop_watch(struct loop *l, struct watch *w, int fd, uint32_t events,
	       watch_fn fn)
{
	struct epoll_event ev = {.events = events, .data.ptr = w};

	w->fd = fd;
	w->fn = fn;
	w->events = events;
	if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
		return -errno;
	return 0;
}

int loop_modify(struct loop *l, struct watch *w, uint32_t events)
{
	struct epoll_event ev = {.events = events, .data.ptr = w};

	if (w->events == events)
		return 0;
	if (epoll_ctl(l->epfd, EPOLL_CTL_MOD, w->fd, &ev) < 0)
		return -errno;
	w->events = events;
	return 0;
}

static void watch_ignored(struct watch *w, uint32_t events)
{
	(void)w;
	(void)events;
}

void loop_unwatch(struct loop *l, struct watch *w)
{
	w->fn = watch_ignored;
	/* Fails only if fd was never added or already closed: either way
	 * nothing is left registered. */
	epoll_ctl(l->epfd, EPOLL_CTL_DEL, w->fd, NULL);
	w->events = 0;
}

void timer_arm(struct loop *l, struct timer *t, uint64_t ms, timer_fn fn)
{
	struct timer **pp = &l->timers, *prev = NULL;

	timer_cancel(l, t);
	t->deadline = now_ns() + ms * 1000000u;
	t->fn = fn;
	while (*pp && (*pp)->deadline <= t->deadline) {
		prev = *pp;
		pp = &(*pp)->next;
	}
	t->next = *pp;
	t->prev = prev;
	if (*pp)
		(*pp)->prev = t;
	*pp = t;
	t->armed = true;
	timerfd_sync(l);
}

void timer_cancel(struct loop *l, struct timer *t)
{
	if (!t->armed)
		return;
	if (t->prev)
		t->prev->next = t->next;
	else
		l->timers = t->next;
	if (t->next)
		t->next->prev = t->prev;
	t->prev = t->next = NULL;
	t->armed = false;
	/* timerfd is resynced lazily: an early wakeup only rechecks. */
}

int loop_run_once(struct loop *l, int max_wait_ms)
{
	struct epoll_event ev[MAX_EVENTS];
	int n, i;

	n = epoll_wait(l->epfd, ev, MAX_EVENTS, max_wait_ms);
	if (n < 0)
		return errno == EINTR ? 0 : -errno;
	for (i = 0; i < n; i++) {
		struct watch *w = ev[i].data.ptr;
		w->fn(w, ev[i].events);
	}
	loop_run_deferred(l);
	return n;
}

void loop_defer(struct loop *l, struct deferred *d,
		void (*fn)(struct deferred *d))
{
	d->fn = fn;
	d->next = l->deferred;
	l->deferred = d;
}
