/* shell_internal.h - state shared by the shell_*.c files.
 *
 * A session is one shell process on its own PTY.  The shell reads a
 * script from a private pipe (fd 3 at startup, fd 255 once bash has it);
 * for each EXEC the runner puts the command text in a memfd the shell
 * holds as fd 62 and writes two fixed lines to the pipe: "source fd 62"
 * and "print the end marker with $? to /dev/tty".  The marker carries a
 * fresh random token, so the command's own output cannot forge it, and it
 * travels on the PTY itself, so it arrives after every byte the command
 * wrote there.  Nothing the client sends is ever typed into the terminal
 * except its stdin.
 */
#ifndef RUNNER_SHELL_INTERNAL_H
#define RUNNER_SHELL_INTERNAL_H

#include "runner.h"
#include "dispatch.h"
#include "shell_output.h"

#define SESSION_NAME_MAX  64
#define SESSION_CMD_FD	  62 /* the memfd, as the shell sees it */
#define SESSION_SCRIPT_FD 3  /* the script pipe before bash moves it */
#define SESSION_SNAP_FD	  63 /* memfd: the state a replacement shell restores */
/* The session's state as bash code (a snapshot): run by bash's EXIT trap
 * and, while the session idles, on the runner's request.  Options that
 * scope to one EXEC (set -e failing is what ran the trap) are not state. */
#define SNAP_CMD                                                               \
	"{ \\builtin set +euxo pipefail; \\builtin declare -p; \\builtin "     \
	"declare -f; \\builtin alias -p; "                                     \
	"\\builtin shopt -p; \\builtin set +o; "                               \
	"\\builtin printf \"builtin cd -- %q\\n\" \"$PWD\"; } "                \
	">/proc/self/fd/63 2>/dev/null"
#define QUICK_DEATHS_MAX 3
#define SNAP_IDLE_MS	 300 /* idle this long after a command: snapshot */
#define PTY_READ_CHUNK	 65536
/* Stream-mode output gathers in pend between flushes, so DATA frames are
 * large even though a PTY read returns a few KiB.  A read is admitted only
 * while pend has room for what one read can produce (PEND_SLACK more). */
#define PEND_SLACK	    (PLAIN_LINE_MAX + 2 * MARKER_PREFIX_MAX)
#define PEND_CAP	    (4 * PTY_READ_CHUNK + PEND_SLACK)
#define PTY_READ_MIN	    4096
#define STDIN_REQ_MAX	    65536 /* SHELL_STDIN bytes one request may carry */
#define STDIN_BACKLOG_MAX   (4 * STDIN_REQ_MAX) /* queued for the PTY */
#define EXEC_OUTPUT_DEFAULT (1u << 20)
#define WRAP_MAX	    3072 /* CWD and ENV of one EXEC, quoted */
#define TRIGGER_MAX	    4096 /* PIPE_BUF: the trigger is written whole */
#define EXEC_INT_GRACE_MS   1000 /* SIGINT -> SIGKILL of the foreground */
#define EXEC_KILL_GRACE_MS  1000 /* SIGKILL foreground -> kill the shell */

enum shell_flavor { FLAVOR_BASH, FLAVOR_SH };

/* What SHELL_OPEN asked for: kept so a respawn recreates the same shell. */
struct session_spec {
	char *shell; /* command line: "/bin/bash" or "/bin/busybox sh" */
	char **env;  /* NULL-terminated "K=V" overrides */
	char *cwd;   /* NULL: $HOME */
	bool login;
	bool keep_options; /* set -e/-u/-x/pipefail outlive their EXEC */
	uint16_t rows, cols;
};

enum exec_phase {
	EX_IDLE,
	EX_QUEUED,    /* accepted while the shell still starts */
	EX_RUNNING,   /* trigger written, waiting for the marker */
	EX_FINISHING, /* marker seen or shell gone: draining to the client */
	EX_DONE,      /* ended with no client: the RESULT waits for EXEC_WAIT */
};

struct exec {
	struct stream *s; /* NULL once the client went away */
	enum exec_phase phase;
	uint8_t mode, format;
	bool timed_out, cancelled, respawned, restored;
	bool with_stdin; /* STDIN=1; else `.` reads /dev/null */
	bool detach;	 /* DETACH=1: outlives its client */
	bool keep; /* no client now; output and RESULT kept for EXEC_WAIT */
	bool waiting, waiting_told; /* reads the terminal; EVENT sent */
	uint32_t yield_ms;	    /* 0: none */
	uint64_t yield_at;	    /* ns */
	uint64_t raw, raw_seen;	    /* terminal bytes read; at the last tick */
	size_t limit;		    /* OUTPUT_LIMIT as applied */
	char *wrap; /* CWD/ENV: text before `.`, NUL, text after the marker */
	struct timer tick; /* yield and wait-input probe */
	int escalation;	   /* steps of the timeout ladder taken */
	uint32_t grace_ms; /* the ladder's SIGINT -> SIGKILL step */
	int pending_sig;   /* waits for the shell to start the command */
	struct timer sig_timer;
	int32_t status;
	uint64_t start_ns, end_ns;
	uint64_t total;	  /* output bytes, after the format filter */
	uint64_t out_off; /* stream mode: offset of the next DATA byte */
	char token[MARKER_TOKEN_LEN + 1];
	struct errname errname;
	struct plain_filter plain;
	struct collector col;
	struct timer timer;
	size_t pend_head, pend_len; /* stream mode: output awaiting credit */
	uint8_t pend[PEND_CAP];
};

