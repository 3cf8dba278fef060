//  fuzz_envelope - libFuzzer target for the envelope decoder (msg_decode)
//
//  Every input is decoded in both modes, which must agree, and a decoded
//  body must keep to the size limits. What decodes must encode again, the
//  encoding must decode to an equal message (envelope fields, and the body as
//  json_equal would compare it), and encoding that copy must give the same
//  bytes. A copy of the input stamped with msg_stamp_seq must decode exactly
//  when the original did, with the new sequence number. Any broken rule
//  abort()s so the fuzzer reports it; `make fuzz` builds this with clang, and
//  the replay main (replay_main.c) runs the checked-in corpus under gcc.

#include "../../messages/msg.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

#define FUZZ_STAMP_SEQ  0x0102030405060708ull

static void
s_fail (const char *what)
{
    fprintf (stderr, "fuzz-envelope: %s\n", what);
    abort ();
}

//  The decoder's verdict must be a MSG_E* code with a terminated reason.
static void
s_check_error (const msg_error_t *err)
{
    if (err->code < MSG_ELAST || err->code > MSG_EFIRST)
        s_fail ("decode failed with a code outside MSG_E*");
    if (!memchr (err->reason, 0, sizeof err->reason) || err->reason [0] == 0)
        s_fail ("decode failed without a reason");
}

static bool
s_same_envelope (const msg_t *a, const msg_t *b)
{
    return a->seq == b->seq && a->type == b->type && a->ts == b->ts && a->durable == b->durable
        && strcmp (a->id, b->id) == 0 && strcmp (a->from, b->from) == 0
        && strcmp (a->to, b->to) == 0 && strcmp (a->corr, b->corr) == 0;
}

//  json_equal, but finding object keys by length: jansson's own looks them
//  up as C strings, so it cannot tell `a` from `a\0b`, which msgpack allows.
static bool
s_same_json (const json_t *a, const json_t *b)
{
    if (json_is_object (a) && json_is_object (b)) {
        if (json_object_size (a) != json_object_size (b))
            return false;
        const char *key;
        size_t key_len;
        json_t *value;
        json_object_keylen_foreach ((json_t *) a, key, key_len, value)
            if (!s_same_json (value, json_object_getn (b, key, key_len)))
                return false;
        return true;
    }
    if (json_is_array (a) && json_is_array (b)) {
        if (json_array_size (a) != json_array_size (b))
            return false;
        for (size_t i = 0; i < json_array_size (a); i++)
            if (!s_same_json (json_array_get (a, i), json_array_get (b, i)))
                return false;
        return true;
    }
    return json_equal (a, b);
}

//  Whether a decoded value keeps to the limits msg.h promises: no container
//  over MSG_MAX_ITEMS elements (pairs for maps), and no more than
//  `depth_left` nested non-empty containers.
static bool
s_within_limits (const json_t *v, int depth_left)
{
    size_t size = json_is_object (v) ? json_object_size (v)
                : json_is_array (v) ? json_array_size (v) : 0;
    if (size == 0)
        return true;
    if (size > MSG_MAX_ITEMS || depth_left < 1)
        return false;
    if (json_is_array (v)) {
        for (size_t i = 0; i < size; i++)
            if (!s_within_limits (json_array_get (v, i), depth_left - 1))
                return false;
        return true;
    }
    const char *key;
    json_t *value;
    json_object_foreach ((json_t *) v, key, value)
        if (!s_within_limits (value, depth_left - 1))
            return false;
    return true;
}

static bool
s_same (const msg_t *a, const msg_t *b)
{
    return s_same_envelope (a, b) && s_same_json (a->body, b->body);
}

//  Encodes `msg`; returns NULL only when the encoding is over MSG_MAX_SIZE
//  (float32 values grow to float64, so a message near the limit may).
static char *
s_encode (const msg_t *msg, size_t *len_p)
{
    char *buf = NULL;
    msg_error_t err = { 0, "" };
    int rc = msg_encode (msg, &buf, len_p, &err);
    if (rc == MSG_ETOOBIG)
        return NULL;
    if (rc) {
        fprintf (stderr, "fuzz-envelope: %s\n", err.reason);
        s_fail ("a decoded message does not encode");
    }
    return buf;
}

