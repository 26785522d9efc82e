/*
 * mprotect-signal.c - the process's SIGSEGV handler for the mprotect
 * backend.  It knows nothing of watches: a write fault on a read-only page
 * goes to ww__mp_fault(); everything it does not claim goes to the handler
 * that was installed before, as if that one had been called by the kernel.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <ucontext.h>

#include "mprotect.h"

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

/* Run the previous handler with the signal mask the kernel would have
 * given it: the interrupted code's mask, its sa_mask, and the signal
 * itself unless SA_NODEFER.  (Ours blocks every asynchronous signal.) */
static void enter_previous_mask(int sig, const ucontext_t *uc)
{
    sigset_t set = uc->uc_sigmask;

    sigorset(&set, &set, &previous.sa_mask);
    if (!(previous.sa_flags & SA_NODEFER))
        sigaddset(&set, sig);
    pthread_sigmask(SIG_SETMASK, &set, NULL);
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

static void chain(int sig, siginfo_t *si, void *uctx)
{
    int spent = atomic_load(&previous_spent);

    if (!spent && (previous.sa_flags & SA_SIGINFO)) {
        if (previous.sa_flags & SA_RESETHAND)
            atomic_store(&previous_spent, 1);
        enter_previous_mask(sig, uctx);
        previous.sa_sigaction(sig, si, uctx);
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
        enter_previous_mask(sig, uctx);
        previous.sa_handler(sig);
    }
}

static void on_segv(int sig, siginfo_t *si, void *uctx)
{
    int saved_errno = errno;

    if (!is_write_fault(si, uctx) || !ww__mp_fault((uintptr_t)si->si_addr))
        chain(sig, si, uctx);
    errno = saved_errno;
}

/*
 * SA_SIGINFO for the fault address, SA_ONSTACK so that a stack overflow
 * still reaches the previous handler on the thread's alternate stack,
 * SA_NODEFER so that a previous handler that faults itself behaves as it
 * would alone.  sa_mask blocks every asynchronous signal while we hold a
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
