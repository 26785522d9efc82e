/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * inject.c - the fault injection hooks a test build exports (inject.h):
 *   ww_debug_fail_alloc_after(n)      the n-th allocation from now on
 *                                     (0 = the next one) fails, once;
 *   ww_debug_fail_map_after(n)        the n-th buffer mapped during a
 *                                     query (ww__map) fails, once;
 *   ww_debug_fail_scan_after(n, err)  the n-th re-arming kernel call of a
 *                                     get or reset fails with err, once.
 * n < 0 disarms a hook.  Release builds have neither symbol.
 * Owns the hooks' countdowns; inject.h owns the sites.
 */
#include "config.h"

#ifdef WW_FAULT_INJECTION
#include <errno.h>
#include <stdatomic.h>

#include "inject.h"
#include "writewatch.h"

static atomic_long countdown[WW__N_SITES] = { -1, -1, -1 };
static atomic_int error[WW__N_SITES] = { ENOMEM, ENOMEM, ENOMEM };

WW_API void ww_debug_fail_alloc_after(long n);
WW_API void ww_debug_fail_alloc_after(long n)
{
    atomic_store(&countdown[WW__SITE_ALLOC], n);
}

WW_API void ww_debug_fail_map_after(long n);
WW_API void ww_debug_fail_map_after(long n)
{
    atomic_store(&countdown[WW__SITE_MAP], n);
}

WW_API void ww_debug_fail_scan_after(long n, int err);
WW_API void ww_debug_fail_scan_after(long n, int err)
{
    atomic_store(&error[WW__SITE_SCAN], err > 0 ? err : -err);
    atomic_store(&countdown[WW__SITE_SCAN], n);
}

int ww__injected(enum ww__site site)
{
    long n = atomic_load(&countdown[site]);

    while (n >= 0) {
        if (atomic_compare_exchange_weak(&countdown[site], &n, n - 1))
            return n == 0 ? atomic_load(&error[site]) : 0;
    }
    return 0;
}
#endif
