/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * s3_threads.c - scenario 3: T writer threads store into random pages while
 * a tracker thread runs get+RESET over the whole area every few ms (the
 * shape of Paul Gofman's Wine benchmark and of a concurrent GC).
 *
 * Each writer owns a slice of the area and walks a random permutation of
 * it, timing every store.  A sweep of a slice takes far longer than the
 * tracker's period, so almost every store finds its page re-armed: the
 * pages the tracker reports are exactly the stores that hit a clean page.
 * Their mean cost is
 *     (sum of timed stores - other stores x plain store) / clean stores
 * where "plain store" is the same loop with nothing watched at the same
 * thread count (it carries the clock's own cost and the oversubscription
 * of 8 threads on few CPUs).
 *
 * Checked: every reported page was written by someone; after the writers
 * stop, a final get leaves no page whose write was never reported.
 *
 * Not checked: more reports than stores.  A store that faults is resolved
 * (the page made writable) before it is retried; a get that re-arms the
 * page in between reports it, and the retried store faults again and is
 * reported again.  Nothing is lost (the second report covers the store);
 * it happens to uffd and mprotect alike, measured here at up to about one
 * per get per writer thread (a few per 10^4 reports), which the cost
 * formula above absorbs.  User space cannot tell such a duplicate from a
 * store that raced with the get, so they are not counted exactly.
 *
 * Where the time of a clean write goes (perf counters are not available
 * here): one more run per mprotect method and thread count, instrumented.
 * A SIGSEGV handler of the bench's, put above whichever is installed,
 * times each call of it; the bench's own mprotect() (below), which the
 * library and naive mprotect call through the dynamic linker, times the
 * system calls made inside it.  What is left of the store's time is the
 * kernel's: the fault, the signal's delivery and sigreturn, the retried
 * store.  For uffd the whole cost is the kernel's write-protect fault.
 * The instrumented runs only explain; the table and bar above come from
 * the plain runs.
 */
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "wwbench.h"

/* --- the instrumented runs ----------------------------------------------- */
static struct sigaction timed_below;   /* the handler the timed one calls */
static _Thread_local int in_handler;
/* Wall and CPU time (CLOCK_THREAD_CPUTIME_ID) inside the handler and
 * inside its system calls; wall minus CPU is time off the CPU: waiting
 * for a lock (the mmap lock, a mutex) or for a CPU. */
static _Thread_local uint64_t handler_ns, handler_cpu_ns, handler_calls;
static _Thread_local uint64_t syscall_ns, syscall_cpu_ns;

/* Every mprotect(2) of the process that goes through the dynamic linker
 * (the library's and naive mprotect's) lands here: the same system call,
 * timed when made inside a timed handler. */
int mprotect(void *addr, size_t len, int prot)
{
    uint64_t t0, c0;
    long r;

    if (!in_handler)
        return (int)syscall(SYS_mprotect, addr, len, prot);
    t0 = now_ns();             /* the CPU window inside the wall one */
    c0 = thread_cpu_ns();
    r = syscall(SYS_mprotect, addr, len, prot);
    syscall_cpu_ns += thread_cpu_ns() - c0;
    syscall_ns += now_ns() - t0;
    return (int)r;
}

static void timed_segv(int sig, siginfo_t *si, void *ctx)
{
    uint64_t t0 = now_ns(), c0 = thread_cpu_ns();

    in_handler++;
    if (timed_below.sa_flags & SA_SIGINFO)
        timed_below.sa_sigaction(sig, si, ctx);
    else
        timed_below.sa_handler(sig);
    in_handler--;
    handler_cpu_ns += thread_cpu_ns() - c0;
    handler_ns += now_ns() - t0;
    handler_calls++;
}

/* Put timed_segv above the installed handler, with its flags and mask. */
static void timing_start(void)
{
    struct sigaction sa;

    if (sigaction(SIGSEGV, NULL, &timed_below) < 0)
        die("sigaction: cannot read the SIGSEGV handler");
    sa = timed_below;
    sa.sa_flags |= SA_SIGINFO;
    sa.sa_sigaction = timed_segv;
    if (sigaction(SIGSEGV, &sa, NULL) < 0)
        die("sigaction: cannot time the SIGSEGV handler");
}

static void timing_stop(void)
{
    sigaction(SIGSEGV, &timed_below, NULL);
}

static const enum method_id s3_methods[] = {
    M_NONE, M_RAW_UFFD, M_LIB_UFFD, M_LIB_MPROTECT, M_NAIVE_MPROTECT,
};
#define N_S3 (sizeof(s3_methods) / sizeof(s3_methods[0]))
const int writer_threads[N_WRITER_THREADS] = { 1, 2, 4, 8 };
#define MAX_GETS 4096
#define MAX_REPEATS 16

struct writer {
    pthread_t tid;
    const uint32_t *perm;       /* this writer's pages, in random order */
    size_t n;
    uint64_t writes, sum_ns;
    uint64_t handler_ns, handler_cpu_ns, handler_calls; /* instrumented */
    uint64_t syscall_ns, syscall_cpu_ns;
};

struct run {
    const struct method *m;
    char *base;
    size_t npages;
    atomic_int stop;
    pthread_barrier_t start;
    /* pending[p]: set before a store to p, cleared when p is reported. */
    atomic_uchar *pending, *ever;
    void **pages;
    uint64_t reported;
    double gets[MAX_GETS];
    int n_gets;
    int error;
    long period_us;
};

static struct run run;

static void *writer_main(void *arg)
{
    struct writer *w = arg;
    size_t page = page_size(), i = 0;
    uint64_t writes = 0, sum = 0;

    pthread_barrier_wait(&run.start);
    while (!atomic_load_explicit(&run.stop, memory_order_relaxed)) {
        uint32_t p = w->perm[i];
        uint64_t t0, t1;

        i = i + 1 == w->n ? 0 : i + 1;
        atomic_store_explicit(&run.ever[p], 1, memory_order_relaxed);
        atomic_store_explicit(&run.pending[p], 1, memory_order_relaxed);
        /* The marks must be visible before the store can be reported. */
        atomic_thread_fence(memory_order_release);
        t0 = now_ns();
        ((volatile char *)run.base)[(size_t)p * page] = (char)writes;
        t1 = now_ns();
        sum += t1 - t0;
        writes++;
    }
    w->writes = writes;
    w->sum_ns = sum;
    w->handler_ns = handler_ns;
    w->handler_cpu_ns = handler_cpu_ns;
    w->handler_calls = handler_calls;
    w->syscall_ns = syscall_ns;
    w->syscall_cpu_ns = syscall_cpu_ns;
    return NULL;
}

/* Get+RESET once; check and account the report.  0 or -1 on error. */
static int tracker_get(double *us)
{
    size_t count = 0, page = page_size();
    uint64_t t0 = now_ns();
    int r = run.m->get_reset(run.pages, run.npages, &count);

    if (us)
        *us = (double)(now_ns() - t0) / 1e3;
    if (r < 0) {
        run.error = method_error(run.m, "get+RESET with writers running", r);
        return -1;
    }
    for (size_t i = 0; i < count; i++) {
        size_t p = (size_t)((char *)run.pages[i] - run.base) / page;

        if (p >= run.npages || !atomic_load(&run.ever[p])) {
            fail("%s: reported page %zu, which no writer wrote", run.m->label,
                 p);
            run.error = ST_FAILED;
            return -1;
        }
        atomic_store_explicit(&run.pending[p], 0, memory_order_relaxed);
    }
    run.reported += count;
    return 0;
}

static void *tracker_main(void *arg)
{
    struct timespec period = { 0, run.period_us * 1000 };

    (void)arg;
    pthread_barrier_wait(&run.start);
    while (!atomic_load(&run.stop) && !run.error) {
        double us;

        nanosleep(&period, NULL);
        if (tracker_get(&us) < 0)
            break;
        if (run.n_gets < MAX_GETS)
            run.gets[run.n_gets++] = us;
    }
    return NULL;
}

struct outcome {
    uint64_t writes, sum_ns, clean;
    uint64_t handler_ns, handler_cpu_ns, handler_calls;
    uint64_t syscall_ns, syscall_cpu_ns;
    double get_us;              /* median of the run's gets */
    enum status st;
};

static struct outcome one_run(const struct method *m, char *base,
                              size_t npages, int threads, uint32_t *perm,
                              long duration_ms, int timed)
{
    struct writer w[8];
    struct outcome o = { 0 };
    int tracked = m != &method_none;
    struct timespec d = { duration_ms / 1000, (duration_ms % 1000) * 1000000 };
    pthread_t tracker;
    int r;

    memset(run.pending, 0, npages);
    memset(run.ever, 0, npages);
    run.m = m;
    run.base = base;
    run.npages = npages;
    run.reported = 0;
    run.n_gets = 0;
    run.error = ST_OK;
    atomic_store(&run.stop, 0);
    r = m->watch(base, npages * page_size());
    if (r < 0) {
        o.st = method_error(m, "watch", r);
        return o;
    }
    if (timed)
        timing_start();
    pthread_barrier_init(&run.start, NULL, (unsigned)threads + 1 + tracked);
    for (int t = 0; t < threads; t++) {
        w[t].perm = perm + npages * (size_t)t / (size_t)threads;
        w[t].n = npages * (size_t)(t + 1) / (size_t)threads -
                 npages * (size_t)t / (size_t)threads;
        if (pthread_create(&w[t].tid, NULL, writer_main, &w[t]) != 0)
            die("cannot create writer threads");
    }
    if (tracked && pthread_create(&tracker, NULL, tracker_main, NULL) != 0)
        die("cannot create the tracker thread");
    pthread_barrier_wait(&run.start);
    nanosleep(&d, NULL);
    atomic_store(&run.stop, 1);
    for (int t = 0; t < threads; t++) {
        pthread_join(w[t].tid, NULL);
        o.writes += w[t].writes;
        o.sum_ns += w[t].sum_ns;
        o.handler_ns += w[t].handler_ns;
        o.handler_cpu_ns += w[t].handler_cpu_ns;
        o.handler_calls += w[t].handler_calls;
        o.syscall_ns += w[t].syscall_ns;
        o.syscall_cpu_ns += w[t].syscall_cpu_ns;
    }
    if (timed)
        timing_stop();
    if (tracked) {
        pthread_join(tracker, NULL);
        if (!run.error && tracker_get(NULL) == 0)
            for (size_t p = 0; p < npages; p++)
                if (atomic_load(&run.pending[p])) {
                    fail("%s, %d threads: a write to page %zu was never "
                         "reported", m->label, threads, p);
                    run.error = ST_FAILED;
                    break;
                }
    }
    pthread_barrier_destroy(&run.start);
    m->unwatch();
    o.st = run.error;
    o.clean = run.reported;
    o.get_us = median_of(run.gets, run.n_gets);
    return o;
}

/* Each slice of the permutation is a random order of that slice's pages. */
static void make_perm(uint32_t *perm, size_t npages, int threads,
                      uint64_t *rng)
{
    for (size_t i = 0; i < npages; i++)
        perm[i] = (uint32_t)i;
    for (int t = 0; t < threads; t++) {
        uint32_t *s = perm + npages * (size_t)t / (size_t)threads;
        size_t n = npages * (size_t)(t + 1) / (size_t)threads -
                   npages * (size_t)t / (size_t)threads;

        for (size_t i = n - 1; i > 0; i--) {
            size_t j = (size_t)(rng_next(rng) % (i + 1));
            uint32_t x = s[i];
            s[i] = s[j];
            s[j] = x;
        }
    }
}

static void record(const char *where, const char *key, double *v, int n,
                   const char *metric, enum status st)
{
    if (st != ST_OK)
        res_status(3, where, key, metric, st, NULL);
    else
        res_add(3, where, key, metric, v, n);
}

/* One instrumented run of m with `threads` writers: ns per clean write,
 * split into the kernel's part and the handler's (system calls, rest). */
static void breakdown_one(const struct method *m, char *base, size_t npages,
                          int threads, uint32_t *perm, long duration_ms,
                          const char *where)
{
    double plain = res_value(3, where, "none", "ns/clean-write");
    struct outcome o;
    char bwhere[48];

    snprintf(bwhere, sizeof(bwhere), "breakdown %s", where);
    progress("[3/5] where the time goes, %s: %s", where, m->label);
    o = one_run(m, base, npages, threads, perm, duration_ms, 1);
    if (o.st != ST_OK || !o.clean || plain < 0) {
        res_status(3, bwhere, m->key, "ns-total", o.st != ST_OK ? o.st
                   : ST_FAILED, "no clean write or no plain store");
        return;
    }
    double other = o.clean < o.writes ? (double)(o.writes - o.clean) : 0;
    double total = ((double)o.sum_ns - other * plain) / (double)o.clean;
    double per = 1 / (double)o.clean;
    double handler = (double)o.handler_ns * per;
    double h_cpu = (double)o.handler_cpu_ns * per;
    double sys = (double)o.syscall_ns * per;
    double s_cpu = (double)o.syscall_cpu_ns * per;
    double v;

    v = total; res_add(3, bwhere, m->key, "ns-total", &v, 1);
    v = total - handler; res_add(3, bwhere, m->key, "ns-kernel", &v, 1);
    v = s_cpu; res_add(3, bwhere, m->key, "ns-syscall-cpu", &v, 1);
    v = sys - s_cpu; res_add(3, bwhere, m->key, "ns-syscall-off-cpu", &v, 1);
    v = h_cpu - s_cpu; res_add(3, bwhere, m->key, "ns-handler-cpu", &v, 1);
    v = (handler - sys) - (h_cpu - s_cpu);
    res_add(3, bwhere, m->key, "ns-handler-off-cpu", &v, 1);
    v = (double)o.handler_calls * per;
    res_add(3, bwhere, m->key, "faults/clean-write", &v, 1);
}

static void breakdown(char *base, size_t npages, uint32_t *perm,
                      long duration_ms, uint64_t *rng)
{
    static const int counts[] = { 1, 8 };
    static const enum method_id timed[] = { M_LIB_MPROTECT, M_NAIVE_MPROTECT };
    static const enum method_id kernel_only[] = { M_RAW_UFFD, M_LIB_UFFD };
    char where[32], bwhere[48], b[6][32];

    for (size_t c = 0; c < 2; c++) {
        snprintf(where, sizeof(where), "%d threads", counts[c]);
        make_perm(perm, npages, counts[c], rng);
        for (size_t k = 0; k < 2; k++)
            if (method_available(timed[k], NULL) == 0)
                breakdown_one(method_get(timed[k]), base, npages, counts[c],
                              perm, duration_ms, where);
    }
    progress_done();
    printf("  Where a clean write's time goes, ns per clean write (mprotect: "
           "one instrumented run each; uffd: the runs above, all of it in the "
           "kernel's write-protect fault):\n");
    printf("  %-8s %-15s %8s %10s %21s %21s %7s\n", "", "", "", "kernel:",
           "mprotect in handler", "rest of handler", "");
    printf("  %-8s %-15s %8s %10s %10s %10s %10s %10s %7s\n", "threads",
           "method", "total", "fault+sig", "CPU", "off CPU", "CPU", "off CPU",
           "faults");
    for (size_t c = 0; c < 2; c++) {
        snprintf(where, sizeof(where), "%d threads", counts[c]);
        snprintf(bwhere, sizeof(bwhere), "breakdown %s", where);
        double plain = res_value(3, where, "none", "ns/clean-write");
        for (size_t k = 0; k < 2; k++) {
            const struct method *m = method_get(kernel_only[k]);
            double ns = res_value(3, where, m->key, "ns/clean-write");

            if (ns < 0)
                continue;
            printf("  %-8d %-15s %8.0f %10.0f %10s %10s %10s %10s %7s\n",
                   counts[c], m->label, ns, ns, "-", "-", "-", "-", "0");
        }
        for (size_t k = 0; k < 2; k++) {
            const struct method *m = method_get(timed[k]);
            static const char *const metrics[] = {
                "ns-total", "ns-kernel", "ns-syscall-cpu", "ns-syscall-off-cpu",
                "ns-handler-cpu", "ns-handler-off-cpu",
            };

            printf("  %-8d %-15s", counts[c], m->label);
            for (size_t x = 0; x < 6; x++)
                printf(" %*s", x == 0 ? 8 : 10,
                       cell(b[x], 32, res_find(3, bwhere, m->key, metrics[x]),
                            0));
            printf(" %7s\n", cell(b[0], 32, res_find(3, bwhere, m->key,
                                                     "faults/clean-write"), 2));
        }
        printf("  %-8d %-15s %8.0f   (a plain store, no tracking)\n",
               counts[c], "plain", plain);
    }
    printf("  (kernel = total - wall time inside the SIGSEGV handler: the "
           "fault, the signal's delivery and return, the retried store; off "
           "CPU = waiting for a lock (the mmap lock, a mutex) or, with more "
           "threads than CPUs, for a CPU.  Instrumenting adds ~4 clock reads "
           "per fault.)\n");
}

void scenario_threads(void)
{
    size_t len = opt.quick ? 64 * MIB : GIB, npages = len / page_size();
    long duration_ms = opt.quick ? 150 : 500;
    int repeats = opt.repeats ? opt.repeats : opt.quick ? 1 : 3;
    uint32_t *perm = malloc(npages * sizeof(*perm));
    char *base = region_map(len, 1);
    uint64_t rng = opt.seed + 3;

    if (repeats > MAX_REPEATS)
        repeats = MAX_REPEATS;
    char where[32], b[10][32];

    run.period_us = 5000;
    run.pending = calloc(npages, 1);
    run.ever = calloc(npages, 1);
    run.pages = malloc(npages * sizeof(void *));
    if (!perm || !run.pending || !run.ever || !run.pages)
        die("out of memory");

    for (size_t ti = 0; ti < N_WRITER_THREADS; ti++) {
        int threads = writer_threads[ti];
        double ns[N_S3][MAX_REPEATS] = { { 0 } };
        double get[N_S3][MAX_REPEATS] = { { 0 } };
        enum status st[N_S3] = { ST_OK };
        double plain = 0;

        make_perm(perm, npages, threads, &rng);
        snprintf(where, sizeof(where), "%d threads", threads);
        for (int rep = 0; rep < repeats; rep++)
            for (size_t k = 0; k < N_S3; k++) {
                const struct method *m = method_get(s3_methods[k]);
                struct outcome o;

                if (st[k] != ST_OK || method_available(s3_methods[k], NULL) < 0)
                    continue;
                progress("[3/5] %d writer threads: %s, run %d/%d", threads,
                         m->label, rep + 1, repeats);
                o = one_run(m, base, npages, threads, perm, duration_ms, 0);
                st[k] = o.st;
                if (o.st != ST_OK || !o.writes)
                    continue;
                if (m == &method_none) {
                    plain = (double)o.sum_ns / (double)o.writes;
                    ns[k][rep] = plain;
                    continue;
                }
                /* Duplicates (see the top) can make clean > writes. */
                double other = o.clean < o.writes ? (double)(o.writes - o.clean) : 0;
                ns[k][rep] = o.clean ? ((double)o.sum_ns - other * plain) /
                                           (double)o.clean : -1;
                get[k][rep] = o.get_us;
            }
        for (size_t k = 0; k < N_S3; k++) {
            const struct method *m = method_get(s3_methods[k]);
            const char *why;

            if (method_available(s3_methods[k], &why) < 0) {
                res_status(3, where, m->key, "ns/clean-write", ST_UNAVAILABLE,
                           why);
                res_status(3, where, m->key, "us/get", ST_UNAVAILABLE, why);
                continue;
            }
            record(where, m->key, ns[k], repeats, "ns/clean-write", st[k]);
            if (m != &method_none)
                record(where, m->key, get[k], repeats, "us/get", st[k]);
        }
    }
    progress_done();

    printf("\nScenario 3: writer threads on random pages of %zu MiB, tracker "
           "get+RESET every %ld ms (%d run%s of %ld ms; %ld CPUs)\n",
           len / MIB, run.period_us / 1000, repeats, repeats > 1 ? "s" : "",
           duration_ms, sysconf(_SC_NPROCESSORS_ONLN));
    printf("  ns per write that hit a clean page (plain = no tracking, per "
           "write)                 get+RESET us (median)\n");
    printf("  %-8s %7s %9s %9s %12s %9s %8s   %9s %9s %12s %9s\n", "threads",
           "plain", "raw uffd", "lib uffd", "lib mprotect", "naive mp",
           "mp/lib", "raw uffd", "lib uffd", "lib mprotect", "naive mp");
    double ratio8 = -1;
    const char *ref8 = "";
    for (size_t ti = 0; ti < N_WRITER_THREADS; ti++) {
        snprintf(where, sizeof(where), "%d threads", writer_threads[ti]);
        const char *ref = res_value(3, where, "lib-mprotect", "ns/clean-write") > 0
                              ? "lib-mprotect" : "naive-mprotect";
        double lib = res_value(3, where, "lib-uffd", "ns/clean-write");
        double mp = res_value(3, where, ref, "ns/clean-write");

        printf("  %-8d %7s %9s %9s %12s %9s %8s   %9s %9s %12s %9s\n",
               writer_threads[ti],
               cell(b[0], 32, res_find(3, where, "none", "ns/clean-write"), 0),
               cell(b[1], 32, res_find(3, where, "raw-uffd", "ns/clean-write"), 0),
               cell(b[2], 32, res_find(3, where, "lib-uffd", "ns/clean-write"), 0),
               cell(b[3], 32, res_find(3, where, "lib-mprotect", "ns/clean-write"), 0),
               cell(b[4], 32, res_find(3, where, "naive-mprotect", "ns/clean-write"), 0),
               ratio(b[5], 32, mp, lib),
               cell(b[6], 32, res_find(3, where, "raw-uffd", "us/get"), 0),
               cell(b[7], 32, res_find(3, where, "lib-uffd", "us/get"), 0),
               cell(b[8], 32, res_find(3, where, "lib-mprotect", "us/get"), 0),
               cell(b[9], 32, res_find(3, where, "naive-mprotect", "us/get"), 0));
        if (writer_threads[ti] == 8 && lib > 0 && mp > 0) {
            ratio8 = mp / lib;
            ref8 = ref;
        }
    }
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    if (ratio8 > 0) {
        printf("  Verdict: with 8 writer threads on %ld CPUs the library's "
               "uffd backend takes a clean-page write %.1fx faster than "
               "%s.\n", cpus, ratio8, ref8);
        snprintf(where, sizeof(where), "vs %s, %ld CPUs", ref8, cpus);
        bar_add("S3 mprotect / lib uffd, clean write, 8 threads", ratio8, 20,
                0, where);
    } else {
        printf("  Verdict: incomplete (a method is missing).\n");
        bar_missing("S3 mprotect / lib uffd, clean write, 8 threads",
                    "missing data");
    }
    lib_memory_report(3);
    breakdown(base, npages, perm, duration_ms, &rng);
    region_unmap(base, len);
    free(perm);
    free(run.pending);
    free(run.ever);
    free(run.pages);
}
