//  bench-broker - the broker's throughput and latency against raw ZeroMQ
//
//  Usage: bench-broker --dynod PATH [--scale X]
//
//  Starts `PATH broker` as a child on a free port with a fresh data
//  directory under $TMPDIR or /tmp (fsync on: it must be a real disk),
//  registers two clients and measures, in one run:
//      (a) ceiling    raw libzmq PUSH -> PULL over tcp://127.0.0.1, frames
//                     exactly as long as our encoded ping
//      (b) routed     non-durable pings to the receiver's address through
//                     the broker; N / (first send -> last receive)
//      (c) durable    the same journaled and fsync'd in groups: the sender
//                     counts acks, the receiver says `delivered`
//      (d) latency    sequential ping -> pong round trips through the broker,
//                     non-durable and durable (done on ack and pong), beside
//                     raw ZeroMQ round trips between the same two threads
//  Throughput figures are the median of BCH_TRIALS (5) runs after a
//  warm-up; beside them, the CPU time per message of the broker's and our
//  threads (from /proc), and how much CPU other processes took meanwhile.
//  Prints a table beside the targets and ends with one RESULT line; what it
//  all means is in docs/performance.md. --scale multiplies every message
//  count (0.1 for a quick look).
//
//  Owns the broker child, the temporary directory (removed at the end; the
//  child gets SIGTERM if we die first) and the two clients.
//  Exit codes: 0 ran (targets are reported, not enforced), 1 a phase failed
//  (broker did not start, messages lost), 2 usage error.

#include "bench.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/vfs.h>
#include <time.h>
#include <unistd.h>

#define BCH_TRIALS        5
#define BCH_READY_MS      10000     // the broker must print its ready line by then
#define BCH_STOP_MS       5000      // SIGTERM, then SIGKILL after this long
#define BCH_CONNECT_MS    5000      // hello timeout for the two clients
#define BCH_FSYNC_PROBES  200
#define BCH_CODEC_LOOPS   50000
#define BCH_QUIESCE_MS    15000     // longest wait for LevelDB to go idle

//  Targets from the issue.
#define BCH_TARGET_ROUTED_RATIO   0.5
#define BCH_TARGET_DURABLE_RATE   200000.0
#define BCH_TARGET_RTT_P99_US     1000.0
#define BCH_TARGET_DURABLE_P99_US 5000.0

typedef struct {
    const char *label;
    bch_mode_t mode;
    size_t warmup, count;
    double rate [BCH_TRIALS];       // sorted after the run
    bch_cpu_t broker, bench;        // CPU microseconds per message
    double others;                  // CPUs other processes used meanwhile
} s_phase_t;

typedef struct {
    const char *dynod;
    double scale;
    char tmp [256];                 // mkdtemp'd; removed at the end
    char data [300];                // the broker's --data, inside tmp
    char endpoint [64];
    int broker_out;                 // the broker's stdout
    bch_t bench;
    s_phase_t raw, routed, durable;
    bch_lat_t raw_rtt, rtt, durable_rtt, fsync;
    double encode_ns, head_ns, full_ns;
    double others;                  // CPUs other processes used meanwhile
    double seconds;                 // how long the measurements took
} s_main_t;

int
bch_process_cpu (pid_t pid, bch_cpu_t *cpu)
{
    char path [320], comm [32];
    double total;
    snprintf (path, sizeof path, "/proc/%d/stat", (int) pid);
    int rc = bcm_proc_stat (path, comm, NULL, &total);
    snprintf (path, sizeof path, "/proc/%d/task", (int) pid);
    DIR *dir = rc ? NULL : opendir (path);
    if (!dir)
        return rc ? rc : -errno;
    memset (cpu, 0, sizeof *cpu);
    struct dirent *entry;
    while ((entry = readdir (dir))) {
        double seconds;
        snprintf (path, sizeof path, "/proc/%d/task/%s/stat", (int) pid, entry->d_name);
        if (entry->d_name [0] == '.' || atoi (entry->d_name) == (int) pid
        ||  bcm_proc_stat (path, comm, NULL, &seconds))
            continue;
        if (strncmp (comm, "ZMQbg", 5) == 0)
            cpu->io += seconds;
        else
            cpu->other += seconds;
    }
    closedir (dir);
    //  Threads that have exited count in the total only: ours are the
    //  joined sender and receiver threads.
    cpu->main = total - cpu->io - cpu->other;
    return 0;
}

