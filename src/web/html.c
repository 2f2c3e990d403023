/* The owners' web: escaping, the one page layout, error pages, and what handlers read of a request. */
#include <ctype.h>
#include <microhttpd.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "core/util.h"
#include "notify/template.h"
#include "web/web.h"

int web_escapen(struct textbuf *out, const char *s, size_t n) { return tpl_escape_html(out, s ? s : "", s ? n : 0); }

int web_escape(struct textbuf *out, const char *s) { return web_escapen(out, s, s ? strlen(s) : 0); }

int web_urlencode(struct textbuf *out, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	int rc = 0;
	for (; s && *s && rc == 0; s++) {
		unsigned char c = (unsigned char)*s;
		if (isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
			rc = textbuf_append(out, (const char *)&c, 1);
		} else {
			char e[3] = {'%', hex[c >> 4], hex[c & 15]};
			rc = textbuf_append(out, e, 3);
		}
	}
	return rc;
}

static const struct {
	unsigned status;
	const char *text;
} statuses[] = {
    {200, "OK"},
    {303, "See Other"},
    {400, "Bad Request"},
    {403, "Forbidden"},
    {404, "Not Found"},
    {405, "Method Not Allowed"},
    {408, "Request Timeout"},
    {413, "Content Too Large"},
    {414, "URI Too Long"},
    {429, "Too Many Requests"},
    {431, "Request Header Fields Too Large"},
    {500, "Internal Server Error"},
    {503, "Service Unavailable"},
};

const char *web_status_text(unsigned status)
{
	for (size_t i = 0; i < ARRAY_SIZE(statuses); i++)
		if (statuses[i].status == status)
			return statuses[i].text;
	return "Error";
}

void web_page_begin(struct web_response *resp, const char *lang, const char *title)
{
	struct textbuf *b = &resp->body;
	resp->content_type = "text/html; charset=utf-8";
	textbuf_puts(b, "<!doctype html>\n<html lang=\"");
	web_escape(b, lang ? lang : "en");
	textbuf_puts(b, "\">\n<head>\n<meta charset=\"utf-8\">\n"
			"<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
			"<meta name=\"robots\" content=\"noindex\">\n");
	if (resp->refresh > 0)
		textbuf_printf(b, "<meta http-equiv=\"refresh\" content=\"%u\">\n", resp->refresh);
	textbuf_puts(b, "<title>");
	web_escape(b, title);
	textbuf_puts(b, "</title>\n<link rel=\"stylesheet\" href=\"/static/style.css\">\n</head>\n<body>\n"
			"<header><a class=\"home\" href=\"/\">Secure Your Server</a>"
			"<nav><a href=\"/guides\">Fix guides</a></nav></header>\n<main>\n");
}

void web_page_end(struct web_response *resp)
{
	textbuf_puts(&resp->body, "</main>\n<footer>plughole &middot; this page works without JavaScript</footer>\n"
				  "</body>\n</html>\n");
}

void web_error(struct web_response *resp, unsigned status, const char *message)
{
	char title[80];
	textbuf_free(&resp->body);
	textbuf_init(&resp->body, resp->body.limit ? resp->body.limit : 65536);
	resp->status = status;
	resp->cookie_count = 0;
	resp->location[0] = '\0';
	resp->cacheable = false;
	resp->refresh = 0;
	snprintf(title, sizeof title, "%u %s", status, web_status_text(status));
	web_page_begin(resp, "en", title);
	textbuf_puts(&resp->body, "<h1>");
	web_escape(&resp->body, title);
	textbuf_puts(&resp->body, "</h1>\n<p class=\"error\">");
	web_escape(&resp->body, message);
	textbuf_puts(&resp->body, "</p>\n<p><a href=\"/\">The campaign's page</a></p>\n");
	web_page_end(resp);
}

const char *web_query(struct web_request *req, const char *name)
{
	return MHD_lookup_connection_value(req->connection, MHD_GET_ARGUMENT_KIND, name);
}

const char *web_header(struct web_request *req, const char *name)
{
	return MHD_lookup_connection_value(req->connection, MHD_HEADER_KIND, name);
}

const char *web_cookie(struct web_request *req, const char *name)
{
	return MHD_lookup_connection_value(req->connection, MHD_COOKIE_KIND, name);
}

