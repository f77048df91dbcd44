/* bot.c: the bot's next step in a conversation. See bot.h. */
#include "bot.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xalloc.h"

/* The job's copy of the run it stores, for bot_stored(). */
struct stored_run {
	struct flowlog *log;  /* owned, NULL when the job ends the run */
	int http;
	int op;               /* enum store_flow_op */
	struct flow_call call; /* to send once stored */
};

static void stored_run_free(void *p)
{
	struct stored_run *s = p;
	if (!s)
		return;
	conversation_set_flow(&s->log, NULL);
	free(s->call.url);
	free(s->call.body);
	free(s);
}

void bot_step_clear(struct bot_step *s)
{
	for (size_t i = 0; i < s->n; i++)
		wire_reply_clear(&s->replies[i]);
	free(s->replies);
	conversation_set_flow(&s->log, NULL);
	free(s->slots);
	free(s->handoff_team);
	free(s->handoff_reason);
	free(s->call.url);
	free(s->call.body);
	free(s->desk.team);
	free(s->desk.reason);
	free(s->desk.text);
	free(s->desk.email);
	free(s->mood);
	free(s->unanswered_text);
	free(s->unanswered_candidates);
	memset(s, 0, sizeof(*s));
}

int bot_step_empty(const struct bot_step *s)
{
	return s->n == 0 && s->flow_op == STORE_FLOW_KEEP && !s->slots && !s->handoff_team &&
	       s->desk.op == STORE_DESK_NONE && !s->mood;
}

static struct wire_reply *add_reply(struct bot_step *s)
{
	s->replies = xrealloc(s->replies, (s->n + 1) * sizeof(*s->replies));
	memset(&s->replies[s->n], 0, sizeof(*s->replies));
	return &s->replies[s->n++];
}

static void take_replies(struct bot_step *s, struct wire_reply *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		*add_reply(s) = v[i];
}

/* The language the daemon's own texts use for conv: a tag the catalogs
 * read by its first two letters (flow.h), English when there is none. */
static const char *lang_of(const struct conversation *conv)
{
	if (conv->flow)
		return conv->flow->lang;
	return conv->lang ? conv->lang : "en";
}

/* "flow:<name>", the source of what supportd says about conv's flow. */
static const char *flow_source(const struct conversation *conv, char *buf, size_t len)
{
	snprintf(buf, len, "flow:%s", conv->flow ? conv->flow->flow : "?");
	return buf;
}

static void say(struct bot_step *s, const char *text, const char *source)
{
	struct wire_reply *r = add_reply(s);
	r->text = xstrdup(text);
	r->source = xstrdup(source);
}

static void start_flow(pipeline *p, desk *k, const struct config *cfg, struct conversation *conv,
		       const struct script_action *a, int64_t now, struct bot_step *s);

/* The flows conv's run goes on in: those of the content version it started
 * on, held from then until the run ends, so that a reload never changes a
 * flow under a customer. A run without a version (new, or loaded from the
 * store) takes p's. */
static flowhost *run_flows(pipeline *p, struct conversation *conv)
{
	if (!conv->flow_version)
		conv->flow_version = pipeline_hold(p);
	return pipeline_flows(conv->flow_version);
}

static void drop_version(struct conversation *conv)
{
	pipeline_close(conv->flow_version);
	conv->flow_version = NULL;
}

void bot_forget_run(pipeline *p, struct conversation *conv)
{
	flow_drop(pipeline_flows(conv->flow_version ? conv->flow_version : p), conv->public_id);
	drop_version(conv);
}

/* Hands the conversation to team: into the desk's queue with the notice
 * (text, or the catalog's) when someone of the team can take it, else the
 * news that nobody can, and the offline ticket flow. Either way the
 * handoff and its reason are recorded. */
