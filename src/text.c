/* text.c: folding, tokenising, stop words and stemming. See text.h. */
#include "text.h"

#include <hunspell.h>
#include <iconv.h>
#include <libstemmer.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>
#include <uthash.h>

#include "language.h"
#include "xalloc.h"

#define STEM_CACHE_MAX 200000   /* words whose Hunspell stem is remembered */

/* A word as typed (lower case, accents kept) and its folded stem, "" when
 * Hunspell does not know it. */
struct stem_memo {
	UT_hash_handle hh;
	char *stem;
	char word[];
};

struct analyzer {
	char lang[8];                /* "" without a language */
	struct sb_stemmer *stemmer;  /* owned; NULL without Snowball */
	char *hunspell;              /* owned: the dictionary's name, or NULL */
	struct dictionary *dict;     /* NULL without a Hunspell dictionary */
	int own_dict;                /* dict is the analyzer's, not a lemmatizer's */
	int prefix;                  /* letters of a prefix stem; 0: whole words */
	struct stem_memo *memo;      /* owned uthash */
	size_t n_memo;
	char **stop;                 /* owned, sorted */
	size_t n_stop;
};

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* A Hunspell dictionary: loading one takes 0.2 s and 31 MiB (Polish), so
 * the daemon loads it once (a lemmatizer) and its analyzers share it. Any
 * thread may look up a word: the lock covers Hunspell and the two iconv
 * states, which are not thread-safe. */
struct dictionary {
	char name[40];               /* "pl_PL" */
	Hunhandle *h;
	iconv_t to, from;            /* UTF-8 <-> the dictionary's encoding */
	pthread_mutex_t lock;
};

/* The dictionary `name` from TEXT_HUNSPELL_DIR, when it is there (bench/
 * pl_stem_eval.c measured Polish's against the prefix); NULL otherwise.
 * The name was checked by language.c: never a path. */
static struct dictionary *dictionary_open(const char *name)
{
	char aff[512], dic[512];
	struct dictionary *dt;
	FILE *f;

	if (strchr(name, '/') || strlen(name) >= sizeof(dt->name))
		return NULL;
	snprintf(aff, sizeof(aff), "%s/%s.aff", TEXT_HUNSPELL_DIR, name);
	snprintf(dic, sizeof(dic), "%s/%s.dic", TEXT_HUNSPELL_DIR, name);
	if (!(f = fopen(dic, "r")))
		return NULL;
	fclose(f);
	dt = calloc(1, sizeof(*dt));
	if (!dt)
		abort();
	snprintf(dt->name, sizeof(dt->name), "%s", name);
	dt->h = Hunspell_create(aff, dic);
	if (!dt->h) {
		free(dt);
		return NULL;
	}
	dt->to = iconv_open(Hunspell_get_dic_encoding(dt->h), "UTF-8");
	dt->from = iconv_open("UTF-8", Hunspell_get_dic_encoding(dt->h));
	if (dt->to == (iconv_t)-1 || dt->from == (iconv_t)-1) {
		if (dt->to != (iconv_t)-1)
			iconv_close(dt->to);
		if (dt->from != (iconv_t)-1)
			iconv_close(dt->from);
		Hunspell_destroy(dt->h);
		free(dt);
		return NULL;
	}
	pthread_mutex_init(&dt->lock, NULL);
	return dt;
}

static void dictionary_close(struct dictionary *dt)
{
	if (!dt)
		return;
	iconv_close(dt->to);
	iconv_close(dt->from);
	Hunspell_destroy(dt->h);
	pthread_mutex_destroy(&dt->lock);
	free(dt);
}

/* The dictionary's first stem of word (lower case, accents kept), folded,
 * as a new string; NULL when it does not know the word. */
