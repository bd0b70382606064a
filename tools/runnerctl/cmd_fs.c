/* cmd_fs.c - runnerctl file commands on one path: read, write, edit,
 * stat, mkdir, rm, mv.  (ls, find, grep: cmd_walk.c; diff: cmd_diff.c.)
 *
 * read writes the bytes as they are; any error prints one line
 * "runnerctl: E_CODE: message" and exits non-zero.
 */
#include "fs_stream.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* Parse "A:B", "A:" or ":B" into from/to. */
static int parse_lines(const char *s, uint64_t *from, uint64_t *to)
{
	char *end;

	*from = strtoull(s, &end, 10);
	if (*end != ':')
		return -1;
	*to = strtoull(end + 1, &end, 10);
	return *end ? -1 : 0;
}

/* ---- read ---- */

static int read_check(const struct rc_args *a)
{
	const char *lines = opt_str(a, "lines", NULL);
	uint64_t from, to;

	if (lines && parse_lines(lines, &from, &to) < 0)
		return rc_cmd_usage(a->cmd, "--lines wants A:B, A: or :B");
	return 0;
}

static int read_run(struct rc_conn *c, const struct rc_args *a)
{
	const char *path = a->pos[0], *lines = opt_str(a, "lines", NULL);
	uint8_t buf[REQ_MAX];
	struct rc_frame f;
	struct wire_buf b;
	uint64_t from, to;

	wb_init(&b, buf, sizeof(buf));
	if (lines && parse_lines(lines, &from, &to) == 0) {
		wb_u64(&b, T_LINE_FROM, from ? from : 1);
		if (to)
			wb_u64(&b, T_LINE_TO, to);
	}
	if (opt_flag(a, "offset"))
		wb_u64(&b, T_OFFSET, opt_num(a, "offset", 0));
	if (opt_flag(a, "length"))
		wb_u64(&b, T_LENGTH, opt_num(a, "length", 0));
	if (opt_flag(a, "max-bytes"))
		wb_u64(&b, T_MAX_BYTES, opt_num(a, "max-bytes", 0));
	if (opt_flag(a, "numbers"))
		wb_u8(&b, T_LINE_NUMBERS, 1);
	if (opt_flag(a, "max-line"))
		wb_u32(&b, T_MAX_LINE, (uint32_t)opt_num(a, "max-line", 0));
	if (opt_flag(a, "binary"))
		wb_u8(&b, T_BINARY, 1);
	wb_path(&b, T_PATH, path);
	if (rc_call_data(c, WT_READ, &b, data_to_stdout, NULL, &f))
		return cmd_fail(c);
	if (find_u(f.p, f.h.len, T_TRUNCATED, 0))
		fprintf(stderr, "runnerctl: read %s: output truncated\n", path);
	if (find_u(f.p, f.h.len, T_BINARY, 0))
		fprintf(stderr,
			"runnerctl: read %s: a binary file, not printed\n",
			path);
	return 0;
}

const struct rc_cmd rc_cmd_read = {
    .name = "read",
    .fn = read_run,
    .synopsis = "PATH",
    .summary = "print a file (or some of its lines or bytes)",
    .details =
	"Only regular files; the bytes exactly as stored.\n"
	"\nexit status: 0; 1 with the error code (E_NOT_FOUND, E_IS_DIR...).\n",
    .opts =
	(const struct rc_opt[]){
	    {"lines", 0, "A:B",
	     "lines A to B, 1-based, inclusive (A: to the end,\n"
	     ":B from the start)",
	     0},
	    {"offset", 0, "N", "start at byte N", RC_OPT_NUM},
	    {"length", 0, "N", "at most N bytes from the offset", RC_OPT_NUM},
	    {"max-bytes", 0, "N", "stop after N bytes (says so on stderr)",
	     RC_OPT_NUM},
	    {"numbers", 'n', NULL, "number the lines as cat -n does", 0},
	    {"max-line", 0, "N",
	     "cut lines after N bytes, ending them with\n"
	     "' [K bytes cut]'",
	     RC_OPT_NUM},
	    {"binary", 0, NULL,
	     "print nothing for a file with a NUL byte in its\n"
	     "first 8 KiB (says so on stderr)",
	     0},
	    {0},
	},
    .check = read_check,
    .min_pos = 1,
    .max_pos = 1,
};

