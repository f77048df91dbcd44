/* lexmodel.h: the intent matcher's lexical model.
 *
 * A multi-class linear classifier over hashed features of analysed text
 * (text.h): stem unigrams and bigrams and character n-grams of the folded
 * words, TF-IDF weighted and L2-normalised, trained from the example
 * phrases of the rules files when knowledge is loaded: a Crammer-Singer
 * multi-class SVM by default, or one-vs-rest. liblinear trains them, except
 * a Crammer-Singer SVM of more than liblinear_max_labels labels, which
 * lexmodel's own solver trains (liblinear's does not scale with labels).
 * Each prediction carries a calibrated confidence: the probability that
 * the label is right, fitted on examples held out during training, and low
 * for text whose vocabulary the model has never seen.
 *
 * A model is immutable once trained: any number of threads may predict and
 * explain on one shared model at once. Training with the own solver uses a
 * second thread of its own (the held-out model) and no global state, so
 * such trainings may run concurrently. Training with liblinear runs on the
 * calling thread and is not thread-safe with respect to other liblinear
 * users in the process: liblinear's print hook and its rand() are
 * process-wide (lexmodel seeds rand() with the seed parameter before each
 * liblinear training). Either way the same examples and parameters give
 * the same model every time. */
#ifndef SUPPORTD_LEXMODEL_H
#define SUPPORTD_LEXMODEL_H

#include <stddef.h>
#include <stdint.h>

#include "text.h"

typedef struct lexmodel lexmodel;

/* Training parameters. Start from lexmodel_params_default() and change
 * fields; lexmodel_train() rejects values out of the ranges given here. */
struct lexmodel_params {
	double c;             /* liblinear cost C, > 0 */
	int solver;           /* liblinear solver_type (linear.h) of a classifier:
	                         MCSVM_CS (Crammer-Singer), the others one-vs-rest;
	                         see lexmodel_solver_from_name() */
	int liblinear_max_labels; /* MCSVM_CS with at most this many labels
	                         (that have examples) is trained by liblinear,
	                         with more by lexmodel's own solver, >= 0; 0:
	                         always the own solver. Default 200: liblinear's
	                         time and memory grow with examples x labels and
	                         features x labels (see lexmodel.c) */
	double eps;           /* solver stopping tolerance, > 0 */
	unsigned hash_bits;   /* features are hashed into 2^hash_bits buckets, 12..24 */
	int word_ngrams;      /* 1: stem unigrams; 2: and stem bigrams */
	int char_min;         /* character n-grams of "<word>" with min..max code */
	int char_max;         /* points, 1 <= min <= max <= 8; max 0: none */
	double char_weight;   /* length of the character block relative to the
	                         word block before the row is normalised, > 0 */
	int sublinear_tf;     /* 1: term weight 1 + ln(tf); 0: tf */
	int idf;              /* 1: times smoothed IDF of the bucket */
	int min_df;           /* buckets seen in fewer training examples are
	                         dropped (treated as never seen), >= 1 */
	double calib_holdout; /* fraction of each label's examples held out to fit
	                         the confidence, in [0, 0.5]; 0: no fit, the
	                         built-in mapping (half the training time) */
	double oov_exponent;  /* confidence is multiplied by coverage^this, where
	                         coverage is the IDF^2-weighted share of the text's
	                         content words the model has seen, >= 0 (a prior,
	                         not fitted) */
	unsigned solver_memory_mb; /* while the own solver trains, features seen in 8
	                         or more examples keep a dense row of weights (one
	                         per label), the most frequent first, within this
	                         many MiB per model; the others keep (label,
	                         weight) lists: slower, the same model up to
	                         rounding */
	uint64_t seed;        /* the held-out split and the solver's order (the own
	                         solver's random numbers, or rand()'s seed) */
	double prune;         /* a weight is dropped when its typical part of a
	                         score, |weight| x the feature's mean value in the
	                         training examples that have it, is below this,
	                         >= 0; 0 keeps every non-zero weight */
};

/* Fills *p with the defaults chosen by cross-validation on Banking77's
 * training split (see the design note in lexmodel.c). */
void lexmodel_params_default(struct lexmodel_params *p);

/* The liblinear solver_type for a name as linear.h spells it
 * ("L2R_L2LOSS_SVC_DUAL", "MCSVM_CS", ...), or -1. */
int lexmodel_solver_from_name(const char *name);
/* The name of a solver_type, or "?" (a static string). */
const char *lexmodel_solver_name(int solver);

/* Trains on n analysed examples; labels[i] in [0, n_labels). Borrows
 * everything; keeps no pointer into the arguments. Labels without examples
 * are allowed and are never predicted. Returns a new model (free it with
 * lexmodel_free), or NULL with the reason in err (no examples, a label out
 * of range, a bad parameter, more examples or features than liblinear
 * takes). Aborts only when out of memory. */
lexmodel *lexmodel_train(const struct tokens *examples, const int *labels, size_t n,
			 int n_labels, const struct lexmodel_params *p, char *err,
			 size_t errlen);

/* Frees m and everything it owns; NULL is ignored. */
void lexmodel_free(lexmodel *m);

/* The n_labels the model was trained with. Borrows m. */
int lexmodel_n_labels(const lexmodel *m);

struct lexmodel_hit {
	int label;          /* in [0, n_labels) */
	double score;       /* raw decision value of the label (higher is better) */
	double confidence;  /* calibrated probability that label is right, [0, 1] */
};

/* The k best labels for t, best first (non-increasing score and
 * confidence); returns how many were written (fewer than k when the model
 * knows fewer labels). Borrows m and t; writes only top. Thread-safe on a
 * shared model: no hidden scratch state (allocates its own). Text with no
 * tokens still gets an answer, with low confidence. */
size_t lexmodel_predict(const lexmodel *m, const struct tokens *t, struct lexmodel_hit *top,
			size_t k);

/* Why: up to k words of t that pushed `label` up most, best first, each
 * once. The strings are the tokens' folded surface forms, borrowed from t
 * (valid until tokens_clear(t)). Returns how many were written; 0 when no
 * word counts for the label. Thread-safe like lexmodel_predict. */
size_t lexmodel_explain(const lexmodel *m, const struct tokens *t, int label,
			const char **words, size_t k);

/* Figures about a trained model, for logs and benchmarks. */
struct lexmodel_stats {
	size_t n_examples;    /* trained on */
	size_t n_features;    /* distinct buckets kept */
	size_t n_weights;     /* non-zero weights stored */
	size_t n_dense;       /* features whose weights are stored densely (one
	                         per label; at least a quarter of the labels have
	                         one) */
	size_t bytes;         /* memory held by the model */
	int solver;           /* solver_type used (the parameter's) */
	int own_solver;       /* 1: lexmodel's own Crammer-Singer solver trained
	                         the model; 0: liblinear */
	double temperature;   /* of the softmax over scores */
	double calib_a, calib_c; /* confidence = sigmoid(a * logit(p) + c) * coverage^oov_exponent */
	size_t n_holdout;     /* examples held out to fit them (fewer than 20: the defaults) */
	double holdout_accuracy; /* top-1 accuracy of the held-out model on them */
};

/* Fills *s. Borrows m. */
void lexmodel_get_stats(const lexmodel *m, struct lexmodel_stats *s);

#endif
