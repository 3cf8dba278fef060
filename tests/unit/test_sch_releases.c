//  test_sch_releases - the scheduler's record of the release each app runs
//
//  Runs the real scheduler definition under act_offline and feeds it
//  release.created events as release-keeper sends them: the newest
//  release recorded per app, repeats and older versions dropped (a
//  release-keeper restart re-sends them), an app destroyed and created
//  again under its name starting over at v1, the status figures, and
//  snapshot -> restore.

#include "unit.h"
#include "offline.h"
#include "../../actors/scheduler/scheduler.h"

#define UT_BORN     1700000000000LL     // app_created_ms of the first app

//  release.created as release-keeper sends it, for the app created at `born`.
static void
s_created (ut_offline_t *t, const char *app, int64_t born, int64_t version, const char *blob)
{
    msg_t *msg = ut_offline_msg (t, MSG_TYPE_RELEASE_CREATED, "release-keeper@h1");
    msg->ts = born + t->next_id;
    msg->durable = true;
    json_decref (msg->body);
    msg->body = json_pack ("{s:s, s:I, s:s, s:s, s:I, s:I, s:{s:s}, s:b, s:I}", "app", app,
                           "version", (json_int_t) version, "description", "x", "by", "ann",
                           "created_ms", (json_int_t) msg->ts, "config_version",
                           (json_int_t) version * 10, "process_types", "web", "./web",
                           "current", 1, "app_created_ms", (json_int_t) born);
    if (blob)
        msg_set_json (msg, "slug", json_pack ("{s:s, s:i}", "blob", blob, "size", 1));
    ut_offline_feed_take (t, &msg);
    CHECK_EQ (t->count, 0);
}

//  The record for `app` in a fresh status detail: its version, or 0.
static int64_t
s_version (ut_offline_t *t, const char *app, json_t **snap_p)
{
    json_t *snap = sch_actor_def ()->snapshot (ut_offline_state (t));
    int64_t v = json_integer_value (json_object_get (
        json_object_get (json_object_get (snap, "releases"), app), "version"));
    if (snap_p)
        *snap_p = snap;
    else
        json_decref (snap);
    return v;
}

static void
test_sch_releases_newest_kept (void)
{
    ut_offline_t t;
    ut_offline_open (&t, sch_actor_def (), 5);
    s_created (&t, "app-one", UT_BORN, 1, NULL);
    s_created (&t, "app-one", UT_BORN, 2, "abc");
    CHECK_EQ (s_version (&t, "app-one", NULL), 2);
    //  A repeat and an older version change nothing.
    s_created (&t, "app-one", UT_BORN, 2, "zzz");
    s_created (&t, "app-one", UT_BORN, 1, NULL);
    json_t *snap;
    CHECK_EQ (s_version (&t, "app-one", &snap), 2);
    json_t *rec = json_object_get (json_object_get (snap, "releases"), "app-one");
    CHECK_STR_EQ (json_string_value (json_object_get (rec, "slug")), "abc");
    CHECK_EQ (json_integer_value (json_object_get (rec, "config_version")), 20);
    CHECK_STR_EQ (json_string_value (json_object_get (json_object_get (rec, "process_types"), "web")),
                  "./web");
    json_decref (snap);
    //  Another app is its own record.
    s_created (&t, "app-two", UT_BORN, 7, NULL);
    CHECK_EQ (s_version (&t, "app-two", NULL), 7);
    //  app-one destroyed and created again: v1 of the new app wins, a late
    //  release of the old app does not.
    s_created (&t, "app-one", UT_BORN + 5000, 1, "new");
    CHECK_EQ (s_version (&t, "app-one", NULL), 1);
    s_created (&t, "app-one", UT_BORN, 3, "old");
    CHECK_EQ (s_version (&t, "app-one", NULL), 1);
    json_t *detail = json_object ();
    sch_actor_def ()->status (ut_offline_state (&t), detail);
    CHECK_EQ (json_integer_value (json_object_get (detail, "apps")), 2);
    CHECK_EQ (json_integer_value (json_object_get (detail, "releases_seen")), 4);
    CHECK_EQ (json_integer_value (json_object_get (detail, "releases_stale")), 3);
    json_decref (detail);
    ut_offline_close (&t);
}

static void
test_sch_releases_snapshot (void)
{
    ut_offline_t t;
    ut_offline_open (&t, sch_actor_def (), 5);
    s_created (&t, "app-one", UT_BORN, 4, "abc");
    json_t *snap;
    s_version (&t, "app-one", &snap);
    char *text = json_dumps (snap, 0);
    json_decref (snap);
    ut_offline_close (&t);

    ut_offline_t u;
    ut_offline_open (&u, sch_actor_def (), 5);
    u.next_id = 100;
    json_t *parsed = json_loads (text, 0, NULL);
    free (text);
    CHECK_OK (sch_actor_def ()->restore (ut_offline_state (&u), parsed));
    json_decref (parsed);
    CHECK_EQ (s_version (&u, "app-one", NULL), 4);
    //  A re-sent older release is still dropped after the restore.
    s_created (&u, "app-one", UT_BORN, 3, NULL);
    CHECK_EQ (s_version (&u, "app-one", NULL), 4);
    s_created (&u, "app-one", UT_BORN, 5, NULL);
    CHECK_EQ (s_version (&u, "app-one", NULL), 5);
    //  A snapshot without releases is refused.
    json_t *bad = json_object ();
    CHECK (sch_actor_def ()->restore (ut_offline_state (&u), bad) < 0);
    json_decref (bad);
    ut_offline_close (&u);
}

static const unit_test_t s_tests [] = {
    UNIT_TEST (test_sch_releases_newest_kept),
    UNIT_TEST (test_sch_releases_snapshot),
};

UNIT_SUITE (unit_suite_sch_releases, s_tests);
