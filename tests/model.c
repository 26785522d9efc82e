/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* model.c - see model.h. */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "model.h"

#define PAGE ww_page_size()    /* read at run time */

static int fail(struct model *m, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(m->failure, sizeof(m->failure), fmt, ap);
    va_end(ap);
    return -1;
}

static size_t below(struct model *m, size_t n)
{
    return m->below(m->src, n);
}

/* A random sub-range [*a, *b) of the watch, often all of it. */
static void random_range(struct model *m, size_t *a, size_t *b)
{
    if (below(m, 3) == 0) {
        *a = 0;
        *b = m->pages;
        return;
    }
    *a = below(m, m->pages);
    *b = *a + 1 + below(m, m->pages - *a);
}

/* Writes go only where the protection allows them (elsewhere they would
 * kill the process: test_protect.c checks that). */
static int op_write(struct model *m)
{
    size_t p = below(m, m->pages);
    size_t n = below(m, 4) == 0 ? 1 + below(m, 20) : 1;

    for (size_t i = p; i < p + n && i < m->pages; i++) {
        if (!(m->prot[i] & PROT_WRITE))
            continue;
        m->mem[i * PAGE + below(m, PAGE)] = (char)m->step;
        m->written[i] = 1;
    }
    return 0;
}

static int op_get(struct model *m)
{
    size_t a, b, cap, count, expect = 0;
    int reset = (int)below(m, 2), r;

    random_range(m, &a, &b);
    cap = 1 + below(m, b - a + 5);
    count = cap;
    r = ww_get(m->t, m->mem + a * PAGE, (b - a) * PAGE,
               reset ? WW_GET_RESET : 0, m->page_buf, &count);
    if (r < 0)
        return fail(m, "ww_get: %s", ww_strerror(r));
    for (size_t p = a; p < b && expect < cap; p++) {
        if (!m->written[p])
            continue;
        if (expect >= count)
            return fail(m, "page %zu missing (got %zu)", p, count);
        if (m->page_buf[expect] != m->mem + p * PAGE)
            return fail(m, "entry %zu: page %td, expected %zu", expect,
                        ((char *)m->page_buf[expect] - m->mem) /
                            (ptrdiff_t)PAGE, p);
        if (reset)
            m->written[p] = 0;
        expect++;
    }
    if (count != expect)
        return fail(m, "%zu pages, expected %zu", count, expect);
    return 0;
}

static int op_get_ranges(struct model *m)
{
    size_t a, b, cap, count, n = 0;
    int reset = (int)below(m, 2), r;

    random_range(m, &a, &b);
    cap = 1 + below(m, 8);
    count = cap;
    r = ww_get_ranges(m->t, m->mem + a * PAGE, (b - a) * PAGE,
                      reset ? WW_GET_RESET : 0, m->run_buf, &count);
    if (r < 0)
        return fail(m, "ww_get_ranges: %s", ww_strerror(r));
    for (size_t p = a; p < b && n < cap;) {
        size_t q = p;
        if (!m->written[p]) {
            p++;
            continue;
        }
        while (q < b && m->written[q])
            q++;
        if (n >= count || m->run_buf[n].addr != m->mem + p * PAGE ||
            m->run_buf[n].len != (q - p) * PAGE)
            return fail(m, "run %zu: expected pages %zu..%zu", n, p, q - 1);
        if (reset)
            memset(&m->written[p], 0, q - p);
        n++;
        p = q;
    }
    if (count != n)
        return fail(m, "%zu runs, expected %zu", count, n);
    return 0;
}

static int op_reset_or_mark(struct model *m, int mark)
{
    size_t a, b;
    int r;

    random_range(m, &a, &b);
    r = mark ? ww_mark_written(m->t, m->mem + a * PAGE, (b - a) * PAGE)
             : ww_reset(m->t, m->mem + a * PAGE, (b - a) * PAGE);
    if (r < 0)
        return fail(m, "%s: %s", mark ? "mark" : "reset", ww_strerror(r));
    memset(&m->written[a], mark, b - a);
    return 0;
}

/* A protection change keeps every write state; read-write is the most
 * likely choice, so that writes keep coming. */
