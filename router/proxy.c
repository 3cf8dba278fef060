//  proxy - the request side of one client connection: parsing, routing,
//  forwarding
//
//  Requests are parsed with libhttp-parser, which refuses duplicate or
//  conflicting Content-Length, Content-Length with chunked, bad chunk
//  sizes, bare CR, NUL and control bytes. Where it is lenient this file
//  adds checks without parsing anything itself: the head's bytes may hold
//  no bare LF and no obs-fold (a line feed followed by a space or tab), a
//  header name no space, Transfer-Encoding only `chunked`; the limits are
//  counted in the callbacks (request line 8192 bytes: 414; header line
//  8192, name 1000, 1000 headers: 431). A refused request gets its status,
//  the connection closed, and no backend contact.
//
//  The parser pauses at the end of each request head: the head is checked,
//  then routed (ACME challenge, Host → app, a dyno at random) and the
//  forwarded head built; the body follows, re-framed (Content-Length as
//  sent, or chunked re-encoded). It pauses again at the end of the request
//  until the response is relayed (reply.c), so a pipelined second request
//  waits its turn. While no dyno of the app is up but some are starting,
//  the request is held (up to the boot timeout, then H20).

#include "conn.h"
#include "../actors/common/act_base.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static int s_req_begin (http_parser *p);
static int s_req_url (http_parser *p, const char *at, size_t len);
static int s_req_field (http_parser *p, const char *at, size_t len);
static int s_req_value (http_parser *p, const char *at, size_t len);
static int s_req_headers (http_parser *p);
static int s_req_body (http_parser *p, const char *at, size_t len);
static int s_req_complete (http_parser *p);

static const http_parser_settings s_req_settings = {
    .on_message_begin = s_req_begin, .on_url = s_req_url,
    .on_header_field = s_req_field, .on_header_value = s_req_value,
    .on_headers_complete = s_req_headers, .on_body = s_req_body,
    .on_message_complete = s_req_complete,
};

static uint64_t
s_random (rtr_conn_t *conn)
{
    uint64_t x = *conn->rng;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return *conn->rng = x;
}

//  --- Host → app

static rtr_host_t
s_lookup (rtr_conn_t *conn, const char *host, size_t len, char app [RTR_APP_MAX])
{
    if (conn->sh->hosts)
        return rtr_hosts_lookup (conn->sh->hosts, host, len, app);
    return rtr_headers_app (host, len, app, RTR_APP_MAX) ? RTR_HOST_OK : RTR_HOST_UNKNOWN;
}

//  For a request refused before its head ended: the app, when a complete
//  Host header names one, so the refusal can be logged.
static void
s_app_early (rtr_conn_t *conn)
{
    size_t complete = conn->rh.count - (conn->rh.count && !conn->headers_done ? 1 : 0);
    for (size_t i = 0; i < complete && !conn->app [0]; i++) {
        if (!rtr_hdrs_is (&conn->rh, i, "host"))
            continue;
        snprintf (conn->host, sizeof conn->host, "%.*s", (int) conn->rh.list [i].val_len,
                  rtr_hdrs_val (&conn->rh, i));
        if (s_lookup (conn, conn->host, strlen (conn->host), conn->app) != RTR_HOST_OK)
            conn->app [0] = 0;
    }
    if (conn->app [0] && !conn->method [0])
        snprintf (conn->method, sizeof conn->method, "%s", http_method_str (conn->req.method));
    if (conn->app [0] && !conn->request_id [0])
        rtr_headers_uuid (conn->request_id, conn->rng);
}

void
rtr_proxy_refuse (rtr_conn_t *conn, int status, const char *code)
{
    s_app_early (conn);
    rtr_worker_backend_done (conn, false);
    rtr_buf_reset (&conn->bout);
    conn->req_done = true;
    conn->close_after = true;
    if (!code)
        code = status == 400 || status == 417 ? "H26" : "H25";
    rtr_reply_fail (conn, status, conn->app [0] ? code : NULL, true);
}

