/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * s5_memory.c - scenario 5: what watching costs in memory.
 *   - page tables (VmPTE) the watch itself adds to an unpopulated range:
 *     uffd's WP_UNPOPULATED fills the page tables down to the last level so
 *     it can mark never-touched pages;
 *   - the tracker's own memory (RSS delta over watch, a full write of the
 *     range and a get+RESET, on a populated range: the range itself is
 *     already resident, so what grows is the backend's bookkeeping);
 *   - VMAs: mprotect splits one per scattered written page (the kernel
 *     allows 65530 per process).
 *   - the library's own allocations (malloc'd bytes, glibc's mallinfo2),
 *     after a get of a fully written range and, the worst case for the
 *     uffd backend's region vector, of one with every other page written;
 *   - beside them, what Windows (one bit per page of a write-watch
 *     region) and stock Wine 8.0 (one byte per page) pay by design.
 * The bar: watching a GiB that is fully committed (populated) costs no
 * more than the page tables that GiB needs anyway.
 * /proc/self/status is process-wide; nothing else runs meanwhile.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "writewatch.h"
#include "wwbench.h"

static const enum method_id s5_methods[] = {
    M_RAW_UFFD, M_LIB_UFFD, M_LIB_MPROTECT, M_NAIVE_MPROTECT,
};
#define N_S5 (sizeof(s5_methods) / sizeof(s5_methods[0]))
/* Range of the VMA count, every other page written: 20000 runs, past
 * the 16384 regions at which the uffd backend's vector stops growing. */
#define VMA_PAGES 40000

static void put(const char *method, const char *metric, double v)
{
    res_add(5, "memory", method, metric, &v, 1);
}

/* KiB per GiB watched from a delta in KiB over len bytes. */
static double per_gib(long kib, size_t len)
{
    return (double)kib * (double)GIB / (double)len;
}

/* The library's own heap for a whole tracker, in the worst case for the
 * uffd backend's region vector: a fresh tracker, one watch of npages with
 * every other page written, a get+RESET; malloc'd KiB from before the
 * open to before the close (the methods' tracker lives for the whole run,
 * so its vector already has whatever size earlier scenarios gave it). */
static double tracker_heap_kib(enum ww_backend backend, size_t npages,
                               void **pages)
{
    size_t len = npages * page_size(), count = npages;
    long heap0 = heap_bytes(), heap1 = -1;
    ww_tracker *t;
    char *base;

    if (heap0 < 0 || ww_tracker_open(&t, backend, 0) < 0)
        return -1;
    base = region_map(len, 1);
    if (ww_watch(t, base, len, 0) == 0) {
        for (size_t i = 0; i < npages; i += 2)
            base[i * page_size()] = 5;
        if (ww_get(t, base, len, WW_GET_RESET, pages, &count) == 0 &&
            count == npages / 2)
            heap1 = heap_bytes();
        else
            fail("%s: get+RESET of every other page: wrong report",
                 ww_backend_name(backend));
    }
    ww_tracker_close(t);
    region_unmap(base, len);
    return heap1 < 0 ? -1 : (double)(heap1 - heap0) / 1024;
}

static int measure(const struct method *m, size_t len, void **pages,
                   struct pageset *all)
{
    char *base = region_map(len, 0);
    long pte0 = proc_status_kib("VmPTE"), pte1, rss0, rss1, vma0, vma1;
    long heap0, heap1;
    size_t count = 0;
    int wrong, r = m->watch(base, len);

    if (r < 0)
        goto fail;
    pte1 = proc_status_kib("VmPTE");
    m->unwatch();
    region_unmap(base, len);
    put(m->key, "KiB-PTE/GiB-unpopulated", per_gib(pte1 - pte0, len));

