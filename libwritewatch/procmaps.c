/*
 * procmaps.c - is a range private anonymous read-write memory?
 *
 * The uffd backend learns it from UFFDIO_REGISTER.  The mprotect backend
 * would happily protect anything, but it must refuse what it cannot watch
 * faithfully: shared memory (another process's writes never fault here),
 * file and hugetlb mappings (as the uffd backend does), and memory that is
 * not plain read-write (a fault would make it read-write; executable pages
 * would lose PROT_EXEC).  /proc/self/maps tells; it is read only once per
 * watch, up to the end of the range (lines are sorted by address).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "mprotect.h"

struct maps_reader {
    int fd;
    size_t pos, len;
    char buf[4096];
};

/* The next line into line (truncated to cap - 1 characters: the fields we
 * read come before the path).  1, 0 at the end, or -errno. */
static int next_line(struct maps_reader *m, char *line, size_t cap)
{
    size_t n = 0;

    for (;;) {
        char c;

        if (m->pos == m->len) {
            ssize_t got = read(m->fd, m->buf, sizeof(m->buf));

            if (got < 0 && errno == EINTR)
                continue;
            if (got < 0)
                return -errno;
            if (got == 0) {
                line[n] = '\0';
                return n > 0;
            }
            m->pos = 0;
            m->len = (size_t)got;
        }
        c = m->buf[m->pos++];
        if (c == '\n') {
            line[n] = '\0';
            return 1;
        }
        if (n + 1 < cap)
            line[n++] = c;
    }
}

/* Private, anonymous (no inode), exactly read-write. */
static int acceptable(const char *perms, unsigned long inode)
{
    return strcmp(perms, "rw-p") == 0 && inode == 0;
}

static int check_lines(struct maps_reader *m, uintptr_t start, uintptr_t end)
{
    uintptr_t covered = start;
    char line[128], perms[8];
    int r = 0;

    while (covered < end && (r = next_line(m, line, sizeof(line))) > 0) {
        uintptr_t lo, hi;
        unsigned long inode;

        if (sscanf(line, "%" SCNxPTR "-%" SCNxPTR " %7s %*x %*x:%*x %lu",
                   &lo, &hi, perms, &inode) != 4)
            return -EIO;
        if (hi <= covered)
            continue;
        if (lo > covered)
            return -EFAULT;             /* a hole */
        if (!acceptable(perms, inode))
            return -ENOTSUP;
        covered = hi;
    }
    if (covered < end)
        return r < 0 ? r : -EFAULT;
    return 0;
}

int ww__check_anon_rw(uintptr_t start, uintptr_t end)
{
    struct maps_reader m = { .fd = -1 };
    int r;

    /* Without /proc (a bare chroot) the kind cannot be known; the caller
     * has checked that the range is mapped, and the fallback backend is
     * worth more working than refusing everything. */
    m.fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
    if (m.fd < 0)
        return errno == ENOENT || errno == EACCES ? 0 : -errno;
    r = check_lines(&m, start, end);
    close(m.fd);
    return r;
}
