/*
 * A stored letter made into its message: the letter model (notify/letter.h)
 * filled from the frozen campaign (the letter's row and its hosts), rendered
 * from its agency's template with the fix guides, built by GMime. Used by
 * campaign preview and campaign send alike, so both give the same letter.
 *
 * Template choice (README says it too): data/templates/<agency>/<language>
 * (or its primary subtag); when the agency has none, the lead agency's
 * template in the agency's language; else the lead agency's English one.
 */
#ifndef PLUGHOLE_COMPOSE_H
#define PLUGHOLE_COMPOSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "attrib/agencies.h"
#include "store/store.h"
#include "notify/letter.h"
#include "notify/mime.h"

/* One stored letter, as store_letters_each gives it (copies). */
struct outbox_letter {
	int64_t id, campaign_owner_id, previous_id, created, next_attempt;
	char *ticket, *ticket_key, *message_id, *recipient, *agency, *language, *state, *organisation,
	    *campaign, *domain;
};

/* The campaign's letters in state (NULL: all), oldest first. 0, or -1 (logged). */
int outbox_load(struct store *store, int64_t campaign_id, const char *state, struct outbox_letter **list,
		size_t *count);
void outbox_free(struct outbox_letter *list, size_t count);

/*
 * Where the templates of agency (its id) in language come from, by the rule
 * above: 0 and the directory's agency and language copied out, -1 when not
 * even the lead's English template exists. Looks at the files only.
 */
int compose_template_choice(const char *templates_dir, const struct agencies *agencies,
			    const struct agency *agency, char *agency_out, size_t agency_len,
			    char *language_out, size_t language_len);

struct composer;

/* templates_dir and guides_dir: data/templates, data/guides; public_url: [web] public_url. */
struct composer *composer_open(struct store *store, const struct agencies *agencies,
			       const char *templates_dir, const char *guides_dir, const char *public_url);
void composer_close(struct composer *c);
/* Letters are DKIM-signed with signer from now on (the composer owns it; NULL: unsigned). */
struct signer;
void composer_set_signer(struct composer *c, struct signer *signer);

/*
 * Letter l as a message (date: its Date:). 0 and a malloc'ed *out, or -1
 * with why (a template that will not render, an unknown agency, a bad address).
 * text, when not NULL, receives the rendered subject and body (letter_text_free).
 */
int compose_message(struct composer *c, const struct outbox_letter *l, int64_t date,
		    enum mime_newline newline, char **out, size_t *len, struct letter_text *text, char *why,
		    size_t whylen);

/* The letter's unsubscribe page: PUBLIC_URL/t/<ticket>/<key>/unsubscribe (RFC 8058 one-click POST). */
int compose_unsubscribe_url(const char *public_url, const char *ticket, const char *key, char *buf,
			    size_t len);

#endif
