/* fs_stream.h - what runnerctl's file commands (cmd_fs.c, cmd_walk.c,
 * cmd_diff.c) share besides rc_call_data (client.h): output of streamed
 * DATA, the ENTRY records some of them carry, and field helpers. */
#ifndef RUNNERCTL_FS_STREAM_H
#define RUNNERCTL_FS_STREAM_H

#include "cmds.h"

/* A request's fields without a text: paths, patterns, options. */
#define REQ_MAX 8192

/* An rc_data_fn (client.h): the bytes to stdout. */
int data_to_stdout(void *ctx, const uint8_t *p, size_t n);
/* As rc_call_data, the DATA being T_ENTRY records: fn gets each whole. */
int records_call(struct rc_conn *c, uint8_t type, const struct wire_buf *req,
		 void (*fn)(void *, const uint8_t *, size_t), void *ctx,
		 struct rc_frame *res);

/* An integer field's value (0 if it is not one). */
uint64_t field_u(const struct wire_field *f);
/* Find tag in a payload as an integer, def when absent. */
uint64_t find_u(const uint8_t *p, size_t n, uint16_t tag, uint64_t def);
/* A path as a bytes field: no NUL, no length limit but the buffer's. */
void wb_path(struct wire_buf *b, uint16_t tag, const char *path);

#endif
