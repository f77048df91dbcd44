/* ask.c: `supportd ask`, the editors' window into the bot's decisions.
 *
 * Loads the content and the Lua pipeline exactly as the daemon does, runs
 * each question through pipeline_run() and prints the decision, the top
 * candidates with their scores, and why: the words that drove each one,
 * the pattern that matched, and the margin between the top two. */
#include "ask.h"

#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "diag.h"
#include "pipeline.h"
#include "wire.h"

static const char usage_ask[] =
	"usage: supportd ask [OPTIONS] [QUESTION...]\n"
	"\n"
	"Runs questions through the bot as if a customer had typed them, and\n"
	"prints the decision, the top five candidates with their scores and why\n"
	"(matched words, pattern, margin). With no QUESTION, reads one question\n"
	"per line from standard input. Nothing is stored.\n"
	"\n"
	"options:\n"
	"      --lang LANG       the conversation's language (default: en, or the\n"
	"                        first language the content has)\n"
	"      --json            one JSON object per question instead of text\n"
	"      --content DIR     content root holding lua/, faq/, rules/ (default .)\n"
	"  -c, --config FILE     JSON config file (the brain and script limits apply)\n"
	"  -h, --help            show this help\n"
	"\n"
	"Exit status: 0, or 1 when the content has problems (listed on stderr as\n"
	"file:line: reason), or 2 for a usage error.\n";

const char *ask_usage(void)
{
	return usage_ask;
}

/* The first line of s, cut to max bytes, for the one-line summary. */
static void first_line(const char *s, char *out, size_t max)
{
	size_t n = strcspn(s, "\n");
	if (n >= max)
		n = max - 4;
	memcpy(out, s, n);
	out[n] = 0;
	if (s[n] || n < strlen(s))
		strcat(out, "...");
}

static void print_text(const char *question, const struct pipeline_decision *dec)
{
	const struct brain_result *u = &dec->understood;
	char line[160];

	printf("> %s\n", question);
	for (size_t i = 0; i < dec->n; i++) {
		const struct wire_reply *r = &dec->replies[i];
		const char *what = !strncmp(r->source, "faq:", 4) || !strncmp(r->source, "intent:", 7)
					   ? "answer"
					   : r->source;
		printf("decision: %s", what);
		if (strcmp(what, r->source))
			printf(" %s", r->source);
		if (r->has_confidence)
			printf(" (confidence %.2f)", r->confidence);
		putchar('\n');
		first_line(r->text, line, sizeof(line));
		printf("  says: %s\n", line);
		for (size_t j = 0; j < r->n_choices; j++)
			printf("  button: [%s] -> %s\n", r->choices[j].label, r->choices[j].id);
	}
	if (dec->action.start_flow)
		printf("decision: start flow %s (language %s, team %s)\n", dec->action.start_flow,
		       dec->action.lang ? dec->action.lang : "-",
		       dec->action.team ? dec->action.team : "-");
	if (dec->action.handoff)
		printf("decision: hand off to a person (team %s): %s\n",
		       dec->action.handoff_team ? dec->action.handoff_team : "of the best candidate",
		       dec->action.handoff_reason ? dec->action.handoff_reason : "-");
	if (!dec->n && !dec->action.start_flow && !dec->action.handoff)
		puts("decision: no reply");
	printf("language: %s  words: %zu  margin: %.2f  thresholds: answer %.2f, clarify %.2f, "
	       "clarify_margin %.2f\n",
	       u->lang, u->n_words, u->margin, u->thresholds.answer, u->thresholds.clarify,
	       u->thresholds.clarify_margin);
	if (u->limited)
		puts("warning: a pattern stopped at its match limit (see the log line)");
	if (!u->n)
		puts("candidates: none");
	for (size_t i = 0; i < u->n; i++) {
		const struct brain_candidate *c = &u->top[i];
		printf("%zu. %-36s %.3f  (model %.3f, retriever %.3f)\n", i + 1, c->source,
		       c->confidence, c->model, c->retriever);
		printf("     label: %s\n", c->label);
		if (c->pattern)
			printf("     pattern: %s\n", c->pattern);
		if (c->n_terms) {
			printf("     terms:");
			for (size_t j = 0; j < c->n_terms; j++)
				printf(" %s", c->terms[j]);
			if (c->fuzzy)
				printf("  (%d matched despite a typo)", c->fuzzy);
			putchar('\n');
		}
	}
	putchar('\n');
}

