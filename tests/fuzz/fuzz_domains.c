//  fuzz_domains - libFuzzer target for release-keeper's checks of what a
//  user uploads: the host name of `domain.add` (domains.c) and the PEM
//  certificate and key of `cert.add` (certs.c)
//
//  The real release-keeper definition runs offline (as act_offline does,
//  but with a data directory, for the seal key of cert.add) with apps `fuzzy`
//  and `other`; `other` holds `taken.example.com`. DYNOD_BASE_DOMAIN is
//  `example.net`. Byte 0 of the input picks the message, the rest (up to
//  its first NUL, as argv would carry it) is its text:
//  - even: domain.add of that host name to `fuzzy`. The answer is domain.info
//    exactly when an independent reading of the rules says the name is
//    valid (RFC 1123 labels, two at least, a wildcard only as the whole
//    first label of three or more, not all digits at the end, 253 bytes,
//    no trailing dot, not under `localhost` nor one label under the base
//    domain, not another app's), naming it in lower case; else one line of
//    error. A domain release-keeper accepts resolves to `fuzzy` in a router's
//    Host table (router/hosts.c) given the same `route.app` picture (a
//    wildcard for any one label in its place). It is removed again after.
//  - odd: cert.add to `fuzzy` of the text up to the first NUL as the
//    certificate and the rest as the key. The answer is one line of error,
//    or a durable cert.stored to release-keeper itself naming 1 to 100
//    domains, not yet expired, with the key sealed (never in clear).
//  A broken rule abort()s; `make fuzz` builds this with clang, the replay
//  main runs the corpus under gcc.

#include "../../actors/common/act_internal.h"
#include "../../actors/common/act_offline.h"
#include "../../actors/release-keeper/release-keeper.h"
#include "../../router/hosts.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define FZ_TEXT_MAX     (64 * 1024)     // bytes of a certificate or key tried
#define FZ_TS           1700000000000LL

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

typedef struct {
    act_t *act;
    int next_id;
    char dir [64];
    msg_t **out;
    size_t count;
} fz_t;

static void
s_fail (const char *what)
{
    fprintf (stderr, "fuzz-domains: %s\n", what);
    abort ();
}

static msg_t *
s_msg (fz_t *self, msg_type_id_t type, bool durable)
{
    msg_t *msg = msg_new (type);
    char id [MSG_ID_LEN + 1];
    self->next_id++;
    snprintf (id, sizeof id, "%032x", self->next_id);
    msg_set_id (msg, id);
    msg_set_from (msg, "cli@f1");
    msg_set_to (msg, "release-keeper");
    msg->seq = durable ? (uint64_t) self->next_id : 0;
    msg->durable = durable;
    msg->ts = FZ_TS + self->next_id;
    return msg;
}

static void
s_feed (fz_t *self, msg_t **msg_p)
{
    act_offline_free_out (&self->out, self->count);
    self->count = 0;
    act_offline_feed (self->act, *msg_p, &self->out, &self->count);
    msg_destroy (msg_p);
}

static msg_t *
s_out (fz_t *self, msg_type_id_t type)
{
    for (size_t i = 0; i < self->count; i++)
        if (self->out [i]->type->id == type)
            return self->out [i];
    return NULL;
}

static void
s_domain (fz_t *self, msg_type_id_t type, const char *app, const char *host)
{
    msg_t *msg = s_msg (self, type, true);
    msg_set_str (msg, "app", app);
    msg_set_str (msg, "hostname", host);
    msg_set_str (msg, "by", "fuzz");
    s_feed (self, &msg);
}

//  An actor as act_offline_new makes one, with a data directory.
static void
s_open (fz_t *self)
{
    memset (self, 0, sizeof *self);
    snprintf (self->dir, sizeof self->dir, "/tmp/fuzz-domains-XXXXXX");
    if (!mkdtemp (self->dir))
        s_fail ("cannot make a data directory");
    self->act = act_calloc (1, sizeof *self->act);
    act_config_t cfg = { .instance = "f1", .host = "f1", .seed = 7, .data_dir = self->dir };
    if (act_init (self->act, rel_actor_def (), &cfg))
        s_fail ("cannot start release-keeper");
    self->act->offline = true;
    self->act->state = rel_actor_def ()->create (self->act);
    const char *apps [] = { "fuzzy", "other" };
    for (size_t i = 0; i < 2; i++) {
        msg_t *msg = s_msg (self, MSG_TYPE_APP_CREATE, true);
        msg_set_str (msg, "name", apps [i]);
        msg_set_str (msg, "by", "fuzz");
        s_feed (self, &msg);
        if (!s_out (self, MSG_TYPE_APP_INFO))
            s_fail ("cannot create the apps");
    }
    s_domain (self, MSG_TYPE_DOMAIN_ADD, "other", "taken.example.com");
    if (!s_out (self, MSG_TYPE_DOMAIN_INFO))
        s_fail ("cannot add other's domain");
}

