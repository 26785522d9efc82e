/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * test_mprotect.c - what the mprotect backend must get right beyond the
 * common semantics (test_native.c), run on every backend wherever the
 * behaviour is common: writes by the kernel, the output
 * array in watched memory, fork, lost mappings, unwatch under writers,
 * memory that cannot be watched, memory replaced under a watch (issue 11,
 * defects 3 and 8) and fork children, raw ones included (defect 9).
 */
#include "config.h"

#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
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

/* The protection of the mapping that holds addr, per /proc/self/maps (-1
 * if unmapped). */
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

/* What a program reusing the address does: a fresh mapping over n pages
 * at p (MAP_FIXED), which the library never armed. */
static void replace_pages(char *p, size_t n, int prot)
{
    ck_assert_ptr_eq(mmap(p, n * PAGE, prot,
                          MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0), p);
}

/* Whether this process may have a userfaultfd.  Without one (seccomp,
 * Linux < 5.13) the mprotect backend cannot tell its memory from a
 * read-only mapping put in its place (see writewatch.h): the checks that
 * need it are skipped, on that backend only. */
static int marks_available(void)
{
    if (t_backend != WW_BACKEND_MPROTECT || t_userfaultfd_here())
        return 1;
    fprintf(stderr, "note: no userfaultfd here: checks on read-only "
            "replacements skipped\n");
    return 0;
}

static void no_core_dump(void)
{
    struct rlimit no_core = { 0, 0 };

    setrlimit(RLIMIT_CORE, &no_core);
}

/* The kernel's own writes: read(2) into a watched buffer.  uffd sees them;
 * mprotect makes read fail with EFAULT unless the range was marked
 * written first, after which the data arrives and the page is reported. */
