/* brain.c: builds the per-language knowledge and turns a message into
 * ranked, explained candidates. See brain.h.
 *
 * Classes. Every intent and every FAQ entry of a language is a "class", a
 * thing the bot could answer with. An intent whose action is `faq: X`
 * shares one class with entry X, so the two never compete with each other
 * for probability. Intent classes come first; FAQ-only classes follow.
 * The lexical model is trained on the first n_model classes: all of them
 * while there are at most model_max_classes, otherwise only the intents
 * (then FAQ entries are found by the retriever alone, which scales to tens
 * of thousands of entries).
 *
 * Confidence of a candidate. Both inputs are calibrated probabilities of
 * being right (see lexmodel.c and faqindex.c):
 *   - an intent of its own (no FAQ entry): the model's;
 *   - a class the model knows with an FAQ entry: 0.85 × model + 0.15 ×
 *     retriever. The model
 *     has seen every class's examples and questions, so it leads; the
 *     retriever's word evidence moves it a little. Taking the larger of
 *     the two instead let one shared word ("what is your NAME" against an
 *     invoice entry that mentions the company name) answer with
 *     confidence 0.99; on the sample content and the hand-written
 *     out-of-scope development list (bench/data/oos_en_dev.tsv) the blend
 *     sent 54 of 57 unrelated questions to the fallback at the shipped
 *     threshold, against 47 for the larger, with the same in-scope
 *     answers;
 *   - an FAQ entry outside the model (many entries): the retriever's;
 *   - a pattern hit raises either to 0.9 + 0.1 × that.
 * Ties are broken by the intent's priority. */
#include "brain.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "faq.h"
#include "faqindex.h"
#include "lexmodel.h"
#include "text.h"
#include "xalloc.h"

/* How many candidates each source proposes before merging. */
#define SOURCE_TOP 16
/* Explaining a candidate's words costs a pass over the message's features
 * (about a third of a message's time on Banking77), so only the best
 * candidate and close competitors, those the model gives at least this,
 * are explained by the model; the others show the retriever's words. */
#define EXPLAIN_MIN 0.3

struct brain_class {
	int intent;                /* index into lang->intents, or -1 */
	int faq;                   /* index into lang->faqs, or -1 */
};

struct brain_lang {
	char code[8];
	analyzer *an;                    /* owned */
	struct faq_entry **faqs;         /* borrowed from brain->faqs */
	size_t n_faqs;
	struct rule_intent **intents;    /* borrowed from brain->rules */
	size_t n_intents;
	struct brain_class *classes;     /* owned */
	size_t n_classes, n_model;
	int *faq_class, *intent_class;   /* owned */
	faqindex *ix;                    /* owned; NULL without FAQ entries */
	lexmodel *model;                 /* owned; NULL without examples */
};

struct brain {
	double index_ms, model_ms;       /* time spent building each, all languages */
	struct faq_set faqs;             /* owned */
	struct rule_set rules;           /* owned */
	struct brain_lang *langs;        /* owned */
	size_t n_langs;
	const char **lang_codes;         /* owned array, NULL-terminated */
	const char *default_lang;
	rules_matcher *matcher;          /* owned */
	const logger *lg;                /* borrowed */
	struct brain_limits lim;
	double build_ms;
};

void brain_limits_default(struct brain_limits *lim)
{
	lim->pattern_match_limit = 100000;
	lim->pattern_depth_limit = 1024;
	lim->model_max_classes = 2000;
	lim->lemmas = NULL;
}


static struct brain_lang *lang_get(brain *b, const char *code)
{
	for (size_t i = 0; i < b->n_langs; i++)
		if (!strcmp(b->langs[i].code, code))
			return &b->langs[i];
	return NULL;
}

static struct brain_lang *lang_add(brain *b, const char *code)
{
	struct brain_lang *l = lang_get(b, code);
	if (l)
		return l;
	b->langs = realloc(b->langs, (b->n_langs + 1) * sizeof(*b->langs));
	if (!b->langs)
		abort();
	l = &b->langs[b->n_langs++];
	memset(l, 0, sizeof(*l));
	snprintf(l->code, sizeof(l->code), "%s", code);
	return l;
}

