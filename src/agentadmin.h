/* agentadmin.h: the `supportd agent` command: add and list agents.
 *
 * `supportd agent add NAME --team T [--team T2] [--capacity N]` stores the
 * agent with a new login token and prints the token once; the store keeps
 * only its Argon2id hash. Adding a name again replaces its teams, capacity
 * and token. `supportd agent list` prints every agent. Both work on the
 * store under --data-dir (default var), also while the daemon runs. */
#ifndef SUPPORTD_AGENTADMIN_H
#define SUPPORTD_AGENTADMIN_H

#include <stddef.h>

#define AGENT_TEAMS_MAX 8
#define AGENT_TOKEN_PREFIX "sdk_"

/* Runs `supportd agent` with argv[0] = "agent". Returns the exit status. */
int agentadmin_main(int argc, char **argv);

/* Hashes a login token for the store (Argon2id). 0 or -1. */
int agentadmin_hash_token(const char *token, char *out, size_t outlen);

/* 1 if token matches the stored hash. */
int agentadmin_check_token(const char *stored_hash, const char *token);

#endif
