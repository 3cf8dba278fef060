//  test_journal - unit tests for the broker's LevelDB journal
//
//  Covers broker/journal.h in a fresh unit_tmpdir (): creating and opening,
//  staging and committing (fsync'd or not), head and next_seq, get, scan
//  from a sequence number, hold records and their release, what survives a
//  close and reopen (head, entries, holds, the instance id, but nothing left
//  uncommitted), and the LevelDB lock that keeps a second handle - in this
//  process or another - off the same directory.

#include "unit.h"
#include "../../broker/journal.h"
#include "../../actors/common/act_base.h"

#include <ctype.h>
#include <errno.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define SEEN_MAX   64
#define DATA_MAX   64

//  What a scan callback saw, in call order.
typedef struct {
    size_t count;
    size_t stop_after;              // answer false at this call (0: never)
    uint64_t seqs [SEEN_MAX];
    char data [SEEN_MAX][DATA_MAX];
    size_t lens [SEEN_MAX];
} s_seen_t;

static bool
s_collect (void *arg, uint64_t seq, const void *data, size_t len)
{
    s_seen_t *seen = arg;
    CHECK (seen->count < SEEN_MAX);
    CHECK (len < DATA_MAX);
    seen->seqs [seen->count] = seq;
    memcpy (seen->data [seen->count], data, len);
    seen->data [seen->count][len] = 0;
    seen->lens [seen->count] = len;
    seen->count++;
    return seen->stop_after == 0 || seen->count < seen->stop_after;
}

//  Scans entries from `from` and returns what was seen. Caller frees.
static s_seen_t *
s_scan (brk_journal_t *journal, uint64_t from, size_t stop_after)
{
    s_seen_t *seen = calloc (1, sizeof *seen);
    seen->stop_after = stop_after;
    brk_journal_scan (journal, from, s_collect, seen);
    return seen;
}

static s_seen_t *
s_scan_held (brk_journal_t *journal, size_t stop_after)
{
    s_seen_t *seen = calloc (1, sizeof *seen);
    seen->stop_after = stop_after;
    brk_journal_scan_held (journal, s_collect, seen);
    return seen;
}

//  A payload for `seq` that holds a NUL and a 0xff byte. Returns its length.
static size_t
s_payload (uint64_t seq, char out [DATA_MAX])
{
    int n = snprintf (out, DATA_MAX, "entry-%llu", (unsigned long long) seq);
    out [n] = 0;
    out [n + 1] = (char) 0xff;
    out [n + 2] = (char) (seq & 0x7f);
    return (size_t) n + 3;
}

static void
s_check_entry (brk_journal_t *journal, uint64_t seq)
{
    char want [DATA_MAX];
    size_t want_len = s_payload (seq, want);
    char *data = NULL;
    size_t len = 0;
    int rc = brk_journal_get (journal, seq, &data, &len);
    if (rc)
        UNIT_FAIL ("entry %llu: %d", (unsigned long long) seq, rc);
    CHECK_EQ (len, want_len);
    CHECK (memcmp (data, want, len) == 0);
    free (data);
}

static void
s_check_missing (brk_journal_t *journal, uint64_t seq)
{
    char *data = (char *) "untouched";
    size_t len = 42;
    CHECK_EQ (brk_journal_get (journal, seq, &data, &len), ACT_ENOTFOUND);
    CHECK_STR_EQ (data, "untouched");
    CHECK_EQ (len, 42);
}

static void
s_stage (brk_journal_t *journal, uint64_t seq, const char *dest)
{
    char payload [DATA_MAX];
    size_t len = s_payload (seq, payload);
    brk_journal_stage (journal, seq, payload, len, dest);
}

static void
s_commit (brk_journal_t *journal, bool sync)
{
    char reason [256] = "";
    int rc = brk_journal_commit (journal, sync, reason, sizeof reason);
    if (rc)
        UNIT_FAIL ("commit: %d %s", rc, reason);
    CHECK (!brk_journal_has_staged (journal));
}

//  <tmpdir>/<name>, in `path`.
static const char *
s_path (char *path, size_t size, const char *name)
{
    snprintf (path, size, "%s/%s", unit_tmpdir (), name);
    return path;
}

static brk_journal_t *
s_open (const char *dir, bool create)
{
    char reason [256] = "";
    brk_journal_t *journal = brk_journal_open (dir, create, reason, sizeof reason);
    if (!journal)
        UNIT_FAIL ("open '%s': %s", dir, reason);
    return journal;
}

