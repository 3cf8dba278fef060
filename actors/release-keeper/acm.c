//  acm - automated certificate management: which apps need a certificate,
//  and the ACME orders that get them
//
//  Accepts: acm.set (durable; ACM on or off for an app).
//  Emits:   app.info (answering acm.set), error; acme.challenge on topic
//           `acme.challenge` (an HTTP-01 answer for the routers, then the
//           same token with `remove: true`); a durable cert.stored to
//           release-keeper itself with each certificate issued (auto:
//           true, the key sealed with seal.h: its clear PEM never reaches
//           a message that is journaled); API log lines (`Enable ACM by
//           USER`, `Ordering a certificate for DOMAINS by acm`,
//           `Certificate issued for DOMAINS by acm`, `Certificate order
//           for DOMAINS failed: REASON`).
//  State:   each app's `acm` flag in the durable `apps` (rel_state.h);
//           here, not durable: the orders in flight and each app's last
//           outcome (for `certs:auto` and the retry back-off). After a
//           restart the policy sees again what is missing and orders it.
//
//  The policy, from the tick (at most once a second, never while
//  replaying): an app with ACM on needs an order when one of its custom
//  domains (wildcards excepted: HTTP-01 cannot prove them) has no
//  certificate valid for more than DYNOD_ACM_RENEW_BEFORE_S (default 30
//  days), or its ACM certificate's names differ from its domains (the
//  list changed). One order covers all of them. After an order for the
//  same names (failed, or issued but already due, which only a renewal
//  window longer than the CA's lifetime makes happen) the next waits
//  DYNOD_ACM_RETRY_S (default 1 h): a failing domain never loops hot.
//
//  Orders run on their own threads (acme_client.h: blocking HTTPS), at
//  most ACM_ORDERS_MAX at once; the actor never waits for them. A thread
//  reports through a pipe the actor watches: challenges to publish, and
//  its end. Nothing of an order is durable; its result is, as cert.stored.
//
//      per app:  IDLE --due--> RUNNING --issued--> STORING --record has it--> IDLE
//                                      --failed--> FAILED --retry due / names changed--> RUNNING
//                RUNNING --ACM off / app gone--> cancelled, result dropped

#include "rel_state.h"
#include "acme_client.h"
#include "acme_jws.h"
#include "seal.h"

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/crypto.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define ACM_DIRECTORY        "https://acme-v02.api.letsencrypt.org/directory"
#define ACM_RENEW_BEFORE_S   2592000     // 30 days
#define ACM_RETRY_S          3600
#define ACM_ORDERS_MAX       4
#define ACM_POLICY_EVERY_MS  1000
#define ACM_STORING_MAX_MS   30000       // for our cert.stored to be applied
#define ACM_HTTP_PORT        8080        // the router's, for the self-check
#define ACM_CERT_NAME        "acm"       // the ACM certificate of an app; replaced on renewal
#define ACM_BY               "acm"
#define ACM_ACCOUNT_FILE     "acme-account.key"
#define ACM_ACCOUNT_AD       "-acme-account"     // seal's additional data: no app is named so
#define ACM_TOPIC            "topic:acme.challenge"

typedef enum { ACM_IDLE, ACM_RUNNING, ACM_STORING, ACM_FAILED } acm_phase_t;

//  One order on its thread. The thread reads `names`, `domains` and the
//  account key, all constant while it runs.
typedef struct {
    char *app;
    char **domains;
    size_t domain_count;
    pthread_t thread;
    atomic_bool cancel;
    rel_acme_order_t order;
    int pipe_fd;                        // borrowed: rel_acm_t's write end
} acm_order_t;

typedef enum { ACM_EV_CHALLENGE, ACM_EV_DONE } acm_event_kind_t;

//  What a thread reports; the pointer travels through the pipe and the
//  actor frees it.
typedef struct {
    acm_event_kind_t kind;
    acm_order_t *order;
    char *token, *key_auth;             // CHALLENGE
    bool remove;
    int rc;                             // DONE
    rel_acme_result_t result;
} acm_event_t;

