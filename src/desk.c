/* desk.c: the support desk. See desk.h and docs/desk.md.
 *
 * Agents' connections are found by id (queue_agent.conn), never kept as
 * pointers: a store job that returns after the agent left finds nothing.
 * This file builds the frames agents receive. */
#include "desk.h"

#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent.h"
#include "agentadmin.h"
#include "chat.h"
#include "clock.h"
#include "content.h"
#include "daemon.h"
#include "queue.h"
#include "token.h"
#include "xalloc.h"

#define TICK_MS 100            /* offer deadlines, pushed views and positions */
#define VIEW_MAX 100           /* waiting chats shown in one queue view */

/* What an agent connection knows besides agent.c's part. */
struct seat {
	int64_t agent;
	uint64_t conn;
	char token_hash[crypto_pwhash_STRBYTES]; /* the one it logged in with */
};

struct desk {
	struct daemon *d;          /* borrowed */
	struct queue q;
	struct seat *seats;        /* agent id -> connection id */
	size_t n_seats, seats_cap;
	int loaded;                /* the stored queue is in */
	int dirty;                 /* views and positions to push at the next tick */
	int64_t next_check;        /* wall ms of the next check of the logins */
	int checks_in_flight;      /* STORE_AGENT_CHECK jobs not back yet */
	lws_sorted_usec_list_t tick;
};

/* ===== seats: which connection an agent is on ===== */

static struct seat *seat_of(desk *k, int64_t agent)
{
	for (size_t i = 0; i < k->n_seats; i++)
		if (k->seats[i].agent == agent)
			return &k->seats[i];
	return NULL;
}

static struct agent_conn *conn_of(desk *k, int64_t agent)
{
	struct seat *s = seat_of(k, agent);
	return s ? agents_find(k->d->agents, s->conn) : NULL;
}

static void seat_set(desk *k, int64_t agent, uint64_t conn)
{
	struct seat *s = seat_of(k, agent);
	if (!s) {
		if (k->n_seats == k->seats_cap) {
			k->seats_cap = k->seats_cap ? k->seats_cap * 2 : 8;
			k->seats = xrealloc(k->seats, k->seats_cap * sizeof(*k->seats));
		}
		s = &k->seats[k->n_seats++];
		s->agent = agent;
	}
	s->conn = conn;
}

/* The logged-in agent of a connection, or NULL. */
static struct queue_agent *agent_of(desk *k, struct agent_conn *c)
{
	int64_t id = agent_id_of(c);
	struct seat *s = id ? seat_of(k, id) : NULL;
	if (!s || s->conn != agent_conn_id(c))
		return NULL;
	return queue_agent_find(&k->q, id);
}

static struct queue_entry *entry_by_public(desk *k, const char *public_id)
{
	for (size_t i = 0; i < k->q.n; i++)
		if (!strcmp(k->q.v[i]->public_id, public_id))
			return k->q.v[i];
	return NULL;
}

/* ===== frames to agents ===== */

static void send_to(desk *k, int64_t agent, json_t *frame)
{
	struct agent_conn *c = conn_of(k, agent);
	if (c)
		agent_send(c, frame);
	else
		json_decref(frame);
}

/* Sends frame (taken) to every signed-in agent of team. */
static void send_to_team(desk *k, const char *team, json_t *frame)
{
	for (size_t i = 0; i < k->q.n_agents; i++) {
		struct queue_agent *a = k->q.agents[i];
		if (queue_agent_in_team(a, team))
			send_to(k, a->id, json_incref(frame));
	}
	json_decref(frame);
}

static json_t *entry_json(const desk *k, const struct queue_entry *e, int64_t now)
{
	const struct queue_agent *a = e->offered_to ? queue_agent_find(&k->q, e->offered_to) : NULL;
	return json_pack("{s:s, s:s, s:b, s:s, s:I, s:s?, s:s?, s:s?}", "conversation", e->public_id,
			 "team", e->team, "upset", e->upset, "reason", e->reason, "waiting_ms",
			 (json_int_t)(now - e->enqueued_at), "name", e->name, "lang", e->lang,
			 "offered_to", a && a->name[0] ? a->name : NULL);
}

static json_t *view_for(const desk *k, const struct queue_agent *a, int64_t now)
{
	json_t *list = json_array();
	size_t shown = 0, waiting = 0;

	for (size_t i = 0; i < k->q.n; i++) {
		const struct queue_entry *e = k->q.v[i];
		if (e->agent || !queue_agent_in_team(a, e->team))
			continue;
		waiting++;
		if (shown++ < VIEW_MAX)
			json_array_append_new(list, entry_json(k, e, now));
	}
	return json_pack("{s:s, s:o, s:I}", "type", "queue_view", "waiting", list, "total",
			 (json_int_t)waiting);
}

/* ===== the tick: offer deadlines, views, positions ===== */

static void dispatch(desk *k);

static void revoke_offer(desk *k, struct queue_entry *e, const char *reason)
{
	struct queue_agent *a = queue_agent_find(&k->q, e->offered_to);
	if (a) {
		a->offered--;
		send_to(k, a->id, json_pack("{s:s, s:s, s:s}", "type", "revoked", "conversation",
					    e->public_id, "reason", reason));
	}
	e->offered_to = 0;
	k->dirty = 1;
}

