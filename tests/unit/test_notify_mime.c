/*
 * Letters as MIME messages: built, then parsed back with GMime (headers,
 * structure, the UTF-8 body, the CSV). With --write DIR it only writes the
 * sample messages and what they must contain, for tests/it/notify_mime.sh
 * to check with an independent parser (Python's email package).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <gmime/gmime.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/paths.h"
#include "notify/mime.h"

static const struct letter_agency agencies[] = {
    {"ftc", "United States Federal Trade Commission", "FTC", "secure-your-server@ftc.example.org",
     "servers@ftc.example.org", "en"},
    {"ar", "Autoridad de Protección al Consumidor (Argentina)", "AR-CP", "secure-your-server@ar-cp.example.org",
     "servers@ar-cp.example.org", "es"},
    {"cgi", "Comitê Gestor da Internet no Brasil", "CGI.br", "secure-your-server@cgi-br.example.org", NULL,
     "pt-BR"},
    {"mic", "総務省", "MIC", "secure-your-server@mic.example.org", "servers@mic.example.org", "ja"},
};
#define AGENCIES (sizeof agencies / sizeof agencies[0])

static const struct letter_host hosts[] = {
    {"192.0.2.25", 25, "open-relay", "percent-hack", 1075385100, "Postfix", 64500, "AR", NULL},
    {"2001:db8::8", 3128, "open-proxy-mail", "http-connect", 1075388700, "Squid", 64500, "AR", NULL},
    {"192.0.2.26", 1080, "open-proxy-web", "socks5", 1075392300, "Dante, \"patched\"", 0, NULL, "T-2"},
};

static struct letter sample(size_t agency)
{
	return (struct letter){
	    .campaign = "Secure Your Server 2004",
	    .campaign_domain = "letters.example.org",
	    .public_url = "https://sys.example.org",
	    .agency = agencies[agency],
	    .lead = agency == 0,
	    .participants = agencies,
	    .participant_count = AGENCIES,
	    .owner = "Telecomunicaciones Núñez S.A.",
	    .owner_handle = "TN-AR",
	    .contact = "abuse@nunez.example.net",
	    .ticket = "SYS-4F2A-9C",
	    .message_id = "<SYS-4F2A-9C.1@letters.example.org>",
	    .date = 1075400000,
	    .unsubscribe_url = "https://sys.example.org/unsubscribe/SYS-4F2A-9C",
	    .unsubscribe_mailto = "unsubscribe+SYS-4F2A-9C@letters.example.org",
	    .hosts = hosts,
	    .host_count = 3,
	};
}

/* The sample letter of agency (index), rendered from its template. */
static void render(const struct letter *l, struct letter_text *text)
{
	char templates[4096], guides_dir[4096];
	struct letter_templates t;
	struct tpl_error err;
	struct guides *g = guides_open(data_path("guides", guides_dir, sizeof guides_dir));
	if (letter_templates_load(&t, data_path("templates", templates, sizeof templates), l->agency.id,
				  l->agency.language, &err) != 0 ||
	    letter_render(l, &t, g, text, &err) != 0) {
		fprintf(stderr, "%s\n", err.message);
		abort();
	}
	letter_templates_free(&t);
	guides_close(g);
}

static char *build(const struct letter *l, const struct letter_text *text, enum mime_newline nl, size_t *len)
{
	char *out, why[256];
	if (mime_build(l, text, nl, &out, len, why, sizeof why) != 0) {
		fprintf(stderr, "%s\n", why);
		abort();
	}
	return out;
}

static GMimeMessage *parse(const char *bytes, size_t len)
{
	GMimeStream *stream = g_mime_stream_mem_new_with_buffer(bytes, len);
	GMimeParser *parser = g_mime_parser_new_with_stream(stream);
	GMimeMessage *m = g_mime_parser_construct_message(parser, NULL);
	g_object_unref(parser);
	g_object_unref(stream);
	assert_non_null(m);
	return m;
}

/* A part's decoded content. */
static char *content(GMimeObject *part, size_t *len)
{
	GMimeStream *mem = g_mime_stream_mem_new();
	g_mime_data_wrapper_write_to_stream(g_mime_part_get_content(GMIME_PART(part)), mem);
	GByteArray *bytes = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(mem));
	char *copy = malloc(bytes->len + 1);
	memcpy(copy, bytes->data, bytes->len);
	copy[bytes->len] = '\0';
	*len = bytes->len;
	g_object_unref(mem);
	return copy;
}

