#include "track/campaign.h"

#include <ctype.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/addr.h"
#include "core/escape.h"
#include "core/log.h"
#include "core/mailbox.h"
#include "track/control.h"
#include "track/letter_state.h"
#include "track/ticket.h"
#include "core/util.h"

const char *const campaign_verdicts[3] = {"open-relay", "open-proxy-mail", "open-proxy-web"};
#define VERDICT_COUNT ARRAY_SIZE(campaign_verdicts)
#define TICKET_DRAWS 16 /* a clash of 45 random bits is rare; this many in a row is a broken RNG */

bool campaign_name_valid(const char *name)
{
	size_t n = strlen(name);
	if (n == 0 || n > CAMPAIGN_NAME_MAX || !isalnum((unsigned char)name[0]))
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)name[i]) && name[i] != '-' && name[i] != '_')
			return false;
	return true;
}

int campaign_verdicts_parse(const char *text, unsigned *mask, const char **bad, size_t *badlen)
{
	*mask = 0;
	for (const char *p = text;;) {
		size_t n = strcspn(p, ",");
		size_t v = 0;
		while (v < VERDICT_COUNT &&
		       !(strlen(campaign_verdicts[v]) == n && strncmp(p, campaign_verdicts[v], n) == 0))
			v++;
		if (v == VERDICT_COUNT) {
			*bad = p;
			*badlen = n;
			return -1;
		}
		*mask |= 1u << v;
		if (p[n] == '\0')
			return 0;
		p += n + 1;
	}
}

/* A frozen host: the store's row, copied (its strings are the store's only during the call). */
struct host {
	struct store_campaign_finding f;
	char *strings[18]; /* the fields of f copied (host_add) */
	size_t verdict; /* index in campaign_verdicts */
};

struct owner {
	struct host *hosts; /* into the sorted array */
	size_t count;
	char key[1024];
	char stratum[64];
	const char *country, *agency, *verdict;
};

struct collect {
	const struct campaign_options *options;
	struct host *hosts;
	size_t count, cap;
	struct campaign_summary *summary;
	campaign_skip_fn skipped;
	void *ctx;
	bool failed;
};

static char *dup_or_null(const char *s, bool *failed)
{
	if (s == NULL)
		return NULL;
	char *copy = strdup(s);
	if (copy == NULL)
		*failed = true;
	return copy;
}

static bool wanted_agency(const struct collect *c, const char *agency)
{
	if (c->options->agency_count == 0)
		return true;
	for (size_t i = 0; agency != NULL && i < c->options->agency_count; i++)
		if (strcasecmp(agency, c->options->agencies[i]) == 0)
			return true;
	return false;
}

static bool wanted_country(const struct collect *c, const char *country)
{
	if (c->options->country_count == 0)
		return true;
	for (size_t i = 0; country != NULL && i < c->options->country_count; i++)
		if (strcasecmp(country, c->options->countries[i]) == 0)
			return true;
	return false;
}

static int collect_one(void *ctx, const struct store_campaign_finding *f)
{
	struct collect *c = ctx;
	size_t v = 0;
	while (v < VERDICT_COUNT && strcmp(f->verdict, campaign_verdicts[v]) != 0)
		v++;
	if (v == VERDICT_COUNT || !(c->options->verdicts & (1u << v)))
		return 0;
	if (f->proved == 0) {
		c->summary->unproven++;
		if (c->skipped)
			c->skipped(c->ctx, f->address, f->port, "no proof binds to its verdict");
		return 0;
	}
	if (f->owner_id == 0 || f->contact == NULL || f->organisation == NULL) {
		c->summary->unattributed++;
		if (c->skipped)
			c->skipped(c->ctx, f->address, f->port, "no attribution");
		return 0;
	}
	if (!wanted_agency(c, f->agency) || !wanted_country(c, f->country)) {
		c->summary->filtered++;
		return 0;
	}
	if (c->count == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 256;
		struct host *grown = realloc(c->hosts, cap * sizeof *grown);
		if (grown == NULL) {
			c->failed = true;
			return 1;
		}
		c->hosts = grown;
		c->cap = cap;
	}
	struct host *h = &c->hosts[c->count++];
	memset(h, 0, sizeof *h);
	h->f = *f;
	h->verdict = v;
	const char **fields[] = {&h->f.address,	     &h->f.verdict,    &h->f.test,    &h->f.variant,
				 &h->f.protocol,     &h->f.software,   &h->f.token,   &h->f.exit_address,
				 &h->f.organisation, &h->f.org_handle, &h->f.contact, &h->f.rung,
				 &h->f.range,	     &h->f.object,     &h->f.as_name, &h->f.country,
				 &h->f.agency,	     &h->f.further};
	for (size_t i = 0; i < ARRAY_SIZE(fields); i++)
		*fields[i] = h->strings[i] = dup_or_null(*fields[i], &c->failed);
	return c->failed;
}

