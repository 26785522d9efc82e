/*
 * test_errors.c - every bad input gives its documented error and changes
 * nothing: after each failing call, the page written before it is still
 * reported and the caller's count is untouched.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "helpers.h"

enum { N = 16 };

struct fixture {
    ww_tracker *t;
    char *mem;
};

/* A tracker watching N pages with page 3 written. */
static struct fixture make_fixture(void)
{
    struct fixture f = { test_open(), test_map(N) };
    size_t three[] = { 3 };

    ck_assert_int_eq(ww_watch(f.t, f.mem, N * PAGE, 0), 0);
    write_pages(f.mem, three, 1);
    return f;
}

/* The state is as make_fixture left it: page 3 and only page 3 written. */
static void assert_unchanged(struct fixture *f)
{
    void *pages[N];
    size_t count = N, three[] = { 3 };

    ck_assert_int_eq(ww_get(f->t, f->mem, N * PAGE, 0, pages, &count), 0);
    assert_pages(pages, count, f->mem, three, 1);
}

START_TEST(test_open_errors)
{
    ww_tracker *t = (ww_tracker *)&t;

    ck_assert_int_eq(ww_tracker_open(NULL, WW_BACKEND_AUTO, 0), -EINVAL);
    ck_assert_int_eq(ww_tracker_open(&t, test_backend, 1), -EINVAL);
    ck_assert_ptr_null(t);
    t = (ww_tracker *)&t;
    ck_assert_int_eq(ww_tracker_open(&t, (enum ww_backend)7, 0), -EINVAL);
    ck_assert_ptr_null(t);
    setenv("WW_BACKEND", "nonsense", 1);
    ck_assert_int_eq(ww_tracker_open(&t, WW_BACKEND_AUTO, 0), -EINVAL);
    /* The variable only overrides AUTO. */
    ck_assert_int_eq(ww_tracker_open(&t, test_backend, 0), 0);
    ww_tracker_close(t);
    setenv("WW_BACKEND", ww_backend_name(test_backend), 1);
    ck_assert_int_eq(ww_tracker_open(&t, WW_BACKEND_AUTO, 0), 0);
    ck_assert_int_eq(ww_tracker_backend(t), test_backend);
    ww_tracker_close(t);
    unsetenv("WW_BACKEND");
    ck_assert_int_eq(ww_tracker_backend(NULL), WW_BACKEND_AUTO);
    ck_assert_str_eq(ww_backend_name((enum ww_backend)9), "?");
}
END_TEST

START_TEST(test_watch_errors)
{
    struct fixture f = make_fixture();
    char *other = test_map(4);
    uintptr_t top = UINTPTR_MAX & ~(uintptr_t)(PAGE - 1);

    ck_assert_int_eq(ww_watch(NULL, other, PAGE, 0), -EINVAL);
    ck_assert_int_eq(ww_watch(f.t, other + 1, PAGE, 0), -EINVAL);
    ck_assert_int_eq(ww_watch(f.t, other, PAGE + 1, 0), -EINVAL);
    ck_assert_int_eq(ww_watch(f.t, other, 0, 0), -EINVAL);
    ck_assert_int_eq(ww_watch(f.t, (void *)top, 2 * PAGE, 0), -EINVAL);
    ck_assert_int_eq(ww_watch(f.t, other, PAGE, 0x80), -EINVAL);
    /* Overlaps, exact or partial. */
    ck_assert_int_eq(ww_watch(f.t, f.mem, N * PAGE, 0), -EEXIST);
    ck_assert_int_eq(ww_watch(f.t, f.mem + 2 * PAGE, PAGE, 0), -EEXIST);
    ck_assert_int_eq(ww_watch(f.t, f.mem - PAGE, 2 * PAGE, 0), -EEXIST);
    /* Not mapped. */
    munmap(other + 2 * PAGE, PAGE);
    ck_assert_int_eq(ww_watch(f.t, other, 4 * PAGE, 0), -EFAULT);
    assert_unchanged(&f);
    ww_tracker_close(f.t);
}
END_TEST

