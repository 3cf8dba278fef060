//  test_sup_assign - unit tests for the dyno-supervisor's reconciliation
//
//  Covers actors/dyno-supervisor/assign.h: what to start and stop for an
//  assignment against the ids held (new ids start, missing ids stop, kept
//  ids do neither), epoch ordering (older: stale, nothing planned; equal:
//  applied again), refusals with a reason (bad app, id, name, duplicate
//  ids, bad slug, env, attach, healthcheck); and the actor under the
//  offline harness: a dyno.assign not from the scheduler or malformed is
//  answered with an error, a stale one changes nothing, and actor.up of the
//  scheduler brings a dyno.report.

#include "offline.h"
#include "../../actors/dyno-supervisor/assign.h"
#include "../../actors/dyno-supervisor/dyno-supervisor.h"

#include <errno.h>

static json_t *
s_entry (const char *id, const char *name)
{
    const char *dot = strchr (name, '.');
    char type [32];
    snprintf (type, sizeof type, "%.*s", (int) (dot - name), name);
    return json_pack ("{s:s, s:s, s:s, s:s, s:i, s:i}", "id", id, "name", name, "type", type,
                      "command", "./run", "mem_mb", 512, "release", 1);
}

static json_t *
s_body (int64_t epoch, json_t *dynos)
{
    return json_pack ("{s:s, s:I, s:o}", "app", "my-app", "epoch", (json_int_t) epoch, "dynos", dynos);
}

static void
test_sup_assign_start_stop (void)
{
    json_t *body = s_body (3, json_pack ("[o, o]", s_entry ("00000000000000a1", "web.1"),
                                         s_entry ("00000000000000b1", "worker.1")));
    json_t *held = json_pack ("[s, s]", "00000000000000a1", "00000000000000c1");
    json_t *start, *stop;
    char why [SUP_WHY_MAX];
    CHECK_EQ (sup_assign_plan (body, 2, held, &start, &stop, why), 0);
    CHECK_EQ (json_array_size (start), 1);
    CHECK_STR_EQ (json_string_value (json_object_get (json_array_get (start, 0), "id")), "00000000000000b1");
    CHECK_EQ (json_array_size (stop), 1);
    CHECK_STR_EQ (json_string_value (json_array_get (stop, 0)), "00000000000000c1");
    json_decref (start);
    json_decref (stop);
    //  An empty assignment stops everything held.
    json_t *none = s_body (4, json_array ());
    CHECK_EQ (sup_assign_plan (none, 3, held, &start, &stop, why), 0);
    CHECK_EQ (json_array_size (start), 0);
    CHECK_EQ (json_array_size (stop), 2);
    json_decref (start);
    json_decref (stop);
    json_decref (none);
    json_decref (held);
    json_decref (body);
}

static void
test_sup_assign_epochs (void)
{
    json_t *body = s_body (5, json_pack ("[o]", s_entry ("00000000000000a1", "web.1")));
    json_t *held = json_array ();
    json_t *start, *stop;
    char why [SUP_WHY_MAX];
    CHECK_EQ (sup_assign_plan (body, 6, held, &start, &stop, why), SUP_ASSIGN_STALE);
    CHECK_NULL (start);
    CHECK_NULL (stop);
    //  The same epoch again is applied again (level-triggered).
    CHECK_EQ (sup_assign_plan (body, 5, held, &start, &stop, why), 0);
    CHECK_EQ (json_array_size (start), 1);
    json_decref (start);
    json_decref (stop);
    //  No epoch applied yet: anything goes.
    CHECK_EQ (sup_assign_plan (body, -1, held, &start, &stop, why), 0);
    json_decref (start);
    json_decref (stop);
    json_decref (held);
    json_decref (body);
}

//  Sets `key` of a fresh entry to `value` (consumed) and expects a refusal
//  whose reason holds `words`.
static void
s_refused (const char *key, json_t *value, const char *words)
{
    json_t *entry = s_entry ("00000000000000a1", "web.1");
    json_object_set_new (entry, key, value);
    json_t *body = s_body (1, json_pack ("[o]", entry));
    json_t *start, *stop;
    char why [SUP_WHY_MAX] = "";
    if (sup_assign_plan (body, -1, NULL, &start, &stop, why) != -EINVAL)
        UNIT_FAIL ("%s accepted", key);
    if (!strstr (why, words))
        UNIT_FAIL ("%s: reason '%s' lacks '%s'", key, why, words);
    CHECK_NULL (start);
    json_decref (body);
}

