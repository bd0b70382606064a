/* wire.h - runner wire protocol v1: frame and field codec.
 *
 * Pure: no I/O, no allocation. Shared by the runner and every client.
 * protocol/PROTOCOL.md is normative; this header mirrors its tables.
 */
#ifndef RUNNER_WIRE_H
#define RUNNER_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define WIRE_VERSION 1

/* u32 length | u32 stream | u8 type | u8 flags.  length counts every byte
 * after the length field itself: 6 + payload. */
#define WIRE_HDR_SIZE	       10
#define WIRE_LEN_MIN	       6
#define WIRE_MAX_FRAME_MIN     65536u	/* no peer may offer less */
#define WIRE_MAX_FRAME_DEFAULT 4194304u /* runner default, payload bytes */
#define WIRE_WINDOW_DEFAULT    262144u	/* per-stream DATA credit */
#define WIRE_WINDOW_MAX	       0x7fffffffu

/* DATA payload: u8 channel | u64 offset | bytes */
#define WIRE_DATA_PREFIX 9

enum wire_type {
	/* connection and stream control */
	WT_HELLO = 0x01,
	WT_DATA = 0x02,
	WT_WINDOW = 0x03,
	WT_CANCEL = 0x04,
	WT_RESULT = 0x05,
	WT_ERROR = 0x06,
	WT_EVENT = 0x07,
	/* system */
	WT_PING = 0x10,
	WT_INFO = 0x11,
	WT_STATS = 0x12,
	WT_SHUTDOWN = 0x13,
	/* shell sessions */
	WT_SHELL_OPEN = 0x20,
	WT_SHELL_CLOSE = 0x21,
	WT_EXEC = 0x22,
	WT_SHELL_STDIN = 0x23,
	WT_SHELL_RESIZE = 0x24,
	WT_SHELL_SIGNAL = 0x25,
	WT_SHELL_LIST = 0x26,
	WT_EXEC_WAIT = 0x27,
	/* processes */
	WT_SPAWN = 0x30,
	WT_PROC_STDIN = 0x31,
	WT_PROC_CLOSE_STDIN = 0x32,
	WT_PROC_SIGNAL = 0x33,
	WT_PROC_WAIT = 0x34,
	WT_PROC_ATTACH = 0x35,
	WT_PROC_LIST = 0x36,
	/* files */
	WT_READ = 0x40,
	WT_WRITE = 0x41,
	WT_EDIT = 0x42,
	WT_LS = 0x43,
	WT_STAT = 0x44,
	WT_MKDIR = 0x45,
	WT_REMOVE = 0x46,
	WT_MOVE = 0x47,
	WT_FIND = 0x48,
	WT_GREP = 0x49,
	WT_DIFF = 0x4a,
};

enum wire_flag {
	WF_FIN = 0x01, /* DATA: last bytes of this channel in this direction */
};

enum wire_channel {
	WCH_STDIN = 0,	/* client -> runner: stdin, upload */
	WCH_STDOUT = 1, /* runner -> client: stdout, PTY, file contents */
	WCH_STDERR = 2,
};

