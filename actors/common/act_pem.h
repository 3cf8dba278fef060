//  act_pem - reading PEM text with OpenSSL without ever prompting
//
//  Certificates and keys arrive from users and the network (certs:add,
//  ACME, the local CA's files): an encrypted key must be refused, never
//  answered from a terminal as OpenSSL's default callback would.

#ifndef ACT_PEM_H
#define ACT_PEM_H

//  A pem_password_cb that refuses: pass it to PEM_read_bio_*.
int act_pem_no_password (char *buf, int size, int rwflag, void *u);

#endif
