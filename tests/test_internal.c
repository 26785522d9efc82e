/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * test_internal.c - internal pieces tested directly: the registry's
 * ordering and lookups, the sink's merging and limits, and both ways of
 * classifying memory (PROCMAP_QUERY and the /proc/self/maps text fallback,
 * which this kernel would otherwise never run), and the protections they
 * report; every PAGEMAP_SCAN the uffd backend makes, and the features its
 * UFFDIO_API must be granted; and the merges the mprotect backend makes at
 * vm.max_map_count.
 */
#include "config.h"

#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "helpers.h"
#include "kernel-uapi.h"

/* What the uffd backend asked of each PAGEMAP_SCAN, through the seam in
 * uffd.c (WW_UFFD_SCAN_HOOK). */
struct seen_scan {
    uint64_t flags, start, end, vec, vec_len;
};

static struct seen_scan seen_scans[1024];
static atomic_size_t n_seen_scans;
/* Scans whose vector lies on the calling thread's stack, just above the
 * hook's frame (uffd_get's fallback), and not in the tracker's. */
static atomic_size_t n_stack_scans;
/* When set, each thread's first scan waits there for the other's: two
 * gets are then inside the backend at once, for sure. */
static pthread_barrier_t *scan_rendezvous;
static _Thread_local int met_rendezvous;

static void record_scan(const struct pm_scan_arg *arg)
{
    size_t i = atomic_fetch_add(&n_seen_scans, 1);
    char here;

    if (i < sizeof(seen_scans) / sizeof(seen_scans[0]))
        seen_scans[i] = (struct seen_scan){
            arg->flags, arg->start, arg->end, arg->vec, arg->vec_len,
        };
    if (arg->vec > (uintptr_t)&here && arg->vec - (uintptr_t)&here < 65536)
        atomic_fetch_add(&n_stack_scans, 1);
    if (scan_rendezvous && !met_rendezvous) {
        met_rendezvous = 1;
        pthread_barrier_wait(scan_rendezvous);
    }
}

#define WW_UFFD_SCAN_HOOK(arg) record_scan(arg)

/* The features the uffd backend's UFFDIO_API is told the kernel granted:
 * what it did grant, less these (through the seam WW_UFFD_API_HOOK). */
static uint64_t features_withheld;
#define WW_UFFD_API_HOOK(api) ((api)->features &= ~features_withheld)

/* The units under test, compiled in so their static functions are
 * reachable.  uffd.c brings its own ww__uffd_ops, which the tracker then
 * uses instead of the library's. */
#include "mprotect-watch.c"
#include "registry.c"
#include "vma.c"
#include "uffd.c"

static struct ww__watch *new_watch(uintptr_t start, uintptr_t end)
{
    struct ww__watch *w = calloc(1, sizeof(*w));

    w->start = start;
    w->end = end;
    return w;
}

START_TEST(test_registry_order_and_lookup)
{
    struct ww__registry r = { 0 };
    uintptr_t starts[] = { 50, 10, 30, 70, 0 };
    struct ww__watch *w[5];

    for (int i = 0; i < 5; i++) {
        w[i] = new_watch(starts[i] * PAGE, (starts[i] + 10) * PAGE);
        ck_assert(!ww__registry_overlaps(&r, w[i]->start, w[i]->end));
        ck_assert_int_eq(ww__registry_reserve(&r), 0);
        ww__registry_insert(&r, w[i]);
    }
    for (size_t i = 1; i < r.n; i++)
        ck_assert_uint_lt(r.v[i - 1]->start, r.v[i]->start);
    ck_assert_ptr_eq(ww__registry_find(&r, 31 * PAGE, 40 * PAGE), w[2]);
    ck_assert_ptr_null(ww__registry_find(&r, 31 * PAGE, 41 * PAGE));
    ck_assert_ptr_null(ww__registry_find(&r, 20 * PAGE, 21 * PAGE));
    ck_assert_ptr_eq(ww__registry_find_exact(&r, 70 * PAGE, 80 * PAGE), w[3]);
    ck_assert_ptr_null(ww__registry_find_exact(&r, 70 * PAGE, 79 * PAGE));
    ck_assert(ww__registry_overlaps(&r, 9 * PAGE, 11 * PAGE));
    ck_assert(!ww__registry_overlaps(&r, 20 * PAGE, 30 * PAGE));
    ck_assert(ww__registry_overlaps(&r, 79 * PAGE, 90 * PAGE));
    ww__registry_remove(&r, w[2]);
    ck_assert_uint_eq(r.n, 4);
    ck_assert_ptr_null(ww__registry_find(&r, 31 * PAGE, 32 * PAGE));
    ww__registry_remove(&r, w[2]);     /* absent: no change */
    ck_assert_uint_eq(r.n, 4);
    for (int i = 0; i < 5; i++)
        free(w[i]);
    ww__registry_free(&r);
}
END_TEST

START_TEST(test_sink_pages_and_ranges)
{
    void *pages[3];
    struct ww_range ranges[2];
    struct ww__sink p = { .pages = pages, .cap = 3 };
    struct ww__sink g = { .ranges = ranges, .cap = 2 };

    ck_assert_uint_eq(ww__sink_room_pages(&p), 3);
    ck_assert_uint_eq(ww__sink_room_runs(&p), SIZE_MAX);
    ww__sink_put(&p, 10 * PAGE, 12 * PAGE);
    ww__sink_put(&p, 20 * PAGE, 21 * PAGE);
    ck_assert(ww__sink_full(&p));
    ck_assert_ptr_eq(pages[2], (void *)(20 * PAGE));

    ck_assert_uint_eq(ww__sink_room_pages(&g), SIZE_MAX);
    ww__sink_put(&g, 10 * PAGE, 12 * PAGE);
    ww__sink_put(&g, 12 * PAGE, 13 * PAGE);     /* adjacent: merged */
    ck_assert_uint_eq(g.n, 1);
    ck_assert_uint_eq(ranges[0].len, 3 * PAGE);
    ww__sink_put(&g, 20 * PAGE, 21 * PAGE);
    ck_assert_uint_eq(ww__sink_room_runs(&g), 0);
}
END_TEST

