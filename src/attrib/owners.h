/*
 * Owner resolution: from an address to the holder of the most specific
 * registered range, the mailbox to write to, the origin AS, the country and
 * the agency. The mailbox comes from the first rung that has one:
 *
 *   range's abuse-c -> its organisation's abuse-c -> its irt -> an address in
 *   its remarks:/notify: -> the same four for each parent range -> [RDAP's
 *   abuse entity, with --rdap] -> the origin AS's abuse contact -> the
 *   national contact of the country's agency.
 *
 * The result says which rung gave the mailbox and keeps a trace of every
 * step (which object, which rung, why not), for "plughole whois".
 */
#ifndef PLUGHOLE_OWNERS_H
#define PLUGHOLE_OWNERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "attrib/agencies.h"
#include "attrib/index.h"
#include "attrib/rdap.h"

enum owner_rung {
	RUNG_RANGE_ABUSE_C,
	RUNG_ORG_ABUSE_C,
	RUNG_IRT,
	RUNG_RANGE_EMAIL,
	RUNG_PARENT_ABUSE_C,
	RUNG_PARENT_ORG_ABUSE_C,
	RUNG_PARENT_IRT,
	RUNG_PARENT_EMAIL,
	RUNG_RDAP_ABUSE,
	RUNG_AS_ABUSE,
	RUNG_AGENCY,
	RUNG_LAST
};
extern const char *const owner_rung_names[RUNG_LAST];

#define OWNER_MAX_TRACE 64
#define OWNER_MAX_FURTHER 8
#define OWNER_TRACE_LINE 240

struct owner_context {
	const struct attrib_index *index;
	const struct agencies *agencies;
	struct rdap_client *rdap; /* NULL: bulk data only */
};

struct owner_result {
	enum owner_rung rung;
	char contact[256];
	char organisation[256]; /* holder of the range whose contact is used */
	char org_handle[64];
	char range[100];  /* the most specific registered range, "" when none */
	char object[200]; /* the object that gave the contact, and where it was read */
	uint32_t asn;	  /* first origin AS, 0 when no route holds the address */
	char as_name[128];
	char country[3];
	char country_from[48]; /* which data said so */
	const struct agency *agency;
	bool rdap_used;
	/* the rungs below the one that gave contact which give another mailbox, in
	 * the ladder's order (not the agency's national contact: every owner has it) */
	struct owner_further {
		enum owner_rung rung;
		char contact[256];
	} further[OWNER_MAX_FURTHER];
	size_t further_count;
	bool collecting; /* owner_resolve's second walk: mailboxes found are further ones, no trace */
	size_t trace_count;
	char trace[OWNER_MAX_TRACE][OWNER_TRACE_LINE];
};

/* Always yields a contact (the agency's at worst); -1 only when no agency list is loaded. */
int owner_resolve(const struct owner_context *ctx, const struct addr *a, struct owner_result *out);

#endif
