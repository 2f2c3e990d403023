#include "notify/compose.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/grow.h"
#include "core/log.h"
#include "core/util.h"
#include "notify/guides.h"
#include "notify/signature.h"

#define MAX_HOSTS_LISTED 50 /* the body lists these, the CSV every host */
#define TEMPLATE_CACHE 32

static char *dup_or_null(const char *s)
{
	return s ? strdup(s) : NULL;
}

static int64_t int_or_zero(const char *s)
{
	return s ? strtoll(s, NULL, 10) : 0;
}

/* ---- the stored letters ---- */

struct load_ctx {
	struct outbox_letter *list;
	size_t count, cap;
	bool failed;
};

static void load_row(void *ctx, const struct store_row *row)
{
	if (row->values == NULL)
		return; /* the names alone, before the rows */
	struct load_ctx *c = ctx;
	if (c->failed)
		return;
	struct outbox_letter *grown = grow_array(c->list, &c->cap, c->count, 1, sizeof *grown);
	if (grown == NULL) {
		c->failed = true;
		return;
	}
	c->list = grown;
#define V(name) store_row_value(row, name)
	c->list[c->count++] = (struct outbox_letter){
	    .id = int_or_zero(V("id")),
	    .campaign_owner_id = int_or_zero(V("campaign_owner_id")),
	    .previous_id = int_or_zero(V("previous_id")),
	    .created = int_or_zero(V("created")),
	    .next_attempt = int_or_zero(V("next_attempt")),
	    .ticket = dup_or_null(V("ticket")),
	    .ticket_key = dup_or_null(V("ticket_key")),
	    .message_id = dup_or_null(V("message_id")),
	    .recipient = dup_or_null(V("recipient")),
	    .agency = dup_or_null(V("agency")),
	    .language = dup_or_null(V("language")),
	    .state = dup_or_null(V("state")),
	    .organisation = dup_or_null(V("organisation")),
	    .campaign = dup_or_null(V("campaign")),
	    .domain = dup_or_null(V("domain")),
	};
#undef V
}

int outbox_load(struct store *store, int64_t campaign_id, const char *state, struct outbox_letter **list,
		size_t *count)
{
	struct load_ctx c = {0};
	int rc = store_letters_each(store, campaign_id, state, load_row, &c);
	if (rc != 0 || c.failed) {
		if (c.failed)
			log_error("out of memory reading letters");
		outbox_free(c.list, c.count);
		return -1;
	}
	*list = c.list;
	*count = c.count;
	return 0;
}

void outbox_free(struct outbox_letter *list, size_t count)
{
	for (size_t i = 0; i < count; i++) {
		struct outbox_letter *l = &list[i];
		char *fields[] = {l->ticket,   l->ticket_key, l->message_id,   l->recipient, l->agency,
				  l->language, l->state,      l->organisation, l->campaign,  l->domain};
		for (size_t f = 0; f < ARRAY_SIZE(fields); f++)
			free(fields[f]);
	}
	free(list);
}

/* ---- which template ---- */

static bool template_present(const char *dir, const char *agency, const char *language)
{
	char path[4096], primary[16];
	struct stat st;
	snprintf(primary, sizeof primary, "%.*s", (int)strcspn(language, "-_"), language);
	const char *tries[] = {language, primary};
	for (size_t i = 0; i < 2; i++) {
		snprintf(path, sizeof path, "%s/%s/%s/subject.txt", dir, agency, tries[i]);
		if (stat(path, &st) == 0)
			return true;
	}
	return false;
}

int compose_template_choice(const char *templates_dir, const struct agencies *agencies,
			    const struct agency *agency, char *agency_out, size_t agency_len,
			    char *language_out, size_t language_len)
{
	const char *lead = agencies->lead ? agencies->lead->id : agency->id;
	const char *language = agency->language[0] ? agency->language : "en";
	const struct {
		const char *agency, *language;
	} tries[] = {{agency->id, language}, {lead, language}, {lead, "en"}};
	for (size_t i = 0; i < ARRAY_SIZE(tries); i++)
		if (template_present(templates_dir, tries[i].agency, tries[i].language)) {
			snprintf(agency_out, agency_len, "%s", tries[i].agency);
			snprintf(language_out, language_len, "%s", tries[i].language);
			return 0;
		}
	return -1;
}

/* ---- composing ---- */

struct cached_templates {
	char for_agency[32];		/* the letters' agency, whose choice this is */
	char agency[32], language[16]; /* the template chosen for it */
	struct letter_templates t;
	bool loaded;
};

