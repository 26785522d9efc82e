/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * helpers.h - shared by the Check suites: which backend a test runs on,
 * mapping and writing pages, and the suite runner.
 *
 * Every suite adds its tests through t_add_backend_tcases(), which makes one
 * TCase per backend ("name:uffd", "name:mprotect").  A backend that cannot
 * run here is skipped with a note on stderr, unless it is named in
 * WW_TEST_REQUIRE (e.g. "uffd,mprotect"): then its absence fails the run.
 */
#ifndef WW_TEST_HELPERS_H
#define WW_TEST_HELPERS_H

#include <check.h>
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "writewatch.h"

/* A page-aligned size no mapping of this process can have: 2^62 bytes in a
 * 64-bit process, 3 GiB in a 32-bit one (its 4 GiB hold the program, its
 * libraries and stack in places that leave no 3 GiB hole). */
#if SIZE_MAX > 0xffffffffu
#define T_HUGE_SIZE ((size_t)1 << 62)
#else
#define T_HUGE_SIZE ((size_t)0xc0000000u)
#endif

/* 1 in a build with ThreadSanitizer (gcc defines __SANITIZE_THREAD__,
 * clang answers __has_feature), else 0. */
#if defined(__SANITIZE_THREAD__)
#define T_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define T_TSAN 1
#endif
#endif
#ifndef T_TSAN
#define T_TSAN 0
#endif

/* The page size, read at run time (4K on x86-64, 4K/16K/64K on arm64). */
#define PAGE t_page_size()
size_t t_page_size(void);

/* The backend the running test uses. */
extern enum ww_backend t_backend;

/* The helpers below fail the test at the caller's file:line (each is a
 * macro passing __FILE__ and __LINE__ to its NAME_at function). */
#define T_AT __FILE__, __LINE__

/* Open a tracker on t_backend (asserts success). */
#define t_open() t_open_at(T_AT)
ww_tracker *t_open_at(const char *file, int line);

/* mmap n fresh private anonymous pages (asserts success). */
#define t_map(n) t_map_at(T_AT, n)
char *t_map_at(const char *file, int line, size_t n);

/* An mmap of n pages whose start is aligned to `align` bytes. */
/* The fixture most tests start from: n fresh pages mapped and watched by
 * t, all clean (asserts success).  ww_tracker_close(t) ends the watch. */
#define t_watched(t, n) t_watched_at(T_AT, t, n)
char *t_watched_at(const char *file, int line, ww_tracker *t, size_t n);

#define t_map_aligned(n, align) t_map_aligned_at(T_AT, n, align)
char *t_map_aligned_at(const char *file, int line, size_t n, size_t align);

/* n pages of MAP_SHARED anonymous memory, and n pages of a private
 * mapping of a fresh (unlinked) temporary file: memory ww_watch refuses. */
#define t_map_shared(n) t_map_shared_at(T_AT, n)
#define t_map_file(n) t_map_file_at(T_AT, n)
char *t_map_shared_at(const char *file, int line, size_t n);
char *t_map_file_at(const char *file, int line, size_t n);

/* Assert that a fork child dies of SIGSEGV when it stores into p (store
 * != 0) or loads from it: an access the protection forbids.  No core. */
#define t_assert_child_faults(p, store) t_assert_child_faults_at(T_AT, p, store)
void t_assert_child_faults_at(const char *file, int line, volatile char *p,
                            int store);

/* munmap n pages. */
#define t_munmap_pages(base, n) t_munmap_pages_at(T_AT, base, n)
void t_munmap_pages_at(const char *file, int line, char *base, size_t n);

/* Write one byte into each listed page of base. */
void t_write_pages(char *base, const size_t *idx, size_t n);

/* Assert that a get returned exactly the listed pages of base, in order. */
#define t_assert_pages(got, n_got, base, idx, n)                              \
    t_assert_pages_at(T_AT, got, n_got, base, idx, n)
void t_assert_pages_at(const char *file, int line, void **got, size_t n_got,
                     char *base, const size_t *idx, size_t n);

/* The written pages of [base, base+n pages): a get with flags (0 or
 * WW_GET_RESET); their indices in idx (n entries, or NULL), how many in
 * *count.  0 or -errno; asserts nothing (for fork children too). */
int t_written(ww_tracker *t, char *base, size_t n, unsigned flags,
                 size_t *idx, size_t *count);

/* How many pages of [base, base+n pages) read as written: a get without,
 * and one with WW_GET_RESET (asserts success). */
#define t_count_written(t, base, n) t_count_written_at(T_AT, t, base, n, 0)
#define t_count_written_reset(t, base, n)                                     \
    t_count_written_at(T_AT, t, base, n, WW_GET_RESET)
size_t t_count_written_at(const char *file, int line, ww_tracker *t,
                        char *base, size_t n, unsigned flags);

/* Assert that a get (no reset) of [base, base+n pages) reports exactly
 * pages idx[0..n_idx), in order. */
#define t_assert_written_pages(t, base, n, idx, n_idx)                       \
    t_assert_written_pages_at(T_AT, t, base, n, idx, n_idx)
void t_assert_written_pages_at(const char *file, int line, ww_tracker *t,
                             char *base, size_t n, const size_t *idx,
                             size_t n_idx);

