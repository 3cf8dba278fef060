//  test_rtr_hosts - the router's Host -> app table (router/hosts.h)
//
//  Default names with and without a base domain (any case, with a port,
//  before any route.app), custom domains exact and wildcard (one label
//  deep; exact beats wildcard), the flags (maintenance -> H80 before never
//  released -> H81), a picture replacing the last one of the same app,
//  a domain moving between apps in either order of their pictures,
//  destroyed apps, junk Host values, and lookups from several threads
//  while the actor thread keeps applying pictures.

#include "unit.h"
#include "../../router/hosts.h"

#include <pthread.h>

static rtr_host_t
s_look (rtr_hosts_t *hosts, const char *host, char app [RTR_APP_MAX])
{
    return rtr_hosts_lookup (hosts, host, strlen (host), app);
}

//  Applies the picture given as JSON text.
static void
s_apply (rtr_hosts_t *hosts, const char *text)
{
    json_t *picture = json_loads (text, 0, NULL);
    CHECK_NOT_NULL (picture);
    rtr_hosts_apply (hosts, picture);
    json_decref (picture);
}

static void
test_rtr_hosts_defaults (void)
{
    rtr_hosts_t *hosts = rtr_hosts_new ("Apps.Example.NET");
    char app [RTR_APP_MAX];
    CHECK_EQ (s_look (hosts, "shop.localhost", app), RTR_HOST_OK);
    CHECK_STR_EQ (app, "shop");
    CHECK_EQ (s_look (hosts, "SHOP.LocalHost:8080", app), RTR_HOST_OK);
    CHECK_STR_EQ (app, "shop");
    CHECK_EQ (s_look (hosts, "shop.localhost.", app), RTR_HOST_OK);
    CHECK_EQ (s_look (hosts, "shop.apps.example.net", app), RTR_HOST_OK);
    CHECK_STR_EQ (app, "shop");
    CHECK_EQ (s_look (hosts, "a.shop.localhost", app), RTR_HOST_UNKNOWN);
    CHECK_STR_EQ (app, "");
    static const char *junk [] = { "", "localhost", ".localhost", "example.com", "127.0.0.1:8080",
                                   "[::1]:8080", ":8080", "apps.example.net", "x.y.apps.example.net" };
    for (size_t i = 0; i < sizeof junk / sizeof junk [0]; i++)
        if (s_look (hosts, junk [i], app) != RTR_HOST_UNKNOWN)
            UNIT_FAIL ("'%s' named app '%s'", junk [i], app);
    //  Too long, or a NUL inside.
    char big [400];
    memset (big, 'a', sizeof big);
    memcpy (big + sizeof big - 10, ".localhost", 10);
    CHECK_EQ (rtr_hosts_lookup (hosts, big, sizeof big, app), RTR_HOST_UNKNOWN);
    CHECK_EQ (rtr_hosts_lookup (hosts, "sh\0p.localhost", 14, app), RTR_HOST_UNKNOWN);
    rtr_hosts_destroy (&hosts);
    CHECK_NULL (hosts);
    rtr_hosts_destroy (&hosts);

    //  Without a base domain only APP.localhost is a default name.
    hosts = rtr_hosts_new (NULL);
    CHECK_EQ (s_look (hosts, "shop.apps.example.net", app), RTR_HOST_UNKNOWN);
    CHECK_EQ (s_look (hosts, "shop.localhost", app), RTR_HOST_OK);
    rtr_hosts_destroy (&hosts);
}

static void
test_rtr_hosts_custom (void)
{
    rtr_hosts_t *hosts = rtr_hosts_new (NULL);
    char app [RTR_APP_MAX];
    s_apply (hosts, "{\"app\": \"shop\", \"released\": true, "
                    "\"domains\": [\"www.example.com\", \"*.example.org\"]}");
    s_apply (hosts, "{\"app\": \"blog\", \"released\": true, \"domains\": [\"blog.example.org\"]}");
    CHECK_EQ (s_look (hosts, "WWW.example.com:443", app), RTR_HOST_OK);
    CHECK_STR_EQ (app, "shop");
    CHECK_EQ (s_look (hosts, "a.example.org", app), RTR_HOST_OK);
    CHECK_STR_EQ (app, "shop");
    //  Exact beats wildcard.
    CHECK_EQ (s_look (hosts, "blog.example.org", app), RTR_HOST_OK);
    CHECK_STR_EQ (app, "blog");
    //  One label deep only.
    CHECK_EQ (s_look (hosts, "a.b.example.org", app), RTR_HOST_UNKNOWN);
    CHECK_EQ (s_look (hosts, "example.org", app), RTR_HOST_UNKNOWN);
    CHECK_EQ (s_look (hosts, "example.com", app), RTR_HOST_UNKNOWN);

    //  A new picture replaces the last: the wildcard is gone.
    s_apply (hosts, "{\"app\": \"shop\", \"released\": true, \"domains\": [\"www.example.com\"]}");
    CHECK_EQ (s_look (hosts, "a.example.org", app), RTR_HOST_UNKNOWN);
    CHECK_EQ (s_look (hosts, "www.example.com", app), RTR_HOST_OK);

    //  The domain moves to blog; shop's picture comes after blog's.
    s_apply (hosts, "{\"app\": \"blog\", \"released\": true, "
                    "\"domains\": [\"blog.example.org\", \"www.example.com\"]}");
    s_apply (hosts, "{\"app\": \"shop\", \"released\": true, \"domains\": []}");
    CHECK_EQ (s_look (hosts, "www.example.com", app), RTR_HOST_OK);
    CHECK_STR_EQ (app, "blog");

    //  Destroyed: its domains name nothing; its default name is back to
    //  "not told of" (the routing table decides).
    s_apply (hosts, "{\"app\": \"blog\", \"destroyed\": true}");
    CHECK_EQ (s_look (hosts, "www.example.com", app), RTR_HOST_UNKNOWN);
    CHECK_EQ (s_look (hosts, "blog.example.org", app), RTR_HOST_UNKNOWN);
    CHECK_EQ (s_look (hosts, "blog.localhost", app), RTR_HOST_OK);
    //  Pictures without a name, or with one too long, are ignored.
    s_apply (hosts, "{\"released\": true, \"domains\": [\"x.example.com\"]}");
    s_apply (hosts, "{\"app\": \"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\", "
                    "\"domains\": [\"x.example.com\"]}");
    CHECK_EQ (s_look (hosts, "x.example.com", app), RTR_HOST_UNKNOWN);
    rtr_hosts_destroy (&hosts);
}

