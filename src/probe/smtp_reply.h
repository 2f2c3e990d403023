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
#define SMTP_REPLY_MAX_LINES 64  /* lines of one reply: an EHLO lists a dozen extensions */

enum smtp_reply_status {
	SMTP_REPLY_COMPLETE = 1,
	SMTP_REPLY_INCOMPLETE = 0, /* wait for more bytes */
	SMTP_REPLY_MALFORMED = -1, /* not an SMTP reply: not-smtp */
	SMTP_REPLY_TOO_LONG = -2,  /* a line, the line count or the reply exceeds the limits */
};

/* An enhanced status code (RFC 3463) "class.subject.detail", 5.7.1; class 0: none given. */
struct smtp_status {
	unsigned char class; /* 2, 4 or 5, the reply code's first digit */
	unsigned short subject, detail; /* 0..999 */
};

struct smtp_reply {
	int code;        /* 200..599 */
	size_t consumed; /* bytes of the buffer the reply used, CRLFs included */
	unsigned lines;
	struct smtp_status status; /* the first line's, when it starts with one */
	size_t last_line; /* offset of the last line */
};

/*
 * The first whole reply in buf: multi-line ("250-...", "250 ..."), every line
 * at most SMTP_REPLY_MAX_LINE bytes, at most SMTP_REPLY_MAX_LINES lines and
 * SMTP_REPLY_MAX bytes; junk is judged by its first bytes, before a newline.
 */
enum smtp_reply_status smtp_reply_parse(const char *buf, size_t len, struct smtp_reply *out);
/* The enhanced status code at the start of text (a reply line past "250 "), or 0 bytes. */
size_t smtp_status_parse(const char *text, size_t len, int code, struct smtp_status *out);
/* "5.7.1" into out (at least 12 bytes); "" when there is none. */
const char *smtp_status_format(const struct smtp_status *status, char *out, size_t size);
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
