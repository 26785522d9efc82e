/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * watches.h - the process-wide table of live watches, of every tracker and
 * backend.
 * Owns the rule that live watches never overlap.
 *
 * A process has one address space: two watches over the same page, by two
 * trackers or two backends, would each re-arm what the other must report.
 * So a new watch may not overlap a live one -- unless the old one's
 * mapping is gone (unmapped, or replaced), which only the table can tell:
 * a new watch over an old watch's range is the moment its owner's
 * mapping was seen to be replaced.  Such an old watch is superseded: it
 * becomes stale, its backend disarms what is left of it, and it leaves
 * the table (its tracker's registry keeps it until ww_unwatch).
 *
 * The table also tells a fork child from its parent: a raw fork
 * (syscall(SYS_fork), _Fork, clone without CLONE_VM) runs no
 * pthread_atfork handler, so only the memory itself can witness it
 * (ww__space: a MADV_WIPEONFORK page).
 */
#ifndef WW_WATCHES_H
#define WW_WATCHES_H

#include <stdint.h>
#include <sys/types.h>

#include "internal.h"

/* The table's lock.  Taken after a tracker's lock, never before.  In a
 * fork child the first call forgets the parent's table (its watches
 * belong to inherited trackers, which refuse to work) and its lock. */
void ww__watches_lock(void);
void ww__watches_unlock(void);

/* Under the lock: the live watch with the lowest start that overlaps
 * [start, end), or NULL. */
struct ww__watch *ww__watches_first_overlap(uintptr_t start, uintptr_t end);

/* Under the lock: make room for one more watch, so that the insert that
 * follows cannot fail (0 or -ENOMEM); add a live watch that overlaps no
 * other; take one out (no-op if absent). */
int ww__watches_reserve(void);
void ww__watches_insert(struct ww__watch *w);
void ww__watches_remove(struct ww__watch *w);

/* Which copy of the address space this is: what a tracker notes at open
 * and compares on every call.  ww__space_claim (at open) gives this copy
 * its identity if it has none yet (first use, or a fork child): 0, or
 * -ENOMEM (*space is still set, to the pid).  ww__space (on every call)
 * only reads it: one load, no system call.  Never the same in a fork
 * child as in its parent, however it was forked; the same in a child
 * that shares the memory (vfork, CLONE_VM). */
int ww__space_claim(unsigned long *space);
unsigned long ww__space(void);

/* ww__space for a caller it did not match: a marker the program
 * discarded in this same process (MADV_DONTNEED) is no fork, and gets its
 * generation back first (watches.c).  Two system calls where the marker
 * reads zero, none otherwise. */
unsigned long ww__space_confirm(void);

#endif /* WW_WATCHES_H */
