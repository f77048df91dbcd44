/* test_mood.c: unit tests for src/mood.c, the mood check.
 *
 * Two kinds: the mechanics on small lexicons written here (matching by
 * word, stem, prefix and gap; negation, intensifiers, repeats; every
 * refusal with its exact "file:line: reason"), and each signal in each
 * language on the shipped lexicons under rules/ (tests run from the repo
 * root), compared with the same message without the signal, so a lexicon
 * or scoring change that loses a signal fails here. Then the trend, and
 * hostile input. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <ftw.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "diag.h"
#include "mood.h"
#include "repo_languages.h"

/* ------------------------------------------------------------ helpers */

static void expect_diag(const struct diag *d, const char *want)
{
	for (size_t i = 0; i < d->n; i++)
		if (strcmp(d->v[i], want) == 0)
			return;
	for (size_t i = 0; i < d->n; i++)
		print_message("  got: %s\n", d->v[i]);
	fail_msg("missing problem: %s", want);
}

/* A lexicon of one language from text; fails the test on any problem. */
static mood_lexicons *lex_of(const char *lang, const char *yaml)
{
	struct diag d;
	mood_lexicons *m = mood_new(repo_languages());
	diag_init(&d);
	int rc = mood_parse(m, "rules/x/mood.yaml", lang, yaml, strlen(yaml), &d);
	for (size_t i = 0; i < d.n; i++)
		print_message("  unexpected: %s\n", d.v[i]);
	assert_int_equal(rc, 0);
	assert_int_equal(d.n, 0);
	diag_clear(&d);
	return m;
}

/* mood_parse must refuse yaml with exactly the problem want. */
static void refused(const char *yaml, const char *want)
{
	struct diag d;
	mood_lexicons *m = mood_new(repo_languages());
	diag_init(&d);
	assert_int_equal(mood_parse(m, "rules/en/mood.yaml", "en", yaml, strlen(yaml), &d), -1);
	expect_diag(&d, want);
	assert_int_equal(mood_has_lang(m, "en"), 0); /* nothing half-loaded */
	diag_clear(&d);
	mood_free(m);
}

static struct mood_score score(const mood_lexicons *m, const char *lang, const char *text)
{
	struct mood_score s;
	mood_score(m, lang, text, strlen(text), &s);
	assert_true(s.score >= 0 && s.score <= 1);
	assert_int_equal(s.upset, s.score >= MOOD_UPSET_THRESHOLD);
	return s;
}

static double sc(const mood_lexicons *m, const char *lang, const char *text)
{
	return score(m, lang, text).score;
}

/* The shipped lexicons, loaded once per test that needs them. */
static int shipped_setup(void **state)
{
	struct diag d;
	diag_init(&d);
	mood_lexicons *m = mood_load("rules", repo_languages(), &d);
	for (size_t i = 0; i < d.n; i++)
		print_message("  %s\n", d.v[i]);
	diag_clear(&d);
	if (!m)
		return -1;
	*state = m;
	return 0;
}

static int shipped_teardown(void **state)
{
	mood_free(*state);
	return 0;
}

/* A valid UTF-8 string without control characters. */
static int clean_utf8(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	while (*p) {
		int n = *p < 0x80 ? 1 : (*p >> 5) == 6 ? 2 : (*p >> 4) == 14 ? 3 : (*p >> 3) == 30 ? 4 : 0;
		if (!n || (n == 1 && *p < 0x20))
			return 0;
		for (int i = 1; i < n; i++)
			if ((p[i] & 0xC0) != 0x80)
				return 0;
		p += n;
	}
	return 1;
}

/* ------------------------------------------------------ the mechanics */

static const char mini[] =
	"negation_window: 3\n"
	"negators: [not, never]\n"
	"intensifiers:\n"
	"  very: 2\n"
	"  a bit: 0.5\n"
	"negative:\n"
	"  bad: 1\n"
	"  angry~: 1\n"
	"  infuriat*: 1\n"
	"  waste .. time: 1\n"
	"  no problem: 0\n"
	"  problem: 0.5\n"
	"positive:\n"
	"  happy: 1\n"
	"profanity:\n"
	"  darn*: 1\n"
	"threats:\n"
	"  legal:\n"
	"    lawyer: 1\n"
	"  review:\n"
	"    bad review: 1\n";

static void test_weight_one_scores_its_contract(void **state)
{
	(void)state;
	mood_lexicons *m = lex_of("en", mini);
	/* one entry of weight 1: score = 1 - e^-1, whatever the case */
	assert_float_equal(sc(m, "en", "bad"), 1 - exp(-1), 1e-9);
	assert_float_equal(sc(m, "en", "That was BAD of you"), 1 - exp(-1), 1e-9);
	assert_float_equal(sc(m, "en", "nothing to see"), 0, 0);
	mood_free(m);
}

