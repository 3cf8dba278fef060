//  bench_ingest - phase (a): lines stored per second, log-plex beside rsyslog
//
//  The same 4 producer threads and the same line texts (blg_line_text)
//  for both. Each producer sends its share of out->lines as fast as it
//  can; the run ends when every line is stored (log-plex's `lines_in`,
//  polled through its status) or written (newlines counted in rsyslog's
//  output file), or when nothing moved for BLG_STALL_S. The rate is the
//  lines stored over first send -> last line stored.
//
//  Ours: each producer has its own act_client and sends `log.batch`
//  messages of BLG_BATCH lines (packed records of ts, source `app`,
//  process `web.N` and text each: msg_logbatch.h, as dynod log-emit and a
//  dyno-supervisor batch them) for app BLG_APP_INGEST. The builder's
//  buffer is kept across batches, so a producer's cost is packing and
//  encoding, as rsyslog's producers only format their frames.
//
//  rsyslog: a private `rsyslogd -n -f CONF -i PIDFILE` in <tmp>/rsyslog
//  whose config loads imptcp on a free 127.0.0.1 port and writes every
//  message with omfile to one file; nothing else (no imuxsock, no
//  /etc/rsyslog.conf, no system socket). Each producer has one TCP
//  connection and writes RFC 5424 frames, octet-counted (RFC 6587):
//  `LEN <14>1 TIMESTAMP bench APP web.N - - TEXT`, 64 KB per write.

#include "bench.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define BLG_STALL_S         5.0     // no progress this long ends a run
#define BLG_RSYSLOG_UP_MS   10000   // rsyslogd must listen by then
#define BLG_WRITE_CHUNK     (64 * 1024)
#define BLG_STATUS_WAIT_MS  120000  // a status behind a backlog of batches

typedef struct {
    blg_t *bench;
    int index;
    size_t lines;                   // this producer's share
    act_client_t *client;           // ours: owned by the caller
    int fd;                         // rsyslog: owned by the caller
    double done;                    // bcm_now () when it sent its last line
    int rc;
    char why [200];
} s_producer_t;

// ---------------------------------------------------------------------------
//  Ours

static void *
s_ours_producer (void *arg)
{
    s_producer_t *p = arg;
    char text [256], process [16];
    snprintf (process, sizeof process, "web.%d", p->index + 1);
    msg_logbatch_t lines = { 0 };
    for (size_t sent = 0; sent < p->lines && p->rc == 0; ) {
        msg_t *batch = act_client_msg_new (p->client, MSG_TYPE_LOG_BATCH, "log-plex");
        int64_t ts = act_wall_us ();
        for (size_t k = 0; k < BLG_BATCH && sent < p->lines; k++, sent++) {
            size_t len = blg_line_text (text, sizeof text, p->index, sent);
            msg_logbatch_add (&lines, ts, "app", process, text, len);
        }
        msg_set_str (batch, "app", BLG_APP_INGEST);
        msg_set_json (batch, "lines", msg_logbatch_take (&lines));
        int rc = act_client_send (p->client, &batch);
        if (rc) {
            snprintf (p->why, sizeof p->why, "producer %d: cannot send: %s", p->index,
                      act_strerror (rc));
            p->rc = -1;
        }
    }
    msg_logbatch_release (&lines);
    p->done = bcm_now ();
    return NULL;
}

//  Starts the producers at `start` and waits for them; fills send_s.
static int
s_run_producers (s_producer_t *producers, void *(*fn) (void *), double start,
                 blg_ingest_t *out, char *why, size_t why_len)
{
    pthread_t threads [BLG_PRODUCERS];
    int started = 0;
    for (; started < BLG_PRODUCERS; started++)
        if (pthread_create (&threads [started], NULL, fn, &producers [started]))
            break;
    for (int i = 0; i < started; i++)
        pthread_join (threads [i], NULL);
    if (started < BLG_PRODUCERS) {
        snprintf (why, why_len, "cannot start producer thread %d", started);
        return -1;
    }
    double last = start;
    for (int i = 0; i < BLG_PRODUCERS; i++) {
        if (producers [i].rc) {
            snprintf (why, why_len, "%s", producers [i].why);
            return -1;
        }
        if (producers [i].done > last)
            last = producers [i].done;
    }
    out->send_s = last - start;
    return 0;
}

