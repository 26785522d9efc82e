/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * watches.c - the process-wide table of live watches (see watches.h): a
 * registry (sorted array) under one mutex.  Only watch creation and
 * removal take it -- rare calls; queries never do.
 * Owns the table, its lock and ww__pid.
 */
#include "config.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "registry.h"
#include "watches.h"

static struct ww__registry live;
static pthread_mutex_t table_lock = PTHREAD_MUTEX_INITIALIZER;

/* The pid the table belongs to; 0 before first use, and -pid while the
 * first call in a fork child forgets the parent's table. */
static atomic_int table_pid;

pid_t ww__pid(void)
{
    return (pid_t)syscall(SYS_getpid);
}

/* In a fork child only the forking thread survived: a lock held by any
 * other thread at the fork would never be released, and the parent's
 * watches are not the child's to compare with.  Start afresh.  (The
 * registry's array is the parent's copy: drop it without freeing, a
 * thread of the parent may have been moving it.) */
static void adopt_table(void)
{
    pid_t me = ww__pid();

    for (;;) {
        int owner = atomic_load(&table_pid);

        if (owner == me)
            return;
        if (owner == -me) {             /* another thread adopts it */
            sched_yield();
            continue;
        }
        if (atomic_compare_exchange_strong(&table_pid, &owner, -me)) {
            if (owner != 0) {
                pthread_mutex_t fresh = PTHREAD_MUTEX_INITIALIZER;

                table_lock = fresh;
                live.v = NULL;
                live.n = live.cap = 0;
            }
            atomic_store(&table_pid, me);
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
