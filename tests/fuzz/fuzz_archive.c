//  fuzz_archive - libFuzzer target for the source-archive checker/extractor
//
//  The input is an uploaded .tar.gz: it is written to a file in a fresh
//  temp folder R (R/input), checked alone (act_archive_extract without
//  `dest`, reading a `Procfile`), then extracted into R/fence/dest. Each
//  call either refuses with one line of valid UTF-8 or succeeds; the cwd
//  and the open fds are as before. Nothing is ever written outside dest (R
//  holds only `input` and `fence`, R/fence only `dest`), even by a refused
//  archive. What extracts must also pass the check alone. After a successful
//  extraction dest holds only files, folders and symlinks: no device node,
//  FIFO or socket, no absolute symlink, none whose target (followed through
//  the others on disk, as archive.c resolves them) leaves dest, and no hard
//  link to a file outside it. R is removed after every input. A broken rule
//  abort()s; `make fuzz` builds this with clang, the replay main runs the
//  corpus under gcc.

#include "../../actors/release-keeper/archive.h"
#include "../../actors/release-keeper/procfile.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

#define FUZZ_WANT_MAX   100     // small, so the want_max + 1 cut is reached
#define FUZZ_HOPS_MAX   40      // symlinks followed, as the kernel's limit

static void
s_fail (const char *what)
{
    fprintf (stderr, "fuzz-archive: %s\n", what);
    abort ();
}

static void
s_fail_errno (const char *what)
{
    fprintf (stderr, "fuzz-archive: %s: %s\n", what, strerror (errno));
    abort ();
}

//  A refusal is one non-empty line of valid UTF-8, terminated in the buffer.
static void
s_check_why (const char *why)
{
    if (!memchr (why, 0, REL_ARCHIVE_WHY_MAX) || why [0] == 0)
        s_fail ("a refusal is empty or not terminated");
    size_t len = strlen (why);
    if (rel_utf8_valid_prefix (why, len) != len || strchr (why, '\n') || strchr (why, '\r'))
        s_fail ("a refusal is not one line of valid UTF-8");
}

static int
s_count_fds (void)
{
    DIR *dir = opendir ("/proc/self/fd");
    if (!dir)
        return -1;
    int n = 0;
    while (readdir (dir))
        n++;
    closedir (dir);
    return n;
}

