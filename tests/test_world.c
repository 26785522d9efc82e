/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * test_world.c - the world changing under a watch (issue 11), on both
 * backends: memory unmapped and mapped again for another tracker, two
 * trackers reaching for the same memory, fork children that bypass
 * pthread_atfork (syscall(SYS_fork), _Fork, clone without CLONE_VM; also
 * one that opens a tracker of its own first), mappings put over a watch
 * between two calls (mmap MAP_FIXED, mremap), a kernel operation failing
 * in the middle of a get (fault injection), and the caller changing
 * protections while one thread writes and another re-arms.
 *
 * Every scenario keeps its own record of which pages were written since
 * their last report and checks each answer of the library against it:
 *   - no write is lost: a page written since it was last reported is in
 *     the next successful get covering it;
 *   - no page is reported unwritten, except where writewatch.h allows it
 *     (the places say which sentence allows it);
 *   - a call covering memory that was unmapped or replaced returns
 *     -ESTALE, never 0 with a report about somebody else's memory;
 *   - nothing crashes: a store into memory the library might have made
 *     inaccessible runs in a fork child first, and a crash of the test
 *     itself prints what it was doing.
 * A failure is printed at once ("FAIL world(backend) ...") and ends its
 * variant; the other variants still run, and the test fails at its end
 * with the first message.  Random choices come from seeded generators;
 * WW_WORLD_SEED=N replays one seed of the MAP_FIXED test, and messages
 * name their seed and step.
 */
#include "config.h"

#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "helpers.h"

#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE 0x100000
#endif

#define RW (PROT_READ | PROT_WRITE)

/* The hook of --enable-fault-injection builds for failing scans: the
 * n-th PAGEMAP_SCAN / mprotect of the library from now on (0 = the next)
 * fails once with -err; n < 0 disarms it. */
extern void ww_debug_fail_scan_after(long n, int err) __attribute__((weak));

/* ==========================================================================
 * Helpers
 * ========================================================================== */

/* --- failures: reported at once, counted, the first kept --------------- */
static char context[256];           /* the variant running */
static char step_note[256];         /* the step running, for a crash */
static unsigned n_failures;
static char first_failure[800];

static void set_context(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));
static void set_context(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(context, sizeof(context), fmt, ap);
    va_end(ap);
    step_note[0] = '\0';
}

static void note_step(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));
static void note_step(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(step_note, sizeof(step_note), fmt, ap);
    va_end(ap);
}

static void failf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void failf(const char *fmt, ...)
{
    char msg[512];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    fprintf(stderr, "FAIL world(%s) %s: %s\n", ww_backend_name(t_backend),
            context, msg);
    if (n_failures++ == 0)
        snprintf(first_failure, sizeof(first_failure), "%s: %s", context,
                 msg);
}

/* A failed expectation ends the variant (the function's `out:` label). */
#define EXPECT(cond, ...)                                                   \
    do {                                                                    \
        if (!(cond)) {                                                      \
            failf(__VA_ARGS__);                                             \
            goto out;                                                       \
        }                                                                   \
    } while (0)

static void assert_no_failures(void)
{
    ck_assert_msg(n_failures == 0,
                  "%u failure(s); the first: %s (every one is a FAIL line "
                  "on stderr)", n_failures, first_failure);
}

/* --- a crash says what it interrupted ---------------------------------
 * Installed by main() before the library's handler (which chains to it),
 * so a fault nobody claims prints the variant and step, then kills the
 * process as SIG_DFL would.  Children that store to see a fault set
 * fault_expected first. */
static volatile sig_atomic_t fault_expected;

static void say(const char *s)
{
    if (write(2, s, strlen(s)) < 0) {
        /* nothing to be done about it */
    }
}

static void on_crash(int sig)
{
    struct sigaction dfl;

    if (!fault_expected) {
        say("test_world: crashed during: ");
        say(context);
        say(" / ");
        say(step_note);
        say("\n");
    }
    memset(&dfl, 0, sizeof(dfl));
    dfl.sa_handler = SIG_DFL;
    sigaction(sig, &dfl, NULL);     /* the fault runs again and kills */
}

static void install_crash_note(void)
{
    struct sigaction sa;

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_crash;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_NODEFER;
    sigaction(SIGSEGV, &sa, NULL);
    sigaction(SIGBUS, &sa, NULL);
}

/* --- reproducible choices (xorshift64*) -------------------------------- */
struct rng {
    uint64_t x;
};

static void rng_seed(struct rng *g, unsigned long seed)
{
    g->x = seed * 0x9E3779B97F4A7C15ULL + 1;
}

static size_t below(struct rng *g, size_t n)
{
    g->x ^= g->x >> 12;
    g->x ^= g->x << 25;
    g->x ^= g->x >> 27;
    return (size_t)((g->x * 0x2545F4914F6CDD1DULL) % n);
}

static unsigned long env_number(const char *name, unsigned long fallback)
{
    const char *v = getenv(name);

    return v && *v ? strtoul(v, NULL, 10) : fallback;
}

/* --- memory and processes ---------------------------------------------- */
static ww_tracker *open_on(enum ww_backend b)
{
    ww_tracker *t = NULL;
    int r = ww_tracker_open(&t, b, 0);

    ck_assert_msg(r == 0, "ww_tracker_open(%s): %s", ww_backend_name(b),
                  ww_strerror(r));
    return t;
}

static int backend_here(enum ww_backend b)
{
    return ww_backend_available(b) == 0;
}

static enum ww_backend other_backend(enum ww_backend b)
{
    return b == WW_BACKEND_UFFD ? WW_BACKEND_MPROTECT : WW_BACKEND_UFFD;
}

/* Map n fresh pages with protection prot at addr: over what is there
 * (MAP_FIXED), or into the hole left by munmap (MAP_FIXED_NOREPLACE,
 * which fails rather than map elsewhere).  0 or -errno. */
static int map_at(char *addr, size_t n, int prot, int after_munmap)
{
    int flags = MAP_PRIVATE | MAP_ANONYMOUS;
    void *p;

    if (after_munmap) {
        if (munmap(addr, n * PAGE) != 0)
            return -errno;
        flags |= MAP_FIXED_NOREPLACE;
    } else {
        flags |= MAP_FIXED;
    }
    p = mmap(addr, n * PAGE, prot, flags, -1, 0);
    if (p == MAP_FAILED)
        return -errno;
    if (p != addr) {
        munmap(p, n * PAGE);
        return -EEXIST;
    }
    return 0;
}

static const char *status_text(int status)
{
    static char s[64];

    if (WIFEXITED(status))
        snprintf(s, sizeof(s), "exited with status %d", WEXITSTATUS(status));
    else if (WIFSIGNALED(status))
        snprintf(s, sizeof(s), "was killed by signal %d (%s)",
                 WTERMSIG(status), strsignal(WTERMSIG(status)));
    else
        snprintf(s, sizeof(s), "ended with wait status %#x",
                 (unsigned)status);
    return s;
}

