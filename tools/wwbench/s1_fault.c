/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * s1_fault.c - scenario 1: the cost of the first write to a clean page
 * after a reset, per tracking method.
 *
 * One populated region is watched by each method in turn; every page is
 * written (dirty), get+RESET re-arms them all, then one byte per page is
 * stored in address order and timed: that loop is the number.  A last get
 * must report every page.  Methods take turns within each repeat, in
 * reverse order every other repeat, so drift of the shared machine hits
 * them alike; the bars hold the median of each repeat's ratio of two
 * neighbours' passes (paired, as in scenarios 2 and 6), which drift
 * between repeats cannot move.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wwbench.h"

static const enum method_id s1_methods[] = {
    M_NONE, M_RAW_UFFD, M_LIB_UFFD, M_LIB_MPROTECT, M_NAIVE_MPROTECT,
    M_UFFD_SYNC, M_SOFT_DIRTY,
};
#define N_S1 (sizeof(s1_methods) / sizeof(s1_methods[0]))

/* Get+RESET and check that exactly `expect` is reported. */
static enum status get_check(const struct method *m, const char *what,
                             void **pages, const char *base,
                             const struct pageset *expect)
{
    size_t count = 0;
    int r = m->get_reset(pages, expect->npages, &count);

    if (r < 0)
        return method_error(m, "get+RESET", r);
    if (m == &method_none)
        return ST_OK;
    return verify_report(what, pages, count, base, expect, NULL) ? ST_FAILED : ST_OK;
}

/* One timed pass of method m: ns per first write, or -1 with *st set. */
static double one_pass(const struct method *m, char *base, size_t len,
                       const struct pageset *all, void **pages, char value,
                       enum status *st)
{
    uint64_t t0 = 0, t1 = 0;
    int r = m->watch(base, len);

    if (r < 0) {
        *st = method_error(m, "watch", r);
        return -1;
    }
    touch_pages(base, all->list, all->n, value);
    *st = get_check(m, "first write (arming pass)", pages, base, all);
    if (*st == ST_OK) {
        t0 = now_ns();
        touch_pages(base, all->list, all->n, (char)(value + 1));
        t1 = now_ns();
        *st = get_check(m, "first write", pages, base, all);
    }
    m->unwatch();
    return *st == ST_OK ? (double)(t1 - t0) / (double)all->n : -1;
}

