/* suite_sys.c - what every runner pays: size, memory, a round trip, the
 * attach relay, and the time from exec to the first answer. */
#include "bench.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define SETTLE_MS  300
#define ECHO_BYTES 16

static int do_ping(void *ctx)
{
	return op_ping(ctx);
}

static int do_exec_true(void *ctx)
{
	return op_exec(ctx, NULL, "true", NULL);
}

/* ---- the floor of any request/response: a unix socket echo ---- */

struct echo {
	int fd;
	pid_t child;
};

static void echo_serve(int fd)
{
	char buf[64];
	ssize_t n;

	while ((n = read(fd, buf, sizeof(buf))) > 0)
		if (write(fd, buf, (size_t)n) != n)
			break;
	_exit(0);
}

static int echo_start(struct echo *e)
{
	int sv[2];

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		return -errno;
	e->child = fork();
	if (e->child < 0)
		return -errno;
	if (e->child == 0) {
		close(sv[0]);
		echo_serve(sv[1]);
	}
	close(sv[1]);
	e->fd = sv[0];
	return 0;
}

static void echo_stop(struct echo *e)
{
	int st;

	close(e->fd);
	waitpid(e->child, &st, 0);
}

static int do_echo(void *ctx)
{
	struct echo *e = ctx;
	char buf[ECHO_BYTES] = "0123456789abcde";
	size_t got = 0;
	ssize_t n;

	if (write(e->fd, buf, sizeof(buf)) != sizeof(buf))
		return -EIO;
	while (got < sizeof(buf)) {
		n = read(e->fd, buf + got, sizeof(buf) - got);
		if (n <= 0)
			return -EIO;
		got += (size_t)n;
	}
	return 0;
}

/* ---- rows ---- */

static void value_row(struct row *r, double v)
{
	r->value = v;
	r->ok = true;
	snprintf(r->status, sizeof(r->status), "ok");
}

static void binary_size(struct bench *b)
{
	struct row *r = row_new(b, "binary_size", "sys", RK_VALUE, "bytes",
				"runner binary, static, stripped");
	struct stat st;

	/* Issue 2: "under 250 KB stripped". */
	row_target(r, TM_VALUE, TC_LE, 250 * 1024);
	if (stat(b->cfg.runner, &st) < 0)
		row_fail(r, "error (%s: %s)", b->cfg.runner, strerror(errno));
	else
		value_row(r, (double)st.st_size);
	row_print(b, r);
}

static void idle_rss(struct bench *b, struct target *t, struct rc_conn *c)
{
	struct row *r =
	    row_new(b, "idle_rss", "sys", RK_VALUE, "KiB", "runner RSS, idle");
	struct row *tr =
	    row_new(b, "idle_rss_tree", "sys", RK_VALUE, "KiB",
		    "runner + its shell session (bash), RSS, idle");
	struct timespec settle = {0, SETTLE_MS * 1000000L};
	long kib, tree;

	nanosleep(&settle, NULL);
	if ((kib = target_rss_kib(t, "VmRSS:")) < 0)
		row_fail(r, "error (cannot read /proc/%d/status)", t->pid);
	else
		value_row(r, (double)kib);
	if ((tree = target_tree_rss_kib(t)) > 0)
		value_row(tr, (double)tree);
	row_print(b, r);
	row_print(b, tr);
}

static void ping_rows(struct bench *b, struct target *t, struct rc_conn *c)
{
	struct echo e;
	struct row *rp = row_lat(b, "ping", "sys", "socket_echo",
				 "PING round trip, unix socket");
	struct row *rb = row_lat(b, "socket_echo", "baseline", NULL,
				 "floor: 16-byte echo over a unix socketpair");
	struct meas op = {.row = rp, .fn = do_ping, .ctx = c, .conn = c};
	struct meas base = {.row = rb, .fn = do_echo, .ctx = &e};

	if (echo_start(&e) < 0) {
		row_fail(rb, "error (socketpair/fork: %s)", strerror(errno));
		measure_pair(b, &op, NULL, b->cfg.lat_n * 2);
	} else {
		measure_pair(b, &op, &base, b->cfg.lat_n * 2);
		echo_stop(&e);
	}
	row_print(b, rb);
	row_print(b, rp);
}

/* One request kind through the relay and, interleaved, on the bare
 * socket. */
