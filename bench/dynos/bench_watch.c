//  bdy_watch - what the dynos benchmark sees: events, the marker's execs,
//  and the `dyno` CLI
//
//  See bench.h. The watcher is one broker client, named `scheduler` in
//  phases (a) and (b) (the supervisor takes dyno.assign from that actor
//  name only) and `bench-watch` beside a real scheduler, subscribed to
//  the topics dyno.state, actor.up and actor.down, plus an inotify fd
//  watching IN_OPEN of the marker binary: execve opens the file it runs,
//  so each exec of the marker, by a bare child or inside a dyno's mount
//  namespace (same inode), is one event, read as soon as the kernel queues
//  it. Both are polled together, so each event is stamped when it arrives.

#include "bench.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zmq.h>

#define BDY_POLL_MS         200     // the longest wait between heartbeat checks
#define BDY_BEAT_S          0.5     // heartbeats this often (the broker's interval is 1 s)

struct bdy_watch {
    bdy_t *bench;
    act_client_t *client;
    int inotify;
    double beat_at;                 // next heartbeat, bcm_now () seconds
};

static int
s_subscribe (act_client_t *client, const char *topic)
{
    msg_t *sub = act_client_msg_new (client, MSG_TYPE_SUBSCRIBE, "broker");
    msg_set_str (sub, "topic", topic);
    return act_client_send (client, &sub);
}

bdy_watch_t *
bdy_watch_new (bdy_t *bench, const char *name, char *why, size_t why_len)
{
    int rc;
    act_client_t *client = act_client_new (bench->endpoint, bench->token, name, BDY_CONNECT_MS, &rc);
    if (!client) {
        snprintf (why, why_len, "cannot register with the broker: %s", act_strerror (rc));
        return NULL;
    }
    const char *topics [] = { "dyno.state", "actor.up", "actor.down" };
    for (size_t i = 0; i < sizeof topics / sizeof topics [0]; i++)
        if ((rc = s_subscribe (client, topics [i])) != 0) {
            snprintf (why, why_len, "subscribe %s: %s", topics [i], act_strerror (rc));
            act_client_destroy (&client);
            return NULL;
        }
    //  A ping answered means the subscriptions are in place (the broker
    //  handles one peer's messages in order).
    msg_t *ping = act_client_msg_new (client, MSG_TYPE_PING, "broker");
    msg_t *pong = NULL;
    rc = act_client_call (client, &ping, BDY_CONNECT_MS, &pong);
    msg_destroy (&pong);
    if (rc) {
        snprintf (why, why_len, "no answer to a ping from the broker: %s", act_strerror (rc));
        act_client_destroy (&client);
        return NULL;
    }
    int fd = inotify_init1 (IN_NONBLOCK | IN_CLOEXEC);
    if (fd < 0 || inotify_add_watch (fd, bench->marker, IN_OPEN) < 0) {
        snprintf (why, why_len, "inotify on '%s': %s", bench->marker, strerror (errno));
        if (fd >= 0)
            close (fd);
        act_client_destroy (&client);
        return NULL;
    }
    bdy_watch_t *self = act_calloc (1, sizeof *self);
    self->bench = bench;
    self->client = client;
    self->inotify = fd;
    return self;
}

void
bdy_watch_destroy (bdy_watch_t **self_p)
{
    bdy_watch_t *self = *self_p;
    if (!self)
        return;
    act_client_destroy (&self->client);
    close (self->inotify);
    free (self);
    *self_p = NULL;
}

act_client_t *bdy_watch_client (bdy_watch_t *self) { return self->client; }

static void
s_copy (char *dst, size_t len, const msg_t *msg, const char *key)
{
    snprintf (dst, len, "%s", msg_str (msg, key, ""));
}

