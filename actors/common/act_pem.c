//  act_pem - reading PEM text without prompting; see act_pem.h

#include "act_pem.h"

int
act_pem_no_password (char *buf, int size, int rwflag, void *u)
{
    (void) buf;
    (void) size;
    (void) rwflag;
    (void) u;
    return -1;
}
