/* The BIND format's pieces, for its tests. */
#ifndef PLUGHOLE_DNSBL_BIND_H
#define PLUGHOLE_DNSBL_BIND_H

#include <stdio.h>

#include "core/addr.h"

/* text as TXT RDATA: quoted character-strings of at most 255 bytes each,
 * '"' and '\' escaped, any other byte outside printable ASCII as \DDD. */
int dnsbl_bind_txt(FILE *out, const char *text, size_t len);
/* The address's name under the zone: "4.3.2.1" for 1.2.3.4, 32 nibbles for IPv6. */
int dnsbl_bind_reversed(FILE *out, const struct addr *address);

#endif