static int exited_ok(int status)
{
    return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

static int died_of_segv(int status)
{
    return WIFSIGNALED(status) && WTERMSIG(status) == SIGSEGV;
}

/* Store one byte at p in a fork child; the child's wait status. */
static int child_store(volatile char *p)
{
    int status = 0;
    pid_t pid;

    fflush(NULL);
    pid = fork();
    ck_assert_int_ne(pid, -1);
    if (pid == 0) {
        struct rlimit no_core = { 0, 0 };

        setrlimit(RLIMIT_CORE, &no_core);
        fault_expected = 1;
        *p = 1;
        _exit(0);
    }
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    return status;
}

/* Store into page i of base, in a fork child first: if the library made
 * the page inaccessible, the child dies and the test says so rather than
 * crash.  0, or -1 once the failure is reported. */
static int store_page(char *base, size_t i, const char *whose)
{
    volatile char *p = base + i * PAGE + 1;
    int status = child_store(p);

    if (!exited_ok(status)) {
        failf("a store into page %zu of %s %s in a fork child: that memory "
              "should be writable", i, whose, status_text(status));
        return -1;
    }
    *p = (char)(*p + 1);
    return 0;
}

/* The protection of every VMA, read from /proc/self/maps at once. */
struct vma_snap {
    uintptr_t lo, hi;
    int prot;
};
static struct vma_snap maps[4096];
static size_t n_maps;

static void read_maps(void)
{
    FILE *f = fopen("/proc/self/maps", "r");
    char line[1024];

    ck_assert_ptr_nonnull(f);
    n_maps = 0;
    while (n_maps < sizeof(maps) / sizeof(maps[0]) &&
           fgets(line, sizeof(line), f)) {
        unsigned long lo, hi;
        char perms[8];

        if (sscanf(line, "%lx-%lx %7s", &lo, &hi, perms) != 3)
            continue;
        maps[n_maps].lo = lo;
        maps[n_maps].hi = hi;
        maps[n_maps].prot = (perms[0] == 'r' ? PROT_READ : 0) |
                            (perms[1] == 'w' ? PROT_WRITE : 0) |
                            (perms[2] == 'x' ? PROT_EXEC : 0);
        n_maps++;
    }
    fclose(f);
}

/* The protection of addr in the last read_maps(); -1 if unmapped. */
static int mapped_prot(const void *addr)
{
    uintptr_t a = (uintptr_t)addr;

    for (size_t i = 0; i < n_maps; i++)
        if (maps[i].lo <= a && a < maps[i].hi)
            return maps[i].prot;
    return -1;
}

static const char *prot_text(int prot)
{
    switch (prot) {
    case -1: return "(unmapped)";
    case PROT_NONE: return "---";
    case PROT_READ: return "r--";
    case RW: return "rw-";
    case PROT_READ | PROT_EXEC: return "r-x";
    case RW | PROT_EXEC: return "rwx";
    }
    return "(other)";
}

/* --- library calls, by name, on pages [from, to) of a base ------------- */
enum call {
    C_GET, C_GET_RESET, C_RANGES_RESET, C_RESET, C_MARK, C_PROTECT_R,
    C_PROTECT_RW, N_CALLS
};
static const char *const call_names[N_CALLS] = {
    "ww_get", "ww_get+RESET", "ww_get_ranges+RESET", "ww_reset",
    "ww_mark_written", "ww_protect(PROT_READ)",
    "ww_protect(PROT_READ|PROT_WRITE)",
};

static int is_get(enum call c)
{
    return c <= C_RANGES_RESET;
}

static int rearms(enum call c)
{
    return c == C_GET_RESET || c == C_RANGES_RESET || c == C_RESET;
}

enum { MAX_PAGES = 1200 };
static void *page_buf[MAX_PAGES];
static struct ww_range run_buf[MAX_PAGES];
/* Why the last get's answer was malformed, or "". */
static char report_bad[256];
/* Scan failure to inject into the next get (fault-injection builds). */
static long inject_at = -1;
static int inject_err;

static void pages_to_bitmap(char *base, size_t from, size_t to, size_t n,
                            unsigned char *rep)
{
    uintptr_t lo = (uintptr_t)(base + from * PAGE);
    uintptr_t hi = (uintptr_t)(base + to * PAGE), last = 0;

    for (size_t i = 0; i < n; i++) {
        uintptr_t a = (uintptr_t)page_buf[i];

        if (a % PAGE || a < lo || a >= hi || (i > 0 && a <= last)) {
            snprintf(report_bad, sizeof(report_bad),
                     "entry %zu (%p) is not a page of [%zu, %zu) above the "
                     "entry before it", i, page_buf[i], from, to);
            return;
        }
        rep[(a - (uintptr_t)base) / PAGE] = 1;
        last = a;
    }
}

static void runs_to_bitmap(char *base, size_t from, size_t to, size_t n,
                           unsigned char *rep)
{
    uintptr_t lo = (uintptr_t)(base + from * PAGE);
    uintptr_t hi = (uintptr_t)(base + to * PAGE), last_end = 0;

    for (size_t i = 0; i < n; i++) {
        uintptr_t a = (uintptr_t)run_buf[i].addr, len = run_buf[i].len;

        /* Maximal runs: the next one starts after a gap. */
        if (a % PAGE || len == 0 || len % PAGE || a < lo || len > hi - a ||
            (i > 0 && a <= last_end)) {
            snprintf(report_bad, sizeof(report_bad),
                     "run %zu (%p, %zu bytes) is not a maximal run inside "
                     "pages [%zu, %zu) above the run before it", i,
                     run_buf[i].addr, run_buf[i].len, from, to);
            return;
        }
        for (uintptr_t p = a; p < a + len; p += PAGE)
            rep[(p - (uintptr_t)base) / PAGE] = 1;
        last_end = a + len;
    }
}

/*
 * Call c on pages [from, to) of base; gets use a capacity of one entry
 * per page and leave what they reported in rep[from..to) (one byte per
 * page, indexed from base).  Returns the call's result; report_bad says
 * whether a get's answer was malformed (or *count changed on failure).
 */
static int do_call(ww_tracker *t, char *base, size_t from, size_t to,
                   enum call c, unsigned char *rep)
{
    char *addr = base + from * PAGE;
    size_t len = (to - from) * PAGE, cap = to - from, count = cap;
    int r;

    report_bad[0] = '\0';
    if (is_get(c))
        memset(rep + from, 0, to - from);
    if (inject_at >= 0 && ww_debug_fail_scan_after)
        ww_debug_fail_scan_after(inject_at, inject_err);
    switch (c) {
    case C_GET:
    case C_GET_RESET:
        r = ww_get(t, addr, len, c == C_GET_RESET ? WW_GET_RESET : 0,
                   page_buf, &count);
        break;
    case C_RANGES_RESET:
        r = ww_get_ranges(t, addr, len, WW_GET_RESET, run_buf, &count);
        break;
    case C_RESET:
        r = ww_reset(t, addr, len);
        break;
    case C_MARK:
        r = ww_mark_written(t, addr, len);
        break;
    case C_PROTECT_R:
        r = ww_protect(t, addr, len, PROT_READ);
        break;
    default:
        r = ww_protect(t, addr, len, RW);
        break;
    }
    if (inject_at >= 0 && ww_debug_fail_scan_after)
        ww_debug_fail_scan_after(-1, 0);
    if (!is_get(c))
        return r;
    if (r != 0) {
        if (count != cap)
            snprintf(report_bad, sizeof(report_bad),
                     "the failed call changed *count from %zu to %zu", cap,
                     count);
    } else if (c == C_RANGES_RESET) {
        runs_to_bitmap(base, from, to, count, rep);
    } else {
        pages_to_bitmap(base, from, to, count, rep);
    }
    return r;
}

static size_t count_set(const unsigned char *rep, size_t from, size_t to)
{
    size_t n = 0;

    for (size_t p = from; p < to; p++)
        n += rep[p] != 0;
    return n;
}

/*
 * Get (call c) on pages [from, to) of base must succeed and report
 * exactly the pages set in want[]; a resetting get then clears them.
 * 0, or -1 once the difference is reported (who: whose report).
 */
static int expect_report(ww_tracker *t, char *base, size_t from, size_t to,
                         enum call c, unsigned char *want, const char *who)
{
    unsigned char rep[MAX_PAGES];
    int r;

    note_step("%s: %s on pages [%zu, %zu)", who, call_names[c], from, to);
    r = do_call(t, base, from, to, c, rep);
    if (r != 0) {
        failf("%s: %s on pages [%zu, %zu): %s, expected success", who,
              call_names[c], from, to, ww_strerror(r));
        return -1;
    }
    if (report_bad[0]) {
        failf("%s: %s: %s", who, call_names[c], report_bad);
        return -1;
    }
    for (size_t p = from; p < to; p++) {
        if (!rep[p] == !want[p])
            continue;
        failf("%s: %s on pages [%zu, %zu): page %zu %s (%zu reported, %zu "
              "expected)", who, call_names[c], from, to, p,
              want[p] ? "was written but is not reported (lost write)"
                      : "is reported but was not written",
              count_set(rep, from, to), count_set(want, from, to));
        return -1;
    }
    if (rearms(c))
        memset(want + from, 0, to - from);
    return 0;
}

/* ==========================================================================
 * 1. Two trackers, one address: tracker 1's memory is unmapped or
 *    replaced, tracker 2 (either backend) watches what is there now.
 * ========================================================================== */
enum { S1_PAGES = 16, S1_PART_FROM = 4, S1_PART_TO = 10 };

enum layout { WHOLE_FIXED, WHOLE_REMAPPED, PART_FIXED, PART_REMAPPED,
              N_LAYOUTS };
static const char *const layout_names[N_LAYOUTS] = {
    "mmap(MAP_FIXED) over the whole watch",
    "munmap of the whole watch, then mmap at its address",
    "mmap(MAP_FIXED) over pages 4-9 of 16",
    "munmap of pages 4-9 of 16, then mmap at their address",
};
static const char *const prewrite_names[3] = {
    "no page written before", "pages 1 5 8 13 written before",
    "every page written before",
};

/*
 * Every call of tracker 1 on pages [from, to), which cover memory it no
 * longer has, must answer -ESTALE; and, if tracker 2 watches [na, nb),
 * leave it as it was: its memory writable, its report exactly want2.
 * A wrong answer is reported and the next call tried; a disturbed
 * tracker 2 ends the variant (-1).
 */
static int tracker1_is_stale(ww_tracker *t1, char *base, size_t from,
                             size_t to, ww_tracker *t2, size_t na, size_t nb,
                             unsigned char *want2)
{
    unsigned char rep[MAX_PAGES];

    for (int c = 0; c < N_CALLS; c++) {
        char who[128];
        int r, status;

        note_step("tracker 1: %s on pages [%zu, %zu)", call_names[c], from,
                  to);
        r = do_call(t1, base, from, to, c, rep);
        if (r == 0 && is_get(c))
            failf("tracker 1's %s on pages [%zu, %zu), over memory it no "
                  "longer has: success, reporting %zu pages; expected "
                  "-ESTALE", call_names[c], from, to,
                  count_set(rep, from, to));
        else if (r != -ESTALE)
            failf("tracker 1's %s on pages [%zu, %zu), over memory it no "
                  "longer has: %s; expected -ESTALE", call_names[c], from,
                  to, r == 0 ? "success" : ww_strerror(r));
        if (!t2)
            continue;
        status = child_store(base + na * PAGE + 1);
        if (!exited_ok(status)) {
            failf("after tracker 1's %s, a store into tracker 2's page %zu "
                  "%s in a fork child: tracker 1 changed memory that is not "
                  "its own", call_names[c], na, status_text(status));
            return -1;
        }
        snprintf(who, sizeof(who), "after tracker 1's %s, tracker 2",
                 call_names[c]);
        if (expect_report(t2, base, na, nb, C_GET, want2, who) < 0)
            return -1;
    }
    return 0;
}

static void two_trackers(enum ww_backend b2, enum layout l, int t1_first,
                         int prewrite)
{
    static const size_t some[] = { 1, 5, 8, 13 };
    ww_tracker *t1 = open_on(t_backend), *t2 = open_on(b2);
    char *base = t_map(S1_PAGES);
    unsigned char want1[S1_PAGES] = { 0 }, want2[S1_PAGES] = { 0 };
    int whole = l == WHOLE_FIXED || l == WHOLE_REMAPPED;
    size_t na = whole ? 0 : S1_PART_FROM, nb = whole ? S1_PAGES : S1_PART_TO;
    int t2_watching = 0, r;

    set_context("[two trackers: 1 %s, 2 %s; %s; %s; tracker 1 asked %s "
                "tracker 2 watches]", ww_backend_name(t_backend),
                ww_backend_name(b2), layout_names[l], prewrite_names[prewrite],
                t1_first ? "before and after" : "after");
    r = ww_watch(t1, base, S1_PAGES * PAGE, 0);
    EXPECT(r == 0, "tracker 1 watching fresh memory: %s", ww_strerror(r));
    for (size_t i = 0; i < S1_PAGES; i++) {
        int w = prewrite == 2;

        for (size_t k = 0; prewrite == 1 && k < 4; k++)
            w |= some[k] == i;
        if (w && store_page(base, i, "tracker 1's memory") < 0)
            goto out;
        want1[i] = (unsigned char)w;
    }
    r = map_at(base + na * PAGE, nb - na, RW,
               l == WHOLE_REMAPPED || l == PART_REMAPPED);
    EXPECT(r == 0, "mapping new memory at pages [%zu, %zu): %s", na, nb,
           strerror(-r));
    if (t1_first &&
        tracker1_is_stale(t1, base, na, nb, NULL, 0, 0, NULL) < 0)
        goto out;

    r = ww_watch(t2, base + na * PAGE, (nb - na) * PAGE, 0);
    EXPECT(r == 0, "tracker 2 watching the new mapping at pages [%zu, %zu): "
           "%s; expected success (tracker 1's memory there is gone)", na, nb,
           ww_strerror(r));
    t2_watching = 1;
    if (store_page(base, na + 1, "tracker 2's memory") < 0 ||
        store_page(base, na + 3, "tracker 2's memory") < 0)
        goto out;
    want2[na + 1] = want2[na + 3] = 1;
    if (expect_report(t2, base, na, nb, C_GET, want2, "tracker 2") < 0)
        goto out;

    /* Pages [0, na) are still tracker 1's own: its watch may be stale as
     * a whole, or answer there exactly. */
    if (!whole) {
        unsigned char rep[S1_PAGES];

        note_step("tracker 1: ww_get on its surviving pages [0, %zu)", na);
        r = do_call(t1, base, 0, na, C_GET, rep);
        EXPECT(r == 0 || r == -ESTALE, "tracker 1's ww_get on pages [0, "
               "%zu), still its own: %s; expected success or -ESTALE", na,
               ww_strerror(r));
        for (size_t p = 0; r == 0 && p < na; p++)
            EXPECT(!rep[p] == !want1[p], "tracker 1's ww_get on pages [0, "
                   "%zu), still its own: page %zu %s", na, p,
                   want1[p] ? "was written but is not reported (lost write)"
                            : "is reported but was not written");
    }

    if (tracker1_is_stale(t1, base, 0, S1_PAGES, t2, na, nb, want2) < 0)
        goto out;
    if (!whole &&
        tracker1_is_stale(t1, base, na, nb, t2, na, nb, want2) < 0)
        goto out;

    if (store_page(base, na + 2, "tracker 2's memory") < 0)
        goto out;
    want2[na + 2] = 1;
    if (expect_report(t2, base, na, nb, C_GET_RESET, want2,
                      "tracker 2") < 0 ||
        expect_report(t2, base, na, nb, C_GET, want2,
                      "tracker 2, re-armed") < 0)
        goto out;

    note_step("tracker 1: ww_unwatch");
    r = ww_unwatch(t1, base, S1_PAGES * PAGE);
    EXPECT(r == 0, "tracker 1's ww_unwatch of its stale watch: %s; expected "
           "success", ww_strerror(r));
    if (store_page(base, na, "tracker 2's memory") < 0)
        goto out;
    want2[na] = 1;
    if (expect_report(t2, base, na, nb, C_GET_RESET, want2,
                      "after tracker 1's ww_unwatch, tracker 2") < 0)
        goto out;
out:
    if (t2_watching)
        ww_unwatch(t2, base + na * PAGE, (nb - na) * PAGE);
    ww_tracker_close(t2);
    ww_tracker_close(t1);
    munmap(base, S1_PAGES * PAGE);
}

START_TEST(test_two_trackers_one_address)
{
    static const enum ww_backend second[] = { WW_BACKEND_UFFD,
                                              WW_BACKEND_MPROTECT };

    for (size_t i = 0; i < 2; i++) {
        if (!backend_here(second[i])) {
            fprintf(stderr, "SKIP world(%s): no %s tracker 2 here\n",
                    ww_backend_name(t_backend),
                    ww_backend_name(second[i]));
            continue;
        }
        for (int l = 0; l < N_LAYOUTS; l++)
            for (int t1_first = 0; t1_first < 2; t1_first++)
                for (int pre = 0; pre < 3; pre++)
                    two_trackers(second[i], (enum layout)l, t1_first, pre);
    }
    assert_no_failures();
}
END_TEST

/* ==========================================================================
 * 2. Two trackers, overlapping ranges of live memory: the second watch
 *    must be refused with -EEXIST, whatever the two backends, and the
 *    first must not notice the attempt.
 * ========================================================================== */
enum { S2_PAGES = 16, S2_FROM = 4, S2_TO = 12 };

static void overlapping_watch(enum ww_backend b2)
{
    static const size_t overlap[][2] = {
        { 4, 12 }, { 6, 8 }, { 0, 6 }, { 10, 16 }, { 0, 16 }, { 11, 13 },
    };
    static const size_t beside[][2] = { { 0, 4 }, { 12, 16 } };
    ww_tracker *t1 = open_on(t_backend), *t2 = open_on(b2);
    char *base = t_map(S2_PAGES);
    unsigned char want1[S2_PAGES] = { 0 }, want2[S2_PAGES] = { 0 };
    int t1_watching = 0, r;

    set_context("[overlap: tracker 1 %s watches pages [4, 12), tracker 2 "
                "%s]", ww_backend_name(t_backend), ww_backend_name(b2));
    r = ww_watch(t1, base + S2_FROM * PAGE, (S2_TO - S2_FROM) * PAGE, 0);
    EXPECT(r == 0, "tracker 1's ww_watch: %s", ww_strerror(r));
    t1_watching = 1;
    if (store_page(base, 5, "tracker 1's memory") < 0)
        goto out;
    want1[5] = 1;
    for (size_t i = 0; i < sizeof(overlap) / sizeof(overlap[0]); i++) {
        size_t a = overlap[i][0], b = overlap[i][1];
        size_t p = a < S2_FROM ? S2_FROM : a;
        char who[96];

        note_step("tracker 2: ww_watch of pages [%zu, %zu)", a, b);
        r = ww_watch(t2, base + a * PAGE, (b - a) * PAGE, 0);
        if (r == 0)
            ww_unwatch(t2, base + a * PAGE, (b - a) * PAGE);
        if (r != -EEXIST)
            failf("tracker 2's ww_watch of pages [%zu, %zu), overlapping "
                  "tracker 1's live watch: %s; expected -EEXIST", a, b,
                  r == 0 ? "success" : ww_strerror(r));
        if (store_page(base, p, "tracker 1's memory") < 0)
            goto out;
        want1[p] = 1;
        snprintf(who, sizeof(who), "after tracker 2's attempt on [%zu, "
                 "%zu), tracker 1", a, b);
        if (expect_report(t1, base, S2_FROM, S2_TO, C_GET_RESET, want1,
                          who) < 0)
            goto out;
    }
    for (size_t i = 0; i < 2; i++) {
        size_t a = beside[i][0], b = beside[i][1];

        r = ww_watch(t2, base + a * PAGE, (b - a) * PAGE, 0);
        EXPECT(r == 0, "tracker 2's ww_watch of pages [%zu, %zu), beside "
               "tracker 1's watch: %s; expected success", a, b,
               ww_strerror(r));
        r = store_page(base, a + 1, "tracker 2's memory");
        if (r == 0) {
            want2[a + 1] = 1;
            r = expect_report(t2, base, a, b, C_GET_RESET, want2,
                              "tracker 2 beside tracker 1");
        }
        if (r == 0)
            r = expect_report(t1, base, S2_FROM, S2_TO, C_GET, want1,
                              "tracker 1 beside tracker 2");
        ww_unwatch(t2, base + a * PAGE, (b - a) * PAGE);
        if (r < 0)
            goto out;
    }
    /* Once tracker 1 lets go, the memory is free for tracker 2. */
    r = ww_unwatch(t1, base + S2_FROM * PAGE, (S2_TO - S2_FROM) * PAGE);
    t1_watching = 0;
    EXPECT(r == 0, "tracker 1's ww_unwatch: %s", ww_strerror(r));
    r = ww_watch(t2, base + S2_FROM * PAGE, (S2_TO - S2_FROM) * PAGE, 0);
    EXPECT(r == 0, "tracker 2's ww_watch of pages [4, 12) after tracker 1's "
           "ww_unwatch: %s; expected success", ww_strerror(r));
    if (store_page(base, 7, "tracker 2's memory") == 0) {
        want2[7] = 1;
        expect_report(t2, base, S2_FROM, S2_TO, C_GET_RESET, want2,
                      "tracker 2 after tracker 1 let go");
    }
    ww_unwatch(t2, base + S2_FROM * PAGE, (S2_TO - S2_FROM) * PAGE);
out:
    if (t1_watching)
        ww_unwatch(t1, base + S2_FROM * PAGE, (S2_TO - S2_FROM) * PAGE);
    ww_tracker_close(t2);
    ww_tracker_close(t1);
    munmap(base, S2_PAGES * PAGE);
}

START_TEST(test_overlapping_trackers_refused)
{
    overlapping_watch(t_backend);
    if (backend_here(other_backend(t_backend)))
        overlapping_watch(other_backend(t_backend));
    else
        fprintf(stderr, "SKIP world(%s): no %s tracker here for the cross-"
                "backend overlap\n", ww_backend_name(t_backend),
                ww_backend_name(other_backend(t_backend)));
    assert_no_failures();
}
END_TEST

/* ==========================================================================
 * 3. Fork children, also those made without pthread_atfork handlers:
 *    every call on an inherited tracker but close is -ECHILD, the child
 *    may write its copy of watched memory, and the parent's trackers
 *    report exactly the parent's writes (before and after the fork).
 * ========================================================================== */
enum { S3_PAGES = 32 };

enum fork_kind {
    BY_FORK, BY_SYSCALL, BY_UNDERSCORE_FORK, BY_CLONE, N_FORK_KINDS
};
static const char *const fork_names[N_FORK_KINDS] = {
    "fork()", "syscall(SYS_fork)", "_Fork()",
    "syscall(SYS_clone, SIGCHLD) (no CLONE_VM)",
};

#if defined(__GLIBC__) && \
    (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 34))
