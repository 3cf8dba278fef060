//  test_rel_releases - release-keeper's releases driven offline
//
//  Runs the real release-keeper definition under act_offline (no broker)
//  and feeds it hand-built messages as the journal would deliver them:
//  release.create of kind config and deploy (numbering without gaps, the
//  slug and config each kind carries over, release.info to reply_to with
//  reply_corr, the durable release.created to the scheduler, the API log
//  lines), repeats of either kind making no release, release.list and
//  release.get, release.rollback by default and to a version (the new
//  release's slug and config, the durable config.rollback it sends),
//  refusals that change nothing, unknown apps, and snapshot -> restore.

#include "unit.h"
#include "offline.h"
#include "../../actors/release-keeper/release-keeper.h"
#include "../../messages/msg_logbatch.h"

#define UT_CLI      "cli@t1"
#define UT_CK       "config-keeper@h1"
#define UT_BLOB_A   "aaaa000000000000000000000000000000000000000000000000000000000001"
#define UT_BLOB_B   "bbbb000000000000000000000000000000000000000000000000000000000002"

static void
s_open (ut_offline_t *t)
{
    ut_offline_open (t, rel_actor_def (), 7);
}

//  The text of the `nth` API log line in the last output.
static const char *
s_log_line (ut_offline_t *t, int nth)
{
    msg_t *batch = ut_offline_out_nth (t, MSG_TYPE_LOG_BATCH, nth);
    CHECK_NOT_NULL (batch);
    CHECK_STR_EQ (batch->to, "log-plex");
    msg_logline_t line;
    CHECK (msg_logbatch_get (batch->body, 0, &line));
    CHECK_STR_EQ (line.process, "api");
    return line.text;           // borrowed from the batch, NUL-terminated
}

static void
s_create_app (ut_offline_t *t, const char *name)
{
    msg_t *msg = ut_offline_msg (t, MSG_TYPE_APP_CREATE, UT_CLI);
    msg->durable = true;
    msg_set_str (msg, "name", name);
    msg_set_str (msg, "by", "ann");
    ut_offline_feed_take (t, &msg);
    CHECK_NOT_NULL (ut_offline_out (t, MSG_TYPE_APP_INFO));
}

//  release.create of kind config from config-keeper, answering `corr` at
//  cli@t1.
static void
s_config_release (ut_offline_t *t, const char *app, int64_t config_version, const char *corr)
{
    msg_t *msg = ut_offline_msg (t, MSG_TYPE_RELEASE_CREATE, UT_CK);
    msg->durable = true;
    msg_set_str (msg, "app", app);
    msg_set_str (msg, "kind", "config");
    msg_set_int (msg, "config_version", config_version);
    char description [64];
    snprintf (description, sizeof description, "Set V%lld config vars", (long long) config_version);
    msg_set_str (msg, "description", description);
    msg_set_str (msg, "by", "ann");
    msg_set_str (msg, "reply_to", UT_CLI);
    msg_set_str (msg, "reply_corr", corr);
    ut_offline_feed_take (t, &msg);
}

//  release.create of kind deploy, as release-keeper sends itself after the
//  build of deploy `deploy_id`.
static void
s_deploy_release (ut_offline_t *t, const char *app, const char *blob, const char *deploy_id)
{
    msg_t *msg = ut_offline_msg (t, MSG_TYPE_RELEASE_CREATE, "release-keeper@t1");
    msg->durable = true;
    msg_set_str (msg, "app", app);
    msg_set_str (msg, "kind", "deploy");
    msg_set_str (msg, "description", "Deploy 1a2b3c4");
    msg_set_str (msg, "by", "bob");
    msg_set_json (msg, "slug", json_pack ("{s:s, s:i, s:[s]}", "blob", blob, "size", 4096,
                                          "buildpacks", "shell"));
    msg_set_json (msg, "process_types", json_pack ("{s:s}", "web", "./web.sh"));
    msg_set_str (msg, "commit", "1a2b3c4d5e");
    msg_set_str (msg, "reply_to", UT_CLI);
    msg_set_str (msg, "reply_corr", deploy_id);
    ut_offline_feed_take (t, &msg);
}

