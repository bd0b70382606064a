/* token.h - the runner's HELLO token as runnerctl reads it from a file. */
#ifndef RUNNERCTL_TOKEN_H
#define RUNNERCTL_TOKEN_H

#include <stddef.h>
#include <stdint.h>

/* protocol/PROTOCOL.md §3: 16..256 bytes, any bytes. */
#define RC_TOKEN_MIN 16
#define RC_TOKEN_MAX 256

struct rc_token {
	size_t len;
	uint8_t bytes[RC_TOKEN_MAX];
};

/* The whole of path, one trailing newline removed, as the runner reads
 * its own --token-file.  0, or -errno (-EINVAL: too short, -E2BIG: too
 * long) with a one-line reason on stderr. */
int rc_token_load(struct rc_token *t, const char *path);

#endif
