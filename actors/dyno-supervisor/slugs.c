//  slugs - the slug cache: download, check, unpack once, prune
//
//  See slugs.h. Slugs are few (the apps with dynos on this host), so
//  lookups are linear. The bytes are asked for through fetch.c's request
//  table, which hands back each answer (or its silence) by slug key.

//  pipe2 and pidfd_open are GNU/Linux.
#define _GNU_SOURCE

#include "slugs.h"
#include "sandbox.h"
#include "sbx_fs.h"
#include "../common/act_archive.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define SUP_SHA_HEX         64
#define SUP_SLUG_ENTRIES    1000000     // entries a slug may hold

typedef enum { SL_FETCHING, SL_UNPACKING, SL_READY, SL_FAILED } s_slug_state_t;

typedef struct {
    sup_slugs_t *owner;         // the cache holding it
    char *key;                  // "app/sha"
    char *app;
    char sha [SUP_SHA_HEX + 1];
    s_slug_state_t state;
    char why [SUP_FETCH_WHY_LEN];
    int64_t failed_at;
    uid_t uid;
    gid_t gid;
    int fd;                     // the .part file while fetching
    char *part, *tgz, *tmp, *dir;
    EVP_MD_CTX *md;
    int64_t size;               // -1 until known
    int64_t next;               // first byte not yet asked for
    int64_t written;            // bytes written and hashed, in order
    json_t *early;              // offset (decimal) -> bytes that came before their turn
    pid_t pid;                  // unpacking child
    int pidfd;
    int why_fd;
} s_slug_t;

struct sup_slugs {
    char *root;
    sup_fetch_t *fetch;         // borrowed: the request table
    s_slug_t **slugs;
    size_t slug_count, slug_cap;
    pid_t *removers;            // children removing trashed folders
    size_t remover_count, remover_cap;
    uint64_t trash_n;
};

sup_slugs_t *
sup_slugs_new (const char *root, sup_fetch_t *fetch)
{
    sup_slugs_t *self = act_calloc (1, sizeof *self);
    self->root = act_strdup (root);
    self->fetch = fetch;
    return self;
}

// ---- the trash -------------------------------------------------------------

//  Moves `path` into the trash and removes it there in a child, so the
//  loop never waits for a big tree to go.
static void
s_trash (sup_slugs_t *self, const char *path)
{
    char *trash = act_sprintf ("%s/.trash", self->root);
    act_mkdir_p (trash, 0755);
    char *to = act_sprintf ("%s/%d-%llu", trash, (int) getpid (), (unsigned long long) self->trash_n++);
    free (trash);
    if (rename (path, to)) {
        free (to);
        return;
    }
    pid_t pid = fork ();
    if (pid == 0) {
        sbx_fs_remove (to);
        _exit (0);
    }
    free (to);
    if (pid < 0)
        return;
    if (self->remover_count == self->remover_cap) {
        self->remover_cap = self->remover_cap ? self->remover_cap * 2 : 8;
        self->removers = act_realloc (self->removers, self->remover_cap * sizeof *self->removers);
    }
    self->removers [self->remover_count++] = pid;
}

// ---- slugs -----------------------------------------------------------------

static s_slug_t *
s_slug_find (sup_slugs_t *self, const char *key)
{
    for (size_t i = 0; i < self->slug_count; i++)
        if (strcmp (self->slugs [i]->key, key) == 0)
            return self->slugs [i];
    return NULL;
}

static void
s_slug_close (sup_slugs_t *self, act_t *act, s_slug_t *slug)
{
    if (slug->fd >= 0)
        close (slug->fd);
    slug->fd = -1;
    if (slug->md)
        EVP_MD_CTX_free (slug->md);
    slug->md = NULL;
    json_decref (slug->early);
    slug->early = NULL;
    if (slug->pid > 0) {
        kill (slug->pid, SIGKILL);
        while (waitpid (slug->pid, NULL, 0) < 0 && errno == EINTR)
            ;
        slug->pid = 0;
    }
    if (slug->pidfd >= 0) {
        if (act)
            act_unwatch_fd (act, slug->pidfd);
        close (slug->pidfd);
        slug->pidfd = -1;
    }
    if (slug->why_fd >= 0)
        close (slug->why_fd);
    slug->why_fd = -1;
    sup_fetch_forget (self->fetch, slug->key);
}

