//  fuzz_hosts - libFuzzer target for what a router applies from
//  release-keeper's events and then resolves: `route.app` into the Host
//  table (router/hosts.c) and the certificate store (router/certs.c, what
//  rtr_tls_apply feeds), `acme.challenge` into the HTTP-01 answers
//  (router/challenges.c)
//
//  Input: JSON text up to the first NUL, then names to resolve, one a
//  line. The JSON is one body or an array of bodies. Each body that passes
//  the schema of `route.app` goes through the wire format (msg_encode, then
//  msg_decode: what a router really gets) into rtr_hosts_apply and
//  rtr_certs_set_app; one that passes the schema of `acme.challenge` into
//  rtr_challenges_apply. Then every name is looked up as a Host header
//  (rtr_hosts_lookup), an SNI name (rtr_certs_lookup) and a token
//  (rtr_challenges_lookup).
//
//  Checked, besides no crash and no leak:
//  - right after an app's picture is applied, each of its domains that is
//    a clean lower-case name resolves to that app, with its flags (H80
//    maintenance, H81 never released); after `destroyed`, none does;
//  - a lookup that fails leaves no app name; one that succeeds gives a
//    name shorter than RTR_APP_MAX;
//  - a certificate found for a name holds a key that matches its leaf;
//  - a challenge just published answers its key authorization; one just
//    removed answers nothing.
//  A broken rule abort()s; `make fuzz` builds this with clang, the replay
//  main runs the corpus under gcc.

#include "../../router/certs.h"
#include "../../router/challenges.h"
#include "../../router/hosts.h"
#include "../../messages/msg.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FZ_NAMES_MAX    64          // lines of names looked up
#define FZ_NAME_MAX     300         // bytes of one

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static void
s_fail (const char *what)
{
    fprintf (stderr, "fuzz-hosts: %s\n", what);
    abort ();
}

//  The body as the receiver decodes it after the sender encoded it as
//  `type`, or NULL when it does not pass the type's schema. Caller owns
//  result.
static json_t *
s_through_wire (msg_type_id_t type, json_t *body)
{
    msg_t *msg = msg_new (type);
    msg_set_id (msg, "0123456789abcdef0123456789abcdef");
    msg_set_from (msg, "release-keeper@1");
    msg_set_to (msg, type == MSG_TYPE_ROUTE_APP ? "route.app" : "acme.challenge");
    json_decref (msg->body);
    msg->body = json_incref (body);
    char *buf = NULL;
    size_t len = 0;
    json_t *decoded = NULL;
    if (msg_encode (msg, &buf, &len, NULL) == 0) {
        msg_t *back = msg_decode (buf, len, MSG_DECODE_FULL, NULL);
        if (!back)
            s_fail ("an encoded message does not decode");
        decoded = json_incref (back->body);
        msg_destroy (&back);
    }
    free (buf);
    msg_destroy (&msg);
    return decoded;
}

//  True for a name release-keeper could have stored: lower-case letters,
//  digits, `-`, `.` and `*`, 1-253 bytes, no trailing dot.
static bool
s_clean (const char *name)
{
    size_t len = strlen (name);
    if (len == 0 || len > 253 || name [len - 1] == '.')
        return false;
    return strspn (name, "abcdefghijklmnopqrstuvwxyz0123456789-.*") == len;
}

static void
s_check_lookup (rtr_host_t found, const char *app)
{
    if (found == RTR_HOST_UNKNOWN && app [0])
        s_fail ("an unknown host left an app name");
    if (found != RTR_HOST_UNKNOWN && (!app [0] || strlen (app) >= RTR_APP_MAX))
        s_fail ("a known host gave no app name, or one too long");
}

