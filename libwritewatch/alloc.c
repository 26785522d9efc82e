/*
 * alloc.c - the library's allocation seam.
 *
 * With --enable-fault-injection the library exports ww_debug_fail_alloc_after(n): the
 * n-th allocation from then on (0 = the next one) fails, once.  Release builds
 * have no such symbol and the wrappers are plain calls.
 */
#include <stdlib.h>

#include "alloc.h"
#include "config.h"

#ifdef WW_FAULT_INJECTION
#include <stdatomic.h>

#include "writewatch.h"

static atomic_long fail_countdown = -1;

WW_API void ww_debug_fail_alloc_after(long n);
WW_API void ww_debug_fail_alloc_after(long n)
{
    atomic_store(&fail_countdown, n);
}

static int injected_failure(void)
{
    long n = atomic_load(&fail_countdown);

    while (n >= 0) {
        if (atomic_compare_exchange_weak(&fail_countdown, &n, n - 1))
            return n == 0;
    }
    return 0;
}
#else
static int injected_failure(void)
{
    return 0;
}
#endif

void *ww__calloc(size_t n, size_t size)
{
    return injected_failure() ? NULL : calloc(n, size);
}

void *ww__realloc(void *p, size_t size)
{
    return injected_failure() ? NULL : realloc(p, size);
}
