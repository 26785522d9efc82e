/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * uffd.c - the kernel backend: userfaultfd asynchronous write-protect
 * (UFFD_FEATURE_WP_ASYNC, Linux 6.7) and the PAGEMAP_SCAN ioctl.
 * Owns ww__uffd_ops and every userfaultfd and PAGEMAP_SCAN call of the
 * library except the mprotect backend's marks (mprotect-mark.c).
 *
 * Arming a page sets its uffd-wp bit.  A later write is resolved inside the
 * kernel, which clears the bit: no message, no thread, no signal.
 * PAGEMAP_SCAN reports pages without the bit (PAGE_IS_WRITTEN) and, with
 * PM_SCAN_WP_MATCHING, sets the bit again on exactly the pages it reports,
 * under the page-table lock: a write either lands before (and is reported)
 * or after (and stays written for the next scan).  Nothing is lost.
 *
 * Two traps shape the code below:
 *  - A scan crossing a VMA that is not registered with write-protect fails
 *    with EPERM (thanks to PM_SCAN_CHECK_WPASYNC; without it such pages read
 *    as clean or are skipped) -- but only after it has already re-armed the
 *    pages before that VMA and copied their regions into the vector.  The
 *    vector is therefore zeroed before every resetting scan and, on any
 *    failure, every region found in it is marked written again.
 *  - A hole (part of the watch unmapped) is skipped silently by the scan.
 *    msync(MS_ASYNC), which only walks VMAs, detects it first.
 * A watch in either state is "stale": its writes can no longer be known,
 * so queries fail with -ESTALE rather than report the range as clean.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "alloc.h"
#include "backend.h"
#include "inject.h"
#include "kernel-uapi.h"
#include "vma.h"

/* Regions per scan call on the stack (6 KiB): arming, a get that cannot
 * use the tracker's vectors (below); and the tracker's small vector, the
 * first of a get after one that found no more.  The kernel's bounce buffer is min(vec_len, 512)
 * regions: up to 341 (8 KiB) it comes from a slab, 512 (12 KiB) costs a
 * page allocation per ioctl, measured as ~2.5 us more per get of a
 * clean 16 MiB (wwbench scenario 2, raw loop: 7.9 us vs 5.3 us). */
#define SCAN_CHUNK 256

/* The largest region vector a tracker keeps (384 KiB).  Every ioctl that
 * stops because the vector is full costs a fixed amount (issue 14: ~40
 * ioctls of 256 regions made a 4 GiB get with 1% random pages written,
 * 10486 regions, up to 1.33x slower than one); 16384 regions cover that
 * case in one call, beyond it the fixed cost is spread over 16384
 * regions, and the vector still fits a core's L2 cache (a 12 MiB vector
 * made wwbench's raw loop slower than 256 regions with every other page
 * written). */
#define VEC_MAX 16384

#define WANTED_FEATURES (UFFD_FEATURE_WP_ASYNC | UFFD_FEATURE_WP_UNPOPULATED)

struct uffd_tracker {
    int uffd;                   /* the write-protect registrations */
    int pagemap;                /* /proc/self/pagemap, for PAGEMAP_SCAN */
    /* The region vector of gets: grown (by doubling, to VEC_MAX at most)
     * when a scan fills it, never shrunk, so a workload's steady state
     * makes one ioctl per get and no allocation.  Mapped, not malloc'd
     * (ww__map): a garbage collector gets with its other threads stopped,
     * maybe inside malloc.  Queries run
     * concurrently under the tracker's shared lock: whoever sets
     * vec_busy owns the vectors for its call, the others scan through a
     * vector on their own stack.  Entries [vec_dirty, vec_len) are zero. */
    atomic_flag vec_busy;
    struct page_region *vec;
    size_t vec_len, vec_dirty;
    size_t last_found;          /* regions of the owner's last get */
    /* The owner's first vector when the last get found few regions: the
     * stack's size, but zeroed only as far as used (small_dirty). */
    size_t small_dirty;
    struct page_region small[SCAN_CHUNK];
};

