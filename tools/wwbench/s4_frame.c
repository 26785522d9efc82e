/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * s4_frame.c - scenario 4: a frame loop, the shape of a game engine or an
 * incremental GC: each frame writes K random pages of a big heap, then asks
 * which pages changed (get+RESET).  Reported: frames per second and what
 * tracking adds to a frame compared with the same writes untracked.
 *
 * The frames' pages are drawn before timing; each frame's report is checked
 * against the distinct pages it wrote, after its time is taken.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wwbench.h"

static const enum method_id s4_methods[] = {
    M_NONE, M_RAW_UFFD, M_LIB_UFFD, M_LIB_MPROTECT, M_NAIVE_MPROTECT,
};
#define N_S4 (sizeof(s4_methods) / sizeof(s4_methods[0]))

const size_t frame_ks[N_FRAME_KS] = { 100, 1000, 10000 };

/* Run `frames` frames of method m; append frame and get times (ns). */
static enum status run_frames(const struct method *m, char *base, size_t len,
                              const uint32_t *draws, size_t k, int frames,
                              double *frame_ns, double *get_ns,
                              struct pageset *expect, void **pages)
{
    enum status st = ST_OK;
    int r = m->watch(base, len);

    if (r < 0)
        return method_error(m, "watch", r);
    for (int f = 0; f < frames && st == ST_OK; f++) {
        const uint32_t *idx = draws + (size_t)f * k;
        size_t count = 0;
        uint64_t t0 = now_ns(), t1, t2;

        touch_pages(base, idx, k, (char)f);
        t1 = now_ns();
        r = m->get_reset(pages, expect->npages, &count);
        t2 = now_ns();
        frame_ns[f] = (double)(t2 - t0);
        get_ns[f] = (double)(t2 - t1);
        if (r < 0) {
            st = method_error(m, "get+RESET in the frame loop", r);
        } else if (m != &method_none) {
            pageset_clear(expect);
            for (size_t i = 0; i < k; i++)
                pageset_add(expect, idx[i]);
            pageset_sort(expect);
            if (verify_report(m->label, pages, count, base, expect, NULL) < 0)
                st = ST_FAILED;
        }
    }
    m->unwatch();
    return st;
}

