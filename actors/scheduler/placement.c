//  placement - where each dyno runs, and the dyno.assign messages
//
//  Accepts: actor.up, actor.down (topics: live dyno-supervisors),
//           dyno.report (from each supervisor: everything it runs),
//           dyno.state (topic: one dyno's state change), hosts.list (the
//           CLI: `dyno hosts`).
//  Emits:   dyno.assign (to one supervisor: every dyno of one app it should
//           run, with a growing per-app epoch); `No capacity for web.3`
//           log lines; hosts.list.reply.
//  State:   soft only (sch_state.h): `sups`, `where`, `states`, `nocap`,
//           `epochs`. Rebuilt from reports after a restart.
//
//  Rules. A wanted dyno stays where it is while that supervisor is alive.
//  Otherwise it goes to the supervisor with the fewest dynos of the same
//  app and type, then the most free memory (capacity_mb reported minus
//  the mem_mb of what is placed there), then the first name; a dyno that
//  fits nowhere stays unplaced (logged once) until room appears. A
//  supervisor that goes down loses its dynos to the others at once. A
//  report that differs from what the scheduler wants there is answered
//  with that app's assignment, an empty one for an app it should not run:
//  no orphans; a dyno reported by a supervisor other than the one it is
//  placed on moves there when its own supervisor has neither reported it
//  nor been sent it (after a scheduler restart), else the second copy is
//  stopped: a host back from a partition loses what was replaced
//  elsewhere meanwhile. Only the supervisor a dyno is placed on speaks
//  for its state (a second copy's `stopping` and `down` are not the
//  dyno's).
//
//  Epochs: max(previous + 1, act_now()), so they keep growing across a
//  scheduler restart without being stored.

#include "sch_state.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SCH_FREE_UNKNOWN    ((int64_t) 1 << 40)     // capacity not reported yet
#define SCH_DROPPED_MAX     1000

// ---------------------------------------------------------------------------
//  What an app wants

//  An assignment entry for dyno `name` (id `id`) on release `version`, or
//  NULL when that release has no command for its type. Caller owns result.
static json_t *
s_entry (sch_state_t *self, json_t *app, const char *name, const char *id, json_int_t version)
{
    json_t *rel = sch_app_rel (app, version);
    char type [64];
    sch_dyno_type (name, type, sizeof type);
    const char *command = json_string_value (json_object_get (json_object_get (rel, "process_types"), type));
    if (!rel || !command)
        return NULL;
    json_t *entry = json_object_get (json_object_get (app, "formation"), type);
    const sch_size_t *size = sch_sizes_find (self->sizes, json_string_value (json_object_get (entry, "size")));
    if (!size)
        size = sch_sizes_find (self->sizes, SCH_SIZE_DEFAULT);
    json_t *out = json_pack ("{s:s, s:s, s:s, s:s, s:s, s:I, s:I, s:I, s:O, s:b, s:I}", "id", id,
                             "name", name, "type", type, "command", command, "size", size->name,
                             "mem_mb", (json_int_t) size->mem_mb, "procs_max",
                             (json_int_t) size->procs_max, "release", version, "config_version",
                             json_object_get (rel, "config_version"), "oneoff", 0,
                             "boot_timeout_ms", (json_int_t) self->boot_timeout_ms);
    if (json_object_get (rel, "slug"))
        json_object_set (out, "slug", json_object_get (rel, "slug"));
    const char *check = json_string_value (json_object_get (app, "healthcheck"));
    if (strcmp (type, "web") == 0 && check && *check)
        json_object_set_new (out, "healthcheck", json_string (check));
    return out;
}

static long
s_number (const char *name)
{
    const char *dot = strrchr (name, '.');
    return dot ? strtol (dot + 1, NULL, 10) : 0;
}

