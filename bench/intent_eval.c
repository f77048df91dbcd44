/*
 * intent_eval.c - offline evaluation of the intent matcher's lexical model
 * (src/lexmodel.c).
 *
 *   bench/intent-eval --train FILE --test FILE [--oos-label NAME] [--lang en]
 *   bench/intent-eval --train FILE --cv K [model options]      (model selection)
 *   bench/intent-eval --synth N [--synth-examples E]          (scaling)
 *
 * Files are `text<TAB>label` TSV with a header line; further columns are
 * ignored; a line without a tab or with an empty label is an error
 * (file:line).
 *
 * --train/--test goes through the daemon's own code: each training label
 * becomes an intent, written as the rules file an editor would write
 * (rules/<lang>/NAME.yaml: a name, a label, the lines as examples), parsed by
 * rules_parse() and built into a brain by brain_build(), exactly as the
 * daemon builds rules/ at start-up; classify() then asks
 * brain_understand() and takes the best candidate. The model parameters
 * are then the daemon's (lexmodel_params_default()). --model-only, --cv and
 * --synth train lexmodel_train() directly, with the model options below,
 * for model selection and scaling.
 *
 * Output: one figure per line, `key value`, keys stable so docs can quote
 * them; tables (reliability, threshold sweep) are aligned, one row per
 * line, each row starting with its own key.
 *
 * Measurement contract:
 *   - build_seconds: analysing the training lines and lexmodel_train(),
 *     wall clock; lexmodel_train() may use a second thread (the
 *     calibration model), so build_cpu_seconds, the process CPU time over
 *     the same span, is the single-core equivalent.
 *   - latency: analysis + prediction of one message (classify()), timed
 *     per message with CLOCK_MONOTONIC, one thread, after one untimed pass
 *     over the test set (a daemon answers with a warm model);
 *     predict_p50/p99_us the same for lexmodel_predict() alone (top 5) on
 *     messages analysed beforehand: the model's share.
 *   - peak_rss_kib: getrusage(RUSAGE_SELF) ru_maxrss at the end; it
 *     includes the analysed training lines, which are all held while
 *     lexmodel_train() runs (as the daemon holds them).
 *   - --synth: three fresh lines per intent, made before timing; one
 *     untimed pass, then the timed one, as above.
 *   - Calibration: test lines binned by the top hit's confidence (ten bins
 *     of 0.1); ECE = sum over bins of (lines in bin / lines) * |accuracy -
 *     mean confidence|. In-scope lines only.
 *   - With --oos-label: lines with that label are out of scope. At each
 *     threshold t, an in-scope line is answered when its confidence >= t;
 *     in_scope_accuracy counts the answered and right ones over all
 *     in-scope lines; an out-of-scope line is caught when confidence < t.
 *   - --cv K: stratified K folds of the training file only (the test file
 *     is not read); each fold is trained on the rest and scored.
 */

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "brain.h"
#include "diag.h"
#include "language.h"
#include "lexmodel.h"
#include "rules.h"
#include "text.h"
#include "tsv.h"
#include "xalloc.h"

/* ------------------------------------------------------------------------
 * Small helpers
 * ------------------------------------------------------------------------ */




