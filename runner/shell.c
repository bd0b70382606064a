/* shell.c - shell sessions: the registry and the small requests (OPEN,
 * CLOSE, LIST, STDIN, RESIZE, SIGNAL).  EXEC lives in shell_exec.c, the
 * shell process in shell_pty.c; shell_internal.h explains the technique. */
#include "shell_internal.h"

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#define ENV_MAX	     256
#define ROWS_DEFAULT 24
#define COLS_DEFAULT 80

/* ---- registry ---- */

struct session *session_find(struct runner *rt, const char *name, size_t n)
{
	struct shell_state *sh = rt->shell;
	unsigned i;

	for (i = 0; sh && i < sh->n; i++)
		if (strlen(sh->v[i]->name) == n &&
		    !memcmp(sh->v[i]->name, name, n))
			return sh->v[i];
	return NULL;
}

static void spec_free(struct session_spec *sp)
{
	char **e;

	for (e = sp->env; e && *e; e++)
		free(*e);
	free(sp->env);
	free(sp->shell);
	free(sp->cwd);
}

static void session_free_deferred(struct deferred *d)
{
	struct session *ss = container_of(d, struct session, free_d);

	spec_free(&ss->spec);
	free(ss->in_q);
	free(ss);
}

/* Stop the shell and take the session out of the registry. */
static void session_stop(struct session *ss)
{
	struct shell_state *sh = ss->sh;
	unsigned i;

	if (ss->ex.phase != EX_IDLE)
		exec_abort(ss, E_CANCELLED, "the session was closed");
	if (ss->pid > 0) {
		child_unwatch(ss->rt, &ss->child);
		/* The whole group; closing the master then hangs up the jobs
		 * in other groups.  The reaper collects them as orphans. */
		kill(-ss->pid, SIGKILL);
		kill(ss->pid, SIGKILL);
		ss->pid = 0;
	}
	session_teardown(ss);
	timer_cancel(&ss->rt->loop, &ss->snap_timer);
	if (ss->cmd_fd >= 0)
		close(ss->cmd_fd);
	if (ss->snap_fd >= 0)
		close(ss->snap_fd);
	ss->cmd_fd = ss->snap_fd = -1;
	for (i = 0; i < sh->n; i++) {
		if (sh->v[i] == ss) {
			sh->v[i] = sh->v[--sh->n];
			break;
		}
	}
}

/* Its watches may have events queued in this epoll batch, so the memory
 * goes after the batch. */
void session_free(struct session *ss)
{
	session_stop(ss);
	loop_defer(&ss->rt->loop, &ss->free_d, session_free_deferred);
}

static bool name_ok(const uint8_t *p, size_t n)
{
	size_t i;

	if (n == 0 || n > SESSION_NAME_MAX)
		return false;
	for (i = 0; i < n; i++)
		if (p[i] <= 0x20 || p[i] == 0x7f || p[i] == '/')
			return false;
	return true;
}

/* ---- SHELL_OPEN ---- */

struct open_req {
	const uint8_t *name;
	size_t name_len;
	struct session_spec spec;
	unsigned nenv;
};

static char *dup_field(const struct wire_field *f)
{
	char *s;

	if (memchr(f->val, 0, f->len))
		return NULL;
	s = malloc(f->len + 1);
	if (s) {
		memcpy(s, f->val, f->len);
		s[f->len] = 0;
	}
	return s;
}

/* A path-like string field, copied; 0 when absent. */
static int open_str(struct stream *s, const uint8_t *p, size_t n, uint16_t tag,
		    char **out)
{
	struct wire_field f;
	int r = req_str(s, p, n, tag, PATH_MAX, &f);

	if (r > 0 && !(*out = dup_field(&f))) {
		stream_error_errno(s, ENOMEM, "SHELL_OPEN");
		return -1;
	}
	return r;
}

static int open_env(struct stream *s, const uint8_t *p, size_t n,
		    struct open_req *q)
{
	struct wire_iter it;
	struct wire_field f;

