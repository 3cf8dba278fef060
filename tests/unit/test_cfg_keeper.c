//  test_cfg_keeper - config-keeper driven offline, message by message
//
//  Runs the real actor definition under act_offline (no broker) and feeds
//  it hand-built messages as the journal would deliver them: which apps
//  exist (app.created / app.destroyed, applied idempotently, also when
//  re-sent after a destroy and re-create), config.set / config.unset
//  (validation with nothing changed on error, one version and one durable
//  release.create per change, its fields), config.get of any version,
//  config.rollback (a new version, no release, repeats ignored), the
//  status figures, and snapshot -> JSON text -> restore with a value that
//  is not UTF-8.

#include "unit.h"
#include "offline.h"
#include "../../actors/config-keeper/config-keeper.h"
#include "../../actors/config-keeper/vars.h"
#include "../../messages/msg_logbatch.h"

#define UT_CLI      "cli@t1"
#define UT_RK       "release-keeper@h1"

static void
s_open (ut_offline_t *t)
{
    ut_offline_open (t, cfg_actor_def (), 7);
}

static void
s_app_event (ut_offline_t *t, msg_type_id_t type, const char *name)
{
    msg_t *msg = ut_offline_msg (t, type, UT_RK);
    msg_set_str (msg, "name", name);
    ut_offline_feed_take (t, &msg);
    CHECK_EQ (t->count, 0);
}

//  config.set of `vars` (ownership passes here) for `app`; returns the
//  request's id in `id` (MSG_ID_LEN + 1 bytes) when not NULL.
static void
s_set (ut_offline_t *t, const char *app, json_t *vars, char *id)
{
    msg_t *msg = ut_offline_msg (t, MSG_TYPE_CONFIG_SET, UT_CLI);
    msg->durable = true;
    msg_set_str (msg, "app", app);
    msg_set_json (msg, "vars", vars);
    msg_set_str (msg, "by", "ann");
    if (id)
        memcpy (id, msg->id, MSG_ID_LEN + 1);
    ut_offline_feed_take (t, &msg);
}

static void
s_unset (ut_offline_t *t, const char *app, json_t *keys)
{
    msg_t *msg = ut_offline_msg (t, MSG_TYPE_CONFIG_UNSET, UT_CLI);
    msg->durable = true;
    msg_set_str (msg, "app", app);
    msg_set_json (msg, "keys", keys);
    msg_set_str (msg, "by", "bob");
    ut_offline_feed_take (t, &msg);
}

//  config.rollback from release-keeper: rollback number `n` of the app,
//  back to the release (v7) that ran config `version`.
static void
s_rollback (ut_offline_t *t, const char *app, int64_t version, int64_t n)
{
    msg_t *msg = ut_offline_msg (t, MSG_TYPE_CONFIG_ROLLBACK, UT_RK);
    msg->durable = true;
    msg_set_str (msg, "app", app);
    msg_set_int (msg, "version", version);
    msg_set_int (msg, "rollback", n);
    msg_set_int (msg, "target", 7);
    msg_set_json (msg, "release", json_pack ("{s:{s:s}, s:{s:s}}", "slug", "blob",
                                             "ab01", "process_types", "web", "./web"));
    msg_set_str (msg, "by", "ann");
    msg_set_str (msg, "reply_to", UT_CLI);
    msg_set_str (msg, "reply_corr", "0000000000000000000000000000c0de");
    ut_offline_feed_take (t, &msg);
}

//  config.get of `version` (< 0: the current one); returns the reply's
//  body (caller owns it), or NULL when the answer was an error (its reason
//  into `why` when not NULL).
static json_t *
s_get (ut_offline_t *t, const char *app, int64_t version, char *why, size_t why_len)
{
    msg_t *msg = ut_offline_msg (t, MSG_TYPE_CONFIG_GET, UT_CLI);
    msg->seq = 0;               // not journaled
    msg_set_str (msg, "app", app);
    if (version >= 0)
        msg_set_int (msg, "version", version);
    ut_offline_feed_take (t, &msg);
    CHECK_EQ (t->count, 1);
    if (t->out [0]->type->id == MSG_TYPE_ERROR) {
        if (why)
            snprintf (why, why_len, "%s", msg_str (t->out [0], "reason", ""));
        return NULL;
    }
    CHECK_EQ (t->out [0]->type->id, MSG_TYPE_CONFIG_VARS);
    CHECK_STR_EQ (t->out [0]->to, UT_CLI);
    return json_incref (t->out [0]->body);
}

