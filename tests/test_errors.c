/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * test_errors.c - every bad input gives its documented error and changes
 * nothing: after each failing call, the page written before it is still
 * reported and the caller's count is untouched.  Most cases are rows of
 * one table (BAD_INPUTS); calls that need a setup of their own follow.
 */
#include "config.h"

#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
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
    struct fixture f = { t_open(), NULL };
    size_t three[] = { 3 };

    f.mem = t_watched(f.t, N);
    t_write_pages(f.mem, three, 1);
    return f;
}

/* The state is as make_fixture left it: page 3 and only page 3 written. */
static void assert_unchanged(struct fixture *f)
{
    void *pages[N];
    size_t count = N, three[] = { 3 };

    ck_assert_int_eq(ww_get(f->t, f->mem, N * PAGE, 0, pages, &count), 0);
    t_assert_pages(pages, count, f->mem, three, 1);
}

START_TEST(test_open_errors)
{
    ww_tracker *t = (ww_tracker *)&t;

    ck_assert_int_eq(ww_tracker_open(NULL, WW_BACKEND_AUTO, 0), -EINVAL);
    ck_assert_int_eq(ww_tracker_open(&t, t_backend, 1), -EINVAL);
    ck_assert_ptr_null(t);
    t = (ww_tracker *)&t;
    ck_assert_int_eq(ww_tracker_open(&t, (enum ww_backend)7, 0), -EINVAL);
    ck_assert_ptr_null(t);
    setenv("WW_BACKEND", "nonsense", 1);
    ck_assert_int_eq(ww_tracker_open(&t, WW_BACKEND_AUTO, 0), -EINVAL);
    /* Issue 11, defect 12: availability is what open would answer. */
    ck_assert_int_eq(ww_backend_available(WW_BACKEND_AUTO), -EINVAL);
    /* The variable only overrides AUTO. */
    ck_assert_int_eq(ww_tracker_open(&t, t_backend, 0), 0);
    ww_tracker_close(t);
    setenv("WW_BACKEND", ww_backend_name(t_backend), 1);
    ck_assert_int_eq(ww_backend_available(WW_BACKEND_AUTO),
                     ww_backend_available(t_backend));
    ck_assert_int_eq(ww_tracker_open(&t, WW_BACKEND_AUTO, 0), 0);
    ck_assert_int_eq(ww_tracker_backend(t), t_backend);
    ww_tracker_close(t);
    unsetenv("WW_BACKEND");
    ck_assert_int_eq(ww_tracker_backend(NULL), WW_BACKEND_AUTO);
    ck_assert_str_eq(ww_backend_name((enum ww_backend)9), "?");
}
END_TEST

/*
 * The bad-input table: every public function that takes a tracker and a
 * range, with every kind of invalid argument.  F is the fixture (a watch
 * of N pages at F->mem with page 3 written), OTHER an unwatched mapping of
 * 4 pages whose page 2 is unmapped, TOP the last page of the address space,
 * P/C/Z/R the output arrays, a count of N and a count of 0.  Each row runs
 * against a fresh fixture, must return its error, and must leave the
 * fixture as it was and the count untouched.
 */
