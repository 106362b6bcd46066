/* supernav tests: one cmocka group per binary, reported as TAP for prove.
 *
 * Usage:  int main(void) { const struct CMUnitTest tests[] = {...};
 *                          return sn_test_run("group", tests); }
 * A binary whose prerequisites are missing calls sn_test_skip_all(reason), which prints a
 * TAP plan of zero tests with a SKIP directive (cmocka's own skip prints "not ok", which
 * prove counts as a failure). */
#ifndef SN_TEST_H
#define SN_TEST_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <cmocka.h>

#define sn_test_run(name, tests)                                                           \
    (cmocka_set_message_output(CM_OUTPUT_TAP),                                             \
     _cmocka_run_group_tests((name), (tests), sizeof(tests) / sizeof((tests)[0]), NULL, NULL))

static inline int sn_test_skip_all(const char *reason)
{
    printf("1..0 # SKIP %s\n", reason);
    return 0;
}

/* |a - b| <= rel * max(|a|, |b|, 1e-30) */
static inline int sn_test_close_rel(double a, double b, double rel)
{
    double d = a > b ? a - b : b - a;
    double m = (a < 0 ? -a : a) > (b < 0 ? -b : b) ? (a < 0 ? -a : a) : (b < 0 ? -b : b);
    return d <= rel * (m > 1e-30 ? m : 1e-30);
}

#endif
