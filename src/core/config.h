/*
 * Settings: built-in defaults, then the INI file (--config), then the
 * command line. The table in config.c names every setting once.
 */
#ifndef PLUGHOLE_CONFIG_H
#define PLUGHOLE_CONFIG_H

#include <stdbool.h>

struct config {
	/* [store] */
	char *db;           /* SQLite database */
	char *secret;       /* token secret; default: the database path + ".secret" */
	/* [safety] */
	char *optout;       /* operator opt-out ranges, excluded like the defaults */
	/* [ingest] */
	long max_range;     /* largest range (addresses) a feed line may expand to */
	/* [sink] */
	char *sink_listen;
	char *sink_domain;
	char *sink_target;
	long sink_max_message; /* bytes kept of any message */
	long sink_max_bodies; /* bytes all messages being received may hold */
	long sink_max_sessions;
	long sink_max_per_peer; /* sessions one address may hold */
	long sink_idle_timeout; /* seconds */
	long sink_session_timeout; /* seconds a whole session may last */
	long sink_target_rows_per_peer; /* target hits one address may store per interval */
	long sink_target_bytes_per_peer;
	long sink_target_rows; /* target hits without a genuine token all addresses may store per interval */
	long sink_target_bytes;
	/* [campaign] */
	long campaign;      /* campaign number carried in tokens */
	char *operator_name; /* who is testing, said in every test message */
	char *operator_contact;
	char *campaign_smtp; /* smarthost of campaign send: smtp[s]://HOST:PORT */
	/* [web] */
	char *web_public_url; /* letters' evidence and unsubscribe pages are under it */
};

void config_defaults(struct config *config);
/* Reads an INI file over the current values; errors name file:line. */
int config_load(struct config *config, const char *path);
/* Sets one "section.name" or "name" from text; used by the loader and tests. */
int config_set(struct config *config, const char *section, const char *name, const char *value);
void config_free(struct config *config);
/* The secret's path: config->secret, or the database path + ".secret". */
const char *config_secret_path(const struct config *config, char *buf, unsigned buflen);

#endif
