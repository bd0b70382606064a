/* shell_output.h - pure byte processing for shell output: the end marker
 * scanner, the plain-text filter and the head/tail collector.
 *
 * No I/O and no knowledge of sessions, so unit tests drive them with
 * arbitrary splits of arbitrary bytes.
 */
#ifndef RUNNER_SHELL_OUTPUT_H
#define RUNNER_SHELL_OUTPUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef void (*out_sink)(void *arg, const uint8_t *p, size_t n);

/* ---- marker scanner ----
 * The shell ends every command by printing ESC ] 633 ; D ; TOKEN ; STATUS
 * BEL on its terminal.  TOKEN is fresh random hex per command, so output
 * of the command itself cannot forge it.  Bytes that might be the start
 * of a marker are held back until the next chunk decides. */
#define MARKER_TOKEN_LEN  16
#define MARKER_PREFIX_MAX 32
#define MARKER_STATUS_MAX 10

struct marker_scan {
	char prefix[MARKER_PREFIX_MAX];
	size_t plen;
	uint8_t held[MARKER_PREFIX_MAX + MARKER_STATUS_MAX + 1];
	size_t nheld;	/* bytes of a possible marker held back */
	int64_t status; /* digits parsed after the prefix */
	bool found;
};

/* Arm the scanner for token (MARKER_TOKEN_LEN hex characters). */
void marker_init(struct marker_scan *m, const char *token);
/* Feed bytes; everything that is not the marker goes to sink in order.
 * Returns how many bytes of p were consumed: all of them, or up to and
 * including the marker's BEL once found (the rest is not command output). */
size_t marker_feed(struct marker_scan *m, const uint8_t *p, size_t n,
		   out_sink sink, void *arg);
/* No marker will come (the shell died): release what was held back. */
void marker_flush(struct marker_scan *m, out_sink sink, void *arg);

/* ---- plain filter ----
 * Terminal output as a person would read it after it settled: CSI, OSC,
 * DCS and other escape sequences removed, \r and \b rewrite the current
 * line (a progress bar ends as its final state), other C0 controls but
 * \t and \n dropped; erase-in-line (CSI K) cuts the line at the cursor;
 * what is drawn on the alternate screen (CSI ?1049h .. ?1049l, a pager or
 * an editor) is dropped.  Lines are held until \n or flush. */
#define PLAIN_LINE_MAX 8192

struct plain_filter {
	uint8_t line[PLAIN_LINE_MAX + 1]; /* + the newline */
	size_t len, cursor;
	uint8_t state;
	bool priv;	/* CSI with '?': a private mode */
	bool alt;	/* on the alternate screen: text is dropped */
	uint16_t param; /* the CSI's last numeric parameter */
};

void plain_init(struct plain_filter *f);
void plain_feed(struct plain_filter *f, const uint8_t *p, size_t n,
		out_sink sink, void *arg);
void plain_flush(struct plain_filter *f, out_sink sink, void *arg);

/* ---- error names ----
 * bash names the file it sources in its messages ("/proc/self/fd/62:
 * line 1: x: command not found"), where a terminal's bash says "bash: line
 * 1: ...".  The runner's path is rewritten to that; bytes that may begin
 * it are held back until the next chunk decides. */
#define ERRNAME_FROM "/proc/self/fd/62: line "
#define ERRNAME_TO   "bash: line "

struct errname {
	size_t held; /* bytes of ERRNAME_FROM matched at the last chunk's end */
};

void errname_feed(struct errname *e, const uint8_t *p, size_t n, out_sink sink,
		  void *arg);
void errname_flush(struct errname *e, out_sink sink, void *arg);

/* ---- head/tail collector ----
 * Wait-mode output: up to limit bytes are kept; past it the first half
 * and the last half survive and the middle is replaced by a marker line
 * "\n… N bytes omitted …\n".  Memory grows with the output, never past
 * the limit. */
struct collector {
	uint8_t *head, *tail;
	size_t hlen, hcap, hmax; /* head bytes kept, allocated, allowed */
	size_t tmax, tpos;	 /* tail ring size, next write position */
	uint64_t total;
	bool alloc_failed;
};

void collector_init(struct collector *c, size_t limit);
void collector_add(struct collector *c, const uint8_t *p, size_t n);
bool collector_truncated(const struct collector *c);
/* Bytes collector_emit will produce. */
size_t collector_size(const struct collector *c);
/* Write the kept output, with the omission marker if truncated, to out
 * (room for collector_size bytes); returns the bytes written.  utf8: cut
 * at character boundaries, so the result may be a few bytes shorter. */
size_t collector_emit(const struct collector *c, uint8_t *out, bool utf8);
void collector_free(struct collector *c);

#endif
