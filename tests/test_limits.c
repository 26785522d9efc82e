/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * test_limits.c - what page-table-based tracking cannot see, pinned as it
 * is (README "When the world moves under a watch" and "What the kernel
 * cannot see", libwritewatch(7) "What the kernel cannot see").
 *
 * These are limits of the kernel, not bugs of the library.  Each test
 * asserts the documented behaviour exactly, for the backend it runs on, so
 * that a kernel or library that changes it fails here and the documentation
 * is changed with it.  Where a kernel facility is missing (io_uring
 * disabled, no O_DIRECT, no THP, no reclaim) the test says SKIP (in the
 * TAP output) and asserts nothing.
 */
#include "config.h"

#include <fcntl.h>
#include <linux/io_uring.h>
#include <sched.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/uio.h>

#include "helpers.h"

#define HUGE_2M ((size_t)2 << 20)

#ifndef MLOCK_ONFAULT
#define MLOCK_ONFAULT 0x01
#endif

static int uffd(void)
{
    return t_backend == WW_BACKEND_UFFD;
}

/* n fresh pages, filled (so present) before the watch starts. */
static char *watch_filled(ww_tracker *t, size_t n)
{
    char *mem = t_map(n);

    memset(mem, 7, n * PAGE);
    ck_assert_int_eq(ww_watch(t, mem, n * PAGE, 0), 0);
    return mem;
}

/* --- io_uring, raw: one submission queue entry at a time ----------------- */

struct ring {
    int fd;
    void *sq, *cq;
    size_t sq_len, cq_len, sqes_len;
    unsigned *sq_tail, *sq_mask, *sq_array, *cq_head, *cq_tail, *cq_mask;
    struct io_uring_sqe *sqes;
    struct io_uring_cqe *cqes;
};

static void *map_ring(int fd, size_t len, off_t what)
{
    return mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE,
                fd, what);
}

/* 0, or -errno of io_uring_setup (ENOSYS, EPERM: io_uring unavailable). */
static int ring_open(struct ring *r)
{
    struct io_uring_params p;
    char *sq, *cq;

    memset(&p, 0, sizeof(p));
    memset(r, 0, sizeof(*r));
    r->fd = (int)syscall(__NR_io_uring_setup, 1, &p);
    if (r->fd < 0)
        return -errno;
    r->sq_len = p.sq_off.array + p.sq_entries * sizeof(unsigned);
    r->cq_len = p.cq_off.cqes + p.cq_entries * sizeof(struct io_uring_cqe);
    r->sqes_len = p.sq_entries * sizeof(struct io_uring_sqe);
    r->sq = map_ring(r->fd, r->sq_len, IORING_OFF_SQ_RING);
    r->cq = map_ring(r->fd, r->cq_len, IORING_OFF_CQ_RING);
    r->sqes = map_ring(r->fd, r->sqes_len, IORING_OFF_SQES);
    ck_assert(r->sq != MAP_FAILED && r->cq != MAP_FAILED &&
              r->sqes != MAP_FAILED);
    sq = r->sq;
    cq = r->cq;
    r->sq_tail = (unsigned *)(sq + p.sq_off.tail);
    r->sq_mask = (unsigned *)(sq + p.sq_off.ring_mask);
    r->sq_array = (unsigned *)(sq + p.sq_off.array);
    r->cq_head = (unsigned *)(cq + p.cq_off.head);
    r->cq_tail = (unsigned *)(cq + p.cq_off.tail);
    r->cq_mask = (unsigned *)(cq + p.cq_off.ring_mask);
    r->cqes = (struct io_uring_cqe *)(cq + p.cq_off.cqes);
    return 0;
}

static void ring_close(struct ring *r)
{
    munmap(r->sqes, r->sqes_len);
    munmap(r->cq, r->cq_len);
    munmap(r->sq, r->sq_len);
    close(r->fd);
}

/* Submit one entry, wait for its completion; its result (bytes or
 * -errno). */
