#include "attrib/asnames.h"

#include <stdbool.h>
#include <string.h>

int asn_parse(const char *s, size_t len, uint32_t *out)
{
	if (len >= 2 && (s[0] == 'A' || s[0] == 'a') && (s[1] == 'S' || s[1] == 's'))
		s += 2, len -= 2;
	uint64_t value = 0, high = 0;
	bool dotted = false;
	if (len == 0 || len > 11)
		return -1;
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '.' && !dotted && i > 0 && i + 1 < len) {
			dotted = true; /* asdot: HIGH.LOW */
			high = value;
			value = 0;
			continue;
		}
		if (s[i] < '0' || s[i] > '9')
			return -1;
		value = value * 10 + (uint64_t)(s[i] - '0');
		if (value > UINT32_MAX)
			return -1;
	}
	if (dotted) {
		if (high > 0xffff || value > 0xffff)
			return -1;
		value = high << 16 | value;
	}
	*out = (uint32_t)value;
	return 0;
}

int asnames_parse_line(const char *line, size_t len, struct asname_record *out, const char **why)
{
	const char *p = line, *end = line + len;
	while (end > p && (end[-1] == '\r' || end[-1] == ' ' || end[-1] == '\t'))
		end--;
	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	if (p == end || *p == '#')
		return 0;
	const char *number = p;
	while (p < end && *p != ' ' && *p != '\t')
		p++;
	if (asn_parse(number, (size_t)(p - number), &out->asn) != 0) {
		*why = "line does not start with an AS number";
		return -1;
	}
	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	if (p == end) {
		*why = "AS number without a name";
		return -1;
	}
	out->cc[0] = '\0';
	if (end - p >= 4 && end[-4] == ',' && end[-3] == ' ' && end[-2] >= 'A' && end[-2] <= 'Z' &&
	    end[-1] >= 'A' && end[-1] <= 'Z') {
		out->cc[0] = end[-2];
		out->cc[1] = end[-1];
		out->cc[2] = '\0';
		end -= 4;
	}
	out->name = p;
	out->name_len = (size_t)(end - p);
	return 1;
}
