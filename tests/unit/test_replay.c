//  test_replay - follow-on ids, offline actors and the replay engine
//
//  Covers act_msg_follow (ids derived from the cause, so a replay emits
//  the same ones), act_offline_* (an actor driven without a broker, its
//  sends captured) and dynod/replay.c: a journal recorded from one run
//  replays with every output matched; a deliberately changed handler, a
//  missing output and an extra one are each reported as a divergence at
//  the right sequence number. Then the same over the recorded fixture
//  tests/journals/basic: both keepers replay it clean, and a config-keeper
//  whose config.set handler was deliberately changed is caught.

#include "unit.h"
#include "../../actors/common/act_offline.h"
#include "../../actors/release-keeper/release-keeper.h"
#include "../../actors/config-keeper/config-keeper.h"
#include "../../broker/journal.h"
#include "../../dynod/replay.h"

#include <libgen.h>

#define T0 1764288000000LL      // 2025-11-28T00:00:00Z

//  A journal being recorded: encoded entries with their seq stamped.
typedef struct {
    char *data [64];
    size_t len [64];
    size_t count;
    uint64_t seq;
} journal_t;

static void
s_journal (journal_t *j, const msg_t *msg)
{
    CHECK (j->count < 64);
    msg_error_t err;
    CHECK_OK (msg_encode (msg, &j->data [j->count], &j->len [j->count], &err));
    CHECK_OK (msg_stamp_seq (j->data [j->count], j->len [j->count], ++j->seq));
    j->count++;
}

static void
s_journal_free (journal_t *j)
{
    for (size_t i = 0; i < j->count; i++)
        free (j->data [i]);
}

//  A durable app.create from a CLI, as the broker journals it.
static msg_t *
s_app_create (act_rng_t *rng, const char *name, const char *by, int64_t ts)
{
    msg_t *msg = msg_new_addressed (MSG_TYPE_APP_CREATE, rng, "cli@t1", "release-keeper", ts);
    msg->durable = true;
    if (name)
        msg_set_str (msg, "name", name);
    msg_set_str (msg, "by", by);
    return msg;
}

//  Runs release-keeper offline over three app.creates and records the
//  inputs and every durable output into `j`, as a live run journals them.
static void
s_record (journal_t *j)
{
    act_rng_t rng;
    act_rng_init (&rng, 42);
    act_t *act = act_offline_new (rel_actor_def (), "vm", 7);
    CHECK_NOT_NULL (act);
    const char *names [] = { "alpha", NULL, "gamma" };
    for (int i = 0; i < 3; i++) {
        msg_t *in = s_app_create (&rng, names [i], "ann", T0 + i * 1000);
        s_journal (j, in);
        //  Dispatch the journaled form, seq and all.
        msg_error_t err;
        msg_t *stamped = msg_decode (j->data [j->count - 1], j->len [j->count - 1], MSG_DECODE_FULL, &err);
        CHECK_NOT_NULL (stamped);
        msg_t **out;
        size_t n;
        act_offline_feed (act, stamped, &out, &n);
        for (size_t k = 0; k < n; k++)
            if (out [k]->durable)
                s_journal (j, out [k]);
        act_offline_free_out (&out, n);
        msg_destroy (&stamped);
        msg_destroy (&in);
    }
    act_offline_destroy (&act);
}

static void
test_follow_ids_from_cause (void)
{
    act_rng_t rng;
    act_rng_init (&rng, 1);
    msg_t *in = s_app_create (&rng, "alpha", "ann", T0);
    in->seq = 1;
    //  Two instances with different rng seeds: the follow-on's id depends
    //  only on the cause; the reply's comes from each one's rng.
    act_t *a = act_offline_new (rel_actor_def (), "one", 11);
    act_t *b = act_offline_new (rel_actor_def (), "two", 22);
    msg_t **oa, **ob;
    size_t na, nb;
    act_offline_feed (a, in, &oa, &na);
    act_offline_feed (b, in, &ob, &nb);
    CHECK_EQ (na, nb);
    int follows = 0;
    for (size_t i = 0; i < na; i++) {
        CHECK_STR_EQ (oa [i]->type->name, ob [i]->type->name);
        if (oa [i]->type->id == MSG_TYPE_APP_CREATED) {
            follows++;
            CHECK (oa [i]->durable);
            CHECK_STR_EQ (oa [i]->id, ob [i]->id);
            CHECK_STR_EQ (oa [i]->corr, in->id);
            CHECK_STR_EQ (oa [i]->to, "config-keeper");
            //  Handled at the message's own time.
            CHECK_EQ (oa [i]->ts, T0);
        }
        if (oa [i]->type->id == MSG_TYPE_APP_INFO)
            CHECK (strcmp (oa [i]->id, ob [i]->id) != 0);
    }
    CHECK_EQ (follows, 1);
    //  The same cause again is a duplicate: nothing is emitted.
    act_offline_free_out (&oa, na);
    act_offline_feed (a, in, &oa, &na);
    CHECK_EQ (na, 0);
    act_offline_free_out (&oa, na);
    act_offline_free_out (&ob, nb);
    act_offline_destroy (&a);
    act_offline_destroy (&b);
    msg_destroy (&in);
}

