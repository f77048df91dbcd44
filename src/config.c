/* config.c: defaults and the JSON config file. See config.h. */
#include "config.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

void config_defaults(struct config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	snprintf(cfg->listen, sizeof(cfg->listen), "127.0.0.1");
	cfg->port = 8080;
	cfg->max_sockets_per_ip = 512;
	snprintf(cfg->data_dir, sizeof(cfg->data_dir), "var");
	snprintf(cfg->content_dir, sizeof(cfg->content_dir), ".");
	snprintf(cfg->static_dir, sizeof(cfg->static_dir), "contrib/www");
	snprintf(cfg->widget_dir, sizeof(cfg->widget_dir), "build/widget");
	snprintf(cfg->console_dir, sizeof(cfg->console_dir), "build/console");
	snprintf(cfg->log_level, sizeof(cfg->log_level), "info");
	cfg->chat.max_text_bytes = 4096;
	cfg->chat.max_frame_bytes = 65536;
	cfg->chat.rate_per_sec = 5;
	cfg->chat.rate_burst = 10;
	cfg->chat.abuse_strikes = 20;
	cfg->chat.max_conn_per_ip = 64;
	cfg->chat.max_connections = 20000;
	cfg->chat.resume_idle_ttl_sec = 86400;
	cfg->chat.max_events = 5000;
	cfg->chat.outbox_max_bytes = 4u << 20;
	cfg->chat.bot_typing = 0;
	cfg->chat.shutdown_grace_ms = 5000;
	cfg->script.instruction_limit = 1000000;
	cfg->script.memory_limit_kb = 65536;
	cfg->brain.pattern_match_limit = 100000;
	cfg->brain.pattern_depth_limit_kb = 1024;
	cfg->brain.model_max_classes = 2000;
	cfg->flows.timeout_ms = 5000;
	cfg->flows.connect_timeout_ms = 2000;
	cfg->flows.max_response_bytes = 65536;
	cfg->flows.answer_timeout_ms = 15 * 60 * 1000;
	cfg->flows.instruction_limit = 1000000;
	cfg->flows.memory_limit_kb = 8192;
	cfg->flows.n_patterns = 1;
	snprintf(cfg->flows.patterns[0].name, CONFIG_NAME_MAX, "order_number");
	snprintf(cfg->flows.patterns[0].value, CONFIG_VALUE_MAX, "^\\s*#?\\s*([0-9]{5,10})\\s*$");
	cfg->desk.accept_timeout_ms = 30000;
	cfg->desk.session_check_ms = 10000;
	snprintf(cfg->desk.default_team, sizeof(cfg->desk.default_team), "general");
	cfg->store.synchronous_full = 1;
	cfg->store.batch_max = 1024;
}

/* One settable key: where it lives in the JSON, its kind and its range. */
enum kind { K_STR, K_INT, K_I64, K_U64, K_NUM, K_BOOL, K_SIZE, K_NAMED, K_TEAMS, K_ORIGINS };
struct key {
	const char *section; /* NULL for top level */
	const char *name;
	enum kind kind;
	size_t off;
	size_t size;         /* K_STR: buffer size */
	double min, max;
};

