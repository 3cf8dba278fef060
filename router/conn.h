//  conn - one client connection and its backend, shared by worker.c (the
//  sockets, the epoll loop, the clock), proxy.c (requests: parsing,
//  routing, forwarding) and reply.c (responses, tunnels, error pages,
//  timeouts, the log line)
//
//  Internal to router/: a connection is owned by the worker thread that
//  accepted it and never seen by another thread or by the actor.

#ifndef RTR_CONN_H
#define RTR_CONN_H

#include "challenges.h"
#include "headers.h"
#include "hosts.h"
#include "http.h"
#include "logq.h"
#include "table.h"
#include "tls.h"

#include <http_parser.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RTR_BUF_HIGH        (1024 * 1024)   // bytes pending before reads pause
#define RTR_LINE_MAX        8192            // request line / header line bytes
#define RTR_HEADER_NAME_MAX 1000
#define RTR_HEADERS_MAX     1000
#define RTR_TRIES           3               // dynos tried per request
#define RTR_REPLAY_MAX      (64 * 1024)     // request bytes kept for a retry
#define RTR_RES_LINE_MAX    (512 * 1024)    // response header line (H25)
#define RTR_HEAD_MAX        (1024 * 1024)   // a whole head, either way (431, H25)

//  A byte buffer: data [off, len) is pending.
typedef struct {
    char *data;                 // owned
    size_t len, cap, off;
} rtr_buf_t;

void rtr_buf_add (rtr_buf_t *self, const void *data, size_t len);
void rtr_buf_printf (rtr_buf_t *self, const char *fmt, ...) __attribute__ ((format (printf, 2, 3)));
//  Appends `NAME: VALUE\r\n` (no printf: the per-header hot path).
void rtr_buf_header (rtr_buf_t *self, const char *name, size_t nlen, const char *value, size_t vlen);
size_t rtr_buf_pending (const rtr_buf_t *self);
void rtr_buf_reset (rtr_buf_t *self);
void rtr_buf_release (rtr_buf_t *self);

//  Milliseconds on the monotonic clock, for deadlines.
int64_t rtr_mono_ms (void);

//  Headers collected from parser callbacks: offsets into `raw`.
typedef struct {
    size_t name_off, name_len, val_off, val_len;
} rtr_hdr_t;
typedef struct {
    rtr_buf_t raw;
    rtr_hdr_t *list;            // owned
    size_t count, cap;
    bool in_value;
    size_t line_max;            // name + value bytes allowed per header
    int limit;                  // the limit broken: 0, or 431
} rtr_hdrs_t;

//  Parser callbacks' helpers: 0, or -1 when a limit is broken (->limit
//  says which) or a name holds a space.
int rtr_hdrs_field (rtr_hdrs_t *self, const char *at, size_t len);
int rtr_hdrs_value (rtr_hdrs_t *self, const char *at, size_t len);
void rtr_hdrs_reset (rtr_hdrs_t *self);
void rtr_hdrs_release (rtr_hdrs_t *self);
//  Header `i`'s name and value (borrowed, not NUL-terminated).
const char *rtr_hdrs_name (const rtr_hdrs_t *self, size_t i);
const char *rtr_hdrs_val (const rtr_hdrs_t *self, size_t i);
bool rtr_hdrs_is (const rtr_hdrs_t *self, size_t i, const char *name);
//  Index of the first header `name` (lower case), or -1; *count (may be
//  NULL) gets how many there are.
int rtr_hdrs_find (const rtr_hdrs_t *self, const char *name, size_t *count);
//  The first header `name`'s value as a C string copied into `out`, or
//  NULL when there is none.
const char *rtr_hdrs_get (const rtr_hdrs_t *self, const char *name, char *out, size_t cap);

//  What an epoll event's data points at.
typedef enum {
    RTR_END_CLIENT, RTR_END_BACKEND, RTR_END_POOLED, RTR_END_LISTEN, RTR_END_WAKE,
    RTR_END_DEAD,               // a backend socket closed: events still queued for it are stale
} rtr_end_kind_t;

typedef struct rtr_conn rtr_conn_t;
typedef struct rtr_worker rtr_worker_t;
typedef struct {
    rtr_end_kind_t kind;
    rtr_conn_t *conn;           // CLIENT, BACKEND
    int fd;                     // BACKEND, POOLED, LISTEN
    bool https;                 // LISTEN
} rtr_end_t;

//  What the worker threads share, read only once they run.
typedef struct {
    rtr_table_t *table;         // borrowed
    rtr_logq_t *logq;           // borrowed
    rtr_hosts_t *hosts;         // borrowed, may be NULL
    rtr_tls_t *tls;             // borrowed, may be NULL
    rtr_challenges_t *challenges; // borrowed, may be NULL
    rtr_timeouts_t to;
    const char *listen_addr;    // borrowed, may be NULL (127.0.0.1)
    int http_port, https_port;
} rtr_shared_t;

