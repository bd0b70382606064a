/* attach.c - `runner attach`: relay stdin/stdout to the runner's socket.
 *
 * This is how `docker exec -i CTR runner attach` and `kubectl exec -i`
 * reach PID 1 without a network.  Each direction moves bytes through a
 * private pipe with splice(2), so payload never enters user space; where
 * an end cannot splice (a tty, some sockets) that direction falls back to
 * read/write through a buffer.  Either side's EOF is passed on; the relay
 * exits when the runner side is done.
 */
#include "runner.h"
#include "procfs.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <limits.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#define RELAY_CHUNK (256u << 10)

struct relay {
	int in, out;	/* source and destination */
	int pipe[2];	/* splice staging; -1 when copying */
	size_t pending; /* bytes in the pipe or buf not yet written */
	size_t head;	/* copy mode: buf offset of pending bytes */
	bool eof;	/* source finished */
	bool done;	/* EOF passed on */
	uint8_t *buf;	/* copy mode only */
};

static int relay_init(struct relay *r, int in, int out)
{
	*r = (struct relay){.in = in, .out = out, .pipe = {-1, -1}};
	if (pipe2(r->pipe, O_CLOEXEC | O_NONBLOCK) == 0) {
		/* A bigger pipe means fewer syscalls per megabyte; failure
		 * only costs speed. */
		fcntl(r->pipe[0], F_SETPIPE_SZ, RELAY_CHUNK);
		return 0;
	}
	r->buf = malloc(RELAY_CHUNK);
	return r->buf ? 0 : -ENOMEM;
}

static void relay_to_copy_mode(struct relay *r)
{
	/* Only switched while the pipe is empty, so nothing is stranded. */
	close(r->pipe[0]);
	close(r->pipe[1]);
	r->pipe[0] = r->pipe[1] = -1;
	r->buf = malloc(RELAY_CHUNK);
}

/* Move what can be moved now.  -errno on a hard error. */
static int relay_fill(struct relay *r)
{
	ssize_t n;

	if (r->eof || r->pending)
		return 0;
	if (r->pipe[0] >= 0) {
		n = splice(r->in, NULL, r->pipe[1], NULL, RELAY_CHUNK,
			   SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
		if (n < 0 && errno == EINVAL) {
			relay_to_copy_mode(r);
			if (!r->buf)
				return -ENOMEM;
			return relay_fill(r);
		}
	} else {
		n = read(r->in, r->buf, RELAY_CHUNK);
		r->head = 0;
	}
	if (n < 0)
		return errno == EAGAIN || errno == EINTR ? 0 : -errno;
	if (n == 0)
		r->eof = true;
	r->pending = (size_t)n;
	return 0;
}

static int relay_drain(struct relay *r)
{
	ssize_t n;

	while (r->pending) {
		if (r->pipe[0] >= 0)
			n = splice(r->pipe[0], NULL, r->out, NULL, r->pending,
				   SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
		else
			n = write(r->out, r->buf + r->head, r->pending);
		if (n < 0 && errno == EINVAL && r->pipe[0] >= 0) {
			/* Destination cannot splice: read the pipe back. */
			uint8_t *tmp = malloc(r->pending);
			ssize_t got;
			if (!tmp)
				return -ENOMEM;
			got = read(r->pipe[0], tmp, r->pending);
			relay_to_copy_mode(r);
			if (got < 0 || !r->buf) {
				free(tmp);
				return -EIO;
			}
			memcpy(r->buf, tmp, (size_t)got);
			free(tmp);
			r->head = 0;
			r->pending = (size_t)got;
			continue;
		}
		if (n < 0)
			return errno == EAGAIN || errno == EINTR ? 0 : -errno;
		r->pending -= (size_t)n;
		r->head += (size_t)n;
	}
	return 0;
}

static int set_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
		return -errno;
	return 0;
}

static int attach_connect(const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int e = -errno;
		close(fd);
		return e;
	}
	return fd;
}

static void relay_events(const struct relay *r, struct pollfd *src,
			 struct pollfd *dst)
{
	src->events = (!r->eof && !r->pending) ? POLLIN : 0;
	dst->events = r->pending ? POLLOUT : 0;
}

