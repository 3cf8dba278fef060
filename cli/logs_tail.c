//  logs_tail - `dyno logs --tail`: follow an app's log over log-plex's websocket
//
//  Opens ws://127.0.0.1:PORT/apps/APP/logs?token=...&n=N&tail=1[&filters]
//  (log-plex's websocket; docs/cli.md) with libwebsockets' client, prints
//  the history log-plex sends first, then every new line, until SIGINT or
//  SIGTERM (exit 0). The port: DYNOD_LOGS_PORT, else the credentials
//  file's `logs`, else 7780. The token: the API token the CLI has.
//
//  Each websocket message holds whole lines ending in "\n"; the bytes are
//  gathered across messages and fragments and printed line by line, so a
//  line cut anywhere still prints whole. stdout is flushed after each
//  piece received, so a file or a pipe sees lines as they come.
//
//  When the connection cannot be made or is lost (log-plex restarting),
//  one line on stderr says so and the tail reconnects after 250 ms,
//  doubling to 5 s (cli_logs_backoff_ms), until it is back; then one line
//  says it is. A reconnect asks for the whole history (n=1500) and
//  cli_logs_resume_t skips the lines already printed. A refusal is final:
//  404 (no such app), 401/403 (token), 400 (bad filter) exit 1 with one
//  line.
//
//  One thread. lws' service loop drives everything: the connection, the
//  reconnect timer (an lws_sorted_usec_list_t) and the signals, which are
//  blocked and read from a signalfd that lws polls as a raw file. All the
//  state is in one tail_t, on the stack of cli_logs_tail.

#include "cli.h"
#include "logs_lines.h"
#include "logs_tail.h"

#include <errno.h>
#include <libwebsockets.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#define TAIL_PROTOCOL       "dyno-logs"
#define TAIL_PENDING_MAX    (1024 * 1024)   // bytes of a line without its "\n"

typedef struct {
    cli_t *cli;
    const cli_logs_query_t *query;  // borrowed
    bool colour;
    int port;
    struct lws_context *context;
    lws_sorted_usec_list_t retry;   // the reconnect timer
    unsigned attempt;               // reconnects since the last success
    bool connected;                 // the websocket is open
    bool lost;                      // said on stderr that the stream is lost
    int code;                       // the exit code once decided, else -1
    char *pending;                  // bytes of a line not yet ended, owned
    size_t pending_len;
    size_t pending_cap;
    cli_logs_resume_t resume;
} tail_t;

static void s_connect (tail_t *self);

//  Prints every complete line of the pending bytes; keeps the rest.
static void
s_flush_lines (tail_t *self)
{
    size_t start = 0;
    char *nl;
    while ((nl = memchr (self->pending + start, '\n', self->pending_len - start))) {
        size_t len = (size_t) (nl - (self->pending + start));
        const char *line = self->pending + start;
        if (cli_logs_resume_take (&self->resume, line, len))
            cli_logs_line_print (stdout, line, len, self->colour);
        start += len + 1;
    }
    memmove (self->pending, self->pending + start, self->pending_len - start);
    self->pending_len -= start;
    //  A "line" this long is no log-plex line: print it rather than grow.
    if (self->pending_len > TAIL_PENDING_MAX) {
        cli_logs_line_print (stdout, self->pending, self->pending_len, self->colour);
        self->pending_len = 0;
    }
    //  lws ignores SIGPIPE: a reader that went away (`| head`) shows here.
    if (fflush (stdout) || ferror (stdout)) {
        int e = errno;
        self->code = e == EPIPE ? CLI_EXIT_OK
                   : cli_fail (self->cli, CLI_EXIT_FAIL, "cannot write: %s", strerror (e));
    }
}

static void
s_receive (tail_t *self, const void *data, size_t len)
{
    if (self->pending_len + len > self->pending_cap) {
        while (self->pending_len + len > self->pending_cap)
            self->pending_cap = self->pending_cap ? self->pending_cap * 2 : 64 * 1024;
        self->pending = act_realloc (self->pending, self->pending_cap);
    }
    memcpy (self->pending + self->pending_len, data, len);
    self->pending_len += len;
    s_flush_lines (self);
}

static void
s_on_retry (lws_sorted_usec_list_t *sul)
{
    tail_t *self = lws_container_of (sul, tail_t, retry);
    s_connect (self);
}