static void analyse(analyzer *an, const char *s, struct tokens *t)
{
	if (analyzer_run(an, s, strlen(s), t))
		memset(t, 0, sizeof(*t)); /* the loaders only accept UTF-8 */
}

static int faq_index_of(const struct brain_lang *l, const char *id)
{
	for (size_t j = 0; j < l->n_faqs; j++)
		if (!strcmp(l->faqs[j]->id, id))
			return (int)j;
	return -1;
}

static void classes_build(struct brain_lang *l, size_t max_classes)
{
	l->classes = xcalloc(l->n_intents + l->n_faqs, sizeof(*l->classes));
	l->faq_class = xcalloc(l->n_faqs, sizeof(int));
	l->intent_class = xcalloc(l->n_intents, sizeof(int));
	for (size_t j = 0; j < l->n_faqs; j++)
		l->faq_class[j] = -1;
	for (size_t i = 0; i < l->n_intents; i++) {
		int j = l->intents[i]->faq ? faq_index_of(l, l->intents[i]->faq) : -1;
		if (j >= 0 && l->faq_class[j] >= 0)
			j = -1; /* a second intent answering with the same entry */
		l->classes[l->n_classes] = (struct brain_class){(int)i, j};
		l->intent_class[i] = (int)l->n_classes;
		if (j >= 0)
			l->faq_class[j] = (int)l->n_classes;
		l->n_classes++;
	}
	size_t n_intent_classes = l->n_classes;
	for (size_t j = 0; j < l->n_faqs; j++) {
		if (l->faq_class[j] >= 0)
			continue;
		l->classes[l->n_classes] = (struct brain_class){-1, (int)j};
		l->faq_class[j] = (int)l->n_classes++;
	}
	l->n_model = l->n_classes <= max_classes ? l->n_classes : n_intent_classes;
}

/* Adds s as a training example of class c. */
static void example_add(struct brain_lang *l, const char *s, int c, struct tokens **ex, int **labels,
			size_t *n, size_t *cap)
{
	if (*n == *cap) {
		*cap = *cap ? *cap * 2 : 256;
		*ex = realloc(*ex, *cap * sizeof(**ex));
		*labels = realloc(*labels, *cap * sizeof(**labels));
		if (!*ex || !*labels)
			abort();
	}
	analyse(l->an, s, &(*ex)[*n]);
	(*labels)[*n] = c;
	(*n)++;
}

static double ms_since(const struct timespec *t0)
{
	struct timespec t1;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (double)(t1.tv_sec - t0->tv_sec) * 1e3 + (double)(t1.tv_nsec - t0->tv_nsec) / 1e6;
}

static int lang_build(brain *b, struct brain_lang *l, const struct brain_limits *lim,
		      struct diag *d)
{
	struct timespec t0;
	struct tokens t, *ex = NULL;
	int *labels = NULL;
	size_t n = 0, cap = 0;
	int rc = 0;

	l->an = analyzer_new_shared(language_find(&b->rules.languages, l->code), lim->lemmas);
	classes_build(l, lim->model_max_classes);

	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (l->n_faqs) {
		l->ix = faqindex_new();
		for (size_t j = 0; j < l->n_faqs; j++) {
			const struct faq_entry *e = l->faqs[j];
			analyse(l->an, e->title, &t);
			faqindex_add(l->ix, (int)j, FAQINDEX_TITLE, &t);
			tokens_clear(&t);
			for (size_t q = 0; q < e->n_questions; q++) {
				analyse(l->an, e->questions[q], &t);
				faqindex_add(l->ix, (int)j, FAQINDEX_QUESTION, &t);
				tokens_clear(&t);
			}
			analyse(l->an, e->answer, &t);
			faqindex_add(l->ix, (int)j, FAQINDEX_ANSWER, &t);
			tokens_clear(&t);
		}
		faqindex_build(l->ix);
	}
	b->index_ms += ms_since(&t0);

