/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * test_kernel.c - how watches meet the rest of the kernel: writes made by
 * system calls, transparent huge pages, mappings that are unmapped or
 * replaced under a watch, and fork.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <fcntl.h>
#include <unistd.h>

#include "helpers.h"
#include "kernel-uapi.h"

#define HUGE_2M ((size_t)2 << 20)

/* read(2) from a pipe straight into watched memory: the kernel's own write
 * succeeds (uffd resolves it like a user write) and is reported. */
START_TEST(test_read_syscall_into_watched_memory)
{
    ww_tracker *t = t_open();
    char *mem = t_watched(t, 8);
    void *pages[8];
    size_t count = 8, expect[] = { 2, 3 };
    char msg[PAGE + 16];
    int fds[2];

    memset(msg, 'x', sizeof(msg));
    ck_assert_int_eq(pipe(fds), 0);
    ck_assert_int_eq(write(fds[1], msg, 32), 32);
    /* 32 bytes crossing from page 2 into page 3. */
    ck_assert_int_eq(read(fds[0], mem + 3 * PAGE - 16, 32), 32);
    ck_assert_int_eq(mem[3 * PAGE + 15], 'x');
    ck_assert_int_eq(ww_get(t, mem, 8 * PAGE, 0, pages, &count), 0);
    t_assert_pages(pages, count, mem, expect, 2);
    close(fds[0]);
    close(fds[1]);
    ww_tracker_close(t);
}
END_TEST

/* AnonHugePages (kB) of the mapping that contains addr, from smaps. */
static long anon_huge_kb(const void *addr)
{
    FILE *f = fopen("/proc/self/smaps", "r");
    char line[256];
    long kb = -1;
    int inside = 0;

    ck_assert_ptr_nonnull(f);
    while (fgets(line, sizeof(line), f)) {
        unsigned long lo, hi;
        if (sscanf(line, "%lx-%lx ", &lo, &hi) == 2 && strchr(line, ' ') &&
            line[strspn(line, "0123456789abcdef")] == '-')
            inside = lo <= (uintptr_t)addr && (uintptr_t)addr < hi;
        else if (inside && sscanf(line, "AnonHugePages: %ld kB", &kb) == 1)
            break;
    }
    fclose(f);
    return kb;
}

/* Memory backed by a transparent huge page before the watch starts. */
static char *map_thp(size_t n_huge)
{
    char *mem = t_map_aligned(n_huge * HUGE_2M / PAGE, HUGE_2M);

    madvise(mem, n_huge * HUGE_2M, MADV_HUGEPAGE);
    memset(mem, 1, n_huge * HUGE_2M);
    return mem;
}

/* By default a 1-byte write reports exactly its 4 KiB page, whether or not
 * the memory was huge-page backed when the watch started. */
START_TEST(test_thp_exact_by_default)
{
    ww_tracker *t = t_open();
    char *mem = map_thp(2);
    size_t n = 2 * HUGE_2M / PAGE, expect[] = { 5, 700 };
    void **pages = calloc(n, sizeof(*pages));
    size_t count = n;

    fprintf(stderr, "thp(default, %s): AnonHugePages before watch %ld kB\n",
            ww_backend_name(t_backend), anon_huge_kb(mem));
    ck_assert_int_eq(ww_watch(t, mem, 2 * HUGE_2M, 0), 0);
    mem[5 * PAGE + 3] = 2;
    mem[700 * PAGE] = 2;
    ck_assert_int_eq(ww_get(t, mem, 2 * HUGE_2M, WW_GET_RESET, pages, &count),
                     0);
    t_assert_pages(pages, count, mem, expect, 2);
    /* And again after the reset. */
    mem[6 * PAGE] = 3;
    count = n;
    ck_assert_int_eq(ww_get(t, mem, 2 * HUGE_2M, 0, pages, &count), 0);
    ck_assert_uint_eq(count, 1);
    ck_assert_ptr_eq(pages[0], mem + 6 * PAGE);
    free(pages);
    ww_tracker_close(t);
}
END_TEST

