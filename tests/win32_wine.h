/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * win32_wine.h - what win32_own_types.c (compiled with Wine's headers and
 * the header's own definitions on top) reports to test_win32_wine.c.
 */
#ifndef WW_TEST_WIN32_WINE_H
#define WW_TEST_WIN32_WINE_H

/* Every function of the Win32 layer with the name Wine declares it by.
 * Both translation units check each pair (with Wine's types, and with
 * the header's own definitions on top of Wine's). */
#define WW_WIN32_FUNCTIONS(X)                                               \
    X(ww_VirtualAlloc, VirtualAlloc)                                        \
    X(ww_VirtualFree, VirtualFree)                                          \
    X(ww_VirtualProtect, VirtualProtect)                                    \
    X(ww_GetWriteWatch, GetWriteWatch)                                      \
    X(ww_ResetWriteWatch, ResetWriteWatch)                                  \
    X(ww_NtGetWriteWatch, NtGetWriteWatch)                                  \
    X(ww_NtResetWriteWatch, NtResetWriteWatch)                              \
    X(ww_GetLastError, GetLastError)                                        \
    X(ww_SetLastError, SetLastError)                                        \
    X(ww_GetCurrentProcess, GetCurrentProcess)

/* The same type, calling convention included, or no compilation. */
#define WW_SAME_TYPE(ours, theirs)                                          \
    _Static_assert(__builtin_types_compatible_p(__typeof__(&ours),          \
                                                __typeof__(&theirs)),       \
                   #ours " differs from Wine's " #theirs);

/* How many constants it compared with Wine's at compile time. */
int own_constants_checked(void);

#endif
