//  bcm_up - the measured system's processes for the benchmarks
//
//  See bench_up.h.

#define _XOPEN_SOURCE 700           // nftw

#include "bench_up.h"
#include "bench_stats.h"

#include "../../actors/common/act_client.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

// ---------------------------------------------------------------------------
//  The temporary directory and environment

int
bcm_tmp_make (char *tmp, size_t tmp_len, const char *prog, const char *pattern)
{
    const char *tmpdir = getenv ("TMPDIR") ? getenv ("TMPDIR") : "/tmp";
    snprintf (tmp, tmp_len, "%s/%s-XXXXXX", tmpdir, pattern);
    if (!mkdtemp (tmp)) {
        fprintf (stderr, "%s: cannot create '%s': %s\n", prog, tmp, strerror (errno));
        tmp [0] = 0;
        return -1;
    }
    return 0;
}

static int
s_remove (const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void) st; (void) flag; (void) ftw;
    remove (path);
    return 0;
}

void
bcm_tmp_remove (const char *tmp)
{
    if (tmp [0])
        nftw (tmp, s_remove, 16, FTW_DEPTH | FTW_PHYS);
}

void
bcm_tmp_done (const char *tmp, bool keep, const char *prog)
{
    if (keep && tmp [0])
        fprintf (stderr, "%s: kept %s\n", prog, tmp);
    else
        bcm_tmp_remove (tmp);
}

void
bcm_env_setup (const char *tmp, char token [33])
{
    act_rng_t rng;
    act_rng_init (&rng, act_seed_from_os ());
    act_rng_id (&rng, token);
    char path [320];
    setenv ("DYNOD_API_TOKEN", token, 1);
    snprintf (path, sizeof path, "%s/config", tmp);
    setenv ("XDG_CONFIG_HOME", path, 1);
    snprintf (path, sizeof path, "%s/xdg-data", tmp);
    setenv ("XDG_DATA_HOME", path, 1);
    unsetenv ("DYNOD_APP");
}

// ---------------------------------------------------------------------------
//  Children