#define HAVE_UNDERSCORE_FORK 1
#else
#define HAVE_UNDERSCORE_FORK 0
#endif

/* A child process, made the way k says; -1 with errno on failure. */
static pid_t fork_by(enum fork_kind k)
{
    fflush(NULL);
    switch (k) {
    case BY_FORK:
        return fork();
    case BY_SYSCALL:
#ifdef SYS_fork
        return (pid_t)syscall(SYS_fork);
#else
        return (pid_t)syscall(SYS_clone, SIGCHLD, 0, 0, 0, 0);
#endif
    case BY_UNDERSCORE_FORK:
#if HAVE_UNDERSCORE_FORK
        return _Fork();
#else
        break;
#endif
    case BY_CLONE:
        return (pid_t)syscall(SYS_clone, SIGCHLD, 0, 0, 0, 0);
    default:
        break;
    }
    errno = ENOSYS;
    return -1;
}

/* What the child does with an inherited tracker, in this order. */
enum child_call {
    K_GET_RESET, K_GET, K_RANGES_RESET, K_RESET, K_MARK, K_PROTECT_RW,
    K_WATCH, K_UNWATCH, K_PROTECT_R, K_CLOSE, N_CHILD_CALLS
};
static const char *const child_call_names[N_CHILD_CALLS] = {
    "ww_get+RESET", "ww_get", "ww_get_ranges+RESET", "ww_reset",
    "ww_mark_written", "ww_protect(PROT_READ|PROT_WRITE)",
    "ww_watch (of fresh memory)", "ww_unwatch", "ww_protect(PROT_READ)",
    "ww_tracker_close",
};
static const enum call child_as_call[K_WATCH] = {
    C_GET_RESET, C_GET, C_RANGES_RESET, C_RESET, C_MARK, C_PROTECT_RW,
};

