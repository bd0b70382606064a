/* cmd_walk.c - runnerctl commands that walk a tree: ls, find, grep, and
 * the printing of the records they answer with.
 *
 * Output follows the GNU tool each one stands for, so scripts and people
 * can read it the same way: grep prints path:line:text (context lines
 * path-line-text, groups split by "--"), find one path per line.  Exit
 * status: 0 success; grep 1 = no match, as the original; any error
 * prints one line "runnerctl: E_CODE: message" and exits non-zero (2
 * for grep).
 */
#include "fs_stream.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

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
    .details =
	"Like ls -l, sorted by name; symlinks are shown with their target, not\nfollowed.\n",
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
    .details =
	"Dot entries are included; symlinks are not followed; names sorted within\neach directory.\n",
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
	"PATTERN is a POSIX extended regular expression (grep -E); a newline in\nit separates alternatives.  Always recursive, always with line numbers\n(grep -rnI): binary files are skipped, symlinks not followed.  Context\nlines print as path-line-text, groups split by '--'.\n"
	"\nexit status: 0 a line matched, 1 none, 2 an error (E_BAD_PATTERN for an\ninvalid expression).\n",
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
