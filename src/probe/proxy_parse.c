#include "probe/proxy_parse.h"
#include "core/util.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

/* ---- HTTP ---- */

/* The end of the line starting at buf (past its LF), or NULL when it has none yet. */
static const char *line_end(const char *buf, size_t len)
{
	const char *lf = memchr(buf, '\n', len);
	return lf ? lf + 1 : NULL;
}

/* The length of a line without its CRLF or LF. */
static size_t line_length(const char *line, const char *end)
{
	size_t n = (size_t)(end - line);
	if (n > 0 && line[n - 1] == '\n')
		n--;
	if (n > 0 && line[n - 1] == '\r')
		n--;
	return n;
}

static enum proxy_parse status_line_parse(const char *line, size_t n, struct http_response *out)
{
	/* HTTP/d.d SP ddd [SP reason] */
	if (n < 12 || memcmp(line, "HTTP/", 5) != 0 || line[5] != '1' || line[6] != '.' ||
	    !isdigit((unsigned char)line[7]) || line[8] != ' ')
		return PROXY_PARSE_BAD;
	for (int i = 9; i < 12; i++)
		if (!isdigit((unsigned char)line[i]))
			return PROXY_PARSE_BAD;
	if (n > 12 && line[12] != ' ')
		return PROXY_PARSE_BAD;
	out->minor = line[7] - '0';
	out->code = (line[9] - '0') * 100 + (line[10] - '0') * 10 + (line[11] - '0');
	return out->code >= 100 && out->code <= 599 ? PROXY_PARSE_DONE : PROXY_PARSE_BAD;
}

enum proxy_parse http_response_parse(const char *buf, size_t len, struct http_response *out)
{
	static const char prefix[] = "HTTP/1.";
	/* Judge a binary or SMTP peer at once rather than waiting for a line end. */
	size_t check = len < sizeof prefix - 1 ? len : sizeof prefix - 1;
	if (memcmp(buf, prefix, check) != 0)
		return PROXY_PARSE_BAD;
	size_t limit = len < PROXY_READ_MAX ? len : PROXY_READ_MAX;
	const char *end = line_end(buf, limit);
	if (end == NULL)
		return len >= PROXY_READ_MAX ? PROXY_PARSE_TOO_LONG : PROXY_PARSE_MORE;
	enum proxy_parse rc = status_line_parse(buf, line_length(buf, end), out);
	if (rc != PROXY_PARSE_DONE)
		return rc;
	for (const char *line = end;;) {
		end = line_end(line, limit - (size_t)(line - buf));
		if (end == NULL)
			return len >= PROXY_READ_MAX ? PROXY_PARSE_TOO_LONG : PROXY_PARSE_MORE;
		if (line_length(line, end) == 0) {
			out->head_len = (size_t)(end - buf);
			return PROXY_PARSE_DONE;
		}
		line = end;
	}
}

bool http_header_value(const char *head, size_t len, const char *name, const char **value, size_t *vlen)
{
	size_t name_len = strlen(name);
	const char *end = line_end(head, len); /* skip the status line */
	for (const char *line = end; line != NULL && line < head + len; line = end) {
		end = line_end(line, len - (size_t)(line - head));
		size_t n = line_length(line, end ? end : head + len);
		if (n > name_len && line[name_len] == ':' && strncasecmp(line, name, name_len) == 0) {
			const char *v = line + name_len + 1, *stop = line + n;
			while (v < stop && (*v == ' ' || *v == '\t'))
				v++;
			while (stop > v && (stop[-1] == ' ' || stop[-1] == '\t'))
				stop--;
			*value = v;
			*vlen = (size_t)(stop - v);
			return true;
		}
	}
	return false;
}

/* ---- SOCKS ---- */

size_t socks4_request_build(uint8_t *out, size_t size, const struct addr *to, uint16_t port, const char *user,
			    bool by_name)
{
	char name[ADDR_STRLEN];
	size_t user_len = strlen(user), name_len = by_name ? strlen(addr_format(to, name)) + 1 : 0;
	size_t n = 8 + user_len + 1 + name_len;
	if (n > size || (!by_name && !addr_is_v4(to)))
		return 0;
	out[0] = 4;
	out[1] = 1; /* CONNECT */
	out[2] = (uint8_t)(port >> 8);
	out[3] = (uint8_t)port;
	if (by_name) /* SOCKS4a: 0.0.0.x, x != 0, says "the name follows" */
		memcpy(out + 4, "\0\0\0\1", 4);
	else
		memcpy(out + 4, to->bytes + 12, 4);
	memcpy(out + 8, user, user_len + 1);
	if (by_name)
		memcpy(out + 8 + user_len + 1, name, name_len);
	return n;
}

