//  test_sch_support - drives the scheduler under act_offline for its suites
//
//  See test_sch_support.h.

#include "test_sch_support.h"
#include "../../messages/msg_logbatch.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void
ts_open (ut_offline_t *t)
{
    ut_offline_open (t, sch_actor_def (), 5);
    ts_state (t)->settled = true;
}

sch_state_t *
ts_state (ut_offline_t *t)
{
    return ut_offline_state (t);
}

void
ts_release (ut_offline_t *t, const char *app, int64_t version, json_t *types, const char *blob)
{
    msg_t *msg = ut_offline_msg (t, MSG_TYPE_RELEASE_CREATED, "release-keeper@h1");
    json_decref (msg->body);
    msg->durable = true;
    msg->body = json_pack ("{s:s, s:I, s:s, s:s, s:I, s:I, s:o, s:b, s:I}", "app", app,
                           "version", (json_int_t) version, "description", "Deploy", "by", "ann",
                           "created_ms", (json_int_t) msg->ts, "config_version",
                           (json_int_t) version, "process_types",
                           types ? types : json_pack ("{s:s}", "web", "./web"), "current", 1,
                           "app_created_ms", (json_int_t) TS_BORN);
    if (blob)
        msg_set_json (msg, "slug", json_pack ("{s:s, s:i}", "blob", blob, "size", 10));
    ut_offline_feed_take (t, &msg);
}

void
ts_cmd (ut_offline_t *t, msg_type_id_t type, json_t *body)
{
    msg_t *msg = ut_offline_msg (t, type, "cli@c1");
    msg->durable = true;
    json_decref (msg->body);
    msg->body = body;
    if (!json_object_get (body, "by"))
        msg_set_str (msg, "by", "ann");
    ut_offline_feed_take (t, &msg);
}

void
ts_soft (ut_offline_t *t, msg_type_id_t type, const char *from, json_t *body)
{
    msg_t *msg = ut_offline_msg (t, type, from);
    msg->seq = 0;
    json_decref (msg->body);
    msg->body = body;
    ut_offline_feed_take (t, &msg);
}

void
ts_scale (ut_offline_t *t, const char *app, const char *type, const char *op, int quantity)
{
    ts_cmd (t, MSG_TYPE_PS_SCALE, json_pack ("{s:s, s:[{s:s, s:s, s:i}]}", "app", app, "changes",
                                             "type", type, "op", op, "quantity", quantity));
}

static void
s_actor_event (ut_offline_t *t, msg_type_id_t type, const char *instance)
{
    ts_soft (t, type, "broker", json_pack ("{s:s, s:s, s:s}", "name", "dyno-supervisor",
                                           "instance", instance, "host", instance));
}

void
ts_sup_up (ut_offline_t *t, const char *instance)
{
    s_actor_event (t, MSG_TYPE_ACTOR_UP, instance);
}

void
ts_sup_down (ut_offline_t *t, const char *instance)
{
    s_actor_event (t, MSG_TYPE_ACTOR_DOWN, instance);
}

void
ts_report (ut_offline_t *t, const char *instance, int64_t capacity_mb, json_t *dynos)
{
    char addr [MSG_ADDR_MAX];
    snprintf (addr, sizeof addr, "dyno-supervisor@%s", instance);
    ts_soft (t, MSG_TYPE_DYNO_REPORT, addr,
             json_pack ("{s:s, s:s, s:I, s:o}", "supervisor", addr, "host", instance,
                        "capacity_mb", (json_int_t) capacity_mb, "dynos",
                        dynos ? dynos : json_array ()));
}

