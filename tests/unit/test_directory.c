//  test_directory - unit tests for the broker's directory of peers and holds
//
//  Covers broker/directory.h: adding peers and finding them by routing id
//  and address, picking an instance of a name (rotating, actors only),
//  other (), removal, the BRK_PEERS_MAX bound, topic subscriptions, and the
//  held-message list: push, find and release in and out of order, growth
//  and compaction of its buffer, the BRK_HELD_MAX bound and assign.

#include "unit.h"
#include "../../broker/directory.h"
#include "../../actors/common/act_base.h"

//  Adds a peer `name@instance` with a routing id derived from both.
static brk_peer_t *
s_add (brk_directory_t *dir, const char *name, const char *instance, bool actor)
{
    brk_peer_t *peer = brk_directory_add (dir);
    CHECK_NOT_NULL (peer);
    snprintf (peer->name, sizeof peer->name, "%s", name);
    snprintf (peer->instance, sizeof peer->instance, "%s", instance);
    snprintf (peer->address, sizeof peer->address, "%s@%s", name, instance);
    //  Routing ids are binary: start with a 0 byte as ZeroMQ's own do.
    peer->rid [0] = 0;
    int n = snprintf ((char *) peer->rid + 1, sizeof peer->rid - 1, "%s/%s", name, instance);
    peer->rid_len = (size_t) n + 1;
    peer->actor = actor;
    return peer;
}

static void
s_rid (const char *name, const char *instance, unsigned char rid [BRK_RID_MAX], size_t *len)
{
    rid [0] = 0;
    int n = snprintf ((char *) rid + 1, BRK_RID_MAX - 1, "%s/%s", name, instance);
    *len = (size_t) n + 1;
}

static void
s_check_found (brk_directory_t *dir, const char *name, const char *instance)
{
    char address [MSG_ADDR_MAX];
    snprintf (address, sizeof address, "%s@%s", name, instance);
    brk_peer_t *peer = brk_directory_by_address (dir, address);
    if (!peer)
        UNIT_FAIL ("'%s' not found by address", address);
    CHECK_STR_EQ (peer->name, name);
    CHECK_STR_EQ (peer->instance, instance);
    unsigned char rid [BRK_RID_MAX];
    size_t len;
    s_rid (name, instance, rid, &len);
    CHECK (brk_directory_by_rid (dir, rid, len) == peer);
}

static void
test_directory_add_and_lookup (void)
{
    brk_directory_t *dir = brk_directory_new ();
    CHECK_EQ (brk_directory_count (dir), 0);
    brk_peer_t *a = s_add (dir, "scheduler", "host-1", true);
    a->pid = 42;
    brk_peer_t *b = s_add (dir, "cli", "laptop", false);
    CHECK (a != b);
    CHECK_EQ (brk_directory_count (dir), 2);
    CHECK (brk_directory_at (dir, 0) == a);
    CHECK (brk_directory_at (dir, 1) == b);

    s_check_found (dir, "scheduler", "host-1");
    s_check_found (dir, "cli", "laptop");
    CHECK_EQ (brk_directory_by_address (dir, "scheduler@host-1")->pid, 42);
    CHECK_NULL (brk_directory_by_address (dir, "scheduler@host-2"));
    CHECK_NULL (brk_directory_by_address (dir, "scheduler"));
    CHECK_NULL (brk_directory_by_address (dir, ""));
    //  A routing id matches only with its exact length.
    unsigned char rid [BRK_RID_MAX];
    size_t len;
    s_rid ("scheduler", "host-1", rid, &len);
    CHECK_NULL (brk_directory_by_rid (dir, rid, len - 1));
    rid [len] = 'x';
    CHECK_NULL (brk_directory_by_rid (dir, rid, len + 1));
    CHECK_NULL (brk_directory_by_rid (dir, "", 0));
    rid [1] ^= 0x20;
    CHECK_NULL (brk_directory_by_rid (dir, rid, len));
    //  The longest routing id works too.
    brk_peer_t *c = brk_directory_add (dir);
    memset (c->rid, 0xff, BRK_RID_MAX);
    c->rid_len = BRK_RID_MAX;
    memset (rid, 0xff, BRK_RID_MAX);
    CHECK (brk_directory_by_rid (dir, rid, BRK_RID_MAX) == c);
    brk_directory_destroy (&dir);
    CHECK_NULL (dir);
}

