/* What comes back for a letter: RFC 3464 DSNs, Exim's, qmail's and Postfix's bounce texts, auto-replies. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "notify/dsn.h"
#include "track/ticket.h"

static char ticket[TICKET_LEN + 1];

/* tests/fixtures/dsn/NAME with every "TICKET" replaced by a valid ticket, CRLF or LF as written. */
static char *fixture(const char *name, size_t *len)
{
	char path[256];
	snprintf(path, sizeof path, "../fixtures/dsn/%s", name);
	FILE *f = fopen(path, "rb");
	assert_non_null(f);
	static char raw[65536];
	size_t n = fread(raw, 1, sizeof raw - 1, f);
	fclose(f);
	raw[n] = '\0';
	char *out = malloc(n * 2 + 1);
	size_t o = 0;
	for (size_t i = 0; i < n;) {
		if (strncmp(raw + i, "TICKET", 6) == 0) {
			memcpy(out + o, ticket, TICKET_LEN);
			o += TICKET_LEN;
			i += 6;
		} else
			out[o++] = raw[i++];
	}
	out[o] = '\0';
	*len = o;
	return out;
}

static void parse(const char *name, struct dsn *d)
{
	size_t len;
	char *msg = fixture(name, &len);
	dsn_parse(msg, len, d);
	free(msg);
}

static int setup(void **unused)
{
	(void)unused;
	const uint8_t random[TICKET_RANDOM_BYTES] = {1, 2, 3, 4, 5, 6};
	ticket_make(random, ticket);
	return 0;
}

static void rfc3464_from_postfix(void **unused)
{
	(void)unused;
	struct dsn d;
	parse("postfix-rfc3464.eml", &d);
	assert_int_equal(d.kind, DSN_BOUNCE); /* though it says Auto-Submitted: auto-replied */
	assert_string_equal(d.shape, "rfc3464");
	assert_string_equal(d.action, "failed");
	assert_string_equal(d.status, "5.1.1");
	assert_string_equal(d.recipient, "abuse@o1.example");
	assert_string_equal(d.diagnostic,
			    "550 5.1.1 <abuse@o1.example>: Recipient address rejected: User unknown in local "
			    "recipient table");
	assert_string_equal(d.ticket, ticket);
	assert_false(d.to_unsubscribe);
	assert_false(d.ticket_from_original);
}

static void exim_text(void **unused)
{
	(void)unused;
	struct dsn d;
	parse("exim.eml", &d);
	assert_int_equal(d.kind, DSN_BOUNCE);
	assert_string_equal(d.shape, "exim");
	assert_string_equal(d.recipient, "abuse@o2.example");
	assert_string_equal(d.status, "5.7.1");
	assert_non_null(strstr(d.diagnostic, "550 5.7.1 Mailbox disabled"));
	assert_string_equal(d.ticket, ticket);
	parse("exim-delay.eml", &d);
	assert_int_equal(d.kind, DSN_DELAY);
	assert_string_equal(d.shape, "exim");
}

static void qmail_text(void **unused)
{
	(void)unused;
	struct dsn d;
	parse("qmail.eml", &d);
	assert_int_equal(d.kind, DSN_BOUNCE);
	assert_string_equal(d.shape, "qmail");
	assert_string_equal(d.recipient, "abuse@o3.example");
	assert_string_equal(d.status, "5.1.1");
	assert_non_null(strstr(d.diagnostic, "sorry, no mailbox here by that name"));
	assert_string_equal(d.ticket, ticket);
}

static void postfix_text_ticket_from_the_original(void **unused)
{
	(void)unused;
	struct dsn d;
	parse("postfix-text.eml", &d);
	assert_int_equal(d.kind, DSN_BOUNCE);
	assert_string_equal(d.shape, "postfix");
	assert_string_equal(d.recipient, "abuse@o4.example");
	assert_string_equal(d.status, "5.2.2");
	assert_non_null(strstr(d.diagnostic, "said: 552 5.2.2 Mailbox full"));
	/* not to a VERP address: the returned Message-ID names the letter */
	assert_string_equal(d.ticket, ticket);
	assert_true(d.ticket_from_original);
}

static void delayed_is_no_bounce(void **unused)
{
	(void)unused;
	struct dsn d;
	parse("delayed-rfc3464.eml", &d);
	assert_int_equal(d.kind, DSN_DELAY);
	assert_string_equal(d.action, "delayed");
	assert_string_equal(d.status, "4.4.1");
}

static void auto_replies_are_recorded_not_bounces(void **unused)
{
	(void)unused;
	struct dsn d;
	parse("autoreply.eml", &d);
	assert_int_equal(d.kind, DSN_AUTO_REPLY);
	assert_string_equal(d.ticket, ticket);
	parse("autoreply-x.eml", &d);
	assert_int_equal(d.kind, DSN_AUTO_REPLY);
	assert_string_equal(d.ticket, ticket);
	parse("human.eml", &d);
	assert_int_equal(d.kind, DSN_OTHER);
	assert_string_equal(dsn_kind_name(d.kind), "other");
}

static void unsubscribe_address(void **unused)
{
	(void)unused;
	struct dsn d;
	parse("unsubscribe.eml", &d);
	assert_int_equal(d.kind, DSN_OTHER);
	assert_true(d.to_unsubscribe);
	assert_string_equal(d.ticket, ticket);
}

static void hostile_and_empty_input(void **unused)
{
	(void)unused;
	struct dsn d;
	dsn_parse("", 0, &d);
	assert_int_equal(d.kind, DSN_OTHER);
	dsn_parse(NULL, 0, &d);
	assert_int_equal(d.kind, DSN_OTHER);
	/* a status block with no end, a bogus ticket, control bytes in the diagnostic */
	static const char bad[] =
	    "To: bounces+NOT-A-TICKET@x\r\nContent-Type: multipart/report; boundary=x\r\n\r\n"
	    "--x\r\nContent-Type: message/delivery-status\r\n\r\nAction: failed\r\n"
	    "Diagnostic-Code: smtp; 550 \x01\x7f bad\r\n";
	dsn_parse(bad, sizeof bad - 1, &d);
	assert_int_equal(d.kind, DSN_BOUNCE);
	assert_string_equal(d.ticket, "");
	assert_string_equal(d.diagnostic, "550 ?? bad");
	assert_string_equal(d.status, "5.0.0");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(rfc3464_from_postfix), cmocka_unit_test(exim_text),
	    cmocka_unit_test(qmail_text),	    cmocka_unit_test(postfix_text_ticket_from_the_original),
	    cmocka_unit_test(delayed_is_no_bounce), cmocka_unit_test(auto_replies_are_recorded_not_bounces),
	    cmocka_unit_test(unsubscribe_address),  cmocka_unit_test(hostile_and_empty_input),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}
