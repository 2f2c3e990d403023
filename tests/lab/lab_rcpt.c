/* MAIL/RCPT paths and recipient routing, as pure functions over strings. */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "lab_smtp.h"

const char *const lab_route_names[LAB_ROUTE_LAST] = {
    [LAB_ROUTE_LOCAL] = "local",	[LAB_ROUTE_PLAIN] = "plain",
    [LAB_ROUTE_LITERAL] = "ip-literal", [LAB_ROUTE_PERCENT] = "percent-hack",
    [LAB_ROUTE_BANG] = "bang-path",	[LAB_ROUTE_SOURCE] = "source-route",
    [LAB_ROUTE_QUOTED] = "quoted",	[LAB_ROUTE_DOUBLE_AT] = "double-at",
};

static bool path_byte_ok(unsigned char c)
{
	return c >= 0x20 && c != 0x7f;
}

int lab_path_parse(const char *arg, size_t len, const char *prefix, char out[LAB_PATH_MAX])
{
	size_t plen = strlen(prefix), i, start, end;
	bool quoted = false;
	if (len < plen || strncasecmp(arg, prefix, plen) != 0)
		return -1;
	i = plen;
	while (i < len && arg[i] == ' ')
		i++;
	if (i < len && arg[i] == '<') {
		start = ++i;
		for (; i < len; i++) {
			if (quoted && arg[i] == '\\' && i + 1 < len)
				i++;
			else if (arg[i] == '"')
				quoted = !quoted;
			else if (!quoted && arg[i] == '>')
				break;
		}
		if (i == len)
			return -1;
		end = i++;
		if (i < len && arg[i] != ' ')
			return -1; /* "<a@b>junk" */
	} else {
		/* Old clients send "MAIL FROM:a@b"; the path then ends at a space. */
		start = i;
		for (; i < len && (quoted || arg[i] != ' '); i++) {
			if (quoted && arg[i] == '\\' && i + 1 < len)
				i++;
			else if (arg[i] == '"')
				quoted = !quoted;
		}
		end = i;
		if (start == end)
			return -1;
	}
	if (end - start >= LAB_PATH_MAX)
		return -1;
	for (size_t k = start; k < end; k++)
		if (!path_byte_ok((unsigned char)arg[k]))
			return -1;
	memcpy(out, arg + start, end - start);
	out[end - start] = '\0';
	return 0;
}

const char *lab_host_domain(uint32_t host, char buf[40])
{
	char ip[16];
	snprintf(buf, 40, "%s.lab.test", lab_ip(host, ip));
	return buf;
}

static bool domain_is_local(const char *domain, size_t len, uint32_t host)
{
	char own[40], literal[24], ip[16];
	lab_host_domain(host, own);
	snprintf(literal, sizeof literal, "[%s]", lab_ip(host, ip));
	return (len == strlen(own) && strncasecmp(domain, own, len) == 0) ||
	       (len == strlen(literal) && strncmp(domain, literal, len) == 0);
}

/* Position of the last '@' outside double quotes, or -1. */
static long last_unquoted_at(const char *s, size_t len)
{
	bool quoted = false;
	long at = -1;
	for (size_t i = 0; i < len; i++) {
		if (quoted && s[i] == '\\' && i + 1 < len)
			i++;
		else if (s[i] == '"')
			quoted = !quoted;
		else if (!quoted && s[i] == '@')
			at = (long)i;
	}
	return at;
}

/* "user@dom" from the two halves; -1 if either is empty or it does not fit. */
static int join_address(const char *user, size_t ulen, const char *dom, size_t dlen, char out[LAB_PATH_MAX])
{
	if (ulen == 0 || dlen == 0 || ulen + dlen + 2 > LAB_PATH_MAX)
		return -1;
	snprintf(out, LAB_PATH_MAX, "%.*s@%.*s", (int)ulen, user, (int)dlen, dom);
	return 0;
}

/* An address that, once rewritten, names the host itself is local mail. */
static enum lab_route settle(enum lab_route route, const char *out, uint32_t host)
{
	long at = last_unquoted_at(out, strlen(out));
	if (at >= 0 && domain_is_local(out + at + 1, strlen(out + at + 1), host))
		return LAB_ROUTE_LOCAL;
	return route;
}