static int ring_run(struct ring *r, const struct io_uring_sqe *sqe)
{
    unsigned tail = *r->sq_tail, i = tail & *r->sq_mask, head;
    int res;

    r->sqes[i] = *sqe;
    r->sq_array[i] = i;
    __atomic_store_n(r->sq_tail, tail + 1, __ATOMIC_RELEASE);
    ck_assert_int_eq(syscall(__NR_io_uring_enter, r->fd, 1, 1,
                             IORING_ENTER_GETEVENTS, NULL, 0), 1);
    head = *r->cq_head;
    ck_assert_uint_ne(head, __atomic_load_n(r->cq_tail, __ATOMIC_ACQUIRE));
    res = r->cqes[head & *r->cq_mask].res;
    __atomic_store_n(r->cq_head, head + 1, __ATOMIC_RELEASE);
    return res;
}

/* 0 or -errno: the buffer [addr, addr+len) becomes fixed buffer 0.  The
 * pinned pages count against RLIMIT_MEMLOCK: ENOMEM says SKIP. */
static int ring_register(struct ring *r, void *addr, size_t len)
{
    struct iovec iov = { addr, len };

    if (syscall(__NR_io_uring_register, r->fd, IORING_REGISTER_BUFFERS, &iov,
                1) == 0)
        return 0;
    return -errno;
}

/* A file holding one page of 'D's. */
static int page_of_d(void)
{
    int fd = (int)syscall(SYS_memfd_create, "limits", 0);
    char data[PAGE];

    ck_assert_int_ge(fd, 0);
    memset(data, 'D', sizeof(data));
    ck_assert_int_eq(write(fd, data, sizeof(data)), (ssize_t)sizeof(data));
    return fd;
}

/* Row "I/O through pages pinned before the last reset": registering a buffer
 * pins it (and, on uffd, reports every page of it); a get+RESET re-arms
 * the pinned pages; a READ_FIXED that lands afterwards is never reported,
 * on either backend.  On mprotect an armed buffer cannot be registered
 * (EFAULT) until ww_mark_written().  The mitigation, ww_mark_written() on
 * completion, reports it. */
START_TEST(test_uring_fixed_buffer_after_reset)
{
    ww_tracker *t = t_open();
    char *mem = watch_filled(t, 8);
    size_t page2[] = { 2 };
    struct io_uring_sqe sqe;
    struct ring r;
    int r_open = ring_open(&r), r_reg, file;

    if (r_open == -ENOSYS || r_open == -EPERM) {
        t_skip("io_uring unavailable here (%s; sysctl "
                  "kernel.io_uring_disabled?)", strerror(-r_open));
        ww_tracker_close(t);
        return;
    }
    ck_assert_int_eq(r_open, 0);
    file = page_of_d();
    if (!uffd()) {
        ck_assert_int_eq(ring_register(&r, mem, 8 * PAGE), -EFAULT);
        ck_assert_int_eq(ww_mark_written(t, mem, 8 * PAGE), 0);
    }
    r_reg = ring_register(&r, mem, 8 * PAGE);
    if (r_reg == -ENOMEM) {
        t_skip("io_uring buffer registration refused (RLIMIT_MEMLOCK?)");
        goto out;
    }
    ck_assert_int_eq(r_reg, 0);
    /* All 8 read as written: on uffd the pin is a write fault (on
     * mprotect, ww_mark_written did it). */
    ck_assert_uint_eq(t_count_written(t, mem, 8), 8);
    ck_assert_uint_eq(t_count_written_reset(t, mem, 8), 8);

    memset(&sqe, 0, sizeof(sqe));
    sqe.opcode = IORING_OP_READ_FIXED;
    sqe.fd = file;
    sqe.addr = (uintptr_t)(mem + 2 * PAGE);
    sqe.len = PAGE;
    sqe.buf_index = 0;
    ck_assert_int_eq(ring_run(&r, &sqe), (int)PAGE);
    ck_assert_int_eq(mem[2 * PAGE], 'D');
    ck_assert_int_eq(mem[3 * PAGE - 1], 'D');
    ck_assert_uint_eq(t_count_written(t, mem, 8), 0);     /* never seen */

    ck_assert_int_eq(ww_mark_written(t, mem + 2 * PAGE, PAGE), 0);
    t_assert_written_pages(t, mem, 8, page2, 1);
    ck_assert_int_eq(syscall(__NR_io_uring_register, r.fd,
                             IORING_UNREGISTER_BUFFERS, NULL, 0), 0);
out:
    ring_close(&r);
    close(file);
    ww_tracker_close(t);
}
END_TEST

