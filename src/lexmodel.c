/* lexmodel.c: the intent matcher's lexical model. See lexmodel.h.
 *
 * Design note
 *
 * Features (extract()). For each token of text.h's analysis: its stem, and
 * its stem paired with the next token's (unigrams and bigrams; stop words
 * are kept: "why", "not", "how" tell intents apart); and the character
 * n-grams of 2 to 4 code points of the folded word framed as "<word>",
 * which carry misspellings, inflections the stemmer misses and numbers.
 * Each is hashed with 64-bit FNV-1a (a different start per kind), xor-folded
 * to hash_bits bits (2^20 buckets). Only buckets some training example has
 * become model columns (slot[] maps bucket -> column), so memory follows the
 * training vocabulary, not 2^hash_bits x labels.
 *
 * Weighting (vectorize()). (1 + ln tf) x smoothed IDF, ln((1 + N)/(1 + df))
 * + 1. The word block and the character block are L2-normalised apart and
 * joined with equal weight, then the row is L2-normalised. A bucket the model
 * never saw has no column but keeps its weight (the largest IDF) in the
 * norms: a text made mostly of unknown words gets small values on the few it
 * shares with the model, hence small scores and a flat softmax.
 *
 * Solver. A Crammer-Singer multi-class SVM, C = 1, eps = 0.3, a bias
 * feature. Chosen by 10-fold cross-validation on Banking77's training
 * split only (bench/intent-eval --cv 10): C in {0.5, 1, 2}, one-vs-rest
 * L2-loss SVM (C 0.25..4), L1-loss SVM, logistic regression (dual),
 * character n-grams 1-5, 2-3, 2-4, 2-5, 2-6, 3-5 or none, block weights,
 * raw TF, no IDF, min_df 2, 2^18 buckets: everything with both blocks
 * lands within half a point (90.5-91.3%); without character n-grams or
 * bigrams about a point lower. Crammer-Singer was as accurate as
 * one-vs-rest, a third faster, and far better with many labels of few
 * examples (synthetic 1000 intents x 10 examples: 97.8% against 93.9%).
 *
 * Trainer (cs_liblinear(), cs_train()). liblinear's MCSVM_CS trains it up
 * to liblinear_max_labels = 200 labels; above, lexmodel's own solver,
 * cs_train(), because liblinear's does not scale with labels: it keeps
 * the weights (features x labels) and the dual variables (examples x
 * labels) dense in doubles, starts every example against every label, and
 * sorts all labels in each step. Measured with bench/intent-eval, build
 * (held-out and final model) on the two-core VM, busy, so CPU seconds:
 *
 *   synthetic, 10 examples     liblinear               cs_train()
 *   per intent            CPU s  peak RSS  top-1   CPU s  peak RSS  top-1
 *   100 intents            0.53     31 MB  92.0%    0.32     31 MB  91.3%
 *   200                    1.61     59 MB  95.3%    0.86     49 MB  95.5%
 *   400                    5.77    140 MB  98.1%    2.23     88 MB  98.2%
 *   1000                   21.7    556 MB  98.5%     6.4    214 MB  98.3%
 *   Banking77 (77 labels,  2.33    148 MB  91.82%   1.68    137 MB  91.95%
 *    10,003 examples)           (ECE 0.016)              (ECE 0.012)
 *
 * Both solve the same problem to the same tolerance; the models differ
 * by the solvers' random order (weights kept after pruning within 0.5%,
 * accuracy within noise). liblinear's cost grows with examples x labels and
 * its memory with features x labels: up to 200 labels it stays under 2 s
 * and 60 MB, so there the well-kept library trains, at about twice the
 * own solver's CPU. At 400 it is 2.6 times slower and past 1,000 labels
 * (22 s, 556 MB per build) unfit for a daemon that retrains on reload.
 * The threshold counts labels that have examples.
 *
 * cs_train() solves the same dual problem with the same coordinate
 * descent, shrinking and stopping rule, with bookkeeping that follows the
 * labels an example competes with: a working set of labels per example,
 * grown from passes over all labels at most CS_NEW_MAX violators at a
 * time; float weights, dense rows only for features in 8 or more
 * examples, (label, weight) lists for the rest; and its own random
 * numbers, so it has no global state and the held-out and final models
 * train on two threads. 5-fold cross-validation on Banking77's training
 * split, three seeds: 90.73% against liblinear's 90.67%, ECE 0.007 against
 * 0.006 (the seeds alone move it by 0.003). 2-8 violators a visit are
 * about equally fast; 16 or more slower. Both trainers' weights go through
 * the same pruning (emit_row()), gathering and layout (store(), finish()).
 * The other solver types (one-vs-rest) go to liblinear (fit_liblinear()),
 * one binary problem at a time so only one weight vector is dense.
 *
 * Pruning (fit()). A Crammer-Singer model spreads small weights over every
 * label an example competed with, and the frequent features (carrier
 * phrases, their character n-grams) end up with a weight for most labels,
 * each worth a few thousandths of a score. A weight goes when |weight| x
 * the column's mean value in the training rows that have it is below
 * prune = 0.002. Cross-validated on Banking77's training split (three
 * seeds): 0.001 90.74%, 0.002 90.73%, 0.004 90.59%. On synthetic intents
 * of 10 examples (bench/intent-eval --synth) it helps: 1000 intents 97.8%
 * unpruned, then 97.9 / 98.3 / 98.6% for the same three values, with 4.3,
 * 1.8, 0.9 and 0.4 million weights; 250 intents 95.5, 96.0 / 95.9 / 96.7%.
 * 0.002 keeps Banking77 where it was and the weights to a fifth.
 *
 * Layout and prediction (store(), score(), lexmodel_predict()). Weights are
 * stored by column: dense (a weight for every label; one SIMD pass in
 * score()) where at least a quarter of the labels have one, otherwise
 * (label, weight) pairs. score() notes which labels some feature of the
 * text touched. Every other label scores its bias, so predict() takes the
 * best of them from order[] (labels by falling bias) and their softmax
 * mass from zb (the mass of all biases, less that of the touched labels):
 * the cost follows the text's weights and the labels they touch, not the
 * number of labels. When a dense column is touched, or half the labels,
 * it scans all labels as before. The partition function leaves out terms
 * below e^-40 of the largest. explain() does not score at all: it needs
 * one label's weights.
 *
 * Confidence (confidence(), calibrate()). With p = softmax(score / T) of a
 * label:   confidence = sigmoid(a * logit(p) + c) * coverage^0.5.
 * T, a and c are fitted when training: a fifth of each label's examples is
 * held out, a model is trained on the rest and scores them; T minimises
 * their negative log-likelihood, then (a, c) is Platt scaling of "the top
 * label is right" on logit(p_top). The final model is trained on every
 * example meanwhile, on the calling thread, while a second thread trains
 * the held-out model and fits (build time about one training, not 1.8),
 * when cs_train() trains. When liblinear trains the two run one after the
 * other on the calling thread, each after srand(seed), since liblinear
 * draws from the process-wide rand() and the models would otherwise
 * depend on thread timing. Both fits are MAP estimates with a
 * weak prior at Banking77's values, which is all there is below 20 held-out
 * examples. Coverage (coverage()) is the IDF^2-weighted share of the text's
 * content words that the model has seen: in-scope messages have nearly all
 * of them (typos aside), out-of-scope ones often few ("what is the capital
 * of France"), and a text without words has 0. Its exponent is a prior, not
 * fitted: held-out in-scope examples cannot say how likely an unknown word
 * means "out of scope" (fitted on them alone it comes out below zero, since
 * scores already shrink with unknown words). 0.5 was set on a development
 * list of out-of-scope questions (bench/data/oos_en_dev.tsv) against
 * Banking77 training folds: ECE +0.0005, out-of-scope recall at threshold
 * 0.3 from 80% to 92%.
 *
 * Figures (bench/intent-eval, two-core VM, idle; before: liblinear's
 * MCSVM_CS unpruned). 1,000 synthetic intents x 10 examples, cs_train():
 * build 22 s -> 2.9 s wall (5.1 s CPU), peak RSS 574 -> 212 MB (about 95 MB
 * of which are the analysed examples the caller holds), top-1 97.7 ->
 * 98.3%, prediction p50/p99 30/82 -> 17/63 us. Banking77, now trained by
 * liblinear and pruned: see the table above (serial build 2.3 s wall).
 */
#include "lexmodel.h"
#include "xalloc.h"

#include <linear.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------------
 * Parameters
 * ------------------------------------------------------------------------ */

void lexmodel_params_default(struct lexmodel_params *p)
{
	memset(p, 0, sizeof(*p));
	p->c = 1.0;
	p->solver = MCSVM_CS;
	p->liblinear_max_labels = 200;
	p->eps = 0.3;
	p->hash_bits = 20;
	p->word_ngrams = 2;
	p->char_min = 2;
	p->char_max = 4;
	p->char_weight = 1.0;
	p->sublinear_tf = 1;
	p->idf = 1;
	p->min_df = 1;
	p->calib_holdout = 0.2;
	p->oov_exponent = 0.5;
	p->solver_memory_mb = 256;
	p->prune = 0.002;
	p->seed = 0x5eed;
}

static const struct {
	const char *name;
	int solver;
} solvers[] = {
	{"L2R_LR", L2R_LR},
	{"L2R_L2LOSS_SVC_DUAL", L2R_L2LOSS_SVC_DUAL},
	{"L2R_L2LOSS_SVC", L2R_L2LOSS_SVC},
	{"L2R_L1LOSS_SVC_DUAL", L2R_L1LOSS_SVC_DUAL},
	{"MCSVM_CS", MCSVM_CS},
	{"L1R_L2LOSS_SVC", L1R_L2LOSS_SVC},
	{"L1R_LR", L1R_LR},
	{"L2R_LR_DUAL", L2R_LR_DUAL},
};
#define N_SOLVERS (sizeof(solvers) / sizeof(solvers[0]))

int lexmodel_solver_from_name(const char *name)
{
	for (size_t i = 0; i < N_SOLVERS; i++)
		if (!strcmp(solvers[i].name, name))
			return solvers[i].solver;
	return -1;
}

const char *lexmodel_solver_name(int solver)
{
	for (size_t i = 0; i < N_SOLVERS; i++)
		if (solvers[i].solver == solver)
			return solvers[i].name;
	return "?";
}

