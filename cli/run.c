//  dyno run, run:detached - one-off dynos (scheduler, then the supervisor)
//
//  run.start goes to the scheduler, which places the dyno and answers
//  run.started (name, id, the supervisor's address). Attached (`dyno run`):
//  the supervisor streams run.output to this client and ends with
//  run.exit; stdin goes to it as run.input (binary safe, then eof), an
//  empty run.input every RUN_KEEPALIVE_MS keeps the dyno attached, Ctrl-C
//  is forwarded as SIGINT, and the command exits with the remote status.
//  On a terminal stdin is put in raw mode (restored on exit) and the dyno
//  gets a pseudo-terminal of the same size; piped, bytes pass as they are.
//  Detached (`run:detached`): the output goes to the app's logs.
//
//  Options stop at the first operand, so `dyno run ls -la` runs `ls -la`.

#include "cli.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>
#include <zmq.h>

#define RUN_ACTOR           "scheduler"
#define RUN_KEEPALIVE_MS    5000
#define RUN_POLL_MS         200
#define RUN_CHUNK           16384
#define RUN_EARLY_MAX       4096    // messages held before run.started
#define RUN_SIGINT_LIMIT    3       // the third Ctrl-C leaves at once
#define RUN_EXIT_SIGINT     130
#define RUN_STATE_POLL_MS   100     // how often to ask whether the dyno runs

typedef struct {
    const char *size;           // --size, borrowed from argv
    json_t *env;                // -e K=V ..., owned
    const char *bad_env;        // the first -e that is not K=V
} run_args_t;

static const cli_option_t s_options [] = {
    { "size", 's', CLI_OPT_ARG },
    { "env", 'e', CLI_OPT_ARG },
    { "exit-code", 'x', 0 },
    { NULL, 0, 0 },
};

//  -e takes `K=V`, or several separated by `;` as Heroku's does.
static int
s_option (cli_t *cli, int key, const char *arg, void *data)
{
    (void) cli;
    run_args_t *args = data;
    if (key == 's')
        args->size = arg;
    else if (key == 'e') {
        char *copy = act_strdup (arg), *save = NULL;
        for (char *pair = strtok_r (copy, ";", &save); pair; pair = strtok_r (NULL, ";", &save)) {
            char *eq = strchr (pair, '=');
            if (!eq || eq == pair) {
                if (!args->bad_env)
                    args->bad_env = arg;
                continue;
            }
            *eq = 0;
            json_object_set_new (args->env, pair, json_string (eq + 1));
        }
        free (copy);
    }
    return -1;
}

//  argv [optind..] joined by spaces. Caller owns result.
static char *
s_command (int argc, char **argv)
{
    size_t len = 1;
    for (int i = optind; i < argc; i++)
        len += strlen (argv [i]) + 1;
    char *command = act_calloc (1, len);
    for (int i = optind; i < argc; i++) {
        if (i > optind)
            strcat (command, " ");
        strcat (command, argv [i]);
    }
    return command;
}

//  Parses the arguments. Returns -1 with *app_p and *command_p set (caller
//  owns both), or the exit code.
static int
s_parse (cli_t *cli, int argc, char **argv, const cli_spec_t *spec, run_args_t *args,
         char **app_p, char **command_p)
{
    *command_p = NULL;
    //  Options end at the command: glibc's getopt stops at the first
    //  operand when POSIXLY_CORRECT is set.
    setenv ("POSIXLY_CORRECT", "1", 1);
    int code = cli_parse (cli, argc, argv, spec, args, app_p);
    unsetenv ("POSIXLY_CORRECT");
    if (code >= 0)
        return code;
    if (args->bad_env) {
        free (*app_p);
        *app_p = NULL;
        return cli_fail (cli, CLI_EXIT_USAGE, "-e takes KEY=VALUE, not '%s'", args->bad_env);
    }
    *command_p = s_command (argc, argv);
    return -1;
}

