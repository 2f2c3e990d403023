/*
 * Submission to a smarthost with libcurl: one easy handle kept for the
 * whole run, so the connection (and its TLS and AUTH) is reused from one
 * letter to the next. smtp:// tries STARTTLS when the server offers it
 * (required with require_tls), smtps:// is TLS from the start; AUTH when a
 * user is given. The envelope sender is the letter's VERP return path.
 */
#ifndef PLUGHOLE_SEND_H
#define PLUGHOLE_SEND_H

#include <stdbool.h>
#include <stddef.h>

struct smtp_options {
	const char *url;	       /* smtp[s]://HOST:PORT */
	const char *user, *password;   /* AUTH when user is not NULL */
	const char *cacert;	       /* CA bundle for the smarthost's certificate; NULL: the system's */
	bool require_tls;	       /* smtp://: fail unless STARTTLS works */
	long connect_timeout, timeout; /* seconds */
	const char *helo_name;	       /* EHLO name; NULL: libcurl's */
};

enum smtp_outcome {
	SMTP_ACCEPTED, /* 2xx after the data: the smarthost has it */
	SMTP_TEMPFAIL, /* 4xx, or no answer: try again later */
	SMTP_PERMFAIL, /* 5xx: never */
	SMTP_UNKNOWN,  /* the whole message went, then no final reply: the smarthost may have it */
};

struct smtp_result {
	enum smtp_outcome outcome;
	int code;	 /* the smarthost's last reply code, 0 when none */
	char reply[512]; /* its last reply line (peer bytes: escape before showing), or libcurl's error */
};

struct smtp_sender;

struct smtp_sender *smtp_sender_new(const struct smtp_options *options);
void smtp_sender_free(struct smtp_sender *s);

/*
 * Opens a session of its own as a submission would (connection, STARTTLS,
 * the certificate checked, AUTH) and closes it: 0, or -1 with why (peer
 * bytes: escape before showing). A run checks first, so that a wrong
 * password or an untrusted certificate claims no letter.
 */
int smtp_sender_check(struct smtp_sender *s, char *why, size_t whylen);

/* Submits msg (CRLF lines) from return_path to rcpt. */
void smtp_submit(struct smtp_sender *s, const char *return_path, const char *rcpt, const char *msg,
		 size_t len, struct smtp_result *result);

/* The outcome of a final reply code (pure): 2xx accepted, 5xx permfail, anything else tempfail. */
enum smtp_outcome smtp_outcome_of(int code);

/* Whether url is smtp:// or smtps:// with a host (pure). */
bool smtp_url_valid(const char *url);

#endif