int
blg_ingest_ours (blg_t *self, blg_ingest_t *out, char *why, size_t why_len)
{
    s_producer_t producers [BLG_PRODUCERS];
    memset (producers, 0, sizeof producers);
    act_client_t *admin = blg_client (self, "bench-admin", why, why_len);
    if (!admin)
        return -1;
    int64_t base = blg_lines_in (self, admin, BLG_CALL_MS);
    int rc = base >= 0 ? 0 : -1;
    if (rc)
        snprintf (why, why_len, "log-plex does not answer status");
    for (int i = 0; rc == 0 && i < BLG_PRODUCERS; i++) {
        producers [i].bench = self;
        producers [i].index = i;
        producers [i].lines = out->lines / BLG_PRODUCERS;
        producers [i].client = blg_client (self, "bench-producer", why, why_len);
        if (!producers [i].client)
            rc = -1;
    }
    uint64_t want = (uint64_t) (out->lines / BLG_PRODUCERS) * BLG_PRODUCERS;
    double cpu0 [3] = { bcm_cpu_s (self->log_plex), 0, bcm_self_cpu () };
    double start = bcm_now ();
    if (rc == 0)
        rc = s_run_producers (producers, s_ours_producer, start, out, why, why_len);
    //  Poll lines_in until all are stored or nothing moves. A status
    //  request waits behind the batches queued before it.
    int64_t seen = base, now_in = base;
    double moved = bcm_now (), end = start;
    while (rc == 0 && (uint64_t) (now_in - base) < want && bcm_now () - moved < BLG_STALL_S) {
        now_in = blg_lines_in (self, admin, BLG_STATUS_WAIT_MS);
        if (now_in < 0) {
            snprintf (why, why_len, "log-plex did not answer status in %d ms", BLG_STATUS_WAIT_MS);
            rc = -1;
        }
        else if (now_in > seen) {
            seen = now_in;
            moved = end = bcm_now ();
        }
        else
            bcm_sleep_ms (5);
    }
    double cpu1 [3] = { bcm_cpu_s (self->log_plex), 0, bcm_self_cpu () };
    for (int i = 0; i < BLG_PRODUCERS; i++)
        act_client_destroy (&producers [i].client);
    act_client_destroy (&admin);
    if (rc)
        return -1;
    out->stored = (uint64_t) (seen - base);
    out->total_s = end - start;
    out->rate = out->total_s > 0 ? (double) out->stored / out->total_s : 0;
    for (int i = 0; i < 3; i++)
        out->cpu_s [i] = cpu1 [i] - cpu0 [i];
    if (out->stored < want) {
        snprintf (why, why_len, "log-plex stored %llu of %llu lines (nothing more for %.0f s)",
                  (unsigned long long) out->stored, (unsigned long long) want, BLG_STALL_S);
        return -1;
    }
    return 0;
}

// ---------------------------------------------------------------------------
//  rsyslog

