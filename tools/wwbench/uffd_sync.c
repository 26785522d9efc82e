/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * uffd_sync.c - synchronous userfaultfd write-protect, the way bdwgc's
 * UFFDWP_VDB and Chromium track writes on kernels without WP_ASYNC: a
 * write to a protected page stops the writer and queues a message; a
 * handler thread reads it, records the page and removes the protection
 * (UFFDIO_WRITEPROTECT mode 0), which wakes the writer.  Each first write
 * therefore costs two thread switches.  UFFD_USER_MODE_ONLY is what lets an
 * unprivileged process have a userfaultfd here.
 *
 * Measured single-threaded only: the get below is not atomic with respect
 * to concurrent writers (a reported page is re-protected after its mark is
 * cleared), which is fine for the first-write cost this method is for.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "kernel-uapi.h"
#include "wwbench.h"

static int uffd = -1;
static int stop_pipe[2] = { -1, -1 };
static pthread_t handler;
static char *base;
static size_t len;
static atomic_uchar *dirty;

static int protect(uintptr_t start, size_t bytes, int on)
{
    struct uffdio_writeprotect wp = {
        .range = { .start = start, .len = bytes },
        .mode = on ? UFFDIO_WRITEPROTECT_MODE_WP : 0,
    };

    while (ioctl(uffd, UFFDIO_WRITEPROTECT, &wp) < 0)
        if (errno != EAGAIN)
            return -errno;
    return 0;
}

static void *handle_faults(void *arg)
{
    struct pollfd fds[2] = { { uffd, POLLIN, 0 }, { stop_pipe[0], POLLIN, 0 } };
    struct uffd_msg msg[64];

    (void)arg;
    for (;;) {
        if (poll(fds, 2, -1) < 0 && errno != EINTR)
            break;
        if (fds[1].revents)
            break;
        ssize_t got = read(uffd, msg, sizeof(msg));
        for (ssize_t i = 0; i < got / (ssize_t)sizeof(msg[0]); i++) {
            uintptr_t a = (uintptr_t)msg[i].arg.pagefault.address &
                          ~(uintptr_t)(page_size() - 1);

            if (msg[i].event != UFFD_EVENT_PAGEFAULT ||
                !(msg[i].arg.pagefault.flags & UFFD_PAGEFAULT_FLAG_WP))
                continue;
            atomic_store_explicit(&dirty[(a - (uintptr_t)base) / page_size()],
                                  1, memory_order_relaxed);
            int r = protect(a, page_size(), 0);
            if (r < 0)
                fail("uffd sync: unprotect: %s", strerror(-r));
        }
    }
    return NULL;
}

static int open_uffd(void)
{
    struct uffdio_api api = { .api = UFFD_API, .features = 0 };

    uffd = (int)syscall(SYS_userfaultfd,
                        O_CLOEXEC | O_NONBLOCK | UFFD_USER_MODE_ONLY);
    if (uffd < 0)
        return -errno;
    if (ioctl(uffd, UFFDIO_API, &api) < 0) {
        int r = -errno;
        close(uffd);
        uffd = -1;
        return r;
    }
    return 0;
}

static int sync_probe(char *why, size_t why_len)
{
    int r = open_uffd();

    if (r < 0)
        snprintf(why, why_len, "userfaultfd: %s", strerror(-r));
    return r;
}

static int sync_watch(char *b, size_t l)
{
    struct uffdio_register reg = {
        .range = { .start = (uintptr_t)b, .len = l },
        .mode = UFFDIO_REGISTER_MODE_WP,
    };
    int r;

    if (ioctl(uffd, UFFDIO_REGISTER, &reg) < 0)
        return -errno;
    dirty = calloc(l / page_size(), 1);
    if (!dirty || pipe(stop_pipe) < 0) {
        r = dirty ? -errno : -ENOMEM;
        goto fail;
    }
    base = b;
    len = l;
    r = protect((uintptr_t)b, l, 1);
    if (r == 0)
        r = -pthread_create(&handler, NULL, handle_faults, NULL);
    if (r == 0)
        return 0;
    close(stop_pipe[0]);
    close(stop_pipe[1]);
fail:
    free(dirty);
    ioctl(uffd, UFFDIO_UNREGISTER, &reg.range);
    return r;
}

static int sync_get_reset(void **pages, size_t cap, size_t *count)
{
    size_t page = page_size(), npages = len / page, n = 0;

    for (size_t i = 0; i < npages && n < cap; i++) {
        if (!atomic_load_explicit(&dirty[i], memory_order_relaxed))
            continue;
        atomic_store_explicit(&dirty[i], 0, memory_order_relaxed);
        pages[n++] = base + i * page;
        int r = protect((uintptr_t)base + i * page, page, 1);
        if (r < 0)
            return r;
    }
    *count = n;
    return 0;
}

static void sync_unwatch(void)
{
    struct uffdio_range range = { .start = (uintptr_t)base, .len = len };

    if (write(stop_pipe[1], "x", 1) != 1)
        fail("uffd sync: cannot stop the handler: %s", strerror(errno));
    pthread_join(handler, NULL);
    close(stop_pipe[0]);
    close(stop_pipe[1]);
    ioctl(uffd, UFFDIO_UNREGISTER, &range);
    free(dirty);
    dirty = NULL;
}

const struct method method_uffd_sync = {
    "uffd-sync", "uffd sync+thread", 0,
    sync_probe, sync_watch, sync_get_reset, sync_unwatch,
};
