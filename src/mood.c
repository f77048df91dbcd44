/* mood.c: upset detection. See mood.h; the lexicon format is documented
 * for editors in docs/content.md ("Mood lexicons").
 *
 * A lexicon is a list of entries (a word or short phrase, its section and
 * a weight) compiled at load into words matched against the analyzer's
 * tokens: by folded form, by stem, or by prefix, with optional gaps. The
 * entries are found through a hash table keyed by their first word, so a
 * message costs a few lookups per token whatever the lexicon's size. A
 * message is then read left to right: negators and intensifiers change
 * the entries that follow them within their clause, everything else adds
 * evidence, and the signals that need no words (capitals, punctuation,
 * emoji) add theirs. */
#include "mood.h"

#include <jansson.h>

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <utf8proc.h>

#include "content.h"
#include "rules.h"
#include "text.h"
#include "xalloc.h"
#include "yamldoc.h"

/* ------------------------------------------------------------------------
 * How evidence adds up (docs/content.md explains these to editors)
 * --------------------------------------------------------------------- */

#define NEGATED_NEGATIVE 0.2   /* "not angry": a fifth of the word's weight */
#define NEGATED_POSITIVE 0.9   /* "not happy": nine tenths of the word's weight, as upset */
#define POSITIVE_DAMP 0.5      /* each unit of positive weight takes this off the evidence */
#define PROFANITY_BOOST 1.5    /* swearing intensifies the next entry, as "very" does */
#define INTENSIFIER_REACH 2    /* an intensifier works on an entry within this many tokens */
#define WINDOW_DEFAULT 3       /* tokens after a negator that it negates */
#define WINDOW_MAX 8
#define GAP_MAX 3              /* tokens a ".." in a phrase stands for, at most */
#define PREFIX_MIN 3           /* letters before a '*' */
#define WEIGHT_MAX 5.0
#define MULTIPLIER_MIN 0.1
#define MULTIPLIER_MAX 4.0

#define CAPS_FULL 0.6          /* the whole message shouted */
#define CAPS_PART 0.3          /* several words shouted */
#define PUNCT_PER_MARK 0.15    /* per mark of a run of two or more '!'/'?' ... */
#define PUNCT_RUN_MAX 0.6      /* ... at most this for one run */
#define PUNCT_MIXED 0.1        /* a run mixing '!' and '?' ("?!") */
#define PUNCT_SINGLE 0.05      /* a lone '!' */
#define PUNCT_SINGLES_MAX 0.1
#define PUNCT_MAX 0.8          /* all punctuation together */
#define EMOJI_ANGRY 0.7        /* 😠 😡 🤬 👿 💢, ">:(" */
#define EMOJI_ANNOYED 0.4      /* 😤 😒 🙄 👎 */
#define EMOJI_SAD 0.2          /* ☹ 🙁, ":(" */
#define EMOJI_FINGER 1.0       /* 🖕: counts as profanity */
#define EMOJI_MAX 1.0

/* ------------------------------------------------------------------------
 * Lexicons
 * --------------------------------------------------------------------- */

/* Sections, in the order that breaks a tie between two entries matching
 * the same tokens equally well. */
enum section { SEC_THREAT, SEC_PROFANITY, SEC_NEGATIVE, SEC_POSITIVE, SEC_INTENSIFIER,
	       SEC_NEGATOR };

static const char *const section_names[] = {"threats", "profanity", "negative", "positive",
					    "intensifiers", "negators"};

/* How one word of an entry matches a token. */
enum how { HOW_PREFIX, HOW_STEM, HOW_EXACT, HOW_GAP };  /* in order of specificity */

struct pword {
	unsigned char how;
	size_t len;          /* bytes of s */
	char *s;             /* folded word, stem or prefix (owned); NULL for a gap */
};

struct entry {
	struct pword w[MOOD_PHRASE_WORDS];
	size_t n;            /* words, gaps included; w[0] and w[n-1] are never gaps */
	enum section sec;
	int kind;            /* threats: one enum mood_threat bit */
	double weight;       /* weight, or an intensifier's multiplier; unused for negators */
	int line;
	char *text;          /* as written, for messages (owned) */
	int next;            /* next entry with the same first word, or -1 */
};

/* One first word of the hash table. */
struct slot {
	const char *key;     /* borrowed from the first entry's w[0].s; NULL: empty slot */
	size_t len;
	unsigned char how;
	uint32_t hash;
	int head;            /* first entry with this first word */
};

struct lexicon {
	char lang[4];
	analyzer *an;        /* owned; matches entries and messages alike */
	int window;          /* negation window, tokens */
	struct entry *v;
	size_t n, cap;
	struct slot *tab;    /* open addressing, cap_tab a power of two */
	size_t cap_tab, used_tab;
	size_t prefix_min, prefix_max; /* bytes of the shortest and longest prefix key; 0: none */
};

struct mood_lexicons {
	struct language_set langs;   /* a copy of the content's languages */
	struct lexicon **lex;        /* owned, one per language; NULL: no file */
};

/* The index of the language whose code starts tag ("pt-BR": pt), or -1. */
static int lang_index(const mood_lexicons *m, const char *tag)
{
	const struct language *l = language_find(&m->langs, tag);
	return l ? (int)(l - m->langs.v) : -1;
}

static struct lexicon *lexicon_new(const struct language *lang)
{
	struct lexicon *x = xcalloc(1, sizeof(*x));
	snprintf(x->lang, sizeof(x->lang), "%s", lang->code);
	x->an = analyzer_new_with(lang, 0); /* the lexicons' stems are prefixes */
	x->window = WINDOW_DEFAULT;
	x->cap_tab = 64;
	x->tab = xcalloc(x->cap_tab, sizeof(*x->tab));
	return x;
}

static void entry_clear(struct entry *e)
{
	for (size_t i = 0; i < e->n; i++)
		free(e->w[i].s);
	free(e->text);
	memset(e, 0, sizeof(*e));
}

