/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * test_native.c - the write-watch semantics of the native API, on every
 * backend: what is reported, in which order, and what RESET re-arms.
 * Expectations come from what each test itself wrote.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "helpers.h"

START_TEST(test_open_close)
{
    ww_tracker *t = t_open();

    ck_assert_uint_eq(ww_page_size(), PAGE);
    ck_assert_str_eq(ww_backend_name(ww_tracker_backend(t)),
                     ww_backend_name(t_backend));
    ck_assert_int_eq(ww_tracker_close(t), 0);
    ck_assert_int_eq(ww_tracker_close(NULL), 0);
}
END_TEST

START_TEST(test_fresh_watch_is_clean)
{
    ww_tracker *t = t_open();
    char *mem = t_map(16);
    void *pages[16];
    size_t count = 16;

    memset(mem, 0xab, 16 * PAGE);       /* written before: does not count */
    ck_assert_int_eq(ww_watch(t, mem, 16 * PAGE, 0), 0);
    ck_assert_int_eq(ww_get(t, mem, 16 * PAGE, 0, pages, &count), 0);
    ck_assert_uint_eq(count, 0);
    ww_tracker_close(t);
}
END_TEST

START_TEST(test_one_write_one_page)
{
    ww_tracker *t = t_open();
    char *mem = t_watched(t, 16);
    void *pages[16];
    size_t count = 16, idx[] = { 5 };

    mem[5 * PAGE + 100] = 7;
    ck_assert_int_eq(ww_get(t, mem, 16 * PAGE, 0, pages, &count), 0);
    t_assert_pages(pages, count, mem, idx, 1);
    ck_assert_int_eq(mem[5 * PAGE + 100], 7);
    ww_tracker_close(t);
}
END_TEST

START_TEST(test_ascending_order)
{
    ww_tracker *t = t_open();
    char *mem = t_watched(t, 64);
    size_t written[] = { 40, 3, 63, 0, 17 }, sorted[] = { 0, 3, 17, 40, 63 };
    void *pages[64];
    size_t count = 64;

    t_write_pages(mem, written, 5);
    ck_assert_int_eq(ww_get(t, mem, 64 * PAGE, 0, pages, &count), 0);
    t_assert_pages(pages, count, mem, sorted, 5);
    /* Without RESET the report does not change. */
    count = 64;
    ck_assert_int_eq(ww_get(t, mem, 64 * PAGE, 0, pages, &count), 0);
    t_assert_pages(pages, count, mem, sorted, 5);
    ww_tracker_close(t);
}
END_TEST

START_TEST(test_subrange_query)
{
    ww_tracker *t = t_open();
    char *mem = t_watched(t, 32);
    size_t written[] = { 1, 8, 9, 20, 31 }, expect[] = { 8, 9, 20 };
    void *pages[32];
    size_t count = 32;

    t_write_pages(mem, written, 5);
    /* Pages 8..20 only. */
    ck_assert_int_eq(ww_get(t, mem + 8 * PAGE, 13 * PAGE, WW_GET_RESET,
                            pages, &count), 0);
    t_assert_pages(pages, count, mem, expect, 3);
    /* The reset touched only the queried sub-range. */
    count = 32;
    ck_assert_int_eq(ww_get(t, mem, 32 * PAGE, 0, pages, &count), 0);
    {
        size_t rest[] = { 1, 31 };
        t_assert_pages(pages, count, mem, rest, 2);
    }
    ww_tracker_close(t);
}
END_TEST

START_TEST(test_reset_only_returned_pages)
{
    ww_tracker *t = t_open();
    char *mem = t_watched(t, 16);
    size_t written[] = { 2, 4, 6, 8, 10 };
    void *pages[16];
    size_t count = 2;

    t_write_pages(mem, written, 5);
    ck_assert_int_eq(ww_get(t, mem, 16 * PAGE, WW_GET_RESET, pages, &count),
                     0);
    t_assert_pages(pages, count, mem, written, 2);
    /* Pages 6, 8, 10 were not returned, so they must still be written. */
    count = 16;
    ck_assert_int_eq(ww_get(t, mem, 16 * PAGE, WW_GET_RESET, pages, &count),
                     0);
    t_assert_pages(pages, count, mem, written + 2, 3);
    count = 16;
    ck_assert_int_eq(ww_get(t, mem, 16 * PAGE, 0, pages, &count), 0);
    ck_assert_uint_eq(count, 0);
    ww_tracker_close(t);
}
END_TEST

