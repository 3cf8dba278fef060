//  test_rel_deploy - unit tests for release-keeper's upload, blob store and
//  archive checks (actors/release-keeper/upload.h, blobs.h, archive.h)
//
//  Uploads driven directly: chunks in order land as a blob under their
//  SHA-256 (the same content twice is one blob); a wrong hash (`upload
//  corrupt: sha256 mismatch`), a short upload (`upload truncated: got X of
//  Y bytes`), an out-of-order chunk and an upload over its limit are each
//  refused with their reason and leave no blob and no temp file.
//  Archives built here with libarchive: a good one is checked without
//  extracting (its Procfile read) and extracted; hostile ones (`..`,
//  absolute paths, symlinks out directly and through other symlinks,
//  entries through a symlink, hard links out, device nodes, FIFOs) and
//  corrupt or truncated ones are refused with one line naming the entry,
//  and extracting them writes nothing outside the folder; so is a hard link
//  to a symlink that is then replaced (the symlink `a` -> /etc, `h` a hard
//  link to it, `a` again as a file), and archives over a byte or entry cap.
//  A folder written as a slug reads back with the same files and its hash
//  is its address.
//  Build processes (build.h) run real programs: a flood of output is read
//  at most REL_BUILD_READ_MAX bytes per call, capped at REL_BUILD_LINES_MAX
//  lines (or REL_BUILD_OUTPUT_MAX bytes) and one truncation line while the
//  rest is drained, so the program ends; a read error is told apart from
//  the end of output; the program leads its own session. A build's result
//  is checked before it is trusted (slug stored, size, process types).
//  buildpacks.set, driven offline, accepts or refuses on the message alone.

#include "unit.h"
#include "offline.h"
#include "../../actors/release-keeper/archive.h"
#include "../../actors/release-keeper/blobs.h"
#include "../../actors/release-keeper/build.h"
#include "../../actors/release-keeper/rel_state.h"
#include "../../actors/release-keeper/release-keeper.h"
#include "../../actors/release-keeper/upload.h"
#include "../../actors/common/act_base.h"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

//  The SHA-256 of `len` bytes, as hex.
static void
s_sha (const void *data, size_t len, char hex [REL_SHA_HEX + 1])
{
    rel_sha_t *sha = rel_sha_new ();
    rel_sha_update (sha, data, len);
    rel_sha_final (sha, hex);
    rel_sha_destroy (&sha);
}

//  Files in <store>/tmp (temp files left behind).
static int
s_temp_files (const char *store)
{
    char path [512];
    snprintf (path, sizeof path, "%s/tmp", store);
    DIR *d = opendir (path);
    int n = 0;
    struct dirent *e;
    while (d && (e = readdir (d)) != NULL)
        n += e->d_name [0] != '.';
    if (d)
        closedir (d);
    return n;
}

static char *
s_store (void)
{
    static char store [512];
    snprintf (store, sizeof store, "%s/blobs", unit_tmpdir ());
    return store;
}

static void
test_upload_good (void)
{
    const char *store = s_store ();
    char data [3000];
    for (size_t i = 0; i < sizeof data; i++)
        data [i] = (char) (i * 7);
    char want [REL_SHA_HEX + 1], blob [REL_SHA_HEX + 1], why [REL_UPLOAD_WHY_MAX];
    s_sha (data, sizeof data, want);
    for (int round = 0; round < 2; round++) {
        int rc;
        rel_upload_t *up = rel_upload_new (store, 10000, &rc);
        CHECK_NOT_NULL (up);
        CHECK_OK (rel_upload_append (up, 0, data, 1000, why));
        CHECK_OK (rel_upload_append (up, 1000, data + 1000, 2000, why));
        CHECK_EQ (rel_upload_received (up), 3000);
        CHECK_OK (rel_upload_finish (up, 3000, want, blob, why));
        CHECK_STR_EQ (blob, want);
        rel_upload_destroy (&up);
        CHECK_NULL (up);
    }
    int64_t size = 0;
    CHECK (rel_blob_exists (store, want, &size));
    CHECK_EQ (size, 3000);
    CHECK_EQ (s_temp_files (store), 0);
    char *path = rel_blob_path (store, want);
    char *got;
    size_t len;
    CHECK_OK (act_read_file (path, &got, &len));
    CHECK_EQ (len, 3000);
    CHECK (memcmp (got, data, len) == 0);
    free (got);
    free (path);
}

