/* The rbldnsd format's pieces, for its tests. */
#ifndef PLUGHOLE_DNSBL_RBLDNSD_H
#define PLUGHOLE_DNSBL_RBLDNSD_H

#include <stdio.h>

/* text as an rbldnsd TXT template: '$' doubled (a single one is replaced by
 * the queried address), any byte outside printable ASCII as \xNN (a line
 * holds no newline). */
int dnsbl_rbldnsd_text(FILE *out, const char *text, size_t len);

#endif
