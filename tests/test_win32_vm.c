/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * test_win32_vm.c - the Win32 layer's memory functions (VirtualAlloc,
 * VirtualFree, VirtualProtect) and what surrounds them: their errors
 * (Wine's kernel32 test_VirtualAlloc sequence), protections really applied,
 * the thread-local last error, concurrent use of the allocation table and
 * fork.  Protections are probed with system calls, which fail with EFAULT
 * instead of faulting: write(2) from a page proves it readable, read(2)
 * into it proves it writable.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "win32_helpers.h"

static int probe_fd[2];

static void setup(void)
{
    t_win32_setup();
    ck_assert_int_eq(pipe(probe_fd), 0);
}

static void teardown(void)
{
    close(probe_fd[0]);
    close(probe_fd[1]);
}

static int readable(const char *p)
{
    char c;
    int ok = write(probe_fd[1], p, 1) == 1;

    if (ok)
        ck_assert_int_eq(read(probe_fd[0], &c, 1), 1);
    return ok;
}

/* Writes one byte (0x77) into p if it is writable. */
static int writable(char *p)
{
    ck_assert_int_eq(write(probe_fd[1], "\x77", 1), 1);
    if (read(probe_fd[0], p, 1) == 1)
        return 1;
    ck_assert_int_eq(errno, EFAULT);
    {
        char c;
        ck_assert_int_eq(read(probe_fd[0], &c, 1), 1);   /* drain */
    }
    return 0;
}

/* Wine's test_VirtualAlloc sequence. */
START_TEST(test_virtual_alloc_sequence)
{
    char *a, *b;
    DWORD old = 0;

    t_expect_failure_begin();
    t_assert_failed(ww_VirtualAlloc(NULL, 0, MEM_RESERVE, PAGE_NOACCESS) != NULL,
                  ERROR_INVALID_PARAMETER);
    a = ww_VirtualAlloc(NULL, 0xFFFC, MEM_RESERVE, PAGE_NOACCESS);
    ck_assert_ptr_nonnull(a);
    ck_assert_uint_eq((uintptr_t)a % 0x10000, 0);     /* Windows' granularity */
    t_expect_failure_begin();
    t_assert_failed(ww_VirtualProtect(a, 0xFFFC, PAGE_READONLY, &old),
                  ERROR_INVALID_ADDRESS);              /* not committed */
    b = ww_VirtualAlloc(a, 0x1000, MEM_COMMIT, PAGE_NOACCESS);
    ck_assert_ptr_eq(b, a);
    t_expect_failure_begin();
    t_assert_failed(ww_VirtualProtect(a, 0xFFFC, PAGE_READONLY, &old),
                  ERROR_INVALID_ADDRESS);              /* partly committed */
    ck_assert(ww_VirtualProtect(a, 0x1000, PAGE_READONLY, &old));
    ck_assert_uint_eq(old, PAGE_NOACCESS);
    ck_assert(ww_VirtualProtect(a, 0x1000, PAGE_READWRITE, &old));
    ck_assert_uint_eq(old, PAGE_READONLY);
    t_expect_failure_begin();
    t_assert_failed(ww_VirtualFree(a, 0x10000, 0), ERROR_INVALID_PARAMETER);
    ck_assert(ww_VirtualFree(a, 0x10000, MEM_DECOMMIT));
    t_expect_failure_begin();
    t_assert_failed(ww_VirtualFree(a, 1, MEM_RELEASE), ERROR_INVALID_PARAMETER);
    ck_assert(ww_VirtualFree(a, 0, MEM_RELEASE));
    t_expect_failure_begin();
    t_assert_failed(ww_VirtualFree(a, 0, MEM_RELEASE), ERROR_INVALID_ADDRESS);
}
END_TEST

START_TEST(test_protections_applied)
{
    char *a = ww_VirtualAlloc(NULL, 8 * PAGE, MEM_RESERVE, PAGE_NOACCESS);
    static const struct {
        DWORD protect;
        int readable, writable;
    } cases[] = {
        { PAGE_NOACCESS, 0, 0 },
        { PAGE_READONLY, 1, 0 },
        { PAGE_READWRITE, 1, 1 },
        { PAGE_EXECUTE_READ, 1, 0 },
        { PAGE_EXECUTE_READWRITE, 1, 1 },
    };
    DWORD old;

    ck_assert_ptr_nonnull(a);
    ck_assert(!readable(a));                            /* reserved */
    ck_assert_ptr_eq(ww_VirtualAlloc(a, 8 * PAGE, MEM_COMMIT, PAGE_READWRITE),
                     a);
    a[PAGE] = 42;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        ck_assert(ww_VirtualProtect(a + PAGE, PAGE, cases[i].protect, &old));
        ck_assert_msg(readable(a + PAGE) == cases[i].readable,
                      "protection %#x: readable", (unsigned)cases[i].protect);
        ck_assert_msg(writable(a + PAGE + 1) == cases[i].writable,
                      "protection %#x: writable", (unsigned)cases[i].protect);
    }
    ck_assert_int_eq(a[PAGE], 42);                      /* kept throughout */
    ck_assert(ww_VirtualFree(a + PAGE, PAGE, MEM_DECOMMIT));
    ck_assert(!readable(a + PAGE));
    ck_assert(readable(a));
    ck_assert(ww_VirtualFree(a, 0, MEM_RELEASE));
}
END_TEST

