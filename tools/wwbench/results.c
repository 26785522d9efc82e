/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * results.c - every number of the run, the pass/fail bars, and the CSV and
 * JSON files written from them.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wwbench.h"

static struct result *results;
static size_t n_results, cap_results;
static struct bar bars[64];
static size_t n_bars;

static const char *const status_names[] = {
    [ST_OK] = "ok",
    [ST_UNAVAILABLE] = "unavailable",
    [ST_OVERFLOW] = "VMA limit",
    [ST_FAILED] = "FAILED",
    [ST_SKIPPED] = "skipped",
};

static struct result *res_new(int scenario, const char *where,
                              const char *method, const char *metric)
{
    struct result *r;

    if (n_results == cap_results) {
        cap_results = cap_results ? 2 * cap_results : 256;
        results = realloc(results, cap_results * sizeof(*results));
        if (!results)
            die("out of memory for results");
    }
    r = &results[n_results++];
    memset(r, 0, sizeof(*r));
    r->scenario = scenario;
    snprintf(r->where, sizeof(r->where), "%s", where);
    r->method = method;
    r->metric = metric;
    r->median = r->min = r->max = -1;
    return r;
}

const struct result *res_add(int scenario, const char *where,
                             const char *method, const char *metric,
                             double *samples, int n)
{
    struct result *r = res_new(scenario, where, method, metric);

    r->n = n;
    r->median = median_of(samples, n);      /* sorts */
    r->min = n > 0 ? samples[0] : -1;
    r->max = n > 0 ? samples[n - 1] : -1;
    r->status = n > 0 ? ST_OK : ST_SKIPPED;
    return r;
}

void res_status(int scenario, const char *where, const char *method,
                const char *metric, enum status st, const char *note)
{
    struct result *r = res_new(scenario, where, method, metric);

    r->status = st;
    r->note = note;
}

const struct result *res_find(int scenario, const char *where,
                              const char *method, const char *metric)
{
    for (size_t i = 0; i < n_results; i++) {
        const struct result *r = &results[i];

        if (r->scenario == scenario && strcmp(r->where, where) == 0 &&
            strcmp(r->method, method) == 0 && strcmp(r->metric, metric) == 0)
            return r;
    }
    return NULL;
}

double res_value(int scenario, const char *where, const char *method,
                 const char *metric)
{
    const struct result *r = res_find(scenario, where, method, metric);

    return r && r->status == ST_OK ? r->median : -1;
}

size_t res_count(void)
{
    return n_results;
}

const struct result *res_at(size_t i)
{
    return &results[i];
}

const char *cell(char *buf, size_t len, const struct result *r, int decimals)
{
    if (!r)
        snprintf(buf, len, "-");
    else if (r->status != ST_OK)
        snprintf(buf, len, "%s", status_names[r->status]);
    else
        snprintf(buf, len, "%.*f", decimals, r->median);
    return buf;
}

const char *ratio(char *buf, size_t len, double a, double b)
{
    if (a < 0 || b <= 0)
        snprintf(buf, len, "-");
    else if (a / b >= 100)
        snprintf(buf, len, "%.0fx", a / b);
    else
        snprintf(buf, len, "%.2fx", a / b);
    return buf;
}

/* --- bars ---------------------------------------------------------------- */
/* A bar never goes missing from the report: a table too small for the
 * scenarios' bars is a bug of this program, said at once. */
static void bar_push(struct bar b)
{
    if (n_bars == sizeof(bars) / sizeof(bars[0])) {
        fprintf(stderr, "wwbench: more than %zu bars: %s dropped\n",
                sizeof(bars) / sizeof(bars[0]), b.name);
        abort();
    }
    bars[n_bars++] = b;
}

void bar_add(const char *name, double value, double limit, int at_most,
             const char *detail)
{
    bar_push((struct bar){ name, strdup(detail), value, limit, at_most, 1 });
}

void bar_missing(const char *name, const char *detail)
{
    bar_push((struct bar){ name, strdup(detail), -1, -1, 0, 0 });
}

size_t bar_count(void)
{
    return n_bars;
}

const struct bar *bar_at(size_t i)
{
    return &bars[i];
}

static int bar_met(const struct bar *b)
{
    return b->at_most ? b->value <= b->limit : b->value >= b->limit;
}

/* --- files -------------------------------------------------------------- */

/* Quote for CSV and JSON alike: none of our strings holds a quote. */
static void num(FILE *f, double v)
{
    if (v < 0 || !isfinite(v))
        fputs("null", f);
    else
        fprintf(f, "%.6g", v);
}

int write_csv(const char *path)
{
    FILE *f = fopen(path, "w");

    if (!f)
        return -1;
    fputs("scenario,case,method,metric,status,median,min,max,samples,note\n", f);
    for (size_t i = 0; i < n_results; i++) {
        const struct result *r = &results[i];

        fprintf(f, "%d,\"%s\",%s,%s,%s,", r->scenario, r->where, r->method,
                r->metric, status_names[r->status]);
        if (r->status == ST_OK)
            fprintf(f, "%.6g,%.6g,%.6g,%d,", r->median, r->min, r->max, r->n);
        else
            fputs(",,,0,", f);
        fprintf(f, "\"%s\"\n", r->note ? r->note : "");
    }
    return fclose(f);
}

int write_json(const char *path)
{
    FILE *f = fopen(path, "w");

    if (!f)
        return -1;
    fputs("{\n  \"results\": [\n", f);
    for (size_t i = 0; i < n_results; i++) {
        const struct result *r = &results[i];

        fprintf(f, "    {\"scenario\": %d, \"case\": \"%s\", \"method\": \"%s\", "
                "\"metric\": \"%s\", \"status\": \"%s\", \"median\": ",
                r->scenario, r->where, r->method, r->metric,
                status_names[r->status]);
        num(f, r->status == ST_OK ? r->median : -1);
        fputs(", \"min\": ", f);
        num(f, r->status == ST_OK ? r->min : -1);
        fputs(", \"max\": ", f);
        num(f, r->status == ST_OK ? r->max : -1);
        fprintf(f, ", \"samples\": %d, \"note\": \"%s\"}%s\n", r->n,
                r->note ? r->note : "", i + 1 < n_results ? "," : "");
    }
    fputs("  ],\n  \"bars\": [\n", f);
    for (size_t i = 0; i < n_bars; i++) {
        const struct bar *b = &bars[i];

        fprintf(f, "    {\"name\": \"%s\", \"detail\": \"%s\", \"value\": ",
                b->name, b->detail);
        num(f, b->measured ? b->value : -1);
        fprintf(f, ", \"limit\": ");
        num(f, b->measured ? b->limit : -1);
        fprintf(f, ", \"at_most\": %s, \"met\": %s}%s\n",
                b->at_most ? "true" : "false",
                !b->measured ? "null" : bar_met(b) ? "true" : "false",
                i + 1 < n_bars ? "," : "");
    }
    fprintf(f, "  ],\n  \"failures\": %d\n}\n", failures);
    return fclose(f);
}

void print_bars(void)
{
    if (!n_bars)
        return;
    printf("\nBars (ratios measured in this run)\n");
    for (size_t i = 0; i < n_bars; i++) {
        const struct bar *b = &bars[i];

        if (!b->measured)
            printf("  %-44s not measured: %s\n", b->name, b->detail);
        else
            printf("  %-44s %6.2f (%s %.4g) %-8s %s\n", b->name, b->value,
                   b->at_most ? "<=" : ">=", b->limit,
                   bar_met(b) ? "met" : "NOT MET", b->detail);
    }
}
