/* runner.h - the one loop context and the interfaces between concerns.
 *
 * Ownership rules, stated once:
 *  - struct runner is the only mutable state with program lifetime; every
 *    callback reaches it through the object it was handed.
 *  - A stream belongs to its connection (the rule in full: stream.h).
 *  - A child belongs to the module that registered it with child_watch();
 *    every other pid that exits is an orphan and is only reaped.
 *
 * The layers, each header including only those below it:
 *   log.h     logging
 *   loop.h    epoll watches, timers, deferred frees
 *   stream.h  streams, request fields, connection entry points
 *   runner.h  configuration, the loop context, module entry points;
 *             it includes the three below
 * Beside them dispatch.h: the request handlers and the table from type
 * to handler, included by conn.c, dispatch.c and the modules only.
 */
#ifndef RUNNER_RUNNER_H
#define RUNNER_RUNNER_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "log.h"
#include "loop.h"
#include "stream.h"

#define RUNNER_VERSION "0.1.0"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

struct runner;
struct conn;

/* ---- listen.c ---- */

enum listen_kind { LISTEN_UNIX, LISTEN_VSOCK, LISTEN_STDIO };

struct listen_spec {
	enum listen_kind kind;
	const char *path; /* unix */
	uint32_t port;	  /* vsock */
};

struct listener {
	struct runner *rt;
	struct listen_spec spec;
	struct watch w;
	struct timer pause; /* accept paused after EMFILE */
	int fd;
};

int listen_parse(const char *arg, struct listen_spec *out);
int listen_open(struct runner *rt, struct listener *ls);
void listen_close(struct runner *rt, struct listener *ls);

/* ---- pid1.c: children, reaping, signals, shutdown ---- */

struct child {
	pid_t pid;
	void (*exited)(struct child *c, int wstatus);
	struct child *next;
};

#define CHILD_BUCKETS 256

void child_watch(struct runner *rt, struct child *c, pid_t pid,
		 void (*exited)(struct child *, int));
void child_unwatch(struct runner *rt, struct child *c);
int pid1_init(struct runner *rt);
/* Before anything else: mount the world when we are a VM's init. */
int pid1_vm_init(struct runner *rt);
/* Start the main command (`runner -- CMD`), after hardening. */
int pid1_start_main(struct runner *rt);
/* Last words: power off in a VM, else return to exit. */
void pid1_finish(struct runner *rt);
/* Ask the runner to stop: SIGTERM everything, SIGKILL after the grace,
 * then exit with status. */
void runner_shutdown(struct runner *rt, int status);

/* ---- pty.c ---- */

/* A new PTY pair sized rows x cols, both ends close-on-exec and neither
 * our controlling terminal, the master non-blocking for the loop.  0, or
 * -errno with nothing left open. */
int pty_open(uint16_t rows, uint16_t cols, int *master, int *slave);

/* Sessions' modes on the terminal fd: no echo, byte-exact output, ^C and
 * ^D kept.  0 or -errno. */
int pty_exact_modes(int fd);

/* ---- harden.c ---- */

#define HARDEN_STEPS 8

struct harden_report {
	char steps[HARDEN_STEPS][96]; /* "caps_bounding=applied" ... */
	unsigned nsteps;
};

/* Drop to the configured user and privileges.  -errno (said on the log)
 * when a step asked for explicitly cannot be applied: the runner must
 * not serve.  A default that cannot be applied is recorded as skipped. */
int harden_apply(struct runner *rt);
/* PR_SET_DUMPABLE 0: -errno on failure. */
int harden_not_dumpable(void);
/* In a forked helper that runs on without exec: no capabilities, not
 * dumpable. */
void harden_helper(void);
/* Before anything starts: a root start needs --user or a 'sandbox' user
 * (uid 0 only by name).  -EPERM, with the line said on stderr. */
int user_preflight(const char *spec);

/* ---- attach.c ---- */

int attach_main(int argc, char **argv);

/* ---- shell.c ---- */

