/*
 * One fuzz target for every parser that reads what a peer or a file says:
 * the first byte picks the parser, the rest is its input. Built two ways:
 * with libFuzzer (scripts/fuzz.sh, clang) for coverage-guided runs, and with
 * tests/fuzz/replay.c as a ctest entry that replays the seeds and a fixed
 * series of mutations under the sanitizers.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "attrib/asnames.h"
#include "attrib/load.h"
#include "attrib/rdap.h"
#include "attrib/rpsl.h"
#include "core/addr.h"
#include "core/duration.h"
#include "core/linereader.h"
#include "core/log.h"
#include "core/token.h"
#include "feeds/feed.h"
#include "notify/dsn.h"
#include "notify/guides.h"
#include "notify/template.h"
#include "notify/suppress.h"
#include "probe/fingerprint.h"
#include "probe/proxy_parse.h"
#include "probe/smtp_reply.h"
#include "sink/message.h"
#include "sink/smtp_parse.h"
#include "sink/target.h"
#include "track/ticket.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fuzz_smtp_reply(const char *s, size_t n)
{
	struct smtp_reply reply;
	while (n > 0 && smtp_reply_parse(s, n, &reply) == SMTP_REPLY_COMPLETE && reply.consumed > 0 &&
	       reply.consumed <= n) {
		smtp_reply_has_keyword(s, reply.consumed, "PIPELINING");
		smtp_reply_retry_delay(s, reply.consumed);
		char status[16];
		smtp_status_format(&reply.status, status, sizeof status);
		if (reply.last_line >= reply.consumed)
			abort(); /* the last line lies inside the reply */
		struct smtp_status again;
		if (reply.consumed > 4)
			smtp_status_parse(s + 4, reply.consumed - 4, reply.code, &again);
		s += reply.consumed;
		n -= reply.consumed;
	}
	fingerprint_detect(FINGERPRINT_SMTP, s, n);
}

static void fuzz_proxy(const char *s, size_t n)
{
	struct http_response response;
	const char *value;
	size_t vlen, consumed;
	uint8_t code, method, stripped[512];
	if (http_response_parse(s, n, &response) == PROXY_PARSE_DONE && response.head_len <= n)
		http_header_value(s, response.head_len, "Content-Length", &value, &vlen);
	socks4_reply_parse((const uint8_t *)s, n, &code);
	socks5_method_parse((const uint8_t *)s, n, &method);
	socks5_reply_parse((const uint8_t *)s, n, &code, &consumed);
	telnet_strip((const uint8_t *)s, n < sizeof stripped ? n : sizeof stripped, stripped, &consumed);
	gateway_prompt_classify(s, n);
	gateway_line_refuses(s, n);
	gateway_text_plausible((const uint8_t *)s, n);
	fingerprint_detect(FINGERPRINT_PROXY, s, n);
}

static void fuzz_sink_smtp(const char *s, size_t n)
{
	struct sink_smtp_command command;
	struct sink_smtp_path path;
	struct sink_target_request request;
	const char *reply;
	struct addr listener;
	addr_parse("127.0.0.1", 9, &listener);
	sink_smtp_command_split(s, n, &command);
	if (sink_smtp_path_parse(command.args, command.args_len, SINK_SMTP_PATH_MAIL, &path, &reply) == 0)
		sink_smtp_rcpt_is_ours(path.address, "sink.test", &listener);
	sink_smtp_path_parse(command.args, command.args_len, SINK_SMTP_PATH_RCPT, &path, &reply);
	sink_smtp_helo_valid(command.args, command.args_len);
	sink_target_request_parse(s, n, &request);
}

static void fuzz_sink_message(const char *s, size_t n)
{
	struct sink_message_body body;
	size_t start, len, body_start;
	sink_message_body_init(&body, 4096);
	/* in two chunks, as the bytes may arrive */
	size_t first = sink_message_body_feed(&body, s, n / 2);
	if (first == n / 2 && !sink_message_body_done(&body))
		sink_message_body_feed(&body, s + n / 2, n - n / 2);
	sink_message_body_free(&body);
	size_t headers = sink_message_header_len(s, n, &body_start);
	if (headers <= n)
		sink_message_subject(s, headers, &start, &len);
}