/* ------------------------------------------------------------------------
 * Allocation: internal allocations abort when memory is exhausted.
 * ------------------------------------------------------------------------ */




static void seterr(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!err || !errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* ------------------------------------------------------------------------
 * Features
 * ------------------------------------------------------------------------ */

enum { KIND_WORD = 1, KIND_BIGRAM = 2, KIND_CHAR = 3 };

_Static_assert(TEXT_TOKENS_MAX <= UINT16_MAX, "token numbers must fit struct occ");

/* One feature occurrence in a text: which bucket, what kind, which token
 * (the first of the two for a bigram). */
struct occ {
	uint32_t bucket;
	uint16_t tok;
	uint8_t kind;
};

/* One distinct (bucket, kind) of a text with its count. */
struct feat {
	uint32_t bucket;
	uint16_t tf;
	uint8_t kind;
};

/* 64-bit FNV-1a (Fowler, Noll, Vo; the IETF draft-eastlake-fnv), reduced to
 * `bits` bits by xor-folding as its authors recommend. Each kind of feature
 * starts from a different state so a word and a bigram never share a hash
 * by construction. */
#define FNV_OFFSET 0xcbf29ce484222325ULL
#define FNV_PRIME 0x100000001b3ULL

static inline uint64_t fnv_add(uint64_t h, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)s[i]) * FNV_PRIME;
	return h;
}

static inline uint64_t fnv_start(int kind)
{
	return (FNV_OFFSET ^ (uint64_t)kind) * FNV_PRIME;
}

static inline uint32_t fold_bits(uint64_t h, unsigned bits)
{
	return (uint32_t)((h >> bits) ^ h) & ((1u << bits) - 1);
}

/* Most occurrences extract() can write for t under p. */
static size_t occ_bound(const struct lexmodel_params *p, const struct tokens *t)
{
	size_t n = 0, sizes = p->char_max ? (size_t)(p->char_max - p->char_min + 1) : 0;

	for (size_t i = 0; i < t->n; i++)
		n += 2 + sizes * (t->v[i].word_len + 2);
	return n;
}

/* Writes the feature occurrences of t into out (occ_bound() entries). */
static size_t extract(const struct lexmodel_params *p, const struct tokens *t, struct occ *out)
{
	size_t n = 0;
	unsigned bits = p->hash_bits;

	for (size_t i = 0; i < t->n; i++) {
		const struct token *tk = &t->v[i];
		uint64_t h = fnv_add(fnv_start(KIND_WORD), tk->stem, tk->stem_len);

		out[n++] = (struct occ){fold_bits(h, bits), (uint16_t)i, KIND_WORD};
		if (p->word_ngrams >= 2 && i + 1 < t->n) {
			const struct token *nx = &t->v[i + 1];
			h = fnv_add(fnv_start(KIND_BIGRAM), tk->stem, tk->stem_len);
			h = fnv_add(h, "\x1f", 1);
			h = fnv_add(h, nx->stem, nx->stem_len);
			out[n++] = (struct occ){fold_bits(h, bits), (uint16_t)i, KIND_BIGRAM};
		}
		if (!p->char_max)
			continue;

		/* "<word>": code point offsets, then every n-gram of min..max
		 * code points, hashed incrementally from each start. */
		char buf[TEXT_TOKEN_MAX + 2];
		uint16_t cp[TEXT_TOKEN_MAX + 3];
		size_t len = tk->word_len < TEXT_TOKEN_MAX ? tk->word_len : TEXT_TOKEN_MAX, ncp = 0;

		buf[0] = '<';
		memcpy(buf + 1, tk->word, len);
		buf[len + 1] = '>';
		len += 2;
		for (size_t b = 0; b < len; b++)
			if (((unsigned char)buf[b] & 0xC0) != 0x80)
				cp[ncp++] = (uint16_t)b;
		cp[ncp] = (uint16_t)len;
		for (size_t s = 0; s < ncp; s++) {
			h = fnv_start(KIND_CHAR);
			for (size_t g = 1; g <= (size_t)p->char_max && s + g <= ncp; g++) {
				h = fnv_add(h, buf + cp[s + g - 1], (size_t)(cp[s + g] - cp[s + g - 1]));
				if (g >= (size_t)p->char_min)
					out[n++] = (struct occ){fold_bits(h, bits), (uint16_t)i, KIND_CHAR};
			}
		}
	}
	return n;
}

/* Size of the table aggregate() needs for nocc occurrences: a power of two
 * at least twice nocc. */
static size_t agg_table_size(size_t nocc)
{
	size_t s = 16;
	while (s < 2 * nocc)
		s *= 2;
	return s;
}

/* Counts the occurrences into distinct (bucket, kind) features, in order of
 * first occurrence (at most nocc of them). When where is not NULL, where[i]
 * gets the feature of occurrence i. tab is scratch of tabsize entries
 * (agg_table_size(nocc)). */
static size_t aggregate(const struct occ *o, size_t nocc, struct feat *out, uint32_t *where,
			int32_t *tab, size_t tabsize)
{
	size_t n = 0, mask = tabsize - 1;

	for (size_t i = 0; i < tabsize; i++)
		tab[i] = -1;
	for (size_t i = 0; i < nocc; i++) {
		uint32_t key = o[i].bucket << 2 | o[i].kind;
		size_t h = (size_t)((key * 0x9E3779B97F4A7C15ULL) >> 32) & mask;
		while (tab[h] >= 0 && (out[tab[h]].bucket != o[i].bucket || out[tab[h]].kind != o[i].kind))
			h = (h + 1) & mask;
		if (tab[h] < 0) {
			tab[h] = (int32_t)n;
			out[n++] = (struct feat){o[i].bucket, 0, o[i].kind};
		}
		if (out[tab[h]].tf < UINT16_MAX)
			out[tab[h]].tf++;
		if (where)
			where[i] = (uint32_t)tab[h];
	}
	return n;
}

/* ------------------------------------------------------------------------
 * The model
 * ------------------------------------------------------------------------ */

/* One weight of a sparse column. */
struct lw {
	uint32_t lab;
	float w;
};

/* Where one column's weights are. A dense column holds a weight for every
 * label at w[off + label]; a sparse one holds n (label, weight) pairs at
 * sw[off..], labels ascending. A column is dense when at least a quarter
 * of the labels have a weight: one vectorisable pass in score() then costs
 * less than scattering that many pairs. */
struct column {
	uint32_t off;
	uint32_t n;             /* weights stored; == n_labels: dense */
};

struct lexmodel {
	struct lexmodel_params p;
	int n_labels;
	int32_t *slot;          /* 2^hash_bits: bucket -> column, or -1 (never seen) */
	size_t n_feat;          /* columns */
	float *idf;             /* n_feat */
	float idf_unseen;       /* idf of a bucket no training example had */
	struct column *col;     /* n_feat */
	float *w;               /* the dense columns' weights, n_w of them */
	struct lw *sw;          /* the sparse columns' weights, n_sw of them */
	size_t n_w, n_sw, n_nonzero;
	float *bias;            /* n_labels: weight of the constant feature;
	                           -HUGE_VALF for a label without examples */
	unsigned char *present; /* n_labels: 1 when the label had examples */
	int n_present;
	/* a label no feature of a text touches scores its bias: predict()
	 * takes those from order[] and their softmax mass from zb */
	uint32_t *order;        /* n_present labels by falling bias, then label */
	float bmax;             /* the largest bias */
	double zb;              /* sum of exp(inv_temp * (bias - bmax)), present labels */
	int solver;             /* the liblinear solver used */
	int own;                /* 1: trained by cs_train(), 0: by liblinear */
	/* confidence = sigmoid(ca * logit(softmax(score * inv_temp)) + cc)
	 *              * coverage^oov_exponent (see calibrate(), confidence()) */
	double inv_temp, ca, cc;
	size_t n_examples, n_holdout;
	double holdout_acc;
};

void lexmodel_free(lexmodel *m)
{
	if (!m)
		return;
	free(m->slot);
	free(m->idf);
	free(m->col);
	free(m->w);
	free(m->sw);
	free(m->order);
	free(m->bias);
	free(m->present);
	free(m);
}

int lexmodel_n_labels(const lexmodel *m)
{
	return m->n_labels;
}

/* One feature of a text, weighted: its column (-1: not in the model) and
 * its value in the L2-normalised row. */
struct cell {
	int32_t col;
	float v;
};

/* Weights the features of one text (sublinear TF, IDF; the word block and
 * the character block each normalised, the character block scaled by
 * char_weight, then the whole row normalised). Buckets the model never saw
 * keep their weight (the highest IDF) in the norms, so a text made mostly of
 * unknown words gets small values on the words it shares with the model,
 * and small scores. out[i] belongs to f[i]. */
static void vectorize(const lexmodel *m, const struct feat *f, size_t nf, struct cell *out)
{
	double ss[2] = {0, 0};

	for (size_t i = 0; i < nf; i++) {
		int32_t col = m->slot[f[i].bucket];
		double tf = f[i].tf == 1 ? 1.0
			    : m->p.sublinear_tf ? 1.0 + log((double)f[i].tf) : (double)f[i].tf;
		double v = tf * (col >= 0 ? m->idf[col] : m->idf_unseen);
		int blk = f[i].kind == KIND_CHAR;

		out[i].col = col;
		out[i].v = (float)v;
		ss[blk] += v * v;
	}
	double sw = ss[0] > 0 ? 1.0 / sqrt(ss[0]) : 0;
	double sc = ss[1] > 0 ? m->p.char_weight / sqrt(ss[1]) : 0;
	double tot = (ss[0] > 0 ? 1.0 : 0) + (ss[1] > 0 ? m->p.char_weight * m->p.char_weight : 0);
	double sn = tot > 0 ? 1.0 / sqrt(tot) : 0;

	for (size_t i = 0; i < nf; i++)
		out[i].v = (float)(out[i].v * (f[i].kind == KIND_CHAR ? sc : sw) * sn);
}

/* s[0..n) += w[0..n) * v, written eight at a time so the compiler's
 * straight-line vectoriser (on at -O2) turns it into SIMD. */