static void handoff(pipeline *p, desk *k, const struct config *cfg, struct conversation *conv,
		    struct bot_step *s, const char *team, const char *reason, const char *source,
		    const char *text, int upset, int64_t now)
{
	const char *lang = lang_of(conv);
	flowhost *fh = pipeline_flows(p);
	enum desk_open open;
	struct wire_reply *r;
	char q[160];

	/* without a desk (supportd test), someone is always there */
	team = k ? desk_team(k, team) : (team && team[0] ? team : cfg->desk.default_team);
	if (k)
		team = desk_language_team(k, lang, team, now);
	open = k ? desk_available(k, team, now) : DESK_OPEN;
	atomic_fetch_add(&pipeline_metrics(p)->handoffs_total, 1);
	log_info(pipeline_logger(p), "handoff", "conv=%s team=%s source=%s open=%d upset=%d",
		 conv->public_id, log_quote(team, q, sizeof(q)), source, open == DESK_OPEN, upset);
	free(s->handoff_team);
	free(s->handoff_reason);
	s->handoff_team = xstrdup(team);
	s->handoff_reason = xstrdup(reason ? reason : "");
	s->handoff_source = source;
	r = add_reply(s);
	r->source = xstrdup("handoff");
	r->handoff_team = xstrdup(team);
	if (open == DESK_OPEN) {
		r->text = text ? xstrdup(text) : flowhost_fill(fh, lang, "flow.handoff", "team", team);
		s->desk.op = STORE_DESK_ENQUEUE;
		free(s->desk.team);
		free(s->desk.reason);
		s->desk.team = xstrdup(team);
		s->desk.reason = xstrdup(reason ? reason : "");
		s->desk.upset = upset;
		return;
	}
	r->text = flowhost_fill(fh, lang, open == DESK_CLOSED ? "desk.closed_hours" : "desk.offline",
				"team", team);
	if (flowhost_has(fh, "leave_message")) {
		struct script_action a = {0};
		a.start_flow = "leave_message";
		a.lang = (char *)lang;
		a.team = (char *)team;
		start_flow(p, k, cfg, conv, &a, now, s);
	}
}

/* Ends the conversation's flow run, in memory now and in the store with
 * the step. */
static void end_flow(pipeline *p, struct conversation *conv, struct bot_step *s)
{
	if (!conv->flow)
		return;
	bot_forget_run(p, conv);
	conversation_set_flow(&conv->flow, NULL);
	conv->flow_http = 0;
	s->flow_op = STORE_FLOW_END;
}

/* Turns a flow step's outcome into the bot's step, and moves the
 * conversation's run along. Takes what o holds. */
static void apply_outcome(pipeline *p, desk *k, const struct config *cfg,
			  struct conversation *conv, struct flow_outcome *o, int64_t now,
			  struct bot_step *s)
{
	flowhost *fh = pipeline_flows(p);
	const char *lang = lang_of(conv);

	take_replies(s, o->replies, o->n);
	free(o->replies);
	o->replies = NULL;
	o->n = 0;
	if (o->slots) {
		free(s->slots);
		s->slots = o->slots;
		o->slots = NULL;
	}
	if (o->ticket_email && conv->flow) {
		s->desk.op = STORE_DESK_TICKET;
		s->desk.team = xstrdup(k ? desk_team(k, conv->flow->team)
					 : conv->flow->team ? conv->flow->team : cfg->desk.default_team);
		s->desk.email = o->ticket_email;
		s->desk.text = o->ticket_message;
		o->ticket_email = o->ticket_message = NULL;
		log_info(pipeline_logger(p), "ticket", "conv=%s team=%s", conv->public_id,
			 s->desk.team);
	}
	switch (o->status) {
	case FLOW_WAIT_ANSWER:
	case FLOW_WAIT_HTTP:
		s->flow_op = STORE_FLOW_SAVE;
		conversation_set_flow(&s->log, NULL);
		s->log = xcalloc(1, sizeof(*s->log));
		flowlog_copy(s->log, conv->flow);
		s->waiting_http = o->status == FLOW_WAIT_HTTP;
		s->deadline_ms = now + cfg->flows.answer_timeout_ms;
		conv->flow_http = s->waiting_http;
		conv->flow_deadline_ms = s->deadline_ms;
		if (s->waiting_http) {
			s->call = o->call;
			memset(&o->call, 0, sizeof(o->call));
		}
		break;
	case FLOW_DONE:
		end_flow(p, conv, s);
		break;
	case FLOW_HANDOFF: {
		char *team = xstrdup(o->team ? o->team : "general"), *why = xstrdup(o->reason ? o->reason : "");
		end_flow(p, conv, s);
		handoff(p, k, cfg, conv, s, team, why, "flow", NULL, 0, now);
		free(team);
		free(why);
		break;
	}
	case FLOW_FAILED: {
		char reason[300];
		atomic_fetch_add(&pipeline_metrics(p)->flows_failed_total, 1);
		say(s, flowhost_text(fh, lang, "flow.error"), "error");
		snprintf(reason, sizeof(reason), "flow %s failed: %s",
			 conv->flow ? conv->flow->flow : "?", o->reason ? o->reason : "?");
		char *team = xstrdup(o->team ? o->team : "general");
		end_flow(p, conv, s);
		handoff(p, k, cfg, conv, s, team, reason, "flow", NULL, 0, now);
		free(team);
		break;
	}
	}
	flow_outcome_clear(o);
}

