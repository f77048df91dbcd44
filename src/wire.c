/* wire.c: parsing and building supportd.chat.v1 frames. See wire.h. */
#include "wire.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

static const char *error_codes[WIRE_ERR__COUNT] = {
	[WIRE_ERR_BAD_JSON] = "bad_json",
	[WIRE_ERR_NOT_OBJECT] = "not_object",
	[WIRE_ERR_UNKNOWN_TYPE] = "unknown_type",
	[WIRE_ERR_BAD_FIELD] = "bad_field",
	[WIRE_ERR_HELLO_REQUIRED] = "hello_required",
	[WIRE_ERR_ALREADY_GREETED] = "already_greeted",
	[WIRE_ERR_EMPTY_TEXT] = "empty_text",
	[WIRE_ERR_TEXT_TOO_LONG] = "text_too_long",
	[WIRE_ERR_INVALID_UTF8] = "invalid_utf8",
	[WIRE_ERR_BINARY_UNSUPPORTED] = "binary_unsupported",
	[WIRE_ERR_RATE_LIMITED] = "rate_limited",
	[WIRE_ERR_CONVERSATION_FULL] = "conversation_full",
	[WIRE_ERR_RESUME_UNKNOWN] = "resume_unknown",
	[WIRE_ERR_RESUME_EXPIRED] = "resume_expired",
	[WIRE_ERR_STORE_UNAVAILABLE] = "store_unavailable",
	[WIRE_ERR_TOO_MANY_CONNECTIONS] = "too_many_connections",
	[WIRE_ERR_SERVER_BUSY] = "server_busy",
	[WIRE_ERR_FRAME_TOO_LARGE] = "frame_too_large",
	[WIRE_ERR_NOT_AVAILABLE] = "not_available",
	[WIRE_ERR_LOGIN_REQUIRED] = "login_required",
	[WIRE_ERR_LOGIN_FAILED] = "login_failed",
	[WIRE_ERR_NOT_FOUND] = "not_found",
	[WIRE_ERR_FORBIDDEN] = "forbidden",
	[WIRE_ERR_NOT_ASSIGNED] = "not_assigned",
	[WIRE_ERR_AT_CAPACITY] = "at_capacity",
	[WIRE_ERR_NOT_CLOSED] = "not_closed",
	[WIRE_ERR_LOGIN_REPLACED] = "login_replaced",
	[WIRE_ERR_SESSION_ENDED] = "session_ended",
};

const char *wire_error_code(enum wire_error e)
{
	return (e >= 0 && e < WIRE_ERR__COUNT) ? error_codes[e] : "internal";
}

int wire_utf8_valid(const char *buf, size_t len)
{
	const utf8proc_uint8_t *p = (const utf8proc_uint8_t *)buf;
	size_t i = 0;

	while (i < len) {
		if (p[i] < 0x80) {
			i++;
			continue;
		}
		utf8proc_int32_t cp;
		utf8proc_ssize_t n = utf8proc_iterate(p + i, (utf8proc_ssize_t)(len - i), &cp);
		if (n <= 0)
			return 0;
		i += (size_t)n;
	}
	return 1;
}

/* 1 if every code point is white space, a control or a format character. */
static int only_blank(const char *s, size_t len)
{
	const utf8proc_uint8_t *p = (const utf8proc_uint8_t *)s;
	size_t i = 0;

	while (i < len) {
		utf8proc_int32_t cp;
		utf8proc_ssize_t n = utf8proc_iterate(p + i, (utf8proc_ssize_t)(len - i), &cp);
		if (n <= 0)
			return 0;
		utf8proc_category_t c = utf8proc_category(cp);
		if (c != UTF8PROC_CATEGORY_ZS && c != UTF8PROC_CATEGORY_ZL &&
		    c != UTF8PROC_CATEGORY_ZP && c != UTF8PROC_CATEGORY_CC &&
		    c != UTF8PROC_CATEGORY_CF)
			return 0;
		i += (size_t)n;
	}
	return 1;
}

static int printable_ascii(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x21 || (unsigned char)*s > 0x7e)
			return 0;
	return 1;
}