#define M (F->mem)
#define BAD_INPUTS(X)                                                        \
    /* ww_watch */                                                           \
    X(ww_watch(NULL, OTHER, PAGE, 0), -EINVAL)                               \
    X(ww_watch(F->t, OTHER + 1, PAGE, 0), -EINVAL)                           \
    X(ww_watch(F->t, OTHER, PAGE + 1, 0), -EINVAL)                           \
    X(ww_watch(F->t, OTHER, 0, 0), -EINVAL)                                  \
    X(ww_watch(F->t, TOP, 2 * PAGE, 0), -EINVAL)                             \
    X(ww_watch(F->t, OTHER, PAGE, 0x80), -EINVAL)                            \
    X(ww_watch(F->t, M, N * PAGE, 0), -EEXIST)                               \
    X(ww_watch(F->t, M + 2 * PAGE, PAGE, 0), -EEXIST)                        \
    X(ww_watch(F->t, M - PAGE, 2 * PAGE, 0), -EEXIST)                        \
    X(ww_watch(F->t, OTHER, 4 * PAGE, 0), -EFAULT)                           \
    /* ww_unwatch */                                                         \
    X(ww_unwatch(NULL, M, N * PAGE), -EINVAL)                                \
    X(ww_unwatch(F->t, M + 1, N * PAGE), -EINVAL)                            \
    X(ww_unwatch(F->t, M, 0), -EINVAL)                                       \
    X(ww_unwatch(F->t, M, PAGE), -ENOENT)                                    \
    X(ww_unwatch(F->t, M + PAGE, (N - 1) * PAGE), -ENOENT)                   \
    X(ww_unwatch(F->t, M, (N + 1) * PAGE), -ENOENT)                          \
    X(ww_unwatch(F->t, OTHER, PAGE), -ENOENT)                                \
    /* ww_get */                                                             \
    X(ww_get(NULL, M, N * PAGE, 0, P, C), -EINVAL)                           \
    X(ww_get(F->t, M, N * PAGE, 0, NULL, C), -EINVAL)                        \
    X(ww_get(F->t, M, N * PAGE, 0, P, NULL), -EINVAL)                        \
    X(ww_get(F->t, M, N * PAGE, 0, P, Z), -EINVAL)                           \
    X(ww_get(F->t, M, N * PAGE, 2, P, C), -EINVAL)                           \
    X(ww_get(F->t, M + 1, PAGE, 0, P, C), -EINVAL)                           \
    X(ww_get(F->t, M, PAGE - 1, 0, P, C), -EINVAL)                           \
    X(ww_get(F->t, M, 0, 0, P, C), -EINVAL)                                  \
    X(ww_get(F->t, TOP, 2 * PAGE, 0, P, C), -EINVAL)                         \
    X(ww_get(F->t, M, (N + 1) * PAGE, WW_GET_RESET, P, C), -ENOENT)          \
    X(ww_get(F->t, M - PAGE, 2 * PAGE, WW_GET_RESET, P, C), -ENOENT)         \
    X(ww_get(F->t, OTHER, PAGE, 0, P, C), -ENOENT)                           \
    X(ww_get(F->t, (void *)PAGE, PAGE, 0, P, C), -ENOENT)                    \
    /* ww_get_ranges */                                                      \
    X(ww_get_ranges(NULL, M, N * PAGE, 0, R, C), -EINVAL)                    \
    X(ww_get_ranges(F->t, M, N * PAGE, 0, NULL, C), -EINVAL)                 \
    X(ww_get_ranges(F->t, M, N * PAGE, 0, R, NULL), -EINVAL)                 \
    X(ww_get_ranges(F->t, M, N * PAGE, 0, R, Z), -EINVAL)                    \
    X(ww_get_ranges(F->t, M, N * PAGE, 4, R, C), -EINVAL)                    \
    X(ww_get_ranges(F->t, M + 8, PAGE, 0, R, C), -EINVAL)                    \
    X(ww_get_ranges(F->t, M, (N + 1) * PAGE, WW_GET_RESET, R, C), -ENOENT)   \
    /* ww_reset */                                                           \
    X(ww_reset(NULL, M, PAGE), -EINVAL)                                      \
    X(ww_reset(F->t, M + 1, PAGE), -EINVAL)                                  \
    X(ww_reset(F->t, M, 0), -EINVAL)                                         \
    X(ww_reset(F->t, TOP, 2 * PAGE), -EINVAL)                                \
    X(ww_reset(F->t, M, (N + 1) * PAGE), -ENOENT)                            \
    X(ww_reset(F->t, M - PAGE, 4 * PAGE), -ENOENT)                           \
    /* ww_mark_written */                                                    \
    X(ww_mark_written(NULL, M, PAGE), -EINVAL)                               \
    X(ww_mark_written(F->t, M, PAGE + 7), -EINVAL)                           \
    X(ww_mark_written(F->t, M, 0), -EINVAL)                                  \
    X(ww_mark_written(F->t, M, (N + 1) * PAGE), -ENOENT)                     \
    X(ww_mark_written(F->t, OTHER, PAGE), -ENOENT)                           \
    /* ww_free (ww_alloc has its own test: it maps memory) */                \
    X(ww_free(NULL, M, N * PAGE), -EINVAL)                                   \
    X(ww_free(F->t, M, PAGE), -ENOENT)

/* Run row i of the table; INT_MIN past its end. */
static int run_row(size_t i, struct fixture *F, char *OTHER, size_t *C)
{
    void *TOP = (void *)(UINTPTR_MAX & ~(uintptr_t)(PAGE - 1));
    void *P[N];
    struct ww_range R[N];
    size_t zero = 0, *Z = &zero, row = 0;

#define X(call, err)                                                         \
    if (i == row++)                                                          \
        return (call);
    BAD_INPUTS(X)
#undef X
    (void)TOP, (void)P, (void)R, (void)Z, (void)OTHER, (void)C;
    return INT_MIN;
}