//  release.rollback from the CLI (`version` 0: none given).
static void
s_rollback (ut_offline_t *t, const char *app, int64_t version)
{
    msg_t *msg = ut_offline_msg (t, MSG_TYPE_RELEASE_ROLLBACK, UT_CLI);
    msg->durable = true;
    msg_set_str (msg, "app", app);
    if (version)
        msg_set_int (msg, "version", version);
    msg_set_str (msg, "by", "carl");
    ut_offline_feed_take (t, &msg);
}

//  Plays config-keeper for the config.rollback in the last output: the
//  release.create (kind rollback) it answers with, for its new config
//  version `made`. Checks the config.rollback first: durable, to
//  config-keeper, for the CLI's request.
static void
s_rollback_answer (ut_offline_t *t, int64_t made)
{
    msg_t *cfg = ut_offline_out (t, MSG_TYPE_CONFIG_ROLLBACK);
    CHECK_NOT_NULL (cfg);
    CHECK_STR_EQ (cfg->to, "config-keeper");
    CHECK (cfg->durable);
    CHECK_STR_EQ (msg_str (cfg, "reply_to", ""), UT_CLI);
    CHECK_EQ (ut_offline_count (t, MSG_TYPE_RELEASE_INFO), 0);
    msg_t *msg = ut_offline_msg (t, MSG_TYPE_RELEASE_CREATE, UT_CK);
    msg->durable = true;
    msg_set_str (msg, "app", msg_str (cfg, "app", ""));
    msg_set_str (msg, "kind", "rollback");
    char description [64];
    snprintf (description, sizeof description, "Rollback to v%lld",
              (long long) msg_int (cfg, "target", 0));
    msg_set_str (msg, "description", description);
    msg_set_str (msg, "by", msg_str (cfg, "by", ""));
    msg_set_int (msg, "config_version", made);
    msg_set_int (msg, "rollback_to", msg_int (cfg, "target", 0));
    json_t *release = json_object_get (cfg->body, "release");
    const char *keys [] = { "slug", "process_types", "commit" };
    for (size_t i = 0; i < 3; i++)
        if (json_object_get (release, keys [i]))
            msg_set_json (msg, keys [i], json_deep_copy (json_object_get (release, keys [i])));
    msg_set_str (msg, "reply_to", msg_str (cfg, "reply_to", ""));
    msg_set_str (msg, "reply_corr", msg_str (cfg, "reply_corr", ""));
    ut_offline_feed_take (t, &msg);
}

//  release.list of `app`: the reply's releases, newest first. Caller owns
//  result.
static json_t *
s_list (ut_offline_t *t, const char *app)
{
    msg_t *msg = ut_offline_msg (t, MSG_TYPE_RELEASE_LIST, UT_CLI);
    msg->seq = 0;
    msg_set_str (msg, "app", app);
    ut_offline_feed_take (t, &msg);
    msg_t *reply = ut_offline_out (t, MSG_TYPE_RELEASE_LIST_REPLY);
    CHECK_NOT_NULL (reply);
    return json_incref (json_object_get (reply->body, "releases"));
}

static int64_t
s_int (const json_t *obj, const char *key)
{
    json_t *value = json_object_get (obj, key);
    CHECK (json_is_integer (value));
    return json_integer_value (value);
}

static const char *
s_str (const json_t *obj, const char *key)
{
    return json_string_value (json_object_get (obj, key));
}

//  The last output is exactly one error to `to` with `corr` whose reason
//  contains `part`.
static void
s_check_error (ut_offline_t *t, const char *to, const char *corr, const char *part)
{
    CHECK_EQ (t->count, 1);
    msg_t *err = ut_offline_out (t, MSG_TYPE_ERROR);
    CHECK_NOT_NULL (err);
    CHECK_STR_EQ (err->to, to);
    if (corr)
        CHECK_STR_EQ (err->corr, corr);
    if (!strstr (msg_str (err, "reason", ""), part))
        UNIT_FAIL ("reason '%s' lacks '%s'", msg_str (err, "reason", ""), part);
}

