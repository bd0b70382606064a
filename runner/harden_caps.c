/* harden_caps.c - the capability steps: bounding set, securebits, the
 * permitted/effective/inheritable/ambient sets. */
#include "harden_internal.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/securebits.h>

#define TEXT_MAX 1024

/* The highest capability this kernel knows; PR_CAPBSET_READ says EINVAL
 * past it, which works without /proc. */
static int last_cap(void)
{
	int c;

	for (c = 0; c < 64; c++)
		if (prctl(PR_CAPBSET_READ, c, 0, 0, 0) < 0)
			break;
	return c - 1;
}

static bool has(uint64_t mask, int cap)
{
	return cap < 64 && (mask >> cap & 1);
}

/* "cap_net_bind_service,cap_sys_admin" or full cap_from_text syntax
 * ("cap_x+ep"); every capability named in any set is kept. */
int caps_parse(const char *text, uint64_t *mask)
{
	cap_flag_value_t v[3];
	char buf[TEXT_MAX];
	cap_t caps;
	int c;

	if (strpbrk(text, "=+-"))
		snprintf(buf, sizeof(buf), "%s", text);
	else if (snprintf(buf, sizeof(buf), "%s=p", text) >= (int)sizeof(buf))
		return -ENAMETOOLONG;
	caps = cap_from_text(buf);
	if (!caps)
		return -EINVAL;
	*mask = 0;
	for (c = 0; c < 64; c++) {
		if (cap_get_flag(caps, c, CAP_PERMITTED, &v[0]) < 0)
			break;
		cap_get_flag(caps, c, CAP_EFFECTIVE, &v[1]);
		cap_get_flag(caps, c, CAP_INHERITABLE, &v[2]);
		if (v[0] || v[1] || v[2])
			*mask |= 1ull << c;
	}
	cap_free(caps);
	return 0;
}

void caps_drop_bounding(struct runner *rt, uint64_t keep)
{
	int c, last = last_cap(), dropped = 0, stuck = 0, err = 0;

	for (c = 0; c <= last; c++) {
		if (has(keep, c) || prctl(PR_CAPBSET_READ, c, 0, 0, 0) != 1)
			continue;
		if (prctl(PR_CAPBSET_DROP, c, 0, 0, 0) == 0) {
			dropped++;
		} else {
			stuck++;
			err = errno;
		}
	}
	if (stuck)
		harden_note(rt, "caps_bounding", "skipped: %d remain: %s%s",
			    stuck, strerror(err),
			    err == EPERM ? " (no CAP_SETPCAP)" : "");
	else if (dropped)
		harden_note(rt, "caps_bounding", "applied: %d dropped",
			    dropped);
	else
		harden_note(rt, "caps_bounding", "applied: already empty");
}

void caps_lock_securebits(struct runner *rt, bool ambient)
{
	/* NOROOT: uid 0 gains nothing by exec.  NO_SETUID_FIXUP: uid
	 * changes leave capabilities alone.  KEEP_CAPS stays off, locked.
	 * Without kept capabilities nobody may raise ambient ones either. */
	unsigned long want =
	    SECBIT_NOROOT | SECBIT_NOROOT_LOCKED | SECBIT_NO_SETUID_FIXUP |
	    SECBIT_NO_SETUID_FIXUP_LOCKED | SECBIT_KEEP_CAPS_LOCKED;
	int cur;

	if (!ambient)
		want |= SECBIT_NO_CAP_AMBIENT_RAISE |
			SECBIT_NO_CAP_AMBIENT_RAISE_LOCKED;
	cur = prctl(PR_GET_SECUREBITS, 0, 0, 0, 0);
	if (cur >= 0 && ((unsigned long)cur & want) == want) {
		harden_note(rt, "securebits", "applied: already 0x%x", cur);
		return;
	}
	if (cur < 0 ||
	    prctl(PR_SET_SECUREBITS, (unsigned long)cur | want, 0, 0, 0) < 0) {
		harden_note(rt, "securebits", "skipped: %s%s", strerror(errno),
			    errno == EPERM ? " (no CAP_SETPCAP)" : "");
		return;
	}
	harden_note(rt, "securebits", "applied: 0x%lx",
		    (unsigned long)cur | want);
}

static int set_caps(uint64_t keep, uint64_t own)
{
	cap_value_t list[64];
	int n, c, r = 0, err;
	cap_t caps;

	caps = cap_init(); /* all clear */
	if (!caps)
		return -errno;
	for (n = 0, c = 0; c < 64; c++)
		if (has(keep | own, c))
			list[n++] = c;
	if (n)
		r = cap_set_flag(caps, CAP_PERMITTED, n, list, CAP_SET) |
		    cap_set_flag(caps, CAP_EFFECTIVE, n, list, CAP_SET);
	for (n = 0, c = 0; c < 64; c++)
		if (has(keep, c))
			list[n++] = c;
	if (n && r == 0)
		r = cap_set_flag(caps, CAP_INHERITABLE, n, list, CAP_SET);
	if (r == 0)
		r = cap_set_proc(caps);
	err = errno;
	cap_free(caps);
	return r < 0 ? -err : 0;
}

/* Ambient capabilities are what carries kept ones across exec for a
 * non-root user (and for root, under SECBIT_NOROOT). */
static int set_ambient(uint64_t keep)
{
	int c;

	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 &&
	    errno != EINVAL) /* EINVAL: a kernel without ambient caps */
		return -errno;
	for (c = 0; c < 64; c++)
		if (has(keep, c) &&
		    prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, c, 0, 0) < 0)
			return -errno;
	return 0;
}

int caps_clear(struct runner *rt, uint64_t keep, uint64_t own)
{
	int r;

	r = set_caps(keep, own);
	if (r < 0 && keep) {
		/* Asked for and not held (a non-root start): fail closed. */
		log_error(
		    "--keep-caps: cannot keep the requested capabilities: %s; not starting",
		    strerror(-r));
		return r;
	}
	if (r < 0 && own) {
		/* The VM's own CAP_SYS_BOOT is a default: dropping every
		 * capability is always permitted. */
		own = 0;
		r = set_caps(0, 0);
	}
	if (r == 0)
		r = set_ambient(keep);
	if (r < 0 && keep) {
		log_error("--keep-caps: ambient capabilities: %s; not starting",
			  strerror(-r));
		return r;
	}
	if (r < 0)
		harden_note(rt, "caps", "skipped: %s", strerror(-r));
	else if (keep || own)
		harden_note(rt, "caps", "applied: kept 0x%llx, runner 0x%llx",
			    (unsigned long long)keep, (unsigned long long)own);
	else
		harden_note(rt, "caps", "applied: none left");
	return 0;
}

/* A forked helper that does not exec (fs_job) runs the runner's code
 * with the runner's capabilities: in a VM that is CAP_SYS_BOOT.  It
 * needs none.  Raw capset, all three sets zero: always permitted. */
void harden_helper(void)
{
	struct __user_cap_header_struct hdr = {_LINUX_CAPABILITY_VERSION_3, 0};
	struct __user_cap_data_struct data[2] = {{0}};

	/* Nothing to do about a failure here: the helper has no one to
	 * report to before its work, and the filter still holds. */
	(void)syscall(SYS_capset, &hdr, data);
	(void)prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
}
