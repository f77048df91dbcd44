/* luajson.c: Lua values to JSON and back. See luajson.h. */
#include "luajson.h"

#include <lauxlib.h>
#include <math.h>
#include <stdio.h>

static json_t *convert(lua_State *L, int idx, int depth, char *err, size_t errlen);

/* 1 if the table at idx has exactly the keys 1..n, n > 0. */
static int is_array(lua_State *L, int idx, size_t *n)
{
	size_t count = 0;
	*n = (size_t)lua_rawlen(L, idx);
	if (*n == 0)
		return 0;
	lua_pushnil(L);
	while (lua_next(L, idx)) {
		lua_pop(L, 1);
		if (!lua_isinteger(L, -1)) {
			lua_pop(L, 1);
			return 0;
		}
		count++;
	}
	return count == *n;
}

static json_t *convert_table(lua_State *L, int idx, int depth, char *err, size_t errlen)
{
	size_t n;
	json_t *out;

	if (is_array(L, idx, &n)) {
		out = json_array();
		for (size_t i = 1; i <= n; i++) {
			lua_rawgeti(L, idx, (lua_Integer)i);
			json_t *v = convert(L, lua_gettop(L), depth + 1, err, errlen);
			lua_pop(L, 1);
			if (!v) {
				json_decref(out);
				return NULL;
			}
			json_array_append_new(out, v);
		}
		return out;
	}
	out = json_object();
	lua_pushnil(L);
	while (lua_next(L, idx)) {
		if (lua_type(L, -2) != LUA_TSTRING) {
			snprintf(err, errlen, "a table with %s keys cannot become JSON",
				 luaL_typename(L, -2));
			lua_pop(L, 2);
			json_decref(out);
			return NULL;
		}
		size_t klen;
		const char *k = lua_tolstring(L, -2, &klen);
		json_t *v = convert(L, lua_gettop(L), depth + 1, err, errlen);
		if (!v || json_object_setn_new(out, k, klen, v)) {
			lua_pop(L, 2);
			if (v)
				snprintf(err, errlen, "a key is not UTF-8 text");
			json_decref(out);
			return NULL;
		}
		lua_pop(L, 1);
	}
	return out;
}

static json_t *convert(lua_State *L, int idx, int depth, char *err, size_t errlen)
{
	if (depth > LUAJSON_MAX_DEPTH) {
		snprintf(err, errlen, "nested deeper than %d", LUAJSON_MAX_DEPTH);
		return NULL;
	}
	luaL_checkstack(L, 4, "JSON conversion");
	switch (lua_type(L, idx)) {
	case LUA_TNIL:
		return json_null();
	case LUA_TBOOLEAN:
		return json_boolean(lua_toboolean(L, idx));
	case LUA_TNUMBER:
		if (lua_isinteger(L, idx))
			return json_integer((json_int_t)lua_tointeger(L, idx));
		if (!isfinite(lua_tonumber(L, idx))) {
			snprintf(err, errlen, "a number that is not finite cannot become JSON");
			return NULL;
		}
		return json_real(lua_tonumber(L, idx));
	case LUA_TSTRING: {
		size_t len;
		const char *s = lua_tolstring(L, idx, &len);
		json_t *v = json_stringn(s, len);
		if (!v)
			snprintf(err, errlen, "a string is not UTF-8 text");
		return v;
	}
	case LUA_TTABLE:
		return convert_table(L, idx, depth, err, errlen);
	default:
		snprintf(err, errlen, "a %s cannot become JSON", luaL_typename(L, idx));
		return NULL;
	}
}

json_t *luajson_to_json(lua_State *L, int idx, char *err, size_t errlen)
{
	return convert(L, lua_absindex(L, idx), 0, err, errlen);
}

static void push(lua_State *L, const json_t *v, int depth)
{
	luaL_checkstack(L, 4, "JSON conversion");
	if (depth > LUAJSON_MAX_DEPTH) {
		lua_pushnil(L);
		return;
	}
	switch (json_typeof(v)) {
	case JSON_OBJECT: {
		const char *k;
		json_t *sv;
		lua_createtable(L, 0, (int)json_object_size(v));
		json_object_foreach((json_t *)v, k, sv) {
			push(L, sv, depth + 1);
			lua_setfield(L, -2, k);
		}
		return;
	}
	case JSON_ARRAY: {
		size_t i;
		json_t *sv;
		lua_createtable(L, (int)json_array_size(v), 0);
		json_array_foreach((json_t *)v, i, sv) {
			push(L, sv, depth + 1);
			lua_rawseti(L, -2, (lua_Integer)(i + 1));
		}
		return;
	}
	case JSON_STRING:
		lua_pushlstring(L, json_string_value(v), json_string_length(v));
		return;
	case JSON_INTEGER:
		lua_pushinteger(L, (lua_Integer)json_integer_value(v));
		return;
	case JSON_REAL:
		lua_pushnumber(L, json_real_value(v));
		return;
	case JSON_TRUE:
	case JSON_FALSE:
		lua_pushboolean(L, json_is_true(v));
		return;
	default:
		lua_pushnil(L);
		return;
	}
}

void luajson_push(lua_State *L, const json_t *v)
{
	push(L, v, 0);
}
