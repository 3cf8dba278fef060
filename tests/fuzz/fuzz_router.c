//  fuzz_router - libFuzzer target for the router's HTTP/1.1 parsing: a
//  client's bytes through proxy.c (request parsing, limits, strictness,
//  routing, the forwarded head, re-framed bodies) and a dyno's bytes
//  through reply.c (response parsing, the relayed head and body, errors)
//
//  No sockets: this file is the worker thread. It defines the four
//  rtr_worker_* functions conn.h says proxy.c and reply.c call (a dyno
//  "connection" here is a flag and a buffer of what reached it) and runs
//  one rtr_conn_t the way worker.c's loop does: client bytes into
//  conn->cin then rtr_proxy_client_data, pipelined requests resumed,
//  connects finished, the dyno's answer fed to rtr_reply_backend_data,
//  deadlines ticked far in the future, then the client gone. The routing
//  picture is fixed: app `app` (two web dynos up, custom domains
//  `www.example.com` and `*.wild.example.com`), `maint` (maintenance),
//  `norel` (never released), `boot` (a dyno starting), `crash` (crashed),
//  one ACME challenge token `tok`.
//
//  Input: byte 0 picks the run (bit 0: HTTPS; bit 1: no hosts table, only
//  `APP.localhost`; bit 2: the first connect is refused; bit 3: the dyno
//  answers as soon as the head arrives; bits 4-5: client bytes arrive in
//  pieces of all / 1 / 7 / 61 bytes; bits 6-7: the dyno's likewise). The
//  rest is the client's stream; after its first two NUL bytes (if any),
//  the first dyno's answer (later requests get a fixed 200).
//
//  Checked, besides no crash and no leak:
//  - what reaches a dyno for a request that completed is exactly one
//    complete request with one Host (no smuggling: the next bytes on a
//    kept-alive dyno connection start the next request), and a dyno
//    connection only goes back to the pool after such a request and the
//    whole response;
//  - what reaches the client parses as HTTP responses, in order, up to
//    the one that closes the connection.
//  A broken rule abort()s; `make fuzz` builds this with clang, the replay
//  main runs the corpus under gcc.

#include "../../router/conn.h"

#include <errno.h>
#include <http_parser.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FZ_REQUESTS_MAX     64      // pipelined requests whose method is noted
#define FZ_STEPS_MAX        100000  // the harness loop's guard
#define FZ_FIXED_ANSWER     "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

//  The worker thread, as far as proxy.c and reply.c see one.
struct rtr_worker {
    int refuse;                 // connects still to refuse
    bool early;                 // the dyno answers once the head arrived
    size_t res_piece;           // bytes per backend read
    const uint8_t *answer;      // the first dyno answer (borrowed)
    size_t answer_len;
    bool answer_used;
    rtr_buf_t sent;             // what reached the dyno for this request
    bool sent_checked;          // `sent` was one complete request
    bool answered_now;          // the dyno's answer was fed for this backend
    //  The client's side.
    bool head [FZ_REQUESTS_MAX];    // request k is HEAD
    size_t requests;
    size_t responses;           // final responses the client parsed
    http_parser client;         // parses what the client receives
    bool client_done;           // a closing response was seen: stop
    bool client_closing;
};

static void
s_fail (const char *what)
{
    fprintf (stderr, "fuzz-router: %s\n", what);
    abort ();
}

//  --- what a dyno receives

typedef struct {
    int complete;
    int hosts;
    bool in_field;
    bool field_is_host;
} fz_req_t;

static int
s_req_field (http_parser *p, const char *at, size_t len)
{
    fz_req_t *r = p->data;
    r->field_is_host = len == 4 && strncasecmp (at, "host", 4) == 0 && !r->in_field;
    r->in_field = true;
    return 0;
}

static int
s_req_value (http_parser *p, const char *at, size_t len)
{
    (void) at, (void) len;
    fz_req_t *r = p->data;
    if (r->in_field && r->field_is_host)
        r->hosts++;
    r->in_field = false;
    return 0;
}

static int
s_req_complete (http_parser *p)
{
    ((fz_req_t *) p->data)->complete++;
    return 0;
}

