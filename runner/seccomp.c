/* seccomp.c - the syscall filter, loaded last (harden.c).
 *
 * An allowlist, modelled on Docker's default profile (moby
 * profiles/seccomp/default.json): the syscalls an unprivileged Linux
 * program needs are allowed, those Docker grants only with a capability
 * we never hold (mount, bpf, kexec, ptrace, ...) fail with EPERM, and
 * every other number - unknown to this table, or added to the kernel
 * after it - fails with ENOSYS, so libc falls back as on an older kernel
 * (clone3 -> clone, fchmodat2 -> fchmodat).  The filter applies to the
 * runner itself and to everything it starts; a syscall the runner or a
 * common program needs and Docker's list lacks is added with a comment.
 *
 * Syscalls of a foreign ABI (i386 via int 0x80, x32) kill the process.
 * socket(AF_VSOCK) fails with EPERM unless --allow-vsock: the runner
 * binds its vsock listener before the filter and only accepts on it.
 *
 * The program is built here as classic BPF, without libseccomp: a fixed
 * prologue (architecture, x32), four argument checks (clone, ioctl,
 * socket, personality), then the table below as ranges of equal action,
 * two instructions per range.  Linux >= 5.11 caches the allow decision
 * of every syscall whose result does not depend on its arguments.
 *
 * --seccomp strict adds: socket families other than unix, inet, inet6,
 * netlink (and vsock with --allow-vsock); personality() other than
 * PER_LINUX and the query.  protocol/PROTOCOL.md §18.6 has the rules. */
#include "harden_internal.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/sched.h>
#include <linux/seccomp.h>

#if !defined(__x86_64__)
#error "seccomp.c: the syscall table is x86_64's"
#endif

/* Numbers at or past the table's end get ENOSYS. */
#define NR_TABLE 512
#define PROG_MAX 320

/* clang-format off */
/* Docker's allowlist on x86_64 (without the caller-checked socket,
 * personality and clone, which are below, and without what Docker later
 * dropped: io_uring).  fchmodat2 added: glibc 2.39's lchmod. */
