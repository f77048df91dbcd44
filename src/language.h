/* language.h: how supportd reads one language, from its language.yaml.
 *
 * A language is files, not code: rules/<code>/language.yaml (this), the
 * intents beside it, faq/<code>/ and the catalog lua/locale/<code>.lua.
 * language.yaml says how text in the language is cut into comparable
 * words (its stemmer and stop words) and how detection tells it from its
 * neighbours; docs/content.md ("Adding a language") shows one. Everything
 * is checked, and every problem is reported as "file:line: reason".
 *
 *   name: Português                 # as its speakers write it
 *   stemmer:
 *     snowball: portuguese          # a libstemmer algorithm, or
 *     hunspell: pl_PL               # a Hunspell dictionary (a lemmatiser)
 *     prefix: 6                     # letters kept without either
 *   stop_words: [a, ao, ...]        # function words, folded when loaded
 *   detection:
 *     fingerprint: pt               # libexttextcat's name (default: code)
 *     rivals: [es, gl, it]          # close languages a guess must beat */
#ifndef SUPPORTD_LANGUAGE_H
#define SUPPORTD_LANGUAGE_H

#include <stddef.h>

#include "diag.h"

#define LANGUAGE_FILE "language.yaml"  /* in rules/<code>/ */
#define LANGUAGE_FILE_MAX (64 * 1024)  /* bytes of one file */
#define LANGUAGES_MAX 16               /* languages one content tree may have */
#define LANGUAGE_STOP_MAX 2000         /* stop words of one language */
#define LANGUAGE_RIVALS_MAX 8          /* rivals of one language */
#define LANGUAGE_PREFIX_DEFAULT 6      /* prefix letters when the file gives none */

struct language {
	char code[3];        /* the directory's name: an ISO 639-1 code */
	char *name;          /* as its speakers write it */
	char *snowball;      /* a libstemmer algorithm, or NULL */
	char *hunspell;      /* a Hunspell dictionary's name, or NULL */
	int prefix;          /* letters a word keeps as its stem without Snowball
			      * or a loaded Hunspell dictionary (the mood
			      * lexicons never use Hunspell); 0: the whole word.
			      * Words Hunspell does not know stay whole. */
	char **stop;         /* folded, sorted, unique */
	size_t n_stop;
	char *fingerprint;   /* libexttextcat's fingerprint name */
	char **rivals;       /* fingerprints detection must beat */
	size_t n_rivals;
	char *file;          /* for messages */
};

/* The languages of one content tree, in directory name order. */
struct language_set {
	struct language *v;
	size_t n;
};

/* 1 when s is 2 lower-case ASCII letters: an ISO 639-1 code, the name of
 * a language directory. */
int language_valid_code(const char *s);

/* Parses len bytes (borrowed) of file, the language.yaml of language
 * `code`. On success returns 0 and fills *out (release it with
 * language_clear); otherwise returns -1 after adding every problem to d,
 * with *out zeroed. */
int language_parse(const char *file, const char *code, const char *buf, size_t len,
		   struct language *out, struct diag *d);

/* Reads path (borrowed) with language_parse. A missing file is a problem. */
int language_load(const char *path, const char *code, struct language *out, struct diag *d);

/* Loads rules_dir/<code>/language.yaml for every language directory of
 * rules_dir (borrowed) that has one, appending to *out (start it zeroed).
 * For tools and tests; rules_load() also reads them, and reports a
 * language directory without one. Returns 0, or -1 after adding problems
 * to d. */
int language_set_load(const char *rules_dir, struct language_set *out, struct diag *d);

/* Loads dir/language.yaml (dir is rules/<code>/) and appends it to s.
 * Returns 0; 1 when dir has no language.yaml (nothing is reported: the
 * caller says whether that is a problem); or -1 after adding a problem to
 * d (a bad file, or s already holding LANGUAGES_MAX languages). */
int language_set_add_dir(struct language_set *s, const char *dir, const char *code,
			 struct diag *d);

/* The language of tag ("pt" for "pt", "PT", "pt-BR" or "pt_PT"), or NULL.
 * s may be NULL. */
const struct language *language_find(const struct language_set *s, const char *tag);

/* Copies src into *dst (zeroed first; free it with language_set_clear). */
void language_set_copy(struct language_set *dst, const struct language_set *src);

void language_clear(struct language *l);
void language_set_clear(struct language_set *s);

#endif
