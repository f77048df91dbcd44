/* importfaq.c: `supportd import-faq`. See importfaq.h; the editors' guide
 * is docs/content.md, "Importing an FAQ spreadsheet".
 *
 * One run: read the CSV whole (at most IMPORTFAQ_CSV_MAX bytes), feed it
 * to libcsv a line at a time so each record knows the line it starts on,
 * turn each record into a planned file whose text faq_parse() has already
 * accepted, then write the plans (O_EXCL: never over a file) and load the
 * whole faq/ tree again with faq_load(). A written file the loader refuses
 * after all is removed and its row counted as skipped. */
#include "importfaq.h"

#include <csv.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "content.h"
#include "diag.h"
#include "faq.h"
#include "language.h"
#include "text.h"
#include "xalloc.h"
#include "yamldoc.h"

static const char usage[] =
	"usage: supportd import-faq FILE.csv [--out DIR] [--lang L] [--dry-run]\n"
	"\n"
	"Turns a spreadsheet exported as CSV (UTF-8) into FAQ entries: each row\n"
	"becomes DIR/faq/<lang>/<id>.md, its id made from the question. The\n"
	"header row names the columns, in any order and any case: question and\n"
	"answer (required), alternates (other ways to ask, separated by line\n"
	"breaks, ';' or '|'), team and lang (optional). Existing files are never\n"
	"overwritten: a taken id gets -2, -3... and a warning.\n"
	"\n"
	"options:\n"
	"      --out DIR      content root to write into (default .)\n"
	"      --lang L       language of rows without a lang cell: one of DIR's\n"
	"                     languages (rules/<code>/language.yaml; default en)\n"
	"      --dry-run      print the files instead of writing them\n"
	"  -h, --help         show this help\n"
	"\n"
	"Problems are listed on stderr as FILE.csv:ROW: reason, ROW being the line\n"
	"where the record starts; rows with problems are skipped.\n"
	"Exit status: 0, 1 when a row was skipped, 2 for a usage error.\n";

const char *importfaq_usage(void)
{
	return usage;
}

/* ------------------------------------------------------------- text */

/* Returns a new string: n bytes of s with CRLF and lone CR made LF. */
static char *lf_dup(const char *s, size_t n)
{
	char *out = xmalloc(n + 1);
	size_t o = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '\r') {
			out[o++] = '\n';
			if (i + 1 < n && s[i + 1] == '\n')
				i++;
		} else {
			out[o++] = s[i];
		}
	}
	out[o] = '\0';
	return out;
}

/* Trims s in place; returns s. */
static char *trim(char *s)
{
	size_t n = strlen(s), b = 0;
	while (n && content_is_blank((unsigned char)s[n - 1]))
		n--;
	while (b < n && content_is_blank((unsigned char)s[b]))
		b++;
	memmove(s, s + b, n - b);
	s[n - b] = '\0';
	return s;
}

/* The answer as the FAQ loader keeps it (faq.c's body_text): no white
 * space at the end, no blank lines at the start; the first line keeps its
 * indentation. In place; returns s. */
static char *answer_trim(char *s)
{
	size_t n = strlen(s), start = 0;
	while (n && content_is_blank((unsigned char)s[n - 1]))
		n--;
	s[n] = '\0';
	for (size_t k = 0; k < n && content_is_blank((unsigned char)s[k]); k++)
		if (s[k] == '\n')
			start = k + 1;
	memmove(s, s + start, n - start + 1);
	return s;
}

char *importfaq_slug(const char *question)
{
	size_t flen, o = 0;
	char *f = text_fold(question, strlen(question), &flen);
	if (!f)
		return NULL;
	char *out = xmalloc(flen + 1);
	int gap = 0;
	for (size_t i = 0; i < flen; i++) {
		unsigned char c = (unsigned char)f[i];
		if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) {
			if (gap && o)
				out[o++] = '-';
			out[o++] = (char)c;
			gap = 0;
		} else if (c != '\'') { /* "can't" -> "cant" */
			gap = 1;
		}
	}
	out[o] = '\0';
	free(f);
	if (o > IMPORTFAQ_SLUG_MAX) {
		/* Cut at a word boundary unless that loses more than half. */
		size_t cut = IMPORTFAQ_SLUG_MAX;
		if (out[cut] != '-') {
			char *dash = memrchr(out, '-', cut);
			if (dash && (size_t)(dash - out) >= IMPORTFAQ_SLUG_MAX / 2)
				cut = (size_t)(dash - out);
		}
		out[cut] = '\0';
		o = cut;
		while (o && out[o - 1] == '-')
			out[--o] = '\0';
	}
	if (!o) {
		free(out);
		return xstrdup("entry");
	}
	return out;
}

