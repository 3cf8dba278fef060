//  table - the routing table: which web dynos of which app are `up`, where
//
//  Arrays scanned linearly: a host runs tens of apps, not thousands.

#include "table.h"
#include "../actors/common/act_base.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef enum { S_STARTING, S_UP, S_CRASHED } rtr_state_t;

typedef struct {
    rtr_backend_t be;
    rtr_state_t state;
} rtr_dyno_t;

typedef struct {
    char *name;                 // owned
    rtr_dyno_t *dynos;          // owned
    size_t count, cap;
} rtr_app_t;

struct rtr_table {
    pthread_mutex_t lock;
    rtr_app_t *apps;            // owned
    size_t count, cap;
};

rtr_table_t *
rtr_table_new (void)
{
    rtr_table_t *self = act_calloc (1, sizeof *self);
    pthread_mutex_init (&self->lock, NULL);
    return self;
}

void
rtr_table_destroy (rtr_table_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    rtr_table_t *self = *self_p;
    for (size_t i = 0; i < self->count; i++) {
        free (self->apps [i].name);
        free (self->apps [i].dynos);
    }
    free (self->apps);
    pthread_mutex_destroy (&self->lock);
    free (self);
    *self_p = NULL;
}

//  Under the lock.
static rtr_app_t *
s_app (rtr_table_t *self, const char *name, bool create)
{
    for (size_t i = 0; i < self->count; i++)
        if (strcmp (self->apps [i].name, name) == 0)
            return &self->apps [i];
    if (!create)
        return NULL;
    if (self->count == self->cap) {
        self->cap = self->cap ? self->cap * 2 : 8;
        self->apps = act_realloc (self->apps, self->cap * sizeof *self->apps);
    }
    rtr_app_t *app = &self->apps [self->count++];
    memset (app, 0, sizeof *app);
    app->name = act_strdup (name);
    return app;
}

static void
s_copy (char *dst, size_t cap, const char *src)
{
    snprintf (dst, cap, "%s", src ? src : "");
}

void
rtr_table_apply (rtr_table_t *self, const char *app_name, const char *id, const char *name,
                 const char *type, const char *state, const char *host, int port)
{
    pthread_mutex_lock (&self->lock);
    rtr_app_t *app = s_app (self, app_name, true);
    if (strcmp (type, "web") != 0) {
        pthread_mutex_unlock (&self->lock);
        return;
    }
    size_t at = app->count;
    for (size_t i = 0; i < app->count; i++)
        if (strcmp (app->dynos [i].be.id, id) == 0)
            at = i;
    if (strcmp (state, "down") == 0) {
        if (at < app->count)
            app->dynos [at] = app->dynos [--app->count];
        pthread_mutex_unlock (&self->lock);
        return;
    }
    if (at == app->count) {
        if (app->count == app->cap) {
            app->cap = app->cap ? app->cap * 2 : 4;
            app->dynos = act_realloc (app->dynos, app->cap * sizeof *app->dynos);
        }
        app->count++;
    }
    rtr_dyno_t *dyno = &app->dynos [at];
    s_copy (dyno->be.id, sizeof dyno->be.id, id);
    s_copy (dyno->be.name, sizeof dyno->be.name, name);
    s_copy (dyno->be.host, sizeof dyno->be.host, host);
    dyno->be.port = port;
    dyno->state = strcmp (state, "up") == 0 ? S_UP
                : strcmp (state, "crashed") == 0 ? S_CRASHED : S_STARTING;
    if (dyno->state == S_UP && port <= 0)
        dyno->state = S_STARTING;       // nowhere to send requests
    pthread_mutex_unlock (&self->lock);
}

static bool
s_skipped (const char *id, const char (*skip) [RTR_ID_MAX], size_t skip_count)
{
    for (size_t i = 0; i < skip_count; i++)
        if (strcmp (skip [i], id) == 0)
            return true;
    return false;
}

rtr_pick_t
rtr_table_pick (rtr_table_t *self, const char *app_name, uint64_t rnd,
                const char (*skip) [RTR_ID_MAX], size_t skip_count, rtr_backend_t *out)
{
    pthread_mutex_lock (&self->lock);
    rtr_app_t *app = s_app (self, app_name, false);
    rtr_pick_t rc = RTR_PICK_NO_APP;
    if (app) {
        size_t up = 0, crashed = 0;
        for (size_t i = 0; i < app->count; i++) {
            if (app->dynos [i].state == S_CRASHED)
                crashed++;
            else
            if (app->dynos [i].state == S_UP
            &&  !s_skipped (app->dynos [i].be.id, skip, skip_count))
                up++;
        }
        if (up) {
            size_t nth = (size_t) (rnd % up);
            for (size_t i = 0; i < app->count; i++) {
                rtr_dyno_t *dyno = &app->dynos [i];
                if (dyno->state != S_UP || s_skipped (dyno->be.id, skip, skip_count))
                    continue;
                if (nth-- == 0) {
                    *out = dyno->be;
                    break;
                }
            }
            rc = RTR_PICK_OK;
        }
        else
            rc = crashed && crashed == app->count ? RTR_PICK_CRASHED : RTR_PICK_NO_WEB;
    }
    pthread_mutex_unlock (&self->lock);
    return rc;
}

size_t
rtr_table_up_count (rtr_table_t *self)
{
    size_t up = 0;
    pthread_mutex_lock (&self->lock);
    for (size_t i = 0; i < self->count; i++)
        for (size_t j = 0; j < self->apps [i].count; j++)
            up += self->apps [i].dynos [j].state == S_UP;
    pthread_mutex_unlock (&self->lock);
    return up;
}
