//  logs - batches the dynos' log lines for log-plex
//
//  See logs.h. Apps with lines waiting are few (those with dynos here), so
//  a JSON object keyed by app is enough.

#include "logs.h"

#include <stdlib.h>

struct sup_logs {
    json_t *apps;       // app -> { "lines": [...], "first": mono ms, "bytes": n }
};

sup_logs_t *
sup_logs_new (void)
{
    sup_logs_t *self = act_calloc (1, sizeof *self);
    self->apps = json_object ();
    return self;
}

void
sup_logs_destroy (sup_logs_t **self_p)
{
    if (!*self_p)
        return;
    json_decref ((*self_p)->apps);
    free (*self_p);
    *self_p = NULL;
}

static void
s_send (sup_logs_t *self, act_t *act, const char *app)
{
    json_t *batch = json_object_get (self->apps, app);
    msg_t *msg = act_msg_new (act, MSG_TYPE_LOG_BATCH, "log-plex");
    msg_set_str (msg, "app", app);
    msg_set_json (msg, "lines", json_incref (json_object_get (batch, "lines")));
    int rc = act_send (act, &msg);
    if (rc)
        act_log_warn ("cannot send log lines of '%s': %s", app, act_strerror (rc));
    json_object_del (self->apps, app);
}

void
sup_logs_add (sup_logs_t *self, act_t *act, const char *app, const char *source,
              const char *process, const char *text, size_t len, int64_t ts, int64_t mono)
{
    json_t *batch = json_object_get (self->apps, app);
    if (batch && json_integer_value (json_object_get (batch, "bytes")) + (json_int_t) len > SUP_LOG_BYTES) {
        s_send (self, act, app);
        batch = NULL;
    }
    if (!batch) {
        batch = json_pack ("{s:[], s:I, s:I}", "lines", "first", (json_int_t) mono, "bytes", (json_int_t) 0);
        json_object_set_new (self->apps, app, batch);
    }
    json_t *lines = json_object_get (batch, "lines");
    json_array_append_new (lines, json_pack ("{s:I, s:s, s:s, s:o}", "ts", (json_int_t) ts, "source", source,
                                             "process", process, "text", json_stringn_nocheck (text, len)));
    json_object_set_new (batch, "bytes",
                         json_integer (json_integer_value (json_object_get (batch, "bytes")) + (json_int_t) len));
    if (json_array_size (lines) >= SUP_LOG_BATCH)
        s_send (self, act, app);
}

void
sup_logs_flush (sup_logs_t *self, act_t *act, int64_t mono, bool force)
{
    const char *app;
    json_t *batch, *tmp;
    json_object_foreach_safe (self->apps, tmp, app, batch) {
        if (force || mono - json_integer_value (json_object_get (batch, "first")) >= SUP_LOG_WAIT_MS)
            s_send (self, act, app);
    }
}

int64_t
sup_logs_deadline (const sup_logs_t *self)
{
    int64_t next = INT64_MAX;
    const char *app;
    json_t *batch;
    json_object_foreach (self->apps, app, batch) {
        int64_t at = json_integer_value (json_object_get (batch, "first")) + SUP_LOG_WAIT_MS;
        if (at < next)
            next = at;
    }
    return next;
}
