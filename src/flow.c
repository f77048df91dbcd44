/* flow.c: self-service flows as coroutines in the script VM. See flow.h
 * and docs/flows.md.
 *
 * Lua objects of a run (its thread and its environment) are anchored in
 * the registry; struct run holds the references. The flow API's C
 * functions find the running run through fh->cur, which is set only while
 * a run is being resumed. */
#define PCRE2_CODE_UNIT_WIDTH 8
#include "flow.h"

#include <ctype.h>
#include <stdarg.h>
#include <jansson.h>
#include <lauxlib.h>
#include <lua.h>
#include <pcre2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <uthash.h>

#include "content.h"
#include "luajson.h"
#include "xalloc.h"

#define FLOW_NAME_MAX 64
#define LOCALE_FILE_MAX (256 * 1024)
#define LANGS_MAX 16

/* What the daemon says itself, in each language of lua/locale/. */
static const char *const own_keys[] = {"flow.timeout", "flow.error", "flow.handoff", "flow.busy",
				       "desk.joined", "desk.closed", "desk.csat_thanks",
				       "desk.offline", "desk.closed_hours",
				       "answer.other_language", "bot.apology", NULL};
#define OWN_KEYS 11

struct flowdef {
	char name[FLOW_NAME_MAX + 1];
	char *path;               /* owned, for chunk names and messages */
	char *src;                /* owned Lua text */
	size_t len;
};

struct locale {
	char lang[8];
	char *text[OWN_KEYS];     /* owned, may be NULL */
};

struct pattern {
	char name[CONFIG_NAME_MAX];
	pcre2_code *code;
};

enum want { W_NONE, W_ANSWER, W_HTTP, W_END };

struct run {
	char id[64];              /* conversation public id */
	lua_State *co;            /* the flow's thread (anchored by co_ref) */
	int co_ref, env_ref;
	const struct flowdef *def;
	char lang[8];
	char *team;               /* owned: the run's team, from its log */
	size_t cursor;            /* log entries consumed */
	long replay_upto;         /* what it says after consuming <= this many inputs is old */
	enum want want;           /* what the last yield asked for */
	struct flow_call call;    /* W_HTTP */
	char *handoff_team, *handoff_reason; /* W_END */
	char *ticket_email, *ticket_message; /* ticket{} this step */
	struct wire_reply out[FLOW_SAYS_MAX];
	size_t n_out;
	UT_hash_handle hh;
};

struct flowhost {
	script *sc;               /* borrowed */
	lua_State *L;             /* borrowed: sc's main state */
	const struct config *cfg; /* borrowed */
	const logger *lg;         /* borrowed */
	struct flowdef *defs;
	size_t n_defs;
	struct locale locales[LANGS_MAX];
	size_t n_locales;
	struct pattern patterns[CONFIG_NAMED_MAX];
	size_t n_patterns;
	pcre2_match_data *md;
	pcre2_match_context *mc;
	int base_ref;             /* the API table every run's environment reads through */
	int catalogs_ref;         /* { lang = { key = text } } */
	char *widget_json;        /* the widget's strings (flowhost_widget_strings) */
	int format_ref;           /* string.format */
	struct run *runs;         /* live runs, uthash by id */
	struct run *cur;          /* the run being resumed, else NULL */
};

/* ===== the API's Lua half =====
 *
 * ask() and the wrappers are Lua on top of the C primitives below, which
 * the chunk receives as `prim`. */
static const char prelude[] =
	"local prim, sandbox = ...\n"
	"local say_raw, await, http_call, handoff_raw, t, validate =\n"
	"  prim.say, prim.await, prim.http, prim.handoff, prim.t, prim.validate\n"
	"local api = {}\n"
	"function api.say(text, choices) say_raw(text, choices) end\n"
	"local function pick(choices, text, choice)\n"
	"  local low = text and text:lower():gsub('^%s+', ''):gsub('%s+$', '')\n"
	"  for _, c in ipairs(choices) do\n"
	"    if choice == c.id or low == tostring(c.label):lower() then return c.id end\n"
	"  end\n"
	"end\n"
	"function api.ask(prompt, opts)\n"
	"  opts = opts or {}\n"
	"  if type(opts) ~= 'table' then error('ask: the options must be a table', 2) end\n"
	"  local v, retries = opts.validate, opts.retries or 2\n"
	"  if v ~= nil and type(v) ~= 'function' and type(v) ~= 'string' then\n"
	"    error('ask: validate must be a function or the name of a validator', 2)\n"
	"  end\n"
	"  say_raw(prompt, opts.choices)\n"
	"  local failures = 0\n"
	"  while true do\n"
	"    local text, choice = await()\n"
	"    local value, why\n"
	"    if opts.choices then value = pick(opts.choices, text, choice) end\n"
	"    if value == nil and (v ~= nil or not opts.choices) then\n"
	"      if type(v) == 'function' then value, why = v(text)\n"
	"      elseif v then value = validate(v, text)\n"
	"      else value = text end\n"
	"    end\n"
	"    if value ~= nil and value ~= false then return value end\n"
	"    failures = failures + 1\n"
	"    if failures > retries then return nil end\n"
	"    say_raw(why or opts.invalid or t('flow.invalid'), opts.choices)\n"
	"  end\n"
	"end\n"
	"function api.handoff(o)\n"
	"  if o ~= nil and type(o) ~= 'table' then error('handoff: pass a table {team=, reason=}', 2) end\n"
	"  o = o or {}\n"
	"  handoff_raw(o.team, o.reason)\n"
	"end\n"
	"api.http = {\n"
	"  get = function(url) return http_call('GET', url) end,\n"
	"  post = function(url, body) return http_call('POST', url, body) end,\n"
	"}\n"
	"api.t = t\n"
	"function api.ticket(o)\n"
	"  if type(o) ~= 'table' then error('ticket: pass a table {email=, message=}', 2) end\n"
	"  prim.ticket(o.email, o.message)\n"
	"end\n"
	"local m = {}\n"
	"for k, f in pairs(sandbox.math) do\n"
	"  if k ~= 'random' and k ~= 'randomseed' then m[k] = f end\n"
	"end\n"
	"api.math = m\n"
	"return api\n";

/* ===== helpers ===== */

#define API_CHUNK "flow API" /* the prelude's chunk name, as short_src shows it */

/* Raises a flow API error at the line of the flow that called the API:
 * the first Lua function up the stack that is not the prelude's, so an
 * editor reads "lua/flows/x.lua:12: say: ..." and not a line of ours. */
static int api_error(lua_State *L, const char *fmt, ...)
{
	lua_Debug ar;
	va_list ap;
	int level, found = 0;

	for (level = 1; !found && lua_getstack(L, level, &ar); level++)
		found = lua_getinfo(L, "Sl", &ar) && ar.currentline > 0 &&
			strcmp(ar.short_src, API_CHUNK) != 0;
	if (found)
		lua_pushfstring(L, "%s:%d: ", ar.short_src, ar.currentline);
	else
		lua_pushliteral(L, "");
	va_start(ap, fmt);
	lua_pushvfstring(L, fmt, ap);
	va_end(ap);
	lua_concat(L, 2);
	return lua_error(L);
}

