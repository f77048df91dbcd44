/* test_lexmodel.c: unit tests for src/lexmodel.c. A tiny model (four
 * intents, six hand-written examples each) must put held-out paraphrases
 * in the right intent, give ordered confidences in [0, 1], low confidence
 * to unrelated or empty text, explain itself with the word that matters,
 * and refuse bad input with a reason. Larger generated sets check the
 * fitted calibration and, with sixty labels and three solvers, both weight
 * layouts (dense and sparse columns); four hundred labels check the
 * many-labels path of prediction against the full softmax, and that
 * training is deterministic. Crammer-Singer goes to liblinear up to
 * liblinear_max_labels labels and to the own solver above: both must get
 * the labels right. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lexmodel.h"
#include "text.h"
#include "repo_languages.h"

enum { LOST_CARD, PASSWORD, REFUND, HOURS, N_INTENTS };

static const char *const train_text[N_INTENTS][6] = {
	[LOST_CARD] = {"I lost my card", "my card was stolen",
		       "someone stole my wallet with my card in it",
		       "I can't find my bank card anywhere", "report a stolen card",
		       "my debit card is missing"},
	[PASSWORD] = {"I forgot my password", "how do I reset my password",
		      "can't log in, I forgot the password", "change my login password",
		      "the password reset link is not working",
		      "locked out because of a wrong password"},
	[REFUND] = {"I want a refund", "how do I get my money back", "refund my order please",
		    "return an item and get a refund", "when will my refund arrive",
		    "the refund has not arrived yet"},
	[HOURS] = {"what are your opening hours", "when do you open",
		   "what time do you close today", "are you open on sunday",
		   "opening times of the branch", "is the shop open on bank holidays"},
};

struct fixture {
	analyzer *an;
	lexmodel *m;
};

/* Analyses s into *t (the caller clears it). */
static void analyse(analyzer *an, const char *s, struct tokens *t)
{
	assert_int_equal(analyzer_run(an, s, strlen(s), t), 0);
}

static lexmodel *train_tiny(analyzer *an, const struct lexmodel_params *p, int n_labels)
{
	struct tokens ex[N_INTENTS * 6];
	int lab[N_INTENTS * 6];
	char err[128] = "";
	size_t n = 0;

	for (int k = 0; k < N_INTENTS; k++)
		for (int i = 0; i < 6; i++) {
			analyse(an, train_text[k][i], &ex[n]);
			lab[n++] = k;
		}
	lexmodel *m = lexmodel_train(ex, lab, n, n_labels, p, err, sizeof(err));
	for (size_t i = 0; i < n; i++)
		tokens_clear(&ex[i]);
	if (!m)
		fail_msg("training failed: %s", err);
	return m;
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct lexmodel_params p;

	if (!f)
		return -1;
	f->an = analyzer_new(repo_language("en"));
	lexmodel_params_default(&p);
	f->m = train_tiny(f->an, &p, N_INTENTS);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	lexmodel_free(f->m);
	analyzer_free(f->an);
	free(f);
	return 0;
}

/* The k best hits of s, checked for shape: at most k, confidences in
 * [0, 1], scores and confidences non-increasing. Returns how many. */
static size_t predict(const struct fixture *f, const lexmodel *m, const char *s,
		      struct lexmodel_hit *hit, size_t k)
{
	struct tokens t;

	analyse(f->an, s, &t);
	size_t n = lexmodel_predict(m, &t, hit, k);
	tokens_clear(&t);
	assert_true(n <= k);
	for (size_t i = 0; i < n; i++) {
		assert_true(hit[i].confidence >= 0.0 && hit[i].confidence <= 1.0);
		assert_true(hit[i].label >= 0 && hit[i].label < lexmodel_n_labels(m));
		if (i) {
			assert_true(hit[i].score <= hit[i - 1].score);
			assert_true(hit[i].confidence <= hit[i - 1].confidence);
			assert_int_not_equal(hit[i].label, hit[i - 1].label);
		}
	}
	return n;
}