/* The Windows protection of watched pages holds too (reads; writes are
 * probed on unwatched memory only, since a probe would be a write). */
START_TEST(test_watched_protections_applied)
{
    char *a = ww_VirtualAlloc(NULL, 8 * PAGE, MEM_RESERVE | MEM_WRITE_WATCH,
                              PAGE_READWRITE);
    DWORD old;
    void *out[8];

    ck_assert_ptr_nonnull(a);
    ck_assert(!readable(a));
    ck_assert_ptr_eq(ww_VirtualAlloc(a, 4 * PAGE, MEM_COMMIT, PAGE_READWRITE),
                     a);
    a[0] = 1;
    ck_assert(ww_VirtualProtect(a, 2 * PAGE, PAGE_NOACCESS, &old));
    ck_assert(ww_ResetWriteWatch(a, 8 * PAGE) == 0);
    ck_assert(!readable(a));
    ck_assert(!readable(a + 5 * PAGE));                 /* still reserved */
    ck_assert(readable(a + 2 * PAGE));
    ck_assert_uint_eq(t_get_watch(WRITE_WATCH_FLAG_RESET, a, 8 * PAGE, out, 8),
                      0);
    ck_assert(!readable(a + PAGE));
    ck_assert(ww_VirtualFree(a + 2 * PAGE, PAGE, MEM_DECOMMIT));
    ck_assert(!readable(a + 2 * PAGE));
    ck_assert(readable(a + 3 * PAGE));
}
END_TEST

START_TEST(test_commit_semantics)
{
    char *a = ww_VirtualAlloc(NULL, 16 * PAGE, MEM_RESERVE, PAGE_NOACCESS);
    char *c;
    DWORD old;

    ck_assert_ptr_nonnull(a);
    /* Rounded to whole pages; the first committed page is returned. */
    ck_assert_ptr_eq(ww_VirtualAlloc(a + PAGE + 10, PAGE, MEM_COMMIT,
                                     PAGE_READWRITE), a + PAGE);
    ck_assert(writable(a + 2 * PAGE));                  /* touched: page 2 */
    memcpy(a + PAGE, "data", 4);
    /* Committing again keeps the contents and applies the protection. */
    ck_assert_ptr_eq(ww_VirtualAlloc(a + PAGE, 2 * PAGE, MEM_COMMIT,
                                     PAGE_READONLY), a + PAGE);
    ck_assert_int_eq(memcmp(a + PAGE, "data", 4), 0);
    ck_assert(!writable(a + PAGE));
    ck_assert(ww_VirtualProtect(a + PAGE, PAGE, PAGE_READWRITE, &old));
    ck_assert_uint_eq(old, PAGE_READONLY);
    /* Outside any allocation, or running past one: invalid address. */
    t_expect_failure_begin();
    t_assert_failed(ww_VirtualAlloc(a + 15 * PAGE, 2 * PAGE, MEM_COMMIT,
                                  PAGE_READWRITE) != NULL,
                  ERROR_INVALID_ADDRESS);
    t_expect_failure_begin();
    t_assert_failed(ww_VirtualAlloc(a - 0x10000, PAGE, MEM_COMMIT,
                                  PAGE_READWRITE) != NULL,
                  ERROR_INVALID_ADDRESS);
    /* MEM_COMMIT with no address reserves too. */
    c = ww_VirtualAlloc(NULL, 3 * PAGE, MEM_COMMIT, PAGE_READWRITE);
    ck_assert_ptr_nonnull(c);
    ck_assert(writable(c + 2 * PAGE));
    ck_assert(ww_VirtualFree(c, 0, MEM_RELEASE));
    ck_assert(ww_VirtualFree(a, 0, MEM_RELEASE));
}
END_TEST