/* Stable error codes (ERROR frame, tag T_CODE).  Never renumbered. */
enum wire_err {
	E_OK = 0,
	E_BAD_FRAME = 1,      /* malformed frame: the connection closes */
	E_TOO_LARGE = 2,      /* frame over the negotiated maximum: closes */
	E_UNKNOWN_TYPE = 3,   /* request type this runner does not serve */
	E_HELLO_REQUIRED = 4, /* request before a valid HELLO: closes */
	E_AUTH = 5,	      /* token missing or wrong: closes */
	E_VERSION = 6,	      /* no common protocol version: closes */
	E_BAD_REQUEST = 7,    /* missing, malformed or contradictory field */
	E_STREAM_IN_USE = 8,  /* stream id already open on this connection */
	E_FLOW = 9,	      /* peer sent more DATA than its window */
	E_LIMIT = 10,	      /* a configured limit was reached */
	E_CANCELLED = 11,     /* CANCEL received */
	E_TIMEOUT = 12,
	E_NOT_FOUND = 13, /* ENOENT, unknown session, pid */
	E_EXISTS = 14,
	E_PERMISSION = 15,  /* EACCES, EPERM, read-only fs */
	E_IO = 16,	    /* any other system error: see errno */
	E_EXEC = 17,	    /* program could not be executed: see errno */
	E_UNSUPPORTED = 18, /* feature not built or not possible here */
	E_NOT_UNIQUE = 19,  /* EDIT: old text matches more than once */
	E_BUSY = 20,	    /* session already runs a command */
	E_SHUTTING_DOWN = 21,
	E_ESCAPE = 22,	    /* path resolves outside the root */
	E_BAD_PATTERN = 23, /* invalid regex or glob */
	E_IS_DIR = 24,
	E_NOT_DIR = 25,
	E_NO_SPACE = 26, /* ENOSPC, EDQUOT */
	E_NOT_EMPTY = 27,
	E_NOT_MATCHED = 28, /* EDIT: old text absent */
	E_INTERNAL = 29,    /* a bug in the runner; please report */
	E__COUNT
};

enum wire_event {
	EV_STARTED = 1,	  /* T_PID: the process or command has started */
	EV_RESPAWNED = 2, /* shell session was restarted */
	EV_DROPPED = 3,	  /* T_DROPPED bytes are gone from the ring buffer */
	EV_WAITING_INPUT = 4, /* a shell command waits to read the terminal */
};

/* Field tags.  Integers are big-endian; receivers accept any of the
 * widths 1, 2, 4, 8 for an integer field (see PROTOCOL.md §4). */
