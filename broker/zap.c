//  brk_zap - the broker's CURVE endpoint: server key, ZAP handler,
//  allow-list reloads and the handshake monitor (zap.h says what each does)
//
//  Owns the ZAP REP socket, the monitor PAIR socket, the allow-list and the
//  log rate limiter. Runs on the broker's loop only.

#include "broker_internal.h"
#include "../actors/common/act.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define ZAP_MONITOR_ENDPOINT "inproc://brk-handshakes"
#define ZAP_FRAMES_MAX      8           // frames of a ZAP request we read
#define ZAP_FRAME_MAX       256         // bytes of one we keep
#define ZAP_LOG_SLOTS       16          // refusal kinds/keys rate-limited apart
#define ZAP_LOG_EVERY_MS    10000       // one line per kind per interval

typedef struct {
    char what [64];                     // kind, or kind + key prefix
    int64_t last_ms;
    uint64_t suppressed;
} zap_log_slot_t;

struct brk_zap {
    void *rep;                          // ZAP handler
    void *monitor;                      // PAIR, the ROUTER's handshake events
    act_keypair_t server;
    char listen [256];                  // the CURVE endpoint, as bound
    char port [16];                     // its port, to tell its events apart
    char *allow_path;
    brk_allow_t *allow;                 // never NULL once open
    struct stat allow_stat;             // of the file last loaded (zeroed: none)
    bool allow_error_logged;            // for the current (bad) version
    zap_log_slot_t log [ZAP_LOG_SLOTS];
};

//  A short prefix of a public key for log lines, never the whole key.
static void
s_key_prefix (const char *key, char *out, size_t len)
{
    snprintf (out, len, "%.*s...", ACT_KEY_PREFIX, key && *key ? key : "?");
}

//  True when a line about `what` may be logged now; *suppressed_p says how
//  many were held back since the last one.
static bool
s_may_log (brk_zap_t *zap, const char *what, uint64_t *suppressed_p)
{
    int64_t now = act_mono_ms ();
    zap_log_slot_t *slot = NULL, *oldest = &zap->log [0];
    for (size_t i = 0; i < ZAP_LOG_SLOTS && !slot; i++) {
        if (strcmp (zap->log [i].what, what) == 0)
            slot = &zap->log [i];
        else if (zap->log [i].last_ms < oldest->last_ms)
            oldest = &zap->log [i];
    }
    if (!slot) {
        slot = oldest;
        memset (slot, 0, sizeof *slot);
        snprintf (slot->what, sizeof slot->what, "%s", what);
        slot->last_ms = now - ZAP_LOG_EVERY_MS;
    }
    if (now - slot->last_ms < ZAP_LOG_EVERY_MS) {
        slot->suppressed++;
        return false;
    }
    *suppressed_p = slot->suppressed;
    slot->suppressed = 0;
    slot->last_ms = now;
    return true;
}

// ---------------------------------------------------------------------------
//  ZAP handler

typedef struct {
    char frames [ZAP_FRAMES_MAX][ZAP_FRAME_MAX];
    size_t sizes [ZAP_FRAMES_MAX];
    size_t count;
} zap_request_t;

//  Reads one request (all its frames). Returns false when nothing was there.
static bool
s_zap_recv (void *rep, zap_request_t *req)
{
    req->count = 0;
    bool more = true;
    while (more) {
        zmq_msg_t part;
        zmq_msg_init (&part);
        if (zmq_msg_recv (&part, rep, req->count ? 0 : ZMQ_DONTWAIT) < 0) {
            zmq_msg_close (&part);
            return req->count > 0;
        }
        more = zmq_msg_more (&part);
        if (req->count < ZAP_FRAMES_MAX) {
            size_t n = zmq_msg_size (&part);
            req->sizes [req->count] = n;
            n = n < ZAP_FRAME_MAX - 1 ? n : ZAP_FRAME_MAX - 1;
            memcpy (req->frames [req->count], zmq_msg_data (&part), n);
            req->frames [req->count][n] = 0;
            req->count++;
        }
        zmq_msg_close (&part);
    }
    return true;
}

static void
s_zap_reply (void *rep, const zap_request_t *req, const char *status, const char *text,
             const char *user_id)
{
    zmq_send (rep, "1.0", 3, ZMQ_SNDMORE);
    zmq_send (rep, req->frames [1], req->sizes [1] < ZAP_FRAME_MAX ? req->sizes [1] : 0, ZMQ_SNDMORE);
    zmq_send (rep, status, strlen (status), ZMQ_SNDMORE);
    zmq_send (rep, text, strlen (text), ZMQ_SNDMORE);
    zmq_send (rep, user_id, strlen (user_id), ZMQ_SNDMORE);
    zmq_send (rep, "", 0, 0);
}