static void start_flow(pipeline *p, desk *k, const struct config *cfg, struct conversation *conv,
		       const struct script_action *a, int64_t now, struct bot_step *s)
{
	struct flow_conv fc = {conv->public_id, conv->name};
	struct flow_outcome o;

	end_flow(p, conv, s); /* a new flow replaces the one before */
	conv->flow = xcalloc(1, sizeof(*conv->flow));
	flowlog_init(conv->flow, a->start_flow, a->lang ? a->lang : lang_of(conv), a->team);
	flow_start(run_flows(p, conv), &fc, conv->flow, &o);
	apply_outcome(p, k, cfg, conv, &o, now, s);
}

/* The brain's best candidates as JSON, for the unanswered list. */
static char *candidates_json(const struct brain_result *u)
{
	json_t *list = json_array();
	char *s;
	for (size_t i = 0; i < u->n && i < 3; i++)
		json_array_append_new(list, json_pack("{s:s, s:f}", "source", u->top[i].source,
						      "confidence", u->top[i].confidence));
	s = json_dumps(list, JSON_COMPACT);
	json_decref(list);
	if (!s)
		abort();
	return s;
}

/* Whether the bot failed this message, and how: it fell back, handed off
 * because it was unsure, or answered with little confidence; or the
 * customer turned down its "did you mean" (then the question is the one
 * that was clarified). Records it in the step, and keeps a clarified
 * question for the next message. */
static void note_unanswered(struct conversation *conv, const char *text, size_t len,
			    const char *choice, const struct pipeline_decision *dec,
			    struct bot_step *s)
{
	const struct brain_result *u = &dec->understood;
	const char *kind = NULL;
	int clarified = 0;

	for (size_t i = 0; i < dec->n; i++) {
		const char *src = dec->replies[i].source ? dec->replies[i].source : "";
		if (!strcmp(src, "fallback"))
			kind = dec->action.handoff ? "unsure" : "fallback";
		else if (!strcmp(src, "clarify"))
			clarified = 1;
		else if (!kind && (!strncmp(src, "faq:", 4) || !strncmp(src, "intent:", 7)) &&
			 dec->replies[i].has_confidence &&
			 dec->replies[i].confidence < u->thresholds.answer + 0.1)
			kind = "low_confidence";
	}
	if (!kind && choice && conv->clarified && (!strcmp(choice, "other") || !strcmp(choice, "handoff"))) {
		s->unanswered = "clarify_rejected";
		s->unanswered_text = conv->clarified;
		s->unanswered_candidates = conv->clarified_candidates;
		conv->clarified = conv->clarified_candidates = NULL;
	} else if (kind) {
		s->unanswered = kind;
		s->unanswered_text = xstrndup(text, len);
		s->unanswered_candidates = candidates_json(u);
	}
	free(conv->clarified);
	free(conv->clarified_candidates);
	conv->clarified = clarified ? xstrndup(text, len) : NULL;
	conv->clarified_candidates = clarified ? candidates_json(u) : NULL;
	snprintf(s->lang, sizeof(s->lang), "%s", u->lang);
}