static char *dictionary_stem(struct dictionary *dt, const char *word, size_t len)
{
	char in[4 * TEXT_TOKEN_MAX + 1], out[4 * TEXT_TOKEN_MAX + 1], **list = NULL;
	char *ip = (char *)word, *op = in;
	size_t il = len, ol = sizeof(in) - 1, got = 0;
	int n = 0;

	pthread_mutex_lock(&dt->lock);
	iconv(dt->to, NULL, NULL, NULL, NULL);
	if (iconv(dt->to, &ip, &il, &op, &ol) != (size_t)-1) {
		*op = '\0';
		n = Hunspell_stem(dt->h, &list, in);
	}
	if (n > 0) {
		ip = list[0];
		il = strlen(list[0]);
		op = out;
		ol = sizeof(out) - 1;
		iconv(dt->from, NULL, NULL, NULL, NULL);
		if (iconv(dt->from, &ip, &il, &op, &ol) != (size_t)-1)
			got = (size_t)(op - out);
	}
	Hunspell_free_list(dt->h, &list, n);
	pthread_mutex_unlock(&dt->lock);
	return got ? text_fold(out, got, NULL) : NULL;
}

#define LEMMATIZER_MAX 8

struct lemmatizer {
	pthread_mutex_t lock;                    /* over dict and n */
	struct dictionary *dict[LEMMATIZER_MAX]; /* owned */
	size_t n;
};

lemmatizer *lemmatizer_open(void)
{
	lemmatizer *lz = calloc(1, sizeof(*lz));

	if (!lz)
		abort();
	pthread_mutex_init(&lz->lock, NULL);
	return lz;
}

void lemmatizer_close(lemmatizer *lz)
{
	if (!lz)
		return;
	for (size_t i = 0; i < lz->n; i++)
		dictionary_close(lz->dict[i]);
	pthread_mutex_destroy(&lz->lock);
	free(lz);
}

/* lz's dictionary `name`, opened on first use; NULL when it is missing or
 * lz is full. */
static struct dictionary *lemmatizer_get(lemmatizer *lz, const char *name)
{
	struct dictionary *dt = NULL;

	pthread_mutex_lock(&lz->lock);
	for (size_t i = 0; i < lz->n && !dt; i++)
		if (!strcmp(lz->dict[i]->name, name))
			dt = lz->dict[i];
	if (!dt && lz->n < LEMMATIZER_MAX && (dt = dictionary_open(name)))
		lz->dict[lz->n++] = dt;
	pthread_mutex_unlock(&lz->lock);
	return dt;
}

const char *analyzer_stemmer(const analyzer *a)
{
	return a->stemmer ? "snowball" : a->dict ? "hunspell" : a->prefix ? "prefix" : "none";
}

analyzer *analyzer_new(const struct language *lang)
{
	return analyzer_new_with(lang, 1);
}

analyzer *analyzer_new_shared(const struct language *lang, lemmatizer *lz)
{
	analyzer *a;

	if (!lz)
		return analyzer_new(lang);
	a = analyzer_new_with(lang, 0);
	if (a->hunspell)
		a->dict = lemmatizer_get(lz, a->hunspell);
	return a;
}

analyzer *analyzer_new_with(const struct language *lang, int lemmas)
{
	analyzer *a = calloc(1, sizeof(*a));

	if (!a)
		abort();
	if (!lang)
		return a;
	snprintf(a->lang, sizeof(a->lang), "%s", lang->code);
	if (lang->snowball) {
		a->stemmer = sb_stemmer_new(lang->snowball, "UTF_8");
		if (!a->stemmer)
			abort(); /* language.c checked the name: only out of memory */
	}
	a->prefix = lang->snowball ? 0 : lang->prefix;
	if (lang->hunspell) {
		a->hunspell = xstrdup(lang->hunspell);
		if (lemmas)
			a->own_dict = (a->dict = dictionary_open(lang->hunspell)) != NULL;
	}
	a->n_stop = lang->n_stop;
	a->stop = a->n_stop ? xcalloc(a->n_stop, sizeof(*a->stop)) : NULL;
	for (size_t i = 0; i < a->n_stop; i++)
		a->stop[i] = xstrdup(lang->stop[i]);
	if (a->n_stop)
		qsort(a->stop, a->n_stop, sizeof(*a->stop), cmp_str); /* for analyzer_is_stop */
	return a;
}

