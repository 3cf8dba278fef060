//  entry - one formatted log line, shared by reference
//
//  A line is formatted once and then held by the app's ring (actor
//  thread), the hand-off queue and every tail queue it goes to (websocket
//  thread): each holder owns one reference, and the last unref frees it.
//  The count is atomic because the two threads drop their references
//  independently; the bytes never change after lpx_entry_new.

#ifndef LPX_ENTRY_H
#define LPX_ENTRY_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

typedef struct {
    atomic_uint refs;
    uint32_t len;               // bytes of text, without the NUL
    char text [];               // NUL-terminated
} lpx_entry_t;

//  A copy of the `len` bytes at `text` (borrowed) with one reference.
//  Caller owns result.
lpx_entry_t *lpx_entry_new (const char *text, size_t len);
//  One more reference to `self`; returns self (the new holder owns it).
lpx_entry_t *lpx_entry_ref (lpx_entry_t *self);
//  Drops the caller's reference and sets *self_p to NULL; frees on the
//  last one. Accepts NULL.
void lpx_entry_unref (lpx_entry_t **self_p);

#endif