/* With WW_WATCH_KEEP_HUGEPAGES the report may be coarser, but it always
 * contains the written page, never more than its huge page, and stays in
 * order.  The kernel's actual choice is printed. */
START_TEST(test_thp_keep_hugepages)
{
    ww_tracker *t = t_open();
    char *mem = map_thp(1);
    size_t n = HUGE_2M / PAGE;
    void **pages = calloc(n, sizeof(*pages));
    size_t count = n;
    int found = 0;

    ck_assert_int_eq(ww_watch(t, mem, HUGE_2M, WW_WATCH_KEEP_HUGEPAGES), 0);
    mem[100 * PAGE] = 2;
    ck_assert_int_eq(ww_get(t, mem, HUGE_2M, 0, pages, &count), 0);
    fprintf(stderr, "thp(keep, %s): 1-byte write reported as %zu page(s); "
            "AnonHugePages now %ld kB\n", ww_backend_name(t_backend),
            count, anon_huge_kb(mem));
    ck_assert_uint_ge(count, 1);
    ck_assert_uint_le(count, n);
    for (size_t i = 0; i < count; i++) {
        found |= pages[i] == mem + 100 * PAGE;
        if (i > 0)
            ck_assert((char *)pages[i - 1] < (char *)pages[i]);
    }
    ck_assert(found);
    free(pages);
    ww_tracker_close(t);
}
END_TEST

/* A watch over the first half of a huge page (with and without
 * KEEP_HUGEPAGES): the watch splits the THP at its end; arming, writes and
 * get+RESET stay exact, and the other half is not watched. */
START_TEST(test_thp_watch_half_of_huge_page)
{
    static const unsigned flags[] = { 0, WW_WATCH_KEEP_HUGEPAGES };
    size_t half = HUGE_2M / 2 / PAGE, expect[] = { 3, 200 };
    void **pages = calloc(half, sizeof(*pages));

    for (size_t f = 0; f < 2; f++) {
        ww_tracker *t = t_open();
        char *mem = map_thp(1);
        long thp_kb = anon_huge_kb(mem);
        size_t count = half;

        if (thp_kb <= 0)
            fprintf(stderr, "SKIP thp half (%s): no THP here (AnonHugePages "
                    "%ld kB), watching plain pages\n",
                    ww_backend_name(t_backend), thp_kb);
        ck_assert_int_eq(ww_watch(t, mem, HUGE_2M / 2, flags[f]), 0);
        mem[3 * PAGE] = 2;
        mem[200 * PAGE + 5] = 2;
        mem[300 * PAGE] = 2;            /* outside the watch */
        ck_assert_int_eq(ww_get(t, mem, HUGE_2M / 2, WW_GET_RESET, pages,
                                &count), 0);
        t_assert_pages(pages, count, mem, expect, 2);
        mem[255 * PAGE] = 3;
        count = half;
        ck_assert_int_eq(ww_get(t, mem, HUGE_2M / 2, 0, pages, &count), 0);
        ck_assert_uint_eq(count, 1);
        ck_assert_ptr_eq(pages[0], mem + 255 * PAGE);
        ww_tracker_close(t);
        munmap(mem, HUGE_2M);
    }
    free(pages);
}
END_TEST

/* A reset of half a huge page that reads as written: armed without an
 * output vector, the shape that oopses every 6.7+ kernel without
 * 28aa29986dde (in v6.17, 6.16.10, 6.12.50).  A THP inside a
 * KEEP_HUGEPAGES watch, dropped (MADV_DONTNEED) and faulted back, is a
 * fresh unprotected THP; resetting its first half arms exactly that half
 * (the kernel splits the THP). */
