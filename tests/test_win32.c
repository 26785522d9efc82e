/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * test_win32.c - the write-watch semantics of the Win32 layer, on every
 * backend, at Win32 level (GetWriteWatch/ResetWriteWatch) and NT level
 * (NtGetWriteWatch/NtResetWriteWatch): what is reported, in which order,
 * what RESET re-arms, and how protection changes and decommit interact
 * with the write state.  The sequences follow Windows' behaviour as
 * Wine's conformance test (kernel32 virtual.c, test_write_watch) records
 * it; expectations come from what each test wrote.
 */
#include "config.h"

#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "win32_helpers.h"

#define SUITE "win32"

static void setup(void)
{
    t_win32_setup();
}

START_TEST(test_fresh_allocation_is_clean)
{
    char *base = t_alloc_watched(16);
    void *out[16];
    ULONG_PTR count = 16;
    ULONG granularity = 0;

    memset(base, 0, 16 * PAGE);         /* committed pages start zeroed */
    ck_assert_uint_eq(ww_ResetWriteWatch(base, 16 * PAGE), 0);
    ck_assert_uint_eq(t_get_watch(0, base, 16 * PAGE, out, 16), 0);
    ck_assert_int_eq(ww_NtGetWriteWatch(NtCurrentProcess(), 0, base,
                                        16 * PAGE, out, &count, &granularity),
                     STATUS_SUCCESS);
    ck_assert_uint_eq(count, 0);
    ck_assert_uint_eq(granularity, PAGE);
}
END_TEST

/* Wine's first sequence: one write, reported until a RESET query. */
START_TEST(test_write_reported_until_reset)
{
    char *base = t_alloc_watched(16);
    void *out[16];
    size_t one[] = { 1 };

    base[PAGE + 1] = 0x44;
    t_assert_written(base, 16, one, 1);
    ck_assert_uint_eq(t_get_watch(WRITE_WATCH_FLAG_RESET, base, 16 * PAGE, out,
                                16), 1);
    ck_assert_ptr_eq(out[0], base + PAGE);
    t_assert_written(base, 16, NULL, 0);
}
END_TEST

START_TEST(test_order_subrange_and_reset_subrange)
{
    char *base = t_alloc_watched(16);
    void *out[16];
    size_t two_four[] = { 2, 4 }, four[] = { 4 }, three[] = { 1, 2, 4 };

    base[4 * PAGE + 8] = 0x11;          /* out of order on purpose */
    base[2 * PAGE + 3] = 0x11;
    t_assert_written(base, 16, two_four, 2);
    /* [3, 5): page 4 only. */
    ck_assert_uint_eq(t_get_watch(0, base + 3 * PAGE, 2 * PAGE, out, 16), 1);
    ck_assert_ptr_eq(out[0], base + 4 * PAGE);
    /* Reset [0, 3): page 2 goes, page 4 stays. */
    ck_assert_uint_eq(ww_ResetWriteWatch(base, 3 * PAGE), 0);
    t_assert_written(base, 16, four, 1);
    /* A write straddling pages 1 and 2 marks both. */
    memcpy(base + 2 * PAGE - 2, "\xef\xbe\xad\xde", 4);
    t_assert_written(base, 16, three, 3);
}
END_TEST

/* RESET with a count below the written set re-arms the pages returned
 * and only those, at both levels. */
START_TEST(test_reset_only_returned_pages)
{
    char *base = t_alloc_watched(16);
    void *out[16];
    size_t written[] = { 1, 2, 4, 9 };
    ULONG_PTR count = 2;
    ULONG granularity;

    t_write_pages(base, written, 4);
    ck_assert_uint_eq(t_get_watch(WRITE_WATCH_FLAG_RESET, base, 16 * PAGE, out,
                                1), 1);
    ck_assert_ptr_eq(out[0], base + PAGE);
    t_assert_written(base, 16, written + 1, 3);
    ck_assert_int_eq(ww_NtGetWriteWatch(ww_GetCurrentProcess(),
                                        WRITE_WATCH_FLAG_RESET, base,
                                        16 * PAGE, out, &count, &granularity),
                     STATUS_SUCCESS);
    t_assert_pages(out, count, base, written + 1, 2);
    t_assert_written(base, 16, written + 3, 1);
}
END_TEST

/* When nothing is returned the output array is not touched. */
START_TEST(test_empty_result_leaves_array)
{
    char *base = t_alloc_watched(16);
    void *out[4] = { (void *)0xdeadbeef, (void *)0xdeadbeef };
    ULONG_PTR count = 4;
    ULONG granularity;

    ck_assert_uint_eq(t_get_watch(WRITE_WATCH_FLAG_RESET, base, 16 * PAGE, out,
                                4), 0);
    ck_assert_ptr_eq(out[0], (void *)0xdeadbeef);
    ck_assert_int_eq(ww_NtGetWriteWatch(NtCurrentProcess(), 0, base,
                                        16 * PAGE, out, &count, &granularity),
                     STATUS_SUCCESS);
    ck_assert_uint_eq(count, 0);
    ck_assert_ptr_eq(out[0], (void *)0xdeadbeef);
    ck_assert_ptr_eq(out[1], (void *)0xdeadbeef);
}
END_TEST

/* Changing protections does not affect watches (Windows, and the uffd
 * backend's per-PTE state across mprotect). */
START_TEST(test_protection_change_keeps_state)
{
    char *base = t_alloc_watched(16);
    size_t written[] = { 2, 4 };
    DWORD old = 0;

    t_write_pages(base, written, 2);
    ck_assert(ww_VirtualProtect(base, 3 * PAGE, PAGE_READONLY, &old));
    ck_assert_uint_eq(old, PAGE_READWRITE);
    t_assert_written(base, 16, written, 2);
    ck_assert(ww_VirtualProtect(base, 16 * PAGE, PAGE_NOACCESS, &old));
    ck_assert_uint_eq(old, PAGE_READONLY);
    t_assert_written(base, 16, written, 2);
    ck_assert(ww_VirtualProtect(base, 16 * PAGE, PAGE_READWRITE, &old));
    ck_assert_uint_eq(old, PAGE_NOACCESS);
    t_assert_written(base, 16, written, 2);
    /* Writable again, and tracked again. */
    base[7 * PAGE] = 1;
    {
        size_t now[] = { 2, 4, 7 };
        t_assert_written(base, 16, now, 3);
    }
}
END_TEST

