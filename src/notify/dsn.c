#include "notify/dsn.h"
#include "core/util.h"

#include <ctype.h>
#include <gmime/gmime.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

const char *dsn_kind_name(enum dsn_kind kind)
{
	static const char *const names[] = {[DSN_BOUNCE] = "bounce",
					    [DSN_DELAY] = "delay",
					    [DSN_DELIVERED] = "delivered",
					    [DSN_AUTO_REPLY] = "auto-reply",
					    [DSN_OTHER] = "other"};
	return kind <= DSN_OTHER ? names[kind] : "other";
}

/* ---- small text helpers ---- */

/* Case-insensitive search of needle in hay[0..len). */
static const char *find_ci(const char *hay, size_t len, const char *needle)
{
	size_t n = strlen(needle);
	for (size_t i = 0; n <= len && i <= len - n; i++)
		if (strncasecmp(hay + i, needle, n) == 0)
			return hay + i;
	return NULL;
}

/* Copies src[0..n) as one line of printable ASCII, runs of white space made one space, trimmed. */
static void text_copy(char *dst, size_t dstlen, const char *src, size_t n)
{
	size_t o = 0;
	bool space = false;
	for (size_t i = 0; i < n && o + 1 < dstlen; i++) {
		unsigned char c = (unsigned char)src[i];
		if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
			space = o > 0;
			continue;
		}
		if (space && o + 2 < dstlen)
			dst[o++] = ' ';
		space = false;
		dst[o++] = c >= 0x21 && c < 0x7f ? (char)c : '?';
	}
	dst[o] = '\0';
}

static void lower(char *s)
{
	for (; *s; s++)
		*s = (char)tolower((unsigned char)*s);
}

/* The first RFC 3463 status (x.y.z, x of 2, 4, 5) in text, else one from a 4xx/5xx reply code. */
static void status_from_text(const char *text, char *status, size_t len)
{
	for (const char *p = text; *p; p++) {
		if ((p != text && isalnum((unsigned char)p[-1])) ||
		    !(p[0] == '2' || p[0] == '4' || p[0] == '5') || p[1] != '.')
			continue;
		const char *q = p + 2;
		size_t a = 0, b = 0;
		while (isdigit((unsigned char)q[a]) && a < 3)
			a++;
		if (a == 0 || q[a] != '.')
			continue;
		while (isdigit((unsigned char)q[a + 1 + b]) && b < 3)
			b++;
		if (b == 0 || isalnum((unsigned char)q[a + 1 + b]))
			continue;
		snprintf(status, len, "%.*s", (int)(2 + a + 1 + b), p);
		return;
	}
	for (const char *p = text; *p; p++)
		if ((p == text || !isalnum((unsigned char)p[-1])) && (p[0] == '4' || p[0] == '5') &&
		    isdigit((unsigned char)p[1]) && isdigit((unsigned char)p[2]) &&
		    !isalnum((unsigned char)p[3])) {
			snprintf(status, len, "%c.0.0", p[0]);
			return;
		}
}

/* The ticket of a local part "bounces+TICKET" or "unsubscribe+TICKET" in addresses (a header value). */
static void ticket_from_addresses(const char *value, struct dsn *out)
{
	static const char *const prefixes[] = {"bounces+", "unsubscribe+"};
	for (size_t k = 0; k < 2 && !out->ticket[0]; k++) {
		const char *p = find_ci(value, strlen(value), prefixes[k]);
		if (p == NULL)
			continue;
		p += strlen(prefixes[k]);
		size_t n = strcspn(p, "@> \t\r\n,;");
		if (p[n] == '@' && ticket_parse(p, n, out->ticket) == 0)
			out->to_unsubscribe = k == 1;
		else
			out->ticket[0] = '\0';
	}
}

/* The ticket of a letter's Message-ID "<TICKET.campaign@domain>" (brackets optional). */
static void ticket_from_message_id(const char *id, struct dsn *out)
{
	if (out->ticket[0] || id == NULL)
		return;
	while (*id == ' ' || *id == '<')
		id++;
	size_t n = strcspn(id, ".@>");
	if (id[n] == '.' && ticket_parse(id, n, out->ticket) == 0)
		out->ticket_from_original = true;
	else
		out->ticket[0] = '\0';
}

/* ---- RFC 3464 status fields ---- */