START_TEST(test_reserve_at_address)
{
    char *a = ww_VirtualAlloc(NULL, 0x20000, MEM_RESERVE, PAGE_NOACCESS);
    char *b;

    ck_assert_ptr_nonnull(a);
    ck_assert(ww_VirtualFree(a, 0, MEM_RELEASE));
    /* Rounded down to 64 KiB; reserve and commit in one call. */
    b = ww_VirtualAlloc(a + 0x1234, 0x1000, MEM_RESERVE | MEM_COMMIT,
                        PAGE_READWRITE);
    ck_assert_ptr_eq(b, a);
    ck_assert(writable(a + 0x2000));                    /* covers 0x2234 */
    /* In use: an invalid address. */
    t_expect_failure_begin();
    t_assert_failed(ww_VirtualAlloc(a, 0x1000, MEM_RESERVE, PAGE_NOACCESS) !=
                  NULL, ERROR_INVALID_ADDRESS);
    t_expect_failure_begin();
    t_assert_failed(ww_VirtualAlloc(a + 0x10000 - 1, 0x1000, MEM_RESERVE,
                                  PAGE_NOACCESS) != NULL,
                  ERROR_INVALID_ADDRESS);
    ck_assert(ww_VirtualFree(a, 0, MEM_RELEASE));
}
END_TEST

START_TEST(test_free_rules)
{
    char *a = ww_VirtualAlloc(NULL, 16 * PAGE, MEM_COMMIT, PAGE_READWRITE);
    /* Memory the layer did not allocate (64K: the largest page size). */
    static char elsewhere[65536] __attribute__((aligned(65536)));

    ck_assert_ptr_nonnull(a);
    t_expect_failure_begin();
    t_assert_failed(ww_VirtualFree(a + PAGE, 0, MEM_DECOMMIT),
                  ERROR_INVALID_ADDRESS);              /* size 0 off base */
    t_expect_failure_begin();
    t_assert_failed(ww_VirtualFree(a + PAGE, 0, MEM_RELEASE),
                  ERROR_INVALID_ADDRESS);
    t_expect_failure_begin();
    t_assert_failed(ww_VirtualFree(a + 15 * PAGE, 2 * PAGE, MEM_DECOMMIT),
                  ERROR_INVALID_PARAMETER);            /* runs past */
    t_expect_failure_begin();
    t_assert_failed(ww_VirtualFree(elsewhere, PAGE, MEM_DECOMMIT),
                  ERROR_INVALID_ADDRESS);
    t_expect_failure_begin();
    t_assert_failed(ww_VirtualFree(a, 0, MEM_DECOMMIT | MEM_RELEASE),
                  ERROR_INVALID_PARAMETER);
    ck_assert(readable(a + 15 * PAGE));                 /* nothing changed */
    ck_assert(ww_VirtualFree(a, 0, MEM_DECOMMIT));      /* the whole */
    ck_assert(!readable(a));
    ck_assert(!readable(a + 15 * PAGE));
    ck_assert(ww_VirtualFree(a, 0, MEM_RELEASE));
}
END_TEST

