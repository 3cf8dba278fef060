//  test_sch_rollout - a new release: release phase, preboot, replay
//
//  Covers actors/scheduler/rollout.c: a plain release replacing every
//  dyno (no release.status: nothing gated it); a `release` process type run first as
//  release.1 (a one-off), the app going live when it exits 0 and staying
//  on the old release when it does not (release.status failed, the API
//  line); preboot keeping the old web dynos until every new one is up, and
//  its timeout bringing the old release back, each step taken when the
//  scheduler's verdict to itself comes back; and replay determinism: the
//  same journal gives the same assignments, with or without a snapshot
//  taken half way; app.destroyed stopping the app's dynos.

#include "test_sch_support.h"

#include <stdio.h>
#include <string.h>

#define TS_APP "app-one"

static void
s_setup (ut_offline_t *t)
{
    ts_open (t);
    ts_report (t, "h1", 8192, NULL);
    ts_release (t, TS_APP, 1, json_pack ("{s:s, s:s}", "web", "./web", "worker", "./work"), "abc");
    ts_scale (t, TS_APP, "web", "=", 2);
    ts_scale (t, TS_APP, "worker", "=", 1);
}

static void
s_copy_id (ut_offline_t *t, const char *name, char out [SCH_ID_LEN + 1])
{
    snprintf (out, SCH_ID_LEN + 1, "%s", ts_id (t, TS_APP, name));
}

//  The release.status in the last output: checks app, version, status.
static msg_t *
s_status (ut_offline_t *t, int64_t version, const char *status)
{
    msg_t *m = ut_offline_out (t, MSG_TYPE_RELEASE_STATUS);
    CHECK_NOT_NULL (m);
    CHECK (m->durable);
    CHECK_STR_EQ (m->to, "release-keeper");
    CHECK_STR_EQ (msg_str (m, "app", ""), TS_APP);
    CHECK_EQ (msg_int (m, "version", 0), version);
    CHECK_STR_EQ (msg_str (m, "status", ""), status);
    return m;
}

static void
test_sch_rollout_plain (void)
{
    ut_offline_t t;
    s_setup (&t);
    char w1 [SCH_ID_LEN + 1], k1 [SCH_ID_LEN + 1];
    s_copy_id (&t, "web.1", w1);
    s_copy_id (&t, "worker.1", k1);
    ts_release (&t, TS_APP, 2, json_pack ("{s:s, s:s}", "web", "./web2", "worker", "./work"), "def");
    //  Nothing gated it: no release.status.
    CHECK_EQ (ut_offline_count (&t, MSG_TYPE_RELEASE_STATUS), 0);
    CHECK (strcmp (ts_id (&t, TS_APP, "web.1"), w1) != 0);
    CHECK (strcmp (ts_id (&t, TS_APP, "worker.1"), k1) != 0);
    msg_t *assign = ts_assign (&t, "h1", TS_APP);
    CHECK_NOT_NULL (assign);
    json_t *dynos = json_object_get (assign->body, "dynos");
    CHECK_EQ (json_array_size (dynos), 3);
    json_t *web1 = json_array_get (dynos, 0);
    CHECK_STR_EQ (json_string_value (json_object_get (web1, "command")), "./web2");
    CHECK_EQ (json_integer_value (json_object_get (web1, "release")), 2);
    ut_offline_close (&t);
}