	clock_gettime(CLOCK_MONOTONIC, &t0);

	for (size_t c = 0; c < l->n_model; c++) {
		const struct brain_class *k = &l->classes[c];
		if (k->intent >= 0) {
			const struct rule_intent *r = l->intents[k->intent];
			example_add(l, r->label, (int)c, &ex, &labels, &n, &cap);
			for (size_t e = 0; e < r->n_examples; e++)
				example_add(l, r->examples[e], (int)c, &ex, &labels, &n, &cap);
		}
		if (k->faq >= 0) {
			const struct faq_entry *f = l->faqs[k->faq];
			example_add(l, f->title, (int)c, &ex, &labels, &n, &cap);
			for (size_t q = 0; q < f->n_questions; q++)
				example_add(l, f->questions[q], (int)c, &ex, &labels, &n, &cap);
		}
	}
	if (n && l->n_model > 1) {
		struct lexmodel_params p;
		char err[256];
		lexmodel_params_default(&p);
		l->model = lexmodel_train(ex, labels, n, (int)l->n_model, &p, err, sizeof(err));
		if (!l->model) {
			diag_add(d, "rules", 0, "language %s: cannot train the intent model: %s", l->code,
				 err);
			rc = -1;
		}
	}
	for (size_t i = 0; i < n; i++)
		tokens_clear(&ex[i]);
	free(ex);
	free(labels);
	b->model_ms += ms_since(&t0);
	return rc;
}

brain *brain_build(struct faq_set *faqs, struct rule_set *rules, const struct brain_limits *lim,
		   const logger *lg, struct diag *d)
{
	brain *b = xcalloc(1, sizeof(*b));
	struct timespec t0;

	clock_gettime(CLOCK_MONOTONIC, &t0);

	b->faqs = *faqs;
	b->rules = *rules;
	memset(faqs, 0, sizeof(*faqs));
	memset(rules, 0, sizeof(*rules));
	b->lg = lg;
	if (lim)
		b->lim = *lim;
	else
		brain_limits_default(&b->lim);

	/* group the content by language, keeping file order */
	for (size_t j = 0; j < b->faqs.n; j++) {
		struct brain_lang *l = lang_add(b, b->faqs.v[j].lang);
		l->faqs = realloc(l->faqs, (l->n_faqs + 1) * sizeof(*l->faqs));
		if (!l->faqs)
			abort();
		l->faqs[l->n_faqs++] = &b->faqs.v[j];
	}
	for (size_t i = 0; i < b->rules.n; i++) {
		struct brain_lang *l = lang_add(b, b->rules.v[i].lang);
		l->intents = realloc(l->intents, (l->n_intents + 1) * sizeof(*l->intents));
		if (!l->intents)
			abort();
		l->intents[l->n_intents++] = &b->rules.v[i];
	}
	if (!b->n_langs) {
		diag_add(d, "faq", 0, "no FAQ entries and no intents: the bot would know nothing");
		goto err;
	}
	b->lang_codes = xcalloc(b->n_langs + 1, sizeof(*b->lang_codes));
	for (size_t i = 0; i < b->n_langs; i++) {
		if (lang_build(b, &b->langs[i], &b->lim, d))
			goto err;
		b->lang_codes[i] = b->langs[i].code;
	}
	b->default_lang = lang_get(b, BRAIN_DEFAULT_LANG) ? BRAIN_DEFAULT_LANG : b->langs[0].code;
	b->matcher = rules_matcher_new(b->lim.pattern_match_limit, b->lim.pattern_depth_limit);
	b->build_ms = ms_since(&t0);
	return b;
err:
	brain_free(b);
	return NULL;
}

brain *brain_load(const char *content_dir, const struct brain_limits *lim, const logger *lg,
		  struct diag *d)
{
	struct faq_set faqs = {0};
	struct rule_set rules = {0};
	char path[1200];
	size_t before = d->n;

