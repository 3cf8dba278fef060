//  test_sch_placement - where the scheduler runs dynos, and its dyno.assign
//
//  Covers actors/scheduler/placement.c and oneoff.c: a type spread over
//  the supervisors (fewest of the type, then most free memory, then name),
//  every documented field of an assignment entry, memory capacity (a dyno
//  with no room stays unplaced, logged once, and is placed when a
//  supervisor with room reports), re-placement at once when a supervisor
//  goes down, convergence on dyno.report (an empty assignment for an
//  orphan app, a second copy stopped, a scheduler that restarted adopting
//  what runs), and one-offs: name, Procfile substitution, attach, env,
//  dropped when they end.

#include "test_sch_support.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TS_APP "app-one"

//  Two supervisors with `mb` each, reported empty, and app-one at v1.
static void
s_setup (ut_offline_t *t, int64_t mb)
{
    ts_open (t);
    ts_report (t, "h1", mb, NULL);
    ts_report (t, "h2", mb, NULL);
    ts_release (t, TS_APP, 1, json_pack ("{s:s, s:s}", "web", "./web $PORT", "worker", "./work"),
                "abc");
}

static void
s_check_names (ut_offline_t *t, const char *instance, const char *want)
{
    msg_t *assign = ts_assign (t, instance, TS_APP);
    CHECK_NOT_NULL (assign);
    char names [256];
    ts_names (assign, names, sizeof names);
    if (strcmp (names, want) != 0)
        UNIT_FAIL ("%s runs '%s', not '%s'", instance, names, want);
}

static void
test_sch_placement_spread (void)
{
    ut_offline_t t;
    s_setup (&t, 4096);
    //  The first release placed web.1 on h1 (a tie: name order).
    s_check_names (&t, "h1", "web.1");
    ts_cmd (&t, MSG_TYPE_HEALTHCHECK_SET, json_pack ("{s:s, s:s}", "app", TS_APP, "path", "/up"));
    ts_scale (&t, TS_APP, "web", "=", 3);
    //  h1 already has web.1, so web.2 goes to h2; then one each with as
    //  much room: web.3 to the first name, h1.
    CHECK_STR_EQ (ts_where (&t, ts_id (&t, TS_APP, "web.1")), "dyno-supervisor@h1");
    CHECK_STR_EQ (ts_where (&t, ts_id (&t, TS_APP, "web.2")), "dyno-supervisor@h2");
    CHECK_STR_EQ (ts_where (&t, ts_id (&t, TS_APP, "web.3")), "dyno-supervisor@h1");
    s_check_names (&t, "h2", "web.2");
    msg_t *assign = ts_assign (&t, "h1", TS_APP);
    s_check_names (&t, "h1", "web.1 web.3");
    //  Every documented field.
    json_t *entry = json_array_get (json_object_get (assign->body, "dynos"), 0);
    CHECK_STR_EQ (json_string_value (json_object_get (entry, "name")), "web.1");
    CHECK_EQ (strlen (json_string_value (json_object_get (entry, "id"))), SCH_ID_LEN);
    CHECK_STR_EQ (json_string_value (json_object_get (entry, "type")), "web");
    CHECK_STR_EQ (json_string_value (json_object_get (entry, "command")), "./web $PORT");
    CHECK_STR_EQ (json_string_value (json_object_get (entry, "size")), "standard-1x");
    CHECK_EQ (json_integer_value (json_object_get (entry, "mem_mb")), 512);
    CHECK_EQ (json_integer_value (json_object_get (entry, "procs_max")), 256);
    CHECK_EQ (json_integer_value (json_object_get (entry, "release")), 1);
    CHECK_STR_EQ (json_string_value (json_object_get (json_object_get (entry, "slug"), "blob")), "abc");
    CHECK_EQ (json_integer_value (json_object_get (entry, "config_version")), 1);
    CHECK (json_is_false (json_object_get (entry, "oneoff")));
    CHECK_STR_EQ (json_string_value (json_object_get (entry, "healthcheck")), "/up");
    CHECK_EQ (json_integer_value (json_object_get (entry, "boot_timeout_ms")), 60000);
    CHECK (msg_int (assign, "epoch", 0) > 0);
    //  Workers spread as their own type: worker.1 to the supervisor with
    //  fewest workers (both 0), then most room: h2.
    ts_scale (&t, TS_APP, "worker", "=", 2);
    CHECK_STR_EQ (ts_where (&t, ts_id (&t, TS_APP, "worker.1")), "dyno-supervisor@h2");
    CHECK_STR_EQ (ts_where (&t, ts_id (&t, TS_APP, "worker.2")), "dyno-supervisor@h1");
    //  A three-supervisor spread.
    ts_report (&t, "h3", 4096, NULL);
    ts_scale (&t, TS_APP, "web", "=", 6);
    int on [3] = { 0, 0, 0 };
    for (int i = 1; i <= 6; i++) {
        char name [16];
        snprintf (name, sizeof name, "web.%d", i);
        const char *where = ts_where (&t, ts_id (&t, TS_APP, name));
        CHECK_NOT_NULL (where);
        on [where [strlen (where) - 1] - '1']++;
    }
    CHECK_EQ (on [0], 2);
    CHECK_EQ (on [1], 2);
    CHECK_EQ (on [2], 2);
    ut_offline_close (&t);
}

