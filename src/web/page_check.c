/*
 * Owners' checks, on track/owner_check.h's back end:
 *   POST /t/<ticket>/<key>/check     "test again now": the ticket's hosts verified again,
 *                                    in a round of kind 'owner' (apart from the campaign's)
 *   GET  /t/<ticket>/<key>/check/<round>   its progress, then the result per host
 *   GET  /check, POST /check         "test my own server": the requesting address only (the
 *                                    TCP peer; X-Forwarded-For from --trusted-proxy alone);
 *                                    no address can be typed in
 *   GET  /check/<round>              its progress and result, to that address only
 * Progress pages reload themselves (meta refresh: no script) until the round
 * is finished. Every POST carries a form token matched against a cookie.
 * Refusals (rate limits, too many checks at once) are 429 with the back end's
 * reason; an address on the exclusion or opt-out list is 403.
 */
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/addr.h"
#include "core/exclude.h"
#include "core/log.h"
#include "track/owner_check.h"
#include "track/ticket.h"
#include "web/web.h"

#define FORM_COOKIE "ph_form"
#define REFRESH_SECONDS 2

void web_form_token(struct web_response *resp, char token[65])
{
	if (web_random_token(token) != 0)
		token[0] = '\0';
	else
		web_set_cookie(resp, FORM_COOKIE, token, 3600);
}

bool web_form_token_ok(struct web_request *req)
{
	char field[80];
	const char *cookie = web_cookie(req, FORM_COOKIE);
	return web_form_field(req->body, req->body_len, "csrf", field, sizeof field) == 1 && cookie != NULL &&
	       strlen(field) == 64 && strlen(cookie) == 64 && CRYPTO_memcmp(field, cookie, 64) == 0;
}

static const char *state_words(enum owner_check_state state)
{
	switch (state) {
	case OWNER_PENDING: return "testing now";
	case OWNER_OPEN: return "still open";
	case OWNER_FIXED: return "fixed";
	case OWNER_GONE: return "not reachable (gone, or behind a firewall now)";
	case OWNER_INCONCLUSIVE: return "no clear answer: try again later";
	case OWNER_NOT_TESTED: return "not tested: the check stopped early; try again later";
	}
	return "";
}

/* The round's hosts and their states; reloads itself while it runs. */
static void status_page(struct web_response *resp, const struct owner_check_status *st, const char *heading,
			const char *back)
{
	struct textbuf *b = &resp->body;
	resp->refresh = st->finished ? 0 : REFRESH_SECONDS;
	web_page_begin(resp, "en", heading);
	textbuf_puts(b, "<h1>");
	web_escape(b, heading);
	textbuf_puts(b, "</h1>\n");
	textbuf_puts(b, st->interrupted ? "<p id=\"done\">The check stopped before it tested every host: try again"
					  " later.</p>\n"
			: st->finished  ? "<p id=\"done\">The check is finished.</p>\n"
					: "<p id=\"running\">The check is running; this page reloads itself.</p>\n");
	textbuf_puts(b, "<table class=\"check\">\n<thead><tr><th>Host</th><th>Result</th><th>Fix</th></tr></thead>\n"
			"<tbody>\n");
	for (size_t i = 0; i < st->count; i++) {
		const struct owner_check_host *h = &st->hosts[i];
		char port[8];
		snprintf(port, sizeof port, "%u", (unsigned)h->port);
		textbuf_printf(b, "<tr class=\"%s\"><td>", owner_check_state_name(h->state));
		web_escape(b, h->address);
		textbuf_puts(b, ":");
		web_escape(b, port);
		textbuf_puts(b, "</td><td class=\"state\">");
		web_escape(b, state_words(h->state));
		textbuf_puts(b, "</td><td>");
		enum guide_family family = GUIDE_RELAY;
		if (h->state == OWNER_OPEN && guide_family_of_verdict(h->verdict, &family) == 0) {
			textbuf_puts(b, "<a href=\"/guides/");
			web_escape(b, guide_for(NULL, NULL, family));
			textbuf_puts(b, "?server=");
			web_urlencode(b, h->address);
			textbuf_puts(b, "&amp;port=");
			web_urlencode(b, port);
			textbuf_puts(b, "\">How to fix it</a>");
		}
		textbuf_puts(b, "</td></tr>\n");
	}
	textbuf_puts(b, "</tbody></table>\n<p><a href=\"");
	web_escape(b, back);
	textbuf_puts(b, "\">Back</a> &middot; <a href=\"/guides\">All fix guides</a></p>\n");
	web_page_end(resp);
}

