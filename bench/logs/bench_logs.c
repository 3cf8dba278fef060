//  bench-logs - log-plex's ingest and fan-out, beside rsyslog and Node `ws`
//
//  Usage: bench-logs --dynod PATH [--peer-js PATH] [--rsyslogd PATH]
//                    [--rsyslog-modules DIR] [--node-modules DIR]
//                    [--lines N] [--seconds S] [--quick] [--keep]
//
//  Starts `dynod up` as a child on free ports with a fresh data directory
//  under $TMPDIR or /tmp, and measures in one run:
//      (a) ingest    N lines (default 1,000,000) from 4 producer threads
//                    into one app: log.batch of 200 lines through the
//                    broker into log-plex (lines stored per second), and
//                    the same lines as RFC 5424 octet-counted TCP frames
//                    into a private rsyslogd (imptcp -> omfile; lines
//                    written per second)
//      (b) fan-out   100 websocket tails of one app fed 10,000 lines/s
//                    for S seconds (default 60) after a 2 s warm-up:
//                    emit -> receive latency p50/p99 and lines lost, and
//                    the same clients and generator against a Node `ws`
//                    broadcast server (ws_peer.js) sending per line
//                    (naive) and once per socket per tick (batch), 10 s
//                    each
//      (c) memory    log-plex's VmRSS per open tail, and its growth over
//                    the S-second stream of (b)
//  --quick: 200,000 lines, S = 10, the Node runs 5 s each.
//  Prints a table beside the targets and ends with one RESULT line; what it
//  means is in docs/performance.md ("Logs").
//
//  The peers: rsyslogd from --rsyslogd, else PATH, else /usr/sbin (with
//  --rsyslog-modules for an unpacked package, whose libraries sit in the
//  modules' parent); never the system's instance or configuration. The
//  `ws` package from --node-modules DIR (holding node_modules/ws), else
//  `npm install ws` into the temporary directory. A missing tool is exit
//  2 with the line that installs it.
//
//  Owns the dynod up child, the rsyslogd and node children (SIGTERM at the
//  end; they get SIGTERM too if we die first) and the temporary directory
//  (removed at the end unless --keep). Exit codes: 0 ran (targets are
//  reported, not enforced), 1 a phase failed, 2 usage error or a missing
//  tool.

#include "bench.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define BLG_READY_MS        40000   // dynod up must print its ready line by then
#define BLG_STOP_MS         15000   // SIGTERM, then SIGKILL after this long
#define BLG_NODE_UP_MS      10000   // ws_peer.js must print its ports by then

//  Targets from the issue.
#define BLG_TARGET_P99_MS   2.0

typedef struct {
    blg_t bench;
    const char *peer_js;
    const char *rsyslogd;
    const char *rsyslog_modules;
    const char *node_modules;
    char rsyslogd_found [300];
    char npm_dir [300];
    char ws_version [32];
    size_t lines;
    double seconds;                 // the tails' measured window on log-plex
    double node_seconds;            // on each Node run
    bool keep;
    bcm_up_t up;                    // dynod up: pid, stdout, stderr's path
    blg_ingest_t ours, rsyslog;
    blg_tails_t tails, naive, batch;
    long rss_idle_kb;               // log-plex before the tails
} s_main_t;

size_t
blg_line_text (char *buf, size_t cap, int producer, uint64_t seq)
{
    //  About 100 bytes, like a router or web access line.
    int n = snprintf (buf, cap, "producer=%d line=%llu method=GET path=/assets/app.js "
                      "status=200 bytes=5120 service=12ms", producer, (unsigned long long) seq);
    return n < 0 ? 0 : (size_t) n < cap ? (size_t) n : cap - 1;
}

