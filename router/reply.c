//  reply - the response side of one client connection: relaying the
//  dyno's response, tunnels, the router's own answers (error pages), the
//  deadlines and the log line
//
//  Responses are parsed with libhttp-parser too: the head is rebuilt
//  without hop-by-hop headers, the body re-framed (chunked re-encoded for
//  HTTP/1.1 clients; for HTTP/1.0 clients a chunked body is sent as it
//  comes and ends with the connection), and the client connection closed
//  after a response that ends at EOF. A dyno connection whose response
//  ended cleanly, with keep-alive, after the whole request went out, goes
//  back to the worker's pool. A 101 answer to an `Upgrade` request turns
//  the connection into a byte tunnel (the idle timeout still applies).
//  1xx interim responses are dropped. Each request ends with one log line.

#include "conn.h"
#include "logline.h"
#include "../actors/common/act_base.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int s_res_begin (http_parser *p);
static int s_res_status (http_parser *p, const char *at, size_t len);
static int s_res_field (http_parser *p, const char *at, size_t len);
static int s_res_value (http_parser *p, const char *at, size_t len);
static int s_res_headers (http_parser *p);
static int s_res_body (http_parser *p, const char *at, size_t len);
static int s_res_complete (http_parser *p);

static const http_parser_settings s_res_settings = {
    .on_message_begin = s_res_begin, .on_status = s_res_status,
    .on_header_field = s_res_field, .on_header_value = s_res_value,
    .on_headers_complete = s_res_headers, .on_body = s_res_body,
    .on_message_complete = s_res_complete,
};

//  --- the log line and the end of a request

void
rtr_reply_log (rtr_conn_t *conn, int status, const char *code, const char *sock)
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
        .protocol = conn->https ? "https" : "http",
    };
    char text [2048];
    rtr_logline_format (&line, text, sizeof text);
    rtr_logq_push (conn->sh->logq, conn->app, act_wall_us (), text);
}

void
rtr_reply_next (rtr_conn_t *conn)
{
    rtr_worker_answered (conn);
    rtr_worker_backend_done (conn, false);
    rtr_buf_reset (&conn->bout);
    conn->in_request = conn->headers_done = conn->req_done = conn->waiting_boot = false;
    conn->served++;
    conn->m_idle = rtr_mono_ms ();
    if (conn->close_after)
        return;                 // the parser may be in an error state
    http_parser_pause (&conn->req, 0);
    conn->resume = true;        // the worker parses what the client sent next
}

//  --- the router's own answers

static const char *
s_reason (int status)
{
    switch (status) {
        case 200: return "OK";
        case 400: return "Bad Request";
        case 404: return "Not Found";
        case 408: return "Request Timeout";
        case 414: return "URI Too Long";
        case 417: return "Expectation Failed";
        case 431: return "Request Header Fields Too Large";
        case 502: return "Bad Gateway";
        default:  return "Service Unavailable";
    }
}

//  The page's title and text.
static void
s_page_text (int status, const char *code, const char **title, const char **text)
{
    *title = s_reason (status);
    *text = "The request could not be understood.";
    if (status == 404)
        *text = "There is no app at this address.";
    else
    if (status == 408)
        *text = "The request took too long to arrive.";
    else
    if (code && strcmp (code, "H80") == 0) {
        *title = "Offline for Maintenance";
        *text = "This app is undergoing maintenance right now. Please check back later.";
    }
    else
    if (code && strcmp (code, "H81") == 0) {
        *title = "Nothing Here Yet";
        *text = "This app has no release yet.";
    }
    else
    if (status >= 500) {
        *title = "Application Error";
        *text = "An error occurred in the application and your page could not be served.";
    }
}

static void
s_answer (rtr_conn_t *conn, int status, const char *type, const char *body, size_t blen)
{
    if ((status >= 400 && status < 500 && status != 404) || !conn->keep_alive || !conn->req_done)
        conn->close_after = true;
    size_t before = rtr_buf_pending (&conn->cout);
    rtr_buf_printf (&conn->cout,
                    "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
                    "Cache-Control: no-cache, no-store\r\n%s\r\n",
                    status, s_reason (status), type, blen,
                    conn->close_after ? "Connection: close\r\n"
                  : conn->req.http_minor == 0 ? "Connection: keep-alive\r\n" : "");
    if (!conn->head_method)
        rtr_buf_add (&conn->cout, body, blen);
    conn->res_bytes = (int64_t) (rtr_buf_pending (&conn->cout) - before);
}

//  Answers the client with the decided error (conn->err_status).
static void
s_send_error (rtr_conn_t *conn)
{
    int status = conn->err_status;
    const char *code = conn->err_code;
    if (status == 499) {        // the client is gone or idle: nothing to send
        conn->close_after = true;
        rtr_reply_log (conn, status, code, "client");
        rtr_reply_next (conn);
        return;
    }
    const char *title, *text;
    s_page_text (status, code, &title, &text);
    char body [768];
    int blen = snprintf (body, sizeof body,
                         "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>%s</title></head>\n"
                         "<body><h1>%s</h1><p>%s</p><p>%s</p></body></html>\n",
                         title, title, text, code ? code : "");
    s_answer (conn, status, "text/html; charset=utf-8", body, (size_t) blen);
    if (code)
        rtr_reply_log (conn, status, code,
                       strcmp (code, "H28") == 0 ? "client"
                     : strcmp (code, "H18") == 0 ? "backend" : NULL);
    rtr_reply_next (conn);
}

