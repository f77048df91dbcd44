/* faq.c: loading and checking faq/<lang>/ files. See faq.h; the format is
 * documented for editors in docs/content.md. */
#include "faq.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "content.h"
#include "yamldoc.h"
#include "xalloc.h"

/* ------------------------------------------------------------- helpers */

static void free_strings(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

/* ------------------------------------------------------------ Markdown */

/* The state of one Markdown check: where, and an open "**". */
struct md {
	const char *file;
	struct diag *d;
	int bold_line;     /* line of the "**" still open in this paragraph, or 0 */
};

/* 1 when the n bytes at s are a thematic break or setext underline: three
 * or more of one of - * _ =, with spaces between. */
static int md_is_rule(const char *s, size_t n)
{
	char c = s[0];
	size_t count = 0;
	if (c != '-' && c != '*' && c != '_' && c != '=')
		return 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == c)
			count++;
		else if (s[i] != ' ' && s[i] != '\t')
			return 0;
	}
	return count >= 3;
}

/* Checks the link whose '[' is at s[j]. Returns -1 after a problem; else 0
 * with *close set to the index of its ']' and *after to the index past
 * its ')' (both 0 when the bracket is just text). */
static int md_link(struct md *m, const char *s, size_t n, size_t j, size_t content,
		   int line, size_t *close, size_t *after)
{
	static const char *const schemes[] = {"https://", "http://", "mailto:"};
	char snip[80];
	size_t k = j + 1;
	*close = *after = 0;
	while (k < n && s[k] != ']' && s[k] != '[')
		k++;
	if (k >= n || s[k] == '[')
		return 0; /* no link here: a literal bracket */
	if (k + 1 < n && s[k + 1] == '[') {
		diag_add(m->d, m->file, line,
			 "reference links ([text][ref]) are not supported; write [text](https://...)");
		return -1;
	}
	if (k + 1 < n && s[k + 1] == ':' && j == content) {
		diag_add(m->d, m->file, line,
			 "link definitions ([ref]: address) are not supported; write [text](https://...)");
		return -1;
	}
	if (k + 1 >= n || s[k + 1] != '(')
		return 0;
	/* The address ends at the ')' that balances the '(' (URLs may hold
	 * parentheses: .../wiki/Foo_(bar)). */
	size_t u = k + 2, e = u, depth = 0;
	for (; e < n; e++) {
		if (s[e] == '(')
			depth++;
		else if (s[e] == ')' && depth == 0)
			break;
		else if (s[e] == ')')
			depth--;
	}
	if (e >= n) {
		diag_add(m->d, m->file, line, "link is not closed: expected ')' after the address");
		return -1;
	}
	if (k == j + 1) {
		diag_add(m->d, m->file, line, "link has no text: write [text](https://...)");
		return -1;
	}
	char *url = xstrndup(s + u, e - u);
	diag_snip(url, 48, snip, sizeof(snip));
	int rc = -1;
	if (!*url) {
		diag_add(m->d, m->file, line, "link has no address: write [text](https://...)");
		goto out;
	}
	if (strpbrk(url, " \t")) {
		diag_add(m->d, m->file, line,
			 "link address '%s' contains a space (link titles are not supported)", snip);
		goto out;
	}
	for (size_t i = 0; i < sizeof(schemes) / sizeof(schemes[0]); i++) {
		size_t sl = strlen(schemes[i]);
		if (strncasecmp(url, schemes[i], sl) == 0 && url[sl]) {
			rc = 0;
			break;
		}
	}
	if (rc < 0) {
		diag_add(m->d, m->file, line,
			 "link to '%s' is not allowed: links must start with https://, http:// or mailto:",
			 snip);
		goto out;
	}
	*close = k;
	*after = e + 1;
out:
	free(url);
	return rc;
}

