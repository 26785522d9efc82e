/*
 * mprotect.c - the fallback backend: mprotect(2) + a SIGSEGV handler.
 * (Placeholder until the backend lands: it reports itself unavailable.)
 */
#include <errno.h>

#include "backend.h"

static int mprotect_probe(void)
{
    return -ENOTSUP;
}

const struct ww__backend_ops ww__mprotect_ops = {
    .id = WW_BACKEND_MPROTECT,
    .name = "mprotect",
    .probe = mprotect_probe,
};