static bool
s_is_id (const char *id)
{
    if (strlen (id) != 32)
        return false;
    for (size_t i = 0; i < 32; i++)
        if (!isdigit ((unsigned char) id [i]) && !(id [i] >= 'a' && id [i] <= 'f'))
            return false;
    return true;
}

static void
test_journal_create_empty (void)
{
    char dir [512];
    brk_journal_t *journal = s_open (s_path (dir, sizeof dir, "journal"), true);
    CHECK_EQ (brk_journal_head (journal), 0);
    CHECK (!brk_journal_has_staged (journal));
    CHECK (s_is_id (brk_journal_instance (journal)));
    s_check_missing (journal, 0);
    s_check_missing (journal, 1);
    s_seen_t *seen = s_scan (journal, 0, 0);
    CHECK_EQ (seen->count, 0);
    free (seen);
    seen = s_scan_held (journal, 0);
    CHECK_EQ (seen->count, 0);
    free (seen);
    //  Nothing staged: a commit is a no-op that succeeds.
    char reason [64] = "";
    CHECK_OK (brk_journal_commit (journal, true, reason, sizeof reason));
    struct stat st;
    CHECK_OK (stat (dir, &st));
    CHECK (S_ISDIR (st.st_mode));

    //  Another journal gets another instance id.
    char dir2 [512];
    brk_journal_t *other = s_open (s_path (dir2, sizeof dir2, "other"), true);
    CHECK (s_is_id (brk_journal_instance (other)));
    CHECK (strcmp (brk_journal_instance (other), brk_journal_instance (journal)) != 0);
    brk_journal_destroy (&other);
    brk_journal_destroy (&journal);
    CHECK_NULL (journal);
}

static void
test_journal_open_missing_fails (void)
{
    char dir [512];
    s_path (dir, sizeof dir, "missing");
    char reason [256] = "";
    brk_journal_t *journal = brk_journal_open (dir, false, reason, sizeof reason);
    CHECK_NULL (journal);
    CHECK (reason [0] != 0);
    //  Nothing was created on the way.
    struct stat st;
    CHECK (stat (dir, &st) != 0 && errno == ENOENT);
    //  A directory that exists but holds no journal is just as missing.
    CHECK_OK (mkdir (dir, 0700));
    reason [0] = 0;
    CHECK_NULL (brk_journal_open (dir, false, reason, sizeof reason));
    CHECK (reason [0] != 0);
}

static void
test_journal_stage_commit_get (void)
{
    char dir [512];
    brk_journal_t *journal = s_open (s_path (dir, sizeof dir, "journal"), true);
    uint64_t first = brk_journal_next_seq (journal);
    CHECK_EQ (first, 1);
    CHECK_EQ (brk_journal_head (journal), 1);
    uint64_t second = brk_journal_next_seq (journal);
    CHECK_EQ (second, 2);
    CHECK_EQ (brk_journal_head (journal), 2);

    s_stage (journal, first, NULL);
    CHECK (brk_journal_has_staged (journal));
    s_stage (journal, second, "scheduler");
    //  Staged is not visible until committed.
    s_check_missing (journal, first);
    s_check_missing (journal, second);
    s_seen_t *seen = s_scan (journal, 0, 0);
    CHECK_EQ (seen->count, 0);
    free (seen);
    seen = s_scan_held (journal, 0);
    CHECK_EQ (seen->count, 0);
    free (seen);

    s_commit (journal, true);
    s_check_entry (journal, first);
    s_check_entry (journal, second);
    s_check_missing (journal, 3);
    seen = s_scan_held (journal, 0);
    CHECK_EQ (seen->count, 1);
    CHECK_EQ (seen->seqs [0], second);
    CHECK_STR_EQ (seen->data [0], "scheduler");
    free (seen);

    //  A commit without fsync is just as visible.
    uint64_t third = brk_journal_next_seq (journal);
    CHECK_EQ (third, 3);
    s_stage (journal, third, NULL);
    s_commit (journal, false);
    s_check_entry (journal, third);
    CHECK_EQ (brk_journal_head (journal), 3);

    //  Staging the same seq again replaces the entry.
    brk_journal_stage (journal, third, "other", 5, NULL);
    s_commit (journal, true);
    char *data;
    size_t len;
    CHECK_OK (brk_journal_get (journal, third, &data, &len));
    CHECK_EQ (len, 5);
    CHECK (memcmp (data, "other", 5) == 0);
    free (data);
    brk_journal_destroy (&journal);
}