static const uint16_t allowed[] = {
    SYS_read, SYS_write, SYS_open, SYS_close, SYS_stat, SYS_fstat, SYS_lstat,
    SYS_poll, SYS_lseek, SYS_mmap, SYS_mprotect, SYS_munmap, SYS_brk,
    SYS_rt_sigaction, SYS_rt_sigprocmask, SYS_rt_sigreturn, SYS_ioctl,
    SYS_ioctl, SYS_pread64, SYS_pwrite64, SYS_readv, SYS_writev, SYS_access,
    SYS_pipe, SYS_select, SYS_sched_yield, SYS_mremap, SYS_msync,
    SYS_mincore, SYS_madvise, SYS_shmget, SYS_shmat, SYS_shmctl, SYS_dup,
    SYS_dup2, SYS_pause, SYS_nanosleep, SYS_getitimer, SYS_alarm,
    SYS_setitimer, SYS_getpid, SYS_sendfile, SYS_socket, SYS_connect,
    SYS_accept, SYS_sendto, SYS_recvfrom, SYS_sendmsg, SYS_recvmsg,
    SYS_shutdown, SYS_bind, SYS_listen, SYS_getsockname, SYS_getpeername,
    SYS_socketpair, SYS_setsockopt, SYS_getsockopt, SYS_clone, SYS_fork,
    SYS_vfork, SYS_execve, SYS_exit, SYS_wait4, SYS_kill, SYS_uname,
    SYS_semget, SYS_semop, SYS_semctl, SYS_shmdt, SYS_msgget, SYS_msgsnd,
    SYS_msgrcv, SYS_msgctl, SYS_fcntl, SYS_flock, SYS_fsync, SYS_fdatasync,
    SYS_truncate, SYS_ftruncate, SYS_getdents, SYS_getcwd, SYS_chdir,
    SYS_fchdir, SYS_rename, SYS_mkdir, SYS_rmdir, SYS_creat, SYS_link,
    SYS_unlink, SYS_symlink, SYS_readlink, SYS_chmod, SYS_fchmod, SYS_chown,
    SYS_fchown, SYS_lchown, SYS_umask, SYS_gettimeofday, SYS_getrlimit,
    SYS_getrusage, SYS_sysinfo, SYS_times, SYS_getuid, SYS_getgid,
    SYS_setuid, SYS_setgid, SYS_geteuid, SYS_getegid, SYS_setpgid,
    SYS_getppid, SYS_getpgrp, SYS_setsid, SYS_setreuid, SYS_setregid,
    SYS_getgroups, SYS_setgroups, SYS_setresuid, SYS_getresuid,
    SYS_setresgid, SYS_getresgid, SYS_getpgid, SYS_setfsuid, SYS_setfsgid,
    SYS_getsid, SYS_capget, SYS_capset, SYS_rt_sigpending,
    SYS_rt_sigtimedwait, SYS_rt_sigqueueinfo, SYS_rt_sigsuspend,
    SYS_sigaltstack, SYS_utime, SYS_mknod, SYS_personality, SYS_statfs,
    SYS_fstatfs, SYS_getpriority, SYS_setpriority, SYS_sched_setparam,
    SYS_sched_getparam, SYS_sched_setscheduler, SYS_sched_getscheduler,
    SYS_sched_get_priority_max, SYS_sched_get_priority_min,
    SYS_sched_rr_get_interval, SYS_mlock, SYS_munlock, SYS_mlockall,
    SYS_munlockall, SYS_modify_ldt, SYS_prctl, SYS_arch_prctl, SYS_adjtimex,
    SYS_setrlimit, SYS_sync, SYS_gettid, SYS_readahead, SYS_setxattr,
    SYS_lsetxattr, SYS_fsetxattr, SYS_getxattr, SYS_lgetxattr, SYS_fgetxattr,
    SYS_listxattr, SYS_llistxattr, SYS_flistxattr, SYS_removexattr,
    SYS_lremovexattr, SYS_fremovexattr, SYS_tkill, SYS_time, SYS_futex,
    SYS_sched_setaffinity, SYS_sched_getaffinity, SYS_set_thread_area,
    SYS_io_setup, SYS_io_destroy, SYS_io_getevents, SYS_io_submit,
    SYS_io_cancel, SYS_get_thread_area, SYS_epoll_create, SYS_epoll_ctl_old,
    SYS_epoll_wait_old, SYS_remap_file_pages, SYS_getdents64,
    SYS_set_tid_address, SYS_restart_syscall, SYS_semtimedop, SYS_fadvise64,
    SYS_timer_create, SYS_timer_settime, SYS_timer_gettime,
    SYS_timer_getoverrun, SYS_timer_delete, SYS_clock_gettime,
    SYS_clock_getres, SYS_clock_nanosleep, SYS_exit_group, SYS_epoll_wait,
    SYS_epoll_ctl, SYS_tgkill, SYS_utimes, SYS_mq_open, SYS_mq_unlink,
    SYS_mq_timedsend, SYS_mq_timedreceive, SYS_mq_notify, SYS_mq_getsetattr,
    SYS_waitid, SYS_ioprio_set, SYS_ioprio_get, SYS_inotify_init,
    SYS_inotify_add_watch, SYS_inotify_rm_watch, SYS_openat, SYS_mkdirat,
    SYS_mknodat, SYS_fchownat, SYS_futimesat, SYS_newfstatat, SYS_unlinkat,
    SYS_renameat, SYS_linkat, SYS_symlinkat, SYS_readlinkat, SYS_fchmodat,
    SYS_faccessat, SYS_pselect6, SYS_ppoll, SYS_set_robust_list,
    SYS_get_robust_list, SYS_splice, SYS_tee, SYS_sync_file_range,
    SYS_vmsplice, SYS_utimensat, SYS_epoll_pwait, SYS_signalfd,
    SYS_timerfd_create, SYS_eventfd, SYS_fallocate, SYS_timerfd_settime,
    SYS_timerfd_gettime, SYS_accept4, SYS_signalfd4, SYS_eventfd2,
    SYS_epoll_create1, SYS_dup3, SYS_pipe2, SYS_inotify_init1, SYS_preadv,
    SYS_pwritev, SYS_rt_tgsigqueueinfo, SYS_recvmmsg, SYS_fanotify_mark,
    SYS_prlimit64, SYS_syncfs, SYS_sendmmsg, SYS_getcpu, SYS_sched_setattr,
    SYS_sched_getattr, SYS_renameat2, SYS_seccomp, SYS_getrandom,
    SYS_memfd_create, SYS_execveat, SYS_membarrier, SYS_mlock2,
    SYS_copy_file_range, SYS_preadv2, SYS_pwritev2, SYS_pkey_mprotect,
    SYS_pkey_alloc, SYS_pkey_free, SYS_statx, SYS_io_pgetevents, SYS_rseq,
    SYS_pidfd_send_signal, SYS_pidfd_open, SYS_close_range, SYS_openat2,
    SYS_faccessat2, SYS_epoll_pwait2, SYS_landlock_create_ruleset,
    SYS_landlock_add_rule, SYS_landlock_restrict_self,
    447 /* memfd_secret */, 448 /* process_mrelease */,
    449 /* futex_waitv */, 452 /* fchmodat2 */,
};