//  The current version of `app`, and its vars equal `want` (a JSON text).
static void
s_expect (ut_offline_t *t, const char *app, int64_t version, const char *want)
{
    json_t *body = s_get (t, app, -1, NULL, 0);
    CHECK_NOT_NULL (body);
    json_t *expected = json_loads (want, 0, NULL);
    CHECK_NOT_NULL (expected);
    CHECK_EQ (json_integer_value (json_object_get (body, "version")), version);
    if (!json_equal (json_object_get (body, "vars"), expected)) {
        char *got = json_dumps (json_object_get (body, "vars"), JSON_COMPACT | JSON_SORT_KEYS);
        UNIT_FAIL ("vars %s, wanted %s", got ? got : "(not UTF-8)", want);
    }
    json_decref (expected);
    json_decref (body);
}

//  The last output is exactly one error whose reason holds `part`.
static void
s_expect_error (ut_offline_t *t, const char *part)
{
    CHECK_EQ (t->count, 1);
    CHECK_EQ (t->out [0]->type->id, MSG_TYPE_ERROR);
    CHECK_STR_EQ (t->out [0]->to, UT_CLI);
    const char *reason = msg_str (t->out [0], "reason", "");
    if (!strstr (reason, part))
        UNIT_FAIL ("reason '%s' does not say '%s'", reason, part);
}

static void
test_cfg_unknown_app_refused (void)
{
    ut_offline_t t;
    s_open (&t);
    s_set (&t, "nope", json_pack ("{s:s}", "FOO", "1"), NULL);
    s_expect_error (&t, "app 'nope' does not exist");
    s_unset (&t, "nope", json_pack ("[s]", "FOO"));
    s_expect_error (&t, "app 'nope' does not exist");
    char why [512];
    CHECK_NULL (s_get (&t, "nope", -1, why, sizeof why));
    CHECK (strstr (why, "app 'nope' does not exist") != NULL);
    ut_offline_close (&t);
}

static void
test_cfg_set_makes_version_and_release (void)
{
    ut_offline_t t;
    s_open (&t);
    s_app_event (&t, MSG_TYPE_APP_CREATED, "my-app");
    s_expect (&t, "my-app", 0, "{}");
    char id [MSG_ID_LEN + 1];
    s_set (&t, "my-app", json_pack ("{s:s, s:s}", "FOO", "1", "BAR", "two words"), id);
    //  Exactly one release.create and one API log line, no reply.
    CHECK_EQ (t.count, 2);
    msg_t *create = ut_offline_out (&t, MSG_TYPE_RELEASE_CREATE);
    CHECK_NOT_NULL (create);
    CHECK (create->durable);
    CHECK_STR_EQ (create->to, "release-keeper");
    CHECK_STR_EQ (create->corr, id);
    CHECK_STR_EQ (msg_str (create, "app", ""), "my-app");
    CHECK_STR_EQ (msg_str (create, "kind", ""), "config");
    CHECK_STR_EQ (msg_str (create, "description", ""), "Set FOO, BAR config vars");
    CHECK_STR_EQ (msg_str (create, "by", ""), "ann");
    CHECK_EQ (msg_int (create, "config_version", 0), 1);
    CHECK_STR_EQ (msg_str (create, "reply_to", ""), UT_CLI);
    CHECK_STR_EQ (msg_str (create, "reply_corr", ""), id);
    msg_t *log = ut_offline_out (&t, MSG_TYPE_LOG_BATCH);
    CHECK_NOT_NULL (log);
    msg_logline_t line;
    CHECK (msg_logbatch_get (log->body, 0, &line));
    CHECK_STR_EQ (line.text, "Set FOO, BAR config vars by ann");
    s_expect (&t, "my-app", 1, "{\"FOO\": \"1\", \"BAR\": \"two words\"}");
    //  A second set changes one var, keeps the other, adds a third.
    s_set (&t, "my-app", json_pack ("{s:s, s:s}", "FOO", "3", "lower_ok", ""), NULL);
    create = ut_offline_out (&t, MSG_TYPE_RELEASE_CREATE);
    CHECK_NOT_NULL (create);
    CHECK_EQ (msg_int (create, "config_version", 0), 2);
    CHECK_STR_EQ (msg_str (create, "description", ""), "Set FOO, lower_ok config vars");
    s_expect (&t, "my-app", 2, "{\"FOO\": \"3\", \"BAR\": \"two words\", \"lower_ok\": \"\"}");
    ut_offline_close (&t);
}

