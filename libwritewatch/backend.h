/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * backend.h - the backend operations table: the only thing tracker.c
 * knows about a backend, and the only way it calls one.  Backends never
 * call up into tracker.c.
 *
 * A backend is a table of operations.  tracker.c validates every argument,
 * finds the watch, holds the tracker's lock (shared for get/reset/mark/
 * protect, exclusive for watch/unwatch/open/close) and only then calls
 * down, so a backend may assume: ranges are page-aligned, non-empty and
 * lie inside the watch it is given; the watch stays alive for the whole
 * call.  Backends return 0 or a negative errno, like the public API.
 *
 * Words, as every file of the library uses them:
 *   armed        a page whose next write the backend will see (uffd-wp bit
 *                set; mprotect: bit clear, PROT_WRITE taken away).
 *   written      a page written since it was last armed: a get reports it.
 *   stale        a watch whose mapping is (partly) lost: its writes can no
 *                longer be known, so queries fail with -ESTALE; for good.
 *   lost         (mprotect) memory of a watch that is no longer what the
 *                backend armed: unmapped, or replaced.  Makes it stale.
 *   owned, marked  (mprotect) memory the backend armed and still holds,
 *                known by the mark it registered (mprotect-mark.c).
 *   superseded   a stale watch whose range a new watch took: disarmed and
 *                out of the process-wide table (watches.h).
 *   disarmed     given back as plain memory; the backend never acts on
 *                that range again (ops->disarm).
 *   dead         (mprotect) disarmed, as the fault handler sees it.
 *   caller's protection  the PROT_* bits the program wants a page to
 *                have (learnt at watch, changed by ww_protect); an armed
 *                page has them without PROT_WRITE.
 *   uniform      (mprotect) every page of a watch has the same caller's
 *                protection.
 */
#ifndef WW_BACKEND_H
#define WW_BACKEND_H

#include <stdint.h>

#include "internal.h"

struct ww__backend_ops {
    enum ww_backend id;
    const char *name;

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

    /* Whether the dormant pages of [start, end) of a sparse watch
     * (ww__next_dormant(); never armed, PROT_NONE unless the caller went
     * around ww_protect) are still the memory this backend watches, as a
     * get would find them, without a get's scan: 0, or -ESTALE (the
     * watch marked stale), -ECHILD, or another -errno.  A get does not
     * scan dormant pages: the front asks this first, once per query over
     * a range that has some, with the tracker's lock held. */
    int (*check)(void *priv, struct ww__watch *w, uintptr_t start,
                 uintptr_t end);

    /* Stop watching w: give what is still the backend's of its memory
     * back as plain memory, and never act on that range again (queries
     * still in flight on w fail with -ESTALE).  Runs once per watch, from
     * unwatch or when a new watch took w's range; may then run while a
     * query on w is in flight in another thread.  forked: the call comes
     * from a fork child whose kernel objects still describe the parent:
     * touch nothing of the parent's. */
    void (*disarm)(void *priv, struct ww__watch *w, int forked);

    /* The front found itself in a fork child (a tracker's copy of the
     * address space is not this one, watches.h: ww__space): let go of
     * what the parent's watches left in this process before the call
     * fails with -ECHILD.  May be NULL. */
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

#endif /* WW_BACKEND_H */