int
blg_connect (int port)
{
    int fd = socket (AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in addr = { .sin_family = AF_INET, .sin_port = htons ((uint16_t) port),
                                .sin_addr.s_addr = htonl (INADDR_LOOPBACK) };
    if (fd >= 0 && connect (fd, (struct sockaddr *) &addr, sizeof addr) == 0) {
        int on = 1;
        setsockopt (fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
        return fd;
    }
    if (fd >= 0)
        close (fd);
    return -1;
}

act_client_t *
blg_client (blg_t *self, const char *name, char *why, size_t why_len)
{
    int rc;
    act_client_t *client = act_client_new (self->endpoint, self->token, name, BLG_CONNECT_MS, &rc);
    if (!client)
        snprintf (why, why_len, "cannot register with the broker: %s", act_strerror (rc));
    return client;
}

int64_t
blg_lines_in (blg_t *self, act_client_t *client, int timeout_ms)
{
    (void) self;
    msg_t *req = act_client_msg_new (client, MSG_TYPE_STATUS, "log-plex");
    msg_t *reply = NULL;
    int rc = act_client_call (client, &req, timeout_ms, &reply);
    int64_t n = -1;
    json_t *detail = rc == 0 ? json_object_get (reply->body, "detail") : NULL;
    if (json_is_integer (json_object_get (detail, "lines_in")))
        n = json_integer_value (json_object_get (detail, "lines_in"));
    msg_destroy (&reply);
    return n;
}

// ---------------------------------------------------------------------------
//  The peers' tools

static bool
s_executable (const char *path)
{
    return access (path, X_OK) == 0;
}

//  `name` in PATH, then in each of `extra` (NULL-ended); into `out`.
static bool
s_which (const char *name, const char *const *extra, char *out, size_t out_len)
{
    const char *env = getenv ("PATH");
    char *path = act_strdup (env ? env : "/usr/bin:/bin");
    bool found = false;
    for (char *save = NULL, *dir = strtok_r (path, ":", &save); dir && !found;
         dir = strtok_r (NULL, ":", &save)) {
        snprintf (out, out_len, "%s/%s", dir, name);
        found = s_executable (out);
    }
    free (path);
    for (; !found && extra && *extra; extra++) {
        snprintf (out, out_len, "%s/%s", *extra, name);
        found = s_executable (out);
    }
    return found;
}

static int
s_tools (s_main_t *self)
{
    static const char *const sbin [] = { "/usr/sbin", "/sbin", NULL };
    if (self->rsyslogd && !s_executable (self->rsyslogd)) {
        fprintf (stderr, "bench-logs: --rsyslogd '%s' is not an executable\n", self->rsyslogd);
        return 2;
    }
    if (!self->rsyslogd) {
        if (!s_which ("rsyslogd", sbin, self->rsyslogd_found, sizeof self->rsyslogd_found)) {
            fprintf (stderr,
                     "bench-logs: rsyslogd not found (the ingest peer). Install it with\n"
                     "    apt-get install -y --no-install-recommends rsyslog\n"
                     "(Debian starts it as the system logger: `service rsyslog stop` if you do not\n"
                     "want that; the benchmark runs its own private instance), or unpack it without\n"
                     "installing and point the benchmark at it:\n"
                     "    cd DIR && apt-get download rsyslog libestr0 libfastjson4 liblognorm5 &&\n"
                     "    for f in *.deb; do dpkg-deb -x $f root; done\n"
                     "    bench-logs ... --rsyslogd DIR/root/usr/sbin/rsyslogd \\\n"
                     "        --rsyslog-modules DIR/root/usr/lib/x86_64-linux-gnu/rsyslog\n");
            return 2;
        }
        self->rsyslogd = self->rsyslogd_found;
    }
    char node [300];
    if (!s_which ("node", NULL, node, sizeof node)
    ||  (!self->node_modules && !s_which ("npm", NULL, node, sizeof node))) {
        fprintf (stderr, "bench-logs: node and npm not found (the fan-out peer). Install them with\n"
                         "    apt-get install -y nodejs npm\n");
        return 2;
    }
    if (!s_executable ("/bin/sh") || access (self->peer_js, R_OK)) {
        fprintf (stderr, "bench-logs: cannot read the Node peer '%s' (--peer-js)\n", self->peer_js);
        return 2;
    }
    return 0;
}

//  The `ws` package: --node-modules, else `npm install ws` into tmp.
//  Fills npm_dir and ws_version. Returns 0 or -1.
static int
s_node_ws (s_main_t *self)
{
    if (self->node_modules)
        snprintf (self->npm_dir, sizeof self->npm_dir, "%s", self->node_modules);
    else {
        snprintf (self->npm_dir, sizeof self->npm_dir, "%s/npm", self->bench.tmp);
        char command [800];
        snprintf (command, sizeof command,
                  "npm install --prefix '%s' --no-audit --no-fund --loglevel=error ws >'%s/npm.log' 2>&1",
                  self->npm_dir, self->bench.tmp);
        if (system (command) != 0) {
            fprintf (stderr, "bench-logs: `npm install ws` failed; see %s/npm.log (or pass "
                     "--node-modules DIR)\n", self->bench.tmp);
            return -1;
        }
    }
    char path [400];
    snprintf (path, sizeof path, "%s/node_modules/ws/package.json", self->npm_dir);
    json_t *package = json_load_file (path, 0, NULL);
    const char *version = json_string_value (json_object_get (package, "version"));
    snprintf (self->ws_version, sizeof self->ws_version, "%s", version ? version : "?");
    json_decref (package);
    if (!version) {
        fprintf (stderr, "bench-logs: no ws package in %s/node_modules\n", self->npm_dir);
        return -1;
    }
    return 0;
}

//  Starts `node ws_peer.js MODE`; fills its websocket and input ports.
static pid_t
s_node_start (s_main_t *self, const char *mode, int *ws_port, int *in_port)
{
    int out [2];
    if (pipe (out))
        return -1;
    char node_path [400];
    snprintf (node_path, sizeof node_path, "%s/node_modules", self->npm_dir);
    pid_t pid = fork ();
    if (pid == 0) {
        prctl (PR_SET_PDEATHSIG, SIGTERM);
        dup2 (out [1], STDOUT_FILENO);
        close (out [0]);
        close (out [1]);
        setenv ("NODE_PATH", node_path, 1);
        execlp ("node", "node", self->peer_js, mode, (char *) NULL);
        fprintf (stderr, "cannot run node: %s\n", strerror (errno));
        _exit (127);
    }
    close (out [1]);
    if (pid < 0) {
        close (out [0]);
        return -1;
    }
    char buf [256];
    size_t len = 0;
    double deadline = bcm_now () + BLG_NODE_UP_MS / 1000.0;
    while (bcm_now () < deadline && len < sizeof buf - 1) {
        struct pollfd pfd = { out [0], POLLIN, 0 };
        if (poll (&pfd, 1, 100) <= 0)
            continue;
        ssize_t n = read (out [0], buf + len, sizeof buf - 1 - len);
        if (n <= 0)
            break;
        len += (size_t) n;
        buf [len] = 0;
        if (strchr (buf, '\n') && sscanf (buf, "ready %d %d", ws_port, in_port) == 2) {
            close (out [0]);
            return pid;
        }
    }
    close (out [0]);
    fprintf (stderr, "bench-logs: the Node peer did not start\n");
    bcm_child_stop (pid, BLG_STOP_MS);
    return -1;
}

// ---------------------------------------------------------------------------
//  Phases (b) and (c)

static int
s_tails_ours (s_main_t *self, char *why, size_t why_len)
{
    blg_t *b = &self->bench;
    act_client_t *client = blg_client (b, "bench-generator", why, why_len);
    if (!client)
        return -1;
    //  A first line: log-plex knows the app (the tails' token check), and
    //  it is stored before the tails open.
    int64_t base = blg_lines_in (b, client, BLG_CALL_MS);
    msg_t *batch = act_client_msg_new (client, MSG_TYPE_LOG_BATCH, "log-plex");
    msg_set_str (batch, "app", BLG_APP_TAIL);
    msg_logbatch_t first = { 0 };
    const char *text = "bench-logs: tails start";
    msg_logbatch_add (&first, act_wall_us (), "app", "web.1", text, strlen (text));
    msg_set_json (batch, "lines", msg_logbatch_take (&first));
    msg_logbatch_release (&first);
    act_client_send (client, &batch);
    double deadline = bcm_now () + 5;
    while (blg_lines_in (b, client, BLG_CALL_MS) <= base && bcm_now () < deadline)
        bcm_sleep_ms (10);
    self->rss_idle_kb = bcm_rss_kb (b->log_plex);
    blg_tails_t *t = &self->tails;
    t->port = b->logs_port;
    snprintf (t->path, sizeof t->path, "/apps/%s/logs?token=%s&n=1&tail=1", BLG_APP_TAIL, b->token);
    t->warmup_s = 2;
    t->measure_s = self->seconds;
    blg_sink_t sink = { .client = client, .fd = -1 };
    int rc = blg_tails_run (b, &sink, b->log_plex, t, why, why_len);
    act_client_destroy (&client);
    return rc;
}

static int
s_tails_node (s_main_t *self, const char *mode, blg_tails_t *t, char *why, size_t why_len)
{
    int ws_port = 0, in_port = 0;
    pid_t pid = s_node_start (self, mode, &ws_port, &in_port);
    if (pid < 0) {
        snprintf (why, why_len, "the Node peer (%s) did not start", mode);
        return -1;
    }
    int fd = blg_connect (in_port);
    int rc = -1;
    if (fd < 0)
        snprintf (why, why_len, "cannot connect to the Node peer's input: %s", strerror (errno));
    else {
        t->port = ws_port;
        snprintf (t->path, sizeof t->path, "/");
        t->warmup_s = 2;
        t->measure_s = self->node_seconds;
        blg_sink_t sink = { .client = NULL, .fd = fd };
        rc = blg_tails_run (&self->bench, &sink, pid, t, why, why_len);
        close (fd);
    }
    bcm_child_stop (pid, BLG_STOP_MS);
    return rc;
}

// ---------------------------------------------------------------------------
//  Setup and teardown

static const char s_usage [] =
    "usage: bench-logs --dynod PATH [--peer-js PATH] [--rsyslogd PATH] [--rsyslog-modules DIR]\n"
    "                  [--node-modules DIR] [--lines N] [--seconds S] [--quick] [--keep]\n";

static int
s_parse (s_main_t *self, int argc, char **argv)
{
    static const struct option opts [] = {
        { "dynod", required_argument, NULL, 'd' },
        { "peer-js", required_argument, NULL, 'j' },
        { "rsyslogd", required_argument, NULL, 'r' },
        { "rsyslog-modules", required_argument, NULL, 'M' },
        { "node-modules", required_argument, NULL, 'n' },
        { "lines", required_argument, NULL, 'l' },
        { "seconds", required_argument, NULL, 's' },
        { "quick", no_argument, NULL, 'q' },
        { "keep", no_argument, NULL, 'K' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    self->peer_js = "bench/logs/ws_peer.js";
    self->lines = 1000000;
    self->seconds = 60;
    self->node_seconds = 10;
    bool lines_set = false, seconds_set = false;
    int c;
    while ((c = getopt_long (argc, argv, "d:j:r:M:n:l:s:qKh", opts, NULL)) != -1) {
        switch (c) {
            case 'd': self->bench.dynod = optarg; break;
            case 'j': self->peer_js = optarg; break;
            case 'r': self->rsyslogd = optarg; break;
            case 'M': self->rsyslog_modules = optarg; break;
            case 'n': self->node_modules = optarg; break;
            case 'l': self->lines = (size_t) atol (optarg); lines_set = true; break;
            case 's': self->seconds = atof (optarg); seconds_set = true; break;
            case 'q':
                if (!lines_set)
                    self->lines = 200000;
                if (!seconds_set)
                    self->seconds = 10;
                self->node_seconds = 5;
                break;
            case 'K': self->keep = true; break;
            case 'h':
                printf ("%sMeasures log-plex's ingest and websocket fan-out beside rsyslog and Node ws;\n"
                        "see docs/performance.md.\n", s_usage);
                exit (0);
            default: return 2;
        }
    }
    if (!self->bench.dynod || optind != argc || self->lines < BLG_PRODUCERS
    ||  self->seconds < 1 || self->seconds > 600) {
        fprintf (stderr, "%s", s_usage);
        return 2;
    }
    return 0;
}

static int
s_setup (s_main_t *self)
{
    blg_t *b = &self->bench;
    if (bcm_tmp_make (b->tmp, sizeof b->tmp, "bench-logs", "dynod-bench-logs"))
        return -1;
    bcm_env_setup (b->tmp, b->token);
    unsetenv ("DYNOD_LOGS_ORIGINS");
    int rc = bcm_up_start (&self->up, "bench-logs", b->dynod, b->tmp, BLG_READY_MS, "log-plex");
    b->up = self->up.pid;
    b->log_plex = self->up.actor;
    b->logs_port = self->up.logs_port;
    snprintf (b->endpoint, sizeof b->endpoint, "%s", self->up.endpoint);
    return rc;
}

static void
s_teardown (s_main_t *self)
{
    bcm_up_stop (&self->up, BLG_STOP_MS);
    self->bench.up = 0;
    bcm_tmp_done (self->bench.tmp, self->keep, "bench-logs");
}

// ---------------------------------------------------------------------------
//  Report

static void
s_row (const char *figure, const char *ours, const char *peer, const char *ratio,
       const char *target, int met)
{
    printf ("%-34s %12s %14s %8s   %-16s %s\n", figure, ours, peer, ratio, target,
            met < 0 ? "" : met ? "met" : "MISSED");
}

//  VmRSS growth from the first trace sample to the window's end; -1 when
//  the window was too short for one.
static long
s_settled_growth (const blg_tails_t *t)
{
    return t->rss_traced > 0 && t->rss_end_kb >= 0 ? t->rss_end_kb - t->rss_trace_kb [0] : -1;
}

static void
s_tails_line (const char *name, const blg_tails_t *t)
{
    printf ("            %-14s %d tails, %.0f s: %.0f lines/s per tail received, p50 %.3f ms, "
            "p99 %.3f ms, max %.1f ms,\n"
            "                           lost %llu of %llu; server CPU %.2f cores; VmRSS %ld -> %ld kB\n",
            name, t->connected, t->measure_s, t->per_tail_rate, t->p50_ms, t->p99_ms, t->max_ms,
            (unsigned long long) t->lost, (unsigned long long) (t->expected * BLG_TAILS),
            t->cpu_s / t->measure_s, t->rss_start_kb, t->rss_end_kb);
    if (t->rss_traced > 0) {
        printf ("                           VmRSS every %d s:", BLG_RSS_EVERY_S);
        for (int i = 0; i < t->rss_traced; i++)
            printf (" %ld", t->rss_trace_kb [i]);
        printf (" kB\n");
    }
}

static void
s_report (s_main_t *self)
{
    const blg_ingest_t *o = &self->ours, *r = &self->rsyslog;
    const blg_tails_t *t = &self->tails, *n = &self->naive, *bt = &self->batch;
    char a [48], b [48], q [32];
    printf ("\n%-34s %12s %14s %8s   %-16s %s\n", "figure", "ours", "peer", "ratio", "target", "");
    snprintf (a, sizeof a, "%.0f", o->rate);
    snprintf (b, sizeof b, "%.0f", r->rate);
    snprintf (q, sizeof q, "%.2f", r->rate > 0 ? o->rate / r->rate : 0);
    s_row ("ingest lines/s (peer rsyslog)", a, b, q, ">= rsyslog", o->rate >= r->rate);
    snprintf (a, sizeof a, "%.0f", t->per_tail_rate);
    snprintf (b, sizeof b, "%.0f", bt->per_tail_rate);
    snprintf (q, sizeof q, "%.2f", bt->per_tail_rate > 0 ? t->per_tail_rate / bt->per_tail_rate : 0);
    s_row ("per-tail lines/s x100 (ws batch)", a, b, q, ">= 10000",
           t->per_tail_rate >= 0.999 * BLG_RATE);
    snprintf (a, sizeof a, "%.3f", t->p50_ms);
    snprintf (b, sizeof b, "%.3f", bt->p50_ms);
    snprintf (q, sizeof q, "%.2f", bt->p50_ms > 0 ? t->p50_ms / bt->p50_ms : 0);
    s_row ("tail p50 ms (ws batch)", a, b, q, "", -1);
    snprintf (a, sizeof a, "%.3f", t->p99_ms);
    snprintf (b, sizeof b, "%.3f", bt->p99_ms);
    snprintf (q, sizeof q, "%.2f", bt->p99_ms > 0 ? t->p99_ms / bt->p99_ms : 0);
    s_row ("tail p99 ms (ws batch)", a, b, q, "<= 2 ms", t->p99_ms <= BLG_TARGET_P99_MS);
    snprintf (a, sizeof a, "%.3f", t->p99_ms);
    snprintf (b, sizeof b, "%.3f", n->p99_ms);
    snprintf (q, sizeof q, "%.2f", n->p99_ms > 0 ? t->p99_ms / n->p99_ms : 0);
    s_row ("tail p99 ms (ws naive)", a, b, q, "", -1);
    snprintf (a, sizeof a, "%.0f", t->per_tail_rate);
    snprintf (b, sizeof b, "%.0f", n->per_tail_rate);
    snprintf (q, sizeof q, "%.2f", n->per_tail_rate > 0 ? t->per_tail_rate / n->per_tail_rate : 0);
    s_row ("per-tail lines/s (ws naive)", a, b, q, "", -1);
    snprintf (a, sizeof a, "%llu", (unsigned long long) t->lost);
    snprintf (b, sizeof b, "%llu/%llu", (unsigned long long) bt->lost, (unsigned long long) n->lost);
    s_row ("lines lost (ws batch/naive)", a, b, "", "0", t->lost == 0);
    snprintf (a, sizeof a, "%.1f", t->per_tail_kb);
    snprintf (b, sizeof b, "%.1f", bt->per_tail_kb);
    snprintf (q, sizeof q, "%.2f", bt->per_tail_kb > 0 ? t->per_tail_kb / bt->per_tail_kb : 0);
    s_row ("memory per idle tail kB (ws)", a, b, q, "", -1);
    long growth = t->rss_end_kb - t->rss_start_kb;
    snprintf (a, sizeof a, "%ld", growth);
    snprintf (b, sizeof b, "%ld", bt->rss_end_kb - bt->rss_start_kb);
    char figure [64];
    snprintf (figure, sizeof figure, "VmRSS growth kB over %.0f s (ws)", t->measure_s);
    s_row (figure, a, b, "", "", -1);
    //  Flat once the tails' buffers have grown to their working size (the
    //  first sample): within 1 MB, allocator noise at this rate. The trace
    //  printed with the fan-out line shows both.
    long settled = s_settled_growth (t);
    snprintf (a, sizeof a, "%ld", settled);
    snprintf (figure, sizeof figure, "VmRSS growth kB, %d s to %.0f s", BLG_RSS_EVERY_S, t->measure_s);
    s_row (figure, settled < 0 ? "-" : a, "", "", "flat (< 1 MB)", settled >= 0 && settled < 1024);
}

int
main (int argc, char **argv)
{
    s_main_t self = { .up.out = -1 };
    int rc = s_parse (&self, argc, argv);
    if (rc)
        return rc;
    rc = s_tools (&self);
    if (rc)
        return rc;
    signal (SIGPIPE, SIG_IGN);
    if (s_setup (&self) || s_node_ws (&self)) {
        s_teardown (&self);
        return 1;
    }
    char why [512] = "";
    printf ("dynod logs benchmark\n");
    printf ("  machine   %ld CPUs\n", sysconf (_SC_NPROCESSORS_ONLN));
    printf ("  system    dynod up pid %d on %s, log-plex pid %d, logs port %d, data %s/data\n",
            (int) self.bench.up, self.bench.endpoint, (int) self.bench.log_plex,
            self.bench.logs_port, self.bench.tmp);
    printf ("  peers     %s; node %s with ws %s (%s)\n", self.rsyslogd,
            "from PATH", self.ws_version, self.peer_js);
    printf ("  ingest    %zu lines, %d producers, batches of %d; ours ...\n", self.lines,
            BLG_PRODUCERS, BLG_BATCH);
    fflush (stdout);
    self.ours.lines = self.rsyslog.lines = self.lines;
    if (blg_ingest_ours (&self.bench, &self.ours, why, sizeof why)) {
        fprintf (stderr, "bench-logs: ingest (ours) failed: %s\n", why);
        s_teardown (&self);
        return 1;
    }
    const blg_ingest_t *o = &self.ours, *r = &self.rsyslog;
    printf ("            stored %llu in %.2f s (sent in %.2f s): %.0f lines/s; CPU s: log-plex %.2f "
            "(%.2f us/line), bench %.2f\n", (unsigned long long) o->stored, o->total_s, o->send_s,
            o->rate, o->cpu_s [0], o->stored ? o->cpu_s [0] * 1e6 / (double) o->stored : 0.0,
            o->cpu_s [2]);
    printf ("            rsyslog ...\n");
    fflush (stdout);
    if (blg_ingest_rsyslog (&self.bench, self.rsyslogd, self.rsyslog_modules, &self.rsyslog, why,
                            sizeof why)) {
        fprintf (stderr, "bench-logs: ingest (rsyslog) failed: %s\n", why);
        s_teardown (&self);
        return 1;
    }
    printf ("            written %llu in %.2f s (sent in %.2f s): %.0f lines/s; CPU s: rsyslogd %.2f "
            "(%.2f us/line), bench %.2f\n", (unsigned long long) r->stored, r->total_s, r->send_s,
            r->rate, r->cpu_s [0], r->stored ? r->cpu_s [0] * 1e6 / (double) r->stored : 0.0,
            r->cpu_s [2]);
    printf ("  fan-out   %d tails on %d client threads, %d lines/s into one app, 2 s warm-up;\n"
            "            log-plex %.0f s ...\n", BLG_TAILS, BLG_TAIL_THREADS, BLG_RATE, self.seconds);
    fflush (stdout);
    if (s_tails_ours (&self, why, sizeof why)) {
        fprintf (stderr, "bench-logs: fan-out (ours) failed: %s\n", why);
        s_teardown (&self);
        return 1;
    }
    s_tails_line ("log-plex", &self.tails);
    printf ("            log-plex VmRSS %ld kB before the tails; %.1f kB per open idle tail\n",
            self.rss_idle_kb, self.tails.per_tail_kb);
    printf ("            Node ws, %.0f s each ...\n", self.node_seconds);
    fflush (stdout);
    if (s_tails_node (&self, "naive", &self.naive, why, sizeof why)
    ||  s_tails_node (&self, "batch", &self.batch, why, sizeof why)) {
        fprintf (stderr, "bench-logs: fan-out (Node ws) failed: %s\n", why);
        s_teardown (&self);
        return 1;
    }
    s_tails_line ("ws naive", &self.naive);
    s_tails_line ("ws batch", &self.batch);
    s_report (&self);
    s_teardown (&self);
    const blg_tails_t *t = &self.tails;
    printf ("\nRESULT ingest_lines_per_s=%.0f rsyslog_lines_per_s=%.0f ingest_ratio=%.2f tails=%d "
            "per_tail_lines_per_s=%.0f tail_p50_ms=%.3f tail_p99_ms=%.3f lost=%llu "
            "node_ws_p99_ms=%.3f rss_growth_kb=%ld rss_settled_growth_kb=%ld\n",
            o->rate, r->rate, r->rate > 0 ? o->rate / r->rate : 0, t->connected, t->per_tail_rate,
            t->p50_ms, t->p99_ms, (unsigned long long) t->lost, self.batch.p99_ms,
            t->rss_end_kb - t->rss_start_kb, s_settled_growth (t));
    return 0;
}
