/* check.c: `supportd check [DIR...]`, the content editors' lint.
 *
 * Each DIR is a content root (faq/, rules/, lua/). It is loaded exactly
 * as the daemon loads it (pipeline_open), so `check` passes where the
 * daemon starts and fails where it refuses; every problem is printed as
 * "file:line:col: error: reason", the form editors' tools jump to.
 *
 * Then come the checks the daemon does not make:
 *   - cross-references the daemon only makes on otherwise clean content
 *     (an intent's `faq:` and `flow:`), made here on whatever loaded, so
 *     one run lists them beside the other errors;
 *   - warnings about content that loads but will trouble the bot, made on
 *     a brain built from the entries and intents that loaded: an FAQ
 *     question that the FAQ retriever or the whole bot matches to another
 *     entry better, questions and examples of different entries or
 *     intents that are the same once folded and stemmed, entries with a
 *     single question, answers too long for a chat bubble, suspicious
 *     links, and a team name that looks like a typo of another.
 *
 * Columns. The loaders report lines (diag.h); the column is found here
 * where it is cheap: libyaml's own column for a YAML syntax error (the
 * file is parsed again up to the error), the PCRE2 error offset mapped into
 * the file for a pattern written as a plain or single-quoted scalar on one
 * line (else the column of the value), the key of an unknown or repeated
 * key, the address of a refused link. Columns count characters from 1; an
 * unknown column is printed as 1, and a problem about a whole file as line
 * 1. */
#include "check.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <uthash.h>
#include <yaml.h>

#include "brain.h"
#include "config.h"
#include "content.h"
#include "diag.h"
#include "faq.h"
#include "faqindex.h"
#include "metrics.h"
#include "pipeline.h"
#include "rules.h"
#include "text.h"
#include "xalloc.h"

/* Characters of an answer a chat bubble shows comfortably. */
#define CHECK_LONG_ANSWER 1200
/* Files read again to find columns and lines: larger ones are not. */
#define CHECK_SOURCE_MAX (4u << 20)
/* Retriever hits looked at for an entry's own question. */
#define CHECK_HITS 16
/* A team name used this often or less may be a typo of a more used one. */
#define CHECK_TEAM_RARE 2

static const char usage_check[] =
	"usage: supportd check [OPTIONS] [DIR...]\n"
	"\n"
	"Checks the content under each DIR (a content root holding faq/, rules/\n"
	"and lua/; default .) exactly as the daemon loads it, and more. Errors are\n"
	"printed as file:line:col: error: reason; then warnings about content that\n"
	"loads but will confuse the bot: FAQ questions another entry matches\n"
	"better, near-duplicate questions and intent examples, entries with a single\n"
	"question, answers too long for a chat bubble, doubtful links, team names\n"
	"that look like typos. A summary per DIR goes to stderr.\n"
	"\n"
	"options:\n"
	"      --json            one JSON object per DIR: {dir, errors, warnings, ok},\n"
	"                        each problem {file, line, col, message}\n"
	"      --strict          warnings count as errors for the exit status\n"
	"  -c, --config FILE     JSON config file (the brain limits and flows.patterns\n"
	"                        apply, desk.teams names teams)\n"
	"  -h, --help            show this help\n"
	"\n"
	"Exit status: 0 when every DIR is clean (warnings allowed), 1 when one has\n"
	"errors (or, with --strict, warnings), 2 for a usage error.\n";

const char *check_usage(void)
{
	return usage_check;
}

/* ============================================================ problems */

struct problem {
	char *file;        /* owned; NULL for a problem with no place */
	int line, col;     /* 1-based; 0 when unknown */
	int warning;       /* 0: error */
	char *message;     /* owned */
	size_t seq;        /* order of finding, for a stable sort */
};

/* A content file read again for lines and columns. */
struct source {
	char *path;        /* owned; the hash key */
	char *buf;         /* owned; NULL when it cannot be read */
	size_t len;
	size_t *starts;    /* owned: byte offset of each line */
	size_t n_lines;
	UT_hash_handle hh;
};

/* One DIR's check. */
struct check {
	const char *dir;           /* borrowed: the content root as given */
	const char *config_path;   /* borrowed; NULL: the built-in config */
	const struct config *cfg;  /* borrowed; content_dir is dir */
	struct problem *v;         /* owned */
	size_t n, cap;
	size_t errors, warnings;
	struct source *sources;    /* owned, uthash by path */
};

static void add_problemv(struct check *c, int warning, const char *file, int line, int col,
			 const char *fmt, va_list ap)
{
	char msg[1024];
	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (c->n == c->cap) {
		c->cap = c->cap ? c->cap * 2 : 32;
		c->v = xrealloc(c->v, c->cap * sizeof(*c->v));
	}
	c->v[c->n] = (struct problem){file ? xstrdup(file) : NULL, line, col, warning,
				      xstrdup(msg), c->n};
	c->n++;
	if (warning)
		c->warnings++;
	else
		c->errors++;
}

static void add_error(struct check *c, const char *file, int line, int col, const char *fmt,
		      ...) __attribute__((format(printf, 5, 6)));
static void add_error(struct check *c, const char *file, int line, int col, const char *fmt,
		      ...)
{
	va_list ap;
	va_start(ap, fmt);
	add_problemv(c, 0, file, line, col, fmt, ap);
	va_end(ap);
}

static void add_warning(struct check *c, const char *file, int line, int col, const char *fmt,
			...) __attribute__((format(printf, 5, 6)));
static void add_warning(struct check *c, const char *file, int line, int col, const char *fmt,
			...)
{
	va_list ap;
	va_start(ap, fmt);
	add_problemv(c, 1, file, line, col, fmt, ap);
	va_end(ap);
}

/* 1 when an error with this place and message is already listed. */
static int has_error(const struct check *c, const char *file, int line, const char *msg)
{
	for (size_t i = 0; i < c->n; i++) {
		const struct problem *p = &c->v[i];
		if (!p->warning && p->line == line && !strcmp(p->message, msg) &&
		    (p->file && file ? !strcmp(p->file, file) : p->file == file))
			return 1;
	}
	return 0;
}

/* Errors first, then warnings; each by file (placeless last), line,
 * column, then the order found. */