static const char *header(GMimeMessage *m, const char *name)
{
	const char *v = g_mime_object_get_header(GMIME_OBJECT(m), name);
	assert_non_null(v);
	return v;
}

static void round_trips_through_gmime(void **unused)
{
	for (size_t a = 0; a < AGENCIES; a++) {
		struct letter l = sample(a);
		struct letter_text text;
		render(&l, &text);
		size_t len;
		char *bytes = build(&l, &text, MIME_CRLF, &len);
		/* SMTP wants CRLF everywhere, and lines of at most 998 bytes */
		for (size_t i = 0, line = 0; i < len; i++, line++) {
			if (bytes[i] == '\n') {
				assert_true(i > 0 && bytes[i - 1] == '\r');
				line = 0;
			}
			assert_true(line <= 998);
			assert_true((unsigned char)bytes[i] < 0x80); /* 7-bit on the wire: QP, base64, RFC 2047 */
		}
		/* header lines within 78 characters, encoded words within 75 (RFC 5322, RFC 2047) */
		for (const char *line = bytes; line < bytes + len && *line != '\r';) {
			const char *end = strstr(line, "\r\n");
			assert_non_null(end);
			if (end - line > 78)
				fail_msg("%s: header line of %d characters: %.*s", l.agency.id, (int)(end - line),
					 (int)(end - line), line);
			for (const char *w = line; (w = strstr(w, "=?")) != NULL && w < end;) {
				const char *close = strstr(w + 2, "?=");
				/* =?charset?X?text?= : the closing ?= comes after the third '?' */
				const char *q = strchr(strchr(w + 2, '?') + 1, '?');
				close = strstr(q + 1, "?=");
				assert_true(close != NULL && close < end);
				if (close + 2 - w > 75)
					fail_msg("%s: encoded word of %d characters", l.agency.id, (int)(close + 2 - w));
				w = close + 2;
			}
			line = end + 2;
		}
		GMimeMessage *m = parse(bytes, len);
		InternetAddressList *from = g_mime_message_get_from(m);
		assert_int_equal(internet_address_list_length(from), 1);
		assert_string_equal(internet_address_mailbox_get_addr(
					INTERNET_ADDRESS_MAILBOX(internet_address_list_get_address(from, 0))),
				    l.agency.sender);
		assert_string_equal(internet_address_get_name(internet_address_list_get_address(from, 0)), l.agency.name);
		InternetAddressList *reply = g_mime_message_get_reply_to(m);
		assert_string_equal(internet_address_mailbox_get_addr(
					INTERNET_ADDRESS_MAILBOX(internet_address_list_get_address(reply, 0))),
				    l.agency.reply_to ? l.agency.reply_to : l.agency.sender);
		InternetAddressList *to = g_mime_message_get_to(m);
		assert_string_equal(internet_address_mailbox_get_addr(
					INTERNET_ADDRESS_MAILBOX(internet_address_list_get_address(to, 0))),
				    "abuse@nunez.example.net");
		assert_string_equal(internet_address_get_name(internet_address_list_get_address(to, 0)),
				    "Telecomunicaciones Núñez S.A.");
		assert_string_equal(g_mime_message_get_subject(m), text.subject); /* decoded from RFC 2047 */
		assert_non_null(strstr(g_mime_message_get_subject(m), "[SYS-4F2A-9C]"));
		assert_string_equal(g_mime_message_get_message_id(m), "SYS-4F2A-9C.1@letters.example.org");
		assert_int_equal(g_date_time_to_unix(g_mime_message_get_date(m)), 1075400000);
		assert_string_equal(header(m, "Auto-Submitted"), "auto-generated");
		assert_string_equal(header(m, "List-Unsubscribe-Post"), "List-Unsubscribe=One-Click");
		assert_non_null(strstr(header(m, "List-Unsubscribe"), "<https://sys.example.org/unsubscribe/SYS-4F2A-9C>"));
		assert_non_null(strstr(header(m, "List-Unsubscribe"),
				       "<mailto:unsubscribe+SYS-4F2A-9C@letters.example.org?subject=unsubscribe>"));
		/* multipart/mixed: the letter, then the CSV */
		GMimeObject *root = g_mime_message_get_mime_part(m);
		assert_true(GMIME_IS_MULTIPART(root));
		assert_true(g_mime_content_type_is_type(g_mime_object_get_content_type(root), "multipart", "mixed"));
		assert_int_equal(g_mime_multipart_get_count(GMIME_MULTIPART(root)), 2);
		GMimeObject *letter = g_mime_multipart_get_part(GMIME_MULTIPART(root), 0);
		assert_true(g_mime_content_type_is_type(g_mime_object_get_content_type(letter), "text", "plain"));
		assert_string_equal(g_mime_object_get_content_type_parameter(letter, "charset"), "utf-8");
		assert_int_equal(g_mime_part_get_content_encoding(GMIME_PART(letter)),
				 GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE);
		size_t n;
		char *body = content(letter, &n);
		/* the body comes back as written, with CRLF line ends */
		struct textbuf want;
		textbuf_init(&want, 1 << 20);
		for (const char *p = text.body; *p; p++)
			textbuf_append(&want, *p == '\n' ? "\r\n" : p, *p == '\n' ? 2 : 1);
		assert_string_equal(body, want.data);
		textbuf_free(&want);
		free(body);
		GMimeObject *csv = g_mime_multipart_get_part(GMIME_MULTIPART(root), 1);
		assert_true(g_mime_content_type_is_type(g_mime_object_get_content_type(csv), "text", "csv"));
		assert_string_equal(g_mime_part_get_filename(GMIME_PART(csv)), "hosts-SYS-4F2A-9C.csv");
		assert_true(g_mime_part_is_attachment(GMIME_PART(csv)));
		struct textbuf expected;
		textbuf_init(&expected, 1 << 16);
		letter_csv(&l, &expected);
		char *got = content(csv, &n);
		assert_int_equal(n, expected.len);
		assert_memory_equal(got, expected.data, n);
		free(got);
		textbuf_free(&expected);
		/* built twice, the same bytes */
		size_t len2;
		char *again = build(&l, &text, MIME_CRLF, &len2);
		assert_int_equal(len, len2);
		assert_memory_equal(bytes, again, len);
		free(again);
		g_object_unref(m);
		free(bytes);
		letter_text_free(&text);
	}
}

