//  test_rtr_parts - unit tests for the router's pure parts
//
//  Covers router/table.h (up web dynos only, down removes, random choice
//  over all, skip list, sidelining, H10/H14/H20 (starting)/no-app answers,
//  a lost supervisor's dynos dropped, one id on two supervisors), router/headers.h (Host →
//  app, hop-by-hop names including those Connection lists, X-Request-Id
//  rule, UUID shape) and router/logline.h (Heroku's info and error lines).

#include "unit.h"
#include "../../router/headers.h"
#include "../../router/logline.h"
#include "../../router/table.h"

#include <regex.h>

static void
test_rtr_table (void)
{
    rtr_table_t *table = rtr_table_new ();
    rtr_backend_t be;
    CHECK_EQ (rtr_table_pick (table, "a", 1, NULL, 0, &be), RTR_PICK_NO_APP);
    rtr_table_apply (table, "a", "id1", "dyno-supervisor@h1", "web.1", "web", "starting", "127.0.0.1", 0);
    rtr_table_apply (table, "a", "w1", "dyno-supervisor@h1", "worker.1", "worker", "up", "127.0.0.1", 0);
    CHECK_EQ (rtr_table_pick (table, "a", 1, NULL, 0, &be), RTR_PICK_STARTING);
    rtr_table_apply (table, "a", "id1", "dyno-supervisor@h1", "web.1", "web", "stopping", "127.0.0.1", 0);
    CHECK_EQ (rtr_table_pick (table, "a", 1, NULL, 0, &be), RTR_PICK_NO_WEB);
    rtr_table_apply (table, "a", "id1", "dyno-supervisor@h1", "web.1", "web", "up", "127.0.0.1", 5001);
    rtr_table_apply (table, "a", "id2", "dyno-supervisor@h1", "web.2", "web", "up", "127.0.0.1", 5002);
    CHECK_EQ (rtr_table_up_count (table), 2);
    int seen [2] = { 0, 0 };
    for (uint64_t r = 0; r < 10; r++) {
        CHECK_EQ (rtr_table_pick (table, "a", r, NULL, 0, &be), RTR_PICK_OK);
        seen [be.port - 5001]++;
    }
    CHECK (seen [0] == 5 && seen [1] == 5);
    const char skip [1][RTR_ID_MAX] = { "id1" };
    CHECK_EQ (rtr_table_pick (table, "a", 0, skip, 1, &be), RTR_PICK_OK);
    CHECK_STR_EQ (be.name, "web.2");
    //  A sidelined dyno is skipped while another is up, picked when alone.
    CHECK (rtr_table_is_up (table, "id1"));
    CHECK (!rtr_table_is_up (table, "w1"));
    rtr_table_sideline (table, "id1", 60000);
    CHECK_EQ (rtr_table_sidelined (table), 1);
    for (uint64_t r = 0; r < 10; r++) {
        CHECK_EQ (rtr_table_pick (table, "a", r, NULL, 0, &be), RTR_PICK_OK);
        CHECK_STR_EQ (be.name, "web.2");
    }
    const char skip2 [1][RTR_ID_MAX] = { "id2" };
    CHECK_EQ (rtr_table_pick (table, "a", 0, skip2, 1, &be), RTR_PICK_OK);
    CHECK_STR_EQ (be.name, "web.1");
    rtr_table_sideline (table, "id1", -1);
    CHECK_EQ (rtr_table_sidelined (table), 0);
    rtr_table_apply (table, "a", "id2", "dyno-supervisor@h1", "web.2", "web", "down", "127.0.0.1", 5002);
    rtr_table_apply (table, "a", "id1", "dyno-supervisor@h1", "web.1", "web", "crashed", "127.0.0.1", 5001);
    CHECK_EQ (rtr_table_pick (table, "a", 0, NULL, 0, &be), RTR_PICK_CRASHED);
    rtr_table_apply (table, "a", "id1", "dyno-supervisor@h1", "web.1", "web", "down", "127.0.0.1", 5001);
    CHECK_EQ (rtr_table_pick (table, "a", 0, NULL, 0, &be), RTR_PICK_NO_WEB);
    rtr_table_destroy (&table);
    CHECK_NULL (table);
}