static void
test_rel_release_config_numbering (void)
{
    ut_offline_t t;
    s_open (&t);
    s_create_app (&t, "app-one");
    for (int v = 1; v <= 3; v++) {
        char corr [MSG_ID_LEN + 1];
        snprintf (corr, sizeof corr, "%032x", 0x100 + v);
        s_config_release (&t, "app-one", v, corr);
        //  release.info to reply_to with corr reply_corr.
        msg_t *info = ut_offline_out (&t, MSG_TYPE_RELEASE_INFO);
        CHECK_NOT_NULL (info);
        CHECK_STR_EQ (info->to, UT_CLI);
        CHECK_STR_EQ (info->corr, corr);
        CHECK_EQ (msg_int (info, "version", 0), v);
        CHECK_EQ (msg_int (info, "config_version", -1), v);
        CHECK_STR_EQ (msg_str (info, "app", ""), "app-one");
        CHECK (msg_bool (info, "current", false));
        CHECK_STR_EQ (msg_str (info, "by", ""), "ann");
        CHECK_EQ (msg_int (info, "created_ms", 0), UT_OFFLINE_TS + t.next_id);
        CHECK_NULL (json_object_get (info->body, "slug"));
        CHECK_NULL (json_object_get (info->body, "cause"));
        //  release.created to the scheduler, durable, following the cause.
        msg_t *created = ut_offline_out (&t, MSG_TYPE_RELEASE_CREATED);
        CHECK_NOT_NULL (created);
        CHECK_STR_EQ (created->to, "scheduler");
        CHECK (created->durable);
        CHECK_EQ (msg_int (created, "version", 0), v);
        CHECK (msg_bool (created, "current", false));
        CHECK_EQ (msg_int (created, "app_created_ms", 0), UT_OFFLINE_TS + 1);
        //  One API line; config-keeper logs the `Set ...` line itself.
        CHECK_EQ (ut_offline_count (&t, MSG_TYPE_LOG_BATCH), 1);
        char want [64];
        snprintf (want, sizeof want, "Release v%d created by ann", v);
        CHECK_STR_EQ (s_log_line (&t, 0), want);
    }
    json_t *list = s_list (&t, "app-one");
    CHECK_EQ (json_array_size (list), 3);
    for (size_t i = 0; i < 3; i++) {
        json_t *rel = json_array_get (list, i);
        CHECK_EQ (s_int (rel, "version"), 3 - (int64_t) i);
        CHECK (json_is_true (json_object_get (rel, "current")) == (i == 0));
        CHECK_STR_EQ (s_str (rel, "kind"), "config");
    }
    json_decref (list);
    ut_offline_close (&t);
}