static int cmp_problem(const void *a, const void *b)
{
	const struct problem *x = a, *y = b;
	if (x->warning != y->warning)
		return x->warning - y->warning;
	if (!x->file != !y->file)
		return x->file ? -1 : 1;
	int r = x->file ? strcmp(x->file, y->file) : 0;
	if (r)
		return r;
	if (x->line != y->line)
		return x->line < y->line ? -1 : 1;
	if (x->col != y->col)
		return x->col < y->col ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* ============================================================= sources */

/* The file at path, read once and kept: NULL when it cannot be read. */
static const struct source *source_get(struct check *c, const char *path)
{
	struct source *s;
	struct stat st;
	FILE *f;

	HASH_FIND_STR(c->sources, path, s);
	if (s)
		return s->buf ? s : NULL;
	s = xcalloc(1, sizeof(*s));
	s->path = xstrdup(path);
	HASH_ADD_KEYPTR(hh, c->sources, s->path, strlen(s->path), s);
	if (!(f = fopen(path, "rb")))
		return NULL;
	if (fstat(fileno(f), &st) == 0 && S_ISREG(st.st_mode) &&
	    (unsigned long long)st.st_size <= CHECK_SOURCE_MAX) {
		s->buf = xmalloc((size_t)st.st_size + 1);
		s->len = fread(s->buf, 1, (size_t)st.st_size, f);
		s->buf[s->len] = '\0';
	}
	fclose(f);
	if (!s->buf)
		return NULL;
	size_t cap = 64;
	s->starts = xmalloc(cap * sizeof(*s->starts));
	s->starts[s->n_lines++] = 0;
	for (size_t i = 0; i < s->len; i++) {
		if (s->buf[i] != '\n' || i + 1 == s->len)
			continue;
		if (s->n_lines == cap) {
			cap *= 2;
			s->starts = xrealloc(s->starts, cap * sizeof(*s->starts));
		}
		s->starts[s->n_lines++] = i + 1;
	}
	return s;
}

static void sources_free(struct check *c)
{
	struct source *s, *tmp;
	HASH_ITER(hh, c->sources, s, tmp) {
		HASH_DEL(c->sources, s);
		free(s->path);
		free(s->buf);
		free(s->starts);
		free(s);
	}
}

/* Line `line` (1-based) of s: its text and length without the line end.
 * Returns 0, or -1 past the end. */
static int source_line(const struct source *s, int line, const char **text, size_t *len)
{
	if (line < 1 || (size_t)line > s->n_lines)
		return -1;
	size_t a = s->starts[line - 1];
	size_t b = (size_t)line < s->n_lines ? s->starts[line] : s->len;
	while (b > a && (s->buf[b - 1] == '\n' || s->buf[b - 1] == '\r'))
		b--;
	*text = s->buf + a;
	*len = b - a;
	return 0;
}

/* The 1-based character column of byte `off` of a line. */
static int char_col(const char *line, size_t off)
{
	int col = 1;
	for (size_t i = 0; i < off; i++)
		col += ((unsigned char)line[i] & 0xc0) != 0x80;
	return col;
}

/* 1 for a line that is "---" with optional trailing white space (faq.c's
 * front matter fence). */
static int is_fence(const char *s, size_t n)
{
	return n >= 3 && !memcmp(s, "---", 3) && strspn(s + 3, " \t") >= n - 3;
}

/* ===================================================== error columns */

/* Parses the YAML of file again (the front matter of an .md file, as
 * faq.c hands it to libyaml) and returns the column libyaml gives its
 * error when the error is on `line`; else 0. */
static int yaml_column(struct check *c, const char *file, int line)
{
	const struct source *s = source_get(c, file);
	size_t from = 0, to, n;
	int first = 1, col = 0;
	const char *t;
	yaml_parser_t p;

	if (!s)
		return 0;
	to = s->len;
	if (content_ends_with(file, ".md")) {
		if (s->n_lines < 2)
			return 0;
		from = s->starts[1];
		first = 2;
		for (int l = 2; source_line(s, l, &t, &n) == 0; l++)
			if (is_fence(t, n)) {
				to = s->starts[l - 1];
				break;
			}
	}
	if (!yaml_parser_initialize(&p))
		abort();
	yaml_parser_set_input_string(&p, (const unsigned char *)s->buf + from, to - from);
	yaml_parser_set_encoding(&p, YAML_UTF8_ENCODING);
	for (;;) {
		yaml_event_t ev;
		if (!yaml_parser_parse(&p, &ev)) {
			if (p.error != YAML_READER_ERROR && (int)p.problem_mark.line + first == line)
				col = (int)p.problem_mark.column + 1;
			break;
		}
		int end = ev.type == YAML_STREAM_END_EVENT;
		yaml_event_delete(&ev);
		if (end)
			break;
	}
	yaml_parser_delete(&p);
	return col;
}

/* Where a list item's value starts on a line: after the indentation and
 * "- ". */
static size_t item_value(const char *t, size_t n)
{
	size_t i = strspn(t, " ");
	if (i < n && t[i] == '-' && (i + 1 == n || t[i + 1] == ' '))
		i += 1 + strspn(t + i + 1, " ");
	return i < n ? i : n;
}

/* The column of a pattern's error. reason is rules.c's "pattern '<snip>'
 * in intent '<name>': <why> at offset <n>". A pattern written as a plain
 * or single-quoted scalar on its line gets the column of the offset; any
 * other the column of its value. */
static int pattern_column(struct check *c, const char *file, int line, const char *reason)
{
	const struct source *s = source_get(c, file);
	const char *t, *snip = reason + strlen("pattern '"), *snip_end, *at;
	size_t n, off = (size_t)-1;

	if (!s || source_line(s, line, &t, &n) < 0)
		return 0;
	size_t v = item_value(t, n);
	if (v >= n)
		return 0;
	if ((at = strstr(reason, " at offset ")) != NULL)
		while (strstr(at + 1, " at offset "))
			at = strstr(at + 1, " at offset ");
	if (!at || !(snip_end = strstr(snip, "' in intent '")))
		return char_col(t, v);
	off = strtoul(at + strlen(" at offset "), NULL, 10);
	/* what is known of the pattern: the message cuts it with "..." */
	size_t known = (size_t)(snip_end - snip);
	if (known >= 3 && !memcmp(snip_end - 3, "...", 3))
		known -= 3;

	if (t[v] == '\'') {
		/* single-quoted: '' is one quote; map decoded bytes to raw ones */
		size_t *raw = xmalloc((n + 1) * sizeof(*raw));
		char *dec = xmalloc(n + 1);
		size_t d = 0, r = v + 1;
		int closed = 0, col = char_col(t, v);
		while (r < n) {
			if (t[r] == '\'') {
				if (r + 1 < n && t[r + 1] == '\'') {
					raw[d] = r;
					dec[d++] = '\'';
					r += 2;
					continue;
				}
				closed = 1;
				break;
			}
			raw[d] = r;
			dec[d++] = t[r++];
		}
		raw[d] = r;
		if (closed && d >= known && !memcmp(dec, snip, known) && off <= d)
			col = char_col(t, raw[off]);
		free(raw);
		free(dec);
		return col;
	}
	if (t[v] == '"' || t[v] == '|' || t[v] == '>' || t[v] == '[' || t[v] == '{')
		return char_col(t, v);
	/* plain: up to a comment or the line end, without trailing blanks */
	size_t e = v;
	while (e < n && !(t[e] == '#' && e > v && t[e - 1] == ' '))
		e++;
	while (e > v && t[e - 1] == ' ')
		e--;
	if (e - v >= known && !memcmp(t + v, snip, known) && off <= e - v)
		return char_col(t, v + off);
	return char_col(t, v);
}

/* The text between the first "'" of reason after prefix and the next
 * "'", without a trailing "...", in buf. Returns buf, or NULL. */
static const char *quoted(const char *reason, size_t prefix, char *buf, size_t len)
{
	const char *a = reason + prefix, *b = strchr(a, '\'');
	if (!b)
		return NULL;
	size_t k = (size_t)(b - a);
	if (k >= 3 && !memcmp(b - 3, "...", 3))
		k -= 3;
	if (!k || k >= len)
		return NULL;
	memcpy(buf, a, k);
	buf[k] = '\0';
	return buf;
}

/* The column of text on a line: of the first place where it is followed
 * by ':' (a key) when key is 1, else of its first occurrence; 0 if not
 * there. */
static int text_column(struct check *c, const char *file, int line, const char *text, int key)
{
	const struct source *s = source_get(c, file);
	const char *t, *q;
	size_t n, k = strlen(text);
	if (!s || !k || source_line(s, line, &t, &n) < 0)
		return 0;
	for (q = t; (q = memmem(q, n - (size_t)(q - t), text, k)) != NULL; q++) {
		size_t e = (size_t)(q - t) + k;
		if (!key)
			return char_col(t, (size_t)(q - t));
		while (e < n && t[e] == ' ')
			e++;
		if (e < n && t[e] == ':' && (q == t || !isalnum((unsigned char)q[-1])))
			return char_col(t, (size_t)(q - t));
	}
	return 0;
}

/* The column of a loader's error at file:line, or 0 when not known. */
static int error_column(struct check *c, const char *file, int line, const char *reason)
{
	static const struct {
		const char *prefix;
		int key;
	} quoting[] = {
		{"unknown key '", 1},
		{"duplicate key '", 1},
		{"link to '", 0},
		{"link address '", 0},
		{"raw HTML is not allowed ('", 0},
		{"write links as [text](https://...), not <...> ('", 0},
	};
	/* the value a cross-reference names */
	static const char *const naming[] = {"there is no FAQ entry with id '", "runs flow '"};
	const char *at;
	char buf[256];
	if (line < 1)
		return 0;
	if (!strncmp(reason, "YAML syntax error", 17))
		return yaml_column(c, file, line);
	if (!strncmp(reason, "pattern '", 9))
		return pattern_column(c, file, line, reason);
	for (size_t i = 0; i < sizeof(quoting) / sizeof(quoting[0]); i++) {
		size_t pl = strlen(quoting[i].prefix);
		if (!strncmp(reason, quoting[i].prefix, pl) && quoted(reason, pl, buf, sizeof(buf)))
			return text_column(c, file, line, buf, quoting[i].key);
	}
	for (size_t i = 0; i < sizeof(naming) / sizeof(naming[0]); i++)
		if ((at = strstr(reason, naming[i])) && quoted(at, strlen(naming[i]), buf, sizeof(buf)))
			return text_column(c, file, line, buf, 0);
	return 0;
}

/* ============================================================ places */

/* The end of the place in a message "<place>:<line>: reason" or
 * "<place>: reason", searched from msg + from: sets *line (0 when none)
 * and *reason. Returns the length of the place, or 0 when there is none. */
static size_t split_place(const char *msg, size_t from, int *line, const char **reason)
{
	for (size_t i = from; msg[i]; i++) {
		if (msg[i] != ':')
			continue;
		if (isdigit((unsigned char)msg[i + 1])) {
			size_t j = i + 1;
			while (isdigit((unsigned char)msg[j]))
				j++;
			if (msg[j] == ':' && msg[j + 1] == ' ') {
				*line = atoi(msg + i + 1);
				*reason = msg + j + 2;
				return i;
			}
		} else if (msg[i + 1] == ' ') {
			*line = 0;
			*reason = msg + i + 2;
			return i;
		}
	}
	return 0;
}

/* The path of a .lua file in dir/sub that ends in tail (tail_len bytes),
 * as a new string, or NULL. */
static char *lua_file_ending(const char *dir, const char *sub, const char *tail, size_t tail_len)
{
	char *path = content_path_join(dir, sub), *found = NULL;
	DIR *dp = opendir(path);
	struct dirent *de;
	while (dp && !found && (de = readdir(dp)) != NULL) {
		if (!content_ends_with(de->d_name, ".lua"))
			continue;
		char *f = content_path_join(path, de->d_name);
		size_t fl = strlen(f);
		if (fl >= tail_len && !memcmp(f + fl - tail_len, tail, tail_len))
			found = f;
		else
			free(f);
	}
	if (dp)
		closedir(dp);
	free(path);
	return found;
}

/* The place of a problem the loaders added without a file: Lua's messages
 * "path:line: reason" (a long path shortened by Lua to "...tail") and the
 * config's "config: reason". Sets *file (a new string or NULL), *line and
 * *reason (into msg). */
static void resolve_place(const struct check *c, const char *msg, char **file, int *line,
			  const char **reason)
{
	size_t dl = strlen(c->dir), k;
	*file = NULL;
	*line = 0;
	*reason = msg;
	if (!strncmp(msg, "config: ", 8)) {
		if (c->config_path) {
			*file = xstrdup(c->config_path);
			*reason = msg + 8;
		}
		return;
	}
	if (!strncmp(msg, c->dir, dl) && msg[dl] == '/' && (k = split_place(msg, dl, line, reason))) {
		*file = xstrndup(msg, k);
		return;
	}
	if (!strncmp(msg, "...", 3) && (k = split_place(msg, 3, line, reason))) {
		static const char *const subs[] = {"lua", "lua/flows", "lua/locale"};
		for (size_t i = 0; i < 3 && !*file; i++)
			*file = lua_file_ending(c->dir, subs[i], msg + 3, k - 3);
		if (*file)
			return;
	}
	*line = 0;
	*reason = msg;
}

/* Adds the problems of d as errors (with columns), leaving out those
 * already listed. */
static void take_errors(struct check *c, const struct diag *d)
{
	for (size_t i = 0; i < d->n; i++) {
		const char *reason = diag_reason(d, i);
		char *file = diag_file(d, i) ? xstrdup(diag_file(d, i)) : NULL;
		int line = diag_line(d, i);
		if (!file)
			resolve_place(c, d->v[i], &file, &line, &reason);
		if (!has_error(c, file, line, reason))
			add_error(c, file, line, file ? error_column(c, file, line, reason) : 0, "%s",
				  reason);
		free(file);
	}
}

/* ================================================ where things are */

/* 1 when the text at t[off..off+k) is a whole YAML list item: after "- ",
 * "[" or "," (and a quote), before the line end, "," or "]" (after a
 * quote) or a comment. */
static int whole_item(const char *t, size_t n, size_t off, size_t k)
{
	size_t a = off, e = off + k;
	if (a && (t[a - 1] == '\'' || t[a - 1] == '"'))
		a--;
	while (a && t[a - 1] == ' ')
		a--;
	if (!a || (t[a - 1] != '-' && t[a - 1] != '[' && t[a - 1] != ','))
		return 0;
	if (e < n && (t[e] == '\'' || t[e] == '"'))
		e++;
	while (e < n && t[e] == ' ')
		e++;
	return e == n || t[e] == ',' || t[e] == ']' || t[e] == '#';
}

/* Where a list item (a question, an example) with this text is in file,
 * looking from line `from` on: sets *line and *col, or leaves
 * *line = from and *col = 0 when the text is not written as it reads
 * (escapes, a folded scalar). */
static void locate_item(struct check *c, const char *file, int from, const char *text,
			int *line, int *col)
{
	const struct source *s = source_get(c, file);
	size_t k = strlen(text);
	*line = from;
	*col = 0;
	if (!s || !k)
		return;
	for (int l = from; l >= 1 && (size_t)l <= s->n_lines; l++) {
		const char *t, *q;
		size_t n;
		source_line(s, l, &t, &n);
		for (q = t; (q = memmem(q, n - (size_t)(q - t), text, k)) != NULL; q++)
			if (whole_item(t, n, (size_t)(q - t), k)) {
				*line = l;
				*col = char_col(t, (size_t)(q - t));
				return;
			}
	}
}

/* Where `key:` is in file within the mapping that starts on line `from`
 * (an FAQ entry's front matter, an intent): sets *line and *col, or
 * leaves *line = from and *col = 0. The mapping ends at a "---" line, at
 * the next list item as indented as its own, or at a line less indented. */
static void locate_key(struct check *c, const char *file, int from, const char *key,
		       int *line, int *col)
{
	const struct source *s = source_get(c, file);
	size_t k = strlen(key), dash = (size_t)-1, ind = 0;
	const char *t;
	size_t n;
	*line = from;
	*col = 0;
	if (!s || source_line(s, from, &t, &n) < 0)
		return;
	ind = strspn(t, " ");
	if (ind < n && t[ind] == '-')
		dash = ind;
	for (int l = from; source_line(s, l, &t, &n) == 0; l++) {
		size_t i = item_value(t, n), e = i + k, lead = strspn(t, " ");
		if (l > from) {
			if (is_fence(t, n) || (lead == dash && lead < n && t[lead] == '-'))
				return;
			if (lead < n && t[lead] != '#' && lead < (dash != (size_t)-1 ? dash + 1 : ind))
				return;
		}
		if (n - i < k || memcmp(t + i, key, k))
			continue;
		while (e < n && t[e] == ' ')
			e++;
		if (e < n && t[e] == ':') {
			*line = l;
			*col = char_col(t, i);
			return;
		}
	}
}

/* Where text first occurs in file from line `from` on, as locate_item. */
static void locate_text(struct check *c, const char *file, int from, const char *text,
			int *line, int *col)
{
	const struct source *s = source_get(c, file);
	*line = from;
	*col = 0;
	for (int l = from; s && l >= 1 && (size_t)l <= s->n_lines; l++) {
		int k = text_column(c, file, l, text, 0);
		if (k) {
			*line = l;
			*col = k;
			return;
		}
	}
}

/* The first line of an FAQ file's answer: the first non-blank line after
 * the front matter's closing "---"; from when not found. */
static int answer_line(struct check *c, const char *file, int from)
{
	const struct source *s = source_get(c, file);
	const char *t;
	size_t n;
	int l = 2;
	if (!s)
		return from;
	while (source_line(s, l, &t, &n) == 0 && !is_fence(t, n))
		l++;
	for (l++; source_line(s, l, &t, &n) == 0; l++)
		if (strspn(t, " \t") < n)
			return l;
	return from;
}

/* ========================================================= warnings */

/* Characters (code points) of UTF-8 text. */
static size_t utf8_chars(const char *s)
{
	size_t n = 0;
	for (; *s; s++)
		n += ((unsigned char)*s & 0xc0) != 0x80;
	return n;
}

/* Warns about links the loaders let by but that are likely slips: a
 * mailto: without an address, an http(s) address with no host or a host
 * without a dot, plain http. text is an answer or reply written in file
 * from line `from` on; whose names it ("entry 'x'"). */
static void warn_links(struct check *c, const char *file, int from, const char *text,
		       const char *whose)
{
	for (const char *p = text; (p = strstr(p, "](")) != NULL; p += 2) {
		const char *u = p + 2, *e = u;
		int depth = 0;
		for (; *e && *e != '\n'; e++) {
			if (*e == '(')
				depth++;
			else if (*e == ')' && depth-- == 0)
				break;
		}
		if (*e != ')')
			continue;
		char *url = xstrndup(u, (size_t)(e - u)), snip[80], why[160];
		why[0] = '\0';
		if (!strncasecmp(url, "mailto:", 7)) {
			if (!strchr(url + 7, '@'))
				snprintf(why, sizeof(why), "has no e-mail address after 'mailto:'");
		} else {
			const char *h = strstr(url, "://");
			size_t hl = h ? strcspn(h + 3, "/?#") : 0;
			char host[256];
			snprintf(host, sizeof(host), "%.*s", (int)(hl < 255 ? hl : 255), h ? h + 3 : "");
			char *at = strrchr(host, '@'), *hp = at ? at + 1 : host;
			char *colon = strchr(hp, ':');
			if (colon)
				*colon = '\0';
			if (!*hp)
				snprintf(why, sizeof(why), "has no host name");
			else if (!strchr(hp, '.') && strcmp(hp, "localhost"))
				snprintf(why, sizeof(why), "has a host name without a dot ('%s')",
					 diag_snip(hp, 40, snip, sizeof(snip)));
			else if (strspn(hp, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
					    "0123456789.-") < strlen(hp) &&
				 !(hp[strspn(hp, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
						 "0123456789.-")] & 0x80))
				snprintf(why, sizeof(why), "has a host name that is not valid ('%s')",
					 diag_snip(hp, 40, snip, sizeof(snip)));
			else if (!strncasecmp(url, "http://", 7))
				snprintf(why, sizeof(why), "is not encrypted: use https:// if the site has it");
		}
		if (why[0]) {
			int line, col;
			locate_text(c, file, from, url, &line, &col);
			add_warning(c, file, line, col, "%s: link '%s' %s", whose,
				    diag_snip(url, 60, snip, sizeof(snip)), why);
		}
		free(url);
	}
}

/* An answer over CHECK_LONG_ANSWER characters. */
static void warn_length(struct check *c, const char *file, int line, const char *text,
			const char *whose)
{
	size_t chars = utf8_chars(text);
	if (chars > CHECK_LONG_ANSWER)
		add_warning(c, file, line, 1,
			    "%s: the answer is %zu characters long, more than the %d a chat bubble "
			    "holds comfortably: shorten it, or link to a page for the details",
			    whose, chars, CHECK_LONG_ANSWER);
}

/* Runs an entry's own questions through the FAQ retriever and through
 * the whole brain, and warns about each question that another entry (or
 * an intent) matches better. */
static void warn_confusion(struct check *c, brain *b, analyzer *an, const faqindex *ix,
			   const struct faq_entry *const *ents, size_t j)
{
	const struct faq_entry *e = ents[j];
	char snip[80];

	for (size_t q = 0; q < e->n_questions; q++) {
		const char *text = e->questions[q];
		int line, col;
		struct tokens t;
		struct faqindex_hit hits[CHECK_HITS];
		size_t nh = 0;

		diag_snip(text, 60, snip, sizeof(snip));
		locate_item(c, e->file, e->line, text, &line, &col);
		if (analyzer_run(an, text, strlen(text), &t) == 0) {
			nh = faqindex_search(ix, &t, hits, CHECK_HITS);
			if (nh && hits[0].doc != (int)j) {
				const struct faq_entry *o = ents[hits[0].doc];
				double own = -1;
				for (size_t h = 1; h < nh; h++)
					if (hits[h].doc == (int)j)
						own = hits[h].confidence;
				if (own >= 0)
					add_warning(c, e->file, line, col,
						    "entry '%s' question %zu '%s' matches entry '%s' better "
						    "in the FAQ search (%.2f vs %.2f)",
						    e->id, q + 1, snip, o->id, hits[0].confidence, own);
				else
					add_warning(c, e->file, line, col,
						    "entry '%s' question %zu '%s' matches entry '%s' better "
						    "in the FAQ search (%.2f; '%s' is not in the top %d)",
						    e->id, q + 1, snip, o->id, hits[0].confidence, e->id,
						    CHECK_HITS);
			}
			tokens_clear(&t);
		}

		struct brain_result r;
		brain_understand(b, e->lang, text, strlen(text), NULL, &r);
		if (r.n && !(r.top[0].faq && !strcmp(r.top[0].faq, e->id))) {
			const struct brain_candidate *w = &r.top[0];
			double own = -1;
			for (size_t k = 1; k < r.n; k++)
				if (r.top[k].faq && !strcmp(r.top[k].faq, e->id))
					own = r.top[k].confidence;
			const char *kind = w->kind == BRAIN_INTENT ? "intent" : "entry";
			if (own >= 0)
				add_warning(c, e->file, line, col,
					    "entry '%s' question %zu '%s' matches %s '%s' better (%.2f vs "
					    "%.2f)",
					    e->id, q + 1, snip, kind, w->name, w->confidence, own);
			else
				add_warning(c, e->file, line, col,
					    "entry '%s' question %zu '%s' matches %s '%s' better (%.2f; "
					    "'%s' is not in the top %d)",
					    e->id, q + 1, snip, kind, w->name, w->confidence, e->id,
					    BRAIN_TOP);
		}
		brain_result_clear(&r);
	}
}

/* --------------------------------------------------- colliding phrases */

/* A question or an example, reduced to what the bot sees in it. */
struct phrase {
	char *key;           /* owned: its content stems, sorted and unique; "="
				and its words when it has fewer than two */
	char *words;         /* owned: its folded words, for "identical" */
	char cls[80];        /* the class it trains: "faq:<id>" or "intent:<name>" */
	int faq;             /* 1: an entry's question; 0: an intent's example */
	const char *name;    /* entry id or intent name, borrowed */
	size_t index;        /* 1-based question or example number */
	const char *text;    /* borrowed */
	const char *file;    /* borrowed */
	int from;            /* line of its entry or intent */
	size_t seq;
};

struct phrases {
	struct phrase *v;
	size_t n, cap;
};

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int cmp_phrase(const void *a, const void *b)
{
	const struct phrase *x = a, *y = b;
	int r = strcmp(x->key, y->key);
	return r ? r : (x->seq > y->seq) - (x->seq < y->seq);
}

/* Adds one phrase (nothing when it has no words). */
static void phrase_add(struct phrases *ps, analyzer *an, const char *cls, int faq,
		       const char *name, size_t index, const char *text, const char *file,
		       int from)
{
	struct tokens t;
	if (analyzer_run(an, text, strlen(text), &t) < 0 || !t.n) {
		tokens_clear(&t);
		return;
	}
	const char **stems = xmalloc(t.n * sizeof(*stems));
	size_t ns = 0, klen = 2, wlen = 1;
	for (size_t i = 0; i < t.n; i++) {
		wlen += t.v[i].word_len + 1;
		if (!t.v[i].stop)
			stems[ns++] = t.v[i].stem;
	}
	qsort(stems, ns, sizeof(*stems), cmp_str);
	for (size_t i = 0; i < ns; i++)
		klen += strlen(stems[i]) + 1;
	char *key = xmalloc(klen + wlen), *words = xmalloc(wlen);
	size_t o = 0;
	words[0] = '\0';
	for (size_t i = 0; i < t.n; i++)
		o += (size_t)sprintf(words + o, "%s%s", i ? " " : "", t.v[i].word);
	o = 0;
	key[0] = '\0';
	for (size_t i = 0; i < ns; i++)
		if (!i || strcmp(stems[i], stems[i - 1]))
			o += (size_t)sprintf(key + o, "%s%s", o ? " " : "", stems[i]);
	if (!strchr(key, ' ')) /* one content word says too little: only the same words */
		sprintf(key, "=%s", words);
	free(stems);
	tokens_clear(&t);

	if (ps->n == ps->cap) {
		ps->cap = ps->cap ? ps->cap * 2 : 256;
		ps->v = xrealloc(ps->v, ps->cap * sizeof(*ps->v));
	}
	struct phrase *p = &ps->v[ps->n];
	memset(p, 0, sizeof(*p));
	p->key = key;
	p->words = words;
	snprintf(p->cls, sizeof(p->cls), "%s", cls);
	p->faq = faq;
	p->name = name;
	p->index = index;
	p->text = text;
	p->file = file;
	p->from = from;
	p->seq = ps->n++;
}

/* Warns about each question or example whose words are those of one of
 * another entry or intent of the language, against the first one written:
 * the same content words once folded and stemmed (stop words aside), or,
 * for a phrase with fewer than two content words, the same words. */
static void warn_collisions(struct check *c, brain *b, analyzer *an, const char *lang,
			    const struct faq_entry *const *ents, size_t ne)
{
	const struct rule_set *rs = brain_rules(b);
	struct phrases ps = {0};
	char cls[80];

	for (size_t j = 0; j < ne; j++) {
		snprintf(cls, sizeof(cls), "faq:%s", ents[j]->id);
		for (size_t q = 0; q < ents[j]->n_questions; q++)
			phrase_add(&ps, an, cls, 1, ents[j]->id, q + 1, ents[j]->questions[q],
				   ents[j]->file, ents[j]->line);
	}
	for (size_t i = 0; i < rs->n; i++) {
		const struct rule_intent *r = &rs->v[i];
		if (strcmp(r->lang, lang))
			continue;
		if (r->faq)
			snprintf(cls, sizeof(cls), "faq:%s", r->faq);
		else
			snprintf(cls, sizeof(cls), "intent:%s", r->name);
		for (size_t x = 0; x < r->n_examples; x++)
			phrase_add(&ps, an, cls, 0, r->name, x + 1, r->examples[x], r->file, r->line);
	}
	if (ps.n)
		qsort(ps.v, ps.n, sizeof(*ps.v), cmp_phrase);
	for (size_t g = 0, h; g < ps.n; g = h) {
		const struct phrase *first = &ps.v[g];
		int fl, fc;
		for (h = g + 1; h < ps.n && !strcmp(ps.v[h].key, first->key); h++)
			;
		if (h - g < 2)
			continue;
		locate_item(c, first->file, first->from, first->text, &fl, &fc);
		for (size_t k = g + 1; k < h; k++) {
			const struct phrase *p = &ps.v[k];
			char a[80], z[80];
			int line, col;
			if (!strcmp(p->cls, first->cls))
				continue;
			locate_item(c, p->file, p->from, p->text, &line, &col);
			add_warning(c, p->file, line, col, "%s '%s' %s %zu '%s' is %s %s '%s' %s %zu '%s' (%s:%d)",
				    p->faq ? "entry" : "intent", p->name, p->faq ? "question" : "example",
				    p->index, diag_snip(p->text, 60, a, sizeof(a)),
				    strcmp(p->words, first->words) ? "a near-duplicate of"
								   : "the same as",
				    first->faq ? "entry" : "intent", first->name,
				    first->faq ? "question" : "example", first->index,
				    diag_snip(first->text, 60, z, sizeof(z)), first->file, fl);
		}
	}
	for (size_t i = 0; i < ps.n; i++) {
		free(ps.v[i].key);
		free(ps.v[i].words);
	}
	free(ps.v);
}

/* ---------------------------------------------------------------- teams */

struct team_use {
	char name[40];
	const char *file;    /* borrowed; NULL: the config */
	int line, col;
};

struct teams {
	struct team_use *v;
	size_t n, cap;
	char **files;        /* owned: the flow files' paths the uses borrow */
	size_t n_files;
};

static void team_add(struct teams *ts, const char *name, size_t len, const char *file, int line,
		     int col)
{
	if (len >= sizeof(ts->v[0].name))
		return;
	if (ts->n == ts->cap) {
		ts->cap = ts->cap ? ts->cap * 2 : 64;
		ts->v = xrealloc(ts->v, ts->cap * sizeof(*ts->v));
	}
	struct team_use *u = &ts->v[ts->n++];
	memcpy(u->name, name, len);
	u->name[len] = '\0';
	u->file = file;
	u->line = line;
	u->col = col;
}

/* The literal `team = "name"` of every flow under dir/lua/flows. */
static void team_flow_literals(struct check *c, struct teams *ts)
{
	char *dir = content_path_join(c->dir, "lua/flows");
	DIR *dp = opendir(dir);
	struct dirent *de;
	while (dp && (de = readdir(dp)) != NULL) {
		if (de->d_name[0] == '.' || !content_ends_with(de->d_name, ".lua"))
			continue;
		char *path = content_path_join(dir, de->d_name);
		const struct source *s = source_get(c, path);
		ts->files = xrealloc(ts->files, (ts->n_files + 1) * sizeof(*ts->files));
		ts->files[ts->n_files++] = path;
		for (int l = 1; s && (size_t)l <= s->n_lines; l++) {
			const char *t, *q;
			size_t n;
			source_line(s, l, &t, &n);
			for (q = t; (q = memmem(q, n - (size_t)(q - t), "team", 4)) != NULL; q++) {
				size_t i = (size_t)(q - t) + 4;
				if (q > t && (isalnum((unsigned char)q[-1]) || q[-1] == '_'))
					continue;
				i += strspn(t + i, " ");
				if (i >= n || t[i] != '=' || (i + 1 < n && t[i + 1] == '='))
					continue;
				i += 1 + strspn(t + i + 1, " ");
				if (i >= n || (t[i] != '"' && t[i] != '\''))
					continue;
				const char *v = t + i + 1, *e = memchr(v, t[i], n - i - 1);
				if (e)
					team_add(ts, v, (size_t)(e - v), path, l, char_col(t, i + 1));
			}
		}
	}
	if (dp)
		closedir(dp);
	free(dir);
}

/* Levenshtein distance of two short strings, capped at 9. */
static int distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	int row[41];
	if (la > 40 || lb > 40)
		return 9;
	for (size_t j = 0; j <= lb; j++)
		row[j] = (int)j;
	for (size_t i = 1; i <= la; i++) {
		int prev = row[0];
		row[0] = (int)i;
		for (size_t j = 1; j <= lb; j++) {
			int up = row[j], best = prev + (a[i - 1] != b[j - 1]);
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			if (up + 1 < best)
				best = up + 1;
			row[j] = best;
			prev = up;
		}
	}
	return row[lb] > 9 ? 9 : row[lb];
}

