#include "attrib/pfx2as.h"

#include <string.h>

#include "attrib/asnames.h"

int pfx2as_parse_line(const char *line, size_t len, struct pfx2as_record *out, const char **why)
{
	const char *end = line + len;
	while (end > line && (end[-1] == '\r' || end[-1] == ' '))
		end--;
	if (end == line || line[0] == '#')
		return 0;
	const char *tab1 = memchr(line, '\t', (size_t)(end - line));
	const char *tab2 = tab1 ? memchr(tab1 + 1, '\t', (size_t)(end - tab1 - 1)) : NULL;
	if (tab2 == NULL) {
		*why = "not prefix<TAB>length<TAB>origin";
		return -1;
	}
	struct addr base;
	if (addr_parse(line, (size_t)(tab1 - line), &base) != 0) {
		*why = "bad prefix";
		return -1;
	}
	int length = 0;
	size_t digits = (size_t)(tab2 - tab1 - 1);
	for (const char *p = tab1 + 1; p < tab2; p++) {
		if (*p < '0' || *p > '9' || digits > 3) {
			*why = "bad prefix length";
			return -1;
		}
		length = length * 10 + (*p - '0');
	}
	if (digits == 0 || range_from_prefix(&out->range, &base, length) != 0) {
		*why = "bad prefix length";
		return -1;
	}
	out->count = 0;
	out->text = tab2 + 1;
	out->text_len = (size_t)(end - tab2 - 1);
	for (const char *p = out->text; p < end;) {
		const char *q = p;
		while (q < end && *q != '_' && *q != ',')
			q++;
		uint32_t asn;
		if (asn_parse(p, (size_t)(q - p), &asn) != 0) {
			*why = "bad origin AS";
			return -1;
		}
		if (out->count < PFX2AS_MAX_ORIGINS)
			out->origins[out->count++] = asn;
		p = q < end ? q + 1 : end;
		if (q + 1 == end) {
			*why = "origin ends with a separator";
			return -1;
		}
	}
	if (out->count == 0) {
		*why = "no origin AS";
		return -1;
	}
	return 1;
}
