//  brk_journal - the broker's durable journal in LevelDB
//
//  Owns the LevelDB handle, its options and the staged write batch.

#include "journal.h"
#include "../actors/common/act_base.h"

#include <assert.h>
#include <leveldb/c.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define JOURNAL_TAG      0x6a726e6cu    // "jrnl"
#define JOURNAL_TAG_DEAD 0xdeadbeefu

struct brk_journal {
    uint32_t tag;                       // JOURNAL_TAG; asserted on entry
    leveldb_t *db;
    leveldb_options_t *options;
    leveldb_writeoptions_t *sync_write;
    leveldb_writeoptions_t *lazy_write;
    leveldb_readoptions_t *read;
    leveldb_writebatch_t *batch;
    size_t staged;
    uint64_t head;
    char instance [33];
};

static void
s_key (char key [9], char prefix, uint64_t seq)
{
    key [0] = prefix;
    for (int i = 0; i < 8; i++)
        key [1 + i] = (char) (seq >> (56 - 8 * i));
}

static uint64_t
s_key_seq (const char *key)
{
    uint64_t seq = 0;
    for (int i = 0; i < 8; i++)
        seq = (seq << 8) | (unsigned char) key [1 + i];
    return seq;
}

static void
s_reason (char *reason, size_t len, const char *what, char *err)
{
    snprintf (reason, len, "%s: %s", what, err ? err : "unknown");
    leveldb_free (err);
}

static uint64_t
s_find_head (brk_journal_t *self)
{
    leveldb_iterator_t *it = leveldb_create_iterator (self->db, self->read);
    //  The first key past every 'j' key is 'k'; the one before it is the head.
    leveldb_iter_seek (it, "k", 1);
    if (leveldb_iter_valid (it))
        leveldb_iter_prev (it);
    else
        leveldb_iter_seek_to_last (it);
    uint64_t head = 0;
    while (leveldb_iter_valid (it)) {
        size_t klen;
        const char *key = leveldb_iter_key (it, &klen);
        if (klen == 9 && key [0] == 'j') {
            head = s_key_seq (key);
            break;
        }
        if (key [0] < 'j')
            break;
        leveldb_iter_prev (it);
    }
    leveldb_iter_destroy (it);
    return head;
}

brk_journal_t *
brk_journal_open (const char *dir, bool create, char *reason, size_t reason_len)
{
    //  LevelDB creates the directory and its LOCK file before it finds that
    //  there is no database: a read-only open must not leave them behind.
    struct stat st;
    if (!create && stat (dir, &st) != 0) {
        snprintf (reason, reason_len, "cannot open journal: '%s' does not exist", dir);
        return NULL;
    }
    brk_journal_t *self = act_calloc (1, sizeof *self);
    self->tag = JOURNAL_TAG;
    self->options = leveldb_options_create ();
    leveldb_options_set_create_if_missing (self->options, create);
    leveldb_options_set_write_buffer_size (self->options, 32 << 20);
    //  Entries are msgpack and mostly unique ids: snappy saves little and
    //  costs CPU on every compaction.
    leveldb_options_set_compression (self->options, leveldb_no_compression);
    self->sync_write = leveldb_writeoptions_create ();
    leveldb_writeoptions_set_sync (self->sync_write, 1);
    self->lazy_write = leveldb_writeoptions_create ();
    self->read = leveldb_readoptions_create ();
    self->batch = leveldb_writebatch_create ();
    char *err = NULL;
    self->db = leveldb_open (self->options, dir, &err);
    if (err) {
        s_reason (reason, reason_len, "cannot open journal", err);
        brk_journal_destroy (&self);
        return NULL;
    }
    self->head = s_find_head (self);
    size_t len = 0;
    char *value = leveldb_get (self->db, self->read, "minstance", 9, &len, &err);
    if (err) {
        s_reason (reason, reason_len, "cannot read journal", err);
        brk_journal_destroy (&self);
        return NULL;
    }
    if (value && len == 32)
        memcpy (self->instance, value, 32);
    else {
        act_rng_t rng;
        act_rng_init (&rng, act_seed_from_os ());
        act_rng_id (&rng, self->instance);
        leveldb_put (self->db, self->sync_write, "minstance", 9, self->instance, 32, &err);
        if (err) {
            s_reason (reason, reason_len, "cannot write journal", err);
            leveldb_free (value);
            brk_journal_destroy (&self);
            return NULL;
        }
    }
    leveldb_free (value);
    return self;
}

