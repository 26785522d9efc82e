/*
 * test_model.c - random operation sequences against a bitmap model.
 *
 * The model is one byte per page: 1 = written since last reset.  Each step
 * does one random operation (writes, get with random count/reset/sub-range,
 * get_ranges, reset, mark_written, unwatch+watch) on the library and on the
 * model, and every query's answer must be exactly what the model predicts.
 *
 * Environment: WW_MODEL_SEEDS (default 12) seeds, WW_MODEL_OPS (default
 * 3000) operations each; WW_MODEL_SEED=N replays one seed.  A failure names
 * the seed and the step.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "helpers.h"

enum { PAGES = 700 };

struct model {
    ww_tracker *t;
    char *mem;
    unsigned char written[PAGES];
    uint64_t rng;
    unsigned long seed, step;
};

static uint64_t next_random(struct model *m)
{
    /* xorshift64*: reproducible across libcs, unlike rand(). */
    m->rng ^= m->rng >> 12;
    m->rng ^= m->rng << 25;
    m->rng ^= m->rng >> 27;
    return m->rng * 0x2545F4914F6CDD1DULL;
}

static size_t below(struct model *m, size_t n)
{
    return (size_t)(next_random(m) % n);
}

/* A random sub-range [*a, *b) of the watch, often all of it. */
static void random_range(struct model *m, size_t *a, size_t *b)
{
    if (below(m, 3) == 0) {
        *a = 0;
        *b = PAGES;
        return;
    }
    *a = below(m, PAGES);
    *b = *a + 1 + below(m, PAGES - *a);
}

#define CHECK(m, cond, fmt, ...)                                              \
    ck_assert_msg(cond, "seed %lu step %lu: " fmt, (m)->seed, (m)->step,       \
                  ##__VA_ARGS__)

static void op_write(struct model *m)
{
    size_t p = below(m, PAGES), n = below(m, 4) == 0 ? 1 + below(m, 20) : 1;

    for (size_t i = p; i < p + n && i < PAGES; i++) {
        m->mem[i * PAGE + below(m, PAGE)] = (char)m->step;
        m->written[i] = 1;
    }
}

static void op_get(struct model *m)
{
    void *pages[PAGES];
    size_t a, b, cap, count, expect = 0;
    int reset = (int)below(m, 2);

    random_range(m, &a, &b);
    cap = 1 + below(m, b - a + 5);
    count = cap;
    CHECK(m, ww_get(m->t, m->mem + a * PAGE, (b - a) * PAGE,
                    reset ? WW_GET_RESET : 0, pages, &count) == 0,
          "ww_get failed");
    for (size_t p = a; p < b && expect < cap; p++) {
        if (!m->written[p])
            continue;
        CHECK(m, expect < count, "page %zu missing (got %zu)", p, count);
        CHECK(m, pages[expect] == m->mem + p * PAGE, "entry %zu: page %td, expected %zu", expect,
              ((char *)pages[expect] - m->mem) / (ptrdiff_t)PAGE, p);
        if (reset)
            m->written[p] = 0;
        expect++;
    }
    CHECK(m, count == expect, "%zu pages, expected %zu",
          count, expect);
}

static void op_get_ranges(struct model *m)
{
    struct ww_range r[PAGES];
    size_t a, b, cap, count, n = 0;
    int reset = (int)below(m, 2);

    random_range(m, &a, &b);
    cap = 1 + below(m, 8);
    count = cap;
    CHECK(m, ww_get_ranges(m->t, m->mem + a * PAGE, (b - a) * PAGE,
                           reset ? WW_GET_RESET : 0, r, &count) == 0,
          "ww_get_ranges failed");
    for (size_t p = a; p < b && n < cap;) {
        size_t q = p;
        if (!m->written[p]) {
            p++;
            continue;
        }
        while (q < b && m->written[q])
            q++;
        CHECK(m, n < count && r[n].addr == m->mem + p * PAGE &&
                     r[n].len == (q - p) * PAGE,
              "run %zu: expected pages %zu..%zu", n, p,
              q - 1);
        if (reset)
            memset(&m->written[p], 0, q - p);
        n++;
        p = q;
    }
    CHECK(m, count == n, "%zu runs, expected %zu", count, n);
}

static void op_reset_or_mark(struct model *m, int mark)
{
    size_t a, b;
    int r;

    random_range(m, &a, &b);
    r = mark ? ww_mark_written(m->t, m->mem + a * PAGE, (b - a) * PAGE)
             : ww_reset(m->t, m->mem + a * PAGE, (b - a) * PAGE);
    CHECK(m, r == 0, "%s: %s", mark ? "mark" : "reset",
          ww_strerror(r));
    memset(&m->written[a], mark, b - a);
}

static void op_rewatch(struct model *m)
{
    CHECK(m, ww_unwatch(m->t, m->mem, PAGES * PAGE) == 0, "unwatch");
    m->mem[below(m, PAGES) * PAGE] = 1;       /* unwatched: not counted */
    CHECK(m, ww_watch(m->t, m->mem, PAGES * PAGE, 0) == 0, "watch");
    memset(m->written, 0, sizeof(m->written));
}

static void run_seed(unsigned long seed, unsigned long ops)
{
    struct model m = { .seed = seed, .rng = seed * 0x9E3779B97F4A7C15ULL + 1 };

    m.t = test_open();
    m.mem = test_map(PAGES);
    ck_assert_int_eq(ww_watch(m.t, m.mem, PAGES * PAGE, 0), 0);
    for (m.step = 0; m.step < ops; m.step++) {
        size_t op = below(&m, 100);
        if (op < 45)
            op_write(&m);
        else if (op < 70)
            op_get(&m);
        else if (op < 85)
            op_get_ranges(&m);
        else if (op < 92)
            op_reset_or_mark(&m, 0);
        else if (op < 98)
            op_reset_or_mark(&m, 1);
        else
            op_rewatch(&m);
    }
    ww_tracker_close(m.t);
    munmap_pages(m.mem, PAGES);
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
            ww_backend_name(test_backend), seeds, ops);
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

    add_backend_tcases(s, "model", add_tests, 300);
    return run_suite(s);
}
