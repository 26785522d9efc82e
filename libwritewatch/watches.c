/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * watches.c - the process-wide table of live watches (see watches.h): a
 * registry (sorted array) under one mutex.  Only watch creation and
 * removal take it -- rare calls; queries never do.
 * Owns the table, its lock and the address-space identity (ww__space).
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "registry.h"
#include "watches.h"

static struct ww__registry live;
static pthread_mutex_t table_lock = PTHREAD_MUTEX_INITIALIZER;

#ifndef MADV_WIPEONFORK
#define MADV_WIPEONFORK 18
#endif

/*
 * Which copy of the address space this is, without a system call: a
 * query checks it on every call (getpid() and its system call cost ~0.1
 * us of a 5 us get, wwbench scenario 2).  One page of the library's own,
 * MADV_WIPEONFORK, holds a nonzero generation; the kernel hands every
 * copy of the memory (fork, a raw fork system call, clone without
 * CLONE_VM: no pthread_atfork handler needed) a zeroed page instead.  A
 * process whose page reads zero takes a generation above every one
 * handed out before its fork -- the counter is copied with the memory --
 * so none of the generations its inherited trackers hold can come back.
 * A child sharing the memory (vfork, clone with CLONE_VM) keeps the page:
 * for the library it is one more thread, which it is for the memory.
 * Without MADV_WIPEONFORK (Linux < 4.14) the pid tells, as before.
 *
 * A page that reads zero may also be one the program discarded itself
 * (MADV_DONTNEED or MADV_FREE over a range it thinks it owns): that is no
 * fork, and taking a new generation would make every tracker answer
 * -ECHILD for good.  So a zero is checked, on that slow path only,
 * against who set the generation (the witness: the process, by pid and
 * pid namespace); the same process puts its generation back.  A page
 * unmapped or made inaccessible cannot be saved: the next call faults, as
 * with any other memory of the library's (writewatch.h says so).
 */
static _Atomic(atomic_ulong *) marker;
static atomic_int marker_unusable;      /* madvise refused: use the pid */
static atomic_ulong generations;        /* the last one handed out */
/* The generation this process set, stored before its witness: whoever
 * the witness says set the marker finds the generation it set. */
static atomic_ulong witness_gen;
static struct ww__witness witness;

/* The marker page, made once; NULL without one (*err: why). */
static atomic_ulong *marker_page(int *err)
{
    atomic_ulong *m = atomic_load_explicit(&marker, memory_order_acquire);
    atomic_ulong *none = NULL;
    void *p;

    *err = 0;
    if (m || atomic_load(&marker_unusable))
        return m;
    p = mmap(NULL, ww__page_size(), PROT_READ | PROT_WRITE,
             MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) {
        *err = -ENOMEM;
        return NULL;
    }
    if (madvise(p, ww__page_size(), MADV_WIPEONFORK) < 0) {
        munmap(p, ww__page_size());
        atomic_store(&marker_unusable, 1);
        return NULL;
    }
    if (!atomic_compare_exchange_strong(&marker, &none, p)) {
        munmap(p, ww__page_size());     /* another thread made one */
        return none;
    }
    return p;
}

unsigned long ww__space(void)
{
    atomic_ulong *m = atomic_load_explicit(&marker, memory_order_acquire);

    if (m)
        return atomic_load_explicit(m, memory_order_relaxed);
    return (unsigned long)syscall(SYS_getpid);
}

/* m reads zero: if this process set its generation (the program
 * discarded the page, no fork), put that generation back. */
static void rescue(atomic_ulong *m)
{
    unsigned long zero = 0;

    if (ww__witness_is_self(&witness))
        atomic_compare_exchange_strong(m, &zero, atomic_load(&witness_gen));
}

unsigned long ww__space_confirm(void)
{
    atomic_ulong *m = atomic_load_explicit(&marker, memory_order_acquire);

    if (m && atomic_load(m) == 0)
        rescue(m);
    return ww__space();
}

int ww__space_claim(unsigned long *space)
{
    int err;
    atomic_ulong *m = marker_page(&err);
    unsigned long g;

    if (!m) {
        *space = (unsigned long)syscall(SYS_getpid);
        return err;
    }
    g = atomic_load(m);
    if (g == 0) {
        rescue(m);
        g = atomic_load(m);
    }
    while (g == 0) {
        unsigned long mine = atomic_fetch_add(&generations, 1) + 1;

        if (atomic_compare_exchange_strong(m, &g, mine)) {
            atomic_store(&witness_gen, mine);
            ww__witness_set(&witness);
            g = mine;
        }                           /* else g is the one another took */
    }
    *space = g;
    return 0;
}

/* The address space the table belongs to; 0 before first use, and
 * ADOPTING(space) while a first call in a fork child forgets the
 * parent's table (one inherited from a parent that forked while
 * adopting is another space's, taken over as any other). */
#define ADOPTING(space) ((space) | ~(~0UL >> 1))
static atomic_ulong table_space;

/* In a fork child only the forking thread survived: a lock held by any
 * other thread at the fork would never be released, and the parent's
 * watches are not the child's to compare with.  Start afresh.  (The
 * registry's array is the parent's copy: drop it without freeing, a
 * thread of the parent may have been moving it.)  A watch is made
 * through a tracker, whose open claimed the space: this claim finds it. */
static void adopt_table(void)
{
    unsigned long me;

    (void)ww__space_claim(&me);
    for (;;) {
        unsigned long owner = atomic_load(&table_space);

        if (owner == me)
            return;
        if (owner == ADOPTING(me)) {    /* another thread adopts it */
            sched_yield();
            continue;
        }
        if (atomic_compare_exchange_strong(&table_space, &owner,
                                           ADOPTING(me))) {
            if (owner != 0) {
                pthread_mutex_t fresh = PTHREAD_MUTEX_INITIALIZER;

                table_lock = fresh;
                live.v = NULL;
                live.n = live.cap = 0;
            }
            atomic_store(&table_space, me);
            return;
        }
    }
}

void ww__watches_lock(void)
{
    adopt_table();
    pthread_mutex_lock(&table_lock);
}

void ww__watches_unlock(void)
{
    pthread_mutex_unlock(&table_lock);
}

struct ww__watch *ww__watches_first_overlap(uintptr_t start, uintptr_t end)
{
    return ww__registry_first_overlap(&live, start, end);
}

int ww__watches_reserve(void)
{
    return ww__registry_reserve(&live);
}

void ww__watches_insert(struct ww__watch *w)
{
    ww__registry_insert(&live, w);
}

void ww__watches_remove(struct ww__watch *w)
{
    ww__registry_remove(&live, w);
}