static void
test_sch_rollout_release_phase (void)
{
    ut_offline_t t;
    s_setup (&t);
    char w1 [SCH_ID_LEN + 1];
    s_copy_id (&t, "web.1", w1);
    json_t *types = json_pack ("{s:s, s:s, s:s}", "web", "./web", "worker", "./work", "release",
                               "./migrate");
    ts_release (&t, TS_APP, 2, json_deep_copy (types), "def");
    //  release.1 runs first; the old dynos stay as they are.
    CHECK_EQ (ut_offline_count (&t, MSG_TYPE_RELEASE_STATUS), 0);
    CHECK_STR_EQ (ts_id (&t, TS_APP, "web.1"), w1);
    msg_t *assign = ts_assign (&t, "h1", TS_APP);
    char names [256];
    ts_names (assign, names, sizeof names);
    CHECK_STR_EQ (names, "release.1 web.1 web.2 worker.1");
    json_t *phase = NULL;
    size_t i;
    json_t *entry;
    json_array_foreach (json_object_get (assign->body, "dynos"), i, entry)
        if (strcmp (json_string_value (json_object_get (entry, "name")), "release.1") == 0)
            phase = entry;
    CHECK (json_is_true (json_object_get (phase, "oneoff")));
    CHECK_STR_EQ (json_string_value (json_object_get (phase, "command")), "./migrate");
    CHECK_EQ (json_integer_value (json_object_get (phase, "release")), 2);
    char phase_id [SCH_ID_LEN + 1];
    snprintf (phase_id, sizeof phase_id, "%s", json_string_value (json_object_get (phase, "id")));
    //  It fails: the release does not go live. The scheduler's verdict
    //  goes to itself first (journaled), then to release-keeper.
    ts_dyno_state (&t, "h1", TS_APP, "release.1", phase_id, "crashed", 1);
    CHECK_EQ (json_integer_value (json_object_get (sch_app (ts_state (&t), TS_APP), "pending")), 2);
    CHECK (ts_verdict (&t));
    msg_t *status = s_status (&t, 2, "failed");
    CHECK_STR_EQ (msg_str (status, "reason", ""), "release command exited with status 1");
    CHECK (ts_logged (&t, "Release v2 failed: release command exited with status 1"));
    CHECK_STR_EQ (ts_id (&t, TS_APP, "web.1"), w1);
    CHECK_EQ (json_integer_value (json_object_get (sch_app (ts_state (&t), TS_APP), "live")), 1);
    ts_names (ts_assign (&t, "h1", TS_APP), names, sizeof names);
    CHECK_STR_EQ (names, "web.1 web.2 worker.1");
    //  The next one succeeds: everything replaced on v3.
    ts_release (&t, TS_APP, 3, types, "ghi");
    const char *id = json_string_value (json_object_get (sch_app (ts_state (&t), TS_APP), "pending_id"));
    snprintf (phase_id, sizeof phase_id, "%s", id);
    ts_dyno_state (&t, "h1", TS_APP, "release.1", phase_id, "down", 0);
    CHECK (ts_verdict (&t));
    s_status (&t, 3, "succeeded");
    CHECK (strcmp (ts_id (&t, TS_APP, "web.1"), w1) != 0);
    ts_names (ts_assign (&t, "h1", TS_APP), names, sizeof names);
    CHECK_STR_EQ (names, "web.1 web.2 worker.1");
    //  `release` has no formation entry.
    CHECK_EQ (ts_quantity (&t, TS_APP, "release"), -1);
    ut_offline_close (&t);
}

static void
test_sch_rollout_preboot (void)
{
    ut_offline_t t;
    s_setup (&t);
    ts_cmd (&t, MSG_TYPE_FEATURE_SET, json_pack ("{s:s, s:s, s:b}", "app", TS_APP, "feature",
                                                "preboot", "enabled", 1));
    char w1 [SCH_ID_LEN + 1], w2 [SCH_ID_LEN + 1];
    s_copy_id (&t, "web.1", w1);
    s_copy_id (&t, "web.2", w2);
    ts_release (&t, TS_APP, 2, json_pack ("{s:s, s:s}", "web", "./web2", "worker", "./work"), "def");
    CHECK_EQ (ut_offline_count (&t, MSG_TYPE_RELEASE_STATUS), 0);
    //  Old and new web dynos both assigned; the worker replaced at once.
    char names [256];
    ts_names (ts_assign (&t, "h1", TS_APP), names, sizeof names);
    CHECK_STR_EQ (names, "web.1 web.1 web.2 web.2 worker.1");
    //  One new dyno up is not enough.
    ts_dyno_state (&t, "h1", TS_APP, "web.1", ts_id (&t, TS_APP, "web.1"), "up", -1);
    CHECK_EQ (ut_offline_count (&t, MSG_TYPE_RELEASE_STATUS), 0);
    //  An old one's word changes nothing either.
    ts_dyno_state (&t, "h1", TS_APP, "web.2", w2, "up", -1);
    CHECK_EQ (ut_offline_count (&t, MSG_TYPE_RELEASE_STATUS), 0);
    ts_dyno_state (&t, "h1", TS_APP, "web.2", ts_id (&t, TS_APP, "web.2"), "up", -1);
    CHECK (ts_verdict (&t));
    s_status (&t, 2, "succeeded");
    ts_names (ts_assign (&t, "h1", TS_APP), names, sizeof names);
    CHECK_STR_EQ (names, "web.1 web.2 worker.1");
    CHECK (strcmp (ts_id (&t, TS_APP, "web.1"), w1) != 0);
    ut_offline_close (&t);
}