//  A journal holds whole encoded messages, up to the message size limit.
static void
test_journal_large_entry (void)
{
    char dir [512];
    brk_journal_t *journal = s_open (s_path (dir, sizeof dir, "journal"), true);
    size_t size = 1024 * 1024;
    char *big = malloc (size);
    for (size_t i = 0; i < size; i++)
        big [i] = (char) (i * 31 + 7);
    uint64_t seq = brk_journal_next_seq (journal);
    brk_journal_stage (journal, seq, big, size, "scheduler");
    s_commit (journal, true);
    char *data;
    size_t len;
    CHECK_OK (brk_journal_get (journal, seq, &data, &len));
    CHECK_EQ (len, size);
    CHECK (memcmp (data, big, size) == 0);
    free (data);
    free (big);
    brk_journal_destroy (&journal);
}

static void
test_journal_scan_from (void)
{
    char dir [512];
    brk_journal_t *journal = s_open (s_path (dir, sizeof dir, "journal"), true);
    for (int i = 0; i < 20; i++) {
        uint64_t seq = brk_journal_next_seq (journal);
        s_stage (journal, seq, i % 3 ? NULL : "scheduler");
    }
    s_commit (journal, true);

    s_seen_t *seen = s_scan (journal, 0, 0);
    CHECK_EQ (seen->count, 20);
    for (size_t i = 0; i < 20; i++) {
        CHECK_EQ (seen->seqs [i], i + 1);
        char want [DATA_MAX];
        size_t want_len = s_payload (i + 1, want);
        CHECK_EQ (seen->lens [i], want_len);
        CHECK (memcmp (seen->data [i], want, want_len) == 0);
    }
    free (seen);

    seen = s_scan (journal, 7, 0);
    CHECK_EQ (seen->count, 14);
    CHECK_EQ (seen->seqs [0], 7);
    CHECK_EQ (seen->seqs [13], 20);
    free (seen);
    seen = s_scan (journal, 20, 0);
    CHECK_EQ (seen->count, 1);
    CHECK_EQ (seen->seqs [0], 20);
    free (seen);
    seen = s_scan (journal, 21, 0);
    CHECK_EQ (seen->count, 0);
    free (seen);
    seen = s_scan (journal, UINT64_MAX, 0);
    CHECK_EQ (seen->count, 0);
    free (seen);

    //  The callback stops the scan.
    seen = s_scan (journal, 5, 3);
    CHECK_EQ (seen->count, 3);
    CHECK_EQ (seen->seqs [0], 5);
    CHECK_EQ (seen->seqs [2], 7);
    free (seen);
    brk_journal_destroy (&journal);
}

//  Keys are big-endian, so scans and the head follow numeric order across
//  byte boundaries, whatever the order of staging.
static void
test_journal_numeric_order (void)
{
    static const uint64_t seqs [] = {
        65536, 255, 1ULL << 40, 256, 1ULL << 32, 0x01ff, 65535
    };
    static const uint64_t sorted [] = {
        255, 256, 0x01ff, 65535, 65536, 1ULL << 32, 1ULL << 40
    };
    size_t n = sizeof seqs / sizeof seqs [0];
    char dir [512];
    brk_journal_t *journal = s_open (s_path (dir, sizeof dir, "journal"), true);
    for (size_t i = 0; i < n; i++)
        s_stage (journal, seqs [i], "log-plex");
    s_commit (journal, true);
    s_seen_t *seen = s_scan (journal, 0, 0);
    CHECK_EQ (seen->count, n);
    for (size_t i = 0; i < n; i++)
        CHECK_EQ (seen->seqs [i], sorted [i]);
    free (seen);
    seen = s_scan (journal, 257, 0);
    CHECK_EQ (seen->count, n - 2);
    CHECK_EQ (seen->seqs [0], 0x01ff);
    free (seen);
    seen = s_scan_held (journal, 0);
    CHECK_EQ (seen->count, n);
    for (size_t i = 0; i < n; i++)
        CHECK_EQ (seen->seqs [i], sorted [i]);
    free (seen);
    brk_journal_destroy (&journal);

    journal = s_open (dir, false);
    CHECK_EQ (brk_journal_head (journal), 1ULL << 40);
    CHECK_EQ (brk_journal_next_seq (journal), (1ULL << 40) + 1);
    brk_journal_destroy (&journal);
}

