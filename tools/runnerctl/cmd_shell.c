/* cmd_shell.c - runnerctl commands for shell.  (being written) */
#include "cmds.h"
#include <stdio.h>

int cmd_exec(struct rc_conn *c, int argc, char **argv)
{
	(void)c;
	(void)argc;
	(void)argv;
	return cmd_usage("exec: not built yet");
}

int cmd_shell(struct rc_conn *c, int argc, char **argv)
{
	(void)c;
	(void)argc;
	(void)argv;
	return cmd_usage("shell: not built yet");
}

