//  dnd up - start the broker and the actors, supervise them Erlang-style
//
//  Owns the child table. Each child is a separate process (`dynod broker`,
//  `dynod actor NAME`). A child that dies is restarted at once; one that
//  dies more than --max-restarts times within --restart-window seconds is
//  given up on and reported. Prints one ready line once the broker answers
//  and every actor has registered, writes the CLI credentials file, and on
//  SIGTERM/SIGINT stops the actors, then the broker, and exits 0.
//
//  Child states: RUNNING --exit--> RUNNING (restarted) or GAVE_UP.

#include "dynod.h"
#include "../actors/common/act_client.h"

#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define UP_CHILDREN_MAX   8
#define UP_READY_TIMEOUT  30000     // ms for everything to register
#define UP_STOP_TIMEOUT   10000     // ms before SIGKILL

typedef enum { CHILD_RUNNING, CHILD_GAVE_UP } child_state_t;

typedef struct {
    char name [64];
    char *argv [12];                // owned strings
    pid_t pid;
    child_state_t state;
    int64_t *deaths;                // ring of the last max_restarts+1 deaths
    size_t death_count;
} up_child_t;

typedef struct {
    char *data;
    char *endpoint;
    char *token;
    char exe [4096];
    bool join;
    int max_restarts;
    int window_s;
    up_child_t children [UP_CHILDREN_MAX];
    size_t child_count;
    int sigfd;
} up_t;

static void
s_child_spawn (up_child_t *child)
{
    pid_t pid = fork ();
    if (pid == 0) {
        sigset_t none;
        sigemptyset (&none);
        sigprocmask (SIG_SETMASK, &none, NULL);
        signal (SIGTERM, SIG_DFL);
        signal (SIGINT, SIG_IGN);       // Ctrl-C reaches us; we stop children in order
        signal (SIGCHLD, SIG_DFL);
        //  Our stdout carries the one ready line; children log to stderr.
        dup2 (STDERR_FILENO, STDOUT_FILENO);
        execv (child->argv [0], child->argv);
        _exit (127);
    }
    child->pid = pid;
}

static up_child_t *
s_child_add (up_t *self, const char *name, char **argv)
{
    up_child_t *child = &self->children [self->child_count++];
    snprintf (child->name, sizeof child->name, "%s", name);
    for (int i = 0; argv [i]; i++)
        child->argv [i] = argv [i];
    child->deaths = act_calloc ((size_t) self->max_restarts + 1, sizeof (int64_t));
    return child;
}

//  Records a death; returns true when the child died too often.
static bool
s_too_many (up_t *self, up_child_t *child)
{
    size_t ring = (size_t) self->max_restarts + 1;
    int64_t now = act_mono_ms ();
    child->deaths [child->death_count % ring] = now;
    child->death_count++;
    if (child->death_count < ring)
        return false;
    int64_t oldest = child->deaths [child->death_count % ring];
    return now - oldest <= (int64_t) self->window_s * 1000;
}

static void
s_reap (up_t *self, bool restart)
{
    int status;
    pid_t pid;
    while ((pid = waitpid (-1, &status, WNOHANG)) > 0) {
        for (size_t i = 0; i < self->child_count; i++) {
            up_child_t *child = &self->children [i];
            if (child->pid != pid)
                continue;
            child->pid = 0;
            char how [64];
            if (WIFSIGNALED (status))
                snprintf (how, sizeof how, "killed by signal %d", WTERMSIG (status));
            else
                snprintf (how, sizeof how, "exited with status %d", WEXITSTATUS (status));
            if (!restart)
                break;
            if (s_too_many (self, child)) {
                child->state = CHILD_GAVE_UP;
                act_log_error ("gave up on %s: it died more than %d times in %d s (last %s)",
                               child->name, self->max_restarts, self->window_s, how);
            }
            else {
                act_log_warn ("%s %s, restarting", child->name, how);
                s_child_spawn (child);
            }
        }
    }
}

