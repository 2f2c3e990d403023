#include "sink/message.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

const char *const sink_message_body_state_names[MESSAGE_BODY_STATE_LAST] = {
    [MESSAGE_BODY_LINE_START] = "line-start",
    [MESSAGE_BODY_DOT] = "dot",
    [MESSAGE_BODY_DOT_CR] = "dot-cr",
    [MESSAGE_BODY_TEXT] = "text",
    [MESSAGE_BODY_CR] = "cr",
    [MESSAGE_BODY_DONE] = "done",
};

const char *const sink_message_part_names[MESSAGE_PART_LAST] = {
    [MESSAGE_PART_RCPT] = "recipient",
    [MESSAGE_PART_SUBJECT] = "subject",
    [MESSAGE_PART_BODY] = "body",
};

enum { BODY_FIRST_CAPACITY = 4096 };

void sink_message_body_init(struct sink_message_body *body, size_t limit)
{
	memset(body, 0, sizeof *body);
	body->state = MESSAGE_BODY_LINE_START;
	body->limit = limit;
}

void sink_message_body_free(struct sink_message_body *body)
{
	free(body->data);
	memset(body, 0, sizeof *body);
}

/* Keeps one byte of the message, or only counts it once the limit is reached. */
static void body_keep(struct sink_message_body *body, char c)
{
	body->total++;
	if (body->len == body->limit) {
		body->overflow = true;
		return;
	}
	if (body->no_memory)
		return;
	if (body->len == body->cap) {
		size_t cap = body->cap ? body->cap * 2 : BODY_FIRST_CAPACITY;
		if (cap > body->limit)
			cap = body->limit;
		char *grown = realloc(body->data, cap);
		if (grown == NULL) {
			body->no_memory = true;
			return;
		}
		body->data = grown;
		body->cap = cap;
	}
	body->data[body->len++] = c;
}

/* The state after keeping c inside a line. */
static enum sink_message_body_state body_after(char c, bool after_cr)
{
	if (c == '\r')
		return MESSAGE_BODY_CR;
	return after_cr && c == '\n' ? MESSAGE_BODY_LINE_START : MESSAGE_BODY_TEXT;
}

size_t sink_message_body_feed(struct sink_message_body *body, const char *in, size_t len)
{
	size_t i = 0;
	while (i < len && body->state != MESSAGE_BODY_DONE) {
		char c = in[i++];
		switch (body->state) {
		case MESSAGE_BODY_LINE_START:
			if (c == '.') {
				body->state = MESSAGE_BODY_DOT;
				break;
			}
			body_keep(body, c);
			body->state = body_after(c, false);
			break;
		case MESSAGE_BODY_DOT:
			if (c == '\r') {
				body->state = MESSAGE_BODY_DOT_CR;
				break;
			}
			/* A stuffed line: the leading dot goes, the rest stays. */
			body_keep(body, c);
			body->state = body_after(c, false);
			break;
		case MESSAGE_BODY_DOT_CR:
			if (c == '\n') {
				body->state = MESSAGE_BODY_DONE;
				break;
			}
			/* ".\r" then something else: a stuffed line holding a lone CR. */
			body_keep(body, '\r');
			body_keep(body, c);
			body->state = body_after(c, true);
			break;
		case MESSAGE_BODY_TEXT:
		case MESSAGE_BODY_CR:
			body_keep(body, c);
			body->state = body_after(c, body->state == MESSAGE_BODY_CR);
			break;
		case MESSAGE_BODY_DONE:
		case MESSAGE_BODY_STATE_LAST:
			break;
		}
	}
	return i;
}

/* Offset just past the next LF at or after i, or len. */
static size_t next_line(const char *buf, size_t len, size_t i)
{
	const char *lf = memchr(buf + i, '\n', len - i);
	return lf ? (size_t)(lf - buf) + 1 : len;
}