static size_t team_count(const struct teams *ts, const char *name, int *in_config)
{
	size_t n = 0;
	*in_config = 0;
	for (size_t i = 0; i < ts->n; i++)
		if (!strcmp(ts->v[i].name, name)) {
			n++;
			*in_config |= !ts->v[i].file;
		}
	return n;
}

/* Teams have no list of their own (agents join them by name), so a team
 * name that is used once or twice and is a typo away from a more used
 * one (or one the config names) is probably a typo. */
static void warn_teams(struct check *c, brain *b)
{
	struct teams ts = {0};
	const char *const *langs = brain_languages(b);
	const struct rule_set *rs = brain_rules(b);
	int line, col;

	team_add(&ts, c->cfg->desk.default_team, strlen(c->cfg->desk.default_team), NULL, 0, 0);
	for (size_t i = 0; i < c->cfg->desk.n_teams; i++)
		team_add(&ts, c->cfg->desk.teams[i].name, strlen(c->cfg->desk.teams[i].name), NULL,
			 0, 0);
	for (size_t l = 0; langs[l]; l++) {
		const struct faq_entry *const *ents;
		size_t ne;
		brain_faq_index(b, langs[l], &ents, &ne);
		for (size_t j = 0; j < ne; j++) {
			locate_key(c, ents[j]->file, ents[j]->line, "team", &line, &col);
			team_add(&ts, ents[j]->team, strlen(ents[j]->team), ents[j]->file, line, col);
		}
	}
	for (size_t i = 0; i < rs->n; i++) {
		const struct rule_intent *r = &rs->v[i];
		locate_key(c, r->file, r->line, "team", &line, &col);
		team_add(&ts, r->team, strlen(r->team), r->file, line, col);
	}
	team_flow_literals(c, &ts);

	for (size_t i = 0; i < ts.n; i++) {
		const struct team_use *u = &ts.v[i];
		int cfg_n, cfg_m;
		size_t n = team_count(&ts, u->name, &cfg_n), best_n = 0;
		const char *best = NULL;
		if (!u->file || cfg_n || n > CHECK_TEAM_RARE)
			continue;
		for (size_t k = 0; k < ts.n; k++) {
			const char *m = ts.v[k].name;
			if (!strcmp(m, u->name) || distance(m, u->name) > (strlen(u->name) > 4 ? 2 : 1))
				continue;
			size_t mn = team_count(&ts, m, &cfg_m);
			if ((mn > n || cfg_m) && mn > best_n) {
				best = m;
				best_n = mn;
			}
		}
		if (best)
			add_warning(c, u->file, u->line, u->col,
				    "team '%s' (used %zu time%s) looks like a typo of '%s' (used %zu "
				    "time%s)",
				    u->name, n, n == 1 ? "" : "s", best, best_n, best_n == 1 ? "" : "s");
	}
	for (size_t i = 0; i < ts.n_files; i++)
		free(ts.files[i]);
	free(ts.files);
	free(ts.v);
}