static void
test_rel_release_config_repeat (void)
{
    ut_offline_t t;
    s_open (&t);
    s_create_app (&t, "app-one");
    s_config_release (&t, "app-one", 1, "00000000000000000000000000000a01");
    s_config_release (&t, "app-one", 2, "00000000000000000000000000000a02");
    //  The same config version again (a re-sent follow-on): no release, no
    //  event, no log; reply_to hears about the release it made.
    s_config_release (&t, "app-one", 2, "00000000000000000000000000000a03");
    CHECK_NULL (ut_offline_out (&t, MSG_TYPE_RELEASE_CREATED));
    CHECK_NULL (ut_offline_out (&t, MSG_TYPE_LOG_BATCH));
    msg_t *info = ut_offline_out (&t, MSG_TYPE_RELEASE_INFO);
    CHECK_NOT_NULL (info);
    CHECK_EQ (msg_int (info, "version", 0), 2);
    CHECK_STR_EQ (info->corr, "00000000000000000000000000000a03");
    //  An older one too.
    s_config_release (&t, "app-one", 1, "00000000000000000000000000000a04");
    CHECK_NULL (ut_offline_out (&t, MSG_TYPE_RELEASE_CREATED));
    CHECK_EQ (msg_int (ut_offline_out (&t, MSG_TYPE_RELEASE_INFO), "version", 0), 1);
    json_t *list = s_list (&t, "app-one");
    CHECK_EQ (json_array_size (list), 2);
    json_decref (list);
    //  A newer one still makes v3: no gap.
    s_config_release (&t, "app-one", 5, "00000000000000000000000000000a05");
    CHECK_EQ (msg_int (ut_offline_out (&t, MSG_TYPE_RELEASE_INFO), "version", 0), 3);
    //  A config release without a usable version is refused, to reply_to.
    msg_t *msg = ut_offline_msg (&t, MSG_TYPE_RELEASE_CREATE, UT_CK);
    msg_set_str (msg, "app", "app-one");
    msg_set_str (msg, "kind", "config");
    msg_set_str (msg, "description", "Set X config vars");
    msg_set_str (msg, "reply_to", UT_CLI);
    msg_set_str (msg, "reply_corr", "00000000000000000000000000000a06");
    ut_offline_feed_take (&t, &msg);
    s_check_error (&t, UT_CLI, "00000000000000000000000000000a06", "config_version");
    //  So is an unknown kind.
    msg = ut_offline_msg (&t, MSG_TYPE_RELEASE_CREATE, UT_CK);
    msg_set_str (msg, "app", "app-one");
    msg_set_str (msg, "kind", "addon");
    msg_set_str (msg, "description", "Add redis");
    ut_offline_feed_take (&t, &msg);
    s_check_error (&t, UT_CK, NULL, "unknown release kind 'addon'");
    list = s_list (&t, "app-one");
    CHECK_EQ (json_array_size (list), 3);
    json_decref (list);
    ut_offline_close (&t);
}

static void
test_rel_release_deploy (void)
{
    ut_offline_t t;
    s_open (&t);
    s_create_app (&t, "app-one");
    s_config_release (&t, "app-one", 1, "00000000000000000000000000000b01");
    s_deploy_release (&t, "app-one", UT_BLOB_A, "00000000000000000000000000000d01");
    msg_t *info = ut_offline_out (&t, MSG_TYPE_RELEASE_INFO);
    CHECK_NOT_NULL (info);
    CHECK_STR_EQ (info->corr, "00000000000000000000000000000d01");
    CHECK_EQ (msg_int (info, "version", 0), 2);
    CHECK_EQ (msg_int (info, "config_version", 0), 1);
    CHECK_STR_EQ (s_str (json_object_get (info->body, "slug"), "blob"), UT_BLOB_A);
    CHECK_STR_EQ (s_str (json_object_get (info->body, "process_types"), "web"), "./web.sh");
    CHECK_STR_EQ (msg_str (info, "commit", ""), "1a2b3c4d5e");
    CHECK_STR_EQ (msg_str (info, "kind", ""), "deploy");
    CHECK_NULL (json_object_get (info->body, "cause"));
    CHECK_EQ (ut_offline_count (&t, MSG_TYPE_LOG_BATCH), 2);
    CHECK_STR_EQ (s_log_line (&t, 0), "Deploy 1a2b3c4 by bob");
    CHECK_STR_EQ (s_log_line (&t, 1), "Release v2 created by bob");
    CHECK_NOT_NULL (ut_offline_out (&t, MSG_TYPE_RELEASE_CREATED));
    //  The same deploy again: nothing new.
    s_deploy_release (&t, "app-one", UT_BLOB_A, "00000000000000000000000000000d01");
    CHECK_NULL (ut_offline_out (&t, MSG_TYPE_RELEASE_CREATED));
    CHECK_EQ (msg_int (ut_offline_out (&t, MSG_TYPE_RELEASE_INFO), "version", 0), 2);
    //  A config change keeps the slug and processes.
    s_config_release (&t, "app-one", 2, "00000000000000000000000000000b02");
    info = ut_offline_out (&t, MSG_TYPE_RELEASE_INFO);
    CHECK_EQ (msg_int (info, "version", 0), 3);
    CHECK_STR_EQ (s_str (json_object_get (info->body, "slug"), "blob"), UT_BLOB_A);
    CHECK_STR_EQ (s_str (json_object_get (info->body, "process_types"), "web"), "./web.sh");
    //  A second deploy gets the config of the current release.
    s_deploy_release (&t, "app-one", UT_BLOB_B, "00000000000000000000000000000d02");
    info = ut_offline_out (&t, MSG_TYPE_RELEASE_INFO);
    CHECK_EQ (msg_int (info, "version", 0), 4);
    CHECK_EQ (msg_int (info, "config_version", 0), 2);
    //  A deploy without a slug blob is refused.
    msg_t *msg = ut_offline_msg (&t, MSG_TYPE_RELEASE_CREATE, "release-keeper@t1");
    msg_set_str (msg, "app", "app-one");
    msg_set_str (msg, "kind", "deploy");
    msg_set_str (msg, "description", "Deploy x");
    msg_set_json (msg, "slug", json_object ());
    ut_offline_feed_take (&t, &msg);
    s_check_error (&t, "release-keeper@t1", NULL, "slug");
    json_t *list = s_list (&t, "app-one");
    CHECK_EQ (json_array_size (list), 4);
    json_decref (list);
    ut_offline_close (&t);
}

