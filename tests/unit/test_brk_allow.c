//  test_brk_allow - unit tests for the broker's allow-list and CURVE keys
//
//  Covers broker/allow.h: parsing good lists (comments, blank lines, CRLF,
//  clients-only keys), refusing bad ones with
//  the line number (bad key, no host, unknown or repeated field, a key
//  listed twice, bad actor names, NUL bytes, overlong lines), put / replace
//  / remove, format then parse giving the same list, a missing file being
//  an empty list; and actors/common/act_curve.h: key validation, which
//  endpoints are loopback, and key files (created 0600, reloaded the same,
//  refused when corrupt or when the public key does not match the secret).

#include "unit.h"
#include "../../broker/allow.h"
#include "../../actors/common/act_base.h"

#include <errno.h>
#include <sys/stat.h>
#include <zmq.h>

//  A fresh valid public key in `out` (41 bytes).
static void
s_key (char *out)
{
    char secret [41];
    CHECK_OK (zmq_curve_keypair (out, secret));
}

static brk_allow_t *
s_parse (const char *text, char *err, size_t err_len)
{
    err [0] = 0;
    return brk_allow_parse (text, strlen (text), err, err_len);
}

static void
test_allow_parse_good (void)
{
    char k1 [41], k2 [41], k3 [41], text [1024], err [300];
    s_key (k1);
    s_key (k2);
    s_key (k3);
    snprintf (text, sizeof text,
              "# hosts of the cluster\n"
              "\n"
              "%s host=h2 actors=dyno-supervisor,router\r\n"
              "   %s host=laptop.example actors=\n"
              "%s host=h3\n", k1, k2, k3);
    brk_allow_t *list = s_parse (text, err, sizeof err);
    if (!list)
        UNIT_FAIL ("refused: %s", err);
    CHECK_EQ (brk_allow_count (list), 3);
    const brk_allow_entry_t *e = brk_allow_find (list, k1);
    CHECK_NOT_NULL (e);
    CHECK_STR_EQ (e->host, "h2");
    CHECK (brk_allow_permits (e, "dyno-supervisor"));
    CHECK (brk_allow_permits (e, "router"));
    CHECK (!brk_allow_permits (e, "scheduler"));
    CHECK (!brk_allow_permits (e, "route"));
    CHECK (!brk_allow_permits (e, ""));
    e = brk_allow_find (list, k2);
    CHECK_NOT_NULL (e);
    CHECK_STR_EQ (e->host, "laptop.example");
    CHECK (!brk_allow_permits (e, "router"));
    CHECK_NOT_NULL (brk_allow_find (list, k3));
    //  No key starts with '#' (the 85th digit overflows a group), so such
    //  lines can be comments.
    CHECK (!act_key_valid ("#000000000000000000000000000000000000000"));
    CHECK (act_key_valid ("%000000000000000000000000000000000000000"));
    CHECK_NULL (brk_allow_find (list, "nope"));
    brk_allow_destroy (&list);
    CHECK_NULL (list);
    brk_allow_destroy (&list);
}

//  Each bad list is refused, naming line `line`.
static void
s_refused (const char *text, int line)
{
    char err [300], want [32];
    brk_allow_t *list = s_parse (text, err, sizeof err);
    if (list)
        UNIT_FAIL ("accepted: %s", text);
    snprintf (want, sizeof want, "line %d:", line);
    if (!strstr (err, want))
        UNIT_FAIL ("reason '%s' does not name %s", err, want);
}

static void
test_allow_parse_bad (void)
{
    char k [41], text [2048];
    s_key (k);
    s_refused ("tooshort host=h2\n", 1);
    snprintf (text, sizeof text, "# ok\n%s actors=router\n", k);
    s_refused (text, 2);                                // no host
    snprintf (text, sizeof text, "%s host=h2 role=admin\n", k);
    s_refused (text, 1);                                // unknown field
    snprintf (text, sizeof text, "%s host=h2 host=h3\n", k);
    s_refused (text, 1);                                // repeated field
    snprintf (text, sizeof text, "%s host=h2\n%s host=h3\n", k, k);
    s_refused (text, 2);                                // listed twice
    snprintf (text, sizeof text, "%s host=h2 actors=Router\n", k);
    s_refused (text, 1);
    snprintf (text, sizeof text, "%s host=h2 actors=a,,b\n", k);
    s_refused (text, 1);
    snprintf (text, sizeof text, "%s host=h2 actors=a,\n", k);
    s_refused (text, 1);
    snprintf (text, sizeof text, "%s host=h/2\n", k);
    s_refused (text, 1);
    char long_line [3000];
    memset (long_line, 'a', sizeof long_line - 1);
    long_line [sizeof long_line - 1] = 0;
    s_refused (long_line, 1);
    //  A NUL byte inside the text.
    char err [300];
    snprintf (text, sizeof text, "%s host=h2\n", k);
    text [5] = 0;
    CHECK_NULL (brk_allow_parse (text, 50, err, sizeof err));
    //  The reason never echoes the key.
    snprintf (text, sizeof text, "%s host=h2 bogus\n", k);
    CHECK_NULL (s_parse (text, err, sizeof err));
    CHECK (strstr (err, k) == NULL);
}