/* Writes to read-only and inaccessible watched pages are access
 * violations on every backend, written pages or clean, before and after
 * a RESET; allowed again, a write is reported. */
START_TEST(test_forbidden_write_is_access_violation)
{
    char *base = ww_VirtualAlloc(NULL, 16 * PAGE,
                                 MEM_RESERVE | MEM_WRITE_WATCH, PAGE_NOACCESS);
    size_t zero[] = { 0 }, two[] = { 0, 1 };
    void *out[16];
    DWORD old;

    ck_assert_ptr_nonnull(base);
    ck_assert_ptr_eq(ww_VirtualAlloc(base, 8 * PAGE, MEM_COMMIT,
                                     PAGE_READWRITE), base);
    base[0] = 1;
    ck_assert(ww_VirtualProtect(base, 2 * PAGE, PAGE_READONLY, &old));
    ck_assert(ww_VirtualProtect(base + 2 * PAGE, PAGE, PAGE_NOACCESS, &old));
    ck_assert(ww_VirtualProtect(base + 3 * PAGE, PAGE, PAGE_EXECUTE_READ,
                                &old));
    t_assert_child_faults(base, 1);                 /* written, read-only */
    t_assert_child_faults(base + PAGE, 1);          /* clean, read-only */
    t_assert_child_faults(base + 2 * PAGE, 1);      /* no access */
    t_assert_child_faults(base + 3 * PAGE, 1);      /* execute-read */
    t_assert_child_faults(base + 12 * PAGE, 1);     /* reserved only */
    t_assert_written(base, 16, zero, 1);
    ck_assert_uint_eq(t_get_watch(WRITE_WATCH_FLAG_RESET, base, 16 * PAGE, out,
                                16), 1);
    t_assert_child_faults(base, 1);                 /* re-armed: still */
    ck_assert_uint_eq(ww_ResetWriteWatch(base, 16 * PAGE), 0);
    t_assert_child_faults(base + PAGE, 1);
    ck_assert_int_eq(base[0], 1);                   /* still readable */
    ck_assert(ww_VirtualProtect(base, 2 * PAGE, PAGE_READWRITE, &old));
    ck_assert_uint_eq(old, PAGE_READONLY);
    base[0] = 2;
    base[PAGE] = 2;
    t_assert_written(base, 16, two, 2);
}
END_TEST

/* Wine's "initial protect doesn't matter" sequence. */
START_TEST(test_initial_noaccess)
{
    char *base = ww_VirtualAlloc(NULL, 16 * PAGE,
                                 MEM_RESERVE | MEM_WRITE_WATCH, PAGE_NOACCESS);
    size_t five[] = { 5 };
    DWORD old = 0;

    ck_assert_ptr_nonnull(base);
    t_assert_written(base, 16, NULL, 0);
    ck_assert_uint_eq(ww_ResetWriteWatch(base, 16 * PAGE), 0);
    ck_assert_ptr_eq(ww_VirtualAlloc(base, 16 * PAGE, MEM_COMMIT,
                                     PAGE_NOACCESS), base);
    t_assert_written(base, 16, NULL, 0);
    ck_assert(ww_VirtualProtect(base, 6 * PAGE, PAGE_READWRITE, &old));
    ck_assert_uint_eq(old, PAGE_NOACCESS);
    base[5 * PAGE + 200] = 3;
    ck_assert(ww_VirtualProtect(base, 6 * PAGE, PAGE_NOACCESS, &old));
    ck_assert_uint_eq(old, PAGE_READWRITE);
    t_assert_written(base, 16, five, 1);
}
END_TEST

/* Decommit keeps each page's write state, and so does a recommit: a page
 * written before is reported until reset, as Windows does (Wine's
 * test_write_watch: count 1 after MEM_DECOMMIT, broken 0 only on Win98).
 * Recommitted pages read as zero. */
START_TEST(test_decommit_keeps_state)
{
    char *base = t_alloc_watched(16);
    size_t written[] = { 1, 3, 5 }, two[] = { 2 };

    t_write_pages(base, written, 3);
    ck_assert(ww_VirtualFree(base + PAGE, PAGE, MEM_DECOMMIT));
    t_assert_written(base, 16, written, 3);
    ck_assert(ww_VirtualFree(base, 16 * PAGE, MEM_DECOMMIT));
    t_assert_written(base, 16, written, 3);
    ck_assert_ptr_eq(ww_VirtualAlloc(base, 16 * PAGE, MEM_COMMIT,
                                     PAGE_READWRITE), base);
    t_assert_written(base, 16, written, 3);
    for (size_t i = 0; i < 16; i++)
        ck_assert_int_eq(base[i * PAGE + 1], 0);
    ck_assert_uint_eq(ww_ResetWriteWatch(base, 16 * PAGE), 0);
    t_assert_written(base, 16, NULL, 0);  /* reading is not writing */
    base[2 * PAGE + 200] = 4;
    t_assert_written(base, 16, two, 1);
    /* Reset while decommitted: clean from then on. */
    ck_assert(ww_VirtualFree(base, 16 * PAGE, MEM_DECOMMIT));
    t_assert_written(base, 16, two, 1);
    ck_assert_uint_eq(ww_ResetWriteWatch(base + 2 * PAGE, PAGE), 0);
    t_assert_written(base, 16, NULL, 0);
    ck_assert_ptr_eq(ww_VirtualAlloc(base, 16 * PAGE, MEM_COMMIT,
                                     PAGE_READWRITE), base);
    t_assert_written(base, 16, NULL, 0);
}
END_TEST

