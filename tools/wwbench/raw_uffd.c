/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * raw_uffd.c - the bench's own minimal use of userfaultfd asynchronous
 * write-protect and PAGEMAP_SCAN: no library, no locks, no safety checks,
 * one big output vector.  This is the physical limit the library is held
 * to.  (Only the ABI definitions come from the library's kernel-uapi.h,
 * for old system headers.)
 *
 * raw-uffd-256 is the same code with a 256-region vector, the library's
 * first (and, when it cannot grow its own, fallback) chunk: the
 * difference between the two isolates what the chunk size costs.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "kernel-uapi.h"
#include "wwbench.h"

#define ASYNC_FEATURES (UFFD_FEATURE_WP_ASYNC | UFFD_FEATURE_WP_UNPOPULATED)

struct raw_state {
    int uffd, pagemap;
    struct page_region *vec;
    size_t vec_len;             /* raw: sized at watch for the worst case */
    uintptr_t start, end;
};

static struct raw_state raw = { -1, -1, NULL, 0, 0, 0 };     /* grows */
static struct raw_state raw256 = { -1, -1, NULL, 256, 0, 0 };

int raw_scan_reset(int pagemap, uintptr_t start, uintptr_t end, void *vec,
                   size_t vec_len, void **pages, size_t cap, size_t *count)
{
    struct page_region *v = vec;
    size_t page = page_size(), n = 0;
    uintptr_t cur = start;

    while (cur < end && n < cap) {
        struct pm_scan_arg arg = {
            .size = sizeof(arg),
            .flags = PM_SCAN_WP_MATCHING,
            .start = cur,
            .end = end,
            .vec = (uintptr_t)v,
            .vec_len = vec_len,
            .max_pages = cap - n,
            .category_mask = PAGE_IS_WRITTEN,
            .return_mask = PAGE_IS_WRITTEN,
        };
        long r = ioctl(pagemap, PAGEMAP_SCAN, &arg);

        if (r < 0)
            return -errno;
        for (long i = 0; i < r; i++)
            for (uintptr_t p = v[i].start; p < v[i].end; p += page)
                pages[n++] = (void *)p;
        /* A walk_end below the last region is stale: the kernel's walk
         * restarted after its 512-region bounce buffer filled, then ran
         * to the end without updating it (libwritewatch/uffd.c,
         * scan_written).  Going on from there would walk the tail again. */
        if (r > 0 && arg.walk_end < v[r - 1].end)
            break;
        if (arg.walk_end <= cur)
            return -EIO;
        cur = arg.walk_end;
    }
    *count = n;
    return 0;
}

static int rs_probe(struct raw_state *s, char *why, size_t len)
{
    struct uffdio_api api = { .api = UFFD_API, .features = ASYNC_FEATURES };

    s->uffd = (int)syscall(SYS_userfaultfd,
                           O_CLOEXEC | O_NONBLOCK | UFFD_USER_MODE_ONLY);
    if (s->uffd < 0) {
        snprintf(why, len, "userfaultfd: %s", strerror(errno));
        return -errno;
    }
    if (ioctl(s->uffd, UFFDIO_API, &api) < 0 ||
        (api.features & ASYNC_FEATURES) != ASYNC_FEATURES) {
        snprintf(why, len, "kernel lacks UFFD_FEATURE_WP_ASYNC");
        close(s->uffd);
        return -ENOTSUP;
    }
    s->pagemap = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
    if (s->pagemap < 0) {
        snprintf(why, len, "/proc/self/pagemap: %s", strerror(errno));
        close(s->uffd);
        return -errno;
    }
    return 0;
}

static int rs_watch(struct raw_state *s, char *base, size_t len)
{
    struct uffdio_register reg = {
        .range = { .start = (uintptr_t)base, .len = len },
        .mode = UFFDIO_REGISTER_MODE_WP,
    };
    struct pm_scan_arg arm = {
        .size = sizeof(arm),
        .flags = PM_SCAN_WP_MATCHING,
        .start = (uintptr_t)base,
        .end = (uintptr_t)base + len,
        .category_mask = PAGE_IS_WRITTEN,
        .return_mask = PAGE_IS_WRITTEN,
    };
    size_t want = len / page_size() / 2 + 1;    /* every other page */

    if (ioctl(s->uffd, UFFDIO_REGISTER, &reg) < 0)
        return -errno;
    /* Without a vector the kernel write-protects the range in one go. */
    if (ioctl(s->pagemap, PAGEMAP_SCAN, &arm) < 0) {
        int r = -errno;
        ioctl(s->uffd, UFFDIO_UNREGISTER, &reg.range);
        return r;
    }
    /* Grown, never shrunk, and touched now: the kernel's first copy into
     * fresh memory would otherwise page-fault inside the timed get. */
    if (s != &raw256 && want > s->vec_len) {
        free(s->vec);
        s->vec = NULL;
    }
    if (!s->vec) {
        if (s != &raw256)
            s->vec_len = want;
        s->vec = malloc(s->vec_len * sizeof(*s->vec));
        if (!s->vec)
            return -ENOMEM;
        memset(s->vec, 0, s->vec_len * sizeof(*s->vec));
    }
    s->start = (uintptr_t)base;
    s->end = (uintptr_t)base + len;
    return 0;
}

static int rs_get_reset(struct raw_state *s, void **pages, size_t cap,
                         size_t *count)
{
    return raw_scan_reset(s->pagemap, s->start, s->end, s->vec, s->vec_len,
                          pages, cap, count);
}

static void rs_unwatch(struct raw_state *s)
{
    struct uffdio_range range = { .start = s->start, .len = s->end - s->start };

    if (ioctl(s->uffd, UFFDIO_UNREGISTER, &range) < 0)
        fail("raw uffd: UFFDIO_UNREGISTER: %s", strerror(errno));
}

#define RAW_METHOD(state)                                                   \
    static int state##_probe(char *why, size_t len)                         \
    { return rs_probe(&state, why, len); }                                 \
    static int state##_watch(char *base, size_t len)                        \
    { return rs_watch(&state, base, len); }                                \
    static int state##_get_reset(void **pages, size_t cap, size_t *count)   \
    { return rs_get_reset(&state, pages, cap, count); }                    \
    static void state##_unwatch(void)                                       \
    { rs_unwatch(&state); }

RAW_METHOD(raw)
RAW_METHOD(raw256)

const struct method method_raw_uffd = {
    "raw-uffd", "raw uffd", 1,
    raw_probe, raw_watch, raw_get_reset, raw_unwatch,
};

const struct method method_raw_uffd_256 = {
    "raw-uffd-256", "raw/256", 1,
    raw256_probe, raw256_watch, raw256_get_reset, raw256_unwatch,
};
