//  bdy_system - the `dynod up` a phase of the dynos benchmark runs against
//
//  See bench.h (bdy_system_start). Shared with bench-hosts, which measures
//  failover with the same system and phase (bench_scale.c).

#include "bench.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define BDY_READY_MS        40000   // dynod up must print its ready line by then
#define BDY_STOP_MS         15000   // SIGTERM, then SIGKILL after this long

int
bdy_system_start (bdy_t *self, const char *actors, const char *data, char *why, size_t why_len)
{
    char dir [320], ports [4][16];
    snprintf (dir, sizeof dir, "%s/%s", self->tmp, data);
    //  Made here: dynod up starts its actors beside the broker, which
    //  creates the data directory, and a supervisor that comes first
    //  cannot make its folders in it (then every dyno fails to start).
    mkdir (dir, 0700);
    snprintf (self->up_log, sizeof self->up_log, "%s/dynod-up-%s.log", self->tmp, data);
    for (int i = 0; i < 4; i++)
        snprintf (ports [i], sizeof ports [i], "%d", bcm_free_port ());
    snprintf (self->endpoint, sizeof self->endpoint, "tcp://127.0.0.1:%s", ports [0]);
    char *argv [20] = {
        "dynod", "up", "--data", dir, "--broker-port", ports [0], "--http-port", ports [1],
        "--https-port", ports [2], "--logs-port", ports [3], NULL
    };
    if (*actors) {
        argv [12] = "--actors";
        argv [13] = (char *) actors;
        argv [14] = NULL;
    }
    pid_t pid = bcm_child_start (self->dynod, argv, self->up_log, &self->up_out);
    if (pid < 0) {
        snprintf (why, why_len, "cannot start '%s up': %s", self->dynod, strerror (errno));
        return -1;
    }
    self->up = pid;
    setenv ("DYNOD_BROKER", self->endpoint, 1);
    if (bcm_wait_line (self->up_out, "dynod ready:", BDY_READY_MS) == 0)
        return 0;
    bcm_log_tail ("bench-dynos", self->dynod, "up", self->up_log);
    snprintf (why, why_len, "dynod up did not get ready");
    return -1;
}

void
bdy_system_stop (bdy_t *self)
{
    bcm_child_stop (self->up, BDY_STOP_MS);
    self->up = 0;
    if (self->up_out >= 0)
        close (self->up_out);
    self->up_out = -1;
}