static const struct {
	const char *text;
	int label;
} paraphrases[] = {
	{"somebody stole my card", LOST_CARD},
	{"my card is lost", LOST_CARD},
	{"I forgot the password of my account", PASSWORD},
	{"reset password", PASSWORD},
	{"I would like my money back", REFUND},
	{"where is my refund", REFUND},
	{"what time do you open on saturday", HOURS},
	{"is the branch open today", HOURS},
};

static void test_paraphrases_get_their_intent(void **state)
{
	struct fixture *f = *state;

	for (size_t i = 0; i < sizeof(paraphrases) / sizeof(paraphrases[0]); i++) {
		struct lexmodel_hit hit[N_INTENTS];
		size_t n = predict(f, f->m, paraphrases[i].text, hit, N_INTENTS);
		assert_int_equal(n, N_INTENTS);
		if (hit[0].label != paraphrases[i].label)
			fail_msg("\"%s\": got label %d, want %d", paraphrases[i].text, hit[0].label,
				 paraphrases[i].label);
		assert_true(hit[0].confidence > 0.4);
	}
}

static void test_k_limits_the_hits(void **state)
{
	struct fixture *f = *state;
	struct lexmodel_hit hit[8];

	assert_int_equal(predict(f, f->m, "reset password", hit, 1), 1);
	assert_int_equal(hit[0].label, PASSWORD);
	assert_int_equal(predict(f, f->m, "reset password", hit, 8), N_INTENTS);
	assert_int_equal(predict(f, f->m, "reset password", hit, 0), 0);
}

static void test_unrelated_text_gets_low_confidence(void **state)
{
	struct fixture *f = *state;
	struct lexmodel_hit in[1], out[1];

	predict(f, f->m, "I forgot my password", in, 1);
	predict(f, f->m, "what is the capital of France", out, 1);
	assert_true(out[0].confidence < 0.3);
	assert_true(out[0].confidence < in[0].confidence / 2);
}

static void test_awkward_inputs_are_safe(void **state)
{
	struct fixture *f = *state;
	struct lexmodel_hit hit[N_INTENTS];
	char *big = malloc(4097);

	assert_non_null(big);
	memset(big, 'a', 4096);
	big[4096] = 0;
	const char *inputs[] = {"", "   \t ", "\xF0\x9F\x98\x80\xF0\x9F\x91\x8D", "!!!???", big};
	for (size_t i = 0; i < sizeof(inputs) / sizeof(inputs[0]); i++) {
		size_t n = predict(f, f->m, inputs[i], hit, N_INTENTS);
		assert_int_equal(n, N_INTENTS);
		assert_true(hit[0].confidence < 0.1);
	}
	/* 4 KiB of one real word: one (cut) token, still fine */
	for (size_t i = 0; i + 5 <= 4096; i += 5)
		memcpy(big + i, "card ", 5);
	big[4095] = 0;
	assert_int_equal(predict(f, f->m, big, hit, N_INTENTS), N_INTENTS);
	free(big);
}

static void test_explain_names_the_word(void **state)
{
	struct fixture *f = *state;
	const char *words[4];
	struct tokens t;

	analyse(f->an, "I forgot my Password", &t);
	size_t n = lexmodel_explain(f->m, &t, PASSWORD, words, 4);
	assert_true(n >= 1 && n <= 4);
	assert_string_equal(words[0], "password"); /* folded surface form */
	for (size_t i = 1; i < n; i++)
		assert_string_not_equal(words[i], words[0]);
	/* k bounds the answer; a label out of range explains nothing */
	assert_int_equal(lexmodel_explain(f->m, &t, PASSWORD, words, 1), 1);
	assert_int_equal(lexmodel_explain(f->m, &t, PASSWORD, words, 0), 0);
	assert_int_equal(lexmodel_explain(f->m, &t, N_INTENTS, words, 4), 0);
	assert_int_equal(lexmodel_explain(f->m, &t, -1, words, 4), 0);
	tokens_clear(&t);

	analyse(f->an, "when will my refund arrive, refund please", &t);
	n = lexmodel_explain(f->m, &t, REFUND, words, 4);
	assert_true(n >= 1);
	assert_string_equal(words[0], "refund");
	tokens_clear(&t);

	analyse(f->an, "", &t);
	assert_int_equal(lexmodel_explain(f->m, &t, REFUND, words, 4), 0);
	tokens_clear(&t);
}

