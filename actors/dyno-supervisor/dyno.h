//  dyno - one dyno's lifecycle on this host
//
//  Owns: the dyno's assignment entry, its phase, its timers (boot
//  timeout, health probes, stop grace, crash back-off, daily cycling,
//  memory checks, attach keep-alive) and, through proc.c, its processes.
//  Accepts: events from the supervisor (unassigned, run.input) and from
//  its own timers and process. Emits: dyno.state on every state change,
//  its `dynod[NAME]` log lines, run.exit (attached one-offs).
//
//  Phases (internal) and the state they publish:
//      PREPARING  starting   fetching the slug and the config vars
//      STARTING   starting   running; a web dyno until its port answers
//      UP         up
//      STOPPING   (as was)   SIGTERM sent; SIGKILL after the grace (R12)
//      CRASHED    crashed    waiting out the back-off before a restart
//      DONE       down / crashed   ended for good (stopped, or a one-off)
//  The transitions are the table s_table in dyno.c (docs/dynos.md has it
//  too).

#ifndef SUP_DYNO_H
#define SUP_DYNO_H

#include "lines.h"
#include "probe.h"
#include "sup.h"

typedef enum { SUP_P_PREPARING, SUP_P_STARTING, SUP_P_UP, SUP_P_STOPPING, SUP_P_CRASHED,
               SUP_P_DONE, SUP_P_COUNT } sup_phase_t;

//  The struct is shared with proc.c; other files use the functions.
struct sup_dyno {
    sup_t *sup;                 // borrowed: the supervisor holding it
    json_t *spec;               // owned: the assignment entry
    const char *app, *id, *name, *type, *command, *attach, *healthcheck;   // in spec
    bool web, oneoff, tty;
    int64_t mem_mb, boot_timeout_ms;
    int64_t uid;                // the app's uid, -1 until looked up
    sup_phase_t phase;
    const char *state;          // published: "starting", "up", "crashed", "down"
    int64_t since_ms;           // wall ms it entered `state`
    const char *reason;         // why, when not by itself (static text) or NULL
    const char *kill_reason;    // R10 / R15 while a SIGKILL it sent takes effect
    bool assigned, cycling, port_ok, detached;
    int exit_status;            // -1 until it exits
    int restarts;
    int64_t started;            // mono ms of the last start
    int64_t boot_deadline, probe_at, stop_deadline, restart_at, cycle_at, mem_at, r14_at;
    int64_t input_at;           // last run.input (attached one-offs)
    int port;                   // web: PORT, chosen at each start
    sup_probe_t *probe;         // a health probe in flight
    int64_t probe_deadline;
    int probe_passes;           // consecutive passes
    char why [320];             // a preparation failure
    //  The process (proc.c).
    sbx_t *sbx;
    pid_t pid;
    int pidfd, out_fd, err_fd, in_fd;       // -1 when closed; a pty: out_fd = in_fd = master
    bool exited;
    int64_t exited_at;
    int64_t oom_kills;          // the kernel's OOM kills in its cgroup, read as it ended
    sup_lines_t out_lines, err_lines;
    char *in_buf;               // stdin bytes not written yet
    size_t in_len;
    bool in_eof;
};

//  A dyno of `app` for assignment entry `entry` (borrowed; checked by
//  assign.c), preparing to start (published `starting`). Caller owns
//  result.
sup_dyno_t *sup_dyno_new (sup_t *sup, const char *app, const json_t *entry);
//  Kills what is left of it at once (supervisor stop) and frees.
void sup_dyno_destroy (sup_dyno_t **self_p);

//  The assignment no longer lists it: stop it (SIGTERM, grace, SIGKILL).
void sup_dyno_unassign (sup_dyno_t *self);
//  True once it is unassigned and gone: the supervisor drops it.
bool sup_dyno_finished (const sup_dyno_t *self);

//  Timers and process events; called from the supervisor's tick.
void sup_dyno_tick (sup_dyno_t *self, int64_t mono);
//  When sup_dyno_tick next has something to do (mono ms), or INT64_MAX.
int64_t sup_dyno_deadline (const sup_dyno_t *self);

//  run.input for this dyno (from its attach address: checked by the caller).
void sup_dyno_on_input (sup_dyno_t *self, const msg_t *msg);

//  Its dyno.state body now. Caller owns result.
json_t *sup_dyno_state_body (const sup_dyno_t *self);

#endif
