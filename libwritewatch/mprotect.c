/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * mprotect.c - the fallback backend: write-protection with mprotect(2) and
 * a SIGSEGV handler, for kernels and sandboxes without userfaultfd.
 * Owns ww__mprotect_ops, the fault decision (ww__mp_fault), whose memory a
 * watch still is, and giving memory back.
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
 * Whose memory.  The backend never changes the protection of memory it
 * did not arm, nor resolves a fault there: a mapping put where a watch was
 * (munmap + mmap, mmap MAP_FIXED, mremap) takes none of the watch's
 * treatment.  It knows its own memory by the mark it registered
 * (mprotect-mark.c: one system call per VMA, async-signal-safe).  The
 * handler asks before it unprotects a page; every entry point (get, reset,
 * mark, protect, unwatch, owns) asks, under the same hold of the watch's
 * lock as the change it then makes, about everything that change touches
 * (check_owned).  Memory found not to be the backend's makes the watch
 * stale (-ESTALE), for good; unwatch then gives back only the parts that
 * still are the backend's.  Where the marks cannot tell (no userfaultfd,
 * see mprotect-mark.c), the old rule applies: a hole, or a writable
 * mapping over a clean page, makes the watch stale, and pages are given
 * back where their mapping still has the protection the backend left.
 *
 * Limits (see include/writewatch.h): the kernel's own writes into armed
 * pages fail with EFAULT (ww_mark_written() first); near vm.max_map_count
 * pages may be reported without having been written, never the reverse
 * (and a widening there does not ask about the neighbours it unprotects);
 * another thread replacing memory while a call or fault is on it races
 * with it, as it would with mprotect(2).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <linux/futex.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "alloc.h"
#include "backend.h"
#include "inject.h"
#include "mprotect.h"
#include "vma.h"

/* Runs re-armed per hold of the lock by get+RESET and reset: bounds both
 * the bounce buffer (1 KiB) and how long a faulting writer may wait. */
#define BOUNCE_RUNS 64

/* A tracker: only which process opened it (see ww__mp_generation). */
struct mp_tracker {
    unsigned generation;
};

static pthread_once_t init_once = PTHREAD_ONCE_INIT;
static int init_result;

/* The handler and the fork handlers are process-wide and cannot be
 * removed, so they are installed once, on first use, and stay. */
