//  fuzz_acme - libFuzzer target for what release-keeper's ACME client
//  decodes from a CA (actors/release-keeper/acme_client.c, acme_jws.c,
//  acme_csr.c)
//
//  Byte 0 picks the decoder, the rest is its input:
//  - 0: a whole order, rel_acme_order_run, against a CA whose answers are
//    the input: answers separated by NUL bytes, each `STATUS`, header
//    lines, a blank line, the body (the directory, the nonce, the account,
//    the order, authorizations, challenges, the certificate chain...,
//    taken in the order the client asks). The transport is this file:
//    it defines the libcurl easy calls acme_client.c makes (the linker
//    takes them before libcurl's) and answers each request with the next
//    answer, or a failed connect when none is left. Cancelled from the
//    start, so a `pending` status ends the order at once instead of
//    waiting. Checked: it ends (0 with a chain and its key, or a negative
//    code with one line of error and nothing held), every HTTP-01 answer
//    it published (a non-empty base64url token, its key authorization
//    TOKEN.THUMBPRINT of the account) is withdrawn before it returns.
//  - 1: a PEM chain from the CA, rel_acme_chain_facts with a fixed key:
//    0 only with a notAfter and an issuer that is one C string.
//  - 2: a JWK (JSON), rel_acme_thumbprint: 0 only with 43 base64url
//    characters; and the input as base64url text, rel_acme_b64url_decode:
//    what it decodes encodes and decodes back to the same bytes.
//  A broken rule abort()s; `make fuzz` builds this with clang, the replay
//  main runs the corpus under gcc.

#define CURL_DISABLE_TYPECHECK
#include "../../actors/release-keeper/acme_client.h"
#include "../../actors/release-keeper/acme_csr.h"
#include "../../actors/release-keeper/acme_jws.h"

#include <curl/curl.h>
#include <openssl/pem.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FZ_TOKENS_MAX   16
#define FZ_PIECE        4096        // body bytes per write callback

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

//  A key the seed chains were made for (chain facts), and the account's.
static const char s_key_pem [] =
    "-----BEGIN PRIVATE KEY-----\n"
    "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgWSFTMVv+EQTnlwu1\n"
    "7kjtDyTKLt35jw+o+zC5/USB6HGhRANCAAQ+7ijYuVLlOp5T4T04FsElkGZRfSsY\n"
    "m4LmNeKvKNuZdT/yCaJOe5BBBb0QGX5XRbt3XEY38tL2VldecuHGh/Uf\n"
    "-----END PRIVATE KEY-----\n";

static void
s_fail (const char *what)
{
    fprintf (stderr, "fuzz-acme: %s\n", what);
    abort ();
}

//  --- the CA: answers from the input, through libcurl's easy calls

typedef struct {
    curl_write_callback body_fn, header_fn;
    void *body_arg, *header_arg;
    bool head;
    long status;
} fz_handle_t;

typedef struct {
    const char *next;           // answers not given yet (borrowed)
    size_t left;
    int handles;                // open
} fz_ca_t;

//  The run's CA. libcurl's calls carry no argument to put it in.
static fz_ca_t s_ca;

CURL *
curl_easy_init (void)
{
    s_ca.handles++;
    return calloc (1, sizeof (fz_handle_t));
}

void
curl_easy_cleanup (CURL *curl)
{
    if (curl)
        s_ca.handles--;
    free (curl);
}

void
curl_easy_reset (CURL *curl)
{
    memset (curl, 0, sizeof (fz_handle_t));
}

CURLcode
curl_easy_setopt (CURL *curl, CURLoption option, ...)
{
    fz_handle_t *h = curl;
    va_list ap;
    va_start (ap, option);
    if (option == CURLOPT_WRITEFUNCTION)
        h->body_fn = va_arg (ap, curl_write_callback);
    else if (option == CURLOPT_WRITEDATA)
        h->body_arg = va_arg (ap, void *);
    else if (option == CURLOPT_HEADERFUNCTION)
        h->header_fn = va_arg (ap, curl_write_callback);
    else if (option == CURLOPT_HEADERDATA)
        h->header_arg = va_arg (ap, void *);
    else if (option == CURLOPT_NOBODY)
        h->head = va_arg (ap, long) != 0;
    va_end (ap);
    return CURLE_OK;
}