/* Every PAGEMAP_SCAN of this backend goes through here, so that a test
 * can see each call's arguments: tests/test_internal.c defines
 * WW_UFFD_SCAN_HOOK and compiles this file in. */
static long pagemap_scan(int pagemap, struct pm_scan_arg *arg)
{
    int injected = (arg->flags & PM_SCAN_WP_MATCHING)
                       ? ww__injected(WW__SITE_SCAN) : 0;

    if (injected) {                 /* a test build's fault injection */
        arg->walk_end = arg->start;
        errno = injected;
        return -1;
    }
#ifdef WW_UFFD_SCAN_HOOK
    WW_UFFD_SCAN_HOOK(arg);
#endif
    return ioctl(pagemap, PAGEMAP_SCAN, arg);
}

/* One PAGEMAP_SCAN for the pages of [start, end) in every category of
 * category (PAGE_IS_WRITTEN and maybe more).  Returns the number
 * of regions stored in vec, or -errno; *walk_end is where it stopped.
 *
 * The kernel's own walk_end can be stale.  It fills vec through a bounce
 * buffer of 512 regions, restarting its walk where each full buffer
 * stopped it and setting walk_end there; a restarted walk that runs to
 * the end leaves walk_end where the last full buffer put it (6.18,
 * do_pagemap_scan(); with vec_len <= 512 the buffer never restarts).  A
 * caller going on from there would scan again what it was just given:
 * without WP_MATCHING, report it twice.  Regions lie below a true
 * walk_end, so one that ends above it proves the walk ran to the end. */
static long scan_category(int pagemap, uintptr_t start, uintptr_t end,
                          uint64_t flags, struct page_region *vec,
                          size_t vec_len, size_t max_pages,
                          uintptr_t *walk_end, uint64_t category)
{
    struct pm_scan_arg arg = {
        .size = sizeof(arg),
        .flags = flags | PM_SCAN_CHECK_WPASYNC,
        .start = start,
        .end = end,
        .vec = (uintptr_t)vec,
        .vec_len = vec_len,
        .max_pages = max_pages,
        .category_mask = category,
        .return_mask = PAGE_IS_WRITTEN,
    };
    long n = pagemap_scan(pagemap, &arg);

    if (n < 0)
        n = -errno;
    else if (n > 0 && arg.walk_end < vec[n - 1].end)
        arg.walk_end = end;         /* stale: the walk reached the end */
    if (walk_end)
        *walk_end = arg.walk_end;
    return n;
}

static long scan_written(int pagemap, uintptr_t start, uintptr_t end,
                         uint64_t flags, struct page_region *vec,
                         size_t vec_len, size_t max_pages,
                         uintptr_t *walk_end)
{
    return scan_category(pagemap, start, end, flags, vec, vec_len, max_pages,
                         walk_end, PAGE_IS_WRITTEN);
}

/*
 * Write-protect (arm) every page of [start, end) that a get would report
 * as written: the same scan, with WP_MATCHING.
 *
 * Always with an output vector.  Without one (vec_len = 0, the kernel's
 * fast path, used here before) a write-protecting scan that covers part of
 * a huge page reading as written (THP or hugetlb) dereferences NULL in
 * pagemap_scan_backout_range() and oopses every 6.7+ kernel that lacks
 * 28aa29986dde ("fs/proc/task_mmu: check p->vec_buf for NULL": v6.17,
 * 6.16.10, 6.12.50).  Resetting part of a THP faulted in under a watch is
 * such a scan.  The regions returned are not needed; when they fill the
 * vector, the walk goes on from walk_end.  CPU ms per GiB on 6.18 (fast
 * path in brackets): populated 10.8 (7.8), every other page 8.9 (6.3),
 * untouched 5.4 (5.4), already clean 0.5 (0.5), THP-backed 0.1 (0.1).
 */
static int arm_category(const struct uffd_tracker *u, uintptr_t start,
                        uintptr_t end, uint64_t category)
{
    struct page_region vec[SCAN_CHUNK];
    uintptr_t cur = start, walk_end;

    while (cur < end) {
        long n = scan_category(u->pagemap, cur, end, PM_SCAN_WP_MATCHING, vec,
                               SCAN_CHUNK, 0, &walk_end, category);

        if (n < 0)
            return (int)n;
        if (walk_end >= end)
            break;
        if (walk_end <= cur)    /* no progress (part of a hugetlb page) */
            return -EIO;
        cur = walk_end;
    }
    return 0;
}