/* Tells a waiting customer their place if it changed, or if the estimate
 * moved by more than a quarter (and 15 s): the estimate moves with every
 * chat taken, and a thousand customers need not hear each wiggle. */
static void push_position(desk *k, struct queue_entry *e)
{
	int pos = queue_position(&k->q, e);
	int64_t eta = pos ? queue_eta_sec(&k->q, e) : 0;
	int64_t moved = eta > e->last_eta_sec ? eta - e->last_eta_sec : e->last_eta_sec - eta;

	if (!pos || (pos == e->last_position && (moved < 15 || moved * 4 < e->last_eta_sec)))
		return;
	e->last_position = pos;
	e->last_eta_sec = eta;
	chat_notify(k->d->chat, e->conv, wire_queue(e->team, pos, eta));
}

static void push_positions(desk *k)
{
	for (size_t i = 0; i < k->q.n; i++)
		push_position(k, k->q.v[i]);
}

static void push_views(desk *k, int64_t now)
{
	for (size_t i = 0; i < k->q.n_agents; i++) {
		struct queue_agent *a = k->q.agents[i];
		struct agent_conn *c = conn_of(k, a->id); /* away agents see the queue too */
		if (c)
			agent_send(c, view_for(k, a, now));
	}
}

static void requeue(desk *k, struct queue_agent *a, struct agent_conn *c, struct queue_entry *e,
		    const char *team, const char *reason, int64_t target);

/* A login checked against the agents table: an agent removed meanwhile
 * (supportd agent remove) loses its connection, its console key and its
 * chats, which go back to the queue; one given a new token (agent add
 * again) loses the connection that logged in with the old one. */
static void on_checked(struct store_job *job, void *ud)
{
	desk *k = ud;
	struct queue_agent *a = queue_agent_find(&k->q, job->agent.id);
	struct seat *s = a ? seat_of(k, a->id) : NULL;
	struct agent_conn *c = a ? conn_of(k, a->id) : NULL;

	k->checks_in_flight--;
	if (!a) {
		store_job_free(job);
		return;
	}
	if (job->status == STORE_NOT_FOUND) {
		char reason[QUEUE_NAME_MAX + 32];
		log_warn(&k->d->log, "agent_removed", "agent=%s connected=%d assigned=%d", a->name,
			 c != NULL, a->assigned);
		sodium_memzero(a->session, sizeof(a->session));
		if (c)
			agent_session_ended(c, "this agent was removed");
		snprintf(reason, sizeof(reason), "agent removed%s%s", a->name[0] ? ": " : "", a->name);
		for (size_t i = 0; i < k->q.n; i++) {
			struct queue_entry *e = k->q.v[i];
			if (e->agent == a->id && !e->requeueing)
				requeue(k, a, NULL, e, NULL, reason, 0);
		}
	} else if (job->status == STORE_OK && c && s && s->token_hash[0] && job->agent.token_hash &&
		   strcmp(s->token_hash, job->agent.token_hash)) {
		log_warn(&k->d->log, "agent_token_changed", "agent=%s", a->name);
		sodium_memzero(a->session, sizeof(a->session));
		agent_session_ended(c, "this agent was given a new token; log in with it");
	} else if (job->status != STORE_OK) {
		log_error(&k->d->log, "desk_store_failed", "op=agent_check status=%d", (int)job->status);
	}
	store_job_free(job);
}

/* Checks every agent that is logged in or holds chats (on_checked). */
static void check_logins(desk *k)
{
	for (size_t i = 0; i < k->q.n_agents; i++) {
		struct queue_agent *a = k->q.agents[i];
		struct store_job *job;
		if (!conn_of(k, a->id) && !a->assigned)
			continue;
		job = store_job_new(STORE_AGENT_CHECK);
		job->agent.id = a->id;
		k->checks_in_flight++;
		store_submit(k->d->store, job, on_checked, k);
	}
}

static void on_tick(lws_sorted_usec_list_t *sul)
{
	desk *k = lws_container_of(sul, desk, tick);
	int64_t now = clock_wall_ms();

	if (k->loaded && !k->checks_in_flight && now >= k->next_check) {
		k->next_check = now + k->d->cfg.desk.session_check_ms;
		check_logins(k);
	}

	for (size_t i = 0; i < k->q.n; i++) {
		struct queue_entry *e = k->q.v[i];
		if (!e->offered_to || now < e->offer_deadline)
			continue;
		if (e->n_skipped < QUEUE_SKIPPED_MAX)
			e->skipped[e->n_skipped++] = e->offered_to;
		log_info(&k->d->log, "offer_timeout", "conv=%s agent=%lld", e->public_id,
			 (long long)e->offered_to);
		revoke_offer(k, e, "timeout");
	}
	if (k->dirty) {
		k->dirty = 0;
		dispatch(k);
		push_positions(k);
		push_views(k, now);
	}
	if (!k->d->stop)
		lws_sul_schedule(k->d->lws, 0, &k->tick, on_tick, TICK_MS * LWS_US_PER_MS);
}