static void test_bad_input_is_refused(void **state)
{
	struct fixture *f = *state;
	struct lexmodel_params p;
	struct tokens t;
	char err[128];
	int lab = 0;

	lexmodel_params_default(&p);
	err[0] = 0;
	assert_null(lexmodel_train(NULL, NULL, 0, 4, &p, err, sizeof(err)));
	assert_non_null(strstr(err, "no examples"));

	analyse(f->an, "hello", &t);
	lab = 4;
	err[0] = 0;
	assert_null(lexmodel_train(&t, &lab, 1, 4, &p, err, sizeof(err)));
	assert_non_null(strstr(err, "out of range"));
	lab = 0;
	err[0] = 0;
	assert_null(lexmodel_train(&t, &lab, 1, 0, &p, err, sizeof(err)));
	assert_true(err[0] != 0);
	p.c = 0;
	err[0] = 0;
	assert_null(lexmodel_train(&t, &lab, 1, 1, &p, err, sizeof(err)));
	assert_true(err[0] != 0);
	lexmodel_params_default(&p);
	p.hash_bits = 40;
	assert_null(lexmodel_train(&t, &lab, 1, 1, &p, err, sizeof(err)));
	lexmodel_params_default(&p);
	p.liblinear_max_labels = -1;
	assert_null(lexmodel_train(&t, &lab, 1, 1, &p, err, sizeof(err)));
	/* a NULL err is allowed */
	assert_null(lexmodel_train(&t, &lab, 1, 1, &p, NULL, 0));
	tokens_clear(&t);
}

static void test_single_example_and_unused_labels(void **state)
{
	struct fixture *f = *state;
	struct lexmodel_params p;
	struct lexmodel_hit hit[3];
	struct tokens t;
	char err[128];
	int lab = 1;

	lexmodel_params_default(&p);
	analyse(f->an, "reset my password", &t);
	lexmodel *m = lexmodel_train(&t, &lab, 1, 3, &p, err, sizeof(err));
	tokens_clear(&t);
	assert_non_null(m);
	/* labels 0 and 2 had no examples: never predicted */
	assert_int_equal(predict(f, m, "reset my password", hit, 3), 1);
	assert_int_equal(hit[0].label, 1);
	lexmodel_free(m);
}

static void test_one_vs_rest_agrees(void **state)
{
	struct fixture *f = *state;
	struct lexmodel_params p;

	lexmodel_params_default(&p);
	p.solver = lexmodel_solver_from_name("L2R_L2LOSS_SVC_DUAL");
	assert_true(p.solver >= 0);
	lexmodel *m = train_tiny(f->an, &p, N_INTENTS + 1); /* one unused label */
	for (size_t i = 0; i < sizeof(paraphrases) / sizeof(paraphrases[0]); i++) {
		struct lexmodel_hit hit[N_INTENTS + 1];
		assert_int_equal(predict(f, m, paraphrases[i].text, hit, N_INTENTS + 1), N_INTENTS);
		assert_int_equal(hit[0].label, paraphrases[i].label);
	}
	lexmodel_free(m);
	assert_int_equal(lexmodel_solver_from_name("NO_SUCH_SOLVER"), -1);
}

/* A few labels: liblinear's MCSVM_CS trains, and twice gives the same
 * model (rand() is seeded). With the threshold at 0 the own solver trains
 * the same examples, and agrees. */