/* Run this test program again, as `PROG --child MODE`, in a fresh process
 * that has not touched the library yet (its probes and SIGSEGV handler are
 * per process), and return its wait status.  main() hands such a run to
 * its child code with t_child_mode(). */
#define t_spawn_self(mode) t_spawn_self_at(T_AT, mode)
int t_spawn_self_at(const char *file, int line, const char *mode);

/* MODE if main() was started as `PROG --child MODE`, else NULL. */
const char *t_child_mode(int argc, char **argv);

/* How a child mode (or a fork child) ends: its exit status. */
enum child_exit {
    CHILD_OK = 0,
    CHILD_FAILED = 1,           /* a t_child_expect() failed */
    CHILD_BAD_MODE = 2,         /* main() knows no such mode */
    CHILD_SKIP = 77,            /* what it tests cannot be tested here */
    CHILD_EXEC_FAILED = 127,    /* t_spawn_self could not exec */
};

/* For child processes, which run outside Check: report and
 * _exit(CHILD_FAILED) when cond is false (_exit: a fork of a Check test
 * must not run its atexit handlers or flush its copied buffers). */
#define t_child_expect(cond)                                                  \
    do {                                                                    \
        if (!(cond)) {                                                      \
            fprintf(stderr, "%s:%d: child check failed: %s\n", __FILE__,    \
                    __LINE__, #cond);                                       \
            _exit(CHILD_FAILED);                                            \
        }                                                                   \
    } while (0)

/* Assert a child's wait status: it exited with CHILD_OK, or it was killed
 * by signal sig (what names it in the failure). */
#define t_assert_child_ok(status, what) t_assert_child_at(T_AT, status, 0, what)
#define t_assert_child_killed(status, sig, what)                              \
    t_assert_child_at(T_AT, status, sig, what)
void t_assert_child_at(const char *file, int line, int status, int sig,
                     const char *what);

/* main() of a program with child modes, for a mode it does not know. */
int t_bad_child_mode(const char *mode);

/* Whether WW_TEST_REQUIRE names the backend (then it must be available). */
int t_backend_required(enum ww_backend b);

/* Add a TCase per backend, "name:BACKEND"; add_tests adds the tests that
 * apply to that backend.  An unavailable backend (not required) gets one
 * "# SKIP" line in the TAP output instead. */
void t_add_backend_tcases(Suite *s, const char *name, void (*add_tests)(TCase *, enum ww_backend),
                        int timeout_seconds);

/* A case that does not run at all here (a feature this build or this
 * kernel lacks): one "ok N - name # SKIP reason" line in the TAP output. */
void t_skip_case(const char *name, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Report the running test as SKIP, with the reason (printf format); the
 * test then cleans up and returns.  Call it from the test function itself
 * (START_TEST's body): its name is the test's name. */
#define t_skip(...) t_skip_record(__func__, __VA_ARGS__)
void t_skip_record(const char *func, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* fork() (raw == 0: the pthread_atfork handlers run), or the fork system
 * call itself (raw != 0: as _Fork() or a sandbox's clone, none run).
 * Flushes stdio first. */
pid_t t_fork(int raw);

/* Whether this process may have a userfaultfd (the mprotect backend's
 * marks need one: without it, seccomp or Linux < 5.13, some checks do not
 * apply). */
int t_userfaultfd_here(void);

/* The number of open file descriptors of this process (/proc/self/fd). */
int t_count_fds(void);

/* The number in a /proc/sys file (e.g. /proc/sys/vm/max_map_count); 0 if
 * it cannot be read. */
size_t t_read_sysctl(const char *path);

/* mlock(2) and munlock(2), the system calls themselves: AddressSanitizer
 * replaces mlock() and munlock() with functions that do nothing. */
int t_mlock(void *addr, size_t len);
int t_munlock(void *addr, size_t len);

/* Whether RLIMIT_MEMLOCK or policy refused a lock (r and errno of the
 * call): then the test says SKIP.  Any other failure fails the test. */
int t_lock_refused(int r);

/* madvise(advice) over every mapping of this process that is
 * MADV_WIPEONFORK (VmFlags "wf" in /proc/self/smaps): the library's fork
 * markers among them -- what a program does that frees memory it does
 * not own.  Returns how many mappings (asserts the madvise calls). */
#define t_madvise_wipeonfork(advice) t_madvise_wipeonfork_at(T_AT, advice)
int t_madvise_wipeonfork_at(const char *file, int line, int advice);

/* In a child about to be a sandbox: a seccomp filter under which the
 * system call nr fails with err (only when the low 32 bits of its second
 * argument are arg1, if arg1 >= 0; an ioctl's request, passed as unsigned:
 * PAGEMAP_SCAN has its top bit set, a negative long in a 32-bit process),
 * everything else allowed.  0, or -1 on an architecture this helper does
 * not know (the caller skips).  Asserts with t_child_expect. */
int t_seccomp_fail(long nr, long long arg1, int err);

/* Run a suite, writing TAP on stdout (see helpers.c); the exit status for
 * main(). */
int t_run_suite(Suite *s);

/* The same for a slow suite: it runs only with WW_TEST_SLOW=1 (make
 * check-slow), plain make check lists it as skipped. */
int t_run_slow_suite(Suite *s);

#endif
