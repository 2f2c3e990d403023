/*
 * Settings: built-in defaults, then the INI file (--config), then the
 * command line. The table in config.c names every setting once.
 */
#ifndef PLUGHOLE_CONFIG_H
#define PLUGHOLE_CONFIG_H

#include <stdbool.h>
#include <stdio.h>

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
	/* [verify]: the engine's settings (probe/defaults.h) */
	long verify_concurrency; /* 0: from the descriptor limit */
	long verify_per_host;
	long verify_per_net;
	long verify_rate;
	long verify_connect_timeout; /* seconds */
	long verify_timeout;
	long verify_total_timeout;
	long verify_retry_after;
	long verify_retries;
	long verify_wait;
	long verify_proof_grace;
	/* [campaign] */
	long campaign;      /* campaign number carried in tokens */
	char *operator_name; /* who is testing, said in every test message */
	char *operator_contact;
	char *campaign_smtp; /* smarthost of campaign send: smtp[s]://HOST:PORT */
	char *campaign_smtp_ca; /* CA file the smarthost's certificate is checked against (NULL: the system's) */
	char *dkim_key;		/* PEM private key: letters are DKIM-signed when set */
	char *dkim_selector;
	char *dkim_domain; /* d=; NULL: the domain of the agency's sender */
	/* [web] */
	char *web_public_url; /* letters' evidence and unsubscribe pages are under it */
};

void config_defaults(struct config *config);
/* Reads an INI file over the current values; errors name file:line. */
int config_load(struct config *config, const char *path);
/* Sets one "section.name" or "name" from text; used by the loader and tests. */
int config_set(struct config *config, const char *section, const char *name, const char *value);
void config_free(struct config *config);
/* data/plughole.conf.example: every section and key with its default, from the table. */
void config_write_example(FILE *out);
/* The secret's path: config->secret, or the database path + ".secret". */
const char *config_secret_path(const struct config *config, char *buf, unsigned buflen);

#endif
