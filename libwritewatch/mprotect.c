/*
 * mprotect.c - the fallback backend: write-protection with mprotect(2) and
 * a SIGSEGV handler, for kernels and sandboxes without userfaultfd.
 *
 * Every watched page has the caller's protection: what the program wants
 * it to allow (PROT_NONE, PROT_READ or PROT_READ|PROT_WRITE, perhaps with
 * PROT_EXEC), learnt from its VMA by ww_watch() and changed only through
 * ww_protect().  A page is armed (its bit in the watch's bitmap clear; its
 * protection the caller's without PROT_WRITE) or written (bit set; the
 * caller's protection).  The first write to an armed page faults; if the
 * caller lets the page be written, the handler (mprotect-signal.c, then
 * ww__mp_fault below) sets the bit, gives the page the caller's
 * protection and returns, and the write runs again.  get reads the
 * bitmap; RESET arms the pages it returns again.
 *
 * A fault the caller's protection does not allow (a write to a page it
 * made read-only or inaccessible, any read of an inaccessible page) is
 * not the library's: it goes to the handler installed before, exactly as
 * without the library, and the page is not marked written.  So the caller
 * sees the access violations it asked for, on armed and written pages
 * alike, and mprotect(2) by the caller is not needed (and not allowed).
 *
 * Why no write is lost.  One invariant, for every watched page:
 *
 *     whenever its watch's lock is free, a page whose bit is clear is
 *     mapped without PROT_WRITE, so a store to it faults before it lands.
 *
 *  1. Only re-arming clears bits (get+RESET, ww_reset), and it clears them
 *     and then takes PROT_WRITE away in one hold of the lock.  A store
 *     that lands between the two lands before the call returns, in a page
 *     the call reports: the caller reads the page afterwards.
 *  2. Every grant of PROT_WRITE sets the bit first, under the same lock:
 *     the handler's, ww_mark_written's, and ww_protect's, which takes
 *     PROT_WRITE from its whole range first and only then gives it back
 *     to the written pages.  A fault still in flight while a get+RESET
 *     reports and re-arms its page gets the lock after it, sets the bit
 *     again before unprotecting, and its store is in the next report: the
 *     classic race (unprotecting a page just reported and re-armed, with
 *     no trace) cannot happen.
 *  3. Setting a bit never breaks the invariant, so every failure errs that
 *     way: a re-arm that mprotect refuses sets the bits again; widening for
 *     vm.max_map_count (mprotect-watch.c) marks the widened pages written
 *     before unprotecting them.  A set bit on an armed page costs one more
 *     report, and the next fault there unprotects it again.  A failed
 *     ww_protect may leave part of its range as it was, like mprotect(2),
 *     but it never makes a clear page writable.
 * So every store lands while its bit is set (or inside a report, 1), and a
 * set bit is cleared only by a call that reports it (or ww_reset).
 *
 * The lock is taken by the handler, so nobody may hold it while it could
 * fault into the handler itself: other code holds it with every signal
 * blocked and touches only library memory under it (get collects into a
 * bounce buffer on the stack and copies to the caller's array, which may
 * be watched memory, after unlocking); the handler runs with asynchronous
 * signals blocked.  The caller's protections are read and changed only
 * under the lock, so the handler's decision and ww_protect cannot
 * interleave.  The handler finds the watch in the process-wide table
 * (mprotect-table.c) without a lock.  Trackers need no state of their own.
 *
 * Limits (see include/writewatch.h): the kernel's own writes into armed
 * pages fail with EFAULT (ww_mark_written() first); an unmapped part of a
 * watch, or a writable mapping put over it (MAP_FIXED), is detected by
 * get and reset and makes the watch stale (check_still_ours); near
 * vm.max_map_count pages may be reported without having been written,
 * never the reverse.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <linux/futex.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "backend.h"
#include "inject.h"
#include "mprotect.h"
#include "vma.h"

/* Runs re-armed per hold of the lock by get+RESET and reset: bounds both
 * the bounce buffer (1 KiB) and how long a faulting writer may wait. */
#define BOUNCE_RUNS 64

static pthread_once_t init_once = PTHREAD_ONCE_INIT;
static int init_result;

