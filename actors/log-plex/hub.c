//  hub - what log-plex's two threads share
//
//  Apps live in an array with a jansson object as the name -> index map
//  (the last app moves into a freed slot). The hand-off queue is a singly
//  linked list with a tail pointer and running line/byte totals.

#include "hub.h"
#include "ring.h"
#include "../common/act_base.h"

#include <assert.h>
#include <jansson.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define LPX_HUB_TAG         0x68756275u     // "hubu"
#define LPX_HUB_TAG_DEAD    0xdeadbeefu

typedef struct {
    char name [LPX_APP_MAX + 1];
    lpx_ring_t *ring;
    uint64_t next_seq;          // sequence number of the next line
    char token [LPX_TOKEN_LEN + 1];     // "" until made
    uint64_t lost;              // queued lines dropped since its last item
} lpx_app_t;

struct lpx_hub {
    uint32_t tag;
    pthread_mutex_t lock;
    json_t *index;              // app name -> index into apps
    lpx_app_t **apps;           // owned, `count` of them
    size_t count;
    size_t cap;
    char *api_token;            // owned; NULL when none
    //  The hand-off queue, oldest first.
    void (*wake) (void *arg);
    void *wake_arg;
    bool woken;                 // woken, and nothing taken since: no new wake
    lpx_handoff_t *head;
    lpx_handoff_t *tail;
    size_t queued_lines;
    size_t queued_bytes;
    uint64_t lost;              // lines ever dropped from the queue
};

void
lpx_handoff_destroy (lpx_handoff_t **list_p)
{
    lpx_handoff_t *item = *list_p;
    while (item) {
        lpx_handoff_t *next = item->next;
        for (size_t i = 0; i < item->count; i++)
            lpx_entry_unref (&item->entries [i]);
        free (item);
        item = next;
    }
    *list_p = NULL;
}

bool
lpx_app_name_ok (const char *app)
{
    size_t len = strlen (app);
    return len >= 3 && len <= LPX_APP_MAX && app [0] >= 'a' && app [0] <= 'z'
        && strspn (app, "abcdefghijklmnopqrstuvwxyz0123456789-") == len;
}

lpx_hub_t *
lpx_hub_new (const char *api_token)
{
    lpx_hub_t *self = act_calloc (1, sizeof *self);
    self->tag = LPX_HUB_TAG;
    pthread_mutex_init (&self->lock, NULL);
    self->index = json_object ();
    self->api_token = api_token && *api_token ? act_strdup (api_token) : NULL;
    return self;
}

static void
s_app_destroy (lpx_app_t **app_p)
{
    lpx_app_t *app = *app_p;
    if (!app)
        return;
    lpx_ring_destroy (&app->ring);
    free (app);
    *app_p = NULL;
}

void
lpx_hub_destroy (lpx_hub_t **self_p)
{
    lpx_hub_t *self = *self_p;
    if (!self)
        return;
    assert (self->tag == LPX_HUB_TAG);
    for (size_t i = 0; i < self->count; i++)
        s_app_destroy (&self->apps [i]);
    free (self->apps);
    json_decref (self->index);
    lpx_handoff_destroy (&self->head);
    free (self->api_token);
    pthread_mutex_destroy (&self->lock);
    self->tag = LPX_HUB_TAG_DEAD;
    free (self);
    *self_p = NULL;
}

//  The app named `name`, or NULL. Borrowed; call with the lock held.
static lpx_app_t *
s_app (lpx_hub_t *self, const char *name)
{
    json_t *i = json_object_get (self->index, name);
    return i ? self->apps [json_integer_value (i)] : NULL;
}

//  The app named `name`, made on first use; NULL when there are
//  LPX_APPS_MAX already. Borrowed; call with the lock held.
static lpx_app_t *
s_app_make (lpx_hub_t *self, const char *name)
{
    lpx_app_t *app = s_app (self, name);
    if (app || self->count >= LPX_APPS_MAX)
        return app;
    if (self->count == self->cap) {
        self->cap = self->cap ? self->cap * 2 : 16;
        self->apps = act_realloc (self->apps, self->cap * sizeof *self->apps);
    }
    app = act_calloc (1, sizeof *app);
    snprintf (app->name, sizeof app->name, "%s", name);
    app->ring = lpx_ring_new (LPX_LINES_MAX);
    json_object_set_new (self->index, name, json_integer ((json_int_t) self->count));
    self->apps [self->count++] = app;
    return app;
}

