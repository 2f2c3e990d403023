/*
 * RDAP (RFC 7484 bootstrap, RFC 9083 answers) for what bulk data lacks.
 * The IANA bootstrap files pick the registry; /ip/ADDRESS asks it; curl
 * follows redirects between registries. Answers (and "no such network")
 * are cached in the store with a TTL, so a campaign asks once per range;
 * each registry is asked at a bounded rate, and a 429 makes the client wait
 * as long as the registry says before it asks that registry again.
 */
#ifndef PLUGHOLE_RDAP_H
#define PLUGHOLE_RDAP_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "core/addr.h"
#include "store/store.h"

#define RDAP_MAX_BODY (1u << 20)      /* bytes of one answer */
#define RDAP_MAX_BOOTSTRAP (4u << 20) /* bytes of one bootstrap file */

struct rdap_service {
	struct range range;
	char base[256]; /* ends with '/' */
};

struct rdap_bootstrap {
	struct rdap_service *services;
	size_t count;
};

/* Adds the services of one bootstrap file's text; 0, or -1 with *why. */
int rdap_bootstrap_parse(struct rdap_bootstrap *bs, const char *json, size_t len, const char **why);
/* A bootstrap file, or a directory holding ipv4.json and ipv6.json. */
int rdap_bootstrap_load(struct rdap_bootstrap *bs, const char *path);
void rdap_bootstrap_free(struct rdap_bootstrap *bs);
/* The base URL of the registry for a (most specific prefix wins), or NULL. */
const char *rdap_bootstrap_find(const struct rdap_bootstrap *bs, const struct addr *a);

/*
 * What an "ip network" answer says: range, handle, name, country, parent,
 * the registrant's name (org) and the abuse entity's e-mail (searched in
 * nested entities too, as ARIN nests them). 0, or -1 with *why.
 */
int rdap_parse_ip(const char *json, size_t len, struct store_rdap_net *out, const char **why);

struct rdap_options {
	const char *bootstrap; /* file or directory; NULL: data/rdap */
	long ttl;	       /* seconds an answer is trusted */
	double rate;	       /* requests per second to one registry */
	long timeout;	       /* seconds for one request, redirects included */
	int retries;	       /* after a 429 or a failed connection */
	long max_wait;	       /* longest Retry-After honoured, seconds */
	/* when set (by a signal handler): the request in flight ends, no retry, no wait; NULL: never */
	volatile sig_atomic_t *stop;
};
void rdap_options_default(struct rdap_options *o);
/* Sets one option by its command-line name (rdap-bootstrap, rdap-rate, rdap-ttl, rdap-timeout); 0 or -1 with
 * *why. */
int rdap_option_set(struct rdap_options *o, const char *name, const char *value, const char **why);

struct rdap_counters {
	unsigned long queries, cache_hits, not_found, rate_limited, errors;
};

struct rdap_client;
struct rdap_client *rdap_client_new(struct store *store, const struct rdap_options *options);
void rdap_client_free(struct rdap_client *client);
const struct rdap_counters *rdap_client_counters(const struct rdap_client *client);
/*
 * The network holding a, from the cache or its registry: 1 found, 0 none
 * (the registry said 404, or no registry serves a), -1 failed (logged; not
 * cached, so a later run asks again).
 */
int rdap_lookup(struct rdap_client *client, const struct addr *a, struct store_rdap_net *out);

/* Downloads ipv4.json and ipv6.json from base_url into dir, each checked, then renamed into place. */
int rdap_bootstrap_fetch(const char *base_url, const char *dir, long timeout);

#endif