static void lexicon_free(struct lexicon *x)
{
	if (!x)
		return;
	for (size_t i = 0; i < x->n; i++)
		entry_clear(&x->v[i]);
	free(x->v);
	free(x->tab);
	analyzer_free(x->an);
	free(x);
}

mood_lexicons *mood_new(const struct language_set *langs)
{
	mood_lexicons *m = xcalloc(1, sizeof(*m));
	language_set_copy(&m->langs, langs);
	m->lex = xcalloc(m->langs.n + 1, sizeof(*m->lex));
	return m;
}

void mood_free(mood_lexicons *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < m->langs.n; i++)
		lexicon_free(m->lex[i]);
	free(m->lex);
	language_set_clear(&m->langs);
	free(m);
}

/* ------------------------------------------------------------------------
 * The first-word table
 * --------------------------------------------------------------------- */

/* FNV-1a over the match kind and the key's bytes; extended a byte at a
 * time by hash_more so prefix lookups walk a token once. */
static uint32_t hash_start(unsigned char how)
{
	return (2166136261u ^ how) * 16777619u;
}

static uint32_t hash_more(uint32_t h, const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		h = (h ^ (unsigned char)s[i]) * 16777619u;
	return h;
}

static struct slot *table_find(const struct lexicon *x, unsigned char how, const char *s,
			       size_t len, uint32_t h)
{
	size_t mask = x->cap_tab - 1;
	for (size_t i = h & mask;; i = (i + 1) & mask) {
		struct slot *sl = &x->tab[i];
		if (!sl->key)
			return sl;
		if (sl->hash == h && sl->how == how && sl->len == len && !memcmp(sl->key, s, len))
			return sl;
	}
}

static void table_grow(struct lexicon *x)
{
	struct slot *old = x->tab;
	size_t old_cap = x->cap_tab;
	x->cap_tab *= 2;
	x->tab = xcalloc(x->cap_tab, sizeof(*x->tab));
	for (size_t i = 0; i < old_cap; i++)
		if (old[i].key)
			*table_find(x, old[i].how, old[i].key, old[i].len, old[i].hash) = old[i];
	free(old);
}

/* The entries whose first word is (how, s, len): the index of the first,
 * or -1. */
static int table_get(const struct lexicon *x, unsigned char how, const char *s, size_t len,
		     uint32_t h)
{
	const struct slot *sl = table_find(x, how, s, len, h);
	return sl->key ? sl->head : -1;
}

static int same_entry(const struct entry *a, const struct entry *b)
{
	if (a->n != b->n)
		return 0;
	for (size_t i = 0; i < a->n; i++) {
		if (a->w[i].how != b->w[i].how)
			return 0;
		if (a->w[i].how != HOW_GAP && strcmp(a->w[i].s, b->w[i].s))
			return 0;
	}
	return 1;
}

/* Adds e (taking ownership of what it holds) unless an entry that matches
 * the same way is there already: then returns that entry and leaves e to
 * the caller. */
static const struct entry *lexicon_add(struct lexicon *x, struct entry *e)
{
	const struct pword *w = &e->w[0];
	uint32_t h = hash_more(hash_start(w->how), w->s, w->len);
	struct slot *sl = table_find(x, w->how, w->s, w->len, h);

	if (sl->key)
		for (int i = sl->head; i >= 0; i = x->v[i].next)
			if (same_entry(&x->v[i], e))
				return &x->v[i];
	if (x->n == x->cap) {
		x->cap = x->cap ? 2 * x->cap : 64;
		x->v = xrealloc(x->v, x->cap * sizeof(*x->v));
	}
	/* entries are chained by index, so the array may move */
	int idx = (int)x->n;
	x->v[x->n++] = *e;
	memset(e, 0, sizeof(*e));
	struct entry *in = &x->v[idx];
	if (sl->key) {
		in->next = sl->head;
		sl->head = idx;
		return NULL;
	}
	in->next = -1;
	sl->key = in->w[0].s;
	sl->len = in->w[0].len;
	sl->how = in->w[0].how;
	sl->hash = h;
	sl->head = idx;
	if (in->w[0].how == HOW_PREFIX) {
		if (!x->prefix_min || in->w[0].len < x->prefix_min)
			x->prefix_min = in->w[0].len;
		if (in->w[0].len > x->prefix_max)
			x->prefix_max = in->w[0].len;
	}
	if (++x->used_tab * 2 > x->cap_tab)
		table_grow(x);
	return NULL;
}

/* ------------------------------------------------------------------------
 * Loading
 * --------------------------------------------------------------------- */

/* One file being read. */
struct parse {
	const yamldoc *doc;
	const char *file;
	struct lexicon *x;
	struct diag *d;
};

static size_t utf8_letters(const char *s, size_t len)
{
	size_t k = 0;
	for (size_t i = 0; i < len; i++)
		if (((unsigned char)s[i] & 0xC0) != 0x80)
			k++;
	return k;
}

/* Compiles text, an entry as written, into e's words. Returns 0, or -1
 * after adding a problem at line. */
