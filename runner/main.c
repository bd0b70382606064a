/* main.c - flags and the startup order.
 *
 * Order matters and is the security argument of the whole program:
 *   1. parse flags (nothing touched yet);
 *   2. VM-init mounts when we are the kernel's init (pid1.c);
 *   3. loop and signalfd, so no signal is lost from here on;
 *   4. bind every listener while we may still be root;
 *   5. drop privileges (harden.c) — user, capabilities, no_new_privs,
 *      seccomp last;
 *   6. start the shell session and the main command as the dropped user;
 *   7. serve until shutdown.
 */
#include "runner.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define DEFAULT_SOCKET	"/run/runner.sock"
#define FALLBACK_SOCKET "/tmp/runner.sock"

static const char usage[] =
    "usage: runner [OPTIONS] [-- CMD [ARGS...]]\n"
    "       runner attach [--socket PATH] [--trust-socket]\n"
    "       runner serve  (same as --listen stdio)\n"
    "\n"
    "PID 1 for sandboxes: a persistent shell, processes and files over one\n"
    "connection (protocol/PROTOCOL.md).\n"
    "\n"
    "  --listen unix:PATH|vsock:PORT|stdio  where to serve (repeatable;\n"
    "                          default unix:" DEFAULT_SOCKET
    ", else " FALLBACK_SOCKET ")\n"
    "  --user NAME|UID:GID     run as this user (default: 'sandbox' if it exists)\n"
    "  --root DIR              confine file operations to DIR\n"
    "  --shell PATH            shell for sessions (default: bash, else sh)\n"
    "  --cwd DIR               sessions start in DIR (default: the runner's\n"
    "                          directory, e.g. the image's WORKDIR; $HOME if /)\n"
    "  --token-file FILE       require this token in HELLO (or $RUNNER_TOKEN);\n"
    "                          a vsock listener requires one\n"
    "  --vsock-no-auth         serve vsock without a token (any host peer)\n"
    "  --allow-uid UID         accept unix peers with this uid only (repeatable)\n"
    "  --socket-group GID      make the unix socket 0660 with this group\n"
    "  --grace MS              SIGTERM-to-SIGKILL grace (default 5000)\n"
    "  --seccomp default|strict|off   seccomp policy (default: default)\n"
    "  --allow-ptrace          let sandboxed programs use ptrace\n"
    "  --allow-vsock           let sandboxed programs open AF_VSOCK sockets\n"
    "  --keep-caps LIST        keep these capabilities (cap_from_text syntax)\n"
    "  --init-mounts           mount proc, sys, dev... even if /proc exists\n"
    "  --hostname NAME         hostname to set in VM-init mode\n"
    "  --modules KO,KO,...     load these kernel modules first, in order\n"
    "  --no-default-session    do not start the 'main' shell session\n"
    "  --max-conns N  --max-conns-per-uid N  --max-streams N\n"
    "  --max-sessions N  --max-procs N\n"
    "  --max-frame BYTES  --window BYTES  --max-command BYTES  --ring-size BYTES\n"
    "  --io-timeout MS         deadline for HELLO and for a stalled frame (10000)\n"
    "  --log-level error|warn|info|debug\n"
    "  --help, --version\n";

enum {
	OPT_LISTEN = 256,
	OPT_USER,
	OPT_ROOT,
	OPT_SHELL,
	OPT_CWD,
	OPT_TOKEN_FILE,
	OPT_ALLOW_UID,
	OPT_SOCKET_GROUP,
	OPT_GRACE,
	OPT_SECCOMP,
	OPT_ALLOW_PTRACE,
	OPT_KEEP_CAPS,
	OPT_INIT_MOUNTS,
	OPT_HOSTNAME,
	OPT_NO_DEFAULT_SESSION,
	OPT_MAX_CONNS,
	OPT_MAX_STREAMS,
	OPT_MAX_SESSIONS,
	OPT_MAX_PROCS,
	OPT_MAX_FRAME,
	OPT_WINDOW,
	OPT_MAX_COMMAND,
	OPT_RING_SIZE,
	OPT_LOG_LEVEL,
	OPT_HELP,
	OPT_VERSION,
	OPT_IO_TIMEOUT,
	OPT_VSOCK_NO_AUTH,
	OPT_MODULES,
	OPT_ALLOW_VSOCK,
	OPT_MAX_CONNS_PER_UID,
};

