#include "notify/mime.h"

#include <gmime/gmime.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "notify/textbuf.h"
#include "core/util.h"

/* ---- what goes into headers is checked first: no control characters, real addresses ---- */

static bool has_control(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return true;
	return false;
}

/* A plain addr-spec: local@domain, printable ASCII, no spaces, brackets, quotes or commas. */
static bool plain_address(const char *s)
{
	if (s == NULL || has_control(s))
		return false;
	const char *at = strchr(s, '@');
	if (at == NULL || at == s || at[1] == '\0' || strchr(at + 1, '@') != NULL)
		return false;
	for (const char *p = s; *p; p++)
		if ((unsigned char)*p > 0x7e || strchr(" <>()[]\",;:\\", *p) != NULL)
			return false;
	return true;
}

struct check {
	const char *what, *value;
	bool (*ok)(const char *);
};

static bool text_ok(const char *s)
{
	return s != NULL && s[0] != '\0' && !has_control(s);
}
static bool https_ok(const char *s)
{
	return text_ok(s) && strncmp(s, "https://", 8) == 0 && !strpbrk(s, " <>");
}
static bool optional_address_ok(const char *s)
{
	return s == NULL || s[0] == '\0' || plain_address(s);
}

static bool message_id_ok(const char *s)
{
	size_t n = s ? strlen(s) : 0;
	if (n < 5 || s[0] != '<' || s[n - 1] != '>')
		return false;
	char inner[256];
	if (n - 2 >= sizeof inner)
		return false;
	memcpy(inner, s + 1, n - 2);
	inner[n - 2] = '\0';
	return plain_address(inner);
}

static int check_fields(const struct letter *l, const struct letter_text *text, char *why, size_t whylen)
{
	const struct check checks[] = {
	    {"the agency's sender", l->agency.sender, plain_address},
	    {"the agency's Reply-To", l->agency.reply_to, optional_address_ok},
	    {"the agency's name", l->agency.name, text_ok},
	    {"the abuse contact", l->contact, plain_address},
	    {"the Message-ID", l->message_id, message_id_ok},
	    {"the unsubscribe URL (https)", l->unsubscribe_url, https_ok},
	    {"the unsubscribe address", l->unsubscribe_mailto, optional_address_ok},
	    {"the ticket", l->ticket, text_ok},
	    {"the subject", text ? text->subject : NULL, text_ok},
	};
	for (size_t i = 0; i < ARRAY_SIZE(checks); i++) {
		if (!checks[i].ok(checks[i].value)) {
			snprintf(why, whylen, "%s is missing or malformed: \"%.80s\"", checks[i].what,
				 checks[i].value ? checks[i].value : "");
			return -1;
		}
	}
	return 0;
}

/* A display name from registry text: control characters become spaces. */
static void display_name(const char *s, char *buf, size_t len)
{
	snprintf(buf, len, "%s", s ? s : "");
	for (char *p = buf; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = ' ';
}

/* ---- the parts ---- */

static void set_content(GMimePart *part, const char *data, size_t len)
{
	GMimeStream *stream = g_mime_stream_mem_new_with_buffer(data, len);
	GMimeDataWrapper *content =
	    g_mime_data_wrapper_new_with_stream(stream, GMIME_CONTENT_ENCODING_DEFAULT);
	g_mime_part_set_content(part, content);
	g_object_unref(content);
	g_object_unref(stream);
}

static GMimePart *text_part_new(void)
{
	GMimeTextPart *part = g_mime_text_part_new_with_subtype("plain");
	/* the bytes as they are (set_content): g_mime_text_part_set_text would convert them to a "best"
	 * charset */
	g_mime_text_part_set_charset(part, "utf-8");
	/* always quoted-printable: safe for any line length and byte, and never contains the boundary */
	g_mime_part_set_content_encoding(GMIME_PART(part), GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE);
	return GMIME_PART(part);
}

static GMimePart *csv_part_new(void)
{
	GMimePart *part = g_mime_part_new_with_type("text", "csv");
	g_mime_object_set_content_type_parameter(GMIME_OBJECT(part), "charset", "utf-8");
	g_mime_object_set_content_type_parameter(GMIME_OBJECT(part), "header", "present");
	/* the place of Content-Disposition; csv_part_set fills it */
	g_mime_part_set_filename(part, "hosts.csv");
	/* base64 keeps the CSV's CRLF record ends byte for byte */
	g_mime_part_set_content_encoding(part, GMIME_CONTENT_ENCODING_BASE64);
	return part;
}

static void csv_part_set(GMimePart *part, const struct letter *l, const char *csv, size_t len)
{
	char filename[96];
	snprintf(filename, sizeof filename, "hosts-%.64s.csv", l->ticket);
	g_mime_part_set_filename(part, filename); /* also sets Content-Disposition: attachment */
	set_content(part, csv, len);
}

/* "=_plughole_" and the ticket's safe characters: '=' cannot occur in QP text nor '_' in base64. */
static void boundary(const char *ticket, char *buf, size_t len)
{
	size_t n = (size_t)snprintf(buf, len, "=_plughole_");
	for (const char *p = ticket; *p && n + 1 < len && n < 60; p++)
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
		    *p == '-')
			buf[n++] = *p;
	buf[n] = '\0';
}

