//  test_rel_domains - release-keeper's custom domains, maintenance mode and
//  route.app, driven offline
//
//  Runs the real release-keeper definition under act_offline and feeds it
//  domain.add / domain.remove / domain.list / maintenance.set as the
//  journal delivers them: host name rules (RFC 1123 labels, lower case,
//  two labels at least, wildcards first only, 253 bytes), default domains
//  refused, a domain owned by one app (`already in use by another app`,
//  never naming it), the 1000-domain limit, repeats answering the record
//  they made, DNS targets unique and the same on a replay, the API log
//  lines, app.info's `maintenance`, app.destroy freeing the domains, the
//  snapshot keeping all of it, and route.app: held back while replaying
//  (offline feeding is a replay) and published from the tick.

#include "unit.h"
#include "offline.h"
#include "../../actors/release-keeper/release-keeper.h"
#include "../../actors/release-keeper/rel_state.h"
#include "../../messages/msg_logbatch.h"

#include <regex.h>

#define UT_CLI      "cli@t1"

static void
s_open (ut_offline_t *t)
{
    unsetenv ("DYNOD_BASE_DOMAIN");
    ut_offline_open (t, rel_actor_def (), 11);
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

static void
s_destroy_app (ut_offline_t *t, const char *name)
{
    msg_t *msg = ut_offline_msg (t, MSG_TYPE_APP_DESTROY, UT_CLI);
    msg->durable = true;
    msg_set_str (msg, "name", name);
    msg_set_str (msg, "confirm", name);
    ut_offline_feed_take (t, &msg);
    CHECK_NULL (ut_offline_out (t, MSG_TYPE_ERROR));
}

//  domain.add or domain.remove of `host` to `app`; the answer is in the
//  output (domain.info or error).
static void
s_domain (ut_offline_t *t, msg_type_id_t type, const char *app, const char *host)
{
    msg_t *msg = ut_offline_msg (t, type, UT_CLI);
    msg->durable = true;
    msg_set_str (msg, "app", app);
    msg_set_str (msg, "hostname", host);
    msg_set_str (msg, "by", "ann");
    ut_offline_feed_take (t, &msg);
}

//  The reason of the error answering the last message, or fails.
static const char *
s_error (ut_offline_t *t)
{
    msg_t *err = ut_offline_out (t, MSG_TYPE_ERROR);
    CHECK_NOT_NULL (err);
    CHECK_NULL (ut_offline_out (t, MSG_TYPE_DOMAIN_INFO));
    return msg_str (err, "reason", "");
}

//  The domains of `app` as domain.list answers them. Caller owns result.
static json_t *
s_list (ut_offline_t *t, const char *app)
{
    msg_t *msg = ut_offline_msg (t, MSG_TYPE_DOMAIN_LIST, UT_CLI);
    msg->seq = 0;
    msg_set_str (msg, "app", app);
    ut_offline_feed_take (t, &msg);
    msg_t *reply = ut_offline_out (t, MSG_TYPE_DOMAIN_LIST_REPLY);
    CHECK_NOT_NULL (reply);
    CHECK_STR_EQ (msg_str (reply, "app", ""), app);
    return json_incref (json_object_get (reply->body, "domains"));
}

//  The text of the only API log line in the last output.
static const char *
s_log_line (ut_offline_t *t)
{
    CHECK_EQ (ut_offline_count (t, MSG_TYPE_LOG_BATCH), 1);
    msg_t *batch = ut_offline_out (t, MSG_TYPE_LOG_BATCH);
    msg_logline_t line;
    CHECK (msg_logbatch_get (batch->body, 0, &line));
    CHECK_STR_EQ (line.process, "api");
    return line.text;
}

//  True when release-keeper noted `app` to publish again (a replay held
//  its route.app back).
static bool
s_stale (ut_offline_t *t, const char *app)
{
    rel_state_t *self = ut_offline_state (t);
    return json_object_get (self->route_stale, app) != NULL;
}

//  Runs the tick, then feeds a domain.list for `app` so the output holds
//  what the tick sent; returns the route.app of `app` in it (borrowed).
static msg_t *
s_tick_route (ut_offline_t *t, const char *app)
{
    rel_state_t *self = ut_offline_state (t);
    rel_actor_def ()->tick (self, t->act);
    msg_t *msg = ut_offline_msg (t, MSG_TYPE_APP_LIST, UT_CLI);
    msg->seq = 0;
    ut_offline_feed_take (t, &msg);
    CHECK_EQ (json_object_size (self->route_stale), 0);
    for (int i = 0; i < ut_offline_count (t, MSG_TYPE_ROUTE_APP); i++) {
        msg_t *route = ut_offline_out_nth (t, MSG_TYPE_ROUTE_APP, i);
        CHECK_STR_EQ (route->to, "topic:route.app");
        if (strcmp (msg_str (route, "app", ""), app) == 0)
            return route;
    }
    UNIT_FAIL ("no route.app for '%s'", app);
}

static void
test_rel_domain_add (void)
{
    ut_offline_t t;
    s_open (&t);
    s_create_app (&t, "shop");
    CHECK (s_stale (&t, "shop"));
    s_domain (&t, MSG_TYPE_DOMAIN_ADD, "shop", "WWW.Example.COM");
    msg_t *info = ut_offline_out (&t, MSG_TYPE_DOMAIN_INFO);
    CHECK_NOT_NULL (info);
    CHECK_STR_EQ (info->to, UT_CLI);
    CHECK_STR_EQ (msg_str (info, "app", ""), "shop");
    CHECK_STR_EQ (msg_str (info, "hostname", ""), "www.example.com");
    CHECK_STR_EQ (msg_str (info, "kind", ""), "custom");
    CHECK_EQ (msg_int (info, "created_ms", 0), UT_OFFLINE_TS + t.next_id);
    const char *target = msg_str (info, "dns_target", "");
    regex_t re;
    CHECK_OK (regcomp (&re, "^[a-z]+-[a-z]+-[0-9a-f]{12}\\.dynod\\.localhost$",
                       REG_EXTENDED | REG_NOSUB));
    CHECK_OK (regexec (&re, target, 0, NULL, 0));
    regfree (&re);
    char *first = strdup (target);
    CHECK_STR_EQ (s_log_line (&t), "Add www.example.com domain by ann");
    CHECK (s_stale (&t, "shop"));

    //  The same domain again (a re-sent or replayed add): the same record.
    s_domain (&t, MSG_TYPE_DOMAIN_ADD, "shop", "www.example.com");
    CHECK_STR_EQ (msg_str (ut_offline_out (&t, MSG_TYPE_DOMAIN_INFO), "dns_target", ""), first);
    CHECK_EQ (ut_offline_count (&t, MSG_TYPE_LOG_BATCH), 0);

    //  Another domain: another target; a wildcard is fine.
    s_domain (&t, MSG_TYPE_DOMAIN_ADD, "shop", "*.shop.example.org");
    info = ut_offline_out (&t, MSG_TYPE_DOMAIN_INFO);
    CHECK_NOT_NULL (info);
    CHECK (strcmp (msg_str (info, "dns_target", ""), first) != 0);

    json_t *list = s_list (&t, "shop");
    CHECK_EQ (json_array_size (list), 3);
    CHECK_STR_EQ (json_string_value (json_object_get (json_array_get (list, 0), "hostname")),
                  "shop.localhost");
    CHECK_STR_EQ (json_string_value (json_object_get (json_array_get (list, 0), "kind")),
                  "default");
    CHECK_STR_EQ (json_string_value (json_object_get (json_array_get (list, 1), "hostname")),
                  "*.shop.example.org");
    CHECK_STR_EQ (json_string_value (json_object_get (json_array_get (list, 2), "dns_target")),
                  first);
    json_decref (list);

    //  What the replay held back goes out from the tick.
    msg_t *route = s_tick_route (&t, "shop");
    CHECK_EQ (msg_bool (route, "released", true), false);
    CHECK_EQ (msg_bool (route, "maintenance", true), false);
    json_t *domains = json_object_get (route->body, "domains");
    CHECK_EQ (json_array_size (domains), 2);
    CHECK_STR_EQ (json_string_value (json_array_get (domains, 0)), "www.example.com");
    free (first);
    ut_offline_close (&t);
}

static void
test_rel_domain_invalid (void)
{
    ut_offline_t t;
    s_open (&t);
    s_create_app (&t, "shop");
    static const char *bad [] = {
        "", "example", "example.com.", "-a.example.com", "a-.example.com", "a..example.com",
        "a_b.example.com", "www.*.example.com", "*.com", "**.example.com", "1.2.3.4",
        "exa mple.com", "caf\xc3\xa9.example.com",
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.example.com",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad [0]; i++) {
        s_domain (&t, MSG_TYPE_DOMAIN_ADD, "shop", bad [i]);
        const char *reason = s_error (&t);
        if (!strstr (reason, "is not a valid domain name"))
            UNIT_FAIL ("'%s': %s", bad [i], reason);
    }
    //  254 bytes is too long; 253 is fine.
    char host [300];
    memset (host, 'a', sizeof host);
    for (int i = 63; i < 253; i += 64)
        host [i] = '.';
    host [253] = 0;
    s_domain (&t, MSG_TYPE_DOMAIN_ADD, "shop", host);
    CHECK_NOT_NULL (ut_offline_out (&t, MSG_TYPE_DOMAIN_INFO));
    host [253] = 'a';
    host [254] = 0;
    s_domain (&t, MSG_TYPE_DOMAIN_ADD, "shop", host);
    CHECK (strstr (s_error (&t), "253") != NULL);
    //  Unknown app.
    s_domain (&t, MSG_TYPE_DOMAIN_ADD, "nope", "www.example.com");
    CHECK_STR_EQ (s_error (&t), "app 'nope' does not exist");
    json_t *list = s_list (&t, "shop");
    CHECK_EQ (json_array_size (list), 2);
    json_decref (list);
    ut_offline_close (&t);
}

static void
test_rel_domain_defaults (void)
{
    ut_offline_t t;
    s_open (&t);
    setenv ("DYNOD_BASE_DOMAIN", "apps.example.net", 1);
    s_create_app (&t, "shop");
    static const char *refused [] = {
        "shop.localhost", "other.localhost", "a.b.localhost", "*.localhost.x.localhost",
        "shop.apps.example.net", "other.apps.example.net", "*.apps.example.net",
        "apps.example.net",
    };
    for (size_t i = 0; i < sizeof refused / sizeof refused [0]; i++) {
        s_domain (&t, MSG_TYPE_DOMAIN_ADD, "shop", refused [i]);
        const char *reason = s_error (&t);
        if (!strstr (reason, "is a default domain name and cannot be added"))
            UNIT_FAIL ("'%s': %s", refused [i], reason);
    }
    s_domain (&t, MSG_TYPE_DOMAIN_REMOVE, "shop", "shop.localhost");
    CHECK (strstr (s_error (&t), "cannot be removed") != NULL);
    //  Deeper under the base domain is a custom domain like any other.
    s_domain (&t, MSG_TYPE_DOMAIN_ADD, "shop", "www.shop.apps.example.net");
    msg_t *info = ut_offline_out (&t, MSG_TYPE_DOMAIN_INFO);
    CHECK_NOT_NULL (info);
    const char *target = msg_str (info, "dns_target", "");
    CHECK (strlen (target) > strlen (".apps.example.net"));
    CHECK_STR_EQ (target + strlen (target) - strlen (".apps.example.net"), ".apps.example.net");
    json_t *list = s_list (&t, "shop");
    CHECK_EQ (json_array_size (list), 3);
    CHECK_STR_EQ (json_string_value (json_object_get (json_array_get (list, 1), "hostname")),
                  "shop.apps.example.net");
    json_decref (list);
    unsetenv ("DYNOD_BASE_DOMAIN");
    ut_offline_close (&t);
}

static void
test_rel_domain_owned (void)
{
    ut_offline_t t;
    s_open (&t);
    s_create_app (&t, "shop");
    s_create_app (&t, "rival");
    s_domain (&t, MSG_TYPE_DOMAIN_ADD, "shop", "www.example.com");
    CHECK_NOT_NULL (ut_offline_out (&t, MSG_TYPE_DOMAIN_INFO));
    s_domain (&t, MSG_TYPE_DOMAIN_ADD, "rival", "WWW.example.com");
    CHECK_STR_EQ (s_error (&t), "www.example.com is already in use by another app");
    CHECK_EQ (ut_offline_count (&t, MSG_TYPE_LOG_BATCH), 0);
    //  Removing it from the app that does not have it.
    s_domain (&t, MSG_TYPE_DOMAIN_REMOVE, "rival", "www.example.com");
    CHECK_STR_EQ (s_error (&t), "www.example.com is not a domain of rival");
    //  Once the owner is destroyed, it is free.
    s_destroy_app (&t, "shop");
    CHECK (s_stale (&t, "shop"));
    msg_t *route = s_tick_route (&t, "shop");
    CHECK_EQ (msg_bool (route, "destroyed", false), true);
    s_domain (&t, MSG_TYPE_DOMAIN_ADD, "rival", "www.example.com");
    CHECK_STR_EQ (msg_str (ut_offline_out (&t, MSG_TYPE_DOMAIN_INFO), "app", ""), "rival");
    //  Removed, it is free again.
    s_domain (&t, MSG_TYPE_DOMAIN_REMOVE, "rival", "www.example.com");
    msg_t *info = ut_offline_out (&t, MSG_TYPE_DOMAIN_INFO);
    CHECK_NOT_NULL (info);
    CHECK_STR_EQ (msg_str (info, "hostname", ""), "www.example.com");
    CHECK_STR_EQ (s_log_line (&t), "Remove www.example.com domain by ann");
    route = s_tick_route (&t, "rival");
    CHECK_EQ (json_array_size (json_object_get (route->body, "domains")), 0);
    s_domain (&t, MSG_TYPE_DOMAIN_REMOVE, "rival", "www.example.com");
    s_error (&t);
    ut_offline_close (&t);
}

static void
test_rel_domain_limit (void)
{
    //  A line per domain would fill the runner's pipe: keep to warnings.
    setenv ("DYNOD_LOG_LEVEL", "warn", 1);
    act_log_init ("test");
    ut_offline_t t;
    s_open (&t);
    s_create_app (&t, "shop");
    char host [64];
    for (int i = 0; i < 1000; i++) {
        snprintf (host, sizeof host, "d%d.example.com", i);
        s_domain (&t, MSG_TYPE_DOMAIN_ADD, "shop", host);
        if (!ut_offline_out (&t, MSG_TYPE_DOMAIN_INFO))
            UNIT_FAIL ("domain %d refused: %s", i, s_error (&t));
    }
    s_domain (&t, MSG_TYPE_DOMAIN_ADD, "shop", "one-more.example.com");
    CHECK_STR_EQ (s_error (&t), "shop already has 1000 custom domains, the most an app may have");
    //  A repeat of one it has is still answered.
    s_domain (&t, MSG_TYPE_DOMAIN_ADD, "shop", "d7.example.com");
    CHECK_NOT_NULL (ut_offline_out (&t, MSG_TYPE_DOMAIN_INFO));
    //  Every DNS target is different.
    json_t *list = s_list (&t, "shop"), *seen = json_object ();
    size_t i;
    json_t *domain;
    json_array_foreach (list, i, domain)
        if (json_object_get (domain, "dns_target"))
            json_object_set (seen, json_string_value (json_object_get (domain, "dns_target")),
                             json_true ());
    CHECK_EQ (json_object_size (seen), 1000);
    json_decref (seen);
    json_decref (list);
    ut_offline_close (&t);
}

static void
test_rel_maintenance (void)
{
    ut_offline_t t;
    s_open (&t);
    s_create_app (&t, "shop");
    msg_t *msg = ut_offline_msg (&t, MSG_TYPE_APP_GET, UT_CLI);
    msg->seq = 0;
    msg_set_str (msg, "name", "shop");
    ut_offline_feed_take (&t, &msg);
    CHECK_EQ (msg_bool (ut_offline_out (&t, MSG_TYPE_APP_INFO), "maintenance", true), false);
    CHECK_EQ (msg_bool (ut_offline_out (&t, MSG_TYPE_APP_INFO), "acm", true), false);
    for (int round = 0; round < 2; round++) {
        msg = ut_offline_msg (&t, MSG_TYPE_MAINTENANCE_SET, UT_CLI);
        msg->durable = true;
        msg_set_str (msg, "app", "shop");
        msg_set_bool (msg, "on", true);
        msg_set_str (msg, "by", "bob");
        ut_offline_feed_take (&t, &msg);
        CHECK_EQ (msg_bool (ut_offline_out (&t, MSG_TYPE_APP_INFO), "maintenance", false), true);
        if (round == 0) {
            CHECK_STR_EQ (s_log_line (&t), "Enable maintenance mode by bob");
            msg_t *route = s_tick_route (&t, "shop");
            CHECK_EQ (msg_bool (route, "maintenance", false), true);
        }
        else        // already on: nothing changes, nothing is said
            CHECK_EQ (ut_offline_count (&t, MSG_TYPE_LOG_BATCH), 0);
    }
    CHECK (!s_stale (&t, "shop"));
    msg = ut_offline_msg (&t, MSG_TYPE_MAINTENANCE_SET, UT_CLI);
    msg->durable = true;
    msg_set_str (msg, "app", "shop");
    msg_set_bool (msg, "on", false);
    msg_set_str (msg, "by", "bob");
    ut_offline_feed_take (&t, &msg);
    CHECK_EQ (msg_bool (ut_offline_out (&t, MSG_TYPE_APP_INFO), "maintenance", true), false);
    CHECK_STR_EQ (s_log_line (&t), "Disable maintenance mode by bob");
    CHECK_EQ (msg_bool (s_tick_route (&t, "shop"), "maintenance", true), false);
    ut_offline_close (&t);
}

//  A router that comes up is told every app, straight; other actors are not.
static void
test_rel_route_router_up (void)
{
    ut_offline_t t;
    s_open (&t);
    s_create_app (&t, "shop");
    s_create_app (&t, "blog");
    s_domain (&t, MSG_TYPE_DOMAIN_ADD, "blog", "blog.example.com");
    msg_t *up = ut_offline_msg (&t, MSG_TYPE_ACTOR_UP, "broker@b1");
    up->seq = 0;
    msg_set_str (up, "name", "scheduler");
    msg_set_str (up, "instance", "h1");
    msg_set_str (up, "host", "h1");
    ut_offline_feed_take (&t, &up);
    CHECK_EQ (ut_offline_count (&t, MSG_TYPE_ROUTE_APP), 0);
    up = ut_offline_msg (&t, MSG_TYPE_ACTOR_UP, "broker@b1");
    up->seq = 0;
    msg_set_str (up, "name", "router");
    msg_set_str (up, "instance", "h2");
    msg_set_str (up, "host", "h2");
    ut_offline_feed_take (&t, &up);
    CHECK_EQ (ut_offline_count (&t, MSG_TYPE_ROUTE_APP), 2);
    for (int i = 0; i < 2; i++) {
        msg_t *route = ut_offline_out_nth (&t, MSG_TYPE_ROUTE_APP, i);
        CHECK_STR_EQ (route->to, "router@h2");
        if (strcmp (msg_str (route, "app", ""), "blog") == 0)
            CHECK_STR_EQ (json_string_value (json_array_get (json_object_get (route->body, "domains"), 0)),
                          "blog.example.com");
    }
    //  After a start every app goes out on the topic once.
    rel_state_t *self = ut_offline_state (&t);
    json_object_clear (self->route_stale);
    self->route_all = true;
    rel_actor_def ()->tick (self, t.act);
    json_decref (s_list (&t, "shop"));
    CHECK_EQ (ut_offline_count (&t, MSG_TYPE_ROUTE_APP), 2);
    CHECK (!self->route_all);
    ut_offline_close (&t);
}

//  Domains, DNS targets and maintenance come back from a snapshot.
static void
test_rel_domain_snapshot (void)
{
    ut_offline_t t;
    s_open (&t);
    s_create_app (&t, "shop");
    s_domain (&t, MSG_TYPE_DOMAIN_ADD, "shop", "www.example.com");
    msg_t *msg = ut_offline_msg (&t, MSG_TYPE_MAINTENANCE_SET, UT_CLI);
    msg->durable = true;
    msg_set_str (msg, "app", "shop");
    msg_set_bool (msg, "on", true);
    ut_offline_feed_take (&t, &msg);
    const act_def_t *def = rel_actor_def ();
    json_t *snap = def->snapshot (ut_offline_state (&t));
    char *text = json_dumps (snap, 0);
    json_decref (snap);
    json_t *before = s_list (&t, "shop");
    ut_offline_close (&t);

    ut_offline_t u;
    s_open (&u);
    u.next_id = 100;
    json_t *parsed = json_loads (text, 0, NULL);
    free (text);
    CHECK_OK (def->restore (ut_offline_state (&u), parsed));
    json_decref (parsed);
    json_t *after = s_list (&u, "shop");
    CHECK (json_equal (before, after));
    json_decref (before);
    json_decref (after);
    msg_t *route = s_tick_route (&u, "shop");
    CHECK_EQ (msg_bool (route, "maintenance", false), true);
    CHECK_EQ (json_array_size (json_object_get (route->body, "domains")), 1);
    ut_offline_close (&u);
}

static const unit_test_t s_tests [] = {
    UNIT_TEST (test_rel_domain_add),
    UNIT_TEST (test_rel_domain_invalid),
    UNIT_TEST (test_rel_domain_defaults),
    UNIT_TEST (test_rel_domain_owned),
    UNIT_TEST (test_rel_domain_limit),
    UNIT_TEST (test_rel_maintenance),
    UNIT_TEST (test_rel_route_router_up),
    UNIT_TEST (test_rel_domain_snapshot),
};

UNIT_SUITE (unit_suite_rel_domains, s_tests);
