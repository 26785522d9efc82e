/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * test_protect.c - ww_protect() and watched memory of any protection, on
 * every backend: write states survive protection changes; a write the
 * protection forbids faults (SIGSEGV, as without the library) and is not
 * reported, before and after re-arming; a write it allows is reported;
 * ww_watch keeps the protection it finds (PROT_EXEC included) and unwatch
 * leaves it; bad inputs.
 *
 * Faults are seen two ways: a fork child that must die of SIGSEGV, and a
 * fresh process (t_spawn_self) whose own SIGSEGV handler, installed
 * before the library's, jumps over the faulting store, so that the same
 * process can then ask whether the page was reported.
 */
#include "config.h"

#include <setjmp.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>

#include "helpers.h"

#define RW (PROT_READ | PROT_WRITE)

/* The protection of the mapping at addr, from /proc/self/maps; -1 if it
 * is not mapped. */
static int maps_prot(const void *addr)
{
    FILE *f = fopen("/proc/self/maps", "r");
    uintptr_t a = (uintptr_t)addr;
    char line[512];
    int prot = -1;

    ck_assert_ptr_nonnull(f);
    while (prot < 0 && fgets(line, sizeof(line), f)) {
        unsigned long lo, hi;
        char perms[8];

        if (sscanf(line, "%lx-%lx %7s", &lo, &hi, perms) == 3 && lo <= a &&
            a < hi)
            prot = (perms[0] == 'r' ? PROT_READ : 0) |
                   (perms[1] == 'w' ? PROT_WRITE : 0) |
                   (perms[2] == 'x' ? PROT_EXEC : 0);
    }
    fclose(f);
    return prot;
}

/* The page's protection is `prot` as far as the program can tell: a
 * backend may hold PROT_WRITE back from a clean page (mprotect), nothing
 * else. */
static void assert_prot(const char *page, int prot)
{
    int got = maps_prot(page);

    ck_assert_msg(got == prot || got == (prot & ~PROT_WRITE),
                  "protection %#x, expected %#x", (unsigned)got,
                  (unsigned)prot);
}

/* Write states survive NONE, READ and READ|WRITE, on the whole watch and
 * on parts of it; contents too. */
START_TEST(test_protect_keeps_write_state)
{
    ww_tracker *t = t_open();
    char *mem = t_watched(t, 8);
    size_t two[] = { 1, 3 }, three[] = { 1, 3, 5 }, four[] = { 1, 3, 5, 6 };
    static const int prots[] = { PROT_NONE, PROT_READ, RW, PROT_READ, RW };

    mem[PAGE] = 11;
    mem[3 * PAGE] = 33;
    for (size_t i = 0; i < sizeof(prots) / sizeof(prots[0]); i++) {
        ck_assert_int_eq(ww_protect(t, mem, 8 * PAGE, prots[i]), 0);
        assert_prot(mem + PAGE, prots[i]);
        assert_prot(mem + 4 * PAGE, prots[i]);
        t_assert_written_pages(t, mem, 8, two, 2);
    }
    ck_assert_int_eq(mem[PAGE], 11);
    ck_assert_int_eq(mem[3 * PAGE], 33);
    mem[5 * PAGE] = 1;                          /* writable: tracked */
    t_assert_written_pages(t, mem, 8, three, 3);
    /* Parts: [0, 2) read-only, [2, 4) no access, the rest writable. */
    ck_assert_int_eq(ww_protect(t, mem, 2 * PAGE, PROT_READ), 0);
    ck_assert_int_eq(ww_protect(t, mem + 2 * PAGE, 2 * PAGE, PROT_NONE), 0);
    t_assert_written_pages(t, mem, 8, three, 3);
    mem[6 * PAGE] = 1;
    t_assert_written_pages(t, mem, 8, four, 4);
    assert_prot(mem, PROT_READ);
    assert_prot(mem + 2 * PAGE, PROT_NONE);
    assert_prot(mem + 7 * PAGE, RW);
    ck_assert_int_eq(ww_protect(t, mem, 8 * PAGE, RW), 0);
    t_assert_written_pages(t, mem, 8, four, 4);
    ck_assert_int_eq(mem[PAGE], 11);
    ck_assert_int_eq(mem[3 * PAGE], 33);
    ww_tracker_close(t);
}
END_TEST

/* Re-arming (get+RESET, reset) and marking keep every page's protection,
 * whether the watch has one protection or several, and after it went
 * from several back to one. */
