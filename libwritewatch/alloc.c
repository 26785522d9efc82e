/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * alloc.c - the library's allocation seam: every allocation goes through
 * here, so that a test build can make any one of them fail (inject.h).
 * Owns the library's only calls to calloc and realloc.
 */
#include <errno.h>
#include <stdlib.h>

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