/*
 * The raw Subject value for a subject that is not ASCII. GMime 3.2 writes
 * one encoded word for a run of non-ASCII text however long (RFC 2047 caps a
 * word at 75 characters) and, reading back base64 words, loses the word
 * after one that ends in padding. So: the leading ASCII words as they are,
 * then the rest as "Q" encoded words of whole UTF-8 characters, one per
 * folded line. Decoders drop the folding between adjacent encoded words.
 */
#define QWORD_PREFIX "=?UTF-8?Q?"
#define QWORD_MAX 75

static bool q_literal(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       strchr("!*+-/", c);
}

static size_t utf8_len(unsigned char c)
{
	return c < 0xc0 ? 1 : c < 0xe0 ? 2 : c < 0xf0 ? 3 : 4;
}

static int subject_raw(const char *subject, struct textbuf *out)
{
	/* the leading words that are ASCII, while they fit on the Subject: line */
	size_t ascii = 0;
	for (size_t i = 0;; i++) {
		if (subject[i] == ' ' || subject[i] == '\0') {
			if (i > 60)
				break;
			ascii = i;
			if (subject[i] == '\0')
				break;
		} else if ((unsigned char)subject[i] >= 0x80 || subject[i] == '=' || subject[i] == '?') {
			break; /* '=' and '?' too: "=?...?=" in plain text would be decoded */
		}
	}
	int rc = textbuf_puts(out, " ") | textbuf_append(out, subject, ascii);
	/* the space after the ASCII words is the folding before the first encoded word */
	const unsigned char *s = (const unsigned char *)subject + ascii + (subject[ascii] == ' ');
	size_t used = 0, limit = 0; /* the current word's length and its bound; none open yet */
	while (*s != '\0' && rc == 0) {
		size_t n = utf8_len(*s), need = 0;
		for (size_t k = 0; k < n; k++)
			need += q_literal(s[k]) || s[k] == ' ' ? 1 : 3;
		if (limit == 0 || used + need + 2 > limit) {
			bool first = limit == 0;
			if (!first)
				rc |= textbuf_puts(out, "?=");
			if (!first || ascii > 0)
				rc |= textbuf_puts(out, "\n ");
			/* a first word on the "Subject: " line itself leaves room for it */
			limit = first && ascii == 0 ? 78 - strlen("Subject: ") : QWORD_MAX;
			rc |= textbuf_puts(out, QWORD_PREFIX);
			used = strlen(QWORD_PREFIX);
		}
		for (size_t k = 0; k < n && s[k] != '\0'; k++) {
			if (q_literal(s[k]))
				rc |= textbuf_append(out, (const char *)s + k, 1);
			else if (s[k] == ' ')
				rc |= textbuf_puts(out, "_");
			else
				rc |= textbuf_printf(out, "=%02X", s[k]);
		}
		used += need;
		while (n > 0 && *s != '\0')
			s++, n--;
	}
	if (limit != 0)
		rc |= textbuf_puts(out, "?=");
	return rc | textbuf_puts(out, "\n");
}

/* Text GMime may write as it is: ASCII, nothing a decoder would take for an encoded word. */
static bool plain_text(const char *s)
{
	if (strstr(s, "=?") != NULL)
		return false;
	for (; *s; s++)
		if ((unsigned char)*s >= 0x80)
			return false;
	return true;
}

static void set_subject(GMimeMessage *m, const char *subject)
{
	g_mime_message_set_subject(m, subject, "utf-8");
	if (plain_text(subject))
		return; /* GMime folds plain text well */
	struct textbuf raw;
	textbuf_init(&raw, 16384);
	GMimeHeader *header =
	    g_mime_header_list_get_header(g_mime_object_get_header_list(GMIME_OBJECT(m)), "Subject");
	if (subject_raw(subject, &raw) == 0 && header != NULL)
		g_mime_header_set_raw_value(header, raw.data);
	textbuf_free(&raw);
}