	wire_iter_init(&it, p, n);
	while (wire_next(&it, &f) > 0) {
		if (f.tag != T_ENV)
			continue;
		if (q->nenv == ENV_MAX) {
			stream_error(s, E_LIMIT, 0,
				     "more than 256 ENV entries");
			return -1;
		}
		if (!memchr(f.val, '=', f.len) || f.val[0] == '=' ||
		    memchr(f.val, 0, f.len)) {
			stream_error(s, E_BAD_REQUEST, 0,
				     "ENV entries are K=V without NUL");
			return -1;
		}
		if (!(q->spec.env[q->nenv] = dup_field(&f))) {
			stream_error_errno(s, ENOMEM, "SHELL_OPEN");
			return -1;
		}
		q->nenv++;
	}
	return 0;
}

/* 0, or -1 after answering the error.  Allocates into q->spec. */
static int open_parse(struct stream *s, const uint8_t *p, size_t n,
		      struct open_req *q)
{
	struct wire_field f;
	uint64_t login, keep;
	int r;

	*q = (struct open_req){
	    .spec = {.rows = ROWS_DEFAULT, .cols = COLS_DEFAULT}};
	q->spec.env = calloc(ENV_MAX + 1, sizeof(char *));
	if (!q->spec.env) {
		stream_error_errno(s, ENOMEM, "SHELL_OPEN");
		return -1;
	}
	if ((r = req_bytes(s, p, n, T_SESSION, SESSION_NAME_MAX, &f)) < 0 ||
	    open_str(s, p, n, T_SHELL, &q->spec.shell) < 0 ||
	    open_str(s, p, n, T_CWD, &q->spec.cwd) < 0 ||
	    req_uint(s, p, n, T_LOGIN, 0, 0, REQ_ANY, &login) < 0 ||
	    req_uint(s, p, n, T_KEEP_OPTIONS, 0, 0, REQ_ANY, &keep) < 0 ||
	    req_winsize(s, p, n, &q->spec.rows, &q->spec.cols) < 0 ||
	    open_env(s, p, n, q) < 0)
		return -1;
	q->spec.login = login != 0;
	q->spec.keep_options = keep != 0;
	if (!r || !name_ok(f.val, f.len)) {
		stream_error(
		    s, E_BAD_REQUEST, 0,
		    "SESSION is required: 1..64 printable bytes without spaces or '/'");
		return -1;
	}
	q->name = f.val;
	q->name_len = f.len;
	return 0;
}

static struct session *session_new(struct runner *rt, const char *name,
				   size_t n)
{
	struct session *ss = calloc(1, sizeof(*ss));

	if (!ss)
		return NULL;
	ss->rt = rt;
	ss->sh = rt->shell;
	memcpy(ss->name, name, n);
	ss->ptm = ss->pts = ss->script_fd = ss->cmd_fd = ss->snap_fd = -1;
	return ss;
}

/* Create and start a session; takes ownership of spec.  0 or -errno.
 * keep: register it even if the shell does not start (the next EXEC
 * tries again and reports why). */
static int session_create(struct runner *rt, const char *name, size_t n,
			  struct session_spec *spec, bool keep,
			  struct session **out)
{
	struct shell_state *sh = rt->shell;
	struct session *ss = session_new(rt, name, n);
	int r;

	if (!ss) {
		spec_free(spec);
		return -ENOMEM;
	}
	ss->spec = *spec;
	if ((r = session_spawn(ss)) < 0 && !keep) {
		if (ss->cmd_fd >= 0)
			close(ss->cmd_fd);
		if (ss->snap_fd >= 0)
			close(ss->snap_fd);
		spec_free(&ss->spec);
		free(ss);
		return r;
	}
	sh->v[sh->n++] = ss;
	*out = ss;
	return r;
}