static void
test_sch_placement_capacity (void)
{
    ut_offline_t t;
    s_setup (&t, 1024);
    ts_scale (&t, TS_APP, "web", "=", 5);
    CHECK (ts_logged (&t, "No capacity for web.5"));
    CHECK_NULL (ts_where (&t, ts_id (&t, TS_APP, "web.5")));
    for (int i = 1; i <= 4; i++) {
        char name [16];
        snprintf (name, sizeof name, "web.%d", i);
        CHECK_NOT_NULL (ts_where (&t, ts_id (&t, TS_APP, name)));
    }
    //  Logged once only.
    ts_report (&t, "h1", 1024, NULL);
    CHECK (!ts_logged (&t, "No capacity for web.5"));
    //  Room appears.
    ts_report (&t, "h3", 2048, NULL);
    CHECK_STR_EQ (ts_where (&t, ts_id (&t, TS_APP, "web.5")), "dyno-supervisor@h3");
    s_check_names (&t, "h3", "web.5");
    ut_offline_close (&t);
}

static void
test_sch_placement_down (void)
{
    ut_offline_t t;
    s_setup (&t, 4096);
    ts_scale (&t, TS_APP, "web", "=", 4);
    s_check_names (&t, "h1", "web.1 web.3");
    ts_sup_down (&t, "h1");
    //  At once, on the supervisor left; the ids stay.
    s_check_names (&t, "h2", "web.1 web.2 web.3 web.4");
    CHECK_NULL (ts_assign (&t, "h1", TS_APP));
    ut_offline_close (&t);
}

//  A dyno.state-shaped body for the report of `instance`.
static json_t *
s_body (const char *instance, const char *app, const char *name, const char *id)
{
    char addr [MSG_ADDR_MAX], type [32];
    snprintf (addr, sizeof addr, "dyno-supervisor@%s", instance);
    sch_dyno_type (name, type, sizeof type);
    return json_pack ("{s:s, s:s, s:s, s:s, s:s, s:I, s:s, s:s, s:i}", "app", app, "id", id,
                      "name", name, "type", type, "state", "up", "since_ms",
                      (json_int_t) UT_OFFLINE_TS, "supervisor", addr, "host", "127.0.0.1",
                      "release", 1);
}

static void
test_sch_placement_converge (void)
{
    ut_offline_t t;
    s_setup (&t, 4096);
    ts_scale (&t, TS_APP, "web", "=", 2);
    char w1 [SCH_ID_LEN + 1], w2 [SCH_ID_LEN + 1];
    snprintf (w1, sizeof w1, "%s", ts_id (&t, TS_APP, "web.1"));
    snprintf (w2, sizeof w2, "%s", ts_id (&t, TS_APP, "web.2"));
    //  h1 reports what it should run: nothing is sent.
    ts_report (&t, "h1", 4096, json_pack ("[o]", s_body ("h1", TS_APP, "web.1", w1)));
    CHECK_EQ (ut_offline_count (&t, MSG_TYPE_DYNO_ASSIGN), 0);
    //  h2 runs its web.2, a copy of web.1 and an app nobody wants.
    ts_report (&t, "h2", 4096, json_pack ("[o, o, o]", s_body ("h2", TS_APP, "web.2", w2),
                                          s_body ("h2", TS_APP, "web.1", w1),
                                          s_body ("h2", "app-gone", "web.1", "00000000000000aa")));
    s_check_names (&t, "h2", "web.2");
    msg_t *orphan = ts_assign (&t, "h2", "app-gone");
    CHECK_NOT_NULL (orphan);
    CHECK_EQ (json_array_size (json_object_get (orphan->body, "dynos")), 0);
    CHECK_STR_EQ (ts_where (&t, w1), "dyno-supervisor@h1");
    //  A report that lacks what it should run gets the assignment again.
    ts_report (&t, "h1", 4096, NULL);
    s_check_names (&t, "h1", "web.1");
    ut_offline_close (&t);
}

