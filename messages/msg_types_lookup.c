//  msg_types_lookup - finding message types and fields by id and name
//
//  The rows live in msg_types.c (msg_types_base) and msg_types_hosts.c
//  (msg_types_hosts); ids below MSG_TYPE_BASE_COUNT index the first.

#include "msg_types_internal.h"

#include <string.h>

bool
msg_type_secret (const msg_type_t *type)
{
    return type && type->id == MSG_TYPE_CERT_ADD;
}

const msg_type_t *
msg_type_by_id (msg_type_id_t id)
{
    if ((unsigned) id >= MSG_TYPE_COUNT)
        return NULL;
    return (unsigned) id < MSG_TYPE_BASE_COUNT ? &msg_types_base [id]
                                               : &msg_types_hosts [id - MSG_TYPE_BASE_COUNT];
}

const msg_type_t *
msg_type_by_name (const char *name, size_t len)
{
    for (size_t i = 0; i < MSG_TYPE_COUNT; i++) {
        const msg_type_t *t = msg_type_by_id ((msg_type_id_t) i);
        if (len > 0 && t->name [0] == name [0] && strlen (t->name) == len
        &&  memcmp (t->name, name, len) == 0)
            return t;
    }
    return NULL;
}

const msg_field_t *
msg_type_field (const msg_type_t *type, const char *name, size_t len)
{
    for (size_t i = 0; i < type->field_count; i++)
        if (len > 0 && type->fields [i].name [0] == name [0] && strlen (type->fields [i].name) == len
        &&  memcmp (type->fields [i].name, name, len) == 0)
            return &type->fields [i];
    return NULL;
}

const char *
msg_kind_name (msg_kind_t kind)
{
    static const char *names [] = { "control", "command", "reply", "event", "stream" };
    return names [kind];
}

const char *
msg_field_type_name (msg_field_type_t type)
{
    static const char *names [] = { "str", "int", "bool", "bin", "map", "array", "any", "bin array" };
    return names [type];
}
