/* text.h: Unicode normalisation, tokenising, stop words and stemming.
 *
 * Everything that compares customer text with content goes through here,
 * so a message and an FAQ question are reduced the same way:
 *   fold:     NFKC, Unicode case folding, marks stripped ("Não" -> "nao"),
 *             apostrophe look-alikes lumped, a few letters that have no
 *             decomposition mapped to their base ("ł" -> "l"); utf8proc.
 *   tokenise: maximal runs of letters, marks and digits; an apostrophe
 *             between two letters joins them ("don't" -> "dont").
 *   stem:     what the language's language.yaml names (language.h):
 *             Snowball (libstemmer), applied to the folded word (English,
 *             Portuguese); or a Hunspell dictionary, which lemmatises the
 *             word as typed ("zamówienia" -> "zamówienie"), folded after,
 *             a word it does not know (typed without its accents, say)
 *             being its own stem (Polish); or, without either, the folded
 *             word's first letters.
 *   stop:     each token says whether it is a stop word of the language.
 *             Consumers decide what to do with that (the FAQ index skips
 *             them, the intent model keeps them: "not" and "why" matter).
 *
 * An analyzer holds a stemmer and a memo of lemmas, which are not
 * thread-safe: use one analyzer per thread. */
#ifndef SUPPORTD_TEXT_H
#define SUPPORTD_TEXT_H

#include <stddef.h>
#include <stdint.h>

/* Longest token kept, in bytes; longer runs are cut (a 4 KiB line of one
 * letter is one 64-byte token). */
#define TEXT_TOKEN_MAX 64
/* Most tokens taken from one text; the rest is ignored. */
#define TEXT_TOKENS_MAX 512

typedef struct analyzer analyzer;
struct language;

struct token {
	const char *word;   /* folded surface form, NUL-terminated */
	size_t word_len;
	const char *stem;   /* stem of word, NUL-terminated */
	size_t stem_len;
	int stop;           /* a stop word of the analyzer's language */
};

/* The tokens of one text. Every pointer points into memory the struct
 * owns; tokens_clear() releases it. */
struct tokens {
	struct token *v;
	size_t n;
	char *folded;       /* the whole text folded, NUL-terminated */
	size_t folded_len;
	char *arena;        /* words and stems */
};

/* Returns a new analyzer for a language (borrowed: the analyzer keeps
 * copies of what it needs): its stemmer and stop words, as its
 * language.yaml gives them (language.h). NULL gives an analyzer without
 * stemmer or stop words. Aborts only when out of memory. */
analyzer *analyzer_new(const struct language *lang);

/* The same, but lemmas 0 leaves Hunspell out: the prefix stands in (for
 * the mood lexicons, written and measured that way, and lighter). */
analyzer *analyzer_new_with(const struct language *lang, int lemmas);

/* Hunspell dictionaries, each loaded once on first use (0.2 s and 31 MiB
 * for Polish) for analyzers to share: any thread may use it. Never NULL; a
 * language whose dictionary is missing gets none (and its prefix). */
typedef struct lemmatizer lemmatizer;
lemmatizer *lemmatizer_open(void);
/* After every analyzer that shares it. NULL is fine. */
void lemmatizer_close(lemmatizer *lz);

/* analyzer_new, with lz's dictionary (borrowed) instead of a copy of its
 * own; lz NULL: analyzer_new. */
analyzer *analyzer_new_shared(const struct language *lang, lemmatizer *lz);
void analyzer_free(analyzer *a);

/* How it stems: "snowball", "hunspell", "prefix" or "none". */
const char *analyzer_stemmer(const analyzer *a);

/* The analyzer's language code ("" without a language). */
const char *analyzer_lang(const analyzer *a);

/* Folds len bytes of UTF-8 (see above). Returns a new NUL-terminated string
 * the caller frees, with its length in *out_len, or NULL when the input is
 * not valid UTF-8. */
char *text_fold(const char *s, size_t len, size_t *out_len);

/* Folds, tokenises, stems and marks stop words. Fills *out (which the
 * caller later releases with tokens_clear()). Returns 0, or -1 when the
 * text is not valid UTF-8 (then *out is empty). Empty, blank or emoji-only
 * text gives 0 tokens. */
int analyzer_run(analyzer *a, const char *s, size_t len, struct tokens *out);

void tokens_clear(struct tokens *t);

/* 1 when the folded word is a stop word of the analyzer's language. */
int analyzer_is_stop(const analyzer *a, const char *word, size_t len);

/* 1 if code point c belongs in a word: letters, marks and digits. */
int text_is_word_cp(int32_t c);

#endif