/* A reservation is watched where it is committed: commits in pieces,
 * overlapping commits (a committed page keeps its state), writes before
 * and after, and queries over all of it report exactly what was written. */
START_TEST(test_partial_commits)
{
    char *base = ww_VirtualAlloc(NULL, 64 * PAGE,
                                 MEM_RESERVE | MEM_WRITE_WATCH, PAGE_NOACCESS);
    size_t a[] = { 12 }, b[] = { 11, 12, 25, 29 }, c[] = { 8, 11, 15, 63 };
    void *out[64];

    ck_assert_ptr_nonnull(base);
    t_assert_written(base, 64, NULL, 0);
    ck_assert_ptr_eq(ww_VirtualAlloc(base + 10 * PAGE + 5, 4 * PAGE - 5,
                                     MEM_COMMIT, PAGE_READWRITE),
                     base + 10 * PAGE);
    base[12 * PAGE] = 1;
    t_assert_written(base, 64, a, 1);
    ck_assert_ptr_eq(ww_VirtualAlloc(base + 20 * PAGE, 10 * PAGE,
                                     MEM_COMMIT, PAGE_READWRITE),
                     base + 20 * PAGE);
    t_assert_written(base, 64, a, 1);
    base[11 * PAGE] = base[25 * PAGE] = base[29 * PAGE + 7] = 2;
    t_assert_written(base, 64, b, 4);
    /* Overlapping the committed run 10-13: 11 and 12 stay written. */
    ck_assert_ptr_eq(ww_VirtualAlloc(base + 8 * PAGE, 8 * PAGE, MEM_COMMIT,
                                     PAGE_READWRITE), base + 8 * PAGE);
    t_assert_written(base, 64, b, 4);
    ck_assert_uint_eq(t_get_watch(WRITE_WATCH_FLAG_RESET, base + 20 * PAGE,
                                  44 * PAGE, out, 64), 2);
    ck_assert_ptr_eq(out[0], base + 25 * PAGE);
    ck_assert_ptr_eq(out[1], base + 29 * PAGE);
    t_assert_written(base, 64, b, 2);
    ck_assert_ptr_eq(ww_VirtualAlloc(base + 63 * PAGE, PAGE, MEM_COMMIT,
                                     PAGE_READWRITE), base + 63 * PAGE);
    base[8 * PAGE] = base[15 * PAGE] = base[63 * PAGE] = 3;
    ck_assert_uint_eq(ww_ResetWriteWatch(base + 12 * PAGE, PAGE), 0);
    t_assert_written(base, 64, c, 4);
    ck_assert(ww_VirtualFree(base, 0, MEM_RELEASE));
}
END_TEST

/* A reservation released and reserved again at the same address starts
 * clean, committed or not, and so does a fresh commit there. */
START_TEST(test_release_and_reserve_again)
{
    char *base = ww_VirtualAlloc(NULL, 32 * PAGE,
                                 MEM_RESERVE | MEM_WRITE_WATCH, PAGE_NOACCESS);
    size_t nine[] = { 9 };

    ck_assert_ptr_nonnull(base);
    ck_assert_ptr_eq(ww_VirtualAlloc(base, 16 * PAGE, MEM_COMMIT,
                                     PAGE_READWRITE), base);
    memset(base, 1, 16 * PAGE);
    ck_assert(ww_VirtualFree(base, 0, MEM_RELEASE));
    ck_assert_ptr_eq(ww_VirtualAlloc(base, 32 * PAGE,
                                     MEM_RESERVE | MEM_WRITE_WATCH,
                                     PAGE_NOACCESS), base);
    t_assert_written(base, 32, NULL, 0);
    ck_assert_ptr_eq(ww_VirtualAlloc(base, 32 * PAGE, MEM_COMMIT,
                                     PAGE_READWRITE), base);
    t_assert_written(base, 32, NULL, 0);
    base[9 * PAGE] = 1;
    t_assert_written(base, 32, nine, 1);
    ck_assert(ww_VirtualFree(base, 0, MEM_RELEASE));
}
END_TEST

/* Decommitting whole 2 MiB blocks may leave page-table holes, which
 * 6.18 reads as written (kernel commit 40de8160ca7f): never reported
 * unless written before; a reservation's untouched 2 MiB blocks neither. */
START_TEST(test_decommit_huge_blocks)
{
    size_t n = (size_t)(8 << 20) / PAGE, blk = (size_t)(2 << 20) / PAGE;
    char *res = ww_VirtualAlloc(NULL, (n + blk) * PAGE,
                                MEM_RESERVE | MEM_WRITE_WATCH, PAGE_NOACCESS);
    char *base;
    size_t w[2];

    ck_assert_ptr_nonnull(res);
    base = (char *)(((uintptr_t)res + blk * PAGE - 1) &
                    ~(uintptr_t)(blk * PAGE - 1));
    w[0] = blk + 3;
    w[1] = 3 * blk - 1;
    ck_assert_ptr_eq(ww_VirtualAlloc(base + blk * PAGE, 2 * blk * PAGE,
                                     MEM_COMMIT, PAGE_READWRITE),
                     base + blk * PAGE);
    memset(base + blk * PAGE, 1, 2 * blk * PAGE);
    ck_assert_uint_eq(ww_ResetWriteWatch(res, (n + blk) * PAGE), 0);
    t_write_pages(base, w, 2);
    ck_assert(ww_VirtualFree(base + blk * PAGE, 2 * blk * PAGE,
                             MEM_DECOMMIT));
    t_assert_written(base, n, w, 2);
    ck_assert_uint_eq(ww_ResetWriteWatch(res, (n + blk) * PAGE), 0);
    t_assert_written(base, n, NULL, 0);
    ck_assert_ptr_eq(ww_VirtualAlloc(base, n * PAGE, MEM_COMMIT,
                                     PAGE_READWRITE), base);
    t_assert_written(base, n, NULL, 0);
    ck_assert(ww_VirtualFree(res, 0, MEM_RELEASE));
}
END_TEST