START_TEST(test_watch_overlap_across_trackers)
{
    struct fixture f = make_fixture();
    ww_tracker *t2 = test_open();

    ck_assert_int_eq(ww_watch(t2, f.mem + PAGE, PAGE, 0), -EEXIST);
    assert_unchanged(&f);
    ww_tracker_close(t2);
    ww_tracker_close(f.t);
}
END_TEST

/* Shared and file-backed memory is refused: writes through another mapping
 * of the same object could never be seen. */
START_TEST(test_watch_rejects_non_anonymous_memory)
{
    ww_tracker *t = test_open();
    char *shared = test_map_shared(4), *file = test_map_file(4);

    ck_assert_int_eq(ww_watch(t, shared, 4 * PAGE, 0), -ENOTSUP);
    ck_assert_int_eq(ww_watch(t, file, 4 * PAGE, 0), -ENOTSUP);
    shared[0] = 1;          /* untouched by the failed watches */
    file[0] = 1;
    ww_tracker_close(t);
}
END_TEST

START_TEST(test_unwatch_errors)
{
    struct fixture f = make_fixture();

    ck_assert_int_eq(ww_unwatch(NULL, f.mem, N * PAGE), -EINVAL);
    ck_assert_int_eq(ww_unwatch(f.t, f.mem + 1, N * PAGE), -EINVAL);
    ck_assert_int_eq(ww_unwatch(f.t, f.mem, 0), -EINVAL);
    /* Only a whole watch can be unwatched. */
    ck_assert_int_eq(ww_unwatch(f.t, f.mem, PAGE), -ENOENT);
    ck_assert_int_eq(ww_unwatch(f.t, f.mem + PAGE, (N - 1) * PAGE), -ENOENT);
    ck_assert_int_eq(ww_unwatch(f.t, f.mem, (N + 1) * PAGE), -ENOENT);
    assert_unchanged(&f);
    ck_assert_int_eq(ww_unwatch(f.t, f.mem, N * PAGE), 0);
    ck_assert_int_eq(ww_unwatch(f.t, f.mem, N * PAGE), -ENOENT);
    ww_tracker_close(f.t);
}
END_TEST

START_TEST(test_get_errors)
{
    struct fixture f = make_fixture();
    uintptr_t top = UINTPTR_MAX & ~(uintptr_t)(PAGE - 1);
    void *pages[N];
    struct ww_range ranges[N];
    size_t count = N, zero = 0;

    ck_assert_int_eq(ww_get(NULL, f.mem, N * PAGE, 0, pages, &count), -EINVAL);
    ck_assert_int_eq(ww_get(f.t, f.mem, N * PAGE, 0, NULL, &count), -EINVAL);
    ck_assert_int_eq(ww_get(f.t, f.mem, N * PAGE, 0, pages, NULL), -EINVAL);
    ck_assert_int_eq(ww_get(f.t, f.mem, N * PAGE, 0, pages, &zero), -EINVAL);
    ck_assert_uint_eq(zero, 0);
    ck_assert_int_eq(ww_get(f.t, f.mem, N * PAGE, 2, pages, &count), -EINVAL);
    ck_assert_int_eq(ww_get(f.t, f.mem + 1, PAGE, 0, pages, &count), -EINVAL);
    ck_assert_int_eq(ww_get(f.t, f.mem, PAGE - 1, 0, pages, &count), -EINVAL);
    ck_assert_int_eq(ww_get(f.t, f.mem, 0, 0, pages, &count), -EINVAL);
    ck_assert_int_eq(ww_get(f.t, (void *)top, 2 * PAGE, 0, pages, &count),
                     -EINVAL);
    /* Outside, straddling either end, unwatched memory. */
    ck_assert_int_eq(ww_get(f.t, f.mem, (N + 1) * PAGE, WW_GET_RESET, pages,
                            &count), -ENOENT);
    ck_assert_int_eq(ww_get(f.t, f.mem - PAGE, 2 * PAGE, WW_GET_RESET, pages,
                            &count), -ENOENT);
    ck_assert_int_eq(ww_get(f.t, (void *)PAGE, PAGE, 0, pages, &count),
                     -ENOENT);
    ck_assert_int_eq(ww_get_ranges(f.t, f.mem, N * PAGE, 0, NULL, &count),
                     -EINVAL);
    ck_assert_int_eq(ww_get_ranges(f.t, f.mem, N * PAGE, 0, ranges, &zero),
                     -EINVAL);
    ck_assert_int_eq(ww_get_ranges(f.t, f.mem, (N + 1) * PAGE, WW_GET_RESET,
                                   ranges, &count), -ENOENT);
    ck_assert_uint_eq(count, N);    /* never changed by a failure */
    assert_unchanged(&f);
    ww_tracker_close(f.t);
}
END_TEST

