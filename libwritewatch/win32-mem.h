/*
 * win32-mem.h - the NT-level memory operations of the Win32 layer, over
 * its allocation table (win32-mem.c).  win32.c wraps them in the public
 * Win32 and NT entry points.
 *
 * Each returns an NTSTATUS.  Arguments a Windows kernel would probe
 * (NULL output pointers) are checked by the caller; everything about the
 * range, the type and the protection is checked here.
 */
#ifndef WW_WIN32_MEM_H
#define WW_WIN32_MEM_H

#include "writewatch/win32.h"

/* NtAllocateVirtualMemory: *address in (requested, may be NULL) and out. */
NTSTATUS ww__vm_allocate(void **address, SIZE_T size, ULONG type,
                         ULONG protect);

/* NtFreeVirtualMemory for MEM_DECOMMIT and MEM_RELEASE. */
NTSTATUS ww__vm_free(void *address, SIZE_T size, ULONG type);

/* NtProtectVirtualMemory; old must not be NULL. */
NTSTATUS ww__vm_protect(void *address, SIZE_T size, ULONG protect,
                        ULONG *old);

/* NtGetWriteWatch after the pointer, flag and zero checks: size > 0,
 * *count > 0, addresses != NULL. */
NTSTATUS ww__vm_get_write_watch(int reset, void *base, SIZE_T size,
                                void **addresses, ULONG_PTR *count);

/* NtResetWriteWatch after the zero-size check. */
NTSTATUS ww__vm_reset_write_watch(void *base, SIZE_T size);

/* A native error (0 or -errno) as an NTSTATUS: the one translation from
 * the native library's errors (win32.c). */
NTSTATUS ww__status_from_errno(int err);

#endif /* WW_WIN32_MEM_H */
