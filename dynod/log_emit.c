//  dnd log-emit - send log lines to log-plex as any source
//
//  Usage: dynod log-emit --app APP --source app|dynod --process NAME
//                        [--broker EP] [--batch N] [--batch-ms T] [TEXT...]
//  Each TEXT is one line; without any, every line of stdin is one (sent as
//  they come, so a pipe that stays open streams). Lines go to log-plex in
//  `log.batch` stream messages through the broker: a batch leaves when it
//  holds N lines (default 100), or T ms (default 50) after its first line
//  came, or at the end of the input, whichever is first. Each line is
//  stamped with the wall clock in µs when it is read.
//
//  The test tool for log-plex until dynos exist: it lets a test inject
//  lines as an app's process (`app[web.1]`) or as the platform
//  (`dynod[router]`, `dynod[api]`). It is a client like the CLI: the
//  broker from --broker, else DYNOD_BROKER, else the credentials file's;
//  the token from DYNOD_API_TOKEN, else the credentials file's, else
//  <data>/api-token (--data DIR, else the default data directory).
//
//  Exit codes: 0 sent, 1 failure (a line could not be sent, stdin
//  unreadable), 2 usage error, 3 cannot reach the broker.

#include "dynod.h"
#include "log_emit.h"
#include "../actors/common/act_client.h"
#include "../messages/msg_logbatch.h"

#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define EMIT_BATCH_DEFAULT      100
#define EMIT_BATCH_MAX          10000
#define EMIT_BATCH_MS_DEFAULT   50
#define EMIT_BATCH_MS_MAX       60000
//  Bytes of text in one batch: well under MSG_MAX_SIZE with the framing.
#define EMIT_BATCH_BYTES        (MSG_MAX_SIZE / 2)
#define EMIT_TIMEOUT_MS         5000
#define EMIT_READ_SIZE          65536

typedef struct {
    const char *app;            // borrowed from argv, like the next two
    const char *source;
    const char *process;
    const char *broker;         // NULL: DYNOD_BROKER or the credentials'
    const char *data;           // NULL: the default data directory
    long batch;
    long batch_ms;
    act_client_t *client;       // owned
    msg_logbatch_t lines;       // the batch being filled, owned
    size_t bytes;               // text bytes in `lines`
    int64_t first_ms;           // monotonic ms the batch's first line came
    int code;                   // DND_EXIT_OK until a send fails
} emit_t;

//  A decimal in min..max from `text`, or 0.
static long
s_count (const char *text, long min, long max)
{
    char *end;
    errno = 0;
    long n = strtol (text, &end, 10);
    return *text >= '0' && *text <= '9' && !errno && !*end && n >= min && n <= max ? n : 0;
}

//  Sends the batch, if it holds a line, and starts a new one.
static void
s_flush (emit_t *self)
{
    if (self->lines.lines == 0)
        return;
    msg_t *batch = act_client_msg_new (self->client, MSG_TYPE_LOG_BATCH, "log-plex");
    msg_set_str (batch, "app", self->app);
    msg_set_json (batch, "lines", msg_logbatch_take (&self->lines));
    self->bytes = 0;
    int rc = act_client_send (self->client, &batch);
    if (rc && self->code == DND_EXIT_OK) {
        fprintf (stderr, "dynod log-emit: cannot send a batch: %s\n", act_strerror (rc));
        self->code = DND_EXIT_FAIL;
    }
}

//  Adds one line (`len` bytes, any bytes) to the batch, sending it first
//  when the line would not fit, and after when it is full.
static void
s_add (emit_t *self, const char *text, size_t len)
{
    if (self->bytes + len > EMIT_BATCH_BYTES)
        s_flush (self);
    if (self->lines.lines == 0)
        self->first_ms = act_mono_ms ();
    //  The source and process were checked by s_parse: this cannot fail.
    msg_logbatch_add (&self->lines, act_wall_us (), self->source, self->process, text, len);
    self->bytes += len;
    if ((long) self->lines.lines >= self->batch)
        s_flush (self);
}

//  Every line of stdin, batched as they come. Returns an exit code.
static int
s_from_stdin (emit_t *self)
{
    size_t cap = EMIT_READ_SIZE, len = 0;
    char *buf = act_malloc (cap);
    for (;;) {
        //  Wait for input no longer than the open batch may wait.
        int timeout = -1;
        if (self->lines.lines) {
            int64_t left = self->first_ms + self->batch_ms - act_mono_ms ();
            if (left <= 0) {
                s_flush (self);
                continue;
            }
            timeout = (int) left;
        }
        struct pollfd pfd = { .fd = STDIN_FILENO, .events = POLLIN };
        int n = poll (&pfd, 1, timeout);
        if (n < 0 && errno == EINTR)
            continue;
        if (n == 0)
            continue;               // the batch is due: sent at the top
        if (cap - len < EMIT_READ_SIZE) {
            cap *= 2;
            buf = act_realloc (buf, cap);
        }
        ssize_t got = n < 0 ? -1 : read (STDIN_FILENO, buf + len, cap - len);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0) {
            fprintf (stderr, "dynod log-emit: cannot read stdin: %s\n", strerror (errno));
            free (buf);
            return DND_EXIT_FAIL;
        }
        if (got == 0)
            break;
        len += (size_t) got;
        size_t start = 0;
        char *nl;
        while ((nl = memchr (buf + start, '\n', len - start))) {
            size_t end = (size_t) (nl - buf);
            s_add (self, buf + start, end > start && buf [end - 1] == '\r' ? end - 1 - start
                                                                          : end - start);
            start = end + 1;
        }
        memmove (buf, buf + start, len - start);
        len -= start;
    }
    if (len)                        // a last line without its newline
        s_add (self, buf, len);
    free (buf);
    return DND_EXIT_OK;
}