#define OFF(f) offsetof(struct config, f)
static const struct key keys[] = {
	{NULL, "listen", K_STR, OFF(listen), sizeof(((struct config *)0)->listen), 0, 0},
	{NULL, "port", K_INT, OFF(port), 0, 0, 65535},
	{NULL, "max_sockets_per_ip", K_INT, OFF(max_sockets_per_ip), 0, 1, 1e7},
	{NULL, "data_dir", K_STR, OFF(data_dir), CONFIG_PATH_MAX, 0, 0},
	{NULL, "content_dir", K_STR, OFF(content_dir), CONFIG_PATH_MAX, 0, 0},
	{NULL, "static_dir", K_STR, OFF(static_dir), CONFIG_PATH_MAX, 0, 0},
	{NULL, "log_level", K_STR, OFF(log_level), 8, 0, 0},
	{NULL, "widget_dir", K_STR, OFF(widget_dir), CONFIG_PATH_MAX, 0, 0},
	{NULL, "console_dir", K_STR, OFF(console_dir), CONFIG_PATH_MAX, 0, 0},
	{NULL, "allowed_origins", K_ORIGINS, 0, 0, 0, 0},
	{"chat", "max_text_bytes", K_SIZE, OFF(chat.max_text_bytes), 0, 1, 1 << 20},
	{"chat", "max_frame_bytes", K_SIZE, OFF(chat.max_frame_bytes), 0, 1024, 16 << 20},
	{"chat", "rate_per_sec", K_NUM, OFF(chat.rate_per_sec), 0, 0.01, 1e9},
	{"chat", "rate_burst", K_NUM, OFF(chat.rate_burst), 0, 1, 1e9},
	{"chat", "abuse_strikes", K_INT, OFF(chat.abuse_strikes), 0, 1, 1e9},
	{"chat", "max_conn_per_ip", K_INT, OFF(chat.max_conn_per_ip), 0, 1, 1e7},
	{"chat", "max_connections", K_INT, OFF(chat.max_connections), 0, 1, 1e7},
	{"chat", "resume_idle_ttl_sec", K_I64, OFF(chat.resume_idle_ttl_sec), 0, 1, 1e9},
	{"chat", "max_events", K_I64, OFF(chat.max_events), 0, 2, 1e9},
	{"chat", "outbox_max_bytes", K_SIZE, OFF(chat.outbox_max_bytes), 0, 65536, 1 << 30},
	{"chat", "bot_typing", K_BOOL, OFF(chat.bot_typing), 0, 0, 0},
	{"chat", "shutdown_grace_ms", K_INT, OFF(chat.shutdown_grace_ms), 0, 0, 600000},
	{"script", "instruction_limit", K_U64, OFF(script.instruction_limit), 0, 1000, 1e12},
	{"script", "memory_limit_kb", K_SIZE, OFF(script.memory_limit_kb), 0, 256, 1 << 22},
	{"brain", "pattern_match_limit", K_INT, OFF(brain.pattern_match_limit), 0, 1000, 1e8},
	{"brain", "pattern_depth_limit_kb", K_INT, OFF(brain.pattern_depth_limit_kb), 0, 16, 1 << 20},
	{"brain", "model_max_classes", K_INT, OFF(brain.model_max_classes), 0, 2, 1e6},
	{"flows", "backends", K_NAMED, OFF(flows.backends), OFF(flows.n_backends), 0, 0},
	{"flows", "patterns", K_NAMED, OFF(flows.patterns), OFF(flows.n_patterns), 0, 0},
	{"flows", "timeout_ms", K_INT, OFF(flows.timeout_ms), 0, 10, 600000},
	{"flows", "connect_timeout_ms", K_INT, OFF(flows.connect_timeout_ms), 0, 10, 600000},
	{"flows", "max_response_bytes", K_SIZE, OFF(flows.max_response_bytes), 0, 256,
	 1 << 20 /* FLOWLOG_MAX_BODY: replies are logged */},
	{"flows", "answer_timeout_ms", K_I64, OFF(flows.answer_timeout_ms), 0, 100, 30 * 86400e3},
	{"flows", "ca_file", K_STR, OFF(flows.ca_file), CONFIG_PATH_MAX, 0, 0},
	{"flows", "instruction_limit", K_U64, OFF(flows.instruction_limit), 0, 1000, 1e12},
	{"flows", "memory_limit_kb", K_SIZE, OFF(flows.memory_limit_kb), 0, 64, 1 << 22},
	{"desk", "accept_timeout_ms", K_INT, OFF(desk.accept_timeout_ms), 0, 100, 3600000},
	{"desk", "session_check_ms", K_INT, OFF(desk.session_check_ms), 0, 100, 3600000},
	{"desk", "default_team", K_STR, OFF(desk.default_team), CONFIG_NAME_MAX, 0, 0},
	{"desk", "teams", K_TEAMS, 0, 0, 0, 0},
	{"desk", "language_teams", K_NAMED, OFF(desk.language_teams), OFF(desk.n_language_teams), 0, 0},
	{"store", "synchronous", K_STR, 0, 0, 0, 0}, /* "full" or "normal" */
	{"store", "batch_max", K_INT, OFF(store.batch_max), 0, 1, 100000},
};
#undef OFF

static const struct key *find_key(const char *section, const char *name)
{
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		const struct key *k = &keys[i];
		if (((section == NULL) == (k->section == NULL)) &&
		    (!section || strcmp(section, k->section) == 0) &&
		    strcmp(name, k->name) == 0)
			return k;
	}
	return NULL;
}

static int is_section(const char *name)
{
	return !strcmp(name, "chat") || !strcmp(name, "script") || !strcmp(name, "store") ||
	       !strcmp(name, "brain") || !strcmp(name, "flows") || !strcmp(name, "desk");
}

/* An object of name -> non-empty string, merged over the defaults (a name
 * given replaces the default of that name). Names are [a-z0-9_], like the
 * Lua identifiers flows use for them. */
