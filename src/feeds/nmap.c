/*
 * nmap output:
 *   -oX  XML. Not a general XML parser: nmap writes every element on one line,
 *        so a small bounded reader takes the tags of each line and keeps the
 *        host being read in the feed state: <host>, its <address addr=""
 *        addrtype="ipv4|ipv6"/>, then <port protocol="tcp" portid="25"> with
 *        its <state state="open"/>, </port>, </host>. Everything else
 *        (scripts, services, hostnames, comments) is skipped. No library: a
 *        pure parser over one line, bounded and fuzzed like the others.
 *   -oG  grepable: "Host: ADDRESS (NAME)<TAB>Ports: 25/open/tcp//smtp///, ..."
 *        and "# Nmap ..." comments.
 * Open TCP ports are candidates; other ports named are counted as not open.
 */
#include <string.h>

#include "feeds/feed.h"

/* ---- -oX ---- */

/* The value of attribute name in the tag text [p, end), or NULL. */
static const char *xml_attr(const char *p, const char *end, const char *name, size_t *len)
{
	size_t n = strlen(name);
	for (const char *q = p; q + n < end; q++) {
		if (!(q[-1] == ' ' || q[-1] == '\t') || memcmp(q, name, n) != 0)
			continue;
		const char *v = feed_skip_space(q + n, end);
		if (v >= end || *v != '=')
			continue;
		v = feed_skip_space(v + 1, end);
		if (v >= end || (*v != '"' && *v != '\''))
			continue;
		const char *close = memchr(v + 1, *v, (size_t)(end - v - 1));
		if (close == NULL)
			return NULL;
		*len = (size_t)(close - v - 1);
		return v + 1;
	}
	return NULL;
}

static bool attr_is(const char *value, size_t len, const char *want)
{
	return value != NULL && len == strlen(want) && memcmp(value, want, len) == 0;
}

/* The tag's name [name, name + len) is want. */
static bool tag_is(const char *name, size_t len, const char *want)
{
	return len == strlen(want) && memcmp(name, want, len) == 0;
}

/* One tag: its text after the name is [attrs, end). 0, or -1 with *why. */
static int xml_tag(struct feed_state *state, const char *name, size_t name_len, const char *attrs,
		   const char *end, struct feed_item items[FEED_MAX_ITEMS], int *count, const char **why)
{
	size_t len;
	const char *value;
	if (tag_is(name, name_len, "host")) {
		state->xml.in_host = true;
		state->xml.have_address = false;
		state->xml.port = 0;
	} else if (tag_is(name, name_len, "/host")) {
		state->xml.in_host = state->xml.have_address = false;
	} else if (tag_is(name, name_len, "address") && state->xml.in_host) {
		value = xml_attr(attrs, end, "addrtype", &len);
		if (!attr_is(value, len, "ipv4") && !attr_is(value, len, "ipv6"))
			return 0; /* a MAC address */
		if ((value = xml_attr(attrs, end, "addr", &len)) == NULL ||
		    addr_parse(value, len, &state->xml.address) != 0) {
			*why = "an <address> without a valid addr";
			return -1;
		}
		state->xml.have_address = true;
	} else if (tag_is(name, name_len, "port") && state->xml.in_host) {
		const char *proto = xml_attr(attrs, end, "protocol", &len);
		bool tcp = attr_is(proto, len, "tcp");
		if ((value = xml_attr(attrs, end, "portid", &len)) == NULL ||
		    port_parse(value, len, &state->xml.port) != 0) {
			*why = "a <port> without a valid portid";
			return -1;
		}
		if (!tcp || (end > attrs && end[-1] == '/')) { /* UDP, or a <port/> with no state */
			state->xml.port = 0;
			state->not_open++;
		}
	} else if (tag_is(name, name_len, "/port")) {
		state->xml.port = 0;
	} else if (tag_is(name, name_len, "state") && state->xml.port != 0) {
		value = xml_attr(attrs, end, "state", &len);
		if (!attr_is(value, len, "open")) {
			state->not_open++;
		} else if (!state->xml.have_address) {
			*why = "an open <port> before its host's <address>";
			return -1;
		} else if (*count == FEED_MAX_ITEMS) {
			*why = "too many open ports on one line";
			return -1;
		} else {
			items[(*count)++] = (struct feed_item){
				.range = {state->xml.address, state->xml.address}, .port = state->xml.port};
		}
		state->xml.port = 0; /* one state per port */
	}
	return 0;
}