//  A new record is zeroed even where a removed one held data.
static void
test_directory_add_is_zeroed (void)
{
    brk_directory_t *dir = brk_directory_new ();
    brk_peer_t *peer = s_add (dir, "scheduler", "host-1", true);
    peer->pid = 7;
    peer->singleton = true;
    peer->msgs_in = 9;
    peer->topic_count = 1;
    snprintf (peer->topics [0], BRK_TOPIC_LEN, "actor.up");
    brk_directory_remove (dir, peer);
    CHECK_EQ (brk_directory_count (dir), 0);
    peer = brk_directory_add (dir);
    static const brk_peer_t zero;
    CHECK (memcmp (peer, &zero, sizeof zero) == 0);
    brk_directory_destroy (&dir);
}

static void
test_directory_pick_rotates (void)
{
    brk_directory_t *dir = brk_directory_new ();
    CHECK_NULL (brk_directory_pick (dir, "scheduler"));
    s_add (dir, "log-plex", "host-1", true);
    s_add (dir, "scheduler", "host-1", true);
    s_add (dir, "scheduler", "cli-pretender", false);       // a client: never picked
    s_add (dir, "scheduler", "host-2", true);
    s_add (dir, "router", "host-1", true);
    s_add (dir, "scheduler", "host-3", true);

    //  Every instance once per round, in the same order each round.
    brk_peer_t *round [3];
    for (int pick = 0; pick < 9; pick++) {
        brk_peer_t *peer = brk_directory_pick (dir, "scheduler");
        CHECK_NOT_NULL (peer);
        CHECK (peer->actor);
        CHECK_STR_EQ (peer->name, "scheduler");
        if (pick < 3) {
            for (int k = 0; k < pick; k++)
                CHECK (round [k] != peer);
            round [pick] = peer;
        }
        else
            CHECK (round [pick % 3] == peer);
    }
    CHECK_NULL (brk_directory_pick (dir, "config-keeper"));
    CHECK_NULL (brk_directory_pick (dir, "schedule"));
    //  A single instance is always the one.
    brk_peer_t *plex = brk_directory_by_address (dir, "log-plex@host-1");
    for (int pick = 0; pick < 3; pick++)
        CHECK (brk_directory_pick (dir, "log-plex") == plex);
    brk_directory_destroy (&dir);

    //  Only clients by that name: nothing to pick.
    dir = brk_directory_new ();
    s_add (dir, "cli", "a", false);
    s_add (dir, "cli", "b", false);
    CHECK_NULL (brk_directory_pick (dir, "cli"));
    brk_directory_destroy (&dir);
}

//  Picking keeps working after removals leave the cursor past the end.
static void
test_directory_pick_after_remove (void)
{
    brk_directory_t *dir = brk_directory_new ();
    s_add (dir, "scheduler", "host-1", true);
    s_add (dir, "log-plex", "host-1", true);
    s_add (dir, "log-plex", "host-2", true);
    s_add (dir, "scheduler", "host-2", true);
    CHECK_NOT_NULL (brk_directory_pick (dir, "scheduler"));
    CHECK_NOT_NULL (brk_directory_pick (dir, "scheduler"));       // cursor at the end
    brk_directory_remove (dir, brk_directory_by_address (dir, "scheduler@host-2"));
    brk_directory_remove (dir, brk_directory_by_address (dir, "log-plex@host-2"));
    for (int pick = 0; pick < 3; pick++) {
        brk_peer_t *peer = brk_directory_pick (dir, "scheduler");
        CHECK_NOT_NULL (peer);
        CHECK_STR_EQ (peer->address, "scheduler@host-1");
    }
    brk_directory_remove (dir, brk_directory_by_address (dir, "scheduler@host-1"));
    CHECK_NULL (brk_directory_pick (dir, "scheduler"));
    brk_directory_remove (dir, brk_directory_by_address (dir, "log-plex@host-1"));
    CHECK_EQ (brk_directory_count (dir), 0);
    CHECK_NULL (brk_directory_pick (dir, "log-plex"));
    brk_directory_destroy (&dir);
}

