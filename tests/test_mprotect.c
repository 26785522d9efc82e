/*
 * test_mprotect.c - what the mprotect backend must get right beyond the
 * common semantics (test_native.c), run on every backend wherever the
 * behaviour is common: the VMA limit, writes by the kernel, the output
 * array in watched memory, fork, lost mappings, unwatch under writers,
 * memory that cannot be watched.
 */
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "helpers.h"

static size_t read_sysctl(const char *path)
{
    FILE *f = fopen(path, "r");
    unsigned long v = 0;

    if (f) {
        if (fscanf(f, "%lu", &v) != 1)
            v = 0;
        fclose(f);
    }
    return v;
}

static size_t count_maps_lines(void)
{
    FILE *f = fopen("/proc/self/maps", "r");
    size_t n = 0;
    int c;

    if (!f)
        return 0;
    while ((c = getc(f)) != EOF)
        n += c == '\n';
    fclose(f);
    return n;
}

/*
 * vm.max_map_count: with mprotect, each written page in the middle of an
 * armed run splits a VMA, and writing every other page of a big watch
 * runs out of VMAs (65 530 by default) halfway.  Every written page must
 * still be reported (extra pages are allowed), and RESET must work.
 */
START_TEST(test_vma_limit_every_other_page)
{
    enum { N = 300000 };
    size_t limit = read_sysctl("/proc/sys/vm/max_map_count");
    ww_tracker *t = test_open();
    /* Allocated before the writes: at the VMA limit mmap fails. */
    void **pages = calloc(N, sizeof(*pages));
    unsigned char *seen = calloc(N, 1);
    char *mem = test_map(N);
    size_t count = N, maps, extra, missing = 0;

    ck_assert_ptr_nonnull(pages);
    ck_assert_ptr_nonnull(seen);
    ck_assert_int_eq(ww_watch(t, mem, (size_t)N * PAGE, 0), 0);
    for (size_t i = 0; i < N; i += 2)
        mem[i * PAGE] = 1;
    maps = count_maps_lines();
    ck_assert_int_eq(ww_get(t, mem, (size_t)N * PAGE, 0, pages, &count), 0);
    for (size_t i = 0; i < count; i++)
        seen[((char *)pages[i] - mem) / (ptrdiff_t)PAGE] = 1;
    for (size_t i = 0; i < N; i += 2)
        missing += !seen[i];
    extra = count - (N / 2 - missing);
    printf("vma-limit[%s]: %d pages, %d written (every other), "
           "max_map_count %zu, mappings after the writes %zu, reported %zu "
           "(%zu extra, %zu missing)\n", ww_backend_name(test_backend), N,
           N / 2, limit, maps, count, extra, missing);
    fflush(stdout);
    ck_assert_uint_eq(missing, 0);
    /* A protection change there: read-only merges the whole watch into one
     * VMA; read-write again needs one per written page, and runs out: it
     * must widen (over-report) rather than fail or lose a page. */
    ck_assert_int_eq(ww_protect(t, mem, (size_t)N * PAGE, PROT_READ), 0);
    ck_assert_int_eq(ww_protect(t, mem, (size_t)N * PAGE,
                                PROT_READ | PROT_WRITE), 0);
    count = N;
    ck_assert_int_eq(ww_get(t, mem, (size_t)N * PAGE, 0, pages, &count), 0);
    memset(seen, 0, N);
    for (size_t i = 0; i < count; i++)
        seen[((char *)pages[i] - mem) / (ptrdiff_t)PAGE] = 1;
    /* Counted, then checked once: at the VMA limit, every check of a
     * sanitizer build allocates (and mmap fails). */
    for (size_t i = 0; i < N; i += 2)
        missing += !seen[i];
    printf("vma-limit[%s]: after read-only and back, reported %zu "
           "(%zu missing)\n", ww_backend_name(test_backend), count, missing);
    fflush(stdout);
    ck_assert_uint_eq(missing, 0);
    /* RESET everything, then the watch is clean and still works. */
    count = N;
    ck_assert_int_eq(ww_get(t, mem, (size_t)N * PAGE, WW_GET_RESET, pages,
                            &count), 0);
    ck_assert_uint_eq(count_written(t, mem, N), 0);
    mem[(N - 1) * PAGE] = 2;
    mem[PAGE] = 2;
    count = N;
    ck_assert_int_eq(ww_get(t, mem, (size_t)N * PAGE, 0, pages, &count), 0);
    ck_assert_uint_eq(count, 2);
    ck_assert_ptr_eq(pages[0], mem + PAGE);
    ck_assert_ptr_eq(pages[1], mem + (size_t)(N - 1) * PAGE);
    ww_tracker_close(t);
    free(pages);
    free(seen);
}
END_TEST