static int fault(struct wire_fault *f, enum wire_error code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int fault(struct wire_fault *f, enum wire_error code, const char *fmt, ...)
{
	va_list ap;
	f->code = code;
	va_start(ap, fmt);
	vsnprintf(f->message, sizeof(f->message), fmt, ap);
	va_end(ap);
	return -1;
}

/* Reads an optional string field. Returns 0 (absent or fine), -1 on fault. */
static int opt_string(json_t *o, const char *name, size_t max, const char **out,
		      struct wire_fault *f)
{
	json_t *v = json_object_get(o, name);
	if (!v || json_is_null(v)) {
		*out = NULL;
		return 0;
	}
	if (!json_is_string(v))
		return fault(f, WIRE_ERR_BAD_FIELD, "field \"%s\" must be a string", name);
	if (json_string_length(v) > max)
		return fault(f, WIRE_ERR_BAD_FIELD, "field \"%s\" is longer than %zu bytes", name, max);
	if (strlen(json_string_value(v)) != json_string_length(v))
		return fault(f, WIRE_ERR_BAD_FIELD, "field \"%s\" contains a NUL character", name);
	*out = json_string_value(v);
	return 0;
}

static int lang_ok(const char *s)
{
	if (!s[0])
		return 0;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || *s == '-' || *s == '_'))
			return 0;
	return 1;
}

/* A light shape check: one @, something on both sides, no spaces or
 * controls. Deliverability is the backend's business. */
static int email_ok(const char *s)
{
	const char *at = strchr(s, '@');
	if (!at || at == s || !at[1] || strchr(at + 1, '@'))
		return 0;
	for (; *s; s++)
		if ((unsigned char)*s <= 0x20 || *s == 0x7f)
			return 0;
	return 1;
}

static int parse_hello(json_t *o, struct wire_in *in, struct wire_fault *f)
{
	json_t *ls;

	if (opt_string(o, "resume", WIRE_RESUME_MAX, &in->resume, f) ||
	    opt_string(o, "lang", WIRE_LANG_MAX, &in->lang, f) ||
	    opt_string(o, "name", WIRE_NAME_MAX, &in->name, f) ||
	    opt_string(o, "email", WIRE_EMAIL_MAX, &in->email, f))
		return -1;
	if (in->lang && !lang_ok(in->lang))
		return fault(f, WIRE_ERR_BAD_FIELD, "field \"lang\" must be a language tag such as \"en\" or \"pt-BR\"");
	if (in->email && !email_ok(in->email))
		return fault(f, WIRE_ERR_BAD_FIELD, "field \"email\" is not an e-mail address");
	if (in->name && !wire_utf8_valid(in->name, strlen(in->name)))
		return fault(f, WIRE_ERR_BAD_FIELD, "field \"name\" is not valid UTF-8");
	ls = json_object_get(o, "last_seq");
	if (ls && !json_is_null(ls)) {
		if (!json_is_integer(ls) || json_integer_value(ls) < 0)
			return fault(f, WIRE_ERR_BAD_FIELD, "field \"last_seq\" must be an integer >= 0");
		in->has_last_seq = 1;
		in->last_seq = json_integer_value(ls);
	}
	return 0;
}

static int parse_message(json_t *o, size_t max_text, struct wire_in *in, struct wire_fault *f)
{
	json_t *id = json_object_get(o, "id");
	json_t *text = json_object_get(o, "text");

	if (!json_is_string(id) || json_string_length(id) == 0 ||
	    json_string_length(id) > WIRE_ID_MAX || !printable_ascii(json_string_value(id)) ||
	    strlen(json_string_value(id)) != json_string_length(id))
		return fault(f, WIRE_ERR_BAD_FIELD,
			     "field \"id\" must be a string of 1 to %d printable ASCII characters",
			     WIRE_ID_MAX);
	in->id = json_string_value(id);
	snprintf(f->in_reply_to, sizeof(f->in_reply_to), "%s", in->id);
	if (!json_is_string(text))
		return fault(f, WIRE_ERR_BAD_FIELD, "field \"text\" must be a string");
	in->text = json_string_value(text);
	in->text_len = json_string_length(text);
	if (in->text_len > max_text)
		return fault(f, WIRE_ERR_TEXT_TOO_LONG, "text is %zu bytes; the limit is %zu",
			     in->text_len, max_text);
	if (strlen(in->text) != in->text_len)
		return fault(f, WIRE_ERR_BAD_FIELD, "field \"text\" contains a NUL character");
	if (in->text_len == 0 || only_blank(in->text, in->text_len))
		return fault(f, WIRE_ERR_EMPTY_TEXT, "text is empty");
	if (opt_string(o, "choice", WIRE_CHOICE_MAX, &in->choice, f))
		return -1;
	if (in->choice && !printable_ascii(in->choice))
		return fault(f, WIRE_ERR_BAD_FIELD,
			     "field \"choice\" must be a button id of printable ASCII characters");
	return 0;
}

