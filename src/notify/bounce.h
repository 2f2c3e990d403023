/*
 * Applying what came back for a letter (notify/dsn.h reads it): the message
 * kept in letter_returns (raw, at most BOUNCE_RAW_KEPT bytes), then
 *   - a bounce of a sent letter: the letter moves to bounced with the status
 *     and diagnostic as its reason, and a letter to the owner's next contact
 *     is queued (track/followup.h). The store keeps only the contact each
 *     attribution chose, not the rungs below it, so the next contact is the
 *     last rung of the fallbacks: the agency's national contact
 *     (agencies.conf `contact`); when that one bounced too, the chain ends;
 *   - mail to unsubscribe+TICKET@ (RFC 8058's mail form): the letter's
 *     contact is added to the suppression list;
 *   - an auto-reply, a delay warning, anything else: recorded only.
 * The caller holds the transaction.
 */
#ifndef PLUGHOLE_BOUNCE_H
#define PLUGHOLE_BOUNCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "attrib/agencies.h"
#include "store/store.h"
#include "core/token.h"
#include "notify/dsn.h"

#define BOUNCE_RAW_KEPT (64u << 10)

enum bounce_effect {
	BOUNCE_NO_LETTER,    /* no letter has the ticket (or none was found): recorded */
	BOUNCE_RECORDED,     /* auto-reply, delay, other, or a bounce of a letter not in 'sent' */
	BOUNCE_BOUNCED,	     /* the letter is bounced */
	BOUNCE_UNSUBSCRIBED, /* its contact is suppressed */
};

struct bounce_result {
	struct dsn dsn;
	enum bounce_effect effect;
	int64_t letter_id, followup_id; /* followup_id 0: none queued */
	char followup_to[128];		/* the next contact, when one was queued */
	char note[256];			/* why nothing more happened, for the log */
};

/*
 * Handles msg; envelope_rcpt is the recipient the mail was addressed to
 * (the sink knows it; NULL: look in the headers). peer may be NULL.
 * 0, or -1 when the store failed.
 */
int bounce_handle(struct store *store, const struct agencies *agencies, const struct token_secret *secret,
		  const char *envelope_rcpt, const char *msg, size_t len, const char *peer, time_t now,
		  struct bounce_result *out);

/* Whether rcpt's local part is bounces+... or unsubscribe+... (the sink's test). */
bool bounce_address(const char *rcpt);

#endif