static void test_few_labels_train_with_liblinear(void **state)
{
	struct fixture *f = *state;
	struct lexmodel_params p;
	struct lexmodel_stats st;

	lexmodel_get_stats(f->m, &st);
	assert_int_equal(st.own_solver, 0);
	assert_int_equal(st.solver, lexmodel_solver_from_name("MCSVM_CS"));

	lexmodel_params_default(&p);
	lexmodel *again = train_tiny(f->an, &p, N_INTENTS);
	p.liblinear_max_labels = 0;
	lexmodel *own = train_tiny(f->an, &p, N_INTENTS);
	lexmodel_get_stats(own, &st);
	assert_int_equal(st.own_solver, 1);
	for (size_t i = 0; i < sizeof(paraphrases) / sizeof(paraphrases[0]); i++) {
		struct lexmodel_hit a[N_INTENTS], b[N_INTENTS], c[N_INTENTS];
		assert_int_equal(predict(f, f->m, paraphrases[i].text, a, N_INTENTS), N_INTENTS);
		assert_int_equal(predict(f, again, paraphrases[i].text, b, N_INTENTS), N_INTENTS);
		assert_int_equal(predict(f, own, paraphrases[i].text, c, N_INTENTS), N_INTENTS);
		assert_int_equal(a[0].label, paraphrases[i].label);
		assert_int_equal(c[0].label, paraphrases[i].label);
		for (int j = 0; j < N_INTENTS; j++) {
			assert_int_equal(a[j].label, b[j].label);
			assert_true(a[j].score == b[j].score && a[j].confidence == b[j].confidence);
		}
	}
	lexmodel_free(again);
	lexmodel_free(own);
}

/* Enough examples for the held-out calibration to be fitted (not just the
 * prior): generated from templates, four intents. */
static void test_calibration_is_fitted(void **state)
{
	struct fixture *f = *state;
	static const char *const carrier[] = {
		"%s", "how do I %s", "I want to %s", "please %s now", "can you %s for me",
		"help me %s", "I need to %s today", "why can't I %s", "is it possible to %s",
		"%s asap", "I would like to %s", "%s please",
	};
	static const char *const what[N_INTENTS][3] = {
		{"report my lost card", "block my stolen card", "freeze the missing card"},
		{"reset my password", "change the password", "recover my login password"},
		{"get a refund", "get my money back", "refund the order"},
		{"know the opening hours", "know when you open", "check the closing time"},
	};
	enum { NC = sizeof(carrier) / sizeof(carrier[0]) };
	struct tokens ex[N_INTENTS * NC * 3];
	int lab[N_INTENTS * NC * 3];
	size_t n = 0;
	char buf[128], err[128];
	struct lexmodel_params p;
	struct lexmodel_stats st;

	for (int k = 0; k < N_INTENTS; k++)
		for (int c = 0; c < NC; c++)
			for (int w = 0; w < 3; w++) {
				snprintf(buf, sizeof(buf), carrier[c], what[k][w]);
				analyse(f->an, buf, &ex[n]);
				lab[n++] = k;
			}
	lexmodel_params_default(&p);
	lexmodel *m = lexmodel_train(ex, lab, n, N_INTENTS, &p, err, sizeof(err));
	for (size_t i = 0; i < n; i++)
		tokens_clear(&ex[i]);
	assert_non_null(m);
	lexmodel_get_stats(m, &st);
	assert_int_equal(st.n_examples, n);
	assert_true(st.n_holdout >= 20);
	assert_true(isfinite(st.temperature) && st.temperature > 0);
	assert_true(st.calib_a > 0);

	struct lexmodel_hit hit[N_INTENTS];
	predict(f, m, "my card was stolen, block it", hit, N_INTENTS);
	assert_int_equal(hit[0].label, LOST_CARD);
	assert_true(hit[0].confidence > 0.5);
	predict(f, m, "who won the football world cup", hit, N_INTENTS);
	assert_true(hit[0].confidence < 0.3);
	lexmodel_free(m);
}

