/* harden.c - drop privileges in the order of protocol/PROTOCOL.md §18.6:
 * the listeners are bound already; then the bounding set, securebits, the
 * user, capabilities, no_new_privs, and seccomp last (so the filter need
 * not allow capset/setuid, as in bubblewrap and minijail).
 *
 * Fail closed: a step asked for on the command line (--user, --seccomp
 * default|strict, --keep-caps) that cannot be applied stops the runner
 * before it serves anything.  Only defaults may degrade (a non-root
 * start cannot drop the bounding set); such a step is recorded as
 * skipped with the reason, and INFO's "degraded=" line names them all. */
#include "harden_internal.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <linux/capability.h>

void harden_note(struct runner *rt, const char *step, const char *fmt, ...)
{
	struct harden_report *h = &rt->harden;
	char what[88];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	log_msg(strncmp(what, "skipped", 7) ? LOG_INFO : LOG_WARN,
		"hardening: %s=%s", step, what);
	if (h->nsteps >= HARDEN_STEPS)
		return;
	snprintf(h->steps[h->nsteps++], sizeof(h->steps[0]), "%s=%s", step,
		 what);
}

static void no_new_privs(struct runner *rt)
{
	/* Always permitted: execve can no longer raise privileges through
	 * setuid bits or file capabilities. */
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		harden_note(rt, "no_new_privs", "skipped: %s", strerror(errno));
	else
		harden_note(rt, "no_new_privs", "applied");
}

static int seccomp_step(struct runner *rt)
{
	char detail[64];
	int r;

	if (rt->cfg.seccomp == SECCOMP_OFF) {
		harden_note(rt, "seccomp", "skipped: --seccomp off");
		return 0;
	}
	r = seccomp_apply(rt, detail, sizeof(detail));
	if (r < 0 && rt->cfg.seccomp_explicit) {
		log_error("--seccomp: cannot load the filter: %s; not starting",
			  strerror(-r));
		return r;
	}
	if (r < 0)
		harden_note(rt, "seccomp", "skipped: %s", strerror(-r));
	else
		harden_note(rt, "seccomp", "applied: %s", detail);
	return 0;
}

/* One line naming every step that degraded, so a client need not parse
 * the others: "degraded=securebits,user", or nothing when none did.
 * --seccomp off was asked for and is not a degradation. */
static void note_degraded(struct runner *rt)
{
	struct harden_report *h = &rt->harden;
	char list[80] = "";
	size_t len = 0;
	unsigned i;
	char *eq;

	for (i = 0; i < h->nsteps; i++) {
		eq = strchr(h->steps[i], '=');
		if (!eq || strncmp(eq + 1, "skipped", 7) ||
		    strstr(eq, "--seccomp off"))
			continue;
		len += (size_t)snprintf(list + len, sizeof(list) - len,
					"%s%.*s", len ? "," : "",
					(int)(eq - h->steps[i]), h->steps[i]);
		if (len >= sizeof(list))
			break;
	}
	if (*list)
		harden_note(rt, "degraded", "%s", list);
}

/* Neither the runner nor a helper it forks may be read or written
 * through /proc/PID/mem or ptrace by a process of the same uid: the
 * token is in its memory.  A uid change resets the flag to the sysctl's
 * suid_dumpable, so this runs again after the switch. */
int harden_not_dumpable(void)
{
	return prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0 ? -errno : 0;
}

int harden_apply(struct runner *rt)
{
	uint64_t keep = 0, own = 0;
	int r;

	if (rt->cfg.keep_caps && caps_parse(rt->cfg.keep_caps, &keep) < 0) {
		log_error("--keep-caps %s: not a capability list; not starting",
			  rt->cfg.keep_caps);
		return -EINVAL;
	}
	/* A VM's init must still power the machine off at the end.  Only the
	 * runner holds CAP_SYS_BOOT: its children neither inherit it nor can
	 * regain it (it leaves the bounding set too). */
	if (rt->vm_init)
		own = 1ull << CAP_SYS_BOOT;
	caps_drop_bounding(rt, keep);
	caps_lock_securebits(rt, keep != 0);
	if ((r = user_switch(rt)) < 0 || (r = caps_clear(rt, keep, own)) < 0)
		return r;
	if ((r = harden_not_dumpable()) < 0) {
		log_error("PR_SET_DUMPABLE: %s; not starting", strerror(-r));
		return r;
	}
	harden_note(rt, "not_dumpable", "applied");
	no_new_privs(rt);
	if ((r = seccomp_step(rt)) < 0)
		return r;
	note_degraded(rt);
	return 0;
}
