//  acme_client - one ACME (RFC 8555) order, start to finish, blocking
//
//  See acme_client.h. The order's steps, each a function below:
//
//      directory --GET--> newNonce --HEAD--> newAccount (jwk) --> newOrder
//      (kid) --> per authorization: POST-as-GET it; pending: publish the
//      http-01 answer, self-check, POST {} to the challenge, poll until
//      valid or invalid, withdraw --> finalize (CSR) --> poll the order
//      until valid --> POST-as-GET the certificate URL.
//
//  Every POST carries the newest Replay-Nonce; a `badNonce` problem is
//  retried once with the nonce that came with it (RFC 8555 §6.5).

#include "acme_client.h"
#include "acme_csr.h"
#include "acme_jws.h"
#include "../common/act_base.h"

#include <curl/curl.h>
#include <errno.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define ACME_CONNECT_TIMEOUT_S  10
#define ACME_REQUEST_TIMEOUT_S  30
#define ACME_BODY_MAX           (1024 * 1024)   // bytes of any answer
#define ACME_NONCE_MAX          256
#define ACME_TOKEN_MAX          256             // bytes of a token routers answer (challenges.c)
#define ACME_POLL_MS            250             // between polls of an authz or order
#define ACME_POLL_MAX_MS        60000           // then the order is given up
#define ACME_CHECK_MAX_MS       5000            // self-check of the local router
#define ACME_CHECK_EVERY_MS     50
#define ACME_JOSE               "Content-Type: application/jose+json"
#define ACME_PROBLEM_BAD_NONCE  "urn:ietf:params:acme:error:badNonce"

typedef struct {
    const rel_acme_order_t *order;
    rel_acme_result_t *result;
    CURL *curl;
    char nonce [ACME_NONCE_MAX];
    char *new_nonce;                    // URLs from the directory
    char *new_account;
    char *new_order;
    char *kid;                          // the account URL
} acme_t;

typedef struct {
    long status;
    char *body;                         // NUL-terminated
    size_t len;
    char *location;
    bool too_big;
    acme_t *acme;
} acme_reply_t;

static int
s_fail (acme_t *self, int code, const char *fmt, ...) __attribute__ ((format (printf, 3, 4)));

static int
s_fail (acme_t *self, int code, const char *fmt, ...)
{
    va_list ap;
    va_start (ap, fmt);
    vsnprintf (self->result->error, sizeof self->result->error, fmt, ap);
    va_end (ap);
    //  One line: a CA's detail may hold newlines.
    for (char *p = self->result->error; *p; p++)
        if (*p == '\n' || *p == '\r')
            *p = ' ';
    return code;
}

static void
s_reply_release (acme_reply_t *reply)
{
    free (reply->body);
    free (reply->location);
    memset (reply, 0, sizeof *reply);
}

static size_t
s_on_body (char *data, size_t size, size_t count, void *arg)
{
    acme_reply_t *reply = arg;
    size_t n = size * count;
    if (reply->len + n > ACME_BODY_MAX) {
        reply->too_big = true;
        return 0;
    }
    reply->body = act_realloc (reply->body, reply->len + n + 1);
    memcpy (reply->body + reply->len, data, n);
    reply->len += n;
    reply->body [reply->len] = 0;
    return n;
}

//  Keeps Replay-Nonce (in the acme) and Location (in the reply).
static size_t
s_on_header (char *data, size_t size, size_t count, void *arg)
{
    acme_reply_t *reply = arg;
    size_t n = size * count, len = n;
    while (len && (data [len - 1] == '\n' || data [len - 1] == '\r'))
        len--;
    const char *colon = memchr (data, ':', len);
    if (!colon)
        return n;
    size_t name_len = (size_t) (colon - data);
    const char *value = colon + 1;
    while (value < data + len && *value == ' ')
        value++;
    size_t value_len = (size_t) (data + len - value);
    if (name_len == 12 && strncasecmp (data, "Replay-Nonce", 12) == 0
        && value_len < ACME_NONCE_MAX) {
        memcpy (reply->acme->nonce, value, value_len);
        reply->acme->nonce [value_len] = 0;
    }
    else if (name_len == 8 && strncasecmp (data, "Location", 8) == 0) {
        free (reply->location);
        reply->location = act_strndup (value, value_len);
    }
    return n;
}