/* Sixty intents, each a (verb, thing) pair: with that many labels most
 * features hold weights for a few labels only (the sparse layout), and
 * those must count as much as the dense ones. */
static void test_many_labels(void **state)
{
	struct fixture *f = *state;
	static const char *const thing[] = {
		"pizza", "guitar", "volcano", "tractor", "saxophone", "umbrella",
		"penguin", "lantern", "blanket", "compass", "hammock", "kettle",
	};
	static const char *const verb[] = {"order", "repair", "return", "paint", "insure"};
	static const char *const carrier[] = {
		"I want to %s the %s", "%s my %s", "can you %s a %s for me",
		"how much to %s the %s",
	};
	enum {
		NT = sizeof(thing) / sizeof(thing[0]), NV = sizeof(verb) / sizeof(verb[0]),
		NL = NT * NV, NC = sizeof(carrier) / sizeof(carrier[0]),
	};
	struct tokens ex[NL * NC];
	int lab[NL * NC];
	size_t n = 0;
	char buf[128], err[128];
	struct lexmodel_params p;

	for (int k = 0; k < NL; k++)
		for (int c = 0; c < NC; c++) {
			snprintf(buf, sizeof(buf), carrier[c], verb[k % NV], thing[k / NV]);
			analyse(f->an, buf, &ex[n]);
			lab[n++] = k;
		}
	/* Crammer-Singer and L2 one-vs-rest give weights for nearly every
	 * label on so little data; L1-regularised one-vs-rest gives few */
	static const char *const solver[] = {"MCSVM_CS", "L2R_L2LOSS_SVC_DUAL", "L1R_L2LOSS_SVC"};
	for (size_t s = 0; s < sizeof(solver) / sizeof(solver[0]); s++) {
		lexmodel_params_default(&p);
		p.solver = lexmodel_solver_from_name(solver[s]);
		lexmodel *m = lexmodel_train(ex, lab, n, NL, &p, err, sizeof(err));
		struct lexmodel_stats st;
		assert_non_null(m);
		lexmodel_get_stats(m, &st);
		if (s == 2)
			assert_true(st.n_dense < st.n_features / 2); /* mostly sparse columns */
		for (int k = 0; k < NL; k++) {
			struct lexmodel_hit hit[3];
			snprintf(buf, sizeof(buf), "please %s this %s today", verb[k % NV], thing[k / NV]);
			assert_int_equal(predict(f, m, buf, hit, 3), 3);
			if (hit[0].label != k)
				fail_msg("\"%s\": got label %d, want %d", buf, hit[0].label, k);
			/* the reason is the verb or the thing, never the filler */
			const char *words[2];
			struct tokens t;
			analyse(f->an, buf, &t);
			assert_true(lexmodel_explain(m, &t, k, words, 2) >= 1);
			if (strcmp(words[0], verb[k % NV]) && strcmp(words[0], thing[k / NV]))
				fail_msg("\"%s\": explained by \"%s\"", buf, words[0]);
			tokens_clear(&t);
		}
		lexmodel_free(m);
	}
	for (size_t i = 0; i < n; i++)
		tokens_clear(&ex[i]);
}

/* Made-up word number k: three syllables, so the analyzer's stemmer and
 * stop words leave it alone. */
static void made_up(char *buf, size_t cap, unsigned k)
{
	static const char *const syl[] = {"ka", "lo", "mi", "ne", "ru", "sa", "ti", "vo",
					  "zen", "bar", "cor", "dal", "fin", "gor"};
	enum { NS = sizeof(syl) / sizeof(syl[0]) };
	snprintf(buf, cap, "%s%s%s", syl[k % NS], syl[(k / NS) % NS], syl[(k / NS / NS) % NS]);
}