//  An upload of "hello world" finished with (size, sha): refused with `want`.
static void
s_upload_refused (int64_t size, const char *sha, const char *want)
{
    const char *store = s_store ();
    char blob [REL_SHA_HEX + 1], why [REL_UPLOAD_WHY_MAX] = "";
    int rc;
    rel_upload_t *up = rel_upload_new (store, 100, &rc);
    CHECK_OK (rel_upload_append (up, 0, "hello world", 11, why));
    CHECK (rel_upload_finish (up, size, sha, blob, why) < 0);
    if (strcmp (why, want) != 0)
        UNIT_FAIL ("reason '%s', wanted '%s'", why, want);
    //  Finished: no more chunks.
    CHECK (rel_upload_append (up, 11, "x", 1, why) < 0);
    rel_upload_destroy (&up);
    CHECK_EQ (s_temp_files (store), 0);
    CHECK (!rel_blob_exists (store, sha, NULL));
}

static void
test_upload_corrupt_and_truncated (void)
{
    char good [REL_SHA_HEX + 1], other [REL_SHA_HEX + 1];
    s_sha ("hello world", 11, good);
    s_sha ("hello worle", 11, other);
    s_upload_refused (11, other, "upload corrupt: sha256 mismatch");
    s_upload_refused (11, "not a hash", "upload corrupt: sha256 mismatch");
    s_upload_refused (20, good, "upload truncated: got 11 of 20 bytes");
    CHECK (!rel_blob_exists (s_store (), good, NULL));
}

static void
test_upload_order_and_limit (void)
{
    const char *store = s_store ();
    char why [REL_UPLOAD_WHY_MAX];
    int rc;
    rel_upload_t *up = rel_upload_new (store, 10, &rc);
    CHECK_OK (rel_upload_append (up, 0, "abcd", 4, why));
    CHECK (rel_upload_append (up, 2, "efgh", 4, why) < 0);
    CHECK (strstr (why, "out of order: offset 2, expected 4") != NULL);
    CHECK (rel_upload_append (up, 4, "efghijklm", 9, why) < 0);
    CHECK (strstr (why, "upload too large") != NULL);
    CHECK_EQ (rel_upload_received (up), 4);
    rel_upload_destroy (&up);
    CHECK_EQ (s_temp_files (store), 0);
}

// ---- archives ---------------------------------------------------------------

typedef struct {
    const char *name;
    mode_t type;                // AE_IFREG, AE_IFDIR, AE_IFLNK, AE_IFCHR, AE_IFIFO
    const char *data;           // file content, or the symlink target
    const char *hardlink;       // a hard link to this path, or NULL
} entry_t;

//  Writes `entries` as a .tar.gz at `path`.
static void
s_tarball (const char *path, const entry_t *entries, size_t n)
{
    struct archive *w = archive_write_new ();
    archive_write_set_format_pax_restricted (w);
    archive_write_add_filter_gzip (w);
    CHECK_EQ (archive_write_open_filename (w, path), ARCHIVE_OK);
    for (size_t i = 0; i < n; i++) {
        struct archive_entry *e = archive_entry_new ();
        archive_entry_set_pathname (e, entries [i].name);
        archive_entry_set_filetype (e, entries [i].type);
        archive_entry_set_perm (e, entries [i].type == AE_IFDIR ? 0755 : 0644);
        size_t len = 0;
        if (entries [i].hardlink)
            archive_entry_set_hardlink (e, entries [i].hardlink);
        else if (entries [i].type == AE_IFLNK)
            archive_entry_set_symlink (e, entries [i].data);
        else if (entries [i].type == AE_IFREG && entries [i].data)
            len = strlen (entries [i].data);
        archive_entry_set_size (e, (la_int64_t) len);
        CHECK_EQ (archive_write_header (w, e), ARCHIVE_OK);
        if (len)
            CHECK_EQ (archive_write_data (w, entries [i].data, len), (la_ssize_t) len);
        archive_entry_free (e);
    }
    CHECK_EQ (archive_write_close (w), ARCHIVE_OK);
    archive_write_free (w);
}

static char *
s_path (const char *name)
{
    return act_sprintf ("%s/%s", unit_tmpdir (), name);
}