//  --- requests

static int
s_req_begin (http_parser *p)
{
    rtr_conn_t *conn = p->data;
    conn->in_request = true;
    conn->headers_done = conn->req_done = conn->waiting_boot = false;
    conn->m_begin = rtr_mono_ms ();
    conn->t_start = act_wall_ms ();
    conn->t_connect = conn->t_connected = 0;
    conn->err_status = 0;
    conn->err_code = conn->err_page = NULL;
    conn->app [0] = conn->host [0] = conn->method [0] = conn->request_id [0] = 0;
    conn->tries = 0;
    conn->reused = conn->retried = false;
    conn->res_bytes = 0;
    conn->res_started = conn->res_head_sent = conn->res_done = conn->res_raw = false;
    rtr_buf_reset (&conn->url);
    rtr_buf_reset (&conn->replay);
    conn->replay_ok = true;
    rtr_hdrs_reset (&conn->rh);
    http_parser_init (&conn->res, HTTP_RESPONSE);
    conn->res.data = conn;
    return 0;
}

static int
s_req_url (http_parser *p, const char *at, size_t len)
{
    rtr_conn_t *conn = p->data;
    rtr_buf_add (&conn->url, at, len);
    if (conn->url.len + 32 > RTR_LINE_MAX) {     // the method and version count too
        conn->rh.limit = 414;
        return -1;
    }
    return 0;
}

static int
s_req_field (http_parser *p, const char *at, size_t len)
{
    return rtr_hdrs_field (&((rtr_conn_t *) p->data)->rh, at, len);
}

static int
s_req_value (http_parser *p, const char *at, size_t len)
{
    return rtr_hdrs_value (&((rtr_conn_t *) p->data)->rh, at, len);
}

//  Pauses so that rtr_proxy_client_data checks the head's bytes before
//  anything is routed.
static int
s_req_headers (http_parser *p)
{
    rtr_conn_t *conn = p->data;
    if (p->method == HTTP_CONNECT)
        return -1;
    conn->headers_done = true;
    http_parser_pause (p, 1);
    return 0;
}

//  Adds request bytes for the dyno, keeping a copy for a retry.
static void
s_forward (rtr_conn_t *conn, const void *data, size_t len)
{
    rtr_buf_add (&conn->bout, data, len);
    if (!conn->replay_ok)
        return;
    if (conn->replay.len + len > RTR_REPLAY_MAX) {
        conn->replay_ok = false;
        rtr_buf_release (&conn->replay);
    }
    else
        rtr_buf_add (&conn->replay, data, len);
}

static int
s_req_body (http_parser *p, const char *at, size_t len)
{
    rtr_conn_t *conn = p->data;
    if (conn->err_status)
        return 0;               // dropped: the answer is an error
    char size [32];
    if (conn->chunked_req)
        s_forward (conn, size, (size_t) snprintf (size, sizeof size, "%zx\r\n", len));
    s_forward (conn, at, len);
    if (conn->chunked_req)
        s_forward (conn, "\r\n", 2);
    return 0;
}

static int
s_req_complete (http_parser *p)
{
    rtr_conn_t *conn = p->data;
    if (conn->chunked_req && !conn->err_status)
        s_forward (conn, "0\r\n\r\n", 5);
    conn->req_done = true;
    http_parser_pause (p, 1);
    return 0;
}

//  --- choosing a dyno