CURLcode
curl_easy_getinfo (CURL *curl, CURLINFO info, ...)
{
    fz_handle_t *h = curl;
    va_list ap;
    va_start (ap, info);
    if (info == CURLINFO_RESPONSE_CODE)
        *va_arg (ap, long *) = h->status;
    va_end (ap);
    return CURLE_OK;
}

const char *
curl_easy_strerror (CURLcode code)
{
    return code == CURLE_WRITE_ERROR ? "write error" : "could not connect";
}

//  Hands `len` bytes to a callback as libcurl does (a copy it may not keep).
static bool
s_give (curl_write_callback fn, void *arg, const char *data, size_t len)
{
    if (!fn)
        return true;
    char *copy = malloc (len + 1);
    memcpy (copy, data, len);
    bool ok = fn (copy, 1, len, arg) == len;
    free (copy);
    return ok;
}

CURLcode
curl_easy_perform (CURL *curl)
{
    fz_handle_t *h = curl;
    if (!s_ca.next)
        return CURLE_COULDNT_CONNECT;
    const char *answer = s_ca.next;
    const char *end = memchr (answer, 0, s_ca.left);
    size_t len = end ? (size_t) (end - answer) : s_ca.left;
    s_ca.next = end ? end + 1 : NULL;
    s_ca.left = end ? s_ca.left - len - 1 : 0;
    h->status = 0;
    for (size_t i = 0; i < len && i < 4 && answer [i] >= '0' && answer [i] <= '9'; i++)
        h->status = h->status * 10 + (answer [i] - '0');
    const char *line = memchr (answer, '\n', len);
    line = line ? line + 1 : answer + len;
    char status_line [64];
    int n = snprintf (status_line, sizeof status_line, "HTTP/1.1 %ld\r\n", h->status);
    if (!s_give (h->header_fn, h->header_arg, status_line, (size_t) n))
        return CURLE_WRITE_ERROR;
    //  Header lines up to an empty one; the rest is the body.
    while (line < answer + len) {
        const char *eol = memchr (line, '\n', (size_t) (answer + len - line));
        size_t llen = eol ? (size_t) (eol - line) + 1 : (size_t) (answer + len - line);
        bool blank = llen <= 2 && (line [0] == '\n' || line [0] == '\r');
        if (!s_give (h->header_fn, h->header_arg, line, llen))
            return CURLE_WRITE_ERROR;
        line += llen;
        if (blank)
            break;
    }
    if (h->head)
        return CURLE_OK;
    for (size_t at = (size_t) (line - answer); at < len; at += FZ_PIECE) {
        size_t piece = len - at < FZ_PIECE ? len - at : FZ_PIECE;
        if (!s_give (h->body_fn, h->body_arg, answer + at, piece))
            return CURLE_WRITE_ERROR;
    }
    return CURLE_OK;
}

//  --- an order

typedef struct {
    char thumb [REL_ACME_THUMB_LEN + 1];
    char *tokens [FZ_TOKENS_MAX];   // published, not withdrawn yet
    size_t count;
} fz_challenges_t;

static void
s_on_challenge (void *arg, const char *token, const char *key_auth, bool remove)
{
    fz_challenges_t *self = arg;
    if (!token [0] || strspn (token, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                     "0123456789-_") != strlen (token))
        s_fail ("a published token is not base64url");
    size_t tlen = strlen (token);
    if (strncmp (key_auth, token, tlen) != 0 || key_auth [tlen] != '.'
    ||  strcmp (key_auth + tlen + 1, self->thumb) != 0)
        s_fail ("a key authorization is not TOKEN.THUMBPRINT");
    if (!remove) {
        if (self->count == FZ_TOKENS_MAX)
            s_fail ("too many challenges at once");
        self->tokens [self->count++] = strdup (token);
        return;
    }
    for (size_t i = 0; i < self->count; i++)
        if (strcmp (self->tokens [i], token) == 0) {
            free (self->tokens [i]);
            self->tokens [i] = self->tokens [--self->count];
            return;
        }
    s_fail ("a challenge withdrawn was never published");
}