    base = region_map(len, 1);
    rss0 = proc_status_kib("VmRSS");
    pte0 = proc_status_kib("VmPTE");
    heap0 = heap_bytes();
    r = m->watch(base, len);
    if (r < 0)
        goto fail;
    touch_pages(base, all->list, all->n, 3);
    r = m->get_reset(pages, all->npages, &count);
    wrong = r == 0 && verify_report(m->label, pages, count, base, all, NULL) < 0;
    rss1 = proc_status_kib("VmRSS");
    pte1 = proc_status_kib("VmPTE");
    heap1 = heap_bytes();
    m->unwatch();
    region_unmap(base, len);
    if (wrong)
        return -1;
    if (r < 0)
        goto fail;
    put(m->key, "KiB-RSS/GiB", per_gib(rss1 - rss0, len));
    put(m->key, "KiB-PTE/GiB-populated", per_gib(pte1 - pte0, len));
    if (heap0 >= 0)
        put(m->key, "KiB-heap/GiB-populated",
            per_gib((heap1 - heap0) / 1024, len));

    /* Every other page written: the worst case for VMA splitting. */
    base = region_map(VMA_PAGES * page_size(), 1);
    r = m->watch(base, VMA_PAGES * page_size());
    if (r < 0)
        goto fail;
    vma0 = proc_vma_count();
    heap0 = heap_bytes();
    for (size_t i = 0; i < VMA_PAGES; i += 2)
        base[i * page_size()] = 4;
    vma1 = proc_vma_count();
    r = m->get_reset(pages, VMA_PAGES, &count);
    heap1 = heap_bytes();
    m->unwatch();
    region_unmap(base, VMA_PAGES * page_size());
    if (r < 0)
        goto fail;
    put(m->key, "VMAs/1000-written", (double)(vma1 - vma0) * 1000 /
                                         (VMA_PAGES / 2));
    /* Per tracker, not per GiB: what scattered writes add. */
    if (m == &method_lib_uffd || m == &method_lib_mprotect) {
        double kib = tracker_heap_kib(m == &method_lib_uffd ? WW_BACKEND_UFFD
                                      : WW_BACKEND_MPROTECT, VMA_PAGES, pages);
        if (kib >= 0)
            put(m->key, "KiB-heap-scattered", kib);
    } else if (heap0 >= 0) {
        put(m->key, "KiB-heap-scattered", (double)(heap1 - heap0) / 1024);
    }
    return 0;
fail:
    fail("%s: memory scenario: %s", m->label, err_str(r));
    return -1;
}