/* Row "a system call writes watched memory", for process_vm_writev(2),
 * whose pin ends before the next get: reported on uffd (the pin is a write
 * fault); EFAULT on mprotect until ww_mark_written(). */
START_TEST(test_process_vm_writev)
{
    ww_tracker *t = t_open();
    char *mem = watch_filled(t, 8);
    char src[32];
    struct iovec local = { src, sizeof(src) };
    struct iovec remote = { mem + 3 * PAGE - 16, sizeof(src) };
    size_t pages23[] = { 2, 3 };

    memset(src, 'P', sizeof(src));
    if (!uffd()) {
        errno = 0;
        ck_assert_int_eq(process_vm_writev(getpid(), &local, 1, &remote, 1,
                                           0), -1);
        ck_assert_int_eq(errno, EFAULT);
        ck_assert_uint_eq(t_count_written(t, mem, 8), 0);
        ck_assert_int_eq(ww_mark_written(t, mem + 2 * PAGE, 2 * PAGE), 0);
    }
    ck_assert_int_eq(process_vm_writev(getpid(), &local, 1, &remote, 1, 0),
                     (ssize_t)sizeof(src));
    ck_assert_int_eq(mem[3 * PAGE + 15], 'P');
    t_assert_written_pages(t, mem, 8, pages23, 2);
    ww_tracker_close(t);
}
END_TEST

/* The same row for O_DIRECT (a page read straight into watched memory),
 * in the build directory; SKIP where its file system refuses O_DIRECT.
 * (An O_DIRECT read still in flight across a RESET is the pinned-pages
 * row: it has no deterministic construction, so it is documented only.) */
START_TEST(test_odirect_read)
{
    ww_tracker *t = t_open();
    char *mem = watch_filled(t, 8);
    char path[] = "limits-odirect-XXXXXX";
    char *data = aligned_alloc(PAGE, PAGE);
    size_t page1[] = { 1 };
    int fd = mkstemp(path);

    ck_assert_ptr_nonnull(data);
    if (fd >= 0)
        unlink(path);
    if (fd < 0 || fcntl(fd, F_SETFL, O_DIRECT) < 0) {
        t_skip("no O_DIRECT file in the current directory (%s)",
                  strerror(errno));
        goto out;
    }
    memset(data, 'O', PAGE);
    ck_assert_int_eq(pwrite(fd, data, PAGE, 0), (ssize_t)PAGE);
    if (!uffd()) {
        errno = 0;
        ck_assert_int_eq(pread(fd, mem + PAGE, PAGE, 0), -1);
        ck_assert_int_eq(errno, EFAULT);
        ck_assert_uint_eq(t_count_written(t, mem, 8), 0);
        ck_assert_int_eq(ww_mark_written(t, mem + PAGE, PAGE), 0);
    }
    ck_assert_int_eq(pread(fd, mem + PAGE, PAGE, 0), (ssize_t)PAGE);
    ck_assert_int_eq(mem[2 * PAGE - 1], 'O');
    t_assert_written_pages(t, mem, 8, page1, 1);
out:
    if (fd >= 0)
        close(fd);
    free(data);
    ww_tracker_close(t);
}
END_TEST

/* Row "writes through /proc/PID/mem or ptrace(PTRACE_POKEDATA)": reported
 * on uffd; on mprotect they succeed (FOLL_FORCE writes past the read-only
 * PTE) and are not reported, and the page stays armed: a later store is
 * reported as usual.  Where the kernel refuses such forced writes, the
 * write fails and the page is untouched. */