void analyzer_free(analyzer *a)
{
	if (!a)
		return;
	if (a->stemmer)
		sb_stemmer_delete(a->stemmer);
	struct stem_memo *m, *tmp;
	HASH_ITER(hh, a->memo, m, tmp) {
		HASH_DEL(a->memo, m);
		free(m->stem);
		free(m);
	}
	if (a->own_dict)
		dictionary_close(a->dict);
	for (size_t i = 0; i < a->n_stop; i++)
		free(a->stop[i]);
	free(a->stop);
	free(a->hunspell);
	free(a);
}

const char *analyzer_lang(const analyzer *a)
{
	return a->lang;
}

int analyzer_is_stop(const analyzer *a, const char *word, size_t len)
{
	char w[TEXT_TOKEN_MAX + 1];

	if (!a->n_stop || len > TEXT_TOKEN_MAX)
		return 0;
	memcpy(w, word, len);
	w[len] = 0;
	const char *key = w;
	return bsearch(&key, a->stop, a->n_stop, sizeof(*a->stop), cmp_str) != NULL;
}

/* Letters with no canonical decomposition, so stripping marks leaves them
 * alone, but which customers type as their base letter. Applied after case
 * folding by utf8proc's custom hook. */
static utf8proc_int32_t fold_extra(utf8proc_int32_t c, void *ud)
{
	(void)ud;
	switch (c) {
	case 0x0141: case 0x0142: return 'l';  /* Ł ł */
	case 0x0110: case 0x0111: return 'd';  /* Đ đ */
	case 0x00D8: case 0x00F8: return 'o';  /* Ø ø */
	case 0x0131: return 'i';               /* dotless ı */
	default: return c;
	}
}

/* Plain ASCII without line breaks folds to its lower case: what utf8proc
 * gives it with text_fold's options (tests/unit/test_text.c compares the
 * two on every such byte), at a fraction of the cost. 0 if s is not such. */
static char *fold_ascii(const char *s, size_t len, size_t *out_len)
{
	char *dst;

	for (size_t i = 0; i < len; i++)
		if ((unsigned char)s[i] >= 0x80 || s[i] == '\n' || s[i] == '\r' || s[i] == '\0')
			return NULL;
	dst = malloc(len + 1);
	if (!dst)
		abort();
	for (size_t i = 0; i < len; i++)
		dst[i] = (s[i] >= 'A' && s[i] <= 'Z') ? (char)(s[i] + ('a' - 'A')) : s[i];
	dst[len] = '\0';
	if (out_len)
		*out_len = len;
	return dst;
}

char *text_fold(const char *s, size_t len, size_t *out_len)
{
	utf8proc_uint8_t *dst = NULL;
	utf8proc_ssize_t n;
	char *ascii;

	if (len > (size_t)INT32_MAX)
		return NULL;
	if ((ascii = fold_ascii(s, len, out_len)))
		return ascii;
	n = utf8proc_map_custom((const utf8proc_uint8_t *)s, (utf8proc_ssize_t)len, &dst,
				UTF8PROC_STABLE | UTF8PROC_COMPAT | UTF8PROC_COMPOSE |
					UTF8PROC_CASEFOLD | UTF8PROC_STRIPMARK | UTF8PROC_IGNORE |
					UTF8PROC_LUMP | UTF8PROC_NLF2LS,
				fold_extra, NULL);
	if (n < 0) {
		if (n == UTF8PROC_ERROR_NOMEM)
			abort();
		return NULL;
	}
	if (out_len)
		*out_len = (size_t)n;
	return (char *)dst;
}

int text_is_word_cp(int32_t c)
{
	if (c >= 0 && c < 0x80) /* ASCII: the letters (Lu, Ll) and digits (Nd) */
		return (c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'z');
	switch (utf8proc_category(c)) {
	case UTF8PROC_CATEGORY_LU: case UTF8PROC_CATEGORY_LL: case UTF8PROC_CATEGORY_LT:
	case UTF8PROC_CATEGORY_LM: case UTF8PROC_CATEGORY_LO:
	case UTF8PROC_CATEGORY_MN: case UTF8PROC_CATEGORY_MC: case UTF8PROC_CATEGORY_ME:
	case UTF8PROC_CATEGORY_ND: case UTF8PROC_CATEGORY_NL: case UTF8PROC_CATEGORY_NO:
		return 1;
	default:
		return 0;
	}
}

