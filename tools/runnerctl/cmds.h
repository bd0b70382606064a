/* cmds.h - runnerctl subcommands, one file per area. */
#ifndef RUNNERCTL_CMDS_H
#define RUNNERCTL_CMDS_H

#include "client.h"

/* Each returns the process exit status; errors are printed as one line
 * "runnerctl: ..." on stderr by the command itself. */
typedef int (*cmd_fn)(struct rc_conn *c, int argc, char **argv);

int cmd_ping(struct rc_conn *c, int argc, char **argv);
int cmd_info(struct rc_conn *c, int argc, char **argv);
int cmd_stats(struct rc_conn *c, int argc, char **argv);
int cmd_shutdown(struct rc_conn *c, int argc, char **argv);
/* cmd_shell.c */
int cmd_exec(struct rc_conn *c, int argc, char **argv);
int cmd_shell(struct rc_conn *c, int argc, char **argv);
/* cmd_proc.c */
int cmd_spawn(struct rc_conn *c, int argc, char **argv);
int cmd_ps(struct rc_conn *c, int argc, char **argv);
int cmd_attach(struct rc_conn *c, int argc, char **argv);
int cmd_kill(struct rc_conn *c, int argc, char **argv);
/* cmd_fs.c */
int cmd_read(struct rc_conn *c, int argc, char **argv);
int cmd_write(struct rc_conn *c, int argc, char **argv);
int cmd_edit(struct rc_conn *c, int argc, char **argv);
int cmd_ls(struct rc_conn *c, int argc, char **argv);
int cmd_stat(struct rc_conn *c, int argc, char **argv);
int cmd_mkdir(struct rc_conn *c, int argc, char **argv);
int cmd_rm(struct rc_conn *c, int argc, char **argv);
int cmd_mv(struct rc_conn *c, int argc, char **argv);
int cmd_find(struct rc_conn *c, int argc, char **argv);
int cmd_grep(struct rc_conn *c, int argc, char **argv);
int cmd_diff(struct rc_conn *c, int argc, char **argv);

/* Print "runnerctl: <c->err>" and return 1. */
int cmd_fail(struct rc_conn *c);
/* Print "runnerctl: <msg>" and return 2 (usage). */
int cmd_usage(const char *msg);

#endif
