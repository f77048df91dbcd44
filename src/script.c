/* script.c: sandboxed Lua 5.4 host. See script.h. */
#include "script.h"
#include "text.h"

#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HOOK_EVERY 1000          /* instructions between budget checks */
#define SCRIPT_FILE_MAX (1 << 20)

struct script {
	lua_State *L;
	const logger *lg;            /* borrowed */
	struct script_limits lim;
	size_t used;                 /* bytes held by the VM */
	int64_t budget;              /* instructions left in this call */
	uint64_t armed;              /* the budget this call started with */
	size_t ceiling;              /* while armed with a memory allowance: heap limit; else 0 */
	int env_ref;                 /* registry ref of the sandbox table */
	int fn_ref;                  /* registry ref of on_message */
	int takes_understanding;     /* on_message has a third parameter, or takes ... */
	char path[256];
};

/* ===== budgets ===== */

/* The allocator refuses growth past the cap; Lua turns that into a memory
 * error for the running call. Frees always succeed. */
static void *cap_alloc(void *ud, void *ptr, size_t osize, size_t nsize)
{
	script *sc = ud;
	size_t old = ptr ? osize : 0;

	if (nsize == 0) {
		free(ptr);
		sc->used -= old;
		return NULL;
	}
	if (nsize > old && (sc->used + (nsize - old) > sc->lim.memory_bytes ||
			    (sc->ceiling && sc->used + (nsize - old) > sc->ceiling)))
		return NULL;
	void *p = realloc(ptr, nsize);
	if (p)
		sc->used = sc->used - old + nsize;
	return p;
}

/* An error outside any pcall: only possible while building the sandbox,
 * which runs protected anyway; report and let Lua abort. */
static int on_panic(lua_State *L)
{
	const char *msg = lua_tostring(L, -1);
	log_error(NULL, "lua_panic", "msg=\"%s\"", msg ? msg : "?");
	return 0;
}

static script *from_state(lua_State *L)
{
	return *(script **)lua_getextraspace(L);
}

/* Count hook. Once the budget is spent it fires on every instruction, so a
 * pcall in the script that catches the error hits it again at once. */
static void budget_hook(lua_State *L, lua_Debug *ar)
{
	script *sc = from_state(L);
	(void)ar;
	sc->budget -= HOOK_EVERY;
	if (sc->budget <= 0) {
		lua_sethook(L, budget_hook, LUA_MASKCOUNT, 1);
		lua_sethook(sc->L, budget_hook, LUA_MASKCOUNT, 1); /* L may be a coroutine */
		luaL_error(L, "instruction budget of %I exceeded", (lua_Integer)sc->armed);
	}
}

static void arm_budget(script *sc)
{
	sc->budget = (int64_t)sc->lim.instructions;
	sc->armed = sc->lim.instructions;
	lua_sethook(sc->L, budget_hook, LUA_MASKCOUNT, HOOK_EVERY);
}

void script_arm(script *sc, lua_State *co, uint64_t instructions, size_t memory)
{
	sc->budget = (int64_t)instructions;
	sc->armed = instructions;
	sc->ceiling = memory ? sc->used + memory : 0;
	lua_sethook(co, budget_hook, LUA_MASKCOUNT, HOOK_EVERY);
}

void script_disarm(script *sc, lua_State *co)
{
	lua_sethook(co, NULL, 0, 0);
	lua_sethook(sc->L, NULL, 0, 0); /* the hook sets itself on both once spent */
	sc->ceiling = 0;
}

lua_State *script_vm(script *sc)
{
	return sc->L;
}

const logger *script_logger(const script *sc)
{
	return sc->lg;
}

void script_push_sandbox(script *sc)
{
	lua_rawgeti(sc->L, LUA_REGISTRYINDEX, sc->env_ref);
}

static int traceback(lua_State *L)
{
	const char *msg = lua_tostring(L, 1);
	if (!msg)
		msg = luaL_typename(L, 1);
	luaL_traceback(L, L, msg, 1);
	return 1;
}

/* Calls the function below nargs arguments on the stack, with the budget
 * armed and a traceback handler. Leaves nres results, or returns -1 with
 * the message in err. */