static void axpy(float *restrict s, const float *restrict w, float v, size_t n)
{
	size_t k = 0;

	for (; k + 8 <= n; k += 8) {
		s[k] += w[k] * v;
		s[k + 1] += w[k + 1] * v;
		s[k + 2] += w[k + 2] * v;
		s[k + 3] += w[k + 3] * v;
		s[k + 4] += w[k + 4] * v;
		s[k + 5] += w[k + 5] * v;
		s[k + 6] += w[k + 6] * v;
		s[k + 7] += w[k + 7] * v;
	}
	for (; k < n; k++)
		s[k] += w[k] * v;
}

/* Which labels some feature of a text has a weight for. */
struct touch {
	unsigned char *hit;    /* n_labels, zeroed: 1 when touched */
	uint32_t *v;           /* the touched labels, n of them */
	size_t n;
	int all;               /* a dense column: every label touched */
};

/* Decision values of every label for one weighted text into s (n_labels;
 * labels without examples get -HUGE_VALF). When t is not NULL, records in
 * it the labels some feature has a weight for. */
static void score(const lexmodel *m, const struct cell *c, size_t nc, float *s, struct touch *t)
{
	size_t nl = (size_t)m->n_labels;

	memcpy(s, m->bias, nl * sizeof(*s));
	for (size_t i = 0; i < nc; i++) {
		if (c[i].col < 0)
			continue;
		const struct column *cl = &m->col[c[i].col];
		float v = c[i].v;
		if (cl->n == nl) {
			axpy(s, m->w + cl->off, v, nl);
			if (t)
				t->all = 1;
			continue;
		}
		const struct lw *e = m->sw + cl->off;
		if (!t || t->all) {
			for (size_t j = 0; j < cl->n; j++)
				s[e[j].lab] += e[j].w * v;
			continue;
		}
		for (size_t j = 0; j < cl->n; j++) {
			uint32_t lab = e[j].lab;
			s[lab] += e[j].w * v;
			if (!t->hit[lab]) {
				t->hit[lab] = 1;
				t->v[t->n++] = lab;
			}
		}
	}
}

/* The weight of label on column j. */
static float weight_of(const lexmodel *m, int32_t j, int label)
{
	const struct column *cl = &m->col[j];
	const struct lw *e = m->sw + cl->off;
	size_t a = 0, b = cl->n;

	if (cl->n == (size_t)m->n_labels)
		return m->w[cl->off + (size_t)label];
	while (a < b) {
		size_t mid = (a + b) / 2;
		if (e[mid].lab < (uint32_t)label)
			a = mid + 1;
		else
			b = mid;
	}
	return a < cl->n && e[a].lab == (uint32_t)label ? e[a].w : 0.0f;
}

/* The working memory of one prediction, allocated per call so a shared
 * model stays read-only. */
struct scratch {
	struct occ *occ;
	size_t nocc;
	uint32_t *where;   /* feature of each occurrence */
	struct feat *feat;
	size_t nfeat;
	struct cell *cell;
	int32_t *tab;
	float *s;          /* n_labels scores */
	struct touch touch;
	double cov;
	void *mem;
};

/* How much of t the model knows: the share of its content words (not stop
 * words), each weighted by IDF squared, that some training example had; when
 * t has only stop words, the share of those; 0 for no words. A message about
 * something else is mostly words the model never saw ("capital", "france")
 * even when its function words ("what is the") are familiar. */
static double coverage(const lexmodel *m, const struct tokens *t, const struct scratch *w)
{
	double seen[2] = {0, 0}, all[2] = {0, 0}; /* [0] content words, [1] stop words */

	for (size_t i = 0; i < w->nocc; i++) {
		const struct occ *o = &w->occ[i];
		if (o->kind != KIND_WORD)
			continue;
		int32_t col = w->cell[w->where[i]].col;
		double idf = col >= 0 ? m->idf[col] : m->idf_unseen;
		int s = t->v[o->tok].stop != 0;
		all[s] += idf * idf;
		if (col >= 0)
			seen[s] += idf * idf;
	}
	if (all[0] > 0)
		return seen[0] / all[0];
	return all[1] > 0 ? seen[1] / all[1] : 0.0;
}

/* Runs t through the model into w: its features, weighted, and when
 * scores is set the labels' scores and the coverage. Free w with
 * scratch_free(). */
static void scratch_run(const lexmodel *m, const struct tokens *t, struct scratch *w, int scores)
{
	size_t bound = occ_bound(&m->p, t), ts = agg_table_size(bound);
	size_t nl = (size_t)m->n_labels;
	size_t sz = bound * (sizeof(*w->occ) + sizeof(*w->where) + sizeof(*w->feat) +
			     sizeof(*w->cell)) +
		    ts * sizeof(*w->tab) +
		    nl * (sizeof(*w->s) + sizeof(*w->touch.v) + sizeof(*w->touch.hit)) + 64;
	char *p = w->mem = xmalloc(sz);

	/* carve, widest alignment first */
	w->feat = (struct feat *)p;
	p += bound * sizeof(*w->feat);
	w->occ = (struct occ *)p;
	p += bound * sizeof(*w->occ);
	w->cell = (struct cell *)p;
	p += bound * sizeof(*w->cell);
	w->where = (uint32_t *)p;
	p += bound * sizeof(*w->where);
	w->tab = (int32_t *)p;
	p += ts * sizeof(*w->tab);
	w->s = (float *)p;
	p += nl * sizeof(*w->s);
	w->touch.v = (uint32_t *)p;
	p += nl * sizeof(*w->touch.v);
	w->touch.hit = (unsigned char *)p;
	memset(w->touch.hit, 0, nl);
	w->touch.n = 0;
	w->touch.all = 0;
	w->nocc = extract(&m->p, t, w->occ);
	w->nfeat = aggregate(w->occ, w->nocc, w->feat, w->where, w->tab, ts);
	vectorize(m, w->feat, w->nfeat, w->cell);
	if (!scores)
		return;
	score(m, w->cell, w->nfeat, w->s, &w->touch);
	w->cov = coverage(m, t, w);
}

static void scratch_free(struct scratch *w)
{
	free(w->mem);
}

/* ------------------------------------------------------------------------
 * Confidence
 * ------------------------------------------------------------------------ */

/* The calibration used when there is too little held-out data, and the
 * prior the fit is pulled towards (a MAP estimate: with few held-out
 * examples the result stays near these; with many the data decides).
 * They are the fitted values on Banking77's training split, rounded. */
#define CAL_BETA0 9.0   /* inverse softmax temperature */
#define CAL_A0 0.9      /* Platt slope on logit(p) */
#define CAL_C0 0.0      /* Platt intercept */
#define CAL_PRIOR 5.0   /* weight of the prior, in pseudo-examples */
#define CAL_MIN_HELDOUT 20 /* fewer held-out examples: keep the prior */

#define P_CLAMP 1e-6    /* probabilities are kept in [P_CLAMP, 1 - P_CLAMP] for logits */

static double sigmoid(double x)
{
	return x >= 0 ? 1.0 / (1.0 + exp(-x)) : exp(x) / (1.0 + exp(x));
}

static double logit(double p)
{
	if (p < P_CLAMP)
		p = P_CLAMP;
	if (p > 1 - P_CLAMP)
		p = 1 - P_CLAMP;
	return log(p / (1 - p));
}

/* ln of the softmax denominator of scores s * beta over the labels the
 * model knows (the others score -HUGE_VALF). Terms below e^-40 of the
 * largest are left out: with 10^5 labels they would change it by less
 * than 10^-12, and they are most of the labels when there are many. */
static double log_partition(const lexmodel *m, const float *s, double beta)
{
	size_t nl = (size_t)m->n_labels;
	float mx = -HUGE_VALF;
	double z = 0;

	for (size_t k = 0; k < nl; k++)
		if (s[k] > mx)
			mx = s[k];
	float lo = (float)(mx - 40.0 / beta);
	for (size_t k = 0; k < nl; k++)
		if (s[k] >= lo)
			z += exp(((double)s[k] - mx) * beta);
	return (double)mx * beta + log(z);
}

/* The calibrated confidence of a label whose softmax probability is p, in a
 * text with coverage cov. */
static double confidence(const lexmodel *m, double p, double cov)
{
	return sigmoid(m->ca * logit(p) + m->cc) * pow(cov, m->p.oov_exponent);
}

/* ------------------------------------------------------------------------
 * Prediction
 * ------------------------------------------------------------------------ */

/* Puts (lab, sc) into top[0..*n) (at most k, best first: higher score,
 * then lower label) if it belongs there. */
static void top_insert(struct lexmodel_hit *top, size_t *n, size_t k, int lab, double sc)
{
	if (*n == k && (sc < top[k - 1].score || (sc == top[k - 1].score && lab > top[k - 1].label)))
		return;
	size_t i = *n < k ? (*n)++ : k - 1;
	while (i > 0 && (top[i - 1].score < sc || (top[i - 1].score == sc && top[i - 1].label > lab))) {
		top[i] = top[i - 1];
		i--;
	}
	top[i] = (struct lexmodel_hit){lab, sc, 0};
}

size_t lexmodel_predict(const lexmodel *m, const struct tokens *t, struct lexmodel_hit *top,
			size_t k)
{
	struct scratch w;
	size_t n = 0;
	double beta = m->inv_temp, lz;

	if (!k)
		return 0;
	scratch_run(m, t, &w, 1);
	if (k > (size_t)m->n_present)
		k = (size_t)m->n_present;
	if (w.touch.all || w.touch.n * 2 >= (size_t)m->n_present) {
		for (int lab = 0; lab < m->n_labels; lab++)
			if (m->present[lab] && (n < k || w.s[lab] > top[k - 1].score))
				top_insert(top, &n, k, lab, w.s[lab]);
		lz = log_partition(m, w.s, beta);
	} else {
		/* the touched labels, then the untouched ones best first: their
		 * score is their bias; and the softmax mass of the untouched
		 * is that of all biases less that of the touched */
		const struct touch *tc = &w.touch;
		for (size_t i = 0; i < tc->n; i++)
			if (n < k || w.s[tc->v[i]] >= top[k - 1].score)
				top_insert(top, &n, k, (int)tc->v[i], w.s[tc->v[i]]);
		for (size_t i = 0, took = 0; i < (size_t)m->n_present && took < k; i++) {
			uint32_t lab = m->order[i];
			if (tc->hit[lab])
				continue;
			top_insert(top, &n, k, (int)lab, m->bias[lab]);
			took++;
		}
		double mx = top[0].score, lo = mx - 40.0 / beta, z = 0, zu;
		zu = exp(((double)m->bmax - mx) * beta) * m->zb;
		for (size_t i = 0; i < tc->n; i++) {
			uint32_t lab = tc->v[i];
			if (w.s[lab] >= lo)
				z += exp(((double)w.s[lab] - mx) * beta);
			if (m->bias[lab] >= lo)
				zu -= exp(((double)m->bias[lab] - mx) * beta);
		}
		lz = mx * beta + log(z + (zu > 0 ? zu : 0));
	}
	for (size_t i = 0; i < n; i++)
		top[i].confidence = confidence(m, exp(top[i].score * beta - lz), w.cov);
	scratch_free(&w);
	return n;
}

