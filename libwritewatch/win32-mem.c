/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * win32-mem.c - the Win32 layer's memory: an allocation table in the
 * manner of Windows' address descriptors, and the NT-level operations on
 * it (reserve, commit, decommit, release, protect, write-watch queries).
 * Owns the Win32 layer's allocation table and its one tracker.
 *
 * Every allocation is one private anonymous mapping, reserved PROT_NONE.
 * The table keeps one byte per page: 0 while the page is only reserved,
 * else the Windows protection it is committed with.  A byte per page is
 * what Wine keeps too.  It costs address space in proportion to the
 * reservation but memory only where pages are committed: a large calloc
 * is fresh zero pages, and set_state() writes only the bytes that change.
 *
 * Write watching.  A MEM_WRITE_WATCH allocation is one sparse watch
 * (WW_WATCH_SPARSE) of the layer's one tracker, from reservation to release, so
 * that it costs what is committed, not what is reserved: a page is armed
 * (active) from its first commit on, and queries scan active pages only.
 * Reserved pages cannot be written and are never reported; nor are they
 * scanned, where a kernel may read an untouched hole as written (6.18,
 * 40de8160ca7f).  Decommit keeps each page's write state, as Windows
 * does: a page written before stays reported until reset, through a
 * recommit too.  It frees the pages with MADV_DONTNEED, which makes the
 * kernel read every freed page as written (tests/test_kernel.c,
 * test_madvise_dontneed_and_free), so the pages that were clean become
 * dormant and the written ones stay active.  MEM_RESET frees contents
 * lazily (MADV_FREE), which keeps every page's write state as it is.
 *
 * Protections.  Pages of a watched allocation change protection only
 * through ww_protect(), which keeps each page's write state on every
 * backend: the mprotect backend tracks writes *with* protections and must
 * know which writes Windows allows (a write to a PAGE_READONLY page is an
 * access violation, not a tracked write).  Unwatched allocations use
 * mprotect(2) itself.
 *
 * Locking: one rwlock over the table.  Memory operations take it
 * exclusive; write-watch queries take it shared, so a query never sees an
 * allocation half-decommitted or released while queries still run
 * concurrently with each other.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>

#include "alloc.h"
#include "internal.h"
#include "win32-mem.h"

#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE 0x100000
#endif

/* Linux 5.18 (9457056ac426): MADV_DONTNEED for locked memory too. */
#ifndef MADV_DONTNEED_LOCKED
#define MADV_DONTNEED_LOCKED 24
#endif

/* Windows reserves address space in 64 KiB units, and programs rely on
 * allocation bases being aligned to it. */
#define GRANULARITY ((uintptr_t)0x10000)

#define SUPPORTED_TYPES (MEM_COMMIT | MEM_RESERVE | MEM_WRITE_WATCH | \
                         MEM_TOP_DOWN)

struct region {
    uintptr_t base, end;        /* the reservation, page-aligned */
    int watched;                /* MEM_WRITE_WATCH */
    unsigned char state[];      /* per page: 0 = reserved, else PAGE_* */
};

static struct {
    pthread_rwlock_t lock;
    struct region **v;          /* sorted by base, never overlapping */
    size_t n, cap;
} table = { .lock = PTHREAD_RWLOCK_INITIALIZER };

/* --- the tracker ---------------------------------------------------------- */
static pthread_once_t tracker_once = PTHREAD_ONCE_INIT;
static ww_tracker *tracker;
static int tracker_error;

static void open_tracker(void)
{
    tracker_error = ww_tracker_open(&tracker, WW_BACKEND_AUTO, 0);
}

/* The process-wide tracker, opened on first use (a failure is final, like
 * the native library's backend probes); 0 or the open error. */
static int get_tracker(ww_tracker **t)
{
    pthread_once(&tracker_once, open_tracker);
    *t = tracker;
    return tracker_error;
}

ww_tracker *ww_win32_tracker(void)
{
    ww_tracker *t;

    return get_tracker(&t) == 0 ? t : NULL;
}

/* --- pages and protections ---------------------------------------------- */
static uintptr_t page_mask(void)
{
    return (uintptr_t)ww__page_size() - 1;
}

/* The pages [*start, *end) touched by [addr, addr+size); -1 if size is 0
 * or the range wraps. */