//  An app's last outcome and its order, if one runs.
typedef struct {
    char *app;
    acm_phase_t phase;
    char *names;                        // the last order's domains, comma-separated
    char reason [REL_ACME_ERROR_MAX];   // why it failed
    int64_t updated_ms;                 // wall clock, for `certs:auto`
    int64_t done_mono;                  // when the last order ended (0: never)
    int64_t stored_expires;             // STORING: the notAfter sent
    acm_order_t *order;                 // RUNNING
} acm_app_t;

struct rel_acm {
    char *directory, *ca_file, *email;
    int64_t renew_before_ms, retry_ms;
    int http_port;
    bool seal_failed;                   // certs.c has no seal key: said once
    EVP_PKEY *account;                  // NULL until first needed
    int64_t account_failed_mono;        // when it last could not be had
    char *data;                         // DATA/release-keeper, or NULL
    int pipe [2];
    bool watching;
    acm_app_t **apps;
    size_t app_count;
    int running;
    int64_t last_policy_mono;
};

static int64_t
s_env_int (const char *name, int64_t dflt)
{
    const char *text = getenv (name);
    if (!text || !*text)
        return dflt;
    char *end;
    long long v = strtoll (text, &end, 10);
    if (*end || v <= 0) {
        act_log_warn ("ignoring %s='%s': not a positive number", name, text);
        return dflt;
    }
    return v;
}

static char *
s_env_str (const char *name, const char *dflt)
{
    const char *text = getenv (name);
    return text && *text ? act_strdup (text) : dflt ? act_strdup (dflt) : NULL;
}

rel_acm_t *
rel_acm_new (act_t *act)
{
    rel_acm_t *self = act_calloc (1, sizeof *self);
    self->directory = s_env_str ("DYNOD_ACME_DIRECTORY", ACM_DIRECTORY);
    self->ca_file = s_env_str ("DYNOD_ACME_CA", NULL);
    self->email = s_env_str ("DYNOD_ACME_EMAIL", NULL);
    self->renew_before_ms = s_env_int ("DYNOD_ACM_RENEW_BEFORE_S", ACM_RENEW_BEFORE_S) * 1000;
    self->retry_ms = s_env_int ("DYNOD_ACM_RETRY_S", ACM_RETRY_S) * 1000;
    self->http_port = (int) s_env_int ("DYNOD_HTTP_PORT", ACM_HTTP_PORT);
    const char *data = act_data_dir (act);
    if (data)
        self->data = act_sprintf ("%s/release-keeper", data);
    self->pipe [0] = self->pipe [1] = -1;
    //  Once, on the actor's thread, before any order's thread uses libcurl.
    curl_global_init (CURL_GLOBAL_DEFAULT);
    return self;
}

static void
s_order_free (acm_order_t *order)
{
    for (size_t i = 0; i < order->domain_count; i++)
        free (order->domains [i]);
    free (order->domains);
    free (order->app);
    free (order);
}

static void
s_event_free (acm_event_t *event)
{
    free (event->token);
    free (event->key_auth);
    rel_acme_result_release (&event->result);
    free (event);
}

void
rel_acm_destroy (rel_acm_t **self_p)
{
    rel_acm_t *self = *self_p;
    if (!self)
        return;
    //  Cancel every order and wait for its thread: each ends soon (the
    //  client checks `cancel` between steps and while transferring).
    for (size_t i = 0; i < self->app_count; i++)
        if (self->apps [i]->order)
            atomic_store (&self->apps [i]->order->cancel, true);
    for (size_t i = 0; i < self->app_count; i++) {
        acm_app_t *entry = self->apps [i];
        if (entry->order) {
            pthread_join (entry->order->thread, NULL);
            s_order_free (entry->order);
        }
        free (entry->app);
        free (entry->names);
        free (entry);
    }
    free (self->apps);
    if (self->pipe [0] >= 0) {
        acm_event_t *event;
        while (read (self->pipe [0], &event, sizeof event) == sizeof event)
            s_event_free (event);
        close (self->pipe [0]);
        close (self->pipe [1]);
    }
    EVP_PKEY_free (self->account);
    free (self->data);
    free (self->directory);
    free (self->ca_file);
    free (self->email);
    free (self);
    curl_global_cleanup ();
    *self_p = NULL;
}

