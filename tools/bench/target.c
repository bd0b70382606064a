/* target.c - runners under test: PID 1 of fresh namespaces.
 *
 * Started exactly as tests/integration/harness.py does it (`unshare
 * --fork --pid --mount-proc --kill-child`), so the runner does its PID-1
 * work (reaping, signal forwarding) while it is measured.  --kill-child
 * means a bench that dies leaves no runner behind.
 */
#include "bench.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define TARGET_MAX_ARGS	 32
#define START_TIMEOUT_MS 10000
#define STOP_TIMEOUT_MS	 10000

int target_spawn(struct bench *b, struct target *t, const char *const *extra)
{
	const char *argv[TARGET_MAX_ARGS];
	char listen[320];
	int n = 0, logfd;
	pid_t pid;

	memset(t, 0, sizeof(*t));
	t->extra = extra;
	snprintf(t->dir, sizeof(t->dir), "/tmp/runner-bench-XXXXXX");
	if (!mkdtemp(t->dir))
		return -errno;
	snprintf(t->sock, sizeof(t->sock), "%s/runner.sock", t->dir);
	snprintf(t->log, sizeof(t->log), "%s/runner.log", t->dir);
	snprintf(listen, sizeof(listen), "unix:%s", t->sock);
	argv[n++] = "unshare";
	argv[n++] = "--fork";
	argv[n++] = "--pid";
	argv[n++] = "--mount-proc";
	argv[n++] = "--kill-child";
	argv[n++] = b->cfg.runner;
	argv[n++] = "--listen";
	argv[n++] = listen;
	argv[n++] = "--log-level";
	argv[n++] = "warn";
	/* The bench measures the runner, not the user switch: root, named,
	 * as a root start without a 'sandbox' user must. */
	argv[n++] = "--user";
	argv[n++] = "root";
	/* Interactive bash ignores SIGTERM: without a short grace every
	 * stop would wait out the default 5 s before the SIGKILL. */
	argv[n++] = "--grace";
	argv[n++] = "500";
	while (extra && *extra && n < TARGET_MAX_ARGS - 1)
		argv[n++] = *extra++;
	argv[n] = NULL;
	logfd = open(t->log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (logfd < 0)
		return -errno;
	pid = fork();
	if (pid < 0) {
		close(logfd);
		return -errno;
	}
	if (pid == 0) {
		int null = open("/dev/null", O_RDONLY);
		dup2(null, STDIN_FILENO);
		dup2(logfd, STDOUT_FILENO);
		dup2(logfd, STDERR_FILENO);
		execvp(argv[0], (char *const *)argv);
		_exit(127);
	}
	close(logfd);
	t->unshare_pid = pid;
	return 0;
}

/* The runner is unshare's only child. */
static pid_t find_runner_pid(pid_t unshare_pid)
{
	char path[64], buf[64];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/children", unshare_pid,
		 unshare_pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = 0;
	return (pid_t)atoi(buf);
}

int target_connect(struct target *t, struct rc_conn *c)
{
	char spec[320];

	snprintf(spec, sizeof(spec), "unix:%s", t->sock);
	return rc_connect(c, spec, NULL);
}

static void sleep_us(long us)
{
	struct timespec ts = {us / 1000000, (us % 1000000) * 1000};

	nanosleep(&ts, NULL);
}

int target_start(struct bench *b, struct target *t, const char *const *extra)
{
	uint64_t t0 = now_ns();
	struct rc_conn c;
	int r, st;

	if ((r = target_spawn(b, t, extra)) < 0)
		return r;
	for (;;) {
		if (waitpid(t->unshare_pid, &st, WNOHANG) == t->unshare_pid) {
			t->unshare_pid = 0;
			progress("runner exited during startup; see %s",
				 t->log);
			return -ECHILD;
		}
		if (access(t->sock, F_OK) == 0) {
			r = target_connect(t, &c);
			rc_close(&c);
			if (r == 0)
				break;
		}
		if (since_us(t0) > START_TIMEOUT_MS * 1000.0) {
			target_stop(b, t);
			return -ETIMEDOUT;
		}
		sleep_us(2000);
	}
	t->pid = find_runner_pid(t->unshare_pid);
	return t->pid > 0 ? 0 : -ESRCH;
}

static bool wait_exit(pid_t pid, int ms)
{
	uint64_t t0 = now_ns();
	int st;

	while (since_us(t0) < ms * 1000.0) {
		pid_t w = waitpid(pid, &st, WNOHANG);
		if (w == pid || (w < 0 && errno == ECHILD))
			return true;
		sleep_us(1000);
	}
	return false;
}

void target_stop(struct bench *b, struct target *t)
{
	long hwm;

	if (t->unshare_pid <= 0)
		goto cleanup;
	hwm = target_rss_kib(t, "VmHWM:");
	if (hwm > b->peak_rss_kib)
		b->peak_rss_kib = (double)hwm;
	if (!t->pid)
		t->pid = find_runner_pid(t->unshare_pid);
	/* SIGTERM to PID 1 is the graceful path; killing unshare takes the
	 * runner down with it (--kill-child) if that does not work. */
	if (t->pid > 0)
		kill(t->pid, SIGTERM);
	if (!wait_exit(t->unshare_pid, STOP_TIMEOUT_MS)) {
		progress("runner did not stop on SIGTERM; killing it (log: %s)",
			 t->log);
		t->keep_log = true;
		kill(t->unshare_pid, SIGKILL);
		wait_exit(t->unshare_pid, STOP_TIMEOUT_MS);
	}
cleanup:
	t->unshare_pid = t->pid = 0;
	if (!t->dir[0])
		return;
	unlink(t->sock);
	/* The log of a runner that had to be killed or replaced is kept
	 * (its path was printed); the rest are noise. */
	if (!t->keep_log) {
		unlink(t->log);
		rmdir(t->dir);
	}
	t->dir[0] = 0;
}

static long status_field(pid_t pid, const char *field)
{
	char path[64], line[256];
	long v = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	f = fopen(path, "re");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, field, strlen(field))) {
			v = strtol(line + strlen(field), NULL, 10);
			break;
		}
	fclose(f);
	return v;
}

