/* cmd_proc.c - runnerctl commands for proc.  (being written) */
#include "cmds.h"
#include <stdio.h>

int cmd_spawn(struct rc_conn *c, int argc, char **argv)
{
	(void)c;
	(void)argc;
	(void)argv;
	return cmd_usage("spawn: not built yet");
}

int cmd_ps(struct rc_conn *c, int argc, char **argv)
{
	(void)c;
	(void)argc;
	(void)argv;
	return cmd_usage("ps: not built yet");
}

int cmd_attach(struct rc_conn *c, int argc, char **argv)
{
	(void)c;
	(void)argc;
	(void)argv;
	return cmd_usage("attach: not built yet");
}

int cmd_kill(struct rc_conn *c, int argc, char **argv)
{
	(void)c;
	(void)argc;
	(void)argv;
	return cmd_usage("kill: not built yet");
}