static void
test_rel_release_get (void)
{
    ut_offline_t t;
    s_open (&t);
    s_create_app (&t, "app-one");
    msg_t *msg = ut_offline_msg (&t, MSG_TYPE_RELEASE_GET, UT_CLI);
    msg_set_str (msg, "app", "app-one");
    ut_offline_feed_take (&t, &msg);
    s_check_error (&t, UT_CLI, NULL, "has no releases");
    s_config_release (&t, "app-one", 1, "00000000000000000000000000000c01");
    s_config_release (&t, "app-one", 2, "00000000000000000000000000000c02");
    //  Default: the current release.
    msg = ut_offline_msg (&t, MSG_TYPE_RELEASE_GET, UT_CLI);
    msg_set_str (msg, "app", "app-one");
    ut_offline_feed_take (&t, &msg);
    msg_t *info = ut_offline_out (&t, MSG_TYPE_RELEASE_INFO);
    CHECK_NOT_NULL (info);
    CHECK_STR_EQ (info->to, UT_CLI);
    CHECK_EQ (msg_int (info, "version", 0), 2);
    CHECK (msg_bool (info, "current", false));
    //  An older one is not current.
    msg = ut_offline_msg (&t, MSG_TYPE_RELEASE_GET, UT_CLI);
    msg_set_str (msg, "app", "app-one");
    msg_set_int (msg, "version", 1);
    ut_offline_feed_take (&t, &msg);
    info = ut_offline_out (&t, MSG_TYPE_RELEASE_INFO);
    CHECK_EQ (msg_int (info, "version", 0), 1);
    CHECK (!msg_bool (info, "current", true));
    //  Versions that do not exist.
    static const int64_t bad [] = { 3, 9, 0, -1 };
    for (size_t i = 0; i < sizeof bad / sizeof bad [0]; i++) {
        msg = ut_offline_msg (&t, MSG_TYPE_RELEASE_GET, UT_CLI);
        msg_set_str (msg, "app", "app-one");
        msg_set_int (msg, "version", bad [i]);
        ut_offline_feed_take (&t, &msg);
        char want [64];
        snprintf (want, sizeof want, "release v%lld of app 'app-one' does not exist",
                  (long long) bad [i]);
        s_check_error (&t, UT_CLI, NULL, want);
    }
    ut_offline_close (&t);
}