/* The routing forms inside a local part addressed to the host itself. */
static int resolve_local_part(const char *local, size_t len, bool quoted, const char *whole, uint32_t host,
			      char out[LAB_PATH_MAX])
{
	const char *percent = NULL, *bang = memchr(local, '!', len);
	long at = last_unquoted_at(local, len);
	for (size_t i = 0; i < len; i++)
		if (local[i] == '%')
			percent = local + i; /* the rightmost one routes, as in sendmail */
	if (at >= 0 || (quoted && memchr(local, '@', len) != NULL)) {
		if (at < 0)
			at = (long)((const char *)memchr(local, '@', len) - local);
		if (join_address(local, (size_t)at, local + at + 1, len - (size_t)at - 1, out) != 0)
			return -1;
		return settle(quoted ? LAB_ROUTE_QUOTED : LAB_ROUTE_DOUBLE_AT, out, host);
	}
	if (percent != NULL) {
		size_t u = (size_t)(percent - local);
		if (join_address(local, u, percent + 1, len - u - 1, out) != 0)
			return -1;
		return settle(LAB_ROUTE_PERCENT, out, host);
	}
	if (bang != NULL) {
		size_t d = (size_t)(bang - local);
		if (join_address(bang + 1, len - d - 1, local, d, out) != 0)
			return -1;
		return settle(LAB_ROUTE_BANG, out, host);
	}
	snprintf(out, LAB_PATH_MAX, "%s", whole);
	return LAB_ROUTE_LOCAL;
}

static int resolve_mailbox(const char *box, uint32_t host, char out[LAB_PATH_MAX])
{
	size_t len = strlen(box), llen;
	long at = last_unquoted_at(box, len);
	const char *domain = NULL;
	char local[LAB_PATH_MAX];
	bool quoted = false;
	size_t dlen = 0;
	if (at == 0 || len == 0)
		return -1;
	llen = at < 0 ? len : (size_t)at;
	if (at >= 0) {
		domain = box + at + 1;
		dlen = len - (size_t)at - 1;
		if (dlen == 0)
			return -1;
	}
	if (llen >= 2 && box[0] == '"' && box[llen - 1] == '"') {
		size_t n = 0;
		for (size_t i = 1; i + 1 < llen; i++) {
			if (box[i] == '\\' && i + 2 < llen)
				i++;
			local[n++] = box[i];
		}
		if (n == 0)
			return -1;
		local[n] = '\0';
		llen = n;
		quoted = true;
	} else {
		memcpy(local, box, llen);
		local[llen] = '\0';
	}
	if (domain == NULL || domain_is_local(domain, dlen, host))
		return resolve_local_part(local, llen, quoted, box, host, out);
	snprintf(out, LAB_PATH_MAX, "%s", box);
	return domain[0] == '[' ? LAB_ROUTE_LITERAL : LAB_ROUTE_PLAIN;
}

const char *lab_strict_path_error(const char *path, bool sender)
{
	const char *box = path;
	if (sender && path[0] == '\0')
		return NULL;
	if (strchr(path, '[') != NULL)
		return "domain literals not allowed";
	if (path[0] == '@' && strchr(path, ':') != NULL)
		box = strchr(path, ':') + 1; /* a source route: the mailbox after it */
	long at = last_unquoted_at(box, strlen(box));
	if (at <= 0 || box[at + 1] == '\0')
		return sender ? "sender address must contain a domain" : "recipient address must contain a domain";
	return NULL;
}

int lab_route_resolve(const char *path, uint32_t host, char out[LAB_PATH_MAX])
{
	const char *colon;
	int route;
	if (path[0] != '@')
		return resolve_mailbox(path, host, out);
	/* <@hop1,@hop2:mailbox>: RFC 5321 says ignore the route, and so do we. */
	colon = strchr(path, ':');
	if (colon == NULL || colon == path + 1 || colon[1] == '@')
		return -1;
	route = resolve_mailbox(colon + 1, host, out);
	if (route < 0 || route == LAB_ROUTE_LOCAL)
		return route;
	return LAB_ROUTE_SOURCE;
}
