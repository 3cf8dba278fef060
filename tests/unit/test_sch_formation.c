//  test_sch_formation - the scheduler's formation rules and commands
//
//  Covers actors/scheduler/formation.c and sizes.c: the default formation
//  from the first release (web=1, others 0, `release` none), ps.scale
//  applied whole with every refusal changing nothing (unknown type or
//  size, a quantity out of 0..100, more than 100 dynos), a size change
//  renewing that type's ids, ps.restart and ps.stop renewing only their
//  targets, features and the health check path rules, the API log lines,
//  and the size table with DYNOD_SIZES overrides.

#include "test_sch_support.h"

#include <string.h>

#define TS_APP "app-one"

static json_t *
s_types (void)
{
    return json_pack ("{s:s, s:s}", "web", "./web", "worker", "./work");
}

static void
test_sch_formation_default (void)
{
    ut_offline_t t;
    ts_open (&t);
    ts_release (&t, TS_APP, 1, json_pack ("{s:s, s:s}", "web", "./web", "worker", "./work"), "abc");
    CHECK_EQ (ts_quantity (&t, TS_APP, "web"), 1);
    CHECK_EQ (ts_quantity (&t, TS_APP, "worker"), 0);
    CHECK_EQ (ts_quantity (&t, TS_APP, "release"), -1);
    CHECK_NOT_NULL (ts_id (&t, TS_APP, "web.1"));
    CHECK_NULL (ts_id (&t, TS_APP, "worker.1"));
    //  A later release keeps the formation, adds new types at 0, drops
    //  types gone.
    ts_scale (&t, TS_APP, "worker", "=", 2);
    ts_release (&t, TS_APP, 2, json_pack ("{s:s, s:s}", "web", "./web", "clock", "./clock"), "abd");
    CHECK_EQ (ts_quantity (&t, TS_APP, "web"), 1);
    CHECK_EQ (ts_quantity (&t, TS_APP, "clock"), 0);
    CHECK_EQ (ts_quantity (&t, TS_APP, "worker"), -1);
    CHECK_NULL (ts_id (&t, TS_APP, "worker.1"));
    ut_offline_close (&t);
}

static void
test_sch_formation_scale (void)
{
    ut_offline_t t;
    ts_open (&t);
    ts_release (&t, TS_APP, 1, s_types (), "abc");
    const char *web1 = ts_id (&t, TS_APP, "web.1");
    char keep [SCH_ID_LEN + 1];
    snprintf (keep, sizeof keep, "%s", web1);
    ts_cmd (&t, MSG_TYPE_PS_SCALE, json_pack ("{s:s, s:[{s:s, s:s, s:i}, {s:s, s:s, s:i}]}", "app",
                                             TS_APP, "changes", "type", "web", "op", "=",
                                             "quantity", 3, "type", "worker", "op", "+",
                                             "quantity", 1));
    msg_t *info = ut_offline_out (&t, MSG_TYPE_FORMATION_INFO);
    CHECK_NOT_NULL (info);
    CHECK_STR_EQ (info->to, "cli@c1");
    json_t *formation = json_object_get (info->body, "formation");
    CHECK_EQ (json_array_size (formation), 2);
    CHECK_STR_EQ (json_string_value (json_object_get (json_array_get (formation, 0), "type")), "web");
    CHECK_STR_EQ (json_string_value (json_object_get (json_array_get (formation, 0), "command")),
                  "./web");
    CHECK (ts_logged (&t, "Scale to web=3, worker=1 by ann"));
    CHECK_EQ (ts_quantity (&t, TS_APP, "web"), 3);
    CHECK_NOT_NULL (ts_id (&t, TS_APP, "web.3"));
    CHECK_NOT_NULL (ts_id (&t, TS_APP, "worker.1"));
    //  Scaling does not restart the dynos that stay.
    CHECK_STR_EQ (ts_id (&t, TS_APP, "web.1"), keep);
    //  Down: the highest numbers go.
    ts_scale (&t, TS_APP, "web", "-", 2);
    CHECK_EQ (ts_quantity (&t, TS_APP, "web"), 1);
    CHECK_NULL (ts_id (&t, TS_APP, "web.2"));
    CHECK_STR_EQ (ts_id (&t, TS_APP, "web.1"), keep);
    //  A size change restarts that type on the new size.
    ts_cmd (&t, MSG_TYPE_PS_SCALE, json_pack ("{s:s, s:[{s:s, s:s}]}", "app", TS_APP, "changes",
                                             "type", "web", "size", "Standard-2X"));
    CHECK_NOT_NULL (ut_offline_out (&t, MSG_TYPE_FORMATION_INFO));
    CHECK (strcmp (ts_id (&t, TS_APP, "web.1"), keep) != 0);
    json_t *web = json_object_get (json_object_get (sch_app (ts_state (&t), TS_APP), "formation"), "web");
    CHECK_STR_EQ (json_string_value (json_object_get (web, "size")), "standard-2x");
    ut_offline_close (&t);
}

