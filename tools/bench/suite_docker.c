/* suite_docker.c - what users do today (`docker exec CTR true` per
 * command) beside the runner in the same container, and container start
 * to the first exec answered.
 *
 * Runs only when tools/bench/run found a Docker engine and built the test
 * image (image/mkrootfs); every container is --network none and removed
 * at the end.
 */
#include "bench.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define READY_TIMEOUT_US 30e6

struct dctx {
	struct bench *b;
	const char *docker, *image;
	char ctr[64];	   /* the long-lived container */
	char target[96];   /* docker:CTR */
	struct rc_conn rc; /* persistent connection through docker exec */
	unsigned seq;	   /* names of short-lived containers */
	char sockdir[128];
};

static int docker_run(struct dctx *d, const char *const *argv)
{
	const char *full[24];
	int n = 0;

	full[n++] = d->docker;
	while (*argv && n < 23)
		full[n++] = *argv++;
	full[n] = NULL;
	return local_run(full, NULL);
}

static void docker_rm(struct dctx *d, const char *name)
{
	const char *argv[] = {"rm", "-f", name, NULL};

	/* Best effort: a container left behind is removed with its
	 * daemon, and is no reason to lose the run's figures. */
	docker_run(d, argv);
}

static int do_docker_exec(void *ctx)
{
	struct dctx *d = ctx;
	const char *argv[] = {"exec", d->ctr, "true", NULL};

	return docker_run(d, argv);
}

static int do_attach_exec(void *ctx)
{
	struct dctx *d = ctx;

	return op_exec(&d->rc, NULL, "true", NULL);
}

/* What a host pays per command when it starts a fresh client each time,
 * the way `docker exec` is used. */
static int do_connect_exec(void *ctx)
{
	struct dctx *d = ctx;
	struct rc_conn c;
	int r = rc_connect(&c, d->target, NULL);

	if (r == 0)
		r = op_exec(&c, NULL, "true", NULL);
	if (r)
		snprintf(d->rc.err, sizeof(d->rc.err), "%s", c.err);
	rc_close(&c);
	return r;
}

static void sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

	nanosleep(&ts, NULL);
}

/* docker run -d to the first EXEC answered through a bind-mounted socket,
 * the way a sandbox host that owns the container talks to it. */
static int do_start_exec(void *ctx)
{
	struct dctx *d = ctx;
	char name[64], vol[200], sock[160];
	const char *argv[] = {"run",
			      "-d",
			      "--network",
			      "none",
			      "--name",
			      name,
			      "-v",
			      vol,
			      d->image,
			      "--listen",
			      "unix:/run/runner/runner.sock",
			      NULL};
	uint64_t t0 = now_ns();
	struct rc_conn c;
	int r;

	snprintf(name, sizeof(name), "runner-bench-%d-%u", getpid(), d->seq++);
	snprintf(vol, sizeof(vol), "%s:/run/runner", d->sockdir);
	snprintf(sock, sizeof(sock), "unix:%s/runner.sock", d->sockdir);
	unlink(sock + 5);
	if ((r = docker_run(d, argv)) != 0)
		return r;
	while ((r = rc_connect(&c, sock, NULL)) < 0 &&
	       since_us(t0) < READY_TIMEOUT_US) {
		rc_close(&c);
		sleep_ms(1);
	}
	if (r == 0)
		r = op_exec(&c, NULL, "true", NULL);
	if (r)
		snprintf(d->rc.err, sizeof(d->rc.err), "%s", c.err);
	rc_close(&c);
	docker_rm(d, name);
	return r;
}

/* The usual alternative: a container kept alive by `tail -f /dev/null`
 * and a first `docker exec`. */
static int do_start_exec_base(void *ctx)
{
	struct dctx *d = ctx;
	char name[64];
	const char *run[] = {"run",    "-d", "--network",    "none",
			     "--name", name, "--entrypoint", "tail",
			     d->image, "-f", "/dev/null",    NULL};
	const char *exec[] = {"exec", name, "true", NULL};
	int r;

	snprintf(name, sizeof(name), "runner-bench-%d-%u", getpid(), d->seq++);
	if ((r = docker_run(d, run)) == 0)
		r = docker_run(d, exec);
	docker_rm(d, name);
	return r;
}

/* `docker run -d` returns before the runner listens. */
static int wait_ready(struct dctx *d)
{
	uint64_t t0 = now_ns();
	struct rc_conn c;
	int r;

	do {
		if ((r = rc_connect(&c, d->target, NULL)) == 0)
			r = op_ping(&c);
		rc_close(&c);
		if (r)
			sleep_ms(50);
	} while (r && since_us(t0) < READY_TIMEOUT_US);
	return r;
}

