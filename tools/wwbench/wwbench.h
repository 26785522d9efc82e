/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * wwbench.h - what the benchmark's files share: options, the tracking
 * methods under test, the result store, and small helpers.
 *
 * A "method" is one way of knowing which pages were written: the library's
 * backends, the bench's own minimal kernel code (the physical limit), and
 * the classic alternatives.  Every scenario drives methods through the same
 * four operations, on memory it mapped itself, so the numbers of one run
 * are comparable side by side.
 */
#ifndef WWBENCH_H
#define WWBENCH_H

#include <stddef.h>
#include <stdint.h>

#define MIB ((size_t)1 << 20)
#define GIB ((size_t)1 << 30)

/* --- options ------------------------------------------------------------- */
struct options {
    int quick;                  /* CI smoke run: small sizes, few repeats */
    unsigned scenarios;         /* bit n set = run scenario n (1..6) */
    int repeats;                /* 0 = the scenario's default */
    size_t max_size;            /* largest watched size in scenario 2 */
    uint64_t seed;
    const char *csv, *json, *plot;
};
extern struct options opt;

/* Every number the bench prints is a result (below): the median (and
 * min/max) of its samples, or a status saying why there is no number. */
enum status { ST_OK, ST_UNAVAILABLE, ST_OVERFLOW, ST_FAILED, ST_SKIPPED };

/* --- methods ------------------------------------------------------------- */
enum method_id {
    M_NONE,                     /* no tracking: plain stores */
    M_RAW_UFFD,                 /* bench's own uffd-async + PAGEMAP_SCAN */
    M_LIB_UFFD,                 /* libwritewatch, uffd backend */
    M_LIB_MPROTECT,             /* libwritewatch, mprotect backend */
    M_NAIVE_MPROTECT,           /* bench's own mprotect + SIGSEGV */
    M_UFFD_SYNC,                /* synchronous uffd-wp + handler thread */
    M_SOFT_DIRTY,               /* clear_refs 4 + pagemap bit 55 */
    M_RAW_UFFD_256,             /* diagnostic: raw scan, 256-region vector */
    M_COUNT
};

/* Error a get returns when the method cannot describe the writes exactly
 * any more (naive mprotect ran out of VMAs and unprotected everything). */
#define E_OVERFLOW 1000

struct method {
    const char *key;            /* id in CSV/JSON: "lib-uffd" */
    const char *label;          /* column heading: "lib uffd" */
    int thread_safe;            /* get_reset may race with writer threads */
    /* 0 if the method runs here, else -errno with a reason in why. */
    int (*probe)(char *why, size_t why_len);
    /* Start tracking [base, base+len): every page clean.  One watch per
     * method at a time. */
    int (*watch)(char *base, size_t len);
    /* Written pages of the whole watch, ascending, at most cap of them;
     * re-arms exactly those.  0 or -errno (or -E_OVERFLOW). */
    int (*get_reset)(void **pages, size_t cap, size_t *count);
    void (*unwatch)(void);
};

extern const struct method method_none, method_raw_uffd, method_lib_uffd,
    method_lib_mprotect, method_naive_mprotect, method_uffd_sync,
    method_soft_dirty, method_raw_uffd_256;

const struct method *method_get(enum method_id id);
/* The status for error r of method m in operation op: a method that cannot
 * keep its contract is a benchmark failure (reported with fail()), except
 * naive mprotect running out of VMAs. */
enum status method_error(const struct method *m, const char *op, int r);
/* The table label of a method key ("lib-uffd" -> "lib uffd"). */
const char *method_label(const char *key);
/* The memory the library's watches of this scenario cost (page tables
 * added while watched, per GiB; malloc'd bytes), as seen at each unwatch:
 * one line and results, then the counts start again. */
void lib_memory_report(int scenario);
/* Cached probe: 0 if the method runs here; why (if not) is static. */
int method_available(enum method_id id, const char **why);

/* raw_uffd.c: the minimal kernel calls, shared with the memory scenario. */
int raw_scan_reset(int pagemap, uintptr_t start, uintptr_t end, void *vec,
                   size_t vec_len, void **pages, size_t cap, size_t *count);


/* --- results ------------------------------------------------------------ */
struct result {
    int scenario;
    char where[48];             /* the case: "64 MiB", "1 GiB every-other" */
    const char *method;         /* method key, or a derived name */
    const char *metric;         /* "ns/page", "us/get", ... */
    enum status status;
    double median, min, max;
    int n;                      /* samples */
    const char *note;           /* why there is no number (static string) */
};

/* Record samples (the array is sorted in place) or a status. */
const struct result *res_add(int scenario, const char *where,
                             const char *method, const char *metric,
                             double *samples, int n);
void res_status(int scenario, const char *where, const char *method,
                const char *metric, enum status st, const char *note);