/* Shared with the child (MAP_SHARED): what it did, how far it got. */
struct child_log {
    int tracker;                    /* the one it is working on */
    int progress;                   /* the child_call it is at */
    int r[2][N_CHILD_CALLS];
};

struct inherited {
    ww_tracker *t;
    char *mem;
    enum ww_backend backend;
};

static const size_t s3_before[] = { 1, 7, 8, 20 };
static const size_t s3_after[] = { 2, 8, 30 };
static const size_t s3_child[] = { 3, 7, 9 };

static void child_stores(char *mem)
{
    for (size_t i = 0; i < sizeof(s3_child) / sizeof(s3_child[0]); i++)
        ((volatile char *)mem)[s3_child[i] * PAGE + 2] = 9;
}

/* What the child does: everything in order; only a get+RESET (and no
 * close: the parent's writes must survive it); only close. */
enum child_plan { EVERY_CALL, GET_RESET_ONLY, CLOSE_ONLY, N_PLANS };
static const char *const plan_names[N_PLANS] = {
    "calls everything on the inherited trackers",
    "only calls ww_get+RESET on the inherited trackers",
    "only closes the inherited trackers",
};

/* The calls the child makes under plan: [*first, *last). */
static void plan_calls(enum child_plan plan, int *first, int *last)
{
    *first = plan == CLOSE_ONLY ? K_CLOSE : 0;
    *last = plan == GET_RESET_ONLY ? K_GET_RESET + 1 : N_CHILD_CALLS;
}

/* In the child: only _exit, never return (Check's process state). */
static void child_work(struct inherited *in, size_t n, enum child_plan plan,
                       struct child_log *log)
{
    unsigned char rep[S3_PAGES];
    int first, last;

