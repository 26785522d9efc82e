/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * internal.h - the shared internal layer: what the front, the backends
 * and the Win32 layer all need, defined here once and nowhere else.
 *
 *   - the page size (ww__page_size; ww_page_size is only its public name);
 *   - a watch (struct ww__watch) and how it becomes stale;
 *   - the result sink a get fills (struct ww__sink);
 *   - the sorted interval arrays: the one search over them, and the one
 *     way to grow, open and close a gap in them.
 *
 * internal.c holds the out-of-line parts.  Nothing here knows a backend,
 * a tracker or a lock.
 */
#ifndef WW_INTERNAL_H
#define WW_INTERNAL_H

#include <errno.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/mman.h>

#include "writewatch.h"

/* --- the page size ------------------------------------------------------- */

/* The page size, read once.  Async-signal-safe. */
size_t ww__page_size(void);

/* --- who set a fork marker -------------------------------------------------
 * A fork marker (a MADV_WIPEONFORK page: watches.c, mprotect-mark.c) that
 * reads zero means a fork child -- or a program that discarded the page
 * (MADV_DONTNEED or MADV_FREE over memory it does not own).  The witness
 * tells them apart: the process that set the marker, by pid and pid
 * namespace (the pid alone cannot tell a child that is pid 1 of a new pid
 * namespace from a parent that is pid 1 of its own; the namespace's inode
 * is 0 without /proc).  Each costs two system calls: only where a marker
 * reads zero, or where one is set.  Async-signal-safe.
 */
struct ww__witness {
    atomic_long pid;            /* 0: never set; stored last, read first */
    atomic_ullong pid_ns;
};

/* This process set the marker.  Whatever the caller stored before it
 * (watches.c: the generation) is seen by whoever sees this pid. */
void ww__witness_set(struct ww__witness *w);

/* 1 if this process set the marker last (a zero there is no fork), 0 if
 * another one did, or none. */
int ww__witness_is_self(const struct ww__witness *w);

/* --- a watch ------------------------------------------------------------- */

/* One run of pages [start, end). */
struct ww__run {
    uintptr_t start, end;
};

/* One watched range: an entry of its tracker's registry and, while it is
 * live, of the process-wide table (watches.h). */
struct ww__watch {
    uintptr_t start, end;       /* [start, end), page-aligned */
    unsigned flags;             /* WW_WATCH_* */
    atomic_int stale;           /* set once the mapping is known lost */
    int disarmed;               /* the backend's disarm has run (under
                                   the process-wide table's lock) */
    struct ww_tracker *owner;   /* the tracker whose registry holds it */
    void *priv;                 /* the backend's own per-watch state */
    /* A sparse watch (WW_WATCH_SPARSE): its active runs, sorted, never
     * overlapping or touching.  Only they are armed and queried; the rest
     * is dormant.  Changed under the tracker's lock held exclusive.  The
     * backend's watch need not arm a sparse watch (uffd does not: arming
     * unpopulated memory costs page tables); the front arms each run with
     * ops->reset as it becomes active. */
    struct ww__run *active;
    size_t n_active, cap_active;
};

/* 0 if every page of [start, end) is mapped, else -EFAULT.  msync only
 * walks VMAs: cheap. */
static inline int ww__range_mapped(uintptr_t start, uintptr_t end)
{
    if (msync((void *)start, end - start, MS_ASYNC) == 0)
        return 0;
    return errno == ENOMEM ? -EFAULT : -errno;
}

/* The watch's mapping is lost: its writes can no longer be known. */
static inline int ww__mark_stale(struct ww__watch *w)
{
    atomic_store(&w->stale, 1);
    return -ESTALE;
}

/* --- sparse watches (tracker.c) ------------------------------------------
 * WW_WATCH_SPARSE (writewatch.h): only active pages are armed and
 * queried; get, reset and mark_written see a sparse watch's active runs
 * only, ww_protect changes dormant pages too; ww_protect giving access
 * and ww_mark_written activate them first.  The Win32 layer, which knows
 * what is committed, also activates and deactivates pages itself with
 * the two calls below.  Each returns 0 or -errno as the public API does.
 */

/* Make the pages of [addr, addr+len) (inside one sparse watch) active:
 * the dormant ones are armed, clean; active ones keep their state. */
int ww__activate(struct ww_tracker *t, void *addr, size_t len);

/* Make the pages of [addr, addr+len) dormant: never reported again until
 * activated (which arms them clean). */
int ww__deactivate(struct ww_tracker *t, void *addr, size_t len);