static void test_word_stem_prefix_gap(void **state)
{
	(void)state;
	mood_lexicons *m = lex_of("en", mini);
	/* exact: "bad" is not "badly" */
	assert_true(sc(m, "en", "bad") > 0.5);
	assert_float_equal(sc(m, "en", "badly"), 0, 0);
	/* stem: angry~ (stem "angri") also matches "angri..." forms, not "anger" */
	assert_true(sc(m, "en", "so angry") > 0.5);
	assert_float_equal(sc(m, "en", "anger"), 0, 0);
	/* prefix: infuriat* */
	assert_true(sc(m, "en", "infuriating") > 0.5);
	assert_true(sc(m, "en", "INFURIATED") > 0.5);
	assert_float_equal(sc(m, "en", "infuria"), 0, 0);
	/* gap: up to three words between, not more, not across a clause */
	assert_true(sc(m, "en", "a waste of time") > 0.5);
	assert_true(sc(m, "en", "waste of my precious time") > 0.5);
	assert_float_equal(sc(m, "en", "waste of all of my precious time"), 0, 0);
	assert_float_equal(sc(m, "en", "waste. time"), 0, 0);
	/* longest match: "no problem" (weight 0) hides "problem" */
	assert_true(sc(m, "en", "a problem") > 0);
	assert_float_equal(sc(m, "en", "no problem"), 0, 0);
	mood_free(m);
}

static void test_negation_mechanics(void **state)
{
	(void)state;
	mood_lexicons *m = lex_of("en", mini);
	/* a negated positive counts as upset, a positive calms */
	assert_float_equal(sc(m, "en", "happy"), 0, 0);
	assert_true(sc(m, "en", "not happy") > 0.5);
	assert_true(sc(m, "en", "never been happy") > 0.5);
	/* within the window, not past it, not past a clause */
	assert_true(sc(m, "en", "not one bit happy") > 0.5);
	assert_float_equal(sc(m, "en", "not at all one bit happy"), 0, 0);
	assert_float_equal(sc(m, "en", "not yet, happy"), 0, 0);
	/* a negated negative counts little */
	assert_true(sc(m, "en", "not bad") < sc(m, "en", "bad") / 2);
	assert_true(sc(m, "en", "not bad") > 0);
	/* the positive calms the rest */
	assert_true(sc(m, "en", "bad but happy") < sc(m, "en", "bad"));
	mood_free(m);
}

static void test_intensifier_mechanics(void **state)
{
	(void)state;
	mood_lexicons *m = lex_of("en", mini);
	double plain = sc(m, "en", "bad");
	assert_true(sc(m, "en", "very bad") > plain);
	assert_true(sc(m, "en", "very very bad") > sc(m, "en", "very bad"));
	assert_true(sc(m, "en", "a bit bad") < plain);
	/* reach: two tokens */
	assert_float_equal(sc(m, "en", "very much so bad"), plain, 1e-9);
	/* swearing intensifies what follows */
	double swear = sc(m, "en", "darn");
	assert_true(sc(m, "en", "darned bad") > 1 - exp(-(1 + 1)) - 1e-9);
	assert_true(swear > 0.5);
	struct mood_score s = score(m, "en", "darned bad");
	assert_true(s.profanity);
	mood_free(m);
}

static void test_repeats_count_less(void **state)
{
	(void)state;
	mood_lexicons *m = lex_of("en", mini);
	double one = -log(1 - sc(m, "en", "bad"));
	double two = -log(1 - sc(m, "en", "bad bad"));
	double lots = sc(m, "en", "bad bad bad bad bad bad bad bad bad bad bad bad");
	assert_true(two > one && two < 2 * one);
	assert_true(lots < 1);
	mood_free(m);
}

static void test_threat_flags(void **state)
{
	(void)state;
	mood_lexicons *m = lex_of("en", mini);
	struct mood_score s = score(m, "en", "my lawyer will call");
	assert_true(s.threat);
	assert_int_equal(s.threat_kinds, MOOD_THREAT_LEGAL);
	assert_non_null(strstr(s.why, "lawyer (legal)"));
	s = score(m, "en", "a bad review and a lawyer");
	assert_int_equal(s.threat_kinds, MOOD_THREAT_LEGAL | MOOD_THREAT_REVIEW);
	s = score(m, "en", "not a lawyer"); /* threats are not negated */
	assert_true(s.threat);
	s = score(m, "en", "bad");
	assert_false(s.threat);
	assert_string_equal(mood_threat_name(MOOD_THREAT_CHARGEBACK), "chargeback");
	assert_string_equal(mood_threat_name(3), "?");
	mood_free(m);
}

static void test_empty_lexicons_still_hear_signals(void **state)
{
	(void)state;
	mood_lexicons *m = mood_new(repo_languages());
	struct mood_score s = score(m, "en", "WHERE IS MY ORDER???");
	assert_true(s.shouting);
	assert_true(s.score > sc(m, "en", "where is my order?"));
	assert_float_equal(sc(m, "en", "where is my order?"), 0, 0);
	assert_float_equal(sc(m, "pl", ""), 0, 0);
	s = score(NULL, "pt", "ok");
	assert_float_equal(s.score, 0, 0);
	assert_string_equal(s.why, "");
	mood_free(m);
}