//  The stream is gone or never came (`why`): say so once, try again later.
static void
s_lost (tail_t *self, const char *why)
{
    bool was = self->connected;
    self->connected = false;
    self->pending_len = 0;          // a line cut by the loss comes again
    if (self->code >= 0)
        return;
    if (!self->lost && was)
        cli_fail (self->cli, 0, "lost the connection to log-plex at 127.0.0.1:%d (%s); "
                  "reconnecting", self->port, why);
    else if (!self->lost)
        cli_fail (self->cli, 0, "cannot reach log-plex at 127.0.0.1:%d (%s); retrying",
                  self->port, why);
    self->lost = true;
    int ms = cli_logs_backoff_ms (self->attempt++);
    lws_sul_schedule (self->context, 0, &self->retry, s_on_retry, (lws_usec_t) ms * LWS_US_PER_MS);
}

//  A refused handshake: HTTP `status` (0 when lws did not say) and lws'
//  reason. Returns true when final (the exit code is set).
static bool
s_refused (tail_t *self, int status, const char *why)
{
    if (status == 0 && why && strstr (why, "unauthorized"))
        status = 401;
    const char *app = self->query->app;
    if (status == 404)
        self->code = cli_fail (self->cli, CLI_EXIT_FAIL, "no app named '%s'", app);
    else if (status == 401 || status == 403)
        self->code = cli_fail (self->cli, CLI_EXIT_FAIL, "log-plex refused the token for '%s' "
                               "(HTTP %d)", app, status);
    else if (status >= 400 && status < 500)
        self->code = cli_fail (self->cli, CLI_EXIT_FAIL, "log-plex refused the request "
                               "(HTTP %d)", status);
    return self->code >= 0;
}

static int
s_callback (struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len)
{
    (void) user;
    tail_t *self = lws_context_user (lws_get_context (wsi));
    switch (reason) {
        case LWS_CALLBACK_CLIENT_ESTABLISHED:
            self->connected = true;
            self->attempt = 0;
            if (self->lost)
                cli_fail (self->cli, 0, "reconnected to log-plex");
            self->lost = false;
            break;
        case LWS_CALLBACK_CLIENT_RECEIVE:
            s_receive (self, in, len);
            break;
        case LWS_CALLBACK_CLIENT_CONNECTION_ERROR: {
            //  Read before the wsi goes: the handshake's status, if any.
            int status = (int) lws_http_client_http_response (wsi);
            char why [128];
            snprintf (why, sizeof why, "%.*s", in ? (int) len : 0, in ? (const char *) in : "");
            if (!in || !*why)
                snprintf (why, sizeof why, "connection failed");
            if (!s_refused (self, status, why))
                s_lost (self, why);
            break;
        }
        case LWS_CALLBACK_CLIENT_CLOSED:
            s_lost (self, "connection closed");
            break;
        case LWS_CALLBACK_RAW_RX_FILE: {
            //  The signalfd: SIGINT or SIGTERM, the user is done.
            struct signalfd_siginfo info;
            if (read (lws_get_socket_fd (wsi), &info, sizeof info) == (ssize_t) sizeof info)
                self->code = CLI_EXIT_OK;
            lws_cancel_service (self->context);
            break;
        }
        default:
            break;
    }
    return 0;
}

static void
s_connect (tail_t *self)
{
    if (self->code >= 0)
        return;
    //  After lines were printed, ask for all the history: the lines sent
    //  while the tail was away are in it; the resume filter drops the rest.
    long num = cli_logs_resume_any (&self->resume) ? CLI_LOGS_NUM_MAX : self->query->num;
    cli_logs_resume_reconnected (&self->resume);
    char *path = cli_logs_tail_path (self->query, self->cli->token, num);
    char host [32];
    snprintf (host, sizeof host, "127.0.0.1:%d", self->port);
    struct lws_client_connect_info info = {
        .context = self->context,
        .address = "127.0.0.1",
        .port = self->port,
        .path = path,
        .host = host,
        .origin = NULL,         // no Origin: log-plex takes that as a CLI
        .protocol = NULL,
        .ietf_version_or_minus_one = -1,
        .local_protocol_name = TAIL_PROTOCOL,
    };
    struct lws *wsi = lws_client_connect_via_info (&info);
    free (path);
    if (!wsi)
        s_lost (self, "cannot start a connection");
}

