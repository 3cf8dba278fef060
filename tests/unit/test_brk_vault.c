//  test_brk_vault - the broker's vault of release-keeper's blobs
//
//  Against a real broker child (support.h) and raw peers: a blob sent in
//  order is kept whole under <data>/vault/sha256/ and read back with
//  vault.get; a blob kept already is answered as stored at once; a wrong
//  SHA-256, a part out of order, a blob over the size limit, too many
//  blobs at once and any peer but release-keeper are refused with `error`,
//  leaving no partial file. The file layer (vault.h) is also driven
//  in-process for what a message cannot show: the temp files a previous
//  run left are swept when the vault opens.

#include "support.h"
#include "../../broker/vault.h"
#include "../../actors/release-keeper/blobs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#define BLOB_SIZE   (BRK_VAULT_PART_MAX + 300 * 1024)   // two parts

//  `len` bytes of a pattern seeded by `seed`. Caller owns result.
static char *
s_bytes (size_t len, unsigned seed)
{
    char *buf = malloc (len ? len : 1);
    for (size_t i = 0; i < len; i++)
        buf [i] = (char) ((i * 31 + seed * 7) % 251);
    return buf;
}

static void
s_sha (const char *data, size_t len, char hex [REL_SHA_HEX + 1])
{
    rel_sha_t *sha = rel_sha_new ();
    rel_sha_update (sha, data, len);
    rel_sha_final (sha, hex);
    rel_sha_destroy (&sha);
}

//  Files in `dir` (0 when it does not exist).
static int
s_files (const char *dir)
{
    DIR *d = opendir (dir);
    int n = 0;
    struct dirent *e;
    while (d && (e = readdir (d)) != NULL)
        n += e->d_name [0] != '.';
    if (d)
        closedir (d);
    return n;
}

static int
s_tmp_files (const ut_broker_t *b)
{
    char dir [700];
    snprintf (dir, sizeof dir, "%s/vault/tmp", b->data);
    return s_files (dir);
}

static bool
s_kept (const char *data_dir, const char *sha, const char *want, size_t len)
{
    char path [900];
    snprintf (path, sizeof path, "%s/vault/sha256/%.2s/%s", data_dir, sha, sha);
    char *got = NULL;
    size_t got_len = 0;
    if (act_read_file (path, &got, &got_len))
        return false;
    bool same = got_len == len && memcmp (got, want, len) == 0;
    free (got);
    return same;
}

static void
s_put (ut_raw_t *raw, const char *sha, int64_t offset, int64_t size, const char *data,
       size_t len, bool eof)
{
    msg_t *put = ut_raw_msg_new (raw, MSG_TYPE_VAULT_PUT, "broker");
    msg_set_str (put, "blob", sha);
    msg_set_int (put, "offset", offset);
    msg_set_int (put, "size", size);
    msg_set_json (put, "data", json_stringn_nocheck (data, len));
    msg_set_bool (put, "eof", eof);
    ut_raw_send (raw, &put);
}

//  The next message must be vault.saved with `offset` and `stored`.
static void
s_expect_saved (ut_raw_t *raw, int64_t offset, bool stored)
{
    msg_t *saved = ut_raw_expect (raw, MSG_TYPE_VAULT_SAVED);
    CHECK_EQ (msg_int (saved, "offset", -1), offset);
    CHECK_EQ (msg_bool (saved, "stored", !stored), stored);
    msg_destroy (&saved);
}

static void
s_get (ut_raw_t *raw, const char *sha, int64_t offset)
{
    msg_t *get = ut_raw_msg_new (raw, MSG_TYPE_VAULT_GET, "broker");
    msg_set_str (get, "blob", sha);
    msg_set_int (get, "offset", offset);
    ut_raw_send (raw, &get);
}