/* Checks the inline text s[from..n) of one line. Returns 0 or -1. */
static int md_inline(struct md *m, const char *s, size_t n, size_t from, size_t content,
		     int line)
{
	size_t link_close = 0, link_after = 0;
	char snip[48];
	for (size_t j = from; j < n; j++) {
		unsigned char c = (unsigned char)s[j];
		unsigned char next = j + 1 < n ? (unsigned char)s[j + 1] : 0;
		if (c == '\\' && next && ispunct(next)) {
			j++;
			continue;
		}
		if (link_after && j == link_close) {
			j = link_after - 1;
			link_close = link_after = 0;
			continue;
		}
		switch (c) {
		case '`':
			diag_add(m->d, m->file, line, "inline code (`) is not supported");
			return -1;
		case '<':
			if (!(isalpha(next) || next == '/' || next == '!' || next == '?'))
				break;
			{
				size_t e = j + 1;
				while (e < n && s[e] != '>' && e - j < 32)
					e++;
				size_t tl = e < n && s[e] == '>' ? e - j + 1 : e - j;
				char *tag = xstrndup(s + j, tl);
				if (strncasecmp(tag, "<http", 5) == 0 || strncasecmp(tag, "<mailto:", 8) == 0)
					diag_add(m->d, m->file, line,
						 "write links as [text](https://...), not <...> ('%s')",
						 diag_snip(tag, 32, snip, sizeof(snip)));
				else
					diag_add(m->d, m->file, line, "raw HTML is not allowed ('%s')",
						 diag_snip(tag, 32, snip, sizeof(snip)));
				free(tag);
			}
			return -1;
		case '!':
			if (next == '[') {
				diag_add(m->d, m->file, line, "images (![...](...)) are not supported");
				return -1;
			}
			break;
		case '[':
			if (link_after) {
				diag_add(m->d, m->file, line, "'[' inside a link's text; escape it as \\[");
				return -1;
			}
			if (md_link(m, s, n, j, content, line, &link_close, &link_after) < 0)
				return -1;
			break;
		case '*': {
			size_t r = 1;
			while (j + r < n && s[j + r] == '*')
				r++;
			if (r == 2) {
				m->bold_line = m->bold_line ? 0 : line;
				j++;
				break;
			}
			int spaced = (j == 0 || s[j - 1] == ' ') && (next == ' ' || next == 0);
			if (r == 1 && spaced)
				break; /* "5 * 3": not emphasis */
			if (r == 1)
				diag_add(m->d, m->file, line,
					 "a single '*' (italics) is not supported; use **bold** or escape it as \\*");
			else
				diag_add(m->d, m->file, line, "'%.*s' is not supported; use **bold**",
					 (int)(r > 8 ? 8 : r), s + j);
			return -1;
		}
		default:
			break;
		}
	}
	return 0;
}

/* Checks one non-blank line. Returns 0 or -1. */
static int md_line(struct md *m, const char *s, size_t n, int line)
{
	size_t i = 0;
	while (i < n && (s[i] == ' ' || s[i] == '\t')) {
		if (s[i] == '\t') {
			diag_add(m->d, m->file, line,
				 "a tab at the start of a line is not supported; indent with spaces");
			return -1;
		}
		i++;
	}
	if (i >= 4) {
		diag_add(m->d, m->file, line,
			 "a line indented by 4 or more spaces is a code block, which is not supported");
		return -1;
	}
	const char *t = s + i;
	size_t tn = n - i;
	if (t[0] == '#') {
		size_t h = strspn(t, "#");
		if (h >= tn || t[h] == ' ') {
			diag_add(m->d, m->file, line,
				 "headings ('#') are not supported; use a **bold** line");
			return -1;
		}
	}
	if (t[0] == '>') {
		diag_add(m->d, m->file, line, "block quotes ('>') are not supported");
		return -1;
	}
	if (t[0] == '|') {
		diag_add(m->d, m->file, line, "tables are not supported");
		return -1;
	}
	if (md_is_rule(t, tn)) {
		diag_add(m->d, m->file, line,
			 "rules and underlined headings ('---', '***', '===') are not supported");
		return -1;
	}
	size_t from = i;
	if ((t[0] == '-' || t[0] == '*') && (tn == 1 || t[1] == ' ')) {
		from = i + 2;
	} else if (t[0] == '+' && (tn == 1 || t[1] == ' ')) {
		diag_add(m->d, m->file, line, "use '-' or '*' for list items, not '+'");
		return -1;
	} else if (isdigit((unsigned char)t[0])) {
		size_t dg = strspn(t, "0123456789");
		if (dg < tn && dg <= 9 && (t[dg] == '.' || t[dg] == ')') &&
		    (dg + 1 == tn || t[dg + 1] == ' ')) {
			if (t[dg] == ')') {
				diag_add(m->d, m->file, line,
					 "use '1.' for numbered list items, not '1)'");
				return -1;
			}
			from = i + dg + 2;
		}
	}
	if (from >= n || strspn(s + from, " \t") == n - from) {
		diag_add(m->d, m->file, line, "empty list item");
		return -1;
	}
	return md_inline(m, s, n, from, i, line);
}

