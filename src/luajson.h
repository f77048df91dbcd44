/* luajson.h: Lua values to JSON and back (jansson), for flows.
 *
 * Used by the flow host for request bodies, backend replies and slots.
 * Both directions are bounded in depth, and both may raise Lua errors
 * (memory), so call them only inside a protected call or a coroutine. */
#ifndef SUPPORTD_LUAJSON_H
#define SUPPORTD_LUAJSON_H

#include <jansson.h>
#include <lua.h>
#include <stddef.h>

#define LUAJSON_MAX_DEPTH 16

/* Converts the value at idx: nil to null, booleans, integers, finite
 * numbers, UTF-8 strings, and tables: a table whose keys are exactly 1..n
 * becomes an array, one with only string keys an object ({} for empty).
 * Returns a new reference, or NULL with the reason in err (functions,
 * mixed keys, invalid UTF-8, NaN, deeper than LUAJSON_MAX_DEPTH). */
json_t *luajson_to_json(lua_State *L, int idx, char *err, size_t errlen);

/* Pushes v as a Lua value: null becomes nil, arrays and objects tables. */
void luajson_push(lua_State *L, const json_t *v);

#endif