/* The agency's headers, and the fixed ones in their order: the prototype of its letters. */
static void agency_headers(GMimeMessage *m, const struct letter *l)
{
	char name[256];
	display_name(l->agency.name, name, sizeof name);
	g_mime_message_add_mailbox(m, GMIME_ADDRESS_TYPE_FROM, name, l->agency.sender);
	g_mime_message_add_mailbox(m, GMIME_ADDRESS_TYPE_REPLY_TO, name,
				   l->agency.reply_to && l->agency.reply_to[0] ? l->agency.reply_to
									       : l->agency.sender);
	g_mime_message_set_message_id(m, "placeholder@invalid"); /* its place (after the standard ones) */
	GMimeObject *o = GMIME_OBJECT(m);
	g_mime_object_set_header(o, "Auto-Submitted", "auto-generated", NULL);
	/* Exchange and Outlook: no out-of-office replies to a letter */
	g_mime_object_set_header(o, "X-Auto-Response-Suppress", "All", NULL);
	g_mime_object_set_header(o, "List-Unsubscribe", "<>", NULL); /* its place; letter_headers fills it */
	g_mime_object_set_header(o, "List-Unsubscribe-Post", "List-Unsubscribe=One-Click", NULL);
}

/* The letter's own headers, replacing the previous letter's in place. */
static void letter_headers(GMimeMessage *m, const struct letter *l, const struct letter_text *text)
{
	char name[256];
	display_name(l->owner, name, sizeof name);
	InternetAddressList *to = g_mime_message_get_addresses(m, GMIME_ADDRESS_TYPE_TO);
	internet_address_list_clear(to);
	g_mime_message_add_mailbox(m, GMIME_ADDRESS_TYPE_TO, name, l->contact);
	set_subject(m, text->subject);
	GDateTime *date = g_date_time_new_from_unix_utc(l->date);
	g_mime_message_set_date(m, date);
	g_date_time_unref(date);
	char id[256];
	snprintf(id, sizeof id, "%.*s", (int)strlen(l->message_id) - 2, l->message_id + 1);
	g_mime_message_set_message_id(m, id);
	GMimeObject *o = GMIME_OBJECT(m);
	char unsubscribe[1024];
	if (l->unsubscribe_mailto && l->unsubscribe_mailto[0])
		snprintf(unsubscribe, sizeof unsubscribe, "<%s>, <mailto:%s?subject=unsubscribe>",
			 l->unsubscribe_url, l->unsubscribe_mailto);
	else
		snprintf(unsubscribe, sizeof unsubscribe, "<%s>", l->unsubscribe_url);
	g_mime_object_set_header(o, "List-Unsubscribe", unsubscribe, NULL);
	/* GMime would RFC 2047-encode a long URL, which no client reads as one:
	 * written raw, folded between the two URIs (RFC 2369 allows it). */
	char raw[1100];
	if (l->unsubscribe_mailto && l->unsubscribe_mailto[0])
		snprintf(raw, sizeof raw, " <%s>,\n <mailto:%s?subject=unsubscribe>\n", l->unsubscribe_url,
			 l->unsubscribe_mailto);
	else
		snprintf(raw, sizeof raw, " <%s>\n", l->unsubscribe_url);
	GMimeHeader *header =
	    g_mime_header_list_get_header(g_mime_object_get_header_list(o), "List-Unsubscribe");
	if (header != NULL)
		g_mime_header_set_raw_value(header, raw);
}

/* ---- prototypes: one message per agency, its letters only vary their parts ---- */

struct mime_proto {
	char agency[32];
	char *sender, *reply_to, *name; /* what agency_headers wrote */
	GMimeMessage *message;
	GMimeMultipart *mixed;
	GMimePart *text, *csv;
};

#define MIME_PROTOS 32

struct mime_cache {
	struct mime_proto protos[MIME_PROTOS];
	size_t count;
	GMimeFormatOptions *options[2]; /* [enum mime_newline] */
};

struct mime_cache *mime_cache_new(void)
{
	g_mime_init();
	struct mime_cache *c = calloc(1, sizeof *c);
	if (c == NULL)
		return NULL;
	for (int nl = MIME_CRLF; nl <= MIME_LF; nl++) {
		c->options[nl] = g_mime_format_options_new();
		g_mime_format_options_set_newline_format(
		    c->options[nl], nl == MIME_CRLF ? GMIME_NEWLINE_FORMAT_DOS : GMIME_NEWLINE_FORMAT_UNIX);
	}
	return c;
}

static void proto_free(struct mime_proto *p)
{
	if (p->message)
		g_object_unref(p->message);
	free(p->sender);
	free(p->reply_to);
	free(p->name);
	memset(p, 0, sizeof *p);
}

void mime_cache_free(struct mime_cache *c)
{
	if (c == NULL)
		return;
	for (size_t i = 0; i < c->count; i++)
		proto_free(&c->protos[i]);
	for (int nl = MIME_CRLF; nl <= MIME_LF; nl++)
		g_mime_format_options_free(c->options[nl]);
	free(c);
}

