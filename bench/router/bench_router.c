//  bench-router - the router against HAProxy and nginx, HTTP and HTTPS,
//  in front of the same web dyno
//
//  Usage: bench-router --dynod PATH --dyno PATH --tiny PATH [--seconds S]
//                      [--warmup S] [--connections N] [--workers N]
//                      [--hs-parallel N] [--rounds N] [--keep]
//         bench-router --handshakes PORT [--sni NAME] [--seconds S]
//                      [--hs-parallel N]
//
//  The second form only runs the handshake client against a TLS server
//  already listening on 127.0.0.1:PORT and prints handshakes/s.
//
//  Starts `dynod up` (DYNOD_ROUTER_WORKERS = --workers, default the online
//  CPUs), deploys bench-router-tiny as the web process of an app, and
//  starts HAProxy and nginx (Debian packages, on PATH) as reverse proxies
//  in front of that dyno with as many threads / workers (bench_peers.c
//  says how they are configured). Then, with wrk (keep-alive, --connections
//  connections, -t = the online CPUs, a --warmup run discarded before each
//  measured --seconds run; default 2 s and BENCH_SECONDS or 10 s; the
//  whole list --rounds times, interleaved, each figure the median of its
//  rounds (BENCH_ROUNDS or 3): on 2 CPUs one run moves by ±15%):
//      direct          the dyno's own port: the ceiling
//      haproxy, nginx  their HTTP ports
//      router          the router's HTTP port, Host: bench-router.localhost
//      https haproxy   HAProxy terminating TLS (ECDSA P-256, TLS 1.3)
//      https router    the router's HTTPS port (DYNOD_HTTPS_PORT), the
//                      certificate it mints from the local CA (ECDSA P-256)
//  and new full TLS handshakes per second against both HTTPS listeners
//  (bench_handshakes.c). When nothing listens on the router's HTTPS port,
//  or a GET over it does not answer 200, our TLS figures are `n/a` with a
//  note, and the rest still runs. Prints a table and ends with one RESULT
//  line; docs/performance.md ("Router") explains.
//
//  Owns the dynod up child, HAProxy and nginx (SIGTERM at the end; they
//  get SIGTERM too if we die first), and the temporary directory (removed
//  at the end unless --keep). Exit codes: 0 ran (targets are reported, not
//  enforced), 1 setup or a measurement failed, 2 usage error.

#include "bench.h"

#include <openssl/ssl.h>

#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define ROUNDS_MAX  9
enum { T_DIRECT, T_HAPROXY, T_NGINX, T_ROUTER, T_TLS_HAPROXY, T_TLS_ROUTER, T_COUNT };

typedef struct {
    brt_t bench;
    bool keep;
    int rounds;                     // --rounds: each target measured this often, interleaved
    brt_load_t runs [T_COUNT][ROUNDS_MAX];
    brt_hs_t hs_runs [2][ROUNDS_MAX];
    int hs_only;                    // --handshakes PORT
    const char *sni;                // --sni
    brt_load_t direct, haproxy, nginx, router, tls_haproxy, tls_router;
    brt_hs_t hs_haproxy, hs_router;
    char tls_note [200];            // why our TLS figures are n/a
    char load [2][64];              // /proc/loadavg before and after
} s_main_t;

// ---------------------------------------------------------------------------
//  Flags

static void
s_usage (FILE *file)
{
    fprintf (file, "usage: bench-router --dynod PATH --dyno PATH --tiny PATH [--seconds S] [--warmup S]\n"
                   "                    [--connections N] [--workers N] [--hs-parallel N] [--rounds N]\n"
                   "                    [--keep]\n"
                   "       bench-router --handshakes PORT [--sni NAME] [--seconds S] [--hs-parallel N]\n");
}