START_TEST(test_reset_and_mark_errors)
{
    struct fixture f = make_fixture();

    ck_assert_int_eq(ww_reset(NULL, f.mem, PAGE), -EINVAL);
    ck_assert_int_eq(ww_reset(f.t, f.mem + 1, PAGE), -EINVAL);
    ck_assert_int_eq(ww_reset(f.t, f.mem, 0), -EINVAL);
    ck_assert_int_eq(ww_reset(f.t, f.mem, (N + 1) * PAGE), -ENOENT);
    ck_assert_int_eq(ww_reset(f.t, f.mem - PAGE, 4 * PAGE), -ENOENT);
    ck_assert_int_eq(ww_mark_written(NULL, f.mem, PAGE), -EINVAL);
    ck_assert_int_eq(ww_mark_written(f.t, f.mem, PAGE + 7), -EINVAL);
    ck_assert_int_eq(ww_mark_written(f.t, f.mem, (N + 1) * PAGE), -ENOENT);
    assert_unchanged(&f);
    ww_tracker_close(f.t);
}
END_TEST

START_TEST(test_alloc_errors)
{
    ww_tracker *t = test_open();
    void *p = (void *)1;

    ck_assert_int_eq(ww_alloc(t, PAGE, 0, NULL), -EINVAL);
    ck_assert_int_eq(ww_alloc(NULL, PAGE, 0, &p), -EINVAL);
    ck_assert_ptr_null(p);
    ck_assert_int_eq(ww_alloc(t, 0, 0, &p), -EINVAL);
    ck_assert_int_eq(ww_alloc(t, PAGE + 1, 0, &p), -EINVAL);
    ck_assert_int_eq(ww_alloc(t, PAGE, 0x40, &p), -EINVAL);
    ck_assert_ptr_null(p);
    ck_assert_int_eq(ww_alloc(t, (size_t)1 << 62, 0, &p), -ENOMEM);
    ww_tracker_close(t);
}
END_TEST

START_TEST(test_strerror)
{
    ck_assert_str_eq(ww_strerror(0), "success");
    ck_assert_ptr_nonnull(strstr(ww_strerror(-ESTALE), "unmapped"));
    ck_assert_ptr_nonnull(strstr(ww_strerror(ECHILD), "fork"));
    ck_assert_str_eq(ww_strerror(-12345), "unexpected error");
}
END_TEST

static void add_tests(TCase *tc, enum ww_backend backend)
{
    (void)backend;      /* every test applies to every backend */
    tcase_add_test(tc, test_open_errors);
    tcase_add_test(tc, test_watch_errors);
    tcase_add_test(tc, test_watch_overlap_across_trackers);
    tcase_add_test(tc, test_watch_rejects_non_anonymous_memory);
    tcase_add_test(tc, test_unwatch_errors);
    tcase_add_test(tc, test_get_errors);
    tcase_add_test(tc, test_reset_and_mark_errors);
    tcase_add_test(tc, test_alloc_errors);
    tcase_add_test(tc, test_strerror);
}

int main(void)
{
    Suite *s = suite_create("errors");

    add_backend_tcases(s, "errors", add_tests, 30);
    return run_suite(s);
}
