/* bench.h - tools/bench: the performance harness behind `make bench`.
 *
 * One process drives runners it starts itself (PID 1 of fresh namespaces,
 * as the integration harness does) through the project's client library,
 * measures every operation beside a local baseline taken in the same run,
 * and writes results.json.  Tables and plots are made from that file by
 * tools/bench/report; nothing here formats for people beyond progress
 * lines on stderr.
 *
 * Conventions: latencies are microseconds, throughputs decimal MB/s
 * (10^6 bytes/s), sizes bytes.  A "ratio" is always "times slower than
 * the baseline" (latency: ours/base; throughput: base/ours), so bigger is
 * worse everywhere and tools/bench/check can treat every row alike.
 */
#ifndef BENCH_H
#define BENCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "../runnerctl/client.h"

#define BENCH_MAX_ROWS	 160
#define BENCH_MAX_EXTRA	 12
#define BENCH_QUANTILES	 21 /* 0, 5, ..., 100 % */
#define BENCH_MAX_ROUNDS 8

/* ---- samples (stats.c) ---- */

struct samples {
	double *v; /* microseconds, or MB/s for throughput rows */
	size_t n, cap;
};

void samples_add(struct samples *s, double v);
void samples_free(struct samples *s);
/* Sorts in place; q in [0, 1]; 0 when empty. */
double samples_quantile(struct samples *s, double q);
double samples_mean(const struct samples *s);

/* ---- rows (results.c) ---- */

enum row_kind { RK_LATENCY, RK_THROUGHPUT, RK_VALUE };
enum target_cmp { TC_NONE, TC_LE, TC_GE };
/* What a target or a ratio is taken of. */
enum target_metric { TM_MEDIAN, TM_VALUE, TM_DELTA, TM_RATIO };

struct extra {
	const char *key;
	double val;
};

struct row {
	char id[48];
	char group[16];
	char title[112];
	enum row_kind kind;
	const char *unit;
	char status[160]; /* "ok", "n/a (E_UNSUPPORTED)", "error: ..." */
	bool ok;
	/* latency / throughput */
	size_t n;
	double median, p90, p99, min, max, mean;
	double quantiles[BENCH_QUANTILES];
	double round_median[BENCH_MAX_ROUNDS];
	int rounds;
	/* value rows */
	double value;
	/* comparison */
	char baseline[48];
	enum target_cmp tcmp;
	enum target_metric tmetric;
	double tval;
	struct extra extra[BENCH_MAX_EXTRA];
	int nextra;
	/* series for plots (soak RSS, concurrency): owned, may be NULL */
	double *series_x, *series_y;
	size_t nseries;
	const char *series_name;
};

/* ---- the whole run ---- */

struct bench_cfg {
	const char *runner;  /* path of the static runner */
	const char *out_dir; /* results.json goes here */
	const char *work;    /* scratch files (big data, the grep tree) */
	const char *only;    /* comma list of suites, NULL = all */
	bool quick;
	uint64_t big_bytes;	  /* size of the throughput file */
	uint64_t pty_bytes;	  /* PTY output is slower: a smaller file */
	unsigned lat_n;		  /* samples per latency row */
	unsigned rounds;	  /* latency rows interleave baseline and op */
	unsigned tput_reps;	  /* repeats per throughput row */
	unsigned soak_n;	  /* execs and reads in the memory soak */
	unsigned grep_files;	  /* files in the grep tree */
	unsigned ignore_files;	  /* files in the IGNORE work tree */
	double conc_secs;	  /* seconds per concurrency level */
	const char *docker;	  /* docker CLI, NULL when no engine answers */
	const char *docker_image; /* test image with /sbin/runner */
	const char *label;	  /* what was measured, e.g. git describe */
};

struct bench {
	struct bench_cfg cfg;
	struct row rows[BENCH_MAX_ROWS];
	int nrows;
	double peak_rss_kib; /* max VmHWM of any runner, for "under load" */
};

struct row *row_new(struct bench *b, const char *id, const char *group,
		    enum row_kind kind, const char *unit, const char *title);
struct row *row_find(struct bench *b, const char *id);
/* Shorthands: a latency row in microseconds, a throughput row in MB/s;
 * base, when not NULL, names the row this one is compared with. */
struct row *row_lat(struct bench *b, const char *id, const char *group,
		    const char *base, const char *title);
struct row *row_tput(struct bench *b, const char *id, const char *group,
		     const char *base, const char *title);