static void
test_archive_good (void)
{
    static const entry_t good [] = {
        { "./", AE_IFDIR, NULL, NULL },
        { "./Procfile", AE_IFREG, "web: ./run.sh\n", NULL },
        { "./bin", AE_IFDIR, NULL, NULL },
        { "./bin/run.sh", AE_IFREG, "echo hi\n", NULL },
        { "./current", AE_IFLNK, "bin", NULL },
        { "./lib/a/up", AE_IFLNK, "../..", NULL },         // the top: inside
        { "./lib/b", AE_IFLNK, "a/up/bin/run.sh", NULL },  // through a link: inside
        { "./copy.sh", AE_IFREG, NULL, "bin/run.sh" },
    };
    char *tgz = s_path ("good.tgz");
    s_tarball (tgz, good, sizeof good / sizeof good [0]);
    act_extract_opts_t opts = { .want = "Procfile", .want_max = 100 };
    act_extract_t out;
    char why [REL_ARCHIVE_WHY_MAX] = "";
    if (act_archive_extract (tgz, &opts, &out, why))
        UNIT_FAIL ("refused: %s", why);
    CHECK (out.found);
    CHECK (!out.is_link);
    CHECK_STR_EQ (out.data, "web: ./run.sh\n");
    CHECK_EQ (out.entries, 8);
    free (out.data);
    //  Extracted for real.
    char *dest = s_path ("dest");
    CHECK_OK (mkdir (dest, 0755));
    act_extract_opts_t xopts = { .dest = dest };
    if (act_archive_extract (tgz, &xopts, &out, why))
        UNIT_FAIL ("extract refused: %s", why);
    char *file = act_sprintf ("%s/lib/b", dest), *data;
    size_t len;
    CHECK_OK (act_read_file (file, &data, &len));
    CHECK_STR_EQ (data, "echo hi\n");
    free (data);
    free (file);
    free (dest);
    free (tgz);
}

//  A tarball of `entries` is refused, with `want` in the reason, both when
//  checked and when extracted; nothing lands next to the folder.
static void
s_hostile (const entry_t *entries, size_t n, const char *want)
{
    char *tgz = s_path ("hostile.tgz");
    s_tarball (tgz, entries, n);
    act_extract_opts_t opts = { .want = "Procfile", .want_max = 100 };
    act_extract_t out;
    char why [REL_ARCHIVE_WHY_MAX] = "";
    CHECK (act_archive_extract (tgz, &opts, &out, why) < 0);
    if (!strstr (why, want))
        UNIT_FAIL ("reason '%s' lacks '%s'", why, want);
    char *dest = s_path ("box/dest");
    char *box = s_path ("box");
    mkdir (box, 0755);
    mkdir (dest, 0755);
    act_extract_opts_t xopts = { .dest = dest };
    CHECK (act_archive_extract (tgz, &xopts, &out, why) < 0);
    if (!strstr (why, want))
        UNIT_FAIL ("extract reason '%s' lacks '%s'", why, want);
    char *escaped = s_path ("box/x");
    CHECK (access (escaped, F_OK) != 0);
    free (escaped);
    free (box);
    free (dest);
    free (tgz);
}
#define HOSTILE(want, ...) do { \
    static const entry_t e_ [] = { __VA_ARGS__ }; \
    s_hostile (e_, sizeof e_ / sizeof e_ [0], want); \
} while (0)