static void
test_cfg_set_validation_changes_nothing (void)
{
    ut_offline_t t;
    s_open (&t);
    s_app_event (&t, MSG_TYPE_APP_CREATED, "my-app");
    s_set (&t, "my-app", json_pack ("{s:s}", "KEEP", "me"), NULL);
    static const struct { const char *key, *part; } bad [] = {
        { "1ABC", "'1ABC' is not a valid config var name: it must start with a letter" },
        { "A-B", "'A-B' is not a valid config var name: only letters, digits and '_'" },
        { "__X", "'__X' is not a valid config var name: names starting with '__' are reserved" },
        { "DYNOD_X", "'DYNOD_X' is not a valid config var name: names starting with 'DYNOD_'" },
        { "", "'' is not a valid config var name: it is empty" },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad [0]; i++) {
        //  A valid key first: the whole request is refused all the same.
        s_set (&t, "my-app", json_pack ("{s:s, s:s}", "GOOD", "1", bad [i].key, "v"), NULL);
        s_expect_error (&t, bad [i].part);
        s_unset (&t, "my-app", json_pack ("[s, s]", "KEEP", bad [i].key));
        s_expect_error (&t, bad [i].part);
    }
    s_set (&t, "my-app", json_pack ("{s:o}", "NUL", json_stringn_nocheck ("a\0b", 3)), NULL);
    s_expect_error (&t, "config var 'NUL': the value holds a NUL byte");
    s_set (&t, "my-app", json_pack ("{s:i}", "NUM", 3), NULL);
    s_expect_error (&t, "config var 'NUM': the value must be a string");
    s_set (&t, "my-app", json_object (), NULL);
    s_expect_error (&t, "no config vars given");
    s_unset (&t, "my-app", json_array ());
    s_expect_error (&t, "no config var names given");
    s_unset (&t, "my-app", json_pack ("[i]", 1));
    s_expect_error (&t, "must be strings");
    s_expect (&t, "my-app", 1, "{\"KEEP\": \"me\"}");
    ut_offline_close (&t);
}

//  A string of `n` bytes 'x'. Caller owns result.
static json_t *
s_bytes (size_t n)
{
    char *s = malloc (n + 1);
    memset (s, 'x', n);
    s [n] = 0;
    json_t *value = json_string (s);
    free (s);
    return value;
}

static void
test_cfg_size_limit (void)
{
    ut_offline_t t;
    s_open (&t);
    s_app_event (&t, MSG_TYPE_APP_CREATED, "my-app");
    //  "A" + value = exactly CFG_VARS_MAX: accepted.
    s_set (&t, "my-app", json_pack ("{s:o}", "A", s_bytes (CFG_VARS_MAX - 1)), NULL);
    CHECK_NOT_NULL (ut_offline_out (&t, MSG_TYPE_RELEASE_CREATE));
    //  One more byte in a new key: refused, counting keys and values.
    s_set (&t, "my-app", json_pack ("{s:s}", "B", ""), NULL);
    s_expect_error (&t, "config vars would take 65537 bytes, over the limit of 65536");
    //  Replacing A by a shorter value and adding B fits again.
    s_set (&t, "my-app", json_pack ("{s:o, s:s}", "A", s_bytes (100), "B", "b"), NULL);
    CHECK_NOT_NULL (ut_offline_out (&t, MSG_TYPE_RELEASE_CREATE));
    json_t *body = s_get (&t, "my-app", -1, NULL, 0);
    CHECK_EQ (json_integer_value (json_object_get (body, "version")), 2);
    CHECK_EQ (cfg_vars_size (json_object_get (body, "vars")), 1 + 100 + 1 + 1);
    json_decref (body);
    ut_offline_close (&t);
}

