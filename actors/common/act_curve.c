//  act_curve - CURVE key pairs and key files
//
//  Owns no state. Key files are written with act_write_file (a temporary
//  file renamed into place), so a reader sees the old pair or the new one.

#include "act_curve.h"
#include "act_base.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#define KEYFILE_MAX     4096            // bytes a key file may have

static const char s_z85 [] =
    "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#";

bool
act_key_valid (const char *key)
{
    if (!key || strlen (key) != ACT_KEY_LEN)
        return false;
    for (const char *p = key; *p; p++)
        if (!strchr (s_z85, *p))
            return false;
    //  Some 5-character groups overflow 32 bits; zmq_z85_decode says which.
    uint8_t bin [32];
    return zmq_z85_decode (bin, key) != NULL;
}

bool
act_endpoint_is_loopback (const char *endpoint)
{
    if (!endpoint)
        return false;
    if (strncmp (endpoint, "ipc://", 6) == 0 || strncmp (endpoint, "inproc://", 9) == 0)
        return true;
    if (strncmp (endpoint, "tcp://", 6) != 0)
        return false;
    const char *host = endpoint + 6;
    //  `tcp://SRC;DST` names a source address first: the destination counts.
    const char *semi = strchr (host, ';');
    if (semi)
        host = semi + 1;
    const char *colon = strrchr (host, ':');
    if (!colon)
        return false;
    size_t len = (size_t) (colon - host);
    if ((len == 5 && strncmp (host, "[::1]", 5) == 0) || (len == 9 && strncmp (host, "localhost", 9) == 0))
        return true;
    if (len < 9 || strncmp (host, "127.", 4) != 0)
        return false;
    //  127.0.0.0/8: four dot-separated numbers.
    int dots = 0;
    for (size_t i = 0; i < len; i++) {
        if (host [i] == '.')
            dots++;
        else if (host [i] < '0' || host [i] > '9')
            return false;
    }
    return dots == 3;
}

//  Copies the value of line `name=` from `text` into `out` (41 bytes).
static bool
s_key_line (const char *text, const char *name, char *out)
{
    size_t n = strlen (name);
    const char *line = text;
    while (*line) {
        size_t end = strcspn (line, "\n");
        if (strncmp (line, name, n) == 0 && line [n] == '=') {
            const char *v = line + n + 1;
            if (strcspn (v, "\r\n") != ACT_KEY_LEN)
                return false;
            memcpy (out, v, ACT_KEY_LEN);
            out [ACT_KEY_LEN] = 0;
            return act_key_valid (out);
        }
        line += end + (line [end] ? 1 : 0);
    }
    return false;
}

int
act_keypair_load (const char *path, act_keypair_t *pair)
{
    memset (pair, 0, sizeof *pair);
    char *text = NULL;
    size_t len = 0;
    int rc = act_read_file (path, &text, &len);
    if (rc)
        return rc;
    bool ok = len < KEYFILE_MAX && strlen (text) == len
           && s_key_line (text, "public", pair->public_key)
           && s_key_line (text, "secret", pair->secret_key);
    //  The public key must belong to the secret one.
    char derived [ACT_KEY_LEN + 1];
    if (ok && (zmq_curve_public (derived, pair->secret_key) != 0
               || strcmp (derived, pair->public_key) != 0))
        ok = false;
    memset (text, 0, len);
    free (text);
    if (!ok) {
        act_keypair_wipe (pair);
        return ACT_EPROTO;
    }
    return 0;
}

int
act_keypair_ensure (const char *path, act_keypair_t *pair, bool *created)
{
    if (created)
        *created = false;
    int rc = act_keypair_load (path, pair);
    if (rc != -ENOENT)
        return rc;
    if (zmq_curve_keypair (pair->public_key, pair->secret_key) != 0)
        return -errno ? -errno : -ENOTSUP;
    char *dir = act_strdup (path);
    char *slash = strrchr (dir, '/');
    rc = 0;
    if (slash && slash != dir) {
        *slash = 0;
        rc = act_mkdir_p (dir, 0700);
    }
    free (dir);
    char text [2 * ACT_KEY_LEN + 32];
    int n = snprintf (text, sizeof text, "public=%s\nsecret=%s\n", pair->public_key, pair->secret_key);
    if (rc == 0)
        rc = act_write_file (path, text, (size_t) n, 0600);
    memset (text, 0, sizeof text);
    if (rc)
        act_keypair_wipe (pair);
    else if (created)
        *created = true;
    return rc;
}

int
act_curve_client_apply (void *sock, const act_curve_t *curve)
{
    if (zmq_setsockopt (sock, ZMQ_CURVE_SERVERKEY, curve->server_key, ACT_KEY_LEN)
    ||  zmq_setsockopt (sock, ZMQ_CURVE_PUBLICKEY, curve->pair.public_key, ACT_KEY_LEN)
    ||  zmq_setsockopt (sock, ZMQ_CURVE_SECRETKEY, curve->pair.secret_key, ACT_KEY_LEN))
        return -errno;
    return 0;
}

void
act_keypair_wipe (act_keypair_t *pair)
{
    //  volatile: the compiler may not drop a store to memory about to die.
    volatile char *p = (volatile char *) pair->secret_key;
    for (size_t i = 0; i < sizeof pair->secret_key; i++)
        p [i] = 0;
}
