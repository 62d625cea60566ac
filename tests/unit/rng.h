/* rng.h: the unit tests' random numbers: a xorshift64 generator seeded from the clock and
 * pid at each seed_rng(), so every run draws fresh inputs; tests print `seed` on failure,
 * and VHS_TEST_SEED=N in the environment draws that run's inputs again. */
#ifndef VHS_TEST_RNG_H
#define VHS_TEST_RNG_H

#include <stdint.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static uint64_t rng_state;
static unsigned seed;

static inline void seed_rng(void)
{
	const char *env = getenv("VHS_TEST_SEED");

	seed = env && *env ? (unsigned)strtoul(env, NULL, 10) : (unsigned)time(NULL) ^ ((unsigned)getpid() << 16);
	rng_state = seed * 0x9E3779B97F4A7C15ull + 1;
}

static inline uint32_t rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (uint32_t)(rng_state >> 16);
}

#endif