static int
s_entry_cmp (const void *a, const void *b)
{
    json_t *ea = *(json_t *const *) a, *eb = *(json_t *const *) b;
    int c = strcmp (json_string_value (json_object_get (ea, "type")),
                    json_string_value (json_object_get (eb, "type")));
    if (c)
        return c;
    long d = s_number (json_string_value (json_object_get (ea, "name")))
           - s_number (json_string_value (json_object_get (eb, "name")));
    if (d)
        return d < 0 ? -1 : 1;
    return strcmp (json_string_value (json_object_get (ea, "id")),
                   json_string_value (json_object_get (eb, "id")));
}

//  Appends the entries of a `dynos`-shaped map (name -> {id, release}).
static void
s_add_dynos (sch_state_t *self, json_t *app, json_t *dynos, json_t *out)
{
    const char *name;
    json_t *dyno;
    json_object_foreach (dynos, name, dyno) {
        json_t *entry = s_entry (self, app, name, json_string_value (json_object_get (dyno, "id")),
                                 json_integer_value (json_object_get (dyno, "release")));
        if (entry)
            json_array_append_new (out, entry);
    }
}

json_t *
sch_wanted (sch_state_t *self, const char *name, json_t *app)
{
    json_t *list = json_array ();
    if (app) {
        s_add_dynos (self, app, json_object_get (app, "dynos"), list);
        s_add_dynos (self, app, json_object_get (app, "old"), list);
        if (json_integer_value (json_object_get (app, "pending"))) {
            json_t *entry = s_entry (self, app, SCH_RELEASE_DYNO,
                                     json_string_value (json_object_get (app, "pending_id")),
                                     json_integer_value (json_object_get (app, "pending")));
            if (entry) {
                json_object_set_new (entry, "oneoff", json_true ());
                json_array_append_new (list, entry);
            }
        }
    }
    const char *key;
    json_t *entry;
    json_object_foreach (json_object_get (self->oneoffs, name), key, entry)
        json_array_append (list, entry);
    //  Sorted, so assignments compare equal whatever the map order.
    size_t n = json_array_size (list), i;
    json_t **items = act_calloc (n + 1, sizeof *items);
    json_array_foreach (list, i, entry)
        items [i] = json_incref (entry);
    qsort (items, n, sizeof *items, s_entry_cmp);
    json_array_clear (list);
    for (i = 0; i < n; i++)
        json_array_append_new (list, items [i]);
    free (items);
    return list;
}

// ---------------------------------------------------------------------------
//  Choosing a supervisor

static int
s_strcmp (const void *a, const void *b)
{
    return strcmp (*(const char *const *) a, *(const char *const *) b);
}

//  The live supervisors' addresses, sorted; NULL-terminated. Caller owns
//  the array (not the strings, borrowed from self->sups).
static const char **
s_sup_names (sch_state_t *self)
{
    size_t n = json_object_size (self->sups), i = 0;
    const char **names = act_calloc (n + 1, sizeof *names);
    const char *key;
    json_t *sup;
    json_object_foreach (self->sups, key, sup)
        names [i++] = key;
    qsort (names, n, sizeof *names, s_strcmp);
    return names;
}

//  Free memory on supervisor `addr`: capacity minus what is placed there.
static int64_t
s_free (sch_state_t *self, const char *addr)
{
    json_int_t capacity = json_integer_value (json_object_get (json_object_get (self->sups, addr),
                                                               "capacity_mb"));
    if (capacity < 0)
        return SCH_FREE_UNKNOWN;
    const char *id;
    json_t *w;
    json_object_foreach (self->where, id, w)
        if (strcmp (json_string_value (json_object_get (w, "sup")), addr) == 0)
            capacity -= json_integer_value (json_object_get (w, "mem_mb"));
    return capacity;
}

//  How many dynos of `app` and `type` are placed on `addr`.
static int
s_count (sch_state_t *self, const char *addr, const char *app, const char *type)
{
    int n = 0;
    const char *id;
    json_t *w;
    json_object_foreach (self->where, id, w)
        n += strcmp (json_string_value (json_object_get (w, "sup")), addr) == 0
          && strcmp (json_string_value (json_object_get (w, "app")), app) == 0
          && strcmp (json_string_value (json_object_get (w, "type")), type) == 0;
    return n;
}

