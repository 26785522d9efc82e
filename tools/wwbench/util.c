/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * util.c - timing, randomness, memory regions, page sets, /proc readers,
 * failure reporting and the progress line.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include "wwbench.h"

int failures;

uint64_t now_ns(void)
{
    struct timespec t;

    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

/* splitmix64: tiny, fast, and good enough to scatter pages. */
uint64_t rng_next(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15u);

    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    return z ^ (z >> 31);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return (x > y) - (x < y);
}

double median_of(double *v, int n)
{
    if (n <= 0)
        return -1;
    qsort(v, (size_t)n, sizeof(*v), cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* --- failures and progress ---------------------------------------------- */
static int progress_shown;

void progress_done(void)
{
    if (progress_shown)
        fprintf(stderr, "\r%-78s\r", "");
    progress_shown = 0;
}

void progress(const char *fmt, ...)
{
    char line[79];
    va_list ap;

    /* Overwriting with \r only makes sense on a terminal; a log file gets
     * nothing rather than thousands of fragments. */
    if (!isatty(STDERR_FILENO))
        return;
    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    fprintf(stderr, "\r%-78s", line);
    progress_shown = 1;
}

void fail(const char *fmt, ...)
{
    va_list ap;

    progress_done();
    fprintf(stderr, "wwbench: FAIL: ");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    failures++;
}

const char *err_str(int r)
{
    return r == -E_OVERFLOW ? "VMA limit" : strerror(-r);
}

void die(const char *fmt, ...)
{
    va_list ap;

    progress_done();
    fprintf(stderr, "wwbench: ");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    exit(1);
}

/* --- memory ------------------------------------------------------------- */
size_t page_size(void)
{
    static size_t page;

    if (!page)
        page = (size_t)sysconf(_SC_PAGESIZE);
    return page;
}

char *region_map(size_t len, int populate)
{
    char *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

    if (p == MAP_FAILED)
        die("mmap %zu MiB: %s", len / MIB, strerror(errno));
    /* 4 KiB pages for every method alike: the library would advise this
     * itself, and a huge page would make the first write of a populated
     * region mean something else per method. */
    madvise(p, len, MADV_NOHUGEPAGE);
    if (populate)
        for (size_t off = 0; off < len; off += page_size())
            p[off] = 1;
    return p;
}

void region_unmap(char *base, size_t len)
{
    munmap(base, len);
}

void touch_pages(char *base, const uint32_t *idx, size_t n, char value)
{
    size_t page = page_size();

    for (size_t i = 0; i < n; i++)
        ((volatile char *)base)[(size_t)idx[i] * page] = value;
}

/* --- page sets ---------------------------------------------------------- */
void pageset_init(struct pageset *s, size_t npages)
{
    s->npages = npages;
    s->n = 0;
    s->list = malloc(npages * sizeof(*s->list));
    s->bits = calloc((npages + 63) / 64, sizeof(*s->bits));
    if (!s->list || !s->bits)
        die("out of memory for a page set of %zu pages", npages);
}

void pageset_clear(struct pageset *s)
{
    /* Clearing bit by bit is cheaper than the whole bitmap for small sets. */
    if (s->n < s->npages / 64) {
        for (size_t i = 0; i < s->n; i++)
            s->bits[s->list[i] / 64] = 0;
    } else {
        memset(s->bits, 0, (s->npages + 63) / 64 * sizeof(*s->bits));
    }
    s->n = 0;
}

int pageset_has(const struct pageset *s, uint32_t page)
{
    return (s->bits[page / 64] >> (page % 64)) & 1;
}

void pageset_add(struct pageset *s, uint32_t page)
{
    if (pageset_has(s, page))
        return;
    s->bits[page / 64] |= (uint64_t)1 << (page % 64);
    s->list[s->n++] = page;
}

/* Rebuilding the list from the bitmap sorts it in O(npages / 64 + n). */
void pageset_sort(struct pageset *s)
{
    size_t n = 0;

    for (size_t w = 0; w < (s->npages + 63) / 64; w++)
        for (uint64_t b = s->bits[w]; b; b &= b - 1)
            s->list[n++] = (uint32_t)(w * 64 + (size_t)__builtin_ctzll(b));
    s->n = n;
}

void pageset_free(struct pageset *s)
{
    free(s->list);
    free(s->bits);
    s->list = NULL;
    s->bits = NULL;
}

int verify_report(const char *what, void *const *pages, size_t count,
                  const char *base, const struct pageset *expect,
                  size_t *extra)
{
    size_t page = page_size(), matched = 0, unwritten = 0;
    uintptr_t prev = 0;

    for (size_t i = 0; i < count; i++) {
        uintptr_t a = (uintptr_t)pages[i];
        size_t idx = (a - (uintptr_t)base) / page;

        if (a < (uintptr_t)base || idx >= expect->npages ||
            (a - (uintptr_t)base) % page || (i && a <= prev)) {
            fail("%s: report %zu (%p) is outside the watch, unaligned or "
                 "out of order", what, i, pages[i]);
            return -1;
        }
        if (pageset_has(expect, (uint32_t)idx)) {
            matched++;
        } else if (!extra) {
            fail("%s: reported page %zu, which was not written", what, idx);
            return -1;
        } else {
            unwritten++;
        }
        prev = a;
    }
    if (matched != expect->n) {
        fail("%s: reported %zu of the %zu pages written", what, matched,
             expect->n);
        return -1;
    }
    if (extra)
        *extra = unwritten;
    return 0;
}

/* --- /proc -------------------------------------------------------------- */
long proc_status_kib(const char *field)
{
    FILE *f = fopen("/proc/self/status", "r");
    size_t flen = strlen(field);
    char line[256];
    long v = -1;

    if (!f)
        return -1;
    while (fgets(line, sizeof(line), f))
        if (strncmp(line, field, flen) == 0 && line[flen] == ':') {
            v = strtol(line + flen + 1, NULL, 10);
            break;
        }
    fclose(f);
    return v;
}

long proc_vma_count(void)
{
    FILE *f = fopen("/proc/self/maps", "r");
    long n = 0;
    int c;

    if (!f)
        return -1;
    while ((c = getc(f)) != EOF)
        n += c == '\n';
    fclose(f);
    return n;
}

size_t mem_available(void)
{
    FILE *f = fopen("/proc/meminfo", "r");
    char line[256];
    size_t kib = 0;

    if (!f)
        return 0;
    while (fgets(line, sizeof(line), f))
        if (sscanf(line, "MemAvailable: %zu kB", &kib) == 1)
            break;
    fclose(f);
    /* A 32-bit size_t holds less than 4 GiB: saturate, do not wrap. */
    return kib > SIZE_MAX / 1024 ? SIZE_MAX : kib * 1024;
}

const char *size_str(char *buf, size_t len, size_t bytes)
{
    if (bytes >= GIB && bytes % GIB == 0)
        snprintf(buf, len, "%zu GiB", bytes / GIB);
    else
        snprintf(buf, len, "%zu MiB", bytes / MIB);
    return buf;
}

/* Bytes the process has allocated with malloc (glibc's mallinfo2, 2.33),
 * or -1 where that cannot be known. */
long heap_bytes(void)
{
#if defined(__GLIBC__) && (__GLIBC__ > 2 || __GLIBC_MINOR__ >= 33)
    struct mallinfo2 mi = mallinfo2();

    return (long)(mi.uordblks + mi.hblkhd);
#else
    return -1;
#endif
}

/* CPU time of the calling thread: immune to time spent preempted by the
 * other tenants of a shared machine (a system call, not the vDSO). */
uint64_t thread_cpu_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* The first three fields of /proc/loadavg ("1.02 0.87 0.60"), or "?":
 * a shared machine's load explains noisy wall-clock numbers. */
const char *load_average(void)
{
    static char buf[64];
    FILE *f = fopen("/proc/loadavg", "r");
    double a, b, c;

    snprintf(buf, sizeof(buf), "?");
    if (f && fscanf(f, "%lf %lf %lf", &a, &b, &c) == 3)
        snprintf(buf, sizeof(buf), "%.2f %.2f %.2f", a, b, c);
    if (f)
        fclose(f);
    return buf;
}
