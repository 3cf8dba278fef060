//  bch frames - the clock and the ping template of the broker benchmark
//
//  Shared with bench-hosts, which runs the same throughput measurement
//  (bench_run.c) over CURVE and NULL connections.

#include "bench.h"

#include <string.h>
#include <time.h>

int64_t
bch_now_ns (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return (int64_t) ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int
bch_make_frames (bch_t *b)
{
    msg_t *msg = act_client_msg_new (b->tx, MSG_TYPE_PING, act_client_address (b->rx));
    size_t plain_len, durable_len;
    msg->durable = false;
    int rc = msg_encode (msg, &b->plain, &plain_len, NULL);
    msg->durable = true;
    rc = rc ? rc : msg_encode (msg, &b->durable, &durable_len, NULL);
    b->id_off = 0;
    for (size_t i = 0; rc == 0 && i + MSG_ID_LEN <= plain_len && !b->id_off; i++)
        if (memcmp (b->plain + i, msg->id, MSG_ID_LEN) == 0)
            b->id_off = i;
    msg_destroy (&msg);
    b->frame_len = plain_len;
    return rc || !b->id_off || plain_len != durable_len ? -1 : 0;
}
