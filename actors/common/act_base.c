//  act_base - memory wrappers, error codes and structured logging
//
//  Owns the process-wide log identity (set once in main before threads).

#include "act_base.h"
#include "../../messages/msg.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

//  The log identity is written once by act_log_init in main and only read
//  afterwards, so it is process configuration rather than mutable state.
static char s_log_ident [64] = "dynod";
static act_level_t s_log_level = ACT_LOG_INFO;

static void
s_oom (size_t size)
{
    fprintf (stderr, "%s error out of memory allocating %zu bytes\n", s_log_ident, size);
    abort ();
}

void *
act_malloc (size_t size)
{
    void *p = malloc (size ? size : 1);
    if (!p)
        s_oom (size);
    return p;
}

void *
act_calloc (size_t count, size_t size)
{
    void *p = calloc (count ? count : 1, size ? size : 1);
    if (!p)
        s_oom (count * size);
    return p;
}

void *
act_realloc (void *ptr, size_t size)
{
    void *p = realloc (ptr, size ? size : 1);
    if (!p)
        s_oom (size);
    return p;
}

char *
act_strdup (const char *s)
{
    return act_strndup (s, strlen (s));
}

char *
act_strndup (const char *s, size_t n)
{
    char *p = act_malloc (n + 1);
    memcpy (p, s, n);
    p [n] = 0;
    return p;
}

//  UBSan's null checks make gcc 12 see a NULL `fmt` branch here and warn
//  (-Wformat-truncation) in sanitizer builds; callers always pass literals.
#if !defined (__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-truncation"
#endif
char *
act_sprintf (const char *fmt, ...)
{
    char probe [1];
    va_list ap;
    va_start (ap, fmt);
    int n = vsnprintf (probe, sizeof probe, fmt, ap);
    va_end (ap);
    char *p = act_malloc ((size_t) n + 1);
    va_start (ap, fmt);
    vsnprintf (p, (size_t) n + 1, fmt, ap);
    va_end (ap);
    return p;
}
#if !defined (__clang__)
#pragma GCC diagnostic pop
#endif

char *
act_quote_line (const char *text, size_t max_in, char *out, size_t out_len)
{
    size_t o = 0;
    for (size_t i = 0; text && text [i] && i < max_in && o + 5 < out_len; i++) {
        unsigned char c = (unsigned char) text [i];
        if (c < 0x20 || c == 0x7f)
            o += (size_t) snprintf (out + o, out_len - o, "\\x%02x", c);
        else
            out [o++] = (char) c;
    }
    if (out_len)
        out [o] = 0;
    return out;
}

const char *
act_strerror (int rc)
{
    switch (rc) {
        case 0:              return "success";
        case ACT_EPROTO:     return "protocol error";
        case ACT_ETIMEDOUT:  return "timed out waiting for a reply";
        case ACT_ENOTFOUND:  return "not found";
        case ACT_EREFUSED:   return "refused by the broker";
        case ACT_ESTOPPED:   return "stopping";
        case ACT_EFULL:      return "queue full";
        case ACT_ESTORE:     return "journal store failed";
        case ACT_ENOTREG:    return "not registered with the broker";
        case ACT_ESPOOF:     return "sender address is not the registered one";
        case ACT_ENOROUTE:   return "no live actor for that address";
        case ACT_EAUTH:      return "bad or missing API token";
        default: break;
    }
    if (rc <= MSG_EFIRST && rc >= MSG_ELAST)
        return msg_strerror (rc);
    if (rc < 0 && rc > -4096)
        return strerror (-rc);
    return "unknown error";
}

void
act_log_init (const char *ident)
{
    snprintf (s_log_ident, sizeof s_log_ident, "%s", ident);
    const char *level = getenv ("DYNOD_LOG_LEVEL");
    if (level) {
        if (strcmp (level, "debug") == 0) s_log_level = ACT_LOG_DEBUG;
        else if (strcmp (level, "warn") == 0) s_log_level = ACT_LOG_WARN;
        else if (strcmp (level, "error") == 0) s_log_level = ACT_LOG_ERROR;
        else s_log_level = ACT_LOG_INFO;
    }
}