/* The handler and the fork handlers are process-wide and cannot be
 * removed, so they are installed once, on first use, and stay. */
static void init(void)
{
    init_result = ww__mp_signal_install();
    if (init_result == 0)
        pthread_atfork(ww__mp_table_fork_prepare, ww__mp_table_fork_parent,
                       ww__mp_table_fork_child);
}

static int mp_init(void)
{
    pthread_once(&init_once, init);
    return init_result;
}

/*
 * Whether the page at addr is writable now, asked without touching its
 * contents: FUTEX_WAKE_OP makes the kernel add 0 to a word of the page
 * atomically, and fails with EFAULT if the page may not be written.
 * Async-signal-safe, and atomic, so a concurrent writer loses nothing.
 */
static int page_writable_now(uintptr_t addr)
{
    static int unused_futex;
    uintptr_t word = addr & ~(uintptr_t)(ww__page_size() - 1);

    return syscall(SYS_futex, &unused_futex, FUTEX_WAKE_OP_PRIVATE, 0, NULL,
                   (int *)word,
                   FUTEX_OP(FUTEX_OP_ADD, 0, FUTEX_OP_CMP_EQ, 0)) >= 0;
}

int ww__mp_fault(uintptr_t addr)
{
    unsigned ticket = ww__mp_table_enter();
    struct ww__mp_watch *mw = ww__mp_table_find(addr);
    int handled = 0;

    if (mw) {
        size_t i = (addr - mw->start) / ww__page_size();

        ww__mp_lock(mw);
        /* A write the caller forbade is the program's fault, not ours.
         * A dead watch is being unwatched and its pages were given the
         * caller's protection: let the write run again.  The watch leaves
         * the table right after, so a fault that is not ours cannot loop
         * for long. */
        if (mw->prot[i] & PROT_WRITE)
            handled = atomic_load(&mw->dead) ||
                      ww__mp_make_writable(mw, i, i + 1) == 0;
        ww__mp_unlock(mw);
    }
    ww__mp_table_leave(ticket);
    /* Not in any watch.  But it may have been when it faulted: unwatch
     * can make the page writable and remove its watch between the fault
     * and this lookup.  Such a fault is stale, and the write must simply
     * run again rather than reach the previous handler (or kill us). */
    if (!mw && page_writable_now(addr))
        handled = 1;
    return handled;
}

static uintptr_t page_addr(const struct ww__mp_watch *mw, size_t i)
{
    return (uintptr_t)ww__mp_page_addr(mw, i, ww__page_size());
}

static size_t page_index(const struct ww__mp_watch *mw, uintptr_t addr)
{
    return (addr - mw->start) / ww__page_size();
}

static int mp_open(void **priv)
{
    *priv = NULL;
    return mp_init();
}

static void mp_close(void *priv, int forked)
{
    (void)priv;
    (void)forked;
}

/* Give pages [from, to) their caller's protection; where that fails (a
 * hole stops mprotect at the hole), page by page, so that whatever is
 * still mapped is plain memory again. */
static void restore_run(struct ww__mp_watch *mw, size_t from, size_t to)
{
    if (ww__mp_restore(mw, from, to) == 0)
        return;
    for (size_t i = from; i < to; i++)
        ww__mp_restore(mw, i, i + 1);
}

/* Stop handling faults in the watch and give its pages the caller's
 * protection back: per protection normally; for a watch with holes
 * (stale), armed run by armed run, since what is left of the mapping is
 * still the caller's memory. */
static void disarm(struct ww__mp_watch *mw)
{
    size_t n = mw->npages;
    sigset_t saved;

    ww__mp_lock_nosig(mw, &saved);
    atomic_store(&mw->dead, 1);
    if (ww__mp_restore(mw, 0, n) < 0) {
        for (size_t a = ww__mp_find(mw, 0, n, 0); a < n;
             a = ww__mp_find(mw, a, n, 0)) {
            size_t b = ww__mp_find(mw, a, n, 1);

            restore_run(mw, a, b);
            a = b;
        }
    }
    ww__mp_unlock_nosig(mw, &saved);
}

