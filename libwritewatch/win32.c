/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * win32.c - the Win32 and NT entry points of the Windows layer.
 * Owns the Win32/NT entry points, the thread's last error and both error
 * translations.
 *
 * Built as Windows is: each Win32 function calls the NT-level operation
 * (win32-mem.c) and turns a failing NTSTATUS into the thread's last error.
 * This file is the only place where errors change vocabulary: native
 * errors (-errno) become NTSTATUS codes in ww__status_from_errno(), and
 * NTSTATUS codes become Win32 error codes in win32_error(), as
 * RtlNtStatusToDosError does.  Nothing below the layer knows Windows
 * codes.
 */
#include "config.h"

#include <errno.h>

#include "internal.h"
#include "win32-mem.h"

#define CURRENT_PROCESS ((HANDLE)~(ULONG_PTR)0)

/* The thread's last error, reached only through last_error_slot(), which
 * has the platform's own calling convention.  GCC 12 miscompiles a
 * thread-local access inside an ms_abi (WINAPI) function: the value it
 * keeps in %edi across the __tls_get_addr call is overwritten by that
 * call's argument (measured: every failing call reported garbage). */
static _Thread_local DWORD last_error;

static __attribute__((noinline)) DWORD *last_error_slot(void)
{
    return &last_error;
}

/* --- error vocabularies --------------------------------------------------- */
NTSTATUS ww__status_from_errno(int err)
{
    switch (-err) {
    case 0: return STATUS_SUCCESS;
    /* Bad argument, no such watch, or a mapping lost behind the layer's
     * back: to Windows, all "not a write-watch range". */
    case EINVAL:
    case ENOENT:
    case ESTALE:
    case EEXIST: return STATUS_INVALID_PARAMETER;
    case ENOMEM: return STATUS_NO_MEMORY;
    case EFAULT: return STATUS_ACCESS_VIOLATION;
    case EACCES:
    case EPERM: return STATUS_ACCESS_DENIED;
    /* No backend can run here, or a fork child's inherited tracker. */
    case ENOSYS:
    case ENOTSUP:
    case ECHILD: return STATUS_NOT_SUPPORTED;
    case EMFILE:
    case ENFILE: return STATUS_TOO_MANY_OPENED_FILES;
    }
    return STATUS_UNSUCCESSFUL;
}

static DWORD win32_error(NTSTATUS status)
{
    switch (status) {
    case STATUS_SUCCESS: return ERROR_SUCCESS;
    case STATUS_INVALID_PARAMETER:
    case STATUS_UNABLE_TO_FREE_VM: return ERROR_INVALID_PARAMETER;
    case STATUS_ACCESS_VIOLATION: return ERROR_NOACCESS;
    case STATUS_INVALID_HANDLE: return ERROR_INVALID_HANDLE;
    case STATUS_NO_MEMORY: return ERROR_NOT_ENOUGH_MEMORY;
    case STATUS_CONFLICTING_ADDRESSES:
    case STATUS_MEMORY_NOT_ALLOCATED:
    case STATUS_FREE_VM_NOT_AT_BASE:
    case STATUS_NOT_COMMITTED: return ERROR_INVALID_ADDRESS;
    case STATUS_ACCESS_DENIED: return ERROR_ACCESS_DENIED;
    case STATUS_NOT_SUPPORTED: return ERROR_NOT_SUPPORTED;
    case STATUS_TOO_MANY_OPENED_FILES: return ERROR_TOO_MANY_OPEN_FILES;
    }
    return ERROR_GEN_FAILURE;
}

/* Whether status is a failure, which it then records as the thread's last
 * error (Win32's convention: success leaves the last error as it was). */
static int note_failure(NTSTATUS status)
{
    if (status == STATUS_SUCCESS)
        return 0;
    *last_error_slot() = win32_error(status);
    return 1;
}

/* --- errors and handles --------------------------------------------------- */
DWORD WW_WINAPI ww_GetLastError(void)
{
    return *last_error_slot();
}

void WW_WINAPI ww_SetLastError(DWORD error)
{
    *last_error_slot() = error;
}

HANDLE WW_WINAPI ww_GetCurrentProcess(void)
{
    return CURRENT_PROCESS;
}

/* --- memory --------------------------------------------------------------- */
LPVOID WW_WINAPI ww_VirtualAlloc(LPVOID address, SIZE_T size, DWORD type,
                                 DWORD protect)
{
    if (note_failure(ww__vm_allocate(&address, size, type, protect)))
        return NULL;
    return address;
}

BOOL WW_WINAPI ww_VirtualFree(LPVOID address, SIZE_T size, DWORD type)
{
    return !note_failure(ww__vm_free(address, size, type));
}

BOOL WW_WINAPI ww_VirtualProtect(LPVOID address, SIZE_T size, DWORD protect,
                                 PDWORD old)
{
    ULONG previous;

    if (!old)
        return !note_failure(STATUS_ACCESS_VIOLATION);
    if (note_failure(ww__vm_protect(address, size, protect, &previous)))
        return FALSE;
    *old = previous;
    return TRUE;
}

/* --- write watch ------------------------------------------------------------ */
NTSTATUS WW_WINAPI ww_NtGetWriteWatch(HANDLE process, ULONG flags, PVOID base,
                                      SIZE_T size, PVOID *addresses,
                                      ULONG_PTR *count, ULONG *granularity)
{
    NTSTATUS status;

    if (!count || !granularity)
        return STATUS_ACCESS_VIOLATION;
    if (*count == 0 || size == 0 || (flags & ~WRITE_WATCH_FLAG_RESET))
        return STATUS_INVALID_PARAMETER;
    if (!addresses)
        return STATUS_ACCESS_VIOLATION;
    if (process != CURRENT_PROCESS)
        return STATUS_INVALID_HANDLE;
    status = ww__vm_get_write_watch(flags & WRITE_WATCH_FLAG_RESET, base,
                                    size, addresses, count);
    if (status == STATUS_SUCCESS)
        *granularity = (ULONG)ww__page_size();
    return status;
}

NTSTATUS WW_WINAPI ww_NtResetWriteWatch(HANDLE process, PVOID base,
                                        SIZE_T size)
{
    if (size == 0)
        return STATUS_INVALID_PARAMETER;
    if (process != CURRENT_PROCESS)
        return STATUS_INVALID_HANDLE;
    return ww__vm_reset_write_watch(base, size);
}

UINT WW_WINAPI ww_GetWriteWatch(DWORD flags, LPVOID base, SIZE_T size,
                                LPVOID *addresses, ULONG_PTR *count,
                                ULONG *granularity)
{
    if (note_failure(ww_NtGetWriteWatch(CURRENT_PROCESS, flags, base, size,
                                  addresses, count, granularity)))
        return ~0u;
    return 0;
}

UINT WW_WINAPI ww_ResetWriteWatch(LPVOID base, SIZE_T size)
{
    if (note_failure(ww_NtResetWriteWatch(CURRENT_PROCESS, base, size)))
        return ~0u;
    return 0;
}
