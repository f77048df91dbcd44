/* ratelimit.h: a token bucket, one per connection.
 *
 * The bucket holds up to `burst` tokens and refills at `rate` per second.
 * Time is passed in by the caller (monotonic milliseconds), which keeps the
 * bucket deterministic and testable. */
#ifndef SUPPORTD_RATELIMIT_H
#define SUPPORTD_RATELIMIT_H

#include <stdint.h>

struct ratelimit {
	double tokens;     /* tokens available now */
	double rate;       /* tokens added per second */
	double burst;      /* bucket size */
	int64_t last_ms;   /* time of the last refill */
};

/* Starts a full bucket at time now_ms. */
void ratelimit_init(struct ratelimit *rl, double rate, double burst, int64_t now_ms);

/* Takes one token at time now_ms. Returns 1 if allowed, 0 if limited. */
int ratelimit_take(struct ratelimit *rl, int64_t now_ms);

/* 1 if a token could be taken at now_ms, without taking it. */
int ratelimit_allows(struct ratelimit *rl, int64_t now_ms);

#endif