/* The value of field name in block[0..len) (continuation lines joined), copied; 0 found, -1 not. */
static int field(const char *block, size_t len, const char *name, char *buf, size_t buflen)
{
	size_t n = strlen(name);
	for (size_t i = 0; i < len;) {
		size_t eol = i;
		while (eol < len && block[eol] != '\n')
			eol++;
		if (eol - i > n && strncasecmp(block + i, name, n) == 0 && block[i + n] == ':') {
			size_t start = i + n + 1, end = eol;
			while (end + 1 < len && (block[end + 1] == ' ' || block[end + 1] == '\t')) {
				end++;
				while (end < len && block[end] != '\n')
					end++;
			}
			text_copy(buf, buflen, block + start, end - start);
			return 0;
		}
		i = eol + 1;
	}
	return -1;
}

/* "rfc822; user@example" -> "user@example"; "smtp; 550 ..." -> "550 ..." */
static void drop_type(char *value)
{
	char *semi = strchr(value, ';');
	if (semi == NULL)
		return;
	semi++;
	while (*semi == ' ')
		semi++;
	memmove(value, semi, strlen(semi) + 1);
}

/* The per-recipient blocks of a delivery-status body: the first failed one, else the first with an Action. */
static bool parse_status_fields(const char *text, size_t len, struct dsn *out)
{
	bool found = false;
	for (size_t i = 0; i < len;) {
		/* a block ends at a blank line */
		size_t end = i;
		while (end < len) {
			size_t eol = end;
			while (eol < len && text[eol] != '\n')
				eol++;
			bool blank = eol == end || (eol == end + 1 && text[end] == '\r');
			if (blank)
				break;
			end = eol + 1;
		}
		char action[32];
		if (end > i && field(text + i, end - i, "Action", action, sizeof action) == 0) {
			lower(action);
			bool failed = strcmp(action, "failed") == 0;
			if (!found || (failed && strcmp(out->action, "failed") != 0)) {
				snprintf(out->action, sizeof out->action, "%s", action);
				out->status[0] = out->diagnostic[0] = out->recipient[0] = '\0';
				field(text + i, end - i, "Status", out->status, sizeof out->status);
				field(text + i, end - i, "Diagnostic-Code", out->diagnostic,
				      sizeof out->diagnostic);
				drop_type(out->diagnostic);
				if (field(text + i, end - i, "Final-Recipient", out->recipient,
					  sizeof out->recipient) != 0)
					field(text + i, end - i, "Original-Recipient", out->recipient,
					      sizeof out->recipient);
				drop_type(out->recipient);
				found = true;
			}
		}
		i = end;
		while (i < len && (text[i] == '\n' || text[i] == '\r'))
			i++;
	}
	return found;
}

static enum dsn_kind kind_of_action(const char *action, const char *status)
{
	if (strcmp(action, "failed") == 0)
		return DSN_BOUNCE;
	if (strcmp(action, "delayed") == 0)
		return DSN_DELAY;
	if (strcmp(action, "delivered") == 0 || strcmp(action, "relayed") == 0 ||
	    strcmp(action, "expanded") == 0)
		return DSN_DELIVERED;
	return status[0] == '5' ? DSN_BOUNCE : status[0] == '4' ? DSN_DELAY : DSN_OTHER;
}

/* ---- the non-standard bounce texts ---- */

/* The next non-blank line at or after p: its start and length (0 when none). */
static const char *next_line(const char *p, const char *end, size_t *n)
{
	while (p < end && (*p == '\n' || *p == '\r'))
		p++;
	const char *eol = p;
	while (eol < end && *eol != '\n')
		eol++;
	*n = (size_t)(eol - p);
	return p;
}

/* The paragraph at p (up to a blank line), for the reason. */
static size_t paragraph(const char *p, const char *end)
{
	const char *q = p;
	while (q < end) {
		const char *eol = memchr(q, '\n', (size_t)(end - q));
		if (eol == NULL)
			return (size_t)(end - p);
		const char *next = eol + 1;
		if (next >= end || *next == '\n' || (*next == '\r' && next + 1 < end && next[1] == '\n'))
			return (size_t)(eol - p);
		q = next;
	}
	return (size_t)(end - p);
}

/* "<addr>:" or "  addr" as the first line of a failed address's paragraph: the address copied. */
static void address_line(const char *line, size_t n, char *buf, size_t len)
{
	while (n > 0 && (*line == ' ' || *line == '\t' || *line == '<'))
		line++, n--;
	size_t a = 0;
	while (a < n && line[a] != '>' && line[a] != ':' && line[a] != ' ' && line[a] != '\r')
		a++;
	text_copy(buf, len, line, a);
}

struct shape {
	const char *name;
	const char *marker;	  /* identifies the text */
	const char *after;	  /* the failed addresses follow this line */
	const char *delay_marker; /* when present: a delay warning, not a bounce */
};