//  The head is the highest committed or staged seq, however it was chosen;
//  otherwise next_seq would hand out a seq that already holds an entry.
static void
test_journal_head_follows_staged (void)
{
    char dir [512];
    brk_journal_t *journal = s_open (s_path (dir, sizeof dir, "journal"), true);
    s_stage (journal, 7, NULL);
    CHECK_EQ (brk_journal_head (journal), 7);
    s_stage (journal, 3, NULL);
    CHECK_EQ (brk_journal_head (journal), 7);
    s_commit (journal, true);
    CHECK_EQ (brk_journal_next_seq (journal), 8);
    brk_journal_destroy (&journal);
}

static void
test_journal_held_and_release (void)
{
    char dir [512];
    brk_journal_t *journal = s_open (s_path (dir, sizeof dir, "journal"), true);
    for (int i = 1; i <= 4; i++)
        brk_journal_next_seq (journal);
    s_stage (journal, 1, "scheduler");
    s_stage (journal, 2, "dyno-supervisor@host-1");
    s_stage (journal, 3, NULL);
    s_stage (journal, 4, "log-plex");
    s_commit (journal, true);

    s_seen_t *seen = s_scan_held (journal, 0);
    CHECK_EQ (seen->count, 3);
    CHECK_EQ (seen->seqs [0], 1);
    CHECK_STR_EQ (seen->data [0], "scheduler");
    CHECK_EQ (seen->lens [0], strlen ("scheduler"));
    CHECK_EQ (seen->seqs [1], 2);
    CHECK_STR_EQ (seen->data [1], "dyno-supervisor@host-1");
    CHECK_EQ (seen->seqs [2], 4);
    CHECK_STR_EQ (seen->data [2], "log-plex");
    free (seen);
    seen = s_scan_held (journal, 1);
    CHECK_EQ (seen->count, 1);
    free (seen);

    //  A release is staged like anything else.
    brk_journal_stage_release (journal, 2);
    CHECK (brk_journal_has_staged (journal));
    seen = s_scan_held (journal, 0);
    CHECK_EQ (seen->count, 3);
    free (seen);
    s_commit (journal, true);
    seen = s_scan_held (journal, 0);
    CHECK_EQ (seen->count, 2);
    CHECK_EQ (seen->seqs [0], 1);
    CHECK_EQ (seen->seqs [1], 4);
    free (seen);
    //  Releasing the hold keeps the entry itself.
    s_check_entry (journal, 2);
    seen = s_scan (journal, 0, 0);
    CHECK_EQ (seen->count, 4);
    free (seen);

    //  Releasing what is not held changes nothing.
    brk_journal_stage_release (journal, 3);
    brk_journal_stage_release (journal, 99);
    s_commit (journal, false);
    seen = s_scan_held (journal, 0);
    CHECK_EQ (seen->count, 2);
    free (seen);

    //  Stage and release in one batch: the hold never shows.
    uint64_t seq = brk_journal_next_seq (journal);
    s_stage (journal, seq, "scheduler");
    brk_journal_stage_release (journal, seq);
    s_commit (journal, true);
    s_check_entry (journal, seq);
    brk_journal_stage_release (journal, 1);
    brk_journal_stage_release (journal, 4);
    s_commit (journal, true);
    seen = s_scan_held (journal, 0);
    CHECK_EQ (seen->count, 0);
    free (seen);
    brk_journal_destroy (&journal);
}

static void
test_journal_persists_across_reopen (void)
{
    char dir [512];
    s_path (dir, sizeof dir, "journal");
    brk_journal_t *journal = s_open (dir, true);
    char instance [33];
    snprintf (instance, sizeof instance, "%s", brk_journal_instance (journal));
    for (int i = 1; i <= 5; i++) {
        uint64_t seq = brk_journal_next_seq (journal);
        s_stage (journal, seq, seq % 2 ? "scheduler@host-1" : NULL);
    }
    s_commit (journal, true);
    brk_journal_stage_release (journal, 3);
    s_commit (journal, false);
    //  Taken and staged but never committed: lost on close.
    uint64_t lost = brk_journal_next_seq (journal);
    CHECK_EQ (lost, 6);
    s_stage (journal, lost, "scheduler");
    brk_journal_destroy (&journal);

    for (int round = 0; round < 2; round++) {
        journal = s_open (dir, false);
        CHECK_STR_EQ (brk_journal_instance (journal), instance);
        CHECK_EQ (brk_journal_head (journal), 5 + round);
        CHECK (!brk_journal_has_staged (journal));
        for (uint64_t seq = 1; seq <= 5 + (uint64_t) round; seq++)
            s_check_entry (journal, seq);
        s_check_missing (journal, 6 + (uint64_t) round);
        s_seen_t *seen = s_scan_held (journal, 0);
        CHECK_EQ (seen->count, 2);
        CHECK_EQ (seen->seqs [0], 1);
        CHECK_STR_EQ (seen->data [0], "scheduler@host-1");
        CHECK_EQ (seen->seqs [1], 5);
        free (seen);
        if (round == 0) {
            //  Numbering resumes after the committed head.
            uint64_t seq = brk_journal_next_seq (journal);
            CHECK_EQ (seq, 6);
            s_stage (journal, seq, NULL);
            s_commit (journal, true);
        }
        brk_journal_destroy (&journal);
    }
}

