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
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define REQ_MAX 8192

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

/* ---- read ---- */

int cmd_read(struct rc_conn *c, int argc, char **argv)
{
	uint8_t buf[REQ_MAX];
	struct rc_frame f;
	struct wire_buf b;
	uint64_t from, to;
	const char *path = NULL;
	int i;

	wb_init(&b, buf, sizeof(buf));
	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--lines") && i + 1 < argc) {
			if (parse_lines(argv[++i], &from, &to) < 0)
				return cmd_usage("--lines wants A:B, A: or :B");
			wb_u64(&b, T_LINE_FROM, from ? from : 1);
			if (to)
				wb_u64(&b, T_LINE_TO, to);
		} else if (!strcmp(argv[i], "--offset") && i + 1 < argc) {
			wb_u64(&b, T_OFFSET, strtoull(argv[++i], NULL, 0));
		} else if (!strcmp(argv[i], "--length") && i + 1 < argc) {
			wb_u64(&b, T_LENGTH, strtoull(argv[++i], NULL, 0));
		} else if (!strcmp(argv[i], "--max-bytes") && i + 1 < argc) {
			wb_u64(&b, T_MAX_BYTES, strtoull(argv[++i], NULL, 0));
		} else if (!path && argv[i][0] != '-') {
			path = argv[i];
		} else {
			return cmd_usage(
			    "usage: read PATH [--lines A:B] "
			    "[--offset N] [--length N] [--max-bytes N]");
		}
	}
	if (!path)
		return cmd_usage("usage: read PATH [--lines A:B]");
	wb_path(&b, T_PATH, path);
	if (stream_call(c, WT_READ, &b, data_to_stdout, NULL, &f))
		return cmd_fail(c);
	if (find_u(f.p, f.h.len, T_TRUNCATED, 0))
		fprintf(stderr, "runnerctl: read %s: output truncated\n", path);
	return 0;
}

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

int cmd_write(struct rc_conn *c, int argc, char **argv)
{
	uint8_t buf[REQ_MAX];
	struct rc_frame f;
	struct wire_buf b;
	const char *path = NULL;
	uint32_t id;
	int i, r;

	wb_init(&b, buf, sizeof(buf));
	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--append"))
			wb_u8(&b, T_WRITE_MODE, WW_APPEND);
		else if (!strcmp(argv[i], "--exclusive"))
			wb_u8(&b, T_WRITE_MODE, WW_EXCLUSIVE);
		else if (!strcmp(argv[i], "-p") ||
			 !strcmp(argv[i], "--parents"))
			wb_u8(&b, T_PARENTS, 1);
		else if (!strcmp(argv[i], "--no-atomic"))
			wb_u8(&b, T_ATOMIC, 0);
		else if (!strcmp(argv[i], "--mode") && i + 1 < argc)
			wb_u32(&b, T_FILE_MODE,
			       (uint32_t)strtoul(argv[++i], NULL, 8));
		else if (!path && argv[i][0] != '-')
			path = argv[i];
		else
			return cmd_usage(
			    "usage: write PATH [--append|--exclusive]"
			    " [-p] [--mode OCTAL] [--no-atomic] < DATA");
	}
	if (!path)
		return cmd_usage("usage: write PATH < DATA");
	wb_path(&b, T_PATH, path);
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

/* ---- edit, stat, mkdir, rm, mv ---- */

int cmd_edit(struct rc_conn *c, int argc, char **argv)
{
	struct rc_frame f;
	struct wire_buf b;
	uint8_t *buf;
	size_t cap;
	bool all = argc == 5 && !strcmp(argv[4], "--all");
	int r;

	if (argc != 4 && !all)
		return cmd_usage("usage: edit PATH OLD NEW [--all]");
	cap = strlen(argv[1]) + strlen(argv[2]) + strlen(argv[3]) + 64;
	buf = malloc(cap);
	if (!buf)
		return cmd_usage("out of memory");
	wb_init(&b, buf, cap);
	wb_path(&b, T_PATH, argv[1]);
	wb_bytes(&b, T_OLD, argv[2], strlen(argv[2]));
	wb_bytes(&b, T_NEW, argv[3], strlen(argv[3]));
	wb_u8(&b, T_REPLACE_ALL, all);
	r = rc_call(c, WT_EDIT, &b, &f);
	free(buf);
	if (r)
		return cmd_fail(c);
	printf("replaced %" PRIu64 "\n", find_u(f.p, f.h.len, T_REPLACED, 0));
	return 0;
}

