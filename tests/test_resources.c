/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * test_resources.c - running out of things: file descriptors at open, and
 * memory at every allocation the library makes (with --enable-fault-
 * injection, which CI's sanitizer build uses so LeakSanitizer also checks
 * that every error path frees what it took).
 */
#include "config.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/resource.h>

#include "helpers.h"
#include "kernel-uapi.h"

/* Exported only by --enable-fault-injection builds. */
extern void ww_debug_fail_alloc_after(long n) __attribute__((weak));
extern void ww_debug_fail_scan_after(long n, int err) __attribute__((weak));

/* Open with no file descriptor left: a clear error, nothing leaked, and
 * the backend still works once descriptors are back (a transient failure
 * must not be remembered as "backend unavailable"). */
START_TEST(test_no_file_descriptors)
{
    struct rlimit old, none = { 0, 0 };
    ww_tracker *t = NULL;
    int r;

    ck_assert_int_eq(getrlimit(RLIMIT_NOFILE, &old), 0);
    none.rlim_max = old.rlim_max;
    ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &none), 0);
    r = ww_tracker_open(&t, t_backend, 0);
    ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &old), 0);
    if (t_backend == WW_BACKEND_UFFD) {
        ck_assert_int_eq(r, -EMFILE);
        ck_assert_ptr_null(t);
    } else {
        ck_assert_int_eq(r, 0);     /* mprotect needs no descriptor */
        ww_tracker_close(t);
    }
    t = t_open();
    ww_tracker_close(t);
}
END_TEST

/* Same, but before the backend was ever probed: that needs a new process
 * (a fork child inherits the probe cache), so the test runs itself again
 * in child mode "first-probe:BACKEND", which does the check and exits. */
static int first_probe_without_fds(enum ww_backend backend)
{
    struct rlimit old, none = { 0, 0 };
    int r;

    t_child_expect(getrlimit(RLIMIT_NOFILE, &old) == 0);
    none.rlim_max = old.rlim_max;
    t_child_expect(setrlimit(RLIMIT_NOFILE, &none) == 0);
    r = ww_backend_available(backend);
    t_child_expect(setrlimit(RLIMIT_NOFILE, &old) == 0);
    t_child_expect(backend != WW_BACKEND_UFFD || r == -EMFILE);
    t_child_expect(ww_backend_available(backend) == 0);
    return CHILD_OK;
}

START_TEST(test_no_file_descriptors_at_first_probe)
{
    char mode[32];

    snprintf(mode, sizeof(mode), "first-probe:%s",
             ww_backend_name(t_backend));
    t_assert_child_ok(t_spawn_self(mode), mode);
}
END_TEST

/* One life of a tracker touching every allocation site: open, ten watches
 * (the registry grows past its first 8 slots), queries, unwatch, close.
 * Returns the first error, after undoing what it did. */
static int tracker_life(char **mem, size_t n_mem)
{
    ww_tracker *t;
    void *pages[4];
    size_t count = 4, watched = 0;
    int r = ww_tracker_open(&t, t_backend, 0);

    if (r < 0)
        return r;
    while (watched < n_mem) {
        r = ww_watch(t, mem[watched], 4 * PAGE, 0);
        if (r < 0)
            break;
        mem[watched][PAGE] = 1;
        watched++;
    }
    if (r == 0)
        r = ww_get(t, mem[0], 4 * PAGE, WW_GET_RESET, pages, &count);
    if (r == 0 && count != 1)
        r = -EIO;
    for (size_t i = 0; r == 0 && i < n_mem / 2; i++)
        r = ww_unwatch(t, mem[i], 4 * PAGE);
    ww_tracker_close(t);
    return r;
}

