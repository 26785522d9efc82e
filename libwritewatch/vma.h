/*
 * vma.h - what kind of memory a range is, asked of the kernel.
 */
#ifndef WW_VMA_H
#define WW_VMA_H

#include <stdint.h>

/* For ww__check_private_anonymous(): also require exactly read-write,
 * not executable (the mprotect backend makes a faulting page read-write). */
#define WW__VMA_READ_WRITE 0x1u

/*
 * 0 if every page of [start, end) is mapped private anonymous memory with
 * base-size pages; -EFAULT if part of it is not mapped; -ENOTSUP if part of
 * it is shared, file-backed or hugetlb memory (writes through another
 * mapping of the same object could never be seen), or with
 * WW__VMA_READ_WRITE, not exactly read-write.  Without /proc (a bare
 * chroot) the kind cannot be known and the answer is 0.
 */
int ww__check_private_anonymous(uintptr_t start, uintptr_t end,
                                unsigned require);

#endif /* WW_VMA_H */