static void
test_replay_matches_recording (void)
{
    journal_t j = { 0 };
    s_record (&j);
    CHECK_EQ (j.count, 6);
    dnd_replay_t *replay = dnd_replay_new (rel_actor_def (), 1, 0, true);
    for (size_t i = 0; i < j.count; i++)
        CHECK (dnd_replay_add (replay, j.data [i], j.len [i]));
    dnd_replay_result_t result;
    CHECK_EQ (dnd_replay_run (replay, &result), 0);
    CHECK_EQ (result.inputs, 3);
    CHECK_EQ (result.matched, 3);
    CHECK_EQ (result.first_seq, 1);
    CHECK_EQ (result.last_seq, 5);
    dnd_replay_result_release (&result);
    dnd_replay_destroy (&replay);
    //  --to 3: the first two inputs only.
    replay = dnd_replay_new (rel_actor_def (), 1, 3, true);
    for (size_t i = 0; i < j.count; i++)
        dnd_replay_add (replay, j.data [i], j.len [i]);
    CHECK_EQ (dnd_replay_run (replay, &result), 0);
    CHECK_EQ (result.inputs, 2);
    CHECK_EQ (result.matched, 2);
    dnd_replay_result_release (&result);
    dnd_replay_destroy (&replay);
    s_journal_free (&j);
}

//  A changed release-keeper: app.create records the creator upper-cased.
static int
s_changed_app_create (void *state, act_t *act, msg_t *msg)
{
    const act_def_t *real = rel_actor_def ();
    char by [64];
    snprintf (by, sizeof by, "%s", msg_str (msg, "by", ""));
    for (char *p = by; *p; p++)
        *p = (char) (*p >= 'a' && *p <= 'z' ? *p - 32 : *p);
    msg_set_str (msg, "by", by);
    for (size_t i = 0; i < real->route_count; i++)
        if (real->routes [i].type == MSG_TYPE_APP_CREATE)
            return real->routes [i].fn (state, act, msg);
    return ACT_ENOROUTE;
}

static void
test_replay_catches_changed_handler (void)
{
    journal_t j = { 0 };
    s_record (&j);
    const act_def_t *real = rel_actor_def ();
    act_route_t routes [32];
    CHECK (real->route_count <= 32);
    memcpy (routes, real->routes, real->route_count * sizeof *routes);
    for (size_t i = 0; i < real->route_count; i++)
        if (routes [i].type == MSG_TYPE_APP_CREATE)
            routes [i].fn = s_changed_app_create;
    act_def_t changed = *real;
    changed.routes = routes;
    dnd_replay_t *replay = dnd_replay_new (&changed, 1, 0, true);
    for (size_t i = 0; i < j.count; i++)
        dnd_replay_add (replay, j.data [i], j.len [i]);
    dnd_replay_result_t result;
    CHECK_EQ (dnd_replay_run (replay, &result), 1);
    CHECK_EQ (result.seq, 1);
    CHECK_EQ (result.matched, 0);
    CHECK (strncmp (result.input, "app.create ", 11) == 0);
    CHECK_NOT_NULL (result.expected);
    CHECK_NOT_NULL (result.got);
    CHECK_STR_EQ (json_string_value (json_object_get (json_object_get (result.expected, "body"), "by")), "ann");
    CHECK_STR_EQ (json_string_value (json_object_get (json_object_get (result.got, "body"), "by")), "ANN");
    dnd_replay_result_release (&result);
    dnd_replay_destroy (&replay);
    s_journal_free (&j);
}

