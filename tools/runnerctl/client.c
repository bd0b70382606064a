/* client.c - dialers and the blocking frame client. */
#include "client.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/vm_sockets.h>

static int fail(struct rc_conn *c, int r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(c->err, sizeof(c->err), fmt, ap);
	va_end(ap);
	return r;
}

/* ---- dialers ---- */

static int dial_unix(struct rc_conn *c, const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path))
		return fail(c, -ENAMETOOLONG, "socket path too long: %s", path);
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return fail(c, -errno, "socket: %s", strerror(errno));
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int e = errno;
		close(fd);
		return fail(c, -e, "cannot connect to unix:%s: %s", path,
			    strerror(e));
	}
	c->rfd = c->wfd = fd;
	return 0;
}

/* --expect-pid PID ($RUNNER_EXPECT_PID): the unix socket's listener must
 * be that process (the runner's pid as the host sees it, e.g. docker
 * inspect -f '{{.State.Pid}}'), not whatever sandbox process took the
 * path over.  SO_PEERCRED names the process that called listen(). */
static int expect_peer(struct rc_conn *c, const char *path)
{
	const char *want = getenv("RUNNER_EXPECT_PID");
	struct ucred cr;
	socklen_t sl = sizeof(cr);

	if (!want || !*want)
		return 0;
	if (getsockopt(c->rfd, SOL_SOCKET, SO_PEERCRED, &cr, &sl) < 0)
		return fail(c, -errno, "unix:%s: SO_PEERCRED: %s", path,
			    strerror(errno));
	if (cr.pid != (pid_t)atoi(want))
		return fail(
		    c, -EPERM,
		    "unix:%s: the listener is pid %d, not the expected runner pid %s: refusing",
		    path, (int)cr.pid, want);
	return 0;
}

static int dial_unix_checked(struct rc_conn *c, const char *path)
{
	int r = dial_unix(c, path);

	return r < 0 ? r : expect_peer(c, path);
}

static int dial_vsock(struct rc_conn *c, const char *spec)
{
	struct sockaddr_vm sa = {.svm_family = AF_VSOCK};
	unsigned cid, port;
	int fd;

	if (sscanf(spec, "%u:%u", &cid, &port) != 2)
		return fail(c, -EINVAL, "want vsock:CID:PORT, got vsock:%s",
			    spec);
	sa.svm_cid = cid;
	sa.svm_port = port;
	fd = socket(AF_VSOCK, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return fail(c, -errno, "vsock socket: %s", strerror(errno));
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int e = errno;
		close(fd);
		return fail(c, -e, "cannot connect to vsock:%s: %s", spec,
			    strerror(e));
	}
	c->rfd = c->wfd = fd;
	return 0;
}

/* Firecracker's hybrid vsock: the host side is a unix socket; a line
 * "CONNECT PORT\n" is answered by "OK HOSTPORT\n", then bytes flow. */
static int dial_fc(struct rc_conn *c, const char *spec)
{
	char path[108], line[64];
	const char *colon = strrchr(spec, ':');
	unsigned port;
	size_t i = 0;
	int r, n;

	if (!colon || (size_t)(colon - spec) >= sizeof(path) ||
	    sscanf(colon + 1, "%u", &port) != 1)
		return fail(c, -EINVAL, "want fc:UDS_PATH:PORT, got fc:%s",
			    spec);
	memcpy(path, spec, (size_t)(colon - spec));
	path[colon - spec] = 0;
	if ((r = dial_unix(c, path)) < 0)
		return r;
	n = snprintf(line, sizeof(line), "CONNECT %u\n", port);
	if (write(c->wfd, line, (size_t)n) != n)
		return fail(c, -EIO, "fc: cannot send CONNECT");
	/* Read the reply byte by byte: nothing after '\n' is ours to eat. */
	while (i < sizeof(line) - 1) {
		if (read(c->rfd, line + i, 1) != 1)
			return fail(c, -ECONNREFUSED,
				    "fc: no reply to CONNECT %u", port);
		if (line[i++] == '\n')
			break;
	}
	line[i] = 0;
	if (strncmp(line, "OK ", 3) != 0)
		return fail(c, -ECONNREFUSED, "fc: CONNECT %u refused: %.40s",
			    port, line);
	return 0;
}

