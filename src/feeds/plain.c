/*
 * Plain lists: one entry per line, "ADDRESS", "ADDRESS:PORT", "[V6]:PORT",
 * "CIDR" or "FIRST-LAST"; '#' starts a comment. ZMap's default output (-o,
 * one address a line) is the same format under its own name.
 */
#include <string.h>

#include "feeds/feed.h"

/* "10.1.2": digits and fewer than three dots, a truncated line or an rbldnsd /24. */
static bool is_partial_v4(const char *s, size_t len)
{
	size_t dots = 0;
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '.')
			dots++;
		else if (s[i] < '0' || s[i] > '9')
			return false;
	}
	return dots < 3 && s[0] != '.';
}

static int plain_parse_line(struct feed_state *state, const char *line, size_t len,
			    struct feed_item items[FEED_MAX_ITEMS], const char **why)
{
	const char *hash = memchr(line, '#', len);
	if (hash != NULL)
		len = (size_t)(hash - line);
	const char *start = feed_skip_space(line, line + len);
	len = feed_trim(start, (size_t)(line + len - start));
	if (len == 0)
		return 0;
	if (start[0] == ';') {
		*why = "';' comments are rbldnsd's, not a plain list's (a zone? --format rbldnsd)";
		return -1;
	}
	if (memchr(start, ' ', len) != NULL || memchr(start, '\t', len) != NULL) {
		*why = "more than one entry on the line";
		return -1;
	}
	struct feed_item *item = &items[0];
	item->exclude = false;
	item->port = 0;
	if (memchr(start, '/', len) != NULL || memchr(start, '-', len) != NULL)
		return range_parse(start, len, &item->range, why) == 0 ? 1 : -1;
	struct addr address;
	if (addr_port_parse(start, len, &address, &item->port, why) != 0) {
		if (is_partial_v4(start, len))
			*why = "a partial address, never expanded in a plain list (a zone? --format rbldnsd)";
		return -1;
	}
	item->range.first = item->range.last = address;
	return 1;
}

static int plain_detect(const char *sample, size_t len, const char **evidence)
{
	const char *cursor = sample, *end = sample + len, *line;
	size_t n;
	while ((line = feed_sample_line(&cursor, end, &n)) != NULL) {
		if (line[0] == '#')
			continue;
		struct feed_item items[FEED_MAX_ITEMS];
		struct feed_state state;
		const char *why;
		feed_state_init(&state);
		*evidence = "the first entry is a plain ADDRESS[:PORT], CIDR or FIRST-LAST";
		return plain_parse_line(&state, line, n, items, &why) == 1 ? 1 : 0;
	}
	return 0;
}

const struct feed_format feed_plain = {
	.name = "plain",
	.description = "one ADDRESS, ADDRESS:PORT, [V6]:PORT, CIDR or FIRST-LAST per line",
	.detect = plain_detect,
	.parse_line = plain_parse_line,
};

const struct feed_format feed_zmap = {
	.name = "zmap",
	.description = "ZMap -o output: one address a line (the plain parser)",
	.parse_line = plain_parse_line,
};
