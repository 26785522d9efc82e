/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * registry.h - a tracker's watches, sorted by address.
 * Owns struct ww__registry; the sorted-array primitives are internal.h's.
 *
 * Lookups are O(log n) binary searches.  The registry does no locking of
 * its own: its user holds a lock around every call (a tracker's lock for
 * its registry, the table's lock for the process-wide table, watches.c).
 */
#ifndef WW_REGISTRY_H
#define WW_REGISTRY_H

#include <stddef.h>
#include <stdint.h>

#include "internal.h"

struct ww__registry {
    struct ww__watch **v;       /* sorted by start; ranges never overlap */
    size_t n, cap;
};

/* The watch that contains all of [start, end), or NULL. */
struct ww__watch *ww__registry_find(const struct ww__registry *r,
                                    uintptr_t start, uintptr_t end);

/* The watch that is exactly [start, end), or NULL. */
struct ww__watch *ww__registry_find_exact(const struct ww__registry *r,
                                          uintptr_t start, uintptr_t end);

/* The watch with the lowest start that overlaps [start, end), or NULL. */
struct ww__watch *ww__registry_first_overlap(const struct ww__registry *r,
                                             uintptr_t start, uintptr_t end);

/* Whether any watch overlaps [start, end). */
int ww__registry_overlaps(const struct ww__registry *r, uintptr_t start,
                          uintptr_t end);

/* Make room for one more entry, so that a following insert cannot fail.
 * 0 or -ENOMEM. */
int ww__registry_reserve(struct ww__registry *r);

/* Insert a watch that overlaps none (room reserved beforehand). */
void ww__registry_insert(struct ww__registry *r, struct ww__watch *w);

/* Remove a watch that is in the registry. */
void ww__registry_remove(struct ww__registry *r, struct ww__watch *w);

void ww__registry_free(struct ww__registry *r);

#endif /* WW_REGISTRY_H */
