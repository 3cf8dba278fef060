//  dyno-supervisor - runs the dynos of one host (one instance per host)
//
//  Accepts: dyno.assign (from the scheduler: the whole set of one app's
//           dynos to run here), run.input (from an attached one-off's
//           client), blob.chunk / config.vars / error (answers to its own
//           blob.get and config.get), actor.up (topic: a scheduler that
//           comes up is sent a dyno.report, a router the state of every
//           dyno; its own, after the broker had lost it (a partition),
//           both: a report at once and every dyno's state published);
//           plus status, ping, stop (answered by the runtime).
//  Emits:   dyno.state (topic dyno.state, every state change; to a router
//           that comes up, one per dyno), dyno.report
//           (to the scheduler: at start, when it comes up, every
//           DYNOD_REPORT_MS; at once when it registers again),
//           log.batch (to log-plex: the dynos' output as
//           `app[NAME]`, the supervisor's lines as `dynod[NAME]`), blob.get
//           (release-keeper), config.get (config-keeper), run.output and
//           run.exit (attached clients), error (a malformed dyno.assign).
//  State:   sup_t (sup.h): the dynos held, each a sup_dyno_t (dyno.c: its
//           lifecycle table), the last applied epoch per app, the slug and
//           config caches (fetch.c), the log batches (logs.c). Nothing is
//           durable: when the supervisor starts it sweeps what a previous
//           life left (sbx_sweep: dynos never outlive their supervisor)
//           and reports an empty host; the scheduler assigns again.
//
//  Timers: one timerfd, armed after every turn of the loop for the
//  earliest deadline of any dyno, log batch or request, wakes the loop;
//  the tick then does what is due. Dynos' output pipes, pidfds and health
//  probe sockets are watched on the loop (act_watch_fd / act_poll_fd).
//  Files: under D/dyno-supervisor/<instance>/ (D = the data directory,
//  hidden from the dynos): slugs/ (slugs.c), dynos/<id>/ (work dirs,
//  sandbox.h), uids (the app -> uid map).

#include "dyno-supervisor.h"
#include "assign.h"
#include "dyno.h"
#include "sup.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <unistd.h>

// ---- shared helpers (sup.h) ------------------------------------------------

void
sup_publish_state (sup_t *self, json_t *body)
{
    msg_t *msg = act_msg_new (self->act, MSG_TYPE_DYNO_STATE, "topic:dyno.state");
    json_decref (msg->body);
    msg->body = body;
    act_send (self->act, &msg);
}

void
sup_unwatch (sup_t *self, int fd)
{
    if (!self->closing)
        act_unwatch_fd (self->act, fd);
}

void
sup_say (sup_t *self, const char *app, const char *source, const char *process, const char *text,
         size_t len)
{
    if (self->closing)
        return;                 // nothing can be sent any more
    sup_logs_add (self->logs, self->act, app, source, process, text, len, act_now (self->act),
                  act_mono_ms ());
}

// ---- create and destroy ----------------------------------------------------

static void
s_on_timer (void *state, act_t *act, int fd, void *arg)
{
    (void) state;
    (void) act;
    (void) arg;
    uint64_t expirations;
    if (read (fd, &expirations, sizeof expirations) < 0)
        return;                 // EAGAIN: already read; the tick follows anyway
}

#define FNV_OFFSET  0xcbf29ce484222325ULL
#define FNV_PRIME   0x100000001b3ULL

static uint64_t
s_hash (const char *text)
{
    uint64_t hash = FNV_OFFSET;
    for (const char *p = text; *p; p++)
        hash = (hash ^ (unsigned char) *p) * FNV_PRIME;
    return hash;
}