START_TEST(test_rearm_keeps_protections)
{
    ww_tracker *t = t_open();
    char *mem = t_watched(t, 8);
    static const int mixed[8] = {
        RW, RW, PROT_NONE, PROT_NONE, PROT_READ, RW, PROT_READ, RW,
    };
    void *pages[8];
    size_t count;

    memset(mem, 1, 8 * PAGE);
    for (size_t i = 0; i < 8; i++)
        ck_assert_int_eq(ww_protect(t, mem + i * PAGE, PAGE, mixed[i]), 0);
    for (int round = 0; round < 2; round++) {
        count = 8;
        ck_assert_int_eq(ww_get(t, mem, 8 * PAGE, WW_GET_RESET, pages,
                                &count), 0);
        ck_assert_uint_eq(count, round ? 0 : 8);
        for (size_t i = 0; i < 8; i++)
            assert_prot(mem + i * PAGE, mixed[i]);
        ck_assert_int_eq(ww_mark_written(t, mem, 8 * PAGE), 0);
        for (size_t i = 0; i < 8; i++)
            ck_assert_int_eq(maps_prot(mem + i * PAGE), mixed[i]);
        ck_assert_int_eq(ww_reset(t, mem, 8 * PAGE), 0);
        for (size_t i = 0; i < 8; i++)
            assert_prot(mem + i * PAGE, mixed[i]);
    }
    /* One protection again, part by part. */
    ck_assert_int_eq(ww_protect(t, mem + 2 * PAGE, 3 * PAGE, RW), 0);
    ck_assert_int_eq(ww_protect(t, mem + 6 * PAGE, PAGE, RW), 0);
    mem[3 * PAGE] = 2;
    ck_assert_uint_eq(t_count_written(t, mem, 8), 1);
    ck_assert_int_eq(ww_reset(t, mem, 8 * PAGE), 0);
    for (size_t i = 0; i < 8; i++)
        assert_prot(mem + i * PAGE, RW);
    mem[6 * PAGE] = 2;
    ck_assert_int_eq(maps_prot(mem + 6 * PAGE), RW);
    ck_assert_uint_eq(t_count_written(t, mem, 8), 1);
    ck_assert_int_eq(ww_protect(t, mem, 8 * PAGE, PROT_NONE), 0);
    ck_assert_int_eq(ww_reset(t, mem, 8 * PAGE), 0);
    for (size_t i = 0; i < 8; i++)
        ck_assert_int_eq(maps_prot(mem + i * PAGE), PROT_NONE);
    ww_tracker_close(t);
}
END_TEST

/* Many runs of written pages (each its own VMA with mprotect): a
 * protection change keeps every one, and every other page stays clean. */
START_TEST(test_protect_many_runs)
{
    enum { N = 2048 };
    ww_tracker *t = t_open();
    char *mem = t_watched(t, N);
    void **pages = calloc(N, sizeof(*pages));
    size_t count;

    ck_assert_ptr_nonnull(pages);
    for (size_t i = 0; i < N; i += 2)
        mem[i * PAGE] = 1;
    ck_assert_int_eq(ww_protect(t, mem, N * PAGE, PROT_READ), 0);
    ck_assert_int_eq(ww_protect(t, mem, N * PAGE, RW), 0);
    ck_assert_int_eq(ww_protect(t, mem + PAGE, (N / 2) * PAGE, RW), 0);
    count = N;
    ck_assert_int_eq(ww_get(t, mem, N * PAGE, WW_GET_RESET, pages, &count),
                     0);
    ck_assert_uint_eq(count, N / 2);
    for (size_t i = 0; i < N / 2; i++)
        ck_assert_ptr_eq(pages[i], mem + 2 * i * PAGE);
    ck_assert_uint_eq(t_count_written(t, mem, N), 0);
    mem[(N - 1) * PAGE] = 1;
    ck_assert_uint_eq(t_count_written(t, mem, N), 1);
    free(pages);
    ww_tracker_close(t);
}
END_TEST

/* ww_watch takes memory as it finds it: read-write, read-only, no access,
 * executable; the protection holds while watched (PROT_EXEC included) and
 * is exactly the same after unwatch. */
