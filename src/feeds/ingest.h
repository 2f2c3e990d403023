/*
 * Ingest: read a feed, expand its entries into candidates (address:port),
 * drop excluded ones, and store the rest with their source.
 */
#ifndef PLUGHOLE_INGEST_H
#define PLUGHOLE_INGEST_H

#include <stdio.h>

#include "core/exclude.h"
#include "store/store.h"
#include "feeds/feed.h"

#define INGEST_MAX_PORTS 32
#define INGEST_MAX_REPORTED 50 /* bad lines shown per file; all are counted */

struct ingest_options {
	struct store *store;
	const struct exclusion_list *exclusions;
	const struct feed_format *format; /* NULL: detect from the first lines */
	uint16_t ports[INGEST_MAX_PORTS]; /* for entries that name no port */
	size_t port_count;
	uint64_t max_range;               /* largest range an entry may expand to */
	const char *source;               /* NULL: the file's base name */
};

/*
 * Ingests one stream; name is used in messages ("file:line: why").
 * Adds the run's figures to *counts. 0 on success (bad lines included),
 * -1 when the file could not be read or stored, or held nothing but bad lines.
 */
int ingest_stream(const struct ingest_options *options, FILE *in, const char *name,
		  struct ingest_counts *counts);

#endif