//  Tries the next dyno; false when none is left (or the request waits for
//  one that is starting).
static bool
s_try_connect (rtr_conn_t *conn, int *last_err)
{
    while (conn->tries < RTR_TRIES) {
        rtr_pick_t pick = rtr_table_pick (conn->sh->table, conn->app, s_random (conn),
                                          (const char (*) [RTR_ID_MAX]) conn->tried,
                                          conn->tries, &conn->be);
        if (pick == RTR_PICK_STARTING && conn->tries == 0) {
            if (!conn->waiting_boot) {
                conn->waiting_boot = true;
                conn->m_boot = rtr_mono_ms ();
            }
            return false;
        }
        conn->waiting_boot = false;
        if (pick != RTR_PICK_OK) {
            if (conn->tries == 0)
                rtr_reply_fail (conn, pick == RTR_PICK_NO_APP ? 404 : 503,
                                pick == RTR_PICK_NO_APP ? NULL
                              : pick == RTR_PICK_CRASHED ? "H10" : "H14", false);
            return false;
        }
        snprintf (conn->tried [conn->tries++], RTR_ID_MAX, "%s", conn->be.id);
        conn->t_connect = act_wall_ms ();
        int err = rtr_worker_backend_open (conn);
        if (err == 0) {
            if (conn->reused)
                conn->t_connected = conn->t_connect;
            return true;
        }
        *last_err = err;
        rtr_worker_sideline (conn);
    }
    return false;
}

static void
s_connect_failed (rtr_conn_t *conn, int err)
{
    if (conn->err_status)
        return;                 // decided already (no app, no dynos)
    rtr_reply_fail (conn, 503, err == ECONNREFUSED ? "H21" : "H19", false);
}

void
rtr_proxy_boot_check (rtr_conn_t *conn)
{
    int err = 0;
    if (s_try_connect (conn, &err) || !conn->waiting_boot) {
        if (err && !conn->connecting && !conn->connected)
            s_connect_failed (conn, err);
        return;
    }
    if (rtr_mono_ms () - conn->m_boot >= conn->sh->to.boot) {
        conn->waiting_boot = false;
        rtr_reply_fail (conn, 503, "H20", false);
    }
}

//  --- routing a request head

//  Answers an ACME HTTP-01 challenge; false when the request is not one.
static bool
s_challenge (rtr_conn_t *conn)
{
    static const char prefix [] = RTR_CHALLENGE_PREFIX;
    size_t plen = sizeof prefix - 1;
    if (conn->https || (conn->req.method != HTTP_GET && conn->req.method != HTTP_HEAD)
    ||  conn->url.len <= plen || memcmp (conn->url.data, prefix, plen) != 0)
        return false;
    char answer [1024];
    ssize_t n = -1;
    if (conn->sh->challenges)
        n = rtr_challenges_lookup (conn->sh->challenges, conn->url.data + plen,
                                   conn->url.len - plen, answer, sizeof answer);
    if (n < 0)
        rtr_reply_plain (conn, 404, "not found\n", 10);
    else
        rtr_reply_plain (conn, 200, answer, (size_t) n);
    return true;
}

//  Checks what libhttp-parser lets through; returns the status to refuse
//  with, or 0.
static int
s_head_check (rtr_conn_t *conn, char *expect_continue)
{
    size_t hosts;
    rtr_hdrs_find (&conn->rh, "host", &hosts);
    if (hosts != 1)
        return 400;
    char value [64];
    size_t encodings;
    rtr_hdrs_find (&conn->rh, "transfer-encoding", &encodings);
    if (encodings > 1)
        return 400;             // only the first would be checked below
    if (rtr_hdrs_get (&conn->rh, "transfer-encoding", value, sizeof value)
    &&  strcasecmp (value, "chunked") != 0)
        return 400;
    if (rtr_hdrs_get (&conn->rh, "expect", value, sizeof value)) {
        if (strcasecmp (value, "100-continue") != 0)
            return 417;
        *expect_continue = 1;
    }
    return 0;
}