//  Frames: version, request id, domain, address, routing id, mechanism,
//  credentials (CURVE: the client's 32-byte public key).
static void
s_zap_handle (brk_t *self, const zap_request_t *req)
{
    brk_zap_t *zap = self->zap;
    if (req->count < 6 || strcmp (req->frames [0], "1.0") != 0) {
        if (req->count >= 2)
            s_zap_reply (zap->rep, req, "500", "bad ZAP request", "");
        return;
    }
    const char *domain = req->frames [2], *address = req->frames [3], *mech = req->frames [5];
    bool curve_side = strcmp (domain, BRK_ZAP_DOMAIN) == 0;
    if (!curve_side && strcmp (mech, "NULL") == 0) {
        //  The loopback endpoint (no domain): as without a handler.
        s_zap_reply (zap->rep, req, "200", "OK", "");
        return;
    }
    char key [ACT_KEY_LEN + 1] = "";
    if (curve_side && strcmp (mech, "CURVE") == 0 && req->count >= 7 && req->sizes [6] == 32)
        zmq_z85_encode (key, (const uint8_t *) req->frames [6], 32);
    if (key [0] && brk_allow_find (zap->allow, key)) {
        s_zap_reply (zap->rep, req, "200", "OK", key);
        return;
    }
    self->rejected [key [0] ? BRK_REJ_KEY : BRK_REJ_HANDSHAKE]++;
    s_zap_reply (zap->rep, req, "400", key [0] ? "key not allowed" : "mechanism not allowed", "");
    char prefix [ACT_KEY_PREFIX + 8], what [64];
    s_key_prefix (key, prefix, sizeof prefix);
    snprintf (what, sizeof what, "key %s", prefix);
    uint64_t more = 0;
    if (!key [0])
        act_log_warn ("refused a %.16s connection from %.64s on %s: only CURVE is allowed there",
                      mech, address, zap->listen);
    else if (s_may_log (zap, what, &more))
        act_log_warn ("refused a CURVE connection from %.64s: key %s is not on the allow-list "
                      "(%llu more refusals of it not logged)", address, prefix, (unsigned long long) more);
}

// ---------------------------------------------------------------------------
//  Handshake monitor

//  The port of a `tcp://host:port` endpoint into `out` ("" if none).
static void
s_port_of (const char *endpoint, char *out, size_t len)
{
    const char *colon = strrchr (endpoint, ':');
    snprintf (out, len, "%s", colon && strncmp (endpoint, "tcp://", 6) == 0 ? colon + 1 : "");
}

static void
s_monitor_event (brk_t *self, uint16_t event, uint32_t value, const char *endpoint)
{
    brk_zap_t *zap = self->zap;
    char port [16];
    s_port_of (endpoint, port, sizeof port);
    bool ours = zap->port [0] && strcmp (port, zap->port) == 0;
    //  Failed ZAP checks were logged by the handler; the rest, on the
    //  CURVE endpoint, are peers that do not speak CURVE with our key.
    if (event == ZMQ_EVENT_HANDSHAKE_FAILED_AUTH || !ours) {
        if (!ours)
            act_log_debug ("handshake failed on %.200s (event %u, value %u)", endpoint, event, value);
        return;
    }
    //  Which side notices a peer with NULL or PLAIN security first is a
    //  race: here it is a mechanism mismatch, or a peer that hung up.
    self->rejected [BRK_REJ_HANDSHAKE]++;
    bool mismatch = event == ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL
                 && value == ZMQ_PROTOCOL_ERROR_ZMTP_MECHANISM_MISMATCH;
    char detail [64];
    if (mismatch)
        snprintf (detail, sizeof detail, "it asked for another security mechanism");
    else if (event == ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL)
        snprintf (detail, sizeof detail, "protocol error 0x%x", (unsigned) value);
    else
        snprintf (detail, sizeof detail, "%s", zmq_strerror ((int) value));
    uint64_t more = 0;
    if (s_may_log (zap, "handshake", &more))
        act_log_warn ("refused a connection on %s: no CURVE handshake (%s; a peer with NULL or PLAIN "
                      "security, a wrong broker key, or not ZeroMQ; %llu more not logged)",
                      zap->listen, detail, (unsigned long long) more);
}

