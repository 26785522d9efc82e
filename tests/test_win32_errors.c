/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * test_win32_errors.c - every invalid write-watch call of the Win32
 * layer, one by one, at Win32 level (return ~0u, last error) and NT level
 * (returned NTSTATUS, last error untouched), on every backend; a failed
 * call leaves *count and *granularity as they were.  The codes are
 * Windows' (Wine's kernel32 test_write_watch checks the same ones).
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "win32_helpers.h"

#define KEEP 0x5a5aul           /* what *count / *granularity hold before */

/* How one GetWriteWatch call is malformed. */
struct bad_get {
    const char *what;
    DWORD flags;
    char *base;
    SIZE_T size;
    ULONG_PTR count;            /* *count on entry */
    int null_addresses, null_count, null_granularity;
    NTSTATUS status;
    DWORD error;
};

static void check_bad_get(const struct bad_get *b)
{
    void *out[4] = { (void *)0x1, (void *)0x1, (void *)0x1, (void *)0x1 };
    void **addresses = b->null_addresses ? NULL : out;
    ULONG_PTR count = b->count;
    ULONG granularity = KEEP;
    ULONG_PTR *pcount = b->null_count ? NULL : &count;
    ULONG *pgran = b->null_granularity ? NULL : &granularity;
    NTSTATUS status;
    UINT r;

    ww_SetLastError(0xdeadbeef);
    r = ww_GetWriteWatch(b->flags, b->base, b->size, addresses, pcount, pgran);
    ck_assert_msg(r == ~0u, "%s: GetWriteWatch returned %u", b->what, r);
    ck_assert_msg(ww_GetLastError() == b->error, "%s: error %u, expected %u",
                  b->what, (unsigned)ww_GetLastError(), (unsigned)b->error);
    ck_assert_msg(count == b->count && granularity == KEEP,
                  "%s: outputs changed on failure", b->what);
    ck_assert_ptr_eq(out[0], (void *)0x1);

    ww_SetLastError(0xdeadbeef);
    status = ww_NtGetWriteWatch(NtCurrentProcess(), b->flags, b->base,
                                b->size, addresses, pcount, pgran);
    ck_assert_msg(status == b->status, "%s: status %#x, expected %#x",
                  b->what, (unsigned)status, (unsigned)b->status);
    ck_assert_uint_eq(ww_GetLastError(), 0xdeadbeef);
    ck_assert_msg(count == b->count && granularity == KEEP,
                  "%s: NT outputs changed on failure", b->what);
}

static void check_bad_reset(const char *what, char *base, SIZE_T size,
                            NTSTATUS status, DWORD error)
{
    ww_SetLastError(0xdeadbeef);
    ck_assert_msg(ww_ResetWriteWatch(base, size) == ~0u,
                  "%s: ResetWriteWatch succeeded", what);
    ck_assert_msg(ww_GetLastError() == error, "%s: error %u, expected %u",
                  what, (unsigned)ww_GetLastError(), (unsigned)error);
    ww_SetLastError(0xdeadbeef);
    ck_assert_msg(ww_NtResetWriteWatch(NtCurrentProcess(), base, size) ==
                  status, "%s: wrong status", what);
    ck_assert_uint_eq(ww_GetLastError(), 0xdeadbeef);
}

#define INVALID STATUS_INVALID_PARAMETER, ERROR_INVALID_PARAMETER
#define NOACCESS STATUS_ACCESS_VIOLATION, ERROR_NOACCESS