//  The supervisor for a new dyno of `app` and `type` needing `mem_mb`, or
//  NULL when none has room. Borrowed.
static const char *
s_choose (sch_state_t *self, const char *app, const char *type, int64_t mem_mb)
{
    const char **names = s_sup_names (self);
    const char *best = NULL;
    int best_n = 0;
    int64_t best_free = 0;
    for (size_t i = 0; names [i]; i++) {
        int64_t free_mb = s_free (self, names [i]);
        if (free_mb < mem_mb)
            continue;
        int n = s_count (self, names [i], app, type);
        if (!best || n < best_n || (n == best_n && free_mb > best_free)) {
            best = names [i];
            best_n = n;
            best_free = free_mb;
        }
    }
    free (names);
    return best;
}

const char *
sch_roomiest (sch_state_t *self, int64_t mem_mb)
{
    const char **names = s_sup_names (self);
    const char *best = NULL;
    int64_t best_free = 0;
    for (size_t i = 0; names [i]; i++) {
        int64_t free_mb = s_free (self, names [i]);
        if (free_mb >= mem_mb && (!best || free_mb > best_free)) {
            best = names [i];
            best_free = free_mb;
        }
    }
    free (names);
    return best;
}

//  Records that `entry` of `app` runs on `addr`.
static void
s_put (sch_state_t *self, act_t *act, const char *app, const json_t *entry, const char *addr)
{
    json_object_set_new (self->where, json_string_value (json_object_get (entry, "id")),
                         json_pack ("{s:s, s:s, s:O, s:O, s:I}", "sup", addr, "app", app, "type",
                                    json_object_get (entry, "type"), "mem_mb",
                                    json_object_get (entry, "mem_mb"), "since",
                                    (json_int_t) act_now (act)));
}

//  Places one wanted dyno when it is not on a live supervisor.
static void
s_place_one (sch_state_t *self, act_t *act, const char *app, const json_t *entry)
{
    const char *id = json_string_value (json_object_get (entry, "id"));
    json_t *w = json_object_get (self->where, id);
    if (w && json_object_get (self->sups, json_string_value (json_object_get (w, "sup"))))
        return;
    if (w)
        json_object_del (self->where, id);
    if (!self->settled)
        return;
    const char *addr = s_choose (self, app, json_string_value (json_object_get (entry, "type")),
                                 json_integer_value (json_object_get (entry, "mem_mb")));
    if (addr) {
        s_put (self, act, app, entry, addr);
        json_object_del (self->nocap, id);
    }
    else if (!json_object_get (self->nocap, id)) {
        json_object_set_new (self->nocap, id, json_true ());
        act_emit_log (act, app, "scheduler", "No capacity for %s",
                      json_string_value (json_object_get (entry, "name")));
    }
}

// ---------------------------------------------------------------------------
//  Sending

//  The entries of `wanted` placed on `addr`. Caller owns result.
static json_t *
s_share (sch_state_t *self, const char *addr, json_t *wanted)
{
    json_t *share = json_array ();
    size_t i;
    json_t *entry;
    json_array_foreach (wanted, i, entry) {
        json_t *w = json_object_get (self->where, json_string_value (json_object_get (entry, "id")));
        if (w && strcmp (json_string_value (json_object_get (w, "sup")), addr) == 0)
            json_array_append (share, entry);
    }
    return share;
}

