/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * vma.c - is a range private anonymous memory, and how is it protected?
 * Asked once per watch.
 * Owns the per-watch questions to /proc (PROCMAP_QUERY, maps, smaps); the
 * mprotect backend's single-VMA look-up is mprotect-mark.c's.
 *
 * Linux >= 6.11 answers per VMA through the PROCMAP_QUERY ioctl on
 * /proc/self/maps; older kernels get the same answer by reading that file.
 * Neither shows whether memory is droppable: that takes /proc/self/smaps.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "alloc.h"
#include "internal.h"
#include "kernel-uapi.h"
#include "vma.h"

/* What one VMA is, as far as watching goes. */
struct vma_kind {
    int shared, readable, writable, executable;
    unsigned long long inode;
    uint64_t page_size;
};

/* The verdict on one VMA: 0 if it can be watched, else -ENOTSUP. */
static int judge(const struct vma_kind *k)
{
    if (k->shared || k->inode != 0 || k->page_size != ww__page_size())
        return -ENOTSUP;
    return 0;
}

/* Judge one VMA, then report its share [lo, hi) of the walk to fn. */
static int visit(const struct vma_kind *k, uintptr_t lo, uintptr_t hi,
                 ww__vma_fn fn, void *arg)
{
    struct ww__vma v = { .start = lo, .end = hi };
    int r = judge(k);

    if (r < 0 || !fn)
        return r;
    v.prot = (k->readable ? PROT_READ : 0) | (k->writable ? PROT_WRITE : 0) |
             (k->executable ? PROT_EXEC : 0);
    return fn(&v, arg);
}

/* walk_by_query()'s answer when the kernel lacks the ioctl: positive, so
 * that it cannot be confused with an error of fn's. */
#define NO_QUERY 1

/* Walk the VMAs covering [start, end) with PROCMAP_QUERY, which finds the
 * VMA containing an address (ENOENT: a hole). */
static int walk_by_query(int fd, uintptr_t start, uintptr_t end,
                         ww__vma_fn fn, void *arg)
{
    uintptr_t cur = start;

    while (cur < end) {
        struct procmap_query q = {
            .size = sizeof(q),
            .query_addr = cur,
        };
        struct vma_kind k;
        uintptr_t hi;
        int r;

        if (ioctl(fd, PROCMAP_QUERY, &q) < 0) {
            if (cur == start && (errno == ENOTTY || errno == EINVAL))
                return NO_QUERY;
            return errno == ENOENT ? -EFAULT : -errno;
        }
        k.shared = (q.vma_flags & PROCMAP_QUERY_VMA_SHARED) != 0;
        k.readable = (q.vma_flags & PROCMAP_QUERY_VMA_READABLE) != 0;
        k.writable = (q.vma_flags & PROCMAP_QUERY_VMA_WRITABLE) != 0;
        k.executable = (q.vma_flags & PROCMAP_QUERY_VMA_EXECUTABLE) != 0;
        k.inode = q.inode;
        k.page_size = q.vma_page_size;
        hi = q.vma_end < end ? q.vma_end : end;
        r = visit(&k, cur, hi, fn, arg);
        if (r != 0)
            return r;
        cur = hi;
    }
    return 0;
}

/* The same from the text of /proc/self/maps (sorted by address).  Without
 * a page size column, hugetlb shows up as a nonzero inode (hugetlbfs). */
static int walk_by_text(int fd, uintptr_t start, uintptr_t end,
                        ww__vma_fn fn, void *arg)
{
    FILE *f = fdopen(dup(fd), "r");
    char line[512];
    uintptr_t cur = start;
    int r = 0;

    if (!f)
        return -errno;
    while (r == 0 && cur < end && fgets(line, sizeof(line), f)) {
        unsigned long lo, hi;
        struct vma_kind k = { .page_size = ww__page_size() };
        char perms[8];

        if (sscanf(line, "%lx-%lx %7s %*x %*x:%*x %llu", &lo, &hi, perms,
                   &k.inode) != 4 || hi <= cur)
            continue;
        if (lo > cur)
            break;                      /* a hole before this VMA */
        k.readable = perms[0] == 'r';
        k.writable = perms[1] == 'w';
        k.executable = perms[2] == 'x';
        k.shared = perms[3] == 's';
        if (hi > end)
            hi = end;
        r = visit(&k, cur, hi, fn, arg);
        cur = hi;
    }
    fclose(f);
    if (r == 0 && cur < end)
        r = -EFAULT;                    /* a hole, or past the last VMA */
    return r;
}

int ww__vma_walk(uintptr_t start, uintptr_t end, ww__vma_fn fn, void *arg)
{
    int fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
    int r;

    /* Without /proc the kind cannot be known; refusing everything would
     * leave the fallback backend unusable where it is needed most. */
    if (fd < 0) {
        struct ww__vma all = { start, end, WW__VMA_PROT_UNKNOWN };

        if (errno != ENOENT && errno != EACCES)
            return -errno;
        return fn ? fn(&all, arg) : 0;
    }
    r = walk_by_query(fd, start, end, fn, arg);
    if (r == NO_QUERY)
        r = walk_by_text(fd, start, end, fn, arg);
    close(fd);
    return r;
}