/* Any subject comes back as it was, in lines of at most 78 characters. */
static void subjects_round_trip(void **unused)
{
	struct letter l = sample(0);
	struct letter_text text;
	render(&l, &text);
	static const char *const subjects[] = {
	    "ñ",
	    "plain ASCII",
	    "=?UTF-8?Q?looks_encoded?= but is not, ?\?= _under_score_",
	    "[T-1] a very long ASCII prefix that goes on and on and on past the sixty column mark é end",
	    "[T-1] 😀 emoji, Ελληνικά, русский, 한국어 and 中文 mixed with ASCII = ? _ !",
	    "[T-1]     spaces   inside  é  ",
	};
	for (size_t i = 0; i < sizeof subjects / sizeof subjects[0]; i++) {
		char *saved = text.subject;
		text.subject = (char *)subjects[i];
		size_t len;
		char *bytes = build(&l, &text, MIME_CRLF, &len);
		text.subject = saved;
		for (const char *line = bytes; *line != '\r';) {
			const char *end = strstr(line, "\r\n");
			if (end - line > 78)
				fail_msg("\"%s\": a line of %d characters", subjects[i], (int)(end - line));
			line = end + 2;
		}
		GMimeMessage *m = parse(bytes, len);
		assert_string_equal(g_mime_message_get_subject(m), subjects[i]);
		g_object_unref(m);
		free(bytes);
	}
	letter_text_free(&text);
}