char *importfaq_unique_id(const char *slug, importfaq_taken_fn *taken, void *ud)
{
	char id[IMPORTFAQ_SLUG_MAX + 1];
	snprintf(id, sizeof(id), "%s", slug);
	if (!taken(ud, id))
		return xstrdup(id);
	for (unsigned long k = 2;; k++) {
		char suffix[24];
		int sl = snprintf(suffix, sizeof(suffix), "-%lu", k);
		size_t base = strlen(slug);
		if (base > IMPORTFAQ_SLUG_MAX - (size_t)sl)
			base = IMPORTFAQ_SLUG_MAX - (size_t)sl;
		while (base && slug[base - 1] == '-')
			base--;
		snprintf(id, sizeof(id), "%.*s%s", (int)base, slug, suffix);
		if (!taken(ud, id))
			return xstrdup(id);
	}
}

char **importfaq_split_alternates(const char *s, size_t *n)
{
	char **v = NULL;
	size_t count = 0;
	const char *p = s;
	for (;;) {
		size_t len = strcspn(p, "\n\r;|");
		char *item = trim(xstrndup(p, len));
		int keep = *item != '\0';
		for (size_t i = 0; keep && i < count; i++)
			if (strcmp(v[i], item) == 0)
				keep = 0;
		if (keep) {
			v = xrealloc(v, (count + 1) * sizeof(*v));
			v[count++] = item;
		} else {
			free(item);
		}
		if (!p[len])
			break;
		p += len + 1;
	}
	*n = count;
	return v;
}

/* ------------------------------------------------------------- YAML */

/* 1 when s (one trimmed line, not empty) reads back as the same string
 * written plain in YAML block context; else it is double-quoted. Kept
 * simple and cautious: anything doubtful is quoted. */
static int yaml_plain_ok(const char *s)
{
	static const char *const words[] = {"null", "true", "false", "yes", "no", "on", "off",
					    "y", "n"};
	unsigned char c0 = (unsigned char)s[0];
	size_t n = strlen(s);
	if (!(isalnum(c0) || c0 >= 0x80))
		return 0;
	if (strstr(s, ": ") || strstr(s, " #") || strchr(s, '\t') || s[n - 1] == ':')
		return 0;
	/* NEL, LS, PS are line breaks to YAML; a BOM is dropped. */
	if (strstr(s, "\xc2\x85") || strstr(s, "\xe2\x80\xa8") || strstr(s, "\xe2\x80\xa9") ||
	    strstr(s, "\xef\xbb\xbf"))
		return 0;
	if (strspn(s, "0123456789+-._eE") == n)
		return 0; /* a number to other YAML readers */
	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		if (strcasecmp(s, words[i]) == 0)
			return 0;
	return 1;
}

/* A growing string. */
struct buf {
	char *s;
	size_t n, cap;
};

static void buf_add(struct buf *b, const char *s, size_t n)
{
	if (b->n + n + 1 > b->cap) {
		b->cap = (b->n + n + 1) * 2;
		b->s = xrealloc(b->s, b->cap);
	}
	memcpy(b->s + b->n, s, n);
	b->n += n;
	b->s[b->n] = '\0';
}

static void buf_str(struct buf *b, const char *s)
{
	buf_add(b, s, strlen(s));
}

/* Appends s as a YAML scalar: plain when that is safe, else double-quoted. */
static void buf_yaml(struct buf *b, const char *s)
{
	if (yaml_plain_ok(s)) {
		buf_str(b, s);
		return;
	}
	buf_str(b, "\"");
	for (const char *p = s; *p; p++) {
		if (*p == '"' || *p == '\\') {
			char esc[2] = {'\\', *p};
			buf_add(b, esc, 2);
		} else if (*p == '\t') {
			buf_str(b, "\\t");
		} else if (strncmp(p, "\xc2\x85", 2) == 0) {
			buf_str(b, "\\N");
			p += 1;
		} else if (strncmp(p, "\xe2\x80\xa8", 3) == 0) {
			buf_str(b, "\\L");
			p += 2;
		} else if (strncmp(p, "\xe2\x80\xa9", 3) == 0) {
			buf_str(b, "\\P");
			p += 2;
		} else if (strncmp(p, "\xef\xbb\xbf", 3) == 0) {
			buf_str(b, "\\uFEFF");
			p += 2;
		} else {
			buf_add(b, p, 1);
		}
	}
	buf_str(b, "\"");
}

