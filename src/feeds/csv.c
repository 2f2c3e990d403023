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
static const char *const zmap_address_names[] = {"saddr"};

static const struct feed_csv_dialect generic = {
	address_names, sizeof address_names / sizeof *address_names, port_names,
	sizeof port_names / sizeof *port_names, NULL,
};
/* ZMap's success column: 1 for a SYN-ACK, 0 for a RST (a closed port). */
static const struct feed_csv_dialect zmap = {
	address_names, sizeof address_names / sizeof *address_names, port_names,
	sizeof port_names / sizeof *port_names, "success",
};
static const struct feed_csv_dialect zmap_header = {zmap_address_names, 1, port_names, 0, NULL};

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

static int read_header(const struct feed_csv_dialect *dialect, struct feed_state *state, const char *line,
		       size_t len, const char **why)
{
	struct field fields[FEED_MAX_COLUMNS];
	int count;
	state->delimiter = memchr(line, '\t', len) != NULL && memchr(line, ',', len) == NULL ? '\t' : ',';
	if (split_record(line, len, state->delimiter, fields, &count) != 0) {
		*why = "header is not a CSV record";
		return -1;
	}
	state->address_column = find_column(fields, count, dialect->address_names, dialect->address_count);
	state->port_column = find_column(fields, count, dialect->port_names, dialect->port_count);
	if (dialect->success_name != NULL)
		state->success_column = find_column(fields, count, &dialect->success_name, 1);
	if (state->address_column < 0) {
		*why = dialect->address_count == 1 ? "header names no address column" /* a dialect's one name */
						   : "header names no address column (ip, saddr, address, ...)";
		return -1;
	}
	state->header_seen = true;
	return 0;
}

/* A field's value is 0 or 1 (ZMap's booleans); -1 otherwise. */
static int field_bool(const struct field *f)
{
	if (f->len == 1 && (f->text[0] == '0' || f->text[0] == '1'))
		return f->text[0] - '0';
	if (f->len == 4 && strncasecmp(f->text, "true", 4) == 0)
		return 1;
	if (f->len == 5 && strncasecmp(f->text, "false", 5) == 0)
		return 0;
	return -1;
}

int feed_csv_parse_line(const struct feed_csv_dialect *dialect, struct feed_state *state, const char *line,
			size_t len, struct feed_item items[FEED_MAX_ITEMS], const char **why)
{
	len = feed_trim(line, len);
	if (len == 0 || line[0] == '#')
		return 0;
	if (!state->header_seen)
		return read_header(dialect, state, line, len, why) == 0 ? 0 : -1;
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
	if (state->success_column >= 0 && state->success_column < count) {
		int success = field_bool(&fields[state->success_column]);
		if (success < 0) {
			*why = "the success column holds neither 0 nor 1";
			return -1;
		}
		if (success == 0) {
			state->not_open++; /* the host answered, but not with an open port */
			return 0;
		}
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

bool feed_csv_header_names(const struct feed_csv_dialect *dialect, const char *sample, size_t len)
{
	const char *cursor = sample, *line;
	size_t n;
	if ((line = feed_sample_line(&cursor, sample + len, &n)) == NULL || line[0] == '#')
		return false;
	struct feed_state state;
	const char *why;
	feed_state_init(&state);
	return read_header(dialect, &state, line, n, &why) == 0;
}

static int csv_detect(const char *sample, size_t len, const char **evidence)
{
	*evidence = "a header naming an address column";
	return feed_csv_header_names(&generic, sample, len) ? 5 : 0;
}
/* saddr is ZMap's name for the address: it wins over plain CSV by one. */
static int zmap_csv_detect(const char *sample, size_t len, const char **evidence)
{
	*evidence = "a header naming ZMap's saddr column";
	return feed_csv_header_names(&zmap_header, sample, len) ? 6 : 0;
}

static int csv_parse_line(struct feed_state *state, const char *line, size_t len,
			  struct feed_item items[FEED_MAX_ITEMS], const char **why)
{
	return feed_csv_parse_line(&generic, state, line, len, items, why);
}

static int zmap_csv_parse_line(struct feed_state *state, const char *line, size_t len,
			       struct feed_item items[FEED_MAX_ITEMS], const char **why)
{
	return feed_csv_parse_line(&zmap, state, line, len, items, why);
}

const struct feed_format feed_csv = {
	.name = "csv",
	.description = "CSV with a header naming the address (ip, saddr, ...) and port columns, e.g. Shadowserver",
	.detect = csv_detect,
	.parse_line = csv_parse_line,
};

const struct feed_format feed_zmap_csv = {
	.name = "zmap-csv",
	.description = "ZMap CSV output (-O csv): saddr,sport,...; rows whose success is 0 are not candidates",
	.detect = zmap_csv_detect,
	.parse_line = zmap_csv_parse_line,
};
