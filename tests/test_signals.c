/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * test_signals.c - the mprotect backend lives inside the process's SIGSEGV
 * handling, so: faults that are not its own reach the handler that was
 * there before (SA_SIGINFO, plain, SIG_DFL, SIG_IGN) exactly as before; a
 * handler installed after it can chain to it; and when userfaultfd is
 * denied (seccomp: ENOSYS, EPERM) an "auto" tracker falls back to it.
 *
 * A handler installed before the library runs, when chained, as the
 * kernel would have run it, except that SIGSEGV is never really blocked:
 * it may write to watched memory, and a fault of its own that the library
 * does not claim still kills the process, as with SIGSEGV blocked.
 *
 * Most cases need a process that has not touched the library yet (the
 * handler is installed on first use and probes are cached per process),
 * so they run as child modes of this program (t_spawn_self).
 */
#include "config.h"

#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <stdatomic.h>
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
    size_t count;

    t_child_expect(t_written(t, mem, n, 0, NULL, &count) == 0);
    return count;
}

static void map_own_page(void)
{
    own_page = mmap(NULL, PAGE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    t_child_expect(own_page != MAP_FAILED);
}

/* A tracker on the mprotect backend sees its writes, and the fault on the
 * test's own page (a read, then a write) went to the test's handler. */
static void exercise_tracker_and_own_page(void)
{
    ww_tracker *t;
    char *mem;
    void *pages[8];
    size_t count = 8;

    t_child_expect(ww_tracker_open(&t, WW_BACKEND_MPROTECT, 0) == 0);
    t_child_expect(ww_alloc(t, 8 * PAGE, 0, (void **)&mem) == 0);
    mem[3 * PAGE] = 1;
    t_child_expect(own_page[10] == 0);        /* read fault: chained */
    t_child_expect(own_faults == 1);
    mprotect((void *)own_page, PAGE, PROT_READ);
    own_page[20] = 2;                       /* write fault: chained */
    t_child_expect(own_faults == 2 && own_page[20] == 2);
    mem[5 * PAGE] = 1;
    t_child_expect(ww_get(t, mem, 8 * PAGE, WW_GET_RESET, pages, &count) == 0);
    t_child_expect(count == 2 && pages[0] == mem + 3 * PAGE &&
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
    t_child_expect(sigaction(SIGSEGV, &sa, NULL) == 0);
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
    t_child_expect(sigaction(SIGSEGV, &sa, NULL) == 0);
    exercise_tracker_and_own_page();
    return 0;
}

/* --- a previous handler that writes to watched memory ----------------------
 * The program's handler, installed before the library and without
 * SA_NODEFER, counts the faults on own_page in a counter that lives in a
 * watched, armed page: that write faults again, inside the chained handler,
 * and the library must claim it there as anywhere else.  The children that
 * are expected to die report their progress on a pipe from the parent. */
static ww_tracker *counter_tracker;
static char *counter_mem;               /* 4 watched pages */
static volatile int *counter;           /* in page 2 of them */
static volatile char *other_page;       /* read-only, not watched */
static int handler_flags;               /* the handler's sa_flags */
static int report_fd = -1;
static atomic_int calls;
static _Thread_local volatile sig_atomic_t depth;
static volatile sig_atomic_t max_depth;
static sigjmp_buf jump_back;
static atomic_int thread_in_handler, main_faulted;

/* What the handler does about a fault on own_page after counting it. */
static enum handler_task {
    TASK_FIX,           /* make own_page writable: the store runs again */
    TASK_NESTED_FAULT,  /* store to other_page first: a fault of its own */
    TASK_CALL_THEN_FAULT, /* a library call (it saves and restores the
                           signal mask), then TASK_NESTED_FAULT */
    TASK_JUMP,          /* siglongjmp to jump_back */
    TASK_RAISE,         /* raise(SIGSEGV) first: pending until it returns */
    TASK_WAIT,          /* wait until the main thread faulted, then fix */
} task;

static void report(char c)
{
    if (report_fd >= 0 && write(report_fd, &c, 1) != 1)
        _exit(4);
}

static int on_page(volatile char *page, const void *addr)
{
    return (const volatile char *)addr >= page &&
           (const volatile char *)addr < page + PAGE;
}

/* addr is NULL for the plain handler, which only sees own_page faults. */
static void count_fault(const void *addr)
{
    (*counter)++;               /* a watched page: may fault right here */
    report('w');
    if (addr && on_page(other_page, addr)) {
        mprotect((void *)other_page, PAGE, PROT_READ | PROT_WRITE);
        return;
    }
    switch (task) {
    case TASK_FIX:
        break;
    case TASK_CALL_THEN_FAULT:
        (void)ww_mark_written(counter_tracker, counter_mem + 3 * PAGE, PAGE);
        /* fall through */
    case TASK_NESTED_FAULT:
        other_page[0] = 1;
        break;
    case TASK_JUMP:
        depth--;
        siglongjmp(jump_back, 1);
    case TASK_RAISE:
        raise(SIGSEGV);
        break;
    case TASK_WAIT:
        atomic_store(&thread_in_handler, 1);
        while (!atomic_load(&main_faulted))
            sched_yield();
        break;
    }
    mprotect((void *)own_page, PAGE, PROT_READ | PROT_WRITE);
}

/* Entered again before it returned, without SA_NODEFER: the kernel would
 * have killed the process instead (or kept a kill(2) pending). */
static void counting_enter(int si_code, const void *addr)
{
    atomic_fetch_add(&calls, 1);
    if (++depth > max_depth)
        max_depth = depth;
    if (depth > 1 && !(handler_flags & SA_NODEFER)) {
        report('r');
        _exit(3);
    }
    if (si_code > 0)
        count_fault(addr);
    depth--;
}

static void counting_siginfo(int sig, siginfo_t *si, void *uctx)
{
    (void)sig;
    (void)uctx;
    counting_enter(si->si_code, si->si_addr);
}

static void counting_plain(int sig)
{
    (void)sig;
    counting_enter(1, NULL);
}

/* Install the counting handler (before the library), then open a tracker
 * and allocate the counter's watched pages, all clean. */
static void setup_counter(int flags, enum handler_task what)
{
    struct rlimit no_core = { 0, 0 };
    const char *fd = getenv("WW_TEST_REPORT_FD");
    struct sigaction sa;

    setrlimit(RLIMIT_CORE, &no_core);
    if (fd)
        report_fd = atoi(fd);
    map_own_page();
    other_page = mmap(NULL, PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS,
                      -1, 0);
    t_child_expect(other_page != MAP_FAILED);
    task = what;
    handler_flags = flags;
    memset(&sa, 0, sizeof(sa));
    if (flags & SA_SIGINFO)
        sa.sa_sigaction = counting_siginfo;
    else
        sa.sa_handler = counting_plain;
    sa.sa_flags = flags;
    sigemptyset(&sa.sa_mask);
    t_child_expect(sigaction(SIGSEGV, &sa, NULL) == 0);
    t_child_expect(ww_tracker_open(&counter_tracker, WW_BACKEND_MPROTECT, 0) == 0);
    t_child_expect(ww_alloc(counter_tracker, 4 * PAGE, 0,
                          (void **)&counter_mem) == 0);
    counter = (volatile int *)(counter_mem + 2 * PAGE);
}

/* Exactly the counter's page is written; reset re-arms it. */
static void expect_counter_page_written(void)
{
    void *pages[4];
    size_t count = 4;

    t_child_expect(ww_get(counter_tracker, counter_mem, 4 * PAGE, WW_GET_RESET,
                        pages, &count) == 0);
    t_child_expect(count == 1 && pages[0] == counter_mem + 2 * PAGE);
}

static int segv_blocked(void)
{
    sigset_t now;

    pthread_sigmask(SIG_BLOCK, NULL, &now);
    return sigismember(&now, SIGSEGV);
}

/* Two rounds: a store to own_page, fixed by the handler, which counted it
 * in the (re-armed) watched page. */
static int child_counter_fix(int flags)
{
    setup_counter(flags, TASK_FIX);
    for (int round = 1; round <= 2; round++) {
        own_page[round] = (char)round;
        t_child_expect(own_page[round] == round);
        t_child_expect(*counter == round && atomic_load(&calls) == round);
        expect_counter_page_written();
        mprotect((void *)own_page, PAGE, PROT_NONE);
    }
    t_child_expect(!segv_blocked());
    return 0;
}

/* A fault well below the frames the handler ran in before: whatever the
 * library remembers of an earlier handler must not apply to it. */
__attribute__((noinline)) static void store_deep(int levels)
{
    volatile char frame[8192];

    frame[0] = (char)levels;
    if (levels > 0)
        store_deep(levels - 1);
    else
        own_page[0] = 1;
    frame[sizeof(frame) - 1] = frame[0];
}

/* The handler leaves by siglongjmp, three times (the second fault from a
 * deeper stack): each reaches it, each counter write is seen. */
static int child_counter_jump(void)
{
    setup_counter(SA_SIGINFO, TASK_JUMP);
    for (int round = 1; round <= 3; round++) {
        if (sigsetjmp(jump_back, 1) == 0) {
            if (round == 2)
                store_deep(8);
            else
                own_page[0] = 1;
            t_child_expect(!"a store through PROT_NONE went through");
        }
        t_child_expect(*counter == round && atomic_load(&calls) == round);
        t_child_expect(!segv_blocked());
        expect_counter_page_written();
    }
    return 0;
}

/* Faults come from here, below the frame of the caller, which may hold
 * the alternate signal stack. */
__attribute__((noinline)) static void store_own_page(void)
{
    own_page[0] = 1;
}

/* The alternate signal stack in the caller's frame: above the stack of
 * store_own_page(), like the signal frame of a handler that ran there. */
static void use_altstack(char *stack, size_t size)
{
    stack_t ss = { .ss_sp = stack, .ss_size = size };

    t_child_expect(sigaltstack(&ss, NULL) == 0);
}

/* A jump out of the handler that keeps its mask (SIGSEGV blocked, as far
 * as the program knows), then the textbook way out, SIG_UNBLOCK: the
 * next fault reaches the handler again, on either stack.  (No library
 * call in between: it saves and restores the mask with pthread_sigmask.) */
static int child_counter_jump_unblock(int altstack)
{
    char stack[64 * 1024];
    sigset_t segv;

    setup_counter(SA_SIGINFO | SA_ONSTACK, TASK_JUMP);
    if (altstack)
        use_altstack(stack, sizeof(stack));
    sigemptyset(&segv);
    sigaddset(&segv, SIGSEGV);
    for (int round = 1; round <= 2; round++) {
        if (sigsetjmp(jump_back, 0) == 0) {
            store_own_page();
            t_child_expect(!"a store through PROT_NONE went through");
        }
        sigprocmask(SIG_UNBLOCK, &segv, NULL);
    }
    t_child_expect(*counter == 2 && atomic_load(&calls) == 2);
    expect_counter_page_written();
    return 0;
}

/* The handler faults itself on a page that is not watched, after its
 * watched write: with SIGSEGV blocked that kills (flags without
 * SA_NODEFER), with SA_NODEFER it enters the handler again.  On the
 * alternate stack too. */
static int child_counter_nested(int flags, int altstack)
{
    char stack[64 * 1024];

    setup_counter(flags | SA_ONSTACK, TASK_NESTED_FAULT);
    if (altstack)
        use_altstack(stack, sizeof(stack));
    store_own_page();
    t_child_expect(own_page[0] == 1 && other_page[0] == 1);
    t_child_expect(*counter == 2 && max_depth == 2);
    expect_counter_page_written();
    return 0;
}

/* The same with a library call in the handler before its own fault: the
 * call's signal mask dance must keep SIGSEGV "blocked" there. */
static int child_call_then_nested(void)
{
    setup_counter(SA_SIGINFO, TASK_CALL_THEN_FAULT);
    store_own_page();
    t_child_expect(!"the handler's own fault did not kill");
    return 0;
}

/* SA_RESETHAND: the first fault reaches the handler, which may write to
 * watched memory; the next one gets the default action. */
static int child_counter_resethand(void)
{
    setup_counter(SA_SIGINFO | SA_RESETHAND, TASK_FIX);
    own_page[0] = 1;
    t_child_expect(*counter == 1);
    expect_counter_page_written();
    report('o');
    other_page[0] = 1;          /* dies here */
    report('x');
    return 0;
}

/* raise(SIGSEGV) inside the handler: pending while it runs (SIGSEGV is
 * "blocked" there), delivered after it returned, not nested. */
static int child_counter_raise(void)
{
    setup_counter(SA_SIGINFO, TASK_RAISE);
    own_page[0] = 1;
    t_child_expect(*counter == 1 && atomic_load(&calls) == 2);
    t_child_expect(max_depth == 1);
    expect_counter_page_written();
    return 0;
}

static void *fault_own_page(void *arg)
{
    (void)arg;
    own_page[0] = 1;
    return NULL;
}

/* While one thread runs the handler (SIGSEGV "blocked" there), a fault in
 * another thread, where nothing is blocked, still reaches it. */
static int child_counter_threads(void)
{
    pthread_t thread;

    setup_counter(SA_SIGINFO, TASK_WAIT);
    t_child_expect(pthread_create(&thread, NULL, fault_own_page, NULL) == 0);
    while (!atomic_load(&thread_in_handler))
        sched_yield();
    other_page[0] = 1;
    atomic_store(&main_faulted, 1);
    t_child_expect(pthread_join(thread, NULL) == 0);
    t_child_expect(*counter == 2 && own_page[0] == 1 && other_page[0] == 1);
    expect_counter_page_written();
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
    t_child_expect(ww_tracker_open(&t, WW_BACKEND_MPROTECT, 0) == 0);
    t_child_expect(ww_alloc(t, 4 * PAGE, 0, (void **)&mem) == 0);
    mem[PAGE] = 1;
    t_child_expect(written_pages(t, mem, 4) == 1);
    store_to_null();
    return 0;                   /* not reached, we hope */
}

/* --- seccomp: userfaultfd denied --------------------------------------- */
/* Under the filter, before any library call: auto picks mprotect. */
static int child_seccomp(int err)
{
    ww_tracker *t;
    char *mem;

    unsetenv("WW_BACKEND");
    if (t_seccomp_fail(SYS_userfaultfd, -1, err) < 0)
        return CHILD_SKIP;
    t_child_expect(syscall(SYS_userfaultfd, 0) == -1 && errno == err);
    t_child_expect(ww_backend_available(WW_BACKEND_UFFD) == -err);
    t_child_expect(ww_tracker_open(&t, WW_BACKEND_AUTO, 0) == 0);
    t_child_expect(ww_tracker_backend(t) == WW_BACKEND_MPROTECT);
    t_child_expect(ww_alloc(t, 16 * PAGE, 0, (void **)&mem) == 0);
    mem[7 * PAGE] = 1;
    mem[9 * PAGE] = 1;
    t_child_expect(written_pages(t, mem, 16) == 2);
    printf("seccomp: userfaultfd fails with %s, auto chose %s\n",
           strerror(err), ww_backend_name(ww_tracker_backend(t)));
    ww_tracker_close(t);
    return 0;
}

static int run_child(const char *mode)
{
    if (strcmp(mode, "siginfo-before") == 0)
        return child_siginfo_before();
    if (strcmp(mode, "plain-before") == 0)
        return child_plain_before();
    if (strcmp(mode, "counter-siginfo") == 0)
        return child_counter_fix(SA_SIGINFO);
    if (strcmp(mode, "counter-plain") == 0)
        return child_counter_fix(0);
    if (strcmp(mode, "counter-jump") == 0)
        return child_counter_jump();
    if (strcmp(mode, "counter-jump-unblock") == 0)
        return child_counter_jump_unblock(0);
    if (strcmp(mode, "counter-jump-unblock-altstack") == 0)
        return child_counter_jump_unblock(1);
    if (strcmp(mode, "counter-nested") == 0)
        return child_counter_nested(SA_SIGINFO, 0);
    if (strcmp(mode, "call-then-nested") == 0)
        return child_call_then_nested();
    if (strcmp(mode, "counter-nested-altstack") == 0)
        return child_counter_nested(SA_SIGINFO, 1);
    if (strcmp(mode, "counter-nested-nodefer") == 0)
        return child_counter_nested(SA_SIGINFO | SA_NODEFER, 0);
    if (strcmp(mode, "counter-resethand") == 0)
        return child_counter_resethand();
    if (strcmp(mode, "counter-raise") == 0)
        return child_counter_raise();
    if (strcmp(mode, "counter-threads") == 0)
        return child_counter_threads();
    if (strcmp(mode, "default-null") == 0)
        return child_null_deref(SIG_DFL);
    if (strcmp(mode, "ignore-null") == 0)
        return child_null_deref(SIG_IGN);
    if (strcmp(mode, "seccomp-enosys") == 0)
        return child_seccomp(ENOSYS);
    if (strcmp(mode, "seccomp-eperm") == 0)
        return child_seccomp(EPERM);
    return t_bad_child_mode(mode);
}

START_TEST(test_siginfo_handler_installed_before)
{
    t_assert_child_ok(t_spawn_self("siginfo-before"), "siginfo-before");
}
END_TEST

START_TEST(test_plain_handler_installed_before)
{
    t_assert_child_ok(t_spawn_self("plain-before"), "plain-before");
}
END_TEST

/* Run a child mode with a pipe on which it reports its progress; what it
 * wrote ends up in buf (NUL-terminated). */
static int spawn_with_report(const char *mode, char *buf, size_t size)
{
    char fd[16];
    int p[2], status;
    size_t len = 0;
    ssize_t n;

    ck_assert_int_eq(pipe(p), 0);
    snprintf(fd, sizeof(fd), "%d", p[1]);
    setenv("WW_TEST_REPORT_FD", fd, 1);
    status = t_spawn_self(mode);
    unsetenv("WW_TEST_REPORT_FD");
    close(p[1]);
    while (len + 1 < size && (n = read(p[0], buf + len, size - 1 - len)) > 0)
        len += (size_t)n;
    buf[len] = '\0';
    close(p[0]);
    return status;
}

START_TEST(test_previous_siginfo_handler_writes_watched)
{
    t_assert_child_ok(t_spawn_self("counter-siginfo"), "counter-siginfo");
}
END_TEST

START_TEST(test_previous_plain_handler_writes_watched)
{
    t_assert_child_ok(t_spawn_self("counter-plain"), "counter-plain");
}
END_TEST

START_TEST(test_previous_handler_siglongjmp)
{
    t_assert_child_ok(t_spawn_self("counter-jump"), "counter-jump");
}
END_TEST

START_TEST(test_previous_handler_longjmp_then_unblock)
{
    t_assert_child_ok(t_spawn_self("counter-jump-unblock"),
                   "counter-jump-unblock");
}
END_TEST

START_TEST(test_previous_handler_longjmp_then_unblock_altstack)
{
    t_assert_child_ok(t_spawn_self("counter-jump-unblock-altstack"),
                   "counter-jump-unblock-altstack");
}
END_TEST

/* 'w': the watched write inside the handler survived; the process then
 * died of the handler's own fault, not of recursion ('r'). */
static void assert_nested_fault_kills(const char *mode)
{
    char out[16];
    int status = spawn_with_report(mode, out, sizeof(out));

    t_assert_child_killed(status, SIGSEGV, mode);
    ck_assert_str_eq(out, "w");
}

START_TEST(test_fault_in_previous_handler_kills)
{
    assert_nested_fault_kills("counter-nested");
}
END_TEST

/* Found by the signal-chaining review: ww__mp_lock_nosig restored the mask
 * through pthread_sigmask, which drops glibc's reserved signal 32 and so
 * ended the emulated block early: the handler's own fault re-entered it. */
START_TEST(test_fault_after_library_call_in_previous_handler_kills)
{
    assert_nested_fault_kills("call-then-nested");
}
END_TEST

START_TEST(test_fault_in_previous_handler_kills_altstack)
{
    assert_nested_fault_kills("counter-nested-altstack");
}
END_TEST

START_TEST(test_fault_in_nodefer_previous_handler_nests)
{
    t_assert_child_ok(t_spawn_self("counter-nested-nodefer"),
                   "counter-nested-nodefer");
}
END_TEST

START_TEST(test_resethand_previous_handler)
{
    char out[16];
    int status = spawn_with_report("counter-resethand", out, sizeof(out));

    t_assert_child_killed(status, SIGSEGV, "counter-resethand");
    ck_assert_str_eq(out, "wo");
}
END_TEST

START_TEST(test_raise_in_previous_handler_is_deferred)
{
    t_assert_child_ok(t_spawn_self("counter-raise"), "counter-raise");
}
END_TEST

START_TEST(test_previous_handler_blocks_only_its_thread)
{
    t_assert_child_ok(t_spawn_self("counter-threads"), "counter-threads");
}
END_TEST

START_TEST(test_default_action_still_kills)
{
    t_assert_child_killed(t_spawn_self("default-null"), SIGSEGV, "default-null");
}
END_TEST

START_TEST(test_ignored_segv_still_kills)
{
    t_assert_child_killed(t_spawn_self("ignore-null"), SIGSEGV, "ignore-null");
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
    int status = t_spawn_self("seccomp-enosys");

    if (WIFEXITED(status) && WEXITSTATUS(status) == CHILD_SKIP) {
        t_skip("no seccomp architecture constant here");
        return;
    }
    t_assert_child_ok(status, "seccomp-enosys");
}
END_TEST

START_TEST(test_auto_picks_mprotect_without_uffd_eperm)
{
    int status = t_spawn_self("seccomp-eperm");

    if (WIFEXITED(status) && WEXITSTATUS(status) == CHILD_SKIP) {
        t_skip("no seccomp architecture constant here");
        return;
    }
    t_assert_child_ok(status, "seccomp-eperm");
}
END_TEST

int main(int argc, char **argv)
{
    const char *mode = t_child_mode(argc, argv);
    Suite *s;
    TCase *tc;

    if (mode)
        return run_child(mode);
    s = suite_create("signals");
    /* Not per backend: every case is about the mprotect backend's handler
     * or about choosing it; WW_TEST_REQUIRE decides if its absence fails. */
    if (ww_backend_available(WW_BACKEND_MPROTECT) != 0 &&
        !t_backend_required(WW_BACKEND_MPROTECT)) {
        t_skip_case("signals:mprotect", "mprotect backend unavailable");
        return t_run_suite(s);
    }
    tc = tcase_create("signals");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_siginfo_handler_installed_before);
    tcase_add_test(tc, test_plain_handler_installed_before);
    tcase_add_test(tc, test_previous_siginfo_handler_writes_watched);
    tcase_add_test(tc, test_previous_plain_handler_writes_watched);
    tcase_add_test(tc, test_previous_handler_siglongjmp);
    tcase_add_test(tc, test_previous_handler_longjmp_then_unblock);
    tcase_add_test(tc, test_previous_handler_longjmp_then_unblock_altstack);
    tcase_add_test(tc, test_fault_in_previous_handler_kills);
    tcase_add_test(tc, test_fault_in_previous_handler_kills_altstack);
    tcase_add_test(tc, test_fault_after_library_call_in_previous_handler_kills);
    tcase_add_test(tc, test_fault_in_nodefer_previous_handler_nests);
    tcase_add_test(tc, test_resethand_previous_handler);
    tcase_add_test(tc, test_raise_in_previous_handler_is_deferred);
    tcase_add_test(tc, test_previous_handler_blocks_only_its_thread);
    tcase_add_test(tc, test_default_action_still_kills);
    tcase_add_test(tc, test_ignored_segv_still_kills);
    tcase_add_test(tc, test_handler_installed_after_chains);
    tcase_add_test(tc, test_auto_picks_mprotect_without_uffd_enosys);
    tcase_add_test(tc, test_auto_picks_mprotect_without_uffd_eperm);
    suite_add_tcase(s, tc);
    return t_run_suite(s);
}