static void fuzz_token(const char *s, size_t n)
{
	static const struct token_secret secret = {{1, 2, 3}};
	struct token_fields fields;
	char found[TOKEN_MAX_LEN];
	size_t offset = 0;
	char ticket[TICKET_LEN + 1];
	token_check(&secret, s, n, &fields);
	ticket_parse(s, n, ticket);
	while (offset < n && token_scan(&secret, s, n, &offset, &fields, found) >= 0)
		;
}

static void fuzz_addresses(const char *s, size_t n)
{
	struct addr a;
	struct range r;
	uint16_t port;
	uint32_t asn;
	const char *why;
	addr_parse(s, n, &a);
	addr_port_parse(s, n, &a, &port, &why);
	range_parse(s, n, &r, &why);
	asn_parse(s, n, &asn);
	rpsl_parse_inetnum(s, n, &r, &why);
	rpsl_parse_inet6num(s, n, &r, &why);
	struct suppress_rule rule;
	suppress_parse(s, n, &rule, &why); /* a suppression rule: an address, @domain or network */
}

static void fuzz_feeds(const char *s, size_t n)
{
	struct feed_item items[FEED_MAX_ITEMS];
	const char *why;
	feed_format_detect(s, n, &why);
	for (size_t f = 0; f < feed_format_count; f++) {
		struct feed_state state;
		feed_state_init(&state);
		const char *cursor = s, *end = s + n;
		while (cursor < end) {
			const char *nl = memchr(cursor, '\n', (size_t)(end - cursor));
			size_t len = (size_t)((nl ? nl : end) - cursor);
			feed_formats[f]->parse_line(&state, cursor, len, items, &why);
			cursor += len + (nl != NULL);
		}
	}
}

/* The bytes as a feed file: through the line reader (gzip or not, told by
 * its magic) into the detected format's parser, as ingest reads them. */
static void fuzz_feed_file(const char *s, size_t n)
{
	int fd = memfd_create("fuzz-feed", 0);
	if (fd < 0)
		return;
	struct linereader *reader = malloc(sizeof *reader);
	if (reader != NULL && write(fd, s, n) == (ssize_t)n && lseek(fd, 0, SEEK_SET) == 0 &&
	    linereader_open(reader, fd) == 0) {
		size_t sample_len;
		const char *sample = linereader_peek(reader, &sample_len), *why, *line;
		const struct feed_format *format = feed_format_detect(sample, sample_len, &why);
		struct feed_state state;
		struct feed_item items[FEED_MAX_ITEMS];
		size_t len;
		bool too_long;
		feed_state_init(&state);
		while (linereader_next(reader, &line, &len, &too_long) == 1)
			format->parse_line(&state, line, len, items, &why);
		if (linereader_rewind(reader) == 0)
			while (linereader_next(reader, &line, &len, &too_long) == 1)
				;
		linereader_close(reader);
	}
	free(reader);
	close(fd);
}

/* A whole registry file of each kind into a snapshot builder, and its finish. */
static void fuzz_registry(const char *s, size_t n)
{
	for (int kind = 0; kind < SNAP_KIND_LAST; kind++) {
		struct snap_builder b;
		struct attrib_load_stats stats;
		snap_builder_init(&b, (enum snap_kind)kind);
		if (attrib_parse_buffer("fuzz", s, n, (enum snap_kind)kind, &b, &stats) == 0)
			snap_builder_finish(&b);
		snap_builder_free(&b);
	}
	enum snap_kind detected;
	attrib_detect_format(s, n, &detected);
}