static void
test_archive_hostile (void)
{
    HOSTILE ("tarball entry '../x' escapes the build directory",
             { "Procfile", AE_IFREG, "web: x\n", NULL }, { "../x", AE_IFREG, "boom", NULL });
    HOSTILE ("tarball entry 'a/../../x' escapes the build directory",
             { "a/../../x", AE_IFREG, "boom", NULL });
    HOSTILE ("tarball entry '/tmp/x' is an absolute path", { "/tmp/x", AE_IFREG, "boom", NULL });
    HOSTILE ("tarball entry 'link' is a symlink to '../x', outside the build directory",
             { "link", AE_IFLNK, "../x", NULL });
    HOSTILE ("tarball entry 'link' is a symlink to '/etc/passwd', outside",
             { "link", AE_IFLNK, "/etc/passwd", NULL });
    //  Each link is inside on its own; followed together they leave.
    HOSTILE ("is a symlink to 'up/..', outside",
             { "d/up", AE_IFLNK, "..", NULL }, { "d/out", AE_IFLNK, "up/..", NULL });
    HOSTILE ("tarball entry 'loop' is a symlink to 'loop', outside", { "loop", AE_IFLNK, "loop", NULL });
    HOSTILE ("tarball entry 'dir/x' goes through a symlink",
             { "dir", AE_IFLNK, ".", NULL }, { "dir/x", AE_IFREG, "boom", NULL });
    HOSTILE ("tarball entry 'b' is a hard link to '../x', outside the build directory",
             { "a", AE_IFREG, "a", NULL }, { "b", AE_IFREG, NULL, "../x" });
    //  A hard link to a symlink is a symlink on disk: replacing the
    //  symlink must not hide it (`h` would still lead to /etc).
    HOSTILE ("tarball entry 'a' replaces a symlink made earlier in the archive",
             { "Procfile", AE_IFREG, "web: x\n", NULL }, { "a", AE_IFLNK, "/etc", NULL },
             { "h", AE_IFREG, NULL, "a" }, { "a", AE_IFREG, "plain", NULL });
    //  ... and its target is read from the hard link's own folder.
    HOSTILE ("tarball entry 'h' is a symlink to '..', outside the build directory",
             { "d/a", AE_IFLNK, "..", NULL }, { "h", AE_IFREG, NULL, "d/a" });
    HOSTILE ("tarball entry 'dev' is a device node", { "dev", AE_IFCHR, NULL, NULL });
    HOSTILE ("tarball entry 'fifo' is a FIFO or socket", { "fifo", AE_IFIFO, NULL, NULL });
}

static void
test_archive_limits (void)
{
    static const entry_t three [] = {
        { "Procfile", AE_IFREG, "web: x\n", NULL },
        { "a", AE_IFREG, "0123456789012345678901234567890123456789", NULL },
        { "b", AE_IFREG, "0123456789012345678901234567890123456789", NULL },
    };
    char *tgz = s_path ("bomb.tgz");
    s_tarball (tgz, three, 3);
    act_extract_t out;
    char why [REL_ARCHIVE_WHY_MAX];
    act_extract_opts_t bytes = { .max_bytes = 80 };
    CHECK (act_archive_extract (tgz, &bytes, &out, why) < 0);
    CHECK_STR_EQ (why, "tarball expands to over 80 bytes, the limit for a build");
    act_extract_opts_t entries = { .max_entries = 2 };
    CHECK (act_archive_extract (tgz, &entries, &out, why) < 0);
    CHECK_STR_EQ (why, "tarball has over 2 entries, the limit for a build");
    char *dest = s_path ("bomb");
    CHECK_OK (mkdir (dest, 0755));
    act_extract_opts_t xbytes = { .dest = dest, .max_bytes = 80 };
    CHECK (act_archive_extract (tgz, &xbytes, &out, why) < 0);
    CHECK (strstr (why, "the limit for a build") != NULL);
    //  At the limits exactly: fine.
    char *dest2 = s_path ("bomb2");
    CHECK_OK (mkdir (dest2, 0755));
    act_extract_opts_t fits = { .dest = dest2, .max_bytes = 87, .max_entries = 3 };
    if (act_archive_extract (tgz, &fits, &out, why))
        UNIT_FAIL ("refused at the limits: %s", why);
    CHECK_EQ (out.bytes, 87);
    CHECK_EQ (out.entries, 3);
    free (dest2);
    free (dest);
    free (tgz);
}

static void
test_archive_corrupt (void)
{
    static const entry_t good [] = {
        { "Procfile", AE_IFREG, "web: x\n", NULL },
        { "big", AE_IFREG, "0123456789012345678901234567890123456789", NULL },
    };
    char *tgz = s_path ("c.tgz");
    s_tarball (tgz, good, 2);
    char *data;
    size_t len;
    CHECK_OK (act_read_file (tgz, &data, &len));
    act_extract_opts_t opts = { 0 };
    act_extract_t out;
    char why [REL_ARCHIVE_WHY_MAX];
    //  Not an archive at all.
    CHECK_OK (act_write_file (tgz, "this is not a tarball at all, just text\n", 40, 0644));
    CHECK (act_archive_extract (tgz, &opts, &out, why) < 0);
    CHECK (strstr (why, "not a valid .tar.gz") != NULL);
    //  Cut short.
    CHECK_OK (act_write_file (tgz, data, len / 2, 0644));
    CHECK (act_archive_extract (tgz, &opts, &out, why) < 0);
    CHECK (strstr (why, "tarball") != NULL);
    //  Damaged in the middle of the compressed stream.
    for (size_t i = len / 3; i < len / 3 + 16 && i < len; i++)
        data [i] ^= 0x5a;
    CHECK_OK (act_write_file (tgz, data, len, 0644));
    CHECK (act_archive_extract (tgz, &opts, &out, why) < 0);
    CHECK (strlen (why) > 0 && strchr (why, '\n') == NULL);
    free (data);
    free (tgz);
}

