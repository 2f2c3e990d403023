/*
 * RIR delegated-extended statistics, one record a line:
 *   registry|cc|type|start|value|date|status|opaque-id
 * after a version line (2|ripencc|...) and summary lines (...|*|ipv4|*|N|summary).
 * For ipv4 the value is a count of addresses (not always a power of two),
 * for ipv6 a prefix length, for asn a count of AS numbers.
 */
#ifndef PLUGHOLE_DELEGATED_H
#define PLUGHOLE_DELEGATED_H

#include <stddef.h>
#include <stdint.h>

#include "core/addr.h"

enum delegated_type { DELEGATED_IPV4, DELEGATED_IPV6, DELEGATED_ASN, DELEGATED_TYPE_LAST };
extern const char *const delegated_type_names[DELEGATED_TYPE_LAST];

#define DELEGATED_MAX_FIELD 64

struct delegated_record {
	enum delegated_type type;
	char registry[16];
	char cc[3];			     /* "" when the registry left it empty */
	struct range range;		     /* ipv4, ipv6 */
	uint32_t asn_first, asn_count;	     /* asn */
	char date[9];			     /* YYYYMMDD or "" */
	char status[16];		     /* allocated, assigned */
	char opaque_id[DELEGATED_MAX_FIELD]; /* the holder, stable across the registry's records */
};

/*
 * 1 with *out filled, 0 for lines that carry no delegation (comments, the
 * version line, summaries, available and reserved space), -1 with *why.
 */
int delegated_parse_line(const char *line, size_t len, struct delegated_record *out, const char **why);

#endif
