/*
 * ops/log.h - the server's logger: one line per event on stderr, as text or
 * JSON. Never log payloads, results, details or tokens.
 */
#ifndef CAIRN_LOG_H
#define CAIRN_LOG_H

#include <stdbool.h>

enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR };

/* log_setup sets the threshold and format ("text" or "json"); returns -1
 * for an unknown level or format name. */
int log_setup(const char *level, const char *format);

/* log_enabled says whether a message at level would be written, so that
 * callers skip the work of preparing one that would not. */
bool log_enabled(enum log_level level);

void log_msg(enum log_level level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)
#define log_info(...)  log_msg(LOG_INFO, __VA_ARGS__)
#define log_warn(...)  log_msg(LOG_WARN, __VA_ARGS__)
#define log_error(...) log_msg(LOG_ERROR, __VA_ARGS__)

#endif /* CAIRN_LOG_H */