size_t sink_message_header_len(const char *msg, size_t len, size_t *body_start)
{
	for (size_t i = 0; i < len; i = next_line(msg, len, i)) {
		/* A blank line (CRLF, or a lone LF from a sloppy client) ends the headers. */
		size_t blank = msg[i] == '\n'					     ? 1
			       : i + 1 < len && msg[i] == '\r' && msg[i + 1] == '\n' ? 2
										     : 0;
		if (blank) {
			*body_start = i + blank;
			return i;
		}
	}
	*body_start = len;
	return len;
}

int sink_message_subject(const char *headers, size_t len, size_t *start, size_t *value_len)
{
	static const char name[] = "subject:";
	const size_t name_len = sizeof name - 1;
	for (size_t i = 0; i < len; i = next_line(headers, len, i)) {
		if (len - i < name_len || strncasecmp(headers + i, name, name_len) != 0)
			continue;
		size_t end = next_line(headers, len, i);
		/* Folded continuation lines start with a space or a tab. */
		while (end < len && (headers[end] == ' ' || headers[end] == '\t'))
			end = next_line(headers, len, end);
		*start = i + name_len;
		*value_len = end - *start;
		return 0;
	}
	return -1;
}

size_t sink_message_local_part_len(const char *address)
{
	const char *at = strrchr(address, '@');
	return at ? (size_t)(at - address) : strlen(address);
}

static struct sink_message_token *tokens_find(struct sink_message_tokens *out, const char *text)
{
	for (size_t i = 0; i < out->count; i++)
		if (strcmp(out->token[i].text, text) == 0)
			return &out->token[i];
	return NULL;
}

/* Adds every token-shaped string of buf[0..len) not seen before in this message. */
static void scan_part(const struct token_secret *secret, const char *buf, size_t len,
		      enum sink_message_part part, struct sink_message_tokens *out)
{
	size_t offset = 0;
	struct token_fields fields;
	char found[TOKEN_MAX_LEN];
	int rc;
	while ((rc = token_scan(secret, buf, len, &offset, &fields, found)) >= 0) {
		for (char *p = found; *p; p++)
			*p = (char)tolower((unsigned char)*p);
		if (tokens_find(out, found) != NULL)
			continue;
		if (out->count == MESSAGE_MAX_TOKENS) {
			out->dropped++;
			continue;
		}
		struct sink_message_token *t = &out->token[out->count++];
		memset(t, 0, sizeof *t);
		memcpy(t->text, found, sizeof t->text);
		t->genuine = rc == 1;
		t->part = part;
		if (t->genuine)
			t->fields = fields;
	}
}

void sink_message_find_tokens(const struct token_secret *secret, const char *const *rcpts, size_t nrcpts,
			      const char *msg, size_t len, struct sink_message_tokens *out)
{
	size_t body_start, subject, subject_len;
	memset(out, 0, sizeof *out);
	for (size_t i = 0; i < nrcpts; i++)
		scan_part(secret, rcpts[i], sink_message_local_part_len(rcpts[i]), MESSAGE_PART_RCPT, out);
	size_t header_len = sink_message_header_len(msg, len, &body_start);
	if (sink_message_subject(msg, header_len, &subject, &subject_len) == 0)
		scan_part(secret, msg + subject, subject_len, MESSAGE_PART_SUBJECT, out);
	scan_part(secret, msg + body_start, len - body_start, MESSAGE_PART_BODY, out);
}

void sink_message_printable_copy(char *dst, size_t size, const char *src, size_t len, bool keep_newlines)
{
	size_t n = 0;
	if (size == 0)
		return;
	for (size_t i = 0; i < len && n + 1 < size; i++) {
		unsigned char c = (unsigned char)src[i];
		bool keep =
		    (c >= 0x20 && c < 0x7f) || (keep_newlines && (c == '\r' || c == '\n' || c == '\t'));
		dst[n++] = keep ? (char)c : '?';
	}
	dst[n] = '\0';
}
