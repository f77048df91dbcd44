/* diag.c: the editor-facing problem list. See diag.h. */
#include "diag.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void diag_init(struct diag *d)
{
	memset(d, 0, sizeof(*d));
}

/* Length of the valid UTF-8 character at s (at most n bytes), or 0 when
 * the bytes there are not one. */
static size_t utf8_char_len(const unsigned char *s, size_t n)
{
	size_t len;
	unsigned min;
	unsigned cp;
	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		len = 2; cp = s[0] & 0x1f; min = 0x80;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		len = 3; cp = s[0] & 0x0f; min = 0x800;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		len = 4; cp = s[0] & 0x07; min = 0x10000;
	} else {
		return 0;
	}
	if (n < len)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

/* Copies src into dst (room for DIAG_LINE_MAX bytes and a NUL), replacing
 * control bytes and invalid UTF-8 with '?' and cutting on a character
 * boundary. */
static void sanitize(char *dst, const char *src)
{
	const unsigned char *s = (const unsigned char *)src;
	size_t n = strlen(src), i = 0, o = 0;
	while (i < n) {
		size_t cl = utf8_char_len(s + i, n - i);
		if (cl == 0 || s[i] < 0x20 || s[i] == 0x7f) {
			if (o + 1 > DIAG_LINE_MAX)
				break;
			dst[o++] = '?';
			i++;
			continue;
		}
		if (o + cl > DIAG_LINE_MAX)
			break;
		memcpy(dst + o, s + i, cl);
		o += cl;
		i += cl;
	}
	dst[o] = '\0';
}

static char *line_dup(const char *s)
{
	char *p = strdup(s);
	if (!p)
		abort();
	return p;
}

/* Appends line (taken) with where it is (its file taken too). */
static void push(struct diag *d, char *line, char *file, int lineno, size_t reason)
{
	if (d->n == d->cap) {
		d->cap = d->cap ? d->cap * 2 : 16;
		d->v = realloc(d->v, d->cap * sizeof(*d->v));
		d->at = realloc(d->at, d->cap * sizeof(*d->at));
		if (!d->v || !d->at)
			abort();
	}
	d->at[d->n] = (struct diag_where){file, lineno, reason};
	d->v[d->n++] = line;
}

void diag_add(struct diag *d, const char *file, int line, const char *fmt, ...)
{
	char reason[DIAG_LINE_MAX + 1];
	char raw[2 * DIAG_LINE_MAX];
	char clean[DIAG_LINE_MAX + 1];
	va_list ap;

	if (d->n >= DIAG_MAX) {
		/* The line after the first DIAG_MAX is the summary, rewritten. */
		d->dropped++;
		snprintf(clean, sizeof(clean), "... and %zu more problems", d->dropped);
		if (d->n == DIAG_MAX) {
			push(d, line_dup(clean), NULL, 0, 0);
		} else {
			free(d->v[d->n - 1]);
			d->v[d->n - 1] = line_dup(clean);
		}
		return;
	}
	va_start(ap, fmt);
	vsnprintf(reason, sizeof(reason), fmt, ap);
	va_end(ap);
	int prefix = 0; /* bytes before the reason; sanitize() keeps lengths */
	if (file && line > 0)
		prefix = snprintf(raw, sizeof(raw), "%s:%d: ", file, line);
	else if (file)
		prefix = snprintf(raw, sizeof(raw), "%s: ", file);
	if (prefix < 0)
		prefix = 0;
	if ((size_t)prefix >= sizeof(raw))
		prefix = (int)sizeof(raw) - 1;
	snprintf(raw + prefix, sizeof(raw) - (size_t)prefix, "%s", reason);
	sanitize(clean, raw);
	size_t len = strlen(clean);
	char *where = NULL;
	if (file) {
		char f[DIAG_LINE_MAX + 1];
		sanitize(f, file);
		where = line_dup(f);
	}
	push(d, line_dup(clean), where, file ? (line > 0 ? line : 0) : 0,
	     (size_t)prefix < len ? (size_t)prefix : len);
}

size_t diag_count(const struct diag *d)
{
	return d->n + d->dropped - (d->dropped ? 1 : 0);
}

const char *diag_snip(const char *s, size_t max, char *buf, size_t len)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t n = strlen(s), i = 0, o = 0;
	if (len < 4) {
		if (len)
			buf[0] = '\0';
		return buf;
	}
	/* Room for "..." and the NUL is kept back. */
	if (max + 4 > len)
		max = len > 4 ? len - 4 : 0;
	while (i < n) {
		size_t cl = utf8_char_len(u + i, n - i);
		if (cl == 0)
			cl = 1;
		size_t out = (u[i] == '\n') ? 2 : cl;
		if (o + out > max) {
			memcpy(buf + o, "...", 3);
			o += 3;
			break;
		}
		if (u[i] == '\n')
			memcpy(buf + o, "\\n", 2);
		else
			memcpy(buf + o, u + i, cl);
		o += out;
		i += cl;
	}
	buf[o] = '\0';
	return buf;
}

const char *diag_file(const struct diag *d, size_t i)
{
	return d->at[i].file;
}

int diag_line(const struct diag *d, size_t i)
{
	return d->at[i].line;
}

const char *diag_reason(const struct diag *d, size_t i)
{
	return d->v[i] + d->at[i].reason;
}

void diag_clear(struct diag *d)
{
	for (size_t i = 0; i < d->n; i++) {
		free(d->v[i]);
		free(d->at[i].file);
	}
	free(d->v);
	free(d->at);
	diag_init(d);
}
