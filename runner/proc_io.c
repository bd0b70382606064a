/* proc_io.c - a process's pipes: output into the stream or the ring,
 * stdin from the client.
 *
 * Hot path: a foreground process's output is read straight into the
 * connection's output buffer (stream_data_buf), as much as the stream's
 * credit allows in one read; no intermediate copy.
 */
#include "proc_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#define PIPE_DEFAULT 65536

/* ---- output ---- */

/* Not merely EPOLLIN off: a pipe whose writers are gone reports EPOLLHUP
 * regardless of interest, so a paused fd leaves the epoll set. */
void proc_out_pause(struct proc_out *o)
{
	if (!o->watched)
		return;
	loop_unwatch(&o->p->ps->rt->loop, &o->w);
	o->watched = false;
}

void proc_out_resume(struct proc_out *o)
{
	if (o->watched || o->fd < 0)
		return;
	if (loop_watch(&o->p->ps->rt->loop, &o->w, o->fd, EPOLLIN,
		       proc_out_readable) == 0)
		o->watched = true;
	else
		proc_out_close(o); /* ENOMEM in epoll: the output is lost */
}

void proc_out_close(struct proc_out *o)
{
	if (o->fd < 0)
		return;
	proc_out_pause(o);
	close(o->fd);
	o->fd = -1;
}

/* Where the next read goes, and how much it may take. */
static uint8_t *out_target(struct proc_out *o, size_t *room)
{
	struct proc *p = o->p;
	uint8_t *dst;

	if (p->background)
		return ring_space(&o->ring, room);
	if (!p->fg) {
		/* fg_drop() closes the pipes; nothing reads them until then. */
		proc_out_pause(o);
		return NULL;
	}
	*room = stream_data_room(p->fg);
	dst = *room ? stream_data_buf(p->fg) : NULL;
	if (!dst) {
		/* Wait for credit with the pipe unread: the process blocks. */
		proc_out_pause(o);
		stream_want_writable(p->fg);
		return NULL;
	}
	return dst;
}

/* Bytes past the output limit are read and dropped, so the process runs
 * on; only what is kept advances the channel offset. */
static size_t out_keep(struct proc *p, size_t n)
{
	size_t keep = n;

	if (p->output_limit) {
		if (p->total_out >= p->output_limit)
			keep = 0;
		else if (p->output_limit - p->total_out < n)
			keep = (size_t)(p->output_limit - p->total_out);
		if (keep < n)
			p->truncated = true;
	}
	p->total_out += n;
	return keep;
}

static void out_deliver(struct proc_out *o, size_t n)
{
	struct proc *p = o->p;
	size_t keep = out_keep(p, n);

	if (keep && p->background)
		ring_commit(&o->ring, keep);
	else if (keep)
		stream_data_commit(p->fg, o->channel, o->offset, keep, 0);
	o->offset += keep;
	if (keep && p->background)
		proc_att_pump_all(p);
	/* A producer that fills the default pipe gets a bigger one: fewer
	 * wakeups per byte for bulk output, small pipes for the rest.  The
	 * kernel may refuse (pipe-user-pages-soft): harmless. */
	if (n == PIPE_DEFAULT && !o->pipe_grown && !p->pty) {
		o->pipe_grown = true;
		fcntl(o->fd, F_SETPIPE_SZ, PROC_PIPE_BIG);
	}
}

static void out_end(struct proc_out *o)
{
	proc_out_close(o);
	proc_out_eof(o);
}

void proc_out_readable(struct watch *w, uint32_t events)
{
	struct proc_out *o = container_of(w, struct proc_out, w);
	size_t room;
	uint8_t *dst;
	ssize_t n;

	(void)events;
	dst = out_target(o, &room);
	if (!dst && o->p->background) {
		/* No memory for the ring: lose this output rather than spin
		 * on a readable pipe. */
		log_warn("pid %d: no memory for its output ring",
			 (int)o->p->pid);
		out_end(o);
		return;
	}
	if (!dst)
		return;
	if (o->drain_left >= 0 && room > (uint64_t)o->drain_left)
		room = (size_t)o->drain_left;
	if (room == 0) {
		out_end(o); /* the drain deadline passed and all is read */
		return;
	}
	n = read(o->fd, dst, room);
	if (n < 0 && (errno == EAGAIN || errno == EINTR) && o->drain_left < 0)
		return;
	if (n <= 0) {
		/* EOF; EIO from a PTY whose last slave closed; or empty after
		 * the drain deadline. */
		out_end(o);
		return;
	}
	if (o->drain_left >= 0)
		o->drain_left -= n;
	out_deliver(o, (size_t)n);
	if (o->drain_left == 0)
		out_end(o);
}