static int page_range(uintptr_t addr, SIZE_T size, uintptr_t *start,
                      uintptr_t *end)
{
    uintptr_t mask = page_mask();

    if (size == 0 || addr > UINTPTR_MAX - size ||
        addr + size > UINTPTR_MAX - mask)
        return -1;
    *start = addr & ~mask;
    *end = (addr + size + mask) & ~mask;
    return 0;
}

static int valid_protection(ULONG protect)
{
    switch (protect) {
    case PAGE_NOACCESS:
    case PAGE_READONLY:
    case PAGE_READWRITE:
    case PAGE_EXECUTE:
    case PAGE_EXECUTE_READ:
    case PAGE_EXECUTE_READWRITE:
        return 1;
    }
    return 0;
}

/* The mprotect(2) flags of a page state (0 = reserved: no access). */
static int unix_protection(unsigned protect)
{
    switch (protect) {
    case PAGE_READONLY: return PROT_READ;
    case PAGE_READWRITE: return PROT_READ | PROT_WRITE;
    case PAGE_EXECUTE: return PROT_EXEC;
    case PAGE_EXECUTE_READ: return PROT_READ | PROT_EXEC;
    case PAGE_EXECUTE_READWRITE: return PROT_READ | PROT_WRITE | PROT_EXEC;
    }
    return PROT_NONE;
}

static size_t page_index(const struct region *r, uintptr_t addr)
{
    return (addr - r->base) / ww__page_size();
}

/* Set the state of pages [start, end), writing only the bytes that change
 * so that the state array of a huge reservation stays unpopulated. */
static void set_state(struct region *r, uintptr_t start, uintptr_t end,
                      unsigned char state)
{
    unsigned char *p = r->state + page_index(r, start);
    unsigned char *e = r->state + page_index(r, end);

    for (; p < e; p++)
        if (*p != state)
            *p = state;
}

static int all_committed(const struct region *r, uintptr_t start,
                         uintptr_t end)
{
    const unsigned char *p = r->state + page_index(r, start);
    const unsigned char *e = r->state + page_index(r, end);

    for (; p < e; p++)
        if (*p == 0)
            return 0;
    return 1;
}

/* --- the table ---------------------------------------------------------- */

static uintptr_t region_end(const void *v, size_t i)
{
    return ((struct region *const *)v)[i]->end;
}

/* Index of the first region whose end is above addr (table.n if none). */
static size_t first_ending_after(uintptr_t addr)
{
    return ww__first_ending_after(table.v, table.n, addr, region_end);
}

/* The region containing addr, or NULL. */
static struct region *find_containing(uintptr_t addr)
{
    size_t i = first_ending_after(addr);

    return i < table.n && table.v[i]->base <= addr ? table.v[i] : NULL;
}

/* The region containing all of [start, end), or NULL. */
static struct region *find_region(uintptr_t start, uintptr_t end)
{
    struct region *r = find_containing(start);

    return r && end <= r->end ? r : NULL;
}

/* Room for one more region, so that the insert after a successful mmap
 * cannot fail. */
static int table_reserve(void)
{
    struct region **v = ww__array_grow(table.v, table.n, &table.cap,
                                       sizeof(*v));

    if (!v)
        return -ENOMEM;
    table.v = v;
    return 0;
}

static void table_insert(struct region *r)
{
    size_t i = first_ending_after(r->base);

    ww__array_open_gap(table.v, table.n, i, sizeof(*table.v));
    table.v[i] = r;
    table.n++;
}

static void table_remove(struct region *r)
{
    size_t i = first_ending_after(r->base);

    ww__array_close_gap(table.v, table.n, i, sizeof(*table.v));
    table.n--;
}

/* --- protections ---------------------------------------------------------- */

/* mprotect(2) for the pages [start, end) of r: through the tracker if r is
 * watched, so that write states survive it.  0 or -errno. */
static int set_protection(const struct region *r, uintptr_t start,
                          uintptr_t end, int prot)
{
    ww_tracker *t;
    int err;

    if (r->watched) {
        err = get_tracker(&t);
        if (err == 0)
            err = ww_protect(t, (void *)start, end - start, prot);
        /* A fork child's watches are gone (the tracker refuses it): the
         * memory is the child's own, with nothing left to keep. */
        if (err != -ECHILD)
            return err;
    }
    return mprotect((void *)start, end - start, prot) == 0 ? 0 : -errno;
}