static struct run *current(lua_State *L, int yields)
{
	flowhost *fh = lua_touserdata(L, lua_upvalueindex(1));
	if (!fh->cur)
		luaL_error(L, "the flow API can only be used while a flow runs");
	if (yields && L != fh->cur->co)
		luaL_error(L, "ask() and http can only be called from the flow itself, not from a"
			      " coroutine of its own");
	return fh->cur;
}

static flowhost *host_of(lua_State *L)
{
	return lua_touserdata(L, lua_upvalueindex(1));
}

/* 1 while what the run says is a replay of what the customer has seen. */
static int replaying(const struct run *r)
{
	return (long)r->cursor <= r->replay_upto;
}

/* A catalog's name for a language tag: "pt-BR" -> "pt"; "en" for none. */
static void lang_code(const char *tag, char out[3])
{
	out[0] = 'e';
	out[1] = 'n';
	out[2] = '\0';
	if (tag && isalpha((unsigned char)tag[0]) && isalpha((unsigned char)tag[1])) {
		out[0] = (char)tolower((unsigned char)tag[0]);
		out[1] = (char)tolower((unsigned char)tag[1]);
	}
}

static const char *locale_text(const flowhost *fh, const char *tag, int key)
{
	char lang[3];
	lang_code(tag, lang);
	const struct locale *en = NULL;
	for (size_t i = 0; i < fh->n_locales; i++) {
		if (!strcmp(fh->locales[i].lang, lang) && fh->locales[i].text[key])
			return fh->locales[i].text[key];
		if (!strcmp(fh->locales[i].lang, "en"))
			en = &fh->locales[i];
	}
	return en && en->text[key] ? en->text[key] : own_keys[key];
}

const char *flowhost_text(const flowhost *fh, const char *lang, const char *key)
{
	for (int k = 0; own_keys[k]; k++)
		if (!strcmp(own_keys[k], key))
			return locale_text(fh, lang, k);
	return key;
}

void flowhost_missing_texts(flowhost *fh, void (*fn)(void *ud, const char *lang, const char *key),
			    void *ud)
{
	lua_State *L = fh->L;

	if (!lua_checkstack(L, 8))
		return;
	lua_rawgeti(L, LUA_REGISTRYINDEX, fh->catalogs_ref);
	lua_getfield(L, -1, "en");
	if (!lua_istable(L, -1)) {
		lua_pop(L, 2);
		return;
	}
	for (size_t i = 0; i < fh->n_locales; i++) {
		const char *lang = fh->locales[i].lang;
		if (!strcmp(lang, "en"))
			continue;
		lua_getfield(L, -2, lang);          /* catalogs, en, lang */
		if (!lua_istable(L, -1)) {
			lua_pop(L, 1);
			continue;
		}
		lua_pushnil(L);
		while (lua_next(L, -3)) {           /* over en: key, value */
			lua_pop(L, 1);
			if (lua_type(L, -1) == LUA_TSTRING) {
				lua_pushvalue(L, -1);
				lua_rawget(L, -3);          /* lang[key] */
				if (lua_isnil(L, -1))
					fn(ud, lang, lua_tostring(L, -2));
				lua_pop(L, 1);
			}
		}
		lua_pop(L, 1);
	}
	lua_pop(L, 2);
}

char *flowhost_fill(const flowhost *fh, const char *lang, const char *key, const char *name,
		    const char *value)
{
	const char *text = flowhost_text(fh, lang, key);
	char mark[40];
	const char *at;
	size_t vl = strlen(value), ml;
	char *out;

	snprintf(mark, sizeof(mark), "{%s}", name);
	ml = strlen(mark);
	if (!(at = strstr(text, mark)))
		return xstrdup(text);
	out = xmalloc(strlen(text) - ml + vl + 1);
	memcpy(out, text, (size_t)(at - text));
	memcpy(out + (at - text), value, vl);
	strcpy(out + (at - text) + vl, at + ml);
	return out;
}

/* ===== the API's C half ===== */

/* say(text [, choices]) */
static int l_say(lua_State *L)
{
	struct run *r = current(L, 0);
	char err[256], source[80];
	struct wire_reply rep = {0};

	luaL_checkstack(L, 4, "say");
	lua_createtable(L, 0, 3);
	lua_pushvalue(L, 1);
	lua_setfield(L, -2, "text");
	lua_pushvalue(L, 2);
	lua_setfield(L, -2, "choices");
	snprintf(source, sizeof(source), "flow:%s", r->def->name);
	lua_pushstring(L, source);
	lua_setfield(L, -2, "source");
	if (script_read_reply(L, -1, &rep, err, sizeof(err))) {
		wire_reply_clear(&rep);
		/* the checker's messages name on_message; say what was called */
		return api_error(L, "say: %s", strstr(err, ": ") ? strstr(err, ": ") + 2 : err);
	}
	lua_pop(L, 1);
	if (replaying(r)) {
		wire_reply_clear(&rep);
		return 0;
	}
	if (r->n_out == FLOW_SAYS_MAX) {
		wire_reply_clear(&rep);
		return api_error(L, "say: a flow may say at most %d things between two answers",
				  FLOW_SAYS_MAX);
	}
	r->out[r->n_out++] = rep;
	return 0;
}

/* await(): yields until the customer answers; returns text, choice. */
static int l_await(lua_State *L)
{
	struct run *r = current(L, 1);
	r->want = W_ANSWER;
	return lua_yield(L, 0);
}

/* http(method, url [, body]): yields until the backend replies. */
static int l_http(lua_State *L)
{
	flowhost *fh = host_of(L);
	struct run *r = current(L, 1);
	const char *method = luaL_checkstring(L, 1);
	const char *url = luaL_checkstring(L, 2);
	struct backend_url u;
	char err[BACKEND_URL_MAX + 200];
	char *body = NULL;

	if (backend_url_allowed(fh->cfg->flows.backends, fh->cfg->flows.n_backends, url, &u, err,
				sizeof(err)))
		return api_error(L, "http.%s: %s", !strcmp(method, "GET") ? "get" : "post", err);
	if (!lua_isnoneornil(L, 3)) {
		json_t *j = luajson_to_json(L, 3, err, sizeof(err));
		if (!j)
			return api_error(L, "http.post: the body cannot be sent as JSON: %s", err);
		body = json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY);
		json_decref(j);
		if (!body)
			return api_error(L, "http.post: the body cannot be sent as JSON");
	}
	snprintf(r->call.method, sizeof(r->call.method), "%s", method);
	free(r->call.url);
	free(r->call.body);
	r->call.url = xstrdup(url);
	r->call.body = body; /* jansson allocates with malloc */
	r->want = W_HTTP;
	return lua_yield(L, 0);
}

/* handoff(team, reason): ends the flow; the conversation goes to a person. */
static int l_handoff(lua_State *L)
{
	struct run *r = current(L, 1);
	const char *team = luaL_optstring(L, 1, NULL);
	const char *reason = luaL_optstring(L, 2, NULL);

	if (team && (!team[0] || strlen(team) > 64 || !content_valid_id(team)))
		return api_error(L, "handoff: team must be a name of letters, digits, - and _");
	free(r->handoff_team);
	free(r->handoff_reason);
	r->handoff_team = team ? xstrdup(team) : NULL;
	r->handoff_reason = reason ? xstrndup(reason, 200) : NULL;
	r->want = W_END;
	return lua_yield(L, 0);
}

