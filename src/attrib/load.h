/*
 * Loading registry data. A file (plain or gzip) is read as a stream and each
 * object or line goes through its format's pure parser into a snapshot
 * builder; the finished snapshot is stored in one transaction that replaces
 * the source's previous one. Malformed objects are reported as file:line and
 * skipped.
 */
#ifndef PLUGHOLE_ATTRIB_LOAD_H
#define PLUGHOLE_ATTRIB_LOAD_H

#include <stddef.h>
#include <stdint.h>

#include "attrib/snapshot.h"
#include "store/store.h"

#define ATTRIB_MAX_REPORTED 20 /* malformed objects named per file; the rest are counted */

struct attrib_load_stats {
	enum snap_kind kind;
	char source[128];
	char registry[32]; /* RPSL source: or delegated registry of the first record */
	uint64_t bytes;	   /* read from the file (after decompression) */
	uint64_t lines, objects, ranges, keys, malformed, skipped;
	double parse_seconds, store_seconds;
};

/* The format whose syntax the sample (the first bytes of a file) has; -1 when none. */
int attrib_detect_format(const char *sample, size_t len, enum snap_kind *out);

/* Parses a whole buffer as kind into b; name is used in messages. 0, or -1 on a builder failure. */
int attrib_parse_buffer(const char *name, const char *buf, size_t len, enum snap_kind kind,
			struct snap_builder *b, struct attrib_load_stats *stats);

/* Parses a file into b (initialised by this call); format NULL means detect. */
/* A load's progress, for a progress line: fn(ctx, bytes read, bytes in all, 0 when unknown: a
 * pipe), about every READ_CHUNK, from the calling thread. */
struct attrib_load_progress {
	void (*fn)(void *ctx, uint64_t done, uint64_t total);
	void *ctx;
};

int attrib_parse_file_progress(const char *path, const char *format, struct snap_builder *b,
			       struct attrib_load_stats *stats, const struct attrib_load_progress *progress);
int attrib_parse_file(const char *path, const char *format, struct snap_builder *b,
		      struct attrib_load_stats *stats);

/*
 * Parses path and stores it as source (NULL: the file's name without ".gz"),
 * replacing that source's snapshot. A file with malformed objects only keeps
 * the old snapshot.
 */
/* progress may be NULL. */
int attrib_load_file(struct store *store, const char *path, const char *source, const char *format,
		     struct attrib_load_stats *stats, const struct attrib_load_progress *progress);

#endif