/* --------------------------------------------------------- bad files */

static void test_bad_files(void **state)
{
	(void)state;
	refused("negativ:\n  bad: 1\n",
		"rules/en/mood.yaml:1: unknown key 'negativ' in a mood file (did you mean 'negative'?)");
	refused("negative:\n  bad: high\n",
		"rules/en/mood.yaml:2: the weight of 'bad' must be a number, got 'high'");
	refused("negative:\n  bad: 7\n",
		"rules/en/mood.yaml:2: the weight of 'bad' must be between 0 and 5, got 7");
	refused("intensifiers:\n  very: 0\n",
		"rules/en/mood.yaml:2: the multiplier of 'very' must be between 0.1 and 4, got 0");
	refused("negative:\n  - bad\n",
		"rules/en/mood.yaml:2: 'negative' must be a mapping of 'entry: weight' lines");
	refused("negators:\n  not: 1\n",
		"rules/en/mood.yaml:2: 'negators' must be a list ('- word' lines)");
	refused("negative:\n  ok: 1\n  ba*: 1\n",
		"rules/en/mood.yaml:3: 'ba*': a prefix needs at least 3 letters before '*'");
	refused("negative:\n  f*ck: 1\n",
		"rules/en/mood.yaml:2: 'f*ck': '*' (prefix) and '~' (stem) may only end a word");
	refused("negative:\n  .. time: 1\n",
		"rules/en/mood.yaml:2: '.. time': '..' stands for a few words between two words; it "
		"cannot start an entry or follow another '..'");
	refused("negative:\n  waste ..: 1\n",
		"rules/en/mood.yaml:2: 'waste ..': '..' cannot end an entry");
	refused("negative:\n  '!!!': 1\n",
		"rules/en/mood.yaml:2: '!!!': '!!!' has no letters or digits");
	refused("negative:\n  e-mail*: 1\n",
		"rules/en/mood.yaml:2: 'e-mail*': 'e-mail' is 2 words once folded ('e ...'): a '*' "
		"needs one word");
	refused("negative:\n  a b c d e f g h i: 1\n",
		"rules/en/mood.yaml:2: 'a b c d e f g h i' has more than 8 words");
	refused("negative:\n  angry~: 1\npositive:\n  angri~: 1\n",
		"rules/en/mood.yaml:4: 'angri~' matches the same words as 'angry~' (negative, line 2)");
	refused("negative:\n  Não: 1\n  nao: 1\n",
		"rules/en/mood.yaml:3: 'nao' matches the same words as 'Não' (negative, line 2)");
	refused("threats:\n  legl:\n    lawyer: 1\n",
		"rules/en/mood.yaml:2: unknown key 'legl' in threats (did you mean 'legal'?)");
	refused("threats: [lawyer]\n",
		"rules/en/mood.yaml:1: 'threats' must be a mapping of kinds (legal, cancel, "
		"chargeback, regulator, review), each a mapping of 'entry: weight' lines");
	refused("negation_window: 20\n",
		"rules/en/mood.yaml:1: 'negation_window' must be between 1 and 8, got 20");
	refused("negative:\n  bad: &w 1\n  worse: *w\n",
		"rules/en/mood.yaml:2: YAML anchors (&w) are not supported: write the value out in "
		"full");
	refused("negative:\n  bad: 1\n  bad: 2\n",
		"rules/en/mood.yaml:3: duplicate key 'bad' (first on line 2)");
	refused("- bad\n",
		"rules/en/mood.yaml:1: a mood file is a mapping of sections: negative, positive, "
		"negators, intensifiers, profanity, threats");

	/* too large, and not a mood language */
	struct diag d;
	mood_lexicons *m = mood_new(repo_languages());
	size_t big = MOOD_FILE_MAX + 1;
	char *buf = malloc(big);
	assert_non_null(buf);
	memset(buf, '#', big);
	diag_init(&d);
	assert_int_equal(mood_parse(m, "rules/en/mood.yaml", "en", buf, big, &d), -1);
	expect_diag(&d, "rules/en/mood.yaml: file too large (262145 bytes; the limit is 262144)");
	assert_int_equal(mood_parse(m, "rules/de/mood.yaml", "de", "", 0, &d), -1);
	expect_diag(&d, "rules/de/mood.yaml: no language 'de' for this mood lexicon (a language "
			"needs rules/<code>/language.yaml)");
	/* every problem of a file is listed, not just the first */
	diag_clear(&d);
	const char *two = "negative:\n  bad: x\n  ba*: 1\n";
	assert_int_equal(mood_parse(m, "f.yaml", "en", two, strlen(two), &d), -1);
	assert_int_equal(d.n, 2);
	/* an empty file or one of only comments is an empty lexicon */
	assert_int_equal(mood_parse(m, "f.yaml", "en", "# nothing yet\n", 14, &d), 0);
	assert_true(mood_has_lang(m, "en"));
	diag_clear(&d);
	free(buf);
	mood_free(m);
}

