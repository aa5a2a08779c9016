/*
 * log: one JSON object per line on stdout (journald / Loki friendly).
 *
 *   {"time":"2026-01-05T04:45:10.123Z","level":"info","daemon":"pillivery-api",
 *    "request_id":"...","msg":"request","method":"GET","status":200}
 *
 * Fields are given as (key, value) pairs after the message, terminated by NULL. The key
 * carries the value's type as a suffix: "name:s" const char * (NULL prints null), "n:i" long
 * long, "n:u" unsigned long long, "x:f" double, "ok:b" int as a boolean. A key without a
 * suffix is a string. Each line is written with one write(2), so lines of concurrent threads
 * never interleave. The request id is per thread (log_set_request_id), so handlers need not
 * pass it. Only daemons log (STYLE.md rule 7): libraries return errors instead.
 *
 * Thread-safe after log_init.
 */
#ifndef PV_COMMON_LOG_H
#define PV_COMMON_LOG_H

enum log_level { LOG_DEBUG = 0, LOG_INFO, LOG_WARN, LOG_ERROR };

/* daemon: borrowed, must outlive the process' logging. fd: usually 1. */
void log_init(const char *daemon, enum log_level min_level, int fd);
int log_level_parse(const char *s, enum log_level *out); /* "debug".."error" */
void log_set_level(enum log_level min_level);
int log_enabled(enum log_level level);
/* Sets (or with NULL clears) the calling thread's request or job id; copied. */
void log_set_request_id(const char *id);

void log_write(enum log_level level, const char *msg, ...) __attribute__((sentinel));
#define log_debug(...) log_write(LOG_DEBUG, __VA_ARGS__, (const char *)0)
#define log_info(...)  log_write(LOG_INFO, __VA_ARGS__, (const char *)0)
#define log_warn(...)  log_write(LOG_WARN, __VA_ARGS__, (const char *)0)
#define log_error(...) log_write(LOG_ERROR, __VA_ARGS__, (const char *)0)

#endif