/* Makes every offer that can be made now. */
static void dispatch(desk *k)
{
	struct queue_entry *e;
	struct queue_agent *a;
	int64_t now = clock_wall_ms();

	if (!k->loaded)
		return;
	queue_sort(&k->q);
	while (queue_next_offer(&k->q, &e, &a) == 0) {
		e->offered_to = a->id;
		e->offer_deadline = now + k->d->cfg.desk.accept_timeout_ms;
		a->offered++;
		k->dirty = 1;
		log_info(&k->d->log, "offer", "conv=%s agent=%s team=%s waited_ms=%lld", e->public_id,
			 a->name, e->team, (long long)(now - e->enqueued_at));
		send_to(k, a->id, json_pack("{s:s, s:s, s:s, s:b, s:s, s:i}", "type", "offer",
					    "conversation", e->public_id, "team", e->team, "upset",
					    e->upset, "reason", e->reason, "expires_in_ms",
					    k->d->cfg.desk.accept_timeout_ms));
	}
}

/* ===== start ===== */

static void on_loaded(struct store_job *job, void *ud)
{
	desk *k = ud;

	if (job->status != STORE_OK) {
		log_error(&k->d->log, "desk_load_failed", "status=%d", (int)job->status);
	} else {
		for (size_t i = 0; i < job->n_queued; i++) {
			const struct store_queued *s = &job->queued[i];
			struct queue_entry *e = queue_add(&k->q, s->conv, s->public_id, s->team, s->reason,
							  s->upset, s->enqueued_at);
			e->name = s->name ? xstrdup(s->name) : NULL;
			e->lang = s->lang ? xstrdup(s->lang) : NULL;
			if (s->agent_id) {
				e->agent = s->agent_id;
				queue_agent(&k->q, s->agent_id)->assigned++;
			}
		}
		log_info(&k->d->log, "desk_loaded", "chats=%zu", job->n_queued);
	}
	k->loaded = 1;
	k->dirty = 1;
	store_job_free(job);
}

desk *desk_new(struct daemon *d)
{
	desk *k = xcalloc(1, sizeof(*k));
	k->d = d;
	queue_init(&k->q);
	return k;
}

void desk_start(desk *k)
{
	store_submit(k->d->store, store_job_new(STORE_DESK_LOAD), on_loaded, k);
	lws_sul_schedule(k->d->lws, 0, &k->tick, on_tick, TICK_MS * LWS_US_PER_MS);
}

void desk_free(desk *k)
{
	if (!k)
		return;
	if (k->d->lws)
		lws_sul_cancel(&k->tick);
	queue_clear(&k->q);
	free(k->seats);
	free(k);
}

int64_t desk_session_agent(const desk *k, const char *session)
{
	size_t n = strlen(session);
	if (n == 0 || n >= sizeof(k->q.agents[0]->session))
		return 0;
	for (size_t i = 0; i < k->q.n_agents; i++) {
		const struct queue_agent *a = k->q.agents[i];
		if (a->session[0] && strlen(a->session) == n && sodium_memcmp(a->session, session, n) == 0)
			return a->id;
	}
	return 0;
}

long desk_waiting(const desk *k)
{
	return k ? (long)k->q.n : 0;
}

const char *desk_team(const desk *k, const char *team)
{
	return team && team[0] ? team : k->d->cfg.desk.default_team;
}

/* The team's hours, or NULL when it has none (always open). */
static const struct hours *hours_of(const desk *k, const char *team)
{
	const struct config *cfg = &k->d->cfg;
	for (size_t i = 0; i < cfg->desk.n_teams; i++)
		if (!strcmp(cfg->desk.teams[i].name, team))
			return &cfg->desk.teams[i].hours;
	return NULL;
}

const char *desk_language_team(const desk *k, const char *lang, const char *team,
			       int64_t now_ms)
{
	const struct config *cfg = &k->d->cfg;
	for (size_t i = 0; lang && i < cfg->desk.n_language_teams; i++)
		if (!strncmp(cfg->desk.language_teams[i].name, lang, 2) &&
		    strlen(cfg->desk.language_teams[i].name) == 2)
			return desk_available(k, cfg->desk.language_teams[i].value, now_ms) == DESK_OPEN
				       ? cfg->desk.language_teams[i].value
				       : team;
	return team;
}

enum desk_open desk_available(const desk *k, const char *team, int64_t now_ms)
{
	const struct hours *h;

	team = desk_team(k, team);
	h = hours_of(k, team);
	if (h && hours_open(h, now_ms, NULL) == 0)
		return DESK_CLOSED;
	return queue_agents_online(&k->q, team) ? DESK_OPEN : DESK_NOBODY;
}

/* ===== the customer side ===== */

