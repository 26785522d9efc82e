/*
 * mprotect.h - what the files of the mprotect backend share (internal).
 *
 *   mprotect.c          the backend's operations and the lost-write argument
 *   mprotect-watch.c    one watch: its bitmap, its lock, protecting pages
 *   mprotect-table.c    every watch of the process, for the fault handler
 *   mprotect-signal.c   the SIGSEGV handler: install, write test, chaining
 *
 * Everything marked "async-signal-safe" may run in the SIGSEGV handler.
 */
#ifndef WW_MPROTECT_H
#define WW_MPROTECT_H

#include <signal.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

/* One watched range.  start, end and npages never change; the written
 * bitmap (one bit per page, set = written) is read and set atomically;
 * the caller's protections are read and changed under the lock only. */
struct ww__mp_watch {
    uintptr_t start, end;
    size_t npages;
    atomic_int lock;            /* 0 free, 1 held, 2 held with waiters */
    atomic_int dead;            /* unwatch has begun: pages have their
                                   caller's protection again */
    atomic_ulong *written;
    unsigned char *prot;        /* per page: the PROT_* bits the caller
                                   asked for (PROT_WRITE implies PROT_READ) */
    int uniform;                /* what every prot[] byte is, or -1 */
    int refused;                /* 0, or why the memory cannot be armed
                                   (-ENOTSUP: droppable), learnt once */
};

/* --- mprotect-watch.c ---------------------------------------------------- */
/* A watch of [start, end), not armed.  NULL if out of memory.  Memory the
 * kernel may discard at any time (MAP_DROPPABLE) is found here, and such a
 * watch never arms: ww__mp_arm() fails with mw->refused. */
struct ww__mp_watch *ww__mp_watch_new(uintptr_t start, uintptr_t end);
void ww__mp_watch_free(struct ww__mp_watch *mw);

/* The watch's lock: a futex, so the handler can take it.  Async-signal-
 * safe.  Code outside the handler must use the _nosig pair instead. */
void ww__mp_lock(struct ww__mp_watch *mw);
void ww__mp_unlock(struct ww__mp_watch *mw);

/* The lock with every signal blocked while it is held, so that no handler
 * can interrupt its holder and wait for it (libuv's signal lock). */
void ww__mp_lock_nosig(struct ww__mp_watch *mw, sigset_t *saved);
void ww__mp_unlock_nosig(struct ww__mp_watch *mw, const sigset_t *saved);

/* First page in [from, to) whose bit is set (want = 1) or clear (want =
 * 0); to if none.  Async-signal-safe. */
size_t ww__mp_find(const struct ww__mp_watch *mw, size_t from, size_t to,
                   int want);

/* Set the bits of pages [from, to).  Needs no lock: a set bit never hides
 * a write.  Async-signal-safe. */
void ww__mp_set_bits(struct ww__mp_watch *mw, size_t from, size_t to);

/* Before the watch is armed: record prot as the caller's protection of
 * pages [from, to), touching only the bytes that change (a big PROT_NONE
 * reservation keeps its array unpopulated).  Then, once all are recorded,
 * ww__mp_prot_recorded(). */
void ww__mp_set_prot(struct ww__mp_watch *mw, size_t from, size_t to,
                     int prot);
void ww__mp_prot_recorded(struct ww__mp_watch *mw);

/* Under the lock: mark pages [first, last) written and give each its
 * caller's protection, which makes it writable where the caller allows
 * writing; when the kernel is out of VMAs, widen that (marking more pages
 * written) or merge VMAs the library split, here or in other watches
 * whose lock is free.  0 or -errno (-ENOMEM: the program's own mappings
 * hold every VMA).  Async-signal-safe. */
int ww__mp_make_writable(struct ww__mp_watch *mw, size_t first, size_t last);

/* Under the lock: arm pages [from, to) whose bits are clear, i.e. take
 * PROT_WRITE out of the protection of those the caller lets write (pages
 * it does not are armed as they are).  0 or -errno (mw->refused for
 * memory that cannot be watched). */
int ww__mp_arm(struct ww__mp_watch *mw, size_t from, size_t to);

/* Under the lock: give pages [from, to) their caller's protection,
 * written or not (unwatch).  0 or -errno. */
int ww__mp_restore(struct ww__mp_watch *mw, size_t from, size_t to);

/* Under the lock: the caller's protection of [from, to) becomes prot;
 * written pages get it, armed pages get it without PROT_WRITE.  0 or
 * -errno (then part of the range may still be as it was: mprotect(2)
 * stops at its first failure; no clear page is ever made writable). */
int ww__mp_protect(struct ww__mp_watch *mw, size_t from, size_t to, int prot);

/* Written pages [from, to) of a watch. */
struct ww__mp_run {
    size_t from, to;
};

/* Under the lock: clear the bits of the runs (ascending), then arm them.
 * A run mprotect refuses gets its bits set again (it stays written and is
 * reported again).  0, or the first error other than ENOMEM (out of VMAs:
 * over-reporting is the remedy, not an error). */
int ww__mp_rearm(struct ww__mp_watch *mw, const struct ww__mp_run *runs,
                 size_t n);

static inline void *ww__mp_page_addr(const struct ww__mp_watch *mw, size_t i,
                                     size_t page)
{
    return (void *)(mw->start + i * page);
}

/* --- mprotect-table.c ---------------------------------------------------- */
/* Add a watch (-EEXIST if it overlaps one, -ENOMEM) / remove it (never
 * fails, never allocates).  After remove returns, no fault handler still
 * uses the watch: it may be freed. */
int ww__mp_table_insert(struct ww__mp_watch *mw);
/* Whether [start, end) overlaps a watch (of any tracker) right now. */
int ww__mp_table_overlaps(uintptr_t start, uintptr_t end);
void ww__mp_table_remove(struct ww__mp_watch *mw);

/* For the handler: enter returns a ticket for leave; find is valid between
 * the two.  Async-signal-safe, lock-free. */
unsigned ww__mp_table_enter(void);
struct ww__mp_watch *ww__mp_table_find(uintptr_t addr);
void ww__mp_table_leave(unsigned ticket);

/* pthread_atfork handlers: fork never splits a table change; the child
 * forgets locks held by threads that did not survive the fork. */
void ww__mp_table_fork_prepare(void);
void ww__mp_table_fork_parent(void);
void ww__mp_table_fork_child(void);

/* --- mprotect-signal.c --------------------------------------------------- */
/* Install the SIGSEGV handler (the caller makes sure it happens once).
 * It calls ww__mp_fault() for write faults on pages mapped without write
 * permission and chains everything else to the handler it replaced.  0 or
 * -errno. */
int ww__mp_signal_install(void);

/* --- mprotect.c ------------------------------------------------------------ */
/* A write fault at addr: 1 if it hit a watched page that the caller lets
 * write, which is now marked written and writable, or a page that has
 * become writable since the fault (the write runs again); 0 if it is not
 * ours.  Async-signal-safe. */
int ww__mp_fault(uintptr_t addr);

#endif /* WW_MPROTECT_H */