/* ------------------------------------------------------------ import */

enum { COL_QUESTION, COL_ALTERNATES, COL_ANSWER, COL_TEAM, COL_LANG, N_COLS };
static const char *const col_names[N_COLS] = {"question", "alternates", "answer", "team",
					      "lang"};

/* One file to write: a row that passed every check. */
struct plan {
	char *lang, *id;
	char *path;      /* DIR/faq/<lang>/<id>.md */
	char *text;      /* the whole file */
	int row;         /* CSV line where its record starts */
	int written;     /* the file is on disk */
};

/* One run's state. */
struct import {
	const char *csv;        /* FILE.csv as given, for messages */
	const char *out;        /* --out */
	char *faq_dir;          /* out/faq, owned */
	const char *lang;       /* --lang */
	char lang_list[100];    /* "en, pl, pt", for messages */
	int dry_run;
	struct diag *d;         /* problems and warnings, in order */
	struct faq_set existing; /* the entries already under faq_dir */
	struct language_set langs; /* out/rules/<code>/language.yaml, owned */

	/* the record being read */
	char **fields;          /* owned, NUL-terminated copies */
	size_t *lens;           /* their lengths (a field may hold a NUL) */
	size_t n_fields, cap_fields;
	int line;               /* line of the chunk being fed to libcsv */
	int rec_line;           /* line where the current record starts */
	int in_record;          /* a record has started and not ended */

	/* the header */
	int have_header;
	int header_ok;          /* required columns present: rows can be read */
	size_t n_header;        /* fields in the header */
	long col[N_COLS];       /* field index of each column, or -1 */

	struct plan *plans;
	size_t n_plans, cap_plans;
	size_t skipped;         /* rows left out */
};

/* Adds a problem or warning about the record starting at row. */
#define problem(imp, row, ...) diag_add((imp)->d, (imp)->csv, (row), __VA_ARGS__)

static void clear_fields(struct import *imp)
{
	for (size_t i = 0; i < imp->n_fields; i++)
		free(imp->fields[i]);
	imp->n_fields = 0;
}

/* libcsv's field callback: keeps a copy of the field. */
static void on_field(void *s, size_t len, void *ud)
{
	struct import *imp = ud;
	if (imp->n_fields == imp->cap_fields) {
		imp->cap_fields = imp->cap_fields ? imp->cap_fields * 2 : 8;
		imp->fields = xrealloc(imp->fields, imp->cap_fields * sizeof(*imp->fields));
		imp->lens = xrealloc(imp->lens, imp->cap_fields * sizeof(*imp->lens));
	}
	char *f = xmalloc(len + 1);
	if (len)
		memcpy(f, s, len);
	f[len] = '\0';
	imp->fields[imp->n_fields] = f;
	imp->lens[imp->n_fields++] = len;
}

/* Reads the header record: which field holds which column. */
static void read_header(struct import *imp)
{
	int row = imp->rec_line, ok = 1;
	imp->have_header = 1;
	imp->n_header = imp->n_fields;
	for (int c = 0; c < N_COLS; c++)
		imp->col[c] = -1;
	for (size_t i = 0; i < imp->n_fields; i++) {
		char *name = trim(xstrdup(imp->fields[i]));
		char snip[48];
		int c = 0;
		while (c < N_COLS && strcasecmp(name, col_names[c]) != 0)
			c++;
		if (!*name) {
			/* an unnamed column (spreadsheets pad rows): not read */
		} else if (c == N_COLS) {
			problem(imp, row,
				"warning: column '%s' is not read (the columns are question, "
				"alternates, answer, team and lang)",
				diag_snip(name, 40, snip, sizeof(snip)));
		} else if (imp->col[c] >= 0) {
			problem(imp, row, "column '%s' appears twice in the header", col_names[c]);
			ok = 0;
		} else {
			imp->col[c] = (long)i;
		}
		free(name);
	}
	for (int c = 0; c < N_COLS; c++) {
		if ((c == COL_QUESTION || c == COL_ANSWER) && imp->col[c] < 0) {
			problem(imp, row, "missing required column '%s' in the header",
				col_names[c]);
			ok = 0;
		}
	}
	imp->header_ok = ok;
}

/* Who has id in lang, as a new string (the file of an entry already
 * there, "row N" for an earlier row, or the path of a file that is in the
 * way), or NULL when it is free. */