void scenario_memory(void)
{
    size_t len = opt.quick ? 256 * MIB : GIB, npages = len / page_size();
    void **pages = malloc(npages * sizeof(*pages));
    struct pageset all;
    char b[6][32];

    if (!pages)
        die("out of memory");
    memset(pages, 0, npages * sizeof(*pages));   /* resident before RSS0 */
    pageset_init(&all, npages);
    for (uint32_t i = 0; i < npages; i++)
        pageset_add(&all, i);

    /* The reference: page tables of the range itself, tracked or not. */
    long pte0 = proc_status_kib("VmPTE");
    char *base = region_map(len, 1);
    put("none", "KiB-PTE/GiB-populated", per_gib(proc_status_kib("VmPTE") - pte0,
                                                 len));
    region_unmap(base, len);

    for (size_t k = 0; k < N_S5; k++) {
        const struct method *m = method_get(s5_methods[k]);
        const char *why;

        if (method_available(s5_methods[k], &why) < 0) {
            res_status(5, "memory", m->key, "KiB-PTE/GiB-unpopulated",
                       ST_UNAVAILABLE, why);
            continue;
        }
        progress("[5/5] memory: %s", m->label);
        if (measure(m, len, pages, &all) < 0)
            res_status(5, "memory", m->key, "KiB-PTE/GiB-unpopulated",
                       ST_FAILED, NULL);
    }
    progress_done();

    double needed = res_value(5, "memory", "none", "KiB-PTE/GiB-populated");
    double bit = (double)GIB / (double)page_size() / 8 / 1024;

    printf("\nScenario 5: memory cost per GiB watched (measured on %zu MiB; "
           "the page tables populated memory needs anyway: %.0f KiB/GiB)\n",
           len / MIB, needed);
    printf("  %-16s %11s %11s %11s %11s %12s %11s %9s\n", "",
           "PTE KiB", "PTE KiB", "own heap", "own RSS", "total KiB", "own heap",
           "VMAs per");
    printf("  %-16s %11s %11s %11s %11s %12s %11s %9s\n", "method",
           "watch empty", "watch full", "KiB, full", "KiB, full",
           "full/needed", "KiB, 50%*", "1000 pgs");
    for (size_t k = 0; k < N_S5; k++) {
        const struct method *m = method_get(s5_methods[k]);
        const struct result *r = res_find(5, "memory", m->key,
                                          "KiB-PTE/GiB-unpopulated");
        double full = res_value(5, "memory", m->key, "KiB-PTE/GiB-populated");
        double heap = res_value(5, "memory", m->key, "KiB-heap/GiB-populated");
        char total[32] = "-";

        if (r->status != ST_OK) {
            printf("  %-16s %11s  %s\n", m->label, cell(b[0], 32, r, 0),
                   r->note ? r->note : "");
            continue;
        }
        if (full >= 0 && needed > 0)
            snprintf(total, sizeof(total), "%.0f (%.2fx)",
                     full + (heap > 0 ? heap : 0),
                     (full + (heap > 0 ? heap : 0)) / needed);
        printf("  %-16s %11.0f %11s %11s %11s %12s %11s %9s\n", m->label,
               r->median, cell(b[1], 32, res_find(5, "memory", m->key,
                                                  "KiB-PTE/GiB-populated"), 0),
               cell(b[2], 32, res_find(5, "memory", m->key,
                                       "KiB-heap/GiB-populated"), 0),
               cell(b[3], 32, res_find(5, "memory", m->key, "KiB-RSS/GiB"), 0),
               total,
               cell(b[4], 32, res_find(5, "memory", m->key,
                                       "KiB-heap-scattered"), 0),
               cell(b[5], 32, res_find(5, "memory", m->key,
                                       "VMAs/1000-written"), 0));
    }
    /* Not measured: the state each keeps per page of a write watch. */
    printf("  %-16s %11s %11s %11.0f %11s %6.0f (%.2fx) %11s %9s   "
           "(1 bit/page, by design)\n", "Windows", "0", "0", bit, "-", bit,
           needed > 0 ? bit / needed : 0, "-", "0");
    printf("  %-16s %11s %11s %11.0f %11s %6.0f (%.2fx) %11s %9s   "
           "(1 byte/page, by design)\n", "stock Wine 8.0", "0", "0", 8 * bit,
           "-", 8 * bit, needed > 0 ? 8 * bit / needed : 0, "-", "-");
    printf("  * every other page of %zu MiB written, one get+RESET; for the "
           "library a whole fresh tracker (its own heap from open to close).\n",
           VMA_PAGES * page_size() / MIB);
    double empty = res_value(5, "memory", "lib-uffd", "KiB-PTE/GiB-unpopulated");
    double full = res_value(5, "memory", "lib-uffd", "KiB-PTE/GiB-populated");
    double heap = res_value(5, "memory", "lib-uffd", "KiB-heap/GiB-populated");
    double scattered = res_value(5, "memory", "lib-uffd", "KiB-heap-scattered");
    double vmas = res_value(5, "memory", "lib-uffd", "VMAs/1000-written");
    if (empty >= 0 && full >= 0 && vmas >= 0) {
        double total = full + (heap > 0 ? heap : 0);

        printf("  Verdict: the library's uffd backend adds %.0f KiB of page "
               "tables per empty GiB watched (WP_UNPOPULATED markers; the "
               "page tables populated memory needs anyway), %.0f KiB per "
               "GiB once populated, %.0f KiB/GiB of its own heap, and at most "
               "%.0f KiB per tracker for scattered writes (its region "
               "vector); %.0f VMAs per 1000 written pages.  Windows pays %.0f "
               "KiB/GiB, stock Wine %.0f.\n", empty, full,
               heap > 0 ? heap : 0, scattered > 0 ? scattered : 0, vmas, bit,
               8 * bit);
        if (needed > 0)
            bar_add("S5 lib uffd KiB/GiB watched, fully committed", total,
                    needed, 1, "extra page tables + own heap <= the page "
                    "tables the memory needs anyway");
        else
            bar_missing("S5 lib uffd KiB/GiB watched, fully committed",
                        "no VmPTE");
    } else {
        printf("  Verdict: incomplete (a method is missing).\n");
        bar_missing("S5 lib uffd KiB/GiB watched, fully committed",
                    "missing data");
    }
    pageset_free(&all);
    free(pages);
}
