/* shell.c - persistent shell sessions on a PTY.  (being written) */
#include "runner.h"

int shell_init(struct runner *rt) { (void)rt; return 0; }
void shell_fini(struct runner *rt) { (void)rt; }
#define NOTYET(fn) void fn(struct stream *s, const uint8_t *p, size_t n) \
	{ (void)p; (void)n; stream_error(s, E_UNSUPPORTED, 0, #fn " not built"); }
NOTYET(shell_req_open)
NOTYET(shell_req_close)
NOTYET(shell_req_exec)
NOTYET(shell_req_stdin)
NOTYET(shell_req_resize)
NOTYET(shell_req_signal)
NOTYET(shell_req_list)
