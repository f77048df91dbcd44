/* mood.h: upset detection: how upset one customer message reads, and how
 * a conversation's mood moves.
 *
 * Each message is scored from hand-written lexicons, one per language
 * (rules/<lang>/mood.yaml; the format is in docs/content.md, "Mood
 * lexicons"), matched on text folded by text.h (case, accents, NFKC), by
 * exact word, stem or prefix as each entry says, and from signals that need
 * no lexicon:
 *   - negative words and phrases ("furious", "fed up"), weighted;
 *   - positive ones, which calm a message down, and count as upset when
 *     negated ("not happy", "não estou satisfeito", "nie jestem
 *     zadowolony"); a negated negative word ("not angry") counts little;
 *   - intensifiers and softeners ("very", "muito", "bardzo"; "a bit");
 *   - profanity, and threats of five kinds (legal action, closing the
 *     account, a chargeback, a regulator, a public review);
 *   - shouting in capitals, repeated "!!!" / "???", angry emoji.
 * The evidence is summed and squashed into a score in [0, 1]:
 * score = 1 - exp(-evidence), so an entry of weight 1 alone gives 0.63.
 *
 * A mood_trend follows one conversation: an exponentially weighted level
 * and counts, so a customer who gets steadily more upset is noticed even
 * when no single message crosses the threshold. */
#ifndef SUPPORTD_MOOD_H
#define SUPPORTD_MOOD_H

#include <stddef.h>

#include "diag.h"
#include "language.h"

/* A message is upset when its score is at least this. Chosen on the dev
 * splits of the evaluation sets (docs/benchmarks.md, "Mood"). */
#define MOOD_UPSET_THRESHOLD 0.5

#define MOOD_FILE_MAX (256 * 1024) /* bytes of one mood.yaml */
#define MOOD_ENTRIES_MAX 5000      /* entries of one file, all sections */
#define MOOD_PHRASE_MAX 200        /* bytes of one entry as written */
#define MOOD_PHRASE_WORDS 8        /* words (and gaps) of one entry */
#define MOOD_TEXT_MAX 8192         /* bytes of a message that are read; the rest is ignored */

/* Threat kinds, as bits of mood_score.threat_kinds. */
enum mood_threat {
	MOOD_THREAT_LEGAL = 1 << 0,      /* lawyer, court, sue */
	MOOD_THREAT_CANCEL = 1 << 1,     /* closing the account, leaving for a competitor */
	MOOD_THREAT_CHARGEBACK = 1 << 2, /* chargeback, dispute with the bank */
	MOOD_THREAT_REGULATOR = 1 << 3,  /* regulator, ombudsman, consumer body, police */
	MOOD_THREAT_REVIEW = 1 << 4,     /* bad review, social media, the press */
};

typedef struct mood_lexicons mood_lexicons;

/* Loads rules_dir/<code>/mood.yaml (borrowed path) for every language of
 * langs (borrowed; copied) that has one. Returns new lexicons (free with
 * mood_free), or NULL after adding every problem to d as "file:line:
 * reason". Languages without a mood file, or none at all, give empty
 * lexicons: then only the signals that need no words (capitals,
 * punctuation, emoji) count. Aborts only when out of memory. */
mood_lexicons *mood_load(const char *rules_dir, const struct language_set *langs,
			 struct diag *d);

/* Parses one mood file's bytes (borrowed) into m as the lexicon of lang
 * (one of m's languages), replacing any it had; file names it in
 * messages. Returns 0, or -1 after adding every problem to d (then m is
 * unchanged). mood_load() calls it; tests and tools may too. */
int mood_parse(mood_lexicons *m, const char *file, const char *lang, const char *buf,
	       size_t len, struct diag *d);

/* Returns new, empty lexicons for langs (borrowed; copied; NULL: none),
 * to be freed with mood_free. */
mood_lexicons *mood_new(const struct language_set *langs);
void mood_free(mood_lexicons *m);

/* 1 when m has a lexicon for lang (a code or tag: "pt-BR" is pt). */
int mood_has_lang(const mood_lexicons *m, const char *lang);

struct mood_score {
	double score;          /* 0..1: how upset this message reads */
	int upset;             /* score >= MOOD_UPSET_THRESHOLD */
	int threat;            /* a threat was made (threat_kinds says which) */
	int threat_kinds;      /* enum mood_threat bits */
	int profanity;         /* swearing or insults (words, or the middle-finger emoji) */
	int shouting;          /* written mostly or largely in capitals */
	char lang[4];          /* the lexicon used ("en", "pt", "pl"), "" for none */
	char why[160];         /* the words and signals that drove it, strongest first,
				* e.g. "very frustrated, lawyer (legal), CAPS, !!!";
				* UTF-8, never cut inside a character; "" when
				* the score is 0 */
};

/* Scores len bytes of text (borrowed) in lang: "en", "pt", "pl" or a
 * longer tag ("pt-BR"); any other language, or one without a lexicon in
 * m, uses English (m may be NULL: then only capitals, punctuation and
 * emoji count). Never fails: empty text scores 0; invalid UTF-8 is read
 * as if each bad byte were a space; only the first MOOD_TEXT_MAX bytes
 * are read. Takes a few microseconds for a typical message and is bounded
 * by MOOD_TEXT_MAX for any input.
 * Not thread-safe: m holds each language's analyzer (whose stemmer keeps
 * state), so one thread at a time may score with a given m, as with the
 * brain. m itself is not changed. */
void mood_score(const mood_lexicons *m, const char *lang, const char *text, size_t len,
		struct mood_score *out);

/* The name of one threat kind bit ("legal", "cancel", "chargeback",
 * "regulator", "review"), or "?" for anything else. */
const char *mood_threat_name(int kind);

/* ---------------------------------------------------------------- trend */

#define MOOD_TREND_ALPHA 0.5    /* weight of the newest score in level */
#define MOOD_RISE_STEP 0.05     /* a message "climbs" when it raises level by this much */
#define MOOD_RISE_RUN 2         /* climbs in a row that make the trend rising ... */
#define MOOD_RISE_FLOOR 0.2     /* ... once level is at least this */

/* One conversation's mood so far. Plain data: copy it, store it. */
struct mood_trend {
	double level;          /* exponentially weighted average of the scores
				* (the first message sets it), 0..1 */
	double last;           /* the newest score */
	double peak;           /* the highest score */
	int messages;          /* messages scored */
	int upset_messages;    /* of those, upset */
	int threats;           /* of those, with a threat */
	int profanity;         /* of those, with profanity */
	int streak;            /* upset messages in a row, ending with the newest */
	int climbs;            /* messages in a row that raised level by MOOD_RISE_STEP */
	int rising;            /* climbs >= MOOD_RISE_RUN and level >= MOOD_RISE_FLOOR */
	int upset;             /* level >= MOOD_UPSET_THRESHOLD */
};

/* Makes *t the trend of a conversation with no messages. */
void mood_trend_init(struct mood_trend *t);

/* Adds one scored message (borrowed) to *t. */
void mood_trend_add(struct mood_trend *t, const struct mood_score *s);

/* The trend as a JSON object (a new string), as the store keeps it and
 * agents see it; and back (0, or -1 leaving *t zeroed on bad input). */
char *mood_trend_json(const struct mood_trend *t);
int mood_trend_from_json(struct mood_trend *t, const char *json);

#endif
