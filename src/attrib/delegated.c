#include "attrib/delegated.h"

#include <string.h>

const char *const delegated_type_names[DELEGATED_TYPE_LAST] = {
    [DELEGATED_IPV4] = "ipv4", [DELEGATED_IPV6] = "ipv6", [DELEGATED_ASN] = "asn"};

#define MAX_FIELDS 10

struct field {
	const char *s;
	size_t len;
};

static bool field_is(const struct field *f, const char *text)
{
	return f->len == strlen(text) && memcmp(f->s, text, f->len) == 0;
}

static int copy_field(const struct field *f, char *out, size_t outlen)
{
	if (f->len >= outlen)
		return -1;
	memcpy(out, f->s, f->len);
	out[f->len] = '\0';
	return 0;
}

static int parse_u64(const struct field *f, uint64_t max, uint64_t *out)
{
	uint64_t value = 0;
	if (f->len == 0 || f->len > 20)
		return -1;
	for (size_t i = 0; i < f->len; i++) {
		if (f->s[i] < '0' || f->s[i] > '9')
			return -1;
		uint64_t digit = (uint64_t)(f->s[i] - '0');
		if (value > (max - digit) / 10)
			return -1;
		value = value * 10 + digit;
	}
	*out = value;
	return 0;
}

static bool is_version_line(const struct field *first)
{
	for (size_t i = 0; i < first->len; i++)
		if ((first->s[i] < '0' || first->s[i] > '9') && first->s[i] != '.')
			return false;
	return first->len > 0;
}

int delegated_parse_line(const char *line, size_t len, struct delegated_record *out, const char **why)
{
	struct field fields[MAX_FIELDS];
	size_t count = 0;
	while (len > 0 && (line[len - 1] == '\r' || line[len - 1] == ' '))
		len--;
	if (len == 0 || line[0] == '#')
		return 0;
	for (const char *p = line, *end = line + len;;) {
		const char *bar = memchr(p, '|', (size_t)(end - p));
		if (count == MAX_FIELDS) {
			*why = "too many fields";
			return -1;
		}
		fields[count++] = (struct field){p, (size_t)((bar ? bar : end) - p)};
		if (bar == NULL)
			break;
		p = bar + 1;
	}
	if (is_version_line(&fields[0]))
		return 0;
	if (count >= 2 && field_is(&fields[1], "*"))
		return 0; /* registry|*|type|*|count|summary */
	if (count < 7) {
		*why = "fewer than 7 '|'-separated fields";
		return -1;
	}
	if (field_is(&fields[6], "available") || field_is(&fields[6], "reserved"))
		return 0;
	memset(out, 0, sizeof *out);
	int type = -1;
	for (int t = 0; t < DELEGATED_TYPE_LAST; t++)
		if (field_is(&fields[2], delegated_type_names[t]))
			type = t;
	if (type < 0) {
		*why = "type is not ipv4, ipv6 or asn";
		return -1;
	}
	out->type = (enum delegated_type)type;
	if (copy_field(&fields[0], out->registry, sizeof out->registry) != 0 || fields[0].len == 0) {
		*why = "bad registry";
		return -1;
	}
	if (fields[1].len != 0 && fields[1].len != 2) {
		*why = "country is not a two-letter code";
		return -1;
	}
	if (fields[1].len == 2 && !field_is(&fields[1], "ZZ"))
		copy_field(&fields[1], out->cc, sizeof out->cc);
	if (fields[5].len != 0 && copy_field(&fields[5], out->date, sizeof out->date) != 0) {
		*why = "bad date";
		return -1;
	}
	if (copy_field(&fields[6], out->status, sizeof out->status) != 0) {
		*why = "bad status";
		return -1;
	}
	if (count >= 8 && copy_field(&fields[7], out->opaque_id, sizeof out->opaque_id) != 0) {
		*why = "opaque-id too long";
		return -1;
	}
	uint64_t value;
	switch (out->type) {
	case DELEGATED_IPV4: {
		struct addr start;
		if (addr_parse(fields[3].s, fields[3].len, &start) != 0 || !addr_is_v4(&start)) {
			*why = "start is not an IPv4 address";
			return -1;
		}
		uint64_t first = addr_v4(&start);
		if (parse_u64(&fields[4], 1ull << 32, &value) != 0 || value == 0 ||
		    first + value - 1 > UINT32_MAX) {
			*why = "bad IPv4 address count";
			return -1;
		}
		out->range.first = start;
		addr_from_v4(&out->range.last, (uint32_t)(first + value - 1));
		break;
	}
	case DELEGATED_IPV6: {
		struct addr start;
		if (addr_parse(fields[3].s, fields[3].len, &start) != 0 || addr_is_v4(&start)) {
			*why = "start is not an IPv6 address";
			return -1;
		}
		if (parse_u64(&fields[4], 128, &value) != 0 ||
		    range_from_prefix(&out->range, &start, (int)value) != 0) {
			*why = "bad IPv6 prefix length";
			return -1;
		}
		break;
	}
	default: {
		uint64_t first;
		if (parse_u64(&fields[3], UINT32_MAX, &first) != 0 ||
		    parse_u64(&fields[4], UINT32_MAX, &value) != 0 || value == 0 ||
		    first + value - 1 > UINT32_MAX) {
			*why = "bad AS number or count";
			return -1;
		}
		out->asn_first = (uint32_t)first;
		out->asn_count = (uint32_t)value;
		break;
	}
	}
	return 1;
}
