/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * writewatch.h - which pages of watched memory were written?
 * Owns the public native API: every ww_* declaration but the Win32
 * layer's.
 *
 * libwritewatch gives Linux programs the semantics of the Windows write-watch
 * API (GetWriteWatch / ResetWriteWatch): every page of a watched range starts
 * clean; a write marks its page written; a query lists the written pages in
 * ascending order and can re-arm exactly the pages it returned, atomically,
 * so that a write racing with the query is never lost.
 *
 * Backends:
 *   uffd      userfaultfd asynchronous write-protect + the PAGEMAP_SCAN ioctl
 *             (Linux >= 6.7).  Writes are resolved inside the kernel: no
 *             signal, no thread, ~1.2 us for the first write to a clean page.
 *   mprotect  write-protection with mprotect(2) and a SIGSEGV handler, for
 *             kernels or sandboxes without the above.  Slower; writes made by
 *             the kernel itself (read(2) into a watched buffer) fail with
 *             EFAULT unless the range was first passed to ww_mark_written().
 *
 * The mprotect backend owns the protection of watched memory and shares
 * the process's SIGSEGV handling:
 *   - On first use it installs a SIGSEGV handler for the whole process and
 *     never removes it (do not unload the library afterwards).  Faults it
 *     does not claim go to the handler that was installed before it, as the
 *     kernel would have delivered them: SIG_DFL and SIG_IGN still kill with
 *     SIGSEGV.  That handler gets the mask the kernel would give it, but
 *     with SIGSEGV never blocked, so it may write to watched memory; where
 *     SIGSEGV would have been blocked (no SA_NODEFER), its own faults still
 *     kill the process.  A handler installed later must pass the faults it
 *     does not own to the one it replaced (sigaction's oldact), and no
 *     thread may block SIGSEGV, or writes to watched memory kill the process.
 *   - Watched memory may have any protection, but while it is watched
 *     change it only with ww_protect(), never with mprotect(2): the
 *     backend arms a page by taking PROT_WRITE away and needs to know
 *     which writes the program allows.  A write the protection forbids
 *     faults as it would without the library (and is not reported).
 *   - Each written page between clean pages costs a kernel VMA.  Near
 *     vm.max_map_count (65 530 by default) a write may make clean pages
 *     (neighbours, or in any watch) count as written too: over-reported,
 *     never lost.  Pages the program made read-only stay so, and keep
 *     their VMA boundaries while armed; only without a userfaultfd, if
 *     the program's own mappings hold every VMA, can a write that needs
 *     one (a writable page between read-only ones) not run: its SIGSEGV
 *     goes to the previous handler as for a forbidden write.
 *   - Unmapping watched memory, or putting a new mapping over it (mmap
 *     MAP_FIXED, mremap), makes the watch stale (-ESTALE) at the next call
 *     on it, and the backend never touches the new mapping: no protection
 *     change, no write let through.  It knows its own memory by
 *     registering it with a userfaultfd that write-protects nothing (one
 *     more system call per first write, ~1 us; unwatch walks the page
 *     tables once more).  Without userfaultfd (seccomp, Linux < 5.13) only
 *     a new mapping with write access, or with another protection than
 *     the page had, is told apart.  mremap() cannot move a watch that
 *     spans several mappings (EFAULT; written and clean pages are mappings
 *     of their own). Watching the new
 *     memory (with any tracker) makes the old watch stale at once: the
 *     library keeps one table of every tracker's watches, so an old watch
 *     can never report or re-arm the new one's writes.
 *   - In a fork child the inherited watches are released: the child's copy
 *     is plain memory with the protections last given, and what the child
 *     does to it (mprotect(2), munmap) holds.  After fork() this happens
 *     in the child at once (~7 us per watch, and the parent first checks
 *     each watch, ~3 us); after a raw fork (the system call, _Fork()) at
 *     the child's first write fault or backend call, so an mprotect(2) to
 *     read-only made by the child before that, on a clean watched page, is
 *     undone.  The parent's watches are not affected.
 *
 * Conventions (the same for every function):
 *   - Functions returning int return 0 on success and a negative errno value
 *     on failure (-EINVAL, ...); they never set errno on purpose and never
 *     abort.  ww_strerror() describes a code, including the meanings that
 *     are specific to this library (listed with each function).
 *   - Addresses and lengths must be multiples of ww_page_size().
 *   - Every function is thread-safe: calls on one tracker from many threads
 *     are allowed.  Queries (get, reset, mark, protect) on one tracker run
 *     concurrently; watch/unwatch briefly exclude them.  The only exception
 *     is ww_tracker_close(), which must not race with other calls on the same
 *     tracker.
 *   - After fork(), a tracker inherited from the parent can only be closed in
 *     the child; every other call returns -ECHILD (the kernel objects behind
 *     it still describe the parent's memory), and closing it there leaves
 *     the parent's watches alone.  The child is told by its copy of the
 *     memory (a MADV_WIPEONFORK page of the library's), so this holds for
 *     raw forks too (syscall(SYS_fork), _Fork(), clone without CLONE_VM),
 *     which run no pthread_atfork handlers.  A child that shares the
 *     parent's memory (vfork(), clone with CLONE_VM) is not a fork child:
 *     it may use the trackers as another thread would.  A program that
 *     discards that page (MADV_DONTNEED or MADV_FREE over a range it
 *     thinks it owns) is not taken for a fork child either; like any
 *     memory of another's, the page must not be unmapped, moved
 *     (mremap), protected (the next call faults) or made MADV_KEEPONFORK
 *     or MADV_DONTFORK.
 *   - A child of a raw fork of a multi-threaded process may, as POSIX says,
 *     call only async-signal-safe functions until it execs, and no function
 *     of this library is one: they may allocate or free memory, and
 *     ww_tracker_open() and ww_watch() read /proc through stdio.  Such a
 *     child's ww_watch() was seen to wait forever on glibc's stdio lock,
 *     held by a parent thread at the fork (about 1 child in 900 in
 *     tests/test_mprotect.c, test_raw_fork_under_table_changes).  After
 *     fork(), whose atfork handlers make malloc and stdio usable in the
 *     child, or in a single-threaded process, every call is fine.
 */
#ifndef WRITEWATCH_H
#define WRITEWATCH_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(WW_BUILDING_LIBRARY) && defined(__GNUC__)
#define WW_API __attribute__((visibility("default")))
#else
#define WW_API
#endif

/* An open tracker: its own kernel objects and its own set of watches. */
typedef struct ww_tracker ww_tracker;

/* Backend choice for ww_tracker_open(). */
enum ww_backend {
    WW_BACKEND_AUTO = 0,     /* the WW_BACKEND environment variable if set,
                                else uffd if the kernel has it, else mprotect */
    WW_BACKEND_UFFD = 1,
    WW_BACKEND_MPROTECT = 2
};

/* Flags for ww_watch() and ww_alloc(). */
#define WW_WATCH_KEEP_HUGEPAGES 0x1u  /* do not apply MADV_NOHUGEPAGE; a write
                                         may then be reported as a whole huge
                                         page on kernels that do not split it */
#define WW_WATCH_SPARSE 0x2u          /* pages PROT_NONE at watch time are
                                         dormant until ww_protect() gives
                                         them access (see ww_watch) */

/* Flags for ww_get() and ww_get_ranges(). */
#define WW_GET_RESET 0x1u             /* re-arm exactly the pages returned */

/* One run of written pages, as returned by ww_get_ranges(). */
struct ww_range {
    void *addr;                       /* page-aligned start */
    size_t len;                       /* bytes, a multiple of the page size */
};

/*
 * ww_tracker_open - open a tracker.
 * backend: WW_BACKEND_AUTO, _UFFD or _MPROTECT.  flags: must be 0.
 * Errors: -EINVAL (bad backend/flags, bad WW_BACKEND value, NULL out),
 *   -ENOSYS / -EPERM / -ENOTSUP (the requested backend cannot run here:
 *   no userfaultfd syscall, denied by policy, or the kernel lacks
 *   UFFD_FEATURE_WP_ASYNC, UFFD_FEATURE_WP_UNPOPULATED or PAGEMAP_SCAN),
 *   -ENOMEM, -EMFILE/-ENFILE (no file descriptor left).
 * On failure *out is set to NULL.
 */
WW_API int ww_tracker_open(ww_tracker **out, enum ww_backend backend,
                           unsigned flags);

/*
 * ww_tracker_close - unwatch everything and release the tracker.
 * NULL is accepted and ignored.  Must not race with other calls on the same
 * tracker.  Always succeeds (returns 0).
 */
WW_API int ww_tracker_close(ww_tracker *t);

/* ww_tracker_backend - the backend the tracker actually uses (never AUTO). */
WW_API enum ww_backend ww_tracker_backend(const ww_tracker *t);

/* ww_backend_name - "auto", "uffd", "mprotect", or "?" for other values. */
WW_API const char *ww_backend_name(enum ww_backend backend);

/*
 * ww_backend_available - 0 if the backend works in this process (probed once
 * by really watching a scratch page), else the negative errno that
 * ww_tracker_open() would return for it.
 */
WW_API int ww_backend_available(enum ww_backend backend);

/* ww_page_size - the granularity of write watching, in bytes. */
WW_API size_t ww_page_size(void);

/*
 * ww_watch - start watching [addr, addr+len); all its pages start clean.
 * The memory must be mapped private anonymous memory (MAP_PRIVATE |
 * MAP_ANONYMOUS, e.g. from malloc'd page-aligned blocks or mmap).  Unless
 * WW_WATCH_KEEP_HUGEPAGES is given, the range is advised MADV_NOHUGEPAGE
 * (kept after unwatch) so that a write always reports exactly its 4 KiB page.
 * Errors: -EINVAL (unaligned, len 0, addr+len overflows, unknown flags,
 *   NULL tracker), -EEXIST (overlaps a watch of this or another tracker,
 *   on either backend, whose memory is still there; a watch whose memory
 *   was unmapped or replaced becomes stale instead, see -ESTALE, but one
 *   of this tracker's keeps the range until it is unwatched),
 *   -EFAULT (part of the range is not mapped), -ENOTSUP (the memory is not
 *   private anonymous: file, shared memory, hugetlb; droppable memory
 *   (MAP_DROPPABLE), which the kernel may empty without a write; with
 *   mprotect also memory that is writable but not readable), -ENOMEM
 *   (also: no kernel VMA left to protect it, mprotect), -ECHILD.
 * Any protection is fine (PROT_NONE reservations included); with
 * mprotect, change it afterwards only with ww_protect().
 * WW_WATCH_SPARSE makes a big PROT_NONE reservation cost what is made
 * accessible, not what is reserved: its PROT_NONE pages are dormant (not
 * armed, never reported) until ww_protect() gives them access, which arms
 * them, clean, or ww_mark_written() marks them.  Give a dormant
 * page access only with ww_protect(), with either backend: one made
 * accessible with mprotect(2) stays dormant, and a query covering it
 * fails with -ESTALE (uffd: once it was written; mprotect: as soon as it
 * is accessible), never reports it clean.  Pages made PROT_NONE again
 * stay watched.
 */
WW_API int ww_watch(ww_tracker *t, void *addr, size_t len, unsigned flags);

/*
 * ww_unwatch - stop watching; addr and len must be exactly those of one
 * ww_watch() call.  The memory stays mapped and unchanged.  Succeeds also
 * for a stale watch (see -ESTALE below).
 * Errors: -EINVAL (NULL tracker, unaligned, len 0), -ENOENT (no such watch),
 *   -ECHILD.
 */
WW_API int ww_unwatch(ww_tracker *t, void *addr, size_t len);

/*
 * ww_alloc - mmap len bytes of private anonymous read-write memory and
 * watch it (flags as for ww_watch).  ww_free() undoes it.
 * Errors: as ww_watch(), plus -ENOMEM from mmap.  *out is NULL on failure.
 */
WW_API int ww_alloc(ww_tracker *t, size_t len, unsigned flags, void **out);

/* ww_free - unwatch and munmap memory from ww_alloc().  Errors: as
 * ww_unwatch(). */
WW_API int ww_free(ww_tracker *t, void *addr, size_t len);

/*
 * ww_get - list written pages of [addr, addr+len), which must lie inside one
 * watch.  On entry *count is the capacity of pages[] (> 0); on success it is
 * the number stored: the lowest written pages, ascending, page-aligned.
 * With WW_GET_RESET the pages returned (and only those) are re-armed in the
 * same kernel operation as the report, so a concurrent write is either in
 * this report or in a later one.  pages[] may itself lie in watched memory.
 * Never calls malloc or waits for a lock held outside the library, so it
 * may be called while the process's other threads are stopped anywhere (a
 * garbage collector's stop-the-world).  The uffd backend maps (mmap) a
 * larger scan buffer for the tracker when a get finds many runs: 384 KiB
 * at most, kept until ww_tracker_close().
 * Errors: -EINVAL (NULL tracker/pages/count, *count == 0, unaligned, len 0,
 *   overflow, unknown flags), -ENOENT (range not inside one watch),
 *   -ESTALE (the watched mapping was unmapped or replaced behind the
 *   library's back: its writes can no longer be known; unwatch and watch
 *   again), -ECHILD, or an unexpected kernel error.
 * On failure *count is unchanged and pages[] contents are unspecified; a
 * failed call with WW_GET_RESET reports nothing and leaves every page's
 * state as it was (what it had re-armed reads as written again).
 */
WW_API int ww_get(ww_tracker *t, void *addr, size_t len, unsigned flags,
                  void **pages, size_t *count);

/*
 * ww_get_ranges - as ww_get(), but reports maximal runs of written pages:
 * on entry *count is the capacity of ranges[], on success the number of
 * runs stored.  With WW_GET_RESET exactly the reported runs are re-armed.
 */
WW_API int ww_get_ranges(ww_tracker *t, void *addr, size_t len,
                         unsigned flags, struct ww_range *ranges,
                         size_t *count);

/*
 * ww_reset - mark every page of [addr, addr+len) (inside one watch) clean.
 * Errors: -EINVAL, -ENOENT, -ESTALE, -ECHILD as for ww_get().
 */
WW_API int ww_reset(ww_tracker *t, void *addr, size_t len);

/*
 * ww_mark_written - mark every page of [addr, addr+len) (inside one watch)
 * written, and make sure that those whose protection allows writing can
 * be written without a fault (the others keep their protection: a write
 * there still faults).  Use it for writes the library cannot see (I/O
 * through pinned pages such as io_uring fixed buffers or O_DIRECT, on
 * completion; /proc/PID/mem and MADV_DONTNEED with mprotect: see the
 * README, "What the kernel cannot see"), and before handing a watched
 * buffer to a system call with the mprotect backend.
 * Errors: -EINVAL, -ENOENT, -ESTALE, -ECHILD as for ww_get(); -ENOMEM
 *   (mprotect: no kernel VMA left; the pages are marked written all the
 *   same).
 */
WW_API int ww_mark_written(ww_tracker *t, void *addr, size_t len);

/*
 * ww_protect - change the protection of watched memory [addr, addr+len)
 * (inside one watch) to prot, as mprotect(2) would, keeping each page's
 * write state: a written page stays written, a clean page stays clean.
 * prot: PROT_NONE, PROT_READ or PROT_READ | PROT_WRITE, each optionally
 * | PROT_EXEC (<sys/mman.h>).  Afterwards a write the protection forbids
 * faults (SIGSEGV, as without the library) and is not reported; a write
 * it allows is reported.  Re-arming (WW_GET_RESET, ww_reset) keeps the
 * protection.  With the mprotect backend this is the only way to change
 * the protection of watched memory.
 * Errors: -EINVAL (NULL tracker, unaligned, len 0, overflow, other bits
 *   in prot, PROT_WRITE without PROT_READ), -ENOENT, -ESTALE, -ECHILD as
 *   for ww_get(); -ENOMEM (no kernel VMA left to split the mapping: as
 *   with mprotect(2), part of the range may then have the new protection
 *   and part the old; never is a write lost), -EACCES (the system refused
 *   the protection, e.g. a policy against executable memory).
 * Thread-safe, and a query like get/reset/mark: it runs concurrently with
 * other queries, and a write racing with it is checked against either the
 * old or the new protection.
 */
WW_API int ww_protect(ww_tracker *t, void *addr, size_t len, int prot);

/*
 * ww_strerror - a static English description of a code returned by this
 * library (negative or positive errno), with the library's own meanings.
 */
WW_API const char *ww_strerror(int err);

#ifdef __cplusplus
}
#endif

#endif /* WRITEWATCH_H */