static void fuzz_rpsl_object(const char *s, size_t n)
{
	static struct rpsl_object obj;
	const char *why, *cursor = s, *email;
	uint32_t bad_line;
	char value[256];
	size_t len;
	if (rpsl_parse_object(s, n, &obj, &why, &bad_line) == 0)
		for (size_t i = 0; i < obj.count; i++)
			rpsl_value(&obj.attrs[i], i % 2 == 0, value, sizeof value);
	while ((email = rpsl_next_email(&cursor, s + n, &len)) != NULL)
		;
}

static void fuzz_rdap(const char *s, size_t n)
{
	struct store_rdap_net net;
	struct rdap_bootstrap bootstrap = {0};
	const char *why;
	rdap_parse_ip(s, n, &net, &why);
	rdap_bootstrap_parse(&bootstrap, s, n, &why);
	rdap_bootstrap_free(&bootstrap);
}

/*
 * A letter template: compiled, then rendered against a small letter-like
 * tree, as text and as HTML; and the same bytes as a fix guide's markup.
 */
static void fuzz_template(const char *s, size_t n)
{
	static struct guide_doc doc;
	struct tpl_error err;
	struct textbuf out;
	if (guide_markup_parse("fuzz", s, n, &doc, &err) == 0) {
		for (int f = GUIDE_TEXT; f <= GUIDE_HTML; f++) {
			textbuf_init(&out, 1u << 16);
			guide_markup_write(&doc, s, (enum guide_format)f, (unsigned)f, &out);
			textbuf_free(&out);
		}
	}
	struct template *t = tpl_parse("fuzz", s, n, &err);
	if (t == NULL)
		return;
	struct tpl_data *d = tpl_data_new();
	struct tpl_value *root = tpl_root(d);
	tpl_set_string(d, root, "owner", "Example \x01 Net <a>");
	tpl_set_bool(d, root, "lead", true);
	struct tpl_value *hosts = tpl_set_list(d, root, "hosts");
	for (int i = 0; i < 3; i++) {
		struct tpl_value *h = tpl_list_add_object(d, hosts);
		tpl_set_string(d, h, "address", "192.0.2.1");
		tpl_set_list(d, h, "empty");
		tpl_list_add_string(d, tpl_set_list(d, h, "names"), "x\xff");
	}
	for (int html = 0; html < 2; html++) {
		textbuf_init(&out, 1u << 16);
		tpl_render(t, d, html ? tpl_escape_html : NULL, html ? 0 : TPL_STRICT, &out, &err);
		textbuf_free(&out);
	}
	tpl_data_free(d);
	tpl_free(t);
}

/* Each line a duration: what parses is finite and not negative. */
static void fuzz_durations(const char *s, size_t n)
{
	while (n > 0) {
		const char *nl = memchr(s, '\n', n);
		size_t len = nl ? (size_t)(nl - s) : n;
		double seconds;
		const char *why;
		if (duration_parse(s, len, &seconds, &why) == 0 && !(seconds >= 0 && seconds < 1e12))
			abort();
		s += len + (nl != NULL);
		n -= len + (nl != NULL);
	}
}

static void fuzz_dsn(const char *s, size_t n)
{
	struct dsn d;
	dsn_parse(s, n, &d);
}

static void (*const parsers[])(const char *, size_t) = {
    fuzz_smtp_reply, fuzz_proxy,     fuzz_sink_smtp,	fuzz_sink_message, fuzz_token,
    fuzz_addresses,  fuzz_feeds,     fuzz_registry,	fuzz_rpsl_object,  fuzz_rdap,
    fuzz_template,
    fuzz_durations,
    fuzz_feed_file,
    fuzz_dsn,
};
#define PARSER_COUNT (sizeof parsers / sizeof parsers[0])

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	log_set_level(LOG_QUIET); /* malformed input is the point: no reports */
	/* A copy of exactly the input's size: a read past it is caught by the sanitizers. */
	char *copy = malloc(size - 1 ? size - 1 : 1);
	if (copy == NULL)
		return 0;
	memcpy(copy, data + 1, size - 1);
	parsers[data[0] % PARSER_COUNT](copy, size - 1);
	free(copy);
	return 0;
}
