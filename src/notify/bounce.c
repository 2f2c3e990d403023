#include "notify/bounce.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "core/log.h"
#include "track/followup.h"
#include "track/letters.h"
#include "track/ticket.h"

bool bounce_address(const char *rcpt)
{
	return strncasecmp(rcpt, "bounces+", 8) == 0 || strncasecmp(rcpt, "unsubscribe+", 12) == 0;
}

/* The envelope recipient's ticket beats what the headers say. */
static void envelope_ticket(const char *rcpt, struct dsn *d)
{
	if (rcpt == NULL || !bounce_address(rcpt))
		return;
	bool unsubscribe = strncasecmp(rcpt, "unsubscribe+", 12) == 0;
	const char *p = rcpt + (unsubscribe ? 12 : 8);
	size_t n = strcspn(p, "@");
	char ticket[TICKET_LEN + 1];
	if (p[n] == '@' && ticket_parse(p, n, ticket) == 0) {
		memcpy(d->ticket, ticket, sizeof ticket);
		d->to_unsubscribe = unsubscribe;
		d->ticket_from_original = false;
	}
}

static int record(struct store *store, const struct bounce_result *r, const char *kind, const char *peer,
		  const char *msg, size_t len, time_t now)
{
	struct store_letter_return row = {
	    .letter_id = r->letter_id,
	    .ticket = r->dsn.ticket,
	    .kind = kind,
	    .shape = r->dsn.shape,
	    .action = r->dsn.action[0] ? r->dsn.action : NULL,
	    .status = r->dsn.status[0] ? r->dsn.status : NULL,
	    .recipient = r->dsn.recipient[0] ? r->dsn.recipient : NULL,
	    .diagnostic = r->dsn.diagnostic[0] ? r->dsn.diagnostic : NULL,
	    .peer = peer,
	    .received = now,
	    .raw = msg,
	    .raw_len = len < BOUNCE_RAW_KEPT ? len : BOUNCE_RAW_KEPT,
	    .raw_size = len,
	};
	return store_letter_return_put(store, &row);
}

int bounce_handle(struct store *store, const struct agencies *agencies, const struct token_secret *secret,
		  const char *envelope_rcpt, const char *msg, size_t len, const char *peer, time_t now,
		  struct bounce_result *out)
{
	memset(out, 0, sizeof *out);
	dsn_parse(msg, len, &out->dsn);
	struct dsn *d = &out->dsn;
	envelope_ticket(envelope_rcpt, d);
	const char *kind = d->to_unsubscribe ? "unsubscribe" : dsn_kind_name(d->kind);
	if (strcmp(kind, "delivered") == 0)
		kind = "other";
	struct store_letter_ref ref;
	int found = d->ticket[0] ? store_letter_by_ticket(store, d->ticket, &ref) : 0;
	if (found < 0)
		return -1;
	if (found == 0) {
		out->effect = BOUNCE_NO_LETTER;
		snprintf(out->note, sizeof out->note, "%s",
			 d->ticket[0] ? "no letter has this ticket" : "no ticket found");
		return record(store, out, kind, peer, msg, len, now);
	}
	out->letter_id = ref.id;
	out->effect = BOUNCE_RECORDED;
	if (record(store, out, kind, peer, msg, len, now) != 0)
		return -1;
	if (d->to_unsubscribe) {
		char reason[200];
		snprintf(reason, sizeof reason, "unsubscribed by mail (ticket %s)", d->ticket);
		if (store_suppression_add(store, "address", ref.recipient, NULL, reason, now) < 0)
			return -1;
		out->effect = BOUNCE_UNSUBSCRIBED;
		return 0;
	}
	if (d->kind != DSN_BOUNCE)
		return 0;
	if (strcmp(ref.state, "sent") != 0) {
		snprintf(out->note, sizeof out->note, "the letter is %s, not sent: only recorded", ref.state);
		return 0;
	}
	char reason[sizeof d->status + sizeof d->diagnostic + 16];
	snprintf(reason, sizeof reason, "bounced: %s %s", d->status[0] ? d->status : "5.0.0", d->diagnostic);
	int moved = letter_apply(store, ref.id, LETTER_EV_BOUNCE, reason, now);
	if (moved == LETTER_APPLY_ERROR)
		return -1;
	if (moved < 0) {
		snprintf(out->note, sizeof out->note, "the letter moved meanwhile: only recorded");
		return 0;
	}
	out->effect = BOUNCE_BOUNCED;
	/* the next rung: the owner's further contacts as the campaign froze them, then the agency's
	 * national contact */
	const struct agency *agency = ref.agency[0] ? agencies_find(agencies, ref.agency) : NULL;
	int64_t id = letter_next_rung(store, secret, &ref, agency ? agency->contact : NULL, now, out->followup_to,
				      sizeof out->followup_to, out->note, sizeof out->note);
	if (id < 0)
		return -1;
	out->followup_id = id;
	return 0;
}