const struct result *res_find(int scenario, const char *where,
                              const char *method, const char *metric);
/* Median of a result, or -1 when it has none. */
double res_value(int scenario, const char *where, const char *method,
                 const char *metric);
size_t res_count(void);
const struct result *res_at(size_t i);

/* A table cell for a result: the number with `decimals`, or its status. */
const char *cell(char *buf, size_t len, const struct result *r, int decimals);
/* "1.04x" for a/b, or "-" when either is missing. */
const char *ratio(char *buf, size_t len, double a, double b);

/* One line in the "Bars" summary; returns met. */
struct bar {
    const char *name, *detail;
    double value, limit;
    int at_most;                /* value <= limit, else value >= limit */
    int measured;
};
void bar_add(const char *name, double value, double limit, int at_most,
             const char *detail);
void bar_missing(const char *name, const char *detail);
size_t bar_count(void);
const struct bar *bar_at(size_t i);

void print_bars(void);
int write_csv(const char *path);
int write_json(const char *path);
int write_plot(const char *path);
int gnuplot_found(void);

/* --- helpers (util.c) ---------------------------------------------------- */
uint64_t now_ns(void);
uint64_t thread_cpu_ns(void);
/* /proc/loadavg's three averages, as text (static buffer). */
const char *load_average(void);
uint64_t rng_next(uint64_t *state);
double median_of(double *v, int n);         /* sorts v */

/* Count of correctness failures so far; main() exits 1 if nonzero. */
extern int failures;
void fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* strerror for -errno results, and "VMA limit" for -E_OVERFLOW. */
const char *err_str(int r);
void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

/* Progress on stderr: overwritten in place on a terminal, else silent. */
void progress(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void progress_done(void);

size_t page_size(void);
/* mmap len bytes of private anonymous memory without huge pages; populate
 * writes every page once so later first writes do not allocate. */
char *region_map(size_t len, int populate);
void region_unmap(char *base, size_t len);
/* Store one byte into each listed page: the write under test. */
void touch_pages(char *base, const uint32_t *idx, size_t n, char value);

/* A set of pages (indices into a region), both as a sorted list and as a
 * bitmap, for writing it and for checking what a method reports. */
struct pageset {
    uint32_t *list;
    size_t n;
    uint64_t *bits;
    size_t npages;
};
void pageset_init(struct pageset *s, size_t npages);
void pageset_clear(struct pageset *s);
void pageset_add(struct pageset *s, uint32_t page);  /* keeps list unsorted */
void pageset_sort(struct pageset *s);
void pageset_free(struct pageset *s);
int pageset_has(const struct pageset *s, uint32_t page);

/* Check a report against the pages written: every one of them, ascending,
 * and nothing else, unless extra is given: then pages reported without
 * having been written are allowed and counted there (over-reporting is
 * within the contract, losing a page never is).  Returns 0, or -1 after
 * fail() with what was wrong. */
int verify_report(const char *what, void *const *pages, size_t count,
                  const char *base, const struct pageset *expect,
                  size_t *extra);

/* /proc/self/status field in KiB ("VmPTE"), or -1. */
long proc_status_kib(const char *field);
/* Bytes allocated with malloc in the process, or -1 if unknown. */
long heap_bytes(void);
/* Number of lines in /proc/self/maps. */
long proc_vma_count(void);
/* MemAvailable in bytes, or 0. */
size_t mem_available(void);

/* "16 MiB", "4 GiB". */
const char *size_str(char *buf, size_t len, size_t bytes);

/* --- scenarios -----------------------------------------------------------
 * Their parameters are shared with plot.c; --quick uses a prefix. */
#define N_SCAN_SIZES 5
/* Scenario 2's sizes go up to 4 GiB; in a 32-bit process, whose whole
 * address space is 4 GiB (4 * GIB would wrap to 0), up to 1 GiB. */
#if SIZE_MAX > 0xffffffffu
#define SCAN_SIZES 16 * MIB, 64 * MIB, 256 * MIB, GIB, 4 * GIB
#else
#define SCAN_SIZES 16 * MIB, 64 * MIB, 256 * MIB, 512 * MIB, GIB
#endif
#define N_SCAN_PATTERNS 5
#define N_WRITER_THREADS 4
#define N_FRAME_KS 3
extern const size_t scan_sizes[N_SCAN_SIZES];
extern const char *const scan_patterns[N_SCAN_PATTERNS];
extern const int writer_threads[N_WRITER_THREADS];
extern const size_t frame_ks[N_FRAME_KS];

void scenario_fault(void);
void scenario_scan(void);
void scenario_threads(void);
void scenario_frame(void);
void scenario_memory(void);
void scenario_reserve(void);

#endif /* WWBENCH_H */
