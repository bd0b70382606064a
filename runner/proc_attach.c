/* proc_attach.c - readers of a process: ATTACH, WAIT, background SPAWN.
 *
 * Each reader copies from the process's rings at its own offsets, as far
 * as its stream's credit allows, and waits for ops->writable otherwise.
 * The rings never wait for a reader: one that falls behind by more than
 * the ring size is told with EVENT EV_DROPPED and skips ahead, so a slow
 * or dead reader never stalls the process or another reader.
 */
#include "proc_internal.h"

#include <errno.h>
#include <stdlib.h>

static void att_data(struct stream *s, uint8_t ch, const uint8_t *d, size_t n,
		     bool fin);
static void att_writable(struct stream *s);
static void att_cancel(struct stream *s);
static void att_detach(struct stream *s);

static const struct stream_ops att_ops = {
    .data = att_data,
    .writable = att_writable,
    .cancel = att_cancel,
    .detach = att_detach,
};

struct proc_att *proc_att_add(struct proc *p, struct stream *s,
			      enum proc_att_kind kind, const uint64_t off[2])
{
	struct proc_att *a = calloc(1, sizeof(*a));
	unsigned i;

	if (!a)
		return NULL;
	a->p = p;
	a->s = s;
	a->kind = kind;
	for (i = 0; i < p->nout; i++) {
		a->off[i] = off ? off[i] : 0;
		a->until[i] = p->out[i].ring.end;
	}
	a->next = p->atts;
	p->atts = a;
	s->ops = &att_ops;
	s->owner = a;
	return a;
}

void proc_att_remove(struct proc_att *a)
{
	struct proc *p = a->p;
	struct proc_att **pp;

	for (pp = &p->atts; *pp; pp = &(*pp)->next) {
		if (*pp == a) {
			*pp = a->next;
			break;
		}
	}
	timer_cancel(&p->ps->rt->loop, &a->timeout);
	proc_in_forget(p, a->s);
	free(a);
	proc_maybe_free(p);
}

/* 0 once the EVENT is queued; -EAGAIN while the connection buffer is
 * full (stream_event then asked for ops->writable). */
static int att_send_dropped(struct proc_att *a, unsigned i, uint64_t n)
{
	uint8_t buf[64];
	struct wire_buf b;

	wb_init(&b, buf, sizeof(buf));
	wb_u16(&b, T_EVENT, EV_DROPPED);
	wb_u8(&b, T_CHANNEL, a->p->out[i].channel);
	wb_u64(&b, T_DROPPED, n);
	wb_u64(&b, T_FROM_OFFSET, a->off[i] + n);
	return stream_event(a->s, &b);
}

static int att_send_channel(struct proc_att *a, unsigned i)
{
	struct proc_out *o = &a->p->out[i];
	uint64_t off, dropped, limit;
	const uint8_t *src;
	size_t len, room;

	limit = a->kind == ATT_SNAPSHOT ? a->until[i] : o->ring.end;
	while (a->off[i] < limit) {
		off = a->off[i];
		src = ring_peek(&o->ring, &off, &len, &dropped);
		if (dropped) {
			if (att_send_dropped(a, i, dropped) < 0)
				return -EAGAIN;
			a->dropped += dropped;
			a->off[i] = off;
			continue;
		}
		if (!src)
			break;
		if (len > limit - off)
			len = (size_t)(limit - off);
		room = stream_data_room(a->s);
		if (!room) {
			stream_want_writable(a->s);
			return -EAGAIN;
		}
		if (len > room)
			len = room;
		stream_data(a->s, o->channel, off, src, len, 0);
		a->off[i] = off + len;
	}
	return 0;
}

static int att_send_result(struct proc_att *a)
{
	uint8_t buf[256];
	struct wire_buf b;

	wb_init(&b, buf, sizeof(buf));
	proc_result_fields(a->p, &b);
	if (a->kind != ATT_WAIT)
		wb_u64(&b, T_DROPPED, a->dropped);
	return stream_result(a->s, &b);
}

/* Send what this reader may, then the RESULT once it is complete: at the
 * process's end (follow, wait) or at the end of the snapshot. */
void proc_att_pump(struct proc_att *a)
{
	struct proc *p = a->p;
	unsigned i;

	if (a->kind != ATT_WAIT)
		for (i = 0; i < p->nout; i++)
			if (att_send_channel(a, i) < 0)
				return;
	if (a->kind != ATT_SNAPSHOT && !p->finished)
		return;
	if (att_send_result(a) < 0)
		return;
	proc_att_remove(a);
}