static void
s_close (fz_t *self)
{
    act_offline_free_out (&self->out, self->count);
    act_offline_destroy (&self->act);
    char path [128];
    snprintf (path, sizeof path, "%s/release-keeper/seal.key", self->dir);
    remove (path);
    snprintf (path, sizeof path, "%s/release-keeper", self->dir);
    rmdir (path);
    rmdir (self->dir);
}

static void
s_check_error (fz_t *self)
{
    msg_t *err = s_out (self, MSG_TYPE_ERROR);
    if (!err)
        s_fail ("neither an answer nor an error");
    const char *reason = msg_str (err, "reason", "");
    if (!reason [0] || strchr (reason, '\n'))
        s_fail ("an error is not one line");
}

//  --- host names, read again from the rules

static bool
s_label_ok (const char *label, size_t len)
{
    if (len < 1 || len > 63 || label [0] == '-' || label [len - 1] == '-')
        return false;
    for (size_t i = 0; i < len; i++)
        if (!(isascii ((unsigned char) label [i]) && isalnum ((unsigned char) label [i]))
        &&  label [i] != '-')
            return false;
    return true;
}

//  True when `host` (lower case) ends with `.suffix` after `labels` labels
//  exactly (0: any number).
static bool
s_under (const char *host, const char *suffix, int labels)
{
    size_t hl = strlen (host), sl = strlen (suffix);
    if (hl <= sl + 1 || host [hl - sl - 1] != '.' || strcmp (host + hl - sl, suffix))
        return false;
    if (labels == 0)
        return true;
    return memchr (host, '.', hl - sl - 1) == NULL;
}

static bool
s_valid (const char *host)
{
    size_t len = strlen (host);
    if (len < 1 || len > 253 || host [len - 1] == '.')
        return false;
    size_t labels = 0;
    const char *last = host;
    for (const char *label = host; label;) {
        const char *dot = strchr (label, '.');
        size_t n = dot ? (size_t) (dot - label) : strlen (label);
        if (!(labels == 0 && n == 1 && label [0] == '*') && !s_label_ok (label, n))
            return false;
        labels++;
        last = label;
        label = dot ? dot + 1 : NULL;
    }
    if (labels < 2 || (host [0] == '*' && labels < 3))
        return false;
    if (strspn (last, "0123456789") == strlen (last))
        return false;
    if (s_under (host, "localhost", 0) || strcmp (host, "example.net") == 0
    ||  s_under (host, "example.net", 1))
        return false;
    return strcmp (host, "taken.example.com") != 0;
}

//  A router given `fuzzy`'s picture with `host` resolves it (or, for a
//  wildcard, a name in its place) to `fuzzy`.
static void
s_router_resolves (const char *host)
{
    rtr_hosts_t *hosts = rtr_hosts_new ("example.net");
    json_t *picture = json_pack ("{s:s, s:b, s:[s]}", "app", "fuzzy", "released", 1,
                                 "domains", host);
    rtr_hosts_apply (hosts, picture);
    json_decref (picture);
    char name [300];
    snprintf (name, sizeof name, "%s%s", host [0] == '*' ? "x" : "", host + (host [0] == '*'));
    char app [RTR_APP_MAX];
    if (rtr_hosts_lookup (hosts, name, strlen (name), app) != RTR_HOST_OK || strcmp (app, "fuzzy"))
        s_fail ("a domain release-keeper accepted does not resolve in the router");
    //  With a port and a trailing dot too, as Host headers may carry them.
    snprintf (name, sizeof name, "%s%s.:443", host [0] == '*' ? "x" : "", host + (host [0] == '*'));
    if (rtr_hosts_lookup (hosts, name, strlen (name), app) != RTR_HOST_OK || strcmp (app, "fuzzy"))
        s_fail ("a domain release-keeper accepted does not resolve with a port");
    rtr_hosts_destroy (&hosts);
}