START_TEST(test_bad_types_and_protections)
{
    char *a = ww_VirtualAlloc(NULL, 4 * PAGE, MEM_COMMIT, PAGE_READWRITE);
    static const DWORD bad_types[] = {
        0, MEM_DECOMMIT, MEM_RELEASE, 0x00080000 /* MEM_RESET */,
        MEM_TOP_DOWN, MEM_COMMIT | 0x00400000 /* MEM_PHYSICAL */,
    };
    static const DWORD bad_protections[] = {
        0, PAGE_WRITECOPY, PAGE_EXECUTE_WRITECOPY, PAGE_READWRITE | PAGE_GUARD,
        PAGE_READONLY | PAGE_READWRITE, 0x1000,
    };
    DWORD old = 0x77;

    ck_assert_ptr_nonnull(a);
    for (size_t i = 0; i < sizeof(bad_types) / sizeof(bad_types[0]); i++) {
        t_expect_failure_begin();
        t_assert_failed(ww_VirtualAlloc(NULL, PAGE, bad_types[i],
                                      PAGE_READWRITE) != NULL,
                      ERROR_INVALID_PARAMETER);
    }
    for (size_t i = 0; i < sizeof(bad_protections) / sizeof(bad_protections[0]);
         i++) {
        t_expect_failure_begin();
        t_assert_failed(ww_VirtualAlloc(NULL, PAGE, MEM_COMMIT,
                                      bad_protections[i]) != NULL,
                      ERROR_INVALID_PARAMETER);
        t_expect_failure_begin();
        t_assert_failed(ww_VirtualProtect(a, PAGE, bad_protections[i], &old),
                      ERROR_INVALID_PARAMETER);
    }
    ck_assert_uint_eq(old, 0x77);
    t_expect_failure_begin();
    t_assert_failed(ww_VirtualProtect(a, PAGE, PAGE_READONLY, NULL),
                  ERROR_NOACCESS);
    t_expect_failure_begin();
    t_assert_failed(ww_VirtualProtect(a, 0, PAGE_READONLY, &old),
                  ERROR_INVALID_PARAMETER);
    t_expect_failure_begin();
    t_assert_failed(ww_VirtualProtect(a - 0x10000, PAGE, PAGE_READONLY, &old),
                  ERROR_INVALID_ADDRESS);
    ck_assert(writable(a));                             /* nothing changed */
}
END_TEST

START_TEST(test_huge_and_wrapping_sizes)
{
    t_expect_failure_begin();
    t_assert_failed(ww_VirtualAlloc(NULL, T_HUGE_SIZE, MEM_RESERVE,
                                  PAGE_NOACCESS) != NULL,
                  ERROR_NOT_ENOUGH_MEMORY);
    t_expect_failure_begin();
    t_assert_failed(ww_VirtualAlloc((void *)(UINTPTR_MAX - 0xfff), 0x2000,
                                  MEM_RESERVE, PAGE_NOACCESS) != NULL,
                  ERROR_INVALID_PARAMETER);
    t_expect_failure_begin();
    t_assert_failed(ww_VirtualAlloc(NULL, ~(SIZE_T)0, MEM_COMMIT,
                                  PAGE_READWRITE) != NULL,
                  ERROR_INVALID_PARAMETER);
}
END_TEST

static void *other_thread_error(void *arg)
{
    DWORD *seen = arg;

    seen[0] = ww_GetLastError();
    ww_SetLastError(7);
    t_expect_failure_begin();
    ww_VirtualFree(NULL, 0, MEM_RELEASE);
    seen[1] = ww_GetLastError();
    return NULL;
}

START_TEST(test_last_error_is_per_thread)
{
    DWORD seen[2];
    pthread_t th;

    ww_SetLastError(42);
    ck_assert_int_eq(pthread_create(&th, NULL, other_thread_error, seen), 0);
    pthread_join(th, NULL);
    ck_assert_uint_eq(seen[0], 0);
    ck_assert_uint_eq(seen[1], ERROR_INVALID_ADDRESS);
    ck_assert_uint_eq(ww_GetLastError(), 42);
}
END_TEST

