/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * wwbench - libwritewatch's benchmark: the library's backends side by side
 * with the kernel's raw interface and the classic alternatives, in one
 * process run, as medians of repeats and ratios (the machine is shared and
 * noisy; absolute numbers are not comparable across runs, ratios are).
 * See usage() for what is measured.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "writewatch.h"
#include "wwbench.h"

struct options opt;

static void usage(FILE *f)
{
    fputs(
"usage: wwbench [options]\n"
"\n"
"Measures libwritewatch against the kernel's raw interface and the classic\n"
"alternatives, all in this one process run.  Each number is the median of\n"
"repeats; ratios compare methods measured in the same run.\n"
"\n"
"Methods (table columns):\n"
"  no tracking       plain stores, nothing watched\n"
"  raw uffd          the bench's own userfaultfd async write-protect +\n"
"                    PAGEMAP_SCAN code, one big vector: the physical limit\n"
"  lib uffd          libwritewatch, uffd backend (public API only)\n"
"  lib mprotect      libwritewatch, mprotect backend (\"unavailable\" if its\n"
"                    probe fails)\n"
"  naive mprotect    the bench's own mprotect + SIGSEGV, one global lock\n"
"                    (the mechanism of Wine 8.0)\n"
"  uffd sync+thread  synchronous uffd write-protect, a handler thread that\n"
"                    un-protects (as bdwgc and Chromium do)\n"
"  soft-dirty        clear_refs 4 + pagemap bit 55 (\"unavailable\" when the\n"
"                    kernel lacks CONFIG_MEM_SOFT_DIRTY)\n"
"  raw/256           diagnostic: raw uffd with a 256-region vector (the\n"
"                    library's first one), to isolate what chunking costs\n"
"\n"
"Scenarios:\n"
"  1  first write to a clean page after reset, ns/page, every method\n"
"  2  get+RESET time vs watched size (16 MiB .. 4 GiB, capped by memory)\n"
"     and dirty pattern (none, 0.1%/1% random, every other page, all)\n"
"  3  1/2/4/8 writer threads on random pages, a tracker thread doing\n"
"     get+RESET every few ms: ns per write that hit a clean page, get time\n"
"  4  frame loop on a 1 GiB heap: K random pages written, then get+RESET,\n"
"     per frame: frames/s and tracking overhead per frame\n"
"  5  memory: page tables (VmPTE) per GiB watched, the library's own RSS,\n"
"     extra VMAs per written page\n"
"  6  reservation: a 256 GiB MEM_WRITE_WATCH reservation with 1 GiB\n"
"     committed, through the Win32 layer: reserve time, page tables and\n"
"     GetWriteWatch(RESET) against the 1 GiB alone\n"
"Every report is checked against the pages actually written.  With writer\n"
"threads (3), a store re-armed between its fault and its retry is reported\n"
"twice; such duplicates are allowed (nothing is lost).\n"
"\n"
"Options:\n"
"  --quick           small sizes, few repeats (CI smoke run, < 30 s)\n"
"  --scenario N      run only scenario N (repeatable, or a list: 1,3)\n"
"  --repeats N       repeats per measurement (default: per scenario)\n"
"  --max-size SIZE   largest watched size in scenario 2 (e.g. 512M, 2G;\n"
"                    default 4G, capped at a quarter of MemAvailable)\n"
"  --seed N          seed of the random page choices (default 1)\n"
"  --csv FILE        write every result as CSV\n"
"  --json FILE       write every result and the bars as JSON\n"
"  --plot FILE.png   render the main figures with gnuplot (Debian:\n"
"                    WW_EXTRA_PACKAGES=gnuplot-nox sh scripts/install-deps.sh)\n"
"  -h, --help        this text\n"
"\n"
"Output: one table per scenario on stdout with ratios and a verdict line,\n"
"then the bars (target ratios) met or not.  A progress line is shown on\n"
"stderr when it is a terminal.\n"
"Exit status: 0 = all reports correct; 1 = a method reported wrong pages\n"
"or failed unexpectedly (or another internal error); 2 = bad usage.\n"
"Bars not met do not change the exit status.\n", f);
}

static size_t parse_size(const char *s)
{
    char *end;
    unsigned long long v = strtoull(s, &end, 10);

    switch (*end) {
    case 'G': case 'g': v <<= 30; end++; break;
    case 'M': case 'm': v <<= 20; end++; break;
    case 'K': case 'k': v <<= 10; end++; break;
    }
    if (*end || v == 0 || v > SIZE_MAX)     /* 4G and up in a 32-bit process */
        return 0;
    return (size_t)v;
}

