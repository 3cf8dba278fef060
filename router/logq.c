//  logq - router log lines handed from the HTTP thread to the actor thread

//  accept4 and pipe2 are GNU/Linux.
#define _GNU_SOURCE

#include "logq.h"
#include "../messages/msg_logbatch.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct rtr_line rtr_line_t;
struct rtr_line {
    rtr_line_t *next;
    int64_t ts_us;
    char *app;                  // owned
    char *text;                 // owned
};

struct rtr_logq {
    pthread_mutex_t lock;
    rtr_line_t *head, *tail;    // owned
    size_t count;
    int64_t first_ms;           // when the oldest waiting line came
    bool woken;                 // a byte is in the pipe
    uint64_t dropped;
    int pipe [2];
};

rtr_logq_t *
rtr_logq_new (void)
{
    rtr_logq_t *self = act_calloc (1, sizeof *self);
    if (pipe2 (self->pipe, O_NONBLOCK | O_CLOEXEC)) {
        free (self);
        return NULL;
    }
    pthread_mutex_init (&self->lock, NULL);
    return self;
}

static void
s_free_lines (rtr_line_t *line)
{
    while (line) {
        rtr_line_t *next = line->next;
        free (line->app);
        free (line->text);
        free (line);
        line = next;
    }
}

void
rtr_logq_destroy (rtr_logq_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    rtr_logq_t *self = *self_p;
    s_free_lines (self->head);
    close (self->pipe [0]);
    close (self->pipe [1]);
    pthread_mutex_destroy (&self->lock);
    free (self);
    *self_p = NULL;
}

int
rtr_logq_fd (rtr_logq_t *self)
{
    return self->pipe [0];
}

//  Under the lock.
static void
s_wake (rtr_logq_t *self)
{
    if (self->woken)
        return;
    self->woken = true;
    ssize_t rc = write (self->pipe [1], "", 1);
    (void) rc;                  // a full pipe is awake already
}

void
rtr_logq_push (rtr_logq_t *self, const char *app, int64_t ts_us, const char *text)
{
    rtr_line_t *line = act_calloc (1, sizeof *line);
    line->ts_us = ts_us;
    line->app = act_strdup (app);
    line->text = act_strdup (text);
    pthread_mutex_lock (&self->lock);
    if (self->count >= RTR_LOGQ_MAX) {
        self->dropped++;
        pthread_mutex_unlock (&self->lock);
        s_free_lines (line);
        return;
    }
    if (self->tail)
        self->tail->next = line;
    else {
        self->head = line;
        self->first_ms = ts_us / 1000;
    }
    self->tail = line;
    if (++self->count >= RTR_LOGQ_BATCH)
        s_wake (self);
    pthread_mutex_unlock (&self->lock);
}

void
rtr_logq_tick (rtr_logq_t *self, int64_t now_ms)
{
    pthread_mutex_lock (&self->lock);
    if (self->count && now_ms - self->first_ms >= RTR_LOGQ_LINGER_MS)
        s_wake (self);
    pthread_mutex_unlock (&self->lock);
}

//  Sends the lines of the first app in `*list` and unlinks them.
static void
s_send_app (act_t *act, rtr_line_t **list)
{
    const char *app = (*list)->app;
    msg_logbatch_t batch = { 0 };
    rtr_line_t *sent = NULL, **keep = list;
    rtr_line_t *line = *list;
    *list = NULL;
    while (line) {
        rtr_line_t *next = line->next;
        line->next = NULL;
        if (strcmp (line->app, app) == 0 && batch.lines < RTR_LOGQ_BATCH) {
            msg_logbatch_add (&batch, line->ts_us, "dynod", "router", line->text,
                              strlen (line->text));
            line->next = sent;
            sent = line;
        }
        else {
            *keep = line;
            keep = &line->next;
        }
        line = next;
    }
    if (batch.lines) {
        msg_t *msg = act_msg_new (act, MSG_TYPE_LOG_BATCH, "log-plex");
        msg_set_str (msg, "app", app);
        msg_set_json (msg, "lines", msg_logbatch_take (&batch));
        act_send (act, &msg);
    }
    msg_logbatch_release (&batch);
    s_free_lines (sent);        // after: `app` points into one of them
}

void
rtr_logq_send (rtr_logq_t *self, act_t *act)
{
    char buf [64];
    while (read (self->pipe [0], buf, sizeof buf) > 0)
        ;
    pthread_mutex_lock (&self->lock);
    rtr_line_t *list = self->head;
    self->head = self->tail = NULL;
    self->count = 0;
    self->woken = false;
    pthread_mutex_unlock (&self->lock);
    while (list)
        s_send_app (act, &list);
}

uint64_t
rtr_logq_dropped (rtr_logq_t *self)
{
    pthread_mutex_lock (&self->lock);
    uint64_t dropped = self->dropped;
    pthread_mutex_unlock (&self->lock);
    return dropped;
}