size_t lexmodel_explain(const lexmodel *m, const struct tokens *t, int label, const char **words,
			size_t k)
{
	struct scratch w;
	size_t n = 0;

	if (!k || label < 0 || label >= m->n_labels || !m->present[label] || !t->n)
		return 0;
	scratch_run(m, t, &w, 0); /* the weights of one label: no scores */
	double *tok = xcalloc(t->n, sizeof(*tok));

	/* Each distinct feature's part of the label's score is shared among
	 * its occurrences; a bigram's half goes to each of its two words. */
	for (size_t i = 0; i < w.nocc; i++) {
		const struct occ *o = &w.occ[i];
		uint32_t f = w.where[i];
		if (w.cell[f].col < 0)
			continue;
		double part = weight_of(m, w.cell[f].col, label) * w.cell[f].v / w.feat[f].tf;
		if (o->kind == KIND_BIGRAM) {
			tok[o->tok] += part / 2;
			if ((size_t)o->tok + 1 < t->n)
				tok[o->tok + 1] += part / 2;
		} else {
			tok[o->tok] += part;
		}
	}
	/* the same word twice counts once, with both parts */
	for (size_t i = 0; i < t->n; i++)
		for (size_t j = i + 1; j < t->n; j++)
			if (tok[j] != 0 && !strcmp(t->v[i].word, t->v[j].word)) {
				tok[i] += tok[j];
				tok[j] = 0;
			}
	/* best first, positive only */
	while (n < k) {
		size_t best = t->n;
		for (size_t i = 0; i < t->n; i++)
			if (tok[i] > 0 && (best == t->n || tok[i] > tok[best]))
				best = i;
		if (best == t->n)
			break;
		words[n++] = t->v[best].word;
		tok[best] = 0;
	}
	free(tok);
	scratch_free(&w);
	return n;
}

void lexmodel_get_stats(const lexmodel *m, struct lexmodel_stats *s)
{
	memset(s, 0, sizeof(*s));
	s->n_examples = m->n_examples;
	s->n_features = m->n_feat;
	s->n_weights = m->n_nonzero;
	for (size_t j = 0; j < m->n_feat; j++)
		s->n_dense += m->col[j].n == (uint32_t)m->n_labels;
	s->bytes = sizeof(*m) + ((size_t)1 << m->p.hash_bits) * sizeof(*m->slot) +
		   m->n_feat * (sizeof(*m->idf) + sizeof(*m->col)) + m->n_w * sizeof(*m->w) +
		   m->n_sw * sizeof(*m->sw) + (size_t)m->n_present * sizeof(*m->order) +
		   (size_t)m->n_labels * (sizeof(*m->bias) + sizeof(*m->present));
	s->solver = m->solver;
	s->own_solver = m->own;
	s->temperature = 1.0 / m->inv_temp;
	s->calib_a = m->ca;
	s->calib_c = m->cc;
	s->n_holdout = m->n_holdout;
	s->holdout_accuracy = m->holdout_acc;
}

/* ------------------------------------------------------------------------
 * Training
 * ------------------------------------------------------------------------ */

/* The training set's features, extracted once: example i's distinct
 * features are f[off[i]] .. f[off[i+1]). */
struct corpus {
	struct feat *f;
	size_t *off;
	const int *labels;
	size_t n;
};

static int cmp_feat(const void *a, const void *b)
{
	const struct feat *x = a, *y = b;

	if (x->bucket != y->bucket)
		return x->bucket < y->bucket ? -1 : 1;
	return (int)x->kind - (int)y->kind;
}

/* Extracts every example's features, each example's sorted by bucket (so
 * a bucket shared by two kinds counts once in its document frequency). */
static void corpus_build(struct corpus *c, const struct lexmodel_params *p,
			 const struct tokens *ex, const int *labels, size_t n)
{
	size_t total = 0, max_bound = 0;

	for (size_t i = 0; i < n; i++) {
		size_t b = occ_bound(p, &ex[i]);
		total += b;
		if (b > max_bound)
			max_bound = b;
	}
	c->f = xmalloc(total * sizeof(*c->f));
	c->off = xmalloc((n + 1) * sizeof(*c->off));
	c->labels = labels;
	c->n = n;
	size_t ts = agg_table_size(max_bound);
	struct occ *o = xmalloc(max_bound * sizeof(*o));
	int32_t *tab = xmalloc(ts * sizeof(*tab));
	size_t used = 0;
	for (size_t i = 0; i < n; i++) {
		size_t no = extract(p, &ex[i], o);
		size_t nf = aggregate(o, no, c->f + used, NULL, tab, agg_table_size(no));
		qsort(c->f + used, nf, sizeof(*c->f), cmp_feat);
		c->off[i] = used;
		used += nf;
	}
	c->off[n] = used;
	free(o);
	free(tab);
	c->f = xrealloc(c->f, used * sizeof(*c->f));
}

static void corpus_free(struct corpus *c)
{
	free(c->f);
	free(c->off);
}

/* A weight of one label on one column, while the columns are gathered. */
struct entry {
	uint32_t col;
	uint32_t lab;
	float w;
};

static void push(struct entry **ent, size_t *n, size_t *cap, size_t col, int lab, double w)
{
	if (*n == *cap) {
		*cap = *cap ? *cap * 2 : 4096;
		*ent = xrealloc(*ent, *cap * sizeof(**ent));
	}
	(*ent)[(*n)++] = (struct entry){(uint32_t)col, (uint32_t)lab, (float)w};
}

/* Sorts the entries by column, stably (a counting sort): gathered label by
 * label, they end up by column, then label. */
static void sort_entries(struct entry **ent, size_t nent, size_t n_feat)
{
	size_t *pos = xcalloc(n_feat + 1, sizeof(*pos));
	struct entry *out = xmalloc(nent * sizeof(*out));

	for (size_t e = 0; e < nent; e++)
		pos[(*ent)[e].col + 1]++;
	for (size_t j = 0; j < n_feat; j++)
		pos[j + 1] += pos[j];
	for (size_t e = 0; e < nent; e++)
		out[pos[(*ent)[e].col]++] = (*ent)[e];
	free(pos);
	free(*ent);
	*ent = out;
}

/* Lays out the gathered weights (sorted by column, then label) in m's
 * columns. Returns -1 when they do not fit 32-bit offsets. */
static int store(lexmodel *m, const struct entry *ent, size_t nent)
{
	size_t nl = (size_t)m->n_labels;

	m->col = xcalloc(m->n_feat, sizeof(*m->col));
	for (size_t e = 0; e < nent; e++)
		m->col[ent[e].col].n++;
	m->n_w = m->n_sw = 0;
	for (size_t j = 0; j < m->n_feat; j++) {
		struct column *cl = &m->col[j];
		if (cl->n && 4 * (size_t)cl->n >= nl) {
			cl->n = (uint32_t)nl;
			cl->off = (uint32_t)m->n_w;
			m->n_w += nl;
		} else {
			cl->off = (uint32_t)m->n_sw;
			m->n_sw += cl->n;
		}
		if (m->n_w > UINT32_MAX - nl || m->n_sw > UINT32_MAX - nl)
			return -1;
	}
	m->w = xcalloc(m->n_w, sizeof(*m->w));
	m->sw = xmalloc(m->n_sw * sizeof(*m->sw));
	m->n_nonzero = nent;
	for (size_t e = 0, k = 0; e < nent; e++) {
		const struct column *cl = &m->col[ent[e].col];
		k = e && ent[e - 1].col == ent[e].col ? k + 1 : 0;
		if (cl->n == nl)
			m->w[cl->off + ent[e].lab] = ent[e].w;
		else
			m->sw[cl->off + k] = (struct lw){ent[e].lab, ent[e].w};
	}
	return 0;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return (x > y) - (x < y);
}

/* What predict() needs about the biases, once the temperature is known:
 * the labels by falling bias and the softmax mass of all biases. */
static void finish(lexmodel *m)
{
	size_t np = 0;
	uint64_t *key = xmalloc((size_t)m->n_present * sizeof(*key));

	m->bmax = -HUGE_VALF;
	for (int lab = 0; lab < m->n_labels; lab++)
		if (m->present[lab] && m->bias[lab] > m->bmax)
			m->bmax = m->bias[lab];
	/* order by falling bias, then rising label: sort keys made of the
	 * bias's rank among floats, reversed, then the label */
	for (int lab = 0; lab < m->n_labels; lab++) {
		if (!m->present[lab])
			continue;
		uint32_t u;
		float b = m->bias[lab];
		memcpy(&u, &b, sizeof(u));
		u = u >> 31 ? ~u : u | 0x80000000u; /* ascending as the floats are */
		key[np++] = (uint64_t)(~u) << 32 | (uint32_t)lab;
	}
	qsort(key, np, sizeof(*key), cmp_u64);
	m->order = xmalloc(np * sizeof(*m->order));
	m->zb = 0;
	for (size_t i = 0; i < np; i++) {
		m->order[i] = (uint32_t)key[i];
		m->zb += exp(((double)m->bias[m->order[i]] - m->bmax) * m->inv_temp);
	}
	free(key);
}

/* ------------------------------------------------------------------------
 * Crammer-Singer solver
 * ------------------------------------------------------------------------ */

/* The training rows of one fit, weighted: row r is col[off[r]..off[r+1])
 * with values val[..], columns ascending, the last one the constant bias
 * column (n_feat, value 1). */
struct rows {
	size_t *off;
	uint32_t *col;
	float *val;
};

/* splitmix64 (Steele, Lea, Flood 2014): the randomness of the held-out
 * split and of the solver's visiting order. */
