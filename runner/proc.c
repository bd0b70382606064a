/* proc.c - spawned processes.  (being written) */
#include "runner.h"

int proc_init(struct runner *rt) { (void)rt; return 0; }
void proc_fini(struct runner *rt) { (void)rt; }
#define NOTYET(fn) void fn(struct stream *s, const uint8_t *p, size_t n) \
	{ (void)p; (void)n; stream_error(s, E_UNSUPPORTED, 0, #fn " not built"); }
NOTYET(proc_req_spawn)
NOTYET(proc_req_stdin)
NOTYET(proc_req_close_stdin)
NOTYET(proc_req_signal)
NOTYET(proc_req_wait)
NOTYET(proc_req_attach)
NOTYET(proc_req_list)
