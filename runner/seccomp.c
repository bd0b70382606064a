/* seccomp.c - the syscall filter, loaded last (harden.c).
 *
 * A deny list over a default of ALLOW: what Docker's default profile
 * denies to an unprivileged container fails with EPERM, so bash,
 * coreutils, git, python and the runner itself (fork/exec, PTYs, epoll,
 * signalfd, timerfd, accept4, openat2, kill, setsid, TIOCSCTTY, prctl)
 * keep working.  Syscalls of a foreign ABI (i386 via int 0x80, x32) kill
 * the process: the filter names the native architecture only, and
 * libseccomp sends everything else, x32 numbers included, to the
 * bad-architecture action.  AF_VSOCK stays allowed: in a VM the runner
 * is the only filter and vsock is its transport.
 *
 * --seccomp strict adds: socket families other than unix, inet, inet6,
 * netlink and vsock; personality() other than the query.
 * The full list is in protocol/PROTOCOL.md §18.6. */
#include "harden_internal.h"

#include <errno.h>
#include <seccomp.h>
#include <stdio.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <linux/sched.h>

/* Denied with EPERM in every mode. */
static const char *const denied[] = {
    /* filesystems and the mount table */
    "mount",
    "umount",
    "umount2",
    "pivot_root",
    "fsopen",
    "fsconfig",
    "fsmount",
    "fspick",
    "open_tree",
    "move_mount",
    "mount_setattr",
    "quotactl",
    "quotactl_fd",
    "nfsservctl",
    "sysfs",
    "ustat",
    "_sysctl",
    "uselib",
    "open_by_handle_at",
    "name_to_handle_at",
    "fanotify_init",
    /* kernel code and state */
    "kexec_load",
    "kexec_file_load",
    "init_module",
    "finit_module",
    "delete_module",
    "create_module",
    "get_kernel_syms",
    "query_module",
    "bpf",
    "perf_event_open",
    "lookup_dcookie",
    "syslog",
    "iopl",
    "ioperm",
    "vm86",
    "vm86old",
    "swapon",
    "swapoff",
    "acct",
    "vhangup",
    /* the kernel keyring */
    "keyctl",
    "add_key",
    "request_key",
    /* namespaces (clone's flags are checked below) */
    "unshare",
    "setns",
    /* clocks */
    "settimeofday",
    "clock_settime",
    "clock_adjtime",
    "stime",
    /* NUMA policy (Docker: needs CAP_SYS_NICE) */
    "get_mempolicy",
    "set_mempolicy",
    "mbind",
    "move_pages",
    /* memory the kernel lends to a page-fault handler; io_uring (Docker
     * denies both: the io_uring paths bypass this very filter) */
    "userfaultfd",
    "io_uring_setup",
    "io_uring_enter",
    "io_uring_register",
};

/* Reading another process's memory: denied unless --allow-ptrace. */
static const char *const tracing[] = {
    "ptrace", "process_vm_readv", "process_vm_writev", "kcmp", "pidfd_getfd",
};

static const uint64_t namespace_flags[] = {
    CLONE_NEWNS,  CLONE_NEWUTS, CLONE_NEWIPC,	 CLONE_NEWUSER,
    CLONE_NEWPID, CLONE_NEWNET, CLONE_NEWCGROUP,
};

/* Socket families --seccomp strict still allows. */
static const int strict_families[] = {
    AF_UNIX, AF_INET, AF_INET6, AF_NETLINK, AF_VSOCK,
};

/* SCMP_A0() and friends leave datum_b unset for one-datum tests, which
 * -Wextra refuses. */
static struct scmp_arg_cmp arg(unsigned n, enum scmp_compare op, uint64_t a,
			       uint64_t b)
{
	return (struct scmp_arg_cmp){
	    .arg = n, .op = op, .datum_a = a, .datum_b = b};
}

struct rules {
	scmp_filter_ctx ctx;
	int count; /* rules added */
	int err;   /* first failure */
};

static void add(struct rules *r, uint32_t action, int nr, unsigned n,
		const struct scmp_arg_cmp *cmp)
{
	int e;

	if (r->err)
		return;
	e = seccomp_rule_add_array(r->ctx, action, nr, n, cmp);
	if (e < 0)
		r->err = e;
	else
		r->count++;
}

static void deny_names(struct rules *r, const char *const *names, size_t n)
{
	size_t i;
	int nr;

	for (i = 0; i < n; i++) {
		nr = seccomp_syscall_resolve_name(names[i]);
		/* Negative: not a syscall of this architecture (stime and
		 * vm86 on x86_64): nothing to deny. */
		if (nr >= 0)
			add(r, SCMP_ACT_ERRNO(EPERM), nr, 0, NULL);
	}
}