static const struct shape shapes[] = {
    {"qmail", "This is the qmail-send program", "following addresses", NULL},
    {"exim", "This message was created automatically by mail delivery software", "address(es) failed",
     "has not yet been delivered"},
    {"postfix", "This is the mail system at host", "sorry to have to inform you", "THIS IS A WARNING ONLY"},
};

static bool parse_text_shape(const char *text, size_t len, struct dsn *out)
{
	const char *end = text + len;
	for (size_t s = 0; s < ARRAY_SIZE(shapes); s++) {
		const struct shape *sh = &shapes[s];
		if (find_ci(text, len, sh->marker) == NULL)
			continue;
		out->shape = sh->name;
		if (sh->delay_marker && find_ci(text, len, sh->delay_marker)) {
			out->kind = DSN_DELAY;
			snprintf(out->action, sizeof out->action, "delayed");
			return true;
		}
		const char *p = find_ci(text, len, sh->after);
		if (p == NULL) {
			out->kind = DSN_OTHER;
			return true;
		}
		p = memchr(p, '\n', (size_t)(end - p));
		p = p ? p + 1 : end;
		/* Postfix names the addresses after its apology paragraph's blank line, as "<addr>: reason"
		 */
		size_t n;
		const char *line = next_line(p, end, &n);
		if (strcmp(sh->name, "postfix") == 0 || strcmp(sh->name, "qmail") == 0) {
			/* skip the rest of the explanation up to the first "<addr>:" paragraph */
			while (line < end && !(n > 0 && line[0] == '<')) {
				const char *eol = memchr(line, '\n', (size_t)(end - line));
				if (eol == NULL) {
					line = end;
					break;
				}
				line = next_line(eol + 1, end, &n);
			}
		}
		if (line >= end) {
			out->kind = DSN_OTHER;
			return true;
		}
		address_line(line, n, out->recipient, sizeof out->recipient);
		size_t para = paragraph(line, end);
		const char *reason = line + n;
		size_t reason_len = para > n ? para - n : 0;
		if (reason_len > 0 && *reason == '\n')
			reason++, reason_len--;
		/* "<addr>: host x said: 550 ..." keeps its reason on the address line */
		const char *colon = memchr(line, ':', n);
		if (colon && strcmp(sh->name, "postfix") == 0) {
			reason = colon + 1;
			reason_len = (size_t)(line + para - reason);
		}
		text_copy(out->diagnostic, sizeof out->diagnostic, reason, reason_len);
		status_from_text(out->diagnostic, out->status, sizeof out->status);
		/* these texts are sent for permanent failures */
		if (!out->status[0])
			snprintf(out->status, sizeof out->status, "5.0.0");
		out->kind = out->status[0] == '4' ? DSN_DELAY : DSN_BOUNCE;
		snprintf(out->action, sizeof out->action, out->kind == DSN_BOUNCE ? "failed" : "delayed");
		return true;
	}
	return false;
}

/* ---- walking the MIME tree ---- */

struct walk {
	struct dsn *out;
	bool report; /* a delivery-status part was read */
	GByteArray *first_text;
};

/* A leaf's decoded content (caller frees). */
static GByteArray *leaf_bytes(GMimePart *part)
{
	GMimeDataWrapper *w = g_mime_part_get_content(part);
	if (w == NULL)
		return NULL;
	GMimeStream *mem = g_mime_stream_mem_new();
	g_mime_data_wrapper_write_to_stream(w, mem);
	GByteArray *bytes = g_byte_array_new();
	GByteArray *held = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(mem));
	g_byte_array_append(bytes, held->data, held->len);
	g_object_unref(mem);
	return bytes;
}

static void message_id_from_headers(const char *text, size_t len, struct dsn *out)
{
	const char *p = find_ci(text, len, "\nMessage-ID:");
	if (p == NULL)
		return;
	p += strlen("\nMessage-ID:");
	char id[300];
	size_t n = 0;
	while (p + n < text + len && p[n] != '\n')
		n++;
	text_copy(id, sizeof id, p, n);
	ticket_from_message_id(id, out);
}