static void
test_directory_other (void)
{
    brk_directory_t *dir = brk_directory_new ();
    brk_peer_t *a = s_add (dir, "scheduler", "host-1", true);
    s_add (dir, "scheduler", "cli", false);
    CHECK_NULL (brk_directory_other (dir, "scheduler", a));
    CHECK (brk_directory_other (dir, "scheduler", NULL) == a);
    brk_peer_t *b = s_add (dir, "scheduler", "host-2", true);
    s_add (dir, "log-plex", "host-1", true);
    CHECK (brk_directory_other (dir, "scheduler", a) == b);
    CHECK (brk_directory_other (dir, "scheduler", b) == a);
    brk_peer_t *any = brk_directory_other (dir, "scheduler", NULL);
    CHECK (any == a || any == b);
    CHECK_NULL (brk_directory_other (dir, "router", NULL));
    //  A peer of another name is never "other".
    brk_peer_t *plex = brk_directory_by_address (dir, "log-plex@host-1");
    CHECK (brk_directory_other (dir, "log-plex", NULL) == plex);
    CHECK_NULL (brk_directory_other (dir, "log-plex", plex));
    brk_directory_destroy (&dir);
}

static void
test_directory_remove (void)
{
    brk_directory_t *dir = brk_directory_new ();
    static const char *instances [] = { "a", "b", "c", "d", "e" };
    for (size_t i = 0; i < 5; i++)
        s_add (dir, "scheduler", instances [i], true);
    //  The middle, the first and the last.
    brk_directory_remove (dir, brk_directory_by_address (dir, "scheduler@b"));
    CHECK_EQ (brk_directory_count (dir), 4);
    CHECK_NULL (brk_directory_by_address (dir, "scheduler@b"));
    brk_directory_remove (dir, brk_directory_by_address (dir, "scheduler@a"));
    CHECK_EQ (brk_directory_count (dir), 3);
    s_check_found (dir, "scheduler", "c");
    s_check_found (dir, "scheduler", "d");
    s_check_found (dir, "scheduler", "e");
    brk_directory_remove (dir, brk_directory_at (dir, brk_directory_count (dir) - 1));
    CHECK_EQ (brk_directory_count (dir), 2);
    //  Every remaining record is distinct and reachable by index.
    size_t found = 0;
    for (size_t i = 0; i < brk_directory_count (dir); i++) {
        brk_peer_t *peer = brk_directory_at (dir, i);
        CHECK (brk_directory_by_address (dir, peer->address) == peer);
        found++;
    }
    CHECK_EQ (found, 2);
    //  A record past the live ones is ignored.
    brk_peer_t *stale = brk_directory_at (dir, 3);
    brk_directory_remove (dir, stale);
    CHECK_EQ (brk_directory_count (dir), 2);
    while (brk_directory_count (dir))
        brk_directory_remove (dir, brk_directory_at (dir, 0));
    CHECK_NULL (brk_directory_by_address (dir, "scheduler@c"));
    brk_directory_destroy (&dir);
}

