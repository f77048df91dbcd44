/* test_script.c: unit tests for src/script.c, the sandboxed Lua host.
 *
 * Each test writes small Lua files into its own temporary directory. The
 * limits are those of the brief: a million instructions and 16 MiB, small
 * enough that the budget and memory tests fail fast. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <lauxlib.h>
#include <lua.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "script.h"
#include "wire.h"

static const struct script_limits LIMITS = {.instructions = 1000000,
					    .memory_bytes = 16u << 20};

struct harness {
	char dir[64];
	char path[256];   /* the last file written */
	logger lg;
	char err[1024];
	struct wire_reply *replies;
	size_t n;
	struct script_action action;
};

static int setup(void **state)
{
	struct harness *h = calloc(1, sizeof(*h));
	if (!h)
		return -1;
	snprintf(h->dir, sizeof(h->dir), "/tmp/supportd-test-script-XXXXXX");
	if (!mkdtemp(h->dir)) {
		free(h);
		return -1;
	}
	h->lg.level = LOG_WARN;
	*state = h;
	return 0;
}

static void free_replies(struct harness *h)
{
	for (size_t i = 0; i < h->n; i++)
		wire_reply_clear(&h->replies[i]);
	free(h->replies);
	h->replies = NULL;
	h->n = 0;
	script_action_clear(&h->action);
}

static int teardown(void **state)
{
	struct harness *h = *state;
	DIR *d = opendir(h->dir);
	struct dirent *e;
	char p[512];

	free_replies(h);
	if (d) {
		while ((e = readdir(d))) {
			if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
				continue;
			snprintf(p, sizeof(p), "%s/%s", h->dir, e->d_name);
			unlink(p);
		}
		closedir(d);
	}
	rmdir(h->dir);
	free(h);
	return 0;
}

