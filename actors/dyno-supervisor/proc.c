//  proc - a dyno's processes: start, output, input, end
//
//  See proc.h.

//  pipe2 and pidfd_open are GNU/Linux.
#define _GNU_SOURCE

#include "proc.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pty.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/pidfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#define SUP_PATH    "/app/bin:/usr/local/bin:/usr/bin:/bin"
#define SUP_PS1     "\\[\\033[01;34m\\]\\w\\[\\033[00m\\] \\[\\033[01;32m\\]$ \\[\\033[00m\\]"
#define SUP_STDIN_RETRY_MS  10
#define SUP_SIGNAL_MAX      64

void
sup_proc_init (sup_dyno_t *d)
{
    d->sbx = NULL;
    d->pid = 0;
    d->pidfd = d->out_fd = d->err_fd = d->in_fd = -1;
    d->exited = false;
    d->oom_kills = 0;
    d->in_buf = NULL;
    d->in_len = 0;
    d->in_eof = false;
    sup_lines_init (&d->out_lines);
    sup_lines_init (&d->err_lines);
}

// ---- output ----------------------------------------------------------------

static void
s_line_out (void *arg, const char *text, size_t len)
{
    sup_dyno_t *d = arg;
    sup_say (d->sup, d->app, "app", d->name, text, len);
}

//  Whether output goes to the attached client rather than to the logs.
static bool
s_to_client (const sup_dyno_t *d)
{
    return d->attach && !d->detached;
}

static void
s_close_fd (sup_dyno_t *d, int *fd)
{
    if (*fd < 0)
        return;
    sup_unwatch (d->sup, *fd);
    //  A pty master is both out_fd and in_fd: close it once.
    if (*fd == d->in_fd && fd != &d->in_fd)
        d->in_fd = -1;
    close (*fd);
    *fd = -1;
}

static void
s_on_output (void *state, act_t *act, int fd, void *arg)
{
    (void) state;
    sup_dyno_t *d = arg;
    bool is_err = fd == d->err_fd;
    char buf [SUP_OUTPUT_CHUNK];
    ssize_t n = read (fd, buf, sizeof buf);
    if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return;
    sup_lines_t *lines = is_err ? &d->err_lines : &d->out_lines;
    if (n <= 0) {
        //  EOF, or EIO from a pty master once every slave is closed.
        sup_lines_flush (lines, act_mono_ms (), true, s_line_out, d);
        s_close_fd (d, is_err ? &d->err_fd : &d->out_fd);
        return;
    }
    if (s_to_client (d)) {
        msg_t *out = act_msg_new (act, MSG_TYPE_RUN_OUTPUT, d->attach);
        msg_set_str (out, "id", d->id);
        msg_set_str (out, "stream", is_err ? "stderr" : "stdout");
        msg_set_json (out, "data", json_stringn_nocheck (buf, (size_t) n));
        act_send (act, &out);
    }
    else
        sup_lines_push (lines, buf, (size_t) n, act_mono_ms (), s_line_out, d);
}

static void
s_on_exit (void *state, act_t *act, int fd, void *arg)
{
    (void) state;
    (void) act;
    (void) fd;
    sup_dyno_t *d = arg;
    sup_proc_tick (d, act_mono_ms ());
}

// ---- start -----------------------------------------------------------------

//  A free TCP port on the host (bound, read, released: the dyno binds it
//  next), or 0.
static int
s_free_port (void)
{
    int fd = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return 0;
    struct sockaddr_in addr = { .sin_family = AF_INET, .sin_port = 0 };
    addr.sin_addr.s_addr = htonl (INADDR_ANY);
    socklen_t len = sizeof addr;
    int port = 0;
    if (bind (fd, (struct sockaddr *) &addr, sizeof addr) == 0
    &&  getsockname (fd, (struct sockaddr *) &addr, &len) == 0)
        port = ntohs (addr.sin_port);
    close (fd);
    return port;
}

