/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * win32_helpers.h - shared by the Win32 layer's suites: the backend
 * fixture for the layer's process-wide tracker, write-watch allocations,
 * and assertions on Win32 and NT results.
 */
#ifndef WW_TEST_WIN32_HELPERS_H
#define WW_TEST_WIN32_HELPERS_H

#include <writewatch/win32.h>

#include "helpers.h"

/* Checked fixture: point the layer's tracker, opened on first use in the
 * test's (forked) process, at t_backend through WW_BACKEND. */
void t_win32_setup(void);

/* VirtualAlloc(MEM_RESERVE | MEM_COMMIT | MEM_WRITE_WATCH, PAGE_READWRITE)
 * of n pages (asserts success and that t_backend is in use). */
char *t_alloc_watched(size_t n);

/* GetWriteWatch (asserts success and the 4 KiB granularity); the number
 * of pages stored in out[] (capacity cap). */
ULONG_PTR t_get_watch(DWORD flags, void *base, SIZE_T size, void **out,
                    ULONG_PTR cap);

/* Assert that GetWriteWatch over [base, base+n pages) reports exactly the
 * listed pages, without resetting. */
void t_assert_written(char *base, size_t n, const size_t *idx, size_t n_idx);

/* Assert that a Win32 call failed (ok == 0) with the given last error,
 * which is first set to a sentinel by t_expect_failure_begin(). */
void t_expect_failure_begin(void);
void t_assert_failed(int ok, DWORD error);

#endif