static int guarded_call(script *sc, int nargs, int nres, char *err, size_t errlen)
{
	lua_State *L = sc->L;
	int base = lua_gettop(L) - nargs;
	int rc;

	lua_pushcfunction(L, traceback);
	lua_insert(L, base);
	arm_budget(sc);
	rc = lua_pcall(L, nargs, nres, base);
	lua_sethook(L, NULL, 0, 0);
	lua_remove(L, base);
	if (rc != LUA_OK) {
		const char *msg = lua_tostring(L, -1);
		snprintf(err, errlen, "%s", rc == LUA_ERRMEM ? "memory limit exceeded"
							    : (msg ? msg : "error object is not a string"));
		lua_pop(L, 1);
		lua_gc(L, LUA_GCCOLLECT);
		return -1;
	}
	return 0;
}

int script_pcall(script *sc, int nargs, int nres, char *err, size_t errlen)
{
	return guarded_call(sc, nargs, nres, err, errlen);
}

/* ===== the sandbox ===== */

static int sandbox_print(lua_State *L)
{
	script *sc = from_state(L);
	char buf[512], q[600];
	size_t o = 0;
	int n = lua_gettop(L);

	for (int i = 1; i <= n && o < sizeof(buf) - 1; i++) {
		size_t l;
		const char *s = luaL_tolstring(L, i, &l);
		o += (size_t)snprintf(buf + o, sizeof(buf) - o, "%s%s", i > 1 ? "\t" : "", s);
		lua_pop(L, 1);
	}
	char masked[512];
	log_debug(sc->lg, "script_print", "script=%s text=%s", sc->path,
		  log_quote(log_mask_emails(buf, masked, sizeof(masked)), q, sizeof(q)));
	return 0;
}

/* setmetatable without finalizers: a __gc metamethod would run during
 * garbage collection, outside any budget, even at shutdown. Lua only
 * registers an object for finalization if its metatable has __gc when it
 * is set, so checking here is enough. */
static int sandbox_setmetatable(lua_State *L)
{
	if (lua_istable(L, 2)) {
		lua_pushliteral(L, "__gc");
		if (lua_rawget(L, 2) != LUA_TNIL)
			return luaL_error(L, "__gc metamethods are not allowed");
	}
	lua_settop(L, 2);
	lua_pushvalue(L, lua_upvalueindex(1));
	lua_insert(L, 1);
	lua_call(L, 2, 1);
	return 1;
}

static const char *const base_allowed[] = {
	"assert", "error", "ipairs", "next", "pairs", "pcall", "xpcall", "select",
	"tonumber", "tostring", "type", "rawequal", "rawget", "rawset", "rawlen",
	"getmetatable", NULL};

static const luaL_Reg libs[] = {
	{LUA_GNAME, luaopen_base},
	{LUA_STRLIBNAME, luaopen_string},
	{LUA_TABLIBNAME, luaopen_table},
	{LUA_MATHLIBNAME, luaopen_math},
	{LUA_UTF8LIBNAME, luaopen_utf8},
	{LUA_COLIBNAME, luaopen_coroutine},
	{NULL, NULL}};

/* fold(s): s lower-cased, accents and marks stripped, compatibility forms
 * unified (text_fold: what the brain matches on); nil for text that is not
 * UTF-8. For comparing a customer's words with word lists. */
#define FOLD_MAX (64 * 1024)
static int sandbox_fold(lua_State *L)
{
	size_t len, out_len;
	const char *s = luaL_checklstring(L, 1, &len);
	char *f;

	if (len > FOLD_MAX)
		return luaL_error(L, "fold: at most %d bytes", FOLD_MAX);
	f = text_fold(s, len, &out_len);
	if (!f) {
		lua_pushnil(L);
		return 1;
	}
	lua_pushlstring(L, f, out_len);
	free(f);
	return 1;
}

/* Builds the environment scripts run in and leaves it on the stack. Only
 * the libraries above are opened at all; io, os, debug and package never
 * exist in this VM. */