static int arm_range(const struct uffd_tracker *u, uintptr_t start,
                     uintptr_t end)
{
    return arm_category(u, start, end, PAGE_IS_WRITTEN);
}

/* Arm only the pages of [start, end) that are populated: holes are not
 * present, so the scan places no marker and fills no page table (a
 * sparse watch's reservation stays free).  Its populated dormant pages
 * (written before they were made PROT_NONE) are thus told apart from
 * pages written around ww_protect() later (uffd_check). */
static int arm_present(const struct uffd_tracker *u, uintptr_t start,
                       uintptr_t end)
{
    return arm_category(u, start, end, PAGE_IS_PRESENT | PAGE_IS_WRITTEN);
}

/* Clear the write-protect bit: the pages read as written from now on. */
static int unprotect_range(const struct uffd_tracker *u, uintptr_t start,
                           uintptr_t end)
{
    struct uffdio_writeprotect wp = {
        .range = { .start = start, .len = end - start },
        .mode = 0,
    };

    while (ioctl(u->uffd, UFFDIO_WRITEPROTECT, &wp) < 0) {
        if (errno != EAGAIN)
            return -errno;
    }
    return 0;
}

static int uffd_open(void **priv)
{
    struct uffdio_api api = { .api = UFFD_API, .features = WANTED_FEATURES };
    struct uffd_tracker *u;
    int r;

    u = ww__calloc(1, sizeof(*u));
    if (!u)
        return -ENOMEM;
    u->pagemap = -1;
    atomic_flag_clear(&u->vec_busy);
    /* UFFD_USER_MODE_ONLY is what lets an unprivileged process have one
     * when vm.unprivileged_userfaultfd = 0; kernel-mode faults are not
     * needed because write-protect faults are resolved asynchronously. */
    u->uffd = (int)syscall(SYS_userfaultfd,
                           O_CLOEXEC | O_NONBLOCK | UFFD_USER_MODE_ONLY);
    if (u->uffd < 0) {
        r = errno == EINVAL ? -ENOTSUP : -errno;
        goto fail;
    }
    if (ioctl(u->uffd, UFFDIO_API, &api) < 0) {
        r = errno == EINVAL ? -ENOTSUP : -errno;
        goto fail;
    }
#ifdef WW_UFFD_API_HOOK
    WW_UFFD_API_HOOK(&api);     /* tests/test_internal.c: a kernel's answer */
#endif
    /* A kernel may answer without granting every feature asked for. */
    if ((api.features & WANTED_FEATURES) != WANTED_FEATURES) {
        r = -ENOTSUP;
        goto fail;
    }
    u->pagemap = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
    if (u->pagemap < 0) {
        r = errno == ENOENT ? -ENOTSUP : -errno;
        goto fail;
    }
    /* An empty scan tells whether the ioctl exists (ENOTTY if not). */
    if (scan_written(u->pagemap, 0, 0, 0, NULL, 0, 0, NULL) < 0) {
        r = -ENOTSUP;
        goto fail;
    }
    *priv = u;
    return 0;
fail:
    if (u->pagemap >= 0)
        close(u->pagemap);
    if (u->uffd >= 0)
        close(u->uffd);
    free(u);
    return r;
}

static void uffd_close(void *priv, int forked)
{
    struct uffd_tracker *u = priv;

    (void)forked;       /* closing fds touches nothing of the parent's */
    close(u->uffd);
    close(u->pagemap);
    ww__unmap(u->vec, u->vec_len * sizeof(*u->vec));
    free(u);
}