static int xml_parse_line(struct feed_state *state, const char *line, size_t len,
			  struct feed_item items[FEED_MAX_ITEMS], const char **why)
{
	const char *p = line, *end = line + len;
	int count = 0;
	while ((p = memchr(p, '<', (size_t)(end - p))) != NULL) {
		const char *gt = memchr(p, '>', (size_t)(end - p));
		if (gt == NULL) {
			*why = "an XML tag not closed on its line (nmap writes one per line)";
			return -1;
		}
		const char *name = p + 1;
		size_t name_len = feed_field_len(name, gt, " \t/>");
		if (name_len == 0 && name < gt && *name == '/') /* an end tag: "/host" */
			name_len = 1 + feed_field_len(name + 1, gt, " \t>");
		if (xml_tag(state, name, name_len, name + name_len, gt, items, &count, why) != 0)
			return -1;
		p = gt + 1;
	}
	return count;
}

static int xml_detect(const char *sample, size_t len, const char **evidence)
{
	const char *cursor = sample, *line;
	size_t n;
	if ((line = feed_sample_line(&cursor, sample + len, &n)) == NULL || line[0] != '<')
		return 0;
	*evidence = "an <nmaprun> element, as nmap -oX writes";
	return memmem(sample, len, "<nmaprun", 8) != NULL ? 10 : 0;
}

/* ---- -oG ---- */

/* One "PORT/STATE/PROTO/OWNER/SERVICE/RPC/VERSION/" entry; its end in *next. */
static int grep_port(struct feed_state *state, const char *p, const char *end, const struct addr *address,
		     struct feed_item items[FEED_MAX_ITEMS], int *count, const char **next, const char **why)
{
	const char *field[7];
	size_t flen[7];
	for (int i = 0; i < 7; i++) {
		field[i] = p;
		flen[i] = feed_field_len(p, end, "/");
		p += flen[i];
		if (p >= end) {
			*why = "a port entry with fewer than 7 '/' fields";
			return -1;
		}
		p++; /* the '/' */
	}
	*next = p;
	uint16_t port;
	if (port_parse(field[0], flen[0], &port) != 0) {
		*why = "a port entry without a valid port";
		return -1;
	}
	if (!(flen[1] == 4 && memcmp(field[1], "open", 4) == 0 && flen[2] == 3 && memcmp(field[2], "tcp", 3) == 0)) {
		state->not_open++;
		return 0;
	}
	if (*count == FEED_MAX_ITEMS) {
		*why = "too many open ports on one line";
		return -1;
	}
	items[(*count)++] = (struct feed_item){.range = {*address, *address}, .port = port};
	return 0;
}

static int grep_parse_line(struct feed_state *state, const char *line, size_t len,
			   struct feed_item items[FEED_MAX_ITEMS], const char **why)
{
	const char *p = line, *end = line + feed_trim(line, len);
	if (p >= end || *p == '#')
		return 0;
	if (end - p < 6 || memcmp(p, "Host: ", 6) != 0) {
		*why = "expected 'Host: ADDRESS (NAME)<TAB>...'";
		return -1;
	}
	p += 6;
	struct addr address;
	size_t n = feed_field_len(p, end, " \t");
	if (addr_parse(p, n, &address) != 0) {
		*why = "no valid address after 'Host: '";
		return -1;
	}
	int count = 0;
	for (p += n; p < end; p++) { /* the tab-separated fields after the host */
		if (*p != '\t')
			continue;
		const char *field = p + 1;
		const char *field_end = field + feed_field_len(field, end, "\t");
		if (field_end - field < 7 || memcmp(field, "Ports: ", 7) != 0)
			continue;
		for (const char *q = field + 7; q < field_end;) {
			if (grep_port(state, q, field_end, &address, items, &count, &q, why) != 0)
				return -1;
			if (q < field_end && *q == ',')
				q = feed_skip_space(q + 1, field_end);
			else if (q < field_end) {
				*why = "port entries not separated by ', '";
				return -1;
			}
		}
	}
	return count;
}

static int grep_detect(const char *sample, size_t len, const char **evidence)
{
	const char *cursor = sample, *line;
	size_t n;
	while ((line = feed_sample_line(&cursor, sample + len, &n)) != NULL) {
		if (line[0] == '#')
			continue;
		*evidence = "a 'Host: ADDRESS (NAME)<TAB>' line, as nmap -oG writes";
		return n > 6 && memcmp(line, "Host: ", 6) == 0 && memchr(line, '\t', n) != NULL ? 10 : 0;
	}
	return 0;
}

const struct feed_format feed_nmap_xml = {
	.name = "nmap-xml",
	.description = "nmap -oX: hosts' open TCP ports",
	.detect = xml_detect,
	.parse_line = xml_parse_line,
};

const struct feed_format feed_nmap_grep = {
	.name = "nmap-grep",
	.description = "nmap -oG: 'Host: ADDRESS ()<TAB>Ports: 25/open/tcp//smtp///' lines",
	.detect = grep_detect,
	.parse_line = grep_parse_line,
};
