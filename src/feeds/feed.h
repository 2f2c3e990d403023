/*
 * Candidate feeds: one parser per input format, each a pure function that
 * turns one line (buffer, length) into zero or more items or an error.
 * A format may keep state across lines (a CSV header, rbldnsd directives).
 */
#ifndef PLUGHOLE_FEED_H
#define PLUGHOLE_FEED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/addr.h"

#define FEED_MAX_ITEMS 64 /* items one line may yield (a host's open ports in masscan JSON, nmap) */
#define FEED_MAX_COLUMNS 64

struct feed_item {
	struct range range; /* a single address is a range of one */
	uint16_t port;      /* 0: none given, the ingest's default ports apply */
	bool exclude;       /* rbldnsd "!": carve this range out of the feed */
};

/* Per-file state a parser may keep between lines. */
struct feed_state {
	/* csv: positions of the columns found in the header (-1: absent) */
	bool header_seen;
	int address_column, port_column, success_column;
	char delimiter;
	/* nmap -oX: the host and port being read, across lines */
	struct {
		bool in_host, have_address;
		struct addr address;
		uint16_t port; /* the open <port> element's, 0 outside one or for UDP */
	} xml;
	/* rows or ports the feed itself says are not open (ZMap success 0, closed): not candidates */
	uint64_t not_open;
};

/* CSV dialects (csv.c): which header names hold the address, port and success. */
struct feed_csv_dialect {
	const char *const *address_names;
	size_t address_count;
	const char *const *port_names;
	size_t port_count;
	const char *success_name; /* NULL: none; a row whose column holds 0 is not a candidate */
};
int feed_csv_parse_line(const struct feed_csv_dialect *dialect, struct feed_state *state, const char *line,
			size_t len, struct feed_item items[FEED_MAX_ITEMS], const char **why);
/* True when the first non-blank line is a header naming one of the dialect's address columns. */
bool feed_csv_header_names(const struct feed_csv_dialect *dialect, const char *sample, size_t len);

struct feed_format {
	const char *name;
	const char *description;
	/* Positive when the first lines hold this format's evidence, named in *why
	 * (a static text); higher wins. */
	int (*detect)(const char *sample, size_t len, const char **why);
	/* Returns the number of items (0 for comments, headers, directives) or -1 with *why set. */
	int (*parse_line)(struct feed_state *state, const char *line, size_t len,
			  struct feed_item items[FEED_MAX_ITEMS], const char **why);
};

const struct feed_format *feed_format_find(const char *name);
/* The best match for the sample (the first few KiB of the input), *why the
 * evidence; never NULL: plain as a last resort. */
const struct feed_format *feed_format_detect(const char *sample, size_t len, const char **why);
void feed_state_init(struct feed_state *state);
/* All formats, for usage text. */
extern const struct feed_format *const feed_formats[];
extern const size_t feed_format_count;

/* The formats, one file each. */
extern const struct feed_format feed_plain, feed_zmap, feed_rbldnsd, feed_csv, feed_zmap_csv,
	feed_masscan_list, feed_masscan_json, feed_nmap_xml, feed_nmap_grep, feed_intelmq_csv, feed_intelmq_json;

/* Helpers shared by the parsers (feed.c). */
const char *feed_skip_space(const char *p, const char *end);
/* Length of the run from p before end holding none of the stop characters. */
size_t feed_field_len(const char *p, const char *end, const char *stop);
/* Length of line without trailing spaces, tabs and CR. */
size_t feed_trim(const char *line, size_t len);
/* Iterates lines of a sample: returns the next non-blank line or NULL. */
const char *feed_sample_line(const char **cursor, const char *end, size_t *len);

#endif