size_t socks5_request_build(uint8_t *out, size_t size, const struct addr *to, uint16_t port, bool by_name)
{
	char name[ADDR_STRLEN];
	size_t n = 4;
	if (size < 4 + 1 + sizeof name + 2)
		return 0;
	out[0] = 5;
	out[1] = 1; /* CONNECT */
	out[2] = 0;
	if (by_name) {
		size_t len = strlen(addr_format(to, name));
		out[3] = 3;
		out[n++] = (uint8_t)len;
		memcpy(out + n, name, len);
		n += len;
	} else if (addr_is_v4(to)) {
		out[3] = 1;
		memcpy(out + n, to->bytes + 12, 4);
		n += 4;
	} else {
		out[3] = 4;
		memcpy(out + n, to->bytes, 16);
		n += 16;
	}
	out[n++] = (uint8_t)(port >> 8);
	out[n++] = (uint8_t)port;
	return n;
}

enum proxy_parse socks4_reply_parse(const uint8_t *buf, size_t len, uint8_t *code)
{
	/* The version byte is 0 by the protocol; some servers echo 4. */
	if (len >= 1 && buf[0] != 0 && buf[0] != 4)
		return PROXY_PARSE_BAD;
	if (len >= 2 && (buf[1] < 90 || buf[1] > 93))
		return PROXY_PARSE_BAD;
	if (len < 8)
		return PROXY_PARSE_MORE;
	*code = buf[1];
	return PROXY_PARSE_DONE;
}

enum proxy_parse socks5_method_parse(const uint8_t *buf, size_t len, uint8_t *method)
{
	if (len >= 1 && buf[0] != 5)
		return PROXY_PARSE_BAD;
	if (len < 2)
		return PROXY_PARSE_MORE;
	*method = buf[1];
	return PROXY_PARSE_DONE;
}

enum proxy_parse socks5_reply_parse(const uint8_t *buf, size_t len, uint8_t *code, size_t *consumed)
{
	if (len >= 1 && buf[0] != 5)
		return PROXY_PARSE_BAD;
	if (len < 4)
		return PROXY_PARSE_MORE;
	size_t addr_len;
	switch (buf[3]) {
	case 1:
		addr_len = 4;
		break;
	case 4:
		addr_len = 16;
		break;
	case 3:
		if (len < 5)
			return PROXY_PARSE_MORE;
		addr_len = 1 + (size_t)buf[4];
		break;
	default:
		return PROXY_PARSE_BAD;
	}
	if (len < 4 + addr_len + 2)
		return PROXY_PARSE_MORE;
	*code = buf[1];
	*consumed = 4 + addr_len + 2;
	return PROXY_PARSE_DONE;
}

const char *socks4_reply_name(uint8_t code)
{
	switch (code) {
	case 90:
		return "granted";
	case 91:
		return "rejected or failed";
	case 92:
		return "rejected: no identd";
	case 93:
		return "rejected: identd mismatch";
	default:
		return "unknown";
	}
}

const char *socks5_reply_name(uint8_t code)
{
	static const char *const names[] = {
	    "succeeded",	   "general failure",	    "not allowed by ruleset",
	    "network unreachable", "host unreachable",	    "connection refused",
	    "TTL expired",	   "command not supported", "address type not supported",
	};
	return code < ARRAY_SIZE(names) ? names[code] : "unknown";
}

/* ---- telnet-style gateways ---- */

const char *const gateway_prompt_names[GATEWAY_PROMPT_LAST] = {
    [GATEWAY_PROMPT_NONE] = "none",	    [GATEWAY_PROMPT_HOST] = "host",
    [GATEWAY_PROMPT_PASSWORD] = "password", [GATEWAY_PROMPT_ACCOUNT] = "account",
    [GATEWAY_PROMPT_EXEC] = "exec",
};

enum { IAC = 255, SB = 250, SE = 240, WILL = 251, DONT = 254 };