static int set_named(struct config *cfg, const struct key *k, json_t *v, const char *path,
		     char *err, size_t errlen)
{
	struct config_named *out = (struct config_named *)((char *)cfg + k->off);
	size_t *n = (size_t *)((char *)cfg + k->size);
	const char *name;
	json_t *sv;

	if (!json_is_object(v) || json_object_size(v) > CONFIG_NAMED_MAX) {
		snprintf(err, errlen, "%s: %s.%s must be an object of at most %d names", path,
			 k->section, k->name, CONFIG_NAMED_MAX);
		return -1;
	}
	json_object_foreach(v, name, sv) {
		const char *s = json_string_value(sv);
		size_t len = strlen(name);
		int ok = len > 0 && len < CONFIG_NAME_MAX;
		for (size_t i = 0; ok && i < len; i++)
			ok = (name[i] >= 'a' && name[i] <= 'z') || (name[i] >= '0' && name[i] <= '9') ||
			     name[i] == '_';
		if (!ok) {
			snprintf(err, errlen, "%s: %s.%s: \"%s\" is not a name (a-z, 0-9 and _, at most %d)",
				 path, k->section, k->name, name, CONFIG_NAME_MAX - 1);
			return -1;
		}
		if (!s || !s[0] || strlen(s) >= CONFIG_VALUE_MAX) {
			snprintf(err, errlen, "%s: %s.%s.%s must be a non-empty string shorter than %d bytes",
				 path, k->section, k->name, name, CONFIG_VALUE_MAX);
			return -1;
		}
		size_t at = 0;
		while (at < *n && strcmp(out[at].name, name))
			at++;
		if (at == CONFIG_NAMED_MAX) {
			snprintf(err, errlen, "%s: %s.%s: more than %d names", path, k->section, k->name,
				 CONFIG_NAMED_MAX);
			return -1;
		}
		snprintf(out[at].name, CONFIG_NAME_MAX, "%s", name);
		snprintf(out[at].value, CONFIG_VALUE_MAX, "%s", s);
		if (at == *n)
			(*n)++;
	}
	return 0;
}

/* desk.teams: {"team": {"timezone": "Europe/Lisbon", "hours": {"mon-fri":
 * "09:00-18:00", "sat": "10:00-14:00"}}}. Days not given are closed. */
static int set_teams(struct config *cfg, json_t *v, const char *path, char *err, size_t errlen)
{
	const char *name;
	json_t *t;
	char why[200];

	if (!json_is_object(v) || json_object_size(v) > CONFIG_TEAMS_MAX) {
		snprintf(err, errlen, "%s: desk.teams must be an object of at most %d teams", path,
			 CONFIG_TEAMS_MAX);
		return -1;
	}
	cfg->desk.n_teams = 0;
	json_object_foreach(v, name, t) {
		struct config_team *ct = &cfg->desk.teams[cfg->desk.n_teams];
		json_t *tz = json_object_get(t, "timezone"), *hours = json_object_get(t, "hours");
		const char *key, *sub;
		json_t *spec;
		unsigned seen = 0;

		memset(ct, 0, sizeof(*ct));
		if (!name[0] || strlen(name) >= CONFIG_NAME_MAX || !json_is_object(t)) {
			snprintf(err, errlen, "%s: desk.teams.%s must be an object with a team name", path,
				 name);
			return -1;
		}
		json_object_foreach(t, sub, spec) {
			if (strcmp(sub, "timezone") && strcmp(sub, "hours")) {
				snprintf(err, errlen, "%s: unknown key \"desk.teams.%s.%s\"", path, name, sub);
				return -1;
			}
		}
		snprintf(ct->name, sizeof(ct->name), "%s", name);
		if (!json_is_string(tz) || hours_set_tz(&ct->hours, json_string_value(tz), why, sizeof(why))) {
			snprintf(err, errlen, "%s: desk.teams.%s.timezone: %s", path, name,
				 json_is_string(tz) ? why : "must be a time zone name like \"Europe/Lisbon\"");
			return -1;
		}
		if (!json_is_object(hours)) {
			snprintf(err, errlen, "%s: desk.teams.%s.hours must be an object of days", path, name);
			return -1;
		}
		json_object_foreach(hours, key, spec) {
			if (hours_set_days(&ct->hours, key, json_string_value(spec), &seen, why, sizeof(why))) {
				snprintf(err, errlen, "%s: desk.teams.%s.hours.%s: %s", path, name, key, why);
				return -1;
			}
		}
		ct->hours.set = 1;
		cfg->desk.n_teams++;
	}
	return 0;
}

