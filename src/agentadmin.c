/* agentadmin.c: `supportd agent add|list`. See agentadmin.h. */
#include "agentadmin.h"

#include <getopt.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "config.h"
#include "content.h"
#include "storesync.h"
#include "token.h"
#include "xalloc.h"

static const char usage[] =
	"usage: supportd agent add NAME --team TEAM [--team TEAM ...] [--capacity N] [options]\n"
	"       supportd agent list [options]\n"
	"       supportd agent remove NAME [options]\n"
	"\n"
	"add stores an agent and prints its login token, once: keep it; the store\n"
	"only has its hash. Adding a NAME again gives it a new token, teams and\n"
	"capacity. Names and teams: a-z, 0-9, - and _.\n"
	"remove revokes an agent's token: it can never sign in again (its name\n"
	"stays on the chats it handled). A console it has open keeps working\n"
	"until it disconnects or supportd restarts. Adding the NAME again brings\n"
	"it back with a new token.\n"
	"\n"
	"options:\n"
	"  -d, --data-dir DIR   where supportd.db lives (default var)\n"
	"  -c, --config FILE    JSON config file (its data_dir is used)\n"
	"      --capacity N     chats at once (default 3, 1 to 50)\n"
	"  -t, --team TEAM      a team the agent works for (up to 8)\n"
	"  -h, --help           this help\n";

/* The token is 256 random bits: a cheap Argon2id is as safe as a costly
 * one against guessing, and a login does not stall the event loop. */
int agentadmin_hash_token(const char *token, char *out, size_t outlen)
{
	if (outlen < crypto_pwhash_STRBYTES)
		return -1;
	return crypto_pwhash_str_alg(out, token, strlen(token), crypto_pwhash_OPSLIMIT_MIN,
				     crypto_pwhash_MEMLIMIT_MIN, crypto_pwhash_ALG_ARGON2ID13);
}

int agentadmin_check_token(const char *stored_hash, const char *token)
{
	return crypto_pwhash_str_verify(stored_hash, token, strlen(token)) == 0;
}

static int valid_name(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > 64)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '-' ||
		      s[i] == '_'))
			return 0;
	return 1;
}

