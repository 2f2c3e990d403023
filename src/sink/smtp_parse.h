/*
 * Parsers for what an SMTP client says to the sink, as pure functions over
 * (buffer, length): a command line's verb and arguments, the path and
 * parameters of MAIL FROM / RCPT TO, and whether a recipient is ours.
 * Errors come back as the complete reply the session should send.
 */
#ifndef PLUGHOLE_SINK_SMTP_PARSE_H
#define PLUGHOLE_SINK_SMTP_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/addr.h"

#define SINK_SMTP_PATH_MAX 256 /* RFC 5321 4.5.3.1.3, without the brackets */

struct sink_smtp_command {
	const char *verb; /* points into the line */
	size_t verb_len;
	const char *args; /* after the spaces following the verb, trailing spaces trimmed */
	size_t args_len;
};

void sink_smtp_command_split(const char *line, size_t len, struct sink_smtp_command *out);

enum sink_smtp_path_kind { SINK_SMTP_PATH_MAIL, SINK_SMTP_PATH_RCPT };

struct sink_smtp_path {
	char address[SINK_SMTP_PATH_MAX + 1]; /* local@domain, or "" for the null sender */
	bool has_size;
	uint64_t size; /* MAIL's SIZE= parameter */
};

/*
 * Parses the arguments of MAIL ("FROM:<path> [SIZE=n] [BODY=...]") or RCPT
 * ("TO:<path>"). A source route (<@a,@b:user@host>) is dropped. 0 on
 * success, -1 with *reply set to the 501/555 reply.
 */
int sink_smtp_path_parse(const char *args, size_t len, enum sink_smtp_path_kind kind,
			 struct sink_smtp_path *out, const char **reply);

/*
 * Whether the sink takes mail for address: its domain, any subdomain, an
 * address literal of the listener ([192.0.2.1], [IPv6:2001:db8::1]), or a
 * bare "postmaster". Anything else would be relaying.
 */
bool sink_smtp_rcpt_is_ours(const char *address, const char *domain, const struct addr *listener);

/* An EHLO/HELO argument: 1..255 printable ASCII bytes (some clients send spaces). */
bool sink_smtp_helo_valid(const char *arg, size_t len);

#endif