static int uffd_watch(void *priv, struct ww__watch *w)
{
    struct uffd_tracker *u = priv;
    struct uffdio_register reg = {
        .range = { .start = w->start, .len = w->end - w->start },
        .mode = UFFDIO_REGISTER_MODE_WP,
    };
    struct uffdio_range range = reg.range;
    /* With WP_ASYNC the kernel accepts shared and file mappings too, but a
     * write through another mapping of the same object would never show. */
    int r = ww__vma_check_private_anonymous(w->start, w->end);

    if (r < 0)
        return r;
    /* Measured on 6.18: a write into a write-protected THP splits it and
     * reports one 4 KiB page; without new THPs every report is 4 KiB
     * exact.  It does not prevent PMD holes (a THP that existed before, or
     * a page table CONFIG_PT_RECLAIM freed after MADV_DONTNEED of 2 MiB):
     * kernels without 40de8160ca7f read those as clean (README, "What the
     * kernel cannot see"). */
    if (!(w->flags & WW_WATCH_KEEP_HUGEPAGES))
        (void)madvise((void *)w->start, w->end - w->start, MADV_NOHUGEPAGE);
    if (ioctl(u->uffd, UFFDIO_REGISTER, &reg) < 0) {
        switch (errno) {
        case EBUSY: return -EEXIST;        /* another userfaultfd has it */
        case EINVAL: return -ENOTSUP;      /* memory uffd cannot watch */
        default: return -errno;
        }
    }
    if (!(reg.ioctls & ((__u64)1 << _UFFDIO_WRITEPROTECT))) {
        r = -ENOTSUP;
        goto fail;
    }
    /* A sparse watch arms only its populated pages now (the front arms
     * its active runs): WP_UNPOPULATED fills page tables for every page
     * it protects (2 MiB per GiB), a reservation's too. */
    r = (w->flags & WW_WATCH_SPARSE) ? arm_present(u, w->start, w->end)
                                     : arm_range(u, w->start, w->end);
    if (r == 0)
        return 0;
fail:
    ioctl(u->uffd, UFFDIO_UNREGISTER, &range);
    return r;
}

/* Unregistering also clears the write-protect bits, so the memory is
 * left as if it had never been watched.  The kernel skips what no
 * userfaultfd has registered (a mapping put over the watch); what it
 * cannot unregister of a stale watch is released with the userfaultfd.
 * In a fork child the userfaultfd is the parent's: hands off. */
static void uffd_disarm(void *priv, struct ww__watch *w, int forked)
{
    struct uffd_tracker *u = priv;
    struct uffdio_range range = { .start = w->start, .len = w->end - w->start };

    if (!forked)
        ioctl(u->uffd, UFFDIO_UNREGISTER, &range);
}

static void uffd_free_watch(void *priv, struct ww__watch *w)
{
    (void)priv;
    (void)w;
}

/* 0 if every VMA of [start, end) is registered for asynchronous
 * write-protect (by some userfaultfd), -EPERM if one is not (a mapping
 * put over the watch), or another -errno.  PM_SCAN_CHECK_WPASYNC fails
 * on such a VMA; the category mask makes every registered VMA
 * uninteresting, so the scan walks VMAs, not pages. */
static int check_registered(int pagemap, uintptr_t start, uintptr_t end)
{
    struct pm_scan_arg arg = {
        .size = sizeof(arg),
        .flags = PM_SCAN_CHECK_WPASYNC,
        .start = start,
        .end = end,
        .category_inverted = PAGE_IS_WPALLOWED,
        .category_mask = PAGE_IS_WPALLOWED,
    };

    return pagemap_scan(pagemap, &arg) < 0 ? -errno : 0;
}

/*
 * Whether [start, end) is still registered with this tracker's
 * userfaultfd.  check_registered() accepts a VMA that *another*
 * userfaultfd registered: registering the range again with ours tells
 * them apart (EBUSY: another one has it; success on a VMA ours already
 * has changes nothing).
 */
static int uffd_owns(void *priv, struct ww__watch *w, uintptr_t start,
                     uintptr_t end)
{
    struct uffd_tracker *u = priv;
    struct uffdio_register reg = {
        .range = { .start = start, .len = end - start },
        .mode = UFFDIO_REGISTER_MODE_WP,
    };
    int r;

    (void)w;
    if (ww__range_mapped(start, end) < 0)
        return 0;
    r = check_registered(u->pagemap, start, end);
    if (r < 0)
        return r == -EPERM ? 0 : r;
    if (ioctl(u->uffd, UFFDIO_REGISTER, &reg) < 0)
        return errno == EBUSY ? 0 : -errno;
    return 1;
}

