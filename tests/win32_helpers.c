/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* win32_helpers.c - see win32_helpers.h. */
#include "config.h"

#include <stdlib.h>

#include "win32_helpers.h"

#define SENTINEL 0xdeadbeefu

void t_win32_setup(void)
{
    setenv("WW_BACKEND", ww_backend_name(t_backend), 1);
}

char *t_alloc_watched(size_t n)
{
    char *p = ww_VirtualAlloc(NULL, n * PAGE,
                              MEM_RESERVE | MEM_COMMIT | MEM_WRITE_WATCH,
                              PAGE_READWRITE);

    ck_assert_msg(p != NULL, "VirtualAlloc: error %u",
                  (unsigned)ww_GetLastError());
    ck_assert_int_eq(ww_tracker_backend(ww_win32_tracker()), t_backend);
    return p;
}

ULONG_PTR t_get_watch(DWORD flags, void *base, SIZE_T size, void **out,
                    ULONG_PTR cap)
{
    ULONG_PTR count = cap;
    ULONG granularity = 0;
    UINT r = ww_GetWriteWatch(flags, base, size, out, &count, &granularity);

    ck_assert_msg(r == 0, "GetWriteWatch: error %u",
                  (unsigned)ww_GetLastError());
    ck_assert_uint_eq(granularity, PAGE);
    return count;
}

void t_assert_written(char *base, size_t n, const size_t *idx, size_t n_idx)
{
    void **out = calloc(n, sizeof(*out));
    ULONG_PTR count;

    ck_assert_ptr_nonnull(out);
    count = t_get_watch(0, base, n * PAGE, out, n);
    t_assert_pages(out, count, base, idx, n_idx);
    free(out);
}

void t_expect_failure_begin(void)
{
    ww_SetLastError(SENTINEL);
}

void t_assert_failed(int ok, DWORD error)
{
    DWORD got = ww_GetLastError();

    ck_assert_msg(!ok, "the call succeeded (expected error %u)",
                  (unsigned)error);
    ck_assert_msg(got == error, "last error %u, expected %u", (unsigned)got,
                  (unsigned)error);
}