/* After a failed change of protection of [start, end) of r: give each
 * page back the protection its state records.  mprotect(2) changes a
 * range VMA by VMA and can fail (ENOMEM at vm.max_map_count) at a split
 * of the last one after it changed the first ones; a failed Windows call
 * changes nothing.  Best effort: putting back what was changed needs no
 * more VMAs than the failed call left. */
static void restore_protection(struct region *r, uintptr_t start,
                               uintptr_t end)
{
    uintptr_t page = ww__page_size();

    while (start < end) {
        unsigned char state = r->state[page_index(r, start)];
        uintptr_t run = start + page;

        while (run < end && r->state[page_index(r, run)] == state)
            run += page;
        (void)set_protection(r, start, run, unix_protection(state));
        start = run;
    }
}

/* Give pages [start, end) of r the protection prot, and on failure the
 * ones their state records. */
static int change_protection(struct region *r, uintptr_t start, uintptr_t end,
                             int prot)
{
    int err = set_protection(r, start, end, prot);

    if (err < 0)
        restore_protection(r, start, end);
    return err;
}

/* Give committed pages [start, end) of r the Windows protection protect. */
static int apply_protection(struct region *r, uintptr_t start, uintptr_t end,
                            ULONG protect)
{
    int err = change_protection(r, start, end, unix_protection(protect));

    if (err == 0)
        set_state(r, start, end, (unsigned char)protect);
    return err;
}

/* --- reserve, decommit, release ------------------------------------------ */

/* Free the contents of [start, end): the pages read as zero afterwards.
 * The kernel refuses MADV_DONTNEED (EINVAL) on memory the program locked
 * (mlock(2), or everything with mlockall(MCL_FUTURE)); Windows frees
 * what it decommits all the same, and so does MADV_DONTNEED_LOCKED, which
 * keeps the pages locked (the same zap: freed pages read as written to
 * the kernel there too).  0 or -errno. */
static int free_pages(uintptr_t start, uintptr_t end)
{
    void *p = (void *)start;

    if (madvise(p, end - start, MADV_DONTNEED) == 0 ||
        (errno == EINVAL && madvise(p, end - start, MADV_DONTNEED_LOCKED) == 0))
        return 0;
    return -errno;
}

/* mmap len bytes PROT_NONE at exactly `at`, or, for at == 0, anywhere
 * GRANULARITY-aligned (over-map, then trim). */
static int map_reserved(uintptr_t at, size_t len, uintptr_t *out)
{
    int flags = MAP_PRIVATE | MAP_ANONYMOUS;
    uintptr_t p, base;
    void *m;

    if (at) {
        m = mmap((void *)at, len, PROT_NONE, flags | MAP_FIXED_NOREPLACE,
                 -1, 0);
        if (m == MAP_FAILED)
            return -errno;
        /* Kernels before 4.17 take the address as a mere hint. */
        if ((uintptr_t)m != at) {
            munmap(m, len);
            return -EEXIST;
        }
        *out = at;
        return 0;
    }
    if (len > SIZE_MAX - GRANULARITY)
        return -ENOMEM;
    m = mmap(NULL, len + GRANULARITY, PROT_NONE, flags, -1, 0);
    if (m == MAP_FAILED)
        return -errno;
    p = (uintptr_t)m;
    base = (p + GRANULARITY - 1) & ~(GRANULARITY - 1);
    if (base > p)
        munmap(m, base - p);
    munmap((void *)(base + len), p + GRANULARITY - base);
    *out = base;
    return 0;
}

/* Reserve [want rounded down to GRANULARITY, want+size rounded up to a
 * page), or size bytes anywhere for want == 0, and add it to the table. */
static NTSTATUS reserve(uintptr_t want, SIZE_T size, int watch,
                        struct region **out)
{
    uintptr_t start = 0, end, base = 0;
    struct region *r;
    ww_tracker *t;
    size_t len;
    int err;

