/*
 * /t/<ticket>/<key>: the evidence page each letter links to. The key is the
 * letter's HMAC (track/ticket.h), compared in constant time; an unknown
 * ticket and a wrong key get the same 404, so the page tells no one which
 * part was wrong. Shown: the owner's hosts, what was proven and when, the
 * proof's transcript (peer bytes: escaped), the newest round that tested each
 * host, and the fix guide for each host's software.
 */
#include <ctype.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/store.h"
#include "track/ticket.h"
#include "web/web.h"

int web_ticket_open(struct web_request *req, struct store *store, struct store_web_ticket *out)
{
	char ticket[TICKET_LEN + 1], key[TICKET_KEY_LEN + 1] = {0};
	const char *given = req->params[1];
	bool shape = strlen(given) == TICKET_KEY_LEN;
	for (size_t i = 0; i < TICKET_KEY_LEN && shape; i++) {
		shape = isxdigit((unsigned char)given[i]) != 0;
		key[i] = (char)tolower((unsigned char)given[i]);
	}
	bool parsed = ticket_parse(req->params[0], strlen(req->params[0]), ticket) == 0;
	int found = parsed ? store_web_ticket(store, ticket, out) : 0;
	if (found < 0)
		return -1;
	/* compared even when there is no such letter, so both failures take the same path */
	static const char nothing[TICKET_KEY_LEN + 1] = "--------------------------------";
	const char *stored = found == 1 && strlen(out->key) == TICKET_KEY_LEN ? out->key : nothing;
	bool equal = CRYPTO_memcmp(key, stored, TICKET_KEY_LEN) == 0;
	return found == 1 && shape && equal ? 1 : 0;
}

struct hosts_ctx {
	struct web_response *resp;
	size_t count;
};

static void cell(struct textbuf *b, const char *label, const char *value)
{
	textbuf_puts(b, "<tr><th>");
	web_escape(b, label);
	textbuf_puts(b, "</th><td>");
	web_escape(b, value && *value ? value : "-");
	textbuf_puts(b, "</td></tr>\n");
}

static const char *outcome_words(const char *outcome, const char *verdict)
{
	static const struct {
		const char *outcome, *words;
	} words[] = {
	    {"open", "still open"},   {"changed", "still open (another way)"}, {"fixed", "fixed"},
	    {"gone", "not reachable"}, {"inconclusive", "no clear answer"},     {"untested", "not tested yet"},
	};
	for (size_t i = 0; outcome != NULL && i < sizeof words / sizeof words[0]; i++)
		if (strcmp(outcome, words[i].outcome) == 0)
			return words[i].words;
	return verdict;
}

static void on_host(void *ctx, const struct store_row *row)
{
	struct hosts_ctx *c = ctx;
	if (row->values == NULL)
		return;
	struct textbuf *b = &c->resp->body;
	const char *address = store_row_value(row, "address"), *port = store_row_value(row, "port");
	const char *verdict = store_row_value(row, "verdict");
	const char *software = store_row_value(row, "software"), *protocol = store_row_value(row, "protocol");
	char t1[32], t2[32], t3[32], port_text[16];
	snprintf(port_text, sizeof port_text, "%s", port ? port : "");
	c->count++;
	textbuf_puts(b, "<section class=\"host\">\n<h2>");
	web_escape(b, address);
	textbuf_puts(b, " port ");
	web_escape(b, port);
	textbuf_puts(b, "</h2>\n<table class=\"facts\">\n");
	cell(b, "Found", verdict);
	cell(b, "How", store_row_value(row, "variant"));
	cell(b, "Protocol", protocol);
	cell(b, "Software", software);
	const char *proved = store_row_value(row, "proved");
	cell(b, "Proven at", web_time(proved ? strtoll(proved, NULL, 10) : 0, t1));
	const char *received = store_row_value(row, "proof_received");
	char proof[160];
	snprintf(proof, sizeof proof, "delivered by %s, %s", store_row_value(row, "proof_peer") ?: "-",
		 web_time(received ? strtoll(received, NULL, 10) : 0, t2));
	cell(b, "Our test message", received ? proof : NULL);
	cell(b, "Mail came from", store_row_value(row, "exit_address"));
	const char *round_kind = store_row_value(row, "round_kind");
	if (round_kind != NULL) {
		char round[200];
		const char *seq = store_row_value(row, "round_seq"), *checked = store_row_value(row, "round_checked");
		snprintf(round, sizeof round, "%s%s%s, %s: %s", round_kind, seq ? " " : "", seq ? seq : "",
			 web_time(checked ? strtoll(checked, NULL, 10) : 0, t3),
			 outcome_words(store_row_value(row, "round_outcome"), store_row_value(row, "round_verdict")));
		cell(b, "Latest test", round);
	} else {
		cell(b, "Latest test", NULL);
	}
	textbuf_puts(b, "</table>\n");
	enum guide_family family = GUIDE_RELAY;
	guide_family_of_verdict(verdict, &family);
	const char *guide = guide_for(software, protocol, family);
	textbuf_puts(b, "<p class=\"guide-link\"><a href=\"/guides/");
	web_escape(b, guide);
	textbuf_puts(b, "?server=");
	web_urlencode(b, address);
	textbuf_puts(b, "&amp;port=");
	web_urlencode(b, port_text);
	textbuf_puts(b, "\">How to fix it, and check it yourself</a></p>\n");
	const char *transcript = store_row_value(row, "transcript");
	if (transcript != NULL && *transcript) {
		textbuf_puts(b, "<details open><summary>The conversation that proved it</summary>\n<pre class=\"transcript\">");
		web_escape(b, transcript);
		textbuf_puts(b, "</pre></details>\n");
	}
	textbuf_puts(b, "</section>\n");
}

