//  store - log-plex's history and log tokens on disk (LevelDB)

#include "store.h"
#include "entry.h"
#include "../common/act_base.h"

#include <assert.h>
#include <leveldb/c.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LPX_STORE_TAG       0x6c737472u     // "lstr"
#define LPX_STORE_TAG_DEAD  0xdeadbeefu
#define LPX_KEY_MAX         128             // `l`, app, NUL, 2-byte slot
#define LPX_STAGED_APPS     64              // apps with staged lines, at most

//  A line staged for the next write: it goes into a LevelDB batch only
//  then, and not at all when a newer line of its app took its slot
//  meanwhile (at a high rate most lines are overwritten before a write).
typedef struct {
    uint32_t app;               // index into the stage's `apps`
    uint64_t seq;
    lpx_entry_t *entry;         // one reference
} lpx_staged_t;

typedef struct {
    char name [LPX_KEY_MAX];
    uint64_t newest;            // highest seq staged
} lpx_staged_app_t;

//  Lines staged, oldest first, and their apps.
typedef struct {
    lpx_staged_t *lines;
    size_t count;
    size_t cap;
    lpx_staged_app_t *apps;     // LPX_STAGED_APPS of them
    size_t app_count;
    size_t app_last;            // the app of the last staged line
    size_t bytes;
} lpx_stage_t;

