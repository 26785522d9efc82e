/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * s6_reserve.c - scenario 6: a big write-watch reservation, as garbage
 * collectors make one, through the Win32 layer: it should cost what is
 * committed, not what is reserved.
 *   - VirtualAlloc(MEM_RESERVE | MEM_WRITE_WATCH) time, 256 and 64 GiB;
 *   - page tables (VmPTE) after committing 1 GiB and writing every 16th
 *     page, inside a 256 GiB reservation against the 1 GiB alone;
 *   - GetWriteWatch(RESET) over the whole reservation against the same
 *     over the 1 GiB alone, after the same writes; each report is
 *     checked page by page.
 * The Win32 layer has one tracker per process, so each backend runs in a
 * child process of its own (WW_BACKEND), which also keeps its page
 * tables apart.  --quick: 64 and 16 GiB, 256 MiB committed.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <writewatch/win32.h>

#include "wwbench.h"

#define S6_REPEATS 15
#define STRIDE 16               /* every 16th committed page written */

struct s6_out {
    int ok;
    char why[128];
    int n;
    unsigned long extra;                /* pages reported, not written */
    double reserve[2][S6_REPEATS];      /* ms: big, small */
    double pte[2];                      /* KiB: alone, in the reservation */
    double get[2][S6_REPEATS];          /* ms: alone, over the reservation */
    double get_ratio[S6_REPEATS];       /* of each interleaved pair */
};

struct s6_sizes {
    size_t big, small, commit;
};

static void s6_sizes(struct s6_sizes *z)
{
    /* 64-bit only (scenario_reserve): no wrap-around here. */
    z->big = (size_t)(opt.quick ? 64 : 256) * GIB;
    z->small = (size_t)(opt.quick ? 16 : 64) * GIB;
    z->commit = opt.quick ? 256 * MIB : GIB;
}

static double ms_since(uint64_t t0)
{
    return (double)(now_ns() - t0) / 1e6;
}

static void write_every(char *p, size_t len)
{
    for (size_t off = 0; off < len; off += STRIDE * page_size())
        ((volatile char *)p)[off]++;
}

/* GetWriteWatch(RESET) over [base, base+size) after a round of writes
 * to the committed [c, c+len): its time in ms, the report checked page by
 * page; -1 (o->why) if wrong. */
static double timed_get(struct s6_out *o, char *base, size_t size, char *c,
                        size_t len, void **out)
{
    size_t want = (len + STRIDE * page_size() - 1) / (STRIDE * page_size());
    ULONG_PTR count = 2 * want;
    ULONG gran;
    uint64_t t0;
    double ms;

    write_every(c, len);
    t0 = now_ns();
    if (ww_GetWriteWatch(WRITE_WATCH_FLAG_RESET, base, size, out, &count,
                         &gran) != 0) {
        snprintf(o->why, sizeof(o->why), "GetWriteWatch: error %u",
                 (unsigned)ww_GetLastError());
        return -1;
    }
    ms = ms_since(t0);
    /* Every written page, ascending; extra pages are within the contract
     * (the mprotect backend out of VMAs: two such allocations at once,
     * every 16th page written, come close to the kernel's 65530). */
    size_t k = 0;
    for (size_t i = 0; i < count && k < want; i++)
        if (out[i] == c + k * STRIDE * page_size())
            k++;
    if (k != want) {
        snprintf(o->why, sizeof(o->why), "GetWriteWatch: page %p written, "
                 "not reported (%lu reported)",
                 (void *)(c + k * STRIDE * page_size()), (unsigned long)count);
        return -1;
    }
    o->extra += count - want;
    return ms;
}