static int set_key(struct config *cfg, const struct key *k, json_t *v,
		   const char *path, char *err, size_t errlen)
{
	char *base = (char *)cfg;
	const char *sect = k->section ? k->section : "";
	const char *dot = k->section ? "." : "";

	if (k->section && !strcmp(k->section, "store") && !strcmp(k->name, "synchronous")) {
		const char *s = json_string_value(v);
		if (!s || (strcmp(s, "full") && strcmp(s, "normal"))) {
			snprintf(err, errlen, "%s: store.synchronous must be \"full\" or \"normal\"", path);
			return -1;
		}
		cfg->store.synchronous_full = !strcmp(s, "full");
		return 0;
	}
	switch (k->kind) {
	case K_NAMED:
		return set_named(cfg, k, v, path, err, errlen);
	case K_TEAMS:
		return set_teams(cfg, v, path, err, errlen);
	case K_ORIGINS: {
		size_t i;
		json_t *o;
		if (!json_is_array(v) || json_array_size(v) > CONFIG_NAMED_MAX) {
			snprintf(err, errlen, "%s: allowed_origins must be a list of at most %d origins",
				 path, CONFIG_NAMED_MAX);
			return -1;
		}
		cfg->n_allowed_origins = 0;
		json_array_foreach(v, i, o) {
			const char *s = json_string_value(o);
			if (!s || (strncmp(s, "http://", 7) && strncmp(s, "https://", 8)) ||
			    strlen(s) >= CONFIG_VALUE_MAX || strchr(s + 8, '/')) {
				snprintf(err, errlen, "%s: allowed_origins[%zu] must be an origin like "
					 "\"https://shop.example.com\" (scheme, host, optional port)", path, i);
				return -1;
			}
			snprintf(cfg->allowed_origins[cfg->n_allowed_origins++], CONFIG_VALUE_MAX, "%s", s);
		}
		return 0;
	}
	case K_STR: {
		const char *s = json_string_value(v);
		if (!s || strlen(s) >= k->size || !s[0]) {
			snprintf(err, errlen, "%s: %s%s%s must be a non-empty string shorter than %zu bytes",
				 path, sect, dot, k->name, k->size);
			return -1;
		}
		snprintf(base + k->off, k->size, "%s", s);
		return 0;
	}
	case K_BOOL:
		if (!json_is_boolean(v)) {
			snprintf(err, errlen, "%s: %s%s%s must be true or false", path, sect, dot, k->name);
			return -1;
		}
		*(int *)(base + k->off) = json_is_true(v);
		return 0;
	default:
		break;
	}
	if (!json_is_number(v) || (k->kind != K_NUM && !json_is_integer(v))) {
		snprintf(err, errlen, "%s: %s%s%s must be %s", path, sect, dot, k->name,
			 k->kind == K_NUM ? "a number" : "an integer");
		return -1;
	}
	double d = json_number_value(v);
	if (d < k->min || d > k->max) {
		snprintf(err, errlen, "%s: %s%s%s is %g; it must be between %g and %g",
			 path, sect, dot, k->name, d, k->min, k->max);
		return -1;
	}
	if (k->kind == K_NUM)
		*(double *)(base + k->off) = d;
	else if (k->kind == K_SIZE)
		*(size_t *)(base + k->off) = (size_t)d;
	else if (k->kind == K_INT)
		*(int *)(base + k->off) = (int)d;
	else if (k->kind == K_U64)
		*(uint64_t *)(base + k->off) = (uint64_t)d;
	else
		*(int64_t *)(base + k->off) = (int64_t)d;
	return 0;
}

int config_load_file(struct config *cfg, const char *path, char *err, size_t errlen)
{
	json_error_t jerr;
	json_t *root = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
	const char *name;
	json_t *v;

	if (!root) {
		if (jerr.line > 0)
			snprintf(err, errlen, "%s:%d:%d: %s", path, jerr.line, jerr.column, jerr.text);
		else
			snprintf(err, errlen, "%s: %s", path, jerr.text);
		return -1;
	}
	if (!json_is_object(root)) {
		snprintf(err, errlen, "%s:1: the config must be a JSON object", path);
		goto err;
	}
	json_object_foreach(root, name, v) {
		if (is_section(name)) {
			const char *sub;
			json_t *sv;
			if (!json_is_object(v)) {
				snprintf(err, errlen, "%s: \"%s\" must be an object", path, name);
				goto err;
			}
			json_object_foreach(v, sub, sv) {
				const struct key *k = find_key(name, sub);
				if (!k) {
					snprintf(err, errlen, "%s: unknown key \"%s.%s\"", path, name, sub);
					goto err;
				}
				if (set_key(cfg, k, sv, path, err, errlen))
					goto err;
			}
			continue;
		}
		const struct key *k = find_key(NULL, name);
		if (!k) {
			snprintf(err, errlen, "%s: unknown key \"%s\"", path, name);
			goto err;
		}
		if (set_key(cfg, k, v, path, err, errlen))
			goto err;
	}
	json_decref(root);
	return 0;
err:
	json_decref(root);
	return -1;
}
