/*
 * The participating agencies: who writes to whom. Each has a jurisdiction
 * (ISO 3166 country codes), a sender identity, a language and a letter
 * template; one is the lead, which writes "on behalf of all participating
 * agencies" and takes every country outside the others' jurisdictions. Read
 * from an INI file (data/agencies.conf), one section per agency.
 */
#ifndef PLUGHOLE_AGENCIES_H
#define PLUGHOLE_AGENCIES_H

#include <stdbool.h>
#include <stddef.h>

#define AGENCY_MAX_COUNTRIES 64

struct agency {
	char id[32]; /* the section name */
	char name[128];
	char short_name[32];
	char sender[128]; /* From: of its letters */
	char reply_to[128];
	char language[16]; /* BCP 47 tag */
	char template_name[64];
	char contact[128]; /* national contact: the last rung of the fallbacks */
	char countries[AGENCY_MAX_COUNTRIES][3];
	size_t country_count;
	bool lead;
};

struct agencies {
	struct agency *list;
	size_t count;
	const struct agency *lead;
};

/* Reads path; errors name the file and line (or section). 0 or -1. */
int agencies_load(struct agencies *agencies, const char *path);
void agencies_free(struct agencies *agencies);
/*
 * The agency whose jurisdiction holds cc (the first in file order when
 * several share a country); the lead agency for any other country or none.
 */
const struct agency *agencies_for_country(const struct agencies *agencies, const char *cc);
const struct agency *agencies_find(const struct agencies *agencies, const char *id_or_short_name);

#endif
