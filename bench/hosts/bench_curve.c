//  bho_curve - the broker's throughput with CURVE against without
//
//  One `dynod broker` with its loopback endpoint (NULL security: token
//  only) and a `--listen` endpoint on 127.0.0.1 (always CURVE, with the
//  ZAP handler checking every connection's key). Two pairs of clients:
//  one over each endpoint; the bench's own key pair (TMP/bench.key) is
//  allowed with `dynod keys allow`. Each measurement is bench/broker's
//  routed throughput (bench_run.c): `count` pings pipelined from one
//  client to the other through the broker, not journaled, so what differs
//  is the encryption of every frame on both legs (client -> broker ->
//  client), not the disk. NULL and CURVE runs alternate, after one warm-up
//  each; the report takes the medians.

#include "bench.h"
#include "../broker/bench.h"
#include "../../actors/common/act_curve.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define BHO_READY_MS    20000
#define BHO_CONNECT_MS  5000
#define BHO_STOP_MS     10000

typedef struct {
    bho_curve_t *out;
    char data [300];
    char plain_ep [64], curve_ep [64];
    pid_t broker;
    int broker_out;
    act_curve_t curve;              // the bench's pair and the broker's key
    char server_key [ACT_KEY_LEN + 1];
    bch_t plain, secure;            // a client pair over each endpoint
    char *why;
    size_t why_len;
} s_run_t;

//  Runs `dynod ARGS...` to the end. Returns its exit status or -1.
static int
s_dynod (s_run_t *self, char *const argv [])
{
    char log_path [400];
    snprintf (log_path, sizeof log_path, "%s/keys.log", self->out->bench->tmp);
    int out = -1;
    pid_t pid = bcm_child_start (self->out->bench->dynod, argv, log_path, &out);
    if (pid < 0)
        return -1;
    char buf [256];
    while (read (out, buf, sizeof buf) > 0)
        ;
    close (out);
    int status;
    if (waitpid (pid, &status, 0) != pid)
        return -1;
    return WIFEXITED (status) ? WEXITSTATUS (status) : -1;
}

//  The broker's key (its host key, made here), the bench's pair, allowed.
static int
s_keys (s_run_t *self)
{
    char path [400], host [256] = "";
    snprintf (path, sizeof path, "%s/keys/host.key", self->data);
    act_keypair_t server;
    int rc = act_keypair_ensure (path, &server, NULL);
    if (rc == 0) {
        snprintf (self->server_key, sizeof self->server_key, "%s", server.public_key);
        act_keypair_wipe (&server);
        snprintf (path, sizeof path, "%s/bench.key", self->out->bench->tmp);
        rc = act_keypair_ensure (path, &self->curve.pair, NULL);
    }
    if (rc) {
        snprintf (self->why, self->why_len, "cannot make the keys: %s", act_strerror (rc));
        return -1;
    }
    self->curve.server_key = self->server_key;
    gethostname (host, sizeof host - 1);
    char *const argv [] = { "dynod", "keys", "allow", self->curve.pair.public_key, "--host", host,
                            "--data", self->data, NULL };
    if (s_dynod (self, argv) != 0) {
        snprintf (self->why, self->why_len, "dynod keys allow failed");
        return -1;
    }
    return 0;
}

static int
s_broker_start (s_run_t *self)
{
    char log_path [400];
    snprintf (log_path, sizeof log_path, "%s/broker-curve.log", self->out->bench->tmp);
    char *const argv [] = { "dynod", "broker", "--data", self->data, "--endpoint", self->plain_ep,
                            "--listen", self->curve_ep, NULL };
    self->broker = bcm_child_start (self->out->bench->dynod, argv, log_path, &self->broker_out);
    if (self->broker > 0 && bcm_wait_line (self->broker_out, "broker ready", BHO_READY_MS) == 0)
        return 0;
    bcm_log_tail ("bench-hosts", self->out->bench->dynod, "broker --listen", log_path);
    snprintf (self->why, self->why_len, "the broker did not start");
    return -1;
}