long target_rss_kib(const struct target *t, const char *field)
{
	return t->pid > 0 ? status_field(t->pid, field) : -1;
}

int target_fds(const struct target *t)
{
	char path[64];
	struct dirent *e;
	int n = 0;
	DIR *d;

	snprintf(path, sizeof(path), "/proc/%d/fd", t->pid);
	if (!(d = opendir(path)))
		return -1;
	while ((e = readdir(d)))
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

static long tree_rss(pid_t pid, int depth)
{
	char path[80], buf[4096], *p, *end;
	long sum = status_field(pid, "VmRSS:");
	ssize_t n;
	int fd;

	if (sum < 0 || depth > 8)
		return sum < 0 ? 0 : sum;
	snprintf(path, sizeof(path), "/proc/%d/task/%d/children", pid, pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return sum;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	buf[n > 0 ? n : 0] = 0;
	for (p = buf; *p; p = end) {
		long child = strtol(p, &end, 10);
		if (end == p)
			break;
		sum += tree_rss((pid_t)child, depth + 1);
	}
	return sum;
}

long target_tree_rss_kib(const struct target *t)
{
	return t->pid > 0 ? tree_rss(t->pid, 0) : -1;
}

static bool target_alive(const struct target *t)
{
	return t->pid > 0 && kill(t->pid, 0) == 0;
}

static int target_restart(struct bench *b, struct target *t, struct rc_conn *c,
			  const char *suite)
{
	const char *const *extra = t->extra;
	int r;

	rc_close(c);
	/* A runner that broke a connection may be stuck: never reuse it. */
	if (t->unshare_pid > 0) {
		progress("%s: replacing the runner (log: %s)", suite, t->log);
		t->keep_log = true;
		target_stop(b, t);
	}
	if ((r = target_start(b, t, extra)) < 0) {
		progress("%s: cannot start the runner: %s", suite,
			 strerror(-r));
		return r;
	}
	if ((r = target_connect(t, c)) < 0)
		progress("%s: cannot connect: %s", suite, c->err);
	return r;
}

void run_steps(struct bench *b, const char *suite, const char *const *extra,
	       const step_fn *steps)
{
	struct target t = {.extra = extra};
	struct rc_conn c = {.rfd = -1, .wfd = -1};

	for (; *steps; steps++) {
		if ((c.rfd < 0 || !target_alive(&t)) &&
		    target_restart(b, &t, &c, suite) < 0)
			break;
		(*steps)(b, &t, &c);
	}
	rc_close(&c);
	target_stop(b, &t);
}
