/* child.h - what runs in a child between clone (or fork) and exec.
 *
 * Everything declared here is async-signal-safe and safe in a CLONE_VM
 * child, which shares the runner's memory until execve: it writes only
 * its own stack and kernel state (no malloc, no stdio, no libc globals;
 * errno is the one shared word, read right after the failing call).
 */
#ifndef RUNNER_CHILD_H
#define RUNNER_CHILD_H

#include <stdbool.h>
#include <stddef.h>

/* Sanitizer builds (tests): a CLONE_VM child's instrumented frames would
 * poison the shadow memory of the parent's stack, which it shares.  Code
 * that runs in the child is left uninstrumented. */
#if defined(__SANITIZE_ADDRESS__)
#define CHILD_CODE __attribute__((no_sanitize("address", "undefined")))
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define CHILD_CODE __attribute__((no_sanitize("address", "undefined")))
#endif
#endif
#ifndef CHILD_CODE
#define CHILD_CODE
#endif

/* The PATH a process gets, and searches, when its environment has none. */
#define DEFAULT_PATH                                                           \
	"/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

/* Default dispositions for every signal, none blocked. */
void child_reset_signals(void);

/* Make the caller's process group the foreground one of fd's terminal;
 * SIGTTOU, which that raises in a background group, is ignored until
 * child_reset_signals.  0 or -1 (errno). */
int child_foreground(int fd);

/* Close every fd >= from but those in keep[] (cloexec: mark them
 * close-on-exec instead, for fds that must live until execve). */
void fd_close_from(int from, const int *keep, size_t nkeep, bool cloexec);

/* The index in env (NULL-terminated "K=V" strings, or NULL) of the entry
 * whose name is the first klen bytes of key, or -1. */
int env_index(char *const *env, const char *key, size_t klen);

#endif