/* Every warning, on a brain built from what loaded. */
static void warn_all(struct check *c, brain *b)
{
	const char *const *langs = brain_languages(b);
	const struct rule_set *rs = brain_rules(b);
	char whose[120];
	int line, col;

	for (size_t l = 0; langs[l]; l++) {
		const struct faq_entry *const *ents;
		size_t ne;
		const faqindex *ix = brain_faq_index(b, langs[l], &ents, &ne);
		analyzer *an = analyzer_new(language_find(brain_language_set(b), langs[l]));
		for (size_t j = 0; j < ne; j++) {
			const struct faq_entry *e = ents[j];
			snprintf(whose, sizeof(whose), "entry '%s'", e->id);
			if (e->n_questions == 1) {
				locate_key(c, e->file, e->line, "questions", &line, &col);
				add_warning(c, e->file, line, col,
					    "entry '%s' has a single question: add the other ways "
					    "customers ask it (5 to 10 are best)",
					    e->id);
			}
			int al = answer_line(c, e->file, e->line);
			warn_length(c, e->file, al, e->answer, whose);
			warn_links(c, e->file, al, e->answer, whose);
			warn_confusion(c, b, an, ix, ents, j);
		}
		warn_collisions(c, b, an, langs[l], ents, ne);
		analyzer_free(an);
	}
	for (size_t i = 0; i < rs->n; i++) {
		const struct rule_intent *r = &rs->v[i];
		if (!r->reply)
			continue;
		snprintf(whose, sizeof(whose), "intent '%s'", r->name);
		warn_length(c, r->file, r->action_line, r->reply, whose);
		warn_links(c, r->file, r->action_line, r->reply, whose);
	}
	warn_teams(c, b);
}

