#include "sink/smtp_parse.h"

#include <string.h>
#include <strings.h>

void sink_smtp_command_split(const char *line, size_t len, struct sink_smtp_command *out)
{
	size_t i = 0;
	while (i < len && line[i] != ' ')
		i++;
	out->verb = line;
	out->verb_len = i;
	while (i < len && line[i] == ' ')
		i++;
	while (len > i && line[len - 1] == ' ')
		len--;
	out->args = line + i;
	out->args_len = len - i;
}

static bool starts_with_word(const char *s, size_t len, const char *word)
{
	size_t n = strlen(word);
	return len >= n && strncasecmp(s, word, n) == 0;
}

/* The end of a bracketed path starting at s[i] == '<': the index of its '>', or len. */
static size_t bracket_end(const char *s, size_t len, size_t i)
{
	bool quoted = false;
	for (i++; i < len; i++) {
		if (quoted && s[i] == '\\' && i + 1 < len)
			i++;
		else if (s[i] == '"')
			quoted = !quoted;
		else if (s[i] == '>' && !quoted)
			return i;
	}
	return len;
}

/* SIZE=digits; -1 when empty, not digits, or beyond 64 bits. */
static int parse_size(const char *s, size_t len, uint64_t *out)
{
	uint64_t n = 0;
	if (len == 0 || len > 20)
		return -1;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		uint64_t digit = (uint64_t)(s[i] - '0');
		if (n > (UINT64_MAX - digit) / 10)
			return -1;
		n = n * 10 + digit;
	}
	*out = n;
	return 0;
}

static int parse_mail_parameter(const char *p, size_t len, struct sink_smtp_path *out, const char **reply)
{
	if (starts_with_word(p, len, "SIZE=")) {
		if (parse_size(p + 5, len - 5, &out->size) != 0) {
			*reply = "501 5.5.4 Bad SIZE parameter";
			return -1;
		}
		out->has_size = true;
		return 0;
	}
	if ((len == 9 && strncasecmp(p, "BODY=7BIT", 9) == 0) ||
	    (len == 13 && strncasecmp(p, "BODY=8BITMIME", 13) == 0))
		return 0;
	*reply = "555 5.5.4 Unsupported parameter";
	return -1;
}

int sink_smtp_path_parse(const char *args, size_t len, enum sink_smtp_path_kind kind,
			 struct sink_smtp_path *out, const char **reply)
{
	const char *keyword = kind == SINK_SMTP_PATH_MAIL ? "FROM:" : "TO:";
	const char *syntax = kind == SINK_SMTP_PATH_MAIL ? "501 5.5.4 Syntax: MAIL FROM:<address>"
							 : "501 5.5.4 Syntax: RCPT TO:<address>";
	size_t i = strlen(keyword), start, end;
	memset(out, 0, sizeof *out);
	*reply = syntax;
	if (!starts_with_word(args, len, keyword))
		return -1;
	while (i < len && args[i] == ' ') /* "FROM: <a@b>" is common enough to accept */
		i++;
	if (i < len && args[i] == '<') {
		start = i + 1;
		end = bracket_end(args, len, i);
		if (end == len)
			return -1;
		i = end + 1;
	} else {
		start = i;
		while (i < len && args[i] != ' ')
			i++;
		end = i;
		if (start == end)
			return -1;
	}
	if (start < end && args[start] == '@') {
		const char *colon = memchr(args + start, ':', end - start);
		if (colon == NULL)
			return -1;
		start = (size_t)(colon - args) + 1;
	}
	if (end - start > SINK_SMTP_PATH_MAX) {
		*reply = "501 5.1.3 Address too long";
		return -1;
	}
	for (size_t j = start; j < end; j++) {
		if ((unsigned char)args[j] < 0x20 || (unsigned char)args[j] >= 0x7f) {
			*reply = "501 5.1.3 Bad address syntax";
			return -1;
		}
	}
	if (end == start && kind == SINK_SMTP_PATH_RCPT) {
		*reply = "501 5.1.3 Empty recipient";
		return -1;
	}
	memcpy(out->address, args + start, end - start);
	out->address[end - start] = '\0';
	while (i < len) {
		if (args[i] != ' ')
			return -1;
		while (i < len && args[i] == ' ')
			i++;
		size_t p = i;
		while (i < len && args[i] != ' ')
			i++;
		if (p == i)
			break;
		if (kind == SINK_SMTP_PATH_RCPT) {
			*reply = "555 5.5.4 Unsupported parameter";
			return -1;
		}
		if (parse_mail_parameter(args + p, i - p, out, reply) != 0)
			return -1;
	}
	*reply = NULL;
	return 0;
}

static bool literal_is_listener(const char *lit, size_t len, const struct addr *listener)
{
	struct addr a;
	bool v6 = len >= 5 && strncasecmp(lit, "IPv6:", 5) == 0;
	if (v6) {
		lit += 5;
		len -= 5;
	}
	if (listener == NULL || addr_parse(lit, len, &a) != 0 || addr_is_v4(&a) == v6)
		return false;
	return addr_cmp(&a, listener) == 0;
}

bool sink_smtp_rcpt_is_ours(const char *address, const char *domain, const struct addr *listener)
{
	const char *at = strrchr(address, '@');
	if (at == NULL)
		return strcasecmp(address, "postmaster") == 0;
	const char *host = at + 1;
	size_t host_len = strlen(host), domain_len = strlen(domain);
	if (host_len >= 2 && host[0] == '[' && host[host_len - 1] == ']')
		return literal_is_listener(host + 1, host_len - 2, listener);
	if (host_len > 0 && host[host_len - 1] == '.')
		host_len--;
	if (host_len == domain_len)
		return strncasecmp(host, domain, domain_len) == 0;
	return host_len > domain_len && host[host_len - domain_len - 1] == '.' &&
	       strncasecmp(host + host_len - domain_len, domain, domain_len) == 0;
}

bool sink_smtp_helo_valid(const char *arg, size_t len)
{
	if (len == 0 || len > 255)
		return false;
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)arg[i] < 0x20 || (unsigned char)arg[i] >= 0x7f)
			return false;
	return true;
}