/* ticket(email, message): an offline ticket for the run's team. */
static int l_ticket(lua_State *L)
{
	struct run *r = current(L, 0);
	size_t el, ml;
	const char *email = luaL_checklstring(L, 1, &el);
	const char *msg = luaL_checklstring(L, 2, &ml);

	if (!flow_email_valid(email, el))
		return api_error(L, "ticket: email is not an e-mail address");
	if (ml == 0 || ml > 4000 || strlen(msg) != ml || !wire_utf8_valid(msg, ml))
		return api_error(L, "ticket: message must be 1 to 4000 bytes of text");
	if (replaying(r))
		return 0;
	free(r->ticket_email);
	free(r->ticket_message);
	r->ticket_email = xstrdup(email);
	r->ticket_message = xstrdup(msg);
	return 0;
}

/* Pushes lang's catalog text for the key at stack index k, formatted with
 * the arguments after it; English when lang lacks it, the key itself when
 * English does too. */
static int catalog_text(lua_State *L, flowhost *fh, const char *lang, int k)
{
	const char *key = luaL_checkstring(L, k);
	int n = lua_gettop(L);
	char code[3];

	lang_code(lang, code);
	luaL_checkstack(L, n + 4, "t");
	lua_rawgeti(L, LUA_REGISTRYINDEX, fh->catalogs_ref);
	lua_getfield(L, -1, code);
	if (lua_istable(L, -1))
		lua_getfield(L, -1, key);
	else
		lua_pushnil(L);
	if (!lua_isstring(L, -1)) {
		lua_pop(L, 2);
		lua_getfield(L, -1, "en");
		if (lua_istable(L, -1))
			lua_getfield(L, -1, key);
		else
			lua_pushnil(L);
	}
	if (!lua_isstring(L, -1)) {
		lua_pop(L, 3);
		lua_pushvalue(L, k); /* the key shows what is missing */
		return 1;
	}
	if (n == k)
		return 1;
	lua_rawgeti(L, LUA_REGISTRYINDEX, fh->format_ref);
	lua_insert(L, -2);
	for (int i = k + 1; i <= n; i++) {
		if (lua_type(L, i) == LUA_TSTRING || lua_type(L, i) == LUA_TNUMBER)
			lua_pushvalue(L, i);
		else
			luaL_tolstring(L, i, NULL);
	}
	lua_call(L, n - k + 1, 1);
	return 1;
}

/* t(key, ...): the run's language's text for key, formatted with the rest. */
static int l_t(lua_State *L)
{
	return catalog_text(L, host_of(L), current(L, 0)->lang, 1);
}

/* own_text(lang, key) for lua/pipeline.lua: lang's own text for key, or
 * nil (no English fallback: for word lists, which are per language). */
static int l_own_text(lua_State *L)
{
	flowhost *fh = host_of(L);
	const char *lang = luaL_checkstring(L, 1);
	const char *key = luaL_checkstring(L, 2);

	lua_rawgeti(L, LUA_REGISTRYINDEX, fh->catalogs_ref);
	lua_getfield(L, -1, lang);
	if (lua_istable(L, -1))
		lua_getfield(L, -1, key);
	else
		lua_pushnil(L);
	if (!lua_isstring(L, -1)) {
		lua_pushnil(L);
		return 1;
	}
	return 1;
}

/* languages() for lua/pipeline.lua: the languages of lua/locale/, a list. */
static int l_languages(lua_State *L)
{
	flowhost *fh = host_of(L);

	lua_createtable(L, (int)fh->n_locales, 0);
	for (size_t i = 0; i < fh->n_locales; i++) {
		lua_pushstring(L, fh->locales[i].lang);
		lua_rawseti(L, -2, (lua_Integer)i + 1);
	}
	return 1;
}

/* text(lang, key, ...) for lua/pipeline.lua: lang's text for key (a tag
 * like "pt-BR" counts as "pt"), formatted with the rest. */
static int l_text(lua_State *L)
{
	return catalog_text(L, host_of(L), luaL_optstring(L, 1, "en"), 2);
}

int flow_email_valid(const char *s, size_t len)
{
	const char *at = memchr(s, '@', len), *dot;
	size_t local, i;

	if (!at || len > 254 || memchr(at + 1, '@', len - (size_t)(at - s) - 1))
		return 0;
	local = (size_t)(at - s);
	if (local == 0 || local > 64 || s[0] == '.' || s[local - 1] == '.')
		return 0;
	for (i = 0; i < local; i++) {
		unsigned char c = (unsigned char)s[i];
		if (!isalnum(c) && !strchr("!#$%&'*+/=?^_`{|}~.-", c))
			return 0;
		if (c == '.' && s[i + 1] == '.')
			return 0;
	}
	/* the domain: labels of letters, digits and '-', at least two, the
	 * last of letters only, at least two long */
	const char *d = at + 1, *end = s + len;
	if (d == end || !(dot = memrchr(d, '.', (size_t)(end - d))) || end - dot - 1 < 2)
		return 0;
	for (const char *p = dot + 1; p < end; p++)
		if (!isalpha((unsigned char)*p))
			return 0;
	for (const char *p = d, *label = d; p <= end; p++) {
		if (p == end || *p == '.') {
			if (p == label || *label == '-' || p[-1] == '-')
				return 0;
			label = p + 1;
		} else if (!isalnum((unsigned char)*p) && *p != '-') {
			return 0;
		}
	}
	return 1;
}

/* validate(name, text): the value an answer stands for, or nil. */
static int l_validate(lua_State *L)
{
	flowhost *fh = host_of(L);
	const char *name = luaL_checkstring(L, 1);
	size_t len;
	const char *text = luaL_optlstring(L, 2, "", &len);

	while (len && isspace((unsigned char)*text)) {
		text++;
		len--;
	}
	while (len && isspace((unsigned char)text[len - 1]))
		len--;
	if (!strcmp(name, "email")) {
		if (flow_email_valid(text, len))
			lua_pushlstring(L, text, len);
		else
			lua_pushnil(L);
		return 1;
	}
	for (size_t i = 0; i < fh->n_patterns; i++) {
		if (strcmp(fh->patterns[i].name, name))
			continue;
		int rc = pcre2_match(fh->patterns[i].code, (PCRE2_SPTR)text, len, 0, 0, fh->md,
				     fh->mc);
		if (rc < 0) {
			lua_pushnil(L);
			return 1;
		}
		PCRE2_SIZE *ov = pcre2_get_ovector_pointer(fh->md);
		if (rc >= 2 && ov[2] != PCRE2_UNSET)
			lua_pushlstring(L, text + ov[2], ov[3] - ov[2]);
		else
			lua_pushlstring(L, text + ov[0], ov[1] - ov[0]);
		return 1;
	}
	return api_error(L, "no validator named \"%s\" (\"email\", or a name in the config's"
			     " flows.patterns)", name);
}

/* ===== runs ===== */

static void call_clear(struct flow_call *c)
{
	free(c->url);
	free(c->body);
	memset(c, 0, sizeof(*c));
}

static void free_run(flowhost *fh, struct run *r)
{
	HASH_DEL(fh->runs, r);
	luaL_unref(fh->L, LUA_REGISTRYINDEX, r->co_ref);
	luaL_unref(fh->L, LUA_REGISTRYINDEX, r->env_ref);
	for (size_t i = 0; i < r->n_out; i++)
		wire_reply_clear(&r->out[i]);
	call_clear(&r->call);
	free(r->team);
	free(r->handoff_team);
	free(r->handoff_reason);
	free(r->ticket_email);
	free(r->ticket_message);
	free(r);
}