/* MEM_RESET frees the contents and keeps protections and write states,
 * as Wine does; its arguments are checked as Windows does. */
START_TEST(test_mem_reset_keeps_state)
{
    char *base = t_alloc_watched(16), *other = t_alloc_watched(1);
    size_t written[] = { 1, 3 }, more[] = { 1, 2, 3 };

    t_write_pages(base, written, 2);
    ck_assert_ptr_eq(ww_VirtualAlloc(base + 5, 16 * PAGE - 5, MEM_RESET,
                                     PAGE_NOACCESS), base);
    t_assert_written(base, 16, written, 2);
    base[2 * PAGE] = 7;                 /* still committed, read-write */
    t_assert_written(base, 16, more, 3);
    ck_assert_uint_eq(ww_ResetWriteWatch(base, 16 * PAGE), 0);
    ck_assert_ptr_eq(ww_VirtualAlloc(base, 16 * PAGE, MEM_RESET,
                                     PAGE_READWRITE), base);
    t_assert_written(base, 16, NULL, 0);
    base[2 * PAGE] = 7;
    t_assert_written(base, 16, more + 1, 1);

    t_expect_failure_begin();
    t_assert_failed(ww_VirtualAlloc(base, PAGE, MEM_RESET | MEM_COMMIT,
                                    PAGE_READWRITE) != NULL,
                    ERROR_INVALID_PARAMETER);
    t_expect_failure_begin();
    t_assert_failed(ww_VirtualAlloc(NULL, PAGE, MEM_RESET, PAGE_READWRITE)
                        != NULL, ERROR_INVALID_PARAMETER);
    t_expect_failure_begin();
    t_assert_failed(ww_VirtualAlloc(base, PAGE, MEM_RESET, 0) != NULL,
                    ERROR_INVALID_PARAMETER);
    t_expect_failure_begin();
    t_assert_failed(ww_VirtualAlloc(base, 17 * PAGE, MEM_RESET,
                                    PAGE_READWRITE) != NULL,
                    ERROR_INVALID_ADDRESS);
    ck_assert(ww_VirtualFree(base, 0, MEM_RELEASE));
    ck_assert(ww_VirtualFree(other, 0, MEM_RELEASE));
}
END_TEST

/* MEM_RESET leaves pages to the kernel (MADV_FREE): one it reclaims
 * (MADV_PAGEOUT at once) reads zero afterwards, and a write done before
 * the MEM_RESET is still reported; uffd may also report a clean page it
 * reclaimed (more pages, never fewer), mprotect does not.  One CPU: the
 * two calls drain only the current CPU's LRU batches.  SKIP if the pages
 * stay resident anyway. */
START_TEST(test_mem_reset_reclaimed)
{
    char *base;
    void *out[8];
    ULONG_PTR n;
    unsigned char resident[2] = { 1, 1 };
    cpu_set_t one_cpu;
    int one = 0, clean_reclaimed = 0, five = 0;

    CPU_ZERO(&one_cpu);
    CPU_SET(sched_getcpu(), &one_cpu);
    ck_assert_int_eq(sched_setaffinity(0, sizeof(one_cpu), &one_cpu), 0);
    base = t_alloc_watched(8);
    memset(base, 7, 8 * PAGE);
    ck_assert_uint_eq(ww_ResetWriteWatch(base, 8 * PAGE), 0);
    base[PAGE] = 8;
    ck_assert_ptr_eq(ww_VirtualAlloc(base, 8 * PAGE, MEM_RESET,
                                     PAGE_READWRITE), base);
    if (madvise(base + PAGE, 3 * PAGE, MADV_PAGEOUT) == 0) {
        ck_assert_int_eq(mincore(base + PAGE, PAGE, &resident[0]), 0);
        ck_assert_int_eq(mincore(base + 3 * PAGE, PAGE, &resident[1]), 0);
    }
    if ((resident[0] | resident[1]) & 1) {
        t_skip("MADV_PAGEOUT did not reclaim MEM_RESET pages here");
        ck_assert(ww_VirtualFree(base, 0, MEM_RELEASE));
        return;
    }
    ck_assert_int_eq(base[PAGE], 0);
    ck_assert_int_eq(base[3 * PAGE], 0);
    ck_assert_int_eq(base[5 * PAGE], 7);        /* not reclaimed */
    /* Pages 1-3 reclaimed: 1 written before, 2 and 3 clean. */
    base[5 * PAGE] = 9;
    n = t_get_watch(0, base, 8 * PAGE, out, 8);
    for (ULONG_PTR i = 0; i < n; i++) {
        size_t p = (size_t)((char *)out[i] - base) / PAGE;

        one |= p == 1;
        clean_reclaimed |= p == 2 || p == 3;
        five |= p == 5;
        ck_assert_msg(p >= 1 && p <= 5 && p != 4, "page %zu reported", p);
    }
    ck_assert_msg(one, "the write before MEM_RESET was lost to reclaim");
    ck_assert_msg(five, "the write after MEM_RESET was lost");
    ck_assert_msg(!clean_reclaimed || t_backend == WW_BACKEND_UFFD,
                  "a clean reclaimed page reported by %s",
                  ww_backend_name(t_backend));
    ck_assert(ww_VirtualFree(base, 0, MEM_RELEASE));
}
END_TEST

/* A model of one reservation (per page: committed, written) against the
 * layer, through random commits, decommits, MEM_RESETs, writes, gets
 * (sub-ranges, small arrays, with and without RESET), resets and
 * releases. */
enum { MODEL_PAGES = 48 };

struct wmodel {
    char *base;
    unsigned char committed[MODEL_PAGES], written[MODEL_PAGES];
};

/* 64-bit state in a 32-bit build too (unsigned long is 32 bits there). */
static unsigned long model_rand(uint64_t *state)
{
    *state = *state * 6364136223846793005ull + 1442695040888963407ull;
    return (unsigned long)(*state >> 33);
}

