//  dyno - one dyno's lifecycle on this host
//
//  See dyno.h. Every transition goes through s_event and the table
//  s_table [phase][event]; an empty cell ignores the event (a boot
//  timeout that races the exit, a second stop).

#include "dyno.h"
#include "proc.h"
#include "words.h"

#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SUP_PROBE_EVERY_MS  100         // between health probes of a starting web dyno
#define SUP_PROBE_TIMEOUT_MS 1000       // one probe at most
#define SUP_HEALTH_PASSES   3           // consecutive 2xx/3xx answers for `up`
#define SUP_MEM_EVERY_MS    1000        // memory checks
#define SUP_R14_EVERY_MS    60000       // at most one R14 a minute
#define SUP_TEXT_MAX        600

typedef enum { E_PREPARED, E_PREP_FAILED, E_READY, E_EXITED, E_BOOT_TIMEOUT, E_UNASSIGN,
               E_STOP_TIMEOUT, E_R15, E_CYCLE, E_RESTART_DUE, E_DETACH, E_COUNT } s_event_t;

typedef void (s_action_fn) (sup_dyno_t *self);

static void s_event (sup_dyno_t *self, s_event_t event);

// ---- saying and publishing -------------------------------------------------

static void
s_say (sup_dyno_t *self, const char *fmt, ...) __attribute__ ((format (printf, 2, 3)));

static void
s_say (sup_dyno_t *self, const char *fmt, ...)
{
    char text [SUP_TEXT_MAX];
    va_list ap;
    va_start (ap, fmt);
    int n = vsnprintf (text, sizeof text, fmt, ap);
    va_end (ap);
    size_t len = n < 0 ? 0 : (size_t) n < sizeof text ? (size_t) n : sizeof text - 1;
    sup_say (self->sup, self->app, "dynod", self->name, text, len);
}

//  Moves the published state to `state` (static text), logging and
//  publishing the change.
static void
s_set_state (sup_dyno_t *self, const char *state, const char *reason)
{
    self->reason = reason;
    if (strcmp (self->state, state) == 0)
        return;
    s_say (self, SUP_SAY_STATE, self->state, state);
    self->state = state;
    self->since_ms = act_now (self->sup->act);
    sup_publish_state (self->sup, sup_dyno_state_body (self));
}

json_t *
sup_dyno_state_body (const sup_dyno_t *self)
{
    json_t *body = json_pack ("{s:s, s:s, s:s, s:s, s:s, s:I, s:s, s:s, s:O, s:s, s:O, s:b, s:i}",
                              "app", self->app, "id", self->id, "name", self->name, "type", self->type,
                              "state", self->state, "since_ms", (json_int_t) self->since_ms,
                              "supervisor", act_address (self->sup->act),
                              "host", self->sup->settings.advertise,
                              "release", json_object_get (self->spec, "release"),
                              "command", self->command,
                              "size", json_object_get (self->spec, "size") ? json_object_get (self->spec, "size")
                                                                            : json_null (),
                              "oneoff", self->oneoff, "restarts", self->restarts);
    if (json_is_null (json_object_get (body, "size")))
        json_object_del (body, "size");
    if (self->web && self->port && self->sbx)
        json_object_set_new (body, "port", json_integer (self->port));
    if (self->exit_status >= 0 && (strcmp (self->state, "crashed") == 0 || strcmp (self->state, "down") == 0))
        json_object_set_new (body, "exit_status", json_integer (self->exit_status));
    if (self->reason)
        json_object_set_new (body, "reason", json_string (self->reason));
    return body;
}

// ---- actions ---------------------------------------------------------------

static void
s_seconds (int64_t ms, char out [SUP_WORDS_MAX])
{
    sup_words_seconds (ms, out);
}