static void refuses_bad_header_values(void **unused)
{
	struct letter l = sample(0);
	struct letter_text text;
	render(&l, &text);
	static const struct {
		size_t offset;
		const char *value, *why;
	} cases[] = {
	    {offsetof(struct letter, contact), "abuse@example.net\r\nBcc: x@example.com", "the abuse contact"},
	    {offsetof(struct letter, contact), "not-an-address", "the abuse contact"},
	    {offsetof(struct letter, contact), "a@b@c", "the abuse contact"},
	    {offsetof(struct letter, contact), NULL, "the abuse contact"},
	    {offsetof(struct letter, message_id), "no-brackets@x", "the Message-ID"},
	    {offsetof(struct letter, message_id), "<a b@x>", "the Message-ID"},
	    {offsetof(struct letter, unsubscribe_url), "http://plain.example.org/u", "the unsubscribe URL (https)"},
	    {offsetof(struct letter, unsubscribe_mailto), "x y@z", "the unsubscribe address"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct letter bad = l;
		*(const char **)((char *)&bad + cases[i].offset) = cases[i].value;
		char *out, why[256];
		size_t len;
		assert_int_equal(mime_build(&bad, &text, MIME_LF, &out, &len, why, sizeof why), -1);
		assert_null(out);
		assert_non_null(strstr(why, cases[i].why));
	}
	/* registry text in a display name: control characters never reach a header */
	l.owner = "Evil\r\nBcc: victim@example.com";
	size_t len;
	char *bytes = build(&l, &text, MIME_LF, &len);
	assert_null(strstr(bytes, "\nBcc:"));
	free(bytes);
	letter_text_free(&text);
}

/*
 * A prototype per agency gives the bytes a fresh message gives, whatever
 * letter came before: agencies alternating, owners, tickets, subjects
 * (ASCII and not) and host counts varying from one letter to the next.
 */
static void cached_build_is_fresh_build(void **state)
{
	(void)state;
	struct mime_cache *cache = mime_cache_new();
	assert_non_null(cache);
	const char *tickets[] = {"SYS-4F2A-9C", "SYS-7777-AB", "X-1"};
	const char *owners[] = {"Telecomunicaciones Núñez S.A.", "Plain Owner", "株式会社"};
	for (size_t round = 0; round < 3 * AGENCIES; round++) {
		struct letter l = sample(round % AGENCIES);
		l.ticket = tickets[round % 3];
		l.owner = owners[(round / 2) % 3];
		l.host_count = 1 + round % 3;
		l.date += (int64_t)round;
		if (round % 2)
			l.unsubscribe_mailto = NULL;
		struct letter_text text;
		render(&l, &text);
		for (int nl = MIME_CRLF; nl <= MIME_LF; nl++) {
			size_t len, cached_len;
			char *fresh = build(&l, &text, (enum mime_newline)nl, &len), *cached, why[256];
			assert_int_equal(mime_build_cached(cache, &l, &text, (enum mime_newline)nl, &cached,
							   &cached_len, why, sizeof why),
					 0);
			assert_int_equal(cached_len, len);
			assert_memory_equal(cached, fresh, len);
			free(fresh);
			free(cached);
		}
		letter_text_free(&text);
	}
	mime_cache_free(cache);
}

/* --write DIR: the sample letters as DIR/<agency>.eml, .body and .csv, for the Python check. */
static int write_samples(const char *dir)
{
	for (size_t a = 0; a < AGENCIES; a++) {
		struct letter l = sample(a);
		struct letter_text text;
		render(&l, &text);
		size_t len;
		char *bytes = build(&l, &text, MIME_LF, &len), path[4200];
		struct textbuf csv;
		textbuf_init(&csv, 1 << 16);
		letter_csv(&l, &csv);
		const struct {
			const char *ext, *data;
			size_t len;
		} files[] = {{"eml", bytes, len}, {"body", text.body, text.body_len}, {"csv", csv.data, csv.len},
			     {"subject", text.subject, strlen(text.subject)}};
		for (size_t f = 0; f < 4; f++) {
			snprintf(path, sizeof path, "%s/%s.%s", dir, l.agency.id, files[f].ext);
			FILE *out = fopen(path, "wb");
			if (out == NULL || fwrite(files[f].data, 1, files[f].len, out) != files[f].len || fclose(out) != 0) {
				perror(path);
				return 1;
			}
		}
		textbuf_free(&csv);
		free(bytes);
		letter_text_free(&text);
	}
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 3 && strcmp(argv[1], "--write") == 0)
		return write_samples(argv[2]);
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(round_trips_through_gmime),
	    cmocka_unit_test(subjects_round_trip),
	    cmocka_unit_test(refuses_bad_header_values),
	    cmocka_unit_test(cached_build_is_fresh_build),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