//  True when SIGTERM/SIGINT arrived; reaps children on SIGCHLD.
static bool
s_signals (up_t *self, bool restart)
{
    unsigned char b;
    bool stop = false;
    while (read (self->sigfd, &b, 1) == 1) {
        if (b == SIGCHLD)
            s_reap (self, restart);
        else
            stop = true;
    }
    return stop;
}

//  Waits until the broker answers and every actor child has registered.
//  Returns 0, 1 on a stop signal, or ACT_ETIMEDOUT.
static int
s_wait_ready (up_t *self, size_t *actors_up)
{
    int64_t deadline = act_mono_ms () + UP_READY_TIMEOUT;
    act_client_t *client = NULL;
    int result = ACT_ETIMEDOUT;
    while (act_mono_ms () < deadline) {
        struct pollfd pfd = { self->sigfd, POLLIN, 0 };
        if (poll (&pfd, 1, 100) > 0 && s_signals (self, true)) {
            result = 1;
            break;
        }
        //  A child that could not even start (port in use, journal locked
        //  by another dynod) makes waiting pointless.
        for (size_t i = 0; i < self->child_count; i++)
            if (self->children [i].state == CHILD_GAVE_UP) {
                act_log_error ("%s could not start; see its log lines above", self->children [i].name);
                result = ACT_EREFUSED;
            }
        if (result == ACT_EREFUSED)
            break;
        int rc;
        if (!client)
            client = act_client_new (self->endpoint, self->token, "dynod", 500, &rc);
        if (!client)
            continue;
        msg_t *req = act_client_msg_new (client, MSG_TYPE_BROKER_STATUS, "broker");
        msg_t *reply = NULL;
        if (act_client_call (client, &req, 1000, &reply) == 0) {
            size_t up = 0, want = 0;
            for (size_t i = 0; i < self->child_count; i++) {
                if (strcmp (self->children [i].name, "broker") == 0)
                    continue;
                want++;
                size_t k;
                json_t *peer;
                json_array_foreach (json_object_get (reply->body, "peers"), k, peer)
                    if (strcmp (json_string_value (json_object_get (peer, "name")),
                                self->children [i].name) == 0) {
                        up++;
                        break;
                    }
            }
            *actors_up = up;
            if (up == want) {
                msg_destroy (&reply);
                result = 0;
                break;
            }
        }
        msg_destroy (&reply);
    }
    act_client_destroy (&client);
    return result;
}

static int
s_write_credentials (up_t *self, char **path_p)
{
    char *path = dnd_credentials_path ();
    char *dir = act_strdup (path);
    *strrchr (dir, '/') = 0;
    int rc = act_mkdir_p (dir, 0700);
    json_t *creds = json_pack ("{s:s, s:s, s:s}", "broker", self->endpoint, "token", self->token,
                               "data", self->data);
    char *text = json_dumps (creds, JSON_INDENT (2));
    if (rc == 0)
        rc = act_write_file (path, text, strlen (text), 0600);
    free (text);
    json_decref (creds);
    free (dir);
    *path_p = path;
    return rc;
}

static void
s_signal_all (up_t *self, bool broker, int sig)
{
    for (size_t i = 0; i < self->child_count; i++)
        if (self->children [i].pid > 0 && (strcmp (self->children [i].name, "broker") == 0) == broker)
            kill (self->children [i].pid, sig);
}

static bool
s_any_running (up_t *self, bool broker)
{
    for (size_t i = 0; i < self->child_count; i++)
        if (self->children [i].pid > 0 && (strcmp (self->children [i].name, "broker") == 0) == broker)
            return true;
    return false;
}