	snprintf(path, sizeof(path), "%s/rules", content_dir);
	rules_load(path, &rules, d);
	snprintf(path, sizeof(path), "%s/faq", content_dir);
	faq_load(path, &rules.languages, &faqs, d);
	if (d->n == before)
		rules_check_faq_refs(&rules, &faqs, BRAIN_DEFAULT_LANG, d);
	if (d->n != before) {
		faq_set_clear(&faqs);
		rule_set_clear(&rules);
		return NULL;
	}
	return brain_build(&faqs, &rules, lim, lg, d);
}

const struct rule_set *brain_rules(const brain *b)
{
	return &b->rules;
}

const struct language_set *brain_language_set(const brain *b)
{
	return &b->rules.languages;
}

const struct faqindex *brain_faq_index(const brain *b, const char *lang,
				       const struct faq_entry *const **entries, size_t *n)
{
	for (size_t i = 0; i < b->n_langs; i++) {
		const struct brain_lang *l = &b->langs[i];
		if (strcmp(l->code, lang) || !l->ix)
			continue;
		*entries = (const struct faq_entry *const *)l->faqs;
		*n = l->n_faqs;
		return l->ix;
	}
	*entries = NULL;
	*n = 0;
	return NULL;
}

void brain_free(brain *b)
{
	if (!b)
		return;
	for (size_t i = 0; i < b->n_langs; i++) {
		struct brain_lang *l = &b->langs[i];
		analyzer_free(l->an);
		faqindex_free(l->ix);
		lexmodel_free(l->model);
		free(l->faqs);
		free(l->intents);
		free(l->classes);
		free(l->faq_class);
		free(l->intent_class);
	}
	free(b->langs);
	free(b->lang_codes);
	rules_matcher_free(b->matcher);
	faq_set_clear(&b->faqs);
	rule_set_clear(&b->rules);
	free(b);
}

const char *const *brain_languages(const brain *b)
{
	return b->lang_codes;
}

const char *brain_language_for(const brain *b, const char *lang)
{
	if (lang && strlen(lang) >= 2) {
		char code[3] = {lang[0], lang[1], 0};
		code[0] = (char)(code[0] | 0x20);
		code[1] = (char)(code[1] | 0x20);
		for (size_t i = 0; i < b->n_langs; i++)
			if (!strcmp(b->langs[i].code, code))
				return b->langs[i].code;
	}
	return b->default_lang;
}

/* A candidate while sources are merged. */
struct pending {
	int cls;
	double model, retriever;
	int pattern;               /* pattern index, or -1 */
	int chosen;                /* the button the customer pressed */
	const struct faqindex_hit *hit;
};

static struct pending *pending_get(struct pending *p, size_t *n, size_t max, int cls)
{
	for (size_t i = 0; i < *n; i++)
		if (p[i].cls == cls)
			return &p[i];
	if (*n == max)
		return NULL;
	p[*n] = (struct pending){cls, 0, 0, -1, 0, NULL};
	return &p[(*n)++];
}

/* Share of the retriever in the confidence of a class the model knows. */
#define RETRIEVER_SHARE 0.15

static double pending_confidence(const struct brain_lang *l, const struct pending *p)
{
	double c;
	if ((size_t)p->cls >= l->n_model)
		c = p->retriever;
	else if (l->classes[p->cls].faq >= 0)
		c = (1 - RETRIEVER_SHARE) * p->model + RETRIEVER_SHARE * p->retriever;
	else
		c = p->model; /* an intent of its own: the retriever cannot see it */
	if (p->chosen)
		return 1.0;
	return p->pattern >= 0 ? BRAIN_PATTERN_CONFIDENCE + (1 - BRAIN_PATTERN_CONFIDENCE) * c : c;
}

static int class_priority(const struct brain_lang *l, int cls)
{
	int i = l->classes[cls].intent;
	return i >= 0 ? l->intents[i]->priority : 0;
}

