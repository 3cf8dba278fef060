//  ws - log-plex's HTTP and websocket server (libwebsockets)
//
//  One lws protocol handles both the HTTP side (the page, refusals) and
//  the websocket side. A request is judged twice from the same headers:
//  at LWS_CALLBACK_HTTP_CONFIRM_UPGRADE, where a refusal can still be an
//  HTTP status, and at LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION, which
//  fills the session's own memory (lws may give the websocket a fresh
//  one). Sessions are a linked list in the lws thread; a hand-off item is
//  offered to each session of its app (at most LPX_WS_TAILS_MAX).

#include "ws.h"
#include "page.h"
#include "request.h"
#include "tail.h"
#include "../common/act_base.h"

#include <assert.h>
#include <libwebsockets.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LPX_WS_TAG          0x77737276u     // "wsrv"
#define LPX_WS_TAG_DEAD     0xdeadbeefu
#define LPX_WS_HEADER_MAX   4096            // bytes of request headers
#define LPX_WS_PING_S       30              // idle seconds before a ping
#define LPX_WS_HANGUP_S     75              // idle seconds before hanging up

typedef struct lpx_session lpx_session_t;

struct lpx_ws {
    uint32_t tag;
    lpx_hub_t *hub;             // borrowed
    int port;
    char *origins;              // owned; may be NULL
    struct lws_context *ctx;
    pthread_t thread;
    atomic_bool stop;
    //  The lws thread's own.
    lpx_session_t *sessions;
    size_t session_count;
    unsigned char *wbuf;        // LWS_PRE + LPX_WS_WRITE_MAX
    //  Read by the actor thread for status.
    atomic_uint_fast64_t tails;
    atomic_uint_fast64_t dropped;
    atomic_uint_fast64_t refused;
};

//  A connection's memory, lws-allocated and zeroed; a websocket session
//  once `tail` is set (at ESTABLISHED).
struct lpx_session {
    lpx_session_t *prev, *next;
    struct lws *wsi;
    lpx_request_t req;
    lpx_tail_t *tail;           // owned; NULL until established
    bool closing;               // app destroyed: close at the next write
    size_t rx;                  // bytes of the client's current message
};

static int64_t
s_now_us (void)
{
    return act_wall_ms () * 1000;
}

//  Copies header `token` into `out`; false when absent or too long.
static bool
s_header (struct lws *wsi, enum lws_token_indexes token, char *out, size_t cap)
{
    int len = lws_hdr_total_length (wsi, token);
    if (len <= 0 || (size_t) len >= cap)
        return false;
    return lws_hdr_copy (wsi, out, (int) cap, token) == len;
}

//  Judges a websocket request into `req`. Returns 0, or the HTTP status
//  to refuse it with.
static int
s_judge (lpx_ws_t *self, struct lws *wsi, lpx_request_t *req)
{
    char buf [LPX_WS_HEADER_MAX];
    lpx_request_init (req);
    if (!s_header (wsi, WSI_TOKEN_GET_URI, buf, sizeof buf))
        return 400;
    int status = lpx_request_path (req, buf);
    if (status)
        return status;
    if (req->kind != LPX_REQ_LOGS)
        return 404;
    for (int i = 0; lws_hdr_copy_fragment (wsi, buf, sizeof buf, WSI_TOKEN_HTTP_URI_ARGS, i) > 0; i++)
        if ((status = lpx_request_arg (req, buf)))
            return status;
    if (s_header (wsi, WSI_TOKEN_HTTP_AUTHORIZATION, buf, sizeof buf))
        lpx_request_auth (req, buf);
    if ((status = lpx_request_finish (req)))
        return status;
    //  An Origin header too long to read is no allowed origin.
    bool has_origin = lws_hdr_total_length (wsi, WSI_TOKEN_ORIGIN) > 0;
    bool origin_read = s_header (wsi, WSI_TOKEN_ORIGIN, buf, sizeof buf);
    if (has_origin && (!origin_read || !lpx_request_origin_ok (buf, self->port, self->origins)))
        return 403;
    status = lpx_hub_check (self->hub, req->app, req->token_long ? "-" : req->token);
    if (status)
        return status;
    if (self->session_count >= LPX_WS_TAILS_MAX)
        return 503;
    return 0;
}