/* Dormant pages of a sparse watch: mapped, registered (with
 * PM_SCAN_CHECK_WPASYNC, as a get), and none both present and written
 * (the zero page aside).  They are PROT_NONE unless the caller went
 * around ww_protect(); those populated at watch time were armed then
 * (arm_present), the others are holes (or markers) until written: one
 * present written page is a write (through mprotect(2), or a debugger)
 * that no get would report.  The scan walks page tables only where they
 * exist, and asks for one page. */
static int uffd_check(void *priv, struct ww__watch *w, uintptr_t start,
                      uintptr_t end)
{
    struct uffd_tracker *u = priv;
    uintptr_t cur = start, s, e;

    if (ww__range_mapped(start, end) < 0)
        return ww__mark_stale(w);
    while (ww__next_dormant(w, &cur, end, &s, &e)) {
        struct page_region vec[1];
        struct pm_scan_arg arg = {
            .size = sizeof(arg),
            .flags = PM_SCAN_CHECK_WPASYNC,
            .start = s,
            .end = e,
            .vec = (uintptr_t)vec,
            .vec_len = 1,
            .max_pages = 1,
            .category_inverted = PAGE_IS_PFNZERO,
            .category_mask = PAGE_IS_PRESENT | PAGE_IS_WRITTEN |
                             PAGE_IS_PFNZERO,
            .return_mask = PAGE_IS_PRESENT,
        };
        long n = pagemap_scan(u->pagemap, &arg);

        if (n < 0)
            return errno == EPERM ? ww__mark_stale(w) : -errno;
        if (n > 0)
            return ww__mark_stale(w);
    }
    return 0;
}

/* Page mode, the hot loop of a get: the regions of one scan into the
 * caller's array, in one pass.  The kernel reports ascending regions
 * inside [cur, end) and at most max_pages (the room left) pages; each is
 * checked before it is stored, so the array stays safe should the
 * kernel ever break that, and the sink takes nothing then: -EIO, and
 * keep_rearmed() hands the regions over again.  (Checking every region
 * first and storing in a second loop cost 3x the raw loop's
 * instructions per region: wwbench scenario 2, 16 MiB every other page,
 * counted by callgrind.) */
static int put_pages(struct ww__sink *sink, const struct page_region *vec,
                     long n, uintptr_t cur, uintptr_t end)
{
    const uintptr_t page = ww__page_size();
    const unsigned shift = (unsigned)__builtin_ctzl(page);
    void **last;
    void **out = ww__sink_page_slots(sink, &last);
    uintptr_t lo = cur;

    for (long i = 0; i < n; i++) {
        uintptr_t a = vec[i].start, e = vec[i].end;

        /* (a > e makes e - a wrap: far too many pages.) */
        if (a < lo || e > end || (e - a) >> shift > (size_t)(last - out))
            return -EIO;
        lo = e;
        for (; a < e; a += page)
            *out++ = (void *)a;
    }
    ww__sink_took_pages(sink, out);
    return 0;
}

/* After a failed resetting scan: every region the kernel copied into the
 * zeroed vector was already re-armed.  Hand them to the sink, so that the
 * front makes them written again (tracker.c, undo_reset). */
static void keep_rearmed(struct ww__sink *sink, const struct page_region *vec,
                         size_t len, uintptr_t cur, uintptr_t end)
{
    for (size_t i = 0; i < len && vec[i].end != 0; i++) {
        uintptr_t s = vec[i].start < cur ? cur : vec[i].start;
        uintptr_t e = vec[i].end > end ? end : vec[i].end;

        if (s < e)
            ww__sink_put(sink, s, e);
    }
}

/* The region vector of one get: one of the tracker's (home: where its
 * dirty count is kept) or the caller's stack (home NULL).  Entries
 * [dirty, len) are zero. */
struct scan_vec {
    struct page_region *v;
    size_t len, dirty;
    size_t *home;
    int shared;                 /* this call owns the tracker's vectors */
};