static void
test_sup_assign_refusals (void)
{
    s_refused ("id", json_string ("XYZ"), "16 hex digits");
    s_refused ("id", json_string ("00000000000000A1"), "16 hex digits");
    s_refused ("name", json_string ("worker.1"), "TYPE.N");
    s_refused ("name", json_string ("web.x"), "TYPE.N");
    s_refused ("command", json_string (""), "command");
    s_refused ("mem_mb", json_integer (0), "mem_mb");
    s_refused ("slug", json_pack ("{s:s}", "blob", "abc"), "64 hex");
    s_refused ("env", json_pack ("{s:s}", "BAD-NAME", "x"), "not a valid variable name");
    s_refused ("env", json_pack ("{s:i}", "N", 1), "must be a string");
    s_refused ("attach", json_string ("no-instance"), "attach");
    s_refused ("healthcheck", json_string ("health"), "absolute path");
    json_t *start, *stop;
    char why [SUP_WHY_MAX];
    json_t *twice = s_body (1, json_pack ("[o, o]", s_entry ("00000000000000a1", "web.1"),
                                          s_entry ("00000000000000a1", "web.2")));
    CHECK_EQ (sup_assign_plan (twice, -1, NULL, &start, &stop, why), -EINVAL);
    CHECK (strstr (why, "listed twice") != NULL);
    json_decref (twice);
    json_t *bad_app = json_pack ("{s:s, s:i, s:[]}", "app", "../etc", "epoch", 1, "dynos");
    CHECK_EQ (sup_assign_plan (bad_app, -1, NULL, &start, &stop, why), -EINVAL);
    CHECK (strstr (why, "not a valid app name") != NULL);
    json_decref (bad_app);
    CHECK (sup_app_name_ok ("my-app"));
    CHECK (!sup_app_name_ok ("My-app"));
    CHECK (!sup_app_name_ok ("ab"));
}

static msg_t *
s_assign_msg (ut_offline_t *o, const char *from, int64_t epoch, json_t *dynos)
{
    msg_t *msg = ut_offline_msg (o, MSG_TYPE_DYNO_ASSIGN, from);
    msg->seq = 0;
    msg->durable = false;
    json_decref (msg->body);
    msg->body = s_body (epoch, dynos);
    return msg;
}

static void
test_sup_actor_offline (void)
{
    ut_offline_t o;
    ut_offline_open (&o, sup_actor_def (), 7);
    //  Not from the scheduler: refused.
    msg_t *msg = s_assign_msg (&o, "msg-tool@x", 1, json_array ());
    ut_offline_feed_take (&o, &msg);
    msg_t *err = ut_offline_out (&o, MSG_TYPE_ERROR);
    CHECK_NOT_NULL (err);
    CHECK (strstr (msg_str (err, "reason", ""), "only the scheduler") != NULL);
    //  Malformed: refused with the reason.
    msg = s_assign_msg (&o, "scheduler@h", 1, json_pack ("[{s:s}]", "id", "nope"));
    ut_offline_feed_take (&o, &msg);
    err = ut_offline_out (&o, MSG_TYPE_ERROR);
    CHECK_NOT_NULL (err);
    CHECK (strstr (msg_str (err, "reason", ""), "16 hex digits") != NULL);
    //  A valid empty one at epoch 5, then a stale one at 4: no error, no state.
    msg = s_assign_msg (&o, "scheduler@h", 5, json_array ());
    ut_offline_feed_take (&o, &msg);
    CHECK_EQ (ut_offline_count (&o, MSG_TYPE_ERROR), 0);
    msg = s_assign_msg (&o, "scheduler@h", 4, json_pack ("[o]", s_entry ("00000000000000a1", "web.1")));
    ut_offline_feed_take (&o, &msg);
    CHECK_EQ (ut_offline_count (&o, MSG_TYPE_ERROR), 0);
    CHECK_EQ (ut_offline_count (&o, MSG_TYPE_DYNO_STATE), 0);
    //  A new dyno at epoch 6 is published `starting` on the topic.
    msg = s_assign_msg (&o, "scheduler@h", 6, json_pack ("[o]", s_entry ("00000000000000a1", "web.1")));
    ut_offline_feed_take (&o, &msg);
    msg_t *state = ut_offline_out (&o, MSG_TYPE_DYNO_STATE);
    CHECK_NOT_NULL (state);
    CHECK_STR_EQ (state->to, "topic:dyno.state");
    CHECK_STR_EQ (msg_str (state, "state", ""), "starting");
    CHECK_STR_EQ (msg_str (state, "name", ""), "web.1");
    ut_offline_close (&o);
}

static const unit_test_t s_tests [] = {
    UNIT_TEST (test_sup_assign_start_stop),
    UNIT_TEST (test_sup_assign_epochs),
    UNIT_TEST (test_sup_assign_refusals),
    UNIT_TEST (test_sup_actor_offline),
};

UNIT_SUITE (unit_suite_sup_assign, s_tests);