START_TEST(test_read_syscall_into_watched_buffer)
{
    ww_tracker *t = t_open();
    char *mem = t_watched(t, 4);
    void *pages[4];
    size_t count = 4;
    int fds[2];
    ssize_t got;

    ck_assert_int_eq(pipe(fds), 0);
    ck_assert_int_eq(write(fds[1], "hello", 5), 5);
    got = read(fds[0], mem + 2 * PAGE, 5);
    if (t_backend == WW_BACKEND_MPROTECT) {
        ck_assert_int_eq(got, -1);
        ck_assert_int_eq(errno, EFAULT);
        ck_assert_uint_eq(t_count_written(t, mem, 4), 0);
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
    if (t_backend == WW_BACKEND_MPROTECT)
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
    ww_tracker *t = t_open();
    char *mem = t_map(N);
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
    ww_tracker *t = t_open();
    char *mem = t_watched(t, 8);
    void *pages[8];
    size_t count = 8;
    int status;
    pid_t pid;

    mem[PAGE] = 1;
    pid = fork();
    ck_assert_int_ne(pid, -1);
    if (pid == 0) {
        size_t n = 8;

        mem[3 * PAGE] = 3;              /* armed page: must not crash */
        t_child_expect(ww_get(t, mem, 8 * PAGE, 0, pages, &n) == -ECHILD);
        t_child_expect(ww_tracker_close(t) == 0);
        mem[5 * PAGE] = 5;              /* plain memory now */
        t_child_expect(mem[3 * PAGE] == 3 && mem[5 * PAGE] == 5);
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
    ww_tracker *t = t_open();
    char *shared = mmap(NULL, 4 * PAGE, PROT_READ | PROT_WRITE,
                        MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    char *wo = mmap(NULL, 4 * PAGE, PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
                    -1, 0);
    char *mem = t_map(4);

    ck_assert_ptr_ne(shared, MAP_FAILED);
    ck_assert_ptr_ne(wo, MAP_FAILED);
    /* Checked on mprotect only: on 6.18 the uffd backend registers shared
     * anonymous memory (reported to the lead).  Write-only memory: armed,
     * mprotect would leave it no access at all, not even the reads that
     * PROT_WRITE allows on most hardware. */
    if (t_backend == WW_BACKEND_MPROTECT) {
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
    ww_tracker *a = t_open(), *b = t_open();
    char *mem = t_map(16);

    ck_assert_int_eq(ww_watch(a, mem + 4 * PAGE, 8 * PAGE, 0), 0);
    ck_assert_int_eq(ww_watch(b, mem, 5 * PAGE, 0), -EEXIST);
    ck_assert_int_eq(ww_watch(b, mem + 11 * PAGE, 2 * PAGE, 0), -EEXIST);
    ck_assert_int_eq(ww_watch(b, mem + 12 * PAGE, 4 * PAGE, 0), 0);
    ck_assert_int_eq(ww_watch(b, mem, 4 * PAGE, 0), 0);
    mem[3 * PAGE] = 1;
    mem[4 * PAGE] = 1;
    mem[12 * PAGE] = 1;
    ck_assert_uint_eq(t_count_written(a, mem + 4 * PAGE, 8), 1);
    ck_assert_uint_eq(t_count_written(b, mem, 4), 1);
    ck_assert_uint_eq(t_count_written(b, mem + 12 * PAGE, 4), 1);
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
        /* atomic: two writers share the pages (no data race for TSan) */
        __atomic_store_n(&w->mem[(i * 7 % 64) * PAGE], (char)i,
                         __ATOMIC_RELAXED);
        i++;
        atomic_store(&w->writes, i);
    }
    return NULL;
}

START_TEST(test_unwatch_under_writers)
{
    ww_tracker *t = t_open();
    struct spin_writer w = { .mem = t_map(64) };
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
        ck_assert_uint_ge(t_count_written(t, w.mem, 64), 1);
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
    ww_tracker *t = t_open();
    char *drop = mmap(NULL, 4 * PAGE, PROT_READ | PROT_WRITE,
                      MAP_DROPPABLE | MAP_ANONYMOUS, -1, 0);
    char *mem;

    if (drop == MAP_FAILED) {
        ck_assert_int_eq(errno, EINVAL);
        t_skip("the kernel has no MAP_DROPPABLE");
        ww_tracker_close(t);
        return;
    }
    ck_assert_int_eq(ww_watch(t, drop, 4 * PAGE, 0), -ENOTSUP);
    ck_assert_int_eq(ww_watch(t, drop + PAGE, PAGE, 0), -ENOTSUP);
    /* One droppable page inside ordinary memory: the whole range is
     * refused, the ordinary part alone is not. */
    mem = t_map(4);
    ck_assert_ptr_eq(mmap(mem + PAGE, PAGE, PROT_READ | PROT_WRITE,
                          MAP_DROPPABLE | MAP_ANONYMOUS | MAP_FIXED, -1, 0),
                     mem + PAGE);
    ck_assert_int_eq(ww_watch(t, mem, 4 * PAGE, 0), -ENOTSUP);
    ck_assert_int_eq(ww_watch(t, mem + 2 * PAGE, 2 * PAGE, 0), 0);
    mem[3 * PAGE] = 1;
    ck_assert_uint_eq(t_count_written(t, mem + 2 * PAGE, 2), 1);
    /* Refused, and left as it was: still writable without a watch. */
    drop[PAGE] = 1;
    mem[PAGE] = 1;
    ww_tracker_close(t);
    munmap(drop, 4 * PAGE);
    munmap(mem, 4 * PAGE);
}
END_TEST

/*
 * Issue 11, defect 3: a writable mapping put over page 1 (MAP_FIXED) and
 * written, then ww_protect over the whole watch and a get+RESET.  The
 * protect used to make the new page read-only along with the rest, which
 * hid it from the staleness check: the get reported nothing while the
 * page held new data.  Every entry point must see the replacement.
 */
START_TEST(test_protect_after_map_fixed_is_stale)
{
    ww_tracker *t = t_open();
    char *mem = t_watched(t, 4);
    void *pages[4];
    size_t count = 4;
    int r;

    replace_pages(mem + PAGE, 1, PROT_READ | PROT_WRITE);
    mem[PAGE] = 42;
    r = ww_protect(t, mem, 4 * PAGE, PROT_READ | PROT_WRITE);
    if (t_backend == WW_BACKEND_MPROTECT)
        ck_assert_int_eq(r, -ESTALE);
    ck_assert_int_eq(ww_get(t, mem, 4 * PAGE, WW_GET_RESET, pages, &count),
                     -ESTALE);
    ck_assert_uint_eq(count, 4);
    ck_assert_int_eq(mem[PAGE], 42);
    ck_assert_int_eq(ww_unwatch(t, mem, 4 * PAGE), 0);
    ck_assert_int_eq(maps_prot(mem + PAGE), PROT_READ | PROT_WRITE);
    mem[PAGE] = 43;
    ww_tracker_close(t);
}
END_TEST

/* Each entry point alone, on a watch whose page 2 was replaced by a fresh
 * mapping, writable or read-only: -ESTALE, and the new page keeps the
 * protection its owner gave it, through the call and through unwatch. */
enum entry { E_GET, E_GET_RESET, E_RESET, E_MARK, E_PROTECT, N_ENTRIES };

static int call_entry(ww_tracker *t, char *mem, enum entry e)
{
    void *pages[8];
    size_t count = 8;

    switch (e) {
    case E_GET: return ww_get(t, mem, 8 * PAGE, 0, pages, &count);
    case E_GET_RESET:
        return ww_get(t, mem, 8 * PAGE, WW_GET_RESET, pages, &count);
    case E_RESET: return ww_reset(t, mem, 8 * PAGE);
    case E_MARK: return ww_mark_written(t, mem, 8 * PAGE);
    case E_PROTECT: return ww_protect(t, mem, 8 * PAGE, PROT_READ);
    default: return -EINVAL;
    }
}

START_TEST(test_every_entry_point_sees_replacement)
{
    static const int prots[] = { PROT_READ | PROT_WRITE, PROT_READ };
    ww_tracker *t = t_open();
    size_t kinds = marks_available() ? 2 : 1;

    for (size_t k = 0; k < kinds; k++) {
        for (int e = 0; e < N_ENTRIES; e++) {
            char *mem = t_map(8);
            int r, checked;

            ck_assert_int_eq(ww_watch(t, mem, 8 * PAGE, 0), 0);
            mem[5 * PAGE] = 1;
            replace_pages(mem + 2 * PAGE, 1, prots[k]);
            r = call_entry(t, mem, (enum entry)e);
            /* The uffd backend's mark and protect do not look yet (the
             * front's part of issue 11); its queries do. */
            if (t_backend == WW_BACKEND_MPROTECT || e <= E_RESET)
                ck_assert_msg(r == -ESTALE, "entry %d, prot %#x: %d", e,
                              (unsigned)prots[k], r);
            checked = t_backend == WW_BACKEND_MPROTECT || e != E_PROTECT;
            if (checked)
                ck_assert_int_eq(maps_prot(mem + 2 * PAGE), prots[k]);
            ck_assert_int_eq(ww_unwatch(t, mem, 8 * PAGE), 0);
            if (checked)
                ck_assert_int_eq(maps_prot(mem + 2 * PAGE), prots[k]);
            t_munmap_pages(mem, 8);
        }
    }
    ww_tracker_close(t);
}
END_TEST

/* Child mode "stale-write:BACKEND", in a fresh process: the watched
 * memory is unmapped and a read-only mapping takes its place; a store
 * into it must fault as it would without the library (defect 8: the
 * handler found the old watch and made the page writable). */
static int child_stale_write(enum ww_backend backend)
{
    ww_tracker *t;
    char *mem;

    no_core_dump();
    t_child_expect(ww_tracker_open(&t, backend, 0) == 0);
    t_child_expect(ww_alloc(t, 4 * PAGE, 0, (void **)&mem) == 0);
    mem[0] = 1;
    t_child_expect(munmap(mem, 4 * PAGE) == 0);
    t_child_expect(mmap(mem, 4 * PAGE, PROT_READ,
                      MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) == mem);
    ((volatile char *)mem)[PAGE] = 1;   /* must not return */
    return 0;
}

/*
 * Issue 11, defect 8: a stale watch must not control whatever is mapped
 * at its address later.  A store into the new read-only mapping faults
 * (in a fresh process, and in a fork child), and unwatching the stale
 * watch leaves the new mapping read-only.
 */
START_TEST(test_stale_watch_leaves_new_mapping_alone)
{
    ww_tracker *t = t_open();
    char *mem = t_watched(t, 4);
    void *pages[4];
    size_t count = 4;
    char mode[32];
    int status;

    if (!marks_available()) {
        ww_tracker_close(t);
        return;
    }
    snprintf(mode, sizeof(mode), "stale-write:%s",
             ww_backend_name(t_backend));
    status = t_spawn_self(mode);
    t_assert_child_killed(status, SIGSEGV, mode);

    mem[0] = 1;
    t_munmap_pages(mem, 4);
    replace_pages(mem, 4, PROT_READ);
    t_assert_child_faults(mem + PAGE, 1);
    ck_assert_int_eq(ww_get(t, mem, 4 * PAGE, 0, pages, &count), -ESTALE);
    ck_assert_int_eq(ww_unwatch(t, mem, 4 * PAGE), 0);
    ck_assert_int_eq(maps_prot(mem + PAGE), PROT_READ);
    t_assert_child_faults(mem + PAGE, 1);
    ww_tracker_close(t);
}
END_TEST

/* A new watch where a lost one was: the old watch of another tracker no
 * longer owns the memory, so it cannot block the new watch (it becomes
 * stale instead), and unwatching it later leaves the new watch armed. */
START_TEST(test_new_watch_over_lost_watch)
{
    ww_tracker *a = t_open(), *b = t_open();
    char *mem = t_map(4);
    void *pages[4];
    size_t count = 4;

    ck_assert_int_eq(ww_watch(a, mem, 4 * PAGE, 0), 0);
    mem[0] = 1;
    t_munmap_pages(mem, 4);
    replace_pages(mem, 4, PROT_READ | PROT_WRITE);
    ck_assert_int_eq(ww_watch(b, mem, 4 * PAGE, 0), 0);
    mem[PAGE] = 1;
    ck_assert_int_eq(ww_get(b, mem, 4 * PAGE, 0, pages, &count), 0);
    ck_assert_uint_eq(count, 1);
    ck_assert_ptr_eq(pages[0], mem + PAGE);
    count = 4;
    if (t_backend == WW_BACKEND_MPROTECT)
        ck_assert_int_eq(ww_get(a, mem, 4 * PAGE, 0, pages, &count),
                         -ESTALE);
    ck_assert_int_eq(ww_unwatch(a, mem, 4 * PAGE), 0);
    mem[2 * PAGE] = 1;
    count = 4;
    ck_assert_int_eq(ww_get(b, mem, 4 * PAGE, 0, pages, &count), 0);
    ck_assert_uint_eq(count, 2);
    ck_assert_ptr_eq(pages[1], mem + 2 * PAGE);
    ww_tracker_close(a);
    ww_tracker_close(b);
}
END_TEST

/*
 * Issue 11, defect 9, natively: in a fork child the inherited watches are
 * no longer the library's.  Writes to inherited armed pages still land,
 * and a protection the child sets itself holds: its forbidden store
 * faults (the inherited handler used to apply the parent's recorded
 * read-write protection again).  fork() and a raw fork; the child
 * reports each step on a pipe, so the fault is known to be the last one.
 *
 * With mprotect_first the child protects a clean (armed) page before
 * anything else: after a raw fork, the first the library can see of the
 * child is that fault, and an armed page looks the same before and after
 * the child's mprotect(PROT_READ), so that order is tested on fork()
 * only (documented in writewatch.h).
 */
static void fork_child_protection(int raw, int mprotect_first)
{
    ww_tracker *t = t_open();
    char *mem = t_watched(t, 4);
    size_t one[] = { 0 }, count = 4;
    void *pages[4];
    char steps[4];
    int fds[2], status;
    ssize_t n;
    pid_t pid;

    ck_assert_int_eq(pipe(fds), 0);
    mem[0] = 1;
    pid = t_fork(raw);
    ck_assert_int_ne(pid, -1);
    if (pid == 0) {
        no_core_dump();
        close(fds[0]);
        if (mprotect_first)
            t_child_expect(mprotect(mem + 2 * PAGE, PAGE, PROT_READ) == 0);
        ((volatile char *)mem)[PAGE] = 2;       /* armed, inherited */
        ((volatile char *)mem)[0] = 2;          /* written, inherited */
        t_child_expect(write(fds[1], "w", 1) == 1);
        if (!mprotect_first)
            t_child_expect(mprotect(mem + 2 * PAGE, PAGE, PROT_READ) == 0);
        t_child_expect(write(fds[1], "p", 1) == 1);
        ((volatile char *)mem)[2 * PAGE] = 2;   /* must fault */
        _exit(0);
    }
    close(fds[1]);
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    n = read(fds[0], steps, sizeof(steps));
    close(fds[0]);
    ck_assert_msg(n == 2 && steps[0] == 'w' && steps[1] == 'p',
                  "child stopped after %zd steps", n);
    ck_assert_msg(WIFSIGNALED(status) && WTERMSIG(status) == SIGSEGV,
                  "%s child: status %#x, expected SIGSEGV",
                  raw ? "raw fork" : "fork", (unsigned)status);
    /* The parent's watch saw none of it. */
    ck_assert_int_eq(mem[PAGE], 0);
    ck_assert_int_eq(ww_get(t, mem, 4 * PAGE, 0, pages, &count), 0);
    t_assert_pages(pages, count, mem, one, 1);
    ww_tracker_close(t);
}

START_TEST(test_fork_child_own_protection_holds)
{
    fork_child_protection(0, 0);
    fork_child_protection(0, 1);
}
END_TEST

START_TEST(test_raw_fork_child_own_protection_holds)
{
    fork_child_protection(1, 0);
}
END_TEST

/* Child mode "closed-fds:BACKEND": a program that closes every descriptor
 * it did not open (daemons do), here the mprotect backend's userfaultfd,
 * and reuses the numbers.  Watched memory must keep working: the marks
 * stop answering and the backend does without them. */
static int child_closed_fds(enum ww_backend backend)
{
    ww_tracker *t;
    char *mem;
    void *pages[4];
    size_t count = 4;

    t_child_expect(ww_tracker_open(&t, backend, 0) == 0);
    t_child_expect(ww_alloc(t, 4 * PAGE, 0, (void **)&mem) == 0);
    mem[0] = 1;
    for (int fd = 3; fd < 1024; fd++)
        close(fd);
    /* The lowest number first goes to another userfaultfd, which knows
     * nothing of the backend's registrations (gone with its own). */
    if (syscall(SYS_userfaultfd, O_CLOEXEC | UFFD_USER_MODE_ONLY) < 0)
        t_child_expect(open("/dev/null", O_RDONLY) >= 0);
    for (int i = 0; i < 4; i++)
        t_child_expect(open("/dev/null", O_RDONLY) >= 0);
    mem[PAGE] = 1;
    mem[3 * PAGE] = 1;
    t_child_expect(ww_get(t, mem, 4 * PAGE, WW_GET_RESET, pages, &count) == 0);
    t_child_expect(count == 3 && pages[2] == mem + 3 * PAGE);
    mem[2 * PAGE] = 1;
    count = 4;
    t_child_expect(ww_get(t, mem, 4 * PAGE, 0, pages, &count) == 0);
    t_child_expect(count == 1 && pages[0] == mem + 2 * PAGE);
    t_child_expect(ww_unwatch(t, mem, 4 * PAGE) == 0);
    mem[PAGE] = 2;                      /* plain memory again */
    t_child_expect(ww_watch(t, mem, 4 * PAGE, 0) == 0);
    mem[0] = 2;
    t_child_expect(ww_tracker_close(t) == 0);
    mem[3 * PAGE] = 2;
    return 0;
}

START_TEST(test_descriptors_closed_behind_the_library)
{
    char mode[32];
    int status;

    /* A uffd tracker is its descriptors: closing them breaks it. */
    if (t_backend != WW_BACKEND_MPROTECT)
        return;
    snprintf(mode, sizeof(mode), "closed-fds:%s",
             ww_backend_name(t_backend));
    status = t_spawn_self(mode);
    t_assert_child_ok(status, mode);
}
END_TEST

/* Memory the mprotect backend watched, then did not: the other backend
 * can watch it (the backend's userfaultfd registration is gone with the
 * watch), and the other way round. */
START_TEST(test_memory_passes_between_backends)
{
    ww_tracker *mp, *uf;
    char *mem = t_map(8);

    if (ww_backend_available(WW_BACKEND_UFFD) != 0 ||
        ww_backend_available(WW_BACKEND_MPROTECT) != 0)
        return;
    ck_assert_int_eq(ww_tracker_open(&mp, WW_BACKEND_MPROTECT, 0), 0);
    ck_assert_int_eq(ww_tracker_open(&uf, WW_BACKEND_UFFD, 0), 0);
    ck_assert_int_eq(ww_watch(mp, mem, 8 * PAGE, 0), 0);
    mem[PAGE] = 1;
    ck_assert_int_eq(ww_unwatch(mp, mem, 8 * PAGE), 0);
    ck_assert_int_eq(ww_watch(uf, mem, 8 * PAGE, 0), 0);
    mem[2 * PAGE] = 1;
    ck_assert_uint_eq(t_count_written(uf, mem, 8), 1);
    ck_assert_int_eq(ww_unwatch(uf, mem, 8 * PAGE), 0);
    ck_assert_int_eq(ww_watch(mp, mem, 8 * PAGE, 0), 0);
    mem[3 * PAGE] = 1;
    ck_assert_uint_eq(t_count_written(mp, mem, 8), 1);
    ww_tracker_close(mp);
    ww_tracker_close(uf);
}
END_TEST

/* Found by a stress program: a raw fork (no pthread_atfork handler runs)
 * while other threads of the parent write watched memory and get+RESET
 * it.  The fork may catch a page half-way through a transition (its bit
 * set, its protection not yet the caller's); the child must still be able
 * to write every inherited page.  Before the fix about one raw-fork child
 * in five died of SIGSEGV here on the mprotect backend. */
enum { RF_PAGES = 64, RF_FORKS = 150 };
static char *rf_mem;
static ww_tracker *rf_tracker;
static atomic_int rf_stop;

static void *rf_writer(void *arg)
{
    unsigned seed = 1;

    (void)arg;
    while (!atomic_load(&rf_stop))
        rf_mem[(rand_r(&seed) % RF_PAGES) * PAGE] += 1;
    return NULL;
}

static void *rf_getter(void *arg)
{
    void *pages[RF_PAGES];

    (void)arg;
    while (!atomic_load(&rf_stop)) {
        size_t count = RF_PAGES;

        if (ww_get(rf_tracker, rf_mem, RF_PAGES * PAGE, WW_GET_RESET, pages,
                   &count) != 0)
            abort();
    }
    return NULL;
}

START_TEST(test_raw_fork_under_writer_threads)
{
    pthread_t writer, getter;
    int bad = 0;

    if (T_TSAN) {
        t_skip("ThreadSanitizer cannot follow a raw fork of threads");
        return;
    }
    rf_tracker = t_open();
    rf_mem = t_watched(rf_tracker, RF_PAGES);
    atomic_store(&rf_stop, 0);
    ck_assert_int_eq(pthread_create(&writer, NULL, rf_writer, NULL), 0);
    ck_assert_int_eq(pthread_create(&getter, NULL, rf_getter, NULL), 0);
    for (int i = 0; i < RF_FORKS; i++) {
        int status;
        pid_t pid = t_fork(1);

        if (pid == 0) {
            for (size_t k = 0; k < RF_PAGES; k++)
                rf_mem[k * PAGE] = 9;
            _exit(0);
        }
        if (pid < 0 || waitpid(pid, &status, 0) != pid ||
            !WIFEXITED(status) || WEXITSTATUS(status) != 0)
            bad++;
    }
    atomic_store(&rf_stop, 1);
    pthread_join(writer, NULL);
    pthread_join(getter, NULL);
    ck_assert_msg(bad == 0, "%d of %d raw-fork children could not write "
                  "inherited watched memory", bad, RF_FORKS);
    ww_tracker_close(rf_tracker);
}
END_TEST

/* Found by a stress program: a raw fork while another thread of the
 * parent watches and unwatches (the mprotect backend's handler table
 * changes) and others write and get (so the change waits for handlers).
 * The fork may catch the change half-done: the table published, the
 * spare array not yet swapped (or freed, when the table grew).  The
 * child's own new watches must still take their write faults.  Before
 * the fix ~1 raw-fork child in 4 died of SIGSEGV at its first write to a
 * range it had just watched (mprotect: its table had lost the watch). */
static ww_tracker *rf_tracker2;
static char *rf_other;

static void *rf_watcher(void *arg)
{
    (void)arg;
    while (!atomic_load(&rf_stop)) {
        if (ww_watch(rf_tracker2, rf_other, 4 * PAGE, 0) != 0)
            abort();
        rf_other[PAGE] = 1;
        if (ww_unwatch(rf_tracker2, rf_other, 4 * PAGE) != 0)
            abort();
    }
    return NULL;
}

/* In the child: the inherited trackers closed, a new one watching hi,
 * then lo, each written once and reported. */
static int rf_child_watches(char *hi, char *lo)
{
    ww_tracker *t;

    /* A hang ends the child, not the test: the test runner's SIGALRM
     * handler, inherited, would kill the whole process group. */
    signal(SIGALRM, SIG_DFL);
    alarm(3);
    if (ww_tracker_close(rf_tracker) != 0 ||
        ww_tracker_close(rf_tracker2) != 0 ||
        ww_tracker_open(&t, t_backend, 0) != 0 ||
        ww_watch(t, hi, 4 * PAGE, 0) != 0 || ww_watch(t, lo, 4 * PAGE, 0) != 0)
        return 1;
    hi[2 * PAGE] = 1;
    lo[3 * PAGE] = 1;
    for (int k = 0; k < 2; k++) {
        char *base = k ? lo : hi;
        void *pages[4];
        size_t count = 4;

        if (ww_get(t, base, 4 * PAGE, 0, pages, &count) != 0 || count != 1 ||
            pages[0] != base + (k ? 3 : 2) * PAGE)
            return 1;
    }
    return ww_tracker_close(t);
}

START_TEST(test_raw_fork_under_table_changes)
{
    pthread_t writer, getter, watcher;
    char *hi, *lo;
    int bad = 0, killed = 0, hung = 0;

    if (T_TSAN) {
        /* No interceptor runs at a raw fork: TSan reports the child's
         * use of locks the parent's threads held, by the hundred, and the
         * child of test_raw_fork_under_writer_threads may hang. */
        t_skip("ThreadSanitizer cannot follow a raw fork of threads");
        return;
    }
    rf_tracker = t_open();
    rf_tracker2 = t_open();
    rf_mem = t_watched(rf_tracker, RF_PAGES);
    rf_other = t_map(4);
    hi = t_map(4);
    lo = t_map(4);
    if (lo > hi) {
        char *x = lo;

        lo = hi;
        hi = x;
    }
    atomic_store(&rf_stop, 0);
    ck_assert_int_eq(pthread_create(&writer, NULL, rf_writer, NULL), 0);
    ck_assert_int_eq(pthread_create(&getter, NULL, rf_getter, NULL), 0);
    ck_assert_int_eq(pthread_create(&watcher, NULL, rf_watcher, NULL), 0);
    for (int i = 0; i < RF_FORKS; i++) {
        int status;
        pid_t pid = t_fork(1);

        if (pid == 0)
            _exit(rf_child_watches(hi, lo));
        if (pid < 0 || waitpid(pid, &status, 0) != pid)
            bad++;
        else if (WIFSIGNALED(status) && WTERMSIG(status) == SIGALRM)
            hung++;
        else if (WIFSIGNALED(status))
            killed++;
        else if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
            bad++;
    }
    atomic_store(&rf_stop, 1);
    pthread_join(writer, NULL);
    pthread_join(getter, NULL);
    pthread_join(watcher, NULL);
    /* A raw-fork child of a threaded process may only call
     * async-signal-safe functions, and ww_watch is none: it may hang on a
     * lock that a thread of the parent held at the fork (glibc's stdio
     * list lock in fopen, seen in ~1 child of 900; malloc's would do the
     * same).  That is the child's risk, not the defect tested here. */
    if (hung)
        fprintf(stderr, "raw fork under table changes: %d of %d children "
                "hung on a lock inherited from a parent thread\n", hung,
                RF_FORKS);
    ck_assert_msg(bad == 0 && killed == 0, "of %d raw-fork children, %d "
                  "were killed (first write to their own new watch) and %d "
                  "failed", RF_FORKS, killed, bad);
    ww_tracker_close(rf_tracker2);
    ww_tracker_close(rf_tracker);
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
    tcase_add_test(tc, test_droppable_memory_refused);
    tcase_add_test(tc, test_protect_after_map_fixed_is_stale);
    tcase_add_test(tc, test_every_entry_point_sees_replacement);
    tcase_add_test(tc, test_stale_watch_leaves_new_mapping_alone);
    tcase_add_test(tc, test_new_watch_over_lost_watch);
    tcase_add_test(tc, test_fork_child_own_protection_holds);
    tcase_add_test(tc, test_raw_fork_child_own_protection_holds);
    tcase_add_test(tc, test_descriptors_closed_behind_the_library);
    tcase_add_test(tc, test_memory_passes_between_backends);
    tcase_add_test(tc, test_raw_fork_under_writer_threads);
    tcase_add_test(tc, test_raw_fork_under_table_changes);
}

int main(int argc, char **argv)
{
    const char *mode = t_child_mode(argc, argv);
    Suite *s;

    if (mode) {
        if (strcmp(mode, "stale-write:uffd") == 0)
            return child_stale_write(WW_BACKEND_UFFD);
        if (strcmp(mode, "stale-write:mprotect") == 0)
            return child_stale_write(WW_BACKEND_MPROTECT);
        if (strcmp(mode, "closed-fds:mprotect") == 0)
            return child_closed_fds(WW_BACKEND_MPROTECT);
        return t_bad_child_mode(mode);
    }
    s = suite_create("mprotect");

    t_add_backend_tcases(s, "mprotect", add_tests, 180);
    return t_run_suite(s);
}