static void model_reserve(struct wmodel *m)
{
    m->base = ww_VirtualAlloc(NULL, MODEL_PAGES * PAGE,
                              MEM_RESERVE | MEM_WRITE_WATCH, PAGE_NOACCESS);
    ck_assert_ptr_nonnull(m->base);
    memset(m->committed, 0, sizeof(m->committed));
    memset(m->written, 0, sizeof(m->written));
}

static void model_get(struct wmodel *m, size_t a, size_t b, size_t cap,
                      int reset, unsigned long seed, unsigned long step)
{
    void *out[MODEL_PAGES];
    ULONG_PTR got = t_get_watch(reset ? WRITE_WATCH_FLAG_RESET : 0,
                                m->base + a * PAGE, (b - a) * PAGE, out, cap);
    size_t k = 0;

    for (size_t p = a; p < b && k < cap; p++) {
        if (!m->written[p])
            continue;
        ck_assert_msg(k < got && out[k] == m->base + p * PAGE,
                      "seed %lu step %lu: get [%zu,%zu) cap %zu: entry %zu "
                      "should be page %zu", seed, step, a, b, cap, k, p);
        if (reset)
            m->written[p] = 0;
        k++;
    }
    ck_assert_msg(got == k, "seed %lu step %lu: get [%zu,%zu) cap %zu: %lu "
                  "pages, model %zu", seed, step, a, b, cap,
                  (unsigned long)got, k);
}

START_TEST(test_reservation_model)
{
    struct wmodel m;
    const unsigned long seed0 = 14 + (unsigned long)_i;
    uint64_t seed = seed0;

    model_reserve(&m);
    for (unsigned long step = 0; step < 2000; step++) {
        size_t a = model_rand(&seed) % MODEL_PAGES;
        size_t b = a + 1 + model_rand(&seed) % (MODEL_PAGES - a);
        unsigned op = (unsigned)(model_rand(&seed) % 16);

        if (op < 3) {                   /* commit */
            ck_assert_ptr_eq(ww_VirtualAlloc(m.base + a * PAGE,
                                             (b - a) * PAGE, MEM_COMMIT,
                                             PAGE_READWRITE),
                             m.base + a * PAGE);
            memset(m.committed + a, 1, b - a);
        } else if (op < 5) {            /* decommit */
            ck_assert(ww_VirtualFree(m.base + a * PAGE, (b - a) * PAGE,
                                     MEM_DECOMMIT));
            memset(m.committed + a, 0, b - a);
        } else if (op < 10) {           /* writes to committed pages */
            for (size_t p = a; p < b; p += 1 + model_rand(&seed) % 3)
                if (m.committed[p]) {
                    ck_assert_int_eq(m.base[p * PAGE + 1], 0);
                    ((volatile char *)m.base)[p * PAGE + 1] = 1;
                    ((volatile char *)m.base)[p * PAGE + 1] = 0;
                    m.written[p] = 1;
                }
        } else if (op < 14) {           /* get */
            model_get(&m, a, b, 1 + model_rand(&seed) % 8, op & 1, seed0,
                      step);
        } else if (op < 15) {           /* reset */
            ck_assert_uint_eq(ww_ResetWriteWatch(m.base + a * PAGE,
                                                 (b - a) * PAGE), 0);
            memset(m.written + a, 0, b - a);
        } else if (model_rand(&seed) % 2 == 0) {    /* MEM_RESET */
            ck_assert_ptr_eq(ww_VirtualAlloc(m.base + a * PAGE,
                                             (b - a) * PAGE, MEM_RESET,
                                             PAGE_NOACCESS),
                             m.base + a * PAGE);
        } else if (model_rand(&seed) % 4 == 0) {    /* release */
            ck_assert(ww_VirtualFree(m.base, 0, MEM_RELEASE));
            model_reserve(&m);
        }
        if (step % 64 == 0)
            model_get(&m, 0, MODEL_PAGES, MODEL_PAGES, 0, seed0, step);
    }
    model_get(&m, 0, MODEL_PAGES, MODEL_PAGES, 0, seed0, 2000);
    ck_assert(ww_VirtualFree(m.base, 0, MEM_RELEASE));
}
END_TEST

/* Queries over reserved-only and decommitted pages succeed. */
START_TEST(test_reserved_pages_query)
{
    char *base = ww_VirtualAlloc(NULL, 32 * PAGE,
                                 MEM_RESERVE | MEM_WRITE_WATCH, PAGE_READWRITE);
    size_t twelve[] = { 12 };

    ck_assert_ptr_nonnull(base);
    t_assert_written(base, 32, NULL, 0);
    ck_assert_uint_eq(ww_ResetWriteWatch(base + 20 * PAGE, 12 * PAGE), 0);
    ck_assert_ptr_eq(ww_VirtualAlloc(base + 10 * PAGE + 5, 4 * PAGE,
                                     MEM_COMMIT, PAGE_READWRITE),
                     base + 10 * PAGE);
    base[12 * PAGE] = 1;
    t_assert_written(base, 32, twelve, 1);
    ck_assert(ww_VirtualFree(base + 10 * PAGE, 2 * PAGE, MEM_DECOMMIT));
    t_assert_written(base, 32, twelve, 1);
    ck_assert_uint_eq(ww_ResetWriteWatch(base, 32 * PAGE), 0);
    t_assert_written(base, 32, NULL, 0);
}
END_TEST

/* Wine's longer range: 2048 pages, every other one written, half of them
 * made read-only before the query. */
START_TEST(test_alternating_2048)
{
    enum { N = 2048 };
    char *base = t_alloc_watched(N);
    void **out = calloc(N, sizeof(*out));
    DWORD old;

    ck_assert_ptr_nonnull(out);
    ck_assert_uint_eq(t_get_watch(0, base, N * PAGE, out, N), 0);
    for (size_t i = 0; i < N; i += 2)
        base[i * PAGE]++;
    ck_assert(ww_VirtualProtect(base, N * PAGE / 2, PAGE_READONLY, &old));
    for (int round = 0; round < 2; round++) {
        DWORD flags = round ? WRITE_WATCH_FLAG_RESET : 0;

        ck_assert_uint_eq(t_get_watch(flags, base, N * PAGE, out, N), N / 2);
        for (size_t i = 0; i < N / 2; i++)
            ck_assert_ptr_eq(out[i], base + 2 * i * PAGE);
    }
    ck_assert_uint_eq(t_get_watch(0, base, N * PAGE, out, N), 0);
    free(out);
}
END_TEST