//  Slug and config are in hand: run the command.
static void
s_spawn (sup_dyno_t *self)
{
    //  s_try_prepare saw both ready: these lookups hit the caches.
    const char *slug_dir = NULL;
    const json_t *vars = NULL;
    const json_t *slug = json_object_get (self->spec, "slug");
    sup_fetch_t *fetch = self->sup->fetch;
    char why [320];
    if (slug) {
        uid_t uid = (uid_t) self->uid;
        sup_fetch_slug (fetch, self->sup->act, self->app, json_string_value (json_object_get (slug, "blob")),
                            json_integer_value (json_object_get (slug, "size")), uid, (gid_t) uid,
                            &slug_dir, why, sizeof why);
    }
    sup_fetch_config (fetch, self->sup->act, self->app,
                      json_integer_value (json_object_get (self->spec, "config_version")), &vars, why, sizeof why);
    s_say (self, SUP_SAY_STARTING, self->command);
    self->exit_status = -1;
    self->kill_reason = NULL;
    self->port_ok = false;
    self->probe_passes = 0;
    if (sup_proc_start (self, slug_dir, vars, why, sizeof why)) {
        s_say (self, SUP_SAY_START_FAIL, why);
        snprintf (self->why, sizeof self->why, "%s", why);
        self->phase = SUP_P_STARTING;
        self->exit_status = 127;
        //  Handled as an exit: a crash (formation) or the end (one-off).
        s_event (self, E_EXITED);
        return;
    }
    int64_t mono = act_mono_ms ();
    self->started = mono;
    self->phase = SUP_P_STARTING;
    self->boot_deadline = mono + self->boot_timeout_ms;
    self->probe_at = mono;
    self->mem_at = mono + SUP_MEM_EVERY_MS;
    self->input_at = mono;
    //  One-offs are cycled too (as on Heroku): they end, never restarted.
    self->cycle_at = mono + self->sup->settings.cycle_ms
                   + sup_cycle_jitter (self->id, self->sup->settings.cycle_jitter_ms);
    self->sup->report_at = 0;       // tell the scheduler about the port soon
    sup_publish_state (self->sup, sup_dyno_state_body (self));
    if (!self->web)
        s_event (self, E_READY);
}

static void
s_prep_failed (sup_dyno_t *self)
{
    s_say (self, SUP_SAY_START_FAIL, self->why);
    self->phase = SUP_P_STARTING;
    self->exit_status = 127;
    s_event (self, E_EXITED);
}

static void
s_up (sup_dyno_t *self)
{
    self->phase = SUP_P_UP;
    s_set_state (self, "up", NULL);
}

//  A one-off ended, for good: run.exit to its client, if attached.
static void
s_oneoff_end (sup_dyno_t *self, const char *reason, const char *state)
{
    self->phase = SUP_P_DONE;
    if (self->attach && !self->detached) {
        msg_t *exit = act_msg_new (self->sup->act, MSG_TYPE_RUN_EXIT, self->attach);
        msg_set_str (exit, "id", self->id);
        msg_set_int (exit, "status", self->exit_status);
        if (reason || self->why [0]) {
            char text [400];
            snprintf (text, sizeof text, "%s%s", reason ? reason : "failed to start: ",
                      reason ? "" : self->why);
            msg_set_str (exit, "reason", text);
        }
        act_send (self->sup->act, &exit);
    }
    s_set_state (self, state, reason);
}

//  The dyno ended: for a one-off, for good; for a formation dyno, a crash,
//  restarted after the back-off.
static void
s_exited (sup_dyno_t *self)
{
    const char *reason = self->kill_reason;
    if (self->oneoff) {
        s_oneoff_end (self, reason, self->exit_status == 0 ? "down" : "crashed");
        return;
    }
    int64_t mono = act_mono_ms ();
    const sup_backoff_t *backoff = &self->sup->settings.backoff;
    int64_t reset = sup_backoff_reset_ms (backoff);
    if (self->started && reset > 0 && mono - self->started >= reset)
        self->restarts = 0;
    self->restart_at = mono + sup_backoff_delay (backoff, self->restarts);
    self->restarts++;
    self->phase = SUP_P_CRASHED;
    s_set_state (self, "crashed", reason);
}

