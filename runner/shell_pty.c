/* shell_pty.c - a session's shell process: PTY, script pipe, command memfd,
 * spawn and death. */
#include "child.h"
#include "proc_spawn.h"
#include "shell_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#define SHELL_ARGV_MAX 8
#define ENV_EXTRA      16
#define BOOT_MAX       1024

extern char **environ;

static void session_pty_event(struct watch *w, uint32_t events);
static void session_script_event(struct watch *w, uint32_t events);

/* ---- tokens ---- */

/* xorshift64* seeded from getrandom: tokens need to be unguessable by the
 * command's output, which never sees them before they are used. */
void session_random_token(struct session *ss, char out[MARKER_TOKEN_LEN + 1])
{
	static const char hex[] = "0123456789abcdef";
	uint64_t x;
	int i;

	if (!ss->rng && getrandom(&ss->rng, sizeof(ss->rng), GRND_NONBLOCK) !=
			    sizeof(ss->rng))
		ss->rng = now_ns() ^ ((uint64_t)getpid() << 32) ^ (uintptr_t)ss;
	ss->rng |= 1;
	ss->rng ^= ss->rng >> 12;
	ss->rng ^= ss->rng << 25;
	ss->rng ^= ss->rng >> 27;
	x = ss->rng * 0x2545F4914F6CDD1Dull;
	for (i = 0; i < MARKER_TOKEN_LEN; i++, x >>= 4)
		out[i] = hex[x & 15];
	out[MARKER_TOKEN_LEN] = 0;
}

/* ---- the lines the shell reads ---- */

/* `\builtin` and the quoted words dodge aliases and functions a user
 * may define; the marker goes to /dev/tty so `exec >file` cannot hide
 * it, and inside { } 2>/dev/null so `set -x` does not trace it.  Two
 * lines, not one list: an interrupted `.` still prints.  The second also
 * ends the options that scope to one command, and undoes CWD and ENV. */
int session_write_trigger(struct session *ss, const char *token)
{
	const char *b = ss->flavor == FLAVOR_BASH ? "\\builtin " : "";
	const char *pre = ss->ex.wrap ? ss->ex.wrap : "";
	const char *reset = ss->spec.keep_options ? ""
			    : *b ? "\\builtin set +euxo pipefail;"
				 : "set +eux;";
	const char *stdin_redir = ss->ex.with_stdin ? " </dev/tty" : "";
	char line[TRIGGER_MAX];
	int n;
	ssize_t w;

	/* bash reads a pipe a byte at a time: every byte here is a read(2)
	 * on the hot path.  The shell's own stdin is /dev/null; a command
	 * with STDIN=1 gets the terminal. */
	if (!*pre)
		n = snprintf(
		    line, sizeof(line),
		    "%s. /proc/self/fd/%d%s\n"
		    "{ %sprintf '\\033]633;D;%s;%%s\\007' \"$?\" >/dev/tty; %s } 2>/dev/null\n",
		    b, SESSION_CMD_FD, stdin_redir, b, token, reset);
	else /* CWD/ENV are put back before the marker: RESULT's CWD, read
	      * when the marker arrives, is the session's directory again. */
		n = snprintf(
		    line, sizeof(line),
		    "%s%s. /proc/self/fd/%d%s\n"
		    "{ __runner_st=$?; %s%s %sprintf '\\033]633;D;%s;%%s\\007' \"$__runner_st\" >/dev/tty; %sunset __runner_st; } 2>/dev/null\n",
		    pre, b, SESSION_CMD_FD, stdin_redir, reset,
		    pre + strlen(pre) + 1, b, token, b);
	if (n >= (int)sizeof(line))
		return -E2BIG; /* wrap_build bounds it */
	/* The shell consumed the previous trigger before printing the marker
	 * we waited for, so the pipe has room, and a write of at most
	 * PIPE_BUF is atomic: all of it or nothing. */
	w = write(ss->script_fd, line, (size_t)n);
	ss->trigger_len = n;
	ss->trigger_line1 = (int)(strchr(line, '\n') - line) + 1;
	if (w < 0)
		return -errno;
	return w == n ? 0 : -EAGAIN;
}