static void walk(GMimeObject *o, struct walk *w, int depth)
{
	if (o == NULL || depth > 16)
		return;
	GMimeContentType *ct = g_mime_object_get_content_type(o);
	if (GMIME_IS_MULTIPART(o)) {
		int n = g_mime_multipart_get_count(GMIME_MULTIPART(o));
		for (int i = 0; i < n; i++)
			walk(g_mime_multipart_get_part(GMIME_MULTIPART(o), i), w, depth + 1);
		return;
	}
	if (GMIME_IS_MESSAGE_PART(o)) {
		GMimeMessage *m = g_mime_message_part_get_message(GMIME_MESSAGE_PART(o));
		if (ct && g_mime_content_type_is_type(ct, "message", "delivery-status") && m) {
			char *text = g_mime_object_to_string(GMIME_OBJECT(m), NULL);
			if (text && parse_status_fields(text, strlen(text), w->out))
				w->report = true;
			g_free(text);
		} else if (m)
			ticket_from_message_id(g_mime_message_get_message_id(m), w->out);
		return;
	}
	if (!GMIME_IS_PART(o) || ct == NULL)
		return;
	bool status = g_mime_content_type_is_type(ct, "message", "delivery-status") ||
		      g_mime_content_type_is_type(ct, "message", "global-delivery-status");
	bool headers = g_mime_content_type_is_type(ct, "text", "rfc822-headers") ||
		       g_mime_content_type_is_type(ct, "message", "rfc822");
	bool text = g_mime_content_type_is_type(ct, "text", "plain") && w->first_text == NULL;
	if (!status && !headers && !text)
		return;
	GByteArray *bytes = leaf_bytes(GMIME_PART(o));
	if (bytes == NULL)
		return;
	if (status && parse_status_fields((const char *)bytes->data, bytes->len, w->out))
		w->report = true;
	if (headers) {
		/* the original's header block: a newline first, so its first line is found too */
		GByteArray *with = g_byte_array_new();
		g_byte_array_append(with, (const guint8 *)"\n", 1);
		g_byte_array_append(with, bytes->data, bytes->len);
		message_id_from_headers((const char *)with->data, with->len, w->out);
		g_byte_array_unref(with);
	}
	if (text) {
		w->first_text = bytes;
		return;
	}
	g_byte_array_unref(bytes);
}

/* The addresses of the headers that carry the envelope recipient, in the order they are trusted. */
static void ticket_from_headers(GMimeObject *o, struct dsn *out)
{
	static const char *const names[] = {"Delivered-To", "X-Original-To", "Envelope-To", "To", "Cc"};
	GMimeHeaderList *list = g_mime_object_get_header_list(o);
	int count = g_mime_header_list_get_count(list);
	for (size_t k = 0; k < ARRAY_SIZE(names) && !out->ticket[0]; k++)
		for (int i = 0; i < count && !out->ticket[0]; i++) {
			GMimeHeader *h = g_mime_header_list_get_header_at(list, i);
			const char *value = g_mime_header_get_value(h);
			if (strcasecmp(g_mime_header_get_name(h), names[k]) == 0 && value)
				ticket_from_addresses(value, out);
		}
}

static bool auto_reply(GMimeObject *o)
{
	const char *as = g_mime_object_get_header(o, "Auto-Submitted");
	const char *precedence = g_mime_object_get_header(o, "Precedence");
	if (as && strncasecmp(as, "auto-replied", 12) == 0)
		return true;
	if (g_mime_object_get_header(o, "X-Autoreply") || g_mime_object_get_header(o, "X-Autorespond"))
		return true;
	return precedence && strncasecmp(precedence, "auto_reply", 10) == 0;
}

void dsn_parse(const char *msg, size_t len, struct dsn *out)
{
	memset(out, 0, sizeof *out);
	out->kind = DSN_OTHER;
	out->shape = "none";
	if (msg == NULL || len == 0 || len > DSN_MAX_MESSAGE)
		return;
	g_mime_init();
	GMimeStream *stream = g_mime_stream_mem_new_with_buffer(msg, len);
	GMimeParser *parser = g_mime_parser_new_with_stream(stream);
	g_object_unref(stream);
	GMimeMessage *m = g_mime_parser_construct_message(parser, NULL);
	g_object_unref(parser);
	if (m == NULL)
		return;
	GMimeObject *top = GMIME_OBJECT(m);
	ticket_from_headers(top, out);
	struct walk w = {.out = out};
	walk(g_mime_message_get_mime_part(m), &w, 0);
	if (w.report) {
		out->shape = "rfc3464";
		if (!out->status[0])
			status_from_text(out->diagnostic, out->status, sizeof out->status);
		out->kind = kind_of_action(out->action, out->status);
	} else if (w.first_text &&
		   parse_text_shape((const char *)w.first_text->data, w.first_text->len, out)) {
		/* shape and kind set; the returned original may be quoted in the text */
		message_id_from_headers((const char *)w.first_text->data, w.first_text->len, out);
	} else if (auto_reply(top)) {
		out->kind = DSN_AUTO_REPLY;
		out->shape = "auto-reply";
	}
	if (w.first_text)
		g_byte_array_unref(w.first_text);
	g_object_unref(m);
}