static void push_sandbox(lua_State *L)
{
	for (const luaL_Reg *l = libs; l->name; l++) {
		luaL_requiref(L, l->name, l->func, 1);
		lua_pop(L, 1);
	}
	/* string.dump would hand out bytecode; strings share this table as
	 * their metatable's __index, so remove it at the source */
	lua_getglobal(L, LUA_STRLIBNAME);
	lua_pushnil(L);
	lua_setfield(L, -2, "dump");
	lua_pop(L, 1);

	lua_newtable(L);
	lua_pushglobaltable(L);
	for (const char *const *n = base_allowed; *n; n++) {
		lua_getfield(L, -1, *n);
		lua_setfield(L, -3, *n);
	}
	lua_getfield(L, -1, "setmetatable");
	lua_pushcclosure(L, sandbox_setmetatable, 1);
	lua_setfield(L, -3, "setmetatable");
	lua_pop(L, 1);
	for (const luaL_Reg *l = libs + 1; l->name; l++) {
		lua_getglobal(L, l->name);
		lua_setfield(L, -2, l->name);
	}
	lua_pushcfunction(L, sandbox_print);
	lua_setfield(L, -2, "print");
	lua_pushcfunction(L, sandbox_fold);
	lua_setfield(L, -2, "fold");
	lua_pushvalue(L, -1);
	lua_setfield(L, -2, "_G");
}

static char *read_file(const char *path, size_t *len, char *err, size_t errlen)
{
	FILE *f = fopen(path, "rb");
	char *buf;

	if (!f) {
		snprintf(err, errlen, "%s: cannot open", path);
		return NULL;
	}
	buf = malloc(SCRIPT_FILE_MAX + 1);
	if (!buf)
		abort();
	*len = fread(buf, 1, SCRIPT_FILE_MAX + 1, f);
	fclose(f);
	if (*len > SCRIPT_FILE_MAX) {
		snprintf(err, errlen, "%s: larger than %d bytes", path, SCRIPT_FILE_MAX);
		free(buf);
		return NULL;
	}
	return buf;
}

script *script_open(const char *path, const struct script_limits *lim, const logger *lg,
		    char *err, size_t errlen)
{
	script *sc = calloc(1, sizeof(*sc));
	char chunkname[300];
	size_t len = 0;
	char *src = NULL;

	if (!sc)
		abort();
	sc->lg = lg;
	sc->lim = *lim;
	sc->env_ref = sc->fn_ref = LUA_NOREF;
	snprintf(sc->path, sizeof(sc->path), "%s", path);
	sc->L = lua_newstate(cap_alloc, sc);
	if (!sc->L) {
		snprintf(err, errlen, "%s: cannot create a Lua state within the memory limit", path);
		goto err;
	}
	*(script **)lua_getextraspace(sc->L) = sc;
	lua_atpanic(sc->L, on_panic);
	push_sandbox(sc->L);
	sc->env_ref = luaL_ref(sc->L, LUA_REGISTRYINDEX);

	src = read_file(path, &len, err, errlen);
	if (!src)
		goto err;
	snprintf(chunkname, sizeof(chunkname), "@%s", path);
	if (luaL_loadbufferx(sc->L, src, len, chunkname, "t") != LUA_OK) {
		snprintf(err, errlen, "%s", lua_tostring(sc->L, -1));
		goto err;
	}
	free(src);
	src = NULL;
	lua_rawgeti(sc->L, LUA_REGISTRYINDEX, sc->env_ref);
	lua_setupvalue(sc->L, -2, 1); /* the chunk's _ENV */
	if (guarded_call(sc, 0, 0, err, errlen))
		goto err;
	lua_rawgeti(sc->L, LUA_REGISTRYINDEX, sc->env_ref);
	lua_getfield(sc->L, -1, "on_message");
	if (!lua_isfunction(sc->L, -1)) {
		snprintf(err, errlen, "%s: does not define a function on_message(conversation, text)", path);
		goto err;
	}
	{
		lua_Debug ar;
		lua_pushvalue(sc->L, -1);
		lua_getinfo(sc->L, ">u", &ar);
		sc->takes_understanding = ar.isvararg || ar.nparams >= 3;
	}
	sc->fn_ref = luaL_ref(sc->L, LUA_REGISTRYINDEX);
	lua_pop(sc->L, 1);
	return sc;
err:
	free(src);
	script_close(sc);
	return NULL;
}

int script_takes_understanding(const script *sc)
{
	return sc->takes_understanding;
}

