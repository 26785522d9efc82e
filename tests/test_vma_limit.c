/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * test_vma_limit.c - vm.max_map_count, on every backend: with mprotect,
 * each written page in the middle of an armed run splits a VMA; at the
 * limit, writes must still be seen (reported, or the protection widened)
 * and must not kill the program or reach read-only pages.  Slow (hundreds
 * of thousands of mappings): part of make check-slow.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/userfaultfd.h>

#include "helpers.h"

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
    size_t limit = t_read_sysctl("/proc/sys/vm/max_map_count");
    ww_tracker *t = t_open();
    /* Allocated before the writes: at the VMA limit mmap fails. */
    void **pages = calloc(N, sizeof(*pages));
    unsigned char *seen = calloc(N, 1);
    char *mem = t_map(N);
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
           "(%zu extra, %zu missing)\n", ww_backend_name(t_backend), N,
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
           "(%zu missing)\n", ww_backend_name(t_backend), count, missing);
    fflush(stdout);
    ck_assert_uint_eq(missing, 0);
    /* RESET everything, then the watch is clean and still works. */
    count = N;
    ck_assert_int_eq(ww_get(t, mem, (size_t)N * PAGE, WW_GET_RESET, pages,
                            &count), 0);
    ck_assert_uint_eq(t_count_written(t, mem, N), 0);
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

/*
 * Caller protections [R][RW][R] at vm.max_map_count.  Armed, the three
 * pages are one read-only VMA; the write to the middle one needs two more,
 * which the mprotect backend must find without letting a write through to
 * the read-only neighbours.  Every test runs in a fork child (the VMAs stay
 * used up until it exits) and checks there with t_child_expect.
 */

/* Map single pages of alternating protection (no two merge) until the
 * kernel refuses: the process has no VMA left.  Returns how many. */
static size_t exhaust_vmas(void)
{
    size_t n = 0;

    while (mmap(NULL, PAGE, n % 2 ? PROT_READ : PROT_NONE,
                MAP_PRIVATE | MAP_ANONYMOUS, -1, 0) != MAP_FAILED)
        n++;
    t_child_expect(errno == ENOMEM);
    return n;
}

