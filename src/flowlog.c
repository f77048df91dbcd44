/* flowlog.c: the replay log of a flow run. See flowlog.h. */
#include "flowlog.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xalloc.h"

static char *dup_opt(const char *s)
{
	return s ? xstrdup(s) : NULL;
}

void flowlog_init(struct flowlog *l, const char *flow, const char *lang, const char *team)
{
	memset(l, 0, sizeof(*l));
	l->flow = xstrdup(flow);
	l->lang = xstrdup(lang ? lang : "en");
	l->team = dup_opt(team);
}

static void entry_clear(struct flowlog_entry *e)
{
	free(e->text);
	free(e->choice);
	free(e->body);
	free(e->error);
	memset(e, 0, sizeof(*e));
}

void flowlog_clear(struct flowlog *l)
{
	for (size_t i = 0; i < l->n; i++)
		entry_clear(&l->v[i]);
	free(l->v);
	free(l->flow);
	free(l->lang);
	free(l->team);
	memset(l, 0, sizeof(*l));
}

void flowlog_copy(struct flowlog *dst, const struct flowlog *src)
{
	flowlog_init(dst, src->flow, src->lang, src->team);
	dst->cap = src->n;
	dst->v = xcalloc(src->n ? src->n : 1, sizeof(*dst->v));
	for (size_t i = 0; i < src->n; i++) {
		const struct flowlog_entry *s = &src->v[i];
		struct flowlog_entry *d = &dst->v[i];
		d->kind = s->kind;
		d->text = dup_opt(s->text);
		d->choice = dup_opt(s->choice);
		d->status = s->status;
		d->body = dup_opt(s->body);
		d->error = dup_opt(s->error);
	}
	dst->n = src->n;
}

int flowlog_pending(const struct flowlog *l)
{
	return l->n > 0 && l->v[l->n - 1].kind == FLOWLOG_PENDING;
}

static struct flowlog_entry *push(struct flowlog *l)
{
	if (l->n >= FLOWLOG_MAX_ENTRIES || flowlog_pending(l))
		return NULL;
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 8;
		l->v = xrealloc(l->v, l->cap * sizeof(*l->v));
	}
	memset(&l->v[l->n], 0, sizeof(l->v[l->n]));
	return &l->v[l->n++];
}

int flowlog_add_answer(struct flowlog *l, const char *text, const char *choice)
{
	struct flowlog_entry *e = push(l);
	if (!e)
		return -1;
	e->kind = FLOWLOG_ANSWER;
	e->text = xstrdup(text);
	e->choice = dup_opt(choice);
	return 0;
}

int flowlog_add_pending(struct flowlog *l)
{
	struct flowlog_entry *e = push(l);
	if (!e)
		return -1;
	e->kind = FLOWLOG_PENDING;
	return 0;
}

int flowlog_resolve(struct flowlog *l, int status, const char *body, size_t body_len,
		    const char *error)
{
	struct flowlog_entry *e;

	if (!flowlog_pending(l))
		return -1;
	e = &l->v[l->n - 1];
	e->kind = FLOWLOG_HTTP;
	e->status = status;
	e->body = body ? xstrndup(body, body_len) : NULL;
	e->error = dup_opt(error);
	return 0;
}

/* ===== JSON ===== */

static void set_opt(json_t *o, const char *key, const char *v)
{
	if (v)
		json_object_set_new(o, key, json_string(v));
}

char *flowlog_encode(const struct flowlog *l)
{
	json_t *root = json_object(), *entries = json_array();
	char *out;

	json_object_set_new(root, "v", json_integer(1));
	json_object_set_new(root, "flow", json_string(l->flow));
	json_object_set_new(root, "lang", json_string(l->lang));
	set_opt(root, "team", l->team);
	for (size_t i = 0; i < l->n; i++) {
		const struct flowlog_entry *e = &l->v[i];
		json_t *o = json_object();
		switch (e->kind) {
		case FLOWLOG_ANSWER:
			json_object_set_new(o, "t", json_string("answer"));
			set_opt(o, "text", e->text);
			set_opt(o, "choice", e->choice);
			break;
		case FLOWLOG_HTTP:
			json_object_set_new(o, "t", json_string("http"));
			json_object_set_new(o, "status", json_integer(e->status));
			set_opt(o, "body", e->body);
			set_opt(o, "error", e->error);
			break;
		case FLOWLOG_PENDING:
			json_object_set_new(o, "t", json_string("pending"));
			break;
		}
		json_array_append_new(entries, o);
	}
	json_object_set_new(root, "entries", entries);
	out = json_dumps(root, JSON_COMPACT);
	json_decref(root);
	if (!out)
		abort(); /* only on allocation failure: every string came in as UTF-8 */
	return out;
}

/* The string member `key` of o: NULL if absent, or -1 through *bad if it
 * is there but not a string of at most max bytes. */
static const char *get_str(json_t *o, const char *key, size_t max, int *bad)
{
	json_t *v = json_object_get(o, key);
	if (!v)
		return NULL;
	if (!json_is_string(v) || json_string_length(v) > max ||
	    strlen(json_string_value(v)) != json_string_length(v)) {
		*bad = 1;
		return NULL;
	}
	return json_string_value(v);
}

int flowlog_decode(const char *text, struct flowlog *l, char *err, size_t errlen)
{
	json_error_t jerr;
	json_t *root = json_loads(text, JSON_REJECT_DUPLICATES, &jerr), *entries;
	const char *flow, *lang, *team;
	int bad = 0;
	size_t i;
	json_t *o;

	memset(l, 0, sizeof(*l));
	if (!root) {
		snprintf(err, errlen, "flow log is not JSON: %s", jerr.text);
		return -1;
	}
	flow = get_str(root, "flow", 64, &bad);
	lang = get_str(root, "lang", 16, &bad);
	team = get_str(root, "team", 64, &bad);
	entries = json_object_get(root, "entries");
	if (bad || !flow || !lang || json_integer_value(json_object_get(root, "v")) != 1 ||
	    !json_is_array(entries) || json_array_size(entries) > FLOWLOG_MAX_ENTRIES) {
		snprintf(err, errlen, "flow log header is malformed");
		json_decref(root);
		return -1;
	}
	flowlog_init(l, flow, lang, team);
	json_array_foreach(entries, i, o) {
		const char *t = json_is_object(o) ? get_str(o, "t", 16, &bad) : NULL;
		int rc = -1;
		if (!t)
			goto malformed;
		if (!strcmp(t, "answer")) {
			const char *txt = get_str(o, "text", FLOWLOG_MAX_BODY, &bad);
			const char *choice = get_str(o, "choice", 256, &bad);
			if (txt && !bad)
				rc = flowlog_add_answer(l, txt, choice);
		} else if (!strcmp(t, "pending")) {
			rc = flowlog_add_pending(l);
		} else if (!strcmp(t, "http")) {
			json_t *st = json_object_get(o, "status");
			const char *body = get_str(o, "body", FLOWLOG_MAX_BODY, &bad);
			const char *e = get_str(o, "error", 1024, &bad);
			if (json_is_integer(st) && json_integer_value(st) >= 0 &&
			    json_integer_value(st) < 1000 && !bad && flowlog_add_pending(l) == 0)
				rc = flowlog_resolve(l, (int)json_integer_value(st), body,
						     body ? strlen(body) : 0, e);
		}
		if (rc)
			goto malformed;
	}
	json_decref(root);
	return 0;
malformed:
	snprintf(err, errlen, "flow log entry %zu is malformed", i + 1);
	flowlog_clear(l);
	json_decref(root);
	return -1;
}