/* Adds a word to the candidate's explanation, skipping stop words (they
 * count in the model, but "the" and "is" explain nothing to an editor). */
static void add_term(const struct brain_lang *l, struct brain_candidate *c, const char *w)
{
	if (analyzer_is_stop(l->an, w, strlen(w)))
		return;
	for (size_t i = 0; i < c->n_terms; i++)
		if (!strcmp(c->terms[i], w))
			return;
	if (c->n_terms < BRAIN_TERMS)
		c->terms[c->n_terms++] = w;
}

/* Fills out a candidate from class cls of language l. An intent whose
 * FAQ entry is not in l answers with the default language's. */
static void candidate_fill(const brain *b, const struct brain_lang *l, int cls,
			   struct brain_candidate *c)
{
	const struct brain_class *k = &l->classes[cls];
	const struct faq_entry *f = k->faq >= 0 ? l->faqs[k->faq] : NULL;

	memset(c, 0, sizeof(*c));
	if (k->intent >= 0) {
		const struct rule_intent *r = l->intents[k->intent];
		c->kind = BRAIN_INTENT;
		snprintf(c->source, sizeof(c->source), "intent:%s", r->name);
		c->name = r->name;
		c->label = r->label;
		c->flow = r->flow;
		c->team = r->team;
		c->priority = r->priority;
		c->answer = r->reply;
		if (r->faq) {
			int j = faq_index_of(l, r->faq);
			const struct brain_lang *dl = lang_get((brain *)b, b->default_lang);
			if (j >= 0) {
				f = l->faqs[j];
			} else if (dl && dl != l && (j = faq_index_of(dl, r->faq)) >= 0) {
				f = dl->faqs[j];
				c->answer_lang = dl->code;
			}
		}
		if (f && !c->answer) {
			c->answer = f->answer;
			c->faq = f->id;
		}
	} else {
		c->kind = BRAIN_FAQ;
		snprintf(c->source, sizeof(c->source), "faq:%s", f->id);
		c->name = f->id;
		c->label = f->title;
		c->answer = f->answer;
		c->team = f->team;
		c->faq = f->id;
	}
}

/* The class a button id names, or -1. */
static int class_for_choice(const struct brain_lang *l, const char *choice)
{
	if (!strncmp(choice, "intent:", 7)) {
		for (size_t i = 0; i < l->n_intents; i++)
			if (!strcmp(l->intents[i]->name, choice + 7))
				return l->intent_class[i];
	} else if (!strncmp(choice, "faq:", 4)) {
		int j = faq_index_of(l, choice + 4);
		if (j >= 0)
			return l->faq_class[j];
	}
	return -1;
}

static int cmp_pending_desc(const void *a, const void *b, void *ud)
{
	const struct pending *x = a, *y = b;
	const struct brain_lang *l = ud;
	if (x->chosen != y->chosen)
		return x->chosen ? -1 : 1; /* the pressed button first, whatever ties */
	double cx = pending_confidence(l, x), cy = pending_confidence(l, y);
	if (cx > cy + 1e-9)
		return -1;
	if (cy > cx + 1e-9)
		return 1;
	int px = class_priority(l, x->cls), py = class_priority(l, y->cls);
	if (px != py)
		return px > py ? -1 : 1;
	return x->cls - y->cls;
}

/* Typos. A content word the content never uses, of CORRECT_MIN_LETTERS or
 * more, whose stem is one edit (two from eight letters) from a stem the
 * FAQ index knows, is read as that stem by everything below: the model and
 * the retriever then see "deliver" in "delivr". The word itself stays, so
 * explanations show what the customer typed. Shorter words are left alone:
 * at four letters a single edit turns too many unrelated words into
 * content words ("sing" -> "sign"). Returns how many were corrected. */
#define CORRECT_MIN_LETTERS 5

