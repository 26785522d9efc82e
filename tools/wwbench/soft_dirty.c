/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * soft_dirty.c - the kernel's soft-dirty bits: writing "4" to
 * /proc/self/clear_refs clears (and write-protects) every page of the whole
 * process; a write sets bit 55 of the page's /proc/self/pagemap entry.  Used
 * by CRIU and bdwgc's SOFT_VDB.  Reset is process-wide and not atomic with
 * the read, so it is measured single-threaded only.
 *
 * Kernels built without CONFIG_MEM_SOFT_DIRTY accept the "4" silently and
 * never set bit 55: the probe writes a page and looks, rather than trusting
 * that the write to clear_refs succeeded.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "wwbench.h"

#define SOFT_DIRTY_BIT ((uint64_t)1 << 55)
#define CHUNK 4096                       /* pagemap entries per read */

static int pagemap = -1;
static char *base;
static size_t len;

static int clear_refs(void)
{
    int fd = open("/proc/self/clear_refs", O_WRONLY | O_CLOEXEC);
    int r = 0;

    if (fd < 0)
        return -errno;
    if (write(fd, "4", 1) != 1)
        r = -errno;
    close(fd);
    return r;
}

static int soft_dirty(const volatile char *p, int *set)
{
    uint64_t e;

    if (pread(pagemap, &e, sizeof(e), (off_t)((uintptr_t)p / page_size() * 8))
        != sizeof(e))
        return -EIO;
    *set = (e & SOFT_DIRTY_BIT) != 0;
    return 0;
}

static int sd_probe(char *why, size_t why_len)
{
    char *p = mmap(NULL, page_size(), PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    int before = 1, after = 0, r;

    if (p == MAP_FAILED)
        return -ENOMEM;
    pagemap = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
    p[0] = 1;
    r = pagemap < 0 ? -errno : clear_refs();
    if (r == 0)
        r = soft_dirty(p, &before);
    ((volatile char *)p)[0] = 2;
    if (r == 0)
        r = soft_dirty(p, &after);
    munmap(p, page_size());
    if (r < 0) {
        snprintf(why, why_len, "clear_refs/pagemap: %s", strerror(-r));
        return r;
    }
    if (before || !after) {
        snprintf(why, why_len, "kernel without CONFIG_MEM_SOFT_DIRTY "
                 "(bit 55 %s)", after ? "never clears" : "never set");
        return -ENOTSUP;
    }
    return 0;
}

static int sd_watch(char *b, size_t l)
{
    base = b;
    len = l;
    return clear_refs();
}

static int sd_get_reset(void **pages, size_t cap, size_t *count)
{
    static uint64_t e[CHUNK];
    size_t page = page_size(), npages = len / page, n = 0;
    off_t first = (off_t)((uintptr_t)base / page * 8);

    for (size_t i = 0; i < npages && n < cap; i += CHUNK) {
        size_t k = npages - i < CHUNK ? npages - i : CHUNK;

        if (pread(pagemap, e, k * 8, first + (off_t)(i * 8)) != (ssize_t)(k * 8))
            return -EIO;
        for (size_t j = 0; j < k && n < cap; j++)
            if (e[j] & SOFT_DIRTY_BIT)
                pages[n++] = base + (i + j) * page;
    }
    *count = n;
    return clear_refs();
}

static void sd_unwatch(void)
{
}

const struct method method_soft_dirty = {
    "soft-dirty", "soft-dirty", 0,
    sd_probe, sd_watch, sd_get_reset, sd_unwatch,
};