void
brk_journal_destroy (brk_journal_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    brk_journal_t *self = *self_p;
    assert (self->tag == JOURNAL_TAG);
    self->tag = JOURNAL_TAG_DEAD;
    if (self->db)
        leveldb_close (self->db);
    leveldb_writebatch_destroy (self->batch);
    leveldb_readoptions_destroy (self->read);
    leveldb_writeoptions_destroy (self->lazy_write);
    leveldb_writeoptions_destroy (self->sync_write);
    leveldb_options_destroy (self->options);
    free (self);
    *self_p = NULL;
}

uint64_t brk_journal_head (brk_journal_t *self) { return self->head; }
uint64_t brk_journal_next_seq (brk_journal_t *self) { return ++self->head; }
const char *brk_journal_instance (brk_journal_t *self) { return self->instance; }
bool brk_journal_has_staged (brk_journal_t *self) { return self->staged > 0; }

void
brk_journal_stage (brk_journal_t *self, uint64_t seq, const void *data, size_t len, const char *dest)
{
    assert (self->tag == JOURNAL_TAG);
    char key [9];
    s_key (key, 'j', seq);
    leveldb_writebatch_put (self->batch, key, 9, data, len);
    if (dest) {
        s_key (key, 'p', seq);
        leveldb_writebatch_put (self->batch, key, 9, dest, strlen (dest));
    }
    //  Keeps next_seq from handing out a seq that is already staged.
    if (seq > self->head)
        self->head = seq;
    self->staged++;
}

void
brk_journal_stage_release (brk_journal_t *self, uint64_t seq)
{
    char key [9];
    s_key (key, 'p', seq);
    leveldb_writebatch_delete (self->batch, key, 9);
    self->staged++;
}

int
brk_journal_commit (brk_journal_t *self, bool sync, char *reason, size_t reason_len)
{
    assert (self->tag == JOURNAL_TAG);
    if (!self->staged)
        return 0;
    char *err = NULL;
    leveldb_write (self->db, sync ? self->sync_write : self->lazy_write, self->batch, &err);
    leveldb_writebatch_clear (self->batch);
    self->staged = 0;
    if (err) {
        s_reason (reason, reason_len, "journal write failed", err);
        return ACT_ESTORE;
    }
    return 0;
}

//  Reads `key`: 0 with *value_p (LevelDB's: leveldb_free it) and *len_p,
//  ACT_ENOTFOUND or ACT_ESTORE.
static int
s_get (brk_journal_t *self, const char *key, size_t klen, char **value_p, size_t *len_p)
{
    char *err = NULL;
    *value_p = leveldb_get (self->db, self->read, key, klen, len_p, &err);
    if (err) {
        leveldb_free (err);
        return ACT_ESTORE;
    }
    return *value_p ? 0 : ACT_ENOTFOUND;
}

int
brk_journal_get (brk_journal_t *self, uint64_t seq, char **data_p, size_t *len_p)
{
    char key [9];
    s_key (key, 'j', seq);
    size_t len = 0;
    char *value = NULL;
    int got = s_get (self, key, 9, &value, &len);
    if (got)
        return got;
    *data_p = act_malloc (len);
    memcpy (*data_p, value, len);
    *len_p = len;
    leveldb_free (value);
    return 0;
}

static void
s_scan (brk_journal_t *self, char prefix, uint64_t from, brk_journal_fn *fn, void *arg)
{
    leveldb_iterator_t *it = leveldb_create_iterator (self->db, self->read);
    char key [9];
    s_key (key, prefix, from);
    for (leveldb_iter_seek (it, key, 9); leveldb_iter_valid (it); leveldb_iter_next (it)) {
        size_t klen, vlen;
        const char *k = leveldb_iter_key (it, &klen);
        if (klen != 9 || k [0] != prefix)
            break;
        const char *v = leveldb_iter_value (it, &vlen);
        if (!fn (arg, s_key_seq (k), v, vlen))
            break;
    }
    leveldb_iter_destroy (it);
}

