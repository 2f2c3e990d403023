/*
 * /t/<ticket>/<key>/unsubscribe: the URL the letters' List-Unsubscribe
 * header names (notify/compose.c). RFC 8058 one-click: a POST whose body is
 * List-Unsubscribe=One-Click adds the letter's recipient to the suppression
 * list. A GET changes nothing (mail scanners follow links): it shows the
 * form that POSTs. The ticket's key is what authorises it: a mail client's
 * one-click POST carries no form token.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "core/log.h"
#include "notify/suppress.h"
#include "store/store.h"
#include "web/web.h"

static int open_ticket(struct web_request *req, struct web_response *resp, struct store_web_ticket *t)
{
	struct store *store = web_store(req->server);
	int found = store ? web_ticket_open(req, store, t) : -1;
	if (found <= 0)
		web_error(resp, found < 0 ? 503 : 404,
			  found < 0 ? "The store cannot be read just now." : "No letter has this ticket and key.");
	return found;
}

void page_optout_form(struct web_request *req, struct web_response *resp)
{
	struct store_web_ticket t;
	if (open_ticket(req, resp, &t) <= 0)
		return;
	struct textbuf *b = &resp->body;
	web_page_begin(resp, "en", "Stop letters");
	textbuf_puts(b, "<h1>Stop letters to ");
	web_escape(b, t.recipient);
	textbuf_puts(b, "</h1>\n<p>We will not write to this address again about any host.</p>\n"
			"<form method=\"post\" action=\"/t/");
	web_escape(b, req->params[0]);
	textbuf_puts(b, "/");
	web_escape(b, req->params[1]);
	textbuf_puts(b, "/unsubscribe\"><input type=\"hidden\" name=\"List-Unsubscribe\" value=\"One-Click\">"
			"<button type=\"submit\" id=\"unsubscribe\">Stop letters</button></form>\n");
	web_page_end(resp);
}

/* RFC 8058: the body is List-Unsubscribe=One-Click, form-encoded or as a multipart field. */
static bool one_click(struct web_request *req)
{
	char value[32];
	if (web_form_field(req->body, req->body_len, "List-Unsubscribe", value, sizeof value) == 1)
		return strcmp(value, "One-Click") == 0;
	const char *type = web_header(req, "Content-Type");
	return type != NULL && strncasecmp(type, "multipart/form-data", 19) == 0 &&
	       memmem(req->body, req->body_len, "name=\"List-Unsubscribe\"", 23) != NULL &&
	       memmem(req->body, req->body_len, "One-Click", 9) != NULL;
}

void page_optout(struct web_request *req, struct web_response *resp)
{
	struct store_web_ticket t;
	if (open_ticket(req, resp, &t) <= 0)
		return;
	if (!one_click(req)) {
		web_error(resp, 400, "An unsubscribe request carries List-Unsubscribe=One-Click.");
		return;
	}
	struct suppress_rule rule; /* the canonical (lowercase) address, as 'suppress add' stores it */
	const char *why = NULL;
	if (suppress_parse(t.recipient, strlen(t.recipient), &rule, &why) != 0 || rule.kind != SUPPRESS_ADDRESS) {
		web_error(resp, 500, "This letter's address cannot be put on the list.");
		return;
	}
	char reason[200];
	snprintf(reason, sizeof reason, "unsubscribed on the web (ticket %s)", req->params[0]);
	struct store *w = web_store_write(req->server);
	int rc = w ? store_suppression_add(w, "address", rule.value, NULL, reason, time(NULL)) : -1;
	if (w != NULL)
		web_store_release(req->server);
	if (rc < 0) {
		web_error(resp, 503, "The request could not be stored just now; please try again.");
		return;
	}
	log_info("serve: %s unsubscribed by ticket %s", t.recipient, req->params[0]);
	struct textbuf *b = &resp->body;
	web_page_begin(resp, "en", "Letters stopped");
	textbuf_puts(b, "<h1>Letters stopped</h1>\n<p id=\"done\">We will not write to ");
	web_escape(b, t.recipient);
	textbuf_puts(b, " again.</p>\n");
	web_page_end(resp);
}
