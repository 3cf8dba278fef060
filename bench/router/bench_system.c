//  brt_system - the router benchmark's measured system: `dynod up`, the
//  app, and one-off GETs
//
//  See bench.h. `dynod up` runs with data TMP/data on free broker, HTTP,
//  HTTPS and logs ports and DYNOD_ROUTER_WORKERS set; the app BRT_APP is
//  deployed from TMP/src (a copy of bench-router-tiny as `tiny` and the
//  Procfile `web: exec ./tiny`: the built-in buildpack keeps the slug as
//  the archive, so the binary runs as is) with the `dyno` CLI, whose output
//  goes to TMP/dyno.out.

#include "bench.h"

#include <jansson.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

// ---------------------------------------------------------------------------
//  dynod up

int
brt_system_start (brt_t *self, char *why, size_t why_len)
{
    char data [320], ports [4][16], workers [16];
    snprintf (data, sizeof data, "%s/data", self->tmp);
    mkdir (data, 0700);
    snprintf (self->up_log, sizeof self->up_log, "%s/dynod-up.log", self->tmp);
    int port [4];
    for (int i = 0; i < 4; i++) {
        //  Four distinct ports (bcm_free_port may hand one out twice).
        do
            port [i] = bcm_free_port ();
        while (port [i] > 0 && ((i > 0 && port [i] == port [0]) || (i > 1 && port [i] == port [1])
                             || (i > 2 && port [i] == port [2])));
        snprintf (ports [i], sizeof ports [i], "%d", port [i]);
    }
    self->http_port = port [1];
    self->https_port = port [2];
    snprintf (self->endpoint, sizeof self->endpoint, "tcp://127.0.0.1:%s", ports [0]);
    snprintf (workers, sizeof workers, "%d", self->workers);
    setenv ("DYNOD_ROUTER_WORKERS", workers, 1);
    char *argv [] = {
        "dynod", "up", "--data", data, "--broker-port", ports [0], "--http-port", ports [1],
        "--https-port", ports [2], "--logs-port", ports [3], NULL
    };
    pid_t pid = bcm_child_start (self->dynod, argv, self->up_log, &self->up_out);
    if (pid < 0) {
        snprintf (why, why_len, "cannot start '%s up': %s", self->dynod, strerror (errno));
        return -1;
    }
    self->up = pid;
    setenv ("DYNOD_BROKER", self->endpoint, 1);
    if (bcm_wait_line (self->up_out, "dynod ready:", BRT_READY_MS) == 0)
        return 0;
    bcm_log_tail ("bench-router", self->dynod, "up", self->up_log);
    snprintf (why, why_len, "dynod up did not get ready");
    return -1;
}

void
brt_system_stop (brt_t *self)
{
    bcm_child_stop (self->up, BRT_STOP_MS);
    self->up = 0;
    if (self->up_out >= 0)
        close (self->up_out);
    self->up_out = -1;
}

// ---------------------------------------------------------------------------
//  The dyno CLI

