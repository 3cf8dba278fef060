//  msg_types_internal - the rows of the type table, split over two files
//
//  Private to messages/. msg_types_base holds the ids below
//  MSG_TYPE_BASE_COUNT, msg_types_hosts the rest, each in id order.

#ifndef MSG_TYPES_INTERNAL_H
#define MSG_TYPES_INTERNAL_H

#include "msg_types.h"

#define FIELDS(name) name, sizeof (name) / sizeof (name [0])

extern const msg_type_t msg_types_base [];
extern const msg_type_t msg_types_hosts [];

#endif