static const struct option options[] = {
    {"listen", required_argument, NULL, OPT_LISTEN},
    {"user", required_argument, NULL, OPT_USER},
    {"root", required_argument, NULL, OPT_ROOT},
    {"shell", required_argument, NULL, OPT_SHELL},
    {"cwd", required_argument, NULL, OPT_CWD},
    {"token-file", required_argument, NULL, OPT_TOKEN_FILE},
    {"allow-uid", required_argument, NULL, OPT_ALLOW_UID},
    {"socket-group", required_argument, NULL, OPT_SOCKET_GROUP},
    {"grace", required_argument, NULL, OPT_GRACE},
    {"seccomp", required_argument, NULL, OPT_SECCOMP},
    {"allow-ptrace", no_argument, NULL, OPT_ALLOW_PTRACE},
    {"allow-vsock", no_argument, NULL, OPT_ALLOW_VSOCK},
    {"keep-caps", required_argument, NULL, OPT_KEEP_CAPS},
    {"init-mounts", no_argument, NULL, OPT_INIT_MOUNTS},
    {"hostname", required_argument, NULL, OPT_HOSTNAME},
    {"modules", required_argument, NULL, OPT_MODULES},
    {"no-default-session", no_argument, NULL, OPT_NO_DEFAULT_SESSION},
    {"max-conns", required_argument, NULL, OPT_MAX_CONNS},
    {"max-conns-per-uid", required_argument, NULL, OPT_MAX_CONNS_PER_UID},
    {"max-streams", required_argument, NULL, OPT_MAX_STREAMS},
    {"max-sessions", required_argument, NULL, OPT_MAX_SESSIONS},
    {"max-procs", required_argument, NULL, OPT_MAX_PROCS},
    {"max-frame", required_argument, NULL, OPT_MAX_FRAME},
    {"window", required_argument, NULL, OPT_WINDOW},
    {"max-command", required_argument, NULL, OPT_MAX_COMMAND},
    {"ring-size", required_argument, NULL, OPT_RING_SIZE},
    {"log-level", required_argument, NULL, OPT_LOG_LEVEL},
    {"io-timeout", required_argument, NULL, OPT_IO_TIMEOUT},
    {"vsock-no-auth", no_argument, NULL, OPT_VSOCK_NO_AUTH},
    {"help", no_argument, NULL, OPT_HELP},
    {"version", no_argument, NULL, OPT_VERSION},
    {0},
};

static void config_defaults(struct config *cfg)
{
	*cfg = (struct config){
	    .max_frame = WIRE_MAX_FRAME_DEFAULT,
	    .window = WIRE_WINDOW_DEFAULT,
	    .max_streams = 256,
	    .max_conns = 256,
	    .max_sessions = 16,
	    .max_procs = 1024,
	    .max_command = 1u << 20,
	    .ring_size = 1u << 20,
	    .grace_ms = 5000,
	    .io_timeout_ms = 10000,
	    .seccomp = SECCOMP_DEFAULT,
	};
}

