/*
 * vma.c - is a range private anonymous memory, and how is it protected?
 * Asked once per watch.
 *
 * Linux >= 6.11 answers per VMA through the PROCMAP_QUERY ioctl on
 * /proc/self/maps; older kernels get the same answer by reading that file.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "backend.h"
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

int ww__check_private_anonymous(uintptr_t start, uintptr_t end)
{
    return ww__vma_walk(start, end, NULL, NULL);
}