/* Like Windows (Wine rounds the same way), an unaligned base and size
 * cover every page they touch. */
START_TEST(test_unaligned_range)
{
    char *base = t_alloc_watched(8);
    void *out[8];
    size_t both[] = { 1, 2 }, two[] = { 2 };

    t_write_pages(base, both, 2);
    ck_assert_uint_eq(t_get_watch(0, base + PAGE + 100, 10, out, 8), 1);
    ck_assert_ptr_eq(out[0], base + PAGE);
    ck_assert_uint_eq(t_get_watch(0, base + 2 * PAGE - 1, 2, out, 8), 2);
    t_assert_pages(out, 2, base, both, 2);
    ck_assert_uint_eq(ww_ResetWriteWatch(base + PAGE + 5, 1), 0);
    t_assert_written(base, 8, two, 1);
    ck_assert_int_eq(ww_NtResetWriteWatch(NtCurrentProcess(),
                                          base + 3 * PAGE - 1, 1),
                     STATUS_SUCCESS);
    t_assert_written(base, 8, NULL, 0);
}
END_TEST

/* A write made by the kernel (read(2) into committed watched memory) is
 * reported.  The mprotect backend needs the buffer marked first (see
 * <writewatch/win32.h>); uffd sees the kernel's write by itself. */
START_TEST(test_kernel_write_reported)
{
    char *base = t_alloc_watched(8);
    size_t six[] = { 6 };
    int fds[2];

    ck_assert_int_eq(pipe(fds), 0);
    ck_assert_int_eq(write(fds[1], "kernel write", 12), 12);
    if (t_backend != WW_BACKEND_UFFD)
        ck_assert_int_eq(ww_mark_written(ww_win32_tracker(), base + 6 * PAGE,
                                         PAGE), 0);
    ck_assert_int_eq(read(fds[0], base + 6 * PAGE + 100, 12), 12);
    ck_assert_int_eq(memcmp(base + 6 * PAGE + 100, "kernel write", 12), 0);
    t_assert_written(base, 8, six, 1);
    close(fds[0]);
    close(fds[1]);
}
END_TEST

/* The output array may lie in the watched allocation it reports on. */
START_TEST(test_output_in_watched_memory)
{
    char *base = t_alloc_watched(16);
    void **out = (void **)(base + 8 * PAGE);
    size_t eight[] = { 8 };

    base[PAGE] = 1;
    ck_assert_uint_eq(t_get_watch(WRITE_WATCH_FLAG_RESET, base, 16 * PAGE, out,
                                8), 1);
    ck_assert_ptr_eq(out[0], base + PAGE);
    t_assert_written(base, 16, eight, 1);
}
END_TEST

/* No write is lost to a concurrent RESET: in each round every writer
 * writes all its pages while the main thread queries with RESET; the
 * round's reports, plus one final query once the writers are done, must
 * contain every page. */
enum { WRITERS = 4, PAGES_EACH = 32, ROUNDS = 20 };

struct writer {
    char *base;
    int index;
    pthread_barrier_t *barrier;
};

static void *writer_main(void *arg)
{
    struct writer *w = arg;

    for (int round = 0; round < ROUNDS; round++) {
        for (int i = 0; i < PAGES_EACH; i++)
            ((volatile char *)w->base)[(w->index * PAGES_EACH + i) * PAGE +
                                       round] = (char)round;
        pthread_barrier_wait(w->barrier);       /* writes done */
        pthread_barrier_wait(w->barrier);       /* round checked */
    }
    return NULL;
}

static void collect(char *base, unsigned char *seen)
{
    enum { N = WRITERS * PAGES_EACH };
    void *out[N];
    ULONG_PTR count = t_get_watch(WRITE_WATCH_FLAG_RESET, base, N * PAGE, out,
                                N);

    for (ULONG_PTR i = 0; i < count; i++)
        seen[((char *)out[i] - base) / PAGE] = 1;
}

START_TEST(test_concurrent_writers_lose_nothing)
{
    enum { N = WRITERS * PAGES_EACH };
    char *base = t_alloc_watched(N);
    pthread_barrier_t barrier;
    struct writer w[WRITERS];
    pthread_t th[WRITERS];

    ck_assert_int_eq(pthread_barrier_init(&barrier, NULL, WRITERS + 1), 0);
    for (int i = 0; i < WRITERS; i++) {
        w[i] = (struct writer){ base, i, &barrier };
        ck_assert_int_eq(pthread_create(&th[i], NULL, writer_main, &w[i]), 0);
    }
    for (int round = 0; round < ROUNDS; round++) {
        unsigned char seen[N] = { 0 };

        for (int q = 0; q < 8; q++)
            collect(base, seen);
        pthread_barrier_wait(&barrier);
        collect(base, seen);
        for (size_t p = 0; p < N; p++)
            ck_assert_msg(seen[p], "round %d: write to page %zu lost", round,
                          p);
        pthread_barrier_wait(&barrier);
    }
    for (int i = 0; i < WRITERS; i++)
        pthread_join(th[i], NULL);
    pthread_barrier_destroy(&barrier);
}
END_TEST

/*
 * No write to committed memory is lost while other pages of the same
 * reservation are committed, decommitted, reset (MEM_RESET) and change
 * protection.  1024 pages (two page tables at least): a writer thread
 * owns the pages 4k, always committed, read-write or
 * execute-read-write; a memory thread commits, writes, decommits,
 * MEM_RESETs and protects the pages 4k+1 and 4k+2; the pages 4k+3 of
 * the upper half are never committed.  Each write is announced after it
 * is done (pending), and a page is not written again before the main
 * thread's GetWriteWatch(RESET) loop has seen it reported: a page that
 * was pending when a get began must have been reported by that get or
 * by one since the page was last cleared.  So each check is of one write
 * that the reports must account for.
 */
