#include "probe/smtp_reader.h"

#include <string.h>

#include <event2/buffer.h>

/* The transcript keeps the first and the last line of a multi-line reply. */
static void transcribe(struct probe_conn *conn, const char *buf, const struct smtp_reply *reply)
{
	const char *first_end = memchr(buf, '\n', reply->consumed);
	probe_transcript(conn, "<< ", buf, (size_t)(first_end - buf));
	if (reply->lines > 1)
		probe_transcript(conn, "<< ", buf + reply->last_line, reply->consumed - reply->last_line);
}

enum smtp_reply_status smtp_reply_read(struct probe_conn *conn, struct smtp_reply *reply, char text[SMTP_REPLY_TEXT])
{
	struct evbuffer *in = probe_input(conn);
	size_t len = evbuffer_get_length(in);
	if (len > SMTP_REPLY_TEXT)
		len = SMTP_REPLY_TEXT;
	const char *buf = (const char *)evbuffer_pullup(in, (ssize_t)len);
	enum smtp_reply_status status = smtp_reply_parse(buf, len, reply);
	if (status != SMTP_REPLY_COMPLETE)
		return status;
	transcribe(conn, buf, reply);
	memcpy(text, buf, reply->consumed);
	evbuffer_drain(in, reply->consumed);
	return status;
}