/* Whether [start, end) of w holds a dormant page (0 if w is not sparse).
 * With the tracker's lock held, as the two below. */
int ww__has_dormant(const struct ww__watch *w, uintptr_t start,
                    uintptr_t end);

/* The next dormant run of w in [*cur, end): 1 and [*run_start, *run_end),
 * *cur moved past it; 0 when there is none left. */
int ww__next_dormant(const struct ww__watch *w, uintptr_t *cur,
                     uintptr_t end, uintptr_t *run_start, uintptr_t *run_end);

/* --- the result sink --------------------------------------------------------
 * Where a get puts what it finds.  The backend asks how much room is left
 * before each kernel operation, so it never finds (and resets) more than
 * the caller can receive, then hands over runs with ww__sink_put() (or,
 * in page mode, ww__sink_page_slots()).  Only these functions touch the
 * fields.
 */
struct ww__sink {
    void **pages;               /* page mode: one address per page, or */
    struct ww_range *ranges;    /* range mode: one entry per run */
    size_t cap, n;              /* capacity and entries stored */
    uintptr_t last_end;         /* end of the last run (range merging) */
};

/* An empty sink over the caller's array: pages or ranges, cap entries. */
void ww__sink_init(struct ww__sink *s, void **pages, struct ww_range *ranges,
                   size_t cap);

/* Pages the sink can still take; SIZE_MAX in range mode (no page limit). */
static inline size_t ww__sink_room_pages(const struct ww__sink *s)
{
    return s->pages ? s->cap - s->n : SIZE_MAX;
}

/* Runs the sink can still take without merging; SIZE_MAX in page mode. */
static inline size_t ww__sink_room_runs(const struct ww__sink *s)
{
    return s->pages ? SIZE_MAX : s->cap - s->n;
}

static inline int ww__sink_full(const struct ww__sink *s)
{
    return s->n == s->cap;
}

static inline int ww__sink_page_mode(const struct ww__sink *s)
{
    return s->pages != NULL;
}

/* Store the written run [start, end).  The backend guarantees (by asking
 * for room first) that it fits; runs arrive in ascending order. */
void ww__sink_put(struct ww__sink *s, uintptr_t start, uintptr_t end);

/* Page mode's fast path, for a backend's hot loop (ww__sink_put through
 * here cost ~10% of a whole get with every other page written, wwbench
 * scenario 2): the slot of the next page, and in *limit the end of the
 * caller's array.  The loop stores pages from there on, never past
 * *limit, then hands them over with ww__sink_took_pages (its next free
 * slot); a loop that gives up instead leaves the sink as it was. */
static inline void **ww__sink_page_slots(struct ww__sink *s, void ***limit)
{
    *limit = s->pages + s->cap;
    return s->pages + s->n;
}

static inline void ww__sink_took_pages(struct ww__sink *s, void **next)
{
    s->n = (size_t)(next - s->pages);
}

/* Call fn for every run stored so far, adjacent pages joined, in order. */
void ww__sink_for_each_run(const struct ww__sink *s,
                           void (*fn)(uintptr_t start, uintptr_t end,
                                      void *arg),
                           void *arg);

/* --- sorted interval arrays -------------------------------------------------
 * A tracker's registry (registry.c), the process-wide table (watches.c),
 * the Win32 layer's allocations (win32-mem.c) and the mprotect backend's
 * table for its fault handler (mprotect-table.c) are each an array of
 * pointers to non-overlapping intervals sorted by address.
 */

/* Index of the first of the n intervals of array v whose end is above
 * addr (n if none); end_at(v, i) reads the end of the i-th.  Pure: no
 * lock, no allocation, no errno, so async-signal-safe: the fault handler
 * searches the mprotect backend's table with it. */
static inline size_t ww__first_ending_after(const void *v, size_t n,
                                            uintptr_t addr,
                                            uintptr_t (*end_at)(const void *v,
                                                                size_t i))
{
    size_t lo = 0, hi = n;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;

        if (end_at(v, mid) <= addr)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* Room for one more of the n elements (size bytes each) of the growable
 * array v of capacity *cap: v itself if it has room, else v moved to a
 * larger allocation (*cap updated), or NULL if out of memory (v kept). */
void *ww__array_grow(void *v, size_t n, size_t *cap, size_t size);

/* Open a gap at index i of the n elements of v (room for n + 1), or close
 * the one element at i. */
void ww__array_open_gap(void *v, size_t n, size_t i, size_t size);
void ww__array_close_gap(void *v, size_t n, size_t i, size_t size);

#endif /* WW_INTERNAL_H */
