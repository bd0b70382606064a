/* listen.c - the doors: a unix socket, an AF_VSOCK port, stdin/stdout. */
#include "runner.h"
#include "procfs.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include <linux/vm_sockets.h>

#define ACCEPT_PAUSE_MS 100

int listen_parse(const char *arg, struct listen_spec *out)
{
	char *end;
	unsigned long port;

	memset(out, 0, sizeof(*out));
	if (!strncmp(arg, "unix:", 5) && arg[5]) {
		if (strlen(arg + 5) >=
		    sizeof(((struct sockaddr_un *)0)->sun_path))
			return -ENAMETOOLONG;
		out->kind = LISTEN_UNIX;
		out->path = arg + 5;
		return 0;
	}
	if (!strncmp(arg, "vsock:", 6)) {
		errno = 0;
		port = strtoul(arg + 6, &end, 10);
		if (errno || end == arg + 6 || *end || port > UINT32_MAX)
			return -EINVAL;
		out->kind = LISTEN_VSOCK;
		out->port = (uint32_t)port;
		return 0;
	}
	if (!strcmp(arg, "stdio")) {
		out->kind = LISTEN_STDIO;
		return 0;
	}
	return -EINVAL;
}

static bool peer_allowed(const struct runner *rt, int fd, char *peer,
			 size_t len, uid_t *uid)
{
	struct ucred cr;
	socklen_t sl = sizeof(cr);
	unsigned i;

	*uid = (uid_t)-1;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &sl) < 0) {
		snprintf(peer, len, "unix:?");
		return rt->cfg.nallow_uid == 0;
	}
	*uid = cr.uid;
	snprintf(peer, len, "unix:pid=%d,uid=%u", (int)cr.pid,
		 (unsigned)cr.uid);
	if (rt->cfg.nallow_uid == 0)
		return true;
	for (i = 0; i < rt->cfg.nallow_uid; i++)
		if (rt->cfg.allow_uid[i] == cr.uid)
			return true;
	return false;
}

static void listen_resume(struct timer *t)
{
	struct listener *ls = container_of(t, struct listener, pause);

	loop_modify(&ls->rt->loop, &ls->w, EPOLLIN);
}

static void listen_accept(struct watch *w, uint32_t events)
{
	struct listener *ls = container_of(w, struct listener, w);
	struct runner *rt = ls->rt;
	char peer[64];
	uid_t uid;
	int fd, r;

	(void)events;
	for (;;) {
		fd = accept4(ls->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EMFILE || errno == ENFILE ||
			    errno == ENOMEM) {
				/* The pending connection stays queued; stop the
				 * level-triggered wakeups until fds free up. */
				log_warn("accept: %m; pausing %d ms",
					 ACCEPT_PAUSE_MS);
				loop_modify(&rt->loop, &ls->w, 0);
				timer_arm(&rt->loop, &ls->pause,
					  ACCEPT_PAUSE_MS, listen_resume);
			}
			return; /* EAGAIN, or a connection that died in the
				   queue */
		}
		if (ls->spec.kind == LISTEN_UNIX) {
			if (!peer_allowed(rt, fd, peer, sizeof(peer), &uid)) {
				log_warn("refused %s: uid not in --allow-uid",
					 peer);
				conn_refuse(fd, E_AUTH, "peer uid not allowed");
				continue;
			}
			/* One uid cannot hold every --max-conns slot (a
			 * connection past HELLO never times out). */
			if (rt->cfg.max_conns_per_uid &&
			    conn_count_uid(rt, uid) >=
				rt->cfg.max_conns_per_uid) {
				log_warn("refused %s: --max-conns-per-uid %u",
					 peer, rt->cfg.max_conns_per_uid);
				conn_refuse(
				    fd, E_LIMIT,
				    "too many connections from this uid");
				continue;
			}
		} else {
			snprintf(peer, sizeof(peer), "vsock:%u", ls->spec.port);
		}
		r = conn_open(rt, fd, fd, peer, false);
		if (r == -EMFILE)
			conn_refuse(fd, E_LIMIT, "too many connections");
		else if (r < 0)
			conn_refuse(fd, E_INTERNAL, "cannot set up connection");
	}
}

/* PATH.pid: "PID START", this runner's pid in its own namespace and its
 * start time, for `runner attach` to check that the socket's listener is
 * us and not a sandbox process that took the path over.  Only a root
 * start writes it: root owns it then and the sandbox user cannot forge
 * or rewrite it; a runner that shares its uid with the sandbox could not
 * protect it, and attach wants PID 1 or --trust-socket there. */
