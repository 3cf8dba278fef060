//  settings - the dyno-supervisor's tunables and its crash back-off table
//
//  See settings.h.

#include "settings.h"
#include "../common/act_base.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SUP_STOP_TIMEOUT_MS     30000
#define SUP_CYCLE_MS            86400000LL
#define SUP_CYCLE_JITTER_MS     12960000LL      // 216 minutes
#define SUP_REPORT_MS           10000
#define SUP_BOOT_TIMEOUT_MS     60000
#define SUP_ATTACH_TIMEOUT_MS   30000
#define SUP_CAPACITY_FALLBACK   4096            // MB, when /proc/meminfo says nothing
#define SUP_MS_MAX              (INT64_C (1) << 50)

#define FNV_OFFSET  0xcbf29ce484222325ULL
#define FNV_PRIME   0x100000001b3ULL

//  A non-negative decimal up to SUP_MS_MAX, or -1.
static int64_t
s_number (const char *text, size_t len)
{
    if (len == 0 || len > 16)
        return -1;
    int64_t n = 0;
    for (size_t i = 0; i < len; i++) {
        if (text [i] < '0' || text [i] > '9')
            return -1;
        n = n * 10 + (text [i] - '0');
    }
    return n <= SUP_MS_MAX ? n : -1;
}

static int64_t
s_env (const char *name, int64_t dflt, int64_t min)
{
    const char *text = getenv (name);
    if (!text || !*text)
        return dflt;
    int64_t n = s_number (text, strlen (text));
    if (n < min) {
        act_log_warn ("ignoring %s='%s': not a number >= %lld", name, text, (long long) min);
        return dflt;
    }
    return n;
}

//  MemTotal in MB, or 0.
static int64_t
s_mem_total_mb (void)
{
    FILE *f = fopen ("/proc/meminfo", "r");
    if (!f)
        return 0;
    char line [256];
    long long kb = 0;
    while (fgets (line, sizeof line, f))
        if (sscanf (line, "MemTotal: %lld kB", &kb) == 1)
            break;
    fclose (f);
    return kb / 1024;
}

void
sup_settings_load (sup_settings_t *self)
{
    memset (self, 0, sizeof *self);
    self->stop_timeout_ms = s_env ("DYNOD_STOP_TIMEOUT_MS", SUP_STOP_TIMEOUT_MS, 0);
    self->cycle_ms = s_env ("DYNOD_CYCLE_MS", SUP_CYCLE_MS, 1);
    self->cycle_jitter_ms = s_env ("DYNOD_CYCLE_JITTER_MS", SUP_CYCLE_JITTER_MS, 0);
    self->report_ms = s_env ("DYNOD_REPORT_MS", SUP_REPORT_MS, 1);
    self->boot_timeout_ms = s_env ("DYNOD_BOOT_TIMEOUT_MS", SUP_BOOT_TIMEOUT_MS, 1);
    self->attach_timeout_ms = s_env ("DYNOD_ATTACH_TIMEOUT_MS", SUP_ATTACH_TIMEOUT_MS, 1);
    int64_t total = s_mem_total_mb ();
    self->capacity_mb = s_env ("DYNOD_SUPERVISOR_MEM_MB", total > 0 ? total : SUP_CAPACITY_FALLBACK, 1);
    int rc = sup_backoff_parse (&self->backoff, SUP_BACKOFF_DEFAULT);
    (void) rc;
    const char *table = getenv ("DYNOD_RESTART_BACKOFF_MS");
    if (table && *table && sup_backoff_parse (&self->backoff, table))
        act_log_warn ("ignoring DYNOD_RESTART_BACKOFF_MS='%s': not a comma list of ms", table);
    snprintf (self->advertise, sizeof self->advertise, "%s", SUP_ADVERTISE_DEFAULT);
    const char *advertise = getenv ("DYNOD_ADVERTISE_HOST");
    if (advertise && *advertise && sup_advertise_parse (advertise, self->advertise))
        act_log_error ("ignoring DYNOD_ADVERTISE_HOST='%.64s': not an IPv4 address routers can "
                       "reach (such as 10.0.0.2); advertising %s", advertise, self->advertise);
}

int
sup_advertise_parse (const char *text, char out [SUP_ADVERTISE_MAX])
{
    struct in_addr addr;
    if (inet_pton (AF_INET, text, &addr) != 1 || addr.s_addr == htonl (INADDR_ANY))
        return -EINVAL;
    inet_ntop (AF_INET, &addr, out, SUP_ADVERTISE_MAX);
    return 0;
}

int
sup_backoff_parse (sup_backoff_t *self, const char *text)
{
    sup_backoff_t parsed = { .count = 0 };
    const char *p = text;
    for (;;) {
        const char *comma = strchr (p, ',');
        size_t len = comma ? (size_t) (comma - p) : strlen (p);
        int64_t n = s_number (p, len);
        if (n < 0 || parsed.count == SUP_BACKOFF_MAX)
            return -EINVAL;
        parsed.table [parsed.count++] = n;
        if (!comma)
            break;
        p = comma + 1;
    }
    *self = parsed;
    return 0;
}

int64_t
sup_backoff_delay (const sup_backoff_t *self, int restarts)
{
    if (restarts < 0)
        restarts = 0;
    size_t i = (size_t) restarts < self->count ? (size_t) restarts : self->count - 1;
    return self->table [i];
}

int64_t
sup_backoff_reset_ms (const sup_backoff_t *self)
{
    for (size_t i = 0; i < self->count; i++)
        if (self->table [i] > 0)
            return self->table [i];
    return 0;
}

int64_t
sup_cycle_jitter (const char *id, int64_t jitter_ms)
{
    if (jitter_ms <= 0)
        return 0;
    uint64_t hash = FNV_OFFSET;
    for (const char *p = id; *p; p++)
        hash = (hash ^ (unsigned char) *p) * FNV_PRIME;
    return (int64_t) (hash % (uint64_t) jitter_ms);
}