/* The arena of one analysis: words and stems, each NUL-terminated. */
struct arena {
	char *buf;
	size_t used, cap;
};

/* Appends up to len bytes and a NUL; returns where they went. Sized by
 * analyzer_run() for every word and its stem, so cutting never happens in
 * practice; the clamp only keeps a stemmer that lengthened a word from
 * writing past the end. */
static const char *arena_put(struct arena *a, const char *s, size_t *len)
{
	char *p = a->buf + a->used;
	if (*len + 1 > a->cap - a->used)
		*len = a->cap - a->used - 1;
	memcpy(p, s, *len);
	p[*len] = 0;
	a->used += *len + 1;
	return p;
}

/* Cuts a UTF-8 word to at most `letters` code points; returns bytes kept. */
static size_t utf8_prefix(const char *w, size_t len, size_t letters)
{
	size_t i = 0, k = 0;
	while (i < len && k < letters) {
		i++;
		while (i < len && ((unsigned char)w[i] & 0xC0) == 0x80)
			i++;
		k++;
	}
	return i;
}

/* Adds one word (folded, at most TEXT_TOKEN_MAX bytes) as a token. */
static void add_token(analyzer *a, struct tokens *t, const char *w, size_t len, struct arena *ar)
{
	struct token *tk = &t->v[t->n++];

	tk->word = arena_put(ar, w, &len);
	tk->word_len = len;
	tk->stop = analyzer_is_stop(a, w, len);
	if (a->stemmer) {
		const sb_symbol *st = sb_stemmer_stem(a->stemmer, (const sb_symbol *)w, (int)len);
		if (!st)
			abort(); /* libstemmer fails only when out of memory */
		size_t sl = (size_t)sb_stemmer_length(a->stemmer);
		if (sl > TEXT_TOKEN_MAX)
			sl = TEXT_TOKEN_MAX;
		tk->stem = arena_put(ar, (const char *)st, &sl);
		tk->stem_len = sl;
	} else if (a->prefix) {
		size_t sl = utf8_prefix(w, len, (size_t)a->prefix);
		tk->stem = arena_put(ar, w, &sl);
		tk->stem_len = sl;
	} else {
		tk->stem = tk->word;
		tk->stem_len = len;
	}
}

/* Hunspell's stem of word (lower case, accents kept), folded, as a new
 * string; NULL when the dictionary does not know it. Remembered per
 * analyzer (up to STEM_CACHE_MAX words). */
static char *lemma(analyzer *a, const char *word, size_t len)
{
	struct stem_memo *m;
	char *stem;

	HASH_FIND(hh, a->memo, word, len, m);
	if (m)
		return m->stem[0] ? strdup(m->stem) : NULL;
	stem = dictionary_stem(a->dict, word, len);
	if (a->n_memo >= STEM_CACHE_MAX)
		return stem;
	m = malloc(sizeof(*m) + len + 1);
	if (!m)
		abort();
	memcpy(m->word, word, len);
	m->word[len] = '\0';
	m->stem = strdup(stem ? stem : "");
	if (!m->stem)
		abort();
	HASH_ADD(hh, a->memo, word, len, m);
	a->n_memo++;
	return stem;
}

/* Adds a token from a word as typed (lower case, accents kept): the word
 * folded, its stem Hunspell's lemma folded, or the folded word itself when
 * the dictionary does not know it (bench/pl_stem_eval.c: better than the
 * prefix there). */
static void add_lemma_token(analyzer *a, struct tokens *t, const char *w, size_t len,
			    struct arena *ar)
{
	struct token *tk = &t->v[t->n];
	size_t fl, sl;
	char *f = text_fold(w, len, &fl);
	char *stem;

	if (!f)
		return;
	if (fl > TEXT_TOKEN_MAX)
		fl = TEXT_TOKEN_MAX;
	t->n++;
	tk->word = arena_put(ar, f, &fl);
	tk->word_len = fl;
	tk->stop = analyzer_is_stop(a, f, fl);
	stem = lemma(a, w, len);
	sl = stem ? strlen(stem) : fl;
	if (sl > TEXT_TOKEN_MAX)
		sl = TEXT_TOKEN_MAX;
	tk->stem = arena_put(ar, stem ? stem : f, &sl);
	tk->stem_len = sl;
	free(stem);
	free(f);
}