static int child_run(struct s6_out *o, void **out)
{
    struct s6_sizes z;
    char *alone, *base, *c;
    long pte0;

    s6_sizes(&z);
    o->n = opt.repeats > 0 && opt.repeats <= S6_REPEATS ? opt.repeats
           : opt.quick ? 5 : S6_REPEATS;
    for (int k = 0; k < 2; k++)
        for (int rep = 0; rep < o->n; rep++) {
            size_t size = k == 0 ? z.big : z.small;
            uint64_t t0 = now_ns();

            base = ww_VirtualAlloc(NULL, size, MEM_RESERVE | MEM_WRITE_WATCH,
                                   PAGE_NOACCESS);
            o->reserve[k][rep] = ms_since(t0);
            if (!base) {
                snprintf(o->why, sizeof(o->why), "VirtualAlloc(%zu GiB "
                         "MEM_RESERVE): error %u", size / GIB,
                         (unsigned)ww_GetLastError());
                return -1;
            }
            ww_VirtualFree(base, 0, MEM_RELEASE);
        }

    /* The committed size alone, then the same committed in the middle of
     * the big reservation: page tables of each, measured apart. */
    pte0 = proc_status_kib("VmPTE");
    alone = ww_VirtualAlloc(NULL, z.commit,
                            MEM_RESERVE | MEM_COMMIT | MEM_WRITE_WATCH,
                            PAGE_READWRITE);
    if (!alone) {
        snprintf(o->why, sizeof(o->why), "VirtualAlloc(commit): error %u",
                 (unsigned)ww_GetLastError());
        return -1;
    }
    write_every(alone, z.commit);
    o->pte[0] = (double)(proc_status_kib("VmPTE") - pte0);
    pte0 = proc_status_kib("VmPTE");
    base = ww_VirtualAlloc(NULL, z.big, MEM_RESERVE | MEM_WRITE_WATCH,
                           PAGE_NOACCESS);
    c = base ? ww_VirtualAlloc(base + z.big / 2, z.commit, MEM_COMMIT,
                               PAGE_READWRITE) : NULL;
    if (!c) {
        snprintf(o->why, sizeof(o->why), "VirtualAlloc(reserve, commit): "
                 "error %u", (unsigned)ww_GetLastError());
        return -1;
    }
    write_every(c, z.commit);
    o->pte[1] = (double)(proc_status_kib("VmPTE") - pte0);

    /* Interleaved, so that a shared machine's drift hits both alike. */
    for (int rep = 0; rep < o->n; rep++) {
        o->get[0][rep] = timed_get(o, alone, z.commit, alone, z.commit, out);
        o->get[1][rep] = o->get[0][rep] < 0 ? -1
                             : timed_get(o, base, z.big, c, z.commit, out);
        if (o->get[1][rep] < 0)
            return -1;
        o->get_ratio[rep] = o->get[1][rep] / o->get[0][rep];
    }
    ww_VirtualFree(alone, 0, MEM_RELEASE);
    ww_VirtualFree(base, 0, MEM_RELEASE);
    o->ok = 1;
    return 0;
}

/* Run one backend in a child; 0 with *o filled, or -1 (o->why). */
static int run_backend(const char *backend, struct s6_out *o, void **out)
{
    int fd[2], st;
    pid_t pid;
    ssize_t got;

    memset(o, 0, sizeof(*o));
    if (pipe(fd) < 0)
        die("pipe: %s", strerror(errno));
    fflush(NULL);
    pid = fork();
    if (pid < 0)
        die("fork: %s", strerror(errno));
    if (pid == 0) {
        close(fd[0]);
        setenv("WW_BACKEND", backend, 1);
        (void)child_run(o, out);
        got = write(fd[1], o, sizeof(*o));
        _exit(got == (ssize_t)sizeof(*o) ? 0 : 1);
    }
    close(fd[1]);
    got = read(fd[0], o, sizeof(*o));
    close(fd[0]);
    waitpid(pid, &st, 0);
    if (got != (ssize_t)sizeof(*o)) {
        memset(o, 0, sizeof(*o));
        snprintf(o->why, sizeof(o->why), "child died (status %d)", st);
    }
    return o->ok ? 0 : -1;
}

static const char *const s6_backends[] = { "uffd", "mprotect" };
static const char *const s6_keys[] = { "lib-uffd", "lib-mprotect" };
static const enum method_id s6_ids[] = { M_LIB_UFFD, M_LIB_MPROTECT };

static void put(const char *where, const char *key, const char *metric,
                double *v, int n)
{
    res_add(6, where, key, metric, v, n);
}

static void bars(const char *where_big, const char *where_res)
{
    const char *key = "lib-uffd";
    double rsv = res_value(6, where_big, key, "ms/reserve");
    double pa = res_value(6, "alone", key, "KiB-PTE");
    double pr = res_value(6, where_res, key, "KiB-PTE");
    double ga = res_value(6, "alone", key, "ms/get");
    double gr = res_value(6, where_res, key, "ms/get");
    double gq = res_value(6, where_res, key, "get-ratio");
    char d[96];

    if (rsv < 0 || pa <= 0 || pr < 0 || ga <= 0 || gr < 0 || gq < 0) {
        bar_missing("S6 reservation costs what is committed", "lib uffd "
                    "missing");
        return;
    }
    snprintf(d, sizeof(d), "lib uffd, VirtualAlloc(%s MEM_RESERVE|"
             "MEM_WRITE_WATCH), ms", where_big);
    bar_add("S6 reserve, ms", rsv, 5, 1, d);
    snprintf(d, sizeof(d), "lib uffd, %.0f KiB vs %.0f KiB alone", pr, pa);
    bar_add("S6 page tables, reservation / committed alone", pr / pa, 1.25, 1,
            d);
    snprintf(d, sizeof(d), "lib uffd, %.2f ms vs %.2f ms alone (median "
             "of interleaved pairs' ratios)", gr, ga);
    bar_add("S6 GetWriteWatch(RESET), reservation / alone", gq, 1.25, 1, d);
}

