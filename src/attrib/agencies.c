#include "attrib/agencies.h"

#include <ini.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/log.h"
#include "core/util.h"

#define MAX_AGENCIES 256

struct load {
	struct agencies *agencies;
	const char *why;
};

static struct agency *agency_for(struct load *l, const char *section)
{
	struct agencies *a = l->agencies;
	if (a->count > 0 && strcmp(a->list[a->count - 1].id, section) == 0)
		return &a->list[a->count - 1];
	for (size_t i = 0; i < a->count; i++) {
		if (strcmp(a->list[i].id, section) == 0) {
			l->why = "section appears twice";
			return NULL;
		}
	}
	if (a->count == MAX_AGENCIES || strlen(section) >= sizeof a->list[0].id || section[0] == '\0') {
		l->why = section[0] == '\0' ? "setting outside any [agency] section"
					    : "too many agencies or a long name";
		return NULL;
	}
	struct agency *grown = realloc(a->list, (a->count + 1) * sizeof *grown);
	if (grown == NULL) {
		l->why = "out of memory";
		return NULL;
	}
	a->list = grown;
	struct agency *agency = &a->list[a->count++];
	memset(agency, 0, sizeof *agency);
	snprintf(agency->id, sizeof agency->id, "%s", section);
	return agency;
}

static int parse_countries(struct agency *agency, const char *value, const char **why)
{
	for (const char *p = value; *p;) {
		while (*p == ' ' || *p == ',' || *p == '\t')
			p++;
		if (*p == '\0')
			break;
		if (!(p[0] >= 'A' && p[0] <= 'Z' && p[1] >= 'A' && p[1] <= 'Z') ||
		    (p[2] != '\0' && p[2] != ' ' && p[2] != ',' && p[2] != '\t')) {
			*why = "countries are ISO 3166 alpha-2 codes in capitals, separated by commas";
			return -1;
		}
		if (agency->country_count == AGENCY_MAX_COUNTRIES) {
			*why = "too many countries";
			return -1;
		}
		memcpy(agency->countries[agency->country_count++], p, 2);
		p += 2;
	}
	return 0;
}

static int handler(void *user, const char *section, const char *name, const char *value)
{
	struct load *l = user;
	struct agency *agency = agency_for(l, section);
	if (agency == NULL)
		return 0;
	static const struct {
		const char *name;
		size_t offset, size;
	} fields[] = {
	    {"name", offsetof(struct agency, name), sizeof agency->name},
	    {"short", offsetof(struct agency, short_name), sizeof agency->short_name},
	    {"sender", offsetof(struct agency, sender), sizeof agency->sender},
	    {"reply_to", offsetof(struct agency, reply_to), sizeof agency->reply_to},
	    {"language", offsetof(struct agency, language), sizeof agency->language},
	    {"template", offsetof(struct agency, template_name), sizeof agency->template_name},
	    {"contact", offsetof(struct agency, contact), sizeof agency->contact},
	};
	for (size_t i = 0; i < ARRAY_SIZE(fields); i++) {
		if (strcmp(name, fields[i].name) != 0)
			continue;
		if (strlen(value) >= fields[i].size) {
			l->why = "value too long";
			return 0;
		}
		memcpy((char *)agency + fields[i].offset, value, strlen(value) + 1);
		return 1;
	}
	if (strcmp(name, "countries") == 0)
		return parse_countries(agency, value, &l->why) == 0;
	if (strcmp(name, "lead") == 0) {
		if (strcasecmp(value, "yes") != 0 && strcasecmp(value, "no") != 0) {
			l->why = "lead is yes or no";
			return 0;
		}
		agency->lead = strcasecmp(value, "yes") == 0;
		return 1;
	}
	l->why =
	    "unknown setting (name, short, countries, sender, reply_to, language, template, contact, lead)";
	return 0;
}

static const char *missing_field(const struct agency *a)
{
	if (!a->name[0])
		return "name";
	if (!a->short_name[0])
		return "short";
	if (!a->sender[0] || !strchr(a->sender, '@'))
		return "sender (an address)";
	if (!a->language[0])
		return "language";
	if (!a->template_name[0])
		return "template";
	if (!a->contact[0] || !strchr(a->contact, '@'))
		return "contact (an address)";
	if (a->country_count == 0 && !a->lead)
		return "countries";
	return NULL;
}

int agencies_load(struct agencies *agencies, const char *path)
{
	struct load l = {agencies, NULL};
	memset(agencies, 0, sizeof *agencies);
	int rc = ini_parse(path, handler, &l);
	if (rc < 0) {
		log_error("%s: cannot read the agencies file", path);
		agencies_free(agencies);
		return -1;
	}
	if (rc > 0) {
		log_error("%s:%d: %s", path, rc, l.why ? l.why : "not INI syntax");
		agencies_free(agencies);
		return -1;
	}
	for (size_t i = 0; i < agencies->count; i++) {
		const struct agency *a = &agencies->list[i];
		const char *missing = missing_field(a);
		if (missing != NULL) {
			log_error("%s: [%s]: missing %s", path, a->id, missing);
			agencies_free(agencies);
			return -1;
		}
		if (a->lead) {
			if (agencies->lead != NULL) {
				log_error("%s: [%s]: a second lead agency (the first is [%s])", path, a->id,
					  agencies->lead->id);
				agencies_free(agencies);
				return -1;
			}
			agencies->lead = a;
		}
	}
	if (agencies->lead == NULL) {
		log_error("%s: no agency has lead = yes", path);
		agencies_free(agencies);
		return -1;
	}
	return 0;
}

void agencies_free(struct agencies *agencies)
{
	free(agencies->list);
	memset(agencies, 0, sizeof *agencies);
}

const struct agency *agencies_for_country(const struct agencies *agencies, const char *cc)
{
	if (cc != NULL && strlen(cc) == 2) {
		for (size_t i = 0; i < agencies->count; i++)
			for (size_t c = 0; c < agencies->list[i].country_count; c++)
				if (strcasecmp(agencies->list[i].countries[c], cc) == 0)
					return &agencies->list[i];
	}
	return agencies->lead;
}

const struct agency *agencies_find(const struct agencies *agencies, const char *id_or_short_name)
{
	for (size_t i = 0; i < agencies->count; i++)
		if (strcasecmp(agencies->list[i].id, id_or_short_name) == 0 ||
		    strcasecmp(agencies->list[i].short_name, id_or_short_name) == 0)
			return &agencies->list[i];
	return NULL;
}
