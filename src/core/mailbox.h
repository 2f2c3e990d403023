/*
 * Plausible mail addresses and domains, as letters need them: a local part
 * without spaces, controls or <>,@ (64 at most), and a domain of letters,
 * digits and hyphens in labels of 1-63, two labels at least, 253 in all.
 * Pure; errors are static strings.
 */
#ifndef PLUGHOLE_MAILBOX_H
#define PLUGHOLE_MAILBOX_H

#include <stddef.h>

int mailbox_domain_check(const char *s, size_t len, const char **why);
/* local@domain (the last '@' splits them). */
int mailbox_check(const char *s, size_t len, const char **why);

#endif