int wire_parse(const char *buf, size_t len, size_t max_text, struct wire_in *in,
	       struct wire_fault *f)
{
	json_error_t jerr;
	json_t *root, *type;
	const char *t;

	memset(in, 0, sizeof(*in));
	memset(f, 0, sizeof(*f));
	if (!wire_utf8_valid(buf, len))
		return fault(f, WIRE_ERR_INVALID_UTF8, "the frame is not valid UTF-8");
	/* \u0000 is valid JSON: every string field is checked for it below, so
	 * that it gets a specific error and is never silently cut short */
	root = json_loadb(buf, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY | JSON_ALLOW_NUL, &jerr);
	if (!root) {
		if (json_error_code(&jerr) == json_error_invalid_utf8)
			return fault(f, WIRE_ERR_INVALID_UTF8, "the frame is not valid UTF-8");
		return fault(f, WIRE_ERR_BAD_JSON, "not valid JSON at byte %d: %s",
			     jerr.position, jerr.text);
	}
	in->json = root;
	if (!json_is_object(root)) {
		fault(f, WIRE_ERR_NOT_OBJECT, "a frame must be a JSON object");
		goto err;
	}
	type = json_object_get(root, "type");
	t = json_string_value(type);
	if (!t) {
		fault(f, WIRE_ERR_UNKNOWN_TYPE, "field \"type\" is missing or not a string");
		goto err;
	}
	if (strlen(t) != json_string_length(type)) {
		fault(f, WIRE_ERR_BAD_FIELD, "field \"type\" contains a NUL character");
		goto err;
	}
	if (!strcmp(t, "hello")) {
		in->type = WIRE_IN_HELLO;
		if (parse_hello(root, in, f))
			goto err;
	} else if (!strcmp(t, "message")) {
		in->type = WIRE_IN_MESSAGE;
		if (parse_message(root, max_text, in, f))
			goto err;
	} else if (!strcmp(t, "typing")) {
		json_t *st = json_object_get(root, "state");
		in->type = WIRE_IN_TYPING;
		if (!json_is_boolean(st)) {
			fault(f, WIRE_ERR_BAD_FIELD, "field \"state\" must be true or false");
			goto err;
		}
		in->state = json_is_true(st);
	} else if (!strcmp(t, "csat")) {
		json_t *r = json_object_get(root, "rating");
		in->type = WIRE_IN_CSAT;
		if (!json_is_integer(r) || json_integer_value(r) < 1 || json_integer_value(r) > 5) {
			fault(f, WIRE_ERR_BAD_FIELD, "field \"rating\" must be an integer from 1 to 5");
			goto err;
		}
		in->rating = (int)json_integer_value(r);
		if (opt_string(root, "comment", WIRE_COMMENT_MAX, &in->comment, f))
			goto err;
	} else if (!strcmp(t, "rate")) {
		json_t *seq = json_object_get(root, "seq");
		json_t *value = json_object_get(root, "value");
		const char *v = json_string_value(value);
		in->type = WIRE_IN_RATE;
		if (!json_is_integer(seq) || json_integer_value(seq) < 1) {
			fault(f, WIRE_ERR_BAD_FIELD, "field \"seq\" must be the seq of a bot reply");
			goto err;
		}
		if (!v || strlen(v) != json_string_length(value) ||
		    (strcmp(v, "up") && strcmp(v, "down"))) {
			fault(f, WIRE_ERR_BAD_FIELD, "field \"value\" must be \"up\" or \"down\"");
			goto err;
		}
		in->seq = json_integer_value(seq);
		in->rating = !strcmp(v, "up") ? 1 : -1;
	} else if (!strcmp(t, "ack")) {
		json_t *seq = json_object_get(root, "seq");
		in->type = WIRE_IN_ACK;
		if (!json_is_integer(seq) || json_integer_value(seq) < 0) {
			fault(f, WIRE_ERR_BAD_FIELD, "field \"seq\" must be an integer >= 0");
			goto err;
		}
		in->seq = json_integer_value(seq);
	} else {
		char shown[40];
		snprintf(shown, sizeof(shown), "%s", t);
		for (char *p = shown; *p; p++)
			if ((unsigned char)*p < 0x20 || (unsigned char)*p > 0x7e)
				*p = '?';
		fault(f, WIRE_ERR_UNKNOWN_TYPE, "unknown frame type \"%s\"", shown);
		goto err;
	}
	return 0;
err:
	wire_in_free(in);
	return -1;
}

