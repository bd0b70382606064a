/* dispatch.c - which handler answers which request type.  Apart from
 * conn.c so the connection layer links without the modules. */
#include "dispatch.h"

static const request_fn handlers[256] = {
    [WT_PING] = sys_ping,
    [WT_INFO] = sys_info,
    [WT_STATS] = sys_stats,
    [WT_SHUTDOWN] = sys_shutdown,
    [WT_SHELL_OPEN] = shell_req_open,
    [WT_SHELL_CLOSE] = shell_req_close,
    [WT_EXEC] = shell_req_exec,
    [WT_SHELL_STDIN] = shell_req_stdin,
    [WT_SHELL_RESIZE] = shell_req_resize,
    [WT_SHELL_SIGNAL] = shell_req_signal,
    [WT_SHELL_LIST] = shell_req_list,
    [WT_EXEC_WAIT] = shell_req_exec_wait,
    [WT_SPAWN] = proc_req_spawn,
    [WT_PROC_STDIN] = proc_req_stdin,
    [WT_PROC_CLOSE_STDIN] = proc_req_close_stdin,
    [WT_PROC_SIGNAL] = proc_req_signal,
    [WT_PROC_WAIT] = proc_req_wait,
    [WT_PROC_ATTACH] = proc_req_attach,
    [WT_PROC_LIST] = proc_req_list,
    [WT_READ] = fs_req_read,
    [WT_WRITE] = fs_req_write,
    [WT_EDIT] = fs_req_edit,
    [WT_LS] = fs_req_ls,
    [WT_STAT] = fs_req_stat,
    [WT_MKDIR] = fs_req_mkdir,
    [WT_REMOVE] = fs_req_remove,
    [WT_MOVE] = fs_req_move,
    [WT_FIND] = fs_req_find,
    [WT_GREP] = fs_req_grep,
    [WT_DIFF] = fs_req_diff,
};

request_fn dispatch_handler(uint8_t type)
{
	return handlers[type];
}