/* Many labels: 20 x 20 intents, each a (verb, thing) pair of made-up
 * words, with a made-up word of its own in half its examples. The solver
 * keeps dense rows for the words many examples have and (label, weight)
 * lists for the rest; prediction of a text that only has rare words
 * touches the few labels those have weights for and takes the others from
 * their biases, which must give the same answer as scoring every label:
 * the confidences of all 400 hits must follow from their scores through
 * the fitted temperature and Platt scaling. */
enum { MV = 20, MT = 20, ML = MV * MT, MC = 4 };

static const char *const many_carrier[MC] = {
	"I want to %s the %s %s", "%s my %s", "can you %s a %s for me %s", "how much to %s the %s",
};

/* Intent k's verb, thing and own word. */
static void many_words(int k, char *v, char *t, char *o, size_t cap)
{
	made_up(v, cap, (unsigned)(k % MV));
	made_up(t, cap, (unsigned)(MV + k / MV));
	made_up(o, cap, (unsigned)(MV + MT + 3 * k)); /* < 14^3: all distinct */
}

static lexmodel *train_many(const struct fixture *f, const struct lexmodel_params *p)
{
	struct tokens *ex = calloc(ML * MC, sizeof(*ex));
	int *lab = calloc(ML * MC, sizeof(*lab));
	char buf[128], v[32], t[32], o[32], err[128] = "";
	size_t n = 0;

	assert_non_null(ex);
	assert_non_null(lab);
	for (int k = 0; k < ML; k++) {
		many_words(k, v, t, o, sizeof(v));
		for (int c = 0; c < MC; c++) {
			snprintf(buf, sizeof(buf), many_carrier[c], v, t, o);
			analyse(f->an, buf, &ex[n]);
			lab[n++] = k;
		}
	}
	lexmodel *m = lexmodel_train(ex, lab, n, ML + 1, p, err, sizeof(err)); /* one unused */
	for (size_t i = 0; i < n; i++)
		tokens_clear(&ex[i]);
	free(ex);
	free(lab);
	if (!m)
		fail_msg("training failed: %s", err);
	return m;
}

static void test_many_labels_predict_matches_full_softmax(void **state)
{
	struct fixture *f = *state;
	struct lexmodel_params p;
	struct lexmodel_stats st;
	struct lexmodel_hit *all = calloc(ML + 1, sizeof(*all)), one[1];
	char buf[128], v[32], t[32], o[32];

	assert_non_null(all);
	lexmodel_params_default(&p);
	p.char_max = 0; /* character n-grams of made-up words are all alike */
	lexmodel *m = train_many(f, &p);
	lexmodel_get_stats(m, &st);
	assert_int_equal(st.own_solver, 1); /* 400 labels > liblinear_max_labels */
	assert_true(st.n_holdout >= 20);
	assert_true(st.n_dense < st.n_features / 4); /* mostly sparse columns */
	for (int k = 0; k < ML; k += 7) {
		many_words(k, v, t, o, sizeof(v));
		for (int form = 0; form < 2; form++) {
			if (form)
				snprintf(buf, sizeof(buf), "how much to %s the %s", v, t);
			else
				snprintf(buf, sizeof(buf), "%s", o);
			assert_int_equal(predict(f, m, buf, one, 1), 1);
			if (one[0].label != k)
				fail_msg("\"%s\": got label %d, want %d", buf, one[0].label, k);
			/* every label: the unused one is never a hit */
			assert_int_equal(predict(f, m, buf, all, ML + 1), ML);
			assert_int_equal(all[0].label, one[0].label);
			assert_true(all[0].score == one[0].score);
			assert_true(fabs(all[0].confidence - one[0].confidence) < 1e-12);
			/* the softmax over all scores, in full; every content word is
			 * known, so coverage is 1 */
			double mx = all[0].score, z = 0;
			for (int i = 0; i < ML; i++)
				z += exp((all[i].score - mx) / st.temperature);
			for (int i = 0; i < ML; i++) {
				assert_int_not_equal(all[i].label, ML);
				double q = exp((all[i].score - mx) / st.temperature) / z;
				q = q < 1e-6 ? 1e-6 : q > 1 - 1e-6 ? 1 - 1e-6 : q;
				double want = 1 / (1 + exp(-(st.calib_a * log(q / (1 - q)) + st.calib_c)));
				if (fabs(all[i].confidence - want) > 1e-6)
					fail_msg("\"%s\" hit %d: confidence %g, softmax says %g", buf, i,
						 all[i].confidence, want);
			}
		}
	}
	lexmodel_free(m);
	free(all);
}