enum { CW_PAGES = 1024, CW_GETS = 300 };

struct cw {
    char *base;
    atomic_int pending[CW_PAGES], writing[CW_PAGES];
    atomic_int stop;
    atomic_int error;           /* a thread's failed call (last error) */
};

static int cw_never(size_t p)
{
    return p % 4 == 3 && p >= CW_PAGES / 2;
}

/* Write page p once if its last write was seen; volatile: a real store. */
static void cw_write(struct cw *c, size_t p, unsigned long seq)
{
    if (atomic_load(&c->pending[p]))
        return;
    atomic_store(&c->writing[p], 1);
    ((volatile unsigned long *)(c->base + p * PAGE))[1] = seq;
    atomic_store(&c->pending[p], 1);
    atomic_store(&c->writing[p], 0);
}

static int cw_any_pending(struct cw *c, size_t a, size_t b)
{
    for (size_t p = a; p < b; p++)
        if (atomic_load(&c->pending[p]))
            return 1;
    return 0;
}

static void *cw_writer(void *arg)
{
    struct cw *c = arg;
    unsigned long seq = 1;
    unsigned seed = 3;

    while (!atomic_load(&c->stop)) {
        for (size_t p = 0; p < CW_PAGES; p += 4)
            cw_write(c, p, seq++);
        if (seq % 8 == 1) {     /* a protection change under the writes */
            size_t p = 4 * (rand_r(&seed) % (CW_PAGES / 4));
            DWORD old;

            if (!ww_VirtualProtect(c->base + p * PAGE, PAGE,
                                   seed % 2 ? PAGE_EXECUTE_READWRITE
                                            : PAGE_READWRITE, &old))
                atomic_store(&c->error, (int)ww_GetLastError());
        }
    }
    return NULL;
}

static void *cw_memory(void *arg)
{
    struct cw *c = arg;
    unsigned seed = 5;
    unsigned long seq = 1;

    while (!atomic_load(&c->stop)) {
        size_t p = 4 * (rand_r(&seed) % (CW_PAGES / 4)) + 1;
        char *a = c->base + p * PAGE;
        unsigned op = rand_r(&seed) % 6;
        DWORD old;
        int ok = 1;

        if (op < 2) {
            ok = ww_VirtualAlloc(a, 2 * PAGE, MEM_COMMIT, PAGE_READWRITE) == a;
            if (ok)
                cw_write(c, p + rand_r(&seed) % 2, seq++);
        } else if (op < 4) {
            ok = ww_VirtualFree(a, 2 * PAGE, MEM_DECOMMIT);
        } else if (op < 5) {
            /* Only committed pages can change protection. */
            if (ww_VirtualAlloc(a, 2 * PAGE, MEM_COMMIT, PAGE_READWRITE) != a ||
                !ww_VirtualProtect(a, 2 * PAGE, PAGE_READONLY, &old))
                ok = 0;
        } else {
            ok = ww_VirtualAlloc(a, 2 * PAGE, MEM_RESET, PAGE_READWRITE) == a;
        }
        if (!ok)
            atomic_store(&c->error, (int)ww_GetLastError());
    }
    return NULL;
}

/* Runs writer and other as threads on c (c->base allocated), then the
 * main thread's part: CW_GETS GetWriteWatch(RESET) calls over the whole
 * reservation, a small array or a sub-range, each checking that every
 * write pending when it began was reported (by it or by one since the
 * page was last cleared), and that no page cw_never() names was.  Ends
 * the threads, checks that nothing is left once they are done, prints
 * how many pages were reported again without a write (allowed: never
 * fewer pages than written) and releases c->base. */
static void cw_run(struct cw *c, void *(*writer)(void *),
                   void *(*other)(void *))
{
    static int before[CW_PAGES];
    static unsigned char seen[CW_PAGES];
    static void *out[CW_PAGES];
    unsigned long checked = 0, spurious = 0;
    pthread_t threads[2];

    memset(seen, 0, sizeof(seen));
    ck_assert_int_eq(pthread_create(&threads[0], NULL, writer, c), 0);
    ck_assert_int_eq(pthread_create(&threads[1], NULL, other, c), 0);
    for (unsigned g = 0; g < CW_GETS && !atomic_load(&c->error); g++) {
        time_t give_up = time(NULL) + 30;
        size_t a = g % 5 == 2 ? (g * 37) % CW_PAGES : 0;
        size_t b = g % 5 == 2 ? a + 1 + (g * 101) % (CW_PAGES - a) : CW_PAGES;
        ULONG_PTR cap = g % 3 == 1 ? 7 : CW_PAGES, n;
        size_t covered = b;

        /* Each get checks one write at least: the threads share two
         * CPUs, and the gets alone could be done before a write. */
        while (!cw_any_pending(c, a, b) && time(NULL) < give_up)
            sched_yield();
        ck_assert_msg(cw_any_pending(c, a, b), "get %u: no write to [%zu, "
                      "%zu) in 30 s", g, a, b);
        for (size_t p = a; p < b; p++)
            before[p] = atomic_load(&c->pending[p]);
        n = t_get_watch(WRITE_WATCH_FLAG_RESET, c->base + a * PAGE,
                        (b - a) * PAGE, out, cap);
        for (ULONG_PTR i = 0; i < n; i++) {
            size_t p = (size_t)((char *)out[i] - c->base) / PAGE;

            ck_assert_msg(p >= a && p < b && (i == 0 || out[i] > out[i - 1]),
                          "get %u: entry %lu (page %zu) out of order or "
                          "range [%zu, %zu)", g, (unsigned long)i, p, a, b);
            ck_assert_msg(!cw_never(p), "get %u: page %zu reported, never "
                          "committed or written", g, p);
            seen[p] = 1;
            if (!atomic_load(&c->pending[p]) && !atomic_load(&c->writing[p]))
                spurious++;
        }
        /* A full array covers the range up to its last page only. */
        if (n == cap)
            covered = (size_t)((char *)out[n - 1] - c->base) / PAGE + 1;
        for (size_t p = a; p < covered; p++) {
            if (!before[p])
                continue;
            ck_assert_msg(seen[p], "get %u over [%zu, %zu): the write to "
                          "page %zu, done before it, was never reported", g,
                          a, b, p);
            seen[p] = 0;
            atomic_store(&c->pending[p], 0);
            checked++;
        }
    }
    atomic_store(&c->stop, 1);
    pthread_join(threads[0], NULL);
    pthread_join(threads[1], NULL);
    ck_assert_msg(!atomic_load(&c->error), "a memory call failed: error %d",
                  atomic_load(&c->error));
    /* Each get waited for a write to check. */
    ck_assert_uint_ge(checked, CW_GETS);
    /* With nothing writing, a RESET leaves nothing to report. */
    t_get_watch(WRITE_WATCH_FLAG_RESET, c->base, CW_PAGES * PAGE, out,
                CW_PAGES);
    ck_assert_uint_eq(t_get_watch(0, c->base, CW_PAGES * PAGE, out, CW_PAGES),
                      0);
    fprintf(stderr, "win32(%s): %lu writes checked over %u gets, %lu "
            "pages reported again without a write\n",
            ww_backend_name(t_backend), checked, CW_GETS, spurious);
    ck_assert(ww_VirtualFree(c->base, 0, MEM_RELEASE));
}

