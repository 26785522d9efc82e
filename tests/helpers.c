/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* helpers.c - see helpers.h. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <signal.h>
#include <sys/wait.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <unistd.h>
#include <linux/userfaultfd.h>

#include "helpers.h"

enum ww_backend t_backend = WW_BACKEND_UFFD;

/* AddressSanitizer reads this at start-up, before main and before any
 * environment a test runner might forget: with its own SIGSEGV handler
 * installed, a test that expects death by SIGSEGV would see ASan's report
 * and exit(1) instead.  The mprotect backend chains to whatever handler
 * was there first, so without ASan's the default action applies.  (A
 * plain function in builds without ASan.)
 * And malloc may return NULL, as glibc's does: at the VMA limit
 * (test_vma_limit) every allocation needing a new mapping fails, which the
 * library takes in its stride, but ASan's allocator dies on the failed
 * mmap ("ERROR: Failed to mmap") unless told to return NULL. */
const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
    return "handle_segv=0:allocator_may_return_null=1";
}

/* ThreadSanitizer's own SIGSEGV handler would turn a child's death by
 * SIGSEGV, which several tests expect (a forbidden write), into its
 * report and exit status 66. */
const char *__tsan_default_options(void);
const char *__tsan_default_options(void)
{
    return "handle_segv=0";
}

/* Threads ask at once (test_win32_vm's table workers): atomic. */
size_t t_page_size(void)
{
    static atomic_size_t size;
    size_t s = atomic_load_explicit(&size, memory_order_relaxed);

    if (!s) {
        s = (size_t)sysconf(_SC_PAGESIZE);
        atomic_store_explicit(&size, s, memory_order_relaxed);
    }
    return s;
}

/* In a helper called as NAME_at(__FILE__, __LINE__, ...): fail the test at
 * the caller's line, not here. */
#define expect_at(cond, ...)                                                \
    do {                                                                    \
        if (!(cond))                                                        \
            _ck_assert_failed(file, line, "Assertion '" #cond "' failed",   \
                              __VA_ARGS__);                                 \
    } while (0)

ww_tracker *t_open_at(const char *file, int line)
{
    ww_tracker *t = NULL;
    int r = ww_tracker_open(&t, t_backend, 0);

    expect_at(r == 0, "ww_tracker_open(%s): %s",
              ww_backend_name(t_backend), ww_strerror(r));
    expect_at(ww_tracker_backend(t) == t_backend, "backend %d",
              (int)ww_tracker_backend(t));
    return t;
}