static int parse_scenarios(const char *s)
{
    char *end;

    do {
        long n = strtol(s, &end, 10);
        if (end == s || n < 1 || n > 6)
            return -1;
        opt.scenarios |= 1u << n;
        s = end + (*end == ',');
    } while (*end == ',');
    return *end ? -1 : 0;
}

static void parse_args(int argc, char **argv)
{
    static const struct option longopts[] = {
        { "quick", no_argument, NULL, 'q' },
        { "scenario", required_argument, NULL, 's' },
        { "repeats", required_argument, NULL, 'r' },
        { "max-size", required_argument, NULL, 'm' },
        { "seed", required_argument, NULL, 'S' },
        { "csv", required_argument, NULL, 'c' },
        { "json", required_argument, NULL, 'j' },
        { "plot", required_argument, NULL, 'p' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    int c;

    opt.seed = 1;
    opt.max_size = scan_sizes[N_SCAN_SIZES - 1];
    while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        switch (c) {
        case 'q': opt.quick = 1; break;
        case 's':
            if (parse_scenarios(optarg) < 0)
                goto bad;
            break;
        case 'r':
            opt.repeats = atoi(optarg);
            if (opt.repeats < 1 || opt.repeats > 1000)
                goto bad;
            break;
        case 'm':
            opt.max_size = parse_size(optarg);
            if (opt.max_size < 16 * MIB)
                goto bad;
            break;
        case 'S': opt.seed = strtoull(optarg, NULL, 0); break;
        case 'c': opt.csv = optarg; break;
        case 'j': opt.json = optarg; break;
        case 'p': opt.plot = optarg; break;
        case 'h': usage(stdout); exit(0);
        default: goto bad;
        }
    }
    if (optind != argc)
        goto bad;
    if (!opt.scenarios)
        opt.scenarios = 0x7e;           /* 1..6 */
    return;
bad:
    fprintf(stderr, "wwbench: bad arguments (see wwbench --help)\n");
    exit(2);
}

static void print_header(void)
{
    struct utsname u;
    const enum ww_backend b[] = { WW_BACKEND_UFFD, WW_BACKEND_MPROTECT };

    uname(&u);
    printf("wwbench (libwritewatch) - Linux %s %s, %ld CPUs, page %zu B, "
           "%zu MiB available%s\n", u.release, u.machine,
           sysconf(_SC_NPROCESSORS_ONLN), page_size(), mem_available() / MIB,
           opt.quick ? ", --quick" : "");
    printf("library backends:");
    for (size_t i = 0; i < 2; i++) {
        int r = ww_backend_available(b[i]);
        printf(" %s %s%s", ww_backend_name(b[i]),
               r == 0 ? "available" : "unavailable: ",
               r == 0 ? "" : ww_strerror(r));
        if (i == 0)
            printf(";");
    }
    printf("\n");
}

int main(int argc, char **argv)
{
    static void (*const scenario[])(void) = {
        NULL, scenario_fault, scenario_scan, scenario_threads,
        scenario_frame, scenario_memory, scenario_reserve,
    };
    uint64_t t0 = now_ns();

    parse_args(argc, argv);
    if (opt.plot && !gnuplot_found())
        fprintf(stderr, "wwbench: --plot: gnuplot not found, no plot will be "
                "written (Debian: WW_EXTRA_PACKAGES=gnuplot-nox "
                "sh scripts/install-deps.sh)\n");
    setvbuf(stdout, NULL, _IOLBF, 0);
    print_header();
    for (int n = 1; n <= 6; n++)
        if (opt.scenarios & (1u << n))
            scenario[n]();
    print_bars();

    if (opt.csv && write_csv(opt.csv) != 0)
        fail("cannot write %s: %s", opt.csv, strerror(errno));
    if (opt.json && write_json(opt.json) != 0)
        fail("cannot write %s: %s", opt.json, strerror(errno));
    if (opt.plot && gnuplot_found() && write_plot(opt.plot) != 0)
        fail("gnuplot could not write %s", opt.plot);
    printf("\n%s in %.1f s%s\n", failures ? "FAILED" : "done",
           (double)(now_ns() - t0) / 1e9,
           failures ? " (wrong reports or errors: see stderr)" : "");
    return failures ? 1 : 0;
}