//  An absolute-form target (`GET http://HOST/path`) must name the host the
//  Host header names (RFC 9112 3.2.2 lets a server pick either; routing
//  by one while the dyno reads the other would let a request reach an app
//  claiming to be another); it is forwarded in origin-form (`/path?q`).
//  Returns 0, or -1 to refuse.
static int
s_origin_form (rtr_conn_t *conn)
{
    const char *url = conn->url.data;
    size_t len = conn->url.len;
    if (!url || len == 0 || url [0] == '/' || (len == 1 && url [0] == '*'))
        return 0;
    struct http_parser_url u;
    http_parser_url_init (&u);
    if (http_parser_parse_url (url, len, 0, &u) || !(u.field_set & (1 << UF_HOST)))
        return -1;
    int host = rtr_hdrs_find (&conn->rh, "host", NULL);
    const char *hval = rtr_hdrs_val (&conn->rh, (size_t) host);
    size_t hlen = conn->rh.list [host].val_len;
    const char *colon = memchr (hval, ':', hlen);
    if (colon)
        hlen = (size_t) (colon - hval);
    if (u.field_data [UF_HOST].len != hlen
    ||  strncasecmp (url + u.field_data [UF_HOST].off, hval, hlen) != 0)
        return -1;
    size_t from = (u.field_set & (1 << UF_PATH)) ? u.field_data [UF_PATH].off
                : (u.field_set & (1 << UF_QUERY)) ? (size_t) u.field_data [UF_QUERY].off - 1 : len;
    size_t to = (u.field_set & (1 << UF_QUERY))
              ? (size_t) u.field_data [UF_QUERY].off + u.field_data [UF_QUERY].len : len;
    if (u.field_set & (1 << UF_PATH) && !(u.field_set & (1 << UF_QUERY)))
        to = (size_t) u.field_data [UF_PATH].off + u.field_data [UF_PATH].len;
    rtr_buf_t origin = { 0 };
    if (from >= to || url [from] != '/')
        rtr_buf_add (&origin, "/", 1);
    if (from < to)
        rtr_buf_add (&origin, url + from, to - from);
    rtr_buf_release (&conn->url);
    conn->url = origin;
    return 0;
}

//  Builds the head to forward into bout (and the replay copy).
static void
s_build_head (rtr_conn_t *conn)
{
    http_parser *p = &conn->req;
    rtr_buf_t head = { 0 }, xff = { 0 }, via = { 0 };
    rtr_buf_printf (&head, "%s %.*s HTTP/1.1\r\n", conn->method, (int) conn->url.len, conn->url.data);
    char connection [1024], upgrade [256];
    const char *conn_hdr = rtr_hdrs_get (&conn->rh, "connection", connection, sizeof connection);
    for (size_t i = 0; i < conn->rh.count; i++) {
        const char *name = rtr_hdrs_name (&conn->rh, i), *value = rtr_hdrs_val (&conn->rh, i);
        size_t nlen = conn->rh.list [i].name_len, vlen = conn->rh.list [i].val_len;
        if (rtr_hdrs_is (&conn->rh, i, "x-forwarded-for"))
            rtr_buf_printf (&xff, "%.*s, ", (int) vlen, value);
        else
        if (rtr_hdrs_is (&conn->rh, i, "via"))
            rtr_buf_printf (&via, "%.*s, ", (int) vlen, value);
        //  Host is end-to-end: a Connection header naming it removes nothing.
        if ((rtr_headers_hop (name, nlen, conn_hdr) && !rtr_hdrs_is (&conn->rh, i, "host"))
        ||  rtr_headers_replaced (name, nlen))
            continue;
        rtr_buf_header (&head, name, nlen, value, vlen);
    }
    rtr_buf_printf (&head, "X-Forwarded-For: %.*s%s\r\n", (int) xff.len, xff.data ? xff.data : "",
                    conn->fwd);
    rtr_buf_printf (&head, "X-Forwarded-Proto: %s\r\nX-Forwarded-Port: %d\r\n",
                    conn->https ? "https" : "http", conn->listen_port);
    rtr_buf_printf (&head, "X-Request-Start: %lld\r\nX-Request-Id: %s\r\n",
                    (long long) conn->t_start, conn->request_id);
    rtr_buf_printf (&head, "Via: %.*s1.1 dynod\r\n", (int) via.len, via.data ? via.data : "");
    if (conn->upgrade_req && rtr_hdrs_get (&conn->rh, "upgrade", upgrade, sizeof upgrade))
        rtr_buf_printf (&head, "Connection: Upgrade\r\nUpgrade: %s\r\n", upgrade);
    if (conn->chunked_req)
        rtr_buf_printf (&head, "Transfer-Encoding: chunked\r\n");
    else
    if ((p->flags & F_CONTENTLENGTH) || p->method == HTTP_POST || p->method == HTTP_PUT
    ||  p->method == HTTP_PATCH)
        rtr_buf_printf (&head, "Content-Length: %llu\r\n",
                        (unsigned long long) ((p->flags & F_CONTENTLENGTH) ? p->content_length : 0));
    rtr_buf_add (&head, "\r\n", 2);
    s_forward (conn, head.data, head.len);
    rtr_buf_release (&head);
    rtr_buf_release (&xff);
    rtr_buf_release (&via);
}

