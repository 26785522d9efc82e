/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * vma.h - what kind of memory a range is, and with which protection,
 * asked of the kernel.
 * Declares vma.c's questions.
 */
#ifndef WW_VMA_H
#define WW_VMA_H

#include <stdint.h>

/* The protection of memory that could not be looked at (no /proc). */
#define WW__VMA_PROT_UNKNOWN (-1)

/* One VMA's share of a walked range. */
struct ww__vma {
    uintptr_t start, end;       /* clipped to the range walked */
    int prot;                   /* PROT_READ | PROT_WRITE | PROT_EXEC bits,
                                   or WW__VMA_PROT_UNKNOWN */
};

/* Called by the walk for each VMA: 0 to go on, or a negative errno that
 * stops the walk. */
typedef int (*ww__vma_fn)(const struct ww__vma *v, void *arg);

/*
 * Walk the VMAs covering [start, end) in ascending order, calling fn (if
 * not NULL) for each once it is known to be private anonymous memory with
 * base-size pages.  Returns 0; -EFAULT if part of the range is not
 * mapped; -ENOTSUP if part of it is shared, file-backed or hugetlb memory
 * (writes through another mapping of the same object could never be
 * seen); or fn's error.  fn may have run for the VMAs before the
 * one that failed.  Without /proc (a bare chroot) nothing can be known:
 * fn runs once for the whole range, with WW__VMA_PROT_UNKNOWN, and the
 * answer is 0.
 */
int ww__vma_walk(uintptr_t start, uintptr_t end, ww__vma_fn fn, void *arg);

/* The walk's verdict alone: 0, -EFAULT or -ENOTSUP as above; and
 * -ENOTSUP for droppable memory on kernels whose userfaultfd registers it
 * (6.11 to 6.15: see ww__check_not_droppable).  For the uffd backend. */
int ww__vma_check_private_anonymous(uintptr_t start, uintptr_t end);

/*
 * -ENOTSUP if part of [start, end) is droppable memory (MAP_DROPPABLE,
 * Linux >= 6.11), whose contents the kernel may discard at any time
 * without a write to show it; 0 if not, or if it cannot be known (no
 * /proc); another -errno (-EMFILE) if the kernel could not be asked.
 * Without side effects, but reads /proc/self/smaps up to the range, which
 * costs 7-9 us per VMA below it and 25-60 ms per GiB resident there: ask
 * once per watch, not per query.  Free on kernels before 6.11.
 */
int ww__check_not_droppable(uintptr_t start, uintptr_t end);

#endif /* WW_VMA_H */