static acm_app_t *
s_entry (rel_acm_t *self, const char *app, bool create)
{
    for (size_t i = 0; i < self->app_count; i++)
        if (strcmp (self->apps [i]->app, app) == 0)
            return self->apps [i];
    if (!create)
        return NULL;
    self->apps = act_realloc (self->apps, (self->app_count + 1) * sizeof *self->apps);
    acm_app_t *entry = act_calloc (1, sizeof *entry);
    entry->app = act_strdup (app);
    self->apps [self->app_count++] = entry;
    return entry;
}

//  Forgets app `app`'s entry (after its order, if any, ended).
static void
s_entry_drop (rel_acm_t *self, acm_app_t *entry)
{
    for (size_t i = 0; i < self->app_count; i++)
        if (self->apps [i] == entry) {
            self->apps [i] = self->apps [--self->app_count];
            break;
        }
    free (entry->app);
    free (entry->names);
    free (entry);
}

//  The seal: certs.c's (borrowed), the one key holder, since certs.c opens
//  what ACM seals; without a data directory that is a key in memory only,
//  which works the same while the process lives. NULL after logging why
//  not (once).
static rel_seal_t *
s_seal (rel_state_t *state)
{
    rel_acm_t *self = state->acm;
    const char *err = NULL;
    rel_seal_t *seal = state->certs ? rel_certs_seal (state->certs, &err) : NULL;
    if (!seal && !self->seal_failed) {
        act_log_error ("acm: cannot seal keys, no certificates will be ordered: %s",
                       err && *err ? err : "no seal key");
        self->seal_failed = true;
    }
    return seal;
}

//  The ACME account key: DATA/release-keeper/acme-account.key (sealed,
//  0600), made on first use; in memory only without a data directory.
//  NULL after logging why not.
static EVP_PKEY *
s_account (rel_state_t *state)
{
    rel_acm_t *self = state->acm;
    if (self->account)
        return self->account;
    //  Said once per back-off, not on every turn of the policy.
    if (self->account_failed_mono && act_mono_ms () - self->account_failed_mono < self->retry_ms)
        return NULL;
    self->account_failed_mono = act_mono_ms ();
    rel_seal_t *seal = s_seal (state);
    if (!seal)
        return NULL;
    char *path = self->data ? act_sprintf ("%s/%s", self->data, ACM_ACCOUNT_FILE) : NULL;
    char *sealed = NULL, *pem = NULL;
    size_t sealed_len = 0, pem_len = 0;
    if (path && act_read_file (path, &sealed, &sealed_len) == 0) {
        if (rel_seal_open (seal, ACM_ACCOUNT_AD, sealed, sealed_len, &pem, &pem_len) == 0)
            self->account = rel_acme_key_from_pem (pem, pem_len);
        if (!self->account)
            act_log_error ("acm: cannot open the ACME account key '%s'", path);
        if (pem)
            OPENSSL_cleanse (pem, pem_len);
        free (pem);
        free (sealed);
        free (path);
        return self->account;
    }
    free (sealed);
    EVP_PKEY *key = rel_acme_key_new ();
    char *clear = key ? rel_acme_key_pem (key) : NULL;
    int rc = clear ? 0 : -EINVAL;
    if (rc == 0 && path) {
        rc = rel_seal_close (seal, ACM_ACCOUNT_AD, clear, strlen (clear), &sealed, &sealed_len);
        if (rc == 0 && (rc = act_mkdir_p (self->data, 0700)) == 0)
            rc = act_write_file (path, sealed, sealed_len, 0600);
        free (sealed);
    }
    OPENSSL_clear_free (clear, clear ? strlen (clear) : 0);
    if (rc) {
        act_log_error ("acm: cannot make the ACME account key '%s': %s", path ? path : "(memory)",
                       act_strerror (rc));
        EVP_PKEY_free (key);
        key = NULL;
    }
    free (path);
    self->account = key;
    return key;
}