START_TEST(test_thp_reset_half_of_huge_page)
{
    ww_tracker *t = t_open();
    char *mem = map_thp(1);
    size_t n = HUGE_2M / PAGE, half = n / 2, count = n, expect_n = 0;
    void **pages = calloc(n, sizeof(*pages));
    size_t *expect = calloc(n, sizeof(*expect));
    long thp_kb;

    ck_assert_int_eq(ww_watch(t, mem, HUGE_2M, WW_WATCH_KEEP_HUGEPAGES), 0);
    ck_assert_int_eq(madvise(mem, HUGE_2M, MADV_DONTNEED), 0);
    mem[0] = 2;
    thp_kb = anon_huge_kb(mem);
    if (thp_kb <= 0)
        fprintf(stderr, "SKIP thp reset half: no THP after the refault "
                "(AnonHugePages %ld kB), plain pages only\n", thp_kb);
    ck_assert_int_eq(ww_reset(t, mem, HUGE_2M / 2), 0);
    if (thp_kb > 0)
        fprintf(stderr, "thp reset half: AnonHugePages %ld kB before the "
                "reset, %ld kB after\n", thp_kb, anon_huge_kb(mem));
    mem[3 * PAGE] = 3;
    mem[300 * PAGE] = 3;
    /* Page 3, and the whole second half, which was never re-armed. */
    expect[expect_n++] = 3;
    for (size_t i = half; i < n; i++)
        expect[expect_n++] = i;
    ck_assert_int_eq(ww_get(t, mem, HUGE_2M, WW_GET_RESET, pages, &count), 0);
    if (thp_kb > 0)
        t_assert_pages(pages, count, mem, expect, expect_n);
    mem[400 * PAGE] = 4;
    count = n;
    ck_assert_int_eq(ww_get(t, mem, HUGE_2M, 0, pages, &count), 0);
    ck_assert_uint_eq(count, 1);
    ck_assert_ptr_eq(pages[0], mem + 400 * PAGE);
    free(expect);
    free(pages);
    ww_tracker_close(t);
    munmap(mem, HUGE_2M);
}
END_TEST

/* Part of the watch unmapped: queries fail with -ESTALE rather than call
 * the hole clean; unwatch still works; a new watch works. */
START_TEST(test_unmapped_under_watch)
{
    ww_tracker *t = t_open();
    char *mem = t_watched(t, 8);
    void *pages[8];
    size_t count = 8;

    mem[0] = 1;
    ck_assert_int_eq(munmap(mem + 4 * PAGE, PAGE), 0);
    ck_assert_int_eq(ww_get(t, mem, 8 * PAGE, WW_GET_RESET, pages, &count),
                     -ESTALE);
    ck_assert_uint_eq(count, 8);
    /* Stale is sticky, for the whole watch. */
    ck_assert_int_eq(ww_get(t, mem, PAGE, 0, pages, &count), -ESTALE);
    ck_assert_int_eq(ww_reset(t, mem, 8 * PAGE), -ESTALE);
    ck_assert_int_eq(ww_mark_written(t, mem, PAGE), -ESTALE);
    ck_assert_int_eq(ww_unwatch(t, mem, 8 * PAGE), 0);
    mem[PAGE] = 1;                      /* still mapped: plain again */
    /* Map the hole again and start over. */
    ck_assert_ptr_eq(mmap(mem + 4 * PAGE, PAGE, PROT_READ | PROT_WRITE,
                          MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0),
                     mem + 4 * PAGE);
    ck_assert_int_eq(ww_watch(t, mem, 8 * PAGE, 0), 0);
    mem[4 * PAGE] = 1;
    ck_assert_uint_eq(t_count_written(t, mem, 8), 1);
    ww_tracker_close(t);
}
END_TEST

/* A fresh mapping put over part of a watch (mmap MAP_FIXED): its writes
 * would go unseen, so queries fail with -ESTALE, never "clean"; unwatch
 * works and the new memory can be watched. */
START_TEST(test_map_fixed_over_watch)
{
    ww_tracker *t = t_open();
    char *mem = t_watched(t, 8);
    void *pages[8];
    size_t count = 8;

    mem[PAGE] = 1;
    ck_assert_ptr_eq(mmap(mem + 4 * PAGE, 4 * PAGE, PROT_READ | PROT_WRITE,
                          MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0),
                     mem + 4 * PAGE);
    mem[5 * PAGE] = 1;                  /* lands in the new mapping */
    ck_assert_int_eq(ww_get(t, mem, 8 * PAGE, 0, pages, &count), -ESTALE);
    ck_assert_uint_eq(count, 8);
    ck_assert_int_eq(ww_reset(t, mem, 8 * PAGE), -ESTALE);
    ck_assert_int_eq(ww_unwatch(t, mem, 8 * PAGE), 0);
    ck_assert_int_eq(mprotect(mem, 8 * PAGE, PROT_READ | PROT_WRITE), 0);
    ck_assert_int_eq(ww_watch(t, mem, 8 * PAGE, 0), 0);
    mem[6 * PAGE] = 2;
    ck_assert_uint_eq(t_count_written(t, mem, 8), 1);
    ww_tracker_close(t);
}
END_TEST