//  Sends one ps.scale `changes` (consumed); checks it is refused with a
//  reason holding `why` and that nothing changed.
static void
s_refused (ut_offline_t *t, json_t *changes, const char *why)
{
    json_t *before = json_deep_copy (sch_app (ts_state (t), TS_APP));
    ts_cmd (t, MSG_TYPE_PS_SCALE, json_pack ("{s:s, s:o}", "app", TS_APP, "changes", changes));
    msg_t *err = ut_offline_out (t, MSG_TYPE_ERROR);
    CHECK_NOT_NULL (err);
    if (!strstr (msg_str (err, "reason", ""), why))
        UNIT_FAIL ("reason '%s' lacks '%s'", msg_str (err, "reason", ""), why);
    CHECK (json_equal (before, sch_app (ts_state (t), TS_APP)));
    CHECK_EQ (ut_offline_count (t, MSG_TYPE_LOG_BATCH), 0);
    json_decref (before);
}

static void
test_sch_formation_refusals (void)
{
    ut_offline_t t;
    ts_open (&t);
    ts_release (&t, TS_APP, 1, s_types (), "abc");
    s_refused (&t, json_pack ("[{s:s, s:s, s:i}]", "type", "clock", "op", "=", "quantity", 1),
               "no process type 'clock'");
    s_refused (&t, json_pack ("[{s:s, s:s, s:i, s:s}]", "type", "web", "op", "=", "quantity", 1,
                              "size", "huge"), "unknown dyno size 'huge'");
    s_refused (&t, json_pack ("[{s:s, s:s, s:i}]", "type", "web", "op", "=", "quantity", 101),
               "range is 0 to 100");
    s_refused (&t, json_pack ("[{s:s, s:s, s:i}]", "type", "web", "op", "-", "quantity", 2),
               "web would have -1 dynos");
    //  Each fine alone, too many together; and a good change with a bad one.
    s_refused (&t, json_pack ("[{s:s, s:s, s:i}, {s:s, s:s, s:i}]", "type", "web", "op", "=",
                              "quantity", 60, "type", "worker", "op", "=", "quantity", 50),
               "at most 100 dynos");
    s_refused (&t, json_pack ("[{s:s, s:s, s:i}, {s:s, s:s, s:i}]", "type", "web", "op", "=",
                              "quantity", 2, "type", "nope", "op", "=", "quantity", 1),
               "no process type 'nope'");
    s_refused (&t, json_pack ("[]"), "no changes");
    //  An app the scheduler has no release of.
    ts_scale (&t, "app-none", "web", "=", 1);
    CHECK_NOT_NULL (ut_offline_out (&t, MSG_TYPE_ERROR));
    ut_offline_close (&t);
}

