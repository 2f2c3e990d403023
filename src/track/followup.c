#include "track/followup.h"

#include <openssl/rand.h>
#include <stdio.h>

#include "core/log.h"
#include "track/letter_state.h"
#include "track/ticket.h"

#define FOLLOWUP_DRAWS 16 /* as campaign create: a clash of 45 random bits is rare */

int64_t letter_followup(struct store *store, const struct token_secret *secret,
			const struct store_letter_ref *previous, const char *recipient, time_t now)
{
	int exists = store_letter_exists(store, previous->campaign_owner_id, recipient);
	if (exists != 0)
		return exists < 0 ? -1 : 0;
	char rule[320];
	int suppressed = store_suppressed(store, recipient, NULL, rule, sizeof rule);
	if (suppressed < 0)
		return -1;
	uint8_t key[TICKET_CAMPAIGN_KEY_LEN];
	ticket_campaign_key(secret, previous->key_salt, key);
	for (int draw = 0; draw < FOLLOWUP_DRAWS; draw++) {
		uint8_t random[TICKET_RANDOM_BYTES];
		char ticket[TICKET_LEN + 1], ticket_key_text[TICKET_KEY_LEN + 1],
		    message_id[TICKET_LEN + 360];
		if (RAND_bytes(random, sizeof random) != 1)
			return -1;
		ticket_make(random, ticket);
		ticket_key(key, ticket, ticket_key_text);
		snprintf(message_id, sizeof message_id, "<%s.%s@%s>", ticket, previous->campaign,
			 previous->domain);
		struct store_letter letter = {
		    .campaign_id = previous->campaign_id,
		    .campaign_owner_id = previous->campaign_owner_id,
		    .previous_id = previous->id,
		    .ticket = ticket,
		    .ticket_key = ticket_key_text,
		    .message_id = message_id,
		    .recipient = recipient,
		    .agency = previous->agency[0] ? previous->agency : NULL,
		    .language = previous->language[0] ? previous->language : NULL,
		    .template_name = previous->template_name[0] ? previous->template_name : NULL,
		    .state = letter_state_name(suppressed ? LETTER_SUPPRESSED : LETTER_QUEUED),
		    .suppressed_by = suppressed ? rule : NULL,
		    .created = now,
		};
		int64_t id = store_letter_insert(store, &letter);
		if (id != 0)
			return id;
	}
	log_error("letter follow-up: %d tickets drawn in a row were taken", FOLLOWUP_DRAWS);
	return -1;
}
