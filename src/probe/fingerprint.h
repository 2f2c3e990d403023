/* Which software a server runs, from what it says (banners, EHLO, headers). */
#ifndef PLUGHOLE_FINGERPRINT_H
#define PLUGHOLE_FINGERPRINT_H

#include <stddef.h>

enum fingerprint_protocol { FINGERPRINT_SMTP, FINGERPRINT_PROXY };

/* The software's name, or NULL when nothing is recognised. Pure. */
const char *fingerprint_detect(enum fingerprint_protocol protocol, const char *text, size_t len);

#endif