static void
test_rel_release_rollback_default (void)
{
    ut_offline_t t;
    s_open (&t);
    s_create_app (&t, "app-one");
    s_config_release (&t, "app-one", 1, "00000000000000000000000000000e01");
    //  Only v1: nothing to go back to.
    s_rollback (&t, "app-one", 0);
    s_check_error (&t, UT_CLI, NULL, "app 'app-one' has no release before v1");
    s_deploy_release (&t, "app-one", UT_BLOB_A, "00000000000000000000000000000d01");
    s_config_release (&t, "app-one", 2, "00000000000000000000000000000e02");
    s_deploy_release (&t, "app-one", UT_BLOB_B, "00000000000000000000000000000d02");
    //  v4 is current (slug B, config 2); back to v3 (slug A, config 2):
    //  release-keeper checks it and hands it to config-keeper, which
    //  orders it among config changes.
    s_rollback (&t, "app-one", 0);
    msg_t *cfg = ut_offline_out (&t, MSG_TYPE_CONFIG_ROLLBACK);
    CHECK_NOT_NULL (cfg);
    CHECK_STR_EQ (msg_str (cfg, "app", ""), "app-one");
    CHECK_EQ (msg_int (cfg, "version", 0), 2);
    CHECK_EQ (msg_int (cfg, "rollback", 0), 1);
    CHECK_EQ (msg_int (cfg, "target", 0), 3);
    CHECK_STR_EQ (msg_str (cfg, "by", ""), "carl");
    CHECK_STR_EQ (s_str (json_object_get (json_object_get (cfg->body, "release"), "slug"), "blob"),
                  UT_BLOB_A);
    CHECK_EQ (ut_offline_count (&t, MSG_TYPE_RELEASE_CREATED), 0);
    //  config-keeper made config version 3 holding version 2's vars.
    s_rollback_answer (&t, 3);
    msg_t *info = ut_offline_out (&t, MSG_TYPE_RELEASE_INFO);
    CHECK_NOT_NULL (info);
    CHECK_STR_EQ (info->to, UT_CLI);
    CHECK_EQ (msg_int (info, "version", 0), 5);
    CHECK_STR_EQ (msg_str (info, "description", ""), "Rollback to v3");
    CHECK_STR_EQ (msg_str (info, "kind", ""), "rollback");
    CHECK_EQ (msg_int (info, "rollback_to", 0), 3);
    CHECK_STR_EQ (msg_str (info, "by", ""), "carl");
    CHECK_STR_EQ (s_str (json_object_get (info->body, "slug"), "blob"), UT_BLOB_A);
    CHECK_EQ (msg_int (info, "config_version", 0), 3);
    msg_t *created = ut_offline_out (&t, MSG_TYPE_RELEASE_CREATED);
    CHECK_NOT_NULL (created);
    CHECK (created->durable);
    CHECK_EQ (msg_int (created, "version", 0), 5);
    CHECK_EQ (ut_offline_count (&t, MSG_TYPE_LOG_BATCH), 2);
    CHECK_STR_EQ (s_log_line (&t, 0), "Rollback to v3 by carl");
    CHECK_STR_EQ (s_log_line (&t, 1), "Release v5 created by carl");
    //  Again: back to v4, the release before the rollback.
    s_rollback (&t, "app-one", 0);
    CHECK_EQ (msg_int (ut_offline_out (&t, MSG_TYPE_CONFIG_ROLLBACK), "rollback", 0), 2);
    s_rollback_answer (&t, 4);
    info = ut_offline_out (&t, MSG_TYPE_RELEASE_INFO);
    CHECK_EQ (msg_int (info, "version", 0), 6);
    CHECK_STR_EQ (msg_str (info, "description", ""), "Rollback to v4");
    CHECK_STR_EQ (s_str (json_object_get (info->body, "slug"), "blob"), UT_BLOB_B);
    ut_offline_close (&t);
}