//  `sent` must be exactly one complete request with one Host header.
static void
s_check_sent (struct rtr_worker *w)
{
    static const http_parser_settings settings = {
        .on_header_field = s_req_field, .on_header_value = s_req_value,
        .on_message_complete = s_req_complete,
    };
    fz_req_t r = { 0 };
    http_parser p;
    http_parser_init (&p, HTTP_REQUEST);
    p.data = &r;
    size_t n = http_parser_execute (&p, &settings, w->sent.data, w->sent.len);
    if (HTTP_PARSER_ERRNO (&p) != HPE_OK)
        s_fail ("a forwarded request does not parse");
    if (r.complete != 1)
        s_fail ("a forwarded request is not exactly one request");
    if (n != w->sent.len && !p.upgrade)
        s_fail ("bytes follow a forwarded request");
    if (r.hosts != 1)
        s_fail ("a forwarded request has not exactly one Host");
    w->sent_checked = true;
}

//  --- what the client receives

static int
s_res_headers (http_parser *p)
{
    struct rtr_worker *w = p->data;
    if (p->status_code >= 100 && p->status_code < 200 && p->status_code != 101)
        return 0;
    bool head = w->responses < FZ_REQUESTS_MAX && w->responses < w->requests
             && w->head [w->responses];
    w->client_closing = !http_should_keep_alive (p) || p->status_code == 101;
    //  As clients read them: a 204 or 304 has no content, whatever its
    //  head says.
    return head || p->status_code == 204 || p->status_code == 304 ? 1 : 0;
}

static int
s_res_complete (http_parser *p)
{
    struct rtr_worker *w = p->data;
    if (p->status_code >= 100 && p->status_code < 200 && p->status_code != 101)
        return 0;
    w->responses++;
    if (w->client_closing) {
        w->client_done = true;
        http_parser_pause (p, 1);
    }
    return 0;
}

static const http_parser_settings s_client_settings = {
    .on_headers_complete = s_res_headers, .on_message_complete = s_res_complete,
};

//  Moves what the router wrote to the client into the client's parser.
static void
s_client_take (rtr_conn_t *conn)
{
    struct rtr_worker *w = conn->worker;
    rtr_buf_t *out = &conn->cout;
    size_t len = rtr_buf_pending (out);
    if (len && getenv ("FUZZ_ROUTER_TRACE"))
        fprintf (stderr, "client <- [%.*s]\n", (int) len, out->data + out->off);
    if (len && !w->client_done && !conn->tunnel) {
        http_parser_execute (&w->client, &s_client_settings, out->data + out->off, len);
        enum http_errno err = HTTP_PARSER_ERRNO (&w->client);
        if (err != HPE_OK && err != HPE_PAUSED)
            s_fail ("the client gets bytes that are not an HTTP response");
    }
    rtr_buf_reset (out);
}

//  The methods of the pipelined requests, as the client sent them.
static int
s_pre_headers (http_parser *p)
{
    struct rtr_worker *w = p->data;
    if (w->requests < FZ_REQUESTS_MAX)
        w->head [w->requests] = p->method == HTTP_HEAD;
    w->requests++;
    return 0;
}

static void
s_pre_parse (struct rtr_worker *w, const uint8_t *data, size_t len)
{
    static const http_parser_settings settings = {
        .on_headers_complete = s_pre_headers,
    };
    http_parser p;
    http_parser_init (&p, HTTP_REQUEST);
    p.data = w;
    http_parser_execute (&p, &settings, (const char *) data, len);
}

//  --- the worker functions proxy.c and reply.c call

int
rtr_worker_backend_open (rtr_conn_t *conn)
{
    struct rtr_worker *w = conn->worker;
    conn->m_connect = rtr_mono_ms ();
    if (w->refuse > 0) {
        w->refuse--;
        return ECONNREFUSED;
    }
    conn->bfd = 1000;           // not a descriptor: a flag that one is open
    conn->reused = false;
    conn->connecting = true;
    conn->connected = false;
    w->answered_now = false;
    return 0;
}

void
rtr_worker_backend_done (rtr_conn_t *conn, bool reusable)
{
    struct rtr_worker *w = conn->worker;
    if (conn->bfd < 0)
        return;
    if (reusable && conn->connected && !conn->connecting) {
        if (rtr_buf_pending (&conn->bout))
            s_fail ("a dyno connection is pooled with request bytes unsent");
        if (!w->sent_checked)
            s_check_sent (w);
        if (!conn->res_done)
            s_fail ("a dyno connection is pooled before its response ended");
    }
    rtr_buf_reset (&w->sent);
    w->sent_checked = false;
    conn->bfd = -1;
    conn->connecting = conn->connected = false;
}

