/* pipeline.c: one message in, the bot's decision out. See pipeline.h. */
#include "pipeline.h"

#include "canned.h"
#include "langid.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct pipeline {
	brain *br;              /* owned */
	script *sc;             /* owned */
	flowhost *flows;        /* owned; runs in sc's VM */
	mood_lexicons *mood;    /* owned */
	char *canned;           /* owned: agents' canned responses as a JSON array */
	langid *li;             /* owned; NULL with a single language */
	const logger *lg;       /* borrowed */
	struct metrics *m;      /* borrowed */
	int refs;               /* pipeline_hold / pipeline_close */
};

/* Every flow an intent names must exist in lua/flows/. */
static void check_flow_refs(pipeline *p, struct diag *d)
{
	const struct rule_set *rs = brain_rules(p->br);
	for (size_t i = 0; i < rs->n; i++) {
		const struct rule_intent *r = &rs->v[i];
		if (r->flow && !flowhost_has(p->flows, r->flow))
			diag_add(d, r->file, r->action_line,
				 "intent '%s' runs flow '%s', but there is no lua/flows/%s.lua", r->name,
				 r->flow, r->flow);
	}
}

pipeline *pipeline_open(const struct config *cfg, const logger *lg, struct metrics *m,
			lemmatizer *lemmas, struct diag *d)
{
	char path[1200], err[1024];
	pipeline *p = calloc(1, sizeof(*p));
	struct script_limits lim = {cfg->script.instruction_limit,
				    cfg->script.memory_limit_kb * 1024};
	struct brain_limits blim = {(unsigned)cfg->brain.pattern_match_limit,
				    (unsigned)cfg->brain.pattern_depth_limit_kb,
				    (size_t)cfg->brain.model_max_classes, lemmas};

	if (!p)
		abort();
	p->refs = 1;
	p->lg = lg;
	p->m = m;
	p->br = brain_load(cfg->content_dir, &blim, lg, d);
	snprintf(path, sizeof(path), "%s/rules", cfg->content_dir);
	if (p->br) {
		p->mood = mood_load(path, brain_language_set(p->br), d);
		p->canned = canned_load(path, brain_language_set(p->br), d);
	} else {
		/* still check the mood lexicons and canned responses, with the
		 * languages that did load (rules_load reported the rest) */
		struct language_set langs = {0};
		struct diag scratch;
		diag_init(&scratch);
		language_set_load(path, &langs, &scratch);
		diag_clear(&scratch);
		p->mood = mood_load(path, &langs, d);
		p->canned = canned_load(path, &langs, d);
		language_set_clear(&langs);
	}
	snprintf(path, sizeof(path), "%s/lua/pipeline.lua", cfg->content_dir);
	p->sc = script_open(path, &lim, lg, err, sizeof(err));
	if (!p->sc)
		/* Lua's messages name file and line; the traceback is noise here */
		diag_add(d, NULL, 0, "%.*s", (int)strcspn(err, "\n"), err);
	if (p->sc)
		p->flows = flowhost_open(p->sc, cfg->content_dir, cfg, lg, d);
	if (p->br && p->flows)
		check_flow_refs(p, d);
	if (p->br && brain_languages(p->br)[0] && brain_languages(p->br)[1]) {
		const struct language *defs[LANGUAGES_MAX];
		size_t n = 0;
		for (const char *const *c = brain_languages(p->br); *c && n < LANGUAGES_MAX; c++)
			if ((defs[n] = language_find(brain_language_set(p->br), *c)))
				n++;
		p->li = langid_open(defs, n, LANGID_DIR, err, sizeof(err));
		if (!p->li)
			diag_add(d, NULL, 0, "%s (the Debian package libexttextcat-data has them)", err);
	}
	if (!p->br || !p->sc || !p->flows || !p->mood || !p->canned || diag_count(d)) {
		pipeline_close(p);
		return NULL;
	}
	return p;
}

const brain *pipeline_brain(const pipeline *p)
{
	return p->br;
}

const char *pipeline_canned(const pipeline *p)
{
	return p->canned;
}

flowhost *pipeline_flows(pipeline *p)
{
	return p->flows;
}

const logger *pipeline_logger(const pipeline *p)
{
	return p->lg;
}

struct metrics *pipeline_metrics(pipeline *p)
{
	return p->m;
}