START_TEST(test_get_invalid_arguments)
{
    char *base = t_alloc_watched(16);
    char *plain = ww_VirtualAlloc(NULL, 16 * PAGE, MEM_COMMIT, PAGE_READWRITE);
    /* Memory the layer did not allocate (64K: the largest page size). */
    static char not_virtual[65536] __attribute__((aligned(65536)));
    SIZE_T size = 16 * PAGE;
    const struct bad_get cases[] = {
        { "base NULL", 0, NULL, size, 4, 0, 0, 0, INVALID },
        { "not write-watch", 0, plain, size, 4, 0, 0, 0, INVALID },
        { "not VirtualAlloc memory", 0, not_virtual, PAGE, 4, 0, 0, 0,
          INVALID },
        { "size 0", 0, base, 0, 4, 0, 0, 0, INVALID },
        { "twice the size", 0, base, 2 * size, 4, 0, 0, 0, INVALID },
        { "one byte past the end", 0, base + size - PAGE, PAGE + 1, 4, 0, 0,
          0, INVALID },
        { "starts before the base", 0, base - PAGE, 2 * PAGE, 4, 0, 0, 0,
          INVALID },
        { "unknown flag", 0xdeadbeef, base, size, 4, 0, 0, 0, INVALID },
        { "flag 2", 2, base, size, 4, 0, 0, 0, INVALID },
        { "count 0", 0, base, size, 0, 0, 0, 0, INVALID },
        { "addresses NULL, count 0", 0, base, size, 0, 1, 0, 0, INVALID },
        { "count NULL", 0, base, size, 4, 0, 1, 0, NOACCESS },
        { "granularity NULL", 0, base, size, 4, 0, 0, 1, NOACCESS },
        { "addresses NULL", 0, base, size, 4, 1, 0, 0, NOACCESS },
        /* Wine's (and Windows') order: the pointers come first. */
        { "count NULL and size 0", 0, base, 0, 4, 0, 1, 0, NOACCESS },
        { "addresses NULL and bad range", 0, NULL, size, 4, 1, 0, 0,
          NOACCESS },
    };

    ck_assert_ptr_nonnull(plain);
    base[PAGE] = 1;                     /* a failed call must not reset it */
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        check_bad_get(&cases[i]);
    {
        size_t one[] = { 1 };
        t_assert_written(base, 16, one, 1);
    }
}
END_TEST

START_TEST(test_reset_invalid_arguments)
{
    char *base = t_alloc_watched(16);
    char *plain = ww_VirtualAlloc(NULL, 16 * PAGE, MEM_COMMIT, PAGE_READWRITE);

    ck_assert_ptr_nonnull(plain);
    check_bad_reset("size 0", base, 0, INVALID);
    check_bad_reset("base NULL", NULL, PAGE, INVALID);
    check_bad_reset("not write-watch", plain, PAGE, INVALID);
    check_bad_reset("past the end", base + 15 * PAGE, PAGE + 1, INVALID);
}
END_TEST

/* Two write-watch allocations side by side are still two: a range over
 * both is not inside one. */
START_TEST(test_range_across_two_allocations)
{
    char *a = ww_VirtualAlloc(NULL, 0x20000, MEM_RESERVE, PAGE_NOACCESS);
    char *lo, *hi;
    void *out[4];
    ULONG_PTR count = 4;
    ULONG granularity;

    /* Find two adjacent free 64 KiB slots, then watch each. */
    ck_assert_ptr_nonnull(a);
    ck_assert(ww_VirtualFree(a, 0, MEM_RELEASE));
    lo = ww_VirtualAlloc(a, 0x10000, MEM_RESERVE | MEM_COMMIT |
                         MEM_WRITE_WATCH, PAGE_READWRITE);
    hi = ww_VirtualAlloc(a + 0x10000, 0x10000, MEM_RESERVE | MEM_COMMIT |
                         MEM_WRITE_WATCH, PAGE_READWRITE);
    ck_assert_ptr_eq(lo, a);
    ck_assert_ptr_eq(hi, a + 0x10000);
    ww_SetLastError(0);
    ck_assert_uint_eq(ww_GetWriteWatch(0, hi - PAGE, 2 * PAGE, out, &count,
                                       &granularity), ~0u);
    ck_assert_uint_eq(ww_GetLastError(), ERROR_INVALID_PARAMETER);
    check_bad_reset("across", hi - PAGE, 2 * PAGE, INVALID);
    ck_assert_uint_eq(t_get_watch(0, lo, 0x10000, out, 4), 0);
    ck_assert_uint_eq(t_get_watch(0, hi, 0x10000, out, 4), 0);
}
END_TEST

START_TEST(test_released_range_is_invalid)
{
    char *base = t_alloc_watched(16);
    void *out[4];
    ULONG_PTR count = 4;
    ULONG granularity;

    base[0] = 1;
    ck_assert(ww_VirtualFree(base, 0, MEM_RELEASE));
    ww_SetLastError(0);
    ck_assert_uint_eq(ww_GetWriteWatch(0, base, 16 * PAGE, out, &count,
                                       &granularity), ~0u);
    ck_assert_uint_eq(ww_GetLastError(), ERROR_INVALID_PARAMETER);
    ck_assert_uint_eq(count, 4);
    check_bad_reset("released", base, 16 * PAGE, INVALID);
}
END_TEST