static uint64_t splitmix64(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* The problem (Crammer and Singer 2001, in the dual form of liblinear's
 * Solver_MCSVM_CS, Keerthi et al. 2008):
 *   min_alpha  1/2 sum_k ||w_k||^2 + sum_i sum_k e_ik alpha_ik
 *   s.t.  sum_k alpha_ik = 0,  alpha_ik <= C if k = y_i, <= 0 otherwise,
 *   w_k = sum_i alpha_ik x_i,  e_ik = 0 if k = y_i, 1 otherwise.
 * Coordinate descent one example (all its alpha_i.) at a time, with
 * liblinear's shrinking and stopping rule (max_k G_ik - min G_ik over the
 * labels not at their bound, G the gradient, below eps on a pass over all
 * examples and labels). What differs is the bookkeeping, so that the cost
 * follows the labels an example competes with rather than all labels:
 *   - each example keeps a working set of labels: its own, those with a
 *     non-zero alpha, and violators found on passes over all labels, at
 *     most CS_NEW_MAX new ones per visit (the strongest); liblinear starts
 *     every example with every label, which is what makes its first passes
 *     cost examples x features x labels and its weights dense;
 *   - weights are float; a column seen in many examples keeps a dense row
 *     (one weight per label), the others a short (label, weight) list;
 *   - the sub-problem's sort is over the working set only;
 *   - its own random numbers (no rand()), so trainings can run on two
 *     threads and give the same model every time. */
#define CS_NEW_MAX 8         /* violators a full visit may add to a working set */
#define CS_MAX_ITER 1000     /* passes */
#define CS_DEAD 1e-7f        /* list weights this small are dropped on full passes */
#define CS_DENSE_DF 8        /* columns in this many examples get dense rows */

struct cs_var {
	double a;          /* alpha_ik */
	uint32_t k;        /* class */
};

struct cs_set {            /* one example's working set; v[0] is its own class */
	struct cs_var *v;
	uint32_t n, cap;
};

struct cs_lw {
	uint32_t k;
	float w;
};

struct cs_list {           /* a column's weights when it has no dense row */
	struct cs_lw *e;
	uint32_t n, cap;
};

struct cs {
	const struct rows *x;
	const uint32_t *y;         /* class of each example, < K */
	size_t l, ncol;            /* examples; columns with the bias */
	uint32_t K;                /* classes */
	double C;
	int32_t *drow;             /* ncol: dense row of a column, or -1 (a list) */
	float *W;                  /* dense rows x K */
	struct cs_list *list;      /* ncol */
	struct cs_set *set;        /* l */
	double *qd;                /* l: ||x_i||^2 */
	/* scratch of one visit, K each */
	float *g;
	int32_t *mark;             /* class -> slot in the working set, or -1 */
	int32_t *dsel;             /* slot -> number of its change, or -1 */
	uint32_t *seen;            /* slot -> stamp of the list that had it */
	double *G, *B, *D, *dv;
	uint32_t *dk, *dslot, *tk;
	float *tg;
	uint32_t stamp;
	uint64_t rs;
};

static void cs_set_push(struct cs_set *st, uint32_t k, double a)
{
	if (st->n == st->cap) {
		st->cap = st->cap ? 2 * st->cap : 8;
		st->v = xrealloc(st->v, st->cap * sizeof(*st->v));
	}
	st->v[st->n++] = (struct cs_var){a, k};
}

static void cs_list_push(struct cs_list *L, uint32_t k, float w)
{
	if (L->n == L->cap) {
		L->cap = L->cap ? 2 * L->cap : 4;
		L->e = xrealloc(L->e, L->cap * sizeof(*L->e));
	}
	L->e[L->n++] = (struct cs_lw){k, w};
}

static int cmp_desc(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x < y) - (x > y);
}

/* Visits example i: refreshes its working set (from every label when
 * full), solves its sub-problem and updates the weights. Raises *stopping
 * to its violation. */
static void cs_visit(struct cs *s, size_t i, int full, double *stopping)
{
	struct cs_set *st = &s->set[i];
	const uint32_t *cj = s->x->col;
	const float *vj = s->x->val;
	const size_t o0 = s->x->off[i], o1 = s->x->off[i + 1];
	const uint32_t K = s->K;
	const double A = s->qd[i], C = s->C;
	double *G = s->G, minG = HUGE_VAL, maxG = -HUGE_VAL;

	for (uint32_t q = 0; q < st->n; q++)
		s->mark[st->v[q].k] = (int32_t)q;
	if (full) {
		float *g = s->g;
		for (uint32_t k = 0; k < K; k++)
			g[k] = 1;
		g[st->v[0].k] = 0;
		for (size_t e = o0; e < o1; e++) {
			int32_t d = s->drow[cj[e]];
			float v = vj[e];
			if (d >= 0) {
				axpy(g, s->W + (size_t)d * K, v, K);
			} else {
				const struct cs_list *L = &s->list[cj[e]];
				for (uint32_t t = 0; t < L->n; t++)
					g[L->e[t].k] += L->e[t].w * v;
			}
		}
		for (uint32_t q = 0; q < st->n; q++)
			G[q] = g[st->v[q].k];
		for (uint32_t k = 0; k < K; k++)
			if (g[k] > maxG)
				maxG = g[k];
	} else {
		for (uint32_t q = 0; q < st->n; q++)
			G[q] = q ? 1 : 0;
		for (size_t e = o0; e < o1; e++) {
			int32_t d = s->drow[cj[e]];
			double v = vj[e];
			if (d >= 0) {
				const float *row = s->W + (size_t)d * K;
				for (uint32_t q = 0; q < st->n; q++)
					G[q] += row[st->v[q].k] * v;
			} else {
				const struct cs_list *L = &s->list[cj[e]];
				for (uint32_t t = 0; t < L->n; t++) {
					int32_t q = s->mark[L->e[t].k];
					if (q >= 0)
						G[q] += L->e[t].w * v;
				}
			}
		}
		for (uint32_t q = 0; q < st->n; q++)
			if (G[q] > maxG)
				maxG = G[q];
	}
	for (uint32_t q = 0; q < st->n; q++)
		if (st->v[q].a < (q ? 0 : C) && G[q] < minG)
			minG = G[q];

	/* shrink: other labels at their bound (alpha 0) scoring below minG */
	for (uint32_t q = 1; q < st->n;) {
		if (st->v[q].a == 0 && G[q] < minG) {
			s->mark[st->v[q].k] = -1;
			st->n--;
			if (q < st->n) {
				st->v[q] = st->v[st->n];
				G[q] = G[st->n];
				s->mark[st->v[q].k] = (int32_t)q;
			}
		} else {
			q++;
		}
	}
	if (full) {
		/* the strongest violators outside the set join it (a random
		 * start breaks ties, as when all weights are still zero) */
		uint32_t nt = 0, k0 = (uint32_t)(splitmix64(&s->rs) % K);
		for (uint32_t c = 0; c < K; c++) {
			uint32_t k = k0 + c < K ? k0 + c : k0 + c - K;
			float gk = s->g[k];
			if (s->mark[k] >= 0 || !(gk > minG) || (nt == CS_NEW_MAX && gk <= s->tg[nt - 1]))
				continue;
			uint32_t at = nt < CS_NEW_MAX ? nt++ : nt - 1;
			while (at > 0 && s->tg[at - 1] < gk) {
				s->tg[at] = s->tg[at - 1];
				s->tk[at] = s->tk[at - 1];
				at--;
			}
			s->tg[at] = gk;
			s->tk[at] = k;
		}
		for (uint32_t t = 0; t < nt; t++) {
			s->mark[s->tk[t]] = (int32_t)st->n;
			G[st->n] = s->tg[t];
			cs_set_push(st, s->tk[t], 0);
		}
	}
	if (st->n <= 1 || maxG - minG <= 1e-12)
		goto out;
	if (maxG - minG > *stopping)
		*stopping = maxG - minG;

	/* the sub-problem (liblinear's solve_sub_problem) */
	uint32_t n = st->n, r, nz = 0;
	double *B = s->B, *D = s->D;
	for (uint32_t q = 0; q < n; q++) {
		B[q] = G[q] - A * st->v[q].a;
		D[q] = B[q];
	}
	D[0] += A * C;
	if (n > 32) {
		qsort(D, n, sizeof(*D), cmp_desc);
	} else {
		for (uint32_t q = 1; q < n; q++) {
			double t = D[q];
			uint32_t at = q;
			while (at > 0 && D[at - 1] < t) {
				D[at] = D[at - 1];
				at--;
			}
			D[at] = t;
		}
	}
	double beta = D[0] - A * C;
	for (r = 1; r < n && beta < r * D[r]; r++)
		beta += D[r];
	beta /= r;
	for (uint32_t q = 0; q < n; q++) {
		double an = (beta - B[q]) / A, bound = q ? 0 : C;
		if (an > bound)
			an = bound;
		double d = an - st->v[q].a;
		st->v[q].a = an;
		s->dsel[q] = -1;
		if (fabs(d) >= 1e-12) {
			s->dsel[q] = (int32_t)nz;
			s->dk[nz] = st->v[q].k;
			s->dv[nz] = d;
			s->dslot[nz] = q;
			nz++;
		}
	}
	if (!nz)
		goto out;

	/* w_k += d_k x_i */
	for (size_t e = o0; e < o1; e++) {
		int32_t d = s->drow[cj[e]];
		double v = vj[e];
		if (d >= 0) {
			float *row = s->W + (size_t)d * K;
			for (uint32_t z = 0; z < nz; z++)
				row[s->dk[z]] += (float)(s->dv[z] * v);
			continue;
		}
		struct cs_list *L = &s->list[cj[e]];
		if (++s->stamp == 0) {
			memset(s->seen, 0, K * sizeof(*s->seen));
			s->stamp = 1;
		}
		for (uint32_t t = 0; t < L->n; t++) {
			int32_t q = s->mark[L->e[t].k];
			if (q >= 0 && s->dsel[q] >= 0) {
				L->e[t].w += (float)(s->dv[s->dsel[q]] * v);
				s->seen[q] = s->stamp;
			}
		}
		for (uint32_t z = 0; z < nz; z++)
			if (s->seen[s->dslot[z]] != s->stamp)
				cs_list_push(L, s->dk[z], (float)(s->dv[z] * v));
	}
out:
	for (uint32_t q = 0; q < st->n; q++)
		s->mark[st->v[q].k] = -1;
}

