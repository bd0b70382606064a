/* dispatch.h - the request handlers, one per request type, and the
 * table from type to handler (dispatch.c).
 *
 * A handler reads its fields with the req_* readers and ends its stream
 * with exactly one terminal frame, now or later (stream.h).  conn.c only
 * calls dispatch_handler(), so it links without the modules: the conn
 * fuzzer and unit test bring their own table (tests/fuzz/stub_modules.c).
 * Every file defining a handler includes this header, so a definition is
 * checked against its prototype here.
 */
#ifndef RUNNER_DISPATCH_H
#define RUNNER_DISPATCH_H

#include <stddef.h>
#include <stdint.h>

#include "stream.h"

typedef void (*request_fn)(struct stream *s, const uint8_t *payload,
			   size_t len);

/* The handler of a request type, NULL for a type the runner does not know
 * (the connection answers E_UNKNOWN_TYPE). */
request_fn dispatch_handler(uint8_t type);

/* ---- sysops.c: PING, INFO, STATS, SHUTDOWN ---- */

void sys_ping(struct stream *s, const uint8_t *p, size_t n);
void sys_info(struct stream *s, const uint8_t *p, size_t n);
void sys_stats(struct stream *s, const uint8_t *p, size_t n);
void sys_shutdown(struct stream *s, const uint8_t *p, size_t n);

/* ---- shell*.c: sessions ---- */

void shell_req_open(struct stream *s, const uint8_t *p, size_t n);
void shell_req_close(struct stream *s, const uint8_t *p, size_t n);
void shell_req_exec(struct stream *s, const uint8_t *p, size_t n);
void shell_req_stdin(struct stream *s, const uint8_t *p, size_t n);
void shell_req_resize(struct stream *s, const uint8_t *p, size_t n);
void shell_req_signal(struct stream *s, const uint8_t *p, size_t n);
void shell_req_list(struct stream *s, const uint8_t *p, size_t n);
void shell_req_exec_wait(struct stream *s, const uint8_t *p, size_t n);

/* ---- proc*.c: spawned processes ---- */

void proc_req_spawn(struct stream *s, const uint8_t *p, size_t n);
void proc_req_stdin(struct stream *s, const uint8_t *p, size_t n);
void proc_req_close_stdin(struct stream *s, const uint8_t *p, size_t n);
void proc_req_signal(struct stream *s, const uint8_t *p, size_t n);
void proc_req_wait(struct stream *s, const uint8_t *p, size_t n);
void proc_req_attach(struct stream *s, const uint8_t *p, size_t n);
void proc_req_list(struct stream *s, const uint8_t *p, size_t n);

/* ---- fs*.c: file operations ---- */

void fs_req_read(struct stream *s, const uint8_t *p, size_t n);
void fs_req_write(struct stream *s, const uint8_t *p, size_t n);
void fs_req_edit(struct stream *s, const uint8_t *p, size_t n);
void fs_req_ls(struct stream *s, const uint8_t *p, size_t n);
void fs_req_stat(struct stream *s, const uint8_t *p, size_t n);
void fs_req_mkdir(struct stream *s, const uint8_t *p, size_t n);
void fs_req_remove(struct stream *s, const uint8_t *p, size_t n);
void fs_req_move(struct stream *s, const uint8_t *p, size_t n);
void fs_req_find(struct stream *s, const uint8_t *p, size_t n);
void fs_req_grep(struct stream *s, const uint8_t *p, size_t n);
void fs_req_diff(struct stream *s, const uint8_t *p, size_t n);

#endif