static int
s_on_progress (void *arg, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
               curl_off_t ulnow)
{
    (void) dltotal, (void) dlnow, (void) ultotal, (void) ulnow;
    acme_t *self = arg;
    return atomic_load (self->order->cancel) ? 1 : 0;
}

//  One HTTPS request: GET (body NULL, head false), HEAD, or a POST of a
//  JWS. Returns 0 with `reply` filled (any status), or a negative code
//  after s_fail when no answer came.
static int
s_http (acme_t *self, const char *url, const char *body, bool head, const char *accept,
        acme_reply_t *reply)
{
    memset (reply, 0, sizeof *reply);
    reply->acme = self;
    CURL *curl = self->curl;
    curl_easy_reset (curl);
    curl_easy_setopt (curl, CURLOPT_URL, url);
    curl_easy_setopt (curl, CURLOPT_PROTOCOLS_STR, "https");
    curl_easy_setopt (curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt (curl, CURLOPT_CONNECTTIMEOUT, (long) ACME_CONNECT_TIMEOUT_S);
    curl_easy_setopt (curl, CURLOPT_TIMEOUT, (long) ACME_REQUEST_TIMEOUT_S);
    curl_easy_setopt (curl, CURLOPT_USERAGENT, "dynod-acme/1");
    if (self->order->ca_file) {
        curl_easy_setopt (curl, CURLOPT_CAINFO, self->order->ca_file);
        curl_easy_setopt (curl, CURLOPT_CAPATH, "/etc/ssl/certs");
    }
    curl_easy_setopt (curl, CURLOPT_WRITEFUNCTION, s_on_body);
    curl_easy_setopt (curl, CURLOPT_WRITEDATA, reply);
    curl_easy_setopt (curl, CURLOPT_HEADERFUNCTION, s_on_header);
    curl_easy_setopt (curl, CURLOPT_HEADERDATA, reply);
    curl_easy_setopt (curl, CURLOPT_XFERINFOFUNCTION, s_on_progress);
    curl_easy_setopt (curl, CURLOPT_XFERINFODATA, self);
    curl_easy_setopt (curl, CURLOPT_NOPROGRESS, 0L);
    struct curl_slist *headers = NULL;
    if (body) {
        headers = curl_slist_append (headers, ACME_JOSE);
        curl_easy_setopt (curl, CURLOPT_POSTFIELDS, body);
    }
    else if (head)
        curl_easy_setopt (curl, CURLOPT_NOBODY, 1L);
    if (accept) {
        char *line = act_sprintf ("Accept: %s", accept);
        headers = curl_slist_append (headers, line);
        free (line);
    }
    curl_easy_setopt (curl, CURLOPT_HTTPHEADER, headers);
    CURLcode rc = curl_easy_perform (curl);
    curl_slist_free_all (headers);
    if (rc != CURLE_OK) {
        int code = reply->too_big ? -EMSGSIZE : -EIO;
        s_reply_release (reply);
        if (code == -EMSGSIZE)
            return s_fail (self, code, "%s: answer over %d bytes", url, ACME_BODY_MAX);
        return s_fail (self, code, "%s: %s", url, curl_easy_strerror (rc));
    }
    curl_easy_getinfo (curl, CURLINFO_RESPONSE_CODE, &reply->status);
    return 0;
}

//  The reply's body as JSON (caller owns), or NULL.
static json_t *
s_json (const acme_reply_t *reply)
{
    return reply->body ? json_loadb (reply->body, reply->len, 0, NULL) : NULL;
}

//  Fails with a problem document's type and detail (RFC 7807).
static int
s_fail_problem (acme_t *self, const char *step, const acme_reply_t *reply)
{
    json_t *problem = s_json (reply);
    const char *type = json_string_value (json_object_get (problem, "type"));
    const char *detail = json_string_value (json_object_get (problem, "detail"));
    s_fail (self, -EPROTO, "%s: %s%s%s (HTTP %ld)", step, detail ? detail : "no detail",
            type ? ", " : "", type ? type : "", reply->status);
    json_decref (problem);
    return -EPROTO;
}

static int
s_get_nonce (acme_t *self)
{
    acme_reply_t reply;
    int rc = s_http (self, self->new_nonce, NULL, true, NULL, &reply);
    if (rc)
        return rc;
    s_reply_release (&reply);
    return self->nonce [0] ? 0 : s_fail (self, -EPROTO, "newNonce: no Replay-Nonce");
}

//  Signs `payload` (NULL: POST-as-GET) for `url` and posts it, with jwk
//  (before the account exists) or kid. A badNonce is retried once.
//  Returns 0 with `reply` filled when the status is 2xx, else fails with
//  the CA's problem, naming `step`.
static int
s_post (acme_t *self, const char *step, const char *url, const char *payload, bool jwk,
        const char *accept, acme_reply_t *reply)
{
    for (int attempt = 0; attempt < 2; attempt++) {
        if (!self->nonce [0]) {
            int rc = s_get_nonce (self);
            if (rc)
                return rc;
        }
        json_t *header = json_pack ("{s:s, s:s}", "nonce", self->nonce, "url", url);
        if (jwk)
            json_object_set_new (header, "jwk", rel_acme_jwk (self->order->account));
        else
            json_object_set_new (header, "kid", json_string (self->kid));
        char *jws = rel_acme_jws (self->order->account, header, payload);
        json_decref (header);
        if (!jws)
            return s_fail (self, -EINVAL, "%s: cannot sign the request", step);
        self->nonce [0] = 0;            // spent; the answer brings the next
        int rc = s_http (self, url, jws, false, accept, reply);
        free (jws);
        if (rc)
            return rc;
        if (reply->status >= 200 && reply->status < 300)
            return 0;
        json_t *problem = s_json (reply);
        const char *type = json_string_value (json_object_get (problem, "type"));
        bool bad_nonce = type && strcmp (type, ACME_PROBLEM_BAD_NONCE) == 0;
        json_decref (problem);
        if (!bad_nonce || attempt == 1) {
            rc = s_fail_problem (self, step, reply);
            s_reply_release (reply);
            return rc;
        }
        s_reply_release (reply);
    }
    return -EPROTO;
}

//  Sleeps `ms` unless cancelled. Returns 0, or -ECANCELED.
static int
s_pause (acme_t *self, int ms)
{
    for (int slept = 0; slept < ms; slept += 10) {
        if (atomic_load (self->order->cancel))
            return s_fail (self, -ECANCELED, "cancelled");
        struct timespec ts = { 0, 10 * 1000 * 1000 };
        nanosleep (&ts, NULL);
    }
    return atomic_load (self->order->cancel) ? s_fail (self, -ECANCELED, "cancelled") : 0;
}

static int
s_directory (acme_t *self)
{
    acme_reply_t reply;
    int rc = s_http (self, self->order->directory, NULL, false, NULL, &reply);
    if (rc)
        return rc;
    json_t *dir = reply.status == 200 ? s_json (&reply) : NULL;
    const char *nonce = json_string_value (json_object_get (dir, "newNonce"));
    const char *account = json_string_value (json_object_get (dir, "newAccount"));
    const char *order = json_string_value (json_object_get (dir, "newOrder"));
    if (nonce && account && order) {
        self->new_nonce = act_strdup (nonce);
        self->new_account = act_strdup (account);
        self->new_order = act_strdup (order);
    }
    else
        rc = s_fail (self, -EPROTO, "directory %s: HTTP %ld, not an ACME directory",
                     self->order->directory, reply.status);
    json_decref (dir);
    s_reply_release (&reply);
    return rc;
}

static int
s_account (acme_t *self)
{
    json_t *payload = json_pack ("{s:b}", "termsOfServiceAgreed", 1);
    if (self->order->email && *self->order->email) {
        char *contact = act_sprintf ("mailto:%s", self->order->email);
        json_object_set_new (payload, "contact", json_pack ("[s]", contact));
        free (contact);
    }
    char *text = json_dumps (payload, JSON_COMPACT);
    json_decref (payload);
    acme_reply_t reply;
    int rc = s_post (self, "newAccount", self->new_account, text, true, NULL, &reply);
    free (text);
    if (rc)
        return rc;
    if (reply.location)
        self->kid = act_strdup (reply.location);
    else
        rc = s_fail (self, -EPROTO, "newAccount: no account URL (Location)");
    s_reply_release (&reply);
    return rc;
}

//  POST-as-GET of `url` as JSON (caller owns), or NULL after s_fail.
static json_t *
s_fetch (acme_t *self, const char *step, const char *url)
{
    acme_reply_t reply;
    if (s_post (self, step, url, NULL, false, NULL, &reply))
        return NULL;
    json_t *object = s_json (&reply);
    s_reply_release (&reply);
    if (!object)
        s_fail (self, -EPROTO, "%s: the answer is not JSON", step);
    return object;
}

//  Waits until the local router answers `token` with `key_auth` (best
//  effort: the CA decides in the end).
static void
s_self_check (acme_t *self, const char *domain, const char *token, const char *key_auth)
{
    if (self->order->self_check_port <= 0)
        return;
    CURL *curl = curl_easy_init ();
    if (!curl)
        return;
    char *url = act_sprintf ("http://127.0.0.1:%d" "/.well-known/acme-challenge/%s",
                             self->order->self_check_port, token);
    char *host = act_sprintf ("Host: %s", domain);
    struct curl_slist *headers = curl_slist_append (NULL, host);
    curl_easy_setopt (curl, CURLOPT_URL, url);
    curl_easy_setopt (curl, CURLOPT_PROTOCOLS_STR, "http");
    curl_easy_setopt (curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt (curl, CURLOPT_TIMEOUT_MS, 1000L);
    curl_easy_setopt (curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt (curl, CURLOPT_WRITEFUNCTION, s_on_body);
    for (int waited = 0; waited < ACME_CHECK_MAX_MS; waited += ACME_CHECK_EVERY_MS) {
        acme_reply_t reply = { .acme = self };
        curl_easy_setopt (curl, CURLOPT_WRITEDATA, &reply);
        bool ok = curl_easy_perform (curl) == CURLE_OK && reply.body
               && strcmp (reply.body, key_auth) == 0;
        s_reply_release (&reply);
        if (ok || s_pause (self, ACME_CHECK_EVERY_MS))
            break;
    }
    curl_slist_free_all (headers);
    free (host);
    free (url);
    curl_easy_cleanup (curl);
}

//  Polls `url` (an authorization or an order) until its status leaves
//  `pending`/`processing`. Returns the object (caller owns) or NULL after
//  s_fail.
static json_t *
s_poll (acme_t *self, const char *step, const char *url)
{
    for (int waited = 0;; waited += ACME_POLL_MS) {
        json_t *object = s_fetch (self, step, url);
        if (!object)
            return NULL;
        const char *status = json_string_value (json_object_get (object, "status"));
        if (!status || (strcmp (status, "pending") != 0 && strcmp (status, "processing") != 0))
            return object;
        json_decref (object);
        if (waited >= ACME_POLL_MAX_MS) {
            s_fail (self, -ETIMEDOUT, "%s: still pending after %d s", step, ACME_POLL_MAX_MS / 1000);
            return NULL;
        }
        if (s_pause (self, ACME_POLL_MS))
            return NULL;
    }
}

//  Why an invalid authorization failed: its http-01 challenge's error.
static int
s_fail_authz (acme_t *self, const char *domain, const json_t *authz)
{
    size_t i;
    json_t *challenge;
    json_array_foreach (json_object_get (authz, "challenges"), i, challenge) {
        json_t *error = json_object_get (challenge, "error");
        const char *detail = json_string_value (json_object_get (error, "detail"));
        if (detail)
            return s_fail (self, -EACCES, "authorization for %s failed: %s", domain, detail);
    }
    const char *status = json_string_value (json_object_get (authz, "status"));
    return s_fail (self, -EACCES, "authorization for %s failed: status %s", domain,
                   status ? status : "missing");
}

//  Answers one authorization with HTTP-01.
static int
s_authorize (acme_t *self, const char *url)
{
    json_t *authz = s_fetch (self, "authorization", url);
    if (!authz)
        return -EPROTO;
    const char *domain = json_string_value (json_object_get (json_object_get (authz, "identifier"), "value"));
    const char *status = json_string_value (json_object_get (authz, "status"));
    domain = domain ? domain : "?";
    int rc = 0;
    if (status && strcmp (status, "valid") == 0) {
        json_decref (authz);
        return 0;                       // reused from an earlier order
    }
    const char *token = NULL, *challenge_url = NULL;
    size_t i;
    json_t *challenge;
    json_array_foreach (json_object_get (authz, "challenges"), i, challenge) {
        const char *type = json_string_value (json_object_get (challenge, "type"));
        if (type && strcmp (type, "http-01") == 0) {
            token = json_string_value (json_object_get (challenge, "token"));
            challenge_url = json_string_value (json_object_get (challenge, "url"));
        }
    }
    char *key_auth = token ? rel_acme_key_auth (self->order->account, token) : NULL;
    if (!status || strcmp (status, "pending") != 0)
        rc = s_fail_authz (self, domain, authz);
    else if (!token || !*token || strlen (token) > ACME_TOKEN_MAX || !challenge_url || !key_auth
             || strspn (token, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
                        "abcdefghijklmnopqrstuvwxyz0123456789-_") != strlen (token))
        rc = s_fail (self, -EPROTO, "authorization for %s: no usable http-01 challenge", domain);
    if (rc) {
        free (key_auth);
        json_decref (authz);
        return rc;
    }
    self->order->challenge (self->order->arg, token, key_auth, false);
    s_self_check (self, domain, token, key_auth);
    acme_reply_t reply;
    rc = s_post (self, "challenge", challenge_url, "{}", false, NULL, &reply);
    if (rc == 0) {
        s_reply_release (&reply);
        json_t *done = s_poll (self, "authorization", url);
        const char *now = json_string_value (json_object_get (done, "status"));
        if (!done)
            rc = -EPROTO;
        else if (!now || strcmp (now, "valid") != 0)
            rc = s_fail_authz (self, domain, done);
        json_decref (done);
    }
    self->order->challenge (self->order->arg, token, key_auth, true);
    free (key_auth);
    json_decref (authz);
    return rc;
}

//  Finalizes `order` with a CSR for a new key and downloads the chain.
static int
s_finalize (acme_t *self, const char *order_url, const json_t *order)
{
    const char *finalize = json_string_value (json_object_get (order, "finalize"));
    if (!finalize)
        return s_fail (self, -EPROTO, "newOrder: no finalize URL");
    EVP_PKEY *key = rel_acme_key_new ();
    char *csr = key ? rel_acme_csr (key, self->order->domains, self->order->domain_count) : NULL;
    if (!csr) {
        EVP_PKEY_free (key);
        return s_fail (self, -EINVAL, "cannot make the certificate request");
    }
    json_t *payload = json_pack ("{s:s}", "csr", csr);
    char *text = json_dumps (payload, JSON_COMPACT);
    json_decref (payload);
    free (csr);
    acme_reply_t reply;
    int rc = s_post (self, "finalize", finalize, text, false, NULL, &reply);
    free (text);
    json_t *done = NULL;
    if (rc == 0) {
        s_reply_release (&reply);
        done = s_poll (self, "order", order_url);
        rc = done ? 0 : -EPROTO;
    }
    const char *status = json_string_value (json_object_get (done, "status"));
    const char *cert_url = json_string_value (json_object_get (done, "certificate"));
    if (rc == 0 && (!status || strcmp (status, "valid") != 0 || !cert_url))
        rc = s_fail (self, -EPROTO, "order ended %s", status ? status : "without a status");
    if (rc == 0)
        rc = s_post (self, "certificate", cert_url, NULL, false,
                     "application/pem-certificate-chain", &reply);
    json_decref (done);
    if (rc == 0) {
        rel_acme_result_t *result = self->result;
        if (reply.body && rel_acme_chain_facts (reply.body, key, &result->expires_ms,
                                                result->issuer, sizeof result->issuer) == 0) {
            result->chain = reply.body;
            reply.body = NULL;
            result->key = key;
            key = NULL;
        }
        else
            rc = s_fail (self, -EPROTO, "certificate: not a PEM chain for the key sent");
        s_reply_release (&reply);
    }
    EVP_PKEY_free (key);
    return rc;
}

static int
s_order (acme_t *self)
{
    json_t *ids = json_array ();
    for (size_t i = 0; i < self->order->domain_count; i++)
        json_array_append_new (ids, json_pack ("{s:s, s:s}", "type", "dns", "value",
                                               self->order->domains [i]));
    json_t *payload = json_pack ("{s:o}", "identifiers", ids);
    char *text = json_dumps (payload, JSON_COMPACT);
    json_decref (payload);
    acme_reply_t reply;
    int rc = s_post (self, "newOrder", self->new_order, text, false, NULL, &reply);
    free (text);
    if (rc)
        return rc;
    json_t *order = s_json (&reply);
    char *order_url = reply.location ? act_strdup (reply.location) : NULL;
    s_reply_release (&reply);
    if (!order || !order_url) {
        json_decref (order);
        free (order_url);
        return s_fail (self, -EPROTO, "newOrder: no order object or URL");
    }
    size_t i;
    json_t *authz;
    json_array_foreach (json_object_get (order, "authorizations"), i, authz) {
        if (!json_is_string (authz))
            rc = s_fail (self, -EPROTO, "newOrder: bad authorization URL");
        else
            rc = s_authorize (self, json_string_value (authz));
        if (rc)
            break;
    }
    if (rc == 0)
        rc = s_finalize (self, order_url, order);
    json_decref (order);
    free (order_url);
    return rc;
}

int
rel_acme_order_run (const rel_acme_order_t *order, rel_acme_result_t *result)
{
    memset (result, 0, sizeof *result);
    acme_t self = { .order = order, .result = result, .curl = curl_easy_init () };
    int rc = self.curl ? 0 : s_fail (&self, -ENOMEM, "cannot start libcurl");
    if (rc == 0 && order->domain_count == 0)
        rc = s_fail (&self, -EINVAL, "no domains to order");
    if (rc == 0)
        rc = s_directory (&self);
    if (rc == 0)
        rc = s_account (&self);
    if (rc == 0)
        rc = s_order (&self);
    curl_easy_cleanup (self.curl);
    free (self.new_nonce);
    free (self.new_account);
    free (self.new_order);
    free (self.kid);
    return rc;
}

void
rel_acme_result_release (rel_acme_result_t *result)
{
    free (result->chain);
    EVP_PKEY_free (result->key);
    result->chain = NULL;
    result->key = NULL;
}