static char *who_has(struct import *imp, const char *lang, const char *id)
{
	char buf[128];
	const struct faq_entry *e = faq_find(&imp->existing, lang, id);
	if (e)
		return xstrdup(e->file);
	for (size_t i = 0; i < imp->n_plans; i++) {
		if (strcmp(imp->plans[i].lang, lang) == 0 && strcmp(imp->plans[i].id, id) == 0) {
			snprintf(buf, sizeof(buf), "row %d", imp->plans[i].row);
			return xstrdup(buf);
		}
	}
	char *dir = content_path_join(imp->faq_dir, lang);
	snprintf(buf, sizeof(buf), "%s.md", id);
	char *path = content_path_join(dir, buf);
	struct stat st;
	free(dir);
	if (lstat(path, &st) == 0 || errno != ENOENT)
		return path;
	free(path);
	return NULL;
}

/* The taken-ids question of importfaq_unique_id() for one language. */
struct taken_ctx {
	struct import *imp;
	const char *lang;
};

static int id_taken(void *ud, const char *id)
{
	struct taken_ctx *t = ud;
	char *who = who_has(t->imp, t->lang, id);
	free(who);
	return who != NULL;
}

/* Checks one used cell's text (the FAQ loader's rule: UTF-8 without
 * control characters). 0, or -1 after a problem. */
static int check_cell(struct import *imp, int row, int col)
{
	struct diag tmp;
	int rc = 0;
	size_t i = (size_t)imp->col[col];
	diag_init(&tmp);
	if (yamldoc_check_text(imp->csv, row, imp->fields[i], imp->lens[i], &tmp) < 0) {
		problem(imp, row, "column '%s': %s", col_names[col], diag_reason(&tmp, 0));
		rc = -1;
	}
	diag_clear(&tmp);
	return rc;
}

/* The cell of col, CR LF made LF (a new string), or "" for a column the
 * file does not have. */
static char *cell(struct import *imp, int col)
{
	if (imp->col[col] < 0)
		return xstrdup("");
	size_t i = (size_t)imp->col[col];
	return lf_dup(imp->fields[i], imp->lens[i]);
}

/* Builds the file's text. */
static char *entry_text(const char *id, const char *question, char **alts, size_t n_alts,
			const char *team, const char *answer)
{
	struct buf b = {0};
	buf_str(&b, "---\nid: ");
	buf_yaml(&b, id); /* "null", "true", "404" are ids too */
	buf_str(&b, "\ntitle: ");
	buf_yaml(&b, question);
	if (*team) {
		buf_str(&b, "\nteam: ");
		buf_str(&b, team);
	}
	buf_str(&b, "\nquestions:\n  - ");
	buf_yaml(&b, question);
	for (size_t i = 0; i < n_alts; i++) {
		buf_str(&b, "\n  - ");
		buf_yaml(&b, alts[i]);
	}
	buf_str(&b, "\n---\n");
	buf_str(&b, answer);
	buf_str(&b, "\n");
	return b.s;
}

/* Parses text as the FAQ loader will and checks it reads back as meant.
 * The loader's problems are reported against the row, answer lines
 * counted from the answer's first line. 0, or -1 after problems. */
static int check_entry(struct import *imp, int row, const char *path, const char *lang,
		       const char *text, const char *question, char **alts, size_t n_alts,
		       const char *answer, int answer_line)
{
	struct diag tmp;
	struct faq_entry e;
	int rc = 0;
	diag_init(&tmp);
	if (faq_parse(path, lang, text, strlen(text), &e, &tmp) < 0) {
		int multi = strchr(answer, '\n') != NULL;
		for (size_t i = 0; i < tmp.n; i++) {
			int line = diag_line(&tmp, i);
			if (line >= answer_line && multi)
				problem(imp, row, "answer line %d: %s", line - answer_line + 1,
					diag_reason(&tmp, i));
			else if (line >= answer_line)
				problem(imp, row, "answer: %s", diag_reason(&tmp, i));
			else
				problem(imp, row, "%s", diag_reason(&tmp, i));
		}
		diag_clear(&tmp);
		return -1;
	}
	diag_clear(&tmp);
	int same = strcmp(e.title, question) == 0 && e.n_questions == n_alts + 1 &&
		   strcmp(e.answer, answer) == 0;
	for (size_t i = 0; same && i < n_alts; i++)
		same = strcmp(e.questions[i + 1], alts[i]) == 0;
	if (!same) {
		problem(imp, row,
			"the entry does not read back as written (a bug in import-faq; please "
			"report it)");
		rc = -1;
	}
	faq_entry_clear(&e);
	return rc;
}

