/*
 * Letter tickets: short, unique, human-typable references an owner can quote
 * on the phone. Nine Crockford base32 characters (45 random bits; no I, L, O
 * or U) and a Luhn mod 32 check character, written "XXXXX-XXXXX". Reading one
 * forgives case, a missing or extra hyphen or space, and I/L for 1, O for 0;
 * the check catches every single wrong character and most swapped neighbours.
 *
 * The evidence URL carries a ticket key: HMAC-SHA256 over the ticket with the
 * campaign's key, itself HMAC-SHA256 of the store's token secret (the file
 * token_secret_load reads) over a per-campaign salt kept in the store; so the
 * store alone holds no secret that makes keys, and one secret file protects both.
 */
#ifndef PLUGHOLE_TICKET_H
#define PLUGHOLE_TICKET_H

#include <stddef.h>
#include <stdint.h>

#include "core/token.h"

#define TICKET_LEN 11	      /* "XXXXX-XXXXX" */
#define TICKET_RANDOM_BYTES 6 /* of which 45 bits are used */
#define TICKET_KEY_LEN 32     /* lowercase hex of 16 bytes of the HMAC */
#define TICKET_CAMPAIGN_KEY_LEN 32

/* The ticket made of random[] (pure: the caller draws the bytes). */
void ticket_make(const uint8_t random[TICKET_RANDOM_BYTES], char out[TICKET_LEN + 1]);
/* 0 and the canonical form when text[0..len) is a ticket whose check holds; -1 otherwise. */
int ticket_parse(const char *text, size_t len, char out[TICKET_LEN + 1]);
/* The campaign's key: HMAC-SHA256(secret, "plughole ticket key" NUL salt). */
void ticket_campaign_key(const struct token_secret *secret, const char *salt,
			 uint8_t key[TICKET_CAMPAIGN_KEY_LEN]);
/* The ticket's key for its evidence URL (canonical ticket). */
void ticket_key(const uint8_t key[TICKET_CAMPAIGN_KEY_LEN], const char *ticket, char out[TICKET_KEY_LEN + 1]);

#endif