/* Drops list weights that went back to (nearly) zero. */
static void cs_compact(struct cs *s)
{
	for (size_t j = 0; j < s->ncol; j++) {
		struct cs_list *L = &s->list[j];
		uint32_t o = 0;
		for (uint32_t t = 0; t < L->n; t++)
			if (fabsf(L->e[t].w) > CS_DEAD)
				L->e[o++] = L->e[t];
		L->n = o;
	}
}

/* Hands the kept weights of column j to emit(j, class, weight, ud), by
 * class: row[k] is class k's weight, K of them. Pruning (see fit()) keeps
 * those of magnitude above cut[j]; the bias column's cut is 0. Both
 * trainers' weights go through here or, for cs_train()'s lists, the same
 * test. */
static void emit_row(const float *row, uint32_t K, size_t j, const float *cut,
		     void (*emit)(size_t col, uint32_t k, float w, void *ud), void *ud)
{
	for (uint32_t k = 0; k < K; k++)
		if (fabsf(row[k]) > cut[j])
			emit(j, k, row[k], ud);
}

static int cmp_u64_desc(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return (x < y) - (x > y);
}

static int cmp_lw(const void *a, const void *b)
{
	const struct cs_lw *x = a, *y = b;
	return (x->k > y->k) - (x->k < y->k);
}

/* Trains on the l rows of x with classes y[] in [0, K) and ncol columns
 * (the bias last); df[j] is how many rows have column j. The bias column
 * and the columns in CS_DENSE_DF or more rows get dense rows, the most
 * frequent first, within dense_bytes. Calls emit(col, class, weight, ud)
 * for every weight of magnitude above cut[col] (cut[ncol - 1] is 0: every
 * non-zero one of the bias), by column, then class. */
static void cs_train(const struct rows *x, const uint32_t *y, size_t l, uint32_t K, size_t ncol,
		     const uint32_t *df, double C, double eps, const float *cut, size_t dense_bytes,
		     uint64_t seed,
		     void (*emit)(size_t col, uint32_t k, float w, void *ud), void *ud)
{
	struct cs s = {.x = x, .y = y, .l = l, .ncol = ncol, .K = K, .C = C};
	size_t *index = xmalloc(l * sizeof(*index)), nd = 0;

	s.rs = seed;
	s.drow = xmalloc(ncol * sizeof(*s.drow));
	/* dense rows: the bias column, then columns by falling df while
	 * they fit */
	{
		size_t maxrows = dense_bytes / ((size_t)K * sizeof(float)), cnt = 0;
		uint64_t *byd = xmalloc(ncol * sizeof(*byd));
		for (size_t j = 0; j < ncol; j++) {
			s.drow[j] = -1;
			if (df[j] >= CS_DENSE_DF || j == ncol - 1)
				byd[cnt++] = (uint64_t)(j == ncol - 1 ? UINT32_MAX : df[j]) << 32 | j;
		}
		qsort(byd, cnt, sizeof(*byd), cmp_u64_desc);
		for (size_t a = 0; a < cnt && (nd < maxrows || !a); a++)
			s.drow[byd[a] & UINT32_MAX] = (int32_t)nd++;
		free(byd);
	}
	s.W = xcalloc(nd * K, sizeof(*s.W));
	s.list = xcalloc(ncol, sizeof(*s.list));
	s.set = xcalloc(l, sizeof(*s.set));
	s.qd = xmalloc(l * sizeof(*s.qd));
	s.g = xmalloc(K * sizeof(*s.g));
	s.tg = xmalloc(CS_NEW_MAX * sizeof(*s.tg));
	s.tk = xmalloc(CS_NEW_MAX * sizeof(*s.tk));
	s.mark = xmalloc(K * sizeof(*s.mark));
	s.dsel = xmalloc(K * sizeof(*s.dsel));
	s.seen = xcalloc(K, sizeof(*s.seen));
	s.G = xmalloc(K * sizeof(*s.G));
	s.B = xmalloc(K * sizeof(*s.B));
	s.D = xmalloc(K * sizeof(*s.D));
	s.dv = xmalloc(K * sizeof(*s.dv));
	s.dk = xmalloc(K * sizeof(*s.dk));
	s.dslot = xmalloc(K * sizeof(*s.dslot));
	for (uint32_t k = 0; k < K; k++)
		s.mark[k] = -1;
	for (size_t i = 0; i < l; i++) {
		double q = 0;
		for (size_t e = x->off[i]; e < x->off[i + 1]; e++)
			q += (double)x->val[e] * x->val[e];
		s.qd[i] = q;
		cs_set_push(&s.set[i], y[i], 0);
		index[i] = i;
	}

	size_t active = l;
	double eps_shrink = eps * 10 > 1 ? eps * 10 : 1;
	int full = 1;
	for (int iter = 0; iter < CS_MAX_ITER; iter++) {
		double stopping = -HUGE_VAL;
		if (full)
			cs_compact(&s);
		for (size_t a = 0; a + 1 < active; a++) {
			size_t b = a + (size_t)(splitmix64(&s.rs) % (active - a)), t = index[a];
			index[a] = index[b];
			index[b] = t;
		}
		for (size_t a = 0; a < active; a++) {
			size_t i = index[a];
			if (!(s.qd[i] > 0))
				continue;
			cs_visit(&s, i, full, &stopping);
			if (s.set[i].n <= 1) {
				index[a--] = index[--active];
				index[active] = i;
			}
		}
		if (stopping < eps_shrink) {
			if (stopping < eps && full)
				break;
			active = l;
			eps_shrink = eps_shrink / 2 > eps ? eps_shrink / 2 : eps;
			full = 1;
		} else {
			full = 0;
		}
	}

	/* the weights, by column then class */
	for (size_t j = 0; j < ncol; j++) {
		if (s.drow[j] >= 0) {
			emit_row(s.W + (size_t)s.drow[j] * K, K, j, cut, emit, ud);
		} else {
			struct cs_list *L = &s.list[j];
			if (L->n > 1)
				qsort(L->e, L->n, sizeof(*L->e), cmp_lw);
			for (uint32_t t = 0; t < L->n; t++)
				if (fabsf(L->e[t].w) > cut[j])
					emit(j, L->e[t].k, L->e[t].w, ud);
		}
	}

	for (size_t j = 0; j < ncol; j++)
		free(s.list[j].e);
	for (size_t i = 0; i < l; i++)
		free(s.set[i].v);
	free(s.list);
	free(s.set);
	free(s.W);
	free(s.drow);
	free(s.qd);
	free(s.g);
	free(s.tg);
	free(s.tk);
	free(s.mark);
	free(s.dsel);
	free(s.seen);
	free(s.G);
	free(s.B);
	free(s.D);
	free(s.dv);
	free(s.dk);
	free(s.dslot);
	free(index);
}

/* ------------------------------------------------------------------------
 * liblinear
 * ------------------------------------------------------------------------ */

/* liblinear's print hook: training says nothing. */
static void quiet(const char *s)
{
	(void)s;
}

/* The l rows of x as liblinear's problem over ncol columns (1-based there;
 * the constant bias column, the last, is an ordinary feature, which
 * prob->bias = 1 tells liblinear). Sets prob's rows and sizes; y stays the
 * caller's. Returns the nodes, to free with free(prob->x) when done. */
static struct feature_node *ll_problem(const struct rows *x, size_t l, size_t ncol,
				       struct problem *prob)
{
	struct feature_node *pool = xmalloc((x->off[l] + l) * sizeof(*pool));
	struct feature_node **xs = xmalloc(l * sizeof(*xs));
	size_t used = 0;

	for (size_t r = 0; r < l; r++) {
		xs[r] = pool + used;
		for (size_t e = x->off[r]; e < x->off[r + 1]; e++)
			pool[used++] = (struct feature_node){(int)x->col[e] + 1, x->val[e]};
		pool[used++] = (struct feature_node){-1, 0};
	}
	*prob = (struct problem){.l = (int)l, .n = (int)ncol, .x = xs, .bias = 1.0};
	return pool;
}

/* liblinear's train() draws from rand(): seeded before each training, so a
 * model depends only on its examples and parameters. */
static struct model *ll_train(const struct problem *prob, const struct parameter *par,
			      uint64_t seed)
{
	set_print_string_function(quiet);
	srand((unsigned)(seed ^ seed >> 32));
	return train(prob, par);
}

/* cs_train()'s problem (the same arguments and output) solved by
 * liblinear's MCSVM_CS instead. Every class must have a row. Returns -1
 * with err set when liblinear refuses the parameters. Not thread-safe:
 * liblinear's print hook and rand() are process-wide. */
static int cs_liblinear(const struct rows *x, const uint32_t *y, size_t l, uint32_t K,
			size_t ncol, const struct lexmodel_params *p, const float *cut,
			void (*emit)(size_t col, uint32_t k, float w, void *ud), void *ud,
			char *err, size_t errlen)
{
	struct problem prob;
	struct feature_node *pool = ll_problem(x, l, ncol, &prob);
	struct parameter par = {.solver_type = MCSVM_CS, .eps = p->eps, .C = p->c};
	double *yd = xmalloc(l * sizeof(*yd));
	uint32_t *at = xmalloc(K * sizeof(*at));
	float *row = xmalloc(K * sizeof(*row));
	int rc = -1;

	for (size_t r = 0; r < l; r++)
		yd[r] = y[r];
	prob.y = yd;
	const char *why = check_parameter(&prob, &par);
	if (why) {
		seterr(err, errlen, "liblinear: %s", why);
		goto out;
	}
	struct model *lm = ll_train(&prob, &par, p->seed);
	if (lm->nr_class != (int)K)
		abort(); /* every class has a row */
	/* liblinear numbers the classes by first appearance: class k's
	 * weight on column j is w[j * K + at[k]] */
	for (uint32_t t = 0; t < K; t++)
		at[(uint32_t)lm->label[t]] = t;
	for (size_t j = 0; j < ncol; j++) {
		for (uint32_t k = 0; k < K; k++)
			row[k] = (float)lm->w[j * K + at[k]];
		emit_row(row, K, j, cut, emit, ud);
	}
	free_and_destroy_model(&lm);
	rc = 0;
out:
	free(pool);
	free(prob.x);
	free(yd);
	free(at);
	free(row);
	return rc;
}

static int cmp_cell(const void *a, const void *b)
{
	const struct cell *x = a, *y = b;
	return (x->col > y->col) - (x->col < y->col);
}