void desk_on_stored(desk *k, struct conversation *conv, const struct store_job *job)
{
	struct queue_entry *e;

	if (job->desk.op == STORE_DESK_ENQUEUE) {
		e = queue_add(&k->q, conv->id, conv->public_id, job->desk.team, job->desk.reason,
			      job->desk.upset, job->now_ms);
		if (!e->name && conv->name)
			e->name = xstrdup(conv->name);
		if (!e->lang && conv->lang)
			e->lang = xstrdup(conv->lang);
		e->last_position = 0; /* tell the customer their place */
		log_info(&k->d->log, "enqueued", "conv=%s team=%s upset=%d", conv->public_id,
			 e->team, e->upset);
		k->dirty = 1;
		dispatch(k);
		push_position(k, e); /* the others hear at the next tick */
	}
	if (job->desk.op == STORE_DESK_TICKET) /* shown to whoever of the team is signed in */
		send_to_team(k, job->desk.team,
			     json_pack("{s:s, s:I, s:s, s:s, s:s, s:s, s:I}", "type", "ticket", "id",
				       (json_int_t)job->desk.ticket_id, "conversation", conv->public_id,
				       "team", job->desk.team, "email", job->desk.email, "message",
				       job->desk.text, "created_at", (json_int_t)job->now_ms));
	if (job->client_id && (e = queue_find(&k->q, conv->id)) && e->agent) {
		json_t *m = json_loadb(job->body, job->body_len, 0, NULL);
		if (m) {
			json_object_set_new(m, "conversation", json_string(conv->public_id));
			json_object_set_new(m, "seq", json_integer(job->seq));
			send_to(k, e->agent, m);
		}
	}
}

void desk_on_customer_typing(desk *k, const struct conversation *conv, int state)
{
	struct queue_entry *e = queue_find(&k->q, conv->id);
	if (e && e->agent)
		send_to(k, e->agent, json_pack("{s:s, s:s, s:b}", "type", "typing", "conversation",
					       conv->public_id, "state", state));
}

void desk_on_attached(desk *k, const struct conversation *conv)
{
	struct queue_entry *e = queue_find(&k->q, conv->id);
	if (e && !e->agent) {
		e->last_position = 0;
		k->dirty = 1;
	}
}

/* ===== login ===== */

/* Splits "a,b" into the agent's teams. */
static void set_teams(struct queue_agent *a, const char *list)
{
	const char *p = list;
	a->n_teams = 0;
	while (*p && a->n_teams < QUEUE_TEAMS_MAX) {
		size_t n = strcspn(p, ",");
		if (n && n <= QUEUE_NAME_MAX) {
			memcpy(a->teams[a->n_teams], p, n);
			a->teams[a->n_teams++][n] = '\0';
		}
		p += n + (p[n] == ',');
	}
}

static void send_context(desk *k, int64_t agent, const struct queue_entry *e);

static void on_agent_row(struct store_job *job, void *ud)
{
	desk *k = ud;
	struct agent_conn *c = agents_find(k->d->agents, job->conn_id);
	struct queue_agent *a;
	json_t *chats, *tickets;

	if (!c) {
		store_job_free(job);
		return;
	}
	if (job->status != STORE_OK || !job->agent.token_hash ||
	    !agentadmin_check_token(job->agent.token_hash, (const char *)job->user)) {
		agent_login_refused(c);
		store_job_free(job);
		return;
	}
	a = queue_agent(&k->q, job->agent.id);
	snprintf(a->name, sizeof(a->name), "%s", job->agent.name);
	set_teams(a, job->agent.teams);
	a->capacity = job->agent.capacity;
	{ /* a second login of the same agent takes over from the first */
		struct agent_conn *old = conn_of(k, a->id);
		if (old && old != c)
			agent_replaced(old);
	}
	seat_set(k, a->id, agent_conn_id(c));
	snprintf(seat_of(k, a->id)->token_hash, sizeof(seat_of(k, a->id)->token_hash), "%s",
		 job->agent.token_hash);
	a->online = 1;
	if (!a->idle_since)
		a->idle_since = clock_wall_ms();
	a->assigned = 0;
	a->offered = 0;
	for (size_t i = 0; i < k->q.n; i++) {
		a->assigned += k->q.v[i]->agent == a->id;
		a->offered += k->q.v[i]->offered_to == a->id;
	}
	agent_logged_in(c, a->id);
	{ /* a key for the console's HTTP requests (GET /api/stats) */
		unsigned char raw[24];
		if (token_random(raw, sizeof(raw)) == 0)
			sodium_bin2base64(a->session, sizeof(a->session), raw, sizeof(raw),
					  sodium_base64_VARIANT_URLSAFE_NO_PADDING);
		else
			a->session[0] = '\0';
	}

	chats = json_array();
	for (size_t i = 0; i < k->q.n; i++)
		if (k->q.v[i]->agent == a->id)
			json_array_append_new(chats, json_string(k->q.v[i]->public_id));
	tickets = json_array();
	for (size_t i = 0; i < job->n_tickets; i++) {
		const struct store_ticket *t = &job->tickets[i];
		json_array_append_new(tickets,
				      json_pack("{s:I, s:s, s:s, s:s, s:s, s:I}", "id", (json_int_t)t->id,
						"conversation", t->public_id, "team", t->team, "email",
						t->email, "message", t->message, "created_at",
						(json_int_t)t->created_at));
	}
	json_t *teams = json_array();
	for (size_t i = 0; i < a->n_teams; i++)
		json_array_append_new(teams, json_string(a->teams[i]));
	json_t *canned = json_loads(pipeline_canned(k->d->pipeline), 0, NULL);
	agent_send(c, json_pack("{s:s, s:s, s:o, s:i, s:o, s:o, s:s, s:o}", "type", "welcome", "agent",
				a->name, "teams", teams, "capacity", a->capacity, "chats", chats,
				"tickets", tickets, "session", a->session, "canned",
				canned ? canned : json_array()));
	/* the chats it had before: everything again */
	for (size_t i = 0; i < k->q.n; i++)
		if (k->q.v[i]->agent == a->id)
			send_context(k, a->id, k->q.v[i]);
	agent_send(c, view_for(k, a, clock_wall_ms()));
	k->dirty = 1;
	dispatch(k);
	store_job_free(job);
}

