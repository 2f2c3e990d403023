/*
 * The attribution index: every stored snapshot ready for lookups. Registry
 * ranges (RPSL inetnum/inet6num), delegated statistics and routes (pfx2as)
 * each answer "which ranges hold this address, smallest first"; handles
 * (organisation, nic-hdl, irt, AS number) resolve to records across
 * snapshots, the snapshot of the asking record's registry first.
 */
#ifndef PLUGHOLE_ATTRIB_INDEX_H
#define PLUGHOLE_ATTRIB_INDEX_H

#include <stddef.h>

#include "attrib/snapshot.h"
#include "store/store.h"

#define ATTRIB_MAX_CHAIN 32 /* enclosing ranges reported per lookup */

struct attrib_index {
	struct snapshot *snapshots;
	size_t count;
};

/* One record found: in which snapshot, and for ranges which range. */
struct attrib_ref {
	const struct snapshot *snap;
	uint32_t record;
	const struct range *range; /* NULL for records found by handle */
};

void attrib_index_init(struct attrib_index *index);
/* Reads every snapshot from the store (one read transaction). */
int attrib_index_load(struct attrib_index *index, struct store *store);
/* Adds a finished builder's data as a snapshot; the builder is left empty. */
int attrib_index_add(struct attrib_index *index, struct snap_builder *b, const char *source,
		     const char *registry);
void attrib_index_free(struct attrib_index *index);
/* Bytes held for lookups, and ranges indexed. */
size_t attrib_index_memory(const struct attrib_index *index);
size_t attrib_index_range_count(const struct attrib_index *index);

/* Ranges from snapshots of kind that hold a, smallest first; returns how many (at most max). */
size_t attrib_index_chain(const struct attrib_index *index, enum snap_kind kind, const struct addr *a,
			  struct attrib_ref *out, size_t max);
/* The record with this handle in registry's snapshots (NULL or "": any snapshot's). 0, or -1 when none. */
int attrib_index_key(const struct attrib_index *index, enum snap_keyspace space, const char *handle,
		     size_t len, const char *registry, struct attrib_ref *out);

/* "test.db.inetnum:45": where a record came from. */
const char *attrib_ref_where(const struct attrib_ref *ref, char *buf, size_t buflen);

#endif
