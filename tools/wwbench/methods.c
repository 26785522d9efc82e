/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * methods.c - the method table, "no tracking", and the library's backends
 * seen through its public API only (what an application would call).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "writewatch.h"
#include "wwbench.h"

/* --- no tracking -------------------------------------------------------- */
static int none_probe(char *why, size_t len)
{
    (void)why;
    (void)len;
    return 0;
}

static int none_watch(char *base, size_t len)
{
    (void)base;
    (void)len;
    return 0;
}

/* Reports nothing: callers skip verification for this method. */
static int none_get_reset(void **pages, size_t cap, size_t *count)
{
    (void)pages;
    (void)cap;
    *count = 0;
    return 0;
}

static void none_unwatch(void)
{
}

const struct method method_none = {
    "none", "no tracking", 1,
    none_probe, none_watch, none_get_reset, none_unwatch,
};

/* --- libwritewatch ------------------------------------------------------ */
struct lib_state {
    enum ww_backend backend;
    ww_tracker *t;
    char *base;
    size_t len;
    /* Memory, from watch to unwatch: at the watch, and the largest. */
    long pte0, heap0;
    double pte_max, heap_max;   /* KiB per GiB watched; KiB */
    int watches;
};

static struct lib_state lib_uffd = { .backend = WW_BACKEND_UFFD };
static struct lib_state lib_mprotect = { .backend = WW_BACKEND_MPROTECT };

/* One tracker per backend for the whole run, as an application would have;
 * opened by the probe, released at exit with the process. */
static int lib_probe(struct lib_state *s, char *why, size_t len)
{
    int r = ww_backend_available(s->backend);

    if (r == 0)
        r = ww_tracker_open(&s->t, s->backend, 0);
    if (r < 0)
        snprintf(why, len, "%s", ww_strerror(r));
    return r;
}

static int lib_watch(struct lib_state *s, char *base, size_t len)
{
    int r;

    s->pte0 = proc_status_kib("VmPTE");
    s->heap0 = heap_bytes();
    r = ww_watch(s->t, base, len, 0);

    if (r == 0) {
        s->base = base;
        s->len = len;
    }
    return r;
}

static int lib_get_reset(struct lib_state *s, void **pages, size_t cap,
                         size_t *count)
{
    *count = cap;
    return ww_get(s->t, s->base, s->len, WW_GET_RESET, pages, count);
}

/* Outside every timed section: the scenarios time only their calls. */
static void lib_unwatch(struct lib_state *s)
{
    long pte = proc_status_kib("VmPTE"), heap = heap_bytes();
    double pte_per_gib = (double)(pte - s->pte0) * (double)GIB /
                         (double)s->len;
    int r;

    if (pte >= 0 && s->pte0 >= 0 && (!s->watches || pte_per_gib > s->pte_max))
        s->pte_max = pte_per_gib;
    if (heap >= 0 && s->heap0 >= 0 &&
        (!s->watches || (double)(heap - s->heap0) / 1024 > s->heap_max))
        s->heap_max = (double)(heap - s->heap0) / 1024;
    s->watches++;
    r = ww_unwatch(s->t, s->base, s->len);

    if (r < 0)
        fail("ww_unwatch (%s): %s", ww_backend_name(s->backend),
             ww_strerror(r));
}

/* The operations are plain functions, so each backend gets a thin set. */
#define LIB_METHOD(state)                                                   \
    static int state##_probe(char *why, size_t len)                         \
    { return lib_probe(&state, why, len); }                                 \
    static int state##_watch(char *base, size_t len)                        \
    { return lib_watch(&state, base, len); }                                \
    static int state##_get_reset(void **pages, size_t cap, size_t *count)   \
    { return lib_get_reset(&state, pages, cap, count); }                    \
    static void state##_unwatch(void)                                       \
    { lib_unwatch(&state); }

LIB_METHOD(lib_uffd)
LIB_METHOD(lib_mprotect)

const struct method method_lib_uffd = {
    "lib-uffd", "lib uffd", 1,
    lib_uffd_probe, lib_uffd_watch, lib_uffd_get_reset, lib_uffd_unwatch,
};

const struct method method_lib_mprotect = {
    "lib-mprotect", "lib mprotect", 1,
    lib_mprotect_probe, lib_mprotect_watch, lib_mprotect_get_reset,
    lib_mprotect_unwatch,
};

/* --- the table ---------------------------------------------------------- */
static const struct method *const methods[M_COUNT] = {
    [M_NONE] = &method_none,
    [M_RAW_UFFD] = &method_raw_uffd,
    [M_LIB_UFFD] = &method_lib_uffd,
    [M_LIB_MPROTECT] = &method_lib_mprotect,
    [M_NAIVE_MPROTECT] = &method_naive_mprotect,
    [M_UFFD_SYNC] = &method_uffd_sync,
    [M_SOFT_DIRTY] = &method_soft_dirty,
    [M_RAW_UFFD_256] = &method_raw_uffd_256,
};

const struct method *method_get(enum method_id id)
{
    return methods[id];
}

enum status method_error(const struct method *m, const char *op, int r)
{
    if (r == -E_OVERFLOW)
        return ST_OVERFLOW;
    fail("%s: %s: %s", m->label, op, err_str(r));
    return ST_FAILED;
}

const char *method_label(const char *key)
{
    for (int i = 0; i < M_COUNT; i++)
        if (strcmp(methods[i]->key, key) == 0)
            return methods[i]->label;
    return key;
}

int method_available(enum method_id id, const char **why)
{
    static int probed[M_COUNT], result[M_COUNT];
    static char reason[M_COUNT][128];

    if (!probed[id]) {
        result[id] = methods[id]->probe(reason[id], sizeof(reason[id]));
        probed[id] = 1;
    }
    if (why)
        *why = result[id] < 0 ? reason[id] : NULL;
    return result[id];
}

void lib_memory_report(int scenario)
{
    struct lib_state *const st[] = { &lib_uffd, &lib_mprotect };
    const char *const key[] = { "lib-uffd", "lib-mprotect" };

    printf("  Memory of the library's watches here (largest seen at an "
           "unwatch):");
    for (size_t i = 0; i < 2; i++) {
        if (!st[i]->watches)
            continue;
        res_add(scenario, "memory", key[i], "KiB-PTE/GiB-watched",
                &st[i]->pte_max, 1);
        res_add(scenario, "memory", key[i], "KiB-heap", &st[i]->heap_max, 1);
        printf(" %s: page tables %+.0f KiB/GiB watched, own heap %+.0f KiB%s",
               method_label(key[i]), st[i]->pte_max, st[i]->heap_max,
               i == 0 ? ";" : "");
        st[i]->watches = 0;
    }
    printf("\n");
}