/*
 * The uffd backend's page fast path (put_pages) stores a scan's regions
 * in one pass, checking each first: regions the kernel's contract allows
 * are stored in order; a region out of [cur, end), out of order, ending
 * before it starts, or more pages than the room left makes it fail with
 * -EIO and leave the sink as it was (what the caller gets back: nothing).
 */
START_TEST(test_uffd_put_pages_checks_each_region)
{
    const uintptr_t P = PAGE, cur = 100 * P, end = 200 * P;
    const struct page_region good[] = {
        { 100 * P, 102 * P, PAGE_IS_WRITTEN },
        { 102 * P, 103 * P, PAGE_IS_WRITTEN },  /* touching: fine */
        { 150 * P, 151 * P, PAGE_IS_WRITTEN },
    };
    const struct {
        const char *what;
        struct page_region v[2];
    } bad[] = {
        { "below cur", { { 99 * P, 101 * P, 0 }, { 0, 0, 0 } } },
        { "beyond end", { { 199 * P, 201 * P, 0 }, { 0, 0, 0 } } },
        { "out of order", { { 120 * P, 122 * P, 0 }, { 110 * P, 111 * P, 0 } } },
        { "overlapping", { { 120 * P, 122 * P, 0 }, { 121 * P, 123 * P, 0 } } },
        { "end before start", { { 130 * P, 120 * P, 0 }, { 0, 0, 0 } } },
        { "more than the room", { { 110 * P, 115 * P, 0 }, { 0, 0, 0 } } },
    };
    void *pages[6];
    struct ww__sink sink;

    ww__sink_init(&sink, pages, NULL, 6);
    ck_assert_int_eq(put_pages(&sink, good, 3, cur, end), 0);
    ck_assert_uint_eq(sink.n, 4);
    ck_assert_ptr_eq(pages[0], (void *)(100 * P));
    ck_assert_ptr_eq(pages[1], (void *)(101 * P));
    ck_assert_ptr_eq(pages[2], (void *)(102 * P));
    ck_assert_ptr_eq(pages[3], (void *)(150 * P));
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        long n = bad[i].v[1].end ? 2 : 1;

        ck_assert_msg(put_pages(&sink, bad[i].v, n, cur, end) == -EIO,
                      "a region %s was taken", bad[i].what);
        ck_assert_msg(sink.n == 4, "a region %s: the sink holds %zu pages, "
                      "expected the 4 it had", bad[i].what, sink.n);
    }
    /* Exactly the room left (2 pages) fits. */
    ck_assert_int_eq(put_pages(&sink, bad[0].v + 1, 0, cur, end), 0);
    {
        const struct page_region fits[] = { { 160 * P, 162 * P, 0 } };

        ck_assert_int_eq(put_pages(&sink, fits, 1, cur, end), 0);
        ck_assert(ww__sink_full(&sink));
        ck_assert_ptr_eq(pages[5], (void *)(161 * P));
    }
}
END_TEST

/* Both walkers of the VMAs must agree on every kind of memory. */
static void check_walkers(uintptr_t start, uintptr_t end, int expect)
{
    int fd = open("/proc/self/maps", O_RDONLY);
    int q = walk_by_query(fd, start, end, NULL, NULL);

    ck_assert_int_eq(walk_by_text(fd, start, end, NULL, NULL), expect);
    if (q != NO_QUERY)
        ck_assert_int_eq(q, expect);
    close(fd);
}

/* ... and the library's verdict with them. */
static void check_both(uintptr_t start, uintptr_t end, int expect)
{
    check_walkers(start, end, expect);
    ck_assert_int_eq(ww__vma_check_private_anonymous(start, end), expect);
}

/* What a walk reported, in order. */
struct seen_vmas {
    struct ww__vma v[8];
    size_t n;
};

static int collect_vma(const struct ww__vma *v, void *arg)
{
    struct seen_vmas *s = arg;

    if (s->n == 8)
        return -E2BIG;
    s->v[s->n++] = *v;
    return 0;
}

/* Both walkers report the VMAs of pages [bounds[0], bounds[n]) of base,
 * clipped to them: n VMAs, the i-th over [bounds[i], bounds[i+1]) with
 * protection prots[i]. */
static void check_walk(char *base, const size_t *bounds, const int *prots,
                       size_t n)
{
    uintptr_t start = (uintptr_t)base + bounds[0] * PAGE;
    uintptr_t end = (uintptr_t)base + bounds[n] * PAGE;
    int fd = open("/proc/self/maps", O_RDONLY);
    struct seen_vmas q = { .n = 0 }, t = { .n = 0 };
    int rq = walk_by_query(fd, start, end, collect_vma, &q);

    ck_assert_int_eq(walk_by_text(fd, start, end, collect_vma, &t), 0);
    if (rq == NO_QUERY)
        q = t;
    else
        ck_assert_int_eq(rq, 0);
    ck_assert_uint_eq(q.n, n);
    ck_assert_uint_eq(t.n, n);
    for (size_t i = 0; i < n; i++) {
        ck_assert_ptr_eq((void *)q.v[i].start, base + bounds[i] * PAGE);
        ck_assert_ptr_eq((void *)q.v[i].end, base + bounds[i + 1] * PAGE);
        ck_assert_int_eq(q.v[i].prot, prots[i]);
        ck_assert(t.v[i].start == q.v[i].start && t.v[i].end == q.v[i].end &&
                  t.v[i].prot == q.v[i].prot);
    }
    close(fd);
}