void
brk_journal_scan (brk_journal_t *self, uint64_t from, brk_journal_fn *fn, void *arg)
{
    s_scan (self, 'j', from, fn, arg);
}

void
brk_journal_scan_held (brk_journal_t *self, brk_journal_fn *fn, void *arg)
{
    s_scan (self, 'p', 0, fn, arg);
}

// ---------------------------------------------------------------------------
//  Snapshots kept for actors: 's' name NUL, then 'c' (current meta), 's'
//  (staging meta) or 'p' gen part (one part).

#define SNAP_META_FIXED 40              // seq, parts, size, gen, next, bytes
#define SNAP_NAME_MAX   256

static void
s_put_be (unsigned char *out, uint64_t value, int bytes)
{
    for (int i = 0; i < bytes; i++)
        out [i] = (unsigned char) (value >> (8 * (bytes - 1 - i)));
}

static uint64_t
s_get_be (const unsigned char *in, int bytes)
{
    uint64_t value = 0;
    for (int i = 0; i < bytes; i++)
        value = (value << 8) | in [i];
    return value;
}

//  The key `'s' name NUL tag` plus `gen part` for a part; returns its
//  length, 0 when the name does not fit.
static size_t
s_snap_key (char *key, const char *name, char tag, uint64_t gen, uint32_t part)
{
    size_t n = strlen (name);
    if (n == 0 || n >= SNAP_NAME_MAX)
        return 0;
    key [0] = 's';
    memcpy (key + 1, name, n);
    key [1 + n] = 0;
    key [2 + n] = tag;
    if (tag != 'p')
        return 3 + n;
    s_put_be ((unsigned char *) key + 3 + n, gen, 8);
    s_put_be ((unsigned char *) key + 11 + n, part, 4);
    return 15 + n;
}

static size_t
s_meta_encode (const brk_snapshot_meta_t *meta, unsigned char *out)
{
    s_put_be (out, meta->seq, 8);
    s_put_be (out + 8, meta->parts, 4);
    s_put_be (out + 12, meta->size, 8);
    s_put_be (out + 20, meta->gen, 8);
    s_put_be (out + 28, meta->next, 4);
    s_put_be (out + 32, meta->bytes, 8);
    size_t n = strnlen (meta->broker, BRK_SNAPSHOT_BROKER_LEN);
    memcpy (out + SNAP_META_FIXED, meta->broker, n);
    return SNAP_META_FIXED + n;
}

int
brk_journal_snapshot_meta (brk_journal_t *self, const char *name, bool staging,
                           brk_snapshot_meta_t *meta)
{
    assert (self->tag == JOURNAL_TAG);
    char key [SNAP_NAME_MAX + 16];
    size_t klen = s_snap_key (key, name, staging ? 's' : 'c', 0, 0);
    if (!klen)
        return ACT_ENOTFOUND;
    size_t len = 0;
    char *value = NULL;
    int got = s_get (self, key, klen, &value, &len);
    if (got)
        return got;
    int rc = ACT_ESTORE;            // a record that does not decode
    if (len >= SNAP_META_FIXED && len <= SNAP_META_FIXED + BRK_SNAPSHOT_BROKER_LEN) {
        const unsigned char *v = (const unsigned char *) value;
        memset (meta, 0, sizeof *meta);
        meta->seq = s_get_be (v, 8);
        meta->parts = (uint32_t) s_get_be (v + 8, 4);
        meta->size = s_get_be (v + 12, 8);
        meta->gen = s_get_be (v + 20, 8);
        meta->next = (uint32_t) s_get_be (v + 28, 4);
        meta->bytes = s_get_be (v + 32, 8);
        memcpy (meta->broker, v + SNAP_META_FIXED, len - SNAP_META_FIXED);
        rc = 0;
    }
    leveldb_free (value);
    return rc;
}