static void
s_route (rtr_conn_t *conn)
{
    http_parser *p = &conn->req;
    snprintf (conn->method, sizeof conn->method, "%s", http_method_str (p->method));
    conn->keep_alive = http_should_keep_alive (p);
    conn->head_method = p->method == HTTP_HEAD;
    conn->chunked_req = (p->flags & F_CHUNKED) != 0;
    conn->upgrade_req = p->upgrade;
    conn->idempotent = p->method == HTTP_GET || p->method == HTTP_HEAD || p->method == HTTP_PUT
                    || p->method == HTTP_DELETE || p->method == HTTP_OPTIONS
                    || p->method == HTTP_TRACE;
    char expect_continue = 0;
    int refused = s_head_check (conn, &expect_continue);
    if (refused) {
        rtr_proxy_refuse (conn, refused, NULL);
        return;
    }
    if (s_origin_form (conn)) {
        rtr_proxy_refuse (conn, 400, NULL);
        return;
    }
    if (s_challenge (conn))
        return;
    int host = rtr_hdrs_find (&conn->rh, "host", NULL);
    snprintf (conn->host, sizeof conn->host, "%.*s", (int) conn->rh.list [host].val_len,
              rtr_hdrs_val (&conn->rh, (size_t) host));
    rtr_host_t found = s_lookup (conn, conn->host, strlen (conn->host), conn->app);
    if (found == RTR_HOST_UNKNOWN) {
        conn->app [0] = 0;
        rtr_reply_fail (conn, 404, NULL, false);
        return;
    }
    int rid = rtr_hdrs_find (&conn->rh, "x-request-id", NULL);
    if (rid >= 0 && rtr_headers_request_id_ok (rtr_hdrs_val (&conn->rh, (size_t) rid),
                                               conn->rh.list [rid].val_len))
        snprintf (conn->request_id, sizeof conn->request_id, "%.*s",
                  (int) conn->rh.list [rid].val_len, rtr_hdrs_val (&conn->rh, (size_t) rid));
    else
        rtr_headers_uuid (conn->request_id, conn->rng);
    if (found == RTR_HOST_MAINTENANCE || found == RTR_HOST_NO_RELEASE) {
        rtr_reply_fail (conn, 503, found == RTR_HOST_MAINTENANCE ? "H80" : "H81", false);
        return;
    }
    s_build_head (conn);
    int err = 0;
    if (!s_try_connect (conn, &err)) {
        if (err)
            s_connect_failed (conn, err);
        return;
    }
    if (expect_continue && p->http_minor >= 1)
        rtr_buf_printf (&conn->cout, "HTTP/1.1 100 Continue\r\n\r\n");
}

//  Checks the head's bytes [at, at + len) for what the parser lets
//  through: a bare LF, or obs-fold. False to refuse.
static bool
s_head_bytes_ok (rtr_conn_t *conn, const char *at, size_t len)
{
    uint8_t prev = conn->head_prev;
    for (size_t i = 0; i < len; i++) {
        uint8_t c = (uint8_t) at [i];
        if (c == '\n' && prev != '\r')
            return false;
        if ((c == ' ' || c == '\t') && prev == '\n')
            return false;
        prev = c;
    }
    conn->head_prev = prev;
    return true;
}