static void free_token(void *p)
{
	char *t = p;
	if (t) {
		sodium_memzero(t, strlen(t));
		free(t);
	}
}

void desk_login(desk *k, struct agent_conn *c, const char *name, const char *token)
{
	struct store_job *job = store_job_new(STORE_AGENT_GET);
	job->agent.name = xstrdup(name);
	job->conn_id = agent_conn_id(c);
	job->user = xstrdup(token);
	job->user_free = free_token;
	store_submit(k->d->store, job, on_agent_row, k);
}

void desk_agent_gone(desk *k, struct agent_conn *c)
{
	struct queue_agent *a = agent_of(k, c);
	if (!a)
		return;
	a->online = 0;
	sodium_memzero(a->session, sizeof(a->session));
	seat_set(k, a->id, 0);
	for (size_t i = 0; i < k->q.n; i++)
		if (k->q.v[i]->offered_to == a->id)
			revoke_offer(k, k->q.v[i], "gone");
	a->offered = 0;
	log_info(&k->d->log, "agent_gone", "agent=%s assigned=%d", a->name, a->assigned);
	k->dirty = 1;
}

/* The logged-in agent, or NULL after telling the connection. */
static struct queue_agent *need_agent(desk *k, struct agent_conn *c)
{
	struct queue_agent *a = agent_of(k, c);
	if (!a)
		agent_error(c, WIRE_ERR_LOGIN_REQUIRED, "log in first", NULL);
	return a;
}

void desk_presence(desk *k, struct agent_conn *c, int online)
{
	struct queue_agent *a = need_agent(k, c);
	if (!a)
		return;
	a->online = online;
	if (!online)
		for (size_t i = 0; i < k->q.n; i++)
			if (k->q.v[i]->offered_to == a->id)
				revoke_offer(k, k->q.v[i], "away");
	k->dirty = 1;
	dispatch(k);
}

void desk_queue_view(desk *k, struct agent_conn *c)
{
	struct queue_agent *a = need_agent(k, c);
	if (a)
		agent_send(c, view_for(k, a, clock_wall_ms()));
}

/* ===== chats ===== */

/* The chat conv for agent a, checked: it must exist and be in one of a's
 * teams; with mine, it must be a's. NULL after telling the agent. */
static struct queue_entry *chat_for(desk *k, struct agent_conn *c, struct queue_agent *a,
				    const char *conv, int mine, const char *id)
{
	struct queue_entry *e = entry_by_public(k, conv);
	if (!e) {
		agent_error(c, mine ? WIRE_ERR_NOT_ASSIGNED : WIRE_ERR_NOT_FOUND,
			    mine ? "that chat is not yours (it was closed or transferred)"
				 : "no chat waiting with that id", id);
		return NULL;
	}
	if (!queue_agent_in_team(a, e->team) && e->agent != a->id) {
		agent_error(c, WIRE_ERR_FORBIDDEN, "that chat belongs to another team", id);
		return NULL;
	}
	if (mine && e->agent != a->id) {
		agent_error(c, WIRE_ERR_NOT_ASSIGNED, "that chat is not yours", id);
		return NULL;
	}
	return e;
}

/* A reply said by the desk (an agent, or the system). */
static void add_say(struct store_job *job, const char *from, const char *agent,
		    const char *source, const char *text, int csat)
{
	struct wire_reply r = {0};
	static const char *const ids[5] = {"csat:1", "csat:2", "csat:3", "csat:4", "csat:5"};
	static const char *const labels[5] = {"1", "2", "3", "4", "5"};
	struct wire_choice choices[5];

	r.text = (char *)text;
	r.source = (char *)source;
	r.from = from;
	r.agent_name = (char *)agent;
	if (csat) {
		for (int i = 0; i < 5; i++) {
			choices[i].id = (char *)ids[i];
			choices[i].label = (char *)labels[i];
		}
		r.choices = choices;
		r.n_choices = 5;
	}
	job->extra = xrealloc(job->extra, (job->n_extra + 1) * sizeof(*job->extra));
	memset(&job->extra[job->n_extra], 0, sizeof(*job->extra));
	job->extra[job->n_extra].kind = !strcmp(from, "agent") ? "agent" : "system";
	job->extra[job->n_extra].body = wire_reply_body(&r, NULL, job->now_ms);
	job->extra[job->n_extra].body_len = strlen(job->extra[job->n_extra].body);
	job->n_extra++;
}

static struct store_job *desk_job(desk *k, enum store_desk_op op)
{
	struct store_job *job = store_job_new(STORE_APPEND);
	job->now_ms = clock_wall_ms();
	job->max_events = k->d->cfg.chat.max_events;
	job->desk.op = op;
	return job;
}

/* The customer's language for the desk's own texts: a catalog without it
 * gives English (flowhost_fill). */
static const char *lang_of(const struct queue_entry *e)
{
	return e->lang ? e->lang : "en";
}

