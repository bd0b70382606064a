/* runnerctl - the host-side CLI of runner. */
#include "cmds.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char usage[] =
    "usage: runnerctl [--connect TARGET] [--token-file F] COMMAND [ARGS]\n"
    "\n"
    "TARGET: unix:PATH (default $RUNNER_CONNECT, else " RC_DEFAULT_TARGET ")\n"
    "        cmd:'COMMAND'   speak over a command's stdin/stdout\n"
    "        docker:CTR      = cmd:'docker exec -i CTR /sbin/runner attach'\n"
    "        kubectl:POD[:CONTAINER]  vsock:CID:PORT  fc:UDS_PATH:PORT\n"
    "\n"
    "commands:\n"
    "  ping [-n COUNT]           round trip (prints microseconds)\n"
    "  info | stats | shutdown [--grace MS]\n"
    "  exec [--session S] [--timeout MS] [--raw] [--stream] -- 'COMMAND'\n"
    "  shell [--session S]       interactive terminal into a session\n"
    "  spawn [--bg] [--pty] [--cwd D] [--env K=V] -- ARGV...\n"
    "  ps | attach PID [--from OFFSET] | kill PID [SIGNAL]\n"
    "  read PATH [--lines A:B] | write PATH (stdin) | edit PATH OLD NEW "
    "[--all]\n"
    "  ls [PATH] | stat PATH | mkdir [-p] PATH | rm [-r] PATH | mv A B\n"
    "  find ROOT [--name GLOB] | grep PATTERN [ROOT] | diff A B\n";

static const struct {
	const char *name;
	cmd_fn fn;
} commands[] = {
    {"ping", cmd_ping},		{"info", cmd_info}, {"stats", cmd_stats},
    {"shutdown", cmd_shutdown}, {"exec", cmd_exec}, {"shell", cmd_shell},
    {"spawn", cmd_spawn},	{"ps", cmd_ps},	    {"attach", cmd_attach},
    {"kill", cmd_kill},		{"read", cmd_read}, {"write", cmd_write},
    {"edit", cmd_edit},		{"ls", cmd_ls},	    {"stat", cmd_stat},
    {"mkdir", cmd_mkdir},	{"rm", cmd_rm},	    {"mv", cmd_mv},
    {"find", cmd_find},		{"grep", cmd_grep}, {"diff", cmd_diff},
};

int cmd_fail(struct rc_conn *c)
{
	fprintf(stderr, "runnerctl: %s\n", c->err);
	return 1;
}

int cmd_usage(const char *msg)
{
	fprintf(stderr, "runnerctl: %s\n", msg);
	return 2;
}

int cmd_ping(struct rc_conn *c, int argc, char **argv)
{
	struct rc_frame f;
	struct wire_buf b;
	uint64_t t0, count = 1, i;
	int r;

	if (argc == 3 && !strcmp(argv[1], "-n"))
		count = strtoull(argv[2], NULL, 10);
	else if (argc != 1)
		return cmd_usage("usage: ping [-n COUNT]");
	wb_init(&b, NULL, 0);
	for (i = 0; i < count; i++) {
		struct timespec a, z;
		clock_gettime(CLOCK_MONOTONIC, &a);
		r = rc_call(c, WT_PING, &b, &f);
		clock_gettime(CLOCK_MONOTONIC, &z);
		if (r)
			return cmd_fail(c);
		t0 = (uint64_t)(z.tv_sec - a.tv_sec) * 1000000000u +
		     (uint64_t)(z.tv_nsec - a.tv_nsec);
		printf("pong from %s: %.1f us\n", c->software,
		       (double)t0 / 1e3);
	}
	return 0;
}