//  One event from a message; false when the message is none of ours.
static bool
s_event (const msg_t *msg, bdy_ev_t *ev)
{
    memset (ev, 0, sizeof *ev);
    ev->at = bcm_now ();
    if (msg->type->id == MSG_TYPE_DYNO_STATE) {
        ev->kind = BDY_EV_STATE;
        s_copy (ev->app, sizeof ev->app, msg, "app");
        s_copy (ev->id, sizeof ev->id, msg, "id");
        s_copy (ev->name, sizeof ev->name, msg, "name");
        s_copy (ev->state, sizeof ev->state, msg, "state");
        s_copy (ev->supervisor, sizeof ev->supervisor, msg, "supervisor");
        return true;
    }
    if (msg->type->id == MSG_TYPE_ACTOR_UP || msg->type->id == MSG_TYPE_ACTOR_DOWN) {
        ev->kind = msg->type->id == MSG_TYPE_ACTOR_UP ? BDY_EV_ACTOR_UP : BDY_EV_ACTOR_DOWN;
        s_copy (ev->actor, sizeof ev->actor, msg, "name");
        s_copy (ev->instance, sizeof ev->instance, msg, "instance");
        return true;
    }
    if (msg->type->id == MSG_TYPE_ERROR)
        fprintf (stderr, "bench-dynos: error from %s: %s\n", msg->from, msg_str (msg, "reason", "?"));
    return false;
}

int
bdy_watch_next (bdy_watch_t *self, double deadline, bdy_ev_t *ev)
{
    for (;;) {
        //  The marker first: an exec already queued is older than any
        //  message we would read now. Every phase has one exec in flight
        //  at most, so one read is one exec.
        char buf [4096] __attribute__ ((aligned (__alignof__ (struct inotify_event))));
        if (read (self->inotify, buf, sizeof buf) > 0) {
            memset (ev, 0, sizeof *ev);
            ev->kind = BDY_EV_EXEC;
            ev->at = bcm_now ();
            return 0;
        }
        double now = bcm_now ();
        if (now >= self->beat_at) {
            //  Keep the client registered: the broker drops a silent one.
            msg_t *beat = act_client_msg_new (self->client, MSG_TYPE_HEARTBEAT, "broker");
            act_client_send (self->client, &beat);
            self->beat_at = now + BDY_BEAT_S;
        }
        if (now >= deadline)
            return -1;
        long wait = (long) ((deadline - now) * 1000) + 1;
        if (wait > BDY_POLL_MS)
            wait = BDY_POLL_MS;
        //  zmq_poll sees messages the socket already buffered too.
        zmq_pollitem_t items [] = {
            { act_client_socket (self->client), 0, ZMQ_POLLIN, 0 },
            { NULL, self->inotify, ZMQ_POLLIN, 0 },
        };
        if (zmq_poll (items, 2, wait) <= 0 || items [1].revents)
            continue;
        int rc;
        msg_t *msg = act_client_recv (self->client, 1, &rc);
        if (msg) {
            bool ours = s_event (msg, ev);
            msg_destroy (&msg);
            if (ours)
                return 0;
        }
    }
}

int
bdy_watch_assign (bdy_watch_t *self, int64_t epoch, json_t *dynos)
{
    msg_t *msg = act_client_msg_new (self->client, MSG_TYPE_DYNO_ASSIGN, "dyno-supervisor");
    msg_set_str (msg, "app", BDY_APP);
    msg_set_int (msg, "epoch", epoch);
    msg_set_json (msg, "dynos", dynos);
    return act_client_send (self->client, &msg);
}

// ---------------------------------------------------------------------------
//  The marker

int
bdy_marker_make (bdy_t *self, char *why, size_t why_len)
{
    snprintf (self->mark_dir, sizeof self->mark_dir, "/run/dynod-bench-dynos-XXXXXX");
    if (!mkdtemp (self->mark_dir)) {
        snprintf (why, why_len, "cannot create '%s': %s", self->mark_dir, strerror (errno));
        self->mark_dir [0] = 0;
        return -1;
    }
    chmod (self->mark_dir, 0755);
    snprintf (self->marker, sizeof self->marker, "%s/bench-sleep", self->mark_dir);
    int in = open ("/bin/sleep", O_RDONLY | O_CLOEXEC);
    int out = open (self->marker, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0755);
    bool ok = in >= 0 && out >= 0;
    char buf [65536];
    ssize_t n;
    while (ok && (n = read (in, buf, sizeof buf)) > 0)
        ok = write (out, buf, (size_t) n) == n;
    if (in >= 0)
        close (in);
    if (out >= 0 && close (out))
        ok = false;
    if (!ok) {
        snprintf (why, why_len, "cannot copy /bin/sleep to '%s': %s", self->marker, strerror (errno));
        return -1;
    }
    return 0;
}

void
bdy_marker_remove (bdy_t *self)
{
    if (!self->mark_dir [0])
        return;
    unlink (self->marker);
    rmdir (self->mark_dir);
    self->mark_dir [0] = 0;
}

