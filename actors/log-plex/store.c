//  store - log-plex's history and log tokens on disk (LevelDB)

#include "store.h"
#include "entry.h"
#include "../common/act_base.h"

#include <assert.h>
#include <leveldb/c.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LPX_STORE_TAG       0x6c737472u     // "lstr"
#define LPX_STORE_TAG_DEAD  0xdeadbeefu
#define LPX_KEY_MAX         128             // `l`, app, NUL, 2-byte slot
#define LPX_STAGED_APPS     64              // apps with staged lines, at most

//  A line staged for the next write: it goes into the LevelDB batch only
//  then, and not at all when a newer line of its app took its slot
//  meanwhile (at a high rate most lines are overwritten before a write).
typedef struct {
    uint32_t app;               // index into `apps`
    uint64_t seq;
    lpx_entry_t *entry;         // one reference
} lpx_staged_t;

typedef struct {
    char name [LPX_KEY_MAX];
    uint64_t newest;            // highest seq staged
} lpx_staged_app_t;

struct lpx_store {
    uint32_t tag;
    leveldb_t *db;
    leveldb_options_t *options;
    leveldb_writeoptions_t *sync_write;
    leveldb_writeoptions_t *plain_write;     // no fsync: lines
    leveldb_readoptions_t *read;
    leveldb_writebatch_t *batch;
    size_t staged;              // bytes staged: lines and batch
    size_t slots;
    //  Lines staged, oldest first, and their apps.
    lpx_staged_t *lines;
    size_t line_count;
    size_t line_cap;
    lpx_staged_app_t *apps;     // LPX_STAGED_APPS of them
    size_t app_count;
    size_t app_last;            // the app of the last staged line
    char *value;                // a line's value being built
    size_t value_cap;
    char reason [256];          // why the last call failed
};

//  A line's key into `key`; returns its length.
static size_t
s_line_key (char *key, const char *app, size_t slot)
{
    size_t len = strlen (app);
    assert (len + 4 <= LPX_KEY_MAX);
    key [0] = 'l';
    memcpy (key + 1, app, len + 1);
    key [len + 2] = (char) (slot >> 8);
    key [len + 3] = (char) (slot & 0xff);
    return len + 4;
}

lpx_store_t *
lpx_store_open (const char *dir, size_t slots, int *rc, char *reason, size_t reason_len)
{
    lpx_store_t *self = act_calloc (1, sizeof *self);
    self->tag = LPX_STORE_TAG;
    self->slots = slots;
    self->options = leveldb_options_create ();
    leveldb_options_set_create_if_missing (self->options, 1);
    self->sync_write = leveldb_writeoptions_create ();
    leveldb_writeoptions_set_sync (self->sync_write, 1);
    self->plain_write = leveldb_writeoptions_create ();
    self->read = leveldb_readoptions_create ();
    self->batch = leveldb_writebatch_create ();
    self->apps = act_calloc (LPX_STAGED_APPS, sizeof *self->apps);
    char *err = NULL;
    int mk = act_mkdir_p (dir, 0700);
    if (mk == 0)
        self->db = leveldb_open (self->options, dir, &err);
    if (!self->db) {
        snprintf (reason, reason_len, "cannot open '%s': %s", dir,
                  err ? err : act_strerror (mk));
        leveldb_free (err);
        *rc = ACT_ESTORE;
        lpx_store_close (&self);
        return NULL;
    }
    return self;
}

void
lpx_store_close (lpx_store_t **self_p)
{
    lpx_store_t *self = *self_p;
    if (!self)
        return;
    assert (self->tag == LPX_STORE_TAG);
    if (self->db) {
        lpx_store_flush (self);
        leveldb_close (self->db);
    }
    for (size_t i = 0; i < self->line_count; i++)
        lpx_entry_unref (&self->lines [i].entry);
    free (self->lines);
    free (self->apps);
    free (self->value);
    leveldb_writebatch_destroy (self->batch);
    leveldb_readoptions_destroy (self->read);
    leveldb_writeoptions_destroy (self->sync_write);
    leveldb_writeoptions_destroy (self->plain_write);
    leveldb_options_destroy (self->options);
    self->tag = LPX_STORE_TAG_DEAD;
    free (self);
    *self_p = NULL;
}