void shell_req_open(struct stream *s, const uint8_t *p, size_t n)
{
	struct runner *rt = stream_runner(s);
	struct session *ss;
	struct open_req q;
	uint8_t buf[256];
	struct wire_buf b;
	int r;

	if (open_parse(s, p, n, &q) < 0) {
		spec_free(&q.spec);
		return;
	}
	if (session_find(rt, (const char *)q.name, q.name_len)) {
		spec_free(&q.spec);
		stream_error(s, E_EXISTS, 0, "session '%.*s' already exists",
			     (int)q.name_len, q.name);
		return;
	}
	if (rt->shell->n >= rt->cfg.max_sessions) {
		spec_free(&q.spec);
		stream_error(s, E_LIMIT, 0, "session limit reached (%u)",
			     rt->cfg.max_sessions);
		return;
	}
	r = session_create(rt, (const char *)q.name, q.name_len, &q.spec, false,
			   &ss);
	if (r < 0) {
		stream_error(s,
			     r == -ENOENT || r == -ENOTDIR
				 ? E_EXEC
				 : wire_err_from_errno(-r),
			     -r, "cannot start the shell: %s", strerror(-r));
		return;
	}
	wb_init(&b, buf, sizeof(buf));
	wb_str(&b, T_SESSION, ss->name);
	wb_u32(&b, T_SHELL_PID, (uint32_t)ss->pid);
	stream_result(s, &b); /* small: it always goes */
}

/* ---- requests naming an existing session ---- */

/* The session a request names (default "main"), or NULL after an ERROR. */
struct session *req_session(struct stream *s, const uint8_t *p, size_t n)
{
	struct wire_field f;
	struct session *ss;
	int r = req_bytes(s, p, n, T_SESSION, SIZE_MAX, &f);

	if (r < 0)
		return NULL;
	if (r == 0) {
		f.val = (const uint8_t *)"main";
		f.len = 4;
	}
	ss = session_find(stream_runner(s), (const char *)f.val, f.len);
	if (!ss)
		stream_error(s, E_NOT_FOUND, 0, "no session named '%.*s'",
			     (int)(f.len > 64 ? 64 : f.len), f.val);
	return ss;
}

static void result_empty(struct stream *s)
{
	struct wire_buf b;

	wb_init(&b, NULL, 0);
	stream_result(s, &b); /* small: it always goes */
}

void shell_req_close(struct stream *s, const uint8_t *p, size_t n)
{
	struct session *ss = req_session(s, p, n);

	if (!ss)
		return;
	session_free(ss);
	result_empty(s);
}

static void list_entry(struct wire_buf *b, const struct session *ss)
{
	size_t mark = wb_open(b, T_ENTRY);

	wb_str(b, T_SESSION, ss->name);
	wb_u32(b, T_SHELL_PID, ss->pid > 0 ? (uint32_t)ss->pid : 0);
	wb_u8(b, T_BUSY, ss->ex.phase != EX_IDLE && ss->ex.phase != EX_DONE);
	if (ss->spec.shell)
		wb_str(b, T_SHELL, ss->spec.shell);
	session_put_cwd(ss, b);
	wb_close(b, mark);
}

void shell_req_list(struct stream *s, const uint8_t *p, size_t n)
{
	struct shell_state *sh = stream_runner(s)->shell;
	size_t cap = 64 + (size_t)sh->n * (PATH_MAX + 256);
	struct wire_buf b;
	uint8_t *buf;
	unsigned i;

	(void)p;
	(void)n;
	if (!(buf = malloc(cap))) {
		stream_error_errno(s, ENOMEM, "SHELL_LIST");
		return;
	}
	wb_init(&b, buf, cap);
	wb_u32(&b, T_MAX_SESSIONS, stream_runner(s)->cfg.max_sessions);
	for (i = 0; i < sh->n; i++)
		list_entry(&b, sh->v[i]);
	if (stream_result(s, &b) < 0)
		stream_error(s, E_LIMIT, 0,
			     "the session list does not fit a frame");
	free(buf);
}