static void init(void)
{
    ww__mp_mark_init();
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

/* Every operation starts here: a fork child releases what it inherited
 * first, and a tracker of the parent's refuses. */
static int check_process(const struct mp_tracker *tr)
{
    ww__mp_fork_check();
    return tr->generation == ww__mp_generation() ? 0 : -ECHILD;
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

static uintptr_t page_addr(const struct ww__mp_watch *mw, size_t i)
{
    return (uintptr_t)ww__mp_page_addr(mw, i, ww__page_size());
}

static size_t page_index(const struct ww__mp_watch *mw, uintptr_t addr)
{
    return (addr - mw->start) / ww__page_size();
}

/* --- whose memory ---------------------------------------------------------- */

/* The end of the run of pages from `from` on (below to) with the same
 * caller's protection: eight bytes at a time, for big reservations. */
static size_t same_prot_end(const struct ww__mp_watch *mw, size_t from,
                            size_t to)
{
    const unsigned char prot = mw->prot[from];
    const uint64_t same = 0x0101010101010101ull * prot;

    if (mw->uniform >= 0)
        return to;
    while (to - from >= 8) {
        uint64_t w;

        memcpy(&w, mw->prot + from, sizeof(w));
        if (w != same)
            break;
        from += 8;
    }
    while (from < to && mw->prot[from] == prot)
        from++;
    return from;
}

/* The end of the run of pages from `from` on that the backend left with
 * one protection: one VMA, unless the kernel did not merge. */
static size_t mapping_run_end(const struct ww__mp_watch *mw, size_t from,
                              size_t to)
{
    size_t end = same_prot_end(mw, from, to);

    if (mw->prot[from] & PROT_WRITE) {
        int written = ww__mp_find(mw, from, from + 1, 1) == from;

        end = ww__mp_find(mw, from, end, !written);
    }
    return end;
}

/* Under the lock: 1 if pages [from, to) all carry the backend's mark, 0
 * if one does not, -1 if the marks cannot tell. */
static int marked_runs(const struct ww__mp_watch *mw, size_t from, size_t to)
{
    if (!mw->marked)
        return -1;
    while (from < to) {
        size_t end = mapping_run_end(mw, from, to);
        int r = ww__mp_marked(page_addr(mw, from), page_addr(mw, end));

        if (r != 1)
            return r;
        from = end;
    }
    return 1;
}

/* Without marks: a writable VMA over a page whose bit is clear is a
 * mapping put over the watch, since the backend never leaves one behind
 * while it holds the watch's lock (the handler, widening and ww_protect
 * set a page's bit before they make it writable; re-arming clears bits
 * and re-protects in one hold).  One PROCMAP_QUERY per VMA. */
static int check_writable_vma(const struct ww__vma *v, void *arg)
{
    struct ww__mp_watch *mw = arg;
    size_t to = page_index(mw, v->end);

    if (v->prot == WW__VMA_PROT_UNKNOWN || !(v->prot & PROT_WRITE))
        return 0;
    return ww__mp_find(mw, page_index(mw, v->start), to, 0) < to ? -ESTALE
                                                                 : 0;
}

/* Under the lock: 1 if [from, to) is still the memory the backend armed,
 * 0 if not (unmapped, or replaced), -errno if nobody could tell. */
static int owned(struct ww__mp_watch *mw, size_t from, size_t to)
{
    int r = marked_runs(mw, from, to);

    if (r >= 0)
        return r;
    r = ww__vma_walk(page_addr(mw, from), page_addr(mw, to),
                     check_writable_vma, mw);
    if (r == -EFAULT || r == -ENOTSUP || r == -ESTALE)
        return 0;
    return r < 0 ? r : 1;
}

/* Under the lock, before every change: 0 if [from, to) may be touched;
 * -ESTALE if the watch lost memory (now or before: stale is for good);
 * -ECHILD in a fork child; another -errno if nobody could tell. */
static int check_owned(struct ww__mp_watch *mw, size_t from, size_t to)
{
    int r;

    if (atomic_load(&mw->orphaned))
        return -ECHILD;
    if (atomic_load(&mw->lost) || atomic_load(&mw->dead))
        return -ESTALE;
    r = owned(mw, from, to);
    if (r == 0) {
        atomic_store(&mw->lost, 1);
        return -ESTALE;
    }
    return r < 0 ? r : 0;
}

/* The result of an operation: a lost watch is stale for the front too; a
 * change that failed on a hole found the watch lost. */
static int settle(struct ww__watch *w, uintptr_t start, uintptr_t end, int r)
{
    struct ww__mp_watch *mw = w->priv;

    if (r < 0 && r != -ESTALE && r != -ECHILD &&
        ww__range_mapped(start, end) < 0)
        atomic_store(&mw->lost, 1);
    if (atomic_load(&mw->lost) && r != -ECHILD)
        return ww__mark_stale(w);
    return r;
}

/* --- the fault ------------------------------------------------------------- */

int ww__mp_fault(uintptr_t addr)
{
    unsigned ticket;
    struct ww__mp_watch *mw;
    int handled = 0;

    /* A fork child's first fault: its watches are released first, and
     * the page is its own again (or never was ours). */
    if (ww__mp_fork_check())
        return page_writable_now(addr);
    ticket = ww__mp_table_enter();
    mw = ww__mp_table_find(addr);
    if (mw) {
        size_t i = (addr - mw->start) / ww__page_size();
        uintptr_t page = addr & ~(uintptr_t)(ww__page_size() - 1);

        ww__mp_lock(mw);
        /* A write the caller forbade is the program's fault, not ours.  A
         * dead watch gave its pages back (unwatch, retired): the write
         * runs again if that made the page writable, and the watch leaves
         * the table right after, so a fault that is not ours cannot loop
         * for long.  A page that is not the backend's any more (the
         * watch's memory was replaced) is left as it is: the fault is the
         * program's, as it would be without the library. */
        if (atomic_load(&mw->dead)) {
            handled = page_writable_now(addr);
        } else if (mw->prot[i] & PROT_WRITE) {
            if (!mw->marked || ww__mp_marked(page, page + ww__page_size()))
                handled = ww__mp_make_writable(mw, i, i + 1) == 0;
            else {
                atomic_store(&mw->lost, 1);
                handled = page_writable_now(addr);
            }
        }
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

/* --- giving memory back ---------------------------------------------------- */

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

/* All of it: per protection, or armed run by armed run if a hole stops
 * that. */
static void restore_all(struct ww__mp_watch *mw)
{
    size_t n = mw->npages;

    if (ww__mp_restore(mw, 0, n) == 0)
        return;
    for (size_t a = ww__mp_find(mw, 0, n, 0); a < n;
         a = ww__mp_find(mw, a, n, 0)) {
        size_t b = ww__mp_find(mw, a, n, 1);

        restore_run(mw, a, b);
        a = b;
    }
}

/* Without marks to tell: only armed pages whose mapping still has the
 * protection the backend left them (the caller's without PROT_WRITE).
 * A mapping put there with another protection, or changed by the program
 * since, is not touched; one with the same protection cannot be told
 * apart.  Without PROCMAP_QUERY, all of it.
 *
 * In a raw fork child (mid_flight) written pages too: the fork may have
 * caught another thread of the parent half-way through a transition (the
 * handler sets a page's bit before it unprotects the page), and a written
 * page left with the armed protection would fault in the child with no
 * watch left to take the fault. */
static void restore_consistent(struct ww__mp_watch *mw, int mid_flight)
{
    int maps = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
    size_t n = mw->npages, from = 0;

    if (maps < 0) {
        restore_all(mw);
        return;
    }
    while (from < n) {
        size_t end = mapping_run_end(mw, from, n);
        int prot = mw->prot[from];
        int armed = mid_flight || ww__mp_find(mw, from, from + 1, 1) != from;

        for (size_t cur = from; armed && (prot & PROT_WRITE) && cur < end;) {
            struct ww__mp_vma v;
            size_t hi;
            int r = ww__mp_vma_at(maps, page_addr(mw, cur), &v);

            if (r == -ENOTTY) {
                close(maps);
                restore_all(mw);
                return;
            }
            if (r < 0 || v.start >= page_addr(mw, end))
                break;
            if (v.start > page_addr(mw, cur)) {
                cur = page_index(mw, v.start);          /* a hole */
                continue;
            }
            hi = v.end < page_addr(mw, end) ? page_index(mw, v.end) : end;
            if (v.prot == (prot & ~PROT_WRITE))
                restore_run(mw, cur, hi);
            cur = hi;
        }
        from = end;
    }
    close(maps);
}

static void restore_part(uintptr_t start, uintptr_t end, void *arg)
{
    struct ww__mp_watch *mw = arg;

    restore_run(mw, page_index(mw, start), page_index(mw, end));
    ww__mp_unmark(start, end);
}

/* Under the lock: stop arming the watch and give what is still the
 * backend's its caller's protection and its mark back; leave the rest
 * alone.  Whatever the state: also for a watch whose arming failed. */
static void disarm(struct ww__mp_watch *mw)
{
    int r = marked_runs(mw, 0, mw->npages);

    atomic_store(&mw->dead, 1);
    if (r == 1) {
        restore_all(mw);
        ww__mp_unmark(mw->start, mw->end);
    } else if (r == 0) {
        atomic_store(&mw->lost, 1);
        if (ww__mp_marked_parts(mw->start, mw->end, restore_part, mw) < 0)
            restore_consistent(mw, 0);
    } else {
        restore_consistent(mw, 0);
    }
}

int ww__mp_retire_lost(struct ww__mp_watch *mw, uintptr_t start,
                       uintptr_t end)
{
    sigset_t saved;
    int retired = 0;

    ww__mp_lock_nosig(mw, &saved);
    if (atomic_load(&mw->live) && !atomic_load(&mw->dead) &&
        owned(mw, page_index(mw, start), page_index(mw, end)) == 0) {
        atomic_store(&mw->lost, 1);
        disarm(mw);
        retired = 1;
    }
    ww__mp_unlock_nosig(mw, &saved);
    return retired;
}

void ww__mp_release(struct ww__mp_watch *mw, int eager)
{
    /* Right after fork() the prepare handler has retired the watches
     * that lost memory, so a marked watch is all the backend's.  A dead
     * one gave its pages back already, unless a raw fork caught it half
     * way. */
    if (!eager)
        restore_consistent(mw, 1);
    else if (!atomic_load(&mw->dead))
        mw->marked ? restore_all(mw) : restore_consistent(mw, 0);
    atomic_store(&mw->dead, 1);
    atomic_store(&mw->orphaned, 1);
}

/* --- the operations ---------------------------------------------------------- */

static int mp_open(void **priv)
{
    struct mp_tracker *tr;

    /* Without its handler the backend cannot run here at all. */
    if (mp_init() < 0)
        return -ENOTSUP;
    ww__mp_fork_check();
    tr = ww__calloc(1, sizeof(*tr));
    if (!tr)
        return -ENOMEM;
    tr->generation = ww__mp_generation();
    *priv = tr;
    return 0;
}

static void mp_close(void *priv, int forked)
{
    (void)forked;
    free(priv);
}

/* What the VMA walk of a new watch learns. */
struct recording {
    struct ww__mp_watch *mw;
    int first;                  /* the first VMA's protection, or -1 */
    int mixed;                  /* not all VMAs have it */
};

/* ww__vma_walk() callback: one VMA's protection is the caller's. */
static int record_vma(const struct ww__vma *v, void *arg)
{
    struct recording *rec = arg;
    struct ww__mp_watch *mw = rec->mw;
    int prot = v->prot;

    /* No /proc to ask: read-write, the only memory this backend could
     * watch before it knew about protections. */
    if (prot == WW__VMA_PROT_UNKNOWN)
        prot = PROT_READ | PROT_WRITE;
    /* Write-only memory is readable on most hardware, but armed it would
     * keep no access at all, and a read would no longer work. */
    if ((prot & PROT_WRITE) && !(prot & PROT_READ))
        return -ENOTSUP;
    if (rec->first < 0)
        rec->first = prot;
    else if (prot != rec->first)
        rec->mixed = 1;
    /* The array is fresh (calloc: PROT_NONE): a PROT_NONE reservation,
     * however big, leaves it untouched and unpopulated (wwbench s6). */
    if (prot != PROT_NONE)
        ww__mp_set_prot(mw, page_index(mw, v->start), page_index(mw, v->end),
                        prot);
    return 0;
}

/* Mark the watch run by run of the caller's protection, each in the class
 * of its write permission (see ww__mp_mark()).  All or nothing. */
static int mark_by_class(struct ww__mp_watch *mw)
{
    for (size_t a = 0, b; a < mw->npages; a = b) {
        int r;

        b = same_prot_end(mw, a, mw->npages);
        r = ww__mp_mark(page_addr(mw, a), page_addr(mw, b),
                        (mw->prot[a] & PROT_WRITE) != 0);
        if (r < 0) {
            if (a > 0)
                ww__mp_unmark(mw->start, page_addr(mw, a));
            return r;
        }
    }
    return 0;
}

/* Under the lock, before the caller's protection of [from, to) becomes
 * prot: the runs whose write permission changes change class, so that
 * the watch keeps one VMA boundary wherever the caller's protections put
 * one.  0, or -ENOMEM / -ESTALE from ww__mp_remark(). */
static int remark_by_class(struct ww__mp_watch *mw, size_t from, size_t to,
                           int prot)
{
    int writable = (prot & PROT_WRITE) != 0;

    for (size_t a = from, b; mw->marked && a < to; a = b) {
        b = same_prot_end(mw, a, to);
        if (((mw->prot[a] & PROT_WRITE) != 0) != writable) {
            int r = ww__mp_remark(page_addr(mw, a), page_addr(mw, b),
                                  writable);
            if (r == -ESTALE)
                atomic_store(&mw->lost, 1);
            if (r < 0)
                return r;
        }
    }
    return 0;
}

/*
 * Under the table's writer lock, so that no other watch can come or go
 * in between: free the range (a lost watch of any tracker there is
 * retired, one that still owns its part refuses), learn the caller's
 * protections (only now: a retired watch gave its pages back), mark the
 * memory, and put the watch in the table for the handler.
 */
static int install_watch(struct ww__mp_watch *mw)
{
    struct recording rec = { mw, -1, 0 };
    int r = ww__mp_table_claim(mw->start, mw->end);

    if (r == 0)
        r = ww__vma_walk(mw->start, mw->end, record_vma, &rec);
    if (r < 0)
        return r;
    /* The walk covered every page (the range is mapped): no scan of the
     * array needed to know whether it is uniform. */
    mw->uniform = rec.mixed || rec.first < 0 ? -1 : rec.first;
    if (rec.first < 0)
        ww__mp_prot_recorded(mw);
    /* No mark (no userfaultfd here, or another one has the memory): the
     * watch does without, as the backend did before marks.  Out of VMAs
     * (the registration splits at the range's ends) is out of VMAs. */
    r = mark_by_class(mw);
    if (r == -ENOMEM)
        return r;
    mw->marked = r == 0;
    r = ww__mp_table_insert(mw);
    if (r < 0 && mw->marked)
        ww__mp_unmark(mw->start, mw->end);
    return r;
}

static int mp_watch(void *priv, struct ww__watch *w)
{
    struct ww__mp_watch *mw;
    sigset_t saved;
    int r = check_process(priv);

    if (r == 0)
        r = ww__range_mapped(w->start, w->end);
    if (r < 0)
        return r;
    mw = ww__mp_watch_new(w->start, w->end);
    if (!mw)
        return -ENOMEM;
    ww__mp_table_lock();
    r = install_watch(mw);
    ww__mp_table_unlock();
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
    if (r == 0)
        atomic_store(&mw->live, 1);
    else
        disarm(mw);
    ww__mp_unlock_nosig(mw, &saved);
    if (r < 0) {
        ww__mp_table_remove(mw);
        ww__mp_watch_free(mw);
        return r;
    }
    w->priv = mw;
    return 0;
}

/* In a fork child too: by then the child has released the watch (its
 * memory is the child's own), and only the bookkeeping is left.  A stale
 * watch gives back what is still the backend's and nothing else.  May run
 * from another tracker's ww_watch while a query on w is in flight: that
 * query finds the watch dead under the lock. */
static void mp_disarm(void *priv, struct ww__watch *w, int forked)
{
    struct ww__mp_watch *mw = w->priv;
    sigset_t saved;

    (void)priv;
    (void)forked;
    ww__mp_fork_check();
    ww__mp_lock_nosig(mw, &saved);
    if (!atomic_load(&mw->dead))
        disarm(mw);
    ww__mp_unlock_nosig(mw, &saved);
    ww__mp_table_remove(mw);
}

static void mp_in_child(void)
{
    (void)ww__mp_fork_check();
}

static void mp_free_watch(void *priv, struct ww__watch *w)
{
    (void)priv;
    ww__mp_watch_free(w->priv);
    w->priv = NULL;
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

static int mp_owns(void *priv, struct ww__watch *w, uintptr_t start,
                   uintptr_t end)
{
    struct ww__mp_watch *mw = w->priv;
    sigset_t saved;
    int r;

    (void)priv;
    ww__mp_fork_check();
    ww__mp_lock_nosig(mw, &saved);
    if (atomic_load(&mw->orphaned) || atomic_load(&mw->dead))
        r = 0;
    else
        r = owned(mw, page_index(mw, start), page_index(mw, end));
    if (r == 0)
        atomic_store(&mw->lost, 1);
    ww__mp_unlock_nosig(mw, &saved);
    return r;
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

/* Check [from, to) under one hold of the lock: for what a call reads
 * without changing (get without RESET), or did not reach (a get whose
 * sink filled up). */
static int check_locked(struct ww__mp_watch *mw, size_t from, size_t to)
{
    sigset_t saved;
    int r;

    ww__mp_lock_nosig(mw, &saved);
    r = check_owned(mw, from, to);
    ww__mp_unlock_nosig(mw, &saved);
    return r;
}

/* ww__vma_walk() callback: dormant pages are PROT_NONE; accessible ones
 * were given access around ww_protect(), and their writes are unseen. */
static int check_inaccessible_vma(const struct ww__vma *v, void *arg)
{
    (void)arg;
    return v->prot == WW__VMA_PROT_UNKNOWN || v->prot == PROT_NONE ? 0
                                                                   : -ESTALE;
}

/* 1 if every page of dormant run [s, e) is mapped PROT_NONE, 0 if not,
 * -ENOTTY without PROCMAP_QUERY, or -errno: one query per VMA on maps. */
static int dormant_run_inaccessible(int maps, uintptr_t s, uintptr_t e)
{
    while (s < e) {
        struct ww__mp_vma v;
        int r = ww__mp_vma_at(maps, s, &v);

        if (r == -ENOENT)
            return 0;                   /* unmapped */
        if (r < 0)
            return r;
        if (v.start > s || v.prot != PROT_NONE)
            return 0;                   /* a hole, or given access */
        s = v.end;
    }
    return 1;
}

/* Whether the dormant pages of [start, end) of sparse watch w (PROT_NONE
 * as the backend left them, never armed) are still the backend's: each
 * dormant run marked (where marks work), mapped and PROT_NONE (a mapping
 * put over it, or access given with mprotect(2), is not).  Per dormant
 * run, which is one VMA but where the caller went around ww_protect: the
 * active runs between them may hold one VMA per page.  Never by the
 * protection array, which a 256 GiB reservation would have to read
 * whole.  Under the lock: 1, 0 or -errno as owned(). */
static int dormant_owned(struct ww__mp_watch *mw, struct ww__watch *w,
                         uintptr_t start, uintptr_t end)
{
    int maps = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
    uintptr_t cur = start, s, e;
    int r = 1;

    while (r == 1 && ww__next_dormant(w, &cur, end, &s, &e)) {
        if (mw->marked && ww__mp_marked(s, e) == 0) {
            r = 0;
            break;
        }
        r = maps >= 0 ? dormant_run_inaccessible(maps, s, e) : -ENOTTY;
        if (r == -ENOTTY) {                 /* Linux < 6.11, or no /proc */
            r = ww__vma_walk(s, e, check_inaccessible_vma, NULL);
            if (r == -EFAULT || r == -ENOTSUP || r == -ESTALE)
                r = 0;
            else if (r == 0)
                r = 1;
        }
    }
    if (maps >= 0)
        close(maps);
    return r;
}

static int mp_check(void *priv, struct ww__watch *w, uintptr_t start,
                    uintptr_t end)
{
    struct ww__mp_watch *mw = w->priv;
    sigset_t saved;
    int r = check_process(priv);

    if (r < 0)
        return r;
    ww__mp_lock_nosig(mw, &saved);
    if (atomic_load(&mw->orphaned))
        r = -ECHILD;
    else if (atomic_load(&mw->lost) || atomic_load(&mw->dead))
        r = -ESTALE;
    else if ((r = dormant_owned(mw, w, start, end)) == 0) {
        atomic_store(&mw->lost, 1);
        r = -ESTALE;
    } else if (r > 0)
        r = 0;
    ww__mp_unlock_nosig(mw, &saved);
    return settle(w, start, end, r);
}

/*
 * Re-arm the written runs of [*from, to) under one hold of the lock, at
 * most max_runs runs and max_pages pages, recording them in bounce.
 * Returns how many, or -errno; *from moves past what was looked at, which
 * is first checked to be the backend's, in the same hold.  A run that
 * mprotect cannot re-arm for lack of VMAs is still reported: its bits
 * stay set and it is reported again next time.
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
    r = pos > *from ? check_owned(mw, *from, pos) : 0;
    if (r == 0) {
        r = -ww__injected(WW__SITE_SCAN);
        if (r == 0)
            r = ww__mp_rearm(mw, bounce, n);
        if (r < 0)
            for (size_t i = 0; i < n; i++)
                ww__mp_set_bits(mw, bounce[i].from, bounce[i].to);
    }
    ww__mp_unlock_nosig(mw, &saved);
    *from = pos;
    return r < 0 ? r : (long)n;
}

static int mp_get(void *priv, struct ww__watch *w, uintptr_t start,
                  uintptr_t end, int reset, struct ww__sink *sink)
{
    struct ww__mp_watch *mw = w->priv;
    size_t from = page_index(mw, start), to = page_index(mw, end);
    int r = check_process(priv);

    if (r < 0)
        return r;
    if (!reset) {
        r = check_locked(mw, from, to);
        if (r == 0)
            get_only(mw, from, to, sink);
        return settle(w, start, end, r);
    }
    while (from < to && !ww__sink_full(sink)) {
        struct ww__mp_run bounce[BOUNCE_RUNS];
        size_t runs = ww__sink_room_runs(sink);
        long n = rearm_chunk(mw, &from, to,
                             runs < BOUNCE_RUNS ? runs : BOUNCE_RUNS,
                             ww__sink_room_pages(sink), bounce);

        if (n < 0)
            return settle(w, start, end, (int)n);
        /* Unlocked: these stores may fault into our own handler. */
        for (long i = 0; i < n; i++)
            ww__sink_put(sink, page_addr(mw, bounce[i].from),
                         page_addr(mw, bounce[i].to));
    }
    /* The sink filled up before the end: the rest is not reported, but
     * a lost page there still makes the whole call stale (and the front
     * then undoes what it re-armed). */
    return settle(w, start, end, from < to ? check_locked(mw, from, to) : 0);
}

static int mp_reset(void *priv, struct ww__watch *w, uintptr_t start,
                    uintptr_t end)
{
    struct ww__mp_watch *mw = w->priv;
    size_t from = page_index(mw, start), to = page_index(mw, end);
    struct ww__mp_run bounce[BOUNCE_RUNS];
    int r = check_process(priv);

    while (r == 0 && from < to) {
        long n = rearm_chunk(mw, &from, to, BOUNCE_RUNS, SIZE_MAX, bounce);

        if (n < 0)
            r = (int)n;
    }
    return settle(w, start, end, r);
}

/* What change_owned() does for ww_mark_written (any other value is a
 * caller's protection, for ww_protect). */
#define MAKE_WRITTEN (-1)

/* mark_written and protect: one change of [start, end) under one hold of
 * the lock, after the check, in the same hold, that it is still the
 * backend's. */
static int change_owned(void *priv, struct ww__watch *w, uintptr_t start,
                        uintptr_t end, int prot)
{
    struct ww__mp_watch *mw = w->priv;
    size_t from = page_index(mw, start), to = page_index(mw, end);
    sigset_t saved;
    int r = check_process(priv);

    if (r < 0)
        return r;
    ww__mp_lock_nosig(mw, &saved);
    r = check_owned(mw, from, to);
    if (r == 0 && prot == MAKE_WRITTEN)
        r = ww__mp_make_writable(mw, from, to);
    else if (r == 0)
        r = remark_by_class(mw, from, to, prot);
    if (r == 0 && prot != MAKE_WRITTEN)
        r = ww__mp_protect(mw, from, to, prot);
    ww__mp_unlock_nosig(mw, &saved);
    return settle(w, start, end, r);
}

static int mp_mark_written(void *priv, struct ww__watch *w, uintptr_t start,
                           uintptr_t end)
{
    return change_owned(priv, w, start, end, MAKE_WRITTEN);
}

static int mp_protect(void *priv, struct ww__watch *w, uintptr_t start,
                      uintptr_t end, int prot)
{
    return change_owned(priv, w, start, end, prot);
}

const struct ww__backend_ops ww__mprotect_ops = {
    .id = WW_BACKEND_MPROTECT,
    .name = "mprotect",
    .open = mp_open,
    .close = mp_close,
    .watch = mp_watch,
    .disarm = mp_disarm,
    .in_child = mp_in_child,
    .free_watch = mp_free_watch,
    .get = mp_get,
    .reset = mp_reset,
    .mark_written = mp_mark_written,
    .unreset = mp_unreset,
    .protect = mp_protect,
    .owns = mp_owns,
    .check = mp_check,
};
