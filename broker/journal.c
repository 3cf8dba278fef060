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

int
brk_journal_get (brk_journal_t *self, uint64_t seq, char **data_p, size_t *len_p)
{
    char key [9];
    s_key (key, 'j', seq);
    char *err = NULL;
    size_t len = 0;
    char *value = leveldb_get (self->db, self->read, key, 9, &len, &err);
    if (err) {
        leveldb_free (err);
        return ACT_ESTORE;
    }
    if (!value)
        return ACT_ENOTFOUND;
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