/* ww__vma_walk() callback: one VMA's protection is the caller's. */
static int record_vma(const struct ww__vma *v, void *arg)
{
    struct ww__mp_watch *mw = arg;
    int prot = v->prot;

    /* No /proc to ask: read-write, the only memory this backend could
     * watch before it knew about protections. */
    if (prot == WW__VMA_PROT_UNKNOWN)
        prot = PROT_READ | PROT_WRITE;
    /* Write-only memory is readable on most hardware, but armed it would
     * keep no access at all, and a read would no longer work. */
    if ((prot & PROT_WRITE) && !(prot & PROT_READ))
        return -ENOTSUP;
    ww__mp_set_prot(mw, page_index(mw, v->start), page_index(mw, v->end),
                    prot);
    return 0;
}

static int mp_watch(void *priv, struct ww__watch *w)
{
    struct ww__mp_watch *mw;
    sigset_t saved;
    int r;

    (void)priv;
    /* Overlap first: another tracker's armed pages would be recorded as
     * the caller's read-only memory. */
    if (ww__mp_table_overlaps(w->start, w->end))
        return -EEXIST;
    r = ww__range_mapped(w->start, w->end);
    if (r < 0)
        return r;
    mw = ww__mp_watch_new(w->start, w->end);
    if (!mw)
        return -ENOMEM;
    r = ww__vma_walk(w->start, w->end, record_vma, mw);
    if (r == 0) {
        ww__mp_prot_recorded(mw);
        r = ww__mp_table_insert(mw);
    }
    if (r < 0) {
        ww__mp_watch_free(mw);
        return r;
    }
    /* Not needed for page-exact reports here (mprotect splits a huge
     * page), but the flag means the same on every backend. */
    if (!(w->flags & WW_WATCH_KEEP_HUGEPAGES))
        (void)madvise((void *)w->start, w->end - w->start, MADV_NOHUGEPAGE);
    /* Armed only now that the handler can find the watch. */
    ww__mp_lock_nosig(mw, &saved);
    r = ww__mp_arm(mw, 0, mw->npages);
    ww__mp_unlock_nosig(mw, &saved);
    if (r < 0) {
        disarm(mw);
        ww__mp_table_remove(mw);
        ww__mp_watch_free(mw);
        return r;
    }
    w->priv = mw;
    return 0;
}

/* In a fork child too: mprotect changes only this process's mappings, so
 * the child's copy becomes plain memory again and the parent's watch is
 * untouched. */
static void mp_disarm(void *priv, struct ww__watch *w, int forked)
{
    struct ww__mp_watch *mw = w->priv;

    (void)priv;
    (void)forked;
    disarm(mw);
    ww__mp_table_remove(mw);
}

static void mp_free_watch(void *priv, struct ww__watch *w)
{
    (void)priv;
    ww__mp_watch_free(w->priv);
    w->priv = NULL;
}

/* A get without RESET changes nothing: it reads the bitmap without the
 * lock and writes straight into the sink (a fault there is handled as any
 * other write). */
static void get_only(struct ww__mp_watch *mw, size_t from, size_t to,
                     struct ww__sink *sink)
{
    while (from < to && !ww__sink_full(sink)) {
        size_t a = ww__mp_find(mw, from, to, 1), b, room;

        if (a == to)
            break;
        b = ww__mp_find(mw, a, to, 0);
        room = ww__sink_room_pages(sink);
        if (b - a > room)
            b = a + room;
        ww__sink_put(sink, page_addr(mw, a), page_addr(mw, b));
        from = b;
    }
}

/*
 * Re-arm the written runs of [*from, to) under one hold of the lock, at
 * most max_runs runs and max_pages pages, recording them in bounce.
 * Returns how many, or -errno; *from moves past what was looked at.  A
 * run that mprotect cannot re-arm for lack of VMAs is still reported: its
 * bits stay set and it is reported again next time.
 */
static long rearm_chunk(struct ww__mp_watch *mw, size_t *from, size_t to,
                        size_t max_runs, size_t max_pages,
                        struct ww__mp_run *bounce)
{
    size_t n = 0, pos = *from;
    sigset_t saved;
    int r;

