/* ratelimit.c: token bucket. See ratelimit.h. */
#include "ratelimit.h"

void ratelimit_init(struct ratelimit *rl, double rate, double burst, int64_t now_ms)
{
	rl->rate = rate;
	rl->burst = burst;
	rl->tokens = burst;
	rl->last_ms = now_ms;
}

static void refill(struct ratelimit *rl, int64_t now_ms)
{
	if (now_ms > rl->last_ms) {
		rl->tokens += (double)(now_ms - rl->last_ms) * rl->rate / 1000.0;
		if (rl->tokens > rl->burst)
			rl->tokens = rl->burst;
		rl->last_ms = now_ms;
	}
}

int ratelimit_allows(struct ratelimit *rl, int64_t now_ms)
{
	refill(rl, now_ms);
	return rl->tokens >= 1.0;
}

int ratelimit_take(struct ratelimit *rl, int64_t now_ms)
{
	refill(rl, now_ms);
	if (rl->tokens < 1.0)
		return 0;
	rl->tokens -= 1.0;
	return 1;
}