/* Integer flag in [min, max]; 0 or -EINVAL. */
static int parse_num(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s || *end || *s == '-' || v < min || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

static const char *token_why(int r)
{
	if (r == -EINVAL)
		return "a token has at least 16 bytes";
	if (r == -E2BIG)
		return "a token has at most 256 bytes";
	return strerror(-r);
}

static int flag_error(const char *flag, const char *arg, const char *why)
{
	fprintf(stderr, "runner: %s %s: %s\n", flag, arg ? arg : "", why);
	return -EINVAL;
}

static int parse_numeric_flag(struct config *cfg, int opt, const char *arg)
{
	uint64_t v;
	int r = -EINVAL;

	switch (opt) {
	case OPT_GRACE:
		if ((r = parse_num(arg, 0, 3600000, &v)) == 0)
			cfg->grace_ms = (uint32_t)v;
		break;
	case OPT_MAX_CONNS:
		if ((r = parse_num(arg, 1, 65536, &v)) == 0)
			cfg->max_conns = (uint32_t)v;
		break;
	case OPT_MAX_CONNS_PER_UID:
		if ((r = parse_num(arg, 0, 65536, &v)) == 0)
			cfg->max_conns_per_uid = (uint32_t)v;
		break;
	case OPT_MAX_STREAMS:
		if ((r = parse_num(arg, 1, 65536, &v)) == 0)
			cfg->max_streams = (uint32_t)v;
		break;
	case OPT_MAX_SESSIONS:
		if ((r = parse_num(arg, 1, 4096, &v)) == 0)
			cfg->max_sessions = (uint32_t)v;
		break;
	case OPT_MAX_PROCS:
		if ((r = parse_num(arg, 1, 1u << 20, &v)) == 0)
			cfg->max_procs = (uint32_t)v;
		break;
	case OPT_MAX_FRAME:
		if ((r = parse_num(arg, WIRE_MAX_FRAME_MIN, 64u << 20, &v)) ==
		    0)
			cfg->max_frame = (uint32_t)v;
		break;
	case OPT_WINDOW:
		if ((r = parse_num(arg, 1024, WIRE_WINDOW_MAX, &v)) == 0)
			cfg->window = (uint32_t)v;
		break;
	case OPT_MAX_COMMAND:
		if ((r = parse_num(arg, 1, 64u << 20, &v)) == 0)
			cfg->max_command = (uint32_t)v;
		break;
	case OPT_IO_TIMEOUT:
		if ((r = parse_num(arg, 100, 3600000, &v)) == 0)
			cfg->io_timeout_ms = (uint32_t)v;
		break;
	case OPT_RING_SIZE:
		if ((r = parse_num(arg, 4096, 1ull << 32, &v)) == 0)
			cfg->ring_size = v;
		break;
	}
	return r;
}

static int parse_flag(struct config *cfg, int opt, const char *arg)
{
	uint64_t v;
	int r;

	switch (opt) {
	case OPT_LISTEN:
		if (cfg->nlisten >= MAX_LISTEN)
			return flag_error("--listen", arg,
					  "too many listeners");
		if (listen_parse(arg, &cfg->listen[cfg->nlisten]) < 0)
			return flag_error(
			    "--listen", arg,
			    "want unix:PATH, vsock:PORT or stdio");
		cfg->nlisten++;
		return 0;
	case OPT_USER: cfg->user = arg; return 0;
	case OPT_ROOT: cfg->root = arg; return 0;
	case OPT_SHELL: cfg->shell = arg; return 0;
	case OPT_CWD: cfg->cwd = arg; return 0;
	case OPT_KEEP_CAPS: cfg->keep_caps = arg; return 0;
	case OPT_HOSTNAME: cfg->hostname = arg; return 0;
	case OPT_MODULES: cfg->modules = arg; return 0;
	case OPT_ALLOW_PTRACE: cfg->allow_ptrace = true; return 0;
	case OPT_ALLOW_VSOCK: cfg->allow_vsock = true; return 0;
	case OPT_INIT_MOUNTS: cfg->init_mounts = true; return 0;
	case OPT_NO_DEFAULT_SESSION: cfg->no_default_session = true; return 0;
	case OPT_VSOCK_NO_AUTH: cfg->vsock_no_auth = true; return 0;
	case OPT_TOKEN_FILE:
		r = token_load_file(cfg, arg);
		return r < 0 ? flag_error("--token-file", arg, token_why(r))
			     : 0;
	case OPT_ALLOW_UID:
		if (cfg->nallow_uid >= MAX_ALLOW_UID ||
		    parse_num(arg, 0, UINT32_MAX - 1, &v) < 0)
			return flag_error("--allow-uid", arg,
					  "want a uid (max 16)");
		cfg->allow_uid[cfg->nallow_uid++] = (uid_t)v;
		return 0;
	case OPT_SOCKET_GROUP:
		if (parse_num(arg, 0, UINT32_MAX - 1, &v) < 0) {
			struct group *g = getgrnam(arg);
			if (!g)
				return flag_error("--socket-group", arg,
						  "no such group");
			v = g->gr_gid;
		}
		cfg->socket_group = (gid_t)v;
		cfg->has_socket_group = true;
		return 0;
	case OPT_SECCOMP:
		cfg->seccomp_explicit = true;
		if (!strcmp(arg, "default"))
			cfg->seccomp = SECCOMP_DEFAULT;
		else if (!strcmp(arg, "strict"))
			cfg->seccomp = SECCOMP_STRICT;
		else if (!strcmp(arg, "off"))
			cfg->seccomp = SECCOMP_OFF;
		else
			return flag_error("--seccomp", arg,
					  "want default|strict|off");
		return 0;
	case OPT_LOG_LEVEL:
		if ((r = log_parse_level(arg)) < 0)
			return flag_error("--log-level", arg,
					  "want error|warn|info|debug");
		log_set_level(r);
		return 0;
	}
	if (parse_numeric_flag(cfg, opt, arg) < 0)
		return flag_error("option", arg, "number out of range");
	return 0;
}

/* 0 to run, 1 to exit 0 (help, version), -1 to exit 2 (bad usage). */
static int parse_args(struct config *cfg, int argc, char **argv)
{
	int opt, r;

	config_defaults(cfg);
	while ((opt = getopt_long(argc, argv, "+", options, NULL)) != -1) {
		if (opt == OPT_HELP) {
			fputs(usage, stdout);
			return 1;
		}
		if (opt == OPT_VERSION) {
			puts("runner " RUNNER_VERSION " (protocol 1)");
			return 1;
		}
		if (opt == '?' || parse_flag(cfg, opt, optarg) < 0)
			return -1;
	}
	if (optind < argc && !strcmp(argv[optind], "serve")) {
		listen_parse("stdio", &cfg->listen[cfg->nlisten++]);
		optind++;
	}
	if (optind < argc) {
		/* getopt_long stops at "--" and consumes it. */
		if (strcmp(argv[optind - 1], "--") != 0) {
			fprintf(stderr, "runner: unexpected argument '%s'\n%s",
				argv[optind], usage);
			return -1;
		}
		cfg->main_argv = argv + optind;
	}
	/* The token must not leak to children through the environment, nor
	 * to anyone reading /proc/1/environ: it is copied, then the
	 * original bytes are wiped and the variable dropped. */
	if ((r = token_take_env(cfg)) < 0) {
		flag_error("$RUNNER_TOKEN", NULL, token_why(r));
		return -1;
	}
	return 0;
}

/* Anything on the host can reach a guest's vsock port; unlike a unix
 * socket there is no file mode in the way.  So vsock is served only with
 * a token, unless the operator says otherwise. */
static int vsock_needs_token(const struct config *cfg)
{
	unsigned i;

	for (i = 0; i < cfg->nlisten; i++) {
		if (cfg->listen[i].kind != LISTEN_VSOCK || cfg->token_len ||
		    cfg->vsock_no_auth)
			continue;
		log_error(
		    "vsock:%u needs a token: --token-file FILE or $RUNNER_TOKEN (or --vsock-no-auth to accept any peer)",
		    cfg->listen[i].port);
		return -EACCES;
	}
	return 0;
}

static int open_listeners(struct runner *rt)
{
	struct config *cfg = &rt->cfg;
	unsigned i;
	int r;

	if ((r = vsock_needs_token(cfg)) < 0)
		return r;

	if (cfg->nlisten == 0) {
		/* /run is read-only under `docker run --read-only`: fall back
		 * to /tmp, which such containers mount as tmpfs. */
		listen_parse("unix:" DEFAULT_SOCKET, &rt->listeners[0].spec);
		if (listen_open(rt, &rt->listeners[0]) == 0) {
			rt->nlisteners = 1;
			log_info("listening on unix:%s", DEFAULT_SOCKET);
			return 0;
		}
		listen_parse("unix:" FALLBACK_SOCKET, &cfg->listen[0]);
		cfg->nlisten = 1;
	}
	rt->stdio_only =
	    cfg->nlisten == 1 && cfg->listen[0].kind == LISTEN_STDIO;
	for (i = 0; i < cfg->nlisten; i++) {
		rt->listeners[i].spec = cfg->listen[i];
		r = listen_open(rt, &rt->listeners[i]);
		if (r < 0) {
			log_error("cannot listen on %s%s: %s",
				  cfg->listen[i].kind == LISTEN_UNIX ? "unix:"
				  : cfg->listen[i].kind == LISTEN_VSOCK
				      ? "vsock:"
				      : "stdio",
				  cfg->listen[i].kind == LISTEN_UNIX
				      ? cfg->listen[i].path
				      : "",
				  strerror(-r));
			return r;
		}
		rt->nlisteners = i + 1;
		if (cfg->listen[i].kind == LISTEN_UNIX)
			log_info("listening on unix:%s", cfg->listen[i].path);
		else if (cfg->listen[i].kind == LISTEN_VSOCK)
			log_info("listening on vsock:%u", cfg->listen[i].port);
	}
	return 0;
}

static int runner_start(struct runner *rt)
{
	int r;

	rt->start_ns = now_ns();
	/* Before anything is read into memory worth protecting (the token
	 * is, already: nothing else has run), and before any fork. */
	if ((r = harden_not_dumpable()) < 0) {
		log_error("PR_SET_DUMPABLE: %s", strerror(-r));
		return r;
	}
	if ((r = pid1_vm_init(rt)) < 0)
		log_warn("VM init incomplete: %s", strerror(-r));
	if ((r = loop_init(&rt->loop)) < 0 || (r = pid1_init(rt)) < 0) {
		log_error("event loop: %s", strerror(-r));
		return r;
	}
	if ((r = open_listeners(rt)) < 0)
		return r;
	if ((r = harden_apply(rt)) < 0)
		return r;
	if ((r = fs_init(rt)) < 0 || (r = proc_init(rt)) < 0 ||
	    (r = shell_init(rt)) < 0) {
		log_error("startup: %s", strerror(-r));
		return r;
	}
	if (rt->cfg.main_argv && (r = pid1_start_main(rt)) < 0) {
		log_error("cannot start %s: %s", rt->cfg.main_argv[0],
			  strerror(-r));
		return r;
	}
	return 0;
}

static int runner_serve(struct runner *rt)
{
	int r;

	while (!rt->loop.stop) {
		conn_flush_all(rt);
		r = loop_run_once(&rt->loop, -1);
		if (r < 0) {
			log_error("epoll: %s", strerror(-r));
			runner_shutdown(rt, 1);
			break;
		}
	}
	conn_close_all(rt);
	shell_fini(rt);
	proc_fini(rt);
	fs_fini(rt);
	/* Frees what the closes above deferred; the fds go with it. */
	loop_fini(&rt->loop);
	return rt->exit_status;
}

int main(int argc, char **argv)
{
	static struct runner rt; /* the one loop context */
	int r;

	if (argc > 1 && !strcmp(argv[1], "attach"))
		return attach_main(argc - 1, argv + 1);
	r = parse_args(&rt.cfg, argc, argv);
	if (r)
		return r > 0 ? 0 : 2;
	if (user_preflight(rt.cfg.user) < 0)
		return 2;
	if (runner_start(&rt) < 0) {
		rt.exit_status = 1;
		pid1_finish(&rt);
		return 1;
	}
	log_info("runner " RUNNER_VERSION " ready (pid %d)", (int)getpid());
	runner_serve(&rt);
	pid1_finish(&rt);
	return rt.exit_status;
}