/* Writes `len` bytes to dir/name; h->path names it. */
static const char *write_bytes(struct harness *h, const char *name, const char *src, size_t len)
{
	FILE *f;

	snprintf(h->path, sizeof(h->path), "%s/%s", h->dir, name);
	f = fopen(h->path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(src, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
	return h->path;
}

static const char *write_script(struct harness *h, const char *name, const char *src)
{
	return write_bytes(h, name, src, strlen(src));
}

static script *open_ok(struct harness *h, const char *name, const char *src)
{
	script *sc;

	write_script(h, name, src);
	h->err[0] = '\0';
	sc = script_open(h->path, &LIMITS, &h->lg, h->err, sizeof(h->err));
	if (!sc)
		fail_msg("script_open(%s): %s", name, h->err);
	return sc;
}

/* Expects script_open to fail; the reason is left in h->err. */
static void open_fails(struct harness *h, const char *name, const char *src)
{
	script *sc;

	write_script(h, name, src);
	strcpy(h->err, "(unset)");
	sc = script_open(h->path, &LIMITS, &h->lg, h->err, sizeof(h->err));
	if (sc) {
		script_close(sc);
		fail_msg("script_open(%s) succeeded", name);
	}
	assert_string_not_equal(h->err, "(unset)");
	assert_true(strlen(h->err) > 0);
}

static int call(struct harness *h, script *sc, const char *text)
{
	const struct script_conversation conv = {
		.id = "c_0123456789abcdef01234567", .lang = "en", .name = "Ana", .turn = 3};

	free_replies(h);
	strcpy(h->err, "(unset)");
	return script_on_message(sc, &conv, text, strlen(text), NULL, NULL, &h->replies, &h->n,
				 &h->action, h->err, sizeof(h->err));
}

/* Calls and expects one plain reply with this text. */
static void expect_text(struct harness *h, script *sc, const char *in, const char *out)
{
	if (call(h, sc, in) != 0)
		fail_msg("on_message(%s) failed: %s", in, h->err);
	assert_int_equal(h->n, 1);
	assert_string_equal(h->replies[0].text, out);
}

/* Calls and expects failure with `needle` in the reason. */
static void expect_error(struct harness *h, script *sc, const char *in, const char *needle)
{
	if (call(h, sc, in) != -1)
		fail_msg("on_message(%s) succeeded with %zu replies, first: %s", in, h->n,
			 h->n ? h->replies[0].text : "(none)");
	assert_null(h->replies);
	assert_int_equal(h->n, 0);
	if (!strstr(h->err, needle))
		fail_msg("error \"%s\" does not contain \"%s\"", h->err, needle);
}

/* ===== return values ===== */

static void test_string_reply(void **state)
{
	struct harness *h = *state;
	script *sc = open_ok(h, "echo.lua",
			     "function on_message(conversation, text)\n"
			     "  return 'you said: ' .. text\n"
			     "end\n");

	assert_int_equal(call(h, sc, "hello \xc3\xa9"), 0);
	assert_int_equal(h->n, 1);
	assert_string_equal(h->replies[0].text, "you said: hello \xc3\xa9");
	assert_string_equal(h->replies[0].source, "pipeline");
	assert_int_equal(h->replies[0].has_confidence, 0);
	assert_int_equal(h->replies[0].n_choices, 0);
	assert_null(h->replies[0].choices);
	/* and again: the VM is reusable */
	expect_text(h, sc, "again", "you said: again");
	assert_true(script_memory(sc) > 0);
	assert_true(script_memory(sc) < LIMITS.memory_bytes);
	script_close(sc);
}

/* Whether on_message can see a third argument: only then does the
 * pipeline ask the brain for it. */
static void test_takes_understanding(void **state)
{
	struct harness *h = *state;
	static const struct {
		const char *src;
		int takes;
	} cases[] = {
		{"function on_message(conversation, text) return 'x' end\n", 0},
		{"on_message = function(c) return 'x' end\n", 0},
		{"function on_message(c, t, understanding) return 'x' end\n", 1},
		{"function on_message(c, t, u, extra) return 'x' end\n", 1},
		{"function on_message(...) return 'x' end\n", 1},
		{"function on_message(c, t, ...) return 'x' end\n", 1},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		script *sc = open_ok(h, "arity.lua", cases[i].src);
		if (script_takes_understanding(sc) != cases[i].takes)
			fail_msg("%s: takes_understanding %d", cases[i].src, script_takes_understanding(sc));
		expect_text(h, sc, "hi", "x");
		script_close(sc);
	}
}

static void test_conversation_snapshot(void **state)
{
	struct harness *h = *state;
	script *sc = open_ok(h, "conv.lua",
			     "function on_message(c, text)\n"
			     "  return c.id .. '|' .. tostring(c.lang) .. '|' .. tostring(c.name)\n"
			     "    .. '|' .. math.type(c.turn) .. ':' .. c.turn .. '|' .. #text\n"
			     "end\n");
	const struct script_conversation bare = {.id = "c_x", .turn = 1};

	expect_text(h, sc, "abc", "c_0123456789abcdef01234567|en|Ana|integer:3|3");
	/* absent lang and name are nil; text with a NUL keeps its length */
	free_replies(h);
	assert_int_equal(script_on_message(sc, &bare, "a\0b", 3, NULL, NULL, &h->replies, &h->n,
					   &h->action, h->err, sizeof(h->err)),
			 0);
	assert_int_equal(h->n, 1);
	assert_string_equal(h->replies[0].text, "c_x|nil|nil|integer:1|3");
	script_close(sc);
}

static void test_table_reply(void **state)
{
	struct harness *h = *state;
	script *sc = open_ok(h, "table.lua",
			     "function on_message(c, text)\n"
			     "  return { text = 'Did you mean one of these?', source = 'clarify',\n"
			     "           confidence = 0.41,\n"
			     "           choices = { { id = 'faq:returns', label = 'Returning an item' },\n"
			     "                       { id = 'faq:refunds', label = 'Refunds' } } }\n"
			     "end\n");
	struct wire_reply *r;

	assert_int_equal(call(h, sc, "hi"), 0);
	assert_int_equal(h->n, 1);
	r = &h->replies[0];
	assert_string_equal(r->text, "Did you mean one of these?");
	assert_string_equal(r->source, "clarify");
	assert_int_equal(r->has_confidence, 1);
	assert_true(r->confidence == 0.41);
	assert_int_equal(r->n_choices, 2);
	assert_string_equal(r->choices[0].id, "faq:returns");
	assert_string_equal(r->choices[0].label, "Returning an item");
	assert_string_equal(r->choices[1].id, "faq:refunds");
	assert_string_equal(r->choices[1].label, "Refunds");
	script_close(sc);
}

static void test_table_defaults_and_bounds(void **state)
{
	struct harness *h = *state;
	script *sc = open_ok(h, "bounds.lua",
			     "function on_message(c, text)\n"
			     "  if text == 'plain' then return { text = 'x' } end\n"
			     "  if text == 'zero' then return { text = 'x', confidence = 0 } end\n"
			     "  if text == 'one' then return { text = 'x', confidence = 1 } end\n"
			     "  if text == 'nochoices' then return { text = 'x', choices = {} } end\n"
			     "end\n");

	assert_int_equal(call(h, sc, "plain"), 0);
	assert_string_equal(h->replies[0].source, "pipeline");
	assert_int_equal(h->replies[0].has_confidence, 0);
	assert_int_equal(h->replies[0].n_choices, 0);
	assert_int_equal(call(h, sc, "zero"), 0);
	assert_int_equal(h->replies[0].has_confidence, 1);
	assert_true(h->replies[0].confidence == 0.0);
	assert_int_equal(call(h, sc, "one"), 0);
	assert_true(h->replies[0].confidence == 1.0);
	assert_int_equal(call(h, sc, "nochoices"), 0);
	assert_int_equal(h->replies[0].n_choices, 0);
	script_close(sc);
}

static void test_list_of_replies(void **state)
{
	struct harness *h = *state;
	script *sc = open_ok(h, "list.lua",
			     "function on_message(c, text)\n"
			     "  return { 'first', { text = 'second', source = 'faq:hours', confidence = 0.9 } }\n"
			     "end\n");

	assert_int_equal(call(h, sc, "hi"), 0);
	assert_int_equal(h->n, 2);
	assert_string_equal(h->replies[0].text, "first");
	assert_string_equal(h->replies[0].source, "pipeline");
	assert_string_equal(h->replies[1].text, "second");
	assert_string_equal(h->replies[1].source, "faq:hours");
	assert_true(h->replies[1].confidence == 0.9);
	script_close(sc);
}

static void test_nil_reply(void **state)
{
	struct harness *h = *state;
	script *sc = open_ok(h, "nil.lua",
			     "function on_message(c, text) return nil end\n");

	{
		/* the outputs are overwritten, not left as they were */
		const struct script_conversation conv = {.id = "c_x", .turn = 1};
		struct wire_reply *r = (struct wire_reply *)h;
		size_t n = 99;
		assert_int_equal(script_on_message(sc, &conv, "hi", 2, NULL, NULL, &r, &n, &h->action, h->err,
						   sizeof(h->err)), 0);
		assert_null(r);
		assert_int_equal(n, 0);
	}
	script_close(sc);

	/* no return statement at all is the same */
	sc = open_ok(h, "noreturn.lua", "function on_message(c, text) local x = 1 end\n");
	assert_int_equal(call(h, sc, "hi"), 0);
	assert_int_equal(h->n, 0);
	script_close(sc);
}

static void test_state_between_calls(void **state)
{
	struct harness *h = *state;
	script *sc = open_ok(h, "state.lua",
			     "local count = 0\n"
			     "function on_message(c, text)\n"
			     "  count = count + 1\n"
			     "  return tostring(count)\n"
			     "end\n");

	expect_text(h, sc, "a", "1");
	expect_text(h, sc, "b", "2");
	expect_text(h, sc, "c", "3");
	script_close(sc);
}

/* ===== malformed return values ===== */

static void test_bad_returns(void **state)
{
	struct harness *h = *state;
	script *sc = open_ok(
		h, "bad.lua",
		"function on_message(c, text)\n"
		"  if text == 'conf15' then return { text = 'x', confidence = 1.5 } end\n"
		"  if text == 'confneg' then return { text = 'x', confidence = -0.1 } end\n"
		"  if text == 'confnan' then return { text = 'x', confidence = 0/0 } end\n"
		"  if text == 'confstr' then return { text = 'x', confidence = 'high' } end\n"
		"  if text == 'utf8' then return 'caf\\xe9' end\n"
		"  if text == 'utf8tbl' then return { text = '\\xc0\\xaf' } end\n"
		"  if text == 'nul' then return 'a\\0b' end\n"
		"  if text == 'empty' then return '' end\n"
		"  if text == 'long' then return string.rep('x', 16385) end\n"
		"  if text == 'number' then return 42 end\n"
		"  if text == 'bool' then return true end\n"
		"  if text == 'notext' then return { source = 'x' } end\n"
		"  if text == 'emptytbl' then return {} end\n"
		"  if text == 'badsource' then return { text = 'x', source = 7 } end\n"
		"  if text == 'badchoices' then return { text = 'x', choices = 'a,b' } end\n"
		"  if text == 'badchoice' then return { text = 'x', choices = { 'a' } } end\n"
		"  if text == 'nolabel' then return { text = 'x', choices = { { id = 'a', label = 'A' }, { id = 'b' } } } end\n"
		"  if text == 'manychoices' then\n"
		"    local t = {}\n"
		"    for i = 1, 11 do t[i] = { id = 'c' .. i, label = 'C' .. i } end\n"
		"    return { text = 'x', choices = t }\n"
		"  end\n"
		"  if text == 'manyreplies' then\n"
		"    local t = {}\n"
		"    for i = 1, 9 do t[i] = 'r' .. i end\n"
		"    return t\n"
		"  end\n"
		"  if text == 'badsecond' then return { 'fine', 42 } end\n"
		"  return 'ok'\n"
		"end\n");

	expect_error(h, sc, "conf15", "confidence");
	expect_error(h, sc, "confneg", "confidence");
	expect_error(h, sc, "confnan", "confidence");
	expect_error(h, sc, "confstr", "confidence");
	expect_error(h, sc, "utf8", "UTF-8");
	expect_error(h, sc, "utf8tbl", "UTF-8");
	expect_error(h, sc, "nul", "on_message");
	expect_error(h, sc, "empty", "on_message");
	expect_error(h, sc, "long", "16384");
	expect_error(h, sc, "number", "on_message");
	expect_error(h, sc, "bool", "on_message");
	expect_error(h, sc, "notext", "text");
	expect_error(h, sc, "emptytbl", "text");
	expect_error(h, sc, "badsource", "source");
	expect_error(h, sc, "badchoices", "choices");
	expect_error(h, sc, "badchoice", "choice");
	expect_error(h, sc, "nolabel", "label");
	expect_error(h, sc, "manychoices", "choices");
	expect_error(h, sc, "manyreplies", "replies");
	expect_error(h, sc, "badsecond", "on_message");
	/* none of that broke the VM */
	expect_text(h, sc, "anything", "ok");
	script_close(sc);
}

static void test_limits_exactly(void **state)
{
	struct harness *h = *state;
	script *sc = open_ok(h, "exact.lua",
			     "function on_message(c, text)\n"
			     "  if text == 'long' then return string.rep('x', 16384) end\n"
			     "  if text == 'choices' then\n"
			     "    local t = {}\n"
			     "    for i = 1, 10 do t[i] = { id = 'c' .. i, label = 'C' .. i } end\n"
			     "    return { text = 'x', choices = t }\n"
			     "  end\n"
			     "  local t = {}\n"
			     "  for i = 1, 8 do t[i] = 'r' .. i end\n"
			     "  return t\n"
			     "end\n");

	assert_int_equal(call(h, sc, "long"), 0);
	assert_int_equal(strlen(h->replies[0].text), SCRIPT_MAX_TEXT);
	assert_int_equal(call(h, sc, "choices"), 0);
	assert_int_equal(h->replies[0].n_choices, SCRIPT_MAX_CHOICES);
	assert_string_equal(h->replies[0].choices[9].label, "C10");
	assert_int_equal(call(h, sc, "replies"), 0);
	assert_int_equal(h->n, SCRIPT_MAX_REPLIES);
	assert_string_equal(h->replies[7].text, "r8");
	script_close(sc);
}

/* ===== errors ===== */

static void test_runtime_error(void **state)
{
	struct harness *h = *state;
	script *sc = open_ok(h, "boom.lua",
			     "function on_message(c, text)\n"
			     "  if text == 'index' then\n"
			     "    local t = nil\n"
			     "    return t.field\n"
			     "  end\n"
			     "  if text == 'table' then error({}) end\n"
			     "  error('boom')\n"
			     "end\n");

	expect_error(h, sc, "x", "boom.lua:7:");
	assert_non_null(strstr(h->err, "boom"));
	assert_non_null(strstr(h->err, "traceback"));
	expect_error(h, sc, "index", "boom.lua:4:");
	/* a non-string error object still gives a reason */
	assert_int_equal(call(h, sc, "table"), -1);
	assert_true(strlen(h->err) > 0);
	assert_string_not_equal(h->err, "(unset)");
	script_close(sc);
}

static void test_instruction_budget(void **state)
{
	struct harness *h = *state;
	script *sc = open_ok(h, "loop.lua",
			     "function on_message(c, text)\n"
			     "  if text == 'loop' then while true do end end\n"
			     "  if text == 'pcall' then\n"
			     "    pcall(function() while true do end end)\n"
			     "    return 'x'\n"
			     "  end\n"
			     "  if text == 'pcall2' then\n"
			     "    for i = 1, 100 do pcall(function() while true do end end) end\n"
			     "    return 'x'\n"
			     "  end\n"
			     "  if text == 'xpcall' then\n"
			     "    xpcall(function() while true do end end, function(e) return e end)\n"
			     "    return 'x'\n"
			     "  end\n"
			     "  if text == 'co' then\n"
			     "    local co = coroutine.wrap(function() while true do end end)\n"
			     "    pcall(co)\n"
			     "    return 'x'\n"
			     "  end\n"
			     "  if text == 'co2' then\n"
			     "    for i = 1, 100 do\n"
			     "      coroutine.resume(coroutine.create(function() while true do end end))\n"
			     "    end\n"
			     "    return 'x'\n"
			     "  end\n"
			     "  if text == 'work' then\n"
			     "    local s = 0\n"
			     "    for i = 1, 10000 do s = s + i end\n"
			     "    return tostring(s)\n"
			     "  end\n"
			     "  return 'ok'\n"
			     "end\n");

	expect_error(h, sc, "loop", "instruction budget");
	/* the budget is per call: the next one runs */
	expect_text(h, sc, "hi", "ok");
	/* a pcall in the script cannot swallow it */
	expect_error(h, sc, "pcall", "instruction budget");
	expect_text(h, sc, "hi", "ok");
	expect_error(h, sc, "pcall2", "instruction budget");
	expect_error(h, sc, "xpcall", "instruction budget");
	/* nor can a coroutine */
	expect_error(h, sc, "co", "instruction budget");
	expect_error(h, sc, "co2", "instruction budget");
	/* modest work fits well within the budget, every time */
	for (int i = 0; i < 5; i++)
		expect_text(h, sc, "work", "50005000");
	script_close(sc);
}

static void test_memory_limit(void **state)
{
	struct harness *h = *state;
	script *sc = open_ok(h, "bomb.lua",
			     "function on_message(c, text)\n"
			     "  if text == 'bomb' then\n"
			     "    local t = {}\n"
			     "    for i = 1, 1e8 do t[i] = string.rep('x', 1000) .. i end\n"
			     "  end\n"
			     "  if text == 'big' then return string.rep('x', 64 * 1024 * 1024) end\n"
			     "  if text == 'pcall' then\n"
			     "    local ok = pcall(function()\n"
			     "      local t = {}\n"
			     "      for i = 1, 1e8 do t[i] = string.rep('x', 1000) .. i end\n"
			     "    end)\n"
			     "    return 'caught: ' .. tostring(ok)\n"
			     "  end\n"
			     "  return 'alive'\n"
			     "end\n");
	size_t before = script_memory(sc);

	expect_error(h, sc, "bomb", "memory");
	assert_true(script_memory(sc) <= LIMITS.memory_bytes);
	/* the VM stays usable, and the garbage was collected */
	expect_text(h, sc, "hi", "alive");
	assert_true(script_memory(sc) < before + (1u << 20));
	/* one huge allocation is refused too */
	expect_error(h, sc, "big", "memory");
	expect_text(h, sc, "hi", "alive");
	/* a script that catches the memory error itself may carry on: the
	 * heap is still capped and the VM still works afterwards */
	if (call(h, sc, "pcall") == 0) {
		assert_int_equal(h->n, 1);
		assert_string_equal(h->replies[0].text, "caught: false");
	} else {
		assert_non_null(strstr(h->err, "memory"));
	}
	assert_true(script_memory(sc) <= LIMITS.memory_bytes);
	expect_text(h, sc, "hi", "alive");
	script_close(sc);
}

/* ===== the sandbox ===== */

static void test_sandbox_globals(void **state)
{
	struct harness *h = *state;
	script *sc = open_ok(
		h, "sandbox.lua",
		"function on_message(c, text)\n"
		"  local names = { 'io', 'os', 'debug', 'package', 'require', 'load', 'loadfile',\n"
		"                  'dofile', 'loadstring', 'collectgarbage', 'module', 'newproxy' }\n"
		"  local present = {}\n"
		"  for _, n in ipairs(names) do\n"
		"    if _ENV[n] ~= nil or _G[n] ~= nil or rawget(_G, n) ~= nil then\n"
		"      present[#present + 1] = n\n"
		"    end\n"
		"  end\n"
		"  if string.dump ~= nil then present[#present + 1] = 'string.dump' end\n"
		"  if ('').dump ~= nil then present[#present + 1] = '(\"\").dump' end\n"
		"  if getmetatable('').__index.dump ~= nil then present[#present + 1] = 'mt.dump' end\n"
		"  if #present == 0 then return 'clean' end\n"
		"  return table.concat(present, ',')\n"
		"end\n");

	expect_text(h, sc, "x", "clean");
	script_close(sc);
}

static void test_sandbox_allowed(void **state)
{
	struct harness *h = *state;
	/* what scripts are meant to have still works */
	script *sc = open_ok(
		h, "allowed.lua",
		"function on_message(c, text)\n"
		"  print('print goes to the debug log')\n"
		"  local parts = {}\n"
		"  for w in string.gmatch(text, '%a+') do parts[#parts + 1] = w:upper() end\n"
		"  table.sort(parts)\n"
		"  local ok = pcall(error, 'x')\n"
		"  return table.concat(parts, ' ') .. ' ' .. math.floor(2.5) .. ' ' ..\n"
		"    utf8.len('\\u{e9}') .. ' ' .. type(coroutine.wrap) .. ' ' .. tostring(ok) ..\n"
		"    ' ' .. select('#', 1, 2) .. ' ' .. tostring(_G == _ENV)\n"
		"end\n");

	expect_text(h, sc, "world hello", "HELLO WORLD 2 1 function false 2 true");
	script_close(sc);
}

static void test_sandbox_escape_attempts(void **state)
{
	struct harness *h = *state;
	script *sc = open_ok(
		h, "escape.lua",
		"function on_message(c, text)\n"
		"  if text == 'load' then return load('return 1')() end\n"
		"  if text == 'require' then return require('os').getenv('HOME') end\n"
		"  if text == 'io' then return io.open('/etc/passwd'):read('a') end\n"
		"  if text == 'dump' then return string.dump(on_message) end\n"
		"  if text == 'sdump' then return ('x').dump(on_message) end\n"
		"  return 'ok'\n"
		"end\n");

	expect_error(h, sc, "load", "load");
	expect_error(h, sc, "require", "require");
	expect_error(h, sc, "io", "io");
	expect_error(h, sc, "dump", "dump");
	expect_error(h, sc, "sdump", "dump");
	expect_text(h, sc, "x", "ok");
	script_close(sc);
}

/* A finalizer would run during collection, outside any budget: refused. */
static void test_finalizers_refused(void **state)
{
	struct harness *h = *state;
	script *sc = open_ok(
		h, "gc.lua",
		"function on_message(c, text)\n"
		"  if text == 'gc' then\n"
		"    setmetatable({}, {__gc = function() while true do end end})\n"
		"    error('x')\n"
		"  end\n"
		"  local t = setmetatable({}, {__index = function() return 'meta' end})\n"
		"  return t.anything\n"
		"end\n");

	expect_error(h, sc, "gc", "__gc metamethods are not allowed");
	expect_text(h, sc, "plain", "meta");
	script_close(sc);
}

struct dump_buf {
	char *data;
	size_t len;
};

static int dump_writer(lua_State *L, const void *p, size_t sz, void *ud)
{
	struct dump_buf *b = ud;
	char *n = realloc(b->data, b->len + sz);
	(void)L;
	if (!n)
		return 1;
	memcpy(n + b->len, p, sz);
	b->data = n;
	b->len += sz;
	return 0;
}

static void test_bytecode_refused(void **state)
{
	struct harness *h = *state;
	lua_State *L = luaL_newstate();
	struct dump_buf b = {NULL, 0};
	script *sc;

	/* compile a valid script with an ordinary VM and dump its bytecode */
	assert_non_null(L);
	assert_int_equal(luaL_loadstring(L, "function on_message(c, t) return 'compiled' end"), LUA_OK);
	assert_int_equal(lua_dump(L, dump_writer, &b, 0), 0);
	lua_close(L);
	assert_true(b.len > 4);
	assert_memory_equal(b.data, LUA_SIGNATURE, 4);

	write_bytes(h, "compiled.lua", b.data, b.len);
	free(b.data);
	h->err[0] = '\0';
	sc = script_open(h->path, &LIMITS, &h->lg, h->err, sizeof(h->err));
	if (sc) {
		script_close(sc);
		fail_msg("a bytecode file was loaded");
	}
	assert_non_null(strstr(h->err, "binary chunk"));
}

/* ===== script_open failures ===== */

static void test_open_missing_on_message(void **state)
{
	struct harness *h = *state;

	open_fails(h, "nofn.lua", "function on_msg(c, t) return 'x' end\n");
	assert_non_null(strstr(h->err, "on_message"));
	assert_non_null(strstr(h->err, "nofn.lua"));
	/* a non-function on_message is no better */
	open_fails(h, "notfn.lua", "on_message = 'hello'\n");
	assert_non_null(strstr(h->err, "on_message"));
	/* an empty file neither */
	open_fails(h, "empty.lua", "");
	assert_non_null(strstr(h->err, "on_message"));
}

static void test_open_syntax_error(void **state)
{
	struct harness *h = *state;

	open_fails(h, "syntax.lua",
		   "function on_message(c, t)\n"
		   "  return 'a' ..\n"
		   "end\n");
	assert_non_null(strstr(h->err, "syntax.lua:3:"));
}

static void test_open_main_chunk_errors(void **state)
{
	struct harness *h = *state;

	open_fails(h, "throws.lua",
		   "local x = 1\n"
		   "error('refusing to load')\n"
		   "function on_message(c, t) return 'x' end\n");
	assert_non_null(strstr(h->err, "throws.lua:2:"));
	assert_non_null(strstr(h->err, "refusing to load"));

	/* the main chunk runs under the budget too */
	open_fails(h, "spin.lua",
		   "while true do end\n"
		   "function on_message(c, t) return 'x' end\n");
	assert_non_null(strstr(h->err, "instruction budget"));

	/* and under the memory cap */
	open_fails(h, "fat.lua",
		   "local s = string.rep('x', 64 * 1024 * 1024)\n"
		   "function on_message(c, t) return 'x' end\n");
	assert_non_null(strstr(h->err, "memory"));

	/* the sandbox applies while loading as well */
	open_fails(h, "osload.lua",
		   "local home = os.getenv('HOME')\n"
		   "function on_message(c, t) return 'x' end\n");
	assert_non_null(strstr(h->err, "osload.lua:1:"));
}

static void test_open_missing_file(void **state)
{
	struct harness *h = *state;
	char path[300];
	script *sc;

	snprintf(path, sizeof(path), "%s/does-not-exist.lua", h->dir);
	h->err[0] = '\0';
	sc = script_open(path, &LIMITS, &h->lg, h->err, sizeof(h->err));
	assert_null(sc);
	assert_non_null(strstr(h->err, "does-not-exist.lua"));
}

static void test_open_too_big(void **state)
{
	struct harness *h = *state;
	size_t len = (1u << 20) + 1;
	char *src = malloc(len);
	script *sc;

	/* a comment line longer than the 1 MiB limit */
	assert_non_null(src);
	memset(src, '-', len);
	write_bytes(h, "huge.lua", src, len);
	free(src);
	h->err[0] = '\0';
	sc = script_open(h->path, &LIMITS, &h->lg, h->err, sizeof(h->err));
	assert_null(sc);
	assert_non_null(strstr(h->err, "huge.lua"));
}

static void test_close_null(void **state)
{
	(void)state;
	script_close(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_string_reply, setup, teardown),
		cmocka_unit_test_setup_teardown(test_takes_understanding, setup, teardown),
cmocka_unit_test_setup_teardown(test_conversation_snapshot, setup, teardown),
		cmocka_unit_test_setup_teardown(test_table_reply, setup, teardown),
		cmocka_unit_test_setup_teardown(test_table_defaults_and_bounds, setup, teardown),
		cmocka_unit_test_setup_teardown(test_list_of_replies, setup, teardown),
		cmocka_unit_test_setup_teardown(test_nil_reply, setup, teardown),
		cmocka_unit_test_setup_teardown(test_state_between_calls, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_returns, setup, teardown),
		cmocka_unit_test_setup_teardown(test_limits_exactly, setup, teardown),
		cmocka_unit_test_setup_teardown(test_runtime_error, setup, teardown),
		cmocka_unit_test_setup_teardown(test_instruction_budget, setup, teardown),
		cmocka_unit_test_setup_teardown(test_memory_limit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sandbox_globals, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sandbox_allowed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sandbox_escape_attempts, setup, teardown),
		cmocka_unit_test_setup_teardown(test_finalizers_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bytecode_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_open_missing_on_message, setup, teardown),
		cmocka_unit_test_setup_teardown(test_open_syntax_error, setup, teardown),
		cmocka_unit_test_setup_teardown(test_open_main_chunk_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_open_missing_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_open_too_big, setup, teardown),
		cmocka_unit_test_setup_teardown(test_close_null, setup, teardown),
	};
	return cmocka_run_group_tests_name("script", tests, NULL, NULL);
}