/* Cuts text into words (maximal runs of letters, marks and digits; an
 * apostrophe between two letters joins them) and adds each, up to max. */
static void tokenize(analyzer *a, const char *text, size_t len, struct tokens *out, size_t max,
		     struct arena *ar,
		     void (*add)(analyzer *, struct tokens *, const char *, size_t, struct arena *))
{
	char word[TEXT_TOKEN_MAX];
	size_t wlen = 0;
	int pending_apos = 0;
	const utf8proc_uint8_t *p = (const utf8proc_uint8_t *)text;
	utf8proc_ssize_t left = (utf8proc_ssize_t)len;

	while (left > 0 && out->n < max) {
		utf8proc_int32_t c = *p;
		utf8proc_ssize_t k = c < 0x80 ? 1 : utf8proc_iterate(p, left, &c);
		if (k <= 0)
			break; /* cannot happen: utf8proc produced this text */
		if (text_is_word_cp(c)) {
			if (pending_apos && wlen)
				pending_apos = 0; /* "don't" -> "dont": the apostrophe joins */
			if (wlen + (size_t)k <= sizeof(word)) {
				memcpy(word + wlen, p, (size_t)k);
				wlen += (size_t)k;
			}
		} else if (c == '\'' && wlen && !pending_apos) {
			pending_apos = 1;
		} else {
			if (wlen)
				add(a, out, word, wlen, ar);
			wlen = 0;
			pending_apos = 0;
		}
		p += k;
		left -= k;
	}
	if (wlen && out->n < max)
		add(a, out, word, wlen, ar);
}

int analyzer_run(analyzer *a, const char *s, size_t len, struct tokens *out)
{
	size_t flen;
	struct arena ar;

	memset(out, 0, sizeof(*out));
	out->folded = text_fold(s, len, &flen);
	if (!out->folded)
		return -1;
	out->folded_len = flen;

	/* A token is at least one byte and is followed by a separator, so
	 * there are at most flen / 2 + 1 of them. Words are pieces of the
	 * folded text and stems are no longer than their words: twice the text
	 * plus a NUL each holds them all, with one word's worth spare. A
	 * lemma may be longer than its word: room for a whole one each. */
	size_t max_tokens = flen / 2 + 1;
	if (max_tokens > TEXT_TOKENS_MAX)
		max_tokens = TEXT_TOKENS_MAX;
	ar.cap = 2 * flen + 2 * max_tokens + 2 * (TEXT_TOKEN_MAX + 1);
	if (a->dict)
		ar.cap += max_tokens * (TEXT_TOKEN_MAX + 1);
	ar.used = 0;
	out->v = malloc(max_tokens * sizeof(*out->v));
	out->arena = ar.buf = malloc(ar.cap);
	if (!out->v || !out->arena)
		abort();

	if (a->dict) {
		/* Hunspell needs the words with their accents: cut the text
		 * folded but for the accents, and fold each word after */
		utf8proc_uint8_t *light = NULL;
		utf8proc_ssize_t ll = utf8proc_map((const utf8proc_uint8_t *)s, (utf8proc_ssize_t)len,
						   &light,
						   UTF8PROC_STABLE | UTF8PROC_COMPAT | UTF8PROC_COMPOSE |
							   UTF8PROC_CASEFOLD | UTF8PROC_IGNORE |
							   UTF8PROC_LUMP | UTF8PROC_NLF2LS);
		if (ll >= 0) {
			tokenize(a, (const char *)light, (size_t)ll, out, max_tokens, &ar,
				 add_lemma_token);
			free(light);
			return 0;
		}
		free(light);
	}
	tokenize(a, out->folded, flen, out, max_tokens, &ar, add_token);
	return 0;
}

void tokens_clear(struct tokens *t)
{
	free(t->v);
	free(t->folded);
	free(t->arena);
	memset(t, 0, sizeof(*t));
}
