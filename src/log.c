/* log.c: logfmt lines on stderr. See log.h. */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static const char *level_names[] = {"debug", "info", "warn", "error"};

int log_parse_level(const char *s, enum log_level *out)
{
	for (size_t i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++) {
		if (strcmp(s, level_names[i]) == 0) {
			*out = (enum log_level)i;
			return 0;
		}
	}
	return -1;
}

void log_line(const logger *lg, enum log_level level, const char *event,
	      const char *fmt, ...)
{
	char line[2048];
	struct timespec ts;
	struct tm tm;
	size_t n;
	int w;

	if (lg && level < lg->level)
		return;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	n = strftime(line, sizeof(line), "ts=%Y-%m-%dT%H:%M:%S", &tm);
	w = snprintf(line + n, sizeof(line) - n, ".%03ldZ level=%s event=%s",
		     ts.tv_nsec / 1000000, level_names[level], event);
	n += (w > 0) ? (size_t)w : 0;
	if (fmt && n < sizeof(line) - 2) {
		va_list ap;
		line[n++] = ' ';
		va_start(ap, fmt);
		w = vsnprintf(line + n, sizeof(line) - n, fmt, ap);
		va_end(ap);
		n += (w > 0) ? (size_t)w : 0;
	}
	if (n > sizeof(line) - 2)
		n = sizeof(line) - 2;
	line[n++] = '\n';
	line[n] = '\0';
	fputs(line, stderr);
}

const char *log_quote(const char *s, char *buf, size_t len)
{
	int bare = s[0] != '\0';
	size_t o = 0;

	if (len == 0)
		return buf;
	for (const char *p = s; *p; p++)
		if (*p == ' ' || *p == '"' || *p == '=' || *p == '\\' ||
		    (unsigned char)*p < 0x20)
			bare = 0;
	if (bare) {
		snprintf(buf, len, "%s", s);
		return buf;
	}
	if (o + 1 < len)
		buf[o++] = '"';
	for (const char *p = s; *p && o + 3 < len; p++) {
		unsigned char c = (unsigned char)*p;
		if (c == '"' || c == '\\') {
			buf[o++] = '\\';
			buf[o++] = (char)c;
		} else if (c == '\n') {
			buf[o++] = '\\';
			buf[o++] = 'n';
		} else if (c >= 0x20) {
			buf[o++] = (char)c;
		}
	}
	if (o + 1 < len)
		buf[o++] = '"';
	buf[o] = '\0';
	return buf;
}

/* A byte that may be part of an e-mail address's local part or domain. */
static int mail_byte(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '.' || c == '_' || c == '%' || c == '+' || c == '-' || c >= 0x80;
}

const char *log_mask_emails(const char *s, char *buf, size_t len)
{
	size_t n = strlen(s), o = 0, i = 0;

	if (!len)
		return buf;
	while (i < n && o + 1 < len) {
		const char *at = NULL;
		/* a run of mail bytes followed by '@' and a domain with a dot */
		if (mail_byte((unsigned char)s[i]) && (i == 0 || !mail_byte((unsigned char)s[i - 1]))) {
			size_t j = i;
			while (j < n && mail_byte((unsigned char)s[j]))
				j++;
			if (j < n && s[j] == '@' && j > i) {
				size_t k = j + 1;
				while (k < n && mail_byte((unsigned char)s[k]))
					k++;
				if (k > j + 1 && memchr(s + j + 1, '.', k - j - 1))
					at = s + j;
			}
		}
		if (!at) {
			buf[o++] = s[i++];
			continue;
		}
		/* keep the first byte of the local part, hide the rest */
		buf[o++] = s[i];
		for (const char *m = "***"; *m && o + 1 < len; m++)
			buf[o++] = *m;
		i = (size_t)(at - s);
	}
	buf[o] = '\0';
	return buf;
}