    ww__mp_lock_nosig(mw, &saved);
    while (n < max_runs && max_pages > 0) {
        size_t a = ww__mp_find(mw, pos, to, 1), b;

        if (a == to) {
            pos = to;
            break;
        }
        b = ww__mp_find(mw, a, to, 0);
        if (b - a > max_pages)
            b = a + max_pages;
        bounce[n].from = a;
        bounce[n].to = b;
        n++;
        max_pages -= b - a;
        pos = b;
    }
    r = -ww__injected(WW__SITE_SCAN);
    if (r == 0)
        r = ww__mp_rearm(mw, bounce, n);
    if (r < 0)
        for (size_t i = 0; i < n; i++)
            ww__mp_set_bits(mw, bounce[i].from, bounce[i].to);
    ww__mp_unlock_nosig(mw, &saved);
    *from = pos;
    return r < 0 ? r : (long)n;
}

/* A mapping put over the watch (mmap MAP_FIXED) would take writes that
 * never fault.  It shows as a writable VMA over a page whose bit is clear,
 * which this backend never leaves behind while it holds the watch's lock:
 * the handler, widening and ww_protect set a page's bit before they make
 * it writable, and re-arming clears bits and re-protects in one hold of
 * the lock.  One PROCMAP_QUERY per VMA of the range. */
static int check_writable_vma(const struct ww__vma *v, void *arg)
{
    struct ww__mp_watch *mw = arg;
    size_t to = page_index(mw, v->end);

    if (v->prot == WW__VMA_PROT_UNKNOWN || !(v->prot & PROT_WRITE))
        return 0;
    return ww__mp_find(mw, page_index(mw, v->start), to, 0) < to ? -ESTALE
                                                                 : 0;
}

/* 0 if [start, end) is still the memory this backend armed; -ESTALE (the
 * watch marked stale) if part of it was unmapped or replaced; another
 * -errno if the kernel could not be asked. */
static int check_still_ours(struct ww__watch *w, uintptr_t start,
                            uintptr_t end)
{
    struct ww__mp_watch *mw = w->priv;
    sigset_t saved;
    int r;

    ww__mp_lock_nosig(mw, &saved);
    r = ww__vma_walk(start, end, check_writable_vma, mw);
    ww__mp_unlock_nosig(mw, &saved);
    if (r == -EFAULT || r == -ENOTSUP || r == -ESTALE)
        return ww__mark_stale(w);
    return r;
}

static int mp_get(void *priv, struct ww__watch *w, uintptr_t start,
                  uintptr_t end, int reset, struct ww__sink *sink)
{
    struct ww__mp_watch *mw = w->priv;
    size_t from = page_index(mw, start), to = page_index(mw, end);

    int r;

    (void)priv;
    r = check_still_ours(w, start, end);
    if (r < 0)
        return r;
    if (!reset) {
        get_only(mw, from, to, sink);
        return 0;
    }
    while (from < to && !ww__sink_full(sink)) {
        struct ww__mp_run bounce[BOUNCE_RUNS];
        size_t runs = ww__sink_room_runs(sink);
        long n = rearm_chunk(mw, &from, to,
                             runs < BOUNCE_RUNS ? runs : BOUNCE_RUNS,
                             ww__sink_room_pages(sink), bounce);

        if (n < 0)
            return ww__range_mapped(start, end) < 0 ? ww__mark_stale(w)
                                                    : (int)n;
        /* Unlocked: these stores may fault into our own handler. */
        for (long i = 0; i < n; i++)
            ww__sink_put(sink, page_addr(mw, bounce[i].from),
                         page_addr(mw, bounce[i].to));
    }
    return 0;
}

static int mp_reset(void *priv, struct ww__watch *w, uintptr_t start,
                    uintptr_t end)
{
    struct ww__mp_watch *mw = w->priv;
    size_t from = page_index(mw, start), to = page_index(mw, end);
    struct ww__mp_run bounce[BOUNCE_RUNS];
    int r;

    (void)priv;
    r = check_still_ours(w, start, end);
    if (r < 0)
        return r;
    while (from < to) {
        long n = rearm_chunk(mw, &from, to, BOUNCE_RUNS, SIZE_MAX, bounce);

        if (n < 0)
            return ww__range_mapped(start, end) < 0 ? ww__mark_stale(w)
                                                    : (int)n;
    }
    return 0;
}

/* Whether [start, end) is still the memory this backend armed: no hole,
 * and no writable mapping over a page it keeps armed. */
