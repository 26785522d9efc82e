/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * kernel-uapi.h - the userfaultfd and PAGEMAP_SCAN definitions of Linux 6.7,
 * for systems whose kernel headers predate them (Debian bookworm ships
 * linux-libc-dev 6.1).  Every definition is used only when the system's own
 * <linux/fs.h> and <linux/userfaultfd.h> lack it, so newer headers win.
 * Values are the kernel ABI (include/uapi/linux/fs.h, userfaultfd.h).
 * Owns every kernel ABI definition the library (and wwbench) uses beyond
 * the system's headers.
 */
#ifndef WW_KERNEL_UAPI_H
#define WW_KERNEL_UAPI_H

#include <linux/fs.h>
#include <linux/ioctl.h>
#include <linux/types.h>
#include <linux/userfaultfd.h>

#ifndef UFFD_USER_MODE_ONLY
#define UFFD_USER_MODE_ONLY 1
#endif
#ifndef UFFD_FEATURE_WP_UNPOPULATED
#define UFFD_FEATURE_WP_UNPOPULATED (1 << 13)
#endif
#ifndef UFFD_FEATURE_WP_ASYNC
#define UFFD_FEATURE_WP_ASYNC (1 << 15)
#endif

/* PAGEMAP_SCAN and its two structures arrived together in linux/fs.h. */
#ifndef PAGEMAP_SCAN

struct page_region {
    __u64 start;
    __u64 end;
    __u64 categories;
};

struct pm_scan_arg {
    __u64 size;
    __u64 flags;
    __u64 start;
    __u64 end;
    __u64 walk_end;
    __u64 vec;
    __u64 vec_len;
    __u64 max_pages;
    __u64 category_inverted;
    __u64 category_mask;
    __u64 category_anyof_mask;
    __u64 return_mask;
};

#define PAGEMAP_SCAN _IOWR('f', 16, struct pm_scan_arg)

#define PAGE_IS_WPALLOWED (1 << 0)
#define PAGE_IS_WRITTEN (1 << 1)
#define PAGE_IS_FILE (1 << 2)
#define PAGE_IS_PRESENT (1 << 3)
#define PAGE_IS_SWAPPED (1 << 4)
#define PAGE_IS_PFNZERO (1 << 5)
#define PAGE_IS_HUGE (1 << 6)
#define PAGE_IS_SOFT_DIRTY (1 << 7)

#define PM_SCAN_WP_MATCHING (1 << 0)
#define PM_SCAN_CHECK_WPASYNC (1 << 1)
#endif /* PAGEMAP_SCAN */

/* PROCMAP_QUERY (Linux 6.11): look up one VMA through /proc/self/maps. */
#ifndef PROCMAP_QUERY
struct procmap_query {
    __u64 size;
    __u64 query_flags;
    __u64 query_addr;
    __u64 vma_start;
    __u64 vma_end;
    __u64 vma_flags;
    __u64 vma_page_size;
    __u64 vma_offset;
    __u64 inode;
    __u32 dev_major;
    __u32 dev_minor;
    __u32 vma_name_size;
    __u32 build_id_size;
    __u64 vma_name_addr;
    __u64 build_id_addr;
};

#define PROCMAP_QUERY _IOWR('f', 17, struct procmap_query)
#define PROCMAP_QUERY_VMA_READABLE 0x01
#define PROCMAP_QUERY_VMA_WRITABLE 0x02
#define PROCMAP_QUERY_VMA_EXECUTABLE 0x04
#define PROCMAP_QUERY_VMA_SHARED 0x08
#endif /* PROCMAP_QUERY */

#endif /* WW_KERNEL_UAPI_H */