//  Sends `addr` its share of `wanted` for `app` when it differs from what
//  it was last sent, or always when `force`.
static void
s_send_share (sch_state_t *self, act_t *act, const char *addr, const char *app, json_t *wanted,
              bool force)
{
    json_t *sup = json_object_get (self->sups, addr);
    json_t *sent = json_object_get (sup, "sent");
    json_t *share = s_share (self, addr, wanted);
    json_t *last = json_object_get (sent, app);
    if (!force && (last ? json_equal (last, share) : json_array_size (share) == 0)) {
        json_decref (share);
        return;
    }
    json_int_t epoch = json_integer_value (json_object_get (self->epochs, app)) + 1;
    if (epoch < act_now (act))
        epoch = act_now (act);
    json_object_set_new (self->epochs, app, json_integer (epoch));
    msg_t *assign = act_msg_new (act, MSG_TYPE_DYNO_ASSIGN, addr);
    msg_set_str (assign, "app", app);
    msg_set_json (assign, "dynos", json_deep_copy (share));
    msg_set_int (assign, "epoch", epoch);
    if (json_array_size (share) == 0)
        json_object_del (sent, app);
    else
        json_object_set (sent, app, share);
    json_decref (share);
    self->assigns_sent++;
    act_send (act, &assign);
}

void
sch_place (sch_state_t *self, act_t *act, const char *name)
{
    json_t *app = sch_app (self, name);
    json_t *wanted = sch_wanted (self, name, app);
    json_t *ids = json_object ();
    size_t i;
    json_t *entry;
    json_array_foreach (wanted, i, entry)
        json_object_set (ids, json_string_value (json_object_get (entry, "id")), entry);
    //  What is no longer wanted loses its place.
    const char *id;
    json_t *w;
    void *iter;
    json_object_foreach_safe (self->where, iter, id, w) {
        if (strcmp (json_string_value (json_object_get (w, "app")), name) == 0
        &&  !json_object_get (ids, id)) {
            json_object_del (self->states, id);
            json_object_del (self->nocap, id);
            json_object_del (self->where, id);
        }
    }
    json_array_foreach (wanted, i, entry)
        s_place_one (self, act, name, entry);
    const char **names = s_sup_names (self);
    for (i = 0; names [i]; i++)
        s_send_share (self, act, names [i], name, wanted, false);
    free (names);
    json_decref (ids);
    json_decref (wanted);
}

void
sch_place_all (sch_state_t *self, act_t *act)
{
    //  Every app with state here or on a supervisor, once each.
    json_t *apps = json_object ();
    const char *key, *app;
    json_t *value, *sup;
    json_object_foreach (self->apps, key, value)
        json_object_set_new (apps, key, json_true ());
    json_object_foreach (self->oneoffs, key, value)
        json_object_set_new (apps, key, json_true ());
    json_object_foreach (self->sups, key, sup) {
        json_object_foreach (json_object_get (sup, "sent"), app, value)
            json_object_set_new (apps, app, json_true ());
        json_object_foreach (json_object_get (sup, "reported"), app, value)
            json_object_set_new (apps, app, json_true ());
    }
    json_object_foreach (apps, key, value)
        sch_place (self, act, key);
    json_decref (apps);
}

// ---------------------------------------------------------------------------
//  Supervisors

//  The record of supervisor `addr`, made when new. Borrowed.
static json_t *
s_sup (sch_state_t *self, const char *addr, const char *host)
{
    json_t *sup = json_object_get (self->sups, addr);
    if (!sup) {
        sup = json_pack ("{s:s, s:i, s:{}, s:{}}", "host", host, "capacity_mb", -1, "reported",
                         "sent");
        json_object_set_new (self->sups, addr, sup);
        act_log_info ("dyno-supervisor %s is live", addr);
    }
    return sup;
}

int
sch_on_actor_up (void *state, act_t *act, msg_t *msg)
{
    sch_state_t *self = state;
    self->events++;
    if (strcmp (msg_str (msg, "name", ""), SCH_SUPERVISOR) != 0)
        return 0;
    const char *instance = msg_str (msg, "instance", "");
    json_object_set_new (self->supervisors, instance, json_string (msg_str (msg, "host", "")));
    char addr [MSG_ADDR_MAX];
    snprintf (addr, sizeof addr, "%s@%s", SCH_SUPERVISOR, instance);
    s_sup (self, addr, msg_str (msg, "host", ""));
    //  Room for what had none.
    sch_place_all (self, act);
    return 0;
}

