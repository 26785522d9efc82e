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
 * /proc/self/status is process-wide; nothing else runs meanwhile.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wwbench.h"

static const enum method_id s5_methods[] = {
    M_RAW_UFFD, M_LIB_UFFD, M_LIB_MPROTECT, M_NAIVE_MPROTECT,
};
#define N_S5 (sizeof(s5_methods) / sizeof(s5_methods[0]))
#define VMA_PAGES 4096          /* range of the VMA count, every other page */

static void put(const char *method, const char *metric, double v)
{
    res_add(5, "memory", method, metric, &v, 1);
}

/* KiB per GiB watched from a delta in KiB over len bytes. */
static double per_gib(long kib, size_t len)
{
    return (double)kib * (double)GIB / (double)len;
}

static int measure(const struct method *m, size_t len, void **pages,
                   struct pageset *all)
{
    char *base = region_map(len, 0);
    long pte0 = proc_status_kib("VmPTE"), pte1, rss0, rss1, vma0, vma1;
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
    r = m->watch(base, len);
    if (r < 0)
        goto fail;
    touch_pages(base, all->list, all->n, 3);
    r = m->get_reset(pages, all->npages, &count);
    wrong = r == 0 && verify_report(m->label, pages, count, base, all, NULL) < 0;
    rss1 = proc_status_kib("VmRSS");
    pte1 = proc_status_kib("VmPTE");
    m->unwatch();
    region_unmap(base, len);
    if (wrong)
        return -1;
    if (r < 0)
        goto fail;
    put(m->key, "KiB-RSS/GiB", per_gib(rss1 - rss0, len));
    put(m->key, "KiB-PTE/GiB-populated", per_gib(pte1 - pte0, len));

    /* Every other page written: the worst case for VMA splitting. */
    base = region_map(VMA_PAGES * page_size(), 1);
    r = m->watch(base, VMA_PAGES * page_size());
    if (r < 0)
        goto fail;
    vma0 = proc_vma_count();
    for (size_t i = 0; i < VMA_PAGES; i += 2)
        base[i * page_size()] = 4;
    vma1 = proc_vma_count();
    r = m->get_reset(pages, VMA_PAGES, &count);
    m->unwatch();
    region_unmap(base, VMA_PAGES * page_size());
    if (r < 0)
        goto fail;
    put(m->key, "VMAs/1000-written", (double)(vma1 - vma0) * 1000 /
                                         (VMA_PAGES / 2));
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
    char b[5][32];

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

    printf("\nScenario 5: memory cost per GiB watched (measured on %zu MiB; "
           "populated page tables alone: %.0f KiB/GiB)\n", len / MIB,
           res_value(5, "memory", "none", "KiB-PTE/GiB-populated"));
    printf("  %-16s %22s %22s %18s %18s\n", "method", "PTE KiB, watch empty",
           "PTE KiB, watch full", "own RSS KiB", "VMAs/1000 pages");
    for (size_t k = 0; k < N_S5; k++) {
        const struct method *m = method_get(s5_methods[k]);
        const struct result *r = res_find(5, "memory", m->key,
                                          "KiB-PTE/GiB-unpopulated");

        if (r->status != ST_OK) {
            printf("  %-16s %22s  %s\n", m->label, cell(b[0], 32, r, 0),
                   r->note ? r->note : "");
            continue;
        }
        printf("  %-16s %22.0f %22s %18s %18s\n", m->label, r->median,
               cell(b[1], 32, res_find(5, "memory", m->key,
                                       "KiB-PTE/GiB-populated"), 0),
               cell(b[2], 32, res_find(5, "memory", m->key, "KiB-RSS/GiB"), 0),
               cell(b[3], 32, res_find(5, "memory", m->key,
                                       "VMAs/1000-written"), 0));
    }
    double empty = res_value(5, "memory", "lib-uffd", "KiB-PTE/GiB-unpopulated");
    double full = res_value(5, "memory", "lib-uffd", "KiB-PTE/GiB-populated");
    double rss = res_value(5, "memory", "lib-uffd", "KiB-RSS/GiB");
    double vmas = res_value(5, "memory", "lib-uffd", "VMAs/1000-written");
    if (empty >= 0 && full >= 0 && rss >= 0 && vmas >= 0)
        printf("  Verdict: the library's uffd backend adds %.0f KiB of page "
               "tables per empty GiB watched (%.0f once populated), %.0f KiB "
               "of its own memory per GiB, %.0f VMAs per 1000 written "
               "pages.\n", empty, full, rss, vmas);
    else
        printf("  Verdict: incomplete (a method is missing).\n");
    pageset_free(&all);
    free(pages);
}