void scenario_reserve(void)
{
    struct s6_sizes z;
    struct s6_out o;
    char wb[32], ws[32], wr[80], wc[32], b[6][32];
    void **out;

    if (sizeof(void *) < 8) {
        res_status(6, "256 GiB", "lib-uffd", "ms/reserve", ST_SKIPPED,
                   "no room for the reservation in a 32-bit process");
        printf("\nScenario 6: skipped: a 32-bit process has no room for a "
               "256 GiB reservation\n");
        bar_missing("S6 reservation costs what is committed", "32-bit");
        return;
    }
    s6_sizes(&z);
    size_str(wb, sizeof(wb), z.big);
    size_str(ws, sizeof(ws), z.small);
    size_str(wc, sizeof(wc), z.commit);
    snprintf(wr, sizeof(wr), "%s in %s", wc, wb);
    printf("\nScenario 6: a write-watch reservation through the Win32 layer "
           "(%s reserved, %s committed, every %dth page written)\n", wb, wc,
           STRIDE);
    out = calloc(2 * (z.commit / page_size() / STRIDE + 1), sizeof(*out));
    if (!out)
        die("out of memory");
    for (size_t k = 0; k < 2; k++) {
        const char *why;

        if (method_available(s6_ids[k], &why) < 0) {
            res_status(6, wb, s6_keys[k], "ms/reserve", ST_UNAVAILABLE, why);
            continue;
        }
        progress("[6/6] reservation: %s", s6_backends[k]);
        if (run_backend(s6_backends[k], &o, out) < 0) {
            fail("%s: reservation scenario: %s", s6_keys[k], o.why);
            res_status(6, wb, s6_keys[k], "ms/reserve", ST_FAILED, NULL);
            continue;
        }
        put(wb, s6_keys[k], "ms/reserve", o.reserve[0], o.n);
        put(ws, s6_keys[k], "ms/reserve", o.reserve[1], o.n);
        put("alone", s6_keys[k], "KiB-PTE", &o.pte[0], 1);
        put(wr, s6_keys[k], "KiB-PTE", &o.pte[1], 1);
        if (o.extra)
            printf("  %s: %lu pages reported that were not written (within "
                   "the contract)\n", s6_keys[k], o.extra);
        put("alone", s6_keys[k], "ms/get", o.get[0], o.n);
        put(wr, s6_keys[k], "ms/get", o.get[1], o.n);
        put(wr, s6_keys[k], "get-ratio", o.get_ratio, o.n);
    }
    progress_done();
    free(out);

    printf("  %-14s %10s %10s %11s %11s %8s %11s %11s %8s\n", "method",
           "rsv ms", "rsv ms", "PTE KiB", "PTE KiB", "PTE", "get ms",
           "get ms", "get");
    printf("  %-14s %10s %10s %11s %11s %8s %11s %11s %8s\n", "", wb, ws,
           "alone", "in rsv", "ratio", "alone", "over rsv", "ratio");
    for (size_t k = 0; k < 2; k++) {
        const struct result *r = res_find(6, wb, s6_keys[k], "ms/reserve");
        char q1[16], q2[16];

        if (!r || r->status != ST_OK) {
            printf("  %-14s %10s  %s\n", method_label(s6_keys[k]),
                   cell(b[0], 32, r, 2), r && r->note ? r->note : "");
            continue;
        }
        printf("  %-14s %10s %10s %11s %11s %8s %11s %11s %8s\n",
               method_label(s6_keys[k]), cell(b[0], 32, r, 2),
               cell(b[1], 32, res_find(6, ws, s6_keys[k], "ms/reserve"), 2),
               cell(b[2], 32, res_find(6, "alone", s6_keys[k], "KiB-PTE"), 0),
               cell(b[3], 32, res_find(6, wr, s6_keys[k], "KiB-PTE"), 0),
               ratio(q1, sizeof(q1),
                     res_value(6, wr, s6_keys[k], "KiB-PTE"),
                     res_value(6, "alone", s6_keys[k], "KiB-PTE")),
               cell(b[4], 32, res_find(6, "alone", s6_keys[k], "ms/get"), 2),
               cell(b[5], 32, res_find(6, wr, s6_keys[k], "ms/get"), 2),
               ratio(q2, sizeof(q2), res_value(6, wr, s6_keys[k], "get-ratio"),
                     1));
    }
    printf("  get ratio: the median of the ratios of interleaved pairs (a "
           "shared machine's spikes hit one side of a pair).\n");
    printf("  Windows keeps 1 bit per reserved page (%zu KiB for %s), stock "
           "Wine 1 byte (%zu KiB).\n",
           z.big / page_size() / 8 / 1024, wb, z.big / page_size() / 1024);
    bars(wb, wr);
}