/* The same examples give the same model: the solver's randomness is its
 * own and seeded, whichever thread trains which model. */
static void test_training_is_deterministic(void **state)
{
	struct fixture *f = *state;
	struct lexmodel_params p;
	struct lexmodel_hit a[5], b[5];
	struct lexmodel_stats sa, sb;

	lexmodel_params_default(&p);
	lexmodel *m1 = train_many(f, &p), *m2 = train_many(f, &p);
	lexmodel_get_stats(m1, &sa);
	lexmodel_get_stats(m2, &sb);
	assert_int_equal(sa.n_weights, sb.n_weights);
	assert_true(sa.temperature == sb.temperature && sa.calib_a == sb.calib_a);
	static const char *const q[] = {"kaloka the zenka", "how much to mimi", "cancel everything"};
	for (size_t i = 0; i < sizeof(q) / sizeof(q[0]); i++) {
		assert_int_equal(predict(f, m1, q[i], a, 5), 5);
		assert_int_equal(predict(f, m2, q[i], b, 5), 5);
		for (int j = 0; j < 5; j++) {
			assert_int_equal(a[j].label, b[j].label);
			assert_true(a[j].score == b[j].score && a[j].confidence == b[j].confidence);
		}
	}
	lexmodel_free(m1);
	lexmodel_free(m2);
}

/* Without room for dense rows the solver keeps every column's weights in
 * lists: slower, and the same model up to rounding. */
static void test_dense_budget_changes_nothing(void **state)
{
	struct fixture *f = *state;
	struct lexmodel_params p;
	struct lexmodel_hit a[3], b[3];
	char buf[128], v[32], t[32], o[32];

	lexmodel_params_default(&p);
	lexmodel *m1 = train_many(f, &p);
	p.solver_memory_mb = 0;
	lexmodel *m2 = train_many(f, &p);
	for (int k = 0; k < ML; k += 13) {
		many_words(k, v, t, o, sizeof(v));
		snprintf(buf, sizeof(buf), "can you %s the %s", v, t);
		assert_int_equal(predict(f, m1, buf, a, 3), 3);
		assert_int_equal(predict(f, m2, buf, b, 3), 3);
		assert_int_equal(a[0].label, k);
		assert_int_equal(b[0].label, k);
		assert_true(fabs(a[0].score - b[0].score) < 1e-3);
		assert_true(fabs(a[0].confidence - b[0].confidence) < 1e-3);
	}
	lexmodel_free(m1);
	lexmodel_free(m2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_paraphrases_get_their_intent),
		cmocka_unit_test(test_k_limits_the_hits),
		cmocka_unit_test(test_unrelated_text_gets_low_confidence),
		cmocka_unit_test(test_awkward_inputs_are_safe),
		cmocka_unit_test(test_explain_names_the_word),
		cmocka_unit_test(test_bad_input_is_refused),
		cmocka_unit_test(test_single_example_and_unused_labels),
		cmocka_unit_test(test_one_vs_rest_agrees),
		cmocka_unit_test(test_few_labels_train_with_liblinear),
		cmocka_unit_test(test_calibration_is_fitted),
		cmocka_unit_test(test_many_labels),
		cmocka_unit_test(test_many_labels_predict_matches_full_softmax),
		cmocka_unit_test(test_training_is_deterministic),
		cmocka_unit_test(test_dense_budget_changes_nothing),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