START_TEST(test_proc_self_mem)
{
    ww_tracker *t = t_open();
    char *mem = watch_filled(t, 8);
    int fd = open("/proc/self/mem", O_RDWR);
    size_t page5[] = { 5 }, page6[] = { 6 };
    ssize_t n;

    ck_assert_int_ge(fd, 0);
    n = pwrite(fd, "M", 1, (off_t)(uintptr_t)(mem + 5 * PAGE));
    if (n < 0 && !uffd()) {
        /* proc_mem.force_override=ptrace or never (Linux 6.12 and later;
         * the default of Debian's 7.x kernels, found by scripts/kernels.sh):
         * the write to the armed page is refused, so nothing is written
         * unseen, and the watch goes on as before. */
        ck_assert_int_eq(errno, EIO);
        fprintf(stderr, "proc_self_mem: this kernel refuses the write to a "
                "read-only page (%s)\n", strerror(errno));
        ck_assert_int_eq(mem[5 * PAGE], 7);
        ck_assert_uint_eq(t_count_written(t, mem, 8), 0);
        mem[6 * PAGE] = 1;
        t_assert_written_pages(t, mem, 8, page6, 1);
        goto out;
    }
    ck_assert_int_eq(n, 1);
    ck_assert_int_eq(mem[5 * PAGE], 'M');
    if (uffd()) {
        t_assert_written_pages(t, mem, 8, page5, 1);
    } else {
        ck_assert_uint_eq(t_count_written(t, mem, 8), 0);   /* not seen */
        mem[6 * PAGE] = 1;
        t_assert_written_pages(t, mem, 8, page6, 1);
    }
out:
    close(fd);
    ww_tracker_close(t);
}
END_TEST

/* Row "mlock(2) / mlockall(2) of watched memory": on uffd every page it
 * populates reads as written (population is a write fault); a RESET makes
 * reports exact again, and MLOCK_ONFAULT does not over-report.  On
 * mprotect the armed, read-only pages are populated by read faults: exact. */
START_TEST(test_mlock)
{
    ww_tracker *t = t_open();
    char *mem = watch_filled(t, 8), *lazy;
    size_t one[] = { 1 }, locked[] = { 1, 2, 3, 4, 5 }, seven[] = { 7 };

    mem[PAGE] = 1;
    if (t_lock_refused(t_mlock(mem + 2 * PAGE, 4 * PAGE))) {
        t_skip("mlock refused here (%s)", strerror(errno));
        goto out;
    }
    if (uffd()) {
        t_assert_written_pages(t, mem, 8, locked, 5);
        ck_assert_uint_eq(t_count_written_reset(t, mem, 8), 5);
    } else {
        t_assert_written_pages(t, mem, 8, one, 1);
        ck_assert_uint_eq(t_count_written_reset(t, mem, 8), 1);
    }
    mem[7 * PAGE] = 1;
    t_assert_written_pages(t, mem, 8, seven, 1);
    ck_assert_int_eq(t_munlock(mem, 8 * PAGE), 0);

    /* Memory never touched: uffd reports every page it populated. */
    lazy = t_map(8);
    ck_assert_int_eq(ww_watch(t, lazy, 8 * PAGE, 0), 0);
    if (t_lock_refused(t_mlock(lazy, 8 * PAGE))) {
        t_skip("mlock refused here (%s)", strerror(errno));
        goto out;
    }
    ck_assert_uint_eq(t_count_written(t, lazy, 8), uffd() ? 8 : 0);
    ck_assert_int_eq(t_munlock(lazy, 8 * PAGE), 0);

    /* The mitigation: lock on fault, populate nothing. */
    ck_assert_uint_eq(t_count_written_reset(t, mem, 8), 1);
    if (t_lock_refused((int)syscall(SYS_mlock2, mem, 8 * PAGE, MLOCK_ONFAULT))) {
        t_skip("mlock2(MLOCK_ONFAULT) refused here (%s)", strerror(errno));
        goto out;
    }
    ck_assert_uint_eq(t_count_written(t, mem, 8), 0);
    mem[7 * PAGE] = 2;
    t_assert_written_pages(t, mem, 8, seven, 1);
    ck_assert_int_eq(t_munlock(mem, 8 * PAGE), 0);
out:
    ww_tracker_close(t);
}
END_TEST

/* Row "MADV_DONTNEED": the page's contents become zero without a write;
 * uffd reports it, mprotect cannot (no fault).  ww_mark_written() after the
 * madvise is the mitigation. */
START_TEST(test_madv_dontneed)
{
    ww_tracker *t = t_open();
    char *mem = watch_filled(t, 8);
    size_t both[] = { 1, 4 }, one[] = { 1 };

    mem[PAGE] = 1;
    ck_assert_int_eq(madvise(mem + 4 * PAGE, PAGE, MADV_DONTNEED), 0);
    ck_assert_int_eq(mem[4 * PAGE], 0);
    if (uffd()) {
        t_assert_written_pages(t, mem, 8, both, 2);
    } else {
        t_assert_written_pages(t, mem, 8, one, 1);                /* ⚠ not seen */
        ck_assert_int_eq(ww_mark_written(t, mem + 4 * PAGE, PAGE), 0);
        t_assert_written_pages(t, mem, 8, both, 2);
    }
    ww_tracker_close(t);
}
END_TEST

