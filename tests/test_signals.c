/*
 * test_signals.c - the mprotect backend lives inside the process's SIGSEGV
 * handling, so: faults that are not its own reach the handler that was
 * there before (SA_SIGINFO, plain, SIG_DFL, SIG_IGN) exactly as before; a
 * handler installed after it can chain to it; and when userfaultfd is
 * denied (seccomp: ENOSYS, EPERM) an "auto" tracker falls back to it.
 *
 * Most cases need a process that has not touched the library yet (the
 * handler is installed on first use and probes are cached per process),
 * so they run as child modes of this program (test_spawn_self).
 */
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "helpers.h"

/* A page the test owns (not watched): PROT_NONE until its handler fixes
 * it up.  Accessed through volatile, or the compiler may move the access
 * past the check of own_faults. */
static volatile char *own_page;
static volatile sig_atomic_t own_faults;

static void fix_own_page(void)
{
    own_faults++;
    mprotect((void *)own_page, PAGE, PROT_READ | PROT_WRITE);
}

static void siginfo_handler(int sig, siginfo_t *si, void *uctx)
{
    (void)sig;
    (void)uctx;
    if ((volatile char *)si->si_addr < own_page ||
        (volatile char *)si->si_addr >= own_page + PAGE)
        abort();                /* only its own faults may reach it */
    fix_own_page();
}

static void plain_handler(int sig)
{
    (void)sig;
    fix_own_page();
}

/* Written pages of n pages at mem, without Check (child modes). */
static size_t written_pages(ww_tracker *t, char *mem, size_t n)
{
    void *pages[16];
    size_t count = n;

    child_expect(n <= 16 && ww_get(t, mem, n * PAGE, 0, pages, &count) == 0);
    return count;
}

static void map_own_page(void)
{
    own_page = mmap(NULL, PAGE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    child_expect(own_page != MAP_FAILED);
}

/* A tracker on the mprotect backend sees its writes, and the fault on the
 * test's own page (a read, then a write) went to the test's handler. */
static void exercise_tracker_and_own_page(void)
{
    ww_tracker *t;
    char *mem;
    void *pages[8];
    size_t count = 8;

    child_expect(ww_tracker_open(&t, WW_BACKEND_MPROTECT, 0) == 0);
    child_expect(ww_alloc(t, 8 * PAGE, 0, (void **)&mem) == 0);
    mem[3 * PAGE] = 1;
    child_expect(own_page[10] == 0);        /* read fault: chained */
    child_expect(own_faults == 1);
    mprotect((void *)own_page, PAGE, PROT_READ);
    own_page[20] = 2;                       /* write fault: chained */
    child_expect(own_faults == 2 && own_page[20] == 2);
    mem[5 * PAGE] = 1;
    child_expect(ww_get(t, mem, 8 * PAGE, WW_GET_RESET, pages, &count) == 0);
    child_expect(count == 2 && pages[0] == mem + 3 * PAGE &&
                 pages[1] == mem + 5 * PAGE);
    ww_tracker_close(t);
}

static int child_siginfo_before(void)
{
    struct sigaction sa;

    map_own_page();
    memset(&sa, 0, sizeof(sa));
    sa.sa_sigaction = siginfo_handler;
    sa.sa_flags = SA_SIGINFO;
    sigemptyset(&sa.sa_mask);
    child_expect(sigaction(SIGSEGV, &sa, NULL) == 0);
    exercise_tracker_and_own_page();
    return 0;
}

static int child_plain_before(void)
{
    struct sigaction sa;

    map_own_page();
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = plain_handler;
    sigemptyset(&sa.sa_mask);
    child_expect(sigaction(SIGSEGV, &sa, NULL) == 0);
    exercise_tracker_and_own_page();
    return 0;
}

/* A real NULL dereference.  The address comes from a volatile so that the
 * compiler cannot prove it NULL (gcc -O2 deletes a store it knows is
 * undefined), and UndefinedBehaviorSanitizer is told to let it through
 * (it would report it and exit before the kernel's fault). */
static volatile uintptr_t null_address;

__attribute__((noinline, no_sanitize("null"))) static void store_to_null(void)
{
    *(volatile int *)null_address = 1;
}

/* With `disposition` (SIG_DFL or SIG_IGN) before the tracker, a watched
 * write still works, then a NULL dereference must kill with SIGSEGV. */
static int child_null_deref(void (*disposition)(int))
{
    struct rlimit no_core = { 0, 0 };
    ww_tracker *t;
    char *mem;

    setrlimit(RLIMIT_CORE, &no_core);
    signal(SIGSEGV, disposition);
    child_expect(ww_tracker_open(&t, WW_BACKEND_MPROTECT, 0) == 0);
    child_expect(ww_alloc(t, 4 * PAGE, 0, (void **)&mem) == 0);
    mem[PAGE] = 1;
    child_expect(written_pages(t, mem, 4) == 1);
    store_to_null();
    return 0;                   /* not reached, we hope */
}

/* --- seccomp: userfaultfd denied --------------------------------------- */
#if defined(__x86_64__)
#define TEST_AUDIT_ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define TEST_AUDIT_ARCH AUDIT_ARCH_AARCH64
#elif defined(__i386__)
#define TEST_AUDIT_ARCH AUDIT_ARCH_I386
#endif

#ifdef TEST_AUDIT_ARCH
/* Plain BPF: userfaultfd(2) fails with err, everything else is allowed. */
static void deny_userfaultfd(int err)
{
    struct sock_filter code[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, TEST_AUDIT_ARCH, 1, 0),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_userfaultfd, 0, 1),
        BPF_STMT(BPF_RET | BPF_K,
                 SECCOMP_RET_ERRNO | ((unsigned)err & SECCOMP_RET_DATA)),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    };
    struct sock_fprog prog = {
        .len = sizeof(code) / sizeof(code[0]),
        .filter = code,
    };

    child_expect(prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0);
    child_expect(prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) == 0);
}
#endif