START_TEST(test_reset_subrange)
{
    ww_tracker *t = t_open();
    char *mem = t_watched(t, 16);
    size_t written[] = { 0, 5, 6, 15 }, expect[] = { 0, 15 };
    void *pages[16];
    size_t count = 16;

    t_write_pages(mem, written, 4);
    ck_assert_int_eq(ww_reset(t, mem + 4 * PAGE, 4 * PAGE), 0);
    ck_assert_int_eq(ww_get(t, mem, 16 * PAGE, 0, pages, &count), 0);
    t_assert_pages(pages, count, mem, expect, 2);
    /* Re-armed pages report again when written again. */
    mem[6 * PAGE] = 1;
    count = 16;
    ck_assert_int_eq(ww_get(t, mem, 16 * PAGE, 0, pages, &count), 0);
    {
        size_t again[] = { 0, 6, 15 };
        t_assert_pages(pages, count, mem, again, 3);
    }
    ww_tracker_close(t);
}
END_TEST

START_TEST(test_straddling_write)
{
    ww_tracker *t = t_open();
    char *mem = t_watched(t, 8);
    size_t expect[] = { 2, 3 };
    void *pages[8];
    size_t count = 8;
    char buf[64];

    memset(buf, 0x5a, sizeof(buf));
    memcpy(mem + 3 * PAGE - 32, buf, sizeof(buf));
    ck_assert_int_eq(ww_get(t, mem, 8 * PAGE, 0, pages, &count), 0);
    t_assert_pages(pages, count, mem, expect, 2);
    ww_tracker_close(t);
}
END_TEST

/* More than 512 regions (the kernel's bounce buffer) and more than the
 * library's 256-region chunk in one query. */
START_TEST(test_alternating_2048)
{
    enum { N = 2048 };
    ww_tracker *t = t_open();
    char *mem = t_watched(t, N);
    void **pages = calloc(N, sizeof(*pages));
    size_t count = N;

    for (size_t i = 0; i < N; i += 2)
        mem[i * PAGE] = 1;
    ck_assert_int_eq(ww_get(t, mem, N * PAGE, WW_GET_RESET, pages, &count), 0);
    ck_assert_uint_eq(count, N / 2);
    for (size_t i = 0; i < N / 2; i++)
        ck_assert_ptr_eq(pages[i], mem + 2 * i * PAGE);
    count = N;
    ck_assert_int_eq(ww_get(t, mem, N * PAGE, 0, pages, &count), 0);
    ck_assert_uint_eq(count, 0);
    free(pages);
    ww_tracker_close(t);
}
END_TEST

/* A count that ends in the middle of the dirty set, then the rest. */
START_TEST(test_count_limit_resumes)
{
    enum { N = 2048 };
    ww_tracker *t = t_open();
    char *mem = t_watched(t, N);
    void **pages = calloc(N, sizeof(*pages));
    size_t count = 300;

    for (size_t i = 0; i < N; i += 2)
        mem[i * PAGE] = 1;
    ck_assert_int_eq(ww_get(t, mem, N * PAGE, WW_GET_RESET, pages, &count), 0);
    ck_assert_uint_eq(count, 300);
    ck_assert_ptr_eq(pages[299], mem + 598 * PAGE);
    count = N;
    ck_assert_int_eq(ww_get(t, mem, N * PAGE, WW_GET_RESET, pages, &count), 0);
    ck_assert_uint_eq(count, N / 2 - 300);
    ck_assert_ptr_eq(pages[0], mem + 600 * PAGE);
    ck_assert_ptr_eq(pages[count - 1], mem + (N - 2) * PAGE);
    free(pages);
    ww_tracker_close(t);
}
END_TEST

