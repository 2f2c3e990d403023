/*
 * The relay test variants: each a (sender, recipient) pair that some
 * misconfigured MTA relays. They cover nmap's smtp-open-relay script and the
 * classic ORDB / abuse.net tester set. Every recipient resolves to a mailbox
 * in the sink's domain (or the sink's address), and every address names only
 * the sink's domain, our own sender's or the tested server's address literal:
 * never a name the server claims (its banner may name a third party).
 */
#ifndef PLUGHOLE_RELAY_VARIANTS_H
#define PLUGHOLE_RELAY_VARIANTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct relay_context {
	const char *token;          /* the local part every recipient carries */
	const char *sink_domain;
	const char *sink_literal;   /* "[192.0.2.1]" of the sink, or NULL */
	const char *server_literal; /* "[a.b.c.d]" or "[IPv6:...]" of the tested server */
	const char *from;           /* our own sender address */
};

struct relay_variant {
	uint8_t id;            /* the token's test id, stored in proofs: permanent, never reused */
	const char *name;
	bool common;           /* an ordinary address every MTA parses: tried before the exotic forms */
	const char *mail_from; /* templates: {T} token, {S} sink domain, {SL} sink literal, */
	const char *rcpt_to;   /* {L} server literal, {F} our sender */
};

#define RELAY_VARIANTS_MAX 16 /* a session keeps sets of variants as 16-bit masks */

/* In the order of trial: the common forms first (a strict server counts the
 * exotic ones as syntax errors and may hang up after a few). */
extern const struct relay_variant relay_variants[];
extern const size_t relay_variant_count;

/* The variant with test id, or NULL. */
const struct relay_variant *relay_variant_by_id(unsigned id);

/*
 * Expands a template into out. Returns false when the template needs what
 * the context lacks ({SL} without a sink address), names an unknown
 * placeholder, or out is too small: the variant is skipped.
 */
bool relay_expand(const char *template, const struct relay_context *ctx, char *out, size_t outlen);

#endif
