//  logs - batches the dynos' log lines for log-plex
//
//  See logs.h. Apps with lines waiting are few (those with dynos here), so
//  a small array searched by name is enough; an app leaves it when its
//  batch is sent. Each app's lines are packed as they come
//  (msg_logbatch.h), so sending a batch copies one buffer.

#include "logs.h"
#include "../../messages/msg_logbatch.h"

#include <stdlib.h>
#include <string.h>

typedef struct {
    char *app;                  // owned
    msg_logbatch_t lines;       // owned; at least one line
    size_t bytes;               // text bytes in lines
    int64_t first;              // mono ms of the batch's first line
} s_app_t;

struct sup_logs {
    s_app_t *apps;              // owned, `count` of them
    size_t count;
};

sup_logs_t *
sup_logs_new (void)
{
    return act_calloc (1, sizeof (sup_logs_t));
}

void
sup_logs_destroy (sup_logs_t **self_p)
{
    if (!*self_p)
        return;
    sup_logs_t *self = *self_p;
    for (size_t i = 0; i < self->count; i++) {
        free (self->apps [i].app);
        msg_logbatch_release (&self->apps [i].lines);
    }
    free (self->apps);
    free (self);
    *self_p = NULL;
}

//  Forgets app `index` and its lines (the last entry takes its place).
static void
s_forget (sup_logs_t *self, size_t index)
{
    s_app_t *app = &self->apps [index];
    free (app->app);
    msg_logbatch_release (&app->lines);
    *app = self->apps [--self->count];
}

//  Sends app `index`'s batch and forgets the app.
static void
s_send (sup_logs_t *self, act_t *act, size_t index)
{
    s_app_t *app = &self->apps [index];
    msg_t *msg = act_msg_new (act, MSG_TYPE_LOG_BATCH, "log-plex");
    msg_set_str (msg, "app", app->app);
    msg_set_json (msg, "lines", msg_logbatch_take (&app->lines));
    int rc = act_send (act, &msg);
    if (rc)
        act_log_warn ("cannot send log lines of '%s': %s", app->app, act_strerror (rc));
    s_forget (self, index);
}

//  The app's entry, made when missing.
static s_app_t *
s_app (sup_logs_t *self, const char *name)
{
    for (size_t i = 0; i < self->count; i++)
        if (strcmp (self->apps [i].app, name) == 0)
            return &self->apps [i];
    self->apps = act_realloc (self->apps, (self->count + 1) * sizeof *self->apps);
    s_app_t *app = &self->apps [self->count++];
    memset (app, 0, sizeof *app);
    app->app = act_strdup (name);
    return app;
}

void
sup_logs_add (sup_logs_t *self, act_t *act, const char *app, const char *source,
              const char *process, const char *text, size_t len, int64_t ts, int64_t mono)
{
    s_app_t *entry = s_app (self, app);
    if (entry->lines.lines && entry->bytes + len > SUP_LOG_BYTES) {
        s_send (self, act, (size_t) (entry - self->apps));
        entry = s_app (self, app);
    }
    if (msg_logbatch_add (&entry->lines, ts * 1000, source, process, text, len)) {
        act_log_warn ("log line of '%s' dropped: bad source '%s' or process '%s'", app, source,
                      process);
        if (entry->lines.lines == 0)
            s_forget (self, (size_t) (entry - self->apps));
        return;
    }
    if (entry->lines.lines == 1)
        entry->first = mono;
    entry->bytes += len;
    if (entry->lines.lines >= SUP_LOG_BATCH)
        s_send (self, act, (size_t) (entry - self->apps));
}

void
sup_logs_flush (sup_logs_t *self, act_t *act, int64_t mono, bool force)
{
    //  From the end: s_send moves the last entry into the sent one's place.
    for (size_t i = self->count; i-- > 0; )
        if (force || mono - self->apps [i].first >= SUP_LOG_WAIT_MS)
            s_send (self, act, i);
}

int64_t
sup_logs_deadline (const sup_logs_t *self)
{
    int64_t next = INT64_MAX;
    for (size_t i = 0; i < self->count; i++) {
        const s_app_t *app = &self->apps [i];
        if (app->first + SUP_LOG_WAIT_MS < next)
            next = app->first + SUP_LOG_WAIT_MS;
    }
    return next;
}