START_TEST(test_repeated_rounds)
{
    enum { N = 64, ROUNDS = 200 };
    ww_tracker *t = t_open();
    char *mem = t_watched(t, N);
    void *pages[N];

    srand(12345);
    for (int round = 0; round < ROUNDS; round++) {
        unsigned char want[N] = { 0 };
        size_t count = N, n_want = 0;

        for (int k = 0; k < 5; k++) {
            size_t p = (size_t)rand() % N;
            mem[p * PAGE + (size_t)k] = (char)round;
            want[p] = 1;
        }
        ck_assert_int_eq(ww_get(t, mem, N * PAGE, WW_GET_RESET, pages,
                                &count), 0);
        for (size_t p = 0; p < N; p++)
            n_want += want[p];
        ck_assert_uint_eq(count, n_want);
        for (size_t i = 0; i < count; i++) {
            size_t p = (size_t)((char *)pages[i] - mem) / PAGE;
            ck_assert_msg(want[p], "round %d: page %zu not written", round, p);
        }
    }
    ww_tracker_close(t);
}
END_TEST

START_TEST(test_ranges_variant)
{
    ww_tracker *t = t_open();
    char *mem = t_watched(t, 64);
    struct ww_range r[64];
    size_t count = 64;

    memset(mem + 10 * PAGE, 1, 5 * PAGE);   /* run 10..14 */
    mem[20 * PAGE] = 1;                     /* run 20 */
    memset(mem + 30 * PAGE, 1, 3 * PAGE);   /* run 30..32 */
    ck_assert_int_eq(ww_get_ranges(t, mem, 64 * PAGE, 0, r, &count), 0);
    ck_assert_uint_eq(count, 3);
    ck_assert_ptr_eq(r[0].addr, mem + 10 * PAGE);
    ck_assert_uint_eq(r[0].len, 5 * PAGE);
    ck_assert_ptr_eq(r[1].addr, mem + 20 * PAGE);
    ck_assert_uint_eq(r[1].len, PAGE);
    ck_assert_ptr_eq(r[2].addr, mem + 30 * PAGE);
    ck_assert_uint_eq(r[2].len, 3 * PAGE);
    /* A capacity of 2 runs returns and resets exactly the first two. */
    count = 2;
    ck_assert_int_eq(ww_get_ranges(t, mem, 64 * PAGE, WW_GET_RESET, r,
                                   &count), 0);
    ck_assert_uint_eq(count, 2);
    ck_assert_ptr_eq(r[1].addr, mem + 20 * PAGE);
    count = 64;
    ck_assert_int_eq(ww_get_ranges(t, mem, 64 * PAGE, 0, r, &count), 0);
    ck_assert_uint_eq(count, 1);
    ck_assert_ptr_eq(r[0].addr, mem + 30 * PAGE);
    ck_assert_uint_eq(r[0].len, 3 * PAGE);
    ww_tracker_close(t);
}
END_TEST

/* 1500 one-page runs: more than one chunk of runs per query. */
START_TEST(test_ranges_many_runs)
{
    enum { N = 3000 };
    ww_tracker *t = t_open();
    char *mem = t_watched(t, N);
    struct ww_range *r = calloc(N, sizeof(*r));
    size_t count = N;

    for (size_t i = 1; i < N; i += 2)
        mem[i * PAGE] = 1;
    ck_assert_int_eq(ww_get_ranges(t, mem, N * PAGE, WW_GET_RESET, r, &count),
                     0);
    ck_assert_uint_eq(count, N / 2);
    for (size_t i = 0; i < count; i++) {
        ck_assert_ptr_eq(r[i].addr, mem + (2 * i + 1) * PAGE);
        ck_assert_uint_eq(r[i].len, PAGE);
    }
    ck_assert_uint_eq(t_count_written(t, mem, N), 0);
    free(r);
    ww_tracker_close(t);
}
END_TEST