static struct row *drow(struct bench *b, const char *id, const char *title,
			const char *base)
{
	struct row *r = row_new(b, id, "docker", RK_LATENCY, "us", title);

	if (base)
		snprintf(r->baseline, sizeof(r->baseline), "%s", base);
	return r;
}

static void exec_rows(struct bench *b, struct dctx *d)
{
	unsigned n = b->cfg.quick ? 6 : 30;
	struct meas base = {.row = drow(b, "docker_exec_true",
					"`docker exec CTR true`, per command",
					NULL),
			    .fn = do_docker_exec,
			    .ctx = d,
			    .warm = 2};
	struct meas fresh = {
	    .row = drow(
		b, "docker_connect_exec",
		"docker:CTR: connect (docker exec -i runner attach) + EXEC `true`",
		"docker_exec_true"),
	    .fn = do_connect_exec,
	    .ctx = d,
	    .conn = &d->rc,
	    .warm = 2};
	struct meas held = {
	    .row = drow(b, "docker_attach_exec",
			"docker:CTR: EXEC `true` on an open connection",
			"docker_exec_true"),
	    .fn = do_attach_exec,
	    .ctx = d,
	    .conn = &d->rc,
	    .warm = 0};
	int r;

	measure_pair(b, &fresh, &base, n);
	if ((r = rc_connect(&d->rc, d->target, NULL)) < 0)
		row_refused(held.row, r, d->rc.err);
	else
		measure_pair(b, &held, NULL, b->cfg.lat_n / 2);
	rc_close(&d->rc);
	row_print(b, base.row);
	row_print(b, fresh.row);
	row_print(b, held.row);
}

static void start_rows(struct bench *b, struct dctx *d)
{
	struct meas base = {
	    .row = drow(
		b, "docker_start_exec_base",
		"`docker run -d` (tail -f /dev/null) + first `docker exec true`",
		NULL),
	    .fn = do_start_exec_base,
	    .ctx = d,
	    .warm = 1};
	struct meas op = {
	    .row = drow(
		b, "docker_start_exec",
		"`docker run -d` runner to first EXEC answered (bind-mounted socket)",
		"docker_start_exec_base"),
	    .fn = do_start_exec,
	    .ctx = d,
	    .conn = &d->rc,
	    .warm = 1};

	measure_pair(b, &op, &base, b->cfg.quick ? 3 : 6);
	row_print(b, base.row);
	row_print(b, op.row);
}

void suite_docker(struct bench *b)
{
	static struct dctx d;
	const char *run[8];

	d = (struct dctx){
	    .b = b, .docker = b->cfg.docker, .image = b->cfg.docker_image};
	if (!d.docker || !d.image) {
		struct row *r =
		    drow(b, "docker_exec_true",
			 "`docker exec CTR true`, per command", NULL);
		row_fail(r, "n/a (no Docker engine)");
		row_print(b, r);
		return;
	}
	snprintf(d.ctr, sizeof(d.ctr), "runner-bench-%d", getpid());
	snprintf(d.target, sizeof(d.target), "docker:%s", d.ctr);
	snprintf(d.sockdir, sizeof(d.sockdir), "/tmp/runner-bench-sock-%d",
		 getpid());
	if (mkdir(d.sockdir, 0777) < 0 && errno != EEXIST)
		progress("docker: %s: %s", d.sockdir, strerror(errno));
	/* The runner in the container binds as root and then drops to the
	 * sandbox user; the directory must not stand in its way. */
	chmod(d.sockdir, 0777);
	run[0] = "run";
	run[1] = "-d";
	run[2] = "--network";
	run[3] = "none";
	run[4] = "--name";
	run[5] = d.ctr;
	run[6] = d.image;
	run[7] = NULL;
	if (docker_run(&d, run) != 0) {
		row_fail(drow(b, "docker_exec_true",
			      "`docker exec CTR true`, per command", NULL),
			 "error (docker run %s failed)", d.image);
		return;
	}
	/* The dialer runs ${DOCKER:-docker}; use the same client. */
	setenv("DOCKER", d.docker, 1);
	if (wait_ready(&d) != 0)
		progress("docker: the runner in %s never answered", d.ctr);
	exec_rows(b, &d);
	docker_rm(&d, d.ctr);
	start_rows(b, &d);
	rm_tree(d.sockdir);
}
