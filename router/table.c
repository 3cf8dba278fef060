//  table - the routing table: which web dynos of which app are `up`, where
//
//  Arrays scanned linearly: a host runs tens of apps, not thousands.

#include "table.h"
#include "../actors/common/act_base.h"

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

//  `stopping` and any other state is S_OTHER: neither routable nor a
//  reason to wait.
typedef enum { S_STARTING, S_UP, S_CRASHED, S_OTHER } rtr_state_t;

typedef struct {
    rtr_backend_t be;
    char sup [RTR_SUP_MAX];     // the supervisor that reported it
    rtr_state_t state;
    int64_t sidelined_until;    // monotonic ms
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
rtr_table_apply (rtr_table_t *self, const char *app_name, const char *id, const char *sup,
                 const char *name, const char *type, const char *state, const char *host, int port)
{
    pthread_mutex_lock (&self->lock);
    rtr_app_t *app = s_app (self, app_name, true);
    if (strcmp (type, "web") != 0) {
        pthread_mutex_unlock (&self->lock);
        return;
    }
    size_t at = app->count;
    for (size_t i = 0; i < app->count; i++)
        if (strcmp (app->dynos [i].be.id, id) == 0 && strcmp (app->dynos [i].sup, sup) == 0)
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
        app->dynos [at].sidelined_until = 0;
    }
    rtr_dyno_t *dyno = &app->dynos [at];
    s_copy (dyno->be.id, sizeof dyno->be.id, id);
    s_copy (dyno->sup, sizeof dyno->sup, sup);
    s_copy (dyno->be.name, sizeof dyno->be.name, name);
    s_copy (dyno->be.host, sizeof dyno->be.host, host);
    dyno->be.port = port;
    dyno->state = strcmp (state, "up") == 0 ? S_UP
                : strcmp (state, "crashed") == 0 ? S_CRASHED
                : strcmp (state, "starting") == 0 ? S_STARTING : S_OTHER;
    if (dyno->state == S_UP && port <= 0)
        dyno->state = S_STARTING;       // nowhere to send requests
    pthread_mutex_unlock (&self->lock);
}

size_t
rtr_table_drop_sup (rtr_table_t *self, const char *sup)
{
    size_t dropped = 0;
    pthread_mutex_lock (&self->lock);
    for (size_t i = 0; i < self->count; i++) {
        rtr_app_t *app = &self->apps [i];
        for (size_t j = 0; j < app->count; )
            if (strcmp (app->dynos [j].sup, sup) == 0) {
                app->dynos [j] = app->dynos [--app->count];
                dropped++;
            }
            else
                j++;
    }
    pthread_mutex_unlock (&self->lock);
    return dropped;
}

static bool
s_skipped (const char *id, const char (*skip) [RTR_ID_MAX], size_t skip_count)
{
    for (size_t i = 0; i < skip_count; i++)
        if (strcmp (skip [i], id) == 0)
            return true;
    return false;
}

static int64_t
s_now_ms (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

//  The `nth` dyno that can take a request (up, not skipped, and not
//  sidelined unless `sidelined_too`), or NULL; counts them in *count.
static rtr_dyno_t *
s_candidate (rtr_app_t *app, const char (*skip) [RTR_ID_MAX], size_t skip_count,
             bool sidelined_too, int64_t now, size_t nth, size_t *count)
{
    rtr_dyno_t *found = NULL;
    size_t n = 0;
    for (size_t i = 0; i < app->count; i++) {
        rtr_dyno_t *dyno = &app->dynos [i];
        if (dyno->state != S_UP || s_skipped (dyno->be.id, skip, skip_count)
        ||  (!sidelined_too && dyno->sidelined_until > now))
            continue;
        if (n++ == nth)
            found = dyno;
    }
    *count = n;
    return found;
}

rtr_pick_t
rtr_table_pick (rtr_table_t *self, const char *app_name, uint64_t rnd,
                const char (*skip) [RTR_ID_MAX], size_t skip_count, rtr_backend_t *out)
{
    int64_t now = s_now_ms ();
    pthread_mutex_lock (&self->lock);
    rtr_app_t *app = s_app (self, app_name, false);
    rtr_pick_t rc = RTR_PICK_NO_APP;
    if (app) {
        size_t up;
        bool sidelined_too = false;
        s_candidate (app, skip, skip_count, false, now, SIZE_MAX, &up);
        if (!up) {              // only sidelined dynos left: better than none
            sidelined_too = true;
            s_candidate (app, skip, skip_count, true, now, SIZE_MAX, &up);
        }
        if (up) {
            *out = s_candidate (app, skip, skip_count, sidelined_too, now,
                                (size_t) (rnd % up), &up)->be;
            rc = RTR_PICK_OK;
        }
        else {
            size_t crashed = 0, starting = 0;
            for (size_t i = 0; i < app->count; i++) {
                crashed += app->dynos [i].state == S_CRASHED;
                starting += app->dynos [i].state == S_STARTING;
            }
            rc = crashed && crashed == app->count ? RTR_PICK_CRASHED
               : starting && skip_count == 0 ? RTR_PICK_STARTING : RTR_PICK_NO_WEB;
        }
    }
    pthread_mutex_unlock (&self->lock);
    return rc;
}

//  Under the lock. The entry after `after` (NULL: the first) with dyno id
//  `id`, or NULL: one per supervisor that reported it.
static rtr_dyno_t *
s_dyno (rtr_table_t *self, const char *id, const rtr_dyno_t *after)
{
    bool passed = after == NULL;
    for (size_t i = 0; i < self->count; i++)
        for (size_t j = 0; j < self->apps [i].count; j++) {
            rtr_dyno_t *dyno = &self->apps [i].dynos [j];
            if (!passed)
                passed = dyno == after;
            else if (strcmp (dyno->be.id, id) == 0)
                return dyno;
        }
    return NULL;
}

void
rtr_table_sideline (rtr_table_t *self, const char *id, int ms)
{
    int64_t until = s_now_ms () + ms;
    pthread_mutex_lock (&self->lock);
    for (rtr_dyno_t *dyno = s_dyno (self, id, NULL); dyno; dyno = s_dyno (self, id, dyno))
        dyno->sidelined_until = until;
    pthread_mutex_unlock (&self->lock);
}

bool
rtr_table_is_up (rtr_table_t *self, const char *id)
{
    pthread_mutex_lock (&self->lock);
    bool up = false;
    for (rtr_dyno_t *dyno = s_dyno (self, id, NULL); dyno && !up; dyno = s_dyno (self, id, dyno))
        up = dyno->state == S_UP;
    pthread_mutex_unlock (&self->lock);
    return up;
}

size_t
rtr_table_sidelined (rtr_table_t *self)
{
    int64_t now = s_now_ms ();
    size_t n = 0;
    pthread_mutex_lock (&self->lock);
    for (size_t i = 0; i < self->count; i++)
        for (size_t j = 0; j < self->apps [i].count; j++)
            n += self->apps [i].dynos [j].sidelined_until > now;
    pthread_mutex_unlock (&self->lock);
    return n;
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