static void
s_monitor_drain (brk_t *self)
{
    for (;;) {
        zmq_msg_t head, addr;
        zmq_msg_init (&head);
        if (zmq_msg_recv (&head, self->zap->monitor, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close (&head);
            return;
        }
        zmq_msg_init (&addr);
        bool ok = zmq_msg_more (&head) && zmq_msg_recv (&addr, self->zap->monitor, 0) >= 0
               && zmq_msg_size (&head) == 6;
        if (ok) {
            const uint8_t *d = zmq_msg_data (&head);
            uint16_t event;
            uint32_t value;
            memcpy (&event, d, 2);
            memcpy (&value, d + 2, 4);
            char endpoint [256];
            size_t n = zmq_msg_size (&addr) < sizeof endpoint - 1 ? zmq_msg_size (&addr) : sizeof endpoint - 1;
            memcpy (endpoint, zmq_msg_data (&addr), n);
            endpoint [n] = 0;
            s_monitor_event (self, event, value, endpoint);
        }
        zmq_msg_close (&addr);
        zmq_msg_close (&head);
    }
}

size_t
brk_zap_poll_add (brk_t *self, zmq_pollitem_t *items)
{
    if (!self->zap)
        return 0;
    items [0] = (zmq_pollitem_t) { self->zap->rep, 0, ZMQ_POLLIN, 0 };
    items [1] = (zmq_pollitem_t) { self->zap->monitor, 0, ZMQ_POLLIN, 0 };
    return BRK_ZAP_POLL_ITEMS;
}

void
brk_zap_on_poll (brk_t *self, const zmq_pollitem_t *items, size_t count)
{
    if (!self->zap || count < BRK_ZAP_POLL_ITEMS)
        return;
    if (items [0].revents & ZMQ_POLLIN) {
        zap_request_t req;
        while (s_zap_recv (self->zap->rep, &req))
            s_zap_handle (self, &req);
    }
    if (items [1].revents & ZMQ_POLLIN)
        s_monitor_drain (self);
}

// ---------------------------------------------------------------------------
//  The allow-list

const brk_allow_entry_t *
brk_zap_allowed (brk_t *self, const char *key)
{
    return self->zap && key && *key ? brk_allow_find (self->zap->allow, key) : NULL;
}

void
brk_zap_frame_key (brk_t *self, zmq_msg_t *frame)
{
    const char *user = self->zap ? zmq_msg_gets (frame, "User-Id") : NULL;
    snprintf (self->frame_key, sizeof self->frame_key, "%s", user ? user : "");
}

static bool
s_same_file (const struct stat *a, const struct stat *b)
{
    return a->st_ino == b->st_ino && a->st_dev == b->st_dev && a->st_size == b->st_size
        && a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec
        && a->st_ctim.tv_sec == b->st_ctim.tv_sec && a->st_ctim.tv_nsec == b->st_ctim.tv_nsec;
}

//  Why the allow-list no longer admits `peer` (registered over CURVE), or
//  NULL when it still does.
static const char *
s_peer_refused (brk_t *self, const brk_peer_t *peer)
{
    const brk_allow_entry_t *entry = brk_allow_find (self->zap->allow, peer->key);
    if (!entry)
        return "its key was revoked";
    if (peer->actor && (!brk_allow_permits (entry, peer->name) || strcmp (entry->host, peer->host) != 0))
        return "its key no longer allows this actor on this host";
    return NULL;
}

//  Loads the allow-list when the file changed (or appeared, or went).
//  Returns true when a new list is in place.
static bool
s_reload (brk_t *self, bool first)
{
    brk_zap_t *zap = self->zap;
    struct stat st;
    if (stat (zap->allow_path, &st) != 0)
        memset (&st, 0, sizeof st);
    if (!first && s_same_file (&st, &zap->allow_stat))
        return false;
    zap->allow_stat = st;
    char err [300];
    brk_allow_t *fresh = brk_allow_load (zap->allow_path, err, sizeof err);
    if (!fresh) {
        if (!zap->allow_error_logged)
            act_log_error ("cannot use the allow-list: %s; %s", err,
                           first ? "admitting no CURVE key" : "keeping the previous one");
        zap->allow_error_logged = true;
        if (!zap->allow)
            zap->allow = brk_allow_new ();
        return false;
    }
    zap->allow_error_logged = false;
    brk_allow_destroy (&zap->allow);
    zap->allow = fresh;
    act_log_info ("allow-list %s: %zu keys", first ? "loaded" : "reloaded", brk_allow_count (fresh));
    return true;
}

void
brk_zap_tick (brk_t *self)
{
    if (!self->zap || !s_reload (self, false))
        return;
    for (size_t i = 0; i < brk_directory_count (self->dir); ) {
        brk_peer_t *peer = brk_directory_at (self->dir, i);
        const char *why = peer->key [0] ? s_peer_refused (self, peer) : NULL;
        if (!why) {
            i++;
            continue;
        }
        char prefix [ACT_KEY_PREFIX + 8];
        s_key_prefix (peer->key, prefix, sizeof prefix);
        act_log_warn ("dropped %s (key %s): %s", peer->address, prefix, why);
        brk_peer_drop (self, peer, "key revoked");
        //  Swap-remove put another peer at i.
    }
}

// ---------------------------------------------------------------------------
//  Open and close

//  Logs a failed call; returns a negative code.
static int
s_failed (int err, const char *what, const char *subject)
{
    act_log_error ("cannot %s '%s': %s", what, subject, zmq_strerror (err));
    return err > 0 ? -err : -EIO;
}

//  The ZAP handler and the monitor, before the CURVE endpoint exists.
static int
s_open_guards (brk_t *self)
{
    brk_zap_t *zap = self->zap;
    int zero = 0;
    zap->rep = zmq_socket (self->zctx, ZMQ_REP);
    if (zap->rep)
        zmq_setsockopt (zap->rep, ZMQ_LINGER, &zero, sizeof zero);
    if (!zap->rep || zmq_bind (zap->rep, BRK_ZAP_ENDPOINT))
        return s_failed (errno, "bind the ZAP handler on", BRK_ZAP_ENDPOINT);
    int events = ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL | ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL
               | ZMQ_EVENT_HANDSHAKE_FAILED_AUTH;
    if (zmq_socket_monitor (self->router, ZAP_MONITOR_ENDPOINT, events))
        return s_failed (errno, "monitor", "router socket");
    zap->monitor = zmq_socket (self->zctx, ZMQ_PAIR);
    if (zap->monitor)
        zmq_setsockopt (zap->monitor, ZMQ_LINGER, &zero, sizeof zero);
    if (!zap->monitor || zmq_connect (zap->monitor, ZAP_MONITOR_ENDPOINT))
        return s_failed (errno, "connect to", ZAP_MONITOR_ENDPOINT);
    return 0;
}

int
brk_zap_open (brk_t *self)
{
    if (!self->cfg.listen)
        return 0;
    if (strncmp (self->cfg.listen, "tcp://", 6) != 0) {
        act_log_error ("cannot listen on '%s': --listen takes a tcp:// endpoint", self->cfg.listen);
        return -EINVAL;
    }
    brk_zap_t *zap = self->zap = act_calloc (1, sizeof *zap);
    char *key_path = act_sprintf ("%s/keys/host.key", self->cfg.data_dir);
    bool created = false;
    int rc = act_keypair_ensure (key_path, &zap->server, &created);
    if (rc)
        act_log_error ("cannot %s the broker's key '%s': %s", created ? "create" : "read", key_path,
                       rc == ACT_EPROTO ? "not a key file (public=, secret= lines)" : act_strerror (rc));
    free (key_path);
    if (rc)
        return rc;
    zap->allow_path = act_sprintf ("%s/keys/allowed", self->cfg.data_dir);
    s_reload (self, true);
    rc = s_open_guards (self);
    if (rc)
        return rc;
    int on = 1;
    if (zmq_setsockopt (self->router, ZMQ_CURVE_SERVER, &on, sizeof on)
    ||  zmq_setsockopt (self->router, ZMQ_CURVE_SECRETKEY, zap->server.secret_key, ACT_KEY_LEN)
    ||  zmq_setsockopt (self->router, ZMQ_ZAP_DOMAIN, BRK_ZAP_DOMAIN, strlen (BRK_ZAP_DOMAIN)))
        return s_failed (errno, "configure CURVE on", "router socket");
    if (zmq_bind (self->router, self->cfg.listen))
        return s_failed (errno, "bind", self->cfg.listen);
    size_t len = sizeof zap->listen;
    if (zmq_getsockopt (self->router, ZMQ_LAST_ENDPOINT, zap->listen, &len))
        snprintf (zap->listen, sizeof zap->listen, "%s", self->cfg.listen);
    s_port_of (zap->listen, zap->port, sizeof zap->port);
    char prefix [ACT_KEY_PREFIX + 8];
    s_key_prefix (zap->server.public_key, prefix, sizeof prefix);
    act_log_info ("CURVE endpoint %s (server key %s, %zu keys allowed)", zap->listen, prefix,
                  brk_allow_count (zap->allow));
    return 0;
}

void
brk_zap_close (brk_t *self)
{
    brk_zap_t *zap = self->zap;
    if (!zap)
        return;
    if (zap->monitor)
        zmq_close (zap->monitor);
    if (zap->rep)
        zmq_close (zap->rep);
    act_keypair_wipe (&zap->server);
    brk_allow_destroy (&zap->allow);
    free (zap->allow_path);
    free (zap);
    self->zap = NULL;
}