/* Written pages per a raw get-only scan (no library), -1 on error. */
static long raw_written_pages(char *start, size_t len)
{
    struct page_region vec[16];
    struct pm_scan_arg arg = {
        .size = sizeof(arg), .start = (uintptr_t)start,
        .end = (uintptr_t)start + len, .vec = (uintptr_t)vec, .vec_len = 16,
        .category_mask = PAGE_IS_WRITTEN, .return_mask = PAGE_IS_WRITTEN,
    };
    int fd = open("/proc/self/pagemap", O_RDONLY);
    long n = ioctl(fd, PAGEMAP_SCAN, &arg), pages = 0;

    close(fd);
    for (long i = 0; i < n; i++)
        pages += (long)((vec[i].end - vec[i].start) / PAGE);
    return n < 0 ? -1 : pages;
}

/* The kernel trap: a resetting scan over a registered VMA followed by an
 * unregistered one re-arms the first VMA's written pages, then fails with
 * EPERM.  The library must give those pages back: after the failure the
 * first half still reads as written. */
START_TEST(test_replaced_half_keeps_written_pages)
{
    ww_tracker *t = t_open();
    char *mem = t_watched(t, 8);
    void *pages[8];
    size_t count = 8;

    mem[PAGE] = 1;
    mem[2 * PAGE] = 1;
    ck_assert_ptr_eq(mmap(mem + 4 * PAGE, 4 * PAGE, PROT_READ | PROT_WRITE,
                          MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0),
                     mem + 4 * PAGE);
    ck_assert_int_eq(ww_get(t, mem, 8 * PAGE, WW_GET_RESET, pages, &count),
                     -ESTALE);
    ck_assert_int_eq(raw_written_pages(mem, 4 * PAGE), 2);
    ck_assert_int_eq(ww_unwatch(t, mem, 8 * PAGE), 0);
    ww_tracker_close(t);
}
END_TEST

/* A tracker inherited through a fork refuses to work in the child (its
 * kernel objects describe the parent) but can be closed there, and
 * neither the refused calls nor close touch the parent's watches; the
 * parent is unaffected, before and after. */
static void check_fork_child_refuses(pid_t (*fork_fn)(void))
{
    ww_tracker *t = t_open();
    char *mem = t_watched(t, 8);
    void *pages[8];
    size_t count = 8, expect[] = { 1, 6 };
    int status;
    pid_t pid;

    mem[PAGE] = 1;
    pid = fork_fn();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        size_t n = 8;

        mem[3 * PAGE] = 1;      /* the child's own copy */
        t_child_expect(ww_get(t, mem, 8 * PAGE, WW_GET_RESET, pages, &n) ==
                     -ECHILD);
        t_child_expect(ww_reset(t, mem, 8 * PAGE) == -ECHILD);
        t_child_expect(ww_mark_written(t, mem, PAGE) == -ECHILD);
        t_child_expect(ww_protect(t, mem, 8 * PAGE, PROT_READ | PROT_WRITE) ==
                     -ECHILD);
        t_child_expect(ww_watch(t, mem, PAGE, 0) == -ECHILD);
        t_child_expect(ww_unwatch(t, mem, 8 * PAGE) == -ECHILD);
        t_child_expect(ww_tracker_close(t) == 0);
        _exit(0);
    }
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
                  "child status %#x", (unsigned)status);
    mem[6 * PAGE] = 1;
    ck_assert_int_eq(ww_get(t, mem, 8 * PAGE, WW_GET_RESET, pages, &count), 0);
    t_assert_pages(pages, count, mem, expect, 2);
    mem[7 * PAGE] = 1;
    ck_assert_uint_eq(t_count_written(t, mem, 8), 1);
    ww_tracker_close(t);
}

