/*
 * IntelMQ events, as its file and CSV outputs write them:
 *   CSV         a header naming source.ip (and source.port), one event a row;
 *   JSON Lines  one event a line, flat ({"source.ip": "192.0.2.1",
 *               "source.port": 25, ...}) or hierarchical ({"source": {"ip":
 *               ..., "port": ...}}) as its hierarchical_output writes them.
 * An event without source.port takes the ingest's default ports.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "feeds/feed.h"

static const char *const address_names[] = {"source.ip"};
static const char *const port_names[] = {"source.port"};
static const struct feed_csv_dialect intelmq = {address_names, 1, port_names, 1, NULL};

static int csv_parse_line(struct feed_state *state, const char *line, size_t len,
			  struct feed_item items[FEED_MAX_ITEMS], const char **why)
{
	return feed_csv_parse_line(&intelmq, state, line, len, items, why);
}

/* A header naming source.ip: more telling than a generic CSV's address column. */
static int csv_detect(const char *sample, size_t len, const char **evidence)
{
	*evidence = "a header naming IntelMQ's source.ip column";
	return feed_csv_header_names(&intelmq, sample, len) ? 7 : 0;
}

/* event's source.KEY, flat or hierarchical */
static json_t *source_get(json_t *event, const char *key)
{
	char flat[32];
	snprintf(flat, sizeof flat, "source.%s", key);
	json_t *value = json_object_get(event, flat);
	return value != NULL ? value : json_object_get(json_object_get(event, "source"), key);
}

/* The port as IntelMQ writes it (an integer), or as text; 0 when absent, -1 when bad. */
static int event_port(json_t *value, uint16_t *port)
{
	*port = 0;
	if (value == NULL || json_is_null(value))
		return 0;
	if (json_is_integer(value)) {
		json_int_t n = json_integer_value(value);
		if (n <= 0 || n > 65535)
			return -1;
		*port = (uint16_t)n;
		return 0;
	}
	const char *text = json_string_value(value);
	return text != NULL && port_parse(text, strlen(text), port) == 0 ? 0 : -1;
}

static int json_parse_line(struct feed_state *state, const char *line, size_t len,
			   struct feed_item items[FEED_MAX_ITEMS], const char **why)
{
	(void)state;
	const char *p = feed_skip_space(line, line + len), *end = line + feed_trim(line, len);
	if (p >= end)
		return 0;
	json_error_t error;
	json_t *event = json_loadb(p, (size_t)(end - p), 0, &error);
	int count = -1;
	if (event == NULL || !json_is_object(event)) {
		*why = "not a JSON object";
	} else {
		const char *ip = json_string_value(source_get(event, "ip"));
		struct feed_item *item = &items[0];
		*item = (struct feed_item){.exclude = false};
		if (ip == NULL) {
			*why = "no \"source.ip\"";
		} else if (addr_parse(ip, strlen(ip), &item->range.first) != 0) {
			*why = "\"source.ip\" is not an IP address";
		} else if (event_port(source_get(event, "port"), &item->port) != 0) {
			*why = "\"source.port\" is not a port";
		} else {
			item->range.last = item->range.first;
			count = 1;
		}
	}
	json_decref(event);
	return count;
}

/* The first line is an event with a source.ip: the parser itself is the evidence. */
static int json_detect(const char *sample, size_t len, const char **evidence)
{
	const char *cursor = sample, *line;
	size_t n;
	if ((line = feed_sample_line(&cursor, sample + len, &n)) == NULL || line[0] != '{')
		return 0;
	struct feed_state state;
	struct feed_item items[FEED_MAX_ITEMS];
	const char *why;
	feed_state_init(&state);
	*evidence = "a JSON object with source.ip, as IntelMQ writes";
	/* 11: a hierarchical event holds an "ip" key too, which masscan's -oJ detection (10) sees */
	return json_parse_line(&state, line, n, items, &why) == 1 ? 11 : 0;
}

const struct feed_format feed_intelmq_csv = {
	.name = "intelmq-csv",
	.description = "IntelMQ CSV: a header naming source.ip and source.port",
	.detect = csv_detect,
	.parse_line = csv_parse_line,
};

const struct feed_format feed_intelmq_json = {
	.name = "intelmq-json",
	.description = "IntelMQ JSON Lines: one event a line with source.ip, source.port",
	.detect = json_detect,
	.parse_line = json_parse_line,
};