void
ts_dyno_state (ut_offline_t *t, const char *instance, const char *app, const char *name,
               const char *id, const char *state, int status)
{
    char addr [MSG_ADDR_MAX], type [64];
    snprintf (addr, sizeof addr, "dyno-supervisor@%s", instance);
    sch_dyno_type (name, type, sizeof type);
    json_t *body = json_pack ("{s:s, s:s, s:s, s:s, s:s, s:I, s:s, s:s, s:i, s:b}", "app", app,
                              "id", id, "name", name, "type", type, "state", state, "since_ms",
                              (json_int_t) UT_OFFLINE_TS, "supervisor", addr, "host", "127.0.0.1",
                              "release", 1, "oneoff", strncmp (name, "run.", 4) == 0
                                                      || strncmp (name, "release.", 8) == 0);
    if (status >= 0)
        json_object_set_new (body, "exit_status", json_integer (status));
    ts_soft (t, MSG_TYPE_DYNO_STATE, addr, body);
}

bool
ts_verdict (ut_offline_t *t)
{
    json_t *body = NULL;
    for (int i = 0; ut_offline_out_nth (t, MSG_TYPE_RELEASE_STATUS, i); i++) {
        msg_t *m = ut_offline_out_nth (t, MSG_TYPE_RELEASE_STATUS, i);
        if (strcmp (m->to, SCH_SCHEDULER) == 0) {
            json_decref (body);
            body = json_deep_copy (m->body);
        }
    }
    if (!body)
        return false;
    msg_t *msg = ut_offline_msg (t, MSG_TYPE_RELEASE_STATUS, "scheduler@h1");
    msg->durable = true;
    json_decref (msg->body);
    msg->body = body;
    ut_offline_feed_take (t, &msg);
    return true;
}

msg_t *
ts_assign (ut_offline_t *t, const char *instance, const char *app)
{
    char addr [MSG_ADDR_MAX];
    snprintf (addr, sizeof addr, "dyno-supervisor@%s", instance);
    msg_t *found = NULL;
    for (int i = 0; ut_offline_out_nth (t, MSG_TYPE_DYNO_ASSIGN, i); i++) {
        msg_t *m = ut_offline_out_nth (t, MSG_TYPE_DYNO_ASSIGN, i);
        if (strcmp (m->to, addr) == 0 && strcmp (msg_str (m, "app", ""), app) == 0)
            found = m;
    }
    return found;
}

static int
s_strcmp (const void *a, const void *b)
{
    return strcmp (*(const char *const *) a, *(const char *const *) b);
}

void
ts_names (const msg_t *assign, char *out, size_t len)
{
    json_t *dynos = json_object_get (assign->body, "dynos");
    size_t n = json_array_size (dynos), i;
    const char **names = calloc (n + 1, sizeof *names);
    json_t *entry;
    json_array_foreach (dynos, i, entry)
        names [i] = json_string_value (json_object_get (entry, "name"));
    qsort (names, n, sizeof *names, s_strcmp);
    out [0] = 0;
    for (i = 0; i < n; i++)
        snprintf (out + strlen (out), len - strlen (out), "%s%s", i ? " " : "", names [i]);
    free (names);
}

const char *
ts_id (ut_offline_t *t, const char *app, const char *name)
{
    json_t *dyno = json_object_get (json_object_get (sch_app (ts_state (t), app), "dynos"), name);
    return json_string_value (json_object_get (dyno, "id"));
}

const char *
ts_where (ut_offline_t *t, const char *id)
{
    return id ? json_string_value (json_object_get (json_object_get (ts_state (t)->where, id),
                                                    "sup"))
              : NULL;
}

bool
ts_logged (ut_offline_t *t, const char *text)
{
    for (int i = 0; ut_offline_out_nth (t, MSG_TYPE_LOG_BATCH, i); i++) {
        msg_t *m = ut_offline_out_nth (t, MSG_TYPE_LOG_BATCH, i);
        msg_logline_t line;
        if (msg_logbatch_get (m->body, 0, &line) && strcmp (line.text, text) == 0)
            return true;
    }
    return false;
}

int
ts_quantity (ut_offline_t *t, const char *app, const char *type)
{
    json_t *entry = json_object_get (
        json_object_get (sch_app (ts_state (t), app), "formation"), type);
    return entry ? (int) json_integer_value (json_object_get (entry, "quantity")) : -1;
}