//  The environment: defaults, config vars, the assignment's extra vars,
//  then what the platform sets. Caller owns result (array and strings).
static char **
s_environment (const sup_dyno_t *d, const json_t *vars)
{
    json_t *env = json_pack ("{s:s, s:s, s:s}", "HOME", "/app", "PS1", SUP_PS1, "PATH", SUP_PATH);
    json_object_update (env, (json_t *) vars);
    json_t *extra = json_object_get (d->spec, "env");
    if (json_is_object (extra))
        json_object_update (env, extra);
    json_object_set_new (env, "DYNO", json_string (d->name));
    //  Dyno metadata, as Heroku's runtime-dyno-metadata gives it (HEROKU_*).
    json_object_set_new (env, "DYNOD_APP_NAME", json_string (d->app));
    json_object_set_new (env, "DYNOD_DYNO_ID", json_string (d->id));
    json_object_set_new (env, "DYNOD_RELEASE_VERSION", json_sprintf ("v%lld",
                         (long long) json_integer_value (json_object_get (d->spec, "release"))));
    if (d->web)
        json_object_set_new (env, "PORT", json_integer (d->port));
    else
        json_object_del (env, "PORT");
    if (d->tty)
        json_object_set_new (env, "TERM", json_string ("xterm-256color"));
    char **envp = act_calloc (json_object_size (env) + 1, sizeof *envp);
    size_t i = 0;
    const char *key;
    json_t *value;
    json_object_foreach (env, key, value) {
        if (json_is_integer (value))
            envp [i++] = act_sprintf ("%s=%lld", key, (long long) json_integer_value (value));
        else if (json_is_string (value))
            envp [i++] = act_sprintf ("%s=%s", key, json_string_value (value));
    }
    json_decref (env);
    return envp;
}

static void
s_free_strv (char **v)
{
    for (size_t i = 0; v && v [i]; i++)
        free (v [i]);
    free (v);
}

static int
s_nonblock (int fd)
{
    int flags = fcntl (fd, F_GETFL);
    return flags < 0 ? -1 : fcntl (fd, F_SETFL, flags | O_NONBLOCK);
}

//  Makes the fds for the dyno: its ends in child [3] (stdin, stdout,
//  stderr; -1 for none), ours in d. Returns 0 or -errno.
static int
s_make_fds (sup_dyno_t *d, int child [3])
{
    child [0] = child [1] = child [2] = -1;
    if (d->tty) {
        int master, slave;
        struct winsize ws = { .ws_row = (unsigned short) json_integer_value (json_object_get (d->spec, "rows")),
                              .ws_col = (unsigned short) json_integer_value (json_object_get (d->spec, "cols")) };
        if (!ws.ws_row || !ws.ws_col)
            ws = (struct winsize) { .ws_row = 24, .ws_col = 80 };
        if (openpty (&master, &slave, NULL, NULL, &ws))
            return -errno;
        fcntl (master, F_SETFD, FD_CLOEXEC);
        fcntl (slave, F_SETFD, FD_CLOEXEC);
        s_nonblock (master);
        d->out_fd = d->in_fd = master;
        child [0] = child [1] = child [2] = slave;
        return 0;
    }
    int out [2], err [2];
    if (pipe2 (out, O_CLOEXEC))
        return -errno;
    if (pipe2 (err, O_CLOEXEC)) {
        int rc = -errno;
        close (out [0]);
        close (out [1]);
        return rc;
    }
    d->out_fd = out [0];
    d->err_fd = err [0];
    s_nonblock (d->out_fd);
    s_nonblock (d->err_fd);
    child [1] = out [1];
    child [2] = err [1];
    if (d->attach) {
        int in [2];
        if (pipe2 (in, O_CLOEXEC) == 0) {
            d->in_fd = in [1];
            s_nonblock (d->in_fd);
            child [0] = in [0];
        }
    }
    return 0;
}

static void
s_close_child_fds (int child [3])
{
    for (int i = 0; i < 3; i++) {
        if (child [i] < 0)
            continue;
        int fd = child [i];
        for (int j = i; j < 3; j++)
            if (child [j] == fd)
                child [j] = -1;
        close (fd);
    }
}