//  Does /proc/PID/environ hold `want` (NAME=VALUE)?
static bool
s_environ_has (const char *pid, const char *want)
{
    char path [300], buf [16384];
    snprintf (path, sizeof path, "/proc/%s/environ", pid);
    int fd = open (path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    ssize_t n = read (fd, buf, sizeof buf - 1);
    close (fd);
    if (n <= 0)
        return false;
    buf [n] = 0;
    size_t want_len = strlen (want);
    for (ssize_t at = 0; at < n; at += (ssize_t) strlen (buf + at) + 1)
        if (strncmp (buf + at, want, want_len) == 0 && buf [at + (ssize_t) want_len] == 0)
            return true;
    return false;
}

pid_t
bdy_marker_find (bdy_t *self, const char *mark)
{
    char want [128];
    snprintf (want, sizeof want, "%s=%s", BDY_MARK_ENV, mark);
    DIR *dir = opendir ("/proc");
    struct dirent *entry;
    pid_t found = 0;
    while (dir && !found && (entry = readdir (dir))) {
        if (entry->d_name [0] < '1' || entry->d_name [0] > '9')
            continue;
        char path [300], exe [400];
        snprintf (path, sizeof path, "/proc/%s/exe", entry->d_name);
        ssize_t n = readlink (path, exe, sizeof exe - 1);
        if (n <= 0)
            continue;
        exe [n] = 0;
        if (strcmp (exe, self->marker) == 0 && s_environ_has (entry->d_name, want))
            found = (pid_t) atol (entry->d_name);
    }
    if (dir)
        closedir (dir);
    return found;
}

// ---------------------------------------------------------------------------
//  The dyno CLI

static pid_t
s_dyno_start (bdy_t *self, char *const argv [])
{
    char path [320];
    snprintf (path, sizeof path, "%s/dyno.out", self->tmp);
    pid_t pid = fork ();
    if (pid == 0) {
        int fd = open (path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        if (fd >= 0) {
            dup2 (fd, STDOUT_FILENO);
            dup2 (fd, STDERR_FILENO);
        }
        execv (self->dyno, argv);
        _exit (127);
    }
    return pid;
}

//  argv: `dyno` and the NULL-terminated arguments in `args`.
static void
s_argv (char *argv [32], va_list args)
{
    int argc = 0;
    argv [argc++] = "dyno";
    const char *arg;
    while (argc < 31 && (arg = va_arg (args, const char *)))
        argv [argc++] = (char *) arg;
    argv [argc] = NULL;
}

pid_t
bdy_dyno_start (bdy_t *self, ...)
{
    char *argv [32];
    va_list args;
    va_start (args, self);
    s_argv (argv, args);
    va_end (args);
    return s_dyno_start (self, argv);
}

int
bdy_dyno_status (int status)
{
    return WIFEXITED (status) ? WEXITSTATUS (status) : -1;
}

void
bdy_dyno_last (bdy_t *self, char *last, size_t last_len)
{
    char path [320], line [512];
    snprintf (path, sizeof path, "%s/dyno.out", self->tmp);
    last [0] = 0;
    FILE *file = fopen (path, "r");
    while (file && fgets (line, sizeof line, file))
        if (line [0] && line [0] != '\n')
            snprintf (last, last_len, "%s", line);
    if (file)
        fclose (file);
    last [strcspn (last, "\n")] = 0;
}

int
bdy_dyno (bdy_t *self, char *last, size_t last_len, ...)
{
    char *argv [32];
    va_list args;
    va_start (args, last_len);
    s_argv (argv, args);
    va_end (args);
    pid_t pid = s_dyno_start (self, argv);
    int status = 0;
    if (pid < 0 || waitpid (pid, &status, 0) != pid)
        return -1;
    if (last && last_len)
        bdy_dyno_last (self, last, last_len);
    return bdy_dyno_status (status);
}

int
bdy_ps_count (bdy_t *self, const char *app)
{
    if (bdy_dyno (self, NULL, 0, "ps", "-a", app, "--json", NULL) != 0)
        return -1;
    char path [320];
    snprintf (path, sizeof path, "%s/dyno.out", self->tmp);
    json_error_t err;
    json_t *doc = json_load_file (path, 0, &err);
    json_t *dynos = json_object_get (doc, "dynos");
    int n = json_is_array (dynos) ? (int) json_array_size (dynos) : -1;
    json_decref (doc);
    return n;
}