static const char *type_name(uint64_t t)
{
	static const char *names[] = {"unknown",     "file",	    "directory",
				      "symlink",     "fifo",	    "socket",
				      "char device", "block device"};

	return t < sizeof(names) / sizeof(names[0]) ? names[t] : "unknown";
}

int cmd_stat(struct rc_conn *c, int argc, char **argv)
{
	uint8_t buf[REQ_MAX];
	struct wire_iter it;
	struct wire_field fl;
	struct rc_frame f;
	struct wire_buf b;

	if (argc != 2)
		return cmd_usage("usage: stat PATH");
	wb_init(&b, buf, sizeof(buf));
	wb_path(&b, T_PATH, argv[1]);
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
	return rc_call(c, type, &b, &f) ? cmd_fail(c) : 0;
}

int cmd_mkdir(struct rc_conn *c, int argc, char **argv)
{
	bool p = argc == 3 && !strcmp(argv[1], "-p");

	if (argc != 2 && !p)
		return cmd_usage("usage: mkdir [-p] PATH");
	return simple_path(c, WT_MKDIR, argv[argc - 1], NULL, T_PARENTS, p);
}

int cmd_rm(struct rc_conn *c, int argc, char **argv)
{
	bool r =
	    argc == 3 && (!strcmp(argv[1], "-r") || !strcmp(argv[1], "-rf"));

	if (argc != 2 && !r)
		return cmd_usage("usage: rm [-r] PATH");
	return simple_path(c, WT_REMOVE, argv[argc - 1], NULL, T_RECURSIVE, r);
}

int cmd_mv(struct rc_conn *c, int argc, char **argv)
{
	if (argc != 3)
		return cmd_usage("usage: mv FROM TO");
	return simple_path(c, WT_MOVE, argv[1], argv[2], 0, false);
}

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

int cmd_ls(struct rc_conn *c, int argc, char **argv)
{
	uint8_t buf[REQ_MAX];
	struct rc_frame f;
	struct wire_buf b;
	const char *path = ".";
	int i;

	wb_init(&b, buf, sizeof(buf));
	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-a"))
			wb_u8(&b, T_HIDDEN, 1);
		else if (!strcmp(argv[i], "--depth") && i + 1 < argc)
			wb_u32(&b, T_DEPTH,
			       (uint32_t)strtoul(argv[++i], NULL, 10));
		else if (argv[i][0] != '-')
			path = argv[i];
		else
			return cmd_usage("usage: ls [-a] [--depth N] [PATH]");
	}
	wb_path(&b, T_PATH, path);
	if (records_call(c, WT_LS, &b, ls_print, NULL, &f))
		return cmd_fail(c);
	return fflush(stdout) ? 1 : 0;
}

/* ---- find ---- */

static void find_print(void *ctx, const uint8_t *rec, size_t n)
{
	struct wire_field f;

	(void)ctx;
	if (wire_find(rec, n, T_PATH, &f) >= 0 && f.val)
		printf("%.*s\n", (int)f.len, (const char *)f.val);
}

