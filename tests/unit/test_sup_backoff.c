//  test_sup_backoff - unit tests for the dyno-supervisor's settings
//
//  Covers actors/dyno-supervisor/settings.h: parsing the back-off table
//  (the default Heroku ladder, refusals that leave the table unchanged),
//  the cool-off before each restart (the last entry repeats), the reset
//  period (the first non-zero cool-off), and the cycling jitter (within
//  range, the same for the same id), and the advertised address
//  (DYNOD_ADVERTISE_HOST: an IPv4 address a router can connect to).

#include "unit.h"
#include "../../actors/dyno-supervisor/settings.h"

#include <errno.h>

static void
test_sup_backoff_schedule (void)
{
    sup_backoff_t b;
    CHECK_OK (sup_backoff_parse (&b, SUP_BACKOFF_DEFAULT));
    CHECK_EQ (b.count, 6);
    int64_t want [] = { 0, 1200000, 2400000, 3600000, 10800000, 19200000, 19200000, 19200000 };
    for (int i = 0; i < 8; i++)
        CHECK_EQ (sup_backoff_delay (&b, i), want [i]);
    CHECK_EQ (sup_backoff_reset_ms (&b), 1200000);
    CHECK_OK (sup_backoff_parse (&b, "0,0,50"));
    CHECK_EQ (sup_backoff_reset_ms (&b), 50);
    CHECK_EQ (sup_backoff_delay (&b, 1), 0);
    CHECK_EQ (sup_backoff_delay (&b, 99), 50);
    CHECK_OK (sup_backoff_parse (&b, "0"));
    CHECK_EQ (sup_backoff_reset_ms (&b), 0);
    CHECK_EQ (sup_backoff_delay (&b, 5), 0);
}

static void
test_sup_backoff_refusals (void)
{
    sup_backoff_t b;
    CHECK_OK (sup_backoff_parse (&b, "7,8"));
    const char *bad [] = { "", ",", "1,", ",1", "1,,2", "-1", "1.5", "x", "1 ,2",
                           "0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0" };
    for (size_t i = 0; i < sizeof bad / sizeof bad [0]; i++)
        if (sup_backoff_parse (&b, bad [i]) != -EINVAL)
            UNIT_FAIL ("'%s' accepted", bad [i]);
    CHECK_EQ (b.count, 2);
    CHECK_EQ (b.table [1], 8);
}

static void
test_sup_cycle_jitter (void)
{
    int64_t a = sup_cycle_jitter ("00000000000000a1", 12960000);
    CHECK (a >= 0 && a < 12960000);
    CHECK_EQ (sup_cycle_jitter ("00000000000000a1", 12960000), a);
    CHECK (sup_cycle_jitter ("00000000000000a2", 12960000) != a);
    CHECK_EQ (sup_cycle_jitter ("00000000000000a1", 0), 0);
}

static void
test_sup_advertise (void)
{
    char out [SUP_ADVERTISE_MAX] = "unchanged";
    CHECK_OK (sup_advertise_parse ("10.213.4.2", out));
    CHECK_STR_EQ (out, "10.213.4.2");
    CHECK_OK (sup_advertise_parse ("127.0.0.1", out));
    CHECK_STR_EQ (out, "127.0.0.1");
    const char *bad [] = { "", "0.0.0.0", "localhost", "10.0.0", "10.0.0.256", "::1",
                           " 10.0.0.1", "10.0.0.1 ", "10.0.0.1:80" };
    for (size_t i = 0; i < sizeof bad / sizeof bad [0]; i++) {
        CHECK_EQ (sup_advertise_parse (bad [i], out), -EINVAL);
        CHECK_STR_EQ (out, "127.0.0.1");
    }
}

static const unit_test_t s_tests [] = {
    UNIT_TEST (test_sup_backoff_schedule),
    UNIT_TEST (test_sup_backoff_refusals),
    UNIT_TEST (test_sup_cycle_jitter),
    UNIT_TEST (test_sup_advertise),
};

UNIT_SUITE (unit_suite_sup_backoff, s_tests);
