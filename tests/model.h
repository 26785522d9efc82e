/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * model.h - a bitmap model of one watch, driven by a source of choices.
 *
 * One byte per page: 1 = written since the last reset, and one for its
 * protection.  model_step() does one random operation (writes to writable
 * pages, get with random count/reset/sub-range, get_ranges, reset,
 * mark_written, protect, a readability probe, unwatch+watch, sparse or
 * not) on the
 * library and on the model, and checks every answer against the model.  The choices come
 * from a function: a PRNG in the Check suite, the input bytes in the
 * libFuzzer harness.  No Check dependency, so both can use it.
 */
#ifndef WW_TEST_MODEL_H
#define WW_TEST_MODEL_H

#include <stddef.h>

#include "writewatch.h"

struct model {
    ww_tracker *t;
    char *mem;
    size_t pages;
    unsigned char *written;     /* the model */
    unsigned char *prot;        /* each page's PROT_* bits */
    int probe[2];               /* a pipe: is a page readable? */
    void **page_buf;            /* scratch for get */
    struct ww_range *run_buf;   /* scratch for get_ranges */
    size_t (*below)(void *src, size_t n);   /* a choice in [0, n) */
    void *src;
    unsigned long step;
    char failure[256];          /* what went wrong, when a step fails */
};

/* Map and watch `pages` pages on t.  0 or a negative errno. */
int model_init(struct model *m, ww_tracker *t, size_t pages,
               size_t (*below)(void *src, size_t n), void *src);

/* One operation.  0 if the library agreed with the model, -1 if not (then
 * m->failure says how). */
int model_step(struct model *m);

/* Unwatch and unmap. */
void model_free(struct model *m);

#endif