/* Turns the current record into a plan, or reports why not. */
static void read_row(struct import *imp)
{
	int row = imp->rec_line, bad = 0;
	char snip[48];
	char *question = NULL, *alt_cell = NULL, *answer = NULL, *team = NULL, *lang = NULL;
	char **alts = NULL, *slug = NULL, *id = NULL, *text = NULL, *path = NULL;
	size_t n_alts = 0;

	int blank = 1;
	for (size_t i = 0; blank && i < imp->n_fields; i++)
		blank = strspn(imp->fields[i], " \t\r\n") == imp->lens[i];
	if (blank)
		return; /* an empty row of a spreadsheet: nothing to import */
	if (!imp->header_ok) {
		imp->skipped++;
		return; /* the header's problem is reported once */
	}
	if (imp->n_fields != imp->n_header) {
		problem(imp, row, "the row has %zu field%s but the header has %zu", imp->n_fields,
			imp->n_fields == 1 ? "" : "s", imp->n_header);
		imp->skipped++;
		return;
	}
	for (int c = 0; c < N_COLS; c++)
		if (imp->col[c] >= 0 && check_cell(imp, row, c) < 0)
			bad = 1;
	if (bad)
		goto skip;

	lang = trim(cell(imp, COL_LANG));
	if (!*lang) {
		free(lang);
		lang = xstrdup(imp->lang);
	}
	for (char *p = lang; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	if (!language_valid_code(lang) || !language_find(&imp->langs, lang)) {
		problem(imp, row, "lang '%s' is not a language of %s (%s)",
			diag_snip(lang, 16, snip, sizeof(snip)), imp->out, imp->lang_list);
		bad = 1;
	}

	team = trim(cell(imp, COL_TEAM));
	if (*team && !content_valid_team(team)) {
		problem(imp, row,
			"team '%s' is not valid: use up to 32 lower-case letters, digits, '-' and "
			"'_', starting with a letter",
			diag_snip(team, 40, snip, sizeof(snip)));
		bad = 1;
	}

	question = trim(cell(imp, COL_QUESTION));
	if (!*question) {
		problem(imp, row, "the question is empty");
		bad = 1;
	} else if (strchr(question, '\n')) {
		problem(imp, row, "the question must be one line (put other phrasings in "
				  "'alternates')");
		bad = 1;
	} else if (strlen(question) > FAQ_TITLE_MAX) {
		problem(imp, row,
			"the question is too long (%zu bytes; the limit is %d, as it is also the "
			"title)",
			strlen(question), FAQ_TITLE_MAX);
		bad = 1;
	}

	alt_cell = cell(imp, COL_ALTERNATES);
	alts = importfaq_split_alternates(alt_cell, &n_alts);
	for (size_t i = 0; i < n_alts;) {
		if (strcmp(alts[i], question) == 0) { /* the question again */
			free(alts[i]);
			memmove(alts + i, alts + i + 1, (n_alts - i - 1) * sizeof(*alts));
			n_alts--;
			continue;
		}
		if (strlen(alts[i]) > FAQ_QUESTION_MAX) {
			problem(imp, row, "alternate '%s' is too long (%zu bytes; the limit is %d)",
				diag_snip(alts[i], 40, snip, sizeof(snip)), strlen(alts[i]),
				FAQ_QUESTION_MAX);
			bad = 1;
		}
		i++;
	}
	if (n_alts + 1 > FAQ_QUESTIONS_MAX) {
		problem(imp, row, "too many alternates (%zu; the limit is %d)", n_alts,
			FAQ_QUESTIONS_MAX - 1);
		bad = 1;
	}

	answer = answer_trim(cell(imp, COL_ANSWER));
	if (!*answer) {
		problem(imp, row, "the answer is empty");
		bad = 1;
	}
	if (bad)
		goto skip;

	if (imp->existing.n + imp->n_plans >= FAQ_ENTRIES_MAX) {
		problem(imp, row, "the FAQ would have more than %d entries, the most it loads",
			FAQ_ENTRIES_MAX);
		goto skip;
	}

	/* The id: the question's slug, made unique. */
	slug = importfaq_slug(question);
	struct taken_ctx tc = {imp, lang};
	id = importfaq_unique_id(slug, id_taken, &tc);
	if (strcmp(id, slug) != 0) {
		char *who = who_has(imp, lang, slug);
		problem(imp, row, "warning: id '%s' is taken by %s; this entry is '%s'", slug,
			who, id);
		free(who);
	}
	char name[IMPORTFAQ_SLUG_MAX + 8];
	snprintf(name, sizeof(name), "%s.md", id);
	char *dir = content_path_join(imp->faq_dir, lang);
	path = content_path_join(dir, name);
	free(dir);

	text = entry_text(id, question, alts, n_alts, team, answer);
	if (strlen(text) > FAQ_FILE_MAX) {
		problem(imp, row,
			"the answer is too long: the entry would be %zu bytes, over the FAQ file "
			"limit of %d",
			strlen(text), FAQ_FILE_MAX);
		goto skip;
	}
	/* The answer starts on the line after the closing "---". */
	int answer_line = 1;
	for (const char *p = text; p < text + strlen(text) - strlen(answer) - 1; p++)
		answer_line += *p == '\n';
	if (check_entry(imp, row, path, lang, text, question, alts, n_alts, answer,
			answer_line) < 0)
		goto skip;

	if (imp->n_plans == imp->cap_plans) {
		imp->cap_plans = imp->cap_plans ? imp->cap_plans * 2 : 16;
		imp->plans = xrealloc(imp->plans, imp->cap_plans * sizeof(*imp->plans));
	}
	imp->plans[imp->n_plans++] = (struct plan){.lang = lang, .id = id, .path = path,
						   .text = text, .row = row};
	lang = id = path = text = NULL;
	goto out;
skip:
	imp->skipped++;
out:
	for (size_t i = 0; i < n_alts; i++)
		free(alts[i]);
	free(alts);
	free(question);
	free(alt_cell);
	free(answer);
	free(team);
	free(lang);
	free(slug);
	free(id);
	free(path);
	free(text);
}

/* libcsv's record callback. */
static void on_record(int c, void *ud)
{
	struct import *imp = ud;
	(void)c;
	if (!imp->have_header)
		read_header(imp);
	else
		read_row(imp);
	clear_fields(imp);
	imp->in_record = 0;
}

/* 1 when n bytes of s hold something besides spaces, tabs and line ends. */
static int has_text(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!content_is_blank((unsigned char)s[i]))
			return 1;
	return 0;
}