static void
s_slug_free (s_slug_t *slug)
{
    free (slug->key);
    free (slug->app);
    free (slug->part);
    free (slug->tgz);
    free (slug->tmp);
    free (slug->dir);
    free (slug);
}

static void
s_slug_remove (sup_slugs_t *self, act_t *act, s_slug_t *slug)
{
    s_slug_close (self, act, slug);
    for (size_t i = 0; i < self->slug_count; i++)
        if (self->slugs [i] == slug) {
            self->slugs [i] = self->slugs [--self->slug_count];
            break;
        }
    s_slug_free (slug);
}

static void
s_slug_fail (sup_slugs_t *self, act_t *act, s_slug_t *slug, const char *why)
{
    act_log_warn ("slug %.12s of '%s': %s", slug->sha, slug->app, why);
    s_slug_close (self, act, slug);
    unlink (slug->part);
    unlink (slug->tgz);
    slug->state = SL_FAILED;
    slug->failed_at = act_mono_ms ();
    snprintf (slug->why, sizeof slug->why, "%s", why);
}

//  Keeps SUP_SLUG_WINDOW requests in flight until every byte is asked for.
static void
s_slug_ask_more (sup_slugs_t *self, act_t *act, s_slug_t *slug)
{
    int outstanding = sup_fetch_asked (self->fetch, slug->key);
    while (outstanding < SUP_SLUG_WINDOW) {
        if (slug->size < 0 ? slug->next > 0 : slug->next >= slug->size)
            break;              // size unknown: one request until the first answer
        int64_t len = SUP_SLUG_CHUNK;
        if (slug->size >= 0 && slug->size - slug->next < len)
            len = slug->size - slug->next;
        sup_fetch_ask_blob (self->fetch, act, slug->key, slug->app, slug->sha, slug->next, len, 1);
        slug->next += len;
        outstanding++;
    }
}

static void s_slug_unpack (sup_slugs_t *self, act_t *act, s_slug_t *slug);

//  Writes and hashes bytes at slug->written, then any early ones that follow.
static int
s_slug_append (s_slug_t *slug, const char *data, size_t len)
{
    int rc = act_write_all (slug->fd, data, len);
    if (rc)
        return rc;
    EVP_DigestUpdate (slug->md, data, len);
    slug->written += (int64_t) len;
    char key [32];
    json_t *next;
    while (snprintf (key, sizeof key, "%lld", (long long) slug->written),
           (next = json_object_get (slug->early, key))) {
        size_t n = json_string_length (next);
        if ((rc = act_write_all (slug->fd, json_string_value (next), n)))
            return rc;
        EVP_DigestUpdate (slug->md, json_string_value (next), n);
        slug->written += (int64_t) n;
        json_object_del (slug->early, key);
    }
    return 0;
}

static void
s_slug_finish (sup_slugs_t *self, act_t *act, s_slug_t *slug)
{
    unsigned char digest [EVP_MAX_MD_SIZE];
    unsigned int dlen = 0;
    EVP_DigestFinal_ex (slug->md, digest, &dlen);
    char hex [SUP_SHA_HEX + 1];
    for (unsigned i = 0; i < dlen && i < SUP_SHA_HEX / 2; i++)
        snprintf (hex + 2 * i, 3, "%02x", digest [i]);
    if (strcmp (hex, slug->sha) != 0) {
        s_slug_fail (self, act, slug, "the slug's SHA-256 does not match: download corrupt");
        return;
    }
    close (slug->fd);
    slug->fd = -1;
    if (rename (slug->part, slug->tgz)) {
        char why [SUP_FETCH_WHY_LEN];
        snprintf (why, sizeof why, "cannot rename '%s': %s", slug->part, strerror (errno));
        s_slug_fail (self, act, slug, why);
        return;
    }
    s_slug_unpack (self, act, slug);
}