/* Threads allocating, writing, querying, decommitting and releasing their
 * own write-watch allocations at once see only their own pages. */
static void *table_worker(void *arg)
{
    long failures = 0;

    (void)arg;
    for (int round = 0; round < 50; round++) {
        char *a = ww_VirtualAlloc(NULL, 8 * PAGE,
                                  MEM_RESERVE | MEM_COMMIT | MEM_WRITE_WATCH,
                                  PAGE_READWRITE);
        void *out[8];
        ULONG_PTR count = 8;
        ULONG granularity;
        size_t page = (size_t)round % 8;

        if (!a) {
            failures++;
            continue;
        }
        a[page * PAGE] = 1;
        if (ww_GetWriteWatch(WRITE_WATCH_FLAG_RESET, a, 8 * PAGE, out, &count,
                             &granularity) != 0 || count != 1 ||
            out[0] != a + page * PAGE)
            failures++;
        if (!ww_VirtualFree(a, 4 * PAGE, MEM_DECOMMIT) ||
            !ww_VirtualFree(a, 0, MEM_RELEASE))
            failures++;
    }
    return (void *)failures;
}

START_TEST(test_concurrent_table_use)
{
    enum { THREADS = 4 };
    pthread_t th[THREADS];

    for (int i = 0; i < THREADS; i++)
        ck_assert_int_eq(pthread_create(&th[i], NULL, table_worker, NULL), 0);
    for (int i = 0; i < THREADS; i++) {
        void *failures;
        pthread_join(th[i], &failures);
        ck_assert_ptr_null(failures);
    }
}
END_TEST

/* Write watches do not survive fork: in the child the write-watch calls
 * fail with ERROR_NOT_SUPPORTED and plain memory keeps working; the
 * parent's watch is untouched. */
START_TEST(test_fork_child)
{
    char *a = t_alloc_watched(4);
    size_t two[] = { 2 };
    int status;
    pid_t pid;

    a[2 * PAGE] = 1;
    pid = fork();
    ck_assert_int_ne(pid, -1);
    if (pid == 0) {
        void *out[4];
        ULONG_PTR count = 4;
        ULONG granularity;
        DWORD old;
        char *p;
        int bad = 0;

        bad |= ww_GetWriteWatch(0, a, 4 * PAGE, out, &count, &granularity) !=
               ~0u || ww_GetLastError() != ERROR_NOT_SUPPORTED;
        bad |= (ww_VirtualAlloc(NULL, PAGE, MEM_RESERVE | MEM_WRITE_WATCH,
                                PAGE_READWRITE) != NULL ||
                ww_GetLastError() != ERROR_NOT_SUPPORTED) << 1;
        p = ww_VirtualAlloc(NULL, PAGE, MEM_COMMIT, PAGE_READWRITE);
        bad |= (!p || !ww_VirtualFree(p, 0, MEM_RELEASE)) << 2;
        /* The inherited allocation is the child's own memory. */
        bad |= (!ww_VirtualProtect(a, PAGE, PAGE_READONLY, &old) ||
                !ww_VirtualFree(a + PAGE, PAGE, MEM_DECOMMIT) ||
                a[2 * PAGE] != 1) << 4;
        bad |= !ww_VirtualFree(a, 0, MEM_RELEASE) << 3;
        _exit(bad);
    }
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
                  "child failed: %#x", status);
    t_assert_written(a, 4, two, 1);
}
END_TEST

/* What a fork child does to inherited MEM_WRITE_WATCH memory before it
 * writes to page 1 or 2 (2 was written by the parent, 1 was not). */
enum child_change {
    PROTECT_READONLY,
    PROTECT_NOACCESS,
    DECOMMIT,
    RECOMMIT_READONLY,
    REALLOC_READONLY,
    REALLOC_NOACCESS,
    N_CHANGES
};