static bool checks_on(struct web_request *req, struct web_response *resp)
{
	if (req->server->options.checks != NULL)
		return true;
	web_error(resp, 404, "This server does not run checks.");
	return false;
}

/* Starts a check of ticket or address; 303 to its page, or the refusal. */
static void start(struct web_request *req, struct web_response *resp, const char *ticket, const char *address,
		  const char *page_prefix)
{
	struct web_server *s = req->server;
	struct store *w = web_store_write(s);
	if (w == NULL) {
		web_error(resp, 503, "The store cannot be written just now.");
		return;
	}
	char reason[256] = "";
	pid_t child = 0;
	int64_t round = owner_check_start(w, s->options.checks, ticket, address, time(NULL), &child, reason, sizeof reason);
	web_store_release(s);
	if (round < 0) {
		web_error(resp, 503, reason[0] ? reason : "The check could not be started.");
		return;
	}
	if (round == 0) {
		char sentence[300];
		snprintf(sentence, sizeof sentence, "Not now: %s.", reason);
		web_error(resp, 429, sentence);
		return;
	}
	log_info("serve: owner check round %lld for %s%s", (long long)round, ticket ? "ticket " : "address ",
		 ticket ? ticket : address);
	resp->status = 303;
	snprintf(resp->location, sizeof resp->location, "%s/%lld", page_prefix, (long long)round);
	web_page_begin(resp, "en", "Check started");
	textbuf_puts(&resp->body, "<p><a href=\"");
	web_escape(&resp->body, resp->location);
	textbuf_puts(&resp->body, "\">The check's progress</a></p>\n");
	web_page_end(resp);
}

/* Reads round (text) if it is one of requested_by's; 1, 0 not (404 written), -1 (503 written). */
static int read_round(struct web_request *req, struct web_response *resp, const char *text,
		      const char *requested_by, struct owner_check_status *st)
{
	char *end = NULL;
	long long round = strtoll(text, &end, 10);
	struct store *store = web_store(req->server);
	int found = round > 0 && *end == '\0' && store != NULL
			? owner_check_status(store, req->server->options.db, round, req->server->options.checks->ports, st)
			: (store == NULL ? -1 : 0);
	if (found == 1 && strcmp(st->requested_by, requested_by) != 0) {
		owner_check_status_free(st);
		found = 0;
	}
	if (found <= 0)
		web_error(resp, found < 0 ? 503 : 404, found < 0 ? "The store cannot be read just now." : "There is no such check.");
	return found;
}

void page_ticket_check(struct web_request *req, struct web_response *resp)
{
	struct store_web_ticket t;
	char ticket[TICKET_LEN + 1], prefix[300];
	if (!checks_on(req, resp))
		return;
	struct store *store = web_store(req->server);
	int found = store ? web_ticket_open(req, store, &t) : -1;
	if (found <= 0) {
		web_error(resp, found < 0 ? 503 : 404, found < 0 ? "The store cannot be read just now." : "No letter has this ticket and key.");
		return;
	}
	if (!web_form_token_ok(req)) {
		web_error(resp, 403, "This form has expired or did not come from this site: load the page again.");
		return;
	}
	ticket_parse(req->params[0], strlen(req->params[0]), ticket);
	snprintf(prefix, sizeof prefix, "/t/%s/%s/check", req->params[0], req->params[1]);
	start(req, resp, ticket, NULL, prefix);
}