void flow_drop(flowhost *fh, const char *conv_id)
{
	struct run *r = NULL;
	HASH_FIND_STR(fh->runs, conv_id, r);
	if (r)
		free_run(fh, r);
}

size_t flow_live(const flowhost *fh)
{
	return HASH_COUNT(fh->runs);
}

static const struct flowdef *find_def(const flowhost *fh, const char *name)
{
	for (size_t i = 0; i < fh->n_defs; i++)
		if (!strcmp(fh->defs[i].name, name))
			return &fh->defs[i];
	return NULL;
}

int flowhost_has(const flowhost *fh, const char *name)
{
	return find_def(fh, name) != NULL;
}

size_t flowhost_count(const flowhost *fh)
{
	return fh->n_defs;
}

void flow_outcome_clear(struct flow_outcome *o)
{
	for (size_t i = 0; i < o->n; i++)
		wire_reply_clear(&o->replies[i]);
	free(o->replies);
	call_clear(&o->call);
	free(o->team);
	free(o->reason);
	free(o->slots);
	free(o->ticket_email);
	free(o->ticket_message);
	memset(o, 0, sizeof(*o));
}

/* Builds a run: its environment, and a thread holding the flow's function,
 * both anchored in the registry (r->env_ref, r->co_ref). Runs inside
 * script_pcall: every allocation may fail. Arguments: fh, r, the
 * conversation's id and name (C strings, the name may be NULL). */
static int make_run(lua_State *L)
{
	flowhost *fh = lua_touserdata(L, 1);
	struct run *r = lua_touserdata(L, 2);
	const char *conv_id = lua_touserdata(L, 3);
	const char *conv_name = lua_touserdata(L, 4);
	char chunkname[FLOW_NAME_MAX + 64];
	int env;

	lua_settop(L, 0);
	lua_createtable(L, 0, 4); /* env */
	env = lua_gettop(L);
	lua_newtable(L);
	lua_setfield(L, -2, "slots");
	lua_pushstring(L, r->lang);
	lua_setfield(L, -2, "lang");
	lua_createtable(L, 0, 2);
	lua_pushstring(L, conv_id);
	lua_setfield(L, -2, "id");
	if (conv_name) {
		lua_pushstring(L, conv_name);
		lua_setfield(L, -2, "name");
	}
	lua_setfield(L, -2, "conversation");
	lua_createtable(L, 0, 2); /* its metatable */
	lua_rawgeti(L, LUA_REGISTRYINDEX, fh->base_ref);
	lua_setfield(L, -2, "__index");
	lua_pushboolean(L, 0);
	lua_setfield(L, -2, "__metatable");
	lua_setmetatable(L, -2);

	snprintf(chunkname, sizeof(chunkname), "@%s", r->def->path);
	if (luaL_loadbufferx(L, r->def->src, r->def->len, chunkname, "t") != LUA_OK)
		return lua_error(L);
	lua_pushvalue(L, env);
	lua_setupvalue(L, -2, 1);
	lua_call(L, 0, 1);
	if (!lua_isfunction(L, -1))
		return luaL_error(L, "%s must return the flow's function, not %s", r->def->path,
				  luaL_typename(L, -1));
	r->co = lua_newthread(L);         /* env fn co */
	lua_insert(L, -2);                /* env co fn */
	lua_xmove(L, r->co, 1);           /* env co */
	r->co_ref = luaL_ref(L, LUA_REGISTRYINDEX);
	r->env_ref = luaL_ref(L, LUA_REGISTRYINDEX);
	return 0;
}

/* Makes a new run for conv and log. NULL with err set on failure. */
static struct run *new_run(flowhost *fh, const struct flow_conv *conv, const struct flowlog *log,
			   char *err, size_t errlen)
{
	const struct flowdef *def = find_def(fh, log->flow);
	lua_State *L = fh->L;
	struct run *r;

	flow_drop(fh, conv->id);
	if (!def) {
		snprintf(err, errlen, "there is no flow named \"%s\" (lua/flows/%s.lua)", log->flow,
			 log->flow);
		return NULL;
	}
	r = xcalloc(1, sizeof(*r));
	snprintf(r->id, sizeof(r->id), "%s", conv->id);
	snprintf(r->lang, sizeof(r->lang), "%s", log->lang);
	r->team = log->team ? xstrdup(log->team) : NULL;
	r->def = def;
	r->co_ref = r->env_ref = LUA_NOREF;
	r->replay_upto = -1;
	lua_pushcfunction(L, make_run);
	lua_pushlightuserdata(L, fh);
	lua_pushlightuserdata(L, r);
	lua_pushlightuserdata(L, (void *)conv->id);
	lua_pushlightuserdata(L, (void *)conv->name);
	if (script_pcall(fh->sc, 4, 0, err, errlen)) {
		err[strcspn(err, "\n")] = '\0';
		luaL_unref(L, LUA_REGISTRYINDEX, r->co_ref); /* if only the env failed */
		free(r->team);
		free(r);
		return NULL;
	}
	HASH_ADD_STR(fh->runs, id, r);
	return r;
}

/* A parsed reply held by a Lua value while it is turned into Lua tables:
 * a Lua error there (the run's memory allowance) unwinds past the C code,
 * and the collector then frees the JSON. */
static int json_box_gc(lua_State *L)
{
	json_t **box = lua_touserdata(L, 1);
	json_decref(*box);
	*box = NULL;
	return 0;
}

static void push_json_field(lua_State *co, const char *body)
{
	json_t **box = lua_newuserdatauv(co, sizeof(*box), 0);
	*box = NULL;
	lua_createtable(co, 0, 1);
	lua_pushcfunction(co, json_box_gc);
	lua_setfield(co, -2, "__gc");
	lua_setmetatable(co, -2);
	*box = json_loads(body, JSON_DECODE_ANY, NULL);
	if (*box) {
		luajson_push(co, *box);
		lua_setfield(co, -3, "json");
	}
	json_decref(*box);
	*box = NULL;
	lua_pop(co, 1);
}

/* Pushes a backend outcome as the table http.get/post return. */
static void push_response(lua_State *co, int status, const char *body, const char *error)
{
	lua_createtable(co, 0, 5);
	lua_pushboolean(co, !error && status >= 200 && status < 300);
	lua_setfield(co, -2, "ok");
	lua_pushinteger(co, status);
	lua_setfield(co, -2, "status");
	if (body) {
		lua_pushstring(co, body);
		lua_setfield(co, -2, "body");
		push_json_field(co, body);
	}
	if (error) {
		lua_pushstring(co, error);
		lua_setfield(co, -2, "error");
	} else if (status < 200 || status >= 300) {
		lua_pushfstring(co, "HTTP %d", status);
		lua_setfield(co, -2, "error");
	}
}

/* An input for a run: an answer (text, choice) or a backend outcome (e). */
struct input {
	const char *text, *choice;
	const struct flowlog_entry *e;
};

