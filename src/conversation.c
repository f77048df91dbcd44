/* conversation.c: the in-memory conversation registry. See conversation.h. */
#include "conversation.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct conversation *conversation_find(struct conversations *cs, int64_t id)
{
	struct conversation *c = NULL;
	HASH_FIND(hh, cs->by_id, &id, sizeof(id), c);
	return c;
}

struct conversation *conversation_add(struct conversations *cs, int64_t id,
				      const char *public_id)
{
	struct conversation *c = calloc(1, sizeof(*c));
	if (!c)
		abort();
	c->id = id;
	snprintf(c->public_id, sizeof(c->public_id), "%s", public_id);
	HASH_ADD(hh, cs->by_id, id, sizeof(c->id), c);
	cs->count++;
	return c;
}

static void replace(char **slot, const char *v)
{
	if (!v)
		return;
	free(*slot);
	*slot = strdup(v);
	if (!*slot)
		abort();
}

void conversation_set_details(struct conversation *c, const char *lang, const char *name,
			      const char *email)
{
	replace(&c->lang, lang);
	if (lang)
		c->lang_sure = 1;
	replace(&c->name, name);
	replace(&c->email, email);
}

void conversation_set_flow(struct flowlog **slot, struct flowlog *log)
{
	if (*slot) {
		flowlog_clear(*slot);
		free(*slot);
	}
	*slot = log;
}

static void conversation_free(struct conversation *c)
{
	free(c->lang);
	free(c->lang_sample);
	free(c->name);
	free(c->email);
	free(c->recent);
	conversation_set_flow(&c->flow, NULL);
	conversation_set_flow(&c->flow_stored, NULL);
	free(c->clarified);
	free(c->clarified_candidates);
	free(c);
}

int conversation_release_if_idle(struct conversations *cs, struct conversation *c)
{
	if (c->conn_id || c->pending > 0)
		return 0;
	HASH_DEL(cs->by_id, c);
	cs->count--;
	conversation_free(c);
	return 1;
}

struct conversation_recent *conversation_recent_find(struct conversation *c, const char *id)
{
	if (!c->recent || !id)
		return NULL;
	for (size_t i = 0; i < CONVERSATION_RECENT; i++)
		if (c->recent[i].id[0] && !strcmp(c->recent[i].id, id))
			return &c->recent[i];
	return NULL;
}

struct conversation_recent *conversation_recent_add(struct conversation *c, const char *id,
						    int64_t seq)
{
	struct conversation_recent *r;

	if (!c->recent) {
		c->recent = calloc(CONVERSATION_RECENT, sizeof(*c->recent));
		if (!c->recent)
			abort();
	}
	r = &c->recent[c->recent_next];
	c->recent_next = (c->recent_next + 1) % CONVERSATION_RECENT;
	snprintf(r->id, sizeof(r->id), "%s", id);
	r->seq = seq;
	r->extra_acks = 0;
	return r;
}

void conversations_clear(struct conversations *cs)
{
	struct conversation *c, *tmp;
	HASH_ITER(hh, cs->by_id, c, tmp) {
		HASH_DEL(cs->by_id, c);
		conversation_free(c);
	}
	cs->count = 0;
}