static pid_t plain_fork(void)
{
    return t_fork(0);
}

START_TEST(test_fork_child_refuses)
{
    check_fork_child_refuses(plain_fork);
}
END_TEST

/* Issue 11, defect 2: a child made by a raw fork system call runs no
 * pthread_atfork handler; it is recognised all the same (uffd: before,
 * its get+RESET re-armed the parent's pages and its close unregistered
 * the parent's watches). */
static pid_t raw_fork(void)
{
    return t_fork(1);
}

START_TEST(test_raw_fork_child_refuses)
{
    check_fork_child_refuses(raw_fork);
}
END_TEST

/* A program that frees memory it does not own -- madvise(MADV_DONTNEED)
 * over every MADV_WIPEONFORK page, the library's fork markers among them
 * -- is no fork child: its trackers keep working, writes before and after
 * are reported, the range stays taken, and a fork child afterwards (which
 * discards the markers again) is still refused.  Before the fix: -ECHILD
 * from every tracker, and (mprotect) the watches were let go and a second
 * tracker could watch the same range. */
START_TEST(test_discarded_fork_marker)
{
    ww_tracker *t = t_open(), *t2 = t_open();
    char *mem = t_watched(t, 8);
    void *pages[8];
    size_t count = 8, expect[] = { 1, 6 };
    int status;
    pid_t pid;

    mem[PAGE] = 1;
    ck_assert_int_gt(t_madvise_wipeonfork(MADV_DONTNEED), 0);
    mem[6 * PAGE] = 1;
    ck_assert_int_eq(ww_get(t, mem, 8 * PAGE, WW_GET_RESET, pages, &count), 0);
    t_assert_pages(pages, count, mem, expect, 2);
    ck_assert_int_eq(ww_watch(t2, mem, 8 * PAGE, 0), -EEXIST);
    pid = t_fork(1);
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        size_t n = 8;

        t_madvise_wipeonfork(MADV_DONTNEED);
        t_child_expect(ww_get(t, mem, 8 * PAGE, 0, pages, &n) == -ECHILD);
        t_child_expect(ww_tracker_close(t) == 0);
        _exit(0);
    }
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    t_assert_child_ok(status, "raw fork child after a discarded marker");
    mem[3 * PAGE] = 1;
    ck_assert_uint_eq(t_count_written_reset(t, mem, 8), 1);
    ww_tracker_close(t2);
    ww_tracker_close(t);
}
END_TEST

/* Issue 11, defect 1.  The watched memory is unmapped and new memory is
 * mapped at the same address and watched by another tracker: the first
 * watch is stale, and neither its queries nor its unwatch may touch the
 * second tracker's writes (uffd: PM_SCAN_CHECK_WPASYNC accepts a VMA that
 * any userfaultfd registered, so a get+RESET would report and re-arm
 * them). */
START_TEST(test_stale_watch_cannot_steal)
{
    ww_tracker *t1 = t_open(), *t2 = t_open();
    char *mem = t_map(8);
    void *pages[8];
    size_t count = 8, three[] = { 3 }, five[] = { 5 };

    ck_assert_int_eq(ww_watch(t1, mem, 8 * PAGE, 0), 0);
    t_munmap_pages(mem, 8);
    ck_assert_ptr_eq(mmap(mem, 8 * PAGE, PROT_READ | PROT_WRITE,
                          MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0),
                     mem);
    ck_assert_int_eq(ww_watch(t2, mem, 8 * PAGE, 0), 0);
    mem[3 * PAGE] = 1;
    ck_assert_int_eq(ww_get(t1, mem, 8 * PAGE, WW_GET_RESET, pages, &count),
                     -ESTALE);
    ck_assert_uint_eq(count, 8);
    ck_assert_int_eq(ww_reset(t1, mem, 8 * PAGE), -ESTALE);
    ck_assert_int_eq(ww_get(t2, mem, 8 * PAGE, WW_GET_RESET, pages, &count),
                     0);
    t_assert_pages(pages, count, mem, three, 1);
    /* Unwatching the stale watch leaves the new one armed. */
    ck_assert_int_eq(ww_unwatch(t1, mem, 8 * PAGE), 0);
    mem[5 * PAGE] = 1;
    count = 8;
    ck_assert_int_eq(ww_get(t2, mem, 8 * PAGE, WW_GET_RESET, pages, &count),
                     0);
    t_assert_pages(pages, count, mem, five, 1);
    ww_tracker_close(t1);
    ww_tracker_close(t2);
}
END_TEST