/* Print each field of a RESULT as "name: value"; numbers as decimals. */
static void print_fields(const struct rc_frame *f)
{
	static const struct {
		uint16_t tag;
		const char *name;
		bool str;
	} names[] = {
	    {T_SOFTWARE, "software", true},
	    {T_VERSION, "protocol", false},
	    {T_PID, "pid", false},
	    {T_UID, "uid", false},
	    {T_GID, "gid", false},
	    {T_IS_PID1, "pid1", false},
	    {T_UPTIME_MS, "uptime_ms", false},
	    {T_HARDENING, "hardening", true},
	    {T_LIMIT, "limit", true},
	    {T_PATH, "root", true},
	    {T_RSS, "rss_bytes", false},
	    {T_CONNS, "connections", false},
	    {T_STREAMS, "streams", false},
	    {T_FDS, "fds", false},
	    {T_CHILDREN, "children", false},
	    {T_SESSIONS, "sessions", false},
	    {T_PROCS, "processes", false},
	    {T_GRACE_MS, "grace_ms", false},
	    {T_FEATURE, "feature", true},
	};
	struct wire_iter it;
	struct wire_field fl;
	uint64_t v;
	unsigned i;

	wire_iter_init(&it, f->p, f->h.len);
	while (wire_next(&it, &fl) > 0) {
		for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
			if (names[i].tag == fl.tag)
				break;
		if (i == sizeof(names) / sizeof(names[0]))
			continue;
		if (names[i].str)
			printf("%s: %.*s\n", names[i].name, (int)fl.len,
			       (const char *)fl.val);
		else if (wire_uint(&fl, &v) == 0)
			printf("%s: %" PRIu64 "\n", names[i].name, v);
	}
}

static int simple_call(struct rc_conn *c, uint8_t type, struct wire_buf *b)
{
	struct rc_frame f;

	if (rc_call(c, type, b, &f))
		return cmd_fail(c);
	print_fields(&f);
	return 0;
}

int cmd_info(struct rc_conn *c, int argc, char **argv)
{
	struct wire_buf b;

	(void)argv;
	if (argc != 1)
		return cmd_usage("usage: info");
	wb_init(&b, NULL, 0);
	return simple_call(c, WT_INFO, &b);
}

int cmd_stats(struct rc_conn *c, int argc, char **argv)
{
	struct wire_buf b;

	(void)argv;
	if (argc != 1)
		return cmd_usage("usage: stats");
	wb_init(&b, NULL, 0);
	return simple_call(c, WT_STATS, &b);
}

int cmd_shutdown(struct rc_conn *c, int argc, char **argv)
{
	uint8_t buf[16];
	struct wire_buf b;

	wb_init(&b, buf, sizeof(buf));
	if (argc == 3 && !strcmp(argv[1], "--grace"))
		wb_u32(&b, T_GRACE_MS, (uint32_t)strtoul(argv[2], NULL, 10));
	else if (argc != 1)
		return cmd_usage("usage: shutdown [--grace MS]");
	return simple_call(c, WT_SHUTDOWN, &b);
}

int main(int argc, char **argv)
{
	const char *target = getenv("RUNNER_CONNECT"), *token = NULL;
	static char tokbuf[512];
	struct rc_conn c;
	unsigned i;
	int r, argi = 1;

	if (!target || !*target)
		target = RC_DEFAULT_TARGET;
	for (; argi < argc && argv[argi][0] == '-'; argi++) {
		const char *a = argv[argi];
		if (!strcmp(a, "--connect") && argi + 1 < argc)
			target = argv[++argi];
		else if (!strncmp(a, "--connect=", 10))
			target = a + 10;
		else if (!strcmp(a, "--token-file") && argi + 1 < argc) {
			FILE *fp = fopen(argv[++argi], "r");
			if (!fp || !fgets(tokbuf, sizeof(tokbuf), fp)) {
				fprintf(stderr,
					"runnerctl: cannot read token file\n");
				return 2;
			}
			fclose(fp);
			tokbuf[strcspn(tokbuf, "\r\n")] = 0;
			token = tokbuf;
		} else if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			fputs(usage, stdout);
			return 0;
		} else {
			fprintf(stderr, "runnerctl: unknown option %s\n%s", a,
				usage);
			return 2;
		}
	}
	if (argi >= argc) {
		fputs(usage, stderr);
		return 2;
	}
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(commands[i].name, argv[argi]))
			break;
	if (i == sizeof(commands) / sizeof(commands[0])) {
		fprintf(stderr, "runnerctl: unknown command '%s'\n%s",
			argv[argi], usage);
		return 2;
	}
	if (rc_connect(&c, target, token) < 0) {
		fprintf(stderr, "runnerctl: %s\n", c.err);
		rc_close(&c);
		return 1;
	}
	r = commands[i].fn(&c, argc - argi, argv + argi);
	rc_close(&c);
	return r;
}
