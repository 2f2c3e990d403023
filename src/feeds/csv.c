/*
 * CSV with a header line (RFC 4180 quoting, one record per line), such as a
 * Shadowserver report ("timestamp","ip","port",...) or ZMap's CSV output
 * (saddr,sport,...). The address and port columns are found by name.
 */
#include <strings.h>
#include <string.h>

#include "feeds/feed.h"
#include "core/util.h"

static const char *const address_names[] = {"ip", "saddr", "addr", "address", "ip_address", "ipaddr",
					     "src_ip", "source_ip", "host_ip"};
static const char *const port_names[] = {"port", "sport", "src_port", "source_port", "dst_port", "dport"};

struct field {
	const char *text;
	size_t len;
	char unquoted[256]; /* only used when the field was quoted with "" inside */
};

/* Splits one record into at most FEED_MAX_COLUMNS fields; -1 on bad quoting. */
static int split_record(const char *line, size_t len, char delimiter, struct field *fields, int *count)
{
	const char *p = line, *end = line + len;
	int n = 0;
	for (;;) {
		if (n == FEED_MAX_COLUMNS)
			return -1;
		struct field *f = &fields[n++];
		p = feed_skip_space(p, end);
		if (p < end && *p == '"') {
			size_t out = 0;
			for (p++;; p++) {
				if (p >= end)
					return -1; /* unterminated quote */
				if (*p == '"') {
					if (p + 1 < end && p[1] == '"')
						p++;
					else
						break;
				}
				if (out + 1 < sizeof f->unquoted)
					f->unquoted[out++] = *p;
			}
			p++;
			f->unquoted[out] = '\0';
			f->text = f->unquoted;
			f->len = out;
			p = feed_skip_space(p, end);
			if (p < end && *p != delimiter)
				return -1;
		} else {
			const char *start = p;
			while (p < end && *p != delimiter)
				p++;
			f->text = start;
			f->len = feed_trim(start, (size_t)(p - start));
		}
		if (p >= end)
			break;
		p++; /* the delimiter */
	}
	*count = n;
	return 0;
}

static int find_column(const struct field *fields, int count, const char *const *names, size_t nnames)
{
	for (size_t k = 0; k < nnames; k++)
		for (int i = 0; i < count; i++)
			if (fields[i].len == strlen(names[k]) && strncasecmp(fields[i].text, names[k], fields[i].len) == 0)
				return i;
	return -1;
}

static int read_header(struct feed_state *state, const char *line, size_t len, const char **why)
{
	struct field fields[FEED_MAX_COLUMNS];
	int count;
	state->delimiter = memchr(line, '\t', len) != NULL && memchr(line, ',', len) == NULL ? '\t' : ',';
	if (split_record(line, len, state->delimiter, fields, &count) != 0) {
		*why = "header is not a CSV record";
		return -1;
	}
	state->address_column = find_column(fields, count, address_names, ARRAY_SIZE(address_names));
	state->port_column = find_column(fields, count, port_names, ARRAY_SIZE(port_names));
	if (state->address_column < 0) {
		*why = "header names no address column (ip, saddr, address, ...)";
		return -1;
	}
	state->header_seen = true;
	return 0;
}

static int csv_parse_line(struct feed_state *state, const char *line, size_t len,
			  struct feed_item items[FEED_MAX_ITEMS], const char **why)
{
	len = feed_trim(line, len);
	if (len == 0 || line[0] == '#')
		return 0;
	if (!state->header_seen)
		return read_header(state, line, len, why) == 0 ? 0 : -1;
	struct field fields[FEED_MAX_COLUMNS];
	int count;
	if (split_record(line, len, state->delimiter, fields, &count) != 0) {
		*why = "bad CSV quoting";
		return -1;
	}
	if (state->address_column >= count) {
		*why = "too few columns";
		return -1;
	}
	const struct field *address = &fields[state->address_column];
	struct feed_item *item = &items[0];
	item->exclude = false;
	item->port = 0;
	if (addr_parse(address->text, address->len, &item->range.first) != 0) {
		*why = "the address column holds no IP address";
		return -1;
	}
	item->range.last = item->range.first;
	if (state->port_column >= 0 && state->port_column < count && fields[state->port_column].len > 0 &&
	    port_parse(fields[state->port_column].text, fields[state->port_column].len, &item->port) != 0) {
		*why = "the port column holds no port";
		return -1;
	}
	return 1;
}

static int header_score(const char *sample, size_t len, const char *first_name, const char **evidence)
{
	const char *cursor = sample, *line;
	size_t n;
	if ((line = feed_sample_line(&cursor, sample + len, &n)) == NULL || line[0] == '#')
		return 0;
	struct feed_state state;
	const char *why;
	feed_state_init(&state);
	if (read_header(&state, line, n, &why) != 0)
		return 0;
	size_t first = strlen(first_name);
	if (first_name[0] != '\0' && (n < first || strncasecmp(line, first_name, first) != 0))
		return 0;
	*evidence = first_name[0] ? "a header starting with saddr" : "a header naming an address column";
	return 5;
}

static int csv_detect(const char *sample, size_t len, const char **evidence)
{
	return header_score(sample, len, "", evidence);
}
/* ZMap's CSV starts with saddr; it wins over plain CSV by one. */
static int zmap_csv_detect(const char *sample, size_t len, const char **evidence)
{
	return header_score(sample, len, "saddr", evidence) ? 6 : 0;
}

const struct feed_format feed_csv = {
	.name = "csv",
	.description = "CSV with a header naming the address (ip, saddr, ...) and port columns, e.g. Shadowserver",
	.detect = csv_detect,
	.parse_line = csv_parse_line,
};

const struct feed_format feed_zmap_csv = {
	.name = "zmap-csv",
	.description = "ZMap CSV output (-O csv): saddr,sport,...",
	.detect = zmap_csv_detect,
	.parse_line = csv_parse_line,
};