static int op_protect(struct model *m)
{
    static const int prots[] = {
        PROT_NONE, PROT_READ, PROT_READ | PROT_WRITE, PROT_READ | PROT_WRITE,
    };
    int prot = prots[below(m, 4)], r;
    size_t a, b;

    random_range(m, &a, &b);
    r = ww_protect(m->t, m->mem + a * PAGE, (b - a) * PAGE, prot);
    if (r < 0)
        return fail(m, "protect: %s", ww_strerror(r));
    memset(&m->prot[a], prot, b - a);
    return 0;
}

/* A page is readable exactly when its protection says so (re-arming
 * must not change that).  Asked with write(2) from the page, which fails
 * with EFAULT instead of faulting. */
static int op_check_readable(struct model *m)
{
    size_t p = below(m, m->pages);
    int readable = write(m->probe[1], m->mem + p * PAGE, 1) == 1;
    char c;

    if (readable && read(m->probe[0], &c, 1) != 1)
        return fail(m, "probe pipe: %s", strerror(errno));
    if (readable != ((m->prot[p] & PROT_READ) != 0))
        return fail(m, "page %zu %sreadable with protection %d", p,
                    readable ? "" : "not ", m->prot[p]);
    return 0;
}

/* The new watch finds the protections as the old one left them; half of
 * the new watches are sparse (WW_WATCH_SPARSE). */
static int op_rewatch(struct model *m)
{
    size_t p = below(m, m->pages);
    int r = ww_unwatch(m->t, m->mem, m->pages * PAGE);

    if (r < 0)
        return fail(m, "unwatch: %s", ww_strerror(r));
    if (m->prot[p] & PROT_WRITE)
        m->mem[p * PAGE] = 1;                   /* unwatched: not counted */
    /* Sparse or not, the same answers: PROT_NONE pages cannot be written
     * while dormant, and ww_protect() arms them as it gives access. */
    r = ww_watch(m->t, m->mem, m->pages * PAGE,
                 below(m, 2) ? WW_WATCH_SPARSE : 0);
    if (r < 0)
        return fail(m, "watch: %s", ww_strerror(r));
    memset(m->written, 0, m->pages);
    return 0;
}

int model_step(struct model *m)
{
    size_t op = below(m, 100);
    int r;

    if (op < 43)
        r = op_write(m);
    else if (op < 66)
        r = op_get(m);
    else if (op < 80)
        r = op_get_ranges(m);
    else if (op < 86)
        r = op_reset_or_mark(m, 0);
    else if (op < 91)
        r = op_reset_or_mark(m, 1);
    else if (op < 96)
        r = op_protect(m);
    else if (op < 98)
        r = op_check_readable(m);
    else
        r = op_rewatch(m);
    m->step++;
    return r;
}

int model_init(struct model *m, ww_tracker *t, size_t pages,
               size_t (*below_fn)(void *src, size_t n), void *src)
{
    int r;

    memset(m, 0, sizeof(*m));
    m->probe[0] = m->probe[1] = -1;
    m->t = t;
    m->pages = pages;
    m->below = below_fn;
    m->src = src;
    m->written = calloc(pages, 1);
    m->prot = malloc(pages);
    m->page_buf = calloc(pages, sizeof(*m->page_buf));
    m->run_buf = calloc(pages, sizeof(*m->run_buf));
    m->mem = mmap(NULL, pages * PAGE, PROT_READ | PROT_WRITE,
                  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (!m->written || !m->prot || !m->page_buf || !m->run_buf ||
        m->mem == MAP_FAILED || pipe(m->probe) < 0) {
        if (m->mem == MAP_FAILED)
            m->mem = NULL;
        model_free(m);
        return -ENOMEM;
    }
    memset(m->prot, PROT_READ | PROT_WRITE, pages);
    r = ww_watch(t, m->mem, pages * PAGE, 0);
    if (r < 0) {
        model_free(m);
        return r;
    }
    return 0;
}

void model_free(struct model *m)
{
    if (m->mem) {
        ww_unwatch(m->t, m->mem, m->pages * PAGE);
        munmap(m->mem, m->pages * PAGE);
    }
    if (m->probe[0] >= 0) {
        close(m->probe[0]);
        close(m->probe[1]);
    }
    m->probe[0] = m->probe[1] = -1;
    free(m->written);
    free(m->prot);
    free(m->page_buf);
    free(m->run_buf);
    m->mem = NULL;
    m->written = NULL;
    m->prot = NULL;
    m->page_buf = NULL;
    m->run_buf = NULL;
}