static void
test_replay_missing_and_extra_outputs (void)
{
    journal_t j = { 0 };
    s_record (&j);
    //  Drop the second recorded app.created (entry 4, seq 4): the replay
    //  emits one the journal lacks.
    dnd_replay_t *replay = dnd_replay_new (rel_actor_def (), 1, 0, true);
    for (size_t i = 0; i < j.count; i++)
        if (i != 3)
            dnd_replay_add (replay, j.data [i], j.len [i]);
    dnd_replay_result_t result;
    CHECK_EQ (dnd_replay_run (replay, &result), 1);
    CHECK_EQ (result.seq, 3);
    CHECK_EQ (result.matched, 1);
    CHECK_NULL (result.expected);
    CHECK_NOT_NULL (result.got);
    dnd_replay_result_release (&result);
    dnd_replay_destroy (&replay);
    //  A recorded output no replay produces: an app.created for the first
    //  input that the actor never sent.
    act_rng_t rng;
    act_rng_init (&rng, 5);
    msg_error_t err;
    msg_t *first = msg_decode (j.data [0], j.len [0], MSG_DECODE_FULL, &err);
    msg_t *bogus = msg_new_addressed (MSG_TYPE_APP_CREATED, &rng, "release-keeper@vm", "config-keeper", T0);
    bogus->durable = true;
    msg_set_corr (bogus, first->id);
    msg_set_str (bogus, "name", "ghost");
    s_journal (&j, bogus);
    replay = dnd_replay_new (rel_actor_def (), 1, 0, true);
    for (size_t i = 0; i < j.count; i++)
        dnd_replay_add (replay, j.data [i], j.len [i]);
    CHECK_EQ (dnd_replay_run (replay, &result), 1);
    CHECK_EQ (result.seq, 1);
    CHECK_EQ (result.index, 1);
    CHECK_NOT_NULL (result.expected);
    CHECK_NULL (result.got);
    dnd_replay_result_release (&result);
    dnd_replay_destroy (&replay);
    msg_destroy (&bogus);
    msg_destroy (&first);
    s_journal_free (&j);
}

typedef struct {
    dnd_replay_t *replay;
    uint64_t first_set;         // seq of the fixture's first config.set
} fixture_t;

static bool
s_fixture_add (void *arg, uint64_t seq, const void *data, size_t len)
{
    fixture_t *fx = arg;
    CHECK (dnd_replay_add (fx->replay, data, len));
    msg_error_t err;
    msg_t *msg = msg_decode (data, len, MSG_DECODE_FULL, &err);
    if (msg && msg->type->id == MSG_TYPE_CONFIG_SET && !fx->first_set)
        fx->first_set = seq;
    msg_destroy (&msg);
    return true;
}

// ---------------------------------------------------------------------------
//  The recorded fixture tests/journals/basic (a real dynod up run)

//  Copies the fixture journal into the test's temp dir (LevelDB writes into
//  a journal it opens) and loads it into a replay of `def` comparing from
//  `from` (with or without the history before it). Sets *first_set_p to
//  the seq of its first config.set when not NULL.
static dnd_replay_t *
s_fixture_replay_from (const act_def_t *def, uint64_t from, bool history, uint64_t *first_set_p)
{
    char src [512];
    snprintf (src, sizeof src, "%s", __FILE__);
    char *cmd = act_sprintf ("rm -rf '%s/journal' && cp -r '%s/../journals/basic/journal' '%s/journal'",
                             unit_tmpdir (), dirname (src), unit_tmpdir ());
    CHECK_OK (system (cmd));
    free (cmd);
    char *path = act_sprintf ("%s/journal", unit_tmpdir ());
    char reason [256];
    brk_journal_t *journal = brk_journal_open (path, false, reason, sizeof reason);
    if (!journal)
        UNIT_FAIL ("cannot open the fixture: %s", reason);
    fixture_t fx = { .replay = dnd_replay_new (def, from, 0, history) };
    brk_journal_scan (journal, 1, s_fixture_add, &fx);
    brk_journal_destroy (&journal);
    free (path);
    if (first_set_p)
        *first_set_p = fx.first_set;
    return fx.replay;
}

static dnd_replay_t *
s_fixture_replay (const act_def_t *def)
{
    return s_fixture_replay_from (def, 1, true, NULL);
}