/* Under the filter, before any library call: auto picks mprotect. */
static int child_seccomp(int err)
{
#ifdef TEST_AUDIT_ARCH
    ww_tracker *t;
    char *mem;

    unsetenv("WW_BACKEND");
    deny_userfaultfd(err);
    child_expect(syscall(SYS_userfaultfd, 0) == -1 && errno == err);
    child_expect(ww_backend_available(WW_BACKEND_UFFD) == -err);
    child_expect(ww_tracker_open(&t, WW_BACKEND_AUTO, 0) == 0);
    child_expect(ww_tracker_backend(t) == WW_BACKEND_MPROTECT);
    child_expect(ww_alloc(t, 16 * PAGE, 0, (void **)&mem) == 0);
    mem[7 * PAGE] = 1;
    mem[9 * PAGE] = 1;
    child_expect(written_pages(t, mem, 16) == 2);
    printf("seccomp: userfaultfd fails with %s, auto chose %s\n",
           strerror(err), ww_backend_name(ww_tracker_backend(t)));
    ww_tracker_close(t);
    return 0;
#else
    (void)err;
    return 77;
#endif
}

static int run_child(const char *mode)
{
    if (strcmp(mode, "siginfo-before") == 0)
        return child_siginfo_before();
    if (strcmp(mode, "plain-before") == 0)
        return child_plain_before();
    if (strcmp(mode, "default-null") == 0)
        return child_null_deref(SIG_DFL);
    if (strcmp(mode, "ignore-null") == 0)
        return child_null_deref(SIG_IGN);
    if (strcmp(mode, "seccomp-enosys") == 0)
        return child_seccomp(ENOSYS);
    if (strcmp(mode, "seccomp-eperm") == 0)
        return child_seccomp(EPERM);
    fprintf(stderr, "unknown child mode %s\n", mode);
    return 2;
}

static void assert_exit_ok(int status, const char *mode)
{
    ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
                  "child %s: status 0x%x", mode, (unsigned)status);
}

static void assert_killed_by_segv(int status, const char *mode)
{
    ck_assert_msg(WIFSIGNALED(status) && WTERMSIG(status) == SIGSEGV,
                  "child %s: status 0x%x, expected death by SIGSEGV", mode,
                  (unsigned)status);
}

START_TEST(test_siginfo_handler_installed_before)
{
    assert_exit_ok(test_spawn_self("siginfo-before"), "siginfo-before");
}
END_TEST

START_TEST(test_plain_handler_installed_before)
{
    assert_exit_ok(test_spawn_self("plain-before"), "plain-before");
}
END_TEST