/* While idle: save the state for a replacement (`kill -9`, `exec bash`
 * give no EXIT trap), then the marker that makes the session ready. */
int session_write_snapshot(struct session *ss, const char *token)
{
	char line[512];
	int n =
	    snprintf(line, sizeof(line),
		     "%s\n\\builtin printf '\\033]633;D;%s;0\\007' >/dev/tty\n",
		     SNAP_CMD, token);

	return write(ss->script_fd, line, (size_t)n) == n ? 0 : -EAGAIN;
}

static void snap_timer_fn(struct timer *t)
{
	struct session *ss = container_of(t, struct session, snap_timer);
	char token[MARKER_TOKEN_LEN + 1];
	uint64_t idle_ms = (now_ns() - ss->ex.end_ns) / 1000000;

	/* Busy or gone: the next command's end arms the timer again. */
	if ((ss->ex.phase != EX_IDLE && ss->ex.phase != EX_DONE) ||
	    !ss->ready || ss->pid <= 0)
		return;
	if (idle_ms < SNAP_IDLE_MS) {
		timer_arm(&ss->rt->loop, t, SNAP_IDLE_MS - idle_ms,
			  snap_timer_fn);
		return;
	}
	session_random_token(ss, token);
	if (session_write_snapshot(ss, token) < 0)
		return;
	/* Until its marker the shell is busy: an EXEC waits (EX_QUEUED). */
	marker_init(&ss->scan, token);
	ss->scanning = ss->snapping = true;
	ss->ready = ss->snap_stale = false;
}

/* A command ended: snapshot once the session has idled a while, so the
 * back-to-back commands of an agent never wait for one.  The timer is
 * armed once per idle spell, not per command. */
void session_snap_later(struct session *ss)
{
	if (ss->flavor != FLAVOR_BASH)
		return;
	ss->snap_stale = true;
	if (!ss->snap_timer.armed)
		timer_arm(&ss->rt->loop, &ss->snap_timer, SNAP_IDLE_MS,
			  snap_timer_fn);
}

static int boot_script(const struct session *ss, const char *token, char *out,
		       size_t cap)
{
	const char *login_bash =
	    "[ -r /etc/profile ] && . /etc/profile\n"
	    "for __r in ~/.bash_profile ~/.bash_login ~/.profile; do\n"
	    " [ -r \"$__r\" ] && { . \"$__r\"; break; }\n"
	    "done; unset __r\n";
	const char *login_sh = "[ -r /etc/profile ] && . /etc/profile\n"
			       "[ -r ~/.profile ] && . ~/.profile\n";
	bool bash = ss->flavor == FLAVOR_BASH;

	/* set -m: each command gets its own process group, so SIGINT and
	 * SIGKILL reach it and not the shell.  The INT trap ends the
	 * sourced command even when the shell itself is busy in a loop.
	 * bash's EXIT trap saves the session's state when a command ends
	 * the shell (`exit`, set -e); its replacement sources it back. */
	return snprintf(
	    out, cap,
	    "exec %d<&- 0</dev/null\n"
	    "%sset -m 2>/dev/null\n"
	    "trap 'return 130 2>/dev/null' INT\n"
	    "%s%s%sprintf '\\033]633;D;%%s;0\\007' %s >/dev/tty\n",
	    SESSION_SCRIPT_FD,
	    bash ? "BASH_ARGV0=bash\nshopt -s expand_aliases\ntrap '" SNAP_CMD
		   "' EXIT\n"
		 : "",
	    ss->spec.login ? (bash ? login_bash : login_sh) : "",
	    bash && ss->restore ? "\\builtin . /proc/self/fd/63 2>/dev/null\n"
				: "",
	    bash ? "\\builtin " : "", token);
}