static int change_memory(char *a, enum child_change c)
{
    DWORD old;

    switch (c) {
    case PROTECT_READONLY:
        return ww_VirtualProtect(a, 4 * PAGE, PAGE_READONLY, &old);
    case PROTECT_NOACCESS:
        return ww_VirtualProtect(a, 4 * PAGE, PAGE_NOACCESS, &old);
    case DECOMMIT:
        return ww_VirtualFree(a, 4 * PAGE, MEM_DECOMMIT);
    case RECOMMIT_READONLY:
        return ww_VirtualFree(a, 4 * PAGE, MEM_DECOMMIT) &&
               ww_VirtualAlloc(a, 4 * PAGE, MEM_COMMIT, PAGE_READONLY) == a;
    case REALLOC_READONLY:
    case REALLOC_NOACCESS:
        return ww_VirtualFree(a, 0, MEM_RELEASE) &&
               ww_VirtualAlloc(a, 4 * PAGE, MEM_RESERVE | MEM_COMMIT,
                               c == REALLOC_READONLY ? PAGE_READONLY
                                                     : PAGE_NOACCESS) == a;
    default:
        return 0;
    }
}

/*
 * Issue 11, defect 9: in a fork child, VirtualProtect(PAGE_READONLY or
 * PAGE_NOACCESS) on inherited MEM_WRITE_WATCH memory must hold, as must a
 * decommit and a release followed by a new allocation at the same place:
 * a store then raises an access violation (SIGSEGV).  The inherited
 * handler used to give the page the parent's read-write protection back.
 * The child reports on a pipe before its store, so the fault is known to
 * be that store's.
 */
static void child_store_faults(int raw, enum child_change c, size_t page)
{
    char *a = t_alloc_watched(4);
    size_t two[] = { 2 };
    int fds[2], status;
    char step;
    pid_t pid;

    a[2 * PAGE] = 1;
    ck_assert_int_eq(pipe(fds), 0);
    pid = t_fork(raw);
    ck_assert_int_ne(pid, -1);
    if (pid == 0) {
        struct rlimit no_core = { 0, 0 };

        setrlimit(RLIMIT_CORE, &no_core);
        close(fds[0]);
        if (!change_memory(a, c))
            _exit(3);
        if (write(fds[1], "c", 1) != 1)
            _exit(4);
        ((volatile char *)a)[page * PAGE] = 5;      /* must fault */
        _exit(0);
    }
    close(fds[1]);
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert_msg(read(fds[0], &step, 1) == 1,
                  "%s child, change %d: status %#x before its store",
                  raw ? "raw fork" : "fork", (int)c, (unsigned)status);
    close(fds[0]);
    ck_assert_msg(WIFSIGNALED(status) && WTERMSIG(status) == SIGSEGV,
                  "%s child, change %d, page %zu: status %#x, expected "
                  "SIGSEGV", raw ? "raw fork" : "fork", (int)c, page,
                  (unsigned)status);
    /* The parent's watch and memory are as they were.  (uffd: not after
     * a raw fork until the front tells raw fork children by their pid:
     * the child's tracker still reaches the parent's userfaultfd and
     * pagemap descriptors, and its decommit resets the parent's pages.) */
    if (!raw || t_backend == WW_BACKEND_MPROTECT)
        t_assert_written(a, 4, two, 1);
    ck_assert_int_eq(a[page * PAGE], page == 2);
    ck_assert(ww_VirtualFree(a, 0, MEM_RELEASE));
}

START_TEST(test_fork_child_protection_holds)
{
    for (int c = 0; c < N_CHANGES; c++) {
        child_store_faults(0, (enum child_change)c, 1);
        child_store_faults(0, (enum child_change)c, 2);
    }
}
END_TEST

START_TEST(test_raw_fork_child_protection_holds)
{
    for (int c = 0; c < N_CHANGES; c++) {
        child_store_faults(1, (enum child_change)c, 1);
        child_store_faults(1, (enum child_change)c, 2);
    }
}
END_TEST

