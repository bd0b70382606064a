/* harden.c - drop privileges in the order of protocol/PROTOCOL.md §18.6:
 * the listeners are bound already; then the bounding set, securebits, the
 * user, capabilities, no_new_privs, and seccomp last (so the filter need
 * not allow capset/setuid, as in bubblewrap and minijail).
 *
 * No step can fail the runner: one that cannot be applied (running as a
 * non-root user without capabilities, an old kernel) is recorded as
 * skipped with the reason, shown by INFO and logged. */
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

static void seccomp_step(struct runner *rt)
{
	char detail[64];
	int r;

	if (rt->cfg.seccomp == SECCOMP_OFF) {
		harden_note(rt, "seccomp", "skipped: --seccomp off");
		return;
	}
	r = seccomp_apply(rt, detail, sizeof(detail));
	if (r < 0)
		harden_note(rt, "seccomp", "skipped: %s", strerror(-r));
	else
		harden_note(rt, "seccomp", "applied: %s", detail);
}

void harden_apply(struct runner *rt)
{
	uint64_t keep = 0, own = 0;

	if (rt->cfg.keep_caps && caps_parse(rt->cfg.keep_caps, &keep) < 0)
		log_error("--keep-caps %s: not a capability list; keeping none",
			  rt->cfg.keep_caps);
	/* A VM's init must still power the machine off at the end.  Only the
	 * runner holds CAP_SYS_BOOT: its children neither inherit it nor can
	 * regain it (it leaves the bounding set too). */
	if (rt->vm_init)
		own = 1ull << CAP_SYS_BOOT;
	caps_drop_bounding(rt, keep);
	caps_lock_securebits(rt, keep != 0);
	user_switch(rt);
	caps_clear(rt, keep, own);
	no_new_privs(rt);
	seccomp_step(rt);
}