/* Parses the whole CSV. libcsv is fed one line at a time (a line ends with
 * LF, CR LF or a lone CR) so the record that starts on a line knows its
 * number: records only end at line ends. */
static void parse_csv(struct import *imp, const char *buf, size_t len)
{
	struct csv_parser p;
	size_t i = 0;
	if (csv_init(&p, CSV_STRICT | CSV_STRICT_FINI | CSV_APPEND_NULL) != 0)
		abort();
	if (len >= 3 && memcmp(buf, "\xef\xbb\xbf", 3) == 0)
		i = 3; /* the byte order mark spreadsheets write */
	for (imp->line = 1; i < len; imp->line++) {
		size_t j = i;
		while (j < len && buf[j] != '\n' && !(buf[j] == '\r' && (j + 1 == len || buf[j + 1] != '\n')))
			j++;
		if (j < len)
			j++;
		if (!imp->in_record && has_text(buf + i, j - i)) {
			imp->in_record = 1;
			imp->rec_line = imp->line;
		}
		if (csv_parse(&p, buf + i, j - i, on_field, on_record, imp) != j - i) {
			if (csv_error(&p) != CSV_EPARSE)
				abort(); /* out of memory */
			/* Strict mode stops outside quotes only, so the next line
			 * starts afresh: skip the record, go on from there. */
			problem(imp, imp->rec_line,
				"malformed quoting%s: a '\"' in a field that is not quoted, or text "
				"after a closing '\"' (a '\"' inside a quoted field is written "
				"\"\")",
				imp->line == imp->rec_line ? "" : " (on a later line of the row)");
			imp->skipped++;
			clear_fields(imp);
			imp->in_record = 0;
			csv_free(&p);
			if (csv_init(&p, CSV_STRICT | CSV_STRICT_FINI | CSV_APPEND_NULL) != 0)
				abort();
		}
		i = j;
	}
	if (csv_fini(&p, on_field, on_record, imp) != 0) {
		problem(imp, imp->rec_line,
			"a quoted field is not closed: a '\"' is missing, so the rest of the file "
			"was read as one field; this row is not read");
		imp->skipped++;
	}
	clear_fields(imp);
	csv_free(&p);
}

/* ------------------------------------------------------------ writing */

/* Makes dir if it is missing. 0, or -1 with errno set. */
static int ensure_dir(const char *dir)
{
	if (mkdir(dir, 0755) == 0 || errno == EEXIST)
		return 0;
	return -1;
}

/* Writes text to path, which must not exist. 0, or -1 with errno set and
 * nothing left behind. */