/* Pushes an input's Lua values. Inside script_pcall: argument 1 is it. */
static int make_input(lua_State *L)
{
	const struct input *in = lua_touserdata(L, 1);
	if (in->e && in->e->kind == FLOWLOG_HTTP) {
		push_response(L, in->e->status, in->e->body, in->e->error);
		return 1;
	}
	lua_pushstring(L, in->e ? in->e->text : in->text);
	if (in->e ? in->e->choice : in->choice)
		lua_pushstring(L, in->e ? in->e->choice : in->choice);
	else
		lua_pushnil(L);
	return 2;
}

/* Puts the input on the run's stack for its next resume; returns the
 * number of values, or -1 when the VM has no memory left for them. */
static int give_input(flowhost *fh, struct run *r, const struct input *in)
{
	int n = in->e && in->e->kind == FLOWLOG_HTTP ? 1 : 2;
	char err[256];

	lua_pushcfunction(fh->L, make_input);
	lua_pushlightuserdata(fh->L, (void *)in);
	if (script_pcall(fh->sc, 1, n, err, sizeof(err)))
		return -1;
	if (!lua_checkstack(r->co, n)) {
		lua_pop(fh->L, n);
		return -1;
	}
	lua_xmove(fh->L, r->co, n);
	return n;
}

/* The traceback of a failed run. Inside script_pcall: the run's thread,
 * then the message (a C string). */
static int make_traceback(lua_State *L)
{
	luaL_traceback(L, lua_tothread(L, 1), lua_touserdata(L, 2), 0);
	return 1;
}

/* Reads the run's slots as JSON. Runs inside script_pcall: arg 1 is env. */
static int slots_json(lua_State *L)
{
	char err[200];
	json_t *j;
	char *s;

	lua_getfield(L, 1, "slots");
	j = luajson_to_json(L, -1, err, sizeof(err));
	if (!j)
		return luaL_error(L, "slots must hold only text, numbers, booleans and tables: %s", err);
	s = json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY | JSON_SORT_KEYS);
	json_decref(j);
	if (!s || strlen(s) > FLOW_SLOTS_MAX) {
		free(s);
		return luaL_error(L, "slots are larger than %d bytes as JSON", FLOW_SLOTS_MAX);
	}
	lua_pushstring(L, s);
	free(s);
	return 1;
}

/* Moves what the run said into out, and reads its slots. -1 on bad slots. */
static int collect(flowhost *fh, struct run *r, struct flow_outcome *out, char *err,
		   size_t errlen)
{
	lua_State *L = fh->L;

	if (r->ticket_email) {
		free(out->ticket_email);
		free(out->ticket_message);
		out->ticket_email = r->ticket_email;
		out->ticket_message = r->ticket_message;
		r->ticket_email = r->ticket_message = NULL;
	}
	if (r->n_out) {
		out->replies = xrealloc(out->replies, (out->n + r->n_out) * sizeof(*out->replies));
		memcpy(out->replies + out->n, r->out, r->n_out * sizeof(*r->out));
		out->n += r->n_out;
		memset(r->out, 0, sizeof(r->out));
		r->n_out = 0;
	}
	lua_pushcfunction(L, slots_json);
	lua_rawgeti(L, LUA_REGISTRYINDEX, r->env_ref);
	if (script_pcall(fh->sc, 1, 1, err, errlen))
		return -1;
	free(out->slots);
	out->slots = xstrdup(lua_tostring(L, -1));
	lua_pop(L, 1);
	return 0;
}

/* Ends the run as failed with reason (its first line goes to agents; the
 * whole of it, traceback included, to the log). */
static void fail(flowhost *fh, struct run *r, const char *team, const char *conv_id,
		 const char *flow, const char *reason, struct flow_outcome *out)
{
	char masked[2048], q[2300], line[240];

	log_mask_emails(reason, masked, sizeof(masked));
	size_t ll = strcspn(masked, "\n");
	if (ll >= sizeof(line))
		ll = sizeof(line) - 1;
	memcpy(line, masked, ll);
	line[ll] = '\0';
	log_error(fh->lg, "flow_error", "conv=%s flow=%s reason=%s", conv_id, flow,
		  log_quote(masked, q, sizeof(q)));
	out->status = FLOW_FAILED;
	for (size_t i = 0; i < out->n; i++)
		wire_reply_clear(&out->replies[i]);
	out->n = 0;
	free(out->team);
	free(out->reason);
	out->team = xstrdup(team ? team : "general");
	out->reason = xstrdup(line);
	call_clear(&out->call);
	if (r) {
		for (size_t i = 0; i < r->n_out; i++)
			wire_reply_clear(&r->out[i]);
		r->n_out = 0;
		free_run(fh, r);
	}
	lua_gc(fh->L, LUA_GCCOLLECT);
}

/* Resumes the run with nargs values on its stack and goes on through any
 * logged inputs, until it needs one the log does not have or ends. */
static void drive(flowhost *fh, struct run *r, struct flowlog *log, int nargs,
		  struct flow_outcome *out)
{
	const struct config *cfg = fh->cfg;
	char err[2048];

	for (;;) {
		int nres = 0, rc;
		lua_State *co = r->co;

		r->want = W_NONE;
		fh->cur = r;
		script_arm(fh->sc, co, cfg->flows.instruction_limit, cfg->flows.memory_limit_kb * 1024);
		rc = lua_resume(co, fh->L, nargs, &nres);
		script_disarm(fh->sc, co);
		fh->cur = NULL;
		nargs = 0;
		if (rc != LUA_OK && rc != LUA_YIELD) {
			char msg[1024];
			if (rc == LUA_ERRMEM)
				snprintf(msg, sizeof(msg), "memory limit exceeded (%zu KiB per step)",
					 cfg->flows.memory_limit_kb);
			else
				snprintf(msg, sizeof(msg), "%s",
					 lua_type(co, -1) == LUA_TSTRING ? lua_tostring(co, -1)
									  : "error object is not a string");
			snprintf(err, sizeof(err), "%s", msg);
			if (rc != LUA_ERRMEM) {
				lua_pushcfunction(fh->L, make_traceback);
				lua_rawgeti(fh->L, LUA_REGISTRYINDEX, r->co_ref);
				lua_pushlightuserdata(fh->L, msg);
				char terr[64];
				if (script_pcall(fh->sc, 2, 1, terr, sizeof(terr)) == 0) {
					snprintf(err, sizeof(err), "%s", lua_tostring(fh->L, -1));
					lua_pop(fh->L, 1);
				}
			}
			fail(fh, r, r->team, r->id, log->flow, err, out);
			return;
		}
		lua_pop(co, nres);
		if (collect(fh, r, out, err, sizeof(err))) {
			fail(fh, r, r->team, r->id, log->flow, err, out);
			return;
		}
		if (rc == LUA_OK || r->want == W_END) {
			out->status = rc == LUA_OK ? FLOW_DONE : FLOW_HANDOFF;
			if (rc != LUA_OK) {
				out->team = xstrdup(r->handoff_team ? r->handoff_team
							   : r->team ? r->team : "general");
				out->reason = xstrdup(r->handoff_reason ? r->handoff_reason
									: "the flow asked for a person");
			}
			free_run(fh, r);
			return;
		}
		if (r->want != W_ANSWER && r->want != W_HTTP) {
			fail(fh, r, r->team, r->id, log->flow,
			     "the flow yielded outside the flow API (coroutine.yield)", out);
			return;
		}
		if (r->cursor < log->n) { /* rebuilding: hand back the logged input */
			const struct flowlog_entry *e = &log->v[r->cursor];
			if ((r->want == W_ANSWER) != (e->kind == FLOWLOG_ANSWER) ||
			    e->kind == FLOWLOG_PENDING) {
				fail(fh, r, r->team, r->id, log->flow,
				     "the flow asks for other inputs than it did when this conversation"
				     " started (was it changed?)", out);
				return;
			}
			r->cursor++;
			struct input in = {NULL, NULL, e};
			call_clear(&r->call);
			if ((nargs = give_input(fh, r, &in)) < 0) {
				fail(fh, r, r->team, r->id, log->flow, "memory limit exceeded", out);
				return;
			}
			continue;
		}
		if (replaying(r) && r->want == W_HTTP) {
			fail(fh, r, r->team, r->id, log->flow,
			     "the flow calls the backend where it waited for an answer before (was it"
			     " changed?)", out);
			return;
		}
		if (r->want == W_ANSWER) {
			out->status = FLOW_WAIT_ANSWER;
			return;
		}
		if (flowlog_add_pending(log)) {
			fail(fh, r, r->team, r->id, log->flow, "the flow took too many steps", out);
			return;
		}
		r->cursor = log->n;
		out->status = FLOW_WAIT_HTTP;
		out->call = r->call;
		memset(&r->call, 0, sizeof(r->call));
		return;
	}
}