void script_close(script *sc)
{
	if (!sc)
		return;
	if (sc->L)
		lua_close(sc->L);
	free(sc);
}

size_t script_memory(const script *sc)
{
	return sc->used;
}

/* ===== results ===== */

static char *dup_checked(lua_State *L, int idx, size_t max, const char *what, char *err,
			 size_t errlen)
{
	size_t len;
	const char *s;
	char *r;

	if (lua_type(L, idx) != LUA_TSTRING) {
		snprintf(err, errlen, "on_message: %s must be a string", what);
		return NULL;
	}
	s = lua_tolstring(L, idx, &len);
	if (len == 0 || len > max || strlen(s) != len || !wire_utf8_valid(s, len)) {
		snprintf(err, errlen, "on_message: %s must be 1 to %zu bytes of UTF-8 text", what, max);
		return NULL;
	}
	r = strdup(s);
	if (!r)
		abort();
	return r;
}

/* Pushes t[key] for the table at absolute index idx, without metamethods:
 * reading what a script returned never runs its code. */
static int raw_field(lua_State *L, int idx, const char *key)
{
	lua_pushstring(L, key);
	return lua_rawget(L, idx);
}

/* Reads the reply table or string at idx into *r. 0 or -1 (err set). */
int script_read_reply(lua_State *L, int idx, struct wire_reply *r, char *err, size_t errlen)
{
	idx = lua_absindex(L, idx);
	if (lua_type(L, idx) == LUA_TSTRING) {
		r->text = dup_checked(L, idx, SCRIPT_MAX_TEXT, "the reply", err, errlen);
		if (!r->text)
			return -1;
		r->source = strdup("pipeline");
		if (!r->source)
			abort();
		return 0;
	}
	if (!lua_istable(L, idx)) {
		snprintf(err, errlen, "on_message: a reply must be a string or a table, not %s",
			 luaL_typename(L, idx));
		return -1;
	}
	raw_field(L, idx, "text");
	r->text = dup_checked(L, -1, SCRIPT_MAX_TEXT, "reply.text", err, errlen);
	lua_pop(L, 1);
	if (!r->text)
		return -1;
	raw_field(L, idx, "source");
	if (lua_isnil(L, -1))
		r->source = strdup("pipeline");
	else
		r->source = dup_checked(L, -1, 64, "reply.source", err, errlen);
	lua_pop(L, 1);
	if (!r->source)
		return -1;
	raw_field(L, idx, "confidence");
	if (!lua_isnil(L, -1)) {
		int isnum;
		double c = lua_tonumberx(L, -1, &isnum);
		if (!isnum || !(c >= 0.0 && c <= 1.0)) {
			lua_pop(L, 1);
			snprintf(err, errlen, "on_message: reply.confidence must be a number from 0 to 1");
			return -1;
		}
		r->has_confidence = 1;
		r->confidence = c;
	}
	lua_pop(L, 1);
	raw_field(L, idx, "choices");
	if (!lua_isnil(L, -1)) {
		size_t n;
		if (!lua_istable(L, -1) || (n = lua_rawlen(L, -1)) > SCRIPT_MAX_CHOICES) {
			lua_pop(L, 1);
			snprintf(err, errlen, "on_message: reply.choices must be a list of at most %d choices",
				 SCRIPT_MAX_CHOICES);
			return -1;
		}
		r->choices = calloc(n ? n : 1, sizeof(*r->choices));
		if (!r->choices)
			abort();
		for (size_t i = 1; i <= n; i++) {
			struct wire_choice *c = &r->choices[r->n_choices++];
			lua_rawgeti(L, -1, (lua_Integer)i);
			if (!lua_istable(L, -1)) {
				lua_pop(L, 2);
				snprintf(err, errlen, "on_message: choice %zu must be a table {id=, label=}", i);
				return -1;
			}
			raw_field(L, lua_gettop(L), "id");
			c->id = dup_checked(L, -1, 64, "choice.id", err, errlen);
			lua_pop(L, 1);
			raw_field(L, lua_gettop(L), "label");
			c->label = c->id ? dup_checked(L, -1, 200, "choice.label", err, errlen) : NULL;
			lua_pop(L, 2);
			if (!c->id || !c->label) {
				lua_pop(L, 1);
				return -1;
			}
		}
	}
	lua_pop(L, 1);
	return 0;
}

