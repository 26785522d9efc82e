/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * mprotect-signal.c - the process's SIGSEGV handler for the mprotect
 * backend.  It knows nothing of watches: a write fault on a read-only page
 * goes to ww__mp_fault(); everything it does not claim goes to the handler
 * that was installed before, as if that one had been called by the kernel,
 * with one difference: SIGSEGV is never blocked while it runs.
 * Owns the library's SIGSEGV handler and the handler it chains to; no
 * other file calls sigaction.
 *
 * The kernel would run the previous handler with its sa_mask and, unless
 * SA_NODEFER, SIGSEGV itself added to the interrupted code's mask.  Really
 * blocked, SIGSEGV would kill the process at the handler's first write to
 * an armed page (a fault that cannot be delivered is fatal).  So the
 * handler gets that mask without SIGSEGV, and the library keeps "SIGSEGV
 * blocked" for it, in this thread only:
 *   - a write to an armed watched page is the library's, handled as
 *     anywhere else;
 *   - any other fault gets the default action, as the kernel does with a
 *     fault it cannot deliver: the process dies of SIGSEGV, and does not
 *     enter the handler again;
 *   - a SIGSEGV sent with kill(2) waits until the handler returns (it is
 *     lost if the handler leaves by siglongjmp).
 * With SA_NODEFER (and SIGSEGV not in its sa_mask) nothing is blocked.
 *
 * When does "blocked" end?  When the handler returns, and when it leaves
 * by siglongjmp, which is common.  A thread-local flag cannot see the
 * jump, and the stack pointer alone cannot either: after the jump the
 * program may fault again from deeper in its stack than the handler ran.
 * What the jump does restore is the signal mask, so the state is kept in
 * the mask: in place of SIGSEGV the library blocks BLOCK_MARK, a signal
 * the C library reserves and never lets the program block (sigaddset
 * refuses it and sigfillset leaves it out, in glibc and musl; glibc's
 * sigprocmask also drops it from every mask it sets).  So the mask that
 * sigreturn restores, or that siglongjmp restores from a sigsetjmp outside
 * the handler, does not have it.  (While the handler runs that signal
 * waits too: glibc uses it for asynchronous pthread_cancel only.)
 * A fault counts as "inside, blocked" when all three hold:
 *   1. this thread's record (initial-exec TLS: async-signal-safe in a
 *      shared library) says that the library set the mark, not a program
 *      that blocked signal 32 with a raw system call;
 *   2. the mark is in the mask the fault interrupted;
 *   3. the fault's stack pointer is below the kernel's signal frame of the
 *      chained fault, on the same stack (sigaltstack or not).  The handler
 *      and what it calls run there; the program is above it again once it
 *      has left.  This covers a longjmp that keeps the mask (and so the
 *      mark) followed by sigprocmask(SIG_UNBLOCK, SIGSEGV), the textbook
 *      way out that the library cannot see.
 * Left over: after such a longjmp, a fault from deeper in the stack than
 * the handler ran still kills (as it would have without the library, had
 * SIGSEGV not been unblocked).  These end "blocked" early, so a fault of
 * the handler's own enters it again instead of killing: the handler
 * switches stacks (swapcontext) and faults there; it sets its mask with
 * SIG_SETMASK through glibc, itself or in a call that saves and restores
 * the mask (this library's get and reset do: ww__mp_lock_nosig()).
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/syscall.h>
#include <ucontext.h>
#include <unistd.h>

#include "mprotect.h"

/* Signal 32: glibc's SIGCANCEL, musl's timer signal (below SIGRTMIN in
 * both, which reserve 32..33 and 32..34). */
#define BLOCK_MARK 32
#define ULONG_BITS (sizeof(unsigned long) * CHAR_BIT)

/* A chained handler that runs with SIGSEGV "blocked" (see above). */
struct chained {
    volatile sig_atomic_t active;       /* this library set BLOCK_MARK */
    volatile sig_atomic_t pending;      /* a SIGSEGV from kill(2) waits */
    uintptr_t frame;                    /* the kernel's signal frame */
    uintptr_t alt_lo, alt_hi;           /* the thread's sigaltstack */
};

static __thread struct chained chained
    __attribute__((tls_model("initial-exec")));

static struct sigaction previous;
/* The previous handler had SA_RESETHAND and has been called once: the
 * kernel would have reset the action to SIG_DFL before calling it. */
static atomic_int previous_spent;

/* Whether the fault is a write to a page that is mapped without write
 * permission.  x86 says so in the page-fault error code; elsewhere any
 * access fault is taken for a write, which is right for the library's own
 * pages: armed pages are readable, so only a write can fault there. */
static int is_write_fault(const siginfo_t *si, const void *uctx)
{
    if (si->si_code != SEGV_ACCERR)
        return 0;
#if defined(__x86_64__) || defined(__i386__)
    return (((const ucontext_t *)uctx)->uc_mcontext.gregs[REG_ERR] & 2) != 0;
#else
    (void)uctx;
    return 1;
#endif
}

/* sigaddset() and sigismember() refuse a signal the C library reserves;
 * the kernel's layout (bit sig - 1) is the C library's. */
static void mark_add(sigset_t *set)
{
    ((unsigned long *)set)[(BLOCK_MARK - 1) / ULONG_BITS] |=
        1UL << ((BLOCK_MARK - 1) % ULONG_BITS);
}

static int mark_has(const sigset_t *set)
{
    return (((const unsigned long *)set)[(BLOCK_MARK - 1) / ULONG_BITS] >>
            ((BLOCK_MARK - 1) % ULONG_BITS)) & 1;
}

/* pthread_sigmask() would drop BLOCK_MARK. */
static void set_mask(const sigset_t *set)
{
    syscall(SYS_rt_sigprocmask, SIG_SETMASK, set, NULL, _NSIG / 8);
}

/* Where the fault happened; 0 if this architecture is not known here
 * (then the mask alone decides). */
static uintptr_t interrupted_sp(const ucontext_t *uc)
{
#if defined(__x86_64__)
    return (uintptr_t)uc->uc_mcontext.gregs[REG_RSP];
#elif defined(__i386__)
    return (uintptr_t)uc->uc_mcontext.gregs[REG_ESP];
#elif defined(__aarch64__)
    return (uintptr_t)uc->uc_mcontext.sp;
#else
    (void)uc;
    return 0;
#endif
}

static int on_altstack(uintptr_t p)
{
    return p >= chained.alt_lo && p < chained.alt_hi;
}

/* Whether a fault interrupted a chained handler that runs with SIGSEGV
 * "blocked" (conditions 1 to 3 at the top). */
static int blocked_here(const ucontext_t *uc)
{
    uintptr_t sp = interrupted_sp(uc);

    if (!chained.active || !mark_has(&uc->uc_sigmask))
        return 0;
    return sp == 0 || (sp < chained.frame &&
                       on_altstack(sp) == on_altstack(chained.frame));
}

/* SIG_DFL for SIGSEGV: terminate with a core.  Restore the default action
 * and return: a fault runs its instruction again and the kernel kills the
 * process exactly as if no handler had ever been installed.  A SIGSEGV
 * sent with kill(2) does not come back by itself, so it is raised again
 * (it is not blocked here: we run with SA_NODEFER). */
static void default_action(int sig, const siginfo_t *si)
{
    struct sigaction dfl;

    memset(&dfl, 0, sizeof(dfl));
    dfl.sa_handler = SIG_DFL;
    sigemptyset(&dfl.sa_mask);
    sigaction(sig, &dfl, NULL);
    if (si->si_code <= 0)
        raise(sig);
}

/* Run the previous handler with the mask the kernel would have given it:
 * the interrupted code's, its sa_mask, and the signal itself unless
 * SA_NODEFER; but with BLOCK_MARK in place of SIGSEGV.  An outer record
 * (of a handler left by a jump, or one this fault was not inside) is
 * saved here and is current again when this handler returns. */
static void call_previous(int sig, siginfo_t *si, ucontext_t *uc)
{
    struct chained outer = chained;
    sigset_t set = uc->uc_sigmask;
    int blocks, pending;

    sigorset(&set, &set, &previous.sa_mask);
    if (!(previous.sa_flags & SA_NODEFER))
        sigaddset(&set, sig);
    blocks = sigismember(&set, SIGSEGV) == 1;
    if (blocks) {
        sigdelset(&set, SIGSEGV);
        mark_add(&set);
        chained.frame = (uintptr_t)uc;
        chained.alt_lo = chained.alt_hi = 0;
        if (!(uc->uc_stack.ss_flags & SS_DISABLE)) {
            chained.alt_lo = (uintptr_t)uc->uc_stack.ss_sp;
            chained.alt_hi = chained.alt_lo + uc->uc_stack.ss_size;
        }
        chained.pending = 0;
        chained.active = 1;
    }
    set_mask(&set);
    if (previous.sa_flags & SA_SIGINFO)
        previous.sa_sigaction(sig, si, uc);
    else
        previous.sa_handler(sig);
    if (!blocks)
        return;
    pending = chained.pending;
    chained = outer;
    if (pending) {
        /* Unblocked now: delivered with the mask it would have found. */
        set_mask(&uc->uc_sigmask);
        raise(sig);
    }
}

static void chain(int sig, siginfo_t *si, void *uctx)
{
    int spent = atomic_load(&previous_spent);

    if (!spent && (previous.sa_flags & SA_SIGINFO)) {
        if (previous.sa_flags & SA_RESETHAND)
            atomic_store(&previous_spent, 1);
        call_previous(sig, si, uctx);
        return;
    }
    if (spent || previous.sa_handler == SIG_DFL) {
        default_action(sig, si);
    } else if (previous.sa_handler == SIG_IGN) {
        /* The kernel does not let a fault be ignored: it kills.  Only a
         * SIGSEGV sent by kill(2) is really ignored. */
        if (si->si_code > 0)
            default_action(sig, si);
    } else {
        if (previous.sa_flags & SA_RESETHAND)
            atomic_store(&previous_spent, 1);
        call_previous(sig, si, uctx);
    }
}

static void on_segv(int sig, siginfo_t *si, void *uctx)
{
    int saved_errno = errno;

    if (is_write_fault(si, uctx) && ww__mp_fault((uintptr_t)si->si_addr)) {
        /* Ours, wherever it happened. */
    } else if (blocked_here(uctx)) {
        /* What the kernel does with SIGSEGV blocked: a fault kills, a
         * kill(2) waits. */
        if (si->si_code > 0)
            default_action(sig, si);
        else
            chained.pending = 1;
    } else {
        chain(sig, si, uctx);
    }
    errno = saved_errno;
}

/*
 * SA_SIGINFO for the fault address, SA_ONSTACK so that a stack overflow
 * still reaches the previous handler on the thread's alternate stack,
 * SA_NODEFER because SIGSEGV must never be blocked: not in our handler
 * (the previous one may write to watched memory) nor, really, in the
 * previous one (call_previous()).  sa_mask blocks every asynchronous signal while we hold a
 * watch's lock: a signal handler that wrote to the same watch would wait
 * for that lock forever.  Synchronous signals stay open (blocked, they
 * would kill the process if they happened).
 */
int ww__mp_signal_install(void)
{
    static const int synchronous[] = { SIGSEGV, SIGBUS, SIGILL, SIGFPE,
                                       SIGTRAP, SIGSYS };
    struct sigaction sa, now;

    memset(&sa, 0, sizeof(sa));
    sa.sa_sigaction = on_segv;
    sigfillset(&sa.sa_mask);
    for (size_t i = 0; i < sizeof(synchronous) / sizeof(synchronous[0]); i++)
        sigdelset(&sa.sa_mask, synchronous[i]);
    if (sigaction(SIGSEGV, NULL, &previous) < 0)
        return -errno;
    /* A SIGSEGV sent by kill(2) and chained keeps the previous choice. */
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_NODEFER |
                  (previous.sa_flags & SA_RESTART);
    if (sigaction(SIGSEGV, &sa, NULL) < 0)
        return -errno;
    /* A sanitizer's or a sandbox's sigaction may refuse quietly. */
    if (sigaction(SIGSEGV, NULL, &now) < 0 ||
        !(now.sa_flags & SA_SIGINFO) || now.sa_sigaction != on_segv)
        return -ENOTSUP;
    return 0;
}