/* Rebuilds the run of log from scratch: the first `old` entries are what
 * the customer has seen the answers to already. */
static void rebuild(flowhost *fh, const struct flow_conv *conv, struct flowlog *log, long old,
		    struct flow_outcome *out)
{
	char err[1024];
	struct run *r = new_run(fh, conv, log, err, sizeof(err));

	memset(out, 0, sizeof(*out));
	if (!r) {
		fail(fh, NULL, log->team, conv->id, log->flow, err, out);
		return;
	}
	r->replay_upto = old;
	drive(fh, r, log, 0, out);
}

void flow_start(flowhost *fh, const struct flow_conv *conv, struct flowlog *log,
		struct flow_outcome *out)
{
	rebuild(fh, conv, log, -1, out);
}

static struct run *live_run(flowhost *fh, const char *id, enum want want)
{
	struct run *r = NULL;
	HASH_FIND_STR(fh->runs, id, r);
	return r && r->want == want ? r : NULL;
}

void flow_answer(flowhost *fh, const struct flow_conv *conv, struct flowlog *log,
		 const char *text, const char *choice, struct flow_outcome *out)
{
	struct run *r = live_run(fh, conv->id, W_ANSWER);
	long old = (long)log->n;

	memset(out, 0, sizeof(*out));
	if (flowlog_add_answer(log, text, choice)) {
		flow_drop(fh, conv->id);
		fail(fh, NULL, log->team, conv->id, log->flow,
		     "the flow took too many steps (or a backend call is still pending)", out);
		return;
	}
	if (!r || r->cursor != (size_t)old) {
		rebuild(fh, conv, log, old, out);
		return;
	}
	r->cursor++;
	struct input in = {text, choice, NULL};
	int n = give_input(fh, r, &in);
	if (n < 0) {
		fail(fh, r, r->team, r->id, log->flow, "memory limit exceeded", out);
		return;
	}
	drive(fh, r, log, n, out);
}

static void resolved(flowhost *fh, const struct flow_conv *conv, struct flowlog *log,
		     struct flow_outcome *out)
{
	struct run *r = live_run(fh, conv->id, W_HTTP);
	const struct flowlog_entry *e = &log->v[log->n - 1];

	if (!r || r->cursor != log->n) {
		rebuild(fh, conv, log, (long)log->n - 1, out);
		return;
	}
	struct input in = {NULL, NULL, e};
	int n = give_input(fh, r, &in);
	if (n < 0) {
		fail(fh, r, r->team, r->id, log->flow, "memory limit exceeded", out);
		return;
	}
	drive(fh, r, log, n, out);
}

void flow_reply(flowhost *fh, const struct flow_conv *conv, struct flowlog *log,
		const struct backend_result *res, struct flow_outcome *out)
{
	memset(out, 0, sizeof(*out));
	if (flowlog_resolve(log, res->status, res->body, res->body_len, res->error)) {
		flow_drop(fh, conv->id);
		fail(fh, NULL, log->team, conv->id, log->flow, "a backend reply nobody waited for",
		     out);
		return;
	}
	resolved(fh, conv, log, out);
}

void flow_recover(flowhost *fh, const struct flow_conv *conv, struct flowlog *log,
		  struct flow_outcome *out)
{
	memset(out, 0, sizeof(*out));
	flow_drop(fh, conv->id);
	if (flowlog_resolve(log, 0, NULL, 0,
			    "interrupted: supportd stopped before the backend replied")) {
		fail(fh, NULL, log->team, conv->id, log->flow, "nothing to recover", out);
		return;
	}
	resolved(fh, conv, log, out);
}

/* ===== loading ===== */

static char *widget_strings(flowhost *fh);

static int push_prim(lua_State *L, flowhost *fh)
{
	static const luaL_Reg prims[] = {
		{"say", l_say}, {"await", l_await}, {"http", l_http}, {"handoff", l_handoff},
		{"t", l_t}, {"validate", l_validate}, {"ticket", l_ticket}, {NULL, NULL}};
	lua_newtable(L);
	lua_pushlightuserdata(L, fh);
	luaL_setfuncs(L, prims, 1);
	return 1;
}

/* Builds the API table (fh->base_ref). Inside script_pcall: arg 1 is fh. */
static int build_base(lua_State *L)
{
	flowhost *fh = lua_touserdata(L, 1);
	script *sc = fh->sc;
	int api;

	if (luaL_loadbufferx(L, prelude, sizeof(prelude) - 1, "=" API_CHUNK, "t") != LUA_OK)
		return lua_error(L);
	push_prim(L, fh);
	script_push_sandbox(sc);
	lua_call(L, 2, 1);
	api = lua_gettop(L);
	/* backend.<name>: the base URLs a flow may call */
	lua_createtable(L, 0, (int)fh->cfg->flows.n_backends);
	for (size_t i = 0; i < fh->cfg->flows.n_backends; i++) {
		lua_pushstring(L, fh->cfg->flows.backends[i].value);
		lua_setfield(L, -2, fh->cfg->flows.backends[i].name);
	}
	lua_setfield(L, api, "backend");
	lua_createtable(L, 0, 1);
	script_push_sandbox(sc);
	lua_setfield(L, -2, "__index");
	lua_setmetatable(L, api);
	fh->base_ref = luaL_ref(L, LUA_REGISTRYINDEX);
	script_push_sandbox(sc);
	lua_getfield(L, -1, "string");
	lua_getfield(L, -1, "format");
	fh->format_ref = luaL_ref(L, LUA_REGISTRYINDEX);
	lua_newtable(L);
	fh->catalogs_ref = luaL_ref(L, LUA_REGISTRYINDEX);
	return 0;
}

struct load_ctx {
	flowhost *fh;
	struct diag *d;
	const char *dir;
};

