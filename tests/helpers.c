/* helpers.c - see helpers.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "helpers.h"

enum ww_backend test_backend = WW_BACKEND_UFFD;

/* AddressSanitizer reads this at start-up, before main and before any
 * environment a test runner might forget: with its own SIGSEGV handler
 * installed, a test that expects death by SIGSEGV would see ASan's report
 * and exit(1) instead.  The mprotect backend chains to whatever handler
 * was there first, so without ASan's the default action applies.  (A
 * plain function in builds without ASan.) */
const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
    return "handle_segv=0";
}

ww_tracker *test_open(void)
{
    ww_tracker *t = NULL;
    int r = ww_tracker_open(&t, test_backend, 0);

    ck_assert_msg(r == 0, "ww_tracker_open(%s): %s",
                  ww_backend_name(test_backend), ww_strerror(r));
    ck_assert_int_eq(ww_tracker_backend(t), test_backend);
    return t;
}

char *test_map(size_t n)
{
    void *p = mmap(NULL, n * PAGE, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

    ck_assert_msg(p != MAP_FAILED, "mmap %zu pages: %s", n, strerror(errno));
    return p;
}

char *test_map_aligned(size_t n, size_t align)
{
    size_t len = n * PAGE;
    char *p = test_map(n + align / PAGE);
    char *a = (char *)(((uintptr_t)p + align - 1) & ~(uintptr_t)(align - 1));

    if (a > p)
        munmap(p, (size_t)(a - p));
    if (a + len < p + len + align)
        munmap(a + len, (size_t)(p + len + align - (a + len)));
    return a;
}

char *test_map_shared(size_t n)
{
    void *p = mmap(NULL, n * PAGE, PROT_READ | PROT_WRITE,
                   MAP_SHARED | MAP_ANONYMOUS, -1, 0);

    ck_assert_msg(p != MAP_FAILED, "mmap shared: %s", strerror(errno));
    return p;
}

char *test_map_file(size_t n)
{
    char path[] = "/tmp/ww-test-XXXXXX";
    int fd = mkstemp(path);
    void *p;

    ck_assert_int_ge(fd, 0);
    unlink(path);
    ck_assert_int_eq(ftruncate(fd, (off_t)(n * PAGE)), 0);
    p = mmap(NULL, n * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
    ck_assert_msg(p != MAP_FAILED, "mmap file: %s", strerror(errno));
    close(fd);      /* the mapping keeps the file */
    return p;
}

void assert_child_faults(volatile char *p, int store)
{
    int status;
    pid_t pid;

    fflush(NULL);
    pid = fork();
    ck_assert_int_ne(pid, -1);
    if (pid == 0) {
        struct rlimit no_core = { 0, 0 };

        setrlimit(RLIMIT_CORE, &no_core);
        if (store)
            *p = 1;
        else
            (void)*p;
        _exit(0);
    }
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert_msg(WIFSIGNALED(status) && WTERMSIG(status) == SIGSEGV,
                  "%s at page offset %#lx: status %#x, expected SIGSEGV",
                  store ? "store" : "load",
                  (unsigned long)((uintptr_t)p % PAGE), (unsigned)status);
}

void munmap_pages(char *base, size_t n)
{
    ck_assert_int_eq(munmap(base, n * PAGE), 0);
}

void write_pages(char *base, const size_t *idx, size_t n)
{
    for (size_t i = 0; i < n; i++)
        ((volatile char *)base)[idx[i] * PAGE + 1] = 1;
}

void assert_pages(void **got, size_t n_got, char *base, const size_t *idx,
                  size_t n)
{
    ck_assert_uint_eq(n_got, n);
    for (size_t i = 0; i < n; i++)
        ck_assert_msg(got[i] == base + idx[i] * PAGE,
                      "entry %zu: page %td, expected page %zu", i,
                      ((char *)got[i] - base) / (ptrdiff_t)PAGE, idx[i]);
}

size_t count_written(ww_tracker *t, char *base, size_t n)
{
    void **pages = calloc(n, sizeof(*pages));
    size_t count = n;
    int r;

    ck_assert_ptr_nonnull(pages);
    r = ww_get(t, base, n * PAGE, 0, pages, &count);
    ck_assert_msg(r == 0, "ww_get: %s", ww_strerror(r));
    free(pages);
    return count;
}

int test_spawn_self(const char *mode)
{
    int status = 0;
    pid_t pid;

    fflush(NULL);
    pid = fork();
    ck_assert_int_ne(pid, -1);
    if (pid == 0) {
        execl("/proc/self/exe", "test", "--child", mode, (char *)NULL);
        _exit(127);
    }
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    return status;
}

const char *test_child_mode(int argc, char **argv)
{
    return argc == 3 && strcmp(argv[1], "--child") == 0 ? argv[2] : NULL;
}

static void setup_uffd(void) { test_backend = WW_BACKEND_UFFD; }
static void setup_mprotect(void) { test_backend = WW_BACKEND_MPROTECT; }

int test_backend_required(enum ww_backend b)
{
    const char *req = getenv("WW_TEST_REQUIRE");

    return req && strstr(req, ww_backend_name(b)) != NULL;
}

void add_backend_tcases(Suite *s, const char *name, void (*add_tests)(TCase *, enum ww_backend),
                        int timeout_seconds)
{
    static const struct {
        enum ww_backend id;
        void (*setup)(void);
    } list[] = {
        { WW_BACKEND_UFFD, setup_uffd },
        { WW_BACKEND_MPROTECT, setup_mprotect },
    };

    for (size_t i = 0; i < sizeof(list) / sizeof(list[0]); i++) {
        int avail = ww_backend_available(list[i].id);
        /* Check keeps the pointer: static storage, so nothing leaks. */
        static char names[16][128];
        static size_t n_names;
        char *tname;
        TCase *tc;

        if (avail != 0 && !test_backend_required(list[i].id)) {
            fprintf(stderr, "SKIP %s:%s: backend unavailable here (%s)\n",
                    name, ww_backend_name(list[i].id), ww_strerror(avail));
            continue;
        }
        if (n_names == sizeof(names) / sizeof(names[0]))
            abort();
        tname = names[n_names++];
        snprintf(tname, sizeof(names[0]), "%s:%s", name,
                 ww_backend_name(list[i].id));
        tc = tcase_create(tname);
        tcase_add_checked_fixture(tc, list[i].setup, NULL);
        tcase_set_timeout(tc, timeout_seconds);
        add_tests(tc, list[i].id);
        suite_add_tcase(s, tc);
    }
}

int run_suite(Suite *s)
{
    SRunner *sr = srunner_create(s);
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
