/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * registry.c - a tracker's watches, as a sorted array of pointers.
 * Owns a tracker's list of watches (the process-wide table, watches.c, is
 * one too).
 *
 * An array beats a tree here: watches are created rarely and looked up on
 * every query, and a binary search over a contiguous array is as fast as
 * lookups get.  Entries are pointers so a watch never moves: backends keep
 * pointers to their watches.
 */
#include <errno.h>
#include <stdlib.h>

#include "registry.h"

static uintptr_t watch_end(const void *v, size_t i)
{
    return ((struct ww__watch *const *)v)[i]->end;
}

/* Index of the first watch whose end is above addr (n if none). */
static size_t first_ending_after(const struct ww__registry *r, uintptr_t addr)
{
    return ww__first_ending_after(r->v, r->n, addr, watch_end);
}

struct ww__watch *ww__registry_find(const struct ww__registry *r,
                                    uintptr_t start, uintptr_t end)
{
    size_t i = first_ending_after(r, start);

    if (i == r->n)
        return NULL;
    if (r->v[i]->start <= start && end <= r->v[i]->end)
        return r->v[i];
    return NULL;
}

struct ww__watch *ww__registry_find_exact(const struct ww__registry *r,
                                          uintptr_t start, uintptr_t end)
{
    struct ww__watch *w = ww__registry_find(r, start, end);

    return w && w->start == start && w->end == end ? w : NULL;
}

struct ww__watch *ww__registry_first_overlap(const struct ww__registry *r,
                                             uintptr_t start, uintptr_t end)
{
    size_t i = first_ending_after(r, start);

    return i < r->n && r->v[i]->start < end ? r->v[i] : NULL;
}

int ww__registry_overlaps(const struct ww__registry *r, uintptr_t start,
                          uintptr_t end)
{
    return ww__registry_first_overlap(r, start, end) != NULL;
}

int ww__registry_reserve(struct ww__registry *r)
{
    struct ww__watch **v = ww__array_grow(r->v, r->n, &r->cap, sizeof(*v));

    if (!v)
        return -ENOMEM;
    r->v = v;
    return 0;
}

void ww__registry_insert(struct ww__registry *r, struct ww__watch *w)
{
    size_t i = first_ending_after(r, w->start);

    ww__array_open_gap(r->v, r->n, i, sizeof(*r->v));
    r->v[i] = w;
    r->n++;
}

void ww__registry_remove(struct ww__registry *r, struct ww__watch *w)
{
    size_t i = first_ending_after(r, w->start);

    if (i == r->n || r->v[i] != w)
        return;
    ww__array_close_gap(r->v, r->n, i, sizeof(*r->v));
    r->n--;
}

void ww__registry_free(struct ww__registry *r)
{
    free(r->v);
    r->v = NULL;
    r->n = r->cap = 0;
}