static void
test_archive_slug_round_trip (void)
{
    char *dir = s_path ("app");
    char *sub = s_path ("app/sub");
    CHECK_OK (mkdir (dir, 0755));
    CHECK_OK (mkdir (sub, 0755));
    char *file = s_path ("app/sub/f.txt"), *proc = s_path ("app/Procfile");
    CHECK_OK (act_write_file (file, "content", 7, 0644));
    CHECK_OK (act_write_file (proc, "web: ok\n", 8, 0644));
    const char *store = s_store ();
    char *tmp;
    int fd = rel_blob_tmp_open (store, &tmp);
    CHECK (fd >= 0);
    char sha [REL_SHA_HEX + 1], why [REL_ARCHIVE_WHY_MAX];
    int64_t size;
    if (rel_archive_write_dir (dir, fd, 1 << 20, sha, &size, why))
        UNIT_FAIL ("slug: %s", why);
    CHECK_OK (rel_blob_commit (store, tmp, fd, sha));
    close (fd);
    free (tmp);
    int64_t stored;
    CHECK (rel_blob_exists (store, sha, &stored));
    CHECK_EQ (stored, size);
    char *blob = rel_blob_path (store, sha), *data;
    size_t len;
    CHECK_OK (act_read_file (blob, &data, &len));
    char again [REL_SHA_HEX + 1];
    s_sha (data, len, again);
    CHECK_STR_EQ (again, sha);
    free (data);
    act_extract_opts_t opts = { .want = "Procfile", .want_max = 100 };
    act_extract_t out;
    if (act_archive_extract (blob, &opts, &out, why))
        UNIT_FAIL ("slug refused: %s", why);
    CHECK (out.found);
    CHECK_STR_EQ (out.data, "web: ok\n");
    CHECK_EQ (out.entries, 3);
    free (out.data);
    //  Over the limit.
    fd = rel_blob_tmp_open (store, &tmp);
    CHECK (rel_archive_write_dir (dir, fd, 10, sha, &size, why) < 0);
    CHECK (strstr (why, "over the limit") != NULL);
    close (fd);
    free (tmp);
    free (blob);
    free (file);
    free (proc);
    free (sub);
    free (dir);
}

// ---- build processes ----------------------------------------------------------

typedef struct {
    int lines;                  // lines handed over so far
    int call_lines;             // ... in the current rel_build_read call
    int call_max;               // the most in one call
    int truncated;              // REL_BUILD_TRUNCATED lines seen
    int after;                  // lines after the truncation line
    char last [REL_BUILD_LINE_MAX + 1];
} lines_t;

static void
s_count_line (void *arg, const char *line)
{
    lines_t *l = arg;
    if (l->truncated)
        l->after++;
    if (strcmp (line, REL_BUILD_TRUNCATED) == 0)
        l->truncated++;
    l->lines++;
    l->call_lines++;
    snprintf (l->last, sizeof l->last, "%s", line);
}

//  Runs `sh -c script` as a build and reads its output to the end as the
//  actor would (poll, then one bounded read). Returns the wait status.
static int
s_run_build (const char *script, lines_t *l)
{
    const char *argv [] = { "sh", "-c", script, NULL };
    int rc;
    memset (l, 0, sizeof *l);
    rel_build_t *b = rel_build_start ("/bin/sh", argv, unit_tmpdir (), &rc);
    CHECK_NOT_NULL (b);
    for (;;) {
        struct pollfd p = { rel_build_fd (b), POLLIN, 0 };
        CHECK (poll (&p, 1, 10000) == 1);
        l->call_lines = 0;
        rc = rel_build_read (b, s_count_line, l);
        if (l->call_lines > l->call_max)
            l->call_max = l->call_lines;
        CHECK (rc >= 0);
        if (rc == 1)
            break;
    }
    int status = -1;
    for (int i = 0; i < 1000 && !rel_build_reap (b, &status); i++)
        usleep (10000);
    for (int i = 0; i < 1000 && !rel_build_gone (b); i++)
        usleep (10000);
    CHECK (rel_build_gone (b));
    rel_build_destroy (&b);
    return status;
}

