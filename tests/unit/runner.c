//  runner - runs every unit test in its own process with a timeout
//
//  Usage: unit-runner [SUBSTRING]   runs the tests whose suite/name
//  contains SUBSTRING (all by default). Prints `ok suite/name` or
//  `FAIL suite/name: why` per test, then `unit: N passed, N failed`.
//  UNIT_TIMEOUT (seconds, default 60) bounds each test.

#include "unit.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

//  Every suite, one per tests/unit/test_*.c file.
extern const unit_suite_t unit_suite_msg;
extern const unit_suite_t unit_suite_msg_reject;
extern const unit_suite_t unit_suite_msg_body;
extern const unit_suite_t unit_suite_journal;
extern const unit_suite_t unit_suite_directory;
extern const unit_suite_t unit_suite_broker;
extern const unit_suite_t unit_suite_broker_durable;
extern const unit_suite_t unit_suite_broker_limits;
extern const unit_suite_t unit_suite_brk_snapshots;
extern const unit_suite_t unit_suite_brk_vault;
extern const unit_suite_t unit_suite_brk_allow;
extern const unit_suite_t unit_suite_act;
extern const unit_suite_t unit_suite_act_fake;
extern const unit_suite_t unit_suite_rel_apps;
extern const unit_suite_t unit_suite_procfile;
extern const unit_suite_t unit_suite_rel_deploy;
extern const unit_suite_t unit_suite_rel_releases;
extern const unit_suite_t unit_suite_rel_acme;
extern const unit_suite_t unit_suite_sch_releases;
extern const unit_suite_t unit_suite_sch_formation;
extern const unit_suite_t unit_suite_sch_placement;
extern const unit_suite_t unit_suite_sch_rollout;
extern const unit_suite_t unit_suite_sch_grammar;
extern const unit_suite_t unit_suite_lpx_ring;
extern const unit_suite_t unit_suite_lpx_line;
extern const unit_suite_t unit_suite_lpx_plex;
extern const unit_suite_t unit_suite_lpx_filter;
extern const unit_suite_t unit_suite_lpx_tail;
extern const unit_suite_t unit_suite_lpx_request;
extern const unit_suite_t unit_suite_lpx_store;
extern const unit_suite_t unit_suite_rtr_parts;
extern const unit_suite_t unit_suite_rtr_hosts;
extern const unit_suite_t unit_suite_rel_domains;
extern const unit_suite_t unit_suite_rtr_tls;
extern const unit_suite_t unit_suite_rel_seal;
extern const unit_suite_t unit_suite_lpx_drain;
extern const unit_suite_t unit_suite_cfg_vars;
extern const unit_suite_t unit_suite_cfg_keeper;
extern const unit_suite_t unit_suite_replay;
extern const unit_suite_t unit_suite_cli_logs;
extern const unit_suite_t unit_suite_sbx;
extern const unit_suite_t unit_suite_sup_assign;
extern const unit_suite_t unit_suite_sup_backoff;
extern const unit_suite_t unit_suite_sup_lines;

static const unit_suite_t *const s_suites [] = {
    &unit_suite_msg,     &unit_suite_msg_reject,     &unit_suite_msg_body,
    &unit_suite_journal, &unit_suite_directory,
    &unit_suite_broker,  &unit_suite_broker_durable, &unit_suite_broker_limits,
    &unit_suite_brk_snapshots,
    &unit_suite_brk_vault,
    &unit_suite_brk_allow,
    &unit_suite_act,     &unit_suite_act_fake,
    &unit_suite_rel_apps, &unit_suite_replay,
    &unit_suite_procfile, &unit_suite_rel_deploy,
    &unit_suite_rel_acme,
    &unit_suite_rel_releases, &unit_suite_sch_releases, &unit_suite_sch_formation,
    &unit_suite_sch_placement, &unit_suite_sch_rollout, &unit_suite_sch_grammar,
    &unit_suite_lpx_ring, &unit_suite_lpx_line, &unit_suite_lpx_plex,
    &unit_suite_lpx_filter, &unit_suite_lpx_tail, &unit_suite_lpx_request, &unit_suite_lpx_store,
    &unit_suite_lpx_drain,
    &unit_suite_cfg_vars, &unit_suite_cfg_keeper,
    &unit_suite_cli_logs,
    &unit_suite_sbx,
    &unit_suite_sup_assign, &unit_suite_sup_backoff, &unit_suite_sup_lines,
    &unit_suite_rtr_hosts, &unit_suite_rel_domains,
    &unit_suite_rtr_parts, &unit_suite_rtr_tls, &unit_suite_rel_seal,
};