void wire_in_free(struct wire_in *in)
{
	if (in->json)
		json_decref((json_t *)in->json);
	memset(in, 0, sizeof(*in));
}

void wire_reply_clear(struct wire_reply *r)
{
	free(r->text);
	free(r->source);
	for (size_t i = 0; i < r->n_choices; i++) {
		free(r->choices[i].id);
		free(r->choices[i].label);
	}
	free(r->choices);
	free(r->handoff_team);
	free(r->agent_name);
	free(r->lang);
	memset(r, 0, sizeof(*r));
}

/* Serialises and releases o. json_dumps only fails on allocation failure,
 * which is fatal by house rule. */
static char *dump(json_t *o)
{
	char *s = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	if (!s)
		abort();
	return s;
}

/* A JSON text written piece by piece, for the frames sent with every
 * message: building and dumping a jansson object costs several times
 * more. Strings are still encoded by jansson (json_dumpb), straight into
 * the buffer. Aborts on allocation failure. */
struct jw {
	char *p;       /* NUL-terminated */
	size_t len, cap;
};

static void jw_reserve(struct jw *w, size_t more)
{
	if (w->len + more + 1 <= w->cap)
		return;
	w->cap = (w->len + more + 1) * 2;
	w->p = realloc(w->p, w->cap);
	if (!w->p)
		abort();
}

static void jw_raw(struct jw *w, const char *s)
{
	size_t n = strlen(s);
	jw_reserve(w, n);
	memcpy(w->p + w->len, s, n + 1);
	w->len += n;
}

static void jw_int(struct jw *w, int64_t v)
{
	jw_reserve(w, 24);
	w->len += (size_t)snprintf(w->p + w->len, 24, "%lld", (long long)v);
}

/* As jansson writes reals: shortest round trip, always with a dot or an
 * exponent so that it reads back as a real. */
static void jw_real(struct jw *w, double v)
{
	char buf[40];
	int n = snprintf(buf, sizeof(buf) - 2, "%.17g", v);
	if (!strpbrk(buf, ".eEn"))
		memcpy(buf + n, ".0", 3);
	jw_raw(w, buf);
}

/* Whether jansson would write s unchanged between quotes: no control
 * character, quote or backslash (it leaves other bytes, UTF-8 included,
 * as they are, and escapes '/' only when asked to). */
static int json_plain(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c < 0x20 || c == '"' || c == '\\')
			return 0;
	}
	return 1;
}

/* s must be valid UTF-8 (callers pass checked text). Most strings (ids,
 * sources, ordinary sentences) need no escape and are copied; jansson
 * escapes the others. */
static void jw_string(struct jw *w, const char *s, size_t len)
{
	json_t *v;
	size_t need;

	if (json_plain(s, len)) {
		jw_reserve(w, len + 3);
		w->p[w->len++] = '"';
		memcpy(w->p + w->len, s, len);
		w->len += len;
		w->p[w->len++] = '"';
		w->p[w->len] = '\0';
		return;
	}
	v = json_stringn_nocheck(s, len);
	if (!v)
		abort();
	jw_reserve(w, len + 2);
	need = json_dumpb(v, w->p + w->len, w->cap - w->len - 1, JSON_ENCODE_ANY);
	if (need > w->cap - w->len - 1) {
		jw_reserve(w, need);
		need = json_dumpb(v, w->p + w->len, w->cap - w->len - 1, JSON_ENCODE_ANY);
	}
	json_decref(v);
	if (!need)
		abort();
	w->len += need;
	w->p[w->len] = '\0';
}

/* json_pack with "s" never copies bad UTF-8: callers pass validated text. */
char *wire_welcome(const char *conversation, const char *token, int resumed,
		   int64_t last_seq, const struct wire_limits *lim)
{
	json_t *o = json_pack("{s:s, s:s, s:s, s:b, s:I, s:{s:I, s:I, s:f, s:f}}",
			      "type", "welcome", "conversation", conversation, "resume", token,
			      "resumed", resumed, "last_seq", (json_int_t)last_seq, "limits",
			      "max_text", (json_int_t)lim->max_text, "max_frame",
			      (json_int_t)lim->max_frame, "rate", lim->rate, "burst", lim->burst);
	return dump(o);
}

char *wire_ack(const char *id, int64_t seq, int duplicate)
{
	struct jw w = {0};

	jw_raw(&w, "{\"type\":\"ack\",\"id\":");
	jw_string(&w, id, strlen(id));
	jw_raw(&w, ",\"seq\":");
	jw_int(&w, seq);
	jw_raw(&w, duplicate ? ",\"duplicate\":true}" : "}");
	return w.p;
}

