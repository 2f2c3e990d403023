/*
 * The relay test variants: each a (sender, recipient) pair that some
 * misconfigured MTA relays. They cover nmap's smtp-open-relay script and the
 * classic ORDB / abuse.net tester set. Every recipient resolves to a mailbox
 * in the sink's domain (or the sink's address): a test never addresses
 * anyone else.
 */
#ifndef PLUGHOLE_RELAY_VARIANTS_H
#define PLUGHOLE_RELAY_VARIANTS_H

#include <stdbool.h>
#include <stddef.h>

struct relay_context {
	const char *token;         /* the local part every recipient carries */
	const char *sink_domain;
	const char *sink_literal;  /* "[192.0.2.1]" of the sink, or NULL */
	const char *server_literal; /* "[a.b.c.d]" or "[IPv6:...]" of the tested server */
	const char *server_domain; /* from its banner, or NULL */
	const char *from;          /* our own sender address */
};

struct relay_variant {
	const char *name;
	const char *mail_from; /* templates: {T} token, {S} sink domain, {SL} sink literal, */
	const char *rcpt_to;   /* {L} server literal, {D} server domain, {F} our sender */
};

#define RELAY_VARIANTS_MAX 32 /* a session keeps sets of variants as 32-bit masks */

extern const struct relay_variant relay_variants[];
extern const size_t relay_variant_count;

/*
 * Expands a template into out. Returns false when the template needs what
 * the context lacks ({D} without a server domain, {SL} without a sink
 * address) or out is too small: the variant is skipped.
 */
bool relay_expand(const char *template, const struct relay_context *ctx, char *out, size_t outlen);

#endif
