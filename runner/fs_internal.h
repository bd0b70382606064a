/* fs_internal.h - shared between the fs_*.c files: confined path
 * resolution, request helpers, the forked walk helper, and the pure parts
 * (line slicing, diff) that the unit tests link alone. */
#ifndef RUNNER_FS_INTERNAL_H
#define RUNNER_FS_INTERNAL_H

#include "glob.h"
#include "runner.h"
#include "dispatch.h"

#include <limits.h>
#include <sys/stat.h>

/* Bound on one request path, after the root is stripped. */
#define FS_PATH_MAX 4096
/* EDIT and DIFF hold whole files in memory: this is their ceiling. */
#define FS_WHOLE_FILE_MAX (64u << 20)

struct fs_job;

struct fs_state {
	struct runner *rt;
	int root_fd;	     /* O_PATH of --root, or -1: paths are plain */
	bool use_openat2;    /* false after ENOSYS, or forced for tests */
	struct fs_job *jobs; /* live helpers, killed by fs_fini */
};

static inline struct fs_state *fs_of(struct stream *s)
{
	return stream_runner(s)->fs;
}

/* ---- fs_path.c: every path a client names goes through here ---- */

/* Copy a protocol path into buf as a C string: -EINVAL when empty or
 * holding a NUL, -ENAMETOOLONG past FS_PATH_MAX. */
int fs_path_copy(char *buf, const struct wire_field *f);
/* Open path, following symlinks, confined to the root when there is
 * one (absolute paths are relative to it; `..` above it is -EXDEV).
 * Returns an fd or -errno. */
int fs_open(struct fs_state *fs, const char *path, int flags, mode_t mode);
/* Open the directory holding path's last component; its name (no '/',
 * never "." or "..") is copied to name.  The caller then acts on the
 * entry itself with the *at() calls: a symlink there is not followed. */
int fs_open_parent(struct fs_state *fs, const char *path, char *name,
		   size_t cap);
/* As fs_open_parent, but when the last component is a symlink it is
 * followed (inside the root) to the entry it names: WRITE and EDIT
 * replace the file a link points to, not the link. */
int fs_open_parent_follow(struct fs_state *fs, const char *path, char *name,
			  size_t cap);

/* ---- fs.c: request plumbing ---- */

/* Fail s with the code for err and a message naming what failed and the
 * path; EXDEV becomes E_ESCAPE with an explanation. */
void fs_fail(struct stream *s, int err, const char *op, const char *path);
/* The T_PATH (or other tag) field as a C string; on error s is failed
 * and -1 returned. */
int fs_req_path(struct stream *s, const uint8_t *p, size_t n, uint16_t tag,
		char *buf);
/* st is what op's path resolved to: 0 when a regular file of at most
 * max bytes (0: any), else s is failed (E_IS_DIR, E_LIMIT,
 * E_UNSUPPORTED) and -1. */
int fs_want_regular(struct stream *s, const struct stat *st, const char *op,
		    const char *path, uint64_t max);
/* Open a regular file of at most max bytes (0: any) for reading, or with
 * dir_ok a directory for getdents; resolved and checked before it is
 * opened, so a FIFO never blocks and a device is never opened.  An fd,
 * or -1 with s failed. */
int fs_open_file(struct stream *s, const char *op, const char *path,
		 uint64_t max, bool dir_ok);
/* Add a GLOB or EXCLUDE pattern to set; on error s is failed
 * (E_BAD_PATTERN) and -1 returned. */
int fs_req_glob(struct stream *s, struct glob_set *set, const char *pat,
		size_t len);