//  Sends one event pointer to the actor. On the order's thread.
static void
s_report (acm_order_t *order, acm_event_t *event)
{
    event->order = order;
    //  A pointer is far below PIPE_BUF: the write is whole or fails.
    if (write (order->pipe_fd, &event, sizeof event) != sizeof event)
        s_event_free (event);
}

static void
s_on_challenge (void *arg, const char *token, const char *key_auth, bool remove)
{
    acm_order_t *order = arg;
    acm_event_t *event = act_calloc (1, sizeof *event);
    event->kind = ACM_EV_CHALLENGE;
    event->token = act_strdup (token);
    event->key_auth = act_strdup (key_auth);
    event->remove = remove;
    s_report (order, event);
}

static void *
s_worker (void *arg)
{
    acm_order_t *order = arg;
    acm_event_t *event = act_calloc (1, sizeof *event);
    event->kind = ACM_EV_DONE;
    event->rc = rel_acme_order_run (&order->order, &event->result);
    s_report (order, event);
    return NULL;
}

//  Publishes or withdraws one HTTP-01 answer for the routers.
static void
s_publish (act_t *act, const acm_event_t *event)
{
    msg_t *msg = act_msg_new (act, MSG_TYPE_ACME_CHALLENGE, ACM_TOPIC);
    msg_set_str (msg, "token", event->token);
    msg_set_str (msg, "key_auth", event->key_auth);
    if (event->remove)
        msg_set_json (msg, "remove", json_true ());
    act_send (act, &msg);
}

//  An order's certificate: its key sealed for the app, sent durably to
//  release-keeper itself as cert.stored. Returns 0 or a negative code.
static int
s_store (rel_state_t *state, act_t *act, acm_event_t *event)
{
    rel_seal_t *seal = s_seal (state);
    char *pem = rel_acme_key_pem (event->result.key);
    char *sealed = NULL;
    size_t sealed_len = 0;
    int rc = !seal || !pem ? -EINVAL
           : rel_seal_close (seal, event->order->app, pem, strlen (pem), &sealed, &sealed_len);
    OPENSSL_clear_free (pem, pem ? strlen (pem) : 0);
    if (rc)
        return rc;
    msg_t *msg = act_msg_new (act, MSG_TYPE_CERT_STORED, "release-keeper");
    msg->durable = true;
    json_t *domains = json_array ();
    for (size_t i = 0; i < event->order->domain_count; i++)
        json_array_append_new (domains, json_string (event->order->domains [i]));
    msg_set_str (msg, "app", event->order->app);
    msg_set_str (msg, "name", ACM_CERT_NAME);
    msg_set_str (msg, "cert", event->result.chain);
    msg_set_json (msg, "key_sealed", json_stringn_nocheck (sealed, sealed_len));
    msg_set_json (msg, "domains", domains);
    msg_set_int (msg, "expires_ms", event->result.expires_ms);
    msg_set_str (msg, "issuer", event->result.issuer);
    msg_set_json (msg, "auto", json_true ());
    msg_set_str (msg, "by", ACM_BY);
    free (sealed);
    return act_send (act, &msg);
}

