/*
 * backend.h - the only thing tracker.c knows about a backend.
 *
 * A backend is a table of operations.  tracker.c validates every argument,
 * finds the watch, holds the tracker's lock (shared for get/reset/mark/
 * protect, exclusive for watch/unwatch/open/close) and only then calls
 * down, so a
 * backend may assume: ranges are page-aligned, non-empty and lie inside
 * the watch it is given; the watch stays alive for the whole call.
 * Backends return 0 or a negative errno, like the public API.
 */
#ifndef WW_BACKEND_H
#define WW_BACKEND_H

#include <errno.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/mman.h>

#include "writewatch.h"

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
};

/*
 * Where a get puts what it finds.  The backend asks how much room is left
 * before each kernel operation, so it never finds (and resets) more than
 * the caller can receive, then hands over runs with ww__sink_put().
 */
struct ww__sink {
    void **pages;               /* page mode: one address per page, or */
    struct ww_range *ranges;    /* range mode: one entry per run */
    size_t cap, n;              /* capacity and entries stored */
    uintptr_t last_end;         /* end of the last run (range merging) */
};

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

/* Store the written run [start, end).  The backend guarantees (by asking
 * for room first) that it fits; runs arrive in ascending order. */
void ww__sink_put(struct ww__sink *s, uintptr_t start, uintptr_t end);

struct ww__backend_ops {
    enum ww_backend id;
    const char *name;

    /* Whether the backend can run in this process: 0 or -errno.  Called
     * once per process (the result is cached by tracker.c). */
    int (*probe)(void);

    /* Create / destroy the backend's per-tracker state in *priv.  With
     * forked != 0 the call comes from a fork child whose kernel objects
     * still describe the parent: release memory and fds, touch nothing. */
    int (*open)(void **priv);
    void (*close)(void *priv, int forked);

    /* Arm a new watch (all pages clean).  0 or -errno. */
    int (*watch)(void *priv, struct ww__watch *w);

    /* Whether [start, end) of w is still the memory this backend armed:
     * 1 yes, 0 no (unmapped, or replaced by another mapping), or -errno.
     * Asked when a new watch (of any tracker) overlaps w; may run while a
     * query on w is in flight in another thread. */
    int (*owns)(void *priv, struct ww__watch *w, uintptr_t start,
                uintptr_t end);

    /* Stop watching w: give what is still the backend's of its memory
     * back as plain memory, and never act on that range again (queries
     * still in flight on w fail with -ESTALE).  Runs once per watch, from
     * unwatch or when a new watch took w's range; may then run while a
     * query on w is in flight in another thread.  forked: the call comes
     * from a fork child whose kernel objects still describe the parent:
     * touch nothing of the parent's. */
    void (*disarm)(void *priv, struct ww__watch *w, int forked);

    /* The front found itself in a fork child (a tracker's pid is not this
     * process's): let go of what the parent's watches left in this
     * process before the call fails with -ECHILD.  May be NULL. */
    void (*in_child)(void);

    /* Free w->priv (after disarm; no query on w can be in flight). */
    void (*free_watch)(void *priv, struct ww__watch *w);

    /* Report written pages of [start, end) into sink; with reset, re-arm
     * exactly what was reported.  Never reports a lost mapping as clean:
     * set w->stale and return -ESTALE instead.  A resetting get that
     * fails leaves in the sink every run it re-armed (the front then
     * undoes them with unreset, see tracker.c). */
    int (*get)(void *priv, struct ww__watch *w, uintptr_t start,
               uintptr_t end, int reset, struct ww__sink *sink);
    int (*reset)(void *priv, struct ww__watch *w, uintptr_t start,
                 uintptr_t end);
    int (*mark_written)(void *priv, struct ww__watch *w, uintptr_t start,
                        uintptr_t end);

    /* Make [start, end) read as written again, with no staleness check:
     * the undo of a failed resetting get.  Cannot fail (best effort where
     * the memory is gone: a lost mapping is stale anyway). */
    void (*unreset)(void *priv, struct ww__watch *w, uintptr_t start,
                    uintptr_t end);

    /* Give [start, end) the protection prot (checked: PROT_READ,
     * PROT_WRITE and PROT_EXEC bits only, PROT_WRITE only with PROT_READ),
     * keeping each page's write state.  A write the protection forbids
     * must fault as it would without the library, and not be reported. */
    int (*protect)(void *priv, struct ww__watch *w, uintptr_t start,
                   uintptr_t end, int prot);
};

extern const struct ww__backend_ops ww__uffd_ops;
extern const struct ww__backend_ops ww__mprotect_ops;

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

/* The page size, read once. */
size_t ww__page_size(void);

#endif /* WW_BACKEND_H */
