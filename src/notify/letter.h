/*
 * The letter model: everything one advisory letter says, filled by a
 * campaign from the store (one letter per campaign and owner, listing every
 * host of that owner), then rendered from the agency's template
 * (data/templates/<agency>/<language>/{subject,body}.txt) with the fix
 * guide of each distinct product among the hosts, and built into a MIME
 * message (notify/mime.h).
 *
 * Every pointer is borrowed: the caller keeps the strings alive while the
 * letter is rendered and built. NULL means "unknown" wherever a field says
 * optional.
 *
 * What the templates see (every name always present, rendering is strict):
 *   campaign            the campaign's name
 *   agency.{name,short,sender,reply_to,language}
 *   lead                true when the agency writes on behalf of all
 *   participants[]      {name, short}: every participating agency
 *   owner.{name,handle} contact  ticket  evidence_url
 *   unsubscribe_url  unsubscribe_mailto
 *   host_count  several_hosts  has_relay  has_proxy
 *   unlisted            hosts beyond max_hosts_listed (only in the CSV), or ""
 *   hosts[]             {address, port, endpoint, verdict, open_relay,
 *                        relay_accepted, open_proxy_mail, open_proxy_web,
 *                        relay, proxy, variant, when, software, asn, country,
 *                        ticket, evidence_url}
 *   guides[]            {title, text, software, endpoints, more}: one per
 *                        distinct guide the hosts need, in host order;
 *                        endpoints names the first four hosts, more
 *                        counts the others ("" when none)
 */
#ifndef PLUGHOLE_LETTER_H
#define PLUGHOLE_LETTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "notify/guides.h"
#include "notify/template.h"
#include "notify/textbuf.h"

struct letter_agency {
	const char *id;	  /* its agencies.conf section */
	const char *name; /* as its letters sign it */
	const char *short_name;
	const char *sender;   /* From: */
	const char *reply_to; /* Reply-To: (optional: From: then) */
	const char *language; /* BCP 47 tag of its letters */
};

struct letter_host {
	const char *address; /* IPv4 or IPv6 in text form */
	unsigned port;
	const char *verdict;  /* open-relay, relay-accepted, open-proxy-mail, open-proxy-web */
	const char *variant;  /* the relay variant or proxy protocol that proved it; optional */
	int64_t proven_at;    /* when, UTC seconds since the epoch */
	const char *software; /* as the fingerprints name it; optional */
	uint32_t asn;	      /* 0: unknown */
	const char *country;  /* ISO 3166 alpha-2; optional */
	const char *ticket;   /* this finding's ticket; optional: the letter's */
};

struct letter {
	const char *campaign;			  /* the campaign's name */
	const char *campaign_domain;		  /* right side of the VERP return path */
	const char *public_url;			  /* [web] public_url: evidence pages are under it */
	struct letter_agency agency;		  /* who writes */
	bool lead;				  /* agency writes on behalf of all participants */
	const struct letter_agency *participants; /* every participating agency, the lead included */
	size_t participant_count;
	const char *owner;		/* the range holder's name */
	const char *owner_handle;	/* its registry handle; optional */
	const char *contact;		/* the abuse contact: To: */
	const char *ticket;		/* the letter's ticket: Subject, return path, evidence page */
	const char *ticket_key;		/* access key of the evidence page; optional */
	const char *message_id;		/* "<local@domain>", fixed when the letter was created */
	int64_t date;			/* Date:, UTC seconds */
	const char *unsubscribe_url;	/* https URL taking an RFC 8058 one-click POST */
	const char *unsubscribe_mailto; /* address for unsubscribe mail */
	const struct letter_host *hosts;
	size_t host_count;
	size_t max_hosts_listed; /* the body lists this many hosts, the CSV all (0: all) */
};

/* A letter's subject and plain-text body, rendered. */
struct letter_text {
	char *subject; /* one line, no newline */
	char *body;
	size_t body_len;
};

#define LETTER_MAX_BODY (1u << 20)

struct letter_templates {
	struct template *subject, *body;
	char dir[512]; /* where they were found */
};

/*
 * Loads the templates of agency_id in language from templates_dir (e.g.
 * data/templates): <agency>/<language>/, else <agency>/<primary subtag>/
 * (pt-BR falls back to pt). Errors name the file, line and column.
 */
int letter_templates_load(struct letter_templates *t, const char *templates_dir, const char *agency_id,
			  const char *language, struct tpl_error *err);
void letter_templates_free(struct letter_templates *t);

/*
 * Renders l's subject and body. guides is where the fix guides come from
 * (notify/guides.h). -1 with err on a bad template, a missing guide or a
 * letter too large.
 */
int letter_render(const struct letter *l, const struct letter_templates *t, struct guides *guides,
		  struct letter_text *out, struct tpl_error *err);
void letter_text_free(struct letter_text *text);

/* The hosts as CSV (notify/csv.h): timestamp, ip, port, protocol, verdict, asn, country, software, ticket. */
int letter_csv(const struct letter *l, struct textbuf *out);

/* public_url + "/t/" + ticket (+ "/" + ticket_key): issue 14's ticket page. -1 when it does not fit. */
int letter_evidence_url(const struct letter *l, const char *ticket, char *buf, size_t len);
/*
 * The per-letter VERP return path, "bounces+TICKET@campaign-domain", that the
 * sender gives as the envelope sender. -1 when the ticket is not a safe
 * local part (letters, digits, - _ .) or it does not fit.
 */
int letter_return_path(const char *ticket, const char *campaign_domain, char *buf, size_t len);

#endif