static int valid_name(const char *s, size_t len)
{
	if (len == 0 || len > FLOW_NAME_MAX)
		return 0;
	for (size_t i = 0; i < len; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
			return 0;
	return 1;
}

/* Loads one catalog file: a chunk returning { key = "text" }. Inside
 * script_pcall with args fh, path, src, lang. */
static int load_catalog(lua_State *L)
{
	flowhost *fh = lua_touserdata(L, 1);
	const char *path = lua_tostring(L, 2);
	size_t len;
	const char *src = lua_tolstring(L, 3, &len);
	const char *lang = lua_tostring(L, 4);
	char chunkname[CONFIG_PATH_MAX + 2];

	snprintf(chunkname, sizeof(chunkname), "@%s", path);
	if (luaL_loadbufferx(L, src, len, chunkname, "t") != LUA_OK)
		return lua_error(L);
	lua_newtable(L); /* an empty environment: a catalog is data */
	lua_setupvalue(L, -2, 1);
	lua_call(L, 0, 1);
	if (!lua_istable(L, -1))
		return luaL_error(L, "%s: must return a table of texts", path);
	lua_pushnil(L);
	while (lua_next(L, -2)) {
		if (lua_type(L, -2) != LUA_TSTRING || lua_type(L, -1) != LUA_TSTRING)
			return luaL_error(L, "%s: every key and every text must be a string", path);
		lua_pop(L, 1);
	}
	lua_rawgeti(L, LUA_REGISTRYINDEX, fh->catalogs_ref);
	lua_pushvalue(L, -2);
	lua_setfield(L, -2, lang);
	return 0;
}

static void on_locale(void *ud, const char *path, const char *name, const struct stat *st)
{
	struct load_ctx *c = ud;
	flowhost *fh = c->fh;
	size_t nl = strlen(name);
	char err[1024], lang[8];
	char *src;
	size_t len;

	if (!S_ISREG(st->st_mode) || !content_ends_with(name, ".lua"))
		return;
	if (nl - 4 < 2 || nl - 4 > 5 || !valid_name(name, nl - 4)) {
		diag_add(c->d, path, 0, "a catalog is named after its language, like en.lua");
		return;
	}
	if (fh->n_locales == LANGS_MAX) {
		diag_add(c->d, path, 0, "more than %d languages", LANGS_MAX);
		return;
	}
	snprintf(lang, sizeof(lang), "%.*s", (int)(nl - 4), name);
	if (content_read_file(path, LOCALE_FILE_MAX, &src, &len, c->d))
		return;
	lua_pushcfunction(fh->L, load_catalog);
	lua_pushlightuserdata(fh->L, fh);
	lua_pushstring(fh->L, path);
	lua_pushlstring(fh->L, src, len);
	lua_pushstring(fh->L, lang);
	free(src);
	if (script_pcall(fh->sc, 4, 0, err, sizeof(err))) {
		diag_add(c->d, NULL, 0, "%.*s", (int)strcspn(err, "\n"), err); /* no traceback */
		return;
	}
	struct locale *lo = &fh->locales[fh->n_locales++];
	snprintf(lo->lang, sizeof(lo->lang), "%s", lang);
	lua_rawgeti(fh->L, LUA_REGISTRYINDEX, fh->catalogs_ref);
	lua_getfield(fh->L, -1, lang);
	for (int k = 0; own_keys[k]; k++) {
		lua_getfield(fh->L, -1, own_keys[k]);
		if (lua_isstring(fh->L, -1))
			lo->text[k] = xstrdup(lua_tostring(fh->L, -1));
		lua_pop(fh->L, 1);
	}
	lua_pop(fh->L, 2);
}

/* 1 if the English catalog has key. */
static int has_text(flowhost *fh, const char *key, size_t len)
{
	int found;
	lua_State *L = fh->L;
	if (!lua_checkstack(L, 4))
		return 1;
	lua_rawgeti(L, LUA_REGISTRYINDEX, fh->catalogs_ref);
	lua_getfield(L, -1, "en");
	if (!lua_istable(L, -1)) {
		lua_pop(L, 2);
		return 0;
	}
	lua_pushlstring(L, key, len);
	lua_rawget(L, -2);
	found = lua_isstring(L, -1);
	lua_pop(L, 3);
	return found;
}

/* Every t("key") a flow's text names must have an English text: a typo in
 * a key would show customers the key. Only literal keys can be checked. */
static void check_keys(flowhost *fh, const struct flowdef *def, struct diag *d)
{
	int line = 1;
	for (const char *p = def->src; *p; p++) {
		if (*p == '\n')
			line++;
		if (*p != 't' || (p > def->src && (isalnum((unsigned char)p[-1]) || p[-1] == '_' ||
						   p[-1] == '.' || p[-1] == ':')))
			continue;
		const char *q = p + 1;
		while (*q == ' ')
			q++;
		if (*q != '(')
			continue;
		q++;
		while (*q == ' ')
			q++;
		if (*q != '"' && *q != '\'')
			continue;
		char quote = *q++;
		const char *end = strchr(q, quote);
		if (!end || memchr(q, '\n', (size_t)(end - q)))
			continue;
		if (!has_text(fh, q, (size_t)(end - q)))
			diag_add(d, def->path, line, "t(\"%.*s\") has no text in lua/locale/en.lua",
				 (int)(end - q), q);
	}
}

/* Checks a flow file: it compiles and its chunk returns a function. */
static int check_flow(lua_State *L)
{
	flowhost *fh = lua_touserdata(L, 1);
	const struct flowdef *def = lua_touserdata(L, 2);
	char chunkname[CONFIG_PATH_MAX + 2];

	snprintf(chunkname, sizeof(chunkname), "@%s", def->path);
	if (luaL_loadbufferx(L, def->src, def->len, chunkname, "t") != LUA_OK)
		return lua_error(L);
	lua_newtable(L);
	lua_createtable(L, 0, 1);
	lua_rawgeti(L, LUA_REGISTRYINDEX, fh->base_ref);
	lua_setfield(L, -2, "__index");
	lua_setmetatable(L, -2);
	lua_setupvalue(L, -2, 1);
	lua_call(L, 0, 1);
	if (!lua_isfunction(L, -1))
		return luaL_error(L, "%s: must return the flow's function (return function() ... end),"
				     " not %s", def->path, luaL_typename(L, -1));
	return 0;
}

static void on_flow(void *ud, const char *path, const char *name, const struct stat *st)
{
	struct load_ctx *c = ud;
	flowhost *fh = c->fh;
	size_t nl = strlen(name);
	struct flowdef def = {0};

	if (!S_ISREG(st->st_mode) || !content_ends_with(name, ".lua"))
		return;
	if (!valid_name(name, nl - 4)) {
		diag_add(c->d, path, 0, "a flow's file name must be its name: a-z, 0-9 and _, at most"
					" %d, then .lua", FLOW_NAME_MAX);
		return;
	}
	if (content_read_file(path, FLOW_FILE_MAX, &def.src, &def.len, c->d))
		return;
	snprintf(def.name, sizeof(def.name), "%.*s", (int)(nl - 4), name);
	def.path = xstrdup(path);
	fh->defs = xrealloc(fh->defs, (fh->n_defs + 1) * sizeof(*fh->defs));
	fh->defs[fh->n_defs++] = def;
}

flowhost *flowhost_open(script *sc, const char *content_dir, const struct config *cfg,
			const logger *lg, struct diag *d)
{
	flowhost *fh = xcalloc(1, sizeof(*fh));
	char err[1024];
	size_t before = diag_count(d);
	struct load_ctx c = {fh, d, content_dir};
	char *dir;
	struct stat st;

	fh->sc = sc;
	fh->L = script_vm(sc);
	fh->cfg = cfg;
	fh->lg = lg;
	fh->base_ref = fh->catalogs_ref = fh->format_ref = LUA_NOREF;
	fh->md = pcre2_match_data_create(4, NULL);
	fh->mc = pcre2_match_context_create(NULL);
	if (!fh->md || !fh->mc)
		abort();
	pcre2_set_match_limit(fh->mc, (uint32_t)cfg->brain.pattern_match_limit);
	pcre2_set_depth_limit(fh->mc, (uint32_t)cfg->brain.pattern_depth_limit_kb);
	for (size_t i = 0; i < cfg->flows.n_patterns; i++) {
		int e;
		PCRE2_SIZE off;
		pcre2_code *code = pcre2_compile((PCRE2_SPTR)cfg->flows.patterns[i].value,
						 PCRE2_ZERO_TERMINATED, PCRE2_UTF | PCRE2_UCP, &e,
						 &off, NULL);
		if (!code) {
			PCRE2_UCHAR msg[256];
			pcre2_get_error_message(e, msg, sizeof(msg));
			diag_add(d, NULL, 0, "config: flows.patterns.%s: %s at offset %zu",
				 cfg->flows.patterns[i].name, (const char *)msg, (size_t)off);
			continue;
		}
		(void)pcre2_jit_compile(code, PCRE2_JIT_COMPLETE);
		snprintf(fh->patterns[fh->n_patterns].name, CONFIG_NAME_MAX, "%s",
			 cfg->flows.patterns[i].name);
		fh->patterns[fh->n_patterns++].code = code;
	}

	lua_pushcfunction(fh->L, build_base);
	lua_pushlightuserdata(fh->L, fh);
	if (script_pcall(sc, 1, 0, err, sizeof(err))) {
		diag_add(d, NULL, 0, "the flow API: %s", err);
		flowhost_close(fh);
		return NULL;
	}

	dir = content_path_join(content_dir, "lua/locale");
	if (stat(dir, &st) == 0)
		content_list_dir(dir, "the catalogs directory", on_locale, &c, NULL, d);
	free(dir);
	dir = content_path_join(content_dir, "lua/flows");
	if (stat(dir, &st) == 0)
		content_list_dir(dir, "the flows directory", on_flow, &c, NULL, d);
	free(dir);
	for (size_t i = 0; i < fh->n_defs; i++) {
		lua_pushcfunction(fh->L, check_flow);
		lua_pushlightuserdata(fh->L, fh);
		lua_pushlightuserdata(fh->L, &fh->defs[i]);
		if (script_pcall(sc, 2, 0, err, sizeof(err)))
			diag_add(d, NULL, 0, "%.*s", (int)strcspn(err, "\n"), err);
		else
			check_keys(fh, &fh->defs[i], d);
	}
	if (diag_count(d) > before) {
		flowhost_close(fh);
		return NULL;
	}
	/* the catalogs for lua/pipeline.lua too: text(lang, key, ...),
	 * own_text(lang, key) and languages() */
	static const luaL_Reg catalog_fns[] = {
		{"text", l_text}, {"own_text", l_own_text}, {"languages", l_languages}, {NULL, NULL}};
	script_push_sandbox(sc);
	lua_pushlightuserdata(fh->L, fh);
	luaL_setfuncs(fh->L, catalog_fns, 1);
	lua_pop(fh->L, 1);
	fh->widget_json = widget_strings(fh);
	return fh;
}

/* Sets path (a key without its "widget." prefix, such as "err.generic")
 * in obj, making the objects on the way; a key that clashes with another
 * ("err" as text and "err.x") is left out. */
static void set_path(json_t *obj, const char *path, const char *text)
{
	const char *dot;

	while ((dot = strchr(path, '.'))) {
		char seg[64];
		json_t *next;
		if ((size_t)(dot - path) >= sizeof(seg) || dot == path)
			return;
		memcpy(seg, path, (size_t)(dot - path));
		seg[dot - path] = '\0';
		next = json_object_get(obj, seg);
		if (!next) {
			next = json_object();
			json_object_set_new(obj, seg, next);
		} else if (!json_is_object(next)) {
			return;
		}
		obj = next;
		path = dot + 1;
	}
	if (*path && !json_is_object(json_object_get(obj, path)))
		json_object_set_new(obj, path, json_string(text));
}

#define WIDGET_PREFIX "widget."

/* The widget's strings: {"en": {...}, "pt": {...}} from every catalog's
 * widget.* keys, each language's own text or else the English one. A new
 * string; "{}" without an English catalog. */
static char *widget_strings(flowhost *fh)
{
	lua_State *L = fh->L;
	json_t *all = json_object();
	char *out;

	if (lua_checkstack(L, 8)) {
		lua_rawgeti(L, LUA_REGISTRYINDEX, fh->catalogs_ref); /* catalogs */
		lua_getfield(L, -1, "en");                           /* catalogs, en */
		for (size_t i = 0; lua_istable(L, -1) && i < fh->n_locales; i++) {
			json_t *strings = json_object();
			lua_getfield(L, -2, fh->locales[i].lang);    /* catalogs, en, lang */
			lua_pushnil(L);
			while (lua_next(L, -3)) {                    /* ..., lang, key, en text */
				const char *key = lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2) : "";
				if (lua_type(L, -1) == LUA_TSTRING &&
				    !strncmp(key, WIDGET_PREFIX, strlen(WIDGET_PREFIX))) {
					const char *text = lua_tostring(L, -1);
					if (lua_istable(L, -3)) {
						lua_getfield(L, -3, key);
						if (lua_type(L, -1) == LUA_TSTRING)
							text = lua_tostring(L, -1);
						set_path(strings, key + strlen(WIDGET_PREFIX), text);
						lua_pop(L, 1);
					} else {
						set_path(strings, key + strlen(WIDGET_PREFIX), text);
					}
				}
				lua_pop(L, 1);
			}
			lua_pop(L, 1);
			json_object_set_new(all, fh->locales[i].lang, strings);
		}
		lua_pop(L, 2);
	}
	out = json_dumps(all, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(all);
	if (!out)
		abort();
	return out;
}

const char *flowhost_widget_strings(const flowhost *fh)
{
	return fh->widget_json;
}

void flowhost_close(flowhost *fh)
{
	struct run *r, *tmp;

	if (!fh)
		return;
	HASH_ITER(hh, fh->runs, r, tmp)
		free_run(fh, r);
	for (size_t i = 0; i < fh->n_defs; i++) {
		free(fh->defs[i].path);
		free(fh->defs[i].src);
	}
	free(fh->defs);
	for (size_t i = 0; i < fh->n_locales; i++)
		for (int k = 0; k < OWN_KEYS; k++)
			free(fh->locales[i].text[k]);
	for (size_t i = 0; i < fh->n_patterns; i++)
		pcre2_code_free(fh->patterns[i].code);
	pcre2_match_data_free(fh->md);
	pcre2_match_context_free(fh->mc);
	luaL_unref(fh->L, LUA_REGISTRYINDEX, fh->base_ref);
	luaL_unref(fh->L, LUA_REGISTRYINDEX, fh->catalogs_ref);
	luaL_unref(fh->L, LUA_REGISTRYINDEX, fh->format_ref);
	free(fh->widget_json);
	free(fh);
}