enum wire_tag {
	/* HELLO */
	T_VERSION = 0x0001,   /* u16 */
	T_SOFTWARE = 0x0002,  /* str  "runner 0.1.0" */
	T_FEATURE = 0x0003,   /* str, repeated */
	T_MAX_FRAME = 0x0004, /* u32, payload bytes the sender accepts */
	T_WINDOW = 0x0005,    /* u32, initial per-stream DATA credit granted */
	T_TOKEN = 0x0006,     /* bytes */
	T_MAX_STREAMS = 0x0007, /* u32 */
	/* ERROR */
	T_CODE = 0x0010,    /* u16 enum wire_err */
	T_ERRNO = 0x0011,   /* u32 Linux errno, 0 if none */
	T_MESSAGE = 0x0012, /* str, for a person */
	T_COUNT = 0x0013,   /* u64, a count qualifying the error or result */
	T_STREAM = 0x0014,  /* u32: E_STREAM_IN_USE names the open stream */
	/* EVENT */
	T_EVENT = 0x0018, /* u16 enum wire_event */
	/* WINDOW */
	T_INCREMENT =
	    0x0019, /* not used as a field: WINDOW payload is a bare u32 */
	/* system */
	T_PID = 0x0020,	      /* u32 */
	T_UID = 0x0021,	      /* u32 */
	T_GID = 0x0022,	      /* u32 */
	T_HARDENING = 0x0023, /* str, repeated "step=applied|skipped: why" */
	T_LIMIT = 0x0024,     /* str, repeated "name=value" */
	T_UPTIME_MS = 0x0025, /* u64 */
	T_RSS = 0x0026,	      /* u64 bytes */
	T_CONNS = 0x0027,     /* u32 open connections */
	T_IS_PID1 = 0x0028,   /* u8 */
	T_STREAMS = 0x0029,   /* u32 open streams, all connections */
	T_FDS = 0x002a,	      /* u32 open fds of the runner */
	T_CHILDREN = 0x002b,  /* u32 live children */
	T_SESSIONS = 0x002c,  /* u32 */
	T_PROCS = 0x002d,     /* u32 */
	T_GRACE_MS = 0x002e,  /* u32 */
	T_TIME_NS = 0x002f,   /* u64 wall clock, echoed by PING */
	/* shell sessions */
	T_SESSION = 0x0100,	  /* str, default "main" */
	T_SHELL = 0x0101,	  /* str, path of the shell */
	T_ENV = 0x0102,		  /* str, repeated: "K=V" */
	T_CWD = 0x0103,		  /* str */
	T_LOGIN = 0x0104,	  /* u8 bool */
	T_ROWS = 0x0105,	  /* u16 */
	T_COLS = 0x0106,	  /* u16 */
	T_COMMAND = 0x0107,	  /* bytes, no NUL */
	T_TIMEOUT_MS = 0x0108,	  /* u32, 0 = none */
	T_OUTPUT_LIMIT = 0x0109,  /* u64 */
	T_MODE = 0x010a,	  /* u8 enum wire_exec_mode */
	T_FORMAT = 0x010b,	  /* u8 enum wire_format */
	T_EXIT_STATUS = 0x010c,	  /* i32, 128+N for signal N */
	T_DURATION_US = 0x010d,	  /* u64 */
	T_TIMED_OUT = 0x010e,	  /* u8 bool */
	T_TRUNCATED = 0x010f,	  /* u8 bool */
	T_TOTAL_BYTES = 0x0110,	  /* u64 */
	T_OUTPUT = 0x0111,	  /* bytes */
	T_SIGNAL = 0x0112,	  /* u32 signal number */
	T_RESPAWNED = 0x0113,	  /* u8 bool */
	T_DATA = 0x0114,	  /* bytes, inline stdin */
	T_EOF = 0x0115,		  /* u8 bool */
	T_SHELL_PID = 0x0116,	  /* u32 */
	T_MAX_SESSIONS = 0x0117,  /* u32 */
	T_BUSY = 0x0118,	  /* u8 bool */
	T_DETACH = 0x0119,	  /* u8 bool: EXEC outlives its client */
	T_YIELD_MS = 0x011a,	  /* u32: EXEC answers early, still running */
	T_RUNNING = 0x011b,	  /* u8 bool: the command goes on */
	T_WAITING_INPUT = 0x011c, /* u8 bool: it waits to read the terminal */
	T_RESTORED = 0x011d,	  /* u8 bool: a new shell got the state back */
	T_KEEP_OPTIONS = 0x011e,  /* u8 bool: set -e etc. persist (terminal) */
	T_CANCEL = 0x011f,	  /* u8 bool: SHELL_SIGNAL runs the ladder */
	/* processes */
	T_ARGV = 0x0200,	/* str, repeated, in order */
	T_ENV_MODE = 0x0201,	/* u8 enum wire_env_mode */
	T_PTY = 0x0202,		/* u8 bool */
	T_STDIN = 0x0203,	/* u8 bool: stdin open (1) or /dev/null (0) */
	T_BACKGROUND = 0x0204,	/* u8 bool */
	T_TERM_SIGNAL = 0x0205, /* u32, signal that ended it, 0 if it exited */
	T_FROM_OFFSET = 0x0206, /* u64 */
	T_DROPPED = 0x0207,	/* u64 */
	T_STATE = 0x0208,	/* u8 enum wire_proc_state */
	T_START_MS = 0x0209,	/* u64 unix ms */
	T_CHANNEL = 0x020a,	/* u8 enum wire_channel */
	T_RING_SIZE = 0x020b,	/* u64 */
	T_FOLLOW = 0x020c,	/* u8 bool */
	T_PTY_MODE = 0x020d,	/* u8: 0 terminal defaults, 1 as sessions */
	/* files */
	T_PATH = 0x0300,	/* bytes */
	T_PATH2 = 0x0301,	/* bytes: destination, second file */
	T_OFFSET = 0x0302,	/* u64 */
	T_LENGTH = 0x0303,	/* u64 */
	T_LINE_FROM = 0x0304,	/* u64, 1-based */
	T_LINE_TO = 0x0305,	/* u64, inclusive */
	T_MAX_BYTES = 0x0306,	/* u64 */
	T_SIZE = 0x0307,	/* u64 */
	T_FILE_MODE = 0x0308,	/* u32 st_mode */
	T_MTIME_NS = 0x0309,	/* i64 ns since epoch */
	T_TOTAL_LINES = 0x030a, /* u64 */
	T_WRITE_MODE = 0x030b,	/* u8 enum wire_write_mode */
	T_PARENTS = 0x030c,	/* u8 bool */
	T_ATOMIC = 0x030d,	/* u8 bool */
	T_OLD = 0x030e,		/* bytes */
	T_NEW = 0x030f,		/* bytes */
	T_REPLACE_ALL = 0x0310, /* u8 bool */
	T_DEPTH = 0x0311,	/* u32 */
	T_HIDDEN = 0x0312,	/* u8 bool */
	T_FILE_TYPE = 0x0313,	/* u8 enum wire_file_type */
	T_TARGET = 0x0314,	/* str: symlink target */
	T_RECURSIVE = 0x0315,	/* u8 bool */
	T_PATTERN = 0x0316,	/* bytes */
	T_GLOB = 0x0317,	/* str, repeated */
	T_FIXED = 0x0318,	/* u8 bool */
	T_IGNORE_CASE = 0x0319, /* u8 bool */
	T_CONTEXT = 0x031a,	/* u32 lines */
	T_MAX_RESULTS = 0x031b, /* u32 */
	T_LINE = 0x031c,	/* u64, 1-based line number */
	T_TEXT = 0x031d,	/* bytes */
	T_NAME = 0x031e,	/* bytes: entry name */
	T_UID_OWNER = 0x031f,	/* u32 */
	T_NLINK = 0x0320,	/* u64 */
	T_MATCH = 0x0321,	/* u8 bool: context line (0) or match (1) */
	T_CREATED = 0x0322,	/* u8 bool */
	T_REPLACED = 0x0323,	/* u64 replacements made */
	T_CREATE = 0x0324,	/* u8 bool, default 1: create when absent */

