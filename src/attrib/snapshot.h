/*
 * A registry snapshot: what one loaded source (one dump file) contributes to
 * attribution, in a compact form stored as a few blobs and read back without
 * parsing anything again:
 *   - records: one per object, a class, the object's line in its file and
 *     small tagged fields (netname, country, org, abuse-c, ...), in a pool;
 *   - ranges: sorted, IPv4 in 12 bytes and IPv6 in 36, each naming its record;
 *   - keys: hashed handles (organisation, nic-hdl, irt, AS number) to records.
 * Record offsets are the rangeset values, so a pool stays below 2 GiB.
 */
#ifndef PLUGHOLE_SNAPSHOT_H
#define PLUGHOLE_SNAPSHOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "core/addr.h"
#include "core/rangeset.h"

/* What kind of source a snapshot came from; decides what its ranges mean. */
enum snap_kind { SNAP_KIND_RPSL, SNAP_KIND_DELEGATED, SNAP_KIND_PFX2AS, SNAP_KIND_ASNAMES, SNAP_KIND_LAST };
extern const char *const snap_kind_names[SNAP_KIND_LAST];
int snap_kind_parse(const char *name, enum snap_kind *out);

enum snap_class {
	SNAP_INETNUM,
	SNAP_INET6NUM,
	SNAP_ORGANISATION,
	SNAP_ROLE,
	SNAP_PERSON,
	SNAP_IRT,
	SNAP_AUT_NUM,
	SNAP_DELEGATED,	    /* an ipv4/ipv6 line of delegated statistics */
	SNAP_DELEGATED_ASN, /* an asn line of delegated statistics */
	SNAP_ROUTE,	    /* a pfx2as prefix */
	SNAP_ASNAME,	    /* an AS-name table line */
	SNAP_CLASS_LAST
};
extern const char *const snap_class_names[SNAP_CLASS_LAST];

enum snap_field {
	SNAP_F_END,  /* ends a record */
	SNAP_F_KEY,  /* the handle: ORG-..., nic-hdl, irt name, AS number */
	SNAP_F_NAME, /* netname, org-name, role/person name, as-name */
	SNAP_F_DESCR,
	SNAP_F_COUNTRY,
	SNAP_F_STATUS,
	SNAP_F_ORG,
	SNAP_F_ABUSE_C,
	SNAP_F_MNT_IRT,
	SNAP_F_ABUSE_MAILBOX,
	SNAP_F_EMAIL,	 /* e-mail:, notify:, irt-nfy:, addresses in remarks: */
	SNAP_F_ORIGIN,	 /* pfx2as origin as written: "64500", "64500_64501" */
	SNAP_F_REGISTRY, /* source: of RPSL, registry of delegated lines */
	SNAP_F_HOLDER,	 /* delegated opaque-id */
	SNAP_F_DATE,
	SNAP_F_OBJECT_EMAIL, /* e-mail: itself (an irt's fallback), not an address found in remarks */
	SNAP_F_LAST
};
extern const char *const snap_field_names[SNAP_F_LAST];

/* Handles: aut-num objects (SNAP_KEY_ASN) are apart from AS-name and delegated lines (SNAP_KEY_ASNAME). */
enum snap_keyspace {
	SNAP_KEY_ORG,
	SNAP_KEY_CONTACT,
	SNAP_KEY_IRT,
	SNAP_KEY_ASN,
	SNAP_KEY_ASNAME,
	SNAP_KEY_LAST
};

#define SNAP_MAX_VALUE 255 /* longer values are cut: records hold names and addresses, not prose */

struct snap_v4 {
	uint32_t first, last, record;
};
struct snap_v6 {
	uint8_t first[16], last[16];
	uint32_t record;
};
struct snap_key {
	uint64_t hash;
	uint32_t record;
	uint32_t space;
};

struct snap_buffer {
	uint8_t *data;
	size_t len, cap;
	size_t ready; /* bytes prefaulted: writing below it takes no page faults */
};

