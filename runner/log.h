/* log.h - the runner's log: one line per message on stderr, filtered by
 * level.  The lowest layer: it knows nothing of the loop or the protocol. */
#ifndef RUNNER_LOG_H
#define RUNNER_LOG_H

enum log_level { LOG_ERROR = 0, LOG_WARN, LOG_INFO, LOG_DEBUG };
void log_set_level(int level);
int log_parse_level(const char *s);
void log_msg(int level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
#define log_error(...) log_msg(LOG_ERROR, __VA_ARGS__)
#define log_warn(...)  log_msg(LOG_WARN, __VA_ARGS__)
#define log_info(...)  log_msg(LOG_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)

#endif
