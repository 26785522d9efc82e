/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * internal.c - the out-of-line parts of the shared internal layer
 * (internal.h): the page size, the result sink and the growable sorted
 * arrays.  Every other file uses these; none has its own.
 */
#include <errno.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "alloc.h"
#include "internal.h"

size_t ww__page_size(void)
{
    static atomic_size_t page;
    size_t p = atomic_load_explicit(&page, memory_order_relaxed);

    if (!p) {
        p = (size_t)sysconf(_SC_PAGESIZE);
        atomic_store_explicit(&page, p, memory_order_relaxed);
    }
    return p;
}

/* --- who set a fork marker ---------------------------------------------- */
static unsigned long long pid_ns_self(void)
{
    struct stat st;
    int saved = errno;          /* a fault handler may be the caller */
    unsigned long long ns = stat("/proc/self/ns/pid", &st) == 0 ? st.st_ino : 0;

    errno = saved;
    return ns;
}

void ww__witness_set(struct ww__witness *w)
{
    atomic_store(&w->pid_ns, pid_ns_self());
    atomic_store(&w->pid, syscall(SYS_getpid));
}

int ww__witness_is_self(const struct ww__witness *w)
{
    long pid = atomic_load(&w->pid);

    return pid != 0 && atomic_load(&w->pid_ns) == pid_ns_self() &&
           pid == syscall(SYS_getpid);
}

/* --- the result sink ----------------------------------------------------- */
void ww__sink_init(struct ww__sink *s, void **pages, struct ww_range *ranges,
                   size_t cap)
{
    memset(s, 0, sizeof(*s));
    s->pages = pages;
    s->ranges = ranges;
    s->cap = cap;
}

void ww__sink_put(struct ww__sink *s, uintptr_t start, uintptr_t end)
{
    size_t page = ww__page_size();

    if (s->pages) {
        for (uintptr_t p = start; p < end && s->n < s->cap; p += page)
            s->pages[s->n++] = (void *)p;
        return;
    }
    if (s->n > 0 && start == s->last_end) {
        s->ranges[s->n - 1].len += end - start;
    } else if (s->n < s->cap) {
        s->ranges[s->n].addr = (void *)start;
        s->ranges[s->n].len = end - start;
        s->n++;
    }
    s->last_end = end;
}

void ww__sink_for_each_run(const struct ww__sink *s,
                           void (*fn)(uintptr_t start, uintptr_t end,
                                      void *arg),
                           void *arg)
{
    size_t page = ww__page_size();

    for (size_t i = 0; i < s->n;) {
        uintptr_t a, e;

        if (s->pages) {
            a = (uintptr_t)s->pages[i++];
            e = a + page;
            while (i < s->n && (uintptr_t)s->pages[i] == e) {
                e += page;
                i++;
            }
        } else {
            a = (uintptr_t)s->ranges[i].addr;
            e = a + s->ranges[i++].len;
        }
        fn(a, e, arg);
    }
}

/* --- sorted arrays ------------------------------------------------------- */
void *ww__array_grow(void *v, size_t n, size_t *cap, size_t size)
{
    size_t more = *cap ? 2 * *cap : 8;
    void *bigger;

    if (n < *cap)
        return v;
    bigger = ww__realloc(v, more * size);
    if (bigger)
        *cap = more;
    return bigger;
}

void ww__array_open_gap(void *v, size_t n, size_t i, size_t size)
{
    char *at = (char *)v + i * size;

    memmove(at + size, at, (n - i) * size);
}

void ww__array_close_gap(void *v, size_t n, size_t i, size_t size)
{
    char *at = (char *)v + i * size;

    memmove(at, at + size, (n - i - 1) * size);
}