//  An order ended: its outcome recorded, its certificate stored.
static void
s_on_done (rel_state_t *state, act_t *act, acm_event_t *event)
{
    rel_acm_t *self = state->acm;
    acm_order_t *order = event->order;
    pthread_join (order->thread, NULL);
    self->running--;
    acm_app_t *entry = s_entry (self, order->app, false);
    bool wanted = entry && entry->order == order && !atomic_load (&order->cancel)
               && json_is_true (json_object_get (rel_app (state, order->app), "acm"));
    if (entry && entry->order == order)
        entry->order = NULL;
    if (!wanted) {
        if (entry)
            entry->phase = ACM_IDLE;
        s_order_free (order);
        return;
    }
    entry->done_mono = act_mono_ms ();
    entry->updated_ms = act_wall_ms ();
    int rc = event->rc;
    if (rc == 0 && (rc = s_store (state, act, event)) != 0)
        snprintf (event->result.error, sizeof event->result.error,
                  "cannot seal the certificate's key: %s", act_strerror (rc));
    if (rc == 0) {
        entry->phase = ACM_STORING;
        entry->stored_expires = event->result.expires_ms;
        act_log_info ("acm: certificate issued for '%s' (%s)", order->app, entry->names);
        act_emit_log (act, order->app, "api", "Certificate issued for %s by %s", entry->names,
                      ACM_BY);
    }
    else {
        entry->phase = ACM_FAILED;
        snprintf (entry->reason, sizeof entry->reason, "%s", event->result.error);
        act_log_warn ("acm: order for '%s' (%s) failed: %s", order->app, entry->names,
                      entry->reason);
        act_emit_log (act, order->app, "api", "Certificate order for %s failed: %s",
                      entry->names, entry->reason);
    }
    s_order_free (order);
}

static void
s_on_pipe (void *state, act_t *act, int fd, void *arg)
{
    (void) arg;
    acm_event_t *event;
    while (read (fd, &event, sizeof event) == sizeof event) {
        if (event->kind == ACM_EV_CHALLENGE)
            s_publish (act, event);
        else
            s_on_done (state, act, event);
        s_event_free (event);
    }
}

static bool
s_pipe_ready (rel_acm_t *self, act_t *act)
{
    if (self->pipe [0] >= 0)
        return true;
    if (pipe (self->pipe) != 0)
        return false;
    fcntl (self->pipe [0], F_SETFL, O_NONBLOCK);
    fcntl (self->pipe [0], F_SETFD, FD_CLOEXEC);
    fcntl (self->pipe [1], F_SETFD, FD_CLOEXEC);
    if (act_watch_fd (act, self->pipe [0], s_on_pipe, NULL) != 0) {
        close (self->pipe [0]);
        close (self->pipe [1]);
        self->pipe [0] = self->pipe [1] = -1;
        return false;
    }
    return true;
}

//  Starts an order for `domains` (borrowed strings) of `entry`'s app.
static void
s_start (rel_state_t *state, act_t *act, acm_app_t *entry, const char **domains, size_t n,
         const char *names)
{
    rel_acm_t *self = state->acm;
    EVP_PKEY *account = s_account (state);
    if (!account || !s_pipe_ready (self, act)) {
        //  Shown by certs:auto, and retried after the back-off.
        entry->phase = ACM_FAILED;
        snprintf (entry->reason, sizeof entry->reason, "%s",
                  account ? "cannot start an order (no pipe)"
                          : "release-keeper cannot keep an ACME account key (see its log)");
        free (entry->names);
        entry->names = act_strdup (names);
        entry->done_mono = act_mono_ms ();
        entry->updated_ms = act_wall_ms ();
        return;
    }
    acm_order_t *order = act_calloc (1, sizeof *order);
    order->app = act_strdup (entry->app);
    order->domains = act_calloc (n, sizeof *order->domains);
    for (size_t i = 0; i < n; i++)
        order->domains [i] = act_strdup (domains [i]);
    order->domain_count = n;
    order->pipe_fd = self->pipe [1];
    atomic_init (&order->cancel, false);
    order->order = (rel_acme_order_t) {
        .directory = self->directory, .ca_file = self->ca_file, .email = self->email,
        .account = account, .domains = (const char *const *) order->domains, .domain_count = n,
        .challenge = s_on_challenge, .arg = order, .self_check_port = self->http_port,
        .cancel = &order->cancel,
    };
    if (pthread_create (&order->thread, NULL, s_worker, order) != 0) {
        act_log_error ("acm: cannot start an order's thread");
        s_order_free (order);
        return;
    }
    self->running++;
    entry->order = order;
    entry->phase = ACM_RUNNING;
    entry->updated_ms = act_wall_ms ();
    free (entry->names);
    entry->names = act_strdup (names);
    act_log_info ("acm: ordering a certificate for '%s' (%s)", entry->app, names);
    act_emit_log (act, entry->app, "api", "Ordering a certificate for %s by %s", names, ACM_BY);
}