//  SIGTERM to every process; SIGKILL after the grace (R12).
static void
s_sigterm (sup_dyno_t *self)
{
    s_say (self, SUP_SAY_SIGTERM);
    sup_proc_signal (self, SIGTERM);
    self->phase = SUP_P_STOPPING;
    self->stop_deadline = act_mono_ms () + self->sup->settings.stop_timeout_ms;
}

static void
s_sigkill (sup_dyno_t *self, const char *reason)
{
    s_say (self, SUP_SAY_SIGKILL);
    self->kill_reason = reason;
    sup_proc_signal (self, SIGKILL);
}

static void
s_r10 (sup_dyno_t *self)
{
    char secs [SUP_WORDS_MAX], type [SUP_WORDS_MAX];
    s_seconds (self->boot_timeout_ms, secs);
    sup_words_type (self->type, type);
    if (self->port_ok && self->healthcheck && *self->healthcheck)
        s_say (self, SUP_SAY_R10_HEALTH, type, self->healthcheck, secs);
    else
        s_say (self, SUP_SAY_R10, type, secs);
    self->boot_deadline = INT64_MAX;
    s_sigkill (self, "R10");
}

static void
s_r12 (sup_dyno_t *self)
{
    char secs [SUP_WORDS_MAX];
    s_seconds (self->sup->settings.stop_timeout_ms, secs);
    s_say (self, SUP_SAY_R12, secs);
    self->stop_deadline = INT64_MAX;
    s_sigkill (self, NULL);
}

static void
s_r15 (sup_dyno_t *self)
{
    s_say (self, SUP_SAY_R15);
    s_sigkill (self, "R15");
    self->mem_at = INT64_MAX;
}

static void
s_cycle (sup_dyno_t *self)
{
    s_say (self, SUP_SAY_CYCLING);
    self->cycling = true;
    self->cycle_at = INT64_MAX;
    s_sigterm (self);
}

static void
s_detach (sup_dyno_t *self)
{
    s_say (self, SUP_SAY_HUP);
    s_say (self, SUP_SAY_R16);
    sup_proc_signal (self, SIGHUP);
    self->detached = true;
}

//  Back to preparing (the slug and config are cached: it starts at once).
static void
s_restart (sup_dyno_t *self)
{
    self->phase = SUP_P_PREPARING;
    self->why [0] = 0;
    s_set_state (self, "starting", NULL);
}

//  Stopped by us: down; restarted at once when it was cycling.
static void
s_stopped (sup_dyno_t *self)
{
    const char *reason = self->cycling ? "cycling" : "stopped";
    if (self->oneoff) {             // a one-off is never restarted
        s_oneoff_end (self, reason, "down");
        return;
    }
    self->phase = SUP_P_DONE;
    s_set_state (self, "down", reason);
    if (self->cycling && self->assigned) {
        self->cycling = false;
        self->restarts = 0;
        s_restart (self);
    }
}

//  Not running (preparing, or waiting out a back-off): down at once.
static void
s_down_now (sup_dyno_t *self)
{
    self->phase = SUP_P_DONE;
    s_set_state (self, "down", "stopped");
}

static s_action_fn *const s_table [SUP_P_COUNT][E_COUNT] = {
    [SUP_P_PREPARING] = { [E_PREPARED] = s_spawn, [E_PREP_FAILED] = s_prep_failed,
                          [E_UNASSIGN] = s_down_now },
    [SUP_P_STARTING]  = { [E_READY] = s_up, [E_EXITED] = s_exited, [E_BOOT_TIMEOUT] = s_r10,
                          [E_UNASSIGN] = s_sigterm, [E_R15] = s_r15, [E_DETACH] = s_detach },
    [SUP_P_UP]        = { [E_EXITED] = s_exited, [E_UNASSIGN] = s_sigterm, [E_R15] = s_r15,
                          [E_CYCLE] = s_cycle, [E_DETACH] = s_detach },
    [SUP_P_STOPPING]  = { [E_EXITED] = s_stopped, [E_STOP_TIMEOUT] = s_r12, [E_R15] = s_r15,
                          [E_DETACH] = s_detach },
    [SUP_P_CRASHED]   = { [E_RESTART_DUE] = s_restart, [E_UNASSIGN] = s_down_now },
    [SUP_P_DONE]      = { [E_UNASSIGN] = NULL },
};

