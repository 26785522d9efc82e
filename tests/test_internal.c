/*
 * test_internal.c - internal pieces tested directly: the registry's
 * ordering and lookups, the sink's merging and limits, and both ways of
 * classifying memory (PROCMAP_QUERY and the /proc/self/maps text fallback,
 * which this kernel would otherwise never run).
 */
#include <fcntl.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "helpers.h"

/* The units under test, compiled in so their static functions are
 * reachable. */
#include "registry.c"
#include "vma.c"

static struct ww__watch *new_watch(uintptr_t start, uintptr_t end)
{
    struct ww__watch *w = calloc(1, sizeof(*w));

    w->start = start;
    w->end = end;
    return w;
}

START_TEST(test_registry_order_and_lookup)
{
    struct ww__registry r = { 0 };
    uintptr_t starts[] = { 50, 10, 30, 70, 0 };
    struct ww__watch *w[5];

    for (int i = 0; i < 5; i++) {
        w[i] = new_watch(starts[i] * PAGE, (starts[i] + 10) * PAGE);
        ck_assert(!ww__registry_overlaps(&r, w[i]->start, w[i]->end));
        ck_assert_int_eq(ww__registry_reserve(&r), 0);
        ww__registry_insert(&r, w[i]);
    }
    for (size_t i = 1; i < r.n; i++)
        ck_assert_uint_lt(r.v[i - 1]->start, r.v[i]->start);
    ck_assert_ptr_eq(ww__registry_find(&r, 31 * PAGE, 40 * PAGE), w[2]);
    ck_assert_ptr_null(ww__registry_find(&r, 31 * PAGE, 41 * PAGE));
    ck_assert_ptr_null(ww__registry_find(&r, 20 * PAGE, 21 * PAGE));
    ck_assert_ptr_eq(ww__registry_find_exact(&r, 70 * PAGE, 80 * PAGE), w[3]);
    ck_assert_ptr_null(ww__registry_find_exact(&r, 70 * PAGE, 79 * PAGE));
    ck_assert(ww__registry_overlaps(&r, 9 * PAGE, 11 * PAGE));
    ck_assert(!ww__registry_overlaps(&r, 20 * PAGE, 30 * PAGE));
    ck_assert(ww__registry_overlaps(&r, 79 * PAGE, 90 * PAGE));
    ww__registry_remove(&r, w[2]);
    ck_assert_uint_eq(r.n, 4);
    ck_assert_ptr_null(ww__registry_find(&r, 31 * PAGE, 32 * PAGE));
    ww__registry_remove(&r, w[2]);     /* absent: no change */
    ck_assert_uint_eq(r.n, 4);
    for (int i = 0; i < 5; i++)
        free(w[i]);
    ww__registry_free(&r);
}
END_TEST

START_TEST(test_sink_pages_and_ranges)
{
    void *pages[3];
    struct ww_range ranges[2];
    struct ww__sink p = { .pages = pages, .cap = 3 };
    struct ww__sink g = { .ranges = ranges, .cap = 2 };

    ck_assert_uint_eq(ww__sink_room_pages(&p), 3);
    ck_assert_uint_eq(ww__sink_room_runs(&p), SIZE_MAX);
    ww__sink_put(&p, 10 * PAGE, 12 * PAGE);
    ww__sink_put(&p, 20 * PAGE, 21 * PAGE);
    ck_assert(ww__sink_full(&p));
    ck_assert_ptr_eq(pages[2], (void *)(20 * PAGE));

    ck_assert_uint_eq(ww__sink_room_pages(&g), SIZE_MAX);
    ww__sink_put(&g, 10 * PAGE, 12 * PAGE);
    ww__sink_put(&g, 12 * PAGE, 13 * PAGE);     /* adjacent: merged */
    ck_assert_uint_eq(g.n, 1);
    ck_assert_uint_eq(ranges[0].len, 3 * PAGE);
    ww__sink_put(&g, 20 * PAGE, 21 * PAGE);
    ck_assert_uint_eq(ww__sink_room_runs(&g), 0);
}
END_TEST

/* Both classifiers must agree on every kind of memory. */
static void check_both(uintptr_t start, uintptr_t end, int expect)
{
    int fd = open("/proc/self/maps", O_RDONLY);
    int q = check_by_query(fd, start, end, 0);

    ck_assert_int_eq(check_by_text(fd, start, end, 0), expect);
    if (q != -ENOTTY)
        ck_assert_int_eq(q, expect);
    ck_assert_int_eq(ww__check_private_anonymous(start, end, 0), expect);
    close(fd);
}

/* Both classifiers on the read-write requirement of the mprotect backend. */
static void check_read_write(uintptr_t start, uintptr_t end, int expect)
{
    int fd = open("/proc/self/maps", O_RDONLY);
    int q = check_by_query(fd, start, end, WW__VMA_READ_WRITE);

    ck_assert_int_eq(check_by_text(fd, start, end, WW__VMA_READ_WRITE), expect);
    if (q != -ENOTTY)
        ck_assert_int_eq(q, expect);
    close(fd);
}

START_TEST(test_classify_memory)
{
    char *anon = test_map(8), *shared = test_map_shared(2);
    char *file = test_map_file(2);

    check_both((uintptr_t)anon, (uintptr_t)anon + 8 * PAGE, 0);
    /* Split into several VMAs by protection: still private anonymous, but
     * no longer all read-write. */
    mprotect(anon + 2 * PAGE, PAGE, PROT_READ);
    check_both((uintptr_t)anon, (uintptr_t)anon + 8 * PAGE, 0);
    check_read_write((uintptr_t)anon, (uintptr_t)anon + 8 * PAGE, -ENOTSUP);
    check_read_write((uintptr_t)anon + 3 * PAGE, (uintptr_t)anon + 8 * PAGE,
                     0);
    mprotect(anon + 6 * PAGE, PAGE, PROT_READ | PROT_WRITE | PROT_EXEC);
    check_read_write((uintptr_t)anon + 3 * PAGE, (uintptr_t)anon + 8 * PAGE,
                     -ENOTSUP);
    check_both((uintptr_t)shared, (uintptr_t)shared + 2 * PAGE, -ENOTSUP);
    check_both((uintptr_t)file, (uintptr_t)file + 2 * PAGE, -ENOTSUP);
    munmap(anon + 5 * PAGE, PAGE);
    check_both((uintptr_t)anon, (uintptr_t)anon + 8 * PAGE, -EFAULT);
    check_both((uintptr_t)anon, (uintptr_t)anon + 5 * PAGE, 0);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("internal");
    TCase *tc = tcase_create("internal");

    tcase_add_test(tc, test_registry_order_and_lookup);
    tcase_add_test(tc, test_sink_pages_and_ranges);
    tcase_add_test(tc, test_classify_memory);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