static double now_s(clockid_t clk)
{
	struct timespec ts;
	clock_gettime(clk, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* ------------------------------------------------------------------------
 * Labels: names <-> dense ids, in order of first appearance
 * ------------------------------------------------------------------------ */

struct labelset {
	char **name;
	size_t n, cap;
	int32_t *tab;     /* open addressing: id or -1 */
	size_t tabcap;    /* power of two */
};

static uint64_t hash_str(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	while (*s)
		h = (h ^ (unsigned char)*s++) * 0x100000001b3ULL;
	return h;
}

static int labelset_find(const struct labelset *ls, const char *s)
{
	if (!ls->tabcap)
		return -1;
	for (size_t i = hash_str(s) & (ls->tabcap - 1);; i = (i + 1) & (ls->tabcap - 1)) {
		if (ls->tab[i] < 0)
			return -1;
		if (!strcmp(ls->name[ls->tab[i]], s))
			return ls->tab[i];
	}
}

static int labelset_add(struct labelset *ls, const char *s)
{
	int id = labelset_find(ls, s);
	if (id >= 0)
		return id;
	if ((ls->n + 1) * 2 > ls->tabcap) {
		size_t nc = ls->tabcap ? ls->tabcap * 2 : 256;
		free(ls->tab);
		ls->tab = xmalloc(nc * sizeof(*ls->tab));
		for (size_t i = 0; i < nc; i++)
			ls->tab[i] = -1;
		ls->tabcap = nc;
		for (size_t k = 0; k < ls->n; k++) {
			size_t i = hash_str(ls->name[k]) & (nc - 1);
			while (ls->tab[i] >= 0)
				i = (i + 1) & (nc - 1);
			ls->tab[i] = (int32_t)k;
		}
	}
	if (ls->n == ls->cap) {
		ls->cap = ls->cap ? ls->cap * 2 : 64;
		ls->name = xrealloc(ls->name, ls->cap * sizeof(*ls->name));
	}
	ls->name[ls->n] = xstrdup(s);
	size_t i = hash_str(s) & (ls->tabcap - 1);
	while (ls->tab[i] >= 0)
		i = (i + 1) & (ls->tabcap - 1);
	ls->tab[i] = (int32_t)ls->n;
	return (int)ls->n++;
}

static void labelset_free(struct labelset *ls)
{
	for (size_t i = 0; i < ls->n; i++)
		free(ls->name[i]);
	free(ls->name);
	free(ls->tab);
	memset(ls, 0, sizeof(*ls));
}

/* ------------------------------------------------------------------------
 * TSV data sets
 * ------------------------------------------------------------------------ */

struct dataset {
	char **text;
	char **label;
	size_t n, cap;
};

static void dataset_add(struct dataset *d, const char *text, size_t tlen, const char *label)
{
	if (d->n == d->cap) {
		d->cap = d->cap ? d->cap * 2 : 1024;
		d->text = xrealloc(d->text, d->cap * sizeof(*d->text));
		d->label = xrealloc(d->label, d->cap * sizeof(*d->label));
	}
	d->text[d->n] = xmalloc(tlen + 1);
	memcpy(d->text[d->n], text, tlen);
	d->text[d->n][tlen] = 0;
	d->label[d->n] = xstrdup(label);
	d->n++;
}

static void dataset_free(struct dataset *d)
{
	for (size_t i = 0; i < d->n; i++) {
		free(d->text[i]);
		free(d->label[i]);
	}
	free(d->text);
	free(d->label);
	memset(d, 0, sizeof(*d));
}

static int on_row(const char *text, const char *label, void *ud)
{
	dataset_add(ud, text, strlen(text), label);
	return 0;
}

/* Reads `text<TAB>label[<TAB>...]` lines after a header line (tsv.h). */
static int dataset_read(struct dataset *d, const char *path)
{
	return tsv_read(path, on_row, d);
}

/* ------------------------------------------------------------------------
 * The classifier under test
 * ------------------------------------------------------------------------ */

struct classifier {
	analyzer *an;
	lexmodel *model;
	brain *br;              /* the daemon's path: model is NULL then */
	const char *lang;
};

/* Appends s to the YAML buffer as a single-quoted scalar. */
static void yaml_quoted(char **buf, size_t *len, size_t *cap, const char *s)
{
	size_t need = *len + 2 * strlen(s) + 4;
	if (need > *cap) {
		*cap = need * 2;
		*buf = xrealloc(*buf, *cap);
	}
	(*buf)[(*len)++] = '\'';
	for (; *s; s++) {
		if (*s == '\'')
			(*buf)[(*len)++] = '\'';
		(*buf)[(*len)++] = *s;
	}
	(*buf)[(*len)++] = '\'';
	(*buf)[*len] = 0;
}

static void yaml_put(char **buf, size_t *len, size_t *cap, const char *s)
{
	size_t n = strlen(s);
	if (*len + n + 1 > *cap) {
		*cap = (*len + n + 1) * 2;
		*buf = xrealloc(*buf, *cap);
	}
	memcpy(*buf + *len, s, n + 1);
	*len += n;
}

/* Builds the daemon's brain from every line of d: label k becomes intent
 * "l<k>" with the label's lines as examples, one rules file each (the
 * loader takes 256 KiB a file, more than 500 examples of 500 bytes). Lines the loader would refuse
 * (over RULES_EXAMPLE_MAX bytes, past RULES_EXAMPLES_MAX for a label) are
 * left out and counted. Returns 0, or -1 after printing why. */
static int classifier_build_brain(struct classifier *c, const char *lang, const struct dataset *d,
				  const int *ids, int n_labels)
{
	struct rule_set rules = {0};
	struct faq_set faqs = {0};
	struct diag dg;
	char *buf = NULL, head[64];
	size_t len = 0, cap = 0, dropped = 0;
	int rc = -1;
	static const logger quiet = {LOG_ERROR};

	diag_init(&dg);
	rules_thresholds_default(&rules.thresholds);
	if (language_set_load("rules", &rules.languages, &dg) < 0 ||
	    !language_find(&rules.languages, lang)) {
		fprintf(stderr, "intent-eval: no rules/%s/language.yaml: %s\n", lang,
			dg.n ? dg.v[0] : "run from the repository");
		goto out;
	}
	c->lang = lang;
	yaml_put(&buf, &len, &cap, "intents:\n");
	for (int k = 0; k < n_labels; k++) {
		size_t kept = 0;
		snprintf(head, sizeof(head), "  - name: l%d\n    label: l%d\n    reply: x\n", k, k);
		yaml_put(&buf, &len, &cap, head);
		yaml_put(&buf, &len, &cap, "    examples:\n");
		for (size_t i = 0; i < d->n; i++) {
			if (ids[i] != k)
				continue;
			if (strlen(d->text[i]) > RULES_EXAMPLE_MAX || kept == RULES_EXAMPLES_MAX) {
				dropped++;
				continue;
			}
			yaml_put(&buf, &len, &cap, "      - ");
			yaml_quoted(&buf, &len, &cap, d->text[i]);
			yaml_put(&buf, &len, &cap, "\n");
			kept++;
		}
		{ /* one intent a rules file: each stays under the loader's 256 KiB */
			if (rules_parse("rules/eval.yaml", lang, buf, len, &rules, &dg)) {
				fprintf(stderr, "intent-eval: the training file does not make valid rules: %s\n",
					dg.n ? dg.v[0] : "?");
				goto out;
			}
			len = 0;
			yaml_put(&buf, &len, &cap, "intents:\n");
		}
	}
	if (dropped)
		printf("train_lines_left_out %zu\n", dropped);
	c->br = brain_build(&faqs, &rules, NULL, &quiet, &dg);
	if (!c->br) {
		fprintf(stderr, "intent-eval: cannot build the brain: %s\n", dg.n ? dg.v[0] : "?");
		goto out;
	}
	rc = 0;
out:
	rule_set_clear(&rules);
	faq_set_clear(&faqs);
	diag_clear(&dg);
	free(buf);
	return rc;
}

/* Builds a classifier from lines idx[0..n) of d (all of d when idx is NULL)
 * with label ids from ls. Returns 0, or -1 after printing why. */
static int classifier_build(struct classifier *c, const char *lang, const struct dataset *d,
			    const int *ids, const size_t *idx, size_t n, int n_labels,
			    const struct lexmodel_params *p)
{
	struct tokens *ex = xmalloc(n * sizeof(*ex));
	int *lab = xmalloc(n * sizeof(*lab));
	char err[256] = "";

	struct language_set langs = {0};
	struct diag dg;
	diag_init(&dg);
	language_set_load("rules", &langs, &dg); /* the repository's languages */
	c->an = analyzer_new(language_find(&langs, lang));
	language_set_clear(&langs);
	diag_clear(&dg);
	for (size_t r = 0; r < n; r++) {
		size_t i = idx ? idx[r] : r;
		if (analyzer_run(c->an, d->text[i], strlen(d->text[i]), &ex[r]) < 0)
			abort(); /* checked when read */
		lab[r] = ids[i];
	}
	c->model = lexmodel_train(ex, lab, n, n_labels, p, err, sizeof(err));
	for (size_t r = 0; r < n; r++)
		tokens_clear(&ex[r]);
	free(ex);
	free(lab);
	if (!c->model) {
		fprintf(stderr, "intent-eval: training failed: %s\n", err);
		analyzer_free(c->an);
		c->an = NULL;
		return -1;
	}
	return 0;
}

static void classifier_free(struct classifier *c)
{
	lexmodel_free(c->model);
	analyzer_free(c->an);
	brain_free(c->br);
}

/* The decision for one message: its best label (-1: none) and that label's
 * confidence, in *hit. Analysis and prediction both happen here; this is
 * the seam where the daemon's full decision code goes later. */
static void classify(const struct classifier *c, const char *text, size_t len,
		     struct lexmodel_hit *hit)
{
	struct tokens t;

	*hit = (struct lexmodel_hit){-1, 0, 0};
	if (c->br) {
		struct brain_result r;
		brain_understand(c->br, c->lang, text, len, NULL, &r);
		if (r.n) {
			hit->label = atoi(r.top[0].name + 1); /* "l<k>" */
			hit->confidence = r.top[0].confidence;
			hit->score = r.top[0].model;
		}
		brain_result_clear(&r);
		return;
	}
	if (analyzer_run(c->an, text, len, &t) == 0)
		lexmodel_predict(c->model, &t, hit, 1);
	tokens_clear(&t);
}

/* ------------------------------------------------------------------------
 * Scoring
 * ------------------------------------------------------------------------ */

/* One scored line. truth: label id, -1 for a label the model does not
 * know (counts as wrong), -2 for out of scope. */
struct outcome {
	int truth;
	int pred;
	double conf;
};

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return (x > y) - (x < y);
}

static double macro_f1(const struct outcome *o, size_t n, int n_labels)
{
	size_t *tp = calloc((size_t)n_labels, sizeof(size_t));
	size_t *fp = calloc((size_t)n_labels, sizeof(size_t));
	size_t *fn = calloc((size_t)n_labels, sizeof(size_t));
	double sum = 0;
	int seen = 0;

	if (!tp || !fp || !fn)
		abort();
	for (size_t i = 0; i < n; i++) {
		if (o[i].truth == -2)
			continue;
		if (o[i].pred == o[i].truth) {
			tp[o[i].pred]++;
		} else {
			if (o[i].pred >= 0)
				fp[o[i].pred]++;
			if (o[i].truth >= 0)
				fn[o[i].truth]++;
		}
	}
	/* the mean over labels that occur in the test lines or are predicted */
	for (int k = 0; k < n_labels; k++) {
		if (!tp[k] && !fp[k] && !fn[k])
			continue;
		double f = 2.0 * (double)tp[k] / (double)(2 * tp[k] + fp[k] + fn[k]);
		sum += f;
		seen++;
	}
	free(tp);
	free(fp);
	free(fn);
	return seen ? sum / seen : 0;
}

/* Prints the reliability table of in-scope lines and returns the ECE. */
static double reliability(const struct outcome *o, size_t n, const char *prefix, int print)
{
	size_t cnt[10] = {0}, right[10] = {0}, total = 0;
	double csum[10] = {0}, ece = 0;

	for (size_t i = 0; i < n; i++) {
		if (o[i].truth == -2)
			continue;
		int b = (int)(o[i].conf * 10);
		if (b > 9)
			b = 9;
		if (b < 0)
			b = 0;
		cnt[b]++;
		csum[b] += o[i].conf;
		right[b] += o[i].pred == o[i].truth;
		total++;
	}
	if (print)
		printf("%-20s %-9s %7s %9s %9s\n", "# reliability", "bin", "lines", "mean_conf",
		       "accuracy");
	for (int b = 0; b < 10; b++) {
		double acc = cnt[b] ? (double)right[b] / (double)cnt[b] : 0;
		double mc = cnt[b] ? csum[b] / (double)cnt[b] : 0;
		if (cnt[b])
			ece += (double)cnt[b] / (double)total * fabs(acc - mc);
		if (print)
			printf("%sreliability %.1f-%.1f   %7zu %9.4f %9.4f\n", prefix, b / 10.0,
			       (b + 1) / 10.0, cnt[b], mc, acc);
	}
	return ece;
}

/* Area under the ROC curve of "in scope" by confidence: the probability
 * that a random in-scope line has a higher confidence than a random
 * out-of-scope one (ties count half). */
static double auroc(const struct outcome *o, size_t n)
{
	size_t nin = 0, nout = 0;
	double wins = 0;

	for (size_t i = 0; i < n; i++)
		if (o[i].truth == -2)
			nout++;
		else
			nin++;
	if (!nin || !nout)
		return 0;
	for (size_t i = 0; i < n; i++) {
		if (o[i].truth == -2)
			continue;
		for (size_t j = 0; j < n; j++) {
			if (o[j].truth != -2)
				continue;
			wins += o[i].conf > o[j].conf ? 1.0 : o[i].conf == o[j].conf ? 0.5 : 0;
		}
	}
	return wins / ((double)nin * (double)nout);
}

/* ------------------------------------------------------------------------
 * Options
 * ------------------------------------------------------------------------ */

struct options {
	const char *train, *test, *oos_label, *lang;
	int cv;
	int synth, synth_examples;
	struct lexmodel_params p;
	int verbose;
	int model_only;         /* --train/--test straight through lexmodel */
};

static void usage(FILE *f)
{
	fputs("usage: intent-eval --train FILE --test FILE [--oos-label NAME] [--lang en]\n"
	      "       intent-eval --train FILE --cv K [--lang en]\n"
	      "       intent-eval --synth N_INTENTS [--synth-examples 10]\n"
	      "model options (defaults: lexmodel_params_default()):\n"
	      "  --solver NAME  liblinear solver (L2R_L2LOSS_SVC_DUAL, MCSVM_CS, L2R_LR_DUAL, ...)\n"
	      "  --c C  --eps E  --bits B  --words 1|2  --chars MIN-MAX|none\n"
	      "  --char-weight W  --tf sublinear|raw  --idf 1|0  --min-df N\n"
	      "  --holdout F  (calibration hold-out fraction, 0 = none)  --seed N\n"
	      "  --oov-exponent G  --solver-memory-mb MB  --prune W\n"
	      "  --verbose (list misses)\n"
	      "  --model-only (--train/--test: lexmodel_train() with these options, not the\n"
	      "                daemon's brain with its defaults)\n",
	      f);
}

static int parse_double(const char *s, double lo, double hi, double *out)
{
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (errno || end == s || *end || !(v >= lo && v <= hi))
		return -1;
	*out = v;
	return 0;
}

static int parse_int(const char *s, long lo, long hi, int *out)
{
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < lo || v > hi)
		return -1;
	*out = (int)v;
	return 0;
}

