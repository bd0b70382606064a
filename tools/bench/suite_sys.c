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

static void binary_size(struct bench *b)
{
	struct row *r = row_new(b, "binary_size", "sys", RK_VALUE, "bytes",
				"runner binary, static, stripped");
	struct stat st;

	if (stat(b->cfg.runner, &st) < 0) {
		row_fail(r, "error (%s: %s)", b->cfg.runner, strerror(errno));
		return;
	}
	r->value = (double)st.st_size;
	r->ok = true;
	snprintf(r->status, sizeof(r->status), "ok");
	row_target(r, TM_VALUE, TC_LE, 250 * 1000);
	row_print(b, r);
}

static void idle_rss(struct bench *b, struct target *t)
{
	struct row *r =
	    row_new(b, "idle_rss", "sys", RK_VALUE, "KiB", "runner RSS, idle");
	struct row *tr = row_new(b, "idle_rss_tree", "sys", RK_VALUE, "KiB",
				 "runner + its shell session, RSS, idle");
	struct timespec ts = {0, SETTLE_MS * 1000000L};
	long kib;

	nanosleep(&ts, NULL);
	if ((kib = target_rss_kib(t, "VmRSS:")) < 0) {
		row_fail(r, "error (cannot read /proc/%d/status)", t->pid);
		return;
	}
	r->value = (double)kib;
	r->ok = true;
	snprintf(r->status, sizeof(r->status), "ok");
	row_print(b, r);
	tr->value = (double)target_tree_rss_kib(t);
	tr->ok = tr->value > 0;
	snprintf(tr->status, sizeof(tr->status), "ok");
	row_print(b, tr);
}

static void ping_rows(struct bench *b, struct rc_conn *c)
{
	struct echo e;
	struct meas op = {.row = row_new(b, "ping", "sys", RK_LATENCY, "us",
					 "PING round trip, unix socket"),
			  .fn = do_ping,
			  .ctx = c,
			  .conn = c};
	struct meas base = {.row = row_new(b, "socket_echo", "baseline",
					   RK_LATENCY, "us",
					   "floor: 16-byte echo over a unix "
					   "socketpair"),
			    .fn = do_echo,
			    .ctx = &e};

	strcpy(op.row->baseline, "socket_echo");
	if (echo_start(&e) < 0) {
		row_fail(base.row, "error (socketpair/fork failed)");
		measure_pair(b, &op, NULL, b->cfg.lat_n * 2);
	} else {
		measure_pair(b, &op, &base, b->cfg.lat_n * 2);
		echo_stop(&e);
	}
	row_print(b, base.row);
	row_print(b, op.row);
}

/* The relay is `runner attach` between a pipe pair and the socket, as
 * `docker exec -i CTR runner attach` runs it; the delta against the bare
 * socket is what the relay costs per round trip. */
static void attach_rows(struct bench *b, struct target *t, struct rc_conn *c)
{
	struct rc_conn rc;
	char spec[700];
	const char *kinds[2][3] = {
	    {"attach_ping", "ping_direct", "PING"},
	    {"attach_exec", "exec_direct", "EXEC `true`"},
	};
	op_fn fns[2] = {do_ping, do_exec_true};
	int k, r;

	snprintf(spec, sizeof(spec), "cmd:exec '%s' attach --socket '%s'",
		 b->cfg.runner, t->sock);
	r = rc_connect(&rc, spec, NULL);
	for (k = 0; k < 2; k++) {
		char t1[112], t2[112];
		struct meas op, base;
		snprintf(t1, sizeof(t1), "%s through `runner attach` (relay)",
			 kinds[k][2]);
		snprintf(t2, sizeof(t2), "%s on the bare socket, beside it",
			 kinds[k][2]);
		op = (struct meas){.row = row_new(b, kinds[k][0], "attach",
						  RK_LATENCY, "us", t1),
				   .fn = fns[k],
				   .ctx = &rc,
				   .conn = &rc};
		base = (struct meas){.row = row_new(b, kinds[k][1], "attach",
						    RK_LATENCY, "us", t2),
				     .fn = fns[k],
				     .ctx = c,
				     .conn = c};
		strcpy(op.row->baseline, kinds[k][1]);
		row_target(op.row, TM_DELTA, TC_LE, 50);
		if (r < 0)
			row_fail(op.row, "error (%s)", rc.err);
		measure_pair(b, r < 0 ? &base : &op, r < 0 ? NULL : &base,
			     b->cfg.lat_n);
		row_print(b, base.row);
		row_print(b, op.row);
	}
	rc_close(&rc);
}

void suite_sys(struct bench *b)
{
	static const char *const args[] = {NULL};
	struct target t;
	struct rc_conn c;
	int r;

	binary_size(b);
	if ((r = target_start(b, &t, args)) < 0) {
		progress("sys: cannot start the runner: %s", strerror(-r));
		return;
	}
	idle_rss(b, &t);
	if (target_connect(&t, &c) == 0) {
		ping_rows(b, &c);
		attach_rows(b, &t, &c);
	} else {
		progress("sys: cannot connect: %s", c.err);
	}
	rc_close(&c);
	target_stop(b, &t);
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
