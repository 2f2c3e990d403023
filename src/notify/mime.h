/*
 * A letter as an RFC 5322 / MIME message, built with GMime 3:
 *
 *   From: the agency            Reply-To: the agency's reply address
 *   To: the owner's abuse contact
 *   Subject: the rendered subject (RFC 2047 encoded when not ASCII)
 *   Date, Message-ID (the letter's, fixed when it was created)
 *   Auto-Submitted: auto-generated (RFC 3834)
 *   List-Unsubscribe: <https URL>, <mailto:...>
 *   List-Unsubscribe-Post: List-Unsubscribe=One-Click (RFC 8058)
 *   multipart/mixed:
 *     text/plain; charset=utf-8, quoted-printable: the letter
 *     text/csv attachment: the hosts (letter_csv), base64
 *
 * The envelope sender (the VERP return path, letter_return_path) is the
 * sender's business, not a header. The multipart boundary is derived from
 * the ticket, and neither quoted-printable nor base64 can contain it, so
 * building a letter twice gives the same bytes.
 */
#ifndef PLUGHOLE_MIME_H
#define PLUGHOLE_MIME_H

#include <stddef.h>

#include "notify/letter.h"

enum mime_newline {
	MIME_CRLF, /* for SMTP */
	MIME_LF,   /* for files: Maildir, .eml */
};

#define MIME_MAX_MESSAGE (4u << 20)

/*
 * Builds the message of l with its rendered text. 0 and a malloc'ed *out
 * (NUL-terminated, *len bytes), or -1 with why (a missing or malformed
 * address, a header value with control characters, a message too large).
 */
int mime_build(const struct letter *l, const struct letter_text *text, enum mime_newline newline, char **out,
	       size_t *len, char *why, size_t whylen);

/*
 * The same with a cache of one prototype message per agency (its From,
 * Reply-To and fixed headers built once): a letter only replaces what is
 * its own. Gives the bytes mime_build gives.
 */
struct mime_cache;
struct mime_cache *mime_cache_new(void);
void mime_cache_free(struct mime_cache *c);
int mime_build_cached(struct mime_cache *cache, const struct letter *l, const struct letter_text *text,
		      enum mime_newline newline, char **out, size_t *len, char *why, size_t whylen);

#endif