START_TEST(test_classify_memory)
{
    char *anon = t_map(8), *shared = t_map_shared(2);
    char *file = t_map_file(2);

    check_both((uintptr_t)anon, (uintptr_t)anon + 8 * PAGE, 0);
    /* Split into several VMAs by protection: still private anonymous. */
    mprotect(anon + 2 * PAGE, PAGE, PROT_READ);
    check_both((uintptr_t)anon, (uintptr_t)anon + 8 * PAGE, 0);
    check_both((uintptr_t)shared, (uintptr_t)shared + 2 * PAGE, -ENOTSUP);
    check_both((uintptr_t)file, (uintptr_t)file + 2 * PAGE, -ENOTSUP);
    munmap(anon + 5 * PAGE, PAGE);
    check_both((uintptr_t)anon, (uintptr_t)anon + 8 * PAGE, -EFAULT);
    check_both((uintptr_t)anon, (uintptr_t)anon + 5 * PAGE, 0);
}
END_TEST

/* Each VMA's share of a walked range and its protection. */
START_TEST(test_walk_reports_protections)
{
    char *m = t_map(10);
    static const size_t bounds[] = { 1, 2, 3, 4, 6, 9 };
    static const int prots[] = {
        PROT_READ | PROT_WRITE, PROT_READ, PROT_NONE,
        PROT_READ | PROT_EXEC, PROT_READ | PROT_WRITE,
    };

    ck_assert_int_eq(mprotect(m + 2 * PAGE, PAGE, PROT_READ), 0);
    ck_assert_int_eq(mprotect(m + 3 * PAGE, PAGE, PROT_NONE), 0);
    ck_assert_int_eq(mprotect(m + 4 * PAGE, 2 * PAGE, PROT_READ | PROT_EXEC),
                     0);
    /* Pages 1..8: clipped at both ends. */
    check_walk(m, bounds, prots, 5);
    {
        const size_t one[] = { 4, 5 };
        const int rx[] = { PROT_READ | PROT_EXEC };

        check_walk(m, one, rx, 1);
    }
}
END_TEST

#define HUGE_2M ((size_t)2 << 20)

/* Each scan so far: none without a vector.  Returns how many armed
 * (WP_MATCHING). */
static size_t check_scans_have_vector(void)
{
    size_t armed = 0;

    ck_assert_uint_le(n_seen_scans, sizeof(seen_scans) / sizeof(seen_scans[0]));
    for (size_t i = 0; i < n_seen_scans; i++) {
        const struct seen_scan *c = &seen_scans[i];

        if (c->start == c->end)
            continue;       /* uffd_open's empty scan: walks nothing */
        ck_assert_msg(c->vec != 0 && c->vec_len != 0,
                      "scan %zu (flags %#llx) over %llu pages with vec %#llx, "
                      "vec_len %llu: the kernel's no-vector path", i,
                      (unsigned long long)c->flags,
                      (unsigned long long)((c->end - c->start) / PAGE),
                      (unsigned long long)c->vec,
                      (unsigned long long)c->vec_len);
        armed += (c->flags & PM_SCAN_WP_MATCHING) != 0;
    }
    return armed;
}

/*
 * The uffd backend never scans with PAGEMAP_SCAN's no-vector fast path
 * (vec_len = 0): a write-protecting scan of that kind over part of a huge
 * page that reads as written oopses every 6.7+ kernel without 28aa29986dde
 * (in v6.17, 6.16.10, 6.12.50).  Here a THP inside a KEEP_HUGEPAGES watch
 * is dropped and faulted back (a fresh, unprotected THP), then half of it
 * is reset: exactly that shape.  Every scan is checked, arming or not.
 */
START_TEST(test_uffd_arms_with_vector)
{
    int avail = ww_backend_available(WW_BACKEND_UFFD);
    void *pages[4];
    size_t count = 4, armed;
    ww_tracker *t;
    char *mem;

    if (avail != 0) {
        ck_assert_msg(!t_backend_required(WW_BACKEND_UFFD),
                      "uffd required: %s", ww_strerror(avail));
        t_skip("uffd unavailable (%s)", ww_strerror(avail));
        return;
    }
    mem = t_map_aligned(2 * HUGE_2M / PAGE, HUGE_2M);
    madvise(mem, 2 * HUGE_2M, MADV_HUGEPAGE);
    memset(mem, 1, 2 * HUGE_2M);
    n_seen_scans = 0;
    ck_assert_int_eq(ww_tracker_open(&t, WW_BACKEND_UFFD, 0), 0);
    ck_assert_int_eq(ww_watch(t, mem, 2 * HUGE_2M, WW_WATCH_KEEP_HUGEPAGES),
                     0);
    ck_assert_int_eq(madvise(mem, HUGE_2M, MADV_DONTNEED), 0);
    mem[0] = 2;
    ck_assert_int_eq(ww_reset(t, mem, HUGE_2M / 2), 0);
    ck_assert_int_eq(ww_reset(t, mem + HUGE_2M + PAGE, 3 * PAGE), 0);
    mem[HUGE_2M / 2 + PAGE] = 3;
    ck_assert_int_eq(ww_get(t, mem + HUGE_2M / 2, PAGE * 4, WW_GET_RESET,
                            pages, &count), 0);
    armed = check_scans_have_vector();
    fprintf(stderr, "arms_with_vector: %zu scans, %zu of them arming\n",
            n_seen_scans, armed);
    ck_assert_uint_gt(n_seen_scans, 0);    /* the seam is in the path */
    ww_tracker_close(t);
    munmap(mem, 2 * HUGE_2M);
}
END_TEST

/* Exported only by --enable-fault-injection builds (inject.c). */
extern void ww_debug_fail_alloc_after(long n) __attribute__((weak));
extern void ww_debug_fail_scan_after(long n, int err) __attribute__((weak));
extern void ww_debug_fail_map_after(long n) __attribute__((weak));

