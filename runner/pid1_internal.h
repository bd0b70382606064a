/* pid1_internal.h - between the PID-1 files (pid1.c, pid1_main.c,
 * pid1_tree.c, vminit.c); nothing outside them includes this. */
#ifndef RUNNER_PID1_INTERNAL_H
#define RUNNER_PID1_INTERNAL_H

#include "runner.h"

/* pid1_main.c: the main command.  Forward sig to it; false when there is
 * no main command (the signal is then the runner's own to act on). */
bool main_forward_signal(struct runner *rt, int sig);

/* pid1_tree.c: deliver sig to every process the runner is responsible
 * for — the whole namespace as PID 1 (kill(-1) reaches what escaped its
 * group with setsid), else the registered children's process groups and
 * every descendant found in /proc (orphans were reparented to us, the
 * subreaper, so a descendant is whoever has us up its ppid chain). */
void signal_everything(struct runner *rt, int sig);
/* A registered child leading a terminal session (a shell on a PTY) also
 * gets SIGHUP+SIGCONT: interactive bash ignores SIGTERM, and a hangup is
 * how its terminal would end it. */
void hangup_terminal_sessions(struct runner *rt);

/* vminit.c: last words as a VM's init. Never returns. */
void vm_power_off(void) __attribute__((noreturn));

#endif