int faq_check_markdown(const char *file, int first_line, const char *text, size_t len,
		       struct diag *d)
{
	struct md m = {file, d, 0};
	int rc = 0, line = first_line;
	char fence = 0; /* inside a refused code block: its fence character */
	const char *p = text, *end = text + len;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl : end;
		size_t n = (size_t)(le - p);
		size_t ind = strspn(p, " ");
		if (n && p[n - 1] == '\r')
			n--;
		if (fence) {
			/* One problem for the whole block: skip to its closing fence. */
			if (n >= ind + 3 && p[ind] == fence && p[ind + 1] == fence &&
			    p[ind + 2] == fence)
				fence = 0;
		} else if (ind < 4 && n >= ind + 3 && (p[ind] == '`' || p[ind] == '~') &&
			   p[ind + 1] == p[ind] && p[ind + 2] == p[ind]) {
			diag_add(d, file, line, "code blocks are not supported");
			rc = -1;
			fence = p[ind];
			m.bold_line = 0;
		} else if (strspn(p, " \t") >= n) {
			if (m.bold_line) {
				diag_add(d, file, m.bold_line,
					 "'**' (bold) is not closed in its paragraph");
				rc = -1;
			}
			m.bold_line = 0;
		} else if (md_line(&m, p, n, line) < 0) {
			rc = -1;
			m.bold_line = 0;
		}
		line++;
		p = nl ? nl + 1 : end;
	}
	if (m.bold_line) {
		diag_add(d, file, m.bold_line, "'**' (bold) is not closed in its paragraph");
		rc = -1;
	}
	return rc;
}

/* ------------------------------------------------------------- parsing */

void faq_entry_clear(struct faq_entry *e)
{
	free(e->id);
	free(e->lang);
	free(e->title);
	free(e->team);
	free_strings(e->questions, e->n_questions);
	free_strings(e->tags, e->n_tags);
	free(e->answer);
	free(e->file);
	memset(e, 0, sizeof(*e));
}

/* The next line of [*p, end): sets *ls and *n (without "\n" or "\r\n")
 * and moves *p past it. Returns 0 at the end. */
static int next_line(const char **p, const char *end, const char **ls, size_t *n)
{
	if (*p >= end)
		return 0;
	const char *nl = memchr(*p, '\n', (size_t)(end - *p));
	const char *le = nl ? nl : end;
	*ls = *p;
	*n = (size_t)(le - *p);
	if (*n && (*p)[*n - 1] == '\r')
		(*n)--;
	*p = nl ? nl + 1 : end;
	return 1;
}

/* 1 when a line is "---" with optional trailing white space. */
static int is_fence(const char *s, size_t n)
{
	return n >= 3 && memcmp(s, "---", 3) == 0 && strspn(s + 3, " \t") >= n - 3;
}