void scenario_frame(void)
{
    const size_t *ks = frame_ks;
    size_t n_ks = opt.quick ? 2 : N_FRAME_KS;
    size_t len = opt.quick ? 64 * MIB : GIB, npages = len / page_size();
    int rounds = opt.repeats ? opt.repeats : opt.quick ? 2 : 3;
    int frames = opt.quick ? 10 : 20, total = rounds * frames;
    char *base = region_map(len, 1);
    void **pages = malloc(npages * sizeof(*pages));
    uint32_t *draws = malloc((size_t)frames * ks[n_ks - 1] * sizeof(*draws));
    double *frame_ns = malloc(N_S4 * (size_t)total * sizeof(double));
    double *get_ns = malloc(N_S4 * (size_t)total * sizeof(double));
    uint64_t rng = opt.seed + 4;
    struct pageset expect;
    char where[32], b[6][32];

    if (!pages || !draws || !frame_ns || !get_ns)
        die("out of memory");
    memset(pages, 0, npages * sizeof(*pages));
    pageset_init(&expect, npages);
    for (size_t ki = 0; ki < n_ks; ki++) {
        size_t k = ks[ki];
        enum status st[N_S4] = { ST_OK };

        snprintf(where, sizeof(where), "K=%zu", k);
        /* Every round draws new frames; all methods replay the same ones. */
        for (int round = 0; round < rounds; round++) {
            for (size_t i = 0; i < (size_t)frames * k; i++)
                draws[i] = (uint32_t)(rng_next(&rng) % npages);
            for (size_t j = 0; j < N_S4; j++) {
                const struct method *m = method_get(s4_methods[j]);
                size_t off = j * (size_t)total + (size_t)round * (size_t)frames;

                if (st[j] != ST_OK || method_available(s4_methods[j], NULL) < 0)
                    continue;
                progress("[4/5] frame loop K=%zu: %s, round %d/%d", k, m->label,
                         round + 1, rounds);
                st[j] = run_frames(m, base, len, draws, k, frames,
                                   frame_ns + off, get_ns + off, &expect,
                                   pages);
            }
        }
        for (size_t j = 0; j < N_S4; j++) {
            const struct method *m = method_get(s4_methods[j]);
            double *fr = frame_ns + j * (size_t)total;
            const char *why;

            if (method_available(s4_methods[j], &why) < 0) {
                res_status(4, where, m->key, "us/frame", ST_UNAVAILABLE, why);
                continue;
            }
            if (st[j] != ST_OK) {
                res_status(4, where, m->key, "us/frame", st[j], NULL);
                continue;
            }
            for (int f = 0; f < total; f++) {
                fr[f] /= 1e3;
                get_ns[j * (size_t)total + (size_t)f] /= 1e3;
            }
            res_add(4, where, m->key, "us/frame", fr, total);
            if (m != &method_none)
                res_add(4, where, m->key, "us/get", get_ns + j * (size_t)total,
                        total);
        }
    }
    progress_done();

    printf("\nScenario 4: frame loop on a %zu MiB heap: K random pages written,"
           " then get+RESET (median of %d frames)\n", len / MIB, total);
    printf("  %-8s %-16s %10s %10s %10s %14s %12s\n", "K", "method",
           "us/frame", "frames/s", "get us", "overhead us", "vs lib uffd");
    for (size_t ki = 0; ki < n_ks; ki++) {
        snprintf(where, sizeof(where), "K=%zu", ks[ki]);
        double none = res_value(4, where, "none", "us/frame");
        double lib = res_value(4, where, "lib-uffd", "us/frame");

        for (size_t j = 0; j < N_S4; j++) {
            const struct method *m = method_get(s4_methods[j]);
            const struct result *r = res_find(4, where, m->key, "us/frame");
            double v = r->status == ST_OK ? r->median : -1;
            /* May come out slightly negative for small K: noise. */
            double ovh = v > 0 && none > 0 ? v - none : 0;
            double samples[1] = { ovh };

            if (v > 0 && m != &method_none && none > 0) {
                res_add(4, where, m->key, "us/overhead", samples, 1);
                samples[0] = 1e6 / v;
                res_add(4, where, m->key, "frames/s", samples, 1);
            }
            if (r->status != ST_OK) {
                printf("  %-8zu %-16s %10s\n", ks[ki], m->label,
                       cell(b[0], 32, r, 0));
                continue;
            }
            printf("  %-8zu %-16s %10.0f %10.0f %10s %14.0f %12s\n", ks[ki],
                   m->label, v, 1e6 / v,
                   cell(b[1], 32, res_find(4, where, m->key, "us/get"), 0),
                   ovh,
                   m == &method_none ? "" : ratio(b[2], 32, ovh,
                                                  lib > 0 ? lib - none : -1));
        }
    }
    snprintf(where, sizeof(where), "K=%zu", ks[n_ks - 1]);
    const char *ref = res_value(4, where, "lib-mprotect", "us/frame") > 0
                          ? "lib-mprotect" : "naive-mprotect";
    double lib_o = res_value(4, where, "lib-uffd", "us/overhead");
    double mp_o = res_value(4, where, ref, "us/overhead");
    double fps = res_value(4, where, "lib-uffd", "frames/s");
    if (lib_o > 0 && mp_o > 0)
        printf("  Verdict: at %s the library's uffd backend adds %.0f us per "
               "frame (%.0f frames/s), %s adds %.0f us (%s more).\n", where,
               lib_o, fps, ref, mp_o, ratio(b[3], 32, mp_o, lib_o));
    else
        printf("  Verdict: incomplete (a method is missing).\n");
    lib_memory_report(4);
    pageset_free(&expect);
    region_unmap(base, len);
    free(pages);
    free(draws);
    free(frame_ns);
    free(get_ns);
}