int shell_init(struct runner *rt);
unsigned shell_count(const struct runner *rt);
void shell_fini(struct runner *rt);

/* ---- proc.c ---- */

int proc_init(struct runner *rt);
/* Processes still running, and finished ones still remembered. */
unsigned proc_count(const struct runner *rt, unsigned *kept);
void proc_fini(struct runner *rt);

/* ---- fs.c ---- */

int fs_init(struct runner *rt);
void fs_fini(struct runner *rt);

/* ---- configuration (main.c parses it) ---- */

#define MAX_LISTEN    8
#define MAX_ALLOW_UID 16

enum seccomp_mode { SECCOMP_DEFAULT, SECCOMP_STRICT, SECCOMP_OFF };

#define TOKEN_MIN 16
#define TOKEN_MAX 256

struct config {
	struct listen_spec listen[MAX_LISTEN];
	unsigned nlisten;
	const char *user;  /* NULL: "sandbox" when /etc/passwd has it */
	const char *root;  /* file operations confined here, or NULL */
	const char *shell; /* default shell path, NULL: bash, then sh */
	const char *cwd;   /* --cwd: where sessions start; NULL: see shell */

	const char *keep_caps; /* cap_from_text list, or NULL */
	const char *hostname;
	const char *modules; /* --modules: .ko paths, comma-separated */
	uid_t allow_uid[MAX_ALLOW_UID];
	unsigned nallow_uid;
	gid_t socket_group;
	bool has_socket_group;
	uint32_t max_frame;   /* payload bytes */
	uint32_t window;      /* per-stream credit we grant */
	uint32_t max_streams; /* per connection */
	uint32_t max_conns;
	uint32_t max_conns_per_uid; /* 0: only max_conns */
	uint32_t max_sessions;
	uint32_t max_procs;
	uint32_t max_command; /* bytes */
	uint64_t ring_size;   /* per background process channel */
	uint32_t grace_ms;
	uint32_t io_timeout_ms; /* HELLO deadline; max stall inside a frame */
	enum seccomp_mode seccomp;
	bool allow_ptrace;
	bool allow_vsock; /* socket(AF_VSOCK) for sandboxed code */
	bool init_mounts; /* force VM-init mounts even if /proc exists */
	bool no_default_session;
	bool vsock_no_auth;    /* accept vsock peers without a token */
	char **main_argv;      /* after "--": the main command, or NULL */
	bool seccomp_explicit; /* --seccomp given: failing to load is fatal */
	uint32_t token_len;    /* 0: no token; else TOKEN_MIN..TOKEN_MAX */
	uint8_t token[TOKEN_MAX]; /* zero past token_len */
};

/* harden_token.c: the HELLO token (bytes).  0 or -EINVAL (shorter than
 * TOKEN_MIN), -E2BIG (longer than TOKEN_MAX), -errno reading the file. */
int token_load_file(struct config *cfg, const char *path);
/* $RUNNER_TOKEN, unless --token-file set one; wiped and unset. */
int token_take_env(struct config *cfg);
bool token_matches(const struct config *cfg, const uint8_t *p, size_t n);

/* ---- the loop context ---- */

struct shell_state;
struct proc_state;
struct fs_state;

struct runner {
	struct config cfg;
	struct loop loop;
	struct listener listeners[MAX_LISTEN];
	unsigned nlisteners;
	struct conn *conns;
	unsigned nconns;
	unsigned nstreams;
	struct child *children[CHILD_BUCKETS];
	unsigned nchildren;
	struct watch sig_watch;
	int sigfd;
	struct timer grace_timer;
	struct harden_report harden;
	struct shell_state *shell;
	struct proc_state *proc;
	struct fs_state *fs;
	uint64_t start_ns;
	pid_t main_pid; /* main command, 0 if none */
	bool is_pid1;
	bool vm_init; /* we mounted the world: power off at the end */
	bool shutting_down;
	bool stdio_only; /* stop when the stdio connection ends */
	int exit_status;
};

#endif