START_TEST(test_watch_any_protection)
{
    ww_tracker *t = t_open();
    char *mem = t_map(8);
    static const int prots[8] = {
        RW, PROT_READ, PROT_NONE, PROT_READ | PROT_EXEC, RW, RW,
        PROT_EXEC, RW,
    };
    size_t written[] = { 0, 5 };

    for (size_t i = 0; i < 8; i++)
        ck_assert_int_eq(mprotect(mem + i * PAGE, PAGE, prots[i]), 0);
    ck_assert_int_eq(ww_watch(t, mem, 8 * PAGE, 0), 0);
    for (size_t i = 0; i < 8; i++)
        assert_prot(mem + i * PAGE, prots[i]);
    mem[0] = 1;
    mem[5 * PAGE] = 1;
    ck_assert_int_eq(mem[PAGE], 0);             /* reads are not writes */
    ck_assert_int_eq(mem[3 * PAGE], 0);
    t_assert_written_pages(t, mem, 8, written, 2);
    ck_assert_int_eq(maps_prot(mem), RW);       /* written: all of it */
    ck_assert_int_eq(maps_prot(mem + 3 * PAGE), PROT_READ | PROT_EXEC);
    /* Executable and writable pages keep PROT_EXEC while armed. */
    if (mprotect(mem + 4 * PAGE, PAGE, RW | PROT_EXEC) == 0) {
        ck_assert_int_eq(mprotect(mem + 4 * PAGE, PAGE, RW), 0);
        ck_assert_int_eq(ww_protect(t, mem + 4 * PAGE, PAGE, RW | PROT_EXEC),
                         0);
        assert_prot(mem + 4 * PAGE, RW | PROT_EXEC);
        ck_assert_int_eq(ww_reset(t, mem, 8 * PAGE), 0);
        assert_prot(mem + 4 * PAGE, RW | PROT_EXEC);
        mem[4 * PAGE] = 4;
        ck_assert_int_eq(maps_prot(mem + 4 * PAGE), RW | PROT_EXEC);
        ck_assert_int_eq(ww_protect(t, mem + 4 * PAGE, PAGE, RW), 0);
        ck_assert_int_eq(t_count_written(t, mem, 8), 1);
    }
    ck_assert_int_eq(ww_unwatch(t, mem, 8 * PAGE), 0);
    for (size_t i = 0; i < 8; i++)
        ck_assert_int_eq(maps_prot(mem + i * PAGE), prots[i]);
    ww_tracker_close(t);
}
END_TEST

/* Writes to read-only pages, armed or written, and any access to a page
 * without access, kill a child as they would without the library; the
 * parent's state is untouched; allowed again, writes are reported. */
START_TEST(test_forbidden_access_kills_child)
{
    ww_tracker *t = t_open();
    char *mem = t_watched(t, 4);
    size_t two[] = { 2 }, three[] = { 0, 2 };

    mem[2 * PAGE] = 2;
    ck_assert_int_eq(ww_protect(t, mem, 3 * PAGE, PROT_READ), 0);
    ck_assert_int_eq(ww_protect(t, mem + 3 * PAGE, PAGE, PROT_NONE), 0);
    t_assert_child_faults(mem + 10, 1);               /* armed, read-only */
    t_assert_child_faults(mem + 2 * PAGE + 10, 1);    /* written, read-only */
    t_assert_child_faults(mem + 3 * PAGE + 10, 1);    /* no access */
    t_assert_child_faults(mem + 3 * PAGE + 10, 0);
    /* Re-armed read-only pages stay read-only. */
    ck_assert_uint_eq(t_count_written(t, mem, 4), 1);
    {
        void *pages[4];
        size_t count = 4;

        ck_assert_int_eq(ww_get(t, mem, 4 * PAGE, WW_GET_RESET, pages,
                                &count), 0);
        ck_assert_uint_eq(count, 1);
    }
    t_assert_child_faults(mem + 2 * PAGE + 10, 1);
    ck_assert_int_eq(ww_mark_written(t, mem, PAGE), 0);
    t_assert_child_faults(mem + 10, 1);               /* marked, read-only */
    ck_assert_int_eq(ww_reset(t, mem, 4 * PAGE), 0);
    t_assert_child_faults(mem + 10, 1);
    ck_assert_uint_eq(t_count_written(t, mem, 4), 0);
    ck_assert_int_eq(mem[2 * PAGE], 2);             /* still readable */
    ck_assert_int_eq(ww_protect(t, mem, 4 * PAGE, RW), 0);
    mem[2 * PAGE] = 3;
    t_assert_written_pages(t, mem, 4, two, 1);
    mem[0] = 1;
    t_assert_written_pages(t, mem, 4, three, 2);
    ww_tracker_close(t);
}
END_TEST

/* --- a process that survives its faults ----------------------------------
 * Child mode "faults:BACKEND": its own SIGSEGV handler comes first (the
 * mprotect backend's chains to it), records the address and jumps over
 * the faulting access. */
static sigjmp_buf fault_jump;
static volatile uintptr_t fault_addr;

