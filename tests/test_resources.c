/*
 * test_resources.c - running out of things: file descriptors at open, and
 * memory at every allocation the library makes (with --enable-fault-
 * injection, which CI's sanitizer build uses so LeakSanitizer also checks
 * that every error path frees what it took).
 */
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/resource.h>

#include "helpers.h"

/* Exported only by --enable-fault-injection builds. */
extern void ww_debug_fail_alloc_after(long n) __attribute__((weak));

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
    r = ww_tracker_open(&t, test_backend, 0);
    ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &old), 0);
    if (test_backend == WW_BACKEND_UFFD) {
        ck_assert_int_eq(r, -EMFILE);
        ck_assert_ptr_null(t);
    } else {
        ck_assert_int_eq(r, 0);     /* mprotect needs no descriptor */
        ww_tracker_close(t);
    }
    t = test_open();
    ww_tracker_close(t);
}
END_TEST

/* Same, but before the backend was ever probed: that needs a new process
 * (a fork child inherits the probe cache), so the test runs itself again
 * with --first-probe BACKEND, which does the check and exits. */
static int first_probe_without_fds(enum ww_backend backend)
{
    struct rlimit old, none = { 0, 0 };
    int r;

    if (getrlimit(RLIMIT_NOFILE, &old) != 0)
        return 2;
    none.rlim_max = old.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &none) != 0)
        return 2;
    r = ww_backend_available(backend);
    if (setrlimit(RLIMIT_NOFILE, &old) != 0)
        return 2;
    if (backend == WW_BACKEND_UFFD && r != -EMFILE)
        return 3;
    return ww_backend_available(backend) == 0 ? 0 : 4;
}

START_TEST(test_no_file_descriptors_at_first_probe)
{
    int status;
    pid_t pid = fork();

    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        execl("/proc/self/exe", "test_resources", "--first-probe",
              ww_backend_name(test_backend), (char *)NULL);
        _exit(127);
    }
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
                  "first probe without fds: status %d", status);
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
    int r = ww_tracker_open(&t, test_backend, 0);

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
        mem[i] = test_map(4);
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
            "every one gave -ENOMEM\n", ww_backend_name(test_backend), n);
    for (int i = 0; i < N_MEM; i++)
        munmap_pages(mem[i], 4);
}
END_TEST

static void add_tests(TCase *tc, enum ww_backend backend)
{
    (void)backend;
    tcase_add_test(tc, test_no_file_descriptors);
    tcase_add_test(tc, test_no_file_descriptors_at_first_probe);
    if (ww_debug_fail_alloc_after)
        tcase_add_test(tc, test_every_allocation_failure);
}

int main(int argc, char **argv)
{
    Suite *s;

    if (argc == 3 && strcmp(argv[1], "--first-probe") == 0)
        return first_probe_without_fds(strcmp(argv[2], "uffd") == 0
                                           ? WW_BACKEND_UFFD
                                           : WW_BACKEND_MPROTECT);
    s = suite_create("resources");

    if (!ww_debug_fail_alloc_after)
        fprintf(stderr, "SKIP resources: allocation failures need "
                "./configure --enable-fault-injection\n");
    add_backend_tcases(s, "resources", add_tests, 60);
    return run_suite(s);
}