static int correct_typos(const struct brain_lang *l, struct tokens *t)
{
	int n = 0;
	if (!l->ix)
		return 0;
	for (size_t i = 0; i < t->n; i++) {
		struct token *tk = &t->v[i];
		if (tk->stop)
			continue;
		const char *fix = faqindex_correct(l->ix, tk->stem, CORRECT_MIN_LETTERS);
		if (fix) {
			tk->stem = fix;
			tk->stem_len = strlen(fix);
			n++;
		}
	}
	return n;
}

/* How far another language's best candidate must lead the guessed
 * language's for brain_understand_unsure to take it. */
#define UNSURE_LEAD 0.10

static void understand_in(brain *b, struct brain_lang *l, const char *text, size_t len,
			  const char *choice, struct brain_result *out)
{
	struct tokens *t = xcalloc(1, sizeof(*t));
	struct lexmodel_hit mh[SOURCE_TOP];
	struct faqindex_hit fh[SOURCE_TOP];
	/* a pressed button, the model's and the retriever's SOURCE_TOP each, and
	 * at least SOURCE_TOP pattern hits (more are dropped: they tie anyway) */
	struct pending p[3 * SOURCE_TOP + 1];
	size_t np = 0, nm = 0, nf = 0;

	if (!l)
		abort(); /* brain_language_for() names only loaded languages */
	memset(out, 0, sizeof(*out));
	out->tokens = t;
	snprintf(out->lang, sizeof(out->lang), "%s", l->code);
	out->thresholds = b->rules.thresholds;
	if (analyzer_run(l->an, text, len, t))
		memset(t, 0, sizeof(*t));
	out->corrected = correct_typos(l, t);
	out->n_words = t->n;
	for (size_t i = 0; i < t->n; i++)
		out->n_content_words += !t->v[i].stop;

	int chosen = choice ? class_for_choice(l, choice) : -1;
	if (chosen >= 0) {
		struct pending *c = pending_get(p, &np, sizeof(p) / sizeof(p[0]), chosen);
		c->chosen = 1;
	}

	if (l->model && t->n)
		nm = lexmodel_predict(l->model, t, mh, SOURCE_TOP);
	for (size_t i = 0; i < nm; i++) {
		struct pending *c = pending_get(p, &np, sizeof(p) / sizeof(p[0]), mh[i].label);
		if (c && mh[i].confidence > c->model)
			c->model = mh[i].confidence;
	}
	if (l->ix && t->n)
		nf = faqindex_search(l->ix, t, fh, SOURCE_TOP);
	for (size_t i = 0; i < nf; i++) {
		struct pending *c =
			pending_get(p, &np, sizeof(p) / sizeof(p[0]), l->faq_class[fh[i].doc]);
		if (c && fh[i].confidence > c->retriever) {
			c->retriever = fh[i].confidence;
			c->hit = &fh[i];
		}
	}
	for (size_t i = 0; i < l->n_intents; i++) {
		const struct rule_intent *r = l->intents[i];
		int limited = -1;
		if (!r->n_patterns)
			continue;
		int m = rules_match(b->matcher, r, text, len, t->folded, t->folded_len, &limited);
		if (m == -2) {
			out->limited = 1;
			log_warn(b->lg, "pattern_limit", "lang=%s intent=%s file=%s line=%d", l->code,
				 r->name, r->file, r->patterns[limited].line);
			continue;
		}
		if (m >= 0) {
			struct pending *c = pending_get(p, &np, sizeof(p) / sizeof(p[0]),
							l->intent_class[i]);
			if (c)
				c->pattern = m;
		}
	}

	qsort_r(p, np, sizeof(p[0]), cmp_pending_desc, l);

	for (size_t i = 0; i < np && out->n < BRAIN_TOP; i++) {
		struct brain_candidate *c = &out->top[out->n++];
		const struct brain_class *k = &l->classes[p[i].cls];
		candidate_fill(b, l, p[i].cls, c);
		c->model = p[i].model;
		c->retriever = p[i].retriever;
		c->confidence = pending_confidence(l, &p[i]);
		if (p[i].pattern >= 0)
			c->pattern = l->intents[k->intent]->patterns[p[i].pattern].source;
		/* words that drove the model, for candidates it believes in at all */
		if (l->model && (size_t)p[i].cls < l->n_model && p[i].model > 0 &&
		    (i == 0 || p[i].model >= EXPLAIN_MIN)) {
			const char *w[BRAIN_TERMS];
			size_t nw = lexmodel_explain(l->model, t, p[i].cls, w, BRAIN_TERMS);
			for (size_t j = 0; j < nw; j++)
				add_term(l, c, w[j]);
		}
		if (p[i].hit) {
			for (size_t j = 0; j < p[i].hit->n_terms; j++)
				add_term(l, c, p[i].hit->terms[j]);
			c->fuzzy = p[i].hit->fuzzy;
		}
	}
	if (out->n)
		out->margin = out->top[0].confidence - (out->n > 1 ? out->top[1].confidence : 0);
}

