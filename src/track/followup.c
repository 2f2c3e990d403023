#include "track/followup.h"

#include <jansson.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

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

#define CHAIN_MAX 16 /* further contacts (attrib/owners.h keeps 8) and the national contact */

/* The contacts to try, in order: the further ones (from JSON; a malformed list is none), then national. */
static size_t chain_of(const char *further, const char *national, char chain[CHAIN_MAX][320])
{
	size_t n = 0;
	json_t *list = further && further[0] ? json_loads(further, 0, NULL) : NULL;
	size_t i;
	json_t *item;
	json_array_foreach(list, i, item)
	{
		const char *contact = json_string_value(json_object_get(item, "contact"));
		if (contact != NULL && n < CHAIN_MAX - 1)
			snprintf(chain[n++], 320, "%s", contact);
	}
	json_decref(list);
	if (national != NULL && national[0] != '\0')
		snprintf(chain[n++], 320, "%s", national);
	return n;
}

int64_t letter_next_rung(struct store *store, const struct token_secret *secret,
			 const struct store_letter_ref *previous, const char *national, time_t now, char *to,
			 size_t tolen, char *note, size_t notelen)
{
	char chain[CHAIN_MAX][320];
	size_t n = chain_of(previous->further, national, chain);
	to[0] = note[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		if (strcasecmp(chain[i], previous->recipient) == 0)
			continue;
		int64_t id = letter_followup(store, secret, previous, chain[i], now);
		if (id < 0)
			return -1;
		if (id > 0) {
			snprintf(to, tolen, "%s", chain[i]);
			return id;
		}
	}
	snprintf(note, notelen, "%s",
		 n == 0 ? "no next contact: no further rung and no national contact"
		 : national && strcasecmp(national, previous->recipient) == 0
		     ? "the national contact itself bounced: the chain ends"
		     : "every further contact and the national contact have a letter: the chain ends");
	return 0;
}