static const struct {
    const char *call;
    int err;
} bad_inputs[] = {
#define X(call, err) { #call, err },
    BAD_INPUTS(X)
#undef X
};

/* Append a line to the report of failed rows (the rest is dropped). */
static void note(char *report, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void note(char *report, size_t size, const char *fmt, ...)
{
    size_t len = strlen(report);
    va_list ap;

    if (len + 1 >= size)
        return;
    report[len++] = '\n';
    va_start(ap, fmt);
    vsnprintf(report + len, size - len, fmt, ap);
    va_end(ap);
}

/* Every row runs; the failure lists every row that went wrong. */
START_TEST(test_bad_input_table)
{
    size_t n_rows = sizeof(bad_inputs) / sizeof(bad_inputs[0]), failed = 0;
    char report[4096] = "";

    for (size_t i = 0; i < n_rows; i++) {
        struct fixture f = make_fixture();
        char *other = t_map(4);
        size_t count = N, written[N], n_written;
        int r;

        munmap(other + 2 * PAGE, PAGE);
        r = run_row(i, &f, other, &count);
        /* The state must stay as make_fixture left it: page 3 written. */
        if (t_written(f.t, f.mem, N, 0, written, &n_written) != 0 ||
            n_written != 1 || written[0] != 3)
            n_written = SIZE_MAX;
        if (r != bad_inputs[i].err || count != N || n_written == SIZE_MAX) {
            note(report, sizeof(report), "%s: %d (%s), expected %d%s%s",
                 bad_inputs[i].call, r, ww_strerror(r), bad_inputs[i].err,
                 count != N ? "; changed the count" : "",
                 n_written == SIZE_MAX ? "; changed the written pages" : "");
            failed++;
        }
        ww_tracker_close(f.t);
        t_munmap_pages(f.mem, N);
        munmap(other, 2 * PAGE);
        munmap(other + 3 * PAGE, PAGE);
    }
    ck_assert_msg(failed == 0, "%zu of %zu rows failed:%s", failed, n_rows,
                  report);
}
END_TEST

START_TEST(test_watch_overlap_across_trackers)
{
    struct fixture f = make_fixture();
    ww_tracker *t2 = t_open();

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
    ww_tracker *t = t_open();
    char *shared = t_map_shared(4), *file = t_map_file(4);

    ck_assert_int_eq(ww_watch(t, shared, 4 * PAGE, 0), -ENOTSUP);
    ck_assert_int_eq(ww_watch(t, file, 4 * PAGE, 0), -ENOTSUP);
    shared[0] = 1;          /* untouched by the failed watches */
    file[0] = 1;
    ww_tracker_close(t);
}
END_TEST

/* Unwatch succeeds once; a second time the watch is gone. */
START_TEST(test_double_unwatch)
{
    struct fixture f = make_fixture();
    void *pages[N];
    size_t count = N;

    ck_assert_int_eq(ww_unwatch(f.t, f.mem, N * PAGE), 0);
    ck_assert_int_eq(ww_unwatch(f.t, f.mem, N * PAGE), -ENOENT);
    ck_assert_int_eq(ww_get(f.t, f.mem, N * PAGE, 0, pages, &count), -ENOENT);
    ww_tracker_close(f.t);
}
END_TEST

START_TEST(test_alloc_errors)
{
    ww_tracker *t = t_open();
    void *p = (void *)1;

    ck_assert_int_eq(ww_alloc(t, PAGE, 0, NULL), -EINVAL);
    ck_assert_int_eq(ww_alloc(NULL, PAGE, 0, &p), -EINVAL);
    ck_assert_ptr_null(p);
    ck_assert_int_eq(ww_alloc(t, 0, 0, &p), -EINVAL);
    ck_assert_int_eq(ww_alloc(t, PAGE + 1, 0, &p), -EINVAL);
    ck_assert_int_eq(ww_alloc(t, PAGE, 0x40, &p), -EINVAL);
    ck_assert_ptr_null(p);
    ck_assert_int_eq(ww_alloc(t, T_HUGE_SIZE, 0, &p), -ENOMEM);
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
    tcase_add_test(tc, test_bad_input_table);
    tcase_add_test(tc, test_watch_overlap_across_trackers);
    tcase_add_test(tc, test_watch_rejects_non_anonymous_memory);
    tcase_add_test(tc, test_double_unwatch);
    tcase_add_test(tc, test_alloc_errors);
    tcase_add_test(tc, test_strerror);
}

int main(void)
{
    Suite *s = suite_create("errors");

    t_add_backend_tcases(s, "errors", add_tests, 30);
    return t_run_suite(s);
}