START_TEST(test_every_allocation_failure)
{
    enum { N_MEM = 10 };
    char *mem[N_MEM];
    long n;
    int r;

    for (int i = 0; i < N_MEM; i++)
        mem[i] = t_map(4);
    for (n = 0; n < 1000; n++) {
        ww_debug_fail_alloc_after(n);
        r = tracker_life(mem, N_MEM);
        ww_debug_fail_alloc_after(-1);
        if (r == 0)
            break;
        ck_assert_msg(r == -ENOMEM, "allocation %ld failing gave %s", n,
                      ww_strerror(r));
    }
    /* tracker + backend state + 10 watches + 2 registry growths at least */
    ck_assert_int_ge(n, 14);
    fprintf(stderr, "faults(%s): failed each of %ld allocations in turn: "
            "every one gave -ENOMEM\n", ww_backend_name(t_backend), n);
    for (int i = 0; i < N_MEM; i++)
        t_munmap_pages(mem[i], 4);
}
END_TEST

/* Issue 11, defect 4.  A get+RESET whose n-th re-arming kernel call
 * fails (PAGEMAP_SCAN: ENOMEM when the kernel cannot allocate its bounce
 * buffer; mprotect: ENOMEM) reports nothing, leaves *count as it was, and
 * leaves every page's state as it was: the next get reports all 1000 runs,
 * including those that earlier chunks of the failed call had re-armed.
 * A fresh tracker each time: the uffd backend's region vector grows with
 * use (issue 14), and only a new one crosses 256-, 512- and 1024-region
 * chunks in one get. */
static void fail_reset_at_every_chunk(int ranges)
{
    enum { N = 2000, RUNS = N / 2 };
    char *mem = t_map(N);
    void **pages = calloc(N, sizeof(*pages));
    struct ww_range *rv = calloc(N, sizeof(*rv));
    long k;

    ck_assert(pages && rv);
    for (k = 0; k < 64; k++) {
        ww_tracker *t = t_open();
        size_t count = N;
        int r;

        ck_assert_int_eq(ww_watch(t, mem, N * PAGE, 0), 0);
        for (size_t i = 0; i < N; i += 2)
            mem[i * PAGE] = 1;
        ww_debug_fail_scan_after(k, ENOMEM);
        r = ranges ? ww_get_ranges(t, mem, N * PAGE, WW_GET_RESET, rv, &count)
                   : ww_get(t, mem, N * PAGE, WW_GET_RESET, pages, &count);
        ww_debug_fail_scan_after(-1, 0);
        if (r == 0) {           /* the call made fewer than k+1 scans */
            ck_assert_uint_eq(count, RUNS);
            ww_tracker_close(t);
            break;
        }
        ck_assert_msg(r == -ENOMEM, "scan %ld failing: %s", k, ww_strerror(r));
        ck_assert_msg(count == N, "scan %ld failing: count %zu changed", k,
                      count);
        count = N;
        ck_assert_int_eq(ww_get(t, mem, N * PAGE, 0, pages, &count), 0);
        ck_assert_msg(count == RUNS, "scan %ld failing: %zu of %d written "
                      "pages still reported", k, count, RUNS);
        for (size_t i = 0; i < count; i++)
            ck_assert_ptr_eq(pages[i], mem + 2 * i * PAGE);
        count = N;
        ck_assert_int_eq(ww_get(t, mem, N * PAGE, WW_GET_RESET, pages, &count),
                         0);
        ck_assert_uint_eq(count, RUNS);
        ww_tracker_close(t);
    }
    ck_assert_msg(k >= 3, "only %ld scans per call: the test no longer "
                  "crosses chunks", k);
    fprintf(stderr, "faults(%s): get+RESET (%s) failed at each of its %ld "
            "re-arming calls in turn: nothing lost\n",
            ww_backend_name(t_backend), ranges ? "ranges" : "pages", k);
    t_munmap_pages(mem, N);
    free(pages);
    free(rv);
}

START_TEST(test_failed_reset_at_every_chunk_pages)
{
    fail_reset_at_every_chunk(0);
}
END_TEST

START_TEST(test_failed_reset_at_every_chunk_ranges)
{
    fail_reset_at_every_chunk(1);
}
END_TEST

/* Issue 11, defect 10.  A sandbox that denies PAGEMAP_SCAN (a seccomp
 * filter answering ENOTTY, as some container profiles do): opening a uffd
 * tracker fails with -ENOTSUP and keeps no descriptor. */