struct composer {
	struct store *store;
	const struct agencies *agencies;
	struct guides *guides;
	char *templates_dir, *public_url;
	struct letter_agency *participants;
	size_t participant_count;
	struct cached_templates cache[TEMPLATE_CACHE];
	size_t cached;
	struct mime_cache *mime; /* one prototype message per agency */
	struct signer *signer;	 /* DKIM, when a key is configured */
};

static struct letter_agency letter_agency_of(const struct agency *a)
{
	return (struct letter_agency){a->id, a->name, a->short_name, a->sender, a->reply_to, a->language};
}

struct composer *composer_open(struct store *store, const struct agencies *agencies,
			       const char *templates_dir, const char *guides_dir, const char *public_url)
{
	struct composer *c = calloc(1, sizeof *c);
	if (c == NULL)
		return NULL;
	c->store = store;
	c->agencies = agencies;
	c->templates_dir = strdup(templates_dir);
	c->public_url = strdup(public_url ? public_url : "");
	c->guides = guides_open(guides_dir);
	c->mime = mime_cache_new();
	c->participants = calloc(agencies->count ? agencies->count : 1, sizeof *c->participants);
	if (c->templates_dir == NULL || c->public_url == NULL || c->guides == NULL || c->mime == NULL ||
	    c->participants == NULL) {
		composer_close(c);
		return NULL;
	}
	for (size_t i = 0; i < agencies->count; i++)
		c->participants[i] = letter_agency_of(&agencies->list[i]);
	c->participant_count = agencies->count;
	return c;
}

void composer_close(struct composer *c)
{
	if (c == NULL)
		return;
	for (size_t i = 0; i < c->cached; i++)
		letter_templates_free(&c->cache[i].t);
	if (c->guides)
		guides_close(c->guides);
	mime_cache_free(c->mime);
	signer_free(c->signer);
	free(c->participants);
	free(c->templates_dir);
	free(c->public_url);
	free(c);
}

/* The template set of an agency's letters, chosen and loaded once (no look-up on disk per letter). */
static const struct letter_templates *templates_for(struct composer *c, const struct agency *agency,
						    char *why, size_t whylen)
{
	for (size_t i = 0; i < c->cached; i++)
		if (strcmp(c->cache[i].for_agency, agency->id) == 0)
			return &c->cache[i].t;
	char dir_agency[32], language[16];
	if (compose_template_choice(c->templates_dir, c->agencies, agency, dir_agency, sizeof dir_agency,
				    language, sizeof language) != 0) {
		snprintf(why, whylen, "%s: no template for agency %s, nor the lead's in %s or en",
			 c->templates_dir, agency->id, agency->language);
		return NULL;
	}
	if (c->cached == TEMPLATE_CACHE) { /* more agencies than slots: start over */
		for (size_t i = 0; i < c->cached; i++)
			letter_templates_free(&c->cache[i].t);
		c->cached = 0;
	}
	struct cached_templates *slot = &c->cache[c->cached];
	struct tpl_error err;
	if (letter_templates_load(&slot->t, c->templates_dir, dir_agency, language, &err) != 0) {
		snprintf(why, whylen, "%s", err.message);
		return NULL;
	}
	snprintf(slot->for_agency, sizeof slot->for_agency, "%s", agency->id);
	snprintf(slot->agency, sizeof slot->agency, "%s", dir_agency);
	snprintf(slot->language, sizeof slot->language, "%s", language);
	c->cached++;
	return &slot->t;
}

/* The letter's hosts, copied out of the rows (strings kept in one arena per host). */
struct host_rows {
	struct letter_host *hosts;
	char **strings;
	size_t count, cap, nstrings, strings_cap;
	bool failed;
};

static const char *keep(struct host_rows *h, const char *s)
{
	if (s == NULL || h->failed)
		return NULL;
	char **grown = grow_array(h->strings, &h->strings_cap, h->nstrings, 1, sizeof *grown);
	if (grown == NULL) {
		h->failed = true;
		return NULL;
	}
	h->strings = grown;
	char *copy = strdup(s);
	if (copy == NULL)
		h->failed = true;
	else
		h->strings[h->nstrings++] = copy;
	return copy;
}

