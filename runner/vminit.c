/* vminit.c - what a kernel's init must do before anything else works:
 * console fds, kernel modules, the pseudo filesystems, a hostname, the
 * loopback interface; and at the end, power off instead of exiting
 * (init exiting is a kernel panic).
 *
 * Runs when the runner is PID 1 and /proc is not mounted (a microVM's
 * /init), or with --init-mounts.  Each mount is made only when its
 * target does not already hold that filesystem, so --init-mounts in a
 * container that has some of them is harmless. */
#include "child.h"
#include "pid1_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/magic.h>

#define DEFAULT_HOSTNAME "sandbox"
#define MODULES_MAX	 4096 /* bytes of the --modules list */

struct vm_mount {
	const char *target, *fstype, *options;
	unsigned long flags;
	unsigned long magic; /* statfs f_type once mounted */
	mode_t mode;	     /* of the mount point when we create it */
};

/* Order matters: devpts and shm live under /dev. */
static const struct vm_mount vm_mounts[] = {
    /* hidepid: a sandbox process sees only its own uid's processes, not
     * those root starts (docker exec, kubectl exec).  "invisible" is
     * Linux >= 5.8's name; older kernels take "2" (mount_one). */
    {"/proc", "proc", "hidepid=invisible", MS_NOSUID | MS_NODEV | MS_NOEXEC,
     PROC_SUPER_MAGIC, 0555},
    {"/sys", "sysfs", NULL, MS_NOSUID | MS_NODEV | MS_NOEXEC, SYSFS_MAGIC,
     0555},
    {"/dev", "devtmpfs", "mode=0755", MS_NOSUID, TMPFS_MAGIC, 0755},
    /* gid 5 is "tty" in every distribution's /etc/group. */
    {"/dev/pts", "devpts", "newinstance,ptmxmode=0666,gid=5,mode=620",
     MS_NOSUID | MS_NOEXEC, DEVPTS_SUPER_MAGIC, 0755},
    {"/dev/shm", "tmpfs", "mode=1777", MS_NOSUID | MS_NODEV, TMPFS_MAGIC,
     01777},
    {"/tmp", "tmpfs", "mode=1777", MS_NOSUID | MS_NODEV, TMPFS_MAGIC, 01777},
    {"/run", "tmpfs", "mode=0755", MS_NOSUID | MS_NODEV, TMPFS_MAGIC, 0755},
};

static bool is_mounted(const char *target, unsigned long magic)
{
	struct statfs sf;
	struct stat here, parent;
	char up[64];

	if (statfs(target, &sf) < 0 || (unsigned long)sf.f_type != magic)
		return false;
	/* Same type as the parent (a tmpfs /tmp on a tmpfs root) is not
	 * proof: a mount point's device differs from its parent's. */
	snprintf(up, sizeof(up), "%s/..", target);
	return stat(target, &here) == 0 && stat(up, &parent) == 0 &&
	       here.st_dev != parent.st_dev;
}

/* True when this call mounted it (the filesystem is then ours to
 * change). */
static bool mount_one(const struct vm_mount *m)
{
	if (is_mounted(m->target, m->magic))
		return false;
	/* The root of an initramfs is writable; a read-only root that
	 * lacks the directory just loses this mount. */
	if (mkdir(m->target, m->mode) < 0 && errno != EEXIST)
		log_warn("vm init: mkdir %s: %m", m->target);
	if (mount(m->fstype, m->target, m->fstype, m->flags, m->options) == 0) {
		log_debug("vm init: %s mounted on %s", m->fstype, m->target);
		return true;
	}
	if (!strcmp(m->fstype, "proc") &&
	    mount("proc", m->target, "proc", m->flags, "hidepid=2") == 0)
		return true;
	/* No devtmpfs in the kernel: a tmpfs /dev is still somewhere to
	 * put devpts, shm and the links. */
	if (!strcmp(m->fstype, "devtmpfs") &&
	    mount("tmpfs", m->target, "tmpfs", m->flags, m->options) == 0) {
		log_warn("vm init: no devtmpfs, /dev is an empty tmpfs");
		return true;
	}
	log_warn("vm init: mount %s on %s: %m", m->fstype, m->target);
	return false;
}

/* /dev/ptmx must open the ptmx of our devpts instance (newinstance).
 * devtmpfs is one filesystem kernel-wide: outside the kernel's own init
 * (--init-mounts in a privileged container) changing a file in it would
 * change the host's /dev, so there the link is a bind mount, which only
 * our mount namespace sees. */
static void ptmx_link(bool own_dev)
{
	if (own_dev) {
		if (unlink("/dev/ptmx") < 0 && errno != ENOENT)
			log_warn("vm init: unlink /dev/ptmx: %m");
		else if (symlink("pts/ptmx", "/dev/ptmx") < 0)
			log_warn("vm init: symlink /dev/ptmx: %m");
		return;
	}
	if (mount("/dev/pts/ptmx", "/dev/ptmx", NULL, MS_BIND, NULL) < 0)
		log_warn("vm init: bind /dev/pts/ptmx on /dev/ptmx: %m");
}