static int
s_write_all (int fd, const char *buf, size_t len)
{
    while (len) {
        ssize_t n = write (fd, buf, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        buf += n;
        len -= (size_t) n;
    }
    return 0;
}

static void *
s_rsyslog_producer (void *arg)
{
    s_producer_t *p = arg;
    char *buf = act_malloc (BLG_WRITE_CHUNK + 1024);
    size_t used = 0;
    char text [256], frame [512], stamp [40];
    for (size_t sent = 0; sent < p->lines && p->rc == 0; sent++) {
        //  A fresh timestamp per BLG_BATCH lines, as ours stamps a batch.
        if (sent % BLG_BATCH == 0) {
            struct timespec ts;
            clock_gettime (CLOCK_REALTIME, &ts);
            struct tm tm;
            gmtime_r (&ts.tv_sec, &tm);
            size_t at = strftime (stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &tm);
            snprintf (stamp + at, sizeof stamp - at, ".%06ldZ", ts.tv_nsec / 1000);
        }
        size_t len = blg_line_text (text, sizeof text, p->index, sent);
        int flen = snprintf (frame, sizeof frame, "<14>1 %s bench %s web.%d - - %.*s", stamp,
                             BLG_APP_INGEST, p->index + 1, (int) len, text);
        used += (size_t) snprintf (buf + used, 1024, "%d %s", flen, frame);
        if (used >= BLG_WRITE_CHUNK || sent + 1 == p->lines) {
            if (s_write_all (p->fd, buf, used)) {
                snprintf (p->why, sizeof p->why, "producer %d: cannot write to rsyslogd: %s",
                          p->index, strerror (errno));
                p->rc = -1;
            }
            used = 0;
        }
    }
    free (buf);
    p->done = bcm_now ();
    return NULL;
}

//  Newlines in `path` from `*offset` on; moves *offset.
static uint64_t
s_count_lines (const char *path, off_t *offset)
{
    int fd = open (path, O_RDONLY);
    if (fd < 0)
        return 0;
    static char buf [1 << 20];
    uint64_t count = 0;
    ssize_t n;
    while ((n = pread (fd, buf, sizeof buf, *offset)) > 0) {
        for (const char *at = buf, *end = buf + n; (at = memchr (at, '\n', (size_t) (end - at)));
             at++)
            count++;
        *offset += n;
    }
    close (fd);
    return count;
}

static pid_t
s_rsyslog_start (blg_t *self, const char *rsyslogd, const char *modules, int port,
                 const char *dir, char *out_path, size_t out_len, char *why, size_t why_len)
{
    char conf [400], pidfile [400], log [400];
    snprintf (conf, sizeof conf, "%s/rsyslog.conf", dir);
    snprintf (pidfile, sizeof pidfile, "%s/rsyslogd.pid", dir);
    snprintf (log, sizeof log, "%s/rsyslogd.log", dir);
    snprintf (out_path, out_len, "%s/messages.log", dir);
    FILE *file = fopen (conf, "w");
    if (!file) {
        snprintf (why, why_len, "cannot write %s: %s", conf, strerror (errno));
        return -1;
    }
    fprintf (file,
             "# bench-logs: a private rsyslogd, one TCP input, one output file\n"
             "global(workDirectory=\"%s\")\n"
             "module(load=\"imptcp\")\n"
             "input(type=\"imptcp\" address=\"127.0.0.1\" port=\"%d\" "
             "supportOctetCountedFraming=\"on\")\n"
             "*.* action(type=\"omfile\" file=\"%s\")\n",
             dir, port, out_path);
    fclose (file);
    (void) self;
    pid_t pid = fork ();
    if (pid == 0) {
        int fd = open (log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        if (fd >= 0) {
            dup2 (fd, STDOUT_FILENO);
            dup2 (fd, STDERR_FILENO);
        }
        if (modules) {
            //  An unpacked package: its libraries sit beside its modules.
            char libs [600];
            snprintf (libs, sizeof libs, "%s/..", modules);
            setenv ("LD_LIBRARY_PATH", libs, 1);
            execl (rsyslogd, "rsyslogd", "-n", "-f", conf, "-i", pidfile, "-M", modules,
                   (char *) NULL);
        }
        else
            execl (rsyslogd, "rsyslogd", "-n", "-f", conf, "-i", pidfile, (char *) NULL);
        fprintf (stderr, "cannot run '%s': %s\n", rsyslogd, strerror (errno));
        _exit (127);
    }
    if (pid < 0) {
        snprintf (why, why_len, "fork: %s", strerror (errno));
        return -1;
    }
    double deadline = bcm_now () + BLG_RSYSLOG_UP_MS / 1000.0;
    while (bcm_now () < deadline) {
        int fd = blg_connect (port);
        if (fd >= 0) {
            close (fd);
            return pid;
        }
        if (waitpid (pid, NULL, WNOHANG) == pid)
            break;
        bcm_sleep_ms (20);
    }
    char *text = NULL;
    size_t len = 0;
    act_read_file (log, &text, &len);
    snprintf (why, why_len, "rsyslogd did not listen on 127.0.0.1:%d; its output: %.300s", port,
              text ? text : "");
    free (text);
    kill (pid, SIGKILL);
    waitpid (pid, NULL, 0);
    return -1;
}

int
blg_ingest_rsyslog (blg_t *self, const char *rsyslogd, const char *modules, blg_ingest_t *out,
                    char *why, size_t why_len)
{
    char dir [300], path [400];
    snprintf (dir, sizeof dir, "%s/rsyslog", self->tmp);
    if (mkdir (dir, 0700)) {
        snprintf (why, why_len, "cannot create %s: %s", dir, strerror (errno));
        return -1;
    }
    int port = bcm_free_port ();
    pid_t pid = s_rsyslog_start (self, rsyslogd, modules, port, dir, path, sizeof path, why,
                                 why_len);
    if (pid < 0)
        return -1;
    //  rsyslogd writes its own start message to the file: not counted.
    bcm_sleep_ms (200);
    off_t offset = 0;
    uint64_t base = s_count_lines (path, &offset);
    s_producer_t producers [BLG_PRODUCERS];
    memset (producers, 0, sizeof producers);
    int rc = 0;
    for (int i = 0; i < BLG_PRODUCERS; i++) {
        producers [i].bench = self;
        producers [i].index = i;
        producers [i].lines = out->lines / BLG_PRODUCERS;
        producers [i].fd = blg_connect (port);
        if (producers [i].fd < 0) {
            snprintf (why, why_len, "cannot connect to rsyslogd: %s", strerror (errno));
            rc = -1;
        }
    }
    uint64_t want = (uint64_t) (out->lines / BLG_PRODUCERS) * BLG_PRODUCERS;
    double cpu0 [3] = { bcm_cpu_s (pid), 0, bcm_self_cpu () };
    double start = bcm_now ();
    if (rc == 0)
        rc = s_run_producers (producers, s_rsyslog_producer, start, out, why, why_len);
    for (int i = 0; i < BLG_PRODUCERS; i++)
        if (producers [i].fd >= 0)
            close (producers [i].fd);
    uint64_t seen = 0;
    double moved = bcm_now (), end = start;
    while (rc == 0 && seen < want && bcm_now () - moved < BLG_STALL_S) {
        uint64_t more = s_count_lines (path, &offset);
        if (more) {
            seen += more;
            moved = end = bcm_now ();
        }
        else
            bcm_sleep_ms (5);
    }
    double cpu1 [3] = { bcm_cpu_s (pid), 0, bcm_self_cpu () };
    (void) base;
    bcm_child_stop (pid, 5000);
    unlink (path);                  // it is large
    if (rc)
        return -1;
    out->stored = seen;
    out->total_s = end - start;
    out->rate = out->total_s > 0 ? (double) seen / out->total_s : 0;
    for (int i = 0; i < 3; i++)
        out->cpu_s [i] = cpu1 [i] - cpu0 [i];
    if (seen < want) {
        snprintf (why, why_len, "rsyslogd wrote %llu of %llu lines (nothing more for %.0f s)",
                  (unsigned long long) seen, (unsigned long long) want, BLG_STALL_S);
        return -1;
    }
    return 0;
}
