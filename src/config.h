/* config.h: the daemon's settings.
 *
 * Built-in defaults need no file. A JSON config file (--config) overrides
 * them, and command-line flags override the file. Every value from outside
 * is range-checked here; the rest of the daemon trusts struct config. */
#ifndef SUPPORTD_CONFIG_H
#define SUPPORTD_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "hours.h"

#define CONFIG_PATH_MAX 1024
#define CONFIG_NAMED_MAX 16      /* backends, patterns */
#define CONFIG_NAME_MAX 32
#define CONFIG_VALUE_MAX 512
#define CONFIG_TEAMS_MAX 16

/* A team's business hours (desk.teams). */
struct config_team {
	char name[CONFIG_NAME_MAX];
	struct hours hours;
};

/* A name and a string value from a JSON object of strings. */
struct config_named {
	char name[CONFIG_NAME_MAX];
	char value[CONFIG_VALUE_MAX];
};

struct config {
	char listen[64];               /* address to bind, e.g. 127.0.0.1 */
	int port;                      /* 0 picks a free port (logged) */
	int max_sockets_per_ip;        /* TCP connections one address may hold, of any kind */
	char data_dir[CONFIG_PATH_MAX];    /* holds supportd.db */
	char content_dir[CONFIG_PATH_MAX]; /* holds lua/, faq/, rules/ */
	char static_dir[CONFIG_PATH_MAX];  /* static files served at / */
	char widget_dir[CONFIG_PATH_MAX];  /* holds widget.js, served at /widget.js */
	char console_dir[CONFIG_PATH_MAX]; /* the built console, served at /console */
	char allowed_origins[CONFIG_NAMED_MAX][CONFIG_VALUE_MAX]; /* websocket Origins besides our own */
	size_t n_allowed_origins;
	char log_level[8];

	struct {
		size_t max_text_bytes;     /* customer text limit */
		size_t max_frame_bytes;    /* websocket message limit (close 1009) */
		double rate_per_sec;       /* token bucket refill */
		double rate_burst;         /* token bucket size */
		int abuse_strikes;         /* rate-limited frames in a row before close */
		int max_conn_per_ip;
		int max_connections;
		int64_t resume_idle_ttl_sec;
		int64_t max_events;        /* content frames per conversation */
		size_t outbox_max_bytes;   /* queued output before a slow client is cut */
		int bot_typing;            /* send typing frames for the bot */
		int shutdown_grace_ms;     /* SIGTERM: time to finish in-flight work */
	} chat;

	struct {
		uint64_t instruction_limit; /* Lua instructions per call */
		size_t memory_limit_kb;     /* Lua VM heap cap */
	} script;

	struct {
		int pattern_match_limit;    /* PCRE2 match limit per pattern and message */
		int pattern_depth_limit_kb; /* PCRE2 backtracking heap limit */
		int model_max_classes;      /* FAQ entries join the intent model up to this */
	} brain;

	struct {
		struct config_named backends[CONFIG_NAMED_MAX]; /* base URLs: the allow-list */
		size_t n_backends;
		struct config_named patterns[CONFIG_NAMED_MAX]; /* PCRE2 validators */
		size_t n_patterns;
		int timeout_ms;             /* a whole backend request */
		int connect_timeout_ms;     /* until the backend has answered the connect */
		size_t max_response_bytes;  /* a longer backend reply fails */
		int64_t answer_timeout_ms;  /* a flow waiting longer than this ends */
		char ca_file[CONFIG_PATH_MAX]; /* PEM trust for https backends; "" = system */
		uint64_t instruction_limit; /* Lua instructions per resume of a flow */
		size_t memory_limit_kb;     /* VM heap growth allowed per resume */
	} flows;

	struct {
		int accept_timeout_ms;      /* an offer not accepted by then goes to someone else */
		int session_check_ms;       /* how often logins are checked against the agents table */
		char default_team[CONFIG_NAME_MAX]; /* handoffs with no team of their own */
		struct config_team teams[CONFIG_TEAMS_MAX]; /* teams not listed are always open */
		size_t n_teams;
		/* a language's own team ({"pl": "support_pl"}): its customers' handoffs
		 * go there while someone of it can take them */
		struct config_named language_teams[CONFIG_NAMED_MAX];
		size_t n_language_teams;
	} desk;

	struct {
		int synchronous_full;       /* PRAGMA synchronous=FULL (else NORMAL) */
		int batch_max;              /* jobs per group commit */
	} store;
};

/* Fills *cfg with the built-in defaults. */
void config_defaults(struct config *cfg);

/* Overrides *cfg from the JSON file at `path`. On error returns -1 and
 * writes "path:line: reason" into err. Unknown keys are errors. */
int config_load_file(struct config *cfg, const char *path, char *err, size_t errlen);

#endif