/* ---- write ---- */

/* Wait until the runner grants credit, noticing an early ERROR. */
static int wait_credit(struct rc_conn *c, uint32_t id, struct rc_frame *f)
{
	int r;

	while (rc_credit(c, id) <= 0) {
		if ((r = rc_recv(c, f)) < 0)
			return r;
		if (f->h.stream == id && f->h.type == WT_ERROR)
			return rc_error_of(c, f);
		if (f->h.stream == id && f->h.type == WT_RESULT)
			return -EPROTO;
	}
	return 0;
}

static int upload(struct rc_conn *c, uint32_t id, struct rc_frame *f)
{
	/* 1 MiB frames: the runner writes one while the next is in flight. */
	size_t cap = c->max_frame - WIRE_DATA_PREFIX < (1u << 20)
			 ? c->max_frame - WIRE_DATA_PREFIX
			 : (1u << 20),
	       want;
	uint8_t *chunk = malloc(cap);
	uint64_t off = 0;
	ssize_t n = 1;
	int r = 0;

	if (!chunk)
		return -ENOMEM;
	while (n > 0) {
		if ((r = wait_credit(c, id, f)) != 0)
			break;
		want = (size_t)rc_credit(c, id) < cap ? (size_t)rc_credit(c, id)
						      : cap;
		n = read(STDIN_FILENO, chunk, want);
		if (n < 0 && errno == EINTR) {
			n = 1;
			continue;
		}
		if (n < 0) {
			r = -errno;
			snprintf(c->err, sizeof(c->err), "stdin: %s",
				 strerror(errno));
			break;
		}
		if ((r = rc_send_data(c, id, off, chunk, (size_t)n, n == 0)))
			break;
		off += (uint64_t)n;
	}
	free(chunk);
	return r;
}

/* --mode: octal permission bits, else -1. */
static long mode_of(const char *s)
{
	char *end;
	unsigned long m = strtoul(s, &end, 8);

	return *end || !*s || m > 07777 ? -1 : (long)m;
}

static int write_check(const struct rc_args *a)
{
	const char *mode = opt_str(a, "mode", NULL);

	if (opt_flag(a, "append") && opt_flag(a, "exclusive"))
		return rc_cmd_usage(a->cmd,
				    "--append or --exclusive, not both");
	if (mode && mode_of(mode) < 0)
		return rc_cmd_usage(
		    a->cmd, "--mode wants octal bits (0644), not '%s'", mode);
	return 0;
}

static int write_run(struct rc_conn *c, const struct rc_args *a)
{
	uint8_t buf[REQ_MAX];
	struct rc_frame f;
	struct wire_buf b;
	const char *mode = opt_str(a, "mode", NULL);
	uint32_t id;
	int r;

	wb_init(&b, buf, sizeof(buf));
	if (opt_flag(a, "append"))
		wb_u8(&b, T_WRITE_MODE, WW_APPEND);
	if (opt_flag(a, "exclusive"))
		wb_u8(&b, T_WRITE_MODE, WW_EXCLUSIVE);
	if (opt_flag(a, "parents"))
		wb_u8(&b, T_PARENTS, 1);
	if (opt_flag(a, "no-atomic"))
		wb_u8(&b, T_ATOMIC, 0);
	if (mode)
		wb_u32(&b, T_FILE_MODE, (uint32_t)mode_of(mode));
	wb_path(&b, T_PATH, a->pos[0]);
	id = rc_new_stream(c);
	rc_track(c, id);
	if ((r = rc_send_fields(c, id, WT_WRITE, &b)) < 0 ||
	    (r = upload(c, id, &f)) != 0)
		return cmd_fail(c);
	for (;;) {
		if (rc_recv(c, &f) < 0)
			return cmd_fail(c);
		if (f.h.stream == id && f.h.type == WT_RESULT)
			return 0;
		if (f.h.stream == id && f.h.type == WT_ERROR) {
			rc_error_of(c, &f);
			return cmd_fail(c);
		}
	}
}