static void
test_rtr_hosts_flags (void)
{
    rtr_hosts_t *hosts = rtr_hosts_new (NULL);
    char app [RTR_APP_MAX];
    s_apply (hosts, "{\"app\": \"shop\", \"released\": false, \"domains\": [\"www.example.com\"]}");
    CHECK_EQ (s_look (hosts, "shop.localhost", app), RTR_HOST_NO_RELEASE);
    CHECK_STR_EQ (app, "shop");
    CHECK_EQ (s_look (hosts, "www.example.com", app), RTR_HOST_NO_RELEASE);
    s_apply (hosts, "{\"app\": \"shop\", \"released\": false, \"maintenance\": true, "
                    "\"domains\": [\"www.example.com\"]}");
    CHECK_EQ (s_look (hosts, "shop.localhost", app), RTR_HOST_MAINTENANCE);
    s_apply (hosts, "{\"app\": \"shop\", \"released\": true, \"maintenance\": true, "
                    "\"domains\": [\"www.example.com\"]}");
    CHECK_EQ (s_look (hosts, "www.example.com", app), RTR_HOST_MAINTENANCE);
    CHECK_STR_EQ (app, "shop");
    s_apply (hosts, "{\"app\": \"shop\", \"released\": true, \"maintenance\": false, "
                    "\"domains\": [\"www.example.com\"]}");
    CHECK_EQ (s_look (hosts, "www.example.com", app), RTR_HOST_OK);
    rtr_hosts_destroy (&hosts);
}

typedef struct {
    rtr_hosts_t *hosts;
    int wrong;
} s_reader_t;

static void *
s_reader (void *arg)
{
    s_reader_t *reader = arg;
    char app [RTR_APP_MAX];
    for (int i = 0; i < 20000; i++) {
        rtr_host_t host = s_look (reader->hosts, "www.example.com", app);
        //  Either app's, whole, or none between two pictures.
        if (host == RTR_HOST_OK && strcmp (app, "shop") != 0 && strcmp (app, "blog") != 0)
            reader->wrong++;
        if (s_look (reader->hosts, "stable.example.com", app) != RTR_HOST_OK
        ||  strcmp (app, "keep") != 0)
            reader->wrong++;
    }
    return NULL;
}

static void
test_rtr_hosts_threads (void)
{
    rtr_hosts_t *hosts = rtr_hosts_new (NULL);
    s_apply (hosts, "{\"app\": \"keep\", \"released\": true, \"domains\": [\"stable.example.com\"]}");
    s_reader_t readers [4] = { { hosts, 0 }, { hosts, 0 }, { hosts, 0 }, { hosts, 0 } };
    pthread_t threads [4];
    for (int i = 0; i < 4; i++)
        CHECK_OK (pthread_create (&threads [i], NULL, s_reader, &readers [i]));
    for (int i = 0; i < 2000; i++)
        s_apply (hosts, i % 2 ? "{\"app\": \"shop\", \"released\": true, \"domains\": [\"www.example.com\"]}"
                              : "{\"app\": \"blog\", \"released\": true, \"domains\": [\"www.example.com\"]}");
    for (int i = 0; i < 4; i++) {
        pthread_join (threads [i], NULL);
        CHECK_EQ (readers [i].wrong, 0);
    }
    rtr_hosts_destroy (&hosts);
}

static const unit_test_t s_tests [] = {
    UNIT_TEST (test_rtr_hosts_defaults),
    UNIT_TEST (test_rtr_hosts_custom),
    UNIT_TEST (test_rtr_hosts_flags),
    UNIT_TEST (test_rtr_hosts_threads),
};

UNIT_SUITE (unit_suite_rtr_hosts, s_tests);