static EVP_PKEY *
s_key (void)
{
    BIO *bio = BIO_new_mem_buf (s_key_pem, -1);
    EVP_PKEY *key = PEM_read_bio_PrivateKey (bio, NULL, NULL, NULL);
    BIO_free (bio);
    if (!key)
        s_fail ("the fixed key does not parse");
    return key;
}

static void
s_order (const uint8_t *data, size_t size)
{
    EVP_PKEY *account = s_key ();
    fz_challenges_t challenges = { 0 };
    json_t *jwk = rel_acme_jwk (account);
    if (rel_acme_thumbprint (jwk, challenges.thumb))
        s_fail ("no thumbprint of the account key");
    json_decref (jwk);
    const char *domains [] = { "www.example.com", "*.example.com" };
    atomic_bool cancel = true;
    rel_acme_order_t order = {
        .directory = "https://ca.test/directory", .email = "ops@example.com",
        .account = account, .domains = domains, .domain_count = 2,
        .challenge = s_on_challenge, .arg = &challenges, .cancel = &cancel,
    };
    s_ca = (fz_ca_t) { .next = (const char *) data, .left = size };
    rel_acme_result_t result;
    int rc = rel_acme_order_run (&order, &result);
    if (s_ca.handles)
        s_fail ("a libcurl handle was left open");
    if (challenges.count)
        s_fail ("a published challenge was not withdrawn");
    if (rc == 0 && (!result.chain || !result.key || result.expires_ms <= 0))
        s_fail ("an order succeeded without a chain, a key or an expiry");
    if (rc != 0) {
        if (result.chain || result.key)
            s_fail ("a failed order holds a chain or a key");
        if (!result.error [0] || strchr (result.error, '\n') || strchr (result.error, '\r'))
            s_fail ("a failed order's error is not one line");
    }
    rel_acme_result_release (&result);
    EVP_PKEY_free (account);
}

//  --- the rest

static void
s_chain_facts (const uint8_t *data, size_t size)
{
    char *pem = malloc (size + 1);
    memcpy (pem, data, size);
    pem [size] = 0;
    EVP_PKEY *key = s_key ();
    int64_t expires_ms = 0;
    char issuer [256];
    memset (issuer, 'x', sizeof issuer);
    if (rel_acme_chain_facts (pem, key, &expires_ms, issuer, sizeof issuer) == 0
    &&  !memchr (issuer, 0, sizeof issuer))
        s_fail ("chain facts gave an issuer that is not a C string");
    EVP_PKEY_free (key);
    free (pem);
}

static void
s_jwk_b64 (const uint8_t *data, size_t size)
{
    char *text = malloc (size + 1);
    memcpy (text, data, size);
    text [size] = 0;
    json_t *jwk = json_loads (text, JSON_DECODE_ANY, NULL);
    char thumb [REL_ACME_THUMB_LEN + 1];
    if (jwk && rel_acme_thumbprint (jwk, thumb) == 0
    &&  (strlen (thumb) != REL_ACME_THUMB_LEN
      || strspn (thumb, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
         != REL_ACME_THUMB_LEN))
        s_fail ("a thumbprint is not 43 base64url characters");
    json_decref (jwk);
    size_t len = 0;
    unsigned char *bytes = rel_acme_b64url_decode (text, &len);
    if (bytes) {
        char *again = rel_acme_b64url (bytes, len);
        size_t len2 = 0;
        unsigned char *bytes2 = rel_acme_b64url_decode (again, &len2);
        if (!bytes2 || len2 != len || memcmp (bytes, bytes2, len) != 0)
            s_fail ("base64url does not decode back to the same bytes");
        free (bytes2);
        free (again);
    }
    free (bytes);
    free (text);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    switch (data [0] % 3) {
        case 0:  s_order (data + 1, size - 1); break;
        case 1:  s_chain_facts (data + 1, size - 1); break;
        default: s_jwk_b64 (data + 1, size - 1); break;
    }
    return 0;
}
