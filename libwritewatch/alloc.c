/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * alloc.c - the library's allocation seam: every allocation goes through
 * here, so that a test build can make any one of them fail (inject.h).
 * Owns the library's only calls to calloc and realloc, and the mmap of
 * buffers that grow during queries.
 */
#include <errno.h>
#include <stdlib.h>
#include <sys/mman.h>

#include "alloc.h"
#include "inject.h"

void *ww__calloc(size_t n, size_t size)
{
    return ww__injected(WW__SITE_ALLOC) ? NULL : calloc(n, size);
}

void *ww__realloc(void *p, size_t size)
{
    return ww__injected(WW__SITE_ALLOC) ? NULL : realloc(p, size);
}

void *ww__map(size_t bytes)
{
    void *p;

    if (ww__injected(WW__SITE_MAP))
        return NULL;
    p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
             -1, 0);
    return p == MAP_FAILED ? NULL : p;
}

void ww__unmap(void *p, size_t bytes)
{
    if (p)
        munmap(p, bytes);
}