/* Skip the calling test unless uffd works here. */
static int uffd_or_skip(void)
{
    int avail = ww_backend_available(WW_BACKEND_UFFD);

    if (avail == 0)
        return 1;
    ck_assert_msg(!t_backend_required(WW_BACKEND_UFFD), "uffd required: %s",
                  ww_strerror(avail));
    t_skip("uffd unavailable (%s)", ww_strerror(avail));
    return 0;
}

/* Write every other page of [mem, mem + 2 * runs pages), starting with
 * page `first`, then get (flags) them all into pages[] and check that
 * exactly those came back, in order.  Returns the get's result. */
static int get_every_other(ww_tracker *t, char *mem, size_t runs, size_t first,
                           unsigned flags, void **pages, int write)
{
    size_t count = 2 * runs;
    int r;

    if (write)
        for (size_t i = first; i < 2 * runs; i += 2)
            mem[i * PAGE] = 1;
    r = ww_get(t, mem, 2 * runs * PAGE, flags, pages, &count);
    if (r < 0)
        return r;
    ck_assert_uint_eq(count, (2 * runs - first + 1) / 2);
    for (size_t i = 0; i < count; i++)
        ck_assert_ptr_eq(pages[i], mem + (first + 2 * i) * PAGE);
    return 0;
}

/* The vec_len of each scan since n_seen_scans was last zeroed, checked
 * against the expected sequence. */
static void assert_scan_lengths(const char *what, const size_t *want, size_t n)
{
    char seen[256] = "";

    for (size_t i = 0; i < n_seen_scans && i < 16; i++)
        snprintf(seen + strlen(seen), sizeof(seen) - strlen(seen), " %llu",
                 (unsigned long long)seen_scans[i].vec_len);
    ck_assert_msg(n_seen_scans == n, "%s: %zu scans, expected %zu (vector "
                  "lengths:%s)", what, (size_t)n_seen_scans, n, seen);
    for (size_t i = 0; i < n; i++)
        ck_assert_msg(seen_scans[i].vec_len == want[i],
                      "%s: scan %zu had a %llu-region vector, expected %zu",
                      what, i, (unsigned long long)seen_scans[i].vec_len,
                      want[i]);
}

/*
 * Issue 14, goal 2.  The uffd backend's get grows the tracker's region
 * vector, by doubling, each time a scan fills it, up to VEC_MAX: a
 * workload's second get makes one scan (or as few as VEC_MAX allows), and
 * every get reports exactly the pages written, across the growth.  A
 * vector is never longer than the sink's room for runs.
 */
START_TEST(test_uffd_vector_grows)
{
    const size_t runs = VEC_MAX + 1000;
    const size_t grow[] = { 256, 512, 1024, 2048, 4096, 8192, 16384 };
    const size_t steady[] = { VEC_MAX, VEC_MAX };
    void **pages = calloc(2 * runs, sizeof(*pages));
    struct ww_range rv[100];
    size_t count;
    ww_tracker *t;
    char *mem;

    if (!uffd_or_skip())
        return;
    ck_assert_ptr_nonnull(pages);
    ck_assert_int_eq(VEC_MAX, 16384);       /* the sequences below */
    ck_assert_int_eq(ww_tracker_open(&t, WW_BACKEND_UFFD, 0), 0);
    mem = t_watched(t, 2 * runs);

    n_seen_scans = 0;
    ck_assert_int_eq(get_every_other(t, mem, runs, 0, WW_GET_RESET, pages, 1),
                     0);
    assert_scan_lengths("first get", grow, 7);
    n_seen_scans = 0;
    ck_assert_int_eq(get_every_other(t, mem, runs, 0, WW_GET_RESET, pages, 1),
                     0);
    assert_scan_lengths("second get", steady, 2);
    /* Without RESET: the same vector, the same pages, twice. */
    for (int i = 0; i < 2; i++) {
        n_seen_scans = 0;
        ck_assert_int_eq(get_every_other(t, mem, runs, 0, 0, pages, !i), 0);
        assert_scan_lengths("get without RESET", steady, 2);
    }
    ck_assert_int_eq(get_every_other(t, mem, runs, 0, WW_GET_RESET, pages, 0),
                     0);
    /* Ranges, 100 at a time: the vector is cut to the room. */
    for (size_t i = 0; i < 2 * runs; i += 2)
        mem[i * PAGE] = 1;
    n_seen_scans = 0;
    count = 100;
    ck_assert_int_eq(ww_get_ranges(t, mem, 2 * runs * PAGE, WW_GET_RESET, rv,
                                   &count), 0);
    ck_assert_uint_eq(count, 100);
    for (size_t i = 0; i < count; i++) {
        ck_assert_ptr_eq(rv[i].addr, mem + 2 * i * PAGE);
        ck_assert_uint_eq(rv[i].len, PAGE);
    }
    ck_assert_uint_eq(n_seen_scans, 1);
    ck_assert_uint_eq(seen_scans[0].vec_len, 100);
    /* The rest: everything but the 100 runs reset above.  After a get
     * that found no more than 256 runs, the next starts on the tracker's
     * small vector (the kernel's bounce buffer is cheaper), and moves over
     * to the grown one (no growth) when that fills. */
    const size_t after_sparse[] = { 256, VEC_MAX, VEC_MAX };
    n_seen_scans = 0;
    count = 2 * runs;
    ck_assert_int_eq(ww_get(t, mem, 2 * runs * PAGE, WW_GET_RESET, pages,
                            &count), 0);
    ck_assert_uint_eq(count, runs - 100);
    ck_assert_ptr_eq(pages[0], mem + 200 * PAGE);
    assert_scan_lengths("get after a sparse one", after_sparse, 3);
    fprintf(stderr, "vector_grows: %zu runs: 7 scans growing 256..%d, then "
            "2 per get\n", runs, VEC_MAX);
    ww_tracker_close(t);
    t_munmap_pages(mem, 2 * runs);
    free(pages);
}
END_TEST