//  Only config-keeper may ask for config and rollback releases, only
//  release-keeper itself for deploys.
static void
test_rel_release_create_senders (void)
{
    ut_offline_t t;
    s_open (&t);
    s_create_app (&t, "app-one");
    msg_t *msg = ut_offline_msg (&t, MSG_TYPE_RELEASE_CREATE, UT_CLI);
    msg->durable = true;
    msg_set_str (msg, "app", "app-one");
    msg_set_str (msg, "kind", "config");
    msg_set_int (msg, "config_version", 99);
    msg_set_str (msg, "description", "Set X config vars");
    ut_offline_feed_take (&t, &msg);
    s_check_error (&t, UT_CLI, NULL, "may not ask for a config release");
    CHECK_EQ (ut_offline_count (&t, MSG_TYPE_RELEASE_CREATED), 0);
    msg = ut_offline_msg (&t, MSG_TYPE_RELEASE_CREATE, UT_CK);
    msg->durable = true;
    msg_set_str (msg, "app", "app-one");
    msg_set_str (msg, "kind", "deploy");
    msg_set_str (msg, "description", "Deploy 1a2b3c4");
    msg_set_json (msg, "slug", json_pack ("{s:s}", "blob", UT_BLOB_A));
    ut_offline_feed_take (&t, &msg);
    CHECK_EQ (ut_offline_count (&t, MSG_TYPE_RELEASE_CREATED), 0);
    CHECK_EQ (ut_offline_count (&t, MSG_TYPE_ERROR), 1);
    //  A config release after the refused one still gets v1: nothing was
    //  recorded (config_seen untouched).
    s_config_release (&t, "app-one", 1, "00000000000000000000000000000e01");
    CHECK_EQ (msg_int (ut_offline_out (&t, MSG_TYPE_RELEASE_INFO), "version", 0), 1);
    ut_offline_close (&t);
}

static void
test_rel_release_rollback_explicit (void)
{
    ut_offline_t t;
    s_open (&t);
    s_create_app (&t, "app-one");
    s_config_release (&t, "app-one", 1, "00000000000000000000000000000f01");
    s_deploy_release (&t, "app-one", UT_BLOB_A, "00000000000000000000000000000d01");
    s_config_release (&t, "app-one", 2, "00000000000000000000000000000f02");
    //  Back to v1: no slug yet, config 1 (config-keeper makes version 3).
    s_rollback (&t, "app-one", 1);
    CHECK_EQ (msg_int (ut_offline_out (&t, MSG_TYPE_CONFIG_ROLLBACK), "version", 0), 1);
    CHECK_EQ (msg_int (ut_offline_out (&t, MSG_TYPE_CONFIG_ROLLBACK), "target", 0), 1);
    s_rollback_answer (&t, 3);
    msg_t *info = ut_offline_out (&t, MSG_TYPE_RELEASE_INFO);
    CHECK_NOT_NULL (info);
    CHECK_EQ (msg_int (info, "version", 0), 4);
    CHECK_STR_EQ (msg_str (info, "description", ""), "Rollback to v1");
    CHECK_NULL (json_object_get (info->body, "slug"));
    CHECK_EQ (msg_int (info, "config_version", 0), 3);
    //  A deploy now runs with the rolled-back config (version 3).
    s_deploy_release (&t, "app-one", UT_BLOB_B, "00000000000000000000000000000d02");
    CHECK_EQ (msg_int (ut_offline_out (&t, MSG_TYPE_RELEASE_INFO), "config_version", 0), 3);
    //  A later config change numbers on from there.
    s_config_release (&t, "app-one", 4, "00000000000000000000000000000f03");
    CHECK_EQ (msg_int (ut_offline_out (&t, MSG_TYPE_RELEASE_INFO), "version", 0), 6);
    //  Releases that do not exist: refused, nothing sent, nothing made.
    static const int64_t bad [] = { 7, 99, -2 };
    for (size_t i = 0; i < sizeof bad / sizeof bad [0]; i++) {
        s_rollback (&t, "app-one", bad [i]);
        char want [64];
        snprintf (want, sizeof want, "release v%lld of app 'app-one' does not exist",
                  (long long) bad [i]);
        s_check_error (&t, UT_CLI, NULL, want);
    }
    json_t *list = s_list (&t, "app-one");
    CHECK_EQ (json_array_size (list), 6);
    json_decref (list);
    ut_offline_close (&t);
}