//  The token: DYNOD_API_TOKEN, else the credentials file's, else
//  <data>/api-token. Caller owns result; NULL when there is none.
static char *
s_token (const char *data)
{
    const char *env = getenv ("DYNOD_API_TOKEN");
    if (env && *env)
        return act_strdup (env);
    char *path = dnd_credentials_path ();
    json_t *creds = json_load_file (path, 0, NULL);
    free (path);
    json_t *token = json_object_get (creds, "token");
    char *result = json_is_string (token) ? act_strdup (json_string_value (token)) : NULL;
    json_decref (creds);
    if (!result) {
        char *dir = data ? act_strdup (data) : dnd_default_data_dir ();
        result = dnd_token_for (dir);
        free (dir);
    }
    return result;
}

static const char s_usage [] =
    "usage: dynod log-emit --app APP --source app|dynod --process NAME [--broker EP]\n"
    "                      [--data DIR] [--batch N] [--batch-ms T] [TEXT...]\n"
    "Sends log lines to log-plex as any source: each TEXT is a line; without any,\n"
    "each line of stdin (sent as it comes). A batch leaves at N lines (default 100,\n"
    "at most 10000) or T ms after its first line (default 50). The broker: --broker,\n"
    "else DYNOD_BROKER, else the credentials file's; the token: DYNOD_API_TOKEN, else\n"
    "the credentials file's, else DIR/api-token.\n";

//  Parses the options into `self`. Returns -1 to go on, or an exit code.
static int
s_parse (emit_t *self, int argc, char **argv)
{
    static const struct option opts [] = {
        { "app", required_argument, NULL, 'a' },
        { "source", required_argument, NULL, 's' },
        { "process", required_argument, NULL, 'p' },
        { "broker", required_argument, NULL, 'b' },
        { "data", required_argument, NULL, 'd' },
        { "batch", required_argument, NULL, 'n' },
        { "batch-ms", required_argument, NULL, 'm' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    int c;
    while ((c = getopt_long (argc, argv, "a:s:p:b:d:n:m:h", opts, NULL)) != -1) {
        switch (c) {
            case 'a': self->app = optarg; break;
            case 's': self->source = optarg; break;
            case 'p': self->process = optarg; break;
            case 'b': self->broker = optarg; break;
            case 'd': self->data = optarg; break;
            case 'n':
                if (!(self->batch = s_count (optarg, 1, EMIT_BATCH_MAX))) {
                    fprintf (stderr, "dynod log-emit: --batch takes 1 to %d lines, not '%s'\n",
                             EMIT_BATCH_MAX, optarg);
                    return DND_EXIT_USAGE;
                }
                break;
            case 'm':
                if (!(self->batch_ms = s_count (optarg, 1, EMIT_BATCH_MS_MAX))) {
                    fprintf (stderr, "dynod log-emit: --batch-ms takes 1 to %d ms, not '%s'\n",
                             EMIT_BATCH_MS_MAX, optarg);
                    return DND_EXIT_USAGE;
                }
                break;
            case 'h': fputs (s_usage, stdout); return DND_EXIT_OK;
            default: return DND_EXIT_USAGE;
        }
    }
    const char *missing = !self->app ? "--app" : !self->source ? "--source"
                        : !self->process ? "--process" : NULL;
    if (missing) {
        fprintf (stderr, "dynod log-emit: %s is required (see --help)\n", missing);
        return DND_EXIT_USAGE;
    }
    //  log-plex refuses a whole batch with a line of another source or a
    //  bad process name: refuse them here, with the reason.
    if (!msg_logbatch_source_ok (self->source)) {
        fprintf (stderr, "dynod log-emit: --source takes app or dynod, not '%s'\n", self->source);
        return DND_EXIT_USAGE;
    }
    if (!*self->app) {
        fprintf (stderr, "dynod log-emit: --app takes a non-empty name\n");
        return DND_EXIT_USAGE;
    }
    if (!msg_logbatch_process_ok (self->process)) {
        fprintf (stderr, "dynod log-emit: --process takes 1 to %d of [A-Za-z0-9._-], not '%s'\n",
                 MSG_LOGBATCH_NAME_MAX, self->process);
        return DND_EXIT_USAGE;
    }
    return -1;
}

int
dnd_cmd_log_emit (int argc, char **argv)
{
    emit_t self = { .batch = EMIT_BATCH_DEFAULT, .batch_ms = EMIT_BATCH_MS_DEFAULT };
    int code = s_parse (&self, argc, argv);
    if (code >= 0)
        return code;
    char *token = s_token (self.data);
    if (!token) {
        fprintf (stderr, "dynod log-emit: no API token: run `dynod up`, or set DYNOD_API_TOKEN\n");
        return DND_EXIT_NOBROKER;
    }
    char *endpoint = self.broker ? act_strdup (self.broker) : dnd_broker_endpoint ();
    int rc;
    self.client = act_client_new (endpoint, token, "log-emit", EMIT_TIMEOUT_MS, &rc);
    free (token);
    if (!self.client) {
        fprintf (stderr, "dynod log-emit: cannot reach the broker at %s: %s\n", endpoint,
                 act_strerror (rc));
        free (endpoint);
        return DND_EXIT_NOBROKER;
    }
    free (endpoint);
    if (optind < argc)
        for (int i = optind; i < argc; i++)
            s_add (&self, argv [i], strlen (argv [i]));
    else
        code = s_from_stdin (&self);
    s_flush (&self);
    msg_logbatch_release (&self.lines);
    //  Destroying the client lingers until the batches are out.
    act_client_destroy (&self.client);
    return code > 0 ? code : self.code;
}