int
sch_on_actor_down (void *state, act_t *act, msg_t *msg)
{
    sch_state_t *self = state;
    self->events++;
    if (strcmp (msg_str (msg, "name", ""), SCH_SUPERVISOR) != 0)
        return 0;
    const char *instance = msg_str (msg, "instance", "");
    act_log_info ("dyno-supervisor %s is down (%s)", instance, msg_str (msg, "reason", ""));
    json_object_del (self->supervisors, instance);
    char addr [MSG_ADDR_MAX];
    snprintf (addr, sizeof addr, "%s@%s", SCH_SUPERVISOR, instance);
    json_object_del (self->sups, addr);
    const char *id;
    json_t *w;
    void *iter;
    json_object_foreach_safe (self->where, iter, id, w)
        if (strcmp (json_string_value (json_object_get (w, "sup")), addr) == 0) {
            json_object_del (self->states, id);
            json_object_del (self->where, id);
        }
    //  Its dynos start elsewhere at once.
    sch_place_all (self, act);
    return 0;
}

//  Was `id` of `app` (placed on `w`) reported by, or assigned to, the
//  supervisor it is placed on? Then that copy is the dyno and any other
//  is a duplicate.
static bool
s_runs_there (sch_state_t *self, const json_t *w, const char *app, const char *id)
{
    json_t *sup = json_object_get (self->sups, json_string_value (json_object_get (w, "sup")));
    if (json_object_get (json_object_get (json_object_get (sup, "reported"), app), id))
        return true;
    size_t i;
    json_t *entry;
    json_array_foreach (json_object_get (json_object_get (sup, "sent"), app), i, entry)
        if (strcmp (json_string_value (json_object_get (entry, "id")), id) == 0)
            return true;
    return false;
}

static bool
s_running (const json_t *body)
{
    const char *state = json_string_value (json_object_get (body, "state"));
    return state && (strcmp (state, "starting") == 0 || strcmp (state, "up") == 0);
}

//  A one-off the supervisor runs that the scheduler does not know (it
//  restarted since it placed it): kept, as the report describes it.
static void
s_adopt_oneoff (sch_state_t *self, const char *app, const json_t *body)
{
    const char *name = json_string_value (json_object_get (body, "name"));
    const char *id = json_string_value (json_object_get (body, "id"));
    if (!name || !id || strncmp (name, "run.", 4) != 0 || !json_is_true (json_object_get (body, "oneoff"))
    ||  !s_running (body) || json_object_get (self->dropped, id) || !sch_app (self, app))
        return;
    const sch_size_t *size = sch_sizes_find (self->sizes, json_string_value (json_object_get (body, "size")));
    if (!size)
        size = sch_sizes_find (self->sizes, SCH_SIZE_DEFAULT);
    json_t *entry = json_pack ("{s:s, s:s, s:s, s:s, s:s, s:I, s:I, s:O, s:b, s:I}", "id", id,
                               "name", name, "type", "run", "command",
                               json_string_value (json_object_get (body, "command")) ?
                               json_string_value (json_object_get (body, "command")) : "",
                               "size", size->name, "mem_mb", (json_int_t) size->mem_mb,
                               "procs_max", (json_int_t) size->procs_max, "release",
                               json_object_get (body, "release"), "oneoff", 1,
                               "boot_timeout_ms", (json_int_t) self->boot_timeout_ms);
    json_t *mine = json_object_get (self->oneoffs, app);
    if (!mine) {
        mine = json_object ();
        json_object_set_new (self->oneoffs, app, mine);
    }
    json_object_set_new (mine, name, entry);
}