static void *
s_create (act_t *act)
{
    sup_t *self = act_calloc (1, sizeof *self);
    self->act = act;
    sup_settings_load (&self->settings);
    self->epochs = json_object ();
    self->logs = sup_logs_new ();
    if (gethostname (self->host, sizeof self->host - 1))
        snprintf (self->host, sizeof self->host, "localhost");
    const char *instance = strchr (act_address (act), '@');
    instance = instance ? instance + 1 : "default";
    self->cg = sbx_cgroup_detect ();
    if (act_data_dir (act)) {
        self->data_dir = act_strdup (act_data_dir (act));
        self->home = act_sprintf ("%s/dyno-supervisor/%s", self->data_dir, instance);
        //  The cgroup parent names the instance and, through a hash, the
        //  data dir: supervisors of several test runs on one host share
        //  the instance name (the host's), and one's sweep at start must
        //  not kill another's dynos. Stable across restarts, so a sweep
        //  still finds what this supervisor's previous life left.
        self->cgroup_parent = act_sprintf ("dynod-%s-%08llx", instance,
                                           (unsigned long long) (s_hash (self->home) & 0xffffffffu));
        self->uid_map = act_sprintf ("%s/uids", self->home);
        self->work_root = act_sprintf ("%s/dynos", self->home);
        char *slugs = act_sprintf ("%s/slugs", self->home);
        //  The data dir itself may not exist yet (a fresh `--data`).
        const char *dirs [] = { self->work_root, slugs };
        for (size_t i = 0; i < sizeof dirs / sizeof dirs [0]; i++) {
            int rc = act_mkdir_p (dirs [i], 0700);
            if (rc)
                act_log_warn ("cannot create '%s': %s", dirs [i], act_strerror (rc));
        }
        self->fetch = sup_fetch_new (slugs);
        free (slugs);
        //  Dynos never outlive their supervisor: what a previous life left
        //  goes before anything is reported.
        if (!act_replaying (act))
            sbx_sweep (self->cg, self->cgroup_parent, self->work_root);
    }
    else {
        self->cgroup_parent = act_sprintf ("dynod-%s", instance);
        self->fetch = sup_fetch_new ("/nonexistent");
    }
    self->timerfd = timerfd_create (CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    if (self->timerfd >= 0)
        act_watch_fd (act, self->timerfd, s_on_timer, NULL);
    act_log_info ("capacity %lld MB, cgroups %s, data %s", (long long) self->settings.capacity_mb,
                  self->cg == SBX_CGROUP_V2 ? "v2" : self->cg == SBX_CGROUP_V1 ? "v1" : "none",
                  self->home ? self->home : "(none)");
    //  Namespaces, overlay mounts, cgroups and per-app uids need root.
    if (geteuid () != 0 && !act_replaying (act))
        act_log_warn ("not running as root: dynos cannot be isolated and will fail to start");
    if (self->cg == SBX_CGROUP_NONE && !act_replaying (act))
        act_log_warn ("no usable cgroup hierarchy (v1 memory+pids or v2): dynos run without memory or process limits");
    return self;
}

static void
s_destroy (void **state_p)
{
    sup_t *self = *state_p;
    //  The runtime calls this after its loop, with its watches and queues
    //  gone: kill the dynos and free, but send and unwatch nothing.
    self->closing = true;
    for (size_t i = 0; i < self->dyno_count; i++)
        sup_dyno_destroy (&self->dynos [i]);
    //  Their cgroups are gone; the (empty) parent and app folders go too,
    //  or every supervisor that ever ran on the host would leave them.
    if (self->work_root)
        sbx_sweep (self->cg, self->cgroup_parent, self->work_root);
    free (self->dynos);
    sup_logs_destroy (&self->logs);
    sup_fetch_destroy (&self->fetch, NULL);
    if (self->timerfd >= 0)
        close (self->timerfd);
    json_decref (self->epochs);
    free (self->data_dir);
    free (self->home);
    free (self->uid_map);
    free (self->work_root);
    free (self->cgroup_parent);
    free (self);
    *state_p = NULL;
}

// ---- dynos -----------------------------------------------------------------

static sup_dyno_t *
s_find (sup_t *self, const char *id)
{
    for (size_t i = 0; i < self->dyno_count; i++)
        if (strcmp (self->dynos [i]->id, id) == 0)
            return self->dynos [i];
    return NULL;
}

static void
s_add (sup_t *self, sup_dyno_t *dyno)
{
    if (self->dyno_count == self->dyno_cap) {
        self->dyno_cap = self->dyno_cap ? self->dyno_cap * 2 : 16;
        self->dynos = act_realloc (self->dynos, self->dyno_cap * sizeof *self->dynos);
    }
    self->dynos [self->dyno_count++] = dyno;
}

//  Drops from the caches what no dyno of `app` here uses any more (a
//  dyno stopping still uses its slug: it is the lower layer of its /app).
static void
s_prune (sup_t *self, const char *app)
{
    json_t *slugs = json_object (), *versions = json_object ();
    for (size_t i = 0; i < self->dyno_count; i++) {
        sup_dyno_t *d = self->dynos [i];
        if (strcmp (d->app, app) != 0)
            continue;
        const char *blob = json_string_value (json_object_get (json_object_get (d->spec, "slug"), "blob"));
        if (blob)
            json_object_set_new (slugs, blob, json_true ());
        char v [32];
        snprintf (v, sizeof v, "%lld", (long long) json_integer_value (json_object_get (d->spec, "config_version")));
        json_object_set_new (versions, v, json_true ());
    }
    sup_fetch_prune (self->fetch, self->act, app, slugs, versions);
    json_decref (slugs);
    json_decref (versions);
}

//  The ids held for `app`. Caller owns result.
static json_t *
s_held (sup_t *self, const char *app)
{
    json_t *held = json_array ();
    for (size_t i = 0; i < self->dyno_count; i++)
        if (strcmp (self->dynos [i]->app, app) == 0)
            json_array_append_new (held, json_string (self->dynos [i]->id));
    return held;
}

// ---- handlers --------------------------------------------------------------

static int
s_on_dyno_assign (void *state, act_t *act, msg_t *msg)
{
    sup_t *self = state;
    if (!act_msg_from_actor (msg, "scheduler"))
        return act_reply_error (act, msg, -EPERM, "only the scheduler assigns dynos, not %s", msg->from);
    const char *app = msg_str (msg, "app", "");
    json_t *applied = json_object_get (self->epochs, app);
    json_t *held = s_held (self, app), *start, *stop;
    char why [SUP_WHY_MAX];
    int rc = sup_assign_plan (msg->body, applied ? json_integer_value (applied) : -1, held, &start,
                              &stop, why);
    json_decref (held);
    if (rc < 0)
        return act_reply_error (act, msg, rc, "%s", why);
    if (rc == SUP_ASSIGN_STALE) {
        act_log_info ("ignored a stale dyno.assign for '%s' (epoch %lld < %lld)", app,
                      (long long) msg_int (msg, "epoch", 0), (long long) json_integer_value (applied));
        return 0;
    }
    json_object_set_new (self->epochs, app, json_integer (msg_int (msg, "epoch", 0)));
    //  Stops first: a replacement starts as soon as SIGTERM is sent.
    size_t k;
    json_t *item;
    json_array_foreach (stop, k, item) {
        sup_dyno_t *d = s_find (self, json_string_value (item));
        if (d)
            sup_dyno_unassign (d);
    }
    json_array_foreach (start, k, item)
        s_add (self, sup_dyno_new (self, app, item));
    if (json_array_size (start) || json_array_size (stop))
        act_log_info ("'%s' epoch %lld: %zu to start, %zu to stop", app,
                      (long long) msg_int (msg, "epoch", 0), json_array_size (start), json_array_size (stop));
    json_decref (start);
    json_decref (stop);
    s_prune (self, app);
    return 0;
}

static int
s_on_run_input (void *state, act_t *act, msg_t *msg)
{
    (void) act;
    sup_t *self = state;
    sup_dyno_t *d = s_find (self, msg_str (msg, "id", ""));
    //  Only the client the one-off is attached to may drive it; a stream
    //  gets no error answer, so anything else is dropped.
    if (!d || !d->attach || strcmp (d->attach, msg->from) != 0) {
        act_log_debug ("dropped run.input for %s from %s", msg_str (msg, "id", ""), msg->from);
        return 0;
    }
    sup_dyno_on_input (d, msg);
    return 0;
}

static int
s_on_reply (void *state, act_t *act, msg_t *msg)
{
    sup_t *self = state;
    if (!sup_fetch_on_reply (self->fetch, act, msg) && msg->type->id == MSG_TYPE_ERROR)
        act_log_debug ("error from %s: %s", msg->from, msg_str (msg, "reason", ""));
    return 0;
}

//  Publishes the state of every dyno on topic dyno.state.
static void
s_publish_all (sup_t *self)
{
    for (size_t i = 0; i < self->dyno_count; i++)
        sup_publish_state (self, sup_dyno_state_body (self->dynos [i]));
}

static int
s_on_actor_up (void *state, act_t *act, msg_t *msg)
{
    sup_t *self = state;
    const char *name = msg_str (msg, "name", "");
    char *address = act_sprintf ("%s@%s", name, msg_str (msg, "instance", ""));
    bool me = strcmp (address, act_address (act)) == 0;
    free (address);
    if (strcmp (name, "scheduler") == 0)
        self->report_at = 0;
    //  Registered (again): after a partition the broker had given this
    //  supervisor up, so the routers forgot its dynos and the scheduler
    //  placed them elsewhere. The report lets the scheduler stop what was
    //  replaced at once; the states let routers route to what it keeps.
    else if (me) {
        self->report_at = 0;
        s_publish_all (self);
    }
    //  A router that (re)starts knows no dyno: tell it the state of each
    //  one here, as it would have heard them on topic dyno.state.
    else if (strcmp (name, "router") == 0) {
        char *to = act_sprintf ("router@%s", msg_str (msg, "instance", ""));
        for (size_t i = 0; i < self->dyno_count; i++) {
            msg_t *event = act_msg_new (act, MSG_TYPE_DYNO_STATE, to);
            json_decref (event->body);
            event->body = sup_dyno_state_body (self->dynos [i]);
            act_send (act, &event);
        }
        free (to);
    }
    return 0;
}

// ---- reports and the tick --------------------------------------------------

static void
s_report (sup_t *self)
{
    json_t *dynos = json_array ();
    for (size_t i = 0; i < self->dyno_count; i++)
        json_array_append_new (dynos, sup_dyno_state_body (self->dynos [i]));
    msg_t *msg = act_msg_new (self->act, MSG_TYPE_DYNO_REPORT, "scheduler");
    msg_set_str (msg, "supervisor", act_address (self->act));
    msg_set_str (msg, "host", self->host);
    msg_set_int (msg, "capacity_mb", self->settings.capacity_mb);
    msg_set_json (msg, "dynos", dynos);
    act_send (self->act, &msg);
}

//  Arms the timerfd for `at` (mono ms).
static void
s_arm (sup_t *self, int64_t at)
{
    if (self->timerfd < 0)
        return;
    int64_t delay = at - act_mono_ms ();
    if (delay < 1)
        delay = 1;
    struct itimerspec its = { .it_value = { .tv_sec = delay / 1000, .tv_nsec = (delay % 1000) * 1000000 } };
    timerfd_settime (self->timerfd, 0, &its, NULL);
}

static void
s_tick (void *state, act_t *act)
{
    sup_t *self = state;
    int64_t mono = act_mono_ms ();
    if (mono >= self->report_at) {
        s_report (self);
        self->report_at = mono + self->settings.report_ms;
    }
    for (size_t i = 0; i < self->dyno_count; ) {
        sup_dyno_t *d = self->dynos [i];
        sup_dyno_tick (d, mono);
        if (!sup_dyno_finished (d)) {
            i++;
            continue;
        }
        char *app = act_strdup (d->app);
        self->dynos [i] = self->dynos [--self->dyno_count];
        sup_dyno_destroy (&d);
        s_prune (self, app);
        free (app);
    }
    sup_fetch_tick (self->fetch, act, mono);
    sup_logs_flush (self->logs, act, mono, false);
    int64_t next = self->report_at, at;
    for (size_t i = 0; i < self->dyno_count; i++)
        if ((at = sup_dyno_deadline (self->dynos [i])) < next)
            next = at;
    if ((at = sup_fetch_deadline (self->fetch)) < next)
        next = at;
    if ((at = sup_logs_deadline (self->logs)) < next)
        next = at;
    s_arm (self, next);
}

static void
s_status (void *state, json_t *detail)
{
    sup_t *self = state;
    int64_t mem = 0;
    for (size_t i = 0; i < self->dyno_count; i++)
        mem += self->dynos [i]->mem_mb;
    json_object_set_new (detail, "dynos", json_integer ((json_int_t) self->dyno_count));
    json_object_set_new (detail, "capacity_mb", json_integer (self->settings.capacity_mb));
    json_object_set_new (detail, "assigned_mb", json_integer (mem));
}

static const act_route_t s_routes [] = {
    { MSG_TYPE_DYNO_ASSIGN, s_on_dyno_assign },
    { MSG_TYPE_RUN_INPUT,   s_on_run_input },
    { MSG_TYPE_BLOB_CHUNK,  s_on_reply },
    { MSG_TYPE_CONFIG_VARS, s_on_reply },
    { MSG_TYPE_ERROR,       s_on_reply },
    { MSG_TYPE_ACTOR_UP,    s_on_actor_up },
};

static const char *const s_topics [] = { "actor.up", NULL };

static const act_def_t s_def = {
    .name = "dyno-supervisor",
    .singleton = false,
    .routes = s_routes,
    .route_count = sizeof s_routes / sizeof s_routes [0],
    .topics = s_topics,
    .create = s_create,
    .destroy = s_destroy,
    .status = s_status,
    .tick = s_tick,
};

const act_def_t *
sup_actor_def (void)
{
    return &s_def;
}