/* Known dangerous: EPERM, as Docker answers without the capability. */
static const uint16_t denied[] = {
    SYS_syslog, SYS_uselib, SYS_ustat, SYS_sysfs, SYS_vhangup,
    SYS_pivot_root, SYS__sysctl, SYS_chroot, SYS_acct, SYS_settimeofday,
    SYS_mount, SYS_umount2, SYS_swapon, SYS_swapoff, SYS_sethostname,
    SYS_setdomainname, SYS_iopl, SYS_ioperm, SYS_create_module,
    SYS_init_module, SYS_delete_module, SYS_get_kernel_syms,
    SYS_query_module, SYS_quotactl, SYS_nfsservctl, SYS_lookup_dcookie,
    SYS_clock_settime, SYS_mbind, SYS_set_mempolicy, SYS_get_mempolicy,
    SYS_kexec_load, SYS_add_key, SYS_request_key, SYS_keyctl,
    SYS_migrate_pages, SYS_unshare, SYS_move_pages, SYS_perf_event_open,
    SYS_fanotify_init, SYS_name_to_handle_at, SYS_open_by_handle_at,
    SYS_clock_adjtime, SYS_setns, SYS_finit_module, SYS_kexec_file_load,
    SYS_bpf, SYS_userfaultfd, SYS_io_uring_setup, SYS_io_uring_enter,
    SYS_io_uring_register, SYS_open_tree, SYS_move_mount, SYS_fsopen,
    SYS_fsconfig, SYS_fsmount, SYS_fspick, SYS_process_madvise,
    SYS_mount_setattr, 443 /* quotactl_fd */,
    450 /* set_mempolicy_home_node */, 467 /* open_tree_attr */,
};

/* clang-format on */

/* Reading or writing another process: EPERM unless --allow-ptrace. */
static const uint16_t tracing[] = {
    SYS_ptrace, SYS_process_vm_readv, SYS_process_vm_writev,
    SYS_kcmp,	SYS_pidfd_getfd,
};

#define RET_ALLOW  SECCOMP_RET_ALLOW
#define RET_EPERM  (SECCOMP_RET_ERRNO | EPERM)
#define RET_ENOSYS (SECCOMP_RET_ERRNO | ENOSYS)
#define RET_KILL   SECCOMP_RET_KILL_PROCESS
/* The low 32 bits of argument n (x86_64 is little-endian): every
 * argument checked here is an int or unsigned int to the kernel. */
#define ARG(n) (offsetof(struct seccomp_data, args) + 8 * (n))
#define NS_FLAGS                                                               \
	(CLONE_NEWNS | CLONE_NEWCGROUP | CLONE_NEWUTS | CLONE_NEWIPC |         \
	 CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET)

struct prog {
	struct sock_filter ins[PROG_MAX];
	unsigned n;
};

static void emit(struct prog *p, uint16_t code, uint8_t jt, uint8_t jf,
		 uint32_t k)
{
	if (p->n < PROG_MAX)
		p->ins[p->n] = (struct sock_filter)BPF_JUMP(code, k, jt, jf);
	p->n++; /* past PROG_MAX: seccomp_apply refuses the program */
}

/* nr: load argument arg and return match when it equals one of vals,
 * otherwise other.  Other syscalls jump over the block with nr still in
 * the accumulator. */
static void arg_in(struct prog *p, int nr, unsigned arg, const uint32_t *vals,
		   unsigned nvals, uint32_t match, uint32_t other)
{
	unsigned i;

	emit(p, BPF_JMP | BPF_JEQ | BPF_K, 0, (uint8_t)(nvals + 3),
	     (uint32_t)nr);
	emit(p, BPF_LD | BPF_W | BPF_ABS, 0, 0, (uint32_t)ARG(arg));
	for (i = 0; i < nvals; i++)
		emit(p, BPF_JMP | BPF_JEQ | BPF_K, (uint8_t)(nvals - i), 0,
		     vals[i]);
	emit(p, BPF_RET | BPF_K, 0, 0, other);
	emit(p, BPF_RET | BPF_K, 0, 0, match);
}