static void listen_record(const char *sock)
{
	char path[sizeof(((struct sockaddr_un *)0)->sun_path) + 4], line[48];
	uint64_t start;
	pid_t self;
	int fd, n;

	if (geteuid() != 0 || pid_identity(getpid(), &self, &start) < 0)
		return;
	snprintf(path, sizeof(path), "%s.pid", sock);
	/* A stale record (or anything else there) goes: O_EXCL below then
	 * never writes through a planted symlink. */
	(void)unlink(path);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
		  0644);
	if (fd < 0) {
		log_warn("cannot record the runner in %s: %s", path,
			 strerror(errno));
		return;
	}
	n = snprintf(line, sizeof(line), "%d %llu\n", (int)self,
		     (unsigned long long)start);
	if (write(fd, line, (size_t)n) != n)
		log_warn("cannot record the runner in %s: %s", path,
			 strerror(errno));
	close(fd);
}

/* Bind with a umask that leaves the socket 0600 from its first instant:
 * a chmod after bind would leave a window where anyone may connect. */
static int listen_unix(struct runner *rt, struct listener *ls)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct stat st;
	mode_t old;
	int fd, r;

	strcpy(sa.sun_path, ls->spec.path);
	if (lstat(sa.sun_path, &st) == 0 && S_ISSOCK(st.st_mode))
		unlink(sa.sun_path); /* stale from a previous run */
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	old = umask(0177);
	r = bind(fd, (struct sockaddr *)&sa, sizeof(sa));
	umask(old);
	if (r < 0)
		goto fail;
	if (rt->cfg.has_socket_group) {
		r = chown(sa.sun_path, (uid_t)-1, rt->cfg.socket_group);
		if (r == 0)
			r = chmod(sa.sun_path, 0660);
		if (r < 0)
			goto fail;
	}
	/* Before listen(): nobody can connect, and so attach, before the
	 * record exists. */
	listen_record(sa.sun_path);
	if (listen(fd, 128) < 0)
		goto fail;
	return fd;
fail:
	r = -errno;
	close(fd);
	return r;
}

static int listen_vsock(struct listener *ls)
{
	struct sockaddr_vm sa = {
	    .svm_family = AF_VSOCK,
	    .svm_cid = VMADDR_CID_ANY,
	    .svm_port = ls->spec.port,
	};
	int fd, r;

	fd = socket(AF_VSOCK, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    listen(fd, 128) < 0) {
		r = -errno;
		close(fd);
		return r;
	}
	return fd;
}

/* stdin/stdout become one connection.  They are dup'ed high so that a
 * stray write to fd 1 by anything in the runner cannot corrupt framing,
 * and fd 0/1 are pointed at /dev/null. */
static int listen_stdio(struct runner *rt)
{
	int in, out, null, r;

	in = fcntl(STDIN_FILENO, F_DUPFD_CLOEXEC, 3);
	out = fcntl(STDOUT_FILENO, F_DUPFD_CLOEXEC, 3);
	if (in < 0 || out < 0) {
		r = -errno;
		goto fail;
	}
	if (fcntl(in, F_SETFL, fcntl(in, F_GETFL) | O_NONBLOCK) < 0 ||
	    fcntl(out, F_SETFL, fcntl(out, F_GETFL) | O_NONBLOCK) < 0) {
		r = -errno;
		goto fail;
	}
	null = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (null >= 0) {
		dup2(null, STDIN_FILENO);
		dup2(null, STDOUT_FILENO);
		close(null);
	}
	r = conn_open(rt, in, out, "stdio", true);
	if (r == 0)
		return 0;
fail:
	if (in >= 0)
		close(in);
	if (out >= 0)
		close(out);
	return r;
}

int listen_open(struct runner *rt, struct listener *ls)
{
	int fd, r;

	ls->rt = rt;
	ls->fd = -1;
	switch (ls->spec.kind) {
	case LISTEN_STDIO: return listen_stdio(rt);
	case LISTEN_UNIX: fd = listen_unix(rt, ls); break;
	case LISTEN_VSOCK: fd = listen_vsock(ls); break;
	default: return -EINVAL;
	}
	if (fd < 0)
		return fd;
	ls->fd = fd;
	r = loop_watch(&rt->loop, &ls->w, fd, EPOLLIN, listen_accept);
	if (r < 0) {
		close(fd);
		ls->fd = -1;
	}
	return r;
}

void listen_close(struct runner *rt, struct listener *ls)
{
	if (ls->fd < 0)
		return;
	timer_cancel(&rt->loop, &ls->pause);
	loop_unwatch(&rt->loop, &ls->w);
	close(ls->fd);
	ls->fd = -1;
	if (ls->spec.kind == LISTEN_UNIX) {
		/* Both may fail after a user switch: fine, a restart replaces
		 * them, and a stale record names a dead process. */
		char rec[sizeof(((struct sockaddr_un *)0)->sun_path) + 4];
		unlink(ls->spec.path);
		snprintf(rec, sizeof(rec), "%s.pid", ls->spec.path);
		unlink(rec);
	}
}