/* ---- stdin ---- */

static void in_watch(struct proc *p, bool on)
{
	struct loop *l = &p->ps->rt->loop;

	if (on && !p->in_watched)
		p->in_watched = loop_watch(l, &p->in_w, p->in_fd, EPOLLOUT,
					   proc_in_writable) == 0;
	else if (!on && p->in_watched) {
		loop_unwatch(l, &p->in_w);
		p->in_watched = false;
	}
}

/* A chunk is done: credit back to the client, or the PROC_STDIN answer. */
static void chunk_done(struct proc_chunk *ch, int err)
{
	struct wire_buf b;

	if (!ch->s)
		return;
	if (!ch->answer) {
		stream_grant(ch->s, (uint32_t)ch->len);
		return;
	}
	if (err) {
		stream_error_errno(ch->s, err, "write to stdin");
		return;
	}
	wb_init(&b, NULL, 0);
	stream_result(ch->s, &b); /* small: it always goes */
}

/* Write as much as the pipe takes; 0, or -errno when it is gone. */
static int in_flush(struct proc *p)
{
	struct proc_chunk *ch;
	ssize_t n;

	while ((ch = p->in_head)) {
		n = write(p->in_fd, ch->bytes + ch->done, ch->len - ch->done);
		if (n < 0)
			return errno == EAGAIN || errno == EINTR ? 0 : -errno;
		ch->done += (size_t)n;
		if (ch->done < ch->len)
			return 0;
		p->in_head = ch->next;
		chunk_done(ch, 0);
		free(ch);
	}
	return 0;
}

static void in_settle(struct proc *p)
{
	int r = in_flush(p);

	if (r < 0) {
		proc_in_close(p, -r);
		return;
	}
	if (!p->in_head && p->in_eof) {
		/* A PTY keeps our duplicate of the master until the process
		 * finishes: closing it right after the EOF character hung up
		 * the terminal (SIGHUP to a process still reading) in about a
		 * third of the tries. */
		if (p->pty)
			in_watch(p, false);
		else
			proc_in_close(p, 0);
		return;
	}
	in_watch(p, p->in_head != NULL);
}

void proc_in_writable(struct watch *w, uint32_t events)
{
	(void)events;
	in_settle(container_of(w, struct proc, in_w));
}

int proc_in_push(struct proc *p, struct stream *s, const uint8_t *d, size_t n,
		 bool answer)
{
	struct proc_chunk *ch, **pp;

	if (p->in_fd < 0 || p->in_eof)
		return -EPIPE;
	ch = malloc(sizeof(*ch) + n);
	if (!ch)
		return -ENOMEM;
	*ch = (struct proc_chunk){.s = s, .answer = answer, .len = n};
	memcpy(ch->bytes, d, n);
	for (pp = &p->in_head; *pp; pp = &(*pp)->next)
		;
	*pp = ch;
	in_settle(p);
	return 0;
}

/* EOF after what is queued.  On a PTY there is no half-close: the
 * terminal's EOF character ends the reader's current read instead. */
void proc_in_eof(struct proc *p)
{
	static const uint8_t eot = 4;

	if (p->in_fd < 0 || p->in_eof)
		return;
	if (p->pty && proc_in_push(p, NULL, &eot, 1, false) < 0)
		return;
	p->in_eof = true;
	in_settle(p);
}

/* Close stdin; queued bytes are lost, their streams told with err.  On
 * a PTY this closes only our duplicate of the master. */
void proc_in_close(struct proc *p, int err)
{
	struct proc_chunk *ch;

	in_watch(p, false);
	while ((ch = p->in_head)) {
		p->in_head = ch->next;
		chunk_done(ch, err ? err : EPIPE);
		free(ch);
	}
	if (p->in_fd >= 0)
		close(p->in_fd);
	p->in_fd = -1;
}

/* A stream with queued stdin is going away: keep the bytes, lose the
 * answer. */
void proc_in_forget(struct proc *p, struct stream *s)
{
	struct proc_chunk *ch;

	for (ch = p->in_head; ch; ch = ch->next)
		if (ch->s == s)
			ch->s = NULL;
}
