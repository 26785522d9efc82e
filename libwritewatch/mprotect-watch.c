/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * mprotect-watch.c - one watch of the mprotect backend: a bitmap of written
 * pages, the caller's protection of each page, a lock the SIGSEGV handler
 * can take, and the transitions of a page (armed = bit clear, the caller's
 * protection without PROT_WRITE; written = bit set, the caller's
 * protection).  Why the transitions are ordered as they are: see
 * mprotect.c.
 * Owns struct ww__mp_watch's bitmap, protections and lock, and every
 * mprotect(2) of watched pages by the mprotect backend.
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "alloc.h"
#include "backend.h"
#include "mprotect.h"
#include "vma.h"

#define WORD_BITS (sizeof(unsigned long) * CHAR_BIT)

static void hint_add(uintptr_t start);
static void hint_remove(uintptr_t start);

struct ww__mp_watch *ww__mp_watch_new(uintptr_t start, uintptr_t end)
{
    size_t npages = (end - start) / ww__page_size();
    struct ww__mp_watch *mw = ww__calloc(1, sizeof(*mw));

    if (!mw)
        return NULL;
    mw->written = ww__calloc((npages + WORD_BITS - 1) / WORD_BITS,
                             sizeof(*mw->written));
    mw->prot = mw->written ? ww__calloc(npages, 1) : NULL;
    if (!mw->prot) {
        free(mw->written);
        free(mw);
        return NULL;
    }
    mw->start = start;
    mw->end = end;
    mw->npages = npages;
    mw->uniform = PROT_NONE;            /* calloc */
    /* Asked here because the kernel must be asked once per watch, not on
     * every query (it costs a read of /proc/self/smaps). */
    mw->refused = ww__check_not_droppable(start, end);
    hint_add(start);
    return mw;
}

void ww__mp_watch_free(struct ww__mp_watch *mw)
{
    hint_remove(mw->start);
    free(mw->prot);
    free(mw->written);
    free(mw);
}

/* --- the lock ---------------------------------------------------------------
 * A three-state futex mutex (Drepper, "Futexes Are Tricky"): futex(2) is a
 * plain system call, so the handler may wait on it.  Holders keep it for a
 * few mprotect calls at most, hence the short spin before sleeping. */
static void futex_wait(atomic_int *word, int val)
{
    syscall(SYS_futex, (int *)word, FUTEX_WAIT_PRIVATE, val, NULL, NULL, 0);
}