static json_t *json_str_or_null(const char *s)
{
	return s ? json_string(s) : json_null();
}

static void print_json(const char *question, const struct pipeline_decision *dec)
{
	const struct brain_result *u = &dec->understood;
	json_t *o = json_object(), *replies = json_array(), *cands = json_array();

	/* json_object_set_new and json_array_append_new steal the value */
	for (size_t i = 0; i < dec->n; i++) {
		const struct wire_reply *r = &dec->replies[i];
		json_t *jr = json_object(), *ch = json_array();
		json_object_set_new(jr, "text", json_string(r->text));
		json_object_set_new(jr, "source", json_string(r->source));
		json_object_set_new(jr, "confidence",
				    r->has_confidence ? json_real(r->confidence) : json_null());
		for (size_t j = 0; j < r->n_choices; j++)
			json_array_append_new(ch, json_pack("{s:s, s:s}", "id", r->choices[j].id,
							    "label", r->choices[j].label));
		json_object_set_new(jr, "choices", ch);
		json_array_append_new(replies, jr);
	}
	for (size_t i = 0; i < u->n; i++) {
		const struct brain_candidate *c = &u->top[i];
		json_t *jc = json_object(), *terms = json_array();
		for (size_t j = 0; j < c->n_terms; j++)
			json_array_append_new(terms, json_string(c->terms[j]));
		json_object_set_new(jc, "source", json_string(c->source));
		json_object_set_new(jc, "label", json_str_or_null(c->label));
		json_object_set_new(jc, "confidence", json_real(c->confidence));
		json_object_set_new(jc, "model", json_real(c->model));
		json_object_set_new(jc, "retriever", json_real(c->retriever));
		json_object_set_new(jc, "pattern", json_str_or_null(c->pattern));
		json_object_set_new(jc, "terms", terms);
		json_object_set_new(jc, "fuzzy", json_integer(c->fuzzy));
		json_object_set_new(jc, "team", json_str_or_null(c->team));
		json_object_set_new(jc, "flow", json_str_or_null(c->flow));
		json_array_append_new(cands, jc);
	}
	json_object_set_new(o, "question", json_string(question));
	json_object_set_new(o, "lang", json_string(u->lang));
	json_object_set_new(o, "replies", replies);
	if (dec->action.start_flow || dec->action.handoff) {
		json_t *a = json_object();
		if (dec->action.start_flow) {
			json_object_set_new(a, "start_flow", json_string(dec->action.start_flow));
			json_object_set_new(a, "lang", json_str_or_null(dec->action.lang));
			json_object_set_new(a, "team", json_str_or_null(dec->action.team));
		}
		if (dec->action.handoff)
			json_object_set_new(a, "handoff",
					    json_pack("{s:o, s:o}", "team",
						      json_str_or_null(dec->action.handoff_team), "reason",
						      json_str_or_null(dec->action.handoff_reason)));
		json_object_set_new(o, "action", a);
	}
	json_object_set_new(o, "candidates", cands);
	json_object_set_new(o, "margin", json_real(u->margin));
	json_object_set_new(o, "limited", json_boolean(u->limited));
	json_object_set_new(o, "thresholds",
			    json_pack("{s:f, s:f, s:f}", "answer", u->thresholds.answer, "clarify",
				      u->thresholds.clarify, "clarify_margin",
				      u->thresholds.clarify_margin));
	char *s = json_dumps(o, JSON_COMPACT | JSON_ENSURE_ASCII);
	if (!s)
		abort();
	puts(s);
	free(s);
	json_decref(o);
}

