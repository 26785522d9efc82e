/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * win32_standalone.h - what win32_standalone.c (compiled with nothing but
 * <writewatch/win32.h> and libc) reports to test_win32_header.c.
 */
#ifndef WW_TEST_WIN32_STANDALONE_H
#define WW_TEST_WIN32_STANDALONE_H

#include <stddef.h>

/* Whether the header took its own definitions (1) or Wine's (0). */
int standalone_own_definitions(void);

/* A write-watch round trip through the standalone declarations: 0, or a
 * description of the first thing that went wrong in msg. */
int standalone_round_trip(char *msg, size_t len);

#endif
