/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * alloc.h - every allocation the library makes goes through these, so a
 * test build can make the n-th one fail (see tests/ and --enable-fault-
 * injection) and prove that each error path returns cleanly and leaks
 * nothing.
 * Declares alloc.c's seam; no other allocator exists in the library.
 */
#ifndef WW_ALLOC_H
#define WW_ALLOC_H

#include <stddef.h>

void *ww__calloc(size_t n, size_t size);
void *ww__realloc(void *p, size_t size);

/* Zeroed private pages straight from mmap, for a buffer grown during a
 * query: ww_get must never call malloc, whose lock a thread stopped by a
 * garbage collector may hold.  ww__unmap takes the same byte count. */
void *ww__map(size_t bytes);
void ww__unmap(void *p, size_t bytes);

#endif /* WW_ALLOC_H */