static void
test_build_output_flood (void)
{
    lines_t l;
    //  Far more than the cap: the build still ends (the pipe is drained),
    //  and what follows the cap is not shown.
    int status = s_run_build ("yes | head -n 300000; echo after-the-flood", &l);
    CHECK (WIFEXITED (status) && WEXITSTATUS (status) == 0);
    CHECK_EQ (l.truncated, 1);
    CHECK_EQ (l.after, 0);
    CHECK_EQ (l.lines, REL_BUILD_LINES_MAX + 1);
    CHECK_STR_EQ (l.last, REL_BUILD_TRUNCATED);
    //  Bounded work per call: at most the call's line budget plus what one
    //  16 KiB read of 2-byte lines holds.
    if (l.call_max > REL_BUILD_CALL_LINES + 8192)
        UNIT_FAIL ("%d lines in one call", l.call_max);
    //  Long lines: the byte cap comes first.
    status = s_run_build ("yes \"$(printf '%3999s' x)\" | head -n 3000", &l);
    CHECK_EQ (l.truncated, 1);
    CHECK_EQ (l.lines, REL_BUILD_OUTPUT_MAX / 4000 + 1);
    //  Under the caps everything comes, the last line without a newline too.
    status = s_run_build ("echo one; printf 'two\\r\\nthree'", &l);
    CHECK_EQ (l.lines, 3);
    CHECK_EQ (l.truncated, 0);
    CHECK_STR_EQ (l.last, "three");
}

static void
test_build_read_error_and_session (void)
{
    //  The child leads its own session (and group): the parent never
    //  races it with a setpgid of its own.
    const char *argv [] = { "sh", "-c", "cut -d' ' -f6 /proc/$$/stat; exec sleep 30", NULL };
    int rc;
    rel_build_t *b = rel_build_start ("/bin/sh", argv, unit_tmpdir (), &rc);
    CHECK_NOT_NULL (b);
    lines_t l;
    memset (&l, 0, sizeof l);
    for (int i = 0; i < 500 && l.lines == 0; i++) {
        struct pollfd p = { rel_build_fd (b), POLLIN, 0 };
        poll (&p, 1, 20);
        CHECK (rel_build_read (b, s_count_line, &l) >= 0);
    }
    CHECK_EQ (strtol (l.last, NULL, 10), (long) rel_build_pid (b));
    //  A pipe that cannot be read is an error, not "more later".
    int dir = open ("/", O_RDONLY | O_DIRECTORY);
    CHECK (dup2 (dir, rel_build_fd (b)) >= 0);
    close (dir);
    CHECK_EQ (rel_build_read (b, s_count_line, &l), -EISDIR);
    //  Killed as a group, reaped, gone.
    rel_build_kill (b);
    int status = 0;
    for (int i = 0; i < 1000 && !rel_build_reap (b, &status); i++)
        usleep (10000);
    CHECK (WIFSIGNALED (status) && WTERMSIG (status) == SIGKILL);
    for (int i = 0; i < 1000 && !rel_build_gone (b); i++)
        usleep (10000);
    CHECK (rel_build_gone (b));
    rel_build_destroy (&b);
}

