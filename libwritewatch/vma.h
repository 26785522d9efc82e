/*
 * vma.h - what kind of memory a range is, asked of the kernel.
 */
#ifndef WW_VMA_H
#define WW_VMA_H

#include <stdint.h>

/*
 * 0 if every page of [start, end) is mapped private anonymous memory with
 * base-size pages; -EFAULT if part of it is not mapped; -ENOTSUP if part of
 * it is shared, file-backed or hugetlb memory (writes through another
 * mapping of the same object could never be seen).
 */
int ww__check_private_anonymous(uintptr_t start, uintptr_t end);

#endif /* WW_VMA_H */