START_TEST(test_mark_written)
{
    ww_tracker *t = t_open();
    char *mem = t_watched(t, 8);
    size_t expect[] = { 2, 3, 4 };
    void *pages[8];
    size_t count = 8;

    ck_assert_int_eq(ww_mark_written(t, mem + 2 * PAGE, 3 * PAGE), 0);
    ck_assert_int_eq(ww_get(t, mem, 8 * PAGE, WW_GET_RESET, pages, &count), 0);
    t_assert_pages(pages, count, mem, expect, 3);
    ck_assert_uint_eq(t_count_written(t, mem, 8), 0);
    ww_tracker_close(t);
}
END_TEST

START_TEST(test_two_trackers_two_watches)
{
    ww_tracker *a = t_open(), *b = t_open();
    char *m1 = t_map(8), *m2 = t_map(8), *m3 = t_map(8);
    size_t one[] = { 1 }, two[] = { 2 }, three[] = { 3 };
    void *pages[8];
    size_t count;

    ck_assert_int_eq(ww_watch(a, m1, 8 * PAGE, 0), 0);
    ck_assert_int_eq(ww_watch(a, m2, 8 * PAGE, 0), 0);
    ck_assert_int_eq(ww_watch(b, m3, 8 * PAGE, 0), 0);
    t_write_pages(m1, one, 1);
    t_write_pages(m2, two, 1);
    t_write_pages(m3, three, 1);
    count = 8;
    ck_assert_int_eq(ww_get(a, m1, 8 * PAGE, WW_GET_RESET, pages, &count), 0);
    t_assert_pages(pages, count, m1, one, 1);
    count = 8;
    ck_assert_int_eq(ww_get(a, m2, 8 * PAGE, 0, pages, &count), 0);
    t_assert_pages(pages, count, m2, two, 1);
    count = 8;
    ck_assert_int_eq(ww_get(b, m3, 8 * PAGE, 0, pages, &count), 0);
    t_assert_pages(pages, count, m3, three, 1);
    /* A tracker does not answer for another's watch. */
    count = 8;
    ck_assert_int_eq(ww_get(b, m1, 8 * PAGE, 0, pages, &count), -ENOENT);
    /* Closing one tracker leaves the other working. */
    ww_tracker_close(a);
    t_write_pages(m3, one, 1);
    count = 8;
    ck_assert_int_eq(ww_get(b, m3, 8 * PAGE, 0, pages, &count), 0);
    {
        size_t both[] = { 1, 3 };
        t_assert_pages(pages, count, m3, both, 2);
    }
    ww_tracker_close(b);
}
END_TEST

START_TEST(test_unwatch_and_rewatch)
{
    ww_tracker *t = t_open();
    char *mem = t_watched(t, 8);

    mem[0] = 1;
    ck_assert_int_eq(ww_unwatch(t, mem, 8 * PAGE), 0);
    mem[PAGE] = 1;          /* plain memory again: must not fault */
    ck_assert_int_eq(ww_watch(t, mem, 8 * PAGE, 0), 0);
    ck_assert_uint_eq(t_count_written(t, mem, 8), 0);
    mem[7 * PAGE] = 1;
    ck_assert_uint_eq(t_count_written(t, mem, 8), 1);
    ww_tracker_close(t);
    mem[2 * PAGE] = 1;      /* after close too */
}
END_TEST

START_TEST(test_alloc_free)
{
    ww_tracker *t = t_open();
    void *p = NULL;
    void *pages[4];
    size_t count = 4;

    ck_assert_int_eq(ww_alloc(t, 4 * PAGE, 0, &p), 0);
    ck_assert_ptr_nonnull(p);
    ck_assert_uint_eq(t_count_written(t, p, 4), 0);
    ((char *)p)[3 * PAGE] = 1;
    ck_assert_int_eq(ww_get(t, p, 4 * PAGE, 0, pages, &count), 0);
    ck_assert_uint_eq(count, 1);
    ck_assert_ptr_eq(pages[0], (char *)p + 3 * PAGE);
    ck_assert_int_eq(ww_free(t, p, 4 * PAGE), 0);
    ck_assert_int_eq(ww_free(t, p, 4 * PAGE), -ENOENT);
    ww_tracker_close(t);
}
END_TEST

