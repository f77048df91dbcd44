/* faqindex.h: the FAQ retriever. An inverted index over each FAQ entry's
 * title, questions and answer, ranked with BM25F, tolerant of typos, with a
 * calibrated confidence per hit.
 *
 * Life cycle: faqindex_new(), faqindex_add() for every field of every
 * entry, faqindex_build() once, then any number of faqindex_search() calls,
 * from any number of threads (a built index is never written). Text comes in
 * already analysed (text.h): terms are stems, stop words are skipped.
 *
 * faqindex.c's opening comment documents the scoring and the confidence. */
#ifndef SUPPORTD_FAQINDEX_H
#define SUPPORTD_FAQINDEX_H

#include <stddef.h>

#include "text.h"

typedef struct faqindex faqindex;

enum faqindex_field { FAQINDEX_TITLE, FAQINDEX_QUESTION, FAQINDEX_ANSWER };

/* How the questions of one entry make up its question field. */
enum faqindex_qmode {
	FAQINDEX_QBEST,   /* each question is its own mini-document; the entry scores as its best one */
	FAQINDEX_QCONCAT, /* all questions are one field (plain BM25F: more questions, more score) */
	FAQINDEX_QMEAN,   /* each question's length-normalised frequency, averaged over the
	                     questions (the default: measured best, see faqindex.c) */
};

#define FAQINDEX_CALIB 6

/* Ranking parameters. faqindex_params_default() gives the values measured
 * on training data (see faqindex.c); editors normally never change them. */
struct faqindex_params {
	double k1;                 /* BM25 term-frequency saturation */
	double weight[3];          /* field weights, by enum faqindex_field */
	double b[3];               /* per-field length normalisation, 0..1 */
	enum faqindex_qmode qmode;
	int fuzzy;                 /* 1: match unknown query words to near vocabulary terms */
	double fuzzy_discount;     /* a fuzzy match counts this much of an exact one */
	int fuzzy_rare_df;         /* known terms in at most this many entries are also
	                              expanded (0: off) */
	double calib[FAQINDEX_CALIB]; /* confidence: logistic coefficients, see faqindex.c */
};

/* Fills *p with the defaults. */
void faqindex_params_default(struct faqindex_params *p);

/* Returns a new, empty index with the default parameters, or with a copy
 * of *p when p is not NULL (borrowed; out-of-range values are clamped: k1
 * to 0.01..100, weights to 0..100, b and fuzzy_discount to 0..1). Aborts
 * only when out of memory. */
faqindex *faqindex_new(void);
faqindex *faqindex_new_with(const struct faqindex_params *p);
void faqindex_free(faqindex *ix);

/* Adds analysed text to a field of entry `doc` (docs are dense: 0..n-1,
 * added in any order; QUESTION may be added many times per doc, one
 * question each; TITLE and ANSWER added twice are appended). Stop words are
 * skipped. Borrows t (copies what it keeps). Must not be called after
 * faqindex_build(); a negative doc is ignored. */
void faqindex_add(faqindex *ix, int doc, enum faqindex_field f, const struct tokens *t);

/* Freezes the index (statistics, postings, fuzzy trigram index). Call once
 * after the last add, before searching; a second call aborts. */
void faqindex_build(faqindex *ix);

#define FAQINDEX_HIT_TERMS 8

struct faqindex_hit {
	int doc;
	double score;        /* BM25F score; comparable within one query only */
	double confidence;   /* calibrated probability that doc is the right answer, in [0,1];
	                        never higher than the confidence of an earlier hit */
	const char *terms[FAQINDEX_HIT_TERMS]; /* matched query words (folded surface, borrowed from
	                        the query tokens), fuzzy matches included; at most 8 */
	size_t n_terms;
	int fuzzy;           /* how many terms matched only fuzzily */
	/* The inputs of the confidence, for explaining it: */
	double norm;         /* score / the query's maximum attainable score, in [0,1] */
	double coverage;     /* share of the query's terms matched (fuzzy ones discounted), in [0,1] */
	double margin;       /* (score - best other hit's score) / maximum attainable, in [-1,1] */
};

/* The k best entries for q, best first; returns how many (at most k). Ties
 * go to the lower doc. Borrows q: the hits' terms point into it. Thread-safe
 * on a built index (const; scratch is per call). Zero indexable tokens
 * (empty, stop words only, emoji) give 0 hits. Aborts if the index is not
 * built. */
size_t faqindex_search(const faqindex *ix, const struct tokens *q, struct faqindex_hit *hits,
		       size_t k);

/* Number of entries (the highest doc added + 1). */
/* Spelling correction: for a stem (NUL-terminated) of at least min_letters
 * letters that is not in the index's vocabulary, the nearest vocabulary
 * term within the typo distance faqindex_search uses (1, or 2 from 8
 * letters on), borrowed from the index; NULL when the stem is known, too
 * short, or nothing is near. Thread-safe on a built index. */
const char *faqindex_correct(const faqindex *ix, const char *stem, size_t min_letters);

size_t faqindex_docs(const faqindex *ix);

/* Number of distinct terms in the vocabulary (after build). */
size_t faqindex_terms(const faqindex *ix);

#endif