static void set_str(lua_State *L, const char *key, const char *v)
{
	if (!v)
		return;
	lua_pushstring(L, v);
	lua_setfield(L, -2, key);
}

static void set_num(lua_State *L, const char *key, double v)
{
	lua_pushnumber(L, v);
	lua_setfield(L, -2, key);
}

/* Pushes the brain's view of a message as a fresh table (see script.h). */
static void push_understanding(lua_State *L, const struct brain_result *u)
{
	lua_createtable(L, 0, 8);
	set_str(L, "lang", u->lang);
	lua_pushinteger(L, (lua_Integer)u->n_words);
	lua_setfield(L, -2, "words");
	lua_pushinteger(L, (lua_Integer)u->n_content_words);
	lua_setfield(L, -2, "content_words");
	set_num(L, "margin", u->margin);
	lua_pushboolean(L, u->limited);
	lua_setfield(L, -2, "limited");
	lua_createtable(L, 0, 3);
	set_num(L, "answer", u->thresholds.answer);
	set_num(L, "clarify", u->thresholds.clarify);
	set_num(L, "clarify_margin", u->thresholds.clarify_margin);
	lua_setfield(L, -2, "thresholds");
	lua_createtable(L, (int)u->n, 0);
	for (size_t i = 0; i < u->n; i++) {
		const struct brain_candidate *c = &u->top[i];
		lua_createtable(L, 0, 16);
		set_str(L, "source", c->source);
		set_str(L, "kind", c->kind == BRAIN_INTENT ? "intent" : "faq");
		set_str(L, "name", c->name);
		set_str(L, "label", c->label);
		set_str(L, "answer", c->answer);
		set_str(L, "flow", c->flow);
		set_str(L, "team", c->team);
		set_str(L, "faq", c->faq);
		set_str(L, "pattern", c->pattern);
		lua_pushinteger(L, c->priority);
		lua_setfield(L, -2, "priority");
		set_num(L, "confidence", c->confidence);
		set_num(L, "model", c->model);
		set_num(L, "retriever", c->retriever);
		lua_pushinteger(L, c->fuzzy);
		lua_setfield(L, -2, "fuzzy");
		lua_createtable(L, (int)c->n_terms, 0);
		for (size_t j = 0; j < c->n_terms; j++) {
			lua_pushstring(L, c->terms[j]);
			lua_rawseti(L, -2, (lua_Integer)(j + 1));
		}
		lua_setfield(L, -2, "terms");
		lua_rawseti(L, -2, (lua_Integer)(i + 1));
	}
	lua_setfield(L, -2, "candidates");
}

struct call_args {
	const struct script_conversation *conv;
	const char *text;
	size_t text_len;
	const struct brain_result *understanding;
	const struct script_mood *mood;
	int fn_ref;
};

/* Adds understanding.mood (the table on top). */
static void push_mood(lua_State *L, const struct script_mood *m)
{
	const struct mood_score *s = m->score;
	lua_createtable(L, 0, 8);
	set_num(L, "score", s->score);
	lua_pushboolean(L, s->upset);
	lua_setfield(L, -2, "upset");
	lua_pushboolean(L, s->threat);
	lua_setfield(L, -2, "threat");
	lua_createtable(L, 4, 0);
	for (int bit = 1, i = 1; bit <= MOOD_THREAT_REVIEW; bit <<= 1)
		if (s->threat_kinds & bit) {
			lua_pushstring(L, mood_threat_name(bit));
			lua_rawseti(L, -2, i++);
		}
	lua_setfield(L, -2, "threats");
	lua_pushboolean(L, s->profanity);
	lua_setfield(L, -2, "profanity");
	lua_pushboolean(L, s->shouting);
	lua_setfield(L, -2, "shouting");
	set_str(L, "why", s->why);
	if (m->trend) {
		lua_createtable(L, 0, 6);
		set_num(L, "level", m->trend->level);
		lua_pushinteger(L, m->trend->messages);
		lua_setfield(L, -2, "messages");
		lua_pushinteger(L, m->trend->upset_messages);
		lua_setfield(L, -2, "upset_messages");
		lua_pushinteger(L, m->trend->streak);
		lua_setfield(L, -2, "streak");
		lua_pushboolean(L, m->trend->rising);
		lua_setfield(L, -2, "rising");
		lua_pushboolean(L, m->trend->upset);
		lua_setfield(L, -2, "upset");
		lua_setfield(L, -2, "trend");
	}
	lua_setfield(L, -2, "mood");
}

