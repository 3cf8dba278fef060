//  brt_wrk - load runs of the router benchmark: wrk, warm-up then measured
//
//  See bench.h. Each target gets `wrk -t T -c C -d WARMUP` (discarded: it
//  opens the connections and fills every pool) and then
//  `wrk -t T -c C -d SECONDS --latency`, whose output is kept in
//  TMP/wrk-LABEL.txt and parsed: Requests/sec, the 50% and 99% latency
//  lines (us / ms / s), the request count, socket errors and non-2xx/3xx
//  answers. Requests/s counts 2xx/3xx answers only; a target with more
//  than 1% errors or non-2xx answers gets a note.

#include "bench.h"
#include "../../actors/common/act_base.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

//  Runs wrk with `argv`, stdout into `out_path`. Returns its exit status or -1.
static int
s_run (char *const argv [], const char *out_path)
{
    pid_t pid = fork ();
    if (pid == 0) {
        int fd = open (out_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        if (fd >= 0) {
            dup2 (fd, STDOUT_FILENO);
            dup2 (fd, STDERR_FILENO);
            close (fd);
        }
        execvp (argv [0], argv);
        _exit (127);
    }
    int status = 0;
    if (pid < 0 || waitpid (pid, &status, 0) != pid)
        return -1;
    return WIFEXITED (status) ? WEXITSTATUS (status) : -1;
}

//  "388.00us", "1.23ms", "2.01s", "12.00m" -> milliseconds; -1 if unknown.
static double
s_ms (const char *text)
{
    char *end;
    double v = strtod (text, &end);
    if (end == text)
        return -1;
    if (strncmp (end, "us", 2) == 0)
        return v / 1000;
    if (strncmp (end, "ms", 2) == 0)
        return v;
    if (*end == 's')
        return v * 1000;
    if (*end == 'm')
        return v * 60000;
    return -1;
}

int
brt_wrk_parse (const char *text, brt_load_t *out)
{
    out->rps = 0;
    out->p50_ms = out->p99_ms = -1;
    out->requests = out->errors = out->non_2xx = 0;
    const char *p;
    if ((p = strstr (text, "\n     50%")))
        out->p50_ms = s_ms (p + 10 + strspn (p + 10, " "));
    if ((p = strstr (text, "\n     99%")))
        out->p99_ms = s_ms (p + 10 + strspn (p + 10, " "));
    //  "  123456 requests in 3.00s, 23.06MB read"
    if ((p = strstr (text, " requests in "))) {
        const char *start = p;
        while (start > text && start [-1] != '\n')
            start--;
        out->requests = atol (start);
    }
    if ((p = strstr (text, "Socket errors: connect "))) {
        long c = 0, r = 0, w = 0, t = 0;
        if (sscanf (p, "Socket errors: connect %ld, read %ld, write %ld, timeout %ld", &c, &r, &w, &t) == 4)
            out->errors = c + r + w + t;
    }
    if ((p = strstr (text, "Non-2xx or 3xx responses: ")))
        out->non_2xx = atol (p + strlen ("Non-2xx or 3xx responses: "));
    if (!(p = strstr (text, "Requests/sec:")))
        return -1;
    out->rps = strtod (p + strlen ("Requests/sec:"), NULL);
    return 0;
}

void
brt_wrk (brt_t *self, const char *label, const char *url, const char *host, brt_load_t *out)
{
    memset (out, 0, sizeof *out);
    char threads [16], conns [16], warm [16], secs [16], header [160], path [320];
    snprintf (threads, sizeof threads, "%d", self->threads);
    snprintf (conns, sizeof conns, "%d", self->connections);
    snprintf (warm, sizeof warm, "%ds", self->warmup);
    snprintf (secs, sizeof secs, "%ds", self->seconds);
    snprintf (header, sizeof header, "Host: %s", host ? host : "");
    char *argv [16] = { "wrk", "-t", threads, "-c", conns, "-d", warm };
    int n = 7;
    if (host) {
        argv [n++] = "-H";
        argv [n++] = header;
    }
    argv [n++] = (char *) url;
    argv [n] = NULL;
    printf ("  %-22s %s%s%s ...\n", label, url, host ? "  Host: " : "", host ? host : "");
    fflush (stdout);
    snprintf (path, sizeof path, "%s/wrk-%s-warmup.txt", self->tmp, label);
    if (self->warmup > 0)
        s_run (argv, path);
    argv [6] = secs;
    argv [n++] = "--latency";
    argv [n] = NULL;
    snprintf (path, sizeof path, "%s/wrk-%s.txt", self->tmp, label);
    int rc = s_run (argv, path);
    char *text = NULL;
    size_t len = 0;
    if (rc != 0 || act_read_file (path, &text, &len) != 0 || brt_wrk_parse (text, out) != 0) {
        const char *last = text ? text : "";
        snprintf (out->note, sizeof out->note, "wrk failed (exit %d): %.100s", rc, last);
        out->note [strcspn (out->note, "\n")] = 0;
        free (text);
        return;
    }
    free (text);
    out->ran = true;
    long bad = out->errors + out->non_2xx;
    if (out->requests > 0 && bad * 100 > out->requests)
        snprintf (out->note, sizeof out->note, "%ld socket errors, %ld non-2xx of %ld requests: "
                  "requests/s counts the good ones only", out->errors, out->non_2xx, out->requests);
    //  Only answered 2xx/3xx requests count.
    if (out->requests > 0 && out->non_2xx > 0)
        out->rps *= (double) (out->requests > out->non_2xx ? out->requests - out->non_2xx : 0)
                  / (double) out->requests;
}
