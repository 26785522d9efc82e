/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * win32-mem.h - the NT-level memory operations of the Win32 layer, over
 * its allocation table (win32-mem.c).  win32.c wraps them in the public
 * Win32 and NT entry points.
 * Owns the NT-level operations' interface and the extra NTSTATUS codes.
 *
 * Each returns an NTSTATUS.  Arguments a Windows kernel would probe
 * (NULL output pointers) are checked by the caller; everything about the
 * range, the type and the protection is checked here.
 */
#ifndef WW_WIN32_MEM_H
#define WW_WIN32_MEM_H

/* The header's own Windows definitions, never Wine's: the library's
 * objects, and so its ABI, must not depend on what the build machine has
 * installed.  tests/win32_own_types.c checks them against Wine's. */
#ifndef WW__WIN32_OWN_TYPES
#define WW__WIN32_OWN_TYPES 1
#endif
#include "writewatch/win32.h"

/* The NTSTATUS codes the layer uses beyond those of the public header,
 * spelled as in Wine's ntstatus.h. */
#define STATUS_UNSUCCESSFUL              ((NTSTATUS) 0xC0000001)
#define STATUS_NO_MEMORY                 ((NTSTATUS) 0xC0000017)
#define STATUS_CONFLICTING_ADDRESSES     ((NTSTATUS) 0xC0000018)
#define STATUS_UNABLE_TO_FREE_VM         ((NTSTATUS) 0xC000001A)
#define STATUS_ACCESS_DENIED             ((NTSTATUS) 0xC0000022)
#define STATUS_NOT_COMMITTED             ((NTSTATUS) 0xC000002D)
#define STATUS_FREE_VM_NOT_AT_BASE       ((NTSTATUS) 0xC000009F)
#define STATUS_MEMORY_NOT_ALLOCATED      ((NTSTATUS) 0xC00000A0)
#define STATUS_TOO_MANY_OPENED_FILES     ((NTSTATUS) 0xC000011F)

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