static void
s_slug_on_chunk (sup_slugs_t *self, act_t *act, s_slug_t *slug, int64_t asked_offset,
                 int64_t asked_length, const msg_t *msg)
{
    const json_t *data = json_object_get (msg->body, "data");
    int64_t offset = msg_int (msg, "offset", -1), size = msg_int (msg, "size", -1);
    size_t len = json_string_length (data);
    if (strcmp (msg_str (msg, "blob", ""), slug->sha) != 0 || offset != asked_offset || size < 0
    ||  (int64_t) len > asked_length || offset + (int64_t) len > size
    ||  (slug->size >= 0 && size != slug->size)) {
        s_slug_fail (self, act, slug, "release-keeper answered blob.get with a chunk that does not fit");
        return;
    }
    if (slug->size < 0) {
        slug->size = size;
        if (slug->next > size)
            slug->next = size;
    }
    //  Fewer bytes than asked, before the end: ask for the rest.
    if ((int64_t) len < asked_length && offset + (int64_t) len < size) {
        int64_t rest = asked_length - (int64_t) len;
        if (offset + (int64_t) len + rest > size)
            rest = size - offset - (int64_t) len;
        sup_fetch_ask_blob (self->fetch, act, slug->key, slug->app, slug->sha,
                            offset + (int64_t) len, rest, 1);
    }
    int rc = 0;
    if (offset == slug->written)
        rc = s_slug_append (slug, json_string_value (data), len);
    else if (offset > slug->written) {
        char key [32];
        snprintf (key, sizeof key, "%lld", (long long) offset);
        json_object_set (slug->early, key, (json_t *) data);
    }
    if (rc) {
        char why [SUP_FETCH_WHY_LEN];
        snprintf (why, sizeof why, "cannot write '%s': %s", slug->part, act_strerror (rc));
        s_slug_fail (self, act, slug, why);
        return;
    }
    if (slug->written == slug->size)
        s_slug_finish (self, act, slug);
    else
        s_slug_ask_more (self, act, slug);
}

