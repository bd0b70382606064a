/* sysops.c - PING, INFO, STATS, SHUTDOWN: the runner describing itself. */
#include "runner.h"
#include "dispatch.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define PING_ECHO_MAX 65536

void sys_ping(struct stream *s, const uint8_t *p, size_t n)
{
	uint8_t buf[PING_ECHO_MAX + 64];
	struct wire_buf b;
	struct wire_field f;
	int r;

	wb_init(&b, buf, sizeof(buf));
	wb_u64(&b, T_TIME_NS, now_ns());
	/* Echo T_DATA so a client can measure payload round trips. */
	if ((r = req_bytes(s, p, n, T_DATA, PING_ECHO_MAX, &f)) < 0)
		return;
	if (r)
		wb_bytes(&b, T_DATA, f.val, f.len);
	if (stream_result(s, &b) < 0)
		stream_error(s, E_LIMIT, 0,
			     "PING reply does not fit the frame");
}

/* Resident set size from /proc/self/statm (second field, in pages).
 * Parsed by hand: sscanf would pull musl's whole scanf and float parser
 * into a binary that must stay small. */
static uint64_t self_rss(void)
{
	char buf[128], *p;
	uint64_t pages = 0;
	ssize_t n;
	int fd;

	fd = open("/proc/self/statm", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = 0;
	p = strchr(buf, ' ');
	if (!p)
		return 0;
	for (p++; *p >= '0' && *p <= '9'; p++)
		pages = pages * 10 + (uint64_t)(*p - '0');
	return pages * (uint64_t)sysconf(_SC_PAGESIZE);
}

static uint32_t self_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	uint32_t n = 0;

	if (!d)
		return 0;
	while ((e = readdir(d)))
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n ? n - 1 : 0; /* not counting the directory's own fd */
}

static void limit_field(struct wire_buf *b, const char *name, uint64_t v)
{
	char line[64];

	snprintf(line, sizeof(line), "%s=%llu", name, (unsigned long long)v);
	wb_str(b, T_LIMIT, line);
}

void sys_info(struct stream *s, const uint8_t *p, size_t n)
{
	struct runner *rt = stream_runner(s);
	const struct config *cfg = &rt->cfg;
	uint8_t buf[4096];
	struct wire_buf b;
	unsigned i;

	(void)p;
	(void)n;
	wb_init(&b, buf, sizeof(buf));
	wb_str(&b, T_SOFTWARE, "runner " RUNNER_VERSION);
	wb_u16(&b, T_VERSION, WIRE_VERSION);
	wb_u32(&b, T_PID, (uint32_t)getpid());
	wb_u32(&b, T_UID, (uint32_t)geteuid());
	wb_u32(&b, T_GID, (uint32_t)getegid());
	wb_u8(&b, T_IS_PID1, rt->is_pid1);
	wb_u64(&b, T_UPTIME_MS, (now_ns() - rt->start_ns) / 1000000u);
	for (i = 0; i < rt->harden.nsteps; i++)
		wb_str(&b, T_HARDENING, rt->harden.steps[i]);
	limit_field(&b, "max_frame", cfg->max_frame);
	limit_field(&b, "window", cfg->window);
	limit_field(&b, "max_streams", cfg->max_streams);
	limit_field(&b, "max_conns", cfg->max_conns);
	limit_field(&b, "max_conns_per_uid", cfg->max_conns_per_uid);
	limit_field(&b, "max_sessions", cfg->max_sessions);
	limit_field(&b, "max_procs", cfg->max_procs);
	limit_field(&b, "max_command", cfg->max_command);
	limit_field(&b, "ring_size", cfg->ring_size);
	limit_field(&b, "grace_ms", cfg->grace_ms);
	limit_field(&b, "io_timeout_ms", cfg->io_timeout_ms);
	if (cfg->root)
		wb_str(&b, T_PATH, cfg->root);
	if (stream_result(s, &b) < 0)
		stream_error(s, E_INTERNAL, 0, "INFO reply does not fit");
}

void sys_stats(struct stream *s, const uint8_t *p, size_t n)
{
	struct runner *rt = stream_runner(s);
	unsigned kept;
	uint8_t buf[256];
	struct wire_buf b;

	(void)p;
	(void)n;
	wb_init(&b, buf, sizeof(buf));
	wb_u64(&b, T_RSS, self_rss());
	wb_u32(&b, T_CONNS, conn_count(rt));
	wb_u32(&b, T_STREAMS, stream_count(rt));
	wb_u32(&b, T_FDS, self_fds());
	wb_u32(&b, T_CHILDREN, rt->nchildren);
	wb_u32(&b, T_SESSIONS, shell_count(rt));
	wb_u32(&b, T_PROCS, proc_count(rt, &kept));
	wb_u64(&b, T_COUNT, kept);
	wb_u64(&b, T_UPTIME_MS, (now_ns() - rt->start_ns) / 1000000u);
	stream_result(s, &b); /* small: it always goes */
}

void sys_shutdown(struct stream *s, const uint8_t *p, size_t n)
{
	struct runner *rt = stream_runner(s);
	uint64_t grace;
	uint8_t buf[64];
	struct wire_buf b;

	if (req_uint(s, p, n, T_GRACE_MS, rt->cfg.grace_ms, 0, 3600000,
		     &grace) < 0)
		return;
	rt->cfg.grace_ms = (uint32_t)grace;
	wb_init(&b, buf, sizeof(buf));
	wb_u32(&b, T_GRACE_MS, rt->cfg.grace_ms);
	stream_result(s, &b); /* small: it always goes */
	log_info("shutdown requested by a client");
	runner_shutdown(rt, 0);
}
