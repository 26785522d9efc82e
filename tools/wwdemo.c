/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * wwdemo - watch some memory, write a few pages, and show what the library
 * reports, for each backend that runs here.
 *   wwdemo [--backend auto|uffd|mprotect]
 * Exit status: 0 when every report matched the writes, 1 otherwise.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "kernel-uapi.h"
#include "writewatch.h"

#define PAGES 64

/* Why the uffd backend cannot run here, asked of the kernel step by step
 * as the library asks it (its error code alone says only "not supported"):
 * a kernel before 6.7, or one that masks the features out, never grants
 * UFFD_FEATURE_WP_ASYNC. */
static void uffd_reason(char *why, size_t size)
{
    struct uffdio_api api = { .api = UFFD_API, .features = 0 };
    struct pm_scan_arg scan = { .size = sizeof(scan) };
    struct utsname u;
    const char *kernel = uname(&u) == 0 ? u.release : "?";
    int fd, pm;

    fd = (int)syscall(SYS_userfaultfd, O_CLOEXEC | UFFD_USER_MODE_ONLY);
    if (fd < 0) {
        snprintf(why, size, "userfaultfd(2) fails with %s: denied (seccomp), "
                 "or a kernel without it (Linux %s)", strerror(errno), kernel);
        return;
    }
    if (ioctl(fd, UFFDIO_API, &api) < 0)
        snprintf(why, size, "UFFDIO_API fails with %s (Linux %s)",
                 strerror(errno), kernel);
    else if (!(api.features & UFFD_FEATURE_WP_ASYNC))
        snprintf(why, size, "Linux %s grants no UFFD_FEATURE_WP_ASYNC "
                 "(Linux 6.7 or later with uffd-wp on this architecture)",
                 kernel);
    else if (!(api.features & UFFD_FEATURE_WP_UNPOPULATED))
        snprintf(why, size, "Linux %s grants no UFFD_FEATURE_WP_UNPOPULATED",
                 kernel);
    else if ((pm = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC)) < 0)
        snprintf(why, size, "/proc/self/pagemap: %s", strerror(errno));
    else {
        if (ioctl(pm, PAGEMAP_SCAN, &scan) < 0)
            snprintf(why, size, "PAGEMAP_SCAN fails with %s (Linux %s)",
                     strerror(errno), kernel);
        else
            snprintf(why, size, "Linux %s has what it needs; watching a page "
                     "failed", kernel);
        close(pm);
    }
    close(fd);
}

static int demo(enum ww_backend backend)
{
    static const size_t written[] = { 3, 4, 5, 17, 42, 63 };
    const size_t n_written = sizeof(written) / sizeof(written[0]);
    size_t page = ww_page_size(), count = PAGES;
    void *pages[PAGES];
    ww_tracker *t;
    char *mem;
    int r, ok = 1;

    r = ww_tracker_open(&t, backend, 0);
    if (r < 0) {
        char why[256];

        /* For uffd, what the kernel lacks says more than the error. */
        if (backend == WW_BACKEND_UFFD)
            uffd_reason(why, sizeof(why));
        else
            snprintf(why, sizeof(why), "%s", ww_strerror(r));
        printf("%-8s unavailable: %s\n", ww_backend_name(backend), why);
        return backend == WW_BACKEND_AUTO ? 1 : 0;
    }
    r = ww_alloc(t, PAGES * page, 0, (void **)&mem);
    if (r < 0) {
        printf("%-8s ww_alloc: %s\n", ww_backend_name(backend), ww_strerror(r));
        ww_tracker_close(t);
        return 1;
    }
    for (size_t i = 0; i < n_written; i++)
        mem[written[i] * page + 10] = (char)i;
    r = ww_get(t, mem, PAGES * page, WW_GET_RESET, pages, &count);
    printf("%-8s (backend in use: %s) wrote pages", ww_backend_name(backend),
           ww_backend_name(ww_tracker_backend(t)));
    for (size_t i = 0; i < n_written; i++)
        printf(" %zu", written[i]);
    printf("; reported");
    for (size_t i = 0; r == 0 && i < count; i++)
        printf(" %zu", (size_t)((char *)pages[i] - mem) / page);
    if (r < 0 || count != n_written)
        ok = 0;
    for (size_t i = 0; ok && i < count; i++)
        ok = pages[i] == mem + written[i] * page;
    count = PAGES;
    if (ww_get(t, mem, PAGES * page, 0, pages, &count) != 0 || count != 0)
        ok = 0;
    printf("; after reset %zu -> %s\n", count, ok ? "OK" : "MISMATCH");
    ww_free(t, mem, PAGES * page);
    ww_tracker_close(t);
    return ok ? 0 : 1;
}

int main(int argc, char **argv)
{
    int failed = 0;

    if (argc == 3 && strcmp(argv[1], "--backend") == 0) {
        enum ww_backend b = strcmp(argv[2], "uffd") == 0 ? WW_BACKEND_UFFD
                          : strcmp(argv[2], "mprotect") == 0 ? WW_BACKEND_MPROTECT
                          : WW_BACKEND_AUTO;
        return demo(b);
    }
    if (argc != 1) {
        fprintf(stderr, "usage: %s [--backend auto|uffd|mprotect]\n", argv[0]);
        return 2;
    }
    printf("libwritewatch demo: page size %zu\n", ww_page_size());
    failed |= demo(WW_BACKEND_AUTO);
    failed |= demo(WW_BACKEND_UFFD);
    failed |= demo(WW_BACKEND_MPROTECT);
    return failed;
}