//  Serves a file of the page. Returns what the HTTP callback returns.
static int
s_serve_file (lpx_ws_t *self, struct lws *wsi, const lpx_page_file_t *file)
{
    unsigned char head [LWS_PRE + 1024];
    unsigned char *start = head + LWS_PRE, *p = start, *end = head + sizeof head - 1;
    if (lws_add_http_common_headers (wsi, HTTP_STATUS_OK, lpx_page_type (file),
                                     (lws_filepos_t) file->len, &p, end)
    ||  lws_add_http_header_by_name (wsi, (const unsigned char *) "cache-control:",
                                     (const unsigned char *) "no-cache", 8, &p, end)
    ||  lws_finalize_write_http_header (wsi, start, &p, end))
        return -1;
    assert (file->len <= LPX_WS_WRITE_MAX);
    memcpy (self->wbuf + LWS_PRE, file->data, file->len);
    if (lws_write (wsi, self->wbuf + LWS_PRE, file->len, LWS_WRITE_HTTP_FINAL) != (int) file->len)
        return -1;
    return lws_http_transaction_completed (wsi) ? -1 : 0;
}

//  A plain HTTP request: the page, a redirect, or a refusal.
static int
s_on_http (lpx_ws_t *self, struct lws *wsi, const char *path)
{
    lpx_request_t req;
    lpx_request_init (&req);
    int status = lpx_request_path (&req, path);
    if (!status && req.kind == LPX_REQ_FILE)
        return s_serve_file (self, wsi, lpx_page_find (req.file));
    if (!status && req.kind == LPX_REQ_REDIRECT) {
        unsigned char head [LWS_PRE + 512];
        unsigned char *p = head + LWS_PRE, *end = head + sizeof head - 1;
        char where [64];
        int len = snprintf (where, sizeof where, "/apps/%s/", req.app);
        if (lws_http_redirect (wsi, HTTP_STATUS_MOVED_PERMANENTLY, (const unsigned char *) where,
                               len, &p, end) < 0)
            return -1;
        return lws_http_transaction_completed (wsi) ? -1 : 0;
    }
    if (!status)
        status = 400;       // /logs without the websocket upgrade
    lws_return_http_status (wsi, (unsigned) status, NULL);
    return lws_http_transaction_completed (wsi) ? -1 : 0;
}

//  Offers the hand-off items of `list` to the sessions of their apps.
static void
s_fan_out (lpx_ws_t *self, const lpx_handoff_t *list)
{
    int64_t now = s_now_us ();
    for (const lpx_handoff_t *item = list; item; item = item->next)
        for (lpx_session_t *s = self->sessions; s; s = s->next) {
            if (strcmp (s->req.app, item->app) != 0)
                continue;
            if (item->dropped)
                s->closing = true;
            uint64_t before = lpx_tail_dropped (s->tail);
            lpx_tail_lost (s->tail, item->lost, now);
            for (size_t i = 0; i < item->count; i++) {
                const lpx_entry_t *e = item->entries [i];
                if (lpx_filter_match (&s->req.filter, e->text, e->len))
                    lpx_tail_push (s->tail, lpx_entry_ref (item->entries [i]), now);
            }
            self->dropped += lpx_tail_dropped (s->tail) - before;
            lws_callback_on_writable (s->wsi);
        }
}

static void
s_drain (lpx_ws_t *self)
{
    lpx_handoff_t *list = lpx_hub_take (self->hub);
    s_fan_out (self, list);
    lpx_handoff_destroy (&list);
}