static void
test_cfg_unset (void)
{
    ut_offline_t t;
    s_open (&t);
    s_app_event (&t, MSG_TYPE_APP_CREATED, "my-app");
    s_set (&t, "my-app", json_pack ("{s:s, s:s, s:s}", "A", "1", "B", "2", "C", "3"), NULL);
    s_unset (&t, "my-app", json_pack ("[s, s, s]", "C", "A", "C"));
    msg_t *create = ut_offline_out (&t, MSG_TYPE_RELEASE_CREATE);
    CHECK_NOT_NULL (create);
    CHECK_STR_EQ (msg_str (create, "description", ""), "Remove C, A config vars");
    CHECK_STR_EQ (msg_str (create, "by", ""), "bob");
    CHECK_EQ (msg_int (create, "config_version", 0), 2);
    s_expect (&t, "my-app", 2, "{\"B\": \"2\"}");
    //  Like Heroku: a name that is not set still makes a version and release.
    s_unset (&t, "my-app", json_pack ("[s]", "NOT_SET"));
    create = ut_offline_out (&t, MSG_TYPE_RELEASE_CREATE);
    CHECK_NOT_NULL (create);
    CHECK_EQ (msg_int (create, "config_version", 0), 3);
    s_expect (&t, "my-app", 3, "{\"B\": \"2\"}");
    ut_offline_close (&t);
}

static void
test_cfg_history (void)
{
    ut_offline_t t;
    s_open (&t);
    s_app_event (&t, MSG_TYPE_APP_CREATED, "my-app");
    s_set (&t, "my-app", json_pack ("{s:s}", "A", "1"), NULL);
    s_set (&t, "my-app", json_pack ("{s:s}", "A", "2"), NULL);
    s_unset (&t, "my-app", json_pack ("[s]", "A"));
    static const char *want [] = { "{}", "{\"A\": \"1\"}", "{\"A\": \"2\"}", "{}" };
    for (int v = 0; v < 4; v++) {
        json_t *body = s_get (&t, "my-app", v, NULL, 0);
        CHECK_NOT_NULL (body);
        CHECK_EQ (json_integer_value (json_object_get (body, "version")), v);
        json_t *expected = json_loads (want [v], 0, NULL);
        CHECK (json_equal (json_object_get (body, "vars"), expected));
        json_decref (expected);
        json_decref (body);
    }
    char why [512];
    CHECK_NULL (s_get (&t, "my-app", 4, why, sizeof why));
    CHECK (strstr (why, "app 'my-app' has no config version 4 (the current one is 3)") != NULL);
    ut_offline_close (&t);
}

static void
test_cfg_rollback (void)
{
    ut_offline_t t;
    s_open (&t);
    s_app_event (&t, MSG_TYPE_APP_CREATED, "my-app");
    s_set (&t, "my-app", json_pack ("{s:s}", "A", "1"), NULL);
    s_set (&t, "my-app", json_pack ("{s:s, s:s}", "A", "2", "B", "b"), NULL);
    //  Rollback 1, to the release that ran config version 1: version 3,
    //  and the rollback's release, asked of release-keeper for the CLI.
    s_rollback (&t, "my-app", 1, 1);
    CHECK_EQ (t.count, 1);
    msg_t *create = ut_offline_out (&t, MSG_TYPE_RELEASE_CREATE);
    CHECK_NOT_NULL (create);
    CHECK (create->durable);
    CHECK_STR_EQ (create->to, "release-keeper");
    CHECK_STR_EQ (msg_str (create, "kind", ""), "rollback");
    CHECK_STR_EQ (msg_str (create, "description", ""), "Rollback to v7");
    CHECK_EQ (msg_int (create, "config_version", 0), 3);
    CHECK_EQ (msg_int (create, "rollback_to", 0), 7);
    CHECK_STR_EQ (json_string_value (json_object_get (json_object_get (create->body, "slug"), "blob")),
                  "ab01");
    CHECK_STR_EQ (msg_str (create, "reply_to", ""), UT_CLI);
    CHECK_STR_EQ (msg_str (create, "reply_corr", ""), "0000000000000000000000000000c0de");
    s_expect (&t, "my-app", 3, "{\"A\": \"1\"}");
    //  Repeats (the same rollback, an older one) change nothing.
    s_rollback (&t, "my-app", 2, 1);
    CHECK_EQ (t.count, 0);
    s_rollback (&t, "my-app", 2, 0);
    CHECK_EQ (t.count, 0);
    s_expect (&t, "my-app", 3, "{\"A\": \"1\"}");
    //  A later rollback applies; version 0 is the empty config.
    s_rollback (&t, "my-app", 0, 2);
    s_expect (&t, "my-app", 4, "{}");
    //  An unknown version is refused (to release-keeper), nothing changes.
    s_rollback (&t, "my-app", 9, 3);
    CHECK_EQ (t.count, 1);
    CHECK_EQ (t.out [0]->type->id, MSG_TYPE_ERROR);
    CHECK_STR_EQ (t.out [0]->to, UT_RK);
    s_expect (&t, "my-app", 4, "{}");
    //  From anyone but release-keeper it is refused.
    msg_t *forged = ut_offline_msg (&t, MSG_TYPE_CONFIG_ROLLBACK, UT_CLI);
    msg_set_str (forged, "app", "my-app");
    msg_set_int (forged, "version", 1);
    msg_set_int (forged, "rollback", 99);
    msg_set_int (forged, "target", 1);
    msg_set_json (forged, "release", json_object ());
    ut_offline_feed_take (&t, &forged);
    CHECK_EQ (t.count, 1);
    CHECK_EQ (t.out [0]->type->id, MSG_TYPE_ERROR);
    s_expect (&t, "my-app", 4, "{}");
    //  The next set makes version 5 and a release of it.
    s_set (&t, "my-app", json_pack ("{s:s}", "C", "c"), NULL);
    CHECK_EQ (msg_int (ut_offline_out (&t, MSG_TYPE_RELEASE_CREATE), "config_version", 0), 5);
    ut_offline_close (&t);
}