/* Two threads, each get+RESET on its own watch of one tracker, over and
 * over: one owns the tracker's vector while the other scans through its
 * stack's (their first scans meet at a rendezvous in the scan hook, so
 * both are inside the backend at once, while the owner grows the vector).
 * Every report is exact. */
enum { TWO_RUNS = 3000, TWO_ROUNDS = 40 };

struct two_getter {
    ww_tracker *t;
    char *mem;
    void **pages;
    int failed;
};

static void *two_getter_main(void *arg)
{
    struct two_getter *g = arg;

    for (int round = 0; round < TWO_ROUNDS && !g->failed; round++) {
        size_t first = (size_t)round % 2, count = 2 * TWO_RUNS;
        size_t want = TWO_RUNS;

        for (size_t i = first; i < 2 * TWO_RUNS; i += 2)
            g->mem[i * PAGE] = (char)round;
        if (ww_get(g->t, g->mem, 2 * TWO_RUNS * PAGE, WW_GET_RESET, g->pages,
                   &count) != 0 || count != want)
            g->failed = 1;
        for (size_t i = 0; !g->failed && i < count; i++)
            if (g->pages[i] != g->mem + (first + 2 * i) * PAGE)
                g->failed = 1;
        count = 2 * TWO_RUNS;
        if (!g->failed && (ww_get(g->t, g->mem, 2 * TWO_RUNS * PAGE, 0,
                                  g->pages, &count) != 0 || count != 0))
            g->failed = 1;
    }
    return NULL;
}

START_TEST(test_uffd_vector_two_threads)
{
    pthread_barrier_t rendezvous;
    struct two_getter g[2];
    pthread_t tid[2];
    ww_tracker *t;

    if (!uffd_or_skip())
        return;
    ck_assert_int_eq(ww_tracker_open(&t, WW_BACKEND_UFFD, 0), 0);
    for (int i = 0; i < 2; i++) {
        g[i].t = t;
        g[i].mem = t_watched(t, 2 * TWO_RUNS);
        g[i].pages = calloc(2 * TWO_RUNS, sizeof(void *));
        g[i].failed = 0;
        ck_assert_ptr_nonnull(g[i].pages);
    }
    ck_assert_int_eq(pthread_barrier_init(&rendezvous, NULL, 2), 0);
    n_stack_scans = 0;
    scan_rendezvous = &rendezvous;
    for (int i = 0; i < 2; i++)
        ck_assert_int_eq(pthread_create(&tid[i], NULL, two_getter_main, &g[i]),
                         0);
    for (int i = 0; i < 2; i++)
        ck_assert_int_eq(pthread_join(tid[i], NULL), 0);
    scan_rendezvous = NULL;
    pthread_barrier_destroy(&rendezvous);
    for (int i = 0; i < 2; i++)
        ck_assert_msg(!g[i].failed, "thread %d: a get+RESET was not exact", i);
    /* At the rendezvous one thread owned the tracker's vectors; the
     * other scanned through its stack's. */
    ck_assert_uint_gt(n_stack_scans, 0);
    fprintf(stderr, "vector_two_threads: 2 x %d exact get+RESETs of %d runs, "
            "%zu scans on a stack vector\n", TWO_ROUNDS, TWO_RUNS,
            (size_t)n_stack_scans);
    ww_tracker_close(t);
    for (int i = 0; i < 2; i++) {
        t_munmap_pages(g[i].mem, 2 * TWO_RUNS);
        free(g[i].pages);
    }
}
END_TEST

/*
 * A growth that fails (ENOMEM) is no error: the get goes on with the
 * vector it has, in more scans, and reports exactly what was written.
 * Then a growth that fails and a scan that fails in one get+RESET: the
 * failed-RESET contract holds (nothing reported, nothing lost).
 */
START_TEST(test_uffd_vector_growth_fails)
{
    enum { RUNS = 2000 };
    const size_t fell_back[] = { 256, 256, 512, 1024 };
    void **pages = calloc(2 * RUNS, sizeof(*pages));
    ww_tracker *t;
    size_t count;
    char *mem;
    int r;

    if (!uffd_or_skip())
        return;
    if (!ww_debug_fail_map_after) {
        t_skip("needs ./configure --enable-fault-injection");
        free(pages);
        return;
    }
    ck_assert_ptr_nonnull(pages);
    for (long n = 0; n < 4; n++) {
        ck_assert_int_eq(ww_tracker_open(&t, WW_BACKEND_UFFD, 0), 0);
        mem = t_watched(t, 2 * RUNS);
        n_seen_scans = 0;
        ww_debug_fail_map_after(n);
        r = get_every_other(t, mem, RUNS, 0, WW_GET_RESET, pages, 1);
        ww_debug_fail_map_after(-1);
        ck_assert_msg(r == 0, "growth %ld failing: %s", n, ww_strerror(r));
        if (n == 0)
            assert_scan_lengths("first growth failing", fell_back, 4);
        count = 2 * RUNS;
        ck_assert_int_eq(ww_get(t, mem, 2 * RUNS * PAGE, 0, pages, &count), 0);
        ck_assert_uint_eq(count, 0);
        ww_tracker_close(t);
        t_munmap_pages(mem, 2 * RUNS);
    }

    ck_assert_int_eq(ww_tracker_open(&t, WW_BACKEND_UFFD, 0), 0);
    mem = t_watched(t, 2 * RUNS);
    for (size_t i = 0; i < 2 * RUNS; i += 2)
        mem[i * PAGE] = 1;
    ww_debug_fail_map_after(0);
    ww_debug_fail_scan_after(2, ENOMEM);        /* the third scan */
    count = 2 * RUNS;
    r = ww_get(t, mem, 2 * RUNS * PAGE, WW_GET_RESET, pages, &count);
    ww_debug_fail_map_after(-1);
    ww_debug_fail_scan_after(-1, 0);
    ck_assert_int_eq(r, -ENOMEM);
    ck_assert_uint_eq(count, 2 * RUNS);
    /* Nothing lost: all 2000 pages, the 512 the first two scans had
     * re-armed included; then they are clean. */
    ck_assert_int_eq(get_every_other(t, mem, RUNS, 0, 0, pages, 0), 0);
    ck_assert_int_eq(get_every_other(t, mem, RUNS, 0, WW_GET_RESET, pages, 0),
                     0);
    count = 2 * RUNS;
    ck_assert_int_eq(ww_get(t, mem, 2 * RUNS * PAGE, 0, pages, &count), 0);
    ck_assert_uint_eq(count, 0);
    fprintf(stderr, "vector_growth_fails: each of 4 growths failing in turn: "
            "exact; with a failed scan after it: nothing lost\n");
    ww_tracker_close(t);
    t_munmap_pages(mem, 2 * RUNS);
    free(pages);
}
END_TEST