int cmd_find(struct rc_conn *c, int argc, char **argv)
{
	uint8_t buf[REQ_MAX];
	struct rc_frame f;
	struct wire_buf b;
	const char *root = NULL, *t;
	int i;

	wb_init(&b, buf, sizeof(buf));
	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--name") && i + 1 < argc) {
			wb_str(&b, T_GLOB, argv[++i]);
		} else if (!strcmp(argv[i], "--type") && i + 1 < argc) {
			t = argv[++i];
			wb_u8(&b, T_FILE_TYPE,
			      !strcmp(t, "f")	? WFT_FILE
			      : !strcmp(t, "d") ? WFT_DIR
			      : !strcmp(t, "l") ? WFT_SYMLINK
						: 0xff);
		} else if (!strcmp(argv[i], "--maxdepth") && i + 1 < argc) {
			wb_u32(&b, T_DEPTH,
			       (uint32_t)strtoul(argv[++i], NULL, 10));
		} else if (!strcmp(argv[i], "--max") && i + 1 < argc) {
			wb_u32(&b, T_MAX_RESULTS,
			       (uint32_t)strtoul(argv[++i], NULL, 10));
		} else if (!root && argv[i][0] != '-') {
			root = argv[i];
		} else {
			return cmd_usage(
			    "usage: find ROOT [--name GLOB] "
			    "[--type f|d|l] [--maxdepth N] [--max N]");
		}
	}
	wb_path(&b, T_PATH, root ? root : ".");
	if (records_call(c, WT_FIND, &b, find_print, NULL, &f))
		return cmd_fail(c);
	return fflush(stdout) ? 1 : 0;
}

/* ---- grep ---- */

struct grep_print {
	bool context;
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
		else if (fl.tag == T_LINE)
			line = field_u(&fl);
		else if (fl.tag == T_MATCH)
			match = field_u(&fl);
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

int cmd_grep(struct rc_conn *c, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"include", required_argument, NULL, 'I'},
	    {"max-count", required_argument, NULL, 'm'},
	    {0},
	};
	uint8_t buf[REQ_MAX];
	struct grep_print *g = calloc(1, sizeof(*g));
	struct rc_frame f;
	struct wire_buf b;
	int opt, r;

	if (!g)
		return 2;
	wb_init(&b, buf, sizeof(buf));
	optind = 1;
	while ((opt = getopt_long(argc, argv, "+iFC:m:", opts, NULL)) != -1) {
		switch (opt) {
		case 'i': wb_u8(&b, T_IGNORE_CASE, 1); break;
		case 'F': wb_u8(&b, T_FIXED, 1); break;
		case 'C':
			wb_u32(&b, T_CONTEXT, (uint32_t)atoi(optarg));
			g->context = atoi(optarg) > 0;
			break;
		case 'm':
			wb_u32(&b, T_MAX_RESULTS, (uint32_t)atoi(optarg));
			break;
		case 'I': wb_str(&b, T_GLOB, optarg); break;
		default:
			free(g);
			return cmd_usage("usage: grep [-i] [-F] [-C N] [-m N] "
					 "PATTERN [ROOT] [--include GLOB]");
		}
	}
	if (optind >= argc || argc - optind > 2) {
		free(g);
		return cmd_usage("usage: grep [-i] [-F] [-C N] PATTERN [ROOT]");
	}
	wb_bytes(&b, T_PATTERN, argv[optind], strlen(argv[optind]));
	wb_path(&b, T_PATH, optind + 1 < argc ? argv[optind + 1] : ".");
	r = records_call(c, WT_GREP, &b, grep_line, g, &f);
	if (r) {
		cmd_fail(c);
		free(g);
		return 2;
	}
	r = find_u(f.p, f.h.len, T_COUNT, 0) ? 0 : 1;
	free(g);
	return fflush(stdout) ? 2 : r;
}

/* ---- diff ---- */

int cmd_diff(struct rc_conn *c, int argc, char **argv)
{
	uint8_t buf[2 * REQ_MAX];
	struct rc_frame f;
	struct wire_buf b;

	if (argc != 3)
		return cmd_usage("usage: diff A B");
	wb_init(&b, buf, sizeof(buf));
	wb_path(&b, T_PATH, argv[1]);
	wb_path(&b, T_PATH2, argv[2]);
	if (stream_call(c, WT_DIFF, &b, data_to_stdout, NULL, &f)) {
		cmd_fail(c);
		return 2;
	}
	return find_u(f.p, f.h.len, T_COUNT, 0) ? 1 : 0;
}