static void arg_checks(struct prog *p, const struct runner *rt)
{
	static const uint32_t tty_inject[] = {TIOCSTI, TIOCLINUX};
	/* Docker's: PER_LINUX, PER_LINUX32, UNAME26, both; the query. */
	static const uint32_t pers[] = {0xffffffffu, 0, 0x8, 0x20000, 0x20008};
	static const uint32_t families[] = {AF_UNIX, AF_INET, AF_INET6,
					    AF_NETLINK, AF_VSOCK};
	static const uint32_t vsock[] = {AF_VSOCK};
	bool strict = rt->cfg.seccomp == SECCOMP_STRICT;
	bool vs = rt->cfg.allow_vsock;

	/* clone's flags are in a register; clone3's are in memory the
	 * filter cannot read: it gets ENOSYS (from the table) and libc
	 * falls back to clone. */
	emit(p, BPF_JMP | BPF_JEQ | BPF_K, 0, 4, SYS_clone);
	emit(p, BPF_LD | BPF_W | BPF_ABS, 0, 0, (uint32_t)ARG(0));
	emit(p, BPF_JMP | BPF_JSET | BPF_K, 0, 1, NS_FLAGS);
	emit(p, BPF_RET | BPF_K, 0, 0, RET_EPERM);
	emit(p, BPF_RET | BPF_K, 0, 0, RET_ALLOW);
	/* TIOCSTI pushes bytes into a terminal's input: a program could
	 * type into a shell it shares a terminal with (CVE-2017-5226). */
	arg_in(p, SYS_ioctl, 1, tty_inject, 2, RET_EPERM, RET_ALLOW);
	arg_in(p, SYS_personality, 0, pers, strict ? 2 : 5, RET_ALLOW,
	       RET_EPERM);
	if (strict)
		arg_in(p, SYS_socket, 0, families, vs ? 5 : 4, RET_ALLOW,
		       RET_EPERM);
	else if (!vs)
		arg_in(p, SYS_socket, 0, vsock, 1, RET_EPERM, RET_ALLOW);
}

static void mark(uint32_t *act, const uint16_t *nrs, size_t n, uint32_t ret)
{
	size_t i;

	for (i = 0; i < n; i++)
		act[nrs[i]] = ret;
}

/* act[nr] for every nr below NR_TABLE, as ranges: nr <= last of the
 * first range that holds it. */
static void table(struct prog *p, const struct runner *rt)
{
	uint32_t act[NR_TABLE];
	unsigned nr;

	for (nr = 0; nr < NR_TABLE; nr++)
		act[nr] = RET_ENOSYS;
	mark(act, allowed, ARRAY_LEN(allowed), RET_ALLOW);
	mark(act, denied, ARRAY_LEN(denied), RET_EPERM);
	mark(act, tracing, ARRAY_LEN(tracing),
	     rt->cfg.allow_ptrace ? RET_ALLOW : RET_EPERM);
	/* The VM's init powers off through reboot(); its children cannot,
	 * lacking CAP_SYS_BOOT. */
	act[SYS_reboot] = rt->vm_init ? RET_ALLOW : RET_EPERM;
	for (nr = 0; nr < NR_TABLE; nr++) {
		if (nr + 1 < NR_TABLE && act[nr + 1] == act[nr])
			continue;
		emit(p, BPF_JMP | BPF_JGT | BPF_K, 1, 0, nr);
		emit(p, BPF_RET | BPF_K, 0, 0, act[nr]);
	}
	emit(p, BPF_RET | BPF_K, 0, 0, RET_ENOSYS);
}

static void build(struct prog *p, const struct runner *rt)
{
	/* Only the native architecture passes; i386 (int 0x80) is killed,
	 * and so is x32, which shares AUDIT_ARCH_X86_64 but sets bit 30 of
	 * the number. */
	emit(p, BPF_LD | BPF_W | BPF_ABS, 0, 0,
	     (uint32_t)offsetof(struct seccomp_data, arch));
	emit(p, BPF_JMP | BPF_JEQ | BPF_K, 1, 0, AUDIT_ARCH_X86_64);
	emit(p, BPF_RET | BPF_K, 0, 0, RET_KILL);
	emit(p, BPF_LD | BPF_W | BPF_ABS, 0, 0,
	     (uint32_t)offsetof(struct seccomp_data, nr));
	emit(p, BPF_JMP | BPF_JGE | BPF_K, 0, 1, 0x40000000u);
	emit(p, BPF_RET | BPF_K, 0, 0, RET_KILL);
	arg_checks(p, rt);
	table(p, rt);
}

int seccomp_apply(const struct runner *rt, char *detail, size_t len)
{
	struct prog p = {.n = 0};
	struct sock_fprog fp;

	build(&p, rt);
	if (p.n > PROG_MAX)
		return -E2BIG;
	fp = (struct sock_fprog){.len = (unsigned short)p.n, .filter = p.ins};
	/* no_new_privs is set already (harden.c), so no capability is
	 * needed. */
	if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &fp, 0, 0) < 0)
		return -errno;
	snprintf(detail, len,
		 "%s allowlist, %zu allowed, %u insns, foreign ABIs killed",
		 rt->cfg.seccomp == SECCOMP_STRICT ? "strict" : "default",
		 ARRAY_LEN(allowed), p.n);
	return 0;
}