static void attach_pair(struct bench *b, struct rc_conn *relay, int relay_err,
			struct rc_conn *c, const char *what, op_fn fn,
			const char *id, const char *base_id)
{
	char t1[112], t2[112];
	struct meas op, base;

	snprintf(t1, sizeof(t1), "%s through `runner attach` (relay)", what);
	snprintf(t2, sizeof(t2), "%s on the bare socket, beside it", what);
	op = (struct meas){.row = row_lat(b, id, "attach", base_id, t1),
			   .fn = fn,
			   .ctx = relay,
			   .conn = relay};
	base = (struct meas){.row = row_lat(b, base_id, "attach", NULL, t2),
			     .fn = fn,
			     .ctx = c,
			     .conn = c};
	row_target(op.row, TM_DELTA, TC_LE, 50);

	if (relay_err < 0) {
		row_fail(op.row, "error (%s)", relay->err);
		measure_pair(b, &base, NULL, b->cfg.lat_n);
	} else {
		measure_pair(b, &op, &base, b->cfg.lat_n);
	}
	row_print(b, base.row);
	row_print(b, op.row);
}

/* The relay is `runner attach` between a pipe pair and the socket, as
 * `docker exec -i CTR runner attach` runs it; the delta against the bare
 * socket is what the relay costs per round trip. */
static void attach_rows(struct bench *b, struct target *t, struct rc_conn *c)
{
	struct rc_conn relay;
	char spec[700];
	int r;

	snprintf(spec, sizeof(spec), "cmd:exec '%s' attach --socket '%s'",
		 b->cfg.runner, t->sock);
	r = rc_connect(&relay, spec, NULL);
	attach_pair(b, &relay, r, c, "PING", do_ping, "attach_ping",
		    "ping_direct");
	attach_pair(b, &relay, r, c, "EXEC `true`", do_exec_true, "attach_exec",
		    "exec_direct");
	rc_close(&relay);
}

void suite_sys(struct bench *b)
{
	static const step_fn steps[] = {idle_rss, ping_rows, attach_rows, NULL};

	binary_size(b);
	run_steps(b, "sys", NULL, steps);
}

/* ---- startup: exec of the runner to the first answer ---- */

struct boot {
	struct row *ping, *exec;
	struct samples sp, se;
	int exec_err;
	char exec_msg[256];
};

static int boot_once(struct bench *b, struct boot *bt)
{
	static const char *const args[] = {NULL};
	struct timespec pause = {0, 50000};
	struct target t;
	struct rc_conn c;
	uint64_t t0 = now_ns();
	int r;

	if ((r = target_spawn(b, &t, args)) < 0)
		return r;
	/* Poll as a host would: connect until the socket answers HELLO. */
	while ((r = target_connect(&t, &c)) < 0 && since_us(t0) < 10e6) {
		rc_close(&c);
		nanosleep(&pause, NULL);
	}
	if (r == 0 && (r = op_ping(&c)) == 0)
		samples_add(&bt->sp, since_us(t0));
	if (r == 0 && !bt->exec_err) {
		bt->exec_err = op_exec(&c, NULL, "true", NULL);
		if (bt->exec_err)
			snprintf(bt->exec_msg, sizeof(bt->exec_msg), "%s",
				 c.err);
		else
			samples_add(&bt->se, since_us(t0));
	}
	rc_close(&c);
	target_stop(b, &t);
	return r;
}

void suite_startup(struct bench *b)
{
	struct boot bt = {0};
	unsigned i, n = b->cfg.quick ? 5 : 20;
	int r = 0;

	bt.ping = row_new(b, "startup_ping", "startup", RK_LATENCY, "us",
			  "exec of the runner (PID 1) to first PING answered");
	bt.exec = row_new(b, "startup_exec", "startup", RK_LATENCY, "us",
			  "exec of the runner (PID 1) to first EXEC answered");
	for (i = 0; i < n && r == 0; i++)
		r = boot_once(b, &bt);
	if (r)
		row_fail(bt.ping, "error (%s)", strerror(r < 0 ? -r : EIO));
	else
		row_stats(bt.ping, &bt.sp);
	if (bt.exec_err)
		row_refused(bt.exec, bt.exec_err, bt.exec_msg);
	else if (!r)
		row_stats(bt.exec, &bt.se);
	row_print(b, bt.ping);
	row_print(b, bt.exec);
	samples_free(&bt.sp);
	samples_free(&bt.se);
}
