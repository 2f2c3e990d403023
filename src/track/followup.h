/*
 * A bounced letter's follow-up: a new letter of the same campaign owner,
 * agency and hosts to the owner's next contact (letters.previous_id names
 * the bounced one), with its own ticket, key and Message-ID.
 */
#ifndef PLUGHOLE_FOLLOWUP_H
#define PLUGHOLE_FOLLOWUP_H

#include <stdint.h>
#include <time.h>

#include "store/store.h"
#include "core/token.h"

/*
 * Queues the follow-up of letter previous to recipient (suppressed, naming
 * the rule, when a suppression matches it). The new letter's id, 0 when the
 * owner has a letter to recipient already (the chain ends), -1 on error.
 */
int64_t letter_followup(struct store *store, const struct token_secret *secret,
			const struct store_letter_ref *previous, const char *recipient, time_t now);

/*
 * The next rung for an owner whose letter previous bounced or was refused
 * with a 5xx: the campaign owner's further contacts in order
 * (previous->further), then national (the agency's national contact, may be
 * NULL). The first one that is not previous's recipient and has no letter of
 * this owner yet gets the follow-up. Its id and *to, 0 when the chain has
 * ended (note says why), -1 on error.
 */
int64_t letter_next_rung(struct store *store, const struct token_secret *secret,
			 const struct store_letter_ref *previous, const char *national, time_t now, char *to,
			 size_t tolen, char *note, size_t notelen);

#endif