static void
test_vault_put_get (void)
{
    ut_broker_t b;
    ut_broker_init (&b, 0);
    ut_raw_t *rk = ut_raw_actor (&b, "release-keeper", "one", true, NULL);
    char *blob = s_bytes (BLOB_SIZE, 1);
    char sha [REL_SHA_HEX + 1];
    s_sha (blob, BLOB_SIZE, sha);

    //  A probe (no bytes) starts it; two parts in order keep it.
    s_put (rk, sha, 0, BLOB_SIZE, "", 0, false);
    s_expect_saved (rk, 0, false);
    s_put (rk, sha, 0, BLOB_SIZE, blob, BRK_VAULT_PART_MAX, false);
    s_expect_saved (rk, BRK_VAULT_PART_MAX, false);
    CHECK_EQ (s_tmp_files (&b), 1);
    s_put (rk, sha, BRK_VAULT_PART_MAX, BLOB_SIZE, blob + BRK_VAULT_PART_MAX,
           BLOB_SIZE - BRK_VAULT_PART_MAX, true);
    s_expect_saved (rk, BLOB_SIZE, true);
    CHECK (s_kept (b.data, sha, blob, BLOB_SIZE));
    CHECK_EQ (s_tmp_files (&b), 0);

    //  Kept: a probe is answered as stored at once.
    s_put (rk, sha, 0, BLOB_SIZE, "", 0, false);
    s_expect_saved (rk, BLOB_SIZE, true);

    //  Read back in parts of at most BRK_VAULT_PART_MAX.
    s_get (rk, sha, 0);
    msg_t *chunk = ut_raw_expect (rk, MSG_TYPE_BLOB_CHUNK);
    CHECK_STR_EQ (msg_str (chunk, "blob", ""), sha);
    CHECK_EQ (msg_int (chunk, "size", -1), BLOB_SIZE);
    CHECK_EQ (json_string_length (json_object_get (chunk->body, "data")), BRK_VAULT_PART_MAX);
    CHECK (memcmp (json_string_value (json_object_get (chunk->body, "data")), blob,
                   BRK_VAULT_PART_MAX) == 0);
    CHECK (!msg_bool (chunk, "eof", true));
    msg_destroy (&chunk);
    s_get (rk, sha, BRK_VAULT_PART_MAX);
    chunk = ut_raw_expect (rk, MSG_TYPE_BLOB_CHUNK);
    CHECK_EQ (json_string_length (json_object_get (chunk->body, "data")),
              BLOB_SIZE - BRK_VAULT_PART_MAX);
    CHECK (memcmp (json_string_value (json_object_get (chunk->body, "data")),
                   blob + BRK_VAULT_PART_MAX, BLOB_SIZE - BRK_VAULT_PART_MAX) == 0);
    CHECK (msg_bool (chunk, "eof", false));
    msg_destroy (&chunk);

    //  An empty blob is kept too, in one part.
    char empty [REL_SHA_HEX + 1];
    s_sha ("", 0, empty);
    s_put (rk, empty, 0, 0, "", 0, true);
    s_expect_saved (rk, 0, true);
    CHECK (s_kept (b.data, empty, "", 0));

    //  Not kept, offset past the end, not a sha: refused.
    s_get (rk, "0000000000000000000000000000000000000000000000000000000000000000", 0);
    ut_raw_expect_error (rk, ACT_ENOTFOUND);
    s_get (rk, sha, BLOB_SIZE + 1);
    ut_raw_expect_error (rk, -EINVAL);
    s_get (rk, "../../etc/passwd", 0);
    ut_raw_expect_error (rk, -EINVAL);
    free (blob);
    ut_raw_destroy (&rk);
    ut_broker_stop (&b);
}

static void
test_vault_refusals (void)
{
    ut_broker_t b;
    ut_broker_init (&b, 0);
    ut_raw_t *rk = ut_raw_actor (&b, "release-keeper", "one", true, NULL);
    char *blob = s_bytes (BLOB_SIZE, 2);
    char sha [REL_SHA_HEX + 1];
    s_sha (blob, BLOB_SIZE, sha);

    //  Corrupt: one byte changed; refused at eof, nothing kept or left.
    char *bad = s_bytes (BLOB_SIZE, 2);
    bad [BLOB_SIZE / 2] ^= 1;
    s_put (rk, sha, 0, BLOB_SIZE, bad, BRK_VAULT_PART_MAX, false);
    s_expect_saved (rk, BRK_VAULT_PART_MAX, false);
    s_put (rk, sha, BRK_VAULT_PART_MAX, BLOB_SIZE, bad + BRK_VAULT_PART_MAX,
           BLOB_SIZE - BRK_VAULT_PART_MAX, true);
    ut_raw_expect_error (rk, -EBADMSG);
    CHECK (!s_kept (b.data, sha, blob, BLOB_SIZE));
    CHECK_EQ (s_tmp_files (&b), 0);

    //  Out of order: a first part not at 0; a part that skips bytes (the
    //  partial file is dropped, so the right part is out of order after).
    s_put (rk, sha, 1000, BLOB_SIZE, blob + 1000, 1000, false);
    ut_raw_expect_error (rk, ACT_EPROTO);
    s_put (rk, sha, 0, BLOB_SIZE, blob, 1000, false);
    s_expect_saved (rk, 1000, false);
    s_put (rk, sha, 2000, BLOB_SIZE, blob + 2000, 1000, false);
    ut_raw_expect_error (rk, ACT_EPROTO);
    CHECK_EQ (s_tmp_files (&b), 0);
    s_put (rk, sha, 1000, BLOB_SIZE, blob + 1000, 1000, false);
    ut_raw_expect_error (rk, ACT_EPROTO);

    //  Truncated: eof before the size said.
    s_put (rk, sha, 0, BLOB_SIZE, blob, 1000, true);
    ut_raw_expect_error (rk, ACT_EPROTO);
    //  More bytes than the size, a size over the limit, not a sha.
    s_put (rk, sha, 0, 10, blob, 11, false);
    ut_raw_expect_error (rk, -EINVAL);
    s_put (rk, sha, 0, (int64_t) BRK_VAULT_SIZE_MB * 1024 * 1024 + 1, blob, 10, false);
    ut_raw_expect_error (rk, -EFBIG);
    s_put (rk, "ABC", 0, 10, blob, 10, false);
    ut_raw_expect_error (rk, -EINVAL);
    CHECK_EQ (s_tmp_files (&b), 0);

    //  Bounded: BRK_VAULT_PUTS_MAX blobs in progress, then full.
    for (unsigned i = 0; i <= BRK_VAULT_PUTS_MAX; i++) {
        char other [REL_SHA_HEX + 1];
        char *bytes = s_bytes (100, 10 + i);
        s_sha (bytes, 100, other);
        s_put (rk, other, 0, 100, bytes, 50, false);
        if (i < BRK_VAULT_PUTS_MAX)
            s_expect_saved (rk, 50, false);
        else
            ut_raw_expect_error (rk, ACT_EFULL);
        free (bytes);
    }

    //  Only release-keeper: another actor, and a client, are refused.
    ut_raw_t *other = ut_raw_actor (&b, "scheduler", "one", true, NULL);
    s_put (other, sha, 0, BLOB_SIZE, blob, 10, false);
    ut_raw_expect_error (other, ACT_EREFUSED);
    s_get (other, sha, 0);
    ut_raw_expect_error (other, ACT_EREFUSED);
    ut_raw_t *client = ut_raw_new (&b);
    snprintf (client->address, sizeof client->address, "release-keeper@cli");
    msg_t *welcome = ut_raw_hello (client, "release-keeper", "cli", "client", false, NULL);
    CHECK_EQ (welcome->type->id, MSG_TYPE_WELCOME);
    msg_destroy (&welcome);
    s_put (client, sha, 0, BLOB_SIZE, blob, 10, false);
    ut_raw_expect_error (client, ACT_EREFUSED);
    CHECK (!s_kept (b.data, sha, blob, BLOB_SIZE));

    free (bad);
    free (blob);
    ut_raw_destroy (&client);
    ut_raw_destroy (&other);
    ut_raw_destroy (&rk);
    ut_broker_stop (&b);
}

