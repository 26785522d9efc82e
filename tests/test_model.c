/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * test_model.c - random operation sequences against the bitmap model of
 * model.h, from a reproducible PRNG.
 *
 * Environment: WW_MODEL_SEEDS (default 12) seeds, WW_MODEL_OPS (default
 * 3000) operations each; WW_MODEL_SEED=N replays one seed.  A failure names
 * the seed and the step.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>

#include "helpers.h"
#include "model.h"

enum { PAGES = 700 };

/* xorshift64*: reproducible across libcs, unlike rand(). */
static size_t prng_below(void *src, size_t n)
{
    uint64_t *x = src;

    *x ^= *x >> 12;
    *x ^= *x << 25;
    *x ^= *x >> 27;
    return (size_t)((*x * 0x2545F4914F6CDD1DULL) % n);
}

static void run_seed(unsigned long seed, unsigned long ops)
{
    uint64_t rng = seed * 0x9E3779B97F4A7C15ULL + 1;
    ww_tracker *t = t_open();
    struct model m;

    ck_assert_int_eq(model_init(&m, t, PAGES, prng_below, &rng), 0);
    while (m.step < ops) {
        unsigned long step = m.step;
        ck_assert_msg(model_step(&m) == 0, "seed %lu step %lu: %s", seed,
                      step, m.failure);
    }
    model_free(&m);
    ww_tracker_close(t);
}

static unsigned long env_number(const char *name, unsigned long fallback)
{
    const char *v = getenv(name);

    return v && *v ? strtoul(v, NULL, 10) : fallback;
}

START_TEST(test_model_random_sequences)
{
    unsigned long ops = env_number("WW_MODEL_OPS", 3000);
    unsigned long one = env_number("WW_MODEL_SEED", 0);
    unsigned long seeds = env_number("WW_MODEL_SEEDS", 12);

    if (one) {
        run_seed(one, ops);
        return;
    }
    for (unsigned long seed = 1; seed <= seeds; seed++)
        run_seed(seed, ops);
    fprintf(stderr, "model(%s): %lu seeds x %lu operations, all matched\n",
            ww_backend_name(t_backend), seeds, ops);
}
END_TEST

static void add_tests(TCase *tc, enum ww_backend backend)
{
    (void)backend;
    tcase_add_test(tc, test_model_random_sequences);
}

int main(void)
{
    Suite *s = suite_create("model");

    t_add_backend_tcases(s, "model", add_tests, 300);
    return t_run_suite(s);
}