static void
test_directory_capacity (void)
{
    brk_directory_t *dir = brk_directory_new ();
    for (size_t i = 0; i < BRK_PEERS_MAX; i++) {
        char instance [16];
        snprintf (instance, sizeof instance, "i%zu", i);
        s_add (dir, "dyno-supervisor", instance, true);
    }
    CHECK_EQ (brk_directory_count (dir), BRK_PEERS_MAX);
    CHECK_NULL (brk_directory_add (dir));
    CHECK_NULL (brk_directory_add (dir));
    CHECK_EQ (brk_directory_count (dir), BRK_PEERS_MAX);
    s_check_found (dir, "dyno-supervisor", "i0");
    s_check_found (dir, "dyno-supervisor", "i1023");
    //  Removing one makes room for exactly one.
    brk_directory_remove (dir, brk_directory_by_address (dir, "dyno-supervisor@i500"));
    brk_peer_t *peer = brk_directory_add (dir);
    CHECK_NOT_NULL (peer);
    CHECK_NULL (brk_directory_add (dir));
    brk_directory_destroy (&dir);
}

static void
test_directory_topics (void)
{
    brk_directory_t *dir = brk_directory_new ();
    brk_peer_t *peer = s_add (dir, "router", "host-1", true);
    CHECK (!brk_peer_subscribed (peer, "actor.up"));
    snprintf (peer->topics [0], BRK_TOPIC_LEN, "actor.up");
    snprintf (peer->topics [1], BRK_TOPIC_LEN, "actor.down");
    //  Only the first topic_count entries count.
    CHECK (!brk_peer_subscribed (peer, "actor.up"));
    peer->topic_count = 2;
    CHECK (brk_peer_subscribed (peer, "actor.up"));
    CHECK (brk_peer_subscribed (peer, "actor.down"));
    CHECK (!brk_peer_subscribed (peer, "actor"));
    CHECK (!brk_peer_subscribed (peer, "actor.up.x"));
    CHECK (!brk_peer_subscribed (peer, ""));
    for (size_t i = 2; i < BRK_TOPICS_MAX; i++)
        snprintf (peer->topics [i], BRK_TOPIC_LEN, "topic.%zu", i);
    peer->topic_count = BRK_TOPICS_MAX;
    CHECK (brk_peer_subscribed (peer, "topic.15"));
    CHECK (brk_peer_subscribed (peer, "actor.down"));
    brk_peer_t *other = s_add (dir, "scheduler", "host-1", true);
    CHECK (!brk_peer_subscribed (other, "actor.up"));
    brk_directory_destroy (&dir);
}

// ---------------------------------------------------------------------------
//  Held messages

static void
s_check_held (brk_directory_t *dir, const uint64_t *seqs, size_t count)
{
    CHECK_EQ (brk_held_count (dir), count);
    for (size_t i = 0; i < count; i++) {
        brk_held_t *held = brk_held_at (dir, i);
        if (held->seq != seqs [i])
            UNIT_FAIL ("held [%zu] is %llu, not %llu", i, (unsigned long long) held->seq,
                       (unsigned long long) seqs [i]);
        char dest [32];
        snprintf (dest, sizeof dest, "actor-%llu", (unsigned long long) seqs [i]);
        CHECK_STR_EQ (held->dest, dest);
        CHECK (brk_held_find (dir, seqs [i]) == held);
    }
}

static void
s_push (brk_directory_t *dir, uint64_t seq)
{
    char dest [32];
    snprintf (dest, sizeof dest, "actor-%llu", (unsigned long long) seq);
    CHECK_OK (brk_held_push (dir, seq, dest));
}

static void
test_held_in_order (void)
{
    brk_directory_t *dir = brk_directory_new ();
    CHECK_EQ (brk_held_count (dir), 0);
    CHECK_NULL (brk_held_find (dir, 1));
    CHECK (!brk_held_release (dir, 1));
    uint64_t seqs [100];
    for (size_t i = 0; i < 100; i++) {
        seqs [i] = 10 + 3 * i;              // gaps, as topics are never held
        s_push (dir, seqs [i]);
    }
    s_check_held (dir, seqs, 100);
    CHECK_NULL (brk_held_find (dir, 11));
    CHECK_NULL (brk_held_find (dir, 9));
    CHECK_NULL (brk_held_find (dir, 1000));
    CHECK_NULL (brk_held_at (dir, 0)->assigned);
    for (size_t i = 0; i < 100; i++) {
        CHECK (brk_held_release (dir, seqs [i]));
        CHECK (!brk_held_release (dir, seqs [i]));
        CHECK_NULL (brk_held_find (dir, seqs [i]));
        s_check_held (dir, seqs + i + 1, 100 - i - 1);
    }
    //  Empty again: new pushes start over.
    s_push (dir, 5000);
    s_check_held (dir, (const uint64_t []) { 5000 }, 1);
    brk_directory_destroy (&dir);
}