static void
s_event (sup_dyno_t *self, s_event_t event)
{
    s_action_fn *fn = s_table [self->phase][event];
    if (fn)
        fn (self);
}

// ---- the API ---------------------------------------------------------------

sup_dyno_t *
sup_dyno_new (sup_t *sup, const char *app, const json_t *entry)
{
    sup_dyno_t *self = act_calloc (1, sizeof *self);
    self->sup = sup;
    self->spec = json_deep_copy (entry);
    json_t *s = self->spec;
    json_object_set_new (s, "app", json_string (app));
    self->app = json_string_value (json_object_get (s, "app"));
    self->uid = -1;
    self->id = json_string_value (json_object_get (s, "id"));
    self->name = json_string_value (json_object_get (s, "name"));
    self->type = json_string_value (json_object_get (s, "type"));
    self->command = json_string_value (json_object_get (s, "command"));
    self->attach = json_string_value (json_object_get (s, "attach"));
    self->healthcheck = json_string_value (json_object_get (s, "healthcheck"));
    self->web = strcmp (self->type, "web") == 0 && !json_is_true (json_object_get (s, "oneoff"));
    self->oneoff = json_is_true (json_object_get (s, "oneoff"));
    self->tty = self->attach && json_is_true (json_object_get (s, "tty"));
    self->mem_mb = json_integer_value (json_object_get (s, "mem_mb"));
    self->boot_timeout_ms = json_integer_value (json_object_get (s, "boot_timeout_ms"));
    if (self->boot_timeout_ms <= 0)
        self->boot_timeout_ms = sup->settings.boot_timeout_ms;
    self->assigned = true;
    self->exit_status = -1;
    self->state = "down";
    self->phase = SUP_P_PREPARING;
    self->boot_deadline = self->probe_at = self->stop_deadline = self->restart_at = INT64_MAX;
    self->cycle_at = self->mem_at = self->probe_deadline = INT64_MAX;
    self->r14_at = INT64_MIN / 2;
    sup_proc_init (self);
    s_set_state (self, "starting", NULL);
    return self;
}

static void
s_probe_stop (sup_dyno_t *self)
{
    if (!self->probe)
        return;
    sup_unwatch (self->sup, sup_probe_fd (self->probe));
    sup_probe_destroy (&self->probe);
    self->probe_deadline = INT64_MAX;
}

void
sup_dyno_destroy (sup_dyno_t **self_p)
{
    sup_dyno_t *self = *self_p;
    if (!self)
        return;
    s_probe_stop (self);
    sup_proc_release (self);
    json_decref (self->spec);
    free (self);
    *self_p = NULL;
}

void
sup_dyno_unassign (sup_dyno_t *self)
{
    self->assigned = false;
    s_probe_stop (self);
    s_event (self, E_UNASSIGN);
}

bool
sup_dyno_finished (const sup_dyno_t *self)
{
    return !self->assigned && self->phase == SUP_P_DONE;
}

void
sup_dyno_on_input (sup_dyno_t *self, const msg_t *msg)
{
    self->input_at = act_mono_ms ();
    sup_proc_input (self, msg);
}

// ---- timers ----------------------------------------------------------------

