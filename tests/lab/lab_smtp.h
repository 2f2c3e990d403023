/*
 * SMTP pieces shared by the lab's server sessions (lab_smtp.c) and its
 * forwarding client (lab_forward.c): parsing MAIL/RCPT paths and resolving a
 * recipient the way a permissive MTA of 2004 would, as pure functions.
 */
#ifndef PLUGHOLE_LAB_SMTP_H
#define PLUGHOLE_LAB_SMTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <event2/buffer.h>

#include "lab.h"

#define LAB_PATH_MAX 256 /* RFC 5321 4.5.3.1.3, including the NUL */

/* How a recipient asks to be routed; the relay behaviours decide per kind. */
enum lab_route {
	LAB_ROUTE_LOCAL,     /* a mailbox of the host itself: user@<addr>.lab.test, user@[addr], user */
	LAB_ROUTE_PLAIN,     /* user@foreign.dom */
	LAB_ROUTE_LITERAL,   /* user@[a.b.c.d], not the host's own address */
	LAB_ROUTE_PERCENT,   /* user%foreign.dom@host */
	LAB_ROUTE_BANG,	     /* foreign.dom!user@host, foreign.dom!user */
	LAB_ROUTE_SOURCE,    /* <@host:user@foreign.dom> */
	LAB_ROUTE_QUOTED,    /* "user@foreign.dom"@host, "user@foreign.dom" */
	LAB_ROUTE_DOUBLE_AT, /* user@foreign.dom@host */
	LAB_ROUTE_LAST
};

extern const char *const lab_route_names[LAB_ROUTE_LAST];

/*
 * The path of a MAIL/RCPT argument: arg is what follows the verb ("FROM:<a@b>
 * SIZE=10", "TO: <x>"), prefix is "FROM:" or "TO:". Copies the address between
 * the angle brackets (brackets optional) into out. 0 on success, -1 on bad
 * syntax; an empty path ("<>") gives out = "".
 */
int lab_path_parse(const char *arg, size_t len, const char *prefix, char out[LAB_PATH_MAX]);

/*
 * Resolves the recipient path for the host at address host (host byte order):
 * returns its route and writes the address the mail would go to next into out
 * ("user@sink.dom" for every routing form). -1 when the path is no address.
 */
int lab_route_resolve(const char *path, uint32_t host, char out[LAB_PATH_MAX]);

/*
 * What Exim's parser says of a path (allow_domain_literals off, no
 * unqualified senders or recipients): NULL when it passes, else its error
 * text. The empty sender passes.
 */
const char *lab_strict_path_error(const char *path, bool sender);

/* "<addr>.lab.test": the host's own domain; returns buf. */
const char *lab_host_domain(uint32_t host, char buf[40]);

/* A recipient accepted by a relay: as given, and where it is delivered. */
struct lab_rcpt {
	char *given;
	char *to;
	int sink_code; /* the sink's reply to RCPT, set while forwarding */
};

/*
 * Delivers message (a dot-stuffed body of CRLF lines, Received: line already
 * prepended) to the sink for the recipients, from the host's own address:
 * the open relay's onward SMTP conversation. Takes ownership of rcpts, their
 * strings and message.
 */
void lab_forward_start(struct lab *lab, const struct lab_host *host, const char *mail_from,
		       struct lab_rcpt *rcpts, unsigned nrcpt, struct evbuffer *message);

#endif
