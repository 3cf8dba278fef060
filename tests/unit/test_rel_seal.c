//  test_rel_seal - unit tests for release-keeper's seal (secrets at rest)
//
//  Covers actors/release-keeper/seal.h: a round trip, the app name bound
//  in (another app's name cannot open it), a flipped bit refused, a fresh
//  nonce per seal, the key file created 0600 and the same key loaded back,
//  and a damaged key file refused with a reason.

#include "unit.h"
#include "../../actors/release-keeper/seal.h"

#include <errno.h>
#include <sys/stat.h>

static void
test_rel_seal_round_trip (void)
{
    char err [256];
    rel_seal_t *seal = rel_seal_new (NULL, err, sizeof err);
    CHECK_NOT_NULL (seal);
    const char *secret = "-----BEGIN PRIVATE KEY-----\nabc\n-----END PRIVATE KEY-----\n";
    char *sealed, *again, *plain;
    size_t sealed_len, again_len, plain_len;
    CHECK_OK (rel_seal_close (seal, "app-a", secret, strlen (secret), &sealed, &sealed_len));
    CHECK_EQ (sealed_len, strlen (secret) + 12 + 16);
    for (size_t i = 0; i + 7 <= sealed_len; i++)
        CHECK (memcmp (sealed + i, "PRIVATE", 7) != 0);
    CHECK_OK (rel_seal_close (seal, "app-a", secret, strlen (secret), &again, &again_len));
    CHECK (memcmp (sealed, again, sealed_len) != 0);        // a new nonce each time
    CHECK_OK (rel_seal_open (seal, "app-a", sealed, sealed_len, &plain, &plain_len));
    CHECK_EQ (plain_len, strlen (secret));
    CHECK_STR_EQ (plain, secret);
    free (plain);
    CHECK_EQ (rel_seal_open (seal, "app-b", sealed, sealed_len, &plain, &plain_len), -EINVAL);
    sealed [20] ^= 1;
    CHECK_EQ (rel_seal_open (seal, "app-a", sealed, sealed_len, &plain, &plain_len), -EINVAL);
    CHECK_EQ (rel_seal_open (seal, "app-a", sealed, 10, &plain, &plain_len), -EINVAL);
    //  Empty secrets work too.
    free (again);
    CHECK_OK (rel_seal_close (seal, "app-a", "", 0, &again, &again_len));
    CHECK_OK (rel_seal_open (seal, "app-a", again, again_len, &plain, &plain_len));
    CHECK_EQ (plain_len, 0);
    free (plain);
    free (again);
    free (sealed);
    rel_seal_destroy (&seal);
    CHECK_NULL (seal);
}

static void
test_rel_seal_key_file (void)
{
    char err [256], path [512];
    rel_seal_t *seal = rel_seal_new (unit_tmpdir (), err, sizeof err);
    CHECK_NOT_NULL (seal);
    snprintf (path, sizeof path, "%s/release-keeper/seal.key", unit_tmpdir ());
    struct stat st;
    CHECK_OK (stat (path, &st));
    CHECK_EQ (st.st_mode & 0777, 0600);
    CHECK_EQ (st.st_size, 32);
    char *sealed, *plain;
    size_t sealed_len, plain_len;
    CHECK_OK (rel_seal_close (seal, "app", "k", 1, &sealed, &sealed_len));
    rel_seal_destroy (&seal);
    //  A restart loads the same key.
    seal = rel_seal_new (unit_tmpdir (), err, sizeof err);
    CHECK_NOT_NULL (seal);
    CHECK_OK (rel_seal_open (seal, "app", sealed, sealed_len, &plain, &plain_len));
    CHECK_STR_EQ (plain, "k");
    free (plain);
    free (sealed);
    rel_seal_destroy (&seal);
    FILE *f = fopen (path, "w");
    fputs ("short", f);
    fclose (f);
    CHECK_NULL (rel_seal_new (unit_tmpdir (), err, sizeof err));
    CHECK (strstr (err, "is not a seal key") != NULL);
}

static const unit_test_t s_tests [] = {
    UNIT_TEST (test_rel_seal_round_trip),
    UNIT_TEST (test_rel_seal_key_file),
};

UNIT_SUITE (unit_suite_rel_seal, s_tests);
