/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * mprotect-table.c - every watch of the mprotect backend in this process,
 * whichever tracker owns it, as the SIGSEGV handler sees them.
 * Owns the handler's table, its writer lock and the release of a fork
 * child's inherited watches.
 *
 * The handler may take no lock that other code holds, so the table is
 * read-copy-update: a sorted array that is never changed once published.
 * A change (watch, unwatch: rare) builds the next array beside it, swaps
 * the pointer, then waits until no handler can still be reading the old
 * one before reusing it.  Handlers announce themselves in one of two
 * counters chosen by an epoch bit; the writer flips the bit and waits for
 * the old counter to drain.  Handlers never wait for writers, and they
 * leave quickly (a few mprotect calls), so the wait is short.
 *
 * Two arrays of the same capacity take turns (the spare is the one no
 * handler reads), so removing a watch never allocates and cannot fail.
 *
 * Fork.  A child's inherited watches are not the library's any more (the
 * trackers refuse to work there), but its memory is still armed, and the
 * inherited handler would still apply the parent's recorded protections
 * over whatever the child did to it.  So the child releases them: each
 * gets its caller's protection back and the table is emptied.  fork()
 * runs the pthread_atfork child handler, where nothing can have changed
 * yet; a raw fork (syscall, _Fork(), clone) runs none, so every entry
 * point and the fault handler also look (ww__mp_fork_check(): one load of
 * a MADV_WIPEONFORK page) and release at the first chance.  The writer
 * lock is a futex word, not a pthread mutex, so a raw fork child can reset
 * it: whoever held it did not survive the fork.
 */
#include "config.h"

#include <errno.h>
#include <linux/futex.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "alloc.h"
#include "internal.h"
#include "mprotect.h"

struct table {
    size_t n, cap;
    struct ww__mp_watch *v[];   /* sorted by start, never overlapping */
};

static _Atomic(struct table *) current;
static struct table *spare;             /* same cap as current, unread */
static atomic_int writer;               /* 0 free, 1 held, 2 with waiters */
static atomic_uint epoch;
static atomic_long readers[2];
static atomic_int releaser;             /* tid of the thread releasing */
static atomic_uint generation;          /* releases so far */

/* The writer lock (Drepper's three-state futex mutex).  Writers are rare
 * and hold it briefly. */
void ww__mp_table_lock(void)
{
    int c = 0;

    if (atomic_compare_exchange_strong(&writer, &c, 1))
        return;
    if (c != 2)
        c = atomic_exchange(&writer, 2);
    while (c != 0) {
        syscall(SYS_futex, (int *)&writer, FUTEX_WAIT_PRIVATE, 2, NULL,
                NULL, 0);
        c = atomic_exchange(&writer, 2);
    }
}

void ww__mp_table_unlock(void)
{
    if (atomic_exchange(&writer, 0) == 2)
        syscall(SYS_futex, (int *)&writer, FUTEX_WAKE_PRIVATE, 1, NULL,
                NULL, 0);
}

unsigned ww__mp_table_enter(void)
{
    for (;;) {
        unsigned e = atomic_load(&epoch) & 1;

        atomic_fetch_add(&readers[e], 1);
        /* Counted under the epoch that is still current, so a writer that
         * flips it later waits for us; one that flipped before published
         * its array before we read the pointer. */
        if ((atomic_load(&epoch) & 1) == e)
            return e;
        atomic_fetch_sub(&readers[e], 1);
    }
}

void ww__mp_table_leave(unsigned ticket)
{
    atomic_fetch_sub(&readers[ticket], 1);
}

static uintptr_t watch_end(const void *v, size_t i)
{
    return ((struct ww__mp_watch *const *)v)[i]->end;
}

/* Index of the first watch that ends above addr (t->n if none).
 * Async-signal-safe: the handler's lookup. */
static size_t first_ending_after(const struct table *t, uintptr_t addr)
{
    return ww__first_ending_after(t->v, t->n, addr, watch_end);
}

struct ww__mp_watch *ww__mp_table_find(uintptr_t addr)
{
    struct table *t = atomic_load(&current);
    size_t i;

    if (!t)
        return NULL;
    i = first_ending_after(t, addr);
    return i < t->n && t->v[i]->start <= addr ? t->v[i] : NULL;
}

/* Make next the table handlers see, and wait until none reads the one it
 * replaces.  Under the writer lock. */
static void publish(struct table *next)
{
    unsigned old;

    atomic_store(&current, next);
    old = atomic_fetch_xor(&epoch, 1) & 1;
    while (atomic_load(&readers[old]) != 0)
        sched_yield();
}

static struct table *table_alloc(size_t cap)
{
    struct table *t = ww__calloc(1, sizeof(*t) + cap * sizeof(t->v[0]));

    if (t)
        t->cap = cap;
    return t;
}

/* Publish cur without the watches that were retired, kept in next (the
 * spare, which no handler reads) while they were looked at. */
static void publish_kept(struct table *cur, struct table *next, size_t n)
{
    next->n = n;
    publish(next);
    spare = cur;
}

int ww__mp_table_claim(uintptr_t start, uintptr_t end)
{
    struct table *cur = atomic_load(&current), *next = spare;
    size_t n = 0;
    int r = 0;

    if (!cur)
        return 0;
    for (size_t k = 0; k < cur->n; k++) {
        struct ww__mp_watch *mw = cur->v[k];

        if (r == 0 && mw->start < end && start < mw->end) {
            uintptr_t lo = mw->start > start ? mw->start : start;
            uintptr_t hi = mw->end < end ? mw->end : end;

            if (ww__mp_retire_lost(mw, lo, hi))
                continue;
            r = -EEXIST;
        }
        next->v[n++] = mw;
    }
    if (n < cur->n)
        publish_kept(cur, next, n);
    return r;
}