pipeline *pipeline_hold(pipeline *p)
{
	p->refs++;
	return p;
}

void pipeline_guess_language(const pipeline *p, const char *text, size_t len,
			     struct langid_guess *out)
{
	langid_guess(p->li, text, len, out);
}

int pipeline_reads_as(const pipeline *p, const char *text, size_t len, const char *lang)
{
	return langid_reads_as(p->li, text, len, lang);
}

int pipeline_shared(const pipeline *p)
{
	return p->refs > 1;
}

void pipeline_close(pipeline *p)
{
	if (!p || --p->refs > 0)
		return;
	langid_close(p->li);
	flowhost_close(p->flows);
	script_close(p->sc);
	mood_free(p->mood);
	free(p->canned);
	brain_free(p->br);
	free(p);
}

/* An answer from another language's content (brain.h: answer_lang) says
 * so first, in the conversation's language, and carries its language. */
static void mark_other_language(pipeline *p, const char *lang, struct pipeline_decision *out)
{
	for (size_t i = 0; i < out->n; i++) {
		struct wire_reply *r = &out->replies[i];
		const char *other = NULL;
		for (size_t k = 0; r->source && k < out->understood.n; k++)
			if (!strcmp(r->source, out->understood.top[k].source))
				other = out->understood.top[k].answer_lang;
		if (!other || !r->text || (lang && !strncmp(lang, other, 2)))
			continue;
		const char *note = flowhost_text(p->flows, brain_language_for(p->br, lang),
						 "answer.other_language");
		size_t n = strlen(note) + strlen(r->text) + 3;
		char *text = malloc(n);
		if (!text)
			abort();
		snprintf(text, n, "%s\n\n%s", note, r->text);
		free(r->text);
		r->text = text;
		r->lang = strdup(other);
		if (!r->lang)
			abort();
	}
}

void pipeline_run(pipeline *p, const struct pipeline_input *in, struct pipeline_decision *out)
{
	struct script_conversation conv = {in->conversation, in->lang, in->name, in->turn,
					   in->flow, in->choice, in->unsure, in->topic_team};
	char err[1024], q[1100];

	memset(out, 0, sizeof(*out));
	if (!script_takes_understanding(p->sc)) {
		/* on_message(conversation, text): a pipeline of its own that
		 * never sees the matcher's and retriever's view; none is made */
		brain_understand_nothing(p->br, in->lang, &out->understood);
	} else if (in->lang_unsure) {
		brain_understand_unsure(p->br, in->lang, in->text, in->text_len, in->choice,
					&out->understood);
		conv.lang = out->understood.lang; /* the script answers in that language */
	} else {
		brain_understand(p->br, in->lang, in->text, in->text_len, in->choice,
				 &out->understood);
	}
	mood_score(p->mood, conv.lang ? conv.lang : out->understood.lang, in->text, in->text_len,
		   &out->mood);
	if (in->trend)
		mood_trend_add(in->trend, &out->mood);
	struct script_mood sm = {&out->mood, in->trend};
	if (script_on_message(p->sc, &conv, in->text, in->text_len,
			      script_takes_understanding(p->sc) ? &out->understood : NULL, &sm,
			      &out->replies, &out->n, &out->action, err, sizeof(err)) == 0) {
		mark_other_language(p, conv.lang, out);
		return;
	}

	atomic_fetch_add(&p->m->script_errors_total, 1);
	char masked[1024];
	log_error(p->lg, "script_error", "conv=%s reason=%s", in->conversation,
		  log_quote(log_mask_emails(err, masked, sizeof(masked)), q, sizeof(q)));
	out->failed = 1;
	out->replies = calloc(1, sizeof(*out->replies));
	if (!out->replies)
		abort();
	out->n = 1;
	/* the catalogs' words: lua/locale/<lang>.lua, English when it lacks them */
	out->replies[0].text = strdup(flowhost_text(p->flows, in->lang, "bot.apology"));
	out->replies[0].source = strdup("error");
	if (!out->replies[0].text || !out->replies[0].source)
		abort();
}

void pipeline_decision_clear(struct pipeline_decision *d)
{
	for (size_t i = 0; i < d->n; i++)
		wire_reply_clear(&d->replies[i]);
	free(d->replies);
	script_action_clear(&d->action);
	brain_result_clear(&d->understood);
	memset(d, 0, sizeof(*d));
}