/* ======================================================= one directory */

/* A catalog text a language lacks: customers get the English one. */
static void warn_missing_text(void *ud, const char *lang, const char *key)
{
	struct check *c = ud;
	char rel[64];
	snprintf(rel, sizeof(rel), "lua/locale/%s.lua", lang);
	char *path = content_path_join(c->dir, rel);
	add_warning(c, path, 1, 1, "no text for '%s': customers writing %s get the English one",
		    key, lang);
	free(path);
}

/* The checks pipeline_open() makes only on otherwise clean content: every
 * intent's FAQ entry and flow exist. Made on what loaded. */
static void cross_check(struct check *c, const struct faq_set *faqs,
			const struct rule_set *rules)
{
	struct diag d;
	struct stat st;
	diag_init(&d);
	rules_check_faq_refs(rules, faqs, BRAIN_DEFAULT_LANG, &d);
	for (size_t i = 0; i < rules->n; i++) {
		const struct rule_intent *r = &rules->v[i];
		if (!r->flow)
			continue;
		char name[RULES_NAME_MAX + 16];
		snprintf(name, sizeof(name), "lua/flows/%s.lua", r->flow);
		char *path = content_path_join(c->dir, name);
		if (stat(path, &st) < 0 || !S_ISREG(st.st_mode))
			diag_add(&d, r->file, r->action_line,
				 "intent '%s' runs flow '%s', but there is no lua/flows/%s.lua", r->name,
				 r->flow, r->flow);
		free(path);
	}
	take_errors(c, &d);
	diag_clear(&d);
}