/* Which language the conversation is in, with this message (langid.h).
 * Until it is sure, the guess is made on its first messages together (a
 * short line alone is hard) and used as it stands; it is sure once the
 * detector is and the sample has LANG_SURE_MIN bytes. Then it sticks, and
 * is stored, unless a message of LANG_SURE_MIN bytes or more is surely in
 * another of the content's languages: the customer switched. */
#define LANG_SAMPLE_MAX 400
#define LANG_SURE_MIN 20
static void follow_language(pipeline *p, struct conversation *conv, const char *text,
			    size_t len, struct bot_step *s)
{
	struct langid_guess g;

	if (!conv->lang_sure) {
		size_t had = conv->lang_sample ? strlen(conv->lang_sample) : 0;
		size_t add = len < LANG_SAMPLE_MAX - had ? len : LANG_SAMPLE_MAX - had;
		if (had < LANG_SAMPLE_MAX) {
			conv->lang_sample = xrealloc(conv->lang_sample, had + add + 2);
			if (had)
				conv->lang_sample[had++] = ' ';
			memcpy(conv->lang_sample + had, text, add);
			conv->lang_sample[had + add] = '\0';
		}
		pipeline_guess_language(p, conv->lang_sample, strlen(conv->lang_sample), &g);
		g.sure = g.sure && strlen(conv->lang_sample) >= LANG_SURE_MIN;
	} else {
		/* a switch needs a long enough message that does not plainly
		 * read as the conversation's language (its function words):
		 * only then is the fingerprint worth making */
		if (len < LANG_SURE_MIN ||
		    (conv->lang && pipeline_reads_as(p, text, len, conv->lang)))
			return;
		pipeline_guess_language(p, text, len, &g);
		if (!g.sure || (conv->lang && !strncmp(conv->lang, g.lang, 2)))
			return;
	}
	if (!g.lang[0])
		return;
	free(conv->lang);
	conv->lang = xstrdup(g.lang);
	if (g.sure) {
		conv->lang_sure = 1;
		free(conv->lang_sample);
		conv->lang_sample = NULL;
		snprintf(s->detected_lang, sizeof(s->detected_lang), "%s", g.lang);
		log_info(pipeline_logger(p), "language", "conv=%s lang=%s margin=%.3f",
			 conv->public_id, g.lang, g.margin);
	}
}

void bot_on_message(pipeline *p, desk *k, const struct config *cfg, struct conversation *conv,
		    const char *text, size_t len, const char *choice, int64_t now,
		    struct bot_step *s)
{
	struct pipeline_input pin = {conv->public_id, conv->lang, conv->name, conv->turn + 1,
				     text, len, choice, conv->flow ? conv->flow->flow : NULL, 0, NULL,
				     NULL, 0};
	struct pipeline_decision dec;
	struct script_action *a = &dec.action;
	struct flow_conv fc = {conv->public_id, conv->name};
	char source[80];

