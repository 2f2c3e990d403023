/*
 * AS-name tables: one AS a line, "3333 RIPE-NCC-AS Reseaux IP Europeens
 * Network Coordination Centre (RIPE NCC), NL" as RIPE's asn.txt writes it,
 * or with an "AS" prefix and more spaces as other publishers do. The
 * trailing ", CC" is the holder's country when present.
 */
#ifndef PLUGHOLE_ASNAMES_H
#define PLUGHOLE_ASNAMES_H

#include <stddef.h>
#include <stdint.h>

struct asname_record {
	uint32_t asn;
	const char *name; /* within the line, without the country */
	size_t name_len;
	char cc[3]; /* "" when none */
};

/* 1 with *out filled, 0 for blank and comment lines, -1 with *why. */
int asnames_parse_line(const char *line, size_t len, struct asname_record *out, const char **why);

/* "AS3333", "as3333" or "3333" (asdot "1.10" too); 0 or -1. */
int asn_parse(const char *s, size_t len, uint32_t *out);

#endif