void
rtr_worker_sideline (rtr_conn_t *conn)
{
    rtr_table_sideline (conn->sh->table, conn->be.id, conn->sh->to.sideline);
}

void
rtr_worker_answered (rtr_conn_t *conn)
{
    (void) conn;
}

//  --- the loop

//  Feeds the dyno's answer for the current request, in pieces, then its
//  end of stream when the answer did not complete the response.
static void
s_dyno_answer (rtr_conn_t *conn)
{
    struct rtr_worker *w = conn->worker;
    w->answered_now = true;
    const char *answer = FZ_FIXED_ANSWER;
    size_t len = strlen (FZ_FIXED_ANSWER);
    if (!w->answer_used && w->answer) {
        answer = (const char *) w->answer;
        len = w->answer_len;
        w->answer_used = true;
    }
    for (size_t at = 0; at < len && conn->bfd >= 0 && !conn->tunnel;) {
        size_t n = len - at < w->res_piece ? len - at : w->res_piece;
        rtr_reply_backend_data (conn, answer + at, n);
        at += n;
        s_client_take (conn);
    }
    if (conn->bfd >= 0 && !conn->tunnel && !conn->res_done)
        rtr_reply_backend_data (conn, NULL, 0);
    s_client_take (conn);
}

//  What worker.c does after an event, until nothing changes.
static void
s_settle (rtr_conn_t *conn)
{
    struct rtr_worker *w = conn->worker;
    for (int step = 0; step < FZ_STEPS_MAX && !conn->dead && !conn->tunnel; step++) {
        s_client_take (conn);
        if (conn->resume) {
            conn->resume = false;
            rtr_proxy_client_data (conn);
            continue;
        }
        if (conn->bfd >= 0 && conn->connecting) {
            conn->connecting = false;
            conn->connected = true;
            rtr_proxy_connected (conn, 0);
            continue;
        }
        if (conn->bfd >= 0 && conn->connected && rtr_buf_pending (&conn->bout)) {
            rtr_buf_add (&w->sent, conn->bout.data + conn->bout.off, rtr_buf_pending (&conn->bout));
            rtr_buf_reset (&conn->bout);
            if (conn->req_done && !conn->err_status && !conn->upgrade_req)
                s_check_sent (w);
            continue;
        }
        if (conn->bfd >= 0 && conn->connected && !w->answered_now
        &&  (conn->req_done || (w->early && conn->headers_done)) && !conn->err_status) {
            if (conn->req_done && !conn->err_status && !w->sent_checked)
                s_check_sent (w);
            s_dyno_answer (conn);
            continue;
        }
        break;
    }
    s_client_take (conn);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    static const size_t pieces [] = { SIZE_MAX, 1, 7, 61 };
    if (size == 0)
        return 0;
    uint8_t mode = data [0];
    const uint8_t *stream = data + 1;
    size_t stream_len = size - 1;
    const uint8_t *answer = NULL;
    size_t answer_len = 0;
    for (size_t i = 0; i + 1 < stream_len; i++)
        if (stream [i] == 0 && stream [i + 1] == 0) {
            answer = stream + i + 2;
            answer_len = stream_len - i - 2;
            stream_len = i;
            break;
        }

    rtr_table_t *table = rtr_table_new ();
    rtr_table_apply (table, "app", "d1", "dyno-supervisor@fuzz", "web.1", "web", "up", "127.0.0.1", 5001);
    rtr_table_apply (table, "app", "d2", "dyno-supervisor@fuzz", "web.2", "web", "up", "127.0.0.1", 5002);
    rtr_table_apply (table, "app", "w1", "dyno-supervisor@fuzz", "worker.1", "worker", "up", "127.0.0.1", 5003);
    rtr_table_apply (table, "boot", "b1", "dyno-supervisor@fuzz", "web.1", "web", "starting", NULL, 0);
    rtr_table_apply (table, "crash", "c1", "dyno-supervisor@fuzz", "web.1", "web", "crashed", NULL, 0);
    rtr_table_apply (table, "maint", "m1", "dyno-supervisor@fuzz", "web.1", "web", "up", "127.0.0.1", 5004);
    rtr_table_apply (table, "norel", "n1", "dyno-supervisor@fuzz", "web.1", "web", "up", "127.0.0.1", 5005);
    rtr_hosts_t *hosts = NULL;
    if (!(mode & 2)) {
        hosts = rtr_hosts_new ("example.net");
        const char *pictures [] = {
            ("{\"app\":\"app\",\"released\":true,\"maintenance\":false,"
             "\"domains\":[\"www.example.com\",\"*.wild.example.com\"]}"),
            "{\"app\":\"maint\",\"released\":true,\"maintenance\":true,\"domains\":[]}",
            "{\"app\":\"norel\",\"released\":false,\"maintenance\":false,\"domains\":[]}",
        };
        for (size_t i = 0; i < sizeof pictures / sizeof pictures [0]; i++) {
            json_t *body = json_loads (pictures [i], 0, NULL);
            rtr_hosts_apply (hosts, body);
            json_decref (body);
        }
    }
    rtr_challenges_t *challenges = rtr_challenges_new ();
    json_t *challenge = json_pack ("{s:s, s:s}", "token", "tok", "key_auth", "tok.thumb");
    rtr_challenges_apply (challenges, challenge);
    json_decref (challenge);
    rtr_logq_t *logq = rtr_logq_new ();
    if (!logq)
        s_fail ("no log queue");
    rtr_shared_t sh = {
        .table = table, .logq = logq, .hosts = hosts, .challenges = challenges,
        .to = { .connect = 5000, .sideline = 5000, .service = 30000, .idle = 55000,
                .header = 10000, .keepalive = 90000, .boot = 75000, .pool_idle = 60000 },
        .http_port = 8080, .https_port = 8443,
    };
    struct rtr_worker w = {
        .refuse = (mode & 4) ? 1 : 0, .early = (mode & 8) != 0,
        .res_piece = pieces [(mode >> 6) & 3], .answer = answer, .answer_len = answer_len,
    };
    http_parser_init (&w.client, HTTP_RESPONSE);
    w.client.data = &w;
    s_pre_parse (&w, stream, stream_len);
    uint64_t rng = 0x9e3779b97f4a7c15ULL;
    rtr_conn_t *conn = calloc (1, sizeof *conn);
    conn->worker = &w;
    conn->sh = &sh;
    conn->rng = &rng;
    conn->https = (mode & 1) != 0;
    conn->listen_port = conn->https ? sh.https_port : sh.http_port;
    conn->cfd = conn->bfd = -1;
    conn->m_idle = conn->m_activity = conn->m_client = rtr_mono_ms ();
    snprintf (conn->fwd, sizeof conn->fwd, "127.0.0.1");
    rtr_proxy_init (conn);

    size_t piece = pieces [(mode >> 4) & 3];
    for (size_t at = 0; at < stream_len && !conn->dead && !conn->tunnel;) {
        size_t n = stream_len - at < piece ? stream_len - at : piece;
        if (!conn->close_after) {
            rtr_buf_add (&conn->cin, stream + at, n);
            at += n;
            rtr_proxy_client_data (conn);
        }
        else
            at = stream_len;    // the worker reads no more
        s_settle (conn);
    }
    //  Every deadline passes, then the client hangs up.
    if (!conn->dead && !conn->tunnel) {
        rtr_reply_tick (conn, rtr_mono_ms () + 1000000);
        s_settle (conn);
    }
    rtr_proxy_client_gone (conn);
    //  The connection ends: the client's last response must be whole,
    //  unless it is a dyno's that the dyno cut short.
    if (!w.client_done && !conn->tunnel && conn->close_after
    &&  !(conn->res_head_sent && !conn->res_done)) {
        http_parser_execute (&w.client, &s_client_settings, NULL, 0);
        enum http_errno err = HTTP_PARSER_ERRNO (&w.client);
        if (err != HPE_OK && err != HPE_PAUSED)
            s_fail ("the client's last response is cut short");
    }

    rtr_worker_backend_done (conn, false);
    rtr_proxy_release (conn);
    rtr_buf_release (&conn->cin);
    rtr_buf_release (&conn->bout);
    rtr_buf_release (&conn->cout);
    rtr_buf_release (&conn->replay);
    free (conn);
    rtr_buf_release (&w.sent);
    rtr_logq_destroy (&logq);
    rtr_challenges_destroy (&challenges);
    rtr_hosts_destroy (&hosts);
    rtr_table_destroy (&table);
    return 0;
}
