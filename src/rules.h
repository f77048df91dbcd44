/* rules.h: the intent rules: loading rules/<lang>/NAME.yaml and
 * rules/thresholds.yaml, and matching an intent's patterns.
 *
 * An intent names something customers want ("reset_password"), with
 * example phrases for the classifier, optional PCRE2 patterns that are
 * strong evidence, and an action: a Markdown reply, an FAQ entry to
 * answer with, or a self-service flow (optionally with an FAQ entry that
 * answers whenever the flow cannot run). The thresholds tell the
 * classifier when to answer, when to ask "did you mean ...?" and when to
 * hand over. docs/content.md is the editors' guide to both files.
 *
 * Patterns are compiled once, at load, with PCRE2_UTF | PCRE2_UCP |
 * PCRE2_CASELESS (and JIT when available). A compiled rule_set is
 * read-only and may be shared between threads; matching needs a
 * rules_matcher per thread. */
#ifndef SUPPORTD_RULES_H
#define SUPPORTD_RULES_H

#ifndef PCRE2_CODE_UNIT_WIDTH
#define PCRE2_CODE_UNIT_WIDTH 8
#endif
#include <pcre2.h>
#include <stddef.h>
#include <stdint.h>

#include "diag.h"
#include "language.h"
#include "faq.h"

#define RULES_FILE_MAX (256 * 1024)  /* bytes of one rules file */
#define RULES_CANNED_DIR "canned"     /* rules/canned/: agents' canned responses (canned.h) */
#define RULES_MOOD_FILE "mood.yaml"  /* in rules/<lang>/: the mood lexicon (mood.h), not intents */
#define RULES_INTENTS_MAX 5000       /* intents in one rules/ tree */
#define RULES_FILES_MAX 200          /* .yaml files in one language */
#define RULES_NAME_MAX 64            /* bytes of an intent name, flow name */
#define RULES_LABEL_MAX 80           /* bytes of a label */
#define RULES_REPLY_MAX 4000         /* bytes of a reply */
#define RULES_EXAMPLES_MAX 500       /* examples of one intent */
#define RULES_EXAMPLE_MAX 500        /* bytes of one example */
#define RULES_PATTERNS_MAX 50        /* patterns of one intent */
#define RULES_PATTERN_MAX 1000       /* bytes of one pattern */
#define RULES_PATTERNS_TOTAL_MAX 10000 /* compiled patterns in one rule_set */
#define RULES_PRIORITY_MAX 1000      /* priority is in [-max, max] */

struct rule_pattern {
	char *source;        /* as written */
	pcre2_code *code;    /* compiled (JIT-compiled when possible) */
	int line;
};

struct rule_intent {
	char *name, *lang, *label, *team;  /* team defaults to "general" */
	int priority;                      /* default 0; breaks ties */
	char *reply, *faq, *flow;          /* reply alone, or faq and/or flow */
	char **examples;
	size_t n_examples;
	struct rule_pattern *patterns;
	size_t n_patterns;
	char *file;                        /* path, for messages */
	int line;                          /* line of the intent's first key */
	int action_line;                   /* line of its reply/faq/flow value */
};

struct rule_thresholds {
	double answer;          /* answer when the best confidence is at least this */
	double clarify;         /* from here up to answer: ask "did you mean ...?" */
	double clarify_margin;  /* also ask when the top two are this close */
};

struct rule_set {
	struct rule_intent *v;
	size_t n;
	struct rule_thresholds thresholds;
	size_t cap;
	struct language_set languages;  /* every rules/<code>/language.yaml */
};

/* The built-in thresholds: answer 0.55, clarify 0.35, clarify_margin 0.15. */
void rules_thresholds_default(struct rule_thresholds *t);

/* Loads rules_dir (borrowed): for each language directory
 * rules_dir/<code>/ (an ISO 639-1 code), its language.yaml (into
 * out->languages; a language directory without one is a problem) and
 * every other NAME.yaml but mood.yaml; and rules_dir/thresholds.yaml
 * (built-in defaults when it is missing). Appends the valid intents to *out (which the caller
 * owns and releases with rule_set_clear; start it zeroed, then the
 * thresholds are set here). Problems go to d. Returns 0 when there were
 * none, -1 otherwise; out holds the valid intents either way. A missing
 * rules_dir is a problem. An intent whose name repeats an earlier one of
 * its language is reported (naming both files) and left out. */
int rules_load(const char *rules_dir, struct rule_set *out, struct diag *d);

/* Frees every intent (and compiled pattern), the array and the
 * languages, and zeroes *s. */
void rule_set_clear(struct rule_set *s);

/* Parses one rules file's bytes (borrowed); file names it in messages and
 * lang is its directory's language. Appends the file's valid intents to
 * *out. Returns 0, or -1 after adding problems to d (the valid intents of
 * the file are appended anyway). Files over RULES_FILE_MAX are refused.
 * Names are not checked against intents already in *out: rules_load does
 * that across files. */
int rules_parse(const char *file, const char *lang, const char *buf, size_t len,
		struct rule_set *out, struct diag *d);

/* Parses a thresholds file's bytes into *out. Keys left out keep their
 * built-in value. Returns 0, or -1 after adding problems (then *out holds
 * the defaults). */
int rules_parse_thresholds(const char *file, const char *buf, size_t len,
			   struct rule_thresholds *out, struct diag *d);

/* Checks that every intent's `faq:` names an entry of f in the intent's
 * language, or in default_lang (may be NULL): an entry not translated yet
 * is answered in the default language. Both borrowed. Returns 0, or -1
 * after adding a problem per missing entry (at the intent's faq line). */
int rules_check_faq_refs(const struct rule_set *r, const struct faq_set *f,
			 const char *default_lang, struct diag *d);

/* The reusable matching state: match data and a match context with the
 * limits. One per thread. */
typedef struct rules_matcher rules_matcher;

/* Returns a new matcher whose matches give up after match_limit steps
 * (pcre2_set_match_limit, also enforced by JIT code) or at depth_limit
 * backtracking depth (pcre2_set_depth_limit, with the interpreter's heap
 * capped at depth_limit KiB, at least 64; JIT code is bounded by its 32
 * KiB stack instead). Aborts only when out of memory. */
rules_matcher *rules_matcher_new(uint32_t match_limit, uint32_t depth_limit);
void rules_matcher_free(rules_matcher *m);

/* Tries the intent's patterns in order, each against text (as typed) and
 * then against folded (lower case, accents stripped; may be NULL). Both
 * are borrowed and must be valid UTF-8 (invalid text never matches).
 * Returns the index of the first pattern that matched, -1 for none, or -2
 * as soon as a pattern hits the matcher's match or depth limit (then
 * *limited_pattern is its index; the caller logs a warning naming the
 * rule). */
int rules_match(rules_matcher *m, const struct rule_intent *r, const char *text, size_t len,
		const char *folded, size_t folded_len, int *limited_pattern);

#endif