/* Send a RESULT, or fail the stream with E_INTERNAL if it cannot go. */
void fs_result(struct stream *s, const struct wire_buf *b);
uint8_t fs_file_type(mode_t mode);
int64_t fs_mtime_ns(const struct stat *st);
/* Write all of p to a regular file fd; -errno on failure. */
int fs_write_all(int fd, const void *p, size_t n);
/* Read up to size bytes (fewer at EOF): the count, or -errno. */
ssize_t fs_read_full(int fd, void *buf, size_t size);
/* mkdir -p; 0 created, 1 existed, -errno. */
int fs_mkdir_parents(struct fs_state *fs, char *path, mode_t mode);
/* Remove a tree below dirfd/name without following symlinks. */
int fs_remove_tree(int dirfd, const char *name);
/* Copy sfd/sname to dfd/dname (which must not exist): a file, a symlink
 * (not followed), a FIFO or device, or a directory with everything in
 * it; mode, times and (for root) owner kept.  Hard links become copies. */
int fs_copy_tree(int sfd, const char *sname, int dfd, const char *dname);

/* ---- fs_write.c: temp file + rename in the same directory ---- */

struct fs_temp {
	int dirfd;
	int fd;
	char name[NAME_MAX + 1]; /* final name in dirfd */
	char tmp[NAME_MAX + 1];	 /* temp name in dirfd, "" when none */
};

/* Create a temp file next to name in dirfd, mode as given. */
int fs_temp_open(struct fs_temp *t, int dirfd, const char *name, mode_t mode);
/* Rename the temp over the final name (exclusive: link it, failing with
 * -EEXIST if the name exists); closes the temp fd, not dirfd. */
int fs_temp_commit(struct fs_temp *t);
int fs_temp_commit_mode(struct fs_temp *t, bool exclusive);
/* Unlink the temp file and close everything. */
void fs_temp_abort(struct fs_temp *t);

/* ---- fs_job.c: work done in a forked helper, streamed back ---- */

/* What a helper produces: a byte stream on DATA channel 1, and a summary
 * that becomes the RESULT (or ERROR when code != 0). */
struct fs_summary {
	uint64_t count;
	uint64_t more;	    /* results past the cap, counted not sent */
	uint32_t truncated; /* 1 capped, 2 capped and counting stopped */
	int32_t code;	    /* enum wire_err, 0 for RESULT */
	int32_t err;	    /* errno */
	char msg[200];
};

/* Results counted past MAX_RESULTS before counting stops. */
#define FS_MORE_MAX 100000
/* May one more result go out under max (0: no cap)?  Past it the result
 * is only counted in sum->more, and after FS_MORE_MAX of those *stop is
 * set: the answer then says "at least". */
bool fs_cap(struct fs_summary *sum, uint64_t max, bool *stop);

/* Buffered writer over the helper's end of the pipe. */
struct fs_out {
	int fd;
	size_t len;
	bool failed;
	uint8_t buf[65536];
};

void fs_out_write(struct fs_out *o, const void *p, size_t n);
void fs_out_flush(struct fs_out *o);
/* Append one T_ENTRY record built in b. */
void fs_out_record(struct fs_out *o, const struct wire_buf *b);

/* Runs in the child: write results to out, fill sum.  arg and every fd
 * the parent opened are inherited. */
typedef void (*fs_work_fn)(void *arg, struct fs_out *out,
			   struct fs_summary *sum);

/* Fork a helper running work(arg); answer on s.  The child keeps the
 * fds in keep[] (at most 6: the ones arg refers to) and closes every
 * other.  arg is freed with free_arg in the parent once the helper is
 * started or could not be (the child has its own copy); on failure s is
 * failed. */
void fs_job_start_keep(struct stream *s, fs_work_fn work, void *arg,
		       void (*free_arg)(void *), const int *keep, size_t nkeep);
void fs_job_kill_all(struct fs_state *fs);

/* ---- fs_walk.c: a sorted, no-follow tree walk for helpers ---- */

struct ign_level;

