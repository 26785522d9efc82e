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

/* The verdict on one VMA [lo, hi) for the part of the range it covers. */
static int judge(int shared, unsigned long long inode, uint64_t page_size)
{
    if (shared || inode != 0 || page_size != ww__page_size())
        return -ENOTSUP;
    return 0;
}

/* Walk the VMAs covering [start, end) with PROCMAP_QUERY.  -ENOTTY if the
 * kernel lacks the ioctl. */
static int check_by_query(int fd, uintptr_t start, uintptr_t end)
{
    uintptr_t cur = start;

    while (cur < end) {
        struct procmap_query q = {
            .size = sizeof(q),
            .query_addr = cur,
        };
        int r;

        if (ioctl(fd, PROCMAP_QUERY, &q) < 0)
            return errno == ENOENT ? -EFAULT : -errno;
        r = judge((q.vma_flags & PROCMAP_QUERY_VMA_SHARED) != 0, q.inode,
                  q.vma_page_size);
        if (r < 0)
            return r;
        cur = q.vma_end;
    }
    return 0;
}

/* The same from the text of /proc/self/maps (sorted by address).  Without
 * a page size column, hugetlb shows up as a nonzero inode (hugetlbfs). */
static int check_by_text(int fd, uintptr_t start, uintptr_t end)
{
    FILE *f = fdopen(dup(fd), "r");
    char line[512];
    uintptr_t cur = start;
    int r = 0;

    if (!f)
        return -errno;
    while (r == 0 && cur < end && fgets(line, sizeof(line), f)) {
        unsigned long lo, hi;
        unsigned long long inode;
        char perms[8];

        if (sscanf(line, "%lx-%lx %7s %*x %*x:%*x %llu", &lo, &hi, perms,
                   &inode) != 4 || hi <= cur)
            continue;
        if (lo > cur)
            break;                      /* a hole before this VMA */
        r = judge(perms[3] == 's', inode, ww__page_size());
        cur = hi;
    }
    fclose(f);
    if (r == 0 && cur < end)
        r = -EFAULT;                    /* a hole, or past the last VMA */
    return r;
}

int ww__check_private_anonymous(uintptr_t start, uintptr_t end)
{
    int fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
    int r;

    if (fd < 0)
        return -errno;
    r = check_by_query(fd, start, end);
    if (r == -ENOTTY || r == -EINVAL)
        r = check_by_text(fd, start, end);
    close(fd);
    return r;
}