/* Row "MADV_FREE": a page the kernel reclaims reads zero afterwards; uffd
 * reports it written, mprotect does not.  MADV_PAGEOUT reclaims it at once.
 * The thread stays on one CPU: MADV_FREE and MADV_PAGEOUT drain only the
 * current CPU's LRU batches, and a page still in another CPU's batch is not
 * reclaimed.  SKIP if the page stays resident anyway. */
START_TEST(test_madv_free_reclaimed)
{
    ww_tracker *t = t_open();
    char *mem;
    size_t page1[] = { 1 }, both[] = { 1, 3 };
    unsigned char resident = 1;
    cpu_set_t one_cpu;

    CPU_ZERO(&one_cpu);
    CPU_SET(sched_getcpu(), &one_cpu);
    ck_assert_int_eq(sched_setaffinity(0, sizeof(one_cpu), &one_cpu), 0);
    mem = watch_filled(t, 8);
    mem[PAGE] = 1;
    ck_assert_int_eq(madvise(mem + 3 * PAGE, PAGE, MADV_FREE), 0);
    /* Not yet reclaimed: the page keeps its contents and its state. */
    ck_assert_int_eq(mem[3 * PAGE], 7);
    t_assert_written_pages(t, mem, 8, page1, 1);
    if (madvise(mem + 3 * PAGE, PAGE, MADV_PAGEOUT) == 0)
        ck_assert_int_eq(mincore(mem + 3 * PAGE, PAGE, &resident), 0);
    if (resident & 1) {
        t_skip("MADV_PAGEOUT did not reclaim a MADV_FREE page here");
        goto out;
    }
    ck_assert_int_eq(mem[3 * PAGE], 0);
    if (uffd()) {
        t_assert_written_pages(t, mem, 8, both, 2);
    } else {
        t_assert_written_pages(t, mem, 8, page1, 1);              /* ⚠ not seen */
    }
out:
    ww_tracker_close(t);
}
END_TEST

/* The text after "key" on the smaps line of the mapping holding addr
 * (e.g. "VmFlags:", "AnonHugePages:"), copied into out; asserts it exists. */
static void smaps_value(const void *addr, const char *key, char *out,
                        size_t len)
{
    FILE *f = fopen("/proc/self/smaps", "r");
    char line[512];
    int inside = 0, found = 0;

    ck_assert_ptr_nonnull(f);
    while (!found && fgets(line, sizeof(line), f)) {
        unsigned long lo, hi;

        if (line[strspn(line, "0123456789abcdef")] == '-' &&
            sscanf(line, "%lx-%lx", &lo, &hi) == 2)
            inside = lo <= (uintptr_t)addr && (uintptr_t)addr < hi;
        else if (inside && strncmp(line, key, strlen(key)) == 0) {
            snprintf(out, len, "%s", line + strlen(key));
            found = 1;
        }
    }
    fclose(f);
    ck_assert_msg(found, "no %s in smaps for %p", key, addr);
}

static long anon_huge_kb(const void *addr)
{
    char value[64];

    smaps_value(addr, "AnonHugePages:", value, sizeof(value));
    return strtol(value, NULL, 10);
}

static int advised_nohugepage(const void *addr)
{
    char flags[256];

    smaps_value(addr, "VmFlags:", flags, sizeof(flags));
    return strstr(flags, " nh") != NULL;
}

/* Row "transparent huge pages" (the advice itself): a watch is advised
 * MADV_NOHUGEPAGE on both backends, unless WW_WATCH_KEEP_HUGEPAGES. */
START_TEST(test_nohugepage_advice)
{
    ww_tracker *t = t_open();
    char *plain = t_map(4), *keep = t_map(4);

    ck_assert_int_eq(ww_watch(t, plain, 4 * PAGE, 0), 0);
    ck_assert_int_eq(ww_watch(t, keep, 4 * PAGE, WW_WATCH_KEEP_HUGEPAGES), 0);
    ck_assert(advised_nohugepage(plain));
    ck_assert(!advised_nohugepage(keep));
    ww_tracker_close(t);
}
END_TEST

