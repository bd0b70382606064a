/* procfs.h - reading another process's /proc entries: one bounded read,
 * one readlink, and the stat fields after comm. */
#ifndef RUNNER_PROCFS_H
#define RUNNER_PROCFS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* /proc/PID/NAME into buf, NUL-terminated (at most cap - 1 bytes): the
 * length, or -errno.  One read(2): these files are produced whole. */
ssize_t proc_read(pid_t pid, const char *name, char *buf, size_t cap);
/* readlink of /proc/PID/NAME, not terminated: the length, or -errno. */
ssize_t proc_readlink(pid_t pid, const char *name, char *buf, size_t cap);
/* /proc/PID/stat from field 3 (state) on: comm, field 2, may hold spaces
 * and parentheses, so fields count from its last ')'.  NULL when
 * unreadable. */
const char *proc_stat_fields(pid_t pid, char *buf, size_t cap);
/* The start time (clock ticks after boot, field 22 of /proc/PID/stat)
 * and the pid in its own PID namespace (last of NSpid in status) of pid,
 * as seen from here.  Together they name one process for as long as the
 * machine runs, whichever namespace looks.  0 or -errno. */
int pid_identity(pid_t pid, pid_t *ns_pid, uint64_t *start);

#endif
