/*
 * plughole campaign create: freezes the proven open findings chosen (by
 * verdict, agency, country) with their owners as attributed now, draws the
 * control group of owners, and writes one letter per treated owner.
 */
#ifndef PLUGHOLE_CAMPAIGN_H
#define PLUGHOLE_CAMPAIGN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "store/store.h"
#include "core/token.h"

#define CAMPAIGN_NAME_MAX 64
#define CAMPAIGN_MAX_FILTERS 64

enum { CAMPAIGN_EXISTS = 1, CAMPAIGN_EMPTY = 2 };

/* The verdicts a campaign may take, in the order that breaks ties. */
extern const char *const campaign_verdicts[3];

/* What a letter takes from its agency (the CLI reads them from the agencies file). */
struct campaign_agency {
	const char *short_name; /* as attributions name the agency */
	const char *language, *template_name;
};

struct campaign_options {
	const char *name;
	unsigned verdicts;			    /* bit i: campaign_verdicts[i] */
	double control;				    /* fraction of owners held out, [0, 1) */
	uint64_t seed;				    /* below 2^63 (stored as a signed integer) */
	const char *agencies[CAMPAIGN_MAX_FILTERS]; /* agency short names; none: all */
	size_t agency_count;
	char countries[CAMPAIGN_MAX_FILTERS][3]; /* uppercase; none: all */
	size_t country_count;
	const char *domain;		      /* of Message-IDs */
	const struct campaign_agency *routes; /* every agency a letter may name */
	size_t route_count;
	time_t now;
};

struct campaign_summary {
	int64_t id;
	size_t hosts, owners, treatment, control;
	size_t letters_queued, letters_suppressed, letters_skipped, hosts_suppressed;
	size_t unattributed, unproven, filtered;
};

/* A name fit for a Message-ID's left part: 1-64 of [A-Za-z0-9_-], starting with a letter or digit. */
bool campaign_name_valid(const char *name);
/* "open-relay,open-proxy-mail" into a verdict mask: 0 or -1 with the bad word in *bad. */
int campaign_verdicts_parse(const char *text, unsigned *mask, const char **bad, size_t *badlen);

/* Every finding without an attribution, reported as "address:port" for the caller's list. */
typedef void (*campaign_skip_fn)(void *ctx, const char *address, uint16_t port, const char *why);

/*
 * Creates the campaign in one transaction. Returns 0; CAMPAIGN_EXISTS when
 * a campaign of that name exists, CAMPAIGN_EMPTY when no finding qualifies
 * (nothing written: the summary says what was skipped); -1 on error (logged).
 */
int campaign_create(struct store *store, const struct campaign_options *options,
		    const struct token_secret *secret, struct campaign_summary *summary,
		    campaign_skip_fn skipped, void *ctx);

#endif