static void check_dir(struct check *c)
{
	struct stat st;
	struct diag d, scratch;
	struct metrics m;
	logger lg = {LOG_WARN};
	struct faq_set faqs = {0};
	struct rule_set rules = {0};
	struct brain_limits blim = {(unsigned)c->cfg->brain.pattern_match_limit,
				    (unsigned)c->cfg->brain.pattern_depth_limit_kb,
				    (size_t)c->cfg->brain.model_max_classes, NULL};
	char *path;

	if (stat(c->dir, &st) < 0) {
		add_error(c, c->dir, 0, 0, "cannot read the content directory: %s", strerror(errno));
		return;
	}
	if (!S_ISDIR(st.st_mode)) {
		add_error(c, c->dir, 0, 0, "not a directory: give a content root holding faq/, "
					   "rules/ and lua/");
		return;
	}

	/* what the daemon says */
	diag_init(&d);
	metrics_init(&m);
	pipeline *p = pipeline_open(c->cfg, &lg, &m, NULL, &d);
	if (p)
		flowhost_missing_texts(pipeline_flows(p), warn_missing_text, c);
	pipeline_close(p);
	take_errors(c, &d);
	diag_clear(&d);

	/* what it would say next, and a brain of what loaded for the warnings */
	diag_init(&scratch);
	path = content_path_join(c->dir, "rules");
	rules_load(path, &rules, &scratch);
	free(path);
	path = content_path_join(c->dir, "faq");
	faq_load(path, &rules.languages, &faqs, &scratch);
	free(path);
	cross_check(c, &faqs, &rules);
	diag_clear(&scratch);
	brain *b = brain_build(&faqs, &rules, &blim, &lg, &scratch);
	diag_clear(&scratch);
	if (b)
		warn_all(c, b);
	brain_free(b);
}

