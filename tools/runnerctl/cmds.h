/* cmds.h - runnerctl subcommands, one file per area.
 *
 * Each command is a struct rc_cmd (opts.h): its options and help are
 * data beside its code; runnerctl.c lists them.  A command returns the
 * process exit status; errors are printed as one line "runnerctl: ..."
 * on stderr by the command itself. */
#ifndef RUNNERCTL_CMDS_H
#define RUNNERCTL_CMDS_H

#include "client.h"
#include "opts.h"

#define RUNNERCTL_VERSION "0.1.0"

/* runnerctl.c: ping, info, stats, shutdown */
extern const struct rc_cmd rc_cmd_ping, rc_cmd_info, rc_cmd_stats,
    rc_cmd_shutdown;
/* cmd_shell.c */
extern const struct rc_cmd rc_cmd_exec, rc_cmd_exec_wait, rc_cmd_shell;
/* cmd_session.c */
extern const struct rc_cmd rc_cmd_session_open, rc_cmd_session_list,
    rc_cmd_session_close, rc_cmd_interrupt, rc_cmd_cancel, rc_cmd_resize;
/* cmd_proc.c */
extern const struct rc_cmd rc_cmd_spawn, rc_cmd_ps, rc_cmd_attach, rc_cmd_wait,
    rc_cmd_stdin, rc_cmd_kill;
/* cmd_fs.c, cmd_walk.c (ls, find, grep), cmd_diff.c */
extern const struct rc_cmd rc_cmd_read, rc_cmd_write, rc_cmd_edit, rc_cmd_ls,
    rc_cmd_stat, rc_cmd_mkdir, rc_cmd_rm, rc_cmd_mv, rc_cmd_find, rc_cmd_grep,
    rc_cmd_diff;

/* Print "runnerctl: <c->err>" and return 1. */
int cmd_fail(struct rc_conn *c);
/* Print "runnerctl: <msg>" and return 2 (usage). */
int cmd_usage(const char *msg);
/* ^C while a request is followed: the first SIGINT makes cancel_poll
 * (called between frames) send CANCEL on the stream, which still ends
 * with its terminal frame; a second SIGINT ends runnerctl. */
void cancel_arm(void);
void cancel_poll(struct rc_conn *c, uint32_t id);
bool cancel_sent(void);
/* cmd_script.c: a COMMAND longer than the runner takes in one request.
 * script_max_command: the longest it takes (INFO's max_command, and the
 * frame limit).  script_stage: upload the script into a temp file in the
 * sandbox; returns the COMMAND that runs (and removes) it, malloc'd, or
 * NULL with c->err set. */
size_t script_max_command(struct rc_conn *c);
uint8_t *script_stage(struct rc_conn *c, const uint8_t *p, size_t n,
		      size_t *len);
/* A request without fields whose RESULT lists ENTRY records (PROC_LIST,
 * SHELL_LIST): header, then row() of each record.  Exit status. */
int cmd_list(struct rc_conn *c, uint8_t type, const char *header,
	     void (*row)(const uint8_t *p, size_t n));

#endif