static void vec_switch(struct scan_vec *s, struct page_region *v, size_t len,
                       size_t *home)
{
    if (s->home)
        *s->home = s->dirty;
    s->v = v;
    s->len = len;
    s->home = home;
    s->dirty = *home;
}

/* A resetting scan needs the first vec_len entries zeroed (see the top:
 * after a failure, the regions are found up to the first zero entry). */
static void vec_zero(struct scan_vec *s, size_t vec_len)
{
    if (s->dirty <= vec_len) {
        memset(s->v, 0, s->dirty * sizeof(*s->v));
        s->dirty = 0;
    } else {
        memset(s->v, 0, vec_len * sizeof(*s->v));
    }
}

/* After a scan that returned n (or failed: the kernel may have written
 * anywhere in the vec_len entries). */
static void vec_used(struct scan_vec *s, long n, size_t vec_len)
{
    size_t used = n < 0 ? vec_len : (size_t)n;

    if (used > s->dirty)
        s->dirty = used;
}

/* A scan filled the whole vector and the walk goes on: go on with the
 * tracker's vector if this call owns it and it is longer, else take one
 * twice as large, as VEC_MAX allows.  A failed allocation changes
 * nothing: the walk goes on with the vector it has, in more ioctls.  The
 * old vector's regions were all handed to the sink, so nothing in it is
 * needed any more. */
static void vec_grow(struct uffd_tracker *u, struct scan_vec *s)
{
    size_t len = s->len * 2 > VEC_MAX ? VEC_MAX : s->len * 2;
    struct page_region *v;

    if (!s->shared)
        return;
    if (u->vec && u->vec_len > s->len) {
        vec_switch(s, u->vec, u->vec_len, &u->vec_dirty);
        return;
    }
    if (len <= s->len)
        return;
    v = ww__map(len * sizeof(*v));      /* never malloc in a get */
    if (!v)
        return;
    if (s->home)
        *s->home = s->dirty;
    s->home = NULL;             /* the old vector is unmapped below */
    ww__unmap(u->vec, u->vec_len * sizeof(*u->vec));
    u->vec = v;
    u->vec_len = len;
    u->vec_dirty = 0;
    vec_switch(s, v, len, &u->vec_dirty);
}

static int get_scan(struct uffd_tracker *u, struct scan_vec *s,
                    struct ww__watch *w, uintptr_t start, uintptr_t end,
                    int reset, struct ww__sink *sink, size_t *found)
{
    uint64_t flags = reset ? PM_SCAN_WP_MATCHING : 0;
    uintptr_t cur = start, walk_end;

    if (ww__range_mapped(start, end) < 0)
        return ww__mark_stale(w);
    while (cur < end && !ww__sink_full(sink)) {
        size_t runs = ww__sink_room_runs(sink);
        size_t pages = ww__sink_room_pages(sink);
        size_t vec_len = runs < s->len ? runs : s->len;
        long n;

        if (reset)
            vec_zero(s, vec_len);
        n = scan_written(u->pagemap, cur, end, flags, s->v, vec_len,
                         pages == SIZE_MAX ? 0 : pages, &walk_end);
        vec_used(s, n, vec_len);
        if (n >= 0 && ww__sink_page_mode(sink) &&
            put_pages(sink, s->v, n, cur, end) < 0)
            n = -EIO;           /* the kernel broke its contract */
        if (n < 0) {
            if (reset)
                keep_rearmed(sink, s->v, vec_len, cur, end);
            return n == -EPERM ? ww__mark_stale(w) : (int)n;
        }
        *found += (size_t)n;
        for (long i = 0; !ww__sink_page_mode(sink) && i < n; i++) {
            uintptr_t rs = s->v[i].start < cur ? cur : s->v[i].start;
            uintptr_t re = s->v[i].end > end ? end : s->v[i].end;
            if (rs < re)
                ww__sink_put(sink, rs, re);
        }
        if (walk_end >= end)
            break;
        if (walk_end <= cur)        /* no progress: never for anonymous */
            return -EIO;            /* memory, but never loop forever */
        cur = walk_end;
        if ((size_t)n == s->len)
            vec_grow(u, s);
    }
    return 0;
}