static int write_new(const char *path, const char *text)
{
	size_t n = strlen(text), done = 0;
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd < 0)
		return -1;
	while (done < n) {
		ssize_t w = write(fd, text + done, n - done);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			goto err;
		done += (size_t)w;
	}
	if (close(fd) < 0) {
		fd = -1;
		goto err;
	}
	return 0;
err:;
	int e = errno;
	if (fd >= 0)
		close(fd);
	unlink(path);
	errno = e;
	return -1;
}

/* Writes every plan; a plan that cannot be written is reported and its row
 * counted as skipped. Returns how many were written. */
static size_t write_plans(struct import *imp)
{
	size_t n = 0;
	for (size_t i = 0; i < imp->n_plans; i++) {
		struct plan *pl = &imp->plans[i];
		char *dir = content_path_join(imp->faq_dir, pl->lang);
		if (ensure_dir(imp->faq_dir) < 0 || ensure_dir(dir) < 0 ||
		    write_new(pl->path, pl->text) < 0) {
			problem(imp, pl->row, "cannot write %s: %s", pl->path, strerror(errno));
			imp->skipped++;
		} else {
			pl->written = 1;
			n++;
		}
		free(dir);
	}
	return n;
}

/* Loads the tree again. A written file with a problem is removed and its
 * row counted as skipped; problems elsewhere are counted in *others.
 * Returns how many written files remain. */
static size_t check_written(struct import *imp, size_t *others)
{
	struct faq_set after = {0};
	struct diag d;
	size_t kept = 0;
	diag_init(&d);
	faq_load(imp->faq_dir, &imp->langs, &after, &d);
	*others = 0;
	for (size_t k = 0; k < d.n; k++) {
		const char *file = diag_file(&d, k);
		size_t i = 0;
		while (i < imp->n_plans &&
		       !(imp->plans[i].written && file && strcmp(file, imp->plans[i].path) == 0))
			i++;
		if (i == imp->n_plans) {
			(*others)++;
			continue;
		}
		problem(imp, imp->plans[i].row, "the FAQ loader refused %s, so it was removed: %s",
			imp->plans[i].path, diag_reason(&d, k));
		unlink(imp->plans[i].path);
		imp->plans[i].written = 0;
		imp->skipped++;
	}
	if (d.n < diag_count(&d))
		*others += diag_count(&d) - d.n;
	for (size_t i = 0; i < imp->n_plans; i++) {
		struct plan *pl = &imp->plans[i];
		if (!pl->written)
			continue;
		const struct faq_entry *e = faq_find(&after, pl->lang, pl->id);
		if (!e || strcmp(e->file, pl->path) != 0) {
			problem(imp, pl->row,
				"the FAQ loader did not load %s as '%s', so it was removed", pl->path,
				pl->id);
			unlink(pl->path);
			pl->written = 0;
			imp->skipped++;
			continue;
		}
		kept++;
	}
	faq_set_clear(&after);
	diag_clear(&d);
	return kept;
}

/* ------------------------------------------------------------ command */

/* The languages of the tree under --out: rules/<code>/language.yaml.
 * Returns 0, or -1 after saying why on stderr (--lang is not one of them,
 * or a language file is broken: `supportd check` says more). */
static int load_languages(struct import *imp)
{
	char *rules = content_path_join(imp->out, "rules");
	struct diag d;
	size_t at = 0;
	int rc = 0;

	diag_init(&d);
	language_set_load(rules, &imp->langs, &d);
	for (size_t i = 0; i < imp->langs.n; i++)
		at += (size_t)snprintf(imp->lang_list + at, sizeof(imp->lang_list) - at, "%s%s",
				       i ? ", " : "", imp->langs.v[i].code);
	if (!imp->langs.n)
		snprintf(imp->lang_list, sizeof(imp->lang_list), "it has no rules/*/%s",
			 LANGUAGE_FILE);
	if (!language_valid_code(imp->lang) || !language_find(&imp->langs, imp->lang)) {
		fprintf(stderr,
			"supportd import-faq: --lang %s is not a language of %s (%s); a "
			"language is added with rules/<code>/%s\n",
			imp->lang, imp->out, imp->lang_list, LANGUAGE_FILE);
		rc = -1;
	}
	diag_clear(&d);
	free(rules);
	return rc;
}

/* Prints "N entries to DIR/faq/en/ (n), DIR/faq/pt/ (n)" for the plans
 * that count (written, or all of them in a dry run). */