/* The same tracker: its stale watch keeps the range until unwatched, but
 * is stale from the moment the new watch was asked for. */
START_TEST(test_stale_watch_same_tracker)
{
    ww_tracker *t = t_open();
    char *mem = t_watched(t, 4);
    void *pages[4];
    size_t count = 4, two[] = { 2 };

    t_munmap_pages(mem, 4);
    ck_assert_ptr_eq(mmap(mem, 4 * PAGE, PROT_READ | PROT_WRITE,
                          MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0),
                     mem);
    ck_assert_int_eq(ww_watch(t, mem, 4 * PAGE, 0), -EEXIST);
    ck_assert_int_eq(ww_reset(t, mem, 4 * PAGE), -ESTALE);
    ck_assert_int_eq(ww_unwatch(t, mem, 4 * PAGE), 0);
    ck_assert_int_eq(ww_watch(t, mem, 4 * PAGE, 0), 0);
    mem[2 * PAGE] = 1;
    ck_assert_int_eq(ww_get(t, mem, 4 * PAGE, 0, pages, &count), 0);
    t_assert_pages(pages, count, mem, two, 1);
    ww_tracker_close(t);
}
END_TEST

/* Issue 11, defect 11: one address space, one watch per page, whichever
 * backends the two trackers use. */
START_TEST(test_overlap_across_backends)
{
    enum ww_backend other = t_backend == WW_BACKEND_UFFD
                                ? WW_BACKEND_MPROTECT : WW_BACKEND_UFFD;
    ww_tracker *t1 = t_open(), *t2 = NULL;
    char *mem = t_map(8);
    void *pages[8];
    size_t count = 8, one[] = { 1 }, two[] = { 2 };
    int r = ww_tracker_open(&t2, other, 0);

    if (r != 0) {
        ck_assert_msg(!t_backend_required(other), "open %s: %s",
                      ww_backend_name(other), ww_strerror(r));
        t_skip("%s unavailable", ww_backend_name(other));
        ww_tracker_close(t1);
        return;
    }
    ck_assert_int_eq(ww_watch(t1, mem, 8 * PAGE, 0), 0);
    ck_assert_int_eq(ww_watch(t2, mem + 2 * PAGE, 2 * PAGE, 0), -EEXIST);
    ck_assert_int_eq(ww_watch(t2, mem, 8 * PAGE, 0), -EEXIST);
    mem[PAGE] = 1;
    ck_assert_int_eq(ww_get(t1, mem, 8 * PAGE, WW_GET_RESET, pages, &count),
                     0);
    t_assert_pages(pages, count, mem, one, 1);
    ck_assert_int_eq(ww_unwatch(t1, mem, 8 * PAGE), 0);
    ck_assert_int_eq(ww_watch(t2, mem, 8 * PAGE, 0), 0);
    mem[2 * PAGE] = 1;
    count = 8;
    ck_assert_int_eq(ww_get(t2, mem, 8 * PAGE, 0, pages, &count), 0);
    t_assert_pages(pages, count, mem, two, 1);
    ww_tracker_close(t1);
    ww_tracker_close(t2);
}
END_TEST

/* A mapping put over part of a watch (MAP_FIXED) is not watched memory:
 * ww_protect must not give it the caller's protection and carry on as if
 * it were, but make the watch stale (found by test_world on uffd). */