//  In-process: partial files of a previous run are swept at open; an idle
//  blob gives way only after BRK_VAULT_IDLE_MS (not here: full stays full).
static void
test_vault_files (void)
{
    char tmp [600];
    snprintf (tmp, sizeof tmp, "%s/vault/tmp", unit_tmpdir ());
    CHECK_OK (act_mkdir_p (tmp, 0700));
    char left [700];
    snprintf (left, sizeof left, "%s/part-old", tmp);
    CHECK_OK (act_write_file (left, "half", 4, 0600));
    brk_vault_t *vault = brk_vault_new (unit_tmpdir ());
    CHECK_EQ (s_files (tmp), 0);

    char sha [REL_SHA_HEX + 1];
    s_sha ("hello", 5, sha);
    int64_t stored;
    bool whole;
    char why [BRK_VAULT_WHY_MAX];
    CHECK_OK (brk_vault_put (vault, "release-keeper@a", sha, 0, 5, "he", 2, false, &stored, &whole, why));
    CHECK_EQ (brk_vault_pending (vault), 1);
    //  Another peer cannot go on with it.
    CHECK_EQ (brk_vault_put (vault, "release-keeper@b", sha, 2, 5, "llo", 3, true, &stored, &whole, why),
              ACT_EPROTO);
    CHECK_EQ (brk_vault_pending (vault), 0);
    CHECK_OK (brk_vault_put (vault, "release-keeper@b", sha, 0, 5, "hello", 5, true, &stored, &whole, why));
    CHECK (whole);
    CHECK_EQ (stored, 5);
    CHECK (s_kept (unit_tmpdir (), sha, "hello", 5));
    char *data;
    size_t len;
    int64_t size;
    CHECK_OK (brk_vault_read (vault, sha, 1, 3, &data, &len, &size, why));
    CHECK_EQ (len, 3);
    CHECK_EQ (size, 5);
    CHECK (memcmp (data, "ell", 3) == 0);
    free (data);
    //  A kept blob's size is what it is.
    CHECK_EQ (brk_vault_put (vault, "release-keeper@b", sha, 0, 6, "", 0, false, &stored, &whole, why),
              -EINVAL);
    //  Blobs in progress are dropped with the vault.
    CHECK_OK (brk_vault_put (vault, "release-keeper@b", "0000000000000000000000000000000000000000000000000000000000000000",
                             0, 5, "ab", 2, false, &stored, &whole, why));
    CHECK_EQ (s_files (tmp), 1);
    brk_vault_destroy (&vault);
    CHECK_NULL (vault);
    CHECK_EQ (s_files (tmp), 0);
}

static const unit_test_t s_tests [] = {
    UNIT_TEST (test_vault_put_get),
    UNIT_TEST (test_vault_refusals),
    UNIT_TEST (test_vault_files),
};

UNIT_SUITE (unit_suite_brk_vault, s_tests);