//  Runs `dyno ARGS...` (NULL-terminated `argv` after the program), output
//  to TMP/dyno.out. Returns its exit status, -1 if it could not run; the
//  last output line goes to `last`.
static int
s_dyno (brt_t *self, char *last, size_t last_len, char *const args [])
{
    char *argv [16] = { "dyno" };
    int n = 1;
    while (args [n - 1] && n < 15) {
        argv [n] = args [n - 1];
        n++;
    }
    argv [n] = NULL;
    char out [320];
    snprintf (out, sizeof out, "%s/dyno.out", self->tmp);
    pid_t pid = fork ();
    if (pid == 0) {
        int fd = open (out, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        if (fd >= 0) {
            dup2 (fd, STDOUT_FILENO);
            dup2 (fd, STDERR_FILENO);
            close (fd);
        }
        execv (self->dyno, argv);
        _exit (127);
    }
    int status = 0;
    if (pid < 0 || waitpid (pid, &status, 0) != pid)
        return -1;
    if (last && last_len) {
        char line [512];
        last [0] = 0;
        FILE *file = fopen (out, "r");
        while (file && fgets (line, sizeof line, file))
            if (line [0] && line [0] != '\n') {
                size_t len = strlen (line) < last_len ? strlen (line) : last_len - 1;
                memcpy (last, line, len);
                last [len] = 0;
            }
        if (file)
            fclose (file);
        last [strcspn (last, "\n")] = 0;
    }
    return WIFEXITED (status) ? WEXITSTATUS (status) : -1;
}

//  The port of the app's first web dyno that is `up`, or 0.
static int
s_dyno_port (brt_t *self)
{
    char *args [] = { "ps", "-a", BRT_APP, "--json", NULL };
    if (s_dyno (self, NULL, 0, args) != 0)
        return 0;
    char path [320];
    snprintf (path, sizeof path, "%s/dyno.out", self->tmp);
    json_error_t err;
    json_t *doc = json_load_file (path, 0, &err);
    json_t *dynos = json_object_get (doc, "dynos");
    int port = 0;
    size_t i;
    json_t *dyno;
    json_array_foreach (dynos, i, dyno) {
        const char *state = json_string_value (json_object_get (dyno, "state"));
        json_int_t p = json_integer_value (json_object_get (dyno, "port"));
        if (state && strcmp (state, "up") == 0 && p > 0) {
            port = (int) p;
            break;
        }
    }
    json_decref (doc);
    return port;
}

static int
s_copy (const char *from, const char *to)
{
    int in = open (from, O_RDONLY), out = open (to, O_WRONLY | O_CREAT | O_TRUNC, 0755);
    char buf [65536];
    ssize_t n = 0;
    while (in >= 0 && out >= 0 && (n = read (in, buf, sizeof buf)) > 0)
        if (write (out, buf, (size_t) n) != n) {
            n = -1;
            break;
        }
    int rc = in >= 0 && out >= 0 && n == 0 ? 0 : -1;
    if (in >= 0)
        close (in);
    if (out >= 0 && close (out))
        rc = -1;
    return rc;
}

int
brt_app_deploy (brt_t *self, char *why, size_t why_len)
{
    char src [320], path [400], last [400];
    snprintf (src, sizeof src, "%s/src", self->tmp);
    mkdir (src, 0755);
    snprintf (path, sizeof path, "%s/tiny", src);
    if (s_copy (self->tiny, path)) {
        snprintf (why, why_len, "cannot copy '%s' to '%s': %s", self->tiny, path, strerror (errno));
        return -1;
    }
    snprintf (path, sizeof path, "%s/Procfile", src);
    FILE *file = fopen (path, "w");
    if (!file || fputs ("web: exec ./tiny\n", file) < 0 || fclose (file)) {
        snprintf (why, why_len, "cannot write '%s'", path);
        return -1;
    }
    char *create [] = { "apps:create", BRT_APP, NULL };
    char *deploy [] = { "deploy", src, "-a", BRT_APP, NULL };
    if (s_dyno (self, last, sizeof last, create) || s_dyno (self, last, sizeof last, deploy)) {
        snprintf (why, why_len, "creating and deploying the app: %s", last);
        return -1;
    }
    snprintf (self->host, sizeof self->host, "%s.localhost", BRT_APP);
    double deadline = bcm_now () + BRT_DYNO_WAIT_S;
    while (bcm_now () < deadline && !(self->dyno_port = s_dyno_port (self)))
        bcm_sleep_ms (200);
    if (!self->dyno_port) {
        snprintf (why, why_len, "the web dyno was not up within %d s (dyno ps -a %s)", BRT_DYNO_WAIT_S, BRT_APP);
        return -1;
    }
    //  The router hears of the dyno from its supervisor: wait for a 200.
    int status = -1;
    char err [200] = "";
    while (bcm_now () < deadline && (status = brt_get (self->http_port, self->host, NULL, err, sizeof err)) != 200)
        bcm_sleep_ms (200);
    if (status != 200) {
        snprintf (why, why_len, "the router did not route to the dyno within %d s (last: %s%s%d)", BRT_DYNO_WAIT_S,
                  err, *err ? ", " : "status ", status);
        return -1;
    }
    return 0;
}

// ---------------------------------------------------------------------------
//  Probes

bool
brt_listening (int port)
{
    int fd = socket (AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in addr = { .sin_family = AF_INET, .sin_port = htons ((uint16_t) port),
                                .sin_addr.s_addr = htonl (INADDR_LOOPBACK) };
    bool ok = fd >= 0 && connect (fd, (struct sockaddr *) &addr, sizeof addr) == 0;
    if (fd >= 0)
        close (fd);
    return ok;
}

int
brt_get (int port, const char *host, const char *sni, char *why, size_t why_len)
{
    bool tls = sni != NULL;
    int fd = socket (AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in addr = { .sin_family = AF_INET, .sin_port = htons ((uint16_t) port),
                                .sin_addr.s_addr = htonl (INADDR_LOOPBACK) };
    struct timeval tv = { 5, 0 };
    if (fd < 0 || setsockopt (fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv)
    ||  setsockopt (fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv)
    ||  connect (fd, (struct sockaddr *) &addr, sizeof addr)) {
        snprintf (why, why_len, "connect 127.0.0.1:%d: %s", port, strerror (errno));
        if (fd >= 0)
            close (fd);
        return -1;
    }
    SSL_CTX *ctx = NULL;
    SSL *ssl = NULL;
    if (tls) {
        ctx = SSL_CTX_new (TLS_client_method ());
        ssl = ctx ? SSL_new (ctx) : NULL;
        if (ssl) {
            SSL_set_fd (ssl, fd);
            char name [128];
            snprintf (name, sizeof name, "%s", sni);
            SSL_set_tlsext_host_name (ssl, name);
        }
        if (!ssl || SSL_connect (ssl) != 1) {
            unsigned long e = ERR_get_error ();
            snprintf (why, why_len, "TLS handshake with 127.0.0.1:%d failed%s%s", port, e ? ": " : "",
                      e ? ERR_reason_error_string (e) : "");
            ERR_clear_error ();
            SSL_free (ssl);
            SSL_CTX_free (ctx);
            close (fd);
            return -1;
        }
    }
    char req [256], buf [512];
    int len = snprintf (req, sizeof req, "GET / HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n",
                        host ? host : "127.0.0.1");
    int got = -1;
    if ((tls ? SSL_write (ssl, req, len) : (int) send (fd, req, (size_t) len, MSG_NOSIGNAL)) == len)
        got = tls ? SSL_read (ssl, buf, sizeof buf - 1) : (int) recv (fd, buf, sizeof buf - 1, 0);
    int status = -1;
    if (got > 12) {
        buf [got] = 0;
        if (strncmp (buf, "HTTP/1.", 7) == 0)
            status = atoi (buf + 9);
    }
    if (status < 0)
        snprintf (why, why_len, "no HTTP answer from 127.0.0.1:%d", port);
    SSL_free (ssl);
    SSL_CTX_free (ctx);
    close (fd);
    return status;
}
