/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * test_win32_header.c - <writewatch/win32.h> without Wine's headers: the
 * translation unit win32_standalone.c includes nothing else (and fails to
 * compile if Wine's headers are found); this suite runs what it built.
 */
#include "config.h"

#include "helpers.h"
#include "win32_standalone.h"

START_TEST(test_own_definitions_used)
{
    ck_assert_int_eq(standalone_own_definitions(), 1);
}
END_TEST

START_TEST(test_round_trip)
{
    char msg[160] = "";

    ck_assert_msg(standalone_round_trip(msg, sizeof(msg)) == 0, "%s", msg);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("win32_header");
    TCase *tc = tcase_create("win32_header");

    tcase_add_test(tc, test_own_definitions_used);
    tcase_add_test(tc, test_round_trip);
    suite_add_tcase(s, tc);
    return t_run_suite(s);
}