static int compile_words(struct parse *p, const char *text, int line, struct entry *e)
{
	char piece[MOOD_PHRASE_MAX + 1];
	const char *s = text;

	while (*s) {
		while (*s == ' ' || *s == '\t')
			s++;
		if (!*s)
			break;
		size_t len = strcspn(s, " \t");
		memcpy(piece, s, len); /* len <= MOOD_PHRASE_MAX: checked by the caller */
		piece[len] = 0;
		s += len;
		if (e->n == MOOD_PHRASE_WORDS) {
			diag_add(p->d, p->file, line, "'%s' has more than %d words", text,
				 MOOD_PHRASE_WORDS);
			return -1;
		}
		if (!strcmp(piece, "..")) {
			if (e->n == 0 || e->w[e->n - 1].how == HOW_GAP) {
				diag_add(p->d, p->file, line,
					 "'%s': '..' stands for a few words between two words; "
					 "it cannot start an entry or follow another '..'",
					 text);
				return -1;
			}
			e->w[e->n++].how = HOW_GAP;
			continue;
		}
		unsigned char how = HOW_EXACT;
		if (len > 1 && (piece[len - 1] == '*' || piece[len - 1] == '~')) {
			how = piece[len - 1] == '*' ? HOW_PREFIX : HOW_STEM;
			piece[--len] = 0;
		}
		if (strpbrk(piece, "*~")) {
			diag_add(p->d, p->file, line,
				 "'%s': '*' (prefix) and '~' (stem) may only end a word", text);
			return -1;
		}
		struct tokens t;
		if (analyzer_run(p->x->an, piece, len, &t) < 0 || t.n == 0) {
			tokens_clear(&t);
			diag_add(p->d, p->file, line, "'%s': '%s' has no letters or digits", text,
				 piece);
			return -1;
		}
		if (t.n > 1 && how != HOW_EXACT) {
			diag_add(p->d, p->file, line,
				 "'%s': '%s' is %zu words once folded ('%s ...'): a '%c' needs one word",
				 text, piece, t.n, t.v[0].word, how == HOW_PREFIX ? '*' : '~');
			tokens_clear(&t);
			return -1;
		}
		if (how == HOW_PREFIX && utf8_letters(t.v[0].word, t.v[0].word_len) < PREFIX_MIN) {
			diag_add(p->d, p->file, line,
				 "'%s': a prefix needs at least %d letters before '*'", text,
				 PREFIX_MIN);
			tokens_clear(&t);
			return -1;
		}
		for (size_t i = 0; i < t.n; i++) {
			if (e->n == MOOD_PHRASE_WORDS) {
				tokens_clear(&t);
				diag_add(p->d, p->file, line, "'%s' has more than %d words", text,
					 MOOD_PHRASE_WORDS);
				return -1;
			}
			struct pword *w = &e->w[e->n++];
			w->how = how;
			if (how == HOW_STEM) {
				w->s = xstrndup(t.v[i].stem, t.v[i].stem_len);
				w->len = t.v[i].stem_len;
			} else {
				w->s = xstrndup(t.v[i].word, t.v[i].word_len);
				w->len = t.v[i].word_len;
			}
		}
		tokens_clear(&t);
	}
	if (e->n == 0) {
		diag_add(p->d, p->file, line, "an entry must not be blank");
		return -1;
	}
	if (e->w[e->n - 1].how == HOW_GAP) {
		diag_add(p->d, p->file, line, "'%s': '..' cannot end an entry", text);
		return -1;
	}
	return 0;
}

/* Adds one entry, written as the scalar key, to the lexicon. */
static int add_entry(struct parse *p, const yamldoc_node *key, enum section sec, int kind,
		     double weight)
{
	const char *text;
	struct entry e;
	int line = yamldoc_line(key);

	memset(&e, 0, sizeof(e));
	if (yamldoc_string(p->doc, key, "an entry", MOOD_PHRASE_MAX, &text, p->d) < 0)
		return -1;
	if (strchr(text, '\n')) {
		diag_add(p->d, p->file, line, "an entry must be one line");
		return -1;
	}
	if (p->x->n >= MOOD_ENTRIES_MAX) {
		diag_add(p->d, p->file, line,
			 "more than %d entries: this one and the rest are not loaded",
			 MOOD_ENTRIES_MAX);
		return -1;
	}
	e.sec = sec;
	e.kind = kind;
	e.weight = weight;
	e.line = line;
	if (compile_words(p, text, line, &e) < 0) {
		entry_clear(&e);
		return -1;
	}
	e.text = xstrdup(text);
	const struct entry *twin = lexicon_add(p->x, &e);
	if (twin) {
		diag_add(p->d, p->file, line, "'%s' matches the same words as '%s' (%s, line %d)",
			 text, twin->text, section_names[twin->sec], twin->line);
		entry_clear(&e);
		return -1;
	}
	return 0;
}

/* A section that maps entries to numbers: negative, positive, profanity,
 * intensifiers, and each kind of threats. `what` names it in messages. */
static void parse_weights(struct parse *p, const yamldoc_node *map, const char *what,
			  enum section sec, int kind)
{
	char name[80], snip[48];
	double lo = 0, hi = WEIGHT_MAX;

	if (yamldoc_is_null(map))
		return; /* "negative:" with nothing under it */
	if (yamldoc_kind(map) != YAMLDOC_MAP) {
		diag_add(p->d, p->file, yamldoc_line(map),
			 "'%s' must be a mapping of 'entry: %s' lines", what,
			 sec == SEC_INTENSIFIER ? "multiplier" : "weight");
		return;
	}
	if (sec == SEC_INTENSIFIER) {
		lo = MULTIPLIER_MIN;
		hi = MULTIPLIER_MAX;
	}
	for (size_t i = 0; i < yamldoc_len(map); i++) {
		const yamldoc_node *k = yamldoc_key(map, i);
		double w;
		snprintf(name, sizeof(name), "the %s of '%s'",
			 sec == SEC_INTENSIFIER ? "multiplier" : "weight",
			 diag_snip(yamldoc_text(k), 30, snip, sizeof(snip)));
		if (yamldoc_double(p->doc, yamldoc_value(map, i), name, lo, hi, &w, p->d) < 0)
			continue;
		add_entry(p, k, sec, kind, w);
	}
}

static void parse_negators(struct parse *p, const yamldoc_node *seq)
{
	if (yamldoc_is_null(seq))
		return;
	if (yamldoc_kind(seq) != YAMLDOC_SEQ) {
		diag_add(p->d, p->file, yamldoc_line(seq),
			 "'negators' must be a list ('- word' lines)");
		return;
	}
	for (size_t i = 0; i < yamldoc_len(seq); i++)
		add_entry(p, yamldoc_item(seq, i), SEC_NEGATOR, 0, 0);
}

