/* harden.c - drop privileges in the order of DESIGN.md. */
#include "runner.h"

#include <stdio.h>

static void harden_note(struct runner *rt, const char *step, const char *what)
{
	struct harden_report *h = &rt->harden;

	if (h->nsteps >= HARDEN_STEPS)
		return;
	snprintf(h->steps[h->nsteps++], sizeof(h->steps[0]), "%s=%s", step, what);
}

void harden_apply(struct runner *rt)
{
	harden_note(rt, "user", "skipped: not implemented yet");
}
