/* proc_req.c - small process requests: STDIN, CLOSE_STDIN, SIGNAL, LIST. */
#include "proc_internal.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

struct small_req {
	pid_t pid;
	uint64_t signal, eof;
	struct wire_field data;
};

static bool parse_small(struct stream *s, const uint8_t *p, size_t n,
			struct small_req *r)
{
	uint64_t pid;

	if (req_uint(s, p, n, T_PID, 0, 1, INT32_MAX, &pid) < 0 ||
	    req_uint(s, p, n, T_SIGNAL, SIGTERM, 0, REQ_ANY, &r->signal) < 0 ||
	    req_uint(s, p, n, T_EOF, 0, 0, REQ_ANY, &r->eof) < 0 ||
	    req_bytes(s, p, n, T_DATA, SIZE_MAX, &r->data) < 0)
		return false;
	r->pid = (pid_t)pid;
	if (r->pid <= 0) {
		stream_error(s, E_BAD_REQUEST, 0, "PID is required");
		return false;
	}
	return true;
}

static void empty_result(struct stream *s)
{
	struct wire_buf b;

	wb_init(&b, NULL, 0);
	stream_result(s, &b); /* small: it always goes */
}

/* ---- PROC_STDIN ---- */

static void stdin_cancel(struct stream *s)
{
	proc_in_forget(s->owner, s);
	stream_error(s, E_CANCELLED, 0,
		     "cancelled; bytes already queued are still written");
}

static void stdin_detach(struct stream *s)
{
	proc_in_forget(s->owner, s);
}

static const struct stream_ops stdin_ops = {
    .cancel = stdin_cancel,
    .detach = stdin_detach,
};

void proc_req_stdin(struct stream *s, const uint8_t *p, size_t n)
{
	struct small_req r;
	struct proc *pr;
	int err;

	if (!parse_small(s, p, n, &r) || !(pr = proc_lookup(s, r.pid)))
		return;
	if (pr->in_fd < 0 || pr->in_eof) {
		stream_error(s, E_IO, EPIPE, "stdin of process %d is %s",
			     (int)r.pid,
			     pr->finished ? "closed: it has exited" : "closed");
		return;
	}
	if (!r.data.len) {
		if (r.eof)
			proc_in_eof(pr);
		empty_result(s);
		return;
	}
	/* Set before the push: a pipe with room answers at once. */
	s->ops = &stdin_ops;
	s->owner = pr;
	err = proc_in_push(pr, s, r.data.val, r.data.len, true);
	if (err < 0) {
		s->ops = NULL;
		stream_error_errno(s, -err, "write to stdin");
		return;
	}
	if (r.eof)
		proc_in_eof(pr);
}

void proc_req_close_stdin(struct stream *s, const uint8_t *p, size_t n)
{
	struct small_req r;
	struct proc *pr;

	if (!parse_small(s, p, n, &r) || !(pr = proc_lookup(s, r.pid)))
		return;
	proc_in_eof(pr);
	empty_result(s);
}

/* ---- PROC_SIGNAL ---- */

void proc_req_signal(struct stream *s, const uint8_t *p, size_t n)
{
	struct small_req r;
	struct proc *pr;

	if (!parse_small(s, p, n, &r))
		return;
	if (r.signal < 1 || r.signal >= _NSIG) {
		stream_error(s, E_BAD_REQUEST, EINVAL,
			     "SIGNAL %llu is not a signal (1..%d)",
			     (unsigned long long)r.signal, _NSIG - 1);
		return;
	}
	if (!(pr = proc_lookup(s, r.pid)))
		return;
	/* The whole group: children the process started go too. */
	if (kill(-pr->pid, (int)r.signal) < 0) {
		if (errno == ESRCH)
			stream_error(s, E_NOT_FOUND, ESRCH,
				     "process %d and its group have exited",
				     (int)r.pid);
		else
			stream_error_errno(s, errno, "kill");
		return;
	}
	empty_result(s);
}

/* ---- PROC_LIST ---- */

static void list_entry(struct wire_buf *b, const struct proc *p)
{
	size_t mark = wb_open(b, T_ENTRY), off = 0, len;

	proc_result_fields(p, b);
	wb_u8(b, T_BACKGROUND, p->background);
	wb_u8(b, T_PTY, p->pty);
	while (off < p->argv_len && off < PROC_LIST_ARGV_MAX) {
		len = strlen(p->argv + off);
		wb_bytes(b, T_ARGV, p->argv + off, len);
		off += len + 1;
	}
	wb_close(b, mark);
}

void proc_req_list(struct stream *s, const uint8_t *p, size_t n)
{
	size_t cap = stream_max_payload(s), keep;
	struct proc *pr;
	struct wire_buf b;
	uint8_t *mem;
	bool truncated = false;

	(void)p;
	(void)n;
	if (!(mem = malloc(cap))) {
		stream_error_errno(s, ENOMEM, "PROC_LIST");
		return;
	}
	/* Room is held back for the TRUNCATED flag. */
	wb_init(&b, mem, cap - 16);
	for (pr = stream_runner(s)->proc->procs; pr; pr = pr->next) {
		keep = b.len;
		list_entry(&b, pr);
		if (b.overflow) {
			b.len = keep;
			b.overflow = false;
			truncated = true;
			break;
		}
	}
	b.cap = cap;
	wb_u8(&b, T_TRUNCATED, truncated);
	if (stream_result(s, &b) < 0)
		stream_error(s, E_IO, 0, "process list did not fit the output");
	free(mem);
}