static void parse_threats(struct parse *p, const yamldoc_node *map)
{
	static const char *const kinds[] = {"legal", "cancel", "chargeback", "regulator",
					    "review", NULL};
	char what[32];

	if (yamldoc_is_null(map))
		return;
	if (yamldoc_kind(map) != YAMLDOC_MAP) {
		diag_add(p->d, p->file, yamldoc_line(map),
			 "'threats' must be a mapping of kinds (legal, cancel, chargeback, "
			 "regulator, review), each a mapping of 'entry: weight' lines");
		return;
	}
	if (yamldoc_check_keys(p->doc, map, "threats", kinds, p->d) < 0)
		return;
	for (size_t i = 0; i < yamldoc_len(map); i++) {
		const char *k = yamldoc_text(yamldoc_key(map, i));
		int kind = 0;
		for (int j = 0; kinds[j]; j++)
			if (!strcmp(kinds[j], k))
				kind = 1 << j;
		snprintf(what, sizeof(what), "threats: %s", k);
		parse_weights(p, yamldoc_value(map, i), what, SEC_THREAT, kind);
	}
}

int mood_parse(mood_lexicons *m, const char *file, const char *lang, const char *buf,
	       size_t len, struct diag *d)
{
	static const char *const keys[] = {"negative", "positive", "negators", "intensifiers",
					   "profanity", "threats", "negation_window", NULL};
	size_t before = diag_count(d);
	int li = lang && language_valid_code(lang) ? lang_index(m, lang) : -1;
	const yamldoc_node *root, *n;
	yamldoc *doc;

	if (li < 0) {
		diag_add(d, file, 0, "no language '%s' for this mood lexicon (a language needs "
			 "rules/<code>/%s)", lang ? lang : "", LANGUAGE_FILE);
		return -1;
	}
	if (len > MOOD_FILE_MAX) {
		diag_add(d, file, 0, "file too large (%zu bytes; the limit is %d)", len,
			 MOOD_FILE_MAX);
		return -1;
	}
	if (!(doc = yamldoc_parse(file, 1, buf, len, d)))
		return -1;
	struct parse p = {.doc = doc, .file = file, .x = lexicon_new(&m->langs.v[li]), .d = d};
	root = yamldoc_root(doc);
	if (root && yamldoc_kind(root) != YAMLDOC_MAP) {
		diag_add(d, file, yamldoc_line(root),
			 "a mood file is a mapping of sections: negative, positive, negators, "
			 "intensifiers, profanity, threats");
		goto done;
	}
	if (!root)
		goto done; /* only comments: an empty lexicon */
	yamldoc_check_keys(doc, root, "a mood file", keys, d);
	if ((n = yamldoc_get(root, "negation_window"))) {
		long w;
		if (yamldoc_int(doc, n, "'negation_window'", 1, WINDOW_MAX, &w, d) == 0)
			p.x->window = (int)w;
	}
	if ((n = yamldoc_get(root, "negators")))
		parse_negators(&p, n);
	if ((n = yamldoc_get(root, "intensifiers")))
		parse_weights(&p, n, "intensifiers", SEC_INTENSIFIER, 0);
	if ((n = yamldoc_get(root, "negative")))
		parse_weights(&p, n, "negative", SEC_NEGATIVE, 0);
	if ((n = yamldoc_get(root, "positive")))
		parse_weights(&p, n, "positive", SEC_POSITIVE, 0);
	if ((n = yamldoc_get(root, "profanity")))
		parse_weights(&p, n, "profanity", SEC_PROFANITY, 0);
	if ((n = yamldoc_get(root, "threats")))
		parse_threats(&p, n);
done:
	yamldoc_free(doc);
	if (diag_count(d) != before) {
		lexicon_free(p.x);
		return -1;
	}
	lexicon_free(m->lex[li]);
	m->lex[li] = p.x;
	return 0;
}


mood_lexicons *mood_load(const char *rules_dir, const struct language_set *langs,
			 struct diag *d)
{
	mood_lexicons *m = mood_new(langs);
	size_t before = diag_count(d);

	for (size_t i = 0; i < m->langs.n; i++) {
		char *dir = content_path_join(rules_dir, m->langs.v[i].code);
		char *file = content_path_join(dir, RULES_MOOD_FILE);
		struct stat fst;
		char *buf;
		size_t len;
		/* a missing file is an empty lexicon; anything else (a directory, a
		 * file we may not read) is content_read_file's problem to report */
		if ((stat(file, &fst) == 0 || errno != ENOENT) &&
		    content_read_file(file, MOOD_FILE_MAX, &buf, &len, d) == 0) {
			mood_parse(m, file, m->langs.v[i].code, buf, len, d);
			free(buf);
		}
		free(file);
		free(dir);
	}
	if (diag_count(d) != before) {
		mood_free(m);
		return NULL;
	}
	return m;
}

int mood_has_lang(const mood_lexicons *m, const char *lang)
{
	int li = m && lang ? lang_index(m, lang) : -1;
	return li >= 0 && m->lex[li] != NULL;
}

const char *mood_threat_name(int kind)
{
	switch (kind) {
	case MOOD_THREAT_LEGAL: return "legal";
	case MOOD_THREAT_CANCEL: return "cancel";
	case MOOD_THREAT_CHARGEBACK: return "chargeback";
	case MOOD_THREAT_REGULATOR: return "regulator";
	case MOOD_THREAT_REVIEW: return "review";
	default: return "?";
	}
}

/* ------------------------------------------------------------------------
 * Reading a message: the text itself
 * --------------------------------------------------------------------- */

/* Returns s when its len bytes are valid UTF-8, otherwise a new copy (the
 * caller frees it) with each byte of an invalid sequence made a space. */
static const char *valid_utf8(const char *s, size_t len, char **owned)
{
	const utf8proc_uint8_t *p = (const utf8proc_uint8_t *)s;
	char *copy = NULL;
	size_t i = 0;

	*owned = NULL;
	while (i < len) {
		utf8proc_int32_t c;
		utf8proc_ssize_t k = utf8proc_iterate(p + i, (utf8proc_ssize_t)(len - i), &c);
		if (k > 0) {
			i += (size_t)k;
			continue;
		}
		if (!copy) {
			copy = xmalloc(len);
			memcpy(copy, s, len);
		}
		copy[i++] = ' ';
	}
	*owned = copy;
	return copy ? copy : s;
}

