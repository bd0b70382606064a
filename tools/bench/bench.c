/* bench.c - `make bench`: flags, the suites in order, results.json.
 *
 *   bench --runner PATH --out DIR [--work DIR] [--quick] [--only LIST]
 *         [--docker CLI --docker-image IMAGE] [--label TEXT]
 *
 * Environment (tools/bench/run sets these from make's):
 *   BENCH_QUICK=1   small sizes and counts: the whole run in ~1 minute
 *   BENCH_ONLY      comma list of suites (sys,startup,shell,proc,fs,
 *                   concurrency,soak,docker)
 *   BENCH_SOAK=N    execs and reads in the memory soak
 *   BENCH_DOCKER    docker CLI to use when an engine answers
 */
#include "bench.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char usage[] =
    "usage: bench --runner PATH --out DIR [--work DIR] [--quick]\n"
    "             [--only SUITE,...] [--docker CLI] [--docker-image IMG]\n"
    "suites: sys startup shell proc fs concurrency soak docker\n";

static const struct {
	const char *name;
	void (*run)(struct bench *b);
} suites[] = {
    {"sys", suite_sys},	    {"startup", suite_startup},
    {"shell", suite_shell}, {"proc", suite_proc},
    {"fs", suite_fs},	    {"concurrency", suite_concurrency},
    {"soak", suite_soak},   {"docker", suite_docker},
};

static void cfg_sizes(struct bench_cfg *c)
{
	const char *soak = getenv("BENCH_SOAK");

	if (c->quick) {
		c->big_bytes = 64ull << 20;
		c->pty_bytes = 16ull << 20;
		c->lat_n = 300;
		c->rounds = 3;
		c->tput_reps = 2;
		c->soak_n = 5000;
		c->grep_files = 2000;
		c->ignore_files = 5000;
		c->conc_secs = 0.3;
	} else {
		c->big_bytes = 1ull << 30;
		c->pty_bytes = 256ull << 20;
		c->lat_n = 2000;
		c->rounds = 5;
		c->tput_reps = 3;
		c->soak_n = 100000;
		c->grep_files = 10000;
		c->ignore_files = 50000;
		c->conc_secs = 1.0;
	}
	if (soak && *soak)
		c->soak_n = (unsigned)strtoul(soak, NULL, 10);
}

static int parse(struct bench_cfg *c, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"runner", required_argument, NULL, 'r'},
	    {"out", required_argument, NULL, 'o'},
	    {"work", required_argument, NULL, 'w'},
	    {"only", required_argument, NULL, 'O'},
	    {"quick", no_argument, NULL, 'q'},
	    {"docker", required_argument, NULL, 'd'},
	    {"docker-image", required_argument, NULL, 'i'},
	    {"label", required_argument, NULL, 'l'},
	    {"help", no_argument, NULL, 'h'},
	    {0},
	};
	const char *q = getenv("BENCH_QUICK");
	int o;

	c->quick = q && *q && strcmp(q, "0") != 0;
	c->only = getenv("BENCH_ONLY");
	c->docker = getenv("BENCH_DOCKER");
	while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (o) {
		case 'r': c->runner = optarg; break;
		case 'o': c->out_dir = optarg; break;
		case 'w': c->work = optarg; break;
		case 'O': c->only = optarg; break;
		case 'q': c->quick = true; break;
		case 'd': c->docker = optarg; break;
		case 'i': c->docker_image = optarg; break;
		case 'l': c->label = optarg; break;
		case 'h': fputs(usage, stdout); exit(0);
		default: fputs(usage, stderr); return -EINVAL;
		}
	}
	if (!c->runner || !c->out_dir || optind != argc) {
		fputs(usage, stderr);
		return -EINVAL;
	}
	if (c->docker && !*c->docker)
		c->docker = NULL;
	cfg_sizes(c);
	return 0;
}

/* Only what the suites made: the directory may be the caller's. */
static void work_cleanup(struct bench *b)
{
	static const char *const names[] = {"big.dat",	      "pty.dat",
					    "small.txt",      "written.dat",
					    "written-dd.dat", "tree"};
	char path[600];
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", b->cfg.work, names[i]);
		rm_tree(path);
	}
}

/* VmHWM of every runner the run started: the most any of them ever held,
 * under 1 GB transfers and 64 clients alike. */
static void peak_rss_row(struct bench *b)
{
	struct row *r;

	if (b->peak_rss_kib <= 0)
		return;
	r = row_new(b, "peak_rss", "sys", RK_VALUE, "KiB",
		    "runner peak RSS (VmHWM) over the whole run, under load");
	r->value = b->peak_rss_kib;
	r->ok = true;
	snprintf(r->status, sizeof(r->status), "ok");
	row_print(b, r);
}

int main(int argc, char **argv)
{
	static struct bench b; /* big: rows with their quantiles */
	char path[512], work[512];
	size_t i;
	int r;

	if (parse(&b.cfg, argc, argv) < 0)
		return 2;
	/* Children that die must not kill us through a dead pipe. */
	signal(SIGPIPE, SIG_IGN);
	if (mkdir(b.cfg.out_dir, 0755) < 0 && errno != EEXIST) {
		fprintf(stderr, "bench: %s: %s\n", b.cfg.out_dir,
			strerror(errno));
		return 1;
	}
	if (!b.cfg.work) {
		snprintf(work, sizeof(work), "%s/work", b.cfg.out_dir);
		b.cfg.work = work;
	}
	if (mkdir(b.cfg.work, 0755) < 0 && errno != EEXIST) {
		fprintf(stderr, "bench: %s: %s\n", b.cfg.work, strerror(errno));
		return 1;
	}
	progress("%s run, runner %s, scratch in %s",
		 b.cfg.quick ? "quick" : "full", b.cfg.runner, b.cfg.work);
	for (i = 0; i < sizeof(suites) / sizeof(suites[0]); i++) {
		uint64_t t0 = now_ns();
		if (!suite_on(&b, suites[i].name))
			continue;
		progress("---- %s", suites[i].name);
		suites[i].run(&b);
		progress("---- %s: %.1f s", suites[i].name, since_us(t0) / 1e6);
	}
	work_cleanup(&b);
	peak_rss_row(&b);
	snprintf(path, sizeof(path), "%s/results.json", b.cfg.out_dir);
	if ((r = results_write(&b, path)) < 0) {
		fprintf(stderr, "bench: %s: %s\n", path, strerror(-r));
		return 1;
	}
	progress("wrote %s", path);
	return 0;
}
