/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * test_win32_wine.c - <writewatch/win32.h> against Wine's headers, which
 * the Wine patch compiles it with.  Built only where they are
 * (configure: --with-wine-headers).
 *
 * At compile time: with Wine's headers found, every ww_ prototype has the
 * type of Wine's declaration of the Windows function (return type,
 * parameters, calling convention).  win32_own_types.c compares the
 * definitions the library is built with against Wine's in the same way.
 * At run time: the library, built with the header's own definitions, is
 * called through pointers of Wine's function types, on every backend.
 */
#include "config.h"

#include <stdlib.h>

#include "win32_helpers.h"
#include "win32_wine.h"

#ifndef WW__WINE_HEADERS
#error "Wine's headers were not found: this file checks the header against them"
#endif

WW_WIN32_FUNCTIONS(WW_SAME_TYPE)

/* The library's functions as Wine's prototypes declare them.  volatile:
 * the calls must go through these types, not be resolved to the ww_
 * declarations. */
static __typeof__(&VirtualAlloc) volatile wine_VirtualAlloc = ww_VirtualAlloc;
static __typeof__(&VirtualFree) volatile wine_VirtualFree = ww_VirtualFree;
static __typeof__(&VirtualProtect) volatile wine_VirtualProtect =
    ww_VirtualProtect;
static __typeof__(&GetWriteWatch) volatile wine_GetWriteWatch =
    ww_GetWriteWatch;
static __typeof__(&ResetWriteWatch) volatile wine_ResetWriteWatch =
    ww_ResetWriteWatch;
static __typeof__(&NtGetWriteWatch) volatile wine_NtGetWriteWatch =
    ww_NtGetWriteWatch;
static __typeof__(&NtResetWriteWatch) volatile wine_NtResetWriteWatch =
    ww_NtResetWriteWatch;
static __typeof__(&GetLastError) volatile wine_GetLastError = ww_GetLastError;
static __typeof__(&SetLastError) volatile wine_SetLastError = ww_SetLastError;
static __typeof__(&GetCurrentProcess) volatile wine_GetCurrentProcess =
    ww_GetCurrentProcess;

START_TEST(test_own_definitions_checked)
{
    /* Every constant of the header's own set and of win32-mem.h. */
    ck_assert_int_eq(own_constants_checked(), 43);
}
END_TEST

/* Every argument position and return type through Wine's prototypes:
 * a convention mismatch would misplace the 6th and 7th arguments (on the
 * stack with ms_abi) or the 64-bit sizes. */
START_TEST(test_round_trip_through_wine_prototypes)
{
    char *base = wine_VirtualAlloc(NULL, 8 * PAGE,
                                   MEM_RESERVE | MEM_COMMIT | MEM_WRITE_WATCH,
                                   PAGE_READWRITE);
    void *out[8];
    ULONG_PTR count = 8;
    ULONG granularity = 0;
    DWORD old = 0;

    ck_assert_msg(base != NULL, "VirtualAlloc: error %u",
                  (unsigned)wine_GetLastError());
    ck_assert_int_eq(ww_tracker_backend(ww_win32_tracker()), t_backend);
    base[2 * PAGE] = 1;
    base[7 * PAGE] = 1;
    ck_assert_uint_eq(wine_GetWriteWatch(WRITE_WATCH_FLAG_RESET, base,
                                         8 * PAGE, out, &count,
                                         &granularity), 0);
    ck_assert_uint_eq(count, 2);
    ck_assert_ptr_eq(out[0], base + 2 * PAGE);
    ck_assert_ptr_eq(out[1], base + 7 * PAGE);
    ck_assert_uint_eq(granularity, PAGE);

    base[5 * PAGE] = 1;
    count = 8;
    granularity = 0;
    ck_assert_int_eq(wine_NtGetWriteWatch(wine_GetCurrentProcess(), 0,
                                          base + 4 * PAGE, 4 * PAGE, out,
                                          &count, &granularity),
                     STATUS_SUCCESS);
    ck_assert_uint_eq(count, 1);
    ck_assert_ptr_eq(out[0], base + 5 * PAGE);
    ck_assert_uint_eq(granularity, PAGE);
    ck_assert_int_eq(wine_NtResetWriteWatch(wine_GetCurrentProcess(), base,
                                            8 * PAGE), STATUS_SUCCESS);
    ck_assert_uint_eq(wine_ResetWriteWatch(base, 8 * PAGE), 0);
    t_assert_written(base, 8, NULL, 0);

    ck_assert(wine_VirtualProtect(base + PAGE, PAGE, PAGE_READONLY, &old));
    ck_assert_uint_eq(old, PAGE_READWRITE);
    ck_assert(wine_VirtualFree(base + 3 * PAGE, PAGE, MEM_DECOMMIT));

    /* The last error, both ways. */
    wine_SetLastError(12345);
    ck_assert_uint_eq(wine_GetLastError(), 12345);
    ck_assert(!wine_VirtualFree(base, PAGE, MEM_RELEASE));
    ck_assert_uint_eq(wine_GetLastError(), ERROR_INVALID_PARAMETER);
    ck_assert(wine_VirtualFree(base, 0, MEM_RELEASE));
}
END_TEST

static void add_tests(TCase *tc, enum ww_backend backend)
{
    (void)backend;
    tcase_add_checked_fixture(tc, t_win32_setup, NULL);
    tcase_add_test(tc, test_round_trip_through_wine_prototypes);
}

int main(void)
{
    Suite *s = suite_create("win32_wine");
    TCase *tc = tcase_create("win32_wine");

    tcase_add_test(tc, test_own_definitions_checked);
    suite_add_tcase(s, tc);
    t_add_backend_tcases(s, "win32_wine", add_tests, 60);
    return t_run_suite(s);
}