	/* files, for agents (issue 16) */
	T_SORT = 0x0325,	 /* u8 enum wire_sort */
	T_MORE = 0x0326,	 /* u64 results past MAX_RESULTS */
	T_IGNORE = 0x0327,	 /* u8 bool: honour .gitignore, .ignore */
	T_EXCLUDE = 0x0328,	 /* str, repeated: glob */
	T_GREP_MODE = 0x0329,	 /* u8 enum wire_grep_mode */
	T_WORD = 0x032a,	 /* u8 bool: -w */
	T_MAX_LINE = 0x032b,	 /* u32 bytes of one line sent */
	T_SYNTAX = 0x032c,	 /* u8 enum wire_syntax */
	T_LINE_NUMBERS = 0x032d, /* u8 bool */
	T_BINARY = 0x032e,	 /* u8 bool */

	T_ENTRY = 0x0f00, /* record, repeated: nested fields */
};

enum wire_exec_mode { WM_WAIT = 0, WM_STREAM = 1 };
enum wire_format { WFMT_RAW = 0, WFMT_PLAIN = 1 };
enum wire_env_mode { WENV_INHERIT = 0, WENV_REPLACE = 1 };
enum wire_proc_state { WPS_RUNNING = 0, WPS_EXITED = 1 };
enum wire_grep_mode { WGM_LINES = 0, WGM_FILES = 1, WGM_COUNT = 2 };
enum wire_syntax { WSYN_ERE = 0, WSYN_RUST = 1 };
enum wire_sort { WSORT_PATH = 0, WSORT_MTIME = 1 /* newest first */ };
enum wire_write_mode {
	WW_TRUNCATE = 0,  /* replace the contents */
	WW_APPEND = 1,	  /* add to the end */
	WW_EXCLUSIVE = 2, /* the file must not exist: else E_EXISTS */
};
enum wire_file_type {
	WFT_UNKNOWN = 0,
	WFT_FILE = 1,
	WFT_DIR = 2,
	WFT_SYMLINK = 3,
	WFT_FIFO = 4,
	WFT_SOCKET = 5,
	WFT_CHAR = 6,
	WFT_BLOCK = 7,
};

/* ---- frames ---- */

struct wire_hdr {
	uint32_t len; /* payload bytes (the wire length minus 6) */
	uint32_t stream;
	uint8_t type;
	uint8_t flags;
};

