//  sbx_init - the dyno's pid 1 and the start of its command
//
//  Owns the code that runs in the clone()d child, pid 1 of the dyno's new
//  PID namespace: it joins the cgroup, keeps only the fds it needs, makes
//  the mounts (mounts.h), sets the host name, dies with the supervisor
//  (PR_SET_PDEATHSIG), and forks the command, which becomes the app user
//  (no capabilities, no bounding set, no_new_privs), gets a session of its
//  own (and the tty as controlling terminal), moves to /app and execs. Pid
//  1 then forwards SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1 and SIGUSR2 to
//  the command's process group, reaps every orphan, and exits with the
//  command's status (128+N when signal N killed it) as soon as the command
//  is gone; the kernel then kills what is left of the namespace.
//
//  A failure before the exec is written as one line to err_fd (close-on-
//  exec in both processes), whose EOF without data tells the caller the
//  command runs.

#ifndef SBX_INIT_H
#define SBX_INIT_H

#include "cgroup.h"
#include "sandbox.h"

typedef struct {
    const sbx_spec_t *spec;
    const char *lower;              // the overlay's lower layer
    int cg_fds [SBX_CG_DIRS];       // cgroup.procs to join, -1 unused
    int err_fd;                     // write end of the start pipe
} sbx_init_t;

//  The clone() entry point; arg is a sbx_init_t. Never returns.
int sbx_init_main (void *arg);

//  Exit statuses of pid 1 when the command could not start.
#define SBX_EXIT_SETUP  126         // namespace setup failed
#define SBX_EXIT_EXEC   127         // the command could not be executed

#endif