/* The answer: the body without blank lines around it, trailing white
 * space removed, CRLF turned into LF. */
static char *body_text(const char *s, size_t n)
{
	char *out = xrealloc(NULL, n + 1);
	size_t o = 0;
	for (size_t i = 0; i < n; i++)
		if (!(s[i] == '\r' && i + 1 < n && s[i + 1] == '\n'))
			out[o++] = s[i];
	while (o && content_is_blank((unsigned char)out[o - 1]))
		o--;
	out[o] = '\0';
	/* Leading blank lines go; the first line keeps its indentation. */
	size_t start = 0, k = 0;
	while (k < o && content_is_blank((unsigned char)out[k])) {
		if (out[k] == '\n')
			start = k + 1;
		k++;
	}
	memmove(out, out + start, o - start + 1);
	return out;
}

/* Reads the front matter's keys into *e. Returns 0 or -1 (problems in d). */
static int front_matter(const yamldoc *doc, const char *lang, int fm_line,
			struct faq_entry *e, struct diag *d)
{
	static const char *const keys[] = {"id", "title", "questions", "tags", "team", "lang",
					   NULL};
	const char *file = yamldoc_file(doc);
	const yamldoc_node *root = yamldoc_root(doc);
	const yamldoc_node *n;
	const char *s;
	char snip[80];
	int rc = 0;

	if (yamldoc_check_keys(doc, root, "the front matter", keys, d) < 0)
		rc = -1;
	if (yamldoc_kind(root) != YAMLDOC_MAP)
		return -1;
	e->line = yamldoc_len(root) ? yamldoc_line(yamldoc_key(root, 0)) : fm_line;

	if (!(n = yamldoc_get(root, "id"))) {
		diag_add(d, file, e->line, "missing 'id' in the front matter");
		rc = -1;
	} else if (content_one_line(doc, n, "'id'", FAQ_ID_MAX, &s, d) < 0) {
		rc = -1;
	} else if (!content_valid_id(s)) {
		diag_add(d, file, yamldoc_line(n),
			 "id '%s' is not valid: use lower-case letters a-z, digits, '-' and '_', "
			 "starting with a letter or digit",
			 diag_snip(s, 64, snip, sizeof(snip)));
		rc = -1;
	} else {
		e->id = xstrdup(s);
	}

	if (!(n = yamldoc_get(root, "title"))) {
		diag_add(d, file, e->line, "missing 'title' in the front matter");
		rc = -1;
	} else if (content_one_line(doc, n, "'title'", FAQ_TITLE_MAX, &s, d) < 0) {
		rc = -1;
	} else {
		e->title = content_trimmed_dup(s);
	}

	if (!(n = yamldoc_get(root, "questions"))) {
		diag_add(d, file, e->line,
			 "missing 'questions' in the front matter: list the ways customers ask this");
		rc = -1;
	} else if (yamldoc_strings(doc, n, "'questions'", 1, FAQ_QUESTIONS_MAX,
				   FAQ_QUESTION_MAX, &e->questions, &e->n_questions, d) < 0) {
		rc = -1;
	} else {
		content_trim_strings(e->questions, e->n_questions);
	}

	if ((n = yamldoc_get(root, "tags"))) {
		if (yamldoc_strings(doc, n, "'tags'", 0, FAQ_TAGS_MAX, FAQ_TAG_MAX, &e->tags,
				    &e->n_tags, d) < 0)
			rc = -1;
		else
			content_trim_strings(e->tags, e->n_tags);
	}

	if ((n = yamldoc_get(root, "team")) && content_team(doc, n, &e->team, d) < 0)
		rc = -1;

	if ((n = yamldoc_get(root, "lang"))) {
		if (content_one_line(doc, n, "'lang'", 16, &s, d) < 0) {
			rc = -1;
		} else if (strcmp(s, lang) != 0) {
			diag_add(d, file, yamldoc_line(n),
				 "lang '%s' does not match the directory's language '%s'",
				 diag_snip(s, 16, snip, sizeof(snip)), lang);
			rc = -1;
		}
	}
	return rc;
}

