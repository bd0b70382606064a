/* suite_conc.c - 1, 4, 16 and 64 clients at once, each a process with
 * its own connection, hammering one operation for a fixed time.
 *
 * Clients record latencies into a shared anonymous mapping; a pipe that
 * the parent closes is the start gun, so connection and session setup
 * are not measured and every client starts within microseconds.
 */
#include "bench.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAX_CLIENTS	 64
#define SLOT_CAP	 50000 /* samples kept per client; more are counted only */
#define SETUP_TIMEOUT_MS 60000

static const unsigned levels[] = {1, 4, 16, 64};
#define NLEVELS (sizeof(levels) / sizeof(levels[0]))

struct slot {
	uint64_t ops, end_ns;
	int err;
	char msg[120];
	float lat_us[SLOT_CAP];
};

struct arena {
	uint64_t deadline_ns;
	struct slot slots[MAX_CLIENTS];
};

enum conc_op { CO_PING, CO_EXEC, CO_SPAWN, CO_READ, CO__COUNT };

static const struct {
	const char *name, *title;
} op_names[CO__COUNT] = {
    {"ping", "PING"},
    {"exec", "EXEC `true`, one session per client"},
    {"spawn", "SPAWN /bin/true"},
    {"read", "READ of a 100-byte file"},
};

struct client {
	struct rc_conn c;
	char session[32];
	const char *small;
};

static int client_op(struct client *cl, enum conc_op op)
{
	static const char *const argv[] = {"/bin/true", NULL};

	switch (op) {
	case CO_PING: return op_ping(&cl->c);
	case CO_EXEC: return op_exec(&cl->c, cl->session, "true", NULL);
	case CO_SPAWN: return op_spawn(&cl->c, argv, false, NULL);
	case CO_READ: return op_read(&cl->c, cl->small, NULL);
	case CO__COUNT: break;
	}
	return -EINVAL;
}

/* A session may survive from a lower level: opening it again is fine. */
static int client_setup(struct client *cl, struct target *t, enum conc_op op,
			unsigned i)
{
	int r;

	if ((r = target_connect(t, &cl->c)) < 0 || op != CO_EXEC)
		return r;
	snprintf(cl->session, sizeof(cl->session), "bench%u", i);
	r = op_shell_open(&cl->c, cl->session);
	return r == E_EXISTS ? 0 : r;
}

static void client_main(struct arena *a, unsigned i, struct target *t,
			enum conc_op op, const char *small, int ready, int go)
{
	struct slot *s = &a->slots[i];
	struct client cl = {.small = small};
	char byte = 1;

	s->err = client_setup(&cl, t, op, i);
	if (s->err)
		snprintf(s->msg, sizeof(s->msg), "%.100s", cl.c.err);
	/* The parent counts ready bytes; a failed setup reports too. */
	if (write(ready, &byte, 1) != 1)
		_exit(1);
	if (s->err || read(go, &byte, 1) < 0)
		_exit(1);
	while (now_ns() < a->deadline_ns) {
		uint64_t t0 = now_ns();
		int r = client_op(&cl, op);
		if (r) {
			s->err = r;
			snprintf(s->msg, sizeof(s->msg), "%.100s", cl.c.err);
			break;
		}
		if (s->ops < SLOT_CAP)
			s->lat_us[s->ops] = (float)since_us(t0);
		s->ops++;
	}
	s->end_ns = now_ns();
	rc_close(&cl.c);
	_exit(0);
}

static int await_ready(int fd, unsigned n)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};
	uint64_t t0 = now_ns();
	char buf[MAX_CLIENTS];
	unsigned got = 0;

	while (got < n) {
		int left = SETUP_TIMEOUT_MS - (int)(since_us(t0) / 1000);
		ssize_t k;
		if (left <= 0 || poll(&p, 1, left) <= 0)
			return -ETIMEDOUT;
		k = read(fd, buf, sizeof(buf));
		if (k <= 0)
			return -EIO;
		got += (unsigned)k;
	}
	return 0;
}

struct level_out {
	struct samples s;
	uint64_t ops;
	double secs;
	int err;
	char msg[160];
};

static void level_collect(struct arena *a, unsigned n, uint64_t start,
			  struct level_out *o)
{
	uint64_t end = start;
	unsigned i, k;

	for (i = 0; i < n; i++) {
		struct slot *s = &a->slots[i];
		if (s->err && !o->err) {
			o->err = s->err;
			snprintf(o->msg, sizeof(o->msg), "client %u: %s", i,
				 s->msg);
		}
		for (k = 0; k < s->ops && k < SLOT_CAP; k++)
			samples_add(&o->s, s->lat_us[k]);
		o->ops += s->ops;
		if (s->end_ns > end)
			end = s->end_ns;
	}
	o->secs = (double)(end - start) / 1e9;
}