//  Takes what `addr` reports it runs of `app` (id -> body) as placements
//  where the scheduler has none or a stale one.
static void
s_adopt (sch_state_t *self, act_t *act, const char *addr, const char *app, json_t *ids)
{
    json_t *wanted = sch_wanted (self, app, sch_app (self, app));
    json_t *by_id = json_object ();
    size_t i;
    json_t *entry;
    json_array_foreach (wanted, i, entry)
        json_object_set (by_id, json_string_value (json_object_get (entry, "id")), entry);
    const char *id;
    json_t *body;
    json_object_foreach (ids, id, body) {
        entry = json_object_get (by_id, id);
        if (!entry) {
            s_adopt_oneoff (self, app, body);
            entry = json_object_get (json_object_get (self->oneoffs, app),
                                     json_string_value (json_object_get (body, "name")));
            if (!entry || !json_equal (json_object_get (entry, "id"), json_object_get (body, "id")))
                continue;
        }
        json_t *w = json_object_get (self->where, id);
        bool live = w && json_object_get (self->sups, json_string_value (json_object_get (w, "sup")));
        if (!live || (strcmp (json_string_value (json_object_get (w, "sup")), addr) != 0
                      && !s_runs_there (self, w, app, id)))
            s_put (self, act, app, entry, addr);
        //  A duplicate's state is not the dyno's.
        w = json_object_get (self->where, id);
        if (strcmp (json_string_value (json_object_get (w, "sup")), addr) == 0)
            json_object_set (self->states, id, body);
    }
    json_decref (by_id);
    json_decref (wanted);
}

//  True when the ids of `share` are exactly the keys of `ids` (NULL:
//  none).
static bool
s_same_ids (json_t *share, json_t *ids)
{
    if (json_array_size (share) != (ids ? json_object_size (ids) : 0))
        return false;
    size_t i;
    json_t *entry;
    json_array_foreach (share, i, entry)
        if (!json_object_get (ids, json_string_value (json_object_get (entry, "id"))))
            return false;
    return true;
}

//  Takes what supervisor `addr` last reported as placements (s_adopt),
//  and checks the preboots it may end.
static void
s_adopt_reported (sch_state_t *self, act_t *act, const char *addr, const msg_t *cause)
{
    const char *app;
    json_t *ids;
    json_object_foreach (json_object_get (json_object_get (self->sups, addr), "reported"), app, ids) {
        s_adopt (self, act, addr, app, ids);
        sch_rollout_check (self, act, cause, app);
    }
}

//  Sends `addr` the assignment of every app where what it reported differs
//  from what it should run (level-triggered: a repeat is harmless), an
//  empty one included.
static void
s_resend (sch_state_t *self, act_t *act, const char *addr)
{
    json_t *sup = json_object_get (self->sups, addr);
    json_t *reported = json_object_get (sup, "reported");
    json_t *apps = json_deep_copy (json_object_get (sup, "sent"));
    json_object_update (apps, reported);
    const char *app;
    json_t *value;
    json_object_foreach (apps, app, value) {
        json_t *wanted = sch_wanted (self, app, sch_app (self, app));
        json_t *share = s_share (self, addr, wanted);
        if (!s_same_ids (share, json_object_get (reported, app)))
            s_send_share (self, act, addr, app, wanted, true);
        json_decref (share);
        json_decref (wanted);
    }
    json_decref (apps);
}

int
sch_on_dyno_report (void *state, act_t *act, msg_t *msg)
{
    sch_state_t *self = state;
    //  Only a supervisor speaks for itself (the broker vouches for `from`).
    if (!act_msg_from_actor (msg, "dyno-supervisor"))
        return 0;
    const char *addr = msg->from;
    json_t *sup = s_sup (self, addr, msg_str (msg, "host", ""));
    json_object_set_new (sup, "capacity_mb", json_integer (msg_int (msg, "capacity_mb", -1)));
    json_object_set_new (sup, "report_ms", json_integer (act_now (act)));
    json_t *reported = json_object ();
    size_t i;
    json_t *body;
    json_array_foreach (json_object_get (msg->body, "dynos"), i, body) {
        const char *app = json_string_value (json_object_get (body, "app"));
        const char *id = json_string_value (json_object_get (body, "id"));
        if (!app || !id)
            continue;
        json_t *ids = json_object_get (reported, app);
        if (!ids) {
            ids = json_object ();
            json_object_set_new (reported, app, ids);
        }
        json_object_set (ids, id, body);
    }
    json_object_set_new (sup, "reported", reported);
    //  Before it settles the scheduler may not have replayed its journal
    //  yet (reports are not held during a restore): it would take every
    //  dyno for unwanted and stop it. sch_settle adopts the reports then.
    if (!self->settled)
        return 0;
    s_adopt_reported (self, act, addr, msg);
    if (json_object_size (self->dropped) > SCH_DROPPED_MAX)
        json_object_clear (self->dropped);
    sch_place_all (self, act);
    s_resend (self, act, addr);
    return 0;
}