/* The kernel's own writes: read(2) into a watched buffer.  uffd sees them;
 * mprotect makes read fail with EFAULT unless the range was marked
 * written first, after which the data arrives and the page is reported. */
START_TEST(test_read_syscall_into_watched_buffer)
{
    ww_tracker *t = test_open();
    char *mem = test_map(4);
    void *pages[4];
    size_t count = 4;
    int fds[2];
    ssize_t got;

    ck_assert_int_eq(pipe(fds), 0);
    ck_assert_int_eq(write(fds[1], "hello", 5), 5);
    ck_assert_int_eq(ww_watch(t, mem, 4 * PAGE, 0), 0);
    got = read(fds[0], mem + 2 * PAGE, 5);
    if (test_backend == WW_BACKEND_MPROTECT) {
        ck_assert_int_eq(got, -1);
        ck_assert_int_eq(errno, EFAULT);
        ck_assert_uint_eq(count_written(t, mem, 4), 0);
        ck_assert_int_eq(ww_mark_written(t, mem + 2 * PAGE, PAGE), 0);
        got = read(fds[0], mem + 2 * PAGE, 5);
    }
    ck_assert_int_eq(got, 5);
    ck_assert_int_eq(memcmp(mem + 2 * PAGE, "hello", 5), 0);
    ck_assert_int_eq(ww_get(t, mem, 4 * PAGE, WW_GET_RESET, pages, &count), 0);
    ck_assert_uint_eq(count, 1);
    ck_assert_ptr_eq(pages[0], mem + 2 * PAGE);
    /* Re-armed: on mprotect the next read fails again. */
    ck_assert_int_eq(write(fds[1], "again", 5), 5);
    got = read(fds[0], mem + 2 * PAGE, 5);
    if (test_backend == WW_BACKEND_MPROTECT)
        ck_assert(got == -1 && errno == EFAULT);
    else
        ck_assert_int_eq(got, 5);
    close(fds[0]);
    close(fds[1]);
    ww_tracker_close(t);
}
END_TEST

/*
 * The output array inside the range it reports on, large enough that a
 * get+RESET takes several rounds under the backend's lock (mprotect: 64
 * runs each) and stores between them.  No deadlock; every written page is
 * reported; and the page holding the last stored entry, written after
 * everything the call re-armed, is reported by the next call.
 */