void
rtr_reply_fail (rtr_conn_t *conn, int status, const char *code, bool now)
{
    conn->err_status = status;
    conn->err_code = code;
    conn->waiting_boot = false;
    rtr_worker_backend_done (conn, false);
    rtr_buf_reset (&conn->bout);
    if (!conn->req_done && now) {
        conn->req_done = true;
        conn->close_after = true;
    }
    if (conn->req_done)
        s_send_error (conn);
}

void
rtr_reply_plain (rtr_conn_t *conn, int status, const char *body, size_t len)
{
    if (!conn->req_done)
        conn->close_after = true;       // a body may follow: not worth reading
    s_answer (conn, status, "text/plain", body, len);
    conn->req_done = true;
    rtr_reply_next (conn);
}

//  --- responses

static int
s_res_begin (http_parser *p)
{
    rtr_conn_t *conn = p->data;
    rtr_buf_reset (&conn->reason);
    rtr_hdrs_reset (&conn->resh);
    return 0;
}

static int
s_res_status (http_parser *p, const char *at, size_t len)
{
    rtr_conn_t *conn = p->data;
    rtr_buf_add (&conn->reason, at, len);
    if (conn->reason.len > RTR_LINE_MAX) {
        conn->resh.limit = 502;
        return -1;
    }
    return 0;
}

static int
s_res_field (http_parser *p, const char *at, size_t len)
{
    return rtr_hdrs_field (&((rtr_conn_t *) p->data)->resh, at, len);
}

static int
s_res_value (http_parser *p, const char *at, size_t len)
{
    return rtr_hdrs_value (&((rtr_conn_t *) p->data)->resh, at, len);
}

static bool
s_interim (const http_parser *p)
{
    return p->status_code < 200 && p->status_code != 101;
}

//  The head to relay: the status line, the dyno's headers but hop-by-hop
//  ones, the router's framing.
static void
s_relay_head (rtr_conn_t *conn, int status)
{
    rtr_hdrs_t *h = &conn->resh;
    size_t before = rtr_buf_pending (&conn->cout);
    rtr_buf_printf (&conn->cout, "HTTP/1.1 %d %.*s\r\n", status, (int) conn->reason.len,
                    conn->reason.data);
    char connection [1024], upgrade [256];
    const char *conn_hdr = rtr_hdrs_get (h, "connection", connection, sizeof connection);
    for (size_t i = 0; i < h->count; i++) {
        const char *name = rtr_hdrs_name (h, i);
        size_t nlen = h->list [i].name_len;
        if (rtr_headers_hop (name, nlen, conn_hdr))
            continue;
        rtr_buf_header (&conn->cout, name, nlen, rtr_hdrs_val (h, i), h->list [i].val_len);
    }
    if (status == 101 && rtr_hdrs_get (h, "upgrade", upgrade, sizeof upgrade))
        rtr_buf_printf (&conn->cout, "Connection: Upgrade\r\nUpgrade: %s\r\n", upgrade);
    else
    if (conn->res_chunked)
        rtr_buf_printf (&conn->cout, "Transfer-Encoding: chunked\r\n");
    if (status != 101) {
        if (conn->close_after)
            rtr_buf_printf (&conn->cout, "Connection: close\r\n");
        else
        if (conn->req.http_minor == 0)
            rtr_buf_printf (&conn->cout, "Connection: keep-alive\r\n");
    }
    rtr_buf_add (&conn->cout, "\r\n", 2);
    conn->res_bytes += (int64_t) (rtr_buf_pending (&conn->cout) - before);
    conn->res_head_sent = true;
}

static int
s_res_headers (http_parser *p)
{
    rtr_conn_t *conn = p->data;
    int status = p->status_code;
    if (s_interim (p))
        return 0;               // 100 Continue, 103 Early Hints: dropped
    if (conn->reason.len == 0 || (status == 101 && !conn->upgrade_req))
        return -1;              // H17: no reason phrase, or a switch nobody asked for
    bool no_body = conn->head_method || status == 204 || status == 304 || status == 101;
    bool chunked = !no_body && (p->flags & F_CHUNKED);
    bool client11 = conn->req.http_major == 1 && conn->req.http_minor >= 1;
    conn->res_chunked = chunked && client11;
    conn->res_raw = chunked && !client11;
    bool to_eof = !no_body && !chunked && !(p->flags & F_CONTENTLENGTH);
    if (status != 101 && (!conn->keep_alive || to_eof || conn->res_raw || !conn->req_done))
        conn->close_after = true;
    s_relay_head (conn, status);
    //  No content, whatever the framing says (libhttp-parser would read a
    //  204's chunked body, a 304's Content-Length): the client reads none,
    //  so bytes relayed would start its next response.
    return no_body && status != 101 ? 1 : 0;
}

