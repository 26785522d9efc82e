/*
 * mprotect-table.c - every watch of the mprotect backend in this process,
 * whichever tracker owns it, as the SIGSEGV handler sees them.
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
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>

#include "alloc.h"
#include "mprotect.h"

struct table {
    size_t n, cap;
    struct ww__mp_watch *v[];   /* sorted by start, never overlapping */
};

static _Atomic(struct table *) current;
static struct table *spare;             /* same cap as current, unread */
static pthread_mutex_t writer_lock = PTHREAD_MUTEX_INITIALIZER;
static atomic_uint epoch;
static atomic_long readers[2];

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

/* Index of the first watch that ends above addr (t->n if none). */
static size_t first_ending_after(const struct table *t, uintptr_t addr)
{
    size_t lo = 0, hi = t->n;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (t->v[mid]->end <= addr)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
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
 * replaces.  Under writer_lock. */
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

int ww__mp_table_overlaps(uintptr_t start, uintptr_t end)
{
    struct table *t;
    size_t i;
    int r;

    pthread_mutex_lock(&writer_lock);
    t = atomic_load(&current);
    i = t ? first_ending_after(t, start) : 0;
    r = t && i < t->n && t->v[i]->start < end;
    pthread_mutex_unlock(&writer_lock);
    return r;
}

int ww__mp_table_insert(struct ww__mp_watch *mw)
{
    struct table *cur, *next, *next_spare = NULL;
    size_t n, i;
    int r = 0;

    pthread_mutex_lock(&writer_lock);
    cur = atomic_load(&current);
    n = cur ? cur->n : 0;
    i = cur ? first_ending_after(cur, mw->start) : 0;
    if (i < n && cur->v[i]->start < mw->end) {
        r = -EEXIST;
        goto out;
    }
    if (!cur || n == cur->cap) {
        size_t cap = cur ? 2 * cur->cap : 8;

        next = table_alloc(cap);
        next_spare = table_alloc(cap);
        if (!next || !next_spare) {
            free(next);
            free(next_spare);
            r = -ENOMEM;
            goto out;
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
out:
    pthread_mutex_unlock(&writer_lock);
    return r;
}

void ww__mp_table_remove(struct ww__mp_watch *mw)
{
    struct table *cur, *next;
    size_t n = 0;

    pthread_mutex_lock(&writer_lock);
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
    pthread_mutex_unlock(&writer_lock);
}

/* fork: no table change may be half-done in the child, so fork waits for
 * the one in progress.  (Handlers never take writer_lock.) */
void ww__mp_table_fork_prepare(void)
{
    pthread_mutex_lock(&writer_lock);
}

void ww__mp_table_fork_parent(void)
{
    pthread_mutex_unlock(&writer_lock);
}

/* In the child only the forking thread exists.  Handlers and queries that
 * were running in other threads left their counters raised and maybe a
 * watch locked; nobody will release them, so start from zero.  (A page may
 * be half-way through a transition: harmless, as the child can no longer
 * query its watches, and its writes still go through the handler.) */
void ww__mp_table_fork_child(void)
{
    struct table *t = atomic_load(&current);

    atomic_store(&readers[0], 0);
    atomic_store(&readers[1], 0);
    for (size_t k = 0; t && k < t->n; k++)
        atomic_store(&t->v[k]->lock, 0);
    pthread_mutex_unlock(&writer_lock);
}
