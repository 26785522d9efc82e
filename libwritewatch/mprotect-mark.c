/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * mprotect-mark.c - which memory is the mprotect backend's own, and which
 * process is.
 * Owns the sentinel userfaultfd, the marks, the fork canary pages and
 * ww__mp_vma_at (one VMA from /proc/self/maps); no other file registers
 * memory with the sentinel.
 *
 * Anonymous memory has no identity a process can see: a mapping put where
 * a watch was (munmap + mmap, mmap MAP_FIXED) looks like the one the
 * backend armed, protection and all.  So the backend marks what it arms:
 * every watch is registered with one process-wide "sentinel" userfaultfd
 * (write-protect mode, no features) that never write-protects a page.
 * Registration changes no fault and costs nothing measurable per write (a
 * write only reaches a userfaultfd through a PTE carrying the uffd-wp bit,
 * and nothing sets one), and the kernel drops it with the mapping: munmap,
 * mmap MAP_FIXED, mremap moving it, and fork (without
 * UFFD_FEATURE_EVENT_FORK the child's copy is unregistered).  Memory is
 * the backend's while its VMA is registered.
 *
 * The question is put with UFFDIO_CONTINUE, which on private anonymous
 * memory changes nothing: ENOENT if [start, end) is not inside one VMA
 * registered with a userfaultfd, EINVAL if it is (CONTINUE is for shmem
 * and hugetlb).  One system call, async-signal-safe, so the SIGSEGV
 * handler can ask before it resolves a fault (~0.9 us here, against ~6 us
 * for the fault).  UFFDIO_WRITEPROTECT with mode 0 would answer too, but
 * it rewrites every PTE of the range, skips holes, and would un-protect
 * pages another userfaultfd protected.  No features: with WP_ASYNC the
 * uffd backend's PM_SCAN_CHECK_WPASYNC would take our VMAs for its own
 * (measured on 6.18).
 *
 * Limits.  The kernel does not say *which* userfaultfd registered a VMA:
 * a mapping put in place of a watch and registered by another userfaultfd
 * of the process passes for ours.  Before Linux 6.16 (where UNREGISTER
 * through another userfaultfd fails), another userfaultfd could also
 * unregister our VMAs, which then look lost.  A sentinel that stops
 * answering (the program closed its descriptor or dup2()ed over it) is
 * noticed through two canary pages: one registered, which must look
 * marked, one not, which must not (another file at the same number, a
 * userfaultfd of the program's, says otherwise for one of them).  From
 * then on the marks cannot tell, and the backend does without them, as it
 * does where
 * userfaultfd is missing or denied (seccomp) and on kernels before 5.13
 * (no UFFDIO_CONTINUE).  Unregistering at unwatch walks the range's page
 * tables: ~84 ms per populated GiB here, against ~65 ms for the mprotect
 * that gives the memory its protection back.
 *
 * The canary pages are also MADV_WIPEONFORK: they read as zero in any
 * fork child, raw system call or not, which tells one with a single load
 * where getpid() would cost a system call on every fault.  A zero is
 * checked against the owner (its witness, internal.h) before
 * the watches are let go: a program may have discarded the page itself.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdatomic.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "internal.h"
#include "kernel-uapi.h"
#include "mprotect.h"

#ifndef MADV_WIPEONFORK
#define MADV_WIPEONFORK 18
#endif
#ifndef PROCMAP_QUERY_COVERING_OR_NEXT_VMA
#define PROCMAP_QUERY_COVERING_OR_NEXT_VMA 0x10
#endif

static atomic_int sentinel = -1;        /* the userfaultfd, or -1 */
/* A second one, for what the caller lets write, or -1 (then the sentinel
 * registers everything).  See ww__mp_mark(). */
static atomic_int sentinel_w = -1;
static atomic_int unusable;             /* the marks cannot tell, here */
static atomic_int opening;              /* a spin lock for open_sentinel() */
/* Two pages: the first registered with the sentinel, the second never;
 * byte 0 of the first is 1 here and 0 in a fork child. */
static volatile unsigned char *canary;
static int canary_wipes;                /* MADV_WIPEONFORK worked */
static struct ww__witness owner;        /* who set canary[0] */

void ww__mp_mark_init(void)
{
    size_t page = ww__page_size();
    void *p = mmap(NULL, 2 * page, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

    ww__witness_set(&owner);
    if (p == MAP_FAILED) {
        atomic_store(&unusable, 1);
        return;
    }
    canary_wipes = madvise(p, 2 * page, MADV_WIPEONFORK) == 0;
    canary = p;
    canary[0] = 1;
}

/* The canary reads zero in this same process: the program discarded it
 * (MADV_DONTNEED over memory it does not own), no fork.  Then it reads 1
 * again, and the watches are kept. */
static int canary_discarded(void)
{
    if (!ww__witness_is_self(&owner))
        return 0;
    canary[0] = 1;
    return 1;
}

int ww__mp_forked(void)
{
    long o;

    if (canary_wipes)
        return canary[0] == 0 && !canary_discarded();
    o = atomic_load(&owner.pid);
    return o != 0 && syscall(SYS_getpid) != o;
}

/* 1 if [start, end) lies inside one VMA registered with a userfaultfd, 0
 * if not, -1 if fd cannot tell. */
static int query(int fd, uintptr_t start, uintptr_t end)
{
    struct uffdio_continue c = {
        .range = { .start = start, .len = end - start },
        .mode = UFFDIO_CONTINUE_MODE_DONTWAKE,
    };

    if (ioctl(fd, UFFDIO_CONTINUE, &c) == 0)
        return 1;               /* not for anonymous memory; registered */
    if (errno == EINVAL)
        return 1;
    return errno == ENOENT ? 0 : -1;
}

/* Whether fd is still the sentinel: it knows the first canary page for
 * marked and the second for not. */
static int answers(int fd)
{
    uintptr_t c = (uintptr_t)canary;
    size_t page = ww__page_size();

    return canary && query(fd, c, c + page) == 1 &&
           query(fd, c + page, c + 2 * page) == 0;
}

static int do_register(int fd, uintptr_t start, uintptr_t end)
{
    struct uffdio_register reg = {
        .range = { .start = start, .len = end - start },
        .mode = UFFDIO_REGISTER_MODE_WP,
    };

    return ioctl(fd, UFFDIO_REGISTER, &reg) == 0 ? 0 : -errno;
}

/* A userfaultfd with the API handshake done: its fd, or -errno. */
static int new_userfaultfd(struct uffdio_api *api)
{
    /* UFFD_USER_MODE_ONLY lets an unprivileged process have one when
     * vm.unprivileged_userfaultfd = 0; kernels before 5.11 refuse it. */
    int fd = (int)syscall(SYS_userfaultfd,
                          O_CLOEXEC | O_NONBLOCK | UFFD_USER_MODE_ONLY);

    if (fd < 0 && errno == EINVAL)
        fd = (int)syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK);
    if (fd < 0)
        return -errno;
    if (ioctl(fd, UFFDIO_API, api) < 0) {
        int r = -errno;

        close(fd);
        return r;
    }
    return fd;
}

/* A userfaultfd that answers as described above, with the canary
 * registered: its fd, or -errno. */
static int new_sentinel(void)
{
    struct uffdio_api api = { .api = UFFD_API, .features = 0 };
    uintptr_t c = (uintptr_t)canary;
    int fd, r;

    if (!canary)
        return -ENOTSUP;
    fd = new_userfaultfd(&api);
    if (fd < 0)
        return fd;
    r = 0;
    /* The question must tell registered from not: a kernel without
     * UFFDIO_CONTINUE (< 5.13) answers EINVAL to everything. */
    if (r == 0)
        r = do_register(fd, c, c + ww__page_size());
    if (r == 0 && !answers(fd))
        r = -ENOTSUP;
    if (r < 0) {
        close(fd);
        return r;
    }
    return fd;
}

/* The sentinel, opened on first use: its fd, or -errno.  Running out of
 * fds or memory is no verdict: the next watch tries again. */
static int open_sentinel(void)
{
    int fd, expected = 0;

    while (!atomic_compare_exchange_weak(&opening, &expected, 1)) {
        expected = 0;
        sched_yield();
    }
    fd = atomic_load(&sentinel);
    if (fd < 0 && !atomic_load(&unusable)) {
        fd = new_sentinel();
        if (fd >= 0) {
            struct uffdio_api api = { .api = UFFD_API, .features = 0 };
            int w = new_userfaultfd(&api);

            atomic_store(&sentinel_w, w >= 0 ? w : -1);
            atomic_store(&sentinel, fd);
        }
        else if (fd != -EMFILE && fd != -ENFILE && fd != -ENOMEM)
            atomic_store(&unusable, 1);
    }
    atomic_store(&opening, 0);
    return atomic_load(&unusable) ? -ENOTSUP : fd;
}

/* The sentinel if it still answers; else the marks are done with. */
static int live_sentinel(void)
{
    int fd = atomic_load(&sentinel);

    if (fd < 0 || atomic_load(&unusable))
        return -1;
    if (!answers(fd)) {
        atomic_store(&unusable, 1);
        return -1;
    }
    return fd;
}

/*
 * Two registrations, by whether the caller lets the memory be written:
 * armed, a read-write page and a read-only one have the same protection,
 * and the kernel would merge them into one VMA, which a write to the
 * read-write page must split again -- impossible at vm.max_map_count, and
 * the program may have taken the VMAs the merge set free.  VMAs of two
 * userfaultfds never merge, so watched memory keeps the boundaries the
 * caller's protections gave it, as it would unwatched.
 */
static int class_fd(int fd, int writable)
{
    int w = atomic_load(&sentinel_w);

    return writable && w >= 0 ? w : fd;
}

int ww__mp_mark(uintptr_t start, uintptr_t end, int writable)
{
    int fd = open_sentinel();

    if (fd < 0)
        return fd;
    if (live_sentinel() < 0)
        return -ENOTSUP;
    return do_register(class_fd(fd, writable), start, end);
}

static int unregister_with(int fd, uintptr_t start, uintptr_t end)
{
    struct uffdio_range range = { .start = start, .len = end - start };

    return fd >= 0 && ioctl(fd, UFFDIO_UNREGISTER, &range) == 0 ? 0 : -1;
}

/* Since Linux 6.16 only the userfaultfd that registered a VMA may
 * unregister it: a range of both classes goes by halves. */
static void unregister_any(int fd, uintptr_t start, uintptr_t end)
{
    size_t page = ww__page_size();
    uintptr_t mid;

    if (unregister_with(fd, start, end) == 0 ||
        unregister_with(atomic_load(&sentinel_w), start, end) == 0 ||
        end - start <= page)
        return;
    mid = start + (end - start) / page / 2 * page;
    unregister_any(fd, start, mid);
    unregister_any(fd, mid, end);
}

void ww__mp_unmark(uintptr_t start, uintptr_t end)
{
    int fd = live_sentinel();

    if (fd >= 0)
        unregister_any(fd, start, end);
}

int ww__mp_remark(uintptr_t start, uintptr_t end, int writable)
{
    int fd = live_sentinel();

    if (fd < 0)
        return -ENOTSUP;
    if (atomic_load(&sentinel_w) < 0)
        return 0;                       /* one class: nothing changes */
    unregister_any(fd, start, end);
    if (do_register(class_fd(fd, writable), start, end) == 0)
        return 0;
    return do_register(class_fd(fd, !writable), start, end) == 0 ? -ENOMEM
                                                                : -ESTALE;
}

/* ww__mp_marked() on an open sentinel: halves a range that spans VMAs
 * until each half lies in one, or a page is found that is not marked. */
static int marked_by(int fd, uintptr_t start, uintptr_t end)
{
    size_t page = ww__page_size();
    int r = query(fd, start, end);

    if (r < 0) {
        atomic_store(&unusable, 1);
        return -1;
    }
    if (r == 1)
        return 1;
    if (end - start > page) {
        uintptr_t mid = start + (end - start) / page / 2 * page;

        r = marked_by(fd, start, mid);
        return r == 1 ? marked_by(fd, mid, end) : r;
    }
    /* One page that is not marked, or a sentinel that no longer knows
     * anything (closed behind our back)? */
    if (!answers(fd)) {
        atomic_store(&unusable, 1);
        return -1;
    }
    return 0;
}

int ww__mp_marked(uintptr_t start, uintptr_t end)
{
    int fd = atomic_load(&sentinel);

    if (fd < 0 || atomic_load(&unusable))
        return -1;
    return marked_by(fd, start, end);
}

int ww__mp_vma_at(int maps, uintptr_t addr, struct ww__mp_vma *v)
{
    struct procmap_query q = {
        .size = sizeof(q),
        .query_flags = PROCMAP_QUERY_COVERING_OR_NEXT_VMA,
        .query_addr = addr,
    };

    if (ioctl(maps, PROCMAP_QUERY, &q) < 0)
        return errno == EINVAL ? -ENOTTY : -errno;
    v->start = (uintptr_t)q.vma_start;
    v->end = (uintptr_t)q.vma_end;
    v->prot = ((q.vma_flags & PROCMAP_QUERY_VMA_READABLE) ? PROT_READ : 0) |
              ((q.vma_flags & PROCMAP_QUERY_VMA_WRITABLE) ? PROT_WRITE : 0) |
              ((q.vma_flags & PROCMAP_QUERY_VMA_EXECUTABLE) ? PROT_EXEC : 0);
    return 0;
}

/* ww__mp_marked_parts() without /proc: by halves. */
static int parts_by_halves(int fd, uintptr_t start, uintptr_t end,
                           ww__mp_part_fn fn, void *arg)
{
    size_t page = ww__page_size();
    uintptr_t mid;
    int r = query(fd, start, end);

    if (r < 0)
        return -1;
    if (r == 1) {
        fn(start, end, arg);
        return 0;
    }
    if (end - start == page)
        return 0;
    mid = start + (end - start) / page / 2 * page;
    r = parts_by_halves(fd, start, mid, fn, arg);
    return r < 0 ? r : parts_by_halves(fd, mid, end, fn, arg);
}

int ww__mp_marked_parts(uintptr_t start, uintptr_t end, ww__mp_part_fn fn,
                        void *arg)
{
    int fd = live_sentinel(), maps;
    uintptr_t cur = start;

    if (fd < 0)
        return -1;
    /* VMA by VMA where PROCMAP_QUERY says where they are: a big range
     * that is no longer ours costs two calls, not one per page. */
    maps = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
    while (maps >= 0 && cur < end) {
        struct ww__mp_vma v;
        uintptr_t hi;
        int r = ww__mp_vma_at(maps, cur, &v);

        if (r == -ENOENT || (r == 0 && v.start >= end))
            cur = end;                  /* nothing mapped from cur on */
        if (r < 0 || cur == end)
            break;                      /* done, or by halves */
        if (v.start > cur) {
            cur = v.start;              /* a hole */
            continue;
        }
        hi = v.end < end ? v.end : end;
        r = query(fd, cur, hi);
        if (r < 0) {
            close(maps);
            return -1;
        }
        if (r == 1)
            fn(cur, hi, arg);
        cur = hi;
    }
    if (maps >= 0)
        close(maps);
    return cur < end ? parts_by_halves(fd, cur, end, fn, arg) : 0;
}

/* A userfaultfd whose process has exited. */
static int gone_parent(int fd)
{
    struct uffdio_continue c = {
        .range = { .start = (uintptr_t)canary, .len = ww__page_size() },
        .mode = UFFDIO_CONTINUE_MODE_DONTWAKE,
    };

    return canary && ioctl(fd, UFFDIO_CONTINUE, &c) < 0 && errno == ESRCH;
}

void ww__mp_adopt(void)
{
    int fd = atomic_load(&sentinel);

    /* The parent's sentinel, inherited: its questions go to the parent's
     * memory, where the canaries are as they were (or ESRCH once the
     * parent is gone).  Closed only if it is still that, not a descriptor
     * the child has put at the same number since. */
    if (fd >= 0 && (answers(fd) || gone_parent(fd))) {
        close(fd);
        if (atomic_load(&sentinel_w) >= 0)
            close(atomic_load(&sentinel_w));
    }
    atomic_store(&sentinel, -1);
    atomic_store(&sentinel_w, -1);
    atomic_store(&unusable, canary == NULL);
    atomic_store(&opening, 0);
    ww__witness_set(&owner);
    if (canary)
        canary[0] = 1;
}
