/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * win32_own_types.c - the definitions the library is built with, checked
 * against Wine's at compile time.
 *
 * libwritewatch builds its Win32 layer with <writewatch/win32.h>'s own
 * types and constants (win32-mem.h selects them), and programs compiled
 * with Wine's headers (the Wine patch, tests/test_win32*.c) call it.  This
 * translation unit includes Wine's headers first, then the header's own
 * definitions on top of them, so that the compiler compares the two:
 *   - types: C11 accepts a second typedef of a name only if it is the
 *     same type, so a DWORD or ULONG_PTR that differs from Wine's fails
 *     to compile;
 *   - constants: Wine's values are kept in an enum, Wine's macros are
 *     undefined, and the header's (and win32-mem.h's) must equal them;
 *   - functions: every ww_ prototype, with the header's own WW_WINAPI,
 *     must have the type of Wine's declaration of the Windows function,
 *     calling convention included.
 * Built only where Wine's headers are (configure: --with-wine-headers).
 */
#define WIN32_NO_STATUS
#include "config.h"

#include <stdarg.h>
#include <windef.h>
#include <winbase.h>
#include <winternl.h>
#undef WIN32_NO_STATUS
#include <ntstatus.h>

#include "win32_wine.h"

#ifndef _WINDEF_
#error "Wine's headers were not found: this file checks the header against them"
#endif

/* Every constant the header or the layer defines for itself. */
#define OWN_CONSTANTS(X)                                                    \
    X(FALSE) X(TRUE)                                                        \
    X(MEM_COMMIT) X(MEM_RESERVE) X(MEM_DECOMMIT) X(MEM_RELEASE) X(MEM_RESET) \
    X(MEM_TOP_DOWN) X(MEM_WRITE_WATCH) X(WRITE_WATCH_FLAG_RESET)            \
    X(PAGE_NOACCESS) X(PAGE_READONLY) X(PAGE_READWRITE) X(PAGE_WRITECOPY)   \
    X(PAGE_EXECUTE) X(PAGE_EXECUTE_READ) X(PAGE_EXECUTE_READWRITE)          \
    X(PAGE_EXECUTE_WRITECOPY) X(PAGE_GUARD)                                 \
    X(ERROR_SUCCESS) X(ERROR_TOO_MANY_OPEN_FILES) X(ERROR_ACCESS_DENIED)    \
    X(ERROR_INVALID_HANDLE) X(ERROR_NOT_ENOUGH_MEMORY) X(ERROR_GEN_FAILURE) \
    X(ERROR_NOT_SUPPORTED) X(ERROR_INVALID_PARAMETER)                       \
    X(ERROR_INVALID_ADDRESS) X(ERROR_NOACCESS)                              \
    X(STATUS_SUCCESS) X(STATUS_ACCESS_VIOLATION) X(STATUS_INVALID_HANDLE)   \
    X(STATUS_INVALID_PARAMETER) X(STATUS_NOT_SUPPORTED)                     \
    X(STATUS_UNSUCCESSFUL) X(STATUS_NO_MEMORY)                              \
    X(STATUS_CONFLICTING_ADDRESSES) X(STATUS_UNABLE_TO_FREE_VM)             \
    X(STATUS_ACCESS_DENIED) X(STATUS_NOT_COMMITTED)                         \
    X(STATUS_FREE_VM_NOT_AT_BASE) X(STATUS_MEMORY_NOT_ALLOCATED)            \
    X(STATUS_TOO_MANY_OPENED_FILES)

#define WINE_VALUE(name) WINE_##name = (name),
enum wine_value { OWN_CONSTANTS(WINE_VALUE) };

#define ONE(name) +1
enum { N_CONSTANTS = 0 OWN_CONSTANTS(ONE) };

/* Wine's macros go, so that the header's own are the ones compared (it
 * defines some only where they are missing). */
#undef FALSE
#undef TRUE
#undef MEM_COMMIT
#undef MEM_RESERVE
#undef MEM_DECOMMIT
#undef MEM_RELEASE
#undef MEM_RESET
#undef MEM_TOP_DOWN
#undef MEM_WRITE_WATCH
#undef WRITE_WATCH_FLAG_RESET
#undef PAGE_NOACCESS
#undef PAGE_READONLY
#undef PAGE_READWRITE
#undef PAGE_WRITECOPY
#undef PAGE_EXECUTE
#undef PAGE_EXECUTE_READ
#undef PAGE_EXECUTE_READWRITE
#undef PAGE_EXECUTE_WRITECOPY
#undef PAGE_GUARD
#undef ERROR_SUCCESS
#undef ERROR_TOO_MANY_OPEN_FILES
#undef ERROR_ACCESS_DENIED
#undef ERROR_INVALID_HANDLE
#undef ERROR_NOT_ENOUGH_MEMORY
#undef ERROR_GEN_FAILURE
#undef ERROR_NOT_SUPPORTED
#undef ERROR_INVALID_PARAMETER
#undef ERROR_INVALID_ADDRESS
#undef ERROR_NOACCESS
#undef STATUS_SUCCESS
#undef STATUS_ACCESS_VIOLATION
#undef STATUS_INVALID_HANDLE
#undef STATUS_INVALID_PARAMETER
#undef STATUS_NOT_SUPPORTED
#undef STATUS_UNSUCCESSFUL
#undef STATUS_NO_MEMORY
#undef STATUS_CONFLICTING_ADDRESSES
#undef STATUS_UNABLE_TO_FREE_VM
#undef STATUS_ACCESS_DENIED
#undef STATUS_NOT_COMMITTED
#undef STATUS_FREE_VM_NOT_AT_BASE
#undef STATUS_MEMORY_NOT_ALLOCATED
#undef STATUS_TOO_MANY_OPENED_FILES

/* The library's own view: the header's definitions, and the layer's
 * private status codes. */
#define WW__WIN32_OWN_TYPES 1
#include <writewatch/win32.h>
#include "win32-mem.h"

#ifdef WW__WINE_HEADERS
#error "the header took Wine's definitions: nothing would be compared"
#endif

#define SAME_VALUE(name)                                                    \
    _Static_assert((name) == WINE_##name, #name " differs from Wine's");
OWN_CONSTANTS(SAME_VALUE)

WW_WIN32_FUNCTIONS(WW_SAME_TYPE)

int own_constants_checked(void)
{
    return N_CONSTANTS;
}
