/* log.h: structured one-line logs (logfmt) on stderr.
 *
 * Every line is `ts=… level=… event=… key=value…`. Callers pass the extra
 * key=value pairs as a printf format; values that come from outside (names,
 * reasons) go through log_quote(). Customer text is never logged at info.
 * Thread-safe: each line is written with one call. */
#ifndef SUPPORTD_LOG_H
#define SUPPORTD_LOG_H

#include <stddef.h>

enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR };

typedef struct logger {
	enum log_level level; /* lines below this level are dropped */
} logger;

/* Parses "debug", "info", "warn" or "error". Returns 0, or -1 if unknown. */
int log_parse_level(const char *s, enum log_level *out);

/* Writes one line if `level` is enabled. `fmt` may be NULL. */
void log_line(const logger *lg, enum log_level level, const char *event,
	      const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* Writes `s` into buf as a logfmt value: bare when safe, else double-quoted
 * with \" \\ \n escaped and control bytes dropped. Always NUL-terminates;
 * truncates to fit. Returns buf. */
const char *log_quote(const char *s, char *buf, size_t len);

/* Copies s into buf (size len, always NUL-terminated) with every e-mail
 * address masked as "j***@example.com", for text that may hold customer
 * data (flow errors, script output). Returns buf. */
const char *log_mask_emails(const char *s, char *buf, size_t len);

#define log_debug(lg, ev, ...) log_line((lg), LOG_DEBUG, (ev), __VA_ARGS__)
#define log_info(lg, ev, ...)  log_line((lg), LOG_INFO, (ev), __VA_ARGS__)
#define log_warn(lg, ev, ...)  log_line((lg), LOG_WARN, (ev), __VA_ARGS__)
#define log_error(lg, ev, ...) log_line((lg), LOG_ERROR, (ev), __VA_ARGS__)

#endif