static void on_fault(int sig, siginfo_t *si, void *uctx)
{
    (void)sig;
    (void)uctx;
    fault_addr = (uintptr_t)si->si_addr;
    siglongjmp(fault_jump, 1);
}

/* Whether storing v at p (store) or loading from it faulted exactly at
 * p.  Not inlined: p and v must not live in registers across the jump. */
static __attribute__((noinline)) int faults(volatile char *p, int store,
                                            char v)
{
    fault_addr = 0;
    if (sigsetjmp(fault_jump, 1) == 0) {
        if (store)
            *p = v;
        else
            (void)*p;
        return 0;
    }
    t_child_expect(fault_addr == (uintptr_t)p);
    return 1;
}

/* The written pages of [mem, mem+n pages) as a bit mask. */
static unsigned written_mask(ww_tracker *t, char *mem, size_t n)
{
    size_t idx[16], count;
    unsigned mask = 0;

    t_child_expect(n <= 16 && t_written(t, mem, n, 0, idx, &count) == 0);
    for (size_t i = 0; i < count; i++)
        mask |= 1u << idx[i];
    return mask;
}

static int child_faults(enum ww_backend backend)
{
    struct sigaction sa;
    ww_tracker *t;
    char *mem;
    void *pages[8];
    size_t count = 8;

    memset(&sa, 0, sizeof(sa));
    sa.sa_sigaction = on_fault;
    sa.sa_flags = SA_SIGINFO;
    sigemptyset(&sa.sa_mask);
    t_child_expect(sigaction(SIGSEGV, &sa, NULL) == 0);
    t_child_expect(ww_tracker_open(&t, backend, 0) == 0);
    t_child_expect(ww_alloc(t, 8 * PAGE, 0, (void **)&mem) == 0);

    /* Page 0 written and writable; 1 armed read-only; 2 written
     * read-only; 3 no access. */
    mem[0] = 1;
    mem[2 * PAGE] = 2;
    t_child_expect(ww_protect(t, mem + PAGE, 2 * PAGE, PROT_READ) == 0);
    t_child_expect(ww_protect(t, mem + 3 * PAGE, PAGE, PROT_NONE) == 0);
    t_child_expect(faults(mem + PAGE + 5, 1, 7));
    t_child_expect(faults(mem + 2 * PAGE + 5, 1, 7));
    t_child_expect(faults(mem + 3 * PAGE + 5, 1, 7));
    t_child_expect(faults(mem + 3 * PAGE + 5, 0, 0));
    t_child_expect(!faults(mem + 5, 1, 7));
    t_child_expect(mem[PAGE + 5] == 0 && mem[2 * PAGE + 5] == 0);
    t_child_expect(written_mask(t, mem, 8) == 0x5);   /* not pages 1, 3 */

    /* Re-armed by get+RESET, and by reset: still read-only. */
    t_child_expect(ww_get(t, mem, 8 * PAGE, WW_GET_RESET, pages, &count) == 0);
    t_child_expect(count == 2 && pages[1] == mem + 2 * PAGE);
    t_child_expect(faults(mem + 2 * PAGE + 5, 1, 7));
    t_child_expect(faults(mem + PAGE + 5, 1, 7));
    t_child_expect(written_mask(t, mem, 8) == 0);
    mem[0] = 1;
    t_child_expect(ww_reset(t, mem, 8 * PAGE) == 0);
    t_child_expect(faults(mem + 2 * PAGE + 5, 1, 7));
    t_child_expect(!faults(mem + 5, 1, 7));
    t_child_expect(written_mask(t, mem, 8) == 0x1);

    /* Marked written, and still read-only. */
    t_child_expect(ww_mark_written(t, mem + PAGE, PAGE) == 0);
    t_child_expect(faults(mem + PAGE + 5, 1, 7));
    t_child_expect(written_mask(t, mem, 8) == 0x3);

    /* Allowed again: writes land and are reported. */
    t_child_expect(ww_reset(t, mem, 8 * PAGE) == 0);
    t_child_expect(ww_protect(t, mem, 8 * PAGE, PROT_READ | PROT_WRITE) == 0);
    t_child_expect(!faults(mem + 2 * PAGE + 5, 1, 9));
    t_child_expect(!faults(mem + 3 * PAGE + 5, 1, 9));
    t_child_expect(mem[2 * PAGE] == 2 && mem[2 * PAGE + 5] == 9);
    t_child_expect(written_mask(t, mem, 8) == 0xc);
    t_child_expect(ww_free(t, mem, 8 * PAGE) == 0);
    ww_tracker_close(t);
    return 0;
}