//  A websocket is up: its history, then it joins the fan-out.
static int
s_on_established (lpx_ws_t *self, lpx_session_t *s)
{
    if (self->session_count >= LPX_WS_TAILS_MAX) {
        self->refused++;
        //  1013 (try again later) is not in lws 4.1's enum.
        lws_close_reason (s->wsi, (enum lws_close_status) 1013, NULL, 0);
        return -1;
    }
    s->tail = lpx_tail_new (LPX_TAIL_LINES_MAX, LPX_TAIL_BYTES_MAX);
    lpx_entry_t **history = act_calloc ((size_t) s->req.n, sizeof *history);
    size_t count;
    //  Lines queued before this moment are in the history, so they go to
    //  the other sessions only: the new one joins after the fan-out.
    lpx_handoff_t *list = lpx_hub_take_with_history (self->hub, s->req.app, &s->req.filter,
                                                     (size_t) s->req.n, LPX_TAIL_BYTES_MAX, 0,
                                                     history, &count);
    s_fan_out (self, list);
    lpx_handoff_destroy (&list);
    int64_t now = s_now_us ();
    for (size_t i = 0; i < count; i++)
        lpx_tail_push (s->tail, history [i], now);
    free (history);
    s->next = self->sessions;
    if (self->sessions)
        self->sessions->prev = s;
    self->sessions = s;
    self->session_count++;
    self->tails = self->session_count;
    lws_callback_on_writable (s->wsi);
    return 0;
}

static void
s_on_closed (lpx_ws_t *self, lpx_session_t *s)
{
    if (!s->tail)
        return;
    if (s->prev)
        s->prev->next = s->next;
    else
        self->sessions = s->next;
    if (s->next)
        s->next->prev = s->prev;
    self->session_count--;
    self->tails = self->session_count;
    lpx_tail_destroy (&s->tail);
}

static int
s_on_writeable (lpx_ws_t *self, lpx_session_t *s)
{
    if (s->closing) {
        lws_close_reason (s->wsi, LWS_CLOSE_STATUS_GOINGAWAY,
                          (unsigned char *) "app destroyed", 13);
        return -1;
    }
    if (!lpx_tail_pending (s->tail)) {
        //  History only: every byte is out (lws calls this only once its
        //  own buffer is flushed), so close cleanly.
        if (!s->req.tail) {
            lws_close_reason (s->wsi, LWS_CLOSE_STATUS_NORMAL, NULL, 0);
            return -1;
        }
        return 0;
    }
    unsigned char *out = self->wbuf + LWS_PRE;
    size_t len = lpx_tail_fill (s->tail, (char *) out, LPX_WS_WRITE_MAX, s_now_us ());
    if (len && lws_write (s->wsi, out, len, LWS_WRITE_TEXT) < (int) len)
        return -1;
    if (lpx_tail_pending (s->tail) || !s->req.tail)
        lws_callback_on_writable (s->wsi);
    return 0;
}

static int
s_on_receive (lpx_session_t *s, size_t len)
{
    //  Ignored, but bounded: a client message over LPX_WS_RX_MAX closes.
    s->rx += len;
    if (s->rx > LPX_WS_RX_MAX) {
        lws_close_reason (s->wsi, LWS_CLOSE_STATUS_MESSAGE_TOO_LARGE, NULL, 0);
        return -1;
    }
    if (lws_is_final_fragment (s->wsi))
        s->rx = 0;
    return 0;
}

static int
s_callback (struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len)
{
    struct lws_context *ctx = lws_get_context (wsi);
    lpx_ws_t *self = ctx ? lws_context_user (ctx) : NULL;
    lpx_session_t *s = user;
    switch (reason) {
        case LWS_CALLBACK_HTTP:
            return s_on_http (self, wsi, in ? (const char *) in : "");
        case LWS_CALLBACK_HTTP_CONFIRM_UPGRADE: {
            lpx_request_t req;
            int status = s_judge (self, wsi, &req);
            if (!status)
                return 0;
            self->refused++;
            lws_return_http_status (wsi, (unsigned) status, req.why);
            return 1;
        }
        case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION:
            return s_judge (self, wsi, &s->req) ? -1 : 0;
        case LWS_CALLBACK_ESTABLISHED:
            s->wsi = wsi;
            return s_on_established (self, s);
        case LWS_CALLBACK_SERVER_WRITEABLE:
            return s->tail ? s_on_writeable (self, s) : 0;
        case LWS_CALLBACK_RECEIVE:
            return s->tail ? s_on_receive (s, len) : 0;
        case LWS_CALLBACK_CLOSED:
            if (s)
                s_on_closed (self, s);
            return 0;
        case LWS_CALLBACK_EVENT_WAIT_CANCELLED:
            if (self)
                s_drain (self);
            return 0;
        default:
            return lws_callback_http_dummy (wsi, reason, user, in, len);
    }
}

