/* proc_internal.h - spawned processes: state shared by runner/proc_*.c.
 *
 * Life of a process (struct proc):
 *   spawned -> running -> exited (reaped) -> finished (output drained,
 *   result sent) -> freed, or kept for LIST/WAIT/ATTACH if background.
 * "exited" comes from the SIGCHLD reaper; "finished" follows once every
 * output fd reached EOF, or PROC_DRAIN_MS after the exit, whichever is
 * first: a grandchild holding the pipe cannot hold the result back.
 *
 * Foreground output goes straight from the pipe into the SPAWN stream's
 * DATA buffer, and the pipe is not read while the stream has no credit
 * (backpressure to the process).  Background output goes into a ring per
 * channel that never blocks the process; every reader (struct proc_att)
 * copies from it at its own offsets and loses what it falls behind on.
 */
#ifndef RUNNER_PROC_INTERNAL_H
#define RUNNER_PROC_INTERNAL_H

#include "runner.h"
#include "dispatch.h"
#include "proc_ring.h"

#define PROC_DRAIN_MS	   150	/* output drained after exit, at most */
#define PROC_KEEP_EXITED   64	/* exited background processes remembered */
#define PROC_ARGV_MAX	   4096 /* entries */
#define PROC_ENV_MAX	   4096 /* T_ENV entries */
#define PROC_LIST_ARGV_MAX 1024 /* argv bytes shown per LIST entry */
#define PROC_PIPE_BIG	   (1u << 20)

struct proc;

struct proc_out {
	struct proc *p;
	struct watch w;
	int fd;		 /* -1 once closed */
	uint8_t channel; /* WCH_STDOUT or WCH_STDERR */
	bool watched;	 /* in epoll; off while a foreground stream waits */
	bool pipe_grown;
	uint64_t offset;    /* bytes of this channel delivered so far */
	int64_t drain_left; /* after the drain deadline: bytes still owed */
	struct ring ring;   /* background processes only */
};

/* Bytes for stdin that the pipe did not take yet.  Holds at most one
 * request's or one window's worth: the client's credit bounds it. */
struct proc_chunk {
	struct proc_chunk *next;
	struct stream *s; /* to grant (data) or answer (PROC_STDIN), or NULL */
	bool answer;	  /* PROC_STDIN: RESULT when written */
	size_t len, done;
	uint8_t bytes[];
};

enum proc_att_kind { ATT_FOLLOW, ATT_SNAPSHOT, ATT_WAIT };

/* A stream reading a process: ATTACH, WAIT, or a background SPAWN. */
struct proc_att {
	struct proc_att *next;
	struct proc *p;
	struct stream *s;
	enum proc_att_kind kind;
	uint64_t off[2];
	uint64_t until[2];    /* ATT_SNAPSHOT: what was buffered at attach */
	uint64_t dropped;     /* reported so far */
	struct timer timeout; /* ATT_WAIT with TIMEOUT_MS */
};

struct proc {
	struct proc_state *ps;
	struct proc *prev, *next;
	struct child child;
	pid_t pid;
	char *argv; /* NUL-separated, for LIST */
	size_t argv_len;
	uint64_t start_ns, start_ms, duration_us;
	uint64_t output_limit, total_out; /* 0: no limit */
	int wstatus;
	bool background, pty;
	bool exited, finished, timed_out, truncated;
	bool unlinked; /* off the list, freed after this batch */
	unsigned nout; /* 2 for pipes, 1 for a PTY */
	struct proc_out out[2];
	int in_fd; /* our end of stdin, -1 when closed */
	struct watch in_w;
	bool in_watched, in_eof;
	struct proc_chunk *in_head;
	struct stream *fg; /* foreground SPAWN stream */
	struct proc_att *atts;
	struct timer timeout, drain;
	struct deferred free_d;
};

struct proc_state {
	struct runner *rt;
	struct proc *procs; /* newest first */
	unsigned nlive;	    /* not yet finished */
	unsigned nkept;	    /* finished background processes */
	int devnull;	    /* stdin of processes without one */
};

/* A SPAWN request, parsed (proc_args.c). */
struct spawn_args {
	char **argv, **env; /* NULL-terminated, strings in one block */
	size_t argc, nenv, argv_bytes, cwd_len;
	char *cwd;
	void *block;
	uint64_t env_mode, output_limit;
	uint64_t timeout_ms, pty_mode;
	uint16_t rows, cols;
	bool pty, stdin_open, background, follow;
};

/* proc_args.c */
/* 0, or -1 after answering the error on s.  a->block holds everything
 * and is the caller's to free (also NULL on error). */
int proc_parse_spawn(struct stream *s, const uint8_t *p, size_t n,
		     struct spawn_args *a);
/* NULL-terminated; the strings are a's and environ's, not copies. */
char **proc_build_env(const struct spawn_args *a);

/* proc.c */
struct proc *proc_find(struct proc_state *ps, pid_t pid);
void proc_exited(struct child *c, int wstatus);
void proc_out_eof(struct proc_out *o);
void proc_kill_group(struct proc *p, int sig);
void proc_maybe_free(struct proc *p);
void proc_release(struct proc *p);
void proc_trim(struct proc_state *ps, unsigned keep);
void proc_result_fields(const struct proc *p, struct wire_buf *b);

/* proc_io.c */
void proc_out_readable(struct watch *w, uint32_t events);
void proc_out_pause(struct proc_out *o);
void proc_out_resume(struct proc_out *o);
void proc_out_close(struct proc_out *o);
void proc_in_writable(struct watch *w, uint32_t events);
/* Queue stdin bytes; s (may be NULL) is granted n as they are written, or
 * answered with RESULT when answer is set. -errno if stdin is closed. */
int proc_in_push(struct proc *p, struct stream *s, const uint8_t *d, size_t n,
		 bool answer);
void proc_in_eof(struct proc *p);
void proc_in_close(struct proc *p, int err);
void proc_in_forget(struct proc *p, struct stream *s);

/* proc_attach.c */
struct proc_att *proc_att_add(struct proc *p, struct stream *s,
			      enum proc_att_kind kind, const uint64_t off[2]);
void proc_att_pump(struct proc_att *a);
void proc_att_pump_all(struct proc *p);
void proc_att_remove(struct proc_att *a);
/* The process pid, or NULL after answering E_NOT_FOUND on s. */
struct proc *proc_lookup(struct stream *s, pid_t pid);

/* proc_start.c */
extern const struct stream_ops proc_fg_ops;

#endif
