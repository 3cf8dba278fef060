//  replay_main - runs a fuzz target over its checked-in corpus (gcc builds)
//
//  Usage: fuzz-NAME PATH...   where each PATH is a corpus directory or a
//  single input file. Every regular file (hidden files skipped) is read into
//  a buffer of exactly its size and passed to LLVMFuzzerTestOneInput, in
//  name order. Prints `ok fuzz-NAME corpus (N inputs)`, or `FAIL ...` and
//  exits 1 when a path is missing, unreadable or holds no inputs. A target
//  that finds a bug aborts, so the test driver sees the exit status; the
//  input being run is named on stderr first.

#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

//  Reads `path` and runs the target on it. Returns 0 or -errno.
static int
s_run_file (const char *name, const char *path)
{
    FILE *file = fopen (path, "rb");
    if (!file)
        return -errno;
    struct stat st;
    if (fstat (fileno (file), &st) || st.st_size < 0) {
        int rc = -errno;
        fclose (file);
        return rc;
    }
    size_t size = (size_t) st.st_size;
    uint8_t *data = malloc (size ? size : 1);
    if (!data || fread (data, 1, size, file) != size) {
        free (data);
        fclose (file);
        return -EIO;
    }
    fclose (file);
    fprintf (stderr, "%s: running %s\n", name, path);
    LLVMFuzzerTestOneInput (data, size);
    free (data);
    return 0;
}

static int
s_not_hidden (const struct dirent *entry)
{
    return entry->d_name [0] != '.';
}

//  Runs every regular file in `dir`; adds them to *count. Returns 0 or -errno.
static int
s_run_dir (const char *name, const char *dir, size_t *count)
{
    struct dirent **entries;
    int n = scandir (dir, &entries, s_not_hidden, alphasort);
    if (n < 0)
        return -errno;
    int rc = 0;
    for (int i = 0; i < n; i++) {
        char path [4096];
        struct stat st;
        snprintf (path, sizeof path, "%s/%s", dir, entries [i]->d_name);
        if (rc == 0 && stat (path, &st) == 0 && S_ISREG (st.st_mode)) {
            rc = s_run_file (name, path);
            if (rc == 0)
                (*count)++;
        }
        free (entries [i]);
    }
    free (entries);
    return rc;
}

int
main (int argc, char **argv)
{
    const char *name = strrchr (argv [0], '/') ? strrchr (argv [0], '/') + 1 : argv [0];
    if (argc < 2) {
        printf ("FAIL %s corpus: usage: %s CORPUS-DIR|FILE...\n", name, name);
        return 1;
    }
    size_t count = 0;
    for (int i = 1; i < argc; i++) {
        struct stat st;
        size_t before = count;
        int rc = stat (argv [i], &st) ? -errno
               : S_ISDIR (st.st_mode) ? s_run_dir (name, argv [i], &count)
               : s_run_file (name, argv [i]);
        if (rc == 0 && !S_ISDIR (st.st_mode))
            count++;
        if (rc) {
            printf ("FAIL %s corpus: %s: %s\n", name, argv [i], strerror (-rc));
            return 1;
        }
        if (count == before) {
            printf ("FAIL %s corpus: %s holds no inputs\n", name, argv [i]);
            return 1;
        }
    }
    printf ("ok %s corpus (%zu inputs)\n", name, count);
    return 0;
}