/* What bash's process substitution and scripts expect; added only where
 * missing, never replacing what /dev already has. */
static void fd_links(void)
{
	static const char *const links[][2] = {
	    {"/dev/fd", "/proc/self/fd"},
	    {"/dev/stdin", "/proc/self/fd/0"},
	    {"/dev/stdout", "/proc/self/fd/1"},
	    {"/dev/stderr", "/proc/self/fd/2"},
	};
	unsigned i;

	for (i = 0; i < ARRAY_LEN(links); i++)
		if (symlink(links[i][1], links[i][0]) < 0 && errno != EEXIST)
			log_warn("vm init: symlink %s: %m", links[i][0]);
}

static void mount_all(bool kernel_init)
{
	bool mounted, dev = false, pts = false;
	unsigned i;

	for (i = 0; i < ARRAY_LEN(vm_mounts); i++) {
		mounted = mount_one(&vm_mounts[i]);
		if (!strcmp(vm_mounts[i].target, "/dev"))
			dev = mounted;
		else if (!strcmp(vm_mounts[i].target, "/dev/pts"))
			pts = mounted;
	}
	if (pts)
		ptmx_link(dev && kernel_init);
	if (dev && kernel_init)
		fd_links();
}

/* The kernel starts init with fds 0-2 on /dev/console when the initramfs
 * has one, else closed; then the first socket would become fd 2 and the
 * log would write into it. */
static void console_fds(void)
{
	int fd, i;

	for (i = 0; i <= 2; i++) {
		if (fcntl(i, F_GETFD) >= 0)
			continue;
		fd = open("/dev/console", O_RDWR | O_NOCTTY);
		if (fd < 0)
			fd = open("/dev/null", O_RDWR);
		if (fd >= 0 && fd != i) {
			dup2(fd, i);
			close(fd);
		}
	}
}

static void loopback_up(void)
{
	struct ifreq ifr = {0};
	int fd;

	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		log_warn("vm init: lo: socket: %m");
		return;
	}
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "lo");
	/* The kernel gives lo 127.0.0.1/8 and ::1 when it comes up. */
	if (ioctl(fd, SIOCGIFFLAGS, &ifr) < 0) {
		log_warn("vm init: lo: SIOCGIFFLAGS: %m");
	} else if (!(ifr.ifr_flags & IFF_UP)) {
		ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
		if (ioctl(fd, SIOCSIFFLAGS, &ifr) < 0)
			log_warn("vm init: lo: SIOCSIFFLAGS: %m");
	}
	close(fd);
}

static int load_module(const char *path)
{
	int fd, r = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (syscall(SYS_finit_module, fd, "", 0) < 0 && errno != EEXIST)
		r = -errno;
	close(fd);
	return r;
}

/* --modules A,B,C: loaded in that order (the caller knows the
 * dependency order; there is no modules.dep to consult). */
static int load_modules(const char *list)
{
	char buf[MODULES_MAX], *path, *save = NULL;
	int r, failed = 0;

	if (snprintf(buf, sizeof(buf), "%s", list) >= (int)sizeof(buf))
		return -ENAMETOOLONG;
	for (path = strtok_r(buf, ",", &save); path;
	     path = strtok_r(NULL, ",", &save)) {
		r = load_module(path);
		if (r < 0) {
			log_error("cannot load module %s: %s", path,
				  strerror(-r));
			failed = r;
		} else {
			log_info("module %s loaded", path);
		}
	}
	return failed;
}

static bool proc_missing(void)
{
	return access("/proc/self/stat", F_OK) < 0;
}

int pid1_vm_init(struct runner *rt)
{
	const char *name =
	    rt->cfg.hostname ? rt->cfg.hostname : DEFAULT_HOSTNAME;
	int r = 0;

	/* Only the kernel's own init powers off at the end; a container's
	 * PID 1 with --init-mounts just exits. */
	rt->vm_init = getpid() == 1 && proc_missing();
	if (rt->vm_init || rt->cfg.init_mounts) {
		mount_all(rt->vm_init);
		console_fds();
		if ((rt->vm_init || rt->cfg.hostname) &&
		    sethostname(name, strlen(name)) < 0)
			log_warn("vm init: sethostname %s: %m", name);
		loopback_up();
		/* The kernel hands init no PATH; shells need one. */
		if (!getenv("PATH"))
			setenv("PATH", DEFAULT_PATH, 1);
		/* Ctrl-Alt-Del becomes SIGINT to us: a clean shutdown. */
		if (rt->vm_init)
			reboot(RB_DISABLE_CAD);
		log_info("vm init: filesystems mounted, hostname %s, lo up",
			 name);
	}
	if (rt->cfg.modules)
		r = load_modules(rt->cfg.modules);
	return r;
}

void vm_power_off(void)
{
	sync();
	reboot(RB_POWER_OFF);
	/* No ACPI (a bare microvm): a reboot makes QEMU -no-reboot exit. */
	log_error("power off: %m; rebooting instead");
	reboot(RB_AUTOBOOT);
	log_error("reboot: %m; halting here");
	for (;;)
		pause();
}
