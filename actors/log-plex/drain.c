//  drain - an app's log drains, each delivered by its own thread
//
//  A drain's queue is a circular array of LPX_DRAIN_LINES_MAX entry
//  pointers; `base` counts the lines ever removed from its head (delivered
//  or dropped), so the thread can tell whether the batch it holds is still
//  at the head (`base` unchanged) after a failed try.

#include "drain.h"
#include "../common/act_base.h"

#include <arpa/inet.h>
#include <assert.h>
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define LPX_DRAIN_TAG       0x6472616eu     // "dran"
#define LPX_DRAIN_TAG_DEAD  0xdeadbeefu

typedef struct {
    uint32_t tag;
    //  Set at add, then read-only (both threads read them).
    char app [64];
    char url [LPX_DRAIN_URL_MAX + 1];
    char token [LPX_DRAIN_TOKEN_LEN + 1];
    lpx_drain_url_t parsed;
    const char *ca_file;        // borrowed from the set; NULL: system CAs
    pthread_t thread;
    atomic_bool ended;          // the thread has returned
    //  Shared, under `lock`.
    pthread_mutex_t lock;
    pthread_cond_t cond;        // pushes and stop
    bool stop;
    lpx_entry_t *queue [LPX_DRAIN_LINES_MAX];
    size_t head;
    size_t count;
    uint64_t base;              // lines ever removed from the head
    uint64_t dropped;           // since the last L10 line delivered
    int64_t dropped_since_us;
    uint64_t sent;              // over the drain's life
    uint64_t dropped_total;
    //  The thread's own.
    int fd;                     // syslog connection, -1 when none
    SSL_CTX *ssl_ctx;
    SSL *ssl;
    CURL *curl;
    bool failing;               // the last try failed (logged once per run)
} lpx_drain_t;

struct lpx_drains {
    lpx_drain_t *live [LPX_DRAINS_MAX];
    size_t count;
    json_t *per_app;            // app -> number of drains (a fast "has none")
    lpx_drain_t **retired;      // stopped, thread not joined yet
    size_t retired_count;
    char *ca_file;
    uint64_t sent_gone;         // figures of drains removed
    uint64_t dropped_gone;
};