/* Decode a header from the first n bytes of buf.  Returns 0 and fills h,
 * -EAGAIN if n < WIRE_HDR_SIZE, -EMSGSIZE if the payload would exceed
 * max_payload, -EPROTO if the length field is below WIRE_LEN_MIN.  The
 * length is checked before the caller allocates anything. */
int wire_hdr_decode(const uint8_t *buf, size_t n, uint32_t max_payload,
		    struct wire_hdr *h);
void wire_hdr_encode(uint8_t out[WIRE_HDR_SIZE], const struct wire_hdr *h);

/* ---- big-endian scalars ---- */

static inline void wire_put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}
static inline void wire_put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}
static inline void wire_put64(uint8_t *p, uint64_t v)
{
	wire_put32(p, (uint32_t)(v >> 32));
	wire_put32(p + 4, (uint32_t)v);
}
static inline uint16_t wire_get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}
static inline uint32_t wire_get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}
static inline uint64_t wire_get64(const uint8_t *p)
{
	return (uint64_t)wire_get32(p) << 32 | wire_get32(p + 4);
}

/* ---- TLV writer: a bounded buffer with a sticky overflow flag ---- */

struct wire_buf {
	uint8_t *p;
	size_t len, cap;
	bool overflow;
};

void wb_init(struct wire_buf *b, void *mem, size_t cap);
void wb_u8(struct wire_buf *b, uint16_t tag, uint8_t v);
void wb_u16(struct wire_buf *b, uint16_t tag, uint16_t v);
void wb_u32(struct wire_buf *b, uint16_t tag, uint32_t v);
void wb_u64(struct wire_buf *b, uint16_t tag, uint64_t v);
void wb_i32(struct wire_buf *b, uint16_t tag, int32_t v);
void wb_i64(struct wire_buf *b, uint16_t tag, int64_t v);
void wb_bytes(struct wire_buf *b, uint16_t tag, const void *v, size_t n);
void wb_str(struct wire_buf *b, uint16_t tag, const char *s);
/* Reserve a field header with an open length; returns a mark for
 * wb_close().  Used for records (T_ENTRY) and for fields whose bytes are
 * produced in place (wb_room/wb_advance). */
size_t wb_open(struct wire_buf *b, uint16_t tag);
void wb_close(struct wire_buf *b, size_t mark);
/* Free space for in-place writes between wb_open and wb_close. */
static inline size_t wb_room(const struct wire_buf *b)
{
	return b->overflow ? 0 : b->cap - b->len;
}
void wb_advance(struct wire_buf *b, size_t n);

/* ---- TLV reader ---- */

struct wire_field {
	uint16_t tag;
	uint32_t len;
	const uint8_t *val;
};

struct wire_iter {
	const uint8_t *p;
	size_t left;
};

void wire_iter_init(struct wire_iter *it, const void *payload, size_t n);
/* 1: a field was read; 0: clean end; -EPROTO: a truncated field. */
int wire_next(struct wire_iter *it, struct wire_field *f);
/* Integer of width 1, 2, 4 or 8; -EPROTO for any other width. */
int wire_uint(const struct wire_field *f, uint64_t *v);
int wire_int(const struct wire_field *f, int64_t *v);
/* Walk the whole payload once: 0 if every field is well-formed. */
int wire_validate(const void *payload, size_t n);
/* First field with tag, or NULL-valued f (returns 0) when absent. */
int wire_find(const void *payload, size_t n, uint16_t tag,
	      struct wire_field *f);

/* ---- DATA payload ---- */

void wire_data_prefix(uint8_t out[WIRE_DATA_PREFIX], uint8_t channel,
		      uint64_t offset);
/* -EPROTO when the payload is shorter than the prefix. */
int wire_data_decode(const uint8_t *payload, size_t n, uint8_t *channel,
		     uint64_t *offset, const uint8_t **data, size_t *len);

/* ---- names ---- */

const char *wire_err_name(int code);  /* "E_NOT_FOUND"; "E_?" if unknown */
const char *wire_type_name(int type); /* "EXEC"; NULL if unknown */
/* Map an errno to the closest stable code (E_IO if nothing closer). */
int wire_err_from_errno(int err);

#endif
