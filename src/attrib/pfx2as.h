/*
 * Prefix-to-AS tables as CAIDA publishes them from RouteViews:
 *   prefix<TAB>length<TAB>origin
 * where origin is an AS number, several origins of a multi-origin prefix
 * joined by '_', or an AS set joined by ',' (any mix of both).
 */
#ifndef PLUGHOLE_PFX2AS_H
#define PLUGHOLE_PFX2AS_H

#include <stddef.h>
#include <stdint.h>

#include "core/addr.h"

#define PFX2AS_MAX_ORIGINS 16

struct pfx2as_record {
	struct range range;
	uint32_t origins[PFX2AS_MAX_ORIGINS]; /* in the order written; [0] is the one reported */
	size_t count;
	const char *text; /* the origin field as written, within the line */
	size_t text_len;
};

/* 1 with *out filled, 0 for blank and comment lines, -1 with *why. */
int pfx2as_parse_line(const char *line, size_t len, struct pfx2as_record *out, const char **why);

#endif