static int
s_res_body (http_parser *p, const char *at, size_t len)
{
    rtr_conn_t *conn = p->data;
    if (s_interim (p))
        return 0;               // a 1xx has no content: its head was dropped too
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
    if (s_interim (p))
        return 0;               // the real response follows
    if (conn->res_chunked) {
        rtr_buf_add (&conn->cout, "0\r\n\r\n", 5);
        conn->res_bytes += 5;
    }
    conn->res_done = true;
    http_parser_pause (p, 1);
    return 0;
}

//  The dyno switched protocols: from now on bytes pass as they are.
static void
s_tunnel (rtr_conn_t *conn, const char *rest, size_t len)
{
    conn->tunnel = true;
    conn->close_after = false;
    rtr_buf_add (&conn->cout, rest, len);
    rtr_buf_reset (&conn->bout);
    rtr_buf_t *in = &conn->cin;
    rtr_buf_add (&conn->bout, in->data + in->off, rtr_buf_pending (in));
    rtr_buf_reset (in);
    rtr_reply_log (conn, 101, NULL, NULL);
    rtr_worker_answered (conn);
}

void
rtr_reply_backend_data (rtr_conn_t *conn, const char *data, size_t len)
{
    if (len)
        conn->res_started = true;
    size_t n = http_parser_execute (&conn->res, &s_res_settings, data, len);
    enum http_errno err = HTTP_PARSER_ERRNO (&conn->res);
    if (conn->res_done) {
        if (conn->res.status_code == 101) {
            s_tunnel (conn, data + n, len - n);
            return;
        }
        bool reusable = http_should_keep_alive (&conn->res) && n == len && conn->req_done
                     && rtr_buf_pending (&conn->bout) == 0 && !conn->upgrade_req;
        rtr_reply_log (conn, conn->res.status_code, NULL, NULL);
        rtr_worker_backend_done (conn, reusable);
        rtr_reply_next (conn);
        return;
    }
    if (err == HPE_OK && len)
        return;
    //  H25: a response over the limits, or with conflicting lengths.
    bool restricted = conn->resh.limit || err == HPE_UNEXPECTED_CONTENT_LENGTH
                   || err == HPE_INVALID_CONTENT_LENGTH || err == HPE_HEADER_OVERFLOW;
    const char *code = len == 0 ? (conn->res_started ? "H18" : "H13")
                     : restricted ? "H25" : "H17";
    if (conn->res_head_sent) {
        //  Cut mid-response: the client cannot get the rest.
        rtr_reply_log (conn, conn->res.status_code, code, "backend");
        rtr_worker_backend_done (conn, false);
        conn->close_after = true;
        conn->req_done = true;
        conn->in_request = false;
        return;
    }
    rtr_reply_fail (conn, restricted ? 502 : 503, code, false);
}

//  --- deadlines

//  The dyno went quiet (H15) or never answered (H12).
static void
s_backend_late (rtr_conn_t *conn, const char *code)
{
    if (conn->res_head_sent) {
        rtr_reply_log (conn, 503, code, NULL);
        rtr_worker_backend_done (conn, false);
        conn->close_after = true;
        conn->in_request = false;
        return;
    }
    rtr_reply_fail (conn, 503, code, true);
}

void
rtr_reply_tick (rtr_conn_t *conn, int64_t now)
{
    const rtr_timeouts_t *to = &conn->sh->to;
    if (conn->tunnel) {
        if (now - conn->m_activity >= to->idle)
            conn->dead = true;
        return;
    }
    if (conn->close_after && !conn->in_request) {
        if (now - conn->m_activity >= to->idle)
            conn->dead = true;  // the client does not read its answer
        return;
    }
    if (!conn->in_request) {
        int limit = conn->served ? to->keepalive : to->header;
        if (now - conn->m_idle >= limit)
            conn->dead = true;  // an idle client: closed quietly
        return;
    }
    if (!conn->headers_done) {
        if (now - conn->m_begin >= to->header)
            rtr_proxy_refuse (conn, 408, "H28");
        return;
    }
    if (conn->waiting_boot) {
        rtr_proxy_boot_check (conn);
        return;
    }
    if (conn->err_status) {     // answered once the body is in: it must come
        if (now - conn->m_client >= to->idle)
            conn->dead = true;
        return;
    }
    if (conn->connecting) {
        if (now - conn->m_connect >= to->connect) {
            rtr_worker_sideline (conn);
            rtr_proxy_retry (conn, ETIMEDOUT);
        }
        return;
    }
    if (!conn->res_started) {
        if (now - conn->m_begin >= to->service)
            s_backend_late (conn, "H12");
        else
        if (!conn->req_done && now - conn->m_client >= to->idle)
            rtr_reply_fail (conn, 499, "H28", true);
        return;
    }
    if (now - conn->m_activity >= to->idle)
        s_backend_late (conn, "H15");
}