static void output_in_watch(int ranges_mode)
{
    enum { N = 1024, WRITTEN = 400, OUT_PAGE = 1000 };
    ww_tracker *t = test_open();
    char *mem = test_map(N);
    char *out = mem + OUT_PAGE * PAGE + PAGE / 2;
    size_t count = N, last_entry_page, n_even = 0;
    void *after[N];
    size_t n_after = N;

    ck_assert_int_eq(ww_watch(t, mem, N * PAGE, 0), 0);
    for (size_t i = 0; i < WRITTEN; i++)
        mem[2 * i * PAGE] = 1;
    if (ranges_mode) {
        struct ww_range *r = (struct ww_range *)out;

        ck_assert_int_eq(ww_get_ranges(t, mem, N * PAGE, WW_GET_RESET, r,
                                       &count), 0);
        for (size_t i = 0; i < count; i++) {
            size_t p = (size_t)((char *)r[i].addr - mem) / PAGE;

            if (p < 2 * WRITTEN) {
                ck_assert_uint_eq(p, 2 * n_even);
                ck_assert_uint_eq(r[i].len, PAGE);
                n_even++;
            } else {
                ck_assert_uint_ge(p, OUT_PAGE);   /* the array's pages */
            }
        }
        last_entry_page = (size_t)((char *)&r[count] - 1 - mem) / PAGE;
    } else {
        void **pg = (void **)out;

        ck_assert_int_eq(ww_get(t, mem, N * PAGE, WW_GET_RESET, pg, &count),
                         0);
        for (size_t i = 0; i < count; i++) {
            size_t p = (size_t)((char *)pg[i] - mem) / PAGE;

            if (p < 2 * WRITTEN) {
                ck_assert_uint_eq(p, 2 * n_even);
                n_even++;
            } else
                ck_assert_uint_ge(p, OUT_PAGE);
        }
        last_entry_page = (size_t)((char *)&pg[count] - 1 - mem) / PAGE;
    }
    ck_assert_uint_eq(n_even, WRITTEN);
    ck_assert_int_eq(ww_get(t, mem, N * PAGE, 0, after, &n_after), 0);
    ck_assert_uint_ge(n_after, 1);
    ck_assert_ptr_eq(after[n_after - 1], mem + last_entry_page * PAGE);
    ww_tracker_close(t);
}

START_TEST(test_output_array_in_watch_pages)
{
    output_in_watch(0);
}
END_TEST

START_TEST(test_output_array_in_watch_ranges)
{
    output_in_watch(1);
}
END_TEST

/*
 * fork: the child's tracker refuses queries (-ECHILD) but its memory keeps
 * working (mprotect: the child's pages are still write-protected and the
 * inherited handler lets its writes through) and close leaves plain
 * memory.  The parent's watch sees only the parent's writes.
 */
START_TEST(test_fork_child_writes_and_closes)
{
    ww_tracker *t = test_open();
    char *mem = test_map(8);
    void *pages[8];
    size_t count = 8;
    int status;
    pid_t pid;

    ck_assert_int_eq(ww_watch(t, mem, 8 * PAGE, 0), 0);
    mem[PAGE] = 1;
    pid = fork();
    ck_assert_int_ne(pid, -1);
    if (pid == 0) {
        size_t n = 8;

        mem[3 * PAGE] = 3;              /* armed page: must not crash */
        child_expect(ww_get(t, mem, 8 * PAGE, 0, pages, &n) == -ECHILD);
        child_expect(ww_tracker_close(t) == 0);
        mem[5 * PAGE] = 5;              /* plain memory now */
        child_expect(mem[3 * PAGE] == 3 && mem[5 * PAGE] == 5);
        _exit(0);
    }
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    mem[6 * PAGE] = 1;
    ck_assert_int_eq(ww_get(t, mem, 8 * PAGE, 0, pages, &count), 0);
    ck_assert_uint_eq(count, 2);
    ck_assert_ptr_eq(pages[0], mem + PAGE);
    ck_assert_ptr_eq(pages[1], mem + 6 * PAGE);
    ck_assert_int_eq(mem[3 * PAGE], 0);
    ww_tracker_close(t);
}
END_TEST

