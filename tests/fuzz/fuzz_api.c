/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * fuzz_api.c - libFuzzer harness: the input bytes choose a sequence of API
 * operations on one watch, checked against the bitmap model (model.h).
 * Any disagreement aborts, which libFuzzer reports with the input.
 *   make fuzz [FUZZ_SECONDS=60]  (in a build configured CC=clang --enable-fuzzer)
 * The backend comes from WW_BACKEND (default: auto).
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "../model.h"

enum { PAGES = 64, MAX_STEPS = 200 };

struct cursor {
    const uint8_t *p;
    size_t left;
};

/* Two input bytes per choice; zeros once the input runs out. */
static size_t input_below(void *src, size_t n)
{
    struct cursor *c = src;
    size_t v = 0;

    for (int i = 0; i < 2 && c->left; i++, c->left--)
        v = v << 8 | *c->p++;
    return v % n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static ww_tracker *t;
    struct cursor c = { data, size };
    struct model m;
    int r;

    if (!t && (r = ww_tracker_open(&t, WW_BACKEND_AUTO, 0)) < 0) {
        fprintf(stderr, "fuzz_api: ww_tracker_open: %s\n", ww_strerror(r));
        abort();
    }
    if (model_init(&m, t, PAGES, input_below, &c) < 0)
        abort();
    while (c.left > 0 && m.step < MAX_STEPS) {
        if (model_step(&m) < 0) {
            fprintf(stderr, "fuzz_api: step %lu: %s\n", m.step, m.failure);
            abort();
        }
    }
    model_free(&m);
    return 0;
}
