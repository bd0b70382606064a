/* proc_spawn.h - start a program the way init should: a reusable helper.
 *
 * The child leads a new process group (or a new session with a controlling
 * terminal), sees exactly the fds it is given (as 0, 1, 2 and the
 * mapped ones), an empty signal mask and default dispositions.  Failure to run
 * the program is reported to the caller with its errno through a close-on-exec
 * pipe, as musl's posix_spawn does, never as an exit status.
 *
 * The caller registers the returned pid with child_watch() right away (the
 * loop reaps asynchronously; nothing here waits).
 */
#ifndef RUNNER_PROC_SPAWN_H
#define RUNNER_PROC_SPAWN_H

#include <stdbool.h>
#include <sys/types.h>

enum spawn_stage {
	SPAWN_SETUP = 0, /* fork, pipes, fds, process group */
	SPAWN_CHDIR = 1, /* the cwd could not be entered */
	SPAWN_EXEC = 2,	 /* execve failed (PATH searched if no '/') */
};

/* One more fd for the child: from becomes to (to > 2). */
struct spawn_map {
	int from, to;
};

#define SPAWN_MAPS_MAX 3

struct spawn_req {
	char *const *argv;   /* argv[0] is the program, NULL-terminated */
	char *const *envp;   /* complete environment; PATH in it is searched */
	const char *cwd;     /* NULL: inherit */
	const char *cwd_try; /* cwd NULL: tried, its failure ignored */
	int fd[3];	     /* become 0, 1, 2; any of them may be equal;
			      * -1 leaves the runner's own */
	int ctty;	     /* -1, or a PTY slave: new session, TIOCSCTTY */
	struct spawn_map map[SPAWN_MAPS_MAX];
	unsigned nmap;
	bool fg_tty;   /* tini's rule: its group takes the foreground of the
			* terminal on the runner's fd 0 */
	bool keep_fds; /* fds the runner holds without close-on-exec stay
			* open (the main command's, as under tini) */
};

/* 0 and *pid on success.  On failure -errno and *stage says where; no
 * child is left behind (it exited and the caller's reaper collects it). */
int spawn_start(const struct spawn_req *req, pid_t *pid,
		enum spawn_stage *stage);

#endif