static void host_row(void *ctx, const struct store_row *row)
{
	if (row->values == NULL)
		return; /* the names alone, before the rows */
	struct host_rows *h = ctx;
	if (h->failed)
		return;
	struct letter_host *grown = grow_array(h->hosts, &h->cap, h->count, 1, sizeof *grown);
	if (grown == NULL) {
		h->failed = true;
		return;
	}
	h->hosts = grown;
#define V(name) store_row_value(row, name)
	const char *variant = V("variant") ? V("variant") : V("protocol");
	h->hosts[h->count++] = (struct letter_host){
	    .address = keep(h, V("address")),
	    .port = (unsigned)int_or_zero(V("port")),
	    .verdict = keep(h, V("verdict")),
	    .variant = keep(h, variant),
	    .proven_at = int_or_zero(V("proved")),
	    .software = keep(h, V("software")),
	    .asn = (uint32_t)int_or_zero(V("asn")),
	    .country = keep(h, V("country")),
	};
#undef V
}

static void host_rows_free(struct host_rows *h)
{
	for (size_t i = 0; i < h->nstrings; i++)
		free(h->strings[i]);
	free(h->strings);
	free(h->hosts);
}

void composer_set_signer(struct composer *c, struct signer *signer)
{
	signer_free(c->signer);
	c->signer = signer;
}

int compose_unsubscribe_url(const char *public_url, const char *ticket, const char *key, char *buf,
			    size_t len)
{
	size_t n = strlen(public_url);
	while (n > 0 && public_url[n - 1] == '/')
		n--;
	int w = snprintf(buf, len, "%.*s/t/%s/%s/unsubscribe", (int)n, public_url, ticket, key);
	return w < 0 || (size_t)w >= len ? -1 : 0;
}

int compose_message(struct composer *c, const struct outbox_letter *l, int64_t date,
		    enum mime_newline newline, char **out, size_t *len, struct letter_text *text_out,
		    char *why, size_t whylen)
{
	const struct agency *agency = l->agency ? agencies_find(c->agencies, l->agency) : NULL;
	if (agency == NULL) {
		snprintf(why, whylen, "letter %s: agency '%s' is not in the agencies file", l->ticket,
			 l->agency ? l->agency : "(none)");
		return -1;
	}
	const struct letter_templates *t = templates_for(c, agency, why, whylen);
	if (t == NULL)
		return -1;
	struct host_rows h = {0};
	if (store_letter_hosts_each(c->store, l->id, host_row, &h) != 0 || h.failed || h.count == 0) {
		snprintf(why, whylen, "letter %s: %s", l->ticket,
			 h.failed	? "out of memory"
			 : h.count == 0 ? "no host left to write about"
					: "store error");
		host_rows_free(&h);
		return -1;
	}
	char unsubscribe_url[1024], unsubscribe_mailto[320];
	compose_unsubscribe_url(c->public_url, l->ticket, l->ticket_key, unsubscribe_url,
				sizeof unsubscribe_url);
	snprintf(unsubscribe_mailto, sizeof unsubscribe_mailto, "unsubscribe+%s@%s", l->ticket, l->domain);
	struct letter letter = {
	    .campaign = l->campaign,
	    .campaign_domain = l->domain,
	    .public_url = c->public_url,
	    .agency = letter_agency_of(agency),
	    .lead = agency->lead,
	    .participants = c->participants,
	    .participant_count = c->participant_count,
	    .owner = l->organisation,
	    .contact = l->recipient,
	    .ticket = l->ticket,
	    .ticket_key = l->ticket_key,
	    .message_id = l->message_id,
	    .date = date,
	    .unsubscribe_url = unsubscribe_url,
	    .unsubscribe_mailto = unsubscribe_mailto,
	    .hosts = h.hosts,
	    .host_count = h.count,
	    .max_hosts_listed = MAX_HOSTS_LISTED,
	};
	struct letter_text text = {0};
	struct tpl_error err;
	int rc = -1;
	if (letter_render(&letter, t, c->guides, &text, &err) != 0)
		snprintf(why, whylen, "letter %s: %s", l->ticket, err.message);
	else
		rc = mime_build_cached(c->mime, &letter, &text, newline, out, len, why, whylen);
	/* signed last: the signature covers the bytes as they go */
	if (rc == 0 && c->signer != NULL &&
	    (rc = signer_sign(c->signer, agency->sender, newline, out, len, why, whylen)) != 0) {
		free(*out);
		*out = NULL;
		*len = 0;
	}
	if (rc == 0 && text_out != NULL)
		*text_out = text;
	else
		letter_text_free(&text);
	host_rows_free(&h);
	return rc;
}
