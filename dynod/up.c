//  dnd up - start the broker and the actors, supervise them Erlang-style
//
//  Owns the child table. Each child is a separate process (`dynod broker`,
//  `dynod actor NAME`). A child that dies is restarted at once; one that
//  could not even be forked is tried again UP_RETRY_MS later. Either counts
//  as a death, and a child that dies more than --max-restarts times within
//  --restart-window seconds is given up on and reported. Prints one ready
//  line once the broker answers and every actor has registered, writes the
//  CLI credentials file, and on SIGTERM/SIGINT stops the actors, then the
//  broker, and exits 0. Giving up on the broker, before or after the ready
//  line, stops everything and exits 1: the actors have nothing to talk to.
//  Every child asks the kernel for SIGTERM when dynod up dies, so a
//  SIGKILLed dynod up leaves nothing running.
//
//  Child states (docs/architecture.md has the same table):
//      RUNNING --exits------------> RUNNING (restarted at once) or GAVE_UP
//      RUNNING --fork fails-------> WAITING or GAVE_UP
//      WAITING --UP_RETRY_MS------> fork again, as from RUNNING
//  Single-threaded, apart from the ZeroMQ threads of the readiness client.

#include "dynod.h"
#include "../actors/common/act_client.h"

#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#define UP_CHILDREN_MAX   8
#define UP_READY_TIMEOUT  30000     // ms for everything to register
#define UP_STOP_TIMEOUT   10000     // ms before SIGKILL
#define UP_RETRY_MS       1000      // ms before forking again after fork failed
#define UP_POLL_MS        100       // ms between readiness checks

typedef enum { CHILD_RUNNING, CHILD_WAITING, CHILD_GAVE_UP } child_state_t;

typedef struct {
    char name [64];
    char *argv [12];                // owned strings
    pid_t pid;                      // 0 while not running
    child_state_t state;
    int64_t retry_at;               // WAITING: when to fork again (mono ms)
    int64_t *deaths;                // ring of the last max_restarts+1 deaths
    size_t death_count;
} up_child_t;

typedef struct {
    char *data;
    char *endpoint;
    char *token;
    char exe [4096];
    bool join;
    const char *listen;             // --listen, borrowed from argv
    const char *broker_key;         // --broker-key (or DYNOD_BROKER_KEY), borrowed
    const char *host;               // --host, borrowed from argv
    act_curve_t curve;              // to a joined broker over CURVE
    char server_key [ACT_KEY_LEN + 1];  // curve.server_key points here
    bool use_curve;
    int max_restarts;
    int window_s;
    up_child_t children [UP_CHILDREN_MAX];
    size_t child_count;
    int sigfd;
} up_t;

static void s_child_start (up_t *self, up_child_t *child);