START_TEST(test_protect_over_replaced_page)
{
    ww_tracker *t = t_open();
    char *mem = t_watched(t, 4);
    void *pages[4];
    size_t count = 4;

    ck_assert_ptr_eq(mmap(mem + PAGE, PAGE, PROT_READ | PROT_WRITE,
                          MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0),
                     mem + PAGE);
    mem[PAGE] = 1;
    ck_assert_int_eq(ww_protect(t, mem, 4 * PAGE, PROT_READ | PROT_WRITE),
                     -ESTALE);
    ck_assert_int_eq(ww_get(t, mem, 4 * PAGE, WW_GET_RESET, pages, &count),
                     -ESTALE);
    ww_tracker_close(t);
}
END_TEST

/* MADV_DONTNEED zeroes pages: a change of contents, so uffd reports them
 * written, clean or not before (measured on 6.18).  MADV_FREE keeps each
 * page's state while the kernel has not reclaimed it. */
START_TEST(test_madvise_dontneed_and_free)
{
    ww_tracker *t = t_open();
    char *mem = t_map(8);
    void *pages[8];
    size_t count = 8, expect[] = { 1, 2, 4 };

    memset(mem, 1, 8 * PAGE);
    ck_assert_int_eq(ww_watch(t, mem, 8 * PAGE, 0), 0);
    mem[PAGE] = 5;
    ck_assert_int_eq(madvise(mem + PAGE, PAGE, MADV_DONTNEED), 0);
    ck_assert_int_eq(madvise(mem + 2 * PAGE, PAGE, MADV_DONTNEED), 0);
    ck_assert_int_eq(madvise(mem + 3 * PAGE, PAGE, MADV_FREE), 0);
    mem[4 * PAGE] = 5;
    ck_assert_int_eq(madvise(mem + 4 * PAGE, PAGE, MADV_FREE), 0);
    ck_assert_int_eq(ww_get(t, mem, 8 * PAGE, WW_GET_RESET, pages, &count), 0);
    t_assert_pages(pages, count, mem, expect, 3);
    ck_assert_int_eq(mem[2 * PAGE], 0);
    /* Dropped again while clean and unpopulated: still reported. */
    ck_assert_int_eq(madvise(mem + 2 * PAGE, PAGE, MADV_DONTNEED), 0);
    count = 8;
    ck_assert_int_eq(ww_get(t, mem, 8 * PAGE, 0, pages, &count), 0);
    ck_assert_uint_eq(count, 1);
    ck_assert_ptr_eq(pages[0], mem + 2 * PAGE);
    ww_tracker_close(t);
}
END_TEST

/* mremap shrinking or moving a watch away: -ESTALE (also for a first,
 * non-resetting query), unwatch works, the moved copy can be watched. */
START_TEST(test_mremap_under_watch)
{
    ww_tracker *t = t_open();
    char *a = t_map(16), *b = t_map(16), *dst = t_map(16), *moved;
    void *pages[16];
    size_t count = 16;

    ck_assert_int_eq(ww_watch(t, a, 16 * PAGE, 0), 0);
    ck_assert_int_eq(ww_watch(t, b, 16 * PAGE, 0), 0);
    a[PAGE] = b[PAGE] = 1;
    ck_assert_ptr_eq(mremap(a, 16 * PAGE, 8 * PAGE, 0), a);
    ck_assert_int_eq(ww_get(t, a, 16 * PAGE, 0, pages, &count), -ESTALE);
    /* One mapping to move: the mprotect backend keeps written and clean
     * pages in mappings of their own, and a move of several needs Linux
     * 6.17 and no userfaultfd registration (its marks have one). */
    ck_assert_int_eq(ww_mark_written(t, b, 16 * PAGE), 0);
    moved = mremap(b, 16 * PAGE, 16 * PAGE, MREMAP_MAYMOVE | MREMAP_FIXED,
                   dst);
    ck_assert_ptr_eq(moved, dst);
    ck_assert_int_eq(ww_get(t, b, 16 * PAGE, 0, pages, &count), -ESTALE);
    ck_assert_uint_eq(count, 16);
    ck_assert_int_eq(ww_unwatch(t, a, 16 * PAGE), 0);
    ck_assert_int_eq(ww_unwatch(t, b, 16 * PAGE), 0);
    /* The mprotect backend's armed pages moved read-only: the caller
     * gives the copy its protection back before watching it. */
    ck_assert_int_eq(mprotect(moved, 16 * PAGE, PROT_READ | PROT_WRITE), 0);
    ck_assert_int_eq(ww_watch(t, moved, 16 * PAGE, 0), 0);
    ck_assert_int_eq(moved[PAGE], 1);
    moved[3 * PAGE] = 1;
    ck_assert_int_eq(ww_get(t, moved, 16 * PAGE, 0, pages, &count), 0);
    ck_assert_uint_eq(count, 1);
    ck_assert_ptr_eq(pages[0], moved + 3 * PAGE);
    ww_tracker_close(t);
}
END_TEST

