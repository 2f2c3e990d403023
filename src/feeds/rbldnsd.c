/*
 * rbldnsd ip4set / ip4tset zone data, the format of DNSBL dumps such as the
 * old ORDB and open-proxy lists:
 *
 *   $TTL 3600                     directives
 *   :127.0.0.2:Open relay         the default value and text
 *   1.2.3.4                       one address
 *   1.2.3  or 1.2.3.0/24          a /24 (fewer octets: a shorter prefix)
 *   1.2.3.4-10  1.2.3-5           ranges in the last given octet
 *   1.2.3.4 :127.0.0.3:text       an entry with its own value
 *   !1.2.3.5                      an exclusion from listed ranges
 *   # or ; comments
 *
 * IPv6 entries (ip6trie style: ADDRESS or CIDR) are accepted too.
 */
#include <string.h>

#include "feeds/feed.h"

static int read_octet(const char **p, const char *end, unsigned *value)
{
	unsigned v = 0, digits = 0;
	while (*p < end && **p >= '0' && **p <= '9' && digits < 4) {
		v = v * 10 + (unsigned)(**p - '0');
		(*p)++;
		digits++;
	}
	if (digits == 0 || digits > 3 || v > 255)
		return -1;
	*value = v;
	return 0;
}

/* "a[.b[.c[.d]]]" with optional "/len" or "-x" applying to the last octet given. */
static int parse_ip4_entry(const char *s, size_t len, struct range *out, const char **why)
{
	const char *p = s, *end = s + len;
	uint32_t value = 0;
	int octets = 0;
	unsigned octet;
	while (octets < 4) {
		if (read_octet(&p, end, &octet) != 0) {
			*why = "bad IPv4 octet";
			return -1;
		}
		value = value << 8 | octet;
		octets++;
		if (p < end && *p == '.' && octets < 4)
			p++;
		else
			break;
	}
	uint32_t first = value << (8 * (4 - octets));
	uint32_t span = octets == 4 ? 0 : (uint32_t)((1ull << (8 * (4 - octets))) - 1);
	uint32_t last = first | span;
	if (p < end && *p == '/') {
		struct addr base;
		addr_from_v4(&base, first);
		int prefix = 0, digits = 0;
		for (p++; p < end && *p >= '0' && *p <= '9' && digits < 3; p++, digits++)
			prefix = prefix * 10 + (*p - '0');
		if (p != end || digits == 0 || range_from_prefix(out, &base, prefix) != 0) {
			*why = "bad prefix length";
			return -1;
		}
		return 0;
	} else if (p < end && *p == '-') {
		p++;
		if (read_octet(&p, end, &octet) != 0 || p != end) {
			*why = "bad range end";
			return -1;
		}
		int shift = 8 * (4 - octets);
		uint32_t low = (first >> shift) & 0xff;
		if (octet < low) {
			*why = "range ends before it starts";
			return -1;
		}
		last = (((first >> shift) & ~0xffu) | octet) << shift | span;
	}
	if (p != end) {
		*why = "not an rbldnsd IPv4 entry";
		return -1;
	}
	addr_from_v4(&out->first, first);
	addr_from_v4(&out->last, last);
	return 0;
}

static int rbldnsd_parse_line(struct feed_state *state, const char *line, size_t len,
			      struct feed_item items[FEED_MAX_ITEMS], const char **why)
{
	const char *p = feed_skip_space(line, line + len);
	const char *end = line + feed_trim(line, len);
	if (p >= end || *p == '#' || *p == ';' || *p == '$' || *p == ':')
		return 0;
	struct feed_item *item = &items[0];
	item->port = 0;
	item->exclude = *p == '!';
	if (item->exclude)
		p++;
	size_t entry_len = feed_field_len(p, end, " \t");
	const char *first_colon = memchr(p, ':', entry_len);
	/* IPv4 entries have a dot before any colon; a colon first means IPv6. */
	if (first_colon != NULL && memchr(p, '.', (size_t)(first_colon - p)) == NULL)
		return range_parse(p, entry_len, &item->range, why) == 0 ? 1 : -1;
	if (first_colon != NULL) /* "1.2.3.4:127.0.0.2:text": the value follows directly */
		entry_len = (size_t)(first_colon - p);
	return parse_ip4_entry(p, entry_len, &item->range, why) == 0 ? 1 : -1;
}

/*
 * Only what no plain list holds is evidence: a "$" directive, a ":value:text"
 * line, a "!" exclusion, an entry followed by its own ":value". A partial
 * address ("10.1.2") is not: in a plain list it is a truncated line, and read
 * as a zone it would become a whole /24. Neither is a ';' comment or IPv6.
 */
static int rbldnsd_detect(const char *sample, size_t len, const char **evidence)
{
	const char *cursor = sample, *end = sample + len, *line;
	size_t n;
	for (int lines = 0; (line = feed_sample_line(&cursor, end, &n)) != NULL && lines < 50; lines++) {
		if (line[0] == '$' && n > 1 && line[1] >= 'A' && line[1] <= 'Z') {
			*evidence = "a '$' directive line";
			return 3;
		}
		if (line[0] == ':' && n > 1 && line[1] != ':') {
			*evidence = "a ':value:text' line";
			return 3;
		}
		struct feed_item items[FEED_MAX_ITEMS];
		struct feed_state state;
		const char *why;
		feed_state_init(&state);
		if (line[0] == '!' && rbldnsd_parse_line(&state, line, n, items, &why) == 1) {
			*evidence = "a '!' exclusion line";
			return 3;
		}
		size_t entry = feed_field_len(line, line + n, " \t");
		const char *value = feed_skip_space(line + entry, line + n);
		if (entry < n && value < line + n && *value == ':' &&
		    rbldnsd_parse_line(&state, line, entry, items, &why) == 1) {
			*evidence = "an entry followed by its own ':value'";
			return 3;
		}
		/* "1.2.3.4:127.0.0.2:text": after an IPv4 entry, two colons; ADDR:PORT has one */
		const char *colon = memchr(line, ':', entry);
		if (colon != NULL && memchr(line, '.', (size_t)(colon - line)) != NULL &&
		    memchr(colon + 1, ':', (size_t)(line + entry - colon - 1)) != NULL &&
		    rbldnsd_parse_line(&state, line, (size_t)(colon - line), items, &why) == 1) {
			*evidence = "an entry with its ':value:text' right after";
			return 3;
		}
	}
	return 0;
}

const struct feed_format feed_rbldnsd = {
	.name = "rbldnsd",
	.description = "rbldnsd ip4set/ip4tset zone data (DNSBL dumps): ranges, ! exclusions, $ directives",
	.detect = rbldnsd_detect,
	.parse_line = rbldnsd_parse_line,
};