START_TEST(test_default_action_still_kills)
{
    assert_killed_by_segv(test_spawn_self("default-null"), "default-null");
}
END_TEST

START_TEST(test_ignored_segv_still_kills)
{
    assert_killed_by_segv(test_spawn_self("ignore-null"), "ignore-null");
}
END_TEST

/* In this process the library's handler is already installed (main()
 * probed the backends); a handler installed now sees every fault first
 * and, as documented, passes on those that are not its own. */
static struct sigaction library_action;

static void chaining_handler(int sig, siginfo_t *si, void *uctx)
{
    if ((volatile char *)si->si_addr >= own_page &&
        (volatile char *)si->si_addr < own_page + PAGE)
        fix_own_page();
    else
        library_action.sa_sigaction(sig, si, uctx);
}

START_TEST(test_handler_installed_after_chains)
{
    ww_tracker *t;
    struct sigaction sa;
    char *mem;
    void *pages[8];
    size_t count = 8;

    ck_assert_int_eq(ww_backend_available(WW_BACKEND_MPROTECT), 0);
    own_page = mmap(NULL, PAGE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    ck_assert_ptr_ne((void *)own_page, MAP_FAILED);
    ck_assert_int_eq(ww_tracker_open(&t, WW_BACKEND_MPROTECT, 0), 0);
    ck_assert_int_eq(ww_alloc(t, 8 * PAGE, 0, (void **)&mem), 0);
    memset(&sa, 0, sizeof(sa));
    sa.sa_sigaction = chaining_handler;
    sa.sa_flags = SA_SIGINFO | SA_NODEFER;
    sigemptyset(&sa.sa_mask);
    ck_assert_int_eq(sigaction(SIGSEGV, &sa, &library_action), 0);
    ck_assert(library_action.sa_flags & SA_SIGINFO);

    own_page[1] = 1;
    mem[2 * PAGE] = 1;
    mem[6 * PAGE] = 1;
    ck_assert_int_eq(own_faults, 1);
    ck_assert_int_eq(ww_get(t, mem, 8 * PAGE, WW_GET_RESET, pages, &count), 0);
    ck_assert_uint_eq(count, 2);
    ck_assert_ptr_eq(pages[0], mem + 2 * PAGE);
    ck_assert_ptr_eq(pages[1], mem + 6 * PAGE);
    ck_assert_int_eq(sigaction(SIGSEGV, &library_action, NULL), 0);
    ww_tracker_close(t);
}
END_TEST

START_TEST(test_auto_picks_mprotect_without_uffd_enosys)
{
    int status = test_spawn_self("seccomp-enosys");

    if (WIFEXITED(status) && WEXITSTATUS(status) == 77)
        return;                 /* no seccomp arch constant here */
    assert_exit_ok(status, "seccomp-enosys");
}
END_TEST

START_TEST(test_auto_picks_mprotect_without_uffd_eperm)
{
    int status = test_spawn_self("seccomp-eperm");

    if (WIFEXITED(status) && WEXITSTATUS(status) == 77)
        return;
    assert_exit_ok(status, "seccomp-eperm");
}
END_TEST

int main(int argc, char **argv)
{
    const char *mode = test_child_mode(argc, argv);
    Suite *s;
    TCase *tc;

    if (mode)
        return run_child(mode);
    s = suite_create("signals");
    /* Not per backend: every case is about the mprotect backend's handler
     * or about choosing it; WW_TEST_REQUIRE decides if its absence fails. */
    if (ww_backend_available(WW_BACKEND_MPROTECT) != 0 &&
        !test_backend_required(WW_BACKEND_MPROTECT)) {
        fprintf(stderr, "SKIP signals: mprotect backend unavailable\n");
        return 0;
    }
    tc = tcase_create("signals");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_siginfo_handler_installed_before);
    tcase_add_test(tc, test_plain_handler_installed_before);
    tcase_add_test(tc, test_default_action_still_kills);
    tcase_add_test(tc, test_ignored_segv_still_kills);
    tcase_add_test(tc, test_handler_installed_after_chains);
    tcase_add_test(tc, test_auto_picks_mprotect_without_uffd_enosys);
    tcase_add_test(tc, test_auto_picks_mprotect_without_uffd_eperm);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
