/* language.c: loading and checking language.yaml. See language.h. */
#include "language.h"

#include <errno.h>
#include <libstemmer.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "content.h"
#include "text.h"
#include "xalloc.h"
#include "yamldoc.h"

#define NAME_MAX_BYTES 64
#define WORD_MAX_BYTES 64
#define FINGERPRINT_MAX 16
#define PREFIX_MAX 32

int language_valid_code(const char *s)
{
	size_t n = 0;

	if (!s)
		return 0;
	for (; s[n]; n++)
		if (s[n] < 'a' || s[n] > 'z')
			return 0;
	return n == 2;
}

/* 1 for a dictionary or fingerprint name: letters, digits, '_' and '-',
 * starting with a letter, at most max bytes. Never a path. */
static int valid_name(const char *s, size_t max)
{
	size_t n = 0;

	if (!s || !((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z')))
		return 0;
	for (; s[n]; n++)
		if (!((s[n] >= 'a' && s[n] <= 'z') || (s[n] >= 'A' && s[n] <= 'Z') ||
		      (s[n] >= '0' && s[n] <= '9') || s[n] == '_' || s[n] == '-'))
			return 0;
	return n <= max;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* "danish, dutch, ..." (libstemmer's algorithms), for messages. */
static void snowball_names(char *out, size_t size)
{
	const char **names = sb_stemmer_list();
	size_t at = 0;

	out[0] = '\0';
	for (size_t i = 0; names[i] && at + 1 < size; i++) {
		int dup = 0;
		for (size_t k = 0; k < i; k++)
			dup |= !strcmp(names[k], names[i]);
		if (!dup) {
			int n = snprintf(out + at, size - at, "%s%s", at ? ", " : "", names[i]);
			if (n < 0 || (size_t)n >= size - at)
				break;
			at += (size_t)n;
		}
	}
}

static int parse_stemmer(const yamldoc *doc, const yamldoc_node *n, struct language *l,
			 struct diag *d)
{
	static const char *const keys[] = {"snowball", "hunspell", "prefix", NULL};
	const char *file = yamldoc_file(doc), *s;
	const yamldoc_node *sb, *hs, *px;
	int rc = 0;
	long prefix;

	if (yamldoc_kind(n) != YAMLDOC_MAP) {
		diag_add(d, file, yamldoc_line(n),
			 "'stemmer' must be a mapping: 'snowball: NAME', 'hunspell: DICTIONARY' "
			 "or 'prefix: LETTERS'");
		return -1;
	}
	if (yamldoc_check_keys(doc, n, "'stemmer'", keys, d) < 0)
		rc = -1;
	sb = yamldoc_get(n, "snowball");
	hs = yamldoc_get(n, "hunspell");
	px = yamldoc_get(n, "prefix");
	if (!sb && !hs && !px) {
		diag_add(d, file, yamldoc_line(n),
			 "'stemmer' needs 'snowball', 'hunspell' or 'prefix'");
		return -1;
	}
	if (sb && hs) {
		diag_add(d, file, yamldoc_line(hs), "choose one of 'snowball' and 'hunspell'");
		return -1;
	}
	if (sb && px) {
		diag_add(d, file, yamldoc_line(px),
			 "'prefix' has no use with 'snowball', which stems every word");
		rc = -1;
	}
	if (sb && yamldoc_string(doc, sb, "'snowball'", 32, &s, d) == 0) {
		struct sb_stemmer *st = valid_name(s, 32) ? sb_stemmer_new(s, "UTF_8") : NULL;
		if (!st) {
			char names[600];
			snowball_names(names, sizeof(names));
			diag_add(d, file, yamldoc_line(sb),
				 "no Snowball stemmer '%s'; libstemmer has: %s", s, names);
			rc = -1;
		} else {
			sb_stemmer_delete(st);
			l->snowball = xstrdup(s);
		}
	} else if (sb) {
		rc = -1;
	}
	if (hs && yamldoc_string(doc, hs, "'hunspell'", 32, &s, d) == 0) {
		if (!valid_name(s, 32)) {
			diag_add(d, file, yamldoc_line(hs),
				 "'hunspell' must name a dictionary, such as pl_PL (letters, "
				 "digits, _ and -)");
			rc = -1;
		} else {
			l->hunspell = xstrdup(s);
		}
	} else if (hs) {
		rc = -1;
	}
	l->prefix = sb ? 0 : LANGUAGE_PREFIX_DEFAULT;
	if (px) {
		if (yamldoc_int(doc, px, "'prefix'", 0, PREFIX_MAX, &prefix, d) < 0)
			rc = -1;
		else
			l->prefix = (int)prefix;
	}
	return rc;
}

/* Folds the stop words in place, sorted and without repeats. */
static int fold_stop_words(const yamldoc *doc, const yamldoc_node *n, struct language *l,
			   struct diag *d)
{
	int rc = 0;
	size_t kept = 0;

	for (size_t i = 0; i < l->n_stop; i++) {
		size_t len;
		char *f = text_fold(l->stop[i], strlen(l->stop[i]), &len);
		int one_word = f && len > 0;
		for (size_t k = 0; one_word && k < len; k++)
			one_word = f[k] != ' ' && f[k] != '\t';
		if (!one_word) {
			diag_add(d, yamldoc_file(doc), yamldoc_line(yamldoc_item(n, i)),
				 "stop word '%s' must be one word", l->stop[i]);
			rc = -1;
			free(f);
			f = NULL;
		}
		free(l->stop[i]);
		if (f)
			l->stop[kept++] = f;
	}
	l->n_stop = kept;
	if (kept)
		qsort(l->stop, kept, sizeof(*l->stop), cmp_str);
	kept = 0;
	for (size_t i = 0; i < l->n_stop; i++) {
		if (kept && !strcmp(l->stop[kept - 1], l->stop[i]))
			free(l->stop[i]);
		else
			l->stop[kept++] = l->stop[i];
	}
	l->n_stop = kept;
	return rc;
}

static int parse_detection(const yamldoc *doc, const yamldoc_node *n, struct language *l,
			   struct diag *d)
{
	static const char *const keys[] = {"fingerprint", "rivals", NULL};
	const char *file = yamldoc_file(doc), *s;
	const yamldoc_node *fp, *rv;
	int rc = 0;

	if (yamldoc_kind(n) != YAMLDOC_MAP) {
		diag_add(d, file, yamldoc_line(n),
			 "'detection' must be a mapping with 'fingerprint' and 'rivals'");
		return -1;
	}
	if (yamldoc_check_keys(doc, n, "'detection'", keys, d) < 0)
		rc = -1;
	if ((fp = yamldoc_get(n, "fingerprint"))) {
		if (yamldoc_string(doc, fp, "'fingerprint'", FINGERPRINT_MAX, &s, d) < 0) {
			rc = -1;
		} else if (!valid_name(s, FINGERPRINT_MAX)) {
			diag_add(d, file, yamldoc_line(fp),
				 "'fingerprint' must name a libexttextcat fingerprint, such as pt");
			rc = -1;
		} else {
			free(l->fingerprint);
			l->fingerprint = xstrdup(s);
		}
	}
	if ((rv = yamldoc_get(n, "rivals"))) {
		if (yamldoc_strings(doc, rv, "'rivals'", 0, LANGUAGE_RIVALS_MAX, FINGERPRINT_MAX,
				    &l->rivals, &l->n_rivals, d) < 0)
			return -1;
		for (size_t i = 0; i < l->n_rivals; i++)
			if (!valid_name(l->rivals[i], FINGERPRINT_MAX)) {
				diag_add(d, file, yamldoc_line(yamldoc_item(rv, i)),
					 "rival '%s' must name a libexttextcat fingerprint, such as es",
					 l->rivals[i]);
				rc = -1;
			}
	}
	return rc;
}

int language_parse(const char *file, const char *code, const char *buf, size_t len,
		   struct language *out, struct diag *d)
{
	static const char *const keys[] = {"name", "stemmer", "stop_words", "detection", NULL};
	const yamldoc_node *root, *n;
	const char *s;
	yamldoc *doc;
	int rc = 0;

	memset(out, 0, sizeof(*out));
	if (!language_valid_code(code)) {
		diag_add(d, file, 0, "'%s' is not a language code (2 lower-case letters, ISO 639-1)",
			 code ? code : "");
		return -1;
	}
	if (len > LANGUAGE_FILE_MAX) {
		diag_add(d, file, 0, "file too large (%zu bytes; the limit is %d)", len,
			 LANGUAGE_FILE_MAX);
		return -1;
	}
	if (!(doc = yamldoc_parse(file, 1, buf, len, d)))
		return -1;
	snprintf(out->code, sizeof(out->code), "%s", code);
	out->file = xstrdup(file);
	out->fingerprint = xstrdup(code);
	if (!(root = yamldoc_root(doc)) || yamldoc_kind(root) != YAMLDOC_MAP) {
		diag_add(d, file, root ? yamldoc_line(root) : 0,
			 "a language file is a mapping with 'name:', 'stemmer:' and 'stop_words:'");
		rc = -1;
		goto done;
	}
	if (yamldoc_check_keys(doc, root, "a language file", keys, d) < 0)
		rc = -1;
	if (!(n = yamldoc_get(root, "name"))) {
		diag_add(d, file, yamldoc_line(root),
			 "missing 'name:' (the language as its speakers write it)");
		rc = -1;
	} else if (content_one_line(doc, n, "'name'", NAME_MAX_BYTES, &s, d) < 0) {
		rc = -1;
	} else {
		out->name = xstrdup(s);
	}
	if (!(n = yamldoc_get(root, "stemmer"))) {
		diag_add(d, file, yamldoc_line(root),
			 "missing 'stemmer:' ('snowball: NAME', 'hunspell: DICTIONARY' or "
			 "'prefix: LETTERS')");
		rc = -1;
	} else if (parse_stemmer(doc, n, out, d) < 0) {
		rc = -1;
	}
	if ((n = yamldoc_get(root, "stop_words"))) {
		if (yamldoc_strings(doc, n, "'stop_words'", 0, LANGUAGE_STOP_MAX, WORD_MAX_BYTES,
				    &out->stop, &out->n_stop, d) < 0 ||
		    fold_stop_words(doc, n, out, d) < 0)
			rc = -1;
	}
	if ((n = yamldoc_get(root, "detection")) && parse_detection(doc, n, out, d) < 0)
		rc = -1;
done:
	yamldoc_free(doc);
	if (rc)
		language_clear(out);
	return rc;
}

int language_load(const char *path, const char *code, struct language *out, struct diag *d)
{
	char *buf;
	size_t len;
	int rc;

	memset(out, 0, sizeof(*out));
	if (content_read_file(path, LANGUAGE_FILE_MAX, &buf, &len, d) < 0)
		return -1;
	rc = language_parse(path, code, buf, len, out, d);
	free(buf);
	return rc;
}

/* Appends l (taken: *l is zeroed) to s. Returns 0, or -1 when s already
 * holds LANGUAGES_MAX languages (l is cleared then). */
static int set_add(struct language_set *s, struct language *l)
{
	if (s->n >= LANGUAGES_MAX) {
		language_clear(l);
		return -1;
	}
	s->v = realloc(s->v, (s->n + 1) * sizeof(*s->v));
	if (!s->v)
		abort();
	s->v[s->n++] = *l;
	memset(l, 0, sizeof(*l));
	return 0;
}

int language_set_add_dir(struct language_set *s, const char *dir, const char *code,
			 struct diag *d)
{
	char *file = content_path_join(dir, LANGUAGE_FILE);
	struct language lang;
	struct stat st;
	int rc = 0;

	if (stat(file, &st) < 0 && errno == ENOENT)
		rc = 1;
	else if (language_load(file, code, &lang, d) < 0)
		rc = -1;
	else if (set_add(s, &lang) < 0) {
		diag_add(d, dir, 0, "more than %d languages: this one is not loaded", LANGUAGES_MAX);
		rc = -1;
	}
	free(file);
	return rc;
}

/* One entry of rules/ (a content_entry_fn) for language_set_load. */
struct set_load {
	struct language_set *out;
	struct diag *d;
};

static void set_entry(void *ud, const char *path, const char *name, const struct stat *st)
{
	struct set_load *l = ud;

	if (S_ISDIR(st->st_mode) && language_valid_code(name))
		language_set_add_dir(l->out, path, name, l->d); /* a missing file: rules.c's to report */
}

int language_set_load(const char *rules_dir, struct language_set *out, struct diag *d)
{
	struct set_load l = {out, d};
	size_t before = diag_count(d);

	if (content_list_dir(rules_dir, "the rules directory", set_entry, &l, NULL, d) < 0)
		return -1;
	return diag_count(d) == before ? 0 : -1;
}

const struct language *language_find(const struct language_set *s, const char *tag)
{
	char code[3];

	if (!s || !tag || !tag[0] || !tag[1] || (tag[2] && tag[2] != '-' && tag[2] != '_'))
		return NULL;
	code[0] = (char)(tag[0] | 0x20);
	code[1] = (char)(tag[1] | 0x20);
	code[2] = '\0';
	for (size_t i = 0; i < s->n; i++)
		if (!strcmp(s->v[i].code, code))
			return &s->v[i];
	return NULL;
}

static char **dup_strings(char *const *v, size_t n)
{
	char **out = n ? xcalloc(n, sizeof(*out)) : NULL;
	for (size_t i = 0; i < n; i++)
		out[i] = xstrdup(v[i]);
	return out;
}

static char *dup_or_null(const char *s)
{
	return s ? xstrdup(s) : NULL;
}

void language_set_copy(struct language_set *dst, const struct language_set *src)
{
	memset(dst, 0, sizeof(*dst));
	if (!src || !src->n)
		return;
	dst->v = xcalloc(src->n, sizeof(*dst->v));
	for (size_t i = 0; i < src->n; i++) {
		const struct language *a = &src->v[i];
		struct language *b = &dst->v[i];
		*b = *a;
		b->name = dup_or_null(a->name);
		b->snowball = dup_or_null(a->snowball);
		b->hunspell = dup_or_null(a->hunspell);
		b->fingerprint = dup_or_null(a->fingerprint);
		b->file = dup_or_null(a->file);
		b->stop = dup_strings(a->stop, a->n_stop);
		b->rivals = dup_strings(a->rivals, a->n_rivals);
	}
	dst->n = src->n;
}

static void free_strings(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

void language_clear(struct language *l)
{
	if (!l)
		return;
	free(l->name);
	free(l->snowball);
	free(l->hunspell);
	free(l->fingerprint);
	free(l->file);
	free_strings(l->stop, l->n_stop);
	free_strings(l->rivals, l->n_rivals);
	memset(l, 0, sizeof(*l));
}

void language_set_clear(struct language_set *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->n; i++)
		language_clear(&s->v[i]);
	free(s->v);
	memset(s, 0, sizeof(*s));
}
