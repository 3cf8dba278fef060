//  brt_peers - the router benchmark's peers: HAProxy and nginx as reverse
//  proxies in front of the same web dyno, and the certificate HAProxy serves
//
//  See bench.h. Both run in the foreground as children of the bench (they
//  get SIGTERM if it dies first), on free 127.0.0.1 ports, with their
//  configuration, logs and (nginx) prefix under TMP; SIGTERM at the end
//  (both stop at once on it; nginx's master stops its workers).
//  Configured to match what our router does, as far as each can:
//      - as many threads (HAProxy `nbthread`) / worker processes (nginx
//        `worker_processes`) as the router has workers;
//      - keep-alive with clients (90 s, no cap on requests per connection:
//        nginx's default of 1000 is lifted) and with the dyno (HAProxy
//        `http-reuse always`; nginx an upstream `keepalive 64` pool, HTTP/1.1
//        and `Connection: ""`);
//      - the forwarding headers: X-Forwarded-For (appended), -Proto, -Port,
//        X-Request-Start (HAProxy ms, nginx s.ms), X-Request-Id (a fresh id: HAProxy uuid(),
//        nginx $request_id) and Via;
//      - no access log (our router sends a log line per request to
//        log-plex: that cost is ours alone);
//      - HTTPS (HAProxy only): the ECDSA P-256 certificate brt_cert_make
//        writes, TLS 1.2-1.3, ALPN http/1.1.

#include "bench.h"
#include "../../actors/common/act_base.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