START_TEST(test_commit_decommit_while_writing)
{
    static struct cw c;

    memset(&c, 0, sizeof(c));
    c.base = ww_VirtualAlloc(NULL, CW_PAGES * PAGE,
                             MEM_RESERVE | MEM_WRITE_WATCH, PAGE_NOACCESS);
    ck_assert_ptr_nonnull(c.base);
    for (size_t p = 0; p < CW_PAGES; p += 4)
        ck_assert_ptr_nonnull(ww_VirtualAlloc(c.base + p * PAGE, PAGE,
                                              MEM_COMMIT, PAGE_READWRITE));
    cw_run(&c, cw_writer, cw_memory);
}
END_TEST

/*
 * No write is lost when the same pages are MEM_RESET while it happens:
 * Windows keeps write-watch state through MEM_RESET, and a page written
 * after it keeps what was written.  All pages committed read-write; a
 * writer thread writes every page but those cw_never() names, as
 * test_commit_decommit_while_writing's does; a second thread MEM_RESETs
 * sub-ranges and the whole reservation without pause.
 */
static void *cw_mem_resetter(void *arg)
{
    struct cw *c = arg;
    unsigned seed = 7;

    while (!atomic_load(&c->stop)) {
        size_t a = rand_r(&seed) % CW_PAGES;
        size_t b = seed % 4 == 0 ? CW_PAGES
                                 : a + 1 + rand_r(&seed) % (CW_PAGES - a);

        if (seed % 4 == 0)
            a = 0;
        if (ww_VirtualAlloc(c->base + a * PAGE, (b - a) * PAGE, MEM_RESET,
                            PAGE_READWRITE) != c->base + a * PAGE)
            atomic_store(&c->error, (int)ww_GetLastError());
    }
    return NULL;
}

static void *cw_all_writer(void *arg)
{
    struct cw *c = arg;
    unsigned long seq = 1;

    while (!atomic_load(&c->stop))
        for (size_t p = 0; p < CW_PAGES; p++)
            if (!cw_never(p))
                cw_write(c, p, seq++);
    return NULL;
}

START_TEST(test_mem_reset_while_writing)
{
    static struct cw c;

    memset(&c, 0, sizeof(c));
    c.base = ww_VirtualAlloc(NULL, CW_PAGES * PAGE,
                             MEM_RESERVE | MEM_COMMIT | MEM_WRITE_WATCH,
                             PAGE_READWRITE);
    ck_assert_ptr_nonnull(c.base);
    cw_run(&c, cw_all_writer, cw_mem_resetter);
}
END_TEST

static void add_tests(TCase *tc, enum ww_backend backend)
{
    (void)backend;
    tcase_add_checked_fixture(tc, setup, NULL);
    tcase_add_test(tc, test_fresh_allocation_is_clean);
    tcase_add_test(tc, test_write_reported_until_reset);
    tcase_add_test(tc, test_order_subrange_and_reset_subrange);
    tcase_add_test(tc, test_reset_only_returned_pages);
    tcase_add_test(tc, test_empty_result_leaves_array);
    tcase_add_test(tc, test_protection_change_keeps_state);
    tcase_add_test(tc, test_initial_noaccess);
    tcase_add_test(tc, test_forbidden_write_is_access_violation);
    tcase_add_test(tc, test_decommit_keeps_state);
    tcase_add_test(tc, test_partial_commits);
    tcase_add_test(tc, test_release_and_reserve_again);
    tcase_add_test(tc, test_decommit_huge_blocks);
    tcase_add_test(tc, test_mem_reset_keeps_state);
    tcase_add_test(tc, test_mem_reset_reclaimed);
    tcase_add_loop_test(tc, test_reservation_model, 0, 8);   /* 8 seeds */
    tcase_add_test(tc, test_reserved_pages_query);
    tcase_add_test(tc, test_alternating_2048);
    tcase_add_test(tc, test_unaligned_range);
    tcase_add_test(tc, test_kernel_write_reported);
    tcase_add_test(tc, test_output_in_watched_memory);
    tcase_add_test(tc, test_concurrent_writers_lose_nothing);
    tcase_add_test(tc, test_commit_decommit_while_writing);
    tcase_add_test(tc, test_mem_reset_while_writing);
}

int main(void)
{
    Suite *s = suite_create(SUITE);

    t_add_backend_tcases(s, SUITE, add_tests, 60);
    return t_run_suite(s);
}