struct walker {
	uint32_t max_depth; /* 0: the start only; children are depth 1 */
	bool hidden;	    /* report and enter names starting with '.' */
	bool ignore;	    /* IGNORE: skip .git and what ignore files say */
	bool stop;	    /* set by visit to end the walk */
	/* Called for every entry below the start; path is the start's path
	 * joined with the names (as find prints it).  Returns whether to
	 * descend when the entry is a directory. */
	bool (*visit)(struct walker *w, int dirfd, const char *name,
		      const char *path, unsigned char dtype, uint32_t depth);
	int fd;	      /* the start, opened by the request */
	uint64_t max; /* MAX_RESULTS, 0 = all */
	struct fs_state *fs;
	struct fs_out *out; /* in the helper */
	struct fs_summary *sum;
	struct ign_level *ign; /* the innermost directory's rules */
	size_t rel_off;	       /* where a path below the start begins */
	size_t plen;
	char path[2 * FS_PATH_MAX];
	struct glob_set exclude; /* EXCLUDE */
};

/* Walk below dirfd (not closed), whose path is w->path. */
void walk_tree(struct walker *w, int dirfd, uint32_t depth);
void walk_set_root(struct walker *w, const char *path);
/* The fields every walk reads: HIDDEN (default hidden), MAX_RESULTS,
 * IGNORE, EXCLUDE, and GLOB into globs when not NULL; -1 when s was
 * failed. */
int walk_parse(struct stream *s, const uint8_t *p, size_t n, struct walker *w,
	       uint64_t hidden, struct glob_set *globs);
/* Fork the helper for a job that starts with its walker, fd and path
 * set; free_arg(w) releases it in the parent. */
void walk_start(struct stream *s, struct walker *w, fs_work_fn work,
		void (*free_arg)(void *));
/* Send one record, under the cap. */
void walk_record(struct walker *w, const struct wire_buf *b);

/* fs_ignore.c */
struct ign_level {
	struct ign_level *up;
	char *text; /* the files, cut into patterns */
	struct ign_rule *rules;
	size_t n;
	size_t base; /* offset in the walk's path of names below this dir */
};
void ign_enter(struct walker *w, struct ign_level *lv, int dirfd);
void ign_leave(struct walker *w, struct ign_level *lv);
/* Is this entry of the directory being walked excluded or ignored? */
bool ign_skip(struct walker *w, const char *name, bool dir);
/* In the helper, before the walk: the rules of the directories above an
 * absolute start, up to the work tree's top. */
void ign_ancestors(struct walker *w, int startfd);

/* ---- fs_lines.c: pure ---- */

struct line_slice {
	uint64_t line;	   /* number of the line the next byte belongs to */
	uint64_t from, to; /* wanted, inclusive, 1-based; to 0 = to the end */
	bool mid_line;	   /* the last byte seen was not '\n' */
};

void line_slice_init(struct line_slice *ls, uint64_t from, uint64_t to);
/* Feed n bytes; returns how many of them, starting at *start, are in the
 * wanted range. */
size_t line_slice_feed(struct line_slice *ls, const uint8_t *p, size_t n,
		       size_t *start);
/* True once every wanted line has gone by. */
bool line_slice_done(const struct line_slice *ls);
/* Lines seen so far: a last line without '\n' counts. */
uint64_t line_slice_total(const struct line_slice *ls);

/* ---- fs_literal.c: pure ---- */

/* A string (no NUL, at most cap bytes) that every match of the ERE re
 * contains, in out; returns its length, or 0 when none is known. */
size_t ere_required_literal(const char *re, char *out, size_t cap);

/* ---- fs_diff.c: pure ---- */

typedef void (*diff_emit_fn)(void *ctx, const char *p, size_t n);

/* Unified diff (3 lines of context) of a and b, as `diff -u` shapes it:
 * headers with the names, hunks, "\ No newline at end of file".  Returns
 * the number of changed lines (0: identical), or -ENOMEM. */
long diff_unified(const char *a, size_t na, const char *b, size_t nb,
		  const char *name_a, const char *name_b, diff_emit_fn emit,
		  void *ctx);

#endif