/* Capitals: the whole message, or several words of it. */
static double caps_signal(const char *s, size_t len)
{
	const utf8proc_uint8_t *p = (const utf8proc_uint8_t *)s;
	size_t upper = 0, lower = 0;       /* cased letters */
	size_t words = 0, caps_words = 0;  /* words of two or more cased letters */
	size_t caps_letters = 0;           /* letters of all-capital words of three or more */
	size_t wl = 0, wu = 0;             /* the current word's cased letters, capitals */
	size_t i = 0;

	for (;;) {
		utf8proc_int32_t c = -1;
		utf8proc_ssize_t k = 0;
		utf8proc_category_t cat = UTF8PROC_CATEGORY_CN;
		if (i < len && p[i] < 0x80) { /* ASCII: only letters are cased */
			c = p[i];
			k = 1;
			cat = c >= 'A' && c <= 'Z' ? UTF8PROC_CATEGORY_LU
			    : c >= 'a' && c <= 'z' ? UTF8PROC_CATEGORY_LL : UTF8PROC_CATEGORY_CN;
		} else if (i < len) {
			k = utf8proc_iterate(p + i, (utf8proc_ssize_t)(len - i), &c);
			cat = k > 0 ? utf8proc_category(c) : UTF8PROC_CATEGORY_CN;
		}
		if (cat == UTF8PROC_CATEGORY_LU || cat == UTF8PROC_CATEGORY_LT) {
			upper++;
			wl++;
			wu++;
		} else if (cat == UTF8PROC_CATEGORY_LL) {
			lower++;
			wl++;
		} else if (cat != UTF8PROC_CATEGORY_MN && cat != UTF8PROC_CATEGORY_LO &&
			   cat != UTF8PROC_CATEGORY_LM) {
			if (wl >= 2) {
				words++;
				if (wu == wl)
					caps_words++;
				if (wu == wl && wl >= 3)
					caps_letters += wl;
			}
			wl = wu = 0;
		}
		if (i >= len)
			break;
		i += k > 0 ? (size_t)k : 1;
	}
	if (upper + lower >= 8 && words >= 2 && upper * 10 >= (upper + lower) * 7)
		return CAPS_FULL;
	if (caps_words >= 2 && caps_letters >= 7)
		return CAPS_PART;
	return 0;
}

/* What the folded text's punctuation and emoji say. */
struct marks {
	double punct, emoji;
	int finger;           /* 🖕 */
	char run[8];          /* the strongest run of '!'/'?', shortened, for why */
	double run_w;
	const char *emoji_why;
};

static void marks_scan(const char *s, size_t len, struct marks *mk)
{
	const utf8proc_uint8_t *p = (const utf8proc_uint8_t *)s;
	double runs = 0, singles = 0, sad = 0;
	size_t i = 0;

	memset(mk, 0, sizeof(*mk));
	while (i < len) {
		unsigned char b = (unsigned char)s[i];
		if (b == '!' || b == '?') {
			size_t j = i, bangs = 0;
			while (j < len && (s[j] == '!' || s[j] == '?'))
				bangs += s[j++] == '!';
			size_t run = j - i;
			if (run == 1) {
				if (b == '!')
					singles += PUNCT_SINGLE;
			} else {
				double w = PUNCT_PER_MARK * (double)run;
				if (w > PUNCT_RUN_MAX)
					w = PUNCT_RUN_MAX;
				if (bangs && bangs < run)
					w += PUNCT_MIXED;
				runs += w;
				if (w > mk->run_w) {
					size_t show = run < 4 ? run : 4;
					mk->run_w = w;
					memcpy(mk->run, s + i, show);
					mk->run[show] = 0;
				}
			}
			i = j;
			continue;
		}
		if (b == ':' && i + 1 < len) {
			/* ":(" ":-(" ":'(" and, after '>', the angry ">:(" */
			size_t j = i + 1;
			if (j < len && (s[j] == '-' || s[j] == '\''))
				j++;
			if (j < len && (s[j] == '(' || s[j] == '[')) {
				if (i > 0 && s[i - 1] == '>') {
					mk->emoji += EMOJI_ANGRY;
					mk->emoji_why = ">:(";
				} else {
					sad = EMOJI_SAD;
				}
				i = j + 1;
				continue;
			}
		}
		if (b < 0x80) {
			i++;
			continue;
		}
		utf8proc_int32_t c;
		utf8proc_ssize_t k = utf8proc_iterate(p + i, (utf8proc_ssize_t)(len - i), &c);
		if (k <= 0) {
			i++;
			continue;
		}
		switch (c) {
		case 0x1F620: case 0x1F621: case 0x1F92C: case 0x1F47F: case 0x1F4A2:
			mk->emoji += EMOJI_ANGRY;
			mk->emoji_why = "angry emoji";
			break;
		case 0x1F624: case 0x1F612: case 0x1F644: case 0x1F44E:
			mk->emoji += EMOJI_ANNOYED;
			if (!mk->emoji_why)
				mk->emoji_why = "annoyed emoji";
			break;
		case 0x2639: case 0x1F641:
			sad = EMOJI_SAD;
			break;
		case 0x1F595:
			mk->finger = 1;
			break;
		default:
			break;
		}
		i += (size_t)k;
	}
	if (singles > PUNCT_SINGLES_MAX)
		singles = PUNCT_SINGLES_MAX;
	mk->punct = runs + singles;
	if (mk->punct > PUNCT_MAX)
		mk->punct = PUNCT_MAX;
	if (!mk->emoji_why && sad > 0)
		mk->emoji_why = ":(";
	mk->emoji += sad;
	if (mk->emoji > EMOJI_MAX)
		mk->emoji = EMOJI_MAX;
}

static int is_clause_break(utf8proc_int32_t c)
{
	switch (c) {
	case '.': case ',': case ';': case ':': case '!': case '?': case '(': case ')':
	case 0x2028: case 0x2029: /* line and paragraph separators: folded newlines */
		return 1;
	default:
		return 0;
	}
}