static void
s_route_app (rtr_hosts_t *hosts, rtr_certs_t *certs, const json_t *body)
{
    rtr_hosts_apply (hosts, body);
    const char *app = json_string_value (json_object_get (body, "app"));
    bool destroyed = json_is_true (json_object_get (body, "destroyed"));
    rtr_certs_set_app (certs, app, destroyed ? NULL : json_object_get (body, "certs"),
                       json_object_get (body, "domains"), NULL, NULL);
    if (strlen (app) >= RTR_APP_MAX)
        return;                 // refused whole: no app has such a name
    rtr_host_t flags = json_is_true (json_object_get (body, "maintenance")) ? RTR_HOST_MAINTENANCE
                     : json_is_true (json_object_get (body, "released")) ? RTR_HOST_OK
                     : RTR_HOST_NO_RELEASE;
    size_t i;
    json_t *domain;
    json_array_foreach (json_object_get (body, "domains"), i, domain) {
        const char *name = json_string_value (domain);
        if (!name || !s_clean (name) || strlen (name) != json_string_length (domain))
            continue;
        char owner [RTR_APP_MAX];
        rtr_host_t found = rtr_hosts_lookup (hosts, name, strlen (name), owner);
        s_check_lookup (found, owner);
        if (!destroyed && (found != flags || strcmp (owner, app) != 0))
            s_fail ("a domain just applied does not resolve to its app and flags");
        if (destroyed && found != RTR_HOST_UNKNOWN && strcmp (owner, app) == 0) {
            //  Only a default name (`APP.localhost`) may still name it.
            size_t len = strlen (name), alen = strlen (app);
            if (len <= alen || memcmp (name, app, alen) != 0 || name [alen] != '.')
                s_fail ("a destroyed app's domain still resolves to it");
        }
    }
}

static void
s_challenge (rtr_challenges_t *challenges, const json_t *body)
{
    rtr_challenges_apply (challenges, body);
    const char *token = json_string_value (json_object_get (body, "token"));
    const char *key_auth = json_string_value (json_object_get (body, "key_auth"));
    bool remove = json_is_true (json_object_get (body, "remove"));
    char answer [1024];
    ssize_t n = rtr_challenges_lookup (challenges, token, strlen (token), answer, sizeof answer);
    if (remove && n >= 0)
        s_fail ("a removed challenge still answers");
    if (!remove && *token && strlen (token) <= 256 && strlen (key_auth) <= 512
    &&  (n < 0 || strcmp (answer, key_auth) != 0))
        s_fail ("a published challenge does not answer its key authorization");
}

static void
s_apply (rtr_hosts_t *hosts, rtr_certs_t *certs, rtr_challenges_t *challenges, json_t *body)
{
    json_t *route = s_through_wire (MSG_TYPE_ROUTE_APP, body);
    if (route)
        s_route_app (hosts, certs, route);
    json_decref (route);
    json_t *challenge = s_through_wire (MSG_TYPE_ACME_CHALLENGE, body);
    if (challenge)
        s_challenge (challenges, challenge);
    json_decref (challenge);
}

static void
s_resolve (rtr_hosts_t *hosts, rtr_certs_t *certs, rtr_challenges_t *challenges,
           const char *name, size_t len)
{
    char app [RTR_APP_MAX] = "x";
    s_check_lookup (rtr_hosts_lookup (hosts, name, len, app), app);
    char sni [FZ_NAME_MAX + 1];
    memcpy (sni, name, len);
    sni [len] = 0;
    rtr_cert_t *cert = rtr_certs_lookup (certs, sni);
    if (cert && X509_check_private_key (rtr_cert_leaf (cert), rtr_cert_key (cert)) != 1)
        s_fail ("a certificate found holds a key that is not its leaf's");
    rtr_cert_release (&cert);
    char answer [1024];
    ssize_t n = rtr_challenges_lookup (challenges, name, len, answer, sizeof answer);
    if (n >= 0 && (size_t) n != strlen (answer))
        s_fail ("a challenge answer's length is wrong");
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    const uint8_t *nul = memchr (data, 0, size);
    size_t json_len = nul ? (size_t) (nul - data) : size;
    json_t *input = json_loadb ((const char *) data, json_len, JSON_DECODE_ANY, NULL);
    if (!input)
        return 0;
    rtr_hosts_t *hosts = rtr_hosts_new ("Example.NET");
    rtr_certs_t *certs = rtr_certs_new ();
    rtr_challenges_t *challenges = rtr_challenges_new ();
    if (json_is_array (input)) {
        size_t i;
        json_t *body;
        json_array_foreach (input, i, body)
            s_apply (hosts, certs, challenges, body);
    }
    else
        s_apply (hosts, certs, challenges, input);
    if (nul) {
        const char *names = (const char *) nul + 1;
        size_t left = size - json_len - 1;
        for (int line = 0; line < FZ_NAMES_MAX && left; line++) {
            const char *end = memchr (names, '\n', left);
            size_t len = end ? (size_t) (end - names) : left;
            if (len <= FZ_NAME_MAX)
                s_resolve (hosts, certs, challenges, names, len);
            left -= end ? len + 1 : len;
            names += end ? len + 1 : len;
        }
    }
    rtr_challenges_destroy (&challenges);
    rtr_certs_destroy (&certs);
    rtr_hosts_destroy (&hosts);
    json_decref (input);
    return 0;
}
