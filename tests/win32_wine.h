/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * win32_wine.h - what win32_own_types.c (compiled with Wine's headers and
 * the header's own definitions on top) reports to test_win32_wine.c.
 */
#ifndef WW_TEST_WIN32_WINE_H
#define WW_TEST_WIN32_WINE_H

/* How many constants it compared with Wine's at compile time. */
int own_constants_checked(void);

#endif