static void hosts_free(struct host *hosts, size_t count)
{
	for (size_t i = 0; i < count; i++)
		for (size_t s = 0; s < sizeof hosts[i].strings / sizeof hosts[i].strings[0]; s++)
			free(hosts[i].strings[s]);
	free(hosts);
}

static int by_owner(const void *a, const void *b)
{
	const struct host *x = a, *y = b;
	if (x->f.owner_id != y->f.owner_id)
		return x->f.owner_id < y->f.owner_id ? -1 : 1;
	return x->f.candidate_id < y->f.candidate_id ? -1 : x->f.candidate_id > y->f.candidate_id;
}

static const char *or_empty(const char *s)
{
	return s ? s : "";
}

static int by_text(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The value most of the owner's hosts have (get(host), NULL as ""); ties: the smallest.
 * scratch holds o->count pointers: sorted, the longest run wins (an owner may have many hosts). */
static const char *majority(const struct owner *o, const char *(*get)(const struct host *),
			    const char **scratch)
{
	for (size_t i = 0; i < o->count; i++)
		scratch[i] = or_empty(get(&o->hosts[i]));
	qsort(scratch, o->count, sizeof *scratch, by_text);
	const char *best = NULL;
	size_t best_n = 0;
	for (size_t i = 0; i < o->count;) {
		size_t j = i;
		while (j < o->count && strcmp(scratch[j], scratch[i]) == 0)
			j++;
		if (j - i > best_n) { /* strictly more: among equals, the first (smallest) stays */
			best = scratch[i];
			best_n = j - i;
		}
		i = j;
	}
	return best && best[0] ? best : NULL;
}

static const char *host_country(const struct host *h)
{
	return h->f.country;
}
static const char *host_agency(const struct host *h)
{
	return h->f.agency;
}

/* The verdict most hosts have; ties go to the first in campaign_verdicts. */
static const char *majority_verdict(const struct owner *o)
{
	size_t n[VERDICT_COUNT] = {0}, best = 0;
	for (size_t i = 0; i < o->count; i++)
		n[o->hosts[i].verdict]++;
	for (size_t v = 1; v < VERDICT_COUNT; v++)
		if (n[v] > n[best])
			best = v;
	return campaign_verdicts[best];
}

static int write_letter(struct store *store, const struct campaign_options *options,
			int64_t campaign_owner_id, const struct owner *o,
			const uint8_t key[TICKET_CAMPAIGN_KEY_LEN], const char *suppressed_by,
			const char *skipped, int64_t campaign_id)
{
	const struct campaign_agency *agency = NULL;
	for (size_t i = 0; o->agency != NULL && i < options->route_count; i++)
		if (strcasecmp(options->routes[i].short_name, o->agency) == 0)
			agency = &options->routes[i];
	if (agency == NULL) {
		/* registry text: escaped */
		char shown_agency[ESCAPE_SIZE(32)], shown_contact[ESCAPE_SIZE(64)];
		const char *contact = o->hosts[0].f.contact;
		log_warn("campaign %s: agency '%s' of %s is not in the agencies file: its letter has no "
			 "language or template",
			 options->name,
			 escape_text(shown_agency, sizeof shown_agency, or_empty(o->agency),
				     strlen(or_empty(o->agency))),
			 escape_text(shown_contact, sizeof shown_contact, contact, strlen(contact)));
	}
	for (int draw = 0; draw < TICKET_DRAWS; draw++) {
		uint8_t random[TICKET_RANDOM_BYTES];
		char ticket[TICKET_LEN + 1], ticket_key_text[TICKET_KEY_LEN + 1],
		    message_id[TICKET_LEN + CAMPAIGN_NAME_MAX + 260];
		if (RAND_bytes(random, sizeof random) != 1) {
			log_error("campaign %s: cannot gather random bytes for a ticket", options->name);
			return -1;
		}
		ticket_make(random, ticket);
		ticket_key(key, ticket, ticket_key_text);
		snprintf(message_id, sizeof message_id, "<%s.%s@%s>", ticket, options->name, options->domain);
		struct store_letter letter = {
		    .campaign_id = campaign_id,
		    .campaign_owner_id = campaign_owner_id,
		    .ticket = ticket,
		    .ticket_key = ticket_key_text,
		    .message_id = message_id,
		    .recipient = o->hosts[0].f.contact,
		    .agency = agency ? agency->short_name : o->agency,
		    .language = agency ? agency->language : NULL,
		    .template_name = agency ? agency->template_name : NULL,
		    .state = letter_state_name(suppressed_by ? LETTER_SUPPRESSED
					       : skipped     ? LETTER_SKIPPED
							     : LETTER_QUEUED),
		    .suppressed_by = suppressed_by,
		    .reason = skipped,
		    .created = options->now,
		};
		int64_t id = store_letter_insert(store, &letter);
		if (id != 0)
			return id < 0 ? -1 : 0;
	}
	log_error("campaign %s: %d tickets drawn in a row were taken", options->name, TICKET_DRAWS);
	return -1;
}

/* Freezes one owner and its hosts; a treated owner gets its letter. */
static int write_owner(struct store *store, const struct campaign_options *options, int64_t campaign_id,
		       const struct owner *o, bool control, const uint8_t key[TICKET_CAMPAIGN_KEY_LEN],
		       struct campaign_summary *summary)
{
	const struct store_campaign_finding *first = &o->hosts[0].f;
	struct store_campaign_owner row = {
	    .campaign_id = campaign_id,
	    .owner_id = first->owner_id,
	    .organisation = first->organisation,
	    .org_handle = first->org_handle,
	    .contact = first->contact,
	    .rung = first->rung,
	    .country = o->country,
	    .agency = o->agency,
	    .verdict = o->verdict,
	    .stratum = o->stratum,
	    .group = control ? "control" : "treatment",
	    .further = first->further,
	};
	int64_t owner_row = store_campaign_owner_insert(store, &row);
	if (owner_row < 0)
		return -1;
	/* A host in a suppressed network is kept (the campaign measures it) but out of
	 * the letter; a letter whose every host is suppressed is suppressed. */
	char rule[512], first_rule[512] = "";
	size_t suppressed = 0;
	for (size_t i = 0; i < o->count; i++) {
		const struct store_campaign_finding *h = &o->hosts[i].f;
		struct addr address;
		bool parsed = addr_parse(h->address, strlen(h->address), &address) == 0;
		int s = store_suppressed(store, h->contact, parsed ? &address : NULL, rule, sizeof rule);
		if (s < 0 ||
		    store_campaign_host_insert(store, campaign_id, owner_row, h, s == 1 ? rule : NULL) != 0)
			return -1;
		if (s == 1) {
			suppressed++;
			if (!first_rule[0])
				snprintf(first_rule, sizeof first_rule, "%s", rule);
		}
	}
	summary->hosts_suppressed += suppressed;
	if (control)
		return 0;
	bool all = suppressed == o->count;
	/* Registries hold garbage: a contact that is no mailbox gets a skipped letter saying so. */
	const char *why = NULL, *contact = first->contact;
	char skipped[160];
	if (mailbox_check(contact, strlen(contact), &why) == 0)
		why = NULL;
	else
		snprintf(skipped, sizeof skipped, "the contact is no mailbox: %s", why);
	if (write_letter(store, options, owner_row, o, key, all ? first_rule : NULL, why ? skipped : NULL,
			 campaign_id) != 0)
		return -1;
	if (all)
		summary->letters_suppressed++;
	else if (why)
		summary->letters_skipped++;
	else
		summary->letters_queued++;
	return 0;
}

/* "a,b,c" of items (each short enough that outlen holds them all). */
static void join_filters(char *out, size_t outlen, const char *const *list, size_t count)
{
	size_t w = 0;
	out[0] = '\0';
	for (size_t i = 0; i < count && w < outlen; i++)
		w += (size_t)snprintf(out + w, outlen - w, "%s%s", i ? "," : "", list[i]);
}

/* Groups the hosts (sorted by owner) into owners, each with its stratum; returns how many. */
static size_t group_owners(struct host *hosts, size_t count, struct owner *owners, struct control_unit *units,
			   const char **scratch)
{
	size_t n = 0;
	for (size_t i = 0; i < count; n++) {
		struct owner *o = &owners[n];
		size_t j = i;
		while (j < count && hosts[j].f.owner_id == hosts[i].f.owner_id)
			j++;
		o->hosts = &hosts[i];
		o->count = j - i;
		o->country = majority(o, host_country, scratch);
		o->agency = majority(o, host_agency, scratch);
		o->verdict = majority_verdict(o);
		snprintf(o->key, sizeof o->key, "%s\n%s", o->hosts[0].f.organisation, o->hosts[0].f.contact);
		snprintf(o->stratum, sizeof o->stratum, "%s|%s", o->country ? o->country : "-", o->verdict);
		units[n] = (struct control_unit){.key = o->key, .stratum = o->stratum};
		i = j;
	}
	return n;
}

/* The campaign's own row, with a fresh salt for its ticket keys (the key derived into key). */
static int64_t insert_campaign(struct store *store, const struct campaign_options *options,
			       const struct token_secret *secret, size_t unattributed,
			       uint8_t key[TICKET_CAMPAIGN_KEY_LEN])
{
	uint8_t salt_bytes[16];
	char salt[2 * sizeof salt_bytes + 1], verdicts[64], agency_list[CAMPAIGN_MAX_FILTERS * 33],
	    country_list[CAMPAIGN_MAX_FILTERS * 3];
	if (RAND_bytes(salt_bytes, sizeof salt_bytes) != 1) {
		log_error("campaign %s: cannot gather random bytes for its key", options->name);
		return -1;
	}
	for (size_t i = 0; i < sizeof salt_bytes; i++)
		sprintf(salt + 2 * i, "%02x", salt_bytes[i]);
	ticket_campaign_key(secret, salt, key);
	const char *chosen[VERDICT_COUNT], *countries[CAMPAIGN_MAX_FILTERS];
	size_t nchosen = 0;
	for (size_t v = 0; v < VERDICT_COUNT; v++)
		if (options->verdicts & (1u << v))
			chosen[nchosen++] = campaign_verdicts[v];
	for (size_t i = 0; i < options->country_count; i++)
		countries[i] = options->countries[i];
	join_filters(verdicts, sizeof verdicts, chosen, nchosen);
	join_filters(agency_list, sizeof agency_list, options->agencies, options->agency_count);
	join_filters(country_list, sizeof country_list, countries, options->country_count);
	struct store_campaign row = {
	    .name = options->name,
	    .created = options->now,
	    .verdicts = verdicts,
	    .control_fraction = options->control,
	    .seed = (int64_t)options->seed,
	    .agencies = agency_list[0] ? agency_list : NULL,
	    .countries = country_list[0] ? country_list : NULL,
	    .domain = options->domain,
	    .key_salt = salt,
	    .skipped_unattributed = (int64_t)unattributed,
	};
	return store_campaign_insert(store, &row);
}

int campaign_create(struct store *store, const struct campaign_options *options,
		    const struct token_secret *secret, struct campaign_summary *summary,
		    campaign_skip_fn skipped, void *ctx)
{
	memset(summary, 0, sizeof *summary);
	struct collect c = {.options = options, .summary = summary, .skipped = skipped, .ctx = ctx};
	struct owner *owners = NULL;
	struct control_unit *units = NULL;
	const char **scratch = NULL;
	uint8_t key[TICKET_CAMPAIGN_KEY_LEN];
	int result = -1;
	if (store_begin(store) != 0)
		return -1;
	int64_t existing = store_campaign_id(store, options->name);
	if (existing != 0) {
		result = existing > 0 ? CAMPAIGN_EXISTS : -1;
		goto done;
	}
	if (store_campaign_findings_each(store, collect_one, &c) != 0 || c.failed)
		goto done;
	if (c.count == 0) {
		result = CAMPAIGN_EMPTY; /* an empty campaign would only take the name */
		goto done;
	}
	qsort(c.hosts, c.count, sizeof *c.hosts, by_owner);
	owners = calloc(c.count, sizeof *owners);
	units = calloc(c.count, sizeof *units);
	scratch = calloc(c.count, sizeof *scratch);
	if (owners == NULL || units == NULL || scratch == NULL)
		goto done;
	summary->owners = group_owners(c.hosts, c.count, owners, units, scratch);
	if (control_sample(units, summary->owners, options->control, options->seed) < 0)
		goto done;
	summary->id = insert_campaign(store, options, secret, summary->unattributed, key);
	if (summary->id <= 0) {
		result = summary->id == 0 ? CAMPAIGN_EXISTS : -1;
		goto done;
	}
	for (size_t i = 0; i < summary->owners; i++) {
		if (write_owner(store, options, summary->id, &owners[i], units[i].control, key, summary) != 0)
			goto done;
		summary->hosts += owners[i].count;
		if (units[i].control)
			summary->control++;
		else
			summary->treatment++;
	}
	result = store_commit(store);
done:
	if (result != 0)
		store_rollback(store);
	free(scratch);
	free(units);
	free(owners);
	hosts_free(c.hosts, c.count);
	return result;
}