/* hugetlb memory is refused.  Needs huge pages reserved by the system
 * (vm.nr_hugepages); where there are none the test says so and checks
 * only that the failed mapping attempt left nothing behind. */
START_TEST(test_hugetlb_refused)
{
    ww_tracker *t = t_open();
    char *huge = mmap(NULL, HUGE_2M, PROT_READ | PROT_WRITE,
                      MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB, -1, 0);

    if (huge == MAP_FAILED) {
        fprintf(stderr, "hugetlb: no huge pages reserved here "
                "(vm.nr_hugepages = 0): refusal not exercised\n");
    } else {
        huge[0] = 1;
        ck_assert_int_eq(ww_watch(t, huge, HUGE_2M, 0), -ENOTSUP);
        munmap(huge, HUGE_2M);
    }
    ww_tracker_close(t);
}
END_TEST

/* mprotect(2) by the caller to read-only and back keeps the write state. */
START_TEST(test_caller_mprotect_keeps_state)
{
    ww_tracker *t = t_open();
    char *mem = t_watched(t, 8);
    void *pages[8];
    size_t count = 8, expect[] = { 2, 5 };

    mem[2 * PAGE] = 1;
    ck_assert_int_eq(mprotect(mem, 8 * PAGE, PROT_READ), 0);
    ck_assert_int_eq(mprotect(mem, 8 * PAGE, PROT_READ | PROT_WRITE), 0);
    mem[5 * PAGE] = 1;
    ck_assert_int_eq(ww_get(t, mem, 8 * PAGE, 0, pages, &count), 0);
    t_assert_pages(pages, count, mem, expect, 2);
    ww_tracker_close(t);
}
END_TEST

static void add_tests(TCase *tc, enum ww_backend backend)
{
    tcase_add_test(tc, test_thp_exact_by_default);
    tcase_add_test(tc, test_thp_keep_hugepages);
    tcase_add_test(tc, test_thp_watch_half_of_huge_page);
    tcase_add_test(tc, test_unmapped_under_watch);
    tcase_add_test(tc, test_fork_child_refuses);
    tcase_add_test(tc, test_raw_fork_child_refuses);
    tcase_add_test(tc, test_discarded_fork_marker);
    tcase_add_test(tc, test_stale_watch_cannot_steal);
    tcase_add_test(tc, test_stale_watch_same_tracker);
    tcase_add_test(tc, test_overlap_across_backends);
    tcase_add_test(tc, test_protect_over_replaced_page);
    tcase_add_test(tc, test_mremap_under_watch);
    tcase_add_test(tc, test_map_fixed_over_watch);
    tcase_add_test(tc, test_hugetlb_refused);
    if (backend != WW_BACKEND_UFFD)
        return;
    /* uffd only: with mprotect, a system call writing a watched page fails
     * with EFAULT by design (see test_mprotect.c), the EPERM trap is
     * PAGEMAP_SCAN's, the backend owns the pages' protections, and a page
     * dropped by MADV_DONTNEED involves no write fault it could see. */
    tcase_add_test(tc, test_read_syscall_into_watched_memory);
    tcase_add_test(tc, test_replaced_half_keeps_written_pages);
    tcase_add_test(tc, test_caller_mprotect_keeps_state);
    tcase_add_test(tc, test_madvise_dontneed_and_free);
    tcase_add_test(tc, test_thp_reset_half_of_huge_page);
}

int main(void)
{
    Suite *s = suite_create("kernel");

    t_add_backend_tcases(s, "kernel", add_tests, 60);
    return t_run_suite(s);
}