typedef struct {
    uint64_t seq;
    char *line;                 // owned
    size_t len;
} lpx_stored_t;

static int
s_by_seq (const void *a, const void *b)
{
    uint64_t x = ((const lpx_stored_t *) a)->seq, y = ((const lpx_stored_t *) b)->seq;
    return x < y ? -1 : x > y;
}

//  Hands the lines gathered for `app` to `fn` in seq order, then frees
//  them.
static void
s_emit (const char *app, lpx_stored_t *lines, size_t *count_p, lpx_store_line_fn *fn, void *arg)
{
    qsort (lines, *count_p, sizeof *lines, s_by_seq);
    for (size_t i = 0; i < *count_p; i++) {
        fn (arg, app, lines [i].seq, lines [i].line, lines [i].len);
        free (lines [i].line);
    }
    *count_p = 0;
}

int
lpx_store_load (lpx_store_t *self, lpx_store_line_fn *line_fn, lpx_store_token_fn *token_fn,
                void *arg)
{
    assert (self && self->tag == LPX_STORE_TAG);
    leveldb_iterator_t *it = leveldb_create_iterator (self->db, self->read);
    lpx_stored_t *lines = act_calloc (self->slots, sizeof *lines);
    size_t count = 0;
    char app [LPX_KEY_MAX] = "";
    for (leveldb_iter_seek_to_first (it); leveldb_iter_valid (it); leveldb_iter_next (it)) {
        size_t klen, vlen;
        const char *key = leveldb_iter_key (it, &klen);
        const char *value = leveldb_iter_value (it, &vlen);
        if (klen < 2 || klen >= LPX_KEY_MAX)
            continue;
        if (key [0] == 't') {
            char name [LPX_KEY_MAX], token [LPX_KEY_MAX];
            if (vlen >= sizeof token)
                continue;
            memcpy (name, key + 1, klen - 1);
            name [klen - 1] = 0;
            memcpy (token, value, vlen);
            token [vlen] = 0;
            token_fn (arg, name, token);
            continue;
        }
        //  `l` app NUL slot slot: the app ends at the NUL.
        const char *nul = memchr (key + 1, 0, klen - 1);
        if (key [0] != 'l' || !nul || (size_t) (key + klen - nul) != 3 || vlen < 8)
            continue;
        if (strcmp (app, key + 1) != 0) {
            s_emit (app, lines, &count, line_fn, arg);
            snprintf (app, sizeof app, "%s", key + 1);
        }
        if (count == self->slots)
            continue;           // a store made with more slots: keep the first
        uint64_t seq = 0;
        for (int i = 0; i < 8; i++)
            seq = (seq << 8) | (unsigned char) value [i];
        lines [count].seq = seq;
        lines [count].len = vlen - 8;
        lines [count].line = act_malloc (vlen - 8 + 1);
        memcpy (lines [count].line, value + 8, vlen - 8);
        lines [count].line [vlen - 8] = 0;
        count++;
    }
    s_emit (app, lines, &count, line_fn, arg);
    free (lines);
    char *err = NULL;
    leveldb_iter_get_error (it, &err);
    leveldb_iter_destroy (it);
    if (err) {
        snprintf (self->reason, sizeof self->reason, "cannot read the log store: %s", err);
        leveldb_free (err);
        return ACT_ESTORE;
    }
    return 0;
}


