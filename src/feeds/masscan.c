/*
 * masscan output:
 *   -oL  "open tcp 25 192.0.2.1 1390167312" lines, "#masscan" and "# end";
 *   -oJ  a JSON array written one object per line:
 *        {   "ip": "192.0.2.1",   "timestamp": "...", "ports": [ {"port": 25, "proto": "tcp", "status": "open"} ] },
 */
#include <jansson.h>
#include <string.h>

#include "feeds/feed.h"

static int list_parse_line(struct feed_state *state, const char *line, size_t len,
			   struct feed_item items[FEED_MAX_ITEMS], const char **why)
{
	const char *p = feed_skip_space(line, line + len), *end = line + feed_trim(line, len);
	if (p >= end || *p == '#')
		return 0;
	const char *field[5];
	size_t flen[5];
	int n = 0;
	while (p < end && n < 5) {
		field[n] = p;
		flen[n] = feed_field_len(p, end, " \t");
		p = feed_skip_space(p + flen[n], end);
		n++;
	}
	if (n < 4 || p < end) {
		*why = "expected 'STATUS PROTO PORT ADDRESS TIMESTAMP'";
		return -1;
	}
	if (flen[0] == 6 && memcmp(field[0], "closed", 6) == 0) {
		state->not_open++;
		return 0;
	}
	if (!(flen[0] == 4 && memcmp(field[0], "open", 4) == 0))
		return 0; /* banner lines name no candidate */
	struct feed_item *item = &items[0];
	item->exclude = false;
	if (port_parse(field[2], flen[2], &item->port) != 0) {
		*why = "bad port";
		return -1;
	}
	if (addr_parse(field[3], flen[3], &item->range.first) != 0) {
		*why = "bad address";
		return -1;
	}
	item->range.last = item->range.first;
	return 1;
}

static int list_detect(const char *sample, size_t len, const char **evidence)
{
	const char *cursor = sample, *line;
	size_t n;
	if ((line = feed_sample_line(&cursor, sample + len, &n)) == NULL)
		return 0;
	if (n >= 8 && memcmp(line, "#masscan", 8) == 0) {
		*evidence = "a '#masscan' first line";
		return 10;
	}
	*evidence = "an 'open tcp PORT ADDRESS' first line";
	return n > 9 && memcmp(line, "open tcp ", 9) == 0 ? 8 : 0;
}

static int json_parse_line(struct feed_state *state, const char *line, size_t len,
			   struct feed_item items[FEED_MAX_ITEMS], const char **why)
{
	const char *p = feed_skip_space(line, line + len), *end = line + feed_trim(line, len);
	while (p < end && (*p == ',' || *p == '[' || *p == ' '))
		p++;
	while (end > p && (end[-1] == ',' || end[-1] == ']' || end[-1] == ' '))
		end--;
	if (p >= end)
		return 0;
	json_error_t error;
	json_t *record = json_loadb(p, (size_t)(end - p), 0, &error);
	if (record == NULL || !json_is_object(record)) {
		json_decref(record);
		*why = "not a JSON object";
		return -1;
	}
	int count = -1;
	const char *ip = json_string_value(json_object_get(record, "ip"));
	json_t *ports = json_object_get(record, "ports");
	struct addr address;
	if (ip == NULL || addr_parse(ip, strlen(ip), &address) != 0) {
		*why = "no valid \"ip\"";
	} else if (!json_is_array(ports)) {
		*why = "no \"ports\" array";
	} else {
		size_t i;
		json_t *entry;
		count = 0;
		json_array_foreach(ports, i, entry) {
			json_int_t port = json_integer_value(json_object_get(entry, "port"));
			const char *status = json_string_value(json_object_get(entry, "status"));
			if (status != NULL && strcmp(status, "open") != 0) {
				state->not_open++;
				continue;
			}
			if (port <= 0 || port > 65535) {
				*why = "bad \"port\"";
				count = -1;
				break;
			}
			if (count == FEED_MAX_ITEMS) {
				*why = "too many ports in one record";
				count = -1;
				break;
			}
			items[count++] = (struct feed_item){
				.range = {address, address}, .port = (uint16_t)port, .exclude = false};
		}
	}
	json_decref(record);
	return count;
}

static int json_detect(const char *sample, size_t len, const char **evidence)
{
	const char *cursor = sample, *line;
	size_t n;
	while ((line = feed_sample_line(&cursor, sample + len, &n)) != NULL) {
		if (line[0] == '[' && n == 1)
			continue;
		*evidence = "a JSON object with \"ip\" first";
		return line[0] == '{' && n > 6 && memmem(line, n, "\"ip\"", 4) != NULL ? 10 : 0;
	}
	return 0;
}

const struct feed_format feed_masscan_list = {
	.name = "masscan-list",
	.description = "masscan -oL: 'open tcp PORT ADDRESS TIME' lines",
	.detect = list_detect,
	.parse_line = list_parse_line,
};

const struct feed_format feed_masscan_json = {
	.name = "masscan-json",
	.description = "masscan -oJ: one JSON object per line with \"ip\" and \"ports\"",
	.detect = json_detect,
	.parse_line = json_parse_line,
};