struct lpx_store {
    uint32_t tag;
    leveldb_t *db;
    leveldb_options_t *options;
    leveldb_writeoptions_t *sync_write;
    leveldb_writeoptions_t *plain_write;     // no fsync: lines
    leveldb_readoptions_t *read;
    size_t slots;
    //  The actor thread's.
    leveldb_writebatch_t *batch;             // the synchronous writes
    size_t staged;              // bytes of `batch`
    lpx_stage_t stage;          // lines staged since the last flush
    char *value;                // a line's value being built
    size_t value_cap;
    char reason [256];          // why the last call failed
    //  The writer thread: it takes `pending` (when `ready`) into `work`
    //  and writes it. Under `lock`: pending, ready, busy, stop, async_*.
    pthread_t writer;
    bool started;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    lpx_stage_t pending;
    bool ready;                 // pending holds lines to write
    bool busy;                  // the writer is writing
    bool stop;
    int async_rc;               // the first failed write not reported yet
    char async_reason [256];
    lpx_stage_t work;           // the writer's own
    leveldb_writebatch_t *work_batch;
    char *work_value;
    size_t work_value_cap;
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

static void
s_stage_init (lpx_stage_t *stage)
{
    memset (stage, 0, sizeof *stage);
    stage->apps = act_calloc (LPX_STAGED_APPS, sizeof *stage->apps);
}

static void
s_stage_release (lpx_stage_t *stage)
{
    for (size_t i = 0; i < stage->count; i++)
        lpx_entry_unref (&stage->lines [i].entry);
    free (stage->lines);
    free (stage->apps);
    memset (stage, 0, sizeof *stage);
}

static void
s_stage_swap (lpx_stage_t *a, lpx_stage_t *b)
{
    lpx_stage_t t = *a;
    *a = *b;
    *b = t;
}

//  Puts the lines of `stage` into `batch`, each unless a newer line of its
//  app took its slot since, and empties the stage. `value` / `cap` is the
//  caller's buffer for building a value.
static void
s_stage_to_batch (size_t slots, lpx_stage_t *stage, leveldb_writebatch_t *batch, char **value,
                  size_t *cap)
{
    for (size_t i = 0; i < stage->count; i++) {
        lpx_staged_t *line = &stage->lines [i];
        const lpx_staged_app_t *app = &stage->apps [line->app];
        if (app->newest - line->seq < slots) {
            char key [LPX_KEY_MAX];
            size_t klen = s_line_key (key, app->name, (size_t) (line->seq % slots));
            size_t vlen = 8 + line->entry->len;
            if (vlen > *cap) {
                *cap = vlen * 2;
                *value = act_realloc (*value, *cap);
            }
            for (int k = 0; k < 8; k++)
                (*value) [k] = (char) (line->seq >> (56 - 8 * k));
            memcpy (*value + 8, line->entry->text, line->entry->len);
            leveldb_writebatch_put (batch, key, klen, *value, vlen);
        }
        lpx_entry_unref (&line->entry);
    }
    stage->count = 0;
    stage->app_count = 0;
    stage->app_last = 0;
    stage->bytes = 0;
}

//  The writer thread: writes each stage handed over, without fsync.
static void *
s_writer (void *arg)
{
    lpx_store_t *self = arg;
    pthread_mutex_lock (&self->lock);
    for (;;) {
        while (!self->ready && !self->stop)
            pthread_cond_wait (&self->cond, &self->lock);
        if (!self->ready)
            break;                      // stopped, nothing left
        s_stage_swap (&self->pending, &self->work);
        self->ready = false;
        self->busy = true;
        pthread_cond_broadcast (&self->cond);
        pthread_mutex_unlock (&self->lock);
        s_stage_to_batch (self->slots, &self->work, self->work_batch, &self->work_value,
                          &self->work_value_cap);
        char *err = NULL;
        leveldb_write (self->db, self->plain_write, self->work_batch, &err);
        leveldb_writebatch_clear (self->work_batch);
        pthread_mutex_lock (&self->lock);
        self->busy = false;
        if (err && !self->async_rc) {
            self->async_rc = ACT_ESTORE;
            snprintf (self->async_reason, sizeof self->async_reason,
                      "cannot write the log store: %s", err);
        }
        leveldb_free (err);
        pthread_cond_broadcast (&self->cond);
    }
    pthread_mutex_unlock (&self->lock);
    return NULL;
}

//  The writer's first unreported failure, moved to `reason`: 0 or
//  ACT_ESTORE. Call with the lock held.
static int
s_async_rc (lpx_store_t *self)
{
    int rc = self->async_rc;
    if (rc)
        memcpy (self->reason, self->async_reason, sizeof self->reason);
    self->async_rc = 0;
    return rc;
}

//  Hands the staged lines to the writer (waiting while it has a stage
//  pending already). Returns 0, or ACT_ESTORE for an earlier write.
static int
s_handoff (lpx_store_t *self)
{
    pthread_mutex_lock (&self->lock);
    while (self->ready)
        pthread_cond_wait (&self->cond, &self->lock);
    s_stage_swap (&self->stage, &self->pending);
    self->ready = true;
    pthread_cond_broadcast (&self->cond);
    int rc = s_async_rc (self);
    pthread_mutex_unlock (&self->lock);
    return rc;
}

//  Waits until the writer has written everything handed over. Returns 0,
//  or ACT_ESTORE for a failed write.
static int
s_writer_idle (lpx_store_t *self)
{
    if (!self->started)
        return 0;
    pthread_mutex_lock (&self->lock);
    while (self->ready || self->busy)
        pthread_cond_wait (&self->cond, &self->lock);
    int rc = s_async_rc (self);
    pthread_mutex_unlock (&self->lock);
    return rc;
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
    self->work_batch = leveldb_writebatch_create ();
    s_stage_init (&self->stage);
    s_stage_init (&self->pending);
    s_stage_init (&self->work);
    pthread_mutex_init (&self->lock, NULL);
    pthread_cond_init (&self->cond, NULL);
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
    //  Without the thread, lines are written on the caller's thread.
    self->started = pthread_create (&self->writer, NULL, s_writer, self) == 0;
    return self;
}

void
lpx_store_close (lpx_store_t **self_p)
{
    lpx_store_t *self = *self_p;
    if (!self)
        return;
    assert (self->tag == LPX_STORE_TAG);
    if (self->started) {
        //  It writes what is pending first.
        pthread_mutex_lock (&self->lock);
        self->stop = true;
        pthread_cond_broadcast (&self->cond);
        pthread_mutex_unlock (&self->lock);
        pthread_join (self->writer, NULL);
        self->started = false;
    }
    if (self->db) {
        lpx_store_flush (self);
        leveldb_close (self->db);
    }
    s_stage_release (&self->stage);
    s_stage_release (&self->pending);
    s_stage_release (&self->work);
    pthread_mutex_destroy (&self->lock);
    pthread_cond_destroy (&self->cond);
    free (self->value);
    free (self->work_value);
    leveldb_writebatch_destroy (self->work_batch);
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


//  Makes the staged lines part of the next synchronous write, after what
//  the writer has: so they land in order with what follows them.
static void
s_lines_to_batch (lpx_store_t *self)
{
    if (self->started) {
        pthread_mutex_lock (&self->lock);
        while (self->ready || self->busy)
            pthread_cond_wait (&self->cond, &self->lock);
        pthread_mutex_unlock (&self->lock);
    }
    self->staged += self->stage.bytes;
    s_stage_to_batch (self->slots, &self->stage, self->batch, &self->value, &self->value_cap);
}

//  The index of `app` among the staged apps, added when new. When there
//  are LPX_STAGED_APPS already, the staged lines are flushed first.
static uint32_t
s_staged_app (lpx_store_t *self, const char *app)
{
    lpx_stage_t *stage = &self->stage;
    if (stage->app_count && strcmp (stage->apps [stage->app_last].name, app) == 0)
        return (uint32_t) stage->app_last;
    size_t i = 0;
    while (i < stage->app_count && strcmp (stage->apps [i].name, app) != 0)
        i++;
    if (i == LPX_STAGED_APPS) {
        //  A failure here is reported by the next flush.
        lpx_store_flush_lines (self);
        i = 0;
    }
    if (i == stage->app_count) {
        snprintf (stage->apps [i].name, sizeof stage->apps [i].name, "%s", app);
        stage->apps [i].newest = 0;
        stage->app_count++;
    }
    stage->app_last = i;
    return (uint32_t) i;
}

void
lpx_store_put_entry (lpx_store_t *self, const char *app, uint64_t seq, lpx_entry_t *entry)
{
    assert (self && self->tag == LPX_STORE_TAG);
    assert (strlen (app) + 4 <= LPX_KEY_MAX);
    uint32_t index = s_staged_app (self, app);
    lpx_stage_t *stage = &self->stage;
    if (stage->count == stage->cap) {
        stage->cap = stage->cap ? stage->cap * 2 : 256;
        stage->lines = act_realloc (stage->lines, stage->cap * sizeof *stage->lines);
    }
    stage->lines [stage->count++] = (lpx_staged_t) {
        .app = index, .seq = seq, .entry = lpx_entry_ref (entry)
    };
    if (seq > stage->apps [index].newest)
        stage->apps [index].newest = seq;
    stage->bytes += strlen (app) + 4 + 8 + entry->len;
}

void
lpx_store_put_line (lpx_store_t *self, const char *app, uint64_t seq, const char *line,
                    size_t len)
{
    lpx_entry_t *entry = lpx_entry_new (line, len);
    lpx_store_put_entry (self, app, seq, entry);
    lpx_entry_unref (&entry);
}

void
lpx_store_stage_token (lpx_store_t *self, const char *app, const char *token)
{
    assert (self && self->tag == LPX_STORE_TAG);
    s_lines_to_batch (self);
    char *key = act_sprintf ("t%s", app);
    leveldb_writebatch_put (self->batch, key, strlen (key), token, strlen (token));
    self->staged += strlen (key) + strlen (token);
    free (key);
}

int
lpx_store_put_token (lpx_store_t *self, const char *app, const char *token)
{
    lpx_store_stage_token (self, app, token);
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
    return self->staged + self->stage.bytes;
}

//  Writes what is staged with `options`.
static int
s_write (lpx_store_t *self, const leveldb_writeoptions_t *options)
{
    assert (self && self->tag == LPX_STORE_TAG);
    s_lines_to_batch (self);
    //  A failed write of the writer's is this flush's failure.
    int rc = s_writer_idle (self);
    if (self->staged == 0)
        return rc;
    char *err = NULL;
    leveldb_write (self->db, options, self->batch, &err);
    leveldb_writebatch_clear (self->batch);
    self->staged = 0;
    if (err) {
        snprintf (self->reason, sizeof self->reason, "cannot write the log store: %s", err);
        leveldb_free (err);
        return ACT_ESTORE;
    }
    return rc;
}

int
lpx_store_flush (lpx_store_t *self)
{
    return s_write (self, self->sync_write);
}

int
lpx_store_flush_lines (lpx_store_t *self)
{
    assert (self && self->tag == LPX_STORE_TAG);
    if (!self->started || self->staged)
        return s_write (self, self->plain_write);
    if (self->stage.count == 0) {
        pthread_mutex_lock (&self->lock);
        int rc = s_async_rc (self);
        pthread_mutex_unlock (&self->lock);
        return rc;
    }
    return s_handoff (self);
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
