/*
 * SMTP replies (RFC 5321 4.2) parsed from raw bytes: "250-first\r\n250 last\r\n".
 * Pure functions over (buffer, length) so they can be fuzzed without sockets.
 */
#ifndef PLUGHOLE_SMTP_REPLY_H
#define PLUGHOLE_SMTP_REPLY_H

#include <stdbool.h>
#include <stddef.h>

#define SMTP_REPLY_MAX_LINE 1000 /* RFC 5321 allows 512; be generous, not unbounded */
#define SMTP_REPLY_MAX 8192      /* a whole multi-line reply (EHLO) */

enum smtp_reply_status {
	SMTP_REPLY_COMPLETE = 1,
	SMTP_REPLY_INCOMPLETE = 0, /* wait for more bytes */
	SMTP_REPLY_MALFORMED = -1, /* not an SMTP reply: not-smtp */
	SMTP_REPLY_TOO_LONG = -2,  /* a line or the reply exceeds the limits */
};

struct smtp_reply {
	int code;        /* 200..599 */
	size_t consumed; /* bytes of the buffer the reply used, CRLFs included */
	unsigned lines;
};

enum smtp_reply_status smtp_reply_parse(const char *buf, size_t len, struct smtp_reply *out);
/* Whether an EHLO reply advertises keyword (case-insensitive, e.g. "STARTTLS"). */
bool smtp_reply_has_keyword(const char *reply, size_t len, const char *keyword);
/*
 * The delay a 4xx reply asks for before a retry ("try again in 5 minutes",
 * "Greylisted for 300 seconds"): a number, then a unit of seconds or minutes;
 * enhanced status codes and addresses are no delay. Seconds (at most a day),
 * or -1 when the reply names none.
 */
double smtp_reply_retry_delay(const char *reply, size_t len);

#endif