//  Stops the actors, then the broker: SIGTERM, then SIGKILL after a grace.
static void
s_stop_all (up_t *self)
{
    for (int broker = 0; broker <= 1; broker++) {
        s_signal_all (self, broker, SIGTERM);
        int64_t deadline = act_mono_ms () + UP_STOP_TIMEOUT;
        while (s_any_running (self, broker) && act_mono_ms () < deadline) {
            struct pollfd pfd = { self->sigfd, POLLIN, 0 };
            poll (&pfd, 1, 50);
            s_signals (self, false);
            s_reap (self, false);
        }
        s_signal_all (self, broker, SIGKILL);
        while (s_any_running (self, broker)) {
            struct pollfd pfd = { self->sigfd, POLLIN, 0 };
            poll (&pfd, 1, 50);
            s_reap (self, false);
        }
    }
}

static int
s_parse (up_t *self, int argc, char **argv, char **actors)
{
    static const struct option opts [] = {
        { "data", required_argument, NULL, 'd' },
        { "broker-port", required_argument, NULL, 'b' },
        { "http-port", required_argument, NULL, 'H' },
        { "https-port", required_argument, NULL, 'S' },
        { "logs-port", required_argument, NULL, 'L' },
        { "actors", required_argument, NULL, 'a' },
        { "join", required_argument, NULL, 'j' },
        { "max-restarts", required_argument, NULL, 'm' },
        { "restart-window", required_argument, NULL, 'w' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    int c, port = DND_DEFAULT_BROKER_PORT;
    while ((c = getopt_long (argc, argv, "d:b:H:S:L:a:j:m:w:h", opts, NULL)) != -1) {
        switch (c) {
            case 'd': free (self->data); self->data = act_strdup (optarg); break;
            case 'b': port = atoi (optarg); break;
            case 'H': setenv ("DYNOD_HTTP_PORT", optarg, 1); break;
            case 'S': setenv ("DYNOD_HTTPS_PORT", optarg, 1); break;
            case 'L': setenv ("DYNOD_LOGS_PORT", optarg, 1); break;
            case 'a': free (*actors); *actors = act_strdup (optarg); break;
            case 'j': free (self->endpoint); self->endpoint = act_strdup (optarg); self->join = true; break;
            case 'm': self->max_restarts = atoi (optarg); break;
            case 'w': self->window_s = atoi (optarg); break;
            case 'h':
                printf ("usage: dynod up [--data DIR] [--broker-port N] [--http-port N] [--https-port N]\n"
                        "                [--logs-port N] [--actors LIST] [--join ENDPOINT]\n"
                        "                [--max-restarts N] [--restart-window SECONDS]\n"
                        "Starts the broker (unless --join) and the actors (default: all six) as\n"
                        "separate processes, restarts any that die (giving up on one that dies more\n"
                        "than N times in SECONDS; defaults 5 and 60), prints one ready line, and\n"
                        "stops everything on SIGTERM or Ctrl-C.\n");
                return -1;
            default:
                return DND_EXIT_USAGE;
        }
    }
    if (optind != argc || port <= 0 || port > 65535 || self->max_restarts < 1 || self->window_s < 1) {
        fprintf (stderr, "dynod up: bad arguments (see dynod up --help)\n");
        return DND_EXIT_USAGE;
    }
    if (!self->endpoint)
        self->endpoint = act_sprintf ("tcp://127.0.0.1:%d", port);
    return 0;
}

static int
s_build_children (up_t *self, const char *actors)
{
    if (!self->join) {
        char *argv [] = { act_strdup (self->exe), act_strdup ("broker"), act_strdup ("--data"),
                          act_strdup (self->data), act_strdup ("--endpoint"),
                          act_strdup (self->endpoint), NULL };
        s_child_add (self, "broker", argv);
    }
    char *list = act_strdup (actors ? actors : "");
    for (size_t i = 0; i < dnd_actor_count (); i++) {
        const char *name = dnd_actor_at (i)->name;
        bool wanted = !actors;
        char *save = NULL, *copy = act_strdup (list);
        for (char *t = strtok_r (copy, ",", &save); t && !wanted; t = strtok_r (NULL, ",", &save))
            wanted = strcmp (t, name) == 0;
        free (copy);
        if (!wanted)
            continue;
        char *argv [] = { act_strdup (self->exe), act_strdup ("actor"), act_strdup (name),
                          act_strdup ("--broker"), act_strdup (self->endpoint), act_strdup ("--data"),
                          act_strdup (self->data), NULL };
        s_child_add (self, name, argv);
    }
    //  Every name in --actors must be an actor.
    char *save = NULL;
    int rc = 0;
    for (char *t = strtok_r (list, ",", &save); t; t = strtok_r (NULL, ",", &save))
        if (!dnd_actor_find (t)) {
            fprintf (stderr, "dynod up: no actor named '%s'\n", t);
            rc = DND_EXIT_USAGE;
        }
    free (list);
    return rc;
}

static void
s_release (up_t *self)
{
    for (size_t i = 0; i < self->child_count; i++) {
        for (int k = 0; self->children [i].argv [k]; k++)
            free (self->children [i].argv [k]);
        free (self->children [i].deaths);
    }
    free (self->data);
    free (self->endpoint);
    free (self->token);
}

int
dnd_cmd_up (int argc, char **argv)
{
    up_t self_storage;
    up_t *self = &self_storage;
    memset (self, 0, sizeof *self);
    self->max_restarts = 5;
    self->window_s = 60;
    char *actors = NULL;
    int rc = s_parse (self, argc, argv, &actors);
    if (!rc) {
        if (!self->data)
            self->data = dnd_default_data_dir ();
        ssize_t n = readlink ("/proc/self/exe", self->exe, sizeof self->exe - 1);
        if (n <= 0) {
            fprintf (stderr, "dynod up: cannot find its own executable\n");
            rc = DND_EXIT_FAIL;
        }
        else
            self->exe [n] = 0;
    }
    if (!rc)
        rc = s_build_children (self, actors);
    free (actors);
    if (!rc && !(self->token = dnd_token_for (self->data))
    &&  (self->join || dnd_token_load (self->data, true, &self->token))) {
        fprintf (stderr, "dynod up: no API token: set DYNOD_API_TOKEN or create %s/api-token\n", self->data);
        rc = DND_EXIT_FAIL;
    }
    if (rc) {
        s_release (self);
        return rc < 0 ? DND_EXIT_OK : rc;
    }
    act_log_init ("dynod");
    setenv ("DYNOD_API_TOKEN", self->token, 1);
    self->sigfd = act_signal_fd ();
    act_signal_watch (SIGCHLD);
    for (size_t i = 0; i < self->child_count; i++)
        s_child_spawn (&self->children [i]);
    size_t actors_up = 0;
    rc = s_wait_ready (self, &actors_up);
    int exit_code = DND_EXIT_OK;
    if (rc == ACT_ETIMEDOUT) {
        act_log_error ("not ready after %d s: %zu actors registered", UP_READY_TIMEOUT / 1000, actors_up);
        exit_code = self->join ? DND_EXIT_NOBROKER : DND_EXIT_FAIL;
    }
    else if (rc == ACT_EREFUSED)
        exit_code = DND_EXIT_FAIL;
    else if (rc == 0) {
        char *creds = NULL;
        if (s_write_credentials (self, &creds))
            act_log_warn ("cannot write credentials '%s'", creds);
        printf ("dynod ready: broker %s, %zu actors up, data %s, credentials %s\n",
                self->endpoint, actors_up, self->data, creds);
        fflush (stdout);
        free (creds);
        for (;;) {
            struct pollfd pfd = { self->sigfd, POLLIN, 0 };
            if (poll (&pfd, 1, -1) > 0 && s_signals (self, true))
                break;
        }
        act_log_info ("stopping");
    }
    s_stop_all (self);
    act_log_info ("stopped");
    s_release (self);
    return exit_code;
}
