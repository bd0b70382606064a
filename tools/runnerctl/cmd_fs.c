/* cmd_fs.c - runnerctl file commands: read, write, edit, ls, stat, mkdir,
 * rm, mv, find, grep, diff.
 *
 * Output follows the GNU tool each one stands for, so scripts and people
 * can read it the same way: grep prints path:line:text (context lines
 * path-line-text, groups split by "--"), find one path per line, diff a
 * unified diff.  Exit status: 0 success; grep 1 = no match and diff 1 =
 * files differ, as the originals; any error prints one line
 * "runnerctl: E_CODE: message" and exits non-zero (2 for grep and diff).
 */
#include "cmds.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define REQ_MAX 8192
/* DIFF --text travels in the request: under the runner's 4 MiB frame */
#define DIFF_TEXT_MAX ((4u << 20) - 2 * REQ_MAX)

/* ---- small helpers ---- */

static int write_out(const void *p, size_t n)
{
	const uint8_t *b = p;
	ssize_t w;

	while (n) {
		w = write(STDOUT_FILENO, b, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		b += w;
		n -= (size_t)w;
	}
	return 0;
}

static uint64_t field_u(const struct wire_field *f)
{
	uint64_t v = 0;

	wire_uint(f, &v);
	return v;
}

/* Find tag in a payload as an integer, def when absent. */
static uint64_t find_u(const uint8_t *p, size_t n, uint16_t tag, uint64_t def)
{
	struct wire_field f;

	if (wire_find(p, n, tag, &f) < 0 || !f.val)
		return def;
	return field_u(&f);
}

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

/* Send a request and stream its DATA (channel 1) to on_data; returns 0
 * with the RESULT in *res, or the error (c->err set). */
typedef int (*data_fn)(void *ctx, const uint8_t *p, size_t n);

static int stream_call(struct rc_conn *c, uint8_t type,
		       const struct wire_buf *req, data_fn on_data, void *ctx,
		       struct rc_frame *res)
{
	uint32_t id = rc_new_stream(c);
	uint8_t ch;
	uint64_t off;
	const uint8_t *d;
	size_t n;
	int r;

	if ((r = rc_send_fields(c, id, type, req)) < 0)
		return r;
	for (;;) {
		if ((r = rc_recv(c, res)) < 0)
			return r;
		if (res->h.stream == 0 && res->h.type == WT_ERROR)
			return rc_error_of(c, res);
		if (res->h.stream != id)
			continue;
		if (res->h.type == WT_RESULT)
			return 0;
		if (res->h.type == WT_ERROR)
			return rc_error_of(c, res);
		if (res->h.type != WT_DATA ||
		    wire_data_decode(res->p, res->h.len, &ch, &off, &d, &n) <
			0 ||
		    ch != WCH_STDOUT || !n)
			continue;
		if (on_data(ctx, d, n) < 0) {
			snprintf(c->err, sizeof(c->err), "cannot write output");
			return -EPIPE;
		}
	}
}

static int data_to_stdout(void *ctx, const uint8_t *p, size_t n)
{
	(void)ctx;
	return write_out(p, n);
}

/* T_ENTRY records arrive as a byte stream that DATA frames cut
 * anywhere: reassemble, hand each whole record to fn. */
struct records {
	uint8_t *buf;
	size_t len, cap;
	void (*fn)(void *ctx, const uint8_t *rec, size_t n);
	void *ctx;
};

static int records_feed(void *ctx, const uint8_t *p, size_t n)
{
	struct records *rs = ctx;
	size_t pos = 0, need;

	if (rs->len + n > rs->cap) {
		size_t cap = (rs->len + n) * 2;
		uint8_t *b = realloc(rs->buf, cap);
		if (!b)
			return -1;
		rs->buf = b;
		rs->cap = cap;
	}
	memcpy(rs->buf + rs->len, p, n);
	rs->len += n;
	while (rs->len - pos >= 6) {
		need = 6 + wire_get32(rs->buf + pos + 2);
		if (rs->len - pos < need)
			break;
		if (wire_get16(rs->buf + pos) == T_ENTRY)
			rs->fn(rs->ctx, rs->buf + pos + 6, need - 6);
		pos += need;
	}
	memmove(rs->buf, rs->buf + pos, rs->len - pos);
	rs->len -= pos;
	return 0;
}

static int records_call(struct rc_conn *c, uint8_t type,
			const struct wire_buf *req,
			void (*fn)(void *, const uint8_t *, size_t), void *ctx,
			struct rc_frame *res)
{
	struct records rs = {.fn = fn, .ctx = ctx};
	int r = stream_call(c, type, req, records_feed, &rs, res);

	free(rs.buf);
	return r;
}

static void wb_path(struct wire_buf *b, uint16_t tag, const char *path)
{
	wb_bytes(b, tag, path, strlen(path));
}

/* --ignore and --exclude (ls, find, grep). */
static void walk_opts(const struct rc_args *a, struct wire_buf *b)
{
	const char *g;
	int it = 0;

	if (opt_flag(a, "ignore"))
		wb_u8(b, T_IGNORE, 1);
	while ((g = opt_next(a, "exclude", &it)))
		wb_str(b, T_EXCLUDE, g);
}

/* A capped answer says what it left out (on stderr, as grep -m does
 * not: the output stays clean for pipes). */
static void say_more(const struct rc_frame *f)
{
	uint64_t t = find_u(f->p, f->h.len, T_TRUNCATED, 0);

	if (t)
		fprintf(stderr, "runnerctl: %s%" PRIu64 " more not shown\n",
			t == 2 ? "at least " : "",
			find_u(f->p, f->h.len, T_MORE, 0));
}

#define WALK_OPTS                                                              \
	{"ignore", 0, NULL,                                                    \
	 "skip .git and what .gitignore, .ignore and\n"                        \
	 ".git/info/exclude exclude (as rg, git ls-files)",                    \
	 0},                                                                   \
	{                                                                      \
		"exclude", 0, "GLOB",                                          \
		    "skip entries matching GLOB (repeat; a GLOB with\n"        \
		    "'/' matches the path below ROOT, ** any depth)",          \
		    0                                                          \
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
	if (stream_call(c, WT_READ, &b, data_to_stdout, NULL, &f))
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
    .details = "Only regular files; the bytes exactly as stored.\n"
	       "\nexit status: 0; 1 with the error code (E_NOT_FOUND, "
	       "E_IS_DIR...).\n",
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
    .details = "Any size; readers see the old file or the new one.\n"
	       "\nexit status: 0; 1 with the error code (E_EXISTS with "
	       "--exclusive...).\n",
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
    .details = "OLD must occur exactly once (or use --all).  Prints "
	       "'replaced N'.  Use --\nbefore texts that start with '-'.\n"
	       "\nexit status: 0; 1 with E_NOT_MATCHED (no occurrence) or "
	       "E_NOT_UNIQUE\n(several).\n",
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
    .details = "exit status: 0; 1 with E_EXISTS, or E_NOT_FOUND without -p "
	       "when a parent\nis missing.\n",
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
    .details = "exit status: 0; 1 with E_NOT_EMPTY (a directory without -r), "
	       "E_NOT_FOUND\n(without -f)...\n",
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

/* ---- ls ---- */

static void mode_string(uint32_t m, char out[11])
{
	static const char types[] = "?-dlpscb";
	uint64_t t = (m & S_IFMT) == S_IFREG	? 1
		     : (m & S_IFMT) == S_IFDIR	? 2
		     : (m & S_IFMT) == S_IFLNK	? 3
		     : (m & S_IFMT) == S_IFIFO	? 4
		     : (m & S_IFMT) == S_IFSOCK ? 5
		     : (m & S_IFMT) == S_IFCHR	? 6
		     : (m & S_IFMT) == S_IFBLK	? 7
						: 0;
	int i;

	out[0] = types[t];
	for (i = 0; i < 9; i++)
		out[1 + i] = (m & (0400u >> i)) ? "rwxrwxrwx"[i] : '-';
	out[10] = 0;
}

static void ls_print(void *ctx, const uint8_t *rec, size_t n)
{
	struct wire_field name = {0}, target = {0};
	struct wire_iter it;
	struct wire_field fl;
	uint64_t size = 0, mode = 0;
	int64_t mtime = 0;
	char ms[11], ts[32];
	time_t t;

	(void)ctx;
	wire_iter_init(&it, rec, n);
	while (wire_next(&it, &fl) > 0) {
		if (fl.tag == T_NAME)
			name = fl;
		else if (fl.tag == T_TARGET)
			target = fl;
		else if (fl.tag == T_SIZE)
			size = field_u(&fl);
		else if (fl.tag == T_FILE_MODE)
			mode = field_u(&fl);
		else if (fl.tag == T_MTIME_NS)
			wire_int(&fl, &mtime);
	}
	mode_string((uint32_t)mode, ms);
	t = (time_t)(mtime / 1000000000);
	strftime(ts, sizeof(ts), "%Y-%m-%d %H:%M", localtime(&t));
	printf("%s %12" PRIu64 " %s %.*s", ms, size, ts, (int)name.len,
	       (const char *)name.val);
	if (target.val)
		printf(" -> %.*s", (int)target.len, (const char *)target.val);
	putchar('\n');
}

static int ls_run(struct rc_conn *c, const struct rc_args *a)
{
	uint8_t buf[REQ_MAX];
	struct rc_frame f;
	struct wire_buf b;

	wb_init(&b, buf, sizeof(buf));
	if (opt_flag(a, "all"))
		wb_u8(&b, T_HIDDEN, 1);
	if (opt_flag(a, "depth"))
		wb_u32(&b, T_DEPTH, (uint32_t)opt_num(a, "depth", 1));
	if (opt_flag(a, "max"))
		wb_u32(&b, T_MAX_RESULTS, (uint32_t)opt_num(a, "max", 0));
	walk_opts(a, &b);
	wb_path(&b, T_PATH, a->npos ? a->pos[0] : ".");
	if (records_call(c, WT_LS, &b, ls_print, NULL, &f))
		return cmd_fail(c);
	say_more(&f);
	return fflush(stdout) ? 1 : 0;
}

const struct rc_cmd rc_cmd_ls = {
    .name = "ls",
    .fn = ls_run,
    .synopsis = "[PATH]",
    .summary = "list a directory (default .), as ls -l",
    .details = "Like ls -l, sorted by name; symlinks are shown with their "
	       "target, not\nfollowed.\n",
    .opts =
	(const struct rc_opt[]){
	    {"all", 'a', NULL, "include names starting with '.'", 0},
	    {"depth", 0, "N", "list N levels (names relative to PATH)",
	     RC_OPT_NUM},
	    {"max", 0, "N", "at most N entries (how many more: on stderr)",
	     RC_OPT_NUM},
	    WALK_OPTS,
	    {0},
	},
    .max_pos = 1,
};

/* ---- find ---- */

static void find_print(void *ctx, const uint8_t *rec, size_t n)
{
	struct wire_field f;

	(void)ctx;
	if (wire_find(rec, n, T_PATH, &f) >= 0 && f.val)
		printf("%.*s\n", (int)f.len, (const char *)f.val);
}

/* --type: f, d or l as FILE_TYPE, else 0. */
static uint8_t type_of(const char *t)
{
	return !strcmp(t, "f")	 ? WFT_FILE
	       : !strcmp(t, "d") ? WFT_DIR
	       : !strcmp(t, "l") ? WFT_SYMLINK
				 : 0;
}

static int find_check(const struct rc_args *a)
{
	const char *t = opt_str(a, "type", NULL);
	const char *sort = opt_str(a, "sort", "path");

	if (t && !type_of(t))
		return rc_cmd_usage(a->cmd, "--type is f, d or l");
	if (strcmp(sort, "path") && strcmp(sort, "mtime"))
		return rc_cmd_usage(a->cmd, "--sort is path or mtime");
	return 0;
}

static int find_run(struct rc_conn *c, const struct rc_args *a)
{
	const char *t = opt_str(a, "type", NULL), *g;
	uint8_t buf[REQ_MAX];
	struct rc_frame f;
	struct wire_buf b;
	int it = 0;

	wb_init(&b, buf, sizeof(buf));
	/* find -name never matches a '/': here it means a path glob */
	if ((g = opt_str(a, "name", NULL)))
		wb_str(&b, strchr(g, '/') ? T_GLOB : T_NAME, g);
	while ((g = opt_next(a, "glob", &it)))
		wb_str(&b, T_GLOB, g);
	if (!strcmp(opt_str(a, "sort", "path"), "mtime"))
		wb_u8(&b, T_SORT, WSORT_MTIME);
	if (opt_flag(a, "no-hidden"))
		wb_u8(&b, T_HIDDEN, 0);
	walk_opts(a, &b);
	if (t)
		wb_u8(&b, T_FILE_TYPE, type_of(t));
	if (opt_flag(a, "maxdepth"))
		wb_u32(&b, T_DEPTH, (uint32_t)opt_num(a, "maxdepth", 0));
	if (opt_flag(a, "max"))
		wb_u32(&b, T_MAX_RESULTS, (uint32_t)opt_num(a, "max", 0));
	wb_path(&b, T_PATH, a->npos ? a->pos[0] : ".");
	if (records_call(c, WT_FIND, &b, find_print, NULL, &f))
		return cmd_fail(c);
	say_more(&f);
	return fflush(stdout) ? 1 : 0;
}

const struct rc_cmd rc_cmd_find = {
    .name = "find",
    .fn = find_run,
    .synopsis = "[ROOT]",
    .summary = "paths under ROOT (default .), as find prints",
    .details = "Dot entries are included; symlinks are not followed; names "
	       "sorted within\neach directory.\n",
    .opts =
	(const struct rc_opt[]){
	    {"name", 0, "GLOB",
	     "only entries whose name matches (as -name); with\n"
	     "a '/' it is a --glob",
	     0},
	    {"glob", 'g', "GLOB",
	     "only entries matching GLOB (repeat: any): with a\n"
	     "'/' on the path below ROOT, ** any depth, {a,b}\n"
	     "(src/**/*.py, **/test_*.py, *.{c,h})",
	     0},
	    {"sort", 0, "path|mtime",
	     "path (default) or modification time, newest\nfirst", 0},
	    {"no-hidden", 0, NULL, "skip names starting with '.'", 0},
	    WALK_OPTS,
	    {"type", 0, "f|d|l", "only files, directories or symlinks", 0},
	    {"maxdepth", 0, "N", "descend at most N levels (ROOT is 0)",
	     RC_OPT_NUM},
	    {"max", 0, "N",
	     "stop after N results (how many more: on stderr;\n"
	     "with --sort mtime the newest N)",
	     RC_OPT_NUM},
	    {0},
	},
    .check = find_check,
    .max_pos = 1,
};

/* ---- grep ---- */

struct grep_print {
	bool context;
	uint8_t mode; /* enum wire_grep_mode */
	bool any;
	uint64_t last_line;
	char last_path[4096];
};

static void grep_line(void *ctx, const uint8_t *rec, size_t n)
{
	struct grep_print *g = ctx;
	struct wire_field path = {0}, text = {0};
	struct wire_iter it;
	struct wire_field fl;
	uint64_t line = 0, match = 1;
	bool same;

	wire_iter_init(&it, rec, n);
	while (wire_next(&it, &fl) > 0) {
		if (fl.tag == T_PATH)
			path = fl;
		else if (fl.tag == T_TEXT)
			text = fl;
		else if (fl.tag == T_LINE || fl.tag == T_COUNT)
			line = field_u(&fl);
		else if (fl.tag == T_MATCH)
			match = field_u(&fl);
	}
	if (g->mode) { /* -l: the path; -c: path:count */
		printf("%.*s", (int)path.len, (const char *)path.val);
		if (g->mode == WGM_COUNT)
			printf(":%" PRIu64, line);
		putchar('\n');
		return;
	}
	same = path.len < sizeof(g->last_path) &&
	       strlen(g->last_path) == path.len &&
	       !memcmp(g->last_path, path.val, path.len);
	/* grep -C puts "--" between groups that are not adjacent. */
	if (g->context && g->any && (!same || line != g->last_line + 1))
		fputs("--\n", stdout);
	printf("%.*s%c%" PRIu64 "%c", (int)path.len, (const char *)path.val,
	       match ? ':' : '-', line, match ? ':' : '-');
	fwrite(text.val, 1, text.len, stdout);
	putchar('\n');
	g->any = true;
	g->last_line = line;
	if (path.len < sizeof(g->last_path)) {
		memcpy(g->last_path, path.val, path.len);
		g->last_path[path.len] = 0;
	}
}

static int grep_check(const struct rc_args *a)
{
	bool e = opt_flag(a, "regexp");
	const char *syn = opt_str(a, "syntax", "ere");

	if (!e && !a->npos)
		return rc_cmd_usage(a->cmd, "missing PATTERN");
	if (e && a->npos == 2)
		return rc_cmd_usage(a->cmd, "with -e, one ROOT only");
	if (strcmp(syn, "ere") && strcmp(syn, "rust"))
		return rc_cmd_usage(a->cmd, "--syntax is ere or rust");
	if (opt_flag(a, "files-with-matches") && opt_flag(a, "count"))
		return rc_cmd_usage(a->cmd, "-l and -c exclude each other");
	return 0;
}

static int grep_run(struct rc_conn *c, const struct rc_args *a)
{
	const char *pattern = opt_str(a, "regexp", NULL), *root = ".", *g;
	int ie = 0;
	uint8_t buf[REQ_MAX];
	struct grep_print *gp;
	struct rc_frame f;
	struct wire_buf b;
	int r, it = 0;

	if (!pattern) {
		pattern = a->pos[0];
		if (a->npos == 2)
			root = a->pos[1];
	} else if (a->npos == 1) {
		root = a->pos[0];
	}
	if (!(gp = calloc(1, sizeof(*gp))))
		return 2;
	wb_init(&b, buf, sizeof(buf));
	if (opt_flag(a, "ignore-case"))
		wb_u8(&b, T_IGNORE_CASE, 1);
	if (opt_flag(a, "fixed-strings"))
		wb_u8(&b, T_FIXED, 1);
	if (opt_flag(a, "context")) {
		wb_u32(&b, T_CONTEXT, (uint32_t)opt_num(a, "context", 0));
		gp->context = opt_num(a, "context", 0) > 0;
	}
	if (opt_flag(a, "max-count"))
		wb_u32(&b, T_MAX_RESULTS, (uint32_t)opt_num(a, "max-count", 0));
	while ((g = opt_next(a, "include", &it)))
		wb_str(&b, T_GLOB, g);
	gp->mode = opt_flag(a, "files-with-matches") ? WGM_FILES
		   : opt_flag(a, "count")	     ? WGM_COUNT
						     : WGM_LINES;
	if (gp->mode)
		wb_u8(&b, T_GREP_MODE, gp->mode);
	if (opt_flag(a, "word-regexp"))
		wb_u8(&b, T_WORD, 1);
	if (!strcmp(opt_str(a, "syntax", "ere"), "rust") ||
	    opt_flag(a, "perl-regexp"))
		wb_u8(&b, T_SYNTAX, WSYN_RUST);
	if (opt_flag(a, "max-line"))
		wb_u32(&b, T_MAX_LINE, (uint32_t)opt_num(a, "max-line", 0));
	if (opt_flag(a, "no-hidden"))
		wb_u8(&b, T_HIDDEN, 0);
	walk_opts(a, &b);
	/* every -e: alternatives */
	if (opt_flag(a, "regexp"))
		while ((g = opt_next(a, "regexp", &ie)))
			wb_bytes(&b, T_PATTERN, g, strlen(g));
	else
		wb_bytes(&b, T_PATTERN, pattern, strlen(pattern));
	wb_path(&b, T_PATH, root);
	r = records_call(c, WT_GREP, &b, grep_line, gp, &f);
	free(gp);
	if (r) {
		cmd_fail(c);
		return 2;
	}
	say_more(&f);
	r = find_u(f.p, f.h.len, T_COUNT, 0) ? 0 : 1;
	return fflush(stdout) ? 2 : r;
}

const struct rc_cmd rc_cmd_grep = {
    .name = "grep",
    .fn = grep_run,
    .synopsis = "PATTERN [ROOT]",
    .summary = "search files under ROOT: path:line:text",
    .details =
	"PATTERN is a POSIX extended regular expression (grep -E); "
	"a newline in\nit separates alternatives.  Always recursive, "
	"always with line numbers\n(grep -rnI): binary files are "
	"skipped, symlinks not followed.  Context\nlines print as "
	"path-line-text, groups split by '--'.\n"
	"\nexit status: 0 a line matched, 1 none, 2 an error (E_BAD_PATTERN "
	"for an\ninvalid expression).\n",
    .opts =
	(const struct rc_opt[]){
	    {"ignore-case", 'i', NULL, "ignore ASCII case", 0},
	    {"fixed-strings", 'F', NULL, "PATTERN is a literal string", 0},
	    {"regexp", 'e', "PATTERN",
	     "the pattern (then every argument is a ROOT);\n"
	     "for a pattern that starts with '-'; repeat: any",
	     0},
	    {"word-regexp", 'w', NULL, "match whole words only (as grep -w)",
	     0},
	    {"files-with-matches", 'l', NULL,
	     "print only the names of files with a match", 0},
	    {"count", 'c', NULL, "print path:count for files with a match", 0},
	    {"syntax", 0, "ere|rust",
	     "ere (default: grep -E) or rust: \\d \\w \\s \\b,\n"
	     "(?i), (?:...), lazy quantifiers, escapes in [...]",
	     0},
	    {"max-line", 0, "N", "print at most N bytes of a line", RC_OPT_NUM},
	    {"no-hidden", 0, NULL, "skip names starting with '.'", 0},
	    WALK_OPTS,
	    {"context", 'C', "N", "N lines before and after each match (<= 64)",
	     RC_OPT_NUM},
	    {"max-count", 'm', "N",
	     "stop after N matching lines (files with -l, -c)\n"
	     "in all; how many more: on stderr",
	     RC_OPT_NUM},
	    {"include", 0, "GLOB",
	     "only files matching GLOB (repeat: any; globs as\nfind --glob)",
	     0},
	    {"extended-regexp", 'E', NULL,
	     "accepted for habit: PATTERN is an ERE already", 0},
	    {"perl-regexp", 'P', NULL, "the same as --syntax rust", 0},
	    {"line-number", 'n', NULL,
	     "accepted for habit: line numbers are always printed", 0},
	    {"recursive", 'r', NULL,
	     "accepted for habit: directories are always searched", 0},
	    {0},
	},
    .check = grep_check,
    .max_pos = 2,
};

/* ---- diff ---- */

/* The whole of FILE ("-": stdin), under a frame's size; NULL when it is
 * bigger or unreadable (errno). */
static uint8_t *read_text(const char *path, size_t *len)
{
	int fd = strcmp(path, "-") ? open(path, O_RDONLY | O_CLOEXEC) : 0;
	size_t cap = DIFF_TEXT_MAX + 1, n = 0;
	uint8_t *buf = fd < 0 ? NULL : malloc(cap);
	ssize_t r = 1;

	while (buf && n < cap && r) {
		r = read(fd, buf + n, cap - n);
		if (r < 0 && errno != EINTR)
			break;
		n += r > 0 ? (size_t)r : 0;
	}
	if (fd > 0)
		close(fd);
	if (!buf || r < 0 || n == cap) {
		if (n == cap)
			errno = E2BIG;
		free(buf);
		return NULL;
	}
	*len = n;
	return buf;
}

static int diff_check(const struct rc_args *a)
{
	if ((a->npos == 2) == opt_flag(a, "text"))
		return rc_cmd_usage(a->cmd, "give B or --text FILE");
	return 0;
}

static int diff_run(struct rc_conn *c, const struct rc_args *a)
{
	const char *text = opt_str(a, "text", NULL);
	uint8_t *buf, *t = NULL;
	size_t nt = 0;
	struct rc_frame f;
	struct wire_buf b;
	int r;

	if (text && !(t = read_text(text, &nt))) {
		fprintf(stderr, "runnerctl: diff --text %s: %s\n", text,
			strerror(errno));
		return 2;
	}
	if (!(buf = malloc(2 * REQ_MAX + nt))) {
		free(t);
		return 2;
	}
	wb_init(&b, buf, 2 * REQ_MAX + nt);
	wb_path(&b, T_PATH, a->pos[0]);
	if (t)
		wb_bytes(&b, T_TEXT, t, nt);
	else
		wb_path(&b, T_PATH2, a->pos[1]);
	r = stream_call(c, WT_DIFF, &b, data_to_stdout, NULL, &f);
	free(buf);
	free(t);
	if (r) {
		cmd_fail(c);
		return 2;
	}
	return find_u(f.p, f.h.len, T_COUNT, 0) ? 1 : 0;
}

const struct rc_cmd rc_cmd_diff = {
    .name = "diff",
    .fn = diff_run,
    .synopsis = "A [B]",
    .summary = "unified diff of two files (as diff -u), or of a file and "
	       "a text",
    .details = "With --text, B is the text in FILE ('-': stdin): what A "
	       "would become\n(both header lines name A).\n"
	       "\nexit status: 0 equal, 1 different, 2 an error.\n",
    .opts =
	(const struct rc_opt[]){
	    {"text", 0, "FILE",
	     "compare A with the contents of FILE ('-': stdin),\n"
	     "up to 4 MiB",
	     0},
	    {0},
	},
    .check = diff_check,
    .min_pos = 1,
    .max_pos = 2,
};