static char *text_with(desk *k, const struct queue_entry *e, const char *key, const char *name,
		       const char *value)
{
	char lang[3];
	snprintf(lang, sizeof(lang), "%s", lang_of(e));
	return flowhost_fill(pipeline_flows(k->d->pipeline), lang, key, name, value);
}

/* What a desk job's callback needs. */
struct pending {
	desk *k;
	int64_t agent;
	uint64_t conn;
	int64_t conv;
	char public_id[CONVERSATION_ID_LEN + 1];
	char id[WIRE_ID_MAX + 1];     /* the agent's message id */
	char team[QUEUE_NAME_MAX + 1];
	int64_t target;
};

static struct pending *pending_new(desk *k, struct queue_agent *a, struct agent_conn *c,
				   const struct queue_entry *e)
{
	struct pending *p = xcalloc(1, sizeof(*p));
	p->k = k;
	p->agent = a ? a->id : 0;
	p->conn = c ? agent_conn_id(c) : 0;
	p->conv = e->conv;
	snprintf(p->public_id, sizeof(p->public_id), "%s", e->public_id);
	return p;
}

static struct agent_conn *pending_conn(const struct pending *p)
{
	return agents_find(p->k->d->agents, p->conn);
}

static void store_failed(const struct pending *p, const struct store_job *job)
{
	struct agent_conn *c = pending_conn(p);
	if (c)
		agent_error(c, WIRE_ERR_STORE_UNAVAILABLE, "the store could not keep that; try again",
			    p->id[0] ? p->id : NULL);
	log_error(&p->k->d->log, "desk_store_failed", "op=%d status=%d", (int)job->desk.op,
		  (int)job->status);
}

static void on_context(struct store_job *job, void *ud)
{
	struct pending *p = ud;
	desk *k = p->k;
	struct queue_entry *e = queue_find(&k->q, p->conv);
	json_t *ctx;

	if (job->status == STORE_OK && e && e->agent == p->agent &&
	    (ctx = json_loads(job->context, 0, NULL)))
		send_to(k, p->agent, json_pack("{s:s, s:s, s:o}", "type", "assigned", "conversation",
					       e->public_id, "context", ctx));
	free(p);
	store_job_free(job);
}

static void send_context(desk *k, int64_t agent, const struct queue_entry *e)
{
	struct store_job *job = store_job_new(STORE_CONTEXT);
	struct pending *p = pending_new(k, NULL, NULL, e);
	p->agent = agent;
	job->conv = e->conv;
	store_submit(k->d->store, job, on_context, p);
}

static void on_assigned(struct store_job *job, void *ud)
{
	struct pending *p = ud;
	desk *k = p->k;
	struct queue_entry *e = queue_find(&k->q, p->conv);
	struct queue_agent *a = queue_agent_find(&k->q, p->agent);

	if (e)
		e->target = e->target == -p->agent ? 0 : e->target; /* the claim is settled */
	if (job->status != STORE_OK || !e || !a) {
		store_failed(p, job);
		if (e && e->agent == -1)
			e->agent = 0;
		k->dirty = 1;
		free(p);
		return;
	}
	if (e->offered_to) {
		struct queue_agent *o = queue_agent_find(&k->q, e->offered_to);
		if (o)
			o->offered--;
		if (o && o != a)
			send_to(k, o->id, json_pack("{s:s, s:s, s:s}", "type", "revoked", "conversation",
						    e->public_id, "reason", "taken"));
		e->offered_to = 0;
	}
	e->agent = a->id;
	e->assigned_at = job->now_ms;
	e->responded = 0;
	a->assigned++;
	queue_record_wait(&k->q, job->now_ms - e->enqueued_at);
	metrics_observe_ms(&k->d->metrics.queue_wait, job->now_ms - e->enqueued_at);
	log_info(&k->d->log, "assigned", "conv=%s agent=%s waited_ms=%lld", e->public_id, a->name,
		 (long long)(job->now_ms - e->enqueued_at));
	send_context(k, a->id, e);
	k->dirty = 1;
	free(p);
}

void desk_accept(desk *k, struct agent_conn *c, const char *conv)
{
	struct queue_agent *a = need_agent(k, c);
	struct queue_entry *e;
	struct store_job *job;
	char *joined;

	if (!a || !(e = chat_for(k, c, a, conv, 0, NULL)))
		return;
	if (e->agent == a->id) { /* already its own: the context again */
		send_context(k, a->id, e);
		return;
	}
	if (e->agent) {
		agent_error(c, WIRE_ERR_NOT_FOUND, "that chat has been taken", NULL);
		return;
	}
	if (e->target && e->target != a->id) {
		agent_error(c, WIRE_ERR_FORBIDDEN, "that chat was transferred to someone else", NULL);
		return;
	}
	if (a->assigned >= a->capacity) {
		agent_error(c, WIRE_ERR_AT_CAPACITY, "you have as many chats as you can take", NULL);
		return;
	}
	e->agent = -1; /* claimed while the store keeps it: nobody else may take it */
	job = desk_job(k, STORE_DESK_ASSIGN);
	job->desk.agent_id = a->id;
	joined = text_with(k, e, "desk.joined", "agent", a->name);
	add_say(job, "system", a->name, "agent_joined", joined, 0);
	free(joined);
	chat_desk_append(k->d->chat, e->conv, e->public_id, job, on_assigned,
			 pending_new(k, a, c, e));
}