static bool same(const char *a, const char *b)
{
	return strcmp(a ? a : "", b ? b : "") == 0;
}

static char *dup_text(const char *s)
{
	return strdup(s ? s : "");
}

/* The agency's prototype: found (its agency unchanged), or made. NULL when out of memory. */
static struct mime_proto *proto_for(struct mime_cache *c, const struct letter *l)
{
	const struct letter_agency *a = &l->agency;
	const char *id = a->id ? a->id : "";
	for (size_t i = 0; i < c->count; i++) {
		struct mime_proto *p = &c->protos[i];
		if (strcmp(p->agency, id) == 0 && same(p->sender, a->sender) &&
		    same(p->reply_to, a->reply_to) && same(p->name, a->name))
			return p;
	}
	if (c->count == MIME_PROTOS) { /* more agencies than slots: start over */
		for (size_t i = 0; i < c->count; i++)
			proto_free(&c->protos[i]);
		c->count = 0;
	}
	struct mime_proto *p = &c->protos[c->count];
	snprintf(p->agency, sizeof p->agency, "%s", id);
	p->sender = dup_text(a->sender);
	p->reply_to = dup_text(a->reply_to);
	p->name = dup_text(a->name);
	if (p->sender == NULL || p->reply_to == NULL || p->name == NULL) {
		proto_free(p);
		return NULL;
	}
	p->message = g_mime_message_new(TRUE);
	agency_headers(p->message, l);
	p->mixed = g_mime_multipart_new_with_subtype("mixed");
	p->text = text_part_new();
	p->csv = csv_part_new();
	g_mime_multipart_add(p->mixed, GMIME_OBJECT(p->text));
	g_mime_multipart_add(p->mixed, GMIME_OBJECT(p->csv));
	g_object_unref(p->text); /* the multipart holds them, the message the multipart */
	g_object_unref(p->csv);
	g_mime_message_set_mime_part(p->message, GMIME_OBJECT(p->mixed));
	g_object_unref(p->mixed);
	c->count++;
	return p;
}

int mime_build_cached(struct mime_cache *cache, const struct letter *l, const struct letter_text *text,
		      enum mime_newline newline, char **out, size_t *len, char *why, size_t whylen)
{
	*out = NULL;
	*len = 0;
	if (check_fields(l, text, why, whylen) != 0)
		return -1;
	struct textbuf csv;
	textbuf_init(&csv, MIME_MAX_MESSAGE / 2);
	if (letter_csv(l, &csv) != 0) {
		snprintf(why, whylen, "the hosts' CSV is larger than %u bytes", MIME_MAX_MESSAGE / 2);
		textbuf_free(&csv);
		return -1;
	}
	struct mime_proto *p = proto_for(cache, l);
	if (p == NULL) {
		snprintf(why, whylen, "out of memory");
		textbuf_free(&csv);
		return -1;
	}
	letter_headers(p->message, l, text);
	char b[80];
	boundary(l->ticket, b, sizeof b);
	g_mime_multipart_set_boundary(p->mixed, b);
	set_content(p->text, text->body, text->body_len);
	csv_part_set(p->csv, l, csv.data, csv.len);

	GMimeStream *stream = g_mime_stream_mem_new();
	ssize_t written =
	    g_mime_object_write_to_stream(GMIME_OBJECT(p->message), cache->options[newline], stream);
	GByteArray *bytes = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(stream));
	int rc = -1;
	if (written < 0 || bytes == NULL) {
		snprintf(why, whylen, "GMime could not write the message");
	} else if (bytes->len > MIME_MAX_MESSAGE) {
		snprintf(why, whylen, "the message is larger than %u bytes", MIME_MAX_MESSAGE);
	} else if ((*out = malloc(bytes->len + 1)) == NULL) {
		snprintf(why, whylen, "out of memory");
	} else {
		memcpy(*out, bytes->data, bytes->len);
		(*out)[bytes->len] = '\0';
		*len = bytes->len;
		rc = 0;
	}
	g_object_unref(stream);
	textbuf_free(&csv);
	return rc;
}

int mime_build(const struct letter *l, const struct letter_text *text, enum mime_newline newline, char **out,
	       size_t *len, char *why, size_t whylen)
{
	struct mime_cache *cache = mime_cache_new();
	if (cache == NULL) {
		snprintf(why, whylen, "out of memory");
		*out = NULL;
		*len = 0;
		return -1;
	}
	int rc = mime_build_cached(cache, l, text, newline, out, len, why, whylen);
	mime_cache_free(cache);
	return rc;
}
