/*
 * Suppression rules: who never gets a letter. One rule is an address
 * ("abuse@example.net"), a domain ("@example.net": it and its subdomains) or
 * a network (CIDR, a FIRST-LAST range or one address: letters about hosts in
 * it). Parsed here, a pure function (core/mailbox.h says what a plausible
 * address and domain are); stored and matched in store_suppress.c.
 */
#ifndef PLUGHOLE_SUPPRESS_H
#define PLUGHOLE_SUPPRESS_H

#include <stddef.h>

#include "core/addr.h"

#define SUPPRESS_VALUE_MAX 256

enum suppress_kind { SUPPRESS_ADDRESS, SUPPRESS_DOMAIN, SUPPRESS_NETWORK };

struct suppress_rule {
	enum suppress_kind kind;
	char value[SUPPRESS_VALUE_MAX]; /* canonical: lowercase address, domain without '@', range as
					   range_format */
	struct range range;		/* SUPPRESS_NETWORK */
};

/* The stored kind names: "address", "domain", "network". */
extern const char *const suppress_kind_names[3];

/* 0 and the rule; -1 and why (a static string) when text is none of the three. */
int suppress_parse(const char *text, size_t len, struct suppress_rule *out, const char **why);
/* Lowercase domain of an e-mail address (after its last '@') into out; -1 when it has none or is too long. */
int suppress_contact_domain(const char *contact, char *out, size_t outlen);

#endif