	memset(s, 0, sizeof(*s));
	if (!choice)
		follow_language(p, conv, text, len, s);
	pin.lang = conv->lang;
	pin.lang_unsure = !conv->lang_sure;
	if (conv->status == STORE_CONV_QUEUED || conv->status == STORE_CONV_AGENT)
		return; /* a person has it: stored, and shown to the agent */
	if (conv->status == STORE_CONV_CLOSED)
		s->desk.op = STORE_DESK_REOPEN; /* the bot again, unless it hands off anew */
	pin.unsure = conv->unsure;
	pin.trend = &conv->mood;
	pin.topic_team = conv->topic_team[0] ? conv->topic_team : NULL;
	pipeline_run(p, &pin, &dec);
	if (!conv->lang_sure && dec.understood.lang[0] &&
	    (!conv->lang || strcmp(conv->lang, dec.understood.lang))) {
		free(conv->lang); /* the content that understood it: the guess so far */
		conv->lang = xstrdup(dec.understood.lang);
	}
	/* what it is about: a candidate the bot was sure enough to answer with */
	if (dec.understood.n && dec.understood.top[0].team &&
	    dec.understood.top[0].confidence >= dec.understood.thresholds.answer && !a->handoff)
		snprintf(conv->topic_team, sizeof(conv->topic_team), "%s", dec.understood.top[0].team);
	s->mood = mood_trend_json(&conv->mood);
	conv->unsure = 0;
	for (size_t i = 0; i < dec.n; i++)
		if (dec.replies[i].source && !strcmp(dec.replies[i].source, "fallback"))
			conv->unsure = pin.unsure + 1;
	note_unanswered(conv, text, len, choice, &dec, s);
	take_replies(s, dec.replies, dec.n);
	free(dec.replies);
	dec.replies = NULL;
	dec.n = 0;

	if (a->handoff) {
		const char *team = a->handoff_team;
		if (!team && dec.understood.n)
			team = dec.understood.top[0].team;
		end_flow(p, conv, s);
		handoff(p, k, cfg, conv, s, team,
			a->handoff_reason ? a->handoff_reason : "the customer asked for a person",
			"pipeline", a->handoff_text, a->upset, now);
	} else if (a->cancel_flow) {
		end_flow(p, conv, s);
	} else if (a->start_flow) {
		if (flowhost_has(pipeline_flows(p), a->start_flow)) {
			atomic_fetch_add(&pipeline_metrics(p)->flows_started_total, 1);
			start_flow(p, k, cfg, conv, a, now, s);
		} else {
			say(s, flowhost_text(pipeline_flows(p), lang_of(conv), "flow.error"), "error");
			log_error(pipeline_logger(p), "flow_error", "conv=%s flow=%s reason=\"no such flow\"",
				  conv->public_id, a->start_flow);
		}
	} else if (a->to_flow && conv->flow) {
		if (conv->flow_http && conv->call_in_flight) {
			say(s, flowhost_text(pipeline_flows(p), lang_of(conv), "flow.busy"),
			    flow_source(conv, source, sizeof(source)));
		} else if (conv->flow_http) {
			/* the call was cut off by a restart: settle it first */
			struct flow_outcome o;
			flow_recover(run_flows(p, conv), &fc, conv->flow, &o);
			apply_outcome(p, k, cfg, conv, &o, now, s);
		} else {
			struct flow_outcome o;
			char *t = xstrndup(text, len);
			flow_answer(run_flows(p, conv), &fc, conv->flow, t, choice, &o);
			free(t);
			apply_outcome(p, k, cfg, conv, &o, now, s);
		}
	}
	pipeline_decision_clear(&dec);
}

void bot_on_reply(pipeline *p, desk *k, const struct config *cfg, struct conversation *conv,
		  const struct backend_result *r, int64_t now, struct bot_step *s)
{
	struct flow_conv fc = {conv->public_id, conv->name};
	struct flow_outcome o;

	memset(s, 0, sizeof(*s));
	if (!conv->flow || !conv->flow_http || !flowlog_pending(conv->flow))
		return; /* the flow ended meanwhile (cancel, handoff) */
	flow_reply(run_flows(p, conv), &fc, conv->flow, r, &o);
	apply_outcome(p, k, cfg, conv, &o, now, s);
}

void bot_on_due(pipeline *p, desk *k, const struct config *cfg, struct conversation *conv,
		int64_t now, struct bot_step *s)
{
	struct flow_conv fc = {conv->public_id, conv->name};
	struct flow_outcome o;

	memset(s, 0, sizeof(*s));
	if (!conv->flow)
		return;
	if (conv->flow_http) {
		if (conv->call_in_flight)
			return;
		flow_recover(run_flows(p, conv), &fc, conv->flow, &o);
		apply_outcome(p, k, cfg, conv, &o, now, s);
		return;
	}
	if (conv->flow_deadline_ms > now)
		return;
	log_info(pipeline_logger(p), "flow_timeout", "conv=%s flow=%s", conv->public_id,
		 conv->flow->flow);
	char source[80];
	say(s, flowhost_text(pipeline_flows(p), lang_of(conv), "flow.timeout"),
	    flow_source(conv, source, sizeof(source)));
	end_flow(p, conv, s);
}