int
sup_proc_start (sup_dyno_t *d, const char *slug_dir, const json_t *vars, char *why, size_t why_len)
{
    sup_t *sup = d->sup;
    if (!sup->data_dir) {
        snprintf (why, why_len, "the supervisor has no data directory");
        return -1;
    }
    uid_t uid = (uid_t) d->uid;
    if (d->uid < 0) {
        if (sbx_app_uid (sup->uid_map, d->app, &uid, why, why_len))
            return -1;
        d->uid = (int64_t) uid;
    }
    d->port = d->web ? s_free_port () : 0;
    if (d->web && !d->port) {
        snprintf (why, why_len, "no free port for $PORT");
        return -1;
    }
    int child [3];
    int rc = s_make_fds (d, child);
    if (rc) {
        snprintf (why, why_len, "cannot make the dyno's pipes: %s", act_strerror (rc));
        return -1;
    }
    //  As on Heroku, the command is a bash script (`a; b`, pipes and `exec`
    //  all work); SIGTERM goes to every process of the dyno, bash included.
    char *script = act_sprintf ("if [ -f /app/.profile ]; then . /app/.profile; fi\n%s",
                                d->command);
    char *argv [] = { "/bin/bash", "-c", script, NULL };
    char **envp = s_environment (d, vars);
    char *work = act_sprintf ("%s/%s", sup->work_root, d->id);
    const char *hide [] = { sup->data_dir, NULL };
    sbx_spec_t spec = {
        .app = d->app, .id = d->id, .cgroup_parent = sup->cgroup_parent, .name = d->name,
        .slug_dir = slug_dir, .work_dir = work, .hide = hide, .argv = argv, .envp = envp,
        .uid = uid, .gid = (gid_t) uid, .mem_limit_bytes = 2 * d->mem_mb * 1024 * 1024,
        .procs_max = json_integer_value (json_object_get (d->spec, "procs_max")),
        .stdin_fd = child [0], .stdout_fd = child [1], .stderr_fd = child [2], .tty = d->tty,
    };
    d->sbx = sbx_start (&spec, sup->cg, why, why_len);
    s_close_child_fds (child);
    free (work);
    free (script);
    s_free_strv (envp);
    if (!d->sbx) {
        sup_proc_release (d);
        return -1;
    }
    d->pid = sbx_pid (d->sbx);
    d->exited = false;
    d->pidfd = pidfd_open (d->pid, 0);
    if (d->pidfd >= 0)
        act_watch_fd (sup->act, d->pidfd, s_on_exit, d);
    act_watch_fd (sup->act, d->out_fd, s_on_output, d);
    if (d->err_fd >= 0)
        act_watch_fd (sup->act, d->err_fd, s_on_output, d);
    return 0;
}

// ---- running and ending ----------------------------------------------------

bool
sup_proc_running (const sup_dyno_t *d)
{
    return d->sbx != NULL;
}

//  Reaps pid 1 if it ended.
static void
s_reap (sup_dyno_t *d, int64_t mono)
{
    if (!d->sbx || d->exited)
        return;
    int status;
    pid_t rc = waitpid (d->pid, &status, WNOHANG);
    if (rc == 0 || (rc < 0 && errno == EINTR))
        return;
    d->exited = true;
    d->exited_at = mono;
    if (rc < 0)
        d->exit_status = 255;
    else if (WIFSIGNALED (status))
        d->exit_status = 128 + WTERMSIG (status);
    else
        d->exit_status = WEXITSTATUS (status);
    if (d->pidfd >= 0) {
        sup_unwatch (d->sup, d->pidfd);
        close (d->pidfd);
        d->pidfd = -1;
    }
}

bool
sup_proc_done (sup_dyno_t *d, int64_t mono, int *status)
{
    s_reap (d, mono);
    if (!d->sbx || !d->exited)
        return false;
    if ((d->out_fd >= 0 || d->err_fd >= 0) && mono - d->exited_at < SUP_DRAIN_MS)
        return false;
    *status = d->exit_status;
    d->oom_kills = sbx_oom_kills (d->sbx);     // before the cgroup goes
    sup_proc_release (d);
    return true;
}

void
sup_proc_signal (sup_dyno_t *d, int sig)
{
    if (d->sbx)
        sbx_signal_all (d->sbx, sig);
}

int64_t
sup_proc_memory (const sup_dyno_t *d)
{
    return d->sbx ? sbx_memory (d->sbx) : -1;
}

int64_t
sup_proc_oom_kills (const sup_dyno_t *d)
{
    return d->sbx ? sbx_oom_kills (d->sbx) : -1;
}