static void
test_sch_rollout_preboot_timeout (void)
{
    ut_offline_t t;
    s_setup (&t);
    ts_cmd (&t, MSG_TYPE_FEATURE_SET, json_pack ("{s:s, s:s, s:b}", "app", TS_APP, "feature",
                                                "preboot", "enabled", 1));
    char w1 [SCH_ID_LEN + 1], w2 [SCH_ID_LEN + 1];
    s_copy_id (&t, "web.1", w1);
    s_copy_id (&t, "web.2", w2);
    ts_release (&t, TS_APP, 2, json_pack ("{s:s, s:s}", "web", "./web2", "worker", "./work"), "def");
    //  The tick reads the real clock: the release's timestamp is long past.
    //  Its verdict comes with the next output, and acts once fed back.
    sch_actor_def ()->tick (ts_state (&t), t.act);
    ts_report (&t, "h1", 8192, NULL);
    CHECK (ts_verdict (&t));
    json_t *app = sch_app (ts_state (&t), TS_APP);
    CHECK_STR_EQ (json_string_value (json_object_get (app, "phase")), "");
    CHECK_EQ (json_integer_value (json_object_get (app, "live")), 1);
    CHECK_STR_EQ (ts_id (&t, TS_APP, "web.1"), w1);
    CHECK_STR_EQ (ts_id (&t, TS_APP, "web.2"), w2);
    msg_t *status = s_status (&t, 2, "failed");
    CHECK (strstr (msg_str (status, "reason", ""), "not up within") != NULL);
    ut_offline_close (&t);
}

//  app.destroyed from release-keeper: its dynos stop (an empty
//  assignment), unless it names an earlier app of the same name.
static void
s_destroyed (ut_offline_t *t, const char *from, int64_t born)
{
    msg_t *msg = ut_offline_msg (t, MSG_TYPE_APP_DESTROYED, from);
    msg->durable = true;
    msg_set_str (msg, "name", TS_APP);
    msg_set_int (msg, "app_created_ms", born);
    ut_offline_feed_take (t, &msg);
}

static void
test_sch_rollout_destroyed (void)
{
    ut_offline_t t;
    s_setup (&t);
    //  Not from release-keeper, or about an earlier app: nothing changes.
    s_destroyed (&t, "cli@c1", TS_BORN);
    CHECK_NOT_NULL (sch_app (ts_state (&t), TS_APP));
    s_destroyed (&t, "release-keeper@h1", TS_BORN - 1);
    CHECK_NOT_NULL (sch_app (ts_state (&t), TS_APP));
    CHECK_EQ (ut_offline_count (&t, MSG_TYPE_DYNO_ASSIGN), 0);
    s_destroyed (&t, "release-keeper@h1", TS_BORN);
    CHECK_NULL (sch_app (ts_state (&t), TS_APP));
    msg_t *assign = ts_assign (&t, "h1", TS_APP);
    CHECK_NOT_NULL (assign);
    CHECK_EQ (json_array_size (json_object_get (assign->body, "dynos")), 0);
    //  A late release.created of it is stale.
    ts_release (&t, TS_APP, 1, NULL, "abc");
    CHECK_NULL (sch_app (ts_state (&t), TS_APP));
    ut_offline_close (&t);
}