int faq_parse(const char *file, const char *lang, const char *buf, size_t len,
	      struct faq_entry *out, struct diag *d)
{
	struct faq_entry e;
	yamldoc *doc = NULL;
	const char *p = buf, *end = buf + len, *ls, *fm_start, *fm_end = NULL;
	size_t n;
	int line, close_line = 0, rc = 0;

	memset(out, 0, sizeof(*out));
	memset(&e, 0, sizeof(e));
	if (len > FAQ_FILE_MAX) {
		diag_add(d, file, 0, "file too large (%zu bytes; the limit is %d)", len,
			 FAQ_FILE_MAX);
		return -1;
	}
	if (yamldoc_check_text(file, 1, buf, len, d) < 0)
		return -1;
	if (len >= 3 && memcmp(p, "\xef\xbb\xbf", 3) == 0)
		p += 3; /* a UTF-8 byte order mark */
	if (!next_line(&p, end, &ls, &n)) {
		diag_add(d, file, 0, "the file is empty");
		return -1;
	}
	if (!is_fence(ls, n)) {
		diag_add(d, file, 1,
			 "the first line must be '---', starting the front matter (id, title, "
			 "questions), which ends with another '---' line");
		return -1;
	}
	fm_start = p;
	for (line = 2; next_line(&p, end, &ls, &n); line++) {
		if (is_fence(ls, n)) {
			fm_end = ls;
			close_line = line;
			break;
		}
	}
	if (!fm_end) {
		diag_add(d, file, 1, "the front matter is not closed: add a '---' line after it");
		return -1;
	}

	doc = yamldoc_parse(file, 2, fm_start, (size_t)(fm_end - fm_start), d);
	if (!doc)
		goto err;
	if (!yamldoc_root(doc)) {
		diag_add(d, file, 2, "the front matter is empty: it needs id, title and questions");
		goto err;
	}
	if (front_matter(doc, lang, 2, &e, d) < 0)
		rc = -1;

	/* The body: everything after the closing line. */
	if (faq_check_markdown(file, close_line + 1, p, (size_t)(end - p), d) < 0)
		rc = -1;
	e.answer = body_text(p, (size_t)(end - p));
	if (!*e.answer) {
		diag_add(d, file, close_line,
			 "the answer is empty: write it below the closing '---'");
		rc = -1;
	}
	if (rc < 0)
		goto err;

	e.lang = xstrdup(lang);
	e.file = xstrdup(file);
	if (!e.team)
		e.team = xstrdup("general");
	yamldoc_free(doc);
	*out = e;
	return 0;
err:
	yamldoc_free(doc);
	faq_entry_clear(&e);
	return -1;
}

/* ------------------------------------------------------------- loading */

/* One load's state. */
struct walk {
	struct faq_set *out;
	struct diag *d;
	const char *faq_dir;  /* the root, for messages */
	const struct language_set *langs;
	const char *lang;     /* the language directory being walked */
	int depth;            /* directory levels below faq/<lang>/ */
	size_t files;         /* .md files seen */
	int full;             /* FAQ_ENTRIES_MAX reached: stop */
};

static void load_file(struct walk *w, const char *path)
{
	char *buf;
	size_t len;
	struct faq_entry e;
	if (content_read_file(path, FAQ_FILE_MAX, &buf, &len, w->d) < 0)
		return;
	if (faq_parse(path, w->lang, buf, len, &e, w->d) == 0) {
		struct faq_set *s = w->out;
		if (s->n == s->cap) {
			s->cap = s->cap ? s->cap * 2 : 64;
			s->v = xrealloc(s->v, s->cap * sizeof(*s->v));
		}
		s->v[s->n++] = e;
	}
	free(buf);
}