void page_ticket_check_status(struct web_request *req, struct web_response *resp)
{
	struct store_web_ticket t;
	char ticket[TICKET_LEN + 1], requested_by[160], back[300];
	if (!checks_on(req, resp))
		return;
	struct store *store = web_store(req->server);
	int found = store ? web_ticket_open(req, store, &t) : -1;
	if (found <= 0) {
		web_error(resp, found < 0 ? 503 : 404, found < 0 ? "The store cannot be read just now." : "No letter has this ticket and key.");
		return;
	}
	ticket_parse(req->params[0], strlen(req->params[0]), ticket);
	owner_check_requested_by(ticket, NULL, requested_by, sizeof requested_by);
	struct owner_check_status st;
	if (read_round(req, resp, req->params[2], requested_by, &st) != 1)
		return;
	snprintf(back, sizeof back, "/t/%s/%s", req->params[0], req->params[1]);
	char heading[80];
	snprintf(heading, sizeof heading, "Test again now: ticket %s", ticket);
	status_page(resp, &st, heading, back);
	owner_check_status_free(&st);
}

/* The requesting address, canonical; false (400 written) when it is not one. */
static bool requester(struct web_request *req, struct web_response *resp, struct addr *a, char out[ADDR_STRLEN])
{
	if (addr_parse(req->peer, strlen(req->peer), a) != 0) {
		web_error(resp, 400, "This request's address cannot be tested.");
		return false;
	}
	addr_format(a, out);
	return true;
}

void page_check(struct web_request *req, struct web_response *resp)
{
	struct addr a;
	char address[ADDR_STRLEN], token[65];
	if (!checks_on(req, resp) || !requester(req, resp, &a, address))
		return;
	web_form_token(resp, token);
	struct textbuf *b = &resp->body;
	web_page_begin(resp, "en", "Test my own server");
	textbuf_puts(b, "<h1>Test my own server</h1>\n<p>We test the address this request comes from, <strong id=\"address\">");
	web_escape(b, address);
	textbuf_puts(b, "</strong>, on the mail port and the common proxy ports, with the same tests as our "
			"campaign, and tell you what we found. No other address can be tested from here: run this "
			"page from the server itself (or from behind the same address).</p>\n"
			"<form method=\"post\" action=\"/check\"><input type=\"hidden\" name=\"csrf\" value=\"");
	textbuf_puts(b, token);
	textbuf_puts(b, "\"><button type=\"submit\" id=\"check\">Test ");
	web_escape(b, address);
	textbuf_puts(b, "</button></form>\n");
	web_page_end(resp);
}

void page_check_start(struct web_request *req, struct web_response *resp)
{
	struct addr a;
	char address[ADDR_STRLEN], field[64];
	if (!checks_on(req, resp))
		return;
	if (web_form_field(req->body, req->body_len, "address", field, sizeof field) != 0) {
		web_error(resp, 400, "No address can be typed in: the check tests the address the request comes from.");
		return;
	}
	if (!web_form_token_ok(req)) {
		web_error(resp, 403, "This form has expired or did not come from this site: load the page again.");
		return;
	}
	if (!requester(req, resp, &a, address))
		return;
	const struct owner_check_options *o = req->server->options.checks;
	const char *why = o->exclusions ? exclusion_match(o->exclusions, &a) : NULL;
	if (why != NULL) {
		web_error(resp, 403, "This address is on the list of addresses we never test.");
		return;
	}
	start(req, resp, NULL, address, "/check");
}

void page_check_status(struct web_request *req, struct web_response *resp)
{
	struct addr a;
	char address[ADDR_STRLEN], requested_by[160];
	if (!checks_on(req, resp) || !requester(req, resp, &a, address))
		return;
	owner_check_requested_by(NULL, address, requested_by, sizeof requested_by);
	struct owner_check_status st;
	if (read_round(req, resp, req->params[0], requested_by, &st) != 1)
		return;
	char heading[80];
	snprintf(heading, sizeof heading, "Test of %s", address);
	status_page(resp, &st, heading, "/check");
	owner_check_status_free(&st);
}
