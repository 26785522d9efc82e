/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * plot.c - --plot FILE.png: the main figures in one image, drawn by
 * gnuplot from data blocks written into its standard input.  Missing
 * results (unavailable methods, skipped sizes) become NaN, which gnuplot
 * leaves out.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "wwbench.h"

int gnuplot_found(void)
{
    const char *path = getenv("PATH");
    char dir[4096];

    while (path && *path) {
        size_t n = strcspn(path, ":");

        if (n > 0 && n < sizeof(dir) - 9) {
            snprintf(dir, sizeof(dir), "%.*s/gnuplot", (int)n, path);
            if (access(dir, X_OK) == 0)
                return 1;
        }
        path += n + (path[n] == ':');
    }
    return 0;
}

static void value(FILE *f, double v)
{
    if (v > 0)
        fprintf(f, " %g", v);
    else
        fputs(" NaN", f);
}

static const char *const mt_methods[] = {
    "raw-uffd", "lib-uffd", "lib-mprotect", "naive-mprotect",
};
static const char *const mt_titles[] = {
    "raw uffd", "lib uffd", "lib mprotect", "naive mprotect",
};

static void data_fault(FILE *f)
{
    fputs("$fault << EOD\n", f);
    for (size_t i = 0; i < res_count(); i++) {
        const struct result *r = res_at(i);

        if (r->scenario == 1 && r->status == ST_OK)
            fprintf(f, "\"%s\" %g\n", method_label(r->method), r->median);
    }
    fputs("EOD\n", f);
}

/* Columns: size in MiB, then raw and lib per pattern. */
static void data_scan(FILE *f)
{
    char size[16], where[64];

    fputs("$scan << EOD\n", f);
    for (size_t s = 0; s < N_SCAN_SIZES; s++) {
        size_str(size, sizeof(size), scan_sizes[s]);
        snprintf(where, sizeof(where), "%s none", size);
        if (!res_find(2, where, "raw-uffd", "us/get"))
            continue;                   /* size not run: keep the axis tight */
        fprintf(f, "%zu", scan_sizes[s] / MIB);
        for (size_t p = 0; p < N_SCAN_PATTERNS; p++) {
            snprintf(where, sizeof(where), "%s %s", size, scan_patterns[p]);
            value(f, res_value(2, where, "raw-uffd", "us/get"));
            value(f, res_value(2, where, "lib-uffd", "us/get"));
        }
        fputc('\n', f);
    }
    fputs("EOD\n", f);
}

static void data_table(FILE *f, const char *name, int scenario,
                       const char *metric, int threads)
{
    char where[32];

    fprintf(f, "$%s << EOD\n", name);
    for (size_t i = 0; i < (threads ? N_WRITER_THREADS : N_FRAME_KS); i++) {
        if (threads)
            snprintf(where, sizeof(where), "%d threads", writer_threads[i]);
        else
            snprintf(where, sizeof(where), "K=%zu", frame_ks[i]);
        if (!res_find(scenario, where, "lib-uffd", threads ? "us/get" : "us/frame"))
            continue;
        fprintf(f, "%zu", threads ? (size_t)writer_threads[i] : frame_ks[i]);
        for (size_t k = 0; k < 4; k++)
            value(f, res_value(scenario, where, mt_methods[k], metric));
        fputc('\n', f);
    }
    fputs("EOD\n", f);
}

/* Scenario 6, per backend: page tables and GetWriteWatch(RESET) with the
 * commit inside the reservation, over the commit alone. */
static void data_reserve(FILE *f)
{
    fputs("$reserve << EOD\n", f);
    for (size_t i = 0; i < res_count(); i++) {
        const struct result *r = res_at(i);

        if (r->scenario != 6 || strcmp(r->metric, "get-ratio") != 0 ||
            r->status != ST_OK)
            continue;
        fprintf(f, "\"%s\"", method_label(r->method));
        double in = res_value(6, r->where, r->method, "KiB-PTE");
        double alone = res_value(6, "alone", r->method, "KiB-PTE");
        value(f, in > 0 && alone > 0 ? in / alone : -1);
        value(f, r->median);
        fputc('\n', f);
    }
    fputs("EOD\n", f);
}

static void plot_methods(FILE *f, const char *block)
{
    fputs("plot ", f);
    for (size_t k = 0; k < 4; k++)
        fprintf(f, "%s%s using 1:%zu with linespoints lw 2 title \"%s\"",
                k ? ", " : "", block, k + 2, mt_titles[k]);
    fputc('\n', f);
}

int write_plot(const char *path)
{
    FILE *f = popen("gnuplot", "w");

    if (!f)
        return -1;
    data_fault(f);
    data_scan(f);
    data_table(f, "threads", 3, "ns/clean-write", 1);
    data_table(f, "frame", 4, "us/overhead", 0);
    data_reserve(f);
    fputs("if (strstrt(GPVAL_TERMINALS, \"pngcairo\") > 0) {\n"
          "  set terminal pngcairo size 2100,1100 font \"sans,10\"\n"
          "} else {\n"
          "  set terminal png size 2100,1100\n"
          "}\n", f);
    fprintf(f, "set output \"%s\"\n", path);
    fputs("set multiplot layout 2,3 title \"wwbench (libwritewatch): "
          "medians of one run\"\n"
          "set grid\nset key top left\nset logscale y\n", f);

    fputs("set title \"1. First write to a clean page after reset\"\n"
          "set ylabel \"ns per page (log)\"\nset style fill solid 0.6\n"
          "set boxwidth 0.6\nset xtics rotate by -30\n"
          "plot $fault using 0:2:xtic(1) with boxes notitle\n"
          "set xtics norotate\n", f);

    fputs("set title \"2. get+RESET of the whole watch "
          "(solid: lib uffd, dashed: raw PAGEMAP\\\\_SCAN)\"\n"
          "set logscale x 2\nset xlabel \"watched MiB\"\n"
          "set ylabel \"us per call (log)\"\nplot ", f);
    for (size_t p = 0; p < N_SCAN_PATTERNS; p++)
        fprintf(f, "%s$scan using 1:%zu with linespoints lw 2 lc %zu "
                "title \"%s\", $scan using 1:%zu with lines dt 2 lc %zu "
                "notitle", p ? ", " : "", 3 + 2 * p, p + 1, scan_patterns[p],
                2 + 2 * p, p + 1);
    fputc('\n', f);

    fputs("set title \"3. Writer threads + tracker every 5 ms\"\n"
          "set xlabel \"writer threads\"\nset logscale x 2\n"
          "set ylabel \"ns per write that hit a clean page (log)\"\n", f);
    plot_methods(f, "$threads");

    fputs("set title \"4. Frame loop: tracking overhead per frame\"\n"
          "set xlabel \"pages written per frame (K)\"\nset logscale x 10\n"
          "set ylabel \"us per frame (log)\"\n", f);
    plot_methods(f, "$frame");

    fputs("set title \"6. Write-watch reservation (Win32 layer): commit "
          "inside it / alone\"\n"
          "unset logscale\nunset xlabel\nset ylabel \"ratio (bar: 1.25)\"\n"
          "set yrange [0:*]\nset style data histograms\n"
          "set style histogram cluster gap 1\nset style fill solid 0.6\n"
          "plot $reserve using 2:xtic(1) title \"page tables\", "
          "'' using 3 title \"GetWriteWatch(RESET)\", "
          "1.25 with lines dt 2 lc 0 notitle\n", f);
    fputs("unset multiplot\n", f);
    return pclose(f) == 0 ? 0 : -1;
}