void
sup_proc_release (sup_dyno_t *d)
{
    int64_t mono = act_mono_ms ();
    if (d->out_fd >= 0)
        sup_lines_flush (&d->out_lines, mono, true, s_line_out, d);
    if (d->err_fd >= 0)
        sup_lines_flush (&d->err_lines, mono, true, s_line_out, d);
    s_close_fd (d, &d->out_fd);
    s_close_fd (d, &d->err_fd);
    s_close_fd (d, &d->in_fd);
    if (d->pidfd >= 0) {
        sup_unwatch (d->sup, d->pidfd);
        close (d->pidfd);
        d->pidfd = -1;
    }
    if (d->sbx) {
        sbx_destroy (&d->sbx);
        //  sbx_destroy killed what was left; reap pid 1 if not yet.
        if (!d->exited)
            while (waitpid (d->pid, NULL, 0) < 0 && errno == EINTR)
                ;
    }
    d->pid = 0;
    free (d->in_buf);
    d->in_buf = NULL;
    d->in_len = 0;
    d->in_eof = false;
}

// ---- input -----------------------------------------------------------------

//  Writes what stdin holds; closes it after the end of input.
static void
s_stdin_flush (sup_dyno_t *d)
{
    while (d->in_fd >= 0 && d->in_len) {
        ssize_t n = write (d->in_fd, d->in_buf, d->in_len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == EAGAIN)
            return;
        if (n < 0) {
            d->in_len = 0;          // the dyno closed its stdin: drop the rest
            break;
        }
        memmove (d->in_buf, d->in_buf + n, d->in_len - (size_t) n);
        d->in_len -= (size_t) n;
    }
    if (d->in_eof && !d->in_len && d->in_fd >= 0) {
        if (d->tty) {
            //  A pty has no half-close: send the terminal's EOF character.
            char eof = 4;
            if (write (d->in_fd, &eof, 1) == 1)
                d->in_eof = false;
        }
        else {
            close (d->in_fd);
            d->in_fd = -1;
            d->in_eof = false;
        }
    }
}

void
sup_proc_input (sup_dyno_t *d, const msg_t *msg)
{
    if (!d->sbx)
        return;
    const json_t *data = json_object_get (msg->body, "data");
    size_t len = json_string_length (data);
    if (len && d->in_fd >= 0) {
        if (d->in_len + len > SUP_STDIN_MAX)
            act_log_warn ("dyno %s: stdin full, %zu bytes dropped", d->id, len);
        else {
            d->in_buf = act_realloc (d->in_buf, d->in_len + len);
            memcpy (d->in_buf + d->in_len, json_string_value (data), len);
            d->in_len += len;
        }
    }
    if (msg_bool (msg, "eof", false))
        d->in_eof = true;
    int64_t cols = msg_int (msg, "cols", 0), rows = msg_int (msg, "rows", 0);
    if (d->tty && d->in_fd >= 0 && cols > 0 && rows > 0 && cols < 65536 && rows < 65536) {
        struct winsize ws = { .ws_row = (unsigned short) rows, .ws_col = (unsigned short) cols };
        ioctl (d->in_fd, TIOCSWINSZ, &ws);
    }
    int64_t sig = msg_int (msg, "signal", 0);
    if (sig > 0 && sig <= SUP_SIGNAL_MAX)
        sbx_signal_all (d->sbx, (int) sig);
    s_stdin_flush (d);
}

// ---- timers ----------------------------------------------------------------

void
sup_proc_tick (sup_dyno_t *d, int64_t mono)
{
    s_reap (d, mono);
    if (d->out_fd >= 0)
        sup_lines_flush (&d->out_lines, mono, false, s_line_out, d);
    if (d->err_fd >= 0)
        sup_lines_flush (&d->err_lines, mono, false, s_line_out, d);
    s_stdin_flush (d);
}

int64_t
sup_proc_deadline (const sup_dyno_t *d)
{
    if (!d->sbx)
        return INT64_MAX;
    int64_t next = INT64_MAX, at;
    if (d->out_fd >= 0 && (at = sup_lines_deadline (&d->out_lines)) < next)
        next = at;
    if (d->err_fd >= 0 && (at = sup_lines_deadline (&d->err_lines)) < next)
        next = at;
    if (d->in_len || d->in_eof)
        next = act_mono_ms () + SUP_STDIN_RETRY_MS;
    if (d->exited && d->exited_at + SUP_DRAIN_MS < next)
        next = d->exited_at + SUP_DRAIN_MS;
    if (!d->exited && d->pidfd < 0)
        next = act_mono_ms () + 50;      // no pidfd: poll for the exit
    return next;
}