static void
s_domain_add (fz_t *self, const char *given)
{
    char lower [300];
    size_t len = strlen (given);
    if (len >= sizeof lower)
        len = sizeof lower - 1;
    for (size_t i = 0; i < len; i++)
        lower [i] = (char) tolower ((unsigned char) given [i]);
    lower [len] = 0;
    bool valid = strlen (given) < sizeof lower && s_valid (lower);
    s_domain (self, MSG_TYPE_DOMAIN_ADD, "fuzzy", given);
    msg_t *info = s_out (self, MSG_TYPE_DOMAIN_INFO);
    if (!info) {
        s_check_error (self);
        if (valid)
            s_fail ("a valid host name was refused");
        return;
    }
    if (!valid)
        s_fail ("an invalid host name was accepted");
    const char *stored = msg_str (info, "hostname", "");
    if (strcmp (stored, lower) != 0)
        s_fail ("the stored host name is not the given one in lower case");
    s_router_resolves (stored);
    char copy [300];
    snprintf (copy, sizeof copy, "%s", stored);
    s_domain (self, MSG_TYPE_DOMAIN_REMOVE, "fuzzy", copy);
    if (!s_out (self, MSG_TYPE_DOMAIN_INFO))
        s_fail ("an added domain cannot be removed");
}

//  --- certificates

//  Returns true when a cert.stored was sent (the actor then holds a
//  waiting request: the caller starts a fresh one).
static bool
s_cert_add (fz_t *self, const char *cert, const char *key)
{
    msg_t *msg = s_msg (self, MSG_TYPE_CERT_ADD, false);
    msg_set_str (msg, "app", "fuzzy");
    msg_set_str (msg, "cert", cert);
    msg_set_str (msg, "key", key);
    s_feed (self, &msg);
    msg_t *stored = s_out (self, MSG_TYPE_CERT_STORED);
    if (!stored) {
        if (!s_out (self, MSG_TYPE_CERT_INFO))
            s_check_error (self);
        return false;
    }
    if (!stored->durable || strncmp (stored->to, "release-keeper", 14) != 0)
        s_fail ("cert.stored is not a durable message to release-keeper");
    json_t *domains = json_object_get (stored->body, "domains");
    if (json_array_size (domains) < 1 || json_array_size (domains) > 100)
        s_fail ("a stored certificate names no domain, or too many");
    size_t i;
    json_t *domain;
    json_array_foreach (domains, i, domain)
        if (!json_is_string (domain))
            s_fail ("a stored certificate's domain is not a string");
    if (msg_int (stored, "expires_ms", 0) <= FZ_TS)
        s_fail ("an expired certificate was stored");
    if (json_object_get (stored->body, "key"))
        s_fail ("a key in clear reached a durable message");
    const char *sealed = msg_str (stored, "key_sealed", NULL);
    if (!sealed || strstr (sealed, "PRIVATE KEY"))
        s_fail ("the stored key is not sealed");
    return true;
}

//  One actor for the whole run (a fuzz target has no other place to keep
//  it), closed at exit so its data directory goes.
static fz_t s_fz;
static bool s_fz_open;

static void
s_at_exit (void)
{
    if (s_fz_open)
        s_close (&s_fz);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    fz_t *fz = &s_fz;
    if (size == 0)
        return 0;
    if (!s_fz_open) {
        setenv ("DYNOD_BASE_DOMAIN", "example.net", 1);
        setenv ("DYNOD_LOG_LEVEL", "error", 1);
        act_log_init ("fuzz-domains");
        s_open (fz);
        s_fz_open = true;
        atexit (s_at_exit);
    }
    char *text = malloc (size);
    memcpy (text, data + 1, size - 1);
    text [size - 1] = 0;
    if (data [0] % 2 == 0)
        s_domain_add (fz, text);
    else {
        size_t cert_len = strlen (text);
        const char *key = cert_len + 1 < size ? text + cert_len + 1 : "";
        if (cert_len <= FZ_TEXT_MAX && s_cert_add (fz, text, key)) {
            s_close (fz);
            s_open (fz);
        }
    }
    free (text);
    return 0;
}