static void on_agent_message(struct store_job *job, void *ud)
{
	struct pending *p = ud;
	struct agent_conn *c = pending_conn(p);

	struct queue_entry *e = queue_find(&p->k->q, p->conv);
	if (job->status == STORE_OK && e && e->assigned_at && !e->responded) {
		e->responded = 1;
		metrics_observe_ms(&p->k->d->metrics.first_response, job->now_ms - e->assigned_at);
	}
	if (job->status != STORE_OK)
		store_failed(p, job);
	else if (c)
		agent_send(c, json_pack("{s:s, s:s, s:s, s:I}", "type", "ack", "id", p->id,
					"conversation", p->public_id, "seq",
					(json_int_t)(job->n_extra ? job->extra[0].seq : 0)));
	free(p);
}

void desk_message(desk *k, struct agent_conn *c, const char *conv, const char *id,
		  const char *text)
{
	struct queue_agent *a = need_agent(k, c);
	struct queue_entry *e;
	struct store_job *job;
	struct pending *p;

	if (!a || !(e = chat_for(k, c, a, conv, 1, id)))
		return;
	if (!wire_utf8_valid(text, strlen(text))) {
		agent_error(c, WIRE_ERR_INVALID_UTF8, "text is not UTF-8", id);
		return;
	}
	job = desk_job(k, STORE_DESK_NONE);
	add_say(job, "agent", a->name, "agent", text, 0);
	p = pending_new(k, a, c, e);
	snprintf(p->id, sizeof(p->id), "%s", id);
	chat_desk_append(k->d->chat, e->conv, e->public_id, job, on_agent_message, p);
}

void desk_typing(desk *k, struct agent_conn *c, const char *conv, int state)
{
	struct queue_agent *a = need_agent(k, c);
	struct queue_entry *e;
	if (a && (e = chat_for(k, c, a, conv, 1, NULL)))
		chat_notify(k->d->chat, e->conv, wire_typing("agent", state));
}

static void on_noted(struct store_job *job, void *ud)
{
	struct pending *p = ud;
	struct agent_conn *c = pending_conn(p);
	if (job->status != STORE_OK)
		store_failed(p, job);
	else if (c)
		agent_send(c, json_pack("{s:s, s:s}", "type", "noted", "conversation", p->public_id));
	free(p);
}

void desk_note(desk *k, struct agent_conn *c, const char *conv, const char *text)
{
	struct queue_agent *a = need_agent(k, c);
	struct queue_entry *e;
	struct store_job *job;

	if (!a || !(e = chat_for(k, c, a, conv, 0, NULL)))
		return;
	job = desk_job(k, STORE_DESK_NOTE);
	job->desk.agent_id = a->id;
	job->desk.text = xstrdup(text);
	chat_desk_append(k->d->chat, e->conv, e->public_id, job, on_noted, pending_new(k, a, c, e));
}

static void on_requeued(struct store_job *job, void *ud)
{
	struct pending *p = ud;
	desk *k = p->k;
	struct queue_entry *e = queue_find(&k->q, p->conv);
	struct queue_agent *a = queue_agent_find(&k->q, p->agent);

	if (e)
		e->requeueing = 0;
	if (job->status != STORE_OK || !e) {
		store_failed(p, job);
		free(p);
		return;
	}
	if (a && e->agent == a->id) {
		a->assigned--;
		a->idle_since = job->now_ms;
		send_to(k, a->id, json_pack("{s:s, s:s, s:s}", "type", "revoked", "conversation",
					    e->public_id, "reason", "transferred"));
	}
	e->agent = 0;
	e->n_skipped = 0;
	e->target = p->target;
	e->last_position = 0;
	if (p->team[0]) {
		free(e->team);
		e->team = xstrdup(p->team);
	}
	log_info(&k->d->log, "transferred", "conv=%s team=%s to_agent=%lld", e->public_id, e->team,
		 (long long)e->target);
	k->dirty = 1;
	dispatch(k);
	free(p);
}

/* Puts agent a's chat e back in the queue, for team (NULL: its own) and,
 * when target is not 0, for that agent first; the customer is told, and
 * the move has a handoff row with reason. c, the agent's connection, may
 * be NULL. */
static void requeue(desk *k, struct queue_agent *a, struct agent_conn *c, struct queue_entry *e,
		    const char *team, const char *reason, int64_t target)
{
	struct store_job *job = desk_job(k, STORE_DESK_REQUEUE);
	struct pending *p;
	char *notice;

	if (team)
		job->desk.team = xstrdup(team);
	notice = text_with(k, e, "flow.handoff", "team", team ? team : e->team);
	add_say(job, "system", NULL, "handoff", notice, 0);
	free(notice);
	/* a transfer is a handoff too: it has its row */
	job->handoff_team = xstrdup(team ? team : e->team);
	job->handoff_reason = xstrdup(reason);
	job->handoff_source = "agent";
	p = pending_new(k, a, c, e);
	if (team)
		snprintf(p->team, sizeof(p->team), "%s", team);
	p->target = target;
	e->requeueing = 1;
	chat_desk_append(k->d->chat, e->conv, e->public_id, job, on_requeued, p);
}