//  Runs `argv` with stdout and stderr into `log` (truncated). Returns the
//  pid or -1.
static pid_t
s_spawn (char *const argv [], const char *log)
{
    pid_t pid = fork ();
    if (pid == 0) {
        prctl (PR_SET_PDEATHSIG, SIGTERM);
        int fd = open (log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        if (fd >= 0) {
            dup2 (fd, STDOUT_FILENO);
            dup2 (fd, STDERR_FILENO);
            close (fd);
        }
        int null = open ("/dev/null", O_RDONLY);
        if (null >= 0)
            dup2 (null, STDIN_FILENO);
        execvp (argv [0], argv);
        fprintf (stderr, "cannot run '%s': %s\n", argv [0], strerror (errno));
        _exit (127);
    }
    return pid;
}

//  Runs `argv` to the end. Returns its exit status, or -1.
static int
s_run (char *const argv [], const char *log)
{
    pid_t pid = s_spawn (argv, log);
    int status = 0;
    if (pid < 0 || waitpid (pid, &status, 0) != pid)
        return -1;
    return WIFEXITED (status) ? WEXITSTATUS (status) : -1;
}

//  The last line of `log` into `last`.
static void
s_last_line (const char *log, char *last, size_t last_len)
{
    char line [512];
    last [0] = 0;
    FILE *file = fopen (log, "r");
    while (file && fgets (line, sizeof line, file))
        if (line [0] && line [0] != '\n') {
            size_t n = strlen (line) < last_len ? strlen (line) : last_len - 1;
            memcpy (last, line, n);
            last [n] = 0;
        }
    if (file)
        fclose (file);
    last [strcspn (last, "\n")] = 0;
}

//  Waits until `pid` accepts on every port of `ports` (0-terminated).
static int
s_wait_ready (pid_t pid, const int *ports, const char *name, const char *log, char *why, size_t why_len)
{
    double deadline = bcm_now () + BRT_PEER_WAIT_S;
    while (bcm_now () < deadline) {
        int status;
        if (waitpid (pid, &status, WNOHANG) == pid) {
            char last [400];
            s_last_line (log, last, sizeof last);
            snprintf (why, why_len, "%s exited at start: %s (log: %s)", name, last, log);
            return -2;
        }
        bool all = true;
        for (int i = 0; ports [i]; i++)
            all = all && brt_listening (ports [i]);
        if (all)
            return 0;
        bcm_sleep_ms (50);
    }
    snprintf (why, why_len, "%s did not accept within %d s (log: %s)", name, BRT_PEER_WAIT_S, log);
    return -1;
}

static int
s_write (const char *path, const char *text, char *why, size_t why_len)
{
    FILE *file = fopen (path, "w");
    if (!file || fputs (text, file) < 0 || fclose (file)) {
        snprintf (why, why_len, "cannot write '%s': %s", path, strerror (errno));
        return -1;
    }
    return 0;
}

//  A free port other than those in `taken` (0-terminated).
static int
s_port (const int *taken)
{
    for (;;) {
        int port = bcm_free_port ();
        bool clash = false;
        for (int i = 0; taken [i]; i++)
            clash = clash || taken [i] == port;
        if (!clash || port < 0)
            return port;
    }
}

// ---------------------------------------------------------------------------
//  The certificate

int
brt_cert_make (brt_t *self, char *why, size_t why_len)
{
    char key [320], cert [320], log [320], subj [128], san [160];
    snprintf (key, sizeof key, "%s/peer.key", self->tmp);
    snprintf (cert, sizeof cert, "%s/peer.crt", self->tmp);
    snprintf (log, sizeof log, "%s/openssl.log", self->tmp);
    snprintf (self->cert_pem, sizeof self->cert_pem, "%s/peer.pem", self->tmp);
    snprintf (subj, sizeof subj, "/CN=%s.localhost", BRT_APP);
    snprintf (san, sizeof san, "subjectAltName=DNS:%s.localhost,IP:127.0.0.1", BRT_APP);
    char *argv [] = { "openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                      "-nodes", "-keyout", key, "-out", cert, "-days", "30", "-subj", subj, "-addext", san, NULL };
    if (s_run (argv, log) != 0) {
        char last [400];
        s_last_line (log, last, sizeof last);
        snprintf (why, why_len, "openssl req (an ECDSA P-256 certificate) failed: %s", last);
        return -1;
    }
    //  HAProxy's `crt`: the certificate, then the key, in one file.
    char *pem = NULL, *pem_key = NULL;
    size_t len = 0, key_len = 0;
    int rc = -1;
    if (act_read_file (cert, &pem, &len) == 0 && act_read_file (key, &pem_key, &key_len) == 0) {
        FILE *file = fopen (self->cert_pem, "w");
        if (file && fwrite (pem, 1, len, file) == len && fwrite (pem_key, 1, key_len, file) == key_len)
            rc = 0;
        if (file && fclose (file))
            rc = -1;
    }
    free (pem);
    free (pem_key);
    if (rc)
        snprintf (why, why_len, "cannot write '%s'", self->cert_pem);
    return rc;
}

// ---------------------------------------------------------------------------
//  HAProxy

int
brt_haproxy_start (brt_t *self, char *why, size_t why_len)
{
    int taken [] = { self->http_port, self->https_port, self->dyno_port, 0, 0 };
    self->haproxy_http = s_port (taken);
    taken [3] = self->haproxy_http;
    self->haproxy_https = s_port (taken);
    char conf [4096], path [320], log [320];
    snprintf (conf, sizeof conf,
        "# written by bench-router: HAProxy as a reverse proxy comparable to dynod's router\n"
        "global\n"
        "    nbthread %d\n"
        "    maxconn 5000\n"
        "    ssl-default-bind-options ssl-min-ver TLSv1.2\n"
        "defaults\n"
        "    mode http\n"
        "    option http-keep-alive\n"
        "    timeout connect 5s\n"
        "    timeout client 90s\n"
        "    timeout server 30s\n"
        "    timeout http-request 10s\n"
        "    timeout http-keep-alive 90s\n"
        "frontend web\n"
        "    bind 127.0.0.1:%d\n"
        "    bind 127.0.0.1:%d ssl crt %s alpn http/1.1\n"
        "    option forwardfor\n"
        "    unique-id-format %%[uuid()]\n"
        "    unique-id-header X-Request-Id\n"
        "    http-request set-header X-Forwarded-Proto https if { ssl_fc }\n"
        "    http-request set-header X-Forwarded-Proto http if !{ ssl_fc }\n"
        "    http-request set-header X-Forwarded-Port %%[dst_port]\n"
        "    http-request set-header X-Request-Start %%[date(0,ms)]\n"
        "    http-request add-header Via \"1.1 haproxy\"\n"
        "    default_backend dyno\n"
        "backend dyno\n"
        "    http-reuse always\n"
        "    server web1 127.0.0.1:%d maxconn 1000\n",
        self->workers, self->haproxy_http, self->haproxy_https, self->cert_pem, self->dyno_port);
    snprintf (path, sizeof path, "%s/haproxy.cfg", self->tmp);
    snprintf (log, sizeof log, "%s/haproxy.log", self->tmp);
    if (s_write (path, conf, why, why_len))
        return -1;
    char *argv [] = { "haproxy", "-db", "-f", path, NULL };
    self->haproxy = s_spawn (argv, log);
    if (self->haproxy < 0) {
        self->haproxy = 0;
        snprintf (why, why_len, "cannot start haproxy: %s", strerror (errno));
        return -1;
    }
    int ports [] = { self->haproxy_http, self->haproxy_https, 0 };
    int rc = s_wait_ready (self->haproxy, ports, "haproxy", log, why, why_len);
    if (rc == -2)
        self->haproxy = 0;          // reaped
    return rc ? -1 : 0;
}

// ---------------------------------------------------------------------------
//  nginx

int
brt_nginx_start (brt_t *self, char *why, size_t why_len)
{
    int taken [] = { self->http_port, self->https_port, self->dyno_port, self->haproxy_http,
                     self->haproxy_https, 0 };
    self->nginx_http = s_port (taken);
    char conf [4096], prefix [320], path [400], log [400];
    snprintf (prefix, sizeof prefix, "%s/nginx", self->tmp);
    mkdir (prefix, 0755);
    snprintf (conf, sizeof conf,
        "# written by bench-router: nginx as a reverse proxy comparable to dynod's router\n"
        "daemon off;\n"
        "master_process on;\n"
        "worker_processes %d;\n"
        "pid %s/nginx.pid;\n"
        "error_log %s/error.log warn;\n"
        "events { worker_connections 4096; }\n"
        "http {\n"
        "    access_log off;\n"
        "    client_body_temp_path %s/body;\n"
        "    proxy_temp_path %s/proxy;\n"
        "    fastcgi_temp_path %s/fastcgi;\n"
        "    uwsgi_temp_path %s/uwsgi;\n"
        "    scgi_temp_path %s/scgi;\n"
        "    keepalive_timeout 90s;\n"
        "    keepalive_requests 100000000;\n"
        "    upstream dyno {\n"
        "        server 127.0.0.1:%d;\n"
        "        keepalive 64;\n"
        "        keepalive_requests 100000000;\n"
        "    }\n"
        "    server {\n"
        "        listen 127.0.0.1:%d;\n"
        "        location / {\n"
        "            proxy_pass http://dyno;\n"
        "            proxy_http_version 1.1;\n"
        "            proxy_set_header Connection \"\";\n"
        "            proxy_set_header Host $host;\n"
        "            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;\n"
        "            proxy_set_header X-Forwarded-Proto $scheme;\n"
        "            proxy_set_header X-Forwarded-Port $server_port;\n"
        "            proxy_set_header X-Request-Start $msec;\n"
        "            proxy_set_header X-Request-Id $request_id;\n"
        "            proxy_set_header Via \"1.1 nginx\";\n"
        "        }\n"
        "    }\n"
        "}\n",
        self->workers, prefix, prefix, prefix, prefix, prefix, prefix, prefix, self->dyno_port, self->nginx_http);
    snprintf (path, sizeof path, "%s/nginx.conf", prefix);
    snprintf (log, sizeof log, "%s/stderr.log", prefix);
    if (s_write (path, conf, why, why_len))
        return -1;
    char err_log [400];
    snprintf (err_log, sizeof err_log, "%s/error.log", prefix);
    char pfx [330];
    snprintf (pfx, sizeof pfx, "%s/", prefix);
    char *argv [] = { "nginx", "-p", pfx, "-c", path, "-e", err_log, NULL };
    self->nginx = s_spawn (argv, log);
    if (self->nginx < 0) {
        self->nginx = 0;
        snprintf (why, why_len, "cannot start nginx: %s", strerror (errno));
        return -1;
    }
    int ports [] = { self->nginx_http, 0 };
    int rc = s_wait_ready (self->nginx, ports, "nginx", log, why, why_len);
    if (rc == -2)
        self->nginx = 0;
    return rc ? -1 : 0;
}

void
brt_peers_stop (brt_t *self)
{
    bcm_child_stop (self->haproxy, BRT_STOP_MS);
    bcm_child_stop (self->nginx, BRT_STOP_MS);
    self->haproxy = self->nginx = 0;
}