void row_fail(struct row *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Mark a row not measurable because the runner refused the request:
 * "n/a (E_UNSUPPORTED)" for unbuilt features, else the error text. */
void row_refused(struct row *r, int code, const char *err);
void row_extra(struct row *r, const char *key, double val);
void row_target(struct row *r, enum target_metric m, enum target_cmp c,
		double v);
/* Fill median/p90/... from samples (latency or throughput rows). */
void row_stats(struct row *r, struct samples *s);
void row_series(struct row *r, const char *name, const double *x,
		const double *y, size_t n);
double row_ratio(struct bench *b, const struct row *r, bool *have);
int results_write(struct bench *b, const char *path);
void row_print(struct bench *b, const struct row *r);

/* ---- runners under test (target.c) ---- */

struct target {
	pid_t unshare_pid; /* what we forked */
	pid_t pid;	   /* the runner: PID 1 inside, this pid outside */
	char dir[256];	   /* private temp dir */
	char sock[300];
	char log[300];
	const char *const *extra; /* flags it was started with, for restarts */
	bool keep_log;		  /* something went wrong: leave the log */
};

/* Start `unshare --fork --pid --mount-proc runner --listen unix:SOCK
 * EXTRA...` and wait until it answers HELLO. */
int target_start(struct bench *b, struct target *t, const char *const *extra);
/* Fork and exec only: the caller polls (startup measurement). */
int target_spawn(struct bench *b, struct target *t, const char *const *extra);
int target_connect(struct target *t, struct rc_conn *c);
void target_stop(struct bench *b, struct target *t);
long target_rss_kib(const struct target *t, const char *field);
int target_fds(const struct target *t);
/* Runner plus every descendant (the shells), VmRSS summed. */
long target_tree_rss_kib(const struct target *t);

/* A suite is a list of steps against one runner and one connection.
 * Before each step a runner that died or a connection that broke (a
 * crash, a stuck request) is replaced, so one bad row does not take the
 * rest of the suite with it. */
typedef void (*step_fn)(struct bench *b, struct target *t, struct rc_conn *c);
void run_steps(struct bench *b, const char *suite, const char *const *extra,
	       const step_fn *steps);

/* ---- requests (ops.c): 0, a positive wire error code, or -errno ---- */

int op_ping(struct rc_conn *c);
int op_exec(struct rc_conn *c, const char *session, const char *command,
	    uint64_t *out_bytes);
int op_shell_open(struct rc_conn *c, const char *session);
int op_spawn(struct rc_conn *c, const char *const *argv, bool pty,
	     uint64_t *out_bytes);
/* Send a SPAWN and return at once; its frames are the caller's. */
int op_spawn_start(struct rc_conn *c, const char *const *argv, uint32_t *id);
/* Next frame of any stream, with the silence timeout; a broken or stuck
 * connection is closed (later requests fail at once). */
int op_recv(struct rc_conn *c, struct rc_frame *f);
int op_read(struct rc_conn *c, const char *path, uint64_t *bytes);
/* atomic: through a temp file and rename (WRITE's default); else in
 * place, as dd writes. */
int op_write(struct rc_conn *c, const char *path, uint64_t bytes, bool atomic);
int op_grep(struct rc_conn *c, const char *root, const char *pattern,
	    uint64_t *matches);
/* Any request whose answer is records (FIND, GREP, LS) built in b;
 * *count gets the RESULT's COUNT. */
int op_fields(struct rc_conn *c, uint8_t type, const struct wire_buf *b,
	      uint64_t *count);

/* ---- local baselines (local.c) ---- */

int local_run(const char *const *argv, const char *out_path);
int local_sh_true(void);
int local_spawn_true(void);

/* A transfer of one file: the context of every xfer_fn below and of the
 * suites' own. */
struct file_xfer {
	struct rc_conn *c;
	const char *path;
	uint64_t bytes; /* size to write; size of path for reads */
	char cmd[600];	/* shell command, for EXEC-based transfers */
};

/* r, or -EBADMSG (with c->err) when fewer than x->bytes arrived: a
 * throughput over a short transfer would flatter. */
int xfer_check(struct file_xfer *x, int r, uint64_t got);
int xfer_cat(void *ctx, uint64_t *bytes);      /* cat PATH > /dev/null */
int xfer_dd_read(void *ctx, uint64_t *bytes);  /* dd if=PATH bs=1M */
int xfer_dd_write(void *ctx, uint64_t *bytes); /* dd of=PATH bs=1M */

/* ---- clocks and files (util.c) ---- */

uint64_t now_ns(void);
double since_us(uint64_t t0);
void progress(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int make_file(const char *path, uint64_t bytes, bool text);
int make_tree(const char *root, unsigned files, unsigned *matches);
int rm_tree(const char *path);
/* Is suite name selected by cfg.only? */
bool suite_on(const struct bench *b, const char *name);

/* ---- measuring loops shared by suites (measure.c) ---- */

typedef int (*op_fn)(void *ctx);
/* Move a payload once; *bytes gets what was moved.  0 or an error as
 * the op_* functions return it. */
typedef int (*xfer_fn)(void *ctx, uint64_t *bytes);

/* One thing to measure and where its figures go.  conn, when set, is
 * where a refusal's message is read from (c->err). */
struct meas {
	struct row *row;
	op_fn fn;
	xfer_fn xfn;
	void *ctx;
	struct rc_conn *conn;
	unsigned warm; /* untimed calls first; latency 0: a tenth of the
			* samples; throughput: this many transfers */
};

/* Latency: cfg.lat_n samples each of op and base, in cfg.rounds rounds
 * that alternate the two so both see the same noise.  base may be NULL.
 * A row whose first call fails is marked refused and not measured.
 * Returns the op's error, 0 when it was measured. */
int measure_pair(struct bench *b, struct meas *op, struct meas *base,
		 unsigned n);
/* Throughput: cfg.tput_reps transfers of op and of base, alternated. */
int measure_tput(struct bench *b, struct meas *op, struct meas *base);

/* ---- suites ---- */

void suite_sys(struct bench *b);
void suite_startup(struct bench *b);
void suite_shell(struct bench *b);
void suite_proc(struct bench *b);
void suite_fs(struct bench *b);
void suite_concurrency(struct bench *b);
void suite_soak(struct bench *b);
void suite_docker(struct bench *b);

#endif