int
bcm_free_port (void)
{
    int fd = socket (AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in addr = { .sin_family = AF_INET, .sin_addr.s_addr = htonl (INADDR_LOOPBACK) };
    socklen_t len = sizeof addr;
    int port = -1;
    if (fd >= 0 && bind (fd, (struct sockaddr *) &addr, sizeof addr) == 0
    &&  getsockname (fd, (struct sockaddr *) &addr, &len) == 0)
        port = ntohs (addr.sin_port);
    if (fd >= 0)
        close (fd);
    return port;
}

pid_t
bcm_child_start (const char *path, char *const argv [], const char *log_path, int *out)
{
    int fds [2];
    if (pipe (fds))
        return -1;
    pid_t pid = fork ();
    if (pid == 0) {
        prctl (PR_SET_PDEATHSIG, SIGTERM);
        dup2 (fds [1], STDOUT_FILENO);
        int log = open (log_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        if (log >= 0)
            dup2 (log, STDERR_FILENO);
        close (fds [0]);
        close (fds [1]);
        execv (path, argv);
        fprintf (stderr, "cannot run '%s': %s\n", path, strerror (errno));
        _exit (127);
    }
    close (fds [1]);
    if (pid < 0) {
        close (fds [0]);
        return -1;
    }
    *out = fds [0];
    return pid;
}

int
bcm_wait_line (int fd, const char *text, int timeout_ms)
{
    char buf [4096];
    size_t len = 0;
    double deadline = bcm_now () + timeout_ms / 1000.0;
    while (bcm_now () < deadline) {
        struct pollfd pfd = { fd, POLLIN, 0 };
        if (poll (&pfd, 1, 100) <= 0)
            continue;
        ssize_t n = read (fd, buf + len, sizeof buf - 1 - len);
        if (n <= 0)
            return -1;              // the child exited
        len += (size_t) n;
        buf [len] = 0;
        if (strstr (buf, text))
            return 0;
        if (len == sizeof buf - 1)
            len = 0;
    }
    return -1;
}

void
bcm_child_stop (pid_t pid, int stop_ms)
{
    if (pid <= 0)
        return;
    kill (pid, SIGTERM);
    double deadline = bcm_now () + stop_ms / 1000.0;
    while (waitpid (pid, NULL, WNOHANG) == 0) {
        if (bcm_now () > deadline) {
            kill (pid, SIGKILL);
            waitpid (pid, NULL, 0);
            break;
        }
        bcm_sleep_ms (10);
    }
}

void
bcm_log_tail (const char *prog, const char *path, const char *what, const char *log_path)
{
    fprintf (stderr, "%s: '%s %s' did not become ready; the end of its log:\n", prog, path, what);
    char *log = NULL;
    size_t len = 0;
    if (act_read_file (log_path, &log, &len) == 0)
        fprintf (stderr, "%s", log + (len > 2000 ? len - 2000 : 0));
    free (log);
}

int
bcm_up_start (bcm_up_t *self, const char *prog, const char *dynod, const char *tmp,
              int ready_ms, const char *actor)
{
    memset (self, 0, sizeof *self);
    self->out = -1;
    char data [320], ports [4][16];
    snprintf (data, sizeof data, "%s/data", tmp);
    snprintf (self->log_path, sizeof self->log_path, "%s/dynod-up.log", tmp);
    int broker_port = bcm_free_port ();
    snprintf (self->endpoint, sizeof self->endpoint, "tcp://127.0.0.1:%d", broker_port);
    snprintf (ports [0], sizeof ports [0], "%d", broker_port);
    for (int i = 1; i < 4; i++)
        snprintf (ports [i], sizeof ports [i], "%d", bcm_free_port ());
    self->logs_port = atoi (ports [3]);
    char *const argv [] = {
        "dynod", "up", "--data", data, "--broker-port", ports [0], "--http-port", ports [1],
        "--https-port", ports [2], "--logs-port", ports [3], NULL
    };
    pid_t pid = bcm_child_start (dynod, argv, self->log_path, &self->out);
    if (pid < 0)
        return -1;
    self->pid = pid;
    if (bcm_wait_line (self->out, "dynod ready:", ready_ms) == 0
    &&  (!actor || (self->actor = bcm_find_actor (pid, actor)) > 0))
        return 0;
    bcm_log_tail (prog, dynod, "up", self->log_path);
    return -1;
}

void
bcm_up_stop (bcm_up_t *self, int stop_ms)
{
    bcm_child_stop (self->pid, stop_ms);
    self->pid = 0;
    if (self->out >= 0)
        close (self->out);
    self->out = -1;
}

// ---------------------------------------------------------------------------
//  /proc

int
bcm_proc_stat (const char *path, char comm [32], long *ppid, double *seconds)
{
    char buf [1024];
    FILE *file = fopen (path, "r");
    if (!file)
        return -errno;
    size_t len = fread (buf, 1, sizeof buf - 1, file);
    fclose (file);
    buf [len] = 0;
    char *open = strchr (buf, '('), *close = strrchr (buf, ')');
    long parent;
    unsigned long utime, stime;
    //  After the name: state, ppid and nine fields before utime and stime.
    if (!open || !close
    ||  sscanf (close + 2, "%*c %ld %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &parent, &utime,
                &stime) != 3)
        return -EINVAL;
    if (comm)
        snprintf (comm, 32, "%.*s", (int) (close - open - 1), open + 1);
    if (ppid)
        *ppid = parent;
    *seconds = (double) (utime + stime) / (double) sysconf (_SC_CLK_TCK);
    return 0;
}

double
bcm_cpu_s (pid_t pid)
{
    char path [64];
    double seconds;
    snprintf (path, sizeof path, "/proc/%d/stat", (int) pid);
    return bcm_proc_stat (path, NULL, NULL, &seconds) ? -1 : seconds;
}

long
bcm_rss_kb (pid_t pid)
{
    char path [64], line [256];
    snprintf (path, sizeof path, "/proc/%d/status", (int) pid);
    FILE *file = fopen (path, "r");
    long kb = -1;
    while (file && fgets (line, sizeof line, file))
        if (strncmp (line, "VmRSS:", 6) == 0) {
            kb = atol (line + 6);
            break;
        }
    if (file)
        fclose (file);
    return kb;
}

void
bcm_children_each (pid_t parent, bcm_child_fn *fn, void *ctx)
{
    DIR *dir = opendir ("/proc");
    struct dirent *entry;
    bool stop = false;
    while (dir && !stop && (entry = readdir (dir))) {
        double seconds;
        long ppid;
        char path [300], args [512];
        if (entry->d_name [0] < '1' || entry->d_name [0] > '9')
            continue;
        snprintf (path, sizeof path, "/proc/%s/stat", entry->d_name);
        if (bcm_proc_stat (path, NULL, &ppid, &seconds) || ppid != (long) parent)
            continue;
        snprintf (path, sizeof path, "/proc/%s/cmdline", entry->d_name);
        int fd = open (path, O_RDONLY);
        ssize_t n = fd >= 0 ? read (fd, args, sizeof args - 1) : -1;
        if (fd >= 0)
            close (fd);
        if (n <= 0)
            continue;
        args [n] = 0;
        //  The NUL-separated arguments after argv[0].
        const char *arg [3] = { "", "", "" };
        size_t at = strlen (args) + 1;
        for (int k = 0; k < 3 && at < (size_t) n; k++) {
            arg [k] = args + at;
            at += strlen (args + at) + 1;
        }
        stop = fn ((pid_t) atol (entry->d_name), seconds, arg, ctx);
    }
    if (dir)
        closedir (dir);
}

typedef struct {
    const char *name;
    pid_t found;
} s_find_t;

static bool
s_on_child (pid_t pid, double cpu_s, const char *const arg [3], void *ctx)
{
    (void) cpu_s;
    s_find_t *find = ctx;
    if (strcmp (arg [0], "actor") == 0 && strcmp (arg [1], find->name) == 0)
        find->found = pid;
    return find->found != 0;
}

pid_t
bcm_find_actor (pid_t parent, const char *name)
{
    s_find_t find = { name, 0 };
    bcm_children_each (parent, s_on_child, &find);
    return find.found;
}