static int mp_owns(void *priv, struct ww__watch *w, uintptr_t start,
                   uintptr_t end)
{
    struct ww__mp_watch *mw = w->priv;
    sigset_t saved;
    int r;

    (void)priv;
    ww__mp_lock_nosig(mw, &saved);
    r = ww__vma_walk(start, end, check_writable_vma, mw);
    ww__mp_unlock_nosig(mw, &saved);
    if (r == -EFAULT || r == -ENOTSUP || r == -ESTALE)
        return 0;
    return r < 0 ? r : 1;
}

/* Undo of a failed RESET: a set bit is a written page (and one that is
 * still armed faults once more, harmlessly).  Needs no lock. */
static void mp_unreset(void *priv, struct ww__watch *w, uintptr_t start,
                       uintptr_t end)
{
    struct ww__mp_watch *mw = w->priv;

    (void)priv;
    ww__mp_set_bits(mw, page_index(mw, start), page_index(mw, end));
}

static int mp_mark_written(void *priv, struct ww__watch *w, uintptr_t start,
                           uintptr_t end)
{
    struct ww__mp_watch *mw = w->priv;
    sigset_t saved;
    int r;

    (void)priv;
    if (ww__range_mapped(start, end) < 0)
        return ww__mark_stale(w);
    ww__mp_lock_nosig(mw, &saved);
    r = ww__mp_make_writable(mw, page_index(mw, start), page_index(mw, end));
    ww__mp_unlock_nosig(mw, &saved);
    if (r < 0 && ww__range_mapped(start, end) < 0)
        return ww__mark_stale(w);
    return r;
}

static int mp_protect(void *priv, struct ww__watch *w, uintptr_t start,
                      uintptr_t end, int prot)
{
    struct ww__mp_watch *mw = w->priv;
    sigset_t saved;
    int r;

    (void)priv;
    if (ww__range_mapped(start, end) < 0)
        return ww__mark_stale(w);
    ww__mp_lock_nosig(mw, &saved);
    r = ww__mp_protect(mw, page_index(mw, start), page_index(mw, end), prot);
    ww__mp_unlock_nosig(mw, &saved);
    if (r < 0 && ww__range_mapped(start, end) < 0)
        return ww__mark_stale(w);
    return r;
}

/* The real thing on a scratch page: install the handler, arm, write (the
 * handler must catch it), and see the write reported. */
static int mp_probe(void)
{
    size_t page = ww__page_size();
    struct ww__watch w;
    void *found[2];
    struct ww__sink sink = { .pages = found, .cap = 2 };
    char *mem;
    int r = mp_init();

    if (r < 0)
        return -ENOTSUP;
    mem = mmap(NULL, 2 * page, PROT_READ | PROT_WRITE,
               MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (mem == MAP_FAILED)
        return -ENOMEM;
    memset(&w, 0, sizeof(w));
    w.start = (uintptr_t)mem;
    w.end = w.start + 2 * page;
    r = mp_watch(NULL, &w);
    if (r == 0) {
        ((volatile char *)mem)[page] = 1;
        r = mp_get(NULL, &w, w.start, w.end, 1, &sink);
        if (r == 0 && (sink.n != 1 || found[0] != mem + page))
            r = -ENOTSUP;
        mp_disarm(NULL, &w, 0);
        mp_free_watch(NULL, &w);
    }
    munmap(mem, 2 * page);
    /* Out of fds (reading /proc/self/maps) or memory is no verdict on the
     * mechanism: say so, and tracker.c will not remember it. */
    if (r == 0 || r == -EMFILE || r == -ENFILE || r == -ENOMEM)
        return r;
    return -ENOTSUP;
}

const struct ww__backend_ops ww__mprotect_ops = {
    .id = WW_BACKEND_MPROTECT,
    .name = "mprotect",
    .probe = mp_probe,
    .open = mp_open,
    .close = mp_close,
    .watch = mp_watch,
    .owns = mp_owns,
    .disarm = mp_disarm,
    .free_watch = mp_free_watch,
    .get = mp_get,
    .reset = mp_reset,
    .mark_written = mp_mark_written,
    .unreset = mp_unreset,
    .protect = mp_protect,
};
