//  fetch - what a dyno needs before it starts: its slug and its config
//
//  See fetch.h. Requests in flight are a small table keyed by message id
//  (an answer's corr); slugs and configs are few (the apps with dynos on
//  this host), so lookups are linear.

//  pipe2 and pidfd_open are GNU/Linux.
#define _GNU_SOURCE

#include "fetch.h"
#include "sandbox.h"
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
#define SUP_FETCH_TRIES     6           // sends of one request before giving up
#define SUP_FAIL_HOLD_MS    1000        // a failure is told to every asker this long
#define SUP_SLUG_ENTRIES    1000000     // entries a slug may hold
#define SUP_WHY_LEN         320

typedef enum { K_SLUG, K_CONFIG } s_kind_t;
typedef enum { SL_FETCHING, SL_UNPACKING, SL_READY, SL_FAILED } s_slug_state_t;

typedef struct {
    char id [MSG_ID_LEN + 1];
    s_kind_t kind;
    char *key;                  // "app/sha" or "app/version"
    char *app;
    int64_t offset, length;     // slugs
    int64_t version;            // configs
    int64_t deadline;           // mono ms
    int tries;
} s_pending_t;

typedef struct sup_fetch sup_fetch_t;

typedef struct {
    sup_fetch_t *owner;         // the cache holding it
    char *key;                  // "app/sha"
    char *app;
    char sha [SUP_SHA_HEX + 1];
    s_slug_state_t state;
    char why [SUP_WHY_LEN];
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

struct sup_fetch {
    char *root;
    s_slug_t **slugs;
    size_t slug_count, slug_cap;
    s_pending_t *pending;
    size_t pending_count, pending_cap;
    json_t *configs;            // "app/version" -> vars
    json_t *config_failed;      // "app/version" -> {why, at}
    json_t *empty;              // the vars of version 0
    pid_t *removers;            // children removing trashed folders
    size_t remover_count, remover_cap;
    uint64_t trash_n;
};

sup_fetch_t *
sup_fetch_new (const char *slug_root)
{
    sup_fetch_t *self = act_calloc (1, sizeof *self);
    self->root = act_strdup (slug_root);
    self->configs = json_object ();
    self->config_failed = json_object ();
    self->empty = json_object ();
    return self;
}

// ---- pending requests ------------------------------------------------------

static s_pending_t *
s_pending_add (sup_fetch_t *self, const char *id, s_kind_t kind, const char *key, const char *app)
{
    if (self->pending_count == self->pending_cap) {
        self->pending_cap = self->pending_cap ? self->pending_cap * 2 : 16;
        self->pending = act_realloc (self->pending, self->pending_cap * sizeof *self->pending);
    }
    s_pending_t *p = &self->pending [self->pending_count++];
    memset (p, 0, sizeof *p);
    snprintf (p->id, sizeof p->id, "%s", id);
    p->kind = kind;
    p->key = act_strdup (key);
    p->app = act_strdup (app);
    return p;
}

static void
s_pending_drop (sup_fetch_t *self, size_t i)
{
    free (self->pending [i].key);
    free (self->pending [i].app);
    self->pending [i] = self->pending [--self->pending_count];
}

static bool
s_pending_has (const sup_fetch_t *self, s_kind_t kind, const char *key)
{
    for (size_t i = 0; i < self->pending_count; i++)
        if (self->pending [i].kind == kind && strcmp (self->pending [i].key, key) == 0)
            return true;
    return false;
}

static void
s_pending_drop_key (sup_fetch_t *self, s_kind_t kind, const char *key)
{
    for (size_t i = 0; i < self->pending_count; )
        if (self->pending [i].kind == kind && strcmp (self->pending [i].key, key) == 0)
            s_pending_drop (self, i);
        else
            i++;
}

// ---- folders ---------------------------------------------------------------

//  Applies fn to every entry under the folder `dirfd` (consumed), children
//  before their folder; `depth` bounds the recursion.
typedef void (s_walk_fn) (int dirfd, const char *name, bool is_dir, uid_t uid, gid_t gid);

static void
s_walk (int dirfd, s_walk_fn *fn, uid_t uid, gid_t gid, int depth)
{
    DIR *dir = fdopendir (dirfd);
    if (!dir) {
        close (dirfd);
        return;
    }
    struct dirent *e;
    while ((e = readdir (dir))) {
        if (strcmp (e->d_name, ".") == 0 || strcmp (e->d_name, "..") == 0)
            continue;
        struct stat st;
        if (fstatat (dirfd, e->d_name, &st, AT_SYMLINK_NOFOLLOW))
            continue;
        bool is_dir = S_ISDIR (st.st_mode);
        if (is_dir && depth > 0) {
            int sub = openat (dirfd, e->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
            if (sub >= 0)
                s_walk (sub, fn, uid, gid, depth - 1);
        }
        fn (dirfd, e->d_name, is_dir, uid, gid);
    }
    closedir (dir);
}

static void
s_remove_entry (int dirfd, const char *name, bool is_dir, uid_t uid, gid_t gid)
{
    (void) uid;
    (void) gid;
    unlinkat (dirfd, name, is_dir ? AT_REMOVEDIR : 0);
}

#define SUP_WALK_DEPTH 256

//  rm -rf `path` (blocking: only in children, or on small leftovers).
static void
s_remove_tree (const char *path)
{
    int fd = open (path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd >= 0) {
        s_walk (fd, s_remove_entry, 0, 0, SUP_WALK_DEPTH);
        rmdir (path);
    }
    else
        unlink (path);
}

static int
s_mkdirs (const char *path)
{
    char *copy = act_strdup (path);
    for (char *p = copy + 1; *p; p++)
        if (*p == '/') {
            *p = 0;
            mkdir (copy, 0755);
            *p = '/';
        }
    int rc = mkdir (copy, 0755) == 0 || errno == EEXIST ? 0 : -errno;
    free (copy);
    return rc;
}

//  Moves `path` into the trash and removes it there in a child, so the
//  loop never waits for a big tree to go.
static void
s_trash (sup_fetch_t *self, const char *path)
{
    char *trash = act_sprintf ("%s/.trash", self->root);
    s_mkdirs (trash);
    char *to = act_sprintf ("%s/%d-%llu", trash, (int) getpid (), (unsigned long long) self->trash_n++);
    free (trash);
    if (rename (path, to)) {
        free (to);
        return;
    }
    pid_t pid = fork ();
    if (pid == 0) {
        s_remove_tree (to);
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
s_slug_find (sup_fetch_t *self, const char *key)
{
    for (size_t i = 0; i < self->slug_count; i++)
        if (strcmp (self->slugs [i]->key, key) == 0)
            return self->slugs [i];
    return NULL;
}

static void
s_slug_close (sup_fetch_t *self, act_t *act, s_slug_t *slug)
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
    s_pending_drop_key (self, K_SLUG, slug->key);
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
s_slug_remove (sup_fetch_t *self, act_t *act, s_slug_t *slug)
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
s_slug_fail (sup_fetch_t *self, act_t *act, s_slug_t *slug, const char *why)
{
    act_log_warn ("slug %.12s of '%s': %s", slug->sha, slug->app, why);
    s_slug_close (self, act, slug);
    unlink (slug->part);
    unlink (slug->tgz);
    slug->state = SL_FAILED;
    slug->failed_at = act_mono_ms ();
    snprintf (slug->why, sizeof slug->why, "%s", why);
}

static void
s_slug_send (sup_fetch_t *self, act_t *act, s_slug_t *slug, int64_t offset, int64_t length, int tries)
{
    msg_t *req = act_msg_new (act, MSG_TYPE_BLOB_GET, "release-keeper");
    msg_set_str (req, "blob", slug->sha);
    msg_set_int (req, "offset", offset);
    msg_set_int (req, "length", length);
    s_pending_t *p = s_pending_add (self, req->id, K_SLUG, slug->key, slug->app);
    p->offset = offset;
    p->length = length;
    p->tries = tries;
    p->deadline = act_mono_ms () + SUP_FETCH_TIMEOUT_MS;
    //  A failed send is sent again at the deadline.
    act_send (act, &req);
}

static int
s_slug_outstanding (const sup_fetch_t *self, const s_slug_t *slug)
{
    int n = 0;
    for (size_t i = 0; i < self->pending_count; i++)
        n += self->pending [i].kind == K_SLUG && strcmp (self->pending [i].key, slug->key) == 0;
    return n;
}

//  Keeps SUP_SLUG_WINDOW requests in flight until every byte is asked for.
static void
s_slug_ask_more (sup_fetch_t *self, act_t *act, s_slug_t *slug)
{
    int outstanding = s_slug_outstanding (self, slug);
    while (outstanding < SUP_SLUG_WINDOW) {
        if (slug->size < 0 ? slug->next > 0 : slug->next >= slug->size)
            break;              // size unknown: one request until the first answer
        int64_t len = SUP_SLUG_CHUNK;
        if (slug->size >= 0 && slug->size - slug->next < len)
            len = slug->size - slug->next;
        s_slug_send (self, act, slug, slug->next, len, 1);
        slug->next += len;
        outstanding++;
    }
}

static void s_slug_unpack (sup_fetch_t *self, act_t *act, s_slug_t *slug);

static int
s_write_all (int fd, const char *data, size_t len)
{
    while (len > 0) {
        ssize_t n = write (fd, data, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -errno;
        data += n;
        len -= (size_t) n;
    }
    return 0;
}

//  Writes and hashes bytes at slug->written, then any early ones that follow.
static int
s_slug_append (s_slug_t *slug, const char *data, size_t len)
{
    int rc = s_write_all (slug->fd, data, len);
    if (rc)
        return rc;
    EVP_DigestUpdate (slug->md, data, len);
    slug->written += (int64_t) len;
    char key [32];
    json_t *next;
    while (snprintf (key, sizeof key, "%lld", (long long) slug->written),
           (next = json_object_get (slug->early, key))) {
        size_t n = json_string_length (next);
        if ((rc = s_write_all (slug->fd, json_string_value (next), n)))
            return rc;
        EVP_DigestUpdate (slug->md, json_string_value (next), n);
        slug->written += (int64_t) n;
        json_object_del (slug->early, key);
    }
    return 0;
}

static void
s_slug_finish (sup_fetch_t *self, act_t *act, s_slug_t *slug)
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
        char why [SUP_WHY_LEN];
        snprintf (why, sizeof why, "cannot rename '%s': %s", slug->part, strerror (errno));
        s_slug_fail (self, act, slug, why);
        return;
    }
    s_slug_unpack (self, act, slug);
}

static void
s_slug_on_chunk (sup_fetch_t *self, act_t *act, s_slug_t *slug, const s_pending_t *p, const msg_t *msg)
{
    const json_t *data = json_object_get (msg->body, "data");
    int64_t offset = msg_int (msg, "offset", -1), size = msg_int (msg, "size", -1);
    size_t len = json_string_length (data);
    if (strcmp (msg_str (msg, "blob", ""), slug->sha) != 0 || offset != p->offset || size < 0
    ||  (int64_t) len > p->length || offset + (int64_t) len > size
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
    if ((int64_t) len < p->length && offset + (int64_t) len < size) {
        int64_t rest = p->length - (int64_t) len;
        if (offset + (int64_t) len + rest > size)
            rest = size - offset - (int64_t) len;
        s_slug_send (self, act, slug, offset + (int64_t) len, rest, 1);
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
        char why [SUP_WHY_LEN];
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
s_slug_start (sup_fetch_t *self, act_t *act, s_slug_t *slug, int64_t size)
{
    char *app_dir = act_sprintf ("%s/%s", self->root, slug->app);
    int rc = s_mkdirs (app_dir);
    free (app_dir);
    slug->fd = rc ? -1 : open (slug->part, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (slug->fd < 0) {
        char why [SUP_WHY_LEN];
        snprintf (why, sizeof why, "cannot create '%s': %s", slug->part, strerror (errno));
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
    s_remove_tree (slug->tmp);
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
    s_remove_tree (slug->tmp);
    unlink (slug->tgz);
    _exit (1);
}

//  Reaps the unpacking child if it ended.
static void
s_slug_reap (sup_fetch_t *self, act_t *act, s_slug_t *slug)
{
    int status;
    pid_t rc = waitpid (slug->pid, &status, WNOHANG);
    if (rc == 0 || (rc < 0 && errno == EINTR))
        return;
    slug->pid = 0;
    char why [SUP_WHY_LEN] = "";
    ssize_t n = read (slug->why_fd, why, sizeof why - 1);
    why [n > 0 ? n : 0] = 0;
    if (rc > 0 && WIFEXITED (status) && WEXITSTATUS (status) == 0) {
        s_slug_close (self, act, slug);
        slug->state = SL_READY;
        act_log_info ("slug %.12s of '%s' unpacked", slug->sha, slug->app);
    }
    else {
        char line [SUP_WHY_LEN + 32];
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
s_slug_unpack (sup_fetch_t *self, act_t *act, s_slug_t *slug)
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

sup_fetch_status_t
sup_fetch_slug (sup_fetch_t *self, act_t *act, const char *app, const char *sha, int64_t size,
                uid_t uid, gid_t gid, const char **dir_p, char *why, size_t why_len)
{
    char *key = act_sprintf ("%s/%s", app, sha);
    s_slug_t *slug = s_slug_find (self, key);
    if (slug && slug->state == SL_FAILED) {
        snprintf (why, why_len, "%s", slug->why);
        if (act_mono_ms () - slug->failed_at >= SUP_FAIL_HOLD_MS)
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

static void
s_config_send (sup_fetch_t *self, act_t *act, const char *app, int64_t version, const char *key, int tries)
{
    msg_t *req = act_msg_new (act, MSG_TYPE_CONFIG_GET, "config-keeper");
    msg_set_str (req, "app", app);
    msg_set_int (req, "version", version);
    s_pending_t *p = s_pending_add (self, req->id, K_CONFIG, key, app);
    p->version = version;
    p->tries = tries;
    p->deadline = act_mono_ms () + SUP_FETCH_TIMEOUT_MS;
    act_send (act, &req);
}

sup_fetch_status_t
sup_fetch_config (sup_fetch_t *self, act_t *act, const char *app, int64_t version,
                  const json_t **vars_p, char *why, size_t why_len)
{
    if (version <= 0) {
        *vars_p = self->empty;
        return SUP_FETCH_READY;
    }
    char key [160];
    snprintf (key, sizeof key, "%s/%lld", app, (long long) version);
    json_t *vars = json_object_get (self->configs, key);
    if (vars) {
        *vars_p = vars;
        return SUP_FETCH_READY;
    }
    json_t *failed = json_object_get (self->config_failed, key);
    if (failed) {
        snprintf (why, why_len, "%s", json_string_value (json_object_get (failed, "why")));
        if (act_mono_ms () - json_integer_value (json_object_get (failed, "at")) >= SUP_FAIL_HOLD_MS)
            json_object_del (self->config_failed, key);
        return SUP_FETCH_FAILED;
    }
    if (!s_pending_has (self, K_CONFIG, key))
        s_config_send (self, act, app, version, key, 1);
    return SUP_FETCH_PENDING;
}

static void
s_config_fail (sup_fetch_t *self, const char *key, const char *why)
{
    act_log_warn ("config vars %s: %s", key, why);
    json_object_set_new (self->config_failed, key,
                         json_pack ("{s:s, s:I}", "why", why, "at", (json_int_t) act_mono_ms ()));
}

bool
sup_fetch_on_reply (sup_fetch_t *self, act_t *act, const msg_t *msg)
{
    size_t i;
    for (i = 0; i < self->pending_count; i++)
        if (strcmp (self->pending [i].id, msg->corr) == 0)
            break;
    if (i == self->pending_count)
        return false;
    s_pending_t p = self->pending [i];
    p.key = act_strdup (p.key);
    p.app = act_strdup (p.app);
    s_pending_drop (self, i);
    bool error = msg->type->id == MSG_TYPE_ERROR;
    char why [SUP_WHY_LEN];
    if (p.kind == K_CONFIG) {
        json_t *vars = json_object_get (msg->body, "vars");
        if (error) {
            snprintf (why, sizeof why, "cannot get config vars: %s", msg_str (msg, "reason", "error"));
            s_config_fail (self, p.key, why);
        }
        else if (msg->type->id != MSG_TYPE_CONFIG_VARS || !json_is_object (vars)
             ||  msg_int (msg, "version", -1) != p.version)
            s_config_fail (self, p.key, "config-keeper answered config.get with other vars");
        else
            json_object_set (self->configs, p.key, vars);
    }
    else {
        s_slug_t *slug = s_slug_find (self, p.key);
        if (slug && slug->state == SL_FETCHING) {
            if (error) {
                snprintf (why, sizeof why, "cannot fetch the slug: %s", msg_str (msg, "reason", "error"));
                s_slug_fail (self, act, slug, why);
            }
            else if (msg->type->id != MSG_TYPE_BLOB_CHUNK)
                s_slug_fail (self, act, slug, "release-keeper answered blob.get with something else");
            else
                s_slug_on_chunk (self, act, slug, &p, msg);
        }
    }
    free (p.key);
    free (p.app);
    return true;
}

void
sup_fetch_tick (sup_fetch_t *self, act_t *act, int64_t mono)
{
    for (size_t i = 0; i < self->pending_count; ) {
        if (self->pending [i].deadline > mono) {
            i++;
            continue;
        }
        s_pending_t p = self->pending [i];
        p.key = act_strdup (p.key);
        p.app = act_strdup (p.app);
        s_pending_drop (self, i);
        if (p.kind == K_CONFIG) {
            if (p.tries >= SUP_FETCH_TRIES)
                s_config_fail (self, p.key, "config-keeper does not answer config.get");
            else
                s_config_send (self, act, p.app, p.version, p.key, p.tries + 1);
        }
        else {
            s_slug_t *slug = s_slug_find (self, p.key);
            if (slug && slug->state == SL_FETCHING) {
                if (p.tries >= SUP_FETCH_TRIES)
                    s_slug_fail (self, act, slug, "release-keeper does not answer blob.get");
                else
                    s_slug_send (self, act, slug, p.offset, p.length, p.tries + 1);
            }
        }
        free (p.key);
        free (p.app);
        i = 0;                  // the table changed under us: start over
    }
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
sup_fetch_deadline (const sup_fetch_t *self)
{
    int64_t next = INT64_MAX;
    for (size_t i = 0; i < self->pending_count; i++)
        if (self->pending [i].deadline < next)
            next = self->pending [i].deadline;
    //  Unpacking children and removers are reaped on a slow poll too, in
    //  case pidfd_open is missing.
    if (self->remover_count)
        next = next < act_mono_ms () + 200 ? next : act_mono_ms () + 200;
    return next;
}

//  True when `name` (an entry of an app's slug folder) belongs to a used
//  sha or to a slug in the table.
static bool
s_entry_kept (sup_fetch_t *self, const char *app, const char *name, const json_t *slugs)
{
    if (strlen (name) < SUP_SHA_HEX)
        return false;
    char sha [SUP_SHA_HEX + 1];
    memcpy (sha, name, SUP_SHA_HEX);
    sha [SUP_SHA_HEX] = 0;
    if (json_object_get (slugs, sha))
        return true;
    char *key = act_sprintf ("%s/%s", app, sha);
    bool found = s_slug_find (self, key) != NULL;
    free (key);
    return found;
}

void
sup_fetch_prune (sup_fetch_t *self, act_t *act, const char *app, const json_t *slugs,
                 const json_t *versions)
{
    for (size_t i = 0; i < self->slug_count; ) {
        s_slug_t *slug = self->slugs [i];
        if (strcmp (slug->app, app) != 0 || json_object_get (slugs, slug->sha)) {
            i++;
            continue;
        }
        s_slug_remove (self, act, slug);
    }
    char *dir = act_sprintf ("%s/%s", self->root, app);
    DIR *d = opendir (dir);
    struct dirent *e;
    while (d && (e = readdir (d))) {
        if (e->d_name [0] == '.' || s_entry_kept (self, app, e->d_name, slugs))
            continue;
        char *path = act_sprintf ("%s/%s", dir, e->d_name);
        s_trash (self, path);
        free (path);
    }
    if (d)
        closedir (d);
    free (dir);
    const char *key;
    json_t *vars, *tmp;
    size_t alen = strlen (app);
    json_object_foreach_safe (self->configs, tmp, key, vars) {
        if (strncmp (key, app, alen) == 0 && key [alen] == '/' && !json_object_get (versions, key + alen + 1))
            json_object_del (self->configs, key);
    }
}

void
sup_fetch_destroy (sup_fetch_t **self_p, act_t *act)
{
    sup_fetch_t *self = *self_p;
    if (!self)
        return;
    while (self->slug_count)
        s_slug_remove (self, act, self->slugs [0]);
    free (self->slugs);
    while (self->pending_count)
        s_pending_drop (self, 0);
    free (self->pending);
    for (size_t i = 0; i < self->remover_count; i++)
        while (waitpid (self->removers [i], NULL, 0) < 0 && errno == EINTR)
            ;
    free (self->removers);
    json_decref (self->configs);
    json_decref (self->config_failed);
    json_decref (self->empty);
    free (self->root);
    free (self);
    *self_p = NULL;
}