START_TEST(test_forbidden_access_not_reported)
{
    char mode[32];
    int status;

    snprintf(mode, sizeof(mode), "faults:%s", ww_backend_name(t_backend));
    status = t_spawn_self(mode);
    t_assert_child_ok(status, mode);
}
END_TEST

START_TEST(test_protect_errors)
{
    ww_tracker *t = t_open();
    char *mem = t_map(8), *other = t_map(2);
    uintptr_t top = UINTPTR_MAX & ~(uintptr_t)(PAGE - 1);
    static const int bad_prots[] = {
        PROT_WRITE, PROT_WRITE | PROT_EXEC, 0x8, PROT_READ | 0x10,
        -1, PROT_READ | PROT_GROWSDOWN,
    };
    size_t one[] = { 1 };
    int status;
    pid_t pid;

    ck_assert_int_eq(ww_watch(t, mem + 2 * PAGE, 4 * PAGE, 0), 0);
    mem[3 * PAGE] = 1;
    for (size_t i = 0; i < sizeof(bad_prots) / sizeof(bad_prots[0]); i++)
        ck_assert_int_eq(ww_protect(t, mem + 2 * PAGE, PAGE, bad_prots[i]),
                         -EINVAL);
    ck_assert_int_eq(ww_protect(NULL, mem + 2 * PAGE, PAGE, PROT_READ),
                     -EINVAL);
    ck_assert_int_eq(ww_protect(t, mem + 2 * PAGE + 1, PAGE, PROT_READ),
                     -EINVAL);
    ck_assert_int_eq(ww_protect(t, mem + 2 * PAGE, PAGE - 1, PROT_READ),
                     -EINVAL);
    ck_assert_int_eq(ww_protect(t, mem + 2 * PAGE, 0, PROT_READ), -EINVAL);
    ck_assert_int_eq(ww_protect(t, (void *)top, 2 * PAGE, PROT_READ), -EINVAL);
    /* Not inside one watch: before, across either end, elsewhere. */
    ck_assert_int_eq(ww_protect(t, mem, PAGE, PROT_READ), -ENOENT);
    ck_assert_int_eq(ww_protect(t, mem + PAGE, 2 * PAGE, PROT_READ), -ENOENT);
    ck_assert_int_eq(ww_protect(t, mem + 5 * PAGE, 2 * PAGE, PROT_READ),
                     -ENOENT);
    ck_assert_int_eq(ww_protect(t, other, PAGE, PROT_READ), -ENOENT);
    /* Nothing changed. */
    for (size_t i = 0; i < 8; i++)
        ck_assert_int_eq(maps_prot(mem + i * PAGE) | PROT_WRITE, RW);
    mem[7 * PAGE] = 1;
    mem[PAGE] = 1;
    t_assert_written_pages(t, mem + 2 * PAGE, 4, one, 1);
    /* A fork child's tracker refuses. */
    pid = fork();
    ck_assert_int_ne(pid, -1);
    if (pid == 0)
        _exit(ww_protect(t, mem + 2 * PAGE, PAGE, PROT_READ) == -ECHILD ? 0
                                                                         : 1);
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    /* Unmapped behind the library's back: stale. */
    ck_assert_int_eq(munmap(mem + 4 * PAGE, PAGE), 0);
    ck_assert_int_eq(ww_protect(t, mem + 2 * PAGE, 4 * PAGE, PROT_READ),
                     -ESTALE);
    ck_assert_int_eq(ww_unwatch(t, mem + 2 * PAGE, 4 * PAGE), 0);
    ww_tracker_close(t);
}
END_TEST

static void add_tests(TCase *tc, enum ww_backend backend)
{
    (void)backend;      /* every test applies to every backend */
    tcase_add_test(tc, test_protect_keeps_write_state);
    tcase_add_test(tc, test_rearm_keeps_protections);
    tcase_add_test(tc, test_protect_many_runs);
    tcase_add_test(tc, test_watch_any_protection);
    tcase_add_test(tc, test_forbidden_access_kills_child);
    tcase_add_test(tc, test_forbidden_access_not_reported);
    tcase_add_test(tc, test_protect_errors);
}

int main(int argc, char **argv)
{
    const char *mode = t_child_mode(argc, argv);
    Suite *s;

    if (mode) {
        if (strcmp(mode, "faults:uffd") == 0)
            return child_faults(WW_BACKEND_UFFD);
        if (strcmp(mode, "faults:mprotect") == 0)
            return child_faults(WW_BACKEND_MPROTECT);
        return t_bad_child_mode(mode);
    }
    s = suite_create("protect");
    t_add_backend_tcases(s, "protect", add_tests, 60);
    return t_run_suite(s);
}