//  The names in the folder `rel` under `top` ("." for top itself), sorted
//  out of `.` and `..`; NULL-terminated, owned.
static char **
s_list (int top, const char *rel, size_t *count_p)
{
    int fd = openat (top, rel, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        s_fail_errno ("cannot open an extracted folder");
    DIR *dir = fdopendir (fd);
    if (!dir)
        s_fail_errno ("fdopendir");
    size_t count = 0, cap = 8;
    char **names = malloc (cap * sizeof *names);
    struct dirent *entry;
    while (names && (entry = readdir (dir)) != NULL) {
        if (strcmp (entry->d_name, ".") == 0 || strcmp (entry->d_name, "..") == 0)
            continue;
        if (count + 1 >= cap)
            names = realloc (names, (cap *= 2) * sizeof *names);
        if (names)
            names [count++] = strdup (entry->d_name);
    }
    closedir (dir);
    if (!names)
        abort ();
    names [count] = NULL;
    *count_p = count;
    return names;
}

static void
s_free_list (char **names)
{
    for (size_t i = 0; names [i]; i++)
        free (names [i]);
    free (names);
}

//  `rel` + "/" + `name` into `out` (PATH_MAX); "." + name is just name.
static void
s_join (const char *rel, const char *name, char out [PATH_MAX])
{
    int n = strcmp (rel, ".") == 0 ? snprintf (out, PATH_MAX, "%s", name)
                                   : snprintf (out, PATH_MAX, "%s/%s", rel, name);
    if (n < 0 || n >= PATH_MAX)
        s_fail ("an extracted path is longer than PATH_MAX");
}

//  Follows `target` from the folder `cur` (relative to `top`, "" for top;
//  PATH_MAX bytes, updated) the way archive.c does, but through the
//  symlinks on disk: `..` pops a component, a missing component is taken as
//  a folder. Returns -1 when the path leaves top (or is absolute), 0 when it
//  stays inside or loops (the kernel would give up with ELOOP).
static int
s_resolve (int top, char *cur, const char *target, int *hops)
{
    if (target [0] == '/')
        return -1;
    const char *p = target;
    while (*p) {
        const char *end = strchr (p, '/');
        size_t len = end ? (size_t) (end - p) : strlen (p);
        const char *next = end ? end + 1 : p + len;
        if (len == 0 || (len == 1 && p [0] == '.')) {
            p = next;
            continue;
        }
        if (len == 2 && p [0] == '.' && p [1] == '.') {
            if (!cur [0])
                return -1;
            char *slash = strrchr (cur, '/');
            *(slash ? slash : cur) = 0;
            p = next;
            continue;
        }
        size_t o = strlen (cur);
        if (o + len + 2 >= PATH_MAX)
            return 0;                   // ENAMETOOLONG: resolves nowhere
        if (o)
            cur [o++] = '/';
        memcpy (cur + o, p, len);
        cur [o + len] = 0;
        struct stat st;
        if (fstatat (top, cur, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK (st.st_mode)) {
            if (++*hops > FUZZ_HOPS_MAX)
                return 0;
            char link [PATH_MAX];
            ssize_t n = readlinkat (top, cur, link, sizeof link - 1);
            if (n < 0)
                s_fail_errno ("readlinkat");
            link [n] = 0;
            char *slash = strrchr (cur, '/');
            *(slash ? slash : cur) = 0;
            if (s_resolve (top, cur, link, hops))
                return -1;
        }
        p = next;
    }
    return 0;
}

//  Hard-linked inodes seen in the walk, with how many names were found.
typedef struct {
    dev_t dev;
    ino_t ino;
    nlink_t nlink;
    nlink_t seen;
} fuzz_inode_t;

typedef struct {
    fuzz_inode_t *inodes;
    size_t count;
    size_t cap;
} fuzz_walk_t;

static void
s_note_inode (fuzz_walk_t *walk, const struct stat *st)
{
    for (size_t i = 0; i < walk->count; i++)
        if (walk->inodes [i].dev == st->st_dev && walk->inodes [i].ino == st->st_ino) {
            walk->inodes [i].seen++;
            return;
        }
    if (walk->count == walk->cap) {
        walk->cap = walk->cap ? walk->cap * 2 : 16;
        walk->inodes = realloc (walk->inodes, walk->cap * sizeof *walk->inodes);
        if (!walk->inodes)
            abort ();
    }
    walk->inodes [walk->count++] = (fuzz_inode_t) { st->st_dev, st->st_ino, st->st_nlink, 1 };
}

//  Checks every entry under the folder `rel` of an extraction at `top`.
static void
s_check_tree (int top, const char *rel, fuzz_walk_t *walk)
{
    size_t count;
    char **names = s_list (top, rel, &count);
    for (size_t i = 0; i < count; i++) {
        char path [PATH_MAX];
        s_join (rel, names [i], path);
        struct stat st;
        if (fstatat (top, path, &st, AT_SYMLINK_NOFOLLOW))
            s_fail_errno ("cannot stat an extracted entry");
        if (!S_ISREG (st.st_mode) && !S_ISDIR (st.st_mode) && !S_ISLNK (st.st_mode))
            s_fail ("an accepted archive made a device node, FIFO or socket");
        if (!S_ISDIR (st.st_mode) && st.st_nlink > 1)
            s_note_inode (walk, &st);
        if (S_ISLNK (st.st_mode)) {
            char target [PATH_MAX];
            ssize_t n = readlinkat (top, path, target, sizeof target - 1);
            if (n < 0)
                s_fail_errno ("readlinkat");
            target [n] = 0;
            if (target [0] == '/')
                s_fail ("an accepted archive made an absolute symlink");
            char cur [PATH_MAX];
            snprintf (cur, sizeof cur, "%s", path);
            char *slash = strrchr (cur, '/');
            *(slash ? slash : cur) = 0;
            int hops = 0;
            if (s_resolve (top, cur, target, &hops)) {
                fprintf (stderr, "fuzz-archive: '%s' -> '%s'\n", path, target);
                s_fail ("an accepted archive made a symlink that leaves the folder");
            }
        }
        if (S_ISDIR (st.st_mode))
            s_check_tree (top, path, walk);
    }
    s_free_list (names);
}

//  Removes everything under the folder `rel` of `top`, then `rel` itself.
static void
s_remove_tree (int top, const char *rel)
{
    //  Extraction does not restore modes, but a folder could still be made
    //  without write or search permission for a non-root run.
    if (fchmodat (top, rel, 0700, 0))
        s_fail_errno ("cannot chmod a folder to remove it");
    size_t count;
    char **names = s_list (top, rel, &count);
    for (size_t i = 0; i < count; i++) {
        char path [PATH_MAX];
        s_join (rel, names [i], path);
        struct stat st;
        if (fstatat (top, path, &st, AT_SYMLINK_NOFOLLOW))
            s_fail_errno ("cannot stat an entry to remove it");
        if (S_ISDIR (st.st_mode))
            s_remove_tree (top, path);
        else if (unlinkat (top, path, 0))
            s_fail_errno ("cannot remove an extracted entry");
    }
    s_free_list (names);
    if (strcmp (rel, ".") != 0 && unlinkat (top, rel, AT_REMOVEDIR))
        s_fail_errno ("cannot remove an extracted folder");
}

//  The folder `dir` holds exactly the names given (NULL-terminated).
static void
s_check_only (const char *dir, const char *const *want)
{
    int fd = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        s_fail_errno ("cannot open a fence folder");
    size_t count, wanted = 0;
    char **names = s_list (fd, ".", &count);
    close (fd);
    for (; want [wanted]; wanted++) {
        bool found = false;
        for (size_t i = 0; i < count; i++)
            found |= strcmp (names [i], want [wanted]) == 0;
        if (!found)
            s_fail ("a fence folder lost an entry");
    }
    if (count != wanted) {
        for (size_t i = 0; i < count; i++)
            fprintf (stderr, "fuzz-archive: %s holds '%s'\n", dir, names [i]);
        s_fail ("the archive wrote outside the destination folder");
    }
    s_free_list (names);
}

static void
s_write_input (const char *path, const uint8_t *data, size_t size)
{
    int fd = open (path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0)
        s_fail_errno ("cannot create the input file");
    size_t done = 0;
    while (done < size) {
        ssize_t n = write (fd, data + done, size - done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            s_fail_errno ("cannot write the input file");
        done += (size_t) n;
    }
    if (close (fd))
        s_fail_errno ("cannot close the input file");
}

//  One call of act_archive_extract, checking what holds for every call.
static int
s_extract (const char *input, const act_extract_opts_t *opts, act_extract_t *out)
{
    char cwd [PATH_MAX], cwd2 [PATH_MAX];
    if (!getcwd (cwd, sizeof cwd))
        s_fail_errno ("getcwd");
    int fds = s_count_fds ();
    char why [REL_ARCHIVE_WHY_MAX];
    memset (why, 0x55, sizeof why);
    int rc = act_archive_extract (input, opts, out, why);
    if (rc != 0 && rc != -1)
        s_fail ("act_archive_extract returned neither 0 nor -1");
    if (!getcwd (cwd2, sizeof cwd2) || strcmp (cwd, cwd2) != 0)
        s_fail ("act_archive_extract left another working folder");
    if (s_count_fds () != fds)
        s_fail ("act_archive_extract leaked or closed a file descriptor");
    if (rc) {
        s_check_why (why);
        if (out->data)
            s_fail ("a refusal left want data");
    }
    return rc;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    const char *tmp = getenv ("TMPDIR");
    char root [PATH_MAX / 2], input [PATH_MAX], fence [PATH_MAX], dest [PATH_MAX];
    int n = snprintf (root, sizeof root, "%s/fuzz-archive.XXXXXX", tmp && tmp [0] ? tmp : "/tmp");
    if (n < 0 || (size_t) n >= sizeof root)
        s_fail ("TMPDIR is too long");
    if (!mkdtemp (root))
        s_fail_errno ("mkdtemp");
    snprintf (input, sizeof input, "%s/input", root);
    snprintf (fence, sizeof fence, "%s/fence", root);
    snprintf (dest, sizeof dest, "%s/fence/dest", root);
    if (mkdir (fence, 0700) || mkdir (dest, 0700))
        s_fail_errno ("mkdir");
    s_write_input (input, data, size);

    //  Check only, reading a Procfile as the built-in buildpack does.
    act_extract_opts_t check_opts = { .want = "Procfile", .want_max = FUZZ_WANT_MAX };
    act_extract_t checked;
    int check_rc = s_extract (input, &check_opts, &checked);
    if (check_rc == 0) {
        if (checked.found && !checked.is_link) {
            if (!checked.data || checked.len > FUZZ_WANT_MAX + 1 || checked.data [checked.len] != 0)
                s_fail ("want data is missing, over want_max + 1 or not terminated");
        }
        else if (checked.data)
            s_fail ("want data without a regular `Procfile`");
    }
    free (checked.data);

    //  Extract into dest, as custom buildpacks do.
    act_extract_opts_t extract_opts = { .dest = dest };
    act_extract_t extracted;
    int extract_rc = s_extract (input, &extract_opts, &extracted);
    if (extracted.data)
        s_fail ("extraction read want data it was not asked for");
    if (extract_rc == 0 && check_rc != 0)
        s_fail ("an archive refused by the check alone extracts");

    //  Nothing outside dest, whatever the verdict.
    s_check_only (root, (const char *const []) { "input", "fence", NULL });
    s_check_only (fence, (const char *const []) { "dest", NULL });
    int top = open (dest, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (top < 0)
        s_fail_errno ("cannot open the destination folder");
    if (extract_rc == 0) {
        fuzz_walk_t walk = { NULL, 0, 0 };
        s_check_tree (top, ".", &walk);
        for (size_t i = 0; i < walk.count; i++)
            if (walk.inodes [i].seen != walk.inodes [i].nlink)
                s_fail ("an accepted archive made a hard link to a file outside the folder");
        free (walk.inodes);
    }
    s_remove_tree (top, ".");
    close (top);
    if (rmdir (dest) || rmdir (fence) || unlink (input) || rmdir (root))
        s_fail_errno ("cannot remove the temp folder");
    return 0;
}