    if (page_range(want, size, &start, &end) < 0)
        return STATUS_INVALID_PARAMETER;
    if (want)
        start = want & ~(GRANULARITY - 1);
    len = end - start;
    /* Map first: the address asked for must not be taken by our own
     * allocations below, and an impossible size fails here, not in a
     * (sanitizer) allocator. */
    err = map_reserved(start, len, &base);
    if (err < 0)
        return err == -EEXIST ? STATUS_CONFLICTING_ADDRESSES
                              : ww__status_from_errno(err);
    r = ww__calloc(1, sizeof(*r) + len / ww__page_size());
    if (!r || table_reserve() < 0) {
        munmap((void *)base, len);
        free(r);
        return STATUS_NO_MEMORY;
    }
    r->base = base;
    r->end = base + len;
    r->watched = watch;
    if (watch) {
        err = get_tracker(&t);
        if (err == 0)
            err = ww_watch(t, (void *)base, len, WW_WATCH_SPARSE);
        if (err < 0) {
            munmap((void *)base, len);
            free(r);
            return ww__status_from_errno(err);
        }
    }
    table_insert(r);
    *out = r;
    return STATUS_SUCCESS;
}

/* Pages of [start, end) of a watched region become active (armed clean
 * where they were dormant; active pages keep their state), before they
 * are committed.  A fork child's watches are gone: nothing to arm. */
static int activate(const struct region *r, uintptr_t start, uintptr_t end)
{
    ww_tracker *t;
    int err;

    if (!r->watched)
        return 0;
    err = get_tracker(&t);
    if (err == 0)
        err = ww__activate(t, (void *)start, end - start);
    return err == -ECHILD ? 0 : err;
}

/* Free the contents of pages [start, end) of a watched region being
 * decommitted (no access: nothing writes them meanwhile), keeping each
 * page's write state: the kernel reads freed pages as written, so the
 * pages that were clean are made dormant and the written ones marked
 * again.  In bounded steps: each finds up to DROP_RUNS written runs in a
 * window, then frees up to the end of the last one (or of the window).
 * A query costs what its range covers, not what it finds (the mprotect
 * backend checks all of it), so the window is twice what the step before
 * got through: asking about the whole rest each time made a decommit of
 * many written runs quadratic.  0 or -errno (then the caller frees what
 * is left without a watch to keep). */
#define DROP_RUNS 64

static int drop_watched(uintptr_t start, uintptr_t end)
{
    struct ww_range runs[DROP_RUNS];
    uintptr_t cur = start, min_window = 2 * DROP_RUNS * ww__page_size();
    uintptr_t window = min_window;
    ww_tracker *t;
    int err = get_tracker(&t);

    while (err == 0 && cur < end) {
        size_t n = DROP_RUNS;
        uintptr_t seg_end, gap = cur;
        uintptr_t query_end = end - cur > window ? cur + window : end;

        err = ww_get_ranges(t, (void *)cur, query_end - cur, 0, runs, &n);
        if (err < 0)
            break;
        seg_end = n == DROP_RUNS ? (uintptr_t)runs[n - 1].addr +
                                       runs[n - 1].len
                                 : query_end;
        window = seg_end - cur > UINTPTR_MAX / 4 ? seg_end - cur
                                                 : 2 * (seg_end - cur);
        if (window < min_window)
            window = min_window;
        err = free_pages(cur, seg_end);
        if (err < 0)
            return err;
        /* A whole freed page table reads as clean on kernels without
         * 40de8160ca7f (README, "What the kernel cannot see"): the written
         * runs are marked again. */
        for (size_t i = 0; err == 0 && i <= n; i++) {
            uintptr_t next = i < n ? (uintptr_t)runs[i].addr : seg_end;

            if (next > gap)
                err = ww__deactivate(t, (void *)gap, next - gap);
            if (err == 0 && i < n)
                err = ww_mark_written(t, runs[i].addr, runs[i].len);
            if (i < n)
                gap = (uintptr_t)runs[i].addr + runs[i].len;
        }
        cur = seg_end;
    }
    return cur < end ? err : 0;
}

/* Free the contents of [start, end) of r, keeping write states where r
 * is watched.  Without a watch to keep (or in a fork child, whose
 * watches are gone), or when keeping it failed (write states are then
 * over- rather than under-reported): plain freeing.  Freed pages read as
 * zero afterwards. */
static NTSTATUS drop_contents(struct region *r, uintptr_t start,
                              uintptr_t end)
{
    int err = r->watched ? drop_watched(start, end) : -ENOENT;

    if (err < 0)
        err = free_pages(start, end);
    return err < 0 ? ww__status_from_errno(err) : STATUS_SUCCESS;
}