/* Asks one question; returns 0, or 1 when it is not valid UTF-8. */
static int ask_one(pipeline *p, const char *lang, int as_json, const char *q, int64_t turn)
{
	struct pipeline_decision dec;
	size_t len = strlen(q);

	if (!wire_utf8_valid(q, len)) {
		fprintf(stderr, "supportd ask: question %lld is not valid UTF-8; skipped\n",
			(long long)turn);
		return 1;
	}
	struct pipeline_input in = {"ask", lang, NULL, turn, q, len, NULL, NULL, 0, NULL, NULL, 0};
	pipeline_run(p, &in, &dec);
	if (as_json)
		print_json(q, &dec);
	else
		print_text(q, &dec);
	pipeline_decision_clear(&dec);
	fflush(stdout);
	return 0;
}

int ask_main(int argc, char **argv)
{
	enum { OPT_LANG = 256, OPT_JSON, OPT_CONTENT };
	static const struct option opts[] = {
		{"lang", required_argument, NULL, OPT_LANG},
		{"json", no_argument, NULL, OPT_JSON},
		{"content", required_argument, NULL, OPT_CONTENT},
		{"config", required_argument, NULL, 'c'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0}};
	const char *lang = NULL, *content = NULL, *config_path = NULL;
	int as_json = 0, c, rc = 0;
	struct config cfg;
	char err[1024];

	optind = 1;
	while ((c = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
		switch (c) {
		case OPT_LANG:
			lang = optarg;
			break;
		case OPT_JSON:
			as_json = 1;
			break;
		case OPT_CONTENT:
			content = optarg;
			break;
		case 'c':
			config_path = optarg;
			break;
		case 'h':
			fputs(usage_ask, stdout);
			return 0;
		default:
			fputs(usage_ask, stderr);
			return 2;
		}
	}
	config_defaults(&cfg);
	if (config_path && config_load_file(&cfg, config_path, err, sizeof(err))) {
		fprintf(stderr, "supportd: %s\n", err);
		return 2;
	}
	if (content) {
		if (!content[0] || strlen(content) >= sizeof(cfg.content_dir)) {
			fprintf(stderr, "supportd: --content must be 1 to %zu characters\n",
				sizeof(cfg.content_dir) - 1);
			return 2;
		}
		snprintf(cfg.content_dir, sizeof(cfg.content_dir), "%s", content);
	}

	logger lg = {LOG_WARN};
	struct metrics m;
	struct diag d;
	metrics_init(&m);
	diag_init(&d);
	pipeline *p = pipeline_open(&cfg, &lg, &m, NULL, &d);
	for (size_t i = 0; i < d.n; i++)
		fprintf(stderr, "%s\n", d.v[i]);
	diag_clear(&d);
	if (!p)
		return 1;

	if (optind < argc) {
		for (int i = optind; i < argc; i++)
			rc |= ask_one(p, lang, as_json, argv[i], i - optind + 1);
	} else {
		char *line = NULL;
		size_t cap = 0;
		ssize_t n;
		int64_t turn = 0;
		while ((n = getline(&line, &cap, stdin)) >= 0) {
			while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
				line[--n] = 0;
			turn++;
			if (n == 0 || strspn(line, " \t") == (size_t)n)
				continue;
			if ((size_t)n > cfg.chat.max_text_bytes) {
				fprintf(stderr, "supportd ask: line %lld is over %zu bytes; skipped\n",
					(long long)turn, cfg.chat.max_text_bytes);
				rc = 1;
				continue;
			}
			rc |= ask_one(p, lang, as_json, line, turn);
		}
		free(line);
	}
	pipeline_close(p);
	return rc;
}