static int run_level(struct bench *b, struct arena *a, struct target *t,
		     enum conc_op op, const char *small, unsigned n,
		     struct level_out *o)
{
	int ready[2], go[2], st;
	uint64_t start;
	unsigned i;
	pid_t pids[MAX_CLIENTS];

	memset(a, 0, sizeof(*a));
	a->deadline_ns = UINT64_MAX;
	if (pipe(ready) < 0 || pipe(go) < 0)
		return -errno;
	for (i = 0; i < n; i++) {
		pids[i] = fork();
		if (pids[i] == 0) {
			close(ready[0]);
			close(go[1]);
			client_main(a, i, t, op, small, ready[1], go[0]);
		}
	}
	close(ready[1]);
	close(go[0]);
	o->err = await_ready(ready[0], n);
	start = now_ns();
	a->deadline_ns = start + (uint64_t)(b->cfg.conc_secs * 1e9);
	close(go[1]); /* the start gun: every read(go) returns 0 */
	close(ready[0]);
	for (i = 0; i < n; i++)
		if (pids[i] > 0)
			waitpid(pids[i], &st, 0);
	level_collect(a, n, start, o);
	return o->err;
}

static void conc_op_rows(struct bench *b, struct arena *a, struct target *t,
			 enum conc_op op, const char *small)
{
	char id[48], title[112];
	struct row *sum;
	double x[NLEVELS], y[NLEVELS];
	size_t k, npts = 0;

	snprintf(id, sizeof(id), "conc_%s", op_names[op].name);
	snprintf(title, sizeof(title), "%s: aggregate ops/s at 1-64 clients",
		 op_names[op].title);
	sum = row_new(b, id, "concurrency", RK_VALUE, "ops/s", title);
	for (k = 0; k < NLEVELS; k++) {
		struct level_out o = {0};
		struct row *r;
		snprintf(id, sizeof(id), "conc_%s_%u", op_names[op].name,
			 levels[k]);
		snprintf(title, sizeof(title), "%s, %u concurrent clients",
			 op_names[op].title, levels[k]);
		r = row_new(b, id, "concurrency", RK_LATENCY, "us", title);
		run_level(b, a, t, op, small, levels[k], &o);
		if (o.err) {
			row_refused(r, o.err, o.msg);
			row_print(b, r);
			samples_free(&o.s);
			if (k == 0) {
				row_refused(sum, o.err, o.msg);
				return;
			}
			continue;
		}
		row_stats(r, &o.s);
		row_extra(r, "clients", levels[k]);
		row_extra(r, "agg_ops_per_s", o.secs > 0 ? o.ops / o.secs : 0);
		row_extra(r, "rss_kib", (double)target_rss_kib(t, "VmRSS:"));
		row_print(b, r);
		x[npts] = levels[k];
		y[npts++] = o.secs > 0 ? o.ops / o.secs : 0;
		samples_free(&o.s);
	}
	for (k = 0; k < npts; k++)
		if (y[k] > sum->value)
			sum->value = y[k];
	row_series(sum, "clients vs aggregate ops/s", x, y, npts);
	if (npts >= 2 && y[0] > 0)
		row_extra(sum, "scale_4_over_1", y[1] / y[0]);
	sum->ok = npts > 0;
	snprintf(sum->status, sizeof(sum->status), "ok");
	row_print(b, sum);
}

static void conc_step(struct bench *b, struct target *t, enum conc_op op)
{
	struct arena *a;
	char small[512];

	snprintf(small, sizeof(small), "%s/small.txt", b->cfg.work);
	a = mmap(NULL, sizeof(*a), PROT_READ | PROT_WRITE,
		 MAP_SHARED | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (a == MAP_FAILED) {
		progress("concurrency: mmap: %s", strerror(errno));
		return;
	}
	conc_op_rows(b, a, t, op, small);
	munmap(a, sizeof(*a));
}

static void conc_ping(struct bench *b, struct target *t, struct rc_conn *c)
{
	conc_step(b, t, CO_PING);
}

static void conc_exec(struct bench *b, struct target *t, struct rc_conn *c)
{
	conc_step(b, t, CO_EXEC);
}

static void conc_spawn(struct bench *b, struct target *t, struct rc_conn *c)
{
	conc_step(b, t, CO_SPAWN);
}

static void conc_read(struct bench *b, struct target *t, struct rc_conn *c)
{
	conc_step(b, t, CO_READ);
}

void suite_concurrency(struct bench *b)
{
	/* 64 clients with a session each, and the main session. */
	static const char *const args[] = {"--max-sessions", "72",
					   "--max-conns", "300", NULL};
	static const step_fn steps[] = {conc_ping, conc_exec, conc_spawn,
					conc_read, NULL};
	char small[512];
	int r;

	snprintf(small, sizeof(small), "%s/small.txt", b->cfg.work);
	if ((r = make_file(small, 100, true)) < 0) {
		progress("concurrency: %s: %s", small, strerror(-r));
		return;
	}
	run_steps(b, "concurrency", args, steps);
}