    plan_calls(plan, &first, &last);
    for (size_t i = 0; i < n; i++) {
        int *r = log->r[i];

        log->tracker = (int)i;
        log->progress = -1;
        child_stores(in[i].mem);
        for (int k = first; k < last && k < K_CLOSE; k++) {
            log->progress = k;
            if (k < K_WATCH) {
                r[k] = do_call(in[i].t, in[i].mem, 0, S3_PAGES,
                               child_as_call[k], rep);
            } else if (k == K_WATCH) {
                void *fresh = mmap(NULL, 2 * PAGE, RW,
                                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
                r[k] = fresh == MAP_FAILED ? -ENOMEM
                                           : ww_watch(in[i].t, fresh,
                                                      2 * PAGE, 0);
            } else if (k == K_UNWATCH) {
                r[k] = ww_unwatch(in[i].t, in[i].mem, S3_PAGES * PAGE);
            } else {
                r[k] = ww_protect(in[i].t, in[i].mem, S3_PAGES * PAGE,
                                  PROT_READ);
            }
            if (k == K_PROTECT_RW)
                child_stores(in[i].mem);    /* read-write either way */
        }
        if (last < N_CHILD_CALLS)
            continue;
        log->progress = K_CLOSE;
        r[K_CLOSE] = ww_tracker_close(in[i].t);
        /* Its copy is plain memory now (unless a wrongly successful
         * ww_protect made it read-only: already a failure). */
        if (plan == CLOSE_ONLY || r[K_PROTECT_R] != 0)
            child_stores(in[i].mem);
    }
    log->progress = N_CHILD_CALLS;
    _exit(0);
}

static void fork_child_variant(enum fork_kind kind, enum child_plan plan)
{
    struct child_log *log = mmap(NULL, sizeof(*log), RW,
                                 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    struct inherited in[2];
    size_t n = 0;
    int status = 0, first, last, r;
    pid_t pid;

    ck_assert_ptr_ne(log, MAP_FAILED);
    memset(log, 0, sizeof(*log));
    plan_calls(plan, &first, &last);
    set_context("[%s child that %s]", fork_names[kind], plan_names[plan]);
    in[n].backend = t_backend;
    in[n].t = open_on(t_backend);
    in[n++].mem = t_map(S3_PAGES);
    if (backend_here(other_backend(t_backend))) {
        in[n].backend = other_backend(t_backend);
        in[n].t = open_on(in[n].backend);
        in[n++].mem = t_map(S3_PAGES);
    }
    for (size_t i = 0; i < n; i++) {
        r = ww_watch(in[i].t, in[i].mem, S3_PAGES * PAGE, 0);
        EXPECT(r == 0, "ww_watch on the %s tracker: %s",
               ww_backend_name(in[i].backend), ww_strerror(r));
        for (size_t k = 0; k < sizeof(s3_before) / sizeof(s3_before[0]); k++)
            ((volatile char *)in[i].mem)[s3_before[k] * PAGE] = 1;
    }

    note_step("forking");
    pid = fork_by(kind);
    if (pid == 0)
        child_work(in, n, plan, log);
    EXPECT(pid > 0, "%s: %s", fork_names[kind], strerror(errno));
    EXPECT(waitpid(pid, &status, 0) == pid, "waitpid: %s", strerror(errno));
    EXPECT(exited_ok(status), "the child %s, working on the inherited %s "
           "tracker at %s", status_text(status),
           ww_backend_name(in[log->tracker].backend),
           log->progress < 0 ? "its first stores into watched memory"
           : log->progress < N_CHILD_CALLS ? child_call_names[log->progress]
                                           : "its end");

    for (size_t i = 0; i < n; i++) {
        for (int k = first; k < last; k++) {
            int want = k == K_CLOSE ? 0 : -ECHILD;

            if (log->r[i][k] != want)
                failf("in the child, %s on the inherited %s tracker: %s; "
                      "expected %s", child_call_names[k],
                      ww_backend_name(in[i].backend),
                      log->r[i][k] == 0 ? "success"
                                        : ww_strerror(log->r[i][k]),
                      want == 0 ? "success" : "-ECHILD");
        }
    }

    for (size_t i = 0; i < n; i++) {
        unsigned char want[S3_PAGES] = { 0 };
        char who[96];

        for (size_t k = 0; k < sizeof(s3_before) / sizeof(s3_before[0]); k++)
            want[s3_before[k]] = 1;
        for (size_t k = 0; k < sizeof(s3_after) / sizeof(s3_after[0]); k++) {
            ((volatile char *)in[i].mem)[s3_after[k] * PAGE] = 2;
            want[s3_after[k]] = 1;
        }
        snprintf(who, sizeof(who), "the parent's %s tracker after the child",
                 ww_backend_name(in[i].backend));
        /* All of them, then none: the get+RESET re-armed them. */
        if (expect_report(in[i].t, in[i].mem, 0, S3_PAGES, C_GET, want,
                          who) == 0 &&
            expect_report(in[i].t, in[i].mem, 0, S3_PAGES, C_GET_RESET, want,
                          who) == 0)
            expect_report(in[i].t, in[i].mem, 0, S3_PAGES, C_GET, want, who);
    }
out:
    for (size_t i = 0; i < n; i++) {
        ww_tracker_close(in[i].t);
        munmap(in[i].mem, S3_PAGES * PAGE);
    }
    munmap(log, sizeof(*log));
}

START_TEST(test_fork_children_without_atfork)
{
    for (int k = 0; k < N_FORK_KINDS; k++) {
        if (k == BY_UNDERSCORE_FORK && !HAVE_UNDERSCORE_FORK) {
            fprintf(stderr, "SKIP world: no _Fork() in this libc\n");
            continue;
        }
        for (int plan = 0; plan < N_PLANS; plan++)
            fork_child_variant((enum fork_kind)k, (enum child_plan)plan);
    }
    assert_no_failures();
}
END_TEST

/*
 * A fork child that opens a tracker of its own before it touches the
 * inherited ones: the library then knows the child by its own identity
 * (the generation its first open claimed), which must never make an
 * inherited tracker look like the child's.  The child's own tracker
 * works; a grandchild, forked the same way, is refused the child's
 * tracker and the parent's alike; the parent's report is untouched.
 */
struct own_log {
    int progress;                   /* how far the child got */
    int own_get, inherited_get, inherited_close;
    size_t own_count;
    int gc_own, gc_inherited, gc_status;
};

static void own_child(struct inherited *in, enum fork_kind kind,
                      struct own_log *log)
{
    ww_tracker *mine = NULL;
    char *fresh = mmap(NULL, 4 * PAGE, RW, MAP_PRIVATE | MAP_ANONYMOUS, -1,
                       0);
    size_t count = 4;
    pid_t gc;

    log->progress = 1;
    if (fresh == MAP_FAILED || ww_tracker_open(&mine, in->backend, 0) != 0 ||
        ww_watch(mine, fresh, 4 * PAGE, 0) != 0)
        _exit(3);
    log->progress = 2;
    ((volatile char *)fresh)[PAGE] = 1;
    log->own_get = ww_get(mine, fresh, 4 * PAGE, WW_GET_RESET, page_buf,
                          &count);
    log->own_count = count;
    log->progress = 3;
    count = S3_PAGES;
    log->inherited_get = ww_get(in->t, in->mem, S3_PAGES * PAGE,
                                WW_GET_RESET, page_buf, &count);
    log->progress = 4;
    gc = fork_by(kind);
    if (gc == 0) {
        count = 4;
        log->gc_own = ww_get(mine, fresh, 4 * PAGE, WW_GET_RESET, page_buf,
                             &count);
        count = S3_PAGES;
        log->gc_inherited = ww_get(in->t, in->mem, S3_PAGES * PAGE,
                                   WW_GET_RESET, page_buf, &count);
        _exit(0);
    }
    if (gc < 0 || waitpid(gc, &log->gc_status, 0) != gc)
        _exit(4);
    log->progress = 5;
    log->inherited_close = ww_tracker_close(in->t);
    if (ww_tracker_close(mine) != 0)
        _exit(5);
    log->progress = 6;
    _exit(0);
}

static void own_tracker_variant(enum fork_kind kind)
{
    struct own_log *log = mmap(NULL, sizeof(*log), RW,
                               MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    struct inherited in = { NULL, NULL, t_backend };
    unsigned char want[S3_PAGES] = { 0 };
    int status = 0, r;
    pid_t pid;

    ck_assert_ptr_ne(log, MAP_FAILED);
    memset(log, 0, sizeof(*log));
    log->gc_own = log->gc_inherited = 1;
    set_context("[%s child that opens a tracker of its own first]",
                fork_names[kind]);
    in.t = open_on(t_backend);
    in.mem = t_map(S3_PAGES);
    r = ww_watch(in.t, in.mem, S3_PAGES * PAGE, 0);
    EXPECT(r == 0, "ww_watch: %s", ww_strerror(r));
    for (size_t k = 0; k < sizeof(s3_before) / sizeof(s3_before[0]); k++) {
        ((volatile char *)in.mem)[s3_before[k] * PAGE] = 1;
        want[s3_before[k]] = 1;
    }
    note_step("forking");
    pid = fork_by(kind);
    if (pid == 0)
        own_child(&in, kind, log);
    EXPECT(pid > 0, "%s: %s", fork_names[kind], strerror(errno));
    EXPECT(waitpid(pid, &status, 0) == pid, "waitpid: %s", strerror(errno));
    EXPECT(exited_ok(status), "the child %s at step %d", status_text(status),
           log->progress);
    EXPECT(log->own_get == 0 && log->own_count == 1,
           "the child's own tracker: ww_get+RESET returned %s with %zu "
           "page(s), expected success with 1", ww_strerror(log->own_get),
           log->own_count);
    EXPECT(log->inherited_get == -ECHILD,
           "after the child opened its own tracker, ww_get+RESET on the "
           "inherited one: %s, expected -ECHILD",
           log->inherited_get == 0 ? "success"
                                   : ww_strerror(log->inherited_get));
    EXPECT(exited_ok(log->gc_status), "the grandchild %s",
           status_text(log->gc_status));
    EXPECT(log->gc_own == -ECHILD && log->gc_inherited == -ECHILD,
           "in a grandchild (%s), ww_get+RESET on the child's tracker: %s, "
           "on the parent's: %s; expected -ECHILD for both",
           fork_names[kind],
           log->gc_own == 0 ? "success" : ww_strerror(log->gc_own),
           log->gc_inherited == 0 ? "success"
                                  : ww_strerror(log->gc_inherited));
    EXPECT(log->inherited_close == 0, "ww_tracker_close of the inherited "
           "tracker in the child: %s", ww_strerror(log->inherited_close));
    expect_report(in.t, in.mem, 0, S3_PAGES, C_GET_RESET, want,
                  "the parent's tracker after the child");
out:
    ww_tracker_close(in.t);
    munmap(in.mem, S3_PAGES * PAGE);
    munmap(log, sizeof(*log));
}

START_TEST(test_fork_child_with_its_own_tracker)
{
    for (int k = 0; k < N_FORK_KINDS; k++) {
        if (k == BY_UNDERSCORE_FORK && !HAVE_UNDERSCORE_FORK)
            continue;
        own_tracker_variant((enum fork_kind)k);
    }
    assert_no_failures();
}
END_TEST

/*
 * A child that shares the memory (clone with CLONE_VM, as vfork and
 * posix_spawn make them) is no fork child: its calls act on the very
 * memory the tracker watches, as another thread's would.  It may use
 * the parent's tracker, and open, watch and close one of its own,
 * without the parent losing its record of live watches.  (Told apart
 * by their pids, such a child was refused the shared tracker, -ECHILD,
 * and its first watch emptied the process-wide table as a fork child's
 * would: the backends' own checks still refused an overlapping watch.)
 */
struct vm_child {
    ww_tracker *t;
    char *mem;
    enum ww_backend backend;
    int get, own_open, own_watch, own_unwatch, own_close;
    size_t count;
};

static int vm_child_main(void *arg)
{
    struct vm_child *c = arg;
    ww_tracker *mine = NULL;
    char *fresh = c->mem + (S3_PAGES - 2) * PAGE;   /* not in the watch */

    ((volatile char *)c->mem)[3 * PAGE] = 5;
    c->count = S3_PAGES - 2;
    c->get = ww_get(c->t, c->mem, (S3_PAGES - 2) * PAGE, WW_GET_RESET,
                    page_buf, &c->count);
    c->own_open = ww_tracker_open(&mine, c->backend, 0);
    if (c->own_open != 0)
        return 0;
    c->own_watch = ww_watch(mine, fresh, 2 * PAGE, 0);
    if (c->own_watch == 0)
        c->own_unwatch = ww_unwatch(mine, fresh, 2 * PAGE);
    c->own_close = ww_tracker_close(mine);
    return 0;
}

START_TEST(test_clone_vm_child_is_no_fork_child)
{
    const size_t stack_len = 256 * 1024;
    struct vm_child c = { NULL, NULL, t_backend, 1, 1, 1, 1, 1, 0 };
    unsigned char want[S3_PAGES] = { 0 };
    char *stack = mmap(NULL, stack_len, RW, MAP_PRIVATE | MAP_ANONYMOUS, -1,
                       0);
    ww_tracker *other = NULL;
    int status = 0, r;
    pid_t pid;

    ck_assert_ptr_ne(stack, MAP_FAILED);
    if (T_TSAN) {
        /* Its clone() interceptor fails a CHECK on a CLONE_VM child. */
        t_skip("ThreadSanitizer cannot run a CLONE_VM child");
        munmap(stack, stack_len);
        return;
    }
    set_context("[a CLONE_VM | CLONE_VFORK child]");
    c.t = open_on(t_backend);
    c.mem = t_map(S3_PAGES);
    r = ww_watch(c.t, c.mem, (S3_PAGES - 2) * PAGE, 0);
    EXPECT(r == 0, "ww_watch: %s", ww_strerror(r));
    ((volatile char *)c.mem)[1 * PAGE] = 1;
    note_step("cloning");
    fflush(NULL);
    pid = clone(vm_child_main, stack + stack_len,
                CLONE_VM | CLONE_VFORK | SIGCHLD, &c);
    EXPECT(pid > 0, "clone: %s", strerror(errno));
    EXPECT(waitpid(pid, &status, 0) == pid, "waitpid: %s", strerror(errno));
    EXPECT(exited_ok(status), "the child %s", status_text(status));
    EXPECT(c.get == 0 && c.count == 2,
           "in the child, ww_get+RESET on the tracker it shares: %s with %zu "
           "page(s); expected success with pages 1 and 3",
           c.get == 0 ? "success" : ww_strerror(c.get), c.count);
    EXPECT(c.own_open == 0 && c.own_watch == 0 && c.own_unwatch == 0 &&
           c.own_close == 0, "in the child, a tracker of its own: open %s, "
           "watch %s, unwatch %s, close %s", ww_strerror(c.own_open),
           ww_strerror(c.own_watch), ww_strerror(c.own_unwatch),
           ww_strerror(c.own_close));
    /* The child's get+RESET took pages 1 and 3: nothing is left. */
    expect_report(c.t, c.mem, 0, S3_PAGES - 2, C_GET, want,
                  "the parent's tracker after the child");
    ((volatile char *)c.mem)[7 * PAGE] = 1;
    want[7] = 1;
    expect_report(c.t, c.mem, 0, S3_PAGES - 2, C_GET_RESET, want,
                  "the parent's tracker after the child");
    /* The table of live watches still knows the parent's watch. */
    other = open_on(t_backend);
    r = ww_watch(other, c.mem, (S3_PAGES - 2) * PAGE, 0);
    EXPECT(r == -EEXIST, "after the child, a second tracker's ww_watch of "
           "the watched range: %s, expected -EEXIST",
           r == 0 ? "success" : ww_strerror(r));
out:
    if (other)
        ww_tracker_close(other);
    ww_tracker_close(c.t);
    munmap(c.mem, S3_PAGES * PAGE);
    munmap(stack, stack_len);
    assert_no_failures();
}
END_TEST

/* ==========================================================================
 * 4. Mappings put over a watch between calls: random steps of writes,
 *    queries, protection changes, mmap(MAP_FIXED) / munmap+mmap / mremap
 *    of fresh read-write or read-only memory over a run of pages, and
 *    munmap of a run.  A call covering a replaced or unmapped page must
 *    be -ESTALE; the mappings put over the watch keep the protection
 *    their mapper gave them (a store into a read-only one faults).
 * ========================================================================== */
enum { W4_PAGES = 48, W4_STEPS = 300, W4_SEEDS = 8 };
enum { CLEAN = 0, WRITTEN = 1, MAYBE = 2 };
enum page_state { OURS, UNMAPPED, REPLACED_RW, REPLACED_R, ADOPTED };
static const char *const state_names[] = {
    "still watched", "unmapped", "replaced by a read-write mapping",
    "replaced by a read-only mapping",
    "replaced read-only, then made writable by ww_protect",
};
#define PROT_UNKNOWN (-1)

struct fixed_world {
    ww_tracker *t;
    char *base;
    struct rng rng;
    unsigned long seed, step;
    unsigned char written[W4_PAGES];    /* CLEAN, WRITTEN or MAYBE */
    int prot[W4_PAGES];                 /* the caller's, or the mapper's */
    unsigned char state[W4_PAGES];
    unsigned long when[W4_PAGES];       /* step of the last write/change */
    int damaged;                        /* some page is not OURS */
};

static void w4_fresh(struct fixed_world *m)
{
    memset(m->written, CLEAN, sizeof(m->written));
    memset(m->state, OURS, sizeof(m->state));
    for (size_t p = 0; p < W4_PAGES; p++) {
        m->prot[p] = RW;
        m->when[p] = m->step;
    }
    m->damaged = 0;
}

/* A random run of pages: often the whole watch, sometimes a run around
 * a page that is no longer ours, else anywhere. */
static void w4_range(struct fixed_world *m, size_t *a, size_t *b)
{
    size_t pick = below(&m->rng, 3);

    if (pick == 0) {
        *a = 0;
        *b = W4_PAGES;
        return;
    }
    *a = below(&m->rng, W4_PAGES);
    if (pick == 1 && m->damaged) {
        size_t p = below(&m->rng, W4_PAGES);

        while (m->state[p] == OURS)
            p = (p + 1) % W4_PAGES;
        *a = p > 2 ? p - below(&m->rng, 3) : p;
    }
    *b = *a + 1 + below(&m->rng, W4_PAGES - *a);
}

/* What writewatch.h lets a call on [a, b) return. */
enum outcome { MUST_WORK, WORK_OR_STALE, MUST_BE_STALE };

static enum outcome w4_outcome(const struct fixed_world *m, size_t a,
                               size_t b, size_t *why)
{
    /* Once part of the watch is gone the library may call the whole
     * watch stale ("unwatch and watch again"). */
    enum outcome o = m->damaged ? WORK_OR_STALE : MUST_WORK;

    for (size_t p = a; p < b; p++) {
        switch (m->state[p]) {
        case UNMAPPED:
        case REPLACED_RW:
            *why = p;
            return MUST_BE_STALE;
        case REPLACED_R:
            /* writewatch.h, mprotect: "A new mapping without write
             * access is not noticed until it becomes writable." */
            if (t_backend != WW_BACKEND_MPROTECT) {
                *why = p;
                return MUST_BE_STALE;
            }
            break;
        default:
            break;
        }
    }
    return o;
}

static int w4_check_outcome(struct fixed_world *m, enum call c, size_t a,
                            size_t b, int r, const unsigned char *rep)
{
    size_t why = 0;
    enum outcome o = w4_outcome(m, a, b, &why);

    if (o == MUST_BE_STALE && r != -ESTALE) {
        char got[64];

        if (r == 0 && is_get(c))
            snprintf(got, sizeof(got), "success, reporting %zu pages",
                     count_set(rep, a, b));
        else
            snprintf(got, sizeof(got), "%s",
                     r == 0 ? "success" : ww_strerror(r));
        failf("step %lu: %s on pages [%zu, %zu): %s; expected -ESTALE: page "
              "%zu was %s at step %lu", m->step, call_names[c], a, b, got,
              why, state_names[m->state[why]], m->when[why]);
        return -1;
    }
    if (o == MUST_WORK && r != 0) {
        failf("step %lu: %s on pages [%zu, %zu), all still watched: %s; "
              "expected success", m->step, call_names[c], a, b,
              ww_strerror(r));
        return -1;
    }
    if (r != 0 && r != -ESTALE) {
        failf("step %lu: %s on pages [%zu, %zu): %s; expected success or "
              "-ESTALE", m->step, call_names[c], a, b, ww_strerror(r));
        return -1;
    }
    if (is_get(c) && report_bad[0]) {
        failf("step %lu: %s on pages [%zu, %zu): %s", m->step, call_names[c],
              a, b, report_bad);
        return -1;
    }
    return 0;
}

/* A successful get: the pages still ours are reported exactly. */
static int w4_check_get(struct fixed_world *m, enum call c, size_t a,
                        size_t b, const unsigned char *rep)
{
    for (size_t p = a; p < b; p++) {
        if (m->state[p] != OURS)
            continue;   /* replaced read-only (mprotect): not noticed */
        if (m->written[p] == WRITTEN && !rep[p]) {
            failf("step %lu: %s on pages [%zu, %zu): page %zu, written at "
                  "step %lu, is not reported (lost write)", m->step,
                  call_names[c], a, b, p, m->when[p]);
            return -1;
        }
        if (m->written[p] == CLEAN && rep[p]) {
            failf("step %lu: %s on pages [%zu, %zu): page %zu is reported "
                  "but was not written since step %lu", m->step,
                  call_names[c], a, b, p, m->when[p]);
            return -1;
        }
        m->written[p] = c == C_GET && rep[p] ? WRITTEN : CLEAN;
        m->when[p] = m->step;
    }
    return 0;
}

/* The mappings put over the watch are not the library's: they keep the
 * protection their mapper gave them. */
static int w4_check_replacements(struct fixed_world *m, const char *after)
{
    int have_maps = 0;

    for (size_t p = 0; p < W4_PAGES; p++) {
        int want, got;

        if (m->state[p] != REPLACED_R && m->state[p] != REPLACED_RW)
            continue;
        if (!have_maps) {
            read_maps();
            have_maps = 1;
        }
        want = m->state[p] == REPLACED_R ? PROT_READ : RW;
        got = mapped_prot(m->base + p * PAGE);
        if (got != want) {
            failf("step %lu: after %s, page %zu, where a %s mapping was put "
                  "at step %lu, has protection %s: the library changed "
                  "memory that is no longer its own", m->step, after, p,
                  prot_text(want), m->when[p], prot_text(got));
            return -1;
        }
    }
    return 0;
}

static int w4_call(struct fixed_world *m, enum call c)
{
    unsigned char rep[W4_PAGES];
    size_t a, b;
    int r;

    w4_range(m, &a, &b);
    note_step("step %lu: %s on pages [%zu, %zu)", m->step, call_names[c], a,
              b);
    r = do_call(m->t, m->base, a, b, c, rep);
    if (w4_check_outcome(m, c, a, b, r, rep) < 0)
        return -1;
    if (r == 0 && is_get(c) && w4_check_get(m, c, a, b, rep) < 0)
        return -1;
    for (size_t p = a; p < b; p++) {
        if (m->state[p] == REPLACED_R && r == 0 && c == C_PROTECT_RW) {
            /* The caller asked for it: "until it becomes writable". */
            m->state[p] = ADOPTED;
            continue;
        }
        if (m->state[p] != OURS)
            continue;
        if (c == C_RESET || c == C_MARK) {
            /* A failed reset or mark may have done part of its job. */
            m->written[p] = r == 0 ? (c == C_MARK ? WRITTEN : CLEAN) : MAYBE;
            m->when[p] = m->step;
        } else if (c == C_PROTECT_R || c == C_PROTECT_RW) {
            m->prot[p] = r != 0 ? PROT_UNKNOWN
                                : c == C_PROTECT_R ? PROT_READ : RW;
        }
        /* A failed get changes nothing: "a failed get+RESET reports
         * nothing and leaves every page's state as it was". */
    }
    return w4_check_replacements(m, call_names[c]);
}

static int w4_write(struct fixed_world *m)
{
    size_t p = below(&m->rng, W4_PAGES);
    volatile char *addr = m->base + p * PAGE + below(&m->rng, PAGE);
    int status;

    note_step("step %lu: a store into page %zu (%s)", m->step, p,
              state_names[m->state[p]]);
    switch (m->state[p]) {
    case OURS:
        if (m->prot[p] == RW) {
            /* The world has changed: try the store in a child first. */
            if (m->damaged) {
                status = child_store(addr);
                if (!exited_ok(status)) {
                    failf("step %lu: a store into page %zu, still watched "
                          "and read-write, %s in a fork child", m->step, p,
                          status_text(status));
                    return -1;
                }
            }
            *addr = (char)m->step;
            m->written[p] = WRITTEN;
            m->when[p] = m->step;
        } else if (m->prot[p] == PROT_READ && below(&m->rng, 4) == 0) {
            status = child_store(addr);
            if (!died_of_segv(status)) {
                failf("step %lu: a store into page %zu, made read-only by "
                      "ww_protect, %s in a fork child; expected SIGSEGV",
                      m->step, p, status_text(status));
                return -1;
            }
        }
        return 0;
    case REPLACED_RW:
    case ADOPTED:
        status = child_store(addr);
        if (!exited_ok(status)) {
            failf("step %lu: a store into page %zu (%s at step %lu) %s in a "
                  "fork child", m->step, p, state_names[m->state[p]],
                  m->when[p], status_text(status));
            return -1;
        }
        *addr = (char)m->step;
        return 0;
    case REPLACED_R:
        status = child_store(addr);
        if (!died_of_segv(status)) {
            failf("step %lu: a store into page %zu, where a read-only "
                  "mapping was put at step %lu, %s in a fork child; "
                  "expected SIGSEGV: the library let a write through that "
                  "the mapping forbids", m->step, p, m->when[p],
                  status_text(status));
            return -1;
        }
        return 0;
    default:
        return 0;
    }
}

static int w4_replace(struct fixed_world *m)
{
    static const char *const hows[] = {
        "mmap(MAP_FIXED)", "munmap + mmap", "mremap(MREMAP_FIXED)",
    };
    size_t a = below(&m->rng, W4_PAGES), n = 1 + below(&m->rng, 4);
    int ro = (int)below(&m->rng, 2), how = (int)below(&m->rng, 3), r = 0;
    int prot = ro ? PROT_READ : RW;
    char *at = m->base + a * PAGE;

    if (a + n > W4_PAGES)
        n = W4_PAGES - a;
    note_step("step %lu: %s of %s memory over pages [%zu, %zu)", m->step,
              hows[how], ro ? "read-only" : "read-write", a, a + n);
    if (how == 2) {
        /* Somebody's memory, with contents, moved over the watch. */
        char *src = t_map(n);

        memset(src, 0x5a, n * PAGE);
        if (ro)
            mprotect(src, n * PAGE, PROT_READ);
        if (mremap(src, n * PAGE, n * PAGE, MREMAP_MAYMOVE | MREMAP_FIXED,
                   at) == MAP_FAILED)
            r = -errno;
    } else {
        r = map_at(at, n, prot, how == 1);
    }
    if (r != 0) {
        failf("step %lu: %s over pages [%zu, %zu): %s", m->step, hows[how],
              a, a + n, strerror(-r));
        return -1;
    }
    for (size_t p = a; p < a + n; p++) {
        m->state[p] = ro ? REPLACED_R : REPLACED_RW;
        m->prot[p] = prot;
        m->when[p] = m->step;
    }
    m->damaged = 1;
    return 0;
}

static int w4_unmap(struct fixed_world *m)
{
    size_t a = below(&m->rng, W4_PAGES), n = 1 + below(&m->rng, 3);

    if (a + n > W4_PAGES)
        n = W4_PAGES - a;
    note_step("step %lu: munmap of pages [%zu, %zu)", m->step, a, a + n);
    ck_assert_int_eq(munmap(m->base + a * PAGE, n * PAGE), 0);
    for (size_t p = a; p < a + n; p++) {
        m->state[p] = UNMAPPED;
        m->when[p] = m->step;
    }
    m->damaged = 1;
    return 0;
}

/* Unwatch (which must work on a stale watch and leave the memory as it
 * is), map everything fresh and watch again. */
static int w4_rewatch(struct fixed_world *m)
{
    int r;

    note_step("step %lu: ww_unwatch, then a fresh watch", m->step);
    r = ww_unwatch(m->t, m->base, W4_PAGES * PAGE);
    if (r != 0) {
        failf("step %lu: ww_unwatch: %s; expected success (also for a stale "
              "watch)", m->step, ww_strerror(r));
        return -1;
    }
    if (w4_check_replacements(m, "ww_unwatch") < 0)
        return -1;
    read_maps();
    for (size_t p = 0; p < W4_PAGES; p++) {
        int got = mapped_prot(m->base + p * PAGE);

        if (m->state[p] != OURS || m->prot[p] == PROT_UNKNOWN ||
            got == m->prot[p])
            continue;
        failf("step %lu: after ww_unwatch, page %zu has protection %s, not "
              "the caller's %s", m->step, p, prot_text(got),
              prot_text(m->prot[p]));
        return -1;
    }
    r = map_at(m->base, W4_PAGES, RW, 0);
    ck_assert_int_eq(r, 0);
    r = ww_watch(m->t, m->base, W4_PAGES * PAGE, 0);
    if (r != 0) {
        failf("step %lu: ww_watch of fresh memory at the old address: %s",
              m->step, ww_strerror(r));
        return -1;
    }
    w4_fresh(m);
    return 0;
}

static void map_fixed_seed(unsigned long seed)
{
    struct fixed_world m;
    int r;

    memset(&m, 0, sizeof(m));
    m.seed = seed;
    rng_seed(&m.rng, seed);
    set_context("[MAP_FIXED between calls, seed %lu (WW_WORLD_SEED=%lu "
                "replays it)]", seed, seed);
    m.t = t_open();
    m.base = t_map(W4_PAGES);
    w4_fresh(&m);
    r = ww_watch(m.t, m.base, W4_PAGES * PAGE, 0);
    EXPECT(r == 0, "ww_watch: %s", ww_strerror(r));
    for (m.step = 1; m.step <= W4_STEPS; m.step++) {
        size_t op = below(&m.rng, 100);

        if (op < 36)
            r = w4_write(&m);
        else if (op < 48)
            r = w4_call(&m, C_GET);
        else if (op < 60)
            r = w4_call(&m, C_GET_RESET);
        else if (op < 66)
            r = w4_call(&m, C_RANGES_RESET);
        else if (op < 71)
            r = w4_call(&m, C_RESET);
        else if (op < 76)
            r = w4_call(&m, C_MARK);
        else if (op < 81)
            r = w4_call(&m, below(&m.rng, 2) ? C_PROTECT_R : C_PROTECT_RW);
        else if (op < 86)
            r = w4_replace(&m);
        else if (op < 88)
            r = w4_unmap(&m);
        else if (op < (m.damaged ? 100u : 90u))
            r = w4_rewatch(&m);
        else
            r = w4_write(&m);
        if (r < 0)
            break;
    }
out:
    ww_tracker_close(m.t);
    munmap(m.base, W4_PAGES * PAGE);
}

START_TEST(test_map_fixed_between_calls)
{
    unsigned long one = env_number("WW_WORLD_SEED", 0);
    unsigned long seeds = env_number("WW_WORLD_SEEDS", W4_SEEDS);

    if (one) {
        map_fixed_seed(one);
    } else {
        for (unsigned long seed = 1; seed <= seeds; seed++)
            map_fixed_seed(seed);
    }
    assert_no_failures();
}
END_TEST

/* ==========================================================================
 * 5. A get+RESET whose n-th kernel operation fails, for every n: 600
 *    separate written runs (every other page of 1200) need several of
 *    them (uffd: 256 regions per PAGEMAP_SCAN; mprotect: 64 runs per
 *    re-arm).  A call that fails returns the error, leaves *count as it
 *    was and reports nothing, and the next get reports all 600 runs
 *    again; a call that succeeds (the failure came after its last
 *    operation, or the library recovered from it) reports all 600 and
 *    re-arms exactly those.
 * ========================================================================== */
enum { S5_PAGES = 1200, S5_OPS = 40 };  /* more operations than either
                                           backend makes for 600 runs */

static const char *err_name(int err)
{
    return err == EIO ? "EIO" : err == ENOMEM ? "ENOMEM" : "?";
}

static void write_every_other(char *mem, unsigned char *want)
{
    memset(want, 0, S5_PAGES);
    for (size_t p = 0; p < S5_PAGES; p += 2) {
        ((volatile char *)mem)[p * PAGE] = 1;
        want[p] = 1;
    }
}

/* After a successful call with a failure injected: nothing is left
 * written, except (writewatch.h, mprotect) "Near vm.max_map_count ... a
 * write may make neighbouring clean pages count as written too:
 * over-reported, never lost" -- what an absorbed ENOMEM from mprotect
 * looks like; even then only pages that were written.  Leaves the
 * watch clean. */
static int nothing_left(ww_tracker *t, char *mem, enum call c, long n,
                        int err)
{
    static unsigned char rep[S5_PAGES];
    int r = do_call(t, mem, 0, S5_PAGES, C_GET_RESET, rep);
    size_t left = count_set(rep, 0, S5_PAGES);

    if (r != 0) {
        failf("ww_get+RESET after %s with operation %ld set to fail (-%s): "
              "%s", call_names[c], n, err_name(err), ww_strerror(r));
        return -1;
    }
    for (size_t p = 1; p < S5_PAGES; p += 2) {
        if (!rep[p])
            continue;
        failf("after %s with operation %ld set to fail (-%s): page %zu, "
              "never written, is reported", call_names[c], n, err_name(err),
              p);
        return -1;
    }
    if (left && !(err == ENOMEM && t_backend == WW_BACKEND_MPROTECT)) {
        failf("after %s with operation %ld set to fail (-%s) succeeded: %zu "
              "of the pages it reported and re-armed are reported again",
              call_names[c], n, err_name(err), left);
        return -1;
    }
    return 0;
}

/* Call c with each of its first S5_OPS kernel operations failing in turn
 * with -err.  Returns how many of the calls failed, or -1. */
static long failing_scans(ww_tracker *t, char *mem, enum call c, int err)
{
    static unsigned char want[S5_PAGES], rep[S5_PAGES];
    long failed = 0;

    for (long n = 0; n < S5_OPS; n++) {
        char who[96];
        int r;

        write_every_other(mem, want);
        note_step("%s with operation %ld failing with -%s", call_names[c],
                  n, err_name(err));
        inject_at = n;
        inject_err = err;
        r = do_call(t, mem, 0, S5_PAGES, c, rep);
        inject_at = -1;
        if (report_bad[0]) {
            failf("%s with operation %ld failing (-%s): %s", call_names[c],
                  n, err_name(err), report_bad);
            return -1;
        }
        if (r == 0) {
            for (size_t p = 0; p < S5_PAGES; p++) {
                if (!rep[p] == !want[p])
                    continue;
                failf("%s with operation %ld set to fail (-%s): success, but "
                      "page %zu %s (%zu of 600 reported)", call_names[c], n,
                      err_name(err), p,
                      want[p] ? "is not reported (lost write)"
                              : "is reported but was not written",
                      count_set(rep, 0, S5_PAGES));
                return -1;
            }
            if (nothing_left(t, mem, c, n, err) < 0)
                return -1;
            continue;
        }
        failed++;
        if (r != -err) {
            failf("%s with operation %ld failing with -%s: %s; expected -%s",
                  call_names[c], n, err_name(err), ww_strerror(r),
                  err_name(err));
            return -1;
        }
        snprintf(who, sizeof(who), "after %s failed at operation %ld (-%s)",
                 call_names[c], n, err_name(err));
        if (expect_report(t, mem, 0, S5_PAGES, c, want, who) < 0)
            return -1;
    }
    return failed;
}

START_TEST(test_failed_scan_at_every_chunk)
{
    static const enum call calls[] = { C_GET_RESET, C_RANGES_RESET };
    static const int errs[] = { EIO, ENOMEM };
    ww_tracker *t = t_open();
    char *mem = t_map(S5_PAGES);
    int r = ww_watch(t, mem, S5_PAGES * PAGE, 0);

    ck_assert_msg(r == 0, "ww_watch: %s", ww_strerror(r));
    for (size_t i = 0; i < 2; i++) {
        for (size_t e = 0; e < 2; e++) {
            long failed;

            set_context("[failed scans: 600 runs of one page, %s, -%s]",
                        call_names[calls[i]], err_name(errs[e]));
            failed = failing_scans(t, mem, calls[i], errs[e]);
            if (failed >= 0)
                fprintf(stderr, "world(%s): %s of 600 runs with each of its "
                        "first %d kernel operations failing in turn (-%s): "
                        "%ld calls failed, the others recovered; nothing "
                        "lost\n", ww_backend_name(t_backend),
                        call_names[calls[i]], S5_OPS, err_name(errs[e]),
                        failed);
        }
    }
    ww_tracker_close(t);
    munmap(mem, S5_PAGES * PAGE);
    assert_no_failures();
}
END_TEST

/* ==========================================================================
 * 6. Protection changes by the caller while others write and re-arm:
 *    one writer thread, one thread changing protections (read-only and
 *    back, with the writer kept out of those pages; read-write-execute
 *    and back, with the writer in them), and get+RESET here.  Each page
 *    counts writes started and finished, which is enough to tell a lost
 *    write (finished after the page's last report ended, before a get
 *    began, not in that get) and a wrong report (no write started since
 *    the page's last report began).
 * ========================================================================== */
/* At least so many rounds and protection changes; the cap bounds the
 * time should the protection thread starve. */
enum { S6_PAGES = 64, S6_ROUNDS = 4000, S6_PROTECTS = 4000,
       S6_MAX_ROUNDS = 200000 };

struct busy_world {
    ww_tracker *t;
    char *mem;
    atomic_uint started[S6_PAGES], done[S6_PAGES];
    atomic_int busy[S6_PAGES];      /* held while writing / read-only */
    atomic_int stop;
    atomic_int protect_error;       /* first failed ww_protect, or 0 */
    atomic_ulong protects, writes;
    int exec_ok;
};

static int try_take(atomic_int *b)
{
    int free_ = 0;

    return atomic_compare_exchange_strong(b, &free_, 1);
}

static void give(atomic_int *b)
{
    atomic_store(b, 0);
}

static void *writer_thread(void *arg)
{
    struct busy_world *w = arg;
    struct rng g;
    unsigned long n = 0;

    rng_seed(&g, 601);
    while (!atomic_load(&w->stop)) {
        size_t p = below(&g, S6_PAGES);

        if (!try_take(&w->busy[p]))
            continue;
        atomic_fetch_add(&w->started[p], 1);
        ((volatile char *)w->mem)[p * PAGE + below(&g, PAGE)] = (char)n;
        atomic_fetch_add(&w->done[p], 1);
        give(&w->busy[p]);
        if (++n % 64 == 0)
            sched_yield();
    }
    atomic_store(&w->writes, n);
    return NULL;
}

static void record_protect(struct busy_world *w, int r)
{
    int none = 0;

    if (r != 0)
        atomic_compare_exchange_strong(&w->protect_error, &none, r);
}

static void *protector_thread(void *arg)
{
    struct busy_world *w = arg;
    struct rng g;

    rng_seed(&g, 602);
    while (!atomic_load(&w->stop)) {
        size_t a = below(&g, S6_PAGES), k = 1 + below(&g, 4);
        char *addr = w->mem + a * PAGE;

        if (a + k > S6_PAGES)
            k = S6_PAGES - a;
        if (w->exec_ok && below(&g, 2)) {
            /* Writable throughout: the writer may be in these pages. */
            record_protect(w, ww_protect(w->t, addr, k * PAGE,
                                         RW | PROT_EXEC));
            record_protect(w, ww_protect(w->t, addr, k * PAGE, RW));
        } else {
            /* The writer never waits while it holds a page, so taking
             * them in ascending order cannot deadlock. */
            for (size_t i = a; i < a + k; i++)
                while (!try_take(&w->busy[i]))
                    sched_yield();
            record_protect(w, ww_protect(w->t, addr, k * PAGE, PROT_READ));
            record_protect(w, ww_protect(w->t, addr, k * PAGE, RW));
            for (size_t i = a; i < a + k; i++)
                give(&w->busy[i]);
        }
        if (atomic_fetch_add(&w->protects, 1) % 8 == 0)
            sched_yield();
    }
    return NULL;
}

/* Per page: writes finished when its last report began, and writes
 * started when it ended. */
struct report_marks {
    unsigned done_at_start[S6_PAGES], started_at_end[S6_PAGES];
    unsigned long round[S6_PAGES];
};

static int busy_round(struct busy_world *w, struct report_marks *mk,
                      unsigned long round, size_t a, size_t b, enum call c)
{
    unsigned done_before[S6_PAGES], started_after[S6_PAGES];
    unsigned char rep[S6_PAGES];
    int r;

    for (size_t p = a; p < b; p++)
        done_before[p] = atomic_load(&w->done[p]);
    note_step("round %lu: %s on pages [%zu, %zu)", round, call_names[c], a,
              b);
    r = do_call(w->t, w->mem, a, b, c, rep);
    for (size_t p = a; p < b; p++)
        started_after[p] = atomic_load(&w->started[p]);
    if (r != 0 || report_bad[0]) {
        failf("round %lu: %s on pages [%zu, %zu): %s", round, call_names[c],
              a, b, r != 0 ? ww_strerror(r) : report_bad);
        return -1;
    }
    for (size_t p = a; p < b; p++) {
        if (rep[p]) {
            if (started_after[p] <= mk->done_at_start[p]) {
                failf("round %lu: page %zu is reported, but no write to it "
                      "started since its last report (round %lu) began "
                      "(%u writes finished then, %u started by now)", round,
                      p, mk->round[p], mk->done_at_start[p],
                      started_after[p]);
                return -1;
            }
            mk->done_at_start[p] = done_before[p];
            mk->started_at_end[p] = started_after[p];
            mk->round[p] = round;
        } else if (done_before[p] > mk->started_at_end[p]) {
            failf("round %lu: page %zu is not reported, but its write #%u "
                  "finished before this round began and after its last "
                  "report (round %lu) ended (lost write)", round, p,
                  done_before[p], mk->round[p]);
            return -1;
        }
    }
    return 0;
}

START_TEST(test_protect_flips_under_writes)
{
    static struct busy_world w;
    static struct report_marks mk;
    pthread_t writer, protector;
    struct rng g;
    unsigned long round;
    int r;

    memset(&w, 0, sizeof(w));
    memset(&mk, 0, sizeof(mk));
    rng_seed(&g, 600);
    set_context("[protection flips under a writer and a re-arming thread]");
    w.t = t_open();
    w.mem = t_map(S6_PAGES);
    r = ww_watch(w.t, w.mem, S6_PAGES * PAGE, 0);
    ck_assert_msg(r == 0, "ww_watch: %s", ww_strerror(r));
    r = ww_protect(w.t, w.mem, PAGE, RW | PROT_EXEC);
    w.exec_ok = r == 0;
    if (r == -EACCES)
        fprintf(stderr, "world(%s): executable memory refused here; "
                "read-only flips only\n", ww_backend_name(t_backend));
    else
        ck_assert_msg(r == 0, "ww_protect(RWX): %s", ww_strerror(r));
    ck_assert_int_eq(ww_protect(w.t, w.mem, PAGE, RW), 0);

    ck_assert_int_eq(pthread_create(&writer, NULL, writer_thread, &w), 0);
    ck_assert_int_eq(pthread_create(&protector, NULL, protector_thread, &w),
                     0);
    for (round = 1;; round++) {
        size_t a = 0, b = S6_PAGES;
        enum call c = below(&g, 2) ? C_GET_RESET : C_RANGES_RESET;

        if (below(&g, 3) == 0) {
            a = below(&g, S6_PAGES);
            b = a + 1 + below(&g, S6_PAGES - a);
        }
        if (busy_round(&w, &mk, round, a, b, c) < 0)
            break;
        if ((round >= S6_ROUNDS &&
             atomic_load(&w.protects) >= S6_PROTECTS) ||
            round == S6_MAX_ROUNDS)
            break;
        if (round % 4 == 0)
            sched_yield();
    }
    atomic_store(&w.stop, 1);
    pthread_join(writer, NULL);
    pthread_join(protector, NULL);
    if (n_failures == 0) {
        /* Quiet now: every write finished, so the last get sees them
         * all, and after it nothing is left. */
        unsigned char none[S6_PAGES] = { 0 };

        if (busy_round(&w, &mk, round + 1, 0, S6_PAGES, C_GET_RESET) == 0)
            expect_report(w.t, w.mem, 0, S6_PAGES, C_GET, none,
                          "after the threads stopped and a last get+RESET");
    }
    if (atomic_load(&w.protect_error) != 0)
        failf("a ww_protect of the protection thread failed: %s",
              ww_strerror(atomic_load(&w.protect_error)));
    fprintf(stderr, "world(%s): %lu get+RESET rounds, %lu writes, %lu "
            "protection flips\n", ww_backend_name(t_backend), round,
            (unsigned long)atomic_load(&w.writes),
            (unsigned long)atomic_load(&w.protects));
    ww_tracker_close(w.t);
    munmap(w.mem, S6_PAGES * PAGE);
    assert_no_failures();
}
END_TEST

static void add_tests(TCase *tc, enum ww_backend backend)
{
    (void)backend;
    tcase_add_test(tc, test_two_trackers_one_address);
    tcase_add_test(tc, test_overlapping_trackers_refused);
    tcase_add_test(tc, test_fork_children_without_atfork);
    tcase_add_test(tc, test_fork_child_with_its_own_tracker);
    tcase_add_test(tc, test_clone_vm_child_is_no_fork_child);
    tcase_add_test(tc, test_map_fixed_between_calls);
    if (ww_debug_fail_scan_after)
        tcase_add_test(tc, test_failed_scan_at_every_chunk);
    tcase_add_test(tc, test_protect_flips_under_writes);
}

int main(void)
{
    Suite *s;

    install_crash_note();       /* before the library's handler */
    s = suite_create("world");
    if (!ww_debug_fail_scan_after)
        t_skip_case("world:fault-injection", "failed scans at every "
                       "chunk need ww_debug_fail_scan_after() (./configure "
                       "--enable-fault-injection)");
    t_add_backend_tcases(s, "world", add_tests, 60);
    return t_run_suite(s);
}