/* Numbers the clauses of the folded text: clause[k] for each of the n
 * tokens analyzer_run() cut from it, walking the text with the same word
 * rule (an apostrophe between letters joins them). */
static void clauses(const char *s, size_t len, int *clause, size_t n)
{
	const utf8proc_uint8_t *p = (const utf8proc_uint8_t *)s;
	int in_word = 0, apos = 0, id = 0;
	size_t k = 0, i = 0;

	while (i < len && k < n) {
		utf8proc_int32_t c;
		utf8proc_ssize_t step = utf8proc_iterate(p + i, (utf8proc_ssize_t)(len - i), &c);
		if (step <= 0) {
			i++;
			continue;
		}
		if (text_is_word_cp(c)) {
			if (!in_word)
				clause[k++] = id;
			in_word = 1;
			apos = 0;
		} else if (c == '\'' && in_word && !apos) {
			apos = 1;
		} else {
			in_word = apos = 0;
			if (is_clause_break(c))
				id++;
		}
		i += (size_t)step;
	}
	while (k < n)
		clause[k++] = id; /* cannot happen: the walk finds every token */
}

/* ------------------------------------------------------------------------
 * Reading a message: the lexicon
 * --------------------------------------------------------------------- */

static int word_match(const struct pword *w, const struct token *t)
{
	switch (w->how) {
	case HOW_EXACT:
		return t->word_len == w->len && !memcmp(t->word, w->s, w->len);
	case HOW_STEM:
		return t->stem_len == w->len && !memcmp(t->stem, w->s, w->len);
	case HOW_PREFIX:
		return t->word_len >= w->len && !memcmp(t->word, w->s, w->len);
	default:
		return 0;
	}
}

/* Where e matches from its word wi on, at token ti, in clause c: the
 * token after the match, or -1. A gap tries its lengths shortest first. */
static int match_from(const struct entry *e, size_t wi, size_t ti, const struct tokens *t,
		      const int *clause, int c)
{
	if (wi == e->n)
		return (int)ti;
	if (e->w[wi].how == HOW_GAP) {
		for (size_t g = 0; g <= GAP_MAX && ti + g <= t->n; g++) {
			int r = match_from(e, wi + 1, ti + g, t, clause, c);
			if (r >= 0)
				return r;
		}
		return -1;
	}
	if (ti >= t->n || clause[ti] != c || !word_match(&e->w[wi], &t->v[ti]))
		return -1;
	return match_from(e, wi + 1, ti + 1, t, clause, c);
}

/* The best entry matching at token i. */
struct best {
	const struct entry *e;
	int end;
};

/* 1 when e, matching up to end, beats b: more tokens, then more words, then
 * a more specific first word (exact, stem, prefix; a longer prefix), then
 * the section order. */
static int better(const struct entry *e, int end, const struct best *b)
{
	if (!b->e)
		return 1;
	if (end != b->end)
		return end > b->end;
	if (e->n != b->e->n)
		return e->n > b->e->n;
	if (e->w[0].how != b->e->w[0].how)
		return e->w[0].how > b->e->w[0].how;
	if (e->w[0].len != b->e->w[0].len)
		return e->w[0].len > b->e->w[0].len;
	return e->sec < b->e->sec;
}

static void consider(const struct lexicon *x, int head, size_t i, const struct tokens *t,
		     const int *clause, struct best *b)
{
	for (int j = head; j >= 0; j = x->v[j].next) {
		const struct entry *e = &x->v[j];
		int end = match_from(e, 1, i + 1, t, clause, clause[i]);
		if (end >= 0 && better(e, end, b)) {
			b->e = e;
			b->end = end;
		}
	}
}

static void best_at(const struct lexicon *x, const struct tokens *t, const int *clause, size_t i,
		    struct best *b)
{
	const struct token *tk = &t->v[i];
	uint32_t h;
	int head;

	b->e = NULL;
	b->end = -1;
	h = hash_more(hash_start(HOW_EXACT), tk->word, tk->word_len);
	if ((head = table_get(x, HOW_EXACT, tk->word, tk->word_len, h)) >= 0)
		consider(x, head, i, t, clause, b);
	h = hash_more(hash_start(HOW_STEM), tk->stem, tk->stem_len);
	if ((head = table_get(x, HOW_STEM, tk->stem, tk->stem_len, h)) >= 0)
		consider(x, head, i, t, clause, b);
	if (!x->prefix_min || tk->word_len < x->prefix_min)
		return;
	/* every prefix of the word that ends on a character boundary */
	h = hash_start(HOW_PREFIX);
	size_t upto = tk->word_len < x->prefix_max ? tk->word_len : x->prefix_max;
	for (size_t k = 0; k < upto; k++) {
		h = hash_more(h, tk->word + k, 1);
		size_t plen = k + 1;
		if (plen < x->prefix_min)
			continue;
		if (plen < tk->word_len && ((unsigned char)tk->word[plen] & 0xC0) == 0x80)
			continue;
		if ((head = table_get(x, HOW_PREFIX, tk->word, plen, h)) >= 0)
			consider(x, head, i, t, clause, b);
	}
}

/* ------------------------------------------------------------------------
 * Reading a message: why
 * --------------------------------------------------------------------- */

#define WHY_ITEMS 16
#define WHY_ITEM_MAX 48

struct why_item {
	double w;
	char text[WHY_ITEM_MAX];
};

struct why {
	struct why_item v[WHY_ITEMS];
	size_t n;
};

/* Records one reason of weight w: the tokens [from, to) (whole words that
 * fit in WHY_ITEM_MAX, or at least the last one) and an optional note. A
 * full list keeps the strongest. */