/* ---- argv and environment, built before the start ---- */

static int split_shell(char *cmd, char **argv, size_t max)
{
	size_t n = 0;
	char *save = NULL, *w;

	for (w = strtok_r(cmd, " \t", &save); w && n + 2 < max;
	     w = strtok_r(NULL, " \t", &save))
		argv[n++] = w;
	return (int)n;
}

static const char *env_get(char **env, const char *key)
{
	size_t k = strlen(key);
	int i = env_index(env, key, k);

	return i >= 0 ? env[i] + k + 1 : NULL;
}

/* Replace or append "K=V" in env (room for it is guaranteed by caller). */
static void env_put(char **env, size_t *n, char *kv)
{
	int i = env_index(env, kv, strcspn(kv, "="));

	if (i >= 0) {
		env[i] = kv;
		return;
	}
	env[(*n)++] = kv;
	env[*n] = NULL;
}

struct spawn_env {
	char **envp;
	char *owned[ENV_EXTRA]; /* strings we formatted */
	unsigned nowned;
	const char *home;
};

static void env_default(struct spawn_env *e, size_t *n, const char *key,
			const char *val)
{
	char *kv;

	if (env_get(e->envp, key) || e->nowned == ENV_EXTRA)
		return;
	if (asprintf(&kv, "%s=%s", key, val) < 0)
		return;
	e->owned[e->nowned++] = kv;
	env_put(e->envp, n, kv);
}

static int build_env(struct session *ss, struct spawn_env *e, const char *shell)
{
	struct passwd *pw = getpwuid(getuid());
	size_t n = 0, base = 0, extra = 0;
	char **p;

	for (p = environ; *p; p++)
		base++;
	for (p = ss->spec.env; p && *p; p++)
		extra++;
	e->envp = calloc(base + extra + ENV_EXTRA + 1, sizeof(char *));
	if (!e->envp)
		return -ENOMEM;
	for (p = environ; *p; p++)
		e->envp[n++] = *p;
	/* Agents cannot answer a pager: make `git log` print and return. */
	env_default(e, &n, "PATH", DEFAULT_PATH);
	env_default(e, &n, "TERM", "xterm-256color");
	env_default(e, &n, "HOME", pw && pw->pw_dir ? pw->pw_dir : "/");
	env_default(e, &n, "USER", pw ? pw->pw_name : "root");
	env_default(e, &n, "LOGNAME", pw ? pw->pw_name : "root");
	env_default(e, &n, "SHELL", shell);
	env_default(e, &n, "LANG", "C.UTF-8");
	env_default(e, &n, "PAGER", "cat");
	env_default(e, &n, "GIT_PAGER", "cat");
	for (p = ss->spec.env; p && *p; p++)
		env_put(e->envp, &n, *p);
	e->home = env_get(e->envp, "HOME");
	return 0;
}

static void free_env(struct spawn_env *e)
{
	while (e->nowned)
		free(e->owned[--e->nowned]);
	free(e->envp);
}

/* ---- the PTY ---- */

