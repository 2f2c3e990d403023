/*
 * The route table: method, path pattern, handler. A pattern is matched
 * segment by segment; "*" takes one non-empty segment (captured in order
 * into req->params). First match wins; a path that matches only under other
 * methods is a 405 naming them.
 */
#include <stdio.h>
#include <string.h>

#include "core/util.h"
#include "web/web.h"

static const struct route {
	const char *method;
	const char *pattern;
	web_handler handler;
} routes[] = {
    {"GET", "/", page_campaign},
    {"GET", "/static/style.css", page_style},
    {"GET", "/guides", page_guides_index},
    {"GET", "/guides/*", page_guide},
    {"GET", "/t/*/*", page_ticket},
    {"GET", "/t/*/*/unsubscribe", page_optout_form},
    {"POST", "/t/*/*/unsubscribe", page_optout},
    {"POST", "/t/*/*/check", page_ticket_check},
    {"GET", "/t/*/*/check/*", page_ticket_check_status},
    {"GET", "/check", page_check},
    {"POST", "/check", page_check_start},
    {"GET", "/check/*", page_check_status},
    {"GET", "/admin", page_admin},
    {"GET", "/admin/report", page_admin_report},
    {"POST", "/admin/login", page_admin_login},
    {"POST", "/admin/logout", page_admin_logout},
};

bool web_path_ok(const char *path)
{
	if (path == NULL || path[0] != '/' || strstr(path, "//") != NULL || strchr(path, '\\') != NULL)
		return false;
	for (const char *s = path; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return false;
	/* ".." or "." as a segment, however the client spelt the dots (MHD has decoded %2e) */
	for (const char *seg = path + 1; seg != NULL; seg = strchr(seg, '/') ? strchr(seg, '/') + 1 : NULL) {
		size_t n = strcspn(seg, "/");
		if ((n == 1 && seg[0] == '.') || (n == 2 && seg[0] == '.' && seg[1] == '.'))
			return false;
	}
	return true;
}

/* Whether path matches pattern; params captured into req when it does. */
static bool match(const char *pattern, const char *path, struct web_request *req)
{
	size_t count = 0;
	const char *p = pattern, *s = path;
	while (*p && *s) {
		if (*p == '*') {
			size_t n = strcspn(s, "/");
			if (n == 0 || n >= WEB_PARAM_MAX || count == WEB_MAX_PARAMS)
				return false;
			if (req != NULL) {
				memcpy(req->params[count], s, n);
				req->params[count][n] = '\0';
			}
			count++;
			s += n;
			p++;
			continue;
		}
		if (*p != *s)
			return false;
		p++, s++;
	}
	if (*p != '\0' || *s != '\0')
		return false;
	if (req != NULL)
		req->param_count = count;
	return true;
}

unsigned web_route(const char *method, const char *path, struct web_request *req, web_handler *handler,
		   const char **allow)
{
	bool other_method = false, get = false, post = false;
	for (size_t i = 0; i < ARRAY_SIZE(routes); i++) {
		if (!match(routes[i].pattern, path, NULL))
			continue;
		if (strcmp(routes[i].method, method) == 0) {
			match(routes[i].pattern, path, req);
			*handler = routes[i].handler;
			return 0;
		}
		other_method = true;
		get |= strcmp(routes[i].method, "GET") == 0;
		post |= strcmp(routes[i].method, "POST") == 0;
	}
	if (!other_method)
		return 404;
	*allow = get && post ? "GET, HEAD, POST" : get ? "GET, HEAD" : "POST";
	return 405;
}
