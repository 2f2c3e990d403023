/*
 * The test message every mail test sends (relays directly, proxies through
 * a tunnel): small, clearly labelled, addressed only to the sink's domain,
 * carrying the token in the recipient, Subject, Message-ID and body, and
 * saying who tests, why, and how to opt out.
 */
#ifndef PLUGHOLE_SMTP_MESSAGE_H
#define PLUGHOLE_SMTP_MESSAGE_H

#include <stddef.h>
#include <time.h>

struct smtp_message {
	const char *kind;   /* "Open relay test", "Open proxy test": the Subject's start */
	const char *tested; /* "the mail server at 192.0.2.1:25 relays mail for anyone ..." */
	const char *from;   /* the From: address */
	const char *token;
	const char *sink_domain;
	const char *variant;	   /* the test variant, named in the body */
	const char *operator_name; /* who tests */
	const char *contact;	   /* questions and opt-out */
};

/*
 * Headers, body and the final ".", with CRLF line ends. Returns the length,
 * or 0 when out is too small (SMTP_MESSAGE_MAX always suffices for fields
 * of sane length).
 */
#define SMTP_MESSAGE_MAX 3072
size_t smtp_message_format(const struct smtp_message *m, time_t now, char *out, size_t size);

#endif