void bot_to_job(struct bot_step *s, struct store_job *job, const char *in_reply_to,
		int64_t now)
{
	struct stored_run *sr = xcalloc(1, sizeof(*sr));

	if (s->n) {
		job->extra = xcalloc(s->n, sizeof(*job->extra));
		for (size_t i = 0; i < s->n; i++) {
			job->extra[i].kind = "reply";
			job->extra[i].body = wire_reply_body(&s->replies[i], in_reply_to, now);
			job->extra[i].body_len = strlen(job->extra[i].body);
			wire_reply_clear(&s->replies[i]);
		}
		job->n_extra = s->n;
	}
	free(s->replies);
	s->replies = NULL;
	s->n = 0;
	job->flow_op = s->flow_op;
	sr->op = (int)s->flow_op;
	if (s->flow_op == STORE_FLOW_SAVE) {
		job->flow_name = xstrdup(s->log->flow);
		job->flow_log = flowlog_encode(s->log);
		job->flow_waiting = s->waiting_http ? "http" : "answer";
		job->flow_deadline_ms = s->deadline_ms;
		sr->log = s->log;
		sr->http = s->waiting_http;
		s->log = NULL;
	}
	job->slots = s->slots;
	s->slots = NULL;
	job->handoff_team = s->handoff_team;
	job->handoff_reason = s->handoff_reason;
	job->handoff_source = s->handoff_source;
	s->handoff_team = s->handoff_reason = NULL;
	sr->call = s->call;
	memset(&s->call, 0, sizeof(s->call));
	job->desk = s->desk;
	memset(&s->desk, 0, sizeof(s->desk));
	job->mood = s->mood;
	s->mood = NULL;
	if (s->detected_lang[0])
		job->set_lang = xstrdup(s->detected_lang);
	if (s->unanswered) {
		job->unanswered_kind = s->unanswered;
		job->unanswered_text = s->unanswered_text;
		job->unanswered_candidates = s->unanswered_candidates;
		job->unanswered_lang = s->lang[0] ? xstrdup(s->lang) : NULL;
		s->unanswered_text = s->unanswered_candidates = NULL;
	}
	job->user = sr;
	job->user_free = stored_run_free;
}

void bot_stored(pipeline *p, struct conversation *conv, struct store_job *job,
		struct flow_call *call)
{
	struct stored_run *sr = job->user;

	memset(call, 0, sizeof(*call));
	if (!sr)
		return;
	if (job->status == STORE_OK) {
		if (sr->op == STORE_FLOW_SAVE) {
			conversation_set_flow(&conv->flow_stored, sr->log);
			conv->flow_stored_http = sr->http;
			sr->log = NULL;
		} else if (sr->op == STORE_FLOW_END) {
			conversation_set_flow(&conv->flow_stored, NULL);
		}
		/* send the call unless the flow ended or moved on meanwhile */
		if (sr->call.method[0] && conv->flow && conv->flow_http && !conv->call_in_flight &&
		    flowlog_pending(conv->flow)) {
			*call = sr->call;
			memset(&sr->call, 0, sizeof(sr->call));
		}
		return;
	}
	if (sr->op == STORE_FLOW_KEEP)
		return;
	/* the store did not keep the step: go back to what it has */
	flow_drop(run_flows(p, conv), conv->public_id);
	conversation_set_flow(&conv->flow, NULL);
	if (!conv->flow_stored)
		drop_version(conv);
	if (conv->flow_stored) {
		conv->flow = xcalloc(1, sizeof(*conv->flow));
		flowlog_copy(conv->flow, conv->flow_stored);
	}
	conv->flow_http = conv->flow_stored_http;
}