static int
s_by_str (const void *a, const void *b)
{
    return strcmp (*(const char *const *) a, *(const char *const *) b);
}

//  True when `cert` (a record of app.certs) names `host`, exactly or by
//  a wildcard of its first label.
static bool
s_cert_names (const json_t *cert, const char *host)
{
    size_t i;
    json_t *name;
    const char *dot = strchr (host, '.');
    json_array_foreach (json_object_get (cert, "domains"), i, name) {
        const char *text = json_string_value (name);
        if (!text)
            continue;
        if (strcasecmp (text, host) == 0)
            return true;
        if (text [0] == '*' && text [1] == '.' && dot && strcasecmp (text + 1, dot) == 0)
            return true;
    }
    return false;
}

//  True when a certificate of `app` names `host` and is valid until after
//  `until_ms`.
static bool
s_covered (const json_t *app, const char *host, int64_t until_ms)
{
    size_t i;
    json_t *cert;
    json_array_foreach (json_object_get (app, "certs"), i, cert)
        if (json_integer_value (json_object_get (cert, "expires_ms")) > until_ms
            && s_cert_names (cert, host))
            return true;
    return false;
}

//  The app's ACM certificate's names, sorted and comma-separated, or NULL.
//  Caller owns result.
static char *
s_acm_cert_names (const json_t *app, int64_t *expires_ms)
{
    size_t i;
    json_t *cert;
    json_array_foreach (json_object_get (app, "certs"), i, cert) {
        if (!json_is_true (json_object_get (cert, "auto")))
            continue;
        json_t *names = json_object_get (cert, "domains");
        size_t n = json_array_size (names), len = 1;
        const char **list = act_calloc (n + 1, sizeof *list);
        for (size_t k = 0; k < n; k++) {
            list [k] = json_string_value (json_array_get (names, k));
            list [k] = list [k] ? list [k] : "";
            len += strlen (list [k]) + 1;
        }
        qsort (list, n, sizeof *list, s_by_str);
        char *joined = act_calloc (1, len);
        for (size_t k = 0; k < n; k++)
            strcat (strcat (joined, k ? "," : ""), list [k]);
        free (list);
        *expires_ms = json_integer_value (json_object_get (cert, "expires_ms"));
        return joined;
    }
    return NULL;
}

//  Decides for one app with ACM on, and starts its order when one is due.
static void
s_policy_app (rel_state_t *state, act_t *act, const char *name, const json_t *app, int64_t now,
              int64_t mono)
{
    rel_acm_t *self = state->acm;
    acm_app_t *entry = s_entry (self, name, true);
    if (entry->phase == ACM_RUNNING)
        return;
    json_t *domains = json_object_get (app, "domains");
    size_t n = 0, len = 1, i;
    const char **list = act_calloc (json_array_size (domains) + 1, sizeof *list);
    json_t *domain;
    bool uncovered = false;
    json_array_foreach (domains, i, domain) {
        const char *host = json_string_value (json_object_get (domain, "hostname"));
        if (!host || host [0] == '*')
            continue;               // HTTP-01 cannot prove a wildcard
        list [n++] = host;
        len += strlen (host) + 1;
        uncovered |= !s_covered (app, host, now + self->renew_before_ms);
    }
    qsort (list, n, sizeof *list, s_by_str);
    char *names = act_calloc (1, len);
    for (i = 0; i < n; i++)
        strcat (strcat (names, i ? "," : ""), list [i]);
    int64_t acm_expires = 0;
    char *acm_names = s_acm_cert_names (app, &acm_expires);
    bool changed = acm_names && strcmp (acm_names, names) != 0;
    if (entry->phase == ACM_STORING) {
        //  Until our cert.stored is applied the record lags behind.
        bool applied = acm_names && acm_expires == entry->stored_expires;
        if (applied || mono - entry->done_mono > ACM_STORING_MAX_MS)
            entry->phase = ACM_IDLE;
    }
    bool same = entry->names && strcmp (entry->names, names) == 0;
    bool waiting = entry->done_mono && same && mono - entry->done_mono < self->retry_ms;
    if (n > 0 && (uncovered || changed) && entry->phase != ACM_STORING && !waiting
        && self->running < ACM_ORDERS_MAX)
        s_start (state, act, entry, list, n, names);
    free (acm_names);
    free (names);
    free (list);
}