//  Moves the staged lines into the batch, each unless a newer line of its
//  app took its slot since; forgets them and their apps.
static void
s_lines_to_batch (lpx_store_t *self)
{
    for (size_t i = 0; i < self->line_count; i++) {
        lpx_staged_t *line = &self->lines [i];
        const lpx_staged_app_t *app = &self->apps [line->app];
        if (app->newest - line->seq < self->slots) {
            char key [LPX_KEY_MAX];
            size_t klen = s_line_key (key, app->name, (size_t) (line->seq % self->slots));
            size_t vlen = 8 + line->entry->len;
            if (vlen > self->value_cap) {
                self->value_cap = vlen * 2;
                self->value = act_realloc (self->value, self->value_cap);
            }
            for (int k = 0; k < 8; k++)
                self->value [k] = (char) (line->seq >> (56 - 8 * k));
            memcpy (self->value + 8, line->entry->text, line->entry->len);
            leveldb_writebatch_put (self->batch, key, klen, self->value, vlen);
        }
        lpx_entry_unref (&line->entry);
    }
    self->line_count = 0;
    self->app_count = 0;
    self->app_last = 0;
}

//  The index of `app` among the staged apps, added when new. When there
//  are LPX_STAGED_APPS already, the staged lines go to the batch first.
static uint32_t
s_staged_app (lpx_store_t *self, const char *app)
{
    if (self->app_count && strcmp (self->apps [self->app_last].name, app) == 0)
        return (uint32_t) self->app_last;
    size_t i = 0;
    while (i < self->app_count && strcmp (self->apps [i].name, app) != 0)
        i++;
    if (i == LPX_STAGED_APPS) {
        s_lines_to_batch (self);
        i = 0;
    }
    if (i == self->app_count) {
        snprintf (self->apps [i].name, sizeof self->apps [i].name, "%s", app);
        self->apps [i].newest = 0;
        self->app_count++;
    }
    self->app_last = i;
    return (uint32_t) i;
}

void
lpx_store_put_entry (lpx_store_t *self, const char *app, uint64_t seq, lpx_entry_t *entry)
{
    assert (self && self->tag == LPX_STORE_TAG);
    assert (strlen (app) + 4 <= LPX_KEY_MAX);
    uint32_t index = s_staged_app (self, app);
    if (self->line_count == self->line_cap) {
        self->line_cap = self->line_cap ? self->line_cap * 2 : 256;
        self->lines = act_realloc (self->lines, self->line_cap * sizeof *self->lines);
    }
    self->lines [self->line_count++] = (lpx_staged_t) {
        .app = index, .seq = seq, .entry = lpx_entry_ref (entry)
    };
    if (seq > self->apps [index].newest)
        self->apps [index].newest = seq;
    self->staged += strlen (app) + 4 + 8 + entry->len;
}

void
lpx_store_put_line (lpx_store_t *self, const char *app, uint64_t seq, const char *line,
                    size_t len)
{
    lpx_entry_t *entry = lpx_entry_new (line, len);
    lpx_store_put_entry (self, app, seq, entry);
    lpx_entry_unref (&entry);
}

int
lpx_store_put_token (lpx_store_t *self, const char *app, const char *token)
{
    assert (self && self->tag == LPX_STORE_TAG);
    s_lines_to_batch (self);
    char *key = act_sprintf ("t%s", app);
    leveldb_writebatch_put (self->batch, key, strlen (key), token, strlen (token));
    self->staged += strlen (key) + strlen (token);
    free (key);
    return lpx_store_flush (self);
}

int
lpx_store_drop_app (lpx_store_t *self, const char *app)
{
    assert (self && self->tag == LPX_STORE_TAG);
    s_lines_to_batch (self);
    //  Every slot by key, not by iterating: staged puts are covered too,
    //  since the batch applies in order.
    char key [LPX_KEY_MAX];
    for (size_t slot = 0; slot < self->slots; slot++) {
        size_t klen = s_line_key (key, app, slot);
        leveldb_writebatch_delete (self->batch, key, klen);
    }
    char *tkey = act_sprintf ("t%s", app);
    leveldb_writebatch_delete (self->batch, tkey, strlen (tkey));
    free (tkey);
    self->staged += self->slots;
    return lpx_store_flush (self);
}