void scenario_fault(void)
{
    size_t len = opt.quick ? 16 * MIB : 64 * MIB;
    size_t npages = len / page_size();
    int repeats = opt.repeats ? opt.repeats : opt.quick ? 9 : 11;
    double *samples[N_S1];
    enum status st[N_S1] = { ST_OK };
    struct pageset all;
    char where[32], buf[5][32];
    void **pages = malloc(npages * sizeof(*pages));
    char *base = region_map(len, 1);

    size_str(where, sizeof(where), len);
    pageset_init(&all, npages);
    for (uint32_t i = 0; i < npages; i++)
        pageset_add(&all, i);
    for (size_t k = 0; k < N_S1; k++)
        samples[k] = calloc((size_t)repeats, sizeof(double));
    if (!pages || !samples[N_S1 - 1])
        die("out of memory");

    for (int rep = 0; rep < repeats; rep++)
        for (size_t i = 0; i < N_S1; i++) {
            size_t k = rep % 2 ? N_S1 - 1 - i : i;
            const struct method *m = method_get(s1_methods[k]);

            if (st[k] != ST_OK || method_available(s1_methods[k], NULL) < 0)
                continue;
            progress("[1/5] first write: %s, repeat %d/%d", m->label, rep + 1,
                     repeats);
            samples[k][rep] = one_pass(m, base, len, &all, pages,
                                       (char)(2 * rep), &st[k]);
        }
    progress_done();

    /* The mprotect reference: the library's backend once it works, else
     * the bench's own.  Paired ratios, before res_add sorts the samples:
     * lib uffd over raw uffd (neighbours in the order), the reference
     * over lib uffd (lib mprotect is its neighbour; the naive one is not). */
    size_t i_raw = 1, i_lib = 2,
           i_mp = method_available(M_LIB_MPROTECT, NULL) == 0 &&
                  st[3] == ST_OK ? 3 : 4;
    const char *ref = method_get(s1_methods[i_mp])->key;
    double *q_lib = calloc((size_t)repeats, sizeof(double));
    double *q_mp = calloc((size_t)repeats, sizeof(double));
    int n_lib = 0, n_mp = 0;

    if (!q_lib || !q_mp)
        die("out of memory");
    for (int rep = 0; rep < repeats; rep++) {
        double r = samples[i_raw][rep], l = samples[i_lib][rep];
        double p = samples[i_mp][rep];

        if (st[i_raw] == ST_OK && st[i_lib] == ST_OK && r > 0 && l > 0)
            q_lib[n_lib++] = l / r;
        if (st[i_mp] == ST_OK && st[i_lib] == ST_OK && p > 0 && l > 0)
            q_mp[n_mp++] = p / l;
    }

    printf("\nScenario 1: first write to a clean page after reset "
           "(%s = %zu pages, median of %d)\n", where, npages, repeats);
    for (size_t k = 0; k < N_S1; k++) {
        const struct method *m = method_get(s1_methods[k]);
        const char *why;

        if (method_available(s1_methods[k], &why) < 0)
            res_status(1, where, m->key, "ns/page", ST_UNAVAILABLE, why);
        else if (st[k] != ST_OK)
            res_status(1, where, m->key, "ns/page", st[k], NULL);
        else
            res_add(1, where, m->key, "ns/page", samples[k], repeats);
        free(samples[k]);
    }

    double raw = res_value(1, where, "raw-uffd", "ns/page");
    double lib = res_value(1, where, "lib-uffd", "ns/page");
    double mp = res_value(1, where, ref, "ns/page");

    printf("  %-18s %10s %10s %10s %10s %14s\n", "method", "ns/page", "min",
           "max", "/raw uffd", "mprotect/this");
    for (size_t k = 0; k < N_S1; k++) {
        const struct method *m = method_get(s1_methods[k]);
        const struct result *r = res_find(1, where, m->key, "ns/page");
        double v = r->status == ST_OK ? r->median : -1;

        if (r->status != ST_OK) {
            printf("  %-18s %10s  %s\n", m->label, cell(buf[0], 32, r, 0),
                   r->note ? r->note : "");
            continue;
        }
        printf("  %-18s %10.0f %10.0f %10.0f %10s %14s\n", m->label, v,
               r->min, r->max, ratio(buf[1], 32, v, raw),
               ratio(buf[2], 32, mp, v));
    }
    printf("  (mprotect reference: %s)\n", ref);
    if (lib > 0 && raw > 0 && mp > 0) {
        printf("  Verdict: library uffd first write = %s raw kernel uffd-async,"
               " %s faster than %s.\n", ratio(buf[3], 32, lib, raw),
               ratio(buf[4], 32, mp, lib), ref);
        double pl = n_lib ? median_of(q_lib, n_lib) : -1;
        double pm = n_mp ? median_of(q_mp, n_mp) : -1;
        char detail[96];

        printf("  Paired (median of each repeat's ratio): library uffd "
               "first write = %.2fx raw, %.2fx faster than %s.\n", pl, pm,
               ref);
        if (pl > 0)
            bar_add("S1 lib uffd / raw uffd, first write", pl, 1.1, 1,
                    "paired per repeat");
        else
            bar_missing("S1 lib uffd / raw uffd, first write", "missing data");
        snprintf(detail, sizeof(detail), "%s, vs %s, paired per repeat",
                 where, ref);
        if (pm > 0)
            bar_add("S1 mprotect / lib uffd, first write, 1 thread", pm, 5,
                    0, detail);
        else
            bar_missing("S1 mprotect / lib uffd, first write, 1 thread",
                        "missing data");
    } else {
        printf("  Verdict: incomplete (a method is missing).\n");
        bar_missing("S1 lib uffd / raw uffd, first write", "missing data");
        bar_missing("S1 mprotect / lib uffd, first write, 1 thread",
                    "missing data");
    }
    free(q_lib);
    free(q_mp);
    lib_memory_report(1);
    pageset_free(&all);
    region_unmap(base, len);
    free(pages);
}
