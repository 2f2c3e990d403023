/*
 * The exclusion list: ranges that are never probed. The default file holds
 * IANA special-purpose space; operators add opt-out files of their own.
 * The most specific matching line decides, so "--allow-loopback" can lift
 * 127.0.0.0/8 and ::1 without lifting the ranges around them. IPv6 forms
 * that carry an IPv4 address (NAT64, IPv4-compatible) are checked by it too.
 */
#ifndef PLUGHOLE_EXCLUDE_H
#define PLUGHOLE_EXCLUDE_H

#include <stdbool.h>
#include <stddef.h>

#include "core/rangeset.h"

struct exclusion_rule {
	char *reason; /* "file:line: text" */
	bool loopback; /* the range is exactly 127.0.0.0/8 or ::1: --allow-loopback lifts it */
};

struct exclusion_list {
	struct rangeset set;
	struct exclusion_rule *rules;
	size_t count;
	bool allow_loopback;
};

void exclusion_init(struct exclusion_list *list);
void exclusion_free(struct exclusion_list *list);
/* Adds every line of path; a bad line fails the load with file:line. */
int exclusion_load(struct exclusion_list *list, const char *path);
/* The reason addr is excluded, or NULL when it may be probed. */
const char *exclusion_match(const struct exclusion_list *list, const struct addr *addr);
/*
 * Where plughole itself tells a peer to send traffic (verify's --sink and
 * --target) obeys the list like a candidate. 0 when addr may be used;
 * otherwise -1 after an error naming option, text and the rule.
 */
int exclusion_check_destination(const struct exclusion_list *list, const char *option, const char *text,
				const struct addr *addr);
/* Most --exclude-file options a verb takes. */
#define EXCLUDE_FILES_MAX 16
/* Adds each file (--exclude-file), as exclusion_load does. */
int exclusion_load_files(struct exclusion_list *list, const char *const *paths, size_t count);
/* Loads the default list plus an optional opt-out file; builds the set. */
int exclusion_load_defaults(struct exclusion_list *list, const char *optout_path, bool allow_loopback);

#endif