/* Collects one source's records while its file is parsed. */
struct snap_builder {
	enum snap_kind kind;
	struct snap_buffer pool;
	struct snap_v4 *v4;
	size_t v4_count, v4_cap;
	struct snap_v6 *v6;
	size_t v6_count, v6_cap;
	struct snap_key *keys;
	size_t key_count, key_cap;
	bool failed; /* out of memory or past 2 GiB: checked once, by finish */
};

void snap_builder_init(struct snap_builder *b, enum snap_kind kind);
void snap_builder_free(struct snap_builder *b);
/* Starts a record; returns its offset (the value ranges and keys point at). */
uint32_t snap_record_begin(struct snap_builder *b, enum snap_class cls, uint32_t line);
void snap_record_add(struct snap_builder *b, enum snap_field field, const char *value, size_t len);
void snap_record_end(struct snap_builder *b);
void snap_add_range(struct snap_builder *b, const struct range *range, uint32_t record);
void snap_add_key(struct snap_builder *b, enum snap_keyspace space, const char *handle, size_t len,
		  uint32_t record);
/* Makes room up front (a big file's size gives a good guess): no regrowing while parsing. */
void snap_builder_reserve(struct snap_builder *b, size_t pool_bytes, size_t ranges);
/*
 * Moves from's records after to's (parsers that ran in parallel over parts
 * of one file), adding line_offset to their line numbers. from is left empty.
 */
void snap_builder_append(struct snap_builder *to, struct snap_builder *from, uint32_t line_offset);
/* Sorts ranges and keys; -1 when the builder ran out of memory or room. */
int snap_builder_finish(struct snap_builder *b);

/* The stored form: named blobs, in this order. */
enum snap_part { SNAP_PART_META, SNAP_PART_V4, SNAP_PART_V6, SNAP_PART_KEYS, SNAP_PART_POOL, SNAP_PART_LAST };
extern const char *const snap_part_names[SNAP_PART_LAST];

struct snap_blob {
	const void *data;
	size_t len;
};

/* Points parts[] at a finished builder's data (meta into *meta_buf). */
struct snap_meta {
	char magic[8];
	uint32_t version, endian;
	uint64_t v4_count, v6_count, key_count, pool_len;
};
void snap_builder_parts(const struct snap_builder *b, struct snap_meta *meta,
			struct snap_blob parts[SNAP_PART_LAST]);

/* A snapshot read back, ready for lookups. */
struct snapshot {
	int64_t id;
	char *source, *file, *registry;
	enum snap_kind kind;
	time_t loaded;
	struct rangeset ranges; /* values are record offsets */
	uint8_t *pool;
	size_t pool_len;
	struct snap_key *keys;
	size_t key_count;
};

/*
 * Takes the blobs a store read returned (pool and keys are adopted: the
 * snapshot frees them; the others stay the caller's). -1 with *why when they
 * do not fit together.
 */
int snapshot_build(struct snapshot *s, const struct snap_blob parts[SNAP_PART_LAST], void *pool_owned,
		   void *keys_owned, const char **why);
void snapshot_free(struct snapshot *s);
/* Memory the snapshot holds for lookups, in bytes. */
size_t snapshot_memory(const struct snapshot *s);

/* The record with this handle, or -1. Handles compare case-insensitively. */
int64_t snapshot_key_find(const struct snapshot *s, enum snap_keyspace space, const char *handle, size_t len);

/* Reading records. */
enum snap_class snap_record_class(const struct snapshot *s, uint32_t record);
uint32_t snap_record_line(const struct snapshot *s, uint32_t record);
/*
 * Values of a field, first to last: start with *cursor = 0; returns NULL
 * when there are no more. Values are not NUL-terminated (print with %.*s).
 */
const char *snap_record_next(const struct snapshot *s, uint32_t record, enum snap_field field,
			     uint32_t *cursor, size_t *len);
/* The first value of a field copied into buf ("" when absent); returns buf. */
const char *snap_record_get(const struct snapshot *s, uint32_t record, enum snap_field field, char *buf,
			    size_t buflen);

#endif