static void
test_sch_placement_adopt (void)
{
    //  A scheduler that restarted (state from its snapshot, placements
    //  lost) hears h2 run web.1 before anything is placed: it stays there.
    ut_offline_t t;
    s_setup (&t, 4096);
    ts_scale (&t, TS_APP, "web", "=", 2);
    json_t *snap = sch_actor_def ()->snapshot (ts_state (&t));
    char w1 [SCH_ID_LEN + 1], w2 [SCH_ID_LEN + 1];
    snprintf (w1, sizeof w1, "%s", ts_id (&t, TS_APP, "web.1"));
    snprintf (w2, sizeof w2, "%s", ts_id (&t, TS_APP, "web.2"));
    ut_offline_close (&t);

    ut_offline_t u;
    ut_offline_open (&u, sch_actor_def (), 5);
    u.next_id = 1000;
    CHECK_OK (sch_actor_def ()->restore (ts_state (&u), snap));
    json_decref (snap);
    ts_sup_up (&u, "h1");
    CHECK_EQ (ut_offline_count (&u, MSG_TYPE_DYNO_ASSIGN), 0);     // not settled: waits
    ts_report (&u, "h1", 4096, NULL);
    ts_report (&u, "h2", 4096, json_pack ("[o, o]", s_body ("h2", TS_APP, "web.1", w1),
                                          s_body ("h2", TS_APP, "web.2", w2)));
    //  Before it settles the reports are only recorded (a live restart may
    //  not have replayed its journal yet): nothing adopted, nothing sent.
    CHECK_NULL (ts_where (&u, w1));
    CHECK_EQ (ut_offline_count (&u, MSG_TYPE_DYNO_ASSIGN), 0);
    //  Settling adopts them where they run.
    sch_settle (ts_state (&u), u.act);
    CHECK_STR_EQ (ts_where (&u, w1), "dyno-supervisor@h2");
    CHECK_STR_EQ (ts_where (&u, w2), "dyno-supervisor@h2");
    //  A new dyno goes where there are fewer; h1 never got web.1 or web.2.
    ts_scale (&u, TS_APP, "web", "=", 3);
    CHECK_STR_EQ (ts_where (&u, ts_id (&u, TS_APP, "web.3")), "dyno-supervisor@h1");
    s_check_names (&u, "h1", "web.3");
    ut_offline_close (&u);
}

static void
test_sch_placement_oneoff (void)
{
    ut_offline_t t;
    s_setup (&t, 4096);
    ts_report (&t, "h2", 8192, NULL);
    msg_t *msg = ut_offline_msg (&t, MSG_TYPE_RUN_START, "cli@c9");
    msg->seq = 0;
    msg_set_str (msg, "app", TS_APP);
    msg_set_str (msg, "command", "worker --once");
    msg_set_bool (msg, "attach", true);
    msg_set_json (msg, "env", json_pack ("{s:s}", "FOO", "bar"));
    msg_set_str (msg, "by", "ann");
    ut_offline_feed_take (&t, &msg);
    msg_t *started = ut_offline_out (&t, MSG_TYPE_RUN_STARTED);
    CHECK_NOT_NULL (started);
    CHECK_STR_EQ (started->to, "cli@c9");
    const char *dyno = msg_str (started, "dyno", "");
    CHECK (strncmp (dyno, "run.", 4) == 0);
    long n = strtol (dyno + 4, NULL, 10);
    CHECK (n >= 1000 && n <= 9999);
    CHECK_STR_EQ (msg_str (started, "command", ""), "./work --once");
    //  The roomiest supervisor.
    CHECK_STR_EQ (msg_str (started, "supervisor", ""), "dyno-supervisor@h2");
    CHECK (ts_logged (&t, "Starting process with command `./work --once` by ann"));
    msg_t *assign = ts_assign (&t, "h2", TS_APP);
    CHECK_NOT_NULL (assign);
    json_t *entry = json_array_get (json_object_get (assign->body, "dynos"), 0);
    CHECK_STR_EQ (json_string_value (json_object_get (entry, "name")), dyno);
    CHECK (json_is_true (json_object_get (entry, "oneoff")));
    CHECK_STR_EQ (json_string_value (json_object_get (entry, "attach")), "cli@c9");
    CHECK_STR_EQ (json_string_value (json_object_get (json_object_get (entry, "env"), "FOO")), "bar");
    char name [16], id [SCH_ID_LEN + 1];
    snprintf (name, sizeof name, "%s", dyno);
    snprintf (id, sizeof id, "%s", msg_str (started, "id", ""));
    //  It ends: dropped, never restarted.
    ts_dyno_state (&t, "h2", TS_APP, name, id, "down", 0);
    assign = ts_assign (&t, "h2", TS_APP);
    CHECK_NOT_NULL (assign);
    CHECK_EQ (json_array_size (json_object_get (assign->body, "dynos")), 0);
    CHECK_NULL (ts_where (&t, id));
    //  Bad input.
    msg = ut_offline_msg (&t, MSG_TYPE_RUN_START, "cli@c9");
    msg->seq = 0;
    msg_set_str (msg, "app", TS_APP);
    msg_set_str (msg, "command", "bash");
    msg_set_bool (msg, "attach", false);
    msg_set_str (msg, "size", "huge");
    ut_offline_feed_take (&t, &msg);
    CHECK_NOT_NULL (ut_offline_out (&t, MSG_TYPE_ERROR));
    ut_offline_close (&t);
}

static const unit_test_t s_tests [] = {
    UNIT_TEST (test_sch_placement_spread),
    UNIT_TEST (test_sch_placement_capacity),
    UNIT_TEST (test_sch_placement_down),
    UNIT_TEST (test_sch_placement_converge),
    UNIT_TEST (test_sch_placement_adopt),
    UNIT_TEST (test_sch_placement_oneoff),
};

UNIT_SUITE (unit_suite_sch_placement, s_tests);