//  The token and the port, as main.c finds the broker's credentials:
//  the token from --token, else DYNOD_API_TOKEN, else the credentials
//  file's `token`; the port from DYNOD_LOGS_PORT, else the credentials
//  file's `logs` (a port number, should `dynod up` record one), else 7780.
//  Sets cli->token (when found) and returns the port, or 0 after printing
//  why not, with *code_p the exit code.
static int
s_credentials (cli_t *cli, int *code_p)
{
    const char *env = getenv ("DYNOD_API_TOKEN");
    if (!cli->token && env && *env)
        cli->token = act_strdup (env);
    const char *base = getenv ("XDG_CONFIG_HOME");
    char *path = base && *base ? act_sprintf ("%s/dynod/credentials", base)
                               : act_sprintf ("%s/.config/dynod/credentials",
                                              getenv ("HOME") ? getenv ("HOME") : "/root");
    json_t *creds = json_load_file (path, 0, NULL);
    free (path);
    json_t *token = json_object_get (creds, "token");
    if (!cli->token && json_is_string (token))
        cli->token = act_strdup (json_string_value (token));
    json_t *logs = json_object_get (creds, "logs");
    int port = CLI_LOGS_PORT_DEFAULT;
    env = getenv ("DYNOD_LOGS_PORT");
    if (env && *env) {
        if (!(port = cli_logs_port_parse (env)))
            *code_p = cli_fail (cli, CLI_EXIT_USAGE, "DYNOD_LOGS_PORT is not a port number: "
                                "'%s'", env);
    }
    else if (json_is_integer (logs) && json_integer_value (logs) > 0
             && json_integer_value (logs) < 65536)
        port = (int) json_integer_value (logs);
    else if (json_is_string (logs) && cli_logs_port_parse (json_string_value (logs)))
        port = cli_logs_port_parse (json_string_value (logs));
    json_decref (creds);
    if (port && !cli->token) {
        *code_p = cli_fail (cli, CLI_EXIT_NOBROKER, "no API token: run `dynod up`, or set "
                            "DYNOD_API_TOKEN or --token");
        port = 0;
    }
    return port;
}

//  Blocks SIGINT and SIGTERM and returns a signalfd for them (-1 on
//  failure, the signals unblocked again). `old` gets the previous mask.
static int
s_signals (sigset_t *old)
{
    sigset_t set;
    sigemptyset (&set);
    sigaddset (&set, SIGINT);
    sigaddset (&set, SIGTERM);
    if (sigprocmask (SIG_BLOCK, &set, old))
        return -1;
    int fd = signalfd (-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
    if (fd < 0)
        sigprocmask (SIG_SETMASK, old, NULL);
    return fd;
}

int
cli_logs_tail (cli_t *cli, const cli_logs_query_t *query, bool colour)
{
    tail_t self = { .cli = cli, .query = query, .colour = colour, .code = -1 };
    //  No broker: the tail needs only log-plex, and goes on while the
    //  broker restarts.
    int code = CLI_EXIT_USAGE;
    if (!(self.port = s_credentials (cli, &code)))
        return code;
    cli_logs_resume_init (&self.resume);
    lws_set_log_level (0, NULL);

    static const struct lws_protocols protocols [] = {
        { TAIL_PROTOCOL, s_callback, 0, 0, 0, NULL, 0 },
        { NULL, NULL, 0, 0, 0, NULL, 0 },
    };
    struct lws_context_creation_info info = {
        .port = CONTEXT_PORT_NO_LISTEN,
        .protocols = protocols,
        .gid = -1,
        .uid = -1,
        .user = &self,
    };
    sigset_t old;
    int sigfd = s_signals (&old);
    self.context = sigfd >= 0 ? lws_create_context (&info) : NULL;
    if (!self.context) {
        if (sigfd >= 0) {
            close (sigfd);
            sigprocmask (SIG_SETMASK, &old, NULL);
        }
        cli_logs_resume_release (&self.resume);
        return cli_fail (cli, CLI_EXIT_FAIL, "cannot set up the websocket client");
    }
    //  Adopted, the signalfd belongs to lws, which closes it with the
    //  context.
    lws_sock_file_fd_type fd = { .filefd = sigfd };
    bool adopted = lws_adopt_descriptor_vhost (lws_get_vhost_by_name (self.context, "default"),
                                               LWS_ADOPT_RAW_FILE_DESC, fd, TAIL_PROTOCOL, NULL);
    if (!adopted)
        self.code = cli_fail (cli, CLI_EXIT_FAIL, "cannot watch for Ctrl-C");

    s_connect (&self);
    while (self.code < 0)
        if (lws_service (self.context, 0) < 0)
            self.code = cli_fail (cli, CLI_EXIT_FAIL, "the websocket client failed");

    lws_sul_cancel (&self.retry);
    lws_context_destroy (self.context);
    if (!adopted)
        close (sigfd);
    sigprocmask (SIG_SETMASK, &old, NULL);
    fflush (stdout);
    cli_logs_resume_release (&self.resume);
    free (self.pending);
    return self.code;
}