static int hexval(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

int web_form_field(const char *s, size_t n, const char *name, char *buf, size_t buflen)
{
	size_t name_len = strlen(name);
	for (size_t pos = 0; pos < n;) {
		const char *amp = memchr(s + pos, '&', n - pos);
		size_t end = amp ? (size_t)(amp - s) : n;
		const char *eq = memchr(s + pos, '=', end - pos);
		size_t key_end = eq ? (size_t)(eq - s) : end;
		if (key_end - pos == name_len && memcmp(s + pos, name, name_len) == 0) {
			size_t o = 0;
			for (size_t i = eq ? key_end + 1 : end; i < end; i++) {
				int c = (unsigned char)s[i];
				if (c == '+')
					c = ' ';
				else if (c == '%' && i + 2 < end && hexval(s[i + 1]) >= 0 && hexval(s[i + 2]) >= 0) {
					c = hexval(s[i + 1]) * 16 + hexval(s[i + 2]);
					i += 2;
				}
				if (o + 1 >= buflen)
					return -1;
				buf[o++] = (char)c;
			}
			buf[o] = '\0';
			return 1;
		}
		pos = end + 1;
	}
	return 0;
}

void web_set_cookie(struct web_response *resp, const char *name, const char *value, long max_age)
{
	if (resp->cookie_count == WEB_MAX_COOKIES)
		return;
	char age[32] = "";
	if (max_age >= 0)
		snprintf(age, sizeof age, "; Max-Age=%ld", max_age);
	snprintf(resp->cookies[resp->cookie_count++], sizeof resp->cookies[0],
		 "%s=%s; Path=/; HttpOnly; Secure; SameSite=Strict%s", name, value, age);
}

int web_random_token(char out[65])
{
	unsigned char raw[32];
	if (RAND_bytes(raw, sizeof raw) != 1)
		return -1;
	for (size_t i = 0; i < sizeof raw; i++)
		snprintf(out + 2 * i, 3, "%02x", raw[i]);
	return 0;
}

const char *web_time(int64_t t, char buf[32])
{
	time_t tt = (time_t)t;
	struct tm tm;
	if (t <= 0 || gmtime_r(&tt, &tm) == NULL || strftime(buf, 32, "%Y-%m-%d %H:%M UTC", &tm) == 0)
		snprintf(buf, 32, "-");
	return buf;
}

/* Whether tag (tag_len bytes) and want match: equal, or one is the other's primary subtag. */
static int lang_match(const char *tag, size_t tag_len, const char *want)
{
	size_t want_len = strlen(want);
	if (tag_len == want_len && strncasecmp(tag, want, tag_len) == 0)
		return 2;
	size_t tp = strcspn(want, "-");
	size_t ap = 0;
	while (ap < tag_len && tag[ap] != '-')
		ap++;
	return ap == tp && strncasecmp(tag, want, tp) == 0 ? 1 : 0;
}

const char *web_pick_language(const char *accept, const char *const *available, size_t n, const char *fallback)
{
	const char *best = NULL;
	int best_q = 0, best_match = 0;
	for (const char *p = accept; p != NULL && *p;) {
		while (*p == ' ' || *p == ',')
			p++;
		const char *tag = p;
		while (*p && *p != ';' && *p != ',' && *p != ' ')
			p++;
		size_t tag_len = (size_t)(p - tag);
		int q = 1000;
		while (*p == ' ')
			p++;
		if (*p == ';') {
			const char *qs = strstr(p, "q=");
			const char *comma = strchr(p, ',');
			if (qs != NULL && (comma == NULL || qs < comma)) {
				double v = strtod(qs + 2, NULL);
				q = v <= 0 ? 0 : v >= 1 ? 1000 : (int)(v * 1000 + 0.5);
			}
		}
		while (*p && *p != ',')
			p++;
		if (tag_len == 0 || q == 0)
			continue;
		for (size_t i = 0; i < n; i++) {
			int m = lang_match(tag, tag_len, available[i]);
			if (m > 0 && (q > best_q || (q == best_q && m > best_match))) {
				best = available[i];
				best_q = q;
				best_match = m;
			}
		}
	}
	return best ? best : fallback;
}