/*
 * At vm.max_map_count, mprotect(2) changes a range VMA by VMA and can run
 * out of VMAs at the last one's split after it changed the first ones.  A
 * commit, decommit or protection change that fails so (with
 * ERROR_NOT_ENOUGH_MEMORY) must leave every page as it was, as on
 * Windows.  Pages: 1 read-write and written (its VMA is accounted, so it
 * merges with no never-written neighbour), 2 reserved (or, for
 * VirtualProtect, committed read-only), 3-4 read-write and written; the
 * call covers [1, 4); isolated commits after them fill the VMA table.
 */
enum { LIMIT_COMMIT, LIMIT_DECOMMIT, LIMIT_PROTECT };

static int fail_at_vma_limit(int op, size_t max_maps)
{
    static const char *const name[] = { "commit", "decommit", "protect" };
    size_t n = 2 * max_maps + 64, k, two[] = { 1, 3, 4 };
    char *base = ww_VirtualAlloc(NULL, n * PAGE, MEM_RESERVE | MEM_WRITE_WATCH,
                                 PAGE_NOACCESS);
    DWORD old;
    int ok;

    ck_assert_ptr_nonnull(base);
    ck_assert_ptr_nonnull(ww_VirtualAlloc(base + PAGE, PAGE, MEM_COMMIT,
                                          PAGE_READWRITE));
    ck_assert_ptr_nonnull(ww_VirtualAlloc(base + 3 * PAGE, 2 * PAGE,
                                          MEM_COMMIT, PAGE_READWRITE));
    if (op == LIMIT_PROTECT)
        ck_assert_ptr_nonnull(ww_VirtualAlloc(base + 2 * PAGE, PAGE,
                                              MEM_COMMIT, PAGE_READONLY));
    base[PAGE] = base[3 * PAGE] = base[4 * PAGE] = 1;
    for (k = 7; k < n; k += 2)
        if (!ww_VirtualAlloc(base + k * PAGE, PAGE, MEM_COMMIT,
                             PAGE_READWRITE))
            break;
    ck_assert_msg(k < n, "%zu isolated commits did not reach the limit of "
                  "%zu VMAs", n / 2, max_maps);
    ck_assert_uint_eq(ww_GetLastError(), ERROR_NOT_ENOUGH_MEMORY);

    t_expect_failure_begin();
    if (op == LIMIT_COMMIT)
        ok = ww_VirtualAlloc(base + PAGE, 3 * PAGE, MEM_COMMIT,
                             PAGE_READONLY) != NULL;
    else if (op == LIMIT_DECOMMIT)
        ok = ww_VirtualFree(base + PAGE, 3 * PAGE, MEM_DECOMMIT);
    else
        ok = ww_VirtualProtect(base + PAGE, 3 * PAGE, PAGE_READONLY, &old);
    if (ok) {                           /* the kernel found room */
        ck_assert(ww_VirtualFree(base, 0, MEM_RELEASE));
        return 0;
    }
    t_assert_failed(ok, ERROR_NOT_ENOUGH_MEMORY);
    ck_assert_msg(writable(base + PAGE), "%s failed at the VMA limit but "
                  "left committed read-write page 1 without write access",
                  name[op]);
    ck_assert_msg(readable(base + 2 * PAGE) == (op == LIMIT_PROTECT) &&
                  !writable(base + 2 * PAGE), "%s failed at the VMA limit "
                  "but changed page 2's access", name[op]);
    ck_assert_msg(writable(base + 3 * PAGE) && writable(base + 4 * PAGE),
                  "%s failed at the VMA limit but changed pages 3-4",
                  name[op]);
    base[PAGE + 1] = 2;
    t_assert_written(base, 5, two, 3);
    ck_assert(ww_VirtualFree(base, 0, MEM_RELEASE));
    return 1;
}

START_TEST(test_failure_at_vma_limit_changes_nothing)
{
    size_t max_maps = t_read_sysctl("/proc/sys/vm/max_map_count");
    int failed = 0;

    if (T_TSAN) {
        /* At the limit, its own allocator cannot map and aborts. */
        t_skip("ThreadSanitizer needs mappings of its own");
        return;
    }
    if (max_maps == 0 || max_maps > 1000000) {
        t_skip("vm.max_map_count is %zu: too many commits to reach it",
               max_maps);
        return;
    }
    for (int op = LIMIT_COMMIT; op <= LIMIT_PROTECT; op++)
        failed += fail_at_vma_limit(op, max_maps);
    /* The layout makes at least the commit and decommit fail. */
    ck_assert_int_ge(failed, 2);
}
END_TEST

