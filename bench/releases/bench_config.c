//  bench_config - phase (a): config.set acknowledged per second
//
//  BRL_CLIENTS threads, each with its own act_client and its own app
//  (`bench-cfg-N`), send durable config.set messages one after the other,
//  each setting one of BRL_KEYS keys of its own to a new value, and wait for
//  the release.info release-keeper sends back: exactly what `dyno
//  config:set` does, without a process start per change. Changes done in
//  the warm-up are not counted; the rate is the changes acknowledged in the
//  measured window over its length, the latencies are theirs. Around the
//  window: the broker's journal head and the CPU time of dynod up's
//  children, for entries and CPU per change.

#include "bench.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

typedef struct {
    brl_t *bench;
    int index;
    act_client_t *client;           // owned by the thread's caller
    double start, measure_from, measure_to;   // bcm_now () times, shared
    double *samples;                // owned: latencies in ms, measured window
    size_t per_second [BRL_SECONDS_MAX];   // acknowledged in each second of the window
    size_t count, alloc;
    size_t errors;
    char why [256];
} s_worker_t;

static void *
s_worker (void *arg)
{
    s_worker_t *w = arg;
    char app [32], key [32], value [64];
    snprintf (app, sizeof app, "bench-cfg-%d", w->index);
    for (uint64_t n = 0; ; n++) {
        double t0 = bcm_now ();
        if (t0 >= w->measure_to)
            break;
        msg_t *req = act_client_msg_new (w->client, MSG_TYPE_CONFIG_SET, "config-keeper");
        req->durable = true;
        snprintf (key, sizeof key, "KEY_%d_%d", w->index, (int) (n % BRL_KEYS));
        snprintf (value, sizeof value, "value-%llu", (unsigned long long) n);
        json_t *vars = json_object ();
        json_object_set_new (vars, key, json_string (value));
        msg_set_str (req, "app", app);
        msg_set_json (req, "vars", vars);
        msg_set_str (req, "by", "bench");
        msg_t *reply = NULL;
        int rc = act_client_call (w->client, &req, BRL_CALL_MS, &reply);
        double t1 = bcm_now ();
        if (rc == 0 && reply->type->id != MSG_TYPE_RELEASE_INFO)
            rc = ACT_EPROTO;
        if (rc) {
            if (!w->errors++)
                snprintf (w->why, sizeof w->why, "config.set %s on %s: %s (%s)", key, app,
                          act_strerror (rc), reply ? msg_str (reply, "reason", "") : "no reply");
            msg_destroy (&reply);
            break;
        }
        msg_destroy (&reply);
        if (t0 >= w->measure_from && t1 <= w->measure_to) {
            if (w->count == w->alloc) {
                w->alloc = w->alloc ? 2 * w->alloc : 4096;
                w->samples = act_realloc (w->samples, w->alloc * sizeof *w->samples);
            }
            w->samples [w->count++] = (t1 - t0) * 1e3;
            size_t second = (size_t) (t1 - w->measure_from);
            if (second < BRL_SECONDS_MAX)
                w->per_second [second]++;
        }
    }
    return NULL;
}

int
brl_config_run (brl_t *self, brl_config_t *out, char *why, size_t why_len)
{
    s_worker_t workers [BRL_CLIENTS];
    pthread_t threads [BRL_CLIENTS];
    memset (workers, 0, sizeof workers);
    act_client_t *admin = brl_client (self, "bench-admin", why, why_len);
    int rc = admin ? 0 : -1;
    for (int i = 0; rc == 0 && i < BRL_CLIENTS; i++) {
        char name [32];
        snprintf (name, sizeof name, "bench-cfg-%d", i);
        rc = brl_app_create (self, admin, name, why, why_len);
        workers [i].client = rc ? NULL : brl_client (self, "bench-config", why, why_len);
        if (!workers [i].client)
            rc = -1;
    }
    int64_t head0 = -1, head1 = -1;
    double cpu0 [5], cpu1 [5], busy0 = 0, busy1 = 0;
    if (rc == 0) {
        double start = bcm_now ();
        for (int i = 0; i < BRL_CLIENTS; i++) {
            workers [i].bench = self;
            workers [i].index = i;
            workers [i].start = start;
            workers [i].measure_from = start + out->warmup_s;
            workers [i].measure_to = start + out->warmup_s + out->measure_s;
        }
        int started = 0;
        for (; started < BRL_CLIENTS; started++)
            if (pthread_create (&threads [started], NULL, s_worker, &workers [started]))
                break;
        //  The window's edges, sampled from here: close enough at thousands
        //  of changes per window.
        while (bcm_now () < start + out->warmup_s)
            bcm_sleep_ms (1);
        head0 = brl_journal_head (self);
        brl_children_cpu (self, cpu0);
        cpu0 [4] = bcm_self_cpu ();
        busy0 = bcm_machine_busy ();
        while (bcm_now () < start + out->warmup_s + out->measure_s)
            bcm_sleep_ms (1);
        head1 = brl_journal_head (self);
        brl_children_cpu (self, cpu1);
        cpu1 [4] = bcm_self_cpu ();
        busy1 = bcm_machine_busy ();
        for (int i = 0; i < started; i++)
            pthread_join (threads [i], NULL);
        if (started < BRL_CLIENTS) {
            snprintf (why, why_len, "cannot start thread %d", started);
            rc = -1;
        }
    }
    //  Merge the samples.
    size_t total = 0;
    for (int i = 0; i < BRL_CLIENTS; i++) {
        total += workers [i].count;
        for (size_t k = 0; k < BRL_SECONDS_MAX; k++)
            out->per_second [k] += workers [i].per_second [k];
        out->errors += workers [i].errors;
        if (workers [i].errors && rc == 0) {
            snprintf (why, why_len, "%s", workers [i].why);
            rc = -1;
        }
    }
    double *all = act_malloc ((total ? total : 1) * sizeof *all);
    size_t n = 0;
    for (int i = 0; i < BRL_CLIENTS; i++) {
        if (workers [i].count)
            memcpy (all + n, workers [i].samples, workers [i].count * sizeof *all);
        n += workers [i].count;
        free (workers [i].samples);
        act_client_destroy (&workers [i].client);
    }
    act_client_destroy (&admin);
    if (rc == 0 && total == 0) {
        snprintf (why, why_len, "no change was acknowledged in the measured window");
        rc = -1;
    }
    if (rc == 0) {
        bcm_sort (all, total);
        out->count = total;
        out->rate = (double) total / out->measure_s;
        out->p50_ms = bcm_percentile (all, total, 50);
        out->p99_ms = bcm_percentile (all, total, 99);
        out->max_ms = all [total - 1];
        out->journaled = head0 >= 0 && head1 >= head0 ? (double) (head1 - head0) / (double) total : 0;
        out->busy = (busy1 - busy0) / out->measure_s;
        double ours = 0;
        for (int i = 0; i < 5; i++)
            ours += cpu1 [i] - cpu0 [i];
        out->others = out->busy - ours / out->measure_s;
        if (out->others < 0)
            out->others = 0;
        for (int i = 0; i < 5; i++)
            out->cpu_ms [i] = (cpu1 [i] - cpu0 [i]) * 1e3 / (double) total;
    }
    free (all);
    return rc;
}