char *t_map_at(const char *file, int line, size_t n)
{
    void *p = mmap(NULL, n * PAGE, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

    expect_at(p != MAP_FAILED, "mmap %zu pages: %s", n, strerror(errno));
    return p;
}

char *t_watched_at(const char *file, int line, ww_tracker *t, size_t n)
{
    char *mem = t_map_at(file, line, n);
    int r = ww_watch(t, mem, n * PAGE, 0);

    ck_assert_msg(r == 0, "%s:%d: ww_watch of %zu pages: %s", file, line, n,
                  ww_strerror(r));
    return mem;
}

char *t_map_aligned_at(const char *file, int line, size_t n, size_t align)
{
    size_t len = n * PAGE;
    char *p = t_map_at(file, line, n + align / PAGE);
    char *a = (char *)(((uintptr_t)p + align - 1) & ~(uintptr_t)(align - 1));

    if (a > p)
        munmap(p, (size_t)(a - p));
    if (a + len < p + len + align)
        munmap(a + len, (size_t)(p + len + align - (a + len)));
    return a;
}

char *t_map_shared_at(const char *file, int line, size_t n)
{
    void *p = mmap(NULL, n * PAGE, PROT_READ | PROT_WRITE,
                   MAP_SHARED | MAP_ANONYMOUS, -1, 0);

    expect_at(p != MAP_FAILED, "mmap shared: %s", strerror(errno));
    return p;
}

char *t_map_file_at(const char *file, int line, size_t n)
{
    char path[] = "/tmp/ww-test-XXXXXX";
    int fd = mkstemp(path);
    void *p;

    expect_at(fd >= 0, "mkstemp: %s", strerror(errno));
    unlink(path);
    expect_at(ftruncate(fd, (off_t)(n * PAGE)) == 0, "ftruncate: %s",
              strerror(errno));
    p = mmap(NULL, n * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
    expect_at(p != MAP_FAILED, "mmap file: %s", strerror(errno));
    close(fd);      /* the mapping keeps the file */
    return p;
}

void t_assert_child_faults_at(const char *file, int line, volatile char *p,
                            int store)
{
    int status;
    pid_t pid;

    fflush(NULL);
    pid = fork();
    expect_at(pid != -1, "fork: %s", strerror(errno));
    if (pid == 0) {
        struct rlimit no_core = { 0, 0 };

        setrlimit(RLIMIT_CORE, &no_core);
        if (store)
            *p = 1;
        else
            (void)*p;
        _exit(0);
    }
    expect_at(waitpid(pid, &status, 0) == pid, "waitpid: %s", strerror(errno));
    expect_at(WIFSIGNALED(status) && WTERMSIG(status) == SIGSEGV,
              "%s at page offset %#lx: status %#x, expected SIGSEGV",
              store ? "store" : "load",
              (unsigned long)((uintptr_t)p % PAGE), (unsigned)status);
}

void t_munmap_pages_at(const char *file, int line, char *base, size_t n)
{
    expect_at(munmap(base, n * PAGE) == 0, "munmap: %s", strerror(errno));
}

void t_write_pages(char *base, const size_t *idx, size_t n)
{
    for (size_t i = 0; i < n; i++)
        ((volatile char *)base)[idx[i] * PAGE + 1] = 1;
}

void t_assert_pages_at(const char *file, int line, void **got, size_t n_got,
                     char *base, const size_t *idx, size_t n)
{
    for (size_t i = 0; i < n_got && i < n; i++)
        expect_at(got[i] == base + idx[i] * PAGE,
                  "entry %zu: page %td, expected page %zu", i,
                  ((char *)got[i] - base) / (ptrdiff_t)PAGE, idx[i]);
    expect_at(n_got == n, "%zu pages reported, expected %zu", n_got, n);
}

int t_written(ww_tracker *t, char *base, size_t n, unsigned flags,
                 size_t *idx, size_t *count)
{
    void **pages = calloc(n ? n : 1, sizeof(*pages));
    int r;

    if (!pages)
        return -ENOMEM;
    *count = n;
    r = ww_get(t, base, n * PAGE, flags, pages, count);
    for (size_t i = 0; r == 0 && idx && i < *count; i++)
        idx[i] = (size_t)((char *)pages[i] - base) / PAGE;
    free(pages);
    return r;
}

size_t t_count_written_at(const char *file, int line, ww_tracker *t,
                        char *base, size_t n, unsigned flags)
{
    size_t count;
    int r = t_written(t, base, n, flags, NULL, &count);

    expect_at(r == 0, "ww_get: %s", ww_strerror(r));
    return count;
}

void t_assert_written_pages_at(const char *file, int line, ww_tracker *t,
                             char *base, size_t n, const size_t *idx,
                             size_t n_idx)
{
    size_t *got = calloc(n ? n : 1, sizeof(*got)), count;
    int r;

    expect_at(got != NULL, "calloc %zu", n);
    r = t_written(t, base, n, 0, got, &count);
    expect_at(r == 0, "ww_get: %s", ww_strerror(r));
    for (size_t i = 0; i < count && i < n_idx; i++)
        expect_at(got[i] == idx[i], "entry %zu: page %zu, expected page %zu",
                  i, got[i], idx[i]);
    expect_at(count == n_idx, "%zu pages reported, expected %zu", count,
              n_idx);
    free(got);
}

int t_spawn_self_at(const char *file, int line, const char *mode)
{
    int status = 0;
    pid_t pid;

    fflush(NULL);
    pid = fork();
    expect_at(pid != -1, "fork: %s", strerror(errno));
    if (pid == 0) {
        execl("/proc/self/exe", "test", "--child", mode, (char *)NULL);
        _exit(CHILD_EXEC_FAILED);
    }
    expect_at(waitpid(pid, &status, 0) == pid, "waitpid: %s", strerror(errno));
    return status;
}

static const char *child_exit_name(int code)
{
    switch (code) {
    case CHILD_OK: return "CHILD_OK";
    case CHILD_FAILED: return "CHILD_FAILED (a t_child_expect failed, see the log)";
    case CHILD_BAD_MODE: return "CHILD_BAD_MODE";
    case CHILD_SKIP: return "CHILD_SKIP";
    case CHILD_EXEC_FAILED: return "CHILD_EXEC_FAILED";
    default: return "an unknown code";
    }
}

void t_assert_child_at(const char *file, int line, int status, int sig,
                     const char *what)
{
    if (sig)
        expect_at(WIFSIGNALED(status) && WTERMSIG(status) == sig,
                  "child %s: status %#x, expected death by signal %d (%s)",
                  what, (unsigned)status, sig, strsignal(sig));
    else if (WIFSIGNALED(status))
        expect_at(!WIFSIGNALED(status), "child %s: killed by signal %d (%s)",
                  what, WTERMSIG(status), strsignal(WTERMSIG(status)));
    else
        expect_at(WEXITSTATUS(status) == CHILD_OK, "child %s: exit %d, %s",
                  what, WEXITSTATUS(status),
                  child_exit_name(WEXITSTATUS(status)));
}

int t_bad_child_mode(const char *mode)
{
    fprintf(stderr, "unknown child mode %s\n", mode);
    return CHILD_BAD_MODE;
}

const char *t_child_mode(int argc, char **argv)
{
    return argc == 3 && strcmp(argv[1], "--child") == 0 ? argv[2] : NULL;
}

/* Which backend a TCase name's last part names, or -1. */
static int backend_from_name(const char *name)
{
    if (strcmp(name, ww_backend_name(WW_BACKEND_UFFD)) == 0)
        return WW_BACKEND_UFFD;
    if (strcmp(name, ww_backend_name(WW_BACKEND_MPROTECT)) == 0)
        return WW_BACKEND_MPROTECT;
    return -1;
}

static void setup_uffd(void) { t_backend = WW_BACKEND_UFFD; }
static void setup_mprotect(void) { t_backend = WW_BACKEND_MPROTECT; }

int t_backend_required(enum ww_backend b)
{
    const char *req = getenv("WW_TEST_REQUIRE");

    return req && strstr(req, ww_backend_name(b)) != NULL;
}

/* TAP lines for what did not run at all: a backend that is unavailable
 * here, a feature this build lacks.  Printed after Check's results. */
static struct {
    char name[128];
    char reason[160];
} skipped[32];
static size_t n_skipped;

void t_skip_case(const char *name, const char *fmt, ...)
{
    va_list ap;

    if (n_skipped == sizeof(skipped) / sizeof(skipped[0]))
        abort();
    snprintf(skipped[n_skipped].name, sizeof(skipped[0].name), "%s", name);
    va_start(ap, fmt);
    vsnprintf(skipped[n_skipped].reason, sizeof(skipped[0].reason), fmt, ap);
    va_end(ap);
    n_skipped++;
}

void t_add_backend_tcases(Suite *s, const char *name, void (*add_tests)(TCase *, enum ww_backend),
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

        if (n_names == sizeof(names) / sizeof(names[0]))
            abort();
        tname = names[n_names++];
        snprintf(tname, sizeof(names[0]), "%s:%s", name,
                 ww_backend_name(list[i].id));
        if (avail != 0 && !t_backend_required(list[i].id)) {
            t_skip_case(tname, "backend unavailable here (%s)",
                           ww_strerror(avail));
            continue;
        }
        tc = tcase_create(tname);
        tcase_add_checked_fixture(tc, list[i].setup, NULL);
        tcase_set_timeout(tc, timeout_seconds);
        add_tests(tc, list[i].id);
        suite_add_tcase(s, tc);
    }
}

/* Skips recorded by t_skip() in the test processes: one line each,
 * "TEST:BACKEND<tab>REASON" (Check tells a test its own name, not its
 * TCase's; the backend tells the TCases of a suite apart). */
static int skip_fd = -1;

void t_skip_record(const char *func, const char *fmt, ...)
{
    char line[512];
    size_t flen = strlen(func);
    int n;
    va_list ap;

    /* START_TEST(name) defines name_fn. */
    if (flen > 3 && strcmp(func + flen - 3, "_fn") == 0)
        flen -= 3;
    n = snprintf(line, sizeof(line), "%.*s:%s\t", (int)flen, func,
                 ww_backend_name(t_backend));
    va_start(ap, fmt);
    n += vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
    va_end(ap);
    if (n > (int)sizeof(line) - 2)
        n = (int)sizeof(line) - 2;
    line[n++] = '\n';
    if (skip_fd < 0 || write(skip_fd, line, (size_t)n) != n)
        fprintf(stderr, "SKIP %.*s", n, line);
}

/* The whole of a temporary file, NUL-terminated (the caller frees). */
static char *slurp(int fd)
{
    off_t len = lseek(fd, 0, SEEK_END);
    char *buf = malloc(len > 0 ? (size_t)len + 1 : 1);
    ssize_t got = 0;

    if (!buf)
        abort();
    if (len > 0 && pread(fd, buf, (size_t)len, 0) == len)
        got = len;
    buf[got] = '\0';
    return buf;
}

/* The reason recorded for test "TCASE:TEST", or NULL.  A TCase named
 * "SUITE:BACKEND" runs on that backend, any other on the default one. */
static const char *skip_reason(char *skips, const char *tcase,
                               const char *test, size_t test_len,
                               size_t *reason_len)
{
    const char *colon = strrchr(tcase, ':');
    char key[256];
    size_t len;

    if (!colon || backend_from_name(colon + 1) < 0)
        colon = NULL;
    len = (size_t)snprintf(key, sizeof(key), "%.*s:%s", (int)test_len, test,
                           colon ? colon + 1 : ww_backend_name(t_backend));
    if (len >= sizeof(key))
        return NULL;
    for (char *l = skips; *l; ) {
        char *end = strchr(l, '\n');
        char *tab = strchr(l, '\t');

        if (!end)
            break;
        if (tab && tab < end && (size_t)(tab - l) == len &&
            memcmp(l, key, len) == 0) {
            *reason_len = (size_t)(end - tab - 1);
            return tab + 1;
        }
        l = end + 1;
    }
    return NULL;
}

/* A failure under its "not ok" line: "# FILE:LINE: MESSAGE", every line
 * of the message commented. */
static void print_diagnostic(FILE *out, TestResult *tr)
{
    const char *msg = tr_msg(tr) ? tr_msg(tr) : "";

    fprintf(out, "# %s:%d: ", tr_lfile(tr), tr_lno(tr));
    for (; *msg; msg++) {
        fputc(*msg, out);
        if (*msg == '\n')
            fputs("#   ", out);
    }
    fputc('\n', out);
}

/*
 * Check's TAP log names each test ("ok N - FILE:TCASE:TEST: MSG"), its
 * results give where a failure happened; one TAP line per test goes to
 * out, "TCASE:TEST", with "# SKIP why" for a test that called
 * t_skip(), and the failure as a diagnostic under "not ok".
 */
static size_t print_tap(FILE *out, SRunner *sr, char *check_tap, char *skips)
{
    TestResult **res = srunner_results(sr);
    int n_res = srunner_ntests_run(sr);
    size_t n = 0;
    char *l = check_tap;

    for (int i = 0; i < n_res; i++) {
        TestResult *tr = res[i];
        int ok = tr_rtype(tr) == CK_PASS;
        const char *tc = tr_tcname(tr);
        const char *name = "?", *reason = NULL;
        size_t name_len = 1, reason_len = 0;
        char *next;

        /* The next result line of Check's log. */
        while (l && *l && strncmp(l, "ok ", 3) != 0 &&
               strncmp(l, "not ok ", 7) != 0)
            l = (next = strchr(l, '\n')) ? next + 1 : NULL;
        if (l && *l) {
            char *at = strstr(l, " - ");
            const char *file = tr_lfile(tr) ? tr_lfile(tr) : "";
            char *tcp = NULL;

            /* " - FILE:TCASE:TEST: MSG" */
            if (at && strncmp(at + 3, file, strlen(file)) == 0 &&
                at[3 + strlen(file)] == ':')
                tcp = at + 3 + strlen(file) + 1;
            if (tcp && strncmp(tcp, tc, strlen(tc)) != 0)
                tcp = NULL;

            if (tcp && tcp[strlen(tc)] == ':') {
                name = tcp;
                name_len = strcspn(tcp + strlen(tc) + 1, ":\n") +
                           strlen(tc) + 1;
            }
            l = (next = strchr(l, '\n')) ? next + 1 : NULL;
        }
        if (ok && name_len > strlen(tc) + 1)
            reason = skip_reason(skips, tc, name + strlen(tc) + 1,
                                 name_len - strlen(tc) - 1, &reason_len);
        fprintf(out, "%s %zu - %.*s", ok ? "ok" : "not ok", ++n,
                (int)name_len, name);
        if (reason)
            fprintf(out, " # SKIP %.*s", (int)reason_len, reason);
        fputc('\n', out);
        if (!ok)
            print_diagnostic(out, tr);
    }
    for (size_t i = 0; i < n_skipped; i++)
        fprintf(out, "ok %zu - %s # SKIP %s\n", ++n, skipped[i].name,
                skipped[i].reason);
    free(res);
    return n;
}

/*
 * Runs the suite and writes TAP (automake's TAP driver reads it).  The
 * TAP stream gets its own descriptor; stdout becomes stderr, so that
 * whatever a test prints (Check's own report included) lands in the log
 * and cannot be taken for a result.
 */
int t_run_suite(Suite *s)
{
    SRunner *sr = srunner_create(s);
    FILE *check_tap = tmpfile(), *skip_file = tmpfile(), *out;
    char path[64];
    char *tap_text, *skips;
    size_t n;
    int failed, tap_fd = dup(STDOUT_FILENO);

    if (!check_tap || !skip_file || tap_fd < 0 ||
        !(out = fdopen(tap_fd, "w")))
        abort();
    fflush(stdout);
    dup2(STDERR_FILENO, STDOUT_FILENO);
    skip_fd = fileno(skip_file);
    snprintf(path, sizeof(path), "/proc/self/fd/%d", fileno(check_tap));
    unsetenv("CK_TAP_LOG_FILE_NAME");
    srunner_set_tap(sr, path);
    srunner_run_all(sr, CK_ENV);
    fflush(stdout);
    tap_text = slurp(fileno(check_tap));
    skips = slurp(skip_fd);
    n = print_tap(out, sr, tap_text, skips);
    fprintf(out, "1..%zu\n", n);
    fclose(out);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    free(tap_text);
    free(skips);
    fclose(check_tap);
    fclose(skip_file);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

int t_run_slow_suite(Suite *s)
{
    const char *slow = getenv("WW_TEST_SLOW");

    if (slow && strcmp(slow, "1") == 0)
        return t_run_suite(s);
    printf("1..0 # SKIP slow: make check-slow runs it\n");
    srunner_free(srunner_create(s));    /* frees the suite */
    return EXIT_SUCCESS;
}

pid_t t_fork(int raw)
{
    fflush(NULL);
    if (!raw)
        return fork();
#ifdef SYS_fork
    return (pid_t)syscall(SYS_fork);
#else
    return (pid_t)syscall(SYS_clone, SIGCHLD, 0, 0, 0, 0);
#endif
}

int t_userfaultfd_here(void)
{
    int fd = (int)syscall(SYS_userfaultfd, O_CLOEXEC | UFFD_USER_MODE_ONLY);

    if (fd < 0)
        fd = (int)syscall(SYS_userfaultfd, O_CLOEXEC);
    if (fd < 0)
        return 0;
    close(fd);
    return 1;
}

#if defined(__x86_64__)
#define T_AUDIT_ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define T_AUDIT_ARCH AUDIT_ARCH_AARCH64
#elif defined(__i386__)
#define T_AUDIT_ARCH AUDIT_ARCH_I386
#endif

int t_seccomp_fail(long nr, long long arg1, int err)
{
#ifdef T_AUDIT_ARCH
    const unsigned deny = SECCOMP_RET_ERRNO | ((unsigned)err & SECCOMP_RET_DATA);
    struct sock_filter code[9];
    struct sock_fprog prog;
    unsigned short n = 0;

    code[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
                                             offsetof(struct seccomp_data, arch));
    code[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K,
                                             T_AUDIT_ARCH, 1, 0);
    code[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
    code[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
                                             offsetof(struct seccomp_data, nr));
    code[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K,
                                             (unsigned)nr, 0, arg1 < 0 ? 1 : 3);
    if (arg1 >= 0) {
        code[n++] = (struct sock_filter)BPF_STMT(
            BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[1]));
        code[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K,
                                                 (unsigned)arg1, 0, 1);
    }
    code[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, deny);
    code[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
    prog.len = n;
    prog.filter = code;
    t_child_expect(prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0);
    t_child_expect(prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) == 0);
    return 0;
#else
    (void)nr;
    (void)arg1;
    (void)err;
    return -1;
#endif
}

int t_madvise_wipeonfork_at(const char *file, int line, int advice)
{
    FILE *f = fopen("/proc/self/smaps", "r");
    uintptr_t lo[16], hi[16], start = 0, end = 0;
    char text[512];
    int n = 0;

    expect_at(f != NULL, "/proc/self/smaps: %s", strerror(errno));
    while (fgets(text, sizeof(text), f)) {
        unsigned long a, b;
        char c;

        /* A mapping's first line: "start-end perms ..." */
        if (sscanf(text, "%lx-%lx %c", &a, &b, &c) == 3) {
            start = a;
            end = b;
        } else if (strncmp(text, "VmFlags:", 8) == 0 &&
                   strstr(text, " wf") && n < 16) {
            lo[n] = start;
            hi[n++] = end;
        }
    }
    fclose(f);
    /* Not while reading: smaps must not change under fgets. */
    for (int i = 0; i < n; i++)
        expect_at(madvise((void *)lo[i], hi[i] - lo[i], advice) == 0,
                  "madvise(%#lx, %#lx, %d): %s", (unsigned long)lo[i],
                  (unsigned long)(hi[i] - lo[i]), advice, strerror(errno));
    return n;
}

size_t t_read_sysctl(const char *path)
{
    FILE *f = fopen(path, "r");
    unsigned long v = 0;

    if (f) {
        if (fscanf(f, "%lu", &v) != 1)
            v = 0;
        fclose(f);
    }
    return v;
}

int t_mlock(void *addr, size_t len)
{
    return (int)syscall(SYS_mlock, addr, len);
}

int t_munlock(void *addr, size_t len)
{
    return (int)syscall(SYS_munlock, addr, len);
}

int t_lock_refused(int r)
{
    if (r == 0)
        return 0;
    ck_assert(errno == ENOMEM || errno == EPERM || errno == EAGAIN);
    return 1;
}

int t_count_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    int n = 0;

    ck_assert_ptr_nonnull(d);
    while (readdir(d))
        n++;
    closedir(d);
    return n;
}
