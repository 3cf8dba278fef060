//  uids - the unprivileged uid (and gid, the same number) of each app's
//  dynos on this host
//
//  Implements sbx_app_uid (sandbox.h). The map is a text file of `app uid`
//  lines, owned by the supervisor; a new app gets one more than the
//  highest uid in it (at least DYNOD_UID_BASE, default 200000), so a uid
//  is never handed to a second app even if a line were removed. The file
//  is replaced atomically: a temp file written and fsync'd, renamed over
//  the map, and the folder fsync'd.

#include "sandbox.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define UID_BASE_DEFAULT 200000
#define UID_BASE_ENV     "DYNOD_UID_BASE"
#define UID_MAX_ALLOWED  2000000000     // below 2^31: every tool takes it
#define UID_APP_MAX      64             // bytes of an app name
#define UID_MAP_MAX      (4 * 1024 * 1024)

static uid_t
s_base (void)
{
    const char *text = getenv (UID_BASE_ENV);
    char *end;
    long long base = text && *text ? strtoll (text, &end, 10) : UID_BASE_DEFAULT;
    if (text && *text && (*end || base < 1000 || base >= UID_MAX_ALLOWED))
        base = UID_BASE_DEFAULT;
    return (uid_t) base;
}

//  Reads the whole map; "" when it does not exist. Caller owns result;
//  NULL with errno on failure.
static char *
s_read_map (const char *path)
{
    FILE *file = fopen (path, "re");
    if (!file)
        return errno == ENOENT ? calloc (1, 1) : NULL;
    char *text = malloc (UID_MAP_MAX + 1);
    size_t len = text ? fread (text, 1, UID_MAP_MAX, file) : 0;
    int failed = !text || ferror (file);
    fclose (file);
    if (failed) {
        free (text);
        errno = EIO;
        return NULL;
    }
    text [len] = 0;
    return text;
}

//  Finds `app` in the map; also the highest uid seen. Returns its uid or 0.
static uid_t
s_lookup (const char *text, const char *app, uid_t *highest)
{
    size_t alen = strlen (app);
    for (const char *line = text; *line;) {
        const char *nl = strchr (line, '\n');
        const char *space = memchr (line, ' ', nl ? (size_t) (nl - line) : strlen (line));
        if (space) {
            uid_t uid = (uid_t) strtoul (space + 1, NULL, 10);
            if (uid > *highest)
                *highest = uid;
            if ((size_t) (space - line) == alen && memcmp (line, app, alen) == 0)
                return uid;
        }
        if (!nl)
            break;
        line = nl + 1;
    }
    return 0;
}

//  Writes text + line to path atomically. Returns 0 or -errno.
static int
s_write_map (const char *path, const char *text, const char *line)
{
    char tmp [PATH_MAX], dir [PATH_MAX];
    snprintf (tmp, sizeof tmp, "%s.tmp", path);
    int fd = open (tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        return -errno;
    size_t tlen = strlen (text);
    bool newline = tlen && text [tlen - 1] != '\n';
    int rc = 0;
    if (write (fd, text, tlen) != (ssize_t) tlen || (newline && write (fd, "\n", 1) != 1)
        || write (fd, line, strlen (line)) != (ssize_t) strlen (line) || fsync (fd))
        rc = -errno;
    if (close (fd) && rc == 0)
        rc = -errno;
    if (rc == 0 && rename (tmp, path))
        rc = -errno;
    if (rc) {
        unlink (tmp);
        return rc;
    }
    snprintf (dir, sizeof dir, "%s", path);
    char *slash = strrchr (dir, '/');
    if (slash)
        *(slash == dir ? slash + 1 : slash) = 0;
    int dfd = open (slash ? dir : ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        fsync (dfd);
        close (dfd);
    }
    return 0;
}

int
sbx_app_uid (const char *map_path, const char *app, uid_t *uid, char *why, size_t why_len)
{
    size_t alen = app ? strlen (app) : 0;
    if (alen == 0 || alen > UID_APP_MAX || strpbrk (app, " \t\r\n")) {
        snprintf (why, why_len, "bad app name for a uid");
        return -1;
    }
    char *text = s_read_map (map_path);
    if (!text) {
        snprintf (why, why_len, "cannot read '%s': %s", map_path, strerror (errno));
        return -1;
    }
    uid_t base = s_base ();
    uid_t highest = base - 1;
    uid_t found = s_lookup (text, app, &highest);
    if (found) {
        free (text);
        *uid = found;
        return 0;
    }
    if (highest + 1 >= UID_MAX_ALLOWED) {
        free (text);
        snprintf (why, why_len, "no uid left for app '%s'", app);
        return -1;
    }
    char line [UID_APP_MAX + 32];
    snprintf (line, sizeof line, "%s %u\n", app, (unsigned) (highest + 1));
    int rc = s_write_map (map_path, text, line);
    free (text);
    if (rc) {
        snprintf (why, why_len, "cannot write '%s': %s", map_path, strerror (-rc));
        return -1;
    }
    *uid = highest + 1;
    return 0;
}