void
act_log (act_level_t level, const char *fmt, ...)
{
    if (level < s_log_level)
        return;
    static const char *names [] = { "debug", "info", "warn", "error" };
    char line [2048];
    struct timespec ts;
    clock_gettime (CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r (&ts.tv_sec, &tm);
    int n = (int) strftime (line, sizeof line, "%Y-%m-%dT%H:%M:%S", &tm);
    n += snprintf (line + n, sizeof line - (size_t) n, ".%06ldZ %s %s ",
                   ts.tv_nsec / 1000, names [level], s_log_ident);
    va_list ap;
    va_start (ap, fmt);
    vsnprintf (line + n, sizeof line - (size_t) n, fmt, ap);
    va_end (ap);
    //  One write per line so lines from many processes never interleave.
    size_t len = strlen (line);
    if (len > sizeof line - 2)
        len = sizeof line - 2;
    line [len++] = '\n';
    ssize_t rc = write (STDERR_FILENO, line, len);
    (void) rc;
}

static int64_t
s_clock_ms (clockid_t id)
{
    struct timespec ts;
    clock_gettime (id, &ts);
    return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t act_wall_ms (void) { return s_clock_ms (CLOCK_REALTIME); }
int64_t act_mono_ms (void) { return s_clock_ms (CLOCK_MONOTONIC); }

int64_t
act_wall_us (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_REALTIME, &ts);
    return (int64_t) ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int64_t s_real_now (act_clock_t *self) { (void) self; return act_wall_ms (); }
static int64_t s_fixed_now (act_clock_t *self) { return self->fixed_ms; }

act_clock_t *
act_clock_real (void)
{
    //  Immutable: a function table with no state.
    static act_clock_t real = { s_real_now, 0 };
    return &real;
}

void
act_clock_fixed_init (act_clock_t *self, int64_t ms)
{
    self->now_ms = s_fixed_now;
    self->fixed_ms = ms;
}

void
act_rng_init (act_rng_t *self, uint64_t seed)
{
    self->state = seed;
}

uint64_t
act_rng_next (act_rng_t *self)
{
    uint64_t z = (self->state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

void
act_rng_id (act_rng_t *self, char out [33])
{
    static const char hex [] = "0123456789abcdef";
    for (int half = 0; half < 2; half++) {
        uint64_t v = act_rng_next (self);
        for (int i = 15; i >= 0; i--, v >>= 4)
            out [half * 16 + i] = hex [v & 15];
    }
    out [32] = 0;
}

uint64_t
act_seed_from_os (void)
{
    uint64_t seed = 0;
    if (getrandom (&seed, sizeof seed, 0) != sizeof seed)
        seed = (uint64_t) act_wall_us () ^ ((uint64_t) getpid () << 32);
    return seed;
}

int
act_mkdir_p (const char *path, int mode)
{
    char buf [4096];
    if (snprintf (buf, sizeof buf, "%s", path) >= (int) sizeof buf)
        return -ENAMETOOLONG;
    for (char *p = buf + 1; *p; p++) {
        if (*p == '/') {
            *p = 0;
            if (mkdir (buf, (mode_t) mode) && errno != EEXIST)
                return -errno;
            *p = '/';
        }
    }
    if (mkdir (buf, (mode_t) mode) && errno != EEXIST)
        return -errno;
    return 0;
}

int
act_write_file (const char *path, const void *data, size_t len, int mode)
{
    char tmp [4200];
    snprintf (tmp, sizeof tmp, "%s.tmp.%d", path, (int) getpid ());
    //  A fresh file of our own (not one planted there, nor a symlink), so
    //  the mode asked for is the mode it gets (key files are 0600).
    unlink (tmp);
    int fd = open (tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, (mode_t) mode);
    if (fd < 0)
        return -errno;
    int rc = act_write_all (fd, data, len);
    if (rc) {
        close (fd);
        unlink (tmp);
        return rc;
    }
    if (fsync (fd) || close (fd) || rename (tmp, path)) {
        rc = -errno;
        unlink (tmp);
    }
    return rc;
}

int
act_read_file (const char *path, char **data_p, size_t *len_p)
{
    int fd = open (path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    struct stat st;
    if (fstat (fd, &st)) {
        int rc = -errno;
        close (fd);
        return rc;
    }
    size_t cap = (size_t) st.st_size + 1, len = 0;
    char *buf = act_malloc (cap);
    for (;;) {
        if (len + 1 >= cap) {
            cap *= 2;
            buf = act_realloc (buf, cap);
        }
        ssize_t n = read (fd, buf + len, cap - len - 1);
        if (n < 0) {
            int rc = -errno;
            close (fd);
            free (buf);
            return rc;
        }
        if (n == 0)
            break;
        len += (size_t) n;
    }
    close (fd);
    buf [len] = 0;
    *data_p = buf;
    if (len_p)
        *len_p = len;
    return 0;
}

int
act_write_all (int fd, const void *data, size_t len)
{
    const char *p = data;
    while (len > 0) {
        ssize_t n = write (fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -errno;
        p += n;
        len -= (size_t) n;
    }
    return 0;
}

int
act_sync_dir (const char *dir)
{
    int fd = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    int rc = fsync (fd) ? -errno : 0;
    close (fd);
    return rc;
}
