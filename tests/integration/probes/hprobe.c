/* hprobe - what a program inside the sandbox can do.  Static (musl), so
 * it runs the same under any user and without a libc in the image.
 *
 *   hprobe checks OUT [wait]  one "name=result" line per check into OUT:
 *                             "ok", "errno=N" or "signal=N", after the
 *                             "status.Field=value" lines of
 *                             /proc/self/status; with "wait", stay until
 *                             SIGTERM (then exit 0)
 *   hprobe id OUT             "uid=N euid=N" and the status lines (run
 *                             it setuid-root to see it gain nothing)
 *
 * Each check runs in a child of its own, so one that is killed (the
 * foreign-ABI syscalls) does not end the others. */
#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/personality.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#define AF_VSOCK_ 40
#define AF_ALG_	  38
#define X32_BIT	  0x40000000

static int fail(void)
{
	return errno ? errno : 255;
}

static int c_unshare_user(void)
{
	return unshare(CLONE_NEWUSER) ? fail() : 0;
}

static int c_unshare_mount(void)
{
	return unshare(CLONE_NEWNS) ? fail() : 0;
}

static int c_mount_tmpfs(void)
{
	/* In a private mount namespace when we are allowed to: never
	 * touch the test machine's /mnt. */
	if (unshare(CLONE_NEWNS) == 0)
		mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL);
	return mount("x", "/mnt", "tmpfs", 0, NULL) ? fail() : 0;
}

static int c_ptrace_attach(void)
{
	pid_t pid = fork();
	int r = 0;

	if (pid == 0) {
		pause();
		_exit(0);
	}
	if (ptrace(PTRACE_ATTACH, pid, 0, 0) < 0)
		r = fail();
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	return r;
}

static int c_kexec_load(void)
{
	/* Flags no kernel accepts: even unfiltered, nothing is loaded. */
	return syscall(SYS_kexec_load, 0UL, 0UL, NULL, 0xdead0000UL) ? fail()
								     : 0;
}

static int c_reboot(void)
{
	/* A wrong magic: EINVAL when the filter lets it through. */
	return syscall(SYS_reboot, 0x1234, 0x5678, 0, NULL) ? fail() : 0;
}

static int c_clone_newns(void)
{
	long pid =
	    syscall(SYS_clone, CLONE_NEWNS | SIGCHLD, NULL, NULL, NULL, NULL);

	if (pid == 0)
		_exit(0);
	if (pid < 0)
		return fail();
	waitpid((pid_t)pid, NULL, 0);
	return 0;
}

static int c_clone3(void)
{
	struct clone_args args = {.exit_signal = SIGCHLD};
	long pid = syscall(SYS_clone3, &args, sizeof(args));

	if (pid == 0)
		_exit(0);
	if (pid < 0)
		return fail();
	waitpid((pid_t)pid, NULL, 0);
	return 0;
}

static int c_fork(void)
{
	pid_t pid = fork();
	int st;

	if (pid == 0)
		_exit(7);
	if (pid < 0 || waitpid(pid, &st, 0) < 0)
		return fail();
	return WIFEXITED(st) && WEXITSTATUS(st) == 7 ? 0 : 254;
}

#if defined(__x86_64__)
static int c_int80(void)
{
	long ret = 20; /* i386 getpid */

	__asm__ volatile("int $0x80" : "+a"(ret) : : "memory");
	return ret > 0 ? 0 : (int)-ret;
}

static int c_x32(void)
{
	return syscall(X32_BIT | SYS_getpid) < 0 ? fail() : 0;
}
#else
/* Foreign ABIs are an x86-64 matter: elsewhere the checks are moot. */
static int c_int80(void)
{
	return ENOSYS;
}

static int c_x32(void)
{
	return ENOSYS;
}
#endif

static int c_bpf(void)
{
	return syscall(SYS_bpf, 0, NULL, 0) < 0 ? fail() : 0;
}

static int c_keyctl(void)
{
	return syscall(SYS_keyctl, 0 /* GET_KEYRING_ID */, -3, 0) < 0 ? fail()
								      : 0;
}

static int c_io_uring(void)
{
	char params[120] = {0};

	return syscall(SYS_io_uring_setup, 1, params) < 0 ? fail() : 0;
}

static int c_userfaultfd(void)
{
	return syscall(SYS_userfaultfd, 0) < 0 ? fail() : 0;
}

static int sock(int family, int type)
{
	int fd = socket(family, type, 0);

	if (fd < 0)
		return fail();
	close(fd);
	return 0;
}

static int c_vsock(void)
{
	return sock(AF_VSOCK_, SOCK_STREAM);
}

static int c_alg(void)
{
	return sock(AF_ALG_, SOCK_SEQPACKET);
}

static int c_inet(void)
{
	return sock(AF_INET, SOCK_STREAM);
}

