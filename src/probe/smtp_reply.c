#include "probe/smtp_reply.h"
#include "core/util.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

/* 1 to 3 digits at text[*pos] into *value; false when there are none or more. */
static bool status_number(const char *text, size_t len, size_t *pos, unsigned short *value)
{
	size_t start = *pos;
	unsigned v = 0;
	while (*pos < len && *pos - start < 4 && isdigit((unsigned char)text[*pos]))
		v = v * 10 + (unsigned)(text[(*pos)++] - '0');
	*value = (unsigned short)v;
	return *pos > start && *pos - start <= 3;
}

size_t smtp_status_parse(const char *text, size_t len, int code, struct smtp_status *out)
{
	*out = (struct smtp_status){0};
	/* The class repeats the reply's: "550 5.7.1", never "550 2.0.0" (a version, an address). */
	if (len < 5 || text[0] != '0' + code / 100 || text[1] != '.')
		return 0;
	size_t pos = 2;
	unsigned short subject, detail;
	if (!status_number(text, len, &pos, &subject) || pos >= len || text[pos++] != '.' ||
	    !status_number(text, len, &pos, &detail))
		return 0;
	if (pos < len && text[pos] != ' ' && text[pos] != '\r' && text[pos] != '\t')
		return 0; /* 4.7.1.2, 5.1.1x: not a status code */
	*out = (struct smtp_status){.class = (unsigned char)(code / 100), .subject = subject, .detail = detail};
	return pos;
}

const char *smtp_status_format(const struct smtp_status *status, char *out, size_t size)
{
	if (status->class == 0)
		snprintf(out, size, "%s", "");
	else
		snprintf(out, size, "%u.%u.%u", status->class, status->subject, status->detail);
	return out;
}

enum smtp_reply_status smtp_reply_parse(const char *buf, size_t len, struct smtp_reply *out)
{
	size_t pos = 0;
	int code = -1;
	*out = (struct smtp_reply){0};
	for (;;) {
		const char *line = buf + pos;
		size_t avail = len - pos;
		const char *nl = memchr(line, '\n', avail);
		size_t line_len = nl ? (size_t)(nl - line) : avail;
		if (line_len > SMTP_REPLY_MAX_LINE || pos + line_len > SMTP_REPLY_MAX)
			return SMTP_REPLY_TOO_LONG;
		/* Judge the first bytes early so junk fails fast, before a newline comes. */
		size_t check = line_len < 4 ? line_len : 4;
		for (size_t i = 0; i < check && i < 3; i++)
			if (!isdigit((unsigned char)line[i]))
				return SMTP_REPLY_MALFORMED;
		if (check >= 1 && (line[0] < '2' || line[0] > '5'))
			return SMTP_REPLY_MALFORMED;
		if (check == 4 && line[3] != ' ' && line[3] != '-' && line[3] != '\r')
			return SMTP_REPLY_MALFORMED;
		if (nl == NULL)
			return SMTP_REPLY_INCOMPLETE;
		if (line_len < 3 || (line_len > 3 && line[3] == '\r' && line_len != 4))
			return SMTP_REPLY_MALFORMED;
		int this_code = (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
		if (code >= 0 && this_code != code)
			return SMTP_REPLY_MALFORMED; /* continuation lines repeat the code */
		if (out->lines == SMTP_REPLY_MAX_LINES)
			return SMTP_REPLY_TOO_LONG;
		if (code < 0 && line_len > 4)
			smtp_status_parse(line + 4, line_len - 4, this_code, &out->status);
		code = this_code;
		out->lines++;
		out->last_line = pos;
		pos += line_len + 1;
		bool last = line_len == 3 || line[3] != '-';
		if (last) {
			out->code = code;
			out->consumed = pos;
			return SMTP_REPLY_COMPLETE;
		}
	}
}

bool smtp_reply_has_keyword(const char *reply, size_t len, const char *keyword)
{
	size_t klen = strlen(keyword);
	const char *p = reply, *end = reply + len;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *stop = nl ? nl : end;
		/* "250-KEYWORD params" or "250 KEYWORD" */
		if (stop - p >= 4 + (long)klen && strncasecmp(p + 4, keyword, klen) == 0) {
			char after = p + 4 + klen < stop ? p[4 + klen] : '\n';
			if (after == ' ' || after == '\r' || after == '\n' || after == '=')
				return true;
		}
		p = stop + 1;
	}
	return false;
}

#define RETRY_DELAY_MAX 86400.0

/* The unit word at p (up to end): seconds per unit, or 0 when it is none. */
static double delay_unit(const char *p, const char *end)
{
	static const struct {
		const char *word;
		double seconds;
	} units[] = {
		{"seconds", 1}, {"second", 1}, {"secs", 1}, {"sec", 1}, {"s", 1},
		{"minutes", 60}, {"minute", 60}, {"mins", 60}, {"min", 60}, {"m", 60},
	};
	size_t n = 0;
	while (p + n < end && isalpha((unsigned char)p[n]))
		n++;
	for (size_t i = 0; i < ARRAY_SIZE(units); i++)
		if (strlen(units[i].word) == n && strncasecmp(p, units[i].word, n) == 0)
			return units[i].seconds;
	return 0;
}

double smtp_reply_retry_delay(const char *reply, size_t len)
{
	const char *end = reply + len;
	/* Past the code of the first line: its digits are no delay. */
	for (const char *p = reply + (len > 4 ? 4 : len); p < end; p++) {
		if (!isdigit((unsigned char)*p) || isalnum((unsigned char)p[-1]) || p[-1] == '.')
			continue;
		double value = 0;
		const char *q = p;
		while (q < end && isdigit((unsigned char)*q) && value < RETRY_DELAY_MAX)
			value = value * 10 + (*q++ - '0');
		while (q < end && isdigit((unsigned char)*q))
			q++;
		if (q < end && *q == '.') { /* 4.7.1, 10.0.0.1: a code or an address */
			p = q;
			continue;
		}
		double unit = delay_unit(q < end && *q == ' ' ? q + 1 : q, end);
		if (unit > 0) {
			double seconds = value * unit;
			return seconds < RETRY_DELAY_MAX ? seconds : RETRY_DELAY_MAX;
		}
		p = q;
	}
	return -1;
}