static int pagemap_scan_denied_child(void)
{
    ww_tracker *t = NULL;
    int before;

    if (t_seccomp_fail(SYS_ioctl, (unsigned)PAGEMAP_SCAN, ENOTTY) < 0)
        return 77;
    before = t_count_fds();
    t_child_expect(ww_tracker_open(&t, WW_BACKEND_UFFD, 0) == -ENOTSUP);
    t_child_expect(t == NULL);
    t_child_expect(t_count_fds() == before);
    return 0;
}

START_TEST(test_pagemap_scan_denied_leaks_nothing)
{
    int status;
    pid_t pid;

    fflush(NULL);
    pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0)
        _exit(pagemap_scan_denied_child());
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert_msg(WIFEXITED(status) && (WEXITSTATUS(status) == 0 ||
                                        WEXITSTATUS(status) == 77),
                  "child status %#x", (unsigned)status);
}
END_TEST

/* writewatch.h: ww_get "Does not allocate".  Callers rely on it: a garbage
 * collector reads its dirty pages with every other thread stopped, and one
 * stopped inside malloc would hold the allocator's lock forever (bdwgc
 * never calls malloc with the world stopped).  A get of many runs, with the
 * next allocation armed to fail: the failure must still be pending for the
 * ww_watch that follows. */
START_TEST(test_get_does_not_allocate)
{
    enum { N = 1024 };
    static struct ww_range runs[N];
    ww_tracker *t = t_open();
    char *mem = t_map(N), *other = t_map(4);
    size_t count = N;
    int r;

    ck_assert_int_eq(ww_watch(t, mem, N * PAGE, 0), 0);
    for (size_t i = 0; i < N; i += 2)
        mem[i * PAGE] = 1;          /* N / 2 runs: more than one scan chunk */
    ww_debug_fail_alloc_after(0);
    r = ww_get_ranges(t, mem, N * PAGE, WW_GET_RESET, runs, &count);
    ck_assert_int_eq(r, 0);
    ck_assert_uint_eq(count, N / 2);
    r = ww_watch(t, other, 4 * PAGE, 0);
    ww_debug_fail_alloc_after(-1);
    ck_assert_msg(r == -ENOMEM, "ww_get_ranges allocated: the allocation "
                  "failure armed before it was gone for the ww_watch after "
                  "it (%s)", ww_strerror(r));
    ww_tracker_close(t);
    t_munmap_pages(mem, N);
    t_munmap_pages(other, 4);
}
END_TEST

static void add_tests(TCase *tc, enum ww_backend backend)
{
    (void)backend;
    tcase_add_test(tc, test_no_file_descriptors);
    tcase_add_test(tc, test_no_file_descriptors_at_first_probe);
    if (backend == WW_BACKEND_UFFD)
        tcase_add_test(tc, test_pagemap_scan_denied_leaks_nothing);
    if (ww_debug_fail_scan_after) {
        tcase_add_test(tc, test_failed_reset_at_every_chunk_pages);
        tcase_add_test(tc, test_failed_reset_at_every_chunk_ranges);
    }
    if (ww_debug_fail_alloc_after) {
        tcase_add_test(tc, test_every_allocation_failure);
        tcase_add_test(tc, test_get_does_not_allocate);
    }
}

int main(int argc, char **argv)
{
    const char *mode = t_child_mode(argc, argv);
    Suite *s;

    if (mode) {
        if (strcmp(mode, "first-probe:uffd") == 0)
            return first_probe_without_fds(WW_BACKEND_UFFD);
        if (strcmp(mode, "first-probe:mprotect") == 0)
            return first_probe_without_fds(WW_BACKEND_MPROTECT);
        return t_bad_child_mode(mode);
    }
    s = suite_create("resources");

    if (!ww_debug_fail_alloc_after)
        t_skip_case("resources:fault-injection", "allocation and scan "
                       "failures need ./configure --enable-fault-injection");
    t_add_backend_tcases(s, "resources", add_tests, 60);
    return t_run_suite(s);
}