const char *
lpx_store_reason (const lpx_store_t *self)
{
    return self->reason;
}

size_t
lpx_store_staged (const lpx_store_t *self)
{
    return self->staged;
}

//  Writes what is staged with `options`.
static int
s_write (lpx_store_t *self, const leveldb_writeoptions_t *options)
{
    assert (self && self->tag == LPX_STORE_TAG);
    if (self->staged == 0)
        return 0;
    s_lines_to_batch (self);
    char *err = NULL;
    leveldb_write (self->db, options, self->batch, &err);
    leveldb_writebatch_clear (self->batch);
    self->staged = 0;
    if (err) {
        snprintf (self->reason, sizeof self->reason, "cannot write the log store: %s", err);
        leveldb_free (err);
        return ACT_ESTORE;
    }
    return 0;
}

int
lpx_store_flush (lpx_store_t *self)
{
    return s_write (self, self->sync_write);
}

int
lpx_store_flush_lines (lpx_store_t *self)
{
    return s_write (self, self->plain_write);
}

//  A drain's key (`d` app NUL url); caller owns result, length in *len_p.
static char *
s_drain_key (const char *app, const char *url, size_t *len_p)
{
    size_t alen = strlen (app), ulen = strlen (url);
    char *key = act_malloc (alen + ulen + 2);
    key [0] = 'd';
    memcpy (key + 1, app, alen + 1);
    memcpy (key + alen + 2, url, ulen);
    *len_p = alen + ulen + 2;
    return key;
}

int
lpx_store_put_drain (lpx_store_t *self, const char *app, const char *url, const char *token)
{
    assert (self && self->tag == LPX_STORE_TAG);
    s_lines_to_batch (self);
    size_t klen;
    char *key = s_drain_key (app, url, &klen);
    leveldb_writebatch_put (self->batch, key, klen, token, strlen (token));
    self->staged += klen + strlen (token);
    free (key);
    return lpx_store_flush (self);
}

int
lpx_store_drop_drain (lpx_store_t *self, const char *app, const char *url)
{
    assert (self && self->tag == LPX_STORE_TAG);
    s_lines_to_batch (self);
    size_t klen;
    char *key = s_drain_key (app, url, &klen);
    leveldb_writebatch_delete (self->batch, key, klen);
    self->staged += klen;
    free (key);
    return lpx_store_flush (self);
}

int
lpx_store_load_drains (lpx_store_t *self, lpx_store_drain_fn *fn, void *arg)
{
    assert (self && self->tag == LPX_STORE_TAG);
    leveldb_iterator_t *it = leveldb_create_iterator (self->db, self->read);
    for (leveldb_iter_seek (it, "d", 1); leveldb_iter_valid (it); leveldb_iter_next (it)) {
        size_t klen, vlen;
        const char *key = leveldb_iter_key (it, &klen);
        const char *value = leveldb_iter_value (it, &vlen);
        if (klen < 1 || key [0] != 'd')
            break;
        const char *nul = memchr (key + 1, 0, klen - 1);
        if (!nul || vlen > 64 || klen > 1024)
            continue;
        char app [LPX_KEY_MAX], url [1024], token [65];
        size_t alen = (size_t) (nul - key - 1), ulen = klen - alen - 2;
        if (alen >= sizeof app)
            continue;
        memcpy (app, key + 1, alen + 1);
        memcpy (url, nul + 1, ulen);
        url [ulen] = 0;
        memcpy (token, value, vlen);
        token [vlen] = 0;
        fn (arg, app, url, token);
    }
    char *err = NULL;
    leveldb_iter_get_error (it, &err);
    leveldb_iter_destroy (it);
    if (err) {
        snprintf (self->reason, sizeof self->reason, "cannot read the log store: %s", err);
        leveldb_free (err);
        return ACT_ESTORE;
    }
    return 0;
}
