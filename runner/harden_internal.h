/* harden_internal.h - between harden.c, harden_user.c, harden_caps.c and
 * seccomp.c; nothing else includes this. */
#ifndef RUNNER_HARDEN_INTERNAL_H
#define RUNNER_HARDEN_INTERNAL_H

#include "runner.h"

/* Record one step for INFO ("step=applied[: detail]" or
 * "step=skipped: reason") and log it. */
void harden_note(struct runner *rt, const char *step, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* harden_caps.c.  A capability set is a bit mask: bit N = capability N
 * (capability numbers stop below 64). */
int caps_parse(const char *text, uint64_t *mask);
void caps_drop_bounding(struct runner *rt, uint64_t keep);
/* Securebits come before the user switch: setting them needs
 * CAP_SETPCAP, which the caps step removes; and NO_SETUID_FIXUP makes
 * the switch leave capabilities alone, so the caps step is the one place
 * that decides them. */
void caps_lock_securebits(struct runner *rt, bool ambient);
/* keep: permitted, effective, inheritable and ambient (programs started
 * by the runner inherit them).  own: permitted and effective only. */
int caps_clear(struct runner *rt, uint64_t keep, uint64_t own);

/* harden_user.c: 0 (applied or a default degraded), or -errno when an
 * explicit --user cannot be applied or sandboxed code would be root
 * without --user root (said on the log). */
int user_switch(struct runner *rt);

/* seccomp.c: 0 and a description, or -errno. */
int seccomp_apply(const struct runner *rt, char *detail, size_t len);

#endif
