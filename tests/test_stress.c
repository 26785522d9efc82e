/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * test_stress.c - no write is lost under concurrency, on every backend.
 *
 * Writer threads store increasing counter values into random pages of one
 * watch; one thread keeps calling get+RESET (random counts, random
 * sub-ranges, pages or ranges) and copies each reported page into a
 * shadow.  A write that is in no report leaves the shadow behind memory,
 * so after the writers stop and a final get, shadow == memory page for
 * page.  Duplicate reports are allowed; a lost page is not.  A second run
 * adds a thread that keeps changing the protection of random sub-ranges
 * to read-write (ww_protect: on mprotect it takes write access away from
 * the whole range and gives it back to the written pages) under the
 * writers' feet.
 *
 * WW_STRESS_PERCENT scales the run (default 100: 100 000 writes per writer
 * and 6 000 rounds at least): larger for soak runs, smaller under
 * ThreadSanitizer (make tsan).
 */
#include "config.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "helpers.h"

/* Writers go on until both bounds are met, and everybody yields now and
 * then: a round takes microseconds, far less than a scheduler time slice,
 * and with more threads than CPUs (2 here) the writers would otherwise
 * run mostly before or after the getter, not during. */
enum {
    N_PAGES = 512,
    N_WRITERS = 3,
    MIN_WRITES_PER_WRITER = 100000,
    MIN_ROUNDS = 6000,
    WRITES_PER_YIELD = 64,
};

/* n scaled by WW_STRESS_PERCENT, at least 1. */
static unsigned long scaled(unsigned long n)
{
    const char *v = getenv("WW_STRESS_PERCENT");
    unsigned long percent = v && *v ? strtoul(v, NULL, 10) : 100;
    unsigned long r = n * percent / 100;

    return r ? r : 1;
}

struct stress {
    ww_tracker *t;
    char *mem;
    char *shadow;
    atomic_ulong counter;
    atomic_int writers_done;
    atomic_ulong rounds;
    unsigned long reported;
    atomic_ulong protects, protect_errors;
};

struct writer_arg {
    struct stress *s;
    unsigned id;
};

/* A small private generator per thread (rand() is shared and locked). */
static unsigned next_random(unsigned *state)
{
    *state ^= *state << 13;
    *state ^= *state >> 17;
    *state ^= *state << 5;
    return *state;
}

static void *writer(void *p)
{
    struct writer_arg *a = p;
    unsigned rng = 0x9e3779b9u * (a->id + 1);
    unsigned long writes = scaled(MIN_WRITES_PER_WRITER);
    unsigned long rounds = scaled(MIN_ROUNDS);

    for (unsigned long k = 0; k < writes ||
                               atomic_load(&a->s->rounds) < rounds; k++) {
        size_t page = next_random(&rng) % N_PAGES;
        unsigned long v = atomic_fetch_add(&a->s->counter, 1) + 1;
        /* Each writer has its own slot in the page, so stores never race
         * with each other, only with the getter's copies. */
        unsigned long *slot = (unsigned long *)(a->s->mem + page * PAGE) + a->id;

        __atomic_store_n(slot, v, __ATOMIC_RELAXED);
        if (k % WRITES_PER_YIELD == 0)
            sched_yield();
    }
    atomic_fetch_add(&a->s->writers_done, 1);
    return NULL;
}

/* Word by word with atomic loads: writers keep storing while we copy
 * (a plain memcpy is a data race, and ThreadSanitizer says so). */
static void copy_to_shadow(struct stress *s, const char *page, size_t len)
{
    const unsigned long *from = (const unsigned long *)page;
    unsigned long *to = (unsigned long *)(s->shadow + (page - s->mem));

    for (size_t i = 0; i < len / sizeof(*from); i++)
        to[i] = __atomic_load_n(&from[i], __ATOMIC_RELAXED);
}

/* One get+RESET on a random sub-range with a random count. */
static void one_round(struct stress *s, unsigned *rng, void **pages,
                     struct ww_range *ranges)
{
    size_t first = next_random(rng) % N_PAGES;
    size_t n = 1 + next_random(rng) % (N_PAGES - first);
    size_t count = 1 + next_random(rng) % N_PAGES;
    char *base = s->mem + first * PAGE;
    int r;