void brain_understand(brain *b, const char *lang, const char *text, size_t len,
		      const char *choice, struct brain_result *out)
{
	struct brain_lang *l = lang_get(b, brain_language_for(b, lang));
	struct brain_lang *dl = lang_get(b, b->default_lang);
	struct brain_result other;

	understand_in(b, l, text, len, choice, out);
	/* Nothing in the conversation's language, but the default language's
	 * content is sure of it (an English question in a Polish chat, an
	 * entry not translated yet): that answer, marked as in its language. */
	if (dl == l || choice || (out->n && out->top[0].confidence >= out->thresholds.clarify))
		return;
	understand_in(b, dl, text, len, NULL, &other);
	if (!other.n || other.top[0].confidence < other.thresholds.answer) {
		brain_result_clear(&other);
		return;
	}
	for (size_t i = 0; i < other.n; i++)
		if (!other.top[i].answer_lang)
			other.top[i].answer_lang = dl->code;
	brain_result_clear(out);
	*out = other;
}

void brain_understand_unsure(brain *b, const char *guess, const char *text, size_t len,
			     const char *choice, struct brain_result *out)
{
	struct brain_lang *g = lang_get(b, brain_language_for(b, guess));

	understand_in(b, g, text, len, choice, out);
	if (choice)
		return;
	for (size_t i = 0; i < b->n_langs; i++) {
		struct brain_result other;
		if (&b->langs[i] == g)
			continue;
		understand_in(b, &b->langs[i], text, len, NULL, &other);
		if (other.n && other.top[0].confidence >= other.thresholds.clarify &&
		    (!out->n || other.top[0].confidence > out->top[0].confidence + UNSURE_LEAD)) {
			brain_result_clear(out);
			*out = other;
		} else {
			brain_result_clear(&other);
		}
	}
}

void brain_understand_nothing(brain *b, const char *lang, struct brain_result *out)
{
	memset(out, 0, sizeof(*out));
	snprintf(out->lang, sizeof(out->lang), "%s", brain_language_for(b, lang));
	out->thresholds = b->rules.thresholds;
}

void brain_result_clear(struct brain_result *r)
{
	if (r->tokens) {
		tokens_clear(r->tokens);
		free(r->tokens);
	}
	memset(r, 0, sizeof(*r));
}

void brain_get_stats(const brain *b, struct brain_stats *st)
{
	memset(st, 0, sizeof(*st));
	st->languages = b->n_langs;
	st->faq_entries = b->faqs.n;
	st->intents = b->rules.n;
	for (size_t i = 0; i < b->rules.n; i++) {
		st->patterns += b->rules.v[i].n_patterns;
		st->examples += b->rules.v[i].n_examples;
	}
	for (size_t i = 0; i < b->n_langs; i++)
		st->model_classes += b->langs[i].n_model;
	st->build_ms = b->build_ms;
	st->index_ms = b->index_ms;
	st->model_ms = b->model_ms;
}