//  Connects a client pair to `endpoint` (over CURVE with `curve`) and
//  makes its frames.
static int
s_pair (s_run_t *self, bch_t *pair, const char *endpoint, const act_curve_t *curve)
{
    int rc;
    const char *token = self->out->bench->token;
    pair->tx = act_client_new_curve (endpoint, token, "bench-tx", BHO_CONNECT_MS, curve, &rc);
    pair->rx = pair->tx ? act_client_new_curve (endpoint, token, "bench-rx", BHO_CONNECT_MS, curve, &rc)
                        : NULL;
    if (!pair->rx) {
        snprintf (self->why, self->why_len, "cannot register with %s%s: %s", endpoint,
                  curve ? " over CURVE" : "", act_strerror (rc));
        return -1;
    }
    if (bch_make_frames (pair)) {
        snprintf (self->why, self->why_len, "cannot encode the ping");
        return -1;
    }
    return 0;
}

static void
s_pair_close (bch_t *pair)
{
    act_client_destroy (&pair->tx);
    act_client_destroy (&pair->rx);
    free (pair->plain);
    free (pair->durable);
    pair->plain = pair->durable = NULL;
}

//  One routed throughput run over `pair`. Returns 0 or -1.
static int
s_measure (s_run_t *self, bch_t *pair, size_t count, double *rate)
{
    char why [256];
    bch_settle (pair);
    if (bch_throughput (pair, BCH_ROUTED, count, rate, why, sizeof why) == 0)
        return 0;
    snprintf (self->why, self->why_len, "throughput run failed: %s", why);
    return -1;
}

int
bho_curve_run (bho_curve_t *out, char *why, size_t why_len)
{
    s_run_t self = { .out = out, .broker_out = -1, .why = why, .why_len = why_len };
    snprintf (self.data, sizeof self.data, "%s/data-curve", out->bench->tmp);
    snprintf (self.plain_ep, sizeof self.plain_ep, "tcp://127.0.0.1:%d", bcm_free_port ());
    snprintf (self.curve_ep, sizeof self.curve_ep, "tcp://127.0.0.1:%d", bcm_free_port ());
    printf ("  curve     broker throughput: %zu routed pings per run, NULL (%s) and CURVE (%s), "
            "%d rounds ...\n", out->count, self.plain_ep, self.curve_ep, BHO_CURVE_ROUNDS);
    fflush (stdout);
    int rc = s_keys (&self);
    if (rc == 0)
        rc = s_broker_start (&self);
    if (rc == 0)
        rc = s_pair (&self, &self.plain, self.plain_ep, NULL);
    if (rc == 0)
        rc = s_pair (&self, &self.secure, self.curve_ep, &self.curve);
    double warm;
    if (rc == 0)
        rc = s_measure (&self, &self.plain, out->count / 10, &warm);
    if (rc == 0)
        rc = s_measure (&self, &self.secure, out->count / 10, &warm);
    for (int r = 0; rc == 0 && r < BHO_CURVE_ROUNDS; r++) {
        rc = s_measure (&self, &self.plain, out->count, &out->null_rps [r]);
        if (rc == 0)
            rc = s_measure (&self, &self.secure, out->count, &out->curve_rps [r]);
        if (rc == 0) {
            out->rounds = r + 1;
            printf ("            round %d: NULL %.0f msgs/s, CURVE %.0f msgs/s\n", r + 1,
                    out->null_rps [r], out->curve_rps [r]);
            fflush (stdout);
        }
    }
    bcm_sort (out->null_rps, (size_t) out->rounds);
    bcm_sort (out->curve_rps, (size_t) out->rounds);
    s_pair_close (&self.plain);
    s_pair_close (&self.secure);
    act_keypair_wipe (&self.curve.pair);
    if (self.broker > 0)
        bcm_child_stop (self.broker, BHO_STOP_MS);
    if (self.broker_out >= 0)
        close (self.broker_out);
    return rc;
}