static int parse_args(int argc, char **argv, struct options *o)
{
	static const struct option longopts[] = {
		{"train", required_argument, NULL, 'r'},
		{"test", required_argument, NULL, 't'},
		{"oos-label", required_argument, NULL, 'o'},
		{"lang", required_argument, NULL, 'l'},
		{"cv", required_argument, NULL, 'k'},
		{"synth", required_argument, NULL, 'S'},
		{"synth-examples", required_argument, NULL, 'E'},
		{"solver", required_argument, NULL, 's'},
		{"c", required_argument, NULL, 'c'},
		{"eps", required_argument, NULL, 'e'},
		{"bits", required_argument, NULL, 'b'},
		{"words", required_argument, NULL, 'w'},
		{"chars", required_argument, NULL, 'n'},
		{"char-weight", required_argument, NULL, 'W'},
		{"tf", required_argument, NULL, 'T'},
		{"idf", required_argument, NULL, 'i'},
		{"min-df", required_argument, NULL, 'm'},
		{"holdout", required_argument, NULL, 'H'},
		{"seed", required_argument, NULL, 'x'},
		{"oov-exponent", required_argument, NULL, 'g'},
		{"solver-memory-mb", required_argument, NULL, 'M'},
		{"prune", required_argument, NULL, 'P'},
		{"verbose", no_argument, NULL, 'v'},
		{"model-only", no_argument, NULL, 'O'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	int opt, v;
	double dv;

	memset(o, 0, sizeof(*o));
	o->lang = "en";
	o->synth_examples = 10;
	lexmodel_params_default(&o->p);
	while ((opt = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (opt) {
		case 'r': o->train = optarg; break;
		case 't': o->test = optarg; break;
		case 'o': o->oos_label = optarg; break;
		case 'l': o->lang = optarg; break;
		case 'v': o->verbose = 1; break;
		case 'O': o->model_only = 1; break;
		case 'k':
			if (parse_int(optarg, 2, 100, &o->cv))
				goto bad;
			break;
		case 'S':
			if (parse_int(optarg, 2, 100000, &o->synth))
				goto bad;
			break;
		case 'E':
			if (parse_int(optarg, 2, 1000, &o->synth_examples))
				goto bad;
			break;
		case 's':
			if ((o->p.solver = lexmodel_solver_from_name(optarg)) < 0)
				goto bad;
			break;
		case 'c':
			if (parse_double(optarg, 1e-6, 1e6, &o->p.c))
				goto bad;
			break;
		case 'e':
			if (parse_double(optarg, 1e-9, 10, &o->p.eps))
				goto bad;
			break;
		case 'b':
			if (parse_int(optarg, 12, 24, &v))
				goto bad;
			o->p.hash_bits = (unsigned)v;
			break;
		case 'w':
			if (parse_int(optarg, 1, 2, &o->p.word_ngrams))
				goto bad;
			break;
		case 'n':
			if (!strcmp(optarg, "none")) {
				o->p.char_min = o->p.char_max = 0;
			} else if (sscanf(optarg, "%d-%d", &o->p.char_min, &o->p.char_max) != 2) {
				goto bad;
			}
			break;
		case 'W':
			if (parse_double(optarg, 1e-3, 1e3, &o->p.char_weight))
				goto bad;
			break;
		case 'T':
			if (!strcmp(optarg, "sublinear"))
				o->p.sublinear_tf = 1;
			else if (!strcmp(optarg, "raw"))
				o->p.sublinear_tf = 0;
			else
				goto bad;
			break;
		case 'i':
			if (parse_int(optarg, 0, 1, &o->p.idf))
				goto bad;
			break;
		case 'm':
			if (parse_int(optarg, 1, 1000, &o->p.min_df))
				goto bad;
			break;
		case 'H':
			if (parse_double(optarg, 0, 0.5, &dv))
				goto bad;
			o->p.calib_holdout = dv;
			break;
		case 'x':
			if (parse_int(optarg, 0, INT32_MAX, &v))
				goto bad;
			o->p.seed = (uint64_t)v;
			break;
		case 'g':
			if (parse_double(optarg, 0, 16, &o->p.oov_exponent))
				goto bad;
			break;
		case 'M':
			if (parse_int(optarg, 1, 1 << 30, &v))
				goto bad;
			o->p.solver_memory_mb = (unsigned)v;
			break;
		case 'P':
			if (parse_double(optarg, 0, 1, &o->p.prune))
				goto bad;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			usage(stderr);
			return -1;
		}
	}
	if (optind != argc || (!o->synth && (!o->train || (!o->test && !o->cv)))) {
		usage(stderr);
		return -1;
	}
	return 0;
bad:
	fprintf(stderr, "intent-eval: bad value for option: %s\n", optarg);
	return -1;
}

static void print_params(const struct lexmodel_params *p)
{
	printf("param_solver %s\n", lexmodel_solver_name(p->solver));
	printf("param_c %g\n", p->c);
	printf("param_eps %g\n", p->eps);
	printf("param_hash_bits %u\n", p->hash_bits);
	printf("param_word_ngrams %d\n", p->word_ngrams);
	if (p->char_max)
		printf("param_char_ngrams %d-%d\n", p->char_min, p->char_max);
	else
		printf("param_char_ngrams none\n");
	printf("param_char_weight %g\n", p->char_weight);
	printf("param_tf %s\n", p->sublinear_tf ? "sublinear" : "raw");
	printf("param_idf %d\n", p->idf);
	printf("param_min_df %d\n", p->min_df);
	printf("param_calib_holdout %g\n", p->calib_holdout);
	printf("param_oov_exponent %g\n", p->oov_exponent);
	printf("param_solver_memory_mb %u\n", p->solver_memory_mb);
	printf("param_prune %g\n", p->prune);
}

static void print_model(const lexmodel *m)
{
	struct lexmodel_stats s;

	lexmodel_get_stats(m, &s);
	printf("model_features %zu\n", s.n_features);
	printf("model_weights %zu\n", s.n_weights);
	printf("model_dense_features %zu\n", s.n_dense);
	printf("model_kib %zu\n", s.bytes / 1024);
	printf("calib_holdout_lines %zu\n", s.n_holdout);
	printf("calib_holdout_accuracy %.4f\n", s.holdout_accuracy);
	printf("model_solver %s\n", lexmodel_solver_name(s.solver));
	printf("calib_temperature %.5f\n", s.temperature);
	printf("calib_a %.4f\n", s.calib_a);
	printf("calib_c %.4f\n", s.calib_c);
}

/* ------------------------------------------------------------------------
 * Modes
 * ------------------------------------------------------------------------ */

/* The model's share of the latency: lexmodel_predict() alone on lines
 * analysed beforehand (top 5, as the daemon asks), warm, per message;
 * prints its p50 and p99. lat is scratch of d->n entries. */
static void predict_latency(const struct classifier *c, const struct dataset *d, int64_t *lat)
{
	struct tokens *t = xmalloc(d->n * sizeof(*t));

	for (size_t i = 0; i < d->n; i++)
		if (analyzer_run(c->an, d->text[i], strlen(d->text[i]), &t[i]) < 0)
			abort(); /* checked when read */
	for (int pass = 0; pass < 2; pass++)
		for (size_t i = 0; i < d->n; i++) {
			struct lexmodel_hit hit[5];
			int64_t t0 = now_ns();
			lexmodel_predict(c->model, &t[i], hit, 5);
			lat[i] = now_ns() - t0;
		}
	qsort(lat, d->n, sizeof(*lat), cmp_i64);
	printf("predict_p50_us %.1f\n", lat[d->n / 2] / 1000.0);
	printf("predict_p99_us %.1f\n", lat[(size_t)((double)(d->n - 1) * 0.99)] / 1000.0);
	for (size_t i = 0; i < d->n; i++)
		tokens_clear(&t[i]);
	free(t);
}

/* Scores d's lines with c into o (truth from ls; oos_label -> -2) and
 * fills the latency array (ns) when lat is not NULL. */
static void run_test(const struct classifier *c, const struct dataset *d,
		     const struct labelset *ls, const char *oos_label, struct outcome *o,
		     int64_t *lat)
{
	for (size_t i = 0; i < d->n; i++) {
		struct lexmodel_hit hit;
		size_t len = strlen(d->text[i]);
		int64_t t0 = now_ns();
		classify(c, d->text[i], len, &hit);
		int64_t t1 = now_ns();
		if (lat)
			lat[i] = t1 - t0;
		o[i].pred = hit.label;
		o[i].conf = hit.confidence;
		if (oos_label && !strcmp(d->label[i], oos_label))
			o[i].truth = -2;
		else
			o[i].truth = labelset_find(ls, d->label[i]);
	}
}

static void report(const struct outcome *o, size_t n, int n_labels, int oos, const char *pre)
{
	size_t nin = 0, right = 0, nout = 0;

	for (size_t i = 0; i < n; i++) {
		if (o[i].truth == -2) {
			nout++;
			continue;
		}
		nin++;
		right += o[i].pred == o[i].truth;
	}
	printf("%slines_in_scope %zu\n", pre, nin);
	printf("%saccuracy %.4f\n", pre, nin ? (double)right / (double)nin : 0);
	printf("%smacro_f1 %.4f\n", pre, macro_f1(o, n, n_labels));
	double ece = reliability(o, n, pre, 1);
	printf("%sece %.4f\n", pre, ece);
	if (!oos)
		return;
	printf("%slines_out_of_scope %zu\n", pre, nout);
	printf("%soos_auroc %.4f\n", pre, auroc(o, n));
	printf("%-20s %-9s %17s %17s %10s\n", "# sweep", "threshold", "in_scope_accuracy",
	       "in_scope_answered", "oos_recall");
	for (int ti = 1; ti <= 9; ti++) {
		double t = ti / 10.0;
		size_t ans = 0, ar = 0, caught = 0;
		for (size_t i = 0; i < n; i++) {
			if (o[i].truth == -2) {
				caught += o[i].conf < t;
			} else if (o[i].conf >= t) {
				ans++;
				ar += o[i].pred == o[i].truth;
			}
		}
		printf("%ssweep t=%.1f          %17.4f %17.4f %10.4f\n", pre, t,
		       nin ? (double)ar / (double)nin : 0, nin ? (double)ans / (double)nin : 0,
		       nout ? (double)caught / (double)nout : 0);
	}
}

static int mode_eval(const struct options *opt)
{
	struct dataset tr = {0}, te = {0};
	struct labelset ls = {0};
	struct classifier c = {0};
	int *ids = NULL, rc = 1;
	struct outcome *o = NULL;
	int64_t *lat = NULL;

	if (dataset_read(&tr, opt->train) || dataset_read(&te, opt->test))
		goto out;
	ids = xmalloc(tr.n * sizeof(*ids));
	for (size_t i = 0; i < tr.n; i++) {
		if (opt->oos_label && !strcmp(tr.label[i], opt->oos_label)) {
			fprintf(stderr, "intent-eval: %s: the out-of-scope label %s is in the training file\n",
				opt->train, opt->oos_label);
			goto out;
		}
		ids[i] = labelset_add(&ls, tr.label[i]);
	}
	printf("path %s\n", opt->model_only ? "lexmodel" : "brain (rules_parse + brain_build, daemon defaults)");
	if (opt->model_only)
		print_params(&opt->p);
	double w0 = now_s(CLOCK_MONOTONIC), c0 = now_s(CLOCK_PROCESS_CPUTIME_ID);
	if (opt->model_only ? classifier_build(&c, opt->lang, &tr, ids, NULL, tr.n, (int)ls.n, &opt->p)
			    : classifier_build_brain(&c, opt->lang, &tr, ids, (int)ls.n))
		goto out;
	double w1 = now_s(CLOCK_MONOTONIC), c1 = now_s(CLOCK_PROCESS_CPUTIME_ID);
	printf("train_lines %zu\n", tr.n);
	printf("labels %zu\n", ls.n);
	printf("build_seconds %.3f\n", w1 - w0);
	printf("build_cpu_seconds %.3f\n", c1 - c0);
	if (c.model)
		print_model(c.model);

	o = xmalloc(te.n * sizeof(*o));
	lat = xmalloc(te.n * sizeof(*lat));
	run_test(&c, &te, &ls, opt->oos_label, o, NULL); /* warm-up, untimed */
	run_test(&c, &te, &ls, opt->oos_label, o, lat);
	size_t unknown = 0;
	for (size_t i = 0; i < te.n; i++)
		unknown += o[i].truth == -1;
	printf("test_lines %zu\n", te.n);
	if (unknown)
		printf("test_lines_unknown_label %zu\n", unknown);
	report(o, te.n, (int)ls.n, opt->oos_label != NULL, "");
	if (opt->verbose)
		for (size_t i = 0; i < te.n; i++)
			if (o[i].truth == -2 || o[i].pred != o[i].truth)
				printf("# %s conf=%.3f pred=%s truth=%s text=%s\n",
				       o[i].truth == -2 ? "oos" : "wrong", o[i].conf,
				       o[i].pred >= 0 ? ls.name[o[i].pred] : "-", te.label[i], te.text[i]);
	qsort(lat, te.n, sizeof(*lat), cmp_i64);
	printf("latency_p50_us %.1f\n", lat[te.n / 2] / 1000.0);
	printf("latency_p99_us %.1f\n", lat[(size_t)((double)(te.n - 1) * 0.99)] / 1000.0);
	printf("latency_max_us %.1f\n", lat[te.n - 1] / 1000.0);
	if (c.model)
		predict_latency(&c, &te, lat);

	/* the awkward inputs: never a crash, low confidence */
	{
		static const char *odd[] = {"", "   ", "\xF0\x9F\x98\x80\xF0\x9F\x91\x8D", NULL};
		char *big = xmalloc(4097);
		memset(big, 'a', 4096);
		big[4096] = 0;
		for (int i = 0; i < 4; i++) {
			const char *s = i < 3 ? odd[i] : big;
			struct lexmodel_hit hit;
			classify(&c, s, strlen(s), &hit);
			printf("odd_input_%s_confidence %.4f\n",
			       i == 0 ? "empty" : i == 1 ? "blank" : i == 2 ? "emoji" : "4k_repeat",
			       hit.confidence);
		}
		free(big);
	}
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	printf("peak_rss_kib %ld\n", ru.ru_maxrss);
	rc = 0;
out:
	classifier_free(&c);
	free(o);
	free(lat);
	free(ids);
	labelset_free(&ls);
	dataset_free(&tr);
	dataset_free(&te);
	return rc;
}

/* splitmix64: deterministic randomness for folds and synthetic data. */
static uint64_t rnd(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static int mode_cv(const struct options *opt)
{
	struct dataset tr = {0};
	struct labelset ls = {0};
	int rc = 1;

	if (dataset_read(&tr, opt->train))
		return 1;
	int *ids = xmalloc(tr.n * sizeof(*ids));
	int *fold = xmalloc(tr.n * sizeof(*fold));
	size_t *perm = xmalloc(tr.n * sizeof(*perm));
	size_t *idx = xmalloc(tr.n * sizeof(*idx));
	struct outcome *o = xmalloc(tr.n * sizeof(*o));
	for (size_t i = 0; i < tr.n; i++)
		ids[i] = labelset_add(&ls, tr.label[i]);

	/* stratified: shuffle, then deal each label's lines round-robin */
	uint64_t rs = 12345;
	for (size_t i = 0; i < tr.n; i++)
		perm[i] = i;
	for (size_t i = tr.n - 1; i > 0; i--) {
		size_t j = (size_t)(rnd(&rs) % (i + 1)), t = perm[i];
		perm[i] = perm[j];
		perm[j] = t;
	}
	int *next = calloc(ls.n, sizeof(int));
	if (!next)
		abort();
	for (size_t r = 0; r < tr.n; r++) {
		size_t i = perm[r];
		fold[i] = next[ids[i]]++ % opt->cv;
	}
	free(next);

	print_params(&opt->p);
	printf("cv_folds %d\n", opt->cv);
	double tsum = 0;
	for (int f = 0; f < opt->cv; f++) {
		struct classifier c = {0};
		size_t n = 0;
		for (size_t i = 0; i < tr.n; i++)
			if (fold[i] != f)
				idx[n++] = i;
		double w0 = now_s(CLOCK_MONOTONIC);
		if (classifier_build(&c, opt->lang, &tr, ids, idx, n, (int)ls.n, &opt->p))
			goto out;
		double w1 = now_s(CLOCK_MONOTONIC);
		tsum += w1 - w0;
		size_t nf = 0, right = 0;
		for (size_t i = 0; i < tr.n; i++) {
			if (fold[i] != f)
				continue;
			struct lexmodel_hit hit;
			classify(&c, tr.text[i], strlen(tr.text[i]), &hit);
			o[i] = (struct outcome){ids[i], hit.label, hit.confidence};
			right += hit.label == ids[i];
			nf++;
		}
		printf("cv_fold_%d_accuracy %.4f\n", f, (double)right / (double)nf);
		classifier_free(&c);
	}
	printf("cv_build_seconds_mean %.3f\n", tsum / opt->cv);
	report(o, tr.n, (int)ls.n, 0, "cv_");
	rc = 0;
out:
	free(ids);
	free(fold);
	free(perm);
	free(idx);
	free(o);
	labelset_free(&ls);
	dataset_free(&tr);
	return rc;
}

/* Synthetic intents for the scaling figure. Intent i is one (action,
 * object) pair, so intents share words heavily, as real ones do, plus two
 * words of its own (made-up product or feature names); its examples wrap
 * the pair (or a synonym of the action), usually one of its own words, and
 * up to three words from a shared pool of 3000 made-up words (noise), in
 * carrier phrases. The vocabulary is about as large as a real rules set
 * with that many intents would have. */
static const char *const syn_act[][2] = {
	{"cancel", "stop"}, {"change", "modify"}, {"reset", "restore"}, {"track", "follow"},
	{"refund", "return"}, {"order", "buy"}, {"activate", "enable"}, {"block", "freeze"},
	{"renew", "extend"}, {"update", "edit"}, {"delete", "remove"}, {"add", "attach"},
	{"transfer", "move"}, {"verify", "confirm"}, {"download", "export"},
	{"upgrade", "improve"}, {"replace", "swap"}, {"report", "flag"}, {"pay", "settle"},
	{"open", "create"}, {"close", "shut"}, {"share", "send"}, {"find", "locate"},
	{"check", "view"}, {"unlock", "unblock"}, {"schedule", "book"}, {"split", "divide"},
	{"pause", "suspend"}, {"link", "connect"}, {"print", "copy"},
};
static const char *const syn_obj[] = {
	"card", "password", "order", "subscription", "account", "address", "invoice",
	"delivery", "payment", "pin", "statement", "loan", "mortgage", "insurance", "voucher",
	"membership", "phone number", "email", "profile", "wallet", "transfer", "direct debit",
	"standing order", "overdraft", "savings pot", "receipt", "warranty", "parcel",
	"appointment", "gift card", "basket", "refund request", "device", "beneficiary",
};
static const char *const syn_carrier[][2] = {
	{"how do i", ""}, {"i want to", ""}, {"can you help me", ""}, {"please", "for me"},
	{"i need to", "today"}, {"is it possible to", "online"}, {"how can i", "in the app"},
	{"i would like to", "asap"}, {"help", ""}, {"where can i", ""}, {"why cant i", ""},
	{"what do i do to", "now"},
};
static const char *const syn_filler[] = {
	"my", "the", "a", "new", "old", "this", "that", "again", "quickly", "right now",
};
static const char *const syn_syll[] = {
	"ka", "lo", "mi", "ne", "ru", "sa", "ti", "vo", "zen", "bar", "cor", "dal", "fin",
	"gor", "hal", "jun", "kel", "lum", "mor", "nix", "pra", "quo", "ras", "sol", "tur",
	"vin", "wex", "yal", "zor", "plu",
};
#define NELEM(a) (sizeof(a) / sizeof((a)[0]))
#define SYN_POOL 3000

/* Made-up word number k (k < 30^3 distinct ones): three syllables. */
static void syn_word(char *buf, size_t cap, unsigned k)
{
	size_t ns = NELEM(syn_syll);
	snprintf(buf, cap, "%s%s%s", syn_syll[k % ns], syn_syll[(k / ns) % ns],
		 syn_syll[(k / ns / ns) % ns]);
}

static void synth_line(char *buf, size_t cap, int intent, uint64_t *rs)
{
	size_t na = NELEM(syn_act), no = NELEM(syn_obj);
	int a = intent % (int)na, ob = (intent / (int)na) % (int)no;
	const char *const *car = syn_carrier[rnd(rs) % NELEM(syn_carrier)];
	const char *act = syn_act[a][rnd(rs) % 2];
	const char *f1 = syn_filler[rnd(rs) % NELEM(syn_filler)];
	char own[32] = "", noise[3][32] = {"", "", ""};

	/* an intent's own words are numbered from SYN_POOL up */
	if (rnd(rs) % 10 < 7)
		syn_word(own, sizeof(own), (unsigned)(SYN_POOL + 2 * intent + (int)(rnd(rs) % 2)));
	for (unsigned j = 0, nn = (unsigned)(rnd(rs) % 4); j < nn; j++)
		syn_word(noise[j], sizeof(noise[j]), (unsigned)(rnd(rs) % SYN_POOL));
	snprintf(buf, cap, "%s %s %s %s %s %s %s %s %s", car[0], noise[0], act, f1, own,
		 syn_obj[ob], noise[1], car[1], noise[2]);
}

static int mode_synth(const struct options *opt)
{
	int ni = opt->synth, ne = opt->synth_examples;
	int max = (int)(NELEM(syn_act) * NELEM(syn_obj));
	uint64_t rs = 777;
	char buf[256];

	if (ni > max) {
		fprintf(stderr, "intent-eval: --synth at most %d intents\n", max);
		return 1;
	}
	size_t n = (size_t)ni * (size_t)ne;
	struct dataset d = {0};
	int *ids = xmalloc((n + (size_t)ni * 3) * sizeof(*ids));
	for (int i = 0; i < ni; i++)
		for (int e = 0; e < ne; e++) {
			synth_line(buf, sizeof(buf), i, &rs);
			ids[d.n] = i;
			dataset_add(&d, buf, strlen(buf), "x");
		}
	print_params(&opt->p);
	printf("synth_intents %d\n", ni);
	printf("synth_examples_per_intent %d\n", ne);
	struct classifier c = {0};
	double w0 = now_s(CLOCK_MONOTONIC), c0 = now_s(CLOCK_PROCESS_CPUTIME_ID);
	if (classifier_build(&c, opt->lang, &d, ids, NULL, n, ni, &opt->p)) {
		free(ids);
		dataset_free(&d);
		return 1;
	}
	double w1 = now_s(CLOCK_MONOTONIC), c1 = now_s(CLOCK_PROCESS_CPUTIME_ID);
	printf("train_lines %zu\n", n);
	printf("build_seconds %.3f\n", w1 - w0);
	printf("build_cpu_seconds %.3f\n", c1 - c0);
	print_model(c.model);
	/* three fresh lines per intent: one untimed pass (a daemon answers
	 * with a warm model), then timed */
	size_t right = 0, nt = (size_t)ni * 3;
	struct dataset te = {0};
	int64_t *lat = xmalloc(nt * sizeof(*lat));
	int *pred = xmalloc(nt * sizeof(*pred));
	for (size_t r = 0; r < nt; r++) {
		synth_line(buf, sizeof(buf), (int)(r / 3), &rs);
		dataset_add(&te, buf, strlen(buf), "x");
	}
	for (int pass = 0; pass < 2; pass++)
		for (size_t r = 0; r < nt; r++) {
			struct lexmodel_hit hit;
			int64_t t0 = now_ns();
			classify(&c, te.text[r], strlen(te.text[r]), &hit);
			lat[r] = now_ns() - t0;
			pred[r] = hit.label;
		}
	for (size_t r = 0; r < nt; r++)
		right += pred[r] == (int)(r / 3);
	qsort(lat, nt, sizeof(*lat), cmp_i64);
	printf("synth_test_lines %zu\n", nt);
	printf("synth_accuracy %.4f\n", (double)right / (double)nt);
	printf("latency_p50_us %.1f\n", lat[nt / 2] / 1000.0);
	printf("latency_p99_us %.1f\n", lat[(size_t)((double)(nt - 1) * 0.99)] / 1000.0);
	predict_latency(&c, &te, lat);
	free(pred);
	dataset_free(&te);
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	printf("peak_rss_kib %ld\n", ru.ru_maxrss);
	free(lat);
	classifier_free(&c);
	free(ids);
	dataset_free(&d);
	return 0;
}

int main(int argc, char **argv)
{
	struct options o;

	if (parse_args(argc, argv, &o))
		return 2;
	if (o.synth)
		return mode_synth(&o);
	if (o.cv)
		return mode_cv(&o);
	return mode_eval(&o);
}
