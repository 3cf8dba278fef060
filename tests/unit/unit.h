//  unit - the unit test harness: typed checks and test registration
//
//  A test is `static void test_x (void)` listed in its file's table with
//  UNIT_TEST; each file exports one `unit_suite_t` named in runner.c. The
//  runner forks every test into its own process with a timeout, so a crash
//  or hang fails one test. A failed CHECK prints where and why and exits
//  the test's process with status 1.

#ifndef UNIT_H
#define UNIT_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    const char *name;
    void (*fn) (void);
} unit_test_t;

typedef struct {
    const char *name;
    const unit_test_t *tests;
    size_t count;
} unit_suite_t;

#define UNIT_TEST(fn) { #fn, fn }
#define UNIT_SUITE(var, tests) \
    const unit_suite_t var = { #var, tests, sizeof (tests) / sizeof (tests [0]) }

#define UNIT_FAIL(...) do { \
    fprintf (stderr, "%s:%d: ", __FILE__, __LINE__); \
    fprintf (stderr, __VA_ARGS__); \
    fprintf (stderr, "\n"); \
    exit (1); \
} while (0)

#define CHECK(cond) do { if (!(cond)) UNIT_FAIL ("CHECK (%s) failed", #cond); } while (0)
#define CHECK_EQ(a, b) do { \
    long long _a = (long long) (a), _b = (long long) (b); \
    if (_a != _b) UNIT_FAIL ("CHECK_EQ (%s, %s): %lld != %lld", #a, #b, _a, _b); \
} while (0)
#define CHECK_OK(rc) do { \
    long long _rc = (long long) (rc); \
    if (_rc != 0) UNIT_FAIL ("CHECK_OK (%s): returned %lld", #rc, _rc); \
} while (0)
#define CHECK_NULL(p) do { if ((p) != NULL) UNIT_FAIL ("CHECK_NULL (%s) failed", #p); } while (0)
#define CHECK_NOT_NULL(p) do { if ((p) == NULL) UNIT_FAIL ("CHECK_NOT_NULL (%s) failed", #p); } while (0)
#define CHECK_STR_EQ(a, b) do { \
    const char *_a = (a), *_b = (b); \
    if (!_a || !_b || strcmp (_a, _b) != 0) \
        UNIT_FAIL ("CHECK_STR_EQ (%s, %s): '%s' != '%s'", #a, #b, _a ? _a : "(null)", _b ? _b : "(null)"); \
} while (0)

//  A fresh temporary directory for this test (removed by the runner).
//  Borrowed, valid for the test's life.
const char *unit_tmpdir (void);
//  A free TCP port on 127.0.0.1 (bound and released just now).
int unit_free_port (void);

#endif
