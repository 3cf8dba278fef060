//  entry - one formatted log line, shared by reference

#include "entry.h"
#include "../common/act_base.h"

#include <stdlib.h>
#include <string.h>

lpx_entry_t *
lpx_entry_new (const char *text, size_t len)
{
    lpx_entry_t *self = act_malloc (sizeof *self + len + 1);
    atomic_init (&self->refs, 1);
    self->len = (uint32_t) len;
    memcpy (self->text, text, len);
    self->text [len] = 0;
    return self;
}

lpx_entry_t *
lpx_entry_ref (lpx_entry_t *self)
{
    atomic_fetch_add_explicit (&self->refs, 1, memory_order_relaxed);
    return self;
}

void
lpx_entry_unref (lpx_entry_t **self_p)
{
    lpx_entry_t *self = *self_p;
    if (!self)
        return;
    *self_p = NULL;
    //  Release on every drop, acquire before the free: the freeing thread
    //  sees every other holder's last access finished.
    if (atomic_fetch_sub_explicit (&self->refs, 1, memory_order_acq_rel) == 1)
        free (self);
}