static char *child_map(size_t n)
{
    char *p = mmap(NULL, n * PAGE, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

    t_child_expect(p != MAP_FAILED);
    return p;
}

/* Watch n pages at p and give pages 0 and 2 the caller's protection
 * PROT_READ. */
static void watch_r_rw_r(ww_tracker *t, char *p, size_t n)
{
    t_child_expect(ww_watch(t, p, n * PAGE, 0) == 0);
    t_child_expect(ww_protect(t, p, PAGE, PROT_READ) == 0);
    t_child_expect(ww_protect(t, p + 2 * PAGE, PAGE, PROT_READ) == 0);
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
    ww_tracker *t = t_open();
    char *m = child_map(3 + BIG);
    void **buf = calloc(3 + BIG, sizeof(*buf));
    size_t want[BIG / 2 + 1], k = 0;

    t_child_expect(buf != NULL);
    watch_r_rw_r(t, m, 3 + BIG);
    for (size_t i = 4; i < 3 + BIG - 1; i += 2) {
        m[i * PAGE] = 1;
        want[k++] = i;
    }
    exhaust_vmas();
    m[PAGE] = 1;                        /* killed here before the fix */
    t_child_expect(m[PAGE] == 1);
    t_child_expect(reports_all(t, m, 3, buf, (const size_t[]){ 1 }, 1));
    t_child_expect(reports_all(t, m, 3 + BIG, buf, want, k));
    t_child_expect(store_faults(m) && store_faults(m + 2 * PAGE));
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
    ww_tracker *t = t_open();
    char *small = child_map(3), *big = child_map(BIG);
    void **buf = calloc(BIG, sizeof(*buf));
    size_t want[BIG / 2], k = 0;

    t_child_expect(buf != NULL);
    watch_r_rw_r(t, small, 3);
    t_child_expect(ww_watch(t, big, BIG * PAGE, 0) == 0);
    for (size_t i = 1; i < BIG - 1; i += 2) {
        big[i * PAGE] = 1;
        want[k++] = i;
    }
    exhaust_vmas();
    small[PAGE] = 1;                    /* killed here before the fix */
    t_child_expect(reports_all(t, small, 3, buf, (const size_t[]){ 1 }, 1));
    t_child_expect(reports_all(t, big, BIG, buf, want, k));
    t_child_expect(store_faults(small) && store_faults(small + 2 * PAGE));
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
    ww_tracker *t = t_open(), *t2 = t_open();
    char *small = child_map(3), *other = child_map(OTHER);
    void *buf[OTHER];
    size_t odd[OTHER / 2], k = 0;

    watch_r_rw_r(t, small, 3);
    t_child_expect(ww_watch(t2, other, OTHER * PAGE, 0) == 0);
    for (size_t i = 1; i < OTHER; i += 2) {
        other[i * PAGE] = 1;
        odd[k++] = i;
    }
    exhaust_vmas();
    small[PAGE] = 1;                    /* killed here before the fix */
    for (size_t i = 0; i < k; i++)
        other[odd[i] * PAGE] = 2;
    small[PAGE] = 2;
    t_child_expect(small[PAGE] == 2);
    t_child_expect(reports_all(t, small, 3, buf, (const size_t[]){ 1 }, 1));
    t_child_expect(reports_all(t2, other, OTHER, buf, odd, k));
    t_child_expect(store_faults(small) && store_faults(small + 2 * PAGE));
    _exit(0);
}

START_TEST(test_vma_limit_mixed_prot_own_mappings)
{
    run_child(child_limit_own_mappings, 0);
}
END_TEST

/* VMAs used up by the program alone: the library split nothing it could
 * merge again.  With marks, read-write and read-only pages are registered
 * with two userfaultfds, whose VMAs never merge: the watch keeps the three
 * VMAs it had unwatched, and the write needs none (before, it was killed
 * by SIGSEGV here).  Without a userfaultfd (seccomp, old kernels) the
 * three merge when armed and the program may take the two VMAs that set
 * free: then the write cannot run without letting writes through to the
 * read-only neighbours.  Documented: ww_mark_written() fails with
 * -ENOMEM, and the write's SIGSEGV goes to the handler installed before
 * the library's (here the default action: death by SIGSEGV).  uffd needs
 * no VMA for a write. */
static void child_limit_own_mappings_only(void)
{
    ww_tracker *t = t_open();
    char *small = child_map(3);
    struct rlimit no_core = { 0, 0 };
    void *buf[3];

    setrlimit(RLIMIT_CORE, &no_core);
    watch_r_rw_r(t, small, 3);
    exhaust_vmas();
    if (t_backend == WW_BACKEND_MPROTECT && !t_userfaultfd_here()) {
        t_child_expect(ww_mark_written(t, small + PAGE, PAGE) == -ENOMEM);
        small[PAGE] = 1;                /* dies here */
        t_child_expect(!"the write ran");
    }
    small[PAGE] = 1;
    t_child_expect(small[PAGE] == 1);
    t_child_expect(reports_all(t, small, 3, buf, (const size_t[]){ 1 }, 1));
    t_child_expect(store_faults(small) && store_faults(small + 2 * PAGE));
    _exit(0);
}

START_TEST(test_vma_limit_mixed_prot_nothing_to_free)
{
    run_child(child_limit_own_mappings_only,
              t_backend == WW_BACKEND_MPROTECT && !t_userfaultfd_here()
                  ? -SIGSEGV : 0);
}
END_TEST

static void add_tests(TCase *tc, enum ww_backend backend)
{
    (void)backend;      /* each test applies to both backends */
    tcase_add_test(tc, test_vma_limit_every_other_page);
    tcase_add_test(tc, test_vma_limit_mixed_prot_same_watch);
    tcase_add_test(tc, test_vma_limit_mixed_prot_other_watch);
    tcase_add_test(tc, test_vma_limit_mixed_prot_own_mappings);
    tcase_add_test(tc, test_vma_limit_mixed_prot_nothing_to_free);
}

int main(void)
{
    Suite *s = suite_create("vma_limit");

    t_add_backend_tcases(s, "vma_limit", add_tests, 180);
    return t_run_slow_suite(s);
}