/* Run `sh -c command` and speak over its stdin/stdout. */
static int dial_cmd(struct rc_conn *c, const char *command)
{
	int in[2], out[2];
	pid_t pid;

	if (pipe2(in, O_CLOEXEC) < 0)
		return fail(c, -errno, "pipe: %s", strerror(errno));
	if (pipe2(out, O_CLOEXEC) < 0) {
		close(in[0]);
		close(in[1]);
		return fail(c, -errno, "pipe: %s", strerror(errno));
	}
	pid = fork();
	if (pid < 0)
		return fail(c, -errno, "fork: %s", strerror(errno));
	if (pid == 0) {
		dup2(in[0], STDIN_FILENO);
		dup2(out[1], STDOUT_FILENO);
		execl("/bin/sh", "sh", "-c", command, (char *)NULL);
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	c->wfd = in[1];
	c->rfd = out[0];
	c->child = pid;
	return 0;
}

/* The CLI dialers build a sh command line: $DOCKER and $KUBECTL may hold
 * a command with arguments ("sudo docker"), as a shell reads them, and
 * every name from the target goes in single quotes, so a name holding
 * quotes or $(...) is a name, never shell text. */
struct cmdline {
	char buf[1024];
	size_t n;
	bool overflow;
};

static void cl_raw(struct cmdline *l, const char *s)
{
	size_t k = strlen(s);

	if (l->n + k >= sizeof(l->buf)) {
		l->overflow = true;
		return;
	}
	memcpy(l->buf + l->n, s, k + 1);
	l->n += k;
}

/* " 'S'" for the first n bytes of s. */
static void cl_word(struct cmdline *l, const char *s, size_t n)
{
	char one[2] = {0, 0};
	size_t i;

	cl_raw(l, " '");
	for (i = 0; i < n; i++) {
		one[0] = s[i];
		cl_raw(l, s[i] == '\'' ? "'\\''" : one);
	}
	cl_raw(l, "'");
}

static int dial_cmdline(struct rc_conn *c, struct cmdline *l, const char *t)
{
	if (l->overflow)
		return fail(c, -ENAMETOOLONG, "target too long: %s", t);
	return dial_cmd(c, l->buf);
}

/* docker:CTR: ${DOCKER:-docker} exec -i CTR /sbin/runner attach */
static int dial_docker(struct rc_conn *c, const char *ctr)
{
	struct cmdline l = {.n = 0};

	if (!*ctr)
		return fail(c, -EINVAL, "want docker:CONTAINER");
	cl_raw(&l, "exec ${DOCKER:-docker} exec -i");
	cl_word(&l, ctr, strlen(ctr));
	cl_raw(&l, " /sbin/runner attach");
	return dial_cmdline(c, &l, ctr);
}

/* kubectl:[NS/]POD[:CTR]: ${KUBECTL:-kubectl} [--context C] exec -i
 * [-n NS] POD [-c CTR] -- /sbin/runner attach; C from --context
 * ($RUNNER_KUBE_CONTEXT). */
static int dial_kubectl(struct rc_conn *c, const char *spec)
{
	const char *ctx = getenv("RUNNER_KUBE_CONTEXT");
	const char *slash = strchr(spec, '/'), *pod = slash ? slash + 1 : spec;
	const char *colon = strchr(pod, ':');
	size_t podlen = colon ? (size_t)(colon - pod) : strlen(pod);
	struct cmdline l = {.n = 0};

	if (!podlen || (slash && slash == spec))
		return fail(c, -EINVAL,
			    "want kubectl:[NS/]POD[:CONTAINER], got kubectl:%s",
			    spec);
	cl_raw(&l, "exec ${KUBECTL:-kubectl}");
	if (ctx && *ctx) {
		cl_raw(&l, " --context");
		cl_word(&l, ctx, strlen(ctx));
	}
	cl_raw(&l, " exec -i");
	if (slash) {
		cl_raw(&l, " -n");
		cl_word(&l, spec, (size_t)(slash - spec));
	}
	cl_word(&l, pod, podlen);
	if (colon) {
		cl_raw(&l, " -c");
		cl_word(&l, colon + 1, strlen(colon + 1));
	}
	cl_raw(&l, " -- /sbin/runner attach");
	return dial_cmdline(c, &l, spec);
}

static int dial(struct rc_conn *c, const char *t)
{
	if (!strncmp(t, "unix:", 5))
		return dial_unix_checked(c, t + 5);
	if (!strncmp(t, "vsock:", 6))
		return dial_vsock(c, t + 6);
	if (!strncmp(t, "fc:", 3))
		return dial_fc(c, t + 3);
	if (!strncmp(t, "cmd:", 4))
		return dial_cmd(c, t + 4);
	if (!strncmp(t, "docker:", 7))
		return dial_docker(c, t + 7);
	if (!strncmp(t, "kubectl:", 8))
		return dial_kubectl(c, t + 8);
	if (t[0] == '/')
		return dial_unix_checked(c, t);
	return fail(
	    c, -EINVAL,
	    "unknown target '%s' (unix:PATH, cmd:COMMAND, docker:CTR, kubectl:[NS/]POD[:CTR], vsock:CID:PORT, fc:UDS:PORT)",
	    t);
}

/* ---- frames ---- */

int rc_write_all(int fd, const void *p, size_t n)
{
	const uint8_t *b = p;
	ssize_t w;

	while (n) {
		w = write(fd, b, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		b += w;
		n -= (size_t)w;
	}
	return 0;
}

int rc_send(struct rc_conn *c, uint32_t stream, uint8_t type, uint8_t flags,
	    const void *payload, size_t n)
{
	struct wire_hdr h = {(uint32_t)n, stream, type, flags};
	uint8_t hdr[WIRE_HDR_SIZE];
	int r;

	if (n > c->max_frame)
		return fail(
		    c, -EMSGSIZE,
		    "request of %zu bytes exceeds the runner's frame limit %u",
		    n, c->max_frame);
	wire_hdr_encode(hdr, &h);
	if ((r = rc_write_all(c->wfd, hdr, sizeof(hdr))) < 0 ||
	    (r = rc_write_all(c->wfd, payload, n)) < 0)
		return fail(c, r, "send: %s", strerror(-r));
	return 0;
}

int rc_send_fields(struct rc_conn *c, uint32_t stream, uint8_t type,
		   const struct wire_buf *b)
{
	if (b->overflow)
		return fail(c, -EMSGSIZE, "request too large");
	return rc_send(c, stream, type, 0, b->p, b->len);
}

int rc_send_data(struct rc_conn *c, uint32_t stream, uint64_t offset,
		 const void *p, size_t n, bool fin)
{
	uint8_t pre[WIRE_DATA_PREFIX], hdr[WIRE_HDR_SIZE];
	struct wire_hdr h = {(uint32_t)(n + WIRE_DATA_PREFIX), stream, WT_DATA,
			     fin ? WF_FIN : 0};
	unsigned i;
	int r;

	wire_data_prefix(pre, WCH_STDIN, offset);
	wire_hdr_encode(hdr, &h);
	if ((r = rc_write_all(c->wfd, hdr, sizeof(hdr))) < 0 ||
	    (r = rc_write_all(c->wfd, pre, sizeof(pre))) < 0 ||
	    (r = rc_write_all(c->wfd, p, n)) < 0)
		return fail(c, r, "send: %s", strerror(-r));
	for (i = 0; i < RC_CREDIT_SLOTS; i++)
		if (c->slots[i].stream == stream)
			c->slots[i].credit -= (int64_t)n;
	return 0;
}

#define PUMP_CHUNK 65536

bool rc_pump(struct rc_conn *c, uint32_t id, int fd, uint64_t *off)
{
	static uint8_t buf[PUMP_CHUNK];
	int64_t credit = rc_credit(c, id);
	ssize_t n;

	if (credit <= 0)
		return true;
	n = read(fd, buf, credit < PUMP_CHUNK ? (size_t)credit : PUMP_CHUNK);
	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return true;
	if (n <= 0) {
		rc_send_data(c, id, *off, buf, 0, true);
		return false;
	}
	rc_send_data(c, id, *off, buf, (size_t)n, false);
	*off += (uint64_t)n;
	return true;
}

int rc_follow(struct rc_conn *c, uint32_t id, int in_fd, rc_frame_fn fn,
	      void *ctx)
{
	struct pollfd pfd[2] = {{.fd = c->rfd, .events = POLLIN},
				{.fd = -1, .events = POLLIN}};
	bool with_stdin = in_fd >= 0;
	struct rc_frame f;
	uint64_t off = 0;
	int r;

	if (with_stdin)
		rc_track(c, id);
	for (;;) {
		while ((r = rc_recv_timeout(c, &f, 0)) == 0) {
			if (f.h.stream == 0 && f.h.type == WT_ERROR)
				return rc_error_of(c, &f), -EPROTO;
			if ((r = fn(ctx, &f)) != RC_CONTINUE)
				return r;
		}
		if (r != -EAGAIN)
			return r;
		if ((r = fn(ctx, NULL)) != RC_CONTINUE)
			return r;
		/* Stdin waits while the runner grants no credit. */
		pfd[1].fd = with_stdin && rc_credit(c, id) > 0 ? in_fd : -1;
		if (poll(pfd, 2, -1) < 0 && errno != EINTR)
			return fail(c, -errno, "poll: %s", strerror(errno));
		if (pfd[1].fd >= 0 &&
		    (pfd[1].revents & (POLLIN | POLLHUP | POLLERR | POLLNVAL)))
			with_stdin = rc_pump(c, id, in_fd, &off);
	}
}

void rc_track(struct rc_conn *c, uint32_t stream)
{
	unsigned i;

	for (i = 0; i < RC_CREDIT_SLOTS; i++) {
		if (c->slots[i].stream == 0 || c->slots[i].stream == stream) {
			c->slots[i].stream = stream;
			c->slots[i].credit = c->peer_window;
			return;
		}
	}
}

int64_t rc_credit(const struct rc_conn *c, uint32_t stream)
{
	unsigned i;

	for (i = 0; i < RC_CREDIT_SLOTS; i++)
		if (c->slots[i].stream == stream)
			return c->slots[i].credit;
	return 0;
}

static void credit_add(struct rc_conn *c, uint32_t stream, uint32_t n)
{
	unsigned i;

	for (i = 0; i < RC_CREDIT_SLOTS; i++)
		if (c->slots[i].stream == stream)
			c->slots[i].credit += n;
}

/* Return DATA credit for what the caller consumed since the last call.
 * Batched to a quarter window so a bulk transfer costs few WINDOWs. */
static int credit_return(struct rc_conn *c, bool force)
{
	uint8_t p[4];
	int r;

	if (!c->owed || (!force && c->owed < RC_WINDOW / 4))
		return 0;
	wire_put32(p, c->owed);
	r = rc_send(c, c->owed_stream, WT_WINDOW, 0, p, 4);
	c->owed = 0;
	return r;
}

static int fill(struct rc_conn *c, size_t want, int ms)
{
	struct pollfd pfd = {.fd = c->rfd, .events = POLLIN};
	ssize_t n;

	while (c->len < want) {
		if (ms >= 0) {
			int r = poll(&pfd, 1, ms);
			if (r == 0)
				return -EAGAIN;
			if (r < 0 && errno != EINTR)
				return -errno;
		}
		n = read(c->rfd, c->buf + c->len, c->cap - c->len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return fail(c, -errno, "receive: %s", strerror(errno));
		}
		if (n == 0)
			return fail(c, -EPIPE,
				    "the runner closed the connection");
		c->len += (size_t)n;
	}
	return 0;
}

int rc_recv_timeout(struct rc_conn *c, struct rc_frame *f, int ms)
{
	struct wire_hdr h;
	int r;

	if (c->consumed) {
		memmove(c->buf, c->buf + c->consumed, c->len - c->consumed);
		c->len -= c->consumed;
		c->consumed = 0;
	}
	if ((r = fill(c, WIRE_HDR_SIZE, ms)) < 0)
		return r;
	r = wire_hdr_decode(c->buf, c->len, RC_MAX_FRAME, &h);
	if (r < 0)
		return fail(c, -EPROTO, "bad frame header from the runner");
	if ((r = fill(c, WIRE_HDR_SIZE + h.len, ms)) < 0)
		return r;
	f->h = h;
	f->p = c->buf + WIRE_HDR_SIZE;
	c->consumed = WIRE_HDR_SIZE + h.len;
	if (h.type == WT_WINDOW && h.len == 4)
		credit_add(c, h.stream, wire_get32(f->p));
	if (h.type == WT_DATA && h.len > WIRE_DATA_PREFIX) {
		if (c->owed && c->owed_stream != h.stream &&
		    (r = credit_return(c, true)) < 0)
			return r;
		c->owed_stream = h.stream;
		c->owed += h.len - WIRE_DATA_PREFIX;
		if ((r = credit_return(c, false)) < 0)
			return r;
	}
	return 0;
}

int rc_recv(struct rc_conn *c, struct rc_frame *f)
{
	return rc_recv_timeout(c, f, -1);
}

uint64_t rc_field_uint(const struct rc_frame *f, uint16_t tag, uint64_t dflt)
{
	struct wire_field fl;
	uint64_t v;

	if (wire_find(f->p, f->h.len, tag, &fl) > 0 && wire_uint(&fl, &v) == 0)
		return v;
	return dflt;
}

uint32_t rc_new_stream(struct rc_conn *c)
{
	if (++c->next_stream == 0)
		c->next_stream = 1;
	return c->next_stream;
}

int rc_error_of(struct rc_conn *c, const struct rc_frame *f)
{
	struct wire_iter it;
	struct wire_field fl;
	uint64_t code = E_INTERNAL, err = 0;
	int mlen = 0;
	const char *msg = "";

	wire_iter_init(&it, f->p, f->h.len);
	while (wire_next(&it, &fl) > 0) {
		if (fl.tag == T_CODE)
			wire_uint(&fl, &code);
		else if (fl.tag == T_ERRNO)
			wire_uint(&fl, &err);
		else if (fl.tag == T_MESSAGE) {
			msg = (const char *)fl.val;
			mlen = (int)(fl.len > 200 ? 200 : fl.len);
		}
	}
	snprintf(c->err, sizeof(c->err), "%s: %.*s", wire_err_name((int)code),
		 mlen, msg);
	return code ? (int)code : E_INTERNAL;
}

int rc_call_data(struct rc_conn *c, uint8_t type, const struct wire_buf *req,
		 rc_data_fn on_data, void *ctx, struct rc_frame *out)
{
	uint32_t id = rc_new_stream(c);
	uint8_t ch;
	uint64_t off;
	const uint8_t *d;
	size_t n;
	int r;

	if ((r = rc_send_fields(c, id, type, req)) < 0)
		return r;
	for (;;) {
		if ((r = rc_recv(c, out)) < 0)
			return r;
		if (out->h.stream == 0 && out->h.type == WT_ERROR)
			return rc_error_of(c, out);
		if (out->h.stream != id)
			continue;
		if (out->h.type == WT_RESULT)
			return 0;
		if (out->h.type == WT_ERROR)
			return rc_error_of(c, out);
		if (!on_data || out->h.type != WT_DATA ||
		    wire_data_decode(out->p, out->h.len, &ch, &off, &d, &n) <
			0 ||
		    ch != WCH_STDOUT || !n)
			continue;
		if (on_data(ctx, d, n) < 0) {
			snprintf(c->err, sizeof(c->err), "cannot write output");
			return -EPIPE;
		}
	}
}

int rc_call(struct rc_conn *c, uint8_t type, const struct wire_buf *req,
	    struct rc_frame *out)
{
	return rc_call_data(c, type, req, NULL, NULL, out);
}

/* ---- HELLO ---- */

static int hello_read(struct rc_conn *c, const struct rc_frame *f)
{
	char why[sizeof(c->err)];
	struct wire_iter it;
	struct wire_field fl;
	uint64_t v;

	if (f->h.type == WT_ERROR) {
		/* c->err cannot be both the source and the target of fail(). */
		rc_error_of(c, f);
		memcpy(why, c->err, sizeof(why));
		return fail(c, -ECONNREFUSED, "runner refused HELLO: %s", why);
	}
	if (f->h.type != WT_HELLO || f->h.stream != 0)
		return fail(c, -EPROTO, "expected HELLO, got frame type 0x%02x",
			    f->h.type);
	c->max_frame = WIRE_MAX_FRAME_MIN;
	c->peer_window = WIRE_WINDOW_DEFAULT;
	wire_iter_init(&it, f->p, f->h.len);
	while (wire_next(&it, &fl) > 0) {
		if (fl.tag == T_MAX_FRAME && wire_uint(&fl, &v) == 0)
			c->max_frame = (uint32_t)v;
		else if (fl.tag == T_WINDOW && wire_uint(&fl, &v) == 0)
			c->peer_window = (uint32_t)v;
		else if (fl.tag == T_SOFTWARE)
			snprintf(c->software, sizeof(c->software), "%.*s",
				 (int)fl.len, (const char *)fl.val);
	}
	return 0;
}

int rc_connect(struct rc_conn *c, const char *target,
	       const struct rc_token *token)
{
	const char *env = token ? NULL : getenv("RUNNER_TOKEN");
	uint8_t buf[512];
	struct wire_buf b;
	struct rc_frame f;
	int r;

	memset(c, 0, sizeof(*c));
	c->rfd = c->wfd = -1;
	c->max_frame = WIRE_MAX_FRAME_MIN;
	c->cap = WIRE_HDR_SIZE + RC_MAX_FRAME;
	c->buf = malloc(c->cap);
	if (!c->buf)
		return fail(c, -ENOMEM, "out of memory");
	/* A runner that vanishes must give us EPIPE, not kill us. */
	signal(SIGPIPE, SIG_IGN);
	if ((r = dial(c, target)) < 0)
		return r;
	wb_init(&b, buf, sizeof(buf));
	wb_u16(&b, T_VERSION, WIRE_VERSION);
	wb_str(&b, T_SOFTWARE, "runnerctl 0.1.0");
	wb_u32(&b, T_MAX_FRAME, RC_MAX_FRAME);
	wb_u32(&b, T_WINDOW, RC_WINDOW);
	if (token)
		wb_bytes(&b, T_TOKEN, token->bytes, token->len);
	else if (env &&
		 *env) /* the runner's rule: one trailing \n is not in it */
		wb_bytes(&b, T_TOKEN, env,
			 strlen(env) - (env[strlen(env) - 1] == '\n'));
	/* A peer that exits before reading (a CLI that failed: pod not found)
	 * shows as EPIPE on the send or on the receive, whichever comes
	 * first: the same event, one message. */
	if ((r = rc_send(c, 0, WT_HELLO, 0, b.p, b.len)) < 0 ||
	    (r = rc_recv(c, &f)) < 0)
		return r == -EPIPE
			   ? fail(
				 c, r,
				 "runner at %s closed the connection during HELLO",
				 target)
			   : r;
	return hello_read(c, &f);
}

void rc_close(struct rc_conn *c)
{
	int st;

	if (c->wfd >= 0 && c->wfd != c->rfd)
		close(c->wfd);
	if (c->rfd >= 0)
		close(c->rfd);
	c->rfd = c->wfd = -1;
	if (c->child > 0)
		waitpid(c->child, &st, 0);
	c->child = 0;
	free(c->buf);
	c->buf = NULL;
}