//  Appends `item` to the queue, dropping the oldest items past the bound.
//  Call with the lock held.
static void
s_enqueue (lpx_hub_t *self, lpx_handoff_t *item, size_t bytes)
{
    if (self->tail)
        self->tail->next = item;
    else
        self->head = item;
    self->tail = item;
    self->queued_lines += item->count;
    self->queued_bytes += bytes;
    while (self->head != item && (self->queued_lines > LPX_HANDOFF_LINES_MAX
                              ||  self->queued_bytes > LPX_HANDOFF_BYTES_MAX)) {
        lpx_handoff_t *old = self->head;
        self->head = old->next;
        old->next = NULL;
        for (size_t i = 0; i < old->count; i++)
            self->queued_bytes -= old->entries [i]->len;
        self->queued_lines -= old->count;
        self->lost += old->count;
        lpx_app_t *app = s_app (self, old->app);
        if (app)
            app->lost += old->count + old->lost;
        lpx_handoff_destroy (&old);
    }
}

int
lpx_hub_append (lpx_hub_t *self, const char *app_name, lpx_entry_t **entries, size_t count,
                uint64_t *first_seq_p)
{
    assert (self && self->tag == LPX_HUB_TAG);
    pthread_mutex_lock (&self->lock);
    lpx_app_t *app = s_app_make (self, app_name);
    if (!app) {
        pthread_mutex_unlock (&self->lock);
        for (size_t i = 0; i < count; i++)
            lpx_entry_unref (&entries [i]);
        return ACT_EFULL;
    }
    *first_seq_p = app->next_seq;
    app->next_seq += count;
    lpx_handoff_t *item = NULL;
    size_t bytes = 0;
    if (self->wake) {
        item = act_calloc (1, sizeof *item + count * sizeof item->entries [0]);
        snprintf (item->app, sizeof item->app, "%s", app_name);
        item->count = count;
    }
    for (size_t i = 0; i < count; i++) {
        if (item) {
            item->entries [i] = lpx_entry_ref (entries [i]);
            bytes += entries [i]->len;
        }
        lpx_ring_push_entry (app->ring, entries [i]);
        entries [i] = NULL;
    }
    void (*wake) (void *) = self->woken ? NULL : self->wake;
    void *wake_arg = self->wake_arg;
    self->woken = self->woken || wake;
    if (item) {
        //  After the enqueue, which may have dropped older lines of this
        //  app: never the new item, so it can carry them.
        s_enqueue (self, item, bytes);
        item->lost = app->lost;
        app->lost = 0;
    }
    pthread_mutex_unlock (&self->lock);
    if (wake)
        wake (wake_arg);
    return 0;
}

int
lpx_hub_load (lpx_hub_t *self, const char *app_name, uint64_t seq, lpx_entry_t *entry)
{
    assert (self && self->tag == LPX_HUB_TAG);
    pthread_mutex_lock (&self->lock);
    lpx_app_t *app = s_app_make (self, app_name);
    if (app) {
        lpx_ring_push_entry (app->ring, entry);
        app->next_seq = seq + 1;
    }
    pthread_mutex_unlock (&self->lock);
    if (!app)
        lpx_entry_unref (&entry);
    return app ? 0 : ACT_EFULL;
}

bool
lpx_hub_token (lpx_hub_t *self, const char *app_name, char *token)
{
    pthread_mutex_lock (&self->lock);
    lpx_app_t *app = s_app (self, app_name);
    bool found = app && app->token [0];
    if (found)
        memcpy (token, app->token, LPX_TOKEN_LEN + 1);
    pthread_mutex_unlock (&self->lock);
    return found;
}

int
lpx_hub_token_set (lpx_hub_t *self, const char *app_name, const char *token)
{
    pthread_mutex_lock (&self->lock);
    lpx_app_t *app = s_app_make (self, app_name);
    if (app)
        snprintf (app->token, sizeof app->token, "%s", token);
    pthread_mutex_unlock (&self->lock);
    return app ? 0 : ACT_EFULL;
}

json_t *
lpx_hub_tokens (lpx_hub_t *self)
{
    json_t *tokens = json_object ();
    pthread_mutex_lock (&self->lock);
    for (size_t i = 0; i < self->count; i++)
        if (self->apps [i]->token [0])
            json_object_set_new (tokens, self->apps [i]->name, json_string (self->apps [i]->token));
    pthread_mutex_unlock (&self->lock);
    return tokens;
}

bool
lpx_hub_drop (lpx_hub_t *self, const char *app_name)
{
    pthread_mutex_lock (&self->lock);
    json_t *index = json_object_get (self->index, app_name);
    if (!index) {
        pthread_mutex_unlock (&self->lock);
        return false;
    }
    size_t i = (size_t) json_integer_value (index);
    json_object_del (self->index, app_name);
    s_app_destroy (&self->apps [i]);
    size_t last = --self->count;
    if (i != last) {
        self->apps [i] = self->apps [last];
        json_object_set_new (self->index, self->apps [i]->name, json_integer ((json_int_t) i));
    }
    self->apps [last] = NULL;
    void (*wake) (void *) = self->woken ? NULL : self->wake;
    void *wake_arg = self->wake_arg;
    self->woken = self->woken || wake;
    if (self->wake) {
        lpx_handoff_t *item = act_calloc (1, sizeof *item);
        snprintf (item->app, sizeof item->app, "%s", app_name);
        item->dropped = true;
        s_enqueue (self, item, 0);
    }
    pthread_mutex_unlock (&self->lock);
    if (wake)
        wake (wake_arg);
    return true;
}