/* ============================================================ output */

static void print_text(const struct check *c)
{
	for (size_t i = 0; i < c->n; i++) {
		const struct problem *p = &c->v[i];
		const char *sev = p->warning ? "warning" : "error";
		if (p->file)
			printf("%s:%d:%d: %s: %s\n", p->file, p->line > 0 ? p->line : 1,
			       p->col > 0 ? p->col : 1, sev, p->message);
		else
			printf("supportd: %s: %s\n", sev, p->message);
	}
	fflush(stdout);
	fprintf(stderr, "supportd check: %s: %zu error%s, %zu warning%s\n", c->dir, c->errors,
		c->errors == 1 ? "" : "s", c->warnings, c->warnings == 1 ? "" : "s");
}

static void print_json(const struct check *c, int ok)
{
	json_t *o = json_object(), *errors = json_array(), *warnings = json_array();
	/* json_object_set_new and json_array_append_new steal the value */
	for (size_t i = 0; i < c->n; i++) {
		const struct problem *p = &c->v[i];
		json_t *jp = json_object();
		if (p->file) {
			json_object_set_new(jp, "file", json_string(p->file));
			json_object_set_new(jp, "line", json_integer(p->line > 0 ? p->line : 1));
			json_object_set_new(jp, "col", json_integer(p->col > 0 ? p->col : 1));
		} else {
			json_object_set_new(jp, "file", json_null());
			json_object_set_new(jp, "line", json_null());
			json_object_set_new(jp, "col", json_null());
		}
		json_object_set_new(jp, "message", json_string(p->message));
		json_array_append_new(p->warning ? warnings : errors, jp);
	}
	json_object_set_new(o, "dir", json_string(c->dir));
	json_object_set_new(o, "errors", errors);
	json_object_set_new(o, "warnings", warnings);
	json_object_set_new(o, "ok", json_boolean(ok));
	char *s = json_dumps(o, JSON_COMPACT | JSON_ENSURE_ASCII);
	if (!s)
		abort();
	puts(s);
	free(s);
	json_decref(o);
	fflush(stdout);
}

