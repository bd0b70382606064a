/* pid1_tree.c - find and signal every process the runner answers for.
 * Only the shutdown path comes here, so reading /proc and allocating a
 * table of it is fine. */
#include "pid1_internal.h"
#include "procfs.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* A ppid chain longer than this is treated as not ours (a loop can only
 * come from pids reused while we read /proc). */
#define MAX_DEPTH 4096

struct proc_link {
	pid_t pid, ppid;
};

/* Fields 4 (ppid), 6 (session) and 7 (tty_nr) of /proc/PID/stat. */
static int read_stat(pid_t pid, pid_t *ppid, pid_t *sid, int *tty)
{
	char buf[512], *p;
	const char *f = proc_stat_fields(pid, buf, sizeof(buf));

	if (!f || !f[0] || f[1] != ' ')
		return -EIO;
	/* "S ppid pgrp sid tty": fields parsed by strtol, not sscanf, which
	 * would pull musl's scanf and float parser into the binary. */
	*ppid = (pid_t)strtol(f + 2, &p, 10);
	strtol(p, &p, 10); /* pgrp */
	*sid = (pid_t)strtol(p, &p, 10);
	*tty = (int)strtol(p, &p, 10);
	return *p == ' ' ? 0 : -EIO;
}

static int link_cmp(const void *a, const void *b)
{
	const struct proc_link *x = a, *y = b;

	return (x->pid > y->pid) - (x->pid < y->pid);
}

/* Every process in /proc with its parent, sorted by pid; NULL when /proc
 * cannot be read (then only the process groups are signalled). */
static struct proc_link *read_links(size_t *count)
{
	struct proc_link *v = NULL, *grown;
	size_t n = 0, cap = 0;
	struct dirent *e;
	pid_t sid;
	int tty;
	DIR *d;

	d = opendir("/proc");
	if (!d)
		return NULL;
	while ((e = readdir(d))) {
		if (!isdigit((unsigned char)e->d_name[0]))
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 256;
			grown = realloc(v, cap * sizeof(*v));
			if (!grown)
				break;
			v = grown;
		}
		v[n].pid = (pid_t)atoi(e->d_name);
		if (read_stat(v[n].pid, &v[n].ppid, &sid, &tty) == 0)
			n++;
	}
	closedir(d);
	if (v)
		qsort(v, n, sizeof(*v), link_cmp);
	*count = n;
	return v;
}

static pid_t parent_of(const struct proc_link *v, size_t n, pid_t pid)
{
	struct proc_link key = {.pid = pid}, *hit;

	hit = bsearch(&key, v, n, sizeof(*v), link_cmp);
	return hit ? hit->ppid : 0;
}

static bool descends_from(const struct proc_link *v, size_t n, pid_t pid,
			  pid_t self)
{
	unsigned depth;

	for (depth = 0; depth < MAX_DEPTH && pid > 1; depth++) {
		pid = parent_of(v, n, pid);
		if (pid == self)
			return true;
	}
	return false;
}

static void signal_descendants(int sig)
{
	pid_t self = getpid();
	struct proc_link *v;
	size_t n = 0, i;

	v = read_links(&n);
	if (!v) {
		log_warn("cannot read /proc: only process groups signalled");
		return;
	}
	for (i = 0; i < n; i++)
		if (descends_from(v, n, v[i].pid, self))
			kill(v[i].pid, sig); /* ESRCH: it just exited */
	free(v);
}

void signal_everything(struct runner *rt, int sig)
{
	struct child *c;
	unsigned b;

	if (rt->is_pid1) {
		/* Everything in the namespace but ourselves.  ESRCH means
		 * there is nobody; EPERM cannot happen to processes that run
		 * as our user, and nothing else can exist below us. */
		kill(-1, sig);
		return;
	}
	/* Groups first: one kill reaches a whole pipeline atomically, even
	 * the members forked while we walk /proc. */
	for (b = 0; b < CHILD_BUCKETS; b++)
		for (c = rt->children[b]; c; c = c->next)
			if (kill(-c->pid, sig) < 0)
				kill(c->pid, sig); /* not a group leader */
	signal_descendants(sig);
}

void hangup_terminal_sessions(struct runner *rt)
{
	struct child *c;
	pid_t ppid, sid;
	unsigned b;
	int tty;

	for (b = 0; b < CHILD_BUCKETS; b++) {
		for (c = rt->children[b]; c; c = c->next) {
			if (read_stat(c->pid, &ppid, &sid, &tty) < 0 ||
			    sid != c->pid || tty == 0)
				continue;
			kill(c->pid, SIGHUP);
			kill(c->pid, SIGCONT);
		}
	}
}