void proc_att_pump_all(struct proc *p)
{
	struct proc_att *a, *next;

	for (a = p->atts; a; a = next) {
		next = a->next;
		proc_att_pump(a);
	}
}

/* DATA from an attached client is the process's stdin, as on SPAWN. */
static void att_data(struct stream *s, uint8_t ch, const uint8_t *d, size_t n,
		     bool fin)
{
	struct proc_att *a = s->owner;

	(void)ch;
	if (a->kind == ATT_WAIT ||
	    (n && proc_in_push(a->p, s, d, n, false) < 0))
		stream_grant(s, (uint32_t)n); /* stdin closed: dropped */
	if (fin && a->kind != ATT_WAIT)
		proc_in_eof(a->p);
}

static void att_writable(struct stream *s)
{
	proc_att_pump(s->owner);
}

static void att_cancel(struct stream *s)
{
	struct proc_att *a = s->owner;

	stream_error(s, E_CANCELLED, 0, "cancelled; the process keeps running");
	proc_att_remove(a);
}

static void att_detach(struct stream *s)
{
	proc_att_remove(s->owner);
}

struct attach_req {
	pid_t pid;
	uint64_t off[2];
	uint64_t timeout_ms;
	bool follow;
};

static bool parse_attach(struct stream *s, const uint8_t *p, size_t n,
			 struct attach_req *r)
{
	struct wire_iter it;
	struct wire_field f;
	unsigned noff = 0;
	uint64_t pid, follow;

	*r = (struct attach_req){0};
	if (req_uint(s, p, n, T_PID, 0, 1, INT32_MAX, &pid) < 0 ||
	    req_uint(s, p, n, T_FOLLOW, 1, 0, REQ_ANY, &follow) < 0 ||
	    req_uint(s, p, n, T_TIMEOUT_MS, 0, 0, UINT32_MAX, &r->timeout_ms) <
		0)
		return false;
	r->pid = (pid_t)pid;
	r->follow = follow != 0;
	/* FROM_OFFSET is a list: one applies to every channel; two are
	 * stdout, stderr. */
	wire_iter_init(&it, p, n);
	while (noff < 2 && wire_next(&it, &f) > 0) {
		if (f.tag != T_FROM_OFFSET)
			continue;
		if (wire_uint(&f, &r->off[noff++]) < 0) {
			stream_error(s, E_BAD_REQUEST, 0,
				     "FROM_OFFSET is not an integer");
			return false;
		}
	}
	if (noff == 1)
		r->off[1] = r->off[0];
	if (r->pid <= 0) {
		stream_error(s, E_BAD_REQUEST, 0, "PID is required");
		return false;
	}
	return true;
}

struct proc *proc_lookup(struct stream *s, pid_t pid)
{
	struct proc *p = proc_find(stream_runner(s)->proc, pid);

	if (!p)
		stream_error(
		    s, E_NOT_FOUND, ESRCH,
		    "no process %d spawned by this runner (or it was forgotten)",
		    (int)pid);
	return p;
}

void proc_req_attach(struct stream *s, const uint8_t *p, size_t n)
{
	struct attach_req r;
	struct proc_att *a;
	struct proc *pr;

	if (!parse_attach(s, p, n, &r) || !(pr = proc_lookup(s, r.pid)))
		return;
	if (!pr->background) {
		stream_error(
		    s, E_BAD_REQUEST, 0,
		    "process %d is not a background process: its output belongs to its SPAWN stream",
		    (int)r.pid);
		return;
	}
	a = proc_att_add(pr, s, r.follow ? ATT_FOLLOW : ATT_SNAPSHOT, r.off);
	if (!a) {
		stream_error_errno(s, ENOMEM, "PROC_ATTACH");
		return;
	}
	proc_att_pump(a);
}

static void wait_expired(struct timer *t)
{
	struct proc_att *a = container_of(t, struct proc_att, timeout);

	stream_error(a->s, E_TIMEOUT, 0, "process %d is still running",
		     (int)a->p->pid);
	proc_att_remove(a);
}

void proc_req_wait(struct stream *s, const uint8_t *p, size_t n)
{
	struct attach_req r;
	struct proc_att *a;
	struct proc *pr;

	if (!parse_attach(s, p, n, &r) || !(pr = proc_lookup(s, r.pid)))
		return;
	a = proc_att_add(pr, s, ATT_WAIT, NULL);
	if (!a) {
		stream_error_errno(s, ENOMEM, "PROC_ATTACH");
		return;
	}
	if (r.timeout_ms && !pr->finished)
		timer_arm(&stream_runner(s)->loop, &a->timeout, r.timeout_ms,
			  wait_expired);
	proc_att_pump(a);
}