/* Memory the backends cannot watch faithfully. */
START_TEST(test_unwatchable_memory)
{
    ww_tracker *t = test_open();
    char *shared = mmap(NULL, 4 * PAGE, PROT_READ | PROT_WRITE,
                        MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    char *wo = mmap(NULL, 4 * PAGE, PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
                    -1, 0);
    char *mem = test_map(4);

    ck_assert_ptr_ne(shared, MAP_FAILED);
    ck_assert_ptr_ne(wo, MAP_FAILED);
    /* Checked on mprotect only: on 6.18 the uffd backend registers shared
     * anonymous memory (reported to the lead).  Write-only memory: armed,
     * mprotect would leave it no access at all, not even the reads that
     * PROT_WRITE allows on most hardware. */
    if (test_backend == WW_BACKEND_MPROTECT) {
        ck_assert_int_eq(ww_watch(t, shared, 4 * PAGE, 0), -ENOTSUP);
        ck_assert_int_eq(ww_watch(t, wo, 4 * PAGE, 0), -ENOTSUP);
    }
    ck_assert_int_eq(munmap(mem + 2 * PAGE, PAGE), 0);
    ck_assert_int_eq(ww_watch(t, mem, 4 * PAGE, 0), -EFAULT);
    ww_tracker_close(t);
}
END_TEST

/* Watches of different trackers may not overlap (the mprotect backend's
 * fault handler must find exactly one watch per page). */
START_TEST(test_overlap_across_trackers)
{
    ww_tracker *a = test_open(), *b = test_open();
    char *mem = test_map(16);

    ck_assert_int_eq(ww_watch(a, mem + 4 * PAGE, 8 * PAGE, 0), 0);
    ck_assert_int_eq(ww_watch(b, mem, 5 * PAGE, 0), -EEXIST);
    ck_assert_int_eq(ww_watch(b, mem + 11 * PAGE, 2 * PAGE, 0), -EEXIST);
    ck_assert_int_eq(ww_watch(b, mem + 12 * PAGE, 4 * PAGE, 0), 0);
    ck_assert_int_eq(ww_watch(b, mem, 4 * PAGE, 0), 0);
    mem[3 * PAGE] = 1;
    mem[4 * PAGE] = 1;
    mem[12 * PAGE] = 1;
    ck_assert_uint_eq(count_written(a, mem + 4 * PAGE, 8), 1);
    ck_assert_uint_eq(count_written(b, mem, 4), 1);
    ck_assert_uint_eq(count_written(b, mem + 12 * PAGE, 4), 1);
    ww_tracker_close(a);
    ww_tracker_close(b);
}
END_TEST

/* Writers keep writing while the watch is removed under them: no crash,
 * and afterwards the memory is plain again. */
struct spin_writer {
    char *mem;
    atomic_int stop;
    atomic_ulong writes;
};

static void *spin_write(void *p)
{
    struct spin_writer *w = p;
    unsigned long i = 0;

    while (!atomic_load(&w->stop)) {
        ((volatile char *)w->mem)[(i * 7 % 64) * PAGE] = (char)i;
        i++;
        atomic_store(&w->writes, i);
    }
    return NULL;
}

START_TEST(test_unwatch_under_writers)
{
    ww_tracker *t = test_open();
    struct spin_writer w = { .mem = test_map(64) };
    pthread_t th[2];

    for (int round = 0; round < 50; round++) {
        unsigned long before;

        ck_assert_int_eq(ww_watch(t, w.mem, 64 * PAGE, 0), 0);
        before = atomic_load(&w.writes);
        if (round == 0)
            for (int i = 0; i < 2; i++)
                ck_assert_int_eq(pthread_create(&th[i], NULL, spin_write,
                                                &w), 0);
        /* Let the writers fault into this watch before it goes. */
        while (atomic_load(&w.writes) < before + 200)
            sched_yield();
        ck_assert_uint_ge(count_written(t, w.mem, 64), 1);
        ck_assert_int_eq(ww_unwatch(t, w.mem, 64 * PAGE), 0);
    }
    atomic_store(&w.stop, 1);
    for (int i = 0; i < 2; i++)
        pthread_join(th[i], NULL);
    ww_tracker_close(t);
}
END_TEST

/* MAP_DROPPABLE (Linux 6.11, 64-bit kernels): the kernel may drop the
 * contents of such memory whenever it likes (it reads back as zeros),
 * which no write fault or written bit would show.  A mapping type of its
 * own, like MAP_PRIVATE and MAP_SHARED, so it is not combined with
 * MAP_PRIVATE. */
#ifndef MAP_DROPPABLE
#define MAP_DROPPABLE 0x08
#endif

START_TEST(test_droppable_memory_refused)
{
    ww_tracker *t = test_open();
    char *drop = mmap(NULL, 4 * PAGE, PROT_READ | PROT_WRITE,
                      MAP_DROPPABLE | MAP_ANONYMOUS, -1, 0);
    char *mem;

    if (drop == MAP_FAILED) {
        ck_assert_int_eq(errno, EINVAL);
        printf("droppable[%s]: SKIP: the kernel has no MAP_DROPPABLE\n",
               ww_backend_name(test_backend));
        ww_tracker_close(t);
        return;
    }
    ck_assert_int_eq(ww_watch(t, drop, 4 * PAGE, 0), -ENOTSUP);
    ck_assert_int_eq(ww_watch(t, drop + PAGE, PAGE, 0), -ENOTSUP);
    /* One droppable page inside ordinary memory: the whole range is
     * refused, the ordinary part alone is not. */
    mem = test_map(4);
    ck_assert_ptr_eq(mmap(mem + PAGE, PAGE, PROT_READ | PROT_WRITE,
                          MAP_DROPPABLE | MAP_ANONYMOUS | MAP_FIXED, -1, 0),
                     mem + PAGE);
    ck_assert_int_eq(ww_watch(t, mem, 4 * PAGE, 0), -ENOTSUP);
    ck_assert_int_eq(ww_watch(t, mem + 2 * PAGE, 2 * PAGE, 0), 0);
    mem[3 * PAGE] = 1;
    ck_assert_uint_eq(count_written(t, mem + 2 * PAGE, 2), 1);
    /* Refused, and left as it was: still writable without a watch. */
    drop[PAGE] = 1;
    mem[PAGE] = 1;
    ww_tracker_close(t);
    munmap(drop, 4 * PAGE);
    munmap(mem, 4 * PAGE);
}
END_TEST

/*
 * Caller protections [R][RW][R] at vm.max_map_count.  Armed, the three
 * pages are one read-only VMA; the write to the middle one needs two more,
 * which the mprotect backend must find without letting a write through to
 * the read-only neighbours.  Every test runs in a fork child (the VMAs stay
 * used up until it exits) and checks there with child_expect.
 */

/* Map single pages of alternating protection (no two merge) until the
 * kernel refuses: the process has no VMA left.  Returns how many. */
static size_t exhaust_vmas(void)
{
    size_t n = 0;

    while (mmap(NULL, PAGE, n % 2 ? PROT_READ : PROT_NONE,
                MAP_PRIVATE | MAP_ANONYMOUS, -1, 0) != MAP_FAILED)
        n++;
    child_expect(errno == ENOMEM);
    return n;
}

static char *child_map(size_t n)
{
    char *p = mmap(NULL, n * PAGE, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

    child_expect(p != MAP_FAILED);
    return p;
}

/* Watch n pages at p and give pages 0 and 2 the caller's protection
 * PROT_READ. */
static void watch_r_rw_r(ww_tracker *t, char *p, size_t n)
{
    child_expect(ww_watch(t, p, n * PAGE, 0) == 0);
    child_expect(ww_protect(t, p, PAGE, PROT_READ) == 0);
    child_expect(ww_protect(t, p + 2 * PAGE, PAGE, PROT_READ) == 0);
}

/* Whether a store to p kills a fork of this process with SIGSEGV. */
static int store_faults(volatile char *p)
{
    int status;
    pid_t pid = fork();

    if (pid == 0) {
        struct rlimit no_core = { 0, 0 };

        setrlimit(RLIMIT_CORE, &no_core);
        *p = 1;
        _exit(0);
    }
    return pid > 0 && waitpid(pid, &status, 0) == pid &&
           WIFSIGNALED(status) && WTERMSIG(status) == SIGSEGV;
}

/* Whether a get (no reset) of n pages at base reports every page in
 * idx[0..k) (others may be reported too: over-reporting is allowed). */
static int reports_all(ww_tracker *t, char *base, size_t n, void **buf,
                       const size_t *idx, size_t k)
{
    size_t count = n, found = 0;

    if (ww_get(t, base, n * PAGE, 0, buf, &count) != 0)
        return 0;
    for (size_t i = 0, j = 0; i < count && j < k; i++) {
        if (buf[i] == base + idx[j] * PAGE) {
            found++;
            j++;
        }
    }
    return found == k;
}

/* Run body in a fork child; it must exit with status expect (0: all its
 * checks passed), or be killed by signal -expect. */
static void run_child(void (*body)(void), int expect)
{
    int status;
    pid_t pid;

    fflush(NULL);
    pid = fork();
    ck_assert_int_ne(pid, -1);
    if (pid == 0) {
        body();
        _exit(0);
    }
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    if (WIFSIGNALED(status))
        ck_assert_msg(-WTERMSIG(status) == expect,
                      "child killed by signal %d (%s)", WTERMSIG(status),
                      strsignal(WTERMSIG(status)));
    else
        ck_assert_msg(WEXITSTATUS(status) == expect,
                      "child exited with %d", WEXITSTATUS(status));
}

enum { BIG = 2000 };   /* pages whose every other one is written */

/* One watch: [R][RW][R] then BIG pages, every other one written, then the
 * rest of the VMAs used up by the program.  VMAs the library split in the
 * same watch can be merged again. */
static void child_limit_same_watch(void)
{
    ww_tracker *t = test_open();
    char *m = child_map(3 + BIG);
    void **buf = calloc(3 + BIG, sizeof(*buf));
    size_t want[BIG / 2 + 1], k = 0;

    child_expect(buf != NULL);
    watch_r_rw_r(t, m, 3 + BIG);
    for (size_t i = 4; i < 3 + BIG - 1; i += 2) {
        m[i * PAGE] = 1;
        want[k++] = i;
    }
    exhaust_vmas();
    m[PAGE] = 1;                        /* killed here before the fix */
    child_expect(m[PAGE] == 1);
    child_expect(reports_all(t, m, 3, buf, (const size_t[]){ 1 }, 1));
    child_expect(reports_all(t, m, 3 + BIG, buf, want, k));
    child_expect(store_faults(m) && store_faults(m + 2 * PAGE));
    _exit(0);
}

START_TEST(test_vma_limit_mixed_prot_same_watch)
{
    run_child(child_limit_same_watch, 0);
}
END_TEST

/* The same with the VMAs split by writes into another watch. */
static void child_limit_other_watch(void)
{
    ww_tracker *t = test_open();
    char *small = child_map(3), *big = child_map(BIG);
    void **buf = calloc(BIG, sizeof(*buf));
    size_t want[BIG / 2], k = 0;

    child_expect(buf != NULL);
    watch_r_rw_r(t, small, 3);
    child_expect(ww_watch(t, big, BIG * PAGE, 0) == 0);
    for (size_t i = 1; i < BIG - 1; i += 2) {
        big[i * PAGE] = 1;
        want[k++] = i;
    }
    exhaust_vmas();
    small[PAGE] = 1;                    /* killed here before the fix */
    child_expect(reports_all(t, small, 3, buf, (const size_t[]){ 1 }, 1));
    child_expect(reports_all(t, big, BIG, buf, want, k));
    child_expect(store_faults(small) && store_faults(small + 2 * PAGE));
    _exit(0);
}

START_TEST(test_vma_limit_mixed_prot_other_watch)
{
    run_child(child_limit_other_watch, 0);
}
END_TEST

/* VMAs used up by the program, and a few written pages in a watch of
 * another tracker: the VMAs the library caused there are all it can give
 * back (how many each merge frees depends on the kernel: pages first
 * written apart get anon_vmas that never merge, and a failed mprotect may
 * leave a split behind).  Then the pages are written again in turn, each
 * needing VMAs the others hold; no write may be lost or kill. */
enum { OTHER = 33 };

static void child_limit_own_mappings(void)
{
    ww_tracker *t = test_open(), *t2 = test_open();
    char *small = child_map(3), *other = child_map(OTHER);
    void *buf[OTHER];
    size_t odd[OTHER / 2], k = 0;

    watch_r_rw_r(t, small, 3);
    child_expect(ww_watch(t2, other, OTHER * PAGE, 0) == 0);
    for (size_t i = 1; i < OTHER; i += 2) {
        other[i * PAGE] = 1;
        odd[k++] = i;
    }
    exhaust_vmas();
    small[PAGE] = 1;                    /* killed here before the fix */
    for (size_t i = 0; i < k; i++)
        other[odd[i] * PAGE] = 2;
    small[PAGE] = 2;
    child_expect(small[PAGE] == 2);
    child_expect(reports_all(t, small, 3, buf, (const size_t[]){ 1 }, 1));
    child_expect(reports_all(t2, other, OTHER, buf, odd, k));
    child_expect(store_faults(small) && store_faults(small + 2 * PAGE));
    _exit(0);
}

START_TEST(test_vma_limit_mixed_prot_own_mappings)
{
    run_child(child_limit_own_mappings, 0);
}
END_TEST

/* VMAs used up by the program alone: the library split nothing it could
 * merge again, and the write cannot run without letting writes through
 * to the read-only neighbours.  Documented: ww_mark_written() fails with
 * -ENOMEM, and the write's SIGSEGV goes to the handler installed before
 * the library's (here the default action: death by SIGSEGV).  uffd needs
 * no VMA for a write. */
static void child_limit_own_mappings_only(void)
{
    ww_tracker *t = test_open();
    char *small = child_map(3);
    struct rlimit no_core = { 0, 0 };

    setrlimit(RLIMIT_CORE, &no_core);
    watch_r_rw_r(t, small, 3);
    exhaust_vmas();
    if (test_backend == WW_BACKEND_MPROTECT)
        child_expect(ww_mark_written(t, small + PAGE, PAGE) == -ENOMEM);
    small[PAGE] = 1;
    child_expect(test_backend == WW_BACKEND_UFFD);
    _exit(0);
}

START_TEST(test_vma_limit_mixed_prot_nothing_to_free)
{
    run_child(child_limit_own_mappings_only,
              test_backend == WW_BACKEND_MPROTECT ? -SIGSEGV : 0);
}
END_TEST

static void add_tests(TCase *tc, enum ww_backend backend)
{
    (void)backend;      /* each test applies to both backends */
    tcase_add_test(tc, test_read_syscall_into_watched_buffer);
    tcase_add_test(tc, test_output_array_in_watch_pages);
    tcase_add_test(tc, test_output_array_in_watch_ranges);
    tcase_add_test(tc, test_fork_child_writes_and_closes);
    tcase_add_test(tc, test_unwatchable_memory);
    tcase_add_test(tc, test_overlap_across_trackers);
    tcase_add_test(tc, test_unwatch_under_writers);
    tcase_add_test(tc, test_vma_limit_every_other_page);
    tcase_add_test(tc, test_droppable_memory_refused);
    tcase_add_test(tc, test_vma_limit_mixed_prot_same_watch);
    tcase_add_test(tc, test_vma_limit_mixed_prot_other_watch);
    tcase_add_test(tc, test_vma_limit_mixed_prot_own_mappings);
    tcase_add_test(tc, test_vma_limit_mixed_prot_nothing_to_free);
}

int main(void)
{
    Suite *s = suite_create("mprotect");

    add_backend_tcases(s, "mprotect", add_tests, 180);
    return run_suite(s);
}