static int cmd_memfd(void)
{
	int fd = memfd_create("runner-command", MFD_CLOEXEC);

	/* A seccomp profile without memfd_create: an unlinked temp file. */
	if (fd < 0)
		fd = open("/tmp", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (fd < 0)
		fd = open("/dev/shm", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	return fd < 0 ? -errno : fd;
}

/* ---- the start ---- */

/* Where the shell starts: SHELL_OPEN's CWD, else --cwd, else the
 * runner's own directory (the image's WORKDIR, `docker run -w`), unless
 * that is / (no WORKDIR): then $HOME if it can be entered. */
static void start_dir(const struct session *ss, const char *home,
		      struct spawn_req *req)
{
	char root[2];

	req->cwd = ss->spec.cwd ? ss->spec.cwd : ss->rt->cfg.cwd;
	/* getcwd into two bytes succeeds for "/" only */
	if (!req->cwd && getcwd(root, sizeof(root)))
		req->cwd_try = home;
}

/* The PTY as its terminal and 0-2, the script, the command and the
 * snapshot at their fixed numbers.  Blocks until the shell execs or
 * fails (about a millisecond): the only way to turn ENOENT into an
 * error. */
static int spawn_shell(struct session *ss, int script_rd, char **argv,
		       struct spawn_env *env)
{
	static const char *const stages[] = {"terminal and fds", "chdir",
					     "execve"};
	struct spawn_req req = {
	    .argv = argv,
	    .envp = env->envp,
	    .fd = {ss->pts, ss->pts, ss->pts},
	    .ctty = ss->pts,
	    .map = {{script_rd, SESSION_SCRIPT_FD},
		    {ss->cmd_fd, SESSION_CMD_FD},
		    {ss->snap_fd, SESSION_SNAP_FD}},
	    .nmap = 3,
	};
	enum spawn_stage stage;
	pid_t pid;
	int r;

	start_dir(ss, env->home, &req);
	r = spawn_start(&req, &pid, &stage);
	if (r < 0) {
		/* A child that failed exited; the reaper takes it. */
		log_warn("session %s: starting %s: %s: %s", ss->name, argv[0],
			 stages[stage], strerror(-r));
		return r;
	}
	ss->pid = pid;
	return 0;
}

static const char *default_shell(void)
{
	if (access("/bin/bash", X_OK) == 0)
		return "/bin/bash";
	if (access("/usr/bin/bash", X_OK) == 0)
		return "/usr/bin/bash";
	return "/bin/sh";
}

static int spawn_process(struct session *ss, int script_rd)
{
	char cmdline[512], script_path[32];
	char *argv[SHELL_ARGV_MAX + 4];
	struct spawn_env env = {0};
	const char *base;
	int argc, r;

	snprintf(cmdline, sizeof(cmdline), "%s",
		 ss->spec.shell ? ss->spec.shell : default_shell());
	argc = split_shell(cmdline, argv, SHELL_ARGV_MAX);
	if (argc == 0)
		return -EINVAL;
	base = strrchr(argv[0], '/');
	base = base ? base + 1 : argv[0];
	ss->flavor = !strcmp(base, "bash") ? FLAVOR_BASH : FLAVOR_SH;
	if (ss->flavor == FLAVOR_BASH) {
		argv[argc++] = "--noprofile";
		argv[argc++] = "--norc";
	}
	snprintf(script_path, sizeof(script_path), "/proc/self/fd/%d",
		 SESSION_SCRIPT_FD);
	argv[argc++] = script_path;
	argv[argc] = NULL;
	if ((r = build_env(ss, &env, argv[0])) < 0)
		return r;
	r = spawn_shell(ss, script_rd, argv, &env);
	free_env(&env);
	return r;
}

static int spawn_pipes(struct session *ss, int *script_rd)
{
	int p[2];

	if (pipe2(p, O_CLOEXEC) < 0)
		return -errno;
	*script_rd = p[0];
	ss->script_fd = p[1];
	if (fcntl(ss->script_fd, F_SETFL, O_NONBLOCK) < 0)
		return -errno;
	/* The memfd belongs to the session, not to one shell: a command
	 * queued across a respawn keeps its text. */
	struct stat st;

	if (ss->cmd_fd < 0) {
		ss->cmd_fd = cmd_memfd();
		if (ss->cmd_fd < 0)
			return ss->cmd_fd;
		if (fstat(ss->cmd_fd, &st) < 0)
			return -errno;
		ss->cmd_ino = st.st_ino;
	}
	if (ss->snap_fd < 0 && (ss->snap_fd = cmd_memfd()) < 0)
		return ss->snap_fd;
	/* Something to restore: what the last shell saved. */
	ss->restore = fstat(ss->snap_fd, &st) == 0 && st.st_size > 0;
	return 0;
}

static int spawn_boot(struct session *ss)
{
	char boot[BOOT_MAX], token[MARKER_TOKEN_LEN + 1];
	int n;

	session_random_token(ss, token);
	n = boot_script(ss, token, boot, sizeof(boot));
	if (n < 0 || n >= (int)sizeof(boot) ||
	    write(ss->script_fd, boot, (size_t)n) != n)
		return -EIO; /* an empty pipe takes a short script at once */
	marker_init(&ss->scan, token);
	ss->scanning = true;
	ss->ready = false;
	return 0;
}

int session_spawn(struct session *ss)
{
	struct loop *l = &ss->rt->loop;
	int script_rd = -1, r;

	ss->ptm = ss->pts = ss->script_fd = -1;
	r = pty_open(ss->spec.rows, ss->spec.cols, &ss->ptm, &ss->pts);
	if (r < 0)
		goto fail;
	pty_exact_modes(ss->pts); /* fails only for a non-tty fd */
	if ((r = spawn_pipes(ss, &script_rd)) < 0)
		goto fail;
	r = spawn_process(ss, script_rd);
	close(script_rd);
	script_rd = -1;
	if (r < 0)
		goto fail;
	child_watch(ss->rt, &ss->child, ss->pid, session_child_exited);
	if ((r = spawn_boot(ss)) < 0 ||
	    (r = loop_watch(l, &ss->pty_w, ss->ptm, EPOLLIN,
			    session_pty_event)) < 0)
		goto kill;
	ss->reading = true;
	/* Events 0: a pipe's write end still reports EPOLLERR, which is how
	 * we learn the shell lost the script (`exec bash`). */
	if ((r = loop_watch(l, &ss->script_w, ss->script_fd, 0,
			    session_script_event)) < 0) {
		loop_unwatch(l, &ss->pty_w);
		goto kill;
	}
	log_debug("session %s: shell pid %d", ss->name, (int)ss->pid);
	return 0;
kill:
	child_unwatch(ss->rt, &ss->child);
	kill(ss->pid, SIGKILL);
	ss->pid = 0; /* the reaper takes it as an orphan */
fail:
	if (script_rd >= 0)
		close(script_rd);
	session_teardown(ss);
	return r;
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

/* Forget the shell's fds (the command memfd stays with the session).  Closing
 * the master hangs up whatever still holds the old terminal (background jobs of
 * a dead shell). */
void session_teardown(struct session *ss)
{
	struct loop *l = &ss->rt->loop;

	if (ss->ptm >= 0)
		loop_unwatch(l, &ss->pty_w);
	if (ss->script_fd >= 0)
		loop_unwatch(l, &ss->script_w);
	close_fd(&ss->ptm);
	close_fd(&ss->pts);
	close_fd(&ss->script_fd);
	ss->ready = ss->scanning = ss->reading = ss->snapping = false;
	ss->in_head = ss->in_len = 0;
	ss->in_line_open = false;
}

int session_fg_pgrp(const struct session *ss)
{
	pid_t pg;

	if (ss->ptm < 0)
		return -ESRCH;
	pg = tcgetpgrp(ss->ptm);
	if (pg <= 0)
		pg = ss->pid;
	return pg > 0 ? pg : -ESRCH;
}

/* A command may close or replace fd 62 (`exec 62<&-`); the shell could
 * then never run another one.  One stat per EXEC tells. */
bool session_holds_cmd(const struct session *ss)
{
	char path[40];
	struct stat st;

	snprintf(path, sizeof(path), "/proc/%d/fd/%d", (int)ss->pid,
		 SESSION_CMD_FD);
	if (stat(path, &st) < 0)
		return errno != ENOENT; /* no /proc: cannot tell, trust it */
	return st.st_ino == ss->cmd_ino;
}

static void session_update_events(struct session *ss)
{
	uint32_t ev = (ss->reading ? EPOLLIN : 0) | (ss->in_len ? EPOLLOUT : 0);

	if (ss->ptm >= 0)
		loop_modify(&ss->rt->loop, &ss->pty_w, ev);
}

void session_set_reading(struct session *ss, bool on)
{
	ss->reading = on;
	session_update_events(ss);
}

/* ---- events ---- */

static void session_pty_event(struct watch *w, uint32_t events)
{
	struct session *ss = container_of(w, struct session, pty_w);

	if (events & EPOLLOUT)
		stdin_flush(ss);
	if (events & (EPOLLIN | EPOLLHUP | EPOLLERR))
		exec_pump(ss, 16);
	session_update_events(ss);
}

static void session_script_event(struct watch *w, uint32_t events)
{
	struct session *ss = container_of(w, struct session, script_w);

	struct pollfd pfd = {.fd = ss->script_fd, .events = POLLOUT};

	/* An event of this batch may be for the pipe of a shell that has
	 * been replaced meanwhile (the watch is reused): ask the pipe now. */
	if (!(events & (EPOLLERR | EPOLLHUP)) || poll(&pfd, 1, 0) != 1 ||
	    !(pfd.revents & (POLLERR | POLLHUP)))
		return;
	/* No reader left: the shell exec'd something else (`exec bash`) and
	 * will never print a marker.  Kill it; the death respawns it. */
	loop_unwatch(&ss->rt->loop, &ss->script_w);
	log_debug("session %s: shell stopped reading its script; killing it",
		  ss->name);
	if (ss->pid > 0)
		kill(ss->pid, SIGKILL);
}

void session_child_exited(struct child *c, int wstatus)
{
	struct session *ss = container_of(c, struct session, child);
	int32_t status =
	    WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : 128 + WTERMSIG(wstatus);
	bool had_exec, quick;
	bool respawned = false;
	int unread = 0;

	/* Killed before it read the whole first line of the trigger (bash
	 * reads a pipe a byte at a time): the command never started, so it
	 * may run on the next shell instead of failing. */
	if (ss->ex.phase == EX_RUNNING &&
	    ioctl(ss->script_fd, FIONREAD, &unread) == 0 &&
	    unread > ss->trigger_len - ss->trigger_line1) {
		exec_enter(ss, EX_QUEUED);
		ss->scanning = false;
	}
	had_exec = ss->ex.phase == EX_RUNNING || ss->ex.phase == EX_QUEUED;
	log_debug("session %s: shell %d ended with status %d", ss->name,
		  (int)ss->pid, status);
	ss->pid = 0;
	/* Everything the shell wrote is already in the PTY buffer. */
	if (ss->ptm >= 0)
		exec_pump(ss, 64);
	/* Dead by itself before its bootstrap marker: it would die again.
	 * What it restored may be the cause, so the next one starts clean.
	 * SIGKILL comes from outside (a user, the OOM killer): no verdict. */
	quick = !ss->ready && !ss->snapping && status != 128 + SIGKILL;
	if (quick && ftruncate(ss->snap_fd, 0) < 0)
		(void)0; /* a memfd truncates; a lost snapshot only resets */
	session_teardown(ss);
	ss->quick_deaths = quick ? ss->quick_deaths + 1 : 0;
	/* A shell that keeps dying at birth waits for the next EXEC to try
	 * again.  None comes back while the runner stops: SIGTERM is what
	 * killed it. */
	if (ss->quick_deaths < QUICK_DEATHS_MAX && !ss->rt->shutting_down)
		respawned = session_spawn(ss) == 0;
	if (had_exec)
		exec_shell_died(ss, status, respawned);
	else if (respawned)
		ss->idle_respawned = true, ss->idle_restored = ss->restore;
}