/* up: stdin -> socket; down: socket -> stdout. */
static int attach_relay(int sock)
{
	struct relay up, down;
	struct pollfd pfd[3];
	int r;

	if ((r = relay_init(&up, STDIN_FILENO, sock)) < 0 ||
	    (r = relay_init(&down, sock, STDOUT_FILENO)) < 0)
		return r;
	set_nonblock(STDIN_FILENO);
	set_nonblock(STDOUT_FILENO);
	set_nonblock(sock);
	while (!down.done) {
		pfd[0] = (struct pollfd){.fd = up.done ? -1 : STDIN_FILENO};
		pfd[1] = (struct pollfd){.fd = sock};
		pfd[2] = (struct pollfd){.fd = STDOUT_FILENO};
		relay_events(&up, &pfd[0], &pfd[1]);
		relay_events(&down, &pfd[1], &pfd[2]);
		if (!down.eof && !down.pending)
			pfd[1].events |= POLLIN;
		if (poll(pfd, 3, -1) < 0 && errno != EINTR)
			return -errno;
		if (pfd[2].revents & POLLERR)
			return -EPIPE; /* our client is gone */
		if ((r = relay_fill(&up)) < 0 || (r = relay_drain(&up)) < 0 ||
		    (r = relay_fill(&down)) < 0 || (r = relay_drain(&down)) < 0)
			return r;
		if (up.eof && !up.pending && !up.done) {
			shutdown(sock, SHUT_WR);
			up.done = true;
		}
		if (down.eof && !down.pending)
			down.done = true;
	}
	return 0;
}

/* The record the runner left beside its socket when it started as root
 * (listen.c): "PID START".  Trusted only if root owns it and nobody
 * else may write it: a sandbox that is not root cannot forge one. */
static int read_record(const char *sock, pid_t *pid, uint64_t *start)
{
	char path[PATH_MAX], buf[64], *end;
	struct stat sb;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "%s.pid", sock);
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = fstat(fd, &sb) < 0 ? -1 : read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0 || !S_ISREG(sb.st_mode) || sb.st_uid != 0 ||
	    (sb.st_mode & 022))
		return -EPERM;
	buf[n] = 0;
	*pid = (pid_t)strtol(buf, &end, 10);
	if (end == buf || *end != ' ')
		return -EINVAL;
	*start = strtoull(end + 1, NULL, 10);
	return 0;
}

/* Is the listener at the other end of sock the runner?  As PID 1 of our
 * PID namespace it is pid 1, which no sandbox process can be.  Else it
 * is the process the runner's root-owned record names (pid in its own
 * namespace and start time).  0, or -EPERM with why. */
static int attach_verify(int sock, const char *path, char *why, size_t len)
{
	struct ucred cr;
	socklen_t sl = sizeof(cr);
	uint64_t rec_start = 0, start = 0;
	pid_t rec_pid = 0, ns_pid = 0;

	if (getsockopt(sock, SOL_SOCKET, SO_PEERCRED, &cr, &sl) < 0)
		return snprintf(why, len, "SO_PEERCRED: %s", strerror(errno)),
		       -EPERM;
	if (cr.pid == 1)
		return 0;
	if (read_record(path, &rec_pid, &rec_start) < 0)
		return snprintf(
			   why, len,
			   "its listener is pid %d, not pid 1, and no root-owned %s.pid names it",
			   (int)cr.pid, path),
		       -EPERM;
	if (pid_identity(cr.pid, &ns_pid, &start) < 0 || ns_pid != rec_pid ||
	    start != rec_start)
		return snprintf(
			   why, len,
			   "its listener (pid %d) is not the runner recorded in %s.pid (pid %d)",
			   (int)cr.pid, path, (int)rec_pid),
		       -EPERM;
	return 0;
}

int attach_main(int argc, char **argv)
{
	const char *path = getenv("RUNNER_SOCKET");
	bool trust = false;
	char why[PATH_MAX + 128];
	int i, sock = -1;

	/* A client that goes away must end the relay through EPIPE, with a
	 * clean exit, not kill it mid-write. */
	signal(SIGPIPE, SIG_IGN);

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--socket") && i + 1 < argc) {
			path = argv[++i];
		} else if (!strncmp(argv[i], "--socket=", 9)) {
			path = argv[i] + 9;
		} else if (!strcmp(argv[i], "--trust-socket")) {
			trust = true;
		} else {
			fprintf(
			    stderr,
			    "usage: runner attach [--socket PATH] [--trust-socket]\n");
			return 2;
		}
	}
	if (path) {
		sock = attach_connect(path);
	} else {
		/* Same order the runner tries when binding. */
		sock = attach_connect("/run/runner.sock");
		if (sock < 0)
			sock = attach_connect(path = "/tmp/runner.sock");
		else
			path = "/run/runner.sock";
	}
	if (sock < 0) {
		fprintf(stderr, "runner attach: cannot connect to %s: %s\n",
			path, strerror(-sock));
		return 1;
	}
	/* Same-uid sandboxes can remove the socket and listen there
	 * themselves: talk only to the real runner. */
	if (!trust && attach_verify(sock, path, why, sizeof(why)) < 0) {
		fprintf(
		    stderr,
		    "runner attach: refusing %s: %s; another process may hold the socket (--trust-socket to connect anyway)\n",
		    path, why);
		close(sock);
		return 1;
	}
	i = attach_relay(sock);
	if (i < 0 && i != -EPIPE) {
		fprintf(stderr, "runner attach: relay: %s\n", strerror(-i));
		return 1;
	}
	return 0;
}