//  Sends run.start and waits for run.started, holding what comes before
//  it in `early` (room for `early_cap`). Returns 0 with *started_p set (caller owns), or the exit
//  code after printing.
static int
s_start (cli_t *cli, const char *app, const char *command, const run_args_t *args, bool attach,
         bool tty, msg_t **early, size_t early_cap, size_t *early_n, msg_t **started_p)
{
    *started_p = NULL;
    act_client_t *client = cli_client (cli);
    if (!client)
        return CLI_EXIT_NOBROKER;
    msg_t *req = act_client_msg_new (client, MSG_TYPE_RUN_START, RUN_ACTOR);
    msg_set_str (req, "app", app);
    msg_set_str (req, "command", command);
    msg_set_bool (req, "attach", attach);
    if (args->size)
        msg_set_str (req, "size", args->size);
    if (json_object_size (args->env))
        msg_set_json (req, "env", json_deep_copy (args->env));
    if (tty) {
        struct winsize ws;
        msg_set_bool (req, "tty", true);
        if (ioctl (STDIN_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col && ws.ws_row) {
            msg_set_int (req, "cols", ws.ws_col);
            msg_set_int (req, "rows", ws.ws_row);
        }
    }
    msg_set_str (req, "by", cli_user ());
    char id [MSG_ID_LEN + 1];
    snprintf (id, sizeof id, "%s", req->id);
    if (act_client_send (client, &req))
        return cli_fail (cli, CLI_EXIT_NOBROKER, "cannot send to the broker");
    int64_t deadline = act_mono_ms () + CLI_TIMEOUT_MS;
    while (act_mono_ms () < deadline) {
        int rc;
        msg_t *msg = act_client_recv (client, (int) (deadline - act_mono_ms ()) + 1, &rc);
        if (!msg)
            break;
        if (strcmp (msg->corr, id) == 0 && msg->type->id == MSG_TYPE_RUN_STARTED) {
            *started_p = msg;
            return CLI_EXIT_OK;
        }
        if (strcmp (msg->corr, id) == 0 && msg->type->id == MSG_TYPE_ERROR) {
            int code = cli_fail (cli, CLI_EXIT_FAIL, "%s", msg_str (msg, "reason", "refused"));
            msg_destroy (&msg);
            return code;
        }
        if (*early_n < early_cap && (msg->type->id == MSG_TYPE_RUN_OUTPUT
                                         || msg->type->id == MSG_TYPE_RUN_EXIT))
            early [(*early_n)++] = msg;
        else
            msg_destroy (&msg);
    }
    return cli_fail (cli, CLI_EXIT_FAIL, "no answer from the scheduler");
}

// ---------------------------------------------------------------------------
//  Attached

typedef struct {
    cli_t *cli;
    act_client_t *client;
    const char *id;             // the dyno's, borrowed from run.started
    const char *supervisor;     // where run.input goes, borrowed
    int64_t last_input;         // act_mono_ms of the last run.input
    int status;                 // the remote status once run.exit came, else -1
    int sigints;
    const char *app;            // borrowed
    bool running;               // its supervisor reported it up: stdin may go
    char asked [MSG_ID_LEN + 1];    // id of the last ps.list sent, or ""
    int64_t asked_at;           // act_mono_ms of it
} run_session_t;

static void
s_input (run_session_t *self, const char *data, size_t len, bool eof, int signal_no)
{
    msg_t *in = act_client_msg_new (self->client, MSG_TYPE_RUN_INPUT, self->supervisor);
    msg_set_str (in, "id", self->id);
    if (len)
        msg_set_json (in, "data", json_stringn_nocheck (data, len));
    if (eof)
        msg_set_bool (in, "eof", true);
    if (signal_no)
        msg_set_int (in, "signal", signal_no);
    act_client_send (self->client, &in);
    self->last_input = act_mono_ms ();
}

static void
s_write_all (int fd, const char *data, size_t len)
{
    while (len > 0) {
        ssize_t n = write (fd, data, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return;
        data += n;
        len -= (size_t) n;
    }
}

//  A supervisor drops run.input for a dyno it has not started yet, so
//  stdin waits until ps lists the dyno as running (or ended). The ps.list
//  goes out as a plain send and its answer comes through s_on_msg, so no
//  run.output is lost meanwhile.
static void
s_ask_state (run_session_t *self)
{
    if (self->running || act_mono_ms () - self->asked_at < RUN_STATE_POLL_MS)
        return;
    msg_t *req = act_client_msg_new (self->client, MSG_TYPE_PS_LIST, RUN_ACTOR);
    msg_set_str (req, "app", self->app);
    snprintf (self->asked, sizeof self->asked, "%s", req->id);
    self->asked_at = act_mono_ms ();
    act_client_send (self->client, &req);
}

static void
s_on_state (run_session_t *self, const msg_t *reply)
{
    size_t i;
    json_t *dyno;
    json_array_foreach (json_object_get (reply->body, "dynos"), i, dyno) {
        const char *id = json_string_value (json_object_get (dyno, "id"));
        const char *state = json_string_value (json_object_get (dyno, "state"));
        if (id && state && strcmp (id, self->id) == 0 && strcmp (state, "starting") != 0)
            self->running = true;
    }
}

//  One message from the supervisor (or the scheduler's ps.list.reply);
//  consumed.
static void
s_on_msg (run_session_t *self, msg_t **msg_p)
{
    msg_t *msg = *msg_p;
    if (msg->type->id == MSG_TYPE_PS_LIST_REPLY && strcmp (msg->corr, self->asked) == 0)
        s_on_state (self, msg);
    else if (strcmp (msg_str (msg, "id", ""), self->id) == 0) {
        if (msg->type->id == MSG_TYPE_RUN_OUTPUT) {
            json_t *data = json_object_get (msg->body, "data");
            s_write_all (strcmp (msg_str (msg, "stream", ""), "stderr") == 0 ? STDERR_FILENO
                                                                            : STDOUT_FILENO,
                         json_string_value (data), json_string_length (data));
        }
        else if (msg->type->id == MSG_TYPE_RUN_EXIT) {
            self->status = (int) msg_int (msg, "status", 1);
            const char *reason = msg_str (msg, "reason", "");
            if (*reason)
                fprintf (stderr, "dyno run: %s\n", reason);
        }
    }
    msg_destroy (msg_p);
}

//  The signal self-pipe: the handler writes the signal's number.
static int s_sig_fd = -1;

static void
s_on_signal (int sig)
{
    unsigned char byte = (unsigned char) sig;
    int saved = errno;
    if (write (s_sig_fd, &byte, 1) < 0) {
        //  Nothing to do: a full pipe already holds a pending signal.
    }
    errno = saved;
}

//  Relays until run.exit. Returns the remote status.
static int
s_relay (run_session_t *self, bool tty)
{
    int sig_pipe [2];
    if (pipe (sig_pipe) == 0) {
        fcntl (sig_pipe [0], F_SETFL, O_NONBLOCK);
        fcntl (sig_pipe [1], F_SETFL, O_NONBLOCK);
        s_sig_fd = sig_pipe [1];
        struct sigaction sa = { .sa_handler = s_on_signal };
        sigaction (SIGINT, &sa, NULL);
        sigaction (SIGWINCH, &sa, NULL);
    }
    else
        sig_pipe [0] = sig_pipe [1] = -1;
    void *sock = act_client_socket (self->client);
    bool stdin_open = true;
    char buf [RUN_CHUNK];
    while (self->status < 0) {
        zmq_pollitem_t items [3] = {
            { sock, 0, ZMQ_POLLIN, 0 },
            { NULL, sig_pipe [0], ZMQ_POLLIN, 0 },
            { NULL, STDIN_FILENO, ZMQ_POLLIN, 0 },
        };
        s_ask_state (self);
        int n = stdin_open && self->running ? 3 : 2;
        if (zmq_poll (items, n, RUN_POLL_MS) < 0 && errno != EINTR)
            break;
        if (n == 3 && (items [2].revents & (ZMQ_POLLIN | ZMQ_POLLERR))) {
            ssize_t got = read (STDIN_FILENO, buf, sizeof buf);
            if (got > 0)
                s_input (self, buf, (size_t) got, false, 0);
            else if (got == 0 || (errno != EINTR && errno != EAGAIN)) {
                stdin_open = false;
                s_input (self, NULL, 0, true, 0);
            }
        }
        unsigned char sig;
        while (sig_pipe [0] >= 0 && read (sig_pipe [0], &sig, 1) == 1) {
            if (sig == SIGINT && ++self->sigints >= RUN_SIGINT_LIMIT)
                self->status = RUN_EXIT_SIGINT;
            else if (sig == SIGINT)
                s_input (self, NULL, 0, false, SIGINT);
            else if (sig == SIGWINCH && tty) {
                struct winsize ws;
                if (ioctl (STDIN_FILENO, TIOCGWINSZ, &ws) == 0) {
                    msg_t *in = act_client_msg_new (self->client, MSG_TYPE_RUN_INPUT, self->supervisor);
                    msg_set_str (in, "id", self->id);
                    msg_set_int (in, "cols", ws.ws_col);
                    msg_set_int (in, "rows", ws.ws_row);
                    act_client_send (self->client, &in);
                }
            }
        }
        //  Drains what came; act_client_recv also heartbeats the broker.
        int rc;
        msg_t *msg;
        while (self->status < 0 && (msg = act_client_recv (self->client, 1, &rc)))
            s_on_msg (self, &msg);
        if (act_mono_ms () - self->last_input >= RUN_KEEPALIVE_MS)
            s_input (self, NULL, 0, false, 0);
    }
    if (sig_pipe [0] >= 0) {
        signal (SIGINT, SIG_DFL);
        signal (SIGWINCH, SIG_DFL);
        s_sig_fd = -1;
        close (sig_pipe [0]);
        close (sig_pipe [1]);
    }
    return self->status;
}

static int
s_attached (cli_t *cli, const char *app, const char *command, const run_args_t *args)
{
    bool tty = isatty (STDIN_FILENO) && isatty (STDOUT_FILENO);
    msg_t *early [RUN_EARLY_MAX];
    size_t early_n = 0;
    msg_t *started;
    int code = s_start (cli, app, command, args, true, tty, early, RUN_EARLY_MAX, &early_n,
                        &started);
    if (code) {
        for (size_t i = 0; i < early_n; i++)
            msg_destroy (&early [i]);
        return code;
    }
    fprintf (stderr, "Running %s on ⬢ %s... up, %s\n", command, app, msg_str (started, "dyno", ""));
    run_session_t session = {
        .cli = cli, .client = cli_client (cli), .id = msg_str (started, "id", ""),
        .supervisor = msg_str (started, "supervisor", ""), .last_input = act_mono_ms (),
        .status = -1, .app = app,
    };
    for (size_t i = 0; i < early_n; i++)
        s_on_msg (&session, &early [i]);
    struct termios saved;
    bool raw = tty && tcgetattr (STDIN_FILENO, &saved) == 0;
    if (raw) {
        struct termios mode = saved;
        cfmakeraw (&mode);
        tcsetattr (STDIN_FILENO, TCSANOW, &mode);
    }
    int status = session.status >= 0 ? session.status : s_relay (&session, tty);
    if (raw)
        tcsetattr (STDIN_FILENO, TCSANOW, &saved);
    msg_destroy (&started);
    return status;
}

int
cli_cmd_run (cli_t *cli, int argc, char **argv)
{
    static const cli_spec_t spec = {
        .usage = "usage: dyno run [-a APP] [-s SIZE] [-e K=V] [-x] [--] COMMAND...\n"
                 "Runs COMMAND in a one-off dyno attached to this terminal: stdin, stdout and\n"
                 "stderr are relayed, and dyno run exits with the command's status (-x,\n"
                 "--exit-code: the same, as Heroku's flag). A first word that names a Procfile\n"
                 "process type runs its command (dyno run worker 42). -e adds environment\n"
                 "variables (K=V, or K=V;K2=V2). Ctrl-C is sent to the dyno; the third leaves.\n"
                 CLI_USAGE_APP,
        .takes_app = true,
        .options = s_options,
        .option = s_option,
        .min_operands = 1,
        .max_operands = CLI_OPERANDS_ANY,
        .too_few = "what command? (dyno run bash)",
    };
    run_args_t args = { .env = json_object () };
    char *app, *command;
    int code = s_parse (cli, argc, argv, &spec, &args, &app, &command);
    if (code < 0) {
        code = s_attached (cli, app, command, &args);
        free (app);
        free (command);
    }
    json_decref (args.env);
    return code;
}

//  The size of one-off `dyno` as ps lists it, into `out` (Standard-1X).
static void
s_dyno_size (cli_t *cli, const char *app, const char *dyno, char *out, size_t len)
{
    snprintf (out, len, "%s", "standard-1x");
    msg_t *req = cli_app_request (cli, MSG_TYPE_PS_LIST, RUN_ACTOR, "app", app);
    msg_t *reply = NULL;
    if (req && act_client_call (cli_client (cli), &req, CLI_TIMEOUT_MS, &reply) == 0) {
        size_t i;
        json_t *entry;
        json_array_foreach (json_object_get (reply->body, "dynos"), i, entry)
            if (strcmp (json_string_value (json_object_get (entry, "name")), dyno) == 0
            &&  json_is_string (json_object_get (entry, "size")))
                snprintf (out, len, "%s", json_string_value (json_object_get (entry, "size")));
    }
    msg_destroy (&reply);
    //  Display form: Standard-1X.
    bool start = true;
    for (size_t i = 0; out [i]; i++) {
        bool after_digit = i > 0 && out [i - 1] >= '0' && out [i - 1] <= '9';
        if (start || (out [i] == 'x' && after_digit))
            out [i] = (char) (out [i] >= 'a' && out [i] <= 'z' ? out [i] - 'a' + 'A' : out [i]);
        start = out [i] == '-';
    }
}

int
cli_cmd_run_detached (cli_t *cli, int argc, char **argv)
{
    static const cli_spec_t spec = {
        .usage = "usage: dyno run:detached [-a APP] [-s SIZE] [-e K=V] [--] COMMAND...\n"
                 "Runs COMMAND in a one-off dyno in the background; its output goes to the\n"
                 "app's logs (dyno logs --dyno run.N).\n"
                 CLI_USAGE_APP,
        .takes_app = true,
        .options = s_options,
        .option = s_option,
        .min_operands = 1,
        .max_operands = CLI_OPERANDS_ANY,
        .too_few = "what command? (dyno run:detached ./migrate)",
    };
    run_args_t args = { .env = json_object () };
    char *app, *command;
    int code = s_parse (cli, argc, argv, &spec, &args, &app, &command);
    if (code < 0) {
        msg_t *early [1];
        size_t early_n = 0;
        msg_t *started;
        code = s_start (cli, app, command, &args, false, false, early, 0, &early_n, &started);
        if (code == CLI_EXIT_OK && cli->json)
            cli_print_json (started->body);
        else if (code == CLI_EXIT_OK) {
            const char *dyno = msg_str (started, "dyno", "");
            char size [40];
            s_dyno_size (cli, app, dyno, size, sizeof size);
            printf ("Running %s on ⬢ %s... done, %s (%s)\n", command, app, dyno, size);
            printf ("Run dyno logs --app %s --dyno %s to view the output.\n", app, dyno);
        }
        msg_destroy (&started);
        free (app);
        free (command);
    }
    json_decref (args.env);
    return code;
}