//  Feeds a fixed journal (and soft reports) into a fresh scheduler;
//  appends every dyno.assign's dynos to `assigns`. Takes a snapshot and
//  restores it into a fresh actor after message `cut` when cut > 0.
static void
s_journal (json_t *assigns, int cut)
{
    ut_offline_t t;
    ts_open (&t);
    for (int step = 1; step <= 8; step++) {
        switch (step) {
            case 1: ts_report (&t, "h1", 4096, NULL); ts_report (&t, "h2", 4096, NULL); break;
            case 2: ts_release (&t, TS_APP, 1, json_pack ("{s:s, s:s}", "web", "./w", "worker", "./k"), "a"); break;
            case 3: ts_scale (&t, TS_APP, "web", "=", 3); break;
            case 4: ts_scale (&t, TS_APP, "worker", "+", 2); break;
            case 5: ts_cmd (&t, MSG_TYPE_PS_RESTART, json_pack ("{s:s, s:s}", "app", TS_APP, "target", "web")); break;
            case 6: ts_release (&t, TS_APP, 2, json_pack ("{s:s, s:s}", "web", "./w2", "worker", "./k"), "b"); break;
            case 7: ts_cmd (&t, MSG_TYPE_PS_STOP, json_pack ("{s:s, s:s}", "app", TS_APP, "dyno", "worker.2")); break;
            case 8: ts_scale (&t, TS_APP, "web", "-", 1); break;
        }
        for (int i = 0; ut_offline_out_nth (&t, MSG_TYPE_DYNO_ASSIGN, i); i++) {
            msg_t *m = ut_offline_out_nth (&t, MSG_TYPE_DYNO_ASSIGN, i);
            json_array_append_new (assigns, json_pack ("{s:s, s:O}", "to", m->to, "dynos",
                                                       json_object_get (m->body, "dynos")));
        }
        if (step == cut) {
            //  A restart: the snapshot restored into a fresh actor, which
            //  hears the supervisors' reports again.
            json_t *snap = sch_actor_def ()->snapshot (ts_state (&t));
            int next = t.next_id;
            ut_offline_close (&t);
            ts_open (&t);
            CHECK_OK (sch_actor_def ()->restore (ts_state (&t), snap));
            json_decref (snap);
            //  The reports' message ids come from another range, so the
            //  journal's next messages keep their ids.
            t.next_id = 100000;
            ts_report (&t, "h1", 4096, NULL);
            ts_report (&t, "h2", 4096, NULL);
            t.next_id = next;
            //  What the reports make it send is the state at the cut.
            json_array_clear (assigns);
        }
    }
    json_t *snap = sch_actor_def ()->snapshot (ts_state (&t));
    json_array_append_new (assigns, snap);
    ut_offline_close (&t);
}

static void
test_sch_rollout_replay (void)
{
    json_t *a = json_array (), *b = json_array ();
    s_journal (a, 0);
    s_journal (b, 0);
    CHECK (json_array_size (a) > 8);
    CHECK (json_equal (a, b));
    //  With a restart from a snapshot half way, the end state is the same.
    json_t *c = json_array ();
    s_journal (c, 4);
    CHECK (json_equal (json_array_get (a, json_array_size (a) - 1),
                       json_array_get (c, json_array_size (c) - 1)));
    //  And so is what the supervisors were last told.
    json_t *last_a = NULL, *last_c = NULL;
    for (size_t i = 0; i + 1 < json_array_size (a); i++)
        if (strcmp (json_string_value (json_object_get (json_array_get (a, i), "to")),
                    "dyno-supervisor@h1") == 0)
            last_a = json_array_get (a, i);
    for (size_t i = 0; i + 1 < json_array_size (c); i++)
        if (strcmp (json_string_value (json_object_get (json_array_get (c, i), "to")),
                    "dyno-supervisor@h1") == 0)
            last_c = json_array_get (c, i);
    CHECK_NOT_NULL (last_a);
    CHECK_NOT_NULL (last_c);
    CHECK (json_equal (last_a, last_c));
    json_decref (a);
    json_decref (b);
    json_decref (c);
}

static const unit_test_t s_tests [] = {
    UNIT_TEST (test_sch_rollout_plain),
    UNIT_TEST (test_sch_rollout_release_phase),
    UNIT_TEST (test_sch_rollout_preboot),
    UNIT_TEST (test_sch_rollout_preboot_timeout),
    UNIT_TEST (test_sch_rollout_destroyed),
    UNIT_TEST (test_sch_rollout_replay),
};

UNIT_SUITE (unit_suite_sch_rollout, s_tests);