/* One entry under faq/<lang>/ (a content_entry_fn): loads a .md file,
 * walks a subdirectory. */
static void walk_entry(void *ud, const char *path, const char *name, const struct stat *st)
{
	struct walk *w = ud;
	if (S_ISDIR(st->st_mode)) {
		if (w->depth + 1 > FAQ_DIR_DEPTH) {
			diag_add(w->d, path, 0,
				 "directories nested more than %d levels deep are not read",
				 FAQ_DIR_DEPTH);
		} else {
			w->depth++;
			content_list_dir(path, "the directory", walk_entry, w, &w->full, w->d);
			w->depth--;
		}
	} else if (content_ends_with(name, ".md")) {
		if (++w->files > FAQ_ENTRIES_MAX || w->out->n >= FAQ_ENTRIES_MAX) {
			diag_add(w->d, path, 0,
				 "more than %d FAQ files: this one and the rest are not loaded",
				 FAQ_ENTRIES_MAX);
			w->full = 1;
		} else {
			load_file(w, path);
		}
	}
}

/* An entry's id (a content_key_fn). */
static const char *entry_id(const void *el)
{
	return ((const struct faq_entry *)el)->id;
}

/* Reports and clears an entry whose id repeats an earlier one's (a
 * content_drop_fn; all of them are of one language). */
static void drop_entry(void *ud, void *el, const void *kept)
{
	struct faq_entry *e = el;
	const struct faq_entry *k = kept;
	diag_add(ud, e->file, e->line, "duplicate id '%s': %s:%d already uses it", e->id,
		 k->file, k->line);
	faq_entry_clear(e);
}

/* Loads the .md files under dir, faq/<lang>/, then drops the entries whose
 * id repeats. */
static void load_lang(struct walk *w, const char *dir, const char *lang)
{
	struct faq_set *s = w->out;
	size_t first = s->n;
	w->lang = lang;
	w->depth = 0;
	content_list_dir(dir, "the directory", walk_entry, w, &w->full, w->d);
	s->n = content_drop_repeats(s->v, first, s->n, sizeof(*s->v), entry_id, drop_entry, w->d);
}

/* One entry of faq/ (a content_entry_fn): a language directory. */
static void lang_entry(void *ud, const char *path, const char *name, const struct stat *st)
{
	struct walk *w = ud;
	if (S_ISDIR(st->st_mode)) {
		if (language_find(w->langs, name) && language_valid_code(name))
			load_lang(w, path, name);
		else
			diag_add(w->d, path, 0,
				 "not a language directory: there is no language '%s' (a "
				 "language needs rules/%s/%s; docs/content.md, \"Adding a "
				 "language\")",
				 name, name, LANGUAGE_FILE);
	} else if (content_ends_with(name, ".md")) {
		diag_add(w->d, path, 0,
			 "FAQ files belong in a language directory, such as %s/en/", w->faq_dir);
	}
}

int faq_load(const char *faq_dir, const struct language_set *langs, struct faq_set *out,
	     struct diag *d)
{
	struct walk w = {.out = out, .d = d, .faq_dir = faq_dir, .langs = langs};
	size_t before = diag_count(d);
	if (content_list_dir(faq_dir, "the FAQ directory", lang_entry, &w, NULL, d) < 0)
		return -1;
	return diag_count(d) == before ? 0 : -1;
}

void faq_set_clear(struct faq_set *s)
{
	for (size_t i = 0; i < s->n; i++)
		faq_entry_clear(&s->v[i]);
	free(s->v);
	memset(s, 0, sizeof(*s));
}

const struct faq_entry *faq_find(const struct faq_set *s, const char *lang, const char *id)
{
	for (size_t i = 0; i < s->n; i++)
		if (strcmp(s->v[i].id, id) == 0 && strcmp(s->v[i].lang, lang) == 0)
			return &s->v[i];
	return NULL;
}