static void
s_slug_start (sup_slugs_t *self, act_t *act, s_slug_t *slug, int64_t size)
{
    char *app_dir = act_sprintf ("%s/%s", self->root, slug->app);
    int rc = act_mkdir_p (app_dir, 0755);
    free (app_dir);
    if (rc == 0) {
        slug->fd = open (slug->part, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        rc = slug->fd < 0 ? -errno : 0;
    }
    if (rc) {
        char why [SUP_FETCH_WHY_LEN];
        snprintf (why, sizeof why, "cannot create '%s': %s", slug->part, act_strerror (rc));
        s_slug_fail (self, act, slug, why);
        return;
    }
    slug->md = EVP_MD_CTX_new ();
    EVP_DigestInit_ex (slug->md, EVP_sha256 (), NULL);
    slug->early = json_object ();
    slug->size = size > 0 ? size : -1;
    slug->next = slug->written = 0;
    slug->state = SL_FETCHING;
    s_slug_ask_more (self, act, slug);
}

// ---- unpacking, in a child -------------------------------------------------

//  In the child: unpack, chown, rename into place. Never returns.
static void
s_unpack_child (const s_slug_t *slug, int why_fd)
{
    char why [ACT_ARCHIVE_WHY_MAX] = "";
    sbx_fs_remove (slug->tmp);
    if (mkdir (slug->tmp, 0755)) {
        snprintf (why, sizeof why, "cannot create '%s': %s", slug->tmp, strerror (errno));
        goto fail;
    }
    act_extract_opts_t opts = { .dest = slug->tmp, .max_entries = SUP_SLUG_ENTRIES };
    act_extract_t out;
    memset (&out, 0, sizeof out);
    if (act_archive_extract (slug->tgz, &opts, &out, why))
        goto fail;
    free (out.data);
    if (sbx_slug_chown (slug->tmp, slug->uid, slug->gid, why, sizeof why))
        goto fail;
    if (chmod (slug->tmp, 0755) || rename (slug->tmp, slug->dir)) {
        snprintf (why, sizeof why, "cannot put the slug in place: %s", strerror (errno));
        goto fail;
    }
    unlink (slug->tgz);
    _exit (0);
fail:
    if (write (why_fd, why, strlen (why)) < 0)
        _exit (2);
    sbx_fs_remove (slug->tmp);
    unlink (slug->tgz);
    _exit (1);
}

//  Reaps the unpacking child if it ended.
static void
s_slug_reap (sup_slugs_t *self, act_t *act, s_slug_t *slug)
{
    int status;
    pid_t rc = waitpid (slug->pid, &status, WNOHANG);
    if (rc == 0 || (rc < 0 && errno == EINTR))
        return;
    slug->pid = 0;
    char why [SUP_FETCH_WHY_LEN] = "";
    ssize_t n = read (slug->why_fd, why, sizeof why - 1);
    why [n > 0 ? n : 0] = 0;
    if (rc > 0 && WIFEXITED (status) && WEXITSTATUS (status) == 0) {
        s_slug_close (self, act, slug);
        slug->state = SL_READY;
        act_log_info ("slug %.12s of '%s' unpacked", slug->sha, slug->app);
    }
    else {
        char line [SUP_FETCH_WHY_LEN + 32];
        snprintf (line, sizeof line, "cannot unpack the slug: %s", why [0] ? why : "the unpacker died");
        s_slug_fail (self, act, slug, line);
    }
}

static void
s_on_unpacked (void *state, act_t *act, int fd, void *arg)
{
    (void) state;
    (void) fd;
    s_slug_t *slug = arg;
    //  Valid: s_slug_close unwatches the pidfd before a slug is freed.
    if (slug->pid > 0)
        s_slug_reap (slug->owner, act, slug);
}

static void
s_slug_unpack (sup_slugs_t *self, act_t *act, s_slug_t *slug)
{
    int pipefd [2];
    if (pipe2 (pipefd, O_CLOEXEC | O_NONBLOCK)) {
        s_slug_fail (self, act, slug, "cannot make a pipe for the unpacker");
        return;
    }
    pid_t pid = fork ();
    if (pid == 0) {
        close (pipefd [0]);
        s_unpack_child (slug, pipefd [1]);
    }
    close (pipefd [1]);
    if (pid < 0) {
        close (pipefd [0]);
        s_slug_fail (self, act, slug, "cannot fork the unpacker");
        return;
    }
    slug->pid = pid;
    slug->why_fd = pipefd [0];
    slug->state = SL_UNPACKING;
    //  The pidfd only wakes the loop; the tick reaps.
    slug->pidfd = pidfd_open (pid, 0);
    if (slug->pidfd >= 0 && act_watch_fd (act, slug->pidfd, s_on_unpacked, slug)) {
        close (slug->pidfd);
        slug->pidfd = -1;
    }
}

// ---- the API ---------------------------------------------------------------

// ---- the API ---------------------------------------------------------------

sup_fetch_status_t
sup_slugs_get (sup_slugs_t *self, act_t *act, const char *app, const char *sha, int64_t size,
               uid_t uid, gid_t gid, const char **dir_p, char *why, size_t why_len)
{
    char *key = act_sprintf ("%s/%s", app, sha);
    s_slug_t *slug = s_slug_find (self, key);
    if (slug && slug->state == SL_FAILED) {
        snprintf (why, why_len, "%s", slug->why);
        if (act_mono_ms () - slug->failed_at >= SUP_FETCH_HOLD_MS)
            s_slug_remove (self, act, slug);
        free (key);
        return SUP_FETCH_FAILED;
    }
    if (!slug) {
        slug = act_calloc (1, sizeof *slug);
        slug->owner = self;
        slug->key = key;
        key = NULL;
        slug->app = act_strdup (app);
        snprintf (slug->sha, sizeof slug->sha, "%s", sha);
        slug->fd = slug->pidfd = slug->why_fd = -1;
        slug->uid = uid;
        slug->gid = gid;
        slug->part = act_sprintf ("%s/%s/%s.tar.gz.part", self->root, app, sha);
        slug->tgz = act_sprintf ("%s/%s/%s.tar.gz", self->root, app, sha);
        slug->tmp = act_sprintf ("%s/%s/%s.tmp", self->root, app, sha);
        slug->dir = act_sprintf ("%s/%s/%s", self->root, app, sha);
        if (self->slug_count == self->slug_cap) {
            self->slug_cap = self->slug_cap ? self->slug_cap * 2 : 8;
            self->slugs = act_realloc (self->slugs, self->slug_cap * sizeof *self->slugs);
        }
        self->slugs [self->slug_count++] = slug;
        struct stat st;
        //  A folder in place is whole (renamed there after unpacking).
        if (stat (slug->dir, &st) == 0 && S_ISDIR (st.st_mode) && st.st_uid == uid)
            slug->state = SL_READY;
        else
            s_slug_start (self, act, slug, size);
    }
    free (key);
    if (slug->state == SL_READY) {
        *dir_p = slug->dir;
        return SUP_FETCH_READY;
    }
    if (slug->state == SL_FAILED) {
        snprintf (why, why_len, "%s", slug->why);
        return SUP_FETCH_FAILED;
    }
    return SUP_FETCH_PENDING;
}

void
sup_slugs_on_answer (sup_slugs_t *self, act_t *act, const char *key, int64_t offset,
                     int64_t length, const msg_t *msg)
{
    s_slug_t *slug = s_slug_find (self, key);
    if (!slug || slug->state != SL_FETCHING)
        return;
    if (msg->type->id == MSG_TYPE_ERROR) {
        char why [SUP_FETCH_WHY_LEN];
        snprintf (why, sizeof why, "cannot fetch the slug: %s", msg_str (msg, "reason", "error"));
        s_slug_fail (self, act, slug, why);
    }
    else if (msg->type->id != MSG_TYPE_BLOB_CHUNK)
        s_slug_fail (self, act, slug, "release-keeper answered blob.get with something else");
    else
        s_slug_on_chunk (self, act, slug, offset, length, msg);
}

void
sup_slugs_on_silence (sup_slugs_t *self, act_t *act, const char *key, int64_t offset,
                      int64_t length, int tries)
{
    s_slug_t *slug = s_slug_find (self, key);
    if (!slug || slug->state != SL_FETCHING)
        return;
    if (tries >= SUP_FETCH_TRIES)
        s_slug_fail (self, act, slug, "release-keeper does not answer blob.get");
    else
        sup_fetch_ask_blob (self->fetch, act, slug->key, slug->app, slug->sha, offset, length, tries + 1);
}

void
sup_slugs_tick (sup_slugs_t *self, act_t *act)
{
    for (size_t i = 0; i < self->slug_count; i++)
        if (self->slugs [i]->state == SL_UNPACKING && self->slugs [i]->pid > 0)
            s_slug_reap (self, act, self->slugs [i]);
    for (size_t i = 0; i < self->remover_count; )
        if (waitpid (self->removers [i], NULL, WNOHANG) != 0)
            self->removers [i] = self->removers [--self->remover_count];
        else
            i++;
}

int64_t
sup_slugs_deadline (const sup_slugs_t *self)
{
    //  Removers have no pidfd: they are reaped on a slow poll.
    return self->remover_count ? act_mono_ms () + 200 : INT64_MAX;
}

//  True when `name` (an entry of an app's slug folder) belongs to a kept
//  sha or to a slug in the table.
static bool
s_entry_kept (sup_slugs_t *self, const char *app, const char *name, const json_t *keep)
{
    if (strlen (name) < SUP_SHA_HEX)
        return false;
    char sha [SUP_SHA_HEX + 1];
    memcpy (sha, name, SUP_SHA_HEX);
    sha [SUP_SHA_HEX] = 0;
    if (json_object_get (keep, sha))
        return true;
    char *key = act_sprintf ("%s/%s", app, sha);
    bool found = s_slug_find (self, key) != NULL;
    free (key);
    return found;
}

void
sup_slugs_prune (sup_slugs_t *self, act_t *act, const char *app, const json_t *keep)
{
    for (size_t i = 0; i < self->slug_count; ) {
        s_slug_t *slug = self->slugs [i];
        if (strcmp (slug->app, app) != 0 || json_object_get (keep, slug->sha)) {
            i++;
            continue;
        }
        s_slug_remove (self, act, slug);
    }
    char *dir = act_sprintf ("%s/%s", self->root, app);
    DIR *d = opendir (dir);
    struct dirent *e;
    while (d && (e = readdir (d))) {
        if (e->d_name [0] == '.' || s_entry_kept (self, app, e->d_name, keep))
            continue;
        char *path = act_sprintf ("%s/%s", dir, e->d_name);
        s_trash (self, path);
        free (path);
    }
    if (d)
        closedir (d);
    free (dir);
}

void
sup_slugs_destroy (sup_slugs_t **self_p, act_t *act)
{
    sup_slugs_t *self = *self_p;
    if (!self)
        return;
    while (self->slug_count)
        s_slug_remove (self, act, self->slugs [0]);
    free (self->slugs);
    for (size_t i = 0; i < self->remover_count; i++)
        while (waitpid (self->removers [i], NULL, 0) < 0 && errno == EINTR)
            ;
    free (self->removers);
    free (self->root);
    free (self);
    *self_p = NULL;
}