/* One-vs-rest with liblinear (every solver but MCSVM_CS) on the rows x of
 * the examples idx[0..ni) of c: one binary problem at a time, so only one
 * weight vector is dense at once (liblinear's own loop keeps all). Appends
 * the weights to *ent, by label; sets m's biases. Returns -1 with err set
 * when liblinear refuses the parameters. Not thread-safe: liblinear's
 * print hook and rand() are process-wide. */
static int fit_liblinear(lexmodel *m, const struct lexmodel_params *p, const struct rows *x,
			 const float *cut, const struct corpus *c, const size_t *idx, size_t ni,
			 struct entry **ent, size_t *nent, size_t *capent, char *err,
			 size_t errlen)
{
	struct problem prob;
	struct feature_node *pool = ll_problem(x, ni, m->n_feat + 1, &prob);
	double *y = xmalloc(ni * sizeof(*y));
	int rc = -1;

	prob.y = y;
	for (size_t r = 0; r < ni; r++)
		y[r] = c->labels[idx[r]];
	struct parameter par = {
		.solver_type = m->solver, .eps = p->eps, .C = p->c, .p = 0.1,
	};
	const char *why = check_parameter(&prob, &par);
	if (why) {
		seterr(err, errlen, "liblinear: %s", why);
		goto out;
	}
	for (int lab = 0; lab < m->n_labels; lab++) {
		if (!m->present[lab])
			continue;
		for (size_t r = 0; r < ni; r++)
			y[r] = c->labels[idx[r]] == lab ? 1.0 : -1.0;
		struct model *lm = ll_train(&prob, &par, p->seed);
		double sign = lm->label[0] == 1 ? 1.0 : -1.0;
		for (size_t j = 0; j < m->n_feat; j++)
			if (fabs(lm->w[j]) > cut[j])
				push(ent, nent, capent, j, lab, sign * lm->w[j]);
		m->bias[lab] = (float)(sign * lm->w[m->n_feat]);
		free_and_destroy_model(&lm);
	}
	sort_entries(ent, *nent, m->n_feat);
	rc = 0;
out:
	free(pool);
	free(prob.x);
	free(y);
	return rc;
}

/* Where the Crammer-Singer weights go (from cs_train() or cs_liblinear()):
 * the model's bias, or entries. */
struct gather {
	lexmodel *m;
	const uint32_t *label;     /* class -> label */
	struct entry *ent;
	size_t nent, cap;
};

static void gather_one(size_t col, uint32_t k, float w, void *ud)
{
	struct gather *g = ud;

	if (col == g->m->n_feat)
		g->m->bias[g->label[k]] = w;
	else
		push(&g->ent, &g->nent, &g->cap, col, (int)g->label[k], w);
}

/* Trains a model on the examples idx[0..ni) of c (with the default
 * temperature and calibration); own: MCSVM_CS with cs_train() rather than
 * liblinear. Returns NULL with err set when liblinear refuses the
 * parameters or the model is too large. Touches no global state but
 * liblinear's, and that only when liblinear trains (not own). */
static lexmodel *fit(const struct lexmodel_params *p, int n_labels, int own,
		     const struct corpus *c, const size_t *idx, size_t ni, char *err,
		     size_t errlen)
{
	size_t nb = (size_t)1 << p->hash_bits;
	lexmodel *m = xcalloc(1, sizeof(*m));
	uint32_t *df = xcalloc(nb, sizeof(*df)), *cdf = NULL;
	float *cut = NULL;
	struct rows x = {0};
	struct entry *ent = NULL;
	size_t nent = 0, capent = 0;

	m->p = *p;
	m->n_labels = n_labels;
	m->n_examples = ni;
	m->inv_temp = CAL_BETA0;
	m->ca = CAL_A0;
	m->cc = CAL_C0;
	m->present = xcalloc((size_t)n_labels, 1);
	m->bias = xcalloc((size_t)n_labels, sizeof(*m->bias));

	/* document frequencies, columns, IDF */
	for (size_t r = 0; r < ni; r++) {
		size_t i = idx[r];
		uint32_t last = UINT32_MAX;
		for (size_t e = c->off[i]; e < c->off[i + 1]; e++) {
			if (c->f[e].bucket != last)
				df[c->f[e].bucket]++;
			last = c->f[e].bucket;
		}
		if (!m->present[c->labels[i]]) {
			m->present[c->labels[i]] = 1;
			m->n_present++;
		}
	}
	m->slot = xmalloc(nb * sizeof(*m->slot));
	for (size_t b = 0; b < nb; b++)
		if (df[b] >= (uint32_t)p->min_df)
			m->n_feat++;
	if (m->n_feat >= (size_t)INT32_MAX - 2) {
		seterr(err, errlen, "too many features");
		goto err;
	}
	m->idf = xmalloc(m->n_feat * sizeof(*m->idf));
	cdf = xmalloc((m->n_feat + 1) * sizeof(*cdf));
	m->idf_unseen = p->idf ? (float)(log(1.0 + (double)ni) + 1.0) : 1.0f;
	for (size_t b = 0, j = 0; b < nb; b++) {
		if (df[b] >= (uint32_t)p->min_df) {
			m->slot[b] = (int32_t)j;
			cdf[j] = df[b];
			m->idf[j++] = p->idf ? (float)(log((1.0 + (double)ni) / (1.0 + df[b])) + 1.0)
					     : 1.0f;
		} else {
			m->slot[b] = -1;
		}
	}
	cdf[m->n_feat] = (uint32_t)ni; /* the bias column */
	free(df);
	df = NULL;

	/* the rows: weighted features by column, then the constant bias
	 * column n_feat */
	size_t total = 0, maxf = 0;
	for (size_t r = 0; r < ni; r++) {
		size_t k = c->off[idx[r] + 1] - c->off[idx[r]];
		total += k + 1;
		if (k > maxf)
			maxf = k;
	}
	x.off = xmalloc((ni + 1) * sizeof(*x.off));
	x.col = xmalloc(total * sizeof(*x.col));
	x.val = xmalloc(total * sizeof(*x.val));
	struct cell *cells = xmalloc((maxf ? maxf : 1) * sizeof(*cells));
	size_t used = 0;
	for (size_t r = 0; r < ni; r++) {
		size_t i = idx[r], k = c->off[i + 1] - c->off[i], n = 0;
		vectorize(m, c->f + c->off[i], k, cells);
		for (size_t e = 0; e < k; e++)
			if (cells[e].col >= 0)
				cells[n++] = cells[e];
		qsort(cells, n, sizeof(*cells), cmp_cell);
		x.off[r] = used;
		/* two kinds hashed into one bucket: one column, values summed */
		for (size_t e = 0; e < n; e++) {
			if (used > x.off[r] && x.col[used - 1] == (uint32_t)cells[e].col) {
				x.val[used - 1] += cells[e].v;
			} else {
				x.col[used] = (uint32_t)cells[e].col;
				x.val[used++] = cells[e].v;
			}
		}
		x.col[used] = (uint32_t)m->n_feat;
		x.val[used++] = 1.0f;
	}
	x.off[ni] = used;
	free(cells);

	/* pruning: a weight goes when its typical part of a score, |weight|
	 * times the column's mean value in the rows that have it, is below
	 * p->prune; cut[j] is the magnitude a weight of column j needs */
	cut = xcalloc(m->n_feat + 1, sizeof(*cut));
	for (size_t e = 0; e < used; e++)
		cut[x.col[e]] += x.val[e];
	for (size_t j = 0; j < m->n_feat; j++)
		cut[j] = cut[j] > 0 ? (float)(p->prune * cdf[j] / cut[j]) : 0;
	cut[m->n_feat] = 0; /* the bias is never pruned */

	m->solver = p->solver;
	m->own = own && p->solver == MCSVM_CS;
	if (m->n_present < 2) {
		/* nothing to separate: the one label always wins */
	} else if (m->solver == MCSVM_CS) {
		/* classes are the present labels in ascending order */
		uint32_t *label = xmalloc((size_t)m->n_present * sizeof(*label));
		int32_t *cls = xmalloc((size_t)n_labels * sizeof(*cls));
		uint32_t *y = xmalloc(ni * sizeof(*y)), K = 0;
		for (int lab = 0; lab < n_labels; lab++) {
			cls[lab] = m->present[lab] ? (int32_t)K : -1;
			if (m->present[lab])
				label[K++] = (uint32_t)lab;
		}
		for (size_t r = 0; r < ni; r++)
			y[r] = (uint32_t)cls[c->labels[idx[r]]];
		struct gather g = {m, label, NULL, 0, 0};
		int rc = 0;
		if (m->own)
			cs_train(&x, y, ni, K, m->n_feat + 1, cdf, p->c, p->eps, cut,
				 (size_t)p->solver_memory_mb << 20, p->seed, gather_one, &g);
		else
			rc = cs_liblinear(&x, y, ni, K, m->n_feat + 1, p, cut, gather_one, &g, err,
					  errlen);
		ent = g.ent;
		nent = g.nent;
		free(label);
		free(cls);
		free(y);
		if (rc)
			goto err;
	} else if (fit_liblinear(m, p, &x, cut, c, idx, ni, &ent, &nent, &capent, err, errlen)) {
		goto err;
	}

	if (store(m, ent, nent)) {
		seterr(err, errlen, "model too large");
		goto err;
	}
	for (int lab = 0; lab < n_labels; lab++)
		if (!m->present[lab])
			m->bias[lab] = -HUGE_VALF;
	free(ent);
	free(cdf);
	free(cut);
	free(x.off);
	free(x.col);
	free(x.val);
	return m;
err:
	free(df);
	free(cdf);
	free(cut);
	free(ent);
	free(x.off);
	free(x.col);
	free(x.val);
	lexmodel_free(m);
	return NULL;
}

/* One held-out example as the calibrator sees it. */
struct heldout {
	float *s;       /* scores of the fold model (n_labels; absent: -HUGE_VAL) */
	int label;      /* the true label */
};

/* Negative log-likelihood of the true labels under softmax(s * beta), plus
 * the prior's penalty on ln(beta). */
static double nll(const lexmodel *fm, const struct heldout *h, size_t nh, double lnbeta)
{
	double t = 0, beta = exp(lnbeta), d = lnbeta - log(CAL_BETA0);

	for (size_t i = 0; i < nh; i++) {
		if (!fm->present[h[i].label])
			continue;
		t += log_partition(fm, h[i].s, beta) - h[i].s[h[i].label] * beta;
	}
	return t + CAL_PRIOR / 2 * d * d;
}

