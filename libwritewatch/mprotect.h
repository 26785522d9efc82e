/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * mprotect.h - what the files of the mprotect backend share (internal).
 * Owns nothing but the declarations the mprotect-*.c files share.
 *
 *   mprotect.c          the backend's operations and the lost-write argument
 *   mprotect-watch.c    one watch: its bitmap, its lock, protecting pages
 *   mprotect-table.c    every watch of the process, for the fault handler;
 *                       fork children
 *   mprotect-mark.c     which memory (and which process) is the backend's
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
 * the caller's protections are read and changed under the lock only, as
 * are the states below (set once, never cleared; read without the lock
 * only as a hint). */
struct ww__mp_watch {
    uintptr_t start, end;
    size_t npages;
    atomic_int lock;            /* 0 free, 1 held, 2 held with waiters */
    atomic_int live;            /* armed: watch has finished */
    atomic_int dead;            /* disarmed (unwatch, a lost watch retired,
                                   a fork child's copy): what is still the
                                   backend's has its caller's protection */
    atomic_int lost;            /* part of it is no longer the memory the
                                   backend armed: stale */
    atomic_int orphaned;        /* inherited by this fork child */
    int marked;                 /* registered with the sentinel */
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
/* The table's writer lock, held around claim + insert (and taken by
 * remove and the fork handlers).  Never taken by the fault handler. */
void ww__mp_table_lock(void);
void ww__mp_table_unlock(void);

/* Under the writer lock: make [start, end) free for a new watch.  Each
 * watch overlapping it whose overlapped part is no longer the backend's is
 * retired (ww__mp_retire_lost) and leaves the table; 0, or -EEXIST if one
 * still owns its part. */
int ww__mp_table_claim(uintptr_t start, uintptr_t end);

/* Under the writer lock: add a watch (-EEXIST if it overlaps one,
 * -ENOMEM). */
int ww__mp_table_insert(struct ww__mp_watch *mw);

/* Remove a watch (never fails, never allocates, harmless for a watch not
 * in the table).  After it returns, no fault handler still uses the
 * watch: it may be freed. */
void ww__mp_table_remove(struct ww__mp_watch *mw);

/* For the handler: enter returns a ticket for leave; find is valid between
 * the two.  Async-signal-safe, lock-free. */
unsigned ww__mp_table_enter(void);
struct ww__mp_watch *ww__mp_table_find(uintptr_t addr);
void ww__mp_table_leave(unsigned ticket);

/*
 * Fork.  A child's inherited watches are not the library's any more: at
 * the first fault or backend call in the child (or in the pthread_atfork
 * child handler, after fork()), each gets its caller's protection back
 * (ww__mp_release) and the child's table is emptied.  The prepare handler
 * first retires watches that lost memory, while the marks still tell.
 */
void ww__mp_table_fork_prepare(void);
void ww__mp_table_fork_parent(void);
void ww__mp_table_fork_child(void);

/* 1 if this process was a fork child that had not released its inherited
 * watches yet (now it has), else 0.  Cheap (one load) when it returns 0.
 * Async-signal-safe.  Every entry point of the backend calls it first. */
int ww__mp_fork_check(void);

/* Changes at each release: a tracker opened before belongs to the parent. */
unsigned ww__mp_generation(void);

/* --- mprotect-mark.c ----------------------------------------------------- */
/* Once per process, before the first watch: the canary page. */
void ww__mp_mark_init(void);

/* Whether this is a fork child that has not called ww__mp_adopt() yet.
 * One load.  Async-signal-safe. */
int ww__mp_forked(void);

/* In a fork child whose inherited watches are released: let the parent's
 * sentinel go; the process is its own now.  Async-signal-safe. */
void ww__mp_adopt(void);

/* Register [start, end) with the sentinel (opened on first use), in the
 * class of memory the caller lets write or not (writable): 0, or -errno
 * and the range is not marked (-ENOTSUP: no marks here). */
int ww__mp_mark(uintptr_t start, uintptr_t end, int writable);
/* Unregister it: only ever for a range found marked. */
void ww__mp_unmark(uintptr_t start, uintptr_t end);
/* Move a marked range of one class to the other: 0; -ENOMEM (no VMA
 * left: still marked, in its old class); -ESTALE (no longer marked). */
int ww__mp_remark(uintptr_t start, uintptr_t end, int writable);

/* 1 if every page of [start, end) is marked, 0 if one is not (unmapped or
 * replaced), -1 if the marks cannot tell (no sentinel here, or it stopped
 * answering).  One system call per VMA, a few more for one not marked.
 * Async-signal-safe. */
int ww__mp_marked(uintptr_t start, uintptr_t end);

/* Call fn for the marked parts of [start, end) in ascending order: 0, or
 * -1 if the marks cannot tell (fn may have run for some parts). */
typedef void (*ww__mp_part_fn)(uintptr_t start, uintptr_t end, void *arg);
int ww__mp_marked_parts(uintptr_t start, uintptr_t end, ww__mp_part_fn fn,
                        void *arg);

/* The VMA containing addr, or the next one, from PROCMAP_QUERY on maps (an
 * fd of /proc/self/maps): 0, -ENOENT (none), -ENOTTY (no PROCMAP_QUERY:
 * Linux < 6.11) or -errno.  Async-signal-safe. */
struct ww__mp_vma {
    uintptr_t start, end;
    int prot;
};
int ww__mp_vma_at(int maps, uintptr_t addr, struct ww__mp_vma *v);

/* --- mprotect-signal.c --------------------------------------------------- */
/* Install the SIGSEGV handler (the caller makes sure it happens once).
 * It calls ww__mp_fault() for write faults on pages mapped without write
 * permission and chains everything else to the handler it replaced.  0 or
 * -errno. */
int ww__mp_signal_install(void);

/* --- mprotect.c ------------------------------------------------------------ */
/* A write fault at addr: 1 if it hit a watched page that is still the
 * backend's and that the caller lets write, which is now marked written
 * and writable, or a page that has become writable since the fault (the
 * write runs again); 0 if it is not ours.  Async-signal-safe. */
int ww__mp_fault(uintptr_t addr);

/* Under the table's writer lock (claim, fork prepare): if [start, end) of
 * mw is no longer all the backend's memory, disarm what still is and
 * return 1 (the caller takes mw out of the table); else 0.  A watch being
 * created or removed is left alone (0). */
int ww__mp_retire_lost(struct ww__mp_watch *mw, uintptr_t start,
                       uintptr_t end);

/* In a fork child, for each inherited watch: give its pages their
 * caller's protection (eager: right after fork(), where nothing can have
 * changed; else only pages whose mapping still looks as the backend left
 * it) and make it the parent's (orphaned).  The watch's lock is not
 * taken: the thread holding it did not survive the fork. */
void ww__mp_release(struct ww__mp_watch *mw, int eager);

#endif /* WW_MPROTECT_H */