static void
test_allow_put_remove_format (void)
{
    char k1 [41], k2 [41], err [300];
    s_key (k1);
    s_key (k2);
    brk_allow_t *list = brk_allow_new ();
    CHECK_OK (brk_allow_put (list, k1, "h1", "router", err, sizeof err));
    CHECK_OK (brk_allow_put (list, k2, "h2", NULL, err, sizeof err));
    CHECK_OK (brk_allow_put (list, k1, "h1b", "router,scheduler", err, sizeof err));
    CHECK_EQ (brk_allow_count (list), 2);
    CHECK_STR_EQ (brk_allow_find (list, k1)->host, "h1b");
    CHECK_EQ (brk_allow_put (list, "bad", "h1", NULL, err, sizeof err), -EINVAL);
    CHECK_EQ (brk_allow_put (list, k1, "", NULL, err, sizeof err), -EINVAL);
    CHECK_EQ (brk_allow_put (list, k1, "h1", "a b", err, sizeof err), -EINVAL);
    char *text = brk_allow_format (list);
    brk_allow_t *again = brk_allow_parse (text, strlen (text), err, sizeof err);
    CHECK_NOT_NULL (again);
    char *text2 = brk_allow_format (again);
    CHECK_STR_EQ (text, text2);
    CHECK (brk_allow_permits (brk_allow_find (again, k1), "scheduler"));
    CHECK_OK (brk_allow_remove (list, k1));
    CHECK_EQ (brk_allow_remove (list, k1), ACT_ENOTFOUND);
    CHECK_EQ (brk_allow_count (list), 1);
    CHECK_NOT_NULL (brk_allow_find (list, k2));
    free (text);
    free (text2);
    brk_allow_destroy (&again);
    brk_allow_destroy (&list);
}

static void
test_allow_load (void)
{
    char path [512], err [300];
    snprintf (path, sizeof path, "%s/allowed", unit_tmpdir ());
    brk_allow_t *list = brk_allow_load (path, err, sizeof err);
    CHECK_NOT_NULL (list);
    CHECK_EQ (brk_allow_count (list), 0);
    brk_allow_destroy (&list);
    CHECK_OK (act_write_file (path, "garbage\n", 8, 0600));
    CHECK_NULL (brk_allow_load (path, err, sizeof err));
    CHECK (strstr (err, "line 1:") != NULL);
}

static void
test_curve_key_valid (void)
{
    char k [41];
    s_key (k);
    CHECK (act_key_valid (k));
    CHECK (!act_key_valid (NULL));
    CHECK (!act_key_valid (""));
    CHECK (!act_key_valid ("abc"));
    char bad [41];
    memcpy (bad, k, sizeof bad);
    bad [3] = ' ';
    CHECK (!act_key_valid (bad));
    //  Five '#' (the largest digit) overflow a 32-bit group.
    memcpy (bad, k, sizeof bad);
    memcpy (bad, "#####", 5);
    CHECK (!act_key_valid (bad));
}

static void
test_curve_loopback (void)
{
    CHECK (act_endpoint_is_loopback ("tcp://127.0.0.1:7700"));
    CHECK (act_endpoint_is_loopback ("tcp://127.1.2.3:1"));
    CHECK (act_endpoint_is_loopback ("tcp://localhost:7700"));
    CHECK (act_endpoint_is_loopback ("tcp://[::1]:7700"));
    CHECK (act_endpoint_is_loopback ("ipc:///tmp/x"));
    CHECK (act_endpoint_is_loopback ("inproc://x"));
    CHECK (!act_endpoint_is_loopback ("tcp://10.213.1.1:7700"));
    CHECK (!act_endpoint_is_loopback ("tcp://0.0.0.0:7700"));
    CHECK (!act_endpoint_is_loopback ("tcp://*:7700"));
    CHECK (!act_endpoint_is_loopback ("tcp://127.0.0.1.example.com:7700"));
    CHECK (!act_endpoint_is_loopback ("tcp://eth0:7700"));
    CHECK (!act_endpoint_is_loopback ("tcp://127.0.0.1"));
    CHECK (!act_endpoint_is_loopback ("tcp://127.0.0.1:1;10.0.0.1:7700"));
    CHECK (!act_endpoint_is_loopback (NULL));
}

static void
test_curve_keyfile (void)
{
    char path [512];
    snprintf (path, sizeof path, "%s/keys/host.key", unit_tmpdir ());
    act_keypair_t a, b;
    bool created = false;
    CHECK_EQ (act_keypair_load (path, &a), -ENOENT);
    CHECK_OK (act_keypair_ensure (path, &a, &created));
    CHECK (created);
    struct stat st;
    CHECK_OK (stat (path, &st));
    CHECK_EQ (st.st_mode & 0777, 0600);
    CHECK_OK (act_keypair_ensure (path, &b, &created));
    CHECK (!created);
    CHECK_STR_EQ (a.public_key, b.public_key);
    CHECK_STR_EQ (a.secret_key, b.secret_key);
    act_keypair_wipe (&b);
    CHECK_EQ (b.secret_key [0], 0);
    //  A public key that is not the secret's.
    char other [41], text [128];
    s_key (other);
    int n = snprintf (text, sizeof text, "public=%s\nsecret=%s\n", other, a.secret_key);
    CHECK_OK (act_write_file (path, text, (size_t) n, 0600));
    CHECK_EQ (act_keypair_load (path, &b), ACT_EPROTO);
    CHECK_OK (act_write_file (path, "public=x\n", 9, 0600));
    CHECK_EQ (act_keypair_ensure (path, &b, &created), ACT_EPROTO);
}

static const unit_test_t s_tests [] = {
    UNIT_TEST (test_allow_parse_good),
    UNIT_TEST (test_allow_parse_bad),
    UNIT_TEST (test_allow_put_remove_format),
    UNIT_TEST (test_allow_load),
    UNIT_TEST (test_curve_key_valid),
    UNIT_TEST (test_curve_loopback),
    UNIT_TEST (test_curve_keyfile),
};

UNIT_SUITE (unit_suite_brk_allow, s_tests);