static void
test_sch_formation_restart_stop (void)
{
    ut_offline_t t;
    ts_open (&t);
    ts_release (&t, TS_APP, 1, s_types (), "abc");
    ts_scale (&t, TS_APP, "web", "=", 2);
    ts_scale (&t, TS_APP, "worker", "=", 1);
    char w1 [SCH_ID_LEN + 1], w2 [SCH_ID_LEN + 1], k1 [SCH_ID_LEN + 1];
    snprintf (w1, sizeof w1, "%s", ts_id (&t, TS_APP, "web.1"));
    snprintf (w2, sizeof w2, "%s", ts_id (&t, TS_APP, "web.2"));
    snprintf (k1, sizeof k1, "%s", ts_id (&t, TS_APP, "worker.1"));
    //  One dyno.
    ts_cmd (&t, MSG_TYPE_PS_RESTART, json_pack ("{s:s, s:s}", "app", TS_APP, "target", "web.2"));
    msg_t *done = ut_offline_out (&t, MSG_TYPE_PS_DONE);
    CHECK_NOT_NULL (done);
    CHECK_EQ (json_array_size (json_object_get (done->body, "dynos")), 1);
    CHECK (ts_logged (&t, "Restart web.2 by ann"));
    CHECK_STR_EQ (ts_id (&t, TS_APP, "web.1"), w1);
    CHECK (strcmp (ts_id (&t, TS_APP, "web.2"), w2) != 0);
    snprintf (w2, sizeof w2, "%s", ts_id (&t, TS_APP, "web.2"));
    //  One type.
    ts_cmd (&t, MSG_TYPE_PS_RESTART, json_pack ("{s:s, s:s}", "app", TS_APP, "target", "worker"));
    CHECK (strcmp (ts_id (&t, TS_APP, "worker.1"), k1) != 0);
    CHECK_STR_EQ (ts_id (&t, TS_APP, "web.1"), w1);
    snprintf (k1, sizeof k1, "%s", ts_id (&t, TS_APP, "worker.1"));
    //  All.
    ts_cmd (&t, MSG_TYPE_PS_RESTART, json_pack ("{s:s}", "app", TS_APP));
    CHECK (ts_logged (&t, "Restart all dynos by ann"));
    CHECK (strcmp (ts_id (&t, TS_APP, "web.1"), w1) != 0);
    CHECK (strcmp (ts_id (&t, TS_APP, "web.2"), w2) != 0);
    CHECK (strcmp (ts_id (&t, TS_APP, "worker.1"), k1) != 0);
    //  Unknown target: refused, nothing changed.
    snprintf (w1, sizeof w1, "%s", ts_id (&t, TS_APP, "web.1"));
    ts_cmd (&t, MSG_TYPE_PS_RESTART, json_pack ("{s:s, s:s}", "app", TS_APP, "target", "web.9"));
    CHECK_NOT_NULL (ut_offline_out (&t, MSG_TYPE_ERROR));
    CHECK_STR_EQ (ts_id (&t, TS_APP, "web.1"), w1);
    //  Stop: a formation dyno comes back as a new incarnation.
    ts_cmd (&t, MSG_TYPE_PS_STOP, json_pack ("{s:s, s:s}", "app", TS_APP, "dyno", "web.1"));
    CHECK_NOT_NULL (ut_offline_out (&t, MSG_TYPE_PS_DONE));
    CHECK (ts_logged (&t, "Stop web.1 by ann"));
    CHECK_NOT_NULL (ts_id (&t, TS_APP, "web.1"));
    CHECK (strcmp (ts_id (&t, TS_APP, "web.1"), w1) != 0);
    ts_cmd (&t, MSG_TYPE_PS_STOP, json_pack ("{s:s, s:s}", "app", TS_APP, "dyno", "run.1234"));
    CHECK_NOT_NULL (ut_offline_out (&t, MSG_TYPE_ERROR));
    ut_offline_close (&t);
}