void
rtr_proxy_client_data (rtr_conn_t *conn)
{
    rtr_buf_t *in = &conn->cin;
    while (!conn->req_done && !conn->close_after && !conn->dead && rtr_buf_pending (in)) {
        bool in_head = !conn->in_request || !conn->headers_done;
        if (!conn->in_request) {
            conn->head_prev = '\n';     // a new head: the line before it ended
            //  Set by s_route; a refusal before that is not answering the
            //  last request (were it a HEAD, the page would lose its body).
            conn->head_method = conn->chunked_req = conn->upgrade_req = false;
        }
        const char *start = in->data + in->off;
        size_t n = http_parser_execute (&conn->req, &s_req_settings, start, in->len - in->off);
        bool head_ok = !in_head || s_head_bytes_ok (conn, start, n);
        in->off += n;
        enum http_errno err = HTTP_PARSER_ERRNO (&conn->req);
        if (!head_ok || (err != HPE_OK && err != HPE_PAUSED)) {
            int status = !head_ok ? 400 : conn->rh.limit ? conn->rh.limit
                       : err == HPE_HEADER_OVERFLOW ? 431 : 400;
            rtr_proxy_refuse (conn, status, NULL);
            break;
        }
        if (err != HPE_PAUSED)
            continue;
        if (conn->req_done) {
            if (conn->err_status)
                rtr_reply_fail (conn, conn->err_status, conn->err_code, false);
            break;              // stays paused until the answer is out
        }
        //  The head is complete: route it, then read the body.
        s_route (conn);
        if (!conn->close_after)
            http_parser_pause (&conn->req, 0);
    }
    if (rtr_buf_pending (in) == 0)
        rtr_buf_reset (in);
}

void
rtr_proxy_client_gone (rtr_conn_t *conn)
{
    if (conn->dead)
        return;
    conn->dead = true;
    if (conn->in_request && conn->headers_done && !conn->tunnel && !conn->res_done
    &&  !conn->close_after)
        rtr_reply_log (conn, 499, "H27", "client");
}

void
rtr_proxy_connected (rtr_conn_t *conn, int err)
{
    if (err == 0) {
        conn->t_connected = act_wall_ms ();
        return;
    }
    rtr_worker_sideline (conn);
    rtr_proxy_retry (conn, err);
}

void
rtr_proxy_retry (rtr_conn_t *conn, int err)
{
    rtr_worker_backend_done (conn, false);
    int last = err;
    if (!s_try_connect (conn, &last))
        s_connect_failed (conn, last);
}

bool
rtr_proxy_replay (rtr_conn_t *conn)
{
    if (conn->retried || !conn->replay_ok || !conn->idempotent || conn->res_started
    ||  conn->upgrade_req || conn->err_status)
        return false;
    conn->retried = true;
    rtr_worker_backend_done (conn, false);
    rtr_buf_reset (&conn->bout);
    rtr_buf_add (&conn->bout, conn->replay.data, conn->replay.len);
    conn->t_connect = act_wall_ms ();
    int err = rtr_worker_backend_open (conn);
    if (err)
        s_connect_failed (conn, err);
    return true;
}

void
rtr_proxy_init (rtr_conn_t *conn)
{
    http_parser_init (&conn->req, HTTP_REQUEST);
    conn->req.data = conn;
    http_parser_init (&conn->res, HTTP_RESPONSE);
    conn->res.data = conn;
    conn->resh.line_max = RTR_RES_LINE_MAX;
}

void
rtr_proxy_release (rtr_conn_t *conn)
{
    rtr_buf_release (&conn->url);
    rtr_buf_release (&conn->reason);
    rtr_hdrs_release (&conn->rh);
    rtr_hdrs_release (&conn->resh);
}