/* Fits the calibration on held-out examples scored by the fold model fm and
 * writes it into fm's calibration fields (copied to the final model):
 *   1. the softmax temperature, by golden-section search on ln(beta)
 *      (the NLL is convex in beta, so unimodal in ln(beta));
 *   2. Platt scaling of the top label's softmax probability: a logistic
 *      regression of "the top label is right" on logit(p_top), by Newton's
 *      method. */
static void calibrate(lexmodel *fm, const struct heldout *h, size_t nh)
{
	double lo = log(1e-1), hi = log(1e3), g = (sqrt(5.0) - 1) / 2;
	double a = hi - g * (hi - lo), b = lo + g * (hi - lo);
	double fa = nll(fm, h, nh, a), fb = nll(fm, h, nh, b);

	fm->n_holdout = nh;
	if (nh < CAL_MIN_HELDOUT)
		return;
	for (int it = 0; it < 50; it++) {
		if (fa < fb) {
			hi = b;
			b = a;
			fb = fa;
			a = hi - g * (hi - lo);
			fa = nll(fm, h, nh, a);
		} else {
			lo = a;
			a = b;
			fa = fb;
			b = lo + g * (hi - lo);
			fb = nll(fm, h, nh, b);
		}
	}
	double beta = exp((lo + hi) / 2);

	/* logit of each held-out example's top probability, and whether the
	 * top label was right */
	double *z = xmalloc(nh * sizeof(*z));
	unsigned char *y = xmalloc(nh);
	size_t right = 0;
	for (size_t i = 0; i < nh; i++) {
		int best = -1;
		for (int k = 0; k < fm->n_labels; k++)
			if (fm->present[k] && (best < 0 || h[i].s[k] > h[i].s[best]))
				best = k;
		z[i] = logit(exp(h[i].s[best] * beta - log_partition(fm, h[i].s, beta)));
		y[i] = best == h[i].label;
		right += y[i];
	}

	double wa = CAL_A0, wc = CAL_C0;
	for (int it = 0; it < 100; it++) {
		/* gradient and Hessian of the NLL plus CAL_PRIOR/2 * distance^2 */
		double ga = CAL_PRIOR * (wa - CAL_A0), gc = CAL_PRIOR * (wc - CAL_C0);
		double haa = CAL_PRIOR, hac = 0, hcc = CAL_PRIOR;
		for (size_t i = 0; i < nh; i++) {
			double p = sigmoid(wa * z[i] + wc), d = p * (1 - p), r = p - y[i];
			ga += r * z[i];
			gc += r;
			haa += d * z[i] * z[i];
			hac += d * z[i];
			hcc += d;
		}
		double det = haa * hcc - hac * hac;
		double sa = (hcc * ga - hac * gc) / det, sc = (haa * gc - hac * ga) / det;
		wa -= sa;
		wc -= sc;
		if (fabs(sa) + fabs(sc) < 1e-10)
			break;
	}
	free(z);
	free(y);
	fm->holdout_acc = (double)right / (double)nh;
	if (!(wa > 0) || !isfinite(wc))
		return; /* degenerate: keep the prior */
	fm->inv_temp = beta;
	fm->ca = wa;
	fm->cc = wc;
}

/* The calibration fit, which may run on a thread of its own: a model of
 * the examples idx[0..ntr) scores the held-out idx[ntr..ntr+nh), and
 * calibrate() fits on those scores. */
struct calib_job {
	const struct lexmodel_params *p;
	int n_labels;
	int own;               /* fit()'s */
	const struct corpus *c;
	const size_t *idx;
	size_t ntr, nh;
	int ok;                /* out: 1 when the fields below are set */
	double inv_temp, ca, cc, holdout_acc;
	size_t n_holdout;
	char err[256];         /* out: why not */
};

static void *calib_run(void *arg)
{
	struct calib_job *j = arg;
	const struct corpus *c = j->c;
	struct cell *cells = NULL;
	size_t capc = 0;

	lexmodel *fm = fit(j->p, j->n_labels, j->own, c, j->idx, j->ntr, j->err, sizeof(j->err));
	if (!fm)
		return NULL;
	struct heldout *h = xcalloc(j->nh, sizeof(*h));
	for (size_t r = 0; r < j->nh; r++) {
		size_t i = j->idx[j->ntr + r], k = c->off[i + 1] - c->off[i];
		if (k > capc) {
			capc = k;
			cells = xrealloc(cells, capc * sizeof(*cells));
		}
		vectorize(fm, c->f + c->off[i], k, cells);
		h[r].s = xmalloc((size_t)j->n_labels * sizeof(*h[r].s));
		score(fm, cells, k, h[r].s, NULL);
		h[r].label = c->labels[i];
	}
	free(cells);
	calibrate(fm, h, j->nh);
	for (size_t r = 0; r < j->nh; r++)
		free(h[r].s);
	free(h);
	j->inv_temp = fm->inv_temp;
	j->ca = fm->ca;
	j->cc = fm->cc;
	j->n_holdout = fm->n_holdout;
	j->holdout_acc = fm->holdout_acc;
	j->ok = 1;
	lexmodel_free(fm);
	return NULL;
}

lexmodel *lexmodel_train(const struct tokens *examples, const int *labels, size_t n,
			 int n_labels, const struct lexmodel_params *p, char *err,
			 size_t errlen)
{
	struct corpus c = {0};
	size_t *idx = NULL, *all = NULL;
	lexmodel *m = NULL;
	struct calib_job job = {.p = p, .n_labels = n_labels};
	pthread_t th;
	int threaded = 0, want = 0;

	if (!n) {
		seterr(err, errlen, "no examples");
		return NULL;
	}
	if (n > (size_t)INT32_MAX / 2) {
		seterr(err, errlen, "too many examples (%zu)", n);
		return NULL;
	}
	if (n_labels <= 0) {
		seterr(err, errlen, "no labels");
		return NULL;
	}
	for (size_t i = 0; i < n; i++)
		if (labels[i] < 0 || labels[i] >= n_labels) {
			seterr(err, errlen, "example %zu: label %d out of range [0, %d)", i, labels[i],
			       n_labels);
			return NULL;
		}
	if (!(p->c > 0) || !(p->eps > 0) || p->hash_bits < 12 || p->hash_bits > 24 ||
	    p->word_ngrams < 1 || p->word_ngrams > 2 || p->char_max < 0 || p->char_max > 8 ||
	    (p->char_max && (p->char_min < 1 || p->char_min > p->char_max)) ||
	    !(p->char_weight > 0) || p->min_df < 1 || !(p->calib_holdout >= 0) ||
	    !(p->oov_exponent >= 0) || p->oov_exponent > 16 || !(p->prune >= 0) ||
	    p->liblinear_max_labels < 0 ||
	    p->calib_holdout > 0.5 || !strcmp(lexmodel_solver_name(p->solver), "?")) {
		seterr(err, errlen, "bad parameters");
		return NULL;
	}

	/* the own solver above liblinear_max_labels labels with examples */
	{
		unsigned char *has = xcalloc((size_t)n_labels, 1);
		int k = 0;
		for (size_t i = 0; i < n; i++) {
			k += !has[labels[i]];
			has[labels[i]] = 1;
		}
		free(has);
		job.own = p->solver == MCSVM_CS && k > p->liblinear_max_labels;
	}

	corpus_build(&c, p, examples, labels, n);
	all = xmalloc(n * sizeof(*all));
	for (size_t i = 0; i < n; i++)
		all[i] = i;

	if (p->calib_holdout > 0) {
		/* hold out round(fraction * count) of each label's examples,
		 * chosen at random, keeping at least one to train on; the
		 * training part goes first in idx, the held-out part after */
		size_t *take = xcalloc((size_t)n_labels, sizeof(*take)), ntr = 0, nh = 0;
		uint64_t rs = p->seed;

		idx = xmalloc(n * sizeof(*idx));
		size_t *perm = xmalloc(n * sizeof(*perm));
		memcpy(perm, all, n * sizeof(*perm));
		for (size_t i = 0; i < n; i++)
			take[labels[i]]++;
		for (int k = 0; k < n_labels; k++) {
			size_t cnt = take[k];
			take[k] = (size_t)floor(p->calib_holdout * (double)cnt + 0.5);
			if (take[k] >= cnt)
				take[k] = cnt ? cnt - 1 : 0;
		}
		for (size_t i = n - 1; i > 0; i--) {
			size_t j = (size_t)(splitmix64(&rs) % (i + 1)), t = perm[i];
			perm[i] = perm[j];
			perm[j] = t;
		}
		for (size_t r = 0; r < n; r++) {
			int lab = labels[perm[r]];
			if (take[lab]) {
				take[lab]--;
				idx[n - 1 - nh++] = perm[r];
			} else {
				idx[ntr++] = perm[r];
			}
		}
		free(perm);
		free(take);
		job.c = &c;
		job.idx = idx;
		job.ntr = ntr;
		job.nh = nh;
		want = nh && ntr;
	}
	/* The own solver keeps no global state, so the calibration model
	 * trains on a second thread while this one trains the final model.
	 * liblinear uses the process-wide rand(): its trainings run one after
	 * the other, each after srand(seed), so a model does not depend on
	 * thread timing. */
	if (want && job.own) {
		/* signals stay with the caller's threads */
		sigset_t block, old;
		sigfillset(&block);
		pthread_sigmask(SIG_SETMASK, &block, &old);
		threaded = !pthread_create(&th, NULL, calib_run, &job);
		pthread_sigmask(SIG_SETMASK, &old, NULL);
	}
	if (want && !threaded)
		calib_run(&job);

	m = fit(p, n_labels, job.own, &c, all, n, err, errlen);
	if (threaded)
		pthread_join(th, NULL);
	if (want && !job.ok) {
		seterr(err, errlen, "%s", job.err);
		goto err;
	}
	if (!m)
		goto err;
	if (job.ok) {
		m->inv_temp = job.inv_temp;
		m->ca = job.ca;
		m->cc = job.cc;
		m->n_holdout = job.n_holdout;
		m->holdout_acc = job.holdout_acc;
	}
	finish(m);
	free(idx);
	free(all);
	corpus_free(&c);
	return m;
err:
	lexmodel_free(m);
	free(idx);
	free(all);
	corpus_free(&c);
	return NULL;
}