/* A scratch directory tree, removed by tree_free. */
struct tree {
	char dir[64];
};

static void tree_write(const struct tree *t, const char *rel, const char *text)
{
	char path[256];
	snprintf(path, sizeof(path), "%s/%s", t->dir, rel);
	for (char *p = path + strlen(t->dir) + 1; (p = strchr(p, '/')); p++) {
		*p = '\0';
		mkdir(path, 0755);
		*p = '/';
	}
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static void test_load_tree(void **state)
{
	(void)state;
	struct tree t;
	struct diag d;
	char want[256], path[128];

	snprintf(t.dir, sizeof(t.dir), "/tmp/supportd-mood-XXXXXX");
	assert_non_null(mkdtemp(t.dir));
	diag_init(&d);

	/* no mood files at all: empty lexicons, no problem */
	tree_write(&t, "en/account.yaml", "intents: []\n");
	mood_lexicons *m = mood_load(t.dir, repo_languages(), &d);
	assert_non_null(m);
	assert_int_equal(d.n, 0);
	assert_false(mood_has_lang(m, "en"));
	mood_free(m);

	/* a language with only its mood file, another with a bad one */
	tree_write(&t, "pt/mood.yaml", "negative:\n  chateado: 1\n");
	tree_write(&t, "pl/mood.yaml", "negative:\n  zły: 1\n  zł*: 1\n");
	tree_write(&t, "xx/mood.yaml", "this: is not read\n"); /* rules.c reports xx/ */
	assert_null(mood_load(t.dir, repo_languages(), &d));
	snprintf(want, sizeof(want), "%s/pl/mood.yaml:3: 'zł*': a prefix needs at least 3 letters before '*'",
		 t.dir);
	expect_diag(&d, want);
	assert_int_equal(d.n, 1);
	diag_clear(&d);

	tree_write(&t, "pl/mood.yaml", "negative:\n  zły: 1\n");
	m = mood_load(t.dir, repo_languages(), &d);
	assert_non_null(m);
	assert_true(mood_has_lang(m, "pt-BR"));
	assert_true(mood_has_lang(m, "pl"));
	assert_false(mood_has_lang(m, "en"));
	assert_true(sc(m, "pt", "Estou CHATEADO") > 0.5);
	assert_true(sc(m, "pl", "Jestem zły") > 0.5);
	/* English has no lexicon here: English text scores on signals only */
	assert_float_equal(sc(m, "en", "chateado"), 0, 0);
	mood_free(m);

	/* a mood.yaml that is a directory is a problem, not a crash */
	snprintf(path, sizeof(path), "%s/en/mood.yaml", t.dir);
	assert_int_equal(mkdir(path, 0755), 0);
	assert_null(mood_load(t.dir, repo_languages(), &d));
	assert_true(d.n >= 1);
	diag_clear(&d);

	/* a missing rules directory is empty lexicons */
	m = mood_load("/nonexistent/supportd-mood", repo_languages(), &d);
	assert_non_null(m);
	assert_int_equal(d.n, 0);
	mood_free(m);
	nftw(t.dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* ------------------------------------------- the shipped lexicons */

static void test_shipped_loads(void **state)
{
	const mood_lexicons *m = *state;
	assert_true(mood_has_lang(m, "en"));
	assert_true(mood_has_lang(m, "pt"));
	assert_true(mood_has_lang(m, "pl"));
}

/* Messages that must stay calm: nothing upset, no threat, no profanity. */
static void test_neutral_stays_calm(void **state)
{
	const mood_lexicons *m = *state;
	static const char *const calm[][2] = {
		{"en", "where is my order"},
		{"en", "Hi, I'd like to change my delivery address please"},
		{"en", "Thank you so much, that solved it!"},
		{"en", "Can I pay with a credit card?"},
		{"en", "No thanks, that's all"},
		{"en", "My PIN does not work at the ATM"},
		{"en", "I'd like to book a class assessment"},
		{"pt", "obrigado"},
		{"pt", "Onde está a minha encomenda?"},
		{"pt-BR", "Oi, quando chega o meu pedido?"},
		{"pt", "Não, obrigada, é tudo."},
		{"pl", "dziękuję"},
		{"pl", "Gdzie jest moja paczka?"},
		{"pl", "Dzień dobry, chciałbym zmienić adres dostawy"},
	};
	for (size_t i = 0; i < sizeof(calm) / sizeof(calm[0]); i++) {
		struct mood_score s = score(m, calm[i][0], calm[i][1]);
		if (s.upset || s.threat || s.profanity || s.score >= 0.3)
			fail_msg("'%s' scored %.3f (%s)", calm[i][1], s.score, s.why);
	}
}

/* lo must read calm and hi upset, in one language. */
static void pair(const mood_lexicons *m, const char *lang, const char *lo, const char *hi)
{
	struct mood_score a = score(m, lang, lo), b = score(m, lang, hi);
	if (a.upset || !b.upset || b.score <= a.score)
		fail_msg("[%s] '%s' %.3f vs '%s' %.3f (%s)", lang, lo, a.score, hi, b.score, b.why);
}

/* hi must score above lo. */
static void above(const mood_lexicons *m, const char *lang, const char *lo, const char *hi)
{
	double a = sc(m, lang, lo), b = sc(m, lang, hi);
	if (!(b > a))
		fail_msg("[%s] '%s' %.3f is not above '%s' %.3f", lang, hi, b, lo, a);
}

static void test_negation_each_language(void **state)
{
	const mood_lexicons *m = *state;
	pair(m, "en", "I am happy with the service", "I am not happy with the service");
	pair(m, "en", "this is acceptable", "this is not acceptable");
	pair(m, "pt", "estou satisfeito com o serviço", "não estou satisfeito com o serviço");
	pair(m, "pt-BR", "fiquei satisfeita", "não fiquei nada satisfeita");
	pair(m, "pl", "jestem zadowolony", "nie jestem zadowolony");
	pair(m, "pl", "jestem zadowolona z obsługi", "wcale nie jestem zadowolona z obsługi");
	/* a negated negative is damped */
	above(m, "en", "I'm not angry", "I'm angry");
	above(m, "pt", "não estou chateado", "estou chateado");
	above(m, "pl", "nie jestem wkurzony", "jestem wkurzony");
}

static void test_intensifiers_each_language(void **state)
{
	const mood_lexicons *m = *state;
	above(m, "en", "I am disappointed", "I am very disappointed");
	above(m, "en", "I am disappointed", "I am extremely disappointed");
	above(m, "en", "I am a bit annoyed", "I am annoyed");
	above(m, "pt", "estou chateado", "estou muito chateado");
	above(m, "pt-BR", "estou decepcionado", "estou extremamente decepcionado");
	above(m, "pl", "jestem rozczarowany", "jestem bardzo rozczarowany");
	above(m, "pl", "jestem trochę zdenerwowany", "jestem zdenerwowany");
}

static void test_caps_each_language(void **state)
{
	const mood_lexicons *m = *state;
	static const char *const v[][3] = {
		{"en", "where is my order, it has been two weeks", "WHERE IS MY ORDER, IT HAS BEEN TWO WEEKS"},
		{"pt", "onde está a minha encomenda, já passaram duas semanas",
		 "ONDE ESTÁ A MINHA ENCOMENDA, JÁ PASSARAM DUAS SEMANAS"},
		{"pl", "gdzie jest moja paczka, minęły dwa tygodnie", "GDZIE JEST MOJA PACZKA, MINĘŁY DWA TYGODNIE"},
	};
	for (size_t i = 0; i < 3; i++) {
		struct mood_score a = score(m, v[i][0], v[i][1]), b = score(m, v[i][0], v[i][2]);
		assert_false(a.shouting);
		assert_true(b.shouting);
		above(m, v[i][0], v[i][1], v[i][2]);
		assert_non_null(strstr(b.why, "CAPS"));
	}
	/* a few capitals are not shouting: acronyms, one word */
	assert_false(score(m, "en", "My PIN and the ATM").shouting);
	assert_false(score(m, "en", "This is NOT what I ordered").shouting);
	/* caps plus punctuation on a neutral question reads upset */
	assert_true(score(m, "en", "WHERE IS MY ORDER???").upset);
}

static void test_punctuation_each_language(void **state)
{
	const mood_lexicons *m = *state;
	above(m, "en", "where is my refund?", "where is my refund???");
	above(m, "en", "where is my refund?", "where is my refund?!");
	above(m, "pt", "onde está o meu reembolso?", "onde está o meu reembolso?!?!");
	above(m, "pl", "gdzie jest mój zwrot?", "gdzie jest mój zwrot!!!");
	/* full-width and combined marks fold to the same */
	above(m, "en", "where is my refund", "where is my refund！！！");
	above(m, "en", "where is my refund", "where is my refund ‼");
	/* a long run counts no more than a bounded run */
	double five = sc(m, "en", "refund!!!!!");
	char big[3000] = "refund";
	memset(big + 6, '!', sizeof(big) - 7);
	big[sizeof(big) - 1] = 0;
	assert_true(sc(m, "en", big) <= five + 1e-9);
	assert_false(score(m, "en", "where is my refund???").upset);
}

static void test_profanity_each_language(void **state)
{
	const mood_lexicons *m = *state;
	static const char *const v[][3] = {
		{"en", "this is useless", "this is fucking useless"},
		{"en", "what is going on", "what the hell is going on"},
		{"pt", "o serviço é mau", "que merda de serviço"},
		{"pt-BR", "o que está acontecendo", "que porra está acontecendo"},
		{"pl", "znowu nie działa", "kurwa, znowu nie działa"},
		{"pl", "co się dzieje", "co się do cholery dzieje"},
	};
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		struct mood_score a = score(m, v[i][0], v[i][1]), b = score(m, v[i][0], v[i][2]);
		if (a.profanity || !b.profanity)
			fail_msg("[%s] profanity: '%s' %d, '%s' %d", v[i][0], v[i][1], a.profanity,
				 v[i][2], b.profanity);
		above(m, v[i][0], v[i][1], v[i][2]);
	}
	/* no Scunthorpe: prefixes match at a word's start only, exact words exactly */
	assert_false(score(m, "en", "Scunthorpe class assessment, Dickens, cocktail").profanity);
	assert_false(score(m, "pl", "duplikat faktury").profanity);
	assert_true(score(m, "en", "🖕").profanity);
}

struct threat_case {
	const char *lang, *text;
	int kind;
};

static void test_threats_by_kind_each_language(void **state)
{
	const mood_lexicons *m = *state;
	static const struct threat_case v[] = {
		{"en", "I will be contacting my lawyer about this", MOOD_THREAT_LEGAL},
		{"en", "fix it or I'm going to cancel my account", MOOD_THREAT_CANCEL},
		{"en", "I will take my business elsewhere", MOOD_THREAT_CANCEL},
		{"en", "I'll just do a chargeback", MOOD_THREAT_CHARGEBACK},
		{"en", "I am going to dispute the charge with my bank", MOOD_THREAT_CHARGEBACK},
		{"en", "I will report you to the ombudsman", MOOD_THREAT_REGULATOR},
		{"en", "expect a bad review on Trustpilot", MOOD_THREAT_REVIEW},
		{"pt", "vou falar com o meu advogado", MOOD_THREAT_LEGAL},
		{"pt", "vou cancelar a minha conta", MOOD_THREAT_CANCEL},
		{"pt", "vou contestar a cobrança no cartão", MOOD_THREAT_CHARGEBACK},
		{"pt", "vou escrever no livro de reclamações", MOOD_THREAT_REGULATOR},
		{"pt-BR", "vou reclamar no Procon", MOOD_THREAT_REGULATOR},
		{"pt-BR", "vou expor vocês no Reclame Aqui", MOOD_THREAT_REVIEW},
		{"pl", "sprawę skieruję do sądu", MOOD_THREAT_LEGAL},
		{"pl", "zamykam to konto", MOOD_THREAT_CANCEL},
		{"pl", "zgłoszę obciążenie zwrotne", MOOD_THREAT_CHARGEBACK},
		{"pl", "złożę skargę do UOKiK", MOOD_THREAT_REGULATOR},
		{"pl", "wystawię negatywną opinię", MOOD_THREAT_REVIEW},
	};
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		struct mood_score s = score(m, v[i].lang, v[i].text);
		if (!s.threat || !(s.threat_kinds & v[i].kind))
			fail_msg("[%s] '%s': kinds %d, want %s (%s)", v[i].lang, v[i].text,
				 s.threat_kinds, mood_threat_name(v[i].kind), s.why);
		assert_non_null(strstr(s.why, mood_threat_name(v[i].kind)));
	}
	/* legal, chargeback, regulator and review threats are upset on their own */
	assert_true(score(m, "en", "I will be contacting my lawyer about this").upset);
	assert_true(score(m, "pl", "złożę skargę do UOKiK").upset);
	/* asking about cancelling is not a threat */
	assert_false(score(m, "en", "how do I cancel my order").threat);
	assert_false(score(m, "pt", "como cancelo a encomenda").threat);
}

static void test_language_tags(void **state)
{
	const mood_lexicons *m = *state;
	assert_string_equal(score(m, "pt-BR", "x").lang, "pt");
	assert_string_equal(score(m, "PL", "x").lang, "pl");
	assert_string_equal(score(m, "pt_PT", "x").lang, "pt");
	assert_string_equal(score(m, "de", "x").lang, "en");
	assert_string_equal(score(m, "english", "x").lang, "en");
	assert_string_equal(score(m, NULL, "x").lang, "en");
	assert_string_equal(score(m, "", "x").lang, "en");
	/* the language matters: "chateado" is Portuguese */
	assert_true(sc(m, "pt", "estou chateado") > sc(m, "en", "estou chateado"));
}

static void test_why_explains(void **state)
{
	const mood_lexicons *m = *state;
	struct mood_score s = score(m, "en", "I am not happy and very frustrated!!! I will call my lawyer");
	assert_non_null(strstr(s.why, "not happy"));
	assert_non_null(strstr(s.why, "very frustrated"));
	assert_non_null(strstr(s.why, "lawyer (legal)"));
	assert_non_null(strstr(s.why, "!!!"));
	s = score(m, "en", "where is my order");
	assert_string_equal(s.why, "");
	/* many reasons: cut between items, never inside one */
	s = score(m, "pl",
		  "żenada, skandal, porażka, kpina, koszmar, wstyd, hańba, oszuści, złodzieje, "
		  "chamstwo, beznadziejna obsługa, niekompetentni ludzie, najgorsza firma");
	assert_true(strlen(s.why) < sizeof(s.why));
	assert_true(clean_utf8(s.why));
	assert_true(strlen(s.why) > 100);
	assert_true(s.why[strlen(s.why) - 1] != ' ' && s.why[strlen(s.why) - 1] != ',');
}

/* ---------------------------------------------------------------- trend */

static struct mood_score fake(double score_, int threat)
{
	struct mood_score s;
	memset(&s, 0, sizeof(s));
	s.score = score_;
	s.upset = score_ >= MOOD_UPSET_THRESHOLD;
	s.threat = threat;
	return s;
}

/* A trend survives the JSON it is stored as (six significant digits), and
 * a stored trend that is not one is refused and reset. */
static void test_trend_json_round_trip(void **state)
{
	(void)state;
	struct mood_trend t, back;
	struct mood_score s;
	const double scores[] = {0.123456789, 0.9, 0.8, 0.0};
	char *j;

	mood_trend_init(&t);
	for (size_t i = 0; i < 4; i++) {
		s = fake(scores[i], i == 1);
		mood_trend_add(&t, &s);
	}
	j = mood_trend_json(&t);
	assert_int_equal(mood_trend_from_json(&back, j), 0);
	free(j);
	assert_float_equal(back.level, t.level, 1e-6);
	assert_float_equal(back.last, t.last, 1e-6);
	assert_float_equal(back.peak, t.peak, 1e-6);
	assert_int_equal(back.messages, 4);
	assert_int_equal(back.upset_messages, t.upset_messages);
	assert_int_equal(back.threats, 1);
	assert_int_equal(back.profanity, t.profanity);
	assert_int_equal(back.streak, t.streak);
	assert_int_equal(back.climbs, t.climbs);
	assert_int_equal(back.rising, t.rising);
	assert_int_equal(back.upset, t.upset);

	assert_int_equal(mood_trend_from_json(&back, "{\"level\":7}"), -1);
	assert_int_equal(back.messages, 0);
	assert_int_equal(mood_trend_from_json(&back, "not json"), -1);
	assert_int_equal(mood_trend_from_json(&back, NULL), -1);
}

static void test_trend_rises_and_decays(void **state)
{
	(void)state;
	struct mood_trend t;
	struct mood_score s;
	mood_trend_init(&t);
	assert_int_equal(t.messages, 0);
	assert_false(t.rising);

	/* steadily more upset, no single message over the threshold */
	const double climb[] = {0.0, 0.15, 0.3, 0.45};
	for (size_t i = 0; i < 4; i++) {
		double before = t.level;
		s = fake(climb[i], 0);
		mood_trend_add(&t, &s);
		if (i)
			assert_true(t.level > before);
	}
	assert_true(t.rising);
	assert_int_equal(t.upset_messages, 0);
	assert_false(t.upset);

	/* upset now */
	s = fake(0.9, 1);
	mood_trend_add(&t, &s);
	s = fake(0.8, 0);
	mood_trend_add(&t, &s);
	assert_true(t.upset);
	assert_int_equal(t.streak, 2);
	assert_int_equal(t.upset_messages, 2);
	assert_int_equal(t.threats, 1);
	assert_float_equal(t.peak, 0.9, 1e-12);

	/* calm messages bring it down */
	double high = t.level;
	for (int i = 0; i < 6; i++) {
		double before = t.level;
		s = fake(0.0, 0);
		mood_trend_add(&t, &s);
		assert_true(t.level < before);
	}
	assert_true(t.level < high / 16);
	assert_false(t.rising);
	assert_false(t.upset);
	assert_int_equal(t.streak, 0);
	assert_int_equal(t.messages, 12);
	assert_float_equal(t.last, 0, 0);
	assert_float_equal(t.peak, 0.9, 1e-12);

	/* the first message sets the level */
	mood_trend_init(&t);
	s = fake(0.7, 0);
	mood_trend_add(&t, &s);
	assert_float_equal(t.level, 0.7, 1e-12);
	assert_true(t.upset);
	assert_false(t.rising);
}

static void test_trend_of_a_conversation(void **state)
{
	const mood_lexicons *m = *state;
	static const char *const conv[] = {
		"Hi, where is my order?",
		"It was supposed to arrive last week",
		"This is the third time I ask, still no answer",
		"I am really frustrated now!!",
		"This is ridiculous, I want my money back or I will dispute the charge",
	};
	struct mood_trend t;
	mood_trend_init(&t);
	int rose = 0;
	for (size_t i = 0; i < 5; i++) {
		struct mood_score s = score(m, "en", conv[i]);
		mood_trend_add(&t, &s);
		rose |= t.rising;
	}
	assert_true(rose);
	assert_true(t.upset);
	assert_true(t.threats >= 1);
	assert_true(t.upset_messages >= 2);
}

/* ------------------------------------------------------- hostile input */

static double now_sec(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void test_hostile_input(void **state)
{
	const mood_lexicons *m = *state;
	static const char *const langs[] = {"en", "pt", "pl"};
	char buf[4096];
	uint32_t x = 12345;
	struct mood_score s;

	/* random bytes, invalid UTF-8 and NULs included */
	double t0 = now_sec();
	for (int round = 0; round < 200; round++) {
		for (size_t i = 0; i < sizeof(buf); i++) {
			x = x * 1103515245u + 12345u;
			buf[i] = (char)(x >> 16);
		}
		mood_score(m, langs[round % 3], buf, sizeof(buf), &s);
		assert_true(s.score >= 0 && s.score <= 1);
		assert_true(clean_utf8(s.why));
	}
	/* half random ASCII letters and marks, so tokens and phrases form */
	for (int round = 0; round < 100; round++) {
		static const char alpha[] = "abcdefghijklmnopqrstuvwxyz  !?.,'FUCK";
		for (size_t i = 0; i < sizeof(buf); i++) {
			x = x * 1103515245u + 12345u;
			buf[i] = alpha[(x >> 16) % (sizeof(alpha) - 1)];
		}
		mood_score(m, langs[round % 3], buf, sizeof(buf), &s);
		assert_true(s.score >= 0 && s.score <= 1);
	}
	/* even under the sanitizers, 300 hostile 4 KiB messages take well under a second each */
	assert_true(now_sec() - t0 < 30);

	/* invalid sequences among real words still read the words */
	static const char mixed[] = "I am \xff\xfe furious \xc3 \xed\xa0\x80 now \xf4\x90\x80\x80";
	s = score(m, "en", mixed);
	assert_true(s.upset);
	mood_score(m, "en", "furious\0hidden", 14, &s);
	assert_true(s.upset);

	/* one huge word; a cut in the middle of a character; more than the limit */
	size_t big = 1 << 20;
	char *huge = malloc(big);
	assert_non_null(huge);
	memset(huge, 'a', big);
	mood_score(m, "pl", huge, big, &s);
	assert_float_equal(s.score, 0, 0);
	for (size_t i = 1; i + 2 < big; i += 2) /* odd offsets: the limit cuts an "ą" */
		memcpy(huge + i, "ą", 2);
	mood_score(m, "pl", huge, MOOD_TEXT_MAX + 1, &s);
	assert_float_equal(s.score, 0, 0);
	/* 1 MiB of "!!!" and of one swear word: bounded */
	memset(huge, '!', big);
	t0 = now_sec();
	mood_score(m, "en", huge, big, &s);
	assert_true(s.score < 1);
	for (size_t i = 0; i + 5 < big; i += 5)
		memcpy(huge + i, "fuck ", 5);
	mood_score(m, "en", huge, big, &s);
	assert_true(s.profanity && s.score <= 1);
	assert_true(now_sec() - t0 < 5);
	free(huge);

	/* nothing */
	mood_score(m, "en", NULL, 0, &s);
	assert_float_equal(s.score, 0, 0);
	mood_score(m, "en", "", 0, &s);
	assert_float_equal(s.score, 0, 0);
	assert_string_equal(s.why, "");
	s = score(m, "en", "   \n\t  ");
	assert_float_equal(s.score, 0, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_weight_one_scores_its_contract),
		cmocka_unit_test(test_word_stem_prefix_gap),
		cmocka_unit_test(test_negation_mechanics),
		cmocka_unit_test(test_intensifier_mechanics),
		cmocka_unit_test(test_repeats_count_less),
		cmocka_unit_test(test_threat_flags),
		cmocka_unit_test(test_empty_lexicons_still_hear_signals),
		cmocka_unit_test(test_bad_files),
		cmocka_unit_test(test_load_tree),
		cmocka_unit_test(test_trend_rises_and_decays),
		cmocka_unit_test(test_trend_json_round_trip),
		cmocka_unit_test_setup_teardown(test_shipped_loads, shipped_setup, shipped_teardown),
		cmocka_unit_test_setup_teardown(test_neutral_stays_calm, shipped_setup, shipped_teardown),
		cmocka_unit_test_setup_teardown(test_negation_each_language, shipped_setup,
						shipped_teardown),
		cmocka_unit_test_setup_teardown(test_intensifiers_each_language, shipped_setup,
						shipped_teardown),
		cmocka_unit_test_setup_teardown(test_caps_each_language, shipped_setup,
						shipped_teardown),
		cmocka_unit_test_setup_teardown(test_punctuation_each_language, shipped_setup,
						shipped_teardown),
		cmocka_unit_test_setup_teardown(test_profanity_each_language, shipped_setup,
						shipped_teardown),
		cmocka_unit_test_setup_teardown(test_threats_by_kind_each_language, shipped_setup,
						shipped_teardown),
		cmocka_unit_test_setup_teardown(test_language_tags, shipped_setup, shipped_teardown),
		cmocka_unit_test_setup_teardown(test_why_explains, shipped_setup, shipped_teardown),
		cmocka_unit_test_setup_teardown(test_trend_of_a_conversation, shipped_setup,
						shipped_teardown),
		cmocka_unit_test_setup_teardown(test_hostile_input, shipped_setup, shipped_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
