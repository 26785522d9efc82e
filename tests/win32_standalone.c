/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * win32_standalone.c - <writewatch/win32.h> on its own: compiled without
 * Wine's headers on the include path, with the project's warning flags, it
 * must provide every type and constant its functions use, with Wine's
 * sizes and values (win32_own_types.c compares them with Wine's where
 * Wine's headers are) and the library's calling convention: the round
 * trip below would misread its arguments otherwise.
 */
#include <writewatch/win32.h>

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "win32_standalone.h"

#ifdef _WINDEF_
#error "Wine's headers were found: this file must test the header's own definitions"
#endif

_Static_assert(sizeof(DWORD) == 4 && sizeof(ULONG) == 4 && sizeof(LONG) == 4,
               "LLP64: DWORD, ULONG, LONG are 32-bit");
_Static_assert(sizeof(SIZE_T) == sizeof(void *) &&
               sizeof(ULONG_PTR) == sizeof(void *),
               "SIZE_T and ULONG_PTR are pointer-sized");
_Static_assert(sizeof(NTSTATUS) == 4 && sizeof(BOOL) == 4, "32-bit");
_Static_assert(MEM_COMMIT == 0x1000 && MEM_RESERVE == 0x2000 &&
               MEM_DECOMMIT == 0x4000 && MEM_RELEASE == 0x8000 &&
               MEM_WRITE_WATCH == 0x200000 && WRITE_WATCH_FLAG_RESET == 1,
               "MEM_ values");
_Static_assert(PAGE_NOACCESS == 1 && PAGE_READONLY == 2 &&
               PAGE_READWRITE == 4 && PAGE_EXECUTE_READWRITE == 0x40,
               "PAGE_ values");
_Static_assert(ERROR_INVALID_PARAMETER == 87 && ERROR_NOACCESS == 998 &&
               ERROR_INVALID_ADDRESS == 487 && ERROR_INVALID_HANDLE == 6 &&
               ERROR_NOT_SUPPORTED == 50, "ERROR_ values");
_Static_assert(STATUS_INVALID_PARAMETER == (NTSTATUS)0xC000000D &&
               STATUS_ACCESS_VIOLATION == (NTSTATUS)0xC0000005 &&
               STATUS_INVALID_HANDLE == (NTSTATUS)0xC0000008,
               "STATUS_ values");

/* The Windows way of holding these functions compiles. */
static UINT (WW_WINAPI *const get_write_watch)(DWORD, LPVOID, SIZE_T, LPVOID *,
                                               ULONG_PTR *, ULONG *) =
    ww_GetWriteWatch;

int standalone_own_definitions(void)
{
#ifdef WW__WINE_HEADERS
    return 0;
#else
    return 1;
#endif
}

#define FAIL(...) do { snprintf(msg, len, __VA_ARGS__); return -1; } while (0)

int standalone_round_trip(char *msg, size_t len)
{
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    char *base = ww_VirtualAlloc(NULL, 8 * page,
                                 MEM_RESERVE | MEM_COMMIT | MEM_WRITE_WATCH,
                                 PAGE_READWRITE);
    void *out[8];
    ULONG_PTR count = 8;
    ULONG granularity = 0;
    DWORD old = 0;
    NTSTATUS status;

    if (!base)
        FAIL("VirtualAlloc: error %u", (unsigned)ww_GetLastError());
    base[3 * page] = 1;
    if (get_write_watch(WRITE_WATCH_FLAG_RESET, base, 8 * page, out, &count,
                        &granularity) != 0)
        FAIL("GetWriteWatch: error %u", (unsigned)ww_GetLastError());
    if (count != 1 || out[0] != base + 3 * page || granularity != (ULONG)page)
        FAIL("GetWriteWatch: count %lu, granularity %u", (unsigned long)count,
             (unsigned)granularity);
    if (!ww_VirtualProtect(base, page, PAGE_READONLY, &old) ||
        old != PAGE_READWRITE)
        FAIL("VirtualProtect: old %#x", (unsigned)old);
    count = 0;
    status = ww_NtGetWriteWatch(NtCurrentProcess(), 0, base, 8 * page, out,
                                &count, &granularity);
    if (status != STATUS_INVALID_PARAMETER)
        FAIL("NtGetWriteWatch count 0: status %#x", (unsigned)status);
    if (ww_ResetWriteWatch(base, 0) != ~0u ||
        ww_GetLastError() != ERROR_INVALID_PARAMETER)
        FAIL("ResetWriteWatch size 0: error %u", (unsigned)ww_GetLastError());
    if (!ww_VirtualFree(base, 0, MEM_RELEASE))
        FAIL("VirtualFree: error %u", (unsigned)ww_GetLastError());
    return 0;
}