static void futex_wake_one(atomic_int *word)
{
    syscall(SYS_futex, (int *)word, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
}

void ww__mp_lock(struct ww__mp_watch *mw)
{
    int c;

    for (int spin = 0; spin < 100; spin++) {
        c = 0;
        if (atomic_compare_exchange_weak(&mw->lock, &c, 1))
            return;
        if (c == 2)
            break;
    }
    c = atomic_exchange(&mw->lock, 2);
    while (c != 0) {
        futex_wait(&mw->lock, 2);
        c = atomic_exchange(&mw->lock, 2);
    }
}

void ww__mp_unlock(struct ww__mp_watch *mw)
{
    if (atomic_exchange(&mw->lock, 0) == 2)
        futex_wake_one(&mw->lock);
}

/* The raw system call, not pthread_sigmask: glibc's drops its reserved
 * signals from the mask it sets, and signal 32 in a thread's mask is how
 * mprotect-signal.c marks "SIGSEGV blocked in a chained handler".  A
 * library call made in such a handler must give that mark back intact. */
static void set_mask(const sigset_t *set, sigset_t *old)
{
    syscall(SYS_rt_sigprocmask, SIG_SETMASK, set, old, _NSIG / 8);
}

void ww__mp_lock_nosig(struct ww__mp_watch *mw, sigset_t *saved)
{
    sigset_t all;

    sigfillset(&all);
    sigemptyset(saved);
    set_mask(&all, saved);
    ww__mp_lock(mw);
}

void ww__mp_unlock_nosig(struct ww__mp_watch *mw, const sigset_t *saved)
{
    ww__mp_unlock(mw);
    set_mask(saved, NULL);
}

/* --- the bitmap ------------------------------------------------------------
 * Relaxed loads are enough for scanning: whoever needs to see a write also
 * sees (through its own synchronisation with the writer) the bit that was
 * set before the write was let through. */
size_t ww__mp_find(const struct ww__mp_watch *mw, size_t from, size_t to,
                   int want)
{
    while (from < to) {
        size_t wi = from / WORD_BITS;
        unsigned long w = atomic_load_explicit(&mw->written[wi],
                                               memory_order_relaxed);

        if (!want)
            w = ~w;
        w &= ~0UL << (from % WORD_BITS);
        if (w) {
            size_t found = wi * WORD_BITS + (size_t)__builtin_ctzl(w);
            return found < to ? found : to;
        }
        from = (wi + 1) * WORD_BITS;
    }
    return to;
}

/* The first page of the run of clear bits that ends just before `before`
 * (the armed run containing page before-1, or `before` if that page is
 * written). */
static size_t clear_run_start(const struct ww__mp_watch *mw, size_t before)
{
    while (before > 0) {
        size_t wi = (before - 1) / WORD_BITS, nbits = before - wi * WORD_BITS;
        unsigned long w = atomic_load_explicit(&mw->written[wi],
                                               memory_order_relaxed);

        if (nbits < WORD_BITS)
            w &= (1UL << nbits) - 1;
        if (w)
            return wi * WORD_BITS + (WORD_BITS - (size_t)__builtin_clzl(w));
        before = wi * WORD_BITS;
    }
    return 0;
}

/* Mask of the bits of word wi that lie in [from, to). */
static unsigned long word_mask(size_t wi, size_t from, size_t to)
{
    size_t lo = wi * WORD_BITS, hi = lo + WORD_BITS;
    unsigned long m = ~0UL;

    if (from > lo)
        m &= ~0UL << (from - lo);
    if (to < hi)
        m &= ~0UL >> (hi - to);
    return m;
}

void ww__mp_set_bits(struct ww__mp_watch *mw, size_t from, size_t to)
{
    for (size_t wi = from / WORD_BITS; wi * WORD_BITS < to; wi++)
        atomic_fetch_or(&mw->written[wi], word_mask(wi, from, to));
}

static void clear_bits(struct ww__mp_watch *mw, size_t from, size_t to)
{
    for (size_t wi = from / WORD_BITS; wi * WORD_BITS < to; wi++)
        atomic_fetch_and(&mw->written[wi], ~word_mask(wi, from, to));
}

/* --- the caller's protections -------------------------------------------
 * One byte per page, and whether they are all the same (mw->uniform), as
 * in most watches: then arming needs no scan of the bytes, which would
 * otherwise cost as much as the mprotect itself in a sparse re-arm. */
void ww__mp_set_prot(struct ww__mp_watch *mw, size_t from, size_t to,
                     int prot)
{
    for (size_t i = from; i < to; i++)
        if (mw->prot[i] != prot)
            mw->prot[i] = (unsigned char)prot;
}

/* The end of the run of pages from `from` on (below to) whose caller's
 * protection is prot.  Every re-arm scans its span, which for a few pages
 * at both ends of a big watch is the whole watch: 32 bytes at a time
 * keeps that well below the cost of the mprotect itself. */
static size_t prot_run_end(const struct ww__mp_watch *mw, size_t from,
                           size_t to, int prot)
{
    const uint64_t same = 0x0101010101010101ull * (unsigned char)prot;

    while (to - from >= 32) {
        uint64_t w[4];

        memcpy(w, mw->prot + from, sizeof(w));
        if (((w[0] ^ same) | (w[1] ^ same) | (w[2] ^ same) |
             (w[3] ^ same)) != 0)
            break;
        from += 32;
    }
    while (from < to && mw->prot[from] == prot)
        from++;
    return from;
}

void ww__mp_prot_recorded(struct ww__mp_watch *mw)
{
    int first = mw->prot[0];

    mw->uniform = prot_run_end(mw, 0, mw->npages, first) == mw->npages
                      ? first : -1;
}

/* The end of the run of equal caller's protection starting at from. */
static size_t same_prot_end(const struct ww__mp_watch *mw, size_t from,
                            size_t to)
{
    return mw->uniform >= 0 ? to : prot_run_end(mw, from, to, mw->prot[from]);
}

/* Under the lock: the caller's protection of [from, to) becomes prot. */
static void change_prot(struct ww__mp_watch *mw, size_t from, size_t to,
                        int prot)
{
    int was = mw->uniform;

    ww__mp_set_prot(mw, from, to, prot);
    if (from == 0 && to == mw->npages)
        mw->uniform = prot;
    else if (was >= 0 && was != prot)
        mw->uniform = -1;       /* the rest is still `was` */
    else if (was < 0)
        ww__mp_prot_recorded(mw);   /* maybe all the same again */
}

/* The start of the run of pages ending just before `before` (not below
 * limit) whose caller's protection is prot. */
static size_t prot_run_start(const struct ww__mp_watch *mw, size_t before,
                             size_t limit, int prot)
{
    while (before > limit && mw->prot[before - 1] == prot)
        before--;
    return before;
}

/* --- page transitions ----------------------------------------------------- */
/* mprotect(2) of pages [from, to) of mw. */
static int mprotect_pages(struct ww__mp_watch *mw, size_t from, size_t to,
                          int prot)
{
    size_t page = ww__page_size();

    if (mprotect(ww__mp_page_addr(mw, from, page), (to - from) * page,
                 prot) == 0)
        return 0;
    return -errno;
}

/* mprotect every run of equal caller's protection in [from, to) that lets
 * the caller write, with that protection & mask.  Only those: the others
 * are the same armed or written.  One call for a watch of one protection. */
static int protect_writable_runs(struct ww__mp_watch *mw, size_t from,
                                 size_t to, int mask)
{
    while (from < to) {
        int prot = mw->prot[from];
        size_t end = same_prot_end(mw, from, to);

        if (prot & PROT_WRITE) {
            int r = mprotect_pages(mw, from, end, prot & mask);

            if (r < 0)
                return r;
        }
        from = end;
    }
    return 0;
}

int ww__mp_arm(struct ww__mp_watch *mw, size_t from, size_t to)
{
    if (mw->refused)
        return mw->refused;
    return protect_writable_runs(mw, from, to, ~PROT_WRITE);
}

int ww__mp_restore(struct ww__mp_watch *mw, size_t from, size_t to)
{
    return protect_writable_runs(mw, from, to, ~0);
}

static int try_writable(struct ww__mp_watch *mw, size_t from, size_t to,
                        int prot)
{
    ww__mp_set_bits(mw, from, to);      /* bit first: see mprotect.c */
    return mprotect_pages(mw, from, to, prot);
}

/* --- out of VMAs: merging what the library split -------------------------
 * When a write needs a VMA the kernel no longer gives (vm.max_map_count),
 * widening within the run (make_run_writable) cannot help where the
 * caller's protection changes: [R][RW][R] armed is one read-only VMA, and
 * the write needs it split in three.  Then the library gives back VMAs it
 * caused itself, in this watch or any other: a VMA boundary inside a run
 * of one caller's protection exists only because some pages are written
 * (writable) and others armed.  Two ways remove such boundaries, each
 * turning three VMAs into one:
 *  - an armed run between two written pages of its protection is marked
 *    written and made writable (over-reported: allowed, and what the
 *    caller sees near the limit anyway);
 *  - a written run between two pages with its protection minus
 *    PROT_WRITE loses PROT_WRITE and keeps its bit (reported all the same;
 *    its next write faults once more).
 * Neither ever makes a page writable that the caller did not allow, nor a
 * clear page writable.  The estimate of a page's protection from its bit
 * can be wrong (a failed widening leaves bits set on read-only pages);
 * then a merge frees nothing, and the next one is tried. */

/* Merges are tried in this order: small over-reports, then extra faults,
 * then over-reports of any size. */
enum merge_kind { ARMED_GAPS_SMALL, WRITTEN_RUNS, ARMED_GAPS_ANY };
#define SMALL_GAP 16    /* pages */

static int page_written(const struct ww__mp_watch *w, size_t i)
{
    return ww__mp_find(w, i, i + 1, 1) == i;
}

/* The protection page i has now, as far as its bit tells. */
static int effective_prot(const struct ww__mp_watch *w, size_t i)
{
    return page_written(w, i) ? w->prot[i] : w->prot[i] & ~PROT_WRITE;
}

/* Make the next armed run at or after *cursor that lies between two
 * written pages of its own (writable) protection, at most max_len pages,
 * written and writable.  1 if one was found, 0 if none is left. */
static int merge_armed_gap(struct ww__mp_watch *w, size_t *cursor,
                           size_t max_len)
{
    size_t n = w->npages, a = *cursor;

    while ((a = ww__mp_find(w, a, n, 0)) < n) {
        size_t b = ww__mp_find(w, a, n, 1);
        int prot = a > 0 ? w->prot[a - 1] : PROT_NONE;

        if (b == n)
            break;              /* the run reaches the watch's end */
        if (a > 0 && b - a <= max_len && (prot & PROT_WRITE) &&
            w->prot[b] == prot && prot_run_end(w, a, b, prot) == b) {
            *cursor = b;
            (void)try_writable(w, a, b, prot);
            return 1;
        }
        a = b;
    }
    *cursor = n;
    return 0;
}

/* Take PROT_WRITE from the next written run at or after *cursor (of one
 * writable protection, outside [skip_from, skip_to)) whose neighbours both
 * have that protection without PROT_WRITE.  1 if one was found, 0 if none
 * is left. */
static int merge_written_run(struct ww__mp_watch *w, size_t *cursor,
                             size_t skip_from, size_t skip_to)
{
    size_t n = w->npages, a = *cursor;

    while ((a = ww__mp_find(w, a, n, 1)) < n) {
        size_t end = ww__mp_find(w, a, n, 0);

        for (size_t s = a, e; s < end; s = e) {
            int prot = w->prot[s], armed = prot & ~PROT_WRITE;

            e = same_prot_end(w, s, end);
            if (s > 0 && e < n && (prot & PROT_WRITE) &&
                (e <= skip_from || s >= skip_to) &&
                effective_prot(w, s - 1) == armed &&
                effective_prot(w, e) == armed) {
                *cursor = e;
                (void)mprotect_pages(w, s, e, armed);
                return 1;
            }
        }
        a = end;
    }
    *cursor = n;
    return 0;
}

/* Merge in watch w (held) and retry pages [first, last) of mw with prot
 * after each merge, until the kernel says something else than ENOMEM or
 * w has nothing of this kind left. */
static int merge_and_retry(struct ww__mp_watch *mw, struct ww__mp_watch *w,
                           enum merge_kind kind, size_t first, size_t last,
                           int prot)
{
    size_t cursor = 0, skip_from = 0, skip_to = 0;
    int r = -ENOMEM;

    if (w == mw) {
        skip_from = first;
        skip_to = last;
    }
    while (r == -ENOMEM &&
           (kind == WRITTEN_RUNS
                ? merge_written_run(w, &cursor, skip_from, skip_to)
                : merge_armed_gap(w, &cursor, kind == ARMED_GAPS_SMALL
                                                  ? SMALL_GAP : SIZE_MAX)))
        r = mprotect_pages(mw, first, last, prot);
    return r;
}

/* Where watches start, for finding the other watches of the process.
 * Only addresses: the table (mprotect-table.c) says which watch is there
 * now and keeps it alive while it is looked at, so a stale or lost hint
 * costs a lookup or a missed chance, never a wrong access.  Watches past
 * HINTS are not seen. */
#define HINTS 256
static atomic_uintptr_t hints[HINTS];

static size_t hint_slot(uintptr_t start)
{
    return (start / ww__page_size()) % HINTS;
}

static void hint_add(uintptr_t start)
{
    size_t h = hint_slot(start);

    for (size_t i = 0; i < HINTS; i++) {
        uintptr_t empty = 0;

        if (atomic_compare_exchange_strong(&hints[(h + i) % HINTS], &empty,
                                           start))
            return;
    }
    atomic_store(&hints[h], start);     /* full: take a slot */
}

static void hint_remove(uintptr_t start)
{
    size_t h = hint_slot(start);

    for (size_t i = 0; i < HINTS; i++) {
        uintptr_t mine = start;

        if (atomic_compare_exchange_strong(&hints[(h + i) % HINTS], &mine, 0))
            return;
    }
}

/* Never waits: the holder of another watch's lock may be a fault handler
 * waiting for ours. */
static int trylock(struct ww__mp_watch *w)
{
    int free_ = 0;

    return atomic_compare_exchange_strong(&w->lock, &free_, 1);
}

/* merge_and_retry() in every other watch whose lock is free. */
static int merge_in_other_watches(struct ww__mp_watch *mw,
                                  enum merge_kind kind, size_t first,
                                  size_t last, int prot)
{
    unsigned ticket = ww__mp_table_enter();
    int r = -ENOMEM;

    for (size_t i = 0; i < HINTS && r == -ENOMEM; i++) {
        uintptr_t start = atomic_load_explicit(&hints[i],
                                               memory_order_relaxed);
        struct ww__mp_watch *w = start ? ww__mp_table_find(start) : NULL;

        if (!w || w == mw || !trylock(w))
            continue;
        if (!atomic_load(&w->dead))
            r = merge_and_retry(mw, w, kind, first, last, prot);
        ww__mp_unlock(w);
    }
    ww__mp_table_leave(ticket);
    return r;
}

/* Free VMAs by merges of the given kinds, in this watch first, and retry
 * pages [first, last) (bits set) with prot after each. */
static int free_vmas_and_retry(struct ww__mp_watch *mw, size_t first,
                               size_t last, int prot,
                               const enum merge_kind *kinds, size_t nkinds)
{
    int r = -ENOMEM;

    for (size_t k = 0; k < nkinds && r == -ENOMEM; k++) {
        r = merge_and_retry(mw, mw, kinds[k], first, last, prot);
        if (r == -ENOMEM)
            r = merge_in_other_watches(mw, kinds[k], first, last, prot);
    }
    return r;
}

/*
 * Pages [first, last), all with the caller's protection prot (writable).
 *
 * vm.max_map_count: making one page of an armed VMA writable splits the
 * VMA, and at the limit the split fails with ENOMEM.  A range that reaches
 * an edge of the armed run around it does not split there when the
 * neighbour beyond is a written page of the same protection: the kernel
 * moves the boundary between the two instead (measured on 6.18: it
 * succeeds at the limit).  So widen to the left edge of the armed run of
 * pages with the same protection, or the right one, whichever marks fewer
 * extra pages written, then to both.  Writing every other page at the
 * limit thus costs one extra reported page per write, never a lost one.
 * Pages of another protection are never widened into: that would let
 * writes through that the caller forbade (or change what it may execute).
 * Where that is not enough, VMAs the library split are merged again
 * (above), in this watch or others, then every page around with the same
 * protection is made writable, written or not, then larger armed runs are
 * merged.  Only when the program's own mappings hold every VMA does the
 * write fail (ENOMEM: the fault goes to the previous handler).
 */
static int make_run_writable(struct ww__mp_watch *mw, size_t first,
                             size_t last, int prot)
{
    static const enum merge_kind cheap[] = { ARMED_GAPS_SMALL, WRITTEN_RUNS };
    static const enum merge_kind last_resort[] = { ARMED_GAPS_ANY };
    size_t lo, hi, tries[3][2], all_lo, all_hi;
    int r = try_writable(mw, first, last, prot);

    if (r != -ENOMEM)
        return r;
    lo = prot_run_start(mw, first, clear_run_start(mw, first), prot);
    hi = prot_run_end(mw, last, ww__mp_find(mw, last, mw->npages, 1), prot);
    if (first - lo <= hi - last) {
        tries[0][0] = lo;    tries[0][1] = last;
        tries[1][0] = first; tries[1][1] = hi;
    } else {
        tries[0][0] = first; tries[0][1] = hi;
        tries[1][0] = lo;    tries[1][1] = last;
    }
    tries[2][0] = lo;        tries[2][1] = hi;
    for (int i = 0; i < 3 && r == -ENOMEM; i++) {
        if (tries[i][0] == first && tries[i][1] == last)
            continue;               /* tried already */
        r = try_writable(mw, tries[i][0], tries[i][1], prot);
    }
    if (r != -ENOMEM)
        return r;
    r = free_vmas_and_retry(mw, first, last, prot, cheap, 2);
    if (r != -ENOMEM)
        return r;
    all_lo = prot_run_start(mw, first, 0, prot);
    all_hi = prot_run_end(mw, last, mw->npages, prot);
    if (all_lo != lo || all_hi != hi)
        r = try_writable(mw, all_lo, all_hi, prot);
    if (r != -ENOMEM)
        return r;
    return free_vmas_and_retry(mw, first, last, prot, last_resort, 1);
}

/* Run by run of equal caller's protection.  A page the caller may not
 * write is only marked: its protection is the caller's already. */
int ww__mp_make_writable(struct ww__mp_watch *mw, size_t first, size_t last)
{
    int r = 0;

    while (first < last) {
        int prot = mw->prot[first], ri = 0;
        size_t end = same_prot_end(mw, first, last);

        if (prot & PROT_WRITE)
            ri = make_run_writable(mw, first, end, prot);
        else
            ww__mp_set_bits(mw, first, end);
        if (ri < 0 && r == 0)
            r = ri;
        first = end;
    }
    return r;
}

/*
 * Take write permission from the whole range first (one call, whatever
 * the pages' state), and only then give it back to the written runs, bit
 * set first as always: at no point is a clear page writable.
 */
int ww__mp_protect(struct ww__mp_watch *mw, size_t from, size_t to, int prot)
{
    int r = mprotect_pages(mw, from, to, prot & ~PROT_WRITE);

    if (r < 0)
        return r;
    change_prot(mw, from, to, prot);
    if (!(prot & PROT_WRITE))
        return 0;
    for (size_t a = ww__mp_find(mw, from, to, 1); a < to;
         a = ww__mp_find(mw, a, to, 1)) {
        size_t b = ww__mp_find(mw, a, to, 0);
        int ri = make_run_writable(mw, a, b, prot);

        if (ri < 0 && r == 0)
            r = ri;
        a = b;
    }
    return r;
}

static int rearm_run(struct ww__mp_watch *mw, size_t from, size_t to)
{
    int r;

    clear_bits(mw, from, to);
    r = ww__mp_arm(mw, from, to);
    if (r < 0)
        ww__mp_set_bits(mw, from, to);  /* still (partly) writable */
    return r;
}

/*
 * One mprotect for all the runs (per protection the caller gave them):
 * the pages between them have clear bits, so (the invariant, under the
 * lock) they are armed already, and arming them again changes nothing.
 * One system call instead of one per run, and the kernel merges the whole
 * span into one VMA.  If the span fails (a split at its edges at the VMA
 * limit), run by run.
 */
int ww__mp_rearm(struct ww__mp_watch *mw, const struct ww__mp_run *runs,
                 size_t n)
{
    int r = 0;

    if (n == 0)
        return 0;
    for (size_t i = 0; i < n; i++)
        clear_bits(mw, runs[i].from, runs[i].to);
    if (ww__mp_arm(mw, runs[0].from, runs[n - 1].to) == 0)
        return 0;
    for (size_t i = 0; i < n; i++) {
        int ri = rearm_run(mw, runs[i].from, runs[i].to);

        if (ri < 0 && ri != -ENOMEM && r == 0)
            r = ri;
    }
    return r;
}