//  lpx_hub_history with the lock held.
static size_t
s_history (lpx_hub_t *self, const char *app_name, const lpx_filter_t *filter, size_t n,
           size_t budget, size_t overhead, lpx_entry_t **out, bool *known_p)
{
    lpx_app_t *app = s_app (self, app_name);
    if (known_p)
        *known_p = app != NULL;
    if (!app)
        return 0;
    //  Newest first into the end of `out`, then moved to its start.
    size_t found = 0;
    for (size_t i = lpx_ring_count (app->ring); i > 0 && found < n; i--) {
        lpx_entry_t *entry = lpx_ring_entry (app->ring, i - 1);
        if (!lpx_filter_match (filter, entry->text, entry->len))
            continue;
        if (entry->len + overhead > budget)
            break;
        budget -= entry->len + overhead;
        out [n - 1 - found++] = lpx_entry_ref (entry);
    }
    memmove (out, out + (n - found), found * sizeof *out);
    return found;
}

size_t
lpx_hub_history (lpx_hub_t *self, const char *app, const lpx_filter_t *filter, size_t n,
                 size_t budget, size_t overhead, lpx_entry_t **out, bool *known_p)
{
    assert (self && self->tag == LPX_HUB_TAG);
    pthread_mutex_lock (&self->lock);
    size_t found = s_history (self, app, filter, n, budget, overhead, out, known_p);
    pthread_mutex_unlock (&self->lock);
    return found;
}

void
lpx_hub_figures (lpx_hub_t *self, size_t *apps_p, size_t *bytes_p, uint64_t *lost_p)
{
    pthread_mutex_lock (&self->lock);
    size_t bytes = 0;
    for (size_t i = 0; i < self->count; i++)
        bytes += lpx_ring_bytes (self->apps [i]->ring);
    *apps_p = self->count;
    *bytes_p = bytes;
    *lost_p = self->lost;
    pthread_mutex_unlock (&self->lock);
}

//  Compares two NUL-terminated strings in time that depends only on the
//  length of `given`.
static bool
s_token_eq (const char *want, const char *given)
{
    size_t want_len = strlen (want), given_len = strlen (given);
    unsigned char diff = want_len != given_len;
    for (size_t i = 0; i < given_len; i++)
        diff |= (unsigned char) (given [i] ^ want [i < want_len ? i : 0]);
    return want_len > 0 && diff == 0;
}

int
lpx_hub_check (lpx_hub_t *self, const char *app_name, const char *token)
{
    assert (self && self->tag == LPX_HUB_TAG);
    if (!token || !*token)
        return LPX_AUTH_MISSING;
    pthread_mutex_lock (&self->lock);
    lpx_app_t *app = s_app (self, app_name);
    bool api = self->api_token && s_token_eq (self->api_token, token);
    bool own = app && app->token [0] && s_token_eq (app->token, token);
    pthread_mutex_unlock (&self->lock);
    if (!api && !own)
        return LPX_AUTH_WRONG;
    return app ? 0 : LPX_AUTH_NO_APP;
}

void
lpx_hub_attach (lpx_hub_t *self, void (*wake) (void *arg), void *arg)
{
    pthread_mutex_lock (&self->lock);
    self->wake = wake;
    self->wake_arg = arg;
    self->woken = false;
    lpx_handoff_t *list = NULL;
    if (!wake) {
        list = self->head;
        self->head = self->tail = NULL;
        self->queued_lines = self->queued_bytes = 0;
    }
    pthread_mutex_unlock (&self->lock);
    lpx_handoff_destroy (&list);
}

//  Takes the queue; call with the lock held.
static lpx_handoff_t *
s_take (lpx_hub_t *self)
{
    lpx_handoff_t *list = self->head;
    self->head = self->tail = NULL;
    self->queued_lines = self->queued_bytes = 0;
    self->woken = false;
    return list;
}

lpx_handoff_t *
lpx_hub_take (lpx_hub_t *self)
{
    assert (self && self->tag == LPX_HUB_TAG);
    pthread_mutex_lock (&self->lock);
    lpx_handoff_t *list = s_take (self);
    pthread_mutex_unlock (&self->lock);
    return list;
}

lpx_handoff_t *
lpx_hub_take_with_history (lpx_hub_t *self, const char *app, const lpx_filter_t *filter, size_t n,
                           size_t budget, size_t overhead, lpx_entry_t **out, size_t *count_p)
{
    assert (self && self->tag == LPX_HUB_TAG);
    pthread_mutex_lock (&self->lock);
    lpx_handoff_t *list = s_take (self);
    *count_p = s_history (self, app, filter, n, budget, overhead, out, NULL);
    pthread_mutex_unlock (&self->lock);
    return list;
}
