//  act_snapshot - what an actor may ask of the runtime's snapshots
//
//  The runtime writes a stateful actor's snapshot every so many durable
//  messages and at stop (act_snapshot.c), locally and to the broker, which
//  keeps the newest so the actor can be started on another host. State
//  that changes without a durable message (log-plex's drains and log
//  tokens) is in no journal: the actor asks for a snapshot right after
//  such a change, so it follows the actor when it moves.

#ifndef ACT_SNAPSHOT_H
#define ACT_SNAPSHOT_H

#include "act.h"

//  Writes the snapshot now (and sends it to the broker). No-op for an
//  actor without snapshot hooks or data directory; while a restore runs,
//  the snapshot is written when it ends.
void act_snapshot_now (act_t *self);

#endif
