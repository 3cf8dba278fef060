//  tls - the HTTPS listener's TLS: OpenSSL contexts, certificates by SNI,
//  and non-blocking handshakes, reads and writes for the worker threads
//
//  One rtr_tls_t per router: its certificate store is written by the actor
//  thread (rtr_tls_apply, from `route.app`) and read by the worker threads
//  during handshakes, under its own lock. TLS 1.2 and 1.3 only, Mozilla's
//  "intermediate" ciphers, ALPN `http/1.1`, session resumption (tickets
//  and a shared session cache). A name with no uploaded or ACM certificate
//  that is `APP.localhost` (or any name when nothing else matches) gets a
//  certificate minted from the local CA that `dynod up` creates.

#ifndef RTR_TLS_H
#define RTR_TLS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct rtr_tls rtr_tls_t;
typedef struct rtr_tls_conn rtr_tls_conn_t;

typedef enum {
    RTR_TLS_OK,                 // done (handshake finished, bytes moved)
    RTR_TLS_WANT_READ,          // wait for EPOLLIN, then call again
    RTR_TLS_WANT_WRITE,         // wait for EPOLLOUT, then call again
    RTR_TLS_CLOSED,             // the peer closed (close_notify or EOF)
    RTR_TLS_ERROR,              // a protocol error: close the connection
} rtr_tls_io_t;

//  `ca_dir` holds the local CA (`root.pem`, `root.key`); NULL or missing:
//  no minted certificates. Caller owns result; NULL with a reason in `err`
//  when OpenSSL cannot be set up.
rtr_tls_t *rtr_tls_new (const char *ca_dir, char *err, size_t err_len);
void rtr_tls_destroy (rtr_tls_t **self_p);

//  Applies one `route.app` body (borrowed): the app's certificates
//  replace what it had; a destroyed app's are dropped.
void rtr_tls_apply (rtr_tls_t *self, const json_t *route_app);

//  Wraps accepted non-blocking socket `fd` (not owned). Caller owns result.
rtr_tls_conn_t *rtr_tls_accept (rtr_tls_t *self, int fd);
//  Frees the connection, sending close_notify if it can without blocking.
void rtr_tls_conn_free (rtr_tls_conn_t **conn_p);

rtr_tls_io_t rtr_tls_handshake (rtr_tls_conn_t *conn);
//  Reads up to `cap` bytes; *got says how many on RTR_TLS_OK.
rtr_tls_io_t rtr_tls_read (rtr_tls_conn_t *conn, void *buf, size_t cap, size_t *got);
//  Writes up to `len` bytes; *put says how many on RTR_TLS_OK.
rtr_tls_io_t rtr_tls_write (rtr_tls_conn_t *conn, const void *buf, size_t len, size_t *put);
//  Bytes are buffered (decrypted, or read ahead and not decrypted yet):
//  read again without waiting for epoll.
bool rtr_tls_pending (rtr_tls_conn_t *conn);
//  The SNI name the client sent, or NULL. Borrowed.
const char *rtr_tls_sni (rtr_tls_conn_t *conn);
//  One line on why the last call failed (for the router's log), or "".
const char *rtr_tls_error (rtr_tls_conn_t *conn);

//  Handshakes completed, and how many resumed a session (for status).
uint64_t rtr_tls_handshakes (rtr_tls_t *self);
uint64_t rtr_tls_resumed (rtr_tls_t *self);
//  Names with an uploaded or ACM certificate, and leaves minted from the
//  local CA so far (for status).
size_t rtr_tls_cert_names (rtr_tls_t *self);
size_t rtr_tls_minted (rtr_tls_t *self);

#endif