static int c_setsid_pty(void)
{
	int m, s;

	/* What the runner and its shells rely on: a PTY as the controlling
	 * terminal of a new session. */
	if (setsid() < 0 || (m = posix_openpt(O_RDWR | O_NOCTTY)) < 0 ||
	    grantpt(m) || unlockpt(m) ||
	    (s = open(ptsname(m), O_RDWR | O_NOCTTY)) < 0 ||
	    ioctl(s, TIOCSCTTY, 0) < 0)
		return fail();
	return 0;
}

static int c_tiocsti(void)
{
	char ch = 'x';
	int m, s;

	if (setsid() < 0 || (m = posix_openpt(O_RDWR | O_NOCTTY)) < 0 ||
	    grantpt(m) || unlockpt(m) || (s = open(ptsname(m), O_RDWR)) < 0)
		return 253;
	ioctl(s, TIOCSCTTY, 0);
	return ioctl(s, TIOCSTI, &ch) < 0 ? fail() : 0;
}

static int c_personality_norandom(void)
{
	return personality(ADDR_NO_RANDOMIZE) < 0 ? fail() : 0;
}

static int c_personality_linux32(void)
{
	if (personality(PER_LINUX32) < 0)
		return fail();
	personality(PER_LINUX);
	return 0;
}

static int c_personality_query(void)
{
	return personality(0xffffffff) < 0 ? fail() : 0;
}

static const struct check {
	const char *name;
	int (*fn)(void);
} checks[] = {
    {"unshare_user", c_unshare_user},
    {"unshare_mount", c_unshare_mount},
    {"mount_tmpfs", c_mount_tmpfs},
    {"ptrace_attach", c_ptrace_attach},
    {"kexec_load", c_kexec_load},
    {"reboot", c_reboot},
    {"clone_newns", c_clone_newns},
    {"clone3", c_clone3},
    {"fork", c_fork},
    {"int80", c_int80},
    {"x32", c_x32},
    {"bpf", c_bpf},
    {"keyctl", c_keyctl},
    {"io_uring", c_io_uring},
    {"userfaultfd", c_userfaultfd},
    {"socket_vsock", c_vsock},
    {"socket_alg", c_alg},
    {"socket_inet", c_inet},
    {"setsid_pty", c_setsid_pty},
    {"tiocsti", c_tiocsti},
    {"personality_norandom", c_personality_norandom},
    {"personality_linux32", c_personality_linux32},
    {"personality_query", c_personality_query},
};

static void run_check(FILE *out, const struct check *c)
{
	pid_t pid;
	int st;

	fflush(out);
	pid = fork();
	if (pid == 0) {
		errno = 0;
		_exit(c->fn());
	}
	if (pid < 0 || waitpid(pid, &st, 0) < 0)
		fprintf(out, "%s=probe-error\n", c->name);
	else if (WIFSIGNALED(st))
		fprintf(out, "%s=signal=%d\n", c->name, WTERMSIG(st));
	else if (WEXITSTATUS(st) == 0)
		fprintf(out, "%s=ok\n", c->name);
	else
		fprintf(out, "%s=errno=%d\n", c->name, WEXITSTATUS(st));
}

static void status_lines(FILE *out)
{
	static const char *const keys[] = {
	    "Uid:",    "Gid:",	  "Groups:", "CapInh:",	    "CapPrm:",
	    "CapEff:", "CapBnd:", "CapAmb:", "NoNewPrivs:", "Seccomp:",
	};
	char line[512], *v;
	size_t i, k;
	FILE *f = fopen("/proc/self/status", "r");

	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
			k = strlen(keys[i]);
			if (strncmp(line, keys[i], k))
				continue;
			for (v = line + k; *v == ' ' || *v == '\t'; v++)
				;
			fprintf(out, "status.%.*s=%s", (int)k - 1, line, v);
		}
	}
	fclose(f);
}

int main(int argc, char **argv)
{
	FILE *out;
	sigset_t set;
	size_t i;
	int sig;

	struct rlimit no_core = {0, 0};

	if (argc < 3)
		return 2;
	/* The checks that end in SIGSYS would leave core files. */
	setrlimit(RLIMIT_CORE, &no_core);
	out = fopen(argv[2], "w");
	if (!out)
		return 3;
	status_lines(out);
	if (!strcmp(argv[1], "id")) {
		fprintf(out, "uid=%d euid=%d\n", (int)getuid(), (int)geteuid());
	} else {
		for (i = 0; i < sizeof(checks) / sizeof(checks[0]); i++)
			run_check(out, &checks[i]);
	}
	fprintf(out, "done=1\n");
	fclose(out);
	if (argc > 3 && !strcmp(argv[3], "wait")) {
		sigemptyset(&set);
		sigaddset(&set, SIGTERM);
		sigprocmask(SIG_BLOCK, &set, NULL);
		sigwait(&set, &sig);
	}
	return 0;
}
