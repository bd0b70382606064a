/* harden_user.c - switch to the sandbox user: --user NAME|UID[:GID], or
 * the "sandbox" user when /etc/passwd has one.
 *
 * musl reads /etc/passwd and /etc/group itself (no NSS), so getpwnam_r
 * and getgrouplist work in the static binary; its nscd query finds no
 * socket in a sandbox and falls through. */
#include "harden_internal.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define DEFAULT_USER "sandbox"
#define MAX_GROUPS   64

struct target {
	uid_t uid;
	gid_t gid;
	gid_t groups[MAX_GROUPS];
	int ngroups;
	bool named; /* found in /etc/passwd: HOME and friends are known */
	char name[64];
	char home[256];
};

static bool parse_id(const char *s, const char *end, unsigned long *out)
{
	char *stop;

	if (s == end || *s < '0' || *s > '9')
		return false;
	errno = 0;
	*out = strtoul(s, &stop, 10);
	return !errno && stop == end && *out < (unsigned long)UINT32_MAX;
}

static void from_passwd(struct target *t, const struct passwd *pw)
{
	t->named = true;
	snprintf(t->name, sizeof(t->name), "%s", pw->pw_name);
	snprintf(t->home, sizeof(t->home), "%s", pw->pw_dir);
}

/* 0: t filled; 1: nothing to switch to (no --user, no sandbox user);
 * -ENOENT: the named user does not exist. */
static int resolve(const char *spec, struct target *t)
{
	const char *colon, *end;
	char buf[2048];
	struct passwd pw, *hit = NULL;
	unsigned long uid, gid;

	*t = (struct target){.ngroups = 0};
	if (!spec) {
		getpwnam_r(DEFAULT_USER, &pw, buf, sizeof(buf), &hit);
		if (!hit)
			return 1;
		spec = DEFAULT_USER;
	}
	end = spec + strlen(spec);
	colon = strchr(spec, ':');
	if (parse_id(spec, colon ? colon : end, &uid)) {
		getpwuid_r((uid_t)uid, &pw, buf, sizeof(buf), &hit);
		if (colon && !parse_id(colon + 1, end, &gid))
			return -EINVAL;
		t->uid = (uid_t)uid;
		t->gid = colon ? (gid_t)gid : hit ? hit->pw_gid : (gid_t)uid;
		if (hit)
			from_passwd(t, hit);
	} else {
		if (!hit)
			getpwnam_r(spec, &pw, buf, sizeof(buf), &hit);
		if (!hit)
			return -ENOENT;
		t->uid = hit->pw_uid;
		t->gid = hit->pw_gid;
		from_passwd(t, hit);
	}
	t->ngroups = MAX_GROUPS;
	/* A UID:GID naming someone else's primary group gets no
	 * supplementary groups: the caller chose the group explicitly. */
	if (!t->named || (colon && hit && hit->pw_gid != t->gid) ||
	    getgrouplist(t->name, t->gid, t->groups, &t->ngroups) < 0) {
		t->groups[0] = t->gid;
		t->ngroups = 1;
	}
	return 0;
}

static int switch_ids(const struct target *t)
{
	/* Order: groups and gid need CAP_SETGID, which we keep until
	 * setresuid (securebits NO_SETUID_FIXUP, or we are root). */
	if (setgroups((size_t)t->ngroups, t->groups) < 0 && errno != EPERM)
		return -errno;
	if (setresgid(t->gid, t->gid, t->gid) < 0)
		return -errno;
	if (setresuid(t->uid, t->uid, t->uid) < 0)
		return -errno;
	return 0;
}

/* Programs started later look for their home and name here.  A HOME
 * the environment gives the user we stay (docker run -e HOME=...) is
 * kept; after a switch it was the other user's, so passwd's wins. */
static void user_env(const struct target *t, bool switched)
{
	if (!t->named)
		return;
	setenv("HOME", t->home, switched);
	setenv("USER", t->name, 1);
	setenv("LOGNAME", t->name, 1);
}

int user_preflight(const char *spec)
{
	char buf[2048];
	struct passwd pw, *hit = NULL;

	if (spec || geteuid() != 0)
		return 0;
	getpwnam_r(DEFAULT_USER, &pw, buf, sizeof(buf), &hit);
	if (hit)
		return 0;
	/* Staying root by default is what let sandboxed code rewrite
	 * /sbin/runner: uid 0 must be asked for by name. */
	fputs(
	    "runner: started as root, no --user and no '" DEFAULT_USER
	    "' user: pass --user UID:GID (--user 65534:65534 works anywhere), or --user root to run sandboxed code as root\n",
	    stderr);
	return -EPERM;
}

int user_switch(struct runner *rt)
{
	const char *spec = rt->cfg.user;
	const char *name = spec ? spec : DEFAULT_USER;
	struct target t;
	int r;

	r = resolve(spec, &t);
	if (r == 1 && geteuid() != 0) {
		harden_note(rt, "user",
			    "skipped: no --user, no '%s' user; uid %u",
			    DEFAULT_USER, (unsigned)getuid());
		return 0;
	}
	if (r != 0) {
		/* A mistyped --user must not leave the sandbox running as
		 * whoever started it (docker run --user does the same). */
		log_error("--user %s: %s; not starting", name,
			  r == -ENOENT ? "no such user in /etc/passwd"
			  : r == 1     ? "no such user"
				       : "want NAME, UID or UID:GID");
		return r < 0 ? r : -ENOENT;
	}
	if (t.uid == 0 && switch_ids(&t) == 0) {
		/* Asked for by name; still said loudly, here and in INFO. */
		user_env(&t, false); /* root stays root */
		log_warn("--user %s: sandboxed code runs as root", name);
		harden_note(
		    rt, "user",
		    "applied: uid 0 gid %u; WARNING: sandboxed code runs as root (--user %s)",
		    (unsigned)t.gid, name);
		return 0;
	}
	if (getuid() == t.uid && geteuid() == t.uid && getgid() == t.gid) {
		switch_ids(&t); /* drop extra groups if we may; else as is */
		user_env(&t, false);
		harden_note(rt, "user", "applied: already uid %u gid %u",
			    (unsigned)t.uid, (unsigned)t.gid);
		return 0;
	}
	r = switch_ids(&t);
	if (r < 0 && (spec || geteuid() == 0)) {
		/* Asked for, or root would stay root without being asked:
		 * fail closed (no CAP_SETUID/CAP_SETGID, e.g. k8s drop ALL
		 * with a root pod). */
		log_error(
		    "--user %s: cannot switch to uid %u gid %u: %s (running as uid %u); not starting",
		    name, (unsigned)t.uid, (unsigned)t.gid, strerror(-r),
		    (unsigned)getuid());
		return r;
	}
	if (r < 0) {
		harden_note(rt, "user",
			    "skipped: uid %u:%u: %s (running as %u)",
			    (unsigned)t.uid, (unsigned)t.gid, strerror(-r),
			    (unsigned)getuid());
		return 0;
	}
	user_env(&t, true);
	harden_note(rt, "user", "applied: uid %u gid %u groups %d",
		    (unsigned)t.uid, (unsigned)t.gid, t.ngroups);
	return 0;
}
