//  msg_types_doc - the message table as markdown (`dynod protocol`, the
//  reference in docs/protocol.md); reads msg_types.c's table only

#include "msg_types.h"
#include "../actors/common/act_base.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

//  Appends printf-style text to a growing buffer.
static void __attribute__ ((format (printf, 4, 5)))
s_append (char **out, size_t *len, size_t *cap, const char *fmt, ...)
{
    va_list ap;
    va_start (ap, fmt);
    int n = vsnprintf (*out + *len, *cap - *len, fmt, ap);
    va_end (ap);
    if ((size_t) n >= *cap - *len) {
        while ((size_t) n >= *cap - *len)
            *cap *= 2;
        *out = act_realloc (*out, *cap);
        va_start (ap, fmt);
        vsnprintf (*out + *len, *cap - *len, fmt, ap);
        va_end (ap);
    }
    *len += (size_t) n;
}

char *
msg_types_markdown (void)
{
    size_t cap = 16384, len = 0;
    char *out = act_malloc (cap);
    out [0] = 0;
    for (size_t i = 0; i < MSG_TYPE_COUNT; i++) {
        const msg_type_t *t = msg_type_by_id ((msg_type_id_t) i);
        s_append (&out, &len, &cap, "### `%s`\n\nKind: %s. Durable by default: %s.%s\n\n%s\n\n",
                  t->name, msg_kind_name (t->kind), t->durable ? "yes" : "no",
                  msg_type_secret (t) ? " Never journaled: the broker refuses it sent durable." : "", t->doc);
        if (t->field_count == 0) {
            s_append (&out, &len, &cap, "Body: empty map.\n\n");
            continue;
        }
        s_append (&out, &len, &cap, "| field | type | required | meaning |\n|---|---|---|---|\n");
        for (size_t f = 0; f < t->field_count; f++)
            s_append (&out, &len, &cap, "| `%s` | %s | %s | %s |\n", t->fields [f].name,
                      msg_field_type_name (t->fields [f].type),
                      t->fields [f].required ? "yes" : "no", t->fields [f].doc);
        s_append (&out, &len, &cap, "\n");
    }
    return out;
}