static NTSTATUS decommit(struct region *r, uintptr_t start, uintptr_t end)
{
    int err;

    /* No access first: a write racing with the decommit faults, as on
     * Windows, instead of slipping in between finding the written pages
     * and freeing them. */
    err = change_protection(r, start, end, PROT_NONE);
    if (err < 0)
        return ww__status_from_errno(err);
    set_state(r, start, end, 0);
    /* Freed pages read as zero when committed again, as on Windows. */
    return drop_contents(r, start, end);
}

/* MADV_FREE: the kernel frees the pages when it needs memory, unless
 * they are written first, which keeps what was written, as on Windows.
 * It leaves every page's write state as it is on both backends (uffd:
 * the page keeps its write-protect bit until reclaimed, after which it
 * reads as written: more pages reported, none lost).  Nothing else is
 * done, so a write racing with it is never cleared: finding the written
 * pages, freeing at once and re-arming the clean ones (what MEM_RESET
 * did before) lost writes landing in between (test_win32:
 * test_mem_reset_while_writing).  The kernel refuses MADV_FREE for
 * memory the program locked (EINVAL): those pages are left as they are,
 * for they are never written to the paging file, the one thing MEM_RESET
 * asks to spare. */
static int free_lazily(uintptr_t start, uintptr_t end)
{
    if (madvise((void *)start, end - start, MADV_FREE) == 0 ||
        errno == EINVAL)
        return 0;
    return -errno;
}

/* VirtualAlloc(MEM_RESET): the contents of [want, want+size) are no
 * longer needed; protections and write states stay, as in Wine. */
static NTSTATUS reset_contents(void **address, SIZE_T size, ULONG protect)
{
    uintptr_t start, end;
    struct region *r;
    NTSTATUS status;
    int err;

    if (!valid_protection(protect) ||
        page_range((uintptr_t)*address, size, &start, &end) < 0)
        return STATUS_INVALID_PARAMETER;
    pthread_rwlock_wrlock(&table.lock);
    r = find_region(start, end);
    if (!r)
        status = STATUS_MEMORY_NOT_ALLOCATED;
    else if ((err = free_lazily(start, end)) < 0)
        status = ww__status_from_errno(err);
    else
        status = STATUS_SUCCESS;
    pthread_rwlock_unlock(&table.lock);
    if (status == STATUS_SUCCESS)
        *address = (void *)start;
    return status;
}

static void release(struct region *r)
{
    ww_tracker *t;

    /* Unwatch before unmapping, or the watch would turn stale.  It can
     * fail only in a fork child, where the parent's watch is not this
     * process's to remove. */
    if (r->watched && get_tracker(&t) == 0)
        (void)ww_unwatch(t, (void *)r->base, r->end - r->base);
    munmap((void *)r->base, r->end - r->base);
    table_remove(r);
    free(r);
}

/* --- the NT-level operations --------------------------------------------- */
NTSTATUS ww__vm_allocate(void **address, SIZE_T size, ULONG type,
                         ULONG protect)
{
    uintptr_t want = (uintptr_t)*address, start = 0, end = 0;
    struct region *r = NULL;
    NTSTATUS status = STATUS_SUCCESS;
    int fresh = (type & MEM_RESERVE) || !want;

    if (type == MEM_RESET)
        return size && want ? reset_contents(address, size, protect)
                            : STATUS_INVALID_PARAMETER;
    if (size == 0 || (type & ~SUPPORTED_TYPES) ||
        !(type & (MEM_COMMIT | MEM_RESERVE)) ||
        ((type & MEM_WRITE_WATCH) && !(type & MEM_RESERVE)) ||
        !valid_protection(protect))
        return STATUS_INVALID_PARAMETER;

    pthread_rwlock_wrlock(&table.lock);
    if (fresh) {
        status = reserve(want, size, (type & MEM_WRITE_WATCH) != 0, &r);
        if (status == STATUS_SUCCESS) {
            start = r->base;
            end = r->end;
        }
    } else if (page_range(want, size, &start, &end) < 0) {
        status = STATUS_INVALID_PARAMETER;
    } else if (!(r = find_region(start, end))) {
        status = STATUS_MEMORY_NOT_ALLOCATED;
    }
    if (status == STATUS_SUCCESS && (type & MEM_COMMIT)) {
        int err = activate(r, start, end);

        if (err == 0)
            err = apply_protection(r, start, end, protect);

        if (err < 0) {
            status = ww__status_from_errno(err);
            if (fresh)
                release(r);
        }
    }
    pthread_rwlock_unlock(&table.lock);
    if (status == STATUS_SUCCESS)
        *address = (void *)start;
    return status;
}