/* The output array lies in the watched range it reports on. */
START_TEST(test_output_in_watched_memory)
{
    ww_tracker *t = t_open();
    char *mem = t_map(16);
    void **pages = (void **)(mem + 8 * PAGE);
    size_t count = 8, expect[] = { 8 };

    ck_assert_int_eq(ww_watch(t, mem, 16 * PAGE, 0), 0);
    mem[PAGE] = 1;
    ck_assert_int_eq(ww_get(t, mem, 16 * PAGE, WW_GET_RESET, pages, &count),
                     0);
    ck_assert_uint_eq(count, 1);
    ck_assert_ptr_eq(pages[0], mem + PAGE);
    /* Page 1 was reset; storing the result wrote page 8, and the next
     * query must say so. */
    {
        void *again[16];
        size_t n = 16;
        ck_assert_int_eq(ww_get(t, mem, 16 * PAGE, 0, again, &n), 0);
        t_assert_pages(again, n, mem, expect, 1);
    }
    ww_tracker_close(t);
}
END_TEST

/* WW_WATCH_SPARSE: pages PROT_NONE at watch time are dormant (never
 * reported) until ww_protect() gives them access, which arms them clean,
 * or ww_mark_written() marks them; accessible pages are watched from the
 * start; PROT_NONE again keeps a page watched (test_sparse_dormant_raw_mprotect:
 * access given with mprotect(2)). */
START_TEST(test_sparse_watch)
{
    ww_tracker *t = t_open();
    char *mem = t_map(16);
    size_t five[] = { 5 }, five_twelve[] = { 5, 12 }, one_five[] = { 1, 5 };
    size_t one_five_nine[] = { 1, 5, 9 };

    ck_assert_int_eq(mprotect(mem, 16 * PAGE, PROT_NONE), 0);
    ck_assert_int_eq(mprotect(mem + 4 * PAGE, 4 * PAGE,
                              PROT_READ | PROT_WRITE), 0);
    ck_assert_int_eq(ww_watch(t, mem, 16 * PAGE, WW_WATCH_SPARSE), 0);
    t_assert_written_pages(t, mem, 16, NULL, 0);
    mem[5 * PAGE] = 1;
    t_assert_written_pages(t, mem, 16, five, 1);
    /* Dormant pages: a reset changes nothing, a mark makes them watched
     * and written. */
    ck_assert_int_eq(ww_reset(t, mem + 12 * PAGE, 2 * PAGE), 0);
    t_assert_written_pages(t, mem, 16, five, 1);
    ck_assert_int_eq(ww_mark_written(t, mem + 12 * PAGE, PAGE), 0);
    t_assert_written_pages(t, mem, 16, five_twelve, 2);
    ck_assert_int_eq(ww_reset(t, mem + 12 * PAGE, PAGE), 0);
    t_assert_written_pages(t, mem, 16, five, 1);
    /* Access given through ww_protect: watched, clean, from then on. */
    ck_assert_int_eq(ww_protect(t, mem, 4 * PAGE, PROT_READ | PROT_WRITE), 0);
    t_assert_written_pages(t, mem, 16, five, 1);
    ck_assert_int_eq(mem[2 * PAGE], 0);
    t_assert_written_pages(t, mem, 16, five, 1);
    mem[PAGE] = 1;
    t_assert_written_pages(t, mem, 16, one_five, 2);
    /* Back to PROT_NONE: still watched, the write state kept. */
    ck_assert_int_eq(ww_protect(t, mem, 8 * PAGE, PROT_NONE), 0);
    t_assert_written_pages(t, mem, 16, one_five, 2);
    ck_assert_int_eq(ww_protect(t, mem, 8 * PAGE, PROT_READ | PROT_WRITE), 0);
    t_assert_written_pages(t, mem, 16, one_five, 2);
    /* Over dormant and active pages at once, and partly overlapping. */
    ck_assert_int_eq(ww_protect(t, mem + 6 * PAGE, 6 * PAGE,
                                PROT_READ | PROT_WRITE), 0);
    mem[9 * PAGE] = 1;
    t_assert_written_pages(t, mem, 16, one_five_nine, 3);
    ck_assert_uint_eq(t_count_written_reset(t, mem, 16), 3);
    t_assert_written_pages(t, mem, 16, NULL, 0);
    ck_assert_int_eq(ww_unwatch(t, mem, 16 * PAGE), 0);
    ww_tracker_close(t);
}
END_TEST