const struct rc_cmd rc_cmd_write = {
    .name = "write",
    .fn = write_run,
    .synopsis = "PATH < DATA",
    .summary = "our stdin to a file (atomic: temp + rename)",
    .details =
	"Any size; readers see the old file or the new one.\n"
	"\nexit status: 0; 1 with the error code (E_EXISTS with --exclusive...).\n",
    .opts =
	(const struct rc_opt[]){
	    {"append", 0, NULL, "add to the end instead of replacing", 0},
	    {"exclusive", 0, NULL, "fail (E_EXISTS) if PATH exists", 0},
	    {"parents", 'p', NULL, "create missing parent directories", 0},
	    {"mode", 0, "OCTAL",
	     "permission bits, exact (default: kept, or 0644)", 0},
	    {"no-atomic", 0, NULL, "write in place, not through a temp file",
	     0},
	    {0},
	},
    .check = write_check,
    .min_pos = 1,
    .max_pos = 1,
};

/* ---- edit, stat, mkdir, rm, mv ---- */

static int edit_run(struct rc_conn *c, const struct rc_args *a)
{
	struct rc_frame f;
	struct wire_buf b;
	uint8_t *buf;
	size_t cap;
	int r;

	cap = strlen(a->pos[0]) + strlen(a->pos[1]) + strlen(a->pos[2]) + 64;
	buf = malloc(cap);
	if (!buf)
		return cmd_usage("out of memory");
	wb_init(&b, buf, cap);
	wb_path(&b, T_PATH, a->pos[0]);
	wb_bytes(&b, T_OLD, a->pos[1], strlen(a->pos[1]));
	wb_bytes(&b, T_NEW, a->pos[2], strlen(a->pos[2]));
	wb_u8(&b, T_REPLACE_ALL, opt_flag(a, "all"));
	r = rc_call(c, WT_EDIT, &b, &f);
	free(buf);
	if (r)
		return cmd_fail(c);
	printf("replaced %" PRIu64 "\n", find_u(f.p, f.h.len, T_REPLACED, 0));
	return 0;
}

const struct rc_cmd rc_cmd_edit = {
    .name = "edit",
    .fn = edit_run,
    .synopsis = "PATH OLD NEW",
    .summary = "replace the exact text OLD by NEW in a file",
    .details =
	"OLD must occur exactly once (or use --all).  Prints 'replaced N'.  Use --\nbefore texts that start with '-'.\n"
	"\nexit status: 0; 1 with E_NOT_MATCHED (no occurrence) or E_NOT_UNIQUE\n(several).\n",
    .opts =
	(const struct rc_opt[]){
	    {"all", 0, NULL, "replace every occurrence", 0},
	    {0},
	},
    .min_pos = 3,
    .max_pos = 3,
};

static const char *type_name(uint64_t t)
{
	static const char *names[] = {"unknown",     "file",	    "directory",
				      "symlink",     "fifo",	    "socket",
				      "char device", "block device"};

	return t < sizeof(names) / sizeof(names[0]) ? names[t] : "unknown";
}