static void
test_rel_release_unknown_app (void)
{
    ut_offline_t t;
    s_open (&t);
    //  From config-keeper with reply_to: the error goes to the CLI.
    s_config_release (&t, "nope", 1, "00000000000000000000000000001001");
    s_check_error (&t, UT_CLI, "00000000000000000000000000001001", "app 'nope' does not exist");
    //  Without reply_to: to the sender.
    msg_t *msg = ut_offline_msg (&t, MSG_TYPE_RELEASE_CREATE, UT_CK);
    msg_set_str (msg, "app", "nope");
    msg_set_str (msg, "kind", "config");
    msg_set_str (msg, "description", "Set X config vars");
    msg_set_int (msg, "config_version", 1);
    ut_offline_feed_take (&t, &msg);
    s_check_error (&t, UT_CK, NULL, "app 'nope' does not exist");
    static const msg_type_id_t types [] = { MSG_TYPE_RELEASE_LIST, MSG_TYPE_RELEASE_GET,
                                            MSG_TYPE_RELEASE_ROLLBACK };
    for (size_t i = 0; i < sizeof types / sizeof types [0]; i++) {
        msg = ut_offline_msg (&t, types [i], UT_CLI);
        msg_set_str (msg, "app", "nope");
        ut_offline_feed_take (&t, &msg);
        s_check_error (&t, UT_CLI, NULL, "app 'nope' does not exist");
    }
    ut_offline_close (&t);
}

//  The whole history comes back from a snapshot, and numbering goes on.
static void
test_rel_release_snapshot (void)
{
    ut_offline_t t;
    s_open (&t);
    s_create_app (&t, "app-one");
    s_config_release (&t, "app-one", 1, "00000000000000000000000000002001");
    s_deploy_release (&t, "app-one", UT_BLOB_A, "00000000000000000000000000000d01");
    s_rollback (&t, "app-one", 1);
    s_rollback_answer (&t, 2);
    const act_def_t *def = rel_actor_def ();
    json_t *snap = def->snapshot (ut_offline_state (&t));
    char *text = json_dumps (snap, 0);
    json_decref (snap);
    json_t *before = s_list (&t, "app-one");
    ut_offline_close (&t);

    ut_offline_t u;
    s_open (&u);
    u.next_id = 100;
    json_t *parsed = json_loads (text, 0, NULL);
    free (text);
    CHECK_OK (def->restore (ut_offline_state (&u), parsed));
    json_decref (parsed);
    json_t *after = s_list (&u, "app-one");
    CHECK (json_equal (before, after));
    json_decref (before);
    json_decref (after);
    //  Repeats are still known as such after the restore.
    s_config_release (&u, "app-one", 1, "00000000000000000000000000002002");
    CHECK_NULL (ut_offline_out (&u, MSG_TYPE_RELEASE_CREATED));
    s_deploy_release (&u, "app-one", UT_BLOB_A, "00000000000000000000000000000d01");
    CHECK_NULL (ut_offline_out (&u, MSG_TYPE_RELEASE_CREATED));
    s_config_release (&u, "app-one", 2, "00000000000000000000000000002003");
    CHECK_NULL (ut_offline_out (&u, MSG_TYPE_RELEASE_CREATED));
    s_config_release (&u, "app-one", 3, "00000000000000000000000000002004");
    CHECK_EQ (msg_int (ut_offline_out (&u, MSG_TYPE_RELEASE_INFO), "version", 0), 4);
    //  The rollback count is restored too: the next one is number 2.
    s_rollback (&u, "app-one", 1);
    CHECK_EQ (msg_int (ut_offline_out (&u, MSG_TYPE_CONFIG_ROLLBACK), "rollback", 0), 2);
    ut_offline_close (&u);
}

static const unit_test_t s_tests [] = {
    UNIT_TEST (test_rel_release_config_numbering),
    UNIT_TEST (test_rel_release_config_repeat),
    UNIT_TEST (test_rel_release_deploy),
    UNIT_TEST (test_rel_release_get),
    UNIT_TEST (test_rel_release_rollback_default),
    UNIT_TEST (test_rel_release_rollback_explicit),
    UNIT_TEST (test_rel_release_create_senders),
    UNIT_TEST (test_rel_release_unknown_app),
    UNIT_TEST (test_rel_release_snapshot),
};

UNIT_SUITE (unit_suite_rel_releases, s_tests);