void desk_transfer(desk *k, struct agent_conn *c, const char *conv, const char *team,
		   const char *agent)
{
	struct queue_agent *a = need_agent(k, c), *to = NULL;
	struct queue_entry *e;
	char reason[200];

	if (!a || !(e = chat_for(k, c, a, conv, 1, NULL)))
		return;
	if (agent && (!(to = queue_agent_by_name(&k->q, agent)) || !to->online || to == a)) {
		agent_error(c, WIRE_ERR_NOT_FOUND, "no other agent of that name is online", NULL);
		return;
	}
	if (to && !queue_agent_in_team(to, e->team))
		team = to->teams[0]; /* the chat follows the agent into its team */
	if (team && !content_valid_id(team)) {
		agent_error(c, WIRE_ERR_BAD_FIELD, "field \"team\" must be a team name", NULL);
		return;
	}
	snprintf(reason, sizeof(reason), "transferred by %s%s%s", a->name, to ? " to " : "",
		 to ? to->name : "");
	requeue(k, a, c, e, team, reason, to ? to->id : 0);
}

static void on_closed(struct store_job *job, void *ud)
{
	struct pending *p = ud;
	desk *k = p->k;
	struct queue_entry *e = queue_find(&k->q, p->conv);
	struct queue_agent *a = queue_agent_find(&k->q, p->agent);
	struct agent_conn *c = pending_conn(p);

	if (job->status != STORE_OK) {
		store_failed(p, job);
		free(p);
		return;
	}
	if (e) {
		if (c)
			agent_send(c, json_pack("{s:s, s:s}", "type", "closed", "conversation",
						e->public_id));
		queue_remove(&k->q, p->conv);
	}
	if (a) {
		a->assigned--;
		a->idle_since = job->now_ms;
	}
	k->dirty = 1;
	dispatch(k); /* room: offer at once, not at the next tick */
	free(p);
}

struct ticket_pending {
	desk *k;
	uint64_t conn;
	char id[WIRE_ID_MAX + 1];   /* the frame's, "" if none */
	char agent[QUEUE_NAME_MAX + 1];
};

static void on_ticket_closed(struct store_job *job, void *ud)
{
	struct ticket_pending *p = ud;
	desk *k = p->k;
	struct agent_conn *c = agents_find(k->d->agents, p->conn);

	if (job->status == STORE_NOT_FOUND) {
		if (c)
			agent_error(c, WIRE_ERR_NOT_FOUND,
				    "no open offline message with that id in your teams",
				    p->id[0] ? p->id : NULL);
	} else if (job->status != STORE_OK) {
		if (c)
			agent_error(c, WIRE_ERR_STORE_UNAVAILABLE,
				    "the store could not keep that; try again", p->id[0] ? p->id : NULL);
	} else {
		log_info(&k->d->log, "ticket_closed", "ticket=%lld team=%s agent=%s",
			 (long long)job->desk.ticket_id, job->desk.team, p->agent);
		/* everyone who lists it stops listing it */
		send_to_team(k, job->desk.team,
			     json_pack("{s:s, s:I, s:s, s:s}", "type", "ticket_closed", "id",
				       (json_int_t)job->desk.ticket_id, "team", job->desk.team, "by",
				       p->agent));
	}
	free(p);
	store_job_free(job);
}

void desk_close_ticket(desk *k, struct agent_conn *c, int64_t ticket, const char *id)
{
	struct queue_agent *a = need_agent(k, c);
	struct store_job *job;
	struct ticket_pending *p;
	size_t len = 0;

	if (!a)
		return;
	job = store_job_new(STORE_TICKET_CLOSE);
	job->now_ms = clock_wall_ms();
	job->desk.ticket_id = ticket;
	job->desk.agent_id = a->id;
	job->desk.team = xcalloc(1, QUEUE_TEAMS_MAX * (QUEUE_NAME_MAX + 1) + 1);
	for (size_t i = 0; i < a->n_teams; i++) {
		size_t n = strlen(a->teams[i]);
		if (len)
			job->desk.team[len++] = ',';
		memcpy(job->desk.team + len, a->teams[i], n);
		len += n;
	}
	p = xcalloc(1, sizeof(*p));
	p->k = k;
	p->conn = agent_conn_id(c);
	snprintf(p->id, sizeof(p->id), "%s", id ? id : "");
	snprintf(p->agent, sizeof(p->agent), "%s", a->name);
	store_submit(k->d->store, job, on_ticket_closed, p);
}

void desk_close(desk *k, struct agent_conn *c, const char *conv, const char *resolution)
{
	struct queue_agent *a = need_agent(k, c);
	struct queue_entry *e;
	struct store_job *job;
	char *bye;

	if (!a || !(e = chat_for(k, c, a, conv, 1, NULL)))
		return;
	e->agent = -2; /* closing: no second close, no more messages */
	job = desk_job(k, STORE_DESK_CLOSE);
	job->desk.text = xstrdup(resolution);
	bye = text_with(k, e, "desk.closed", "agent", a->name);
	add_say(job, "system", a->name, "closed", bye, 1);
	free(bye);
	chat_desk_append(k->d->chat, e->conv, e->public_id, job, on_closed, pending_new(k, a, c, e));
}