void
sch_settle (sch_state_t *self, act_t *act)
{
    self->settled = true;
    //  Every report first, so no dyno one supervisor runs is placed anew
    //  on another before that supervisor's report is taken.
    const char **names = s_sup_names (self);
    size_t i;
    for (i = 0; names [i]; i++)
        s_adopt_reported (self, act, names [i], NULL);
    sch_place_all (self, act);
    for (i = 0; names [i]; i++)
        s_resend (self, act, names [i]);
    free (names);
}

int
sch_on_dyno_state (void *state, act_t *act, msg_t *msg)
{
    sch_state_t *self = state;
    const char *app = msg_str (msg, "app", "");
    const char *id = msg_str (msg, "id", "");
    //  Only what is placed, from where it is placed: a late word about a
    //  dyno stopped since is not kept, nor one about a second copy (a
    //  host back from a partition stopping what was replaced).
    json_t *w = json_object_get (self->where, id);
    if (!w || !act_msg_from_actor (msg, "dyno-supervisor")
    ||  strcmp (json_string_value (json_object_get (w, "sup")), msg->from) != 0
    ||  strcmp (msg_str (msg, "supervisor", ""), msg->from) != 0)
        return 0;
    json_object_set_new (self->states, id, json_deep_copy (msg->body));
    json_t *sup = json_object_get (self->sups, msg_str (msg, "supervisor", ""));
    json_t *ids = json_object_get (json_object_get (sup, "reported"), app);
    if (ids)
        json_object_set_new (ids, id, json_deep_copy (msg->body));
    sch_rollout_state (self, act, msg, msg->body);
    const char *state_name = msg_str (msg, "state", "");
    if (msg_bool (msg, "oneoff", false)
    &&  (strcmp (state_name, "down") == 0 || strcmp (state_name, "crashed") == 0)) {
        json_t *mine = json_object_get (json_object_get (self->oneoffs, app), msg_str (msg, "name", ""));
        if (mine && strcmp (json_string_value (json_object_get (mine, "id")), id) == 0)
            sch_oneoff_drop (self, app, msg_str (msg, "name", ""));
    }
    sch_place (self, act, app);
    return 0;
}

// ---------------------------------------------------------------------------
//  hosts.list

int
sch_on_hosts_list (void *state, act_t *act, msg_t *msg)
{
    sch_state_t *self = state;
    json_t *hosts = json_array ();
    const char **names = s_sup_names (self);
    for (size_t i = 0; names [i]; i++) {
        json_t *sup = json_object_get (self->sups, names [i]);
        json_int_t capacity = json_integer_value (json_object_get (sup, "capacity_mb"));
        json_int_t used = 0, dynos = 0;
        const char *id;
        json_t *w;
        json_object_foreach (self->where, id, w)
            if (strcmp (json_string_value (json_object_get (w, "sup")), names [i]) == 0) {
                used += json_integer_value (json_object_get (w, "mem_mb"));
                dynos++;
            }
        json_array_append_new (hosts, json_pack ("{s:O, s:s, s:I, s:I, s:I, s:I}", "host",
                                                 json_object_get (sup, "host"), "supervisor",
                                                 names [i], "capacity_mb", capacity, "used_mb",
                                                 used, "dynos", dynos, "last_report_ms",
                                                 json_integer_value (json_object_get (sup, "report_ms"))));
    }
    free (names);
    msg_t *reply = act_msg_new (act, MSG_TYPE_HOSTS_LIST_REPLY, NULL);
    msg_set_json (reply, "hosts", hosts);
    return act_reply (act, msg, &reply);
}