//  Set in the forked child before the test runs; the child is one test.
static char s_tmpdir [256];

const char *
unit_tmpdir (void)
{
    return s_tmpdir;
}

int
unit_free_port (void)
{
    int fd = socket (AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in addr = { .sin_family = AF_INET, .sin_port = 0 };
    addr.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    if (bind (fd, (struct sockaddr *) &addr, sizeof addr) || getsockname (fd, (struct sockaddr *) &addr, &len)) {
        close (fd);
        return -1;
    }
    close (fd);
    return ntohs (addr.sin_port);
}

static int
s_run_one (const unit_suite_t *suite, const unit_test_t *test, int timeout_s, char *why, size_t why_len)
{
    char tmpl [] = "/tmp/dynod-unit.XXXXXX";
    if (!mkdtemp (tmpl)) {
        snprintf (why, why_len, "cannot create a temp dir");
        return 1;
    }
    int pipefd [2];
    if (pipe (pipefd))
        return 1;
    pid_t pid = fork ();
    if (pid == 0) {
        setpgid (0, 0);
        snprintf (s_tmpdir, sizeof s_tmpdir, "%s", tmpl);
        dup2 (pipefd [1], STDERR_FILENO);
        close (pipefd [0]);
        alarm ((unsigned) timeout_s);
        test->fn ();
        exit (0);
    }
    close (pipefd [1]);
    //  Collect the child's stderr (bounded) while it runs.
    char err [8192];
    size_t got = 0;
    fcntl (pipefd [0], F_SETFL, O_NONBLOCK);
    int status = 0;
    time_t deadline = time (NULL) + timeout_s + 5;
    for (;;) {
        ssize_t n = read (pipefd [0], err + got, sizeof err - 1 - got);
        if (n > 0)
            got += (size_t) n;
        pid_t done = waitpid (pid, &status, WNOHANG);
        if (done == pid)
            break;
        if (time (NULL) > deadline) {
            kill (-pid, SIGKILL);
            waitpid (pid, &status, 0);
            break;
        }
        if (n <= 0)
            usleep (2000);
    }
    ssize_t n;
    while (got < sizeof err - 1 && (n = read (pipefd [0], err + got, sizeof err - 1 - got)) > 0)
        got += (size_t) n;
    err [got] = 0;
    close (pipefd [0]);
    kill (-pid, SIGKILL);           // anything the test left running
    char cmd [300];
    snprintf (cmd, sizeof cmd, "rm -rf '%s'", tmpl);
    if (system (cmd) != 0)
        fprintf (stderr, "cannot remove %s\n", tmpl);
    if (WIFEXITED (status) && WEXITSTATUS (status) == 0)
        return 0;
    //  The last line of the child's stderr is usually the failed check.
    char *last = err;
    for (char *p = err; *p; p++)
        if (*p == '\n' && p [1])
            last = p + 1;
    last [strcspn (last, "\n")] = 0;
    if (WIFSIGNALED (status))
        snprintf (why, why_len, "%s signal %d%s%.900s", WTERMSIG (status) == SIGALRM ? "timed out:" : "killed by",
                  WTERMSIG (status), *last ? " - " : "", last);
    else
        snprintf (why, why_len, "%.1000s", *last ? last : "exited non-zero");
    (void) suite;
    return 1;
}

int
main (int argc, char **argv)
{
    const char *filter = argc > 1 ? argv [1] : NULL;
    int timeout_s = getenv ("UNIT_TIMEOUT") ? atoi (getenv ("UNIT_TIMEOUT")) : 60;
    int passed = 0, failed = 0;
    setvbuf (stdout, NULL, _IOLBF, 0);
    for (size_t s = 0; s < sizeof s_suites / sizeof s_suites [0]; s++) {
        const unit_suite_t *suite = s_suites [s];
        for (size_t t = 0; t < suite->count; t++) {
            char name [256];
            snprintf (name, sizeof name, "%s/%s", suite->name + strlen ("unit_suite_"), suite->tests [t].name);
            if (filter && !strstr (name, filter))
                continue;
            char why [1024] = "";
            if (s_run_one (suite, &suite->tests [t], timeout_s, why, sizeof why) == 0) {
                printf ("ok %s\n", name);
                passed++;
            }
            else {
                printf ("FAIL %s: %s\n", name, why);
                failed++;
            }
        }
    }
    printf ("unit: %d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