/* What this kernel offers the uffd backend, asked directly: 1 when
 * userfaultfd grants WP_ASYNC and WP_UNPOPULATED and PAGEMAP_SCAN exists;
 * 0 when the kernel answers without them; -1 when userfaultfd(2) itself is
 * refused (a sandbox).  *features gets what UFFDIO_API granted. */
static int kernel_offers_uffd(uint64_t *features)
{
    struct uffdio_api api = { .api = UFFD_API, .features = 0 };
    struct pm_scan_arg scan = { .size = sizeof(scan) };
    const uint64_t need = UFFD_FEATURE_WP_ASYNC | UFFD_FEATURE_WP_UNPOPULATED;
    int fd = (int)syscall(SYS_userfaultfd, O_CLOEXEC | UFFD_USER_MODE_ONLY);
    int pm, r;

    *features = 0;
    if (fd < 0)
        return -1;
    ck_assert_int_eq(ioctl(fd, UFFDIO_API, &api), 0);
    close(fd);
    *features = api.features;
    if ((api.features & need) != need)
        return 0;
    pm = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
    ck_assert_int_ge(pm, 0);
    r = ioctl(pm, PAGEMAP_SCAN, &scan) == 0;
    close(pm);
    return r;
}

/*
 * Where the kernel lacks what uffd needs (Debian bookworm's 6.1: its
 * UFFDIO_API refuses the unknown WP_ASYNC bit with EINVAL), the uffd
 * backend is refused with -ENOTSUP, leaving no descriptor behind, and
 * WW_BACKEND_AUTO runs mprotect, which reports exactly.  Where it has it,
 * uffd is available and AUTO picks it.  Run by scripts/kernels.sh on every
 * kernel of the matrix.
 */
START_TEST(test_uffd_follows_the_kernel)
{
    uint64_t features;
    int offers = kernel_offers_uffd(&features);
    int fds = t_count_fds();
    ww_tracker *t;
    char *m;
    size_t page2[] = { 2 };

    fprintf(stderr, "uffd_follows_the_kernel: features %#llx, uffd %s\n",
            (unsigned long long)features,
            offers > 0 ? "offered" : offers == 0 ? "not offered" : "denied");
    if (offers < 0) {
        t_skip("userfaultfd(2) is denied here");
        return;
    }
    if (offers) {
        ck_assert_int_eq(ww_backend_available(WW_BACKEND_UFFD), 0);
    } else {
        ck_assert_int_eq(ww_backend_available(WW_BACKEND_UFFD), -ENOTSUP);
        ck_assert_int_eq(ww_tracker_open(&t, WW_BACKEND_UFFD, 0), -ENOTSUP);
        ck_assert_int_eq(t_count_fds(), fds);
    }
    if (getenv("WW_BACKEND"))
        return;                 /* AUTO means what the variable says */
    ck_assert_int_eq(ww_tracker_open(&t, WW_BACKEND_AUTO, 0), 0);
    ck_assert_int_eq(ww_tracker_backend(t),
                     offers ? WW_BACKEND_UFFD : WW_BACKEND_MPROTECT);
    m = t_map(4);
    ck_assert_int_eq(ww_watch(t, m, 4 * PAGE, 0), 0);
    m[2 * PAGE + 7] = 1;
    t_assert_written_pages(t, m, 4, page2, 1);
    ww_tracker_close(t);
    munmap(m, 4 * PAGE);
}
END_TEST

/* A kernel that answers UFFDIO_API without granting every feature asked
 * for (it may mask out what the architecture or configuration lacks)
 * gets the uffd backend refused, not run without asynchronous
 * write-protect: simulated here by withholding each feature in turn. */
START_TEST(test_uffd_refused_without_granted_features)
{
    static const uint64_t each[] = {
        UFFD_FEATURE_WP_ASYNC, UFFD_FEATURE_WP_UNPOPULATED,
    };
    uint64_t features;
    ww_tracker *t;

    if (kernel_offers_uffd(&features) <= 0) {
        t_skip("this kernel offers no uffd backend to refuse "
               "(test_uffd_follows_the_kernel covers it)");
        return;
    }
    for (size_t i = 0; i < sizeof(each) / sizeof(each[0]); i++) {
        void *priv = NULL;
        int fds = t_count_fds();

        features_withheld = each[i];
        ck_assert_msg(uffd_open(&priv) == -ENOTSUP,
                      "uffd opened without feature %#llx granted",
                      (unsigned long long)each[i]);
        ck_assert_int_eq(t_count_fds(), fds);
    }
    /* Through the front: refused, and AUTO runs mprotect (the probe is
     * cached per process, so the withheld feature stays withheld). */
    ck_assert_int_eq(ww_backend_available(WW_BACKEND_UFFD), -ENOTSUP);
    ck_assert_int_eq(ww_tracker_open(&t, WW_BACKEND_UFFD, 0), -ENOTSUP);
    if (!getenv("WW_BACKEND")) {
        ck_assert_int_eq(ww_tracker_open(&t, WW_BACKEND_AUTO, 0), 0);
        ck_assert_int_eq(ww_tracker_backend(t), WW_BACKEND_MPROTECT);
        ww_tracker_close(t);
    }
    features_withheld = 0;
}
END_TEST

