/*
 * Proof tokens. A token names the probe that sent it (campaign, address,
 * port, test, time) and carries a truncated HMAC-SHA256 over those fields, so
 * the sink can map a received message back to its probe without a lookup and
 * reject anything forged or altered.
 *
 * Text form: "ph" + lowercase base32 (RFC 4648 alphabet) of
 *   version(1) family(1) campaign(2) test(1) time(4) port(2) address(4|16) mac(10)
 * = 42 characters for IPv4, 62 for IPv6: short enough for an SMTP local part
 * (64), and case-insensitive because relays sometimes fold case.
 */
#ifndef PLUGHOLE_TOKEN_H
#define PLUGHOLE_TOKEN_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "core/addr.h"

#define TOKEN_SECRET_LEN 32
#define TOKEN_MAX_LEN 64 /* including the NUL */
#define TOKEN_PREFIX "ph"

struct token_secret {
	uint8_t key[TOKEN_SECRET_LEN];
};

struct token_fields {
	uint16_t campaign;
	struct addr address;
	uint16_t port;
	uint8_t test;
	uint32_t time; /* seconds since the epoch, UTC */
};

/* Writes the token into out (TOKEN_MAX_LEN bytes); returns its length. */
size_t token_make(const struct token_secret *secret, uint16_t campaign, const struct addr *address,
		  uint16_t port, uint8_t test, uint32_t time, char out[TOKEN_MAX_LEN]);
/* 0 and the fields when text[0..len) is a genuine token; -1 otherwise. */
int token_check(const struct token_secret *secret, const char *text, size_t len, struct token_fields *out);
/*
 * Finds the next token-shaped string in buf starting at *offset, checks it,
 * and advances *offset past it. Returns 1 valid, 0 forged (fields unset),
 * -1 when no candidate remains. Candidates are "ph" followed by a full-length
 * run of base32 characters, on a word boundary.
 */
int token_scan(const struct token_secret *secret, const char *buf, size_t len, size_t *offset,
	       struct token_fields *out, char found[TOKEN_MAX_LEN]);

/* Reads the secret, creating it (mode 0600, random bytes) on first use. */
int token_secret_load(struct token_secret *secret, const char *path);

#endif
