/*
 * What the sink does with the bytes of a message, as pure functions over
 * (buffer, length): undo SMTP's dot-stuffing while keeping at most a size
 * limit, find the header block and the Subject, and find the tokens a relay
 * or proxy carried to us (in recipient local parts, Subject and body).
 */
#ifndef PLUGHOLE_SINK_MESSAGE_H
#define PLUGHOLE_SINK_MESSAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/token.h"

/* ---- the DATA phase: dot-unstuffing up to "<CRLF>.<CRLF>" ---- */

enum sink_message_body_state {
	MESSAGE_BODY_LINE_START, /* after CRLF (or at the very start) */
	MESSAGE_BODY_DOT,	 /* a '.' began the line; it is not kept */
	MESSAGE_BODY_DOT_CR,	 /* ".\r" at the line's start: the end, if '\n' follows */
	MESSAGE_BODY_TEXT,	 /* inside a line */
	MESSAGE_BODY_CR,	 /* inside a line, after '\r' */
	MESSAGE_BODY_DONE,	 /* the terminating line was seen */
	MESSAGE_BODY_STATE_LAST,
};
extern const char *const sink_message_body_state_names[MESSAGE_BODY_STATE_LAST];

struct sink_message_body {
	enum sink_message_body_state state;
	char *data; /* the unstuffed message, at most limit bytes */
	size_t len, cap;
	size_t limit;
	uint64_t total; /* unstuffed size, counting what was discarded */
	bool overflow;	/* total went past limit: the message is refused */
	bool no_memory; /* the buffer could not grow: a temporary failure */
};

void sink_message_body_init(struct sink_message_body *body, size_t limit);
void sink_message_body_free(struct sink_message_body *body);
/*
 * Feeds bytes as they arrive, in chunks of any size. Returns how many were
 * consumed: all of them, or fewer when the terminating "." line ended inside
 * the chunk (the rest belongs to the next command). Only CRLF starts a line,
 * so a bare LF cannot end the message (no SMTP smuggling).
 */
size_t sink_message_body_feed(struct sink_message_body *body, const char *in, size_t len);
static inline bool sink_message_body_done(const struct sink_message_body *body)
{
	return body->state == MESSAGE_BODY_DONE;
}

/* ---- header block and Subject ---- */

/* Length of the header block, without the blank line; *body_start is where the body begins. */
size_t sink_message_header_len(const char *msg, size_t len, size_t *body_start);
/* Finds the Subject's value (folded lines included) in a header block; 0 found, -1 not. */
int sink_message_subject(const char *headers, size_t len, size_t *start, size_t *value_len);

/* ---- tokens ---- */

enum sink_message_part { MESSAGE_PART_RCPT, MESSAGE_PART_SUBJECT, MESSAGE_PART_BODY, MESSAGE_PART_LAST };
extern const char *const sink_message_part_names[MESSAGE_PART_LAST];

#define MESSAGE_MAX_TOKENS 16 /* distinct tokens kept per message; more are counted */

struct sink_message_token {
	char text[TOKEN_MAX_LEN]; /* lowercase, so a case-folding relay gives the same token */
	bool genuine;
	enum sink_message_part part; /* where it was first seen */
	struct token_fields fields;  /* set when genuine */
};

struct sink_message_tokens {
	struct sink_message_token token[MESSAGE_MAX_TOKENS];
	size_t count;
	size_t dropped; /* distinct tokens beyond MESSAGE_MAX_TOKENS */
};

/* Local part of a recipient address: everything before its last '@'. */
size_t sink_message_local_part_len(const char *address);
/* Collects the distinct tokens (genuine and forged) of one message. */
void sink_message_find_tokens(const struct token_secret *secret, const char *const *rcpts, size_t nrcpts,
			      const char *msg, size_t len, struct sink_message_tokens *out);

/* Copies text for the store: at most size-1 bytes, unprintable ones as '?' (CR LF TAB kept when asked). */
void sink_message_printable_copy(char *dst, size_t size, const char *src, size_t len, bool keep_newlines);

#endif