//  decode -> encode -> decode gives the same message, and encoding is a
//  fixed point from then on.
static void
s_check_round_trip (const msg_t *msg)
{
    size_t len;
    char *buf = s_encode (msg, &len);
    if (!buf)
        return;
    msg_error_t err = { 0, "" };
    msg_t *again = msg_decode (buf, len, MSG_DECODE_FULL, &err);
    if (!again) {
        fprintf (stderr, "fuzz-envelope: %s\n", err.reason);
        s_fail ("the encoding of a decoded message does not decode");
    }
    if (!s_same (msg, again))
        s_fail ("decode(encode(msg)) differs from msg");
    size_t len2;
    char *buf2 = s_encode (again, &len2);
    if (!buf2 || len2 != len || memcmp (buf, buf2, len) != 0)
        s_fail ("encoding a re-decoded message gives other bytes");
    //  Our own encoding always has the canonical seq slot.
    if (msg_stamp_seq (buf2, len2, FUZZ_STAMP_SEQ) != 0)
        s_fail ("msg_stamp_seq refused msg_encode's output");
    msg_t *stamped = msg_decode (buf2, len2, MSG_DECODE_HEAD, NULL);
    if (!stamped || stamped->seq != FUZZ_STAMP_SEQ)
        s_fail ("a stamped encoding does not decode with its seq");
    msg_destroy (&stamped);
    msg_t *copy = msg_dup (again);
    if (!s_same (copy, again))
        s_fail ("msg_dup differs from its original");
    msg_destroy (&copy);
    msg_destroy (&again);
    free (buf2);
    free (buf);
}

//  Stamping a copy of the input never touches bytes outside the seq slot,
//  and a stamped valid message stays valid with only its seq changed.
static void
s_check_stamp (const uint8_t *data, size_t size, const msg_t *full)
{
    //  Exactly `size` bytes, so sanitizers see any write past the end.
    unsigned char *copy = malloc (size ? size : 1);
    if (!copy)
        abort ();
    if (size)
        memcpy (copy, data, size);
    uint64_t seq = FUZZ_STAMP_SEQ ^ size;
    if (msg_stamp_seq (copy, size, seq) == 0) {
        msg_t *stamped = msg_decode (copy, size, MSG_DECODE_FULL, NULL);
        if ((stamped != NULL) != (full != NULL))
            s_fail ("stamping seq changed whether the input decodes");
        if (stamped) {
            if (stamped->seq != seq)
                s_fail ("stamped message decodes with another seq");
            stamped->seq = full->seq;
            if (!s_same (stamped, full))
                s_fail ("stamping seq changed more than seq");
        }
        msg_destroy (&stamped);
    }
    else if (size && memcmp (copy, data, size) != 0)
        s_fail ("msg_stamp_seq failed but wrote to the buffer");
    free (copy);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    msg_error_t full_err = { 0, "" }, head_err = { 0, "" };
    msg_t *full = msg_decode (data, size, MSG_DECODE_FULL, &full_err);
    msg_t *head = msg_decode (data, size, MSG_DECODE_HEAD, &head_err);
    if ((full != NULL) != (head != NULL))
        s_fail ("MSG_DECODE_FULL and MSG_DECODE_HEAD disagree");
    if (full) {
        if (!json_is_object (full->body) || head->body != NULL)
            s_fail ("decoded body is not an object in FULL mode or not NULL in HEAD mode");
        if (!s_same_envelope (full, head))
            s_fail ("MSG_DECODE_FULL and MSG_DECODE_HEAD read different envelopes");
        //  The envelope is the first level.
        if (!s_within_limits (full->body, MSG_MAX_DEPTH - 1))
            s_fail ("a decoded body breaks MSG_MAX_ITEMS or MSG_MAX_DEPTH");
        s_check_round_trip (full);
    }
    else {
        s_check_error (&full_err);
        s_check_error (&head_err);
        if (full_err.code != head_err.code)
            s_fail ("MSG_DECODE_FULL and MSG_DECODE_HEAD fail with different codes");
    }
    s_check_stamp (data, size, full);
    msg_destroy (&full);
    msg_destroy (&head);
    return 0;
}