void shell_req_stdin(struct stream *s, const uint8_t *p, size_t n)
{
	struct session *ss = req_session(s, p, n);
	struct wire_field data;
	uint64_t v;

	if (!ss || req_uint(s, p, n, T_EOF, 0, 0, REQ_ANY, &v) < 0 ||
	    req_bytes(s, p, n, T_DATA, SIZE_MAX, &data) < 0)
		return;
	if (ss->ex.phase != EX_RUNNING && ss->ex.phase != EX_QUEUED) {
		stream_error(s, E_BAD_REQUEST, 0,
			     "session %s runs no command to take stdin",
			     ss->name);
		return;
	}
	if (data.len > STDIN_REQ_MAX ||
	    ss->in_len + data.len > STDIN_BACKLOG_MAX) {
		stream_error(
		    s, E_LIMIT, 0,
		    "stdin backlog full: the command is not reading (at most %d bytes per request)",
		    STDIN_REQ_MAX);
		return;
	}
	if (stdin_queue(ss, data.val, data.len, v != 0) < 0) {
		stream_error_errno(s, ENOMEM, "SHELL_STDIN");
		return;
	}
	result_empty(s);
}

void shell_req_resize(struct stream *s, const uint8_t *p, size_t n)
{
	struct session *ss = req_session(s, p, n);
	uint16_t rows = 0, cols = 0;
	struct winsize ws = {0};

	if (!ss || req_winsize(s, p, n, &rows, &cols) < 0)
		return;
	ss->spec.rows = rows;
	ss->spec.cols = cols;
	ws.ws_row = rows;
	ws.ws_col = cols;
	/* The kernel sends SIGWINCH to the foreground group. */
	if (ss->ptm >= 0 && ioctl(ss->ptm, TIOCSWINSZ, &ws) < 0) {
		stream_error_errno(s, errno, "TIOCSWINSZ");
		return;
	}
	result_empty(s);
}

void shell_req_signal(struct stream *s, const uint8_t *p, size_t n)
{
	struct session *ss = req_session(s, p, n);
	uint64_t sig, cancel, grace;
	uint8_t buf[16];
	struct wire_buf b;
	int r;

	if (!ss || (r = req_uint(s, p, n, T_SIGNAL, 0, 1, 64, &sig)) < 0 ||
	    req_uint(s, p, n, T_CANCEL, 0, 0, REQ_ANY, &cancel) < 0 ||
	    req_uint(s, p, n, T_GRACE_MS, EXEC_INT_GRACE_MS, 0, UINT32_MAX,
		     &grace) < 0)
		return;
	if (!r && !cancel) {
		stream_error(s, E_BAD_REQUEST, 0,
			     "SIGNAL (1..64) or CANCEL is required");
		return;
	}
	r = cancel ? exec_cancel_any(ss, (uint32_t)grace)
		   : exec_signal(ss, (int)sig);
	if (r < 0) {
		stream_error_errno(s, -r, "kill");
		return;
	}
	wb_init(&b, buf, sizeof(buf));
	wb_u8(&b, T_BUSY, (uint8_t)r);
	stream_result(s, &b); /* small: it always goes */
}

/* ---- init ---- */

int shell_init(struct runner *rt)
{
	struct session_spec spec = {.rows = ROWS_DEFAULT, .cols = COLS_DEFAULT};
	struct shell_state *sh = calloc(1, sizeof(*sh));
	struct session *ss;
	int r;

	if (!sh || !(sh->v = calloc(rt->cfg.max_sessions, sizeof(*sh->v)))) {
		free(sh);
		return -ENOMEM;
	}
	rt->shell = sh;
	if (rt->cfg.no_default_session)
		return 0;
	if (rt->cfg.shell && !(spec.shell = strdup(rt->cfg.shell)))
		return -ENOMEM;
	/* A runner without a working shell still serves files and
	 * processes: the failure is logged, and EXEC says so. */
	r = session_create(rt, "main", 4, &spec, true, &ss);
	if (r < 0)
		log_warn("default session: cannot start the shell: %s",
			 strerror(-r));
	return 0;
}

void shell_fini(struct runner *rt)
{
	struct shell_state *sh = rt->shell;
	struct session *ss;

	if (!sh)
		return;
	/* The loop has ended: no batch can still point at a watch. */
	while (sh->n) {
		ss = sh->v[sh->n - 1];
		session_stop(ss);
		session_free_deferred(&ss->free_d);
	}
	free(sh->v);
	free(sh);
	rt->shell = NULL;
}

unsigned shell_count(const struct runner *rt)
{
	return rt->shell ? rt->shell->n : 0;
}