static void
test_held_out_of_order (void)
{
    brk_directory_t *dir = brk_directory_new ();
    for (uint64_t seq = 1; seq <= 10; seq++)
        s_push (dir, seq);
    CHECK (brk_held_release (dir, 5));
    CHECK (brk_held_release (dir, 1));
    CHECK (brk_held_release (dir, 10));
    CHECK (brk_held_release (dir, 3));
    CHECK (!brk_held_release (dir, 3));
    CHECK (!brk_held_release (dir, 11));
    CHECK (!brk_held_release (dir, 0));
    s_check_held (dir, (const uint64_t []) { 2, 4, 6, 7, 8, 9 }, 6);
    for (uint64_t seq = 1; seq <= 10; seq += 2) {
        bool held = seq == 7 || seq == 9;
        CHECK_EQ (brk_held_find (dir, seq) != NULL, held);
    }
    //  Pushing after out-of-order releases keeps the order.
    s_push (dir, 11);
    s_push (dir, 12);
    CHECK (brk_held_release (dir, 8));
    CHECK (brk_held_release (dir, 2));
    s_check_held (dir, (const uint64_t []) { 4, 6, 7, 9, 11, 12 }, 6);
    //  Release from the back down to nothing.
    static const uint64_t back [] = { 12, 11, 9, 7, 6, 4 };
    for (size_t i = 0; i < 6; i++)
        CHECK (brk_held_release (dir, back [i]));
    CHECK_EQ (brk_held_count (dir), 0);
    s_push (dir, 13);
    s_check_held (dir, (const uint64_t []) { 13 }, 1);
    brk_directory_destroy (&dir);
}

//  The buffer grows, and compacts when releases have moved its start past
//  half its capacity; either way the list keeps its order and contents. The
//  phases assume the initial capacity of 1024: compaction on the first push
//  of phase 1, growth twice in phase 2, compaction again in phase 4.
static void
test_held_growth_and_compaction (void)
{
    static const struct { size_t push, release; } phases [] = {
        { 1024, 600 }, { 1, 0 }, { 2000, 0 }, { 0, 2100 }, { 1800, 0 },
    };
    brk_directory_t *dir = brk_directory_new ();
    size_t max = 5000;
    uint64_t *seqs = calloc (max, sizeof *seqs);
    for (size_t i = 0; i < max; i++)
        seqs [i] = 2 * i + 1;
    size_t first = 0, next = 0;             // live seqs are seqs [first..next)
    for (size_t p = 0; p < sizeof phases / sizeof phases [0]; p++) {
        for (size_t k = 0; k < phases [p].push; k++)
            s_push (dir, seqs [next++]);
        for (size_t k = 0; k < phases [p].release; k++)
            CHECK (brk_held_release (dir, seqs [first++]));
        s_check_held (dir, seqs + first, next - first);
        CHECK_NULL (brk_held_find (dir, seqs [first] - 1));
    }
    CHECK_EQ (next - first, 2125);
    //  A release from the middle of the compacted buffer.
    uint64_t middle = seqs [first + 1000];
    CHECK (brk_held_release (dir, middle));
    CHECK_NULL (brk_held_find (dir, middle));
    CHECK_EQ (brk_held_count (dir), 2124);
    CHECK (brk_held_find (dir, middle + 2) == brk_held_at (dir, 1000));
    brk_held_assign (dir, brk_held_at (dir, 0), "scheduler@host-1");
    free (seqs);
    brk_directory_destroy (&dir);
}

