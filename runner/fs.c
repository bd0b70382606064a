/* fs.c - file operations.  (being written) */
#include "runner.h"

int fs_init(struct runner *rt) { (void)rt; return 0; }
void fs_fini(struct runner *rt) { (void)rt; }
#define NOTYET(fn) void fn(struct stream *s, const uint8_t *p, size_t n) \
	{ (void)p; (void)n; stream_error(s, E_UNSUPPORTED, 0, #fn " not built"); }
NOTYET(fs_req_read)
NOTYET(fs_req_write)
NOTYET(fs_req_edit)
NOTYET(fs_req_ls)
NOTYET(fs_req_stat)
NOTYET(fs_req_mkdir)
NOTYET(fs_req_remove)
NOTYET(fs_req_move)
NOTYET(fs_req_find)
NOTYET(fs_req_grep)
NOTYET(fs_req_diff)