static int stat_run(struct rc_conn *c, const struct rc_args *a)
{
	uint8_t buf[REQ_MAX];
	struct wire_iter it;
	struct wire_field fl;
	struct rc_frame f;
	struct wire_buf b;

	wb_init(&b, buf, sizeof(buf));
	wb_path(&b, T_PATH, a->pos[0]);
	if (rc_call(c, WT_STAT, &b, &f))
		return cmd_fail(c);
	wire_iter_init(&it, f.p, f.h.len);
	while (wire_next(&it, &fl) > 0) {
		switch (fl.tag) {
		case T_FILE_TYPE:
			printf("type: %s\n", type_name(field_u(&fl)));
			break;
		case T_SIZE: printf("size: %" PRIu64 "\n", field_u(&fl)); break;
		case T_FILE_MODE:
			printf("mode: %04" PRIo64 "\n", field_u(&fl) & 07777);
			break;
		case T_MTIME_NS:
			printf("mtime_ns: %" PRIu64 "\n", field_u(&fl));
			break;
		case T_UID_OWNER:
			printf("uid: %" PRIu64 "\n", field_u(&fl));
			break;
		case T_GID: printf("gid: %" PRIu64 "\n", field_u(&fl)); break;
		case T_NLINK:
			printf("nlink: %" PRIu64 "\n", field_u(&fl));
			break;
		case T_TARGET:
			printf("target: %.*s\n", (int)fl.len,
			       (const char *)fl.val);
			break;
		}
	}
	return 0;
}

const struct rc_cmd rc_cmd_stat = {
    .name = "stat",
    .fn = stat_run,
    .synopsis = "PATH",
    .summary = "type, size, mode, mtime, owner (lstat)",
    .min_pos = 1,
    .max_pos = 1,
};

/* PATH-only requests with one optional boolean flag. */
static int simple_path(struct rc_conn *c, uint8_t type, const char *path,
		       const char *path2, uint16_t flag_tag, bool flag)
{
	uint8_t buf[2 * REQ_MAX];
	struct rc_frame f;
	struct wire_buf b;

	wb_init(&b, buf, sizeof(buf));
	wb_path(&b, T_PATH, path);
	if (path2)
		wb_path(&b, T_PATH2, path2);
	if (flag)
		wb_u8(&b, flag_tag, 1);
	return rc_call(c, type, &b, &f);
}

static int mkdir_run(struct rc_conn *c, const struct rc_args *a)
{
	return simple_path(c, WT_MKDIR, a->pos[0], NULL, T_PARENTS,
			   opt_flag(a, "parents"))
		   ? cmd_fail(c)
		   : 0;
}

const struct rc_cmd rc_cmd_mkdir = {
    .name = "mkdir",
    .fn = mkdir_run,
    .synopsis = "PATH",
    .summary = "make a directory",
    .details =
	"exit status: 0; 1 with E_EXISTS, or E_NOT_FOUND without -p when a parent\nis missing.\n",
    .opts =
	(const struct rc_opt[]){
	    {"parents", 'p', NULL,
	     "make missing parents; an existing directory is fine", 0},
	    {0},
	},
    .min_pos = 1,
    .max_pos = 1,
};

static int rm_run(struct rc_conn *c, const struct rc_args *a)
{
	int r = simple_path(c, WT_REMOVE, a->pos[0], NULL, T_RECURSIVE,
			    opt_flag(a, "recursive"));

	/* -f: a missing path is what was wanted. */
	if (r == E_NOT_FOUND && opt_flag(a, "force"))
		return 0;
	return r ? cmd_fail(c) : 0;
}

const struct rc_cmd rc_cmd_rm = {
    .name = "rm",
    .fn = rm_run,
    .synopsis = "PATH",
    .summary = "remove a file, a symlink or an empty directory",
    .details =
	"exit status: 0; 1 with E_NOT_EMPTY (a directory without -r), E_NOT_FOUND\n(without -f)...\n",
    .opts =
	(const struct rc_opt[]){
	    {"recursive", 'r', NULL, "remove a directory and what it holds", 0},
	    {"force", 'f', NULL, "a missing PATH is no error", 0},
	    {0},
	},
    .min_pos = 1,
    .max_pos = 1,
};

static int mv_run(struct rc_conn *c, const struct rc_args *a)
{
	return simple_path(c, WT_MOVE, a->pos[0], a->pos[1], 0, false)
		   ? cmd_fail(c)
		   : 0;
}

const struct rc_cmd rc_cmd_mv = {
    .name = "mv",
    .fn = mv_run,
    .synopsis = "FROM TO",
    .summary = "rename (an existing TO is replaced)",
    .min_pos = 2,
    .max_pos = 2,
};
