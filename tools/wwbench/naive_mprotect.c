/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * naive_mprotect.c - the classic write watch, written the obvious way:
 * arm = mprotect(PROT_READ); a write faults; the SIGSEGV handler marks the
 * page and mprotects it writable again; get walks a byte per page and
 * re-protects each written run.  This is the mechanism of Wine 8.0 (one
 * global lock taken in the fault path and held through a whole get), and
 * the reference the library's backends are compared with.
 *
 * The lock makes "page writable" and "page marked" change together: a
 * handler that marked the page before mprotect'ing it writable could
 * otherwise race with a get that reports and re-protects it in between,
 * leaving a writable page that no later get would report.
 *
 * Every fault splits a VMA.  When the kernel's map count limit is hit the
 * handler cannot unprotect one page, so it unprotects the whole range and
 * the method reports -E_OVERFLOW ("VMA limit") from then on.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "wwbench.h"

static _Atomic(char *) watch_base;       /* NULL while nothing is watched */
static size_t watch_len;
static unsigned char *dirty;             /* one byte per page */
static int overflow;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct sigaction previous;
static int installed;

/* A mutex in a signal handler, as Wine does: POSIX does not promise it is
 * async-signal-safe, but it only deadlocks if a thread faults on watched
 * memory while holding it, and no holder here touches watched memory.  A
 * spin lock was tried first: with 8 writers on 2 CPUs the spinners starved
 * the holder and made this method look worse than the mechanism is. */
static void lock_take(void)
{
    pthread_mutex_lock(&lock);
}

static void lock_drop(void)
{
    pthread_mutex_unlock(&lock);
}

/* Not our fault: hand it to whoever had SIGSEGV before us (the library's
 * mprotect backend, or the default action, which kills on re-execution). */
static void chain(int sig, siginfo_t *si, void *ctx)
{
    if (previous.sa_flags & SA_SIGINFO) {
        previous.sa_sigaction(sig, si, ctx);
    } else if (previous.sa_handler == SIG_DFL ||
               previous.sa_handler == SIG_IGN) {
        signal(sig, SIG_DFL);
    } else {
        previous.sa_handler(sig);
    }
}

static void on_segv(int sig, siginfo_t *si, void *ctx)
{
    char *base = atomic_load(&watch_base);
    char *a = si->si_addr;
    int saved = errno;

    if (!base || a < base || a >= base + watch_len || si->si_code != SEGV_ACCERR) {
        chain(sig, si, ctx);
        errno = saved;
        return;
    }
    lock_take();
    size_t idx = (size_t)(a - base) / page_size();
    if (!dirty[idx] && !overflow) {
        if (mprotect(base + idx * page_size(), page_size(),
                     PROT_READ | PROT_WRITE) == 0) {
            dirty[idx] = 1;
        } else {
            mprotect(base, watch_len, PROT_READ | PROT_WRITE);
            overflow = 1;
        }
    }
    lock_drop();
    errno = saved;
}

static int naive_probe(char *why, size_t len)
{
    (void)why;
    (void)len;
    return 0;
}

static int naive_watch(char *base, size_t len)
{
    /* Installed once and never removed: the library's backend may have
     * installed its own handler after ours and chain to it. */
    if (!installed) {
        struct sigaction sa = { .sa_sigaction = on_segv,
                                .sa_flags = SA_SIGINFO | SA_RESTART };

        sigemptyset(&sa.sa_mask);
        if (sigaction(SIGSEGV, &sa, &previous) < 0)
            return -errno;
        installed = 1;
    }
    dirty = calloc(len / page_size(), 1);
    if (!dirty)
        return -ENOMEM;
    overflow = 0;
    watch_len = len;
    atomic_store(&watch_base, base);
    if (mprotect(base, len, PROT_READ) < 0) {
        int r = -errno;
        atomic_store(&watch_base, NULL);
        free(dirty);
        return r;
    }
    return 0;
}

/* Length of the run of written pages at i (0 if page i is clean). */
static size_t dirty_run(size_t i, size_t npages)
{
    size_t j = i;

    while (j < npages && dirty[j])
        j++;
    return j - i;
}

static int naive_get_reset(void **pages, size_t cap, size_t *count)
{
    char *base = atomic_load(&watch_base);
    size_t page = page_size(), npages = watch_len / page, n = 0;
    int r = 0;

    lock_take();
    if (overflow) {
        lock_drop();
        return -E_OVERFLOW;
    }
    for (size_t i = 0; i < npages && n < cap; i++) {
        uint64_t word;

        /* Skip clean pages eight at a time. */
        if (i % 8 == 0 && i + 8 <= npages) {
            memcpy(&word, dirty + i, 8);
            if (!word) {
                i += 7;
                continue;
            }
        }
        size_t run = dirty_run(i, npages);
        if (!run)
            continue;
        if (run > cap - n)
            run = cap - n;
        if (mprotect(base + i * page, run * page, PROT_READ) < 0) {
            r = -errno;
            break;
        }
        for (size_t k = 0; k < run; k++) {
            dirty[i + k] = 0;
            pages[n++] = base + (i + k) * page;
        }
        i += run - 1;
    }
    lock_drop();
    *count = n;
    return r;
}

static void naive_unwatch(void)
{
    char *base = atomic_load(&watch_base);

    mprotect(base, watch_len, PROT_READ | PROT_WRITE);
    atomic_store(&watch_base, NULL);
    free(dirty);
    dirty = NULL;
}

const struct method method_naive_mprotect = {
    "naive-mprotect", "naive mprotect", 1,
    naive_probe, naive_watch, naive_get_reset, naive_unwatch,
};
