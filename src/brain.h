/* brain.h: what the bot knows, and what it makes of one message.
 *
 * A brain is built once from the content directory: faq/<lang>/ (FAQ
 * entries, see faq.h) and rules/<lang>/ (intents, see rules.h). For each
 * language it holds the text analyzer, the FAQ retriever (faqindex.h), the
 * intents' compiled patterns and a lexical model (lexmodel.h) trained at
 * load time on the intents' examples and the FAQ entries' questions.
 *
 * brain_understand() turns one customer message into signals: the best
 * candidates (intents and FAQ entries, merged when an intent answers with an
 * FAQ entry), each with a calibrated confidence in [0,1], the evidence behind
 * it (pattern, matched words, model and retriever confidences) and the
 * margin between the top two. It decides nothing: lua/pipeline.lua does,
 * with the thresholds editors set in rules/thresholds.yaml.
 *
 * After brain_load() a brain is read-only except for its analyzers' and
 * matcher's scratch state, so brain_understand() must be called from one
 * thread at a time. */
#ifndef SUPPORTD_BRAIN_H
#define SUPPORTD_BRAIN_H

#include <stddef.h>

#include "diag.h"
#include "log.h"
#include "rules.h"
#include "text.h"

typedef struct brain brain;

/* Candidates reported per message. */
#define BRAIN_TOP 5
/* Matched words kept per candidate. */
#define BRAIN_TERMS 8

/* A pattern hit puts an intent's confidence at least this high. */
#define BRAIN_PATTERN_CONFIDENCE 0.9

struct brain_limits {
	unsigned pattern_match_limit;   /* PCRE2 match limit per pattern */
	unsigned pattern_depth_limit;   /* PCRE2 depth (heap) limit, KiB */
	size_t model_max_classes;       /* FAQ entries join the lexical model
					   while intents + entries stay under this */
	lemmatizer *lemmas;             /* borrowed dictionaries to share, or NULL:
					   each analyzer loads its own (text.h) */
};

void brain_limits_default(struct brain_limits *lim);

enum brain_kind { BRAIN_INTENT, BRAIN_FAQ };

/* One candidate answer. Strings are borrowed from the brain and live as
 * long as it does. */
/* The language whose content answers what another language's content
 * lacks (an entry not translated yet), and the first language otherwise. */
#define BRAIN_DEFAULT_LANG "en"

struct brain_candidate {
	enum brain_kind kind;
	char source[96];           /* "intent:<name>" or "faq:<id>" */
	const char *name;          /* intent name or FAQ id */
	const char *label;         /* button text: the intent's label or FAQ title */
	const char *answer;        /* Markdown to say, or NULL for a flow */
	const char *flow;          /* the intent's flow, or NULL */
	const char *team;
	const char *faq;           /* the FAQ id the answer comes from, or NULL */
	const char *answer_lang;   /* the answer's language when it is not the
				    * result's (BRAIN_DEFAULT_LANG's entry), else NULL */
	int priority;
	double confidence;         /* calibrated, 0..1: what thresholds apply to */
	double model;              /* the lexical model's confidence, 0..1 */
	double retriever;          /* the FAQ retriever's confidence, 0..1 */
	const char *pattern;       /* source of the pattern that matched, or NULL */
	const char *terms[BRAIN_TERMS]; /* words that drove it; borrowed from the result */
	size_t n_terms;
	int fuzzy;                 /* terms matched only through typo tolerance */
};

/* What the brain makes of a message. brain_result_clear() releases it. */
struct brain_result {
	char lang[8];              /* the language whose content was used */
	size_t n_words;            /* tokens in the message */
	size_t n_content_words;    /* tokens that are not stop words */
	int corrected;             /* words read as a near content word (typos) */
	struct brain_candidate top[BRAIN_TOP]; /* best first */
	size_t n;
	double margin;             /* top[0].confidence - top[1].confidence (or top[0]'s) */
	int limited;               /* a pattern stopped at its match limit */
	struct rule_thresholds thresholds;
	void *tokens;              /* owned: the analysed message the terms point into */
};

/* Loads CONTENT_DIR/faq and CONTENT_DIR/rules and builds everything.
 * Returns a new brain, or NULL when the content has problems, each of which
 * is in *d as "file:line: reason". Borrows lg (for pattern-limit warnings)
 * for the brain's lifetime. */
brain *brain_load(const char *content_dir, const struct brain_limits *lim, const logger *lg,
		  struct diag *d);

/* Builds a brain from content already in memory; takes ownership of *faqs
 * and *rules (they are emptied). Used by brain_load and by the benchmarks,
 * which make content from TSV files. */
brain *brain_build(struct faq_set *faqs, struct rule_set *rules, const struct brain_limits *lim,
		   const logger *lg, struct diag *d);

void brain_free(brain *b);

/* The intents the brain was built from. Borrowed. */
/* The content's languages, as their language.yaml files define them.
 * Borrowed from b. */
const struct language_set *brain_language_set(const brain *b);

const struct rule_set *brain_rules(const brain *b);

/* A language's FAQ retriever and the entries it indexes, for tools that
 * check the content (supportd check): document j of the index is entry
 * (*entries)[j]. Returns NULL, with *entries NULL and *n 0, when the
 * language has no FAQ entries. All borrowed from b; searching the index
 * changes nothing (faqindex.h). */
const struct faqindex *brain_faq_index(const brain *b, const char *lang,
				       const struct faq_entry *const **entries, size_t *n);

/* The languages the content has, as a NULL-terminated list borrowed from b. */
const char *const *brain_languages(const brain *b);

/* Which language a conversation's lang tag ("pt-BR", "pl", NULL) maps to:
 * its first two letters when the content has them, else the default (en
 * when present, else the first language loaded). */
const char *brain_language_for(const brain *b, const char *lang);

/* For a conversation whose language is not known for sure: understands
 * the text in the guessed language (a tag, or NULL), and in each other
 * language of the content; the result is the guess's, unless another
 * language's content is clearly surer (at least clarify, and ahead by a
 * margin). result.lang says which. */
void brain_understand_unsure(brain *b, const char *guess, const char *text, size_t len,
			     const char *choice, struct brain_result *out);

/* Understands len bytes of UTF-8 text in the given language tag. Never
 * fails: text with no words gives no candidates. `choice`, when not NULL,
 * is the id of a button the customer pressed ("faq:returns"): that
 * candidate comes first with confidence 1. */
void brain_understand(brain *b, const char *lang, const char *text, size_t len,
		      const char *choice, struct brain_result *out);

/* The result for a message the brain was not asked about (a pipeline that
 * does not take it, pipeline.c): no candidates, the language tag's content
 * and the thresholds. */
void brain_understand_nothing(brain *b, const char *lang, struct brain_result *out);

void brain_result_clear(struct brain_result *r);

/* Statistics for logs and tools. */
struct brain_stats {
	size_t languages, faq_entries, intents, patterns, examples, model_classes;
	double build_ms;           /* all of brain_build */
	double index_ms;           /* of which analysing and indexing FAQ entries */
	double model_ms;           /* of which analysing examples and training the model */
};
void brain_get_stats(const brain *b, struct brain_stats *st);

#endif