    if (next_random(rng) % 4 == 0) {        /* whole range, full count */
        base = s->mem;
        n = count = N_PAGES;
    }
    if (next_random(rng) % 2) {
        r = ww_get(s->t, base, n * PAGE, WW_GET_RESET, pages, &count);
        ck_assert_msg(r == 0, "ww_get: %s", ww_strerror(r));
        for (size_t i = 0; i < count; i++)
            copy_to_shadow(s, pages[i], PAGE);
        s->reported += count;
    } else {
        r = ww_get_ranges(s->t, base, n * PAGE, WW_GET_RESET, ranges, &count);
        ck_assert_msg(r == 0, "ww_get_ranges: %s", ww_strerror(r));
        for (size_t i = 0; i < count; i++) {
            copy_to_shadow(s, ranges[i].addr, ranges[i].len);
            s->reported += ranges[i].len / PAGE;
        }
    }
    atomic_fetch_add(&s->rounds, 1);
}

/* ww_protect(read-write) on random sub-ranges until the writers are done:
 * the pages stay writable for them, but their write access comes and
 * goes on the mprotect backend. */
static void *protector(void *p)
{
    struct stress *s = p;
    unsigned rng = 777;

    while (atomic_load(&s->writers_done) < N_WRITERS) {
        size_t first = next_random(&rng) % N_PAGES;
        size_t n = 1 + next_random(&rng) % (N_PAGES - first);

        if (ww_protect(s->t, s->mem + first * PAGE, n * PAGE,
                       PROT_READ | PROT_WRITE) != 0)
            atomic_fetch_add(&s->protect_errors, 1);
        atomic_fetch_add(&s->protects, 1);
        sched_yield();
    }
    return NULL;
}

static void run_stress(int with_protector)
{
    struct stress s = { 0 };
    struct writer_arg args[N_WRITERS];
    pthread_t th[N_WRITERS], prot_th;
    void **pages = calloc(N_PAGES, sizeof(*pages));
    struct ww_range *ranges = calloc(N_PAGES, sizeof(*ranges));
    unsigned rng = 12345;
    size_t lost = 0;

    ck_assert_ptr_nonnull(pages);
    ck_assert_ptr_nonnull(ranges);
    s.t = t_open();
    s.mem = t_map(N_PAGES);
    s.shadow = calloc(N_PAGES, PAGE);
    ck_assert_ptr_nonnull(s.shadow);
    ck_assert_int_eq(ww_watch(s.t, s.mem, N_PAGES * PAGE, 0), 0);

    for (unsigned i = 0; i < N_WRITERS; i++) {
        args[i].s = &s;
        args[i].id = i;
        ck_assert_int_eq(pthread_create(&th[i], NULL, writer, &args[i]), 0);
    }
    if (with_protector)
        ck_assert_int_eq(pthread_create(&prot_th, NULL, protector, &s), 0);
    /* The getter: this thread, while the writers run. */
    while (atomic_load(&s.writers_done) < N_WRITERS) {
        one_round(&s, &rng, pages, ranges);
        sched_yield();
    }
    for (unsigned i = 0; i < N_WRITERS; i++)
        pthread_join(th[i], NULL);
    if (with_protector)
        pthread_join(prot_th, NULL);
    /* Final: the whole watch until nothing is left. */
    for (;;) {
        size_t count = N_PAGES;

        ck_assert_int_eq(ww_get(s.t, s.mem, N_PAGES * PAGE, WW_GET_RESET,
                                pages, &count), 0);
        for (size_t i = 0; i < count; i++)
            copy_to_shadow(&s, pages[i], PAGE);
        if (count == 0)
            break;
    }
    for (size_t p = 0; p < N_PAGES; p++)
        lost += memcmp(s.mem + p * PAGE, s.shadow + p * PAGE, PAGE) != 0;
    printf("stress[%s]: writers=%d writes=%lu rounds=%lu protects=%lu "
           "pages_reported=%lu lost=%zu\n", ww_backend_name(t_backend),
           N_WRITERS, (unsigned long)atomic_load(&s.counter),
           (unsigned long)atomic_load(&s.rounds),
           (unsigned long)atomic_load(&s.protects), s.reported, lost);
    fflush(stdout);
    ck_assert_uint_eq(lost, 0);
    ck_assert_uint_eq(atomic_load(&s.protect_errors), 0);
    ww_tracker_close(s.t);
    free(s.shadow);
    free(pages);
    free(ranges);
}

START_TEST(test_no_lost_write_under_concurrency)
{
    run_stress(0);
}
END_TEST

START_TEST(test_no_lost_write_under_protect)
{
    run_stress(1);
}
END_TEST

static void add_tests(TCase *tc, enum ww_backend backend)
{
    (void)backend;      /* each test applies to both backends */
    tcase_add_test(tc, test_no_lost_write_under_concurrency);
    tcase_add_test(tc, test_no_lost_write_under_protect);
}

int main(void)
{
    Suite *s = suite_create("stress");

    t_add_backend_tcases(s, "stress", add_tests, 300);
    return t_run_slow_suite(s);
}