static void print_where(struct import *imp, size_t total)
{
	size_t per[LANGUAGES_MAX] = {0}, used = 0, n = imp->langs.n;
	for (size_t i = 0; i < imp->n_plans; i++)
		for (size_t l = 0; l < n; l++)
			if ((imp->dry_run || imp->plans[i].written) &&
			    strcmp(imp->plans[i].lang, imp->langs.v[l].code) == 0)
				per[l]++;
	for (size_t l = 0; l < n; l++)
		used += per[l] > 0;
	printf("%zu entr%s to ", total, total == 1 ? "y" : "ies");
	if (!used) {
		printf("%s/%s/", imp->faq_dir, imp->lang);
		return;
	}
	for (size_t l = 0, k = 0; l < n; l++) {
		if (!per[l])
			continue;
		printf("%s%s/%s/", k++ ? ", " : "", imp->faq_dir, imp->langs.v[l].code);
		if (used > 1)
			printf(" (%zu)", per[l]);
	}
}

int importfaq_main(int argc, char **argv)
{
	enum { OPT_OUT = 256, OPT_LANG, OPT_DRY_RUN };
	static const struct option opts[] = {{"out", required_argument, NULL, OPT_OUT},
					     {"lang", required_argument, NULL, OPT_LANG},
					     {"dry-run", no_argument, NULL, OPT_DRY_RUN},
					     {"help", no_argument, NULL, 'h'},
					     {NULL, 0, NULL, 0}};
	struct import imp = {.out = ".", .lang = "en"};
	struct diag d, pre;
	struct stat st;
	char *buf = NULL;
	size_t len, imported, others = 0;
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case OPT_OUT:
			imp.out = optarg;
			break;
		case OPT_LANG:
			imp.lang = optarg;
			break;
		case OPT_DRY_RUN:
			imp.dry_run = 1;
			break;
		case 'h':
			fputs(usage, stdout);
			return 0;
		default:
			fputs(usage, stderr);
			return 2;
		}
	}
	if (optind != argc - 1) {
		fputs(usage, stderr);
		return 2;
	}
	imp.csv = argv[optind];
	if (!*imp.out || stat(imp.out, &st) < 0 || !S_ISDIR(st.st_mode)) {
		fprintf(stderr, "supportd import-faq: --out %s: not a directory\n", imp.out);
		return 2;
	}
	if (load_languages(&imp) < 0) {
		language_set_clear(&imp.langs);
		return 2;
	}

	diag_init(&d);
	if (content_read_file(imp.csv, IMPORTFAQ_CSV_MAX, &buf, &len, &d) < 0) {
		fprintf(stderr, "supportd import-faq: %s\n", d.v[0]);
		diag_clear(&d);
		language_set_clear(&imp.langs);
		return 2;
	}
	imp.d = &d;
	imp.faq_dir = content_path_join(imp.out, "faq");

	/* The entries already there, whose ids are taken. */
	diag_init(&pre);
	if (stat(imp.faq_dir, &st) == 0)
		faq_load(imp.faq_dir, &imp.langs, &imp.existing, &pre);
	diag_clear(&pre);

	parse_csv(&imp, buf, len);
	if (!imp.have_header)
		diag_add(&d, imp.csv, 0,
			 "the file is empty: the first row must name the columns (question, answer, "
			 "...)");

	if (imp.dry_run) {
		for (size_t i = 0; i < imp.n_plans; i++)
			printf("==> %s <==\n%s\n", imp.plans[i].path, imp.plans[i].text);
		imported = imp.n_plans;
	} else {
		imported = write_plans(&imp) ? check_written(&imp, &others) : 0;
	}

	for (size_t i = 0; i < d.n; i++)
		fprintf(stderr, "%s\n", d.v[i]);
	if (others)
		fprintf(stderr,
			"note: %s has %zu problem%s in files this import did not write\n",
			imp.faq_dir, others, others == 1 ? "" : "s");
	printf(imp.dry_run ? "dry run: would import " : "imported ");
	print_where(&imp, imported);
	printf(", skipped %zu row%s%s\n", imp.skipped, imp.skipped == 1 ? "" : "s",
	       imp.dry_run ? "; nothing was written" : "");

	int status = imp.skipped || !imp.have_header ? 1 : 0;
	for (size_t i = 0; i < imp.n_plans; i++) {
		free(imp.plans[i].lang);
		free(imp.plans[i].id);
		free(imp.plans[i].path);
		free(imp.plans[i].text);
	}
	free(imp.plans);
	free(imp.fields);
	free(imp.lens);
	faq_set_clear(&imp.existing);
	free(imp.faq_dir);
	language_set_clear(&imp.langs);
	free(buf);
	diag_clear(&d);
	return status;
}