static int64_t
s_mono_ms (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

// --- Delivery (the drain's thread) -----------------------------------------

static void
s_disconnect (lpx_drain_t *self)
{
    if (self->ssl) {
        SSL_free (self->ssl);
        self->ssl = NULL;
    }
    if (self->fd >= 0)
        close (self->fd);
    self->fd = -1;
}

//  Connects a TCP socket to the drain's host and port, with timeouts.
//  Returns the fd or -1 with why in `why`.
static int
s_tcp_connect (lpx_drain_t *self, char *why, size_t why_len)
{
    char port [8];
    snprintf (port, sizeof port, "%d", self->parsed.port);
    struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM };
    struct addrinfo *found = NULL;
    int rc = getaddrinfo (self->parsed.host, port, &hints, &found);
    if (rc) {
        snprintf (why, why_len, "cannot resolve '%.64s': %s", self->parsed.host, gai_strerror (rc));
        return -1;
    }
    int fd = -1, err = 0;
    for (struct addrinfo *ai = found; ai && fd < 0; ai = ai->ai_next) {
        fd = socket (ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0) {
            err = errno;
            continue;
        }
        if (connect (fd, ai->ai_addr, ai->ai_addrlen) && errno == EINPROGRESS) {
            struct pollfd pfd = { .fd = fd, .events = POLLOUT };
            socklen_t len = sizeof err;
            if (poll (&pfd, 1, LPX_DRAIN_CONNECT_MS) != 1)
                err = ETIMEDOUT;
            else if (getsockopt (fd, SOL_SOCKET, SO_ERROR, &err, &len))
                err = errno;
        }
        else
            err = errno == EISCONN ? 0 : errno;
        if (err) {
            close (fd);
            fd = -1;
        }
    }
    freeaddrinfo (found);
    if (fd < 0) {
        snprintf (why, why_len, "cannot connect to %.64s:%d: %s", self->parsed.host,
                  self->parsed.port, strerror (err ? err : ECONNREFUSED));
        return -1;
    }
    fcntl (fd, F_SETFL, fcntl (fd, F_GETFL) & ~O_NONBLOCK);
    struct timeval tv = { .tv_sec = LPX_DRAIN_IO_MS / 1000 };
    setsockopt (fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    setsockopt (fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    return fd;
}

static int
s_syslog_connect (lpx_drain_t *self, char *why, size_t why_len)
{
    self->fd = s_tcp_connect (self, why, why_len);
    if (self->fd < 0 || self->parsed.scheme != LPX_DRAIN_SYSLOG_TLS)
        return self->fd < 0 ? -1 : 0;
    if (!self->ssl_ctx) {
        self->ssl_ctx = SSL_CTX_new (TLS_client_method ());
        SSL_CTX_set_verify (self->ssl_ctx, SSL_VERIFY_PEER, NULL);
        if (self->ca_file)
            SSL_CTX_load_verify_locations (self->ssl_ctx, self->ca_file, NULL);
        else
            SSL_CTX_set_default_verify_paths (self->ssl_ctx);
    }
    self->ssl = SSL_new (self->ssl_ctx);
    SSL_set_fd (self->ssl, self->fd);
    struct in_addr ip;
    if (inet_pton (AF_INET, self->parsed.host, &ip) == 1)
        X509_VERIFY_PARAM_set1_ip_asc (SSL_get0_param (self->ssl), self->parsed.host);
    else {
        SSL_set_tlsext_host_name (self->ssl, self->parsed.host);
        SSL_set1_host (self->ssl, self->parsed.host);
    }
    ERR_clear_error ();
    if (SSL_connect (self->ssl) != 1) {
        long verify = SSL_get_verify_result (self->ssl);
        unsigned long e = ERR_get_error ();
        if (verify != X509_V_OK)
            snprintf (why, why_len, "Error L14 (certificate validation): error=\"%s\"",
                      X509_verify_cert_error_string (verify));
        else
            snprintf (why, why_len, "TLS handshake failed: %s",
                      e ? ERR_reason_error_string (e) : "connection closed");
        s_disconnect (self);
        return -1;
    }
    return 0;
}

//  Writes `len` bytes to the syslog drain, connecting first if needed.
static int
s_syslog_send (lpx_drain_t *self, const char *body, size_t len, char *why, size_t why_len)
{
    //  A receiver never writes to us: a readable socket is one the peer
    //  closed (or is closing), which a write might not notice.
    if (self->fd >= 0) {
        struct pollfd pfd = { .fd = self->fd, .events = POLLIN };
        if (poll (&pfd, 1, 0) != 0)
            s_disconnect (self);
    }
    if (self->fd < 0 && s_syslog_connect (self, why, why_len))
        return -1;
    size_t done = 0;
    while (done < len) {
        ssize_t n;
        if (self->ssl) {
            int chunk = len - done > (1 << 30) ? 1 << 30 : (int) (len - done);
            n = SSL_write (self->ssl, body + done, chunk);
        }
        else
            n = send (self->fd, body + done, len - done, MSG_NOSIGNAL);
        if (n <= 0) {
            snprintf (why, why_len, "cannot write to %.64s:%d", self->parsed.host, self->parsed.port);
            s_disconnect (self);
            return -1;
        }
        done += (size_t) n;
    }
    return 0;
}

static size_t
s_discard (char *ptr, size_t size, size_t nmemb, void *arg)
{
    (void) ptr, (void) arg;
    return size * nmemb;
}

//  POSTs the body; a 2xx answer delivers it.
static int
s_http_send (lpx_drain_t *self, const char *body, size_t len, size_t frames,
             const char *frame_id, char *why, size_t why_len)
{
    if (!self->curl)
        self->curl = curl_easy_init ();
    CURL *curl = self->curl;
    if (!curl) {
        snprintf (why, why_len, "cannot make a curl handle");
        return -1;
    }
    char h_count [64], h_frame [80], h_token [80];
    snprintf (h_count, sizeof h_count, "Logplex-Msg-Count: %zu", frames);
    snprintf (h_frame, sizeof h_frame, "Logplex-Frame-Id: %s", frame_id);
    snprintf (h_token, sizeof h_token, "Logplex-Drain-Token: %s", self->token);
    struct curl_slist *headers = NULL;
    headers = curl_slist_append (headers, "Content-Type: application/logplex-1");
    headers = curl_slist_append (headers, h_count);
    headers = curl_slist_append (headers, h_frame);
    headers = curl_slist_append (headers, h_token);
    headers = curl_slist_append (headers, "Expect:");
    curl_easy_setopt (curl, CURLOPT_URL, self->url);
    curl_easy_setopt (curl, CURLOPT_PROTOCOLS_STR,
                      self->parsed.scheme == LPX_DRAIN_HTTP ? "http" : "https");
    curl_easy_setopt (curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt (curl, CURLOPT_POST, 1L);
    curl_easy_setopt (curl, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt (curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t) len);
    curl_easy_setopt (curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt (curl, CURLOPT_USERAGENT, "dynod-log-plex/1");
    curl_easy_setopt (curl, CURLOPT_CONNECTTIMEOUT_MS, (long) LPX_DRAIN_CONNECT_MS);
    curl_easy_setopt (curl, CURLOPT_TIMEOUT_MS, (long) LPX_DRAIN_IO_MS);
    curl_easy_setopt (curl, CURLOPT_WRITEFUNCTION, s_discard);
    if (self->ca_file)
        curl_easy_setopt (curl, CURLOPT_CAINFO, self->ca_file);
    CURLcode rc = curl_easy_perform (curl);
    long status = 0;
    curl_easy_getinfo (curl, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_setopt (curl, CURLOPT_HTTPHEADER, NULL);
    curl_slist_free_all (headers);
    if (rc != CURLE_OK) {
        snprintf (why, why_len, "POST failed: %s", curl_easy_strerror (rc));
        return -1;
    }
    if (status < 200 || status > 299) {
        snprintf (why, why_len, "POST answered %ld", status);
        return -1;
    }
    return 0;
}

//  The batch a thread holds: references to the head of the queue.
typedef struct {
    lpx_entry_t *entries [LPX_DRAIN_BATCH];
    size_t count;
    uint64_t base;              // the queue's base when taken
    uint64_t notice;            // lines the L10 line reports; 0: none
    int64_t since_us;
    char frame_id [37];
    char *body;                 // owned
    size_t len;
} lpx_batch_t;

static void
s_batch_release (lpx_batch_t *batch)
{
    for (size_t i = 0; i < batch->count; i++)
        lpx_entry_unref (&batch->entries [i]);
    batch->count = 0;
    free (batch->body);
    batch->body = NULL;
}

//  Takes a batch from the head of the queue; call with the lock held.
static void
s_batch_take (lpx_drain_t *self, lpx_batch_t *batch)
{
    batch->count = self->count < LPX_DRAIN_BATCH ? self->count : LPX_DRAIN_BATCH;
    for (size_t i = 0; i < batch->count; i++)
        batch->entries [i] = lpx_entry_ref (self->queue [(self->head + i) % LPX_DRAIN_LINES_MAX]);
    batch->base = self->base;
    batch->notice = self->dropped;
    batch->since_us = self->dropped_since_us;
}

//  Frames the batch into its body (outside the lock).
static void
s_batch_frame (lpx_drain_t *self, lpx_batch_t *batch)
{
    size_t cap = 256;
    for (size_t i = 0; i < batch->count; i++)
        cap += LPX_DRAIN_FRAME_MAX (batch->entries [i]->len);
    batch->body = act_malloc (cap);
    batch->len = 0;
    if (batch->notice)
        batch->len += lpx_drain_frame_l10 (batch->notice, batch->since_us, act_wall_us (),
                                           self->token, batch->body, cap);
    for (size_t i = 0; i < batch->count; i++)
        batch->len += lpx_drain_frame (batch->entries [i]->text, batch->entries [i]->len,
                                       self->token, batch->body + batch->len, cap - batch->len);
    if (lpx_drain_uuid (batch->frame_id))
        snprintf (batch->frame_id, sizeof batch->frame_id, "%016llx", (long long) act_wall_us ());
}

//  Removes the delivered batch from the queue; call with the lock held.
static void
s_batch_done (lpx_drain_t *self, lpx_batch_t *batch)
{
    while (self->count > 0 && self->base < batch->base + batch->count) {
        lpx_entry_unref (&self->queue [self->head]);
        self->head = (self->head + 1) % LPX_DRAIN_LINES_MAX;
        self->count--;
        self->base++;
    }
    self->dropped -= batch->notice <= self->dropped ? batch->notice : self->dropped;
    self->sent += batch->count;
}

static int
s_deliver (lpx_drain_t *self, lpx_batch_t *batch, char *why, size_t why_len)
{
    if (self->parsed.scheme == LPX_DRAIN_SYSLOG || self->parsed.scheme == LPX_DRAIN_SYSLOG_TLS)
        return s_syslog_send (self, batch->body, batch->len, why, why_len);
    return s_http_send (self, batch->body, batch->len, batch->count + (batch->notice ? 1 : 0),
                        batch->frame_id, why, why_len);
}

static void *
s_run (void *arg)
{
    lpx_drain_t *self = arg;
    lpx_batch_t *batch = act_calloc (1, sizeof *batch);
    int64_t backoff = 0;
    pthread_mutex_lock (&self->lock);
    while (!self->stop) {
        if (self->count == 0 && self->dropped == 0) {
            pthread_cond_wait (&self->cond, &self->lock);
            continue;
        }
        s_batch_take (self, batch);
        pthread_mutex_unlock (&self->lock);
        s_batch_frame (self, batch);
        while (true) {
            char why [256] = "";
            int rc = s_deliver (self, batch, why, sizeof why);
            if (rc == 0 && self->failing)
                act_log_info ("drain %s of '%s' delivers again", self->url, self->app);
            if (rc && !self->failing)
                act_log_warn ("drain %s of '%s': %s: retrying", self->url, self->app, why);
            self->failing = rc != 0;
            pthread_mutex_lock (&self->lock);
            if (rc == 0) {
                s_batch_done (self, batch);
                backoff = 0;
                break;
            }
            backoff = backoff ? backoff * 2 : LPX_DRAIN_BACKOFF_MIN_MS;
            if (backoff > LPX_DRAIN_BACKOFF_MAX_MS)
                backoff = LPX_DRAIN_BACKOFF_MAX_MS;
            int64_t until = s_mono_ms () + backoff;
            while (!self->stop && s_mono_ms () < until) {
                struct timespec ts;
                clock_gettime (CLOCK_MONOTONIC, &ts);
                int64_t left = until - s_mono_ms ();
                ts.tv_sec += left / 1000;
                ts.tv_nsec += (left % 1000) * 1000000;
                if (ts.tv_nsec >= 1000000000) {
                    ts.tv_sec++;
                    ts.tv_nsec -= 1000000000;
                }
                pthread_cond_timedwait (&self->cond, &self->lock, &ts);
            }
            //  Lines of the batch dropped meanwhile: take a new one.
            if (self->stop || self->base != batch->base)
                break;
            pthread_mutex_unlock (&self->lock);
        }
        s_batch_release (batch);
    }
    pthread_mutex_unlock (&self->lock);
    free (batch);
    s_disconnect (self);
    if (self->ssl_ctx)
        SSL_CTX_free (self->ssl_ctx);
    if (self->curl)
        curl_easy_cleanup (self->curl);
    atomic_store (&self->ended, true);
    return NULL;
}

// --- The set (actor thread) ------------------------------------------------

lpx_drains_t *
lpx_drains_new (const char *ca_file)
{
    curl_global_init (CURL_GLOBAL_DEFAULT);
    lpx_drains_t *self = act_calloc (1, sizeof *self);
    self->per_app = json_object ();
    self->ca_file = ca_file && *ca_file ? act_strdup (ca_file) : NULL;
    return self;
}

static void
s_drain_stop (lpx_drain_t *drain)
{
    pthread_mutex_lock (&drain->lock);
    drain->stop = true;
    pthread_cond_signal (&drain->cond);
    pthread_mutex_unlock (&drain->lock);
}

static void
s_drain_free (lpx_drain_t **drain_p)
{
    lpx_drain_t *drain = *drain_p;
    assert (drain->tag == LPX_DRAIN_TAG);
    pthread_join (drain->thread, NULL);
    while (drain->count) {
        lpx_entry_unref (&drain->queue [drain->head]);
        drain->head = (drain->head + 1) % LPX_DRAIN_LINES_MAX;
        drain->count--;
    }
    pthread_cond_destroy (&drain->cond);
    pthread_mutex_destroy (&drain->lock);
    drain->tag = LPX_DRAIN_TAG_DEAD;
    free (drain);
    *drain_p = NULL;
}

void
lpx_drains_destroy (lpx_drains_t **self_p)
{
    lpx_drains_t *self = *self_p;
    if (!self)
        return;
    for (size_t i = 0; i < self->count; i++)
        s_drain_stop (self->live [i]);
    for (size_t i = 0; i < self->count; i++)
        s_drain_free (&self->live [i]);
    for (size_t i = 0; i < self->retired_count; i++)
        s_drain_free (&self->retired [i]);
    free (self->retired);
    json_decref (self->per_app);
    free (self->ca_file);
    free (self);
    *self_p = NULL;
}

static ssize_t
s_find (const lpx_drains_t *self, const char *app, const char *url)
{
    for (size_t i = 0; i < self->count; i++)
        if (strcmp (self->live [i]->app, app) == 0 && (!url || strcmp (self->live [i]->url, url) == 0))
            return (ssize_t) i;
    return -1;
}

size_t
lpx_drains_count (const lpx_drains_t *self, const char *app)
{
    return (size_t) json_integer_value (json_object_get (self->per_app, app));
}

int
lpx_drains_add (lpx_drains_t *self, const char *app, const char *url, const char *token,
                char *why, size_t why_len)
{
    lpx_drain_url_t parsed;
    if (lpx_drain_url_parse (url, &parsed, why, why_len))
        return -EINVAL;
    if (s_find (self, app, url) >= 0) {
        snprintf (why, why_len, "'%s' has the drain %s already", app, url);
        return -EEXIST;
    }
    size_t had = lpx_drains_count (self, app);
    if (had >= LPX_DRAINS_PER_APP || self->count >= LPX_DRAINS_MAX || strlen (app) >= 64) {
        if (had >= LPX_DRAINS_PER_APP)
            snprintf (why, why_len, "'%s' has %d drains already, the most an app may have", app,
                      LPX_DRAINS_PER_APP);
        else
            snprintf (why, why_len, "log-plex holds %d drains already", LPX_DRAINS_MAX);
        return ACT_EFULL;
    }
    lpx_drain_t *drain = act_calloc (1, sizeof *drain);
    drain->tag = LPX_DRAIN_TAG;
    snprintf (drain->app, sizeof drain->app, "%s", app);
    snprintf (drain->url, sizeof drain->url, "%s", url);
    snprintf (drain->token, sizeof drain->token, "%s", token);
    drain->parsed = parsed;
    drain->ca_file = self->ca_file;
    drain->fd = -1;
    pthread_mutex_init (&drain->lock, NULL);
    pthread_condattr_t attr;
    pthread_condattr_init (&attr);
    pthread_condattr_setclock (&attr, CLOCK_MONOTONIC);
    pthread_cond_init (&drain->cond, &attr);
    pthread_condattr_destroy (&attr);
    int rc = pthread_create (&drain->thread, NULL, s_run, drain);
    if (rc) {
        pthread_cond_destroy (&drain->cond);
        pthread_mutex_destroy (&drain->lock);
        free (drain);
        snprintf (why, why_len, "cannot start the drain's thread: %s", strerror (rc));
        return ACT_EFULL;
    }
    self->live [self->count++] = drain;
    json_object_set_new (self->per_app, app, json_integer ((json_int_t) had + 1));
    return 0;
}

//  Stops live drain `i` and retires it.
static void
s_retire (lpx_drains_t *self, size_t i)
{
    lpx_drain_t *drain = self->live [i];
    s_drain_stop (drain);
    self->live [i] = self->live [--self->count];
    size_t had = lpx_drains_count (self, drain->app);
    if (had <= 1)
        json_object_del (self->per_app, drain->app);
    else
        json_object_set_new (self->per_app, drain->app, json_integer ((json_int_t) had - 1));
    pthread_mutex_lock (&drain->lock);
    self->sent_gone += drain->sent;
    self->dropped_gone += drain->dropped_total;
    pthread_mutex_unlock (&drain->lock);
    self->retired = act_realloc (self->retired, (self->retired_count + 1) * sizeof *self->retired);
    self->retired [self->retired_count++] = drain;
}

int
lpx_drains_remove (lpx_drains_t *self, const char *app, const char *url)
{
    ssize_t i = s_find (self, app, url);
    if (i < 0)
        return -ENOENT;
    s_retire (self, (size_t) i);
    return 0;
}

size_t
lpx_drains_drop_app (lpx_drains_t *self, const char *app)
{
    size_t n = 0;
    for (ssize_t i; (i = s_find (self, app, NULL)) >= 0; n++)
        s_retire (self, (size_t) i);
    return n;
}

static int
s_by_url (const void *a, const void *b)
{
    return strcmp ((*(lpx_drain_t * const *) a)->url, (*(lpx_drain_t * const *) b)->url);
}

json_t *
lpx_drains_list (const lpx_drains_t *self, const char *app)
{
    lpx_drain_t *found [LPX_DRAINS_PER_APP];
    size_t n = 0;
    for (size_t i = 0; i < self->count && n < LPX_DRAINS_PER_APP; i++)
        if (strcmp (self->live [i]->app, app) == 0)
            found [n++] = self->live [i];
    qsort (found, n, sizeof *found, s_by_url);
    json_t *list = json_array ();
    for (size_t i = 0; i < n; i++)
        json_array_append_new (list, json_pack ("{s:s, s:s}", "url", found [i]->url,
                                                "token", found [i]->token));
    return list;
}

json_t *
lpx_drains_all (const lpx_drains_t *self)
{
    json_t *list = json_array ();
    for (size_t i = 0; i < self->count; i++)
        json_array_append_new (list, json_pack ("{s:s, s:s, s:s}", "app", self->live [i]->app,
                                                "url", self->live [i]->url,
                                                "token", self->live [i]->token));
    return list;
}

void
lpx_drains_push (lpx_drains_t *self, const char *app, lpx_entry_t **entries, size_t count)
{
    if (count == 0 || !json_object_get (self->per_app, app))
        return;
    int64_t now_us = act_wall_us ();
    for (size_t d = 0; d < self->count; d++) {
        lpx_drain_t *drain = self->live [d];
        if (strcmp (drain->app, app) != 0)
            continue;
        pthread_mutex_lock (&drain->lock);
        for (size_t i = 0; i < count; i++) {
            if (drain->count == LPX_DRAIN_LINES_MAX) {
                lpx_entry_unref (&drain->queue [drain->head]);
                drain->head = (drain->head + 1) % LPX_DRAIN_LINES_MAX;
                drain->count--;
                drain->base++;
                if (drain->dropped == 0)
                    drain->dropped_since_us = now_us;
                drain->dropped++;
                drain->dropped_total++;
            }
            drain->queue [(drain->head + drain->count) % LPX_DRAIN_LINES_MAX] =
                lpx_entry_ref (entries [i]);
            drain->count++;
        }
        pthread_cond_signal (&drain->cond);
        pthread_mutex_unlock (&drain->lock);
    }
}

void
lpx_drains_reap (lpx_drains_t *self)
{
    size_t kept = 0;
    for (size_t i = 0; i < self->retired_count; i++) {
        if (atomic_load (&self->retired [i]->ended))
            s_drain_free (&self->retired [i]);
        else
            self->retired [kept++] = self->retired [i];
    }
    self->retired_count = kept;
}

void
lpx_drains_figures (lpx_drains_t *self, size_t *drains_p, uint64_t *sent_p, uint64_t *dropped_p)
{
    uint64_t sent = self->sent_gone, dropped = self->dropped_gone;
    for (size_t i = 0; i < self->count; i++) {
        pthread_mutex_lock (&self->live [i]->lock);
        sent += self->live [i]->sent;
        dropped += self->live [i]->dropped_total;
        pthread_mutex_unlock (&self->live [i]->lock);
    }
    *drains_p = self->count;
    *sent_p = sent;
    *dropped_p = dropped;
}
