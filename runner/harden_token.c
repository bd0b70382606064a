/* harden_token.c - the HELLO token: loaded once, kept once, compared in
 * constant time.
 *
 * The token is bytes (protocol/PROTOCOL.md §3): NULs and any other byte
 * count, one trailing newline is stripped (files written by echo), and
 * it is TOKEN_MIN..TOKEN_MAX bytes or the runner refuses to start.  A
 * short or truncated token would be guessable; a silently cut one would
 * accept a prefix. */
#include "runner.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Checks and stores n bytes at p as the token; wipes p. */
static int token_set(struct config *cfg, uint8_t *p, size_t n)
{
	int r = 0;

	if (n > 0 && p[n - 1] == '\n')
		n--;
	if (n < TOKEN_MIN)
		r = -EINVAL;
	else if (n > TOKEN_MAX)
		r = -E2BIG;
	if (r == 0) {
		memset(cfg->token, 0, sizeof(cfg->token));
		memcpy(cfg->token, p, n);
		cfg->token_len = (uint32_t)n;
	}
	explicit_bzero(p, n);
	return r;
}

int token_load_file(struct config *cfg, const char *path)
{
	uint8_t buf[TOKEN_MAX + 2]; /* one past: a newline, then too long */
	size_t n = 0;
	ssize_t k;
	int fd, r;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	do {
		k = read(fd, buf + n, sizeof(buf) - n);
		if (k > 0)
			n += (size_t)k;
	} while ((k > 0 && n < sizeof(buf)) || (k < 0 && errno == EINTR));
	r = k < 0 ? -errno : 0;
	close(fd);
	if (r == 0 && n == sizeof(buf))
		r = -E2BIG;
	if (r == 0)
		return token_set(cfg, buf, n);
	explicit_bzero(buf, n);
	return r;
}

int token_take_env(struct config *cfg)
{
	char *env = getenv("RUNNER_TOKEN");
	size_t n;
	int r = 0;

	if (!env)
		return 0;
	n = strlen(env);
	/* --token-file wins; the variable is wiped either way, so neither
	 * children nor /proc/1/environ see it. */
	if (cfg->token_len)
		explicit_bzero(env, n);
	else
		r = token_set(cfg, (uint8_t *)env, n);
	unsetenv("RUNNER_TOKEN");
	return r;
}

/* Independent of both lengths and of where the bytes differ: every one
 * of TOKEN_MAX stored bytes (zero past the token) is compared with the
 * client's (zero past its end), and the lengths are compared by XOR. */
bool token_matches(const struct config *cfg, const uint8_t *p, size_t n)
{
	size_t diff = n ^ cfg->token_len, i;
	uint8_t acc = 0;

	for (i = 0; i < TOKEN_MAX; i++)
		acc |= (uint8_t)((i < n ? p[i] : 0) ^ cfg->token[i]);
	return (diff | acc) == 0;
}