//  The app's uid on this host (sandbox.h), looked up once per dyno.
static int
s_uid (sup_dyno_t *self, uid_t *uid)
{
    if (self->uid < 0) {
        uid_t u;
        if (sbx_app_uid (self->sup->uid_map, self->app, &u, self->why, sizeof self->why))
            return -1;
        self->uid = (int64_t) u;
    }
    *uid = (uid_t) self->uid;
    return 0;
}

static void
s_try_prepare (sup_dyno_t *self)
{
    sup_fetch_t *fetch = self->sup->fetch;
    act_t *act = self->sup->act;
    const char *dir = NULL;
    const json_t *vars = NULL;
    sup_fetch_status_t slug_st = SUP_FETCH_READY, cfg_st;
    const json_t *slug = json_object_get (self->spec, "slug");
    if (slug) {
        uid_t uid = 0;
        if (!self->sup->data_dir) {
            snprintf (self->why, sizeof self->why, "the supervisor has no data directory");
            slug_st = SUP_FETCH_FAILED;
        }
        else if (s_uid (self, &uid))
            slug_st = SUP_FETCH_FAILED;
        else
            slug_st = sup_fetch_slug (fetch, act, self->app, json_string_value (json_object_get (slug, "blob")),
                                      json_integer_value (json_object_get (slug, "size")), uid, (gid_t) uid,
                                      &dir, self->why, sizeof self->why);
    }
    if (slug_st == SUP_FETCH_FAILED) {
        s_event (self, E_PREP_FAILED);
        return;
    }
    cfg_st = sup_fetch_config (fetch, act, self->app, json_integer_value (json_object_get (self->spec, "config_version")),
                               &vars, self->why, sizeof self->why);
    if (cfg_st == SUP_FETCH_FAILED)
        s_event (self, E_PREP_FAILED);
    else if (slug_st == SUP_FETCH_READY && cfg_st == SUP_FETCH_READY)
        s_event (self, E_PREPARED);
}

static void
s_on_probe (void *state, act_t *act, int fd, short revents, void *arg)
{
    (void) state;
    (void) fd;
    (void) revents;
    sup_dyno_t *self = arg;
    if (!self->probe)
        return;
    sup_probe_result_t r = sup_probe_step (self->probe);
    if (r == SUP_PROBE_PENDING) {
        act_poll_events (act, sup_probe_fd (self->probe), sup_probe_events (self->probe));
        return;
    }
    s_probe_stop (self);
    self->probe_at = act_mono_ms () + SUP_PROBE_EVERY_MS;
    if (r == SUP_PROBE_FAILED) {
        self->probe_passes = 0;
        return;
    }
    self->port_ok = true;
    if (!self->healthcheck || !*self->healthcheck || ++self->probe_passes >= SUP_HEALTH_PASSES)
        s_event (self, E_READY);
    else
        self->probe_at = act_mono_ms ();     // the next pass at once
}

static void
s_probe_start (sup_dyno_t *self, int64_t mono)
{
    self->probe_at = INT64_MAX;
    const char *path = self->port_ok ? self->healthcheck : NULL;
    self->probe = sup_probe_new (self->port, path);
    if (!self->probe) {
        self->probe_at = mono + SUP_PROBE_EVERY_MS;
        return;
    }
    self->probe_deadline = mono + SUP_PROBE_TIMEOUT_MS;
    act_poll_fd (self->sup->act, sup_probe_fd (self->probe), sup_probe_events (self->probe), s_on_probe, self);
}

//  The kernel OOM-killed a process of the dyno: it reached its hard limit
//  (2 x mem_mb) between two checks. That is R15, at 200%.
static void
s_say_oom (sup_dyno_t *self)
{
    char text [SUP_WORDS_MAX];
    sup_words_mem (2 * self->mem_mb * 1024 * 1024, self->mem_mb, text);
    s_say (self, "%s", text);
}