size_t telnet_strip(const uint8_t *in, size_t len, uint8_t *out, size_t *consumed)
{
	size_t i = 0, n = 0;
	while (i < len) {
		if (in[i] != IAC) {
			out[n++] = in[i++];
			continue;
		}
		if (i + 1 >= len)
			break;
		uint8_t command = in[i + 1];
		if (command == IAC) { /* an escaped 255 */
			out[n++] = IAC;
			i += 2;
		} else if (command >= WILL && command <= DONT) {
			if (i + 2 >= len)
				break;
			i += 3;
		} else if (command == SB) { /* up to IAC SE */
			size_t j = i + 2;
			while (j + 1 < len && !(in[j] == IAC && in[j + 1] == SE))
				j++;
			if (j + 1 >= len)
				break;
			i = j + 2;
		} else {
			i += 2;
		}
	}
	*consumed = i;
	return n;
}

/* Whether text, trimmed of trailing blanks, ends with suffix (case-insensitive). */
static bool ends_with(const char *text, size_t len, const char *suffix)
{
	size_t n = strlen(suffix);
	return len >= n && strncasecmp(text + len - n, suffix, n) == 0;
}

static bool contains(const char *text, size_t len, const char *needle)
{
	size_t n = strlen(needle);
	for (size_t i = 0; i + n <= len; i++)
		if (strncasecmp(text + i, needle, n) == 0)
			return true;
	return false;
}

enum gateway_prompt gateway_prompt_classify(const char *prompt, size_t len)
{
	while (len > 0 && (prompt[len - 1] == ' ' || prompt[len - 1] == '\t'))
		len--;
	while (len > 0 && (prompt[0] == ' ' || prompt[0] == '\t'))
		prompt++, len--;
	if (len == 0 || len > 80)
		return GATEWAY_PROMPT_NONE;
	if (ends_with(prompt, len, "password:"))
		return GATEWAY_PROMPT_PASSWORD;
	if (ends_with(prompt, len, "username:") || ends_with(prompt, len, "login:") ||
	    ends_with(prompt, len, "user:"))
		return GATEWAY_PROMPT_ACCOUNT;
	if (contains(prompt, len, "wingate") || ((contains(prompt, len, "host") && prompt[len - 1] == ':')))
		return prompt[len - 1] == '>' || prompt[len - 1] == ':' ? GATEWAY_PROMPT_HOST
									: GATEWAY_PROMPT_NONE;
	/* "Router>", "gw#": one word and the prompt character */
	if ((prompt[len - 1] == '>' || prompt[len - 1] == '#') && memchr(prompt, ' ', len) == NULL)
		return GATEWAY_PROMPT_EXEC;
	return GATEWAY_PROMPT_NONE;
}

bool gateway_line_refuses(const char *line, size_t len)
{
	static const char *const words[] = {
	    "refused",	 "denied",	"failed",   "unable", "invalid",      "bad password", "unreachable",
	    "timed out", "not allowed", "too many", "error",  "unknown host", "closed",
	};
	if (len > 0 && line[0] == '%') /* Cisco IOS marks every error so */
		return true;
	for (size_t i = 0; i < ARRAY_SIZE(words); i++)
		if (contains(line, len, words[i]))
			return true;
	return false;
}

bool gateway_text_plausible(const uint8_t *buf, size_t len)
{
	size_t odd = 0;
	for (size_t i = 0; i < len; i++) {
		uint8_t c = buf[i];
		/* control characters a terminal uses; bytes above 0x7e may be UTF-8 now and then */
		if ((c < 0x20 && c != '\r' && c != '\n' && c != '\t' && c != '\b' && c != '\a' && c != 0 &&
		     c != 0x1b) ||
		    c >= 0x7f)
			odd++;
	}
	return odd * 8 <= len;
}

/* ---- the sink's TCP target ---- */

bool target_nonce_find(const char *text, size_t len, char nonce[TARGET_NONCE_MAX + 1])
{
	static const char marker[] = "plughole-target ";
	size_t m = sizeof marker - 1;
	for (size_t i = 0; i + m <= len; i++) {
		if (memcmp(text + i, marker, m) != 0)
			continue;
		size_t n = 0;
		while (i + m + n < len && n < TARGET_NONCE_MAX && isxdigit((unsigned char)text[i + m + n]))
			n++;
		/* a nonce ends at a blank or line end: one cut short by the buffer's end is no nonce */
		if (n >= 16 && i + m + n < len &&
		    (text[i + m + n] == ' ' || text[i + m + n] == '\r' || text[i + m + n] == '\n')) {
			memcpy(nonce, text + i + m, n);
			nonce[n] = '\0';
			return true;
		}
	}
	return false;
}
