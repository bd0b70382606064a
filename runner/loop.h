/* loop.h - the event loop: epoll watches, timers on one timerfd, and
 * frees deferred past the current epoll batch.  Knows nothing of
 * connections or requests.
 *
 * Watches, timers and children are embedded in the objects that own them
 * (container_of gets back to the owner); an object embedding a watch is
 * freed through loop_defer(), never directly.
 */
#ifndef RUNNER_LOOP_H
#define RUNNER_LOOP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifndef container_of
#define container_of(p, type, member)                                          \
	((type *)(void *)((char *)(p)-offsetof(type, member)))
#endif

struct watch;
typedef void (*watch_fn)(struct watch *w, uint32_t events);

struct watch {
	int fd;
	uint32_t events; /* currently registered */
	watch_fn fn;
};

struct timer;
typedef void (*timer_fn)(struct timer *t);

struct timer {
	uint64_t deadline; /* CLOCK_MONOTONIC ns */
	timer_fn fn;
	struct timer *prev, *next; /* sorted list; armed iff linked */
	bool armed;
};

/* Memory holding a watch may be freed only after the current epoll batch:
 * a later event of the same batch may still point at it. */
struct deferred {
	struct deferred *next;
	void (*fn)(struct deferred *d);
};

struct loop {
	struct deferred *deferred;
	int epfd;
	int timerfd;
	struct watch timer_watch;
	struct timer *timers; /* soonest first */
	uint64_t armed_for;   /* what timerfd is set to, 0 = disarmed */
	bool stop;
};

int loop_init(struct loop *l);
void loop_fini(struct loop *l);
/* Register fd with fn; events as for epoll.  -errno on failure. */
int loop_watch(struct loop *l, struct watch *w, int fd, uint32_t events,
	       watch_fn fn);
/* Change interest; no syscall when unchanged. */
int loop_modify(struct loop *l, struct watch *w, uint32_t events);
/* Stop watching; the caller still owns and closes the fd.  Events of the
 * current batch already queued for w are dropped. */
void loop_unwatch(struct loop *l, struct watch *w);
/* Run fn(d) after the current batch: the place to free an object that
 * embeds a watch. */
void loop_defer(struct loop *l, struct deferred *d,
		void (*fn)(struct deferred *d));
void timer_arm(struct loop *l, struct timer *t, uint64_t ms, timer_fn fn);
void timer_cancel(struct loop *l, struct timer *t);
/* Runs one epoll_wait batch, then expired timers. */
int loop_run_once(struct loop *l, int max_wait_ms);
uint64_t now_ns(void);
uint64_t now_wall_ms(void);

#endif