static void
s_check_memory (sup_dyno_t *self, int64_t mono)
{
    self->mem_at = mono + SUP_MEM_EVERY_MS;
    int64_t used = sup_proc_memory (self);
    int64_t quota = self->mem_mb * 1024 * 1024;
    if (quota > 0 && sup_proc_oom_kills (self) > 0) {
        s_say_oom (self);
        s_event (self, E_R15);
        return;
    }
    if (used < 0 || quota <= 0 || used <= quota)
        return;
    char text [SUP_WORDS_MAX];
    if (used > 2 * quota) {
        sup_words_mem (used, self->mem_mb, text);
        s_say (self, "%s", text);
        s_event (self, E_R15);
    }
    else if (mono - self->r14_at >= SUP_R14_EVERY_MS) {
        self->r14_at = mono;
        sup_words_mem (used, self->mem_mb, text);
        s_say (self, "%s", text);
        s_say (self, SUP_SAY_R14);
    }
}

void
sup_dyno_tick (sup_dyno_t *self, int64_t mono)
{
    if (self->phase == SUP_P_PREPARING) {
        s_try_prepare (self);
        return;
    }
    sup_proc_tick (self, mono);
    int status;
    if (sup_proc_running (self) && sup_proc_done (self, mono, &status)) {
        s_probe_stop (self);
        self->exit_status = status;
        if (self->oom_kills > 0 && self->mem_mb > 0 && !self->kill_reason) {
            //  Killed by the kernel at the hard limit before the next check.
            s_say_oom (self);
            s_say (self, SUP_SAY_R15);
            self->kill_reason = "R15";
        }
        s_say (self, SUP_SAY_EXITED, status);
        s_event (self, E_EXITED);
        return;
    }
    if (self->probe && mono >= self->probe_deadline) {
        s_probe_stop (self);
        self->probe_passes = 0;
        self->probe_at = mono + SUP_PROBE_EVERY_MS;
    }
    if (self->phase == SUP_P_STARTING && self->web && !self->probe && mono >= self->probe_at)
        s_probe_start (self, mono);
    if (self->phase == SUP_P_STARTING && mono >= self->boot_deadline) {
        s_probe_stop (self);
        s_event (self, E_BOOT_TIMEOUT);
    }
    if (self->phase == SUP_P_STOPPING && mono >= self->stop_deadline)
        s_event (self, E_STOP_TIMEOUT);
    if (self->phase == SUP_P_CRASHED && mono >= self->restart_at) {
        self->restart_at = INT64_MAX;
        s_event (self, E_RESTART_DUE);
        //  Slug and config are cached by now: start at once rather than
        //  at the next timer (the first restart is due immediately).
        if (self->phase == SUP_P_PREPARING)
            s_try_prepare (self);
        return;
    }
    if (self->phase == SUP_P_UP && mono >= self->cycle_at)
        s_event (self, E_CYCLE);
    if (sup_proc_running (self) && !self->exited && mono >= self->mem_at)
        s_check_memory (self, mono);
    if (sup_proc_running (self) && self->attach && !self->detached
    &&  mono - self->input_at >= self->sup->settings.attach_timeout_ms)
        s_event (self, E_DETACH);
}

int64_t
sup_dyno_deadline (const sup_dyno_t *self)
{
    int64_t next = sup_proc_deadline (self);
    int64_t at [] = { self->stop_deadline, self->restart_at, self->cycle_at, self->probe_deadline };
    for (size_t i = 0; i < sizeof at / sizeof at [0]; i++)
        if (at [i] < next)
            next = at [i];
    if (self->phase == SUP_P_STARTING) {
        if (self->boot_deadline < next)
            next = self->boot_deadline;
        if (self->web && !self->probe && self->probe_at < next)
            next = self->probe_at;
    }
    if (sup_proc_running (self) && !self->exited) {
        if (self->mem_at < next)
            next = self->mem_at;
        if (self->attach && !self->detached && self->input_at + self->sup->settings.attach_timeout_ms < next)
            next = self->input_at + self->sup->settings.attach_timeout_ms;
    }
    return next;
}