static int uffd_get(void *priv, struct ww__watch *w, uintptr_t start,
                    uintptr_t end, int reset, struct ww__sink *sink)
{
    struct uffd_tracker *u = priv;
    struct page_region stack[SCAN_CHUNK];
    struct scan_vec s = { stack, SCAN_CHUNK, SCAN_CHUNK, NULL, 0 };
    size_t found = 0;
    int r;

    /* The owner starts on the grown vector when the last get found more
     * than SCAN_CHUNK regions, else on the small one (cheaper for the
     * kernel, see SCAN_CHUNK), moving over when a scan fills it. */
    if (!atomic_flag_test_and_set_explicit(&u->vec_busy,
                                           memory_order_acquire)) {
        s.shared = 1;
        if (u->vec && u->last_found > SCAN_CHUNK)
            vec_switch(&s, u->vec, u->vec_len, &u->vec_dirty);
        else
            vec_switch(&s, u->small, SCAN_CHUNK, &u->small_dirty);
    }
    r = get_scan(u, &s, w, start, end, reset, sink, &found);
    if (s.shared) {
        *s.home = s.dirty;
        u->last_found = found;
        atomic_flag_clear_explicit(&u->vec_busy, memory_order_release);
    }
    return r;
}

/*
 * reset and mark_written: change [start, end) with fn.  A hole, found
 * first, makes the watch stale; so does the error (gone) by which fn
 * says a VMA is no longer registered with a userfaultfd: a mapping put
 * over the watch.
 */
static int change_range(void *priv, struct ww__watch *w, uintptr_t start,
                        uintptr_t end,
                        int (*fn)(const struct uffd_tracker *u,
                                  uintptr_t start, uintptr_t end),
                        int gone)
{
    int r = ww__range_mapped(start, end) < 0 ? gone : fn(priv, start, end);

    return r == gone ? ww__mark_stale(w) : r;
}

static int uffd_reset(void *priv, struct ww__watch *w, uintptr_t start,
                      uintptr_t end)
{
    return change_range(priv, w, start, end, arm_range, -EPERM);
}

static int uffd_mark_written(void *priv, struct ww__watch *w, uintptr_t start,
                             uintptr_t end)
{
    return change_range(priv, w, start, end, unprotect_range, -ENOENT);
}

/* Undo of a failed RESET: clearing the write-protect bits is what a
 * write does.  A page that is gone is stale anyway. */
static void uffd_unreset(void *priv, struct ww__watch *w, uintptr_t start,
                         uintptr_t end)
{
    struct uffd_tracker *u = priv;

    (void)w;
    (void)unprotect_range(u, start, end);
}

/* The kernel keeps each page's uffd-wp bit across mprotect(2), and never
 * makes a write-protected page writable: the write state stays as it is,
 * and a write the protection forbids is a plain fault. */
static int uffd_protect(void *priv, struct ww__watch *w, uintptr_t start,
                        uintptr_t end, int prot)
{
    struct uffd_tracker *u = priv;
    int r;

    /* A mapping put over the watch must not get the caller's protection
     * as if it were watched memory: it makes the watch stale. */
    if (ww__range_mapped(start, end) < 0)
        return ww__mark_stale(w);
    r = check_registered(u->pagemap, start, end);
    if (r < 0)
        return r == -EPERM ? ww__mark_stale(w) : r;
    if (mprotect((void *)start, end - start, prot) == 0)
        return 0;
    r = -errno;
    return ww__range_mapped(start, end) < 0 ? ww__mark_stale(w) : r;
}

const struct ww__backend_ops ww__uffd_ops = {
    .id = WW_BACKEND_UFFD,
    .name = "uffd",
    .open = uffd_open,
    .close = uffd_close,
    .watch = uffd_watch,
    .owns = uffd_owns,
    .check = uffd_check,
    .disarm = uffd_disarm,
    .free_watch = uffd_free_watch,
    .get = uffd_get,
    .reset = uffd_reset,
    .mark_written = uffd_mark_written,
    .unreset = uffd_unreset,
    .protect = uffd_protect,
};