static void why_add(struct why *y, double w, const struct tokens *t, size_t from, size_t to,
		    const char *note)
{
	char buf[WHY_ITEM_MAX];
	size_t len = 0, need = note ? strlen(note) : 0;

	buf[0] = 0;
	if (t) {
		/* drop leading words until the rest fits */
		for (;;) {
			size_t total = need;
			for (size_t k = from; k < to; k++)
				total += t->v[k].word_len + 1;
			if (total < sizeof(buf) || from + 1 >= to)
				break;
			from++;
		}
		for (size_t k = from; k < to; k++) {
			size_t wl = t->v[k].word_len;
			if (len + wl + 2 + need > sizeof(buf))
				break; /* one word longer than an item: leave it out */
			if (len)
				buf[len++] = ' ';
			memcpy(buf + len, t->v[k].word, wl);
			len += wl;
		}
	}
	if (note && len + need + 1 <= sizeof(buf)) {
		memcpy(buf + len, note, need);
		len += need;
	}
	buf[len] = 0;
	if (!len || w <= 0)
		return;
	size_t slot = y->n;
	if (y->n == WHY_ITEMS) {
		slot = 0;
		for (size_t k = 1; k < y->n; k++)
			if (y->v[k].w < y->v[slot].w)
				slot = k;
		if (y->v[slot].w >= w)
			return;
	} else {
		y->n++;
	}
	y->v[slot].w = w;
	memcpy(y->v[slot].text, buf, len + 1);
}

/* Writes the reasons, strongest first, as "a, b, c" into out (whole items
 * only). */
static void why_write(struct why *y, char *out, size_t size)
{
	size_t len = 0;

	out[0] = 0;
	for (size_t i = 1; i < y->n; i++) /* insertion sort, strongest first, stable */
		for (size_t k = i; k > 0 && y->v[k].w > y->v[k - 1].w; k--) {
			struct why_item tmp = y->v[k];
			y->v[k] = y->v[k - 1];
			y->v[k - 1] = tmp;
		}
	for (size_t i = 0; i < y->n; i++) {
		size_t l = strlen(y->v[i].text);
		size_t sep = len ? 2 : 0;
		if (len + sep + l + 1 > size)
			break;
		if (sep) {
			memcpy(out + len, ", ", 2);
			len += 2;
		}
		memcpy(out + len, y->v[i].text, l + 1);
		len += l;
	}
}

/* ------------------------------------------------------------------------
 * Scoring
 * --------------------------------------------------------------------- */

/* The lexicon for a language tag, falling back to English, then to the
 * first language with one; NULL when m has none. *code gets the code used
 * ("" with none). */
static const struct lexicon *pick(const mood_lexicons *m, const char *lang, char code[4])
{
	int li = m && lang ? lang_index(m, lang) : -1;

	if (m && (li < 0 || !m->lex[li]))
		li = lang_index(m, "en");
	for (size_t i = 0; m && (li < 0 || !m->lex[li]) && i < m->langs.n; i++)
		if (m->lex[i])
			li = (int)i;
	if (!m || li < 0 || !m->lex[li]) {
		code[0] = '\0';
		return NULL;
	}
	snprintf(code, 4, "%s", m->langs.v[li].code);
	return m->lex[li];
}

/* Entries already counted in this message: a repeat counts for less. */
#define SEEN_MAX 64
struct seen {
	const struct entry *e[SEEN_MAX];
	int count[SEEN_MAX];
	size_t n;
};

/* 1 / (occurrences so far): the first use counts fully, the second half. */
static double repeat_factor(struct seen *s, const struct entry *e)
{
	for (size_t i = 0; i < s->n; i++)
		if (s->e[i] == e)
			return 1.0 / ++s->count[i];
	if (s->n < SEEN_MAX) {
		s->e[s->n] = e;
		s->count[s->n++] = 1;
	}
	return 1.0;
}

/* The evidence of the lexicon in tokens t; fills the flags of out. */
static double read_words(const struct lexicon *x, const struct tokens *t, const int *clause,
			 struct why *y, double *positive, struct mood_score *out)
{
	struct seen seen = {.n = 0};
	double neg = 0, pos = 0;
	size_t neg_from = 0, neg_end = 0;  /* the last negator's tokens ... */
	int negating = 0;                  /* ... when there is one */
	size_t int_from = 0, int_end = 0;  /* the pending intensifier's tokens ... */
	double mult = 1;                   /* ... its multiplier (1: none) ... */
	int int_swear = 0;                 /* ... and whether it was a swear word */
	struct best b;

	for (size_t i = 0; i < t->n;) {
		best_at(x, t, clause, i, &b);
		if (!b.e) {
			i++;
			continue;
		}
		const struct entry *e = b.e;
		size_t end = (size_t)b.end;
		int negated = negating && i < neg_end + (size_t)x->window &&
			      clause[i] == clause[neg_end - 1];
		int boosted = mult != 1 && i < int_end + INTENSIFIER_REACH &&
			      clause[i] == clause[int_end - 1];
		double m = boosted ? mult : 1;
		/* why quotes the negator or intensifier with the entry ("not
		 * happy", "very angry"); a swear word is quoted on its own */
		size_t from = negated ? neg_from : boosted && !int_swear ? int_from : i;
		double w;

		switch (e->sec) {
		case SEC_NEGATOR:
			negating = 1;
			neg_from = i;
			neg_end = end;
			break;
		case SEC_INTENSIFIER:
			/* "very very": intensifiers in a row multiply, within bounds */
			if (mult != 1 && int_end == i && !int_swear) {
				mult *= e->weight;
				if (mult > MULTIPLIER_MAX)
					mult = MULTIPLIER_MAX;
			} else {
				mult = e->weight;
				int_from = i;
			}
			int_end = end;
			int_swear = 0;
			break;
		case SEC_NEGATIVE:
			w = e->weight * (negated ? NEGATED_NEGATIVE : m) * repeat_factor(&seen, e);
			neg += w;
			why_add(y, w, t, from, end, NULL);
			mult = 1;
			break;
		case SEC_POSITIVE:
			if (negated) {
				w = e->weight * NEGATED_POSITIVE * repeat_factor(&seen, e);
				neg += w;
				why_add(y, w, t, from, end, NULL);
			} else {
				pos += e->weight * m * repeat_factor(&seen, e);
			}
			mult = 1;
			break;
		case SEC_PROFANITY:
			w = e->weight * m * repeat_factor(&seen, e);
			neg += w;
			out->profanity = 1;
			why_add(y, w, t, i, end, NULL);
			/* "fucking useless": swearing intensifies what follows */
			mult = m > PROFANITY_BOOST ? m : PROFANITY_BOOST;
			int_from = i;
			int_end = end;
			int_swear = 1;
			break;
		case SEC_THREAT: {
			char note[24];
			w = e->weight * repeat_factor(&seen, e);
			neg += w;
			out->threat = 1;
			out->threat_kinds |= e->kind;
			snprintf(note, sizeof(note), " (%s)", mood_threat_name(e->kind));
			why_add(y, w, t, i, end, note);
			mult = 1;
			break;
		}
		}
		i = end;
	}
	*positive = pos;
	return neg;
}

