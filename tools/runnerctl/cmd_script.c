/* cmd_script.c - exec -f of a script longer than the runner takes as
 * one COMMAND (--max-command, 1 MiB by default; or the frame limit).
 *
 * The script is uploaded into a temp file in the sandbox by a SPAWN of
 * sh (mktemp, then cat from a stdin pipe, flow-controlled like any
 * upload), and the EXEC's COMMAND becomes a short line that opens the
 * file, unlinks it and sources it from the open fd: the session's shell
 * runs it at top level, so cd, variables and functions persist exactly
 * as with COMMAND, and no file is left behind whatever the script does.
 */
#include "cmds.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define STAGE_CHUNK (256u << 10)
#define INFO_LIMIT  "max_command="

/* What the runner takes as one COMMAND: its max_command, bounded by
 * what fits one frame with the other fields. */
size_t script_max_command(struct rc_conn *c)
{
	size_t frame = c->max_frame > 4096 ? c->max_frame - 4096 : 0;
	struct wire_iter it;
	struct wire_field fl;
	struct rc_frame f;
	struct wire_buf b;
	size_t max = frame;
	char num[24];

	wb_init(&b, NULL, 0);
	if (rc_call(c, WT_INFO, &b, &f))
		return frame; /* the EXEC will say what is wrong */
	wire_iter_init(&it, f.p, f.h.len);
	while (wire_next(&it, &fl) > 0) {
		if (fl.tag != T_LIMIT || fl.len <= strlen(INFO_LIMIT) ||
		    fl.len - strlen(INFO_LIMIT) >= sizeof(num) ||
		    memcmp(fl.val, INFO_LIMIT, strlen(INFO_LIMIT)))
			continue;
		memcpy(num, fl.val + strlen(INFO_LIMIT),
		       fl.len - strlen(INFO_LIMIT));
		num[fl.len - strlen(INFO_LIMIT)] = 0;
		max = (size_t)strtoull(num, NULL, 10);
	}
	return max < frame ? max : frame;
}

struct stage {
	char path[512]; /* the temp file, as the staging sh printed it */
	size_t plen;
	int64_t exit; /* the staging sh's exit status, once it ended */
};

/* A frame of the staging SPAWN (stdout is the temp file's name):
 * RC_CONTINUE, 0 at its RESULT, 1 at an ERROR (c->err set). */
static int stage_frame(struct rc_conn *c, uint32_t id, struct stage *st,
		       const struct rc_frame *f)
{
	const uint8_t *d;
	uint64_t off;
	uint8_t ch;
	size_t n;

	if (f->h.stream == 0 && f->h.type == WT_ERROR)
		return rc_error_of(c, f), 1;
	if (f->h.stream != id)
		return RC_CONTINUE;
	if (f->h.type == WT_ERROR)
		return rc_error_of(c, f), 1;
	if (f->h.type == WT_RESULT) {
		st->exit = (int64_t)rc_field_uint(f, T_EXIT_STATUS, 1);
		return 0;
	}
	if (f->h.type == WT_DATA &&
	    wire_data_decode(f->p, f->h.len, &ch, &off, &d, &n) == 0 &&
	    ch == WCH_STDOUT && n < sizeof(st->path) - st->plen) {
		memcpy(st->path + st->plen, d, n);
		st->plen += n;
	}
	return RC_CONTINUE;
}

/* Send p within the stream's credit, FIN at the end, and read frames
 * until the RESULT.  0, or 1 with c->err set. */
static int stage_upload(struct rc_conn *c, uint32_t id, const uint8_t *p,
			size_t n, struct stage *st)
{
	int r = RC_CONTINUE;
	struct rc_frame f;
	size_t off = 0, k;
	bool fin = false;

	while (r == RC_CONTINUE) {
		while (!fin && rc_credit(c, id) > 0) {
			k = n - off < STAGE_CHUNK ? n - off : STAGE_CHUNK;
			if ((int64_t)k > rc_credit(c, id))
				k = (size_t)rc_credit(c, id);
			fin = off + k == n;
			if (rc_send_data(c, id, off, p + off, k, fin) < 0)
				return 1;
			off += k;
		}
		if (rc_recv(c, &f) < 0)
			return 1;
		r = stage_frame(c, id, st, &f);
	}
	if (r == 0 && (st->exit || !fin || !st->plen)) {
		snprintf(
		    c->err, sizeof(c->err),
		    "the script is longer than the runner's --max-command and could not be staged in a temp file (sh exit %d)",
		    (int)st->exit);
		return 1;
	}
	return r;
}

/* Append s to q in single quotes for sh. */
static char *sh_quote(char *q, const char *s, size_t n)
{
	size_t i;

	*q++ = '\'';
	for (i = 0; i < n; i++) {
		if (s[i] == '\'') {
			q = stpcpy(q, "'\\''");
		} else {
			*q++ = s[i];
		}
	}
	*q++ = '\'';
	return q;
}

/* The line that runs the staged file: opened as fd 9, unlinked, then
 * sourced through /dev/fd/9.  NULL if out of memory. */
static uint8_t *stage_command(const struct stage *st, size_t *len)
{
	size_t cap = 64 + 2 * (4 * st->plen + 2);
	char *cmd = malloc(cap), *q;

	if (!cmd)
		return NULL;
	q = stpcpy(cmd, "{ \\command rm -f -- ");
	q = sh_quote(q, st->path, st->plen);
	q = stpcpy(q, "; . /dev/fd/9; } 9< ");
	q = sh_quote(q, st->path, st->plen);
	*len = (size_t)(q - cmd);
	return (uint8_t *)cmd;
}

uint8_t *script_stage(struct rc_conn *c, const uint8_t *p, size_t n,
		      size_t *len)
{
	static const char *const argv[] = {
	    "sh", "-c",
	    "umask 077; f=$(mktemp) && cat > \"$f\" && printf %s \"$f\""};
	struct stage st = {.plen = 0};
	uint8_t buf[512];
	struct wire_buf b;
	unsigned i;
	uint32_t id;

	wb_init(&b, buf, sizeof(buf));
	for (i = 0; i < sizeof(argv) / sizeof(argv[0]); i++)
		wb_str(&b, T_ARGV, argv[i]);
	wb_u8(&b, T_STDIN, 1);
	id = rc_new_stream(c);
	rc_track(c, id);
	if (rc_send_fields(c, id, WT_SPAWN, &b) < 0 ||
	    stage_upload(c, id, p, n, &st))
		return NULL;
	return stage_command(&st, len);
}
