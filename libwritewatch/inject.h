/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * inject.h - fault injection seams.  A test build (--enable-fault-injection)
 * can make the n-th call at a site fail, to prove that every error path
 * returns cleanly, leaks nothing and loses no write; release builds
 * compile the seams away.
 * Owns the list of injection sites and the test that asks about them.
 */
#ifndef WW_INJECT_H
#define WW_INJECT_H

#include "config.h"

enum ww__site {
    WW__SITE_ALLOC,     /* every allocation from the heap (alloc.c) */
    WW__SITE_MAP,       /* every buffer mapped during a query (alloc.c) */
    WW__SITE_SCAN,      /* every re-arming kernel call of a get or reset:
                           PAGEMAP_SCAN (uffd), mprotect (mprotect) */
    WW__N_SITES
};

#ifdef WW_FAULT_INJECTION
/* 0, or the errno the call at this site must fail with, this once. */
int ww__injected(enum ww__site site);
#else
static inline int ww__injected(enum ww__site site)
{
    (void)site;
    return 0;
}
#endif

#endif /* WW_INJECT_H */