//  --from in the middle: with the history before it the state is right and
//  everything matches; without it config-keeper does not know the app and
//  diverges at that very input.
static void
test_fixture_from_with_and_without_history (void)
{
    uint64_t first_set;
    dnd_replay_t *replay = s_fixture_replay_from (cfg_actor_def (), 1, true, &first_set);
    dnd_replay_destroy (&replay);
    CHECK (first_set > 1);
    replay = s_fixture_replay_from (cfg_actor_def (), first_set, true, NULL);
    dnd_replay_result_t result;
    CHECK_EQ (dnd_replay_run (replay, &result), 0);
    CHECK_EQ (result.first_seq, first_set);
    CHECK (result.matched > 3);
    dnd_replay_result_release (&result);
    dnd_replay_destroy (&replay);
    replay = s_fixture_replay_from (cfg_actor_def (), first_set, false, NULL);
    CHECK_EQ (dnd_replay_run (replay, &result), 1);
    CHECK_EQ (result.seq, first_set);
    CHECK_NULL (result.got);
    dnd_replay_result_release (&result);
    dnd_replay_destroy (&replay);
}

static void
test_fixture_replays_clean (void)
{
    const act_def_t *defs [] = { rel_actor_def (), cfg_actor_def () };
    for (size_t i = 0; i < 2; i++) {
        dnd_replay_t *replay = s_fixture_replay (defs [i]);
        dnd_replay_result_t result;
        if (dnd_replay_run (replay, &result))
            UNIT_FAIL ("%s diverges at seq %llu", defs [i]->name, (unsigned long long) result.seq);
        CHECK (result.inputs > 5);
        CHECK (result.matched > 3);
        dnd_replay_result_release (&result);
        dnd_replay_destroy (&replay);
    }
}

//  A changed config-keeper: config.set drops the last key it is given, as
//  a careless refactoring of the key loop might.
static int
s_changed_config_set (void *state, act_t *act, msg_t *msg)
{
    const act_def_t *real = cfg_actor_def ();
    json_t *vars = json_object_get (msg->body, "vars");
    if (json_object_size (vars) > 1) {
        const char *last = NULL, *key;
        json_t *value;
        json_object_foreach (vars, key, value)
            last = key;
        json_object_del (vars, last);
    }
    for (size_t i = 0; i < real->route_count; i++)
        if (real->routes [i].type == MSG_TYPE_CONFIG_SET)
            return real->routes [i].fn (state, act, msg);
    return ACT_ENOROUTE;
}

static void
test_fixture_catches_changed_config_keeper (void)
{
    const act_def_t *real = cfg_actor_def ();
    act_route_t routes [32];
    CHECK (real->route_count <= 32);
    memcpy (routes, real->routes, real->route_count * sizeof *routes);
    for (size_t i = 0; i < real->route_count; i++)
        if (routes [i].type == MSG_TYPE_CONFIG_SET)
            routes [i].fn = s_changed_config_set;
    act_def_t changed = *real;
    changed.routes = routes;
    dnd_replay_t *replay = s_fixture_replay (&changed);
    dnd_replay_result_t result;
    CHECK_EQ (dnd_replay_run (replay, &result), 1);
    //  The fixture's first config.set sets two vars: that is where it shows.
    CHECK (strncmp (result.input, "config.set ", 11) == 0);
    CHECK_EQ (result.matched, 0);
    CHECK_NOT_NULL (result.expected);
    CHECK_NOT_NULL (result.got);
    CHECK_STR_EQ (json_string_value (json_object_get (result.expected, "type")), "release.create");
    CHECK (!json_equal (json_object_get (result.expected, "body"), json_object_get (result.got, "body")));
    dnd_replay_result_release (&result);
    dnd_replay_destroy (&replay);
}

static const unit_test_t s_tests [] = {
    UNIT_TEST (test_fixture_replays_clean),
    UNIT_TEST (test_fixture_catches_changed_config_keeper),
    UNIT_TEST (test_fixture_from_with_and_without_history),
    UNIT_TEST (test_follow_ids_from_cause),
    UNIT_TEST (test_replay_matches_recording),
    UNIT_TEST (test_replay_catches_changed_handler),
    UNIT_TEST (test_replay_missing_and_extra_outputs),
};

UNIT_SUITE (unit_suite_replay, s_tests);
