/*
 * What came back for a letter, read from the returned message: an RFC 3464
 * delivery status notification (multipart/report; report-type=delivery-status,
 * parsed with GMime: action, status, diagnostic code, final recipient), the
 * common non-standard bounce texts (Exim's "This message was created
 * automatically by mail delivery software", qmail's "Hi. This is the
 * qmail-send program", Postfix's "This is the mail system at host"), or an
 * RFC 3834 auto-reply (Auto-Submitted: auto-replied, X-Autoreply, Precedence:
 * auto_reply), which is recorded, never taken for a bounce.
 *
 * Pure over (buffer, length): no store, no clock. The ticket is looked for in
 * the VERP (bounces+TICKET@) or unsubscribe (unsubscribe+TICKET@) address of
 * the headers that name the envelope recipient, and in the returned
 * original's Message-ID (<TICKET.campaign@domain>); the sink, which knows the
 * envelope recipient, prefers that.
 */
#ifndef PLUGHOLE_DSN_H
#define PLUGHOLE_DSN_H

#include <stdbool.h>
#include <stddef.h>

#include "track/ticket.h"

enum dsn_kind {
	DSN_BOUNCE,	/* permanent failure: the letter did not arrive */
	DSN_DELAY,	/* a warning: still trying */
	DSN_DELIVERED,	/* a success notification (relayed, delivered, expanded) */
	DSN_AUTO_REPLY, /* RFC 3834: an out-of-office or similar */
	DSN_OTHER,	/* none of those: a person's reply, or a shape we do not know */
};

#define DSN_MAX_MESSAGE (8u << 20) /* larger input is not parsed (other) */

struct dsn {
	enum dsn_kind kind;
	const char *shape;	     /* "rfc3464", "exim", "qmail", "postfix", "auto-reply", "none" */
	char action[32];	     /* RFC 3464 Action (failed, delayed, ...), lowercase */
	char status[16];	     /* RFC 3463 status "5.1.1"; from the text when not given */
	char diagnostic[512];	     /* Diagnostic-Code or the bounce text's reason, printable ASCII */
	char recipient[320];	     /* the address that failed */
	char ticket[TICKET_LEN + 1]; /* "" when none was found */
	bool to_unsubscribe;	     /* addressed to unsubscribe+TICKET@ */
	bool ticket_from_original;   /* the ticket came from the returned original's Message-ID */
};

/* Reads msg[0..len); always fills *out (kind DSN_OTHER when nothing is recognised). */
void dsn_parse(const char *msg, size_t len, struct dsn *out);

const char *dsn_kind_name(enum dsn_kind kind);

#endif