int check_main(int argc, char **argv)
{
	enum { OPT_JSON = 256, OPT_STRICT };
	static const struct option opts[] = {
		{"json", no_argument, NULL, OPT_JSON},
		{"strict", no_argument, NULL, OPT_STRICT},
		{"config", required_argument, NULL, 'c'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0}};
	static char *const here[] = {".", NULL};
	const char *config_path = NULL;
	int as_json = 0, strict = 0, opt, rc = 0;
	struct config *cfg = xcalloc(1, sizeof(*cfg));
	char err[1024];

	optind = 1;
	while ((opt = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
		switch (opt) {
		case OPT_JSON:
			as_json = 1;
			break;
		case OPT_STRICT:
			strict = 1;
			break;
		case 'c':
			config_path = optarg;
			break;
		case 'h':
			fputs(usage_check, stdout);
			free(cfg);
			return 0;
		default:
			fputs(usage_check, stderr);
			free(cfg);
			return 2;
		}
	}
	config_defaults(cfg);
	if (config_path && config_load_file(cfg, config_path, err, sizeof(err))) {
		fprintf(stderr, "supportd: %s\n", err);
		free(cfg);
		return 2;
	}
	char *const *dirs = optind < argc ? argv + optind : here;
	for (size_t i = 0; dirs[i]; i++) {
		/* a trailing '/' would double in the paths the loaders make */
		char dir[CONFIG_PATH_MAX];
		size_t len = strlen(dirs[i]);
		while (len > 1 && dirs[i][len - 1] == '/')
			len--;
		if (!len || len >= sizeof(dir)) {
			fprintf(stderr, "supportd check: a DIR must be 1 to %zu characters\n",
				sizeof(dir) - 1);
			free(cfg);
			return 2;
		}
		snprintf(dir, sizeof(dir), "%.*s", (int)len, dirs[i]);
		snprintf(cfg->content_dir, sizeof(cfg->content_dir), "%s", dir);

		struct check c = {.dir = dir, .config_path = config_path, .cfg = cfg};
		check_dir(&c);
		if (c.n)
			qsort(c.v, c.n, sizeof(*c.v), cmp_problem);
		int ok = !c.errors && !(strict && c.warnings);
		if (as_json)
			print_json(&c, ok);
		else
			print_text(&c);
		if (!ok)
			rc = 1;
		for (size_t k = 0; k < c.n; k++) {
			free(c.v[k].file);
			free(c.v[k].message);
		}
		free(c.v);
		sources_free(&c);
	}
	free(cfg);
	return rc;
}