static size_t
s_scaled (const s_main_t *self, size_t count)
{
    size_t n = (size_t) ((double) count * self->scale);
    return n < 1000 ? 1000 : n;
}

static int
s_parse (s_main_t *self, int argc, char **argv)
{
    static const struct option opts [] = {
        { "dynod", required_argument, NULL, 'd' },
        { "scale", required_argument, NULL, 's' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    self->scale = 1.0;
    int c;
    while ((c = getopt_long (argc, argv, "d:s:h", opts, NULL)) != -1) {
        switch (c) {
            case 'd': self->dynod = optarg; break;
            case 's': self->scale = atof (optarg); break;
            case 'h':
                printf ("usage: bench-broker --dynod PATH [--scale X]\n"
                        "Measures the broker against raw ZeroMQ; see docs/performance.md.\n");
                exit (0);
            default: return 2;
        }
    }
    if (!self->dynod || optind != argc || self->scale <= 0) {
        fprintf (stderr, "usage: bench-broker --dynod PATH [--scale X]\n");
        return 2;
    }
    return 0;
}

static int
s_broker_start (s_main_t *self)
{
    char log_path [320];
    snprintf (log_path, sizeof log_path, "%s/broker.log", self->tmp);
    char *const argv [] = {
        "dynod", "broker", "--data", self->data, "--endpoint", self->endpoint, NULL
    };
    pid_t pid = bcm_child_start (self->dynod, argv, log_path, &self->broker_out);
    if (pid < 0)
        return -1;
    self->bench.broker = pid;
    if (bcm_wait_line (self->broker_out, "broker ready", BCH_READY_MS) == 0)
        return 0;
    bcm_log_tail ("bench-broker", self->dynod, "broker", log_path);
    return -1;
}

static void
s_broker_stop (s_main_t *self)
{
    if (self->bench.broker <= 0)
        return;
    bcm_child_stop (self->bench.broker, BCH_STOP_MS);
    self->bench.broker = 0;
    close (self->broker_out);
}

static int
s_setup (s_main_t *self)
{
    if (bcm_tmp_make (self->tmp, sizeof self->tmp, "bench-broker", "dynod-bench"))
        return -1;
    snprintf (self->data, sizeof self->data, "%s/data", self->tmp);
    snprintf (self->endpoint, sizeof self->endpoint, "tcp://127.0.0.1:%d", bcm_free_port ());
    act_rng_t rng;
    act_rng_init (&rng, act_seed_from_os ());
    char token [33];
    act_rng_id (&rng, token);
    setenv ("DYNOD_API_TOKEN", token, 1);
    if (s_broker_start (self))
        return -1;
    int rc;
    bch_t *b = &self->bench;
    b->tx = act_client_new (self->endpoint, token, "bench-tx", BCH_CONNECT_MS, &rc);
    b->rx = b->tx ? act_client_new (self->endpoint, token, "bench-rx", BCH_CONNECT_MS, &rc) : NULL;
    if (!b->rx) {
        fprintf (stderr, "bench-broker: cannot register with the broker: %s\n", act_strerror (rc));
        return -1;
    }
    char why [256] = "cannot encode the ping";
    if (bch_make_frames (&self->bench) || bch_raw_open (b, why, sizeof why)) {
        fprintf (stderr, "bench-broker: cannot set up: %s\n", why);
        return -1;
    }
    return 0;
}

static void
s_teardown (s_main_t *self)
{
    bch_raw_close (&self->bench);
    act_client_destroy (&self->bench.tx);
    act_client_destroy (&self->bench.rx);
    s_broker_stop (self);
    free (self->bench.plain);
    free (self->bench.durable);
    bcm_tmp_remove (self->tmp);
}

//  write + fdatasync of one small record, as a LevelDB sync write does.
static void
s_fsync_probe (s_main_t *self)
{
    char path [320], record [200];
    snprintf (path, sizeof path, "%s/fsync-probe", self->tmp);
    memset (record, 'x', sizeof record);
    int fd = open (path, O_WRONLY | O_CREAT | O_APPEND, 0600);
    int64_t samples [BCH_FSYNC_PROBES];
    int n = 0;
    while (fd >= 0 && n < BCH_FSYNC_PROBES) {
        int64_t t0 = bch_now_ns ();
        if (write (fd, record, sizeof record) < 0 || fdatasync (fd) < 0)
            break;
        samples [n++] = bch_now_ns () - t0;
    }
    if (fd >= 0)
        close (fd);
    unlink (path);
    if (n == 0)
        return;                 // reported as zeros
    for (int i = 1; i < n; i++)     // insertion sort, a few hundred items
        for (int j = i; j > 0 && samples [j] < samples [j - 1]; j--) {
            int64_t t = samples [j];
            samples [j] = samples [j - 1];
            samples [j - 1] = t;
        }
    self->fsync.p50 = (double) samples [(n * 50 + 99) / 100 - 1] / 1e3;
    self->fsync.p99 = (double) samples [(n * 99 + 99) / 100 - 1] / 1e3;
    self->fsync.max = (double) samples [n - 1] / 1e3;
    self->fsync.count = (size_t) n;
}

//  What our codec costs per message on this machine, for the reading.
static void
s_codec_costs (s_main_t *self)
{
    bch_t *b = &self->bench;
    msg_t *msg = msg_decode (b->plain, b->frame_len, MSG_DECODE_FULL, NULL);
    int64_t t0 = bch_now_ns ();
    for (int i = 0; i < BCH_CODEC_LOOPS; i++) {
        char *data;
        size_t len;
        if (msg_encode (msg, &data, &len, NULL) == 0)
            free (data);
    }
    int64_t t1 = bch_now_ns ();
    for (int i = 0; i < BCH_CODEC_LOOPS; i++) {
        msg_t *m = msg_decode (b->plain, b->frame_len, MSG_DECODE_HEAD, NULL);
        msg_destroy (&m);
    }
    int64_t t2 = bch_now_ns ();
    for (int i = 0; i < BCH_CODEC_LOOPS; i++) {
        msg_t *m = msg_decode (b->plain, b->frame_len, MSG_DECODE_FULL, NULL);
        msg_destroy (&m);
    }
    int64_t t3 = bch_now_ns ();
    msg_destroy (&msg);
    self->encode_ns = (double) (t1 - t0) / BCH_CODEC_LOOPS;
    self->head_ns = (double) (t2 - t1) / BCH_CODEC_LOOPS;
    self->full_ns = (double) (t3 - t2) / BCH_CODEC_LOOPS;
}

static void
s_cpu_per_msg (bch_cpu_t *out, const bch_cpu_t *before, const bch_cpu_t *after, size_t msgs)
{
    double scale = 1e6 / (double) msgs;
    out->main = (after->main - before->main) * scale;
    out->io = (after->io - before->io) * scale;
    out->other = (after->other - before->other) * scale;
}

//  CPU seconds used by the broker and by this process.
static double
s_own_busy (s_main_t *self)
{
    bch_cpu_t broker = { 0, 0, 0 }, bench = { 0, 0, 0 };
    bch_process_cpu (self->bench.broker, &broker);
    bch_process_cpu (getpid (), &bench);
    return broker.main + broker.io + broker.other + bench.main + bench.io + bench.other;
}

//  How much CPU other processes take while a measurement runs.
typedef struct {
    double busy, own;
    int64_t t0;
} s_meter_t;

static void
s_meter_start (s_main_t *self, s_meter_t *meter)
{
    meter->busy = bcm_machine_busy ();
    meter->own = s_own_busy (self);
    meter->t0 = bch_now_ns ();
}

//  CPUs other processes used on average since s_meter_start.
static double
s_meter_others (s_main_t *self, const s_meter_t *meter)
{
    double seconds = (double) (bch_now_ns () - meter->t0) / 1e9;
    double others = (bcm_machine_busy () - meter->busy) - (s_own_busy (self) - meter->own);
    return others > 0 && seconds > 0 ? others / seconds : 0;
}

static int
s_phase_run (s_main_t *self, s_phase_t *ph)
{
    char why [256];
    double warm;
    printf ("  %-9s warm-up %zu, %d x %zu messages ...\n", ph->label, ph->warmup, BCH_TRIALS, ph->count);
    fflush (stdout);
    if (bch_throughput (&self->bench, ph->mode, ph->warmup, &warm, why, sizeof why))
        goto fail;
    bch_cpu_t broker [2], bench [2];
    s_meter_t meter;
    s_meter_start (self, &meter);
    bch_process_cpu (self->bench.broker, &broker [0]);
    bch_process_cpu (getpid (), &bench [0]);
    for (int t = 0; t < BCH_TRIALS; t++)
        if (bch_throughput (&self->bench, ph->mode, ph->count, &ph->rate [t], why, sizeof why))
            goto fail;
    ph->others = s_meter_others (self, &meter);
    bch_process_cpu (self->bench.broker, &broker [1]);
    bch_process_cpu (getpid (), &bench [1]);
    s_cpu_per_msg (&ph->broker, &broker [0], &broker [1], BCH_TRIALS * ph->count);
    s_cpu_per_msg (&ph->bench, &bench [0], &bench [1], BCH_TRIALS * ph->count);
    bcm_sort (ph->rate, BCH_TRIALS);
    return 0;
fail:
    fprintf (stderr, "bench-broker: %s failed: %s\n", ph->label, why);
    return -1;
}

static int
s_latency_run (s_main_t *self, const char *label, bch_mode_t mode, size_t count, bch_lat_t *lat)
{
    char why [256];
    size_t warmup = count / 10;
    printf ("  %-9s warm-up %zu, %zu round trips ...\n", label, warmup, count);
    fflush (stdout);
    s_meter_t meter;
    s_meter_start (self, &meter);
    if (bch_round_trips (&self->bench, mode, warmup, count, lat, why, sizeof why) == 0) {
        lat->others = s_meter_others (self, &meter);
        return 0;
    }
    fprintf (stderr, "bench-broker: %s failed: %s\n", label, why);
    return -1;
}

static int s_measure_all (s_main_t *self);

//  Runs every measurement and notes how much CPU other processes took
//  meanwhile: on a shared machine they depress every figure.
static int
s_measure (s_main_t *self)
{
    s_meter_t meter;
    s_meter_start (self, &meter);
    int rc = s_measure_all (self);
    self->seconds = (double) (bch_now_ns () - meter.t0) / 1e9;
    self->others = s_meter_others (self, &meter);
    return rc;
}

//  Waits until the broker's LevelDB threads stop working (compaction after
//  the durable runs) so they do not compete with the next measurement.
static void
s_quiesce (s_main_t *self)
{
    bch_cpu_t was, now;
    bch_process_cpu (self->bench.broker, &was);
    int64_t t0 = act_mono_ms ();
    while (act_mono_ms () - t0 < BCH_QUIESCE_MS) {
        struct timespec ts = { 0, 200 * 1000 * 1000 };
        nanosleep (&ts, NULL);
        bch_process_cpu (self->bench.broker, &now);
        if (now.other - was.other < 0.005)
            break;
        was = now;
    }
    bch_settle (&self->bench);
}

//  Non-durable latency runs before the durable runs, so LevelDB is idle.
static int
s_measure_all (s_main_t *self)
{
    s_fsync_probe (self);
    s_codec_costs (self);
    self->raw = (s_phase_t) { .label = "ceiling", .mode = BCH_RAW,
                              .warmup = s_scaled (self, 100000), .count = s_scaled (self, 1000000) };
    self->routed = (s_phase_t) { .label = "routed", .mode = BCH_ROUTED,
                                 .warmup = s_scaled (self, 50000), .count = s_scaled (self, 400000) };
    self->durable = (s_phase_t) { .label = "durable", .mode = BCH_DURABLE,
                                  .warmup = s_scaled (self, 20000), .count = s_scaled (self, 200000) };
    if (s_phase_run (self, &self->raw) || s_phase_run (self, &self->routed)
    ||  s_latency_run (self, "raw rtt", BCH_RAW, s_scaled (self, 20000), &self->raw_rtt)
    ||  s_latency_run (self, "rtt", BCH_ROUTED, s_scaled (self, 20000), &self->rtt)
    ||  s_phase_run (self, &self->durable))
        return -1;
    s_quiesce (self);
    return s_latency_run (self, "dur. rtt", BCH_DURABLE, s_scaled (self, 3000), &self->durable_rtt);
}

static const char *
s_fs_name (const char *path)
{
    struct statfs st;
    if (statfs (path, &st))
        return "unknown";
    switch ((unsigned long) st.f_type) {
        case 0xEF53:     return "ext4";
        case 0x58465342: return "xfs";
        case 0x9123683E: return "btrfs";
        case 0x794C7630: return "overlayfs";
        case 0x01021994: return "tmpfs (not a disk: durable figures are optimistic)";
        default:         return "other";
    }
}

static void
s_cpu_model (char *out, size_t len)
{
    snprintf (out, len, "unknown CPU");
    FILE *file = fopen ("/proc/cpuinfo", "r");
    char line [256];
    while (file && fgets (line, sizeof line, file)) {
        char *colon = strchr (line, ':');
        if (strncmp (line, "model name", 10) == 0 && colon) {
            snprintf (out, len, "%s", colon + 2);
            out [strcspn (out, "\n")] = 0;
            break;
        }
    }
    if (file)
        fclose (file);
}

static void
s_header (s_main_t *self)
{
    char cpu [128];
    s_cpu_model (cpu, sizeof cpu);
    printf ("dynod broker benchmark\n");
    printf ("  machine   %ld CPUs, %s\n", sysconf (_SC_NPROCESSORS_ONLN), cpu);
    printf ("  broker    pid %d on %s, data %s (%s), fsync on\n", (int) self->bench.broker,
            self->endpoint, self->data, s_fs_name (self->tmp));
    printf ("  frames    %zu-byte encoded ping (empty body); throughput is the median of %d runs,"
            " window %d\n\n", self->bench.frame_len, BCH_TRIALS, BCH_WINDOW);
    fflush (stdout);
}

//  1234567.8 -> "1,234,568"
static const char *
s_thousands (char *buf, size_t len, double value)
{
    char digits [32];
    snprintf (digits, sizeof digits, "%.0f", value);
    size_t n = strlen (digits), o = 0;
    for (size_t i = 0; i < n && o + 2 < len; i++) {
        if (i > 0 && (n - i) % 3 == 0)
            buf [o++] = ',';
        buf [o++] = digits [i];
    }
    buf [o] = 0;
    return buf;
}

static void
s_row (const char *figure, const char *ours, const char *ceiling, double ratio,
       const char *target, int met)
{
    char r [16] = "-";
    if (ratio > 0)
        snprintf (r, sizeof r, "%.3f", ratio);
    printf ("%-34s %12s %14s %7s   %-20s %s\n", figure, ours, ceiling, r, target,
            met < 0 ? "-" : met ? "yes" : "NO");
}

static void
s_rate_rows (s_main_t *self)
{
    char a [32], b [32], c [32];
    double raw = self->raw.rate [BCH_TRIALS / 2];
    double routed = self->routed.rate [BCH_TRIALS / 2];
    double durable = self->durable.rate [BCH_TRIALS / 2];
    s_thousands (a, sizeof a, raw);
    s_row ("(a) raw zmq PUSH->PULL, msg/s", a, a, 1.0, "(the ceiling)", -1);
    s_row ("(b) routed non-durable, msg/s", s_thousands (b, sizeof b, routed), a, routed / raw,
           ">= 0.5 x ceiling", routed >= BCH_TARGET_ROUTED_RATIO * raw);
    s_row ("(c) durable (fsync'd), msg/s", s_thousands (c, sizeof c, durable), a, durable / raw,
           ">= 200,000 msg/s", durable >= BCH_TARGET_DURABLE_RATE);
}

static void
s_latency_rows (s_main_t *self)
{
    char a [32], b [32];
    const bch_lat_t *raw = &self->raw_rtt, *rtt = &self->rtt, *dur = &self->durable_rtt;
    snprintf (a, sizeof a, "%.1f", rtt->p50);
    snprintf (b, sizeof b, "%.1f", raw->p50);
    s_row ("(d) round trip p50, us", a, b, rtt->p50 / raw->p50, "-", -1);
    snprintf (a, sizeof a, "%.1f", rtt->p99);
    snprintf (b, sizeof b, "%.1f", raw->p99);
    s_row ("    round trip p99, us", a, b, rtt->p99 / raw->p99, "<= 1,000 us",
           rtt->p99 <= BCH_TARGET_RTT_P99_US);
    snprintf (a, sizeof a, "%.1f", dur->p50);
    snprintf (b, sizeof b, "%.1f", raw->p50 + self->fsync.p50);
    s_row ("    durable round trip p50, us", a, b, dur->p50 / (raw->p50 + self->fsync.p50), "-", -1);
    snprintf (a, sizeof a, "%.1f", dur->p99);
    snprintf (b, sizeof b, "%.1f", raw->p99 + self->fsync.p99);
    s_row ("    durable round trip p99, us", a, b, dur->p99 / (raw->p99 + self->fsync.p99),
           "<= 5,000 us", dur->p99 <= BCH_TARGET_DURABLE_P99_US);
}

static void
s_detail_phase (const s_phase_t *ph)
{
    char lo [32], mid [32], hi [32];
    const bch_cpu_t *k = &ph->broker, *p = &ph->bench;
    printf ("  %-8s %11s %11s %11s   ", ph->label, s_thousands (lo, sizeof lo, ph->rate [0]),
            s_thousands (mid, sizeof mid, ph->rate [BCH_TRIALS / 2]),
            s_thousands (hi, sizeof hi, ph->rate [BCH_TRIALS - 1]));
    if (ph->mode == BCH_RAW)
        printf ("%5s %5s %5s", "-", "-", "-");
    else
        printf ("%5.2f %5.2f %5.2f", k->main, k->io, k->other);
    printf ("   %5.2f %5.2f   %5.2f   ", p->main + p->other, p->io,
            k->main + k->io + k->other + p->main + p->other + p->io);
    if (ph->mode == BCH_RAW)
        printf ("%5s", "-");
    else
        printf ("%4.0f%%", 100.0 * k->main * ph->rate [BCH_TRIALS / 2] / 1e6);
    printf ("   %5.2f\n", ph->others);
}

static void
s_report (s_main_t *self)
{
    printf ("\nmeasured in %.0f s; other processes used %.2f CPUs on average meanwhile%s\n",
            self->seconds, self->others,
            self->others > 0.1 ? " (the machine was shared: figures are depressed)" : "");
    printf ("\n%-34s %12s %14s %7s   %-20s %s\n", "figure", "measured", "ceiling", "ratio",
            "target", "met");
    s_rate_rows (self);
    s_latency_rows (self);
    printf ("\nceiling: (a) for throughput; raw ZeroMQ round trips between the same two threads"
            " for latency,\nplus one fdatasync (p50 %.1f us, p99 %.1f us here) for durable ones.\n",
            self->fsync.p50, self->fsync.p99);
    printf ("\nthroughput runs, msg/s, and CPU microseconds per message:\n");
    printf ("  %-8s %11s %11s %11s   %-17s   %-11s   %-5s  %-5s   %s\n", "", "min", "median",
            "max", "broker main io bg", "bench app io", "total", "main%", "others");
    s_detail_phase (&self->raw);
    s_detail_phase (&self->routed);
    s_detail_phase (&self->durable);
    printf ("\nround trips: raw, routed, durable: %zu, %zu, %zu trips; max %.0f, %.0f, %.0f us;\n"
            "  other processes used %.2f, %.2f, %.2f CPUs meanwhile\n",
            self->raw_rtt.count, self->rtt.count, self->durable_rtt.count, self->raw_rtt.max,
            self->rtt.max, self->durable_rtt.max, self->raw_rtt.others, self->rtt.others,
            self->durable_rtt.others);
    printf ("codec per message: msg_encode %.2f us, msg_decode head %.2f us, full %.2f us\n\n",
            self->encode_ns / 1e3, self->head_ns / 1e3, self->full_ns / 1e3);
    double raw = self->raw.rate [BCH_TRIALS / 2], routed = self->routed.rate [BCH_TRIALS / 2];
    printf ("RESULT ceiling_msgs_per_s=%.0f routed_msgs_per_s=%.0f routed_ratio=%.3f "
            "durable_msgs_per_s=%.0f rtt_p50_us=%.1f rtt_p99_us=%.1f durable_rtt_p99_us=%.1f\n",
            raw, routed, routed / raw, self->durable.rate [BCH_TRIALS / 2], self->rtt.p50,
            self->rtt.p99, self->durable_rtt.p99);
}

int
main (int argc, char **argv)
{
    act_log_init ("bench-broker");
    s_main_t self_storage;
    s_main_t *self = &self_storage;
    memset (self, 0, sizeof *self);
    self->broker_out = -1;
    int rc = s_parse (self, argc, argv);
    if (rc)
        return rc;
    signal (SIGPIPE, SIG_IGN);
    rc = s_setup (self);
    if (rc == 0) {
        s_header (self);
        rc = s_measure (self);
    }
    s_teardown (self);
    if (rc == 0)
        s_report (self);
    return rc ? 1 : 0;
}