static void
test_held_limit (void)
{
    brk_directory_t *dir = brk_directory_new ();
    for (uint64_t seq = 1; seq <= BRK_HELD_MAX; seq++)
        CHECK_OK (brk_held_push (dir, seq, "scheduler"));
    CHECK_EQ (brk_held_count (dir), BRK_HELD_MAX);
    CHECK_EQ (brk_held_push (dir, BRK_HELD_MAX + 1, "scheduler"), ACT_EFULL);
    CHECK_EQ (brk_held_count (dir), BRK_HELD_MAX);
    CHECK_NULL (brk_held_find (dir, BRK_HELD_MAX + 1));
    CHECK_NOT_NULL (brk_held_find (dir, BRK_HELD_MAX));
    CHECK_NOT_NULL (brk_held_find (dir, BRK_HELD_MAX / 2));
    //  Room for one after one release, and no more.
    CHECK (brk_held_release (dir, 1));
    CHECK_OK (brk_held_push (dir, BRK_HELD_MAX + 1, "scheduler"));
    CHECK_EQ (brk_held_push (dir, BRK_HELD_MAX + 2, "scheduler"), ACT_EFULL);
    CHECK_EQ (brk_held_at (dir, BRK_HELD_MAX - 1)->seq, BRK_HELD_MAX + 1);
    CHECK_EQ (brk_held_at (dir, 0)->seq, 2);
    brk_directory_destroy (&dir);
}

static void
test_held_assign (void)
{
    brk_directory_t *dir = brk_directory_new ();
    char dest [] = "scheduler";
    CHECK_OK (brk_held_push (dir, 1, dest));
    CHECK_OK (brk_held_push (dir, 2, "log-plex@host-1"));
    CHECK_OK (brk_held_push (dir, 3, "router"));
    //  The directory keeps its own copy of the destination.
    dest [0] = 'X';
    brk_held_t *held = brk_held_find (dir, 1);
    CHECK_STR_EQ (held->dest, "scheduler");
    CHECK_NULL (held->assigned);
    char peer [] = "scheduler@host-1";
    brk_held_assign (dir, held, peer);
    peer [0] = 'X';
    CHECK_STR_EQ (held->assigned, "scheduler@host-1");
    brk_held_assign (dir, held, "scheduler@host-2");
    CHECK_STR_EQ (held->assigned, "scheduler@host-2");
    brk_held_assign (dir, held, NULL);
    CHECK_NULL (held->assigned);
    //  Assigned entries are freed on release and on destroy.
    brk_held_assign (dir, brk_held_find (dir, 2), "log-plex@host-1");
    brk_held_assign (dir, brk_held_find (dir, 3), "router@host-1");
    CHECK (brk_held_release (dir, 2));
    CHECK_STR_EQ (brk_held_find (dir, 3)->assigned, "router@host-1");
    CHECK_NULL (brk_held_find (dir, 1)->assigned);
    brk_directory_destroy (&dir);
}

static void
test_directory_destroy_null (void)
{
    brk_directory_destroy (NULL);
    brk_directory_t *dir = NULL;
    brk_directory_destroy (&dir);
    CHECK_NULL (dir);
}

static const unit_test_t s_tests [] = {
    UNIT_TEST (test_directory_add_and_lookup),
    UNIT_TEST (test_directory_add_is_zeroed),
    UNIT_TEST (test_directory_pick_rotates),
    UNIT_TEST (test_directory_pick_after_remove),
    UNIT_TEST (test_directory_other),
    UNIT_TEST (test_directory_remove),
    UNIT_TEST (test_directory_capacity),
    UNIT_TEST (test_directory_topics),
    UNIT_TEST (test_held_in_order),
    UNIT_TEST (test_held_out_of_order),
    UNIT_TEST (test_held_growth_and_compaction),
    UNIT_TEST (test_held_limit),
    UNIT_TEST (test_held_assign),
    UNIT_TEST (test_directory_destroy_null),
};

UNIT_SUITE (unit_suite_directory, s_tests);