int ww__mp_table_insert(struct ww__mp_watch *mw)
{
    struct table *cur, *next, *next_spare = NULL;
    size_t n, i;

    cur = atomic_load(&current);
    n = cur ? cur->n : 0;
    i = cur ? first_ending_after(cur, mw->start) : 0;
    if (i < n && cur->v[i]->start < mw->end)
        return -EEXIST;
    if (!cur || n == cur->cap) {
        size_t cap = cur ? 2 * cur->cap : 8;

        next = table_alloc(cap);
        next_spare = table_alloc(cap);
        if (!next || !next_spare) {
            free(next);
            free(next_spare);
            return -ENOMEM;
        }
    } else {
        next = spare;
    }
    for (size_t k = 0; k < i; k++)
        next->v[k] = cur->v[k];
    next->v[i] = mw;
    for (size_t k = i; k < n; k++)
        next->v[k + 1] = cur->v[k];
    next->n = n + 1;
    publish(next);
    if (next_spare) {
        free(cur);
        free(spare);
        spare = next_spare;
    } else {
        spare = cur;
    }
    return 0;
}

void ww__mp_table_remove(struct ww__mp_watch *mw)
{
    struct table *cur, *next;
    size_t n = 0;

    ww__mp_table_lock();
    cur = atomic_load(&current);
    if (cur) {
        next = spare;
        for (size_t k = 0; k < cur->n; k++)
            if (cur->v[k] != mw)
                next->v[n++] = cur->v[k];
        next->n = n;
        publish(next);
        spare = cur;
    }
    ww__mp_table_unlock();
}

/* fork: no table change may be half-done in the child, so fork waits for
 * the one in progress.  (Handlers never take the writer lock.)  And watches
 * that lost memory are retired now, while the marks can still tell which
 * of their memory is the backend's: the child inherits only watches whose
 * memory is all the backend's, and gives it all back. */
void ww__mp_table_fork_prepare(void)
{
    struct table *cur, *next = spare;
    size_t n = 0;

    ww__mp_table_lock();
    cur = atomic_load(&current);
    for (size_t k = 0; cur && k < cur->n; k++) {
        struct ww__mp_watch *mw = cur->v[k];

        if (!mw->marked || !ww__mp_retire_lost(mw, mw->start, mw->end))
            next->v[n++] = mw;
    }
    if (cur && n < cur->n)
        publish_kept(cur, next, n);
}

void ww__mp_table_fork_parent(void)
{
    ww__mp_table_unlock();
}

/* The lock on releasing: a tid, so that one inherited from a thread of
 * the parent (which forked while releasing) can be taken over. */
static void releaser_lock(void)
{
    int me = (int)syscall(SYS_gettid);

    for (;;) {
        int holder = 0;

        if (atomic_compare_exchange_strong(&releaser, &holder, me))
            return;
        if (syscall(SYS_tgkill, getpid(), holder, 0) < 0 && errno == ESRCH &&
            atomic_compare_exchange_strong(&releaser, &holder, me))
            return;
        sched_yield();
    }
}

/* Release every inherited watch and empty the table.  Only the thread
 * that forked existed at the fork, and every path into the backend comes
 * through here first: nobody in this process holds the writer lock, a
 * watch's lock or a reader's count, whatever the copies say.
 * torn: a raw fork caught a writer in the middle of a change (it held the
 * writer lock).  Then the arrays are dropped, neither reused nor freed:
 * the writer may have published the new array and not yet taken the old
 * one as its spare (spare is current: the next insert would shift
 * entries in place under the handlers' feet and lose a watch), or freed
 * the old pair on growth (spare is freed).  The published array itself
 * is whole: a writer never changes one. */
static void release(int eager, int torn)
{
    struct table *cur = atomic_load(&current);

    atomic_store(&readers[0], 0);
    atomic_store(&readers[1], 0);
    for (size_t k = 0; cur && k < cur->n; k++) {
        atomic_store(&cur->v[k]->lock, 0);
        ww__mp_release(cur->v[k], eager);
    }
    if (torn) {
        atomic_store(&current, NULL);
        spare = NULL;
    } else if (cur) {
        spare->n = 0;
        atomic_store(&current, spare);
        spare = cur;
    }
    ww__mp_adopt();
    atomic_fetch_add(&generation, 1);
}

/* After fork(): the prepare handler holds the writer lock for us. */
void ww__mp_table_fork_child(void)
{
    atomic_store(&releaser, 0);
    if (ww__mp_forked())
        release(1, 0);          /* the prepare handler held the lock */
    atomic_store(&writer, 0);
}

int ww__mp_fork_check(void)
{
    sigset_t all, saved;
    int released = 0;

    if (!ww__mp_forked())
        return 0;
    /* No handler may interrupt the release and fault into it. */
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &saved);
    releaser_lock();
    if (ww__mp_forked()) {
        int torn = atomic_exchange(&writer, 0) != 0;

        release(0, torn);
        released = 1;
    }
    atomic_store(&releaser, 0);
    pthread_sigmask(SIG_SETMASK, &saved, NULL);
    return released;
}

unsigned ww__mp_generation(void)
{
    return atomic_load(&generation);
}