static const struct lws_protocols s_protocols [] = {
    { "lpx-logs", s_callback, sizeof (lpx_session_t), LPX_WS_RX_MAX, 0, NULL, 0 },
    { NULL, NULL, 0, 0, 0, NULL, 0 },
};

static const lws_retry_bo_t s_retry = {
    .secs_since_valid_ping = LPX_WS_PING_S,
    .secs_since_valid_hangup = LPX_WS_HANGUP_S,
};

static void
s_lws_log (int level, const char *line)
{
    (void) level;
    //  lws lines end in a newline of their own.
    act_log_warn ("libwebsockets: %.*s", (int) strcspn (line, "\n"), line);
}

static void
s_wake (void *arg)
{
    lpx_ws_t *self = arg;
    lws_cancel_service (self->ctx);
}

static void *
s_run (void *arg)
{
    lpx_ws_t *self = arg;
    while (!atomic_load (&self->stop))
        if (lws_service (self->ctx, 0) < 0)
            break;
    return NULL;
}

lpx_ws_t *
lpx_ws_new (lpx_hub_t *hub, int port, const char *origins, char *reason, size_t reason_len)
{
    lws_set_log_level (LLL_ERR, s_lws_log);
    lpx_ws_t *self = act_calloc (1, sizeof *self);
    self->tag = LPX_WS_TAG;
    self->hub = hub;
    self->port = port;
    self->origins = origins && *origins ? act_strdup (origins) : NULL;
    self->wbuf = act_malloc (LWS_PRE + LPX_WS_WRITE_MAX);
    atomic_init (&self->stop, false);
    struct lws_context_creation_info info;
    memset (&info, 0, sizeof info);
    info.port = port;
    info.iface = "127.0.0.1";
    info.protocols = s_protocols;
    info.user = self;
    info.options = LWS_SERVER_OPTION_HTTP_HEADERS_SECURITY_BEST_PRACTICES_ENFORCE
                 | LWS_SERVER_OPTION_DISABLE_IPV6;
    info.max_http_header_data = LPX_WS_HEADER_MAX;
    info.timeout_secs = 10;
    info.retry_and_idle_policy = &s_retry;
    self->ctx = lws_create_context (&info);
    if (!self->ctx) {
        snprintf (reason, reason_len, "cannot listen on 127.0.0.1:%d", port);
        free (self->origins);
        free (self->wbuf);
        free (self);
        return NULL;
    }
    lpx_hub_attach (hub, s_wake, self);
    if (pthread_create (&self->thread, NULL, s_run, self)) {
        snprintf (reason, reason_len, "cannot start the websocket thread");
        lpx_hub_attach (hub, NULL, NULL);
        lws_context_destroy (self->ctx);
        free (self->origins);
        free (self->wbuf);
        free (self);
        return NULL;
    }
    return self;
}

void
lpx_ws_destroy (lpx_ws_t **self_p)
{
    lpx_ws_t *self = *self_p;
    if (!self)
        return;
    assert (self->tag == LPX_WS_TAG);
    lpx_hub_attach (self->hub, NULL, NULL);
    atomic_store (&self->stop, true);
    lws_cancel_service (self->ctx);
    pthread_join (self->thread, NULL);
    //  The thread is gone: the context (and the sessions, through their
    //  CLOSED callbacks) are this thread's to free now.
    lws_context_destroy (self->ctx);
    free (self->origins);
    free (self->wbuf);
    self->tag = LPX_WS_TAG_DEAD;
    free (self);
    *self_p = NULL;
}

void
lpx_ws_figures (lpx_ws_t *self, uint64_t *tails_p, uint64_t *dropped_p, uint64_t *refused_p)
{
    *tails_p = self->tails;
    *dropped_p = self->dropped;
    *refused_p = self->refused;
}
