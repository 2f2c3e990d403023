/*
 * /guides and /guides/<product>: the fix guides the letters quote
 * (data/guides, notify/guides.h), rendered as HTML from the same source.
 * Only names in the guides table are served (nothing else reaches the file
 * system); ?server=ADDR&port=PORT fills the check commands with a host.
 * Also the stylesheet, the one static file.
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "core/addr.h"
#include "web/web.h"

void page_style(struct web_request *req, struct web_response *resp)
{
	resp->content_type = "text/css; charset=utf-8";
	resp->cacheable = true;
	textbuf_append(&resp->body, req->server->style, req->server->style_len);
}

static long guide_index(const char *name)
{
	for (size_t i = 0; i < guide_name_count; i++)
		if (strcmp(guide_names[i], name) == 0)
			return (long)i;
	return -1;
}

void page_guides_index(struct web_request *req, struct web_response *resp)
{
	struct web_server *s = req->server;
	resp->cacheable = true;
	web_page_begin(resp, "en", "Fix guides");
	textbuf_puts(&resp->body, "<h1>Fix guides</h1>\n<p>How to close an open relay or open proxy, by the "
				  "software that runs it, each with a check you can run yourself.</p>\n<ul class=\"guides\">\n");
	for (size_t i = 0; i < guide_name_count; i++) {
		textbuf_puts(&resp->body, "<li><a href=\"/guides/");
		web_escape(&resp->body, guide_names[i]);
		textbuf_puts(&resp->body, "\">");
		web_escape(&resp->body, s->guide_titles[i]);
		textbuf_puts(&resp->body, "</a></li>\n");
	}
	textbuf_puts(&resp->body, "</ul>\n");
	web_page_end(resp);
}

void page_guide(struct web_request *req, struct web_response *resp)
{
	struct web_server *s = req->server;
	long i = guide_index(req->params[0]);
	if (i < 0) {
		web_error(resp, 404, "There is no guide of that name.");
		return;
	}
	const char *server = web_query(req, "server"), *port = web_query(req, "port");
	struct addr a;
	uint16_t p;
	char host[ADDR_STRLEN], port_text[8];
	bool for_host = server != NULL && port != NULL;
	if (for_host && (addr_parse(server, strlen(server), &a) != 0 || port_parse(port, strlen(port), &p) != 0)) {
		web_error(resp, 400, "server is an IP address and port a port number.");
		return;
	}
	web_page_begin(resp, "en", s->guide_titles[i]);
	if (!for_host) {
		resp->cacheable = true;
		textbuf_puts(&resp->body, s->guide_pages[i]);
	} else {
		/* the host's own check commands: rendered now, under the guides' lock (they cache and share a scratch doc) */
		addr_format(&a, host);
		snprintf(port_text, sizeof port_text, "%u", (unsigned)p);
		struct tpl_error err;
		char title[GUIDE_MAX_TITLE];
		pthread_mutex_lock(s->guides_lock);
		int rc = guides_render(s->guides, guide_names[i], GUIDE_HTML, 0, host, port_text, &resp->body, title, &err);
		pthread_mutex_unlock(s->guides_lock);
		if (rc != 0) {
			web_error(resp, 500, "This guide could not be rendered.");
			return;
		}
	}
	textbuf_puts(&resp->body, "<p><a href=\"/guides\">All guides</a></p>\n");
	web_page_end(resp);
}