static void
s_check_lock_reason (const char *reason)
{
    char lower [256];
    size_t i = 0;
    for (; reason [i] && i < sizeof lower - 1; i++)
        lower [i] = (char) tolower ((unsigned char) reason [i]);
    lower [i] = 0;
    if (!strstr (lower, "lock"))
        UNIT_FAIL ("reason does not mention the lock: '%s'", reason);
}

static void
test_journal_second_handle_fails (void)
{
    char dir [512];
    s_path (dir, sizeof dir, "journal");
    brk_journal_t *first = s_open (dir, true);
    for (int create = 0; create < 2; create++) {
        char reason [256] = "";
        brk_journal_t *second = brk_journal_open (dir, create, reason, sizeof reason);
        CHECK_NULL (second);
        s_check_lock_reason (reason);
    }
    //  The first handle is unharmed.
    uint64_t seq = brk_journal_next_seq (first);
    s_stage (first, seq, "scheduler");
    s_commit (first, true);
    s_check_entry (first, seq);
    brk_journal_destroy (&first);

    //  Once it is closed the directory opens again.
    brk_journal_t *second = s_open (dir, false);
    s_check_entry (second, seq);
    brk_journal_destroy (&second);
}

//  Another process holding the journal (a second broker on the same data
//  directory) keeps this one out too.
static void
test_journal_locked_by_other_process (void)
{
    char dir [512];
    s_path (dir, sizeof dir, "journal");
    brk_journal_t *journal = s_open (dir, true);
    brk_journal_destroy (&journal);
    int opened [2], release [2];
    CHECK_OK (pipe (opened));
    CHECK_OK (pipe (release));
    pid_t pid = fork ();
    CHECK (pid >= 0);
    if (pid == 0) {
        close (opened [0]);
        close (release [1]);
        char reason [256];
        journal = brk_journal_open (dir, false, reason, sizeof reason);
        char byte = journal ? 'y' : 'n';
        //  Holds the journal until the parent closes its end of `release`.
        bool ok = write (opened [1], &byte, 1) == 1 && read (release [0], &byte, 1) == 0;
        brk_journal_destroy (&journal);
        _exit (ok ? 0 : 1);
    }
    close (opened [1]);
    close (release [0]);
    char byte = 0;
    CHECK_EQ (read (opened [0], &byte, 1), 1);
    CHECK_EQ (byte, 'y');
    char reason [256] = "";
    CHECK_NULL (brk_journal_open (dir, false, reason, sizeof reason));
    s_check_lock_reason (reason);
    close (release [1]);                // the child closes its journal and exits
    int status;
    CHECK_EQ (waitpid (pid, &status, 0), pid);
    CHECK (WIFEXITED (status) && WEXITSTATUS (status) == 0);
    close (opened [0]);
    journal = s_open (dir, false);
    brk_journal_destroy (&journal);
}

static void
test_journal_destroy_null (void)
{
    brk_journal_destroy (NULL);
    brk_journal_t *journal = NULL;
    brk_journal_destroy (&journal);
    CHECK_NULL (journal);
}

static const unit_test_t s_tests [] = {
    UNIT_TEST (test_journal_create_empty),
    UNIT_TEST (test_journal_open_missing_fails),
    UNIT_TEST (test_journal_stage_commit_get),
    UNIT_TEST (test_journal_large_entry),
    UNIT_TEST (test_journal_scan_from),
    UNIT_TEST (test_journal_numeric_order),
    UNIT_TEST (test_journal_head_follows_staged),
    UNIT_TEST (test_journal_held_and_release),
    UNIT_TEST (test_journal_persists_across_reopen),
    UNIT_TEST (test_journal_second_handle_fails),
    UNIT_TEST (test_journal_locked_by_other_process),
    UNIT_TEST (test_journal_destroy_null),
};

UNIT_SUITE (unit_suite_journal, s_tests);