struct rtr_conn {
    rtr_worker_t *worker;       // borrowed: the thread serving it
    const rtr_shared_t *sh;     // borrowed
    uint64_t *rng;              // borrowed: the thread's random state
    int listen_port;
    bool https;
    rtr_tls_conn_t *tls;        // owned; NULL on plain HTTP
    bool tls_ready;             // the handshake is done
    bool tls_want_write;        // the last TLS call wants EPOLLOUT
    rtr_end_t cend;
    rtr_end_t *bend;            // the backend socket's, from pool.c; NULL with no socket
    int cfd, bfd;               // -1 when closed
    uint32_t cev, bev;          // events registered
    uint32_t cign, bign;        // registered events that fired unwanted (worker.c)
    bool dead;                  // close at the end of this event
    char fwd [INET6_ADDRSTRLEN];
    rtr_buf_t cin;              // client bytes not parsed yet
    rtr_buf_t bout;             // to the backend
    rtr_buf_t cout;             // to the client
    rtr_buf_t replay;           // the forwarded request, for a retry
    bool replay_ok;             // `replay` holds all of it
    bool close_after;           // close the client once cout is written
    bool resume;                // parse what the client sent next
    bool tunnel;                // after a 101: raw bytes both ways
    //  Clock (rtr_mono_ms): for the timeouts.
    int64_t m_idle;             // the connection became idle (no request)
    int64_t m_begin;            // the request's first byte
    int64_t m_sent;             // the request head went to a dyno
    int64_t m_client;           // last byte from the client
    int64_t m_activity;         // last byte either way
    int64_t m_connect;          // the current connect started
    int64_t m_boot;             // waiting for a starting dyno since
    uint64_t served;            // requests answered on this connection
    uint8_t head_prev;          // last head byte seen (bare LF, obs-fold)
    //  The request.
    http_parser req;
    rtr_buf_t url;
    rtr_hdrs_t rh;
    bool in_request, headers_done, req_done, keep_alive, head_method, chunked_req;
    bool upgrade_req, idempotent, waiting_boot;
    char app [RTR_APP_MAX];
    char host [256];
    char method [24];
    char request_id [RTR_REQUEST_ID_LEN];
    int err_status;             // decided error, 0 for none
    const char *err_code;       // its H code, or NULL
    const char *err_page;       // the page's text, or NULL for the default
    rtr_backend_t be;
    char tried [RTR_TRIES][RTR_ID_MAX];
    size_t tries;
    bool connecting, connected, reused, retried;
    int64_t t_start, t_connect, t_connected;   // wall clock ms
    //  The response.
    http_parser res;
    rtr_buf_t reason;
    rtr_hdrs_t resh;
    bool res_started, res_head_sent, res_chunked, res_done, res_raw;
    int64_t res_bytes;          // cout bytes of this response
};

//  proxy.c: called by worker.c.
void rtr_proxy_init (rtr_conn_t *conn);
void rtr_proxy_release (rtr_conn_t *conn);
//  New bytes in conn->cin.
void rtr_proxy_client_data (rtr_conn_t *conn);
//  Refuses the request with `status` (its page and, when the app is known,
//  a log line with `code`, NULL for H26/H25), closing the connection.
void rtr_proxy_refuse (rtr_conn_t *conn, int status, const char *code);
//  The client closed its side, or its socket failed.
void rtr_proxy_client_gone (rtr_conn_t *conn);
//  The backend connect finished: 0, or the errno it failed with.
void rtr_proxy_connected (rtr_conn_t *conn, int err);
//  Tries the next dyno after a failed or timed-out connect.
void rtr_proxy_retry (rtr_conn_t *conn, int err);
//  Retries a request whose reused backend connection failed before any
//  response byte; false when it cannot (not idempotent, too big, done).
bool rtr_proxy_replay (rtr_conn_t *conn);
//  Picks again for a request held while the app's web dynos start.
void rtr_proxy_boot_check (rtr_conn_t *conn);

//  reply.c: called by worker.c and proxy.c.
//  Backend bytes; len 0 for end of stream.
void rtr_reply_backend_data (rtr_conn_t *conn, const char *data, size_t len);
//  Checks the connection's deadlines at `now` (rtr_mono_ms).
void rtr_reply_tick (rtr_conn_t *conn, int64_t now);
//  Decides an error: sent now when the request is complete, else when it
//  is (its body is read and dropped meanwhile), or at once when `now`.
void rtr_reply_fail (rtr_conn_t *conn, int status, const char *code, bool now);
//  Answers `status` with `text/plain` `body` (not an app's response).
void rtr_reply_plain (rtr_conn_t *conn, int status, const char *body, size_t len);
//  The request's log line (`code` NULL for at=info; `sock` may be NULL).
void rtr_reply_log (rtr_conn_t *conn, int status, const char *code, const char *sock);
//  Ready for the client's next request; parses what it already sent.
void rtr_reply_next (rtr_conn_t *conn);

//  worker.c: called by proxy.c and reply.c.
//  A backend connection to conn->be: an idle pooled one (conn->reused) or
//  a new non-blocking connect. Returns 0, or the errno.
int rtr_worker_backend_open (rtr_conn_t *conn);
//  Done with the backend: back to the pool when `reusable`, else closed.
void rtr_worker_backend_done (rtr_conn_t *conn, bool reusable);
//  Sidelines the dyno in conn->be for the configured time.
void rtr_worker_sideline (rtr_conn_t *conn);
//  Counts one answered request.
void rtr_worker_answered (rtr_conn_t *conn);

#endif