char *wire_error(enum wire_error code, const char *message, const char *in_reply_to)
{
	json_t *o = json_pack("{s:s, s:s, s:s}", "type", "error", "code", wire_error_code(code),
			      "message", message);
	if (!o) /* message was not valid UTF-8: never send it */
		o = json_pack("{s:s, s:s, s:s}", "type", "error", "code", wire_error_code(code),
			      "message", "(unprintable)");
	if (in_reply_to && in_reply_to[0])
		json_object_set_new(o, "in_reply_to", json_string(in_reply_to));
	return dump(o);
}

char *wire_typing(const char *from, int state)
{
	return dump(json_pack("{s:s, s:s, s:b}", "type", "typing", "from", from, "state", state));
}

char *wire_rated(int64_t seq, int value)
{
	return dump(json_pack("{s:s, s:I, s:s}", "type", "rated", "seq", (json_int_t)seq, "value",
			      value > 0 ? "up" : "down"));
}

char *wire_queue(const char *team, int position, int64_t eta_sec)
{
	return dump(json_pack("{s:s, s:s, s:i, s:I}", "type", "queue", "team", team, "position",
			      position, "estimated_wait_sec", (json_int_t)eta_sec));
}

char *wire_message_body(const char *id, const char *text, size_t text_len, int64_t ts)
{
	struct jw w = {0};

	jw_raw(&w, "{\"type\":\"message\",\"id\":");
	jw_string(&w, id, strlen(id));
	jw_raw(&w, ",\"from\":\"customer\",\"text\":");
	jw_string(&w, text, text_len);
	jw_raw(&w, ",\"ts\":");
	jw_int(&w, ts);
	jw_raw(&w, "}");
	return w.p;
}

char *wire_reply_body(const struct wire_reply *r, const char *in_reply_to, int64_t ts)
{
	const char *source = r->source ? r->source : "pipeline";
	struct jw w = {0};

	jw_raw(&w, "{\"type\":\"reply\",\"from\":");
	jw_string(&w, r->from ? r->from : "bot", strlen(r->from ? r->from : "bot"));
	if (r->agent_name) {
		jw_raw(&w, ",\"agent\":{\"name\":");
		jw_string(&w, r->agent_name, strlen(r->agent_name));
		jw_raw(&w, "}");
	}
	jw_raw(&w, ",\"text\":");
	jw_string(&w, r->text, strlen(r->text));
	jw_raw(&w, ",\"source\":");
	jw_string(&w, source, strlen(source));
	jw_raw(&w, ",\"confidence\":");
	if (r->has_confidence)
		jw_real(&w, r->confidence);
	else
		jw_raw(&w, "null");
	jw_raw(&w, ",\"choices\":[");
	for (size_t i = 0; i < r->n_choices; i++) {
		jw_raw(&w, i ? ",{\"id\":" : "{\"id\":");
		jw_string(&w, r->choices[i].id, strlen(r->choices[i].id));
		jw_raw(&w, ",\"label\":");
		jw_string(&w, r->choices[i].label, strlen(r->choices[i].label));
		jw_raw(&w, "}");
	}
	jw_raw(&w, "]");
	if (r->handoff_team) {
		jw_raw(&w, ",\"handoff\":{\"team\":");
		jw_string(&w, r->handoff_team, strlen(r->handoff_team));
		jw_raw(&w, "}");
	}
	if (r->lang) {
		jw_raw(&w, ",\"lang\":");
		jw_string(&w, r->lang, strlen(r->lang));
	}
	jw_raw(&w, ",\"ts\":");
	jw_int(&w, ts);
	if (in_reply_to && in_reply_to[0]) {
		jw_raw(&w, ",\"in_reply_to\":");
		jw_string(&w, in_reply_to, strlen(in_reply_to));
	}
	jw_raw(&w, "}");
	return w.p;
}

char *wire_with_seq(const char *body, size_t body_len, int64_t seq, size_t *out_len)
{
	char head[40];
	int h = snprintf(head, sizeof(head), "{\"seq\":%lld,", (long long)seq);
	char *out;

	/* body is "{...}" with at least one member: drop its "{" */
	out = malloc((size_t)h + body_len);
	if (!out)
		abort();
	memcpy(out, head, (size_t)h);
	memcpy(out + h, body + 1, body_len - 1);
	out[(size_t)h + body_len - 1] = '\0';
	if (out_len)
		*out_len = (size_t)h + body_len - 1;
	return out;
}