void mood_score(const mood_lexicons *m, const char *lang, const char *text, size_t len,
		struct mood_score *out)
{
	char code[4];
	const struct lexicon *x = pick(m, lang, code);
	struct why y = {.n = 0};
	struct tokens t;
	struct marks mk;
	char *owned;
	double evidence = 0, positive = 0;

	memset(out, 0, sizeof(*out));
	snprintf(out->lang, sizeof(out->lang), "%s", code);
	if (!text || !len)
		return;
	if (len > MOOD_TEXT_MAX)
		len = MOOD_TEXT_MAX; /* a character cut here is an invalid tail: a space */
	const char *s = valid_utf8(text, len, &owned);

	double caps = caps_signal(s, len);
	if (caps > 0) {
		out->shouting = 1;
		evidence += caps;
		why_add(&y, caps, NULL, 0, 0, "CAPS");
	}
	memset(&t, 0, sizeof(t));
	if (x) {
		if (analyzer_run(x->an, s, len, &t) < 0)
			memset(&t, 0, sizeof(t)); /* cannot happen: s is valid UTF-8 */
	} else {
		t.folded = text_fold(s, len, &t.folded_len);
	}
	if (t.folded) {
		marks_scan(t.folded, t.folded_len, &mk);
		if (mk.punct > 0) {
			evidence += mk.punct;
			why_add(&y, mk.punct, NULL, 0, 0, mk.run_w > 0 ? mk.run : "!");
		}
		if (mk.emoji > 0) {
			evidence += mk.emoji;
			why_add(&y, mk.emoji, NULL, 0, 0, mk.emoji_why);
		}
		if (mk.finger) {
			out->profanity = 1;
			evidence += EMOJI_FINGER;
			why_add(&y, EMOJI_FINGER, NULL, 0, 0, "middle finger");
		}
	}
	if (x && t.n) {
		int stack[64];
		int *clause = t.n <= 64 ? stack : xmalloc(t.n * sizeof(*clause));
		clauses(t.folded, t.folded_len, clause, t.n);
		evidence += read_words(x, &t, clause, &y, &positive, out);
		if (clause != stack)
			free(clause);
	}
	tokens_clear(&t);
	free(owned);

	evidence -= POSITIVE_DAMP * positive;
	if (evidence < 0)
		evidence = 0;
	out->score = 1 - exp(-evidence);
	out->upset = out->score >= MOOD_UPSET_THRESHOLD;
	if (evidence > 0)
		why_write(&y, out->why, sizeof(out->why));
}

/* ------------------------------------------------------------------------
 * Trend
 * --------------------------------------------------------------------- */

void mood_trend_init(struct mood_trend *t)
{
	memset(t, 0, sizeof(*t));
}

void mood_trend_add(struct mood_trend *t, const struct mood_score *s)
{
	double before = t->level;

	t->level = t->messages ? MOOD_TREND_ALPHA * s->score + (1 - MOOD_TREND_ALPHA) * t->level
			       : s->score;
	t->last = s->score;
	if (s->score > t->peak)
		t->peak = s->score;
	t->messages++;
	t->upset_messages += s->upset != 0;
	t->threats += s->threat != 0;
	t->profanity += s->profanity != 0;
	t->streak = s->upset ? t->streak + 1 : 0;
	t->climbs = t->messages > 1 && t->level >= before + MOOD_RISE_STEP ? t->climbs + 1 : 0;
	t->rising = t->climbs >= MOOD_RISE_RUN && t->level >= MOOD_RISE_FLOOR;
	t->upset = t->level >= MOOD_UPSET_THRESHOLD;
}

/* Written by hand, not through jansson: it runs for every message, and
 * packing and dumping an object cost more than scoring the text. Six
 * significant digits are plenty for scores between 0 and 1. */
char *mood_trend_json(const struct mood_trend *t)
{
	char *s = NULL;

	if (asprintf(&s,
		     "{\"level\":%.6g,\"last\":%.6g,\"peak\":%.6g,\"messages\":%d,"
		     "\"upset_messages\":%d,\"threats\":%d,\"profanity\":%d,\"streak\":%d,"
		     "\"climbs\":%d,\"rising\":%s,\"upset\":%s}",
		     t->level, t->last, t->peak, t->messages, t->upset_messages, t->threats,
		     t->profanity, t->streak, t->climbs, t->rising ? "true" : "false",
		     t->upset ? "true" : "false") < 0)
		abort();
	return s;
}

int mood_trend_from_json(struct mood_trend *t, const char *text)
{
	json_t *o = text ? json_loads(text, 0, NULL) : NULL;
	int rising = 0, upset = 0;

	mood_trend_init(t);
	if (!o || json_unpack(o, "{s:F, s:F, s:F, s:i, s:i, s:i, s:i, s:i, s:i, s:b, s:b}", "level",
			      &t->level, "last", &t->last, "peak", &t->peak, "messages", &t->messages,
			      "upset_messages", &t->upset_messages, "threats", &t->threats,
			      "profanity", &t->profanity, "streak", &t->streak, "climbs", &t->climbs,
			      "rising", &rising, "upset", &upset) ||
	    !(t->level >= 0 && t->level <= 1)) {
		json_decref(o);
		mood_trend_init(t);
		return -1;
	}
	t->rising = rising;
	t->upset = upset;
	json_decref(o);
	return 0;
}