/* MEM_WRITE_WATCH only together with MEM_RESERVE. */
START_TEST(test_write_watch_needs_reserve)
{
    char *base = ww_VirtualAlloc(NULL, 16 * PAGE, MEM_RESERVE, PAGE_NOACCESS);

    ck_assert_ptr_nonnull(base);
    t_expect_failure_begin();
    t_assert_failed(ww_VirtualAlloc(NULL, 16 * PAGE, MEM_WRITE_WATCH,
                                  PAGE_READWRITE) != NULL,
                  ERROR_INVALID_PARAMETER);
    t_expect_failure_begin();
    t_assert_failed(ww_VirtualAlloc(NULL, 16 * PAGE,
                                  MEM_COMMIT | MEM_WRITE_WATCH,
                                  PAGE_READWRITE) != NULL,
                  ERROR_INVALID_PARAMETER);
    /* Committing into an existing allocation cannot add a watch either. */
    t_expect_failure_begin();
    t_assert_failed(ww_VirtualAlloc(base, PAGE, MEM_COMMIT | MEM_WRITE_WATCH,
                                  PAGE_READWRITE) != NULL,
                  ERROR_INVALID_PARAMETER);
    /* With MEM_RESERVE alone it works, whatever the protection. */
    ck_assert_ptr_nonnull(ww_VirtualAlloc(NULL, 16 * PAGE,
                                          MEM_RESERVE | MEM_WRITE_WATCH,
                                          PAGE_EXECUTE_READWRITE));
}
END_TEST

/* NT level: only the current process, however it is spelt. */
START_TEST(test_nt_process_handle)
{
    char *base = t_alloc_watched(4);
    HANDLE bad[] = { NULL, (HANDLE)0x1234, (HANDLE)~(ULONG_PTR)1 };
    void *out[4];
    ULONG_PTR count = 4;
    ULONG granularity = KEEP;

    ck_assert_ptr_eq(ww_GetCurrentProcess(), NtCurrentProcess());
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        ww_SetLastError(0xdeadbeef);
        ck_assert_int_eq(ww_NtGetWriteWatch(bad[i], 0, base, 4 * PAGE, out,
                                            &count, &granularity),
                         STATUS_INVALID_HANDLE);
        ck_assert_int_eq(ww_NtResetWriteWatch(bad[i], base, 4 * PAGE),
                         STATUS_INVALID_HANDLE);
        ck_assert_uint_eq(ww_GetLastError(), 0xdeadbeef);
        ck_assert_uint_eq(count, 4);
        ck_assert_uint_eq(granularity, KEEP);
    }
    ck_assert_int_eq(ww_NtGetWriteWatch(ww_GetCurrentProcess(), 0, base,
                                        4 * PAGE, out, &count, &granularity),
                     STATUS_SUCCESS);
    ck_assert_int_eq(ww_NtResetWriteWatch(NtCurrentProcess(), base, PAGE),
                     STATUS_SUCCESS);
}
END_TEST

/* Success leaves the last error alone, as on Windows. */
START_TEST(test_success_keeps_last_error)
{
    char *base;
    void *out[4];

    ww_SetLastError(12345);
    base = t_alloc_watched(4);
    ck_assert_uint_eq(t_get_watch(WRITE_WATCH_FLAG_RESET, base, 4 * PAGE, out,
                                4), 0);
    ck_assert_uint_eq(ww_ResetWriteWatch(base, 4 * PAGE), 0);
    ck_assert(ww_VirtualFree(base, 0, MEM_RELEASE));
    ck_assert_uint_eq(ww_GetLastError(), 12345);
}
END_TEST

static void add_tests(TCase *tc, enum ww_backend backend)
{
    (void)backend;
    tcase_add_checked_fixture(tc, t_win32_setup, NULL);
    tcase_add_test(tc, test_get_invalid_arguments);
    tcase_add_test(tc, test_reset_invalid_arguments);
    tcase_add_test(tc, test_range_across_two_allocations);
    tcase_add_test(tc, test_released_range_is_invalid);
    tcase_add_test(tc, test_write_watch_needs_reserve);
    tcase_add_test(tc, test_nt_process_handle);
    tcase_add_test(tc, test_success_keeps_last_error);
}

int main(void)
{
    Suite *s = suite_create("win32_errors");

    t_add_backend_tcases(s, "win32_errors", add_tests, 60);
    return t_run_suite(s);
}