static void
test_build_result_check (void)
{
    const char *store = s_store ();
    char *tmp;
    int fd = rel_blob_tmp_open (store, &tmp);
    CHECK (fd >= 0);
    CHECK_EQ (write (fd, "slug bytes", 10), 10);
    char sha [REL_SHA_HEX + 1];
    s_sha ("slug bytes", 10, sha);
    CHECK_OK (rel_blob_commit (store, tmp, fd, sha));
    close (fd);
    free (tmp);
    char why [256];
    json_t *r = json_pack ("{s:{s:s, s:i, s:[s]}, s:{s:s}}", "slug", "blob", sha, "size", 10,
                           "buildpacks", "shell", "process_types", "web", "./web.sh");
    if (rel_build_result_check (r, store, 1000, why, sizeof why))
        UNIT_FAIL ("good result refused: %s", why);
    CHECK (rel_build_result_check (r, store, 5, why, sizeof why) < 0);
    CHECK (strstr (why, "over the limit") != NULL);
    json_object_set_new (json_object_get (r, "slug"), "size", json_integer (11));
    CHECK (rel_build_result_check (r, store, 1000, why, sizeof why) < 0);
    CHECK (strstr (why, "not the size its result says") != NULL);
    json_object_set_new (json_object_get (r, "slug"), "size", json_integer (10));
    json_object_set_new (json_object_get (r, "slug"), "blob", json_string ("../../api-token"));
    CHECK (rel_build_result_check (r, store, 1000, why, sizeof why) < 0);
    CHECK (strstr (why, "no valid slug blob") != NULL);
    char other [REL_SHA_HEX + 1];
    s_sha ("not stored", 10, other);
    json_object_set_new (json_object_get (r, "slug"), "blob", json_string (other));
    CHECK (rel_build_result_check (r, store, 1000, why, sizeof why) < 0);
    CHECK (strstr (why, "is not in the store") != NULL);
    json_object_set_new (json_object_get (r, "slug"), "blob", json_string (sha));
    json_object_set_new (r, "process_types", json_pack ("{s:s}", "we b", "x"));
    CHECK (rel_build_result_check (r, store, 1000, why, sizeof why) < 0);
    CHECK (strstr (why, "bad process type") != NULL);
    json_object_set_new (r, "process_types", json_pack ("{s:s}", "web", "a\nb"));
    CHECK (rel_build_result_check (r, store, 1000, why, sizeof why) < 0);
    json_object_set_new (r, "process_types", json_object ());
    CHECK (rel_build_result_check (r, store, 1000, why, sizeof why) < 0);
    json_decref (r);
    r = json_pack ("{s:s}", "slug", "x");
    CHECK (rel_build_result_check (r, store, 1000, why, sizeof why) < 0);
    json_decref (r);
}

// ---- buildpacks.set -------------------------------------------------------------

//  Feeds buildpacks.set {app, buildpacks: [{blob, name}]}; returns the
//  error's reason, or NULL when it was accepted (app.info).
static const char *
s_set_buildpack (ut_offline_t *t, const char *blob, const char *name)
{
    msg_t *msg = ut_offline_msg (t, MSG_TYPE_BUILDPACKS_SET, "cli@t1");
    msg_set_str (msg, "app", "bp-app");
    msg_set_json (msg, "buildpacks", json_pack ("[{s:s, s:s}]", "blob", blob, "name", name));
    ut_offline_feed_take (t, &msg);
    msg_t *error = ut_offline_out (t, MSG_TYPE_ERROR);
    if (error)
        return msg_str (error, "reason", "");
    CHECK_NOT_NULL (ut_offline_out (t, MSG_TYPE_APP_INFO));
    return NULL;
}

static void
test_buildpacks_set_on_message_alone (void)
{
    ut_offline_t t;
    ut_offline_open (&t, rel_actor_def (), 3);
    msg_t *msg = ut_offline_msg (&t, MSG_TYPE_APP_CREATE, "cli@t1");
    msg_set_str (msg, "name", "bp-app");
    ut_offline_feed_take (&t, &msg);
    char sha [REL_SHA_HEX + 1];
    s_sha ("never uploaded", 14, sha);
    //  A well-formed set is accepted whether or not the blob is stored:
    //  live and replayed alike. The deploy checks the store.
    CHECK_NULL (s_set_buildpack (&t, sha, "shell"));
    const char *why = s_set_buildpack (&t, "ABC", "shell");
    CHECK (why && strstr (why, "blob is not a sha256"));
    why = s_set_buildpack (&t, sha, "");
    CHECK (why && strstr (why, "needs a name"));
    why = s_set_buildpack (&t, sha, "bad\tname");
    CHECK (why && strstr (why, "control character"));
    json_t *app = json_object_get (((rel_state_t *) ut_offline_state (&t))->apps, "bp-app");
    CHECK_EQ (json_array_size (json_object_get (app, "buildpacks")), 1);
    ut_offline_close (&t);
}

static const unit_test_t s_tests [] = {
    UNIT_TEST (test_upload_good),
    UNIT_TEST (test_upload_corrupt_and_truncated),
    UNIT_TEST (test_upload_order_and_limit),
    UNIT_TEST (test_archive_good),
    UNIT_TEST (test_archive_hostile),
    UNIT_TEST (test_archive_limits),
    UNIT_TEST (test_archive_corrupt),
    UNIT_TEST (test_archive_slug_round_trip),
    UNIT_TEST (test_build_output_flood),
    UNIT_TEST (test_build_read_error_and_session),
    UNIT_TEST (test_build_result_check),
    UNIT_TEST (test_buildpacks_set_on_message_alone),
};

UNIT_SUITE (unit_suite_rel_deploy, s_tests);