int agentadmin_main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"data-dir", required_argument, NULL, 'd'}, {"config", required_argument, NULL, 'c'},
		{"team", required_argument, NULL, 't'},     {"capacity", required_argument, NULL, 'C'},
		{"help", no_argument, NULL, 'h'},           {NULL, 0, NULL, 0}};
	struct config cfg;
	const char *teams[AGENT_TEAMS_MAX], *data_dir = NULL, *sub;
	size_t n_teams = 0;
	long capacity = 3;
	int c, status = 1;
	char err[512];

	config_defaults(&cfg);
	if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		fputs(usage, argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	sub = argv[1];
	optind = 2;
	while ((c = getopt_long(argc, argv, "d:c:t:h", opts, NULL)) != -1) {
		switch (c) {
		case 'd':
			data_dir = optarg;
			break;
		case 'c':
			if (config_load_file(&cfg, optarg, err, sizeof(err))) {
				fprintf(stderr, "supportd agent: %s\n", err);
				return 2;
			}
			break;
		case 't':
			if (n_teams == AGENT_TEAMS_MAX || !valid_name(optarg)) {
				fprintf(stderr, "supportd agent: --team must be a name (a-z, 0-9, - and _), "
						"at most %d of them\n", AGENT_TEAMS_MAX);
				return 2;
			}
			teams[n_teams++] = optarg;
			break;
		case 'C': {
			char *end;
			capacity = strtol(optarg, &end, 10);
			if (*end || capacity < 1 || capacity > 50) {
				fprintf(stderr, "supportd agent: --capacity must be a number from 1 to 50\n");
				return 2;
			}
			break;
		}
		case 'h':
			fputs(usage, stdout);
			return 0;
		default:
			fputs(usage, stderr);
			return 2;
		}
	}
	if (!data_dir)
		data_dir = cfg.data_dir;
	if (strcmp(sub, "add") && strcmp(sub, "list") && strcmp(sub, "remove")) {
		fprintf(stderr, "supportd agent: unknown subcommand \"%s\"\n\n%s", sub, usage);
		return 2;
	}
	if (!strcmp(sub, "add") && (optind != argc - 1 || !valid_name(argv[optind]) || !n_teams)) {
		fprintf(stderr, "supportd agent add: give one NAME (a-z, 0-9, - and _) and at least "
				"one --team\n");
		return 2;
	}
	if (!strcmp(sub, "list") && optind != argc) {
		fputs(usage, stderr);
		return 2;
	}
	if (!strcmp(sub, "remove") && (optind != argc - 1 || !valid_name(argv[optind]))) {
		fprintf(stderr, "supportd agent remove: give one NAME (a-z, 0-9, - and _)\n");
		return 2;
	}
	if (sodium_init() < 0)
		return 1;
	storesync *st = storesync_open(data_dir, err, sizeof(err));
	if (!st) {
		fprintf(stderr, "supportd agent: %s\n", err);
		return 1;
	}
	if (!strcmp(sub, "add")) {
		unsigned char raw[TOKEN_BYTES];
		char token[sizeof(AGENT_TOKEN_PREFIX) + TOKEN_TEXT_LEN + 8];
		char hash[crypto_pwhash_STRBYTES];
		char list[AGENT_TEAMS_MAX * 66] = "";
		struct store_job *job;

		if (token_random(raw, sizeof(raw))) {
			fprintf(stderr, "supportd agent: no randomness\n");
			goto out;
		}
		memcpy(token, AGENT_TOKEN_PREFIX, sizeof(AGENT_TOKEN_PREFIX) - 1);
		sodium_bin2base64(token + sizeof(AGENT_TOKEN_PREFIX) - 1,
				  sizeof(token) - (sizeof(AGENT_TOKEN_PREFIX) - 1), raw, sizeof(raw),
				  sodium_base64_VARIANT_URLSAFE_NO_PADDING);
		sodium_memzero(raw, sizeof(raw));
		if (agentadmin_hash_token(token, hash, sizeof(hash))) {
			fprintf(stderr, "supportd agent: cannot hash the token (out of memory)\n");
			goto out;
		}
		for (size_t i = 0; i < n_teams; i++) {
			strcat(list, i ? "," : "");
			strcat(list, teams[i]);
		}
		job = store_job_new(STORE_AGENT_ADD);
		job->agent.name = xstrdup(argv[optind]);
		job->agent.teams = xstrdup(list);
		job->agent.capacity = (int)capacity;
		job->agent.token_hash = xstrdup(hash);
		job->now_ms = clock_wall_ms();
		job = storesync_run(st, job);
		if (job->status == STORE_OK) {
			printf("%s\n", token);
			fprintf(stderr, "agent %s (teams %s, capacity %ld): keep this token; it is not "
					"shown again\n", argv[optind], list, capacity);
			status = 0;
		} else {
			fprintf(stderr, "supportd agent: the store refused the agent\n");
		}
		sodium_memzero(token, sizeof(token));
		store_job_free(job);
	} else if (!strcmp(sub, "remove")) {
		struct store_job *job = store_job_new(STORE_AGENT_REMOVE);
		job->agent.name = xstrdup(argv[optind]);
		job->now_ms = clock_wall_ms();
		job = storesync_run(st, job);
		if (job->status == STORE_OK) {
			fprintf(stderr, "agent %s removed: its token no longer signs in\n", argv[optind]);
			status = 0;
		} else if (job->status == STORE_NOT_FOUND) {
			fprintf(stderr, "supportd agent remove: there is no agent %s\n", argv[optind]);
		} else {
			fprintf(stderr, "supportd agent: the store refused the change\n");
		}
		store_job_free(job);
	} else {
		struct store_job *job = storesync_run(st, store_job_new(STORE_AGENT_LIST));
		if (job->status == STORE_OK) {
			for (size_t i = 0; i < job->n_agents; i++)
				printf("%s\tteams=%s\tcapacity=%d\n", job->agents[i].name,
				       job->agents[i].teams, job->agents[i].capacity);
			status = 0;
		}
		store_job_free(job);
	}
out:
	storesync_close(st);
	return status;
}