static const char hole_msg[] =
    "a whole-PMD hole reads as clean: this kernel lacks 40de8160ca7f "
    "(fs/proc/task_mmu: fix PAGEMAP_SCAN written state for PMD holes); "
    "update README/libwritewatch(7)";

/* Row "a whole 2 MiB page-table hole", default watch (4 KiB pages):
 * MADV_DONTNEED of an aligned 2 MiB range empties a whole page table,
 * which CONFIG_PT_RECLAIM frees.  On 6.18.44 (and any kernel with
 * 40de8160ca7f) uffd reports all 512 pages, and the RESET re-arms the hole;
 * mprotect sees nothing, as for any MADV_DONTNEED. */
START_TEST(test_pmd_hole_default)
{
    ww_tracker *t = t_open();
    size_t n = 2 * HUGE_2M / PAGE, count;
    char *mem = t_map_aligned(n, HUGE_2M);
    size_t page700[] = { 700 }, page3[] = { 3 };

    memset(mem, 7, 2 * HUGE_2M);
    ck_assert_int_eq(ww_watch(t, mem, 2 * HUGE_2M, 0), 0);
    mem[700 * PAGE] = 1;
    ck_assert_int_eq(madvise(mem, HUGE_2M, MADV_DONTNEED), 0);
    count = t_count_written(t, mem, n);
    if (!uffd()) {
        t_assert_written_pages(t, mem, n, page700, 1);            /* ⚠ not seen */
    } else {
        ck_assert_msg(count == 513, "%zu pages reported: %s", count,
                      hole_msg);
        ck_assert_uint_eq(t_count_written_reset(t, mem, n), 513);
        ck_assert_uint_eq(t_count_written(t, mem, n), 0);
        mem[3 * PAGE] = 1;
        t_assert_written_pages(t, mem, n, page3, 1);
    }
    ww_tracker_close(t);
}
END_TEST

/* The same row with WW_WATCH_KEEP_HUGEPAGES and a THP zapped whole (a
 * hole on every kernel, CONFIG_PT_RECLAIM or not).  SKIP when no THP forms
 * here (transparent_hugepage=never). */
START_TEST(test_pmd_hole_thp)
{
    ww_tracker *t = t_open();
    size_t n = HUGE_2M / PAGE, count;
    char *mem = t_map_aligned(n, HUGE_2M);

    madvise(mem, HUGE_2M, MADV_HUGEPAGE);
    memset(mem, 7, HUGE_2M);
    if (anon_huge_kb(mem) == 0) {
        t_skip("no transparent huge page formed here");
        goto out;
    }
    ck_assert_int_eq(ww_watch(t, mem, HUGE_2M, WW_WATCH_KEEP_HUGEPAGES), 0);
    ck_assert_int_eq(madvise(mem, HUGE_2M, MADV_DONTNEED), 0);
    ck_assert_int_eq(mem[5 * PAGE], 0);
    count = t_count_written(t, mem, n);
    if (uffd()) {
        ck_assert_msg(count == n, "%zu pages reported: %s", count, hole_msg);
        ck_assert_uint_eq(t_count_written_reset(t, mem, n), n);
        ck_assert_uint_eq(t_count_written(t, mem, n), 0);
    } else {
        ck_assert_uint_eq(count, 0);                      /* ⚠ not seen */
    }
out:
    ww_tracker_close(t);
}
END_TEST

static void add_tests(TCase *tc, enum ww_backend backend)
{
    (void)backend;      /* every test expects each backend's own outcome */
    tcase_add_test(tc, test_uring_fixed_buffer_after_reset);
    tcase_add_test(tc, test_process_vm_writev);
    tcase_add_test(tc, test_odirect_read);
    tcase_add_test(tc, test_proc_self_mem);
    tcase_add_test(tc, test_mlock);
    tcase_add_test(tc, test_madv_dontneed);
    tcase_add_test(tc, test_madv_free_reclaimed);
    tcase_add_test(tc, test_nohugepage_advice);
    tcase_add_test(tc, test_pmd_hole_default);
    tcase_add_test(tc, test_pmd_hole_thp);
}

int main(void)
{
    Suite *s = suite_create("limits");

    t_add_backend_tcases(s, "limits", add_tests, 60);
    return t_run_suite(s);
}
