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

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
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

int attach_main(int argc, char **argv)
{
	const char *path = getenv("RUNNER_SOCKET");
	int i, sock = -1;

	/* A client that goes away must end the relay through EPIPE, with a
	 * clean exit, not kill it mid-write. */
	signal(SIGPIPE, SIG_IGN);

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--socket") && i + 1 < argc) {
			path = argv[++i];
		} else if (!strncmp(argv[i], "--socket=", 9)) {
			path = argv[i] + 9;
		} else {
			fprintf(stderr,
				"usage: runner attach [--socket PATH]\n");
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
	i = attach_relay(sock);
	if (i < 0 && i != -EPIPE) {
		fprintf(stderr, "runner attach: relay: %s\n", strerror(-i));
		return 1;
	}
	return 0;
}
