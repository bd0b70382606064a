/* runner.h - the one loop context and the interfaces between concerns.
 *
 * Ownership rules, stated once:
 *  - struct runner is the only mutable state with program lifetime; every
 *    callback reaches it through the object it was handed.
 *  - A stream belongs to its connection.  A module that answers a request
 *    asynchronously sets stream->ops/owner and keeps the pointer until it
 *    sends the terminal frame (stream_result/stream_error) or until
 *    ops->detach tells it the connection is gone — after either, the
 *    pointer is dead.
 *  - A child belongs to the module that registered it with child_watch();
 *    every other pid that exits is an orphan and is only reaped.
 */
#ifndef RUNNER_RUNNER_H
#define RUNNER_RUNNER_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "../protocol/wire.h"

#define RUNNER_VERSION "0.1.0"

#ifndef container_of
#define container_of(p, type, member)                                          \
	((type *)(void *)((char *)(p)-offsetof(type, member)))
#endif

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

struct runner;
struct conn;
struct stream;

/* ---- log.c ---- */

enum log_level { LOG_ERROR = 0, LOG_WARN, LOG_INFO, LOG_DEBUG };
void log_set_level(int level);
int log_parse_level(const char *s);
void log_msg(int level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
#define log_error(...) log_msg(LOG_ERROR, __VA_ARGS__)
#define log_warn(...)  log_msg(LOG_WARN, __VA_ARGS__)
#define log_info(...)  log_msg(LOG_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)

/* ---- loop.c: epoll, timers ---- */

struct watch;
typedef void (*watch_fn)(struct watch *w, uint32_t events);

struct watch {
	int fd;
	uint32_t events; /* currently registered */
	watch_fn fn;
};

struct timer;
typedef void (*timer_fn)(struct timer *t);

struct timer {
	uint64_t deadline; /* CLOCK_MONOTONIC ns */
	timer_fn fn;
	struct timer *prev, *next; /* sorted list; armed iff linked */
	bool armed;
};

/* Memory holding a watch may be freed only after the current epoll batch:
 * a later event of the same batch may still point at it. */
struct deferred {
	struct deferred *next;
	void (*fn)(struct deferred *d);
};

struct loop {
	struct deferred *deferred;
	int epfd;
	int timerfd;
	struct watch timer_watch;
	struct timer *timers; /* soonest first */
	uint64_t armed_for;   /* what timerfd is set to, 0 = disarmed */
	bool stop;
};

int loop_init(struct loop *l);
void loop_fini(struct loop *l);
/* Register fd with fn; events as for epoll.  -errno on failure. */
int loop_watch(struct loop *l, struct watch *w, int fd, uint32_t events,
	       watch_fn fn);
/* Change interest; no syscall when unchanged. */
int loop_modify(struct loop *l, struct watch *w, uint32_t events);
/* Stop watching; the caller still owns and closes the fd.  Events of the
 * current batch already queued for w are dropped. */
void loop_unwatch(struct loop *l, struct watch *w);
/* Run fn(d) after the current batch: the place to free an object that
 * embeds a watch. */
void loop_defer(struct loop *l, struct deferred *d,
		void (*fn)(struct deferred *d));
void timer_arm(struct loop *l, struct timer *t, uint64_t ms, timer_fn fn);
void timer_cancel(struct loop *l, struct timer *t);
/* Runs one epoll_wait batch, then expired timers. */
int loop_run_once(struct loop *l, int max_wait_ms);
uint64_t now_ns(void);
uint64_t now_wall_ms(void);

/* ---- conn.c: framing, streams, flow control ---- */

struct stream_ops {
	/* Client DATA on this stream (stdin, upload).  The conn layer has
	 * already charged it against the window the runner granted; the module
	 * returns credit with stream_grant() once it has consumed the bytes. */
	void (*data)(struct stream *s, uint8_t channel, const uint8_t *p,
		     size_t n, bool fin);
	/* Room to send appeared (window update or connection buffer drained)
	 * after the module called stream_want_writable(). */
	void (*writable)(struct stream *s);
	/* CANCEL arrived; the module ends the stream (now or soon). */
	void (*cancel)(struct stream *s);
	/* The connection is gone.  Drop every pointer to s; do not send.  The
	 * stream is freed when this returns. */
	void (*detach)(struct stream *s);
};

struct stream {
	struct conn *conn;
	uint32_t id;
	uint8_t type;
	bool want_writable;
	bool frame_waits; /* an EVENT or RESULT, which need no credit */
	bool cancelled;
	const struct stream_ops *ops;
	void *owner;
	int64_t send_credit;  /* DATA bytes the client still accepts */
	uint64_t recv_credit; /* DATA bytes the client may still send */
	struct stream *next;  /* connection's list */
};

typedef void (*request_fn)(struct stream *s, const uint8_t *payload,
			   size_t len);

/* Bytes of DATA the stream may send now (0: wait for writable). */
size_t stream_data_room(const struct stream *s);
/* Where the next DATA frame's bytes go: write up to room bytes there,
 * then commit.  Zero-copy path for fd readers. */
uint8_t *stream_data_buf(struct stream *s);
void stream_data_commit(struct stream *s, uint8_t channel, uint64_t offset,
			size_t n, uint8_t flags);
/* Copying variant; n must not exceed stream_data_room(). */
void stream_data(struct stream *s, uint8_t channel, uint64_t offset,
		 const void *p, size_t n, uint8_t flags);
/* EVENT and RESULT: -EAGAIN when the connection buffer is full (the
 * stream stays open; retry from ops->writable).  A RESULT of at most
 * RESULT_SMALL bytes always goes (0): like ERROR it is the stream's one
 * final frame, with room kept for it. */
#define RESULT_SMALL 512
int stream_event(struct stream *s, const struct wire_buf *fields);
int stream_result(struct stream *s, const struct wire_buf *fields);
/* Terminal ERROR; always ends the stream. */
void stream_error(struct stream *s, int code, int err, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Errno-shaped shorthand: code from wire_err_from_errno(err). */
void stream_error_errno(struct stream *s, int err, const char *what);
/* Terminal ERROR whose fields the caller built: T_CODE, T_ERRNO,
 * T_MESSAGE and what qualifies them (E_NOT_UNIQUE's T_COUNT).  Small
 * frames only: it is queued like stream_error, past the soft limit. */
void stream_error_fields(struct stream *s, const struct wire_buf *fields);
void stream_want_writable(struct stream *s);
/* Give the client n more bytes of DATA credit on this stream. */
void stream_grant(struct stream *s, uint32_t n);
/* Largest payload the client accepts in one frame. */
size_t stream_max_payload(const struct stream *s);
struct runner *stream_runner(const struct stream *s);

/* ---- req.c: a request's fields (PROTOCOL §4: the first of a repeated
 * single-valued field counts).  Each returns 1 (present), 0 (absent: *v
 * is def, f->val NULL), or -1 after answering ERROR E_BAD_REQUEST on s. ---- */

#define REQ_ANY UINT64_MAX /* req_uint's max for "any integer", bools */
#define req_uint(s, p, n, tag, def, min, max, v)                               \
	((min) == 0 && (max) == REQ_ANY                                        \
	     ? req_uint_any(s, p, n, tag, def, v)                              \
	     : req_uint_in(s, p, n, tag, def, min, max, v))
int req_uint_in(struct stream *s, const uint8_t *p, size_t n, uint16_t tag,
		uint64_t def, uint64_t min, uint64_t max, uint64_t *v);
/* The common case in six arguments: every call passes them in registers
 * (the binary's size budget counts each call). */
int req_uint_any(struct stream *s, const uint8_t *p, size_t n, uint16_t tag,
		 uint64_t def, uint64_t *v);
/* Any bytes, at most max. */
int req_bytes(struct stream *s, const uint8_t *p, size_t n, uint16_t tag,
	      size_t max, struct wire_field *f);
/* 1..max bytes without NUL. */
int req_str(struct stream *s, const uint8_t *p, size_t n, uint16_t tag,
	    size_t max, struct wire_field *f);
/* ROWS and COLS, 1..65535 each; an absent one keeps the value passed in,
 * must then be nonzero (pass 0 to require it). */
int req_winsize(struct stream *s, const uint8_t *p, size_t n, uint16_t *rows,
		uint16_t *cols);

/* Connections: created by listeners (listen.c) from accepted fds. */
int conn_open(struct runner *rt, int rfd, int wfd, const char *peer,
	      bool is_stdio);
/* Best-effort ERROR on stream 0 to a peer we will not serve; closes fd. */
void conn_refuse(int fd, int code, const char *msg);
void conn_flush_all(struct runner *rt);
void conn_close_all(struct runner *rt);
unsigned conn_count(const struct runner *rt);
/* Unix connections whose peer has this uid (SO_PEERCRED). */
unsigned conn_count_uid(const struct runner *rt, uid_t uid);
unsigned stream_count(const struct runner *rt);

/* ---- attach.c ---- */

/* pid's pid in its own PID namespace and its start time (clock ticks
 * after boot), read from /proc as seen from here.  0 or -errno. */
int pid_identity(pid_t pid, pid_t *ns_pid, uint64_t *start);

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

/* ---- sysops.c: PING, INFO, STATS, SHUTDOWN ---- */

void sys_ping(struct stream *s, const uint8_t *p, size_t n);
void sys_info(struct stream *s, const uint8_t *p, size_t n);
void sys_stats(struct stream *s, const uint8_t *p, size_t n);
void sys_shutdown(struct stream *s, const uint8_t *p, size_t n);

/* ---- shell.c ---- */

int shell_init(struct runner *rt);
unsigned shell_count(const struct runner *rt);
void shell_fini(struct runner *rt);
void shell_req_open(struct stream *s, const uint8_t *p, size_t n);
void shell_req_close(struct stream *s, const uint8_t *p, size_t n);
void shell_req_exec(struct stream *s, const uint8_t *p, size_t n);
void shell_req_stdin(struct stream *s, const uint8_t *p, size_t n);
void shell_req_resize(struct stream *s, const uint8_t *p, size_t n);
void shell_req_signal(struct stream *s, const uint8_t *p, size_t n);
void shell_req_list(struct stream *s, const uint8_t *p, size_t n);
void shell_req_exec_wait(struct stream *s, const uint8_t *p, size_t n);

/* ---- proc.c ---- */

int proc_init(struct runner *rt);
/* Processes still running, and finished ones still remembered. */
unsigned proc_count(const struct runner *rt, unsigned *kept);
void proc_fini(struct runner *rt);
void proc_req_spawn(struct stream *s, const uint8_t *p, size_t n);
void proc_req_stdin(struct stream *s, const uint8_t *p, size_t n);
void proc_req_close_stdin(struct stream *s, const uint8_t *p, size_t n);
void proc_req_signal(struct stream *s, const uint8_t *p, size_t n);
void proc_req_wait(struct stream *s, const uint8_t *p, size_t n);
void proc_req_attach(struct stream *s, const uint8_t *p, size_t n);
void proc_req_list(struct stream *s, const uint8_t *p, size_t n);

/* ---- fs.c ---- */

int fs_init(struct runner *rt);
void fs_fini(struct runner *rt);
void fs_req_read(struct stream *s, const uint8_t *p, size_t n);
void fs_req_write(struct stream *s, const uint8_t *p, size_t n);
void fs_req_edit(struct stream *s, const uint8_t *p, size_t n);
void fs_req_ls(struct stream *s, const uint8_t *p, size_t n);
void fs_req_stat(struct stream *s, const uint8_t *p, size_t n);
void fs_req_mkdir(struct stream *s, const uint8_t *p, size_t n);
void fs_req_remove(struct stream *s, const uint8_t *p, size_t n);
void fs_req_move(struct stream *s, const uint8_t *p, size_t n);
void fs_req_find(struct stream *s, const uint8_t *p, size_t n);
void fs_req_grep(struct stream *s, const uint8_t *p, size_t n);
void fs_req_diff(struct stream *s, const uint8_t *p, size_t n);

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