static void
test_cfg_app_events_idempotent (void)
{
    ut_offline_t t;
    s_open (&t);
    msg_t *created = ut_offline_msg (&t, MSG_TYPE_APP_CREATED, UT_RK);
    msg_set_str (created, "name", "my-app");
    ut_offline_feed (&t, created);
    s_set (&t, "my-app", json_pack ("{s:s}", "A", "1"), NULL);
    //  A repeat app.created (another id: a second sender) changes nothing.
    s_app_event (&t, MSG_TYPE_APP_CREATED, "my-app");
    s_expect (&t, "my-app", 1, "{\"A\": \"1\"}");
    //  Destroyed: the config is gone; a repeat destroy is harmless.
    msg_t *destroyed = ut_offline_msg (&t, MSG_TYPE_APP_DESTROYED, UT_RK);
    msg_set_str (destroyed, "name", "my-app");
    ut_offline_feed (&t, destroyed);
    CHECK_NULL (s_get (&t, "my-app", -1, NULL, 0));
    s_app_event (&t, MSG_TYPE_APP_DESTROYED, "my-app");
    //  Created again: starts empty at version 0.
    s_app_event (&t, MSG_TYPE_APP_CREATED, "my-app");
    s_expect (&t, "my-app", 0, "{}");
    msg_destroy (&created);
    msg_destroy (&destroyed);
    ut_offline_close (&t);
    //  release-keeper replays its journal and re-sends old events with
    //  their old ids after a destroy and re-create. A restarted
    //  config-keeper (fresh seen-id set, as here) applies them again unless
    //  its state knows their ids: they must change nothing.
    ut_offline_t u;
    s_open (&u);
    msg_t *c1 = ut_offline_msg (&u, MSG_TYPE_APP_CREATED, UT_RK);
    msg_set_str (c1, "name", "my-app");
    msg_t *d1 = ut_offline_msg (&u, MSG_TYPE_APP_DESTROYED, UT_RK);
    msg_set_str (d1, "name", "my-app");
    ut_offline_feed (&u, c1);
    ut_offline_feed (&u, d1);
    s_app_event (&u, MSG_TYPE_APP_CREATED, "my-app");
    s_set (&u, "my-app", json_pack ("{s:s}", "NEW", "1"), NULL);
    const act_def_t *def = cfg_actor_def ();
    json_t *snap = def->snapshot (ut_offline_state (&u));
    ut_offline_close (&u);
    s_open (&u);
    u.next_id = 100;
    CHECK_OK (def->restore (ut_offline_state (&u), snap));
    json_decref (snap);
    ut_offline_feed (&u, c1);
    ut_offline_feed (&u, d1);
    CHECK_EQ (u.count, 0);
    s_expect (&u, "my-app", 1, "{\"NEW\": \"1\"}");
    msg_destroy (&c1);
    msg_destroy (&d1);
    ut_offline_close (&u);
}