static void ticket_page(struct web_request *req, struct web_response *resp, struct store *store);

void page_ticket(struct web_request *req, struct web_response *resp)
{
	/* the letter and its hosts from one snapshot */
	struct store *store = web_store(req->server);
	if (store == NULL || store_web_read_begin(store) != 0) {
		web_error(resp, 503, "The store cannot be read just now.");
		return;
	}
	ticket_page(req, resp, store);
	store_web_read_end(store);
}

static void ticket_page(struct web_request *req, struct web_response *resp, struct store *store)
{
	struct store_web_ticket t;
	int found = web_ticket_open(req, store, &t);
	if (found <= 0) {
		web_error(resp, found < 0 ? 503 : 404,
			  found < 0 ? "The store cannot be read just now." : "No letter has this ticket and key.");
		return;
	}
	char title[160], when[32];
	snprintf(title, sizeof title, "Ticket %s", req->params[0]);
	struct textbuf *b = &resp->body;
	web_page_begin(resp, "en", title);
	textbuf_puts(b, "<h1>Your letter, ticket ");
	web_escape(b, req->params[0]);
	textbuf_puts(b, "</h1>\n<p class=\"genuine\">This page is the evidence behind the letter of campaign <strong>");
	web_escape(b, t.campaign);
	textbuf_puts(b, "</strong> to <strong>");
	web_escape(b, t.organisation);
	textbuf_puts(b, "</strong> (");
	web_escape(b, t.recipient);
	textbuf_puts(b, "), written ");
	web_escape(b, web_time(t.created, when));
	textbuf_puts(b, ". A letter whose link does not lead here is not ours.</p>\n");
	struct hosts_ctx c = {resp, 0};
	if (store_web_ticket_hosts_each(store, t.letter_id, on_host, &c) != 0) {
		web_error(resp, 503, "The store cannot be read just now.");
		return;
	}
	if (c.count == 0)
		textbuf_puts(b, "<p>No hosts are listed for this letter any more.</p>\n");
	if (req->server->options.checks != NULL && c.count > 0) {
		char token[65];
		web_form_token(resp, token);
		textbuf_puts(b, "<section class=\"again\"><h2>Fixed it? Test again now</h2>\n<p>We test these hosts "
				"again with the same tests, now, and show you the result per host. Once every ten "
				"minutes.</p>\n<form method=\"post\" class=\"again\" action=\"/t/");
		web_escape(b, req->params[0]);
		textbuf_puts(b, "/");
		web_escape(b, req->params[1]);
		textbuf_puts(b, "/check\"><input type=\"hidden\" name=\"csrf\" value=\"");
		textbuf_puts(b, token);
		textbuf_puts(b, "\"><button type=\"submit\" id=\"again\">Test again now</button></form></section>\n");
	}
	textbuf_puts(b, "<section class=\"optout\"><h2>No more letters</h2><p><a href=\"/t/");
	web_escape(b, req->params[0]);
	textbuf_puts(b, "/");
	web_escape(b, req->params[1]);
	textbuf_puts(b, "/unsubscribe\">Stop letters to this address</a></p></section>\n");
	web_page_end(resp);
}
