/*
 * registry.c - a tracker's watches, as a sorted array of pointers.
 *
 * An array beats a tree here: watches are created rarely and looked up on
 * every query, and a binary search over a contiguous array is as fast as
 * lookups get.  Entries are pointers so a watch never moves: backends keep
 * pointers to their watches.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "registry.h"

#include "alloc.h"

/* Index of the first watch whose end is above addr (n if none). */
static size_t first_ending_after(const struct ww__registry *r, uintptr_t addr)
{
    size_t lo = 0, hi = r->n;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (r->v[mid]->end <= addr)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
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
    struct ww__watch **v;
    size_t cap;

    if (r->n < r->cap)
        return 0;
    cap = r->cap ? r->cap * 2 : 8;
    v = ww__realloc(r->v, cap * sizeof(*v));
    if (!v)
        return -ENOMEM;
    r->v = v;
    r->cap = cap;
    return 0;
}

void ww__registry_insert(struct ww__registry *r, struct ww__watch *w)
{
    size_t i = first_ending_after(r, w->start);

    memmove(&r->v[i + 1], &r->v[i], (r->n - i) * sizeof(*r->v));
    r->v[i] = w;
    r->n++;
}

void ww__registry_remove(struct ww__registry *r, struct ww__watch *w)
{
    size_t i = first_ending_after(r, w->start);

    if (i == r->n || r->v[i] != w)
        return;
    memmove(&r->v[i], &r->v[i + 1], (r->n - i - 1) * sizeof(*r->v));
    r->n--;
}

void ww__registry_free(struct ww__registry *r)
{
    free(r->v);
    r->v = NULL;
    r->n = r->cap = 0;
}