/* --- droppable memory -------------------------------------------------
 * MAP_DROPPABLE (Linux 6.11, 64-bit kernels; glibc's getrandom() state
 * lives there) makes a private anonymous mapping whose pages the kernel
 * may free under memory pressure without writing them anywhere: they read
 * back as zeros, and no write fault or page-table bit ever shows it.  Such
 * a VMA has VM_DROPPABLE, which PROCMAP_QUERY and /proc/self/maps do not
 * show.  System calls that would tell (MADV_KEEPONFORK and MADV_DODUMP
 * fail with EINVAL on it) change ordinary memory: they would clear a
 * program's MADV_WIPEONFORK or MADV_DONTDUMP.  So the flag is read where
 * the kernel prints it, the "dp" of VmFlags in /proc/self/smaps.  That
 * file is costly: the kernel formats every VMA and walks the page tables
 * of every one before the range (measured on a 6.18 VM: 0.1 ms for a
 * small process, plus 7-9 us per VMA and 25-60 ms per GiB of resident
 * memory below the range).  Hence only for a new watch, only on kernels that know the
 * flag, and only up to the end of the range. */

/* 1000 * major + minor of the running kernel; 0 if unknown. */
static int kernel_version(void)
{
    static atomic_int cached = -1;
    int v = atomic_load_explicit(&cached, memory_order_relaxed);

    if (v < 0) {
        struct utsname u;
        unsigned major = 0, minor = 0;

        if (uname(&u) < 0 ||
            sscanf(u.release, "%u.%u", &major, &minor) != 2)
            major = minor = 0;
        v = (int)(major * 1000 + minor);
        atomic_store_explicit(&cached, v, memory_order_relaxed);
    }
    return v;
}

/* Whether the flags of a VmFlags line (two letters each, separated by
 * spaces) include flag. */
static int has_vm_flag(const char *flags, const char *flag)
{
    for (const char *p = flags; *p; p++)
        if (p[0] == flag[0] && p[1] == flag[1] && p > flags && p[-1] == ' ' &&
            (p[2] == ' ' || p[2] == '\n' || p[2] == '\0'))
            return 1;
    return 0;
}

/* -ENOTSUP if a VMA meeting [start, end) shows "dp" in /proc/self/smaps,
 * else 0; reading stops at the first VMA past the range. */
static int scan_smaps(FILE *f, uintptr_t start, uintptr_t end)
{
    char line[256];
    int in_range = 0, line_start = 1;

    while (fgets(line, sizeof(line), f)) {
        int starts = line_start;
        unsigned long lo, hi;
        char perm;

        /* A long line (a header with a path) comes in pieces: only the
         * first piece of a line is looked at. */
        line_start = strchr(line, '\n') != NULL;
        if (!starts)
            continue;
        /* Header lines are "lo-hi perms ..."; no field name of smaps
         * parses as that ("AnonHugePages:" stops at the 'n'). */
        if (sscanf(line, "%lx-%lx %c", &lo, &hi, &perm) == 3) {
            if (lo >= end)
                break;
            in_range = hi > start;
        } else if (in_range && strncmp(line, "VmFlags:", 8) == 0 &&
                   has_vm_flag(line + 8, "dp")) {
            return -ENOTSUP;
        }
    }
    return 0;
}

int ww__check_not_droppable(uintptr_t start, uintptr_t end)
{
    int v = kernel_version();
    size_t bufsize = 64 * 1024;  /* fewer reads: 40 % less time per VMA */
    char *buf;
    FILE *f;
    int r;

    if (v != 0 && v < 6011)
        return 0;               /* no VM_DROPPABLE before Linux 6.11 */
    f = fopen("/proc/self/smaps", "re");
    if (!f)
        return errno == ENOENT || errno == EACCES ? 0 : -errno;
    buf = ww__realloc(NULL, bufsize);
    if (!buf) {
        fclose(f);
        return -ENOMEM;
    }
    setvbuf(f, buf, _IOFBF, bufsize);
    r = scan_smaps(f, start, end);
    fclose(f);
    free(buf);
    return r;
}

int ww__vma_check_private_anonymous(uintptr_t start, uintptr_t end)
{
    int r = ww__vma_walk(start, end, NULL, NULL);
    int v;

    if (r < 0)
        return r;
    /* For the uffd backend, whose UFFDIO_REGISTER refuses droppable
     * memory since Linux 6.16 (not backported): before, its check looked
     * at the wrong flags and let it through. */
    v = kernel_version();
    if (v == 0 || (v >= 6011 && v < 6016))
        return ww__check_not_droppable(start, end);
    return 0;
}
