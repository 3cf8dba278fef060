//  proxy - what the router does with the bytes of one client connection
//
//  Requests are parsed with libhttp-parser (strict mode: it refuses
//  duplicate or conflicting Content-Length, Content-Length with chunked,
//  bad chunk sizes, bare CR, NUL); a refused request gets 400 and no
//  backend contact. At the end of the request's headers the app and a
//  dyno are chosen and the forwarded head is built; the body follows,
//  re-framed (Content-Length as sent, or chunked re-encoded). The parser
//  pauses at the end of each request until its response is relayed, so a
//  second request in the same bytes waits its turn. Responses are parsed
//  too: the head is rebuilt without hop-by-hop headers, the body re-framed
//  the same way, and the client connection closed after a response that
//  ends at EOF. Each request ends with one log line on the queue.

#include "conn.h"
#include "logline.h"
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
static int s_res_begin (http_parser *p);
static int s_res_status (http_parser *p, const char *at, size_t len);
static int s_res_field (http_parser *p, const char *at, size_t len);
static int s_res_value (http_parser *p, const char *at, size_t len);
static int s_res_headers (http_parser *p);
static int s_res_body (http_parser *p, const char *at, size_t len);
static int s_res_complete (http_parser *p);

static const http_parser_settings s_req_settings = {
    .on_message_begin = s_req_begin, .on_url = s_req_url,
    .on_header_field = s_req_field, .on_header_value = s_req_value,
    .on_headers_complete = s_req_headers, .on_body = s_req_body,
    .on_message_complete = s_req_complete,
};
static const http_parser_settings s_res_settings = {
    .on_message_begin = s_res_begin, .on_status = s_res_status,
    .on_header_field = s_res_field, .on_header_value = s_res_value,
    .on_headers_complete = s_res_headers, .on_body = s_res_body,
    .on_message_complete = s_res_complete,
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

//  --- headers collected from callbacks

static int
s_hdrs_field (rtr_hdrs_t *self, const char *at, size_t len)
{
    if (self->count == 0 || self->in_value) {
        if (self->count == RTR_HEADERS_MAX)
            return -1;
        if (self->count == self->cap) {
            self->cap = self->cap ? self->cap * 2 : 16;
            self->list = act_realloc (self->list, self->cap * sizeof *self->list);
        }
        self->list [self->count++] = (rtr_hdr_t) { .name_off = self->raw.len };
        self->in_value = false;
    }
    rtr_hdr_t *hdr = &self->list [self->count - 1];
    rtr_buf_add (&self->raw, at, len);
    hdr->name_len += len;
    return hdr->name_len > RTR_HEADER_NAME_MAX ? -1 : 0;
}

static int
s_hdrs_value (rtr_hdrs_t *self, const char *at, size_t len)
{
    if (self->count == 0)
        return -1;
    rtr_hdr_t *hdr = &self->list [self->count - 1];
    if (!self->in_value) {
        self->in_value = true;
        hdr->val_off = self->raw.len;
    }
    rtr_buf_add (&self->raw, at, len);
    hdr->val_len += len;
    return hdr->name_len + hdr->val_len > RTR_LINE_MAX ? -1 : 0;
}

static void
s_hdrs_reset (rtr_hdrs_t *self)
{
    rtr_buf_reset (&self->raw);
    self->count = 0;
    self->in_value = false;
}

static void
s_hdrs_release (rtr_hdrs_t *self)
{
    rtr_buf_release (&self->raw);
    free (self->list);
    memset (self, 0, sizeof *self);
}

static const char *
s_name (const rtr_hdrs_t *self, size_t i)
{
    return self->raw.data + self->list [i].name_off;
}

static const char *
s_value (const rtr_hdrs_t *self, size_t i)
{
    return self->raw.data + self->list [i].val_off;
}

static bool
s_is (const rtr_hdrs_t *self, size_t i, const char *name)
{
    return self->list [i].name_len == strlen (name)
        && strncasecmp (s_name (self, i), name, self->list [i].name_len) == 0;
}

//  Index of the first header `name`, or -1; *count gets how many there are.
static int
s_find (const rtr_hdrs_t *self, const char *name, size_t *count)
{
    int at = -1;
    size_t n = 0;
    for (size_t i = 0; i < self->count; i++)
        if (s_is (self, i, name)) {
            if (at < 0)
                at = (int) i;
            n++;
        }
    if (count)
        *count = n;
    return at;
}

//  The Connection header's value as a C string (copied into `out`).
static const char *
s_connection (const rtr_hdrs_t *self, char *out, size_t cap)
{
    int at = s_find (self, "connection", NULL);
    if (at < 0)
        return NULL;
    snprintf (out, cap, "%.*s", (int) self->list [at].val_len, s_value (self, (size_t) at));
    return out;
}

//  --- the log line and the end of a request

static void
s_log (rtr_conn_t *conn, int status, const char *code, const char *sock)
{
    if (!conn->app [0])
        return;
    char path [1024];
    snprintf (path, sizeof path, "%.*s", (int) (conn->url.len < 1000 ? conn->url.len : 1000),
              conn->url.data ? conn->url.data : "");
    for (char *c = path; *c; c++)
        if (*c == '"' || (unsigned char) *c < 0x20)
            *c = '?';
    int64_t now = act_wall_ms ();
    rtr_logline_t line = {
        .code = code, .sock = sock, .method = conn->method, .path = path, .host = conn->host,
        .request_id = conn->request_id, .fwd = conn->fwd,
        .dyno = conn->t_connect ? conn->be.name : NULL,
        .connect_ms = conn->t_connected ? conn->t_connected - conn->t_connect : -1,
        .service_ms = conn->t_connected ? now - conn->t_connected : -1,
        .status = status,
        .bytes = code && !conn->res_head_sent ? -1 : conn->res_bytes,
        .protocol = "http",
    };
    char text [2048];
    rtr_logline_format (&line, text, sizeof text);
    rtr_logq_push (conn->logq, conn->app, act_wall_us (), text);
}

//  Ready for the client's next request; parses what it already sent.
static void
s_next_request (rtr_conn_t *conn)
{
    (*conn->requests)++;
    rtr_http_backend_close (conn);
    rtr_buf_reset (&conn->bout);
    conn->in_request = conn->req_done = false;
    if (conn->close_after)
        return;                 // the parser may be in an error state
    http_parser_pause (&conn->req, 0);
    rtr_proxy_client_data (conn);
}

static const char *
s_reason (int status)
{
    switch (status) {
        case 400: return "Bad Request";
        case 404: return "Not Found";
        case 502: return "Bad Gateway";
        default:  return "Service Unavailable";
    }
}

//  Answers the client with the decided error (conn->err_status).
static void
s_send_error (rtr_conn_t *conn)
{
    int status = conn->err_status;
    const char *code = conn->err_code;
    char body [512];
    const char *what = status == 404 ? "There is no app at this address."
                     : status == 400 ? "The request could not be understood."
                     : "An error occurred in the application and your page could not be served.";
    int blen = snprintf (body, sizeof body,
                         "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>%s</title></head>\n"
                         "<body><h1>%s</h1><p>%s</p><p>%s</p></body></html>\n",
                         code ? "Application Error" : s_reason (status),
                         code ? "Application Error" : s_reason (status), what,
                         code ? code : "");
    if (status == 400 || !conn->keep_alive || !conn->req_done)
        conn->close_after = true;
    size_t before = conn->cout.len - conn->cout.off;
    rtr_buf_printf (&conn->cout,
                    "HTTP/1.1 %d %s\r\nContent-Type: text/html; charset=utf-8\r\n"
                    "Content-Length: %d\r\nCache-Control: no-cache, no-store\r\n%s\r\n",
                    status, s_reason (status), blen,
                    conn->close_after ? "Connection: close\r\n" : "");
    if (!conn->head_method)
        rtr_buf_add (&conn->cout, body, (size_t) blen);
    conn->res_bytes = (int64_t) (conn->cout.len - conn->cout.off - before);
    if (code)
        s_log (conn, status, code, NULL);
    s_next_request (conn);
}

//  Decides an error. Sent now when the request is complete, else when it
//  is (its body is read and dropped meanwhile).
static void
s_fail (rtr_conn_t *conn, int status, const char *code)
{
    conn->err_status = status;
    conn->err_code = code;
    rtr_http_backend_close (conn);
    rtr_buf_reset (&conn->bout);
    if (conn->req_done)
        s_send_error (conn);
}

//  --- requests

static int
s_req_begin (http_parser *p)
{
    rtr_conn_t *conn = p->data;
    conn->in_request = true;
    conn->t_start = act_wall_ms ();
    conn->t_connect = conn->t_connected = 0;
    conn->err_status = 0;
    conn->err_code = NULL;
    conn->app [0] = conn->host [0] = conn->request_id [0] = 0;
    conn->tries = 0;
    conn->res_bytes = 0;
    conn->res_started = conn->res_head_sent = conn->res_done = false;
    rtr_buf_reset (&conn->url);
    s_hdrs_reset (&conn->rh);
    http_parser_init (&conn->res, HTTP_RESPONSE);
    conn->res.data = conn;
    return 0;
}

static int
s_req_url (http_parser *p, const char *at, size_t len)
{
    rtr_conn_t *conn = p->data;
    rtr_buf_add (&conn->url, at, len);
    return conn->url.len > RTR_LINE_MAX ? -1 : 0;
}

static int
s_req_field (http_parser *p, const char *at, size_t len)
{
    return s_hdrs_field (&((rtr_conn_t *) p->data)->rh, at, len);
}

static int
s_req_value (http_parser *p, const char *at, size_t len)
{
    return s_hdrs_value (&((rtr_conn_t *) p->data)->rh, at, len);
}

//  Tries the next dyno; false when none is left.
static bool
s_try_connect (rtr_conn_t *conn, int *last_err)
{
    while (conn->tries < RTR_TRIES) {
        rtr_pick_t pick = rtr_table_pick (conn->table, conn->app, s_random (conn),
                                          (const char (*) [RTR_ID_MAX]) conn->tried,
                                          conn->tries, &conn->be);
        if (pick != RTR_PICK_OK) {
            if (conn->tries == 0)
                s_fail (conn, pick == RTR_PICK_NO_APP ? 404 : 503,
                        pick == RTR_PICK_NO_APP ? NULL
                      : pick == RTR_PICK_CRASHED ? "H10" : "H14");
            return false;
        }
        snprintf (conn->tried [conn->tries++], RTR_ID_MAX, "%s", conn->be.id);
        conn->t_connect = act_wall_ms ();
        int err = rtr_http_connect (conn);
        if (err == 0)
            return true;
        *last_err = err;
    }
    return false;
}

static void
s_connect_failed (rtr_conn_t *conn, int err)
{
    if (conn->err_status)
        return;                 // decided already (no app, no dynos)
    s_fail (conn, 503, err == ECONNREFUSED ? "H21" : "H19");
}

//  The request head is parsed: choose the app and a dyno, build the head
//  to forward. Returns 0, or -1 to refuse the request (400).
static int
s_req_headers (http_parser *p)
{
    rtr_conn_t *conn = p->data;
    snprintf (conn->method, sizeof conn->method, "%s", http_method_str (p->method));
    size_t hosts;
    int host = s_find (&conn->rh, "host", &hosts);
    if (hosts != 1 || p->method == HTTP_CONNECT)
        return -1;
    snprintf (conn->host, sizeof conn->host, "%.*s", (int) conn->rh.list [host].val_len,
              s_value (&conn->rh, (size_t) host));
    conn->keep_alive = http_should_keep_alive (p);
    conn->head_method = p->method == HTTP_HEAD;
    conn->chunked_req = (p->flags & F_CHUNKED) != 0;
    uint64_t length = (p->flags & F_CONTENTLENGTH) ? p->content_length : 0;
    if (!rtr_headers_app (conn->host, strlen (conn->host), conn->app, sizeof conn->app)) {
        conn->app [0] = 0;
        s_fail (conn, 404, NULL);
        return 0;
    }
    int rid = s_find (&conn->rh, "x-request-id", NULL);
    if (rid >= 0 && rtr_headers_request_id_ok (s_value (&conn->rh, (size_t) rid),
                                               conn->rh.list [rid].val_len))
        snprintf (conn->request_id, sizeof conn->request_id, "%.*s",
                  (int) conn->rh.list [rid].val_len, s_value (&conn->rh, (size_t) rid));
    else
        rtr_headers_uuid (conn->request_id);

    //  The forwarded head.
    rtr_buf_t *out = &conn->bout;
    rtr_buf_reset (out);
    rtr_buf_printf (out, "%s %.*s HTTP/1.1\r\n", conn->method, (int) conn->url.len, conn->url.data);
    char connection [1024];
    const char *conn_hdr = s_connection (&conn->rh, connection, sizeof connection);
    rtr_buf_t xff = { 0 }, via = { 0 };
    bool expect_continue = false;
    for (size_t i = 0; i < conn->rh.count; i++) {
        const char *name = s_name (&conn->rh, i), *value = s_value (&conn->rh, i);
        size_t nlen = conn->rh.list [i].name_len, vlen = conn->rh.list [i].val_len;
        if (s_is (&conn->rh, i, "x-forwarded-for"))
            rtr_buf_printf (&xff, "%.*s, ", (int) vlen, value);
        else
        if (s_is (&conn->rh, i, "via"))
            rtr_buf_printf (&via, "%.*s, ", (int) vlen, value);
        else
        if (s_is (&conn->rh, i, "expect"))
            expect_continue = vlen == 12 && strncasecmp (value, "100-continue", 12) == 0;
        if (rtr_headers_hop (name, nlen, conn_hdr) || rtr_headers_replaced (name, nlen))
            continue;
        rtr_buf_printf (out, "%.*s: %.*s\r\n", (int) nlen, name, (int) vlen, value);
    }
    rtr_buf_printf (out, "X-Forwarded-For: %.*s%s\r\n", (int) xff.len, xff.data ? xff.data : "",
                    conn->fwd);
    rtr_buf_printf (out, "X-Forwarded-Proto: http\r\nX-Forwarded-Port: %d\r\n", conn->listen_port);
    rtr_buf_printf (out, "X-Request-Start: %lld\r\nX-Request-Id: %s\r\n",
                    (long long) conn->t_start, conn->request_id);
    rtr_buf_printf (out, "Via: %.*s1.1 dynod\r\nConnection: close\r\n", (int) via.len,
                    via.data ? via.data : "");
    rtr_buf_release (&xff);
    rtr_buf_release (&via);
    if (conn->chunked_req)
        rtr_buf_printf (out, "Transfer-Encoding: chunked\r\n\r\n");
    else
    if (length || p->method == HTTP_POST || p->method == HTTP_PUT || p->method == HTTP_PATCH)
        rtr_buf_printf (out, "Content-Length: %llu\r\n\r\n", (unsigned long long) length);
    else
        rtr_buf_printf (out, "\r\n");

    int err = 0;
    if (!s_try_connect (conn, &err)) {
        if (err)
            s_connect_failed (conn, err);
        return 0;
    }
    if (expect_continue && p->http_minor >= 1)
        rtr_buf_printf (&conn->cout, "HTTP/1.1 100 Continue\r\n\r\n");
    return 0;
}

static int
s_req_body (http_parser *p, const char *at, size_t len)
{
    rtr_conn_t *conn = p->data;
    if (conn->err_status)
        return 0;               // dropped: the answer is an error
    if (conn->chunked_req)
        rtr_buf_printf (&conn->bout, "%zx\r\n", len);
    rtr_buf_add (&conn->bout, at, len);
    if (conn->chunked_req)
        rtr_buf_add (&conn->bout, "\r\n", 2);
    return 0;
}

static int
s_req_complete (http_parser *p)
{
    rtr_conn_t *conn = p->data;
    if (conn->chunked_req && !conn->err_status)
        rtr_buf_add (&conn->bout, "0\r\n\r\n", 5);
    http_parser_pause (p, 1);
    return 0;
}

void
rtr_proxy_client_data (rtr_conn_t *conn)
{
    while (!conn->req_done && !conn->close_after && rtr_buf_pending (&conn->cin)) {
        rtr_buf_t *in = &conn->cin;
        size_t n = http_parser_execute (&conn->req, &s_req_settings, in->data + in->off,
                                        in->len - in->off);
        in->off += n;
        enum http_errno err = HTTP_PARSER_ERRNO (&conn->req);
        if (err == HPE_PAUSED) {
            conn->req_done = true;
            if (conn->err_status)
                s_send_error (conn);
        }
        else
        if (err != HPE_OK) {
            //  Refused: no backend contact, nothing more read.
            if (!conn->err_code)
                conn->app [0] = 0;      // no log line for a request we did not route
            conn->err_code = NULL;
            rtr_http_backend_close (conn);
            rtr_buf_reset (&conn->bout);
            conn->err_status = 400;
            conn->req_done = true;
            conn->close_after = true;
            s_send_error (conn);
        }
    }
    if (rtr_buf_pending (&conn->cin) == 0)
        rtr_buf_reset (&conn->cin);
}

void
rtr_proxy_connected (rtr_conn_t *conn, int err)
{
    if (err == 0) {
        conn->t_connected = act_wall_ms ();
        return;
    }
    rtr_http_backend_close (conn);
    int last = err;
    if (!s_try_connect (conn, &last))
        s_connect_failed (conn, last);
}

//  --- responses

static int
s_res_begin (http_parser *p)
{
    rtr_conn_t *conn = p->data;
    rtr_buf_reset (&conn->reason);
    s_hdrs_reset (&conn->sh);
    return 0;
}

static int
s_res_status (http_parser *p, const char *at, size_t len)
{
    rtr_conn_t *conn = p->data;
    rtr_buf_add (&conn->reason, at, len);
    return conn->reason.len > RTR_LINE_MAX ? -1 : 0;
}

static int
s_res_field (http_parser *p, const char *at, size_t len)
{
    return s_hdrs_field (&((rtr_conn_t *) p->data)->sh, at, len);
}

static int
s_res_value (http_parser *p, const char *at, size_t len)
{
    return s_hdrs_value (&((rtr_conn_t *) p->data)->sh, at, len);
}

static int
s_res_headers (http_parser *p)
{
    rtr_conn_t *conn = p->data;
    int status = p->status_code;
    if (conn->reason.len == 0 || status < 200)
        return -1;              // H17: no reason phrase (1xx are not relayed yet)
    bool no_body = conn->head_method || status == 204 || status == 304;
    conn->res_chunked = !no_body && (p->flags & F_CHUNKED);
    bool to_eof = !no_body && !conn->res_chunked && !(p->flags & F_CONTENTLENGTH);
    if (!conn->keep_alive || to_eof || !conn->req_done)
        conn->close_after = true;
    size_t before = rtr_buf_pending (&conn->cout);
    rtr_buf_printf (&conn->cout, "HTTP/1.1 %d %.*s\r\n", status, (int) conn->reason.len,
                    conn->reason.data);
    char connection [1024];
    const char *conn_hdr = s_connection (&conn->sh, connection, sizeof connection);
    for (size_t i = 0; i < conn->sh.count; i++) {
        const char *name = s_name (&conn->sh, i);
        size_t nlen = conn->sh.list [i].name_len;
        if (rtr_headers_hop (name, nlen, conn_hdr))
            continue;
        rtr_buf_printf (&conn->cout, "%.*s: %.*s\r\n", (int) nlen, name,
                        (int) conn->sh.list [i].val_len, s_value (&conn->sh, i));
    }
    if (conn->res_chunked)
        rtr_buf_printf (&conn->cout, "Transfer-Encoding: chunked\r\n");
    if (conn->close_after)
        rtr_buf_printf (&conn->cout, "Connection: close\r\n");
    else
    if (conn->req.http_minor == 0)
        rtr_buf_printf (&conn->cout, "Connection: keep-alive\r\n");
    rtr_buf_add (&conn->cout, "\r\n", 2);
    conn->res_bytes += (int64_t) (rtr_buf_pending (&conn->cout) - before);
    conn->res_head_sent = true;
    return conn->head_method ? 1 : 0;
}

static int
s_res_body (http_parser *p, const char *at, size_t len)
{
    rtr_conn_t *conn = p->data;
    size_t before = rtr_buf_pending (&conn->cout);
    if (conn->res_chunked)
        rtr_buf_printf (&conn->cout, "%zx\r\n", len);
    rtr_buf_add (&conn->cout, at, len);
    if (conn->res_chunked)
        rtr_buf_add (&conn->cout, "\r\n", 2);
    conn->res_bytes += (int64_t) (rtr_buf_pending (&conn->cout) - before);
    return 0;
}

static int
s_res_complete (http_parser *p)
{
    rtr_conn_t *conn = p->data;
    if (conn->res_chunked) {
        rtr_buf_add (&conn->cout, "0\r\n\r\n", 5);
        conn->res_bytes += 5;
    }
    conn->res_done = true;
    http_parser_pause (p, 1);
    return 0;
}

void
rtr_proxy_backend_data (rtr_conn_t *conn, const char *data, size_t len)
{
    if (len)
        conn->res_started = true;
    http_parser_execute (&conn->res, &s_res_settings, data, len);
    enum http_errno err = HTTP_PARSER_ERRNO (&conn->res);
    if (conn->res_done) {
        s_log (conn, conn->res.status_code, NULL, NULL);
        s_next_request (conn);
        return;
    }
    if (err != HPE_OK || len == 0) {
        if (conn->res_head_sent) {
            //  Cut mid-response: the client cannot get the rest.
            s_log (conn, conn->res.status_code, "H18", "backend");
            rtr_http_backend_close (conn);
            conn->close_after = true;
            conn->req_done = true;
            return;
        }
        s_fail (conn, 503, err != HPE_OK ? "H17" : conn->res_started ? "H18" : "H13");
    }
}

void
rtr_proxy_init (rtr_conn_t *conn)
{
    http_parser_init (&conn->req, HTTP_REQUEST);
    conn->req.data = conn;
    http_parser_init (&conn->res, HTTP_RESPONSE);
    conn->res.data = conn;
}

void
rtr_proxy_release (rtr_conn_t *conn)
{
    rtr_buf_release (&conn->url);
    rtr_buf_release (&conn->reason);
    s_hdrs_release (&conn->rh);
    s_hdrs_release (&conn->sh);
}