#ifndef MAP_DROPPABLE
#define MAP_DROPPABLE 0x08
#endif

/* The VmFlags of the VMA at addr, as /proc/self/smaps prints them. */
static void vm_flags_of(void *addr, char out[512])
{
    FILE *f = fopen("/proc/self/smaps", "r");
    char line[512];
    int here = 0;

    ck_assert_ptr_nonnull(f);
    out[0] = '\0';
    while (fgets(line, sizeof(line), f)) {
        unsigned long lo, hi;
        char perm;

        if (sscanf(line, "%lx-%lx %c", &lo, &hi, &perm) == 3)
            here = lo <= (uintptr_t)addr && (uintptr_t)addr < hi;
        else if (here && strncmp(line, "VmFlags:", 8) == 0)
            memcpy(out, line + 8, sizeof(line) - 8);
    }
    fclose(f);
}

/* Droppable memory is found, wherever it lies in the range, and asking
 * changes nothing (unlike MADV_KEEPONFORK, which would also tell). */
START_TEST(test_droppable_found_without_side_effects)
{
    char *m = t_map(6), *drop;
    char before[512], after[512];

    ck_assert(has_vm_flag(" rd wr mr mw me nr wf dd dp \n", "dp"));
    ck_assert(has_vm_flag(" dp", "dp"));
    ck_assert(!has_vm_flag(" rd wr dd sd\n", "dp"));
    ck_assert_int_eq(madvise(m, 6 * PAGE, MADV_WIPEONFORK), 0);
    ck_assert_int_eq(madvise(m, 6 * PAGE, MADV_DONTDUMP), 0);
    vm_flags_of(m, before);
    ck_assert_int_eq(ww__check_not_droppable((uintptr_t)m,
                                             (uintptr_t)m + 6 * PAGE), 0);
    vm_flags_of(m, after);
    ck_assert_str_eq(before, after);
    ck_assert(has_vm_flag(after, "wf") && has_vm_flag(after, "dd"));
    drop = mmap(m + 2 * PAGE, PAGE, PROT_READ | PROT_WRITE,
                MAP_DROPPABLE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
    if (drop == MAP_FAILED) {
        ck_assert_int_eq(errno, EINVAL);
        t_skip("the kernel has no MAP_DROPPABLE");
        return;
    }
    ck_assert_int_eq(ww__check_not_droppable((uintptr_t)m,
                                             (uintptr_t)m + 6 * PAGE),
                     -ENOTSUP);
    ck_assert_int_eq(ww__check_not_droppable((uintptr_t)drop,
                                             (uintptr_t)drop + PAGE),
                     -ENOTSUP);
    ck_assert_int_eq(ww__check_not_droppable((uintptr_t)m,
                                             (uintptr_t)m + 2 * PAGE), 0);
    ck_assert_int_eq(ww__check_not_droppable((uintptr_t)m + 3 * PAGE,
                                             (uintptr_t)m + 6 * PAGE), 0);
    /* Both walkers see private anonymous memory, as the kernel says.  The
     * library's verdict refuses it where userfaultfd would let it through
     * (Linux 6.11-6.15; found by scripts/kernels.sh on 6.12, where this
     * test expected 0). */
    check_walkers((uintptr_t)drop, (uintptr_t)drop + PAGE, 0);
    ck_assert_int_eq(ww__vma_check_private_anonymous((uintptr_t)drop,
                                                     (uintptr_t)drop + PAGE),
                     kernel_version() >= 6011 && kernel_version() < 6016
                         ? -ENOTSUP : 0);
    munmap(m, 6 * PAGE);
}
END_TEST

/* The smaps reader on text the kernel could print: a header line longer
 * than its buffer (a path) must not be taken for several lines. */
START_TEST(test_smaps_reader_long_lines)
{
    char text[2048];
    char path[700];
    FILE *f;

    memset(path, 'a', sizeof(path) - 1);
    path[sizeof(path) - 1] = '\0';
    /* Inside the path, a piece that would parse as a header of a VMA over
     * the range, followed by a VmFlags line of the file's VMA. */
    memcpy(path + 255, "2000-3000 rw-p", 14);
    snprintf(text, sizeof(text),
             "1000-2000 r--p 00000000 08:01 12 /%s\n"
             "Size:                  4 kB\n"
             "VmFlags: rd mr mw me dp \n"
             "4000-5000 rw-p 00000000 00:00 0 \n"
             "AnonHugePages:         0 kB\n"
             "VmFlags: rd wr mr mw me ac \n"
             "5000-6000 rw-p 00000000 00:00 0 \n"
             "VmFlags: rd wr mr mw me nr wf dd dp \n", path);
    f = fmemopen(text, strlen(text), "r");
    ck_assert_int_eq(scan_smaps(f, 0x2000, 0x5000), 0);
    rewind(f);
    ck_assert_int_eq(scan_smaps(f, 0x2000, 0x5001), -ENOTSUP);
    rewind(f);
    ck_assert_int_eq(scan_smaps(f, 0x1fff, 0x2000), -ENOTSUP);
    fclose(f);
}
END_TEST

/* A watch of n pages at m, all read-write for the caller, armed, with the
 * pages listed written (made writable as by a write fault). */
static struct ww__mp_watch *armed_watch(char *m, size_t n, const size_t *w,
                                        size_t k)
{
    struct ww__mp_watch *mw = ww__mp_watch_new((uintptr_t)m,
                                               (uintptr_t)m + n * PAGE);

    ck_assert_ptr_nonnull(mw);
    ww__mp_set_prot(mw, 0, n, PROT_READ | PROT_WRITE);
    ww__mp_prot_recorded(mw);
    ck_assert_int_eq(ww__mp_arm(mw, 0, n), 0);
    for (size_t i = 0; i < k; i++)
        ck_assert_int_eq(ww__mp_make_writable(mw, w[i], w[i] + 1), 0);
    return mw;
}

/* The merges that give VMAs back at vm.max_map_count, on their own: which
 * runs they pick, and the mappings they leave.  Bits are only ever set. */
START_TEST(test_merges_give_back_vmas)
{
    const int r = PROT_READ, rw = PROT_READ | PROT_WRITE;
    char *m = t_map(8);
    static const size_t written[] = { 2, 5 };
    struct ww__mp_watch *mw = armed_watch(m, 8, written, 2);
    size_t cursor = 0;

    {
        const size_t b[] = { 0, 2, 3, 5, 6, 8 };
        const int p[] = { r, rw, r, rw, r };

        check_walk(m, b, p, 5);
    }
    /* The armed run between the two written pages (the one at the start
     * has no written page before it). */
    ck_assert_int_eq(merge_armed_gap(mw, &cursor, SIZE_MAX), 1);
    ck_assert_uint_eq(cursor, 5);
    ck_assert_uint_eq(ww__mp_find(mw, 0, 8, 1), 2);
    ck_assert_uint_eq(ww__mp_find(mw, 2, 8, 0), 6);
    {
        const size_t b[] = { 0, 2, 6, 8 };
        const int p[] = { r, rw, r };

        check_walk(m, b, p, 3);
    }
    ck_assert_int_eq(merge_armed_gap(mw, &cursor, SIZE_MAX), 0);
    /* The written run between armed pages loses write permission and
     * keeps its bits: one VMA again. */
    cursor = 0;
    ck_assert_int_eq(merge_written_run(mw, &cursor, 0, 0), 1);
    {
        const size_t b[] = { 0, 8 };
        const int p[] = { r };

        check_walk(m, b, p, 1);
    }
    ck_assert_uint_eq(ww__mp_find(mw, 0, 8, 1), 2);
    ck_assert_uint_eq(ww__mp_find(mw, 2, 8, 0), 6);
    ww__mp_watch_free(mw);
    munmap(m, 8 * PAGE);
}
END_TEST

/* Merges never make a page writable that the caller did not allow, and
 * only take write permission where the neighbours end up alike. */
START_TEST(test_merges_respect_caller_protections)
{
    const int r = PROT_READ, rw = PROT_READ | PROT_WRITE;
    char *m = t_map(9);
    static const size_t written[] = { 1, 4, 6 };
    struct ww__mp_watch *mw = armed_watch(m, 9, written, 3);
    size_t cursor = 0;

    /* [RW][RW w][R][R][RW w][NONE][RW w][NONE][RW] */
    ck_assert_int_eq(ww__mp_protect(mw, 2, 4, r), 0);
    ck_assert_int_eq(ww__mp_protect(mw, 5, 6, PROT_NONE), 0);
    ck_assert_int_eq(ww__mp_protect(mw, 7, 8, PROT_NONE), 0);
    /* No armed run lies between written pages of its own protection. */
    ck_assert_int_eq(merge_armed_gap(mw, &cursor, SIZE_MAX), 0);
    /* Page 1 (between an armed RW page and a read-only one) qualifies;
     * page 4 (read-only before, inaccessible after) and page 6 (between
     * inaccessible pages) do not. */
    cursor = 0;
    ck_assert_int_eq(merge_written_run(mw, &cursor, 0, 0), 1);
    ck_assert_uint_eq(cursor, 2);
    ck_assert_int_eq(merge_written_run(mw, &cursor, 0, 0), 0);
    /* Skipped when it is the run being made writable. */
    cursor = 0;
    ck_assert_int_eq(merge_written_run(mw, &cursor, 1, 2), 0);
    {
        const size_t b[] = { 0, 4, 5, 6, 7, 8, 9 };
        const int p[] = { r, rw, PROT_NONE, rw, PROT_NONE, r };

        check_walk(m, b, p, 6);
    }
    ww__mp_watch_free(mw);
    munmap(m, 9 * PAGE);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("internal");
    TCase *tc = tcase_create("internal");

    tcase_add_test(tc, test_registry_order_and_lookup);
    tcase_add_test(tc, test_sink_pages_and_ranges);
    tcase_add_test(tc, test_uffd_put_pages_checks_each_region);
    tcase_add_test(tc, test_classify_memory);
    tcase_add_test(tc, test_walk_reports_protections);
    tcase_add_test(tc, test_uffd_arms_with_vector);
    tcase_add_test(tc, test_uffd_vector_grows);
    tcase_add_test(tc, test_uffd_vector_two_threads);
    tcase_add_test(tc, test_uffd_vector_growth_fails);
    tcase_add_test(tc, test_uffd_follows_the_kernel);
    tcase_add_test(tc, test_uffd_refused_without_granted_features);
    tcase_add_test(tc, test_droppable_found_without_side_effects);
    tcase_add_test(tc, test_smaps_reader_long_lines);
    tcase_add_test(tc, test_merges_give_back_vmas);
    tcase_add_test(tc, test_merges_respect_caller_protections);
    suite_add_tcase(s, tc);
    return t_run_suite(s);
}