struct session {
	struct runner *rt;
	struct shell_state *sh;
	char name[SESSION_NAME_MAX + 1];
	struct session_spec spec;
	enum shell_flavor flavor;
	pid_t pid;	  /* 0 while no shell runs */
	int ptm, pts;	  /* we keep pts open: the master never hangs up */
	int script_fd;	  /* write end of the shell's script pipe */
	int cmd_fd;	  /* memfd holding the current command text */
	uint64_t cmd_ino; /* its inode: the shell must still hold it */
	/* The last trigger written to script_fd: its length and where its
	 * first line (the one that runs the command) ends. */
	int trigger_len, trigger_line1;
	struct watch pty_w, script_w;
	struct child child;
	int snap_fd;	 /* memfd: SNAP_CMD's output */
	bool restore;	 /* the shell starting now sources snap_fd */
	bool snap_stale; /* a command ran since the last snapshot */
	bool snapping;	 /* the marker awaited ends a snapshot */
	/* Told in the next EXEC's RESULT: the shell was replaced while idle,
	 * and whether the state came back. */
	bool idle_respawned, idle_restored;
	struct timer snap_timer;
	bool ready;	       /* bootstrap marker seen */
	bool reading;	       /* PTY EPOLLIN wanted (off under backpressure) */
	unsigned quick_deaths; /* consecutive deaths before the boot marker */
	struct marker_scan scan; /* armed while a marker is expected */
	bool scanning;
	uint64_t rng;
	/* stdin for the running command, written as the PTY takes it */
	uint8_t *in_q;
	size_t in_head, in_len, in_cap;
	uint64_t in_owed;  /* stream DATA bytes queued, not yet granted */
	bool in_line_open; /* last byte sent was not a newline */
	struct exec ex;
	struct deferred free_d;
};

struct shell_state {
	struct session **v;
	unsigned n;
	uint8_t rbuf[PTY_READ_CHUNK]; /* PTY reads, consumed synchronously */
};

/* shell_pty.c */
int session_spawn(struct session *ss);
void session_teardown(struct session *ss);
void session_random_token(struct session *ss, char out[MARKER_TOKEN_LEN + 1]);
int session_write_trigger(struct session *ss, const char *token);
int session_write_snapshot(struct session *ss, const char *token);
void session_snap_later(struct session *ss);
int session_fg_pgrp(const struct session *ss);
bool session_holds_cmd(const struct session *ss);
void session_set_reading(struct session *ss, bool on);
void session_child_exited(struct child *c, int wstatus);

/* shell_exec.c */
void exec_enter(struct session *ss, enum exec_phase to);
void exec_pump(struct session *ss, int rounds);
void exec_shell_died(struct session *ss, int32_t status, bool respawned);
void exec_begin(struct session *ss);
void exec_abort(struct session *ss, int code, const char *why);
int exec_signal(struct session *ss, int sig);
int exec_cancel_any(struct session *ss, uint32_t grace_ms);

void exec_reset(struct session *ss);
void exec_try_finish(struct session *ss);
/* T_CWD: the shell's directory now (omitted when no shell runs). */
void session_put_cwd(const struct session *ss, struct wire_buf *b);
int exec_send_result(struct session *ss, bool running);
void exec_event(struct session *ss, uint16_t ev);
void exec_plain_flush(struct session *ss);
extern const struct stream_ops exec_ops;

/* shell_stdin.c */
void stdin_flush(struct session *ss);
int stdin_queue(struct session *ss, const uint8_t *p, size_t n, bool eof);

/* shell_wrap.c */
int put_command(int fd, const uint8_t *p, size_t n);
int wrap_build(struct stream *s, struct session *ss, const uint8_t *p, size_t n,
	       const struct wire_field *cwd);

/* shell_wait.c */
#define TICK_FIRST_MS 150 /* first wait-input probe after the start */
#define TICK_MS	      100 /* later probes; a probe needs this much quiet */
void exec_tick_start(struct session *ss);
bool session_waits_input(const struct session *ss);

/* shell.c */
struct session *session_find(struct runner *rt, const char *name, size_t n);
struct session *req_session(struct stream *s, const uint8_t *p, size_t n);
void session_free(struct session *ss);

#endif
