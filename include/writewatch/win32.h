/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * writewatch/win32.h - the Windows write-watch API, on libwritewatch.
 * Owns the public Win32/NT API (ww_ + Windows names) and its standalone
 * Windows types.
 *
 * VirtualAlloc(MEM_RESERVE | MEM_WRITE_WATCH), GetWriteWatch and
 * ResetWriteWatch with Windows' semantics and Windows' exact signatures,
 * prefixed ww_, plus the NT-level NtGetWriteWatch / NtResetWriteWatch.
 * With
 *
 *     #define WW_WIN32_NAMES
 *     #include <writewatch/win32.h>
 *
 * the plain Windows names (VirtualAlloc, GetWriteWatch, GetLastError,
 * GetCurrentProcess, NtGetWriteWatch, ...) are macros for these functions,
 * so Windows source compiles unchanged.
 *
 * Windows types and constants (DWORD, SIZE_T, MEM_COMMIT, PAGE_READWRITE,
 * ERROR_INVALID_PARAMETER, STATUS_INVALID_PARAMETER, ...):
 *   - If Wine's Windows headers are reachable (<windef.h> on the include
 *     path: add them with -isystem, e.g.
 *     -isystem /usr/include/wine/wine/windows, since they do not build
 *     warning-free as user headers) or already included, this header
 *     includes <windef.h>, <winbase.h>, <winternl.h> and <ntstatus.h>
 *     itself, in the order that gives both winbase.h and the NTSTATUS
 *     codes.  Do not add Wine's msvcrt directory: it shadows libc.
 *   - Otherwise it defines the few types and constants its functions use
 *     itself, with the same underlying C types as Wine's (LLP64: DWORD,
 *     ULONG, LONG are 32-bit, SIZE_T and ULONG_PTR are pointer-sized) and
 *     the same calling convention, so the two kinds of caller share one
 *     library.  The library itself is built with these definitions, and
 *     its tests check them against Wine's where Wine's headers exist.
 *
 * The functions are declared WINAPI, as on Windows: on x86-64 that is the
 * Microsoft x64 calling convention (__attribute__((ms_abi))), which the
 * compiler handles at every call site; it matters only to callers that
 * bind them by hand (FFI), and it lets `UINT (WINAPI *p)(...) =
 * GetWriteWatch;` compile as on Windows.
 *
 * Semantics (those of Windows; Wine's conformance tests agree):
 *   - Memory comes only from ww_VirtualAlloc: reserving maps the range
 *     PROT_NONE (64 KiB aligned, like Windows' allocation granularity);
 *     committing applies the protection; decommitting frees the pages (they
 *     read as zero when committed again).  The other functions accept only
 *     memory from ww_VirtualAlloc.
 *   - A MEM_WRITE_WATCH allocation is watched from reservation to
 *     release, with one process-wide libwritewatch tracker opened on
 *     first use (backend: WW_BACKEND_AUTO, so the WW_BACKEND environment
 *     variable chooses it; see ww_win32_tracker()).  It costs what is
 *     committed, not what is reserved: pages are armed as they are first
 *     committed, and queries scan only pages that were committed; pages
 *     only reserved are never reported.
 *   - A page's write state survives protection changes, decommit,
 *     recommit and MEM_RESET, as on Windows: a page written before it was
 *     decommitted is reported until reset.
 *   - Writes by the kernel into committed watched memory (read(2), recv)
 *     are reported with the uffd backend.  The mprotect backend makes such
 *     system calls fail with EFAULT unless the buffer is first passed to
 *     ww_mark_written(ww_win32_tracker(), ...); Windows' ReadFile does the
 *     equivalent itself, and this layer has no ReadFile.
 *   - Memory the program locked (mlock(2), mlockall(MCL_FUTURE)) is
 *     decommitted and reset as any other.  With the uffd backend, though,
 *     giving locked pages write access (committing them read-write, or
 *     VirtualProtect from read-only to writable) makes the kernel fault
 *     them all in as writes: they are reported written until reset (never
 *     fewer pages than were written; the mprotect backend is exact).
 *   - Protections hold on watched pages as on any other, on every
 *     backend: a write to a PAGE_READONLY, PAGE_EXECUTE_READ or
 *     PAGE_NOACCESS page (committed or not) is an access violation
 *     (SIGSEGV) and is not reported.  The layer changes the protection of
 *     watched pages with ww_protect(); a program must not mprotect(2)
 *     them itself.
 *
 * Errors: the Win32 functions return FALSE / NULL / ~0u and set the calling
 * thread's last error (ww_GetLastError); success leaves it unchanged, as on
 * Windows.  The NT functions return an NTSTATUS and leave the last error
 * alone.  Pointers are checked for NULL only: an invalid non-NULL pointer
 * crashes (Windows would return ERROR_NOACCESS).
 *
 * Thread safety: every function may be called from any thread at any time.
 * Memory operations (VirtualAlloc/Free/Protect) exclude each other and the
 * write-watch queries; queries run concurrently with each other.  After
 * fork(), the child's write watches are gone: in the child, the write-watch
 * functions and MEM_WRITE_WATCH allocations fail with ERROR_NOT_SUPPORTED
 * (STATUS_NOT_SUPPORTED); everything else keeps working, provided no other
 * thread was inside this layer at the time of the fork.
 */
#ifndef WRITEWATCH_WIN32_H
#define WRITEWATCH_WIN32_H

#include <writewatch.h>

/* --- Windows types and constants ----------------------------------------- */
/* WW__WIN32_OWN_TYPES (internal: the library's build and its ABI test)
 * selects this header's own definitions even where Wine's are reachable:
 * the library is built with them, so it has one ABI, the same on every
 * build machine. */
#if defined(WW__WIN32_OWN_TYPES)
#elif defined(_WINDEF_)
#define WW__WINE_HEADERS 1
#elif defined(__has_include)
#if __has_include(<windef.h>) && __has_include(<winternl.h>) && \
    __has_include(<ntstatus.h>)
#define WW__WINE_HEADERS 1
#endif
#endif

#ifdef WW__WINE_HEADERS
/* Wine's headers use va_list without including <stdarg.h> (on i386 their
 * __ms_va_list is va_list; on x86-64 a compiler builtin hid this). */
#include <stdarg.h>
/* The STATUS_ codes come from ntstatus.h; winnt.h's partial, differently
 * typed set must be kept out first (WIN32_NO_STATUS), or the two clash. */
#ifndef _WINDEF_
#ifndef WIN32_NO_STATUS
#define WIN32_NO_STATUS
#define WW__DEFINED_NO_STATUS
#endif
#include <windef.h>
#ifdef WW__DEFINED_NO_STATUS
#undef WIN32_NO_STATUS
#undef WW__DEFINED_NO_STATUS
#endif
#endif /* !_WINDEF_ */
/* Included here, before the WW_WIN32_NAMES macros, so that a later include
 * by the program is a no-op: Wine declares VirtualAlloc & co. with hidden
 * visibility, which must not attach to the ww_ names. */
#include <winbase.h>
#include <winternl.h>
#if !defined(STATUS_ACCESS_VIOLATION) && !defined(WIN32_NO_STATUS)
#include <ntstatus.h>
#endif
#define WW_WINAPI WINAPI

#else /* !WW__WINE_HEADERS: the few definitions this header needs */

/* The calling convention of Wine's WINAPI (windef.h), so that both kinds
 * of caller agree with the library. */
#if defined(__x86_64__) && defined(__GNUC__)
#if defined(__has_attribute)
#if __has_attribute(__force_align_arg_pointer__)
#define WW_WINAPI __attribute__((ms_abi)) __attribute__((__force_align_arg_pointer__))
#endif
#endif
#ifndef WW_WINAPI
#define WW_WINAPI __attribute__((ms_abi))
#endif
#elif defined(__i386__) && defined(__GNUC__)
#define WW_WINAPI __attribute__((__stdcall__)) __attribute__((__force_align_arg_pointer__))
#elif defined(__arm__) && defined(__GNUC__) && !defined(__SOFTFP__)
#define WW_WINAPI __attribute__((pcs("aapcs-vfp")))
#elif defined(__aarch64__) && defined(__GNUC__) && defined(__has_attribute)
#if __has_attribute(ms_abi)
#define WW_WINAPI __attribute__((ms_abi))
#endif
#endif
#ifndef WW_WINAPI
#define WW_WINAPI
#endif

typedef int BOOL;
typedef unsigned int UINT;
#if defined(__LP64__)
typedef unsigned int DWORD, ULONG;
typedef int LONG;
#else
typedef unsigned long DWORD, ULONG;
typedef long LONG;
#endif
typedef unsigned long ULONG_PTR;    /* pointer-sized on LP64 and ILP32 */
typedef ULONG_PTR SIZE_T;
typedef DWORD *PDWORD, *LPDWORD;
typedef void *PVOID, *LPVOID, *HANDLE;
typedef LONG NTSTATUS;

#ifndef FALSE
#define FALSE 0
#endif
#ifndef TRUE
#define TRUE 1
#endif

#define MEM_COMMIT              0x00001000
#define MEM_RESERVE             0x00002000
#define MEM_DECOMMIT            0x00004000
#define MEM_RELEASE             0x00008000
#define MEM_RESET               0x00080000
#define MEM_TOP_DOWN            0x00100000
#define MEM_WRITE_WATCH         0x00200000
#define WRITE_WATCH_FLAG_RESET  0x00000001

#define PAGE_NOACCESS           0x01
#define PAGE_READONLY           0x02
#define PAGE_READWRITE          0x04
#define PAGE_WRITECOPY          0x08
#define PAGE_EXECUTE            0x10
#define PAGE_EXECUTE_READ       0x20
#define PAGE_EXECUTE_READWRITE  0x40
#define PAGE_EXECUTE_WRITECOPY  0x80
#define PAGE_GUARD              0x100

#define ERROR_SUCCESS               0
#define ERROR_TOO_MANY_OPEN_FILES   4
#define ERROR_ACCESS_DENIED         5
#define ERROR_INVALID_HANDLE        6
#define ERROR_NOT_ENOUGH_MEMORY     8
#define ERROR_GEN_FAILURE           31
#define ERROR_NOT_SUPPORTED         50
#define ERROR_INVALID_PARAMETER     87
#define ERROR_INVALID_ADDRESS       487
#define ERROR_NOACCESS              998

#define NtCurrentProcess() ((HANDLE)~(ULONG_PTR)0)

#endif /* WW__WINE_HEADERS */

/* The NTSTATUS values the NT functions return.  Defined here when the
 * program's own Windows headers (winnt.h without WIN32_NO_STATUS) lack
 * them; the spelling is ntstatus.h's, so a later include agrees. */
#ifndef STATUS_SUCCESS
#define STATUS_SUCCESS                   ((NTSTATUS) 0x00000000)
#endif
#ifndef STATUS_ACCESS_VIOLATION
#define STATUS_ACCESS_VIOLATION          ((NTSTATUS) 0xC0000005)
#endif
#ifndef STATUS_INVALID_HANDLE
#define STATUS_INVALID_HANDLE            ((NTSTATUS) 0xC0000008)
#endif
#ifndef STATUS_INVALID_PARAMETER
#define STATUS_INVALID_PARAMETER         ((NTSTATUS) 0xC000000D)
#endif
#ifndef STATUS_NOT_SUPPORTED
#define STATUS_NOT_SUPPORTED             ((NTSTATUS) 0xC00000BB)
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* --- memory ------------------------------------------------------------- */

/*
 * ww_VirtualAlloc - reserve and/or commit pages (Windows' VirtualAlloc).
 * type: MEM_RESERVE, MEM_COMMIT or both, optionally MEM_WRITE_WATCH (only
 *   with MEM_RESERVE: the whole allocation is watched) and MEM_TOP_DOWN
 *   (a hint, ignored).  MEM_COMMIT alone with address NULL also reserves.
 *   Or MEM_RESET alone: the contents of the pages (inside one allocation)
 *   are no longer needed and are freed, their protection and write state
 *   kept; they may read as zero afterwards; protect must still be valid.
 * address: NULL, or where to reserve (rounded down to 64 KiB; the range
 *   must be free), or the pages to commit (rounded to whole pages; they
 *   must lie inside one allocation).  Committing committed pages succeeds
 *   and applies the new protection; their contents and write state stay.
 * protect: PAGE_NOACCESS, PAGE_READONLY, PAGE_READWRITE, PAGE_EXECUTE,
 *   PAGE_EXECUTE_READ or PAGE_EXECUTE_READWRITE (WRITECOPY variants and the
 *   GUARD/NOCACHE/WRITECOMBINE modifiers are not supported).
 * Returns the allocation base (reserve) or the first committed page.
 * Errors: ERROR_INVALID_PARAMETER (size 0, overflow, bad type or
 *   protection, MEM_WRITE_WATCH without MEM_RESERVE), ERROR_INVALID_ADDRESS
 *   (the range is in use, or is not inside one allocation),
 *   ERROR_NOT_ENOUGH_MEMORY, ERROR_NOT_SUPPORTED (no write-watch backend
 *   can run here, or after fork), ERROR_ACCESS_DENIED (the system refused
 *   the protection, e.g. writable+executable).
 */
WW_API LPVOID WW_WINAPI ww_VirtualAlloc(LPVOID address, SIZE_T size,
                                        DWORD type, DWORD protect);

/*
 * ww_VirtualFree - decommit pages or release an allocation.
 * type: MEM_DECOMMIT (the pages of [address, address+size) rounded to
 *   whole pages, inside one allocation; size 0 = the whole allocation, and
 *   address must then be its base) or MEM_RELEASE (size must be 0 and
 *   address the allocation base; the whole allocation goes, watch
 *   included).  Decommitting reserved pages is allowed.
 * Errors: ERROR_INVALID_PARAMETER (other type, MEM_RELEASE with a size,
 *   range running past the allocation), ERROR_INVALID_ADDRESS (not in an
 *   allocation, or size 0 away from its base), ERROR_NOT_ENOUGH_MEMORY.
 */
WW_API BOOL WW_WINAPI ww_VirtualFree(LPVOID address, SIZE_T size, DWORD type);

/*
 * ww_VirtualProtect - change the protection of committed pages; *old gets
 * the previous protection of the first page.  The pages' write state is
 * kept.
 * Errors: ERROR_NOACCESS (old is NULL), ERROR_INVALID_PARAMETER (bad
 *   protection, size 0), ERROR_INVALID_ADDRESS (not inside one allocation,
 *   or a page in the range is not committed), ERROR_NOT_ENOUGH_MEMORY,
 *   ERROR_ACCESS_DENIED.
 */
WW_API BOOL WW_WINAPI ww_VirtualProtect(LPVOID address, SIZE_T size,
                                        DWORD protect, PDWORD old);

/* --- write watch ---------------------------------------------------------- */

/*
 * ww_GetWriteWatch - list the written pages of [base, base+size), which is
 * widened to whole pages and must lie inside one MEM_WRITE_WATCH
 * allocation (reserved and decommitted pages included: they are never
 * written).  On entry *count is the capacity of addresses[]; on success it
 * is the number stored: the lowest written pages, page-aligned, ascending.
 * *granularity is set to the page size.  With WRITE_WATCH_FLAG_RESET the
 * pages returned, and only those, are marked unwritten in the same atomic
 * step: a concurrent write is in this report or the next.  addresses[] is
 * not touched beyond the entries returned; it may itself lie in watched
 * memory.
 * Returns 0, or ~0u with the last error set:
 *   ERROR_INVALID_PARAMETER: base outside any write-watch allocation (NULL
 *     included), the range running past it, size 0, unknown flags,
 *     *count == 0;
 *   ERROR_NOACCESS: count or granularity NULL, addresses NULL with
 *     *count > 0;
 *   ERROR_NOT_SUPPORTED: in a fork child;
 *   ERROR_NOT_ENOUGH_MEMORY: re-arming failed (the kernel or the library
 *     ran out of memory).
 * On failure *count and *granularity are unchanged and, with
 * WRITE_WATCH_FLAG_RESET too, every page's write state is as it was.
 */
WW_API UINT WW_WINAPI ww_GetWriteWatch(DWORD flags, LPVOID base, SIZE_T size,
                                       LPVOID *addresses, ULONG_PTR *count,
                                       ULONG *granularity);

/*
 * ww_ResetWriteWatch - mark every page of [base, base+size) (widened to
 * whole pages, inside one MEM_WRITE_WATCH allocation) unwritten.
 * Returns 0, or ~0u with the last error set: ERROR_INVALID_PARAMETER (size
 * 0, range not inside one write-watch allocation), ERROR_NOT_SUPPORTED,
 * ERROR_NOT_ENOUGH_MEMORY (as for ww_GetWriteWatch; then only part of the
 * range may have been reset: call it again).
 */
WW_API UINT WW_WINAPI ww_ResetWriteWatch(LPVOID base, SIZE_T size);

/*
 * ww_NtGetWriteWatch / ww_NtResetWriteWatch - the same at NT level: the
 * status is returned, the last error is left alone.  process must be the
 * current process (NtCurrentProcess(), ww_GetCurrentProcess()), else
 * STATUS_INVALID_HANDLE.  Checks run in Wine's order: count/granularity
 * NULL (STATUS_ACCESS_VIOLATION), *count or size 0 and unknown flags
 * (STATUS_INVALID_PARAMETER), addresses NULL (STATUS_ACCESS_VIOLATION),
 * then the process handle, then the range (STATUS_INVALID_PARAMETER).
 */
WW_API NTSTATUS WW_WINAPI ww_NtGetWriteWatch(HANDLE process, ULONG flags,
                                             PVOID base, SIZE_T size,
                                             PVOID *addresses,
                                             ULONG_PTR *count,
                                             ULONG *granularity);
WW_API NTSTATUS WW_WINAPI ww_NtResetWriteWatch(HANDLE process, PVOID base,
                                               SIZE_T size);

/* --- errors and handles --------------------------------------------------- */

/* The calling thread's last error (0 in a new thread). */
WW_API DWORD WW_WINAPI ww_GetLastError(void);
WW_API void WW_WINAPI ww_SetLastError(DWORD error);

/* The current-process pseudo-handle, (HANDLE)~0, as on Windows. */
WW_API HANDLE WW_WINAPI ww_GetCurrentProcess(void);

/*
 * ww_win32_tracker - the layer's process-wide tracker, opened if needed
 * (NULL if no backend can run here).  For native calls on Win32
 * allocations, such as ww_mark_written() before a system call writes into
 * watched memory with the mprotect backend, or ww_tracker_backend().  Do
 * not unwatch or close it.
 */
WW_API ww_tracker *ww_win32_tracker(void);

#ifdef __cplusplus
}
#endif

/* --- plain Windows names ---------------------------------------------------- */
#ifdef WW_WIN32_NAMES
#define VirtualAlloc      ww_VirtualAlloc
#define VirtualFree       ww_VirtualFree
#define VirtualProtect    ww_VirtualProtect
#define GetWriteWatch     ww_GetWriteWatch
#define ResetWriteWatch   ww_ResetWriteWatch
#define NtGetWriteWatch   ww_NtGetWriteWatch
#define NtResetWriteWatch ww_NtResetWriteWatch
#define GetLastError      ww_GetLastError
#define SetLastError      ww_SetLastError
#define GetCurrentProcess ww_GetCurrentProcess
#endif

#endif /* WRITEWATCH_WIN32_H */