/* Builds on_message's arguments and calls it. Runs inside guarded_call, so
 * running out of VM memory while building the tables is an ordinary error
 * rather than a panic. */
static int call_on_message(lua_State *L)
{
	const struct call_args *a = lua_touserdata(L, 1);
	const struct script_conversation *conv = a->conv;

	lua_settop(L, 0);
	luaL_checkstack(L, 12, "on_message arguments");
	lua_rawgeti(L, LUA_REGISTRYINDEX, a->fn_ref);
	lua_createtable(L, 0, 4);
	lua_pushstring(L, conv->id);
	lua_setfield(L, -2, "id");
	set_str(L, "lang", conv->lang);
	set_str(L, "name", conv->name);
	lua_pushinteger(L, (lua_Integer)conv->turn);
	lua_setfield(L, -2, "turn");
	set_str(L, "flow", conv->flow);
	set_str(L, "choice", conv->choice);
	lua_pushinteger(L, conv->unsure);
	lua_setfield(L, -2, "unsure");
	set_str(L, "topic_team", conv->topic_team);
	lua_pushlstring(L, a->text, a->text_len);
	if (a->understanding) {
		push_understanding(L, a->understanding);
		if (a->mood && a->mood->score)
			push_mood(L, a->mood);
	} else {
		lua_pushnil(L);
	}
	lua_call(L, 3, 2);
	return 2;
}

void script_action_clear(struct script_action *a)
{
	free(a->start_flow);
	free(a->lang);
	free(a->team);
	free(a->handoff_team);
	free(a->handoff_reason);
	free(a->handoff_text);
	memset(a, 0, sizeof(*a));
}

/* An optional string field of the table at idx into *out. 0 or -1. */
static int opt_field(lua_State *L, int idx, const char *key, size_t max, char **out, char *err,
		     size_t errlen)
{
	char what[64];
	int rc = 0;

	raw_field(L, idx, key);
	if (!lua_isnil(L, -1)) {
		snprintf(what, sizeof(what), "action.%s", key);
		*out = dup_checked(L, -1, max, what, err, errlen);
		rc = *out ? 0 : -1;
	}
	lua_pop(L, 1);
	return rc;
}

static int flag_field(lua_State *L, int idx, const char *key)
{
	int v;
	raw_field(L, idx, key);
	v = lua_toboolean(L, -1);
	lua_pop(L, 1);
	return v;
}

/* Reads on_message's second result (nil or an action table). */
static int read_action(lua_State *L, int idx, struct script_action *a, char *err, size_t errlen)
{
	static const char *const known[] = {"start_flow", "lang", "team", "to_flow", "cancel_flow",
					    "handoff", NULL};
	idx = lua_absindex(L, idx);
	if (lua_isnil(L, idx))
		return 0;
	if (!lua_istable(L, idx)) {
		snprintf(err, errlen, "on_message: the second result must be an action table, not %s",
			 luaL_typename(L, idx));
		return -1;
	}
	lua_pushnil(L);
	while (lua_next(L, idx)) {
		int ok = 0;
		lua_pop(L, 1);
		for (const char *const *k = known; *k && lua_type(L, -1) == LUA_TSTRING; k++)
			ok |= !strcmp(*k, lua_tostring(L, -1));
		if (!ok) {
			snprintf(err, errlen, "on_message: unknown action field %s",
				 lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : "(not a string)");
			lua_pop(L, 1);
			return -1;
		}
	}
	if (opt_field(L, idx, "start_flow", 64, &a->start_flow, err, errlen) ||
	    opt_field(L, idx, "lang", 16, &a->lang, err, errlen) ||
	    opt_field(L, idx, "team", 64, &a->team, err, errlen))
		return -1;
	a->to_flow = flag_field(L, idx, "to_flow");
	a->cancel_flow = flag_field(L, idx, "cancel_flow");
	raw_field(L, idx, "handoff");
	if (lua_istable(L, -1)) {
		int h = lua_gettop(L);
		a->handoff = 1;
		a->upset = flag_field(L, h, "upset");
		if (opt_field(L, h, "team", 64, &a->handoff_team, err, errlen) ||
		    opt_field(L, h, "reason", 200, &a->handoff_reason, err, errlen) ||
		    opt_field(L, h, "text", SCRIPT_MAX_TEXT, &a->handoff_text, err, errlen)) {
			lua_pop(L, 1);
			return -1;
		}
	} else if (!lua_isnil(L, -1)) {
		lua_pop(L, 1);
		snprintf(err, errlen, "on_message: action.handoff must be a table {team=, reason=, text=}");
		return -1;
	}
	lua_pop(L, 1);
	if ((a->start_flow != NULL) + a->to_flow + a->cancel_flow > 1) {
		snprintf(err, errlen, "on_message: an action may do one of start_flow, to_flow, cancel_flow");
		return -1;
	}
	return 0;
}