void
rel_acm_tick (rel_state_t *state, act_t *act)
{
    rel_acm_t *self = state->acm;
    int64_t mono = act_mono_ms ();
    if (act_replaying (act) || mono - self->last_policy_mono < ACM_POLICY_EVERY_MS)
        return;
    self->last_policy_mono = mono;
    //  Orders for apps gone or with ACM off are cancelled; entries of
    //  such apps with nothing running are forgotten.
    for (size_t i = 0; i < self->app_count;) {
        acm_app_t *entry = self->apps [i];
        if (json_is_true (json_object_get (rel_app (state, entry->app), "acm"))) {
            i++;
            continue;
        }
        if (entry->order) {
            atomic_store (&entry->order->cancel, true);
            i++;
        }
        else
            s_entry_drop (self, entry);
    }
    int64_t now = act_wall_ms ();
    const char *name;
    json_t *app;
    json_object_foreach (state->apps, name, app)
        if (json_is_true (json_object_get (app, "acm")))
            s_policy_app (state, act, name, app, now, mono);
}

int
rel_on_acm_set (void *state, act_t *act, msg_t *msg)
{
    rel_state_t *self = state;
    const char *name = msg_str (msg, "app", "");
    json_t *app = rel_app (self, name);
    if (!app)
        return act_reply_error (act, msg, ACT_ENOTFOUND, "app '%s' does not exist", name);
    bool on = json_is_true (json_object_get (msg->body, "enabled"));
    const char *by = msg_str (msg, "by", "");
    if (json_is_true (json_object_get (app, "acm")) != on) {
        json_object_set_new (app, "acm", json_boolean (on));
        act_emit_log (act, name, "api", "%s ACM by %s", on ? "Enable" : "Disable",
                      *by ? by : "unknown");
    }
    return rel_reply_app_info (act, msg, name, app);
}

void
rel_acm_domain_view (rel_state_t *state, const char *name, const char *host, json_t *info)
{
    json_t *app = rel_app (state, name);
    if (!json_is_true (json_object_get (app, "acm")))
        return;
    acm_app_t *entry = state->acm ? s_entry (state->acm, name, false) : NULL;
    const char *status = "pending", *reason = NULL;
    int64_t updated = entry ? entry->updated_ms : 0;
    bool named = false;
    if (entry && entry->names) {
        //  Is `host` one of the last order's names?
        size_t len = strlen (host);
        for (const char *p = entry->names; p && *p;) {
            const char *comma = strchr (p, ',');
            size_t n = comma ? (size_t) (comma - p) : strlen (p);
            named |= n == len && strncmp (p, host, n) == 0;
            p = comma ? comma + 1 : NULL;
        }
    }
    if (host [0] == '*') {
        status = "failed";
        reason = "ACM cannot certify a wildcard domain (HTTP-01)";
    }
    else if (entry && named && entry->phase == ACM_FAILED) {
        status = "failed";
        reason = entry->reason;
    }
    else if (s_covered (app, host, act_wall_ms ()))
        status = "issued";
    json_object_set_new (info, "acm_status", json_string (status));
    if (reason)
        json_object_set_new (info, "acm_reason", json_string (reason));
    if (updated)
        json_object_set_new (info, "acm_updated_ms", json_integer (updated));
}
