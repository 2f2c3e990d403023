/*
 * DKIM signatures of letters (RFC 6376) with libopendkim: rsa-sha256,
 * relaxed/relaxed, over the headers a receiver judges a letter by. The
 * signature covers the message's exact bytes as they are submitted, so it
 * is made last, after GMime has written the message, and prepended.
 */
#ifndef PLUGHOLE_SIGNATURE_H
#define PLUGHOLE_SIGNATURE_H

#include <stddef.h>

#include "notify/mime.h"

/* The signed headers, in the order h= lists them (one source: signature.c and README). */
extern const char *const signature_headers[];

struct signer;

/*
 * A signer with the PEM private key in key_path for selector; domain is
 * the d= of every signature, or NULL: the domain of each letter's sender.
 * NULL with why (the file unreadable or not a key).
 */
struct signer *signer_new(const char *key_path, const char *selector, const char *domain, char *why,
			  size_t whylen);
void signer_free(struct signer *s);

/*
 * Prepends a DKIM-Signature header to the message (*msg, *len: malloc'ed,
 * replaced) written with newline; sender is its From address. 0, or -1 with
 * why (the message is left as it was).
 */
int signer_sign(struct signer *s, const char *sender, enum mime_newline newline, char **msg, size_t *len,
		char *why, size_t whylen);

#endif
