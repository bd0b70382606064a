/* cmd_fs.c - runnerctl commands for fs.  (being written) */
#include "cmds.h"
#include <stdio.h>

int cmd_read(struct rc_conn *c, int argc, char **argv)
{
	(void)c;
	(void)argc;
	(void)argv;
	return cmd_usage("read: not built yet");
}

int cmd_write(struct rc_conn *c, int argc, char **argv)
{
	(void)c;
	(void)argc;
	(void)argv;
	return cmd_usage("write: not built yet");
}

int cmd_edit(struct rc_conn *c, int argc, char **argv)
{
	(void)c;
	(void)argc;
	(void)argv;
	return cmd_usage("edit: not built yet");
}

int cmd_ls(struct rc_conn *c, int argc, char **argv)
{
	(void)c;
	(void)argc;
	(void)argv;
	return cmd_usage("ls: not built yet");
}

int cmd_stat(struct rc_conn *c, int argc, char **argv)
{
	(void)c;
	(void)argc;
	(void)argv;
	return cmd_usage("stat: not built yet");
}

int cmd_mkdir(struct rc_conn *c, int argc, char **argv)
{
	(void)c;
	(void)argc;
	(void)argv;
	return cmd_usage("mkdir: not built yet");
}

int cmd_rm(struct rc_conn *c, int argc, char **argv)
{
	(void)c;
	(void)argc;
	(void)argv;
	return cmd_usage("rm: not built yet");
}

int cmd_mv(struct rc_conn *c, int argc, char **argv)
{
	(void)c;
	(void)argc;
	(void)argv;
	return cmd_usage("mv: not built yet");
}

int cmd_find(struct rc_conn *c, int argc, char **argv)
{
	(void)c;
	(void)argc;
	(void)argv;
	return cmd_usage("find: not built yet");
}

int cmd_grep(struct rc_conn *c, int argc, char **argv)
{
	(void)c;
	(void)argc;
	(void)argv;
	return cmd_usage("grep: not built yet");
}

int cmd_diff(struct rc_conn *c, int argc, char **argv)
{
	(void)c;
	(void)argc;
	(void)argv;
	return cmd_usage("diff: not built yet");
}

