/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * tracker.c - the public native API: argument checks, the tracker's life
 * cycle, backend choice, locking, and fork safety.  Everything below the
 * backend table (backend.h) is somebody else's concern.
 * Owns struct ww_tracker, every function writewatch.h declares
 * (ww_page_size is internal.c's page size under its public name), and
 * the backend probe and its cache.
 */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "alloc.h"
#include "backend.h"
#include "config.h"
#include "registry.h"
#include "vma.h"
#include "watches.h"

struct ww_tracker {
    const struct ww__backend_ops *ops;
    void *priv;                 /* the backend's per-tracker state */
    /* Queries take it shared, so queries on one tracker never serialise on
     * it; watch/unwatch take it exclusive so a watch cannot vanish under a
     * query. */
    pthread_rwlock_t lock;
    struct ww__registry watches;
    /* The copy of the address space that opened it (watches.h,
     * ww__space).  A userfaultfd and an fd on /proc/self/pagemap opened
     * before fork() keep describing the parent's memory in the child: an
     * ioctl on them from the child would re-protect (and so lose) the
     * parent's written pages.  A tracker used in another copy refuses
     * everything but close.  Not a pthread_atfork generation: a raw fork
     * runs no atfork handler. */
    unsigned long space;
};

static int forked_since_open(const ww_tracker *t)
{
    return t->space != ww__space() && t->space != ww__space_confirm();
}

/* --- backends ------------------------------------------------------------ */
static const struct ww__backend_ops *const backends[] = {
    &ww__uffd_ops,
    &ww__mprotect_ops,
};
#define N_BACKENDS (sizeof(backends) / sizeof(backends[0]))

static const struct ww__backend_ops *find_backend(enum ww_backend id)
{
    for (size_t i = 0; i < N_BACKENDS; i++)
        if (backends[i]->id == id)
            return backends[i];
    return NULL;
}

static int choose_backend(enum ww_backend *backend);

/* Out of fds or memory says nothing about the kernel: such a probe result
 * is not cached, and asked again next time rather than give up on the
 * backend for good. */
static int says_nothing(int r)
{
    return r == -EMFILE || r == -ENFILE || r == -ENOMEM;
}

/*
 * Whether a backend works in this process: the real thing on a scratch
 * mapping, through its own operations, since some kernels (and seccomp
 * sandboxes) pass every feature check and still fail later.  Map two
 * pages, watch, write the second, get+RESET: exactly that page must come
 * back.  The backend's open says why it cannot run; any later failure
 * means it does not work here (-ENOTSUP), unless it says nothing.
 */
static int probe(const struct ww__backend_ops *ops)
{
    size_t page = ww__page_size();
    struct ww__watch w = { 0 };
    struct ww__sink sink;
    void *found[2], *priv;
    char *mem;
    int r = ops->open(&priv);

    if (r < 0)
        return r;
    mem = mmap(NULL, 2 * page, PROT_READ | PROT_WRITE,
               MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (mem == MAP_FAILED) {
        ops->close(priv, 0);
        return -ENOMEM;
    }
    w.start = (uintptr_t)mem;
    w.end = w.start + 2 * page;
    ww__sink_init(&sink, found, NULL, 2);
    r = ops->watch(priv, &w);
    if (r == 0) {
        ((volatile char *)mem)[page] = 1;
        r = ops->get(priv, &w, w.start, w.end, 1, &sink);
        if (r == 0 && (sink.n != 1 || found[0] != mem + page))
            r = -ENOTSUP;
        ops->disarm(priv, &w, 0);
        ops->free_watch(priv, &w);
    }
    munmap(mem, 2 * page);
    ops->close(priv, 0);
    return r == 0 || says_nothing(r) ? r : -ENOTSUP;
}

/* Probe results, cached per process: a probe maps memory and opens fds,
 * which is too much to do on every open.  INT_MIN = not probed yet; two
 * threads probing at once compute the same answer. */
static atomic_int probe_cache[3] = { INT_MIN, INT_MIN, INT_MIN };

int ww_backend_available(enum ww_backend backend)
{
    const struct ww__backend_ops *ops;
    int r;

    /* What ww_tracker_open would do, WW_BACKEND included. */
    if (backend == WW_BACKEND_AUTO) {
        r = choose_backend(&backend);
        if (r < 0)
            return r;
    }
    ops = find_backend(backend);
    if (!ops)
        return -EINVAL;
    r = atomic_load(&probe_cache[backend]);
    if (r == INT_MIN) {
        r = probe(ops);
        if (!says_nothing(r))
            atomic_store(&probe_cache[backend], r);
    }
    return r;
}

/* Resolve AUTO: the WW_BACKEND environment variable, else the first backend
 * whose probe succeeds (uffd before mprotect). */
static int choose_backend(enum ww_backend *backend)
{
    const char *env = getenv("WW_BACKEND");
    int r;

    if (*backend != WW_BACKEND_AUTO)
        return 0;
    if (env && *env && strcmp(env, "auto") != 0) {
        if (strcmp(env, "uffd") == 0)
            *backend = WW_BACKEND_UFFD;
        else if (strcmp(env, "mprotect") == 0)
            *backend = WW_BACKEND_MPROTECT;
        else
            return -EINVAL;
        return 0;
    }
    r = ww_backend_available(WW_BACKEND_UFFD);
    if (r == 0 || ww_backend_available(WW_BACKEND_MPROTECT) != 0) {
        *backend = WW_BACKEND_UFFD;     /* open then reports uffd's error */
        return 0;
    }
    *backend = WW_BACKEND_MPROTECT;
    return 0;
}

const char *ww_backend_name(enum ww_backend backend)
{
    switch (backend) {
    case WW_BACKEND_AUTO: return "auto";
    case WW_BACKEND_UFFD: return "uffd";
    case WW_BACKEND_MPROTECT: return "mprotect";
    }
    return "?";
}

/* The public name of the one page size (internal.c). */
size_t ww_page_size(void)
{
    return ww__page_size();
}

/* --- life cycle ---------------------------------------------------------- */
int ww_tracker_open(ww_tracker **out, enum ww_backend backend, unsigned flags)
{
    ww_tracker *t;
    int r;

    if (!out)
        return -EINVAL;
    *out = NULL;
    if (flags != 0 || (unsigned)backend > WW_BACKEND_MPROTECT)
        return -EINVAL;
    r = choose_backend(&backend);
    if (r < 0)
        return r;
    r = ww_backend_available(backend);
    if (r < 0)
        return r;

    t = ww__calloc(1, sizeof(*t));
    if (!t)
        return -ENOMEM;
    t->ops = find_backend(backend);
    r = ww__space_claim(&t->space);
    if (r < 0) {
        free(t);
        return r;
    }
    r = pthread_rwlock_init(&t->lock, NULL);
    if (r != 0) {
        free(t);
        return -r;
    }
    r = t->ops->open(&t->priv);
    if (r < 0) {
        pthread_rwlock_destroy(&t->lock);
        free(t);
        return r;
    }
    *out = t;
    return 0;
}

/* Take w out of the process-wide table, disarm it unless a newer watch
 * did already (see take_range), and free it.  The table's lock is held
 * across the disarm: a new watch over the same range must not be armed
 * before this one has let go of it. */
static void release_watch(ww_tracker *t, struct ww__watch *w, int forked)
{
    ww__watches_lock();
    ww__watches_remove(w);
    if (!w->disarmed)
        t->ops->disarm(t->priv, w, forked);
    w->disarmed = 1;
    ww__watches_unlock();
    t->ops->free_watch(t->priv, w);
    free(w->active);
    free(w);
}

int ww_tracker_close(ww_tracker *t)
{
    int forked;

    if (!t)
        return 0;
    /* In a fork child the lock may have been copied while held by a thread
     * that does not exist here; the child is the only user, so skip it. */
    forked = forked_since_open(t);
    if (!forked)
        pthread_rwlock_wrlock(&t->lock);
    for (size_t i = 0; i < t->watches.n; i++)
        release_watch(t, t->watches.v[i], forked);
    ww__registry_free(&t->watches);
    t->ops->close(t->priv, forked);
    if (!forked)
        pthread_rwlock_unlock(&t->lock);
    pthread_rwlock_destroy(&t->lock);
    free(t);
    return 0;
}

enum ww_backend ww_tracker_backend(const ww_tracker *t)
{
    return t ? t->ops->id : WW_BACKEND_AUTO;
}

/* --- argument checks ----------------------------------------------------- */

/* A non-empty, page-aligned range that does not wrap around. */
static int check_range(const void *addr, size_t len, uintptr_t *start,
                       uintptr_t *end)
{
    uintptr_t a = (uintptr_t)addr, mask = ww__page_size() - 1;

    if (len == 0 || (a & mask) || (len & mask) || a > UINTPTR_MAX - len)
        return -EINVAL;
    *start = a;
    *end = a + len;
    return 0;
}

/* Common prologue of every call that touches the tracker's watches. */
static int begin_call(ww_tracker *t, const void *addr, size_t len, uintptr_t *start,
                 uintptr_t *end)
{
    int r;

    if (!t)
        return -EINVAL;
    r = check_range(addr, len, start, end);
    if (r < 0)
        return r;
    if (forked_since_open(t)) {
        if (t->ops->in_child)
            t->ops->in_child();
        return -ECHILD;
    }
    return 0;
}

/* begin_call, then the tracker's lock (exclusive for unwatch, shared for
 * queries) and the watch that holds all of [*start, *end): 0 with the
 * lock held, or -errno without it. */
static int begin_on_watch(ww_tracker *t, const void *addr, size_t len,
                          int exclusive, struct ww__watch **w,
                          uintptr_t *start, uintptr_t *end)
{
    int r = begin_call(t, addr, len, start, end);

    if (r < 0)
        return r;
    if (exclusive)
        pthread_rwlock_wrlock(&t->lock);
    else
        pthread_rwlock_rdlock(&t->lock);
    *w = ww__registry_find(&t->watches, *start, *end);
    if (*w)
        return 0;
    pthread_rwlock_unlock(&t->lock);
    return -ENOENT;
}

/* --- watches -------------------------------------------------------------
 * A new watch takes its range in the process-wide table.  A live watch
 * there that overlaps it either still holds its memory (then the range
 * is taken: -EEXIST, whichever tracker or backend has it) or has lost it:
 * unmapped, or replaced by the mapping about to be watched.  That one is
 * superseded: marked stale, disarmed (only what its backend still owns),
 * and dropped from the table, so that it can never again re-arm, and so
 * steal, the new watch's writes.  Under the table's lock. */
static int take_range(uintptr_t start, uintptr_t end)
{
    struct ww__watch *o;

    while ((o = ww__watches_first_overlap(start, end)) != NULL) {
        const struct ww_tracker *owner = o->owner;
        uintptr_t lo = o->start > start ? o->start : start;
        uintptr_t hi = o->end < end ? o->end : end;
        int r = owner->ops->owns(owner->priv, o, lo, hi);

        if (r != 0)
            return r < 0 ? r : -EEXIST;
        ww__mark_stale(o);
        owner->ops->disarm(owner->priv, o, 0);
        o->disarmed = 1;
        ww__watches_remove(o);
    }
    return 0;
}

/* ww__vma_walk() callback: a sparse watch's accessible VMAs are active
 * from the start (without /proc, all of it is: nothing is dormant then). */
static int note_accessible(const struct ww__vma *v, void *arg)
{
    struct ww__watch *w = arg;
    struct ww__run *a;

    if (v->prot == PROT_NONE)
        return 0;
    if (w->n_active && w->active[w->n_active - 1].end == v->start) {
        w->active[w->n_active - 1].end = v->end;
        return 0;
    }
    a = ww__array_grow(w->active, w->n_active, &w->cap_active, sizeof(*a));
    if (!a)
        return -ENOMEM;
    w->active = a;
    a[w->n_active].start = v->start;
    a[w->n_active].end = v->end;
    w->n_active++;
    return 0;
}

/* Arm the active runs of a new sparse watch (its backend armed nothing,
 * or everything: arming again changes nothing). */
static int arm_active(ww_tracker *t, struct ww__watch *w)
{
    int r = 0;

    for (size_t i = 0; r == 0 && i < w->n_active; i++)
        r = t->ops->reset(t->priv, w, w->active[i].start, w->active[i].end);
    return r;
}

int ww_watch(ww_tracker *t, void *addr, size_t len, unsigned flags)
{
    struct ww__watch *w;
    uintptr_t start, end;
    int r = begin_call(t, addr, len, &start, &end);

    if (r < 0)
        return r;
    if (flags & ~(WW_WATCH_KEEP_HUGEPAGES | WW_WATCH_SPARSE))
        return -EINVAL;
    w = ww__calloc(1, sizeof(*w));
    if (!w)
        return -ENOMEM;
    w->start = start;
    w->end = end;
    w->flags = flags;
    w->owner = t;

    pthread_rwlock_wrlock(&t->lock);
    ww__watches_lock();
    r = take_range(start, end);
    /* A stale watch of this tracker stays in its registry until unwatched:
     * the range is not free for this tracker before that. */
    if (r == 0 && ww__registry_overlaps(&t->watches, start, end))
        r = -EEXIST;
    if (r == 0)
        r = ww__registry_reserve(&t->watches);
    if (r == 0)
        r = ww__watches_reserve();
    /* Learnt only now that a superseded watch gave its pages back. */
    if (r == 0 && (flags & WW_WATCH_SPARSE))
        r = ww__vma_walk(start, end, note_accessible, w);
    if (r == 0)
        r = t->ops->watch(t->priv, w);
    if (r == 0 && (flags & WW_WATCH_SPARSE)) {
        r = arm_active(t, w);
        if (r < 0) {
            t->ops->disarm(t->priv, w, 0);
            t->ops->free_watch(t->priv, w);
        }
    }
    if (r == 0) {
        ww__registry_insert(&t->watches, w);
        ww__watches_insert(w);
    }
    ww__watches_unlock();
    pthread_rwlock_unlock(&t->lock);
    if (r < 0) {
        free(w->active);
        free(w);
    }
    return r;
}

int ww_unwatch(ww_tracker *t, void *addr, size_t len)
{
    struct ww__watch *w;
    uintptr_t start, end;
    int r = begin_on_watch(t, addr, len, 1, &w, &start, &end);

    if (r < 0)
        return r;
    if (w->start == start && w->end == end) {
        ww__registry_remove(&t->watches, w);
        release_watch(t, w, 0);
    } else {
        r = -ENOENT;            /* only part of a watch */
    }
    pthread_rwlock_unlock(&t->lock);
    return r;
}

int ww_alloc(ww_tracker *t, size_t len, unsigned flags, void **out)
{
    void *p;
    int r;

    if (!out)
        return -EINVAL;
    *out = NULL;
    if (!t || len == 0 || (len & (ww__page_size() - 1)))
        return -EINVAL;
    p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
             -1, 0);
    if (p == MAP_FAILED)
        return -errno;
    r = ww_watch(t, p, len, flags);
    if (r < 0) {
        munmap(p, len);
        return r;
    }
    *out = p;
    return 0;
}

int ww_free(ww_tracker *t, void *addr, size_t len)
{
    int r = ww_unwatch(t, addr, len);

    if (r == 0)
        munmap(addr, len);
    return r;
}

/* --- queries --------------------------------------------------------------
 * Each query holds the lock shared from the lookup to the end of the
 * backend call, so the watch it found stays alive. */
struct query {
    enum { QUERY_GET, QUERY_RESET, QUERY_MARK, QUERY_PROTECT } op;
    int reset;                  /* QUERY_GET: WW_GET_RESET */
    int prot;                   /* QUERY_PROTECT */
    struct ww__sink sink;       /* QUERY_GET */
};

/*
 * The one contract for a failed resetting get, for every backend: the
 * call reports nothing and leaves every page's state as it was.  The
 * backend leaves in the sink every run the failed call had re-armed (and
 * only those: what it found before the failure); each is made to read as
 * written again, so the next get reports it.  Over-reporting a page the
 * call had found clean is impossible: only found runs are in the sink.
 */
struct undo {
    ww_tracker *t;
    struct ww__watch *w;
};

static void undo_run(uintptr_t start, uintptr_t end, void *arg)
{
    struct undo *u = arg;

    u->t->ops->unreset(u->t->priv, u->w, start, end);
}

static int backend_get(ww_tracker *t, struct ww__watch *w, uintptr_t start,
                       uintptr_t end, struct query *q)
{
    int r = t->ops->get(t->priv, w, start, end, q->reset, &q->sink);
    struct undo u = { t, w };

    if (r < 0 && q->reset)
        ww__sink_for_each_run(&q->sink, undo_run, &u);
    return r;
}

/* The backend's operation for q, on [start, end) of w. */
static int call_backend(ww_tracker *t, struct ww__watch *w, uintptr_t start,
                        uintptr_t end, struct query *q)
{
    switch (q->op) {
    case QUERY_GET:
        return backend_get(t, w, start, end, q);
    case QUERY_RESET:
        return t->ops->reset(t->priv, w, start, end);
    case QUERY_MARK:
        return t->ops->mark_written(t->priv, w, start, end);
    case QUERY_PROTECT:
        return t->ops->protect(t->priv, w, start, end, q->prot);
    }
    return -EINVAL;
}

/* --- sparse watches ------------------------------------------------------ */
static int activate_for_access(ww_tracker *t, const void *addr, size_t len);

static uintptr_t run_end(const void *v, size_t i)
{
    return ((const struct ww__run *)v)[i].end;
}

/* Index of w's first active run that ends above addr (n_active if none). */
static size_t first_active(const struct ww__watch *w, uintptr_t addr)
{
    return ww__first_ending_after(w->active, w->n_active, addr, run_end);
}

static int is_sparse(const struct ww__watch *w)
{
    return (w->flags & WW_WATCH_SPARSE) != 0;
}

/* Whether [start, end) of w holds a dormant page. */
int ww__has_dormant(const struct ww__watch *w, uintptr_t start, uintptr_t end)
{
    size_t i = first_active(w, start);

    if (!is_sparse(w))
        return 0;
    return !(i < w->n_active && w->active[i].start <= start &&
             w->active[i].end >= end);
}

int ww__next_dormant(const struct ww__watch *w, uintptr_t *cur,
                     uintptr_t end, uintptr_t *run_start, uintptr_t *run_end)
{
    size_t i = first_active(w, *cur);

    while (*cur < end) {
        uintptr_t next = i < w->n_active && w->active[i].start < end
                             ? w->active[i].start : end;

        if (next > *cur) {
            *run_start = *cur;
            *run_end = next;
            *cur = next;
            return 1;
        }
        if (next == end)
            break;
        *cur = w->active[i++].end;
    }
    *cur = end;
    return 0;
}

/* q on [start, end) of w: of a sparse watch, on its active runs there
 * only, in order, into the one sink (so that a failed RESET undoes them
 * all); protections change dormant pages too.  Dormant pages are not
 * scanned, but a mapping put over them (and written) or their unmapping
 * makes the watch stale as anywhere else: the backend checks the
 * dormant runs first, without a get's scan (ops->check). */
static int call_on_active(ww_tracker *t, struct ww__watch *w, uintptr_t start,
                          uintptr_t end, struct query *q)
{
    int r = 0;

    if (!is_sparse(w) || q->op == QUERY_PROTECT)
        return call_backend(t, w, start, end, q);
    if (ww__has_dormant(w, start, end))
        r = t->ops->check(t->priv, w, start, end);
    for (size_t i = first_active(w, start);
         r == 0 && i < w->n_active && w->active[i].start < end; i++) {
        uintptr_t s = w->active[i].start > start ? w->active[i].start : start;
        uintptr_t e = w->active[i].end < end ? w->active[i].end : end;

        if (q->op == QUERY_GET && ww__sink_full(&q->sink))
            break;
        r = call_backend(t, w, s, e, q);
    }
    return r;
}

/* Room for one more active run in w. */
static int reserve_run(struct ww__watch *w)
{
    struct ww__run *v = ww__array_grow(w->active, w->n_active,
                                       &w->cap_active, sizeof(*v));

    if (!v)
        return -ENOMEM;
    w->active = v;
    return 0;
}

/* Take [start, end) out of w's active runs (room for one more reserved:
 * a run may split in two).  The runs inside go in one move: a decommit
 * of a range of many runs stays linear. */
static void remove_runs(struct ww__watch *w, uintptr_t start, uintptr_t end)
{
    struct ww__run *a = w->active;
    size_t i = first_active(w, start), j;

    if (i == w->n_active || a[i].start >= end)
        return;
    if (a[i].start < start && a[i].end > end) {         /* split */
        ww__array_open_gap(a, w->n_active, i + 1, sizeof(*a));
        w->n_active++;
        a[i + 1].start = end;
        a[i + 1].end = a[i].end;
        a[i].end = start;
        return;
    }
    if (a[i].start < start)
        a[i++].end = start;
    for (j = i; j < w->n_active && a[j].end <= end; j++)
        ;
    if (j < w->n_active && a[j].start < end)
        a[j].start = end;
    memmove(a + i, a + j, (w->n_active - j) * sizeof(*a));
    w->n_active -= j - i;
}

/* Add [start, end) to w's active runs, joined with those it overlaps or
 * touches (room for one more reserved), in one move: a commit over many
 * runs stays linear. */
static void add_run(struct ww__watch *w, uintptr_t start, uintptr_t end)
{
    struct ww__run *a = w->active;
    size_t i = first_active(w, start ? start - 1 : 0), j;

    for (j = i; j < w->n_active && a[j].start <= end; j++)
        ;
    if (j == i) {
        ww__array_open_gap(a, w->n_active, i, sizeof(*a));
        w->n_active++;
    } else {
        if (a[i].start < start)
            start = a[i].start;
        if (a[j - 1].end > end)
            end = a[j - 1].end;
        memmove(a + i + 1, a + j, (w->n_active - j) * sizeof(*a));
        w->n_active -= j - i - 1;
    }
    a[i].start = start;
    a[i].end = end;
}

/* Arm the dormant pages of [start, end) of w, clean: the gaps between
 * its active runs there. */
static int arm_dormant(ww_tracker *t, struct ww__watch *w, uintptr_t start,
                       uintptr_t end)
{
    uintptr_t cur = start;

    for (size_t i = first_active(w, start); cur < end; i++) {
        uintptr_t next = i < w->n_active && w->active[i].start < end
                             ? w->active[i].start : end;
        int r = 0;

        if (next > cur)
            r = t->ops->reset(t->priv, w, cur, next);
        if (r < 0)
            return r;
        if (next == end)
            break;
        cur = w->active[i].end;
    }
    return 0;
}

static int change_active(ww_tracker *t, void *addr, size_t len, int active)
{
    struct ww__watch *w;
    uintptr_t start, end;
    int r = begin_on_watch(t, addr, len, 1, &w, &start, &end);

    if (r < 0)
        return r;
    if (!is_sparse(w))
        r = active ? 0 : -EINVAL;
    else if (atomic_load(&w->stale))
        r = -ESTALE;
    else
        r = reserve_run(w);
    if (r == 0 && is_sparse(w) && active)
        r = arm_dormant(t, w, start, end);
    if (r == 0 && is_sparse(w)) {
        if (active)
            add_run(w, start, end);
        else
            remove_runs(w, start, end);
    }
    pthread_rwlock_unlock(&t->lock);
    return r;
}

int ww__activate(ww_tracker *t, void *addr, size_t len)
{
    return change_active(t, addr, len, 1);
}

int ww__deactivate(ww_tracker *t, void *addr, size_t len)
{
    return change_active(t, addr, len, 0);
}

static int run_query(ww_tracker *t, const void *addr, size_t len,
                     struct query *q)
{
    struct ww__watch *w;
    uintptr_t start, end;
    int r = begin_on_watch(t, addr, len, 0, &w, &start, &end);

    if (r < 0)
        return r;
    r = atomic_load(&w->stale) ? -ESTALE : call_on_active(t, w, start, end, q);
    pthread_rwlock_unlock(&t->lock);
    return r;
}

static int get_common(ww_tracker *t, void *addr, size_t len, unsigned flags,
                      void **pages, struct ww_range *ranges, size_t *count)
{
    struct query q = { .op = QUERY_GET };
    int r;

    if ((!pages && !ranges) || !count || *count == 0 ||
        (flags & ~WW_GET_RESET))
        return -EINVAL;
    q.reset = (flags & WW_GET_RESET) != 0;
    ww__sink_init(&q.sink, pages, ranges, *count);
    r = run_query(t, addr, len, &q);
    if (r == 0)
        *count = q.sink.n;
    return r;
}

int ww_get(ww_tracker *t, void *addr, size_t len, unsigned flags, void **pages,
           size_t *count)
{
    return get_common(t, addr, len, flags, pages, NULL, count);
}

int ww_get_ranges(ww_tracker *t, void *addr, size_t len, unsigned flags,
                  struct ww_range *ranges, size_t *count)
{
    return get_common(t, addr, len, flags, NULL, ranges, count);
}

int ww_reset(ww_tracker *t, void *addr, size_t len)
{
    struct query q = { .op = QUERY_RESET };

    return run_query(t, addr, len, &q);
}

int ww_mark_written(ww_tracker *t, void *addr, size_t len)
{
    struct query q = { .op = QUERY_MARK };
    /* A dormant page marked written is watched from then on: reported
     * until reset, as in any watch. */
    int r = activate_for_access(t, addr, len);

    return r < 0 ? r : run_query(t, addr, len, &q);
}

/* Before ww_protect gives [addr, addr+len) access, or ww_mark_written
 * marks it: its dormant pages become active, armed clean (while still
 * without access).  The lock is taken exclusive only when there are
 * some. */
static int activate_for_access(ww_tracker *t, const void *addr, size_t len)
{
    struct ww__watch *w;
    uintptr_t start, end;
    int r = begin_on_watch(t, addr, len, 0, &w, &start, &end), need;

    if (r < 0)
        return 0;               /* the query itself reports it */
    need = ww__has_dormant(w, start, end);
    pthread_rwlock_unlock(&t->lock);
    return need ? ww__activate(t, (void *)start, end - start) : 0;
}

int ww_protect(ww_tracker *t, void *addr, size_t len, int prot)
{
    struct query q = { .op = QUERY_PROTECT, .prot = prot };
    int r;

    /* No write-only pages: a backend arms a page by taking PROT_WRITE
     * away, and what is left must still be what the caller can read. */
    if ((prot & ~(PROT_READ | PROT_WRITE | PROT_EXEC)) ||
        ((prot & PROT_WRITE) && !(prot & PROT_READ)))
        return -EINVAL;
    if (prot != PROT_NONE) {
        r = activate_for_access(t, addr, len);
        if (r < 0)
            return r;
    }
    return run_query(t, addr, len, &q);
}

const char *ww_strerror(int err)
{
    switch (err < 0 ? -err : err) {
    case 0: return "success";
    case EINVAL: return "invalid argument (NULL, unaligned, empty, "
                        "overflowing range, unknown flag or zero count)";
    case ENOENT: return "the range is not inside one watch of this tracker";
    case EEXIST: return "the range overlaps a range that is already watched";
    case EFAULT: return "part of the range is not mapped";
    case ESTALE: return "the watched mapping was unmapped or replaced; its "
                        "writes can no longer be known (unwatch, watch again)";
    case ECHILD: return "the tracker belongs to the parent process (fork); "
                        "only ww_tracker_close is allowed in the child";
    case ENOTSUP: return "not supported here (kernel lacks userfaultfd "
                         "write-protect/PAGEMAP_SCAN, or the memory is not "
                         "private anonymous, or (mprotect) is writable "
                         "but not readable)";
    case EACCES: return "the system refused the protection";
    case ENOSYS: return "the kernel has no userfaultfd system call";
    case EPERM: return "userfaultfd is denied to this process";
    case ENOMEM: return "out of memory";
    case EMFILE: return "too many open files in this process";
    case ENFILE: return "too many open files in the system";
    }
    return "unexpected error";
}
