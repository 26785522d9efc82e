/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * test_win32_dropin.c - plain Windows source using the write-watch API.
 *
 * Nothing here is specific to libwritewatch: the build compiles it with
 * -DWW_WIN32_NAMES -include writewatch/win32.h, which turns the Windows
 * names into the library's functions, and the same file would build
 * against the real kernel32/ntdll.  Runs on the default backend; the
 * exit status tells the result.
 */
#include <windows.h>
#include <winternl.h>
#include <stdio.h>
#include <string.h>

static UINT (WINAPI *pGetWriteWatch)(DWORD, LPVOID, SIZE_T, LPVOID *,
                                     ULONG_PTR *, ULONG *) = GetWriteWatch;
static UINT (WINAPI *pResetWriteWatch)(LPVOID, SIZE_T) = ResetWriteWatch;

static int checks, failures;

#define ok(cond, ...)                                                  \
    do {                                                               \
        checks++;                                                      \
        if (!(cond)) {                                                 \
            failures++;                                                \
            printf("# %s:%d: check failed: ", __FILE__, __LINE__);     \
            printf(__VA_ARGS__);                                       \
            printf("\n");                                              \
        }                                                              \
    } while (0)

/* Sizes are in pages of the size GetWriteWatch reports (4 KiB on x86,
 * 4, 16 or 64 KiB on arm64 Linux): a 1 MiB region holds the 16 pages
 * the checks use with any of them. */
#define REGION 0x100000

static void test_write_watch(void)
{
    SIZE_T size = REGION;
    char *base = VirtualAlloc(NULL, size,
                              MEM_RESERVE | MEM_COMMIT | MEM_WRITE_WATCH,
                              PAGE_READWRITE);
    void *results[16];
    ULONG_PTR count;
    ULONG pagesize = 0;
    DWORD old_prot;
    UINT ret;

    ok(base != NULL, "VirtualAlloc failed %lu", (unsigned long)GetLastError());
    if (!base)
        return;

    count = 16;
    ret = pGetWriteWatch(0, base, size, results, &count, &pagesize);
    ok(ret == 0 && count == 0, "fresh: ret %u count %lu", ret,
       (unsigned long)count);
    ok(pagesize >= 4096 && !(pagesize & (pagesize - 1)) && size % pagesize == 0,
       "page size %lu", (unsigned long)pagesize);
    if (pagesize < 4096 || size / pagesize < 16)
        return;

    base[pagesize + 1] = 0x44;
    base[3 * pagesize] = 0x44;
    count = 16;
    ret = pGetWriteWatch(WRITE_WATCH_FLAG_RESET, base, size, results, &count,
                         &pagesize);
    ok(ret == 0 && count == 2, "written: ret %u count %lu", ret,
       (unsigned long)count);
    ok(results[0] == base + pagesize && results[1] == base + 3 * pagesize,
       "wrong pages %p %p", results[0], results[1]);

    count = 16;
    ret = pGetWriteWatch(0, base, size, results, &count, &pagesize);
    ok(ret == 0 && count == 0, "after reset: count %lu", (unsigned long)count);

    base[5 * pagesize] = 1;
    ok(VirtualProtect(base, size, PAGE_READONLY, &old_prot), "VirtualProtect");
    ok(old_prot == PAGE_READWRITE, "old protection %lx",
       (unsigned long)old_prot);
    ok(VirtualProtect(base, size, PAGE_READWRITE, &old_prot), "VirtualProtect");
    count = 16;
    ret = pGetWriteWatch(0, base, size, results, &count, &pagesize);
    ok(ret == 0 && count == 1 && results[0] == base + 5 * pagesize,
       "protection change lost the state: count %lu", (unsigned long)count);
    ok(pResetWriteWatch(base, size) == 0, "ResetWriteWatch failed");

    SetLastError(0xdeadbeef);
    count = 16;
    ret = pGetWriteWatch(0, base, size * 2, results, &count, &pagesize);
    ok(ret == ~0u && GetLastError() == ERROR_INVALID_PARAMETER,
       "past the end: ret %u error %lu", ret, (unsigned long)GetLastError());
    SetLastError(0xdeadbeef);
    ret = pGetWriteWatch(0, base, size, results, NULL, &pagesize);
    ok(ret == ~0u && GetLastError() == ERROR_NOACCESS,
       "count NULL: ret %u error %lu", ret, (unsigned long)GetLastError());

    ok(VirtualFree(base, size, MEM_DECOMMIT), "decommit failed");
    ok(VirtualFree(base, 0, MEM_RELEASE), "release failed");
    SetLastError(0xdeadbeef);
    ok(pResetWriteWatch(base, size) == ~0u &&
       GetLastError() == ERROR_INVALID_PARAMETER, "released: error %lu",
       (unsigned long)GetLastError());

    base = VirtualAlloc(NULL, size, MEM_WRITE_WATCH, PAGE_READWRITE);
    ok(!base && GetLastError() == ERROR_INVALID_PARAMETER,
       "MEM_WRITE_WATCH alone: error %lu", (unsigned long)GetLastError());
}

static void test_nt_write_watch(void)
{
    SIZE_T size = REGION;
    char *base = VirtualAlloc(NULL, size, MEM_RESERVE | MEM_WRITE_WATCH,
                              PAGE_NOACCESS);
    void *results[16];
    ULONG_PTR count = 16;
    ULONG pagesize = 0;
    NTSTATUS status;

    ok(base != NULL, "VirtualAlloc failed %lu", (unsigned long)GetLastError());
    if (!base)
        return;
    status = NtGetWriteWatch(GetCurrentProcess(), 0, base, size, results,
                             &count, &pagesize);
    ok(status == STATUS_SUCCESS && count == 0 && pagesize >= 4096,
       "reserved only: status %lx count %lu page size %lu",
       (unsigned long)status, (unsigned long)count, (unsigned long)pagesize);
    if (pagesize < 4096)
        return;
    ok(VirtualAlloc(base, 2 * pagesize, MEM_COMMIT, PAGE_READWRITE) == base,
       "commit failed %lu", (unsigned long)GetLastError());
    base[pagesize] = 1;
    count = 16;
    status = NtGetWriteWatch(GetCurrentProcess(), WRITE_WATCH_FLAG_RESET, base,
                             size, results, &count, &pagesize);
    ok(status == STATUS_SUCCESS && count == 1 && results[0] == base + pagesize,
       "NtGetWriteWatch: status %lx count %lu", (unsigned long)status,
       (unsigned long)count);
    status = NtResetWriteWatch(NtCurrentProcess(), base, size);
    ok(status == STATUS_SUCCESS, "NtResetWriteWatch: status %lx",
       (unsigned long)status);
    status = NtResetWriteWatch((HANDLE)0x1234, base, size);
    ok(status == STATUS_INVALID_HANDLE, "bad handle: status %lx",
       (unsigned long)status);
    ok(VirtualFree(base, 0, MEM_RELEASE), "release failed");
}

/* TAP, one line per function (automake's TAP driver reads it). */
static void run(int n, const char *name, void (*fn)(void))
{
    int before = failures;

    fn();
    printf("%sok %d - win32_dropin:%s\n", failures > before ? "not " : "", n,
           name);
}

int main(void)
{
    printf("1..2\n");
    run(1, "write_watch", test_write_watch);
    run(2, "nt_write_watch", test_nt_write_watch);
    printf("# win32 drop-in: %d checks, %d failures\n", checks, failures);
    return failures ? 1 : 0;
}
