//  conn - one client connection and its backend, shared by http.c (the
//  sockets and the epoll loop) and proxy.c (parsing, routing, messages)
//
//  Internal to router/: owned by the HTTP thread, never seen by the actor.

#ifndef RTR_CONN_H
#define RTR_CONN_H

#include "logq.h"
#include "headers.h"
#include "table.h"

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

//  A byte buffer: data [off, len) is pending.
typedef struct {
    char *data;                 // owned
    size_t len, cap, off;
} rtr_buf_t;

void rtr_buf_add (rtr_buf_t *self, const void *data, size_t len);
void rtr_buf_printf (rtr_buf_t *self, const char *fmt, ...) __attribute__ ((format (printf, 2, 3)));
size_t rtr_buf_pending (const rtr_buf_t *self);
void rtr_buf_reset (rtr_buf_t *self);
void rtr_buf_release (rtr_buf_t *self);

//  Headers collected from parser callbacks: offsets into `raw`.
typedef struct {
    size_t name_off, name_len, val_off, val_len;
} rtr_hdr_t;
typedef struct {
    rtr_buf_t raw;
    rtr_hdr_t *list;            // owned
    size_t count, cap;
    bool in_value;
} rtr_hdrs_t;

typedef struct rtr_conn rtr_conn_t;
typedef struct {
    rtr_conn_t *conn;
    bool backend;
} rtr_end_t;

struct rtr_conn {
    rtr_table_t *table;         // borrowed
    rtr_logq_t *logq;           // borrowed
    uint64_t *rng;              // borrowed: the thread's random state
    uint64_t *requests;         // borrowed: the thread's counter
    int listen_port;
    rtr_end_t cend, bend;
    int cfd, bfd;               // -1 when closed
    uint32_t cev, bev;          // events registered
    bool dead;                  // close at the end of this event
    char fwd [INET6_ADDRSTRLEN];
    rtr_buf_t cin;              // client bytes not parsed yet
    rtr_buf_t bout;             // to the backend
    rtr_buf_t cout;             // to the client
    bool close_after;           // close the client once cout is written
    //  The request.
    http_parser req;
    rtr_buf_t url;
    rtr_hdrs_t rh;
    bool in_request, req_done, keep_alive, head_method, chunked_req;
    char app [64];
    char host [256];
    char method [24];
    char request_id [RTR_REQUEST_ID_LEN];
    int err_status;             // decided error, 0 for none
    const char *err_code;       // its H code, or NULL
    rtr_backend_t be;
    char tried [RTR_TRIES][RTR_ID_MAX];
    size_t tries;
    bool connecting, connected;
    int64_t t_start, t_connect, t_connected;
    //  The response.
    http_parser res;
    rtr_buf_t reason;
    rtr_hdrs_t sh;
    bool res_started, res_head_sent, res_chunked, res_done;
    int64_t res_bytes;          // cout bytes of this response
};

//  proxy.c: called by http.c.
void rtr_proxy_init (rtr_conn_t *conn);
void rtr_proxy_release (rtr_conn_t *conn);
//  New bytes in conn->cin.
void rtr_proxy_client_data (rtr_conn_t *conn);
//  Backend bytes; len 0 for end of stream.
void rtr_proxy_backend_data (rtr_conn_t *conn, const char *data, size_t len);
//  The backend connect finished: 0, or the errno it failed with.
void rtr_proxy_connected (rtr_conn_t *conn, int err);

//  http.c: called by proxy.c. Starts a non-blocking connect to the
//  backend in conn->be. Returns 0 (in progress), or the errno.
int rtr_http_connect (rtr_conn_t *conn);
void rtr_http_backend_close (rtr_conn_t *conn);

#endif