/*
 * Memory the program locked (mlock(2), or everything with
 * mlockall(MCL_FUTURE)): the kernel refuses MADV_DONTNEED on it, but
 * decommit and MEM_RESET must still free the pages, as on Windows
 * (decommitted pages read as zero when committed again), and keep their
 * write states.
 */
START_TEST(test_locked_memory_is_freed)
{
    char *base = ww_VirtualAlloc(NULL, 16 * PAGE,
                                 MEM_RESERVE | MEM_WRITE_WATCH, PAGE_NOACCESS);
    void *out[16];
    ULONG_PTR n;

    ck_assert_ptr_nonnull(base);
    ck_assert_ptr_eq(ww_VirtualAlloc(base, 8 * PAGE, MEM_COMMIT,
                                     PAGE_READWRITE), base);
    if (t_lock_refused(t_mlock(base, 8 * PAGE))) {
        t_skip("mlock refused here (%s)", strerror(errno));
        ck_assert(ww_VirtualFree(base, 0, MEM_RELEASE));
        return;
    }
    base[PAGE] = 5;
    base[5 * PAGE] = 6;
    ck_assert_msg(ww_VirtualFree(base, 4 * PAGE, MEM_DECOMMIT),
                  "decommit of locked pages failed: error %u",
                  (unsigned)ww_GetLastError());
    ck_assert(!readable(base + PAGE));
    ck_assert_ptr_eq(ww_VirtualAlloc(base, 8 * PAGE, MEM_COMMIT,
                                     PAGE_READWRITE), base);
    ck_assert_msg(base[PAGE] == 0, "a decommitted locked page reads %d "
                  "when committed again", base[PAGE]);
    ck_assert_msg(ww_VirtualAlloc(base + 4 * PAGE, 4 * PAGE, MEM_RESET,
                                  PAGE_READWRITE) == base + 4 * PAGE,
                  "MEM_RESET of locked pages failed: error %u",
                  (unsigned)ww_GetLastError());
    /* Written before, reported still (locking may report more pages). */
    n = t_get_watch(0, base, 16 * PAGE, out, 16);
    ck_assert_uint_ge(n, 2);
    {
        int one = 0, five = 0;

        for (ULONG_PTR i = 0; i < n; i++) {
            one |= out[i] == base + PAGE;
            five |= out[i] == base + 5 * PAGE;
        }
        ck_assert_msg(one && five, "written pages 1 and 5 not reported");
    }
    ck_assert(ww_VirtualFree(base, 0, MEM_RELEASE));
}
END_TEST

static void add_tests(TCase *tc, enum ww_backend backend)
{
    (void)backend;
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_virtual_alloc_sequence);
    tcase_add_test(tc, test_protections_applied);
    tcase_add_test(tc, test_watched_protections_applied);
    tcase_add_test(tc, test_commit_semantics);
    tcase_add_test(tc, test_reserve_at_address);
    tcase_add_test(tc, test_free_rules);
    tcase_add_test(tc, test_bad_types_and_protections);
    tcase_add_test(tc, test_huge_and_wrapping_sizes);
    tcase_add_test(tc, test_failure_at_vma_limit_changes_nothing);
    tcase_add_test(tc, test_locked_memory_is_freed);
    tcase_add_test(tc, test_last_error_is_per_thread);
    tcase_add_test(tc, test_concurrent_table_use);
    tcase_add_test(tc, test_fork_child);
    tcase_add_test(tc, test_fork_child_protection_holds);
    tcase_add_test(tc, test_raw_fork_child_protection_holds);
}

int main(void)
{
    Suite *s = suite_create("win32_vm");

    t_add_backend_tcases(s, "win32_vm", add_tests, 60);
    return t_run_suite(s);
}