/* on_message's results as C data; owned by script_on_message, which
 * frees them if reading stops half way. */
struct results {
	struct script_action *action;
	struct wire_reply *out;
	size_t count;
	int bad;              /* a malformed result: the reason is in err */
	char *err;
	size_t errlen;
};

/* Reads on_message's results: arguments (results, replies, action). */
static int read_results(lua_State *L)
{
	struct results *r = lua_touserdata(L, 1);

	if (read_action(L, 3, r->action, r->err, r->errlen)) {
		r->bad = 1;
		return 0;
	}
	/* nil, a reply, or a list of replies */
	if (lua_isnil(L, 2))
		return 0;
	int list = lua_istable(L, 2) && lua_rawlen(L, 2) > 0;
	size_t want = list ? lua_rawlen(L, 2) : 1;
	if (want > SCRIPT_MAX_REPLIES) {
		snprintf(r->err, r->errlen, "on_message: at most %d replies", SCRIPT_MAX_REPLIES);
		r->bad = 1;
		return 0;
	}
	r->out = calloc(want, sizeof(*r->out));
	if (!r->out)
		abort();
	for (size_t i = 0; i < want; i++) {
		if (list)
			lua_rawgeti(L, 2, (lua_Integer)(i + 1));
		else
			lua_pushvalue(L, 2);
		int rc = script_read_reply(L, lua_gettop(L), &r->out[r->count++], r->err, r->errlen);
		lua_pop(L, 1);
		if (rc) {
			r->bad = 1;
			return 0;
		}
	}
	return 0;
}

int script_on_message(script *sc, const struct script_conversation *conv, const char *text,
		      size_t text_len, const struct brain_result *understanding,
		      const struct script_mood *mood, struct wire_reply **replies, size_t *n,
		      struct script_action *action, char *err, size_t errlen)
{
	lua_State *L = sc->L;
	int top = lua_gettop(L);

	*replies = NULL;
	*n = 0;
	memset(action, 0, sizeof(*action));
	if (!lua_checkstack(L, 8)) {
		snprintf(err, errlen, "Lua stack exhausted");
		return -1;
	}
	struct call_args args = {conv, text, text_len, understanding, mood, sc->fn_ref};
	struct results res = {action, NULL, 0, 0, err, errlen};
	lua_pushcfunction(L, call_on_message);
	lua_pushlightuserdata(L, &args);
	if (guarded_call(sc, 1, 2, err, errlen)) {
		lua_settop(L, top);
		return -1;
	}
	/* read what it returned inside a protected call too: reading can run
	 * out of VM memory */
	lua_pushcfunction(L, read_results);
	lua_insert(L, -3);
	lua_pushlightuserdata(L, &res);
	lua_insert(L, -3);
	if (guarded_call(sc, 3, 0, err, errlen) || res.bad) {
		for (size_t i = 0; i < res.count; i++)
			wire_reply_clear(&res.out[i]);
		free(res.out);
		script_action_clear(action);
		lua_settop(L, top);
		return -1;
	}
	lua_settop(L, top);
	*replies = res.out;
	*n = res.count;
	return 0;
}