/* A big sparse PROT_NONE reservation costs nothing to watch or query:
 * 64 GiB (a 32-bit process gets 64 MiB), 1 MiB of it given access. */
START_TEST(test_sparse_reservation)
{
    ww_tracker *t = t_open();
    size_t len = sizeof(void *) >= 8 ? (size_t)64 << 30 : (size_t)64 << 20;
    char *mem = mmap(NULL, len, PROT_NONE,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    char *mid = mem + len / 2;
    size_t n = (size_t)(1 << 20) / PAGE, idx[] = { 0, 3, 0 };
    void *pages[4];
    size_t count = 4;

    idx[2] = n - 1;
    ck_assert_ptr_ne(mem, MAP_FAILED);
    ck_assert_int_eq(ww_watch(t, mem, len, WW_WATCH_SPARSE), 0);
    ck_assert_int_eq(ww_protect(t, mid, n * PAGE, PROT_READ | PROT_WRITE), 0);
    t_write_pages(mid, idx, 3);
    ck_assert_int_eq(ww_get(t, mem, len, WW_GET_RESET, pages, &count), 0);
    t_assert_pages(pages, count, mid, idx, 3);
    count = 4;
    ck_assert_int_eq(ww_get(t, mem, len, 0, pages, &count), 0);
    ck_assert_uint_eq(count, 0);
    ck_assert_int_eq(ww_unwatch(t, mem, len), 0);
    munmap(mem, len);
    ww_tracker_close(t);
}
END_TEST

/* A sparse watch whose dormant pages are unmapped, or replaced by a
 * mapping that is written, is stale as any watch (ww_get: ESTALE, "its
 * writes ... are never reported as clean"), though its queries scan
 * only active pages. */
START_TEST(test_sparse_dormant_replaced)
{
    static const char *what[] = { "mmap(MAP_FIXED) read-write", "munmap" };

    for (int v = 0; v < 2; v++) {
        ww_tracker *t = t_open();
        char *mem = t_map(16);
        void *pages[16];
        size_t count = 16;
        int r;

        ck_assert_int_eq(mprotect(mem, 16 * PAGE, PROT_NONE), 0);
        ck_assert_int_eq(ww_watch(t, mem, 16 * PAGE, WW_WATCH_SPARSE), 0);
        ck_assert_int_eq(ww_protect(t, mem, 2 * PAGE,
                                    PROT_READ | PROT_WRITE), 0);
        mem[0] = 1;
        if (v == 0) {
            ck_assert_ptr_eq(mmap(mem + 8 * PAGE, 4 * PAGE,
                                  PROT_READ | PROT_WRITE,
                                  MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED,
                                  -1, 0), mem + 8 * PAGE);
            mem[9 * PAGE] = 1;
        } else {
            ck_assert_int_eq(munmap(mem + 8 * PAGE, 4 * PAGE), 0);
        }
        r = ww_get(t, mem, 16 * PAGE, 0, pages, &count);
        ck_assert_msg(r == -ESTALE, "%s over dormant pages 8-11: ww_get "
                      "returned %d (%zu pages), not -ESTALE", what[v], r,
                      r == 0 ? count : 0);
        r = ww_reset(t, mem, 16 * PAGE);
        ck_assert_msg(r == -ESTALE, "%s: ww_reset returned %d", what[v], r);
        ck_assert_int_eq(ww_unwatch(t, mem, 16 * PAGE), 0);
        munmap(mem, 16 * PAGE);
        ww_tracker_close(t);
    }
}
END_TEST

/* A dormant page given access with mprotect(2), around ww_protect, and
 * written: the write is not tracked, but it is not lost either: a query
 * covering the page fails with ESTALE (ww_watch.3), never reports it
 * clean. */
START_TEST(test_sparse_dormant_raw_mprotect)
{
    ww_tracker *t = t_open();
    char *mem = t_map(16);
    void *pages[16];
    size_t count = 16;
    int r;

    /* Pages written before they were made PROT_NONE and watched are
     * dormant like the others: clean, and no reason to fail. */
    mem[9 * PAGE] = 1;
    mem[13 * PAGE] = 1;
    ck_assert_int_eq(mprotect(mem, 16 * PAGE, PROT_NONE), 0);
    ck_assert_int_eq(ww_watch(t, mem, 16 * PAGE, WW_WATCH_SPARSE), 0);
    r = ww_get(t, mem, 16 * PAGE, 0, pages, &count);
    ck_assert_msg(r == 0 && count == 0, "sparse watch over PROT_NONE pages "
                  "written before: ww_get returned %d (%zu pages), not 0 "
                  "pages", r, r == 0 ? count : 0);
    ck_assert_int_eq(ww_protect(t, mem, 2 * PAGE, PROT_READ | PROT_WRITE), 0);
    mem[PAGE] = 1;
    ck_assert_int_eq(mprotect(mem + 12 * PAGE, 2 * PAGE,
                              PROT_READ | PROT_WRITE), 0);
    mem[13 * PAGE] = 2;
    /* A query that does not cover the page still works. */
    count = 16;
    ck_assert_int_eq(ww_get(t, mem, 4 * PAGE, 0, pages, &count), 0);
    ck_assert_uint_eq(count, 1);
    count = 16;
    r = ww_get(t, mem, 16 * PAGE, 0, pages, &count);
    ck_assert_msg(r == -ESTALE, "dormant page 13 made writable with "
                  "mprotect(2) and written: ww_get returned %d (%zu pages), "
                  "not -ESTALE", r, r == 0 ? count : 0);
    ck_assert_int_eq(ww_unwatch(t, mem, 16 * PAGE), 0);
    ww_tracker_close(t);
}
END_TEST

static void add_tests(TCase *tc, enum ww_backend backend)
{
    (void)backend;      /* every test applies to every backend */
    tcase_add_test(tc, test_open_close);
    tcase_add_test(tc, test_fresh_watch_is_clean);
    tcase_add_test(tc, test_one_write_one_page);
    tcase_add_test(tc, test_ascending_order);
    tcase_add_test(tc, test_subrange_query);
    tcase_add_test(tc, test_reset_only_returned_pages);
    tcase_add_test(tc, test_reset_subrange);
    tcase_add_test(tc, test_straddling_write);
    tcase_add_test(tc, test_alternating_2048);
    tcase_add_test(tc, test_count_limit_resumes);
    tcase_add_test(tc, test_repeated_rounds);
    tcase_add_test(tc, test_ranges_variant);
    tcase_add_test(tc, test_ranges_many_runs);
    tcase_add_test(tc, test_mark_written);
    tcase_add_test(tc, test_two_trackers_two_watches);
    tcase_add_test(tc, test_unwatch_and_rewatch);
    tcase_add_test(tc, test_alloc_free);
    tcase_add_test(tc, test_output_in_watched_memory);
    tcase_add_test(tc, test_sparse_watch);
    tcase_add_test(tc, test_sparse_reservation);
    tcase_add_test(tc, test_sparse_dormant_replaced);
    tcase_add_test(tc, test_sparse_dormant_raw_mprotect);
}

int main(void)
{
    Suite *s = suite_create("native");

    t_add_backend_tcases(s, "native", add_tests, 60);
    return t_run_suite(s);
}
