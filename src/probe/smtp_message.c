#include "probe/smtp_message.h"

#include <stdio.h>

size_t smtp_message_format(const struct smtp_message *m, time_t now, char *out, size_t size)
{
	char date[64];
	struct tm tm;
	strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S +0000", gmtime_r(&now, &tm));
	int n = snprintf(out, size,
			 "From: %s <%s>\r\n"
			 "To: <%s@%s>\r\n"
			 "Subject: %s %s\r\n"
			 "Date: %s\r\n"
			 "Message-ID: <%s@%s>\r\n"
			 "X-Plughole-Token: %s\r\n"
			 "Auto-Submitted: auto-generated\r\n"
			 "MIME-Version: 1.0\r\n"
			 "Content-Type: text/plain; charset=us-ascii\r\n"
			 "\r\n"
			 "This message tests whether %s.\r\n"
			 "It was sent by %s\r\n"
			 "as part of a \"Secure Your Server\" campaign that finds open relays and\r\n"
			 "proxies and tells their owners how to close them. It is addressed only\r\n"
			 "to a mailbox of the test itself (%s); nobody else receives it.\r\n"
			 "\r\n"
			 "Test variant: %s\r\n"
			 "Token: %s\r\n"
			 "Questions, or to opt out of further tests: %s\r\n"
			 ".\r\n",
			 m->kind, m->from, m->token, m->sink_domain, m->kind, m->token, date, m->token,
			 m->sink_domain, m->token, m->tested, m->operator_name, m->sink_domain, m->variant,
			 m->token, m->contact ? m->contact : m->from);
	return n > 0 && (size_t)n < size ? (size_t)n : 0;
}
