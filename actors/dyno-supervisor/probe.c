//  probe - one check of a web dyno's port: connect, and optionally GET
//
//  See probe.h.

#include "probe.h"
#include "../common/act.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define SUP_PROBE_REQ_MAX   2200        // the request (paths are short)
#define SUP_PROBE_RESP_MAX  256         // enough for a status line

typedef enum { S_CONNECTING, S_SENDING, S_READING } s_phase_t;

struct sup_probe {
    int fd;
    s_phase_t phase;
    bool http;
    char req [SUP_PROBE_REQ_MAX];
    size_t req_len, req_sent;
    char resp [SUP_PROBE_RESP_MAX];
    size_t resp_len;
};

sup_probe_t *
sup_probe_new (int port, const char *path)
{
    int fd = socket (AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return NULL;
    sup_probe_t *self = act_calloc (1, sizeof *self);
    self->fd = fd;
    self->http = path && *path;
    if (self->http) {
        int n = snprintf (self->req, sizeof self->req, "GET %.2048s HTTP/1.0\r\nHost: 127.0.0.1:%d\r\n"
                          "User-Agent: dynod-healthcheck\r\n\r\n", path, port);
        self->req_len = n > 0 && (size_t) n < sizeof self->req ? (size_t) n : 0;
    }
    struct sockaddr_in addr = { .sin_family = AF_INET, .sin_port = htons ((uint16_t) port) };
    addr.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
    if (connect (fd, (struct sockaddr *) &addr, sizeof addr) == 0)
        self->phase = self->http ? S_SENDING : S_CONNECTING;
    else if (errno != EINPROGRESS) {
        close (fd);
        free (self);
        return NULL;
    }
    return self;
}

void
sup_probe_destroy (sup_probe_t **self_p)
{
    if (!*self_p)
        return;
    close ((*self_p)->fd);
    free (*self_p);
    *self_p = NULL;
}

int sup_probe_fd (const sup_probe_t *self) { return self->fd; }

short
sup_probe_events (const sup_probe_t *self)
{
    return self->phase == S_READING ? ACT_POLLIN : ACT_POLLOUT;
}

bool
sup_probe_status_ok (const char *line, int len)
{
    //  "HTTP/1.x NNN"
    if (len < 12 || strncmp (line, "HTTP/1.", 7) != 0 || line [8] != ' ')
        return false;
    const char *code = line + 9;
    if (code [0] < '2' || code [0] > '3' || code [1] < '0' || code [1] > '9' || code [2] < '0' || code [2] > '9')
        return false;
    return len == 12 || code [3] == ' ' || code [3] == '\r' || code [3] == '\n';
}

sup_probe_result_t
sup_probe_step (sup_probe_t *self)
{
    if (self->phase == S_CONNECTING) {
        int err = 0;
        socklen_t len = sizeof err;
        if (getsockopt (self->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0 || err)
            return SUP_PROBE_FAILED;
        if (!self->http)
            return SUP_PROBE_PASSED;
        self->phase = S_SENDING;
    }
    if (self->phase == S_SENDING) {
        if (!self->req_len)
            return SUP_PROBE_FAILED;
        ssize_t n = send (self->fd, self->req + self->req_sent, self->req_len - self->req_sent, MSG_NOSIGNAL);
        if (n < 0)
            return errno == EAGAIN || errno == EINTR ? SUP_PROBE_PENDING : SUP_PROBE_FAILED;
        self->req_sent += (size_t) n;
        if (self->req_sent == self->req_len)
            self->phase = S_READING;
        return SUP_PROBE_PENDING;
    }
    ssize_t n = recv (self->fd, self->resp + self->resp_len, sizeof self->resp - 1 - self->resp_len, 0);
    if (n < 0)
        return errno == EAGAIN || errno == EINTR ? SUP_PROBE_PENDING : SUP_PROBE_FAILED;
    self->resp_len += (size_t) n;
    char *eol = memchr (self->resp, '\n', self->resp_len);
    if (eol || n == 0 || self->resp_len == sizeof self->resp - 1)
        return sup_probe_status_ok (self->resp, eol ? (int) (eol - self->resp) : (int) self->resp_len)
               ? SUP_PROBE_PASSED : SUP_PROBE_FAILED;
    return SUP_PROBE_PENDING;
}