static void
test_sch_formation_features (void)
{
    ut_offline_t t;
    ts_open (&t);
    ts_release (&t, TS_APP, 1, s_types (), "abc");
    ts_cmd (&t, MSG_TYPE_FEATURE_SET, json_pack ("{s:s, s:s, s:b}", "app", TS_APP, "feature",
                                                "spaces", "enabled", 1));
    msg_t *err = ut_offline_out (&t, MSG_TYPE_ERROR);
    CHECK_NOT_NULL (err);
    CHECK (strstr (msg_str (err, "reason", ""), "unknown feature 'spaces'") != NULL);
    ts_cmd (&t, MSG_TYPE_FEATURE_SET, json_pack ("{s:s, s:s, s:b}", "app", TS_APP, "feature",
                                                "preboot", "enabled", 1));
    msg_t *list = ut_offline_out (&t, MSG_TYPE_FEATURE_LIST_REPLY);
    CHECK_NOT_NULL (list);
    json_t *first = json_array_get (json_object_get (list->body, "features"), 0);
    CHECK_STR_EQ (json_string_value (json_object_get (first, "name")), "preboot");
    CHECK (json_is_true (json_object_get (first, "enabled")));
    CHECK (ts_logged (&t, "Enable preboot by ann"));
    //  Health check paths.
    const char *bad [] = { "health", "/a b", "/\x01", "" };
    char longer [1100];
    memset (longer, 'a', sizeof longer - 1);
    longer [0] = '/';
    longer [sizeof longer - 1] = 0;
    for (size_t i = 0; i < 4; i++) {
        const char *path = i == 3 ? longer : bad [i];
        ts_cmd (&t, MSG_TYPE_HEALTHCHECK_SET, json_pack ("{s:s, s:s}", "app", TS_APP, "path", path));
        if (!ut_offline_out (&t, MSG_TYPE_ERROR))
            UNIT_FAIL ("path %zu accepted", i);
    }
    ts_cmd (&t, MSG_TYPE_HEALTHCHECK_SET, json_pack ("{s:s, s:s}", "app", TS_APP, "path", "/health"));
    msg_t *ps = ut_offline_out (&t, MSG_TYPE_PS_LIST_REPLY);
    CHECK_NOT_NULL (ps);
    CHECK_STR_EQ (msg_str (ps, "healthcheck", ""), "/health");
    CHECK (ts_logged (&t, "Set health check /health by ann"));
    ts_cmd (&t, MSG_TYPE_HEALTHCHECK_SET, json_pack ("{s:s, s:s}", "app", TS_APP, "path", ""));
    CHECK_NULL (msg_str (ut_offline_out (&t, MSG_TYPE_PS_LIST_REPLY), "healthcheck", NULL));
    ut_offline_close (&t);
}

static void
test_sch_sizes (void)
{
    sch_sizes_t *sizes = sch_sizes_new (NULL, NULL);
    const sch_size_t *s = sch_sizes_find (sizes, "Standard-2X");
    CHECK_NOT_NULL (s);
    CHECK_STR_EQ (s->name, "standard-2x");
    CHECK_EQ (s->mem_mb, 1024);
    CHECK_EQ (s->procs_max, 512);
    CHECK_EQ (sch_sizes_find (sizes, "performance-l")->mem_mb, 14336);
    CHECK_EQ (sch_sizes_find (sizes, "eco")->procs_max, 256);
    CHECK_NULL (sch_sizes_find (sizes, "huge"));
    sch_sizes_destroy (&sizes);
    CHECK_NULL (sizes);
    sizes = sch_sizes_new ("standard-1x=64/32,tiny=16/8", NULL);
    CHECK_EQ (sch_sizes_find (sizes, "standard-1x")->mem_mb, 64);
    CHECK_EQ (sch_sizes_find (sizes, "TINY")->procs_max, 8);
    sch_sizes_destroy (&sizes);
    const char *bad = NULL;
    CHECK_NULL (sch_sizes_new ("ok=1/1,broken", &bad));
    CHECK_STR_EQ (bad, "broken");
    CHECK_NULL (sch_sizes_new ("x=0/1", &bad));
    CHECK_NULL (sch_sizes_new ("x=1/1junk", &bad));
    char shown [32];
    sch_size_display ("standard-2x", shown, sizeof shown);
    CHECK_STR_EQ (shown, "Standard-2X");
    sch_size_display ("performance-l", shown, sizeof shown);
    CHECK_STR_EQ (shown, "Performance-L");
}

static const unit_test_t s_tests [] = {
    UNIT_TEST (test_sch_formation_default),
    UNIT_TEST (test_sch_formation_scale),
    UNIT_TEST (test_sch_formation_refusals),
    UNIT_TEST (test_sch_formation_restart_stop),
    UNIT_TEST (test_sch_formation_features),
    UNIT_TEST (test_sch_sizes),
};

UNIT_SUITE (unit_suite_sch_formation, s_tests);