static int
s_parse (s_main_t *self, int argc, char **argv)
{
    brt_t *b = &self->bench;
    long cpus = sysconf (_SC_NPROCESSORS_ONLN);
    b->seconds = getenv ("BENCH_SECONDS") ? atoi (getenv ("BENCH_SECONDS")) : 10;
    b->warmup = 2;
    b->connections = 50;
    b->threads = cpus > 0 ? (int) cpus : 1;
    b->workers = getenv ("DYNOD_ROUTER_WORKERS") ? atoi (getenv ("DYNOD_ROUTER_WORKERS")) : b->threads;
    b->hs_parallel = 16;
    self->rounds = getenv ("BENCH_ROUNDS") ? atoi (getenv ("BENCH_ROUNDS")) : 3;
    static const struct option opts [] = {
        { "dynod", required_argument, NULL, 'd' },
        { "dyno", required_argument, NULL, 'c' },
        { "tiny", required_argument, NULL, 't' },
        { "seconds", required_argument, NULL, 's' },
        { "warmup", required_argument, NULL, 'w' },
        { "connections", required_argument, NULL, 'n' },
        { "workers", required_argument, NULL, 'W' },
        { "hs-parallel", required_argument, NULL, 'p' },
        { "keep", no_argument, NULL, 'K' },
        { "rounds", required_argument, NULL, 'r' },
        { "handshakes", required_argument, NULL, 'H' },
        { "sni", required_argument, NULL, 'S' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    int c;
    while ((c = getopt_long (argc, argv, "d:c:t:s:w:n:W:p:r:KH:S:h", opts, NULL)) != -1) {
        switch (c) {
            case 'd': b->dynod = optarg; break;
            case 'c': b->dyno = optarg; break;
            case 't': b->tiny = optarg; break;
            case 's': b->seconds = atoi (optarg); break;
            case 'w': b->warmup = atoi (optarg); break;
            case 'n': b->connections = atoi (optarg); break;
            case 'W': b->workers = atoi (optarg); break;
            case 'p': b->hs_parallel = atoi (optarg); break;
            case 'K': self->keep = true; break;
            case 'r': self->rounds = atoi (optarg); break;
            case 'H': self->hs_only = atoi (optarg); break;
            case 'S': self->sni = optarg; break;
            case 'h':
                s_usage (stdout);
                printf ("Measures requests/s and latency through dynod's router against HAProxy and nginx\n"
                        "in front of the same web dyno (HTTP and HTTPS), and new TLS handshakes/s.\n"
                        "--seconds: each measured run (default BENCH_SECONDS or 10); --warmup: the\n"
                        "discarded run before it (2); --connections: wrk's (50); --workers: the router's\n"
                        "workers = HAProxy nbthread = nginx worker_processes (DYNOD_ROUTER_WORKERS or the\n"
                        "CPUs); --hs-parallel: handshakes in flight per client thread (16); --rounds: how\n"
                        "often each target is measured, interleaved, reporting medians (BENCH_ROUNDS or 3,\n"
                        "at most 9); --keep: leave\n"
                        "the temporary directory. --handshakes PORT: only the TLS handshake client,\n"
                        "against 127.0.0.1:PORT (SNI --sni, default localhost). See docs/performance.md\n"
                        "(\"Router\").\n");
                exit (0);
            default:
                s_usage (stderr);
                return 2;
        }
    }
    if (self->hs_only && (self->hs_only > 65535 || optind != argc || b->seconds < 1 || b->hs_parallel < 1)) {
        s_usage (stderr);
        return 2;
    }
    if (self->hs_only)
        return 0;
    if (!b->dynod || !b->dyno || !b->tiny || optind != argc || b->seconds < 1 || b->warmup < 0
    ||  self->rounds < 1 || self->rounds > ROUNDS_MAX
    ||  b->connections < 1 || b->workers < 1 || b->hs_parallel < 1) {
        s_usage (stderr);
        return 2;
    }
    if (b->connections < b->threads)
        b->threads = b->connections;
    return 0;
}

static void
s_loadavg (char out [64])
{
    FILE *file = fopen ("/proc/loadavg", "r");
    out [0] = 0;
    if (file && fgets (out, 64, file)) {
        char *p = out;
        for (int spaces = 0; *p; p++)
            if (*p == ' ' && ++spaces == 3) {
                *p = 0;
                break;
            }
    }
    if (file)
        fclose (file);
}

// ---------------------------------------------------------------------------
//  Measurements

//  Whether our router's HTTPS listener is there and answers; else why not.
static bool
s_router_tls_ok (s_main_t *self)
{
    brt_t *b = &self->bench;
    if (!brt_listening (b->https_port)) {
        snprintf (self->tls_note, sizeof self->tls_note,
                  "nothing listens on the router's HTTPS port %d (no HTTPS listener yet)", b->https_port);
        return false;
    }
    //  With SNI the app's name (as the handshake client sends), then as wrk
    //  does: SNI the URL's host, 127.0.0.1 (the router's fallback name).
    const char *snis [] = { b->host, "127.0.0.1" };
    for (int i = 0; i < 2; i++) {
        char why [200] = "";
        int status = brt_get (b->https_port, b->host, snis [i], why, sizeof why);
        if (status != 200) {
            if (status > 0)
                snprintf (why, sizeof why, "status %d", status);
            snprintf (self->tls_note, sizeof self->tls_note, "GET / with SNI %s, Host %s on HTTPS port %d did "
                      "not answer 200: %s", snis [i], b->host, b->https_port, why);
            return false;
        }
    }
    return true;
}

static void
s_hs (s_main_t *self, const char *label, int port, brt_hs_t *out)
{
    brt_t *b = &self->bench;
    printf ("  %-22s 127.0.0.1:%d  SNI %s ...\n", label, port, b->host);
    fflush (stdout);
    //  Same warm-up as the load runs, then the measured run.
    if (b->warmup > 0)
        brt_handshakes (port, b->host, b->warmup, b->threads, b->hs_parallel, out);
    brt_handshakes (port, b->host, b->seconds, b->threads, b->hs_parallel, out);
}

static int
s_cmp_double (const void *a, const void *b)
{
    double x = *(const double *) a, y = *(const double *) b;
    return x < y ? -1 : x > y;
}

static double
s_median (double *v, int n)
{
    qsort (v, (size_t) n, sizeof *v, s_cmp_double);
    return n % 2 ? v [n / 2] : (v [n / 2 - 1] + v [n / 2]) / 2;
}

//  The median of each figure over `n` rounds (each figure on its own);
//  not measured when any round was not.
static void
s_load_median (const brt_load_t *runs, int n, brt_load_t *out)
{
    double rps [ROUNDS_MAX], p50 [ROUNDS_MAX], p99 [ROUNDS_MAX];
    *out = runs [0];
    for (int i = 0; i < n; i++) {
        if (!runs [i].ran) {
            *out = runs [i];
            return;
        }
        rps [i] = runs [i].rps;
        p50 [i] = runs [i].p50_ms;
        p99 [i] = runs [i].p99_ms;
        if (runs [i].note [0] && !out->note [0])
            snprintf (out->note, sizeof out->note, "%s", runs [i].note);
    }
    out->rps = s_median (rps, n);
    out->p50_ms = s_median (p50, n);
    out->p99_ms = s_median (p99, n);
}

static void
s_hs_median (const brt_hs_t *runs, int n, brt_hs_t *out)
{
    double per_s [ROUNDS_MAX];
    *out = runs [0];
    out->failed = 0;
    for (int i = 0; i < n; i++) {
        if (!runs [i].ran) {
            *out = runs [i];
            return;
        }
        per_s [i] = runs [i].per_s;
        out->failed += runs [i].failed;
    }
    out->per_s = s_median (per_s, n);
}

static int
s_measure (s_main_t *self)
{
    brt_t *b = &self->bench;
    bool ours = s_router_tls_ok (self);
    struct { const char *label; int port; bool tls; } targets [T_COUNT] = {
        [T_DIRECT] = { "direct", b->dyno_port, false },
        [T_HAPROXY] = { "haproxy", b->haproxy_http, false },
        [T_NGINX] = { "nginx", b->nginx_http, false },
        [T_ROUTER] = { "router", b->http_port, false },
        [T_TLS_HAPROXY] = { "https-haproxy", b->haproxy_https, true },
        [T_TLS_ROUTER] = { "https-router", b->https_port, true },
    };
    printf ("wrk -t %d -c %d, %d s warm-up, %d s measured; %d rounds, interleaved; HTTPS: TLS 1.3, "
            "ECDSA P-256\n", b->threads, b->connections, b->warmup, b->seconds, self->rounds);
    if (!ours)
        printf ("  %-22s n/a: %s\n", "https-router", self->tls_note);
    for (int r = 0; r < self->rounds; r++) {
        printf ("round %d:\n", r + 1);
        for (int t = 0; t < T_COUNT; t++) {
            if (t == T_TLS_ROUTER && !ours)
                continue;
            char url [128];
            snprintf (url, sizeof url, "%s://127.0.0.1:%d/", targets [t].tls ? "https" : "http",
                      targets [t].port);
            brt_wrk (b, targets [t].label, url, t == T_DIRECT ? NULL : b->host, &self->runs [t][r]);
            const brt_load_t *run = &self->runs [t][r];
            if (run->ran)
                printf ("  %-22s   %.0f requests/s, p99 %.3f ms\n", "", run->rps, run->p99_ms);
        }
        s_hs (self, "handshakes-haproxy", b->haproxy_https, &self->hs_runs [0][r]);
        if (ours)
            s_hs (self, "handshakes-router", b->https_port, &self->hs_runs [1][r]);
    }
    brt_load_t *out [T_COUNT] = { &self->direct, &self->haproxy, &self->nginx, &self->router,
                                  &self->tls_haproxy, &self->tls_router };
    for (int t = 0; t < T_COUNT; t++)
        if (t != T_TLS_ROUTER || ours)
            s_load_median (self->runs [t], self->rounds, out [t]);
    s_hs_median (self->hs_runs [0], self->rounds, &self->hs_haproxy);
    if (ours)
        s_hs_median (self->hs_runs [1], self->rounds, &self->hs_router);
    else
        printf ("  %-22s n/a: %s\n", "handshakes-router", self->tls_note);
    return self->direct.ran && self->router.ran ? 0 : -1;
}

// ---------------------------------------------------------------------------
//  Report

static double
s_max (double a, double b)
{
    return a > b ? a : b;
}

static void
s_num (char *out, size_t len, bool ran, const char *fmt, double v)
{
    if (ran && v >= 0)
        snprintf (out, len, fmt, v);
    else
        snprintf (out, len, "n/a");
}

static void
s_row (const char *name, const brt_load_t *load, double best_peer)
{
    char rps [32], p50 [32], p99 [32], ratio [32];
    s_num (rps, sizeof rps, load->ran, "%.0f", load->rps);
    s_num (p50, sizeof p50, load->ran, "%.3f", load->p50_ms);
    s_num (p99, sizeof p99, load->ran, "%.3f", load->p99_ms);
    s_num (ratio, sizeof ratio, load->ran && best_peer > 0, "%.2f", best_peer > 0 ? load->rps / best_peer : 0);
    printf ("%-24s %12s %10s %10s %10s  %s\n", name, rps, p50, p99, ratio, load->note);
}

static void
s_report (s_main_t *self)
{
    const brt_t *b = &self->bench;
    double best = s_max (self->haproxy.ran ? self->haproxy.rps : 0, self->nginx.ran ? self->nginx.rps : 0);
    double tls_best = self->tls_haproxy.ran ? self->tls_haproxy.rps : 0;
    printf ("\nMedians of %d rounds:\n%-24s %12s %10s %10s %10s\n", self->rounds, "target", "requests/s",
            "p50 ms", "p99 ms", "/ best peer");
    s_row ("direct (ceiling)", &self->direct, best);
    s_row ("haproxy", &self->haproxy, best);
    s_row ("nginx", &self->nginx, best);
    s_row ("router", &self->router, best);
    s_row ("https haproxy", &self->tls_haproxy, tls_best);
    s_row ("https router", &self->tls_router, tls_best);
    char hs_h [32], hs_r [32], hs_ratio [32];
    s_num (hs_h, sizeof hs_h, self->hs_haproxy.ran, "%.0f", self->hs_haproxy.per_s);
    s_num (hs_r, sizeof hs_r, self->hs_router.ran, "%.0f", self->hs_router.per_s);
    s_num (hs_ratio, sizeof hs_ratio, self->hs_router.ran && self->hs_haproxy.per_s > 0, "%.2f",
           self->hs_haproxy.per_s > 0 ? self->hs_router.per_s / self->hs_haproxy.per_s : 0);
    printf ("%-24s %12s %10s %10s %10s  %ld failed %s\n", "handshakes/s haproxy", hs_h, "", "", "1.00",
            self->hs_haproxy.failed, self->hs_haproxy.note);
    printf ("%-24s %12s %10s %10s %10s  %ld failed %s\n", "handshakes/s router", hs_r, "", "", hs_ratio,
            self->hs_router.failed, self->hs_router.ran ? self->hs_router.note : self->tls_note);
    printf ("\nTargets: router requests/s >= the better peer and p99 <= its p99, for HTTP and HTTPS;\n"
            "handshakes/s >= HAProxy's. Router workers = HAProxy nbthread = nginx workers = %d;\n"
            "%d CPUs; load average before %s, after %s.\n", b->workers, (int) sysconf (_SC_NPROCESSORS_ONLN),
            self->load [0], self->load [1]);
    if (self->tls_note [0])
        printf ("Note: our TLS figures are n/a: %s.\n", self->tls_note);

    char d [32], h [32], n [32], r [32], ratio [32], rp99 [32], hp99 [32], np99 [32], tr [32], th [32], tratio [32];
    s_num (d, sizeof d, self->direct.ran, "%.0f", self->direct.rps);
    s_num (h, sizeof h, self->haproxy.ran, "%.0f", self->haproxy.rps);
    s_num (n, sizeof n, self->nginx.ran, "%.0f", self->nginx.rps);
    s_num (r, sizeof r, self->router.ran, "%.0f", self->router.rps);
    s_num (ratio, sizeof ratio, self->router.ran && best > 0, "%.2f", best > 0 ? self->router.rps / best : 0);
    s_num (rp99, sizeof rp99, self->router.ran, "%.3f", self->router.p99_ms);
    s_num (hp99, sizeof hp99, self->haproxy.ran, "%.3f", self->haproxy.p99_ms);
    s_num (np99, sizeof np99, self->nginx.ran, "%.3f", self->nginx.p99_ms);
    s_num (tr, sizeof tr, self->tls_router.ran, "%.0f", self->tls_router.rps);
    s_num (th, sizeof th, self->tls_haproxy.ran, "%.0f", self->tls_haproxy.rps);
    s_num (tratio, sizeof tratio, self->tls_router.ran && tls_best > 0, "%.2f",
           tls_best > 0 ? self->tls_router.rps / tls_best : 0);
    printf ("RESULT direct_rps=%s haproxy_rps=%s nginx_rps=%s router_rps=%s router_ratio=%s router_p99_ms=%s "
            "haproxy_p99_ms=%s nginx_p99_ms=%s tls_router_rps=%s tls_haproxy_rps=%s tls_ratio=%s "
            "handshakes_router=%s handshakes_haproxy=%s\n",
            d, h, n, r, ratio, rp99, hp99, np99, tr, th, tratio, hs_r, hs_h);
    fflush (stdout);
}

// ---------------------------------------------------------------------------
//  Main

static int
s_setup (s_main_t *self, char *why, size_t why_len)
{
    brt_t *b = &self->bench;
    b->up_out = -1;
    if (bcm_tmp_make (b->tmp, sizeof b->tmp, "bench-router", "dynod-bench-router"))
        return -1;
    bcm_env_setup (b->tmp, b->token);
    if (brt_cert_make (b, why, why_len))
        return -1;
    printf ("bench-router: dynod up with %d router workers, the app %s (bench-router-tiny) ...\n", b->workers,
            BRT_APP);
    fflush (stdout);
    if (brt_system_start (b, why, why_len) || brt_app_deploy (b, why, why_len))
        return -1;
    printf ("bench-router: web dyno on 127.0.0.1:%d, router http %d https %d; starting haproxy and nginx ...\n",
            b->dyno_port, b->http_port, b->https_port);
    fflush (stdout);
    if (brt_haproxy_start (b, why, why_len) || brt_nginx_start (b, why, why_len))
        return -1;
    //  Each peer answers through the dyno before anything is measured.
    const int ports [] = { b->haproxy_http, b->nginx_http };
    const char *names [] = { "haproxy", "nginx" };
    for (int i = 0; i < 2; i++) {
        char err [200] = "";
        int status = brt_get (ports [i], b->host, NULL, err, sizeof err);
        if (status != 200) {
            snprintf (why, why_len, "%s did not answer 200 through the dyno (%s%d)", names [i], err, status);
            return -1;
        }
    }
    return 0;
}

static void
s_teardown (s_main_t *self)
{
    brt_t *b = &self->bench;
    brt_peers_stop (b);
    if (b->up > 0)
        brt_system_stop (b);
    bcm_tmp_done (b->tmp, self->keep, "bench-router");
}

int
main (int argc, char **argv)
{
    static s_main_t self;
    int rc = s_parse (&self, argc, argv);
    if (rc)
        return rc;
    signal (SIGPIPE, SIG_IGN);
    OPENSSL_init_ssl (0, NULL);
    if (self.hs_only) {
        brt_hs_t hs;
        brt_t *b = &self.bench;
        brt_handshakes (self.hs_only, self.sni ? self.sni : "localhost", b->seconds, b->threads, b->hs_parallel,
                        &hs);
        printf ("handshakes/s %.0f (%ld done, %ld failed in %d s, %d threads x %d in flight)%s%s\n", hs.per_s,
                hs.done, hs.failed, b->seconds, b->threads, b->hs_parallel, hs.note [0] ? ": " : "", hs.note);
        return hs.ran ? 0 : 1;
    }
    char why [600] = "";
    s_loadavg (self.load [0]);
    rc = s_setup (&self, why, sizeof why);
    if (rc == 0)
        rc = s_measure (&self);
    if (rc && !why [0])
        snprintf (why, sizeof why, "a measurement failed: direct: %s; router: %s", self.direct.note,
                  self.router.note);
    s_loadavg (self.load [1]);
    s_teardown (&self);
    //  A failed measurement still gets its table (n/a where it failed).
    if (self.direct.ran || self.router.ran)
        s_report (&self);
    if (rc) {
        fprintf (stderr, "bench-router: %s\n", why);
        return 1;
    }
    return 0;
}