/* clone's flags are in a register; clone3's are in memory the filter
 * cannot read, so clone3 says ENOSYS and libc falls back to clone. */
static void deny_namespaces(struct rules *r)
{
	struct scmp_arg_cmp cmp;
	size_t i;

	for (i = 0; i < ARRAY_LEN(namespace_flags); i++) {
		cmp = arg(0, SCMP_CMP_MASKED_EQ, namespace_flags[i],
			  namespace_flags[i]);
		add(r, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(clone), 1, &cmp);
	}
	add(r, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0, NULL);
}

/* TIOCSTI pushes bytes into a terminal's input: a program could type
 * commands into a shell it shares a terminal with (CVE-2017-5226, which
 * bubblewrap blocks the same way).  The request is 32 bits wide. */
static void deny_tty_injection(struct rules *r)
{
	static const unsigned long cmds[] = {TIOCSTI, TIOCLINUX};
	struct scmp_arg_cmp cmp;
	size_t i;

	for (i = 0; i < ARRAY_LEN(cmds); i++) {
		cmp = arg(1, SCMP_CMP_MASKED_EQ, 0xffffffffu, cmds[i]);
		add(r, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(ioctl), 1, &cmp);
	}
}

/* personality(v) is allowed only for 0xffffffff (the query) and for the
 * values made of the bits in allowed_bits.  libseccomp cannot AND two
 * tests of one argument, so the complement is spelled as an OR of
 * single masked tests over the low 32 bits (the kernel reads an
 * unsigned int): some bit outside allowed_bits set while bit 31 is
 * clear, or bit 31 set while some other bit is clear. */
static void restrict_personality(struct rules *r, uint32_t allowed_bits)
{
	const uint32_t top = 1u << 31;
	struct scmp_arg_cmp cmp;
	uint32_t bit;
	int k;

	for (k = 0; k < 31; k++) {
		bit = 1u << k;
		if (!(allowed_bits & bit)) {
			cmp = arg(0, SCMP_CMP_MASKED_EQ, bit | top, bit);
			add(r, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(personality), 1,
			    &cmp);
		}
		cmp = arg(0, SCMP_CMP_MASKED_EQ, bit | top, top);
		add(r, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(personality), 1, &cmp);
	}
}

static bool family_allowed(int family)
{
	size_t i;

	for (i = 0; i < ARRAY_LEN(strict_families); i++)
		if (strict_families[i] == family)
			return true;
	return false;
}

static void restrict_families(struct rules *r)
{
	struct scmp_arg_cmp cmp;
	int f;

	for (f = 0; f < AF_MAX; f++) {
		if (family_allowed(f))
			continue;
		cmp = arg(0, SCMP_CMP_EQ, (uint64_t)f, 0);
		add(r, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(socket), 1, &cmp);
	}
	cmp = arg(0, SCMP_CMP_GE, AF_MAX, 0);
	add(r, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(socket), 1, &cmp);
}

static void build(struct rules *r, const struct runner *rt)
{
	bool strict = rt->cfg.seccomp == SECCOMP_STRICT;
	/* Docker's set: PER_LINUX, PER_LINUX32, UNAME26 and both. */
	uint32_t personalities = strict ? 0 : 0x0020008u;

	deny_names(r, denied, ARRAY_LEN(denied));
	if (!rt->cfg.allow_ptrace)
		deny_names(r, tracing, ARRAY_LEN(tracing));
	/* The VM's init powers off through reboot(); its children cannot,
	 * lacking CAP_SYS_BOOT. */
	if (!rt->vm_init)
		deny_names(r, (const char *const[]){"reboot"}, 1);
	deny_namespaces(r);
	deny_tty_injection(r);
	restrict_personality(r, personalities);
	if (strict)
		restrict_families(r);
}

int seccomp_apply(const struct runner *rt, char *detail, size_t len)
{
	struct rules r = {0};
	int e;

	r.ctx = seccomp_init(SCMP_ACT_ALLOW);
	if (!r.ctx)
		return -ENOMEM;
	/* Only the native architecture is in the filter: every other one
	 * (i386, x32) is killed, the whole process and not just a thread. */
	e = seccomp_attr_set(r.ctx, SCMP_FLTATR_ACT_BADARCH,
			     SCMP_ACT_KILL_PROCESS);
	if (e == 0) {
		build(&r, rt);
		e = r.err;
	}
	if (e == 0)
		e = seccomp_load(r.ctx);
	seccomp_release(r.ctx);
	if (e < 0)
		return e;
	snprintf(detail, len, "%s, %d rules, foreign ABIs killed",
		 rt->cfg.seccomp == SECCOMP_STRICT ? "strict" : "default",
		 r.count);
	return 0;
}
