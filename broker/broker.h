//  brk - the dynod broker: one ROUTER socket for actors and clients
//
//  Keeps the directory of live peers, routes messages by actor name, by
//  instance (`name@instance`) and by topic (`topic:NAME`), heartbeats both
//  ways and publishes `actor.up` / `actor.down`, and journals every durable
//  message in LevelDB with group commit before acknowledging or delivering
//  it. Durable messages are held until their actor says `delivered`, and
//  redelivered in order when it registers again. Bad input is answered with
//  an `error` where the sender can be told, counted, and dropped. The
//  loopback endpoint uses NULL security and the API token; `listen` adds a
//  CURVE endpoint for other hosts (docs/security.md).

#ifndef BRK_BROKER_H
#define BRK_BROKER_H

#include <stdbool.h>

#define BRK_DEFAULT_ENDPOINT  "tcp://127.0.0.1:7700"
#define BRK_DRAIN_MAX         8192      // frames handled per group commit
#define BRK_SCAN_MAX          10000     // journal entries scanned per read
#define BRK_READ_BYTES_MAX    (900 * 1024)    // entries per journal.batch, and the
                                                //  largest durable message
#define BRK_SCAN_BYTES_MAX    (16 * 1024 * 1024) // decoded per journal.read
#define BRK_READ_DEFAULT      1000      // journal.read limit when not given
#define BRK_READ_MAX          10000     // journal.read limit at most

typedef struct {
    const char *endpoint;       // ROUTER bind endpoint
    const char *data_dir;       // LevelDB journal lives in <data_dir>/journal
    const char *token;          // API token every hello must carry
    int heartbeat_ms;           // default ACT_HEARTBEAT_MS
    int liveness;               // default ACT_LIVENESS
    bool no_sync;               // skip fsync (tests of routing only)
    //  CURVE (broker/zap.h): an endpoint for other hosts, always CURVE,
    //  admitting only the keys of <data_dir>/keys/allowed; its server key
    //  is <data_dir>/keys/host.key (created if missing). NULL: none.
    const char *listen;
    int max_clock_skew_ms;      // hello ts vs ours; default BRK_CLOCK_SKEW_MS
} brk_config_t;

#define BRK_CLOCK_SKEW_MS   30000

//  Runs the broker until SIGTERM/SIGINT. Prints `broker ready <endpoint>`
//  on stdout once bound. Returns 0, or a negative code when it cannot bind
//  or open its journal, or polling fails (reason logged).
int brk_run (const brk_config_t *cfg);

#endif