//  Writes `batch` (synced when `sync`) and clears it. Returns 0 or
//  ACT_ESTORE.
static int
s_write_batch (brk_journal_t *self, leveldb_writebatch_t *batch, bool sync)
{
    char *err = NULL;
    leveldb_write (self->db, sync ? self->sync_write : self->lazy_write, batch, &err);
    leveldb_writebatch_destroy (batch);
    if (err) {
        leveldb_free (err);
        return ACT_ESTORE;
    }
    return 0;
}

int
brk_journal_snapshot_put (brk_journal_t *self, const char *name,
                          const brk_snapshot_meta_t *staging, uint32_t part,
                          const void *data, size_t len)
{
    assert (self->tag == JOURNAL_TAG);
    char key [SNAP_NAME_MAX + 16];
    unsigned char meta [SNAP_META_FIXED + BRK_SNAPSHOT_BROKER_LEN];
    size_t klen = s_snap_key (key, name, 'p', staging->gen, part);
    if (!klen)
        return ACT_ESTORE;
    leveldb_writebatch_t *batch = leveldb_writebatch_create ();
    leveldb_writebatch_put (batch, key, klen, data, len);
    klen = s_snap_key (key, name, 's', 0, 0);
    leveldb_writebatch_put (batch, key, klen, (char *) meta, s_meta_encode (staging, meta));
    return s_write_batch (self, batch, false);
}

//  Adds the deletion of every part of generation `gen` to `batch`.
static void
s_drop_gen (brk_journal_t *self, leveldb_writebatch_t *batch, const char *name, uint64_t gen)
{
    char prefix [SNAP_NAME_MAX + 16];
    size_t klen_part = s_snap_key (prefix, name, 'p', gen, 0);
    if (!klen_part)
        return;
    size_t plen = klen_part - 4;            // every part of `gen`
    leveldb_iterator_t *it = leveldb_create_iterator (self->db, self->read);
    for (leveldb_iter_seek (it, prefix, plen); leveldb_iter_valid (it); leveldb_iter_next (it)) {
        size_t klen;
        const char *k = leveldb_iter_key (it, &klen);
        if (klen != plen + 4 || memcmp (k, prefix, plen) != 0)
            break;
        leveldb_writebatch_delete (batch, k, klen);
    }
    leveldb_iter_destroy (it);
}

int
brk_journal_snapshot_commit (brk_journal_t *self, const char *name,
                             const brk_snapshot_meta_t *staging, uint64_t old_gen)
{
    assert (self->tag == JOURNAL_TAG);
    char key [SNAP_NAME_MAX + 16];
    unsigned char meta [SNAP_META_FIXED + BRK_SNAPSHOT_BROKER_LEN];
    size_t klen = s_snap_key (key, name, 'c', 0, 0);
    if (!klen)
        return ACT_ESTORE;
    leveldb_writebatch_t *batch = leveldb_writebatch_create ();
    if (old_gen && old_gen != staging->gen)
        s_drop_gen (self, batch, name, old_gen);
    leveldb_writebatch_put (batch, key, klen, (char *) meta, s_meta_encode (staging, meta));
    klen = s_snap_key (key, name, 's', 0, 0);
    leveldb_writebatch_delete (batch, key, klen);
    return s_write_batch (self, batch, true);
}

int
brk_journal_snapshot_drop_gen (brk_journal_t *self, const char *name, uint64_t gen)
{
    assert (self->tag == JOURNAL_TAG);
    leveldb_writebatch_t *batch = leveldb_writebatch_create ();
    s_drop_gen (self, batch, name, gen);
    return s_write_batch (self, batch, false);
}

int
brk_journal_snapshot_part (brk_journal_t *self, const char *name, uint64_t gen, uint32_t part,
                           char **data_p, size_t *len_p)
{
    assert (self->tag == JOURNAL_TAG);
    char key [SNAP_NAME_MAX + 16];
    size_t klen = s_snap_key (key, name, 'p', gen, part);
    if (!klen)
        return ACT_ENOTFOUND;
    size_t len = 0;
    char *value = NULL;
    int got = s_get (self, key, klen, &value, &len);
    if (got)
        return got;
    *data_p = act_malloc (len ? len : 1);
    memcpy (*data_p, value, len);
    *len_p = len;
    leveldb_free (value);
    return 0;
}