static void
test_rtr_headers (void)
{
    char app [64];
    CHECK (rtr_headers_app ("My-App.localhost:8080", 21, app, sizeof app));
    CHECK_STR_EQ (app, "my-app");
    CHECK (rtr_headers_app ("a.LOCALHOST", 11, app, sizeof app));
    CHECK (!rtr_headers_app ("localhost", 9, app, sizeof app));
    CHECK (!rtr_headers_app (".localhost", 10, app, sizeof app));
    CHECK (!rtr_headers_app ("a.b.localhost", 13, app, sizeof app));
    CHECK (!rtr_headers_app ("a.localhost:80x", 15, app, sizeof app));
    CHECK (!rtr_headers_app ("example.com", 11, app, sizeof app));
    CHECK (rtr_headers_hop ("Keep-Alive", 10, NULL));
    CHECK (rtr_headers_hop ("transfer-encoding", 17, NULL));
    CHECK (rtr_headers_hop ("X-Secret", 8, "close, x-secret"));
    CHECK (!rtr_headers_hop ("X-Secret", 8, "close"));
    CHECK (!rtr_headers_hop ("Host", 4, "close"));
    CHECK (rtr_headers_request_id_ok ("abc-123/+=", 10));
    CHECK (!rtr_headers_request_id_ok ("", 0));
    CHECK (!rtr_headers_request_id_ok ("a b", 3));
    char long_id [202];
    memset (long_id, 'a', sizeof long_id);
    CHECK (rtr_headers_request_id_ok (long_id, 200));
    CHECK (!rtr_headers_request_id_ok (long_id, 201));
    char uuid [37], other [37];
    uint64_t rng = 42;
    rtr_headers_uuid (uuid, &rng);
    rtr_headers_uuid (other, &rng);
    regex_t re;
    CHECK_OK (regcomp (&re, "^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$",
                       REG_EXTENDED | REG_NOSUB));
    CHECK_OK (regexec (&re, uuid, 0, NULL, 0));
    regfree (&re);
    CHECK (strcmp (uuid, other) != 0);
}

static void
test_rtr_logline (void)
{
    char out [1024];
    rtr_logline_t info = {
        .method = "GET", .path = "/", .host = "app.localhost", .request_id = "r1",
        .fwd = "127.0.0.1", .dyno = "web.1", .connect_ms = 1, .service_ms = 18,
        .status = 200, .bytes = 13, .protocol = "http",
    };
    rtr_logline_format (&info, out, sizeof out);
    CHECK_STR_EQ (out, "at=info method=GET path=\"/\" host=app.localhost request_id=r1 "
                  "fwd=\"127.0.0.1\" dyno=web.1 connect=1ms service=18ms status=200 bytes=13 "
                  "protocol=http");
    rtr_logline_t err = {
        .code = "H14", .method = "GET", .path = "/", .host = "app.localhost",
        .request_id = "r1", .fwd = "127.0.0.1", .connect_ms = -1, .service_ms = -1,
        .status = 503, .bytes = -1,
    };
    rtr_logline_format (&err, out, sizeof out);
    CHECK_STR_EQ (out, "at=error code=H14 desc=\"No web processes running\" method=GET path=\"/\" "
                  "host=app.localhost request_id=r1 fwd=\"127.0.0.1\" dyno= connect= service= "
                  "status=503 bytes= protocol=http");
    err.code = "H18";
    err.sock = "backend";
    rtr_logline_format (&err, out, sizeof out);
    CHECK (strncmp (out, "at=error code=H18 desc=\"Server Request Interrupted\" sock=backend method=",
                    72) == 0);
    err.code = "H27";
    err.sock = "client";
    err.status = 499;
    rtr_logline_format (&err, out, sizeof out);
    const char *h27 = "at=warning code=H27 desc=\"Client Request Interrupted\" sock=client ";
    CHECK (strncmp (out, h27, strlen (h27)) == 0);
    err.code = "H80";
    err.sock = NULL;
    rtr_logline_format (&err, out, sizeof out);
    const char *h80 = "at=info code=H80 desc=\"Maintenance mode\" method=";
    CHECK (strncmp (out, h80, strlen (h80)) == 0);
    rtr_logline_format (&info, out, 20);
    CHECK_EQ (strlen (out), 19);
}