static void
test_cfg_snapshot_round_trip (void)
{
    ut_offline_t t;
    s_open (&t);
    s_app_event (&t, MSG_TYPE_APP_CREATED, "app-one");
    s_app_event (&t, MSG_TYPE_APP_CREATED, "app-two");
    s_set (&t, "app-one", json_pack ("{s:o, s:s, s:s}", "BIN", json_stringn_nocheck ("\xff\x00", 1),
                                     "UTF", "é ✓ 'q' \"d\"\nline", "E", ""), NULL);
    s_set (&t, "app-one", json_pack ("{s:s}", "LATER", "x"), NULL);
    s_rollback (&t, "app-one", 1, 3);
    s_set (&t, "app-two", json_pack ("{s:s}", "T", "2"), NULL);
    const act_def_t *def = cfg_actor_def ();
    json_t *status = json_object ();
    def->status (ut_offline_state (&t), status);
    CHECK_EQ (json_integer_value (json_object_get (status, "apps")), 2);
    CHECK_EQ (json_integer_value (json_object_get (status, "config_versions")), 4);
    json_decref (status);
    //  Through JSON text, as the runtime stores it.
    json_t *snap = def->snapshot (ut_offline_state (&t));
    char *text = json_dumps (snap, JSON_COMPACT);
    CHECK_NOT_NULL (text);
    json_t *loaded = json_loads (text, 0, NULL);
    CHECK_NOT_NULL (loaded);
    ut_offline_t r;
    s_open (&r);
    r.next_id = 1000;
    CHECK_OK (def->restore (ut_offline_state (&r), loaded));
    json_t *again = def->snapshot (ut_offline_state (&r));
    CHECK (json_equal (again, snap));
    for (int v = 0; v <= 3; v++) {
        json_t *a = s_get (&t, "app-one", v, NULL, 0);
        json_t *b = s_get (&r, "app-one", v, NULL, 0);
        CHECK (a && b && json_equal (a, b));
        json_decref (a);
        json_decref (b);
    }
    json_t *body = s_get (&r, "app-one", 1, NULL, 0);
    json_t *bin = json_object_get (json_object_get (body, "vars"), "BIN");
    CHECK_EQ (json_string_length (bin), 1);
    CHECK_EQ ((unsigned char) json_string_value (bin) [0], 0xff);
    json_decref (body);
    //  The restored actor goes on from the same versions and rollbacks.
    s_rollback (&r, "app-one", 2, 3);
    CHECK_EQ (r.count, 0);
    s_set (&r, "app-one", json_pack ("{s:s}", "NEXT", "n"), NULL);
    CHECK_EQ (msg_int (ut_offline_out (&r, MSG_TYPE_RELEASE_CREATE), "config_version", 0), 4);
    //  A malformed snapshot is refused.
    json_t *bad = json_pack ("{s:{s:{s:[], s:i}}, s:{}}", "apps", "x", "versions",
                             "last_rollback", 0, "events");
    CHECK_EQ (def->restore (ut_offline_state (&r), bad), ACT_ESTORE);
    json_decref (bad);
    free (text);
    json_decref (loaded);
    json_decref (again);
    json_decref (snap);
    ut_offline_close (&r);
    ut_offline_close (&t);
}

static void
test_cfg_replay_is_deterministic (void)
{
    //  Two actors fed the same journal emit the same release.create ids,
    //  so release-keeper can drop the copy a replay re-sends.
    char ids [2][MSG_ID_LEN + 1];
    for (int k = 0; k < 2; k++) {
        ut_offline_t t;
        s_open (&t);
        s_app_event (&t, MSG_TYPE_APP_CREATED, "my-app");
        s_set (&t, "my-app", json_pack ("{s:s}", "A", "1"), NULL);
        msg_t *create = ut_offline_out (&t, MSG_TYPE_RELEASE_CREATE);
        CHECK_NOT_NULL (create);
        memcpy (ids [k], create->id, sizeof ids [k]);
        ut_offline_close (&t);
    }
    CHECK_STR_EQ (ids [0], ids [1]);
}

static const unit_test_t s_tests [] = {
    UNIT_TEST (test_cfg_unknown_app_refused),
    UNIT_TEST (test_cfg_set_makes_version_and_release),
    UNIT_TEST (test_cfg_set_validation_changes_nothing),
    UNIT_TEST (test_cfg_size_limit),
    UNIT_TEST (test_cfg_unset),
    UNIT_TEST (test_cfg_history),
    UNIT_TEST (test_cfg_rollback),
    UNIT_TEST (test_cfg_app_events_idempotent),
    UNIT_TEST (test_cfg_snapshot_round_trip),
    UNIT_TEST (test_cfg_replay_is_deterministic),
};

UNIT_SUITE (unit_suite_cfg_keeper, s_tests);