//  In the forked child: never returns.
static void
s_child_exec (const up_child_t *child, pid_t parent)
{
    sigset_t none;
    sigemptyset (&none);
    sigprocmask (SIG_SETMASK, &none, NULL);
    signal (SIGTERM, SIG_DFL);
    signal (SIGINT, SIG_IGN);       // Ctrl-C reaches us; we stop children in order
    signal (SIGCHLD, SIG_DFL);
    //  Die with dynod up even when it is SIGKILLed and cannot stop us. If it
    //  died before prctl took effect we are already someone else's child and
    //  no signal will come: give up now.
    prctl (PR_SET_PDEATHSIG, SIGTERM);
    if (getppid () != parent)
        _exit (DND_EXIT_FAIL);
    //  Our stdout carries the one ready line; children log to stderr.
    dup2 (STDERR_FILENO, STDOUT_FILENO);
    execv (child->argv [0], child->argv);
    _exit (127);
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

static bool
s_is_broker (const up_child_t *child)
{
    return strcmp (child->name, "broker") == 0;
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

//  A child exited (`retry_now`) or could not be forked: counts the death,
//  then gives up on the child, restarts it, or schedules another fork.
static void
s_child_died (up_t *self, up_child_t *child, const char *how, bool retry_now)
{
    child->pid = 0;
    if (s_too_many (self, child)) {
        child->state = CHILD_GAVE_UP;
        act_log_error ("gave up on %s: it died more than %d times in %d s (last %s)",
                       child->name, self->max_restarts, self->window_s, how);
    }
    else if (retry_now) {
        act_log_warn ("%s %s, restarting", child->name, how);
        s_child_start (self, child);
    }
    else {
        //  Forking again at once would most likely fail the same way.
        child->state = CHILD_WAITING;
        child->retry_at = act_mono_ms () + UP_RETRY_MS;
        act_log_warn ("%s %s, retrying in %d ms", child->name, how, UP_RETRY_MS);
    }
}

static void
s_child_start (up_t *self, up_child_t *child)
{
    pid_t parent = getpid ();
    pid_t pid = fork ();
    if (pid == 0)
        s_child_exec (child, parent);
    if (pid > 0) {
        child->pid = pid;
        child->state = CHILD_RUNNING;
        return;
    }
    char how [128];
    snprintf (how, sizeof how, "could not be started (fork: %s)", strerror (errno));
    s_child_died (self, child, how, false);
}

//  Forks the WAITING children whose time has come. Returns the ms until the
//  next one is due, or -1 when none is waiting (a poll timeout).
static int
s_retry_due (up_t *self)
{
    int64_t now = act_mono_ms ();
    int64_t next = -1;
    for (size_t i = 0; i < self->child_count; i++) {
        up_child_t *child = &self->children [i];
        if (child->state == CHILD_WAITING && child->retry_at <= now)
            s_child_start (self, child);
        //  Still (or again) waiting: the earliest due time sets the timeout.
        if (child->state == CHILD_WAITING && (next < 0 || child->retry_at - now < next))
            next = child->retry_at > now ? child->retry_at - now : 0;
    }
    return (int) next;
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
            char how [64];
            if (WIFSIGNALED (status))
                snprintf (how, sizeof how, "killed by signal %d", WTERMSIG (status));
            else
                snprintf (how, sizeof how, "exited with status %d", WEXITSTATUS (status));
            if (restart)
                s_child_died (self, child, how, true);
            else
                child->pid = 0;
            break;
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

//  The first child given up on, or NULL.
static up_child_t *
s_gave_up (up_t *self, bool broker_only)
{
    for (size_t i = 0; i < self->child_count; i++)
        if (self->children [i].state == CHILD_GAVE_UP
        &&  (!broker_only || s_is_broker (&self->children [i])))
            return &self->children [i];
    return NULL;
}

//  How many actor children appear in a broker.status reply's peers, as
//  actors of this host (with --join, other hosts run the same names).
static size_t
s_registered (up_t *self, const msg_t *reply)
{
    char host [256] = "";
    if (self->host)
        snprintf (host, sizeof host, "%s", self->host);
    else
        gethostname (host, sizeof host - 1);
    size_t up = 0;
    for (size_t i = 0; i < self->child_count; i++) {
        if (s_is_broker (&self->children [i]))
            continue;
        size_t k;
        json_t *peer;
        json_array_foreach (json_object_get (reply->body, "peers"), k, peer)
            if (strcmp (json_string_value (json_object_get (peer, "name")),
                        self->children [i].name) == 0
            &&  strcmp (json_string_value (json_object_get (peer, "host")), host) == 0
            &&  strcmp (json_string_value (json_object_get (peer, "role")), "actor") == 0) {
                up++;
                break;
            }
    }
    return up;
}

//  Waits until the broker answers and every actor child has registered.
//  Returns 0, 1 on a stop signal, ACT_EREFUSED when a child was given up on,
//  or ACT_ETIMEDOUT.
static int
s_wait_ready (up_t *self, size_t *actors_up)
{
    int64_t deadline = act_mono_ms () + UP_READY_TIMEOUT;
    size_t want = self->child_count - (self->join ? 0 : 1);
    act_client_t *client = NULL;
    int result = ACT_ETIMEDOUT;
    while (act_mono_ms () < deadline) {
        s_retry_due (self);
        struct pollfd pfd = { self->sigfd, POLLIN, 0 };
        if (poll (&pfd, 1, UP_POLL_MS) > 0 && s_signals (self, true)) {
            result = 1;
            break;
        }
        //  A child that could not even start (port in use, journal locked
        //  by another dynod) makes waiting pointless.
        up_child_t *lost = s_gave_up (self, false);
        if (lost) {
            act_log_error ("%s could not start; see its log lines above", lost->name);
            result = ACT_EREFUSED;
            break;
        }
        int rc;
        if (!client)
            client = act_client_new_curve (self->endpoint, self->token, "dynod", 500,
                                           self->use_curve ? &self->curve : NULL, &rc);
        if (!client)
            continue;
        msg_t *req = act_client_msg_new (client, MSG_TYPE_BROKER_STATUS, "broker");
        msg_t *reply = NULL;
        bool answered = act_client_call (client, &req, 1000, &reply) == 0;
        if (answered)
            *actors_up = s_registered (self, reply);
        msg_destroy (&reply);
        if (answered && *actors_up == want) {
            result = 0;
            break;
        }
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
    //  `logs`: the port log-plex serves tails on, for `dyno logs --tail`.
    const char *logs = getenv ("DYNOD_LOGS_PORT");
    json_t *creds = json_pack ("{s:s, s:s, s:s, s:i}", "broker", self->endpoint, "token", self->token,
                               "data", self->data, "logs",
                               logs && atoi (logs) > 0 ? atoi (logs) : DND_DEFAULT_LOGS_PORT);
    //  `broker_key`: `dyno` talks CURVE to a joined broker too.
    if (self->use_curve)
        json_object_set_new (creds, "broker_key", json_string (self->server_key));
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
        if (self->children [i].pid > 0 && s_is_broker (&self->children [i]) == broker)
            kill (self->children [i].pid, sig);
}

static bool
s_any_running (up_t *self, bool broker)
{
    for (size_t i = 0; i < self->child_count; i++)
        if (self->children [i].pid > 0 && s_is_broker (&self->children [i]) == broker)
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
        { "listen", required_argument, NULL, 'l' },
        { "broker-key", required_argument, NULL, 'k' },
        { "advertise", required_argument, NULL, 'A' },
        { "router-addr", required_argument, NULL, 'R' },
        { "host", required_argument, NULL, 'n' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    int c, port = DND_DEFAULT_BROKER_PORT;
    while ((c = getopt_long (argc, argv, "d:b:H:S:L:a:j:m:w:l:k:A:R:n:h", opts, NULL)) != -1) {
        switch (c) {
            case 'l': self->listen = optarg; break;
            case 'k': self->broker_key = optarg; break;
            case 'A': setenv ("DYNOD_ADVERTISE_HOST", optarg, 1); break;
            case 'R': setenv ("DYNOD_ROUTER_ADDR", optarg, 1); break;
            case 'n': self->host = optarg; break;
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
                        "                [--logs-port N] [--actors LIST] [--listen tcp://ADDR:PORT]\n"
                        "                [--join ENDPOINT [--broker-key KEY]] [--host NAME]\n"
                        "                [--advertise ADDR] [--router-addr ADDR]\n"
                        "                [--max-restarts N] [--restart-window SECONDS]\n"
                        "Starts the broker (unless --join) and the actors (default: all six) as\n"
                        "separate processes, restarts any that die (giving up on one that dies more\n"
                        "than N times in SECONDS; defaults 5 and 60), prints one ready line, and\n"
                        "stops everything on SIGTERM or Ctrl-C. Giving up on the broker stops\n"
                        "everything too, with exit status 1.\n"
                        "--listen: the broker also listens there for other hosts, always with CURVE\n"
                        "(docs/security.md). --join: run the actors against that broker instead,\n"
                        "over CURVE with DIR/keys/host.key when it is not loopback or a broker key\n"
                        "is given (--broker-key or DYNOD_BROKER_KEY). --host: the host name the\n"
                        "actors give (default: the machine's). --advertise: the address the\n"
                        "supervisor publishes for its dynos; --router-addr: where the router's\n"
                        "listeners bind (default 127.0.0.1).\n");
                return -1;
            default:
                return DND_EXIT_USAGE;
        }
    }
    if (optind != argc || port <= 0 || port > 65535 || self->max_restarts < 1 || self->window_s < 1
    ||  (self->listen && self->join) || (self->broker_key && !self->join)) {
        fprintf (stderr, "dynod up: bad arguments (see dynod up --help)\n");
        return DND_EXIT_USAGE;
    }
    if (self->listen && strncmp (self->listen, "tcp://", 6) != 0) {
        fprintf (stderr, "dynod up: --listen takes tcp://ADDR:PORT\n");
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
                          act_strdup (self->endpoint), self->listen ? act_strdup ("--listen") : NULL,
                          self->listen ? act_strdup (self->listen) : NULL, NULL };
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
                          act_strdup (self->data), self->host ? act_strdup ("--host") : NULL,
                          self->host ? act_strdup (self->host) : NULL, NULL };
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

//  The host id (created), and CURVE to a joined broker: its key reaches the
//  actors through DYNOD_BROKER_KEY. Returns 0 or an exit code.
static int
s_setup_identity (up_t *self)
{
    char host_id [DND_HOST_ID_LEN + 1];
    int rc = dnd_host_id (self->data, host_id);
    if (rc) {
        fprintf (stderr, "dynod up: cannot read or create '%s/host-id': %s\n", self->data, act_strerror (rc));
        return DND_EXIT_FAIL;
    }
    if (!self->join) {
        //  Our own broker's loopback endpoint uses NULL security.
        unsetenv ("DYNOD_BROKER_KEY");
        return 0;
    }
    rc = dnd_curve_for ("up", self->endpoint, self->data, self->broker_key, &self->curve, &self->use_curve);
    if (rc || !self->use_curve)
        return rc;
    snprintf (self->server_key, sizeof self->server_key, "%s", self->curve.server_key);
    self->curve.server_key = self->server_key;
    setenv ("DYNOD_BROKER_KEY", self->server_key, 1);
    return 0;
}

//  Parses the arguments and prepares the child table and the token.
//  Returns 0, -1 after --help, or an exit code.
static int
s_setup (up_t *self, int argc, char **argv)
{
    self->max_restarts = 5;
    self->window_s = 60;
    char *actors = NULL;
    int rc = s_parse (self, argc, argv, &actors);
    if (!rc && !self->data)
        self->data = dnd_default_data_dir ();
    if (!rc) {
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
    if (!rc)
        rc = s_setup_identity (self);
    if (!rc && !(self->token = dnd_token_for (self->data))
    &&  (self->join || dnd_token_load (self->data, true, &self->token))) {
        fprintf (stderr, "dynod up: no API token: set DYNOD_API_TOKEN or create %s/api-token\n", self->data);
        rc = DND_EXIT_FAIL;
    }
    return rc;
}

//  After the ready line: supervises until a stop signal (exit 0) or until
//  the broker is given up on (exit 1).
static int
s_supervise (up_t *self)
{
    for (;;) {
        int timeout = s_retry_due (self);
        //  Actors without a broker only retry their connection forever.
        up_child_t *broker = s_gave_up (self, true);
        if (broker) {
            act_log_error ("no broker to run the actors against: stopping");
            return DND_EXIT_FAIL;
        }
        struct pollfd pfd = { self->sigfd, POLLIN, 0 };
        if (poll (&pfd, 1, timeout) > 0 && s_signals (self, true)) {
            act_log_info ("stopping");
            return DND_EXIT_OK;
        }
    }
}

//  Starts the children, waits for them, supervises, stops. Returns the exit
//  code.
static int
s_run (up_t *self)
{
    setenv ("DYNOD_API_TOKEN", self->token, 1);
    //  The router mints certificates for APP.localhost from it. Without
    //  one HTTPS serves only uploaded and ACM certificates.
    char *ca_dir = NULL, ca_err [512];
    if (dnd_local_ca (self->data, &ca_dir, ca_err, sizeof ca_err) == 0)
        setenv ("DYNOD_CA_DIR", ca_dir, 1);
    else
        act_log_warn ("no local CA: %s", ca_err);
    free (ca_dir);
    self->sigfd = act_signal_fd ();
    act_signal_watch (SIGCHLD);
    for (size_t i = 0; i < self->child_count; i++)
        s_child_start (self, &self->children [i]);
    size_t actors_up = 0;
    int rc = s_wait_ready (self, &actors_up);
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
        exit_code = s_supervise (self);
    }
    s_stop_all (self);
    act_log_info ("stopped");
    return exit_code;
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
    act_keypair_wipe (&self->curve.pair);
}

int
dnd_cmd_up (int argc, char **argv)
{
    up_t self_storage;
    up_t *self = &self_storage;
    memset (self, 0, sizeof *self);
    act_log_init ("dynod");
    int rc = s_setup (self, argc, argv);
    if (rc == 0)
        rc = s_run (self);
    s_release (self);
    return rc < 0 ? DND_EXIT_OK : rc;
}