//  A lost supervisor's dynos go, the others stay; the same dyno id on two
//  supervisors (a partitioned host's copy and its replacement) is two
//  entries, and one's `down` leaves the other.
static void
test_rtr_table_sups (void)
{
    rtr_table_t *table = rtr_table_new ();
    rtr_backend_t be;
    const char *a = "dyno-supervisor@a", *b = "dyno-supervisor@b";
    rtr_table_apply (table, "x", "id1", a, "web.1", "web", "up", "10.0.0.1", 5001);
    rtr_table_apply (table, "x", "id2", b, "web.2", "web", "up", "10.0.0.2", 5002);
    rtr_table_apply (table, "y", "id3", b, "web.1", "web", "up", "10.0.0.2", 5003);
    rtr_table_apply (table, "y", "w1", b, "worker.1", "worker", "up", "10.0.0.2", 0);
    CHECK_EQ (rtr_table_up_count (table), 3);
    CHECK_EQ (rtr_table_drop_sup (table, "dyno-supervisor@nobody"), 0);
    CHECK_EQ (rtr_table_drop_sup (table, b), 2);
    CHECK_EQ (rtr_table_up_count (table), 1);
    for (uint64_t r = 0; r < 10; r++) {
        CHECK_EQ (rtr_table_pick (table, "x", r, NULL, 0, &be), RTR_PICK_OK);
        CHECK_STR_EQ (be.id, "id1");
    }
    //  The app stays known: H14, not 404.
    CHECK_EQ (rtr_table_pick (table, "y", 0, NULL, 0, &be), RTR_PICK_NO_WEB);
    CHECK (!rtr_table_is_up (table, "id3"));
    //  id1 on b too (b came back still running it): two entries.
    rtr_table_apply (table, "x", "id1", b, "web.1", "web", "up", "10.0.0.2", 5009);
    CHECK_EQ (rtr_table_up_count (table), 2);
    rtr_table_apply (table, "x", "id1", b, "web.1", "web", "stopping", "10.0.0.2", 5009);
    rtr_table_apply (table, "x", "id1", b, "web.1", "web", "down", "10.0.0.2", 5009);
    CHECK_EQ (rtr_table_up_count (table), 1);
    CHECK (rtr_table_is_up (table, "id1"));
    CHECK_EQ (rtr_table_pick (table, "x", 3, NULL, 0, &be), RTR_PICK_OK);
    CHECK_STR_EQ (be.host, "10.0.0.1");
    CHECK_EQ (be.port, 5001);
    //  Sidelining an id reaches every copy of it.
    rtr_table_apply (table, "x", "id1", b, "web.1", "web", "up", "10.0.0.2", 5009);
    rtr_table_sideline (table, "id1", 60000);
    CHECK_EQ (rtr_table_sidelined (table), 2);
    CHECK_EQ (rtr_table_drop_sup (table, a), 1);
    CHECK_EQ (rtr_table_drop_sup (table, b), 1);
    CHECK_EQ (rtr_table_up_count (table), 0);
    CHECK (!rtr_table_is_up (table, "id1"));
    rtr_table_destroy (&table);
}

static const unit_test_t s_tests [] = {
    UNIT_TEST (test_rtr_table),
    UNIT_TEST (test_rtr_table_sups),
    UNIT_TEST (test_rtr_headers),
    UNIT_TEST (test_rtr_logline),
};

UNIT_SUITE (unit_suite_rtr_parts, s_tests);
