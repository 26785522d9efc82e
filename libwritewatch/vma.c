/*
 * vma.c - is a range private anonymous memory?  Asked once per watch.
 *
 * Linux >= 6.11 answers per VMA through the PROCMAP_QUERY ioctl on
 * /proc/self/maps; older kernels get the same answer by reading that file.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
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

/* The verdict on one VMA for the part of the range it covers. */
static int judge(const struct vma_kind *k, unsigned require)
{
    if (k->shared || k->inode != 0 || k->page_size != ww__page_size())
        return -ENOTSUP;
    if ((require & WW__VMA_READ_WRITE) &&
        (!k->readable || !k->writable || k->executable))
        return -ENOTSUP;
    return 0;
}

/* Walk the VMAs covering [start, end) with PROCMAP_QUERY.  -ENOTTY if the
 * kernel lacks the ioctl. */
static int check_by_query(int fd, uintptr_t start, uintptr_t end,
                          unsigned require)
{
    uintptr_t cur = start;

    while (cur < end) {
        struct procmap_query q = {
            .size = sizeof(q),
            .query_addr = cur,
        };
        struct vma_kind k;
        int r;

        if (ioctl(fd, PROCMAP_QUERY, &q) < 0)
            return errno == ENOENT ? -EFAULT : -errno;
        k.shared = (q.vma_flags & PROCMAP_QUERY_VMA_SHARED) != 0;
        k.readable = (q.vma_flags & PROCMAP_QUERY_VMA_READABLE) != 0;
        k.writable = (q.vma_flags & PROCMAP_QUERY_VMA_WRITABLE) != 0;
        k.executable = (q.vma_flags & PROCMAP_QUERY_VMA_EXECUTABLE) != 0;
        k.inode = q.inode;
        k.page_size = q.vma_page_size;
        r = judge(&k, require);
        if (r < 0)
            return r;
        cur = q.vma_end;
    }
    return 0;
}

/* The same from the text of /proc/self/maps (sorted by address).  Without
 * a page size column, hugetlb shows up as a nonzero inode (hugetlbfs). */
static int check_by_text(int fd, uintptr_t start, uintptr_t end,
                         unsigned require)
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
        r = judge(&k, require);
        cur = hi;
    }
    fclose(f);
    if (r == 0 && cur < end)
        r = -EFAULT;                    /* a hole, or past the last VMA */
    return r;
}

int ww__check_private_anonymous(uintptr_t start, uintptr_t end,
                                unsigned require)
{
    int fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
    int r;

    /* Without /proc the kind cannot be known; refusing everything would
     * leave the fallback backend unusable where it is needed most. */
    if (fd < 0)
        return errno == ENOENT || errno == EACCES ? 0 : -errno;
    r = check_by_query(fd, start, end, require);
    if (r == -ENOTTY || r == -EINVAL)
        r = check_by_text(fd, start, end, require);
    close(fd);
    return r;
}