NTSTATUS ww__vm_free(void *address, SIZE_T size, ULONG type)
{
    uintptr_t addr = (uintptr_t)address, start, end;
    struct region *r;
    NTSTATUS status;

    if ((type != MEM_DECOMMIT && type != MEM_RELEASE) ||
        (type == MEM_RELEASE && size != 0))
        return STATUS_INVALID_PARAMETER;

    pthread_rwlock_wrlock(&table.lock);
    r = find_containing(addr);
    if (!r) {
        status = STATUS_MEMORY_NOT_ALLOCATED;
    } else if (size == 0) {
        if (addr != r->base) {
            status = STATUS_FREE_VM_NOT_AT_BASE;
        } else if (type == MEM_RELEASE) {
            release(r);
            status = STATUS_SUCCESS;
        } else {
            status = decommit(r, r->base, r->end);
        }
    } else if (page_range(addr, size, &start, &end) < 0 || end > r->end) {
        status = STATUS_UNABLE_TO_FREE_VM;
    } else {
        status = decommit(r, start, end);
    }
    pthread_rwlock_unlock(&table.lock);
    return status;
}

NTSTATUS ww__vm_protect(void *address, SIZE_T size, ULONG protect,
                        ULONG *old)
{
    uintptr_t start, end;
    struct region *r;
    NTSTATUS status = STATUS_SUCCESS;

    if (!valid_protection(protect) ||
        page_range((uintptr_t)address, size, &start, &end) < 0)
        return STATUS_INVALID_PARAMETER;

    pthread_rwlock_wrlock(&table.lock);
    r = find_containing(start);
    if (!r) {
        status = STATUS_MEMORY_NOT_ALLOCATED;
    } else if (end > r->end || !all_committed(r, start, end)) {
        status = STATUS_NOT_COMMITTED;
    } else {
        ULONG previous = r->state[page_index(r, start)];
        int err = apply_protection(r, start, end, protect);

        if (err < 0)
            status = ww__status_from_errno(err);
        else
            *old = previous;
    }
    pthread_rwlock_unlock(&table.lock);
    return status;
}

/* [base, base+size) widened to pages, inside one watched region, with the
 * table lock held shared on success; -ENOENT (lock released) if not. */
static int lock_watched(void *base, SIZE_T size, uintptr_t *start,
                         uintptr_t *end)
{
    struct region *r;

    if (page_range((uintptr_t)base, size, start, end) < 0)
        return -ENOENT;
    pthread_rwlock_rdlock(&table.lock);
    r = find_region(*start, *end);
    if (!r || !r->watched) {
        pthread_rwlock_unlock(&table.lock);
        return -ENOENT;
    }
    return 0;
}

NTSTATUS ww__vm_get_write_watch(int reset, void *base, SIZE_T size,
                                void **addresses, ULONG_PTR *count)
{
    uintptr_t start, end;
    ww_tracker *t;
    size_t n = *count;
    int err = lock_watched(base, size, &start, &end);

    if (err < 0)
        return ww__status_from_errno(err);
    err = get_tracker(&t);
    if (err == 0)
        err = ww_get(t, (void *)start, end - start, reset ? WW_GET_RESET : 0,
                     addresses, &n);
    pthread_rwlock_unlock(&table.lock);
    if (err == 0)
        *count = n;
    return ww__status_from_errno(err);
}

NTSTATUS ww__vm_reset_write_watch(void *base, SIZE_T size)
{
    uintptr_t start, end;
    ww_tracker *t;
    int err = lock_watched(base, size, &start, &end);

    if (err < 0)
        return ww__status_from_errno(err);
    err = get_tracker(&t);
    if (err == 0)
        err = ww_reset(t, (void *)start, end - start);
    pthread_rwlock_unlock(&table.lock);
    return ww__status_from_errno(err);
}
